//! Derives a [`Shape`] from schema documents whose `$ref`s pipec has already resolved and
//! rewritten to its internal `pipec://schemas/<n>/schema.json#<pointer>` URIs.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::Draft;
use super::refs::{percent_decode, split_ref};
use super::shape::Shape;
use crate::expr::Ty;

const URI_PREFIX: &str = "pipec://schemas/";
const URI_SUFFIX: &str = "/schema.json";
const MAX_DEPTH: usize = 128;

/// The internal URI of the document with index `idx`.
pub(crate) fn doc_uri(idx: usize) -> String {
    format!("{URI_PREFIX}{idx}{URI_SUFFIX}")
}

/// The document index and JSON pointer of an internal reference.
pub(crate) fn parse_doc_ref(reference: &str) -> Option<(usize, String)> {
    let (uri, fragment) = split_ref(reference);
    let idx = uri.strip_prefix(URI_PREFIX)?.strip_suffix(URI_SUFFIX)?;
    Some((idx.parse().ok()?, percent_decode(fragment.unwrap_or(""))))
}

/// The shape of document `root` among `docs` (indexed as in their internal URIs).
pub(crate) fn build_shape(docs: &HashMap<usize, Arc<Value>>, root: usize, draft: Draft) -> Shape {
    let mut builder = Builder {
        docs,
        draft,
        stack: vec![(root, String::new())],
        memo: HashMap::new(),
    };
    match docs.get(&root) {
        Some(doc) => builder.shape(doc, 0),
        None => Shape::any(),
    }
}

struct Builder<'a> {
    docs: &'a HashMap<usize, Arc<Value>>,
    draft: Draft,
    /// The references being followed, to cut cycles.
    stack: Vec<(usize, String)>,
    /// Shapes of references already followed.
    memo: HashMap<(usize, String), Shape>,
}

impl<'a> Builder<'a> {
    fn shape(&mut self, schema: &'a Value, depth: usize) -> Shape {
        if depth > MAX_DEPTH {
            return Shape::any();
        }
        let obj = match schema {
            Value::Bool(false) => return Shape::of(Ty::NEVER),
            Value::Object(obj) => obj,
            _ => return Shape::any(),
        };
        let Some(reference) = obj.get("$ref").and_then(Value::as_str) else {
            return self.own(obj, depth);
        };
        let target = self.follow(reference, depth);
        if self.draft <= Draft::Draft7 {
            // Before 2019-09, keywords next to `$ref` are ignored.
            target
        } else {
            Shape::intersect(&target, &self.own(obj, depth))
        }
    }

    fn follow(&mut self, reference: &str, depth: usize) -> Shape {
        let Some(key) = parse_doc_ref(reference) else {
            return Shape::any();
        };
        if let Some(shape) = self.memo.get(&key) {
            return shape.clone();
        }
        if self.stack.contains(&key) {
            return Shape::any();
        }
        let docs = self.docs;
        let Some(target) = docs.get(&key.0).and_then(|doc| doc.pointer(&key.1)) else {
            return Shape::any();
        };
        self.stack.push(key.clone());
        let shape = self.shape(target, depth + 1);
        self.stack.pop();
        self.memo.insert(key, shape.clone());
        shape
    }

    /// The shape of a schema object's own keywords and its `allOf`/`anyOf`/`oneOf`.
    fn own(&mut self, obj: &'a Map<String, Value>, depth: usize) -> Shape {
        let mut s = Shape::any();
        let declared = obj.get("type").map(type_of);
        if let Some(ty) = declared {
            s.ty = ty;
        }
        let values: Option<Vec<&Value>> = match (obj.get("enum"), obj.get("const")) {
            (Some(Value::Array(values)), _) => Some(values.iter().collect()),
            (_, Some(value)) => Some(vec![value]),
            _ => None,
        };
        if let Some(values) = values {
            let kinds = values.iter().fold(Ty::NEVER, |k, v| k.or(kind_of(v)));
            s.ty = s.ty.and(kinds);
            let strings: Option<Vec<String>> = values
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect();
            s.enum_values = strings;
        }
        if let Some(Value::Object(props)) = obj.get("properties") {
            for (name, sub) in props {
                let shape = self.shape(sub, depth + 1);
                s.properties.insert(name.clone(), shape);
            }
        }
        match obj.get("additionalProperties") {
            Some(Value::Bool(false)) => s.closed = true,
            Some(sub @ Value::Object(_)) => {
                s.additional = Some(Box::new(self.shape(sub, depth + 1)))
            }
            _ => {}
        }
        let patterns = obj
            .get("patternProperties")
            .and_then(Value::as_object)
            .is_some_and(|m| !m.is_empty());
        if patterns {
            s.closed = false;
            s.additional = None;
        }
        s.free = patterns || (s.properties.is_empty() && !s.closed && s.additional.is_none());
        s.items = self.items(obj, depth);
        if let Some(Value::Array(names)) = obj.get("required") {
            s.required = names
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect();
        }
        if let Some(Value::Array(branches)) = obj.get("allOf") {
            for branch in branches {
                let b = self.shape(branch, depth + 1);
                s = Shape::intersect(&s, &b);
            }
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(Value::Array(branches)) = obj.get(key) {
                let union = branches
                    .iter()
                    .map(|b| self.shape(b, depth + 1))
                    .reduce(|a, b| Shape::merge(&a, &b));
                if let Some(union) = union {
                    s = Shape::intersect(&s, &union);
                }
            }
        }
        s
    }

