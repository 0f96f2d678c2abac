//! Backups on Kafka: each backup of the manifest consumes its topic in a consumer group of
//! its own and writes the records to dated files ([`BackupWriter`]). Offsets are committed
//! only once the files holding their records are durable, and a file becomes visible only
//! after that commit:
//!
//! 1. the open files are closed: flushed, synced (uploaded, for object stores), still under
//!    their hidden names;
//! 2. the offsets after their records are committed, with the renames still to do as the
//!    commit's metadata;
//! 3. the files are renamed to their visible names.
//!
//! A crash before 2 leaves hidden files and no commit: the records are consumed again and
//! the hidden files are deleted at the next start. A crash between 2 and 3 leaves the
//! renames in the committed metadata: the next start does them. Either way no record is
//! lost, and none is in two visible files as long as one process writes a backup (a
//! rebalance between two writers can repeat the records of an uncommitted file).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pipec_compiler::manifest::Manifest;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use tokio::sync::watch;

use super::client::{client, consumer};
use super::context::JobContext;
use super::{KafkaRunOptions, servers, topic_def};
use crate::RuntimeError;
use crate::batch::backup::{
    BackupOptions, BackupWriter, Staged, decode_staged, encode_staged, publish,
};

/// How often open files are checked for their roll age when no record arrives.
const TICK: Duration = Duration::from_secs(1);

/// The consumer group of backup `name`.
pub(super) fn group(manifest: &Manifest, name: &str) -> String {
    format!("{}.{}.backup.{name}", manifest.env, manifest.pipeline)
}

/// One backup being written from its topic.
pub(super) struct BackupRunner {
    name: String,
    topic: String,
    writer: BackupWriter,
    consumer: Arc<StreamConsumer<JobContext>>,
    /// The next offset to commit, by partition, for the records in open files.
    pending: BTreeMap<i32, i64>,
    idle_exit: Option<Duration>,
}

impl BackupRunner {
    /// A runner of backup `name`, subscribed to its topic.
    pub(super) fn new(
        manifest: &Manifest,
        name: &str,
        opts: &KafkaRunOptions,
        backups: &BackupOptions,
    ) -> Result<BackupRunner, RuntimeError> {
        let def = manifest
            .backups
            .get(name)
            .ok_or_else(|| RuntimeError::Config {
                what: format!("the manifest has no backup `{name}`"),
            })?;
        let topic = topic_def(manifest, &def.topic)?;
        let servers = servers(opts, &topic.cluster)?;
        let base = client(manifest, &topic.cluster, servers, &opts.base_dir)?;
        let c = consumer(
            &base,
            &topic.cluster,
            servers,
            &group(manifest, name),
            JobContext::new(&format!("backup {name}")),
        )?;
        c.subscribe(&[topic.name.as_str()])
            .map_err(|e| RuntimeError::Config {
                what: format!("backup `{name}`: subscribing to `{}`: {e}", topic.name),
            })?;
        Ok(BackupRunner {
            name: name.into(),
            topic: topic.name.clone(),
            writer: BackupWriter::new(
                name,
                def,
                backups.root.clone(),
                std::env::temp_dir(),
                &backups.instance,
            ),
            consumer: Arc::new(c),
            pending: BTreeMap::new(),
            idle_exit: opts.idle_exit,
        })
    }

