//! Druid datasources in the manifest: everything a Kafka supervisor spec needs, resolved
//! (dimensions derived from the schemas or listed, defaults applied, durations in
//! milliseconds). [`crate::codegen`] writes them as `druid/<datasource>.json`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Ordered;

/// One Druid datasource ingested from a topic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DruidDatasource {
    /// The topic read (a key of the manifest's `topics`).
    pub topic: String,
    /// The time column.
    pub timestamp: DruidTimestamp,
    /// Druid's `segmentGranularity` (`day`).
    pub segment_granularity: String,
    /// Druid's `queryGranularity` (`none`).
    pub query_granularity: String,
    /// Whether rows are rolled up.
    pub rollup: bool,
    /// The dimensions, in order.
    pub dimensions: Vec<DruidDimension>,
    /// The metrics, in order.
    pub metrics: Vec<DruidMetric>,
    /// `taskCount`.
    pub task_count: u32,
    /// `replicas`.
    pub replicas: u32,
    /// `taskDuration`, in milliseconds.
    pub task_duration_ms: u64,
    /// `useEarliestOffset`.
    pub use_earliest_offset: bool,
    /// Kafka consumer properties beside `bootstrap.servers`, in order.
    pub consumer: Ordered<Value>,
    /// `tuningConfig` keys beside `type`, in order.
    pub tuning: Ordered<Value>,
}

/// The time column of a datasource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DruidTimestamp {
    /// The column name (the flattened field).
    pub column: String,
    /// The field path it is read from (`syncts`, `context.time`).
    pub path: String,
    /// Druid's timestamp format (`auto`).
    pub format: String,
}

/// A dimension: a column read from a field path of the event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DruidDimension {
    /// Column name.
    pub name: String,
    /// Field path, with `[*]` for every element of a list (`context.cdata[*].id`).
    pub path: String,
    /// Druid type (`string`, `long`, `float`, `double`); `None` for a multi-value
    /// dimension written without one (Druid reads it as strings).
    #[serde(rename = "type")]
    pub ty: Option<String>,
}

/// A metric computed at ingestion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DruidMetric {
    /// Column name.
    pub name: String,
    /// Druid aggregator (`longSum`).
    #[serde(rename = "type")]
    pub ty: String,
    /// The column aggregated (none for `count`).
    pub field: Option<String>,
}
