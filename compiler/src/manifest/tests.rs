use std::path::Path;

use super::*;
use crate::{CheckOptions, compile};

fn igot(env: &str) -> Manifest {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../pipelines/igot");
    let c = compile(
        &root,
        &CheckOptions {
            env: Some(env.into()),
            env_lookup: &|_| None,
        },
    );
    assert!(
        !c.check.diagnostics.has_errors(),
        "{:?}",
        c.check.diagnostics
    );
    c.manifest.expect("manifest")
}

#[test]
fn igot_lowers() {
    let m = igot("dev");
    println!("{}", m.to_json().len());
    assert_eq!(m.manifest_version, MANIFEST_VERSION);
    let raw = &m.topics["raw"];
    assert_eq!(raw.name, "dev.telemetry.raw");
    assert_eq!(raw.partitions, 16);
    assert_eq!(
        raw.config.get("retention.ms").map(String::as_str),
        Some("172800000")
    );
    let back = Manifest::from_json(&m.to_json()).expect("round trip");
    assert_eq!(back, m);
}

#[test]
fn prod_overrides_apply_where_the_spec_does_not_say() {
    let dev = igot("dev");
    let prod = igot("prod");
    assert_eq!(prod.env, "prod");
    assert_eq!(prod.topics["raw"].name, "prod.telemetry.raw");
    assert_eq!(dev.topics["raw"].replication, 2);
    // `defaults.topic.replication: 3` of prod replaces the default, not a topic's own value.
    assert_eq!(prod.topics["raw"].replication, 3);
    assert_eq!(prod.topics["ingestion-deviceprofile"].replication, 1);
    assert_eq!(dev.jobs["pipeline-preprocessor"].replicas, 2);
    assert_eq!(prod.jobs["pipeline-preprocessor"].replicas, 4);
    assert_eq!(prod.jobs["druid-validator"].replicas, 2);
}

fn mini() -> crate::Compiled {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/sunbird-mini");
    compile(
        &root,
        &CheckOptions {
            env: None,
            env_lookup: &|_| None,
        },
    )
}

#[test]
fn secrets_are_references() {
    let m = mini().manifest.expect("manifest");
    let Store::Redis(r) = &m.stores["devices"] else {
        panic!("devices is a Redis store");
    };
    let p = r.password.as_ref().expect("password reference");
    assert_eq!(
        (p.secret.as_str(), p.key.as_str(), p.env.as_str()),
        ("redis-auth", "password", "PIPEC_SECRET_REDIS_AUTH_PASSWORD")
    );
    // Redis's password, and the ingestion cluster's SASL password and CA.
    assert_eq!(
        m.secrets().keys().map(String::as_str).collect::<Vec<_>>(),
        [
            "PIPEC_SECRET_KAFKA_INGESTION_CA_PEM",
            "PIPEC_SECRET_KAFKA_INGESTION_PASSWORD",
            "PIPEC_SECRET_REDIS_AUTH_PASSWORD"
        ]
    );
}

#[test]
fn schemas_are_embedded_with_digests() {
    let m = igot("dev");
    let log = m.event_types["LOG"]
        .schema
        .as_deref()
        .expect("LOG has a schema");
    let s = &m.schemas[log];
    let text = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../pipelines/igot")
            .join(log),
    )
    .expect("schema file");
    assert_eq!(s.sha256, lower::sha256_hex(&text));
    assert_eq!(
        s.document,
        serde_json::from_slice::<serde_json::Value>(&text).expect("json")
    );
    // Every file a `$ref` reaches is embedded too.
    assert!(m.schemas.contains_key("schemas/telemetry/3.0/common.json"));
    assert!(
        m.schemas
            .contains_key("schemas/druid/telemetry/common.json")
    );
}

#[test]
fn for_job_keeps_what_the_job_needs() {
    let m = igot("dev");
    let part = m.for_job("telemetry-extractor").expect("job");
    assert_eq!(part.jobs.len(), 1);
    let mut topics: Vec<&str> = part.topics.keys().map(String::as_str).collect();
    topics.sort_unstable();
    assert_eq!(
        topics,
        [
            "assess-raw",
            "druid-events-log",
            "extractor-duplicate",
            "extractor-failed",
            "failed",
            "ingest",
            "raw"
        ]
    );
    assert_eq!(
        part.stores.keys().collect::<Vec<_>>(),
        ["content", "extractor-dedup"]
    );
    assert!(part.schemas.is_empty(), "the extractor validates nothing");
    assert!(
        !m.for_job("pipeline-preprocessor")
            .expect("job")
            .schemas
            .is_empty()
    );
    assert!(m.for_job("nope").is_none());
}

#[test]
fn foreign_versions_are_refused() {
    let m = igot("dev");
    let text = m
        .to_json()
        .replacen("\"manifest_version\": 1", "\"manifest_version\": 99", 1);
    let err = Manifest::from_json(&text).expect_err("refused");
    assert!(err.contains("manifest_version 99"), "{err}");
    assert!(Manifest::from_json("{}").is_err());
    assert!(Manifest::from_json("not json").is_err());
}

