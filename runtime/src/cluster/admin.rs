//! A Kafka admin client for planning and applying topic changes: it lists the live topics with
//! their partitions, replication and configs, and creates, grows, reconfigures and deletes
//! topics. Every call is bounded by the timeout given to [`Admin::connect`].
//!
//! Two kinds of failure are kept apart: a broker that cannot be reached (or does not answer in
//! time) is [`RuntimeError::Unavailable`]; a request the broker answered but refused (the topic
//! exists, fewer partitions than now, an API the broker does not implement) is a per-topic
//! [`Refusal`] inside an `Ok`, so that one refused topic does not hide what happened to others.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::admin::{
    self as rd, AdminClient, AdminOptions, AlterConfig, NewPartitions, NewTopic, ResourceSpecifier,
    TopicReplication,
};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;

use super::wire;
use crate::error::RuntimeError;

/// A connection to a Kafka cluster's admin APIs.
pub struct Admin {
    client: Arc<AdminClient<DefaultClientContext>>,
    brokers: String,
    system: String,
    timeout: Duration,
}

/// A live topic as the cluster describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicInfo {
    /// The topic's name.
    pub name: String,
    /// How many partitions it has.
    pub partitions: usize,
    /// How many replicas its first partition has (Kafka keeps one factor per topic).
    pub replication: usize,
    /// Its configs from DescribeConfigs, or why the broker refused to describe them.
    pub configs: Result<Vec<TopicConfig>, Refusal>,
}

impl TopicInfo {
    /// The config named `name`, if the broker listed it.
    pub fn config(&self, name: &str) -> Option<&TopicConfig> {
        self.configs.as_ref().ok()?.iter().find(|c| c.name == name)
    }
}

/// One config entry of a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicConfig {
    /// The config's name (`retention.ms`).
    pub name: String,
    /// Its value; `None` for a sensitive or unset value.
    pub value: Option<String>,
    /// Where the value comes from.
    pub source: ConfigSource,
    /// Whether the broker says this is the default value (callers planning changes skip these).
    pub is_default: bool,
    /// Whether it cannot be altered.
    pub read_only: bool,
}

/// Where a config's value comes from, as DescribeConfigs reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigSource {
    /// Set on the topic itself: the entries a spec owns.
    Topic,
    /// A dynamic config of this broker.
    DynamicBroker,
    /// A dynamic default of every broker.
    DynamicDefaultBroker,
    /// The broker's `server.properties`.
    StaticBroker,
    /// Kafka's built-in default.
    Default,
    /// Not reported (brokers before Kafka 1.1).
    Unknown,
}

/// A topic to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTopicSpec {
    /// The topic's name.
    pub name: String,
    /// How many partitions.
    pub partitions: i32,
    /// How many replicas of each partition.
    pub replication: i32,
    /// Configs set on the topic (`("retention.ms", "3600000")`).
    pub configs: Vec<(String, String)>,
}

/// What happened to one topic of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicOutcome {
    /// The topic.
    pub topic: String,
    /// `Ok` when the broker did it, otherwise its refusal.
    pub result: Result<(), Refusal>,
}

/// A request the broker answered but refused, with Kafka's error.
///
/// rdkafka 0.39 gives the error code of each topic, not the broker's free-text message, so
/// `message` is the code's description (`Broker: Topic already exists`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} ({code})")]
pub struct Refusal {
    /// Kafka's error name (`TopicAlreadyExists`, `InvalidPartitions`, `UnsupportedFeature`).
    pub code: String,
    /// Its description.
    pub message: String,
}

impl Refusal {
    fn from_code(code: RDKafkaErrorCode) -> Self {
        let name = format!("{code:?}");
        // rdkafka displays a code as `Name (description)`; keep librdkafka's description.
        let shown = code.to_string();
        let message = shown
            .strip_prefix(&format!("{name} ("))
            .and_then(|rest| rest.strip_suffix(')'))
            .map_or_else(|| shown.clone(), str::to_owned);
        Refusal {
            code: name,
            message,
        }
    }
}

impl Admin {
    /// Connects to `brokers` (`host:port[,host:port]`) and checks that the cluster answers a
    /// metadata request within `timeout`; every later call is bounded by the same timeout.
    pub async fn connect(brokers: &str, timeout: Duration) -> Result<Admin, RuntimeError> {
        let ms = timeout.as_millis().clamp(10, i32::MAX as u128).to_string();
        let client: AdminClient<DefaultClientContext> = ClientConfig::new()
            .set("bootstrap.servers", brokers)
            .set("socket.timeout.ms", &ms)
            .set("socket.connection.setup.timeout.ms", &ms)
            .create()
            .map_err(|e| RuntimeError::Config {
                what: format!("kafka brokers `{brokers}`: {e}"),
            })?;
        let admin = Admin {
            client: Arc::new(client),
            brokers: brokers.to_owned(),
            system: format!("kafka {brokers}"),
            timeout,
        };
        admin.metadata().await?;
        Ok(admin)
    }

