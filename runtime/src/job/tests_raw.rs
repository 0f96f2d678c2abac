//! Events kept as bytes give, byte for byte, the records the tree path gives.

use serde_json::{Value, json};

use super::tests::{igot_manifest, job, run};
use super::{Job, Output};
use crate::r#gen::{GenOptions, Generator};

/// Batches of generated events, with a fixed sync time (the carried fields are then the
/// same in both runs), some of them in shapes that must go through the tree.
fn batches() -> Vec<Vec<u8>> {
    let mut g = Generator::new(GenOptions {
        events_per_batch: 40,
        duplicate_rate: 0.1,
        invalid_rate: 0.05,
        seed: 7,
    });
    let mut out = Vec::new();
    for i in 0..30_u64 {
        let mut b = g.batch_value();
        b["syncts"] = json!(1_700_000_000_000_u64 + i);
        if let Some(evs) = b["events"].as_array_mut() {
            // Fields the extractor carries, already there: their values are replaced in place.
            if let Some(e) = evs.get_mut(1) {
                e["syncts"] = json!(5);
                e["@timestamp"] = json!("old");
            }
            // Escapes and non-ASCII text, kept as serde_json writes them.
            if let Some(e) = evs.get_mut(2) {
                e["edata"]["message"] = json!("é \"q\" \\ \n \u{1} 😀 </>");
            }
            if i % 5 == 0 {
                evs.push(json!({}));
                evs.push(json!([1, 2]));
                evs.push(json!("x"));
            }
        }
        let bytes = match i % 7 {
            // Whitespace: not canonical, read as a tree.
            3 => serde_json::to_vec_pretty(&b).unwrap_or_default(),
            // An escape serde_json would not write.
            4 => String::from_utf8(serde_json::to_vec(&b).unwrap_or_default())
                .unwrap_or_default()
                .replacen("sunbird.telemetry", "sunbird\\u002etelemetry", 1)
                .into_bytes(),
            _ => serde_json::to_vec(&b).unwrap_or_default(),
        };
        out.push(bytes);
    }
    // A repeated msgid: the batch dedup finds it.
    out.push(out[0].clone());
    out.push(b"{\"id\":1}".to_vec());
    out.push(b"{\"events\":{}}".to_vec());
    out.push(b"not json".to_vec());
    out
}

fn same(a: &Output, b: &Output) {
    assert_eq!(a.records.len(), b.records.len());
    for (i, (x, y)) in a.records.iter().zip(&b.records).enumerate() {
        assert_eq!(x.0, y.0, "record {i}: topic");
        assert_eq!(
            String::from_utf8_lossy(&x.1),
            String::from_utf8_lossy(&y.1),
            "record {i} ({})",
            x.0
        );
    }
    assert_eq!(a.counters, b.counters);
    assert_eq!(a.rejected, b.rejected);
}

async fn both(name: &str, input: &[Vec<u8>]) -> (Output, Output) {
    let m = igot_manifest();
    let fast = job(&m, name).await;
    // The extractor splits batches and routes events as bytes; the preprocessor validates
    // first, so it reads trees from the start either way.
    assert_eq!(fast.keep_raw, name == "telemetry-extractor", "{name}");
    let mut slow: Job = job(&m, name).await;
    slow.keep_raw = false;
    (run(&fast, input).await, run(&slow, input).await)
}

#[tokio::test]
async fn extractor_and_preprocessor_give_the_same_bytes_either_way() {
    let input = batches();
    let (fast, slow) = both("telemetry-extractor", &input).await;
    same(&fast, &slow);
    assert!(fast.records.len() > 1000, "{}", fast.records.len());
    let raw: Vec<Vec<u8>> = fast
        .records
        .iter()
        .filter(|(t, _)| &**t == "raw")
        .map(|(_, b)| b.clone())
        .collect();
    let (fast, slow) = both("pipeline-preprocessor", &raw).await;
    same(&fast, &slow);
    // Carried fields replace what the event had, where it had it.
    let first: Value = serde_json::from_slice(&raw[1]).unwrap_or(Value::Null);
    let keys: Vec<&String> = first
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    assert_eq!(keys.iter().filter(|k| ***k == "syncts").count(), 1);
}

#[tokio::test]
async fn a_route_on_bytes_sends_the_event_as_it_came() {
    let m = igot_manifest();
    let j = job(&m, "telemetry-extractor").await;
    let batch =
        br#"{"syncts":1,"events":[{"eid":"LOG","x":"\u001f","n":1.5},{"eid":"A","syncts":0}]}"#;
    let out = run(&j, &[batch.to_vec()]).await;
    // The batch's own events (its audit event, last, is built as a tree).
    let got: Vec<(String, String)> = out
        .records
        .iter()
        .map(|(t, b)| (t.to_string(), String::from_utf8_lossy(b).into_owned()))
        .filter(|(_, b)| !b.contains("telemetry_audit"))
        .collect();
    assert!(
        String::from_utf8_lossy(&out.records[2].1).contains("\"events_count\":\"2\""),
        "{:?}",
        out.records
    );
    assert_eq!(
        got,
        vec![
            (
                "druid-events-log".to_string(),
                r#"{"eid":"LOG","x":"\u001f","n":1.5,"syncts":1,"@timestamp":"1970-01-01T00:00:00.001Z"}"#.to_string()
            ),
            (
                "raw".to_string(),
                r#"{"eid":"A","syncts":1,"@timestamp":"1970-01-01T00:00:00.001Z"}"#.to_string()
            ),
        ]
    );
}

#[tokio::test]
async fn bytes_are_kept_only_where_a_step_uses_them() {
    let m = igot_manifest();
    for (name, kept) in [
        ("ingest-router", true),
        ("telemetry-extractor", true),
        ("pipeline-preprocessor", false),
        ("druid-validator", false),
        ("summary-denormalization", true),
        ("cb-preprocessor", false),
    ] {
        assert_eq!(job(&m, name).await.keep_raw, kept, "{name}");
    }
}
