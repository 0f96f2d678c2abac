//! An event kept as canonical bytes (see [`super::raw`]) together with its tape, and the
//! fields set on it so far as edits. `validate`, `set` and `flag` read fields from the tape
//! and the edits; the event is written back as its bytes with the edits spliced in, which
//! is byte for byte what setting the fields on its tree and serializing that gives. Whatever
//! this cannot tell for sure (index paths, a read of an object an edit changed inside) is
//! answered as unsure, and the caller then parses the event into its tree (the edits
//! replayed on it) and goes on there.

use std::sync::Arc;

use pipec_compiler::expr::{EvalError, Expr, FieldPath, PathSegment};
use serde_json::{Map, Value};

use super::raw::{self, Kind, Node};

/// A field path of field names only, with its keys quoted as canonical bytes write them.
#[derive(Debug)]
pub(crate) struct Target {
    pub(crate) path: FieldPath,
    names: Vec<String>,
    keys: Vec<Vec<u8>>,
}

impl Target {
    /// The path as a target, when it is made of field names only.
    pub(crate) fn new(path: &FieldPath) -> Option<Arc<Target>> {
        let keys = raw::field_keys(path)?;
        let names = path
            .segments
            .iter()
            .filter_map(|s| match s {
                PathSegment::Field { name, .. } => Some(name.clone()),
                PathSegment::Index { .. } => None,
            })
            .collect();
        (!keys.is_empty()).then(|| {
            Arc::new(Target {
                path: path.clone(),
                names,
                keys,
            })
        })
    }

    /// The targets of every path `e` reads, when all are field names only.
    pub(crate) fn reads(e: &Expr) -> Option<Vec<Arc<Target>>> {
        e.paths().into_iter().map(Target::new).collect()
    }
}

/// A field set on the event.
#[derive(Debug)]
struct Edit {
    target: Arc<Target>,
    value: Value,
}

/// The tape of an event's canonical bytes and the fields set on it since.
#[derive(Debug)]
pub(crate) struct Doc {
    tape: Vec<Node>,
    edits: Vec<Edit>,
    /// The bytes with the edits spliced in, once written (until the next edit).
    written: Option<Vec<u8>>,
}

/// What is at a path.
pub(crate) enum Look<'a> {
    Missing,
    /// A value of the bytes, by its index in the tape.
    Node(usize),
    /// A value an edit set.
    Value(&'a Value),
    /// The path goes into something an edit changed inside.
    Unsure,
}

impl Doc {
    /// The document of canonical bytes `b`, if they are.
    pub(crate) fn read(b: &[u8]) -> Option<Doc> {
        Some(Doc {
            tape: raw::canonical_tape(b)?,
            edits: Vec::new(),
            written: None,
        })
    }

    pub(crate) fn tape(&self) -> &[Node] {
        &self.tape
    }

    /// Whether fields were set since the bytes were read.
    pub(crate) fn edited(&self) -> bool {
        !self.edits.is_empty()
    }

    /// Sets the field at `t` to `value`, as [`super::fields::set`] would.
    pub(crate) fn set(&mut self, t: &Arc<Target>, value: Value) {
        self.written = None;
        self.edits.push(Edit {
            target: t.clone(),
            value,
        });
    }

    /// Replays the edits on the event's tree, parsed from the bytes.
    pub(crate) fn replay(&self, event: &mut Value) {
        for e in &self.edits {
            super::fields::set(event, &e.target.path, e.value.clone());
        }
    }

