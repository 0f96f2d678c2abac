//! `pipec run`: the stream jobs of a spec, on the embedded transport: input records from
//! files or stdin, every topic written to `OUT/<topic>.ndjson`, and a count per topic.

use std::path::{Path, PathBuf};

use pipec_compiler::input::read_input;
use pipec_runtime::transport::embedded::{self, RunOptions, RunReport};

use crate::compile::load_manifest;

/// The pipeline ran.
const OK: u8 = 0;
/// The spec has errors, or the run failed.
const FOUND: u8 = 1;
/// A usage or I/O problem.
const USAGE: u8 = 2;

/// Where stores live during the run.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum StoreMode {
    /// As the spec says (Redis where it says Redis).
    Spec,
    /// Every store in memory: no Redis needed (dedup state lasts for the run).
    Memory,
}

/// Arguments of `pipec run`.
#[derive(clap::Args)]
pub struct Args {
    /// Spec file (or a `manifest.json`), or directory holding `pipeline.yaml`.
    #[arg(default_value = ".")]
    pub(crate) path: PathBuf,
    /// Input: an NDJSON file (one record per line), a JSON file (one record, or one per
    /// element of a top-level array), a directory of them, or `-` for stdin (the default).
    #[arg(long, default_value = "-")]
    pub(crate) input: String,
    /// Topic the input is written to (a topic name of the spec). Default: the one external
    /// topic the selected jobs consume, when there is exactly one.
    #[arg(long)]
    pub(crate) topic: Option<String>,
    /// Directory for `<topic>.ndjson` of every topic.
    #[arg(long, default_value = "out/run")]
    pub(crate) out: PathBuf,
    /// Run only this job (repeatable).
    #[arg(long = "job", value_name = "NAME")]
    pub(crate) jobs: Vec<String>,
    /// Where stores live.
    #[arg(long, value_enum, default_value = "spec")]
    pub(crate) stores: StoreMode,
    /// Environment.
    #[arg(long)]
    pub(crate) env: Option<String>,
    /// Run on Kafka instead of in process: each job consumes its source topic in its own
    /// consumer group until SIGTERM or SIGINT. Bootstrap servers: `--brokers`, else
    /// `PIPEC_BROKERS_<CLUSTER>`, else the spec's.
    #[arg(long)]
    pub(crate) kafka: bool,
    /// Kafka bootstrap servers, `HOST:PORT` for every cluster or `CLUSTER=HOST:PORT`
    /// (repeatable); implies `--kafka`.
    #[arg(long, value_name = "[CLUSTER=]HOST:PORT")]
    pub(crate) brokers: Vec<String>,
    /// Serve Prometheus `/metrics` and `/health` here (Kafka runs).
    #[arg(long, value_name = "ADDR")]
    pub(crate) metrics_addr: Option<std::net::SocketAddr>,
    /// With `--kafka`: stop once no record has arrived for this many seconds.
    #[arg(long, value_name = "SECONDS")]
    pub(crate) idle_exit: Option<u64>,
    /// With `--kafka`: commit each job's outputs and the offsets they came from in one
    /// Kafka transaction, so a crash neither loses nor repeats an output. Needs a job's
    /// outputs on the cluster it reads.
    #[arg(long)]
    pub(crate) exactly_once: bool,
    /// With `--exactly-once`: this process's name among a job's replicas, kept across
    /// restarts (transactional id `<consumer group>-<instance>`). Default: `PIPEC_INSTANCE`,
    /// else the host name (a pod's name).
    #[arg(long, value_name = "ID")]
    pub(crate) instance: Option<String>,
    /// With `--kafka`: batches of a job whose outputs may still await the broker's
    /// acknowledgement while the next is processed (offsets are committed only once a
    /// batch and all before it are acknowledged); 0 waits for each batch.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub(crate) unacked_batches: usize,
}

