//! File outputs written as the query's batches arrive, so that a report's result never has
//! to fit in memory: each file (one per value of `partition_by`) is an open encoder on a
//! file of a hidden staging folder; at the end the files are finished and synced, and the
//! folder replaces the output's folder whole (local roots), or its files are uploaded and the
//! folder's other files deleted (object stores). A failed run leaves the previous outputs.

use std::collections::BTreeMap;
use std::io::BufWriter;
use std::path::PathBuf;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use pipec_compiler::civil::Date;
use pipec_compiler::manifest::{self, FileFormat};

use super::outputs::{Written, clash, file_name, split, swap_in};
use super::paths::fill;
use super::storage::{Root, hidden_sibling, join};
use crate::RuntimeError;

type Out = BufWriter<std::fs::File>;

/// An open file of an output.
enum Encoder {
    Csv(datafusion::arrow::csv::Writer<Out>),
    Ndjson(datafusion::arrow::json::LineDelimitedWriter<Out>),
    Parquet(datafusion::parquet::arrow::ArrowWriter<Out>),
}

/// One file output being written.
pub struct FileSink {
    output: String,
    format: FileFormat,
    partition_by: Option<String>,
    /// The output's folder, relative to the data root.
    dir: String,
    /// Where its files are written until they replace the folder.
    staging: PathBuf,
    /// The file name a report without `partition_by` writes.
    single: String,
    /// File name → (the partition value it holds, its encoder).
    open: BTreeMap<String, (String, Encoder)>,
    rows: u64,
}

fn io(what: &str, p: &std::path::Path, e: &dyn std::fmt::Display) -> RuntimeError {
    RuntimeError::Io {
        what: format!("{what} `{}`", p.display()),
        reason: e.to_string(),
    }
}

impl FileSink {
    /// A sink for output `name` of report `report` for `date`; `spill` holds the staging
    /// folder of object-store roots.
    pub fn new(
        report: &str,
        name: &str,
        output: &manifest::ReportOutput,
        data: &Root,
        spill: &std::path::Path,
        date: Date,
    ) -> Result<FileSink, RuntimeError> {
        let path = output.path.as_deref().ok_or_else(|| {
            RuntimeError::Internal(format!("output `{name}` is not a file output"))
        })?;
        let format = output.format.unwrap_or(FileFormat::Csv);
        let dir = fill(path, date, Some(0)).trim_end_matches('/').to_string();
        let staging = match data.local_path(&dir) {
            Some(target) => hidden_sibling(&target, "new"),
            None => spill.join(format!("out-{name}")),
        };
        let _ = std::fs::remove_dir_all(&staging);
        std::fs::create_dir_all(&staging).map_err(|e| io("creating", &staging, &e))?;
        let ext = match format {
            FileFormat::Csv => "csv",
            FileFormat::Ndjson => "ndjson",
            FileFormat::Parquet => "parquet",
        };
        let stem = if name == "report" || name == report {
            report.to_string()
        } else {
            format!("{report}-{name}")
        };
        Ok(FileSink {
            output: name.into(),
            format,
            partition_by: output.partition_by.clone(),
            dir,
            staging,
            single: format!("{stem}.{ext}"),
            open: BTreeMap::new(),
            rows: 0,
        })
    }

