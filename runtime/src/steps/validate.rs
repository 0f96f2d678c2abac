//! `validate`: events are checked against the schema of their type; invalid ones go to the
//! step's topic with the reason in `metadata.validation_error`.

use std::collections::HashMap;
use std::sync::Arc;

use jsonschema::Validator;
use pipec_compiler::expr::FieldPath;
use pipec_compiler::manifest;
use serde_json::Value;

use super::{Builder, Scratch, holds_ev, parse_when};
use crate::RuntimeError;
use crate::event::cond::Cond;
use crate::event::doc::{Look, Target};
use crate::event::raw::Kind;
use crate::event::schema::Schemas;
use crate::event::schema::{Compiled, Verdict};
use crate::event::{Ev, fields};

#[derive(Debug)]
pub(crate) struct Validate {
    job: String,
    when: Option<Cond>,
    type_field: FieldPath,
    /// By type name (or, with a schema directory, its lower-case name).
    by_type: HashMap<String, Arc<Validator>>,
    /// The same schemas compiled for events kept as bytes, those that compile.
    fast_by_type: HashMap<String, Arc<Compiled>>,
    /// The same by the type name as serde_json writes it (found by the bytes of the type
    /// field: canonical bytes of a string are what serde_json writes for its text).
    fast_by_quoted: Vec<(Vec<u8>, Arc<Compiled>)>,
    fast_default: Option<Arc<Compiled>>,
    /// The type field as a path of field names.
    type_target: Option<Arc<Target>>,
    /// Types take `<dir><lower(type)>.json`, else `default`.
    dir_mode: bool,
    default: Option<Arc<Validator>>,
    invalid: Arc<str>,
    flags: Vec<(FieldPath, Value)>,
    valid_flags: super::set::FlagSet,
}

impl Validate {
    pub(crate) fn build(
        b: &Builder<'_>,
        job: &str,
        v: &manifest::Validate,
        schemas: &mut Schemas,
    ) -> Result<Validate, RuntimeError> {
        let mut by_type = HashMap::new();
        let mut fast_by_type = HashMap::new();
        let mut fast_default = None;
        let mut default = None;
        match &v.schema_dir {
            Some(dir) => {
                for t in b.manifest.event_types.keys() {
                    let lower = t.to_lowercase();
                    let id = format!("{dir}{lower}.json");
                    if schemas.contains(&id) {
                        by_type.insert(lower.clone(), schemas.get(&id)?);
                        if let Some(f) = schemas.fast(&id) {
                            fast_by_type.insert(lower, f);
                        }
                    }
                }
                if let Some(d) = &v.default {
                    default = Some(schemas.get(d)?);
                    fast_default = schemas.fast(d);
                }
            }
            None => {
                for (t, def) in &b.manifest.event_types {
                    if let Some(id) = &def.schema {
                        by_type.insert(t.clone(), schemas.get(id)?);
                        if let Some(f) = schemas.fast(id) {
                            fast_by_type.insert(t.clone(), f);
                        }
                    }
                }
            }
        }
        let internal = RuntimeError::Internal;
        let type_field = b.type_field()?;
        let fast_by_quoted = fast_by_type
            .iter()
            .map(|(t, c)| (crate::event::raw::quoted(t), c.clone()))
            .collect();
        Ok(Validate {
            job: job.to_string(),
            when: parse_when(v.when.as_deref())?,
            type_target: Target::new(&type_field),
            type_field,
            by_type,
            fast_by_type,
            fast_by_quoted,
            fast_default,
            dir_mode: v.schema_dir.is_some(),
            default,
            invalid: b.topic(&v.invalid)?,
            flags: fields::flags(&v.flags).map_err(internal)?,
            valid_flags: super::set::FlagSet::new(fields::flags(&v.valid_flags).map_err(internal)?),
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
            match holds_ev(self.when.as_ref(), &mut ev, s.input)? {
                Ok(false) => {
                    out.push(ev);
                    continue;
                }
                Ok(true) => {}
                Err(e) => {
                    s.error(ev, step, &e)?;
                    continue;
                }
            }
            if self.valid_as_bytes(&mut ev, s.input) {
                self.valid_flags.apply_ev(&mut ev, s.input)?;
                out.push(ev);
                continue;
            }
            ev.materialize(s.input)?;
            match self.check(&ev.value) {
                None => {
                    fields::set_flags(&mut ev.value, &self.valid_flags.list);
                    out.push(ev);
                }
                Some(reason) => {
                    s.counters[step].invalid += 1;
                    fields::set_flags(&mut ev.value, &self.flags);
                    fields::set_metadata(&mut ev.value, "validation_error", &reason, &self.job);
                    s.send(&ev, step, std::slice::from_ref(&self.invalid))?;
                }
            }
        }
        Ok(out)
    }

    /// Whether the event, kept as bytes, is surely valid (else it is checked on its tree,
    /// which gives the verdict and the reason).
    fn valid_as_bytes(&self, ev: &mut Ev, input: &[&[u8]]) -> bool {
        let Some(t) = &self.type_target else {
            return false;
        };
        let Some((b, doc)) = ev.doc_parts(input) else {
            return false;
        };
        if doc.edited() {
            return false;
        }
        let Look::Node(i) = doc.get(b, t) else {
            return false;
        };
        let tape = doc.tape();
        let Some(n) = tape.get(i).filter(|n| n.kind == Kind::String) else {
            return false;
        };
        let quoted = &b[n.start as usize..n.end as usize];
        let compiled = if self.dir_mode {
            let Some(ty) = crate::event::raw::text(quoted) else {
                return false;
            };
            // The fast schema must be the one jsonschema would use.
            let lower = ty.to_lowercase();
            if self.by_type.contains_key(&lower) {
                self.fast_by_type.get(&lower)
            } else {
                self.fast_default.as_ref()
            }
        } else {
            self.fast_by_quoted
                .iter()
                .find(|(q, _)| q.as_slice() == quoted)
                .map(|(_, c)| c)
        };
        compiled.is_some_and(|c| c.check(tape, b, 0) == Verdict::Valid)
    }

    /// Why the event is invalid, if it is.
    fn check(&self, event: &Value) -> Option<String> {
        let Some(ty) = pipec_compiler::expr::eval::lookup(event, &self.type_field) else {
            return Some(format!(
                "no `{}` field: the event type is unknown",
                self.type_field_name()
            ));
        };
        let Some(ty) = ty.as_str() else {
            return Some(format!("`{}` is not a string", self.type_field_name()));
        };
        let validator = if self.dir_mode {
            self.by_type
                .get(&ty.to_lowercase())
                .or(self.default.as_ref())
        } else {
            self.by_type.get(ty)
        };
        let Some(validator) = validator else {
            return Some(format!("no schema for event type `{ty}`"));
        };
        // Most events are valid: the boolean check is cheaper than building an error.
        if validator.is_valid(event) {
            return None;
        }
        match validator.validate(event) {
            Ok(()) => None,
            Err(e) => {
                let at = e.instance_path().to_string();
                Some(if at.is_empty() {
                    e.to_string()
                } else {
                    format!("{at}: {e}")
                })
            }
        }
    }

    fn type_field_name(&self) -> String {
        self.type_field
            .prefix_string(self.type_field.segments.len())
    }
}
