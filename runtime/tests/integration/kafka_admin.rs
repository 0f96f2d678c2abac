//! The Kafka admin client against a real Apache Kafka broker: `PIPEC_TEST_BROKERS` (default
//! `127.0.0.1:9092`), which `bash scripts/test` provides by starting one (`scripts/kafka-broker`).
//! Each change is checked by reading the topic back, each refusal by its exact code. Kafka's
//! brokers show a change some time after its controller accepted it (seen: a partition increase
//! not yet listed right after CreatePartitions answered), so a change is read back until it
//! shows, for at most 10 s.

use std::time::{Duration, Instant};

use pipec_runtime::RuntimeError;
use pipec_runtime::cluster::{Admin, ConfigSource, NewTopicSpec, Refusal, TopicInfo, TopicOutcome};

const TIMEOUT: Duration = Duration::from_secs(10);

fn brokers() -> String {
    std::env::var("PIPEC_TEST_BROKERS").unwrap_or_else(|_| "127.0.0.1:9092".to_owned())
}

async fn admin() -> Admin {
    let brokers = brokers();
    match Admin::connect(&brokers, TIMEOUT).await {
        Ok(admin) => admin,
        Err(e) => panic!(
            "no Kafka broker answers at {brokers} ({e}); run `bash scripts/test`, which starts \
             one, or point PIPEC_TEST_BROKERS at a broker"
        ),
    }
}

fn unique(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("pipec-test-{}-{tag}-{nanos}", std::process::id())
}

async fn topic(admin: &Admin, name: &str) -> Option<TopicInfo> {
    let topics = admin.describe().await.expect("describe");
    topics.into_iter().find(|t| t.name == name)
}

/// The topic as described once `shown` holds of it (`None`: not listed), or as last described
/// after 10 s.
async fn topic_once(
    admin: &Admin,
    name: &str,
    shown: impl Fn(Option<&TopicInfo>) -> bool,
) -> Option<TopicInfo> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let t = topic(admin, name).await;
        if shown(t.as_ref()) || Instant::now() >= deadline {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The value of a config the topic has.
fn value<'a>(t: Option<&'a TopicInfo>, config: &str) -> Option<&'a str> {
    t?.config(config)?.value.as_deref()
}

fn refusal(outcome: &TopicOutcome) -> &Refusal {
    match &outcome.result {
        Err(r) => r,
        Ok(()) => panic!("`{}` was accepted, expected a refusal", outcome.topic),
    }
}

