//! Lowering: a validated spec becomes a [`Manifest`]. Defaults and the chosen
//! environment's overrides are applied here, references are resolved, durations and sizes
//! converted, and schema and SQL files read and digested.
//!
//! Lowering runs only on a spec that checked without errors, so values that the checks
//! parse (durations, sizes) parse here too; where one still does not, lowering says so
//! rather than guessing.

mod batch;
mod schemas;
mod steps;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::*;
use crate::schema::SchemaStore;
use crate::spec::{self, OrderedMap, Spanned};
use crate::validate::Index;
use crate::validate::index::rel;
use schemas::SchemaLoader;

/// Builds the manifest of a checked spec. Fails (with a message) only when a file that the
/// checks read can no longer be read.
pub fn lower(ix: &Index<'_>) -> Result<Manifest, String> {
    let root = ix.root.ok_or("no root spec file")?;
    let root_dir = SchemaStore::normalized(&root.dir);
    let env = ix.vars.get("env").cloned().unwrap_or_else(|| "dev".into());
    let overrides = root.spec.environments.get(&env);
    let cx = Cx {
        ix,
        root_dir,
        over: overrides,
    };
    let pipeline = root
        .spec
        .pipeline
        .as_ref()
        .map(|p| p.value.clone())
        .unwrap_or_default();

    let mut schemas = SchemaLoader::new(&cx);
    let event_types = cx.event_types(&mut schemas);
    // Consumer groups are per environment, as topic names are: two environments sharing a
    // cluster must not share a group (nor its rebalances).
    let group_prefix = format!("{env}.{pipeline}");
    let mut jobs = BTreeMap::new();
    for s in &ix.streams.items {
        jobs.insert(
            s.name.value.clone(),
            cx.job(&group_prefix, s.name, s.def, s.dir, &mut schemas)?,
        );
    }
    let mut reports = BTreeMap::new();
    for r in &ix.reports.items {
        reports.insert(r.name.value.clone(), cx.report(r.name, r.def, r.dir)?);
    }
    Ok(Manifest {
        manifest_version: MANIFEST_VERSION,
        generator: format!("pipec {}", env!("CARGO_PKG_VERSION")),
        pipeline,
        description: root.spec.description.as_ref().map(|d| d.value.clone()),
        env,
        type_field: ix.type_field().to_string(),
        clusters: cx.clusters(),
        topics: cx.topics(),
        stores: cx.stores(),
        event_types,
        schema_draft: schemas.draft_name.clone(),
        schema_refs: schemas.ref_ids(&cx),
        schemas: schemas.finish(&cx),
        jobs,
        backups: cx.backups(),
        reports,
        databases: cx.databases()?,
        druid: crate::validate::druid::resolve(ix),
    })
}

struct Cx<'a, 'b> {
    ix: &'a Index<'b>,
    root_dir: PathBuf,
    over: Option<&'b spec::Environment>,
}

impl Cx<'_, '_> {
    /// The id of a file: its path relative to the spec's directory, with `/`.
    pub(super) fn id(&self, path: &Path) -> String {
        let abs = SchemaStore::normalized(path);
        let shown = abs.strip_prefix(&self.root_dir).unwrap_or(&abs);
        shown
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/")
    }

    pub(super) fn topic_defaults(&self) -> [Option<&spec::TopicDefaults>; 2] {
        let base = self
            .ix
            .root
            .and_then(|r| r.spec.defaults.as_ref())
            .and_then(|d| d.topic.as_ref());
        let env = self
            .over
            .and_then(|o| o.defaults.as_ref())
            .and_then(|d| d.topic.as_ref());
        [env, base]
    }

    pub(super) fn stream_defaults(&self) -> [Option<&spec::StreamDefaults>; 2] {
        let base = self
            .ix
            .root
            .and_then(|r| r.spec.defaults.as_ref())
            .and_then(|d| d.stream.as_ref());
        let env = self
            .over
            .and_then(|o| o.defaults.as_ref())
            .and_then(|d| d.stream.as_ref());
        [env, base]
    }

