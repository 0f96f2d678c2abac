//! The walk over an old and a new schema side by side: `$ref`s (cycles cut), schemas that
//! accept everything or nothing, annotations, types, `enum`/`const`, string and number
//! limits and `not`. Objects, arrays and `allOf`/`anyOf`/`oneOf` have files of their own.

use std::collections::HashMap;

use regex::Regex;
use serde_json::{Map, Value};

use super::kind::ChangeKind;
use super::{Change, array, combined, object, scalar};
use crate::schema::{RefTarget, ResolvedSchema};

/// Nodes compared before giving up (combinators compare every pair of branches).
const MAX_STEPS: usize = 100_000;
/// Deepest nesting of compared subschemas (a property level, an item, a branch, ...).
const MAX_DEPTH: usize = 128;
/// Longest chain of `$ref`s to `$ref`s followed.
const MAX_HOPS: usize = 32;

/// The schema that accepts every value: what an absent subschema means.
pub(super) static ANY: Value = Value::Bool(true);

/// Whether a keyword constrains values (rather than annotating them); a schema with no
/// such keyword accepts everything.
pub(super) fn constrains(keyword: &str) -> bool {
    matches!(
        keyword,
        "type"
            | "enum"
            | "const"
            | "properties"
            | "required"
            | "additionalProperties"
            | "patternProperties"
            | "dependencies"
            | "dependentRequired"
            | "dependentSchemas"
            | "propertyNames"
            | "minProperties"
            | "maxProperties"
            | "items"
            | "additionalItems"
            | "prefixItems"
            | "contains"
            | "minContains"
            | "maxContains"
            | "minItems"
            | "maxItems"
            | "uniqueItems"
            | "maxLength"
            | "minLength"
            | "pattern"
            | "maximum"
            | "minimum"
            | "exclusiveMaximum"
            | "exclusiveMinimum"
            | "multipleOf"
            | "allOf"
            | "anyOf"
            | "oneOf"
            | "not"
            | "if"
            | "unevaluatedProperties"
            | "unevaluatedItems"
    )
}

/// What a schema accepts, roughly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Class {
    /// `false`: nothing.
    False,
    /// `true`, `{}`, or only annotations: everything.
    Any,
    /// Something in between.
    Schema,
}

impl Class {
    /// The class of a schema whose `$ref` has been followed.
    pub(super) fn of(schema: &Value) -> Class {
        match schema {
            Value::Bool(false) => Class::False,
            Value::Object(map) if map.keys().any(|k| constrains(k)) => Class::Schema,
            _ => Class::Any,
        }
    }
}

/// The place being compared, as JSON pointer segments (unescaped).
#[derive(Debug, Default)]
pub(crate) struct Path(Vec<String>);

impl Path {
    /// Adds segments; returns the length to [`Path::truncate`] back to.
    pub(super) fn push(&mut self, segments: &[&str]) -> usize {
        let len = self.0.len();
        self.0.extend(segments.iter().map(|s| s.to_string()));
        len
    }

    /// Drops the segments added since `len`.
    pub(super) fn truncate(&mut self, len: usize) {
        self.0.truncate(len);
    }

    /// The JSON pointer (as a URI fragment) of this place plus `tail`.
    pub(super) fn pointer(&self, tail: &[&str]) -> String {
        let mut out = String::from("#");
        for segment in self
            .0
            .iter()
            .map(String::as_str)
            .chain(tail.iter().copied())
        {
            out.push('/');
            out.push_str(&segment.replace('~', "~0").replace('/', "~1"));
        }
        out
    }
}

/// Records a change whose effect its kind fixes.
pub(super) fn emit(
    out: &mut Vec<Change>,
    path: &Path,
    tail: &[&str],
    kind: ChangeKind,
    message: String,
) {
    let flags = kind.effect().flags().unwrap_or((false, false));
    emit_flags(out, path, tail, kind, flags, message);
}

/// Records a change with the flags the context gives it.
pub(super) fn emit_flags(
    out: &mut Vec<Change>,
    path: &Path,
    tail: &[&str],
    kind: ChangeKind,
    (backward_ok, forward_ok): (bool, bool),
    message: String,
) {
    out.push(Change {
        pointer: path.pointer(tail),
        kind,
        backward_ok,
        forward_ok,
        message,
    });
}

