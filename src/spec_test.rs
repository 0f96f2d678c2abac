//! `pipec test`: runs the spec's `tests:` through the same operators as `pipec run`
//! (embedded, stores in memory) and checks what each topic holds afterwards. A failure
//! says which expectation failed, with the events concerned, and where every event went.

use std::path::PathBuf;
use std::time::Instant;

use pipec_compiler::expr::ast::FieldPath;
use pipec_compiler::expr::eval::lookup;
use pipec_compiler::manifest::Manifest;
use pipec_compiler::manifest::spec_tests::{Expect, SpecTest, apply_set};
use pipec_compiler::{CheckOptions, compile};
use pipec_runtime::transport::embedded::{self, RunOptions, RunReport};
use serde_json::Value;

/// Every test passed.
const OK: u8 = 0;
/// A test failed, or the spec has errors.
const FOUND: u8 = 1;
/// A usage problem.
const USAGE: u8 = 2;

/// Arguments of `pipec test`.
#[derive(clap::Args)]
pub struct Args {
    /// Spec file, or directory holding `pipeline.yaml`.
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Run only the tests whose name contains this.
    #[arg(long)]
    filter: Option<String>,
    /// Environment.
    #[arg(long)]
    env: Option<String>,
}

/// Runs `pipec test`.
pub fn run(args: Args) -> u8 {
    let env = args
        .env
        .clone()
        .or_else(|| std::env::var("PIPEC_ENV").ok().filter(|e| !e.is_empty()));
    let lookup_env = |name: &str| std::env::var(name).ok();
    let mut compiled = compile(
        &args.path,
        &CheckOptions {
            env,
            env_lookup: &lookup_env,
        },
    );
    let manifest = match crate::compile::report_compiled(&args.path, &mut compiled) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let tests: Vec<&SpecTest> = compiled
        .tests
        .iter()
        .filter(|t| {
            args.filter
                .as_ref()
                .is_none_or(|f| t.name.contains(f.as_str()))
        })
        .collect();
    if tests.is_empty() {
        eprintln!("{}: no tests to run", args.path.display());
        return if compiled.tests.is_empty() { OK } else { USAGE };
    }
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
    let base_dir = if args.path.is_dir() {
        args.path.clone()
    } else {
        args.path.parent().map(PathBuf::from).unwrap_or_default()
    };
    let (mut passed, mut failed) = (0, 0);
    for t in tests {
        let started = Instant::now();
        let result = run_one(&rt, &manifest, t, &base_dir);
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        match result {
            Ok(()) => {
                passed += 1;
                println!("test {} ... ok ({ms:.1} ms)", t.name);
            }
            Err(why) => {
                failed += 1;
                println!("test {} ... FAILED ({})\n{why}", t.name, t.location);
            }
        }
    }
    println!(
        "\n{}: {passed} passed, {failed} failed",
        if failed == 0 { "ok" } else { "FAILED" }
    );
    if failed == 0 { OK } else { FOUND }
}

fn run_one(
    rt: &tokio::runtime::Runtime,
    manifest: &Manifest,
    t: &SpecTest,
    base_dir: &std::path::Path,
) -> Result<(), String> {
    if let Some(r) = &t.report {
        return run_report_test(rt, manifest, t, r);
    }
    let m = apply_set(manifest, &t.set).map_err(|e| format!("  {e}"))?;
    let m = with_stores(m, &t.stores)?;
    let opts = RunOptions {
        jobs: t.jobs.clone(),
        input_topic: t.input_topic.clone(),
        out_dir: None,
        base_dir: base_dir.to_path_buf(),
        // Tests run in milliseconds and on any machine: every store is in memory.
        memory_stores: true,
        capture: true,
        backups: None,
    };
    // The test's `now:` fixes the clock for its run only.
    pipec_compiler::expr::clock::fix(t.now_ms);
    let report = rt.block_on(embedded::run(&m, &opts, t.records.clone()));
    pipec_compiler::expr::clock::fix(None);
    let report = report.map_err(|e| format!("  the run failed: {e}"))?;
    let mut problems = Vec::new();
    for e in &t.expect {
        let records = report.records.get(&e.topic).map_or(&[][..], Vec::as_slice);
        let events: Vec<Value> = records
            .iter()
            .map(|r| serde_json::from_slice(r).unwrap_or(Value::Null))
            .collect();
        check(e, &events, &mut problems);
    }
    if problems.is_empty() {
        Ok(())
    } else {
        problems.push(where_events_went(t, &report));
        Err(problems.join("\n"))
    }
}

/// `m` with a test's lookup data loaded into its stores, each then a memory store.
fn with_stores(
    mut m: Manifest,
    stores: &[(String, std::path::PathBuf, String)],
) -> Result<Manifest, String> {
    use pipec_compiler::manifest::{MemoryStore, Store};
    for (name, file, key) in stores {
        // Absolute: a store's `load` is read relative to the spec's directory.
        let file = std::path::absolute(file)
            .map_err(|e| format!("  store `{name}`: `{}`: {e}", file.display()))?;
        m.stores.insert(
            name.clone(),
            Store::Memory(MemoryStore {
                max_keys: None,
                ttl_ms: None,
                snapshot: None,
                load: Some(file.to_string_lossy().into_owned()),
                key: Some(key.clone()),
            }),
        );
    }
    Ok(m)
}

