//! `pipec validate-events`: the verdicts on Sunbird's pipeline-preprocessor test events
//! equal the preprocessor's, golden outputs of the three formats, the lines of events in
//! NDJSON, arrays and batch envelopes, files that are not JSON, and exit codes.
//!
//! The spec `tests/golden/validate-events/preprocessor/` uses the preprocessor's schemas
//! from Sunbird's preprocessor fixtures, copied into `pipelines/igot/tests/fixtures`.
//! `PIPEC_BLESS=1 cargo test --test integration validate_events` rewrites the golden
//! outputs under `tests/golden/validate-events/expected/`; without it a stale output, or
//! a file there that no case produces, fails the test.

use std::collections::BTreeMap;
use std::fs;

use serde_json::Value;

use crate::support::pipec;
use crate::support::{root, scratch};

const SPEC: &str = "tests/golden/validate-events/preprocessor";
const FIXTURES: &str = "pipelines/igot/tests/fixtures/pipeline-preprocessor";
const INPUTS: &str = "tests/golden/validate-events/inputs";
const EXPECTED: &str = "tests/golden/validate-events/expected";

/// `validate-events --pipeline SPEC --format json PATHS...`, parsed, with its exit code.
fn json_run(paths: &[&str]) -> (Option<i32>, Value) {
    let mut args = vec!["validate-events", "--pipeline", SPEC, "--format", "json"];
    args.extend_from_slice(paths);
    let out = pipec(&args);
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), doc)
}

/// A verdict: `None` when valid, else the `(pointer, keyword)` of every error, sorted.
type Verdict = Option<Vec<(&'static str, &'static str)>>;

fn verdicts(doc: &Value) -> BTreeMap<String, Option<Vec<(String, String)>>> {
    let mut out = BTreeMap::new();
    for e in doc["events"].as_array().into_iter().flatten() {
        let file = e["file"].as_str().unwrap_or_default();
        let name = file.rsplit('/').next().unwrap_or_default().to_string();
        let verdict = if e["valid"] == Value::Bool(true) {
            None
        } else {
            let mut errors: Vec<(String, String)> = e["errors"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|x| {
                    let s = |k: &str| x[k].as_str().unwrap_or_default().to_string();
                    (s("pointer"), s("keyword"))
                })
                .collect();
            errors.sort();
            Some(errors)
        };
        assert!(out.insert(name, verdict).is_none(), "one event per fixture");
    }
    out
}

#[test]
fn preprocessor_fixtures_get_sunbirds_verdicts() {
    assert!(
        root().join(FIXTURES).is_dir(),
        "Sunbird's preprocessor fixtures are expected at {FIXTURES}"
    );
    // Sunbird's preprocessor (TelemetryValidator) looks up `<lower(eid)>.json` among its
    // schema files and validates the event with it (fge json-schema-validator, Draft-04);
    // no such file, or a failed validation, sends the event to `telemetry.failed`. Every
    // event schema requires eid, ets, ver, mid, actor, context and edata, and applies
    // common.json (ver in ["3.0", "3.1"], ets a number, actor, context, object shapes)
    // and its own `edata` with `additionalProperties: false`.
    let expected: Vec<(&str, Verdict)> = vec![
        // INTERACT: every required field; edata has only known keys (type, subtype, id,
        // pageid, extra); channel " " passes minLength 1; extra top-level fields are allowed.
        ("EVENT_1.json", None),
        // eid NO_EID: there is no no_eid.json, so the schema is missing.
        ("EVENT_10.json", Some(vec![("/eid", "schema")])),
        // SEARCH: edata has the required query, size and topn; filters and sort are objects.
        ("EVENT_12.json", None),
        // SUMMARY: edata.extra[].value must be a string; all seven are numbers or booleans.
        (
            "EVENT_13.json",
            Some(vec![
                ("/edata/extra/0/value", "type"),
                ("/edata/extra/1/value", "type"),
                ("/edata/extra/2/value", "type"),
                ("/edata/extra/3/value", "type"),
                ("/edata/extra/4/value", "type"),
                ("/edata/extra/5/value", "type"),
                ("/edata/extra/6/value", "type"),
            ]),
        ),
        // SUMMARY: edata.timespent "0:16" is a string where the schema wants a number.
        ("EVENT_14.json", Some(vec![("/edata/timespent", "type")])),
        // SUMMARY: the fixed version of 13 and 14: timespent a number, extra values strings.
        ("EVENT_15.json", None),
        // METRICS: edata requires system and subsystem; subsystem is missing.
        ("EVENT_16.json", Some(vec![("/edata", "required")])),
        // METRICS: the same event with edata.subsystem; metric values are numbers.
        ("EVENT_17.json", None),
        // ERROR: edata has err, errtype and stacktrace, all strings; syncts 1.55E12 is a number.
        ("EVENT_2.json", None),
        // LOG: edata has type, level and message ("" has no minLength); params are objects.
        ("EVENT_3.json", None),
        // AUDIT: edata.props is an array of strings; cdata items have exactly id and type.
        ("EVENT_4.json", None),
        // SHARE: edata.items match items.json (origin, id, type, ver, params of objects).
        ("EVENT_5.json", None),
        // ASSESS: ver "3.1" is allowed; edata.item has only question.json's keys.
        ("EVENT_6.json", None),
        // START: no actor, context or edata (required); ver is the number 3 (type string,
        // enum "3.0"/"3.1"); ets is a string (type number, and the string is no date-time).
        (
            "EVENT_7.json",
            Some(vec![
                ("", "required"),
                ("", "required"),
                ("", "required"),
                ("/ets", "format"),
                ("/ets", "type"),
                ("/ver", "enum"),
                ("/ver", "type"),
            ]),
        ),
        // eid NO_EID again: no schema.
        ("EVENT_8.json", Some(vec![("/eid", "schema")])),
        // eid NO_EID again: no schema.
        ("EVENT_9.json", Some(vec![("/eid", "schema")])),
        // No eid: Sunbird validates it with envelope.json, which requires eid; here the
        // missing type field itself is the error.
        ("EVENT_WITHOUT_EID.json", Some(vec![("", "type_field")])),
    ];
    let (code, doc) = json_run(&[FIXTURES]);
    assert_eq!(code, Some(1));
    let got = verdicts(&doc);
    let want: BTreeMap<String, Option<Vec<(String, String)>>> = expected
        .into_iter()
        .map(|(file, v)| {
            let v = v.map(|errs| {
                errs.into_iter()
                    .map(|(p, k)| (p.to_string(), k.to_string()))
                    .collect()
            });
            (file.to_string(), v)
        })
        .collect();
    assert_eq!(got, want);
    assert_eq!(
        doc["totals"],
        serde_json::json!({"files": 17, "events": 17, "valid": 9, "invalid": 8, "file_errors": 0})
    );
    assert_eq!(
        doc["summary"]["NO_EID"],
        serde_json::json!({"valid": 0, "invalid": 3})
    );
    assert_eq!(
        doc["summary"]["(none)"],
        serde_json::json!({"valid": 0, "invalid": 1})
    );
}

