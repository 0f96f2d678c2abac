//! `test-data1.log` (one user's day in the Sunbird app, server events mixed in) and
//! `test-data2.log` (several users and apps, one event that does not bind, one without `eid`).

use super::{Pin, by_mid, check, kinds, list, run, str_at};

/// test-data1: 91 events. The LOG and SEARCH events (of the System and mobile_device actors)
/// are dropped, which leaves one group: device a49c70…, User 79498c…, channel 0123…450,
/// app prod.sunbird.app. Its 54 events give 9 summaries:
/// - the first event, an END TextBookUnit/play, finds nothing open and is ignored;
/// - START TextBookUnit/play (…611976) with nothing open makes the current summary under a
///   synthetic root (app, ""); an IMPRESSION and an INTERRUPT follow;
/// - START app at …515105 comes 15.5 h later, but a gap before an "app" event breaks nothing.
///   `checkStart` finds the open root (app, "") and closes it, children first: the
///   textbookunit summary, then the root, are emitted (twice, once as the current summary's
///   parent's records and once as the closed root's; `distinct` keeps one of each), and the new
///   START app becomes the root;
/// - START qr, TextBookUnit, Resource and content nest one inside the other; END content/play
///   closes content (its parent Resource becomes current), END Resource/play closes resource;
/// - the next START Resource/play finds no open resource/play above the current textbookunit
///   (the first one is closed) and nests under textbookunit;
/// - START app at …745612 closes the root with all its open children, depth first: resource,
///   textbookunit, qr, then app; the new app root gets the last events and is closed at the
///   end.
#[test]
fn data1_summaries() {
    let out = run(1);
    assert_eq!(
        kinds(&out),
        [
            ("textbookunit", "play"),
            ("app", ""),
            ("content", "play"),
            ("resource", "play"),
            ("resource", "play"),
            ("textbookunit", "play"),
            ("qr", "play"),
            ("app", ""),
            ("app", ""),
        ]
    );
}

#[test]
fn data1_synthetic_root_of_the_first_start() {
    let out = run(1);
    // The synthetic root starts at the START TextBookUnit (…611976) and is given that START a
    // second time when the textbookunit summary is attached to it (`addParent` adds the
    // child's first event): START counts 2. Gaps: 0 (the START again), 0.019 → 0.02
    // (IMPRESSION), 5.329 → 5.33 (INTERRUPT): 5.35 s, as end − start = 5.348 → 5.35.
    // The impression of collection-detail is open from …611995 to the INTERRUPT: 5.329 → 5.33.
    // Its object is the START's (do_31250841732493312026783), so the mid is MD5 of
    // "ME_WORKFLOW_SUMMARY|User|79498cf0-cdfa-41fb-b504-f257a8b40955|a49c706d0402d6db3bb7cb3105cc9e7cf9b2ed7e|app||1534595611976|1534595617324|SESSION|do_31250841732493312026783|prod.sunbird.app|01235953109336064029450".
    check(
        &out,
        &Pin {
            mid: "5896F0AF520AA3BA4D8D887827F5EC76",
            kind: ("app", ""),
            start: 1_534_595_611_976,
            end: 1_534_595_617_324,
            time_spent: 5.35,
            time_diff: 5.35,
            interact: 0,
            per_min: 0.0,
            events: &[("START", 2), ("IMPRESSION", 1), ("INTERRUPT", 1)],
            pages: Some(&[("collection-detail", "detail", 5.33)]),
            envs: Some(&[("home", 5.33)]),
        },
    );
}

#[test]
fn data1_content_play_time_is_the_sum_of_rounded_gaps() {
    let out = run(1);
    // START content/play at …548447 to END content/play at …887902 (end − start = 339.455 s →
    // 339.46). The 15 gaps in between, each rounded half up (0.206 → 0.21, 3.437 → 3.44,
    // 0.258 → 0.26, 0.119 → 0.12, 2.647 → 2.65, 0.055 → 0.06, 49.767 → 49.77, 0.299 → 0.3,
    // 146.303 → 146.3, 0.509 → 0.51, 1.698 → 1.7, 133.825 → 133.83, 0.011 → 0.01,
    // 0.176 → 0.18, 0.145 → 0.15), sum to 339.49. INTERACTs: TOUCH ×5 and END, all of
    // interaction types: 6, per minute 6 / (339.49 / 60) = 1.0604 → 1.06.
    check(
        &out,
        &Pin {
            mid: "D80E1CDC38C39317DE64F12A2D0ADF69",
            kind: ("content", "play"),
            start: 1_534_651_548_447,
            end: 1_534_651_887_902,
            time_spent: 339.49,
            time_diff: 339.46,
            interact: 6,
            per_min: 1.06,
            events: &[("START", 1), ("INTERACT", 6), ("INTERRUPT", 8), ("END", 1)],
            pages: Some(&[]),
            envs: Some(&[]),
        },
    );
}

