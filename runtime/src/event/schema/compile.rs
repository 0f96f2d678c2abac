//! Compiling event schemas for events kept as canonical bytes with their tape (see
//! [`crate::event::doc`]; the check is in [`super::check`]): the part of JSON Schema the telemetry schemas use (`type`,
//! `properties`, `required`, `additionalProperties`, `items`, `enum`, `allOf`, `anyOf`,
//! `oneOf`, `$ref` to embedded documents, `minLength`, `minimum`). A schema with any other
//! keyword does not compile here and its events are checked by jsonschema on their tree.
//! The check answers valid, invalid or unsure; only "valid" is acted on — anything else
//! goes to jsonschema, which gives the verdict and the message, as without this module.

use std::collections::HashMap;

use serde_json::Value;

use crate::event::raw;

/// How deep `$ref`s and subschemas may nest while checking one value before the check
/// gives up (a `$ref` cycle that does not descend into the instance).
pub(crate) const MAX_NEST: usize = 64;

/// A schema and the schemas it refers to, compiled.
#[derive(Debug)]
pub(crate) struct Compiled {
    pub(crate) nodes: Vec<SNode>,
}

/// One (sub)schema.
#[derive(Debug, Default, Clone)]
pub(crate) struct SNode {
    /// Allowed types (bits of [`ty`]); `None`: any.
    pub(crate) types: Option<u8>,
    /// Quoted name, its [`raw::key_word`], schema.
    pub(crate) properties: Vec<(Vec<u8>, u64, usize)>,
    /// Quoted names.
    pub(crate) required: Vec<Vec<u8>>,
    pub(crate) additional: Additional,
    pub(crate) items: Option<usize>,
    pub(crate) enumeration: Option<Vec<Value>>,
    /// The strings of `enumeration` as serde_json writes them.
    pub(crate) enum_strings: Vec<Vec<u8>>,
    pub(crate) all_of: Vec<usize>,
    pub(crate) any_of: Vec<usize>,
    pub(crate) one_of: Vec<usize>,
    pub(crate) reference: Option<usize>,
    pub(crate) min_length: Option<u64>,
    pub(crate) minimum: Option<Value>,
    /// `format`: strings are left to jsonschema.
    pub(crate) format: bool,
    /// Whether `type` is all there is to check (set once compiled).
    pub(crate) only_type: bool,
    /// How an object is checked against this schema in one pass over its members (set
    /// once compiled, for the schemas that check objects).
    pub(crate) flat: Option<Box<Flat>>,
}

/// A schema's checks of an object, with those of its `allOf` branches (and theirs, and
/// the schemas their `$ref`s name) merged: one pass over the members finds each member's
/// schemas in one list, counts the required members and applies `additionalProperties`.
/// Checking the merged lists gives the verdict of checking each branch in turn (verdicts
/// are joined, Invalid over Unsure over Valid, in any order).
#[derive(Debug, Default, Clone)]
pub(crate) struct Flat {
    /// Whether every branch allows objects.
    pub(crate) types_ok: bool,
    /// The members any branch names in `properties` or `required`.
    pub(crate) members: Vec<FlatMember>,
    /// How many members are required.
    pub(crate) required: usize,
    /// Branches with `additionalProperties` other than `true`: the branch's bit (see
    /// [`FlatMember::named`]) and what it allows.
    pub(crate) additional: Vec<(u64, Option<usize>)>,
    /// Branches that are checked whole, by [`Compiled::at`] (`enum`, `anyOf`, `oneOf`).
    pub(crate) whole: Vec<usize>,
}

#[derive(Debug, Clone)]
pub(crate) struct FlatMember {
    /// Quoted name and its [`raw::key_word`].
    pub(crate) key: Vec<u8>,
    pub(crate) kw: u64,
    /// The schemas of the member (its `properties` in each branch) that check more than
    /// the type.
    pub(crate) schemas: Vec<usize>,
    /// The types the others allow, all in one (bits of [`ty`]; all bits: any).
    pub(crate) types: u8,
    pub(crate) required: bool,
    /// Bits of the branches whose `properties` name it.
    pub(crate) named: u64,
}

#[derive(Debug, Default, Clone, Copy)]
pub(crate) enum Additional {
    #[default]
    Any,
    None,
    Schema(usize),
}

pub(crate) mod ty {
    pub const OBJECT: u8 = 1;
    pub const ARRAY: u8 = 2;
    pub const STRING: u8 = 4;
    pub const NUMBER: u8 = 8;
    pub const INTEGER: u8 = 16;
    pub const BOOLEAN: u8 = 32;
    pub const NULL: u8 = 64;
    pub const ANY: u8 = 127;
}

/// What a check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Valid,
    Invalid,
    Unsure,
}

/// Keywords that do not take part in validation (annotations, identifiers).
const IGNORED: &[&str] = &[
    "id",
    "$id",
    "$schema",
    "title",
    "description",
    "default",
    "examples",
    "$comment",
    "definitions",
];

/// Compiles documents into one [`Compiled`].
pub(crate) struct Compiler<'a> {
    /// The document id and document a `$ref` URI (fragment removed) names.
    pub(crate) resolve: &'a dyn Fn(&str) -> Option<(String, &'a Value)>,
    nodes: Vec<SNode>,
    /// Node of each document's root, by id.
    docs: HashMap<String, usize>,
}

