//! Events per second on one core, in one run: (a) serde_json parse + serialize of the
//! generated events alone, the floor of any JSON pipeline, and (b) iGOT's
//! telemetry-extractor + pipeline-preprocessor jobs (memory dedup stores) on generated
//! Sunbird batches, from batch bytes in to serialized outputs. Prints a table and the ratio,
//! and for reference sonic-rs parse + serialize of the same events (into its own `Value`,
//! which the jobs do not use).
//!
//! `cargo bench -p pipec-runtime --bench job -- [--batch N] [--dup R] [--invalid R]
//! [--events N] [--rounds N]`

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pipec_compiler::manifest::{self, Manifest, MemoryStore};
use pipec_runtime::r#gen::{GenOptions, Generator};
use pipec_runtime::store::Store;
use pipec_runtime::{Job, Output};
use serde_json::Value;

/// The allocator the `pipec` binary uses.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Batches given to one `process` call of the extractor (a consumer poll).
const BATCHES_PER_CALL: usize = 10;

struct Args {
    opts: GenOptions,
    events: usize,
    rounds: usize,
}

fn args() -> Args {
    let mut a = Args {
        opts: GenOptions {
            events_per_batch: 100,
            duplicate_rate: 0.05,
            invalid_rate: 0.02,
            seed: 42,
        },
        events: 100_000,
        rounds: 5,
    };
    let argv: Vec<String> = std::env::args().collect();
    for w in argv.windows(2) {
        let v = &w[1];
        match w[0].as_str() {
            "--batch" => a.opts.events_per_batch = v.parse().unwrap_or(100),
            "--dup" => a.opts.duplicate_rate = v.parse().unwrap_or(0.05),
            "--invalid" => a.opts.invalid_rate = v.parse().unwrap_or(0.02),
            "--events" => a.events = v.parse().unwrap_or(100_000),
            "--rounds" => a.rounds = v.parse().unwrap_or(5),
            _ => {}
        }
    }
    a
}

fn manifest() -> Manifest {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let opts = pipec_compiler::CheckOptions {
        env: None,
        env_lookup: &|_| None,
    };
    match pipec_compiler::compile(&root.join("pipelines/igot"), &opts).manifest {
        Some(m) => m,
        None => panic!("pipelines/igot does not compile"),
    }
}

fn jobs(rt: &tokio::runtime::Runtime, m: &Manifest) -> (Job, Job) {
    let mut stores = HashMap::new();
    for name in m.stores.keys() {
        let def = manifest::Store::Memory(MemoryStore {
            max_keys: None,
            ttl_ms: None,
            snapshot: None,
            load: None,
            key: None,
        });
        match rt.block_on(Store::open(name, &def, Path::new("."))) {
            Ok(s) => stores.insert(name.clone(), Arc::new(s)),
            Err(e) => panic!("{e}"),
        };
    }
    let build = |n: &str| match Job::build(n, m, &stores) {
        Ok(j) => j,
        Err(e) => panic!("{e}"),
    };
    (build("telemetry-extractor"), build("pipeline-preprocessor"))
}

/// Median of the rounds' rates.
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

