//! Druid datasources: the `druid:` section is checked here, and resolved into the
//! manifest's [`DruidDatasource`]s by the same code, so that what `pipec check` accepts is
//! exactly what `pipec compile` writes.
//!
//! A datasource reads one topic. Its dimensions are listed, or derived (`auto`) from the
//! JSON Schemas of the event types that reach the topic and the fields streams set on the
//! way; a listed dimension is looked up the same way, and one that no event on the topic
//! can carry is reported (PC1001) with the closest name the schemas have.

mod derive;
mod lookup;
pub(crate) mod paths;

use std::collections::{BTreeMap, HashMap};

use super::Index;
use super::index::Item;
use super::resolve::{Added, Resolver, Types};
use super::schemas::Shapes;
use crate::diagnostics::{Diagnostics, catalog};
use crate::expr::Ty;
use crate::manifest::{DruidDatasource, DruidDimension, DruidMetric, DruidTimestamp, Ordered};
use crate::schema::Shape;
use crate::source::Span;
use crate::spec::druid::{Datasource, DimensionItem, GranularityName, MetricType};
use crate::spec::{ScalarOr, Spanned};
use lookup::Lookup;
use paths::Seg;

/// Per topic: the event types that reach it and the fields set upstream.
type Contents = BTreeMap<String, (Types, Added)>;

/// Checks every datasource.
pub(super) fn check(ix: &Index<'_>, shapes: &Shapes, diags: &mut Diagnostics) {
    if ix.datasources.items.is_empty() {
        return;
    }
    let contents = super::exprs::topic_contents(ix, shapes);
    for ds in &ix.datasources.items {
        datasource(ix, shapes, &contents, ds, diags);
    }
}

/// The datasources of a checked spec, for the manifest. Loads the event schemas again
/// (only when there are datasources).
pub fn resolve(ix: &Index<'_>) -> BTreeMap<String, DruidDatasource> {
    if ix.datasources.items.is_empty() {
        return BTreeMap::new();
    }
    let mut scratch = Diagnostics::default();
    let schemas = super::schemas::check(ix, &mut scratch, &mut Vec::new());
    let contents = super::exprs::topic_contents(ix, &schemas.shapes);
    ix.datasources
        .items
        .iter()
        .filter_map(|ds| {
            let d = datasource(ix, &schemas.shapes, &contents, ds, &mut scratch)?;
            Some((ds.name.value.clone(), d))
        })
        .collect()
}

/// Parses a field path, reporting PC0009 at the bad part.
fn parse_path(ix: &Index<'_>, text: &Spanned<String>, diags: &mut Diagnostics) -> Option<Vec<Seg>> {
    match paths::parse(&text.value) {
        Ok(segs) => Some(segs),
        Err(e) => {
            diags.push(
                catalog::invalid_value(format!("invalid field path `{}`", text.value))
                    .at(super::sub_span(ix.sources, text, e.range), e.message)
                    .help("write member names separated by `.`, and `[*]` for every element of a list: `context.cdata[*].id`"),
            );
            None
        }
    }
}

/// Column names of a datasource, each with where it is named.
#[derive(Default)]
struct Columns {
    seen: HashMap<String, Span>,
    order: Vec<String>,
}

impl Columns {
    fn add(&mut self, name: &str, span: Span, diags: &mut Diagnostics) -> bool {
        if let Some(first) = self.seen.get(name) {
            diags.push(catalog::druid_duplicate_column(name, span, *first));
            return false;
        }
        self.seen.insert(name.to_string(), span);
        self.order.push(name.to_string());
        true
    }
}

