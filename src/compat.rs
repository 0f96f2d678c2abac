//! `pipec compat OLD NEW`: whether new schemas can replace old ones, judged as Confluent
//! Schema Registry judges JSON Schemas. Arguments and output here; the work in
//! `pipec_compiler::compat`.

use std::io::Write;
use std::path::PathBuf;

use clap::ValueEnum;
use pipec_compiler::compat::subjects::{Comparison, Options, Outcome, Subject, compare_paths};
use pipec_compiler::compat::{Change, mode_name, pointer_line_col};
use pipec_compiler::github::{self, Annotation, Level};
use pipec_compiler::spec::Compatibility;
use serde_json::{Value, json};

/// Exit code when nothing breaks its mode.
const OK: u8 = 0;
/// Exit code when a change breaks its mode.
const BREAKING: u8 = 1;
/// Exit code of a usage problem, or a schema that cannot be read.
const USAGE: u8 = 2;

/// Arguments of `pipec compat`.
#[derive(clap::Args)]
pub struct Args {
    /// The old schema file, directory of schemas, or spec (directory with `pipeline.yaml`).
    old: PathBuf,
    /// The new one, of the same kind.
    new: PathBuf,
    /// The mode every change must keep. Default: for specs, each type's `compatibility` in
    /// the new spec (or `events.compatibility`); otherwise BACKWARD.
    #[arg(long, value_enum, ignore_case = true)]
    mode: Option<Mode>,
    /// A `$ref` URI prefix mapped to a directory, as `PREFIX=DIR` (repeatable). A relative
    /// DIR is relative to each side: the directory compared, the schema file's directory,
    /// or the spec's directory.
    #[arg(long = "refs", value_name = "PREFIX=DIR", value_parser = parse_ref)]
    refs: Vec<(String, PathBuf)>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(Clone, Copy, ValueEnum)]
enum Mode {
    #[value(name = "BACKWARD")]
    Backward,
    #[value(name = "FORWARD")]
    Forward,
    #[value(name = "FULL")]
    Full,
    #[value(name = "NONE")]
    None,
}

