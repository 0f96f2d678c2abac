//! Checking an event's tape against a compiled schema (see [`super::compile`]): valid,
//! invalid or unsure, in one pass over each object's members.

use serde_json::Value;

use super::compile::{Additional, Compiled, Flat, FlatMember, MAX_NEST, SNode, Verdict, ty};
use crate::event::doc::children;
use crate::event::raw::{self, Kind, Node};
use Verdict::{Invalid, Unsure, Valid};

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
    pub(crate) fn flatten(&self, s: usize) -> Option<Flat> {
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
    pub(crate) fn unflattened(&self) -> Compiled {
        let mut nodes = self.nodes.clone();
        for n in &mut nodes {
            n.flat = None;
        }
        Compiled { nodes }
    }

    /// Checks the value at node `i` of `tape` (over canonical bytes `b`).
    pub(crate) fn check(&self, tape: &[Node], b: &[u8], i: usize) -> Verdict {
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
            if crate::event::doc::member(tape, b, i, name).is_none() {
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
