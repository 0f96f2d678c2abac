//! `dedup`: an event whose key the store has seen within the TTL is a duplicate; it is
//! flagged and goes to the step's topic, the others go on.

use std::sync::Arc;

use pipec_compiler::manifest;

use super::keying::{Keying, tokens};
use super::set::FlagSet;
use super::{Builder, Scratch};
use crate::RuntimeError;
use crate::event::{Ev, fields};
use crate::store::Store;

#[derive(Debug)]
pub(crate) struct Dedup {
    keying: Keying,
    store: Arc<Store>,
    ttl_ms: u64,
    duplicates: Option<Arc<str>>,
    /// Set on duplicates (on their doc, when they are kept as bytes).
    flags: FlagSet,
}

impl Dedup {
    pub(crate) fn build(b: &Builder<'_>, d: &manifest::Dedup) -> Result<Dedup, RuntimeError> {
        Ok(Dedup {
            keying: Keying::new(&d.key, d.when.as_deref())?,
            store: b.store(&d.store)?,
            ttl_ms: d.ttl_ms,
            duplicates: d.duplicates.as_deref().map(|t| b.topic(t)).transpose()?,
            flags: FlagSet::new(fields::flags(&d.flags).map_err(RuntimeError::Internal)?),
        })
    }

    pub(crate) async fn run(
        &self,
        evs: Vec<Ev>,
        step: usize,
        s: &mut Scratch<'_>,
    ) -> Result<Vec<Ev>, RuntimeError> {
        let (keyed, keys) = self.keying.keys(evs, step, s)?;
        let seen = if keys.is_empty() {
            Vec::new()
        } else {
            let tokens = tokens(&keyed, keys.len(), step, s.positions);
            self.store.seen_or_set(&keys, &tokens, self.ttl_ms).await?
        };
        let mut out = Vec::with_capacity(keyed.len());
        for (mut ev, k) in keyed {
            if k.and_then(|k| seen.get(k).copied()).unwrap_or(false) {
                s.counters[step].duplicate += 1;
                self.flags.apply_ev(&mut ev, s.input)?;
                if let Some(t) = &self.duplicates {
                    s.send(&ev, step, std::slice::from_ref(t))?;
                }
            } else {
                out.push(ev);
            }
        }
        Ok(out)
    }
}
