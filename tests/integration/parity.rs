//! What `pipec compile pipelines/igot --env dev` writes, compared with Sunbird's deployment
//! (`tests/data/sunbird-deploy/`, copied with its provenance), the reference: the Kafka topic lists
//! of the `setup-kafka` Ansible role, the data-products cron times; and the artifacts
//! against each other (topics.json against topics.yaml, Helm values and job files against the
//! manifest, the graph against the manifest's topics and jobs).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;
use yaml_rust2::Yaml;

use crate::compile::{compiled, load_yaml};
use crate::support::root;

const CLUSTERS: [&str; 2] = ["ingestion", "processing"];

/// Sunbird's deployment defaults.
fn sunbird(file: &str) -> Yaml {
    let path = root().join("tests/data/sunbird-deploy").join(file);
    assert!(
        path.is_file(),
        "Sunbird's deployment defaults are expected at {}",
        path.display()
    );
    load_yaml(&path)
}

/// The compiled igot dev output.
fn igot() -> &'static Path {
    compiled("igot-dev")
}

fn manifest() -> Value {
    let text = std::fs::read_to_string(igot().join("manifest.json")).expect("manifest.json");
    serde_json::from_str(&text).expect("manifest.json is JSON")
}

/// The only chart directory under `helm/`.
fn chart_dir() -> PathBuf {
    let charts: Vec<PathBuf> = std::fs::read_dir(igot().join("helm"))
        .expect("helm/")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(charts.len(), 1, "one chart under helm/: {charts:?}");
    charts[0].clone()
}

