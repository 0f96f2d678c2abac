//! Binding an event straight from its JSON bytes, as [`super::input`] binds it from a
//! `serde_json::Value`, without building the tree: the bytes are read once into a tape of
//! their values (the stream runtime's canonical check, `crate::event::raw`), and the fields
//! the model reads are found on it. Strings are borrowed from the bytes; only the parts the
//! output writes back whole (`object`, `edata.item`, `edata.resvalues`, `tags`,
//! `context.cdata`, `context.rollup`) become values, each from its own bytes ([`Parts`]).
//!
//! Only a record in the canonical form (what serde_json writes: compact, no repeated key)
//! has a tape; the caller parses any other record into a tree and binds that. Both ways give
//! the same binding, Jackson's coercions included: numbers bound as strings keep their text,
//! as serde_json's `arbitrary_precision` numbers do, and numbers bound as `Long` or `Int`
//! go through the very functions the tree's binding uses.

use std::borrow::Cow;

use serde_json::Value;

use super::input::{self, Context, Event, Index, Object, PData, Text, Unbound};
use crate::event::doc::{children, member, node_value};
use crate::event::raw::{Kind, Node, canonical_tape, text as unquote};

/// A record and the tape of its values.
pub(crate) struct Doc<'a> {
    b: &'a [u8],
    tape: Vec<Node>,
}

/// Node of the root.
const ROOT: usize = 0;

impl<'a> Doc<'a> {
    /// The tape of `b`; `None` when the record is not in canonical form (bind its tree).
    pub(crate) fn new(b: &'a [u8]) -> Option<Doc<'a>> {
        Some(Doc {
            b,
            tape: canonical_tape(b)?,
        })
    }

    fn kind(&self, i: usize) -> Option<Kind> {
        self.tape.get(i).map(|n| n.kind)
    }

    fn bytes(&self, i: usize) -> &'a [u8] {
        let b: &'a [u8] = self.b;
        self.tape
            .get(i)
            .and_then(|n| b.get(n.start as usize..n.end as usize))
            .unwrap_or_default()
    }

    /// Member `key` (quoted) of the object at node `at`, if there is one.
    fn get(&self, at: Option<usize>, key: &[u8]) -> Option<usize> {
        member(&self.tape, self.b, at?, key)
    }

    /// The value at node `at` as a tree (for the parts the output writes back whole).
    fn value(&self, at: Option<usize>) -> Option<Value> {
        node_value(&self.tape, self.b, at?)
    }

