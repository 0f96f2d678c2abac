//! Scalar keywords: `type` (with `integer` inside `number`), `enum`/`const`, and the
//! limits of strings and numbers.

use serde_json::{Map, Value};

use super::Change;
use super::diff::{Path, emit, show};
use super::kind::ChangeKind;
use super::types::TypeSet;

/// Compares `type` and `enum`/`const`; false when the types no longer overlap (the
/// other keywords then say nothing useful).
pub(super) fn types_and_enums(
    o: &Map<String, Value>,
    n: &Map<String, Value>,
    path: &Path,
    out: &mut Vec<Change>,
) -> bool {
    let (to, tn) = (TypeSet::declared(o), TypeSet::declared(n));
    let (eo, en) = (enum_values(o), enum_values(n));
    let keyword = if o.contains_key("enum") || n.contains_key("enum") {
        "enum"
    } else {
        "const"
    };
    if let (Some(a), Some(b)) = (&eo, &en) {
        // Both sides list their values: the values (of the declared types) are the
        // whole story.
        let a: Vec<&Value> = a
            .iter()
            .copied()
            .filter(|v| to.contains(TypeSet::of_value(v)))
            .collect();
        let b: Vec<&Value> = b
            .iter()
            .copied()
            .filter(|v| tn.contains(TypeSet::of_value(v)))
            .collect();
        let added: Vec<&Value> = b.iter().copied().filter(|v| !a.contains(v)).collect();
        let removed: Vec<&Value> = a.iter().copied().filter(|v| !b.contains(v)).collect();
        let (kind, message) = match (added.is_empty(), removed.is_empty()) {
            (true, true) => return true,
            (false, true) => (
                ChangeKind::EnumExtended,
                format!("{keyword} values added: {}", list(&added)),
            ),
            (true, false) => (
                ChangeKind::EnumNarrowed,
                format!("{keyword} values removed: {}", list(&removed)),
            ),
            (false, false) => (
                ChangeKind::EnumChanged,
                format!(
                    "{keyword} values removed: {}; added: {}",
                    list(&removed),
                    list(&added)
                ),
            ),
        };
        emit(out, path, &[keyword], kind, message);
        return true;
    }
    let effective = |declared: TypeSet, values: &Option<Vec<&Value>>| match values {
        Some(values) => declared.and(
            values
                .iter()
                .fold(TypeSet::NONE, |t, v| t.or(TypeSet::of_value(v))),
        ),
        None => declared,
    };
    let (ea, eb) = (effective(to, &eo), effective(tn, &en));
    let overlap = types(ea, eb, path, out);
    if let Some(values) = &eo {
        let message = format!(
            "{keyword} {} removed: any {} allowed",
            list(values),
            eb.describe()
        );
        emit(out, path, &[keyword], ChangeKind::EnumRemoved, message);
    }
    if let Some(values) = &en {
        let message = format!(
            "{keyword} {} added: other values are no longer allowed",
            list(values)
        );
        emit(out, path, &[keyword], ChangeKind::EnumAdded, message);
    }
    overlap
}

fn types(old: TypeSet, new: TypeSet, path: &Path, out: &mut Vec<Change>) -> bool {
    let (a, b) = (old.describe(), new.describe());
    let (kind, message) = if old == new {
        return true;
    } else if new.contains(old) {
        (
            ChangeKind::TypeWidened,
            format!("type widened from {a} to {b}"),
        )
    } else if old.contains(new) {
        (
            ChangeKind::TypeNarrowed,
            format!("type narrowed from {a} to {b}"),
        )
    } else {
        (
            ChangeKind::TypeChanged,
            format!("type changed from {a} to {b}"),
        )
    };
    emit(out, path, &[], kind, message);
    !old.and(new).is_empty()
}

pub(super) fn strings(
    o: &Map<String, Value>,
    n: &Map<String, Value>,
    path: &Path,
    out: &mut Vec<Change>,
) {
    use ChangeKind::*;
    limit(
        o,
        n,
        "maxLength",
        [
            MaxLengthAdded,
            MaxLengthRemoved,
            MaxLengthIncreased,
            MaxLengthDecreased,
        ],
        path,
        out,
    );
    limit(
        o,
        n,
        "minLength",
        [
            MinLengthAdded,
            MinLengthRemoved,
            MinLengthIncreased,
            MinLengthDecreased,
        ],
        path,
        out,
    );
    let (a, b) = (o.get("pattern"), n.get("pattern"));
    let kind = match (a, b) {
        (None, Some(_)) => PatternAdded,
        (Some(_), None) => PatternRemoved,
        (Some(x), Some(y)) if x != y => PatternChanged,
        _ => return,
    };
    let message = format!("pattern changed from {} to {}", show(a), show(b));
    emit(out, path, &["pattern"], kind, message);
}

