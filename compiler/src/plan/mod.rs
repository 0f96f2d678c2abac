//! `pipec plan`: what deploying a manifest would change, compared with what exists (a
//! previous manifest, or a live cluster read into a [`ClusterState`]).
//!
//! [`plan`] gives a [`Plan`]: topic actions (create, increase partitions, alter configs,
//! delete, and changes Kafka cannot make in place, refused with what to do instead), and,
//! when the previous manifest is known, schema changes per event type with their
//! compatibility verdict, job changes and report schedule changes. [`render`] prints it
//! as text, JSON or Markdown.
//!
//! # JSON (`plan_version` 1)
//!
//! Stable: fields are only added; a field that changes meaning bumps `plan_version`.
//! Lists are sorted (topics by cluster, Kafka name, then action; the rest by name).
//!
//! ```text
//! { "plan_version": 1, "pipeline": str, "env": str,
//!   "summary": { "create": n, "change": n, "delete": n, "refused": n },
//!   "topics": [ { "action": "create", "cluster", "topic", "id", "partitions", "replication", "configs": {k: v} }
//!             | { "action": "increase_partitions", "cluster", "topic", "id", "from", "to" }
//!             | { "action": "alter_configs", "cluster", "topic", "id",
//!                 "changes": [ { "key", "op": "set" | "delete", "old": str|null, "new": str|null } ] }
//!             | { "action": "delete", "cluster", "topic", "id", "requires": "--allow-delete" }
//!             | { "action": "refused", "cluster", "topic", "id",
//!                 "what": "partition_decrease" | "replication_change", "from", "to", "instead" } ],
//!   "schemas": [ { "event_type", "change": "added" | "removed" | "changed",
//!                  "old": {"id", "sha256"} | null, "new": {"id", "sha256"} | null,
//!                  "mode": "BACKWARD" | ..., "verdict": "FULL" | "BACKWARD" | "FORWARD" | "NONE" | null,
//!                  "breaking": bool, "messages": [ { "pointer", "message", "breaking" } ] } ],
//!   "jobs": [ { "job", "change": "added" | "removed" | "changed", "source": str,
//!               "from": {"from", "to"} | null,
//!               "replicas": {"from", "to"} | null,
//!               "steps": [ { "change": "added" | "removed" | "changed", "old_index", "new_index", "old_kind", "new_kind" } ],
//!               "other": [ str ] } ],
//!   "schedules": [ { "report", "change": "added" | "removed" | "changed", "from": str|null, "to": str|null } ],
//!   "brokers": { cluster: "host:port,..." } }   (only in a plan made against live clusters)
//! ```
//!
//! Counting: a topic created, a job, event type or report added is one to create; a
//! partition increase, a config alteration, a changed schema, job or schedule is one to
//! change; a topic deleted, a job, event type or report removed is one to delete; a
//! refused action is counted apart.

mod diff;
pub mod render;
mod schemas;
mod state;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::manifest::Manifest;

pub use diff::{owned_topics, plan};
pub use state::{ClusterState, TopicState};

/// The version of the plan's JSON format.
pub const PLAN_VERSION: u32 = 1;

/// What `--allow-delete` guards.
pub const ALLOW_DELETE: &str = "--allow-delete";

/// Everything a deployment would change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// [`PLAN_VERSION`].
    pub plan_version: u32,
    /// The pipeline.
    pub pipeline: String,
    /// The environment.
    pub env: String,
    /// How many actions of each kind.
    pub summary: Summary,
    /// Topic actions.
    pub topics: Vec<TopicAction>,
    /// Schema changes, by event type.
    pub schemas: Vec<SchemaChange>,
    /// Job changes, by job.
    pub jobs: Vec<JobChange>,
    /// Schedule changes, by report.
    pub schedules: Vec<ScheduleChange>,
    /// The bootstrap servers each cluster was read from, for a plan made against a live
    /// cluster (absent otherwise); `pipec apply --plan` uses them unless told others.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub brokers: BTreeMap<String, String>,
}

impl Plan {
    /// Whether the plan changes nothing (refused actions count as changes).
    pub fn is_empty(&self) -> bool {
        self.topics.is_empty()
            && self.schemas.is_empty()
            && self.jobs.is_empty()
            && self.schedules.is_empty()
    }

