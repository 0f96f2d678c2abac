//! Events kept as bytes give, byte for byte, the records the tree path gives.

use serde_json::{Value, json};

use super::tests::{extractor_with_content_cache, fixture, igot_manifest, job, run};
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
    // No `events`: an empty batch (igot's `missing: empty`); with its sync time, so that
    // its audit event's times do not come from the clock.
    out.push(b"{\"id\":1,\"syncts\":1700000000000}".to_vec());
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
    assert!(fast.keep_raw, "{name}");
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
    // The druid validator's input is the denormalized events: the unique ones stand in.
    let unique: Vec<Vec<u8>> = fast
        .records
        .iter()
        .filter(|(t, _)| &**t == "unique")
        .map(|(_, b)| b.clone())
        .collect();
    let (dv_fast, dv_slow) = both("druid-validator", &unique).await;
    same(&dv_fast, &dv_slow);
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
        String::from_utf8_lossy(&out.records[2].1).contains("\"events_count\":2"),
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
async fn enrich_steps_give_the_same_bytes_either_way() {
    // The CB preprocessor: dedup, enrich with a flag, set, explode, emit.
    let work_orders: Vec<Vec<u8>> = [
        "WO_EVENT.json",
        "WO_EVENT_NO_USERS.json",
        "WO_EVENT_USERS_NULL.json",
    ]
    .iter()
    .map(|f| fixture("cb-preprocessor", f))
    .collect();
    let (fast, slow) = both("cb-preprocessor", &work_orders).await;
    same(&fast, &slow);
    assert!(fast.records.len() > 3, "{}", fast.records.len());
    // The extractor's redaction: lookups that find a question, rules that set on copies,
    // and its own `$` fields removed from what it writes.
    let m = igot_manifest();
    let (fast, _a) = extractor_with_content_cache(&m).await;
    let (mut slow, _b) = extractor_with_content_cache(&m).await;
    assert!(fast.keep_raw);
    slow.keep_raw = false;
    let batch = [fixture(
        "telemetry-extractor",
        "EVENT_WITHOUT_MESSAGE_ID.json",
    )];
    let (fast, slow) = (run(&fast, &batch).await, run(&slow, &batch).await);
    same(&fast, &slow);
    let copies = fast.records.iter().filter(|(t, _)| &**t == "assess-raw");
    assert_eq!(copies.count(), 2);
}

#[tokio::test]
async fn bytes_are_kept_only_where_a_step_uses_them() {
    let m = igot_manifest();
    for (name, kept) in [
        ("ingest-router", true),
        ("telemetry-extractor", true),
        ("pipeline-preprocessor", true),
        ("druid-validator", true),
        ("summary-denormalization", true),
        // Its dedup, enrich, set and explode take bytes, and it ends with an emit.
        ("cb-preprocessor", true),
    ] {
        assert_eq!(job(&m, name).await.keep_raw, kept, "{name}");
    }
}

