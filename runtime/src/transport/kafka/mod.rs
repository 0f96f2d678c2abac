//! The Kafka transport: each stream job of a manifest consumes its source topic in its own
//! consumer group, runs its steps on batches of records, produces the outputs with an
//! idempotent producer, and commits the batch's offsets only once the broker has
//! acknowledged every record produced from it (at-least-once).
//!
//! Exactly-once (`exactly_once`): each job has a transactional producer, and the outputs of
//! its batches and the offsets they came from are committed in one Kafka transaction, so a
//! crash before the commit leaves neither (consumers reading `read_committed`, librdkafka's
//! default, never see the outputs of an aborted transaction). A transaction ends at each
//! commit point: every batch, or with memory stores that keep snapshots, every snapshot
//! (written before the commit).
//!
//! Either way, dedup keys are written with a token of the event's source position, so an
//! event consumed again after a crash is not a duplicate of itself: with exactly-once a
//! crash loses nothing and duplicates nothing; with at-least-once, an event consumed again
//! goes where it went the first time, once more.
//!
//! At most `unacked_batches` batches per job await their acknowledgements while the next is
//! processed, so a slow broker or store slows consumption instead of filling memory
//! (back-pressure); the producer's queue is bounded by librdkafka. When the group gives a
//! partition back at its last committed offset (a restarted coordinator that forgot the
//! member, a rebalance), the records this process had already run are skipped, not produced
//! again.
//! A store that cannot be reached makes the job retry the same batch with backoff (nothing is
//! committed meanwhile); a record the broker will not take stops the job with an error, and
//! its batch is consumed again after a restart. librdkafka reconnects to restarted brokers by
//! itself. Stopping (`stop` set to true: SIGTERM, SIGINT) ends consumption, finishes the batch
//! in hand, flushes windows, produces and commits, and closes the stores (memory stores write
//! their snapshot).

mod backup;
mod client;
mod commit;
mod context;
mod produce;
mod recover;
mod runner;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pipec_compiler::expr::Expr;
use pipec_compiler::manifest::Manifest;
use rdkafka::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::FutureProducer;
use rdkafka::util::Timeout;
use serde_json::Value;
use tokio::sync::watch;

use crate::RuntimeError;
use crate::job::{Job, StepCounters};
use crate::metrics::Metrics;
use crate::store::Store;
use client::{client, consumer, producer, transactional};
use context::JobContext;
use runner::Runner;

/// How often memory stores write their snapshot while a job runs.
const SNAPSHOT_EVERY: Duration = Duration::from_secs(5);

/// How a pipeline runs on Kafka.
#[derive(Debug, Clone)]
pub struct KafkaRunOptions {
    /// Bootstrap servers by cluster name (every cluster the selected jobs use).
    pub brokers: BTreeMap<String, String>,
    /// Jobs to run (all when empty).
    pub jobs: Vec<String>,
    /// Directory relative store paths are resolved against.
    pub base_dir: PathBuf,
    /// In-memory stores in place of Redis ones.
    pub memory_stores: bool,
    /// Most records handed to a job at once.
    pub max_batch: usize,
    /// How long to wait for a batch to fill once its first record is in.
    pub batch_wait: Duration,
    /// Batches whose outputs may still await the broker's acknowledgement while the next
    /// batch is read and processed (at-least-once; 0: each batch waits for its own). Their
    /// offsets are committed once they and every batch before them are acknowledged.
    /// Exactly-once always waits (a transaction ends at each commit point).
    pub unacked_batches: usize,
    /// Stop once no record has arrived for this long (one-shot runs and tests).
    pub idle_exit: Option<Duration>,
    /// Outputs and offsets committed in Kafka transactions.
    pub exactly_once: bool,
    /// Names this process among a job's replicas: with `exactly_once`, its transactional
    /// id is `<consumer group>-<instance>`. Keep it across restarts (a pod name of a
    /// StatefulSet), so that a restarted process aborts the transaction its predecessor
    /// left open at once instead of after the transaction timeout.
    pub instance: String,
    /// Write the manifest's backups (each in a consumer group of its own), or not.
    pub backups: Option<crate::batch::backup::BackupOptions>,
    /// Run the jobs (`jobs`); false runs only the backups.
    pub run_jobs: bool,
}

impl KafkaRunOptions {
    /// Defaults: 512 records a batch, 50 ms to fill it, 4 batches unacknowledged, no idle
    /// exit.
    pub fn new(brokers: BTreeMap<String, String>) -> Self {
        KafkaRunOptions {
            brokers,
            jobs: Vec::new(),
            base_dir: PathBuf::from("."),
            memory_stores: false,
            max_batch: 512,
            batch_wait: Duration::from_millis(50),
            unacked_batches: 4,
            idle_exit: None,
            exactly_once: false,
            instance: "0".into(),
            backups: None,
            run_jobs: true,
        }
    }
}

