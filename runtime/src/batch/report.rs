//! One report for one date: inputs registered, the model run (SQL, or the workflow
//! summary), every output written, and a summary of rows read and written. `pipec report`
//! and the report tests of `pipec test` both run reports through here.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::physical_plan::{ExecutionPlan, collect};
use pipec_compiler::civil::Date;
use pipec_compiler::manifest::spec_tests::ReportTest;
use pipec_compiler::manifest::{self, Manifest};
use serde_json::Value;

use super::engine::{EngineOptions, context, run_sql};
use super::inputs::{self, Source};
use super::outputs::{self, TopicSink, Written};
use super::storage::Root;
use crate::RuntimeError;

/// How reports run.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// Where relative backup, input and output paths are.
    pub data: Root,
    /// Where topic outputs go.
    pub topics: TopicSink,
    /// The engine's memory and threads.
    pub engine: EngineOptions,
    /// "Now" for the models that read the clock (epoch milliseconds).
    pub now_ms: i64,
}

/// What one report run did.
#[derive(Debug, Clone)]
pub struct ReportSummary {
    /// The report.
    pub report: String,
    /// The date it ran for.
    pub date: Date,
    /// Per input: where it read from and how many rows.
    pub inputs: Vec<(Source, Option<u64>)>,
    /// Per output: what it wrote.
    pub outputs: Vec<Written>,
    /// How long it took.
    pub elapsed: Duration,
}

/// What a report test's run gave: each output's rows as JSON objects.
pub type Captured = BTreeMap<String, Vec<Value>>;

/// Runs report `name` of `manifest` for `date`.
pub async fn run(
    manifest: &Manifest,
    name: &str,
    date: Date,
    opts: &ReportOptions,
) -> Result<ReportSummary, RuntimeError> {
    let started = Instant::now();
    let report = find(manifest, name)?;
    let spill = spill_dir(&opts.engine);
    std::fs::create_dir_all(&spill).map_err(|e| RuntimeError::Io {
        what: format!("creating `{}`", spill.display()),
        reason: e.to_string(),
    })?;
    let result = async {
        let (sources, counts, outs) = if report.model.is_some() {
            super::summary::run(manifest, name, report, date, opts, &spill).await?
        } else {
            let ctx = context(&EngineOptions {
                spill_dir: Some(spill.clone()),
                ..opts.engine.clone()
            })?;
            if let Some((store, url)) = opts.data.object_store() {
                let u = ObjectStoreUrl::parse(url).map_err(|e| RuntimeError::Config {
                    what: format!("object store `{url}`: {e}"),
                })?;
                ctx.register_object_store(u.as_ref(), Arc::clone(store));
            }
            let mut sources = Vec::new();
            for (input_name, input) in report.inputs.iter() {
                sources.push(
                    inputs::register(&ctx, manifest, &opts.data, &spill, input_name, input, date)
                        .await?,
                );
            }
            // File outputs only (the usual report): the result streams into its files and
            // never has to fit in memory.
            if report.outputs.iter().all(|(_, o)| o.path.is_some()) {
                let (counts, outs) =
                    stream_to_files(&ctx, name, report, &sources, &opts.data, &spill, date).await?;
                return Ok::<_, RuntimeError>(ReportSummary {
                    report: name.into(),
                    date,
                    inputs: sources.into_iter().zip(counts).collect(),
                    outputs: outs,
                    elapsed: started.elapsed(),
                });
            }
            let (batches, counts) = query(&ctx, name, report, &sources).await?;
            let mut outs = Vec::new();
            for (out_name, output) in report.outputs.iter() {
                outs.push(
                    outputs::write(
                        manifest,
                        name,
                        out_name,
                        output,
                        &batches,
                        &opts.data,
                        &opts.topics,
                        date,
                    )
                    .await?,
                );
            }
            (sources, counts, outs)
        };
        Ok::<_, RuntimeError>(ReportSummary {
            report: name.into(),
            date,
            inputs: sources.into_iter().zip(counts).collect(),
            outputs: outs,
            elapsed: started.elapsed(),
        })
    }
    .await;
    let _ = std::fs::remove_dir_all(&spill);
    result
}

/// Runs a report test: the test's data in place of the inputs, the outputs kept in memory.
pub async fn run_test(
    manifest: &Manifest,
    test: &ReportTest,
    now_ms: i64,
) -> Result<Captured, RuntimeError> {
    let report = find(manifest, &test.name)?;
    let date = match &test.date {
        Some(d) => Date::parse(d).ok_or_else(|| RuntimeError::Config {
            what: format!("test date `{d}` is not YYYY-MM-DD"),
        })?,
        None => Date::from_epoch_ms(now_ms),
    };
    if report.model.is_some() {
        return super::summary::run_test(manifest, report, test, date, now_ms).await;
    }
    let ctx = context(&EngineOptions {
        memory_limit: 256 << 20,
        spill_dir: None,
        threads: 1,
        now_ms: Some(now_ms),
    })?;
    let mut sources = Vec::new();
    for (input_name, input) in report.inputs.iter() {
        let data = test
            .inputs
            .iter()
            .find(|(n, _)| n == input_name)
            .map(|(_, d)| d.clone())
            .unwrap_or_default();
        sources.push(inputs::register_test(&ctx, input_name, input, manifest, &data).await?);
    }
    let (batches, _) = query(&ctx, &test.name, report, &sources).await?;
    let rows = super::rows::batches_to_json(&batches)?;
    let mut captured = Captured::new();
    for (out, def) in report.outputs.iter() {
        // An output split by a column is also captured per value, as `output/value`, with
        // the rows of that value's file (the column left out, as the file leaves it out).
        if let Some(col) = &def.partition_by {
            for row in &rows {
                let Value::Object(m) = row else { continue };
                let key = match m.get(col) {
                    None | Some(Value::Null) => continue,
                    Some(Value::String(s)) => s.clone(),
                    Some(v) => v.to_string(),
                };
                let mut m = m.clone();
                m.remove(col);
                captured
                    .entry(format!("{out}/{key}"))
                    .or_default()
                    .push(Value::Object(m));
            }
        }
        captured.insert(out.to_string(), rows.clone());
    }
    Ok(captured)
}

