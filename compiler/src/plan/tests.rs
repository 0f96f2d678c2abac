use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use super::*;
use crate::manifest::{Emit, Step};

/// The quickstart example, compiled for `dev`: small, with a relative `$ref` between
/// embedded schemas.
fn quickstart() -> Manifest {
    crate::test_support::compiled_dev("examples/quickstart")
}

fn plan_between(old: &Manifest, new: &Manifest) -> Plan {
    plan(new, &ClusterState::from_manifest(old), Some(old))
}

fn topic_actions(p: &Plan) -> Vec<&TopicAction> {
    p.topics.iter().collect()
}

#[test]
fn identical_manifests_plan_to_nothing() {
    let m = quickstart();
    let p = plan_between(&m, &m);
    assert!(p.is_empty(), "{p:#?}");
    assert_eq!(p.summary, Summary::default());
    assert!(render::text(&p).ends_with("Plan: 0 to create, 0 to change, 0 to delete.\n"));
}

#[test]
fn retention_change_alters_the_config() {
    let old = quickstart();
    let mut new = old.clone();
    let raw = new.topics.get_mut("raw").expect("raw");
    raw.config.insert("retention.ms".into(), "86400000".into());
    raw.config.insert("cleanup.policy".into(), "compact".into());
    let p = plan_between(&old, &new);
    let [TopicAction::AlterConfigs { topic, changes }] = topic_actions(&p)[..] else {
        panic!("{p:#?}");
    };
    assert_eq!(topic.topic, "dev.clicks.raw");
    assert_eq!(changes.len(), 2);
    assert_eq!(changes[0].key, "cleanup.policy");
    assert_eq!(changes[0].old, None);
    assert_eq!(changes[1].old.as_deref(), Some("172800000"));
    assert_eq!(changes[1].new.as_deref(), Some("86400000"));
    assert_eq!(p.summary.change, 1);
}

#[test]
fn a_config_override_that_goes_away_is_deleted() {
    let old = quickstart();
    let mut new = old.clone();
    new.topics.get_mut("raw").expect("raw").config.clear();
    let p = plan_between(&old, &new);
    let [TopicAction::AlterConfigs { changes, .. }] = topic_actions(&p)[..] else {
        panic!("{p:#?}");
    };
    assert_eq!(changes[0].op, ConfigOp::Delete);
    assert_eq!(changes[0].new, None);
}

#[test]
fn broker_defaults_are_no_difference_unless_the_spec_sets_another_value() {
    let m = quickstart();
    let mut live = ClusterState::from_manifest(&m);
    let cluster = m.topics["raw"].cluster.clone();
    let raw = live
        .clusters
        .get_mut(&cluster)
        .and_then(|c| c.get_mut("dev.clicks.raw"))
        .expect("raw is live");
    // As a broker reports it: the spec's retention equal to the broker default, and
    // defaults the spec does not mention.
    let retention = raw
        .configs
        .remove("retention.ms")
        .expect("raw sets retention");
    raw.defaults
        .insert("retention.ms".into(), retention.clone());
    raw.defaults
        .insert("cleanup.policy".into(), "delete".into());
    raw.defaults
        .insert("segment.bytes".into(), "1073741824".into());
    let p = plan(&m, &live, None);
    assert!(p.is_empty(), "{p:#?}");

    let mut changed = m.clone();
    let cfg = &mut changed.topics.get_mut("raw").expect("raw").config;
    cfg.insert("retention.ms".into(), "3600000".into());
    cfg.insert("cleanup.policy".into(), "delete".into());
    let p = plan(&changed, &live, None);
    let [TopicAction::AlterConfigs { changes, .. }] = topic_actions(&p)[..] else {
        panic!("{p:#?}");
    };
    assert_eq!(changes.len(), 1, "{changes:#?}");
    assert_eq!(changes[0].key, "retention.ms");
    assert_eq!(changes[0].old.as_deref(), Some(retention.as_str()));
    assert_eq!(changes[0].new.as_deref(), Some("3600000"));
}

#[test]
fn more_partitions_increase_fewer_are_refused() {
    let old = quickstart();
    let mut up = old.clone();
    up.topics.get_mut("raw").expect("raw").partitions = 8;
    let p = plan_between(&old, &up);
    assert!(matches!(
        topic_actions(&p)[..],
        [TopicAction::IncreasePartitions { from: 4, to: 8, .. }]
    ));
    let mut down = old.clone();
    down.topics.get_mut("raw").expect("raw").partitions = 2;
    let p = plan_between(&old, &down);
    let [TopicAction::Refused { what, instead, .. }] = topic_actions(&p)[..] else {
        panic!("{p:#?}");
    };
    assert_eq!(*what, Refusal::PartitionDecrease);
    assert!(instead.contains("new topic"));
    assert_eq!(p.summary.refused, 1);
    assert_eq!(p.summary.change, 0);
    assert!(render::text(&p).contains("1 change refused"));
}