/// Events of every kind the preprocessor meets, each changed in one way: its output must
/// not depend on whether the event is kept as bytes.
fn preprocessor_events() -> Vec<Vec<u8>> {
    let mut g = Generator::new(GenOptions {
        events_per_batch: 1,
        duplicate_rate: 0.1,
        invalid_rate: 0.05,
        seed: 11,
    });
    let deep = |n: usize| {
        let mut v = json!(1);
        for _ in 0..n {
            v = json!({ "d": v });
        }
        v
    };
    type Change = Box<dyn Fn(&mut Value)>;
    let path_set = |p: &'static str, v: Value| -> Change {
        Box::new(move |e: &mut Value| {
            let mut cur = e;
            let parts: Vec<&str> = p.split('.').collect();
            for (i, k) in parts.iter().enumerate() {
                if !cur.is_object() {
                    return;
                }
                if i + 1 == parts.len() {
                    cur[*k] = v.clone();
                    return;
                }
                cur = &mut cur[*k];
            }
        })
    };
    let remove = |p: &'static str| -> Change {
        Box::new(move |e: &mut Value| {
            let (parent, last) = match p.rsplit_once('.') {
                Some((a, b)) => (e.pointer_mut(&format!("/{}", a.replace('.', "/"))), b),
                None => (Some(e), p),
            };
            if let Some(o) = parent.and_then(Value::as_object_mut) {
                o.shift_remove(last);
            }
        })
    };
    let changes: Vec<Change> = vec![
        Box::new(|_| {}),
        remove("context.channel"),
        path_set("context.channel", json!(null)),
        path_set("context.channel", json!(5)),
        remove("syncts"),
        path_set("syncts", json!(null)),
        remove("@timestamp"),
        path_set("@timestamp", json!(null)),
        Box::new(|e| {
            if let Some(o) = e.as_object_mut() {
                o.shift_remove("syncts");
                o.shift_remove("@timestamp");
            }
        }),
        path_set("flags", json!("x")),
        path_set("flags", json!({"a": 1})),
        path_set(
            "flags",
            json!({"pp_validation_processed": "old", "pp_duplicate": 1}),
        ),
        path_set("flags", json!([1])),
        path_set("flags", json!(null)),
        path_set(
            "edata.message",
            json!("é \"q\" \\ \n \u{1} 😀 </> \u{2028}"),
        ),
        path_set("k\"ey", json!("v")),
        path_set("é", json!("ü")),
        path_set("ets", json!(1.0)),
        path_set("ets", json!(1.5e300)),
        path_set("ets", json!(-0.0)),
        path_set("ets", json!(u64::MAX)),
        path_set("ets", json!(i64::MIN)),
        path_set("ets", json!(-5)),
        path_set("ets", json!("1")),
        path_set("edata.extra", deep(50)),
        path_set("edata.extra", deep(120)),
        path_set("edata.size", json!(1.0)),
        path_set("edata.size", json!(-3)),
        remove("mid"),
        path_set("mid", json!("")),
        path_set("mid", json!(7)),
        path_set("ver", json!("2.0")),
        path_set("ver", json!(3.0)),
        path_set("eid", json!("NOPE")),
        path_set("eid", json!(5)),
        path_set("eid", json!("LOG")),
        path_set("eid", json!("SHARE")),
        path_set("eid", json!("S\u{48}ARE")),
        remove("eid"),
        remove("actor"),
        path_set("actor", json!("x")),
        remove("context"),
        path_set("context", json!([])),
        path_set("context.pdata.id", json!(1)),
        path_set("context.pdata.id", json!("{env}.sunbird.portal")),
        path_set("edata.unknown_field", json!(1)),
        path_set("edata", json!({})),
        path_set("edata", json!(null)),
        path_set("tags", json!(["a", 1])),
        path_set("tags", json!(["a", "b"])),
        path_set("object", json!({"id": "o", "type": "t", "ver": "1"})),
        path_set(
            "edata.items",
            json!([{"id": "i1", "type": "t", "ver": "1", "params": [{"transfers": "2"}]}, {"id": "i2"}]),
        ),
        path_set("edata.items", json!("notalist")),
        // SHAREs: an event with a member named as the item, items of every kind, no mid.
        Box::new(|e| {
            e["eid"] = json!("SHARE");
            e["item"] = json!({"id": "shadowed"});
            e["edata"]["items"] = json!([{"id": "a", "params": [{"transfers": 0}]}, {"id": "b"}]);
        }),
        Box::new(|e| {
            e["eid"] = json!("SHARE");
            e["edata"]["items"] = json!([1, null, "x", [], {"id": 5, "params": "p"}]);
        }),
        Box::new(|e| {
            e["eid"] = json!("SHARE");
            e["edata"]["items"] =
                json!([{"id": "a", "type": "t", "ver": "1", "params": [{"transfers": "x"}]}]);
        }),
        Box::new(|e| {
            e["eid"] = json!("SHARE");
            if let Some(o) = e.as_object_mut() {
                o.shift_remove("mid");
            }
            e["edata"]["items"] = json!([{"id": "a"}]);
        }),
        Box::new(|e| {
            e["eid"] = json!("SHARE");
            e["edata"]["items"] = json!([{"id": "a"}, {"id": {"x": [1]}}]);
        }),
        Box::new(|e| {
            if let Some(o) = e.as_object_mut() {
                o.shift_remove("syncts");
                o.shift_remove("@timestamp");
            }
            e["ets"] = json!(1e300);
        }),
        Box::new(|e| {
            e["eid"] = json!("SHARE");
            e["object"] = json!("o");
            e["edata"]["items"] = json!([{"id": "a"}, {"id": "é\"\u{1}"}]);
        }),
    ];
    let mut out = Vec::new();
    for round in 0..3 {
        for (c, change) in changes.iter().enumerate() {
            let (mut e, _) = g.event();
            e["syncts"] = json!(1_700_000_000_000_u64 + c as u64);
            e["@timestamp"] = json!("2023-11-14T22:13:20.000Z");
            change(&mut e);
            let mut bytes = serde_json::to_vec(&e).unwrap_or_default();
            match (round, c % 4) {
                // Whitespace: read as a tree.
                (1, 0) => bytes = serde_json::to_vec_pretty(&e).unwrap_or_default(),
                // A repeated key: read as a tree (the last one wins).
                (1, 1) if bytes.first() == Some(&b'{') => {
                    bytes.splice(1..1, br#""eid":"X","#.iter().copied());
                }
                // Numbers as serde_json would not write them.
                (2, 0) => {
                    let t = String::from_utf8_lossy(&bytes).replacen(
                        "\"ets\":",
                        "\"ets\":1e5,\"x\":",
                        1,
                    );
                    bytes = t.into_bytes();
                }
                (2, 1) => {
                    let t = String::from_utf8_lossy(&bytes).replacen(
                        "\"ets\":",
                        "\"ets\":-0,\"x\":",
                        1,
                    );
                    bytes = t.into_bytes();
                }
                _ => {}
            }
            out.push(bytes);
        }
    }
    for other in [
        &b"[1]"[..],
        b"\"x\"",
        b"1",
        b"null",
        b"{}",
        b"not json",
        b"{\"eid\":\"LOG\"}",
    ] {
        out.push(other.to_vec());
    }
    // Repeated events: the mid dedup finds them.
    let again: Vec<Vec<u8>> = out.iter().take(20).cloned().collect();
    out.extend(again);
    out
}

