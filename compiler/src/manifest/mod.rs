//! The manifest: the resolved, validated pipeline for one environment. It is what
//! `pipec compile` writes as `manifest.json`, what the runtime executes and what
//! `pipec plan` compares. Names are resolved, defaults and environment overrides applied,
//! durations are milliseconds and sizes bytes, and every schema is embedded with its
//! sha256, so a manifest stands on its own.
//!
//! Stability: maps are sorted by key, struct fields keep their declared order, and every
//! field is always written (`null` when not set), so the same spec gives the same bytes.
//! `manifest_version` changes when a field changes meaning or is removed.

mod lower;
mod ordered;
pub mod spec_tests;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use crate::spec::{BackupPartition, Compatibility, FileFormat, LookupFormat};
pub use lower::lower;
pub use ordered::Ordered;

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
        })
    }

    /// The manifest restricted to what batch reports need: reports, backups, topics,
    /// clusters and stores; no jobs and no schemas.
    pub fn for_reports(&self) -> Manifest {
        Manifest {
            jobs: BTreeMap::new(),
            schemas: BTreeMap::new(),
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

/// A topic backup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Backup {
    /// Topic backed up.
    pub topic: String,
    /// Path template (`{date}`, `{hour}`).
    pub path: String,
    /// File format.
    pub format: FileFormat,
    /// File granularity.
    pub partition: BackupPartition,
}

/// A batch report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// What it is.
    pub description: Option<String>,
    /// Cron schedule, UTC.
    pub schedule: String,
    /// Built-in model.
    pub model: Option<String>,
    /// SQL of a SQL report.
    pub sql: Option<SqlFile>,
    /// Model parameters.
    pub params: Ordered<Value>,
    /// Inputs, by name.
    pub inputs: Ordered<ReportInput>,
    /// Outputs, by name.
    pub outputs: Ordered<ReportOutput>,
}

/// The SQL of a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqlFile {
    /// Path relative to the spec's directory.
    pub path: String,
    /// sha256 of the file, hex.
    pub sha256: String,
    /// The text.
    pub text: String,
}

/// A report input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportInput {
    /// A backup of the pipeline.
    pub backup: Option<String>,
    /// Files (glob), relative to the data directory.
    pub path: Option<String>,
    /// File format.
    pub format: Option<FileFormat>,
    /// Which day: `yesterday`, `today` or `-Nd`, relative to the run's `--date`.
    pub date: Option<String>,
}

/// A report output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportOutput {
    /// A topic of the pipeline.
    pub topic: Option<String>,
    /// Directory template.
    pub path: Option<String>,
    /// File format.
    pub format: Option<FileFormat>,
    /// Column splitting the output into files.
    pub partition_by: Option<String>,
}

#[cfg(test)]
mod tests;
