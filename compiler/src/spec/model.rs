//! The spec format: the types a spec file is read into.
//!
//! These types are the single definition of the format: the YAML is read into them, and
//! `pipec schema` derives the JSON Schema for editors from them, so the two cannot drift.
//! Names in the spec (topics, stores, streams, ...) are keys of mappings; references
//! to them are plain strings that validation resolves.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::wrappers::{Items, OneOrMany, OrderedMap, ScalarOr, SeqOr, Spanned};

/// A string with its span.
pub type Text = Spanned<String>;
/// An expression, written as a YAML string.
pub type ExprText = Spanned<String>;

/// One spec file. The root file names the pipeline; included files add sections.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "pipec pipeline spec")]
pub struct SpecFile {
    /// Name of the pipeline (root file only).
    pub pipeline: Option<Text>,
    /// What the pipeline is for.
    pub description: Option<Text>,
    /// Further spec files, relative to this one; their sections are merged into this spec.
    #[serde(default)]
    pub include: Vec<Text>,
    /// Variables substituted as `{name}` in every string; `env` is set by `--env` or `PIPEC_ENV`.
    #[serde(default)]
    #[schemars(schema_with = "map_of_scalars")]
    pub vars: OrderedMap<Text>,
    /// Defaults for topics and streams.
    pub defaults: Option<Defaults>,
    /// Kafka clusters, by name.
    #[serde(default)]
    pub clusters: OrderedMap<Cluster>,
    /// State and lookup stores, by name.
    #[serde(default)]
    pub stores: OrderedMap<Store>,
    /// Event types and their JSON Schemas.
    pub events: Option<Events>,
    /// Kafka topics, by the name the spec uses for them.
    #[serde(default)]
    pub topics: OrderedMap<Topic>,
    /// Stream jobs, by name.
    #[serde(default)]
    pub streams: OrderedMap<Stream>,
    /// Topic backups to date-partitioned files.
    #[serde(default)]
    pub backups: OrderedMap<Backup>,
    /// Batch report models.
    #[serde(default)]
    pub reports: OrderedMap<Report>,
    /// Databases reports read tables from and write tables to, by name.
    #[serde(default)]
    pub databases: OrderedMap<Database>,
    /// Druid datasources fed from topics: `pipec compile` writes their ingestion specs.
    pub druid: Option<super::druid::Druid>,
    /// Tests of the spec, run by `pipec test`.
    #[serde(default)]
    pub tests: Items<Spanned<SpecTest>>,
    /// Per-environment settings, chosen by `--env` (root file only).
    #[serde(default)]
    pub environments: OrderedMap<Environment>,
}

/// What changes in one environment: its variables and overrides of topics, streams and
/// report schedules. Everything not named here is as the rest of the spec says.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    /// Variables of this environment; they replace `vars` of the same name.
    #[serde(default)]
    #[schemars(schema_with = "map_of_scalars")]
    pub vars: OrderedMap<Text>,
    /// Defaults of this environment; they replace the spec's `defaults` key by key.
    pub defaults: Option<Defaults>,
    /// Topic settings of this environment, by topic.
    #[serde(default)]
    pub topics: OrderedMap<TopicOverride>,
    /// Stream settings of this environment, by stream.
    #[serde(default)]
    pub streams: OrderedMap<StreamDefaults>,
    /// Report settings of this environment, by report.
    #[serde(default)]
    pub reports: OrderedMap<ReportOverride>,
}

/// Topic settings one environment changes.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TopicOverride {
    /// Partition count.
    pub partitions: Option<Spanned<u32>>,
    /// Replication factor.
    pub replication: Option<Spanned<u32>>,
    /// Retention, such as `7d`.
    pub retention: Option<Text>,
    /// Kafka topic configs, merged over the topic's own.
    #[serde(default)]
    pub config: OrderedMap<Spanned<Value>>,
}

/// Report settings one environment changes.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportOverride {
    /// Cron schedule, UTC.
    pub schedule: Option<Text>,
}

/// A secret kept outside the spec: a key of a Kubernetes Secret, handed to the process in
/// an environment variable. The spec and everything generated from it hold only this
/// reference, never the secret's value.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretRef {
    /// Name of the Kubernetes Secret.
    pub secret: Text,
    /// Key in the Secret.
    pub key: Text,
    /// Environment variable the value is read from (default `PIPEC_SECRET_<SECRET>_<KEY>`).
    pub env: Option<Text>,
}

/// SASL authentication with a Kafka cluster.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Sasl {
    /// `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512`.
    pub mechanism: Text,
    /// User name.
    pub username: Text,
    /// Password.
    pub password: SecretRef,
}

