//! The Kafka clients of a job: consumer, idempotent producer and transactional producer,
//! configured from the manifest's cluster settings, and what a transaction error means.

use std::time::Duration;

use pipec_compiler::manifest::Manifest;
use rdkafka::ClientConfig;
use rdkafka::consumer::StreamConsumer;
use rdkafka::error::KafkaError;
use rdkafka::producer::{FutureProducer, Producer};

use crate::RuntimeError;

/// The API key of EndTxn, which commits or aborts a transaction.
pub(super) const END_TXN: i16 = 26;

/// How long a transaction call may take.
pub(super) const TXN_TIMEOUT: Duration = Duration::from_secs(30);

/// Whether a transaction error leaves the producer unusable (fenced by a newer instance
/// with the same transactional id, or a broker that does not support transactions).
pub(super) fn fatal(e: &KafkaError) -> bool {
    match e {
        KafkaError::Transaction(t) => t.is_fatal() || !t.txn_requires_abort(),
        _ => true,
    }
}

pub(super) fn txn_error(doing: &str, e: &KafkaError) -> RuntimeError {
    RuntimeError::Unavailable {
        system: "kafka".into(),
        reason: format!("{doing} a transaction: {e}"),
    }
}

/// A transactional producer, its transactions initialised (which aborts one its
/// predecessor with the same id left open).
pub(super) async fn transactional(
    manifest: &Manifest,
    job: &str,
    cluster: &str,
    servers: &str,
    id: &str,
) -> Result<FutureProducer, RuntimeError> {
    // librdkafka would find out only at the first commit.
    if let Ok(mut conn) =
        crate::cluster::wire::Conn::connect(servers, Duration::from_secs(10)).await
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

pub(super) fn client(manifest: &Manifest, cluster: &str, servers: &str) -> ClientConfig {
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

pub(super) fn producer(
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

pub(super) fn consumer(
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
