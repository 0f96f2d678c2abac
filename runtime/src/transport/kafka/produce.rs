//! Producing a job's outputs: each record keyed by its topic's key expression or placed on
//! the partition of the record it came from, tagged with its source position, and skipped
//! when the recovery scan found it already on the broker.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};

use super::runner::{Delivery, Runner};
use crate::RuntimeError;
use crate::job::Output;

impl Runner {
    /// Hands the records in `out` to the producer; [`Runner::settle`] waits for their
    /// acknowledgements (librdkafka keeps each partition's records in order). A record without
    /// a key goes to the partition of the record it came from (`partitions`: source position
    /// → partition), modulo the output's partition count, as Flink's fixed partitioner does
    /// for Sunbird's jobs: a stream read in order from one partition is written in that
    /// order to one partition, so the next job reads it in the order this one did (what a
    /// dedup downstream keeps and what it calls a duplicate depends on that order). Keyed
    /// records go where the key hashes (murmur2, as Java clients place them).
    pub(super) async fn send(
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

    /// The partition count of output topic `name`, from the broker once; `None` (the
    /// partitioner decides) when the broker cannot tell.
    pub(super) async fn partition_count(
        &self,
        name: &str,
        producer: &FutureProducer,
    ) -> Option<i32> {
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
}
