//! A record handed to a job again, as the Kafka transport does after a crash, with its
//! position token: the same outputs as the first time, while a real duplicate (another
//! position) is still one.

use std::collections::BTreeMap;

use super::Output;
use super::tests::{by_topic, igot_manifest, job};

fn fixture(file: &str) -> Vec<u8> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../pipelines/igot/tests/fixtures/pipeline-preprocessor")
        .join(file);
    match std::fs::read(&p) {
        Ok(b) => b.trim_ascii_end().to_vec(),
        Err(e) => panic!("{}: {e}", p.display()),
    }
}

async fn run_at(j: &super::Job, input: &[Vec<u8>], positions: &[u64]) -> Output {
    let refs: Vec<&[u8]> = input.iter().map(Vec::as_slice).collect();
    let mut out = Output::default();
    if let Err(e) = j.process_at(&refs, positions, &mut out).await {
        panic!("{e}");
    }
    out
}

fn counts(out: &Output) -> BTreeMap<String, usize> {
    by_topic(out)
        .into_iter()
        .map(|(t, v)| (t, v.len()))
        .collect()
}

#[tokio::test]
async fn a_replayed_batch_gives_the_same_outputs() {
    let m = igot_manifest();
    let j = job(&m, "pipeline-preprocessor").await;
    // EVENT_1 twice (the second a real duplicate) and a SHARE, at offsets 10, 11, 12.
    let input = vec![
        fixture("EVENT_1.json"),
        fixture("EVENT_1.json"),
        fixture("EVENT_5.json"),
    ];
    let first = run_at(&j, &input, &[10, 11, 12]).await;
    let again = run_at(&j, &input, &[10, 11, 12]).await;
    assert_eq!(counts(&first)["duplicate"], 1);
    assert_eq!(by_topic(&first), by_topic(&again));
    // Only the second record again (a batch cut differently after a restart): still the
    // duplicate it was.
    let tail = run_at(&j, &input[1..2], &[11]).await;
    assert_eq!(counts(&tail), BTreeMap::from([("duplicate".into(), 1)]));
    // The same event at a new offset is a duplicate; without positions, too.
    let later = run_at(&j, &input[..1], &[99]).await;
    assert_eq!(counts(&later), BTreeMap::from([("duplicate".into(), 1)]));
    let plain = run_at(&j, &input[..1], &[]).await;
    assert_eq!(counts(&plain), BTreeMap::from([("duplicate".into(), 1)]));
}

#[tokio::test]
async fn positions_must_match_the_records() {
    let m = igot_manifest();
    let j = job(&m, "pipeline-preprocessor").await;
    let input = [fixture("EVENT_1.json")];
    let refs: Vec<&[u8]> = input.iter().map(Vec::as_slice).collect();
    let mut out = Output::default();
    let e = j.process_at(&refs, &[1, 2], &mut out).await.unwrap_err();
    assert!(e.to_string().contains("2 positions for 1 records"), "{e}");
}

#[tokio::test]
async fn every_output_names_the_record_it_came_from() {
    let m = igot_manifest();
    let j = job(&m, "pipeline-preprocessor").await;
    // A SHARE (exploded into items, routed to several topics) and a LOG.
    let input = vec![fixture("EVENT_5.json"), fixture("EVENT_1.json")];
    let out = run_at(&j, &input, &[5, 6]).await;
    assert_eq!(out.sources.len(), out.records.len());
    assert!(out.sources.contains(&5) && out.sources.contains(&6));
    assert!(out.sources.iter().all(|s| *s == 5 || *s == 6));
    // In input order: the SHARE's outputs first.
    let first_six = out.sources.iter().position(|s| *s == 6).unwrap_or(0);
    assert!(out.sources[first_six..].iter().all(|s| *s == 6));
    // Without positions, none.
    let plain = run_at(&j, &input, &[]).await;
    assert!(plain.sources.is_empty());
    // A copy job too.
    let copy = job(&m, "ingest-router").await;
    let out = run_at(&copy, &input, &[7, 8]).await;
    assert_eq!(out.sources.len(), out.records.len());
    assert_eq!(out.sources.first(), Some(&7));
}
