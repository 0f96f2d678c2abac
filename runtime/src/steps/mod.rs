//! The steps of a stream job, one file per kind: [`unbatch`], [`validate`], [`dedup`] and
//! [`enrich`] (which call a store with the keys of a batch, see [`keying`]), [`set`] (also
//! `flag`), [`filter`], [`route`], [`explode`] and [`window`] (with its `aggregate`); `emit`
//! is only a send. Each is built from its manifest entry by a [`Builder`] and runs on a
//! batch's events, writing records through the batch's [`Scratch`]. The order of steps and
//! the batch loop are the job's ([`crate::job`]).

pub(crate) mod dedup;
pub(crate) mod enrich;
pub(crate) mod explode;
pub(crate) mod filter;
pub(crate) mod keying;
pub(crate) mod route;
pub(crate) mod set;
pub(crate) mod unbatch;
pub(crate) mod validate;
pub(crate) mod window;

use std::collections::HashMap;
use std::sync::Arc;

use pipec_compiler::expr::{Expr, FieldPath};
use pipec_compiler::manifest::Manifest;
use serde_json::Value;

use crate::RuntimeError;
use crate::event::cond::Cond;
use crate::event::{Ev, fields, parse_record, serialize};
use crate::store::Store;

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
    /// Records that are not JSON, or are JSON but not an object (no event).
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

/// One built step.
#[derive(Debug)]
pub(crate) enum Op {
    Unbatch(unbatch::Unbatch),
    Validate(validate::Validate),
    Dedup(dedup::Dedup),
    Enrich(enrich::Enrich),
    Set(set::Assign),
    Flag(set::FlagSet),
    Filter(filter::Filter),
    Route(route::Route),
    Explode(explode::Explode),
    Emit(Vec<Arc<str>>),
    /// `window` with the `aggregate` after it.
    Window(Box<window::WindowAgg>),
    /// The `aggregate` of the window before it: what comes here are its events.
    Aggregate,
}

impl Op {
    /// Whether the step takes events kept as bytes (others get them as trees).
    pub(crate) fn takes_raw(&self) -> bool {
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
    pub(crate) fn takes_doc(&self) -> bool {
        matches!(self, Op::Validate(_) | Op::Set(_) | Op::Flag(_))
    }

    /// Whether the step reads an event's [`doc::Doc`] when it has one (then the fields set
    /// need not be spliced into its bytes first): those that take it, and `dedup`, which
    /// reads its key and condition from the tape and the fields set.
    pub(crate) fn reads_doc(&self) -> bool {
        self.takes_doc() || matches!(self, Op::Dedup(_))
    }
}

/// What the steps of a job need to know of it when they write records.
#[derive(Debug)]
pub(crate) struct Outlet {
    /// The job's name (`metadata.src` of what it dead-letters).
    pub(crate) name: String,
    /// Where unparsable records and events an expression failed on go.
    pub(crate) dead_letter: Option<Arc<str>>,
    /// Whether a step sets a top-level field named `$...`: the job's own (a lookup result
    /// kept for later steps), removed from every event it writes to a topic.
    pub(crate) locals: bool,
}

impl Outlet {
    /// `bytes` without the top-level `$...` fields, when the job has them (see
    /// [`Outlet::locals`]).
    pub(crate) fn without_locals(&self, bytes: Vec<u8>) -> Result<Vec<u8>, RuntimeError> {
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
}

/// A record waiting for the batch to finish: its order key (input, event, step), topic and bytes.
pub(crate) type Pending = ((u32, u32, u32), Arc<str>, Vec<u8>);

/// What a batch produced so far; appended to the caller's [`Output`] only on success.
pub(crate) struct Scratch<'a> {
    pub(crate) out: &'a Outlet,
    pub(crate) input: &'a [&'a [u8]],
    /// Per input record, a token of its source position (empty: none; see
    /// [`Job::process_at`]).
    pub(crate) positions: &'a [u64],
    pub(crate) records: Vec<Pending>,
    pub(crate) counters: Vec<StepCounters>,
    pub(crate) rejected: Vec<Rejected>,
}

