//! `route`: rules tried in order send each event to their topics (with fields set), and a
//! terminal route's matched events go no further.

use std::sync::Arc;

use pipec_compiler::expr::{Expr, FieldPath};
use pipec_compiler::manifest;

use super::{Builder, Scratch, holds_ev, parse_when};
use crate::RuntimeError;
use crate::event::cond::Cond;
use crate::event::{Ev, fields, raw};

#[derive(Debug)]
struct Rule {
    /// `None`: the `else` rule, matching every event that reaches it.
    when: Option<Cond>,
    to: Vec<Arc<str>>,
    set: Vec<(FieldPath, Expr)>,
    continue_: bool,
}

#[derive(Debug)]
pub(crate) struct Route {
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
    pub(crate) fn build(b: &Builder<'_>, r: &manifest::Route) -> Result<Route, RuntimeError> {
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
    pub(crate) fn run(
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
