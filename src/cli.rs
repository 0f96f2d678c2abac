//! Command-line arguments and the output layer of each command.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use pipec_compiler::diagnostics::{self, RenderOptions};
use pipec_compiler::{CheckOptions, check};

/// Exit code of a clean run.
const OK: u8 = 0;
/// Exit code when the spec has errors.
const FOUND: u8 = 1;
/// Exit code of a usage or I/O problem.
const USAGE: u8 = 2;

#[derive(Parser)]
#[command(
    name = "pipec",
    version,
    about = "Compiler and runtime for telemetry pipelines declared as configuration"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// Diagnostics with their source lines, on stderr.
    Text,
    /// A JSON array of diagnostics.
    Json,
    /// GitHub Actions `::error`/`::warning` commands, then the summary line.
    Github,
}

#[derive(Subcommand)]
enum Command {
    /// Validate a spec and report every problem with its place.
    Check {
        /// Spec file, or directory holding `pipeline.yaml`.
        #[arg(default_value = ".")]
        path: PathBuf,
        /// Environment (`{env}`); overrides `vars.env` and `PIPEC_ENV`.
        #[arg(long)]
        env: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Treat warnings as errors (exit 1).
        #[arg(long)]
        deny_warnings: bool,
        /// Colour: auto, always or never.
        #[arg(long, default_value = "auto")]
        color: String,
    },
    /// Compile the spec into a manifest, Kafka topic configs, a Helm chart, a crontab and
    /// the pipeline graph.
    Compile(crate::compile::CompileArgs),
    /// Show what deploying the spec would change, compared with a previous manifest and/or
    /// the live Kafka clusters: topics, schemas (with their compatibility verdict), jobs and
    /// report schedules.
    Plan(crate::plan::Args),
    /// Apply the topic changes of a plan to the live Kafka clusters (creates, partition
    /// increases, config changes; deletes only with --allow-delete).
    Apply(crate::apply::Args),
    /// Print the topics and jobs as a graph (Mermaid or DOT).
    Graph(crate::compile::GraphArgs),
    /// Run the stream jobs in this process (embedded: no broker); every topic is written
    /// to OUT/<topic>.ndjson.
    Run(crate::run::Args),
    /// Run a batch report for a date (or a range of dates, or every report): SQL or the
    /// workflow summary, on DataFusion, over backups, files and PostgreSQL tables.
    Report(crate::report::Args),
    /// Run the spec's tests through the stream jobs.
    Test(crate::spec_test::Args),
    /// Print the long explanation of a diagnostic code (`PC0102`), or `functions`.
    Explain {
        /// The code, `functions`, or `all` to list the codes.
        code: String,
    },
    /// Print the JSON Schema of the spec format (for editors' YAML language servers).
    Schema,
    /// Check that new event schemas are compatible with old ones (as Confluent judges).
    Compat(crate::compat::Args),
    /// Validate telemetry events (JSON, NDJSON) against the schemas of their types.
    ValidateEvents(crate::validate_events::Args),
    /// Print the shell completion script of pipec (`source <(pipec completions bash)`).
    Completions(crate::habits::CompletionsArgs),
    /// Print pipec's man page (roff), or write one page per command into a directory.
    Man(crate::habits::ManArgs),
}

/// Parses the arguments and runs the command.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if !e.use_stderr() {
                OK
            } else if crate::plan::detailed_exitcode_asked(std::env::args_os()) {
                // Terraform's convention: with the flag, 2 means "changes" and every error
                // is 1, a usage error included, so that a script never reads a typo as a plan.
                crate::plan::ERROR
            } else {
                USAGE
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    ExitCode::from(match cli.command {
        Command::Check {
            path,
            env,
            format,
            deny_warnings,
            color,
        } => cmd_check(path, env, format, deny_warnings, &color),
        Command::Compile(args) => crate::compile::run_compile(args),
        Command::Plan(args) => crate::plan::run(args),
        Command::Apply(args) => crate::apply::run(args),
        Command::Graph(args) => crate::compile::run_graph(args),
        Command::Run(args) => crate::run::run(args),
        Command::Report(args) => crate::report::run(args),
        Command::Test(args) => crate::spec_test::run(args),
        Command::Explain { code } => cmd_explain(&code),
        Command::Schema => {
            println!("{}", pipec_compiler::spec_json_schema());
            OK
        }
        Command::Compat(args) => crate::compat::run(args),
        Command::ValidateEvents(args) => crate::validate_events::run(args),
        Command::Completions(args) => crate::habits::completions(&args),
        Command::Man(args) => crate::habits::man(&args),
    })
}

fn cmd_check(
    path: PathBuf,
    env: Option<String>,
    format: Format,
    deny_warnings: bool,
    color: &str,
) -> u8 {
    let env = env.or_else(|| std::env::var("PIPEC_ENV").ok().filter(|e| !e.is_empty()));
    let lookup = |name: &str| std::env::var(name).ok();
    let mut result = check(
        &path,
        &CheckOptions {
            env,
            env_lookup: &lookup,
        },
    );
    crate::sqlcheck::check(&mut result);
    let diags = result.diagnostics.sorted();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match format {
        Format::Json => {
            let json = diagnostics::render_json(&diags, &result.sources);
            let _ = writeln!(out, "{json:#}");
        }
        Format::Github => {
            let text = diagnostics::render_github(&diags, &result.sources);
            let _ = out.write_all(text.as_bytes());
            if !text.is_empty() {
                let _ = writeln!(out);
            }
            let _ = writeln!(out, "{}", summary_line(&path, &result.diagnostics));
        }
        Format::Text => {
            let color = match color {
                "always" => true,
                "never" => false,
                _ => std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
            };
            let text = diagnostics::render_text(
                &diags,
                &result.sources,
                RenderOptions { color, width: 100 },
            );
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(text.as_bytes());
            let summary = summary_line(&path, &result.diagnostics);
            let _ = writeln!(err, "{summary}");
        }
    }
    if result.usage_error {
        USAGE
    } else if result.diagnostics.has_errors()
        || (deny_warnings && result.diagnostics.warning_count() > 0)
    {
        FOUND
    } else {
        OK
    }
}

/// `PATH: ok`, or `PATH: N errors, M warnings`.
fn summary_line(path: &std::path::Path, diags: &diagnostics::Diagnostics) -> String {
    let errors = diags.error_count();
    let warnings = diags.warning_count();
    if errors + warnings == 0 {
        format!("{}: ok", path.display())
    } else {
        format!(
            "{}: {errors} error{}, {warnings} warning{}",
            path.display(),
            if errors == 1 { "" } else { "s" },
            if warnings == 1 { "" } else { "s" }
        )
    }
}

fn cmd_explain(code: &str) -> u8 {
    if code.eq_ignore_ascii_case("functions") {
        println!("{}", pipec_compiler::functions_reference());
        return OK;
    }
    if code.eq_ignore_ascii_case("all") {
        for c in diagnostics::CODES {
            println!("{}  {}", c.code, c.title);
        }
        return OK;
    }
    match diagnostics::explain(code) {
        Some(info) => {
            println!("{}: {}\n\n{}", info.code, info.title, info.explanation);
            OK
        }
        None => {
            eprintln!("error: unknown code `{code}`; `pipec explain all` lists the codes");
            USAGE
        }
    }
}
