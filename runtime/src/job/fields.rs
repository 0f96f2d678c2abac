//! Field paths of `set`, `flag` and flags: parsed once, assigned creating the objects on
//! the way.

use std::sync::Arc;

use pipec_compiler::expr::{Expr, ExprKind, FieldPath, PathSegment};
use pipec_compiler::manifest::{Assignments, Flags};
use serde_json::{Map, Value};

use super::doc::{Look, Target};
use super::raw::Kind;
use super::{Ev, RuntimeError};

/// The assignments of a `set` step, with what setting them on an event kept as bytes needs.
#[derive(Debug)]
pub(super) struct Assign {
    list: Vec<(FieldPath, Expr)>,
    /// Per assignment: written `field?`, set only when its value is not null (an event whose
    /// value is null keeps the field as it was, absent stays absent).
    if_value: Vec<bool>,
    /// Per assignment, in order, while they can be done on the bytes.
    fast: Vec<FastAssign>,
}

#[derive(Debug)]
struct FastAssign {
    target: Arc<Target>,
    /// The fields the expression reads.
    reads: Vec<Arc<Target>>,
    /// `p = coalesce(p, ...)`: nothing to do when `p` has a value.
    keeps_own: bool,
}

impl Assign {
    /// The assignments of a `set` step (`field?` keys set only non-null values).
    pub(super) fn of_step(a: &Assignments) -> Result<Assign, String> {
        let list = a
            .iter()
            .map(|(k, e)| assignment(k.strip_suffix('?').unwrap_or(k), e))
            .collect::<Result<_, _>>()?;
        let if_value = a.iter().map(|(k, _)| k.ends_with('?')).collect();
        Ok(Assign::new(list, if_value))
    }

    fn new(list: Vec<(FieldPath, Expr)>, if_value: Vec<bool>) -> Assign {
        let fast = list
            .iter()
            .map_while(|(p, e)| {
                Some(FastAssign {
                    target: Target::new(p)?,
                    reads: Target::reads(e)?,
                    keeps_own: is_coalesce_of(p, e),
                })
            })
            .collect();
        Assign {
            list,
            if_value,
            fast,
        }
    }

    /// Sets the fields on the event: on its bytes while it has them and the assignments
    /// can be done there, the rest on its tree. `Ok(Err(_))`: an expression failed.
    pub(super) fn apply_ev(
        &self,
        ev: &mut Ev,
        input: &[&[u8]],
    ) -> Result<Result<(), String>, RuntimeError> {
        let mut done = 0;
        if let Some((b, doc)) = ev.doc_parts(input) {
            for ((f, (_, e)), only) in self.fast.iter().zip(&self.list).zip(&self.if_value) {
                if f.keeps_own {
                    let has = match doc.get(b, &f.target) {
                        Look::Node(i) => doc.tape().get(i).is_some_and(|n| n.kind != Kind::Null),
                        Look::Value(v) => !v.is_null(),
                        Look::Missing => false,
                        Look::Unsure => break,
                    };
                    if has {
                        done += 1;
                        continue;
                    }
                }
                match doc.eval(b, e, &f.reads) {
                    None => break,
                    Some(Ok(v)) if *only && v.is_null() => {}
                    Some(Ok(v)) => doc.set(&f.target, v),
                    Some(Err(x)) => return Ok(Err(x.to_string())),
                }
                done += 1;
            }
        }
        if done == self.list.len() {
            return Ok(Ok(()));
        }
        ev.materialize(input)?;
        for ((p, e), only) in self.list[done..].iter().zip(&self.if_value[done..]) {
            if keeps_own_value(&ev.value, p, e) {
                continue;
            }
            match pipec_compiler::expr::eval(e, &ev.value) {
                Ok(v) if *only && v.is_null() => {}
                Ok(v) => set(&mut ev.value, p, v),
                Err(x) => return Ok(Err(x.to_string())),
            }
        }
        Ok(Ok(()))
    }
}

/// The flags of a step, with their targets when all are paths of field names.
#[derive(Debug)]
pub(super) struct FlagSet {
    pub(super) list: Vec<(FieldPath, Value)>,
    targets: Option<Vec<Arc<Target>>>,
}