#[test]
fn replication_change_is_refused() {
    let old = quickstart();
    let mut new = old.clone();
    new.topics.get_mut("raw").expect("raw").replication = 3;
    let p = plan_between(&old, &new);
    let [TopicAction::Refused { what, instead, .. }] = topic_actions(&p)[..] else {
        panic!("{p:#?}");
    };
    assert_eq!(*what, Refusal::ReplicationChange);
    assert!(instead.contains("kafka-reassign-partitions.sh"));
}

#[test]
fn topics_removed_are_deleted_and_added_are_created() {
    let old = quickstart();
    let mut new = old.clone();
    let mut logs = new.topics.remove("logs").expect("logs");
    logs.name = "dev.clicks.logs2".into();
    new.topics.insert("logs2".into(), logs);
    let p = plan_between(&old, &new);
    // Sorted by cluster and Kafka name: `dev.clicks.logs` before `dev.clicks.logs2`.
    let [
        TopicAction::Delete {
            topic: deleted,
            requires,
        },
        TopicAction::Create { topic: created, .. },
    ] = topic_actions(&p)[..]
    else {
        panic!("{p:#?}");
    };
    assert_eq!(created.id.as_deref(), Some("logs2"));
    assert_eq!(deleted.id.as_deref(), Some("logs"));
    assert_eq!(requires, ALLOW_DELETE);
    assert_eq!((p.summary.create, p.summary.delete), (1, 1));
    let text = render::text(&p);
    assert!(
        text.contains("  + local/dev.clicks.logs2 (logs2)"),
        "{text}"
    );
    assert!(text.contains("  - local/"), "{text}");
}

#[test]
fn a_newly_required_field_breaks_backward() {
    let old = quickstart();
    let mut new = old.clone();
    let click = new.schemas.get_mut("schemas/click.json").expect("click");
    click.document["required"] = json!(["target", "button"]);
    click.sha256 = "changed".into();
    let p = plan_between(&old, &new);
    let [s] = &p.schemas[..] else {
        panic!("{p:#?}");
    };
    assert_eq!(s.event_type, "CLICK");
    assert_eq!(s.change, Change::Changed);
    assert_eq!(s.mode, "BACKWARD");
    assert_eq!(s.verdict.as_deref(), Some("FORWARD"));
    assert!(s.breaking);
    assert!(
        s.messages
            .iter()
            .any(|m| m.breaking && m.message.contains("button"))
    );
    assert_eq!(s.new.as_ref().map(|v| v.sha256.as_str()), Some("changed"));
    assert!(render::markdown(&p).contains("Breaking schema changes: `CLICK`"));
}

#[test]
fn a_change_in_a_referenced_schema_is_compared_too() {
    let old = quickstart();
    let mut new = old.clone();
    let common = new.schemas.get_mut("schemas/common.json").expect("common");
    common.sha256 = "changed".into();
    let p = plan_between(&old, &new);
    // Every type referring to common.json is compared; the bytes changed, the meaning not.
    assert!(!p.schemas.is_empty());
    assert!(
        p.schemas
            .iter()
            .all(|s| !s.breaking && s.messages.is_empty())
    );
}

#[test]
fn a_removed_event_type_is_breaking() {
    let old = quickstart();
    let mut new = old.clone();
    new.event_types.remove("LOG");
    let p = plan_between(&old, &new);
    let [s] = &p.schemas[..] else {
        panic!("{p:#?}");
    };
    assert_eq!(s.change, Change::Removed);
    assert!(s.breaking);
}

#[test]
fn job_steps_and_replicas_are_diffed() {
    let old = quickstart();
    let mut new = old.clone();
    let job = new.jobs.get_mut("preprocess").expect("preprocess");
    job.replicas += 2;
    job.steps.insert(
        1,
        Step::Emit(Emit {
            to: vec!["logs".into()],
        }),
    );
    let p = plan_between(&old, &new);
    let [j] = &p.jobs[..] else {
        panic!("{p:#?}");
    };
    assert_eq!(j.change, Change::Changed);
    assert_eq!(
        j.replicas,
        Some(FromTo {
            from: old.jobs["preprocess"].replicas,
            to: old.jobs["preprocess"].replicas + 2
        })
    );
    assert_eq!(
        j.steps,
        vec![StepChange {
            change: Change::Added,
            old_index: None,
            new_index: Some(1),
            old_kind: None,
            new_kind: Some("emit".into()),
        }]
    );
    assert!(render::text(&p).contains("step 1 added: emit"));
}

