//! Event schemas compiled for events kept as canonical bytes with their tape (see
//! [`super::doc`]): the part of JSON Schema the telemetry schemas use (`type`,
//! `properties`, `required`, `additionalProperties`, `items`, `enum`, `allOf`, `anyOf`,
//! `oneOf`, `$ref` to embedded documents, `minLength`, `minimum`). A schema with any other
//! keyword does not compile here and its events are checked by jsonschema on their tree.
//! The check answers valid, invalid or unsure; only "valid" is acted on — anything else
//! goes to jsonschema, which gives the verdict and the message, as without this module.

use std::collections::HashMap;

use serde_json::Value;

use super::doc::children;
use super::raw::{self, Kind, Node};

/// How deep `$ref`s and subschemas may nest while checking one value before the check
/// gives up (a `$ref` cycle that does not descend into the instance).
const MAX_NEST: usize = 64;

/// A schema and the schemas it refers to, compiled.
#[derive(Debug)]
pub(crate) struct Compiled {
    nodes: Vec<SNode>,
}

/// One (sub)schema.
#[derive(Debug, Default, Clone)]
struct SNode {
    /// Allowed types (bits of [`ty`]); `None`: any.
    types: Option<u8>,
    /// Quoted name, its [`raw::key_word`], schema.
    properties: Vec<(Vec<u8>, u64, usize)>,
    /// Quoted names.
    required: Vec<Vec<u8>>,
    additional: Additional,
    items: Option<usize>,
    enumeration: Option<Vec<Value>>,
    /// The strings of `enumeration` as serde_json writes them.
    enum_strings: Vec<Vec<u8>>,
    all_of: Vec<usize>,
    any_of: Vec<usize>,
    one_of: Vec<usize>,
    reference: Option<usize>,
    min_length: Option<u64>,
    minimum: Option<Value>,
    /// `format`: strings are left to jsonschema.
    format: bool,
    /// Whether `type` is all there is to check (set once compiled).
    only_type: bool,
    /// How an object is checked against this schema in one pass over its members (set
    /// once compiled, for the schemas that check objects).
    flat: Option<Box<Flat>>,
}

/// A schema's checks of an object, with those of its `allOf` branches (and theirs, and
/// the schemas their `$ref`s name) merged: one pass over the members finds each member's
/// schemas in one list, counts the required members and applies `additionalProperties`.
/// Checking the merged lists gives the verdict of checking each branch in turn (verdicts
/// are joined, Invalid over Unsure over Valid, in any order).
#[derive(Debug, Default, Clone)]
struct Flat {
    /// Whether every branch allows objects.
    types_ok: bool,
    /// The members any branch names in `properties` or `required`.
    members: Vec<FlatMember>,
    /// How many members are required.
    required: usize,
    /// Branches with `additionalProperties` other than `true`: the branch's bit (see
    /// [`FlatMember::named`]) and what it allows.
    additional: Vec<(u64, Option<usize>)>,
    /// Branches that are checked whole, by [`Compiled::at`] (`enum`, `anyOf`, `oneOf`).
    whole: Vec<usize>,
}

#[derive(Debug, Clone)]
struct FlatMember {
    /// Quoted name and its [`raw::key_word`].
    key: Vec<u8>,
    kw: u64,
    /// The schemas of the member (its `properties` in each branch) that check more than
    /// the type.
    schemas: Vec<usize>,
    /// The types the others allow, all in one (bits of [`ty`]; all bits: any).
    types: u8,
    required: bool,
    /// Bits of the branches whose `properties` name it.
    named: u64,
}

#[derive(Debug, Default, Clone, Copy)]
enum Additional {
    #[default]
    Any,
    None,
    Schema(usize),
}

mod ty {
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

use Verdict::{Invalid, Unsure, Valid};

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

impl Compiled {
    /// The schema `$ref`s at `s` lead to (`s` itself when it is no `$ref`, or a cycle).
    fn resolved(&self, mut s: usize) -> usize {
        for _ in 0..16 {
            match self.nodes.get(s).and_then(|n| n.reference) {
                Some(r) => s = r,
                None => return s,
            }
        }
        s
    }

