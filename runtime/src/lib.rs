//! `pipec-runtime`: runs what a compiled pipeline describes. It reads only the compiler's
//! manifest, never the YAML: [`job`] runs one stream job's steps over batches of records,
//! [`store`] keeps dedup keys and lookup records (memory or Redis), [`embedded`] runs every job
//! of a manifest in one process with topics as in-memory queues, [`kafka`] reads and changes a
//! live cluster's topics and runs the jobs on Kafka, with [`metrics`] served over HTTP.

pub mod batch;
pub mod embedded;
pub mod error;
pub mod r#gen;
pub mod job;
pub mod kafka;
pub mod metrics;
pub mod schemas;
pub mod store;

pub use error::{Blame, RuntimeError};
pub use job::{Job, Output, Rejected, StepCounters};