/// Defaults applied where a topic or stream does not say.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// Topic defaults.
    pub topic: Option<TopicDefaults>,
    /// Stream defaults.
    pub stream: Option<StreamDefaults>,
}

/// Topic settings used when a topic does not set them.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TopicDefaults {
    /// Cluster of topics that name none.
    pub cluster: Option<Text>,
    /// Partition count.
    pub partitions: Option<Spanned<u32>>,
    /// Replication factor.
    pub replication: Option<Spanned<u32>>,
    /// Retention, such as `48h` or `7d`.
    pub retention: Option<Text>,
    /// Other Kafka topic configs (`max.message.bytes: 5242880`).
    #[serde(default)]
    pub config: OrderedMap<Spanned<Value>>,
}

/// Stream settings used when a stream does not set them.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StreamDefaults {
    /// Replica count.
    pub replicas: Option<Spanned<u32>>,
    /// Resources of each replica.
    pub resources: Option<Resources>,
}

/// A Kafka cluster.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Cluster {
    /// Bootstrap servers, `host:port[,host:port]`.
    pub brokers: Text,
    /// Whether topics that name no cluster live here.
    #[serde(default)]
    pub default: bool,
    /// librdkafka client settings.
    #[serde(default)]
    pub config: OrderedMap<Spanned<Value>>,
    /// SASL authentication.
    pub sasl: Option<Sasl>,
    /// TLS to the brokers (with `sasl`: SASL_SSL).
    pub tls: Option<Tls>,
}

/// TLS to a Kafka cluster's brokers. Without `ca` or `ca_secret`, the brokers' certificates
/// are checked against the system's CAs.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tls {
    /// The CA certificate (PEM) that signed the brokers' certificates: a file, relative to the
    /// spec's directory or absolute (a path on the machine or in the pod that runs the jobs).
    pub ca: Option<Text>,
    /// The CA certificate (PEM) as a key of a Kubernetes Secret (the Helm chart hands it to
    /// the pods and to KEDA's Kafka trigger).
    pub ca_secret: Option<SecretRef>,
}

/// A state or lookup store: exactly one of `redis` and `memory`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Store {
    /// Redis URL, such as `redis://127.0.0.1:6379`.
    pub redis: Option<Text>,
    /// Redis database number (0-15).
    pub db: Option<Spanned<u32>>,
    /// An in-process store.
    pub memory: Option<MemoryStore>,
    /// How lookup values are kept: `hash` (Redis hashes) or `json` (JSON strings).
    pub format: Option<Spanned<LookupFormat>>,
    /// Redis password (AUTH).
    pub password: Option<SecretRef>,
}

/// How a lookup store keeps its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LookupFormat {
    /// A Redis hash per key.
    Hash,
    /// A JSON document per key.
    Json,
}

/// An in-process store.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemoryStore {
    /// Most keys kept; the least recently written are evicted first.
    pub max_keys: Option<Spanned<u64>>,
    /// How long an entry lives, such as `1h`.
    pub ttl: Option<Text>,
    /// File written on shutdown and read on start.
    pub snapshot: Option<Text>,
    /// JSON, NDJSON or CSV file loaded at start (lookup data).
    pub load: Option<Text>,
    /// Field of each loaded record that is its key.
    pub key: Option<Text>,
}

/// Event types and where their schemas are.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Events {
    /// Field whose value names an event's type (Sunbird: `eid`).
    pub type_field: Option<Text>,
    /// Directory of schemas: type `X` uses `<dir>/<lower(X)>.json`.
    pub schemas: Option<Text>,
    /// `$ref` URI prefixes mapped to local directories.
    #[serde(default)]
    pub refs: OrderedMap<Text>,
    /// JSON Schema draft of schemas that do not say (`4`, `6`, `7`, `2019-09`, `2020-12`).
    #[serde(default)]
    #[schemars(schema_with = "string_or_number")]
    pub draft: Option<Text>,
    /// Default compatibility mode of schema changes.
    pub compatibility: Option<Spanned<Compatibility>>,
    /// The event types: a list of names, or a mapping of names to settings.
    pub types: Option<EventTypes>,
}

/// Event types written as a list of names or a mapping of names to settings.
pub type EventTypes = SeqOr<Vec<Text>, OrderedMap<Option<EventType>>>;

/// Settings of one event type.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventType {
    /// Schema file, relative to the spec; `none` for a type without a schema.
    pub schema: Option<Text>,
    /// Compatibility mode of changes to this type's schema.
    pub compatibility: Option<Spanned<Compatibility>>,
    /// What the event means.
    pub description: Option<Text>,
}

