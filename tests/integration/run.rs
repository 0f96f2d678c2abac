//! `pipec run` and `pipec test` end to end: the printed tables against the files written,
//! where every input record of the iGOT sample goes, determinism, the errors, and dedup
//! state that outlives the process in a real Redis.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::{copy_dir, root, scratch};

/// Variables that specs read with `${VAR:-default}`, removed so results do not depend on
/// the machine (the same list as `compile.rs`).
const SPEC_VARS: &[&str] = &[
    "KAFKA_BROKERS",
    "INGESTION_KAFKA_BROKERS",
    "INGEST_BROKERS",
    "REDIS_URL",
    "REDIS_META_URL",
    "TELEMETRY_DEFAULT_ORG_ID",
    "PIPEC_ENV",
    "PIPEC_SECRET_REDIS_AUTH_PASSWORD",
];

const SAMPLE: &str = "pipelines/igot/samples/ingestion.ndjson";

/// Runs `pipec` from the repository root with `stdin` as its standard input (empty when
/// `None`), without colour and without the spec variables.
fn pipec_in(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pipec"));
    cmd.args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for v in SPEC_VARS {
        cmd.env_remove(v);
    }
    let mut child = cmd.spawn().expect("spawn pipec");
    let mut pipe = child.stdin.take().expect("stdin pipe");
    let input = stdin.unwrap_or_default().to_vec();
    // A writer thread, so a child that stops reading early cannot dead-lock the test.
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let out = child.wait_with_output().expect("wait for pipec");
    let _ = writer.join();
    out
}

pub(crate) fn show(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// The printed topic table: topic → events (topics with no events are not printed).
fn topic_table(stdout: &str) -> BTreeMap<String, u64> {
    let mut lines = stdout.lines();
    let header = lines.next().unwrap_or_default();
    assert!(header.starts_with("topic"), "no topic table:\n{stdout}");
    lines
        .take_while(|l| !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            let n = cols.last().and_then(|c| c.parse().ok());
            (cols[0].to_string(), n.expect("a count in the last column"))
        })
        .collect()
}

/// The printed job table: job → [in, routed, invalid, duplicate, dropped, errors].
fn job_table(stdout: &str) -> BTreeMap<String, [u64; 6]> {
    stdout
        .lines()
        .skip_while(|l| !l.starts_with("job "))
        .skip(1)
        .take_while(|l| !l.trim().is_empty() && !l.contains(':'))
        .map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(cols.len(), 7, "job row `{l}`");
            let mut n = [0u64; 6];
            for (slot, c) in n.iter_mut().zip(&cols[1..]) {
                *slot = c.parse().expect("a count");
            }
            (cols[0].to_string(), n)
        })
        .collect()
}

fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| ((*k).to_string(), *v)).collect()
}

/// The records of `OUT/<topic>.ndjson`, one per line.
fn records(out: &Path, topic: &str) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(out.join(format!("{topic}.ndjson"))).expect("topic file");
    bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

/// Every file of a run's output directory with its bytes.
fn files(out: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(out)
        .expect("out dir")
        .flatten()
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (name, std::fs::read(e.path()).expect("read output"))
        })
        .collect()
}

