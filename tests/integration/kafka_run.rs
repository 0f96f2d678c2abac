//! `pipec run --kafka` against a real Kafka-protocol broker (`PIPEC_TEST_BROKERS`, default
//! `127.0.0.1:9092`, Tansu under `scripts/test`): the same input through the embedded
//! transport and through the broker gives the same events on every topic, compared as
//! multisets of JSON values (partitioning reorders records; nothing else may differ).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use serde_json::Value;

use crate::support::{brokers, pipec, root, scratch, unique_env};

/// The shipped sample, with a fixed `syncts` on the one batch that has none (the extractor
/// would stamp it with the time of the run, which differs between the two runs).
fn sample(dir: &Path) -> (std::path::PathBuf, Vec<Vec<u8>>) {
    let text = std::fs::read_to_string(root().join("pipelines/igot/samples/ingestion.ndjson"))
        .expect("sample");
    let lines: Vec<String> = text
        .lines()
        .map(|l| {
            if l.starts_with('{') && !l.contains("\"syncts\"") {
                l.replacen('{', "{\"syncts\":1529500243591,", 1)
            } else {
                l.to_owned()
            }
        })
        .collect();
    let path = dir.join("input.ndjson");
    std::fs::write(&path, lines.join("\n") + "\n").expect("write input");
    (path, lines.into_iter().map(String::into_bytes).collect())
}

fn produce(topic: &str, records: &[Vec<u8>]) {
    let p: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers())
        .create()
        .expect("producer");
    for r in records {
        p.send(BaseRecord::<(), [u8]>::to(topic).payload(r.as_slice()))
            .expect("enqueue");
    }
    p.flush(Duration::from_secs(30)).expect("flush");
}

/// Every record of the topics, by topic, read from the start until nothing new comes for 3 s.
fn consume_all(topics: &[&str]) -> BTreeMap<String, Vec<Vec<u8>>> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers())
        .set(
            "group.id",
            format!("reader-{}-{}", topics.len(), std::process::id()),
        )
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    c.subscribe(topics).expect("subscribe");
    let mut out: BTreeMap<String, Vec<Vec<u8>>> = BTreeMap::new();
    let mut last = Instant::now();
    let started = Instant::now();
    while last.elapsed() < Duration::from_secs(5) && started.elapsed() < Duration::from_secs(120) {
        if let Some(Ok(m)) = c.poll(Duration::from_millis(200)) {
            out.entry(m.topic().to_owned())
                .or_default()
                .push(m.payload().unwrap_or_default().to_vec());
            last = Instant::now();
        }
    }
    out
}

/// Records as a sorted list of JSON values (the raw bytes where a record is not JSON).
fn multiset(records: &[Vec<u8>]) -> Vec<String> {
    let mut v: Vec<String> = records
        .iter()
        .map(|r| match serde_json::from_slice::<Value>(r) {
            Ok(v) => v.to_string(),
            Err(_) => String::from_utf8_lossy(r).into_owned(),
        })
        .collect();
    v.sort();
    v
}

#[test]
fn kafka_and_embedded_give_the_same_events_on_every_topic() {
    let env = unique_env("keq");
    let dir = scratch(&format!("kafka-eq-{env}"));
    let (input, records) = sample(&dir);
    let b = brokers();

    let applied = pipec(&["apply", "pipelines/igot", "--env", &env, "--brokers", &b]);
    assert!(
        applied.status.success(),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );

    // Embedded.
    let out = dir.join("embedded");
    let o = pipec(&[
        "run",
        "pipelines/igot",
        "--env",
        &env,
        "--input",
        &input.to_string_lossy(),
        "--stores",
        "memory",
        "--out",
        &out.to_string_lossy(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    // Kafka: the input produced to the ingestion topic (what the embedded run reads by
    // default), every job run until idle.
    produce(&format!("{env}.telemetry.ingestion"), &records);
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
        .stderr(Stdio::piped())
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
    if let Some(mut e) = child.stderr.take() {
        use std::io::Read;
        let _ = e.read_to_string(&mut stderr);
    }
    assert!(status, "pipec run --kafka failed:\n{stderr}");
    assert!(
        metrics.contains("pipec_step_events_total{job=\"telemetry-extractor\",step=\"0\",kind=\"dedup\",outcome=\"in\"} 7"),
        "metrics while running:\n{metrics}\n{stderr}"
    );
    assert!(
        metrics.contains("pipec_produced_total{job=\"telemetry-extractor\""),
        "{metrics}"
    );

    // Compare topic by topic.
    let manifest_dir = scratch(&format!("kafka-eq-{env}-compile"));
    let c = pipec(&[
        "compile",
        "pipelines/igot",
        "--env",
        &env,
        "--out",
        &manifest_dir.to_string_lossy(),
    ]);
    assert!(c.status.success());
    let m: Value = serde_json::from_str(
        &std::fs::read_to_string(manifest_dir.join("manifest.json")).expect("manifest"),
    )
    .expect("json");
    // By Kafka name: two topics of the spec with one name (one on each of igot's clusters,
    // here the same broker) are one topic on the broker.
    let mut embedded: BTreeMap<&str, Vec<Vec<u8>>> = BTreeMap::new();
    let mut compared = BTreeMap::new();
    for (id, t) in m["topics"].as_object().expect("topics") {
        let name = t["name"].as_str().expect("name");
        let records: Vec<Vec<u8>> = std::fs::read_to_string(out.join(format!("{id}.ndjson")))
            .unwrap_or_default()
            .lines()
            .map(|l| l.as_bytes().to_vec())
            .collect();
        compared.insert(id.clone(), records.len());
        embedded.entry(name).or_default().extend(records);
    }
    let names: Vec<&str> = embedded.keys().copied().collect();
    let mut kafka = consume_all(&names);
    let mut differences = Vec::new();
    for (name, records) in &embedded {
        let on_kafka = kafka.remove(*name).unwrap_or_default();
        if multiset(records) != multiset(&on_kafka) {
            differences.push(format!(
                "{name}: embedded {} records, kafka {}",
                records.len(),
                on_kafka.len()
            ));
        }
    }
    assert!(differences.is_empty(), "{differences:#?}\n{stderr}");
    // The comparison covered real traffic, not only empty topics.
    assert!(
        compared["raw"] > 0 && compared["unique"] > 0,
        "{compared:?}"
    );
}

fn http_get(port: u16, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.1\r\nhost: x\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

fn wait(child: &mut std::process::Child, limit: Duration) -> bool {
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status.success(),
            Ok(None) if started.elapsed() < limit => std::thread::sleep(Duration::from_millis(200)),
            _ => {
                let _ = child.kill();
                return false;
            }
        }
    }
}
