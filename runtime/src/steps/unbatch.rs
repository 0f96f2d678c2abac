//! `unbatch`: a batch envelope becomes its events, each carrying fields computed from the
//! batch; a record without an event list, and events over the size limit, are set aside.

use std::sync::Arc;

use pipec_compiler::expr::{Expr, FieldPath};
use pipec_compiler::manifest;
use serde_json::Value;

use super::{Builder, Scratch};
use crate::RuntimeError;
use crate::event::{Ev, Raw, fields, raw};

#[derive(Debug)]
pub(crate) struct Unbatch {
    field: String,
    carry: Vec<(FieldPath, Expr)>,
    invalid: Option<Arc<str>>,
    /// Whether a batch without its list (or `null` there) is a batch of no events.
    missing_is_empty: bool,
    max_event_size: Option<u64>,
    oversized: Option<Arc<str>>,
    oversized_flags: Vec<(FieldPath, Value)>,
    /// The list's name as a quoted key.
    field_key: Vec<u8>,
    /// The carried fields as quoted keys, when each is a top-level field: then they are
    /// set on the events' bytes.
    carry_keys: Option<Vec<Vec<u8>>>,
    /// Whether a carried expression reads the list (then the batch is read as a tree).
    carry_reads_list: bool,
    /// The event sent for each batch with an event list.
    summary: Option<Summary>,
}

/// `unbatch.summary`.
#[derive(Debug)]
struct Summary {
    to: Arc<str>,
    event: Value,
    set: Vec<(FieldPath, Expr)>,
}

impl Unbatch {
    pub(crate) fn build(b: &Builder<'_>, u: &manifest::Unbatch) -> Result<Unbatch, String> {
        let topic = |t: &Option<String>| {
            t.as_deref()
                .map(|t| b.topic(t))
                .transpose()
                .map_err(|e| e.to_string())
        };
        let summary = match &u.summary {
            Some(sm) => Some(Summary {
                to: b.topic(&sm.to).map_err(|e| e.to_string())?,
                event: sm.event.clone(),
                set: fields::assignments(&sm.set)?,
            }),
            None => None,
        };
        let carry = fields::assignments(&u.carry)?;
        let carry_keys = carry
            .iter()
            .map(|(p, _)| match raw::field_keys(p) {
                Some(mut k) if k.len() == 1 => k.pop(),
                _ => None,
            })
            .collect();
        let carry_reads_list = carry.iter().any(|(_, e)| reads_field(e, &u.field));
        Ok(Unbatch {
            field_key: raw::quoted(&u.field),
            carry_keys,
            carry_reads_list,
            field: u.field.clone(),
            carry,
            invalid: topic(&u.invalid)?,
            missing_is_empty: u.missing_is_empty,
            max_event_size: u.max_event_size,
            oversized: topic(&u.oversized)?,
            oversized_flags: fields::flags(&u.oversized_flags)?,
            summary,
        })
    }

    pub(crate) fn run(
        &self,
        evs: Vec<Ev>,
        step: usize,
        s: &mut Scratch<'_>,
    ) -> Result<Vec<Ev>, RuntimeError> {
        let mut out = Vec::with_capacity(evs.len() * 8);
        for mut batch in evs {
            if batch.raw.is_some() && !self.carry_reads_list {
                self.run_raw(batch, step, s, &mut out)?;
                continue;
            }
            batch.materialize(s.input)?;
            self.run_tree(batch, step, s, &mut out)?;
        }
        Ok(out)
    }

