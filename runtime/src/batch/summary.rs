//! The workflow summary as a report: a day of events from backup (or NDJSON) files, each
//! keyed by its group and time and written to the bucket file of its group
//! ([`super::buckets`]: a day larger than memory completes, each bucket sized to fit the
//! memory limit); each bucket then read and ordered, and each group's events handed to the
//! model ([`super::wfs`]) in order. Its ME_WORKFLOW_SUMMARY events are spooled to a file as
//! they come, and the report's outputs written from it. (An earlier version sorted the day
//! with DataFusion, carrying each event through the sort: three times slower, and it held
//! every summary in memory.)

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::arrow::json::reader::{ReaderBuilder, infer_json_schema};
use pipec_compiler::civil::Date;
use pipec_compiler::expr::Expr;
use pipec_compiler::manifest::spec_tests::ReportTest;
use pipec_compiler::manifest::{self, Manifest};
use serde_json::Value;

use super::buckets::{Bucket, BucketWriter};
use super::engine::EngineOptions;
use super::inputs::{Source, files_of};
use super::outputs::{self, Written};
use super::report::{Captured, ReportOptions};
use super::sink::FileSink;
use super::storage::{Listed, Root};
use super::wfs::{self, WfsParams};
use crate::RuntimeError;

/// Rows per batch decoded from the spool into a file output.
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

/// The fields the sort reads of an event (its group key and order), parsed without
/// building the rest of it. Null and absent are alike to the model, as to `Option`.
#[derive(serde::Deserialize)]
struct SortFields {
    eid: Option<Value>,
    ets: Option<Value>,
    mid: Option<Value>,
    actor: Option<Value>,
    context: Option<Value>,
}

/// The fields the model reads of an event ([`wfs`]'s binding of `WFSInputEvent`).
#[derive(serde::Deserialize)]
struct ModelFields {
    eid: Option<Value>,
    ets: Option<Value>,
    #[serde(rename = "@timestamp")]
    timestamp: Option<Value>,
    ver: Option<Value>,
    mid: Option<Value>,
    actor: Option<Value>,
    context: Option<Value>,
    object: Option<Value>,
    edata: Option<Value>,
    tags: Option<Value>,
}

/// An object of the named values that are there.
fn object_of<const N: usize>(fields: [(&str, Option<Value>); N]) -> Value {
    let mut m = serde_json::Map::with_capacity(N);
    for (k, v) in fields {
        if let Some(v) = v {
            m.insert(k.to_string(), v);
        }
    }
    Value::Object(m)
}

/// What the sort needs of a record: the event with only its key and order fields. A record
/// the narrow parse refuses (not an object, a field given twice) is parsed whole, so that
/// it is judged as the model judges any event.
fn sort_view(raw: &[u8]) -> Option<Value> {
    match serde_json::from_slice::<SortFields>(raw) {
        Ok(f) => Some(object_of([
            ("eid", f.eid),
            ("ets", f.ets),
            ("mid", f.mid),
            ("actor", f.actor),
            ("context", f.context),
        ])),
        Err(_) => serde_json::from_slice(raw).ok(),
    }
}

/// What the model needs of a record: the event with only the fields it reads (whole when
/// the narrow parse refuses it, as [`sort_view`]).
fn model_view(raw: &[u8]) -> Option<Value> {
    match serde_json::from_slice::<ModelFields>(raw) {
        Ok(f) => Some(object_of([
            ("eid", f.eid),
            ("ets", f.ets),
            ("@timestamp", f.timestamp),
            ("ver", f.ver),
            ("mid", f.mid),
            ("actor", f.actor),
            ("context", f.context),
            ("object", f.object),
            ("edata", f.edata),
            ("tags", f.tags),
        ])),
        Err(_) => serde_json::from_slice(raw).ok(),
    }
}

/// Whether the filter lets `event` through (no filter: yes).
fn keeps(filter: Option<&Expr>, event: &Value) -> bool {
    filter.is_none_or(|f| matches!(pipec_compiler::expr::eval(f, event), Ok(Value::Bool(true))))
}

