//! `test-data5.log` (three visits to the app in a day, a session break that leaves cleared
//! summaries behind) and `test-data6.log` (ENDs without STARTs, repeated START TextBookUnit).

use super::{Pin, by_mid, check, kinds, list, run, str_at};

/// test-data5: one group of User a72482… (the System and service actors have only LOG and
/// SEARCH events). 24 summaries:
/// - INTERACTs open a default "app" root at …379362; the END content/play at …379460 finds no
///   content open and is ignored; a START content/play … END content/play pair follows, then
///   START TextBookUnit > Resource with two more content/play pairs inside; START app (18.7 h
///   later; an "app" event breaks no session) closes the root and its open children
///   (resource, textbookunit, app);
/// - the new app root is closed by END app (…488516);
/// - an INTERRUPT at …488945, with nothing open, opens a default "app" summary that the next
///   START app closes before anything is added to it (end 0, time 0: kept by sunbird-cb);
/// - START app …647965, TextBook > TextBookUnit (three times, each closing the one before) >
///   Resource > content (twice); the INTERRUPT resume at …406147 comes 3384.9 s after the
///   previous event: session break. The tree is closed and emitted (resource, textbookunit,
///   textbook, app), then cleared; the last three INTERRUPTs go to the cleared resource node
///   and its ancestors. At the end the resource node is current and open: closed, then the
///   root with every open child, depth first, including the cleared nodes nothing was added
///   to (start 0, end 0).
#[test]
fn data5_summaries() {
    let out = run(5);
    assert_eq!(
        kinds(&out),
        [
            ("content", "play"),
            ("content", "play"),
            ("content", "play"),
            ("resource", "play"),
            ("textbookunit", "play"),
            ("app", ""),
            ("app", ""),
            ("app", ""),
            ("textbookunit", "play"),
            ("textbookunit", "play"),
            ("content", "play"),
            ("content", "play"),
            ("resource", "play"),
            ("textbookunit", "play"),
            ("textbook", "play"),
            ("app", ""),
            ("content", "play"),
            ("content", "play"),
            ("resource", "play"),
            ("textbookunit", "play"),
            ("textbookunit", "play"),
            ("textbookunit", "play"),
            ("textbook", "play"),
            ("app", ""),
        ]
    );
}

#[test]
fn data5_end_app_closes_the_root() {
    let out = run(5);
    // START app …467970 to END app …488516: gaps 0.981 → 0.98, 3.589 → 3.59, 0.107 → 0.11,
    // 0.179 → 0.18, 0.014 → 0.01, 0.249 → 0.25, 15.427 → 15.43: 20.55 (end − start 20.546).
    // One TOUCH (the other INTERACT is OTHER). splash (…468951): 3.589 + 0.107 + 0.179 twice
    // = 4.054 → 4.05; library (…472826): 0.014 + 0.249 + 15.427 = 15.69.
    check(
        &out,
        &Pin {
            mid: "F4F168A1FE95BB94BADDD425C97E7A8F",
            kind: ("app", ""),
            start: 1_536_642_467_970,
            end: 1_536_642_488_516,
            time_spent: 20.55,
            time_diff: 20.55,
            interact: 1,
            per_min: 1.0,
            events: &[
                ("INTERRUPT", 2),
                ("START", 1),
                ("IMPRESSION", 2),
                ("INTERACT", 2),
                ("END", 1),
            ],
            pages: Some(&[("library", "view", 15.69), ("splash", "view", 4.05)]),
            envs: Some(&[("home", 19.74)]),
        },
    );
}

#[test]
fn data5_summary_closed_before_anything_was_added() {
    let out = run(5);
    // The default "app" summary of the INTERRUPT at …488945: closed by the START app at
    // …647965 with its end still 0. No object: "NA" in the mid,
    // MD5("ME_WORKFLOW_SUMMARY|User|a72482ab-320b-43dc-9821-5e6d1c9bf44a|1b21a2906e7de0dd66235e7cf9373adb4aaaa104|app||1536642488945|0|SESSION|NA|prod.sunbird.app|01235953109336064029450").
    check(
        &out,
        &Pin {
            mid: "D1C685F745544919BDE7E4982289D3CB",
            kind: ("app", ""),
            start: 1_536_642_488_945,
            end: 0,
            time_spent: 0.0,
            time_diff: 0.0,
            interact: 0,
            per_min: 0.0,
            events: &[("INTERRUPT", 1)],
            pages: Some(&[]),
            envs: Some(&[]),
        },
    );
    assert!(
        by_mid(&out, "D1C685F745544919BDE7E4982289D3CB")
            .get("object")
            .is_none()
    );
}

