//! Exactly-once on Apache Kafka beyond one process: a second instance of a job with the same
//! transactional id fences the first, whose writes then never appear (read_committed), and
//! the outputs are the embedded run's.

use std::time::{Duration, Instant};

use crate::kafka_generated::*;
use crate::kafka_support::*;
use crate::support::{brokers, scratch, unique_env};

#[test]
fn kafka_a_second_instance_with_the_same_transactional_id_fences_the_first() {
    if !broker_has_transactions() {
        eprintln!("skipped: the broker has no transactions");
        return;
    }
    let b = brokers();
    let env = unique_env("kfence");
    let dir = scratch(&format!("kafka-fence-{env}"));
    apply_topics(&b, &env);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(5, |d| d.as_nanos() as u64);
    let records = generated_raw(&env, seed, GENERATED);
    let input = dir.join("raw.ndjson");
    let text: Vec<String> = records
        .iter()
        .map(|(_, r)| String::from_utf8_lossy(r).into_owned())
        .collect();
    std::fs::write(&input, text.join("\n") + "\n").expect("input");
    let embedded = dir.join("embedded");
    run_embedded(
        "pipelines/igot",
        &env,
        &input,
        &["--topic", "raw", "--job", "pipeline-preprocessor"],
        &embedded,
    );
    let raw = format!("{env}.telemetry.raw");
    let (first, second) = records.split_at(records.len() / 2);
    produce(&b, &raw, first);

    // The first instance, at work on the first half.
    let same = ["--exactly-once", "--instance", "twin"];
    let port_a = free_port();
    let mut a = start_preprocessor("pipelines/igot", &env, &b, &same, port_a);
    assert!(wait_consuming(port_a), "the first instance did not consume");
    // The second, with the same transactional id: its start fences the first.
    let port_b = free_port();
    let mut args_b = same.to_vec();
    args_b.extend(["--idle-exit", "20"]);
    let mut second_instance = start_preprocessor("pipelines/igot", &env, &b, &args_b, port_b);
    let b_started = wait_log(port_b, "consuming");
    // Records for both: the first instance, still holding partitions until the group moves
    // them, reads some of them and cannot write them.
    produce(&b, &raw, second);
    let a_ok = wait(&mut a, Duration::from_secs(180));
    let mut log = String::new();
    read_job_log(port_a, &mut log);
    assert!(b_started, "the second instance did not start:\n{log}");
    assert!(!a_ok, "the fenced instance ended well:\n{log}");
    assert!(
        log.to_lowercase().contains("fenced"),
        "the first instance did not stop for being fenced:\n{log}"
    );
    let b_ok = wait(&mut second_instance, Duration::from_secs(600));
    log.push_str("\n--- second instance:\n");
    read_job_log(port_b, &mut log);
    assert!(b_ok, "the second instance failed:\n{log}");
    assert_nothing_lost(&Killed {
        brokers: b,
        env,
        embedded,
        log,
    });
}

/// Generated batch envelopes for the extractor, `GENERATED` events in all, with a fixed
/// `syncts` (the extractor stamps a batch without one with the time of the run). Producers'
/// ids are those of `env` (the spec dedups their events), and a duplicate carries its
/// original's `context.did` too: `raw` is keyed by it, so the two are in one partition, the
/// original first, as in the embedded run (which copy comes first decides which is the
/// duplicate).
fn generated_batches(env: &str, seed: u64) -> Vec<Vec<u8>> {
    let per_batch = 10;
    let mut g = pipec_runtime::r#gen::Generator::new(pipec_runtime::r#gen::GenOptions {
        events_per_batch: per_batch,
        duplicate_rate: 0.1,
        invalid_rate: 0.05,
        seed,
    });
    let mut dids: std::collections::HashMap<String, serde_json::Value> =
        std::collections::HashMap::new();
    (0..GENERATED / per_batch)
        .map(|_| {
            let mut batch = g.batch_value();
            batch["syncts"] = serde_json::json!(1_529_500_243_591_i64);
            if let Some(events) = batch["events"].as_array_mut() {
                for e in events.iter_mut() {
                    if let Some(id) = e.pointer_mut("/context/pdata/id")
                        && let Some(rest) = id.as_str().and_then(|s| s.strip_prefix("dev."))
                    {
                        *id = serde_json::Value::String(format!("{env}.{rest}"));
                    }
                    let mid = e["mid"].as_str().unwrap_or_default().to_owned();
                    let did = e.pointer("/context/did").cloned();
                    match (dids.get(&mid), e.pointer_mut("/context/did")) {
                        (Some(first), Some(d)) => *d = first.clone(),
                        _ => {
                            if let Some(did) = did {
                                dids.insert(mid, did);
                            }
                        }
                    }
                }
            }
            serde_json::to_vec(&batch).expect("json")
        })
        .collect()
}

/// Starts `pipec run --kafka` of igot's `job` (with `--exactly-once`), metrics on `port`.
fn start_job(job: &str, env: &str, b: &str, extra: &[&str], port: u16) -> std::process::Child {
    let mut args = vec!["--exactly-once", "--instance", "chain"];
    args.extend(extra);
    std::process::Command::new(env!("CARGO_BIN_EXE_pipec"))
        .args([
            "run",
            "pipelines/igot",
            "--env",
            env,
            "--brokers",
            b,
            "--job",
            job,
        ])
        .args(["--metrics-addr", &format!("127.0.0.1:{port}")])
        .args(&args)
        .current_dir(crate::support::root())
        .stdout(std::process::Stdio::null())
        .stderr(job_log_file(port))
        .spawn()
        .expect("spawn pipec run --kafka")
}

