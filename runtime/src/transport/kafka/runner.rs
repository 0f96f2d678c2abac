//! A job's consumption loop on Kafka: batches read from its consumer group, run through the
//! job, handed to the producer ([`super::produce`]) and committed once acknowledged
//! ([`super::commit`]); records the group hands back are not run twice; the recovery scan
//! at start, snapshots of memory stores and the consumer lag.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::Offset;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Message, OwnedMessage};
use rdkafka::producer::FutureProducer;
use tokio::sync::watch;

use super::context::JobContext;
use super::{KafkaRunOptions, SNAPSHOT_EVERY, Topics};
use crate::RuntimeError;
use crate::job::{Job, Output, StepCounters};
use crate::metrics::Metrics;
use crate::store::Store;

/// A record handed to the producer: its topic, when, and its acknowledgement to come.
pub(super) type Delivery = (String, Instant, rdkafka::producer::DeliveryFuture);

/// Next offset to read, per (topic, partition).
pub(super) type Offsets = BTreeMap<(String, i32), i64>;

/// The next offset to read of each partition in `batch`.
pub(super) fn next_offsets(batch: &[OwnedMessage]) -> Offsets {
    let mut next = Offsets::new();
    for m in batch {
        let e = next
            .entry((m.topic().to_owned(), m.partition()))
            .or_insert(0);
        *e = (*e).max(m.offset() + 1);
    }
    next
}

/// Removes from `batch` the records below their partition's mark in `handed`, and those a
/// rebalance made the consumer read twice within the batch (a partition given back starts
/// again at its last commit); gives how many.
pub(super) fn skip_handed(batch: &mut Vec<OwnedMessage>, handed: &Offsets) -> u64 {
    let before = batch.len();
    let mut marks = Offsets::new();
    batch.retain(|m| {
        let key = (m.topic().to_owned(), m.partition());
        let mark = marks.get(&key).or_else(|| handed.get(&key)).copied();
        if mark.is_some_and(|next| m.offset() < next) {
            return false;
        }
        marks.insert(key, m.offset() + 1);
        true
    });
    (before - batch.len()) as u64
}

