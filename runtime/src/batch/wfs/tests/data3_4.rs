//! `test-data3.log` (a START app, a nested session, a second START app) and `test-data4.log`
//! (a session break inside a player summary, an ASSESS event).

use serde_json::json;

use super::{NOW, Pin, by_mid, check, kinds, list, run};

/// test-data3: the LOG, AUDIT and SEARCH events of the System actors are dropped; one group
/// (11573c…|User|c68094…, in.sunbird, genie) of six events remains.
/// START app …354310 becomes the root; START Session …354782 finds no session above and nests
/// under it; INTERACT TOUCH …366478 goes to the session (and the root). START app …454310
/// (87.8 s later) finds the root (app, "") open: closes it, children first (session, then
/// app, each emitted twice, kept once) and becomes the new root, which takes the two TOUCHes
/// and is closed at the end.
#[test]
fn data3_summaries() {
    let out = run(3);
    assert_eq!(kinds(&out), [("session", ""), ("app", ""), ("app", "")]);
    // Session: …354782 to …366478, one gap of 11.696 → 11.7, one TOUCH.
    check(
        &out,
        &Pin {
            mid: "59B2E61FB876837F849A7F74ABFDCAFD",
            kind: ("session", ""),
            start: 1_515_402_354_782,
            end: 1_515_402_366_478,
            time_spent: 11.7,
            time_diff: 11.7,
            interact: 1,
            per_min: 1.0,
            events: &[("START", 1), ("INTERACT", 1)],
            pages: Some(&[]),
            envs: Some(&[]),
        },
    );
    // Second app root: …454310 and two TOUCHes 10 s apart: 20 s, 2 interactions.
    check(
        &out,
        &Pin {
            mid: "302C95265B5F81C490D79EC207B11E04",
            kind: ("app", ""),
            start: 1_515_402_454_310,
            end: 1_515_402_474_310,
            time_spent: 20.0,
            time_diff: 20.0,
            interact: 2,
            per_min: 2.0,
            events: &[("START", 1), ("INTERACT", 2)],
            pages: Some(&[]),
            envs: Some(&[]),
        },
    );
}

/// The whole first app summary, every field, as Sunbird's Jackson writes it.
#[test]
fn data3_first_app_event_in_full() {
    let out = run(3);
    // The root START app (ets 1.51540235431E12, a float that Jackson truncates to
    // 1515402354310) got the START Session (0.472 → 0.47) and the TOUCH (11.696 → 11.7):
    // 12.17 s; end − start = 12.168 → 12.17. `syncts` is the `@timestamp` of its last event,
    // the TOUCH: 2018-01-08T09:36:35.668Z = 1515404195668. The START has no object ("NA" in
    // the mid), `context.cdata` [] and no rollup (left out); `tags` [] is copied; the
    // channel is set, so `dimensions.channel` is written; mode is "" (the START has none).
    // mid = MD5("ME_WORKFLOW_SUMMARY|User|c680942f-e48d-434b-9683-fee236b61607|11573c50cae2078e847f12c91a2d1965eaa73714|app||1515402354310|1515402366478|SESSION|NA|genie|in.sunbird").
    let want = json!({
        "eid": "ME_WORKFLOW_SUMMARY",
        "ets": NOW,
        "syncts": 1_515_404_195_668_i64,
        "ver": "1.0",
        "mid": "E3AE955A4261B81B687BDED67CA4FFFF",
        "uid": "c680942f-e48d-434b-9683-fee236b61607",
        "context": {
            "pdata": {"id": "AnalyticsDataPipeline", "ver": "1.0", "model": "WorkflowSummarizer"},
            "granularity": "SESSION",
            "date_range": {"from": 1_515_402_354_310_i64, "to": 1_515_402_366_478_i64},
            "cdata": []
        },
        "dimensions": {
            "uid": "c680942f-e48d-434b-9683-fee236b61607",
            "did": "11573c50cae2078e847f12c91a2d1965eaa73714",
            "pdata": {"id": "genie", "ver": "6.6.localdev-debug", "pid": "genieservice.android"},
            "sid": "830811c2-3c02-4c45-8755-3f15064a88a2",
            "channel": "in.sunbird",
            "type": "app",
            "mode": ""
        },
        "edata": {"eks": {
            "interact_events_per_min": 1.0,
            "start_time": 1_515_402_354_310_i64,
            "interact_events_count": 1,
            "item_responses": [],
            "end_time": 1_515_402_366_478_i64,
            "events_summary": [{"id": "START", "count": 2}, {"id": "INTERACT", "count": 1}],
            "page_summary": [],
            "time_diff": 12.17,
            "telemetry_version": "3.0",
            "env_summary": [],
            "time_spent": 12.17
        }},
        "tags": []
    });
    let got = by_mid(&out, "E3AE955A4261B81B687BDED67CA4FFFF");
    assert_eq!(got, &want);
    // Key order too: the case classes' field order, and `eks` in Scala HashMap order.
    assert_eq!(got.to_string(), want.to_string());
}

