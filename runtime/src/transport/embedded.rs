//! The embedded transport: every stream job of a manifest in one process, topics as
//! bounded in-memory queues, input from records handed in, every topic written to
//! `OUT/<topic>.ndjson`. It needs no broker, and is how `pipec run` and `pipec test` run a
//! pipeline.
//!
//! Each topic has a hub task: producers (the input, and every job that writes the topic)
//! send batches to it through a bounded channel, and it hands each batch to the jobs that
//! consume the topic and to the topic's file. When the last producer of a topic is done,
//! the topic closes, its consumers finish, and so on down the graph (the spec checks forbid
//! cycles, so this ends). Bounded channels give back-pressure: a slow job slows its
//! producers instead of filling memory.
//!
//! Runs on a current-thread runtime are deterministic: the same input gives the same files.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use pipec_compiler::manifest::Manifest;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

use super::{close_stores, joined, open_stores, select_jobs};
use crate::RuntimeError;
use crate::batch::backup::{BackupOptions, BackupWriter, publish};
use crate::job::{Job, Output, StepCounters};

/// Records of one batch, shared by every consumer of a topic.
type Batch = Arc<Vec<Vec<u8>>>;

/// Batches buffered per queue before producers wait.
const QUEUE_BATCHES: usize = 4;
/// Records per batch handed to a job.
pub const BATCH_RECORDS: usize = 512;
/// Reasons kept per job for records set aside.
pub const REJECTED_KEPT: usize = 100;

/// What to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Jobs to run (all when empty).
    pub jobs: Vec<String>,
    /// The topic the input records are written to (a key of the manifest's topics).
    pub input_topic: String,
    /// Where `<topic>.ndjson` files go (`None`: count only).
    pub out_dir: Option<PathBuf>,
    /// Directory relative store paths are resolved against (the spec's directory).
    pub base_dir: PathBuf,
    /// Use in-memory stores in place of Redis ones.
    pub memory_stores: bool,
    /// Keep every topic's records in the report (for `pipec test`).
    pub capture: bool,
    /// Write the manifest's backups of the topics that run (`None`: no backups).
    pub backups: Option<BackupOptions>,
}

/// What a run did.
#[derive(Debug, Default)]
pub struct RunReport {
    /// Records written to each topic (input included), by topic key.
    pub topics: BTreeMap<String, u64>,
    /// Counters of each step of each job that ran, by job.
    pub jobs: BTreeMap<String, Vec<StepCounters>>,
    /// Every topic's records, when [`RunOptions::capture`] is set.
    pub records: BTreeMap<String, Vec<Vec<u8>>>,
    /// Records a job set aside whole (not JSON or not an object, or a batch item that is
    /// not an object), by job: how many, and the reasons of the first
    /// [`REJECTED_KEPT`] (a run over a bad input keeps memory flat).
    pub rejected: BTreeMap<String, (u64, Vec<String>)>,
    /// Records written to each backup, by backup name, and the files made visible.
    pub backups: BTreeMap<String, (u64, Vec<String>)>,
}

/// Runs the jobs on the given input records.
pub async fn run(
    manifest: &Manifest,
    opts: &RunOptions,
    input: impl IntoIterator<Item = Vec<u8>>,
) -> Result<RunReport, RuntimeError> {
    run_with(manifest, opts, |tx| async move {
        let mut batch = Vec::with_capacity(BATCH_RECORDS);
        for record in input {
            batch.push(record);
            if batch.len() == BATCH_RECORDS {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_RECORDS));
                if tx.send(Arc::new(full)).await.is_err() {
                    return;
                }
            }
        }
        if !batch.is_empty() {
            let _ = tx.send(Arc::new(batch)).await;
        }
    })
    .await
}

/// Runs the jobs on records as they arrive on `input` (from a reader thread: a file, a
/// FIFO, stdin), until it closes. A batch is what has arrived, up to [`BATCH_RECORDS`]:
/// a slow source's records go through as they come, a fast one's in full batches, and the
/// bounded queues hold the reader back while the jobs catch up, so memory stays flat.
pub async fn run_stream(
    manifest: &Manifest,
    opts: &RunOptions,
    mut input: mpsc::Receiver<Vec<u8>>,
) -> Result<RunReport, RuntimeError> {
    run_with(manifest, opts, |tx| async move {
        while let Some(first) = input.recv().await {
            let mut batch = Vec::with_capacity(BATCH_RECORDS);
            batch.push(first);
            while batch.len() < BATCH_RECORDS {
                match input.try_recv() {
                    Ok(r) => batch.push(r),
                    Err(_) => break,
                }
            }
            if tx.send(Arc::new(batch)).await.is_err() {
                return;
            }
        }
    })
    .await
}