/// Schema compatibility modes, as in Confluent Schema Registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Compatibility {
    /// New schema reads data written with the old one.
    Backward,
    /// Old schema reads data written with the new one.
    Forward,
    /// Both.
    Full,
    /// Not checked.
    None,
}

/// A Kafka topic.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Topic {
    /// Kafka topic name; `{env}` and other vars are substituted.
    pub name: Text,
    /// Cluster the topic lives on.
    pub cluster: Option<Text>,
    /// Partition count.
    pub partitions: Option<Spanned<u32>>,
    /// Replication factor.
    pub replication: Option<Spanned<u32>>,
    /// Retention, such as `48h`.
    pub retention: Option<Text>,
    /// Field path whose value is the record key.
    pub key: Option<ExprText>,
    /// Other Kafka topic configs.
    #[serde(default)]
    pub config: OrderedMap<Spanned<Value>>,
    /// Written by systems outside this pipeline.
    #[serde(default)]
    pub external: bool,
    /// Event types the topic carries (all types when not said).
    pub events: Option<Vec<Text>>,
    /// What the topic is for.
    pub description: Option<Text>,
}

/// Kubernetes resources of one replica.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    /// CPU, such as `500m` or `2`.
    #[serde(default)]
    #[schemars(schema_with = "string_or_number")]
    pub cpu: Option<Text>,
    /// Memory, such as `1Gi`.
    #[serde(default)]
    #[schemars(schema_with = "string_or_number")]
    pub memory: Option<Text>,
}

/// A stream job: source topic, ordered steps, named outputs.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Stream {
    /// Topic the job consumes.
    pub from: Text,
    /// What the job does.
    pub description: Option<Text>,
    /// Replica count.
    pub replicas: Option<Spanned<u32>>,
    /// Resources of each replica.
    pub resources: Option<Resources>,
    /// The steps, in order.
    pub steps: Items<Spanned<super::steps::Step>>,
}

/// A topic backed up to date-partitioned files (what Secor did).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Backup {
    /// Topic to back up.
    pub topic: Text,
    /// Path template; `{date}` (and `{hour}`) are filled per partition.
    pub path: Text,
    /// File format.
    pub format: Option<Spanned<FileFormat>>,
    /// How often a new folder is started.
    pub partition: Option<Spanned<BackupPartition>>,
    /// Compression of NDJSON files (`gzip`).
    pub compression: Option<Spanned<Compression>>,
    /// The field of an event holding its time (epoch milliseconds) that picks its folder,
    /// such as `syncts`; without it, the record's time (Kafka's timestamp, else the time
    /// it is written).
    pub time_field: Option<Text>,
    /// When a file is closed and a new one started: at a size (`64MiB`) or an age (`10m`).
    pub roll: Option<BackupRoll>,
}

/// When a backup file is closed (made visible) and a new one started.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BackupRoll {
    /// Size of a file (`64MiB`); 128 MiB when not said.
    pub size: Option<Text>,
    /// Age of a file since its first record (`10m`); 15 minutes when not said.
    pub age: Option<Text>,
}

/// Compression of backup files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Compression {
    /// None.
    #[default]
    None,
    /// gzip (`.ndjson.gz`).
    Gzip,
}

/// A database of tables that reports read and write.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Database {
    /// PostgreSQL connection URL (`postgres://user@host:5432/db`); a password belongs in
    /// `password`, not in the URL.
    pub postgres: Text,
    /// Schema the tables are in (`public` when not said).
    pub schema: Option<Text>,
    /// SQL file with the `CREATE TABLE` statements of the tables, relative to the spec: the
    /// columns `pipec check` checks reports' SQL against, without connecting.
    pub ddl: Option<Text>,
    /// Password.
    pub password: Option<SecretRef>,
}

/// File formats of backups, report inputs and outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileFormat {
    /// One JSON document per line.
    Ndjson,
    /// Comma-separated values with a header.
    Csv,
    /// Apache Parquet.
    Parquet,
}

/// Backup file granularity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BackupPartition {
    /// One folder per day.
    Daily,
    /// One folder per hour.
    Hourly,
}

/// A batch report model: a built-in model or a SQL file, run on a schedule.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// Cron schedule, UTC (`30 5 * * *`).
    pub schedule: Text,
    /// Built-in model name (such as `workflow_summary`).
    pub model: Option<Text>,
    /// SQL file, relative to the spec.
    pub sql: Option<Text>,
    /// Parameters of the built-in model.
    #[serde(default)]
    pub params: OrderedMap<Spanned<Value>>,
    /// Named inputs.
    #[serde(default)]
    pub inputs: OrderedMap<ReportInput>,
    /// Named outputs.
    #[serde(default)]
    pub outputs: OrderedMap<ReportOutput>,
    /// What the report is.
    pub description: Option<Text>,
}