    fn ext(&self) -> &'static str {
        match self.format {
            FileFormat::Csv => "csv",
            FileFormat::Ndjson => "ndjson",
            FileFormat::Parquet => "parquet",
        }
    }

    /// Appends a batch of the result.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), RuntimeError> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        match self.partition_by.clone() {
            None => {
                let file = self.single.clone();
                self.append(&file, "", batch)?;
            }
            Some(col) => {
                for (v, part) in split(batch, &col, &self.output)? {
                    let file = format!("{}.{}", file_name(&v), self.ext());
                    if let Some((held, _)) = self.open.get(&file)
                        && held != &v
                    {
                        return Err(clash(&self.output, &col, held, &v));
                    }
                    self.append(&file, &v, &part)?;
                }
            }
        }
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    fn append(&mut self, file: &str, value: &str, batch: &RecordBatch) -> Result<(), RuntimeError> {
        if !self.open.contains_key(file) {
            let enc = self.encoder(file, &batch.schema())?;
            self.open.insert(file.to_string(), (value.to_string(), enc));
        }
        let path = self.staging.join(file);
        let Some((_, enc)) = self.open.get_mut(file) else {
            return Err(RuntimeError::Internal("an output file went missing".into()));
        };
        match enc {
            Encoder::Csv(w) => w.write(batch).map_err(|e| io("writing", &path, &e)),
            Encoder::Ndjson(w) => w.write(batch).map_err(|e| io("writing", &path, &e)),
            Encoder::Parquet(w) => w.write(batch).map_err(|e| io("writing", &path, &e)),
        }
    }

    fn encoder(&self, file: &str, schema: &SchemaRef) -> Result<Encoder, RuntimeError> {
        let path = self.staging.join(file);
        let f = std::fs::File::create(&path).map_err(|e| io("creating", &path, &e))?;
        let out = BufWriter::with_capacity(1 << 16, f);
        Ok(match self.format {
            FileFormat::Csv => Encoder::Csv(
                datafusion::arrow::csv::WriterBuilder::new()
                    .with_header(true)
                    .build(out),
            ),
            FileFormat::Ndjson => {
                Encoder::Ndjson(datafusion::arrow::json::LineDelimitedWriter::new(out))
            }
            FileFormat::Parquet => Encoder::Parquet(
                datafusion::parquet::arrow::ArrowWriter::try_new(out, schema.clone(), None)
                    .map_err(|e| io("creating", &path, &e))?,
            ),
        })
    }

    /// Finishes and syncs every file, then puts the folder in place of the output's.
    /// `schema`: the result's, for the header-only file of an empty unpartitioned result.
    pub async fn finish(
        mut self,
        data: &Root,
        schema: &SchemaRef,
    ) -> Result<Written, RuntimeError> {
        if self.open.is_empty() && self.partition_by.is_none() {
            let file = self.single.clone();
            let mut enc = self.encoder(&file, schema)?;
            if let Encoder::Csv(w) = &mut enc {
                let empty = RecordBatch::new_empty(schema.clone());
                w.write(&empty)
                    .map_err(|e| io("writing", &self.staging.join(&file), &e))?;
            }
            self.open.insert(file, (String::new(), enc));
        }
        let mut names = Vec::with_capacity(self.open.len());
        for (file, (_, enc)) in std::mem::take(&mut self.open) {
            let path = self.staging.join(&file);
            let out = match enc {
                Encoder::Csv(w) => w.into_inner(),
                Encoder::Ndjson(mut w) => {
                    w.finish().map_err(|e| io("writing", &path, &e))?;
                    w.into_inner()
                }
                Encoder::Parquet(w) => w.into_inner().map_err(|e| io("writing", &path, &e))?,
            };
            let f = out
                .into_inner()
                .map_err(|e| io("writing", &path, e.error()))?;
            f.sync_all().map_err(|e| io("syncing", &path, &e))?;
            names.push(file);
        }
        let n = names.len();
        match data.local_path(&self.dir) {
            Some(target) => swap_in(&target, &self.staging)?,
            None => {
                let before = data.list(&self.dir).await?;
                let mut keep = Vec::with_capacity(n);
                for file in &names {
                    let key = join(&self.dir, file);
                    data.put_file(&self.staging.join(file), &key).await?;
                    keep.push(key);
                }
                for old in before {
                    if !keep.contains(&old.key) {
                        data.delete(&old.key).await?;
                    }
                }
                let _ = std::fs::remove_dir_all(&self.staging);
            }
        }
        Ok(Written {
            name: self.output,
            rows: self.rows,
            to: format!("{}/ ({n} file{})", self.dir, if n == 1 { "" } else { "s" }),
        })
    }

    /// Removes the staging folder of a run that failed.
    pub fn abandon(self) {
        drop(self.open);
        let _ = std::fs::remove_dir_all(&self.staging);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Int64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn batch(mdo: Vec<Option<&str>>, n: Vec<i64>) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("mdoid", DataType::Utf8, true),
            Field::new("n", DataType::Int64, true),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(mdo)),
                Arc::new(Int64Array::from(n)),
            ],
        )
        .expect("batch")
    }

    fn output(partition_by: Option<&str>) -> manifest::ReportOutput {
        serde_json::from_value(serde_json::json!({
            "topic": null, "path": "reports/{date}/", "format": "csv",
            "partition_by": partition_by,
        }))
        .expect("output")
    }

    #[tokio::test]
    async fn batches_stream_into_one_file_per_value_that_replaces_the_folder() {
        let dir = tempfile::tempdir().expect("tmp");
        let data = Root::Local(dir.path().to_path_buf());
        let date = Date::parse("2024-06-15").expect("date");
        std::fs::create_dir_all(dir.path().join("reports/2024-06-15")).expect("dir");
        std::fs::write(dir.path().join("reports/2024-06-15/stale.csv"), "x").expect("stale");
        let mut s = FileSink::new(
            "r",
            "report",
            &output(Some("mdoid")),
            &data,
            dir.path(),
            date,
        )
        .expect("sink");
        let first = batch(vec![Some("o1"), Some("o2"), None], vec![1, 2, 3]);
        s.write(&first).expect("write");
        s.write(&batch(vec![Some("o1")], vec![4])).expect("write");
        let w = s.finish(&data, &first.schema()).await.expect("finish");
        assert_eq!(w.rows, 4);
        let folder = dir.path().join("reports/2024-06-15");
        let mut names: Vec<String> = std::fs::read_dir(&folder)
            .expect("folder")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, vec!["o1.csv", "o2.csv"], "the stale file is gone");
        let o1 = std::fs::read_to_string(folder.join("o1.csv")).expect("o1");
        assert_eq!(
            o1, "n\n1\n4\n",
            "one header, rows of both batches, no mdoid column"
        );
        // An empty result without partitions still gives its header-only file.
        let s = FileSink::new("r", "report", &output(None), &data, dir.path(), date).expect("sink");
        s.finish(&data, &first.schema()).await.expect("finish");
        let only = std::fs::read_to_string(folder.join("r.csv")).expect("r.csv");
        assert_eq!(only, "mdoid,n\n");
    }
}