/// Runs the jobs; `feed` writes the input topic's batches to the sender it is given and
/// returns when the input ends.
async fn run_with<F, Fut>(
    manifest: &Manifest,
    opts: &RunOptions,
    feed: F,
) -> Result<RunReport, RuntimeError>
where
    F: FnOnce(mpsc::Sender<Batch>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let selected = select_jobs(manifest, &opts.jobs)?;
    if !manifest.topics.contains_key(&opts.input_topic) {
        return Err(RuntimeError::Config {
            what: format!(
                "no topic `{}` in pipeline `{}`",
                opts.input_topic, manifest.pipeline
            ),
        });
    }
    let stores = open_stores(manifest, &selected, opts.memory_stores, &opts.base_dir).await?;
    let mut jobs = Vec::new();
    for name in &selected {
        jobs.push(Job::build(name, manifest, &stores)?);
    }

    // One hub per topic: its producers' channel, and the queues of its consumers.
    let mut hubs: BTreeMap<String, (mpsc::Sender<Batch>, mpsc::Receiver<Batch>)> = manifest
        .topics
        .keys()
        .map(|k| (k.clone(), mpsc::channel(QUEUE_BATCHES)))
        .collect();
    let mut consumers: BTreeMap<String, Vec<mpsc::Sender<Batch>>> = BTreeMap::new();
    let mut job_tasks = Vec::new();
    for job in jobs {
        let (tx, rx) = mpsc::channel::<Batch>(QUEUE_BATCHES);
        consumers
            .entry(job.source().to_string())
            .or_default()
            .push(tx);
        let outputs: HashMap<String, mpsc::Sender<Batch>> = job
            .outputs()
            .iter()
            .filter_map(|t| {
                hubs.get(t.as_ref())
                    .map(|(s, _)| (t.to_string(), s.clone()))
            })
            .collect();
        job_tasks.push(tokio::spawn(run_job(job, rx, outputs)));
    }
    let input_tx = hubs
        .get(&opts.input_topic)
        .map(|(s, _)| s.clone())
        .ok_or_else(|| RuntimeError::Internal("input topic has no hub".into()))?;

    let mut hub_tasks = Vec::new();
    for (topic, (tx, rx)) in std::mem::take(&mut hubs) {
        // The hub's own sender is dropped here, so a topic closes when its producers do.
        drop(tx);
        let file = opts
            .out_dir
            .as_ref()
            .map(|d| d.join(format!("{topic}.ndjson")));
        let subs = consumers.remove(&topic).unwrap_or_default();
        let writers = backup_writers(manifest, &topic, opts.backups.as_ref());
        hub_tasks.push((
            topic,
            tokio::spawn(run_hub(rx, subs, file, opts.capture, writers)),
        ));
    }

    // Feed the input in batches; the input topic closes when `feed` is done with it.
    feed(input_tx).await;

    let mut report = RunReport::default();
    let mut first_error = None;
    for t in job_tasks {
        if let Some((name, counters, rejected)) = joined(t.await, "job", &mut first_error) {
            if rejected.0 > 0 {
                report.rejected.insert(name.clone(), rejected);
            }
            report.jobs.insert(name, counters);
        }
    }
    for (topic, t) in hub_tasks {
        if let Some((n, records, backups)) = joined(t.await, "topic", &mut first_error) {
            report.topics.insert(topic.clone(), n);
            report.backups.extend(backups);
            if opts.capture {
                report.records.insert(topic, records);
            }
        }
    }
    close_stores(&stores, &mut first_error).await;
    match first_error {
        Some(e) => Err(e),
        None => Ok(report),
    }
}

/// Runs one job until its source closes; returns its counters and what it set aside.
async fn run_job(
    job: Job,
    mut rx: mpsc::Receiver<Batch>,
    outputs: HashMap<String, mpsc::Sender<Batch>>,
) -> Result<(String, Vec<StepCounters>, (u64, Vec<String>)), RuntimeError> {
    let mut out = Output::default();
    let mut rejected = (0u64, Vec::new());
    let mut note = |out: &mut Output| {
        for r in out.rejected.drain(..) {
            rejected.0 += 1;
            if rejected.1.len() < REJECTED_KEPT {
                rejected.1.push(r.reason);
            }
        }
    };
    while let Some(batch) = rx.recv().await {
        let records: Vec<&[u8]> = batch.iter().map(Vec::as_slice).collect();
        // A store that stays down after its retries stops the run: the batch is not
        // half-processed, and nothing is dropped.
        job.process(&records, &mut out).await?;
        note(&mut out);
        send(&job, &mut out, &outputs).await?;
    }
    // The source is done: close every open window.
    job.flush(&mut out).await?;
    note(&mut out);
    send(&job, &mut out, &outputs).await?;
    Ok((job.name().to_string(), out.counters, rejected))
}