/// What the jobs did.
#[derive(Debug, Default)]
pub struct KafkaReport {
    /// Step counters of each job.
    pub jobs: BTreeMap<String, Vec<StepCounters>>,
    /// Records consumed by each job.
    pub records_in: BTreeMap<String, u64>,
    /// Records written to each backup.
    pub backups: BTreeMap<String, u64>,
}

/// Runs the jobs until `stop` turns true (or, with `idle_exit`, until they are idle).
pub async fn run(
    manifest: &Manifest,
    opts: &KafkaRunOptions,
    metrics: Arc<Metrics>,
    stop: watch::Receiver<bool>,
) -> Result<KafkaReport, RuntimeError> {
    let selected = if opts.run_jobs {
        super::select_jobs(manifest, &opts.jobs)?
    } else {
        Vec::new()
    };
    let stores =
        super::open_stores(manifest, &selected, opts.memory_stores, &opts.base_dir).await?;
    let mut producers: HashMap<String, FutureProducer> = HashMap::new();
    let topics = Arc::new(Topics::new(manifest)?);
    // Client settings by cluster (SASL, TLS and secrets resolved once).
    let mut configs: BTreeMap<String, ClientConfig> = BTreeMap::new();
    for name in manifest.clusters.keys() {
        if let Some(servers) = opts.brokers.get(name) {
            configs.insert(
                name.clone(),
                client(manifest, name, servers, &opts.base_dir)?,
            );
        }
    }
    let config = |cluster: &str| {
        configs.get(cluster).ok_or_else(|| RuntimeError::Config {
            what: format!("no bootstrap servers for cluster `{cluster}`"),
        })
    };
    let mut tasks = Vec::new();
    for name in &selected {
        let job = Job::build(name, manifest, &stores)?;
        let def = &manifest.jobs[*name];
        let source = topic_def(manifest, &def.from)?;
        let servers = servers(opts, &source.cluster)?;
        let source_config = config(&source.cluster)?;
        // The consumer first: a login the brokers refuse stops the job before anything else.
        let consumer = Arc::new(consumer(
            source_config,
            &source.cluster,
            servers,
            &def.consumer_group,
            JobContext::new(name),
        )?);
        connected(&consumer, name, &source.cluster, servers, &source.name).await?;
        let mut outs: HashMap<String, FutureProducer> = HashMap::new();
        let txn = if opts.exactly_once {
            let id = format!("{}-{}", def.consumer_group, opts.instance);
            let p = transactional(source_config, name, servers, &id).await?;
            for t in job.outputs() {
                let cluster = &topic_def(manifest, t)?.cluster;
                if servers_of(opts, cluster)? != servers {
                    return Err(RuntimeError::Config {
                        what: format!(
                            "job `{name}`: exactly-once needs its outputs on the cluster it \
                             reads (`{}`), but `{t}` is on `{cluster}`",
                            source.cluster
                        ),
                    });
                }
                outs.insert(t.to_string(), p.clone());
            }
            producers.insert(format!("txn:{id}"), p.clone());
            Some(p)
        } else {
            for t in job.outputs() {
                let cluster = &topic_def(manifest, t)?.cluster;
                let servers = servers_of(opts, cluster)?;
                let p = match producers.get(&servers) {
                    Some(p) => p.clone(),
                    None => {
                        let p = producer(config(cluster)?, cluster, &servers)?;
                        producers.insert(servers.clone(), p.clone());
                        p
                    }
                };
                outs.insert(t.to_string(), p);
            }
            None
        };
        consumer
            .subscribe(&[source.name.as_str()])
            .map_err(|e| RuntimeError::Config {
                what: format!("job `{name}`: subscribing to `{}`: {e}", source.name),
            })?;
        let steps: Vec<&str> = def.steps.iter().map(|s| s.kind()).collect();
        metrics.job_started(name, &steps);
        let job_stores: Vec<Arc<Store>> = def
            .stores
            .iter()
            .filter_map(|s| stores.get(s).cloned())
            .collect();
        // Where the job's outputs go, by cluster, for the recovery scan.
        let mut outputs: BTreeMap<String, (ClientConfig, Vec<String>)> = BTreeMap::new();
        for t in job.outputs() {
            let def = topic_def(manifest, t)?;
            let servers = servers_of(opts, &def.cluster)?;
            let base = config(&def.cluster)?;
            outputs
                .entry(servers.clone())
                .or_insert_with(|| (base.clone(), Vec::new()))
                .1
                .push(def.name.clone());
        }
        let runner = Runner {
            group: def.consumer_group.clone(),
            output_clusters: outputs.into_values().collect(),
            written: std::sync::Mutex::new(recover::Written::new()),
            job,
            stores: job_stores,
            last_snapshot: std::sync::Mutex::new(Instant::now()),
            consumer,
            producers: outs,
            txn,
            topics: Arc::clone(&topics),
            partition_counts: std::sync::Mutex::new(HashMap::new()),
            metrics: Arc::clone(&metrics),
            opts: opts.clone(),
        };
        tasks.push(tokio::spawn(runner.run(stop.clone())));
    }
    let mut backup_tasks = Vec::new();
    if let Some(b) = &opts.backups {
        for name in manifest.backups.keys().filter(|n| !b.skip.contains(n)) {
            let runner = backup::BackupRunner::new(manifest, name, opts, b)?;
            backup_tasks.push(tokio::spawn(runner.run(stop.clone())));
        }
    }
    let mut report = KafkaReport::default();
    let mut first_error = None;
    for t in tasks {
        if let Some((name, counters, n)) = super::joined(t.await, "job", &mut first_error) {
            report.records_in.insert(name.clone(), n);
            report.jobs.insert(name, counters);
        }
    }
    for t in backup_tasks {
        if let Some((name, n)) = super::joined(t.await, "backup", &mut first_error) {
            report.backups.insert(name, n);
        }
    }
    for p in producers.values() {
        let p = p.clone();
        let flushed = tokio::task::spawn_blocking(move || {
            rdkafka::producer::Producer::flush(&p, Timeout::After(Duration::from_secs(30)))
        })
        .await;
        if let Ok(Err(e)) = flushed {
            first_error.get_or_insert(RuntimeError::Unavailable {
                system: "kafka".into(),
                reason: format!("flushing the producer: {e}"),
            });
        }
    }
    super::close_stores(&stores, &mut first_error).await;
    match first_error {
        Some(e) => Err(e),
        None => Ok(report),
    }
}

