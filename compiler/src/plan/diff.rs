//! [`plan`]: the desired manifest compared with the current state and, when known, the
//! previous manifest.

use std::collections::{BTreeMap, BTreeSet};

use super::schemas::EmbeddedSchemas;
use super::{
    ALLOW_DELETE, Change, ClusterState, ConfigChange, ConfigOp, FromTo, JobChange, PLAN_VERSION,
    Plan, Refusal, ScheduleChange, SchemaChange, SchemaMessage, SchemaVersion, StepChange,
    TopicAction, TopicRef, header, summarize,
};
use crate::compat::{self, mode_name};
use crate::manifest::{Job, Manifest, Step};
use crate::spec::Compatibility;

/// What deploying `desired` would change. `current` is what exists; `old`, the manifest
/// deployed before, gives the schema, job and schedule changes (without it, with a live
/// cluster, only topics are compared).
pub fn plan(desired: &Manifest, current: &ClusterState, old: Option<&Manifest>) -> Plan {
    let (pipeline, env) = header(desired);
    let mut plan = Plan {
        plan_version: PLAN_VERSION,
        pipeline,
        env,
        summary: Default::default(),
        topics: topics(desired, current, old),
        schemas: old.map(|o| schemas(o, desired)).unwrap_or_default(),
        jobs: old.map(|o| jobs(o, desired)).unwrap_or_default(),
        schedules: old.map(|o| schedules(o, desired)).unwrap_or_default(),
        brokers: BTreeMap::new(),
    };
    plan.summary = summarize(&plan);
    plan
}

/// The topics a pipeline owns on each cluster: those `desired` declares and those `old` (the
/// deployed manifest) declared. A reader of a live cluster looks at these only, so another
/// pipeline's topics and Kafka's internal ones are never planned for deletion.
pub fn owned_topics(
    desired: &Manifest,
    old: Option<&Manifest>,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for m in std::iter::once(desired).chain(old) {
        for t in m.topics.values() {
            out.entry(t.cluster.clone())
                .or_default()
                .insert(t.name.clone());
        }
    }
    out
}

fn topics(desired: &Manifest, current: &ClusterState, old: Option<&Manifest>) -> Vec<TopicAction> {
    // (cluster, Kafka name) → spec name, first one wins.
    let mut wanted: BTreeMap<(String, String), (&str, &crate::manifest::Topic)> = BTreeMap::new();
    for (id, t) in &desired.topics {
        wanted
            .entry((t.cluster.clone(), t.name.clone()))
            .or_insert((id.as_str(), t));
    }
    let mut out = Vec::new();
    for ((cluster, name), (id, t)) in &wanted {
        let topic = TopicRef {
            cluster: cluster.clone(),
            topic: name.clone(),
            id: Some((*id).to_string()),
        };
        let Some(cur) = current.topic(cluster, name) else {
            out.push(TopicAction::Create {
                topic,
                partitions: t.partitions,
                replication: t.replication,
                configs: t.config.clone(),
            });
            continue;
        };
        if t.partitions > cur.partitions {
            out.push(TopicAction::IncreasePartitions {
                topic: topic.clone(),
                from: cur.partitions,
                to: t.partitions,
            });
        } else if t.partitions < cur.partitions {
            out.push(TopicAction::Refused {
                topic: topic.clone(),
                what: Refusal::PartitionDecrease,
                from: cur.partitions,
                to: t.partitions,
                instead: "create a new topic with fewer partitions and migrate producers and \
                          consumers to it"
                    .into(),
            });
        }
        let keys: BTreeSet<&String> = t.config.keys().chain(cur.configs.keys()).collect();
        let changes: Vec<ConfigChange> = keys
            .into_iter()
            .filter_map(|k| {
                // The topic's own value, else the broker's default: a spec value equal to
                // either is no difference. (Keys come from the spec and the topic's own
                // configs, so a default the spec does not set is never a change.)
                let n = t.config.get(k);
                let o = cur.configs.get(k).or_else(|| cur.defaults.get(k));
                (o != n).then(|| ConfigChange {
                    key: k.clone(),
                    op: if n.is_some() {
                        ConfigOp::Set
                    } else {
                        ConfigOp::Delete
                    },
                    old: o.cloned(),
                    new: n.cloned(),
                })
            })
            .collect();
        if !changes.is_empty() {
            out.push(TopicAction::AlterConfigs {
                topic: topic.clone(),
                changes,
            });
        }
        if t.replication != cur.replication {
            out.push(TopicAction::Refused {
                topic,
                what: Refusal::ReplicationChange,
                from: cur.replication,
                to: t.replication,
                instead: "reassign partitions with kafka-reassign-partitions.sh (a new replica \
                          set for every partition)"
                    .into(),
            });
        }
    }
    // Spec names of existing topics, from the previous manifest.
    let old_ids: BTreeMap<(&str, &str), &str> = old
        .map(|o| {
            o.topics
                .iter()
                .map(|(id, t)| ((t.cluster.as_str(), t.name.as_str()), id.as_str()))
                .collect()
        })
        .unwrap_or_default();
    for (cluster, names) in &current.clusters {
        for name in names.keys() {
            if !wanted.contains_key(&(cluster.clone(), name.clone())) {
                out.push(TopicAction::Delete {
                    topic: TopicRef {
                        cluster: cluster.clone(),
                        topic: name.clone(),
                        id: old_ids
                            .get(&(cluster.as_str(), name.as_str()))
                            .map(|s| (*s).to_string()),
                    },
                    requires: ALLOW_DELETE.into(),
                });
            }
        }
    }
    out.sort_by(|a, b| a.topic().cmp(b.topic()));
    out
}