#[tokio::test]
async fn preprocessor_edge_cases_give_the_same_bytes_either_way() {
    let input = preprocessor_events();
    let (fast, slow) = both("pipeline-preprocessor", &input).await;
    same(&fast, &slow);
    let (dv_fast, dv_slow) = both("druid-validator", &input).await;
    same(&dv_fast, &dv_slow);
    let topics: std::collections::BTreeSet<&str> = fast.records.iter().map(|(t, _)| &**t).collect();
    for t in ["failed", "unique", "druid-events-log", "duplicate"] {
        assert!(topics.contains(t), "{t}: {topics:?}");
    }
    let texts: Vec<String> = fast
        .records
        .iter()
        .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
        .collect();
    for want in [
        r#""item":{"id":"shadowed"}"#,
        r#""eid":"SHARE_ITEM""#,
        "processing_error",
    ] {
        assert!(texts.iter().any(|t| t.contains(want)), "{want}");
    }
}

/// The telemetry schemas compile for events kept as bytes, and what their check finds
/// sure is what jsonschema finds.
#[test]
fn fast_schemas_agree_with_jsonschema() {
    let m = igot_manifest();
    let mut schemas = match crate::event::schema::Schemas::new(&m) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    let mut by_type = Vec::new();
    for (t, def) in &m.event_types {
        let Some(id) = &def.schema else { continue };
        let full = match schemas.get(id) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        };
        by_type.push((t.clone(), schemas.fast(id), full));
    }
    for t in [
        "INTERACT",
        "IMPRESSION",
        "LOG",
        "START",
        "END",
        "AUDIT",
        "SEARCH",
        "SHARE",
        "ERROR",
    ] {
        assert!(
            by_type.iter().any(|(n, f, _)| n == t && f.is_some()),
            "{t} does not compile"
        );
    }
    let mut events = preprocessor_events();
    let mut g = Generator::new(GenOptions {
        events_per_batch: 1,
        duplicate_rate: 0.0,
        invalid_rate: 0.1,
        seed: 3,
    });
    for _ in 0..2000 {
        events.push(serde_json::to_vec(&g.event().0).unwrap_or_default());
    }
    let (mut sure, mut all) = (0, 0);
    for e in &events {
        let Some(doc) = super::doc::Doc::read(e) else {
            continue;
        };
        let Ok(value) = serde_json::from_slice::<Value>(e) else {
            continue;
        };
        for (t, fast, full) in &by_type {
            let Some(fast) = fast else { continue };
            if value.get("eid").and_then(Value::as_str) != Some(t.as_str()) && t != "INTERACT" {
                continue;
            }
            all += 1;
            match fast.check(doc.tape(), e, 0) {
                crate::event::schema::Verdict::Valid => {
                    sure += 1;
                    assert!(full.is_valid(&value), "{t}: {}", String::from_utf8_lossy(e));
                }
                crate::event::schema::Verdict::Invalid => {
                    sure += 1;
                    assert!(
                        !full.is_valid(&value),
                        "{t}: {}",
                        String::from_utf8_lossy(e)
                    );
                }
                crate::event::schema::Verdict::Unsure => {}
            }
        }
    }
    assert!(sure * 10 > all * 9, "{sure} of {all}");
}

