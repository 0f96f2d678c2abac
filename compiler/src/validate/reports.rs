//! Backups and report models: topics, paths, formats, models, parameters and cron schedules.

use super::{Index, duration, index::rel};
use crate::diagnostics::{Diagnostic, Diagnostics, catalog};
use crate::spec::Spanned;

/// A built-in report model and the parameters it takes.
pub struct BuiltinModel {
    /// Name used in `model:`.
    pub name: &'static str,
    /// Parameter names and whether each is a duration.
    pub params: &'static [(&'static str, bool)],
}

/// The built-in models.
pub const MODELS: &[BuiltinModel] = &[BuiltinModel {
    name: "workflow_summary",
    params: &[
        ("session_gap", true),
        ("idle_time", true),
        ("exclude", false),
        ("producer", false),
    ],
}];

/// Checks backups and reports.
pub fn check(ix: &Index<'_>, diags: &mut Diagnostics) {
    for b in &ix.backups.items {
        ix.topics.resolve("PC0102", &b.def.topic, diags);
        if !b.def.path.value.contains("{date}") {
            diags.push(
                Diagnostic::warning("PC0009", "backup path has no `{date}`")
                    .at(b.def.path.span, "every day would write to the same place")
                    .help("add `{date}` to the path, e.g. `backups/unique/{date}/`"),
            );
        }
    }
    for r in &ix.reports.items {
        let rep = r.def;
        schedule(ix, &rep.schedule, diags);
        match (&rep.model, &rep.sql) {
            (Some(_), Some(_)) | (None, None) => diags.push(
                Diagnostic::error("PC0804", format!("report `{}` needs exactly one of `model` and `sql`", r.name.value))
                    .at(r.name.span, "this report")
                    .help("name a built-in model (`model: workflow_summary`) or a SQL file (`sql: sql/x.sql`)"),
            ),
            _ => {}
        }
        if let Some(sql) = &rep.sql
            && !rel(r.dir, &sql.value).is_file()
        {
            diags.push(
                Diagnostic::error("PC0801", format!("SQL file `{}` not found", sql.value))
                    .at(sql.span, "no such file")
                    .help("paths are relative to the spec file"),
            );
        }
        if let Some(m) = &rep.model {
            match MODELS.iter().find(|b| b.name == m.value) {
                None => diags.push(catalog::unknown_ref(
                    "PC0802",
                    "model",
                    &m.value,
                    m.span,
                    MODELS.iter().map(|b| b.name),
                    "the built-in models",
                )),
                Some(model) => {
                    for (k, v) in rep.params.iter() {
                        match model.params.iter().find(|(p, _)| *p == k.value) {
                            None => diags.push(catalog::unknown_ref(
                                "PC0803",
                                "parameter",
                                &k.value,
                                k.span,
                                model.params.iter().map(|(p, _)| *p),
                                "the model's parameters",
                            )),
                            Some((_, true)) => {
                                if let Some(s) = v.value.as_str() {
                                    duration(&Spanned::new(v.span, s.to_string()), diags);
                                } else {
                                    diags.push(
                                        catalog::wrong_type(
                                            "a duration such as `30m`",
                                            "another value",
                                        )
                                        .at(v.span, "here"),
                                    );
                                }
                            }
                            Some(_) => {}
                        }
                    }
                }
            }
        }
        for (name, input) in rep.inputs.iter() {
            match (&input.backup, &input.path) {
                (Some(b), None) => {
                    ix.backups.resolve("PC0107", b, diags);
                }
                (None, Some(_)) => {}
                _ => diags.push(
                    Diagnostic::error("PC0804", format!("input `{}` needs exactly one of `backup` and `path`", name.value))
                        .at(name.span, "this input")
                        .help("read a backup of the spec (`backup: unique`) or files (`path: data/*.json`)"),
                ),
            }
            if let Some(d) = &input.date {
                let v = d.value.as_str();
                let ok = matches!(v, "yesterday" | "today")
                    || v.strip_prefix('-')
                        .and_then(|n| n.strip_suffix('d'))
                        .is_some_and(|n| n.parse::<u32>().is_ok());
                if !ok {
                    diags.push(
                        catalog::invalid_value(format!("invalid input date `{v}`"))
                            .at(d.span, "not a date selector")
                            .help("write `yesterday`, `today`, or `-Nd` for N days back"),
                    );
                }
            }
        }
        for (name, output) in rep.outputs.iter() {
            match (&output.topic, &output.path) {
                (Some(t), None) => {
                    ix.topics.resolve("PC0102", t, diags);
                }
                (None, Some(_)) => {}
                _ => diags.push(
                    Diagnostic::error(
                        "PC0804",
                        format!(
                            "output `{}` needs exactly one of `topic` and `path`",
                            name.value
                        ),
                    )
                    .at(name.span, "this output")
                    .help("write to a topic (`topic: derived`) or files (`path: reports/{date}/`)"),
                ),
            }
        }
    }
}

/// Reports a schedule that is not a valid cron expression (PC0305), at the bad field.
pub(super) fn schedule(
    ix: &Index<'_>,
    text: &crate::spec::Spanned<String>,
    diags: &mut Diagnostics,
) {
    if let Err(e) = crate::cron::parse_cron(&text.value) {
        let span = super::sub_span(ix.sources, text, e.span.clone());
        diags.push(
            Diagnostic::error(
                "PC0305",
                format!("invalid cron expression `{}`", text.value),
            )
            .at(span, e.message)
            .maybe_help(e.help),
        );
    }
}