/// Runs `pipec run`.
pub fn run(args: Args) -> u8 {
    let manifest = if args.path.extension().is_some_and(|e| e == "json") {
        // A manifest written by `pipec compile` (the Helm chart mounts a job's part).
        match std::fs::read_to_string(&args.path)
            .map_err(|e| e.to_string())
            .and_then(|t| pipec_compiler::manifest::Manifest::from_json(&t))
        {
            Ok(m) => m,
            Err(e) => {
                eprintln!("error: {}: {e}", args.path.display());
                return USAGE;
            }
        }
    } else {
        match load_manifest(&args.path, args.env.clone()) {
            Ok(m) => m,
            Err(code) => return code,
        }
    };
    if args.kafka || !args.brokers.is_empty() {
        return crate::run_kafka::run(&manifest, &args);
    }
    // Unknown job names first: the default input topic depends on the jobs.
    if let Some(bad) = args.jobs.iter().find(|j| !manifest.jobs.contains_key(*j)) {
        eprintln!(
            "error: no job `{bad}` in pipeline `{}` (jobs: {})",
            manifest.pipeline,
            manifest.jobs.keys().cloned().collect::<Vec<_>>().join(", ")
        );
        return FOUND;
    }
    let topic = match args.topic.clone() {
        Some(t) => t,
        None => match default_topic(&manifest, &args.jobs) {
            Ok(t) => t,
            Err(message) => {
                eprintln!("error: {message}");
                return USAGE;
            }
        },
    };
    let records = match read_input(&args.input) {
        Ok(r) => r,
        Err(message) => {
            eprintln!("error: {message}");
            return USAGE;
        }
    };
    let base_dir = spec_dir(&args.path);
    let opts = RunOptions {
        jobs: args.jobs.clone(),
        input_topic: topic,
        out_dir: Some(args.out.clone()),
        base_dir,
        memory_stores: matches!(args.stores, StoreMode::Memory),
        capture: false,
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return FOUND;
        }
    };
    let input_count = records.len();
    match rt.block_on(embedded::run(&manifest, &opts, records)) {
        Ok(report) => {
            print_report(&manifest, &report, input_count, &args.out);
            OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            FOUND
        }
    }
}

pub fn spec_dir(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.to_path_buf()
    } else {
        path.parent().map(Path::to_path_buf).unwrap_or_default()
    }
}

/// The one external topic the selected jobs read.
fn default_topic(
    m: &pipec_compiler::manifest::Manifest,
    jobs: &[String],
) -> Result<String, String> {
    let mut candidates: Vec<&str> = m
        .jobs
        .iter()
        .filter(|(name, _)| jobs.is_empty() || jobs.contains(name))
        .map(|(_, j)| j.from.as_str())
        .filter(|t| {
            let written_by_reports = m.reports.values().any(|r| {
                r.outputs
                    .iter()
                    .any(|(_, o)| o.topic.as_deref() == Some(*t))
            });
            let written_by_jobs = m.jobs.values().any(|j| j.outputs.iter().any(|o| o == t));
            !written_by_reports
                && (!written_by_jobs || m.topics.get(*t).is_some_and(|t| t.external))
        })
        .collect();
    candidates.sort_unstable();
    candidates.dedup();
    match candidates.as_slice() {
        [one] => Ok((*one).to_string()),
        [] => Err("no job reads an external topic; name the input topic with --topic".into()),
        many => Err(format!(
            "the jobs read several input topics ({}); pick one with --topic",
            many.join(", ")
        )),
    }
}

fn print_report(
    m: &pipec_compiler::manifest::Manifest,
    report: &RunReport,
    input: usize,
    out: &Path,
) {
    let width = report
        .topics
        .keys()
        .map(String::len)
        .max()
        .unwrap_or(5)
        .max(5);
    let kwidth = report
        .topics
        .keys()
        .filter_map(|k| m.topics.get(k))
        .map(|t| t.name.len())
        .max()
        .unwrap_or(10)
        .max(10);
    println!(
        "{:<width$}  {:<kwidth$}  {:>8}",
        "topic", "kafka name", "events"
    );
    for (topic, n) in &report.topics {
        if *n == 0 {
            continue;
        }
        let name = m.topics.get(topic).map_or("", |t| t.name.as_str());
        println!("{topic:<width$}  {name:<kwidth$}  {n:>8}");
    }
    let jwidth = report
        .jobs
        .keys()
        .map(String::len)
        .max()
        .unwrap_or(3)
        .max(3);
    println!(
        "\n{:<jwidth$}  {:>8}  {:>8}  {:>8}  {:>9}  {:>8}  {:>8}",
        "job", "in", "routed", "invalid", "duplicate", "dropped", "errors"
    );
    for (job, steps) in &report.jobs {
        let first = steps.first().map_or(0, |c| c.input);
        let sum = |f: fn(&pipec_runtime::StepCounters) -> u64| steps.iter().map(f).sum::<u64>();
        let routed = sum(|c| c.sent);
        let invalid = sum(|c| c.invalid + c.oversized + c.unparsable);
        let duplicate = sum(|c| c.duplicate);
        let dropped = sum(|c| c.filtered + c.unrouted + c.late);
        let errors = sum(|c| c.errors);
        println!(
            "{job:<jwidth$}  {first:>8}  {routed:>8}  {invalid:>8}  {duplicate:>9}  {dropped:>8}  {errors:>8}"
        );
    }
    for (job, reasons) in &report.rejected {
        println!(
            "{job}: {} record(s) set aside whole (to its dead-letter topic when it has one); first: {}",
            reasons.len(),
            reasons.first().map_or("", String::as_str)
        );
    }
    println!(
        "\n{input} input records; {} jobs ran; topics written to {}",
        report.jobs.len(),
        out.display()
    );
}
