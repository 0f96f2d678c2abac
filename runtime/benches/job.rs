//! Benchmark of a job's hot path: batches of 100 telemetry events (Sunbird's EVENT_1 with
//! distinct `mid`s) through unbatch, validate (Draft-04 INTERACT schema), dedup (memory
//! store), route and serialization, built from `pipelines/igot`'s pipeline-preprocessor.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use pipec_compiler::manifest::{self, Manifest, MemoryStore, Step};
use pipec_runtime::store::Store;
use pipec_runtime::{Job, Output};
use serde_json::{Value, json};

/// The allocator the `pipec` binary uses.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const EVENTS_PER_BATCH: usize = 100;
const BATCHES: usize = 10;

fn manifest() -> Manifest {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let opts = pipec_compiler::CheckOptions {
        env: None,
        env_lookup: &|_| None,
    };
    let Some(mut m) = pipec_compiler::compile(&root.join("pipelines/igot"), &opts).manifest else {
        panic!("pipelines/igot does not compile");
    };
    if let Some(job) = m.jobs.get_mut("pipeline-preprocessor") {
        let keep = |s: &Step| matches!(s, Step::Validate(_) | Step::Dedup(_) | Step::Route(_));
        job.steps.retain(keep);
        job.steps.insert(
            0,
            Step::Unbatch(manifest::Unbatch {
                field: "events".into(),
                carry: manifest::Ordered::default(),
                invalid: None,
                max_event_size: None,
                oversized: None,
                oversized_flags: manifest::Ordered::default(),
            }),
        );
    }
    m
}

fn bench(c: &mut Criterion) {
    let rt = match tokio::runtime::Builder::new_current_thread().build() {
        Ok(rt) => rt,
        Err(e) => panic!("{e}"),
    };
    let m = manifest();
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
    let job = match Job::build("pipeline-preprocessor", &m, &stores) {
        Ok(j) => j,
        Err(e) => panic!("{e}"),
    };
    let event: Value =
        match std::fs::read("/work/shared/sunbird/fixtures/pipeline-preprocessor/EVENT_1.json")
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
        {
            Some(v) => v,
            None => json!({"eid": "INTERACT"}),
        };
    let mut next = 0_u64;
    let mut group = c.benchmark_group("job");
    group.throughput(Throughput::Elements((EVENTS_PER_BATCH * BATCHES) as u64));
    group.bench_function("unbatch_validate_dedup_route", |b| {
        b.iter_batched(
            || {
                (0..BATCHES)
                    .map(|_| {
                        let events: Vec<Value> = (0..EVENTS_PER_BATCH)
                            .map(|_| {
                                next += 1;
                                let mut e = event.clone();
                                e["mid"] = json!(format!("mid-{next}"));
                                e
                            })
                            .collect();
                        serde_json::to_vec(&json!({"id": "sunbird.telemetry", "events": events}))
                            .unwrap_or_default()
                    })
                    .collect::<Vec<Vec<u8>>>()
            },
            |batches| {
                let refs: Vec<&[u8]> = batches.iter().map(Vec::as_slice).collect();
                let mut out = Output::default();
                if let Err(e) = rt.block_on(job.process(&refs, &mut out)) {
                    panic!("{e}");
                }
                assert_eq!(out.counters.last().map_or(0, |c| c.unrouted), 0);
                out
            },
            BatchSize::SmallInput,
        );
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
