//! [`ClusterState`]: the topics that exist, as `pipec plan` compares them. It is read from
//! a previous manifest ([`ClusterState::from_manifest`]) or, later, from a live cluster
//! through the Kafka Admin API; both fill the same type.

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
    /// Topic configs whose value is not the broker's default, as strings. A live reader
    /// leaves out every entry the broker reports as a default, so that a config the spec
    /// does not set and the broker does not override is no difference.
    pub configs: BTreeMap<String, String>,
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
                });
        }
        state
    }

    /// A topic, when it exists.
    pub fn topic(&self, cluster: &str, name: &str) -> Option<&TopicState> {
        self.clusters.get(cluster)?.get(name)
    }
}
