//! The `druid:` section of the spec format: Druid datasources fed from the pipeline's
//! topics, from which `pipec compile` writes Kafka supervisor (ingestion) specs.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::model::Text;
use super::wrappers::{OrderedMap, ScalarOr, Spanned};

/// Druid ingestion of the pipeline's topics.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Druid {
    /// Datasources, by name (the Druid `dataSource`; also the file `druid/<name>.json`).
    #[serde(default)]
    pub datasources: OrderedMap<Datasource>,
}

/// One Druid datasource, ingested from one topic by a Kafka supervisor.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Datasource {
    /// The topic Druid reads (a topic of the spec); its cluster gives the brokers.
    pub topic: Text,
    /// What the datasource is for.
    pub description: Option<Text>,
    /// The event field holding each row's time: a column name, or `{ column, format }`.
    pub timestamp: ScalarOr<Text, Timestamp>,
    /// Segment and query granularity, and rollup.
    pub granularity: Option<Granularity>,
    /// The dimensions: `auto` (every field the event schemas of the types reaching the
    /// topic declare, flattened) or a list of field paths (`actor.id`,
    /// `context.cdata[*].id`) or `{ name, path, type }`.
    pub dimensions: Option<ScalarOr<Text, Vec<DimensionItem>>>,
    /// Field paths left out of `auto` dimensions (a path leaves out everything under it).
    #[serde(default)]
    pub exclude: Vec<Text>,
    /// Metrics (aggregations at ingestion).
    #[serde(default)]
    pub metrics: Vec<Spanned<Metric>>,
    /// Kafka supervisor settings (`ioConfig`).
    pub io: Option<DruidIo>,
    /// Druid `tuningConfig` keys, written as given (`reportParseExceptions: false`).
    #[serde(default)]
    pub tuning: OrderedMap<Spanned<Value>>,
}

/// One listed dimension: a field path, or `{ name, path, type }`.
pub type DimensionItem = Spanned<ScalarOr<Text, Dimension>>;

/// The time column of a datasource.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Timestamp {
    /// Field path of the time (`ets`, `syncts`).
    pub column: Text,
    /// Druid's timestamp format: `auto` (the default), `iso`, `millis`, `posix`, `micro`,
    /// `nano` or a Joda pattern.
    pub format: Option<Text>,
}

/// Granularity and rollup of a datasource.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Granularity {
    /// Time span of a segment (`day` when not said).
    pub segment: Option<Spanned<GranularityName>>,
    /// Time precision of stored rows (`none` when not said).
    pub query: Option<Spanned<GranularityName>>,
    /// Whether rows of equal dimensions and time are combined (Druid's default: `true`).
    pub rollup: Option<Spanned<bool>>,
}

/// Druid's granularity names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum GranularityName {
    All,
    None,
    Second,
    Minute,
    FiveMinute,
    TenMinute,
    FifteenMinute,
    ThirtyMinute,
    Hour,
    SixHour,
    EightHour,
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

/// A dimension written in full.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dimension {
    /// Column name in Druid (from the path when not said: `actor.id` → `actor_id`).
    pub name: Option<Text>,
    /// Field path of the value; `[*]` takes every element of a list (a multi-value
    /// dimension). The name when not said.
    pub path: Option<Text>,
    /// Druid type; from the schemas when not said.
    #[serde(rename = "type")]
    pub ty: Option<Spanned<DimensionType>>,
}

/// Druid dimension types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DimensionType {
    /// Strings (and multi-value strings).
    String,
    /// 64-bit integers.
    Long,
    /// 32-bit floats.
    Float,
    /// 64-bit floats.
    Double,
}

/// A metric computed at ingestion.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Metric {
    /// Column name in Druid.
    pub name: Text,
    /// Aggregator (`count`, `longSum`, `doubleSum`, ...).
    #[serde(rename = "type")]
    pub ty: Spanned<MetricType>,
    /// The dimension (column) aggregated; not for `count`.
    pub field: Option<Text>,
}

/// Druid aggregators usable at ingestion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub enum MetricType {
    Count,
    LongSum,
    LongMin,
    LongMax,
    LongFirst,
    LongLast,
    DoubleSum,
    DoubleMin,
    DoubleMax,
    DoubleFirst,
    DoubleLast,
    FloatSum,
    FloatMin,
    FloatMax,
    HyperUnique,
}

/// Kafka supervisor settings of a datasource (Druid's `ioConfig`).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DruidIo {
    /// Reading tasks (`taskCount`, 1 when not said).
    pub tasks: Option<Spanned<u32>>,
    /// Replicas of each task (`replicas`, 1 when not said).
    pub replicas: Option<Spanned<u32>>,
    /// How long a task reads before its segments are published (`taskDuration`, `1h`
    /// when not said).
    pub task_duration: Option<Text>,
    /// Start a new datasource at the earliest offset rather than the latest
    /// (`useEarliestOffset`, false when not said).
    pub earliest_offset: Option<Spanned<bool>>,
    /// Kafka consumer properties beside `bootstrap.servers` (which comes from the topic's
    /// cluster).
    #[serde(default)]
    pub consumer: OrderedMap<Spanned<Value>>,
}
