//! What the Kafka tests share: igot's topics applied for a fresh environment, records
//! produced and read back (`read_committed`, each partition to its high watermark), the
//! embedded run to compare with, and `pipec run --kafka` processes started, watched through
//! their `/metrics` and logs. The generated stream and the kill loop: `kafka_generated`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use serde_json::Value;

use crate::support::{brokers, igot_one_replica, pipec, root, scratch, unique_env};

/// The shipped sample, with a fixed `syncts` on the one batch that has none (the extractor
/// would stamp it with the time of the run, which differs between the two runs).
pub(crate) fn sample(dir: &Path) -> (std::path::PathBuf, Vec<Vec<u8>>) {
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

/// Creates igot's topics for `env` on the broker (with one replica each: the broker is one
/// node).
pub(crate) fn apply_topics(b: &str, env: &str) {
    let spec = igot_one_replica(&format!("topics-{env}"));
    let spec = spec.to_string_lossy();
    let applied = pipec(&["apply", &spec, "--env", env, "--brokers", b]);
    assert!(
        applied.status.success(),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );
}

/// `pipec run` on the embedded transport, every store in memory, topics written to `out`.
pub(crate) fn run_embedded(spec: &str, env: &str, input: &Path, extra: &[&str], out: &Path) {
    let input = input.to_string_lossy();
    let out = out.to_string_lossy();
    let mut args = vec!["run", spec, "--env", env, "--input", &input];
    args.extend(extra);
    args.extend(["--stores", "memory", "--out", &out]);
    let o = pipec(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Produces the records (with their keys, when given) in order, with an idempotent
/// producer: records of one key stay in order in their partition; records without a key all
/// go to partition 0, in order (the sample's repeated batch must come after its original, as
/// in the embedded run, whatever the load on the machine).
pub(crate) fn produce(b: &str, topic: &str, records: &[(Option<String>, Vec<u8>)]) {
    produce_with(b, topic, records, &[]);
}

/// [`produce`] with more producer settings (`compression.type`, ...).
pub(crate) fn produce_with(
    b: &str,
    topic: &str,
    records: &[(Option<String>, Vec<u8>)],
    settings: &[(&str, &str)],
) {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", b)
        .set("enable.idempotence", "true");
    for (k, v) in settings {
        config.set(*k, *v);
    }
    let p: BaseProducer = config.create().expect("producer");
    for (key, r) in records {
        let mut record = BaseRecord::<str, [u8]>::to(topic).payload(r.as_slice());
        record = match key {
            Some(k) => record.key(k.as_str()),
            None => record.partition(0),
        };
        let mut record = Some(record);
        while let Some(r) = record.take() {
            if let Err((e, r)) = p.send(r) {
                // Queue full: let it drain.
                assert!(
                    matches!(
                        e.rdkafka_error_code(),
                        Some(rdkafka::types::RDKafkaErrorCode::QueueFull)
                    ),
                    "{e}"
                );
                p.poll(Duration::from_millis(100));
                record = Some(r);
            }
        }
    }
    p.flush(Duration::from_secs(60)).expect("flush");
}

/// Every committed record of the topics, by topic: each partition read from its start to
/// the high watermark it had when the reading began (the writers have stopped by then).
pub(crate) fn consume_all(b: &str, topics: &[&str]) -> BTreeMap<String, Vec<Vec<u8>>> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", b)
        .set("group.id", unique_env("reader"))
        .set("enable.auto.commit", "false")
        .set("isolation.level", "read_committed")
        .create()
        .expect("consumer");
    let timeout = Duration::from_secs(10);
    let mut assignment = TopicPartitionList::new();
    // (topic, partition) → high watermark still to reach.
    let mut ends: BTreeMap<(String, i32), i64> = BTreeMap::new();
    for topic in topics {
        let md = c.fetch_metadata(Some(topic), timeout).expect("metadata");
        for t in md.topics() {
            for p in t.partitions() {
                let (low, high) = c
                    .fetch_watermarks(topic, p.id(), timeout)
                    .expect("watermarks");
                if high > low {
                    assignment
                        .add_partition_offset(topic, p.id(), Offset::Beginning)
                        .expect("assign");
                    ends.insert(((*topic).to_owned(), p.id()), high);
                }
            }
        }
    }
    let mut out: BTreeMap<String, Vec<Vec<u8>>> = BTreeMap::new();
    if ends.is_empty() {
        return out;
    }
    c.assign(&assignment).expect("assign");
    let started = Instant::now();
    while !ends.is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "partitions not read to their end within 120 s: {ends:?}"
        );
        if let Some(m) = c.poll(Duration::from_millis(200)) {
            let m = m.expect("consume");
            out.entry(m.topic().to_owned())
                .or_default()
                .push(m.payload().unwrap_or_default().to_vec());
        }
        // The position, not the last offset seen: transaction markers take offsets too.
        let position = c.position().expect("position");
        ends.retain(|(topic, partition), high| {
            !matches!(
                position.find_partition(topic, *partition).map(|e| e.offset()),
                Some(Offset::Offset(o)) if o >= *high
            )
        });
    }
    out
}

