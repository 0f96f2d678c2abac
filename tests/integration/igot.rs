//! The iGOT pipeline spec: it checks clean, and its topics are exactly Sunbird's Ansible topic
//! list (tests/data/sunbird-deploy/setup-kafka.defaults.yml) — name, cluster, partitions,
//! replication, retention and max.message.bytes.

use std::collections::BTreeMap;

use pipec_compiler::diagnostics::Diagnostics;
use pipec_compiler::source::FileId;
use pipec_compiler::spec::load::{LoadOptions, load};
use pipec_compiler::spec::yaml::{self, Node};
use pipec_compiler::units::parse_duration;

use crate::support::{check, no_env, render, root};

/// (cluster, name) -> (partitions, replication, retention ms, max.message.bytes)
type TopicTable = BTreeMap<(String, String), (u64, u64, u64, Option<u64>)>;

#[test]
fn igot_checks_clean() {
    let result = check(&root().join("pipelines/igot"));
    assert!(result.diagnostics.is_empty(), "{}", render(&result));
}

fn scalar<'a>(n: &'a Node, key: &str) -> Option<&'a str> {
    n.get(key)
        .and_then(|v| v.as_scalar())
        .map(|s| s.value.as_str())
}

fn num(n: &Node, key: &str) -> Option<u64> {
    scalar(n, key).and_then(|s| s.parse().ok())
}

fn items<'a>(doc: &'a Node, key: &str) -> Vec<&'a Node> {
    match doc.get(key).map(|n| &n.kind) {
        Some(yaml::NodeKind::Seq(items)) => items.iter().collect(),
        _ => Vec::new(),
    }
}

/// The topics of Sunbird's Ansible role.
fn sunbird_topics() -> TopicTable {
    let path = root().join("tests/data/sunbird-deploy/setup-kafka.defaults.yml");
    let text = std::fs::read_to_string(&path).expect("setup-kafka.defaults.yml");
    let (doc, _) = yaml::parse(FileId(0), &text);
    let doc = doc.expect("yaml");
    let mut out = TopicTable::new();
    for cluster in ["ingestion", "processing"] {
        let overrides: Vec<&Node> = items(&doc, &format!("{cluster}_kafka_overriden_topics"));
        for t in items(&doc, &format!("{cluster}_kafka_topics")) {
            let name = scalar(t, "name").expect("name").to_string();
            let o = overrides
                .iter()
                .find(|o| scalar(o, "name") == Some(name.as_str()));
            let retention = o.and_then(|o| num(o, "retention_time")).expect("retention");
            let max_bytes = o.and_then(|o| num(o, "max_message_bytes"));
            let replication = num(t, "replication_factor").expect("replication");
            if let Some(o) = o {
                assert_eq!(num(o, "replication_factor"), Some(replication), "{name}");
            }
            let partitions = num(t, "num_of_partitions").expect("partitions");
            out.insert(
                (cluster.into(), name),
                (partitions, replication, retention, max_bytes),
            );
        }
    }
    out
}

/// The topics of the iGOT spec, with defaults applied, for `--env dev`.
fn spec_topics() -> TopicTable {
    let mut diags = Diagnostics::default();
    let loaded = load(
        &root().join("pipelines/igot"),
        &LoadOptions {
            env: None,
            env_lookup: &no_env,
        },
        &mut diags,
    );
    assert!(diags.is_empty());
    let defaults = loaded.files[0]
        .spec
        .defaults
        .as_ref()
        .and_then(|d| d.topic.as_ref())
        .expect("topic defaults");
    let mut out = TopicTable::new();
    for f in &loaded.files {
        for (_, t) in f.spec.topics.iter() {
            let cluster = t
                .cluster
                .as_ref()
                .or(defaults.cluster.as_ref())
                .expect("cluster")
                .value
                .clone();
            let name = t
                .name
                .value
                .strip_prefix("dev.")
                .expect("dev. prefix")
                .to_string();
            let partitions = t
                .partitions
                .as_ref()
                .or(defaults.partitions.as_ref())
                .expect("partitions")
                .value;
            let replication = t
                .replication
                .as_ref()
                .or(defaults.replication.as_ref())
                .expect("replication")
                .value;
            let retention = t
                .retention
                .as_ref()
                .or(defaults.retention.as_ref())
                .expect("retention");
            let max_bytes = t
                .config
                .get("max.message.bytes")
                .and_then(|v| v.value.as_u64());
            out.insert(
                (cluster, name),
                (
                    u64::from(partitions),
                    u64::from(replication),
                    parse_duration(&retention.value).expect("duration"),
                    max_bytes,
                ),
            );
        }
    }
    out
}

#[test]
fn igot_topics_equal_sunbirds() {
    let want = sunbird_topics();
    let got = spec_topics();
    assert_eq!(
        want.len(),
        51,
        "Sunbird's list has 2 ingestion and 49 processing topics"
    );
    let missing: Vec<_> = want.keys().filter(|k| !got.contains_key(*k)).collect();
    let extra: Vec<_> = got.keys().filter(|k| !want.contains_key(*k)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}, extra {extra:?}"
    );
    for (k, w) in &want {
        assert_eq!(
            got.get(k),
            Some(w),
            "topic {k:?}: (partitions, replication, retention ms, max.message.bytes)"
        );
    }
}