    /// What is at `t`.
    pub(crate) fn get(&self, b: &[u8], t: &Target) -> Look<'_> {
        let keys = t.keys.as_slice();
        for e in self.edits.iter().rev() {
            let ek = &e.target.keys;
            let common = ek.iter().zip(keys).take_while(|(x, y)| x == y).count();
            if common == ek.len() {
                // At or under the edited field.
                let mut cur = &e.value;
                for k in &t.names[common..] {
                    match cur.as_object().and_then(|o| o.get(k)) {
                        Some(v) => cur = v,
                        None => return Look::Missing,
                    }
                }
                return Look::Value(cur);
            }
            if common == keys.len() {
                return Look::Unsure;
            }
        }
        match node_at(&self.tape, b, 0, keys) {
            Some(i) => Look::Node(i),
            None => Look::Missing,
        }
    }

    /// The value at `t` as a tree (`Ok(None)`: missing; `Err`: unsure).
    pub(crate) fn value(&self, b: &[u8], t: &Target) -> Result<Option<Value>, ()> {
        match self.get(b, t) {
            Look::Missing => Ok(None),
            Look::Unsure => Err(()),
            Look::Value(v) => Ok(Some(v.clone())),
            Look::Node(i) => node_value(&self.tape, b, i).map(Some).ok_or(()),
        }
    }

    /// Evaluates `e`, whose paths are `reads`, against the event: on an event that holds
    /// only the fields read, which gives what evaluating it on the whole event gives.
    /// `None`: unsure.
    pub(crate) fn eval(
        &self,
        b: &[u8],
        e: &Expr,
        reads: &[Arc<Target>],
    ) -> Option<Result<Value, EvalError>> {
        let event = self.holding(b, reads)?;
        Some(pipec_compiler::expr::eval(e, &event))
    }

    /// An event holding only the fields `reads` of this one (`None`: unsure).
    pub(crate) fn holding(&self, b: &[u8], reads: &[Arc<Target>]) -> Option<Value> {
        let mut event = Value::Object(Map::new());
        for t in reads {
            if let Some(v) = self.value(b, t).ok()? {
                super::fields::set(&mut event, &t.path, v);
            }
        }
        Some(event)
    }

    /// Writes the event's bytes with the edits spliced in (see [`Doc::written`]), unless
    /// they are already.
    pub(crate) fn flush(&mut self, b: &[u8]) {
        if self.written.is_none() && self.edited() {
            self.written = Some(self.write(b));
        }
    }

    /// The event's bytes with the edits spliced in, as [`Doc::flush`] last wrote them
    /// (none if an edit came since).
    pub(crate) fn written(&self) -> Option<&[u8]> {
        self.written.as_deref()
    }

    /// The bytes [`Doc::flush`] last wrote, taken out (none if an edit came since).
    pub(crate) fn take_written(&mut self) -> Option<Vec<u8>> {
        self.written.take()
    }

    /// The event's bytes with the edits spliced in.
    pub(crate) fn write(&self, b: &[u8]) -> Vec<u8> {
        self.write_with(b, &[])
    }

    /// The event's bytes with the edits spliced in, then `more` (set in order after them).
    pub(crate) fn write_with(&self, b: &[u8], more: &[(&Arc<Target>, Value)]) -> Vec<u8> {
        let mut patches: Vec<(&[u8], Patch)> = Vec::new();
        let edits = self
            .edits
            .iter()
            .map(|e| (&e.target, &e.value))
            .chain(more.iter().map(|(t, v)| (*t, v)));
        let mut extra = 0;
        for (t, v) in edits {
            insert(&mut patches, &t.keys, &t.path, v);
            extra += 8 + t.keys.iter().map(Vec::len).sum::<usize>();
        }
        let mut out = Vec::with_capacity(b.len() + extra + 16);
        let mut copied = 0;
        match self.tape.first() {
            Some(root) if root.kind == Kind::Object => {
                write_object(&self.tape, b, 0, &patches, &mut out, &mut copied);
                out.extend_from_slice(&b[copied..]);
            }
            // `set` makes the root an object.
            _ => write_new(&patches, &mut out),
        }
        out
    }
}

/// Index of the node at the path of quoted `keys` from node `i`.
pub(crate) fn node_at(tape: &[Node], b: &[u8], mut i: usize, keys: &[Vec<u8>]) -> Option<usize> {
    for k in keys {
        i = member(tape, b, i, k)?;
    }
    Some(i)
}

/// Index of member `key` (quoted) of the object at node `i`.
pub(crate) fn member(tape: &[Node], b: &[u8], i: usize, key: &[u8]) -> Option<usize> {
    let n = tape.get(i)?;
    if n.kind != Kind::Object {
        return None;
    }
    let end = n.next as usize;
    let kw = raw::key_word(key);
    let mut j = i + 1;
    while j < end {
        let c = tape.get(j)?;
        if c.kw == kw && b.get(c.key_start as usize..c.key_end as usize) == Some(key) {
            return Some(j);
        }
        j = c.next as usize;
    }
    None
}

