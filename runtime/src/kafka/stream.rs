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

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pipec_compiler::expr::Expr;
use pipec_compiler::manifest::Manifest;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, Message, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::util::Timeout;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use serde_json::Value;
use tokio::sync::watch;

use crate::RuntimeError;
use crate::job::{Job, Output, StepCounters};
use crate::metrics::Metrics;
use crate::store::Store;

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
}

/// Runs the jobs until `stop` turns true (or, with `idle_exit`, until they are idle).
pub async fn run(
    manifest: &Manifest,
    opts: &KafkaRunOptions,
    metrics: Arc<Metrics>,
    stop: watch::Receiver<bool>,
) -> Result<KafkaReport, RuntimeError> {
    let selected = crate::embedded::select_jobs(manifest, &opts.jobs)?;
    let stores =
        crate::embedded::open_stores(manifest, &selected, opts.memory_stores, &opts.base_dir)
            .await?;
    let mut producers: HashMap<String, FutureProducer> = HashMap::new();
    let topics = Arc::new(Topics::new(manifest)?);
    let mut tasks = Vec::new();
    for name in &selected {
        let job = Job::build(name, manifest, &stores)?;
        let def = &manifest.jobs[*name];
        let source = topic_def(manifest, &def.from)?;
        let servers = servers(opts, &source.cluster)?;
        let mut outs: HashMap<String, FutureProducer> = HashMap::new();
        let txn = if opts.exactly_once {
            let id = format!("{}-{}", def.consumer_group, opts.instance);
            let p = transactional(manifest, name, &source.cluster, servers, &id).await?;
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
                        let p = producer(manifest, cluster, &servers)?;
                        producers.insert(servers.clone(), p.clone());
                        p
                    }
                };
                outs.insert(t.to_string(), p);
            }
            None
        };
        let consumer = consumer(manifest, &source.cluster, servers, &def.consumer_group)?;
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
            outputs
                .entry(servers.clone())
                .or_insert_with(|| (client(manifest, &def.cluster, &servers), Vec::new()))
                .1
                .push(def.name.clone());
        }
        let runner = Runner {
            source_name: source.name.clone(),
            group: def.consumer_group.clone(),
            output_clusters: outputs.into_values().collect(),
            written: std::sync::Mutex::new(super::recover::Written::new()),
            job,
            stores: job_stores,
            last_snapshot: std::sync::Mutex::new(Instant::now()),
            consumer: Arc::new(consumer),
            producers: outs,
            txn,
            topics: Arc::clone(&topics),
            partition_counts: std::sync::Mutex::new(HashMap::new()),
            metrics: Arc::clone(&metrics),
            opts: opts.clone(),
        };
        tasks.push(tokio::spawn(runner.run(stop.clone())));
    }
    let mut report = KafkaReport::default();
    let mut first_error = None;
    for t in tasks {
        if let Some((name, counters, n)) = crate::embedded::joined(t.await, "job", &mut first_error)
        {
            report.records_in.insert(name.clone(), n);
            report.jobs.insert(name, counters);
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
    crate::embedded::close_stores(&stores, &mut first_error).await;
    match first_error {
        Some(e) => Err(e),
        None => Ok(report),
    }
}

/// Kafka names and record keys of the manifest's topics.
struct Topics {
    /// Spec name → (Kafka name, key expression).
    by_id: HashMap<String, (String, Option<Expr>)>,
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
    fn key(&self, id: &str, bytes: &[u8]) -> Option<Vec<u8>> {
        let expr = self.by_id.get(id)?.1.as_ref()?;
        let event: Value = serde_json::from_slice(bytes).ok()?;
        match pipec_compiler::expr::eval(expr, &event).ok()? {
            Value::Null => None,
            Value::String(s) => Some(s.into_bytes()),
            other => Some(other.to_string().into_bytes()),
        }
    }
}

/// A record handed to the producer: its topic, when, and its acknowledgement to come.
type Delivery = (String, Instant, rdkafka::producer::DeliveryFuture);

/// Next offset to read, per (topic, partition).
type Offsets = BTreeMap<(String, i32), i64>;

/// The next offset to read of each partition in `batch`.
fn next_offsets(batch: &[OwnedMessage]) -> Offsets {
    let mut next = Offsets::new();
    for m in batch {
        let e = next
            .entry((m.topic().to_owned(), m.partition()))
            .or_insert(0);
        *e = (*e).max(m.offset() + 1);
    }
    next
}

/// Removes from `batch` the records below their partition's mark in `handed`; gives how many.
fn skip_handed(batch: &mut Vec<OwnedMessage>, handed: &Offsets) -> u64 {
    if handed.is_empty() {
        return 0;
    }
    let before = batch.len();
    batch.retain(|m| {
        handed
            .get(&(m.topic().to_owned(), m.partition()))
            .is_none_or(|&next| m.offset() >= next)
    });
    (before - batch.len()) as u64
}

/// Adds `more` to `into`, keeping the larger offset of a partition in both.
fn merge_offsets(into: &mut Offsets, more: &Offsets) {
    for (k, &v) in more {
        match into.get_mut(k) {
            Some(e) => *e = (*e).max(v),
            None => {
                into.insert(k.clone(), v);
            }
        }
    }
}

/// What was processed and not yet committed.
#[derive(Debug, Default)]
struct Pending {
    /// Next offset to read, per partition.
    next: BTreeMap<(String, i32), i64>,
    /// First offset per partition of the open transaction: where to go back to when it is
    /// aborted.
    start: BTreeMap<(String, i32), i64>,
    /// Whether a transaction is open (exactly-once).
    open: bool,
}

struct Runner {
    /// Kafka name of the source topic.
    source_name: String,
    /// Consumer group.
    group: String,
    /// Output topics (Kafka names) by cluster, with the cluster's client settings.
    output_clusters: Vec<(ClientConfig, Vec<String>)>,
    /// Outputs the broker already has from records that will be consumed again (found by
    /// the recovery scan at start): not produced again.
    written: std::sync::Mutex<super::recover::Written>,
    job: Job,
    /// The job's stores: memory ones write their snapshot before offsets are committed.
    stores: Vec<Arc<Store>>,
    last_snapshot: std::sync::Mutex<Instant>,
    consumer: Arc<StreamConsumer>,
    producers: HashMap<String, FutureProducer>,
    /// The job's transactional producer (exactly-once), also in `producers`.
    txn: Option<FutureProducer>,
    topics: Arc<Topics>,
    /// Partition counts of the output topics (Kafka name → count), read from the broker the
    /// first time a record without a key goes to the topic.
    partition_counts: std::sync::Mutex<HashMap<String, i32>>,
    metrics: Arc<Metrics>,
    opts: KafkaRunOptions,
}

impl Runner {
    async fn run(
        self,
        mut stop: watch::Receiver<bool>,
    ) -> Result<(String, Vec<StepCounters>, u64), RuntimeError> {
        let name = self.job.name().to_owned();
        let result = self.consume(&mut stop).await;
        self.metrics.job_stopped(&name);
        if let Err(e) = &result {
            tracing::error!(job = %name, error = %e, "job stopped");
        }
        result
    }

    async fn consume(
        &self,
        stop: &mut watch::Receiver<bool>,
    ) -> Result<(String, Vec<StepCounters>, u64), RuntimeError> {
        let name = self.job.name().to_owned();
        let mut out = Output::default();
        let mut consumed = 0u64;
        let mut last_record = Instant::now();
        let mut last_lag = Instant::now() - Duration::from_secs(60);
        let mut pending = Pending::default();
        // Batches sent and not yet acknowledged, oldest first, with their offsets.
        let mut unacked: std::collections::VecDeque<(Vec<Delivery>, Offsets)> =
            std::collections::VecDeque::new();
        // At-least-once: the next offset per partition whose records' outputs this process has
        // handed to the producer. When the group takes a partition away and gives it back (a
        // coordinator that restarted and forgot the member, a rebalance), the consumer starts
        // again at the last committed offset; records below this mark have had their outputs
        // produced (or they are in flight, and a failed delivery stops the job before their
        // offsets are committed), so they are not run through the steps again.
        let mut handed = Offsets::new();
        if self.txn.is_none() {
            self.recover().await;
        }
        tracing::info!(job = %name, exactly_once = self.txn.is_some(), "consuming");
        loop {
            if *stop.borrow() {
                break;
            }
            if last_lag.elapsed() >= Duration::from_secs(5) {
                last_lag = Instant::now();
                self.report_lag(&name).await;
            }
            // The first record: wait for it, for a stop, or for the idle limit; with batches
            // awaiting acknowledgement, only as long as a batch waits to fill, so that a source
            // gone quiet has its last offsets committed at once (not a second later).
            let wait = if unacked.is_empty() {
                self.opts.idle_exit.unwrap_or(Duration::from_secs(1))
            } else {
                self.opts.batch_wait
            };
            let first = tokio::select! {
                _ = stop.changed() => break,
                m = tokio::time::timeout(wait, self.consumer.recv()) => m,
            };
            let first = match first {
                Err(_) => {
                    // Quiet: what is in flight is acknowledged and committed now.
                    if !unacked.is_empty() {
                        self.settle_until(&mut unacked, &mut pending, 0).await?;
                        if self.snapshot(false)? {
                            self.commit_point(&mut pending, false).await?;
                        }
                    }
                    if self
                        .opts
                        .idle_exit
                        .is_some_and(|d| last_record.elapsed() >= d)
                    {
                        tracing::info!(job = %name, "idle: stopping");
                        break;
                    }
                    continue;
                }
                Ok(Err(e)) => {
                    // Broker errors surface here while librdkafka reconnects; keep going.
                    tracing::warn!(job = %name, error = %e, "consumer error");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
                Ok(Ok(m)) => m.detach(),
            };
            let mut batch = vec![first];
            let deadline = tokio::time::Instant::now() + self.opts.batch_wait;
            while batch.len() < self.opts.max_batch {
                match tokio::time::timeout_at(deadline, self.consumer.recv()).await {
                    Ok(Ok(m)) => batch.push(m.detach()),
                    _ => break,
                }
            }
            last_record = Instant::now();
            let next = next_offsets(&batch);
            if self.txn.is_none() {
                let again = skip_handed(&mut batch, &handed);
                if again > 0 {
                    tracing::info!(job = %name, records = again, "records consumed again after the group gave their partition back: their outputs were produced already, not again");
                    self.metrics.consumed_again(&name, again);
                }
                if batch.is_empty() {
                    // Their offsets are committed once the batches before them are acknowledged.
                    unacked.push_back((Vec::new(), next));
                    self.settle_until(&mut unacked, &mut pending, self.opts.unacked_batches)
                        .await?;
                    continue;
                }
            }
            consumed += batch.len() as u64;
            if self.txn.is_some() {
                self.begin(&mut pending)?;
                for m in &batch {
                    pending
                        .start
                        .entry((m.topic().to_owned(), m.partition()))
                        .or_insert(m.offset());
                }
            }
            let processed = match self.process(&batch, &mut out, stop).await {
                Ok(sent) if self.txn.is_some() => self.settle(sent).await.map(|()| Vec::new()),
                other => other,
            };
            let sent = match processed {
                Ok(sent) => sent,
                Err(e @ RuntimeError::Unavailable { .. }) if self.txn.is_some() => {
                    // A record the broker did not take: abort, and read the transaction's
                    // records again.
                    tracing::warn!(job = %name, error = %e, "transaction aborted");
                    self.abort(&mut pending).await?;
                    continue;
                }
                Err(e) => return Err(e),
            };
            if self.txn.is_some() {
                merge_offsets(&mut pending.next, &next);
            } else {
                merge_offsets(&mut handed, &next);
                unacked.push_back((sent, next));
                self.settle_until(&mut unacked, &mut pending, self.opts.unacked_batches)
                    .await?;
            }
            // With snapshotting stores, offsets move only with a snapshot.
            if self.snapshot(false)? {
                self.commit_point(&mut pending, false).await?;
            }
        }
        // Stopping: what is in flight is acknowledged, windows still open give their
        // aggregates now.
        self.settle_until(&mut unacked, &mut pending, 0).await?;
        self.begin(&mut pending)?;
        self.job.flush(&mut out).await?;
        let sent = self.send(&mut out, &HashMap::new()).await?;
        self.settle(sent).await?;
        self.snapshot(true)?;
        self.commit_point(&mut pending, true).await?;
        tracing::info!(job = %name, consumed, "stopped");
        Ok((name, std::mem::take(&mut out.counters), consumed))
    }

    /// Commits what was processed: the offsets (at-least-once), or the transaction with
    /// its offsets (exactly-once; on failure the transaction is aborted and its records are
    /// read again).
    async fn commit_point(&self, pending: &mut Pending, last: bool) -> Result<(), RuntimeError> {
        let Some(p) = &self.txn else {
            let mode = if last {
                CommitMode::Sync
            } else {
                CommitMode::Async
            };
            return self.commit(&std::mem::take(&mut pending.next), mode);
        };
        if !pending.open {
            return Ok(());
        }
        let offsets = offset_list(&pending.next)?;
        let group = if offsets.count() > 0 {
            Some(self.consumer.group_metadata().ok_or_else(|| {
                RuntimeError::Internal("the consumer has no group metadata".into())
            })?)
        } else {
            None
        };
        let p = p.clone();
        let committed = tokio::task::spawn_blocking(move || -> Result<(), KafkaError> {
            if let Some(group) = group {
                p.send_offsets_to_transaction(&offsets, &group, TXN_TIMEOUT)?;
            }
            p.commit_transaction(TXN_TIMEOUT)
        })
        .await
        .map_err(|e| RuntimeError::Internal(format!("committing: {e}")))?;
        match committed {
            Ok(()) => {
                self.metrics.committed(self.job.name());
                *pending = Pending::default();
                Ok(())
            }
            Err(e) if fatal(&e) || last => Err(txn_error("committing", &e)),
            Err(e) => {
                tracing::warn!(job = %self.job.name(), error = %e, "commit failed: transaction aborted");
                self.abort(pending).await
            }
        }
    }

    /// Opens a transaction (exactly-once) unless one is open.
    fn begin(&self, pending: &mut Pending) -> Result<(), RuntimeError> {
        if let Some(p) = &self.txn
            && !pending.open
        {
            p.begin_transaction()
                .map_err(|e| txn_error("beginning", &e))?;
            pending.open = true;
        }
        Ok(())
    }

    /// Aborts the open transaction and goes back to its first records.
    async fn abort(&self, pending: &mut Pending) -> Result<(), RuntimeError> {
        let start = std::mem::take(pending).start;
        let Some(p) = self.txn.clone() else {
            return Ok(());
        };
        tokio::task::spawn_blocking(move || p.abort_transaction(TXN_TIMEOUT))
            .await
            .map_err(|e| RuntimeError::Internal(format!("aborting: {e}")))?
            .map_err(|e| txn_error("aborting", &e))?;
        self.metrics.retried(self.job.name());
        for ((topic, partition), offset) in &start {
            self.consumer
                .seek(
                    topic,
                    *partition,
                    Offset::Offset(*offset),
                    Duration::from_secs(10),
                )
                .map_err(|e| RuntimeError::Unavailable {
                    system: "kafka".into(),
                    reason: format!("going back to {topic}[{partition}]@{offset}: {e}"),
                })?;
        }
        Ok(())
    }

    /// Reads what the job's output topics received since its last commit (see
    /// [`super::recover`]). A scan that fails is logged: records are then produced again, as
    /// at-least-once allows.
    async fn recover(&self) {
        let consumer = Arc::clone(&self.consumer);
        let source = self.source_name.clone();
        let group = self.group.clone();
        let clusters = self.output_clusters.clone();
        let started = Instant::now();
        let scanned = tokio::task::spawn_blocking(move || {
            let since = super::recover::since(consumer.as_ref(), &source, Duration::from_secs(10));
            let mut all = super::recover::Written::new();
            for (config, topics) in &clusters {
                let found =
                    super::recover::scan(config, &group, topics, since, Duration::from_secs(120))?;
                for (k, n) in found {
                    *all.entry(k).or_default() += n;
                }
            }
            Ok::<_, String>((since, all))
        })
        .await;
        match scanned {
            Ok(Ok((since, found))) => {
                let records: u32 = found.values().sum();
                tracing::info!(job = %self.job.name(), since_ms = since, records, took = ?started.elapsed(), "recovery scan of the outputs");
                *self
                    .written
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = found;
            }
            Ok(Err(e)) => {
                tracing::warn!(job = %self.job.name(), error = %e, "recovery scan failed: outputs of records consumed again are produced again");
            }
            Err(e) => {
                tracing::warn!(job = %self.job.name(), error = %e, "recovery scan failed");
            }
        }
    }

    /// Runs the steps on a batch and sends what they give to the broker (see
    /// [`Runner::send`]), retrying the batch while a store is unavailable.
    async fn process(
        &self,
        batch: &[OwnedMessage],
        out: &mut Output,
        stop: &watch::Receiver<bool>,
    ) -> Result<Vec<Delivery>, RuntimeError> {
        let records: Vec<&[u8]> = batch.iter().map(|m| m.payload().unwrap_or(&[])).collect();
        let positions: Vec<u64> = batch.iter().map(position).collect();
        let mut backoff = Duration::from_millis(250);
        loop {
            match self.job.process_at(&records, &positions, out).await {
                Ok(()) => break,
                Err(e @ RuntimeError::Unavailable { .. }) => {
                    if *stop.borrow() {
                        return Err(e);
                    }
                    tracing::warn!(job = %self.job.name(), error = %e, retry_in = ?backoff, "batch retried");
                    self.metrics.retried(self.job.name());
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                }
                Err(e) => return Err(e),
            }
        }
        for r in out.rejected.drain(..) {
            tracing::warn!(job = %self.job.name(), step = r.step, reason = %r.reason, "record set aside");
        }
        self.metrics
            .batch(self.job.name(), batch.len(), &out.counters);
        let partitions: HashMap<u64, i32> = positions
            .iter()
            .zip(batch)
            .map(|(p, m)| (*p, m.partition()))
            .collect();
        self.send(out, &partitions).await
    }

    /// Waits for the acknowledgements of the oldest batches in `unacked` until at most `keep`
    /// remain, and adds their offsets to what may be committed.
    async fn settle_until(
        &self,
        unacked: &mut std::collections::VecDeque<(Vec<Delivery>, Offsets)>,
        pending: &mut Pending,
        keep: usize,
    ) -> Result<(), RuntimeError> {
        while unacked.len() > keep
            && let Some((sent, next)) = unacked.pop_front()
        {
            self.settle(sent).await?;
            merge_offsets(&mut pending.next, &next);
        }
        Ok(())
    }

    /// Hands the records in `out` to the producer; [`Runner::settle`] waits for their
    /// acknowledgements (librdkafka keeps each partition's records in order). A record without
    /// a key goes to the partition of the record it came from (`partitions`: source position
    /// → partition), modulo the output's partition count, as Flink's fixed partitioner does
    /// for Sunbird's jobs: a stream read in order from one partition is written in that
    /// order to one partition, so the next job reads it in the order this one did (what a
    /// dedup downstream keeps and what it calls a duplicate depends on that order). Keyed
    /// records go where the key hashes (murmur2, as Java clients place them).
    async fn send(
        &self,
        out: &mut Output,
        partitions: &HashMap<u64, i32>,
    ) -> Result<Vec<Delivery>, RuntimeError> {
        let records = std::mem::take(&mut out.records);
        let sources = std::mem::take(&mut out.sources);
        let keys: Vec<Option<Vec<u8>>> = records
            .iter()
            .map(|(id, bytes)| self.topics.key(id, bytes))
            .collect();
        let mut pending = Vec::with_capacity(records.len());
        let (headers, skipped) = {
            let mut written = self
                .written
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let mut skipped = 0u64;
            let mut headers = Vec::with_capacity(records.len());
            for (i, (id, bytes)) in records.iter().enumerate() {
                let (name, _) = self
                    .topics
                    .by_id
                    .get(id.as_ref())
                    .ok_or_else(|| RuntimeError::Internal(format!("no topic `{id}`")))?;
                let source = sources.get(i).copied().unwrap_or(0);
                if source != 0 && !written.is_empty() {
                    let k = super::recover::key(name, source, bytes);
                    if let Some(n) = written.get_mut(&k) {
                        // Stored before the crash: not again.
                        *n -= 1;
                        if *n == 0 {
                            written.remove(&k);
                        }
                        skipped += 1;
                        headers.push(None);
                        continue;
                    }
                }
                headers.push(Some((name, source)));
            }
            (headers, skipped)
        };
        if skipped > 0 {
            tracing::info!(job = %self.job.name(), skipped, "outputs already on the broker not produced again");
        }
        for (((id, bytes), key), target) in records.iter().zip(&keys).zip(&headers) {
            let Some((name, source)) = target else {
                continue;
            };
            let producer = self
                .producers
                .get(id.as_ref())
                .ok_or_else(|| RuntimeError::Internal(format!("no producer for `{id}`")))?;
            let mut record = FutureRecord::to(name.as_str()).payload(bytes.as_slice());
            if let Some(k) = key {
                record = record.key(k.as_slice());
            } else if let Some(from) = partitions.get(source)
                && let Some(n) = self.partition_count(name, producer).await
            {
                record = record.partition(from % n);
            }
            let hex;
            if *source != 0 {
                hex = format!("{source:016x}");
                record = record.headers(OwnedHeaders::new().insert(Header {
                    key: super::recover::SOURCE_HEADER,
                    value: Some(hex.as_str()),
                }));
            }
            let started = Instant::now();
            // Enqueued at once (records of a batch go out together); while librdkafka's
            // queue is full, wait for it to drain: back-pressure.
            let delivery = loop {
                match producer.send_result(record) {
                    Ok(d) => break d,
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                        record = r;
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                    Err((e, _)) => {
                        return Err(RuntimeError::Unavailable {
                            system: "kafka".into(),
                            reason: format!("producing to `{name}`: {e}"),
                        });
                    }
                }
            };
            pending.push((name.to_string(), started, delivery));
        }
        Ok(pending)
    }

    /// Waits for the broker's acknowledgement of every record sent; counts them per topic.
    async fn settle(&self, sent: Vec<Delivery>) -> Result<(), RuntimeError> {
        let mut per_topic: BTreeMap<String, (u64, u64, Vec<f64>)> = BTreeMap::new();
        let mut failure = None;
        for (name, started, delivery) in sent {
            let e = per_topic.entry(name.clone()).or_default();
            match delivery.await {
                Ok(Ok(_)) => {
                    e.0 += 1;
                    e.2.push(started.elapsed().as_secs_f64());
                }
                Ok(Err((err, _))) => {
                    e.1 += 1;
                    failure.get_or_insert_with(|| format!("producing to `{name}`: {err}"));
                }
                Err(_) => {
                    e.1 += 1;
                    failure.get_or_insert_with(|| {
                        format!("producing to `{name}`: the producer went away")
                    });
                }
            }
        }
        for (topic, (ok, failed, latencies)) in &per_topic {
            self.metrics
                .produced(self.job.name(), topic, *ok, *failed, latencies);
        }
        match failure {
            Some(reason) => Err(RuntimeError::Unavailable {
                system: "kafka".into(),
                reason,
            }),
            None => Ok(()),
        }
    }

    /// The partition count of output topic `name`, from the broker once; `None` (the
    /// partitioner decides) when the broker cannot tell.
    async fn partition_count(&self, name: &str, producer: &FutureProducer) -> Option<i32> {
        if let Some(n) = self
            .partition_counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(name)
        {
            return Some(*n);
        }
        let p = producer.clone();
        let topic = name.to_owned();
        let n = tokio::task::spawn_blocking(move || {
            let md = p
                .client()
                .fetch_metadata(Some(&topic), Duration::from_secs(10))
                .ok()?;
            let t = md.topics().iter().find(|t| t.name() == topic)?;
            let n = i32::try_from(t.partitions().len()).ok()?;
            (n > 0 && t.error().is_none()).then_some(n)
        })
        .await
        .ok()
        .flatten();
        match n {
            Some(n) => {
                self.partition_counts
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .insert(name.to_owned(), n);
            }
            None => {
                tracing::warn!(job = %self.job.name(), topic = name, "partition count unknown: records without a key go where the partitioner puts them");
            }
        }
        n
    }

    /// Writes the snapshots of the job's memory stores that keep them, at most every 5 s
    /// unless `now`; true when the offsets may be committed now (a snapshot was written, or
    /// no store keeps one). Offsets are committed only after a snapshot, so a restart loads
    /// state at least as new as the offsets it resumes from: no key of a committed record is
    /// forgotten. Records produced after the last snapshot are consumed again after a crash
    /// and, their keys unknown to the restored store, produced again (at-least-once).
    fn snapshot(&self, now: bool) -> Result<bool, RuntimeError> {
        let snapshotting: Vec<&Arc<Store>> =
            self.stores.iter().filter(|s| s.has_snapshot()).collect();
        if snapshotting.is_empty() {
            return Ok(true);
        }
        let mut last = self
            .last_snapshot
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !now && last.elapsed() < SNAPSHOT_EVERY {
            return Ok(false);
        }
        for s in snapshotting {
            s.snapshot()?;
        }
        *last = Instant::now();
        Ok(true)
    }

    /// Commits offsets (topic, partition → next offset to read).
    fn commit(
        &self,
        next: &BTreeMap<(String, i32), i64>,
        mode: CommitMode,
    ) -> Result<(), RuntimeError> {
        if next.is_empty() {
            return Ok(());
        }
        let tpl = offset_list(next)?;
        match self.consumer.commit(&tpl, mode) {
            Ok(()) => {
                self.metrics.committed(self.job.name());
                Ok(())
            }
            // Partitions revoked in a rebalance: their records are consumed again elsewhere.
            Err(e) => {
                tracing::warn!(job = %self.job.name(), error = %e, "commit failed");
                Ok(())
            }
        }
    }

    async fn report_lag(&self, name: &str) {
        let consumer = Arc::clone(&self.consumer);
        let lag = tokio::task::spawn_blocking(move || {
            let position = consumer.position().ok()?;
            let mut lag = 0i64;
            for p in position.elements() {
                let (_, high) = consumer
                    .fetch_watermarks(p.topic(), p.partition(), Duration::from_secs(2))
                    .ok()?;
                let at = match p.offset() {
                    Offset::Offset(o) => o,
                    _ => 0,
                };
                lag += (high - at).max(0);
            }
            Some(lag)
        })
        .await;
        if let Ok(Some(lag)) = lag {
            self.metrics.lag(name, lag);
        }
    }
}

/// The API key of EndTxn, which commits or aborts a transaction.
const END_TXN: i16 = 26;

/// How long a transaction call may take.
const TXN_TIMEOUT: Duration = Duration::from_secs(30);

/// A record's position as a dedup token: its topic, partition and offset, hashed (never 0).
fn position(m: &OwnedMessage) -> u64 {
    let mut buf = Vec::with_capacity(m.topic().len() + 12);
    buf.extend_from_slice(m.topic().as_bytes());
    buf.extend_from_slice(&m.partition().to_le_bytes());
    buf.extend_from_slice(&m.offset().to_le_bytes());
    xxhash_rust::xxh3::xxh3_64(&buf).max(1)
}

/// The offsets to commit, each with the time of the commit as its metadata (where a
/// restarted job's recovery scan starts, see [`super::recover`]).
fn offset_list(next: &BTreeMap<(String, i32), i64>) -> Result<TopicPartitionList, RuntimeError> {
    let mut tpl = TopicPartitionList::new();
    let now = super::recover::now_ms().to_string();
    for ((topic, partition), offset) in next {
        tpl.add_partition_offset(topic, *partition, Offset::Offset(*offset))
            .map_err(|e| RuntimeError::Internal(format!("offset list: {e}")))?;
        if let Some(mut e) = tpl.find_partition(topic, *partition) {
            e.set_metadata(now.as_str());
        }
    }
    Ok(tpl)
}

/// Whether a transaction error leaves the producer unusable (fenced by a newer instance
/// with the same transactional id, or a broker that does not support transactions).
fn fatal(e: &KafkaError) -> bool {
    match e {
        KafkaError::Transaction(t) => t.is_fatal() || !t.txn_requires_abort(),
        _ => true,
    }
}

fn txn_error(doing: &str, e: &KafkaError) -> RuntimeError {
    RuntimeError::Unavailable {
        system: "kafka".into(),
        reason: format!("{doing} a transaction: {e}"),
    }
}

/// A transactional producer, its transactions initialised (which aborts one its
/// predecessor with the same id left open).
async fn transactional(
    manifest: &Manifest,
    job: &str,
    cluster: &str,
    servers: &str,
    id: &str,
) -> Result<FutureProducer, RuntimeError> {
    // librdkafka would find out only at the first commit.
    if let Ok(mut conn) = super::wire::Conn::connect(servers, Duration::from_secs(10)).await
        && let Ok(None) = conn.api_versions(END_TXN).await
    {
        return Err(RuntimeError::Config {
            what: format!(
                "exactly-once for job `{job}`: the broker at {servers} does not implement \
                 Kafka transactions (no EndTxn API; Tansu 0.6 has none); run without \
                 --exactly-once for at-least-once"
            ),
        });
    }
    let p: FutureProducer = client(manifest, cluster, servers)
        .set("transactional.id", id)
        .set("partitioner", "murmur2_random")
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "5")
        .set("transaction.timeout.ms", "60000")
        .create()
        .map_err(|e| RuntimeError::Config {
            what: format!("kafka producer for job `{job}` ({servers}): {e}"),
        })?;
    let q = p.clone();
    tokio::task::spawn_blocking(move || q.init_transactions(TXN_TIMEOUT))
        .await
        .map_err(|e| RuntimeError::Internal(format!("initialising transactions: {e}")))?
        .map_err(|e| RuntimeError::Unavailable {
            system: format!("kafka ({servers})"),
            reason: format!("job `{job}`: initialising transactions for `{id}`: {e}"),
        })?;
    Ok(p)
}

/// A topic of the manifest; a hand-edited manifest may name one it lacks.
fn topic_def<'m>(
    manifest: &'m Manifest,
    id: &str,
) -> Result<&'m pipec_compiler::manifest::Topic, RuntimeError> {
    manifest.topics.get(id).ok_or_else(|| RuntimeError::Config {
        what: format!("the manifest has no topic `{id}`"),
    })
}