fn schemas(old: &Manifest, new: &Manifest) -> Vec<SchemaChange> {
    let mut old_schemas = EmbeddedSchemas::new(old, "/pipec-plan/old");
    let mut new_schemas = EmbeddedSchemas::new(new, "/pipec-plan/new");
    let version = |m: &Manifest, id: &Option<String>| {
        id.as_ref().map(|id| SchemaVersion {
            id: id.clone(),
            sha256: m
                .schemas
                .get(id)
                .map(|s| s.sha256.clone())
                .unwrap_or_default(),
        })
    };
    let names: BTreeSet<&String> = old
        .event_types
        .keys()
        .chain(new.event_types.keys())
        .collect();
    let mut out = Vec::new();
    for name in names {
        let o = old.event_types.get(name);
        let n = new.event_types.get(name);
        let o_id = o.and_then(|t| t.schema.clone());
        let n_id = n.and_then(|t| t.schema.clone());
        let mode = n.or(o).map_or(Compatibility::None, |t| t.compatibility);
        let mut change = SchemaChange {
            event_type: name.clone(),
            change: Change::Changed,
            old: version(old, &o_id),
            new: version(new, &n_id),
            mode: mode_name(mode).into(),
            verdict: None,
            breaking: false,
            messages: Vec::new(),
        };
        match (&o_id, &n_id) {
            (None, None) => continue,
            (None, Some(_)) => change.change = Change::Added,
            (Some(_), None) => {
                change.change = Change::Removed;
                change.breaking = mode != Compatibility::None;
                if change.breaking {
                    change.messages.push(SchemaMessage {
                        pointer: "#".into(),
                        message: "schema removed: data written with it can no longer be read"
                            .into(),
                        breaking: true,
                    });
                }
            }
            (Some(oi), Some(ni)) => {
                match (old_schemas.load(oi), new_schemas.load(ni)) {
                    (Ok(a), Ok(b)) => {
                        if a.files == b.files {
                            continue;
                        }
                        let report = compat::compare(&a.resolved, &b.resolved);
                        if report.changes.is_empty() {
                            // Bytes differ, meaning does not (formatting, descriptions).
                            change.verdict = Some(report.verdict.as_str().into());
                        } else {
                            change.verdict = Some(report.verdict.as_str().into());
                            change.breaking = !report.allows(mode);
                            change.messages = report
                                .changes
                                .iter()
                                .map(|c| SchemaMessage {
                                    pointer: c.pointer.clone(),
                                    message: c.message.clone(),
                                    breaking: c.breaks(mode),
                                })
                                .collect();
                        }
                    }
                    (a, b) => {
                        change.breaking = mode != Compatibility::None;
                        let problems = a.err().into_iter().chain(b.err()).flatten();
                        change.messages = problems
                            .map(|p| SchemaMessage {
                                pointer: "#".into(),
                                message: format!("cannot compare: {p}"),
                                breaking: change.breaking,
                            })
                            .collect();
                    }
                }
            }
        }
        out.push(change);
    }
    out
}