/// test-data4: two groups, by app: in.sunbird.test (three events, one default "app"
/// summary) and in.sunbird.dev. In the second, START session opens a synthetic root and the
/// session; START player/preview nests under the session. The INTERACT CLICK at …370223 comes
/// 3000 s after the previous event: session break. The top of the current summary's tree (the
/// root) is closed with its children (player, session, app emitted), then every node of the
/// tree is cleared and left open. The CLICK, ASSESS, INTERACT other and END player/preview go
/// to the cleared player (and its parents); END player/preview closes the player; at the end
/// the current summary (session, the END's target) is closed, then the root.
#[test]
fn data4_summaries() {
    let out = run(4);
    assert_eq!(
        kinds(&out),
        [
            ("player", "preview"),
            ("session", ""),
            ("app", ""),
            ("player", "preview"),
            ("session", ""),
            ("app", ""),
            ("app", ""),
        ]
    );
}

#[test]
fn data4_session_break_and_idle_gaps() {
    let out = run(4);
    // Before the break, the session: START …318247 to the INTERACT click at …370223
    // (51.976 s → 51.98; gaps 3.75 + 6 + 0.77 + 12.23 + 9.6 + 0.25 + 9.38 + 10 = 51.98).
    // Five kinds of event: Scala HashMap order. Pages: three impressions, one page each;
    // com_easysocial.dashboard (…322000): 6 s twice = 12; com_content.featured (…328000):
    // 0.769 + 12.231 twice = 25.231 → 25.23; com_ekcontent.content (…341000, no impression
    // after it): 9.595 + 0.247 + 9.381 + 10 = 29.223 → 29.22.
    check(
        &out,
        &Pin {
            mid: "B2D0190472EC020A1F83F9EEC43BFB5F",
            kind: ("session", ""),
            start: 1_515_493_318_247,
            end: 1_515_493_370_223,
            time_spent: 51.98,
            time_diff: 51.98,
            interact: 2,
            per_min: 2.0,
            events: &[
                ("ERROR", 1),
                ("INTERRUPT", 1),
                ("START", 2),
                ("IMPRESSION", 3),
                ("INTERACT", 2),
            ],
            pages: Some(&[
                ("com_ekcontent.content", "view", 29.22),
                ("com_content.featured", "list", 25.23),
                ("com_easysocial.dashboard", "list", 12.0),
            ]),
            envs: Some(&[("content", 29.22), ("home", 25.23), ("community", 12.0)]),
        },
    );
    // After the break the player starts again at the CLICK (…370223; its 3000 s gap counts 0)
    // and gets the ASSESS (1000 s later: over 600, counts 0), INTERACT other (100) and END
    // (100): 200 s over a time_diff of 1200 s. CLICK counts as an interaction ("click"),
    // "other" does not: 1 in 3.33 min = 0.3 per minute. The session and the root, cleared at
    // the same time, get exactly the same events (added through the player).
    for (mid, kind) in [
        ("48187740CBB1F0B7D04FED9E7F3E6AB6", ("player", "preview")),
        ("E80DEFA235BCB16140C67873133818F9", ("session", "")),
        ("4C956D32C41F412216AC936059D1013E", ("app", "")),
    ] {
        check(
            &out,
            &Pin {
                mid,
                kind,
                start: 1_515_496_370_223,
                end: 1_515_497_570_223,
                time_spent: 200.0,
                time_diff: 1200.0,
                interact: 1,
                per_min: 0.3,
                events: &[("INTERACT", 2), ("ASSESS", 1), ("END", 1)],
                pages: Some(&[]),
                envs: Some(&[]),
            },
        );
    }
}

