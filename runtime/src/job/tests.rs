//! Jobs of the iGOT pipeline run over Sunbird's own test fixtures, with memory stores in
//! place of Redis.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use pipec_compiler::manifest::{self, Manifest, MemoryStore};
use serde_json::{Value, json};

use super::{Job, Output};
use crate::store::Store;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub(super) fn igot_manifest() -> Manifest {
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
pub(super) async fn memory_stores(m: &Manifest) -> HashMap<String, Arc<Store>> {
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

pub(super) async fn job(m: &Manifest, name: &str) -> Job {
    let stores = memory_stores(m).await;
    match Job::build(name, m, &stores) {
        Ok(j) => j,
        Err(e) => panic!("{e}"),
    }
}

pub(super) fn fixture(module: &str, file: &str) -> Vec<u8> {
    // The copies in the repository (with their provenance in PROVENANCE.md there).
    let p = root()
        .join("pipelines/igot/tests/fixtures")
        .join(module)
        .join(file);
    match std::fs::read(&p) {
        Ok(b) => b.trim_ascii_end().to_vec(),
        Err(e) => panic!("{}: {e}", p.display()),
    }
}

pub(super) async fn run(job: &Job, input: &[Vec<u8>]) -> Output {
    let refs: Vec<&[u8]> = input.iter().map(Vec::as_slice).collect();
    let mut out = Output::default();
    if let Err(e) = job.process(&refs, &mut out).await {
        panic!("{e}");
    }
    out
}

/// Records per topic.
pub(super) fn by_topic(out: &Output) -> BTreeMap<String, Vec<Value>> {
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
    let m = igot_manifest();
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
            // 38 LOG events and an audit LOG event for each of the 4 unpacked batches (the
            // one without `events` is an empty batch, as Sunbird's extractor reads it).
            ("druid-events-log".into(), 42),
            ("extractor-duplicate".into(), 1),
            ("extractor-failed".into(), 1),
            ("raw".into(), 8),
        ])
    );
    // The repeated batch goes whole to the duplicate topic, flagged.
    let dup = &t["extractor-duplicate"][0];
    assert_eq!(dup["flags"]["extractor_duplicate"], json!(true));
    assert_eq!(dup["events"].as_array().map(Vec::len), Some(21));
    // The unparsable batch goes on as it came, byte for byte.
    let failed: Vec<&Vec<u8>> = out
        .records
        .iter()
        .filter(|(t, _)| &**t == "extractor-failed")
        .map(|(_, b)| b)
        .collect();
    assert_eq!(failed, [&invalid]);
    let why: Vec<(usize, usize)> = out.rejected.iter().map(|r| (r.input, r.step)).collect();
    assert_eq!(why, [(3, 0)]);
    // The batch without `events` gave its audit event, counting 0.
    let audits: Vec<&Value> = t["druid-events-log"]
        .iter()
        .filter(|e| e["edata"]["type"] == "telemetry_audit")
        .collect();
    assert_eq!(audits.len(), 4);
    assert_eq!(audits[3]["edata"]["params"][0]["events_count"], json!(0));
    // Every event carries the batch's sync time.
    for e in t["raw"].iter().chain(&t["druid-events-log"]) {
        assert_eq!(e["syncts"], json!(1529500243955_i64));
        assert_eq!(e["@timestamp"], json!("2018-06-20T13:10:43.955Z"));
    }
    // With an empty content cache no question is a registration: every ASSESS and RESPONSE
    // goes to raw as it came, none to assess-raw.
    assert_eq!(
        eids(&t["raw"]),
        [
            "START", "ERROR", "START", "RESPONSE", "ASSESS", "ASSESS", "ASSESS", "RESPONSE"
        ]
    );
    assert!(!t.contains_key("assess-raw"));
    // Counters: the dedup step saw 5 JSON records and the unparsable one; the content cache
    // was asked about the 3 ASSESS items and the RESPONSE target with an id (the other
    // RESPONSE's target has none), and knew none.
    let c = &out.counters;
    assert_eq!((c[0].input, c[0].duplicate, c[0].unparsable), (6, 1, 1));
    assert_eq!((c[1].input, c[1].invalid, c[1].output), (4, 0, 46));
    assert_eq!((c[2].input, c[2].hits, c[2].misses), (46, 0, 3));
    assert_eq!((c[3].input, c[3].hits, c[3].misses), (46, 0, 1));
    assert_eq!((c[4].input, c[4].sent, c[4].unrouted), (46, 46, 0));
}

