//! The values each template sees. Templates get plain data, worked out here, so that they
//! stay about layout: which topics are on a cluster, which secrets a job needs, and so on.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::manifest::{Manifest, Store};

/// What every template sees: `pipeline`, `env`, `version`, `description`, `chart`,
/// `generator`; `manifest` (the whole manifest) is added at rendering.
pub fn base(m: &Manifest) -> Value {
    json!({
        "pipeline": m.pipeline,
        "env": m.env,
        "version": env!("CARGO_PKG_VERSION"),
        "description": m.description,
        "chart": super::dns_label(&m.pipeline),
        "generator": m.generator,
    })
}

fn with(base: &Value, extra: Value) -> Value {
    let mut v = base.clone();
    if let (Some(obj), Value::Object(more)) = (v.as_object_mut(), extra) {
        obj.extend(more);
    }
    v
}

/// Per cluster: `cluster`, `brokers`, `prefix` (`<env>.`) and `topics`, sorted by Kafka
/// name, each with `name`, `short_name` (the name without the prefix, `null` when it
/// lacks it), `partitions`, `replication`, `retention_ms`, `max_message_bytes`, `config`
/// (every config, sorted) and `other_config` (those but `retention.ms` and
/// `max.message.bytes`), `key`, `external`, `description`, `id` (the spec's name).
pub fn kafka(m: &Manifest, base: &Value) -> Vec<(String, Value)> {
    let prefix = format!("{}.", m.env);
    let mut clusters: BTreeMap<&str, Vec<(&String, &crate::manifest::Topic)>> = BTreeMap::new();
    for (id, t) in &m.topics {
        clusters
            .entry(t.cluster.as_str())
            .or_default()
            .push((id, t));
    }
    clusters
        .into_iter()
        .map(|(cluster, mut topics)| {
            topics.sort_by(|a, b| a.1.name.cmp(&b.1.name));
            let topics: Vec<Value> = topics
                .iter()
                .map(|(id, t)| {
                    let other: BTreeMap<&String, &String> = t
                        .config
                        .iter()
                        .filter(|(k, _)| *k != "retention.ms" && *k != "max.message.bytes")
                        .collect();
                    json!({
                        "id": id,
                        "name": t.name,
                        "short_name": t.name.strip_prefix(&prefix),
                        "partitions": t.partitions,
                        "replication": t.replication,
                        "retention_ms": t.retention_ms(),
                        "max_message_bytes": t.config.get("max.message.bytes")
                            .and_then(|v| v.parse::<u64>().ok()),
                        "config": t.config,
                        "other_config": other,
                        "key": t.key,
                        "external": t.external,
                        "description": t.description,
                    })
                })
                .collect();
            let brokers = m.clusters.get(cluster).map(|c| c.brokers.clone());
            (
                cluster.to_string(),
                with(
                    base,
                    json!({
                        "cluster": cluster,
                        "brokers": brokers,
                        "prefix": prefix,
                        "topics": topics,
                    }),
                ),
            )
        })
        .collect()
}