/// Kafka names and record keys of the manifest's topics.
pub(super) struct Topics {
    /// Spec name → (Kafka name, key expression).
    pub(super) by_id: HashMap<String, (String, Option<Expr>)>,
}

impl Topics {
    fn new(manifest: &Manifest) -> Result<Topics, RuntimeError> {
        let mut by_id = HashMap::new();
        for (id, t) in &manifest.topics {
            let key = match &t.key {
                Some(src) => Some(pipec_compiler::expr::parse(src).map_err(|e| {
                    RuntimeError::Internal(format!("topic `{id}`: key `{src}`: {e}"))
                })?),
                None => None,
            };
            by_id.insert(id.clone(), (t.name.clone(), key));
        }
        Ok(Topics { by_id })
    }

    /// The record key of `bytes` for topic `id`: the key expression's value (a string as
    /// is, anything else as JSON), none when the topic has no key or the value is null.
    pub(super) fn key(&self, id: &str, bytes: &[u8]) -> Option<Vec<u8>> {
        let expr = self.by_id.get(id)?.1.as_ref()?;
        let event: Value = serde_json::from_slice(bytes).ok()?;
        match pipec_compiler::expr::eval(expr, &event).ok()? {
            Value::Null => None,
            Value::String(s) => Some(s.into_bytes()),
            other => Some(other.to_string().into_bytes()),
        }
    }
}

/// Asks the brokers for the source topic's metadata (at most 10 s): a refused login or a
/// certificate that does not verify stops the job here, with the brokers' reason. Brokers
/// that do not answer are only logged: the consumer keeps trying, as after a broker restart.
async fn connected(
    consumer: &Arc<StreamConsumer<JobContext>>,
    job: &str,
    cluster: &str,
    servers: &str,
    topic: &str,
) -> Result<(), RuntimeError> {
    let c = Arc::clone(consumer);
    let t = topic.to_owned();
    // A second at a time while it times out. A transport failure is not waited out: a refused
    // login is one, and the context hears the brokers' reason only once the consumer polls
    // (the consume loop stops the job with it at its first read).
    let answer = tokio::task::spawn_blocking(move || {
        let mut answer = Ok(());
        for _ in 0..10 {
            answer = c
                .fetch_metadata(Some(&t), Duration::from_secs(1))
                .map(|_| ());
            let timed_out = answer.as_ref().is_err_and(|e| {
                e.rdkafka_error_code() == Some(rdkafka::types::RDKafkaErrorCode::OperationTimedOut)
            });
            if !timed_out || c.context().fatal().is_some() {
                break;
            }
        }
        answer
    })
    .await
    .map_err(|e| RuntimeError::Internal(format!("asking for metadata: {e}")))?;
    let fatal = consumer.context().fatal();
    match (answer, fatal) {
        (_, Some(reason)) => Err(RuntimeError::Config {
            what: format!(
                "job `{job}`: cluster `{cluster}` ({servers}) refused the client: {reason} (check the cluster's `sasl` and `tls`: user, password, CA)"
            ),
        }),
        (Err(e), None) => {
            tracing::warn!(job, cluster, servers, error = %e, "the brokers did not answer yet");
            Ok(())
        }
        (Ok(()), None) => Ok(()),
    }
}