/// Runs the model for `date`; gives its input, rows read and outputs written. The
/// summaries are written to a spool file in `spill` as each group is done, and the outputs
/// are written from it: memory holds one group's events at a time, not the day's summaries.
pub async fn run(
    manifest: &Manifest,
    name: &str,
    report: &manifest::Report,
    date: Date,
    opts: &ReportOptions,
    spill: &Path,
) -> Result<(Vec<Source>, Vec<Option<u64>>, Vec<Written>), RuntimeError> {
    let p = params(report, opts.now_ms)?;
    let (input_name, input, filter) = the_input(report)?;
    let (files, _, pattern) = files_of(manifest, &opts.data, input_name, input, date).await?;
    let read = Arc::new(AtomicU64::new(0));
    let engine = EngineOptions {
        spill_dir: Some(spill.to_path_buf()),
        ..opts.engine.clone()
    };
    let spool = spill.join(format!("{name}-summaries.ndjson"));
    let count = sorted_summaries(
        &engine,
        &opts.data,
        files.clone(),
        filter,
        &p,
        &read,
        &spool,
    )
    .await?;
    let mut outs = Vec::new();
    for (out_name, output) in report.outputs.iter() {
        outs.push(
            write(
                manifest, name, out_name, output, &spool, count, opts, date, spill,
            )
            .await?,
        );
    }
    let _ = std::fs::remove_file(&spool);
    let source = Source {
        name: input_name.to_string(),
        from: format!("{pattern} ({} files)", files.len()),
        urls: Vec::new(),
        counted: None,
    };
    Ok((vec![source], vec![Some(read.load(Ordering::Relaxed))], outs))
}

fn spool_io(what: &str, p: &Path, e: &dyn std::fmt::Display) -> RuntimeError {
    RuntimeError::Io {
        what: format!("{what} `{}`", p.display()),
        reason: e.to_string(),
    }
}

/// The summaries of the spool file, one line each.
fn spooled(
    spool: &Path,
) -> Result<impl Iterator<Item = Result<Vec<u8>, RuntimeError>>, RuntimeError> {
    let f = std::fs::File::open(spool).map_err(|e| spool_io("reading", spool, &e))?;
    let p = spool.to_path_buf();
    Ok(BufReader::with_capacity(1 << 18, f)
        .split(b'\n')
        .map(move |l| l.map_err(|e| spool_io("reading", &p, &e))))
}

/// Writes the `count` summaries of the spool file to one output.
#[allow(clippy::too_many_arguments)]
async fn write(
    manifest: &Manifest,
    report: &str,
    name: &str,
    output: &manifest::ReportOutput,
    spool: &Path,
    count: u64,
    opts: &ReportOptions,
    date: Date,
    spill: &Path,
) -> Result<Written, RuntimeError> {
    if let Some(t) = &output.topic {
        let to = outputs::write_topic(manifest, t, spooled(spool)?, &opts.topics).await?;
        return Ok(Written {
            name: name.into(),
            rows: count,
            to,
        });
    }
    // A file output: the columns are those of every summary, found by reading the spool
    // once; a second reading decodes it batch by batch into the files.
    let open = || -> Result<BufReader<std::fs::File>, RuntimeError> {
        let f = std::fs::File::open(spool).map_err(|e| spool_io("reading", spool, &e))?;
        Ok(BufReader::with_capacity(1 << 18, f))
    };
    let schema: SchemaRef = if count == 0 {
        Arc::new(Schema::empty())
    } else {
        let (s, _) = infer_json_schema(&mut open()?, None).map_err(|e| RuntimeError::Config {
            what: format!("output `{name}`: the summaries have no common columns: {e}"),
        })?;
        Arc::new(s)
    };
    let mut sink = FileSink::new(report, name, output, &opts.data, spill, date)?;
    if count > 0 {
        let reader = ReaderBuilder::new(Arc::clone(&schema))
            .with_batch_size(BATCH)
            .build(open()?)
            .map_err(|e| RuntimeError::Internal(format!("a JSON reader: {e}")))?;
        for batch in reader {
            let batch = match batch {
                Ok(b) => b,
                Err(e) => {
                    sink.abandon();
                    return Err(RuntimeError::Config {
                        what: format!("output `{name}`: summaries do not fit their columns: {e}"),
                    });
                }
            };
            if let Err(e) = sink.write(&batch) {
                sink.abandon();
                return Err(e);
            }
        }
    }
    sink.finish(&opts.data, &schema).await
}

