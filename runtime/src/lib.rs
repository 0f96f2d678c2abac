//! `pipec-runtime`: runs what a compiled pipeline describes. It reads only the compiler's
//! manifest, never the YAML. Its folders, in the order data flows through them:
//!
//! - [`transport`]: how records come in and go out — [`transport::embedded`] (one process,
//!   topics as in-memory queues, input from files) or [`transport::kafka`] (consumer groups,
//!   idempotent or transactional producers, commits after acknowledgement);
//! - [`event`]: an event in memory — its canonical bytes, tape and edits, parsing, field
//!   paths, fast conditions and compiled schemas;
//! - [`steps`]: one file per step kind (unbatch, validate, dedup, enrich, set/flag, filter,
//!   route, explode, window);
//! - [`job`]: a job's steps in order over a batch, with their counters;
//! - [`store`]: dedup keys and lookup records, in memory or Redis;
//! - [`metrics`]: Prometheus metrics and health over HTTP;
//! - [`cluster`]: what `plan` and `apply` read and change on a live Kafka cluster.
//!
//! [`gen`] generates realistic Sunbird telemetry for benchmarks and tests.

pub mod batch;
pub mod cluster;
pub mod error;
pub mod event;
pub mod r#gen;
pub mod job;
pub mod metrics;
pub(crate) mod steps;
pub mod store;
pub mod transport;

pub use error::{Blame, RuntimeError};
pub use job::{Job, Output, Rejected, StepCounters};
