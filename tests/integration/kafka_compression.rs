//! Compressed records on Apache Kafka: a job consumes records that producers compressed with
//! gzip, snappy, lz4 and zstd (what real clusters hold), and what it produces is compressed
//! as its cluster's `config` says (`compression.type`, a producer setting), or as the topic's
//! own `compression.type` says (the broker compresses a topic so configured with that codec,
//! whatever the producer sent). The codecs are read from the broker's log segments (Kafka's
//! `DumpLogSegments`), so the test runs a broker of its own.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use crate::kafka_generated::*;
use crate::kafka_support::*;
use crate::support::{igot_one_replica, pipec, root, scratch, unique_env};

/// The codecs a producer may use, each for a quarter of the input.
const CODECS: [&str; 4] = ["gzip", "snappy", "lz4", "zstd"];

#[test]
fn kafka_compressed_records_are_consumed_and_outputs_compressed_as_configured() {
    let broker = OwnBroker::start("compression");
    let b = broker.address();
    let env = unique_env("kz");
    let dir = scratch(&format!("kafka-compression-{env}"));

    // igot, its processing cluster's producers compressing with zstd, and `unique`
    // compressed with lz4 by the broker.
    let spec = igot_one_replica(&format!("compression-spec-{env}"));
    edit(
        &spec.join("pipeline.yaml"),
        r#"processing: { brokers: "${KAFKA_BROKERS:-127.0.0.1:9092}", default: true }"#,
        r#"processing: { brokers: "${KAFKA_BROKERS:-127.0.0.1:9092}", default: true, config: { compression.type: zstd } }"#,
    );
    edit(
        &spec.join("topics.yaml"),
        r#"unique: { name: "{env}.telemetry.unique", key: context.did }"#,
        r#"unique: { name: "{env}.telemetry.unique", key: context.did, config: { compression.type: lz4 } }"#,
    );
    let spec = spec.to_string_lossy().into_owned();
    let applied = pipec(&["apply", &spec, "--env", &env, "--brokers", &b]);
    assert!(
        applied.status.success(),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );

    // The input, a quarter with each codec, each quarter flushed before the next (a
    // duplicate stays behind its original in their partition).
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(11, |d| d.as_nanos() as u64);
    let records = generated_raw(&env, seed, 1200);
    let raw = format!("{env}.telemetry.raw");
    for (codec, part) in CODECS
        .iter()
        .zip(records.chunks(records.len().div_ceil(CODECS.len())))
    {
        produce_with(&b, &raw, part, &[("compression.type", codec)]);
    }
    let stored = codecs(&broker, &raw);
    assert_eq!(
        stored.keys().map(String::as_str).collect::<Vec<_>>(),
        {
            let mut c = CODECS.to_vec();
            c.sort_unstable();
            c
        },
        "the input's batches by codec: {stored:?}"
    );

    // What the embedded transport writes for it.
    let input = dir.join("raw.ndjson");
    let text: Vec<String> = records
        .iter()
        .map(|(_, r)| String::from_utf8_lossy(r).into_owned())
        .collect();
    std::fs::write(&input, text.join("\n") + "\n").expect("input");
    let embedded = dir.join("embedded");
    run_embedded(
        &spec,
        &env,
        &input,
        &["--topic", "raw", "--job", "pipeline-preprocessor"],
        &embedded,
    );

    // The preprocessor on the broker, until idle.
    let port = free_port();
    let mut child = start_preprocessor(
        &spec,
        &env,
        &b,
        &["--stores", "memory", "--idle-exit", "15"],
        port,
    );
    let ok = wait(&mut child, Duration::from_secs(300));
    let mut log = String::new();
    read_job_log(port, &mut log);
    assert!(ok, "pipec run --kafka failed:\n{log}");

    let compared = same_on_kafka(&b, &env, &embedded, &log);
    assert!(
        compared["unique"] > 600 && compared["duplicate"] > 0 && compared["failed"] > 0,
        "{compared:?}"
    );
    // The topic's own codec for `unique`; the cluster's for the others.
    let unique = codecs(&broker, &format!("{env}.telemetry.unique"));
    eprintln!("input batches by codec: {stored:?}; unique: {unique:?}; events: {compared:?}");
    assert_eq!(unique.keys().collect::<Vec<_>>(), ["lz4"], "{unique:?}");
    for topic in ["duplicate", "failed"] {
        let stored = codecs(&broker, &format!("{env}.telemetry.{topic}"));
        assert_eq!(
            stored.keys().collect::<Vec<_>>(),
            ["zstd"],
            "{topic}: {stored:?}"
        );
    }
}

/// Replaces `from` (which must be there) by `to` in the file.
fn edit(path: &std::path::Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).expect("read spec file");
    assert!(text.contains(from), "{}: no `{from}`", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).expect("write spec file");
}

/// The record batches (not transaction markers) of every partition of `topic` on `broker`,
/// counted by codec, as Kafka's `DumpLogSegments` reads them from the log segments.
fn codecs(broker: &OwnBroker, topic: &str) -> BTreeMap<String, usize> {
    let data = broker.dir.join("data");
    let mut files = Vec::new();
    for e in std::fs::read_dir(&data).expect("broker data").flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let is_partition = name
            .strip_prefix(topic)
            .and_then(|rest| rest.strip_prefix('-'))
            .is_some_and(|p| p.parse::<u32>().is_ok());
        if !is_partition {
            continue;
        }
        for f in std::fs::read_dir(e.path())
            .expect("partition dir")
            .flatten()
        {
            if f.path().extension().is_some_and(|x| x == "log") {
                files.push(f.path().to_string_lossy().into_owned());
            }
        }
    }
    assert!(!files.is_empty(), "no log segments of {topic}");
    let libs = Command::new(root().join("scripts/kafka-broker"))
        .arg("fetch")
        .output()
        .expect("scripts/kafka-broker fetch");
    assert!(libs.status.success());
    let libs = String::from_utf8_lossy(&libs.stdout).trim().to_owned();
    let dump = Command::new("java")
        .arg("-cp")
        .arg(format!("{libs}/*"))
        .arg("org.apache.kafka.tools.DumpLogSegments")
        .arg("--files")
        .arg(files.join(","))
        .output()
        .expect("java DumpLogSegments");
    let text = String::from_utf8_lossy(&dump.stdout);
    assert!(
        dump.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&dump.stderr)
    );
    let mut out = BTreeMap::new();
    for line in text.lines() {
        if !line.starts_with("baseOffset:") || line.contains("isControl: true") {
            continue;
        }
        let codec = line
            .split("compresscodec: ")
            .nth(1)
            .and_then(|v| v.split_whitespace().next())
            .unwrap_or("?");
        *out.entry(codec.to_owned()).or_default() += 1;
    }
    out
}
