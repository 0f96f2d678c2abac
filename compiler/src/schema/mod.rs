//! Event schemas: loading JSON Schema files with their `$ref`s (each file read and parsed
//! once), reporting unresolvable references at the bytes where they are written,
//! compiling validators with the `jsonschema` crate, and deriving the [`Shape`] of an
//! event for checking field paths at compile time.
//!
//! References are resolved by pipec itself, the same way for every draft: a URI with a
//! prefix mapped by [`RefMap`] names a file in the mapped directory; any other URI without
//! a scheme is a path relative to the directory of the file it is written in (nested
//! `id`/`$id` keywords do not change that base); a fragment is a JSON pointer into the
//! target document, or an anchor name (`$anchor`, or `id`/`$id` of `#name`). The
//! documents handed to `jsonschema` carry these resolved references, so validation sees
//! exactly the files the diagnostics talk about.

mod build;
mod compile;
mod refs;
mod resolved;
mod shape;
mod store;
mod text;

#[cfg(test)]
mod tests;

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

pub use resolved::{RefTarget, ResolvedSchema};
pub use shape::{PathSeg, Shape, ShapeLookup};
pub use store::SchemaStore;
pub(crate) use text::value_spans;

/// Prefix mappings from URI prefixes to local directories, e.g.
/// `resource:/schemas/telemetry/3.0/` → `schemas/preprocessor-3.0`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefMap {
    prefixes: Vec<(String, PathBuf)>,
}

impl RefMap {
    /// A map from `(prefix, directory)` pairs; the longest matching prefix wins.
    pub fn new(prefixes: Vec<(String, PathBuf)>) -> Self {
        let mut prefixes = prefixes;
        prefixes.sort_by_key(|(prefix, _)| std::cmp::Reverse(prefix.len()));
        RefMap { prefixes }
    }

    /// The local file a URI names (any `#fragment` is ignored), if a prefix maps it.
    pub fn resolve(&self, uri: &str) -> Option<PathBuf> {
        let (uri, _) = refs::split_ref(uri);
        let (prefix, dir) = self
            .prefixes
            .iter()
            .find(|(p, _)| uri.starts_with(p.as_str()))?;
        let rest = refs::percent_decode(&uri[prefix.len()..]);
        Some(refs::normalize(&dir.join(rest.trim_start_matches('/'))))
    }

    /// The mapped prefixes, longest first.
    pub fn prefixes(&self) -> &[(String, PathBuf)] {
        &self.prefixes
    }
}

/// A JSON Schema draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Draft {
    /// Draft 4 (the Sunbird telemetry schemas).
    Draft4,
    /// Draft 6.
    Draft6,
    /// Draft 7.
    Draft7,
    /// Draft 2019-09.
    Draft201909,
    /// Draft 2020-12.
    Draft202012,
}

impl Draft {
    /// The draft a `$schema` URI names, if it is one of the known meta-schemas.
    pub fn from_schema_uri(uri: &str) -> Option<Draft> {
        [
            ("draft-04", Draft::Draft4),
            ("draft-06", Draft::Draft6),
            ("draft-07", Draft::Draft7),
            ("2019-09", Draft::Draft201909),
            ("2020-12", Draft::Draft202012),
        ]
        .into_iter()
        .find(|(name, _)| uri.contains(name))
        .map(|(_, draft)| draft)
    }

    /// The `jsonschema` crate's name for this draft.
    pub(crate) fn to_jsonschema(self) -> jsonschema::Draft {
        match self {
            Draft::Draft4 => jsonschema::Draft::Draft4,
            Draft::Draft6 => jsonschema::Draft::Draft6,
            Draft::Draft7 => jsonschema::Draft::Draft7,
            Draft::Draft201909 => jsonschema::Draft::Draft201909,
            Draft::Draft202012 => jsonschema::Draft::Draft202012,
        }
    }
}

/// What kind of problem a schema has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SchemaProblemKind {
    /// The schema file named in the spec does not exist.
    NotFound,
    /// A file could not be read.
    Io,
    /// A file is not valid JSON.
    Json,
    /// A `$ref` names a file, pointer or anchor that does not exist, or an unmapped URI.
    UnresolvedRef,
    /// The schema is not a valid schema for its draft, or `jsonschema` rejected it.
    Compile,
}

/// A problem loading a schema, located in the file where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaProblem {
    /// The kind of problem.
    pub kind: SchemaProblemKind,
    /// The file the span belongs to.
    pub file: PathBuf,
    /// Byte range in `file` (for a `$ref`, the string value without its quotes).
    pub span: Option<Range<usize>>,
    /// What is wrong, as a short phrase.
    pub message: String,
    /// A label for the span.
    pub label: String,
    /// What to do about it.
    pub help: Option<String>,
}

/// A loaded and compiled schema.
#[derive(Debug, Clone)]
pub struct LoadedSchema {
    /// The schema file (absolute, normalized).
    pub path: PathBuf,
    /// The draft it was compiled with.
    pub draft: Draft,
    /// The compiled validator.
    pub validator: Arc<jsonschema::Validator>,
    /// What it says about the fields of an event.
    pub shape: Shape,
    /// Every file it depends on, itself first, in the order they were found.
    pub files: Vec<PathBuf>,
}

#[cfg(test)]
mod unit_tests {
    use super::*;

    #[test]
    fn ref_map_uses_longest_prefix() {
        let map = RefMap::new(vec![
            ("resource:/schemas/".into(), PathBuf::from("/a")),
            ("resource:/schemas/telemetry/".into(), PathBuf::from("/b")),
        ]);
        let resolve = |u: &str| map.resolve(u).map(|p| p.display().to_string());
        assert_eq!(
            resolve("resource:/schemas/telemetry/x.json#/p").as_deref(),
            Some("/b/x.json")
        );
        assert_eq!(
            resolve("resource:/schemas/summary/y.json").as_deref(),
            Some("/a/summary/y.json")
        );
        assert_eq!(resolve("resource:/other/y.json"), None);
        assert_eq!(map.prefixes()[0].1, PathBuf::from("/b"));
    }

    #[test]
    fn drafts_from_schema_uris() {
        let d = Draft::from_schema_uri;
        assert_eq!(
            d("http://json-schema.org/draft-04/schema#"),
            Some(Draft::Draft4)
        );
        assert_eq!(
            d("https://json-schema.org/draft/2020-12/schema"),
            Some(Draft::Draft202012)
        );
        assert_eq!(d("http://example.com/custom"), None);
    }
}