#[test]
fn an_environments_vars_replace_the_specs() {
    let dir = std::env::temp_dir().join(format!("pipec-env-vars-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(
        dir.join("pipeline.yaml"),
        r#"pipeline: envs
vars: { env: dev, region: in }
clusters:
  main: { brokers: "kafka-{region}:9092", default: true }
topics:
  raw: { name: "{env}.{region}.raw", external: true }
  out: { name: "{env}.{region}.out" }
streams:
  copy: { from: raw, steps: [ { emit: out } ] }
reports:
  nightly: { schedule: "0 1 * * *", sql: q.sql, outputs: { o: { path: "x/{date}/", format: csv } } }
environments:
  prod:
    vars: { region: eu }
    topics: { out: { partitions: 8, retention: 7d, config: { cleanup.policy: compact } } }
    reports: { nightly: { schedule: "30 2 * * *" } }
"#,
    )
    .expect("spec");
    std::fs::write(dir.join("q.sql"), "select 1").expect("sql");
    let run = |env: &str| {
        let c = compile(
            &dir,
            &CheckOptions {
                env: Some(env.into()),
                env_lookup: &|_| None,
            },
        );
        assert!(
            !c.check.diagnostics.has_errors(),
            "{:?}",
            c.check.diagnostics
        );
        c.manifest.expect("manifest")
    };
    let (dev, prod) = (run("dev"), run("prod"));
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(dev.topics["out"].name, "dev.in.out");
    assert_eq!(prod.topics["out"].name, "prod.eu.out");
    assert_eq!(prod.clusters["main"].brokers, "kafka-eu:9092");
    assert_eq!(dev.topics["out"].partitions, 1);
    assert_eq!(prod.topics["out"].partitions, 8);
    assert_eq!(
        prod.topics["out"].retention_ms(),
        Some(7 * 24 * 3600 * 1000)
    );
    assert_eq!(
        prod.topics["out"]
            .config
            .get("cleanup.policy")
            .map(String::as_str),
        Some("compact")
    );
    assert_eq!(dev.reports["nightly"].schedule, "0 1 * * *");
    assert_eq!(prod.reports["nightly"].schedule, "30 2 * * *");
    assert_eq!(
        prod.reports["nightly"]
            .sql
            .as_ref()
            .map(|s| s.text.as_str()),
        Some("select 1")
    );
}

#[test]
fn spec_tests_resolve_with_their_records() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/quickstart");
    let c = compile(
        &root,
        &CheckOptions {
            env: None,
            env_lookup: &|_| None,
        },
    );
    assert_eq!(c.lower_error, None);
    let t = &c.tests[0];
    assert_eq!(t.name, "a repeated click is a duplicate");
    assert!(t.location.ends_with("pipeline.yaml:75"), "{}", t.location);
    assert_eq!(t.input_topic, "raw");
    assert_eq!(t.jobs, ["preprocess"]);
    let lines = std::fs::read_to_string(root.join("events/sample.ndjson")).expect("sample");
    assert_eq!(
        t.records.len(),
        lines.lines().filter(|l| !l.trim().is_empty()).count()
    );
    let clicks = t
        .expect
        .iter()
        .find(|e| e.topic == "clicks")
        .expect("clicks");
    assert_eq!(clicks.count, Some(2));
    let dup = t
        .expect
        .iter()
        .find(|e| e.topic == "duplicate")
        .expect("duplicate");
    assert_eq!(
        dup.all,
        [("duplicate".to_string(), serde_json::json!(true))]
    );
}

#[test]
fn test_settings_override_steps_with_units() {
    let m = mini().manifest.expect("manifest");
    let i = m.jobs["telemetry-extractor"]
        .steps
        .iter()
        .position(|s| s.kind() == "unbatch")
        .expect("an unbatch step");
    let set = vec![(
        "telemetry-extractor".to_string(),
        i,
        "max_event_size".to_string(),
        serde_json::json!("1KiB"),
    )];
    let changed = spec_tests::apply_set(&m, &set).expect("applies");
    let Step::Unbatch(u) = &changed.jobs["telemetry-extractor"].steps[i] else {
        panic!("still an unbatch step");
    };
    assert_eq!(u.max_event_size, Some(1024));
    let bad = vec![(
        "telemetry-extractor".to_string(),
        i,
        "max_event_size".to_string(),
        serde_json::json!("huge"),
    )];
    assert!(spec_tests::apply_set(&m, &bad).is_err());
}

#[test]
fn unbatch_reads_a_batch_without_its_list_as_empty_when_asked() {
    let m = crate::test_support::compiled_dev("pipelines/igot");
    let Some(Step::Unbatch(u)) = m.jobs["telemetry-extractor"]
        .steps
        .iter()
        .find(|s| s.kind() == "unbatch")
    else {
        panic!("an unbatch step");
    };
    assert!(u.missing_is_empty);
    // Not said: such a batch is invalid, as before.
    let mini = mini().manifest.expect("manifest");
    let Some(Step::Unbatch(u)) = mini.jobs["telemetry-extractor"]
        .steps
        .iter()
        .find(|s| s.kind() == "unbatch")
    else {
        panic!("an unbatch step");
    };
    assert!(!u.missing_is_empty);
    // Anything but `empty` or `invalid` is reported where it is written.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/sunbird-mini/pipeline.yaml");
    let text = std::fs::read_to_string(&path).expect("mini spec");
    let text = text.replacen(
        "          field: events\n",
        "          field: events\n          missing: emtpy\n",
        1,
    );
    let r = crate::check_text(
        &path,
        &text,
        &CheckOptions {
            env: None,
            env_lookup: &|_| None,
        },
    );
    let found: Vec<String> = r
        .diagnostics
        .iter()
        .map(|d| format!("{} {} {:?}", d.code, d.message, d.help))
        .collect();
    assert!(
        found
            .iter()
            .any(|d| d.contains("unknown kind `emtpy`") && d.contains("empty")),
        "{found:#?}"
    );
}
