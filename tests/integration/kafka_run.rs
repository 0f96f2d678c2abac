//! `pipec run --kafka` against a real Apache Kafka broker (`PIPEC_TEST_BROKERS`, default
//! `127.0.0.1:9092`, where `scripts/test` starts one): the same input through the embedded
//! transport and through the broker gives the same events on every topic, compared as
//! multisets of JSON values (partitioning reorders records; nothing else may differ) — also
//! when the job process is killed (SIGKILL) and restarted while it works, and when a broker
//! of the test's own is killed and restarted under it.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::kafka_generated::*;
use crate::kafka_support::*;
use crate::support::{brokers, copy_dir, pipec, root, scratch, unique_env};

#[test]
fn kafka_and_embedded_give_the_same_events_on_every_topic() {
    let env = unique_env("keq");
    let dir = scratch(&format!("kafka-eq-{env}"));
    let (input, records) = sample(&dir);
    let b = brokers();

    apply_topics(&b, &env);

    // Embedded.
    let out = dir.join("embedded");
    run_embedded("pipelines/igot", &env, &input, &[], &out);

    // Kafka: the input produced to the ingestion topic (what the embedded run reads by
    // default), every job run until idle.
    let records: Vec<(Option<String>, Vec<u8>)> = records.into_iter().map(|r| (None, r)).collect();
    produce(&b, &format!("{env}.telemetry.ingestion"), &records);
    let metrics_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
        l.local_addr().expect("addr").port()
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_pipec"))
        .args([
            "run",
            "pipelines/igot",
            "--env",
            &env,
            "--brokers",
            &b,
            "--stores",
            "memory",
            "--idle-exit",
            "12",
            "--metrics-addr",
            &format!("127.0.0.1:{metrics_port}"),
        ])
        .current_dir(root())
        .stdout(Stdio::null())
        .stderr(job_log_file(metrics_port))
        .spawn()
        .expect("spawn pipec run --kafka");
    // While it runs, /metrics serves the counters.
    let mut metrics = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(500));
        if let Some(m) = http_get(metrics_port, "/metrics")
            && m.contains("pipec_records_in_total{job=\"telemetry-extractor\"} 7")
            && m.contains("pipec_produced_total{job=\"telemetry-extractor\"")
        {
            metrics = m;
            break;
        }
    }
    let status = wait(&mut child, Duration::from_secs(180));
    let mut stderr = String::new();
    read_job_log(metrics_port, &mut stderr);
    assert!(status, "pipec run --kafka failed:\n{stderr}");
    assert!(
        metrics.contains("pipec_step_events_total{job=\"telemetry-extractor\",step=\"0\",kind=\"dedup\",outcome=\"in\"} 7"),
        "metrics while running:\n{metrics}\n{stderr}"
    );
    assert!(
        metrics.contains("pipec_produced_total{job=\"telemetry-extractor\""),
        "{metrics}"
    );

    // Records without a key stay on the partition of the record they came from: the input,
    // all on partition 0, is on partition 0 of the router's output too, in its order.
    let ingest = format!("{env}.telemetry.ingest");
    let per_partition = partition_sizes(&b, &ingest);
    assert!(per_partition.len() > 1, "{ingest}: {per_partition:?}");
    assert_eq!(
        per_partition
            .iter()
            .map(|(p, n)| (*p, *n > 0))
            .collect::<Vec<_>>(),
        per_partition
            .iter()
            .map(|(p, _)| (*p, *p == 0))
            .collect::<Vec<_>>(),
        "{ingest}: records per partition {per_partition:?}"
    );

    // Compare topic by topic.
    let compared = same_on_kafka(&b, &env, &out, &stderr);
    // The comparison covered real traffic, not only empty topics.
    assert!(
        compared["raw"] > 0 && compared["unique"] > 0,
        "{compared:?}"
    );
}