/// Writes the summaries of every group of the events in `files` to `spool` (one JSON line
/// each); gives how many. Two passes over the day, with [`super::buckets`]: the first keys
/// each event (a narrow parse) and appends it to the bucket of its group; the second reads
/// one bucket at a time, orders it, and summarizes its groups. Each pass runs on
/// `engine.threads` threads; the buckets are as many as it takes for each thread's bucket
/// to fit in its share of `engine.memory_limit`.
async fn sorted_summaries(
    engine: &EngineOptions,
    data: &Root,
    files: Vec<Listed>,
    filter: Option<Expr>,
    p: &WfsParams,
    read: &Arc<AtomicU64>,
    spool: &Path,
) -> Result<u64, RuntimeError> {
    let threads = engine.threads.max(1);
    let spill = engine
        .spill_dir
        .clone()
        .unwrap_or_else(std::env::temp_dir)
        .join(format!("wfs-buckets-{}", std::process::id()));
    std::fs::create_dir_all(&spill).map_err(|e| spool_io("creating", &spill, &e))?;
    let n = bucket_count(&files, engine.memory_limit, threads);
    let result = async {
        let written = key_into_buckets(data, files, filter, p, read, &spill, n, threads).await?;
        let (p, spool) = (p.clone(), spool.to_path_buf());
        tokio::task::spawn_blocking(move || summarize_buckets(&written, n, threads, &p, &spool))
            .await
            .map_err(|e| RuntimeError::Internal(format!("summarizing: {e}")))?
    }
    .await;
    let _ = std::fs::remove_dir_all(&spill);
    result
}

/// Buckets for `files`: a bucket is read whole, with an index of about a tenth of its size
/// and its groups' events parsed one group at a time, by each of `threads` at once; so each
/// gets at most a third of its share of the limit. At least two a thread, to share the work.
fn bucket_count(files: &[Listed], memory_limit: usize, threads: usize) -> usize {
    let bytes: u64 = files
        .iter()
        .map(|f| {
            // Compressed files grow about eight times as they are read.
            if f.key.ends_with(".gz") || f.key.ends_with(".parquet") {
                f.size.saturating_mul(8)
            } else {
                f.size
            }
        })
        .sum();
    let per = (memory_limit as u64 / (3 * threads as u64)).max(1 << 20);
    let wanted = usize::try_from(bytes / per + 1).unwrap_or(usize::MAX);
    // Each thread keeps every bucket file open while it reads: within the 1,024 open files
    // a process commonly may have.
    let most = (MAX_OPEN_BUCKETS / threads).max(2 * threads);
    if wanted > most {
        tracing::warn!(
            buckets = most,
            wanted,
            "the day is large for the memory limit: buckets will be larger than planned"
        );
    }
    wanted.clamp(2 * threads, most)
}

/// Bucket files open at once, over all threads.
const MAX_OPEN_BUCKETS: usize = 960;

