//! `pipec plan --brokers` and `pipec apply`: read the topics a pipeline owns from live clusters
//! into a [`ClusterState`], and carry out a plan's topic actions.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use pipec_compiler::plan::{ClusterState, ConfigOp, TopicAction, TopicState};

use super::admin::{Admin, ConfigSource, NewTopicSpec, Refusal, TopicInfo, TopicOutcome};
use crate::error::RuntimeError;

/// Reads the `owned` topics (cluster name → Kafka names) of each cluster from its bootstrap
/// servers (`brokers`: cluster name → `host:port,...`). Clusters sharing bootstrap servers
/// share one connection. A topic that does not exist is left out; nothing else is read.
pub async fn read_state(
    owned: &BTreeMap<String, BTreeSet<String>>,
    brokers: &BTreeMap<String, String>,
    timeout: Duration,
) -> Result<ClusterState, RuntimeError> {
    let mut state = ClusterState::default();
    for (servers, clusters) in by_servers(owned.keys(), brokers)? {
        let names: BTreeSet<&str> = clusters
            .iter()
            .flat_map(|c| owned[*c].iter().map(String::as_str))
            .collect();
        let admin = Admin::connect(servers, timeout).await?;
        let live = admin.describe_only(&names).await?;
        for cluster in clusters {
            for info in live.iter().filter(|t| owned[cluster].contains(&t.name)) {
                state.insert(cluster, &info.name, topic_state(info)?);
            }
        }
    }
    Ok(state)
}

/// Topics per CreateTopics request.
const CREATE_CHUNK: usize = 8;

/// What happened to one action of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionOutcome {
    /// `create`, `increase_partitions`, `alter_configs` or `delete`.
    pub action: &'static str,
    /// The cluster's name.
    pub cluster: String,
    /// The Kafka topic.
    pub topic: String,
    /// Done, or the broker's refusal.
    pub result: Result<(), Refusal>,
}

/// Carries out the topic actions of a plan, per cluster: creates, then partition increases,
/// then config changes, then deletes. A refused request does not stop the others; an
/// unreachable cluster does (`Err`), with what was done before it in `done`. Returns once the
/// cluster's brokers show what was done (see [`await_shown`]).
///
/// Refused actions (`TopicAction::Refused`) are never sent: callers refuse such a plan before.
pub async fn execute(
    actions: &[TopicAction],
    brokers: &BTreeMap<String, String>,
    timeout: Duration,
    done: &mut Vec<ActionOutcome>,
) -> Result<(), RuntimeError> {
    let clusters: BTreeSet<&String> = actions.iter().map(|a| &a.topic().cluster).collect();
    for (servers, clusters) in by_servers(clusters.into_iter(), brokers)? {
        let admin = Admin::connect(servers, timeout).await?;
        let mine: Vec<&TopicAction> = actions
            .iter()
            .filter(|a| clusters.contains(&a.topic().cluster.as_str()))
            .collect();
        let creates: Vec<(&str, NewTopicSpec)> = mine
            .iter()
            .filter_map(|a| match a {
                TopicAction::Create {
                    topic,
                    partitions,
                    replication,
                    configs,
                } => Some((
                    topic.cluster.as_str(),
                    NewTopicSpec {
                        name: topic.topic.clone(),
                        partitions: to_i32(*partitions),
                        replication: to_i32(*replication),
                        configs: configs
                            .iter()
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect(),
                    },
                )),
                _ => None,
            })
            .collect();
        // In requests of a few topics: one CreateTopics request of igot's 50 topics came back
        // from Tansu 0.6 as "Bad message format" (librdkafka could not parse the answer) though
        // every topic was created; requests of 8 are answered properly.
        for chunk in creates.chunks(CREATE_CHUNK) {
            let specs: Vec<NewTopicSpec> = chunk.iter().map(|(_, s)| s.clone()).collect();
            let outcomes = admin.create_topics(&specs).await?;
            for ((cluster, _), o) in chunk.iter().zip(outcomes) {
                done.push(outcome("create", cluster, o));
            }
        }
        for a in &mine {
            if let TopicAction::IncreasePartitions { topic, to, .. } = a {
                let o = admin.create_partitions(&topic.topic, *to as usize).await?;
                done.push(outcome("increase_partitions", &topic.cluster, o));
            }
        }
        for a in &mine {
            if let TopicAction::AlterConfigs { topic, changes } = a {
                let set: Vec<(&str, &str)> = changes
                    .iter()
                    .filter(|c| c.op == ConfigOp::Set)
                    .filter_map(|c| Some((c.key.as_str(), c.new.as_deref()?)))
                    .collect();
                let delete: Vec<&str> = changes
                    .iter()
                    .filter(|c| c.op == ConfigOp::Delete)
                    .map(|c| c.key.as_str())
                    .collect();
                let o = admin.alter_configs(&topic.topic, &set, &delete).await?;
                done.push(outcome("alter_configs", &topic.cluster, o));
            }
        }
        let deletes: Vec<(&str, &str)> = mine
            .iter()
            .filter_map(|a| match a {
                TopicAction::Delete { topic, .. } => {
                    Some((topic.cluster.as_str(), topic.topic.as_str()))
                }
                _ => None,
            })
            .collect();
        if !deletes.is_empty() {
            let names: Vec<&str> = deletes.iter().map(|(_, n)| *n).collect();
            let outcomes = admin.delete_topics(&names).await?;
            for ((cluster, _), o) in deletes.iter().zip(outcomes) {
                done.push(outcome("delete", cluster, o));
            }
        }
        let expected = expected_states(&mine, done);
        await_shown(&admin, &expected, timeout).await?;
    }
    Ok(())
}