/// A topic of the manifest; a hand-edited manifest may name one it lacks.
pub(super) fn topic_def<'m>(
    manifest: &'m Manifest,
    id: &str,
) -> Result<&'m pipec_compiler::manifest::Topic, RuntimeError> {
    manifest.topics.get(id).ok_or_else(|| RuntimeError::Config {
        what: format!("the manifest has no topic `{id}`"),
    })
}

pub(super) fn servers<'a>(
    opts: &'a KafkaRunOptions,
    cluster: &str,
) -> Result<&'a str, RuntimeError> {
    opts.brokers
        .get(cluster)
        .map(String::as_str)
        .ok_or_else(|| RuntimeError::Config {
            what: format!("no bootstrap servers for cluster `{cluster}`"),
        })
}

pub(super) fn servers_of(opts: &KafkaRunOptions, cluster: &str) -> Result<String, RuntimeError> {
    servers(opts, cluster).map(str::to_owned)
}

/// Records a report's producer awaits acknowledgements for at a time.
const IN_FLIGHT: usize = 10_000;

/// A delivery's outcome: `Ok` when the broker acknowledged the record.
fn delivered(
    d: Result<
        rdkafka::producer::future_producer::OwnedDeliveryResult,
        futures::channel::oneshot::Canceled,
    >,
) -> Result<(), String> {
    match d {
        Ok(Ok(_)) => Ok(()),
        Ok(Err((e, _))) => Err(e.to_string()),
        Err(_) => Err("the producer went away".into()),
    }
}

/// Produces `records` to topic `topic` of the manifest on `servers` (a report's output):
/// each keyed by the topic's key expression, through an idempotent producer, every
/// acknowledgement awaited. At most [`IN_FLIGHT`] records wait for theirs at a time, so
/// that the records need not all be in memory.
pub async fn produce_all(
    manifest: &Manifest,
    topic: &str,
    servers: &str,
    records: impl IntoIterator<Item = Result<Vec<u8>, RuntimeError>>,
) -> Result<(), RuntimeError> {
    use rdkafka::error::{KafkaError, RDKafkaErrorCode};
    use rdkafka::producer::FutureRecord;
    let def = topic_def(manifest, topic)?;
    let topics = Topics::new(manifest)?;
    // A relative `tls.ca` is read from the working directory here.
    let base = client(manifest, &def.cluster, servers, std::path::Path::new("."))?;
    let p = producer(&base, &def.cluster, servers)?;
    let unavailable = |e: &dyn std::fmt::Display| RuntimeError::Unavailable {
        system: format!("kafka ({servers})"),
        reason: format!("producing to `{}`: {e}", def.name),
    };
    let mut pending = std::collections::VecDeque::new();
    for r in records {
        let r = r?;
        let key = topics.key(topic, &r);
        let mut record = FutureRecord::to(def.name.as_str()).payload(r.as_slice());
        if let Some(k) = &key {
            record = record.key(k.as_slice());
        }
        let delivery = loop {
            match p.send_result(record) {
                Ok(d) => break d,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                Err((e, _)) => return Err(unavailable(&e)),
            }
        };
        pending.push_back(delivery);
        while pending.len() >= IN_FLIGHT {
            if let Some(d) = pending.pop_front() {
                delivered(d.await).map_err(|e| unavailable(&e))?;
            }
        }
    }
    for d in pending {
        delivered(d.await).map_err(|e| unavailable(&e))?;
    }
    let flushed = tokio::task::spawn_blocking(move || {
        rdkafka::producer::Producer::flush(&p, Timeout::After(Duration::from_secs(30)))
    })
    .await;
    match flushed {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(unavailable(&e)),
        Err(e) => Err(unavailable(&e)),
    }
}
