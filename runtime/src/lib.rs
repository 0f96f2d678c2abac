//! `pipec-runtime`: runs what a compiled pipeline describes. It reads only the compiler's
//! manifest, never the YAML: [`job`] runs one stream job's steps over batches of records,
//! [`store`] keeps dedup keys and lookup records (memory or Redis), and [`embedded`] runs
//! every job of a manifest in one process with topics as in-memory queues.

pub mod embedded;
pub mod error;
pub mod r#gen;
pub mod job;
pub mod schemas;
pub mod store;

pub use error::{Blame, RuntimeError};
pub use job::{Job, Output, Rejected, StepCounters};
