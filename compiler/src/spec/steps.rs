//! The steps of a stream job. Each step is a one-key mapping naming its kind:
//! `- validate: { invalid: failed }`.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::model::{ExprText, Text, TopicRefs};
use super::wrappers::{Items, OneOrMany, OrderedMap, ScalarOr, Spanned};

/// One step of a stream job.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Unpacks a batch envelope into its events.
    Unbatch(Unbatch),
    /// Validates each event against the schema of its type.
    Validate(Validate),
    /// Drops (or diverts) events whose key was seen within a TTL.
    Dedup(Dedup),
    /// Sets fields from expressions (`field.path: expression`); `field.path?: expression`
    /// sets the field only when the expression's value is not null.
    Set(OrderedMap<ExprText>),
    /// Sets fields to constant values (`flags.x: true`).
    Flag(OrderedMap<Spanned<Value>>),
    /// Keeps events for which a condition holds.
    Filter(ScalarOr<ExprText, Filter>),
    /// Sends each event to the topics of the rules it matches.
    Route(Items<Spanned<RouteRule>>),
    /// Turns each item of a list field into an event of its own.
    Explode(Explode),
    /// Adds data looked up in a store.
    Enrich(Enrich),
    /// Groups events into windows (followed by `aggregate`).
    Window(Window),
    /// Computes one event per window and key.
    Aggregate(Aggregate),
    /// Writes each event to topics.
    Emit(TopicRefs),
}

impl Step {
    /// The step's kind, as written.
    pub fn kind(&self) -> &'static str {
        match self {
            Step::Unbatch(_) => "unbatch",
            Step::Validate(_) => "validate",
            Step::Dedup(_) => "dedup",
            Step::Set(_) => "set",
            Step::Flag(_) => "flag",
            Step::Filter(_) => "filter",
            Step::Route(_) => "route",
            Step::Explode(_) => "explode",
            Step::Enrich(_) => "enrich",
            Step::Window(_) => "window",
            Step::Aggregate(_) => "aggregate",
            Step::Emit(_) => "emit",
        }
    }
}

/// `unbatch`: a batch `{"params": ..., "events": [...]}` becomes its events.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Unbatch {
    /// Field of the batch holding the events (default `events`).
    pub field: Option<ExprText>,
    /// Fields set on every event, computed from the batch (`syncts: 'coalesce(syncts, now_ms())'`).
    #[serde(default)]
    pub carry: OrderedMap<ExprText>,
    /// Topic for batches that are not JSON or have no event list.
    pub invalid: Option<Text>,
    /// What a batch without its list field (or with `null` there) is: `invalid` (the
    /// default: it goes to `invalid`) or `empty` (a batch of no events, whose summary counts
    /// 0, as Sunbird's extractor reads it). A list field that is not a list is invalid.
    pub missing: Option<Text>,
    /// Largest serialized event; larger ones go to `oversized`.
    pub max_event_size: Option<Text>,
    /// Topic for events over `max_event_size`.
    pub oversized: Option<Text>,
    /// Flags set on oversized events.
    #[serde(default)]
    pub oversized_flags: OrderedMap<Spanned<Value>>,
    /// One more event per batch, besides its events: an audit record of the batch.
    pub summary: Option<BatchSummary>,
}

/// `unbatch.summary`: an event built for every batch that has an event list.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchSummary {
    /// Topic the summary event goes to.
    pub to: Text,
    /// The event's fixed fields (a mapping).
    #[serde(default)]
    pub event: Option<Spanned<Value>>,
    /// Fields set on `event` in order, computed from the batch's fields other than its
    /// event list, plus `events_count`, the number of events in the list:
    /// `edata.params[0].events_count: 'to_string(events_count)'`.
    #[serde(default)]
    pub set: OrderedMap<ExprText>,
}

/// `validate`: invalid events go to the `invalid` topic with the reason in `metadata`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Validate {
    /// Topic for events that fail validation or have no schema.
    pub invalid: Text,
    /// Directory of alternative schemas (`<dir>/<lower(type)>.json`) instead of the event types'.
    pub schemas: Option<Text>,
    /// File in `schemas` for types without a file of their own (`envelope.json`).
    pub default: Option<Text>,
    /// Flags set on invalid events (`pp_validation_processed: false`).
    #[serde(default)]
    pub flags: OrderedMap<Spanned<Value>>,
    /// Flags set on valid events.
    #[serde(default)]
    pub valid_flags: OrderedMap<Spanned<Value>>,
    /// Only validate events for which this holds; others pass.
    pub when: Option<ExprText>,
}