fn sample_lines() -> Vec<Vec<u8>> {
    std::fs::read(root().join(SAMPLE))
        .expect("sample")
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

/// The sample's events are from 2018-06-20 (their `ets` 13:06 UTC): the clock is fixed an
/// hour later, as the README's quickstart does, so that they are within de-normalization's
/// ignore period and the run is the same on any day.
const SAMPLE_NOW: &str = "2018-06-20T14:00:00Z";

fn run_igot_sample(out: &Path) -> Output {
    let o = pipec_in(
        &[
            "run",
            "pipelines/igot",
            "--input",
            SAMPLE,
            "--stores",
            "memory",
            "--now",
            SAMPLE_NOW,
            "--out",
            path_str(out),
        ],
        None,
    );
    assert!(o.status.success(), "{}", show(&o));
    o
}

#[test]
fn igot_sample_goes_where_the_spec_says() {
    let out = scratch("run-igot").join("out");
    let o = run_igot_sample(&out);
    let stdout = String::from_utf8_lossy(&o.stdout);
    let topics = topic_table(&stdout);
    // The 7 batches (see samples/README.md): 1 = 21 events (19 LOG, START, ERROR) with msgid
    // M; 2 = line 1 again; 3 = 25 events (19 LOG, START, 3 ASSESS, 2 RESPONSE), no msgid;
    // 4 = 20 events with msgid M; 5 = empty `events`; 6 = no `events`; 7 = not JSON.
    let expected = counts(&[
        // The input, and ingest-router's byte-for-byte copy of it.
        ("ingestion", 7),
        ("ingest", 7),
        // Lines 2 and 4 repeat line 1's msgid.
        ("extractor-duplicate", 2),
        // Line 7 is not JSON. (Line 6, without `events`, is an empty batch, as Sunbird's
        // extractor reads it.)
        ("extractor-failed", 1),
        // Lines 1, 3, 5 and 6 are unpacked: 21 + 25 + 0 + 0 = 46 events; the 38 LOG events go
        // to druid-events-log with one audit LOG event per unpacked batch (4), the other 8 to
        // raw. (The 5 ASSESS/RESPONSE go to assess-raw only when their question is marked
        // "Registration" in the content cache, empty here.)
        ("druid-events-log", 42),
        ("raw", 8),
        // pipeline-preprocessor: one RESPONSE event of line 3 fails its schema; the ERROR
        // event goes to `error`; the other 6 (2 START, 3 ASSESS, 1 RESPONSE) are unique
        // primary events (none has a producer that is deduplicated).
        ("failed", 1),
        ("error", 1),
        ("unique", 6),
        ("unique-primary", 6),
        // error-denormalization turns the one ERROR event into a Druid error event.
        ("druid-events-error", 1),
        // de-normalization-primary: the 6, within the ignore period at the fixed clock.
        ("denorm", 6),
        // druid-validator: all 6 are valid against the Druid schemas; the START of line 3
        // repeats the mid of line 1's (the preprocessor's dedup is by producer, and theirs
        // is not deduplicated), so the validator's dedup on mid sets it aside: 5 reach Druid.
        ("druid-events-telemetry", 5),
        ("duplicate", 1),
    ]);
    assert_eq!(topics, expected, "{stdout}");

    // Every topic of the spec gets a file, empty when nothing was written; the table leaves
    // empty topics out, so a file's line count is its count in the table, or 0.
    let written = files(&out);
    assert!(written.len() > topics.len(), "{written:?}");
    for name in written.keys() {
        let topic = name.strip_suffix(".ndjson").expect(".ndjson file");
        let n = records(&out, topic).len() as u64;
        assert_eq!(n, topics.get(topic).copied().unwrap_or(0), "{name}");
    }

    // Every output line is JSON, except the non-JSON batch, which is copied byte for byte.
    let input = sample_lines();
    let not_json = &input[6];
    assert!(serde_json::from_slice::<serde_json::Value>(not_json).is_err());
    for name in written.keys() {
        let topic = name.strip_suffix(".ndjson").expect(".ndjson file");
        for r in records(&out, topic) {
            if serde_json::from_slice::<serde_json::Value>(&r).is_err() {
                assert!(
                    matches!(topic, "ingestion" | "ingest" | "extractor-failed") && r == *not_json,
                    "not JSON in {topic}: {}",
                    String::from_utf8_lossy(&r)
                );
            }
        }
    }
    // The copies are the input itself; the failed batch is line 7 unchanged.
    assert_eq!(records(&out, "ingestion"), input);
    assert_eq!(records(&out, "ingest"), input);
    assert_eq!(records(&out, "extractor-failed"), vec![input[6].clone()]);
    // The duplicates are lines 2 and 4 (by msgid and size), flagged.
    let msgid = "3fc11963-04e7-4251-83de-18e0dbb5a684";
    let dups: Vec<serde_json::Value> = records(&out, "extractor-duplicate")
        .iter()
        .map(|r| serde_json::from_slice(r).expect("JSON"))
        .collect();
    let sizes: Vec<usize> = dups
        .iter()
        .map(|d| d["events"].as_array().map_or(0, Vec::len))
        .collect();
    assert_eq!(sizes, [21, 20]);
    for d in &dups {
        assert_eq!(d["params"]["msgid"], msgid);
        assert_eq!(d["flags"]["extractor_duplicate"], true);
    }

    // Accounting of the extractor: every input record is a duplicate, failed, or unpacked,
    // and the unpacked records' events are exactly what it routed.
    let jobs = job_table(&stdout);
    let [inp, routed, invalid, duplicate, dropped, errors] = jobs["telemetry-extractor"];
    assert_eq!((inp, invalid, duplicate, dropped, errors), (7, 1, 2, 0, 0));
    // Line 6 has no `events`: an empty batch.
    let unpacked = [&input[0], &input[2], &input[4], &input[5]];
    let events: u64 = unpacked
        .iter()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_slice(l).expect("JSON batch");
            v["events"].as_array().map_or(0, Vec::len) as u64
        })
        .sum();
    assert_eq!(inp, duplicate + invalid + unpacked.len() as u64);
    assert_eq!(events, 46);
    // Routed: the events, and the audit LOG event of each unpacked batch.
    assert_eq!(routed, events + unpacked.len() as u64);
    assert_eq!(routed, topics["druid-events-log"] + topics["raw"]);
    // Every job of the spec ran; the ones whose sources got nothing show zeros.
    assert_eq!(jobs.len(), 9, "{stdout}");
    assert_eq!(jobs["ingest-router"], [7, 7, 0, 0, 0, 0]);
    assert_eq!(jobs["pipeline-preprocessor"], [8, 7, 1, 0, 0, 0]);
    assert_eq!(jobs["de-normalization-primary"], [6, 6, 0, 0, 0, 0]);
    assert_eq!(jobs["druid-validator"], [6, 5, 0, 1, 0, 0]);
    assert!(
        stdout.contains("telemetry-extractor: 1 record(s) set aside whole"),
        "{stdout}"
    );
    assert!(stdout.contains("7 input records; 9 jobs ran"), "{stdout}");
}