impl FlagSet {
    pub(super) fn new(list: Vec<(FieldPath, Value)>) -> FlagSet {
        let targets = list.iter().map(|(p, _)| Target::new(p)).collect();
        FlagSet { list, targets }
    }

    /// Sets the flags on the event, on its bytes when it has them.
    pub(super) fn apply_ev(&self, ev: &mut Ev, input: &[&[u8]]) -> Result<(), RuntimeError> {
        if self.list.is_empty() {
            return Ok(());
        }
        if let Some(targets) = &self.targets
            && let Some((_, doc)) = ev.doc_parts(input)
        {
            for (t, (_, v)) in targets.iter().zip(&self.list) {
                doc.set(t, v.clone());
            }
            return Ok(());
        }
        ev.materialize(input)?;
        set_flags(&mut ev.value, &self.list);
        Ok(())
    }
}

/// Parses a field path of the manifest (`flags.pp_duplicate`, `@timestamp`).
pub(super) fn path(src: &str) -> Result<FieldPath, String> {
    FieldPath::parse(src)
        .or_else(|_| FieldPath::parse(&format!("`{}`", src.replace('`', ""))))
        .map_err(|e| format!("field path `{src}`: {}", e.message))
}

/// Parses `field → expression` assignments.
pub(super) fn assignments(a: &Assignments) -> Result<Vec<(FieldPath, Expr)>, String> {
    a.iter().map(|(k, e)| assignment(k, e)).collect()
}

/// Parses one `field → expression` assignment.
fn assignment(field: &str, expr: &str) -> Result<(FieldPath, Expr), String> {
    let e = pipec_compiler::expr::parse(expr)
        .map_err(|x| format!("expression `{expr}`: {}", x.message))?;
    Ok((path(field)?, e))
}

/// Parses `field → constant` flags.
pub(super) fn flags(f: &Flags) -> Result<Vec<(FieldPath, Value)>, String> {
    f.iter().map(|(k, v)| Ok((path(k)?, v.clone()))).collect()
}

/// Whether `p = coalesce(p, ...)` would set `p` to the value it has (it has one, not
/// null): then nothing needs computing or setting.
fn keeps_own_value(event: &Value, p: &FieldPath, e: &Expr) -> bool {
    let ExprKind::Call { name, args, .. } = &e.kind else {
        return false;
    };
    let Some(ExprKind::Path(first)) = args.first().map(|a| &a.kind) else {
        return false;
    };
    name == "coalesce"
        && same_path(first, p)
        && pipec_compiler::expr::eval::lookup(event, p).is_some_and(|v| !v.is_null())
}

/// Whether `e` is `coalesce(p, ...)`.
fn is_coalesce_of(p: &FieldPath, e: &Expr) -> bool {
    let ExprKind::Call { name, args, .. } = &e.kind else {
        return false;
    };
    matches!(args.first().map(|a| &a.kind), Some(ExprKind::Path(first)) if name == "coalesce" && same_path(first, p))
}

/// Whether two paths name the same field (spans aside).
fn same_path(a: &FieldPath, b: &FieldPath) -> bool {
    a.segments.len() == b.segments.len()
        && a.segments
            .iter()
            .zip(&b.segments)
            .all(|(x, y)| match (x, y) {
                (PathSegment::Field { name: n, .. }, PathSegment::Field { name: m, .. }) => n == m,
                (PathSegment::Index { index: i, .. }, PathSegment::Index { index: j, .. }) => {
                    i == j
                }
                _ => false,
            })
}

/// Sets each field to its constant.
pub(super) fn set_flags(event: &mut Value, f: &[(FieldPath, Value)]) {
    for (p, v) in f {
        set(event, p, v.clone());
    }
}

/// Sets `metadata.<key>` to `reason` and `metadata.src` to the job.
pub(super) fn set_metadata(event: &mut Value, key: &str, reason: &str, job: &str) {
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
pub(super) fn set(event: &mut Value, path: &FieldPath, value: Value) {
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
