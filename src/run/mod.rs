//! `pipec run`: the stream jobs of a spec (or of a compiled `manifest.json`), in one process
//! on the embedded transport ([`embedded`]) or on Kafka ([`kafka`]).

mod args;
mod embedded;
mod kafka;

pub use args::Args;

use crate::compile::load_manifest;

/// A usage or I/O problem.
const USAGE: u8 = 2;

/// Runs `pipec run`.
pub fn run(args: Args) -> u8 {
    let manifest = if args.path.extension().is_some_and(|e| e == "json") {
        // A manifest written by `pipec compile` (the Helm chart mounts a job's part).
        match std::fs::read_to_string(&args.path)
            .map_err(|e| e.to_string())
            .and_then(|t| pipec_compiler::manifest::Manifest::from_json(&t))
        {
            Ok(m) => m,
            Err(e) => {
                eprintln!("error: {}: {e}", args.path.display());
                return USAGE;
            }
        }
    } else {
        match load_manifest(&args.path, args.env.clone()) {
            Ok(m) => m,
            Err(code) => return code,
        }
    };
    if args.kafka || !args.brokers.is_empty() {
        kafka::run(&manifest, &args)
    } else {
        embedded::run(&manifest, &args)
    }
}