    /// The branches of schema `s` checked together on objects: `s` and its `allOf`
    /// branches, theirs, and so on (`$ref`s followed); `whole` gets the branches with
    /// keywords that apply to the whole value (checked by [`Compiled::at`]). None when
    /// they nest too deep or are too many.
    fn branches(
        &self,
        s: usize,
        depth: usize,
        out: &mut Vec<usize>,
        whole: &mut Vec<usize>,
    ) -> Option<()> {
        if depth > 8 || out.len() + whole.len() >= 64 {
            return None;
        }
        let s = self.resolved(s);
        let n = self.nodes.get(s)?;
        if n.reference.is_some() {
            return None;
        }
        if n.enumeration.is_some() || !n.any_of.is_empty() || !n.one_of.is_empty() {
            whole.push(s);
            return Some(());
        }
        out.push(s);
        for &a in &n.all_of {
            self.branches(a, depth + 1, out, whole)?;
        }
        Some(())
    }

    /// The merged checks of objects against schema `s` (none when it checks nothing of
    /// objects but their type, or cannot be merged).
    fn flatten(&self, s: usize) -> Option<Flat> {
        let n = self.nodes.get(s)?;
        if n.only_type
            || n.reference.is_some()
            || n.enumeration.is_some()
            || !n.any_of.is_empty()
            || !n.one_of.is_empty()
        {
            return None;
        }
        let (mut out, mut whole) = (Vec::new(), Vec::new());
        self.branches(s, 0, &mut out, &mut whole)?;
        let mut f = Flat {
            types_ok: true,
            whole,
            ..Flat::default()
        };
        for (k, &b) in out.iter().enumerate() {
            let bn = self.nodes.get(b)?;
            let bit = 1_u64 << k;
            if let Some(t) = bn.types {
                f.types_ok &= t & ty::OBJECT != 0;
            }
            for (key, kw, p) in &bn.properties {
                let p = self.resolved(*p);
                let m = f.member(key, *kw);
                m.named |= bit;
                match self.nodes.get(p) {
                    Some(pn) if pn.only_type => {
                        // Every number is allowed where numbers are, integers included:
                        // with that, the types allowed by all are where each would allow
                        // the value, and `type_matches` on them joins their verdicts.
                        m.types &= with_integers(pn.types.unwrap_or(ty::ANY));
                    }
                    _ => m.schemas.push(p),
                }
            }
            for key in &bn.required {
                f.member(key, raw::key_word(key)).required = true;
            }
            match bn.additional {
                Additional::Any => {}
                Additional::None => f.additional.push((bit, None)),
                Additional::Schema(a) => f.additional.push((bit, Some(self.resolved(a)))),
            }
        }
        f.required = f.members.iter().filter(|m| m.required).count();
        Some(f)
    }

    /// The object at node `i` against the merged checks `f`.
    fn flat_object(&self, f: &Flat, tape: &[Node], b: &[u8], i: usize, nest: usize) -> Verdict {
        if !f.types_ok {
            return Invalid;
        }
        let mut verdict = Valid;
        let mut required = 0;
        for c in children(tape, i) {
            let n = &tape[c];
            let key = &b[n.key_start as usize..n.key_end as usize];
            let named = match f
                .members
                .iter()
                .find(|m| raw::same_key(m.kw, &m.key, n.kw, key))
            {
                Some(m) => {
                    required += usize::from(m.required);
                    if m.types != ty::ANY {
                        match type_matches(m.types, n.kind) {
                            Valid => {}
                            Invalid => return Invalid,
                            Unsure => verdict = Unsure,
                        }
                    }
                    for &p in &m.schemas {
                        match self.at(p, tape, b, c, nest + 1) {
                            Valid => {}
                            Invalid => return Invalid,
                            Unsure => verdict = Unsure,
                        }
                    }
                    m.named
                }
                None => 0,
            };
            for &(bit, a) in &f.additional {
                if named & bit != 0 {
                    continue;
                }
                match a.map_or(Invalid, |a| self.at(a, tape, b, c, nest + 1)) {
                    Valid => {}
                    Invalid => return Invalid,
                    Unsure => verdict = Unsure,
                }
            }
        }
        // Keys are not repeated in canonical bytes: each required one was counted once.
        if required < f.required {
            return Invalid;
        }
        for &w in &f.whole {
            match self.at(w, tape, b, i, nest + 1) {
                Valid => {}
                Invalid => return Invalid,
                Unsure => verdict = Unsure,
            }
        }
        verdict
    }

