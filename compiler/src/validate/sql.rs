//! What checking a report's SQL needs, gathered for the planner: the SQL file's text (added
//! to the source map, so problems point into it) and, per input, its columns as the spec
//! declares them, the table of a database and that database's DDL file, or why they are
//! unknown. The planning itself needs a query engine, which this crate does not hold: the
//! `pipec` binary runs it (see `pipec check`).

use std::path::Path;

use super::{Index, index::rel};
use crate::source::{FileId, SourceMap, Span};

/// One report's SQL to plan.
#[derive(Debug, Clone)]
pub struct SqlCheck {
    /// The report.
    pub report: String,
    /// The SQL file in the source map.
    pub file: FileId,
    /// Its text.
    pub text: String,
    /// Its inputs, by the names the SQL uses.
    pub inputs: Vec<SqlInput>,
}

/// A table the SQL may read.
#[derive(Debug, Clone)]
pub struct SqlInput {
    /// The input's name.
    pub name: String,
    /// Where the input is written in the spec.
    pub span: Span,
    /// What its columns are.
    pub columns: SqlColumns,
}

/// Where an input's columns come from.
#[derive(Debug, Clone)]
pub enum SqlColumns {
    /// `columns:` of a `path` input: name → spec type.
    Declared(Vec<(String, String)>),
    /// A table of a database: the DDL file's text when the database names one.
    Table {
        /// The database.
        database: String,
        /// The table.
        table: String,
        /// The DDL file, in the source map, and its text.
        ddl: Option<(FileId, String)>,
    },
    /// Not known before the report runs (a backup, files without `columns`).
    Unknown(String),
}

/// The SQL of every report of the spec, its files added to `sources`.
pub fn gather(ix: &Index<'_>, sources: &mut SourceMap) -> Vec<SqlCheck> {
    let mut out = Vec::new();
    for r in &ix.reports.items {
        let Some(sql) = &r.def.sql else { continue };
        let Some((file, text)) = read(ix, sources, &rel(r.dir, &sql.value)) else {
            continue;
        };
        let mut inputs = Vec::new();
        for (name, input) in r.def.inputs.iter() {
            let columns = if let Some(t) = &input.table {
                match t.value.split_once('.') {
                    Some((db, table)) => SqlColumns::Table {
                        database: db.to_string(),
                        table: table.to_string(),
                        ddl: ix
                            .databases
                            .get(db)
                            .and_then(|d| d.def.ddl.as_ref().map(|f| rel(d.dir, &f.value)))
                            .and_then(|p| read(ix, sources, &p)),
                    },
                    None => SqlColumns::Unknown(format!("`{}` is not `database.table`", t.value)),
                }
            } else if !input.columns.is_empty() {
                SqlColumns::Declared(
                    input
                        .columns
                        .iter()
                        .map(|(k, v)| (k.value.clone(), v.value.clone()))
                        .collect(),
                )
            } else if input.backup.is_some() {
                SqlColumns::Unknown("a backup's columns are the events' fields".into())
            } else {
                SqlColumns::Unknown("its `columns` are not declared".into())
            };
            inputs.push(SqlInput {
                name: name.value.clone(),
                span: name.span,
                columns,
            });
        }
        out.push(SqlCheck {
            report: r.name.value.clone(),
            file,
            text,
            inputs,
        });
    }
    out
}

/// A file's id and text, read once into the source map, through the spec's root (see
/// [`crate::spec::files`]; a refused file was reported by the checks).
fn read(ix: &Index<'_>, sources: &mut SourceMap, path: &Path) -> Option<(FileId, String)> {
    if let Some(id) = sources.find(path) {
        return sources.get(id).map(|f| (id, f.text.clone()));
    }
    let text = ix.files.read_text(path).ok()?;
    let id = sources.add(path.to_path_buf(), text.clone());
    Some((id, text))
}
