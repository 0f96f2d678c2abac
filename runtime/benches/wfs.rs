//! Events per second on one core of the workflow summary (`pipec_runtime::batch::wfs`) on a
//! generated day: NDJSON lines in (serde_json parse, group key, order), summaries out
//! (`summarize_group`, serialize). Each device replays one of Sunbird's eight test inputs
//! (server events included) six times, two hours apart, under its own did and user. Times are
//! the thread's CPU time (Linux `schedstat`; wall time where it cannot be read), so other work
//! on the machine's cores does not count.
//!
//! `cargo bench -p pipec-runtime --bench wfs -- [--devices N]`

use std::collections::HashMap;
use std::time::{Duration, Instant};

use pipec_runtime::batch::wfs::{
    GroupKey, OrderKey, WfsParams, group_key_with, order_key, summarize_group,
};
use serde_json::Value;

/// The allocator the `pipec` binary uses.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const FIXTURES: [&str; 8] = [
    include_str!("../../pipelines/igot/tests/fixtures/wfs/test-data1.log"),
    include_str!("../../pipelines/igot/tests/fixtures/wfs/test-data2.log"),
    include_str!("../../pipelines/igot/tests/fixtures/wfs/test-data3.log"),
    include_str!("../../pipelines/igot/tests/fixtures/wfs/test-data4.log"),
    include_str!("../../pipelines/igot/tests/fixtures/wfs/test-data5.log"),
    include_str!("../../pipelines/igot/tests/fixtures/wfs/test-data6.log"),
    include_str!("../../pipelines/igot/tests/fixtures/wfs/test-data7.log"),
    include_str!("../../pipelines/igot/tests/fixtures/wfs/test-data8.log"),
];

/// The thread's CPU time so far.
fn cpu(wall: Instant) -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .map_or_else(|| wall.elapsed(), Duration::from_nanos)
}

/// The generated day as NDJSON lines.
fn day(devices: usize) -> Vec<String> {
    let fixtures: Vec<Vec<Value>> = FIXTURES
        .iter()
        .map(|text| {
            text.lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect()
        })
        .collect();
    let mut lines = Vec::new();
    for d in 0..devices {
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

fn main() {
    let mut devices = 1_500;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--devices" {
            devices = args.next().and_then(|n| n.parse().ok()).unwrap_or(devices);
        }
    }
    let lines = day(devices);
    let bytes: usize = lines.iter().map(String::len).sum();
    let params = WfsParams {
        now_ms: 1_700_000_000_000,
        ..WfsParams::default()
    };
    // The lines of each group, as an engine's external sort by group key would hand them over
    // (not timed). Lines that are not summarized are counted as read, then dropped.
    let mut by_group: HashMap<GroupKey, Vec<&str>> = HashMap::new();
    let mut skipped: Vec<&str> = Vec::new();
    for line in &lines {
        let event = serde_json::from_str::<Value>(line).ok();
        match event.as_ref().and_then(|e| group_key_with(e, &params)) {
            Some(key) => by_group.entry(key).or_default().push(line),
            None => skipped.push(line),
        }
    }
    let groups: Vec<Vec<&str>> = by_group.into_values().collect();

    let wall = Instant::now();
    // (a) parse alone: the floor of any pipeline that builds `serde_json::Value`s.
    let a0 = cpu(wall);
    let mut fields = 0usize;
    for line in groups.iter().flatten().chain(&skipped) {
        if let Ok(Value::Object(event)) = serde_json::from_str::<Value>(line) {
            fields += event.len();
        }
    }
    let parse_only = cpu(wall) - a0;

    // (b) end to end, one group at a time: parse, key, order, summarize, serialize.
    let b0 = cpu(wall);
    for line in &skipped {
        if let Ok(event) = serde_json::from_str::<Value>(line) {
            fields += usize::from(group_key_with(&event, &params).is_some());
        }
    }
    let (mut summaries, mut out_bytes) = (0usize, 0usize);
    for group in &groups {
        let events: Vec<Value> = group
            .iter()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|event| group_key_with(event, &params).is_some())
            .collect();
        let mut by: Vec<usize> = (0..events.len()).collect();
        {
            let keys: Vec<OrderKey<'_>> = events.iter().map(order_key).collect();
            by.sort_by_key(|&i| keys[i]);
        }
        let mut slots: Vec<Option<Value>> = events.into_iter().map(Some).collect();
        let sorted: Vec<Value> = by.iter().filter_map(|&i| slots[i].take()).collect();
        let out = summarize_group(&sorted, &params);
        summaries += out.len();
        for v in &out {
            out_bytes += v.to_string().len() + 1;
        }
    }
    let end_to_end = cpu(wall) - b0;

    let n = lines.len() as f64;
    let us = |d: Duration| d.as_secs_f64() * 1e6 / n;
    println!(
        "{} events ({} MB), {} devices, {} groups, {} summaries ({} MB out) [{fields}]",
        lines.len(),
        bytes / 1_000_000,
        devices,
        groups.len(),
        summaries,
        out_bytes / 1_000_000
    );
    println!(
        "(a) serde_json parse alone: {:.0} events/s ({:.2} µs per event)",
        n / parse_only.as_secs_f64(),
        us(parse_only)
    );
    println!(
        "(b) end to end (parse, key, order, summarize, serialize): {:.0} events/s ({:.2} µs per \
         event, of which {:.2} µs not parsing); {:.2} s CPU, {:.2} s wall",
        n / end_to_end.as_secs_f64(),
        us(end_to_end),
        us(end_to_end.saturating_sub(parse_only)),
        end_to_end.as_secs_f64(),
        wall.elapsed().as_secs_f64()
    );
}
