//! `pipec plan --brokers` and `pipec apply` against a real Apache Kafka broker:
//! `PIPEC_TEST_BROKERS` (default `127.0.0.1:9092`), which `bash scripts/test` provides by
//! starting one. Each test plans the iGOT spec (with one replica per topic: the broker is one
//! node) under an environment name of its own (`--env`), so its topics
//! (`<env>.telemetry.raw`, ...) are new on the broker. Every change applied is checked by a
//! second plan, which must find nothing left to do.

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use crate::support::{brokers, igot_one_replica, pipec, root, scratch, unique_env};

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn plan(spec: &Path, env: &str, extra: &[&str]) -> Output {
    let b = brokers();
    let spec = spec.to_string_lossy();
    let mut args = vec![
        "plan",
        &spec,
        "--env",
        env,
        "--brokers",
        &b,
        "--detailed-exitcode",
    ];
    args.extend_from_slice(extra);
    pipec(&args)
}

fn apply(spec: &Path, env: &str, extra: &[&str]) -> Output {
    let b = brokers();
    let spec = spec.to_string_lossy();
    let mut args = vec!["apply", &spec, "--env", env, "--brokers", &b];
    args.extend_from_slice(extra);
    pipec(&args)
}

/// Compares `actual` (the test's environment name and broker address replaced by `ENV` and
/// `BROKERS`) with `tests/golden/plan/igot-live-empty/<file>`; `PIPEC_BLESS=1` rewrites it.
fn golden(file: &str, actual: &str, env: &str) {
    let normal = actual.replace(env, "ENV").replace(&brokers(), "BROKERS");
    let path = root().join("tests/golden/plan/igot-live-empty").join(file);
    if std::env::var_os("PIPEC_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
        std::fs::write(&path, &normal).expect("write golden");
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (PIPEC_BLESS=1 creates it)", path.display()));
    assert_eq!(normal, want, "differs from {}", path.display());
}

fn replace(path: &Path, from: &str, to: &str) {
    let t = std::fs::read_to_string(path).expect("read");
    assert!(t.contains(from), "{}: no `{from}`", path.display());
    std::fs::write(path, t.replacen(from, to, 1)).expect("write");
}

/// How many distinct Kafka topic names the iGOT spec declares for `env`: with one `--brokers`
/// for both of its clusters, a name declared on both is one topic.
fn igot_topic_count(spec: &Path, env: &str) -> usize {
    let out = scratch(&format!("count-{env}"));
    let o = pipec(&[
        "compile",
        &spec.to_string_lossy(),
        "--env",
        env,
        "--out",
        &out.to_string_lossy(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let m: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("manifest.json")).expect("manifest"),
    )
    .expect("json");
    let names: std::collections::BTreeSet<&str> = m["topics"]
        .as_object()
        .expect("topics")
        .values()
        .map(|t| t["name"].as_str().unwrap_or_default())
        .collect();
    names.len()
}

#[test]
fn igot_from_an_empty_cluster_then_nothing_to_do() {
    let env = unique_env("te");
    let spec = igot_one_replica(&format!("live-{env}"));
    let first = plan(&spec, &env, &[]);
    assert_eq!(first.status.code(), Some(2), "{}", text(&first));
    let creates = stdout(&first)
        .lines()
        .filter(|l| l.trim_start().starts_with("+ "))
        .count();
    let expected = igot_topic_count(&spec, &env);
    assert!(expected > 30, "igot has {expected} topics");
    assert_eq!(creates, expected, "{}", text(&first));
    assert!(
        stdout(&first).contains(&format!(
            "Plan: {expected} to create, 0 to change, 0 to delete."
        )),
        "{}",
        text(&first)
    );

    golden("expected.txt", &stdout(&first), &env);
    let json = plan(&spec, &env, &["--format", "json"]);
    assert_eq!(json.status.code(), Some(2), "{}", text(&json));
    golden("expected.json", &stdout(&json), &env);

    let applied = apply(&spec, &env, &[]);
    assert_eq!(applied.status.code(), Some(0), "{}", text(&applied));
    assert!(
        stdout(&applied).contains(&format!(
            "Apply complete: {expected} created, 0 changed, 0 deleted."
        )),
        "{}",
        text(&applied)
    );

    let again = plan(&spec, &env, &[]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert!(
        stdout(&again).contains("Plan: 0 to create, 0 to change, 0 to delete."),
        "{}",
        text(&again)
    );
    let twice = apply(&spec, &env, &[]);
    assert_eq!(twice.status.code(), Some(0), "{}", text(&twice));
    assert!(
        stdout(&twice).contains("No topic changes to apply."),
        "{}",
        text(&twice)
    );
}

/// `pipec plan` after an apply: exit 0 and nothing to do (no noise from the broker's defaults).
fn assert_nothing_to_do(dir: &Path, env: &str) {
    let p = plan(dir, env, &[]);
    assert_eq!(p.status.code(), Some(0), "{}", text(&p));
    assert!(
        stdout(&p).contains("Plan: 0 to create, 0 to change, 0 to delete."),
        "{}",
        text(&p)
    );
}

/// `pipec apply` that must succeed with `summary` (`N created, M changed, K deleted`).
fn assert_applied(dir: &Path, env: &str, extra: &[&str], summary: &str) {
    let a = apply(dir, env, extra);
    assert_eq!(a.status.code(), Some(0), "{}", text(&a));
    assert!(
        stdout(&a).contains(&format!("Apply complete: {summary}.")),
        "{}",
        text(&a)
    );
}

#[test]
fn configs_partitions_and_decreases_against_the_live_cluster() {
    let env = unique_env("tr");
    let dir = igot_one_replica(&format!("live-{env}"));
    assert_eq!(apply(&dir, &env, &[]).status.code(), Some(0));
    assert_nothing_to_do(&dir, &env);

    // A changed retention and another config set on the topic: one config change, applied.
    let topics = dir.join("topics.yaml");
    let raw = r#"  raw: { name: "{env}.telemetry.raw", key: context.did }"#;
    let raw_configured = r#"  raw: { name: "{env}.telemetry.raw", key: context.did, retention: 1d, config: { max.message.bytes: 2097152 } }"#;
    replace(&topics, raw, raw_configured);
    let p = plan(&dir, &env, &[]);
    assert_eq!(p.status.code(), Some(2), "{}", text(&p));
    let out = stdout(&p);
    let change = out
        .lines()
        .find(|l| l.contains(&format!("~ processing/{env}.telemetry.raw (raw): ")))
        .unwrap_or_else(|| panic!("no change of the raw topic:\n{out}"));
    // From the broker's default (1048588) to the spec's.
    assert!(
        change
            .ends_with("max.message.bytes 1048588 -> 2097152, retention.ms 172800000 -> 86400000"),
        "{out}"
    );
    assert!(
        out.contains("Plan: 0 to create, 1 to change, 0 to delete."),
        "{out}"
    );
    assert_applied(&dir, &env, &[], "0 created, 1 changed, 0 deleted");
    assert_nothing_to_do(&dir, &env);

    // Both taken out of the spec again: the retention goes back to the spec's default (set on
    // the topic), max.message.bytes is removed from the topic (the broker's default applies).
    replace(&topics, raw_configured, raw);
    let p = plan(&dir, &env, &[]);
    assert_eq!(p.status.code(), Some(2), "{}", text(&p));
    let out = stdout(&p);
    let change = out
        .lines()
        .find(|l| l.contains(&format!("~ processing/{env}.telemetry.raw (raw): ")))
        .unwrap_or_else(|| panic!("no change of the raw topic:\n{out}"));
    assert!(
        change.ends_with(
            "max.message.bytes 2097152 -> (default), retention.ms 86400000 -> 172800000"
        ),
        "{out}"
    );
    assert_applied(&dir, &env, &[], "0 created, 1 changed, 0 deleted");
    assert_nothing_to_do(&dir, &env);

    // More partitions: an increase, applied (CreatePartitions).
    replace(
        &topics,
        r#"  ingest: { name: "{env}.telemetry.ingest" }"#,
        r#"  ingest: { name: "{env}.telemetry.ingest", partitions: 24 }"#,
    );
    let p = plan(&dir, &env, &[]);
    assert_eq!(p.status.code(), Some(2), "{}", text(&p));
    assert!(
        stdout(&p).contains(&format!(
            "~ processing/{env}.telemetry.ingest (ingest): partitions 16 -> 24"
        )),
        "{}",
        text(&p)
    );
    assert_applied(&dir, &env, &[], "0 created, 1 changed, 0 deleted");
    assert_nothing_to_do(&dir, &env);

    // Fewer partitions than the topic has: refused in the plan, nothing applied.
    replace(
        &topics,
        r#"  ingest: { name: "{env}.telemetry.ingest", partitions: 24 }"#,
        r#"  ingest: { name: "{env}.telemetry.ingest", partitions: 1 }"#,
    );
    let p = plan(&dir, &env, &[]);
    assert_eq!(p.status.code(), Some(2), "{}", text(&p));
    assert!(
        stdout(&p).contains(&format!(
            "! processing/{env}.telemetry.ingest (ingest): partitions 24 -> 1"
        )),
        "{}",
        text(&p)
    );
    let a = apply(&dir, &env, &[]);
    assert_eq!(a.status.code(), Some(1), "{}", text(&a));
    assert!(
        String::from_utf8_lossy(&a.stderr).contains("nothing applied"),
        "{}",
        text(&a)
    );
}

#[test]
fn deletes_need_the_flag_and_saved_plans_must_still_match() {
    let env = unique_env("td");
    let dir = igot_one_replica(&format!("live-{env}"));
    let out = scratch(&format!("live-{env}-out"));
    let o = pipec(&[
        "compile",
        &dir.to_string_lossy(),
        "--env",
        &env,
        "--out",
        &out.to_string_lossy(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let old = out.join("manifest.json");
    let old = old.to_string_lossy();
    assert_eq!(apply(&dir, &env, &[]).status.code(), Some(0));

    // The spec drops a topic: with the deployed manifest, it is planned for deletion.
    replace(
        &dir.join("topics.yaml"),
        "  rating-failedRating: { name: \"{env}.rating.failedRating\", partitions: 4, external: true }\n",
        "",
    );
    // And a newly required field in IMPRESSION's schema: breaking under BACKWARD.
    let schema = dir.join("schemas/telemetry/3.0/impression.json");
    let doc = std::fs::read_to_string(&schema).expect("schema");
    let doc = doc.replacen("\"required\": [", "\"required\": [\"sessionid\", ", 1);
    std::fs::write(&schema, doc).expect("write schema");
    let p = plan(&dir, &env, &["--against", &old]);
    assert_eq!(p.status.code(), Some(2), "{}", text(&p));
    assert!(
        stdout(&p).contains("~ IMPRESSION: schemas/telemetry/3.0/impression.json")
            && stdout(&p).contains("mode BACKWARD: BREAKING"),
        "{}",
        text(&p)
    );
    assert!(
        stdout(&p).contains(&format!("- processing/{env}.rating.failedRating")),
        "{}",
        text(&p)
    );
    let a = apply(&dir, &env, &["--against", &old]);
    assert_eq!(a.status.code(), Some(1), "{}", text(&a));
    assert!(
        String::from_utf8_lossy(&a.stderr).contains("--allow-delete"),
        "{}",
        text(&a)
    );

    // Saved, then the cluster moves on: the saved plan is refused.
    let saved = out.join("plan.json");
    let saved = saved.to_string_lossy();
    let p = plan(&dir, &env, &["--against", &old, "--out", &saved]);
    assert_eq!(p.status.code(), Some(2), "{}", text(&p));
    let a = pipec(&["apply", "--plan", &saved, "--allow-delete"]);
    assert_eq!(a.status.code(), Some(0), "{}", text(&a));
    assert!(
        stdout(&a).contains("0 created, 0 changed, 1 deleted"),
        "{}",
        text(&a)
    );
    let a = pipec(&["apply", "--plan", &saved, "--allow-delete"]);
    assert_eq!(a.status.code(), Some(1), "{}", text(&a));
    let err = String::from_utf8_lossy(&a.stderr);
    assert!(
        err.contains("no longer match") && err.contains("does not exist any more"),
        "{err}"
    );
    // The topics are done; the schema change remains (deployed with the jobs, not by apply).
    let p = plan(&dir, &env, &["--against", &old]);
    assert_eq!(p.status.code(), Some(2), "{}", text(&p));
    assert!(!stdout(&p).contains("Topics:"), "{}", text(&p));
    assert!(
        stdout(&p).contains("Plan: 0 to create, 1 to change, 0 to delete."),
        "{}",
        text(&p)
    );
}

#[test]
fn a_stopped_broker_is_a_clear_error_within_the_timeout() {
    // Nothing listens on port 1.
    let started = Instant::now();
    let o = pipec(&[
        "plan",
        "pipelines/igot",
        "--brokers",
        "127.0.0.1:1",
        "--timeout",
        "3",
        "--detailed-exitcode",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("127.0.0.1:1") && err.contains("reading the live topics"),
        "{err}"
    );
    assert!(o.stdout.is_empty(), "{}", text(&o));
    // Bounded: the timeout plus start-up, generously (not a speed assertion).
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    let o = pipec(&[
        "apply",
        "pipelines/igot",
        "--brokers",
        "127.0.0.1:1",
        "--timeout",
        "3",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
}