/// The first pass: each event of `files` (kept by the filter, summarized by the model) into
/// the bucket of its group. Gives each thread's bucket files.
#[allow(clippy::too_many_arguments)]
async fn key_into_buckets(
    data: &Root,
    files: Vec<Listed>,
    filter: Option<Expr>,
    p: &WfsParams,
    read: &Arc<AtomicU64>,
    spill: &Path,
    n: usize,
    threads: usize,
) -> Result<Vec<Vec<std::path::PathBuf>>, RuntimeError> {
    let files = Arc::new(files);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (filter, params) = (Arc::new(filter), Arc::new(p.clone()));
    let handle = tokio::runtime::Handle::current();
    let mut tasks = Vec::with_capacity(threads);
    for t in 0..threads {
        let (files, next, filter, params, read, data, handle) = (
            Arc::clone(&files),
            Arc::clone(&next),
            Arc::clone(&filter),
            Arc::clone(&params),
            Arc::clone(read),
            data.clone(),
            handle.clone(),
        );
        let mut w = BucketWriter::new(spill, &format!("t{t}"), n)?;
        tasks.push(tokio::task::spawn_blocking(move || {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(f) = files.get(i) else { break };
                let mut reader =
                    handle.block_on(super::events::RecordReader::open(&data, &f.key))?;
                while let Some(raw) = reader.next_record()? {
                    read.fetch_add(1, Ordering::Relaxed);
                    // Without a filter, a record in canonical form is keyed on its tape.
                    if filter.is_none()
                        && let Some(doc) = wfs::tape::Doc::new(raw)
                    {
                        if let Some(k) = wfs::group_key_of_doc(&doc, &params) {
                            let (ets, mid) = wfs::tape::order(&doc);
                            w.push(group_text(&k).as_bytes(), ets, mid.as_bytes(), raw)?;
                        }
                        continue;
                    }
                    // A filter may read any field: it gets the whole event.
                    let v = match filter.as_ref() {
                        Some(_) => serde_json::from_slice::<Value>(raw).ok(),
                        None => sort_view(raw),
                    };
                    let Some(v) = v else { continue };
                    if !keeps(filter.as_ref().as_ref(), &v) {
                        continue;
                    }
                    let Some(k) = wfs::group_key_with(&v, &params) else {
                        continue;
                    };
                    let o = wfs::order_key(&v);
                    w.push(group_text(&k).as_bytes(), o.ets, o.mid.as_bytes(), raw)?;
                }
            }
            w.finish()
        }));
    }
    let mut out = Vec::with_capacity(threads);
    for t in tasks {
        out.push(
            t.await
                .map_err(|e| RuntimeError::Internal(format!("reading events: {e}")))??,
        );
    }
    Ok(out)
}

/// The second pass: the buckets `threads` at a time, their summaries appended to `spool` in
/// bucket order. Gives how many.
fn summarize_buckets(
    written: &[Vec<std::path::PathBuf>],
    n: usize,
    threads: usize,
    p: &WfsParams,
    spool: &Path,
) -> Result<u64, RuntimeError> {
    let file = std::fs::File::create(spool).map_err(|e| spool_io("creating", spool, &e))?;
    let mut out = BufWriter::with_capacity(1 << 18, file);
    let mut count = 0u64;
    let buckets: Vec<usize> = (0..n).collect();
    for chunk in buckets.chunks(threads) {
        let done: Vec<Result<(Vec<u8>, u64), RuntimeError>> = std::thread::scope(|s| {
            let running: Vec<_> = chunk
                .iter()
                .map(|&b| {
                    let paths: Vec<std::path::PathBuf> =
                        written.iter().filter_map(|w| w.get(b).cloned()).collect();
                    s.spawn(move || summarize_bucket(&paths, p))
                })
                .collect();
            running
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(RuntimeError::Internal(
                            "summarizing a bucket panicked".into(),
                        ))
                    })
                })
                .collect()
        });
        for d in done {
            let (lines, c) = d?;
            out.write_all(&lines)
                .map_err(|e| spool_io("writing", spool, &e))?;
            count += c;
        }
        for &b in chunk {
            for w in written {
                if let Some(path) = w.get(b) {
                    let _ = std::fs::remove_file(path);
                }
            }
        }
    }
    out.into_inner()
        .map_err(|e| spool_io("writing", spool, e.error()))?;
    Ok(count)
}

