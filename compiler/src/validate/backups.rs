//! Backups (topic, path, format, compression, time field, roll settings) and databases
//! (PostgreSQL URL, DDL file).

use super::{Index, duration, size};
use crate::diagnostics::{Diagnostic, Diagnostics, catalog};
use crate::spec::{Compression, FileFormat};

/// Checks every backup and database.
pub fn check(ix: &Index<'_>, diags: &mut Diagnostics) {
    for b in &ix.backups.items {
        let def = b.def;
        ix.topics.resolve("PC0102", &def.topic, diags);
        if !def.path.value.contains("{date}") {
            diags.push(
                Diagnostic::warning("PC0009", "backup path has no `{date}`")
                    .at(def.path.span, "every day would write to the same place")
                    .help("add `{date}` to the path, e.g. `backups/unique/{date}/`"),
            );
        }
        if let (Some(c), Some(f)) = (&def.compression, &def.format)
            && c.value == Compression::Gzip
            && f.value != FileFormat::Ndjson
        {
            diags.push(
                catalog::invalid_value("`compression: gzip` applies to NDJSON backups".into())
                    .at(c.span, "not an NDJSON backup")
                    .help("remove `compression` (Parquet and CSV compress on their own)"),
            );
        }
        if let Some(f) = &def.format
            && f.value == FileFormat::Csv
        {
            diags.push(
                catalog::invalid_value("a backup is NDJSON or Parquet".into())
                    .at(f.span, "events do not fit CSV columns")
                    .help("write `format: ndjson` or `format: parquet`"),
            );
        }
        if let Some(t) = &def.time_field
            && let Err(e) = crate::expr::FieldPath::parse(&t.value)
        {
            diags.push(
                catalog::invalid_value(format!("`{}` is not a field path", t.value))
                    .at(t.span, e.message)
                    .help("name the field holding the event's time in epoch milliseconds, e.g. `syncts`"),
            );
        }
        if let Some(roll) = &def.roll {
            if let Some(s) = &roll.size
                && size(s, diags) == Some(0)
            {
                diags.push(catalog::count_too_small("roll size", s.span));
            }
            if let Some(a) = &roll.age
                && duration(a, diags) == Some(0)
            {
                diags.push(catalog::count_too_small("roll age", a.span));
            }
        }
    }
    for d in &ix.databases.items {
        let url = &d.def.postgres;
        let v = url.value.as_str();
        let ok =
            v.starts_with("postgres://") || v.starts_with("postgresql://") || v.starts_with("${");
        if !ok {
            // A malformed URL may still hold a password: it is not quoted then.
            let what = if super::credentials::may_hold_credentials(v) {
                "the database's `postgres`".to_string()
            } else {
                format!("`{v}`")
            };
            diags.push(
                catalog::invalid_value(format!("{what} is not a PostgreSQL URL"))
                    .at(url.span, "expected `postgres://user@host:port/database`")
                    .help("write `postgres://user@host:5432/database`; the password goes in `password`"),
            );
        }
        if let Some(ddl) = &d.def.ddl {
            super::spec_file(ix, d.dir, ddl, "DDL", diags);
        }
    }
}
