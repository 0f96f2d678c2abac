//! The workflow summary as a report: a day of events from backup (or NDJSON) files, each
//! keyed by its group and time, sorted by DataFusion — which spills to disk past the
//! memory limit, so a day larger than memory still completes — and each group's events in
//! order handed to the model ([`super::wfs`]); its ME_WORKFLOW_SUMMARY events go to the
//! report's outputs.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use datafusion::arrow::array::{AsArray, BinaryBuilder, Int64Builder, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::streaming::StreamingTable;
use datafusion::error::DataFusionError;
use datafusion::execution::TaskContext;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::PartitionStream;
use futures::{SinkExt, StreamExt};
use pipec_compiler::civil::Date;
use pipec_compiler::expr::Expr;
use pipec_compiler::manifest::spec_tests::ReportTest;
use pipec_compiler::manifest::{self, Manifest};
use serde_json::Value;

use super::engine::{EngineOptions, context};
use super::inputs::{Source, files_of};
use super::outputs::{self, Written};
use super::report::{Captured, ReportOptions};
use super::rows::json_to_batch;
use super::storage::{Listed, Root};
use super::wfs::{self, WfsParams};
use crate::RuntimeError;

/// Rows per batch handed to the sort.
const BATCH: usize = 8192;

/// The model's settings from the report's `params` (`session_gap`, `idle_time`,
/// `exclude`), Sunbird's defaults for the rest.
pub fn params(report: &manifest::Report, now_ms: i64) -> Result<WfsParams, RuntimeError> {
    let mut p = WfsParams {
        now_ms,
        ..WfsParams::default()
    };
    let duration = |k: &str, v: &Value| -> Result<i64, RuntimeError> {
        v.as_str()
            .and_then(|s| pipec_compiler::units::parse_duration(s).ok())
            .and_then(|ms| i64::try_from(ms).ok())
            .ok_or_else(|| RuntimeError::Config {
                what: format!("workflow summary: `{k}` is not a duration"),
            })
    };
    for (k, v) in report.params.iter() {
        match k {
            "session_gap" => p.session_gap_ms = duration(k, v)?,
            "idle_time" => p.idle_time_ms = duration(k, v)?,
            "exclude" => {
                p.exclude = v
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(String::from)
                            .collect()
                    })
                    .ok_or_else(|| RuntimeError::Config {
                        what: "workflow summary: `exclude` is not a list of event types".into(),
                    })?;
            }
            "producer" => {
                if let Some(s) = v.as_str() {
                    p.producer_id = s.to_string();
                }
            }
            other => {
                return Err(RuntimeError::Config {
                    what: format!("workflow summary: unknown parameter `{other}`"),
                });
            }
        }
    }
    Ok(p)
}

/// The one input of the model, with its parsed filter.
fn the_input(
    report: &manifest::Report,
) -> Result<(&str, &manifest::ReportInput, Option<Expr>), RuntimeError> {
    let mut it = report.inputs.iter();
    let (Some((name, input)), None) = (it.next(), it.next()) else {
        return Err(RuntimeError::Config {
            what: "the workflow summary reads exactly one input (the day's events)".into(),
        });
    };
    let filter = input
        .filter
        .as_deref()
        .map(|f| {
            pipec_compiler::expr::parse(f).map_err(|e| RuntimeError::Config {
                what: format!("input `{name}`: filter `{f}`: {}", e.message),
            })
        })
        .transpose()?;
    Ok((name, input, filter))
}

/// Whether the filter lets `event` through (no filter: yes).
fn keeps(filter: Option<&Expr>, event: &Value) -> bool {
    filter.is_none_or(|f| matches!(pipec_compiler::expr::eval(f, event), Ok(Value::Bool(true))))
}

/// Runs the model for `date`; gives its input, rows read and outputs written.
pub async fn run(
    manifest: &Manifest,
    name: &str,
    report: &manifest::Report,
    date: Date,
    opts: &ReportOptions,
) -> Result<(Vec<Source>, Vec<Option<u64>>, Vec<Written>), RuntimeError> {
    let p = params(report, opts.now_ms)?;
    let (input_name, input, filter) = the_input(report)?;
    let (files, _, pattern) = files_of(manifest, &opts.data, input_name, input, date).await?;
    let read = Arc::new(AtomicU64::new(0));
    let summaries =
        sorted_summaries(&opts.engine, &opts.data, files.clone(), filter, &p, &read).await?;
    let mut outs = Vec::new();
    for (out_name, output) in report.outputs.iter() {
        outs.push(write(manifest, name, out_name, output, &summaries, opts, date).await?);
    }
    let source = Source {
        name: input_name.to_string(),
        from: format!("{pattern} ({} files)", files.len()),
        urls: Vec::new(),
        counted: None,
    };
    Ok((vec![source], vec![Some(read.load(Ordering::Relaxed))], outs))
}

