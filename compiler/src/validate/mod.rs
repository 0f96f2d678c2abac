//! Meaning checks of a loaded spec, one kind of check per file. Every check reports all
//! the problems it finds; none stops the others.

mod backups;
mod brokers;
mod credentials;
pub mod druid;
mod environments;
mod exprs;
mod flow;
mod graph;
pub mod index;
pub mod names;
mod reports;
mod resolve;
pub(crate) mod schemas;
mod secrets;
#[cfg(test)]
mod secrets_tests;
pub mod sql;
mod stores;
mod streams;
mod tests;
mod topics;

use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::events::EventSchemas;
use crate::source::Span;
use crate::spec::Spanned;
use crate::spec::load::Loaded;

pub use index::Index;
pub use topics::topic_cluster;

/// Runs every check on a loaded spec.
pub fn validate(loaded: &mut Loaded, diags: &mut Diagnostics) {
    validate_with_schemas(loaded, diags);
}

/// Runs every check on a loaded spec and returns the schemas of its event types, each
/// compiled once (the same compilation the checks use). Types whose schema has problems
/// are left out; those problems are in `diags`.
pub fn validate_with_schemas(loaded: &mut Loaded, diags: &mut Diagnostics) -> EventSchemas {
    let mut schema_sources = Vec::new();
    let events = {
        let ix = Index::build(loaded, diags);
        topics::check(&ix, diags);
        brokers::check(&ix, diags);
        stores::check(&ix, diags);
        streams::check(&ix, diags);
        graph::check(&ix, diags);
        backups::check(&ix, diags);
        reports::check(&ix, diags);
        tests::check(&ix, diags);
        environments::check(&ix, diags);
        secrets::check(&ix, diags);
        names::check(&ix, diags);
        let schemas = schemas::check(&ix, diags, &mut schema_sources);
        exprs::check(&ix, &schemas.shapes, diags);
        druid::check(&ix, &schemas.shapes, diags);
        EventSchemas::new(ix.type_field(), schemas.validators)
    };
    schemas::attach_sources(loaded, schema_sources, diags);
    events
}

/// The span of part of a written string, when the string stands verbatim in the file
/// (quoted or not); else the span of the whole string.
pub(crate) fn sub_span(
    sources: &crate::source::SourceMap,
    text: &Spanned<String>,
    range: std::ops::Range<usize>,
) -> Span {
    let written = sources.snippet(text.span);
    let offset = usize::from(written.starts_with(['"', '\'']));
    let inner = written.get(offset..).unwrap_or("");
    if inner.starts_with(text.value.as_str()) && range.end <= text.value.len() {
        text.span.sub(offset + range.start..offset + range.end)
    } else {
        text.span
    }
}

/// Checks a SQL or DDL file the spec names at `path` (relative to `dir`): PC0801 when it
/// is not there, PC0013 when it is refused (see [`crate::spec::files`]).
pub(crate) fn spec_file(
    ix: &Index<'_>,
    dir: &std::path::Path,
    path: &Spanned<String>,
    what: &str,
    diags: &mut Diagnostics,
) {
    match ix.files.admit(&index::rel(dir, &path.value)) {
        Ok(_) => {}
        Err(e) if e.is_missing() => diags.push(
            Diagnostic::error("PC0801", format!("{what} file `{}` not found", path.value))
                .at(path.span, "no such file")
                .help("paths are relative to the spec file"),
        ),
        Err(e) => diags.push(
            crate::diagnostics::catalog::file_refused(&format!("{what} file"), &path.value, &e)
                .at(path.span, "refused"),
        ),
    }
}

/// Parses a duration, reporting PC0303 at the string.
pub(crate) fn duration(text: &Spanned<String>, diags: &mut Diagnostics) -> Option<u64> {
    match crate::units::parse_duration(&text.value) {
        Ok(ms) => Some(ms),
        Err(e) => {
            diags.push(
                Diagnostic::error("PC0303", format!("invalid duration `{}`", text.value))
                    .at(text.span, e.message)
                    .maybe_help(e.help),
            );
            None
        }
    }
}

/// Parses a size, reporting PC0304 at the string.
pub(crate) fn size(text: &Spanned<String>, diags: &mut Diagnostics) -> Option<u64> {
    match crate::units::parse_size(&text.value) {
        Ok(b) => Some(b),
        Err(e) => {
            diags.push(
                Diagnostic::error("PC0304", format!("invalid size `{}`", text.value))
                    .at(text.span, e.message)
                    .maybe_help(e.help),
            );
            None
        }
    }
}

/// Reports a count below 1 (PC0302).
pub(crate) fn positive(what: &str, v: Option<&Spanned<u32>>, diags: &mut Diagnostics) {
    if let Some(v) = v
        && v.value == 0
    {
        diags.push(crate::diagnostics::catalog::count_too_small(what, v.span));
    }
}
