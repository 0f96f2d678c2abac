//! Checking schema documents against their draft's meta-schema (every file, so problems
//! are located in the file that has them) and compiling validators with `jsonschema`,
//! serving referenced documents from pipec's cache.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use super::text::{inner, value_spans};
use super::{Draft, SchemaProblem, SchemaProblemKind};

/// Serves the cached, reference-rewritten documents to `jsonschema`; never touches the
/// file system or the network.
struct CacheRetriever {
    docs: HashMap<String, Arc<Value>>,
}

impl jsonschema::Retrieve for CacheRetriever {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let (uri, _) = uri.as_str().split_once('#').unwrap_or((uri.as_str(), ""));
        match self.docs.get(uri) {
            Some(doc) => Ok(Value::clone(doc)),
            None => Err(format!("`{uri}` is not a schema pipec loaded").into()),
        }
    }
}

/// Compiles the document at `root_uri` of `docs` (internal URI → document).
pub(crate) fn compile(
    root_uri: &str,
    docs: HashMap<String, Arc<Value>>,
    draft: Draft,
) -> Result<jsonschema::Validator, jsonschema::ValidationError<'static>> {
    let root = docs
        .get(root_uri)
        .cloned()
        .unwrap_or_else(|| Arc::new(Value::Bool(true)));
    jsonschema::options()
        .with_draft(draft.to_jsonschema())
        .with_base_uri(root_uri)
        .with_retriever(CacheRetriever { docs })
        .build(&root)
}

/// Problems from validating `doc` (the text of `file`) against `draft`'s meta-schema.
pub(crate) fn meta_problems(
    file: &Path,
    text: &str,
    doc: &Value,
    draft: Draft,
) -> Vec<SchemaProblem> {
    let validator = match draft {
        Draft::Draft4 => jsonschema::draft4::meta::validator(),
        Draft::Draft6 => jsonschema::draft6::meta::validator(),
        Draft::Draft7 => jsonschema::draft7::meta::validator(),
        Draft::Draft201909 => jsonschema::draft201909::meta::validator(),
        Draft::Draft202012 => jsonschema::draft202012::meta::validator(),
    };
    let mut spans = None;
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for error in validator.iter_errors(doc) {
        let pointer = error.instance_path().as_str().to_string();
        let label = error.to_string();
        if !seen.insert((pointer.clone(), label.clone())) {
            continue;
        }
        let spans = spans.get_or_insert_with(|| value_spans(text));
        let span = spans.get(&pointer).map(|s| inner(text, s.clone()));
        out.push(compile_problem(file, span, &pointer, label));
    }
    out
}

/// A [`SchemaProblemKind::Compile`] problem about the value at `pointer`.
pub(crate) fn compile_problem(
    file: &Path,
    span: Option<std::ops::Range<usize>>,
    pointer: &str,
    label: String,
) -> SchemaProblem {
    let keyword = pointer.rsplit('/').next().unwrap_or_default();
    let (message, help) = match keyword {
        "" => ("not a valid schema".to_string(), None),
        "type" => (
            "invalid `type`".to_string(),
            Some(
                "use a type name (\"string\", \"number\", \"integer\", \"boolean\", \"object\", \
                 \"array\", \"null\") or an array of them"
                    .to_string(),
            ),
        ),
        k if k.parse::<usize>().is_ok() => (format!("invalid schema at `{pointer}`"), None),
        k => (format!("invalid `{k}`"), None),
    };
    SchemaProblem {
        kind: SchemaProblemKind::Compile,
        file: file.to_path_buf(),
        span,
        message,
        label,
        help,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::build::doc_uri;
    use serde_json::json;

    #[test]
    fn meta_errors_are_located() {
        let text = "{\"properties\": {\"a\": {\"type\": 12}}, \"required\": \"a\"}";
        let doc: Value = serde_json::from_str(text).unwrap_or_default();
        let problems = meta_problems(Path::new("x.json"), text, &doc, Draft::Draft4);
        let found: Vec<(&str, Option<&str>)> = problems
            .iter()
            .map(|p| (p.message.as_str(), p.span.clone().and_then(|s| text.get(s))))
            .collect();
        assert_eq!(
            found,
            vec![
                ("invalid `type`", Some("12")),
                ("invalid `required`", Some("a"))
            ]
        );
        assert!(meta_problems(Path::new("x.json"), "{}", &json!({}), Draft::Draft7).is_empty());
    }

    #[test]
    fn compiles_with_cached_documents() {
        let docs: HashMap<String, Arc<Value>> = [
            (
                doc_uri(0),
                json!({"$ref": format!("{}#/definitions/n", doc_uri(1))}),
            ),
            (
                doc_uri(1),
                json!({"definitions": {"n": {"type": "integer"}}}),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k, Arc::new(v)))
        .collect();
        let validator = compile(&doc_uri(0), docs, Draft::Draft4);
        assert!(
            validator
                .as_ref()
                .is_ok_and(|v| v.is_valid(&json!(3)) && !v.is_valid(&json!("x")))
        );
        let missing = [(doc_uri(0), Arc::new(json!({"$ref": doc_uri(7)})))]
            .into_iter()
            .collect();
        assert!(compile(&doc_uri(0), missing, Draft::Draft4).is_err());
    }
}
