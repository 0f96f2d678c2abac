//! Spec tests: input topics and files, streams and expected topics resolve.

use super::{Index, index::rel};
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::spec::{Spanned, SpecTest};

/// Checks every spec test.
pub fn check(ix: &Index<'_>, diags: &mut Diagnostics) {
    let mut names: Vec<(&str, crate::source::Span)> = Vec::new();
    for (t, dir) in &ix.tests {
        let test = &t.value;
        if let Some((_, first)) = names.iter().find(|(n, _)| *n == test.name.value) {
            diags.push(crate::diagnostics::catalog::duplicate_name(
                "test",
                &test.name.value,
                test.name.span,
                *first,
            ));
        } else {
            names.push((&test.name.value, test.name.span));
        }
        // Stream and report tests alike may fix the clock.
        if let Some(n) = &test.now
            && crate::civil::parse_instant(&n.value).is_none()
        {
            diags.push(
                crate::diagnostics::catalog::invalid_value(format!(
                    "`{}` is not an instant",
                    n.value
                ))
                .at(
                    n.span,
                    "expected `YYYY-MM-DDTHH:MM:SSZ`, `YYYY-MM-DD` or epoch milliseconds",
                )
                .help("write the run's \"now\" in UTC, e.g. `2024-06-15T14:30:00Z`"),
            );
        }
        match (&test.input, &test.report) {
            (Some(input), None) => {
                ix.topics.resolve("PC0102", &input.topic, diags);
                files(dir, &input.files, diags);
                if input.files.is_empty() && input.events.is_empty() {
                    diags.push(
                        crate::diagnostics::catalog::invalid_value("a test sends no events".into())
                            .at(test.name.span, "this test")
                            .help("add `files: [...]` or `events: [...]` to its input"),
                    );
                }
            }
            (None, Some(r)) => {
                report_test(ix, dir, test, r, diags);
                continue;
            }
            _ => {
                diags.push(crate::diagnostics::catalog::conflicting(
                    format!("test `{}` needs exactly one of `input` and `report`", test.name.value),
                    test.name.span,
                    "this test",
                    "a stream test has `input: { topic, files | events }`, a report test `report: NAME` with `inputs`",
                ));
                continue;
            }
        }
        for s in &test.streams {
            ix.streams.resolve("PC0106", s, diags);
        }
        for (store, data) in test.stores.iter() {
            ix.stores.resolve("PC0103", store, diags);
            files(dir, std::slice::from_ref(&data.load), diags);
        }
        for (topic, _) in test.expect.iter() {
            if !ix.topics.knows(&topic.value) {
                diags.push(crate::diagnostics::catalog::unknown_ref(
                    "PC0702",
                    "topic",
                    &topic.value,
                    topic.span,
                    ix.topics.names(),
                    "topics",
                ));
            }
        }
    }
}

/// Reports test input files that do not exist.
fn files(dir: &std::path::Path, list: &[Spanned<String>], diags: &mut Diagnostics) {
    for f in list {
        if !rel(dir, &f.value).is_file() {
            diags.push(
                Diagnostic::error("PC0701", format!("test input `{}` not found", f.value))
                    .at(f.span, "no such file")
                    .help("paths are relative to the spec file"),
            );
        }
    }
}

/// Checks a report test: the report exists, and its inputs and expected outputs are the
/// report's.
fn report_test(
    ix: &Index<'_>,
    dir: &std::path::Path,
    test: &SpecTest,
    r: &Spanned<String>,
    diags: &mut Diagnostics,
) {
    if let Some(d) = &test.date
        && crate::civil::parse_date(&d.value).is_none()
    {
        diags.push(
            crate::diagnostics::catalog::invalid_value(format!("`{}` is not a date", d.value))
                .at(d.span, "expected YYYY-MM-DD")
                .help("write the report's run date, e.g. `2018-08-20`"),
        );
    }
    for s in &test.streams {
        diags.push(
            crate::diagnostics::catalog::invalid_value("`streams` applies to stream tests".into())
                .at(s.span, "a report test runs no stream")
                .help("remove `streams`"),
        );
    }
    let Some(report) = ix.reports.resolve("PC0110", r, diags) else {
        return;
    };
    for (name, input) in test.inputs.iter() {
        if report.def.inputs.get(&name.value).is_none() {
            diags.push(crate::diagnostics::catalog::unknown_ref(
                "PC0702",
                "input",
                &name.value,
                name.span,
                report.def.inputs.iter().map(|(k, _)| k.value.as_str()),
                "the report's inputs",
            ));
        }
        files(dir, &input.files, diags);
    }
    for (out, e) in test.expect.iter() {
        // `output/value` names one file of an output split by `partition_by`.
        let (name, part) = match out.value.split_once('/') {
            Some((n, v)) => (n, Some(v)),
            None => (out.value.as_str(), None),
        };
        let def = report.def.outputs.get(name);
        if let (Some(o), Some(_)) = (def, part)
            && o.partition_by.is_none()
        {
            diags.push(
                Diagnostic::error(
                    "PC0702",
                    format!(
                        "output `{name}` has no `partition_by`, so it has no `{}`",
                        out.value
                    ),
                )
                .at(out.span, "not a partition of this output")
                .help(format!("expect `{name}` itself")),
            );
        }
        if def.is_none() {
            diags.push(crate::diagnostics::catalog::unknown_ref(
                "PC0702",
                "output",
                name,
                out.span,
                report.def.outputs.iter().map(|(k, _)| k.value.as_str()),
                "the report's outputs",
            ));
        }
        if let crate::spec::ScalarOr::Full(x) = e
            && let Some(f) = &x.file
        {
            files(dir, std::slice::from_ref(f), diags);
        }
    }
}