/// Golden cases: output file under `expected/`, arguments after `validate-events`, exit code.
const GOLDEN: &[(&str, &[&str], i32)] = &[
    ("fixtures.txt", &["--format", "text"], 1),
    ("fixtures.json", &["--format", "json"], 1),
    ("fixtures.github", &["--format", "github"], 1),
    ("inputs.txt", &[INPUTS], 1),
    ("inputs-verbose.txt", &[INPUTS, "--verbose"], 1),
    ("inputs.json", &[INPUTS, "--format", "json"], 1),
    ("inputs.github", &[INPUTS, "--format", "github"], 1),
];

/// The fixture files of the `fixtures.*` cases: one valid event and two invalid ones.
const GOLDEN_FIXTURES: &[&str] = &["EVENT_1.json", "EVENT_7.json", "EVENT_13.json"];

#[test]
fn golden_outputs_of_the_three_formats() {
    let bless = std::env::var_os("PIPEC_BLESS").is_some();
    let dir = root().join(EXPECTED);
    let fixtures: Vec<String> = GOLDEN_FIXTURES
        .iter()
        .map(|f| format!("{FIXTURES}/{f}"))
        .collect();
    let mut failures = Vec::new();
    for (name, extra, code) in GOLDEN {
        let mut args = vec!["validate-events", "--pipeline", SPEC];
        args.extend_from_slice(extra);
        if name.starts_with("fixtures") {
            args.extend(fixtures.iter().map(String::as_str));
        }
        let out = pipec(&args);
        assert_eq!(out.status.code(), Some(*code), "{name}");
        let got = String::from_utf8_lossy(&out.stdout).into_owned();
        let path = dir.join(name);
        if bless {
            let _ = fs::create_dir_all(&dir);
            fs::write(&path, &got).expect("write snapshot");
            continue;
        }
        match fs::read_to_string(&path) {
            Ok(want) if want == got => {}
            Ok(want) => failures.push(format!("{name}: stale\n--- want\n{want}--- got\n{got}")),
            Err(_) => failures.push(format!("{name}: no snapshot; run with PIPEC_BLESS=1")),
        }
    }
    for entry in fs::read_dir(&dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !GOLDEN.iter().any(|(n, _, _)| *n == name) {
            failures.push(format!("{name}: unreferenced snapshot in {EXPECTED}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn events_of_ndjson_arrays_and_envelopes_have_their_lines() {
    let (code, doc) = json_run(&[INPUTS]);
    assert_eq!(code, Some(1));
    let found: Vec<(String, u64, u64, String, bool)> = doc["events"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let file = e["file"].as_str().unwrap_or_default();
            (
                file.rsplit('/').next().unwrap_or_default().to_string(),
                e["line"].as_u64().unwrap_or(0),
                e["index"].as_u64().unwrap_or(0),
                e["type"].as_str().unwrap_or("-").to_string(),
                e["valid"] == Value::Bool(true),
            )
        })
        .collect();
    let want: Vec<(&str, u64, u64, &str, bool)> = vec![
        // A JSON array: each element on the line where its `{` is.
        ("array.json", 2, 0, "AUDIT", true),
        ("array.json", 6, 1, "-", false),
        ("array.json", 8, 2, "ERROR", false),
        // A batch envelope: the elements of `events`.
        ("batch.json", 7, 0, "INTERACT", true),
        ("batch.json", 13, 1, "LOG", false),
        ("batch.json", 19, 2, "IMPRESSION", false),
        // NDJSON: the line of each value; an array and an envelope on lines 3 and 4; the
        // broken line 5 is a file error and line 6 is still read.
        ("events.ndjson", 1, 0, "START", true),
        ("events.ndjson", 3, 1, "END", true),
        ("events.ndjson", 3, 2, "HEARTBEAT", true),
        ("events.ndjson", 4, 3, "SHARE_ITEM", false),
        ("events.ndjson", 4, 4, "SEARCH", false),
        ("events.ndjson", 6, 5, "FEEDBACK", true),
    ];
    let want: Vec<(String, u64, u64, String, bool)> = want
        .into_iter()
        .map(|(f, l, i, t, v)| (f.to_string(), l, i, t.to_string(), v))
        .collect();
    assert_eq!(found, want);
    let errors: Vec<(String, u64, u64)> = doc["file_errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let file = e["file"].as_str().unwrap_or_default();
            let file = file.rsplit('/').next().unwrap_or_default().to_string();
            (
                file,
                e["line"].as_u64().unwrap_or(0),
                e["column"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    let want = vec![
        ("events.ndjson".to_string(), 5, 50),
        ("not-json.json".to_string(), 1, 1),
    ];
    assert_eq!(errors, want);
}

#[test]
fn files_that_are_not_json_are_errors_with_places() {
    let dir = scratch("not-json");
    let write = |name: &str, bytes: &[u8]| fs::write(dir.join(name), bytes).expect("write");
    write("text.json", b"{\"eid\": \"START\"}\nhello\n");
    write("binary.json", b"{\"eid\": \"\xff\xfe\"}");
    write("truncated.ndjson", b"{\"eid\": [\n");
    write("empty.json", b"");
    write(
        "mixed.ndjson",
        b"\xef\xbb\xbf{\"eid\": \"START\"}\n{\"eid\": \"\xc3\"}\n{\"eid\": \"END\"}\n",
    );
    write("skipped.json.tmpl", b"not even looked at");
    let dir_arg = dir.to_string_lossy().into_owned();
    let (code, doc) = json_run(&[&dir_arg]);
    assert_eq!(code, Some(1));
    let errors: Vec<(String, Value, Value, String)> = doc["file_errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let file = e["file"].as_str().unwrap_or_default();
            (
                file.rsplit('/').next().unwrap_or_default().to_string(),
                e["line"].clone(),
                e["column"].clone(),
                e["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        vec![
            (
                "binary.json".into(),
                1.into(),
                10.into(),
                "not UTF-8 text (byte 9 of the file)".into()
            ),
            // Read a line at a time: a broken line does not stop the next.
            (
                "mixed.ndjson".into(),
                2.into(),
                10.into(),
                "not UTF-8 text (byte 29 of the file)".into()
            ),
            (
                "text.json".into(),
                2.into(),
                1.into(),
                "not JSON: expected value".into()
            ),
            (
                "truncated.ndjson".into(),
                1.into(),
                9.into(),
                "not JSON: EOF while parsing a list".into()
            ),
        ]
    );
    assert_eq!(doc["totals"]["files"], 5);
    assert_eq!(doc["totals"]["events"], 3);
}

#[test]
fn exit_codes() {
    let valid = format!("{FIXTURES}/EVENT_1.json");
    let run = |args: &[&str]| pipec(args).status.code();
    let base = ["validate-events", "--pipeline", SPEC];
    assert_eq!(run(&[&base[..], &[valid.as_str()]].concat()), Some(0));
    let invalid = format!("{FIXTURES}/EVENT_7.json");
    assert_eq!(run(&[&base[..], &[invalid.as_str()]].concat()), Some(1));
    assert_eq!(run(&[&base[..], &["no/such/events"]].concat()), Some(2));
    assert_eq!(
        run(&[&base[..], &[valid.as_str(), "--format", "xml"]].concat()),
        Some(2)
    );
    assert_eq!(run(&base), Some(2));
    assert_eq!(
        run(&["validate-events", "--pipeline", "no/such/spec", &valid]),
        Some(2)
    );
    let out = pipec(&[
        "validate-events",
        "--pipeline",
        "tests/golden/check/unknown-topic-in-from",
        &valid,
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("error[PC0102]"), "{err}");
    assert!(out.stdout.is_empty());
}