fn servers<'a>(opts: &'a KafkaRunOptions, cluster: &str) -> Result<&'a str, RuntimeError> {
    opts.brokers
        .get(cluster)
        .map(String::as_str)
        .ok_or_else(|| RuntimeError::Config {
            what: format!("no bootstrap servers for cluster `{cluster}`"),
        })
}

fn servers_of(opts: &KafkaRunOptions, cluster: &str) -> Result<String, RuntimeError> {
    servers(opts, cluster).map(str::to_owned)
}

fn client(manifest: &Manifest, cluster: &str, servers: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    if let Some(def) = manifest.clusters.get(cluster) {
        for (k, v) in &def.config {
            c.set(k, v);
        }
    }
    c.set("bootstrap.servers", servers);
    // librdkafka's own debug contexts (`cgrp,fetch`, `all`), logged through `tracing`.
    if let Ok(debug) = std::env::var("PIPEC_KAFKA_DEBUG")
        && !debug.is_empty()
    {
        c.set("debug", debug);
    }
    c
}

fn producer(
    manifest: &Manifest,
    cluster: &str,
    servers: &str,
) -> Result<FutureProducer, RuntimeError> {
    client(manifest, cluster, servers)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "5")
        .set("partitioner", "murmur2_random")
        .create()
        .map_err(|e| RuntimeError::Config {
            what: format!("kafka producer for cluster `{cluster}` ({servers}): {e}"),
        })
}

