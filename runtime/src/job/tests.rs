//! Jobs of the iGOT pipeline run over Sunbird's own test fixtures, with memory stores in
//! place of Redis.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use pipec_compiler::manifest::{self, Manifest, MemoryStore};
use serde_json::{Value, json};

use super::{Job, Output};
use crate::RuntimeError;
use crate::store::Store;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn igot() -> Manifest {
    let opts = pipec_compiler::CheckOptions {
        env: None,
        env_lookup: &|_| None,
    };
    let compiled = pipec_compiler::compile(&root().join("pipelines/igot"), &opts);
    match compiled.manifest {
        Some(m) => m,
        None => panic!("pipelines/igot does not compile"),
    }
}

/// Every store of the manifest, as an empty memory store.
async fn memory_stores(m: &Manifest) -> HashMap<String, Arc<Store>> {
    let mut out = HashMap::new();
    for name in m.stores.keys() {
        let def = manifest::Store::Memory(MemoryStore {
            max_keys: None,
            ttl_ms: None,
            snapshot: None,
            load: None,
            key: None,
        });
        match Store::open(name, &def, &root()).await {
            Ok(s) => out.insert(name.clone(), Arc::new(s)),
            Err(e) => panic!("{e}"),
        };
    }
    out
}

async fn job(m: &Manifest, name: &str) -> Job {
    let stores = memory_stores(m).await;
    match Job::build(name, m, &stores) {
        Ok(j) => j,
        Err(e) => panic!("{e}"),
    }
}

fn fixture(module: &str, file: &str) -> Vec<u8> {
    let p = Path::new("/work/shared/sunbird/fixtures")
        .join(module)
        .join(file);
    match std::fs::read(&p) {
        Ok(b) => b.trim_ascii_end().to_vec(),
        Err(e) => panic!("{}: {e}", p.display()),
    }
}

async fn run(job: &Job, input: &[Vec<u8>]) -> Output {
    let refs: Vec<&[u8]> = input.iter().map(Vec::as_slice).collect();
    let mut out = Output::default();
    if let Err(e) = job.process(&refs, &mut out).await {
        panic!("{e}");
    }
    out
}

/// Records per topic.
fn by_topic(out: &Output) -> BTreeMap<String, Vec<Value>> {
    let mut m: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (t, bytes) in &out.records {
        let v = serde_json::from_slice(bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()));
        m.entry(t.to_string()).or_default().push(v);
    }
    m
}

fn counts(out: &Output) -> BTreeMap<String, usize> {
    by_topic(out)
        .into_iter()
        .map(|(k, v)| (k, v.len()))
        .collect()
}

fn eids(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["eid"].as_str().unwrap_or("-"))
        .collect()
}

#[tokio::test]
async fn telemetry_extractor_on_sunbird_fixtures() {
    let m = igot();
    let j = job(&m, "telemetry-extractor").await;
    assert_eq!(&**j.source(), "ingest");
    let with_id = fixture("telemetry-extractor", "EVENT_WITH_MESSAGE_ID.json");
    let invalid = fixture("telemetry-extractor", "INVALID_BATCH_EVENT.invalid.txt");
    let out = run(
        &j,
        &[
            with_id.clone(),
            with_id.clone(),
            fixture("telemetry-extractor", "EVENT_WITHOUT_MESSAGE_ID.json"),
            invalid.clone(),
            fixture("telemetry-extractor", "EMPTY_BATCH_EVENTS.json"),
            fixture("telemetry-extractor", "UNDEFINED_EVENTS_IN_BATCH.json"),
        ],
    )
    .await;
    let t = by_topic(&out);
    assert_eq!(
        counts(&out),
        BTreeMap::from([
            ("assess-raw".into(), 5),
            ("druid-events-log".into(), 38),
            ("extractor-duplicate".into(), 1),
            ("extractor-failed".into(), 2),
            ("raw".into(), 8),
        ])
    );
    // The repeated batch goes whole to the duplicate topic, flagged.
    let dup = &t["extractor-duplicate"][0];
    assert_eq!(dup["flags"]["extractor_duplicate"], json!(true));
    assert_eq!(dup["events"].as_array().map(Vec::len), Some(21));
    // The unparsable batch goes on as it came, byte for byte; so does the one without events.
    let failed: Vec<&Vec<u8>> = out
        .records
        .iter()
        .filter(|(t, _)| &**t == "extractor-failed")
        .map(|(_, b)| b)
        .collect();
    assert_eq!(failed[0], &invalid);
    assert_eq!(
        failed[1],
        &fixture("telemetry-extractor", "UNDEFINED_EVENTS_IN_BATCH.json")
    );
    // Every event carries the batch's sync time.
    for e in t["raw"].iter().chain(&t["druid-events-log"]) {
        assert_eq!(e["syncts"], json!(1529500243955_i64));
        assert_eq!(e["@timestamp"], json!("2018-06-20T13:10:43.955Z"));
    }
    // ASSESS and RESPONSE go to both assess-raw and raw; the rest of raw is START and ERROR.
    assert_eq!(
        eids(&t["raw"]),
        [
            "START", "ERROR", "START", "RESPONSE", "ASSESS", "ASSESS", "ASSESS", "RESPONSE"
        ]
    );
    assert_eq!(
        eids(&t["assess-raw"]),
        ["RESPONSE", "ASSESS", "ASSESS", "ASSESS", "RESPONSE"]
    );
    // Counters: the dedup step saw 5 JSON records and the unparsable one.
    let c = &out.counters;
    assert_eq!((c[0].input, c[0].duplicate, c[0].unparsable), (6, 1, 1));
    assert_eq!((c[1].input, c[1].invalid, c[1].output), (4, 1, 46));
    assert_eq!((c[2].input, c[2].sent, c[2].unrouted), (46, 46, 0));
}

#[tokio::test]
async fn extractor_stamps_now_when_the_batch_has_no_sync_time() {
    let m = igot();
    let j = job(&m, "telemetry-extractor").await;
    let out = run(
        &j,
        &[fixture("telemetry-extractor", "MISSING_FIELDS_BATCH.json")],
    )
    .await;
    let t = by_topic(&out);
    assert_eq!(t["druid-events-log"].len(), 19);
    assert_eq!(t["raw"].len(), 1);
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let syncts = t["raw"][0]["syncts"].as_i64().unwrap_or(0);
    assert!(
        (now_ms - syncts).abs() < 60_000,
        "syncts {syncts} is not now"
    );
}
