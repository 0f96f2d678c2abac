//! The integration tests of `pipec`: golden diagnostics, the command line, `pipec compat`,
//! and properties that no input makes the checker panic.

mod batch;
mod cli;
mod compat;
mod compile;
mod enrich;
mod gate;
mod golden;
mod helm_chart;
mod igot;
mod igot_tests;
mod kafka_auth;
mod kafka_compression;
mod kafka_eos;
mod kafka_failover;
mod kafka_generated;
mod kafka_run;
mod kafka_support;
mod no_panic;
mod parity;
mod plan;
mod plan_live;
mod run;
mod run_input;
mod schema;
mod support;
mod validate_events;
