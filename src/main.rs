//! `pipec`: the command line. Thin wiring: argument parsing here, the work in the crates.

mod cli;
mod compat;
mod validate_events;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::run()
}