/// What a topic looks like once an action on it is done.
#[derive(Debug, PartialEq)]
enum Shown<'a> {
    /// Listed, with this many partitions (created, or partitions increased).
    Partitions(usize),
    /// These configs set on the topic, those removed from it.
    Configs {
        set: Vec<(&'a str, &'a str)>,
        removed: Vec<&'a str>,
    },
    /// No longer listed.
    Gone,
}

/// The state each action the broker accepted leads to, by topic.
fn expected_states<'a>(
    actions: &[&'a TopicAction],
    done: &[ActionOutcome],
) -> Vec<(&'a str, Shown<'a>)> {
    let accepted = |action: &str, topic: &str| {
        done.iter()
            .any(|o| o.action == action && o.topic == topic && o.result.is_ok())
    };
    let mut out = Vec::new();
    for a in actions {
        let shown = match a {
            TopicAction::Create {
                topic, partitions, ..
            } if accepted("create", &topic.topic) => Shown::Partitions(*partitions as usize),
            TopicAction::IncreasePartitions { topic, to, .. }
                if accepted("increase_partitions", &topic.topic) =>
            {
                Shown::Partitions(*to as usize)
            }
            TopicAction::AlterConfigs { topic, changes }
                if accepted("alter_configs", &topic.topic) =>
            {
                Shown::Configs {
                    set: changes
                        .iter()
                        .filter(|c| c.op == ConfigOp::Set)
                        .filter_map(|c| Some((c.key.as_str(), c.new.as_deref()?)))
                        .collect(),
                    removed: changes
                        .iter()
                        .filter(|c| c.op == ConfigOp::Delete)
                        .map(|c| c.key.as_str())
                        .collect(),
                }
            }
            TopicAction::Delete { topic, .. } if accepted("delete", &topic.topic) => Shown::Gone,
            _ => continue,
        };
        out.push((a.topic().topic.as_str(), shown));
    }
    out
}

/// Whether a topic as described (`None`: not listed) shows the expected state.
fn shows(info: Option<&TopicInfo>, expected: &Shown<'_>) -> bool {
    match (expected, info) {
        (Shown::Gone, info) => info.is_none(),
        (_, None) => false,
        (Shown::Partitions(n), Some(t)) => t.partitions == *n,
        (Shown::Configs { set, removed }, Some(t)) => {
            let own = |k: &str| {
                t.config(k)
                    .filter(|c| c.source == ConfigSource::Topic)
                    .and_then(|c| c.value.as_deref())
            };
            set.iter().all(|(k, v)| own(k) == Some(*v)) && removed.iter().all(|k| own(k).is_none())
        }
    }
}

