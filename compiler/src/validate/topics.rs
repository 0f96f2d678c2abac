//! Topics: Kafka-valid names, counts, retention, configs, clusters, and name collisions.

use std::collections::HashMap;

use super::{Index, duration, positive};
use crate::diagnostics::{Diagnostic, Diagnostics, catalog};
use crate::source::Span;
use crate::suggest::suggest;

/// Kafka topic-level configs (Kafka 3.x), for checking `config` keys.
pub const TOPIC_CONFIGS: &[&str] = &[
    "cleanup.policy",
    "compression.type",
    "delete.retention.ms",
    "file.delete.delay.ms",
    "flush.messages",
    "flush.ms",
    "follower.replication.throttled.replicas",
    "index.interval.bytes",
    "leader.replication.throttled.replicas",
    "local.retention.bytes",
    "local.retention.ms",
    "max.compaction.lag.ms",
    "max.message.bytes",
    "message.downconversion.enable",
    "message.format.version",
    "message.timestamp.after.max.ms",
    "message.timestamp.before.max.ms",
    "message.timestamp.difference.max.ms",
    "message.timestamp.type",
    "min.cleanable.dirty.ratio",
    "min.compaction.lag.ms",
    "min.insync.replicas",
    "preallocate",
    "remote.storage.enable",
    "retention.bytes",
    "retention.ms",
    "segment.bytes",
    "segment.index.bytes",
    "segment.jitter.ms",
    "segment.ms",
    "unclean.leader.election.enable",
];

/// Why a topic name is not valid for Kafka, if it is not.
pub fn topic_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("empty name".into());
    }
    if name == "." || name == ".." {
        return Some("`.` and `..` are not allowed".into());
    }
    if name.len() > 249 {
        return Some(format!("{} characters, at most 249 allowed", name.len()));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Some(format!("`{c}` is not allowed in a topic name"));
    }
    None
}

/// The cluster a topic lives on: its own, the default one, or the only one.
pub fn topic_cluster<'a>(ix: &'a Index<'_>, topic: &'a crate::spec::Topic) -> Option<&'a str> {
    if let Some(c) = &topic.cluster {
        return Some(&c.value);
    }
    let defaults = ix
        .root
        .and_then(|r| r.spec.defaults.as_ref())
        .and_then(|d| d.topic.as_ref());
    if let Some(c) = defaults.and_then(|d| d.cluster.as_ref()) {
        return Some(&c.value);
    }
    if let Some(c) = ix.clusters.items.iter().find(|c| c.def.default) {
        return Some(&c.name.value);
    }
    match ix.clusters.items.as_slice() {
        [] => Some("default"),
        [only] => Some(&only.name.value),
        _ => None,
    }
}

/// Checks every topic.
pub fn check(ix: &Index<'_>, diags: &mut Diagnostics) {
    let defaults = ix
        .root
        .and_then(|r| r.spec.defaults.as_ref())
        .and_then(|d| d.topic.as_ref());
    if let Some(d) = defaults {
        positive("partitions", d.partitions.as_ref(), diags);
        positive("replication", d.replication.as_ref(), diags);
        if let Some(r) = &d.retention {
            duration(r, diags);
        }
        if let Some(c) = &d.cluster {
            ix.clusters.resolve("PC0104", c, diags);
        }
        check_configs(&d.config, diags);
    }
    for c in &ix.clusters.items {
        if c.def.brokers.value.trim().is_empty() {
            diags.push(
                catalog::invalid_value("a cluster needs at least one broker".into())
                    .at(c.def.brokers.span, "empty")
                    .help("write `host:port`, or several separated by commas"),
            );
        }
    }
    let defaults_n = ix.clusters.items.iter().filter(|c| c.def.default).count();
    if defaults_n > 1 {
        for c in ix.clusters.items.iter().filter(|c| c.def.default).skip(1) {
            diags.push(
                catalog::invalid_value("more than one cluster is the default".into())
                    .at(c.name.span, "also `default: true`")
                    .help("mark one cluster `default: true`"),
            );
        }
    }
    let mut resolved: HashMap<(String, String), Span> = HashMap::new();
    for t in &ix.topics.items {
        let topic = t.def;
        let name = &topic.name;
        if let Some(problem) = topic_name_problem(&name.value)
            && !has_undefined_var(&name.value)
        {
            let problem = if name.value.contains('{') {
                "a `{...}` placeholder is left in the name".to_string()
            } else {
                problem
            };
            diags.push(catalog::bad_topic_name(&name.value, &problem, name.span));
        }
        positive("partitions", topic.partitions.as_ref(), diags);
        positive("replication", topic.replication.as_ref(), diags);
        if let Some(r) = &topic.retention {
            duration(r, diags);
        }
        check_configs(&topic.config, diags);
        if topic.retention.is_some()
            && let Some((k, _)) = topic.config.iter().find(|(k, _)| k.value == "retention.ms")
        {
            diags.push(
                Diagnostic::warning("PC0109", "retention is set twice")
                    .at(k.span, "`retention.ms` here")
                    .help("keep `retention:` and drop `config.retention.ms`"),
            );
        }
        if let Some(c) = &topic.cluster {
            ix.clusters.resolve("PC0104", c, diags);
        }
        match topic_cluster(ix, topic) {
            Some(cluster) => {
                let key = (cluster.to_string(), name.value.clone());
                if let Some(first) = resolved.get(&key) {
                    diags.push(
                        Diagnostic::error(
                            "PC0101",
                            format!(
                                "two topics are both `{}` on cluster `{cluster}`",
                                name.value
                            ),
                        )
                        .at(name.span, "this topic")
                        .also(*first, "has the same Kafka name as this one")
                        .help("give each topic its own Kafka name"),
                    );
                } else {
                    resolved.insert(key, name.span);
                }
            }
            None => diags.push(catalog::ambiguous_cluster(&t.name.value, t.name.span)),
        }
        if let Some(events) = &topic.events {
            for e in events {
                ix.resolve_type(e, diags);
            }
        }
    }
}

/// Whether a name still holds a `{var}` that is not a runtime placeholder: that is already
/// reported as an undefined variable.
fn has_undefined_var(name: &str) -> bool {
    name.split('{').skip(1).any(|rest| {
        rest.split_once('}').is_some_and(|(v, _)| {
            !v.is_empty()
                && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !crate::spec::vars::RUNTIME_PLACEHOLDERS.contains(&v)
        })
    })
}

pub(super) fn check_configs(
    config: &crate::spec::OrderedMap<crate::spec::Spanned<serde_json::Value>>,
    diags: &mut Diagnostics,
) {
    for (k, v) in config.iter() {
        if !TOPIC_CONFIGS.contains(&k.value.as_str()) {
            let help = suggest(&k.value, TOPIC_CONFIGS.iter().copied())
                .map(|s| format!("did you mean `{s}`?"))
                .unwrap_or_else(|| {
                    "see Kafka's topic configs; `retention` and `partitions` have keys of their own"
                        .into()
                });
            diags.push(
                Diagnostic::error(
                    "PC0308",
                    format!("unknown Kafka topic config `{}`", k.value),
                )
                .at(k.span, "not a topic config")
                .help(help),
            );
        }
        if v.value.is_object() || v.value.is_array() || v.value.is_null() {
            diags.push(
                catalog::wrong_type("a single value", "a structure")
                    .at(v.span, "topic configs are single values"),
            );
        }
    }
}
