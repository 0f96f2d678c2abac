//! `explode`: each item of a list of the event becomes an event of its own (with the type
//! and fields the step sets), sent to the step's topics; the event itself goes on if kept.

use std::sync::Arc;

use pipec_compiler::expr::{Expr, FieldPath, PathSegment};
use pipec_compiler::manifest;
use serde_json::Value;

use super::{Builder, Scratch, holds_ev, parse, parse_when};
use crate::RuntimeError;
use crate::event::cond::Cond;
use crate::event::doc::Target;
use crate::event::raw::Kind;
use crate::event::{Ev, Raw, fields};

#[derive(Debug)]
pub(crate) struct Explode {
    when: Option<Cond>,
    items: Expr,
    as_type: Option<Value>,
    type_field: FieldPath,
    set: Vec<(FieldPath, Expr)>,
    to: Vec<Arc<str>>,
    keep: bool,
    /// What exploding an event kept as bytes needs, when its paths allow it.
    fast: Option<FastExplode>,
}

/// The targets of an explode's fields and the paths its expressions read (those under
/// `item` aside: the item is given whole).
#[derive(Debug)]
struct FastExplode {
    items_reads: Vec<Arc<Target>>,
    type_target: Arc<Target>,
    targets: Vec<Arc<Target>>,
    reads: Vec<Arc<Target>>,
}

impl FastExplode {
    fn new(items: &Expr, type_field: &FieldPath, set: &[(FieldPath, Expr)]) -> Option<Self> {
        let mut reads = Vec::new();
        for (_, e) in set {
            for p in e.paths() {
                let under_item = matches!(
                    p.segments.first(),
                    Some(PathSegment::Field { name, .. }) if name == "item"
                );
                if !under_item {
                    reads.push(Target::new(p)?);
                }
            }
        }
        Some(FastExplode {
            items_reads: Target::reads(items)?,
            type_target: Target::new(type_field)?,
            targets: set
                .iter()
                .map(|(p, _)| Target::new(p))
                .collect::<Option<_>>()?,
            reads,
        })
    }
}

impl Explode {
    pub(crate) fn build(b: &Builder<'_>, e: &manifest::Explode) -> Result<Explode, RuntimeError> {
        let items = parse(&e.items)?;
        let type_field = b.type_field()?;
        let set = fields::assignments(&e.set).map_err(RuntimeError::Internal)?;
        Ok(Explode {
            when: parse_when(e.when.as_deref())?,
            fast: FastExplode::new(&items, &type_field, &set),
            items,
            as_type: e.as_type.clone().map(Value::String),
            type_field,
            set,
            to: b.topics(&e.to)?,
            keep: e.keep,
        })
    }

    /// Each item becomes a copy of the event, of type `as` when given, with `set` computed
    /// against the event plus `item` (the name the compiler checks `set` with).
    pub(crate) fn run(
        &self,
        evs: Vec<Ev>,
        step: usize,
        s: &mut Scratch<'_>,
    ) -> Result<Vec<Ev>, RuntimeError> {
        let mut out = Vec::with_capacity(evs.len());
        for mut ev in evs {
            match holds_ev(self.when.as_ref(), &mut ev, s.input)? {
                Ok(true) => {}
                Ok(false) => {
                    out.push(ev);
                    continue;
                }
                Err(e) => {
                    s.error(ev, step, &e)?;
                    continue;
                }
            }
            let (input, sub) = (ev.input, ev.sub);
            let children: Result<Vec<Ev>, String> = match self.children_as_bytes(&mut ev, s.input) {
                Some(bytes) => bytes.map(|children| {
                    children
                        .into_iter()
                        .map(|bytes| Ev {
                            value: Value::Null,
                            raw: Some(Raw::Owned(bytes)),
                            shape: None,
                            doc: None,
                            input,
                            sub,
                        })
                        .collect()
                }),
                None => {
                    ev.materialize(s.input)?;
                    match pipec_compiler::expr::eval(&self.items, &ev.value) {
                        Ok(items) => {
                            let items = match items {
                                Value::Array(items) => items,
                                _ => Vec::new(),
                            };
                            self.children(&mut ev, items).map(|children| {
                                children
                                    .into_iter()
                                    .map(|c| Ev::tree(c, input, sub))
                                    .collect()
                            })
                        }
                        Err(e) => Err(e.to_string()),
                    }
                }
            };
            match children {
                Ok(children) => {
                    for child in &children {
                        s.send(child, step, &self.to)?;
                    }
                }
                Err(e) => {
                    s.error(ev, step, &e)?;
                    continue;
                }
            }
            if self.keep {
                out.push(ev);
            } else {
                s.counters[step].sent += 1;
            }
        }
        Ok(out)
    }

    /// The children of an event kept as bytes, as bytes: its bytes with the fields set
    /// spliced in, as [`Explode::children`] sets them on copies of its tree (`None`: it
    /// cannot be done on the bytes; `Err`: an expression failed).
    fn children_as_bytes(
        &self,
        ev: &mut Ev,
        input: &[&[u8]],
    ) -> Option<Result<Vec<Vec<u8>>, String>> {
        let f = self.fast.as_ref()?;
        let (b, doc) = ev.doc_parts(input)?;
        if doc.tape().first()?.kind != Kind::Object {
            return None;
        }
        let items = match doc.eval(b, &self.items, &f.items_reads)? {
            Ok(Value::Array(items)) => items,
            Ok(_) => Vec::new(),
            Err(e) => return Some(Err(e.to_string())),
        };
        let base = doc.holding(b, &f.reads)?;
        let mut children = Vec::with_capacity(items.len());
        for item in items {
            let mut event = base.clone();
            if let Some(o) = event.as_object_mut() {
                o.insert("item".to_string(), item);
            }
            let mut more = Vec::with_capacity(self.set.len() + 1);
            if let Some(t) = &self.as_type {
                more.push((&f.type_target, t.clone()));
            }
            for (t, (_, e)) in f.targets.iter().zip(&self.set) {
                match pipec_compiler::expr::eval(e, &event) {
                    Ok(v) => more.push((t, v)),
                    Err(e) => return Some(Err(e.to_string())),
                }
            }
            children.push(doc.write_with(b, &more));
        }
        Some(Ok(children))
    }

    fn children(&self, ev: &mut Ev, items: Vec<Value>) -> Result<Vec<Value>, String> {
        let mut children = Vec::with_capacity(items.len());
        for item in items {
            let Some(obj) = ev.value.as_object_mut() else {
                return Err("the event is not an object".into());
            };
            let shadowed = obj.insert("item".to_string(), item);
            let values: Result<Vec<Value>, String> = self
                .set
                .iter()
                .map(|(_, e)| pipec_compiler::expr::eval(e, &ev.value).map_err(|e| e.to_string()))
                .collect();
            if let Some(obj) = ev.value.as_object_mut() {
                match shadowed {
                    Some(v) => obj.insert("item".to_string(), v),
                    None => obj.remove("item"),
                };
            }
            let mut child = ev.value.clone();
            if let Some(t) = &self.as_type {
                fields::set(&mut child, &self.type_field, t.clone());
            }
            for ((p, _), v) in self.set.iter().zip(values?) {
                fields::set(&mut child, p, v);
            }
            children.push(child);
        }
        Ok(children)
    }
}