    pub(super) fn clusters(&self) -> BTreeMap<String, Cluster> {
        let mut out = BTreeMap::new();
        for c in &self.ix.clusters.items {
            let sasl = c.def.sasl.as_ref().map(|s| Sasl {
                mechanism: s.mechanism.value.clone(),
                username: s.username.value.clone(),
                password: secret(&s.password),
            });
            let tls = c.def.tls.as_ref().map(|t| Tls {
                ca: t.ca.as_ref().map(|p| self.id(&rel(c.dir, &p.value))),
                ca_secret: t.ca_secret.as_ref().map(secret),
            });
            out.insert(
                c.name.value.clone(),
                Cluster {
                    brokers: c.def.brokers.value.clone(),
                    default: c.def.default,
                    config: strings(&c.def.config),
                    sasl,
                    tls,
                },
            );
        }
        if out.is_empty() && !self.ix.topics.items.is_empty() {
            // A spec without clusters has one, named `default`, whose brokers are given
            // when the pipeline runs (`--brokers`).
            out.insert(
                "default".into(),
                Cluster {
                    brokers: String::new(),
                    default: true,
                    config: BTreeMap::new(),
                    sasl: None,
                    tls: None,
                },
            );
        }
        out
    }

    pub(super) fn topics(&self) -> BTreeMap<String, Topic> {
        let defaults = self.topic_defaults();
        let mut out = BTreeMap::new();
        for t in &self.ix.topics.items {
            let name = t.name.value.as_str();
            let o = self.over.and_then(|o| o.topics.get(name));
            let def = t.def;
            let cluster = def
                .cluster
                .as_ref()
                .map(|c| c.value.clone())
                .or_else(|| {
                    defaults
                        .iter()
                        .flatten()
                        .find_map(|d| d.cluster.as_ref().map(|c| c.value.clone()))
                })
                .or_else(|| crate::validate::topic_cluster(self.ix, def).map(str::to_string))
                .unwrap_or_else(|| "default".into());
            let partitions = first(
                o.and_then(|o| o.partitions.as_ref()),
                def.partitions.as_ref(),
                defaults.iter().flatten().map(|d| d.partitions.as_ref()),
            )
            .unwrap_or(1);
            let replication = first(
                o.and_then(|o| o.replication.as_ref()),
                def.replication.as_ref(),
                defaults.iter().flatten().map(|d| d.replication.as_ref()),
            )
            .unwrap_or(1);
            let mut config = BTreeMap::new();
            for d in defaults.iter().rev().flatten() {
                config.extend(strings(&d.config));
            }
            config.extend(strings(&def.config));
            if let Some(o) = o {
                config.extend(strings(&o.config));
            }
            let retention = o
                .and_then(|o| o.retention.as_ref())
                .or(def.retention.as_ref())
                .or_else(|| defaults.iter().flatten().find_map(|d| d.retention.as_ref()));
            if let Some(ms) = retention.and_then(|r| crate::units::parse_duration(&r.value).ok()) {
                config.insert("retention.ms".into(), ms.to_string());
            }
            out.insert(
                name.to_string(),
                Topic {
                    name: def.name.value.clone(),
                    cluster,
                    partitions,
                    replication,
                    config,
                    key: def.key.as_ref().map(|k| k.value.clone()),
                    external: def.external,
                    events: def
                        .events
                        .as_ref()
                        .map(|e| e.iter().map(|x| x.value.clone()).collect()),
                    description: def.description.as_ref().map(|d| d.value.clone()),
                },
            );
        }
        out
    }