/// Adds `more` to `into`, keeping the larger offset of a partition in both.
pub(super) fn merge_offsets(into: &mut Offsets, more: &Offsets) {
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
pub(super) struct Pending {
    /// Next offset to read, per partition.
    pub(super) next: BTreeMap<(String, i32), i64>,
    /// First offset per partition of the open transaction: where to go back to when it is
    /// aborted.
    pub(super) start: BTreeMap<(String, i32), i64>,
    /// Whether a transaction is open (exactly-once).
    pub(super) open: bool,
    /// The consumer's rebalance count when the open transaction's first batch was read.
    pub(super) rebalances: u64,
}

pub(super) struct Runner {
    /// Consumer group.
    pub(super) group: String,
    /// Output topics (Kafka names) by cluster, with the cluster's client settings.
    pub(super) output_clusters: Vec<(ClientConfig, Vec<String>)>,
    /// Outputs the broker already has from records that will be consumed again (found by
    /// the recovery scan at start): not produced again.
    pub(super) written: std::sync::Mutex<super::recover::Written>,
    pub(super) job: Job,
    /// The job's stores: memory ones write their snapshot before offsets are committed.
    pub(super) stores: Vec<Arc<Store>>,
    pub(super) last_snapshot: std::sync::Mutex<Instant>,
    pub(super) consumer: Arc<StreamConsumer<JobContext>>,
    pub(super) producers: HashMap<String, FutureProducer>,
    /// The job's transactional producer (exactly-once), also in `producers`.
    pub(super) txn: Option<FutureProducer>,
    pub(super) topics: Arc<Topics>,
    /// Partition counts of the output topics (Kafka name → count), read from the broker the
    /// first time a record without a key goes to the topic.
    pub(super) partition_counts: std::sync::Mutex<HashMap<String, i32>>,
    pub(super) metrics: Arc<Metrics>,
    pub(super) opts: KafkaRunOptions,
}

impl Runner {
    pub(super) async fn run(
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

    pub(super) async fn consume(
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
        let mut time = Timings::default();
        tracing::info!(job = %name, exactly_once = self.txn.is_some(), "consuming");
        loop {
            if *stop.borrow() {
                break;
            }
            if let Some(reason) = self.consumer.context().fatal() {
                return Err(self.consumer.context().refused(&reason));
            }
            // Rebalances so far: one while this batch is read means the group moved partitions.
            let rebalances = self.consumer.context().rebalances();
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
            let waited = Instant::now();
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
                    if e.rdkafka_error_code().is_some_and(super::context::is_fatal) {
                        return Err(self.consumer.context().refused(&e.to_string()));
                    }
                    // Broker errors surface here while librdkafka reconnects; keep going.
                    tracing::warn!(job = %name, error = %e, "consumer error");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
                Ok(Ok(m)) => m.detach(),
            };
            time.first_record += waited.elapsed();
            let filling = Instant::now();
            let mut batch = vec![first];
            let deadline = tokio::time::Instant::now() + self.opts.batch_wait;
            while batch.len() < self.opts.max_batch {
                match tokio::time::timeout_at(deadline, self.consumer.recv()).await {
                    Ok(Ok(m)) => batch.push(m.detach()),
                    _ => break,
                }
            }
            last_record = Instant::now();
            time.filling += filling.elapsed();
            let gained = self.consumer.context().take_gained();
            if self.txn.is_some() {
                // Exactly-once: a transaction that spans a rebalance may hold records of
                // partitions the group gave to another member, which reads them again from the
                // last commit: it is aborted, and what this member still has is read again.
                let began = if pending.open {
                    pending.rebalances
                } else {
                    rebalances
                };
                if self.consumer.context().rebalances() != began {
                    tracing::info!(job = %name, "rebalance: the open transaction is aborted and its records read again");
                    self.abort(&mut pending, &batch).await?;
                    continue;
                }
            } else if !gained.is_empty() {
                // At-least-once: the outputs of the gained partitions' records since their
                // last commit may be on the broker already (produced by the member that had
                // them, or by this process before a restart): found before they are run.
                let t = Instant::now();
                self.recover(gained).await;
                time.recovering += t.elapsed();
            }
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
                if !pending.open {
                    pending.rebalances = rebalances;
                }
                self.begin(&mut pending)?;
                for m in &batch {
                    pending
                        .start
                        .entry((m.topic().to_owned(), m.partition()))
                        .or_insert(m.offset());
                }
            }
            let t = Instant::now();
            let processed = self.process(&batch, &mut out, stop).await;
            time.steps += t.elapsed();
            let t = Instant::now();
            let processed = match processed {
                Ok(sent) if self.txn.is_some() => self.settle(sent).await.map(|()| Vec::new()),
                other => other,
            };
            let sent = match processed {
                Ok(sent) => sent,
                Err(e @ RuntimeError::Unavailable { .. }) if self.txn.is_some() => {
                    // A record the broker did not take: abort, and read the transaction's
                    // records again.
                    tracing::warn!(job = %name, error = %e, "transaction aborted");
                    self.abort(&mut pending, &[]).await?;
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
            time.acks += t.elapsed();
            let t = Instant::now();
            // With snapshotting stores, offsets move only with a snapshot.
            if self.snapshot(false)? {
                self.commit_point(&mut pending, false).await?;
            }
            time.committing += t.elapsed();
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
        time.log(&name);
        Ok((name, std::mem::take(&mut out.counters), consumed))
    }

    /// Reads what the job's output topics received since the group's last commit of
    /// `partitions` (see [`super::recover`]), before their records are run. A scan that fails
    /// is logged: records are then produced again, as at-least-once allows.
    pub(super) async fn recover(&self, partitions: Vec<(String, i32)>) {
        let consumer = Arc::clone(&self.consumer);
        let group = self.group.clone();
        let clusters = self.output_clusters.clone();
        let started = Instant::now();
        let count = partitions.len();
        let scanned = tokio::task::spawn_blocking(move || {
            let since =
                super::recover::since(consumer.as_ref(), &partitions, Duration::from_secs(10));
            let mut all = super::recover::Written::new();
            let Some(since) = since else {
                return Ok((None, all));
            };
            for (config, topics) in &clusters {
                let found =
                    super::recover::scan(config, &group, topics, since, Duration::from_secs(120))?;
                for (k, n) in found {
                    *all.entry(k).or_default() += n;
                }
            }
            Ok::<_, String>((Some(since), all))
        })
        .await;
        match scanned {
            Ok(Ok((None, _))) => {
                tracing::info!(job = %self.job.name(), partitions = count, took = ?started.elapsed(), "no recovery scan: the group never committed these partitions, so produced nothing from them");
            }
            Ok(Ok((Some(since), found))) => {
                let records: u32 = found.values().sum();
                tracing::info!(job = %self.job.name(), partitions = count, since_ms = since, records, took = ?started.elapsed(), "recovery scan of the outputs");
                super::recover::merge(
                    &mut self
                        .written
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner),
                    found,
                );
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
    pub(super) async fn process(
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

    /// Writes the snapshots of the job's memory stores that keep them, at most every 5 s
    /// unless `now`; true when the offsets may be committed now (a snapshot was written, or
    /// no store keeps one). Offsets are committed only after a snapshot, so a restart loads
    /// state at least as new as the offsets it resumes from: no key of a committed record is
    /// forgotten. Records produced after the last snapshot are consumed again after a crash
    /// and, their keys unknown to the restored store, produced again (at-least-once).
    pub(super) fn snapshot(&self, now: bool) -> Result<bool, RuntimeError> {
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

    pub(super) async fn report_lag(&self, name: &str) {
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

/// Where a job's consume loop spent its time, logged when it stops: waiting for a batch's
/// first record (waits that timed out with nothing are left out), filling the batch, the
/// recovery scan,
/// the steps (with their stores and handing outputs to the producer), waiting for
/// acknowledgements (with exactly-once, the transaction's records), and committing.
#[derive(Debug, Default)]
struct Timings {
    first_record: Duration,
    filling: Duration,
    recovering: Duration,
    steps: Duration,
    acks: Duration,
    committing: Duration,
}

impl Timings {
    fn log(&self, job: &str) {
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        tracing::info!(
            job,
            first_record_ms = ms(self.first_record),
            filling_ms = ms(self.filling),
            recovering_ms = ms(self.recovering),
            steps_ms = ms(self.steps),
            acks_ms = ms(self.acks),
            committing_ms = ms(self.committing),
            "where the consume loop spent its time"
        );
    }
}

/// A record's position as a dedup token: its topic, partition and offset, hashed (never 0).
pub(super) fn position(m: &OwnedMessage) -> u64 {
    let mut buf = Vec::with_capacity(m.topic().len() + 12);
    buf.extend_from_slice(m.topic().as_bytes());
    buf.extend_from_slice(&m.partition().to_le_bytes());
    buf.extend_from_slice(&m.offset().to_le_bytes());
    xxhash_rust::xxh3::xxh3_64(&buf).max(1)
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