fn consumer(
    manifest: &Manifest,
    cluster: &str,
    servers: &str,
    group: &str,
) -> Result<StreamConsumer, RuntimeError> {
    client(manifest, cluster, servers)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("isolation.level", "read_committed")
        .set("session.timeout.ms", "10000")
        .create()
        .map_err(|e| RuntimeError::Config {
            what: format!("kafka consumer for cluster `{cluster}` ({servers}): {e}"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::Timestamp;

    fn record(partition: i32, offset: i64) -> OwnedMessage {
        OwnedMessage::new(
            Some(b"{}".to_vec()),
            None,
            "in".into(),
            Timestamp::NotAvailable,
            partition,
            offset,
            None,
        )
    }

    #[test]
    fn records_already_handed_on_are_skipped_per_partition() {
        let mut batch: Vec<OwnedMessage> = [(0, 3), (0, 4), (0, 5), (1, 0), (2, 7)]
            .into_iter()
            .map(|(p, o)| record(p, o))
            .collect();
        let next = next_offsets(&batch);
        assert_eq!(next[&("in".to_owned(), 0)], 6);
        assert_eq!(next[&("in".to_owned(), 2)], 8);
        let handed: Offsets = [(("in".to_owned(), 0), 5), (("in".to_owned(), 2), 7)].into();
        assert_eq!(skip_handed(&mut batch, &handed), 2);
        let kept: Vec<(i32, i64)> = batch.iter().map(|m| (m.partition(), m.offset())).collect();
        // Partition 0 from its mark on; partition 1 has none; partition 2's record is the mark.
        assert_eq!(kept, vec![(0, 5), (1, 0), (2, 7)]);
        assert_eq!(skip_handed(&mut batch, &Offsets::new()), 0);
    }

    #[test]
    fn merged_offsets_keep_the_larger() {
        let mut into: Offsets = [(("a".to_owned(), 0), 10), (("a".to_owned(), 1), 3)].into();
        merge_offsets(
            &mut into,
            &[
                (("a".to_owned(), 0), 4),
                (("a".to_owned(), 1), 9),
                (("b".to_owned(), 0), 1),
            ]
            .into(),
        );
        assert_eq!(into[&("a".to_owned(), 0)], 10);
        assert_eq!(into[&("a".to_owned(), 1)], 9);
        assert_eq!(into[&("b".to_owned(), 0)], 1);
    }
}
