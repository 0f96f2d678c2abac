//! `pipec-runtime`: runs what a compiled pipeline describes. It reads only the compiler's
//! manifest, never the YAML. The stream engine, operators, stores and batch engine arrive
//! with the issues that build them; what is here is the error model they share.

pub mod error;
pub mod job;
pub mod schemas;
pub mod store;

pub use error::{Blame, RuntimeError};
pub use job::{Job, Output, Rejected, StepCounters};