#[test]
fn runs_are_deterministic() {
    let dir = scratch("run-determinism");
    let (a, b) = (dir.join("a"), dir.join("b"));
    run_igot_sample(&a);
    run_igot_sample(&b);
    let (fa, fb) = (files(&a), files(&b));
    assert!(!fa.is_empty());
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for (name, bytes) in &fa {
        assert!(fb[name] == *bytes, "{name} differs between two runs");
    }
}

#[test]
fn one_job_from_stdin() {
    // The preprocessor fixtures of Sunbird's test suite, one per line, in file-name order.
    let fixtures = root().join("pipelines/igot/tests/fixtures/pipeline-preprocessor");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&fixtures)
        .expect("preprocessor fixtures")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    assert_eq!(paths.len(), 17);
    let mut ndjson = Vec::new();
    for p in &paths {
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(p).expect("fixture")).expect("fixture JSON");
        serde_json::to_writer(&mut ndjson, &v).expect("serialize");
        ndjson.push(b'\n');
    }

    let out = scratch("run-stdin").join("out");
    let o = pipec_in(
        &[
            "run",
            "pipelines/igot",
            "--job",
            "pipeline-preprocessor",
            "--topic",
            "raw",
            "--stores",
            "memory",
            "--out",
            path_str(&out),
        ],
        Some(&ndjson),
    );
    assert!(o.status.success(), "{}", show(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    // 8 fixtures fail validation: 3 NO_EID (no schema), 1 without `eid`, 2 SUMMARY with
    // wrongly typed fields, a METRICS without `edata.subsystem`, a START without `actor`. The 9 valid ones: LOG to druid-events-log, ERROR to
    // error, AUDIT to audit + unique + unique-primary, INTERACT to unique + secondary,
    // SEARCH, SUMMARY, METRICS, SHARE and ASSESS to unique + primary, and the SHARE is
    // exploded into 3 SHARE_ITEMs to unique + secondary. No duplicate: the one event of a
    // deduplicated producer (INTERACT, dev.sunbird.portal) comes once.
    let expected = counts(&[
        ("raw", 17),
        ("failed", 8),
        ("druid-events-log", 1),
        ("error", 1),
        ("audit", 1),
        ("unique", 10),
        ("unique-primary", 6),
        ("unique-secondary", 4),
    ]);
    assert_eq!(topic_table(&stdout), expected, "{stdout}");
    let jobs = job_table(&stdout);
    assert_eq!(
        jobs,
        BTreeMap::from([("pipeline-preprocessor".to_string(), [17, 9, 8, 0, 0, 0])]),
        "{stdout}"
    );
    assert!(stdout.contains("17 input records; 1 jobs ran"), "{stdout}");
    let eids = |topic: &str| -> Vec<String> {
        records(&out, topic)
            .iter()
            .map(|r| {
                let v: serde_json::Value = serde_json::from_slice(r).expect("JSON");
                v["eid"].as_str().unwrap_or("").to_string()
            })
            .collect()
    };
    assert_eq!(
        eids("unique-secondary"),
        ["INTERACT", "SHARE_ITEM", "SHARE_ITEM", "SHARE_ITEM"]
    );
    assert_eq!(eids("audit"), ["AUDIT"]);
    for r in records(&out, "failed") {
        let v: serde_json::Value = serde_json::from_slice(&r).expect("JSON");
        assert!(v["metadata"]["validation_error"].is_string(), "{v}");
        assert_eq!(v["flags"]["pp_validation_processed"], false, "{v}");
    }
    // What the job does not write stays empty, and the topics of jobs that did not run too.
    assert!(records(&out, "duplicate").is_empty());
    assert!(records(&out, "ingest").is_empty());
}

#[test]
fn unknown_job_lists_the_jobs() {
    let out = scratch("run-unknown-job");
    let o = pipec_in(
        &[
            "run",
            "pipelines/igot",
            "--input",
            SAMPLE,
            "--topic",
            "ingestion",
            "--job",
            "nope",
            "--stores",
            "memory",
            "--out",
            path_str(&out),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no job `nope`"), "{err}");
    assert!(
        err.contains("telemetry-extractor") && err.contains("pipeline-preprocessor"),
        "{err}"
    );
    // Without `--topic` too: the job names are checked before the default input topic is
    // worked out from them.
    let o = pipec_in(
        &[
            "run",
            "pipelines/igot",
            "--input",
            SAMPLE,
            "--job",
            "nope",
            "--stores",
            "memory",
            "--out",
            path_str(&out),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no job `nope`"),
        "{}",
        show(&o)
    );
}

#[test]
fn unknown_topic_is_an_error() {
    let out = scratch("run-unknown-topic");
    let o = pipec_in(
        &[
            "run",
            "pipelines/igot",
            "--input",
            SAMPLE,
            "--topic",
            "nope",
            "--stores",
            "memory",
            "--out",
            path_str(&out),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no topic `nope`"), "{err}");
}

#[test]
fn missing_input_is_a_usage_error() {
    let dir = scratch("run-missing-input");
    let missing = dir.join("no-such-file.ndjson");
    let o = pipec_in(
        &[
            "run",
            "pipelines/igot",
            "--input",
            path_str(&missing),
            "--stores",
            "memory",
            "--out",
            path_str(&dir.join("out")),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("does not exist"), "{err}");
    assert!(!dir.join("out").exists(), "nothing is written");
}

/// A scratch copy of `examples/sunbird-mini` with `edit` applied to its pipeline.yaml.
fn mini_copy(name: &str, edit: impl Fn(String) -> String) -> PathBuf {
    let dir = scratch(name).join("spec");
    copy_dir(&root().join("examples/sunbird-mini"), &dir);
    let file = dir.join("pipeline.yaml");
    let text = std::fs::read_to_string(&file).expect("pipeline.yaml");
    let edited = edit(text.clone());
    assert_ne!(edited, text, "the edit changed nothing");
    std::fs::write(&file, edited).expect("write pipeline.yaml");
    dir
}

#[test]
fn spec_errors_stop_the_run() {
    let spec = mini_copy("run-spec-error", |t| {
        t.replace("    from: ingest\n", "    from: ingestt\n")
    });
    let out = spec.with_file_name("out");
    let o = pipec_in(
        &[
            "run",
            path_str(&spec),
            "--stores",
            "memory",
            "--out",
            path_str(&out),
        ],
        Some(b""),
    );
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("PC0102") && err.contains("unknown topic `ingestt`"),
        "{err}"
    );
    assert!(err.contains("did you mean `ingest`?"), "{err}");
    assert!(!out.exists(), "nothing is written");
}

#[test]
fn several_input_topics_need_topic() {
    // `sessions` reads a second external topic, so the input topic is ambiguous.
    let spec = mini_copy("run-two-inputs", |t| {
        t.replace("    from: unique\n", "    from: other\n")
            .replacen(
                "topics:\n",
                "topics:\n  other: { name: \"{env}.other\", external: true }\n",
                1,
            )
    });
    let o = pipec_in(
        &[
            "run",
            path_str(&spec),
            "--stores",
            "memory",
            "--out",
            path_str(&spec.with_file_name("out")),
        ],
        Some(b""),
    );
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("several input topics (ingest, other); pick one with --topic"),
        "{err}"
    );
}

/// Deletes the Redis keys of one test run (db 15, keys holding its unique suffix) when
/// dropped, so a failing assertion does not leave them behind (they also expire in 1h, the
/// spec's dedup TTL).
struct RedisKeys {
    pattern: String,
}

impl Drop for RedisKeys {
    fn drop(&mut self) {
        let Ok(scan) = Command::new("redis-cli")
            .args(["-n", "15", "--scan", "--pattern", &self.pattern])
            .output()
        else {
            return;
        };
        let keys = String::from_utf8_lossy(&scan.stdout);
        for key in keys.lines().filter(|k| !k.is_empty()) {
            let _ = Command::new("redis-cli")
                .args(["-n", "15", "DEL", key])
                .output();
        }
    }
}

#[test]
fn redis_dedup_state_outlives_the_process() {
    if std::net::TcpStream::connect_timeout(
        &"127.0.0.1:6379".parse().expect("address"),
        Duration::from_secs(1),
    )
    .is_err()
    {
        eprintln!("skipped: no Redis at 127.0.0.1:6379");
        return;
    }
    // Every store in db 15, away from what other runs use. Only telemetry-extractor runs,
    // so only `batch-dedup` opens: the devices store's password is not needed.
    let spec = mini_copy("run-redis", |t| {
        t.replace("db: 7", "db: 15")
            .replace("db: 8", "db: 15")
            .replace("db: 2", "db: 15")
    });
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let suffix = format!("{}-{nanos}", std::process::id());
    let _cleanup = RedisKeys {
        pattern: format!("pipec-runtest-*-{suffix}"),
    };
    let mut input = String::new();
    for i in 0..3 {
        input.push_str(&format!(
            r#"{{"id":"api.telemetry","params":{{"msgid":"pipec-runtest-{i}-{suffix}"}},"events":[{{"eid":"LOG","mid":"log-{i}-{suffix}","ets":1}},{{"eid":"START","mid":"start-{i}-{suffix}","ets":1}}]}}"#
        ));
        input.push('\n');
    }
    let run = |out: &str| {
        let out = spec.with_file_name(out);
        let o = pipec_in(
            &[
                "run",
                path_str(&spec),
                "--job",
                "telemetry-extractor",
                "--stores",
                "spec",
                "--out",
                path_str(&out),
            ],
            Some(input.as_bytes()),
        );
        assert!(o.status.success(), "{}", show(&o));
        let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
        (topic_table(&stdout), job_table(&stdout))
    };
    // First run: 3 new batches, each unpacked into a LOG event and a START event.
    let (topics, jobs) = run("out1");
    assert_eq!(topics, counts(&[("ingest", 3), ("log", 3), ("raw", 3)]));
    assert_eq!(jobs["telemetry-extractor"], [3, 6, 0, 0, 0, 0]);
    // Second process, same input: Redis remembers every msgid, so all 3 are duplicates.
    let (topics, jobs) = run("out2");
    assert_eq!(topics, counts(&[("ingest", 3), ("extractor-duplicate", 3)]));
    assert_eq!(jobs["telemetry-extractor"], [3, 0, 0, 3, 0, 0]);
}

#[test]
fn unreachable_redis_fails_the_run() {
    let spec = mini_copy("run-no-redis", |t| {
        t.replace("127.0.0.1:6379", "127.0.0.1:1")
    });
    let out = spec.with_file_name("out");
    let input = br#"{"params":{"msgid":"pipec-runtest-unreachable"},"events":[{"eid":"LOG"}]}"#;
    let started = Instant::now();
    let o = pipec_in(
        &[
            "run",
            path_str(&spec),
            "--job",
            "telemetry-extractor",
            "--stores",
            "spec",
            "--out",
            path_str(&out),
        ],
        Some(input),
    );
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("redis") && err.contains("127.0.0.1:1"),
        "{err}"
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        !stdout.contains("input records;"),
        "no report of success: {stdout}"
    );
}

#[test]
fn spec_tests_pass_and_fail() {
    let o = pipec_in(&["test", "examples/quickstart"], None);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("test a repeated click is a duplicate ... ok"),
        "{stdout}"
    );

    let dir = scratch("run-test-fails").join("quickstart");
    copy_dir(&root().join("examples/quickstart"), &dir);
    let file = dir.join("pipeline.yaml");
    let text = std::fs::read_to_string(&file).expect("pipeline.yaml");
    assert!(text.contains("\n      clicks: 2\n"));
    std::fs::write(
        &file,
        text.replace("\n      clicks: 2\n", "\n      clicks: 3\n"),
    )
    .expect("write");
    let o = pipec_in(&["test", path_str(&dir)], None);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("test a repeated click is a duplicate ... FAILED"),
        "{stdout}"
    );
    assert!(
        stdout.contains("clicks: expected 3 events, got 2"),
        "{stdout}"
    );
    assert!(
        stdout.contains("where the 6 input records went:"),
        "{stdout}"
    );
}
