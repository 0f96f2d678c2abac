//! Spec tests: input topics and files, streams and expected topics resolve.

use super::{Index, index::rel};
use crate::diagnostics::{Diagnostic, Diagnostics};

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
        ix.topics.resolve("PC0102", &test.input.topic, diags);
        for f in &test.input.files {
            if !rel(dir, &f.value).is_file() {
                diags.push(
                    Diagnostic::error("PC0701", format!("test input `{}` not found", f.value))
                        .at(f.span, "no such file")
                        .help("paths are relative to the spec file"),
                );
            }
        }
        if test.input.files.is_empty() && test.input.events.is_empty() {
            diags.push(
                crate::diagnostics::catalog::invalid_value("a test sends no events".into())
                    .at(test.name.span, "this test")
                    .help("add `files: [...]` or `events: [...]` to its input"),
            );
        }
        for s in &test.streams {
            ix.streams.resolve("PC0106", s, diags);
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
