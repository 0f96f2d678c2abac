//! Tests of reading specs: spans, recovery, shorthand forms, includes and variables.

use std::collections::BTreeMap;

use super::de::{Sink, from_node};
use super::load::{LoadOptions, load};
use super::model::SpecFile;
use super::steps::Step;
use super::wrappers::ScalarOr;
use super::yaml;
use crate::diagnostics::Diagnostics;
use crate::source::FileId;

fn read(text: &str) -> (SpecFile, Vec<crate::diagnostics::Diagnostic>) {
    let (node, problems) = yaml::parse(FileId(0), text);
    assert!(problems.is_empty(), "{problems:?}");
    let node = node.expect("yaml");
    let sink = Sink::default();
    let spec = from_node::<SpecFile>(&node, &sink).unwrap_or_default();
    (spec, sink.take())
}

#[test]
fn every_unknown_key_is_reported_and_the_rest_is_read() {
    let text =
        "pipeline: p\ntopics:\n  a: { name: x, partiton: 4 }\n  b: { name: y, retension: 1d }\n";
    let (spec, diags) = read(text);
    assert_eq!(spec.topics.len(), 2);
    let msgs: Vec<_> = diags
        .iter()
        .map(|d| (d.code, d.message.clone(), d.help.clone()))
        .collect();
    assert_eq!(
        msgs,
        vec![
            (
                "PC0002",
                "unknown key `partiton`".to_string(),
                Some("did you mean `partitions`?".to_string())
            ),
            (
                "PC0002",
                "unknown key `retension`".to_string(),
                Some("did you mean `retention`?".to_string())
            ),
        ]
    );
    let span = diags[0].primary.as_ref().expect("place").span;
    assert_eq!(&text[span.range()], "partiton");
}

#[test]
fn a_broken_entry_is_skipped_and_kept_aside() {
    let (spec, diags) = read("topics:\n  a: { name: x, partitions: many }\n  b: { name: y }\n");
    assert_eq!(spec.topics.len(), 1);
    assert_eq!(spec.topics.1.len(), 1);
    assert_eq!(spec.topics.1[0].value, "a");
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].code, "PC0003");
}

#[test]
fn spans_point_at_values() {
    let text = "topics:\n  a: { name: \"{env}.x\", partitions: 4 }\n";
    let (spec, _) = read(text);
    let (_, t) = spec.topics.iter().next().expect("topic");
    assert_eq!(&text[t.name.span.range()], "\"{env}.x\"");
    let p = t.partitions.as_ref().expect("partitions");
    assert_eq!(p.value, 4);
    assert_eq!(&text[p.span.range()], "4");
}

#[test]
fn shorthand_and_full_forms() {
    let text = "streams:\n  s:\n    from: raw\n    steps:\n      - filter: 'x > 1'\n      - filter: { when: 'y', else: rejected }\n      - emit: a\n      - emit: [a, b]\n";
    let (spec, diags) = read(text);
    assert!(diags.is_empty(), "{diags:?}");
    let (_, s) = spec.streams.iter().next().expect("stream");
    let steps: Vec<&Step> = s.steps.iter().map(|s| &s.value).collect();
    assert!(matches!(steps[0], Step::Filter(ScalarOr::Scalar(w)) if w.value == "x > 1"));
    assert!(
        matches!(steps[1], Step::Filter(ScalarOr::Full(f)) if f.otherwise.as_ref().is_some_and(|o| o.value == "rejected"))
    );
    assert!(matches!(steps[2], Step::Emit(t) if t.len() == 1));
    assert!(matches!(steps[3], Step::Emit(t) if t.len() == 2));
}

#[test]
fn includes_and_variables() {
    let dir = std::env::temp_dir().join(format!("pipec-load-{}", std::process::id()));
    let _ = std::fs::create_dir_all(dir.join("more"));
    std::fs::write(
        dir.join("pipeline.yaml"),
        "pipeline: p\nvars: { env: dev, team: data }\ninclude: [more]\ntopics:\n  a: { name: \"{env}.{team}.a\" }\n",
    )
    .expect("write");
    std::fs::write(
        dir.join("more/t.yaml"),
        "topics:\n  b: { name: \"${PREFIX:-x}.{env}.b\" }\n",
    )
    .expect("write");
    let env = |n: &str| (n == "PREFIX").then(|| "pre".to_string());
    let mut diags = Diagnostics::default();
    let loaded = load(
        &dir,
        &LoadOptions {
            env: Some("prod".into()),
            env_lookup: &env,
        },
        &mut diags,
    );
    assert!(diags.is_empty(), "{diags:?}");
    let names: Vec<String> = loaded
        .files
        .iter()
        .flat_map(|f| f.spec.topics.iter().map(|(_, t)| t.name.value.clone()))
        .collect();
    assert_eq!(names, ["prod.data.a", "pre.prod.b"]);
    assert_eq!(
        loaded.vars,
        BTreeMap::from([
            ("env".into(), "prod".into()),
            ("team".into(), "data".into())
        ])
    );
    let _ = std::fs::remove_dir_all(&dir);
}
