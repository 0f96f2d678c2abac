//! `pipec run` on the embedded transport: input records from files or stdin, every topic
//! written to `OUT/<topic>.ndjson`, and a count per topic.

use std::path::Path;

use pipec_compiler::civil::Date;
use pipec_compiler::input::{Records, open_input};
use pipec_compiler::manifest::Manifest;
use pipec_runtime::batch::backup::BackupOptions;
use pipec_runtime::batch::events::backup_day;
use pipec_runtime::transport::embedded::{self, RunOptions, RunReport};

use super::args::{Args, StoreMode, spec_dir};

/// The pipeline ran.
const OK: u8 = 0;
/// The spec has errors, or the run failed.
const FOUND: u8 = 1;
/// A usage or I/O problem.
const USAGE: u8 = 2;

/// Runs the jobs of `manifest` on the input, in this process.
pub fn run(manifest: &Manifest, args: &Args) -> u8 {
    // Unknown job names first: the default input topic depends on the jobs.
    if let Some(bad) = args.jobs.iter().find(|j| !manifest.jobs.contains_key(*j)) {
        eprintln!(
            "error: no job `{bad}` in pipeline `{}` (jobs: {})",
            manifest.pipeline,
            manifest.jobs.keys().cloned().collect::<Vec<_>>().join(", ")
        );
        return FOUND;
    }
    let data = match crate::common::data_root(args.data_dir.as_deref()) {
        Ok(d) => d,
        Err(message) => {
            eprintln!("error: {message}");
            return USAGE;
        }
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
    let (topic, input) = if let Some(name) = &args.from_backup {
        // A replay: the stored day goes to the backup's topic.
        let def = match pipec_runtime::batch::backup::backup_def(manifest, name) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("error: {e}");
                return USAGE;
            }
        };
        let Some(day) = args.date.as_deref().and_then(Date::parse) else {
            eprintln!("error: --date must be YYYY-MM-DD");
            return USAGE;
        };
        match rt.block_on(backup_day(manifest, &data, name, day)) {
            Ok(r) => (def.topic.clone(), Input::Stored(r)),
            Err(e) => {
                eprintln!("error: {e}");
                return FOUND;
            }
        }
    } else {
        let topic = match args.topic.clone() {
            Some(t) => t,
            None => match default_topic(manifest, &args.jobs) {
                Ok(t) => t,
                Err(message) => {
                    eprintln!("error: {message}");
                    return USAGE;
                }
            },
        };
        match open_input(&args.input) {
            Ok(r) => (topic, Input::Streamed(r)),
            Err(message) => {
                eprintln!("error: {message}");
                return USAGE;
            }
        }
    };
    let backups = (!args.no_backups && !manifest.backups.is_empty()).then(|| BackupOptions {
        root: data.clone(),
        instance: crate::common::instance(args.instance.as_deref()),
        now_ms: now_ms(),
        skip: args.from_backup.iter().cloned().collect(),
    });
    let base_dir = spec_dir(&args.path);
    let opts = RunOptions {
        jobs: args.jobs.clone(),
        input_topic: topic,
        out_dir: Some(args.out.clone()),
        base_dir,
        memory_stores: matches!(args.stores, StoreMode::Memory),
        capture: false,
        backups,
    };
    let (result, input_count, input_error) = match input {
        Input::Stored(records) => {
            let n = records.len() as u64;
            (
                rt.block_on(embedded::run(manifest, &opts, records)),
                n,
                None,
            )
        }
        Input::Streamed(records) => {
            let reader = Reader::start(records);
            let result = rt.block_on(embedded::run_stream(manifest, &opts, reader.rx));
            let (n, error) = match reader.thread.join() {
                Ok(done) => done,
                Err(_) => (0, Some("the input reader stopped unexpectedly".to_string())),
            };
            (result, n, error)
        }
    };
    match result {
        Ok(report) => {
            print_report(manifest, &report, input_count, &args.out);
            match input_error {
                // What was read ran through the jobs, and its outputs are written; the
                // rest of the input was not read.
                Some(e) => {
                    eprintln!(
                        "error: {e} (the {input_count} records before it ran; the rest was not read)"
                    );
                    USAGE
                }
                None => OK,
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            FOUND
        }
    }
}

/// The records a run reads: a stored day (a replay) or a stream from files or stdin.
enum Input {
    Stored(Vec<Vec<u8>>),
    Streamed(Records),
}

/// Reads the input on a thread of its own, so that a slow source (a FIFO, stdin from a
/// live producer) never blocks the jobs, and a fast one is held back by the bounded queue.
struct Reader {
    rx: tokio::sync::mpsc::Receiver<Vec<u8>>,
    /// Gives the records read and the error that ended the input, if one did.
    thread: std::thread::JoinHandle<(u64, Option<String>)>,
}

/// Records read ahead of the jobs.
const READ_AHEAD: usize = 1024;

impl Reader {
    fn start(mut records: Records) -> Reader {
        let (tx, rx) = tokio::sync::mpsc::channel(READ_AHEAD);
        let thread = std::thread::spawn(move || {
            let mut n = 0u64;
            while let Some(r) = records.next() {
                for note in records.take_notes() {
                    eprintln!("note: {note}");
                }
                match r {
                    Ok(rec) => {
                        if tx.blocking_send(rec).is_err() {
                            // The run stopped (its error is reported by the run).
                            return (n, None);
                        }
                        n += 1;
                    }
                    Err(e) => return (n, Some(e)),
                }
            }
            (n, None)
        });
        Reader { rx, thread }
    }
}

/// The one external topic the selected jobs read.
fn default_topic(m: &Manifest, jobs: &[String]) -> Result<String, String> {
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

fn print_report(m: &Manifest, report: &RunReport, input: u64, out: &Path) {
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
    for (job, (n, reasons)) in &report.rejected {
        println!(
            "{job}: {n} record(s) set aside whole (to its dead-letter topic when it has one); first: {}",
            reasons.first().map_or("", String::as_str)
        );
    }
    for (name, (n, files)) in &report.backups {
        println!(
            "backup {name}: {n} record(s) in {} file(s){}",
            files.len(),
            files
                .first()
                .map(|f| format!(", first {f}"))
                .unwrap_or_default()
        );
    }
    println!(
        "\n{input} input records; {} jobs ran; topics written to {}",
        report.jobs.len(),
        out.display()
    );
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