impl<'a> Compiler<'a> {
    pub(crate) fn new(resolve: &'a dyn Fn(&str) -> Option<(String, &'a Value)>) -> Self {
        Compiler {
            resolve,
            nodes: Vec::new(),
            docs: HashMap::new(),
        }
    }

    /// Compiles document `id` (node 0 of the result), if every keyword it and the documents
    /// it refers to use is one this module checks.
    pub(crate) fn compile(mut self, id: &str, doc: &'a Value) -> Option<Compiled> {
        self.docs.insert(id.to_string(), 0);
        self.nodes.push(SNode::default());
        self.fill(0, doc)?;
        for n in &mut self.nodes {
            n.only_type = n.properties.is_empty()
                && n.required.is_empty()
                && matches!(n.additional, Additional::Any)
                && n.items.is_none()
                && n.enumeration.is_none()
                && n.all_of.is_empty()
                && n.any_of.is_empty()
                && n.one_of.is_empty()
                && n.reference.is_none()
                && n.min_length.is_none()
                && n.minimum.is_none()
                && !n.format;
        }
        let mut c = Compiled { nodes: self.nodes };
        for s in 0..c.nodes.len() {
            let flat = c.flatten(s).map(Box::new);
            if let Some(n) = c.nodes.get_mut(s) {
                n.flat = flat;
            }
        }
        Some(c)
    }

    fn node(&mut self, schema: &'a Value) -> Option<usize> {
        let at = self.nodes.len();
        self.nodes.push(SNode::default());
        self.fill(at, schema)?;
        Some(at)
    }

    fn fill(&mut self, at: usize, schema: &'a Value) -> Option<()> {
        let obj = schema.as_object()?;
        let mut n = SNode::default();
        if let Some(r) = obj.get("$ref") {
            // Before draft 2019-09, keywords beside `$ref` are ignored: only annotations
            // are taken here, so that the drafts cannot differ.
            if obj
                .keys()
                .any(|k| k != "$ref" && !IGNORED.contains(&k.as_str()))
            {
                return None;
            }
            let uri = r.as_str()?;
            let (uri, fragment) = uri.split_once('#').unwrap_or((uri, ""));
            // Absolute URIs only (relative ones depend on the base the `id`s set), and
            // none that normalizing could change.
            let plain = uri.bytes().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, b':' | b'/' | b'.' | b'_' | b'-')
            });
            if !fragment.is_empty()
                || !plain
                || uri.contains("/./")
                || uri.contains("/../")
                || uri.ends_with("/.")
                || uri.ends_with("/..")
                || !uri.split('/').next()?.contains(':')
            {
                return None;
            }
            let (id, doc) = (self.resolve)(uri)?;
            let target = match self.docs.get(&id) {
                Some(&t) => t,
                None => {
                    let t = self.nodes.len();
                    self.nodes.push(SNode::default());
                    self.docs.insert(id, t);
                    self.fill(t, doc)?;
                    t
                }
            };
            n.reference = Some(target);
            self.nodes[at] = n;
            return Some(());
        }
        for (k, v) in obj {
            match k.as_str() {
                "type" => {
                    let mut bits = 0;
                    let names: Vec<&Value> = match v {
                        Value::Array(a) => a.iter().collect(),
                        one => vec![one],
                    };
                    for name in names {
                        bits |= match name.as_str()? {
                            "object" => ty::OBJECT,
                            "array" => ty::ARRAY,
                            "string" => ty::STRING,
                            "number" => ty::NUMBER,
                            "integer" => ty::INTEGER,
                            "boolean" => ty::BOOLEAN,
                            "null" => ty::NULL,
                            _ => return None,
                        };
                    }
                    n.types = Some(bits);
                }
                "properties" => {
                    for (name, s) in v.as_object()? {
                        let s = self.node(s)?;
                        let q = raw::quoted(name);
                        let kw = raw::key_word(&q);
                        n.properties.push((q, kw, s));
                    }
                }
                "required" => {
                    for name in v.as_array()? {
                        n.required.push(raw::quoted(name.as_str()?));
                    }
                }
                "additionalProperties" => {
                    n.additional = match v {
                        Value::Bool(true) => Additional::Any,
                        Value::Bool(false) => Additional::None,
                        s => Additional::Schema(self.node(s)?),
                    };
                }
                "items" => {
                    if !v.is_object() {
                        return None;
                    }
                    n.items = Some(self.node(v)?);
                }
                "enum" => {
                    let list = v.as_array()?;
                    n.enum_strings = list
                        .iter()
                        .filter_map(Value::as_str)
                        .map(raw::quoted)
                        .collect();
                    n.enumeration = Some(list.clone());
                }
                "allOf" | "anyOf" | "oneOf" => {
                    let list = v
                        .as_array()?
                        .iter()
                        .map(|s| self.node(s))
                        .collect::<Option<Vec<_>>>()?;
                    if list.is_empty() {
                        return None;
                    }
                    match k.as_str() {
                        "allOf" => n.all_of = list,
                        "anyOf" => n.any_of = list,
                        _ => n.one_of = list,
                    }
                }
                "minLength" => n.min_length = Some(v.as_u64()?),
                "minimum" => {
                    if !v.is_number() {
                        return None;
                    }
                    n.minimum = Some(v.clone());
                }
                "format" => n.format = true,
                k if IGNORED.contains(&k) => {}
                _ => return None,
            }
        }
        self.nodes[at] = n;
        Some(())
    }
}
