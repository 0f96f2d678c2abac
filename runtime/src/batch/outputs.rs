//! Writing a report's result: files (CSV, Parquet, NDJSON; one file per value of a
//! `partition_by` column, as Sunbird delivers one CSV per MDO), a topic (the embedded
//! transport's topic file, or Kafka), or a PostgreSQL table. Every output replaces what an
//! earlier run of the same date wrote, whole: files are written to a hidden folder beside
//! the target and swapped in only once all are written; table rows are replaced in one
//! transaction. A failed run leaves the previous outputs as they were.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::datatypes::{DataType, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use pipec_compiler::civil::Date;
use pipec_compiler::manifest::{self, FileFormat, Manifest};

use super::paths::fill;
use super::rows::batches_to_lines;
use super::storage::{Root, hidden_sibling, write_synced};
use crate::RuntimeError;

/// What one output wrote.
#[derive(Debug, Clone)]
pub struct Written {
    /// The output's name.
    pub name: String,
    /// Rows written.
    pub rows: u64,
    /// Where (`reports/x/2024-01-01/ (3 files)`, `topic derived`, `warehouse.t`).
    pub to: String,
}

/// Where topic outputs go.
#[derive(Debug, Clone)]
pub enum TopicSink {
    /// The embedded transport's topic files: `<dir>/<topic>.ndjson`, replaced whole.
    Files(PathBuf),
    /// Kafka: bootstrap servers by cluster.
    Kafka(BTreeMap<String, String>),
}

/// Writes `batches` to `output`.
#[allow(clippy::too_many_arguments)]
pub async fn write(
    manifest: &Manifest,
    report: &str,
    name: &str,
    output: &manifest::ReportOutput,
    batches: &[RecordBatch],
    data: &Root,
    topics: &TopicSink,
    date: Date,
) -> Result<Written, RuntimeError> {
    let rows: u64 = batches.iter().map(|b| b.num_rows() as u64).sum();
    if let Some(t) = &output.topic {
        let lines = batches_to_lines(batches)?;
        let to = write_topic(manifest, t, lines.into_iter().map(Ok), topics).await?;
        return Ok(Written {
            name: name.into(),
            rows,
            to,
        });
    }
    if let Some(t) = &output.table {
        let (db, table) = t.split_once('.').ok_or_else(|| RuntimeError::Config {
            what: format!("output `{name}`: `{t}` is not `database.table`"),
        })?;
        let def = manifest
            .databases
            .get(db)
            .ok_or_else(|| RuntimeError::Config {
                what: format!("output `{name}`: no database `{db}`"),
            })?;
        let mut client = super::postgres::connect(db, def).await?;
        let n = super::postgres::replace_rows(
            db,
            &mut client,
            &def.schema,
            table,
            output.date_column.as_deref().map(|c| (c, date)),
            batches,
        )
        .await?;
        return Ok(Written {
            name: name.into(),
            rows: n,
            to: t.clone(),
        });
    }
    let Some(path) = &output.path else {
        return Err(RuntimeError::Internal(format!(
            "output `{name}` has no target"
        )));
    };
    let format = output.format.unwrap_or(FileFormat::Csv);
    let dir = fill(path, date, Some(0)).trim_end_matches('/').to_string();
    let files = files(
        report,
        name,
        batches,
        format,
        output.partition_by.as_deref(),
    )?;
    let n = files.len();
    replace_dir(data, &dir, files).await?;
    Ok(Written {
        name: name.into(),
        rows,
        to: format!("{dir}/ ({n} file{})", if n == 1 { "" } else { "s" }),
    })
}

/// The files of an output: one (named after the report) or one per value of the
/// partition column (named after the value, the column left out).
fn files(
    report: &str,
    name: &str,
    batches: &[RecordBatch],
    format: FileFormat,
    partition_by: Option<&str>,
) -> Result<Vec<(String, Vec<u8>)>, RuntimeError> {
    let ext = match format {
        FileFormat::Csv => "csv",
        FileFormat::Ndjson => "ndjson",
        FileFormat::Parquet => "parquet",
    };
    let Some(col) = partition_by else {
        let file = if name == "report" || name == report {
            report.to_string()
        } else {
            format!("{report}-{name}")
        };
        return Ok(vec![(format!("{file}.{ext}"), encode(batches, format)?)]);
    };
    // Keyed by file name, with the value it came from: two values that would share a file
    // name are an error, not a silent merge.
    let mut groups: BTreeMap<String, (String, Vec<RecordBatch>)> = BTreeMap::new();
    for b in batches {
        for (v, part) in split(b, col, name)? {
            let file = format!("{}.{ext}", file_name(&v));
            let entry = groups
                .entry(file)
                .or_insert_with(|| (v.clone(), Vec::new()));
            if entry.0 != v {
                return Err(clash(name, col, &entry.0, &v));
            }
            entry.1.push(part);
        }
    }
    groups
        .into_iter()
        .map(|(file, (_, bs))| Ok((file, encode(&bs, format)?)))
        .collect()
}