    /// The union of `items` (one schema or a tuple) and `prefixItems`.
    fn items(&mut self, obj: &'a Map<String, Value>, depth: usize) -> Option<Box<Shape>> {
        let mut schemas: Vec<&'a Value> = Vec::new();
        match obj.get("items") {
            Some(Value::Array(tuple)) => schemas.extend(tuple),
            Some(one) => schemas.push(one),
            None => {}
        }
        if let Some(Value::Array(prefix)) = obj.get("prefixItems") {
            if obj.get("items").is_none() && !prefix.is_empty() {
                // Items past the prefix are unconstrained.
                return None;
            }
            schemas.extend(prefix);
        }
        schemas
            .into_iter()
            .map(|item| self.shape(item, depth + 1))
            .reduce(|a, b| Shape::merge(&a, &b))
            .map(Box::new)
    }
}

/// The kinds a `type` keyword allows.
fn type_of(value: &Value) -> Ty {
    match value {
        Value::String(name) => Ty::from_json_schema_name(name),
        Value::Array(names) if !names.is_empty() => names.iter().fold(Ty::NEVER, |t, n| {
            t.or(n.as_str().map_or(Ty::ANY, Ty::from_json_schema_name))
        }),
        _ => Ty::ANY,
    }
}

/// The kind of a JSON value (a number without a fraction is an integer).
fn kind_of(value: &Value) -> Ty {
    match value {
        Value::Null => Ty::NULL,
        Value::Bool(_) => Ty::BOOL,
        Value::Number(n) if n.is_i64() || n.is_u64() => Ty::INT,
        Value::Number(n) if n.as_f64().is_some_and(|f| f.fract() == 0.0) => Ty::INT,
        Value::Number(_) => Ty::FLOAT,
        Value::String(_) => Ty::STRING,
        Value::Array(_) => Ty::LIST,
        Value::Object(_) => Ty::OBJECT,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{PathSeg::Field, PathSeg::Index, ShapeLookup};
    use serde_json::json;

    fn shape_of(docs: Vec<Value>, draft: Draft) -> Shape {
        let docs = docs.into_iter().map(Arc::new).enumerate().collect();
        build_shape(&docs, 0, draft)
    }

    #[test]
    fn uris_round_trip() {
        assert_eq!(doc_uri(3), "pipec://schemas/3/schema.json");
        assert_eq!(
            parse_doc_ref("pipec://schemas/3/schema.json#/definitions/a%20b"),
            Some((3, "/definitions/a b".into()))
        );
        assert_eq!(parse_doc_ref("pipec://schemas/x/schema.json"), None);
        assert_eq!(parse_doc_ref("common.json"), None);
    }

    #[test]
    fn keywords() {
        let root = json!({
            "type": "object",
            "required": ["eid"],
            "allOf": [
                {"$ref": "pipec://schemas/1/schema.json#"},
                {"properties": {"eid": {"enum": ["A", "B"]}, "n": {"type": ["integer", "null"]}}}
            ],
            "properties": {"tags": {"type": "array", "items": [{"type": "string"}, {"type": "integer"}]}}
        });
        let common = json!({
            "properties": {"ver": {"const": "3.0"}, "map": {"additionalProperties": {"type": "number"}}},
            "definitions": {"x": {"$ref": "pipec://schemas/1/schema.json#"}}
        });
        let s = shape_of(vec![root, common], Draft::Draft4);
        assert_eq!(s.lookup(&[Field("eid")]), ShapeLookup::Found(Ty::STRING));
        let eid = s.properties.get("eid").and_then(|e| e.enum_values.clone());
        assert_eq!(eid, Some(vec!["A".to_string(), "B".to_string()]));
        assert_eq!(
            s.lookup(&[Field("n")]),
            ShapeLookup::Found(Ty::INT.or(Ty::NULL))
        );
        assert_eq!(s.lookup(&[Field("ver")]), ShapeLookup::Found(Ty::STRING));
        assert_eq!(
            s.lookup(&[Field("map"), Field("k")]),
            ShapeLookup::Found(Ty::NUMBER)
        );
        assert_eq!(
            s.lookup(&[Field("tags"), Index]),
            ShapeLookup::Found(Ty::STRING.or(Ty::INT))
        );
        assert!(!s.closed && !s.free);
        assert_eq!(s.required, vec!["eid".to_string()]);
        assert_eq!(s.ty, Ty::OBJECT);
    }

    #[test]
    fn cycles_and_ref_siblings() {
        let tree = json!({
            "type": "object",
            "properties": {"children": {"type": "array", "items": {"$ref": "pipec://schemas/0/schema.json#"}}},
            "definitions": {"loop": {"$ref": "pipec://schemas/0/schema.json#/definitions/loop"}},
            "additionalProperties": false
        });
        let s = shape_of(vec![tree.clone()], Draft::Draft7);
        let path = [Field("children"), Index, Field("x")];
        assert!(matches!(s.lookup(&path), ShapeLookup::Found(t) if t.is_any()));
        let looped = json!({"$ref": "pipec://schemas/0/schema.json#/definitions/loop", "definitions": tree["definitions"]});
        assert_eq!(shape_of(vec![looped], Draft::Draft4), Shape::any());

        let with_sibling = json!({"$ref": "pipec://schemas/1/schema.json#", "type": "string"});
        let target = json!({"type": ["string", "null"]});
        let old = shape_of(vec![with_sibling.clone(), target.clone()], Draft::Draft7);
        assert_eq!(old.ty, Ty::STRING.or(Ty::NULL));
        let new = shape_of(vec![with_sibling, target], Draft::Draft202012);
        assert_eq!(new.ty, Ty::STRING);
        assert_eq!(shape_of(vec![json!(false)], Draft::Draft7).ty, Ty::NEVER);
    }
}