    /// The same schemas without the merged checks of objects (for the tests).
    #[cfg(test)]
    pub(super) fn unflattened(&self) -> Compiled {
        let mut nodes = self.nodes.clone();
        for n in &mut nodes {
            n.flat = None;
        }
        Compiled { nodes }
    }

    /// Checks the value at node `i` of `tape` (over canonical bytes `b`).
    pub(super) fn check(&self, tape: &[Node], b: &[u8], i: usize) -> Verdict {
        self.at(0, tape, b, i, 0)
    }

    fn at(&self, s: usize, tape: &[Node], b: &[u8], i: usize, nest: usize) -> Verdict {
        if nest > MAX_NEST {
            return Unsure;
        }
        let (Some(sn), Some(n)) = (self.nodes.get(s), tape.get(i)) else {
            return Unsure;
        };
        if sn.only_type {
            return sn.types.map_or(Valid, |t| type_matches(t, n.kind));
        }
        let mut verdict = Valid;
        let mut add = |v: Verdict| {
            verdict = match (verdict, v) {
                (Invalid, _) | (_, Invalid) => Invalid,
                (Unsure, _) | (_, Unsure) => Unsure,
                _ => Valid,
            };
        };
        if let Some(r) = sn.reference {
            return self.at(r, tape, b, i, nest + 1);
        }
        if n.kind == Kind::Object
            && let Some(f) = &sn.flat
        {
            return self.flat_object(f, tape, b, i, nest);
        }
        if let Some(types) = sn.types {
            add(type_matches(types, n.kind));
        }
        if let Some(list) = &sn.enumeration {
            add(in_enum(list, &sn.enum_strings, n, b));
        }
        match n.kind {
            Kind::Object => self.object(sn, tape, b, i, nest, &mut add),
            Kind::Array => {
                if let Some(items) = sn.items {
                    for c in children(tape, i) {
                        add(self.at(items, tape, b, c, nest + 1));
                    }
                }
            }
            Kind::String => {
                if sn.format {
                    add(Unsure);
                }
                if let Some(min) = sn.min_length {
                    let len = match raw::char_count(&b[n.start as usize..n.end as usize]) {
                        Some(len) => len as u64,
                        None => return Unsure,
                    };
                    add(if len >= min { Valid } else { Invalid });
                }
            }
            Kind::Int | Kind::Float => {
                if let Some(min) = &sn.minimum {
                    add(at_least(&b[n.start as usize..n.end as usize], n.kind, min));
                }
            }
            _ => {}
        }
        for &a in &sn.all_of {
            add(self.at(a, tape, b, i, nest + 1));
        }
        if !sn.any_of.is_empty() {
            let vs: Vec<Verdict> = sn
                .any_of
                .iter()
                .map(|&a| self.at(a, tape, b, i, nest + 1))
                .collect();
            add(if vs.contains(&Valid) {
                Valid
            } else if vs.contains(&Unsure) {
                Unsure
            } else {
                Invalid
            });
        }
        if !sn.one_of.is_empty() {
            let vs: Vec<Verdict> = sn
                .one_of
                .iter()
                .map(|&a| self.at(a, tape, b, i, nest + 1))
                .collect();
            let valid = vs.iter().filter(|v| **v == Valid).count();
            add(if vs.contains(&Unsure) {
                Unsure
            } else if valid == 1 {
                Valid
            } else {
                Invalid
            });
        }
        verdict
    }

