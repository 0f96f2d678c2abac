//! Lowering: a validated spec becomes a [`Manifest`]. Defaults and the chosen
//! environment's overrides are applied here, references are resolved, durations and sizes
//! converted, and schema and SQL files read and digested.
//!
//! Lowering runs only on a spec that checked without errors, so values that the checks
//! parse (durations, sizes) parse here too; where one still does not, lowering says so
//! rather than guessing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::*;
use crate::schema::{RefMap, SchemaStore};
use crate::spec::{self, OrderedMap, ScalarOr, Spanned};
use crate::validate::Index;
use crate::validate::index::rel;
use crate::validate::schemas::parse_draft;

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
    })
}

struct Cx<'a, 'b> {
    ix: &'a Index<'b>,
    root_dir: PathBuf,
    over: Option<&'b spec::Environment>,
}

impl Cx<'_, '_> {
    /// The id of a file: its path relative to the spec's directory, with `/`.
    fn id(&self, path: &Path) -> String {
        let abs = SchemaStore::normalized(path);
        let shown = abs.strip_prefix(&self.root_dir).unwrap_or(&abs);
        shown
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/")
    }

    fn topic_defaults(&self) -> [Option<&spec::TopicDefaults>; 2] {
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

    fn stream_defaults(&self) -> [Option<&spec::StreamDefaults>; 2] {
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

    fn clusters(&self) -> BTreeMap<String, Cluster> {
        let mut out = BTreeMap::new();
        for c in &self.ix.clusters.items {
            let sasl = c.def.sasl.as_ref().map(|s| Sasl {
                mechanism: s.mechanism.value.clone(),
                username: s.username.value.clone(),
                password: secret(&s.password),
            });
            out.insert(
                c.name.value.clone(),
                Cluster {
                    brokers: c.def.brokers.value.clone(),
                    default: c.def.default,
                    config: strings(&c.def.config),
                    sasl,
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
                },
            );
        }
        out
    }

    fn topics(&self) -> BTreeMap<String, Topic> {
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

    fn stores(&self) -> BTreeMap<String, Store> {
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

    fn event_types(&self, schemas: &mut SchemaLoader) -> BTreeMap<String, EventType> {
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

    fn job(
        &self,
        group_prefix: &str,
        name: &Spanned<String>,
        def: &spec::Stream,
        dir: &Path,
        schemas: &mut SchemaLoader,
    ) -> Result<Job, String> {
        let o = self.over.and_then(|o| o.streams.get(&name.value));
        let defaults = self.stream_defaults();
        let replicas = first(
            o.and_then(|o| o.replicas.as_ref()),
            def.replicas.as_ref(),
            defaults.iter().flatten().map(|d| d.replicas.as_ref()),
        )
        .unwrap_or(1);
        let res = [
            o.and_then(|o| o.resources.as_ref()),
            def.resources.as_ref(),
            defaults[0].and_then(|d| d.resources.as_ref()),
            defaults[1].and_then(|d| d.resources.as_ref()),
        ];
        let resources = Resources {
            cpu: res
                .iter()
                .flatten()
                .find_map(|r| r.cpu.as_ref().map(|c| c.value.clone())),
            memory: res
                .iter()
                .flatten()
                .find_map(|r| r.memory.as_ref().map(|c| c.value.clone())),
        };
        let mut steps = Vec::new();
        for s in def.steps.iter() {
            steps.push(self.step(&name.value, &s.value, dir, schemas)?);
        }
        let mut outputs: Vec<String> = steps
            .iter()
            .flat_map(|s| s.outputs())
            .map(str::to_string)
            .collect();
        outputs.sort();
        outputs.dedup();
        let mut stores: Vec<String> = steps
            .iter()
            .filter_map(|s| s.store())
            .map(str::to_string)
            .collect();
        stores.sort();
        stores.dedup();
        Ok(Job {
            description: def.description.as_ref().map(|d| d.value.clone()),
            from: def.from.value.clone(),
            consumer_group: format!("{group_prefix}.{}", name.value),
            replicas,
            resources,
            outputs,
            stores,
            steps,
        })
    }

    fn step(
        &self,
        job: &str,
        step: &spec::Step,
        dir: &Path,
        schemas: &mut SchemaLoader,
    ) -> Result<Step, String> {
        use spec::Step as S;
        let bad = |what: &str, v: &str| format!("stream `{job}`: {what} `{v}` does not parse");
        let dur = |t: &Spanned<String>| {
            crate::units::parse_duration(&t.value).map_err(|_| bad("duration", &t.value))
        };
        Ok(match step {
            S::Unbatch(u) => Step::Unbatch(Unbatch {
                field: u
                    .field
                    .as_ref()
                    .map_or_else(|| "events".into(), |f| f.value.clone()),
                carry: exprs(&u.carry),
                invalid: text(&u.invalid),
                max_event_size: match &u.max_event_size {
                    Some(s) => Some(
                        crate::units::parse_size(&s.value).map_err(|_| bad("size", &s.value))?,
                    ),
                    None => None,
                },
                oversized: text(&u.oversized),
                oversized_flags: values(&u.oversized_flags),
                summary: u.summary.as_ref().map(|b| BatchSummary {
                    to: b.to.value.clone(),
                    event: b
                        .event
                        .as_ref()
                        .map_or_else(|| Value::Object(Default::default()), |e| e.value.clone()),
                    set: exprs(&b.set),
                }),
            }),
            S::Validate(v) => {
                let schema_dir = v.schemas.as_ref().map(|d| rel(dir, &d.value));
                let mut default = None;
                if let Some(d) = &schema_dir {
                    for t in &self.ix.types {
                        let p = d.join(format!("{}.json", t.name.value.to_lowercase()));
                        if p.is_file() {
                            schemas.load(self, &p);
                        }
                    }
                    if let Some(f) = &v.default {
                        default = Some(schemas.load(self, &d.join(&f.value)));
                    }
                }
                Step::Validate(Validate {
                    when: text(&v.when),
                    schema_dir: schema_dir.map(|d| format!("{}/", self.id(&d))),
                    default,
                    invalid: v.invalid.value.clone(),
                    flags: values(&v.flags),
                    valid_flags: values(&v.valid_flags),
                })
            }
            S::Dedup(d) => Step::Dedup(Dedup {
                when: text(&d.when),
                key: d.key.value.clone(),
                store: d.store.value.clone(),
                ttl_ms: dur(&d.ttl)?,
                duplicates: text(&d.duplicates),
                flags: values(&d.flags),
            }),
            S::Set(m) => Step::Set(Set { fields: exprs(m) }),
            S::Flag(m) => Step::Flag(Flag { fields: values(m) }),
            S::Filter(ScalarOr::Scalar(w)) => Step::Filter(Filter {
                when: w.value.clone(),
                otherwise: None,
                flags: Ordered::default(),
            }),
            S::Filter(ScalarOr::Full(f)) => Step::Filter(Filter {
                when: f.when.value.clone(),
                otherwise: text(&f.otherwise),
                flags: values(&f.flags),
            }),
            S::Route(rules) => Step::Route(Route {
                rules: rules
                    .iter()
                    .map(|r| {
                        let r = &r.value;
                        let to = r.to.as_ref().or(r.otherwise.as_ref());
                        RouteRule {
                            when: if r.otherwise.is_some() {
                                None
                            } else {
                                text(&r.when)
                            },
                            to: to.map_or_else(Vec::new, names),
                            set: exprs(&r.set),
                            continue_: r.continue_,
                        }
                    })
                    .collect(),
            }),
            S::Explode(e) => Step::Explode(Explode {
                when: text(&e.when),
                items: e.items.value.clone(),
                as_type: text(&e.as_type),
                set: exprs(&e.set),
                to: names(&e.to),
                keep: e.keep.unwrap_or(true),
            }),
            S::Enrich(e) => Step::Enrich(Enrich {
                when: text(&e.when),
                store: e.store.value.clone(),
                key: e.key.value.clone(),
                into: e.into.value.clone(),
                flag: text(&e.flag),
                fields: e.fields.iter().map(|f| f.value.clone()).collect(),
            }),
            S::Window(w) => {
                let window = if let Some(t) = &w.tumbling {
                    WindowKind::Tumbling { size_ms: dur(t)? }
                } else if let Some(s) = &w.sliding {
                    WindowKind::Sliding {
                        size_ms: dur(&s.size)?,
                        every_ms: dur(&s.every)?,
                    }
                } else if let Some(s) = &w.session {
                    WindowKind::Session {
                        gap_ms: dur(&s.gap)?,
                        max_ms: match &s.max {
                            Some(m) => Some(dur(m)?),
                            None => None,
                        },
                    }
                } else {
                    return Err(format!("stream `{job}`: a window without a kind"));
                };
                Step::Window(Window {
                    window,
                    key: w.key.iter().map(|k| k.value.clone()).collect(),
                    time: w
                        .time
                        .as_ref()
                        .map_or_else(|| "ets".into(), |t| t.value.clone()),
                    lateness_ms: match &w.lateness {
                        Some(l) => dur(l)?,
                        None => 0,
                    },
                    late: text(&w.late),
                })
            }
            S::Aggregate(a) => Step::Aggregate(Aggregate {
                fields: exprs(&a.fields),
                as_type: text(&a.as_type),
            }),
            S::Emit(t) => Step::Emit(Emit { to: names(t) }),
        })
    }

    fn backups(&self) -> BTreeMap<String, Backup> {
        self.ix
            .backups
            .items
            .iter()
            .map(|b| {
                (
                    b.name.value.clone(),
                    Backup {
                        topic: b.def.topic.value.clone(),
                        path: b.def.path.value.clone(),
                        format: b
                            .def
                            .format
                            .as_ref()
                            .map_or(FileFormat::Ndjson, |f| f.value),
                        partition: b
                            .def
                            .partition
                            .as_ref()
                            .map_or(BackupPartition::Daily, |p| p.value),
                    },
                )
            })
            .collect()
    }

    fn report(
        &self,
        name: &Spanned<String>,
        def: &spec::Report,
        dir: &Path,
    ) -> Result<Report, String> {
        let o = self.over.and_then(|o| o.reports.get(&name.value));
        let sql = match &def.sql {
            Some(p) => {
                let path = rel(dir, &p.value);
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
                Some(SqlFile {
                    path: self.id(&path),
                    sha256: sha256_hex(text.as_bytes()),
                    text,
                })
            }
            None => None,
        };
        Ok(Report {
            description: def.description.as_ref().map(|d| d.value.clone()),
            schedule: o
                .and_then(|o| o.schedule.as_ref())
                .unwrap_or(&def.schedule)
                .value
                .clone(),
            model: text(&def.model),
            sql,
            params: values(&def.params),
            inputs: Ordered(
                def.inputs
                    .iter()
                    .map(|(k, i)| {
                        (
                            k.value.clone(),
                            ReportInput {
                                backup: text(&i.backup),
                                path: text(&i.path),
                                format: i.format.as_ref().map(|f| f.value),
                                date: text(&i.date),
                            },
                        )
                    })
                    .collect(),
            ),
            outputs: Ordered(
                def.outputs
                    .iter()
                    .map(|(k, o)| {
                        (
                            k.value.clone(),
                            ReportOutput {
                                topic: text(&o.topic),
                                path: text(&o.path),
                                format: o.format.as_ref().map(|f| f.value),
                                partition_by: text(&o.partition_by),
                            },
                        )
                    })
                    .collect(),
            ),
        })
    }
}

/// Loads schema files (and every file their `$ref`s reach) once each.
struct SchemaLoader {
    store: SchemaStore,
    draft_name: String,
    refs: Vec<(String, PathBuf)>,
}

impl SchemaLoader {
    fn new(cx: &Cx<'_, '_>) -> Self {
        let (events, dir) = match cx.ix.events {
            Some((e, d)) => (Some(e), d),
            None => (None, Path::new("")),
        };
        let draft_text = events
            .and_then(|e| e.draft.as_ref())
            .map_or_else(|| "4".to_string(), |d| d.value.clone());
        let draft = parse_draft(&draft_text).unwrap_or(crate::schema::Draft::Draft4);
        let refs: Vec<(String, PathBuf)> = events
            .map(|e| {
                e.refs
                    .iter()
                    .map(|(prefix, target)| (prefix.value.clone(), rel(dir, &target.value)))
                    .collect()
            })
            .unwrap_or_default();
        SchemaLoader {
            store: SchemaStore::new(RefMap::new(refs.clone()), draft),
            draft_name: draft_text,
            refs,
        }
    }

    /// Loads a schema and returns its id.
    fn load(&mut self, cx: &Cx<'_, '_>, path: &Path) -> String {
        // Problems were reported by the checks; a schema that loads is embedded with
        // every file it reaches.
        let _ = self.store.load(path);
        cx.id(path)
    }

    fn ref_ids(&self, cx: &Cx<'_, '_>) -> BTreeMap<String, String> {
        self.refs
            .iter()
            .map(|(prefix, dir)| (prefix.clone(), format!("{}/", cx.id(dir))))
            .collect()
    }

    fn finish(self, cx: &Cx<'_, '_>) -> BTreeMap<String, Schema> {
        self.store
            .read_files()
            .map(|(path, text, doc)| {
                (
                    cx.id(path),
                    Schema {
                        sha256: sha256_hex(text.as_bytes()),
                        document: doc.clone(),
                    },
                )
            })
            .collect()
    }
}

/// The first value set: the environment's, the definition's, then the defaults'.
fn first<'a>(
    env: Option<&Spanned<u32>>,
    own: Option<&Spanned<u32>>,
    defaults: impl Iterator<Item = Option<&'a Spanned<u32>>>,
) -> Option<u32> {
    env.or(own)
        .map(|v| v.value)
        .or_else(|| defaults.flatten().next().map(|v| v.value))
}

fn text(t: &Option<Spanned<String>>) -> Option<String> {
    t.as_ref().map(|t| t.value.clone())
}

fn names(t: &spec::OneOrMany<Spanned<String>>) -> Vec<String> {
    t.iter().map(|x| x.value.clone()).collect()
}

fn exprs(m: &OrderedMap<Spanned<String>>) -> Ordered<String> {
    Ordered(
        m.iter()
            .map(|(k, v)| (k.value.clone(), v.value.clone()))
            .collect(),
    )
}

fn values(m: &OrderedMap<Spanned<Value>>) -> Ordered<Value> {
    Ordered(
        m.iter()
            .map(|(k, v)| (k.value.clone(), v.value.clone()))
            .collect(),
    )
}

/// Config values as Kafka and librdkafka take them: strings.
fn strings(m: &OrderedMap<Spanned<Value>>) -> BTreeMap<String, String> {
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

fn secret(s: &spec::SecretRef) -> SecretRef {
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