/// Sends what a job produced to its topics, one batch per topic, in order.
async fn send(
    job: &Job,
    out: &mut Output,
    outputs: &HashMap<String, mpsc::Sender<Batch>>,
) -> Result<(), RuntimeError> {
    let mut per_topic: BTreeMap<Arc<str>, Vec<Vec<u8>>> = BTreeMap::new();
    for (topic, bytes) in out.records.drain(..) {
        per_topic.entry(topic).or_default().push(bytes);
    }
    for (topic, records) in per_topic {
        let Some(tx) = outputs.get(topic.as_ref()) else {
            return Err(RuntimeError::Internal(format!(
                "job `{}` wrote `{topic}`, which is not one of its outputs",
                job.name()
            )));
        };
        if tx.send(Arc::new(records)).await.is_err() {
            return Err(RuntimeError::Internal(format!(
                "topic `{topic}` closed while job `{}` was writing",
                job.name()
            )));
        }
    }
    Ok(())
}

/// The writers of the backups of `topic`.
fn backup_writers(manifest: &Manifest, topic: &str, b: Option<&BackupOptions>) -> Vec<Writer> {
    let Some(b) = b else { return Vec::new() };
    manifest
        .backups
        .iter()
        .filter(|(name, def)| def.topic == topic && !b.skip.contains(name))
        .map(|(name, def)| Writer {
            w: BackupWriter::new(name, def, b.root.clone(), std::env::temp_dir(), &b.instance),
            now_ms: b.now_ms,
            published: Vec::new(),
        })
        .collect()
}

/// A backup of a topic being written by its hub.
struct Writer {
    w: BackupWriter,
    now_ms: i64,
    published: Vec<String>,
}

impl Writer {
    async fn append(&mut self, batch: &[Vec<u8>]) -> Result<(), RuntimeError> {
        for r in batch {
            let ms = self.w.time_of(r, self.now_ms);
            self.w.append(r, ms)?;
        }
        if self.w.due() {
            self.roll().await?;
        }
        Ok(())
    }

    /// Closes the open files and makes them visible (no offsets to commit here: the
    /// records are already in the run's input).
    async fn roll(&mut self) -> Result<(), RuntimeError> {
        let staged = self.w.close().await?;
        publish(self.w.root(), &staged).await?;
        self.published.extend(staged.into_iter().map(|s| s.to));
        Ok(())
    }
}

/// What a hub gives back: records, the records kept, and per backup its records and files.
type HubResult = (u64, Vec<Vec<u8>>, Vec<(String, (u64, Vec<String>))>);

/// Hands every batch of a topic to its consumers, its file and its backups; returns the
/// record count (and the records, when capturing).
async fn run_hub(
    mut rx: mpsc::Receiver<Batch>,
    subs: Vec<mpsc::Sender<Batch>>,
    file: Option<PathBuf>,
    capture: bool,
    mut backups: Vec<Writer>,
) -> Result<HubResult, RuntimeError> {
    let mut kept = Vec::new();
    let mut writer = match &file {
        Some(p) => Some(open(p).await?),
        None => None,
    };
    let mut n = 0u64;
    while let Some(batch) = rx.recv().await {
        n += batch.len() as u64;
        if let (Some(w), Some(p)) = (writer.as_mut(), file.as_ref()) {
            let mut buf = Vec::with_capacity(batch.iter().map(|r| r.len() + 1).sum());
            for r in batch.iter() {
                buf.extend_from_slice(r);
                buf.push(b'\n');
            }
            w.write_all(&buf).await.map_err(|e| io_error(p, &e))?;
        }
        if capture {
            kept.extend(batch.iter().cloned());
        }
        for b in &mut backups {
            b.append(&batch).await?;
        }
        for s in &subs {
            // A consumer that stopped (its job failed) no longer needs the topic; the
            // job's own error is what the run reports.
            let _ = s.send(batch.clone()).await;
        }
    }
    if let (Some(mut w), Some(p)) = (writer, file.as_ref()) {
        w.flush().await.map_err(|e| io_error(p, &e))?;
    }
    let mut done = Vec::with_capacity(backups.len());
    for mut b in backups {
        b.roll().await?;
        done.push((b.w.name().to_string(), (b.w.written, b.published)));
    }
    Ok((n, kept, done))
}

async fn open(p: &Path) -> Result<tokio::io::BufWriter<tokio::fs::File>, RuntimeError> {
    if let Some(dir) = p.parent() {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| io_error(dir, &e))?;
    }
    let f = tokio::fs::File::create(p)
        .await
        .map_err(|e| io_error(p, &e))?;
    Ok(tokio::io::BufWriter::with_capacity(1 << 16, f))
}

fn io_error(p: &Path, e: &std::io::Error) -> RuntimeError {
    RuntimeError::Unavailable {
        system: format!("file `{}`", p.display()),
        reason: e.to_string(),
    }
}