/// The children of the container at node `i`.
pub(crate) fn children(tape: &[Node], i: usize) -> Children<'_> {
    let end = tape.get(i).map_or(0, |n| n.next as usize);
    Children {
        tape,
        j: i + 1,
        end,
    }
}

pub(crate) struct Children<'a> {
    tape: &'a [Node],
    j: usize,
    end: usize,
}

impl Iterator for Children<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        if self.j >= self.end {
            return None;
        }
        let at = self.j;
        self.j = self.tape.get(at)?.next as usize;
        Some(at)
    }
}

/// The value of node `i` as a tree.
pub(crate) fn node_value(tape: &[Node], b: &[u8], i: usize) -> Option<Value> {
    let n = tape.get(i)?;
    let bytes = b.get(n.start as usize..n.end as usize)?;
    match n.kind {
        Kind::Null => Some(Value::Null),
        Kind::True => Some(Value::Bool(true)),
        Kind::False => Some(Value::Bool(false)),
        Kind::String => raw::text(bytes).map(|t| Value::String(t.into_owned())),
        _ => super::parse_record(bytes).ok(),
    }
}

/// Fields to set in an object, by quoted key, in the order they were first set.
enum Patch<'a> {
    Set(Value),
    Into(Vec<(&'a [u8], Patch<'a>)>),
}

/// Adds the edit of `keys` (the field names of `path`) to `patches`.
fn insert<'a>(
    patches: &mut Vec<(&'a [u8], Patch<'a>)>,
    keys: &'a [Vec<u8>],
    path: &FieldPath,
    value: &Value,
) {
    let depth = path.segments.len() - keys.len();
    let Some((first, rest)) = keys.split_first() else {
        return;
    };
    let at = match patches.iter().position(|(k, _)| *k == first.as_slice()) {
        Some(at) => at,
        None => {
            patches.push((first.as_slice(), Patch::Into(Vec::new())));
            patches.len() - 1
        }
    };
    let slot = &mut patches[at].1;
    if rest.is_empty() {
        *slot = Patch::Set(value.clone());
        return;
    }
    match slot {
        Patch::Into(inner) => insert(inner, rest, path, value),
        Patch::Set(v) => {
            // A field under one set earlier: set it in that value, as on the tree.
            let sub = FieldPath {
                segments: path.segments[depth + 1..].to_vec(),
                span: path.span.clone(),
            };
            super::fields::set(v, &sub, value.clone());
        }
    }
}

