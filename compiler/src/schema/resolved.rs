//! [`ResolvedSchema`]: a schema whose `$ref`s all resolve, kept as the documents it is made
//! of so that a walker (the compatibility checker) can follow references, cycles included.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::Draft;
use super::build::parse_doc_ref;
use super::refs::{resolve_fragment, split_ref};

/// Where a followed `$ref` points: the index of a document and a JSON pointer into it.
pub type RefTarget = (usize, String);

/// The schema that accepts every value, for a root that is missing.
static ANY: Value = Value::Bool(true);

/// A schema with its `$ref`s resolved: from [`super::SchemaStore::load_resolved`] (references
/// rewritten to pipec's internal URIs, across files), or a standalone value whose
/// references point into itself (`#/definitions/x`, `#anchor`).
#[derive(Debug, Clone)]
pub struct ResolvedSchema {
    root: usize,
    draft: Draft,
    docs: HashMap<usize, Arc<Value>>,
}

impl ResolvedSchema {
    /// A schema given as one value; its `$ref`s may only point into itself.
    pub fn standalone(doc: Value, draft: Draft) -> Self {
        ResolvedSchema {
            root: 0,
            draft,
            docs: HashMap::from([(0, Arc::new(doc))]),
        }
    }

    /// A schema made of documents whose references pipec has rewritten.
    pub(crate) fn from_docs(root: usize, draft: Draft, docs: HashMap<usize, Arc<Value>>) -> Self {
        ResolvedSchema { root, draft, docs }
    }

    /// The root schema.
    pub fn root(&self) -> &Value {
        self.docs.get(&self.root).map_or(&ANY, |doc| doc.as_ref())
    }

    /// Where the root schema is, as a `$ref` to it would resolve (`#`).
    pub fn root_target(&self) -> RefTarget {
        (self.root, String::new())
    }

    /// The draft the schema is read as.
    pub fn draft(&self) -> Draft {
        self.draft
    }

    /// The schema a `$ref` names and where it is, or `None` when it does not resolve.
    pub fn follow(&self, reference: &str) -> Option<(RefTarget, &Value)> {
        if let Some((idx, pointer)) = parse_doc_ref(reference) {
            let target = self.docs.get(&idx)?.pointer(&pointer)?;
            return Some(((idx, pointer), target));
        }
        let (uri, fragment) = split_ref(reference);
        if !uri.is_empty() {
            return None;
        }
        let doc = self.docs.get(&self.root)?;
        let pointer = resolve_fragment(doc, fragment.unwrap_or("")).ok()?;
        let target = doc.pointer(&pointer)?;
        Some(((self.root, pointer), target))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn standalone_references_point_into_the_document() {
        let schema = ResolvedSchema::standalone(
            json!({"definitions": {"a": {"id": "#named", "type": "string"}}, "$ref": "#/definitions/a"}),
            Draft::Draft4,
        );
        let (target, value) = schema.follow("#/definitions/a").expect("pointer");
        assert_eq!(target, (0, "/definitions/a".to_string()));
        assert_eq!(value["type"], "string");
        let (target, _) = schema.follow("#named").expect("anchor");
        assert_eq!(target.1, "/definitions/a");
        assert!(schema.follow("#/definitions/b").is_none());
        assert!(schema.follow("other.json#/x").is_none());
        assert_eq!(schema.draft(), Draft::Draft4);
    }

    #[test]
    fn internal_references_name_documents() {
        let docs = HashMap::from([
            (
                0,
                Arc::new(json!({"$ref": "pipec://schemas/3/schema.json#/p"})),
            ),
            (3, Arc::new(json!({"p": {"type": "integer"}}))),
        ]);
        let schema = ResolvedSchema::from_docs(0, Draft::Draft7, docs);
        let (target, value) = schema
            .follow("pipec://schemas/3/schema.json#/p")
            .expect("resolves");
        assert_eq!(target, (3, "/p".to_string()));
        assert_eq!(value, &json!({"type": "integer"}));
        assert!(schema.follow("pipec://schemas/9/schema.json#").is_none());
        let missing = ResolvedSchema::from_docs(5, Draft::Draft7, HashMap::new());
        assert_eq!(missing.root(), &json!(true));
    }
}
