//! Field paths of `set`, `flag` and flags: parsed once, set on an event's tree creating
//! the objects on the way.

use pipec_compiler::expr::{Expr, FieldPath, PathSegment};
use pipec_compiler::manifest::{Assignments, Flags};
use serde_json::{Map, Value};

/// Parses a field path of the manifest (`flags.pp_duplicate`, `@timestamp`).
pub(crate) fn path(src: &str) -> Result<FieldPath, String> {
    FieldPath::parse(src)
        .or_else(|_| FieldPath::parse(&format!("`{}`", src.replace('`', ""))))
        .map_err(|e| format!("field path `{src}`: {}", e.message))
}

/// Parses `field → expression` assignments.
pub(crate) fn assignments(a: &Assignments) -> Result<Vec<(FieldPath, Expr)>, String> {
    a.iter().map(|(k, e)| assignment(k, e)).collect()
}

/// Parses one `field → expression` assignment.
pub(crate) fn assignment(field: &str, expr: &str) -> Result<(FieldPath, Expr), String> {
    let e = pipec_compiler::expr::parse(expr)
        .map_err(|x| format!("expression `{expr}`: {}", x.message))?;
    Ok((path(field)?, e))
}

/// Parses `field → constant` flags.
pub(crate) fn flags(f: &Flags) -> Result<Vec<(FieldPath, Value)>, String> {
    f.iter().map(|(k, v)| Ok((path(k)?, v.clone()))).collect()
}

/// Sets each field to its constant.
pub(crate) fn set_flags(event: &mut Value, f: &[(FieldPath, Value)]) {
    for (p, v) in f {
        set(event, p, v.clone());
    }
}

/// Sets `metadata.<key>` to `reason` and `metadata.src` to the job.
pub(crate) fn set_metadata(event: &mut Value, key: &str, reason: &str, job: &str) {
    if let Some(m) = object_at(event, "metadata") {
        m.insert(key.to_string(), Value::String(reason.to_string()));
        m.insert("src".to_string(), Value::String(job.to_string()));
    }
}

fn object_at<'a>(event: &'a mut Value, key: &str) -> Option<&'a mut Map<String, Value>> {
    let obj = event.as_object_mut()?;
    let m = obj
        .entry(key.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if !m.is_object() {
        *m = Value::Object(Map::new());
    }
    m.as_object_mut()
}

/// Sets the field at `path`, creating (or replacing non-object values by) objects on the
/// way. An index past the end of a list sets nothing.
pub(crate) fn set(event: &mut Value, path: &FieldPath, value: Value) {
    let Some((last, init)) = path.segments.split_last() else {
        return;
    };
    let mut cur = event;
    for seg in init {
        cur = match seg {
            PathSegment::Field { name, .. } => {
                if !cur.is_object() {
                    *cur = Value::Object(Map::new());
                }
                let Some(obj) = cur.as_object_mut() else {
                    return;
                };
                if !obj.contains_key(name) {
                    obj.insert(name.clone(), Value::Object(Map::new()));
                }
                let Some(next) = obj.get_mut(name) else {
                    return;
                };
                if !(next.is_object() || next.is_array()) {
                    *next = Value::Object(Map::new());
                }
                next
            }
            PathSegment::Index { index, .. } => match element(cur, *index) {
                Some(v) => v,
                None => return,
            },
        };
    }
    match last {
        PathSegment::Field { name, .. } => {
            if !cur.is_object() {
                *cur = Value::Object(Map::new());
            }
            if let Some(obj) = cur.as_object_mut() {
                match obj.get_mut(name) {
                    Some(slot) => *slot = value,
                    None => {
                        obj.insert(name.clone(), value);
                    }
                }
            }
        }
        PathSegment::Index { index, .. } => {
            if let Some(slot) = element(cur, *index) {
                *slot = value;
            }
        }
    }
}

fn element(v: &mut Value, index: i64) -> Option<&mut Value> {
    let list = v.as_array_mut()?;
    let i = if index < 0 {
        list.len()
            .checked_sub(usize::try_from(index.unsigned_abs()).ok()?)?
    } else {
        usize::try_from(index).ok()?
    };
    list.get_mut(i)
}

#[cfg(test)]
mod unit_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn set_creates_objects_and_keeps_siblings() {
        let mut e = json!({"flags": {"a": 1}, "x": 3});
        set(
            &mut e,
            &path("flags.b").unwrap_or_else(|e| panic!("{e}")),
            json!(true),
        );
        set(
            &mut e,
            &path("x.y").unwrap_or_else(|e| panic!("{e}")),
            json!(1),
        );
        set(
            &mut e,
            &path("@timestamp").unwrap_or_else(|e| panic!("{e}")),
            json!("t"),
        );
        assert_eq!(
            e,
            json!({"flags": {"a": 1, "b": true}, "x": {"y": 1}, "@timestamp": "t"})
        );
    }
}
