//! A stream job: the source topic's records go through the job's steps, in order, and come
//! out as records for its output topics. A batch is processed step by step, so that a
//! store is called once per step and batch; outputs are put back in input order.

mod cond;
mod doc;
mod fields;
mod keyed;
mod parse;
mod raw;
mod route;
pub(crate) mod schema;
mod unbatch;
mod validate;
mod window;

#[cfg(test)]
mod raw_reference;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_canonical;
#[cfg(test)]
mod tests_raw;
#[cfg(test)]
mod tests_replay;
#[cfg(test)]
mod tests_window;

use std::collections::HashMap;
use std::sync::Arc;

use pipec_compiler::expr::{Expr, FieldPath};
use pipec_compiler::manifest::{Manifest, Step};
use serde_json::Value;

use crate::RuntimeError;
use crate::schemas::Schemas;
use crate::store::Store;
use cond::Cond;

/// What a step did with the events it received, counted. For every step but `unbatch`,
/// `input` = `output` + `sent` + the outcomes; `unbatch` counts records in and events out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepCounters {
    /// Events (records, for `unbatch` and unparsable ones) that reached the step.
    pub input: u64,
    /// Events that went on to the next step.
    pub output: u64,
    /// Events this step wrote to its topics and that went no further (emit, terminal route,
    /// explode without `keep`).
    pub sent: u64,
    /// Rejected: a batch without events, a schema failure.
    pub invalid: u64,
    /// Duplicates.
    pub duplicate: u64,
    /// Events over the size limit.
    pub oversized: u64,
    /// Events a filter did not let through.
    pub filtered: u64,
    /// Events no rule of a terminal route matched.
    pub unrouted: u64,
    /// Records that are not JSON.
    pub unparsable: u64,
    /// Events an expression failed on.
    pub errors: u64,
    /// Events a window took in (they come out as the aggregates of closed windows).
    pub windowed: u64,
    /// Events later than their window's close.
    pub late: u64,
    /// Lookups that found a record (`enrich`; the event goes on either way).
    pub hits: u64,
    /// Lookups that found none.
    pub misses: u64,
}

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

/// A record set aside whole, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// Index of the record in the batch given to [`Job::process`].
    pub input: usize,
    /// Index of the step that set it aside.
    pub step: usize,
    /// Why.
    pub reason: String,
}

/// A job ready to process batches.
#[derive(Debug)]
pub struct Job {
    name: String,
    source: Arc<str>,
    outputs: Vec<Arc<str>>,
    steps: Vec<Op>,
    /// Where unparsable records and events an expression failed on go.
    dead_letter: Option<Arc<str>>,
    /// Whether records are kept as bytes: when the steps before the first that needs the
    /// tree split them or send them (else checking the bytes would only add to the parse).
    /// Off in tests comparing with the tree path.
    keep_raw: bool,
    /// Whether records kept as bytes are read into a [`doc::Doc`] (the first step takes
    /// one) rather than a [`raw::Shape`].
    read_doc: bool,
    /// Whether a step sets a top-level field named `$...`: the job's own (a lookup result
    /// kept for later steps), removed from every event it writes to a topic.
    locals: bool,
}

/// One built step.
#[derive(Debug)]
enum Op {
    Unbatch(unbatch::Unbatch),
    Validate(validate::Validate),
    Dedup(keyed::Dedup),
    Enrich(keyed::Enrich),
    Set(fields::Assign),
    Flag(fields::FlagSet),
    Filter(route::Filter),
    Route(route::Route),
    Explode(route::Explode),
    Emit(Vec<Arc<str>>),
    /// `window` with the `aggregate` after it.
    Window(Box<window::WindowAgg>),
    /// The `aggregate` of the window before it: what comes here are its events.
    Aggregate,
}

impl Op {
    /// Whether the step takes events kept as bytes (others get them as trees).
    fn takes_raw(&self) -> bool {
        matches!(
            self,
            Op::Unbatch(_)
                | Op::Validate(_)
                | Op::Set(_)
                | Op::Flag(_)
                | Op::Dedup(_)
                | Op::Enrich(_)
                | Op::Explode(_)
                | Op::Route(_)
                | Op::Emit(_)
        )
    }

