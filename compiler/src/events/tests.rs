//! Unit tests of event validation, reports and their renderings.

use std::sync::Arc;

use serde_json::{Value, json};

use super::input::Format;
use super::render::{
    github_finding, render_github, render_json, render_text, summary_text, text_finding,
};
use super::{EventSchemas, Report, TypeCounts, brief};

fn schemas() -> EventSchemas {
    let start = json!({
        "type": "object",
        "required": ["eid", "ver", "edata"],
        "properties": {
            "ver": {"type": "string", "enum": ["3.0", "3.1"]},
            "edata": {
                "type": "object",
                "additionalProperties": false,
                "properties": {"type": {"type": "string"}}
            }
        }
    });
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .build(&start)
        .ok()
        .map(Arc::new);
    assert!(validator.is_some());
    EventSchemas::new(
        "eid",
        [
            ("START".to_string(), validator),
            ("SHARE_ITEM".to_string(), None),
        ],
    )
}

fn errors(event: Value) -> Vec<(String, String, String)> {
    schemas()
        .check(&event)
        .into_iter()
        .map(|e| (e.pointer, e.keyword, e.message))
        .collect()
}

fn one(pointer: &str, keyword: &str, message: &str) -> Vec<(String, String, String)> {
    vec![(pointer.into(), keyword.into(), message.into())]
}

#[test]
fn valid_event_has_no_errors() {
    let event = json!({"eid": "START", "ver": "3.0", "edata": {"type": "app"}});
    assert_eq!(errors(event), vec![]);
}

