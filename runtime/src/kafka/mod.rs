//! Kafka: the cluster-side groundwork of `pipec plan --brokers` and `pipec apply` ([`admin`]:
//! read the live topics, create, grow, reconfigure and delete them; [`live`]: the owned topics
//! as the planner compares them, and a plan carried out).

pub mod admin;
pub mod live;
mod recover;
pub mod stream;
mod wire;

pub use admin::{Admin, ConfigSource, NewTopicSpec, Refusal, TopicConfig, TopicInfo, TopicOutcome};
