//! The Kafka clients of a job: consumer, idempotent producer and transactional producer,
//! configured from the manifest's cluster settings (with SASL and TLS), and what a transaction
//! error means.

use std::path::Path;
use std::time::Duration;

use pipec_compiler::manifest::Manifest;
use rdkafka::ClientConfig;
use rdkafka::consumer::StreamConsumer;
use rdkafka::error::KafkaError;
use rdkafka::producer::{FutureProducer, Producer};

use super::context::JobContext;
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
    base: &ClientConfig,
    job: &str,
    servers: &str,
    id: &str,
) -> Result<FutureProducer, RuntimeError> {
    // librdkafka would find out only at the first commit. (Asked in plain text: not over a
    // TLS or SASL listener, where librdkafka's own answer has to do.)
    let plain = base
        .get("security.protocol")
        .is_none_or(|p| p.eq_ignore_ascii_case("plaintext"));
    if plain
        && let Ok(mut conn) =
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
    let p: FutureProducer = base
        .clone()
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

/// The client settings of `cluster` (bootstrap `servers`): the spec's `config`, then what its
/// `sasl` and `tls` say (`security.protocol`, the SASL mechanism, user and password — read
/// from its environment variable — and the CA: a file, relative to `base_dir` when relative,
/// or a PEM from a Secret's environment variable).
pub(super) fn client(
    manifest: &Manifest,
    cluster: &str,
    servers: &str,
    base_dir: &Path,
) -> Result<ClientConfig, RuntimeError> {
    let mut c = ClientConfig::new();
    let def = manifest.clusters.get(cluster);
    if let Some(def) = def {
        for (k, v) in &def.config {
            c.set(k, v);
        }
    }
    c.set("bootstrap.servers", servers);
    let sasl = def.and_then(|d| d.sasl.as_ref());
    let tls = def.and_then(|d| d.tls.as_ref());
    let protocol = match (sasl.is_some(), tls.is_some()) {
        (true, true) => Some("SASL_SSL"),
        (true, false) => Some("SASL_PLAINTEXT"),
        (false, true) => Some("SSL"),
        (false, false) => None,
    };
    if let Some(p) = protocol {
        c.set("security.protocol", p);
    }
    if let Some(s) = sasl {
        let password = secret(cluster, "SASL password", &s.password.env)?;
        c.set("sasl.mechanism", &s.mechanism)
            .set("sasl.username", &s.username)
            .set("sasl.password", password);
    }
    if let Some(t) = tls {
        if let Some(ca) = &t.ca {
            let path = base_dir.join(ca);
            if let Err(e) = std::fs::metadata(&path) {
                return Err(RuntimeError::Config {
                    what: format!(
                        "cluster `{cluster}`: the CA certificate `{}` (tls.ca): {e}",
                        path.display()
                    ),
                });
            }
            c.set("ssl.ca.location", path.to_string_lossy());
        } else if let Some(ca) = &t.ca_secret {
            c.set("ssl.ca.pem", secret(cluster, "CA certificate", &ca.env)?);
        }
    }
    // librdkafka's own debug contexts (`cgrp,fetch`, `all`), logged through `tracing`.
    if let Ok(debug) = std::env::var("PIPEC_KAFKA_DEBUG")
        && !debug.is_empty()
    {
        c.set("debug", debug);
    }
    Ok(c)
}

/// The value of a secret's environment variable.
fn secret(cluster: &str, what: &str, var: &str) -> Result<String, RuntimeError> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Ok(v),
        _ => Err(RuntimeError::Config {
            what: format!(
                "cluster `{cluster}`: the {what} is not set: the environment variable `{var}` is empty or missing"
            ),
        }),
    }
}

pub(super) fn producer(
    base: &ClientConfig,
    cluster: &str,
    servers: &str,
) -> Result<FutureProducer, RuntimeError> {
    base.clone()
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "5")
        .set("partitioner", "murmur2_random")
        .create()
        .map_err(|e| RuntimeError::Config {
            what: format!("kafka producer for cluster `{cluster}` ({servers}): {e}"),
        })
}

/// Producer settings a cluster's `config` may hold (`compression.type: zstd`: what the
/// job's producers compress with), which a consumer would only warn about.
const PRODUCER_ONLY: &[&str] = &[
    "compression.type",
    "compression.codec",
    "compression.level",
    "linger.ms",
    "queue.buffering.max.ms",
    "batch.size",
    "batch.num.messages",
];

/// `base` without its producer settings: the settings of a consumer.
pub(super) fn for_consumer(base: &ClientConfig) -> ClientConfig {
    let mut c = base.clone();
    for k in PRODUCER_ONLY {
        c.remove(k);
    }
    c
}

pub(super) fn consumer(
    base: &ClientConfig,
    cluster: &str,
    servers: &str,
    group: &str,
    context: JobContext,
) -> Result<StreamConsumer<JobContext>, RuntimeError> {
    for_consumer(base)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("isolation.level", "read_committed")
        .set("session.timeout.ms", "10000")
        .create_with_context(context)
        .map_err(|e| RuntimeError::Config {
            what: format!("kafka consumer for cluster `{cluster}` ({servers}): {e}"),
        })
}
