//! Schema compatibility: whether a new JSON Schema of an event type can replace the old
//! one, judged the way Confluent Schema Registry judges JSON Schemas.
//!
//! The core, [`compare`], is a pure function of two schemas whose `$ref`s are resolved
//! ([`ResolvedSchema`], from [`crate::schema::SchemaStore::load_resolved`] or
//! [`ResolvedSchema::standalone`]). It lists every difference as a [`Change`]: a JSON
//! pointer into the schema (the old schema's path, `$ref`s followed, so
//! `#/allOf/1/properties/edata/properties/type`), a [`ChangeKind`], and whether the change
//! keeps each direction: BACKWARD (the new schema reads data written with the old one) and
//! FORWARD (the old schema reads data written with the new one). The [`Verdict`] is the
//! intersection over all changes: FULL, BACKWARD, FORWARD or NONE.
//! [`subjects`] pairs schema files, directories of schemas or specs' event types and runs
//! the comparison on each pair (`pipec compat`).
//!
//! `pipec plan` calls [`compare`] on the schemas embedded in the deployed manifest and the
//! new one (`crate::plan`), which is why the core takes resolved schemas rather than files.
//!
//! # Source of the rules
//!
//! The rules are Confluent Schema Registry's JSON Schema checker, under its default STRICT
//! policy: `io.confluent.kafka.schemaregistry.json.diff` in `confluentinc/schema-registry`
//! (`json-schema-provider`: `SchemaDiff` with its `COMPATIBLE_CHANGES` set,
//! `ObjectSchemaDiff`, `ArraySchemaDiff`, `CombinedSchemaDiff`, `NumberSchemaDiff`,
//! `StringSchemaDiff`, `EnumSchemaDiff` and the `Difference.Type` enum), and the
//! "JSON Schema" section of Confluent's "Schema Evolution and Compatibility" documentation.
//! The code here is pipec's own. Confluent judges one direction at a time:
//! `compare(original, update)` is compatible when every difference is in
//! `COMPATIBLE_CHANGES`; BACKWARD checks (old, new) and FORWARD checks (new, old). Here a
//! change carries both answers: `backward_ok` is Confluent's verdict on the change, and
//! `forward_ok` its verdict on the inverse change (`MAX_LENGTH_INCREASED` ↔
//! `MAX_LENGTH_DECREASED`, a property added to an open object ↔ removed from one).
//! The main rules:
//!
//! - Content models. An object is *open* without `additionalProperties` (the default, in
//!   Draft 4 too) or with `true`, *closed* with `false`, *partially open* with an
//!   `additionalProperties` schema or a `patternProperties` regex matching the name.
//!   A property added to an open object breaks BACKWARD even when optional (old data may
//!   hold that name with any value; `OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL`) and
//!   keeps FORWARD; added to a closed object it keeps BACKWARD unless required without a
//!   `default`, and breaks FORWARD (old readers reject it). Removal is the mirror image.
//!   A partially open object compares the property's schema with the covering one.
//! - `required`: newly required without `default` breaks BACKWARD; no longer required
//!   breaks FORWARD unless the property has a `default`.
//! - Types, enums and limits: allowing more (`integer` → `number`, `string` →
//!   `[string, null]`, enum values added, `maxLength` increased, `minimum` removed, ...)
//!   keeps BACKWARD and breaks FORWARD; allowing less is the reverse; `pattern` or
//!   `multipleOf` changed otherwise, or types that neither include the other, break both.
//! - `allOf`/`anyOf`/`oneOf`: see the `combined` module.
//!
//! # Where pipec differs on purpose
//!
//! - `required` names that the object's own `properties` do not declare are compared too
//!   (Sunbird's schemas list top-level required names next to an `allOf`); Confluent only
//!   looks at declared properties.
//! - `type` and `enum` are compared as sets of JSON types and values, not as everit schema
//!   classes: `{"enum": ["A"]}` → `{"type": "string", "enum": ["A"]}` is no change.
//! - `additionalProperties: {}` is open, like `true`; a name that no `patternProperties`
//!   regex matches, in an object without an `additionalProperties` schema, is open.
//! - A one-branch `allOf`/`anyOf`/`oneOf` is compared as its branch.
//!
//! # Limits
//!
//! - Keywords next to a `$ref` are ignored (as Draft 4–7 read them).
//! - Not compared: `format`, `contains`, `propertyNames`, `if`/`then`/`else`,
//!   `unevaluated*`, and `patternProperties` entries added or removed (entries with the same
//!   pattern are compared, and every pattern counts for the properties it covers).
//! - A `oneOf` that gains a branch is `SUM_TYPE_EXTENDED` (BACKWARD), as in Confluent,
//!   although data matching two branches would then fail `oneOf`.
//! - A `$ref` cycle is assumed to agree where it closes. Schemas needing more than 100,000
//!   node comparisons (wide unions nested in unions) stop with `COMPARISON_LIMIT`, breaking.

mod array;
mod combined;
mod dependencies;
mod diff;
mod kind;
mod object;
mod scalar;
pub mod subjects;
mod types;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_combined;
#[cfg(test)]
mod tests_scalar;
#[cfg(test)]
mod tests_sunbird;

use serde_json::Value;

pub use kind::{ChangeKind, Effect};

use crate::schema::{Draft, ResolvedSchema};
use crate::spec::Compatibility;

