//! The reports' SQL planned when a spec is checked: each SQL file against its inputs'
//! columns (declared, or from the database's DDL file), on the query engine the reports run
//! on, so that an unknown table or column is reported at its line and column by `pipec
//! check` rather than at 05:30 in production.

use pipec_compiler::CheckResult;
use pipec_compiler::diagnostics::Diagnostic;
use pipec_compiler::source::{SourceFile, Span};
use pipec_compiler::validate::sql::SqlColumns;
use pipec_runtime::batch::ddl;
use pipec_runtime::batch::engine::{SqlTable, check_sql, declared_schema};

/// Adds the problems of every report's SQL to `result`'s diagnostics.
pub fn check(result: &mut CheckResult) {
    if result.sql.is_empty() {
        return;
    }
    let Ok(rt) = tokio::runtime::Builder::new_current_thread().build() else {
        return;
    };
    let mut found = Vec::new();
    for sql in &result.sql {
        let mut tables = Vec::new();
        let mut unknown = Vec::new();
        for input in &sql.inputs {
            match &input.columns {
                SqlColumns::Declared(cols) => match declared_schema(cols) {
                    Ok(schema) => tables.push(SqlTable {
                        name: input.name.clone(),
                        schema,
                    }),
                    Err(_) => unknown.push(input.name.clone()),
                },
                SqlColumns::Table {
                    database,
                    table,
                    ddl: Some((file, text)),
                } => match ddl::tables(text) {
                    Ok(all) => match all.get(&table.to_lowercase()) {
                        Some(schema) => tables.push(SqlTable {
                            name: input.name.clone(),
                            schema: schema.clone(),
                        }),
                        None => {
                            found.push(
                                Diagnostic::error(
                                    "PC0805",
                                    format!("database `{database}` has no table `{table}`"),
                                )
                                .at(input.span, "this input")
                                .maybe_help(
                                    pipec_compiler::suggest::suggest(
                                        table,
                                        all.keys().map(String::as_str),
                                    )
                                    .map(|s| format!("did you mean `{s}`?")),
                                ),
                            );
                            unknown.push(input.name.clone());
                        }
                    },
                    Err(e) => {
                        found.push(
                            Diagnostic::error(
                                "PC0806",
                                format!("the DDL of database `{database}` does not parse"),
                            )
                            .at(Span::new(*file, 0..0), e)
                            .help("the DDL file holds PostgreSQL `CREATE TABLE` statements"),
                        );
                        unknown.push(input.name.clone());
                    }
                },
                SqlColumns::Table { .. } | SqlColumns::Unknown(_) => {
                    unknown.push(input.name.clone());
                }
            }
        }
        if !unknown.is_empty() {
            // Columns known for some inputs only: planning would report the others'
            // columns as unknown. The report is checked when it runs.
            continue;
        }
        let Some(file) = result.sources.get(sql.file) else {
            continue;
        };
        for p in rt.block_on(check_sql(&sql.text, &tables)) {
            let span = p
                .span
                .map(|(start, end)| {
                    let a = offset(file, start);
                    let b = offset(file, end).max(a);
                    Span::new(sql.file, a..b)
                })
                .unwrap_or_else(|| Span::new(sql.file, 0..0));
            let label = if p.code == "PC0805" {
                "not found"
            } else {
                "here"
            };
            found.push(
                Diagnostic::error(p.code, format!("report `{}`: {}", sql.report, p.message))
                    .at(span, label)
                    .maybe_help(p.help),
            );
        }
    }
    for d in found {
        result.diagnostics.push(d);
    }
}

/// The byte offset of a 1-based line and column (in characters) of a file.
fn offset(file: &SourceFile, (line, col): (u64, u64)) -> usize {
    let text = file.text.as_str();
    let mut start = 0;
    for _ in 1..line.max(1) {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let line_text = &text[start..text[start..].find('\n').map_or(text.len(), |i| start + i)];
    let col = usize::try_from(col.max(1) - 1).unwrap_or(0);
    start
        + line_text
            .char_indices()
            .nth(col)
            .map_or(line_text.len(), |(i, _)| i)
}
