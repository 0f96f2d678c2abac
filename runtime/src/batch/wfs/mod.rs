//! The workflow summary, pipec's own implementation of Sunbird's `WorkFlowSummaryModel` (the
//! daily "wfs" job): a day of telemetry grouped per device, actor, channel and app, cut into
//! nested app / session / player / editor summaries, each written as an ME_WORKFLOW_SUMMARY.

use std::collections::BTreeMap;

use serde_json::Value;

mod input;
mod joda;
mod jvm;
mod output;
pub(crate) mod tape;
mod tree;
mod walk;

#[cfg(test)]
mod tests;

/// The model's settings. `Default` gives Sunbird's: its code defaults (`idleTime` 600 s,
/// `sessionBreakTime` 30 min, `producerId`, `modelVersion`, `modelId`), its fixed list of
/// server events, and the two application settings of its batch-models test configuration
/// (`default.consumption.app.id` "genie", `default.channel.id` "in.sunbird").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WfsParams {
    /// A gap between two events longer than this starts a new session, unless the later
    /// event's `edata.type` is "app" (`sessionBreakTime`, in minutes there).
    pub session_gap_ms: i64,
    /// A gap between two events of a summary longer than this counts as no time spent
    /// (`idleTime`, in seconds there).
    pub idle_time_ms: i64,
    /// The `eid`s that are not summarized (`serverEvents`).
    pub exclude: Vec<String>,
    /// The output events' `ets`; Sunbird reads the clock there.
    pub now_ms: i64,
    /// `context.pdata.id` of the output (`producerId`).
    pub producer_id: String,
    /// `context.pdata.ver` of the output (`modelVersion`).
    pub model_version: String,
    /// `context.pdata.model` of the output (`modelId`).
    pub model_id: String,
    /// The app of an event without `context.pdata`, and in the `mid` of one whose
    /// `pdata.id` is null (`default.consumption.app.id`).
    pub default_app_id: String,
    /// The channel in the `mid` of an event whose `context.channel` is null
    /// (`default.channel.id`).
    pub default_channel: String,
}

impl Default for WfsParams {
    fn default() -> Self {
        WfsParams {
            session_gap_ms: 30 * 60 * 1000,
            idle_time_ms: 600 * 1000,
            exclude: ["LOG", "AUDIT", "SEARCH"].map(String::from).to_vec(),
            now_ms: 0,
            producer_id: "AnalyticsDataPipeline".to_owned(),
            model_version: "1.0".to_owned(),
            model_id: "WorkflowSummarizer".to_owned(),
            default_app_id: "genie".to_owned(),
            default_channel: "in.sunbird".to_owned(),
        }
    }
}

/// The group an event is summarized in: Sunbird's `WorkflowIndex`, that is
/// `did|actor.type|actor.id` (each "" when absent), `context.channel` and the app id
/// (`context.pdata.id`, the default app without `pdata`). One allocation; ordered and hashed
/// by value.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupKey {
    /// The three parts end to end.
    text: Box<str>,
    channel_at: usize,
    app_at: usize,
    /// Bit 0: the channel is null; bit 1: the app id is null.
    nulls: u8,
}

impl GroupKey {
    /// `did|actor.type|actor.id`.
    pub fn device_actor(&self) -> &str {
        self.text.get(..self.channel_at).unwrap_or_default()
    }

    /// `context.channel`, `None` when null.
    pub fn channel(&self) -> Option<&str> {
        (self.nulls & 1 == 0).then(|| {
            self.text
                .get(self.channel_at..self.app_at)
                .unwrap_or_default()
        })
    }

    /// The app id, `None` when `context.pdata.id` is null.
    pub fn app_id(&self) -> Option<&str> {
        (self.nulls & 2 == 0).then(|| self.text.get(self.app_at..).unwrap_or_default())
    }
}

/// The grouping key of an event, as Sunbird builds it with its default settings; `None` when
/// the event is not summarized. See [`group_key_with`].
pub fn group_key(event: &Value) -> Option<GroupKey> {
    group_key_with(event, &WfsParams::default())
}

/// The grouping key of an event; `None` when the event is not summarized: no `eid`, an `eid`
/// in `params.exclude`, fields of `eid`, `actor` or `context` that Jackson cannot bind (Sunbird
/// logs and drops such an event), or no `context` (Sunbird's run fails with a
/// `NullPointerException` there; here the event is skipped).
pub fn group_key_with(event: &Value, params: &WfsParams) -> Option<GroupKey> {
    key_of(input::bind_index(event)?, params)
}

/// [`group_key_with`] for a record in canonical form, read from its tape
/// ([`tape::Doc`]).
pub(crate) fn group_key_of_doc(doc: &tape::Doc<'_>, params: &WfsParams) -> Option<GroupKey> {
    key_of(tape::bind_index(doc)?, params)
}