pub(super) fn numbers(
    o: &Map<String, Value>,
    n: &Map<String, Value>,
    path: &Path,
    out: &mut Vec<Change>,
) {
    use ChangeKind::*;
    limit(
        o,
        n,
        "maximum",
        [
            MaximumAdded,
            MaximumRemoved,
            MaximumIncreased,
            MaximumDecreased,
        ],
        path,
        out,
    );
    limit(
        o,
        n,
        "minimum",
        [
            MinimumAdded,
            MinimumRemoved,
            MinimumIncreased,
            MinimumDecreased,
        ],
        path,
        out,
    );
    let max = [
        ExclusiveMaximumAdded,
        ExclusiveMaximumRemoved,
        ExclusiveMaximumIncreased,
        ExclusiveMaximumDecreased,
    ];
    let min = [
        ExclusiveMinimumAdded,
        ExclusiveMinimumRemoved,
        ExclusiveMinimumIncreased,
        ExclusiveMinimumDecreased,
    ];
    for (keyword, kinds) in [("exclusiveMaximum", max), ("exclusiveMinimum", min)] {
        let (a, b) = (o.get(keyword), n.get(keyword));
        if a.is_some_and(Value::is_boolean) || b.is_some_and(Value::is_boolean) {
            // Draft 4: a flag on `maximum`/`minimum`.
            let on = |v: Option<&Value>| v.is_some_and(|v| v.as_bool() != Some(false));
            let kind = match (on(a), on(b)) {
                (false, true) => kinds[0],
                (true, false) => kinds[1],
                _ => continue,
            };
            let message = format!("{keyword} changed from {} to {}", show(a), show(b));
            emit(out, path, &[keyword], kind, message);
        } else {
            limit(o, n, keyword, kinds, path, out);
        }
    }
    let (a, b) = (o.get("multipleOf"), n.get("multipleOf"));
    let kind = match (a.and_then(Value::as_f64), b.and_then(Value::as_f64)) {
        (None, None) => return,
        (None, Some(_)) => MultipleOfAdded,
        (Some(_), None) => MultipleOfRemoved,
        (Some(x), Some(y)) if x == y => return,
        (Some(x), Some(y)) if is_multiple(y, x) => MultipleOfExpanded,
        (Some(x), Some(y)) if is_multiple(x, y) => MultipleOfReduced,
        _ => MultipleOfChanged,
    };
    let message = format!("multipleOf changed from {} to {}", show(a), show(b));
    emit(out, path, &["multipleOf"], kind, message);
}

/// The values `enum` (or `const`) allows.
fn enum_values(schema: &Map<String, Value>) -> Option<Vec<&Value>> {
    match (schema.get("enum"), schema.get("const")) {
        (Some(Value::Array(values)), _) => Some(values.iter().collect()),
        (_, Some(value)) => Some(vec![value]),
        _ => None,
    }
}

/// `"A", "B"` (at most 8 values shown).
fn list(values: &[&Value]) -> String {
    let mut shown: Vec<String> = values.iter().take(8).map(|v| show(Some(v))).collect();
    if values.len() > 8 {
        shown.push(format!("and {} more", values.len() - 8));
    }
    shown.join(", ")
}

/// Whether `x` is a multiple of `of`.
fn is_multiple(x: f64, of: f64) -> bool {
    of != 0.0 && ((x / of) - (x / of).round()).abs() < 1e-9
}

/// Compares a numeric limit; `kinds` are its added, removed, increased and decreased kinds.
pub(super) fn limit(
    o: &Map<String, Value>,
    n: &Map<String, Value>,
    keyword: &str,
    kinds: [ChangeKind; 4],
    path: &Path,
    out: &mut Vec<Change>,
) {
    let (a, b) = (o.get(keyword), n.get(keyword));
    let (kind, message) = match (a.and_then(Value::as_f64), b.and_then(Value::as_f64)) {
        (None, None) => return,
        (None, Some(_)) => (kinds[0], format!("{keyword} {} added", show(b))),
        (Some(_), None) => (kinds[1], format!("{keyword} {} removed", show(a))),
        (Some(x), Some(y)) if y > x => (
            kinds[2],
            format!("{keyword} increased from {} to {}", show(a), show(b)),
        ),
        (Some(x), Some(y)) if y < x => (
            kinds[3],
            format!("{keyword} decreased from {} to {}", show(a), show(b)),
        ),
        _ => return,
    };
    emit(out, path, &[keyword], kind, message);
}