    /// Every topic of the cluster, sorted by name, with its configs.
    pub async fn describe(&self) -> Result<Vec<TopicInfo>, RuntimeError> {
        self.describe_where(|_| true).await
    }

    /// The topics named that exist, sorted by name, with their configs (only theirs are
    /// asked for).
    pub async fn describe_only(
        &self,
        names: &std::collections::BTreeSet<&str>,
    ) -> Result<Vec<TopicInfo>, RuntimeError> {
        self.describe_where(|t| names.contains(t)).await
    }

    async fn describe_where(
        &self,
        wanted: impl Fn(&str) -> bool,
    ) -> Result<Vec<TopicInfo>, RuntimeError> {
        self.bounded("describe topics", async {
            let mut topics = self.metadata().await?;
            topics.retain(|t| wanted(&t.name));
            topics.sort_by(|a, b| a.name.cmp(&b.name));
            let specs: Vec<ResourceSpecifier<'_>> = topics
                .iter()
                .map(|t| ResourceSpecifier::Topic(&t.name))
                .collect();
            if specs.is_empty() {
                return Ok(topics);
            }
            let configs: Vec<Result<Vec<TopicConfig>, Refusal>> =
                match self.client.describe_configs(&specs, &self.options()).await {
                    // librdkafka answers in the order of the request.
                    Ok(results) => results
                        .into_iter()
                        .map(|r| match r {
                            Ok(resource) => Ok(resource.entries.iter().map(topic_config).collect()),
                            Err(code) => Err(Refusal::from_code(code)),
                        })
                        .collect(),
                    Err(e) => {
                        let refusal = self.refusal_or_unavailable("describe configs", e)?;
                        vec![Err(refusal); specs.len()]
                    }
                };
            for (topic, configs) in topics.iter_mut().zip(configs) {
                topic.configs = configs;
            }
            Ok(topics)
        })
        .await
    }

    /// Creates the topics; each outcome says whether the broker created it or why not.
    pub async fn create_topics(
        &self,
        specs: &[NewTopicSpec],
    ) -> Result<Vec<TopicOutcome>, RuntimeError> {
        let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
        let topics: Vec<NewTopic<'_>> = specs
            .iter()
            .map(|s| {
                let topic = NewTopic::new(
                    &s.name,
                    s.partitions,
                    TopicReplication::Fixed(s.replication),
                );
                s.configs
                    .iter()
                    .fold(topic, |topic, (k, v)| topic.set(k, v))
            })
            .collect();
        let fut = self.client.create_topics(&topics, &self.options());
        self.topic_results("create topics", &names, fut).await
    }

    /// Raises the topic's partition count to `new_total` (Kafka refuses a decrease with
    /// `InvalidPartitions`).
    pub async fn create_partitions(
        &self,
        name: &str,
        new_total: usize,
    ) -> Result<TopicOutcome, RuntimeError> {
        let partitions = [NewPartitions::new(name, new_total)];
        let fut = self.client.create_partitions(&partitions, &self.options());
        let outcomes = self
            .topic_results("create partitions", &[name], fut)
            .await?;
        outcomes
            .into_iter()
            .next()
            .ok_or_else(|| self.unavailable("create partitions: empty answer".into()))
    }

    /// Sets `set` and removes `delete` (the broker's default applies again) on the topic,
    /// leaving its other configs as they are.
    ///
    /// Uses `IncrementalAlterConfigs` (Kafka 2.3+, Tansu), spoken directly since rdkafka 0.39 has
    /// no binding for it. A broker without that API gets the full `AlterConfigs`, which resets
    /// every config the request leaves out: the topic's own configs (source
    /// [`ConfigSource::Topic`]) are read first and sent again, so a change made by someone else
    /// between the two requests is lost there.
    pub async fn alter_configs(
        &self,
        name: &str,
        set: &[(&str, &str)],
        delete: &[&str],
    ) -> Result<TopicOutcome, RuntimeError> {
        self.bounded("alter configs", async {
            let mut conn = wire::Conn::connect(&self.brokers, self.timeout)
                .await
                .map_err(|e| self.unavailable(format!("alter configs: {e}")))?;
            let versions = conn
                .api_versions(wire::INCREMENTAL_ALTER_CONFIGS)
                .await
                .map_err(|e| self.unavailable(format!("alter configs: {e}")))?;
            match versions {
                Some((0, _)) => {
                    let ops: Vec<wire::ConfigOp<'_>> = set
                        .iter()
                        .map(|(k, v)| wire::ConfigOp::Set(k, v))
                        .chain(delete.iter().map(|k| wire::ConfigOp::Delete(k)))
                        .collect();
                    let answers = conn
                        .incremental_alter_configs(&[(name, ops)])
                        .await
                        .map_err(|e| self.unavailable(format!("alter configs: {e}")))?;
                    let answer = answers
                        .into_iter()
                        .next()
                        .ok_or_else(|| self.unavailable("alter configs: empty answer".into()))?;
                    let result = if answer.error_code == 0 {
                        Ok(())
                    } else {
                        let code = wire::error_name(answer.error_code);
                        Err(Refusal {
                            code: code.to_owned(),
                            message: answer.message.unwrap_or_else(|| {
                                format!("Broker: error code {}", answer.error_code)
                            }),
                        })
                    };
                    Ok(TopicOutcome {
                        topic: name.to_owned(),
                        result,
                    })
                }
                _ => self.alter_configs_whole(name, set, delete).await,
            }
        })
        .await
    }