/// `dedup`: an event whose key was seen within `ttl` is a duplicate.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dedup {
    /// Expression giving the key (`mid`, `"CB:" + mid`).
    pub key: ExprText,
    /// Store keeping seen keys.
    pub store: Text,
    /// How long a key is remembered.
    pub ttl: Text,
    /// Topic for duplicates; dropped when not set.
    pub duplicates: Option<Text>,
    /// Flags set on duplicates.
    #[serde(default)]
    pub flags: OrderedMap<Spanned<Value>>,
    /// Only dedup events for which this holds (others pass as unique).
    pub when: Option<ExprText>,
}

/// `filter` in full form.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    /// Events for which this holds go on.
    pub when: ExprText,
    /// Topic for the others; dropped when not set.
    #[serde(rename = "else")]
    pub otherwise: Option<Text>,
    /// Flags set on the others.
    #[serde(default)]
    pub flags: OrderedMap<Spanned<Value>>,
}

/// One rule of a `route` step: `{ when, to }` or `{ else: topic }`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteRule {
    /// Condition of this rule.
    pub when: Option<ExprText>,
    /// Topics of matching events.
    pub to: Option<TopicRefs>,
    /// Topics of events no earlier rule matched.
    #[serde(rename = "else")]
    pub otherwise: Option<TopicRefs>,
    /// Fields set on the copies this rule sends.
    #[serde(default)]
    pub set: OrderedMap<ExprText>,
    /// Go on to later rules after a match (copy routing).
    #[serde(default, rename = "continue")]
    pub continue_: bool,
}

/// `explode`: one new event per item of a list field.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Explode {
    /// Field path of the list.
    pub items: ExprText,
    /// Event type of the new events (`SHARE_ITEM`).
    #[serde(rename = "as")]
    pub as_type: Option<Text>,
    /// Fields of each new event; `item` is the list item, `event` the original.
    #[serde(default)]
    pub set: OrderedMap<ExprText>,
    /// Topics of the new events.
    pub to: TopicRefs,
    /// Whether the original event also goes on (default true).
    pub keep: Option<bool>,
    /// Only explode events for which this holds (`eid == "SHARE"`); others pass on.
    pub when: Option<ExprText>,
}

/// `enrich`: look a key up in a store and put what is found into a field.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Enrich {
    /// Lookup store.
    pub store: Text,
    /// Expression giving the lookup key (`"user:" + actor.id`).
    pub key: ExprText,
    /// Field that receives what is found.
    pub into: Text,
    /// Boolean field set to whether something was found.
    pub flag: Option<Text>,
    /// Only these fields of the found record.
    #[serde(default)]
    pub fields: Vec<Text>,
    /// Only look up when this holds.
    pub when: Option<ExprText>,
}

/// `window`: tumbling, sliding or session windows over event time.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// Fixed windows of this length.
    pub tumbling: Option<Text>,
    /// Overlapping windows.
    pub sliding: Option<Sliding>,
    /// Windows that close after a gap without events.
    pub session: Option<Session>,
    /// Expressions grouping events into separate windows.
    #[serde(default)]
    pub key: OneOrMany<ExprText>,
    /// Event-time field in epoch milliseconds (default `ets`).
    pub time: Option<ExprText>,
    /// How late an event may arrive and still count.
    pub lateness: Option<Text>,
    /// Topic for events later than that.
    pub late: Option<Text>,
}

/// Sliding window parameters.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Sliding {
    /// Window length.
    pub size: Text,
    /// Distance between window starts.
    pub every: Text,
}

/// Session window parameters.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Session {
    /// Inactivity that closes a session.
    pub gap: Text,
    /// Longest session.
    pub max: Option<Text>,
}

/// `aggregate`: one event per closed window and key.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Aggregate {
    /// Output fields: `name: aggregate expression` (`count()`, `sum(x)`, `min(x)`, `max(x)`,
    /// `first(x)`, `last(x)`, `count_if(cond)`, `distinct(x)`).
    pub fields: OrderedMap<ExprText>,
    /// Event type of the output events.
    #[serde(rename = "as")]
    pub as_type: Option<Text>,
}

/// Topics a shorthand or full reference names.
pub type Targets = OneOrMany<Text>;
