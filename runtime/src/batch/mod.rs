//! The batch stage: what Secor and Sunbird's Spark data products did. Topic backups
//! ([`backup`]) are written by the stream runtime as date-partitioned files; reports
//! ([`report`]) run on DataFusion ([`engine`]) over backups, files and PostgreSQL tables
//! ([`inputs`], [`postgres`]), as SQL or as the built-in workflow summary ([`summary`] over
//! [`wfs`]), and write files, topics or tables ([`outputs`]). Files live under a data root
//! ([`storage`]: a local directory or an object store).

pub mod backup;
pub mod buckets;
pub mod ddl;
pub mod engine;
pub mod events;
pub mod inputs;
pub mod outputs;
pub mod paths;
pub mod postgres;
pub mod report;
pub mod rows;
pub mod sink;
pub mod storage;
pub mod summary;
pub mod wfs;

pub use report::{ReportOptions, ReportSummary};
