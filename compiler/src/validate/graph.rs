//! The topic graph: every consumed topic is produced or external, unused topics are
//! flagged, and streams do not feed each other in a circle.

use std::collections::{BTreeMap, BTreeSet};

use super::Index;
use super::flow::stream_outputs;
use crate::diagnostics::{Diagnostic, Diagnostics};

/// Checks the topic graph. Unused topics are only reported when nothing else is wrong: a
/// broken stream or step leaves topics looking unused that are not.
pub fn check(ix: &Index<'_>, diags: &mut Diagnostics) {
    let report_unused = !diags.has_errors();
    let mut produced: BTreeSet<&str> = BTreeSet::new();
    let mut consumed: BTreeSet<&str> = BTreeSet::new();
    // stream -> topics it writes
    let mut writes: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for s in &ix.streams.items {
        consumed.insert(&s.def.from.value);
        let outs: Vec<&str> = stream_outputs(s.def)
            .into_iter()
            .map(|t| t.value.as_str())
            .collect();
        produced.extend(outs.iter().copied());
        writes.insert(&s.name.value, outs);
    }
    for b in &ix.backups.items {
        consumed.insert(&b.def.topic.value);
    }
    for r in &ix.reports.items {
        for (_, o) in r.def.outputs.iter() {
            if let Some(t) = &o.topic {
                produced.insert(&t.value);
            }
        }
    }
    for t in &ix.topics.items {
        let name = t.name.value.as_str();
        if t.def.external {
            continue;
        }
        let is_consumed = consumed.contains(name);
        let is_produced = produced.contains(name);
        if is_consumed && !is_produced {
            let readers: Vec<&str> = ix
                .streams
                .items
                .iter()
                .filter(|s| s.def.from.value == name)
                .map(|s| s.name.value.as_str())
                .collect();
            let mut d = Diagnostic::error(
                "PC0401",
                format!("topic `{name}` is read but nothing writes it"),
            )
            .at(t.name.span, "never written by this pipeline")
            .help("mark it `external: true` if another system writes it, or send events to it");
            if let Some(s) = ix.streams.items.iter().find(|s| s.def.from.value == name) {
                d = d.also(
                    s.def.from.span,
                    format!("read by stream `{}`", readers.join("`, `")),
                );
            }
            diags.push(d);
        } else if !is_consumed && !is_produced && report_unused {
            diags.push(
                Diagnostic::warning("PC0402", format!("topic `{name}` is not used"))
                    .at(t.name.span, "nothing reads or writes it")
                    .help("remove it, or mark it `external: true` if systems outside the pipeline use it"),
            );
        }
    }
    cycles(ix, &writes, diags);
}

fn cycles(ix: &Index<'_>, writes: &BTreeMap<&str, Vec<&str>>, diags: &mut Diagnostics) {
    // stream -> streams reading a topic it writes
    let mut readers: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for r in &ix.streams.items {
        readers
            .entry(r.def.from.value.as_str())
            .or_default()
            .push(r.name.value.as_str());
    }
    let next: BTreeMap<&str, Vec<&str>> = writes
        .iter()
        .map(|(s, outs)| {
            let mut n: Vec<&str> = outs
                .iter()
                .flat_map(|t| readers.get(t).into_iter().flatten().copied())
                .collect();
            n.sort_unstable();
            n.dedup();
            (*s, n)
        })
        .collect();
    let mut reported: BTreeSet<Vec<&str>> = BTreeSet::new();
    for start in ix.streams.items.iter().map(|s| s.name.value.as_str()) {
        // depth-first search for a path back to `start`
        let mut stack = vec![(start, vec![start])];
        let mut seen = BTreeSet::new();
        while let Some((cur, path)) = stack.pop() {
            for &n in next.get(cur).into_iter().flatten() {
                if n == start {
                    let mut key = path.clone();
                    key.sort_unstable();
                    if reported.insert(key)
                        && let Some(s) = ix.streams.get(start)
                    {
                        let mut ring = path.clone();
                        ring.push(start);
                        diags.push(
                            Diagnostic::error("PC0403", "streams feed each other in a circle")
                                .at(s.def.from.span, format!("cycle: {}", ring.join(" → ")))
                                .help("events could travel around forever: route to a topic outside the circle"),
                        );
                    }
                } else if seen.insert(n) {
                    let mut p = path.clone();
                    p.push(n);
                    stack.push((n, p));
                }
            }
        }
    }
}
