//! Report models: models and their parameters, SQL files, inputs (backups, files, tables),
//! outputs (topics, files, tables) and cron schedules.

use super::{Index, duration};
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

/// Checks every report.
pub fn check(ix: &Index<'_>, diags: &mut Diagnostics) {
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
        if let Some(sql) = &rep.sql {
            super::spec_file(ix, r.dir, sql, "SQL", diags);
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
            inputs(ix, name, input, diags);
            // A SQL report filters in its SQL; an expression filter on its input would be a
            // second language for the same thing.
            if rep.sql.is_some()
                && let Some(f) = &input.filter
            {
                diags.push(
                    Diagnostic::error(
                        "PC0804",
                        format!("input `{}` of a SQL report has a `filter`", name.value),
                    )
                    .at(f.span, "only a model's inputs take a filter")
                    .help("filter in the report's SQL (`WHERE ...`)"),
                );
            }
        }
        for (name, output) in rep.outputs.iter() {
            outputs(ix, name, output, diags);
        }
    }
}

/// Checks one input of a report.
fn inputs(
    ix: &Index<'_>,
    name: &Spanned<String>,
    input: &crate::spec::ReportInput,
    diags: &mut Diagnostics,
) {
    match (&input.backup, &input.path, &input.table) {
        (Some(b), None, None) => {
            ix.backups.resolve("PC0107", b, diags);
        }
        (None, Some(_), None) => {}
        (None, None, Some(t)) => table(ix, t, diags),
        _ => diags.push(
            Diagnostic::error("PC0804", format!("input `{}` needs exactly one of `backup`, `path` and `table`", name.value))
                .at(name.span, "this input")
                .help("read a backup of the spec (`backup: unique`), files (`path: data/*.csv`) or a table (`table: warehouse.users`)"),
        ),
    }
    if let Some(d) = &input.date {
        let v = d.value.as_str();
        if !date_selector_ok(v) {
            diags.push(
                catalog::invalid_value(format!("invalid input date `{v}`"))
                    .at(d.span, "not a date selector")
                    .help("write `yesterday`, `today`, or `-Nd` for N days back"),
            );
        }
        if input.table.is_some() {
            diags.push(
                catalog::invalid_value("`date` applies to backups and files".into())
                    .at(d.span, "a table has no dated folders")
                    .help("filter the table by date in the report's SQL"),
            );
        }
    }
    if let Some(f) = &input.format
        && input.path.is_none()
    {
        diags.push(
            catalog::invalid_value("`format` applies to `path` inputs".into())
                .at(f.span, "not a `path` input")
                .help("remove `format`: a backup's format is the backup's, a table has none"),
        );
    }
    for (col, ty) in input.columns.iter() {
        if input.path.is_none() {
            diags.push(
                catalog::invalid_value("`columns` apply to `path` inputs".into())
                    .at(col.span, "not a `path` input")
                    .help("a table's columns come from its database; remove `columns`"),
            );
            break;
        }
        if !COLUMN_TYPES.contains(&ty.value.as_str()) {
            diags.push(
                catalog::unknown_variant(&ty.value, COLUMN_TYPES).at(ty.span, "not a column type"),
            );
        }
    }
    if let Some(f) = &input.filter
        && let Err(e) = crate::expr::parse(&f.value)
    {
        diags.push(
            catalog::expr_syntax(&e.message)
                .at(
                    super::sub_span(ix.sources, f, e.span.clone()),
                    e.label.clone(),
                )
                .maybe_help(e.help.clone()),
        );
    }
}

/// Checks one output of a report.
fn outputs(
    ix: &Index<'_>,
    name: &Spanned<String>,
    output: &crate::spec::ReportOutput,
    diags: &mut Diagnostics,
) {
    match (&output.topic, &output.path, &output.table) {
        (Some(t), None, None) => {
            ix.topics.resolve("PC0102", t, diags);
        }
        (None, Some(_), None) => {}
        (None, None, Some(t)) => table(ix, t, diags),
        _ => diags.push(
            Diagnostic::error(
                "PC0804",
                format!(
                    "output `{}` needs exactly one of `topic`, `path` and `table`",
                    name.value
                ),
            )
            .at(name.span, "this output")
            .help("write to a topic (`topic: derived`), files (`path: reports/{date}/`) or a table (`table: warehouse.daily`)"),
        ),
    }
    let only = |key: &str, text: &Spanned<String>, kind: &str, diags: &mut Diagnostics| {
        diags.push(
            catalog::invalid_value(format!("`{key}` applies to {kind} outputs"))
                .at(text.span, format!("not a {kind} output"))
                .help(format!("remove `{key}`")),
        );
    };
    if let Some(p) = &output.partition_by
        && output.path.is_none()
    {
        only("partition_by", p, "`path`", diags);
    }
    if let Some(d) = &output.date_column
        && output.table.is_none()
    {
        only("date_column", d, "`table`", diags);
    }
}

/// Checks a `database.table` reference.
fn table(ix: &Index<'_>, t: &Spanned<String>, diags: &mut Diagnostics) {
    match t.value.split_once('.') {
        Some((db, name)) if !db.is_empty() && !name.is_empty() => {
            if !ix.databases.knows(db) {
                let span = super::sub_span(ix.sources, t, 0..db.len());
                diags.push(catalog::unknown_ref(
                    "PC0111",
                    "database",
                    db,
                    span,
                    ix.databases.names(),
                    "databases",
                ));
            }
        }
        _ => diags.push(
            catalog::invalid_value(format!("`{}` is not `database.table`", t.value))
                .at(t.span, "no database named")
                .help(
                    "write the database (under `databases`) and the table: `warehouse.user_detail`",
                ),
        ),
    }
}

/// Column types of `path` inputs.
pub const COLUMN_TYPES: &[&str] = &["string", "int", "float", "bool", "date", "timestamp"];

/// Whether `v` is a date selector: `yesterday`, `today` or `-Nd`.
pub fn date_selector_ok(v: &str) -> bool {
    matches!(v, "yesterday" | "today")
        || v.strip_prefix('-')
            .and_then(|n| n.strip_suffix('d'))
            .is_some_and(|n| n.parse::<u32>().is_ok())
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
