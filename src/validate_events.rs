//! `pipec validate-events`: the CI gate for telemetry events. Validates the events of JSON
//! and NDJSON files against the schemas of their types in a spec, prints the verdicts
//! (text, JSON or GitHub annotations) and exits 1 when any event is invalid.

use std::io::{BufWriter, IsTerminal, Write};
use std::path::PathBuf;

use clap::ValueEnum;
use pipec_compiler::diagnostics::{self, RenderOptions};
use pipec_compiler::events::{Report, collect_files, render};
use pipec_compiler::{CheckOptions, event_schemas};

/// Every event is valid.
const OK: u8 = 0;
/// An event is invalid, or a file could not be read.
const FOUND: u8 = 1;
/// A usage problem, or the spec has errors.
const USAGE: u8 = 2;

/// Output formats.
#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// One line per invalid event, then a summary.
    Text,
    /// One JSON document with every event, the summary and totals.
    Json,
    /// GitHub Actions `::error` commands, then the summary.
    Github,
}

/// Arguments of `pipec validate-events`.
#[derive(clap::Args)]
pub struct Args {
    /// Event files (`.json`, `.ndjson`, `.jsonl`) or directories of them (recursive).
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// The spec: a file, or a directory holding `pipeline.yaml`.
    #[arg(long, default_value = ".")]
    pipeline: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Environment (`{env}`); overrides `vars.env` and `PIPEC_ENV`.
    #[arg(long)]
    env: Option<String>,
    /// Also list the valid events (text format).
    #[arg(long, short)]
    verbose: bool,
}

/// Runs the command and returns its exit code.
pub fn run(args: Args) -> u8 {
    let env = args
        .env
        .or_else(|| std::env::var("PIPEC_ENV").ok().filter(|e| !e.is_empty()));
    let lookup = |name: &str| std::env::var(name).ok();
    let opts = CheckOptions {
        env,
        env_lookup: &lookup,
    };
    let schemas = match event_schemas(&args.pipeline, &opts) {
        Ok(s) => s,
        Err(result) => {
            let diags = result.diagnostics.sorted();
            let mut err = std::io::stderr().lock();
            if let Format::Github = args.format {
                // The spec's problems annotate the spec, as `pipec check --format github` does.
                let text = diagnostics::render_github(&diags, &result.sources);
                let _ = std::io::stdout().lock().write_all(text.as_bytes());
            } else {
                let color =
                    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
                let options = RenderOptions { color, width: 100 };
                let text = diagnostics::render_text(&diags, &result.sources, options);
                let _ = err.write_all(text.as_bytes());
            }
            if !result.usage_error {
                let _ = writeln!(
                    err,
                    "{}: the spec has errors; no events were validated",
                    args.pipeline.display()
                );
            }
            return USAGE;
        }
    };
    let found = match collect_files(&args.paths) {
        Ok(found) => found,
        Err(message) => {
            eprintln!("error: {message}");
            return USAGE;
        }
    };
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    // Whether a finding was printed, to set the summary apart from the findings.
    let mut wrote = false;
    let (summary, failed) = {
        let mut report = match args.format {
            // One document: every verdict is kept until the end.
            Format::Json => Report::new(true),
            // Lines: each finding is printed as it is found.
            Format::Text => {
                let mut report = Report::new(args.verbose);
                let verbose = args.verbose;
                let (out, wrote) = (&mut out, &mut wrote);
                report.stream(move |f| {
                    let text = render::text_finding(f, verbose);
                    *wrote |= !text.is_empty();
                    let _ = out.write_all(text.as_bytes());
                });
                report
            }
            Format::Github => {
                let mut report = Report::new(false);
                let (out, wrote) = (&mut out, &mut wrote);
                report.stream(move |f| {
                    let text = render::github_finding(f);
                    *wrote |= !text.is_empty();
                    let _ = out.write_all(text.as_bytes());
                });
                report
            }
        };
        for (dir, message) in &found.unreadable {
            report.add_unreadable(dir, message);
        }
        for file in &found.files {
            report.add_file(&schemas, file);
        }
        let summary = match args.format {
            Format::Json => format!("{:#}\n", render::render_json(&report)),
            Format::Text | Format::Github => render::summary_text(&report),
        };
        (summary, report.failed())
    };
    if wrote {
        let _ = out.write_all(b"\n");
    }
    let _ = out.write_all(summary.as_bytes());
    let _ = out.flush();
    if failed { FOUND } else { OK }
}
