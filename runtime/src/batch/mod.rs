//! Batch models: computations that a scheduled run applies to a day of a topic's backup, as
//! Sunbird's Spark "data products" do. [`wfs`] is the workflow summary.

pub mod wfs;
