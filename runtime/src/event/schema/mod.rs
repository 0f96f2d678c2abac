//! Event schemas: the JSON Schema validators (jsonschema) of the schemas a manifest embeds,
//! and ([`compile`], [`check`]) the same schemas compiled for events kept as bytes. `$ref`s
//! resolve through the manifest's `schema_refs` URI prefixes and, relative ones, between
//! embedded documents; nothing is fetched from outside the manifest. Each schema id compiles
//! once.

pub(crate) mod check;
pub(crate) mod compile;

pub(crate) use compile::{Compiled, Compiler, Verdict};

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use jsonschema::{Draft, Validator};
use pipec_compiler::manifest::{Manifest, Schema};
use serde_json::Value;

use crate::RuntimeError;

/// Base URI of an embedded schema: `pipec://schemas/<id>`.
const BASE: &str = "pipec://schema/";

/// The manifest's schemas, compiled on first use.
pub struct Schemas {
    docs: Arc<BTreeMap<String, Schema>>,
    refs: Arc<Vec<(String, String)>>,
    default_draft: Draft,
    compiled: HashMap<String, Arc<Validator>>,
}

impl std::fmt::Debug for Schemas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Schemas")
            .field("compiled", &self.compiled.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Schemas {
    /// The schemas of `manifest`, none compiled yet.
    pub fn new(manifest: &Manifest) -> Result<Schemas, RuntimeError> {
        let default_draft =
            draft_named(&manifest.schema_draft).ok_or_else(|| RuntimeError::Unsupported {
                what: format!("JSON Schema draft `{}`", manifest.schema_draft),
            })?;
        // Longest prefix first, so that a more specific mapping wins.
        let mut refs: Vec<(String, String)> = manifest
            .schema_refs
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        refs.sort_by_key(|(k, _)| std::cmp::Reverse(k.len()));
        Ok(Schemas {
            docs: Arc::new(manifest.schemas.clone()),
            refs: Arc::new(refs),
            default_draft,
            compiled: HashMap::new(),
        })
    }

    /// Whether the manifest embeds a schema with this id.
    pub fn contains(&self, id: &str) -> bool {
        self.docs.contains_key(id)
    }

    /// The validator of schema `id`, compiled on the first call.
    pub fn get(&mut self, id: &str) -> Result<Arc<Validator>, RuntimeError> {
        if let Some(v) = self.compiled.get(id) {
            return Ok(v.clone());
        }
        let doc = &self
            .docs
            .get(id)
            .ok_or_else(|| RuntimeError::Internal(format!("schema `{id}` is not in the manifest")))?
            .document;
        let draft = doc
            .get("$schema")
            .and_then(Value::as_str)
            .and_then(draft_of_uri)
            .unwrap_or(self.default_draft);
        let validator = jsonschema::options()
            .with_draft(draft)
            .with_base_uri(format!("{BASE}{id}"))
            .with_retriever(Embedded {
                docs: self.docs.clone(),
                refs: self.refs.clone(),
            })
            .build(doc)
            .map_err(|e| RuntimeError::Internal(format!("schema `{id}` does not compile: {e}")))?;
        let validator = Arc::new(validator);
        self.compiled.insert(id.to_string(), validator.clone());
        Ok(validator)
    }
}

impl Schemas {
    /// Schema `id` compiled for events kept as bytes, when it and the schemas it refers to
    /// use only what [`crate::job::schema`] checks (under drafts 4 to 7); else none.
    pub(crate) fn fast(&self, id: &str) -> Option<Arc<Compiled>> {
        let old = |doc: &Value| {
            let draft = doc
                .get("$schema")
                .and_then(Value::as_str)
                .map_or(Some(self.default_draft), draft_of_uri);
            matches!(draft, Some(Draft::Draft4 | Draft::Draft6 | Draft::Draft7))
        };
        let doc = &self.docs.get(id)?.document;
        if !old(doc) {
            return None;
        }
        let embedded = Embedded {
            docs: self.docs.clone(),
            refs: self.refs.clone(),
        };
        let docs = &self.docs;
        let resolve = move |uri: &str| -> Option<(String, &Value)> {
            let id = embedded.id_of(uri)?;
            let doc = &docs.get(&id)?.document;
            old(doc).then_some((id, doc))
        };
        Compiler::new(&resolve).compile(id, doc).map(Arc::new)
    }
}

/// Resolves `$ref` URIs to embedded documents.
struct Embedded {
    docs: Arc<BTreeMap<String, Schema>>,
    refs: Arc<Vec<(String, String)>>,
}

impl Embedded {
    fn id_of(&self, uri: &str) -> Option<String> {
        if let Some(id) = uri.strip_prefix(BASE) {
            return Some(id.to_string());
        }
        self.refs.iter().find_map(|(prefix, ids)| {
            uri.strip_prefix(prefix.as_str())
                .map(|r| format!("{ids}{r}"))
        })
    }
}

impl jsonschema::Retrieve for Embedded {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let uri = uri.as_str();
        let uri = uri.split_once('#').map_or(uri, |(u, _)| u);
        match self.id_of(uri).and_then(|id| self.docs.get(&id)) {
            Some(s) => Ok(s.document.clone()),
            None => Err(format!("`{uri}` is not a schema embedded in the manifest").into()),
        }
    }
}

/// The draft a manifest's `schema_draft` names (`4`, `7`, `2020-12`, ...).
fn draft_named(name: &str) -> Option<Draft> {
    Some(match name {
        "4" | "04" | "draft-04" => Draft::Draft4,
        "6" | "06" | "draft-06" => Draft::Draft6,
        "7" | "07" | "draft-07" => Draft::Draft7,
        "2019-09" => Draft::Draft201909,
        "2020-12" => Draft::Draft202012,
        _ => return None,
    })
}

/// The draft a `$schema` URI names.
fn draft_of_uri(uri: &str) -> Option<Draft> {
    [
        ("draft-04", Draft::Draft4),
        ("draft-06", Draft::Draft6),
        ("draft-07", Draft::Draft7),
        ("2019-09", Draft::Draft201909),
        ("2020-12", Draft::Draft202012),
    ]
    .into_iter()
    .find(|(n, _)| uri.contains(n))
    .map(|(_, d)| d)
}