#[test]
fn data5_third_visit_root() {
    let out = run(5);
    // START app …647965 to the INTERRUPT at …021231, the last event before the break: 373.266
    // s → 373.27, rounded gaps 373.3 (no gap over 600 s before the break). 11 interactions
    // (12 INTERACTs, one OTHER): 11 / 6.2217 min = 1.768 → 1.77. Seven impressions of four
    // pages (splash, library, collection-detail ×4, content-detail): past four impressions
    // which visit survives is arbitrary in Sunbird, so only the page ids and the one env are
    // pinned.
    check(
        &out,
        &Pin {
            mid: "38501F2C5B84EC2466CE2E4BE3454AD4",
            kind: ("app", ""),
            start: 1_536_645_647_965,
            end: 1_536_646_021_231,
            time_spent: 373.3,
            time_diff: 373.27,
            interact: 11,
            per_min: 1.77,
            events: &[
                ("INTERRUPT", 6),
                ("START", 8),
                ("IMPRESSION", 7),
                ("INTERACT", 12),
                ("END", 2),
            ],
            pages: None,
            envs: None,
        },
    );
    let eks = &by_mid(&out, "38501F2C5B84EC2466CE2E4BE3454AD4")["edata"]["eks"];
    let ids: Vec<&str> = list(eks, "page_summary")
        .iter()
        .map(|p| str_at(p, "/id"))
        .collect();
    assert_eq!(
        ids,
        ["collection-detail", "content-detail", "library", "splash"]
    );
    assert_eq!(list(eks, "env_summary").len(), 1);
}

#[test]
fn data5_after_the_break() {
    let out = run(5);
    // The resource node after the break: INTERRUPT resume …406147 (restarts it; its 3384.9 s
    // gap counts 0), background …484393 (78.246 → 78.25), resume …672514 (188.121 → 188.12):
    // 266.37. Its ancestors get the same three events and the same values.
    for (mid, kind) in [
        ("33903054AA37572B04DE355DA49E39FA", "resource"),
        ("7DF56106A9141962A25FDEF825893935", "textbookunit"),
        ("A2E38C4B9B7540A845E695BE55EED91E", "textbook"),
        ("22916E8A967F7B80D8F8FF6E841D34B5", "app"),
    ] {
        let mode = if kind == "app" { "" } else { "play" };
        check(
            &out,
            &Pin {
                mid,
                kind: (kind, mode),
                start: 1_536_649_406_147,
                end: 1_536_649_672_514,
                time_spent: 266.37,
                time_diff: 266.37,
                interact: 0,
                per_min: 0.0,
                events: &[("INTERRUPT", 3)],
                pages: Some(&[]),
                envs: Some(&[]),
            },
        );
    }
    // The two content/play nodes were cleared and got nothing after the break: same type,
    // mode, start 0, end 0 and object, so the same mid
    // MD5("ME_WORKFLOW_SUMMARY|User|a72482ab-320b-43dc-9821-5e6d1c9bf44a|1b21a2906e7de0dd66235e7cf9373adb4aaaa104|content|play|0|0|SESSION|do_31251555226652672026828|prod.sunbird.app|01235953109336064029450");
    // their `syncts` (the `@timestamp` of each one's own first event, since the clear
    // forgot their last events) differ, so `distinct` keeps both: two events, one mid.
    let twins: Vec<_> = out
        .iter()
        .filter(|v| v["mid"] == "CB3169B495281F3447144DE0C2D9B29F")
        .collect();
    assert_eq!(twins.len(), 2);
    assert_eq!(twins[0]["syncts"], 1_536_645_700_197_i64);
    assert_eq!(twins[1]["syncts"], 1_536_645_820_477_i64);
    assert_eq!(
        twins[0]["edata"]["eks"]["events_summary"],
        serde_json::json!([])
    );
}

/// test-data6: one group of User ce0866…. The three ENDs before any START are ignored. START
/// TextBookUnit …472800 opens a synthetic root; END TextBookUnit closes the textbookunit; END
/// TextBook finds no textbook open and is ignored; START TextBook nests under the root. START
/// app 3.4 days later closes that root (textbook, app) and becomes the new root. Then: START
/// TextBook > TextBookUnit; each repeated START TextBookUnit closes the previous one and takes
/// its place; END TextBookUnit closes one; END TextBook (from inside a new textbookunit) closes
/// the textbook, its child first; two more START TextBook (the second closes the first);
/// TextBookUnit ×3, Resource, content; END content closes content; the last TOUCH goes to
/// resource; at the end resource is closed, then the root with its open children.
#[test]
fn data6_summaries() {
    let out = run(6);
    assert_eq!(
        kinds(&out),
        [
            ("textbookunit", "play"),
            ("textbook", "play"),
            ("app", ""),
            ("textbookunit", "play"),
            ("textbookunit", "play"),
            ("textbookunit", "play"),
            ("textbook", "play"),
            ("textbook", "play"),
            ("textbookunit", "play"),
            ("textbookunit", "play"),
            ("content", "play"),
            ("resource", "play"),
            ("textbookunit", "play"),
            ("textbook", "play"),
            ("app", ""),
        ]
    );
}