/// The extractor with its `content` store holding Sunbird's two content-cache fixtures
/// (the first a question marked "Registration"), the others empty.
pub(super) async fn extractor_with_content_cache(m: &Manifest) -> (Job, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("content.ndjson");
    let lines: Vec<String> = ["contentCacheData1.json", "contentCacheData2.json"]
        .iter()
        .map(|f| String::from_utf8_lossy(&fixture("telemetry-extractor", f)).replace('\n', " "))
        .collect();
    std::fs::write(&file, lines.join("\n")).expect("write");
    let mut stores = memory_stores(m).await;
    let def = manifest::Store::Memory(MemoryStore {
        max_keys: None,
        ttl_ms: None,
        snapshot: None,
        load: Some(file.to_string_lossy().into_owned()),
        key: Some("identifier".into()),
    });
    let content = Store::open("content", &def, &root())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    stores.insert("content".into(), Arc::new(content));
    match Job::build("telemetry-extractor", m, &stores) {
        Ok(j) => (j, dir),
        Err(e) => panic!("{e}"),
    }
}

#[tokio::test]
async fn extractor_redacts_answers_to_registration_questions() {
    let m = igot_manifest();
    let (j, _dir) = extractor_with_content_cache(&m).await;
    let batch = fixture("telemetry-extractor", "EVENT_WITHOUT_MESSAGE_ID.json");
    let out = run(&j, std::slice::from_ref(&batch)).await;
    let t = by_topic(&out);
    // The first RESPONSE (target do_2129…) and the first ASSESS (item do_2129…) answer the
    // question marked "Registration": each goes as it came to assess-raw, and with its
    // answers blanked to raw. The other ASSESS events (an item whose content has no
    // question type, one not in the cache) and the RESPONSE without a target id are not
    // touched.
    let copies = &t["assess-raw"];
    assert_eq!(eids(copies), ["RESPONSE", "ASSESS"]);
    let sent: Value = serde_json::from_slice(&batch).expect("batch");
    let originals: Vec<&Value> = sent["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["eid"] == "ASSESS" || e["eid"] == "RESPONSE")
        .collect();
    assert_eq!(copies[0]["edata"], originals[0]["edata"]);
    assert_eq!(copies[1]["edata"], originals[1]["edata"]);
    assert_ne!(copies[1]["edata"]["resvalues"], json!([]));
    let raw = &t["raw"];
    assert_eq!(
        eids(raw),
        [
            "START", "RESPONSE", "ASSESS", "ASSESS", "ASSESS", "RESPONSE"
        ]
    );
    assert_eq!(raw[1]["edata"]["values"], json!([]));
    assert_eq!(raw[2]["edata"]["resvalues"], json!([]));
    assert_eq!(raw[3]["edata"], originals[2]["edata"]);
    assert_eq!(raw[4]["edata"], originals[3]["edata"]);
    assert_eq!(raw[5]["edata"], originals[4]["edata"]);
    // The looked-up questions (`$assess`, `$response`: the job's own fields) are in no
    // output.
    for (_, bytes) in &out.records {
        let text = String::from_utf8_lossy(bytes);
        assert!(!text.contains("\"$"), "{text}");
    }
    // The store was asked about the 3 ASSESS items, knowing 2 (the second has no question
    // type), and the RESPONSE target with an id, knowing it.
    let c = &out.counters;
    assert_eq!((c[2].hits, c[2].misses), (2, 1));
    assert_eq!((c[3].hits, c[3].misses), (1, 0));
}

#[tokio::test]
async fn extractor_stamps_now_when_the_batch_has_no_sync_time() {
    let m = igot_manifest();
    let j = job(&m, "telemetry-extractor").await;
    let out = run(
        &j,
        &[fixture("telemetry-extractor", "MISSING_FIELDS_BATCH.json")],
    )
    .await;
    let t = by_topic(&out);
    // 19 LOG events and the batch's audit event.
    assert_eq!(t["druid-events-log"].len(), 20);
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

const PREPROCESSOR_FIXTURES: [&str; 17] = [
    "EVENT_1",
    "EVENT_2",
    "EVENT_3",
    "EVENT_4",
    "EVENT_5",
    "EVENT_6",
    "EVENT_7",
    "EVENT_8",
    "EVENT_9",
    "EVENT_10",
    "EVENT_12",
    "EVENT_13",
    "EVENT_14",
    "EVENT_15",
    "EVENT_16",
    "EVENT_17",
    "EVENT_WITHOUT_EID",
];

#[tokio::test]
async fn pipeline_preprocessor_on_sunbird_fixtures() {
    let m = igot_manifest();
    let j = job(&m, "pipeline-preprocessor").await;
    let input: Vec<Vec<u8>> = PREPROCESSOR_FIXTURES
        .iter()
        .map(|n| fixture("pipeline-preprocessor", &format!("{n}.json")))
        .collect();
    let out = run(&j, &input).await;
    let t = by_topic(&out);
    assert_eq!(
        counts(&out),
        BTreeMap::from([
            ("audit".into(), 1),
            ("druid-events-log".into(), 1),
            ("error".into(), 1),
            ("failed".into(), 8),
            ("unique".into(), 10),
            ("unique-primary".into(), 6),
            ("unique-secondary".into(), 4),
        ])
    );
    // Invalid events: no schema for the type, no type, schema violations; each says why.
    assert_eq!(
        eids(&t["failed"]),
        [
            "START", "NO_EID", "NO_EID", "NO_EID", "SUMMARY", "SUMMARY", "METRICS", "-"
        ]
    );
    for e in &t["failed"] {
        assert_eq!(e["flags"]["pp_validation_processed"], json!(false));
        assert_eq!(e["metadata"]["src"], json!("pipeline-preprocessor"));
        assert!(e["metadata"]["validation_error"].is_string());
    }
    assert_eq!(
        t["failed"][0]["metadata"]["validation_error"],
        json!("\"actor\" is a required property")
    );
    assert_eq!(
        t["failed"][5]["metadata"]["validation_error"],
        json!("/edata/timespent: \"0:16\" is not of type \"number\"")
    );
    assert_eq!(
        t["failed"][7]["metadata"]["validation_error"],
        json!("no `eid` field: the event type is unknown")
    );
    for e in &t["unique"] {
        assert_eq!(e["flags"]["pp_validation_processed"], json!(true));
        assert_eq!(e["flags"]["pp_duplicate"], json!(false));
    }
    assert_eq!(
        eids(&t["unique-secondary"]),
        ["INTERACT", "SHARE_ITEM", "SHARE_ITEM", "SHARE_ITEM"]
    );
    assert_eq!(
        eids(&t["unique-primary"]),
        ["AUDIT", "SHARE", "ASSESS", "SEARCH", "SUMMARY", "METRICS"]
    );
    // The default channel fills a missing one; a blank one is kept, as Sunbird does.
    assert_eq!(t["unique"][0]["context"]["channel"], json!(" "));
    let c = &out.counters;
    assert_eq!((c[0].input, c[0].invalid, c[0].output), (17, 8, 9));
    assert_eq!((c[6].input, c[6].sent, c[6].unrouted), (9, 9, 0));
}

#[tokio::test]
async fn duplicate_within_one_batch() {
    let m = igot_manifest();
    let j = job(&m, "pipeline-preprocessor").await;
    let e1 = fixture("pipeline-preprocessor", "EVENT_1.json");
    let out = run(&j, &[e1.clone(), e1.clone()]).await;
    let t = by_topic(&out);
    assert_eq!(t["duplicate"].len(), 1);
    assert_eq!(t["duplicate"][0]["flags"]["pp_duplicate"], json!(true));
    assert_eq!(t["unique"].len(), 1);
    assert_eq!(out.counters[3].duplicate, 1);
    // The key stays remembered across batches.
    let again = run(&j, &[e1]).await;
    assert_eq!(counts(&again), BTreeMap::from([("duplicate".into(), 1)]));
}

#[tokio::test]
async fn explode_a_share_of_two_items() {
    let m = igot_manifest();
    let j = job(&m, "pipeline-preprocessor").await;
    let mut share: Value =
        serde_json::from_slice(&fixture("pipeline-preprocessor", "EVENT_5.json"))
            .unwrap_or_default();
    if let Some(items) = share["edata"]["items"].as_array_mut() {
        items.truncate(2);
    }
    let out = run(&j, &[serde_json::to_vec(&share).unwrap_or_default()]).await;
    let t = by_topic(&out);
    let items: Vec<&Value> = t["unique"]
        .iter()
        .filter(|e| e["eid"] == json!("SHARE_ITEM"))
        .collect();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["edata"]["type"], json!("download"));
    assert_eq!(items[1]["edata"]["type"], json!("import"));
    assert_eq!(
        items[0]["object"]["id"],
        json!("do_312785709424099328114191")
    );
    assert_eq!(items[1]["object"]["ver"], json!("18"));
    assert_eq!(items[1]["object"]["type"], json!("CONTENT"));
    // The children are copies of the SHARE event (its actor, context), each with its own
    // mid: md5(SHARE mid + item id), so downstream dedup on mid keeps every item.
    assert_eq!(items[0]["mid"], json!("a938f2eb016c260c0741be8772fc7710"));
    assert_ne!(items[0]["mid"], items[1]["mid"]);
    assert_eq!(items[0]["actor"], share["actor"]);
    assert!(items[0].get("item").is_none());
    // The SHARE itself goes on, unchanged, to the primary topic.
    assert_eq!(eids(&t["unique-primary"]), ["SHARE"]);
    assert_eq!(t["unique-primary"][0]["edata"]["type"], json!("File"));
    assert_eq!(eids(&t["unique-secondary"]), ["SHARE_ITEM", "SHARE_ITEM"]);
}

#[tokio::test]
async fn route_copies_and_rule_fields() {
    let mut m = igot_manifest();
    // The ASSESS copy is marked; the event going on to `raw` is not.
    if let Some(manifest::Step::Route(r)) = m
        .jobs
        .get_mut("telemetry-extractor")
        .and_then(|j| j.steps.get_mut(4))
    {
        for rule in &mut r.rules[1..3] {
            rule.set = manifest::Ordered(vec![("flags.copy".into(), "eid == \"ASSESS\"".into())]);
        }
    } else {
        panic!("the extractor's fifth step is no longer its route");
    }
    let (j, _dir) = extractor_with_content_cache(&m).await;
    let out = run(
        &j,
        &[fixture(
            "telemetry-extractor",
            "EVENT_WITHOUT_MESSAGE_ID.json",
        )],
    )
    .await;
    let t = by_topic(&out);
    let marks: Vec<&Value> = t["assess-raw"]
        .iter()
        .map(|e| &e["flags"]["copy"])
        .collect();
    assert_eq!(marks, [&json!(false), &json!(true)]);
    assert!(t["raw"].iter().all(|e| e.get("flags").is_none()));
    // An event sent to several topics is the same bytes on each.
    let audit = fixture("pipeline-preprocessor", "EVENT_4.json");
    let pp = job(&m, "pipeline-preprocessor").await;
    let out = run(&pp, &[audit]).await;
    let topics: Vec<&str> = out.records.iter().map(|(t, _)| &**t).collect();
    assert_eq!(topics, ["audit", "unique", "unique-primary"]);
    assert!(out.records.windows(2).all(|w| w[0].1 == w[1].1));
}

#[tokio::test]
async fn a_malformed_record_goes_to_the_dead_letter_topic() {
    let m = igot_manifest();
    let j = job(&m, "pipeline-preprocessor").await;
    let bad = b"{\"eid\": \"LOG\", ".to_vec();
    let out = run(
        &j,
        &[
            bad.clone(),
            fixture("pipeline-preprocessor", "EVENT_3.json"),
        ],
    )
    .await;
    assert_eq!(out.records[0], (Arc::from("failed"), bad));
    assert_eq!(&*out.records[1].0, "druid-events-log");
    assert_eq!((out.counters[0].input, out.counters[0].unparsable), (2, 1));
    assert_eq!(out.rejected.len(), 1);
    assert_eq!((out.rejected[0].input, out.rejected[0].step), (0, 0));
    assert!(
        out.rejected[0]
            .reason
            .starts_with("not JSON: EOF while parsing"),
        "{}",
        out.rejected[0].reason
    );
}

#[tokio::test]
async fn enrich_flags_what_the_store_does_not_know() {
    let m = igot_manifest();
    let j = job(&m, "error-denormalization").await;
    let out = run(
        &j,
        &[
            fixture("pipeline-preprocessor", "EVENT_1.json"),
            fixture("pipeline-preprocessor", "EVENT_2.json"),
        ],
    )
    .await;
    let t = by_topic(&out);
    // EVENT_1 has a device and a `User` actor: both are looked up, neither is found.
    let e = &t["druid-events-error"][0];
    assert_eq!(e["flags"]["device_denorm"], json!(false));
    assert_eq!(e["flags"]["user_denorm"], json!(false));
    assert!(e.get("devicedata").is_none());
    // EVENT_2 has no device and a `System` actor: no lookup, no flag.
    let e = &t["druid-events-error"][1];
    assert!(e["flags"].get("device_denorm").is_none());
    assert!(e["flags"].get("user_denorm").is_none());
    // Two lookups (EVENT_1's device and user), both misses; none found.
    let (hits, misses): (u64, u64) = out
        .counters
        .iter()
        .fold((0, 0), |(h, m), c| (h + c.hits, m + c.misses));
    assert_eq!((hits, misses), (0, 2));
}

#[tokio::test]
async fn every_unpacked_batch_gets_its_audit_event_after_its_events() {
    let m = igot_manifest();
    let ex = job(&m, "telemetry-extractor").await;
    let with_id = fixture("telemetry-extractor", "EVENT_WITH_MESSAGE_ID.json");
    // The same batch pretty-printed takes the tree path instead of the bytes path.
    let pretty = {
        let v: Value = serde_json::from_slice(&with_id).unwrap();
        let mut v = v;
        v["params"]["msgid"] = json!("another-msgid");
        serde_json::to_vec_pretty(&v).unwrap()
    };
    let empty = fixture("telemetry-extractor", "EMPTY_BATCH_EVENTS.json");
    let out = run(&ex, &[with_id, pretty, empty]).await;
    let audits: Vec<Value> = out
        .records
        .iter()
        .filter(|(t, _)| &**t == "druid-events-log")
        .map(|(_, b)| serde_json::from_slice::<Value>(b).unwrap())
        .filter(|e| e["edata"]["type"] == "telemetry_audit")
        .collect();
    let counts: Vec<&Value> = audits
        .iter()
        .map(|a| &a["edata"]["params"][0]["events_count"])
        .collect();
    assert_eq!(counts, [&json!(21), &json!(21), &json!(0)]);
    // The batch's own `mid`, as Sunbird's audit event has it (both copies of the batch).
    assert_eq!(audits[0]["mid"], "56c0c430-748b-11e8-ae77-cd19397ca6b0");
    assert_eq!(audits[1]["mid"], "56c0c430-748b-11e8-ae77-cd19397ca6b0");
    assert_eq!(audits[0]["syncts"], 1_529_500_243_955_i64);
    assert_eq!(audits[0]["eid"], "LOG");
    // The audit event of a batch follows the batch's own LOG events.
    let logs: Vec<Value> = out
        .records
        .iter()
        .filter(|(t, _)| &**t == "druid-events-log")
        .map(|(_, b)| serde_json::from_slice::<Value>(b).unwrap())
        .collect();
    assert_eq!(logs[19]["edata"]["type"], "telemetry_audit", "{}", logs[19]);
    assert_ne!(logs[18]["edata"]["type"], "telemetry_audit");
    let sent: u64 = out.counters[1].sent;
    assert_eq!(sent, 3);
}

#[tokio::test]
async fn a_set_field_with_a_question_mark_is_set_only_to_a_value() {
    let mut m = igot_manifest();
    // After the preprocessor's own fix-ups (among them `edata.filters.dialcodes?`):
    // `probe?` and `plain` both from a field only some events have.
    if let Some(manifest::Step::Set(s)) = m
        .jobs
        .get_mut("pipeline-preprocessor")
        .and_then(|j| j.steps.get_mut(1))
    {
        s.fields
            .0
            .push(("probe?".into(), "edata.filters.extra".into()));
        s.fields
            .0
            .push(("plain".into(), "edata.filters.extra".into()));
    } else {
        panic!("the preprocessor's second step is no longer its `set`");
    }
    let pp = job(&m, "pipeline-preprocessor").await;
    let search = fixture("pipeline-preprocessor", "EVENT_12.json");
    let mut with: Value = serde_json::from_slice(&search).expect("EVENT_12");
    with["mid"] = json!("with-dialcodes");
    with["edata"]["filters"] = json!({ "dialcodes": ["ab1", "Cd2"], "extra": "x" });
    let with = serde_json::to_vec(&with).expect("json");
    let out = run(&pp, &[search, with]).await;
    let unique = &by_topic(&out)["unique"];
    assert_eq!(unique.len(), 2, "{unique:?}");
    // EVENT_12 has neither `dialcodes` nor `extra`: the `?` fields stay absent, the plain
    // one is set to null.
    let filters = unique[0]["edata"]["filters"].as_object().expect("filters");
    assert!(!filters.contains_key("dialcodes"), "{filters:?}");
    assert_eq!(filters.get("dialCodes"), Some(&json!("WGHSK")));
    let first = unique[0].as_object().expect("event");
    assert!(!first.contains_key("probe"), "{first:?}");
    assert_eq!(first.get("plain"), Some(&Value::Null));
    // The other has both: set, the DIAL codes upper-cased.
    assert_eq!(
        unique[1]["edata"]["filters"]["dialcodes"],
        json!(["AB1", "CD2"])
    );
    assert_eq!(unique[1]["probe"], json!("x"));
    assert_eq!(unique[1]["plain"], json!("x"));
}
