//! The pipeline as a graph: topics, jobs, backups and reports as nodes; what each reads
//! and writes as edges. Rendered as Mermaid and as DOT by templates.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::{CodegenError, Templates};
use crate::manifest::{Manifest, Step};

/// The graph formats `pipec graph` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphFormat {
    /// Mermaid `flowchart` (renders in GitHub and GitLab Markdown).
    Mermaid,
    /// Graphviz DOT.
    Dot,
}

/// Renders the graph of a manifest in one format.
pub fn render_graph(
    m: &Manifest,
    format: GraphFormat,
    templates: &Templates,
) -> Result<String, CodegenError> {
    let env = templates.env()?;
    let ctx = context(m, &super::context::base(m));
    let name = match format {
        GraphFormat::Mermaid => "graph/pipeline.mmd.j2",
        GraphFormat::Dot => "graph/pipeline.dot.j2",
    };
    templates.render(&env, name, &ctx, &crate::plain::to_template_value(m))
}

/// `nodes` (each `id`, `kind`: topic/job/backup/report, `label`, `detail`, `external`)
/// and `edges` (each `from`, `to`, `label`, `side`: whether the edge carries rejected
/// events — invalid, duplicate, oversized, late or filtered out).
pub fn context(m: &Manifest, base: &Value) -> Value {
    let mut ids = Ids::default();
    let mut nodes = Vec::new();
    for (name, t) in &m.topics {
        nodes.push(json!({
            "id": ids.get("topic", name),
            "kind": "topic",
            "label": t.name,
            "detail": format!("{} partitions", t.partitions),
            "external": t.external,
        }));
    }
    for (name, j) in &m.jobs {
        nodes.push(json!({
            "id": ids.get("job", name),
            "kind": "job",
            "label": name,
            "detail": format!("{} × {}", j.replicas, j.steps.iter().map(Step::kind).collect::<Vec<_>>().join(" → ")),
            "external": false,
        }));
    }
    for name in m.backups.keys() {
        nodes.push(json!({
            "id": ids.get("backup", name),
            "kind": "backup",
            "label": format!("backup {name}"),
            "detail": m.backups[name].path,
            "external": false,
        }));
    }
    for (name, r) in &m.reports {
        nodes.push(json!({
            "id": ids.get("report", name),
            "kind": "report",
            "label": format!("report {name}"),
            "detail": r.schedule,
            "external": false,
        }));
    }

    // (from, to) → (labels, side)
    let mut edges: BTreeMap<(String, String), (BTreeSet<String>, bool)> = BTreeMap::new();
    let mut add = |from: String, to: String, label: &str, side: bool| {
        let e = edges.entry((from, to)).or_insert((BTreeSet::new(), true));
        if !label.is_empty() {
            e.0.insert(label.to_string());
        }
        // An edge that carries any accepted events is drawn as a main edge.
        e.1 &= side;
    };
    for (name, j) in &m.jobs {
        let job = ids.get("job", name);
        add(ids.get("topic", &j.from), job.clone(), "", false);
        for s in &j.steps {
            let outs: Vec<(&str, &str, bool)> = match s {
                Step::Unbatch(u) => {
                    let mut v = Vec::new();
                    if let Some(t) = &u.invalid {
                        v.push((t.as_str(), "invalid", true));
                    }
                    if let Some(t) = &u.oversized {
                        v.push((t.as_str(), "oversized", true));
                    }
                    if let Some(b) = &u.summary {
                        v.push((b.to.as_str(), "", false));
                    }
                    v
                }
                Step::Validate(v) => vec![(v.invalid.as_str(), "invalid", true)],
                Step::Dedup(d) => d
                    .duplicates
                    .iter()
                    .map(|t| (t.as_str(), "duplicate", true))
                    .collect(),
                Step::Filter(f) => f
                    .otherwise
                    .iter()
                    .map(|t| (t.as_str(), "filtered", true))
                    .collect(),
                Step::Window(w) => w.late.iter().map(|t| (t.as_str(), "late", true)).collect(),
                Step::Explode(e) => {
                    e.to.iter()
                        .map(|t| (t.as_str(), "explode", false))
                        .collect()
                }
                Step::Route(_) | Step::Emit(_) => {
                    s.outputs().into_iter().map(|t| (t, "", false)).collect()
                }
                Step::Set(_) | Step::Flag(_) | Step::Enrich(_) | Step::Aggregate(_) => Vec::new(),
            };
            for (t, label, side) in outs {
                add(job.clone(), ids.get("topic", t), label, side);
            }
        }
    }
    for (name, b) in &m.backups {
        add(
            ids.get("topic", &b.topic),
            ids.get("backup", name),
            "",
            false,
        );
    }
    for (name, r) in &m.reports {
        let report = ids.get("report", name);
        for (_, i) in r.inputs.iter() {
            if let Some(b) = &i.backup {
                add(ids.get("backup", b), report.clone(), "", false);
            }
        }
        for (_, o) in r.outputs.iter() {
            if let Some(t) = &o.topic {
                add(report.clone(), ids.get("topic", t), "", false);
            }
        }
    }
    let edges: Vec<Value> = edges
        .into_iter()
        .map(|((from, to), (labels, side))| {
            json!({
                "from": from,
                "to": to,
                "label": labels.into_iter().collect::<Vec<_>>().join(", "),
                "side": side,
            })
        })
        .collect();
    let mut v = base.clone();
    if let Some(o) = v.as_object_mut() {
        o.insert("nodes".into(), Value::Array(nodes));
        o.insert("edges".into(), Value::Array(edges));
    }
    v
}

/// Node ids safe in Mermaid and DOT: `t_raw`, `j_pipeline_preprocessor`; distinct even when
/// two names differ only in punctuation.
#[derive(Default)]
struct Ids {
    by_name: BTreeMap<(String, String), String>,
    taken: BTreeSet<String>,
}

impl Ids {
    fn get(&mut self, kind: &str, name: &str) -> String {
        let key = (kind.to_string(), name.to_string());
        if let Some(id) = self.by_name.get(&key) {
            return id.clone();
        }
        let prefix = &kind[..1];
        let safe: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let mut id = format!("{prefix}_{safe}");
        let mut n = 2;
        while self.taken.contains(&id) {
            id = format!("{prefix}_{safe}_{n}");
            n += 1;
        }
        self.taken.insert(id.clone());
        self.by_name.insert(key, id.clone());
        id
    }
}
