//! `set` and `flag`: fields set on events, on their bytes while they have them (see
//! [`crate::event::doc`]), else on their trees.

use std::sync::Arc;

use pipec_compiler::expr::{Expr, ExprKind, FieldPath, PathSegment};
use pipec_compiler::manifest::Assignments;
use serde_json::Value;

use crate::RuntimeError;
use crate::event::Ev;
use crate::event::doc::{Look, Target};
use crate::event::fields::{assignment, set, set_flags};
use crate::event::raw::Kind;

/// The assignments of a `set` step, with what setting them on an event kept as bytes needs.
#[derive(Debug)]
pub(crate) struct Assign {
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
    pub(crate) fn of_step(a: &Assignments) -> Result<Assign, String> {
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
    pub(crate) fn apply_ev(
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
pub(crate) struct FlagSet {
    pub(crate) list: Vec<(FieldPath, Value)>,
    targets: Option<Vec<Arc<Target>>>,
}

impl FlagSet {
    pub(crate) fn new(list: Vec<(FieldPath, Value)>) -> FlagSet {
        let targets = list.iter().map(|(p, _)| Target::new(p)).collect();
        FlagSet { list, targets }
    }

    /// Sets the flags on the event, on its bytes when it has them.
    pub(crate) fn apply_ev(&self, ev: &mut Ev, input: &[&[u8]]) -> Result<(), RuntimeError> {
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
