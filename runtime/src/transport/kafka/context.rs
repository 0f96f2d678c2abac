//! What a job's consumer tells its runner between two reads: the partitions the group gave it
//! (the runner scans their outputs before it runs their records, see [`super::recover`]),
//! that a rebalance happened (an open transaction is then aborted, not committed), and a
//! client error no retry mends (a refused login, a certificate that does not verify).

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;

use crate::RuntimeError;

/// The librdkafka callbacks of a job's consumer.
pub(crate) struct JobContext {
    job: String,
    /// Partitions assigned since the runner last took them, as (topic, partition).
    gained: Mutex<Vec<(String, i32)>>,
    /// Rebalances seen (assignments and revocations).
    rebalances: AtomicU64,
    /// The first error that no retry mends: the job stops with it.
    fatal: Mutex<Option<String>>,
}

impl JobContext {
    pub(crate) fn new(job: &str) -> JobContext {
        JobContext {
            job: job.to_owned(),
            gained: Mutex::new(Vec::new()),
            rebalances: AtomicU64::new(0),
            fatal: Mutex::new(None),
        }
    }

    /// The partitions gained since the last call.
    pub(crate) fn take_gained(&self) -> Vec<(String, i32)> {
        std::mem::take(&mut *lock(&self.gained))
    }

    /// How many rebalances this consumer has seen.
    pub(crate) fn rebalances(&self) -> u64 {
        self.rebalances.load(Ordering::SeqCst)
    }

    /// The error the job must stop with, if one came.
    pub(crate) fn fatal(&self) -> Option<String> {
        lock(&self.fatal).clone()
    }

    /// The error of a client the brokers refused: the reason they gave when the context heard
    /// it, else `error`. The configuration's fault (a login, a password, a CA): no retry helps.
    pub(crate) fn refused(&self, error: &str) -> RuntimeError {
        let reason = self.fatal().unwrap_or_else(|| error.to_owned());
        RuntimeError::Config {
            what: format!(
                "job `{}`: the brokers refused the client: {reason} (check the cluster's `sasl` and `tls`: user, password, CA)",
                self.job
            ),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Whether a client error is one that retrying does not mend.
pub(crate) fn is_fatal(code: RDKafkaErrorCode) -> bool {
    matches!(
        code,
        RDKafkaErrorCode::Authentication
            | RDKafkaErrorCode::SaslAuthenticationFailed
            | RDKafkaErrorCode::SSL
            | RDKafkaErrorCode::TopicAuthorizationFailed
            | RDKafkaErrorCode::GroupAuthorizationFailed
            | RDKafkaErrorCode::ClusterAuthorizationFailed
    )
}

impl ClientContext for JobContext {
    fn error(&self, error: KafkaError, reason: &str) {
        if error.rdkafka_error_code().is_some_and(is_fatal) {
            tracing::error!(job = %self.job, error = %error, reason, "kafka client error: stopping");
            lock(&self.fatal).get_or_insert_with(|| format!("{error}: {reason}"));
        } else {
            tracing::warn!(job = %self.job, error = %error, reason, "kafka client error");
        }
    }
}

impl ConsumerContext for JobContext {
    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        self.rebalances.fetch_add(1, Ordering::SeqCst);
        match rebalance {
            Rebalance::Assign(tpl) => {
                let parts: Vec<(String, i32)> = tpl
                    .elements()
                    .iter()
                    .map(|e| (e.topic().to_owned(), e.partition()))
                    .collect();
                tracing::info!(job = %self.job, partitions = ?parts, "partitions assigned");
                lock(&self.gained).extend(parts);
            }
            Rebalance::Revoke(tpl) => {
                tracing::info!(job = %self.job, partitions = tpl.count(), "partitions revoked");
            }
            Rebalance::Error(e) => {
                tracing::warn!(job = %self.job, error = %e, "rebalance error");
            }
        }
    }
}
