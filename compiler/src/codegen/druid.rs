//! Druid Kafka supervisor specs, one per datasource, in the layout of Sunbird's hand-written
//! ones (`parser.parseSpec` with a `flattenSpec` of the dimensions' paths). Built as a JSON
//! value rather than from a template so that every name and path is escaped by the JSON
//! writer; keys keep the order written here.

use serde_json::{Map, Value, json};

use crate::manifest::{DruidDatasource, Manifest};
use crate::validate::druid::paths;

/// The supervisor spec of datasource `name`, as pretty JSON with a final newline.
pub fn supervisor(m: &Manifest, name: &str, ds: &DruidDatasource) -> String {
    let topic = m.topics.get(&ds.topic);
    let kafka_name = topic.map_or(ds.topic.as_str(), |t| t.name.as_str());
    let brokers = topic
        .and_then(|t| m.clusters.get(&t.cluster))
        .map_or("", |c| c.brokers.as_str());

    let mut fields = Vec::new();
    let mut flattened = Vec::new();
    let mut flatten = |column: &str, path: &str| {
        if flattened.iter().any(|c| c == column) {
            return;
        }
        flattened.push(column.to_string());
        let segs = paths::parse(path).unwrap_or_default();
        fields.push(match paths::root_name(&segs) {
            Some(root) if root == column => json!({ "type": "root", "name": column }),
            _ => json!({ "type": "path", "name": column, "expr": paths::json_path(&segs) }),
        });
    };
    for d in &ds.dimensions {
        flatten(&d.name, &d.path);
    }
    // The time column is read like a dimension even when it is not one.
    flatten(&ds.timestamp.column, &ds.timestamp.path);

    let dimensions: Vec<Value> = ds
        .dimensions
        .iter()
        .map(|d| match &d.ty {
            Some(t) => json!({ "type": t, "name": d.name }),
            None => json!({ "name": d.name }),
        })
        .collect();
    let metrics: Vec<Value> = ds
        .metrics
        .iter()
        .map(|mt| match &mt.field {
            Some(f) => json!({ "type": mt.ty, "name": mt.name, "fieldName": f }),
            None => json!({ "type": mt.ty, "name": mt.name }),
        })
        .collect();

    let mut consumer = Map::new();
    consumer.insert("bootstrap.servers".into(), Value::from(brokers));
    for (k, v) in ds.consumer.iter() {
        consumer.insert(k.to_string(), v.clone());
    }
    let mut tuning = Map::new();
    tuning.insert("type".into(), Value::from("kafka"));
    for (k, v) in ds.tuning.iter() {
        tuning.insert(k.to_string(), v.clone());
    }

    let spec = json!({
        "type": "kafka",
        "dataSchema": {
            "dataSource": name,
            "parser": {
                "type": "string",
                "parseSpec": {
                    "format": "json",
                    "flattenSpec": { "useFieldDiscovery": false, "fields": fields },
                    "dimensionsSpec": { "dimensions": dimensions, "dimensionsExclusions": [] },
                    "timestampSpec": { "column": ds.timestamp.column, "format": ds.timestamp.format }
                }
            },
            "metricsSpec": metrics,
            "granularitySpec": {
                "type": "uniform",
                "segmentGranularity": ds.segment_granularity,
                "queryGranularity": ds.query_granularity,
                "rollup": ds.rollup
            }
        },
        "ioConfig": {
            "topic": kafka_name,
            "consumerProperties": consumer,
            "taskCount": ds.task_count,
            "replicas": ds.replicas,
            "taskDuration": format!("PT{}S", ds.task_duration_ms / 1000),
            "useEarliestOffset": ds.use_earliest_offset
        },
        "tuningConfig": tuning
    });
    let mut s = serde_json::to_string_pretty(&spec).unwrap_or_default();
    s.push('\n');
    s
}