#[test]
fn data1_app_root_of_the_second_session() {
    let out = run(1);
    // START app …515105 to the last event before the next START app (INTERRUPT at …226467):
    // 711.362 s → 711.36; summed rounded gaps (the longest, 237.851 s, is under the 600 s
    // idle limit) 711.39. 13 interactions of 14 INTERACTs (one is OTHER): 13 / 11.8565 min =
    // 1.0964 → 1.1. Five kinds of event, so `events_summary` is in Scala HashMap order. Its
    // object is the START app's, whose id is "" (so the mid has "SESSION||prod…").
    // Six impressions of four pages: past four, Sunbird's impression map iterates in identity
    // hash order, so which visit of library and content-detail survives is arbitrary there;
    // only the single-visit pages are pinned: splash (…515889, open until the library
    // impression 8.627 s later, a gap counted twice) = 17.254 → 17.25, and collection-detail
    // (…532849: 4.993 to the START Resource, then 0.02 twice) = 5.033 → 5.03.
    check(
        &out,
        &Pin {
            mid: "99C1C6753C259AFB5E16DA8FA8DF3DC2",
            kind: ("app", ""),
            start: 1_534_651_515_105,
            end: 1_534_652_226_467,
            time_spent: 711.39,
            time_diff: 711.36,
            interact: 13,
            per_min: 1.1,
            events: &[
                ("INTERRUPT", 15),
                ("START", 6),
                ("IMPRESSION", 6),
                ("INTERACT", 14),
                ("END", 2),
            ],
            pages: None,
            envs: None,
        },
    );
    let pages = list(
        &by_mid(&out, "99C1C6753C259AFB5E16DA8FA8DF3DC2")["edata"]["eks"],
        "page_summary",
    );
    let ids: Vec<&str> = pages.iter().map(|p| str_at(p, "/id")).collect();
    assert_eq!(
        ids,
        ["collection-detail", "content-detail", "library", "splash"]
    );
    assert_eq!(pages[0]["time_spent"], 5.03);
    assert_eq!(pages[3]["time_spent"], 17.25);
}

#[test]
fn data1_last_app_root_pages() {
    let out = run(1);
    // START app …745612, then three impressions and three TOUCHes up to …766932 (21.32 s;
    // gaps 1.04 + 8.54 + 0.06 + 7.41 + 4.24 + 0.04 = 21.33). Pages: splash open from …746650,
    // the gap to the library impression (8.535) counted twice = 17.07; library from …755185:
    // 0.063 + 7.407 + 4.235 twice = 15.94; courses from …766890: 0.042 → 0.04. One env: home,
    // 17.07 + 15.94 + 0.04 = 33.05. Three interactions in under a minute: 3 per minute.
    check(
        &out,
        &Pin {
            mid: "7150BB6ACAB1869F74EFD164EDCEA046",
            kind: ("app", ""),
            start: 1_534_652_745_612,
            end: 1_534_652_766_932,
            time_spent: 21.33,
            time_diff: 21.32,
            interact: 3,
            per_min: 3.0,
            events: &[("START", 1), ("IMPRESSION", 3), ("INTERACT", 3)],
            pages: Some(&[
                ("courses", "view", 0.04),
                ("library", "view", 15.94),
                ("splash", "view", 17.07),
            ]),
            envs: Some(&[("home", 33.05)]),
        },
    );
}

/// test-data2: 46 lines. The last has no `eid` (dropped before grouping); the ASSESS event
/// has a `context.cdata` entry whose `id` is an array, which Jackson cannot bind to a
/// `String`, so Sunbird drops it (its group, 6798fa…/4ba2bb…, has no other event). Three
/// groups remain, in key order: b027…|User|580 on app in.sunbird (2 summaries),
/// |User|580 (no did) on in.sunbird (4) and on in.sunbird.dev (4).
#[test]
fn data2_summaries() {
    let out = run(2);
    assert_eq!(
        kinds(&out),
        [
            // START player/preview under a synthetic root; END player/preview closes the
            // player summary; the root is closed at the end.
            ("player", "preview"),
            ("app", ""),
            // Three START editor/content: each one finds the previous (same type and mode)
            // open above, closes it and takes its place under the synthetic root.
            ("editor", "content"),
            ("editor", "content"),
            ("editor", "content"),
            ("app", ""),
            // Three events open a default "app" summary (root); START session nests under it;
            // the last IMPRESSION comes 2794 s after the previous event: session break.
            ("session", ""),
            ("app", ""),
            // After the break both nodes are cleared and reopened: the IMPRESSION restarts
            // them, and they are closed at the end, with nothing counted.
            ("session", ""),
            ("app", ""),
        ]
    );
}