/// Where a report reads from: a backup, a topic or files.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportInput {
    /// A backup of the spec.
    pub backup: Option<Text>,
    /// Files (glob allowed).
    pub path: Option<Text>,
    /// File format of `path`.
    pub format: Option<Spanned<FileFormat>>,
    /// Which day's data: `yesterday`, `today`, or `-Nd`.
    pub date: Option<Text>,
    /// A table of a database, `database.table`.
    pub table: Option<Text>,
    /// The columns of `path` files and their types (`string`, `int`, `float`, `bool`,
    /// `date`, `timestamp`), in order; read from the files when not said.
    #[serde(default)]
    pub columns: OrderedMap<Text>,
    /// Only the rows (events) for which this expression holds.
    pub filter: Option<ExprText>,
}

/// Where a report writes: a topic or files.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportOutput {
    /// A topic of the spec.
    pub topic: Option<Text>,
    /// Directory template (`reports/{date}/`).
    pub path: Option<Text>,
    /// File format of `path`.
    pub format: Option<Spanned<FileFormat>>,
    /// Column that splits the output into one file per value.
    pub partition_by: Option<Text>,
    /// A table of a database, `database.table`: its rows of the run's date (see
    /// `date_column`) are replaced in one transaction.
    pub table: Option<Text>,
    /// The column of `table` holding the run's date; without it the whole table is
    /// replaced.
    pub date_column: Option<Text>,
}

/// A test of the spec: events in, expected events per topic out.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SpecTest {
    /// What the test shows.
    pub name: Text,
    /// The input of a stream test.
    pub input: Option<TestInput>,
    /// The report a report test runs.
    pub report: Option<Text>,
    /// The report's `--date` (`2018-08-20`).
    pub date: Option<Text>,
    /// "Now" for the run (`2024-06-15T14:30:00Z`, `2024-06-15` or epoch milliseconds):
    /// what `now()` gives in a report's SQL, and `now_ms()` in a stream test's
    /// expressions.
    pub now: Option<Text>,
    /// The report's inputs, by input name.
    #[serde(default)]
    pub inputs: OrderedMap<TestReportInput>,
    /// Streams to run (all when not said).
    #[serde(default)]
    pub streams: Vec<Text>,
    /// Stream settings overridden for this test, as `stream.step-index.key: value`.
    #[serde(default)]
    pub set: OrderedMap<Spanned<Value>>,
    /// Lookup data preloaded into stores for a stream test, by store name (the cache
    /// contents a job reads, as Sunbird's cache updaters write them).
    #[serde(default)]
    pub stores: OrderedMap<TestStore>,
    /// Expected outputs per topic: a count, or a count and field values.
    pub expect: OrderedMap<ScalarOr<Spanned<u64>, Expectation>>,
}

/// Events a test sends.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestInput {
    /// Topic the events are written to.
    pub topic: Text,
    /// JSON or NDJSON files, relative to the spec.
    #[serde(default)]
    pub files: Vec<Text>,
    /// Events written inline.
    #[serde(default)]
    pub events: Vec<Spanned<Value>>,
}

/// Lookup data a test loads into a store: the records of a file (JSON array, NDJSON or
/// CSV, as a memory store's `load`), each under the value of its `key` field.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestStore {
    /// The file, relative to the spec.
    pub load: Text,
    /// The field of each record that is its key in the store.
    pub key: Text,
}

/// The data of one report input in a test: files of the input's format, or rows inline.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestReportInput {
    /// Files, relative to the spec.
    #[serde(default)]
    pub files: Vec<Text>,
    /// Rows (events) written inline.
    #[serde(default)]
    pub rows: Vec<Spanned<Value>>,
}

/// What a test expects of one topic (or report output).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    /// Number of events.
    pub count: Option<Spanned<u64>>,
    /// Field values every event of the topic has (field path → value).
    #[serde(default)]
    pub all: OrderedMap<Spanned<Value>>,
    /// Field values of single events, by position.
    #[serde(default)]
    pub events: Vec<OrderedMap<Spanned<Value>>>,
    /// A file of the rows (events) expected, in any order (report outputs): CSV with a
    /// header, or NDJSON.
    pub file: Option<Text>,
}

/// A string the spec also accepts as a bare number (`draft: 7`, `cpu: 2`).
fn string_or_number(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": ["string", "number"] })
}

/// A mapping of names to strings, numbers or booleans (`vars`).
fn map_of_scalars(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "additionalProperties": { "type": ["string", "number", "boolean"] }
    })
}

/// A shorthand-or-full form, re-exported for step types.
pub type TopicRefs = OneOrMany<Text>;
