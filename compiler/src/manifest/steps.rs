//! The steps of a job as the manifest holds them: every expression as its source text,
//! every duration in milliseconds and size in bytes.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Ordered;

/// A field assignment list, `field path → expression`, in written order.
pub type Assignments = Ordered<String>;
/// Constant field values, `field path → value`, in written order.
pub type Flags = Ordered<Value>;

/// One step of a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// A batch becomes its events.
    Unbatch(Unbatch),
    /// Events are checked against the schema of their type.
    Validate(Validate),
    /// Events whose key was seen within the TTL are duplicates.
    Dedup(Dedup),
    /// Fields are set from expressions.
    Set(Set),
    /// Fields are set to constants.
    Flag(Flag),
    /// Events for which a condition holds go on.
    Filter(Filter),
    /// Events go to the topics of the rules they match.
    Route(Route),
    /// Each item of a list becomes an event.
    Explode(Explode),
    /// Data looked up in a store is added.
    Enrich(Enrich),
    /// Events are grouped into windows.
    Window(Window),
    /// One event per closed window and key.
    Aggregate(Aggregate),
    /// Events are written to topics.
    Emit(Emit),
}

impl Step {
    /// The step's kind.
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

    /// The topics this step can write, in written order.
    pub fn outputs(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        match self {
            Step::Unbatch(s) => {
                out.extend(s.invalid.as_deref());
                out.extend(s.oversized.as_deref());
            }
            Step::Validate(s) => out.push(s.invalid.as_str()),
            Step::Dedup(s) => out.extend(s.duplicates.as_deref()),
            Step::Filter(s) => out.extend(s.otherwise.as_deref()),
            Step::Window(s) => out.extend(s.late.as_deref()),
            Step::Route(r) => {
                for rule in &r.rules {
                    out.extend(rule.to.iter().map(String::as_str));
                }
            }
            Step::Explode(s) => out.extend(s.to.iter().map(String::as_str)),
            Step::Emit(s) => out.extend(s.to.iter().map(String::as_str)),
            Step::Set(_) | Step::Flag(_) | Step::Enrich(_) | Step::Aggregate(_) => {}
        }
        out
    }

    /// The store this step uses.
    pub fn store(&self) -> Option<&str> {
        match self {
            Step::Dedup(s) => Some(&s.store),
            Step::Enrich(s) => Some(&s.store),
            _ => None,
        }
    }
}

/// `unbatch`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unbatch {
    /// Field holding the events.
    pub field: String,
    /// Fields set on every event, computed from the batch.
    pub carry: Assignments,
    /// Topic for batches without an event list.
    pub invalid: Option<String>,
    /// Whether a batch without its list field (or `null` there) is a batch of no events
    /// rather than an invalid one.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub missing_is_empty: bool,
    /// Largest serialized event, bytes.
    pub max_event_size: Option<u64>,
    /// Topic for larger events.
    pub oversized: Option<String>,
    /// Flags set on oversized events.
    pub oversized_flags: Flags,
    /// The event sent for every batch that has an event list.
    pub summary: Option<BatchSummary>,
}

/// `unbatch.summary`: one event per batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchSummary {
    /// Topic (the spec's name).
    pub to: String,
    /// Fixed fields.
    pub event: serde_json::Value,
    /// Fields computed from the batch (its fields but the list, plus `events_count`), set
    /// on `event` in order.
    pub set: Assignments,
}

/// `validate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Validate {
    /// Only events for which this holds are validated.
    pub when: Option<String>,
    /// Schema id prefix used instead of the event types' schemas: type `X` uses
    /// `<schema_dir><lower(X)>.json` when that id is in the manifest.
    pub schema_dir: Option<String>,
    /// Schema id for types without a schema of their own in `schema_dir`.
    pub default: Option<String>,
    /// Topic for invalid events.
    pub invalid: String,
    /// Flags set on invalid events.
    pub flags: Flags,
    /// Flags set on valid events.
    pub valid_flags: Flags,
}

/// `dedup`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dedup {
    /// Only events for which this holds are deduplicated.
    pub when: Option<String>,
    /// Expression giving the key.
    pub key: String,
    /// Store of seen keys.
    pub store: String,
    /// How long a key is remembered.
    pub ttl_ms: u64,
    /// Topic for duplicates (`null`: dropped).
    pub duplicates: Option<String>,
    /// Flags set on duplicates.
    pub flags: Flags,
}

/// `set`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Set {
    /// Field → expression.
    pub fields: Assignments,
}

/// `flag`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flag {
    /// Field → value.
    pub fields: Flags,
}

/// `filter`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    /// Events for which this holds go on.
    pub when: String,
    /// Topic for the others (`null`: dropped).
    #[serde(rename = "else")]
    pub otherwise: Option<String>,
    /// Flags set on the others.
    pub flags: Flags,
}

/// `route`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// The rules, in order.
    pub rules: Vec<RouteRule>,
}

/// One rule of a route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteRule {
    /// Condition (`null`: the `else` rule, matching what no earlier rule matched).
    pub when: Option<String>,
    /// Topics of matching events.
    pub to: Vec<String>,
    /// Fields set on the copies this rule sends.
    pub set: Assignments,
    /// Whether later rules are tried after a match.
    #[serde(rename = "continue")]
    pub continue_: bool,
}

/// `explode`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Explode {
    /// Only events for which this holds are exploded.
    pub when: Option<String>,
    /// Expression giving the list.
    pub items: String,
    /// Event type of the new events.
    #[serde(rename = "as")]
    pub as_type: Option<String>,
    /// Fields of each new event.
    pub set: Assignments,
    /// Topics of the new events.
    pub to: Vec<String>,
    /// Whether the original event goes on.
    pub keep: bool,
}

/// `enrich`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Enrich {
    /// Only events for which this holds are looked up.
    pub when: Option<String>,
    /// Lookup store.
    pub store: String,
    /// Expression giving the key.
    pub key: String,
    /// Field receiving what is found.
    pub into: String,
    /// Boolean field set to whether something was found.
    pub flag: Option<String>,
    /// Only these fields of the record (empty: all).
    pub fields: Vec<String>,
}

/// The kind and size of a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WindowKind {
    /// Fixed windows.
    Tumbling {
        /// Length.
        size_ms: u64,
    },
    /// Overlapping windows.
    Sliding {
        /// Length.
        size_ms: u64,
        /// Distance between starts.
        every_ms: u64,
    },
    /// Windows closed by a gap.
    Session {
        /// Inactivity that closes a session.
        gap_ms: u64,
        /// Longest session.
        max_ms: Option<u64>,
    },
}

/// `window`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// Kind and size.
    pub window: WindowKind,
    /// Key expressions.
    pub key: Vec<String>,
    /// Event-time expression (epoch milliseconds).
    pub time: String,
    /// Allowed lateness.
    pub lateness_ms: u64,
    /// Topic for later events (`null`: dropped).
    pub late: Option<String>,
}

/// `aggregate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Aggregate {
    /// Output field → aggregate expression.
    pub fields: Assignments,
    /// Event type of the output.
    #[serde(rename = "as")]
    pub as_type: Option<String>,
}

/// `emit`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Emit {
    /// Topics.
    pub to: Vec<String>,
}