    /// The fields carried from the batch, computed against `envelope`, or why not.
    fn carried<'c>(&'c self, envelope: &Value) -> Result<Vec<(&'c FieldPath, Value)>, String> {
        let mut carried = Vec::with_capacity(self.carry.len());
        let mut failed = None;
        for (p, e) in &self.carry {
            match pipec_compiler::expr::eval(e, envelope) {
                Ok(v) => carried.push((p, v)),
                Err(e) => failed = Some(e.to_string()),
            }
        }
        match failed {
            Some(reason) => Err(reason),
            None => Ok(carried),
        }
    }

    /// Whether any event can be over the limit: not when the whole record plus what is
    /// carried fits.
    fn check_size(&self, record_len: usize, carried: &[(&FieldPath, Value)]) -> bool {
        self.max_event_size.is_some_and(|max| {
            let carry_len: usize = carried
                .iter()
                .map(|(p, v)| p.prefix_string(p.segments.len()).len() + v.to_string().len() + 8)
                .sum();
            (record_len + carry_len) as u64 > max
        })
    }

    /// A batch kept as bytes: its events are cut out of the list and the carried fields
    /// set on their bytes; only the envelope's other members are parsed (for `carry`).
    fn run_raw(
        &self,
        mut batch: Ev,
        step: usize,
        s: &mut Scratch<'_>,
        out: &mut Vec<Ev>,
    ) -> Result<(), RuntimeError> {
        let input = s.input;
        let owned = match batch.raw.take() {
            Some(Raw::Owned(b)) => Some(b),
            _ => None,
        };
        let bytes: &[u8] = match &owned {
            Some(b) => b,
            None => input.get(batch.input as usize).copied().unwrap_or_default(),
        };
        let split = match &batch.shape {
            Some(shape) if owned.is_none() => shape.split(bytes, &self.field_key),
            _ => raw::split(bytes, &self.field_key),
        };
        let Some((list, elements)) = split.list else {
            let absent = split
                .others
                .iter()
                .find(|(k, _)| *k == self.field_key.as_slice())
                .is_none_or(|(_, v)| *v == b"null");
            if self.missing_is_empty && absent {
                // A batch of no events: read as a tree, where the summary is built.
                batch.raw = Some(owned.map_or(Raw::Record, Raw::Owned));
                batch.materialize(s.input)?;
                return self.run_tree(batch, step, s, out);
            }
            self.reject(&batch, step, s);
            return Ok(());
        };
        // The bits of the key words of each event's members, as the check of the batch
        // found them.
        let member_keys = match &batch.shape {
            Some(shape) if owned.is_none() => shape
                .list_keys(bytes, &self.field_key)
                .filter(|per| per.len() == elements.len()),
            _ => None,
        };
        // The envelope's other members, parsed only when something reads them.
        let envelope = if self.carry.is_empty() && self.summary.is_none() {
            None
        } else {
            let mut envelope = serde_json::Map::new();
            for (k, v) in split.others {
                let key: String = serde_json::from_slice(k).map_err(internal)?;
                let value: Value = serde_json::from_slice(v).map_err(internal)?;
                envelope.insert(key, value);
            }
            Some(Value::Object(envelope))
        };
        let carried = match (&envelope, self.carry.is_empty()) {
            (Some(env), false) => match self.carried(env) {
                Ok(c) => c,
                Err(reason) => {
                    batch.raw = Some(owned.map_or(Raw::Record, Raw::Owned));
                    s.error(batch, step, &reason)?;
                    return Ok(());
                }
            },
            _ => Vec::new(),
        };
        let count = elements.len();
        let check_size = self.check_size(input[batch.input as usize].len(), &carried);
        let values: Vec<Vec<u8>> = carried
            .iter()
            .map(|(_, v)| serde_json::to_vec(v).map_err(internal))
            .collect::<Result<_, _>>()?;
        let keys: Option<raw::MemberSets<'_>> = self.carry_keys.as_ref().map(|ks| {
            raw::MemberSets::new(
                ks.iter()
                    .zip(&values)
                    .map(|(k, v)| (k.as_slice(), v.as_slice()))
                    .collect(),
            )
        });
        for (j, r) in elements.into_iter().enumerate() {
            let sub = u32::try_from(j).unwrap_or(u32::MAX);
            let event = &list[r];
            match &keys {
                Some(keys) if event.first() == Some(&b'{') => {
                    let bits = member_keys.and_then(|per| per.get(j).copied());
                    let bytes = if self.carry.is_empty() {
                        event.to_vec()
                    } else if let Some(bits) = bits.filter(|&b| b != 0) {
                        keys.apply_with_keys(event, bits)
                    } else {
                        keys.apply(event)
                    };
                    let ev = Ev {
                        value: Value::Null,
                        raw: Some(Raw::Owned(bytes)),
                        doc: None,
                        shape: None,
                        input: batch.input,
                        sub,
                    };
                    self.size_checked(ev, check_size, step, s, out)?;
                }
                _ => {
                    let value: Value = serde_json::from_slice(event).map_err(internal)?;
                    if value.is_object() {
                        self.event(value, &carried, check_size, batch.input, sub, step, s, out)?;
                    } else {
                        let kind = crate::job::json_kind(&value);
                        self.not_an_event(event.to_vec(), kind, batch.input, sub, step, s);
                    }
                }
            }
        }
        if let Some(env) = envelope {
            self.summarize(env, count, batch.input, step, s)?;
        }
        Ok(())
    }

    /// The batch's summary event, when the step has one: `event` with `set` computed on the
    /// batch's fields other than the list, plus `events_count`. It follows the batch's events.
    fn summarize(
        &self,
        mut envelope: Value,
        count: usize,
        input: u32,
        step: usize,
        s: &mut Scratch<'_>,
    ) -> Result<(), RuntimeError> {
        let Some(sm) = &self.summary else {
            return Ok(());
        };
        if let Some(o) = envelope.as_object_mut() {
            o.remove(&self.field);
            o.insert("events_count".into(), Value::from(count));
        }
        let mut event = sm.event.clone();
        for (p, e) in &sm.set {
            match pipec_compiler::expr::eval(e, &envelope) {
                Ok(v) => fields::set(&mut event, p, v),
                Err(err) => {
                    // The batch's events went on; the summary alone is in error.
                    let ev = Ev::tree(event, input, u32::MAX);
                    return s.error(ev, step, &format!("summary: {err}"));
                }
            }
        }
        s.counters[step].sent += 1;
        let ev = Ev::tree(event, input, u32::MAX);
        s.send(&ev, step, std::slice::from_ref(&sm.to))
    }

    fn run_tree(
        &self,
        mut batch: Ev,
        step: usize,
        s: &mut Scratch<'_>,
        out: &mut Vec<Ev>,
    ) -> Result<(), RuntimeError> {
        let list = batch.value.get(&self.field);
        let empty = self.missing_is_empty && list.is_none_or(Value::is_null);
        if !list.is_some_and(Value::is_array) && !empty {
            self.reject(&batch, step, s);
            return Ok(());
        }
        let carried = match self.carried(&batch.value) {
            Ok(c) => c,
            Err(reason) => return s.error(batch, step, &reason),
        };
        let check_size = self.check_size(s.input[batch.input as usize].len(), &carried);
        let list = match batch
            .value
            .as_object_mut()
            .and_then(|o| o.remove(&self.field))
        {
            Some(Value::Array(list)) => list,
            _ => Vec::new(),
        };
        let count = list.len();
        for (j, value) in list.into_iter().enumerate() {
            let sub = u32::try_from(j).unwrap_or(u32::MAX);
            self.event(value, &carried, check_size, batch.input, sub, step, s, out)?;
        }
        if self.summary.is_some() {
            self.summarize(batch.value, count, batch.input, step, s)?;
        }
        Ok(())
    }

    /// One event of a batch, as a tree.
    #[allow(clippy::too_many_arguments)]
    fn event(
        &self,
        mut value: Value,
        carried: &[(&FieldPath, Value)],
        check_size: bool,
        input: u32,
        sub: u32,
        step: usize,
        s: &mut Scratch<'_>,
        out: &mut Vec<Ev>,
    ) -> Result<(), RuntimeError> {
        if !value.is_object() {
            let bytes = super::serialize(&value)?;
            self.not_an_event(bytes, crate::job::json_kind(&value), input, sub, step, s);
            return Ok(());
        }
        for (p, v) in carried {
            fields::set(&mut value, p, v.clone());
        }
        self.size_checked(Ev::tree(value, input, sub), check_size, step, s, out)
    }

    /// An item of the list that is no event (not an object) goes to `invalid` as it came:
    /// nothing is set on it (a field set on `"x"` would replace it).
    fn not_an_event(
        &self,
        bytes: Vec<u8>,
        kind: &str,
        input: u32,
        sub: u32,
        step: usize,
        s: &mut Scratch<'_>,
    ) {
        s.counters[step].invalid += 1;
        s.rejected.push(super::Rejected {
            input: input as usize,
            step,
            reason: format!(
                "item {sub} of the `{}` list is {kind}, not an object",
                self.field
            ),
        });
        if let Some(t) = &self.invalid {
            s.push(&Ev::tree(Value::Null, input, sub), step, t, bytes);
        }
    }

    /// Sets an event over the size limit aside, else passes it on.
    fn size_checked(
        &self,
        mut ev: Ev,
        check_size: bool,
        step: usize,
        s: &mut Scratch<'_>,
        out: &mut Vec<Ev>,
    ) -> Result<(), RuntimeError> {
        if check_size {
            let len = match ev.raw_bytes(s.input) {
                Some(b) => b.len(),
                None => super::serialize(&ev.value)?.len(),
            };
            if self.max_event_size.is_some_and(|max| len as u64 > max) {
                s.counters[step].oversized += 1;
                ev.materialize(s.input)?;
                fields::set_flags(&mut ev.value, &self.oversized_flags);
                if let Some(t) = &self.oversized {
                    s.send(&ev, step, std::slice::from_ref(t))?;
                }
                return Ok(());
            }
        }
        out.push(ev);
        Ok(())
    }

    /// A record without an event list goes to `invalid` as it came.
    fn reject(&self, batch: &Ev, step: usize, s: &mut Scratch<'_>) {
        s.counters[step].invalid += 1;
        s.rejected.push(super::Rejected {
            input: batch.input as usize,
            step,
            reason: format!("no `{}` list of events", self.field),
        });
        if let Some(t) = &self.invalid {
            let raw = s.input[batch.input as usize].to_vec();
            s.push(batch, step, t, raw);
        }
    }
}

fn internal(e: serde_json::Error) -> RuntimeError {
    RuntimeError::Internal(format!("re-reading a batch: {e}"))
}

/// Whether the expression reads a path starting at field `name`.
fn reads_field(e: &Expr, name: &str) -> bool {
    use pipec_compiler::expr::{ExprKind, PathSegment};
    match &e.kind {
        ExprKind::Literal(_) => false,
        ExprKind::Path(p) => {
            matches!(p.segments.first(), Some(PathSegment::Field { name: n, .. }) if n == name)
        }
        ExprKind::List(items) => items.iter().any(|i| reads_field(i, name)),
        ExprKind::Unary { expr, .. } => reads_field(expr, name),
        ExprKind::Binary { lhs, rhs, .. } => reads_field(lhs, name) || reads_field(rhs, name),
        ExprKind::Call { args, .. } => args.iter().any(|a| reads_field(a, name)),
    }
}
