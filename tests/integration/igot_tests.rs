//! `pipec test pipelines/igot`: the iGOT spec's own tests, built from Sunbird's job fixtures,
//! all pass, every one is reported, and each of the four jobs they cover has at least one.

use std::fs;

use yaml_rust2::{Yaml, YamlLoader};

use crate::support::{pipec, root};

/// The jobs whose Sunbird fixtures the iGOT tests carry.
const JOBS: [&str; 4] = [
    "telemetry-extractor",
    "pipeline-preprocessor",
    "druid-validator",
    "cb-preprocessor",
];

/// `(name, streams)` of every test in `pipelines/igot/tests.yaml`.
fn spec_tests() -> Vec<(String, Vec<String>)> {
    let text = fs::read_to_string(root().join("pipelines/igot/tests.yaml")).expect("tests.yaml");
    let docs = YamlLoader::load_from_str(&text).expect("tests.yaml is YAML");
    let tests = docs[0]["tests"].as_vec().expect("a `tests:` list").clone();
    tests
        .iter()
        .map(|t| {
            let name = t["name"].as_str().expect("a test name").to_string();
            let streams = t["streams"]
                .as_vec()
                .map(|v| {
                    v.iter()
                        .filter_map(Yaml::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            (name, streams)
        })
        .collect()
}

#[test]
fn every_igot_test_passes() {
    let out = pipec(&["test", "pipelines/igot"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let tests = spec_tests();
    for (name, _) in &tests {
        let line = format!("test {name} ... ok");
        assert!(
            stdout.lines().any(|l| l.starts_with(&line)),
            "`{name}` is not reported as ok:\n{stdout}"
        );
    }
    assert!(
        stdout.contains(&format!("ok: {} passed, 0 failed", tests.len())),
        "{stdout}"
    );
}

#[test]
fn each_job_with_sunbird_fixtures_has_a_test() {
    let tests = spec_tests();
    for job in JOBS {
        assert!(
            tests.iter().any(|(_, streams)| streams == &[job]),
            "no test runs `{job}` alone"
        );
    }
}