fn jobs(old: &Manifest, new: &Manifest) -> Vec<JobChange> {
    let names: BTreeSet<&String> = old.jobs.keys().chain(new.jobs.keys()).collect();
    let mut out = Vec::new();
    for name in names {
        let (o, n) = (old.jobs.get(name), new.jobs.get(name));
        let change = match (o, n) {
            (Some(o), Some(n)) if o == n => continue,
            (Some(o), Some(n)) => job_change(name, o, n),
            (None, Some(n)) => added_or_removed(name, Change::Added, n),
            (Some(o), None) => added_or_removed(name, Change::Removed, o),
            (None, None) => continue,
        };
        out.push(change);
    }
    out
}

/// An added or removed job: its source topic, and replicas from or to 0.
fn added_or_removed(name: &str, change: Change, job: &Job) -> JobChange {
    let replicas = if change == Change::Added {
        FromTo {
            from: 0,
            to: job.replicas,
        }
    } else {
        FromTo {
            from: job.replicas,
            to: 0,
        }
    };
    JobChange {
        job: name.to_string(),
        change,
        source: job.from.clone(),
        from: None,
        replicas: Some(replicas),
        steps: Vec::new(),
        other: Vec::new(),
    }
}

fn job_change(name: &str, o: &Job, n: &Job) -> JobChange {
    let mut other = Vec::new();
    if o.consumer_group != n.consumer_group {
        other.push(format!(
            "consumer_group: {} -> {}",
            o.consumer_group, n.consumer_group
        ));
    }
    if o.resources != n.resources {
        other.push("resources".into());
    }
    if o.description != n.description {
        other.push("description".into());
    }
    JobChange {
        job: name.to_string(),
        change: Change::Changed,
        source: n.from.clone(),
        from: (o.from != n.from).then(|| FromTo {
            from: o.from.clone(),
            to: n.from.clone(),
        }),
        replicas: (o.replicas != n.replicas).then_some(FromTo {
            from: o.replicas,
            to: n.replicas,
        }),
        steps: step_changes(&o.steps, &n.steps),
        other,
    }
}

/// Steps added, removed and changed: the longest common subsequence of equal steps is
/// kept; between two kept steps, old and new steps pair up as changed, the rest are
/// removed or added.
fn step_changes(old: &[Step], new: &[Step]) -> Vec<StepChange> {
    let (m, n) = (old.len(), new.len());
    let mut lcs = vec![vec![0usize; n + 1]; m + 1];
    for i in (0..m).rev() {
        for j in (0..n).rev() {
            lcs[i][j] = if old[i] == new[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    let (mut gap_old, mut gap_new) = (Vec::new(), Vec::new());
    let flush = |gap_old: &mut Vec<usize>, gap_new: &mut Vec<usize>, out: &mut Vec<StepChange>| {
        let len = gap_old.len().max(gap_new.len());
        for k in 0..len {
            let (oi, ni) = (gap_old.get(k).copied(), gap_new.get(k).copied());
            out.push(StepChange {
                change: match (oi, ni) {
                    (Some(_), Some(_)) => Change::Changed,
                    (Some(_), None) => Change::Removed,
                    _ => Change::Added,
                },
                old_index: oi,
                new_index: ni,
                old_kind: oi.map(|x| old[x].kind().to_string()),
                new_kind: ni.map(|x| new[x].kind().to_string()),
            });
        }
        gap_old.clear();
        gap_new.clear();
    };
    while i < m || j < n {
        if i < m && j < n && old[i] == new[j] {
            flush(&mut gap_old, &mut gap_new, &mut out);
            i += 1;
            j += 1;
        } else if j < n && (i == m || lcs[i][j + 1] >= lcs[i + 1][j]) {
            gap_new.push(j);
            j += 1;
        } else {
            gap_old.push(i);
            i += 1;
        }
    }
    flush(&mut gap_old, &mut gap_new, &mut out);
    out
}

fn schedules(old: &Manifest, new: &Manifest) -> Vec<ScheduleChange> {
    let names: BTreeSet<&String> = old.reports.keys().chain(new.reports.keys()).collect();
    names
        .into_iter()
        .filter_map(|name| {
            let from = old.reports.get(name).map(|r| r.schedule.clone());
            let to = new.reports.get(name).map(|r| r.schedule.clone());
            let change = match (&from, &to) {
                (Some(a), Some(b)) if a == b => return None,
                (Some(_), Some(_)) => Change::Changed,
                (None, _) => Change::Added,
                (_, None) => Change::Removed,
            };
            Some(ScheduleChange {
                report: name.clone(),
                change,
                from,
                to,
            })
        })
        .collect()
}