    /// Whether the step reads and sets fields on an event's [`doc::Doc`] (others get the
    /// event's bytes with the fields set spliced in, or its tree).
    fn takes_doc(&self) -> bool {
        matches!(self, Op::Validate(_) | Op::Set(_) | Op::Flag(_))
    }

    /// Whether the step reads an event's [`doc::Doc`] when it has one (then the fields set
    /// need not be spliced into its bytes first): those that take it, and `dedup`, which
    /// reads its key and condition from the tape and the fields set.
    fn reads_doc(&self) -> bool {
        self.takes_doc() || matches!(self, Op::Dedup(_))
    }
}

/// An event on its way through the steps, with the position of what it came from.
#[derive(Debug)]
struct Ev {
    /// The event as a tree; `Value::Null` while `raw` holds it.
    value: Value,
    /// The event as canonical JSON bytes (see [`raw`]), kept until a step needs the tree:
    /// steps that only read fields, split lists, set top-level fields or send events work
    /// on the bytes, and an event sent unchanged is sent as it came.
    raw: Option<Raw>,
    /// Where the members of the record kept as bytes are, as checking it found them.
    shape: Option<Box<raw::Shape>>,
    /// The tape of the bytes and the fields set on the event since (then the bytes are
    /// not the event's: the steps that read bytes get them with the edits spliced in,
    /// see [`Ev::flush`]).
    doc: Option<Box<doc::Doc>>,
    /// Index of the input record.
    input: u32,
    /// Index of the event in its record's batch.
    sub: u32,
}

/// Where the bytes of an event kept as bytes are.
#[derive(Debug)]
enum Raw {
    /// The whole input record the event came from.
    Record,
    /// Bytes of its own.
    Owned(Vec<u8>),
}

impl Ev {
    /// An event as a tree.
    fn tree(value: Value, input: u32, sub: u32) -> Ev {
        Ev {
            value,
            raw: None,
            shape: None,
            doc: None,
            input,
            sub,
        }
    }