    /// The full `AlterConfigs`: the topic's own configs, changed, sent whole.
    async fn alter_configs_whole(
        &self,
        name: &str,
        set: &[(&str, &str)],
        delete: &[&str],
    ) -> Result<TopicOutcome, RuntimeError> {
        let spec = [ResourceSpecifier::Topic(name)];
        let current = match self.client.describe_configs(&spec, &self.options()).await {
            Ok(results) => match results.into_iter().next() {
                Some(Ok(resource)) => resource,
                Some(Err(code)) => return Ok(refused(name, Refusal::from_code(code))),
                None => return Err(self.unavailable("describe configs: empty answer".into())),
            },
            Err(e) => {
                let refusal = self.refusal_or_unavailable("describe configs", e)?;
                return Ok(refused(name, refusal));
            }
        };
        let mut merged: Vec<(&str, &str)> = current
            .entries
            .iter()
            .filter(|e| e.source == rd::ConfigSource::DynamicTopic)
            .filter_map(|e| Some((e.name.as_str(), e.value.as_deref()?)))
            .filter(|(k, _)| !set.iter().any(|(n, _)| n == k) && !delete.contains(k))
            .collect();
        merged.extend_from_slice(set);
        let alter = merged
            .iter()
            .fold(AlterConfig::new(spec[0]), |a, (k, v)| a.set(k, v));
        match self.client.alter_configs([&alter], &self.options()).await {
            Ok(results) => match results.into_iter().next() {
                Some(Ok(_)) => Ok(TopicOutcome {
                    topic: name.to_owned(),
                    result: Ok(()),
                }),
                Some(Err((_, code))) => Ok(refused(name, Refusal::from_code(code))),
                None => Err(self.unavailable("alter configs: empty answer".into())),
            },
            Err(e) => Ok(refused(
                name,
                self.refusal_or_unavailable("alter configs", e)?,
            )),
        }
    }

    /// Deletes the topics; each outcome says whether the broker deleted it or why not.
    pub async fn delete_topics(&self, names: &[&str]) -> Result<Vec<TopicOutcome>, RuntimeError> {
        let fut = self.client.delete_topics(names, &self.options());
        self.topic_results("delete topics", names, fut).await
    }

    /// The topics and their partition counts from a metadata request (configs left empty).
    async fn metadata(&self) -> Result<Vec<TopicInfo>, RuntimeError> {
        let client = Arc::clone(&self.client);
        let timeout = self.timeout;
        let fetched = tokio::task::spawn_blocking(move || {
            let metadata = client.inner().fetch_metadata(None, timeout)?;
            Ok::<_, KafkaError>(
                metadata
                    .topics()
                    .iter()
                    .map(|t| TopicInfo {
                        name: t.name().to_owned(),
                        partitions: t.partitions().len(),
                        replication: t.partitions().first().map_or(0, |p| p.replicas().len()),
                        configs: Ok(Vec::new()),
                    })
                    .collect::<Vec<_>>(),
            )
        });
        match tokio::time::timeout(timeout, fetched).await {
            Ok(Ok(Ok(topics))) => Ok(topics),
            Ok(Ok(Err(e))) => Err(self.unavailable(format!("metadata request: {e}"))),
            Ok(Err(join)) => Err(RuntimeError::Internal(format!(
                "kafka metadata task failed: {join}"
            ))),
            Err(_) => Err(self.no_answer("metadata request")),
        }
    }

