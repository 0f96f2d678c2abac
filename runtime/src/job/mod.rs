//! A stream job: the source topic's records go through the job's steps ([`crate::steps`]),
//! in order, and come out as records for its output topics. A batch is processed step by
//! step, so that a store is called once per step and batch; outputs are put back in input
//! order.

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_hostile;
#[cfg(test)]
mod tests_raw;
#[cfg(test)]
mod tests_replay;
#[cfg(test)]
mod tests_window;

use std::collections::HashMap;
use std::sync::Arc;

use pipec_compiler::manifest::{Manifest, Step};
use serde_json::Value;

use crate::RuntimeError;
use crate::event::schema::Schemas;
use crate::event::{Ev, Raw, doc, fields, parse_record, raw};
use crate::steps::{
    Builder, Op, Outlet, Scratch, dedup, enrich, explode, filter, route, set, unbatch, validate,
    window,
};
pub use crate::steps::{Rejected, StepCounters};
use crate::store::Store;

/// What processing a batch produced.
#[derive(Debug, Default)]
pub struct Output {
    /// `(topic key, serialized event)`, in input order, then step order.
    pub records: Vec<(Arc<str>, Vec<u8>)>,
    /// With [`Job::process_at`]: per record, the position token of the input record it came
    /// from (0: none, as for window aggregates), so that a transport can tell the outputs
    /// of a record consumed again from others. Empty otherwise.
    pub sources: Vec<u64>,
    /// Counters per step index, added to on every call.
    pub counters: Vec<StepCounters>,
    /// Why records went to a dead-letter topic as they came (unparsable, no event list):
    /// their bytes cannot carry the reason, so a transport may put it in a header.
    pub rejected: Vec<Rejected>,
}

/// A job ready to process batches.
#[derive(Debug)]
pub struct Job {
    source: Arc<str>,
    outputs: Vec<Arc<str>>,
    steps: Vec<Op>,
    /// Its name, dead-letter topic and whether it has `$` fields, for the steps.
    outlet: Outlet,
    /// Whether records are kept as bytes: when the steps before the first that needs the
    /// tree split them or send them (else checking the bytes would only add to the parse).
    /// Off in tests comparing with the tree path.
    keep_raw: bool,
    /// Whether records kept as bytes are read into a [`doc::Doc`] (the first step takes
    /// one) rather than a [`raw::Shape`].
    read_doc: bool,
}

impl Job {
    /// Builds job `name` of `manifest`: parses its expressions, compiles its schemas and
    /// resolves its topics and stores (`stores`, by name).
    pub fn build(
        name: &str,
        manifest: &Manifest,
        stores: &HashMap<String, Arc<Store>>,
    ) -> Result<Job, RuntimeError> {
        let def = manifest
            .jobs
            .get(name)
            .ok_or_else(|| RuntimeError::Internal(format!("no job `{name}` in the manifest")))?;
        let b = Builder { manifest, stores };
        let mut schemas = Schemas::new(manifest)?;
        let mut steps = Vec::with_capacity(def.steps.len());
        let mut dead_letter = None;
        for (i, step) in def.steps.iter().enumerate() {
            let at = |e: String| RuntimeError::Internal(format!("job `{name}` step {i}: {e}"));
            steps.push(match step {
                Step::Unbatch(u) => {
                    if dead_letter.is_none() {
                        dead_letter = u.invalid.as_deref().map(|t| b.topic(t)).transpose()?;
                    }
                    Op::Unbatch(unbatch::Unbatch::build(&b, u).map_err(at)?)
                }
                Step::Validate(v) => {
                    if dead_letter.is_none() {
                        dead_letter = Some(b.topic(&v.invalid)?);
                    }
                    Op::Validate(validate::Validate::build(&b, name, v, &mut schemas)?)
                }
                Step::Dedup(d) => Op::Dedup(dedup::Dedup::build(&b, d)?),
                Step::Enrich(e) => Op::Enrich(enrich::Enrich::build(&b, e)?),
                Step::Set(s) => Op::Set(set::Assign::of_step(&s.fields).map_err(at)?),
                Step::Flag(f) => Op::Flag(set::FlagSet::new(
                    fields::flags(&f.fields).map_err(at)?,
                )),
                Step::Filter(f) => Op::Filter(filter::Filter::build(&b, f)?),
                Step::Route(r) => Op::Route(route::Route::build(&b, r)?),
                Step::Explode(e) => Op::Explode(explode::Explode::build(&b, e)?),
                Step::Emit(e) => Op::Emit(b.topics(&e.to)?),
                Step::Window(w) => match def.steps.get(i + 1) {
                    Some(Step::Aggregate(a)) => {
                        Op::Window(Box::new(window::WindowAgg::build(&b, w, a)?))
                    }
                    _ => {
                        return Err(RuntimeError::Unsupported {
                            what: format!(
                                "a `window` not followed by `aggregate` (job `{name}`, step {i})"
                            ),
                        });
                    }
                },
                Step::Aggregate(_) => match def.steps.get(i.wrapping_sub(1)) {
                    Some(Step::Window(_)) => Op::Aggregate,
                    _ => {
                        return Err(RuntimeError::Unsupported {
                            what: format!(
                                "an `aggregate` without a `window` before it (job `{name}`, step {i})"
                            ),
                        });
                    }
                },
            });
        }
        let keep_raw = steps
            .iter()
            .take_while(|s| s.takes_raw())
            .any(|s| matches!(s, Op::Unbatch(_) | Op::Route(_) | Op::Emit(_)));
        let read_doc = keep_raw && steps.first().is_some_and(Op::takes_doc);
        let locals = def.steps.iter().any(sets_a_local);
        Ok(Job {
            source: b.topic(&def.from)?,
            outputs: b.topics(&def.outputs)?,
            steps,
            outlet: Outlet {
                name: name.to_string(),
                dead_letter,
                locals,
            },
            keep_raw,
            read_doc,
        })
    }

