//! `pipec report`: runs a batch report of a spec (or of a compiled `manifest.json`) for a
//! date, a range of dates (`--from`/`--to`, a backfill) or every report of a date
//! (`--all`), on DataFusion. The crontab and the Helm chart's CronJobs call exactly this.
//! Exit codes: 0 done, 1 a report failed (with the reason), 2 usage.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use pipec_compiler::civil::Date;
use pipec_compiler::manifest::Manifest;
use pipec_runtime::batch::engine::{EngineOptions, default_memory_limit};
use pipec_runtime::batch::outputs::TopicSink;
use pipec_runtime::batch::{ReportOptions, ReportSummary, report};

use crate::common::{brokers, data_root, init_logs, load_any};

/// Every report ran.
const OK: u8 = 0;
/// A report failed.
const FAILED: u8 = 1;
/// A usage problem.
const USAGE: u8 = 2;

/// Arguments of `pipec report`.
#[derive(clap::Args)]
pub struct Args {
    /// The report to run (a name under `reports:`); with `--all`, leave it out.
    pub(crate) name: Option<String>,
    /// Spec file (or a `manifest.json`), or directory holding `pipeline.yaml`.
    pub(crate) path: Option<PathBuf>,
    /// The day the report runs for (`YYYY-MM-DD`, UTC); inputs say which day they read
    /// relative to it. Default: today.
    #[arg(long, value_name = "DATE", conflicts_with_all = ["from", "to"])]
    pub(crate) date: Option<String>,
    /// First day of a backfill (with `--to`): the report runs once per day, oldest first.
    #[arg(long, value_name = "DATE", requires = "to")]
    pub(crate) from: Option<String>,
    /// Last day of a backfill (inclusive).
    #[arg(long, value_name = "DATE", requires = "from")]
    pub(crate) to: Option<String>,
    /// Run every report of the pipeline.
    #[arg(long)]
    pub(crate) all: bool,
    /// Environment.
    #[arg(long)]
    pub(crate) env: Option<String>,
    /// Where backups, input files and output files are: a directory or `s3://bucket/prefix`.
    /// Default: `PIPEC_DATA_DIR`, else `out/data`.
    #[arg(long, value_name = "DIR|URL")]
    pub(crate) data_dir: Option<String>,
    /// Where topic outputs go without Kafka: `<DIR>/<topic>.ndjson`, as `pipec run` writes
    /// topics.
    #[arg(long, default_value = "out/run")]
    pub(crate) out: PathBuf,
    /// Write topic outputs to Kafka (bootstrap servers: `--brokers`, else
    /// `PIPEC_BROKERS_<CLUSTER>`, else the spec's).
    #[arg(long)]
    pub(crate) kafka: bool,
    /// Kafka bootstrap servers, `HOST:PORT` or `CLUSTER=HOST:PORT`; implies `--kafka`.
    #[arg(long, value_name = "[CLUSTER=]HOST:PORT")]
    pub(crate) brokers: Vec<String>,
    /// Memory the query engine may hold (`512MiB`, `4GiB`); past it, sorts and
    /// aggregations spill to disk. Default: half of the memory the process may use (the machine's, or its container's limit when less).
    #[arg(long, value_name = "SIZE")]
    pub(crate) memory_limit: Option<String>,
    /// Where spill files go (default: the system's temporary directory).
    #[arg(long, value_name = "DIR")]
    pub(crate) spill_dir: Option<PathBuf>,
    /// "Now" for models that read the clock, as epoch milliseconds or `YYYY-MM-DD`.
    #[arg(long, value_name = "MS|DATE")]
    pub(crate) now: Option<String>,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    pub(crate) json: bool,
}

/// Runs `pipec report`.
pub fn run(args: Args) -> u8 {
    // With `--all`, a single positional is the path.
    let (name, path) = match (args.all, args.name.clone(), args.path.clone()) {
        (true, Some(n), None) => (None, PathBuf::from(n)),
        (true, None, p) => (None, p.unwrap_or_else(|| PathBuf::from("."))),
        (true, Some(_), Some(_)) => {
            eprintln!("error: `--all` runs every report; leave out the report's name");
            return USAGE;
        }
        (false, Some(n), p) => (Some(n), p.unwrap_or_else(|| PathBuf::from("."))),
        (false, None, _) => {
            eprintln!("error: name a report (`pipec report NAME [PATH]`), or give `--all`");
            return USAGE;
        }
    };
    let dates = match dates(&args) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return USAGE;
        }
    };
    let manifest = match load_any(&path, args.env.clone()) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let names: Vec<String> = match name {
        Some(n) if manifest.reports.contains_key(&n) => vec![n],
        Some(n) => {
            let known: Vec<&str> = manifest.reports.keys().map(String::as_str).collect();
            let hint = pipec_compiler::suggest::suggest(&n, known.iter().copied())
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            eprintln!(
                "error: no report `{n}` in pipeline `{}` (reports: {}){hint}",
                manifest.pipeline,
                known.join(", ")
            );
            return USAGE;
        }
        None => manifest.reports.keys().cloned().collect(),
    };
    let opts = match options(&args, &manifest) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return USAGE;
        }
    };
    let progress = Progress::new(names.len() * dates.len());
    if !progress.bar() {
        init_logs();
    }
    let Some(rt) = crate::common::multi_thread_runtime() else {
        return FAILED;
    };
    let mut failed = 0;
    let mut summaries = Vec::new();
    for date in &dates {
        for n in &names {
            progress.start(n, *date);
            match rt.block_on(report::run(&manifest, n, *date, &opts)) {
                Ok(s) => {
                    progress.done(&s);
                    summaries.push(s);
                }
                Err(e) => {
                    progress.failed(n, *date, &e.to_string());
                    failed += 1;
                }
            }
        }
    }
    progress.finish();
    if args.json {
        let v: Vec<serde_json::Value> = summaries.iter().map(summary_json).collect();
        println!("{}", serde_json::Value::Array(v));
    } else {
        for s in &summaries {
            print_summary(s);
        }
    }
    if failed > 0 { FAILED } else { OK }
}

