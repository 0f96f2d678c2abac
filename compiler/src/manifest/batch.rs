//! The batch half of the manifest: topic backups and reports.

use serde::{Deserialize, Serialize};

use serde_json::Value;

use super::{BackupPartition, Compression, FileFormat, Ordered, SecretRef};

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
    /// Folder granularity.
    pub partition: BackupPartition,
    // The fields below came with the batch stage; manifests compiled before it (the deployed
    // one `plan` compares against) read with their defaults.
    /// Compression of NDJSON files.
    #[serde(default)]
    pub compression: Compression,
    /// The event field holding its time in epoch milliseconds (picks the folder); `None`:
    /// the record's time.
    #[serde(default)]
    pub time_field: Option<String>,
    /// Size at which a file is closed, bytes.
    #[serde(default = "default_roll_size")]
    pub roll_size: u64,
    /// Age at which a file is closed, milliseconds since its first record.
    #[serde(default = "default_roll_age_ms")]
    pub roll_age_ms: u64,
}

/// 128 MiB, the size at which a backup file is closed unless the spec says otherwise.
pub const DEFAULT_ROLL_SIZE: u64 = 128 << 20;
/// 15 minutes, the age at which a backup file is closed unless the spec says otherwise.
pub const DEFAULT_ROLL_AGE_MS: u64 = 15 * 60 * 1000;

fn default_roll_size() -> u64 {
    DEFAULT_ROLL_SIZE
}

fn default_roll_age_ms() -> u64 {
    DEFAULT_ROLL_AGE_MS
}

/// A database reports read tables from and write tables to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Database {
    /// PostgreSQL connection URL.
    pub url: String,
    /// Schema of the tables.
    pub schema: String,
    /// The `CREATE TABLE` statements of its tables, when the spec names them.
    pub ddl: Option<SqlFile>,
    /// Password.
    pub password: Option<SecretRef>,
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
    /// A table, `database.table`.
    #[serde(default)]
    pub table: Option<String>,
    /// Declared columns of `path` files and their types, in order.
    #[serde(default)]
    pub columns: Ordered<String>,
    /// Expression rows must satisfy.
    #[serde(default)]
    pub filter: Option<String>,
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
    /// A table, `database.table`, whose rows of the date are replaced.
    #[serde(default)]
    pub table: Option<String>,
    /// The table's column holding the date; `None`: the whole table is replaced.
    #[serde(default)]
    pub date_column: Option<String>,
}
