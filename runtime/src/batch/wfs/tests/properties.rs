//! Properties of the model beyond single fixtures: determinism, independence from input order
//! where Sunbird's result is, the grouping key, and what malformed events do.

use serde_json::{Value, json};

use super::super::jvm::{group_by_order, java_hash};
use super::super::{group_key, order_key, summarize, summarize_group};
use super::{fixture, kinds, params, run};

#[test]
fn same_input_twice_gives_the_same_events() {
    for n in 1..=8 {
        let (a, b) = (run(n), run(n));
        assert_eq!(a, b, "test-data{n}");
        let mids: Vec<&Value> = a.iter().map(|v| &v["mid"]).collect();
        assert!(!mids.is_empty(), "test-data{n}");
    }
}

#[test]
fn input_order_does_not_change_the_output() {
    // No group of the fixtures has two events with the same `ets`, so Sunbird's result does
    // not depend on the order the events arrive in, and neither may ours.
    for n in 1..=8 {
        let events = fixture(n);
        let want = summarize(events.clone(), &params());
        let mut reversed = events.clone();
        reversed.reverse();
        assert_eq!(
            summarize(reversed, &params()),
            want,
            "test-data{n} reversed"
        );
        // A fixed shuffle (a linear congruential sequence).
        let mut shuffled = events;
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        for i in (1..shuffled.len()).rev() {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            shuffled.swap(i, (state >> 33) as usize % (i + 1));
        }
        assert_eq!(
            summarize(shuffled, &params()),
            want,
            "test-data{n} shuffled"
        );
    }
}

#[test]
fn equal_ets_are_ordered_by_mid() {
    // A START and a TOUCH with the same `ets`. Sunbird's stable sort keeps them in arrival
    // order, which changes the result: START first nests the TOUCH in the content summary;
    // TOUCH first opens a default "app" summary that the START then nests under.
    let start = json!({"eid": "START", "ets": 1000, "mid": "b", "actor": {"id": "u", "type": "User"},
        "context": {"did": "d", "channel": "c"}, "edata": {"type": "content", "mode": "play"}});
    let touch = json!({"eid": "INTERACT", "ets": 1000, "mid": "a", "actor": {"id": "u", "type": "User"},
        "context": {"did": "d", "channel": "c"}, "edata": {"type": "TOUCH"}});
    let p = params();
    let start_first = summarize_group(&[start.clone(), touch.clone()], &p);
    let touch_first = summarize_group(&[touch.clone(), start.clone()], &p);
    assert_ne!(start_first, touch_first);
    assert_eq!(kinds(&start_first), [("content", "play"), ("app", "")]);
    assert_eq!(kinds(&touch_first), [("content", "play"), ("app", "")]);
    assert_eq!(start_first[0]["edata"]["eks"]["interact_events_count"], 1);
    assert_eq!(touch_first[0]["edata"]["eks"]["interact_events_count"], 0);
    // `order_key` breaks the tie by `mid` ("a" < "b"), whatever the arrival order.
    assert!(order_key(&touch) < order_key(&start));
    assert_eq!(summarize([start.clone(), touch.clone()], &p), touch_first);
    assert_eq!(summarize([touch, start], &p), touch_first);
}

#[test]
fn grouping_key_is_sunbirds_workflow_index() {
    let e = json!({"eid": "IMPRESSION", "actor": {"id": "u1", "type": "User"},
        "context": {"did": "d1", "channel": "ch", "pdata": {"id": "app1"}}});
    let Some(k) = group_key(&e) else {
        panic!("keyed")
    };
    assert_eq!(
        (k.device_actor(), k.channel(), k.app_id()),
        ("d1|User|u1", Some("ch"), Some("app1"))
    );
    // No actor, no did: empty parts. No pdata: the default app. No channel: null, which is a
    // different key from "".
    let bare = json!({"eid": "INTERACT", "context": {}});
    let Some(k) = group_key(&bare) else {
        panic!("keyed")
    };
    assert_eq!(
        (k.device_actor(), k.channel(), k.app_id()),
        ("||", None, Some("genie"))
    );
    let empty_channel = json!({"eid": "INTERACT", "context": {"channel": ""}});
    assert_ne!(group_key(&empty_channel), Some(k.clone()));
    // A pdata without an id is a null app, not the default.
    let no_app_id = json!({"eid": "INTERACT", "context": {"pdata": {"ver": "1"}}});
    assert_eq!(
        group_key(&no_app_id).and_then(|k| k.app_id().map(str::to_owned)),
        None
    );
    // Not summarized: server events, no eid, no context, fields that do not bind.
    for e in [
        json!({"eid": "LOG", "context": {}}),
        json!({"eid": "AUDIT", "context": {}}),
        json!({"eid": "SEARCH", "context": {}}),
        json!({"context": {}}),
        json!({"eid": "START"}),
        json!({"eid": "START", "context": {"did": ["x"]}}),
        json!({"eid": "START", "context": {}, "actor": "me"}),
        json!("START"),
    ] {
        assert!(group_key(&e).is_none(), "{e}");
    }
    // The eid test is exact: "log" is summarized.
    assert!(group_key(&json!({"eid": "log", "context": {}})).is_some());
}