/// The dates to run: `--date`, `--from`..`--to`, or today.
fn dates(args: &Args) -> Result<Vec<Date>, String> {
    let parse = |flag: &str, s: &str| {
        Date::parse(s).ok_or_else(|| format!("{flag} `{s}` is not a date (YYYY-MM-DD)"))
    };
    match (&args.date, &args.from, &args.to) {
        (Some(d), _, _) => Ok(vec![parse("--date", d)?]),
        (None, Some(f), Some(t)) => {
            let (f, t) = (parse("--from", f)?, parse("--to", t)?);
            if t < f {
                return Err(format!("--to {t} is before --from {f}"));
            }
            if t.days() - f.days() > 3660 {
                return Err("a backfill of more than ten years; run it in parts".into());
            }
            Ok((f.days()..=t.days()).map(Date::from_days).collect())
        }
        _ => Ok(vec![Date::from_epoch_ms(now_ms())]),
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The run's options from the flags and the environment.
fn options(args: &Args, manifest: &Manifest) -> Result<ReportOptions, String> {
    let data = data_root(args.data_dir.as_deref())?;
    let topics = if args.kafka || !args.brokers.is_empty() {
        TopicSink::Kafka(brokers(manifest, &args.brokers)?)
    } else {
        TopicSink::Files(args.out.clone())
    };
    let memory_limit = match &args.memory_limit {
        Some(s) => usize::try_from(
            pipec_compiler::units::parse_size(s)
                .map_err(|e| format!("--memory-limit `{s}`: {}", e.message))?,
        )
        .map_err(|_| format!("--memory-limit `{s}` is too large"))?,
        None => default_memory_limit(),
    };
    let fixed = match &args.now {
        None => None,
        Some(s) => Some(pipec_compiler::civil::parse_instant(s).ok_or_else(|| {
            format!("--now `{s}` is not epoch milliseconds, `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SSZ`")
        })?),
    };
    let now_ms = fixed.unwrap_or_else(now_ms);
    Ok(ReportOptions {
        data,
        topics,
        engine: EngineOptions {
            memory_limit,
            spill_dir: args.spill_dir.clone(),
            now_ms: fixed,
            ..EngineOptions::default()
        },
        now_ms,
    })
}

fn summary_json(s: &ReportSummary) -> serde_json::Value {
    serde_json::json!({
        "report": s.report,
        "date": s.date.to_string(),
        "seconds": s.elapsed.as_secs_f64(),
        "inputs": s.inputs.iter().map(|(src, n)| serde_json::json!({
            "name": src.name, "from": src.from, "rows": n,
        })).collect::<Vec<_>>(),
        "outputs": s.outputs.iter().map(|o| serde_json::json!({
            "name": o.name, "to": o.to, "rows": o.rows,
        })).collect::<Vec<_>>(),
    })
}

fn print_summary(s: &ReportSummary) {
    println!(
        "report {} for {}: done in {:.1} s",
        s.report,
        s.date,
        s.elapsed.as_secs_f64()
    );
    for (src, n) in &s.inputs {
        let rows = n.map_or_else(|| "?".to_string(), |n| n.to_string());
        println!(
            "  read    {:<20} {rows:>12} rows  from {}",
            src.name, src.from
        );
    }
    for o in &s.outputs {
        println!("  wrote   {:<20} {:>12} rows  to {}", o.name, o.rows, o.to);
    }
}

/// Progress on stderr: a bar on a terminal, log lines otherwise (or with
/// `PIPEC_LOG_FORMAT=json`).
struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn new(total: usize) -> Progress {
        let tty = std::io::stderr().is_terminal()
            && std::env::var("PIPEC_LOG_FORMAT").map_or(true, |f| f != "json");
        let bar = tty.then(|| {
            let b = indicatif::ProgressBar::new(total as u64);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}",
            ) {
                b.set_style(style);
            }
            b.enable_steady_tick(Duration::from_millis(120));
            b
        });
        Progress { bar }
    }

    fn bar(&self) -> bool {
        self.bar.is_some()
    }

    fn start(&self, name: &str, date: Date) {
        match &self.bar {
            Some(b) => b.set_message(format!("{name} {date}")),
            None => tracing::info!(report = name, date = %date, "report started"),
        }
    }

    fn done(&self, s: &ReportSummary) {
        match &self.bar {
            Some(b) => b.inc(1),
            None => {
                let rows: u64 = s.outputs.iter().map(|o| o.rows).sum();
                tracing::info!(report = %s.report, date = %s.date, rows_written = rows, seconds = s.elapsed.as_secs_f64(), "report done");
            }
        }
    }

    fn failed(&self, name: &str, date: Date, reason: &str) {
        match &self.bar {
            Some(b) => {
                b.inc(1);
                b.suspend(|| eprintln!("error: report {name} for {date}: {reason}"));
            }
            None => {
                tracing::error!(report = name, date = %date, error = reason, "report failed");
                eprintln!("error: report {name} for {date}: {reason}");
            }
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
