//! [`ClusterState`]: the topics that exist, as `pipec plan` compares them. It is read from
//! a previous manifest ([`ClusterState::from_manifest`]) or from a live cluster through the
//! Kafka Admin API (`pipec_runtime::kafka::live`); both fill the same type.

use std::collections::BTreeMap;

use crate::manifest::Manifest;

/// The topics that exist, by cluster name (the manifest's) and Kafka topic name.
///
/// Every topic here that the desired manifest does not declare plans as a delete, so a
/// reader of a live cluster should put in only the topics the pipeline owns (not internal
/// topics such as `__consumer_offsets`, nor other pipelines' topics).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterState {
    /// Cluster name → Kafka topic name → topic.
    pub clusters: BTreeMap<String, BTreeMap<String, TopicState>>,
}

/// One existing topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicState {
    /// Partition count.
    pub partitions: u32,
    /// Replication factor (of the first partition, for a live topic).
    pub replication: u32,
    /// Topic configs whose value is not the broker's default, as strings: the topic's own.
    /// A config the spec does not set is planned for deletion only when it is here.
    pub configs: BTreeMap<String, String>,
    /// Configs the broker reports as defaults, with their values (a live cluster only). A
    /// spec value equal to the default is no difference; a default the spec does not set is
    /// none either, so an unchanged pipeline plans to nothing.
    pub defaults: BTreeMap<String, String>,
}

impl ClusterState {
    /// The topics a previous manifest declared, as if they had been created from it.
    /// Two spec topics with the same Kafka name on one cluster are one topic (the first).
    pub fn from_manifest(manifest: &Manifest) -> ClusterState {
        let mut state = ClusterState::default();
        for topic in manifest.topics.values() {
            state
                .clusters
                .entry(topic.cluster.clone())
                .or_default()
                .entry(topic.name.clone())
                .or_insert_with(|| TopicState {
                    partitions: topic.partitions,
                    replication: topic.replication,
                    configs: topic.config.clone(),
                    defaults: BTreeMap::new(),
                });
        }
        state
    }

    /// Adds a topic.
    pub fn insert(&mut self, cluster: &str, name: &str, topic: TopicState) {
        self.clusters
            .entry(cluster.to_owned())
            .or_default()
            .insert(name.to_owned(), topic);
    }

    /// A topic, when it exists.
    pub fn topic(&self, cluster: &str, name: &str) -> Option<&TopicState> {
        self.clusters.get(cluster)?.get(name)
    }
}
