//! `pipec compat` on the golden schema pairs under `tests/golden/compat/`: exit codes, the
//! breaking changes named by pointer, JSON output, and usage errors. Each case's output is
//! kept in `expected/<case>.txt`; `PIPEC_BLESS=1 cargo test --test integration compat`
//! rewrites them, and without it a stale or orphaned snapshot fails the test.

use std::fs;
use std::process::Output;

use crate::support::root;

const GOLDEN: &str = "tests/golden/compat";
const REFS: &str = "--refs=resource:/schemas/telemetry/3.0/=.";

/// `pipec compat ARGS...`.
fn pipec(args: &[&str]) -> Output {
    crate::support::pipec(&[&["compat"], args].concat())
}

fn golden(path: &str) -> String {
    format!("{GOLDEN}/{path}")
}

/// `(case, arguments after "compat", exit code)`.
fn cases() -> Vec<(&'static str, Vec<String>, i32)> {
    let args = |list: &[&str]| list.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    let (v1, ok, bad) = (golden("v1"), golden("v2-compatible"), golden("v2-breaking"));
    let file = |dir: &str| format!("{dir}/interact.json");
    vec![
        ("dirs-compatible", args(&[&v1, &ok, REFS]), 0),
        ("dirs-breaking", args(&[&v1, &bad, REFS]), 1),
        ("file-compatible", args(&[&file(&v1), &file(&ok), REFS]), 0),
        ("file-breaking", args(&[&file(&v1), &file(&bad), REFS]), 1),
        (
            "file-compatible-forward",
            args(&[&file(&v1), &file(&ok), REFS, "--mode", "FORWARD"]),
            1,
        ),
        ("specs", args(&[&golden("spec-v1"), &golden("spec-v2")]), 1),
        (
            "specs-mode-none",
            args(&[&golden("spec-v1"), &golden("spec-v2"), "--mode", "none"]),
            0,
        ),
        ("unmapped-refs", args(&[&file(&v1), &file(&bad)]), 2),
    ]
}

