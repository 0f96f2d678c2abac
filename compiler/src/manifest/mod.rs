//! The manifest: the resolved, validated pipeline for one environment. It is what
//! `pipec compile` writes as `manifest.json`, what the runtime executes and what
//! `pipec plan` compares. Names are resolved, defaults and environment overrides applied,
//! durations are milliseconds and sizes bytes, and every schema is embedded with its
//! sha256, so a manifest stands on its own.
//!
//! Stability: maps are sorted by key, struct fields keep their declared order, and every
//! field is always written (`null` when not set), so the same spec gives the same bytes.
//! `manifest_version` changes when a field changes meaning or is removed.

mod batch;
mod druid;
mod lower;
mod ordered;
pub mod spec_tests;
mod steps;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use crate::spec::{BackupPartition, Compatibility, Compression, FileFormat, LookupFormat};
pub use batch::*;
pub use druid::*;
pub use lower::lower;
pub use ordered::Ordered;
pub use steps::*;

/// The version of the manifest format this compiler writes and reads.
pub const MANIFEST_VERSION: u32 = 1;

/// A resolved pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The format version ([`MANIFEST_VERSION`]).
    pub manifest_version: u32,
    /// The `pipec` that wrote it (`pipec 0.1.0`).
    pub generator: String,
    /// The pipeline's name.
    pub pipeline: String,
    /// What the pipeline is for.
    pub description: Option<String>,
    /// The environment it was compiled for.
    pub env: String,
    /// Field whose value names an event's type.
    pub type_field: String,
    /// Kafka clusters, by name.
    pub clusters: BTreeMap<String, Cluster>,
    /// Topics, by the name the spec uses for them.
    pub topics: BTreeMap<String, Topic>,
    /// Stores, by name.
    pub stores: BTreeMap<String, Store>,
    /// Event types, by name.
    pub event_types: BTreeMap<String, EventType>,
    /// Every schema file used, by id (its path relative to the spec's directory).
    pub schemas: BTreeMap<String, Schema>,
    /// JSON Schema draft of schemas that do not name one (`4`, `7`, `2020-12`, ...).
    pub schema_draft: String,
    /// `$ref` URI prefixes and the schema id prefix each maps to.
    pub schema_refs: BTreeMap<String, String>,
    /// Stream jobs, by name.
    pub jobs: BTreeMap<String, Job>,
    /// Topic backups, by name.
    pub backups: BTreeMap<String, Backup>,
    /// Batch reports, by name.
    pub reports: BTreeMap<String, Report>,
    /// Databases of report inputs and outputs, by name.
    #[serde(default)]
    pub databases: BTreeMap<String, Database>,
    /// Druid datasources, by name; absent when there are none (which keeps the manifests
    /// of pipelines without Druid as they were before the field).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub druid: BTreeMap<String, DruidDatasource>,
}

impl Manifest {
    /// The manifest as pretty-printed JSON with a final newline: the bytes of
    /// `manifest.json`.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// Reads a manifest, refusing one of another format version.
    pub fn from_json(text: &str) -> Result<Manifest, String> {
        let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        match v.get("manifest_version").and_then(Value::as_u64) {
            Some(n) if n == u64::from(MANIFEST_VERSION) => {}
            Some(n) => {
                return Err(format!(
                    "manifest_version {n} is not supported (this pipec reads {MANIFEST_VERSION})"
                ));
            }
            None => return Err("no `manifest_version`: not a pipec manifest".into()),
        }
        serde_json::from_value(v).map_err(|e| format!("not a valid manifest: {e}"))
    }