/// The broker is killed (SIGKILL) while the preprocessor works and started again a few
/// seconds later: the job process rides it out — it reconnects, goes on from where it
/// was, and every topic ends with exactly what the embedded transport writes.
#[test]
fn a_job_goes_on_when_its_broker_restarts() {
    let mut broker = OwnBroker::start(&unique_env("brs"));
    let b = broker.address();
    let g = generated_on(&b, "brs");
    let mut random = random_from(g.seed);
    let mut log = format!("seed {}\n", g.seed);
    let port = free_port();
    // Idle for a minute before it stops: no record comes while the broker is away (3 s) and
    // starts again (15-20 s here).
    let mut child = start_preprocessor("pipelines/igot", &g.env, &b, &["--idle-exit", "60"], port);
    assert!(wait_consuming(port), "the job did not start consuming");
    let after = random(200);
    std::thread::sleep(Duration::from_millis(after));
    broker.kill();
    let consumed_before = records_in(port);
    std::thread::sleep(Duration::from_secs(3));
    broker.restart();
    log.push_str(&format!(
        "broker killed {after} ms after consumption began, restarted 3 s later\n"
    ));
    let ok = wait(&mut child, Duration::from_secs(600));
    read_job_log(port, &mut log);
    assert!(ok, "the job did not survive the broker's restart:\n{log}");
    // It was still working when the broker went away.
    let before = consumed_before.unwrap_or(0);
    assert!(
        before < GENERATED as u64,
        "the job had finished before the broker was killed:\n{log}"
    );
    // And it saw the broker go.
    assert!(
        ["consumer error", "brokers are down", "Connection refused"]
            .iter()
            .any(|s| log.contains(s)),
        "the job's log shows no sign of the broker's absence:\n{log}"
    );
    let warnings: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(" WARN ") || l.contains("consumed again"))
        .collect();
    eprintln!(
        "{before} of {GENERATED} records consumed when the broker was killed; the job's warnings \
         and records consumed again ({}):\n{}",
        warnings.len(),
        warnings
            .iter()
            .take(20)
            .copied()
            .collect::<Vec<_>>()
            .join("\n")
    );
    let k = Killed {
        brokers: b,
        env: g.env,
        embedded: g.embedded,
        log,
    };
    assert_nothing_lost(&k);
}

/// At-least-once (the default), killed and restarted: every topic ends with exactly what the
/// embedded transport writes. Dedup keys carry position tokens (an event consumed again is
/// not a duplicate of itself) and outputs their source's (a restarted job does not produce
/// again what the broker stored before the kill).
#[test]
fn a_killed_job_loses_and_repeats_nothing_at_least_once() {
    let k = kill_and_restart("pipelines/igot", "kal", &[]);
    assert_nothing_lost(&k);
}

/// The same with the dedup store in memory, snapshotted (`snapshot:`): offsets are committed
/// only after a snapshot, and a restarted job loads it, so it resumes consistently.
#[test]
fn a_killed_job_with_a_snapshotted_memory_store_loses_and_repeats_nothing() {
    let dir = scratch("kafka-kill-memory-spec");
    let spec = dir.join("igot");
    copy_dir(&root().join("pipelines/igot"), &spec);
    let yaml = std::fs::read_to_string(spec.join("pipeline.yaml")).expect("pipeline.yaml");
    let line = yaml
        .lines()
        .find(|l| l.trim_start().starts_with("preprocessor-dedup:"))
        .expect("the preprocessor's store");
    let memory = "  preprocessor-dedup: { memory: { snapshot: state/preprocessor-dedup.snap } }";
    std::fs::write(spec.join("pipeline.yaml"), yaml.replace(line, memory)).expect("write");
    let k = kill_and_restart(&spec.to_string_lossy(), "kms", &[]);
    assert_nothing_lost(&k);
    assert!(spec.join("state/preprocessor-dedup.snap").exists());
}

/// Exactly-once, killed and restarted: every topic holds exactly what the embedded
/// transport writes — nothing lost, nothing twice. On a Kafka-protocol broker without
/// transactions (no EndTxn API: Tansu 0.6, when `PIPEC_TEST_BROKERS` names one),
/// `--exactly-once` must instead be refused before anything is consumed, and that is checked.
#[test]
fn a_killed_job_loses_and_repeats_nothing_with_exactly_once() {
    if !broker_has_transactions() {
        let env = unique_env("keo");
        apply_topics(&brokers(), &env);
        let o = pipec(&[
            "run",
            "pipelines/igot",
            "--env",
            &env,
            "--brokers",
            &brokers(),
            "--job",
            "pipeline-preprocessor",
            "--exactly-once",
            "--idle-exit",
            "5",
        ]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("does not implement Kafka transactions (no EndTxn API"),
            "{stderr}"
        );
        eprintln!(
            "the broker at {} has no transactions: --exactly-once refused; the kill test needs a Kafka broker",
            brokers()
        );
        return;
    }
    let k = kill_and_restart(
        "pipelines/igot",
        "keo",
        &["--exactly-once", "--instance", "test"],
    );
    assert_nothing_lost(&k);
}