/// Which directions a new schema keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Both directions: FULL.
    Full,
    /// The new schema reads old data, not the reverse: BACKWARD.
    BackwardOnly,
    /// The old schema reads new data, not the reverse: FORWARD.
    ForwardOnly,
    /// Neither: NONE.
    Incompatible,
}

impl Verdict {
    /// The verdict of a pair of direction flags.
    pub fn from_flags(backward: bool, forward: bool) -> Self {
        match (backward, forward) {
            (true, true) => Verdict::Full,
            (true, false) => Verdict::BackwardOnly,
            (false, true) => Verdict::ForwardOnly,
            (false, false) => Verdict::Incompatible,
        }
    }

    /// The Confluent mode name: `FULL`, `BACKWARD`, `FORWARD` or `NONE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Full => "FULL",
            Verdict::BackwardOnly => "BACKWARD",
            Verdict::ForwardOnly => "FORWARD",
            Verdict::Incompatible => "NONE",
        }
    }

    /// Whether a schema change with this verdict is allowed under `mode`.
    pub fn satisfies(self, mode: Compatibility) -> bool {
        match mode {
            Compatibility::None => true,
            Compatibility::Backward => matches!(self, Verdict::Full | Verdict::BackwardOnly),
            Compatibility::Forward => matches!(self, Verdict::Full | Verdict::ForwardOnly),
            Compatibility::Full => self == Verdict::Full,
        }
    }
}

/// The name of a compatibility mode: `BACKWARD`, `FORWARD`, `FULL` or `NONE`.
pub fn mode_name(mode: Compatibility) -> &'static str {
    match mode {
        Compatibility::Backward => "BACKWARD",
        Compatibility::Forward => "FORWARD",
        Compatibility::Full => "FULL",
        Compatibility::None => "NONE",
    }
}

/// The 1-based line and column, in the schema `text`, of the value a change's `pointer`
/// (`#/properties/edata`) names, or of its nearest enclosing value there: changes are
/// found in the old schema, and a removed property's place in the new one is its parent.
/// `None` when the text is not a JSON document.
pub fn pointer_line_col(text: &str, pointer: &str) -> Option<(usize, usize)> {
    // The span scanner stops early on malformed input; a place in it would be a guess.
    serde_json::from_str::<serde::de::IgnoredAny>(text).ok()?;
    let spans = crate::schema::value_spans(text);
    let mut at = pointer.strip_prefix('#').unwrap_or(pointer);
    let span = loop {
        if let Some(span) = spans.get(at) {
            break span;
        }
        at = &at[..at.rfind('/')?];
    };
    let before = text.get(..span.start)?;
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before
        .get(line_start..)
        .map_or(1, |s| s.chars().count() + 1);
    Some((line, col))
}

/// One difference between the old and the new schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Where, as a JSON pointer fragment into the old schema (`#/properties/edata`).
    pub pointer: String,
    /// What kind of change.
    pub kind: ChangeKind,
    /// Whether the new schema still reads data written with the old one.
    pub backward_ok: bool,
    /// Whether the old schema still reads data written with the new one.
    pub forward_ok: bool,
    /// What changed, as a short phrase.
    pub message: String,
}

impl Change {
    /// Whether the change breaks `mode`.
    pub fn breaks(&self, mode: Compatibility) -> bool {
        match mode {
            Compatibility::None => false,
            Compatibility::Backward => !self.backward_ok,
            Compatibility::Forward => !self.forward_ok,
            Compatibility::Full => !(self.backward_ok && self.forward_ok),
        }
    }
}

/// The differences between two schemas and what they add up to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompatReport {
    /// The directions every change keeps.
    pub verdict: Verdict,
    /// Every difference, in schema order.
    pub changes: Vec<Change>,
}

impl CompatReport {
    /// A report of these changes.
    pub fn new(changes: Vec<Change>) -> Self {
        let backward = changes.iter().all(|c| c.backward_ok);
        let forward = changes.iter().all(|c| c.forward_ok);
        CompatReport {
            verdict: Verdict::from_flags(backward, forward),
            changes,
        }
    }

    /// The changes that break `mode`, in schema order.
    pub fn breaking_for(&self, mode: Compatibility) -> Vec<&Change> {
        self.changes.iter().filter(|c| c.breaks(mode)).collect()
    }

    /// Whether no change breaks `mode`.
    pub fn allows(&self, mode: Compatibility) -> bool {
        self.verdict.satisfies(mode)
    }
}

/// Compares an old and a new schema.
pub fn compare(old: &ResolvedSchema, new: &ResolvedSchema) -> CompatReport {
    let mut differ = diff::Differ::new(old, new);
    let mut changes = Vec::new();
    differ.node(
        old.root(),
        new.root(),
        &mut diff::Path::default(),
        &mut changes,
    );
    if differ.limited
        && !changes
            .iter()
            .any(|c| c.kind == ChangeKind::ComparisonLimit)
    {
        // The limit was hit inside a comparison whose details were not kept.
        changes.push(Change {
            pointer: "#".into(),
            kind: ChangeKind::ComparisonLimit,
            backward_ok: false,
            forward_ok: false,
            message: "schemas too large or too deeply nested to compare".into(),
        });
    }
    CompatReport::new(changes)
}

/// Compares two schemas given as values whose `$ref`s point into themselves.
pub fn compare_values(old: &Value, new: &Value) -> CompatReport {
    let old = ResolvedSchema::standalone(old.clone(), Draft::Draft4);
    let new = ResolvedSchema::standalone(new.clone(), Draft::Draft4);
    compare(&old, &new)
}
