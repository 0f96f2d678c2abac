//! Store benchmarks: memory-store `seen_or_set` throughput (batches of 500 new or
//! duplicate keys), and the resident memory of 10 million dedup keys, read from
//! `/proc/self/statm` before and after inserting them and printed to stderr; and, when a
//! Redis answers at 127.0.0.1:6379, Redis `seen_or_set` throughput (db 15, keys expire in
//! 10 s).
//!
//! `cargo bench -p pipec-runtime --bench store`

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pipec_compiler::manifest;
use pipec_runtime::store::Store;
use pipec_runtime::store::memory::MemoryStore;

/// Keys per call, as a job's batch.
const BATCH: usize = 500;
/// Keys in the memory measurement.
const TEN_MILLION: usize = 10_000_000;

fn store(max_keys: Option<u64>) -> MemoryStore {
    let def = manifest::MemoryStore {
        max_keys,
        ttl_ms: None,
        snapshot: None,
        load: None,
        key: None,
    };
    match MemoryStore::open("bench", &def, Path::new(".")) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    }
}

/// A message id shaped like Sunbird's `mid` (a 36-character UUID).
fn mid(i: usize) -> String {
    format!("{:08x}-0000-4000-8000-{:012x}", i >> 16, i)
}

/// Peak resident set size in bytes (Linux `VmHWM`).
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or(0)
        * 1024
}

/// Resident set size in bytes (Linux).
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn resident_memory_of_ten_million_keys() {
    let before = rss();
    let s = store(Some(TEN_MILLION as u64));
    let mut batch = Vec::with_capacity(BATCH);
    for start in (0..TEN_MILLION).step_by(BATCH) {
        batch.clear();
        batch.extend((start..start + BATCH).map(mid));
        black_box(s.seen_or_set(&batch, &[], 3_600_000));
    }
    let after = rss();
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    eprintln!(
        "memory store: {} keys, RSS {:.0} MiB -> {:.0} MiB: {:.0} MiB for the keys ({:.1} bytes a key)",
        s.len(),
        mib(before),
        mib(after),
        mib(after - before),
        (after - before) as f64 / TEN_MILLION as f64
    );
    eprintln!(
        "memory store: peak RSS {:.0} MiB (while the map grows)",
        mib(peak_rss())
    );
}

fn throughput(c: &mut Criterion) {
    resident_memory_of_ten_million_keys();

    let mut g = c.benchmark_group("memory_seen_or_set");
    g.throughput(Throughput::Elements(BATCH as u64));
    let s = store(Some(1_000_000));
    let mut next = 0usize;
    g.bench_function("new_keys_batch_500", |b| {
        b.iter_batched(
            || {
                let batch: Vec<String> = (next..next + BATCH).map(mid).collect();
                next += BATCH;
                batch
            },
            |batch| black_box(s.seen_or_set(&batch, &[], 3_600_000)),
            criterion::BatchSize::SmallInput,
        )
    });
    let dup: Vec<String> = (0..BATCH).map(mid).collect();
    s.seen_or_set(&dup, &[], 3_600_000);
    g.bench_function("duplicate_keys_batch_500", |b| {
        b.iter(|| black_box(s.seen_or_set(&dup, &[], 3_600_000)))
    });
    g.finish();
    redis_throughput(c);
}

/// `seen_or_set` against the Redis at 127.0.0.1:6379 (db 15), when one answers.
fn redis_throughput(c: &mut Criterion) {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    let def = manifest::Store::Redis(manifest::RedisStore {
        url: "redis://127.0.0.1:6379".into(),
        db: 15,
        format: None,
        password: None,
    });
    let Ok(s) = rt.block_on(Store::open("bench", &def, Path::new("."))) else {
        eprintln!("no Redis at 127.0.0.1:6379: skipping the Redis benchmark");
        return;
    };
    let mut g = c.benchmark_group("redis_seen_or_set");
    g.throughput(Throughput::Elements(BATCH as u64));
    let pid = std::process::id();
    let mut next = 0usize;
    g.bench_function("new_keys_batch_500", |b| {
        b.iter_batched(
            || {
                let batch: Vec<String> = (next..next + BATCH)
                    .map(|i| format!("pipec-bench:{pid}:{}", mid(i)))
                    .collect();
                next += BATCH;
                batch
            },
            // A 10 s TTL: the bench's keys clean themselves up.
            |batch| black_box(rt.block_on(s.seen_or_set(&batch, &[], 10_000))),
            criterion::BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, throughput);
criterion_main!(benches);
