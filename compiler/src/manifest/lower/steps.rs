//! Lowering a stream: its consumer group, resources and steps.

use std::path::Path;

use serde_json::Value;

use super::super::*;
use super::*;
use crate::spec::{self, ScalarOr, Spanned};

impl Cx<'_, '_> {
    pub(super) fn job(
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

    pub(super) fn step(
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
                missing_is_empty: u.missing.as_ref().is_some_and(|m| m.value == "empty"),
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
}