/// Writes the summaries to one output.
async fn write(
    manifest: &Manifest,
    report: &str,
    name: &str,
    output: &manifest::ReportOutput,
    summaries: &[Value],
    opts: &ReportOptions,
    date: Date,
) -> Result<Written, RuntimeError> {
    if let Some(t) = &output.topic {
        let lines = summaries
            .iter()
            .map(|v| serde_json::to_vec(v).map_err(|e| RuntimeError::Internal(e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        let to = outputs::write_topic(manifest, t, lines, &opts.topics).await?;
        return Ok(Written {
            name: name.into(),
            rows: summaries.len() as u64,
            to,
        });
    }
    let batch = json_to_batch(summaries, None)?;
    outputs::write(
        manifest,
        report,
        name,
        output,
        &[batch],
        &opts.data,
        &opts.topics,
        date,
    )
    .await
}

/// The summaries of every group of the events in `files`, groups in key order.
async fn sorted_summaries(
    engine: &EngineOptions,
    data: &Root,
    files: Vec<Listed>,
    filter: Option<Expr>,
    p: &WfsParams,
    read: &Arc<AtomicU64>,
) -> Result<Vec<Value>, RuntimeError> {
    let ctx = context(engine)?;
    let schema: SchemaRef = Arc::new(Schema::new(vec![
        Field::new("gkey", DataType::Utf8, false),
        Field::new("ets", DataType::Int64, false),
        Field::new("mid", DataType::Utf8, false),
        Field::new("raw", DataType::Binary, false),
    ]));
    let parts = engine.threads.max(1);
    let filter = Arc::new(filter);
    let params = Arc::new(p.clone());
    let mut partitions: Vec<Arc<dyn PartitionStream>> = Vec::new();
    for i in 0..parts {
        let mine: Vec<Listed> = files.iter().skip(i).step_by(parts).cloned().collect();
        partitions.push(Arc::new(EventFiles {
            schema: Arc::clone(&schema),
            data: data.clone(),
            files: mine,
            filter: Arc::clone(&filter),
            params: Arc::clone(&params),
            read: Arc::clone(read),
        }));
    }
    let table = StreamingTable::try_new(Arc::clone(&schema), partitions).map_err(|e| query(&e))?;
    ctx.register_table("events", Arc::new(table))
        .map_err(|e| query(&e))?;
    let df = ctx
        .sql("SELECT gkey, raw FROM events ORDER BY gkey, ets, mid")
        .await
        .map_err(|e| query(&e))?;
    let mut stream = df.execute_stream().await.map_err(|e| query(&e))?;
    let mut out = Vec::new();
    let mut group: Vec<Value> = Vec::new();
    let mut current: Option<String> = None;
    while let Some(batch) = stream.next().await {
        let batch = batch.map_err(|e| query(&e))?;
        let keys = batch.column(0).as_string::<i32>();
        let raws = batch.column(1).as_binary::<i32>();
        for i in 0..batch.num_rows() {
            let key = keys.value(i);
            if current.as_deref() != Some(key) {
                if !group.is_empty() {
                    out.extend(wfs::summarize_group(&group, p));
                    group.clear();
                }
                current = Some(key.to_string());
            }
            if let Ok(v) = serde_json::from_slice::<Value>(raws.value(i)) {
                group.push(v);
            }
        }
    }
    if !group.is_empty() {
        out.extend(wfs::summarize_group(&group, p));
    }
    Ok(out)
}

fn query(e: &DataFusionError) -> RuntimeError {
    RuntimeError::Query {
        what: "workflow summary".into(),
        reason: e.to_string(),
    }
}

/// The sort key of a group: its parts with separators no id holds, nulls told apart.
fn group_text(k: &wfs::GroupKey) -> String {
    format!(
        "{}\u{1f}{}\u{1f}{}",
        k.device_actor(),
        k.channel()
            .map_or_else(|| "\u{0}".to_string(), |c| format!("={c}")),
        k.app_id()
            .map_or_else(|| "\u{0}".to_string(), |a| format!("={a}")),
    )
}

/// Events of some backup files, as sort rows: one partition of the `events` table.
#[derive(Debug)]
struct EventFiles {
    schema: SchemaRef,
    data: Root,
    files: Vec<Listed>,
    filter: Arc<Option<Expr>>,
    params: Arc<WfsParams>,
    read: Arc<AtomicU64>,
}

impl PartitionStream for EventFiles {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> datafusion::execution::SendableRecordBatchStream {
        let (mut tx, rx) =
            futures::channel::mpsc::channel::<Result<RecordBatch, DataFusionError>>(2);
        let (schema, data, files) = (
            Arc::clone(&self.schema),
            self.data.clone(),
            self.files.clone(),
        );
        let (filter, params, read) = (
            Arc::clone(&self.filter),
            Arc::clone(&self.params),
            Arc::clone(&self.read),
        );
        tokio::spawn(async move {
            let mut rows = Rows::new(Arc::clone(&schema));
            for f in files {
                let records = match super::events::records(&data, &f.key).await {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = tx.send(Err(DataFusionError::External(Box::new(e)))).await;
                        return;
                    }
                };
                read.fetch_add(records.len() as u64, Ordering::Relaxed);
                for raw in records {
                    let Ok(v) = serde_json::from_slice::<Value>(&raw) else {
                        continue;
                    };
                    if !keeps(filter.as_ref().as_ref(), &v) {
                        continue;
                    }
                    let Some(k) = wfs::group_key_with(&v, &params) else {
                        continue;
                    };
                    let o = wfs::order_key(&v);
                    rows.push(&group_text(&k), o.ets, o.mid, &raw);
                    if rows.len() >= BATCH {
                        let b = rows.finish();
                        if tx.send(b).await.is_err() {
                            return;
                        }
                    }
                }
            }
            if rows.len() > 0 {
                let _ = tx.send(rows.finish()).await;
            }
        });
        Box::pin(RecordBatchStreamAdapter::new(Arc::clone(&self.schema), rx))
    }
}

/// Sort rows being built.
struct Rows {
    schema: SchemaRef,
    keys: StringBuilder,
    ets: Int64Builder,
    mids: StringBuilder,
    raws: BinaryBuilder,
    n: usize,
}

impl Rows {
    fn new(schema: SchemaRef) -> Rows {
        Rows {
            schema,
            keys: StringBuilder::new(),
            ets: Int64Builder::new(),
            mids: StringBuilder::new(),
            raws: BinaryBuilder::new(),
            n: 0,
        }
    }

    fn push(&mut self, key: &str, ets: i64, mid: &str, raw: &[u8]) {
        self.keys.append_value(key);
        self.ets.append_value(ets);
        self.mids.append_value(mid);
        self.raws.append_value(raw);
        self.n += 1;
    }

    fn len(&self) -> usize {
        self.n
    }

    fn finish(&mut self) -> Result<RecordBatch, DataFusionError> {
        self.n = 0;
        Ok(RecordBatch::try_new(
            Arc::clone(&self.schema),
            vec![
                Arc::new(self.keys.finish()),
                Arc::new(self.ets.finish()),
                Arc::new(self.mids.finish()),
                Arc::new(self.raws.finish()),
            ],
        )?)
    }
}

/// A report test of the model: the test's events (files and rows) summarized in memory.
pub async fn run_test(
    _manifest: &Manifest,
    report: &manifest::Report,
    test: &ReportTest,
    _date: Date,
    now_ms: i64,
) -> Result<Captured, RuntimeError> {
    let p = params(report, now_ms)?;
    let (input_name, _, filter) = the_input(report)?;
    let mut events = Vec::new();
    if let Some((_, data)) = test.inputs.iter().find(|(n, _)| n == input_name) {
        for f in &data.files {
            let text = std::fs::read(f).map_err(|e| RuntimeError::Io {
                what: format!("reading `{}`", f.display()),
                reason: e.to_string(),
            })?;
            let text = if f.extension().is_some_and(|e| e == "gz") {
                super::events::gunzip(&text, &f.display().to_string())?
            } else {
                text
            };
            for l in super::events::lines(&text) {
                if let Ok(v) = serde_json::from_slice::<Value>(&l) {
                    events.push(v);
                }
            }
        }
        events.extend(data.rows.iter().cloned());
    }
    events.retain(|v| keeps(filter.as_ref(), v));
    let summaries = wfs::summarize(events, &p);
    Ok(report
        .outputs
        .iter()
        .map(|(o, _)| (o.to_string(), summaries.clone()))
        .collect())
}
