//! `pipec schema` describes the format the checker reads: every spec file of the examples
//! and of the iGOT pipeline validates against it, and a typo'd key does not.

use std::path::{Path, PathBuf};

use pipec_compiler::source::FileId;
use pipec_compiler::spec::yaml::{self, Node, NodeKind, Style};
use serde_json::{Map, Value};

use crate::support::root;

/// The JSON value YAML's core schema gives a node.
fn to_json(n: &Node) -> Value {
    match &n.kind {
        NodeKind::Seq(items) => Value::Array(items.iter().map(to_json).collect()),
        NodeKind::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_scalar().map(|s| s.value.clone()).unwrap_or_default(),
                        to_json(v),
                    )
                })
                .collect::<Map<String, Value>>(),
        ),
        NodeKind::Scalar(s) if s.style != Style::Plain => Value::String(s.value.clone()),
        NodeKind::Scalar(_) if n.is_null() => Value::Null,
        NodeKind::Scalar(s) => match s.value.as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            v => v
                .parse::<i64>()
                .map(Value::from)
                .or_else(|_| v.parse::<f64>().map(Value::from))
                .unwrap_or_else(|_| Value::String(v.to_string())),
        },
    }
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    entries.sort();
    for p in entries {
        if p.is_dir() && !p.ends_with("schemas") && !p.ends_with("ci") {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "yaml") {
            out.push(p);
        }
    }
}

fn spec_schema() -> jsonschema::Validator {
    let schema: Value =
        serde_json::from_str(&pipec_compiler::spec_json_schema()).expect("schema JSON");
    jsonschema::validator_for(&schema).expect("schema compiles")
}

#[test]
fn every_spec_file_validates_against_the_generated_schema() {
    let validator = spec_schema();
    let mut files = Vec::new();
    yaml_files(&root().join("examples"), &mut files);
    yaml_files(&root().join("pipelines"), &mut files);
    assert!(files.len() >= 12, "found only {} spec files", files.len());
    for f in files {
        let text = std::fs::read_to_string(&f).expect("read");
        let (node, _) = yaml::parse(FileId(0), &text);
        let value = to_json(&node.expect("yaml"));
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{} does not match `pipec schema`:\n{}",
            f.display(),
            errors.join("\n")
        );
    }
}

#[test]
fn the_schema_rejects_an_unknown_key() {
    let validator = spec_schema();
    let value =
        serde_json::json!({ "pipeline": "p", "topics": { "t": { "name": "x", "partiton": 4 } } });
    assert!(!validator.is_valid(&value));
}