/// An integer, written as one (`2`) or as a string of digits (`"02"`).
fn int(y: &Yaml) -> Option<i64> {
    match y {
        Yaml::Integer(i) => Some(*i),
        Yaml::String(s) | Yaml::Real(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn show(y: &Yaml) -> String {
    match y {
        Yaml::BadValue => "(absent)".into(),
        Yaml::Integer(i) => i.to_string(),
        Yaml::String(s) | Yaml::Real(s) => format!("{s:?}"),
        other => format!("{other:?}"),
    }
}

/// The entries of the list `key`, by `name`; a repeated name is reported.
fn by_name<'a>(
    doc: &'a Yaml,
    key: &str,
    what: &str,
    problems: &mut Vec<String>,
) -> BTreeMap<String, &'a Yaml> {
    let mut out = BTreeMap::new();
    let Some(items) = doc[key].as_vec() else {
        problems.push(format!("{what}: no list `{key}`"));
        return out;
    };
    for item in items {
        let Some(name) = item["name"].as_str() else {
            problems.push(format!("{what} `{key}`: an entry without a name: {item:?}"));
            continue;
        };
        if out.insert(name.to_string(), item).is_some() {
            problems.push(format!("{what} `{key}`: `{name}` is listed twice"));
        }
    }
    out
}

/// Compares field `field` of a Sunbird entry and a generated one.
fn same_int(problems: &mut Vec<String>, at: &str, field: &str, sunbird: &Yaml, generated: &Yaml) {
    let (s, g) = (int(&sunbird[field]), int(&generated[field]));
    if s.is_none() || s != g {
        problems.push(format!(
            "{at}: {field}: Sunbird {}, generated {}",
            show(&sunbird[field]),
            show(&generated[field])
        ));
    }
}

fn generated_topics_yaml(cluster: &str) -> Yaml {
    load_yaml(&igot().join(format!("kafka/{cluster}/topics.yaml")))
}

#[test]
fn parity_kafka_topics_yaml_matches_sunbird_setup_kafka() {
    let reference = sunbird("setup-kafka.defaults.yml");
    let mut problems = Vec::new();
    for cluster in CLUSTERS {
        let generated = generated_topics_yaml(cluster);
        if generated["env"].as_str() != Some("dev") {
            problems.push(format!(
                "kafka/{cluster}/topics.yaml: env is {}, not \"dev\"",
                show(&generated["env"])
            ));
        }
        let list = format!("{cluster}_kafka_topics");
        let s_topics = by_name(&reference, &list, "Sunbird", &mut problems);
        let g_topics = by_name(&generated, &list, "generated", &mut problems);
        for name in s_topics.keys().filter(|n| !g_topics.contains_key(*n)) {
            problems.push(format!("{list}: `{name}` is Sunbird's but not generated"));
        }
        for name in g_topics.keys().filter(|n| !s_topics.contains_key(*n)) {
            problems.push(format!("{list}: `{name}` is generated but not Sunbird's"));
        }
        for (name, s) in &s_topics {
            if let Some(g) = g_topics.get(name) {
                let at = format!("{list} `{name}`");
                same_int(&mut problems, &at, "num_of_partitions", s, g);
                same_int(&mut problems, &at, "replication_factor", s, g);
            }
        }

        let list = format!("{cluster}_kafka_overriden_topics");
        let s_over = by_name(&reference, &list, "Sunbird", &mut problems);
        let g_over = by_name(&generated, &list, "generated", &mut problems);
        for (name, s) in &s_over {
            let at = format!("{list} `{name}`");
            let Some(g) = g_over.get(name) else {
                problems.push(format!("{at}: Sunbird overrides it; not generated"));
                continue;
            };
            same_int(&mut problems, &at, "retention_time", s, g);
            same_int(&mut problems, &at, "replication_factor", s, g);
            if !s["max_message_bytes"].is_badvalue() {
                same_int(&mut problems, &at, "max_message_bytes", s, g);
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} differences between the generated kafka/<cluster>/topics.yaml and \
         tests/data/sunbird-deploy/setup-kafka.defaults.yml:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn parity_kafka_topics_json_matches_topics_yaml() {
    let mut problems = Vec::new();
    for cluster in CLUSTERS {
        let yaml = generated_topics_yaml(cluster);
        let path = igot().join(format!("kafka/{cluster}/topics.json"));
        let json: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read topics.json"))
                .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
        if json["env"] != "dev" || json["cluster"] != cluster {
            problems.push(format!(
                "kafka/{cluster}/topics.json: env {} cluster {}",
                json["env"], json["cluster"]
            ));
        }
        let y_topics = by_name(
            &yaml,
            &format!("{cluster}_kafka_topics"),
            "topics.yaml",
            &mut problems,
        );
        let y_over = by_name(
            &yaml,
            &format!("{cluster}_kafka_overriden_topics"),
            "topics.yaml",
            &mut problems,
        );
        let mut j_topics: BTreeMap<String, &Value> = BTreeMap::new();
        for t in json["topics"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
            let name = t["name"].as_str().unwrap_or_default().to_string();
            if j_topics.insert(name.clone(), t).is_some() {
                problems.push(format!("{cluster} topics.json: `{name}` is listed twice"));
            }
        }
        let want: BTreeSet<String> = y_topics.keys().map(|n| format!("dev.{n}")).collect();
        let got: BTreeSet<String> = j_topics.keys().cloned().collect();
        if want != got {
            problems.push(format!(
                "{cluster}: topics.json lists {:?} not in topics.yaml (with `dev.`), and lacks {:?}",
                got.difference(&want).collect::<Vec<_>>(),
                want.difference(&got).collect::<Vec<_>>()
            ));
        }
        for (name, y) in &y_topics {
            let Some(j) = j_topics.get(&format!("dev.{name}")) else {
                continue;
            };
            let at = format!("{cluster} `dev.{name}`");
            if j["partitions"].as_i64() != int(&y["num_of_partitions"]) {
                problems.push(format!(
                    "{at}: partitions {} in topics.json, {} in topics.yaml",
                    j["partitions"],
                    show(&y["num_of_partitions"])
                ));
            }
            if j["replication_factor"].as_i64() != int(&y["replication_factor"]) {
                problems.push(format!(
                    "{at}: replication {} in topics.json, {} in topics.yaml",
                    j["replication_factor"],
                    show(&y["replication_factor"])
                ));
            }
            let retention_json = j["config"]["retention.ms"]
                .as_str()
                .and_then(|s| s.parse::<i64>().ok());
            let retention_yaml = y_over.get(name).and_then(|o| int(&o["retention_time"]));
            if retention_json != retention_yaml {
                problems.push(format!(
                    "{at}: retention.ms {:?} in topics.json, retention_time {:?} in topics.yaml",
                    retention_json, retention_yaml
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn parity_helm_values_and_job_files_cover_every_stream_job() {
    let m = manifest();
    let jobs = m["jobs"].as_object().expect("manifest jobs");
    assert!(!jobs.is_empty(), "the igot manifest has no jobs");
    let chart = chart_dir();
    let values = load_yaml(&chart.join("values-dev.yaml"));
    let mut problems = Vec::new();
    for (name, job) in jobs {
        let entry = &values["jobs"][name.as_str()];
        if entry.is_badvalue() {
            problems.push(format!(
                "job `{name}`: no entry under `jobs` in values-dev.yaml"
            ));
        } else if int(&entry["replicas"]) != job["replicas"].as_i64() {
            problems.push(format!(
                "job `{name}`: replicas {} in values-dev.yaml, {} in the manifest",
                show(&entry["replicas"]),
                job["replicas"]
            ));
        }
        let file = chart.join(format!("files/dev/jobs/{name}.json"));
        match std::fs::read_to_string(&file) {
            Err(_) => problems.push(format!("job `{name}`: no files/dev/jobs/{name}.json")),
            Ok(text) => {
                if serde_json::from_str::<Value>(&text).is_err() {
                    problems.push(format!(
                        "job `{name}`: files/dev/jobs/{name}.json is not JSON"
                    ));
                }
            }
        }
    }
    if let Some(h) = values["jobs"].as_hash() {
        for k in h.keys() {
            let k = k.as_str().unwrap_or_default();
            if !jobs.contains_key(k) {
                problems.push(format!(
                    "values-dev.yaml has job `{k}`, the manifest has not"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// iGOT report → (key, job) of Sunbird's data-products-deploy defaults.
const REPORT_SCHEDULES: &[(&str, &str, &str)] = &[
    ("workflow-summary", "run_wfs_job", "wfs"),
    (
        "user-enrolment-report",
        "run_user_enrolment_report_job",
        "user-enrolment-report",
    ),
    ("user-report", "run_user_report_job", "user-report"),
    ("course-report", "run_course_report_job", "course-report"),
];

#[test]
fn parity_crontab_times_match_sunbird_data_products() {
    let reference = sunbird("data-products-deploy.defaults.yml");
    let m = manifest();
    let reports = m["reports"].as_object().expect("manifest reports");
    assert!(!reports.is_empty(), "the igot manifest has no reports");
    let crontab = std::fs::read_to_string(igot().join("cron/crontab")).expect("cron/crontab");
    let mut problems = Vec::new();
    for name in reports.keys() {
        let Some((_, key, job)) = REPORT_SCHEDULES.iter().find(|(r, _, _)| r == name) else {
            problems.push(format!(
                "report `{name}` has no Sunbird counterpart in this test"
            ));
            continue;
        };
        let lines: Vec<&str> = crontab
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .filter(|l| {
                let words: Vec<&str> = l.split_whitespace().collect();
                words
                    .windows(3)
                    .any(|w| w[0] == "pipec" && w[1] == "report" && w[2] == name)
            })
            .collect();
        if lines.len() != 1 {
            problems.push(format!(
                "report `{name}`: {} crontab lines run it: {lines:?}",
                lines.len()
            ));
            continue;
        }
        let line = lines[0];
        let entry = &reference[*key][*job];
        let (Some(hour), Some(minute)) = (int(&entry["hour"]), int(&entry["minute"])) else {
            problems.push(format!(
                "Sunbird's {key}.{job} has no hour/minute: {entry:?}"
            ));
            continue;
        };
        let want = format!("{minute} {hour} * * *");
        let fields: Vec<&str> = line.split_whitespace().take(5).collect();
        if fields.join(" ") != want {
            problems.push(format!(
                "report `{name}`: schedule `{}`, Sunbird's {key}.{job} runs at `{want}`",
                fields.join(" ")
            ));
        }
        if !line.contains("flock -n") {
            problems.push(format!("report `{name}`: no `flock -n` in `{line}`"));
        }
        if !line.contains(&format!("pipec report {name}")) {
            problems.push(format!(
                "report `{name}`: no `pipec report {name}` in `{line}`"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn parity_graph_shows_every_topic_and_job() {
    let m = manifest();
    let mmd = std::fs::read_to_string(igot().join("graph/pipeline.mmd")).expect("pipeline.mmd");
    let dot = std::fs::read_to_string(igot().join("graph/pipeline.dot")).expect("pipeline.dot");
    let mut problems = Vec::new();
    let topics = m["topics"].as_object().expect("manifest topics");
    let jobs = m["jobs"].as_object().expect("manifest jobs");
    assert!(!topics.is_empty() && !jobs.is_empty());
    for (id, t) in topics {
        let name = t["name"].as_str().expect("topic name");
        if !mmd.contains(&format!("\"{name}\"")) {
            problems.push(format!("topic `{id}` (`{name}`) is not in pipeline.mmd"));
        }
    }
    for id in jobs.keys() {
        if !mmd.contains(&format!("\"{id}\"")) {
            problems.push(format!("job `{id}` is not in pipeline.mmd"));
        }
    }
    if !dot.starts_with("// Generated") {
        problems.push("pipeline.dot does not start with `// Generated`".into());
    }
    if !dot.contains("digraph") {
        problems.push("pipeline.dot has no `digraph`".into());
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