/// Helm: `clusters` (name → brokers), `jobs` and `reports` as lists in name order, with
/// what each needs worked out: the clusters it talks to, its source topic, the secret
/// references of its stores and clusters.
pub fn helm(m: &Manifest, base: &Value) -> Value {
    let clusters: BTreeMap<&String, Value> = m
        .clusters
        .iter()
        .map(|(k, c)| (k, helm_cluster(c)))
        .collect();
    let cluster_secrets = |names: &BTreeSet<String>| -> Vec<Value> {
        names
            .iter()
            .filter_map(|c| m.clusters.get(c))
            .flat_map(|c| {
                let password = c.sasl.as_ref().map(|s| &s.password);
                let ca = c.tls.as_ref().and_then(|t| t.ca_secret.as_ref());
                password.into_iter().chain(ca).map(|s| json!(s))
            })
            .collect()
    };
    let jobs: Vec<Value> = m
        .jobs
        .iter()
        .map(|(name, j)| {
            let mut used: BTreeSet<String> = BTreeSet::new();
            for t in std::iter::once(&j.from).chain(j.outputs.iter()) {
                if let Some(t) = m.topics.get(t) {
                    used.insert(t.cluster.clone());
                }
            }
            let mut secrets = cluster_secrets(&used);
            for s in &j.stores {
                if let Some(Store::Redis(r)) = m.stores.get(s)
                    && let Some(p) = &r.password
                {
                    secrets.push(json!(p));
                }
            }
            secrets.sort_by_key(|s| s["env"].as_str().map(str::to_string));
            secrets.dedup();
            let source = m.topics.get(&j.from);
            let partitions = source.map_or(1, |t| t.partitions);
            // Memory is both requested and capped; CPU is requested only, so a busy job
            // may use idle cores instead of being throttled.
            let mut requests = serde_json::Map::new();
            let mut limits = serde_json::Map::new();
            if let Some(c) = &j.resources.cpu {
                requests.insert("cpu".into(), json!(c));
            }
            if let Some(mem) = &j.resources.memory {
                requests.insert("memory".into(), json!(mem));
                limits.insert("memory".into(), json!(mem));
            }
            json!({
                "name": name,
                "description": j.description,
                "replicas": j.replicas,
                "requests": requests,
                "limits": limits,
                "consumer_group": j.consumer_group,
                "source": {
                    "cluster": source.map(|t| t.cluster.clone()),
                    "topic": source.map(|t| t.name.clone()),
                    "partitions": partitions,
                },
                "clusters": used,
                "secrets": secrets,
                "max_replicas": partitions.max(j.replicas),
            })
        })
        .collect();
    let reports: Vec<Value> = m
        .reports
        .iter()
        .map(|(name, r)| {
            let mut used: BTreeSet<String> = BTreeSet::new();
            let mut add_topic = |t: &str| {
                if let Some(t) = m.topics.get(t) {
                    used.insert(t.cluster.clone());
                }
            };
            for (_, o) in r.outputs.iter() {
                if let Some(t) = &o.topic {
                    add_topic(t);
                }
            }
            for (_, i) in r.inputs.iter() {
                if let Some(b) = i.backup.as_ref().and_then(|b| m.backups.get(b)) {
                    add_topic(&b.topic);
                }
            }
            json!({
                "name": name,
                "description": r.description,
                "schedule": r.schedule,
                "clusters": used,
                "secrets": cluster_secrets(&used),
                "args": report_flags(r),
            })
        })
        .collect();
    // Backups: a Deployment each on Kafka (`pipec run --kafka --backup NAME`).
    let backups: Vec<Value> = m
        .backups
        .iter()
        .map(|(name, b)| {
            let used: BTreeSet<String> = m
                .topics
                .get(&b.topic)
                .map(|t| t.cluster.clone())
                .into_iter()
                .collect();
            json!({
                "name": name,
                "topic": b.topic,
                "clusters": used,
                "secrets": cluster_secrets(&used),
            })
        })
        .collect();
    with(
        base,
        json!({ "clusters": clusters, "jobs": jobs, "reports": reports, "backups": backups }),
    )
}

/// The flags of the `pipec report NAME MANIFEST ... --date D` command that the crontab and
/// the Helm chart's CronJobs run for `r`, besides its name, the manifest and `--date`:
/// `--kafka` when it writes a topic (the deployed runtime's topics are on Kafka). `pipec
/// compile` parses each command with the binary's own argument parser before writing it.
pub fn report_flags(r: &crate::manifest::Report) -> Vec<&'static str> {
    let mut flags = Vec::new();
    if r.outputs.iter().any(|(_, o)| o.topic.is_some()) {
        flags.push("--kafka");
    }
    flags
}

/// A cluster in the Helm values: its brokers and, for KEDA's Kafka trigger, its login (the
/// SASL mode in KEDA's words, the user, the password's Secret) and TLS (the CA's Secret,
/// when the CA is one; KEDA cannot read a CA file of the jobs' pods).
fn helm_cluster(c: &crate::manifest::Cluster) -> Value {
    let mut out = json!({ "brokers": c.brokers });
    if let Some(s) = &c.sasl {
        let mode = match s.mechanism.as_str() {
            "PLAIN" => "plaintext",
            "SCRAM-SHA-256" => "scram_sha256",
            _ => "scram_sha512",
        };
        out["sasl"] = json!({
            "mode": mode,
            "username": s.username,
            "password": { "secret": s.password.secret, "key": s.password.key },
        });
    }
    if let Some(t) = &c.tls {
        out["tls"] = match &t.ca_secret {
            Some(ca) => json!({ "ca": { "secret": ca.secret, "key": ca.key } }),
            None => json!({}),
        };
    }
    out
}

/// Cron: `reports`, each with `name`, `schedule`, `description`, `what` (`model` name or
/// SQL path).
pub fn cron(m: &Manifest, base: &Value) -> Value {
    let reports: Vec<Value> = m
        .reports
        .iter()
        .map(|(name, r)| {
            let what = r
                .model
                .clone()
                .or_else(|| r.sql.as_ref().map(|s| s.path.clone()));
            json!({
                "name": name,
                "schedule": r.schedule,
                "description": r.description,
                "what": what,
                "flags": report_flags(r),
            })
        })
        .collect();
    with(base, json!({ "reports": reports }))
}