#[test]
fn a_changed_step_pairs_old_and_new() {
    let old = quickstart();
    let mut new = old.clone();
    let job = new.jobs.get_mut("clicks-per-minute").expect("job");
    job.steps[0] = Step::Emit(Emit {
        to: vec!["logs".into()],
    });
    let p = plan_between(&old, &new);
    assert_eq!(p.jobs[0].steps.len(), 1);
    assert_eq!(p.jobs[0].steps[0].change, Change::Changed);
    assert_eq!(p.jobs[0].steps[0].old_kind.as_deref(), Some("filter"));
}

#[test]
fn schedule_changes_are_listed() {
    let old = quickstart();
    let mut new = old.clone();
    new.reports.get_mut("daily-pages").expect("report").schedule = "0 4 * * *".into();
    let p = plan_between(&old, &new);
    let [s] = &p.schedules[..] else {
        panic!("{p:#?}");
    };
    assert_eq!(s.to.as_deref(), Some("0 4 * * *"));
    assert_eq!(p.summary.change, 1);
}

#[test]
fn the_json_plan_round_trips() {
    let old = quickstart();
    let mut new = old.clone();
    new.topics.get_mut("raw").expect("raw").partitions = 2;
    new.jobs.remove("preprocess");
    let p = plan_between(&old, &new);
    let back: Plan = serde_json::from_str(&p.to_json()).expect("round trip");
    assert_eq!(back, p);
    let v: serde_json::Value = serde_json::from_str(&p.to_json()).expect("json");
    assert_eq!(v["plan_version"], 1);
    assert_eq!(v["topics"][0]["action"], "refused");
    assert_eq!(v["topics"][0]["what"], "partition_decrease");
    assert_eq!(v["jobs"][0]["change"], "removed");
}

#[test]
fn a_live_state_without_a_manifest_plans_topics_only() {
    let old = quickstart();
    let mut new = old.clone();
    new.reports.clear();
    let p = plan(&new, &ClusterState::from_manifest(&old), None);
    assert!(p.is_empty());
}

#[test]
fn a_saved_plan_is_stale_when_the_cluster_moved_on() {
    let old = quickstart();
    let mut new = old.clone();
    let raw = new.topics.get_mut("raw").expect("raw");
    raw.partitions += 2;
    raw.config.insert("retention.ms".into(), "3600000".into());
    let cluster = raw.cluster.clone();
    let live = ClusterState::from_manifest(&old);
    let p = plan(&new, &live, None);
    assert_eq!(p.topics.len(), 2, "{p:#?}");
    assert!(p.stale(&live).is_empty());
    assert_eq!(
        p.topic_names()[&cluster],
        BTreeSet::from(["dev.clicks.raw".to_owned()])
    );

    // Someone raised the partitions and changed the retention meanwhile.
    let mut moved = live.clone();
    let t = moved
        .clusters
        .get_mut(&cluster)
        .and_then(|c| c.get_mut("dev.clicks.raw"))
        .expect("raw");
    t.partitions += 1;
    t.configs.insert("retention.ms".into(), "1".into());
    let stale = p.stale(&moved);
    assert_eq!(stale.len(), 2, "{stale:#?}");
    assert!(stale[0].contains("partitions, the plan saw"), "{stale:?}");
    assert!(stale[1].contains("`retention.ms` is `1`"), "{stale:?}");

    // A topic to create that exists, one to change that is gone.
    let created = plan(&old, &ClusterState::default(), None);
    assert!(
        created
            .stale(&live)
            .iter()
            .all(|s| s.ends_with("exists already"))
    );
    assert!(!created.stale(&live).is_empty());
    assert_eq!(p.stale(&ClusterState::default()).len(), 2);
}

#[test]
fn one_topic_reached_through_two_clusters_on_the_same_servers_is_one_action() {
    let mut m = quickstart();
    let raw = m.topics["raw"].clone();
    let cluster = raw.cluster.clone();
    m.clusters
        .insert("other".into(), m.clusters[&cluster].clone());
    let mut twin = raw.clone();
    twin.cluster = "other".into();
    m.topics.insert("raw-twin".into(), twin);
    let p0 = plan(&m, &ClusterState::default(), None);
    let creates = |p: &Plan| {
        p.topics
            .iter()
            .filter(|a| a.topic().topic == raw.name)
            .count()
    };
    assert_eq!(creates(&p0), 2);

    let same = BTreeMap::from([
        (cluster.clone(), "h:9092".to_owned()),
        ("other".to_owned(), "h:9092".to_owned()),
    ]);
    let mut p = p0.clone();
    p.set_brokers(same.clone());
    assert_eq!(creates(&p), 1, "{p:#?}");
    assert_eq!(p.summary.create, p0.summary.create - 1);
    assert_eq!(p.brokers, same);

    let apart = BTreeMap::from([
        (cluster, "h:9092".to_owned()),
        ("other".to_owned(), "k:9092".to_owned()),
    ]);
    let mut p = p0.clone();
    p.set_brokers(apart);
    assert_eq!(creates(&p), 2);
}