    /// A `String` (see [`input::text`]): numbers keep their text, booleans are spelt out.
    fn text(&self, at: Option<usize>) -> Result<Text<'a>, Unbound> {
        let Some(i) = at else { return Ok(None) };
        match self.kind(i) {
            None | Some(Kind::Null) => Ok(None),
            Some(Kind::String) => unquote(self.bytes(i)).map(Some).ok_or(Unbound),
            Some(Kind::Int | Kind::Float) => std::str::from_utf8(self.bytes(i))
                .map(|s| Some(Cow::Borrowed(s)))
                .map_err(|_| Unbound),
            Some(Kind::True) => Ok(Some(Cow::Borrowed("true"))),
            Some(Kind::False) => Ok(Some(Cow::Borrowed("false"))),
            Some(Kind::Object | Kind::Array) => Err(Unbound),
        }
    }

    /// Checks that the named members of the object at `at` bind as strings.
    fn texts(&self, at: usize, names: &[&[u8]]) -> Result<(), Unbound> {
        names
            .iter()
            .try_for_each(|n| self.text(self.get(Some(at), n)).map(drop))
    }

    /// A scalar as the tree has it, for the bindings of numbers.
    fn scalar(&self, at: Option<usize>) -> Result<Option<Value>, Unbound> {
        let Some(i) = at else { return Ok(None) };
        match self.kind(i) {
            None | Some(Kind::Null) => Ok(None),
            Some(Kind::Object | Kind::Array) => Err(Unbound),
            Some(_) => self.value(Some(i)).map(Some).ok_or(Unbound),
        }
    }

    /// A primitive `Long` ([`input::long`]).
    fn long(&self, at: Option<usize>) -> Result<i64, Unbound> {
        input::long(self.scalar(at)?.as_ref())
    }

    /// A primitive `Int` ([`input::int`]).
    fn int(&self, at: Option<usize>) -> Result<i32, Unbound> {
        input::int(self.scalar(at)?.as_ref())
    }

    /// A nested class: absent or null is `None`, anything but an object fails.
    fn object(&self, at: Option<usize>) -> Result<Option<usize>, Unbound> {
        match at.and_then(|i| self.kind(i)) {
            None | Some(Kind::Null) => Ok(None),
            Some(Kind::Object) => Ok(at),
            Some(_) => Err(Unbound),
        }
    }

    /// A list: absent or null is `None`, anything but an array fails.
    fn array(&self, at: Option<usize>) -> Result<Option<usize>, Unbound> {
        match at.and_then(|i| self.kind(i)) {
            None | Some(Kind::Null) => Ok(None),
            Some(Kind::Array) => Ok(at),
            Some(_) => Err(Unbound),
        }
    }

    /// `V3Context` (see [`input`]), its `cdata` and `rollup` checked and taken from `parts`
    /// (none for the grouping key, which only checks them).
    fn context(
        &self,
        at: Option<usize>,
        parts: Option<&'a Parts>,
    ) -> Result<Option<Context<'a>>, Unbound> {
        let Some(c) = self.object(at)? else {
            return Ok(None);
        };
        let field = |k: &[u8]| self.get(Some(c), k);
        let pdata = match self.object(field(b"\"pdata\""))? {
            Some(p) => {
                let f = |k: &[u8]| self.get(Some(p), k);
                self.text(f(b"\"model\""))?;
                Some(PData {
                    id: self.text(f(b"\"id\""))?,
                    ver: self.text(f(b"\"ver\""))?,
                    pid: self.text(f(b"\"pid\""))?,
                })
            }
            None => None,
        };
        if let Some(list) = self.array(field(b"\"cdata\""))? {
            for entry in children(&self.tape, list) {
                if let Some(e) = self.object(Some(entry))? {
                    self.texts(e, &[b"\"id\"", b"\"type\""])?;
                }
            }
        }
        if let Some(r) = self.object(field(b"\"rollup\""))? {
            self.texts(r, &ROLLUP)?;
        }
        Ok(Some(Context {
            channel: self.text(field(b"\"channel\""))?,
            env: self.text(field(b"\"env\""))?,
            sid: self.text(field(b"\"sid\""))?,
            did: self.text(field(b"\"did\""))?,
            pdata,
            cdata: parts.and_then(|p| p.cdata.as_ref()?.as_array().map(Vec::as_slice)),
            rollup: parts.and_then(|p| p.rollup.as_ref()?.as_object()),
        }))
    }

    /// `actor.id` and `actor.type`.
    fn actor(&self) -> Result<[Text<'a>; 2], Unbound> {
        match self.object(self.get(Some(ROOT), b"\"actor\""))? {
            Some(a) => Ok([
                self.text(self.get(Some(a), b"\"id\""))?,
                self.text(self.get(Some(a), b"\"type\""))?,
            ]),
            None => Ok([None, None]),
        }
    }
}

/// The members of a `RollUp`.
const ROLLUP: [&[u8]; 4] = [b"\"l1\"", b"\"l2\"", b"\"l3\"", b"\"l4\""];

/// [`input::bind_index`] on the tape (the context's `cdata` and `rollup` are checked, not
/// kept: the key does not read them).
pub(super) fn bind_index<'a>(d: &Doc<'a>) -> Option<Index<'a>> {
    if d.kind(ROOT) != Some(Kind::Object) {
        return None;
    }
    let [actor_id, actor_type] = d.actor().ok()?;
    Some(Index {
        eid: d.text(d.get(Some(ROOT), b"\"eid\"")).ok()?,
        actor_id,
        actor_type,
        context: d.context(d.get(Some(ROOT), b"\"context\""), None).ok()?,
    })
}