/// A report test: the report run on the test's data, each output's rows checked.
fn run_report_test(
    rt: &tokio::runtime::Runtime,
    manifest: &Manifest,
    t: &SpecTest,
    r: &pipec_compiler::manifest::spec_tests::ReportTest,
) -> Result<(), String> {
    let now_ms = r.now_ms.unwrap_or_else(|| {
        r.date
            .as_deref()
            .and_then(pipec_compiler::civil::Date::parse)
            .map_or(0, |d| d.start_ms())
    });
    let captured = rt
        .block_on(pipec_runtime::batch::report::run_test(manifest, r, now_ms))
        .map_err(|e| format!("  the report failed: {e}"))?;
    let mut problems = Vec::new();
    for e in &t.expect {
        let rows = captured.get(&e.topic).map_or(&[][..], Vec::as_slice);
        check(e, rows, &mut problems);
        if let Some(f) = &e.file {
            file_problems(&e.topic, f, rows, &mut problems);
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// Compares rows with the rows of an expected file (CSV with a header, or NDJSON), in any
/// order; CSV cells are compared as the CSV would show the row's values.
fn file_problems(output: &str, path: &std::path::Path, rows: &[Value], problems: &mut Vec<String>) {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            problems.push(format!("  {output}: cannot read `{}`: {e}", path.display()));
            return;
        }
    };
    let csv = path.extension().is_some_and(|x| x == "csv");
    let (mut want, mut got): (Vec<String>, Vec<String>) = if csv {
        let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        let header: Vec<String> = match reader.headers() {
            Ok(h) => h.iter().map(str::to_string).collect(),
            Err(e) => {
                problems.push(format!("  {output}: `{}`: {e}", path.display()));
                return;
            }
        };
        let want = reader
            .records()
            .filter_map(Result::ok)
            .map(|r| r.iter().collect::<Vec<_>>().join("\u{1f}"))
            .collect();
        let got = rows
            .iter()
            .map(|row| {
                header
                    .iter()
                    .map(|h| match row.get(h) {
                        None | Some(Value::Null) => String::new(),
                        Some(Value::String(s)) => s.clone(),
                        Some(v) => v.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join("\u{1f}")
            })
            .collect();
        (want, got)
    } else {
        let want = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                serde_json::from_str::<Value>(l).map_or_else(|_| l.to_string(), |v| v.to_string())
            })
            .collect();
        (want, rows.iter().map(Value::to_string).collect())
    };
    want.sort();
    got.sort();
    if want != got {
        let missing: Vec<&String> = want.iter().filter(|w| !got.contains(w)).take(3).collect();
        let extra: Vec<&String> = got.iter().filter(|g| !want.contains(g)).take(3).collect();
        problems.push(format!(
            "  {output}: rows differ from `{}` ({} expected, {} got)\n      missing: {}\n      unexpected: {}",
            path.display(),
            want.len(),
            got.len(),
            missing.iter().map(|s| s.replace('\u{1f}', " | ")).collect::<Vec<_>>().join("; "),
            extra.iter().map(|s| s.replace('\u{1f}', " | ")).collect::<Vec<_>>().join("; "),
        ));
    }
}

fn check(e: &Expect, events: &[Value], problems: &mut Vec<String>) {
    if let Some(n) = e.count
        && n != events.len() as u64
    {
        problems.push(format!(
            "  {}: expected {n} event{}, got {}{}",
            e.topic,
            if n == 1 { "" } else { "s" },
            events.len(),
            sample(events)
        ));
    }
    for (i, ev) in events.iter().enumerate() {
        for (path, want) in &e.all {
            if let Some(why) = field_problem(ev, path, want) {
                problems.push(format!(
                    "  {}: event {i}: {why}\n      {}",
                    e.topic,
                    short(ev)
                ));
            }
        }
    }
    for (i, fields) in e.events.iter().enumerate() {
        let Some(ev) = events.get(i) else {
            problems.push(format!(
                "  {}: expected an event {i}, but the topic has {}",
                e.topic,
                events.len()
            ));
            continue;
        };
        for (path, want) in fields {
            if let Some(why) = field_problem(ev, path, want) {
                problems.push(format!(
                    "  {}: event {i}: {why}\n      {}",
                    e.topic,
                    short(ev)
                ));
            }
        }
    }
}

/// Why a field does not have the expected value, if it does not.
fn field_problem(ev: &Value, path: &str, want: &Value) -> Option<String> {
    let p = match FieldPath::parse(path) {
        Ok(p) => p,
        Err(e) => return Some(format!("`{path}` is not a field path: {}", e.message)),
    };
    match lookup(ev, &p) {
        Some(got) if same(got, want) => None,
        Some(got) => Some(format!("`{path}` is {got}, expected {want}")),
        None if want.is_null() => None,
        None => Some(format!("`{path}` is missing, expected {want}")),
    }
}

/// Equal, with numbers compared by value (`1` and `1.0`).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 200 {
        let cut = (0..=200)
            .rev()
            .find(|&i| s.is_char_boundary(i))
            .unwrap_or(0);
        format!("{}…", &s[..cut])
    } else {
        s
    }
}

fn sample(events: &[Value]) -> String {
    events
        .iter()
        .take(3)
        .map(|e| format!("\n      {}", short(e)))
        .collect()
}

/// The per-topic counts of the run, and the reason of each dead-lettered event.
fn where_events_went(t: &SpecTest, report: &RunReport) -> String {
    let mut s = format!(
        "  where the {} input record{} went:",
        t.records.len(),
        if t.records.len() == 1 { "" } else { "s" }
    );
    for (topic, n) in &report.topics {
        if *n == 0 || *topic == t.input_topic {
            continue;
        }
        s.push_str(&format!("\n    {topic}: {n}"));
        let reasons: Vec<String> = report
            .records
            .get(topic)
            .into_iter()
            .flatten()
            .filter_map(|r| serde_json::from_slice::<Value>(r).ok())
            .filter_map(|v| {
                v.get("metadata")
                    .and_then(|m| m.get("validation_error"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .take(3)
            .collect();
        for r in reasons {
            s.push_str(&format!("\n      reason: {r}"));
        }
    }
    s
}