impl From<Mode> for Compatibility {
    fn from(mode: Mode) -> Self {
        match mode {
            Mode::Backward => Compatibility::Backward,
            Mode::Forward => Compatibility::Forward,
            Mode::Full => Compatibility::Full,
            Mode::None => Compatibility::None,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// A line per schema, its breaking changes, a summary.
    Text,
    /// One JSON document.
    Json,
    /// GitHub Actions `::error` commands on the new schema files, then the text.
    Github,
}

fn parse_ref(s: &str) -> Result<(String, PathBuf), String> {
    match s.split_once('=') {
        Some((prefix, dir)) if !prefix.is_empty() && !dir.is_empty() => {
            Ok((prefix.to_string(), PathBuf::from(dir)))
        }
        _ => Err(format!("expected PREFIX=DIR, got `{s}`")),
    }
}

/// Runs `pipec compat`; returns the exit code.
pub fn run(args: Args) -> u8 {
    let lookup = |name: &str| std::env::var(name).ok();
    let opts = Options {
        mode: args.mode.map(Compatibility::from),
        refs: args.refs,
        env_lookup: &lookup,
    };
    let comparison = match compare_paths(&args.old, &args.new, &opts) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {}", e.0);
            return USAGE;
        }
    };
    let text = match args.format {
        Format::Text => render_text(&comparison),
        Format::Json => format!("{:#}\n", render_json(&comparison)),
        Format::Github => {
            let commands = render_github(&comparison);
            let sep = if commands.is_empty() { "" } else { "\n" };
            format!("{commands}{sep}{}", render_text(&comparison))
        }
    };
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    if comparison.failed() {
        USAGE
    } else if comparison.breaks() {
        BREAKING
    } else {
        OK
    }
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// One line per subject, then its breaking changes as `pointer: message`, then a summary.
fn render_text(comparison: &Comparison) -> String {
    let mut out = String::new();
    for s in &comparison.subjects {
        let mode = mode_name(s.mode);
        let line = match &s.outcome {
            Outcome::Compared(report) => {
                let breaking = s.breaking();
                let status = if breaking.is_empty() {
                    "ok".to_string()
                } else {
                    plural(breaking.len(), "breaking change")
                };
                format!(
                    "{}: verdict {}, mode {mode}: {status}",
                    s.name,
                    report.verdict.as_str()
                )
            }
            Outcome::Added => format!("{}: added, mode {mode}: ok", s.name),
            Outcome::Removed if s.breaks() => {
                format!(
                    "{}: removed, mode {mode}: breaking (its data can no longer be read)",
                    s.name
                )
            }
            Outcome::Removed => format!("{}: removed, mode {mode}: ok", s.name),
            Outcome::Failed(_) => format!("{}: cannot compare", s.name),
        };
        out.push_str(&line);
        out.push('\n');
        for c in s.breaking() {
            out.push_str(&format!("  {}: {}\n", c.pointer, c.message));
        }
        if let Outcome::Failed(problems) = &s.outcome {
            for p in problems {
                out.push_str(&format!("  {p}\n"));
            }
        }
    }
    let total = comparison.subjects.len();
    let breaking = comparison.subjects.iter().filter(|s| s.breaks()).count();
    let failed = comparison
        .subjects
        .iter()
        .filter(|s| matches!(s.outcome, Outcome::Failed(_)))
        .count();
    let mut parts = Vec::new();
    if breaking > 0 {
        let verb = if breaking == 1 {
            "breaks its"
        } else {
            "break their"
        };
        parts.push(format!(
            "{breaking} of {} {verb} mode",
            plural(total, "schema")
        ));
    }
    if failed > 0 {
        parts.push(format!(
            "{failed} of {} could not be compared",
            plural(total, "schema")
        ));
    }
    if parts.is_empty() {
        parts.push(format!("ok ({} checked)", plural(total, "schema")));
    }
    let summary = format!("compat: {}", parts.join("; "));
    out.push_str(&summary);
    out.push('\n');
    out
}

/// An `::error` per breaking change, at the place of its pointer in the new schema file
/// (the file a pull request changes; the old one is the base branch's); per schema that
/// could not be compared; and per removed type that breaks its mode (with no file: the
/// schema is gone).
fn render_github(comparison: &Comparison) -> String {
    let mut out = String::new();
    for s in &comparison.subjects {
        let mode = mode_name(s.mode);
        let file = s.new.as_ref().map(|p| p.display().to_string());
        let text = s.new.as_ref().and_then(|p| std::fs::read_to_string(p).ok());
        let title = format!("{} breaks {mode}", s.name);
        for c in s.breaking() {
            let place = text
                .as_deref()
                .and_then(|t| pointer_line_col(t, &c.pointer));
            let at = Annotation {
                file: file.as_deref(),
                line: place.map(|p| p.0),
                col: place.map(|p| p.1),
                title: Some(&title),
                ..Annotation::default()
            };
            let message = format!("{}: {}", c.pointer, c.message);
            out.push_str(&github::command(Level::Error, &at, &message));
        }
        match &s.outcome {
            Outcome::Removed if s.breaks() => {
                let at = Annotation {
                    title: Some(&title),
                    ..Annotation::default()
                };
                let message = format!("{} removed: its data can no longer be read", s.name);
                out.push_str(&github::command(Level::Error, &at, &message));
            }
            Outcome::Failed(problems) => {
                let title = format!("{} cannot be compared", s.name);
                let at = Annotation {
                    file: file.as_deref(),
                    title: Some(&title),
                    ..Annotation::default()
                };
                out.push_str(&github::command(Level::Error, &at, &problems.join("\n")));
            }
            _ => {}
        }
    }
    out
}

fn change_json(c: &Change, s: &Subject) -> Value {
    json!({
        "pointer": c.pointer,
        "kind": c.kind.as_str(),
        "backward_ok": c.backward_ok,
        "forward_ok": c.forward_ok,
        "breaking": c.breaks(s.mode),
        "message": c.message,
    })
}

/// `{inputs, breaking, subjects: [{name, old, new, mode, status, verdict, breaking, changes, errors}]}`.
fn render_json(comparison: &Comparison) -> Value {
    let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
    let subjects: Vec<Value> = comparison
        .subjects
        .iter()
        .map(|s| {
            let (status, verdict, changes, errors) = match &s.outcome {
                Outcome::Compared(r) => {
                    let changes: Vec<Value> = r.changes.iter().map(|c| change_json(c, s)).collect();
                    ("compared", Some(r.verdict.as_str()), changes, Vec::new())
                }
                Outcome::Added => ("added", None, Vec::new(), Vec::new()),
                Outcome::Removed => ("removed", None, Vec::new(), Vec::new()),
                Outcome::Failed(problems) => ("failed", None, Vec::new(), problems.clone()),
            };
            json!({
                "name": s.name,
                "old": path(&s.old),
                "new": path(&s.new),
                "mode": mode_name(s.mode),
                "status": status,
                "verdict": verdict,
                "breaking": s.breaks(),
                "changes": changes,
                "errors": errors,
            })
        })
        .collect();
    json!({
        "inputs": comparison.inputs.as_str(),
        "breaking": comparison.breaks(),
        "subjects": subjects,
    })
}