    /// The job's name.
    pub fn name(&self) -> &str {
        &self.outlet.name
    }

    /// The topic (key of the manifest's topics) the job reads.
    pub fn source(&self) -> &Arc<str> {
        &self.source
    }

    /// Every topic the job can write.
    pub fn outputs(&self) -> &[Arc<str>] {
        &self.outputs
    }

    /// Processes a batch of records of the source topic and appends what it produced to
    /// `out`. Fails only when a store is unavailable; then nothing is appended and the
    /// caller retries the whole batch.
    pub async fn process(&self, input: &[&[u8]], out: &mut Output) -> Result<(), RuntimeError> {
        self.process_at(input, &[], out).await
    }

    /// [`Job::process`] for a transport that may hand a record to the job again (Kafka,
    /// after a crash before its offset was committed): `positions` holds, per input record,
    /// a non-zero token of where it was read (topic, partition and offset, hashed). Dedup
    /// keys are written with a token of the event's position, so an event that comes again
    /// is not taken for a duplicate of itself (see [`Store::seen_or_set`]). Empty: no tokens.
    pub async fn process_at(
        &self,
        input: &[&[u8]],
        positions: &[u64],
        out: &mut Output,
    ) -> Result<(), RuntimeError> {
        if !positions.is_empty() && positions.len() != input.len() {
            return Err(RuntimeError::Internal(format!(
                "{} positions for {} records",
                positions.len(),
                input.len()
            )));
        }
        if let [Op::Emit(to)] = self.steps.as_slice() {
            // A copy job (Sunbird's ingest-router): records pass byte for byte, whether
            // they parse or not; reading them would only lose the ones that do not.
            let sources = !positions.is_empty() || !out.sources.is_empty();
            if sources {
                out.sources.resize(out.records.len(), 0);
            }
            for (i, raw) in input.iter().enumerate() {
                for t in to {
                    out.records.push((t.clone(), raw.to_vec()));
                    if sources {
                        out.sources.push(positions.get(i).copied().unwrap_or(0));
                    }
                }
            }
            if out.counters.is_empty() {
                out.counters.push(StepCounters::default());
            }
            let n = input.len() as u64;
            out.counters[0].input += n;
            out.counters[0].sent += n;
            return Ok(());
        }
        let mut s = Scratch {
            out: &self.outlet,
            input,
            positions,
            records: Vec::new(),
            counters: vec![StepCounters::default(); self.steps.len()],
            rejected: Vec::new(),
        };
        let mut evs = Vec::with_capacity(input.len());
        let keep_raw = self.keep_raw;
        for (i, raw) in input.iter().enumerate() {
            let i =
                u32::try_from(i).map_err(|_| RuntimeError::Internal("batch too large".into()))?;
            if raw.trim_ascii_start().first() != Some(&b'{') {
                // Every event is an object: anything else is set aside whole, as it came
                // (setting a field on `42` would replace it).
                match parse_record(raw) {
                    Ok(v) => s.not_an_object(i, json_kind(&v)),
                    Err(e) => s.unparsable(i, &e.to_string()),
                }
                continue;
            }
            if keep_raw && self.read_doc {
                if let Some(d) = doc::Doc::read(raw) {
                    evs.push(Ev {
                        value: Value::Null,
                        raw: Some(Raw::Record),
                        shape: None,
                        doc: Some(Box::new(d)),
                        input: i,
                        sub: 0,
                    });
                    continue;
                }
            } else if keep_raw && let Some(shape) = raw::canonical_shape(raw) {
                evs.push(Ev {
                    value: Value::Null,
                    raw: Some(Raw::Record),
                    shape: Some(Box::new(shape)),
                    doc: None,
                    input: i,
                    sub: 0,
                });
                continue;
            }
            match parse_record(raw) {
                Ok(value) => evs.push(Ev::tree(value, i, 0)),
                Err(e) => s.unparsable(i, &e.to_string()),
            }
        }
        self.run_steps(0, evs, &mut s).await?;
        finish(s, out);
        Ok(())
    }