#[test]
fn cases_exit_as_expected_and_match_snapshots() {
    let bless = std::env::var_os("PIPEC_BLESS").is_some();
    let expected_dir = root().join(GOLDEN).join("expected");
    let mut failures = Vec::new();
    let mut names = Vec::new();
    for (name, args, code) in cases() {
        names.push(format!("{name}.txt"));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = pipec(&args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.code() != Some(code) {
            failures.push(format!(
                "{name}: exit {:?}, expected {code}\n{stdout}{}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let snapshot = expected_dir.join(format!("{name}.txt"));
        if bless {
            fs::create_dir_all(&expected_dir).expect("expected dir");
            fs::write(&snapshot, &stdout).expect("write snapshot");
        } else if fs::read_to_string(&snapshot).ok().as_deref() != Some(stdout.as_str()) {
            failures.push(format!(
                "{name}: output differs from {}:\n{stdout}",
                snapshot.display()
            ));
        }
    }
    for entry in fs::read_dir(&expected_dir).expect("expected dir").flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        if !names.contains(&file) {
            failures.push(format!("orphaned snapshot {file}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn breaking_changes_are_named_by_pointer() {
    let out = pipec(&[&golden("v1"), &golden("v2-breaking"), REFS]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    let expected = [
        "interact.json: verdict NONE, mode BACKWARD: 1 breaking change",
        "  #/allOf/1/properties/edata/properties/duration: required property `duration` added to a closed object: old data lacks it and old readers reject it",
        "log.json: verdict FORWARD, mode BACKWARD: 1 breaking change",
        "  #/allOf/1/properties/edata/properties/level/enum: enum \"INFO\", \"WARN\", \"ERROR\" added: other values are no longer allowed",
        "start.json: removed, mode BACKWARD: breaking (its data can no longer be read)",
        "error.json: added, mode BACKWARD: ok",
        "compat: 3 of 5 schemas break their mode",
    ];
    for line in expected {
        assert!(lines.contains(&line), "missing `{line}` in:\n{stdout}");
    }

    // The compatible edit passes BACKWARD, the default, and names nothing.
    let out = pipec(&[
        &golden("v1/interact.json"),
        &golden("v2-compatible/interact.json"),
        REFS,
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "interact.json: verdict BACKWARD, mode BACKWARD: ok\ncompat: ok (1 schema checked)\n"
    );
}

/// `--format github`: an `::error` per breaking change at its pointer's line and column in
/// the new schema file, one for the removed schema (no file: it is gone), then the text.
#[test]
fn github_format_annotates_the_new_schema_files() {
    let (old, new) = (golden("v1"), golden("v2-breaking"));
    let out = pipec(&[&old, &new, REFS, "--format", "github"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let commands: Vec<&str> = stdout.lines().take_while(|l| !l.is_empty()).collect();
    assert_eq!(
        commands,
        [
            "::error file=tests/golden/compat/v2-breaking/interact.json,line=17,col=25,\
             title=interact.json breaks BACKWARD::#/allOf/1/properties/edata/properties/duration: \
             required property `duration` added to a closed object: old data lacks it and old \
             readers reject it",
            "::error file=tests/golden/compat/v2-breaking/log.json,line=13,col=50,\
             title=log.json breaks BACKWARD::#/allOf/1/properties/edata/properties/level/enum: \
             enum \"INFO\", \"WARN\", \"ERROR\" added: other values are no longer allowed",
            "::error title=start.json breaks BACKWARD::start.json removed: its data can no longer \
             be read",
        ]
    );
    // Then the text output, unchanged.
    let text = pipec(&[&old, &new, REFS]);
    let rest = stdout.split_once("\n\n").map(|(_, r)| r);
    assert_eq!(rest, Some(&*String::from_utf8_lossy(&text.stdout)));

    // Nothing breaks: no command, only the text.
    let ok = golden("v2-compatible");
    let out = pipec(&[&old, &ok, REFS, "--format", "github"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("::"));
}

#[test]
fn json_output_lists_every_change_with_both_directions() {
    let out = pipec(&[&golden("spec-v1"), &golden("spec-v2"), "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json output");
    assert_eq!(v["inputs"], "specs");
    assert_eq!(v["breaking"], true);
    let interact = &v["subjects"][1];
    assert_eq!(interact["name"], "INTERACT");
    assert_eq!(interact["mode"], "FULL");
    assert_eq!(interact["status"], "compared");
    assert_eq!(interact["verdict"], "BACKWARD");
    assert_eq!(interact["breaking"], true);
    let change = &interact["changes"][0];
    assert_eq!(
        change["pointer"],
        "#/allOf/1/properties/edata/properties/duration"
    );
    assert_eq!(
        change["kind"],
        "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL"
    );
    assert_eq!(change["backward_ok"], true);
    assert_eq!(change["forward_ok"], false);
    assert_eq!(change["breaking"], true);
    let start = &v["subjects"][0];
    assert_eq!(
        (start["name"].as_str(), start["verdict"].as_str()),
        (Some("START"), Some("FULL"))
    );
    assert_eq!(start["changes"].as_array().map(Vec::len), Some(0));
    assert_eq!(v["subjects"][2]["mode"], "FORWARD");
}

#[test]
fn usage_errors_exit_two() {
    let out = pipec(&[&golden("v1/interact.json"), &golden("v1")]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: `tests/golden/compat/v1/interact.json` is a schema file but"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
    let out = pipec(&[&golden("v1"), &golden("v3")]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: `tests/golden/compat/v3` does not exist\n"
    );
    assert_eq!(
        pipec(&[&golden("v1"), &golden("v1"), "--mode", "SIDEWAYS"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        pipec(&[&golden("v1"), &golden("v1"), "--refs", "no-equals-sign"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(pipec(&[&golden("v1")]).status.code(), Some(2));
}
