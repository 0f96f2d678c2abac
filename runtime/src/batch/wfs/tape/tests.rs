//! The tape binding against the tree binding: the same key, order and event for Sunbird's
//! WFS test inputs, and for each of them with its fields changed to values of every kind.

use serde_json::{Value, json};

use super::super::{WfsParams, group_key_with, input};
use super::*;

/// The records of Sunbird's eight WFS test inputs, as trees.
fn fixtures() -> Vec<Value> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../pipelines/igot/tests/fixtures/wfs");
    let mut out = Vec::new();
    for i in 1..=8 {
        let text = std::fs::read(dir.join(format!("test-data{i}.log"))).expect("fixture");
        for line in text.split(|&b| b == b'\n') {
            if let Ok(v) = serde_json::from_slice::<Value>(line) {
                out.push(v);
            }
        }
    }
    out
}

/// Binds `v` both ways (its canonical bytes on the tape, the tree) and requires the same
/// results; gives whether the event bound.
fn agree(v: &Value, params: &WfsParams) -> bool {
    let bytes = serde_json::to_vec(v).expect("serializes");
    let Some(doc) = Doc::new(&bytes) else {
        panic!("not canonical: {}", String::from_utf8_lossy(&bytes))
    };
    let shown = || String::from_utf8_lossy(&bytes).into_owned();
    assert_eq!(
        super::super::group_key_of_doc(&doc, params),
        group_key_with(v, params),
        "key of {}",
        shown()
    );
    let (ets, mid) = order(&doc);
    let tree_order = super::super::order_key(v);
    assert_eq!(
        (ets, mid.as_ref()),
        (tree_order.ets, tree_order.mid),
        "order of {}",
        shown()
    );
    let p = parts(&doc);
    let tape = bind(&doc, &p);
    let tree = input::bind(v);
    assert_eq!(tape, tree, "binding of {}", shown());
    tree.is_some()
}

#[test]
fn sunbirds_inputs_bind_alike() {
    let events = fixtures();
    assert!(events.len() > 100, "{} events", events.len());
    let p = WfsParams::default();
    let bound = events.iter().filter(|v| agree(v, &p)).count();
    assert!(bound > 100, "{bound} bound");
}

/// Values of every kind a field can meet, from Jackson's coercions to its failures.
fn odd_values() -> Vec<Value> {
    [
        "null",
        "true",
        "false",
        "0",
        "-1",
        "21.7",
        "1.51540235431E12",
        "-0",
        "9223372036854775807",
        "9223372036854775808",
        "18446744073709551616",
        "1e400",
        "\"12\"",
        "\" 7 \"",
        "\"x\"",
        "\"null\"",
        "\"\"",
        "\"a\\\"b\\u00e9\\n\"",
        "[]",
        "[1]",
        "[null]",
        "[{\"id\":1}]",
        "[{\"id\":[1]}]",
        "{}",
        "{\"id\":1,\"type\":\"T\"}",
        "{\"id\":{\"x\":1}}",
        "{\"l1\":[1]}",
    ]
    .iter()
    .map(|s| serde_json::from_str(s).expect("a value"))
    .collect()
}

/// Every field the bindings read, as a JSON pointer.
const PATHS: [&str; 33] = [
    "/eid",
    "/ets",
    "/mid",
    "/@timestamp",
    "/ver",
    "/actor",
    "/actor/id",
    "/actor/type",
    "/context",
    "/context/channel",
    "/context/env",
    "/context/sid",
    "/context/did",
    "/context/pdata",
    "/context/pdata/id",
    "/context/pdata/model",
    "/context/cdata",
    "/context/rollup",
    "/context/rollup/l2",
    "/object",
    "/object/id",
    "/object/rollup",
    "/object/parent",
    "/tags",
    "/edata",
    "/edata/type",
    "/edata/mode",
    "/edata/pageid",
    "/edata/duration",
    "/edata/score",
    "/edata/item",
    "/edata/item/maxscore",
    "/edata/resvalues",
];

/// `v` with the field at `pointer` set to `x` (removed when `x` is `None`), its parents made
/// objects where they are not.
fn with(v: &Value, pointer: &str, x: Option<&Value>) -> Value {
    let mut v = v.clone();
    let keys: Vec<&str> = pointer.split('/').skip(1).collect();
    let mut at = &mut v;
    for (i, k) in keys.iter().enumerate() {
        if !at.is_object() {
            *at = json!({});
        }
        let Value::Object(m) = at else { unreachable!() };
        if i + 1 == keys.len() {
            match x {
                Some(x) => {
                    m.insert((*k).to_string(), x.clone());
                }
                None => {
                    m.shift_remove(*k);
                }
            }
            break;
        }
        at = m.entry((*k).to_string()).or_insert_with(|| json!({}));
    }
    v
}

#[test]
fn changed_fields_bind_alike() {
    // A few events of different kinds, ASSESS among them (it has `item` and `resvalues`).
    let events = fixtures();
    let mut picked: Vec<Value> = Vec::new();
    for eid in ["START", "IMPRESSION", "INTERACT", "ASSESS", "END"] {
        if let Some(e) = events.iter().find(|e| e["eid"] == eid) {
            picked.push(e.clone());
        }
    }
    assert!(picked.len() >= 4, "{} kinds of events", picked.len());
    let params = [
        WfsParams::default(),
        WfsParams {
            exclude: vec!["INTERACT".into()],
            ..WfsParams::default()
        },
    ];
    let (mut tried, mut bound, mut unbound) = (0, 0, 0);
    for e in &picked {
        for path in PATHS {
            let mut variants: Vec<Option<Value>> = odd_values().into_iter().map(Some).collect();
            variants.push(None);
            for x in &variants {
                let v = with(e, path, x.as_ref());
                for p in &params {
                    tried += 1;
                    if agree(&v, p) {
                        bound += 1;
                    } else {
                        unbound += 1;
                    }
                }
            }
        }
    }
    // Both outcomes were met many times: the comparison saw bindings and refusals.
    assert!(tried > 4_000, "{tried}");
    assert!(
        bound > 1_000 && unbound > 1_000,
        "{bound} bound, {unbound} not"
    );
}

#[test]
fn only_canonical_records_have_a_tape() {
    assert!(Doc::new(br#"{"eid":"START","ets":1}"#).is_some());
    for other in [
        &br#"{"eid": "START"}"#[..],
        br#"{"eid":"START","eid":"END"}"#,
        br#"{"eid":"\u0041"}"#,
        b"{\"eid\":",
    ] {
        assert!(
            Doc::new(other).is_none(),
            "{}",
            String::from_utf8_lossy(other)
        );
    }
}
