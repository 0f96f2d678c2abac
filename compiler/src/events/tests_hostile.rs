//! Event files built to hurt the reader: deep nesting, bytes that are not UTF-8.

use std::time::Instant;

use super::input::{Format, for_each_event};
use super::render::{github_finding, text_finding};
use super::{EventSchemas, Finding, Report};

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("pipec-events-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn deeply_nested_arrays_are_an_error_not_a_stack_overflow() {
    let depth = 50_000;
    let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let started = Instant::now();
    let mut events = 0;
    let errors = for_each_event(&text, Format::Json, "eid", |_, _| events += 1);
    assert_eq!(events, 0);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].message.contains("nested"), "{errors:?}");
    // Linear, not quadratic: 50,000 levels rescanned per level took minutes.
    assert!(started.elapsed().as_secs() < 10);
}

#[test]
fn nested_arrays_within_the_limit_still_give_their_events_in_order() {
    let text = "[[{\"eid\":\"A\"}, [{\"eid\":\"B\"}]], {\"eid\":\"C\"}]";
    let mut seen = Vec::new();
    let errors = for_each_event(text, Format::Json, "eid", |_, v| {
        seen.push(v["eid"].as_str().unwrap_or("").to_string());
    });
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(seen, ["A", "B", "C"]);
}

#[test]
fn a_json_file_that_is_not_utf8_is_reported_with_its_place_as_it_is_found() {
    let dir = temp_dir("utf8");
    let path = dir.join("bad.json");
    std::fs::write(&path, b"[{\"eid\": \"START\"},\n {\"eid\": \"\xff\xfe\"}]").expect("write");
    let schemas = EventSchemas::new("eid", Vec::new());
    let mut text = Vec::new();
    let mut github = Vec::new();
    {
        let mut report = Report::new(false);
        report.stream(|f: Finding<'_>| {
            text.push(text_finding(f, false));
            github.push(github_finding(f));
        });
        report.add_file(&schemas, &path);
        assert_eq!(report.file_errors().len(), 1);
        let e = &report.file_errors()[0];
        assert_eq!(e.position, Some((2, 11)));
        assert!(e.message.contains("byte 29 of the file"), "{}", e.message);
    }
    let text = text.concat();
    let github = github.concat();
    assert!(text.contains("bad.json:2:11"), "{text}");
    assert!(text.contains("not UTF-8"), "{text}");
    assert!(github.contains("line=2"), "{github}");
    assert!(github.contains("not UTF-8"), "{github}");
    let _ = std::fs::remove_dir_all(&dir);
}