    pub(super) fn stores(&self) -> BTreeMap<String, Store> {
        let mut out = BTreeMap::new();
        for s in &self.ix.stores.items {
            let d = s.def;
            let store = match (&d.redis, &d.memory) {
                (Some(url), _) => Store::Redis(RedisStore {
                    url: url.value.clone(),
                    db: d.db.as_ref().map_or(0, |v| v.value),
                    format: d.format.as_ref().map(|f| f.value),
                    password: d.password.as_ref().map(secret),
                }),
                (None, m) => {
                    let m = m.clone().unwrap_or_default();
                    Store::Memory(MemoryStore {
                        max_keys: m.max_keys.map(|v| v.value),
                        ttl_ms: m
                            .ttl
                            .and_then(|t| crate::units::parse_duration(&t.value).ok()),
                        snapshot: m.snapshot.map(|p| self.id(&rel(s.dir, &p.value))),
                        load: m.load.map(|p| self.id(&rel(s.dir, &p.value))),
                        key: m.key.map(|k| k.value),
                    })
                }
            };
            out.insert(s.name.value.clone(), store);
        }
        out
    }

    pub(super) fn event_types(&self, schemas: &mut SchemaLoader) -> BTreeMap<String, EventType> {
        let mut out = BTreeMap::new();
        let (events, dir) = match self.ix.events {
            Some((e, d)) => (Some(e), d),
            None => (None, Path::new("")),
        };
        let default_compat = events
            .and_then(|e| e.compatibility.as_ref())
            .map_or(Compatibility::Backward, |c| c.value);
        let schema_dir = events
            .and_then(|e| e.schemas.as_ref())
            .map(|s| rel(dir, &s.value));
        for t in &self.ix.types {
            let explicit = t.def.and_then(|d| d.schema.as_ref());
            let path = match explicit {
                Some(s) if s.value == "none" => None,
                Some(s) => Some(rel(dir, &s.value)),
                None => schema_dir
                    .as_ref()
                    .map(|d| d.join(format!("{}.json", t.name.value.to_lowercase()))),
            };
            let schema = path.map(|p| schemas.load(self, &p));
            out.insert(
                t.name.value.clone(),
                EventType {
                    schema,
                    compatibility: t
                        .def
                        .and_then(|d| d.compatibility.as_ref())
                        .map_or(default_compat, |c| c.value),
                    description: t
                        .def
                        .and_then(|d| d.description.as_ref())
                        .map(|d| d.value.clone()),
                },
            );
        }
        out
    }
}

pub(super) fn first<'a>(
    env: Option<&Spanned<u32>>,
    own: Option<&Spanned<u32>>,
    defaults: impl Iterator<Item = Option<&'a Spanned<u32>>>,
) -> Option<u32> {
    env.or(own)
        .map(|v| v.value)
        .or_else(|| defaults.flatten().next().map(|v| v.value))
}

pub(super) fn text(t: &Option<Spanned<String>>) -> Option<String> {
    t.as_ref().map(|t| t.value.clone())
}

pub(super) fn names(t: &spec::OneOrMany<Spanned<String>>) -> Vec<String> {
    t.iter().map(|x| x.value.clone()).collect()
}

pub(super) fn exprs(m: &OrderedMap<Spanned<String>>) -> Ordered<String> {
    Ordered(
        m.iter()
            .map(|(k, v)| (k.value.clone(), v.value.clone()))
            .collect(),
    )
}

pub(super) fn values(m: &OrderedMap<Spanned<Value>>) -> Ordered<Value> {
    Ordered(
        m.iter()
            .map(|(k, v)| (k.value.clone(), v.value.clone()))
            .collect(),
    )
}

/// Config values as Kafka and librdkafka take them: strings.
pub(super) fn strings(m: &OrderedMap<Spanned<Value>>) -> BTreeMap<String, String> {
    m.iter()
        .map(|(k, v)| {
            let s = match &v.value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.value.clone(), s)
        })
        .collect()
}

pub(super) fn secret(s: &spec::SecretRef) -> SecretRef {
    SecretRef {
        secret: s.secret.value.clone(),
        key: s.key.value.clone(),
        env: s.env.as_ref().map_or_else(
            || default_secret_env(&s.secret.value, &s.key.value),
            |e| e.value.clone(),
        ),
    }
}

/// `PIPEC_SECRET_<SECRET>_<KEY>`, upper case, other characters as `_`.
pub fn default_secret_env(secret: &str, key: &str) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect()
    };
    format!("PIPEC_SECRET_{}_{}", clean(secret), clean(key))
}

/// sha256 of bytes, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