/// Writes the object at node `i` with `patches` applied: `b` is copied from `copied` on
/// up to each change.
fn write_object(
    tape: &[Node],
    b: &[u8],
    i: usize,
    patches: &[(&[u8], Patch<'_>)],
    out: &mut Vec<u8>,
    copied: &mut usize,
) {
    let mut done = vec![false; patches.len()];
    let mut any = false;
    for c in children(tape, i) {
        any = true;
        let n = tape[c];
        let key = &b[n.key_start as usize..n.key_end as usize];
        let Some(j) = patches.iter().position(|(k, _)| *k == key) else {
            continue;
        };
        done[j] = true;
        match &patches[j].1 {
            Patch::Into(inner) if n.kind == Kind::Object => {
                write_object(tape, b, c, inner, out, copied);
            }
            p => {
                out.extend_from_slice(&b[*copied..n.start as usize]);
                write_patch(p, out);
                *copied = n.end as usize;
            }
        }
    }
    // Up to the closing brace, then the new members.
    let close = tape[i].end as usize - 1;
    out.extend_from_slice(&b[*copied..close]);
    *copied = close;
    for ((k, p), done) in patches.iter().zip(done) {
        if done {
            continue;
        }
        if any {
            out.push(b',');
        }
        any = true;
        out.extend_from_slice(k);
        out.push(b':');
        write_patch(p, out);
    }
}

/// A patch as a new value (an object holding only its fields, for [`Patch::Into`]).
fn write_patch(p: &Patch<'_>, out: &mut Vec<u8>) {
    match p {
        Patch::Set(v) => {
            // Writing a `Value` to a `Vec` cannot fail.
            let _ = serde_json::to_writer(&mut *out, v);
        }
        Patch::Into(inner) => write_new(inner, out),
    }
}

fn write_new(patches: &[(&[u8], Patch<'_>)], out: &mut Vec<u8>) {
    out.push(b'{');
    for (n, (k, p)) in patches.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        out.extend_from_slice(k);
        out.push(b':');
        write_patch(p, out);
    }
    out.push(b'}');
}

#[cfg(test)]
mod unit_tests {
    use super::*;
    use serde_json::json;

    fn target(p: &str) -> Arc<Target> {
        match crate::event::fields::path(p)
            .ok()
            .as_ref()
            .and_then(Target::new)
        {
            Some(t) => t,
            None => panic!("{p}"),
        }
    }

    /// Sets `sets` on `doc` as edits and on its tree: the spliced bytes are the tree's.
    fn same(doc: &str, sets: &[(&str, Value)]) {
        let b = doc.as_bytes();
        let Some(mut d) = Doc::read(b) else {
            panic!("not canonical: {doc}")
        };
        let mut tree: Value = serde_json::from_slice(b).unwrap_or(Value::Null);
        for (p, v) in sets {
            let t = target(p);
            d.set(&t, v.clone());
            crate::event::fields::set(&mut tree, &t.path, v.clone());
        }
        let want = serde_json::to_string(&tree).unwrap_or_default();
        assert_eq!(String::from_utf8_lossy(&d.write(b)), want, "{doc} {sets:?}");
        let mut replayed: Value = serde_json::from_slice(b).unwrap_or(Value::Null);
        d.replay(&mut replayed);
        assert_eq!(replayed, tree);
        // Every path read gives what the tree has, or unsure.
        for (p, _) in sets {
            for q in [*p, "a", "a.b", "a.b.c", "flags", "x", "k\"", "é"] {
                let t = target(q);
                let tv = pipec_compiler::expr::eval::lookup(&tree, &t.path);
                if let Ok(v) = d.value(b, &t) {
                    assert_eq!(v.as_ref(), tv, "{doc} {sets:?} read {q}");
                }
            }
        }
    }

    #[test]
    fn spliced_edits_are_what_the_tree_gives() {
        let docs = [
            "{}",
            r#"{"a":1}"#,
            r#"{"a":{"b":1},"x":[1,2]}"#,
            r#"{"a":{"b":{"c":null}},"flags":{}}"#,
            r#"{"a":"s","flags":"x"}"#,
            r#"{"a":[{"b":1}],"flags":[1]}"#,
            r#"{"a":null,"flags":null}"#,
            r#"{"k\"":"\u001f","é":"😀","a":{"b":"\"}"}}"#,
            "[1,2]",
            r#""x""#,
            "3",
        ];
        let sets: &[&[(&str, Value)]] = &[
            &[("a", json!(2))],
            &[("a.b", json!(2))],
            &[("a.b.c", json!({"d": [1, "é"]}))],
            &[("flags.x", json!(true)), ("flags.y", json!(false))],
            &[("flags.x", json!(true)), ("flags.x", json!(false))],
            &[("a.b", json!(1)), ("a", json!("s"))],
            &[
                ("a", json!({"b": 1, "z": 2})),
                ("a.b", json!(3)),
                ("a.c", json!(4)),
            ],
            &[("a", json!(5)), ("a.b", json!(3))],
            &[("x", json!(null)), ("a.b.c", json!(1)), ("x.y", json!(2))],
            &[("k\"", json!("q\"")), ("é", json!(1.5))],
            &[("new.deep.field", json!([]))],
        ];
        for doc in docs {
            for s in sets {
                same(doc, s);
            }
        }
    }

    #[test]
    fn reads_see_the_edits() {
        let b = br#"{"a":{"b":1,"c":"x"},"d":2.5}"#;
        let Some(mut d) = Doc::read(b) else {
            panic!("not canonical")
        };
        d.set(&target("a.b"), json!(7));
        assert!(matches!(d.get(b, &target("a.b")), Look::Value(v) if *v == json!(7)));
        assert!(matches!(d.get(b, &target("a")), Look::Unsure));
        assert_eq!(d.value(b, &target("a.c")), Ok(Some(json!("x"))));
        assert_eq!(d.value(b, &target("d")), Ok(Some(json!(2.5))));
        assert_eq!(d.value(b, &target("e")), Ok(None));
        d.set(&target("e"), json!({"f": {"g": 1}}));
        assert_eq!(d.value(b, &target("e.f.g")), Ok(Some(json!(1))));
        assert_eq!(d.value(b, &target("e.h")), Ok(None));
    }
}