#[test]
fn data4_item_response() {
    let out = run(4);
    // The ASSESS event (…370223) has duration 25, score 1, pass "Yes", item
    // do_31249422333176217625083 (maxscore 1, title 3ZMSUQQ9, desc "", mc [] and mmc []) and
    // one response value {"<Tamil text>": "true"}: `res` is "key:value", `resValues` the map.
    let key = "\u{b88}\u{bb1}\u{bc1}\u{b95}\u{bc6}\u{b9f}\u{bcd}\u{b9f} \u{b8e}\u{ba4}\u{bbf}\u{bbe}\u{bcd}\u{bae}\u{bb1}\u{bc8}\u{baa}\u{bcd} \u{baa}\u{bc6}\u{baf}\u{bb0}\u{bc6}\u{b9a}\u{bcd}\u{b9a}\u{bae}\u{bcd}, \u{bb5}\u{bbf}\u{ba9}\u{bc8}\u{baf}\u{bc6}\u{b9a}\u{bcd}\u{b9a}\u{bae}\u{bcd}";
    let want = json!([{
        "itemId": "do_31249422333176217625083",
        "timeSpent": 25.0,
        "res": [format!("{key}:true")],
        "resValues": [{key: "true"}],
        "mc": [],
        "mmc": [],
        "score": 1,
        "time_stamp": 1_515_497_370_223_i64,
        "maxScore": 1,
        "pass": "Yes",
        "qtitle": "3ZMSUQQ9",
        "qdesc": ""
    }]);
    for mid in [
        "48187740CBB1F0B7D04FED9E7F3E6AB6",
        "E80DEFA235BCB16140C67873133818F9",
        "4C956D32C41F412216AC936059D1013E",
    ] {
        assert_eq!(
            by_mid(&out, mid)["edata"]["eks"]["item_responses"],
            want,
            "{mid}"
        );
    }
    // Before the break there was no ASSESS.
    let before = by_mid(&out, "B2D0190472EC020A1F83F9EEC43BFB5F");
    assert!(list(&before["edata"]["eks"], "item_responses").is_empty());
}

#[test]
fn data4_default_app_summary_of_another_app() {
    let out = run(4);
    // in.sunbird.test: IMPRESSION …205247 starts a default "app" summary (counted, not
    // added), IMPRESSION …215247 (10 s) and INTERACT click …225247 (10 s): 20 s. The page of
    // the second impression is open for the click's 10 s (one impression follows none, so no
    // doubling). The first event's object is written with all its declared fields, empty
    // strings included, and its pdata with ver "" and pid "".
    check(
        &out,
        &Pin {
            mid: "2865132FDB56C6AAFF78C160906656D0",
            kind: ("app", ""),
            start: 1_515_493_205_247,
            end: 1_515_493_225_247,
            time_spent: 20.0,
            time_diff: 20.0,
            interact: 1,
            per_min: 1.0,
            events: &[("IMPRESSION", 2), ("INTERACT", 1)],
            pages: Some(&[("com_content.featured", "list", 10.0)]),
            envs: Some(&[("home", 10.0)]),
        },
    );
    let v = by_mid(&out, "2865132FDB56C6AAFF78C160906656D0");
    assert_eq!(
        v["object"],
        json!({"id": "", "type": "list", "ver": "", "subtype": "", "parent": {"id": "", "type": ""}})
    );
    assert_eq!(
        v["dimensions"]["pdata"],
        json!({"id": "in.sunbird.test", "ver": "", "pid": ""})
    );
    assert_eq!(v["context"]["cdata"], json!([{"id": "", "type": ""}]));
}