/// Objects checked against the merged checks of a schema and its `allOf` branches give
/// the verdict of checking branch by branch, on events of every type with members
/// removed, added and of other types.
#[test]
fn merged_object_checks_agree_with_branch_by_branch() {
    let m = igot_manifest();
    let mut schemas = match crate::event::schema::Schemas::new(&m) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    let mut fast = Vec::new();
    for def in m.event_types.values() {
        let Some(id) = &def.schema else { continue };
        let full = match schemas.get(id) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        };
        if let Some(f) = schemas.fast(id) {
            let plain = f.unflattened();
            fast.push((f, plain, full));
        }
    }
    let mut g = Generator::new(GenOptions {
        events_per_batch: 1,
        duplicate_rate: 0.0,
        invalid_rate: 0.1,
        seed: 5,
    });
    let mut variants: Vec<Value> = Vec::new();
    for _ in 0..300 {
        let ev = g.event().0;
        variants.push(ev.clone());
        for outer in ["", "context", "actor", "edata", "object", "context.pdata"] {
            let at = |v: &mut Value| -> Option<serde_json::Map<String, Value>> {
                let mut cur = v;
                for k in outer.split('.').filter(|k| !k.is_empty()) {
                    cur = cur.get_mut(k)?;
                }
                cur.as_object().cloned()
            };
            let mut base = ev.clone();
            let Some(obj) = at(&mut base) else { continue };
            let put = |o: serde_json::Map<String, Value>| {
                let mut v = ev.clone();
                let mut cur = &mut v;
                for k in outer.split('.').filter(|k| !k.is_empty()) {
                    cur = &mut cur[k];
                }
                *cur = Value::Object(o);
                v
            };
            for k in obj.keys() {
                let mut o = obj.clone();
                o.shift_remove(k);
                variants.push(put(o));
                for other in [
                    json!(1),
                    json!("x"),
                    json!(null),
                    json!({}),
                    json!([]),
                    json!(1.5),
                ] {
                    let mut o = obj.clone();
                    o.insert(k.clone(), other);
                    variants.push(put(o));
                }
            }
            let mut o = obj.clone();
            o.insert("zz".into(), json!(1));
            variants.push(put(o));
        }
    }
    let mut verdicts = [0_usize; 3];
    for v in &variants {
        let bytes = serde_json::to_vec(v).unwrap_or_default();
        let Some(doc) = super::doc::Doc::read(&bytes) else {
            continue;
        };
        for (f, plain, full) in &fast {
            let merged = f.check(doc.tape(), &bytes, 0);
            assert_eq!(
                merged,
                plain.check(doc.tape(), &bytes, 0),
                "{}",
                String::from_utf8_lossy(&bytes)
            );
            match merged {
                crate::event::schema::Verdict::Valid => {
                    verdicts[0] += 1;
                    assert!(full.is_valid(v), "{v}");
                }
                crate::event::schema::Verdict::Invalid => {
                    verdicts[1] += 1;
                    assert!(!full.is_valid(v), "{v}");
                }
                crate::event::schema::Verdict::Unsure => verdicts[2] += 1,
            }
        }
    }
    assert!(verdicts[0] > 1000 && verdicts[1] > 1000, "{verdicts:?}");
}

/// An event with fields set on its doc: every way of reading it gives them.
#[test]
fn an_edited_event_reads_the_same_every_way() {
    let bytes = br#"{"eid":"X","flags":{"a":1},"events":[{"b":2}]}"#.to_vec();
    let input: Vec<&[u8]> = vec![bytes.as_slice()];
    let fresh = || super::Ev {
        value: Value::Null,
        raw: Some(super::Raw::Record),
        shape: None,
        doc: super::doc::Doc::read(&bytes).map(Box::new),
        input: 0,
        sub: 0,
    };
    let path = |p: &str| match super::fields::path(p) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    };
    let flags = crate::steps::set::FlagSet::new(vec![
        (path("flags.b"), json!(true)),
        (path("x.y"), json!("é")),
    ]);
    let want = r#"{"eid":"X","flags":{"a":1,"b":true},"events":[{"b":2}],"x":{"y":"é"}}"#;
    let mut ev = fresh();
    if let Err(e) = flags.apply_ev(&mut ev, &input) {
        panic!("{e}");
    }
    assert!(ev.raw_bytes(&input).is_none());
    assert_eq!(ev.to_bytes(&input).ok().as_deref(), Some(want.as_bytes()));
    ev.flush(&input);
    assert_eq!(ev.raw_bytes(&input), Some(want.as_bytes()));
    let mut tree = fresh();
    if let Err(e) = flags.apply_ev(&mut tree, &input) {
        panic!("{e}");
    }
    if let Err(e) = tree.materialize(&input) {
        panic!("{e}");
    }
    assert_eq!(
        serde_json::to_string(&tree.value).ok().as_deref(),
        Some(want)
    );
    let mut settled = fresh();
    if let Err(e) = flags.apply_ev(&mut settled, &input) {
        panic!("{e}");
    }
    settled.settle(&input);
    assert!(settled.doc.is_none());
    assert_eq!(settled.bytes_read(&input), Some(want.as_bytes()));
}
