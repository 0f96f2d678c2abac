use std::path::Path;

use serde_json::json;

use super::*;
use crate::manifest::{Emit, Step};
use crate::{CheckOptions, compile};

/// The quickstart example, compiled for `dev`: small, with a relative `$ref` between
/// embedded schemas.
fn quickstart() -> Manifest {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/quickstart");
    let c = compile(
        &root,
        &CheckOptions {
            env: Some("dev".into()),
            env_lookup: &|_| None,
        },
    );
    c.manifest.expect("quickstart compiles")
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