#[test]
fn kafka_two_chained_jobs_killed_at_random_give_the_embedded_outputs_with_exactly_once() {
    if !broker_has_transactions() {
        eprintln!("skipped: the broker has no transactions");
        return;
    }
    let b = brokers();
    let env = unique_env("kchain");
    let dir = scratch(&format!("kafka-chain-{env}"));
    apply_topics(&b, &env);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(9, |d| d.as_nanos() as u64);
    let batches = generated_batches(&env, seed);
    let input = dir.join("ingest.ndjson");
    let text: Vec<String> = batches
        .iter()
        .map(|r| String::from_utf8_lossy(r).into_owned())
        .collect();
    std::fs::write(&input, text.join("\n") + "\n").expect("input");
    let embedded = dir.join("embedded");
    run_embedded(
        "pipelines/igot",
        &env,
        &input,
        &[
            "--topic",
            "ingest",
            "--job",
            "telemetry-extractor",
            "--job",
            "pipeline-preprocessor",
        ],
        &embedded,
    );
    // All on partition 0, in order (as the embedded run reads them), a third before each
    // round: each round's extractor has batches to read, and its preprocessor events.
    let records: Vec<(Option<String>, Vec<u8>)> = batches.into_iter().map(|r| (None, r)).collect();
    let ingest = format!("{env}.telemetry.ingest");
    let mut random = random_from(seed);
    let mut log = format!("seed {seed}\n");
    let jobs = ["telemetry-extractor", "pipeline-preprocessor"];
    for (round, chunk) in records.chunks(records.len().div_ceil(3)).enumerate() {
        produce(&b, &ingest, chunk);
        let mut running: Vec<(std::process::Child, u16)> = jobs
            .iter()
            .map(|job| {
                let port = free_port();
                (start_job(job, &env, &b, &[], port), port)
            })
            .collect();
        // The preprocessor killed once it has read a random number of this round's events
        // (waited for 30 s at most: the group waits for the killed members' sessions to
        // end first), then the extractor at a random moment of the next second.
        let target = 1 + random(GENERATED as u64 / 6);
        let (child, port) = &mut running[1];
        let seen = wait_records(*port, jobs[1], target);
        child.kill().expect("kill");
        let _ = child.wait();
        log.push_str(&format!(
            "round {round}: {} killed after {seen} records (aimed at {target}); its log:\n",
            jobs[1]
        ));
        read_job_log(*port, &mut log);
        std::thread::sleep(Duration::from_millis(random(1000)));
        let (child, port) = &mut running[0];
        let seen = records_in_job(*port, jobs[0]);
        child.kill().expect("kill");
        let _ = child.wait();
        log.push_str(&format!(
            "round {round}: {} killed after {} records; its log:\n",
            jobs[0],
            seen.map_or("?".into(), |n| n.to_string())
        ));
        read_job_log(*port, &mut log);
    }
    // Then both until idle: the extractor first.
    let mut last: Vec<(std::process::Child, u16)> = jobs
        .iter()
        .map(|job| {
            let port = free_port();
            (start_job(job, &env, &b, &["--idle-exit", "40"], port), port)
        })
        .collect();
    for (i, (child, port)) in last.iter_mut().enumerate() {
        let ok = wait(child, Duration::from_secs(600));
        log.push_str(&format!("last run of {}:\n", jobs[i]));
        read_job_log(*port, &mut log);
        assert!(ok, "the last run of {} failed:\n{log}", jobs[i]);
    }
    let compared = same_on_kafka(&b, &env, &embedded, &log);
    let rounds: Vec<&str> = log.lines().filter(|l| l.starts_with("round ")).collect();
    eprintln!("{}\n{compared:?}", rounds.join("\n"));
    assert!(
        compared["raw"] > GENERATED * 3 / 4
            && compared["unique"] > GENERATED / 2
            && compared["duplicate"] > GENERATED / 25,
        "{compared:?}"
    );
}

/// Waits (up to 90 s) until the log of the job served on `port` has `what`.
fn wait_log(port: u16, what: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(90);
    while Instant::now() < deadline {
        if std::fs::read_to_string(job_log_path(port)).is_ok_and(|l| l.contains(what)) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// Waits (30 s at most) until `job` served on `port` has consumed `target` records; gives
/// how many it had.
fn wait_records(port: u16, job: &str, target: u64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = 0;
    while seen < target && Instant::now() < deadline {
        seen = records_in_job(port, job).unwrap_or(seen);
        std::thread::sleep(Duration::from_millis(2));
    }
    seen
}

/// The records `job` served on `port` has consumed, from its `/metrics`.
fn records_in_job(port: u16, job: &str) -> Option<u64> {
    let prefix = format!("pipec_records_in_total{{job=\"{job}\"}}");
    http_get(port, "/metrics")?
        .lines()
        .find(|l| l.starts_with(&prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}
