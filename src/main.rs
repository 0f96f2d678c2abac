//! `pipec`: the command line. Thin wiring: argument parsing here, the work in the crates.

mod apply;
mod cli;
mod common;
mod compat;
mod compile;
mod habits;
mod plan;
mod report;
mod run;
mod spec_test;
mod sqlcheck;
mod validate_events;

use std::process::ExitCode;

/// mimalloc: reading events builds and drops many small values, which it serves much faster
/// than the system allocator (`pipec validate-events`; see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    cli::run()
}