/// The summaries of one bucket's groups, as JSON lines, and how many.
fn summarize_bucket(
    paths: &[std::path::PathBuf],
    p: &WfsParams,
) -> Result<(Vec<u8>, u64), RuntimeError> {
    let bucket = Bucket::read(paths)?;
    let mut lines = Vec::new();
    let mut count = 0;
    for group in bucket.groups() {
        // Records in canonical form are bound from their tapes, the others from their trees.
        let records: Vec<_> = group
            .iter()
            .map(|e| {
                let doc = wfs::tape::Doc::new(e.raw);
                let parts = doc.as_ref().map(wfs::tape::parts);
                (doc, parts)
            })
            .collect();
        let trees: Vec<Option<Value>> = group
            .iter()
            .zip(&records)
            .map(|(e, (doc, _))| doc.is_none().then(|| model_view(e.raw)).flatten())
            .collect();
        for s in wfs::summarize_records(&records, &trees, p) {
            serde_json::to_writer(&mut lines, &s)
                .map_err(|e| RuntimeError::Internal(format!("a summary as JSON: {e}")))?;
            lines.push(b'\n');
            count += 1;
        }
    }
    Ok((lines, count))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_fit_the_limit_and_the_open_file_budget() {
        let files = |bytes: u64, key: &str| {
            vec![Listed {
                key: key.into(),
                size: bytes,
            }]
        };
        let mib = 1u64 << 20;
        // The 5-million-event day of the bench (3,520 MiB) at 512 MiB on 2 threads: buckets
        // of at most 85 MiB.
        assert_eq!(
            bucket_count(&files(3520 * mib, "a.ndjson"), 512 << 20, 2),
            42
        );
        // Compressed input counts eight times its size.
        assert_eq!(
            bucket_count(&files(440 * mib, "a.ndjson.gz"), 512 << 20, 2),
            42
        );
        // At least two a thread; at most the open-file budget.
        assert_eq!(bucket_count(&files(mib, "a.ndjson"), 1 << 30, 2), 4);
        assert_eq!(
            bucket_count(&files(1 << 50, "a.ndjson"), 512 << 20, 2),
            MAX_OPEN_BUCKETS / 2
        );
    }

    /// The narrow parses give the model what the whole parse gives: the same groups, order
    /// and summaries over Sunbird's eight WFS test inputs, plus records the narrow parse
    /// refuses (a field twice, not an object).
    #[test]
    fn the_narrow_views_summarize_as_the_whole_events() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../pipelines/igot/tests/fixtures/wfs");
        let mut raws: Vec<Vec<u8>> = Vec::new();
        for i in 1..=8 {
            let text = std::fs::read(dir.join(format!("test-data{i}.log"))).expect("fixture");
            raws.extend(super::super::events::lines(&text));
        }
        raws.push(br#"{"eid":"START","eid":"END","ets":1,"context":{"did":"d"}}"#.to_vec());
        raws.push(b"[1,2]".to_vec());
        assert!(raws.len() > 100, "{} records", raws.len());
        let p = WfsParams::default();
        let mut keyed = 0;
        for raw in &raws {
            let whole: Option<Value> = serde_json::from_slice(raw).ok();
            let (narrow, whole) = (sort_view(raw), whole);
            let key = |v: &Option<Value>| v.as_ref().and_then(|v| wfs::group_key_with(v, &p));
            assert_eq!(
                key(&narrow),
                key(&whole),
                "{}",
                String::from_utf8_lossy(raw)
            );
            if let (Some(n), Some(w)) = (&narrow, &whole) {
                assert_eq!(wfs::order_key(n), wfs::order_key(w));
            }
            keyed += usize::from(key(&whole).is_some());
        }
        assert!(keyed > 100, "{keyed} keyed");
        let whole: Vec<Value> = raws
            .iter()
            .filter_map(|r| serde_json::from_slice(r).ok())
            .collect();
        let narrow: Vec<Value> = raws.iter().filter_map(|r| model_view(r)).collect();
        let (a, b) = (wfs::summarize(whole, &p), wfs::summarize(narrow, &p));
        assert!(a.len() > 10, "{} summaries", a.len());
        assert_eq!(a, b);
    }
}