    /// The event's canonical bytes, while it has them (and no field was set on its
    /// [`doc::Doc`] since).
    fn raw_bytes<'b>(&'b self, input: &'b [&'b [u8]]) -> Option<&'b [u8]> {
        match self.doc.as_deref() {
            Some(d) if d.edited() => d.written(),
            _ => self.bytes_read(input),
        }
    }

    /// The bytes the event was read from, while it is kept as bytes.
    fn bytes_read<'b>(&'b self, input: &'b [&'b [u8]]) -> Option<&'b [u8]> {
        match self.raw.as_ref()? {
            Raw::Record => input.get(self.input as usize).copied(),
            Raw::Owned(b) => Some(b),
        }
    }

    /// The event's bytes and its doc (read from them first if need be), while it is kept
    /// as bytes.
    fn doc_parts<'b>(&'b mut self, input: &'b [&'b [u8]]) -> Option<(&'b [u8], &'b mut doc::Doc)> {
        if self.doc.is_none() {
            let d = doc::Doc::read(self.bytes_read(input)?)?;
            self.doc = Some(Box::new(d));
            self.shape = None;
        }
        let b = match self.raw.as_ref()? {
            Raw::Record => input.get(self.input as usize).copied()?,
            Raw::Owned(b) => b.as_slice(),
        };
        Some((b, self.doc.as_deref_mut()?))
    }

    /// Splices the fields set on the doc into the bytes, for the steps that read bytes
    /// (the doc keeps the bytes read and its edits, for the next step that sets fields).
    fn flush(&mut self, input: &[&[u8]]) {
        let b = match self.raw.as_ref() {
            Some(Raw::Record) => input.get(self.input as usize).copied(),
            Some(Raw::Owned(b)) => Some(b.as_slice()),
            None => None,
        };
        if let (Some(b), Some(d)) = (b, self.doc.as_deref_mut()) {
            d.flush(b);
        }
    }

    /// Makes the bytes with the edits spliced in the event's bytes, without a doc.
    fn settle(&mut self, input: &[&[u8]]) {
        if !self.doc.as_ref().is_some_and(|d| d.edited()) {
            return;
        }
        self.flush(input);
        let written = self
            .doc
            .as_ref()
            .and_then(|d| d.written())
            .map(<[u8]>::to_vec);
        if let Some(b) = written {
            self.doc = None;
            self.raw = Some(Raw::Owned(b));
            self.shape = None;
        }
    }

    /// The event's JSON bytes, to send.
    fn to_bytes(&self, input: &[&[u8]]) -> Result<Vec<u8>, RuntimeError> {
        match (self.bytes_read(input), self.doc.as_deref()) {
            (Some(b), Some(d)) if d.edited() => {
                Ok(d.written().map_or_else(|| d.write(b), <[u8]>::to_vec))
            }
            (Some(b), _) => Ok(b.to_vec()),
            (None, _) => serialize(&self.value),
        }
    }

    /// [`Ev::to_bytes`] for an event that goes no further: the bytes with the fields set
    /// spliced in, when written, are moved out rather than copied.
    fn take_bytes(&mut self, input: &[&[u8]]) -> Result<Vec<u8>, RuntimeError> {
        if let Some(d) = self.doc.as_deref_mut()
            && d.edited()
            && let Some(w) = d.take_written()
        {
            return Ok(w);
        }
        self.to_bytes(input)
    }

    /// Parses the bytes into the tree, if the event is still bytes (with the fields set on
    /// its doc set on the tree).
    fn materialize(&mut self, input: &[&[u8]]) -> Result<(), RuntimeError> {
        let Some(raw) = self.raw.take() else {
            return Ok(());
        };
        let bytes = match &raw {
            Raw::Record => input.get(self.input as usize).copied().unwrap_or_default(),
            Raw::Owned(b) => b.as_slice(),
        };
        self.value = parse_record(bytes)
            .map_err(|e| RuntimeError::Internal(format!("re-reading an event: {e}")))?;
        self.shape = None;
        if let Some(d) = self.doc.take() {
            d.replay(&mut self.value);
        }
        Ok(())
    }
}

/// A record waiting for the batch to finish: its order key (input, event, step), topic and bytes.
type Pending = ((u32, u32, u32), Arc<str>, Vec<u8>);