/// The `ets` and `mid` an event is ordered by (see [`super::order_key`]).
pub(crate) fn order<'a>(d: &Doc<'a>) -> (i64, Cow<'a, str>) {
    let ets = d.long(d.get(Some(ROOT), b"\"ets\"")).unwrap_or(i64::MIN);
    let mid = d
        .get(Some(ROOT), b"\"mid\"")
        .filter(|&i| d.kind(i) == Some(Kind::String))
        .and_then(|i| unquote(d.bytes(i)))
        .unwrap_or_default();
    (ets, mid)
}

/// The parts of an event the output writes back whole, as trees.
#[derive(Default)]
pub(crate) struct Parts {
    object: Option<Value>,
    item: Option<Value>,
    resvalues: Option<Value>,
    tags: Option<Value>,
    cdata: Option<Value>,
    rollup: Option<Value>,
}

/// The [`Parts`] of `d`: the values of those members that are there and not null.
pub(crate) fn parts(d: &Doc<'_>) -> Parts {
    let root = Some(ROOT);
    let edata = d.get(root, b"\"edata\"");
    let context = d.get(root, b"\"context\"");
    let some = |at: Option<usize>| at.filter(|&i| d.kind(i) != Some(Kind::Null));
    Parts {
        object: d.value(some(d.get(root, b"\"object\""))),
        item: d.value(some(d.get(edata, b"\"item\""))),
        resvalues: d.value(some(d.get(edata, b"\"resvalues\""))),
        tags: d.value(some(d.get(root, b"\"tags\""))),
        cdata: d.value(some(d.get(context, b"\"cdata\""))),
        rollup: d.value(some(d.get(context, b"\"rollup\""))),
    }
}

/// [`input::bind`] on the tape, with the parts `p` of the same record ([`parts`]).
pub(super) fn bind<'a>(d: &Doc<'a>, p: &'a Parts) -> Option<Event<'a>> {
    bind_fields(d, p).ok().flatten()
}

fn bind_fields<'a>(d: &Doc<'a>, p: &'a Parts) -> Result<Option<Event<'a>>, Unbound> {
    if d.kind(ROOT) != Some(Kind::Object) {
        return Err(Unbound);
    }
    let root = Some(ROOT);
    let top = |k: &[u8]| d.get(root, k);
    let [actor_id, actor_type] = d.actor()?;
    let edata = d.object(top(b"\"edata\""))?;
    let field = |k: &[u8]| d.get(edata, k);
    let Some(eid) = d.text(top(b"\"eid\""))? else {
        return Ok(None);
    };
    let Some(context) = d.context(top(b"\"context\""), Some(p))? else {
        return Ok(None);
    };
    // The parts: their kinds from the tape, their checks on their trees as the tree's
    // binding makes them.
    let item = tree_object(d, field(b"\"item\""), p.item.as_ref())?;
    if let Some(item) = item {
        input::question(item)?;
    }
    let object = tree_object(d, top(b"\"object\""), p.object.as_ref())?;
    if let Some(o) = object {
        input::v3_object(o)?;
    }
    Ok(Some(Event {
        eid,
        ets: d.long(top(b"\"ets\""))?,
        timestamp: d.text(top(b"\"@timestamp\""))?,
        ver: d.text(top(b"\"ver\""))?,
        actor_id,
        actor_type,
        context,
        object,
        etype: d.text(field(b"\"type\""))?,
        mode: d.text(field(b"\"mode\""))?,
        pageid: d.text(field(b"\"pageid\""))?,
        pass: d.text(field(b"\"pass\""))?,
        duration: d.long(field(b"\"duration\""))?,
        score: d.int(field(b"\"score\""))?,
        item,
        resvalues: input::objects(p.resvalues.as_ref())?,
        tags: input::array(p.tags.as_ref())?,
    }))
}

/// A nested class whose tree is `tree`: its kind checked on the tape.
fn tree_object<'a>(
    d: &Doc<'_>,
    at: Option<usize>,
    tree: Option<&'a Value>,
) -> Result<Option<&'a Object>, Unbound> {
    match d.object(at)? {
        Some(_) => tree.and_then(Value::as_object).map(Some).ok_or(Unbound),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests;