    fn object(
        &self,
        sn: &SNode,
        tape: &[Node],
        b: &[u8],
        i: usize,
        nest: usize,
        add: &mut impl FnMut(Verdict),
    ) {
        for name in &sn.required {
            if super::doc::member(tape, b, i, name).is_none() {
                add(Invalid);
            }
        }
        if sn.properties.is_empty() && matches!(sn.additional, Additional::Any) {
            return;
        }
        for c in children(tape, i) {
            let n = &tape[c];
            let key = &b[n.key_start as usize..n.key_end as usize];
            match sn
                .properties
                .iter()
                .find(|(k, kw, _)| *kw == n.kw && k.as_slice() == key)
            {
                Some(&(_, _, p)) => add(self.at(p, tape, b, c, nest + 1)),
                None => match sn.additional {
                    Additional::Any => {}
                    Additional::None => add(Invalid),
                    Additional::Schema(a) => add(self.at(a, tape, b, c, nest + 1)),
                },
            }
        }
    }
}

impl Flat {
    /// The entry of member `key`, added if need be.
    fn member(&mut self, key: &[u8], kw: u64) -> &mut FlatMember {
        let at = match self.members.iter().position(|m| m.key == key) {
            Some(at) => at,
            None => {
                self.members.push(FlatMember {
                    key: key.to_vec(),
                    kw,
                    schemas: Vec::new(),
                    types: ty::ANY,
                    required: false,
                    named: 0,
                });
                self.members.len() - 1
            }
        };
        &mut self.members[at]
    }
}

/// Types with integers added where numbers are (see [`Compiled::flatten`]).
fn with_integers(t: u8) -> u8 {
    if t & ty::NUMBER != 0 {
        t | ty::INTEGER
    } else {
        t
    }
}

fn type_matches(types: u8, kind: Kind) -> Verdict {
    let ok = match kind {
        Kind::Object => types & ty::OBJECT != 0,
        Kind::Array => types & ty::ARRAY != 0,
        Kind::String => types & ty::STRING != 0,
        Kind::Int => types & (ty::NUMBER | ty::INTEGER) != 0,
        Kind::Float => {
            if types & ty::NUMBER != 0 {
                true
            } else if types & ty::INTEGER != 0 {
                // Whether 1.0 is an integer depends on the draft: jsonschema decides.
                return Unsure;
            } else {
                false
            }
        }
        Kind::True | Kind::False => types & ty::BOOLEAN != 0,
        Kind::Null => types & ty::NULL != 0,
    };
    if ok { Valid } else { Invalid }
}

/// Whether the value is one of `list` (whose strings, as serde_json writes them, are
/// `strings`): decided for strings, booleans and null against lists of those; anything
/// else is left to jsonschema.
fn in_enum(list: &[Value], strings: &[Vec<u8>], n: &Node, b: &[u8]) -> Verdict {
    let bytes = &b[n.start as usize..n.end as usize];
    let simple = |v: &Value| matches!(v, Value::String(_) | Value::Bool(_) | Value::Null);
    match n.kind {
        Kind::String => {
            // Canonical bytes of a string are what serde_json writes for its text.
            if strings.iter().any(|q| q.as_slice() == bytes) {
                Valid
            } else if list.iter().all(simple) {
                Invalid
            } else {
                Unsure
            }
        }
        Kind::True | Kind::False | Kind::Null => {
            let me = match n.kind {
                Kind::True => Value::Bool(true),
                Kind::False => Value::Bool(false),
                _ => Value::Null,
            };
            if list.contains(&me) {
                Valid
            } else if list.iter().all(simple) {
                Invalid
            } else {
                Unsure
            }
        }
        _ => {
            if list.iter().all(|v| v.is_string()) {
                Invalid
            } else {
                Unsure
            }
        }
    }
}

/// `minimum` for integers against an integer minimum; anything else is left to jsonschema.
fn at_least(bytes: &[u8], kind: Kind, min: &Value) -> Verdict {
    if kind != Kind::Int {
        return Unsure;
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Unsure;
    };
    let n: i128 = match text.parse() {
        Ok(n) => n,
        Err(_) => return Unsure,
    };
    let m: i128 = match (min.as_i64(), min.as_u64()) {
        (Some(m), _) => i128::from(m),
        (None, Some(m)) => i128::from(m),
        _ => return Unsure,
    };
    if n >= m { Valid } else { Invalid }
}

#[cfg(test)]
mod unit_tests {
    use super::*;

    /// The verdict of the types all of some schemas allow is the join of each one's.
    #[test]
    fn types_allowed_by_all_join_the_verdicts() {
        let kinds = [
            Kind::Object,
            Kind::Array,
            Kind::String,
            Kind::Int,
            Kind::Float,
            Kind::True,
            Kind::False,
            Kind::Null,
        ];
        let join = |a: Verdict, b: Verdict| match (a, b) {
            (Invalid, _) | (_, Invalid) => Invalid,
            (Unsure, _) | (_, Unsure) => Unsure,
            _ => Valid,
        };
        for a in 0..=ty::ANY {
            for k in kinds {
                assert_eq!(type_matches(with_integers(a), k), type_matches(a, k));
                for b in 0..=ty::ANY {
                    assert_eq!(
                        type_matches(with_integers(a) & with_integers(b), k),
                        join(type_matches(a, k), type_matches(b, k)),
                        "{a} {b} {k:?}"
                    );
                }
            }
        }
    }
}
