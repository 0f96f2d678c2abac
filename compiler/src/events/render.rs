//! The three outputs of `pipec validate-events`: text for people, a JSON document for
//! tools, and GitHub Actions workflow commands that annotate the files of a pull request.
//!
//! The JSON document (stable; fields are only ever added):
//!
//! ```json
//! {
//!   "events": [{"file": "a.json", "line": 1, "index": 0, "type": "START", "valid": false,
//!               "errors": [{"pointer": "/ver", "keyword": "enum", "message": "..."}]}],
//!   "file_errors": [{"file": "b.json", "line": 3, "column": 7, "message": "not JSON: ..."}],
//!   "summary": {"START": {"valid": 0, "invalid": 1}},
//!   "totals": {"files": 2, "events": 1, "valid": 0, "invalid": 1, "file_errors": 1}
//! }
//! ```
//!
//! `type` is `null` for an event without a string type field; such events are counted
//! under `"(none)"` in `summary`. `line` and `column` of a file error are `null` when the
//! file could not be read at all.

use std::fmt::Write as _;

use serde_json::{Map, Value, json};

use super::report::{Finding, Report, TypeCounts};
use crate::github::{self, Annotation, Level};

/// One line per invalid event (`file:line: TYPE invalid: /pointer: reason [keyword]`),
/// an indented line per further error, a line per file error, then the summary. With
/// `verbose`, valid events get a line too (when the report kept them).
pub fn render_text(report: &Report<'_>, verbose: bool) -> String {
    let mut out = String::new();
    for finding in in_order(report) {
        out.push_str(&text_finding(finding, verbose));
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(&summary_text(report));
    out
}

/// The lines of one finding in the text format (none for a valid event unless `verbose`).
pub fn text_finding(finding: Finding<'_>, verbose: bool) -> String {
    let mut out = String::new();
    match finding {
        Finding::Event(file, e) => {
            let what = e.type_name.as_deref().unwrap_or("event");
            match e.errors.split_first() {
                None if verbose => {
                    let _ = writeln!(out, "{file}:{}: {what} valid", e.line);
                }
                None => {}
                Some((first, rest)) => {
                    let _ = writeln!(
                        out,
                        "{file}:{}: {what} invalid: {}",
                        e.line,
                        error_text(first)
                    );
                    for err in rest {
                        let _ = writeln!(out, "    {}", error_text(err));
                    }
                }
            }
        }
        Finding::FileError(file, e) => {
            let _ = match e.position {
                Some((line, column)) => writeln!(out, "{file}:{line}:{column}: {}", e.message),
                None => writeln!(out, "{file}: {}", e.message),
            };
        }
    }
    out
}

fn error_text(e: &super::EventError) -> String {
    let pointer = if e.pointer.is_empty() {
        "(root)"
    } else {
        &e.pointer
    };
    format!("{pointer}: {} [{}]", e.message, e.keyword)
}

/// The table of counts per type and verdict, with totals, and a closing sentence.
pub fn summary_text(report: &Report<'_>) -> String {
    let mut out = String::new();
    let totals = report.totals();
    let summary = report.summary();
    if !summary.is_empty() {
        let width = summary
            .keys()
            .map(|k| k.chars().count())
            .chain([4, 5])
            .max()
            .unwrap_or(5);
        let num = totals.valid.max(totals.invalid).to_string().len().max(7);
        let _ = writeln!(
            out,
            "{:<width$}  {:>num$}  {:>num$}",
            "type", "valid", "invalid"
        );
        for (name, c) in summary {
            let _ = writeln!(
                out,
                "{name:<width$}  {:>num$}  {:>num$}",
                c.valid, c.invalid
            );
        }
        let _ = writeln!(
            out,
            "{:<width$}  {:>num$}  {:>num$}",
            "total", totals.valid, totals.invalid
        );
    }
    let events = totals.valid + totals.invalid;
    let _ = write!(
        out,
        "{} in {}: {} valid, {} invalid",
        plural(events, "event"),
        plural(report.files().len(), "file"),
        totals.valid,
        totals.invalid
    );
    let errors = report.file_errors().len();
    if errors > 0 {
        let _ = write!(out, "; {}", plural(errors, "read error"));
    }
    out.push('\n');
    out
}

/// The JSON document described in the module documentation.
pub fn render_json(report: &Report<'_>) -> Value {
    let events: Vec<Value> = report
        .events()
        .iter()
        .map(|e| {
            let errors: Vec<Value> = e
                .errors
                .iter()
                .map(|x| json!({"pointer": x.pointer, "keyword": x.keyword, "message": x.message}))
                .collect();
            json!({
                "file": file_name(report, e.file),
                "line": e.line,
                "index": e.index,
                "type": e.type_name,
                "valid": e.valid(),
                "errors": errors,
            })
        })
        .collect();
    let file_errors: Vec<Value> = report
        .file_errors()
        .iter()
        .map(|e| {
            json!({
                "file": file_name(report, e.file),
                "line": e.position.map(|p| p.0),
                "column": e.position.map(|p| p.1),
                "message": e.message,
            })
        })
        .collect();
    let summary: Map<String, Value> = report
        .summary()
        .iter()
        .map(|(name, c)| (name.clone(), counts_json(*c)))
        .collect();
    let totals = report.totals();
    json!({
        "events": events,
        "file_errors": file_errors,
        "summary": summary,
        "totals": {
            "files": report.files().len(),
            "events": totals.valid + totals.invalid,
            "valid": totals.valid,
            "invalid": totals.invalid,
            "file_errors": report.file_errors().len(),
        },
    })
}

fn counts_json(c: TypeCounts) -> Value {
    json!({"valid": c.valid, "invalid": c.invalid})
}

/// An `::error` workflow command per invalid event (its errors one per line of the
/// message) and per file error, then the summary as plain text.
pub fn render_github(report: &Report<'_>) -> String {
    let mut out = String::new();
    for finding in in_order(report) {
        out.push_str(&github_finding(finding));
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(&summary_text(report));
    out
}

/// The workflow command of one finding (none for a valid event).
pub fn github_finding(finding: Finding<'_>) -> String {
    match finding {
        Finding::Event(_, e) if e.valid() => String::new(),
        Finding::Event(file, e) => {
            let what = e.type_name.as_deref().unwrap_or("event");
            let message: Vec<String> = e.errors.iter().map(error_text).collect();
            let title = format!("{what} invalid");
            let at = Annotation {
                file: Some(file),
                line: Some(e.line),
                title: Some(&title),
                ..Annotation::default()
            };
            github::command(Level::Error, &at, &message.join("\n"))
        }
        Finding::FileError(file, e) => {
            let at = Annotation {
                file: Some(file),
                line: e.position.map(|p| p.0),
                col: e.position.map(|p| p.1),
                title: Some("unreadable events file"),
                ..Annotation::default()
            };
            github::command(Level::Error, &at, &e.message)
        }
    }
}

/// Events and file errors merged by file, then line.
fn in_order<'r>(report: &'r Report<'_>) -> Vec<Finding<'r>> {
    let mut events = report.events().iter().peekable();
    let mut errors = report.file_errors().iter().peekable();
    let mut out = Vec::with_capacity(report.events().len() + report.file_errors().len());
    loop {
        let take_event = match (events.peek(), errors.peek()) {
            (None, None) => return out,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(e), Some(x)) => (e.file, e.line) <= (x.file, x.position.map_or(0, |p| p.0)),
        };
        if take_event {
            out.extend(
                events
                    .next()
                    .map(|e| Finding::Event(file_name(report, e.file), e)),
            );
        } else {
            out.extend(
                errors
                    .next()
                    .map(|e| Finding::FileError(file_name(report, e.file), e)),
            );
        }
    }
}

fn file_name<'r>(report: &'r Report<'_>, file: usize) -> &'r str {
    report.files().get(file).map_or("?", String::as_str)
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}
