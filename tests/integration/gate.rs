//! The CI recipe (`examples/ci/pipec-gate.sh`) in a real git repository: a compatible change
//! with valid sample events passes; a narrowed enum and an event using the removed value fail,
//! with a GitHub annotation on the event's line.

use std::path::Path;
use std::process::Command;

use crate::support::copy_dir;
use crate::support::{root, scratch};

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(["-c", "user.email=ci@example.invalid", "-c", "user.name=ci"])
        .args(args)
        .current_dir(dir)
        .status()
        .expect("git");
    assert!(status.success(), "git {args:?}");
}

fn gate(dir: &Path, base: &str) -> (i32, String) {
    let out = Command::new("bash")
        .arg(root().join("examples/ci/pipec-gate.sh"))
        .args(["spec", "events", base])
        .current_dir(dir)
        .env("PIPEC", env!("CARGO_BIN_EXE_pipec"))
        .env("GITHUB_ACTIONS", "true")
        .output()
        .expect("run gate");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn gate_passes_a_compatible_change_and_fails_a_breaking_one() {
    let dir = scratch("gate");
    copy_dir(&root().join("examples/quickstart"), &dir.join("spec"));
    std::fs::create_dir_all(dir.join("events")).expect("mkdir");
    let log = |level: &str, mid: &str| {
        format!(
            r#"{{"eid":"LOG","mid":"{mid}","ets":1732700003000,"level":"{level}","message":"m"}}"#
        )
    };
    std::fs::write(dir.join("events/log.ndjson"), log("WARN", "m-1") + "\n").expect("write");
    git(&dir, &["init", "-q", "-b", "main"]);
    git(&dir, &["add", "-A"]);
    git(&dir, &["commit", "-q", "-m", "base"]);

    // Compatible: adding an enum value widens the type, which BACKWARD allows.
    let schema = dir.join("spec/schemas/log.json");
    let text = std::fs::read_to_string(&schema).expect("schema");
    let widened = text.replace(r#""ERROR"]"#, r#""ERROR", "FATAL"]"#);
    assert_ne!(widened, text);
    std::fs::write(&schema, &widened).expect("write");
    let (code, out) = gate(&dir, "main");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("pipec gate: passed"), "{out}");

    // Breaking: DEBUG removed from the enum, and a sample event still uses it.
    std::fs::write(&schema, widened.replace(r#""DEBUG", "#, "")).expect("write");
    std::fs::write(
        dir.join("events/log.ndjson"),
        log("WARN", "m-1") + "\n" + &log("DEBUG", "m-2") + "\n",
    )
    .expect("write");
    let (code, out) = gate(&dir, "main");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("::error file=events/log.ndjson,line=2"),
        "{out}"
    );
    assert!(out.contains("enum values removed"), "{out}");
    assert!(out.contains("pipec gate: FAILED"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}
