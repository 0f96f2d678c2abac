//! `filter`, `route` and `explode`: steps that decide where events go.

use std::sync::Arc;

use pipec_compiler::expr::{Expr, FieldPath, PathSegment};
use pipec_compiler::manifest;
use serde_json::Value;

use super::doc::Target;
use super::raw::Kind;
use super::{Builder, Ev, Raw, Scratch, fields, holds, holds_ev, parse, parse_when, raw};
use crate::RuntimeError;

#[derive(Debug)]
pub(super) struct Filter {
    when: super::Cond,
    otherwise: Option<Arc<str>>,
    flags: Vec<(FieldPath, Value)>,
}

impl Filter {
    pub(super) fn build(b: &Builder<'_>, f: &manifest::Filter) -> Result<Filter, RuntimeError> {
        Ok(Filter {
            when: super::parse_cond(&f.when)?,
            otherwise: f.otherwise.as_deref().map(|t| b.topic(t)).transpose()?,
            flags: fields::flags(&f.flags).map_err(RuntimeError::Internal)?,
        })
    }

    pub(super) fn run(
        &self,
        evs: Vec<Ev>,
        step: usize,
        s: &mut Scratch<'_>,
    ) -> Result<Vec<Ev>, RuntimeError> {
        let mut out = Vec::with_capacity(evs.len());
        for mut ev in evs {
            match holds(Some(&self.when), &ev.value) {
                Ok(true) => out.push(ev),
                Ok(false) => {
                    s.counters[step].filtered += 1;
                    if let Some(t) = &self.otherwise {
                        fields::set_flags(&mut ev.value, &self.flags);
                        s.send(&ev, step, std::slice::from_ref(t))?;
                    }
                }
                Err(e) => s.error(ev, step, &e)?,
            }
        }
        Ok(out)
    }
}

#[derive(Debug)]
struct Rule {
    /// `None`: the `else` rule, matching every event that reaches it.
    when: Option<super::Cond>,
    to: Vec<Arc<str>>,
    set: Vec<(FieldPath, Expr)>,
    continue_: bool,
}

#[derive(Debug)]
pub(super) struct Route {
    rules: Vec<Rule>,
    /// Whether no event goes past the route (some rule stops).
    terminal: bool,
    /// The quoted keys of the distinct paths the rules' fast tests read: each is read from
    /// an event's bytes at most once for all rules.
    paths: Vec<Vec<Vec<u8>>>,
    /// Per path, whether it starts with a `$` field (the job's own, see [`super::Job`]):
    /// bytes without `"$` in them have none, and need not be searched for it.
    local: Vec<bool>,
    /// Per rule, the index in `paths` of what its fast test reads.
    rule_path: Vec<Option<usize>>,
}

impl Route {
    pub(super) fn build(b: &Builder<'_>, r: &manifest::Route) -> Result<Route, RuntimeError> {
        let rules = r
            .rules
            .iter()
            .map(|r| {
                Ok(Rule {
                    when: parse_when(r.when.as_deref())?,
                    to: b.topics(&r.to)?,
                    set: fields::assignments(&r.set).map_err(RuntimeError::Internal)?,
                    continue_: r.continue_,
                })
            })
            .collect::<Result<Vec<_>, RuntimeError>>()?;
        let mut paths: Vec<Vec<Vec<u8>>> = Vec::new();
        let rule_path = rules
            .iter()
            .map(|r| {
                let keys = r.when.as_ref()?.raw_keys()?;
                Some(match paths.iter().position(|p| p.as_slice() == keys) {
                    Some(i) => i,
                    None => {
                        paths.push(keys.to_vec());
                        paths.len() - 1
                    }
                })
            })
            .collect();
        let local = paths
            .iter()
            .map(|p| p.first().is_some_and(|k| k.starts_with(b"\"$")))
            .collect();
        Ok(Route {
            terminal: !rules.iter().all(|r| r.continue_),
            rules,
            paths,
            local,
            rule_path,
        })
    }

    /// Each rule is tried in order; a match sends the event (with the rule's `set`
    /// applied to a copy) to the rule's topics and, unless the rule continues, ends the
    /// route. As the compiler's flow check has it, an `else` rule matches whatever reaches
    /// it, i.e. what no earlier stopping rule took.
    pub(super) fn run(
        &self,
        evs: Vec<Ev>,
        step: usize,
        s: &mut Scratch<'_>,
    ) -> Result<Vec<Ev>, RuntimeError> {
        let mut out = Vec::with_capacity(if self.terminal { 0 } else { evs.len() });
        // Per path, what is at it in the event's bytes (where, or absent), once read.
        let mut found: Vec<Option<Option<(usize, usize)>>> = vec![None; self.paths.len()];
        'events: for mut ev in evs {
            let mut matched = false;
            found.fill(None);
            let mut has_local: Option<bool> = None;
            for (rule, path) in self.rules.iter().zip(&self.rule_path) {
                let holds = match (&rule.when, *path, ev.raw_bytes(s.input)) {
                    (Some(c), Some(i), Some(b)) => {
                        let at = *found[i].get_or_insert_with(|| {
                            let none = self.local[i]
                                && !*has_local.get_or_insert_with(|| {
                                    memchr::memmem::find(b, b"\"$").is_some()
                                });
                            if none {
                                return None;
                            }
                            raw::lookup(b, &self.paths[i]).map(|v| {
                                let start = v.as_ptr() as usize - b.as_ptr() as usize;
                                (start, start + v.len())
                            })
                        });
                        match c.holds_found(at.and_then(|(x, y)| b.get(x..y))) {
                            Some(r) => r,
                            None => holds_ev(rule.when.as_ref(), &mut ev, s.input)?,
                        }
                    }
                    _ => holds_ev(rule.when.as_ref(), &mut ev, s.input)?,
                };
                match holds {
                    Ok(true) => {}
                    Ok(false) => continue,
                    Err(e) => {
                        s.error(ev, step, &e)?;
                        continue 'events;
                    }
                }
                matched = true;
                if rule.set.is_empty() && !rule.continue_ {
                    // The event goes no further.
                    s.send_last(&mut ev, step, &rule.to)?;
                } else if rule.set.is_empty() {
                    s.send(&ev, step, &rule.to)?;
                } else {
                    ev.materialize(s.input)?;
                    let mut copy = Ev::tree(ev.value.clone(), ev.input, ev.sub);
                    // The rule's fields are computed against the event as it reached the route.
                    for (p, e) in &rule.set {
                        match pipec_compiler::expr::eval(e, &ev.value) {
                            Ok(v) => fields::set(&mut copy.value, p, v),
                            Err(e) => {
                                s.error(ev, step, &e.to_string())?;
                                continue 'events;
                            }
                        }
                    }
                    s.send(&copy, step, &rule.to)?;
                }
                if !rule.continue_ {
                    s.counters[step].sent += 1;
                    continue 'events;
                }
            }
            if self.terminal {
                if matched {
                    s.counters[step].sent += 1;
                } else {
                    s.counters[step].unrouted += 1;
                }
            } else {
                out.push(ev);
            }
        }
        Ok(out)
    }
}

#[derive(Debug)]
pub(super) struct Explode {
    when: Option<super::Cond>,
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
    pub(super) fn build(b: &Builder<'_>, e: &manifest::Explode) -> Result<Explode, RuntimeError> {
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
    pub(super) fn run(
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