/// Waits, up to `timeout`, until the cluster lists what was done. Kafka answers CreateTopics,
/// CreatePartitions, IncrementalAlterConfigs and DeleteTopics once its controller has recorded
/// the change, and its brokers show it some time later (seen on a one-node Kafka 4.4 on 2 busy
/// cores: igot's 50 new topics listed over 3.5 s), so a `pipec plan` right after `apply`
/// found work still to do. After the timeout it goes on (the broker did accept the changes).
async fn await_shown(
    admin: &Admin,
    expected: &[(&str, Shown<'_>)],
    timeout: Duration,
) -> Result<(), RuntimeError> {
    if expected.is_empty() {
        return Ok(());
    }
    let names: BTreeSet<&str> = expected.iter().map(|(name, _)| *name).collect();
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let live = admin.describe_only(&names).await?;
        let missing: Vec<&str> = expected
            .iter()
            .filter(|(name, shown)| !shows(live.iter().find(|t| t.name == *name), shown))
            .map(|(name, _)| *name)
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            tracing::warn!(
                topics = ?missing,
                "the cluster does not show these changes yet; a plan made now may list them again"
            );
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn outcome(action: &'static str, cluster: &str, o: TopicOutcome) -> ActionOutcome {
    ActionOutcome {
        action,
        cluster: cluster.to_owned(),
        topic: o.topic,
        result: o.result,
    }
}

fn to_i32(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Groups clusters by their bootstrap servers; a cluster without servers is a config error.
fn by_servers<'a>(
    clusters: impl Iterator<Item = &'a String>,
    brokers: &'a BTreeMap<String, String>,
) -> Result<BTreeMap<&'a str, Vec<&'a str>>, RuntimeError> {
    let mut out: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for c in clusters {
        let servers = brokers.get(c).ok_or_else(|| RuntimeError::Config {
            what: format!("no bootstrap servers for cluster `{c}` (give --brokers {c}=HOST:PORT)"),
        })?;
        out.entry(servers.as_str()).or_default().push(c.as_str());
    }
    Ok(out)
}

/// A described topic as the planner compares it: the topic's own configs apart from the
/// values the broker reports as defaults (or takes from its own settings).
fn topic_state(info: &TopicInfo) -> Result<TopicState, RuntimeError> {
    let configs = info
        .configs
        .as_ref()
        .map_err(|r| RuntimeError::Unsupported {
            what: format!("describing the configs of topic `{}`: {r}", info.name),
        })?;
    let mut state = TopicState {
        partitions: u32::try_from(info.partitions).unwrap_or(u32::MAX),
        replication: u32::try_from(info.replication).unwrap_or(u32::MAX),
        configs: BTreeMap::new(),
        defaults: BTreeMap::new(),
    };
    for c in configs {
        let Some(value) = &c.value else { continue };
        let own = match c.source {
            ConfigSource::Topic => true,
            // Brokers before Kafka 1.1 give no source; trust their default flag.
            ConfigSource::Unknown => !c.is_default,
            _ => false,
        };
        let into = if own {
            &mut state.configs
        } else {
            &mut state.defaults
        };
        into.insert(c.name.clone(), value.clone());
    }
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::admin::TopicConfig;

    fn config(name: &str, value: &str, source: ConfigSource, is_default: bool) -> TopicConfig {
        TopicConfig {
            name: name.into(),
            value: Some(value.into()),
            source,
            is_default,
            read_only: false,
        }
    }

    #[test]
    fn only_the_topics_own_configs_count_as_its_own() {
        let info = TopicInfo {
            name: "t".into(),
            partitions: 3,
            replication: 1,
            configs: Ok(vec![
                config("retention.ms", "3600000", ConfigSource::Topic, false),
                config("cleanup.policy", "delete", ConfigSource::Default, true),
                config("segment.bytes", "1024", ConfigSource::StaticBroker, false),
                config("flush.ms", "5", ConfigSource::Unknown, false),
            ]),
        };
        let s = topic_state(&info).unwrap();
        assert_eq!(
            s.configs.keys().collect::<Vec<_>>(),
            ["flush.ms", "retention.ms"]
        );
        assert_eq!(
            s.defaults.keys().collect::<Vec<_>>(),
            ["cleanup.policy", "segment.bytes"]
        );
        assert_eq!((s.partitions, s.replication), (3, 1));
    }

    #[test]
    fn a_change_is_shown_once_the_described_topic_has_it() {
        let info = TopicInfo {
            name: "t".into(),
            partitions: 3,
            replication: 1,
            configs: Ok(vec![
                config("retention.ms", "3600000", ConfigSource::Topic, false),
                config("max.message.bytes", "1048588", ConfigSource::Default, true),
            ]),
        };
        assert!(shows(Some(&info), &Shown::Partitions(3)));
        assert!(!shows(Some(&info), &Shown::Partitions(5)));
        assert!(!shows(None, &Shown::Partitions(3)));
        assert!(shows(None, &Shown::Gone));
        assert!(!shows(Some(&info), &Shown::Gone));
        let configs = |set: Vec<(&'static str, &'static str)>, removed: Vec<&'static str>| {
            Shown::Configs { set, removed }
        };
        assert!(shows(
            Some(&info),
            &configs(vec![("retention.ms", "3600000")], vec!["max.message.bytes"])
        ));
        // Not yet: the old value, or a default where the topic's own value must be.
        assert!(!shows(
            Some(&info),
            &configs(vec![("retention.ms", "7200000")], vec![])
        ));
        assert!(!shows(
            Some(&info),
            &configs(vec![("max.message.bytes", "1048588")], vec![])
        ));
        assert!(!shows(Some(&info), &configs(vec![], vec!["retention.ms"])));
    }

    #[test]
    fn only_accepted_actions_are_awaited() {
        let topic = |name: &str| pipec_compiler::plan::TopicRef {
            cluster: "c".into(),
            topic: name.into(),
            id: None,
        };
        let actions = [
            TopicAction::Create {
                topic: topic("new"),
                partitions: 4,
                replication: 1,
                configs: BTreeMap::new(),
            },
            TopicAction::Create {
                topic: topic("refused"),
                partitions: 4,
                replication: 1,
                configs: BTreeMap::new(),
            },
            TopicAction::Delete {
                topic: topic("old"),
                requires: "--allow-delete".into(),
            },
        ];
        let done = [
            outcome(
                "create",
                "c",
                TopicOutcome {
                    topic: "new".into(),
                    result: Ok(()),
                },
            ),
            outcome(
                "create",
                "c",
                TopicOutcome {
                    topic: "refused".into(),
                    result: Err(Refusal {
                        code: "InvalidReplicationFactor".into(),
                        message: "no".into(),
                    }),
                },
            ),
            outcome(
                "delete",
                "c",
                TopicOutcome {
                    topic: "old".into(),
                    result: Ok(()),
                },
            ),
        ];
        let mine: Vec<&TopicAction> = actions.iter().collect();
        assert_eq!(
            expected_states(&mine, &done),
            [("new", Shown::Partitions(4)), ("old", Shown::Gone)]
        );
    }

    #[test]
    fn a_cluster_without_servers_is_named() {
        let brokers = BTreeMap::from([("a".to_owned(), "h:1".to_owned())]);
        let clusters = ["a".to_owned(), "b".to_owned()];
        let e = by_servers(clusters.iter(), &brokers).unwrap_err();
        assert!(e.to_string().contains("cluster `b`"), "{e}");
        let shared = BTreeMap::from([
            ("a".to_owned(), "h:1".to_owned()),
            ("b".to_owned(), "h:1".to_owned()),
        ]);
        let grouped = by_servers(clusters.iter(), &shared).unwrap();
        assert_eq!(grouped["h:1"], ["a", "b"]);
    }
}