#[test]
fn data2_only_the_last_visit_of_a_page_is_kept() {
    let out = run(2);
    // The default "app" summary starts at the first IMPRESSION (…205247, counted once, never
    // added) and takes every event up to the break (…341000): 135.753 s → 135.75; the gaps
    // (10, 10, 93, 3.753 → 3.75, 6, 0.769 → 0.77, 12.231 → 12.23) sum to 135.75. Two
    // clicks in 2.26 min: 0.8840 → 0.88.
    // Four impressions (so Sunbird's map keeps their order): com_content.featured at
    // …215247 is open for 10 + 93 + 3.753 (+ 3.753 again) = 110.506 s, but
    // com_content.featured again at …328000 (0.769 + 12.231 twice = 25.231) replaces it in
    // the page map: 25.23, visit_count 1. com_easysocial.dashboard (…322000): 6 × 2 = 12;
    // com_ekcontent.content opened by the last event: 0. The first impression is the
    // summary's first event, never added, so it has no page.
    check(
        &out,
        &Pin {
            mid: "673ADC401A0E2661E52792032AECD45C",
            kind: ("app", ""),
            start: 1_515_493_205_247,
            end: 1_515_493_341_000,
            time_spent: 135.75,
            time_diff: 135.75,
            interact: 2,
            per_min: 0.88,
            events: &[("IMPRESSION", 5), ("INTERACT", 2), ("START", 1)],
            pages: Some(&[
                ("com_ekcontent.content", "view", 0.0),
                ("com_content.featured", "list", 25.23),
                ("com_easysocial.dashboard", "list", 12.0),
            ]),
            envs: Some(&[("content", 0.0), ("home", 25.23), ("community", 12.0)]),
        },
    );
}

#[test]
fn data2_session_break_emits_then_reopens_empty_summaries() {
    let out = run(2);
    // The session summary: START session …318247 to the IMPRESSION at …341000 (22.753 s →
    // 22.75; gaps 3.75 + 6 + 0.77 + 12.23 = 22.75), one click.
    check(
        &out,
        &Pin {
            mid: "C06A667BD5D8DF7228A814FFA5A3A942",
            kind: ("session", ""),
            start: 1_515_493_318_247,
            end: 1_515_493_341_000,
            time_spent: 22.75,
            time_diff: 22.75,
            interact: 1,
            per_min: 1.0,
            events: &[("START", 1), ("IMPRESSION", 3), ("INTERACT", 1)],
            pages: Some(&[
                ("com_ekcontent.content", "view", 0.0),
                ("com_content.featured", "list", 25.23),
                ("com_easysocial.dashboard", "list", 12.0),
            ]),
            envs: Some(&[("content", 0.0), ("home", 25.23), ("community", 12.0)]),
        },
    );
    // After the break (cleared: start 0, nothing counted), the IMPRESSION at …135000 is added
    // to the session node and its parent: start = end = …135000, its gap from the previous
    // event (2794 s, `prevEventEts` survives the clear) is over the idle time, so 0.
    // sunbird-cb keeps a summary whose time spent is 0 (`timeSpent >= 0`).
    for (mid, kind) in [
        ("2EE2A1FFAD7E816ABD05C349DF8531DB", "session"),
        ("FE6EC782F52B44F8BD7F20696E733725", "app"),
    ] {
        check(
            &out,
            &Pin {
                mid,
                kind: (kind, ""),
                start: 1_515_496_135_000,
                end: 1_515_496_135_000,
                time_spent: 0.0,
                time_diff: 0.0,
                interact: 0,
                per_min: 0.0,
                events: &[("IMPRESSION", 1)],
                pages: Some(&[("com_content.featured", "list", 0.0)]),
                envs: Some(&[("home", 0.0)]),
            },
        );
    }
}

#[test]
fn data2_a_repeated_start_closes_the_earlier_one() {
    let out = run(2);
    // The first editor/content summary: START …111905, IMPRESSION …111915 (0.01),
    // INTERACT select …112495 (0.58). "select" is not an interaction type (the list has
    // "selected"), so 0 interactions. The next START editor/content at …151777 finds this
    // summary open (same type and mode) and closes it: its end stays at …112495, and the new
    // one takes its place under the synthetic root.
    // Its object is do_112272655695388672138; the group has no did: "…|User|580||editor|…".
    check(
        &out,
        &Pin {
            mid: "60326AFCC461CB368F38E03C78953F30",
            kind: ("editor", "content"),
            start: 1_515_496_111_905,
            end: 1_515_496_112_495,
            time_spent: 0.59,
            time_diff: 0.59,
            interact: 0,
            per_min: 0.0,
            events: &[("START", 1), ("IMPRESSION", 1), ("INTERACT", 1)],
            pages: Some(&[("contenteditor", "edit", 0.58)]),
            envs: Some(&[("contenteditor", 0.58)]),
        },
    );
    let first = by_mid(&out, "60326AFCC461CB368F38E03C78953F30");
    assert_eq!(first["dimensions"]["did"], "");
    assert_eq!(first["object"]["id"], "do_112272655695388672138");
}