    /// Closes every open window, as at the end of the input, and sends their aggregates
    /// through the rest of the job. Fails only when a store is unavailable.
    pub async fn flush(&self, out: &mut Output) -> Result<(), RuntimeError> {
        let mut s = Scratch {
            out: &self.outlet,
            input: &[],
            positions: &[],
            records: Vec::new(),
            counters: vec![StepCounters::default(); self.steps.len()],
            rejected: Vec::new(),
        };
        for (i, step) in self.steps.iter().enumerate() {
            if let Op::Window(w) = step {
                let evs = w.flush();
                self.run_steps(i + 1, evs, &mut s).await?;
            }
        }
        finish(s, out);
        Ok(())
    }

    /// Runs `evs` through the steps from index `from` on.
    async fn run_steps(
        &self,
        from: usize,
        mut evs: Vec<Ev>,
        s: &mut Scratch<'_>,
    ) -> Result<(), RuntimeError> {
        for (i, step) in self.steps.iter().enumerate().skip(from) {
            if evs.is_empty() {
                break;
            }
            s.counters[i].input += evs.len() as u64;
            if matches!(step, Op::Unbatch(_)) {
                // It reads the bytes the event holds: they become the spliced ones.
                for ev in &mut evs {
                    ev.settle(s.input);
                }
            } else if !step.reads_doc() {
                for ev in &mut evs {
                    ev.flush(s.input);
                }
            }
            if !step.takes_raw() {
                for ev in &mut evs {
                    ev.materialize(s.input)?;
                }
            }
            evs = match step {
                Op::Unbatch(u) => u.run(evs, i, s)?,
                Op::Validate(v) => v.run(evs, i, s)?,
                Op::Dedup(d) => d.run(evs, i, s).await?,
                Op::Enrich(e) => e.run(evs, i, s).await?,
                Op::Set(a) => {
                    let mut kept = Vec::with_capacity(evs.len());
                    for mut ev in evs {
                        match a.apply_ev(&mut ev, s.input)? {
                            Ok(()) => kept.push(ev),
                            Err(e) => s.error(ev, i, &e)?,
                        }
                    }
                    kept
                }
                Op::Flag(f) => {
                    for ev in &mut evs {
                        f.apply_ev(ev, s.input)?;
                    }
                    evs
                }
                Op::Filter(f) => f.run(evs, i, s)?,
                Op::Route(r) => r.run(evs, i, s)?,
                Op::Explode(e) => e.run(evs, i, s)?,
                Op::Emit(to) => {
                    for ev in &evs {
                        s.send(ev, i, to)?;
                    }
                    s.counters[i].sent += evs.len() as u64;
                    Vec::new()
                }
                Op::Window(w) => w.run(evs, i, s)?,
                Op::Aggregate => evs,
            };
            if !matches!(step, Op::Window(_)) {
                s.counters[i].output += evs.len() as u64;
            }
        }
        // Events past the last step go nowhere: the compiler rejects such jobs, but count them.
        if let Some(last) = s.counters.last_mut() {
            last.unrouted += evs.len() as u64;
            last.output = last.output.saturating_sub(evs.len() as u64);
        }
        Ok(())
    }
}

/// Appends what the batch produced to `out`, in input order, then step order.
fn finish(s: Scratch<'_>, out: &mut Output) {
    let Scratch {
        mut records,
        counters,
        rejected,
        ..
    } = s;
    out.rejected.extend(rejected);
    records.sort_by_key(|(k, _, _)| *k);
    if !s.positions.is_empty() || !out.sources.is_empty() {
        // Aligned with `records` (window aggregates, from no one record, get 0).
        out.sources.resize(out.records.len(), 0);
        let positions = s.positions;
        out.sources.extend(
            records
                .iter()
                .map(|((input, _, _), _, _)| positions.get(*input as usize).copied().unwrap_or(0)),
        );
    }
    out.records
        .extend(records.into_iter().map(|(_, topic, bytes)| (topic, bytes)));
    if out.counters.len() < counters.len() {
        out.counters.resize(counters.len(), StepCounters::default());
    }
    for (o, c) in out.counters.iter_mut().zip(counters) {
        o.add(&c);
    }
}

/// Whether a step of a job sets a top-level field named `$...` (see [`Job::locals`]).
fn sets_a_local(step: &Step) -> bool {
    let local = |k: &str| k.starts_with('$');
    match step {
        Step::Enrich(e) => local(&e.into) || e.flag.as_deref().is_some_and(local),
        Step::Set(s) => s.fields.iter().any(|(k, _)| local(k)),
        Step::Flag(f) => f.fields.iter().any(|(k, _)| local(k)),
        Step::Route(r) => r.rules.iter().any(|r| r.set.iter().any(|(k, _)| local(k))),
        Step::Explode(e) => e.set.iter().any(|(k, _)| local(k)),
        _ => false,
    }
}

/// What a JSON value is, in a reason: `a number`, `a string`, `a list`...
pub(crate) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
