//! The batch half of the manifest: topic backups and reports.

use serde::{Deserialize, Serialize};

use serde_json::Value;

use super::{BackupPartition, FileFormat, Ordered};

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
