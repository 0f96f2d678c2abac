//! Kafka: the cluster-side groundwork of `pipec plan --brokers` and `pipec apply` ([`admin`]:
//! read the live topics, create, grow, reconfigure and delete them).

pub mod admin;

pub use admin::{Admin, ConfigSource, NewTopicSpec, Refusal, TopicConfig, TopicInfo, TopicOutcome};