#[test]
fn every_error_of_an_event_is_reported() {
    let event = json!({"eid": "START", "ver": 3, "edata": {"type": "app", "x": 1}});
    let mut found = errors(event);
    found.sort();
    assert_eq!(
        found,
        vec![
            (
                "/edata".into(),
                "additionalProperties".into(),
                "Additional properties are not allowed ('x' was unexpected)".into()
            ),
            (
                "/ver".into(),
                "enum".into(),
                r#"3 is not one of "3.0" or "3.1""#.into()
            ),
            (
                "/ver".into(),
                "type".into(),
                r#"3 is not of type "string""#.into()
            ),
        ]
    );
    assert_eq!(
        errors(json!({"eid": "START", "ver": "3.0"})),
        one("", "required", r#""edata" is a required property"#)
    );
}

#[test]
fn events_without_a_usable_type_or_schema_are_invalid() {
    assert_eq!(
        errors(json!({"ver": "3.0"})),
        one("", "type_field", "no `eid` field")
    );
    assert_eq!(
        errors(json!({"eid": 7})),
        one("/eid", "type_field", "`eid` is a number, not a string")
    );
    assert_eq!(
        errors(json!({"eid": "NOPE"})),
        one("/eid", "schema", "no schema for event type `NOPE`")
    );
    assert_eq!(
        errors(json!({"eid": "SHARE_ITEM"})),
        one("/eid", "schema", "no schema for event type `SHARE_ITEM`")
    );
    assert_eq!(
        errors(json!([1])),
        one("", "type", "an event is a JSON object, not an array")
    );
    let odd = EventSchemas::new("a/b~c", []);
    assert_eq!(odd.check(&json!({"a/b~c": 1}))[0].pointer, "/a~1b~0c");
}

#[test]
fn long_values_are_shortened_in_messages() {
    let long = "x".repeat(100);
    let event = json!({"eid": "START", "ver": long.clone(), "edata": {}});
    let found = errors(event);
    let quoted: String = format!("\"{}…\"", &long[..38]);
    assert_eq!(
        found,
        one(
            "/ver",
            "enum",
            &format!(r#"{quoted} is not one of "3.0" or "3.1""#)
        )
    );
    assert_eq!(brief(&json!([1, 2])), "[1,2]");
    assert_eq!(brief(&json!({"k": "v".repeat(50)})).chars().count(), 41);
}

const SAMPLE_NDJSON: &str = "{\"eid\":\"START\",\"ver\":\"3.0\",\"edata\":{}}\n{\"eid\":\"START\",\"ver\":\"2\",\"edata\":{},\"x\":1}\n{oops\n{\"ver\":\"3.0\"}\n";
const SAMPLE_JSON: &str = "[{\"eid\": \"NOPE\"}]";

fn sample_report(keep_valid: bool) -> Report<'static> {
    let s = schemas();
    let mut report = Report::new(keep_valid);
    report.add_text(&s, "a.ndjson", SAMPLE_NDJSON, Format::Ndjson);
    report.add_text(&s, "b, c.json", SAMPLE_JSON, Format::Json);
    report
}

#[test]
fn report_counts_per_type_and_keeps_order() {
    let report = sample_report(false);
    let counts: Vec<(&str, TypeCounts)> = report
        .summary()
        .iter()
        .map(|(k, c)| (k.as_str(), *c))
        .collect();
    assert_eq!(
        counts,
        vec![
            (
                "(none)",
                TypeCounts {
                    valid: 0,
                    invalid: 1
                }
            ),
            (
                "NOPE",
                TypeCounts {
                    valid: 0,
                    invalid: 1
                }
            ),
            (
                "START",
                TypeCounts {
                    valid: 1,
                    invalid: 1
                }
            ),
        ]
    );
    assert_eq!(
        report.totals(),
        TypeCounts {
            valid: 1,
            invalid: 3
        }
    );
    let kept: Vec<(usize, usize, usize)> = report
        .events()
        .iter()
        .map(|e| (e.file, e.line, e.index))
        .collect();
    assert_eq!(kept, vec![(0, 2, 1), (0, 4, 2), (1, 1, 0)]);
    assert_eq!(report.file_errors()[0].position, Some((3, 2)));
    assert!(report.failed());
    assert_eq!(sample_report(true).events().len(), 4);
}

#[test]
fn text_output() {
    let expected = "\
a.ndjson:2: START invalid: /ver: \"2\" is not one of \"3.0\" or \"3.1\" [enum]
a.ndjson:3:2: not JSON: key must be a string
a.ndjson:4: event invalid: (root): no `eid` field [type_field]
b, c.json:1: NOPE invalid: /eid: no schema for event type `NOPE` [schema]

type      valid  invalid
(none)        0        1
NOPE          0        1
START         1        1
total         1        3
4 events in 2 files: 1 valid, 3 invalid; 1 read error
";
    assert_eq!(render_text(&sample_report(false), false), expected);
    let verbose = render_text(&sample_report(true), true);
    assert!(verbose.starts_with("a.ndjson:1: START valid\na.ndjson:2: START invalid"));
}

#[test]
fn streamed_findings_are_the_kept_ones_in_the_same_order() {
    let s = schemas();
    for verbose in [false, true] {
        let mut lines = String::new();
        let mut github = String::new();
        let summary = {
            let mut report = Report::new(verbose);
            report.stream(|f| {
                lines.push_str(&text_finding(f, verbose));
                github.push_str(&github_finding(f));
            });
            report.add_text(&s, "a.ndjson", SAMPLE_NDJSON, Format::Ndjson);
            report.add_text(&s, "b, c.json", SAMPLE_JSON, Format::Json);
            assert!(report.events().is_empty());
            assert_eq!(report.file_errors().len(), 1);
            summary_text(&report)
        };
        let kept = sample_report(verbose);
        assert_eq!(format!("{lines}\n{summary}"), render_text(&kept, verbose));
        assert_eq!(format!("{github}\n{summary}"), render_github(&kept));
    }
}

#[test]
fn json_output() {
    let v = render_json(&sample_report(true));
    assert_eq!(v["events"].as_array().map(Vec::len), Some(4));
    assert_eq!(
        v["events"][1],
        json!({"file": "a.ndjson", "line": 2, "index": 1, "type": "START", "valid": false,
               "errors": [{"pointer": "/ver", "keyword": "enum",
                           "message": "\"2\" is not one of \"3.0\" or \"3.1\""}]})
    );
    assert_eq!(v["events"][2]["type"], Value::Null);
    assert_eq!(
        v["file_errors"],
        json!([{"file": "a.ndjson", "line": 3, "column": 2, "message": "not JSON: key must be a string"}])
    );
    assert_eq!(v["summary"]["START"], json!({"valid": 1, "invalid": 1}));
    assert_eq!(
        v["totals"],
        json!({"files": 2, "events": 4, "valid": 1, "invalid": 3, "file_errors": 1})
    );
}

#[test]
fn github_output_escapes_properties_and_data() {
    let out = render_github(&sample_report(false));
    let lines: Vec<&str> = out.lines().take(4).collect();
    assert_eq!(
        lines,
        vec![
            "::error file=a.ndjson,line=2,title=START invalid::/ver: \"2\" is not one of \"3.0\" or \"3.1\" [enum]",
            "::error file=a.ndjson,line=3,col=2,title=unreadable events file::not JSON: key must be a string",
            "::error file=a.ndjson,line=4,title=event invalid::(root): no `eid` field [type_field]",
            "::error file=b%2C c.json,line=1,title=NOPE invalid::/eid: no schema for event type `NOPE` [schema]",
        ]
    );
    assert!(out.ends_with("4 events in 2 files: 1 valid, 3 invalid; 1 read error\n"));
    assert_eq!(crate::github::escape_data("a%b\r\nc:d,"), "a%25b%0D%0Ac:d,");
    assert_eq!(
        crate::github::escape_property("a%b\nc:d,"),
        "a%25b%0Ac%3Ad%2C"
    );
}

#[test]
fn several_errors_become_lines() {
    let s = schemas();
    let mut report = Report::new(false);
    report.add_text(
        &s,
        "x.json",
        "{\"eid\":\"START\",\"ver\":3,\"edata\":{}}",
        Format::Json,
    );
    let text = render_text(&report, false);
    let mut lines: Vec<&str> = text.lines().take(2).collect();
    lines.sort();
    assert_eq!(
        lines,
        vec![
            "    /ver: 3 is not one of \"3.0\" or \"3.1\" [enum]",
            "x.json:1: START invalid: /ver: 3 is not of type \"string\" [type]",
        ]
    );
    let gh = render_github(&report);
    assert!(gh.contains("[type]%0A/ver: 3 is not one of \"3.0\" or \"3.1\" [enum]\n"));
}

mod no_panic {
    use proptest::prelude::*;

    use super::*;

    const BATCH: &str = "{\"params\": {\"msgid\": \"m\"},\n \"events\": [\n  {\"eid\": \"START\", \"ver\": \"3.0\", \"edata\": {\"type\": \"app\"}},\n  [{\"eid\": \"NOPE\"}, 3, null],\n  {\"ver\": \"x\"}\n ]}\n";

    /// Validates `text` both ways and renders it three ways; checks the lines are in the text.
    fn run(text: &str) {
        let s = schemas();
        let mut report = Report::new(true);
        report.add_text(&s, "a.json", text, Format::Json);
        report.add_text(&s, "a.ndjson", text, Format::Ndjson);
        let lines = text.split('\n').count();
        for e in report.events() {
            assert!(e.line >= 1 && e.line <= lines, "line {} of {lines}", e.line);
        }
        let totals = report.totals();
        assert_eq!(totals.valid + totals.invalid, report.events().len());
        let _ = render_text(&report, true);
        let _ = render_json(&report);
        let _ = render_github(&report);
    }

    fn json_ish() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop_oneof![
                Just("{".to_string()),
                Just("}".to_string()),
                Just("[".to_string()),
                Just("]".to_string()),
                Just(",".to_string()),
                Just(":".to_string()),
                Just("\n".to_string()),
                Just("\"eid\"".to_string()),
                Just("\"events\"".to_string()),
                Just("\"START\"".to_string()),
                Just("1e400".to_string()),
                "\\PC{0,6}",
            ],
            0..40,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
            run(&text);
        }

        #[test]
        fn json_like_text_never_panics(text in json_ish()) {
            run(&text);
        }

        #[test]
        fn mutated_batches_never_panic(cut in 0usize..200, len in 0usize..20, insert in json_ish()) {
            let mut text = BATCH.to_string();
            let start = cut.min(text.len());
            let end = (start + len).min(text.len());
            if text.is_char_boundary(start) && text.is_char_boundary(end) {
                text.replace_range(start..end, &insert);
            }
            run(&text);
        }
    }

    #[test]
    fn the_batch_itself_has_five_events() {
        let s = schemas();
        let mut report = Report::new(true);
        report.add_text(&s, "a.json", BATCH, Format::Json);
        let lines: Vec<(usize, bool)> = report
            .events()
            .iter()
            .map(|e| (e.line, e.valid()))
            .collect();
        assert_eq!(
            lines,
            vec![(3, true), (4, false), (4, false), (4, false), (5, false)]
        );
    }
}
