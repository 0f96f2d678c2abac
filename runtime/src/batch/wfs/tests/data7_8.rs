//! `test-data7.log` (START session then START app, a START with an empty type, ENDs that close
//! the wrong summary) and `test-data8.log` (idle gaps, an END app, an END five days later).

// 3.14 below is seconds spent on a page, not π.
#![allow(clippy::approx_constant)]

use super::{Pin, by_mid, check, kinds, run, str_at};

/// test-data7: one group (User f2d0c4…, 78 events). START session …123683 opens a synthetic
/// root; START app 1.26 s later closes that root (session, then root) and becomes the new
/// root. START with type "" and mode play (lower-cased "", not null, so not "app") nests under
/// it, then Resource/play, then content/play. END content without a mode matches nothing
/// (content/play is open, content/"" is not) and is ignored. END Resource/play finds the
/// resource summary above content, but `checkEnd` returns its parent (the ""/play summary),
/// which is not "similar" to the current summary's parent (resource) nor to the root: the
/// current summary, content, takes the END and closes, and ""/play becomes current; the
/// resource summary stays open. A new Resource/play and content/play nest under ""/play; at the
/// end content is closed, then the root with its open children (resource, resource, "", app).
#[test]
fn data7_summaries() {
    let out = run(7);
    assert_eq!(
        kinds(&out),
        [
            ("session", ""),
            ("app", ""),
            ("content", "play"),
            ("content", "play"),
            ("resource", "play"),
            ("resource", "play"),
            ("", "play"),
            ("app", ""),
        ]
    );
}

#[test]
fn data7_start_app_closes_the_synthetic_root() {
    let out = run(7);
    // The session summary never got an event added (the START app closed it first): end 0,
    // 0 s, kept by sunbird-cb (`timeSpent >= 0`). The START session's object id is "".
    check(
        &out,
        &Pin {
            mid: "F12DB15ECDC29D0496DA84E5E852F8FE",
            kind: ("session", ""),
            start: 1_583_031_123_683,
            end: 0,
            time_spent: 0.0,
            time_diff: 0.0,
            interact: 0,
            per_min: 0.0,
            events: &[("START", 1)],
            pages: Some(&[]),
            envs: Some(&[]),
        },
    );
    // The synthetic root got the START session once more (via the child): end = start.
    check(
        &out,
        &Pin {
            mid: "8095A278F720760D180EC0071AE531EF",
            kind: ("app", ""),
            start: 1_583_031_123_683,
            end: 1_583_031_123_683,
            time_spent: 0.0,
            time_diff: 0.0,
            interact: 0,
            per_min: 0.0,
            events: &[("START", 2)],
            pages: Some(&[]),
            envs: Some(&[]),
        },
    );
}

#[test]
fn data7_an_end_closes_the_current_summary_not_the_matching_one() {
    let out = run(7);
    // content/play: START …160068 to END Resource/play …756177 (596.109 → 596.11; no gap
    // over 600 s, the longest being 199.384). 4 interactions (TOUCH ×3 and END) in 9.935
    // min: 0.4026 → 0.4. The IMPRESSION view at …753037 is open for 0.186 + 2.944 + 0.01 =
    // 3.14 s.
    check(
        &out,
        &Pin {
            mid: "2219DF5B6960E918C4DBD75CC82E5D9A",
            kind: ("content", "play"),
            start: 1_583_031_160_068,
            end: 1_583_031_756_177,
            time_spent: 596.11,
            time_diff: 596.11,
            interact: 4,
            per_min: 0.4,
            events: &[
                ("INTERRUPT", 4),
                ("START", 1),
                ("IMPRESSION", 1),
                ("INTERACT", 12),
                ("END", 1),
            ],
            pages: Some(&[("content-detail", "view", 3.14)]),
            envs: Some(&[("home", 3.14)]),
        },
    );
    // The resource summary the END named got the END only through its child: its end is the
    // END's, and it is emitted when the root closes at the end.
    check(
        &out,
        &Pin {
            mid: "A57EB51CC27346ACFCF0A4EE85CBD25D",
            kind: ("resource", "play"),
            start: 1_583_031_151_919,
            end: 1_583_031_756_177,
            time_spent: 604.26,
            time_diff: 604.26,
            interact: 6,
            per_min: 0.6,
            events: &[
                ("INTERRUPT", 4),
                ("START", 2),
                ("IMPRESSION", 1),
                ("INTERACT", 16),
                ("END", 1),
            ],
            pages: Some(&[("content-detail", "view", 3.14)]),
            envs: Some(&[("home", 3.14)]),
        },
    );
    // The second content/play: START …769407 and two INTERACT OTHER (21.444 → 21.44, 59.973
    // → 59.97): 81.41 s, while end − start = 81.417 → 81.42.
    check(
        &out,
        &Pin {
            mid: "8C0F8BA5B2A0DD029E268DFD8E4BADF1",
            kind: ("content", "play"),
            start: 1_583_031_769_407,
            end: 1_583_031_850_824,
            time_spent: 81.41,
            time_diff: 81.42,
            interact: 0,
            per_min: 0.0,
            events: &[("START", 1), ("INTERACT", 2)],
            pages: Some(&[]),
            envs: Some(&[]),
        },
    );
}

