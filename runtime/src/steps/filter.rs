//! `filter`: events for which the condition does not hold go no further (or, flagged, to
//! the step's topic).

use std::sync::Arc;

use pipec_compiler::expr::FieldPath;
use pipec_compiler::manifest;
use serde_json::Value;

use super::{Builder, Scratch, holds, parse_cond};
use crate::RuntimeError;
use crate::event::cond::Cond;
use crate::event::{Ev, fields};

#[derive(Debug)]
pub(crate) struct Filter {
    when: Cond,
    otherwise: Option<Arc<str>>,
    flags: Vec<(FieldPath, Value)>,
}

impl Filter {
    pub(crate) fn build(b: &Builder<'_>, f: &manifest::Filter) -> Result<Filter, RuntimeError> {
        Ok(Filter {
            when: parse_cond(&f.when)?,
            otherwise: f.otherwise.as_deref().map(|t| b.topic(t)).transpose()?,
            flags: fields::flags(&f.flags).map_err(RuntimeError::Internal)?,
        })
    }

    pub(crate) fn run(
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
