//! `pipec plan`: each case plans a spec against a previous manifest (the golden
//! `igot-dev` manifest) and compares the text, JSON and Markdown output with
//! `tests/golden/plan/<case>/expected.{txt,json,md}`, and the exit code of
//! `--detailed-exitcode`. The modified spec is a scratch copy of `pipelines/igot` edited
//! by the test. After a deliberate change to the plan or its renderers, regenerate:
//!
//! ```sh
//! PIPEC_BLESS=1 cargo test --test integration plan
//! git diff tests/golden/plan
//! ```

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::compile::run;
use crate::support::{copy_dir, root, scratch};

const OLD: &str = "tests/golden/compile/igot-dev/manifest.json";

fn replace(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).expect("read");
    assert!(text.contains(from), "{}: no `{from}`", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).expect("write");
}

/// The igot spec with changed retention, raised and lowered partitions, a changed
/// replication, a removed and an added topic, a newly required field in the IMPRESSION
/// schema (breaking under BACKWARD), a replica change, a new step and a schedule change.
fn changed_igot() -> PathBuf {
    let dir = scratch("plan-igot-changed");
    copy_dir(&root().join("pipelines/igot"), &dir);
    let topics = dir.join("topics.yaml");
    replace(
        &topics,
        r#"  raw: { name: "{env}.telemetry.raw", key: context.did }"#,
        r#"  raw: { name: "{env}.telemetry.raw", key: context.did, partitions: 32, retention: 1d }"#,
    );
    replace(
        &topics,
        r#"  ingest: { name: "{env}.telemetry.ingest" }"#,
        r#"  ingest: { name: "{env}.telemetry.ingest", partitions: 8, replication: 3 }"#,
    );
    replace(
        &topics,
        "  rating-failedRating: { name: \"{env}.rating.failedRating\", partitions: 4, external: true }\n",
        "  audit-archive: { name: \"{env}.telemetry.audit.archive\", partitions: 2, external: true }\n",
    );
    replace(&dir.join("batch.yaml"), "\"45 1 * * *\"", "\"0 3 * * *\"");
    replace(
        &dir.join("streams/03-pipeline-preprocessor.yaml"),
        "replicas: 2",
        "replicas: 3",
    );
    let schema = dir.join("schemas/telemetry/3.0/impression.json");
    let mut doc: Value =
        serde_json::from_str(&std::fs::read_to_string(&schema).expect("read")).expect("json");
    if let Some(req) = doc["required"].as_array_mut() {
        req.push(json!("sessionid"));
    }
    std::fs::write(&schema, serde_json::to_string_pretty(&doc).expect("json")).expect("write");
    dir
}

fn check_case(case: &str, spec: &str, expected_code: i32) {
    let golden = root().join("tests/golden/plan").join(case);
    let bless = std::env::var_os("PIPEC_BLESS").is_some();
    for (format, file) in [
        ("text", "expected.txt"),
        ("json", "expected.json"),
        ("markdown", "expected.md"),
    ] {
        let o = run(&[
            "plan",
            spec,
            "--env",
            "dev",
            "--against",
            OLD,
            "--format",
            format,
            "--detailed-exitcode",
        ]);
        let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
        assert_eq!(
            o.status.code(),
            Some(expected_code),
            "{case} {format}: {stdout}\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let path = golden.join(file);
        if bless {
            std::fs::create_dir_all(&golden).expect("mkdir");
            std::fs::write(&path, &stdout).expect("write golden");
        } else {
            let want = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e} (PIPEC_BLESS=1 creates it)", path.display()));
            assert_eq!(
                stdout,
                want,
                "{case} {format} differs from {}",
                path.display()
            );
        }
    }
}

#[test]
fn plan_igot_against_itself_is_empty() {
    check_case("igot-unchanged", "pipelines/igot", 0);
}

#[test]
fn plan_igot_changes() {
    let spec = changed_igot();
    check_case("igot-changed", spec.to_str().expect("utf-8"), 2);
}

#[test]
fn plan_out_writes_the_json_plan() {
    let out = scratch("plan-out").join("plan.json");
    let o = run(&[
        "plan",
        "pipelines/igot",
        "--env",
        "dev",
        "--against",
        OLD,
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(0));
    let plan: Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("plan.json")).expect("json");
    assert_eq!(plan["plan_version"], 1);
    assert_eq!(plan["summary"]["change"], 0);
}

#[test]
fn plan_refuses_unreadable_or_foreign_manifests() {
    let dir = scratch("plan-foreign");
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{\"hello\": 1}").expect("write");
    let o = run(&[
        "plan",
        "pipelines/igot",
        "--env",
        "dev",
        "--against",
        bad.to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a pipec manifest"));
    let o = run(&[
        "plan",
        "pipelines/igot",
        "--env",
        "prod",
        "--against",
        OLD,
        "--detailed-exitcode",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("env `dev`"));
}

#[test]
fn plan_golden_has_no_orphans() {
    let dir = root().join("tests/golden/plan");
    let mut orphans = Vec::new();
    for e in std::fs::read_dir(&dir)
        .expect("tests/golden/plan")
        .flatten()
    {
        let name = e.file_name().to_string_lossy().into_owned();
        if !["igot-unchanged", "igot-changed", "igot-live-empty"].contains(&name.as_str()) {
            orphans.push(name);
            continue;
        }
        for f in std::fs::read_dir(e.path()).expect("case dir").flatten() {
            let file = f.file_name().to_string_lossy().into_owned();
            if !["expected.txt", "expected.json", "expected.md"].contains(&file.as_str()) {
                orphans.push(format!("{name}/{file}"));
            }
        }
    }
    assert!(
        orphans.is_empty(),
        "tests/golden/plan/ holds entries no case writes: {orphans:?}"
    );
}

/// Terraform's `-detailed-exitcode`: 0 nothing to change, 2 changes, 1 any error. A usage
/// error, which clap exits 2 with, and a path with no spec (2 for other commands) are 1
/// with the flag, so that no error is ever read as "changes".
#[test]
fn detailed_exitcode_never_says_changes_for_an_error() {
    let flag = "--detailed-exitcode";
    let o = run(&["plan", "pipelines/igot", "--against", OLD, "--bogus", flag]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("--bogus"));
    // The flag after the usage error, and a missing required argument.
    assert_eq!(run(&["plan", "--bogus", flag]).status.code(), Some(1));
    assert_eq!(
        run(&["plan", "pipelines/igot", flag]).status.code(),
        Some(1)
    );
    // Without the flag, usage errors keep clap's (and every other command's) 2.
    assert_eq!(
        run(&["plan", "pipelines/igot", "--bogus"]).status.code(),
        Some(2)
    );
    assert_eq!(run(&["check", "--bogus", flag]).status.code(), Some(2));
    // No spec at the path: an error, 1 with and without the flag.
    let o = run(&["plan", "no/such/dir", "--against", OLD, flag]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // And a plan: 0 without changes.
    let o = run(&[
        "plan",
        "pipelines/igot",
        "--env",
        "dev",
        "--against",
        OLD,
        flag,
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
