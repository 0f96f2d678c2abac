//! A cluster with `sasl` and `tls` in the spec: the job logs in with SCRAM-SHA-512 over TLS
//! (the broker's certificate checked against the spec's CA) and gives what the embedded run
//! gives; a wrong password, or a CA that did not sign the broker's certificate, stops the
//! job with the reason instead of leaving it retrying. Against the SASL_SSL listener that `scripts/test` starts
//! (`PIPEC_TEST_SASL_BROKERS`, its CA in `PIPEC_TEST_KAFKA_CA`, user `pipec`).

use std::time::{Duration, Instant};

use crate::kafka_generated::*;
use crate::kafka_support::*;
use crate::support::{brokers, igot_one_replica};

/// The SASL_SSL listener and its CA, or why the test cannot run.
fn sasl_listener() -> Option<(String, String)> {
    match (
        std::env::var("PIPEC_TEST_SASL_BROKERS"),
        std::env::var("PIPEC_TEST_KAFKA_CA"),
    ) {
        (Ok(b), Ok(ca)) if !b.is_empty() && !ca.is_empty() => Some((b, ca)),
        _ => {
            eprintln!(
                "skipped: PIPEC_TEST_SASL_BROKERS and PIPEC_TEST_KAFKA_CA are not both set (scripts/test sets them)"
            );
            None
        }
    }
}

/// A copy of igot whose clusters log in as `pipec` with SCRAM-SHA-512 over TLS, the password
/// from `PIPEC_SECRET_KAFKA_PASSWORD`, the brokers' certificates checked against `ca`.
fn igot_with_sasl(name: &str, ca: &str) -> String {
    let spec = igot_one_replica(name);
    let yaml = spec.join("pipeline.yaml");
    let text = std::fs::read_to_string(&yaml).expect("pipeline.yaml");
    let auth = format!(
        "sasl: {{ mechanism: SCRAM-SHA-512, username: pipec, password: {{ secret: kafka, key: password }} }}, tls: {{ ca: {} }} }}",
        serde_json::Value::String(ca.to_owned())
    );
    let mut edited = text.clone();
    for cluster in [
        r#"ingestion: { brokers: "${INGESTION_KAFKA_BROKERS:-127.0.0.1:9092}" }"#,
        r#"processing: { brokers: "${KAFKA_BROKERS:-127.0.0.1:9092}", default: true }"#,
    ] {
        assert!(edited.contains(cluster), "igot's clusters changed");
        let with = format!("{}, {auth}", cluster.trim_end_matches(" }"));
        edited = edited.replacen(cluster, &with, 1);
    }
    std::fs::write(&yaml, edited).expect("write pipeline.yaml");
    spec.to_string_lossy().into_owned()
}

#[test]
fn kafka_sasl_scram_over_tls_runs_a_job() {
    let Some((sasl, ca)) = sasl_listener() else {
        return;
    };
    // Topics and input through the plain listener of the same broker.
    let b = brokers();
    let g = generated_on(&b, "ksasl");
    let spec = igot_with_sasl(&format!("sasl-spec-{}", g.env), &ca);
    let port = free_port();
    let mut child = start_preprocessor_env(
        &spec,
        &g.env,
        &sasl,
        &["--stores", "memory", "--idle-exit", "15"],
        port,
        &[("PIPEC_SECRET_KAFKA_PASSWORD", "pipec-secret")],
    );
    let ok = wait(&mut child, Duration::from_secs(300));
    let mut log = String::new();
    read_job_log(port, &mut log);
    assert!(ok, "pipec run against {sasl} failed:\n{log}");
    // It consumed and produced over the SASL_SSL listener: the outputs are the embedded
    // run's.
    let compared = same_on_kafka(&b, &g.env, &g.embedded, &log);
    assert!(
        compared["unique"] > GENERATED / 2 && compared["failed"] > 0,
        "{compared:?}"
    );
}

#[test]
fn kafka_a_wrong_sasl_password_stops_the_job_with_the_reason() {
    let Some((sasl, ca)) = sasl_listener() else {
        return;
    };
    let log = refused_job("kbadpw", &sasl, &ca, "not-the-password");
    assert!(
        log.contains("Authentication failed"),
        "the job's error does not say that the login was refused:\n{log}"
    );
}

/// The broker's certificate checked against a CA that did not sign it: the job stops with
/// the reason (the certificate is not trusted) instead of retrying the handshake forever.
#[test]
fn kafka_a_wrong_ca_stops_the_job_with_the_reason() {
    let Some((sasl, _)) = sasl_listener() else {
        return;
    };
    let dir = crate::support::scratch("kafka-wrong-ca");
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=not the broker's CA",
            "-keyout",
        ])
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("ca.pem"))
        .output()
        .expect("openssl runs");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let other = dir.join("ca.pem").to_string_lossy().into_owned();
    let log = refused_job("kbadca", &sasl, &other, "pipec-secret");
    assert!(
        log.contains("certificate verify failed"),
        "the job's error does not say that the broker's certificate was not trusted:\n{log}"
    );
}

/// Runs igot's preprocessor against the SASL_SSL listener with `ca` and `password`, which
/// the broker or the client must refuse: the job stops by itself, within two minutes, and
/// fails. Gives its log.
fn refused_job(tag: &str, sasl: &str, ca: &str, password: &str) -> String {
    let b = brokers();
    let env = crate::support::unique_env(tag);
    apply_topics(&b, &env);
    let spec = igot_with_sasl(&format!("{tag}-spec-{env}"), ca);
    let port = free_port();
    let started = Instant::now();
    // No --idle-exit: a job that kept retrying would run until the limit below.
    let mut child = start_preprocessor_env(
        &spec,
        &env,
        sasl,
        &["--stores", "memory"],
        port,
        &[("PIPEC_SECRET_KAFKA_PASSWORD", password)],
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break Some(s);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut log = String::new();
    read_job_log(port, &mut log);
    let status = status.unwrap_or_else(|| panic!("the job kept running:\n{log}"));
    eprintln!("stopped after {:?}: {status}", started.elapsed());
    assert!(!status.success(), "{log}");
    log
}