/// The rows of `batch` per value of column `col` (without the column, as the files leave it
/// out), in value order; rows without a value belong to no partition (Sunbird's reports drop
/// them).
pub(super) fn split(
    batch: &RecordBatch,
    col: &str,
    output: &str,
) -> Result<Vec<(String, RecordBatch)>, RuntimeError> {
    let idx = batch
        .schema()
        .index_of(col)
        .map_err(|_| RuntimeError::Query {
            what: format!("output `{output}`"),
            reason: format!(
                "no column `{col}` to partition by (columns: {})",
                batch
                    .schema()
                    .fields()
                    .iter()
                    .map(|f| f.name().as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })?;
    let keys = datafusion::arrow::compute::cast(batch.column(idx), &DataType::Utf8)
        .map_err(|e| RuntimeError::Internal(format!("partition values: {e}")))?;
    let keys = keys.as_string::<i32>();
    let mut rest = batch.clone();
    rest.remove_column(idx);
    let mut values: Vec<&str> = (0..keys.len())
        .filter(|i| !keys.is_null(*i))
        .map(|i| keys.value(i))
        .collect();
    values.sort_unstable();
    values.dedup();
    let mut out = Vec::with_capacity(values.len());
    for v in values {
        let mask: datafusion::arrow::array::BooleanArray = (0..keys.len())
            .map(|i| Some(!keys.is_null(i) && keys.value(i) == v))
            .collect();
        let part = filter_record_batch(&rest, &mask)
            .map_err(|e| RuntimeError::Internal(format!("partitioning: {e}")))?;
        out.push((v.to_string(), part));
    }
    Ok(out)
}

/// Two partition values whose file names are the same.
pub(super) fn clash(output: &str, col: &str, a: &str, b: &str) -> RuntimeError {
    RuntimeError::Query {
        what: format!("output `{output}`"),
        reason: format!("`{col}` values `{a}` and `{b}` would both be written to the same file"),
    }
}

/// A partition value as a file name: characters that are not safe in one replaced by `_`.
pub(super) fn file_name(v: &str) -> String {
    let s: String = v
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    match s.as_str() {
        "" | "." | ".." => format!("_{s}"),
        _ if s.starts_with('.') => format!("_{s}"),
        _ => s,
    }
}

/// The bytes of a file of `batches` in `format`.
fn encode(batches: &[RecordBatch], format: FileFormat) -> Result<Vec<u8>, RuntimeError> {
    let err = |e: &dyn std::fmt::Display| RuntimeError::Internal(format!("writing rows: {e}"));
    let mut buf = Vec::new();
    match format {
        FileFormat::Csv => {
            let mut w = datafusion::arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(&mut buf);
            if batches.iter().all(|b| b.num_rows() == 0)
                && let Some(b) = batches.first()
            {
                w.write(b).map_err(|e| err(&e))?;
            }
            for b in batches.iter().filter(|b| b.num_rows() > 0) {
                w.write(b).map_err(|e| err(&e))?;
            }
        }
        FileFormat::Ndjson => {
            for l in batches_to_lines(batches)? {
                buf.extend_from_slice(&l);
                buf.push(b'\n');
            }
        }
        FileFormat::Parquet => {
            let schema = batches
                .first()
                .map_or_else(|| Arc::new(Schema::empty()), RecordBatch::schema);
            let mut w = datafusion::parquet::arrow::ArrowWriter::try_new(&mut buf, schema, None)
                .map_err(|e| err(&e))?;
            for b in batches {
                w.write(b).map_err(|e| err(&e))?;
            }
            w.close().map_err(|e| err(&e))?;
        }
    }
    Ok(buf)
}

/// Replaces the folder `dir` of `data` with exactly `files` (name → bytes). Local: written
/// to a hidden folder beside it, synced, then swapped in by renames. Object stores: each
/// file is put whole, then files of the folder no longer written are deleted.
async fn replace_dir(
    data: &Root,
    dir: &str,
    files: Vec<(String, Vec<u8>)>,
) -> Result<(), RuntimeError> {
    if let Some(target) = data.local_path(dir) {
        let staging = hidden_sibling(&target, "new");
        let _ = std::fs::remove_dir_all(&staging);
        for (name, bytes) in &files {
            write_synced(&staging.join(name), bytes)?;
        }
        return swap_in(&target, &staging);
    }
    let before = data.list(dir).await?;
    let mut keep = Vec::with_capacity(files.len());
    for (name, bytes) in files {
        let key = super::storage::join(dir, &name);
        data.write_atomic(&key, bytes).await?;
        keep.push(key);
    }
    for old in before {
        if !keep.contains(&old.key) {
            data.delete(&old.key).await?;
        }
    }
    Ok(())
}

/// Replaces the local folder `target` by the folder `staging` (its files written and
/// synced): the old folder is moved aside, the new one renamed in, the old one removed; if
/// the rename fails the old folder is put back.
pub(super) fn swap_in(target: &Path, staging: &Path) -> Result<(), RuntimeError> {
    {
        std::fs::create_dir_all(staging).map_err(|e| io("creating", staging, &e))?;
        let target = target.to_path_buf();
        let staging = staging.to_path_buf();
        let old = hidden_sibling(&target, "old");
        let _ = std::fs::remove_dir_all(&old);
        if target.exists() {
            std::fs::rename(&target, &old).map_err(|e| io("moving aside", &target, &e))?;
        }
        if let Err(e) = std::fs::rename(&staging, &target) {
            // Put the previous outputs back.
            let _ = std::fs::rename(&old, &target);
            return Err(io("replacing", &target, &e));
        }
        let _ = std::fs::remove_dir_all(&old);
        if let Some(parent) = target.parent()
            && let Ok(d) = std::fs::File::open(parent)
        {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

fn io(what: &str, p: &Path, e: &std::io::Error) -> RuntimeError {
    RuntimeError::Io {
        what: format!("{what} `{}`", p.display()),
        reason: e.to_string(),
    }
}

/// Writes records to a topic: the topic file of the embedded transport (replaced whole),
/// or Kafka (an idempotent producer, flushed before returning). The records are taken one
/// at a time, so that they need not all be in memory.
pub async fn write_topic(
    manifest: &Manifest,
    topic: &str,
    lines: impl IntoIterator<Item = Result<Vec<u8>, RuntimeError>>,
    sink: &TopicSink,
) -> Result<String, RuntimeError> {
    let def = manifest
        .topics
        .get(topic)
        .ok_or_else(|| RuntimeError::Config {
            what: format!("no topic `{topic}` in the manifest"),
        })?;
    match sink {
        TopicSink::Files(dir) => {
            use std::io::Write;
            let p = dir.join(format!("{topic}.ndjson"));
            let tmp = hidden_sibling(&p, "tmp");
            let written = (|| {
                if let Some(d) = tmp.parent() {
                    std::fs::create_dir_all(d).map_err(|e| io("creating", d, &e))?;
                }
                let f = std::fs::File::create(&tmp).map_err(|e| io("creating", &tmp, &e))?;
                let mut w = std::io::BufWriter::with_capacity(1 << 18, f);
                for l in lines {
                    let l = l?;
                    w.write_all(&l).map_err(|e| io("writing", &tmp, &e))?;
                    w.write_all(b"\n").map_err(|e| io("writing", &tmp, &e))?;
                }
                let f = w.into_inner().map_err(|e| io("writing", &tmp, e.error()))?;
                f.sync_all().map_err(|e| io("syncing", &tmp, &e))
            })();
            if let Err(e) = written {
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
            super::storage::rename_synced(&tmp, &p)?;
            Ok(format!("{}", p.display()))
        }
        TopicSink::Kafka(brokers) => {
            let servers = brokers
                .get(&def.cluster)
                .ok_or_else(|| RuntimeError::Config {
                    what: format!("no bootstrap servers for cluster `{}`", def.cluster),
                })?;
            crate::transport::kafka::produce_all(manifest, topic, servers, lines).await?;
            Ok(format!("topic {} on {servers}", def.name))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int64Array, StringArray};
    use datafusion::arrow::datatypes::Field;

    fn batch() -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("mdoid", DataType::Utf8, true),
            Field::new("n", DataType::Int64, true),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec![
                    Some("o1"),
                    Some("o/2"),
                    None,
                    Some("o1"),
                ])),
                Arc::new(Int64Array::from(vec![1, 2, 3, 4])),
            ],
        )
        .expect("batch")
    }

    #[tokio::test]
    async fn partitioned_csv_replaces_the_folder_whole() {
        let dir = tempfile::tempdir().expect("tmp");
        let data = Root::Local(dir.path().to_path_buf());
        let f = files("r", "report", &[batch()], FileFormat::Csv, Some("mdoid")).expect("files");
        let names: Vec<&str> = f.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, vec!["o1.csv", "o_2.csv"]);
        let mut clash = batch();
        clash = clash.slice(0, 2);
        let other = RecordBatch::try_new(
            clash.schema(),
            vec![
                Arc::new(StringArray::from(vec![Some("o_2")])),
                Arc::new(Int64Array::from(vec![9])),
            ],
        )
        .expect("batch");
        let err = files(
            "r",
            "report",
            &[clash, other],
            FileFormat::Csv,
            Some("mdoid"),
        )
        .expect_err("o/2 and o_2 share a file name");
        assert!(err.to_string().contains("same file"), "{err}");
        assert_eq!(String::from_utf8_lossy(&f[0].1), "n\n1\n4\n");
        replace_dir(&data, "out/2024-01-01", f)
            .await
            .expect("write");
        std::fs::write(dir.path().join("out/2024-01-01/stale.csv"), "x").expect("stale");
        let again = files("r", "report", &[batch()], FileFormat::Csv, None).expect("files");
        replace_dir(&data, "out/2024-01-01", again)
            .await
            .expect("rewrite");
        let listed: Vec<String> = data
            .list("out")
            .await
            .expect("list")
            .into_iter()
            .map(|l| l.key)
            .collect();
        assert_eq!(listed, vec!["out/2024-01-01/r.csv".to_string()]);
        assert!(files("r", "x", &[batch()], FileFormat::Csv, Some("nope")).is_err());
        assert_eq!(file_name(".."), "_..");
    }
}