/// Runs the report's SQL, writing each batch of its result to the file outputs as it comes;
/// gives, per input, the rows its scans gave, and what each output wrote.
async fn stream_to_files(
    ctx: &datafusion::prelude::SessionContext,
    name: &str,
    report: &manifest::Report,
    sources: &[Source],
    data: &super::storage::Root,
    spill: &std::path::Path,
    date: Date,
) -> Result<(Vec<Option<u64>>, Vec<Written>), RuntimeError> {
    use futures::StreamExt;
    let sql = report.sql.as_ref().ok_or_else(|| RuntimeError::Config {
        what: format!("report `{name}` has neither `sql` nor `model`"),
    })?;
    let what = format!("report `{name}` ({})", sql.path);
    let failed = |e: &dyn std::fmt::Display| RuntimeError::Query {
        what: what.clone(),
        reason: e.to_string(),
    };
    let df = run_sql(ctx, &sql.text, &what).await?;
    let plan = df.create_physical_plan().await.map_err(|e| failed(&e))?;
    let schema = plan.schema();
    let mut sinks = Vec::new();
    for (out_name, output) in report.outputs.iter() {
        sinks.push(super::sink::FileSink::new(
            name, out_name, output, data, spill, date,
        )?);
    }
    let mut stream = datafusion::physical_plan::execute_stream(Arc::clone(&plan), ctx.task_ctx())
        .map_err(|e| failed(&e))?;
    let result: Result<(), RuntimeError> = async {
        while let Some(batch) = stream.next().await {
            let batch = batch.map_err(|e| failed(&e))?;
            for s in &mut sinks {
                s.write(&batch)?;
            }
        }
        Ok(())
    }
    .await;
    if let Err(e) = result {
        for s in sinks {
            s.abandon();
        }
        return Err(e);
    }
    let mut outs = Vec::with_capacity(sinks.len());
    for s in sinks {
        outs.push(s.finish(data, &schema).await?);
    }
    let counts = sources.iter().map(|s| rows_read(&plan, s)).collect();
    Ok((counts, outs))
}

/// Runs the report's SQL; gives its rows and, per input, the rows its scans gave.
async fn query(
    ctx: &datafusion::prelude::SessionContext,
    name: &str,
    report: &manifest::Report,
    sources: &[Source],
) -> Result<(Vec<RecordBatch>, Vec<Option<u64>>), RuntimeError> {
    let sql = report.sql.as_ref().ok_or_else(|| RuntimeError::Config {
        what: format!("report `{name}` has neither `sql` nor `model`"),
    })?;
    let what = format!("report `{name}` ({})", sql.path);
    let df = run_sql(ctx, &sql.text, &what).await?;
    let plan = df
        .create_physical_plan()
        .await
        .map_err(|e| RuntimeError::Query {
            what: what.clone(),
            reason: e.to_string(),
        })?;
    let batches = collect(Arc::clone(&plan), ctx.task_ctx())
        .await
        .map_err(|e| RuntimeError::Query {
            what: what.clone(),
            reason: e.to_string(),
        })?;
    let counts = sources.iter().map(|s| rows_read(&plan, s)).collect();
    Ok((batches, counts))
}

/// The rows the plan's scans of `source`'s files gave (found by their paths), when they
/// can be told apart.
fn rows_read(plan: &Arc<dyn ExecutionPlan>, source: &Source) -> Option<u64> {
    if let Some(n) = &source.counted {
        return Some(n.load(std::sync::atomic::Ordering::Relaxed));
    }
    let mut total = None;
    let mut stack = vec![Arc::clone(plan)];
    while let Some(p) = stack.pop() {
        let children = p.children();
        if children.is_empty() {
            let shown = format!(
                "{}",
                datafusion::physical_plan::displayable(p.as_ref()).one_line()
            );
            let mine = !source.urls.is_empty()
                && source.urls.iter().any(|u| {
                    let path = u.trim_start_matches("file://");
                    shown.contains(path.trim_start_matches('/'))
                });
            if mine && let Some(n) = p.metrics().and_then(|m| m.output_rows()) {
                *total.get_or_insert(0) += n as u64;
            }
        }
        stack.extend(children.into_iter().cloned());
    }
    total
}

/// The report of the manifest.
fn find<'m>(manifest: &'m Manifest, name: &str) -> Result<&'m manifest::Report, RuntimeError> {
    manifest
        .reports
        .get(name)
        .ok_or_else(|| RuntimeError::Config {
            what: format!(
                "no report `{name}` in pipeline `{}` (reports: {})",
                manifest.pipeline,
                manifest
                    .reports
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
}

/// A spill folder of this run.
fn spill_dir(engine: &EngineOptions) -> PathBuf {
    let base = engine.spill_dir.clone().unwrap_or_else(std::env::temp_dir);
    base.join(format!(
        "pipec-report-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ))
}
