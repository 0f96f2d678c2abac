//! What `pipec plan --brokers` and `pipec apply` read and change on a live Kafka cluster:
//! [`admin`] lists the live topics and creates, grows, reconfigures and deletes them;
//! [`live`] reads the topics a pipeline owns as the planner compares them and carries out a
//! plan; [`wire`] speaks the two requests rdkafka has no binding for. Running jobs on Kafka
//! is [`crate::transport::kafka`]'s.

pub mod admin;
pub mod live;
pub(crate) mod wire;

pub use admin::{Admin, ConfigSource, NewTopicSpec, Refusal, TopicConfig, TopicInfo, TopicOutcome};
