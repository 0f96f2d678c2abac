//! `unbatch`: a batch envelope becomes its events, each carrying fields computed from the
//! batch; a record without an event list, and events over the size limit, are set aside.

use std::sync::Arc;

use pipec_compiler::expr::{Expr, FieldPath};
use pipec_compiler::manifest;
use serde_json::Value;

use super::{Builder, Ev, Scratch, fields};
use crate::RuntimeError;

#[derive(Debug)]
pub(super) struct Unbatch {
    field: String,
    carry: Vec<(FieldPath, Expr)>,
    invalid: Option<Arc<str>>,
    max_event_size: Option<u64>,
    oversized: Option<Arc<str>>,
    oversized_flags: Vec<(FieldPath, Value)>,
}

impl Unbatch {
    pub(super) fn build(b: &Builder<'_>, u: &manifest::Unbatch) -> Result<Unbatch, String> {
        let topic = |t: &Option<String>| {
            t.as_deref()
                .map(|t| b.topic(t))
                .transpose()
                .map_err(|e| e.to_string())
        };
        if u.summary.is_some() {
            return Err("`unbatch.summary` is not supported by this runtime yet".into());
        }
        Ok(Unbatch {
            field: u.field.clone(),
            carry: fields::assignments(&u.carry)?,
            invalid: topic(&u.invalid)?,
            max_event_size: u.max_event_size,
            oversized: topic(&u.oversized)?,
            oversized_flags: fields::flags(&u.oversized_flags)?,
        })
    }

    pub(super) fn run(
        &self,
        evs: Vec<Ev>,
        step: usize,
        s: &mut Scratch<'_>,
    ) -> Result<Vec<Ev>, RuntimeError> {
        let mut out = Vec::with_capacity(evs.len() * 8);
        for mut batch in evs {
            let has_list = batch.value.get(&self.field).is_some_and(Value::is_array);
            if !has_list {
                self.reject(&batch, step, s);
                continue;
            }
            let mut carried = Vec::with_capacity(self.carry.len());
            let mut failed = None;
            for (p, e) in &self.carry {
                match pipec_compiler::expr::eval(e, &batch.value) {
                    Ok(v) => carried.push((p, v)),
                    Err(e) => failed = Some(e.to_string()),
                }
            }
            if let Some(reason) = failed {
                s.error(batch, step, &reason)?;
                continue;
            }
            // Whether any event can be over the limit: not when the whole record plus
            // what is carried fits.
            let check_size = self.max_event_size.is_some_and(|max| {
                let carry_len: usize = carried
                    .iter()
                    .map(|(p, v)| p.prefix_string(p.segments.len()).len() + v.to_string().len() + 8)
                    .sum();
                (s.input[batch.input as usize].len() + carry_len) as u64 > max
            });
            let list = match batch
                .value
                .as_object_mut()
                .and_then(|o| o.remove(&self.field))
            {
                Some(Value::Array(list)) => list,
                _ => Vec::new(),
            };
            for (j, mut value) in list.into_iter().enumerate() {
                let ev_sub = u32::try_from(j).unwrap_or(u32::MAX);
                for (p, v) in &carried {
                    fields::set(&mut value, p, v.clone());
                }
                let ev = Ev {
                    value,
                    input: batch.input,
                    sub: ev_sub,
                };
                if !ev.value.is_object() {
                    s.counters[step].invalid += 1;
                    if let Some(t) = &self.invalid {
                        s.send(&ev, step, std::slice::from_ref(t))?;
                    }
                    continue;
                }
                if check_size {
                    let bytes = super::serialize(&ev.value)?;
                    if self
                        .max_event_size
                        .is_some_and(|max| bytes.len() as u64 > max)
                    {
                        let mut ev = ev;
                        s.counters[step].oversized += 1;
                        fields::set_flags(&mut ev.value, &self.oversized_flags);
                        if let Some(t) = &self.oversized {
                            s.send(&ev, step, std::slice::from_ref(t))?;
                        }
                        continue;
                    }
                }
                out.push(ev);
            }
        }
        Ok(out)
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