/// (partition, number of records) of a topic, from its watermarks.
pub(crate) fn partition_sizes(b: &str, topic: &str) -> Vec<(i32, i64)> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", b)
        .create()
        .expect("consumer");
    let timeout = Duration::from_secs(10);
    let md = c.fetch_metadata(Some(topic), timeout).expect("metadata");
    md.topics()
        .iter()
        .flat_map(|t| t.partitions())
        .map(|p| {
            let (low, high) = c
                .fetch_watermarks(topic, p.id(), timeout)
                .expect("watermarks");
            (p.id(), high - low)
        })
        .collect()
}

/// Records as a sorted list of JSON values (the raw bytes where a record is not JSON).
pub(crate) fn multiset(records: &[Vec<u8>]) -> Vec<String> {
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

/// The pipeline's topics by Kafka name, each with the spec's topic ids of that name (two
/// topics of the spec, one on each of igot's clusters, are here one topic on one broker).
pub(crate) fn kafka_topics(env: &str) -> BTreeMap<String, Vec<String>> {
    let manifest_dir = scratch(&format!("kafka-{env}-compile"));
    let c = pipec(&[
        "compile",
        "pipelines/igot",
        "--env",
        env,
        "--out",
        &manifest_dir.to_string_lossy(),
    ]);
    assert!(c.status.success());
    let m: Value = serde_json::from_str(
        &std::fs::read_to_string(manifest_dir.join("manifest.json")).expect("manifest"),
    )
    .expect("json");
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (id, t) in m["topics"].as_object().expect("topics") {
        let name = t["name"].as_str().expect("name");
        out.entry(name.to_owned()).or_default().push(id.clone());
    }
    out
}

/// What an embedded run wrote to the topics `ids`.
pub(crate) fn embedded_records(dir: &Path, ids: &[String]) -> Vec<Vec<u8>> {
    ids.iter()
        .flat_map(|id| {
            std::fs::read_to_string(dir.join(format!("{id}.ndjson")))
                .unwrap_or_default()
                .lines()
                .map(|l| l.as_bytes().to_vec())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Asserts that every topic of the pipeline holds on the broker the events the embedded run
/// wrote to `embedded_out` (as multisets); returns the embedded count per topic id.
pub(crate) fn same_on_kafka(
    b: &str,
    env: &str,
    embedded_out: &Path,
    context: &str,
) -> BTreeMap<String, usize> {
    let topics = kafka_topics(env);
    let mut kafka = consume_all(b, &topics.keys().map(String::as_str).collect::<Vec<_>>());
    let mut compared = BTreeMap::new();
    let mut differences = Vec::new();
    for (name, ids) in &topics {
        for id in ids {
            compared.insert(
                id.clone(),
                embedded_records(embedded_out, std::slice::from_ref(id)).len(),
            );
        }
        let records = embedded_records(embedded_out, ids);
        let on_kafka = kafka.remove(name).unwrap_or_default();
        let (want, got) = (multiset(&records), multiset(&on_kafka));
        if want != got {
            let mut count: BTreeMap<&String, i64> = BTreeMap::new();
            for r in &want {
                *count.entry(r).or_default() += 1;
            }
            for r in &got {
                *count.entry(r).or_default() -= 1;
            }
            let missing: i64 = count.values().filter(|n| **n > 0).sum();
            let extra: i64 = -count.values().filter(|n| **n < 0).sum::<i64>();
            differences.push(format!(
                "{name}: embedded {} records, kafka {} ({missing} missing, {extra} extra)",
                records.len(),
                on_kafka.len()
            ));
        }
    }
    assert!(differences.is_empty(), "{differences:#?}\n{context}");
    compared
}

pub(crate) fn http_get(port: u16, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.1\r\nhost: x\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

pub(crate) fn wait(child: &mut std::process::Child, limit: Duration) -> bool {
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

/// Whether the broker implements Kafka transactions (the EndTxn API, key 26), asked with an
/// ApiVersions v0 request of our own.
pub(crate) fn broker_has_transactions() -> bool {
    use std::io::{Read, Write};
    let b = brokers();
    let addr = b.split(',').next().unwrap_or_default();
    let mut s = std::net::TcpStream::connect(addr).expect("broker");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    // size, api key 18, version 0, correlation id 1, client id "t".
    let req: [u8; 15] = [0, 0, 0, 11, 0, 18, 0, 0, 0, 0, 0, 1, 0, 1, b't'];
    s.write_all(&req).expect("write");
    let mut len = [0u8; 4];
    s.read_exact(&mut len).expect("read");
    let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
    s.read_exact(&mut body).expect("read");
    // correlation id (4), error (2), count (4), then (key, min, max) as i16s.
    let n = u32::from_be_bytes([body[6], body[7], body[8], body[9]]) as usize;
    (0..n).any(|i| {
        let at = 10 + 6 * i;
        i16::from_be_bytes([body[at], body[at + 1]]) == 26
    })
}

/// Starts `pipec run` of `spec`'s preprocessor on `b`, metrics on `port`, its log in
/// [`job_log_file`]`(port)`.
pub(crate) fn start_preprocessor(
    spec: &str,
    env: &str,
    b: &str,
    args: &[&str],
    port: u16,
) -> std::process::Child {
    start_preprocessor_env(spec, env, b, args, port, &[])
}

/// [`start_preprocessor`] with more environment variables (secrets).
pub(crate) fn start_preprocessor_env(
    spec: &str,
    env: &str,
    b: &str,
    args: &[&str],
    port: u16,
    vars: &[(&str, &str)],
) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_pipec"))
        .envs(vars.iter().copied())
        .args([
            "run",
            spec,
            "--env",
            env,
            "--brokers",
            b,
            "--job",
            "pipeline-preprocessor",
            "--metrics-addr",
            &format!("127.0.0.1:{port}"),
        ])
        .args(args)
        .current_dir(root())
        .stdout(Stdio::null())
        .stderr(job_log_file(port))
        .spawn()
        .expect("spawn pipec run --kafka")
}

pub(crate) fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    l.local_addr().expect("addr").port()
}

/// Waits (up to 90 s) until the preprocessor's /metrics on `port` counts a consumed record.
pub(crate) fn wait_consuming(port: u16) -> bool {
    let deadline = Instant::now() + Duration::from_secs(90);
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        if records_in(port).is_some_and(|n| n > 0) {
            return true;
        }
    }
    false
}

/// The records the preprocessor served on `port` has consumed, from its `/metrics`.
pub(crate) fn records_in(port: u16) -> Option<u64> {
    http_get(port, "/metrics")?
        .lines()
        .find(|l| l.starts_with("pipec_records_in_total{job=\"pipeline-preprocessor\"}"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// Where the log (stderr) of the job serving metrics on `port` goes: a file, not a pipe, which
/// nobody would read while the job runs — once it was full, the job blocked in its logging
/// (seen after a Kafka restart, which librdkafka reports partition by partition).
pub(crate) fn job_log_path(port: u16) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("pipec-test-{}-job-{port}.log", std::process::id()))
}

pub(crate) fn job_log_file(port: u16) -> std::fs::File {
    std::fs::File::create(job_log_path(port)).expect("job log file")
}

/// Appends the log of the finished job of `port` to `log` (and removes its file).
pub(crate) fn read_job_log(port: u16, log: &mut String) {
    let path = job_log_path(port);
    log.push_str(&std::fs::read_to_string(&path).unwrap_or_default());
    let _ = std::fs::remove_file(path);
}