#[tokio::test]
async fn topic_lifecycle_on_a_real_broker() {
    let admin = admin().await;
    let name = unique("life");
    let spec = NewTopicSpec {
        name: name.clone(),
        partitions: 3,
        replication: 1,
        configs: vec![("retention.ms".into(), "3600000".into())],
    };

    let created = admin
        .create_topics(std::slice::from_ref(&spec))
        .await
        .unwrap();
    assert_eq!(
        created,
        vec![TopicOutcome {
            topic: name.clone(),
            result: Ok(())
        }]
    );

    let again = admin.create_topics(&[spec]).await.unwrap();
    assert_eq!(refusal(&again[0]).code, "TopicAlreadyExists");
    assert_eq!(refusal(&again[0]).message, "Broker: Topic already exists");

    let info = topic_once(&admin, &name, |t| t.is_some())
        .await
        .expect("the new topic is listed");
    assert_eq!((info.partitions, info.replication), (3, 1));
    let retention = info
        .config("retention.ms")
        .expect("retention.ms is described");
    assert_eq!(retention.value.as_deref(), Some("3600000"));
    // The topic's own config is the one set on the topic; the others are defaults.
    assert_eq!(
        (retention.source, retention.is_default),
        (ConfigSource::Topic, false)
    );
    let configs = info.configs.as_ref().unwrap();
    let own: Vec<&str> = configs
        .iter()
        .filter(|c| c.source == ConfigSource::Topic)
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(own, ["retention.ms"], "{configs:?}");
    let cleanup = info.config("cleanup.policy").expect("cleanup.policy");
    assert!(cleanup.is_default, "{cleanup:?}");
    assert_eq!(cleanup.value.as_deref(), Some("delete"));

    let altered = admin
        .alter_configs(&name, &[("retention.ms", "7200000")], &[])
        .await
        .unwrap();
    assert_eq!(altered.result, Ok(()), "{altered:?}");
    let info = topic_once(&admin, &name, |t| {
        value(t, "retention.ms") == Some("7200000")
    })
    .await;
    assert_eq!(value(info.as_ref(), "retention.ms"), Some("7200000"));

    let removed = admin
        .alter_configs(
            &name,
            &[("max.message.bytes", "2000000")],
            &["retention.ms"],
        )
        .await
        .unwrap();
    assert_eq!(removed.result, Ok(()), "{removed:?}");
    let info = topic_once(&admin, &name, |t| {
        value(t, "max.message.bytes") == Some("2000000")
            && t.and_then(|t| t.config("retention.ms"))
                .is_some_and(|c| c.is_default)
    })
    .await
    .unwrap();
    assert_eq!(value(Some(&info), "max.message.bytes"), Some("2000000"));
    // Removed: the broker's default is listed again (7 days), as a default.
    let retention = info.config("retention.ms").expect("retention.ms");
    assert!(retention.is_default, "{retention:?}");
    assert_eq!(retention.value.as_deref(), Some("604800000"));

    // A topic that does not exist is refused, and not created.
    let missing = unique("missing");
    let unknown = admin
        .alter_configs(&missing, &[("retention.ms", "1")], &[])
        .await
        .unwrap();
    assert_eq!(
        refusal(&unknown).code,
        "UnknownTopicOrPartition",
        "{unknown:?}"
    );
    assert_eq!(topic(&admin, &missing).await, None);

    let raised = admin.create_partitions(&name, 5).await.unwrap();
    assert_eq!(raised.result, Ok(()), "{raised:?}");
    let info = topic_once(&admin, &name, |t| t.is_some_and(|t| t.partitions == 5)).await;
    assert_eq!(info.unwrap().partitions, 5);

    let lowered = admin.create_partitions(&name, 1).await.unwrap();
    assert_eq!(refusal(&lowered).code, "InvalidPartitions", "{lowered:?}");
    assert_eq!(topic(&admin, &name).await.unwrap().partitions, 5);

    let deleted = admin.delete_topics(&[&name]).await.unwrap();
    assert_eq!(
        deleted,
        vec![TopicOutcome {
            topic: name.clone(),
            result: Ok(())
        }]
    );
    assert_eq!(topic_once(&admin, &name, |t| t.is_none()).await, None);
}

#[tokio::test]
async fn each_topic_of_a_request_has_its_own_outcome() {
    let admin = admin().await;
    let (old, new, empty) = (unique("old"), unique("new"), unique("empty"));
    let spec = |name: &str, partitions| NewTopicSpec {
        name: name.to_owned(),
        partitions,
        replication: 1,
        configs: Vec::new(),
    };
    let first = admin.create_topics(&[spec(&old, 1)]).await.unwrap();
    assert_eq!(first[0].result, Ok(()));

    let created = admin
        .create_topics(&[spec(&new, 1), spec(&old, 1)])
        .await
        .unwrap();
    assert_eq!(
        created[0],
        TopicOutcome {
            topic: new.clone(),
            result: Ok(())
        }
    );
    assert_eq!(created[1].topic, old);
    assert_eq!(
        refusal(&created[1]).code,
        "TopicAlreadyExists",
        "{created:?}"
    );

    // A topic of 0 partitions is refused.
    let zero = admin.create_topics(&[spec(&empty, 0)]).await.unwrap();
    assert_eq!(refusal(&zero[0]).code, "InvalidPartitions", "{zero:?}");
    assert_eq!(topic(&admin, &empty).await, None);

    let deleted = admin.delete_topics(&[&old, &new]).await.unwrap();
    assert_eq!(
        deleted.iter().map(|d| &d.result).collect::<Vec<_>>(),
        [&Ok(()), &Ok(())]
    );
    let missing = admin.delete_topics(&[&old]).await.unwrap();
    assert_eq!(
        refusal(&missing[0]).code,
        "UnknownTopicOrPartition",
        "{missing:?}"
    );
}

#[tokio::test]
async fn an_unreachable_broker_is_unavailable_within_the_bound() {
    let bound = Duration::from_secs(2);
    let started = Instant::now();
    let err = Admin::connect("127.0.0.1:1", bound)
        .await
        .err()
        .expect("nothing listens on port 1");
    let elapsed = started.elapsed();
    match &err {
        RuntimeError::Unavailable { system, .. } => assert_eq!(system, "kafka 127.0.0.1:1"),
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert!(err.is_retryable());
    // The bound plus slack for a loaded 2-core CI machine.
    assert!(elapsed < bound + Duration::from_secs(3), "took {elapsed:?}");
}