/// Whether every change keeps `(backward, forward)` compatibility.
pub(super) fn flags_of(changes: &[Change]) -> (bool, bool) {
    (
        changes.iter().all(|c| c.backward_ok),
        changes.iter().all(|c| c.forward_ok),
    )
}

/// A JSON value, short, for messages.
pub(super) fn show(value: Option<&Value>) -> String {
    let Some(value) = value else {
        return "(none)".into();
    };
    let text = value.to_string();
    match text.char_indices().nth(40) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// Compares an old and a new schema.
pub(crate) struct Differ<'a> {
    old: &'a ResolvedSchema,
    new: &'a ResolvedSchema,
    /// Whether `old` and `new` are exchanged (inside `not`).
    swapped: bool,
    /// The pairs of references being compared, to cut cycles.
    stack: Vec<(bool, Option<RefTarget>, Option<RefTarget>)>,
    steps: usize,
    /// How many comparisons are nested here.
    depth: usize,
    /// Whether a limit stopped the comparison somewhere.
    pub(super) limited: bool,
    regexes: HashMap<&'a str, Option<Regex>>,
}

impl<'a> Differ<'a> {
    /// A comparison of `old` with `new`.
    pub(crate) fn new(old: &'a ResolvedSchema, new: &'a ResolvedSchema) -> Self {
        Differ {
            old,
            new,
            swapped: false,
            // A `$ref` to the root (`#`) closes a cycle at once.
            stack: vec![(false, Some(old.root_target()), Some(new.root_target()))],
            steps: 0,
            depth: 0,
            limited: false,
            regexes: HashMap::new(),
        }
    }

