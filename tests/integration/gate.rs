//! The CI recipe (`examples/ci/pipec-gate.sh`) in a real git repository: a compatible change
//! with valid sample events passes; an unused topic, a narrowed enum and an event using the
//! removed value fail, each with a GitHub annotation on its file and line.

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
    // And a topic nothing uses: a warning, which the gate's `--deny-warnings` fails.
    let topics = dir.join("spec/topics.yaml");
    let mut text = std::fs::read_to_string(&topics).expect("topics");
    text.push_str("  audit: { name: \"{env}.clicks.audit\" }\n");
    std::fs::write(&topics, text).expect("write");
    let (code, out) = gate(&dir, "main");
    assert_eq!(code, 1, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    // Each of the three steps annotates the file it is about.
    for line in [
        "::warning file=spec/topics.yaml,line=10,col=3,endLine=10,endColumn=8,\
         title=PC0402 topic `audit` is not used::nothing reads or writes it%0Ahelp: remove it, \
         or mark it `external: true` if systems outside the pipeline use it",
        "::error file=events/log.ndjson,line=2,title=LOG invalid::/level: \"DEBUG\" is not one \
         of \"INFO\", \"WARN\" or 2 other candidates [enum]",
        "::error file=spec/schemas/log.json,line=7,col=24,title=LOG breaks BACKWARD::\
         #/properties/level/enum: enum values removed: \"DEBUG\"; added: \"FATAL\"",
    ] {
        assert!(lines.contains(&line), "missing `{line}` in:\n{out}");
    }
    assert!(out.contains("pipec gate: FAILED"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The workflow's value of `key` under `env`.
fn workflow_env(workflow: &yaml_rust2::Yaml, key: &str) -> String {
    workflow["env"][key]
        .as_str()
        .unwrap_or_else(|| panic!("pipec.yml: no env {key}"))
        .to_owned()
}

/// The example workflow installs pipec from this repository at a pinned commit (the `pipec`
/// crate on crates.io is another project): its install step, run with a stand-in `cargo`,
/// asks for exactly `cargo install --git REPO --rev SHA --locked pipec`, REPO being this
/// workspace's `repository`, and the cache is keyed on the commit. When the pinned commit is
/// in this clone, it has what the gate script runs (`check`/`compat --format github`).
#[test]
fn the_ci_example_installs_pipec_from_the_repository_at_a_pinned_commit() {
    let text = std::fs::read_to_string(root().join("examples/ci/pipec.yml")).expect("pipec.yml");
    let docs = yaml_rust2::YamlLoader::load_from_str(&text).expect("pipec.yml is YAML");
    let workflow = &docs[0];
    let (repo, rev) = (
        workflow_env(workflow, "PIPEC_REPO"),
        workflow_env(workflow, "PIPEC_REV"),
    );
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).expect("Cargo.toml");
    assert!(
        manifest.contains(&format!("repository = \"{repo}\"")),
        "PIPEC_REPO {repo} is not the workspace's repository"
    );
    assert!(
        rev.len() == 40 && rev.chars().all(|c| c.is_ascii_hexdigit()),
        "PIPEC_REV {rev} is not a full commit id"
    );
    let steps = workflow["jobs"]["gate"]["steps"].as_vec().expect("steps");
    let step = |name: &str| {
        steps
            .iter()
            .find(|s| s["name"].as_str() == Some(name) || s["uses"].as_str() == Some(name))
            .unwrap_or_else(|| panic!("pipec.yml: no step {name}"))
    };
    let key = step("actions/cache@v4")["with"]["key"]
        .as_str()
        .unwrap_or("");
    assert!(key.contains("env.PIPEC_REV"), "cache key {key}");
    let install = step("Install pipec")["run"].as_str().expect("run");

    // Run the step with a `cargo` that records its arguments, one a line, and no pipec.
    let dir = scratch("ci-install");
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    let log = dir.join("cargo-args");
    let fake = bin.join("cargo");
    std::fs::write(
        &fake,
        format!("#!/bin/sh\nprintf '%s\\n' \"$@\" > '{}'\n", log.display()),
    )
    .expect("write");
    let chmod = Command::new("chmod").arg("+x").arg(&fake).status();
    assert!(chmod.is_ok_and(|s| s.success()), "chmod");
    let status = Command::new("bash")
        .args(["-c", install])
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("PIPEC_REPO", &repo)
        .env("PIPEC_REV", &rev)
        .status()
        .expect("bash");
    assert!(status.success(), "install step failed");
    let args = std::fs::read_to_string(&log).expect("cargo ran");
    assert_eq!(
        args.lines().collect::<Vec<_>>(),
        [
            "install", "--git", &repo, "--rev", &rev, "--locked", "pipec"
        ]
    );
    let _ = std::fs::remove_dir_all(&dir);

    // The pinned commit, when this clone has it, can run the gate's commands.
    let has = Command::new("git")
        .args(["cat-file", "-e", &format!("{rev}^{{commit}}")])
        .current_dir(root())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if has {
        for (file, needle) in [("src/cli.rs", "Github"), ("src/compat.rs", "Github")] {
            let out = Command::new("git")
                .args(["show", &format!("{rev}:{file}")])
                .current_dir(root())
                .output()
                .expect("git show");
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                text.contains(needle),
                "pipec at {rev} has no --format github in {file}"
            );
        }
    }
}