#[test]
fn malformed_events_do_not_panic() {
    let p = params();
    let event = |did: &str, eid: &str, ets: Value, edata: Value| {
        json!({"eid": eid, "ets": ets, "actor": {"id": "u", "type": "User"},
            "context": {"did": did, "channel": "c"}, "edata": edata})
    };
    let events = vec![
        event(
            "d",
            "START",
            json!(1_000),
            json!({"type": "player", "mode": "play"}),
        ),
        // INTERACT without a type, ASSESS without an item, a null response map, no edata at
        // all: Sunbird's run would throw on each; here they are events with nothing more.
        event("d", "INTERACT", json!(2_000), json!({})),
        event(
            "d",
            "ASSESS",
            json!(3_000),
            json!({"resvalues": [null, {"1": null}]}),
        ),
        json!({"eid": "IMPRESSION", "ets": 4_000, "context": {"did": "d", "channel": "c"},
            "actor": {"id": "u", "type": "User"}}),
        event(
            "d",
            "ASSESS",
            json!(5_000),
            json!({"item": {"id": "q", "maxscore": 2.5},
            "resvalues": [{"a": [1, {"b": 2.0}]}]}),
        ),
        // Does not bind: dropped.
        event(
            "d",
            "INTERACT",
            json!(6_000),
            json!({"type": {"nested": true}}),
        ),
        event("d", "INTERACT", json!("later"), json!({"type": "TOUCH"})),
        event(
            "d",
            "END",
            json!(7_000),
            json!({"type": "player", "mode": "play"}),
        ),
        // Extreme times in another group: differences wrap as Java's longs do, and a negative
        // time spent leaves a summary unreported (Sunbird's `timeSpent >= 0`).
        event("x", "START", json!(i64::MIN), json!({"type": null})),
        event("x", "INTERACT", json!(0), json!({"type": "TOUCH"})),
        event("x", "END", json!(i64::MAX), json!({"type": "app"})),
        event("x", "INTERACT", json!(1e300), json!({"type": "TOUCH"})),
    ];
    let out = summarize(events, &p);
    let player = out
        .iter()
        .find(|v| v["dimensions"]["type"] == "player")
        .unwrap_or_else(|| panic!("a player summary in {out:?}"));
    let eks = &player["edata"]["eks"];
    assert_eq!(eks["end_time"], 7_000);
    assert_eq!(eks["interact_events_count"], 0);
    // Five kinds: Scala HashMap order.
    assert_eq!(
        eks["events_summary"],
        json!([{"id": "START", "count": 1}, {"id": "IMPRESSION", "count": 1},
            {"id": "INTERACT", "count": 1}, {"id": "END", "count": 1}, {"id": "ASSESS", "count": 2}])
    );
    // Only the ASSESS with an item records a response; its nested value prints as Java would,
    // and the float maxscore truncates.
    let items = &eks["item_responses"];
    assert_eq!(items.as_array().map(Vec::len), Some(1));
    assert_eq!(items[0]["res"], json!(["a:[1, {b=2.0}]"]));
    assert_eq!(items[0]["maxScore"], 2);
    // Nothing at all, and groups whose events all fail to bind, give nothing.
    assert!(summarize(Vec::new(), &p).is_empty());
    assert!(summarize_group(&[json!({"eid": "START", "ets": [1], "context": {}})], &p).is_empty());
    assert!(summarize_group(&[json!({"eid": "LOG", "ets": 1, "context": {}})], &p).is_empty());
}

#[test]
fn a_deep_chain_of_starts() {
    // Each START of a new type nests under the previous one. Sunbird recurses down such a
    // chain (and copies each child's list of events into its parent's); here the walks are
    // loops and the lists are shared, so depth costs neither stack nor quadratic memory. (Time
    // stays quadratic, as in Sunbird: every event is added to every ancestor.)
    let depth: i64 = 2_000;
    let events: Vec<Value> = (0..depth)
        .map(|i| {
            json!({"eid": "START", "ets": 1_000 + i, "mid": format!("{i:05}"), "context": {"did": "d"},
                "edata": {"type": format!("t{i}")}})
        })
        .collect();
    let out = summarize(events, &params());
    // Closed at the end, deepest first: t1999 … t0, then the synthetic root.
    assert_eq!(out.len() as i64, depth + 1);
    assert_eq!(out[0]["dimensions"]["type"], "t1999");
    assert_eq!(out[1999]["dimensions"]["type"], "t0");
    assert_eq!(out[2000]["dimensions"]["type"], "app");
    assert_eq!(
        out[2000]["edata"]["eks"]["events_summary"],
        json!([{"id": "START", "count": 2001}])
    );
}

#[test]
fn page_order_matches_sunbirds_sample() {
    // Sunbird's own ME_WORKFLOW_SUMMARY sample (druid-events-validator tests) has twelve pages;
    // `groupBy` order for twelve keys is the hash-trie order, whatever order they come in.
    let sample: Value = serde_json::from_str(include_str!(
        "../../../../../pipelines/igot/tests/fixtures/druid-events-validator/VALID_DENORM_SUMMARY_EVENT.json"
    ))
    .unwrap_or_else(|e| panic!("sample: {e}"));
    let written: Vec<&str> = sample["edata"]["eks"]["page_summary"]
        .as_array()
        .map(|pages| pages.iter().filter_map(|p| p["id"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(written.len(), 12);
    for rotation in [0, 5, 11] {
        let mut seen = written.clone();
        seen.rotate_left(rotation);
        seen.reverse();
        let hashes: Vec<i32> = seen.iter().map(|id| java_hash(Some(id))).collect();
        let ordered: Vec<&str> = group_by_order(&hashes).iter().map(|&i| seen[i]).collect();
        assert_eq!(ordered, written);
    }
}