impl StepCounters {
    pub(crate) fn add(&mut self, c: &StepCounters) {
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
    pub(crate) fn push(&mut self, ev: &Ev, step: usize, topic: &Arc<str>, bytes: Vec<u8>) {
        self.records
            .push(((ev.input, ev.sub, step as u32), topic.clone(), bytes));
    }

    /// Writes the event to each of `topics`, serialized once.
    pub(crate) fn send(
        &mut self,
        ev: &Ev,
        step: usize,
        topics: &[Arc<str>],
    ) -> Result<(), RuntimeError> {
        if topics.is_empty() {
            return Ok(());
        }
        let bytes = self.out.without_locals(ev.to_bytes(self.input)?)?;
        self.send_bytes(ev, step, topics, bytes);
        Ok(())
    }

    /// [`Scratch::send`] for an event that goes no further (its written bytes are moved
    /// into the last record, see [`Ev::take_bytes`]).
    pub(crate) fn send_last(
        &mut self,
        ev: &mut Ev,
        step: usize,
        topics: &[Arc<str>],
    ) -> Result<(), RuntimeError> {
        if topics.is_empty() {
            return Ok(());
        }
        let bytes = self.out.without_locals(ev.take_bytes(self.input)?)?;
        self.send_bytes(ev, step, topics, bytes);
        Ok(())
    }

    pub(crate) fn send_bytes(&mut self, ev: &Ev, step: usize, topics: &[Arc<str>], bytes: Vec<u8>) {
        let Some((last, first)) = topics.split_last() else {
            return;
        };
        for t in first {
            self.push(ev, step, t, bytes.clone());
        }
        self.push(ev, step, last, bytes);
    }

    /// A record that is not JSON: its bytes go to the dead-letter topic, if the job has one.
    pub(crate) fn unparsable(&mut self, input: u32, reason: &str) {
        self.set_aside(input, format!("not JSON: {reason}"));
    }

    /// A record that is JSON but no event (not an object): as [`Scratch::unparsable`].
    pub(crate) fn not_an_object(&mut self, input: u32, kind: &str) {
        self.set_aside(
            input,
            format!("not an event: the record is {kind}, not an object"),
        );
    }

    /// A record that cannot be an event goes whole, as it came, to the dead-letter topic
    /// (when the job has one), with the reason.
    fn set_aside(&mut self, input: u32, reason: String) {
        self.rejected.push(Rejected {
            input: input as usize,
            step: 0,
            reason,
        });
        if let Some(c) = self.counters.first_mut() {
            c.input += 1;
            c.unparsable += 1;
        }
        if let Some(t) = self.out.dead_letter.clone() {
            let raw = self.input[input as usize].to_vec();
            self.records.push(((input, 0, 0), t, raw));
        }
    }

    /// An expression failed on the event: it goes to the dead-letter topic with the reason.
    pub(crate) fn error(
        &mut self,
        mut ev: Ev,
        step: usize,
        reason: &str,
    ) -> Result<(), RuntimeError> {
        self.counters[step].errors += 1;
        if let Some(t) = self.out.dead_letter.clone() {
            ev.materialize(self.input)?;
            fields::set_metadata(&mut ev.value, "processing_error", reason, &self.out.name);
            self.send(&ev, step, std::slice::from_ref(&t))?;
        }
        Ok(())
    }
}

/// Resolves names against the manifest while building.
pub(crate) struct Builder<'a> {
    pub(crate) manifest: &'a Manifest,
    pub(crate) stores: &'a HashMap<String, Arc<Store>>,
}

impl Builder<'_> {
    pub(crate) fn topic(&self, key: &str) -> Result<Arc<str>, RuntimeError> {
        if self.manifest.topics.contains_key(key) {
            Ok(Arc::from(key))
        } else {
            Err(RuntimeError::Internal(format!(
                "topic `{key}` is not in the manifest"
            )))
        }
    }

    pub(crate) fn topics(&self, keys: &[String]) -> Result<Vec<Arc<str>>, RuntimeError> {
        keys.iter().map(|k| self.topic(k)).collect()
    }

    pub(crate) fn store(&self, name: &str) -> Result<Arc<Store>, RuntimeError> {
        self.stores
            .get(name)
            .cloned()
            .ok_or_else(|| RuntimeError::Internal(format!("store `{name}` was not opened")))
    }

    pub(crate) fn type_field(&self) -> Result<FieldPath, RuntimeError> {
        fields::path(&self.manifest.type_field).map_err(RuntimeError::Internal)
    }
}

/// Whether `when` (absent: always) holds for the event; null and non-booleans do not hold.
pub(crate) fn holds(when: Option<&Cond>, v: &Value) -> Result<bool, String> {
    match when {
        None => Ok(true),
        Some(c) => c.holds(v),
    }
}

/// Whether `when` holds for the event, read from its bytes when the condition can be,
/// else from its tree (parsed for it).
pub(crate) fn holds_ev(
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
pub(crate) fn parse(src: &str) -> Result<Expr, RuntimeError> {
    pipec_compiler::expr::parse(src)
        .map_err(|e| RuntimeError::Internal(format!("expression `{src}`: {}", e.message)))
}

/// Parses a condition.
pub(crate) fn parse_cond(src: &str) -> Result<Cond, RuntimeError> {
    parse(src).map(Cond::new)
}

/// Parses an optional condition.
pub(crate) fn parse_when(src: Option<&str>) -> Result<Option<Cond>, RuntimeError> {
    src.map(parse_cond).transpose()
}