fn datasource(
    ix: &Index<'_>,
    shapes: &Shapes,
    contents: &Contents,
    ds: &Item<'_, Datasource>,
    diags: &mut Diagnostics,
) -> Option<DruidDatasource> {
    let def = ds.def;
    let name = ds.name;
    let name_ok = name.value.len() <= 200
        && name
            .value
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !name_ok {
        diags.push(
            catalog::invalid_value(format!("invalid Druid datasource name `{}`", name.value))
                .at(name.span, "also the name of the file `druid/<name>.json`")
                .help("use letters, digits, `.`, `_` and `-`, starting with a letter or digit"),
        );
    }
    let topic = ix.topics.resolve("PC0102", &def.topic, diags);
    let (types, added) = match topic.and_then(|t| contents.get(&t.name.value)) {
        Some((t, a)) => (t.clone(), a.clone()),
        None => (Types::Untyped, Added::new()),
    };
    let lookup = Lookup {
        topic: &def.topic.value,
        resolver: topic.map(|_| Resolver {
            types: &types,
            shapes,
            added: &added,
            free_roots: &[],
        }),
    };
    let mut columns = Columns::default();

    // The time column.
    let (ts_text, format) = match &def.timestamp {
        ScalarOr::Scalar(t) => (t, "auto".to_string()),
        ScalarOr::Full(t) => (
            &t.column,
            t.format.as_ref().map_or("auto".into(), |f| f.value.clone()),
        ),
    };
    let timestamp = parse_path(ix, ts_text, diags).map(|segs| {
        lookup.field(ix, ts_text, &segs, diags);
        if paths::is_multi(&segs) {
            diags.push(
                catalog::invalid_value(
                    "the time column cannot take every element of a list".into(),
                )
                .at(ts_text.span, "one value per event is needed")
                .help("name a single field, such as `ets` or `syncts`"),
            );
        }
        DruidTimestamp {
            column: paths::column_name(&segs),
            path: paths::render(&segs),
            format,
        }
    });

    // Dimensions.
    let dimensions = match &def.dimensions {
        None => auto(ix, def, &types, &added, shapes, name.span, diags),
        Some(ScalarOr::Scalar(t)) if t.value == "auto" => {
            auto(ix, def, &types, &added, shapes, t.span, diags)
        }
        Some(ScalarOr::Scalar(t)) => {
            diags.push(
                catalog::invalid_value(format!("`dimensions: {}` is not known", t.value))
                    .at(t.span, "expected `auto` or a list")
                    .help("write `auto`, or list the dimensions: `[eid, actor.id, ...]`"),
            );
            Vec::new()
        }
        Some(ScalarOr::Full(list)) => {
            if let Some(first) = def.exclude.first() {
                diags.push(catalog::conflicting(
                    "`exclude` applies to `dimensions: auto` only".into(),
                    first.span,
                    "the dimensions are listed",
                    "remove `exclude`, or leave out the excluded fields from the list",
                ));
            }
            list.iter()
                .filter_map(|d| listed(ix, &lookup, d, diags))
                .collect()
        }
    };
    let mut dims = Vec::new();
    for (d, span) in dimensions {
        if columns.add(&d.name, span, diags) {
            dims.push(d);
        }
    }
    if let Some(ts) = &timestamp
        && !columns.seen.contains_key(&ts.column)
    {
        columns.add(&ts.column, ts_text.span, diags);
    }

    // Metrics.
    let mut metrics = Vec::new();
    let readable: Vec<String> = columns.order.clone();
    for m in &def.metrics {
        let ty = m.value.ty.value;
        let field = match (&m.value.field, ty) {
            (Some(f), MetricType::Count) => {
                diags.push(
                    catalog::invalid_value("a `count` metric reads no field".into())
                        .at(f.span, "not used")
                        .help("remove `field`, or use a sum such as `longSum`"),
                );
                None
            }
            (None, MetricType::Count) => None,
            (None, _) => {
                diags.push(
                    catalog::missing_key("field").at(m.span, "this metric aggregates nothing"),
                );
                None
            }
            (Some(f), _) => {
                if !readable.contains(&f.value) {
                    diags.push(catalog::druid_unknown_column(
                        &f.value,
                        f.span,
                        readable.iter().map(String::as_str),
                    ));
                }
                Some(f.value.clone())
            }
        };
        columns.add(&m.value.name.value, m.value.name.span, diags);
        metrics.push(DruidMetric {
            name: m.value.name.value.clone(),
            ty: enum_name(&ty),
            field,
        });
    }

    // Granularity.
    let g = def.granularity.as_ref();
    let gran = |v: Option<&Spanned<GranularityName>>, default: GranularityName| {
        enum_name(&v.map_or(default, |s| s.value))
    };
    let segment_granularity = gran(g.and_then(|g| g.segment.as_ref()), GranularityName::Day);
    let query_granularity = gran(g.and_then(|g| g.query.as_ref()), GranularityName::None);
    let rollup = g.and_then(|g| g.rollup.as_ref()).is_none_or(|r| r.value);

    // Supervisor settings.
    let io = def.io.clone().unwrap_or_default();
    super::positive("`tasks`", io.tasks.as_ref(), diags);
    super::positive("`replicas`", io.replicas.as_ref(), diags);
    let task_duration_ms = match &io.task_duration {
        Some(t) => {
            let ms = super::duration(t, diags).unwrap_or(3_600_000);
            if ms == 0 || !ms.is_multiple_of(1000) {
                diags.push(
                    catalog::invalid_value(format!("task duration `{}`", t.value))
                        .at(t.span, "Druid takes whole seconds, at least one")
                        .help("write a duration such as `1h` or `90s`"),
                );
            }
            ms
        }
        None => 3_600_000,
    };
    let mut consumer = Vec::new();
    for (k, v) in io.consumer.iter() {
        if k.value == "bootstrap.servers" {
            diags.push(catalog::conflicting(
                "`bootstrap.servers` comes from the topic's cluster".into(),
                k.span,
                "set here too",
                "remove it; the cluster's `brokers` are used",
            ));
            continue;
        }
        consumer.push((k.value.clone(), v.value.clone()));
    }
    // Druid's consumer needs the cluster's security settings, which hold secrets that the
    // spec keeps in Kubernetes: say so rather than write a spec that cannot connect.
    let secured = topic
        .and_then(|t| super::topic_cluster(ix, t.def))
        .and_then(|c| ix.clusters.get(c))
        .is_some_and(|c| c.def.sasl.is_some() || c.def.tls.is_some());
    if secured && io.consumer.get("security.protocol").is_none() {
        diags.push(
            catalog::druid_unsecured_consumer(&def.topic.value)
                .at(def.topic.span, "on a secured cluster"),
        );
    }
    let mut tuning = Vec::new();
    for (k, v) in def.tuning.iter() {
        if k.value == "type" {
            diags.push(catalog::conflicting(
                "the tuning `type` of a Kafka supervisor is `kafka`".into(),
                k.span,
                "set here",
                "remove it; pipec writes `type: kafka`",
            ));
            continue;
        }
        tuning.push((k.value.clone(), v.value.clone()));
    }

    Some(DruidDatasource {
        topic: topic?.name.value.clone(),
        timestamp: timestamp?,
        segment_granularity,
        query_granularity,
        rollup,
        dimensions: dims,
        metrics,
        task_count: io.tasks.map_or(1, |t| t.value),
        replicas: io.replicas.map_or(1, |t| t.value),
        task_duration_ms,
        use_earliest_offset: io.earliest_offset.is_some_and(|e| e.value),
        consumer: Ordered(consumer),
        tuning: Ordered(tuning),
    })
}