/// The key of the index fields of an event.
fn key_of(index: input::Index<'_>, params: &WfsParams) -> Option<GroupKey> {
    let eid = index.eid?;
    if params.exclude.iter().any(|x| *x == eid) {
        return None;
    }
    let context = index.context?;
    let did = context.did.as_deref().unwrap_or("");
    let actor_type = index.actor_type.as_deref().unwrap_or("");
    let actor_id = index.actor_id.as_deref().unwrap_or("");
    let channel = context.channel.as_deref();
    let app = match &context.pdata {
        Some(p) => p.id.as_deref(),
        None => Some(params.default_app_id.as_str()),
    };
    let (channel_text, app_text) = (channel.unwrap_or(""), app.unwrap_or(""));
    let mut text = String::with_capacity(
        did.len() + actor_type.len() + actor_id.len() + 2 + channel_text.len() + app_text.len(),
    );
    for part in [did, "|", actor_type, "|", actor_id] {
        text.push_str(part);
    }
    let channel_at = text.len();
    text.push_str(channel_text);
    let app_at = text.len();
    text.push_str(app_text);
    Some(GroupKey {
        text: text.into_boxed_str(),
        channel_at,
        app_at,
        nulls: u8::from(channel.is_none()) | (u8::from(app.is_none()) << 1),
    })
}

/// Where an event sorts within its group: by `ets` (as bound: a float truncates, an integer
/// string parses; `i64::MIN` when it cannot bind, and such an event is dropped anyway), then by
/// `mid`. Sunbird sorts a group by `ets` alone with a stable sort, so events with equal `ets`
/// stay in the order the Spark shuffle delivered them, which is not fixed; ordering them by
/// `mid` is one of the orders Sunbird can produce, and the same on every run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OrderKey<'a> {
    /// `ets`.
    pub ets: i64,
    /// `mid` ("" when not a string).
    pub mid: &'a str,
}

/// The [`OrderKey`] of an event.
pub fn order_key(event: &Value) -> OrderKey<'_> {
    OrderKey {
        ets: input::ets(event).unwrap_or(i64::MIN),
        mid: event.get("mid").and_then(Value::as_str).unwrap_or(""),
    }
}

/// The ME_WORKFLOW_SUMMARY events of one group, whose events come sorted by [`order_key`] (or
/// in any order a stable sort by `ets` gives). Events that do not bind as Sunbird's
/// `WFSInputEvent` (see [`group_key_with`]) or whose `eid` is in `params.exclude` are skipped;
/// a field Sunbird dereferences without a null check (an INTERACT without `edata.type`, an
/// ASSESS without `edata.item`, a null in `edata.resvalues`) fails Sunbird's run, and here
/// counts as no interaction, no item response, no response value. The events come out in the
/// order the model appends them, without repeats.
pub fn summarize_group(events: &[Value], params: &WfsParams) -> Vec<Value> {
    summarize_bound(events.iter().filter_map(input::bind).collect(), params)
}

/// A group's events as records: each bound from its tape when it has one, else from its
/// tree (given for the records without a tape, in the same order: see
/// [`summarize_group`]).
pub(crate) fn summarize_records(
    records: &[(Option<tape::Doc<'_>>, Option<tape::Parts>)],
    trees: &[Option<Value>],
    params: &WfsParams,
) -> Vec<Value> {
    let bound = records
        .iter()
        .zip(trees)
        .filter_map(|(r, t)| match r {
            (Some(doc), Some(parts)) => tape::bind(doc, parts),
            _ => t.as_ref().and_then(input::bind),
        })
        .collect();
    summarize_bound(bound, params)
}

/// The summaries of a group's bound events.
fn summarize_bound(bound: Vec<input::Event<'_>>, params: &WfsParams) -> Vec<Value> {
    let bound: Vec<input::Event<'_>> = bound
        .into_iter()
        .filter(|e| !params.exclude.iter().any(|x| *x == e.eid))
        .collect();
    if bound.is_empty() {
        return Vec::new();
    }
    let (forest, emitted) = walk::run(&bound, params);
    output::events(&forest, &emitted, params)
}

/// Groups, orders and summarizes events held in memory (for tests and small inputs): the
/// groups in [`GroupKey`] order, each as [`summarize_group`] gives it. The result does not
/// depend on the order of the input, except between events with equal `ets` and `mid`.
pub fn summarize(events: impl IntoIterator<Item = Value>, params: &WfsParams) -> Vec<Value> {
    let mut groups: BTreeMap<GroupKey, Vec<Value>> = BTreeMap::new();
    for event in events {
        if let Some(key) = group_key_with(&event, params) {
            groups.entry(key).or_default().push(event);
        }
    }
    let mut out = Vec::new();
    for (_, events) in groups {
        let mut order: Vec<usize> = (0..events.len()).collect();
        {
            let keys: Vec<OrderKey<'_>> = events.iter().map(order_key).collect();
            order.sort_by_key(|&i| keys[i]);
        }
        let mut slots: Vec<Option<Value>> = events.into_iter().map(Some).collect();
        let sorted: Vec<Value> = order.iter().filter_map(|&i| slots[i].take()).collect();
        out.extend(summarize_group(&sorted, params));
    }
    out
}