    /// Consumes until `stop` (or idle), rolling files as they come due; gives the backup's
    /// name and the records written.
    pub(super) async fn run(
        mut self,
        mut stop: watch::Receiver<bool>,
    ) -> Result<(String, u64), RuntimeError> {
        let mut recovered = false;
        let mut last = Instant::now();
        // A message borrows the consumer, not the runner.
        let consumer = Arc::clone(&self.consumer);
        loop {
            if *stop.borrow() {
                break;
            }
            let msg = tokio::select! {
                m = consumer.recv() => Some(m),
                _ = tokio::time::sleep(TICK) => None,
                // A stop signal, or no one left to send one: either way, wind down.
                r = stop.changed() => {
                    if r.is_err() {
                        break;
                    }
                    continue;
                }
            };
            // A refused login or certificate: no retry mends it.
            if let Some(reason) = consumer.context().fatal() {
                return Err(consumer.context().refused(&reason));
            }
            match msg {
                Some(Ok(m)) => {
                    if !recovered {
                        // The group has given this process its partitions: finish what a
                        // previous run committed, and clear what it left unfinished.
                        self.recover().await?;
                        recovered = true;
                    }
                    let now = chrono_ms();
                    let payload = m.payload().unwrap_or_default();
                    let ms = self
                        .writer
                        .time_of(payload, m.timestamp().to_millis().unwrap_or(now));
                    self.writer.append(payload, ms)?;
                    self.pending.insert(m.partition(), m.offset() + 1);
                    last = Instant::now();
                }
                Some(Err(e)) => {
                    // librdkafka reconnects by itself; an error here is logged, not fatal.
                    tracing::warn!(backup = %self.name, error = %e, "consuming");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                None => {
                    let assigned = consumer.assignment().is_ok_and(|a| a.count() > 0);
                    // Nothing new to read, but the last run may have committed renames it
                    // did not get to do.
                    if !recovered && assigned {
                        self.recover().await?;
                        recovered = true;
                    }
                    // Idle means no record while holding partitions: a restarted writer
                    // waits for the group to hand over a dead one's partitions first.
                    if !assigned {
                        last = Instant::now();
                    }
                    if self.idle_exit.is_some_and(|d| last.elapsed() >= d) {
                        break;
                    }
                }
            }
            if self.writer.due() {
                self.roll().await?;
            }
        }
        self.roll().await?;
        Ok((self.name, self.writer.written))
    }

    /// Closes the open files, commits their offsets with the renames as metadata, and
    /// renames them.
    async fn roll(&mut self) -> Result<(), RuntimeError> {
        if !self.writer.has_open() {
            return Ok(());
        }
        let staged = self.writer.close().await?;
        let meta = encode_staged(&staged);
        let mut tpl = TopicPartitionList::new();
        for (p, next) in &self.pending {
            tpl.add_partition_offset(&self.topic, *p, Offset::Offset(*next))
                .map_err(|e| RuntimeError::Internal(format!("offsets: {e}")))?;
            if let Some(mut el) = tpl.find_partition(&self.topic, *p) {
                el.set_metadata(&meta);
            }
        }
        let c = Arc::clone(&self.consumer);
        tokio::task::spawn_blocking(move || c.commit(&tpl, CommitMode::Sync))
            .await
            .map_err(|e| RuntimeError::Internal(format!("committing: {e}")))?
            .map_err(|e| RuntimeError::Unavailable {
                system: "kafka".into(),
                reason: format!(
                    "backup `{}`: committing offsets after its files: {e}",
                    self.name
                ),
            })?;
        self.pending.clear();
        publish(self.writer.root(), &staged).await?;
        tracing::info!(
            backup = %self.name,
            files = staged.len(),
            records = staged.iter().map(|s| s.records).sum::<u64>(),
            "backup files written"
        );
        Ok(())
    }

    /// Does the renames the last commit recorded and deletes this writer's other hidden
    /// files (their records were not committed, so they are being consumed again).
    async fn recover(&mut self) -> Result<(), RuntimeError> {
        let c = Arc::clone(&self.consumer);
        let committed = tokio::task::spawn_blocking(move || c.committed(Duration::from_secs(10)))
            .await
            .map_err(|e| RuntimeError::Internal(format!("reading offsets: {e}")))?
            .map_err(|e| RuntimeError::Unavailable {
                system: "kafka".into(),
                reason: format!("backup `{}`: reading committed offsets: {e}", self.name),
            })?;
        let mut staged: Vec<Staged> = Vec::new();
        for el in committed.elements() {
            // A metadata that is not UTF-8 was not written by pipec: nothing to finish.
            let meta = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                el.metadata().to_string()
            }))
            .unwrap_or_default();
            for s in decode_staged(&meta) {
                if !staged.iter().any(|x| x.from == s.from) {
                    staged.push(s);
                }
            }
        }
        publish(self.writer.root(), &staged).await?;
        let removed = self.writer.clean_leftovers(chrono_ms(), &[]).await?;
        if !staged.is_empty() || removed > 0 {
            tracing::info!(
                backup = %self.name,
                finished = staged.len(),
                removed,
                "backup recovered from an earlier run"
            );
        }
        Ok(())
    }
}

fn chrono_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