/// A listed dimension, resolved, with where it is named.
fn listed(
    ix: &Index<'_>,
    lookup: &Lookup<'_>,
    item: &DimensionItem,
    diags: &mut Diagnostics,
) -> Option<(DruidDimension, Span)> {
    let (name, path, ty) = match &item.value {
        ScalarOr::Scalar(p) => (None, p, None),
        ScalarOr::Full(d) => match (&d.name, &d.path) {
            (n, Some(p)) => (n.as_ref(), p, d.ty.as_ref()),
            (Some(n), None) => (Some(n), n, d.ty.as_ref()),
            (None, None) => {
                diags.push(
                    catalog::missing_key("path").at(item.span, "which field is this dimension?"),
                );
                return None;
            }
        },
    };
    let segs = parse_path(ix, path, diags)?;
    let found = lookup.field(ix, path, &segs, diags);
    let ty = match ty {
        Some(t) => Some(enum_name(&t.value)),
        // A list (`tags`, or `[*]` in the path) is a multi-value dimension: Druid reads
        // it as strings, written without a type.
        None if paths::is_multi(&segs) || is_list(found) => None,
        None => Some(derive::druid_type(found).to_string()),
    };
    let (name, span) = match name {
        Some(n) => (n.value.clone(), n.span),
        None => (paths::column_name(&segs), path.span),
    };
    Some((
        DruidDimension {
            name,
            path: paths::render(&segs),
            ty,
        },
        span,
    ))
}

/// The dimensions derived from the schemas of the types reaching the topic and the fields
/// set upstream, less `exclude`.
fn auto(
    ix: &Index<'_>,
    def: &Datasource,
    types: &Types,
    added: &Added,
    shapes: &Shapes,
    at: Span,
    diags: &mut Diagnostics,
) -> Vec<(DruidDimension, Span)> {
    let excluded: Vec<Vec<Seg>> = def
        .exclude
        .iter()
        .filter_map(|e| parse_path(ix, e, diags))
        .collect();
    let mut shape: Option<Shape> = None;
    if let Types::Set(names) = types {
        for t in names {
            if let Some(Some(s)) = shapes.by_type.get(t) {
                shape = Some(match shape {
                    Some(acc) => Shape::merge(&acc, s),
                    None => s.clone(),
                });
            }
        }
    }
    let mut shape = shape.unwrap_or_else(|| {
        let mut s = Shape::of(Ty::OBJECT);
        s.free = false;
        s
    });
    for (path, ty) in added {
        let names: Vec<&str> = path.iter().map(String::as_str).collect();
        shape.with_field(&names, *ty);
    }
    let mut out = Vec::new();
    let mut names: HashMap<String, String> = HashMap::new();
    for leaf in derive::leaves(&shape) {
        if excluded.iter().any(|e| paths::under(&leaf.path, e)) {
            continue;
        }
        let name = paths::column_name(&leaf.path);
        let path = paths::render(&leaf.path);
        if let Some(first) = names.get(&name) {
            diags.push(
                catalog::druid_derived_name_clash(&path, first, &name).at(at, "derived dimensions"),
            );
            continue;
        }
        names.insert(name.clone(), path.clone());
        let ty = if paths::is_multi(&leaf.path) {
            None
        } else {
            Some(derive::druid_type(leaf.ty).to_string())
        };
        out.push((DruidDimension { name, path, ty }, at));
    }
    out
}

/// Whether every value of JSON types `ty` (other than null) is a list.
fn is_list(ty: Ty) -> bool {
    let t = ty.without(Ty::NULL);
    !t.is_never() && Ty::LIST.contains(t)
}

/// The name serde gives a unit variant (`longSum`, `five_minute`).
fn enum_name<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests;