#[test]
fn data6_first_visit() {
    let out = run(6);
    // textbookunit: START …472800, IMPRESSION …472813 (0.013 → 0.01), END …473406 (0.593 →
    // 0.59): 0.6 s, while end − start = 0.606 → 0.61.
    check(
        &out,
        &Pin {
            mid: "132DF1819AD3CEF4D4155632FD53A9E7",
            kind: ("textbookunit", "play"),
            start: 1_534_404_472_800,
            end: 1_534_404_473_406,
            time_spent: 0.6,
            time_diff: 0.61,
            interact: 0,
            per_min: 0.0,
            events: &[("START", 1), ("IMPRESSION", 1), ("END", 1)],
            pages: Some(&[("collection-detail", "detail", 0.59)]),
            envs: Some(&[("home", 0.59)]),
        },
    );
    // Its synthetic root: START TextBookUnit twice (first event, then via the child), the
    // IMPRESSION, END TextBookUnit, START TextBook (0.171 → 0.17), IMPRESSION (0.01),
    // IMPRESSION view (1.598 → 1.6), INTERRUPT (0.273 → 0.27): 2.65 (end − start 2.659 →
    // 2.66); the ignored END TextBook is not counted. Pages: collection-detail twice, the
    // second kept: 1.598 twice = 3.196 → 3.2; library 0.273 → 0.27.
    check(
        &out,
        &Pin {
            mid: "107174BC148267465D5F61FAD3B7142A",
            kind: ("app", ""),
            start: 1_534_404_472_800,
            end: 1_534_404_475_459,
            time_spent: 2.65,
            time_diff: 2.66,
            interact: 0,
            per_min: 0.0,
            events: &[
                ("START", 3),
                ("IMPRESSION", 3),
                ("END", 1),
                ("INTERRUPT", 1),
            ],
            pages: Some(&[
                ("collection-detail", "detail", 3.2),
                ("library", "view", 0.27),
            ]),
            envs: Some(&[("home", 3.47)]),
        },
    );
}

#[test]
fn data6_four_visits_of_a_page_leave_one() {
    let out = run(6);
    // textbook from START …229529 to END TextBook …235462 (5.933 → 5.93). Its events: the
    // IMPRESSION (0.006 → 0.01), START TextBookUnit (2.321), IMPRESSION (0.012 → 0.01), START
    // TextBookUnit (2.219), IMPRESSION (0.01), END TextBookUnit …235299 (1.202 → 1.2), START
    // TextBookUnit …235410 (0.111 from …235299: the END TextBookUnit at …235400 matched no
    // open textbookunit and was ignored), IMPRESSION (0.009 → 0.01), END TextBook (0.043 →
    // 0.04): 5.93. Four impressions, all collection-detail: the map keyed by page keeps the
    // last, open for the END's 0.043 s.
    check(
        &out,
        &Pin {
            mid: "DE332ACE1D2F496982162D501A73316F",
            kind: ("textbook", "play"),
            start: 1_534_700_229_529,
            end: 1_534_700_235_462,
            time_spent: 5.93,
            time_diff: 5.93,
            interact: 0,
            per_min: 0.0,
            events: &[("START", 4), ("IMPRESSION", 4), ("END", 2)],
            pages: Some(&[("collection-detail", "detail", 0.04)]),
            envs: Some(&[("home", 0.04)]),
        },
    );
}

#[test]
fn data6_second_root() {
    let out = run(6);
    // START app …219419 to the last TOUCH …584532: 365.113 → 365.11, rounded gaps 365.13
    // (the longest, 174.646 s, is under the idle limit). 13 interactions in 6.0855 min: 2.136
    // → 2.14. 13 impressions (values of repeated pages arbitrary in Sunbird; ids pinned).
    check(
        &out,
        &Pin {
            mid: "83630609A3E083F2756D2BC6428011DA",
            kind: ("app", ""),
            start: 1_534_700_219_419,
            end: 1_534_700_584_532,
            time_spent: 365.13,
            time_diff: 365.11,
            interact: 13,
            per_min: 2.14,
            events: &[
                ("INTERRUPT", 2),
                ("START", 12),
                ("IMPRESSION", 13),
                ("INTERACT", 13),
                ("END", 3),
            ],
            pages: None,
            envs: None,
        },
    );
    let eks = &by_mid(&out, "83630609A3E083F2756D2BC6428011DA")["edata"]["eks"];
    let ids: Vec<&str> = list(eks, "page_summary")
        .iter()
        .map(|p| str_at(p, "/id"))
        .collect();
    assert_eq!(
        ids,
        ["collection-detail", "content-detail", "library", "splash"]
    );
}
