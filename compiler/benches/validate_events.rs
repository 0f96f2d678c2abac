//! Benchmark of `pipec validate-events` on one thread: the 17 test events of Sunbird's
//! pipeline-preprocessor (9 valid, 8 invalid), repeated to 100,000 events held in memory,
//! validated against the preprocessor's 18 event schemas (each compiled once, before
//! timing). Criterion reports events per second (`thrpt`).
//!
//! - `ndjson`: one event per line, parsed and validated, counted in a report that streams
//!   the findings (what `pipec validate-events` does with the lines of a file);
//! - `json array`: the same events as one JSON array, one element per line (elements are
//!   located by a second, raw scan);
//! - `parse only`: serde_json parsing of the NDJSON lines, for comparison;
//! - `is_valid only`: `jsonschema`'s yes/no on already parsed events, for comparison;
//! - `check only`: `EventSchemas::check` (every error of invalid events) on parsed events.
//!
//! The events are Sunbird's preprocessor fixtures (`pipelines/igot/tests/fixtures`). The events
//! are left in `target/bench-events/100k.ndjson`, so that the whole command can be timed too.

use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pipec_compiler::events::input::Format;
use pipec_compiler::events::{EventSchemas, Report};
use pipec_compiler::{CheckOptions, event_schemas};
use serde_json::Value;

const EVENTS: usize = 100_000;

/// The allocator of the `pipec` binary, so that the numbers are the command's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn schemas(root: &Path) -> EventSchemas {
    let none = |_: &str| None;
    let opts = CheckOptions {
        env: None,
        env_lookup: &none,
    };
    let spec = root.join("tests/golden/validate-events/preprocessor");
    match event_schemas(&spec, &opts) {
        Ok(s) => s,
        Err(result) => panic!("{}: {:?}", spec.display(), result.diagnostics),
    }
}

/// The fixture events, each re-serialized on one line, in file-name order.
fn fixtures(root: &Path) -> Vec<String> {
    let dir = root.join("pipelines/igot/tests/fixtures/pipeline-preprocessor");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).unwrap_or_default();
            let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            value.to_string()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let schemas = schemas(&root);
    let events = fixtures(&root);
    assert_eq!(events.len(), 17, "the 17 preprocessor fixtures");
    let batch: Vec<&str> = events
        .iter()
        .map(String::as_str)
        .cycle()
        .take(EVENTS)
        .collect();
    let ndjson = batch.join("\n");
    // Left for timing the whole command (`hyperfine`, see BENCHMARKS.md).
    let out = root.join("target/bench-events");
    let _ = std::fs::create_dir_all(&out);
    let _ = std::fs::write(out.join("100k.ndjson"), format!("{ndjson}\n"));
    let array = format!("[\n{}\n]", batch.join(",\n"));
    let parsed: Vec<Value> = batch
        .iter()
        .map(|e| serde_json::from_str(e).unwrap_or(Value::Null))
        .collect();

    // As `pipec validate-events --format text` does, findings are streamed (here counted)
    // rather than kept.
    let run = |text: &str, format: Format| {
        let mut findings = 0;
        let totals = {
            let mut report = Report::new(false);
            report.stream(|_| findings += 1);
            report.add_text(&schemas, "bench", text, format);
            report.totals()
        };
        (totals, findings)
    };
    let (totals, findings) = run(&ndjson, Format::Ndjson);
    assert_eq!(
        (totals.valid + totals.invalid, findings),
        (EVENTS, totals.invalid)
    );
    assert_eq!(run(&array, Format::Json), (totals, findings));

    let mut group = c.benchmark_group("validate-events 100k preprocessor events");
    group.throughput(Throughput::Elements(EVENTS as u64));
    group.sample_size(10);
    group.bench_function("parse only", |b| {
        b.iter(|| {
            ndjson
                .split('\n')
                .filter(|l| serde_json::from_str::<Value>(l).is_ok())
                .count()
        })
    });
    group.bench_function("is_valid only", |b| {
        b.iter(|| {
            parsed
                .iter()
                .filter(|e| {
                    schemas
                        .event_type(e)
                        .and_then(|t| schemas.validator(t))
                        .is_some_and(|v| v.is_valid(e))
                })
                .count()
        })
    });
    group.bench_function("ndjson", |b| b.iter(|| run(&ndjson, Format::Ndjson)));
    group.bench_function("json array", |b| b.iter(|| run(&array, Format::Json)));
    group.bench_function("check only", |b| {
        b.iter(|| {
            parsed
                .iter()
                .filter(|e| schemas.check(e).is_empty())
                .count()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