/// What a batch produced so far; appended to the caller's [`Output`] only on success.
struct Scratch<'a> {
    job: &'a Job,
    input: &'a [&'a [u8]],
    /// Per input record, a token of its source position (empty: none; see
    /// [`Job::process_at`]).
    positions: &'a [u64],
    records: Vec<Pending>,
    counters: Vec<StepCounters>,
    rejected: Vec<Rejected>,
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
                Step::Dedup(d) => Op::Dedup(keyed::Dedup::build(&b, d)?),
                Step::Enrich(e) => Op::Enrich(keyed::Enrich::build(&b, e)?),
                Step::Set(s) => Op::Set(fields::Assign::of_step(&s.fields).map_err(at)?),
                Step::Flag(f) => Op::Flag(fields::FlagSet::new(
                    fields::flags(&f.fields).map_err(at)?,
                )),
                Step::Filter(f) => Op::Filter(route::Filter::build(&b, f)?),
                Step::Route(r) => Op::Route(route::Route::build(&b, r)?),
                Step::Explode(e) => Op::Explode(route::Explode::build(&b, e)?),
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
            name: name.to_string(),
            source: b.topic(&def.from)?,
            outputs: b.topics(&def.outputs)?,
            steps,
            dead_letter,
            keep_raw,
            read_doc,
            locals,
        })
    }

    /// `bytes` without the top-level `$...` fields, when the job has them (see
    /// [`Job::locals`]).
    fn without_locals(&self, bytes: Vec<u8>) -> Result<Vec<u8>, RuntimeError> {
        if !self.locals || memchr::memmem::find(&bytes, b"\"$").is_none() {
            return Ok(bytes);
        }
        let mut v = parse_record(&bytes)
            .map_err(|e| RuntimeError::Internal(format!("re-reading an event: {e}")))?;
        match &mut v {
            Value::Object(m) if m.keys().any(|k| k.starts_with('$')) => {
                m.retain(|k, _| !k.starts_with('$'));
                serialize(&v)
            }
            _ => Ok(bytes),
        }
    }

    /// The job's name.
    pub fn name(&self) -> &str {
        &self.name
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
            job: self,
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
        s.finish(out);
        Ok(())
    }

    /// Closes every open window, as at the end of the input, and sends their aggregates
    /// through the rest of the job. Fails only when a store is unavailable.
    pub async fn flush(&self, out: &mut Output) -> Result<(), RuntimeError> {
        let mut s = Scratch {
            job: self,
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
        s.finish(out);
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

impl Scratch<'_> {
    /// Appends what the batch produced to `out`, in input order, then step order.
    fn finish(self, out: &mut Output) {
        let Scratch {
            mut records,
            counters,
            rejected,
            ..
        } = self;
        out.rejected.extend(rejected);
        records.sort_by_key(|(k, _, _)| *k);
        if !self.positions.is_empty() || !out.sources.is_empty() {
            // Aligned with `records` (window aggregates, from no one record, get 0).
            out.sources.resize(out.records.len(), 0);
            let positions = self.positions;
            out.sources.extend(
                records.iter().map(|((input, _, _), _, _)| {
                    positions.get(*input as usize).copied().unwrap_or(0)
                }),
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
}

impl StepCounters {
    fn add(&mut self, c: &StepCounters) {
        self.input += c.input;
        self.output += c.output;
        self.sent += c.sent;
        self.invalid += c.invalid;
        self.duplicate += c.duplicate;
        self.oversized += c.oversized;
        self.filtered += c.filtered;
        self.unrouted += c.unrouted;
        self.unparsable += c.unparsable;
        self.errors += c.errors;
        self.windowed += c.windowed;
        self.late += c.late;
        self.hits += c.hits;
        self.misses += c.misses;
    }
}

impl Scratch<'_> {
    /// Writes `bytes` to `topic` for the event of `ev` at step `step`.
    fn push(&mut self, ev: &Ev, step: usize, topic: &Arc<str>, bytes: Vec<u8>) {
        self.records
            .push(((ev.input, ev.sub, step as u32), topic.clone(), bytes));
    }

    /// Writes the event to each of `topics`, serialized once.
    fn send(&mut self, ev: &Ev, step: usize, topics: &[Arc<str>]) -> Result<(), RuntimeError> {
        if topics.is_empty() {
            return Ok(());
        }
        let bytes = self.job.without_locals(ev.to_bytes(self.input)?)?;
        self.send_bytes(ev, step, topics, bytes);
        Ok(())
    }

    /// [`Scratch::send`] for an event that goes no further (its written bytes are moved
    /// into the last record, see [`Ev::take_bytes`]).
    fn send_last(
        &mut self,
        ev: &mut Ev,
        step: usize,
        topics: &[Arc<str>],
    ) -> Result<(), RuntimeError> {
        if topics.is_empty() {
            return Ok(());
        }
        let bytes = self.job.without_locals(ev.take_bytes(self.input)?)?;
        self.send_bytes(ev, step, topics, bytes);
        Ok(())
    }

    fn send_bytes(&mut self, ev: &Ev, step: usize, topics: &[Arc<str>], bytes: Vec<u8>) {
        let Some((last, first)) = topics.split_last() else {
            return;
        };
        for t in first {
            self.push(ev, step, t, bytes.clone());
        }
        self.push(ev, step, last, bytes);
    }

    /// A record that is not JSON: its bytes go to the dead-letter topic, if the job has one.
    fn unparsable(&mut self, input: u32, reason: &str) {
        self.rejected.push(Rejected {
            input: input as usize,
            step: 0,
            reason: format!("not JSON: {reason}"),
        });
        if let Some(c) = self.counters.first_mut() {
            c.input += 1;
            c.unparsable += 1;
        }
        if let Some(t) = self.job.dead_letter.clone() {
            let raw = self.input[input as usize].to_vec();
            self.records.push(((input, 0, 0), t, raw));
        }
    }

    /// An expression failed on the event: it goes to the dead-letter topic with the reason.
    fn error(&mut self, mut ev: Ev, step: usize, reason: &str) -> Result<(), RuntimeError> {
        self.counters[step].errors += 1;
        if let Some(t) = self.job.dead_letter.clone() {
            ev.materialize(self.input)?;
            fields::set_metadata(&mut ev.value, "processing_error", reason, &self.job.name);
            self.send(&ev, step, std::slice::from_ref(&t))?;
        }
        Ok(())
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

/// Parses a record. Checking UTF-8 once over the whole record and parsing from `&str` is
/// cheaper than serde_json's check of each string; records that are not UTF-8 go through
/// `from_slice`, for the same error. Common documents are read by [`parse`], the rest (and
/// what is not JSON) by serde_json.
fn parse_record(raw: &[u8]) -> Result<Value, serde_json::Error> {
    match std::str::from_utf8(raw) {
        Ok(text) => match parse::parse(text) {
            Some(v) => Ok(v),
            None => serde_json::from_str(text),
        },
        Err(_) => serde_json::from_slice(raw),
    }
}

/// The event's JSON bytes.
fn serialize(v: &Value) -> Result<Vec<u8>, RuntimeError> {
    let mut out = Vec::with_capacity(1024);
    serde_json::to_writer(&mut out, v)
        .map_err(|e| RuntimeError::Internal(format!("serializing an event: {e}")))?;
    Ok(out)
}

/// Resolves names against the manifest while building.
struct Builder<'a> {
    manifest: &'a Manifest,
    stores: &'a HashMap<String, Arc<Store>>,
}

impl Builder<'_> {
    fn topic(&self, key: &str) -> Result<Arc<str>, RuntimeError> {
        if self.manifest.topics.contains_key(key) {
            Ok(Arc::from(key))
        } else {
            Err(RuntimeError::Internal(format!(
                "topic `{key}` is not in the manifest"
            )))
        }
    }

    fn topics(&self, keys: &[String]) -> Result<Vec<Arc<str>>, RuntimeError> {
        keys.iter().map(|k| self.topic(k)).collect()
    }

    fn store(&self, name: &str) -> Result<Arc<Store>, RuntimeError> {
        self.stores
            .get(name)
            .cloned()
            .ok_or_else(|| RuntimeError::Internal(format!("store `{name}` was not opened")))
    }

    fn type_field(&self) -> Result<FieldPath, RuntimeError> {
        fields::path(&self.manifest.type_field).map_err(RuntimeError::Internal)
    }
}

/// Whether `when` (absent: always) holds for the event; null and non-booleans do not hold.
fn holds(when: Option<&Cond>, v: &Value) -> Result<bool, String> {
    match when {
        None => Ok(true),
        Some(c) => c.holds(v),
    }
}

/// Whether `when` holds for the event, read from its bytes when the condition can be,
/// else from its tree (parsed for it).
fn holds_ev(
    when: Option<&Cond>,
    ev: &mut Ev,
    input: &[&[u8]],
) -> Result<Result<bool, String>, RuntimeError> {
    let Some(c) = when else {
        return Ok(Ok(true));
    };
    if let Some(r) = ev.raw_bytes(input).and_then(|b| c.holds_raw(b)) {
        return Ok(r);
    }
    ev.materialize(input)?;
    Ok(c.holds(&ev.value))
}

/// Parses an expression of the manifest.
fn parse(src: &str) -> Result<Expr, RuntimeError> {
    pipec_compiler::expr::parse(src)
        .map_err(|e| RuntimeError::Internal(format!("expression `{src}`: {}", e.message)))
}

/// Parses a condition.
fn parse_cond(src: &str) -> Result<Cond, RuntimeError> {
    parse(src).map(Cond::new)
}

/// Parses an optional condition.
fn parse_when(src: Option<&str>) -> Result<Option<Cond>, RuntimeError> {
    src.map(parse_cond).transpose()
}