    /// Awaits a per-topic admin request and turns its answer into one outcome per name.
    async fn topic_results(
        &self,
        what: &str,
        names: &[&str],
        fut: impl Future<Output = Result<Vec<rd::TopicResult>, KafkaError>>,
    ) -> Result<Vec<TopicOutcome>, RuntimeError> {
        let answer = self.bounded(what, async { Ok(fut.await) }).await?;
        match answer {
            Ok(results) => Ok(results
                .into_iter()
                .map(|r| match r {
                    Ok(topic) => TopicOutcome {
                        topic,
                        result: Ok(()),
                    },
                    Err((topic, code)) => refused(&topic, Refusal::from_code(code)),
                })
                .collect()),
            Err(e) => {
                let refusal = self.refusal_or_unavailable(what, e)?;
                Ok(names.iter().map(|n| refused(n, refusal.clone())).collect())
            }
        }
    }

    /// Runs `fut` within the timeout.
    async fn bounded<T>(
        &self,
        what: &str,
        fut: impl Future<Output = Result<T, RuntimeError>>,
    ) -> Result<T, RuntimeError> {
        tokio::time::timeout(self.timeout, fut)
            .await
            .unwrap_or_else(|_| Err(self.no_answer(what)))
    }

    /// A request-level error: unreachable brokers are `Err(Unavailable)`, anything else the
    /// broker (or librdkafka on its behalf, for an API the broker lacks) refused.
    fn refusal_or_unavailable(&self, what: &str, e: KafkaError) -> Result<Refusal, RuntimeError> {
        // `rdkafka_error_code()` is `None` for `AdminOp`, the error of a refused admin request.
        let code = match &e {
            KafkaError::AdminOp(code) => Some(*code),
            KafkaError::Nul(_) | KafkaError::AdminOpCreation(_) => {
                return Err(RuntimeError::Config {
                    what: format!("{what} on {}: {e}", self.system),
                });
            }
            other => other.rdkafka_error_code(),
        };
        match code {
            Some(code) if !is_unreachable(code) => Ok(Refusal::from_code(code)),
            _ => Err(self.unavailable(format!("{what}: {e}"))),
        }
    }

    fn options(&self) -> AdminOptions {
        AdminOptions::new()
            .request_timeout(Some(self.timeout))
            .operation_timeout(Some(self.timeout))
    }

    fn unavailable(&self, reason: String) -> RuntimeError {
        RuntimeError::Unavailable {
            system: self.system.clone(),
            reason,
        }
    }

    fn no_answer(&self, what: &str) -> RuntimeError {
        self.unavailable(format!("{what}: no answer within {:?}", self.timeout))
    }
}

/// Error codes that mean the cluster was not reached or did not answer.
fn is_unreachable(code: RDKafkaErrorCode) -> bool {
    matches!(
        code,
        RDKafkaErrorCode::BrokerTransportFailure
            | RDKafkaErrorCode::AllBrokersDown
            | RDKafkaErrorCode::Resolve
            | RDKafkaErrorCode::OperationTimedOut
            | RDKafkaErrorCode::RequestTimedOut
            | RDKafkaErrorCode::NetworkException
    )
}

fn refused(topic: &str, refusal: Refusal) -> TopicOutcome {
    TopicOutcome {
        topic: topic.to_owned(),
        result: Err(refusal),
    }
}

fn topic_config(e: &rd::ConfigEntry) -> TopicConfig {
    TopicConfig {
        name: e.name.clone(),
        value: e.value.clone(),
        source: match e.source {
            rd::ConfigSource::DynamicTopic => ConfigSource::Topic,
            rd::ConfigSource::DynamicBroker => ConfigSource::DynamicBroker,
            rd::ConfigSource::DynamicDefaultBroker => ConfigSource::DynamicDefaultBroker,
            rd::ConfigSource::StaticBroker => ConfigSource::StaticBroker,
            rd::ConfigSource::Default => ConfigSource::Default,
            rd::ConfigSource::Unknown => ConfigSource::Unknown,
        },
        is_default: e.is_default,
        read_only: e.is_read_only,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_carries_kafkas_code_and_description() {
        let r = Refusal::from_code(RDKafkaErrorCode::InvalidPartitions);
        assert_eq!(r.code, "InvalidPartitions");
        assert_eq!(
            r.to_string(),
            "Broker: Invalid number of partitions (InvalidPartitions)"
        );
    }

    #[test]
    fn only_transport_failures_mean_the_cluster_is_unavailable() {
        assert!(is_unreachable(RDKafkaErrorCode::BrokerTransportFailure));
        assert!(is_unreachable(RDKafkaErrorCode::OperationTimedOut));
        assert!(!is_unreachable(RDKafkaErrorCode::TopicAlreadyExists));
        assert!(!is_unreachable(RDKafkaErrorCode::UnsupportedFeature));
    }
}
