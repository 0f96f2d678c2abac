//! `pipec run`: the stream jobs of a spec (or of a compiled `manifest.json`), in one process
//! on the embedded transport ([`embedded`]) or on Kafka ([`kafka`]).

mod args;
mod embedded;
mod kafka;

pub use args::Args;

use crate::common::load_any;

/// Exit code of a usage error.
const USAGE: u8 = 2;

/// Runs `pipec run`.
pub fn run(args: Args) -> u8 {
    let manifest = match load_any(&args.path, args.env.clone()) {
        Ok(m) => m,
        Err(code) => return code,
    };
    if let Some(s) = &args.now {
        let Some(ms) = pipec_compiler::civil::parse_instant(s) else {
            eprintln!(
                "error: --now `{s}` is not epoch milliseconds, `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SSZ`"
            );
            return USAGE;
        };
        pipec_compiler::expr::clock::fix(Some(ms));
    }
    if args.kafka || !args.brokers.is_empty() {
        kafka::run(&manifest, &args)
    } else {
        embedded::run(&manifest, &args)
    }
}
