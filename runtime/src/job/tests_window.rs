//! `window` + `aggregate` on the quickstart's clicks-per-minute job.

use serde_json::json;

use super::tests::{by_topic, job, memory_stores, run};
use super::{Job, Output};
use crate::RuntimeError;
use pipec_compiler::manifest::{self, Manifest};

fn quickstart() -> Manifest {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let opts = pipec_compiler::CheckOptions {
        env: None,
        env_lookup: &|_| None,
    };
    match pipec_compiler::compile(&root.join("examples/quickstart"), &opts).manifest {
        Some(m) => m,
        None => panic!("examples/quickstart does not compile"),
    }
}

fn click(page: &str, ets: i64) -> Vec<u8> {
    serde_json::to_vec(&json!({"eid": "INTERACT", "page": page, "target": "b", "ets": ets}))
        .unwrap_or_default()
}

#[tokio::test]
async fn tumbling_windows_close_on_the_watermark_and_at_flush() {
    let m = quickstart();
    let j = job(&m, "clicks-per-minute").await;
    // One-minute windows, 30 s of lateness.
    let out = run(
        &j,
        &[
            click("home", 60_000),
            click("home", 61_000),
            click("search", 70_000),
            click("home", 119_000),
            // The watermark reaches 149 000 - 30 000: nothing closes yet.
            click("home", 149_000),
        ],
    )
    .await;
    assert!(out.records.is_empty());
    let out = run(&j, &[click("home", 185_000), click("home", 59_000)]).await;
    // 185 000 - 30 000 passes 120 000: [60 000, 120 000) closes for both pages; the click
    // at 59 000 is late (its window closed when the watermark passed 60 000).
    let t = by_topic(&out);
    assert_eq!(
        t["click_counts"],
        [
            json!({"page": "home", "window_start": 60_000, "window_end": 120_000, "clicks": 3, "first_click": 60_000}),
            json!({"page": "search", "window_start": 60_000, "window_end": 120_000, "clicks": 1, "first_click": 70_000}),
        ]
    );
    assert_eq!((out.counters[1].windowed, out.counters[1].late), (1, 1));
    let mut rest = Output::default();
    if let Err(e) = j.flush(&mut rest).await {
        panic!("{e}");
    }
    let t = by_topic(&rest);
    assert_eq!(
        t["click_counts"],
        [
            json!({"page": "home", "window_start": 120_000, "window_end": 180_000, "clicks": 1, "first_click": 149_000}),
            json!({"page": "home", "window_start": 180_000, "window_end": 240_000, "clicks": 1, "first_click": 185_000}),
        ]
    );
}

#[tokio::test]
async fn a_window_without_aggregate_is_refused() {
    let mut m = quickstart();
    if let Some(j) = m.jobs.get_mut("clicks-per-minute") {
        j.steps.remove(2);
    }
    let stores = memory_stores(&m).await;
    match Job::build("clicks-per-minute", &m, &stores) {
        Err(RuntimeError::Unsupported { what }) => assert!(what.contains("window"), "{what}"),
        other => panic!("expected Unsupported, got {other:?}"),
    }
}

#[tokio::test]
async fn sliding_and_session_windows() {
    let mut m = quickstart();
    let set_kind = |m: &mut Manifest, kind: manifest::WindowKind| {
        if let Some(manifest::Step::Window(w)) = m
            .jobs
            .get_mut("clicks-per-minute")
            .and_then(|j| j.steps.get_mut(1))
        {
            w.window = kind;
            w.lateness_ms = 0;
        }
    };
    // Two-minute windows every minute: a click belongs to two of them.
    set_kind(
        &mut m,
        manifest::WindowKind::Sliding {
            size_ms: 120_000,
            every_ms: 60_000,
        },
    );
    let j = job(&m, "clicks-per-minute").await;
    let mut out = run(&j, &[click("home", 90_000), click("home", 130_000)]).await;
    if let Err(e) = j.flush(&mut out).await {
        panic!("{e}");
    }
    let windows: Vec<(i64, i64, i64)> = by_topic(&out)["click_counts"]
        .iter()
        .map(|e| {
            let n = |k: &str| e[k].as_i64().unwrap_or(-1);
            (n("window_start"), n("window_end"), n("clicks"))
        })
        .collect();
    assert_eq!(
        windows,
        [(0, 120_000, 1), (60_000, 180_000, 2), (120_000, 240_000, 1)]
    );
    // Sessions close after 10 s without a click.
    set_kind(
        &mut m,
        manifest::WindowKind::Session {
            gap_ms: 10_000,
            max_ms: None,
        },
    );
    let j = job(&m, "clicks-per-minute").await;
    let out = run(
        &j,
        &[
            click("home", 1_000),
            click("home", 8_000),
            click("home", 17_000),
            click("home", 40_000),
        ],
    )
    .await;
    let t = by_topic(&out);
    assert_eq!(
        t["click_counts"],
        [
            json!({"page": "home", "window_start": 1_000, "window_end": 27_000, "clicks": 3, "first_click": 1_000})
        ]
    );
}