    /// An old-side schema with its `$ref`s followed.
    pub(super) fn old_schema(&self, schema: &'a Value) -> &'a Value {
        deref(self.old, schema).0
    }

    /// A new-side schema with its `$ref`s followed.
    pub(super) fn new_schema(&self, schema: &'a Value) -> &'a Value {
        deref(self.new, schema).0
    }

    /// Whether a `patternProperties` regex matches a name (a pattern that does not
    /// compile matches nothing).
    pub(super) fn matches(&mut self, pattern: &'a str, name: &str) -> bool {
        let regex = self.regexes.entry(pattern).or_insert_with(|| {
            regex::RegexBuilder::new(pattern)
                .size_limit(1 << 20)
                .build()
                .ok()
        });
        regex.as_ref().is_some_and(|re| re.is_match(name))
    }

    /// Compares two schemas at `path`, following `$ref`s on both sides.
    pub(crate) fn node(
        &mut self,
        old: &'a Value,
        new: &'a Value,
        path: &mut Path,
        out: &mut Vec<Change>,
    ) {
        self.steps += 1;
        if self.steps > MAX_STEPS || self.depth >= MAX_DEPTH {
            if !self.limited {
                self.limited = true;
                let message = "schemas too large or too deeply nested to compare".to_string();
                emit(out, path, &[], ChangeKind::ComparisonLimit, message);
            }
            return;
        }
        let (old, old_at) = deref(self.old, old);
        let (new, new_at) = deref(self.new, new);
        let key = (self.swapped, old_at, new_at);
        let tracked = key.1.is_some() || key.2.is_some();
        if tracked {
            if self.stack.contains(&key) {
                // A cycle: the pair is being compared further up; assume it agrees.
                return;
            }
            self.stack.push(key);
        }
        self.depth += 1;
        self.schemas(old, new, path, out);
        self.depth -= 1;
        if tracked {
            self.stack.pop();
        }
    }

    /// Runs `f` with the old and new sides exchanged.
    fn swapped<R>(&mut self, f: impl FnOnce(&mut Self) -> R) -> R {
        std::mem::swap(&mut self.old, &mut self.new);
        self.swapped = !self.swapped;
        let result = f(self);
        std::mem::swap(&mut self.old, &mut self.new);
        self.swapped = !self.swapped;
        result
    }

    fn schemas(&mut self, old: &'a Value, new: &'a Value, path: &mut Path, out: &mut Vec<Change>) {
        let trivial = match (Class::of(old), Class::of(new)) {
            (Class::False, Class::False) => Some(None),
            (Class::False, _) => Some(Some((
                ChangeKind::RelaxedFromNothing,
                "the old schema accepted nothing (`false`)",
            ))),
            (_, Class::False) => Some(Some((
                ChangeKind::RestrictedToNothing,
                "the new schema accepts nothing (`false`)",
            ))),
            (Class::Any, Class::Schema) => Some(Some((
                ChangeKind::ConstrainedFromAny,
                "a schema that accepted any value now constrains it",
            ))),
            (Class::Schema, Class::Any) => Some(Some((
                ChangeKind::RelaxedToAny,
                "the schema now accepts any value",
            ))),
            _ => None,
        };
        let (Value::Object(o), Value::Object(n)) = (old, new) else {
            if let Some(Some((kind, message))) = trivial {
                emit(out, path, &[], kind, message.into());
            }
            return;
        };
        match trivial {
            Some(Some((kind, message))) => return emit(out, path, &[], kind, message.into()),
            Some(None) => return,
            None if Class::of(old) == Class::Any => return self.annotations(o, n, path, out),
            None => {}
        }
        match (combined::singleton(o), combined::singleton(n)) {
            (Some(a), Some(b)) => return self.node(a, b, path, out),
            (Some(a), None) => return self.node(a, new, path, out),
            (None, Some(b)) => return self.node(old, b, path, out),
            (None, None) => {}
        }
        if combined::union_against_plain(self, (old, o), (new, n), path, out) {
            return;
        }
        self.annotations(o, n, path, out);
        if !scalar::types_and_enums(o, n, path, out) {
            return;
        }
        scalar::strings(o, n, path, out);
        scalar::numbers(o, n, path, out);
        object::compare(self, o, n, path, out);
        array::compare(self, o, n, path, out);
        combined::compare(self, o, n, path, out);
        self.not(o, n, path, out);
    }

    fn annotations(
        &mut self,
        o: &Map<String, Value>,
        n: &Map<String, Value>,
        path: &Path,
        out: &mut Vec<Change>,
    ) {
        for (keyword, kind) in [
            ("id", ChangeKind::IdChanged),
            ("$id", ChangeKind::IdChanged),
            ("title", ChangeKind::TitleChanged),
            ("description", ChangeKind::DescriptionChanged),
            ("default", ChangeKind::DefaultChanged),
        ] {
            let (a, b) = (o.get(keyword), n.get(keyword));
            if a != b {
                let message = format!("`{keyword}` changed from {} to {}", show(a), show(b));
                emit(out, path, &[keyword], kind, message);
            }
        }
    }

    fn not(
        &mut self,
        o: &'a Map<String, Value>,
        n: &'a Map<String, Value>,
        path: &mut Path,
        out: &mut Vec<Change>,
    ) {
        match (o.get("not"), n.get("not")) {
            (Some(a), Some(b)) => {
                // `not A` reads `not B` exactly when B reads A: compare them the other way.
                let len = path.push(&["not"]);
                let mut sub = Vec::new();
                self.swapped(|d| d.node(b, a, path, &mut sub));
                path.truncate(len);
                let flags = flags_of(&sub);
                if let Some(first) = sub.iter().find(|c| !(c.backward_ok && c.forward_ok)) {
                    let message = format!("the schema under `not` changed: {}", first.message);
                    emit_flags(
                        out,
                        path,
                        &["not"],
                        ChangeKind::NotSchemaChanged,
                        flags,
                        message,
                    );
                }
            }
            (None, Some(_)) => emit(
                out,
                path,
                &["not"],
                ChangeKind::CombinatorAdded,
                "`not` added".into(),
            ),
            (Some(_), None) => emit(
                out,
                path,
                &["not"],
                ChangeKind::CombinatorRemoved,
                "`not` removed".into(),
            ),
            (None, None) => {}
        }
    }
}

/// Follows `$ref`s from `schema`; also returns where the last one pointed.
fn deref<'s>(side: &'s ResolvedSchema, schema: &'s Value) -> (&'s Value, Option<RefTarget>) {
    let mut schema = schema;
    let mut at = None;
    for _ in 0..MAX_HOPS {
        let Some(reference) = schema.get("$ref").and_then(Value::as_str) else {
            break;
        };
        let Some((target, next)) = side.follow(reference) else {
            break;
        };
        at = Some(target);
        schema = next;
    }
    (schema, at)
}