    /// The manifest restricted to what one job needs: the job, the topics it reads and
    /// writes, its stores, its clusters and the schemas its `validate` steps use.
    pub fn for_job(&self, name: &str) -> Option<Manifest> {
        let job = self.jobs.get(name)?;
        let mut topics: Vec<&str> = vec![job.from.as_str()];
        topics.extend(job.outputs.iter().map(String::as_str));
        let topics: BTreeMap<String, Topic> = self
            .topics
            .iter()
            .filter(|(k, _)| topics.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let clusters = self
            .clusters
            .iter()
            .filter(|(k, _)| topics.values().any(|t| &t.cluster == *k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let stores = self
            .stores
            .iter()
            .filter(|(k, _)| job.stores.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let validates = job.steps.iter().any(|s| matches!(s, Step::Validate(_)));
        let schemas = if validates {
            self.schemas.clone()
        } else {
            BTreeMap::new()
        };
        // Built field by field: cloning the whole manifest per job would copy every
        // topic and schema once per job.
        Some(Manifest {
            manifest_version: self.manifest_version,
            generator: self.generator.clone(),
            pipeline: self.pipeline.clone(),
            description: self.description.clone(),
            env: self.env.clone(),
            type_field: self.type_field.clone(),
            clusters,
            topics,
            stores,
            event_types: self.event_types.clone(),
            schemas,
            schema_draft: self.schema_draft.clone(),
            schema_refs: self.schema_refs.clone(),
            jobs: BTreeMap::from([(name.to_string(), job.clone())]),
            backups: BTreeMap::new(),
            reports: BTreeMap::new(),
            databases: BTreeMap::new(),
            druid: BTreeMap::new(),
        })
    }

    /// The manifest restricted to what batch reports need: reports, backups, topics,
    /// clusters and stores; no jobs and no schemas.
    pub fn for_reports(&self) -> Manifest {
        Manifest {
            jobs: BTreeMap::new(),
            schemas: BTreeMap::new(),
            druid: BTreeMap::new(),
            ..self.clone()
        }
    }

    /// The secret references the pipeline uses, by environment variable.
    pub fn secrets(&self) -> BTreeMap<String, SecretRef> {
        let mut out = BTreeMap::new();
        for c in self.clusters.values() {
            if let Some(s) = &c.sasl {
                out.insert(s.password.env.clone(), s.password.clone());
            }
            if let Some(ca) = c.tls.as_ref().and_then(|t| t.ca_secret.as_ref()) {
                out.insert(ca.env.clone(), ca.clone());
            }
        }
        for s in self.stores.values() {
            if let Store::Redis(r) = s
                && let Some(p) = &r.password
            {
                out.insert(p.env.clone(), p.clone());
            }
        }
        out
    }
}

/// A Kafka cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cluster {
    /// Bootstrap servers.
    pub brokers: String,
    /// Whether topics that name no cluster live here.
    pub default: bool,
    /// librdkafka client settings, as strings.
    pub config: BTreeMap<String, String>,
    /// SASL authentication.
    pub sasl: Option<Sasl>,
    /// TLS to the brokers; absent means none (and keeps the manifests of clusters without
    /// TLS as they were before the field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<Tls>,
}

/// TLS to a cluster's brokers; with neither CA, the system's CAs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tls {
    /// CA certificate file (PEM), relative to the spec's directory or absolute.
    pub ca: Option<String>,
    /// CA certificate (PEM) in a Kubernetes Secret, read from its environment variable.
    pub ca_secret: Option<SecretRef>,
}

/// SASL authentication.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sasl {
    /// `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512`.
    pub mechanism: String,
    /// User name.
    pub username: String,
    /// Where the password is.
    pub password: SecretRef,
}

/// A reference to a secret: never its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretRef {
    /// Kubernetes Secret name.
    pub secret: String,
    /// Key in the Secret.
    pub key: String,
    /// Environment variable the process reads the value from.
    pub env: String,
}

/// A Kafka topic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topic {
    /// Kafka topic name.
    pub name: String,
    /// Cluster it lives on.
    pub cluster: String,
    /// Partition count.
    pub partitions: u32,
    /// Replication factor.
    pub replication: u32,
    /// Kafka topic configs, as strings (`retention.ms`, `max.message.bytes`, ...).
    pub config: BTreeMap<String, String>,
    /// Expression whose value is the record key.
    pub key: Option<String>,
    /// Written by systems outside this pipeline.
    pub external: bool,
    /// Event types it carries (`null`: any).
    pub events: Option<Vec<String>>,
    /// What it is for.
    pub description: Option<String>,
}

impl Topic {
    /// `retention.ms`, when set.
    pub fn retention_ms(&self) -> Option<i64> {
        self.config.get("retention.ms").and_then(|v| v.parse().ok())
    }
}

/// A store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Store {
    /// A Redis database.
    Redis(RedisStore),
    /// An in-process store.
    Memory(MemoryStore),
}

/// A Redis database.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisStore {
    /// `redis://host:port`.
    pub url: String,
    /// Database number.
    pub db: u32,
    /// How lookup values are kept.
    pub format: Option<LookupFormat>,
    /// AUTH password.
    pub password: Option<SecretRef>,
}

/// An in-process store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryStore {
    /// Most keys kept.
    pub max_keys: Option<u64>,
    /// Entry lifetime.
    pub ttl_ms: Option<u64>,
    /// Snapshot file, relative to the spec's directory.
    pub snapshot: Option<String>,
    /// Lookup data loaded at start, relative to the spec's directory.
    pub load: Option<String>,
    /// Key field of loaded records.
    pub key: Option<String>,
}

/// An event type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventType {
    /// Id of its schema in [`Manifest::schemas`] (`null`: no schema).
    pub schema: Option<String>,
    /// Compatibility mode of changes to its schema.
    pub compatibility: Compatibility,
    /// What it means.
    pub description: Option<String>,
}

/// A schema file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schema {
    /// sha256 of the file's bytes, hex.
    pub sha256: String,
    /// The document.
    pub document: Value,
}

/// Kubernetes resources of one replica.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    /// CPU (`500m`, `2`).
    pub cpu: Option<String>,
    /// Memory (`1Gi`).
    pub memory: Option<String>,
}

/// A stream job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Job {
    /// What it does.
    pub description: Option<String>,
    /// Topic it consumes (a key of [`Manifest::topics`]).
    pub from: String,
    /// Kafka consumer group: `<env>.<pipeline>.<job>`.
    pub consumer_group: String,
    /// Replica count.
    pub replicas: u32,
    /// Resources of each replica.
    pub resources: Resources,
    /// Every topic its steps can write, sorted.
    pub outputs: Vec<String>,
    /// Every store its steps use, sorted.
    pub stores: Vec<String>,
    /// The steps, in order.
    pub steps: Vec<Step>,
}

#[cfg(test)]
mod tests;