    /// The plan as pretty JSON with a final newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// Records where each cluster was read from (`brokers`: cluster name → bootstrap
    /// servers) and makes one action of equal actions on one Kafka topic reached through two
    /// cluster names with the same servers — igot's `ingestion` and `processing` clusters are
    /// both `127.0.0.1:9092` in dev, and both declare `events.deviceprofile`. The first
    /// cluster's action is kept; unequal ones are all kept (applying the second then fails
    /// visibly).
    pub fn set_brokers(&mut self, brokers: BTreeMap<String, String>) {
        let mut seen: Vec<(&str, TopicAction)> = Vec::new();
        let mut keep = Vec::with_capacity(self.topics.len());
        for a in &self.topics {
            let servers = brokers.get(&a.topic().cluster).map_or("", String::as_str);
            let mut anon = a.clone();
            anon.topic_mut().cluster.clear();
            anon.topic_mut().id = None;
            let dup = seen.iter().any(|(s, b)| *s == servers && *b == anon);
            if !dup {
                seen.push((servers, anon));
            }
            keep.push(!dup);
        }
        let mut flags = keep.into_iter();
        self.topics.retain(|_| flags.next().unwrap_or(true));
        self.brokers = brokers;
        self.summary = summarize(self);
    }

    /// The topics the plan acts on, by cluster: what a live reader must look at to check
    /// that the cluster still matches the plan.
    pub fn topic_names(&self) -> BTreeMap<String, BTreeSet<String>> {
        let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for a in &self.topics {
            let t = a.topic();
            out.entry(t.cluster.clone())
                .or_default()
                .insert(t.topic.clone());
        }
        out
    }

    /// The topic actions that no longer hold against `live`, each said in a sentence: a
    /// topic to create that exists, a partition count or config value other than the plan
    /// saw, a topic to change or delete that is gone. Empty: the plan can be applied as is.
    pub fn stale(&self, live: &ClusterState) -> Vec<String> {
        let mut out = Vec::new();
        for a in &self.topics {
            let t = a.topic();
            let name = format!("topic `{}` (cluster `{}`)", t.topic, t.cluster);
            let cur = live.topic(&t.cluster, &t.topic);
            match (a, cur) {
                (TopicAction::Create { .. }, Some(_)) => {
                    out.push(format!("{name} exists already"));
                }
                (TopicAction::Create { .. }, None) => {}
                (_, None) => out.push(format!("{name} does not exist any more")),
                (TopicAction::IncreasePartitions { from, .. }, Some(cur))
                    if cur.partitions != *from =>
                {
                    out.push(format!(
                        "{name} has {} partitions, the plan saw {from}",
                        cur.partitions
                    ));
                }
                (TopicAction::AlterConfigs { changes, .. }, Some(cur)) => {
                    for c in changes {
                        let now = cur.configs.get(&c.key).or_else(|| cur.defaults.get(&c.key));
                        if now != c.old.as_ref() {
                            out.push(format!(
                                "{name}: `{}` is {}, the plan saw {}",
                                c.key,
                                now.map_or("unset".to_owned(), |v| format!("`{v}`")),
                                c.old
                                    .as_ref()
                                    .map_or("unset".to_owned(), |v| format!("`{v}`")),
                            ));
                        }
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// The schema changes that break their event type's compatibility mode.
    pub fn breaking_schemas(&self) -> impl Iterator<Item = &SchemaChange> {
        self.schemas.iter().filter(|s| s.breaking)
    }
}

/// Action counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Things to create.
    pub create: usize,
    /// Things to change.
    pub change: usize,
    /// Things to delete.
    pub delete: usize,
    /// Changes that cannot be made in place.
    pub refused: usize,
}

/// A value before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FromTo<T> {
    /// Before.
    pub from: T,
    /// After.
    pub to: T,
}

/// One topic action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum TopicAction {
    /// Create a topic.
    Create {
        #[serde(flatten)]
        topic: TopicRef,
        /// Partition count.
        partitions: u32,
        /// Replication factor.
        replication: u32,
        /// Configs.
        configs: BTreeMap<String, String>,
    },
    /// Add partitions.
    IncreasePartitions {
        #[serde(flatten)]
        topic: TopicRef,
        /// Current count.
        from: u32,
        /// New count.
        to: u32,
    },
    /// Set or reset configs.
    AlterConfigs {
        #[serde(flatten)]
        topic: TopicRef,
        /// Per key, sorted.
        changes: Vec<ConfigChange>,
    },
    /// Delete a topic (applied only with [`ALLOW_DELETE`]).
    Delete {
        #[serde(flatten)]
        topic: TopicRef,
        /// The flag that applying this needs.
        requires: String,
    },
    /// A change Kafka cannot make in place.
    Refused {
        #[serde(flatten)]
        topic: TopicRef,
        /// What was asked.
        what: Refusal,
        /// Current value.
        from: u32,
        /// Asked value.
        to: u32,
        /// What to do instead.
        instead: String,
    },
}

impl TopicAction {
    fn topic_mut(&mut self) -> &mut TopicRef {
        match self {
            TopicAction::Create { topic, .. }
            | TopicAction::IncreasePartitions { topic, .. }
            | TopicAction::AlterConfigs { topic, .. }
            | TopicAction::Delete { topic, .. }
            | TopicAction::Refused { topic, .. } => topic,
        }
    }

    /// The topic acted on.
    pub fn topic(&self) -> &TopicRef {
        match self {
            TopicAction::Create { topic, .. }
            | TopicAction::IncreasePartitions { topic, .. }
            | TopicAction::AlterConfigs { topic, .. }
            | TopicAction::Delete { topic, .. }
            | TopicAction::Refused { topic, .. } => topic,
        }
    }
}

/// A topic, as Kafka knows it and as the spec names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TopicRef {
    /// Cluster name.
    pub cluster: String,
    /// Kafka topic name.
    pub topic: String,
    /// The spec's name (`null` when no manifest names it).
    pub id: Option<String>,
}

/// What a refused action asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// Fewer partitions.
    PartitionDecrease,
    /// Another replication factor.
    ReplicationChange,
}

