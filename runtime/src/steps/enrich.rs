//! `enrich`: the record a lookup store holds under the event's key is set on the event
//! (whole, or the fields asked for), with a flag saying whether one was found.

use std::sync::Arc;

use pipec_compiler::expr::FieldPath;
use pipec_compiler::manifest;
use serde_json::{Map, Value};

use super::keying::Keying;
use super::{Builder, Scratch};
use crate::RuntimeError;
use crate::event::{Ev, fields};
use crate::store::Store;

#[derive(Debug)]
pub(crate) struct Enrich {
    keying: Keying,
    store: Arc<Store>,
    into: FieldPath,
    flag: Option<FieldPath>,
    fields: Vec<String>,
}

impl Enrich {
    pub(crate) fn build(b: &Builder<'_>, e: &manifest::Enrich) -> Result<Enrich, RuntimeError> {
        let path = |p: &str| fields::path(p).map_err(RuntimeError::Internal);
        Ok(Enrich {
            keying: Keying::new(&e.key, e.when.as_deref())?,
            store: b.store(&e.store)?,
            into: path(&e.into)?,
            flag: e.flag.as_deref().map(path).transpose()?,
            fields: e.fields.clone(),
        })
    }

    pub(crate) async fn run(
        &self,
        evs: Vec<Ev>,
        step: usize,
        s: &mut Scratch<'_>,
    ) -> Result<Vec<Ev>, RuntimeError> {
        // Events kept as bytes stay so unless something is set on them.
        let (keyed, keys) = self.keying.keys(evs, step, s)?;
        let mut found = if keys.is_empty() {
            Vec::new()
        } else {
            self.store.lookup(&keys).await?
        };
        let mut out = Vec::with_capacity(keyed.len());
        for (mut ev, k) in keyed {
            if let Some(k) = k {
                let record = found.get_mut(k).and_then(Option::take);
                if record.is_some() {
                    s.counters[step].hits += 1;
                } else {
                    s.counters[step].misses += 1;
                }
                if self.flag.is_some() || record.is_some() {
                    ev.materialize(s.input)?;
                }
                if let Some(f) = &self.flag {
                    fields::set(&mut ev.value, f, Value::Bool(record.is_some()));
                }
                if let Some(r) = record {
                    fields::set(&mut ev.value, &self.into, self.pick(r));
                }
            }
            out.push(ev);
        }
        Ok(out)
    }

    /// The record, or the chosen fields of it.
    fn pick(&self, record: Value) -> Value {
        match record {
            Value::Object(mut m) if !self.fields.is_empty() => {
                let picked: Map<String, Value> = self
                    .fields
                    .iter()
                    .filter_map(|f| m.remove(f).map(|v| (f.clone(), v)))
                    .collect();
                Value::Object(picked)
            }
            other => other,
        }
    }
}