#[test]
fn data7_start_with_an_empty_type() {
    let out = run(7);
    // START ""/play …133866 to the last event …850824 (716.958 → 716.96; its gaps, none over
    // 600 s, round to 716.96). 19 interactions: 19 / 11.949 min = 1.590 → 1.59. Seven kinds of
    // event (HashMap order). Four impressions (so the order is kept): collection-detail
    // (…133871) and content-detail three times (…151914, …753037, …763527); the last one is
    // kept: open from …763527, it gets 0.005 (the START Resource) + 0.34 + 1.499 + 0.007 +
    // 4.029 + 21.444 + 59.973 = 87.297 → 87.3. collection-detail: 1.189 + 0.003 + … up to the
    // impression at …151914 (0.249, twice) = 18.292 → 18.29. The type "" goes into the mid.
    check(
        &out,
        &Pin {
            mid: "B01C040275BB78049DFF073D9E371805",
            kind: ("", "play"),
            start: 1_583_031_133_866,
            end: 1_583_031_850_824,
            time_spent: 716.96,
            time_diff: 716.96,
            interact: 19,
            per_min: 1.59,
            events: &[
                ("ERROR", 2),
                ("SHARE", 1),
                ("INTERRUPT", 4),
                ("START", 5),
                ("IMPRESSION", 4),
                ("INTERACT", 41),
                ("END", 1),
            ],
            pages: Some(&[
                ("collection-detail", "detail", 18.29),
                ("content-detail", "detail", 87.3),
            ]),
            envs: Some(&[("home", 105.59)]),
        },
    );
}

/// test-data8: one group, 28 events after the LOG is dropped. An INTERACT OTHER opens a default
/// "app" root; no START follows, so every event goes to it. END content and END qr/play match
/// nothing open and are ignored; END app closes the root (the END is added to it first).
/// END session comes five days later: the gap breaks the session, but the current summary is
/// closed, so nothing happens; the END itself matches nothing. One summary.
#[test]
fn data8_idle_gaps_count_nothing() {
    let out = run(8);
    assert_eq!(kinds(&out), [("app", "")]);
    // …012741 to END app …865465: 1852.724 s → 1852.72. Two gaps exceed the 600 s idle time
    // (996.504 before the IMPRESSION workflow, 803.116 before the INTERRUPT resume) and count
    // 0; the others sum to 53.12. 13 interactions (TOUCH ×12 and END; OTHER does not count)
    // in under a minute: 13 per minute.
    // The ignored ENDs are not added anywhere, so the gap after each is measured from the
    // event before it. Pages are not capped: the workflow impression (…039144) is open for
    // 803.116 + 0.482 +
    // 0.332 + 1.017 + 1.216 + 2.387 + 0.025 + 0.512 + 1.023 + 0.466 twice = 811.042 → 811.04.
    // dial-code-scan-result (…849720): 0.484 twice = 0.968 → 0.97; content-detail (…850204):
    // 0.399 + 2.939 + 0.006 + 1.325 + 3.359 + 0.07 + 2.34 + 0.3 + 4.462 + 0.061 = 15.261.
    check(
        &out,
        &Pin {
            mid: "90C629A4738C770E4E2539BBC20F9E66",
            kind: ("app", ""),
            start: 1_583_390_012_741,
            end: 1_583_391_865_465,
            time_spent: 53.12,
            time_diff: 1852.72,
            interact: 13,
            per_min: 13.0,
            events: &[
                ("INTERACT", 17),
                ("INTERRUPT", 4),
                ("IMPRESSION", 3),
                ("END", 1),
            ],
            pages: Some(&[
                ("dial-code-scan-result", "view", 0.97),
                ("content-detail", "view", 15.26),
                ("2be18e6c-d855-451e-8e81-5bd2bd71d859", "workflow", 811.04),
            ]),
            envs: Some(&[
                ("contentplayer", 811.04),
                ("home", 15.26),
                ("library", 0.97),
            ]),
        },
    );
    let v = by_mid(&out, "90C629A4738C770E4E2539BBC20F9E66");
    // The first event is the INTERACT OTHER, whose object id is "": "…|SESSION||sunbird.app|…".
    assert_eq!(str_at(v, "/object/id"), "");
    // `syncts` is the `@timestamp` of the END app, the last event added.
    assert_eq!(v["syncts"], 1_583_830_508_512_i64);
}
