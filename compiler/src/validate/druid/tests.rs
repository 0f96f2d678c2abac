//! Tests of the Druid checks: diagnostics with their exact places, and what the spec of
//! `pipelines/igot` gives.

use std::path::Path;

use crate::diagnostics::Diagnostic;
use crate::{CheckOptions, check, check_text};

fn igot_diagnostics() -> Vec<Diagnostic> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../pipelines/igot");
    let r = check(
        &root,
        &CheckOptions {
            env: None,
            env_lookup: &|_| None,
        },
    );
    r.diagnostics.iter().cloned().collect()
}

#[test]
fn igot_datasources_check_clean() {
    let druid: Vec<String> = igot_diagnostics()
        .iter()
        .filter(|d| d.code.starts_with("PC10") || d.message.contains("Druid"))
        .map(|d| format!("{} {}", d.code, d.message))
        .collect();
    assert!(druid.is_empty(), "{druid:#?}");
}

/// A spec with one datasource reading `unique` (INTERACT and START, both with closed
/// `edata`), its `druid:` section given. It is checked as if it lay at the repository's top
/// (`../pipeline.yaml` from this crate, never read from disk), so that the schemas it names,
/// under `tests/golden/schemas`, are under its root (spec files may not leave it).
fn spec(druid: &str) -> String {
    format!(
        r#"pipeline: t
events:
  type_field: eid
  schemas: tests/golden/schemas
  refs: {{ "resource:/schemas/telemetry/3.0/": tests/golden/schemas }}
  types: [START, INTERACT]
clusters:
  main: {{ brokers: "k1:9092", default: true }}
topics:
  raw: {{ name: "{{env}}.raw", external: true }}
  unique: {{ name: "{{env}}.unique" }}
streams:
  s:
    from: raw
    steps:
      - set: {{ syncts: '1' }}
      - emit: unique
{druid}"#
    )
}

/// `(code, line:column, severity)` of every diagnostic, and the checked text.
fn diags(druid: &str) -> Vec<(String, String, bool)> {
    let text = spec(druid);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../pipeline.yaml");
    let r = check_text(
        &path,
        &text,
        &CheckOptions {
            env: None,
            env_lookup: &|_| None,
        },
    );
    r.diagnostics
        .iter()
        .map(|d| {
            let pos = d
                .primary
                .as_ref()
                .map(|l| {
                    let before = &text[..l.span.range().start];
                    let line = before.matches('\n').count() + 1;
                    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                    format!("{line}:{col}")
                })
                .unwrap_or_default();
            (d.code.to_string(), pos, d.is_error())
        })
        .collect()
}

#[test]
fn a_clean_datasource_checks_clean() {
    let got = diags(
        "druid:
  datasources:
    events:
      topic: unique
      timestamp: syncts
      dimensions: [eid, edata.type, { name: page, path: edata.pageid }]
      metrics: [{ name: n, type: count }]
",
    );
    assert_eq!(got, []);
}

#[test]
fn a_field_no_event_carries_is_an_error_at_the_segment() {
    // Line 23 is `dimensions:`; `edata.typo` starts at column 25, `typo` at 31.
    let got = diags(
        "druid:
  datasources:
    events:
      topic: unique
      timestamp: syncts
      dimensions: [eid, edata.typo]
",
    );
    assert_eq!(got, [("PC1001".to_string(), "23:31".to_string(), true)]);
}

#[test]
fn unknown_topic_duplicate_column_and_unknown_metric_field() {
    let got = diags(
        "druid:
  datasources:
    events:
      topic: uniqe
      timestamp: syncts
      dimensions: [eid, { name: eid, path: edata.type }]
      metrics: [{ name: total, type: longSum, field: edata_typ }]
",
    );
    assert_eq!(
        got,
        [
            ("PC0102".to_string(), "21:14".to_string(), true),
            ("PC1002".to_string(), "23:33".to_string(), true),
            ("PC1003".to_string(), "24:54".to_string(), true),
        ]
    );
}

#[test]
fn bad_paths_names_and_settings() {
    let got = diags(
        "druid:
  datasources:
    ../evil:
      topic: unique
      timestamp: context.cdata[*].id
      dimensions: [eid, \"edata[0]\"]
      io: { task_duration: 500ms, tasks: 0 }
      tuning: { type: index }
",
    );
    let codes: Vec<&str> = got.iter().map(|(c, ..)| c.as_str()).collect();
    assert_eq!(
        codes,
        ["PC0009", "PC0009", "PC0009", "PC0302", "PC0009", "PC0109"],
        "{got:?}"
    );
}

#[test]
fn auto_dimensions_come_from_the_schemas_less_excludes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../pipeline.yaml");
    let text = spec(
        "druid:
  datasources:
    events:
      topic: unique
      timestamp: { column: syncts, format: millis }
      exclude: [context, actor]
",
    );
    let mut diags = crate::diagnostics::Diagnostics::default();
    let loaded = crate::spec::load::load_text(
        &root,
        text,
        &crate::spec::load::LoadOptions {
            env: None,
            env_lookup: &|_| None,
        },
        &mut diags,
    );
    let ix = crate::validate::Index::build(&loaded, &mut diags);
    let ds = super::resolve(&ix);
    let events = &ds["events"];
    let dims: Vec<(&str, Option<&str>)> = events
        .dimensions
        .iter()
        .map(|d| (d.path.as_str(), d.ty.as_deref()))
        .collect();
    assert!(dims.contains(&("edata.type", Some("string"))), "{dims:?}");
    assert!(dims.contains(&("syncts", Some("long"))), "{dims:?}");
    assert!(
        !dims.iter().any(|(p, _)| p.starts_with("context")),
        "{dims:?}"
    );
    assert_eq!(events.timestamp.format, "millis");
    assert_eq!(events.task_duration_ms, 3_600_000);
}

#[test]
fn a_secured_cluster_wants_consumer_security() {
    let druid = "druid:
  datasources:
    events:
      topic: unique
      timestamp: syncts
      dimensions: [eid]
";
    let text = spec(druid).replace(
        r#"main: { brokers: "k1:9092", default: true }"#,
        r#"main: { brokers: "k1:9092", default: true, tls: {} }"#,
    );
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../pipeline.yaml");
    let opts = CheckOptions {
        env: None,
        env_lookup: &|_| None,
    };
    let r = check_text(&path, &text, &opts);
    let codes: Vec<(&str, bool)> = r
        .diagnostics
        .iter()
        .map(|d| (d.code, d.is_error()))
        .collect();
    assert_eq!(codes, [("PC1004", false)]);
    let with = text.replace(
        "dimensions: [eid]",
        "dimensions: [eid]\n      io: { consumer: { security.protocol: SSL } }",
    );
    assert!(check_text(&path, &with, &opts).diagnostics.is_empty());
}
