//! Settling and committing: waiting for the broker's acknowledgements of a job's outputs,
//! then committing the offsets they came from — or, exactly-once, the Kafka transaction
//! holding both (aborted and read again when it fails).

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::producer::Producer;
use rdkafka::{Offset, TopicPartitionList};

use super::client::{TXN_TIMEOUT, fatal, txn_error};
use super::runner::{Delivery, Offsets, Pending, Runner, merge_offsets};
use crate::RuntimeError;

impl Runner {
    /// Commits what was processed: the offsets (at-least-once), or the transaction with
    /// its offsets (exactly-once; on failure the transaction is aborted and its records are
    /// read again).
    pub(super) async fn commit_point(
        &self,
        pending: &mut Pending,
        last: bool,
    ) -> Result<(), RuntimeError> {
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
        if self.consumer.context().rebalances() != pending.rebalances {
            // See the consume loop: a transaction that spans a rebalance is not committed.
            tracing::info!(job = %self.job.name(), "rebalance: the open transaction is aborted and its records read again");
            return self.abort(pending, &[]).await;
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
                self.abort(pending, &[]).await
            }
        }
    }

    /// Opens a transaction (exactly-once) unless one is open.
    pub(super) fn begin(&self, pending: &mut Pending) -> Result<(), RuntimeError> {
        if let Some(p) = &self.txn
            && !pending.open
        {
            p.begin_transaction()
                .map_err(|e| txn_error("beginning", &e))?;
            pending.open = true;
        }
        Ok(())
    }

    /// Aborts the open transaction and goes back to its first records, and to those of
    /// `unread` (a batch read but not run), in the partitions this member still has; the
    /// others are read from their last commit by the member that has them now.
    pub(super) async fn abort(
        &self,
        pending: &mut Pending,
        unread: &[rdkafka::message::OwnedMessage],
    ) -> Result<(), RuntimeError> {
        let open = pending.open;
        let mut start = std::mem::take(pending).start;
        for m in unread {
            use rdkafka::message::Message;
            let e = start
                .entry((m.topic().to_owned(), m.partition()))
                .or_insert(m.offset());
            *e = (*e).min(m.offset());
        }
        let Some(p) = self.txn.clone() else {
            return Ok(());
        };
        if open {
            tokio::task::spawn_blocking(move || p.abort_transaction(TXN_TIMEOUT))
                .await
                .map_err(|e| RuntimeError::Internal(format!("aborting: {e}")))?
                .map_err(|e| txn_error("aborting", &e))?;
            self.metrics.retried(self.job.name());
        }
        let assigned = self
            .consumer
            .assignment()
            .map_err(|e| RuntimeError::Unavailable {
                system: "kafka".into(),
                reason: format!("reading the assignment: {e}"),
            })?;
        for ((topic, partition), offset) in &start {
            if assigned.find_partition(topic, *partition).is_none() {
                continue;
            }
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

    /// Waits for the acknowledgements of the oldest batches in `unacked` until at most `keep`
    /// remain, and adds their offsets to what may be committed.
    pub(super) async fn settle_until(
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

    /// Waits for the broker's acknowledgement of every record sent; counts them per topic.
    pub(super) async fn settle(&self, sent: Vec<Delivery>) -> Result<(), RuntimeError> {
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

    /// Commits offsets (topic, partition → next offset to read).
    pub(super) fn commit(
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
}

/// The offsets to commit, each with the time of the commit as its metadata (where a
/// restarted job's recovery scan starts, see [`super::recover`]).
pub(super) fn offset_list(
    next: &BTreeMap<(String, i32), i64>,
) -> Result<TopicPartitionList, RuntimeError> {
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