fn main() {
    let a = args();
    let rt = match tokio::runtime::Builder::new_current_thread().build() {
        Ok(rt) => rt,
        Err(e) => panic!("{e}"),
    };
    let m = manifest();
    let n_batches = a.events.div_ceil(a.opts.events_per_batch.max(1));
    let mut g = Generator::new(a.opts.clone());
    let batches: Vec<Vec<u8>> = (0..n_batches).map(|_| g.batch()).collect();
    let counts = g.counts().clone();
    let n_events = n_batches * a.opts.events_per_batch;
    // The same events, one record each, for (a).
    let events: Vec<Vec<u8>> = batches
        .iter()
        .filter_map(|b| serde_json::from_slice::<Value>(b).ok())
        .flat_map(|b| match b {
            Value::Object(mut o) => match o.remove("events") {
                Some(Value::Array(evs)) => evs,
                _ => Vec::new(),
            },
            _ => Vec::new(),
        })
        .map(|e| serde_json::to_vec(&e).unwrap_or_default())
        .collect();
    let bytes: usize = events.iter().map(Vec::len).sum();

    let mut floor = Vec::new();
    let mut sonic = Vec::new();
    let mut chain = Vec::new();
    let mut last = (Output::default(), Output::default(), 0_usize);
    for _ in 0..a.rounds {
        let t = Instant::now();
        let mut out_bytes = 0_usize;
        for e in &events {
            let v: Value = serde_json::from_slice(e).unwrap_or(Value::Null);
            out_bytes += serde_json::to_vec(&v).map_or(0, |b| b.len());
        }
        floor.push(rate(events.len(), t.elapsed()));
        std::hint::black_box(out_bytes);

        let t = Instant::now();
        let mut out_bytes = 0_usize;
        for e in &events {
            if let Ok(v) = sonic_rs::from_slice::<sonic_rs::Value>(e) {
                out_bytes += sonic_rs::to_vec(&v).map_or(0, |b| b.len());
            }
        }
        sonic.push(rate(events.len(), t.elapsed()));
        std::hint::black_box(out_bytes);

        let (extractor, preprocessor) = jobs(&rt, &m);
        let mut ex_out = Output::default();
        let mut pp_out = Output::default();
        let mut records = 0_usize;
        let t = Instant::now();
        for call in batches.chunks(BATCHES_PER_CALL) {
            let refs: Vec<&[u8]> = call.iter().map(Vec::as_slice).collect();
            let mut out = Output::default();
            if let Err(e) = rt.block_on(extractor.process(&refs, &mut out)) {
                panic!("{e}");
            }
            let raw: Vec<&[u8]> = out
                .records
                .iter()
                .filter(|(t, _)| &**t == "raw")
                .map(|(_, b)| b.as_slice())
                .collect();
            let mut pp = Output::default();
            if let Err(e) = rt.block_on(preprocessor.process(&raw, &mut pp)) {
                panic!("{e}");
            }
            records += out.records.len() + pp.records.len();
            ex_out.counters = add(ex_out.counters, out.counters);
            pp_out.counters = add(pp_out.counters, pp.counters);
        }
        chain.push(rate(n_events, t.elapsed()));
        last = (ex_out, pp_out, records);
    }
    let (ex, pp, records) = last;
    let (fa, fb) = (median(floor), median(chain));
    println!(
        "generated: {n_batches} batches x {} events = {n_events} events, {} bytes/event on average; \
         fresh {}, duplicate {}, invalid {}",
        a.opts.events_per_batch,
        bytes / events.len().max(1),
        counts.valid,
        counts.duplicate,
        counts.invalid
    );
    let pp_dup: u64 = pp.counters.iter().map(|c| c.duplicate).sum();
    let pp_inv: u64 = pp.counters.iter().map(|c| c.invalid).sum();
    let ex_in = ex.counters.get(1).map_or(0, |c| c.output);
    println!(
        "chain, last round: extractor unbatched {ex_in} events; preprocessor invalid {pp_inv}, \
         duplicate {pp_dup}; {records} output records"
    );
    println!("median of {} rounds, one core:", a.rounds);
    println!("{:<58} {:>12}", "benchmark", "events/s");
    println!(
        "{:<58} {:>12.0}",
        "(a) serde_json parse + serialize (floor)", fa
    );
    println!(
        "{:<58} {:>12.0}",
        "(b) extractor + preprocessor, memory dedup, serialized", fb
    );
    println!("{:<58} {:>12.2}", "(b) / (a)", fb / fa);
    println!(
        "{:<58} {:>12.0}",
        "(reference) sonic-rs parse + serialize, its own Value",
        median(sonic)
    );
}

fn add(
    mut a: Vec<pipec_runtime::StepCounters>,
    b: Vec<pipec_runtime::StepCounters>,
) -> Vec<pipec_runtime::StepCounters> {
    if a.len() < b.len() {
        a.resize(b.len(), Default::default());
    }
    for (x, y) in a.iter_mut().zip(b) {
        x.input += y.input;
        x.output += y.output;
        x.invalid += y.invalid;
        x.duplicate += y.duplicate;
    }
    a
}
