//! Throughput on a generated day, end to end on one core: NDJSON lines in (parse, group key,
//! order, summarize), ME_WORKFLOW_SUMMARY lines out. Not a pass/fail test; run with
//! `cargo test --release -p pipec-runtime --lib batch::wfs::tests::bench -- --ignored --nocapture`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::super::{GroupKey, OrderKey, group_key_with, order_key, summarize_group};
use super::{fixture, params};

/// Devices in the generated day; each replays one of the fixtures (server events included)
/// six times, two hours apart, under its own did and user.
const DEVICES: usize = 1_500;

/// The generated day as NDJSON lines.
fn day() -> Vec<String> {
    let fixtures: Vec<Vec<Value>> = (1..=8).map(fixture).collect();
    let mut lines = Vec::new();
    for d in 0..DEVICES {
        let events = &fixtures[d % fixtures.len()];
        let base = events
            .iter()
            .filter_map(|e| e["ets"].as_f64())
            .fold(f64::MAX, f64::min) as i64;
        for round in 0..6i64 {
            for (i, e) in events.iter().enumerate() {
                let mut e = e.clone();
                let ets = e["ets"].as_f64().map_or(0, |t| t as i64);
                e["ets"] =
                    (1_700_000_000_000 + round * 7_200_000 + (ets - base) % 7_000_000).into();
                e["mid"] = format!("{d}-{round}-{i}").into();
                if let Some(ctx) = e.get_mut("context").and_then(Value::as_object_mut) {
                    ctx.insert("did".into(), format!("device-{d}").into());
                }
                if let Some(actor) = e.get_mut("actor").and_then(Value::as_object_mut) {
                    actor.insert("id".into(), format!("user-{d}").into());
                }
                lines.push(e.to_string());
            }
        }
    }
    lines
}

#[test]
#[ignore = "a benchmark: run in release with --ignored --nocapture"]
fn bench_generated_day() {
    let lines = day();
    let bytes: usize = lines.iter().map(String::len).sum();
    let p = params();

    let started = Instant::now();
    let mut groups: HashMap<GroupKey, Vec<Value>> = HashMap::new();
    for line in &lines {
        let Ok(event) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if let Some(key) = group_key_with(&event, &p) {
            groups.entry(key).or_default().push(event);
        }
    }
    let read = started.elapsed();

    let mut summarize_time = Duration::ZERO;
    let mut write_time = Duration::ZERO;
    let (mut summaries, mut out_bytes) = (0usize, 0usize);
    for (_, events) in groups {
        let t = Instant::now();
        let mut order: Vec<usize> = (0..events.len()).collect();
        {
            let keys: Vec<OrderKey<'_>> = events.iter().map(order_key).collect();
            order.sort_by_key(|&i| keys[i]);
        }
        let mut slots: Vec<Option<Value>> = events.into_iter().map(Some).collect();
        let sorted: Vec<Value> = order.iter().filter_map(|&i| slots[i].take()).collect();
        let out = summarize_group(&sorted, &p);
        summarize_time += t.elapsed();
        let t = Instant::now();
        for v in &out {
            out_bytes += v.to_string().len() + 1;
        }
        write_time += t.elapsed();
        summaries += out.len();
    }
    let total = started.elapsed();
    let rate = lines.len() as f64 / total.as_secs_f64();
    eprintln!(
        "wfs: {} events ({} MB) in {:.2} s = {:.0} events/s end to end; read+key {:.2} s, \
         order+summarize {:.2} s, write {:.2} s; {} summaries ({} MB)",
        lines.len(),
        bytes / 1_000_000,
        total.as_secs_f64(),
        rate,
        read.as_secs_f64(),
        summarize_time.as_secs_f64(),
        write_time.as_secs_f64(),
        summaries,
        out_bytes / 1_000_000,
    );
    assert!(summaries > 0);
}