/// One config key changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigChange {
    /// The key (`retention.ms`).
    pub key: String,
    /// Set a value, or delete the override (back to the broker's default).
    pub op: ConfigOp,
    /// Current value (`null`: the default).
    pub old: Option<String>,
    /// New value (`null`: the default).
    pub new: Option<String>,
}

/// How a config key changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfigOp {
    /// Set the value.
    Set,
    /// Remove the override.
    Delete,
}

/// Whether a thing is added, removed or changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// New.
    Added,
    /// Gone.
    Removed,
    /// Different.
    Changed,
}

/// A schema file version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaVersion {
    /// Schema id.
    pub id: String,
    /// sha256 of the file.
    pub sha256: String,
}

/// The schema change of one event type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchemaChange {
    /// Event type.
    pub event_type: String,
    /// Added, removed or changed.
    pub change: Change,
    /// The old schema.
    pub old: Option<SchemaVersion>,
    /// The new schema.
    pub new: Option<SchemaVersion>,
    /// The type's compatibility mode (the new one; the old for a removed type).
    pub mode: String,
    /// The directions the change keeps (`null` when not compared).
    pub verdict: Option<String>,
    /// Whether the change breaks `mode`.
    pub breaking: bool,
    /// The differences found, in schema order, or why the schemas could not be compared.
    pub messages: Vec<SchemaMessage>,
}

/// One difference between two schemas.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaMessage {
    /// JSON pointer into the old schema.
    pub pointer: String,
    /// What changed.
    pub message: String,
    /// Whether it breaks the mode.
    pub breaking: bool,
}

/// The change of one job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobChange {
    /// Job name.
    pub job: String,
    /// Added, removed or changed.
    pub change: Change,
    /// The topic it consumes (the old job's, for a removed job).
    pub source: String,
    /// Source topic change, for a changed job.
    pub from: Option<FromTo<String>>,
    /// Replica count change (from 0 for an added job, to 0 for a removed one).
    pub replicas: Option<FromTo<u32>>,
    /// Step changes.
    pub steps: Vec<StepChange>,
    /// Other fields changed (`consumer_group`, `resources`, `description`).
    pub other: Vec<String>,
}

/// One step added, removed or changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepChange {
    /// Added, removed or changed.
    pub change: Change,
    /// Index in the old job.
    pub old_index: Option<usize>,
    /// Index in the new job.
    pub new_index: Option<usize>,
    /// Kind in the old job.
    pub old_kind: Option<String>,
    /// Kind in the new job.
    pub new_kind: Option<String>,
}

/// The schedule change of one report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleChange {
    /// Report name.
    pub report: String,
    /// Added, removed or changed.
    pub change: Change,
    /// Old cron schedule.
    pub from: Option<String>,
    /// New cron schedule.
    pub to: Option<String>,
}

/// Tallies a plan's actions.
fn summarize(plan: &Plan) -> Summary {
    let mut s = Summary::default();
    let mut count = |c: Change| match c {
        Change::Added => s.create += 1,
        Change::Changed => s.change += 1,
        Change::Removed => s.delete += 1,
    };
    for t in &plan.topics {
        match t {
            TopicAction::Create { .. } => count(Change::Added),
            TopicAction::IncreasePartitions { .. } | TopicAction::AlterConfigs { .. } => {
                count(Change::Changed)
            }
            TopicAction::Delete { .. } => count(Change::Removed),
            TopicAction::Refused { .. } => {}
        }
    }
    plan.schemas.iter().for_each(|x| count(x.change));
    plan.jobs.iter().for_each(|x| count(x.change));
    plan.schedules.iter().for_each(|x| count(x.change));
    s.refused = plan
        .topics
        .iter()
        .filter(|t| matches!(t, TopicAction::Refused { .. }))
        .count();
    s
}

/// The manifest a plan is made for, kept for rendering.
fn header(m: &Manifest) -> (String, String) {
    (m.pipeline.clone(), m.env.clone())
}
