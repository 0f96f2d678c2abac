//! Reading an input event as Sunbird's Jackson binding reads it into `WorkFlowIndexEvent` (for
//! the grouping key) and `WFSInputEvent` (for the summaries): the fields it declares, with
//! Jackson's coercions, borrowed from the JSON rather than copied.
//!
//! Sunbird drops an event that does not bind (`JSONUtils.deserialize` throws, the model logs
//! and filters it out), so a field of a type Jackson cannot bind makes [`bind`] return `None`:
//! an object or array where a string or number is declared, a number out of range, a string
//! that is not an integer where one is declared. Jackson's coercions that succeed are kept:
//! numbers and booleans read as strings, floats truncate to integers, integer strings read as
//! numbers, null or absent numbers read as 0. Fields the classes do not declare are ignored.
//! (A float read as a string takes serde_json's rendering, `1000000000000.0` for a source
//! `1.0E12`, where Jackson keeps the source text.)

use std::borrow::Cow;

use serde_json::{Map, Value};

/// A string field: absent or null is `None`.
pub(super) type Text<'a> = Option<Cow<'a, str>>;

/// A JSON object.
pub(super) type Object = Map<String, Value>;

/// The field's type does not bind (Jackson throws, Sunbird drops the event).
#[derive(Debug, PartialEq)]
pub(super) struct Unbound;

/// `V3PData`: the producer of an event.
#[derive(Debug, PartialEq)]
pub(super) struct PData<'a> {
    pub id: Text<'a>,
    pub ver: Text<'a>,
    pub pid: Text<'a>,
}

/// `V3Context`, the part of the event both bindings read.
#[derive(Debug, PartialEq)]
pub(super) struct Context<'a> {
    pub channel: Text<'a>,
    pub env: Text<'a>,
    pub sid: Text<'a>,
    pub did: Text<'a>,
    pub pdata: Option<PData<'a>>,
    /// `List[V3CData]`, checked to bind; written out again by the output.
    pub cdata: Option<&'a [Value]>,
    /// `RollUp`, checked to bind.
    pub rollup: Option<&'a Object>,
}

/// `WFSInputEvent`: what the model reads of one event.
#[derive(Debug, PartialEq)]
pub(super) struct Event<'a> {
    pub eid: Cow<'a, str>,
    pub ets: i64,
    pub timestamp: Text<'a>,
    pub ver: Text<'a>,
    pub actor_id: Text<'a>,
    pub actor_type: Text<'a>,
    pub context: Context<'a>,
    /// `V3Object`, checked to bind.
    pub object: Option<&'a Object>,
    pub etype: Text<'a>,
    pub mode: Text<'a>,
    pub pageid: Text<'a>,
    pub pass: Text<'a>,
    pub duration: i64,
    pub score: i32,
    /// `Question`, checked to bind.
    pub item: Option<&'a Object>,
    /// `Array[Map[String, AnyRef]]`.
    pub resvalues: Option<&'a [Value]>,
    /// `List[AnyRef]`.
    pub tags: Option<&'a [Value]>,
}

/// What `WorkFlowIndexEvent` reads: the fields of the grouping key.
#[derive(Debug, PartialEq)]
pub(super) struct Index<'a> {
    pub eid: Text<'a>,
    pub actor_id: Text<'a>,
    pub actor_type: Text<'a>,
    pub context: Option<Context<'a>>,
}

/// Binds the index fields of an event, or `None` when they do not bind.
pub(super) fn bind_index(event: &Value) -> Option<Index<'_>> {
    let [eid, actor, ctx] = pick(event.as_object()?, &["eid", "actor", "context"]);
    let [actor_id, actor_type] = object(actor)
        .ok()?
        .map_or([None; 2], |a| pick(a, &["id", "type"]));
    Some(Index {
        eid: text(eid).ok()?,
        actor_id: text(actor_id).ok()?,
        actor_type: text(actor_type).ok()?,
        context: context(ctx).ok()?,
    })
}

/// Binds an event as `WFSInputEvent`, or `None` when it does not bind, has no `eid`, or has no
/// `context` (for which Sunbird's model throws a `NullPointerException` and fails the run).
pub(super) fn bind(event: &Value) -> Option<Event<'_>> {
    bind_fields(event.as_object()?).ok().flatten()
}

/// The fields `WFSInputEvent` declares, in the order [`bind_fields`] reads them.
pub(super) const EVENT_FIELDS: [&str; 9] = [
    "eid",
    "ets",
    "@timestamp",
    "ver",
    "actor",
    "context",
    "object",
    "edata",
    "tags",
];

/// The fields `WFSInputEData` declares.
pub(super) const EDATA_FIELDS: [&str; 8] = [
    "type",
    "mode",
    "pageid",
    "pass",
    "duration",
    "score",
    "item",
    "resvalues",
];

fn bind_fields(event: &Object) -> Result<Option<Event<'_>>, Unbound> {
    let [
        eid,
        ets,
        timestamp,
        ver,
        actor,
        ctx,
        object_field,
        edata,
        tags,
    ] = pick(event, &EVENT_FIELDS);
    let [actor_id, actor_type] = object(actor)?.map_or([None; 2], |a| pick(a, &["id", "type"]));
    let [etype, mode, pageid, pass, duration, score, item, resvalues] =
        object(edata)?.map_or([None; 8], |e| pick(e, &EDATA_FIELDS));
    let Some(eid) = text(eid)? else {
        return Ok(None);
    };
    let Some(context) = context(ctx)? else {
        return Ok(None);
    };
    let item = object(item)?;
    if let Some(item) = item {
        question(item)?;
    }
    let object_field = object(object_field)?;
    if let Some(o) = object_field {
        v3_object(o)?;
    }
    Ok(Some(Event {
        eid,
        ets: long(ets)?,
        timestamp: text(timestamp)?,
        ver: text(ver)?,
        actor_id: text(actor_id)?,
        actor_type: text(actor_type)?,
        context,
        object: object_field,
        etype: text(etype)?,
        mode: text(mode)?,
        pageid: text(pageid)?,
        pass: text(pass)?,
        duration: long(duration)?,
        score: int(score)?,
        item,
        resvalues: objects(resvalues)?,
        tags: array(tags)?,
    }))
}

/// The `ets` an event is ordered by (`WFSInputEvent.ets`), or `None` when it does not bind.
pub(super) fn ets(event: &Value) -> Option<i64> {
    long(event.get("ets")).ok()
}

/// The fields `V3Context` declares.
pub(super) const CONTEXT_FIELDS: [&str; 7] =
    ["channel", "env", "sid", "did", "pdata", "cdata", "rollup"];

/// `V3Context`; absent or null is `None`.
fn context(v: Option<&Value>) -> Result<Option<Context<'_>>, Unbound> {
    let Some(c) = object(v)? else { return Ok(None) };
    let [channel, env, sid, did, pdata, cdata, rollup_field] = pick(c, &CONTEXT_FIELDS);
    let pdata = match object(pdata)? {
        Some(p) => {
            let [id, ver, pid, model] = pick(p, &["id", "ver", "pid", "model"]);
            text(model)?;
            Some(PData {
                id: text(id)?,
                ver: text(ver)?,
                pid: text(pid)?,
            })
        }
        None => None,
    };
    let cdata = array(cdata)?;
    for entry in cdata.unwrap_or_default() {
        if let Some(entry) = object(Some(entry))? {
            texts(entry, &["id", "type"])?;
        }
    }
    Ok(Some(Context {
        channel: text(channel)?,
        env: text(env)?,
        sid: text(sid)?,
        did: text(did)?,
        pdata,
        cdata,
        rollup: rollup(rollup_field)?,
    }))
}

/// The values of the named fields of an object, in one pass over it (a comparison of short
/// strings per entry is cheaper than hashing each name for a lookup).
fn pick<'a, const N: usize>(o: &'a Object, names: &[&str; N]) -> [Option<&'a Value>; N] {
    let mut found = [None; N];
    for (key, value) in o {
        if let Some(i) = names.iter().position(|n| *n == key) {
            found[i] = Some(value);
        }
    }
    found
}

/// `RollUp(l1, l2, l3, l4)`.
pub(super) fn rollup(v: Option<&Value>) -> Result<Option<&Object>, Unbound> {
    let r = object(v)?;
    if let Some(r) = r {
        texts(r, &["l1", "l2", "l3", "l4"])?;
    }
    Ok(r)
}

/// `V3Object(id, type, ver, rollup, subtype, parent: CommonObject(id, type, ver))`.
pub(super) fn v3_object(o: &Object) -> Result<(), Unbound> {
    texts(o, &["id", "type", "ver", "subtype"])?;
    rollup(o.get("rollup"))?;
    if let Some(parent) = object(o.get("parent"))? {
        texts(parent, &["id", "type", "ver"])?;
    }
    Ok(())
}

/// `Question(id, maxscore: Int, exlength: Int, params: Array[Map], uri, desc, title,
/// mmc: Array[String], mc: Array[String])`.
pub(super) fn question(q: &Object) -> Result<(), Unbound> {
    texts(q, &["id", "uri", "desc", "title"])?;
    int(q.get("maxscore"))?;
    int(q.get("exlength"))?;
    objects(q.get("params"))?;
    for name in ["mmc", "mc"] {
        for entry in array(q.get(name))?.unwrap_or_default() {
            text(Some(entry))?;
        }
    }
    Ok(())
}

/// Checks that the named fields of an object bind as strings.
pub(super) fn texts(o: &Object, names: &[&str]) -> Result<(), Unbound> {
    o.iter()
        .filter(|(key, _)| names.contains(&key.as_str()))
        .try_for_each(|(_, v)| text(Some(v)).map(drop))
}

/// A `String`: Jackson takes numbers and booleans as their text, fails on arrays and objects.
pub(super) fn text(v: Option<&Value>) -> Result<Text<'_>, Unbound> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(Cow::Borrowed(s.as_str()))),
        Some(Value::Number(n)) => Ok(Some(Cow::Owned(n.to_string()))),
        Some(Value::Bool(b)) => Ok(Some(Cow::Owned(b.to_string()))),
        Some(Value::Array(_) | Value::Object(_)) => Err(Unbound),
    }
}

/// A primitive `Long`: null or absent is 0, a float truncates (Java's cast), an integer string
/// parses; anything else, or an integer out of range, fails.
pub(super) fn long(v: Option<&Value>) -> Result<i64, Unbound> {
    match v {
        None | Some(Value::Null) => Ok(0),
        Some(Value::Number(n)) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Ok(i),
            (None, Some(f)) if !n.is_u64() => Ok(f as i64),
            _ => Err(Unbound),
        },
        Some(Value::String(s)) => {
            let s = s.trim();
            if s.is_empty() || s == "null" {
                Ok(0)
            } else {
                s.parse().map_err(|_| Unbound)
            }
        }
        Some(_) => Err(Unbound),
    }
}

/// A primitive `Int`, as [`long`] with the range of an `Int`; a float saturates (Java's cast).
pub(super) fn int(v: Option<&Value>) -> Result<i32, Unbound> {
    if let Some(Value::Number(n)) = v
        && n.as_i64().is_none()
        && !n.is_u64()
    {
        return Ok(n.as_f64().map_or(0, |f| f as i32));
    }
    i32::try_from(long(v)?).map_err(|_| Unbound)
}

/// A nested class: absent or null is `None`, anything but an object fails.
pub(super) fn object(v: Option<&Value>) -> Result<Option<&Object>, Unbound> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(_) => Err(Unbound),
    }
}

/// A `List` or `Array`: absent or null is `None`, anything but an array fails.
pub(super) fn array(v: Option<&Value>) -> Result<Option<&[Value]>, Unbound> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => Ok(Some(a.as_slice())),
        Some(_) => Err(Unbound),
    }
}

/// An `Array[Map[String, AnyRef]]`: an array of objects or nulls.
pub(super) fn objects(v: Option<&Value>) -> Result<Option<&[Value]>, Unbound> {
    let a = array(v)?;
    for entry in a.unwrap_or_default() {
        object(Some(entry))?;
    }
    Ok(a)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn jackson_coercions() {
        let e = json!({"eid": "START", "ets": 1.51540235431E12, "context": {"channel": 505},
            "edata": {"type": "app", "duration": 21.7, "score": "3"}});
        let Some(b) = bind(&e) else { panic!("binds") };
        assert_eq!(b.ets, 1_515_402_354_310);
        assert_eq!(b.context.channel.as_deref(), Some("505"));
        assert_eq!((b.duration, b.score), (21, 3));
        assert!(b.etype.is_some() && b.mode.is_none() && b.object.is_none());
    }

    #[test]
    fn what_does_not_bind_is_dropped() {
        let base = json!({"eid": "INTERACT", "ets": 1, "context": {}});
        assert!(bind(&base).is_some());
        for (path, bad) in [
            ("/ets", json!("soon")),
            ("/ets", json!(true)),
            ("/eid", json!({"x": 1})),
            ("/context", json!("ctx")),
            (
                "/context/cdata",
                json!([{"id": ["a", "b"], "type": "Source"}]),
            ),
            ("/object", json!("do_1")),
            ("/tags", json!("t")),
        ] {
            let mut e = base.clone();
            let (parent, key) = path.rsplit_once('/').unwrap_or_default();
            if let Some(Value::Object(m)) = e.pointer_mut(parent) {
                m.insert(key.to_owned(), bad.clone());
            }
            assert!(bind(&e).is_none(), "{path} = {bad}");
        }
        assert!(bind(&json!({"ets": 1, "context": {}})).is_none(), "no eid");
        assert!(
            bind(&json!({"eid": "START", "ets": 1})).is_none(),
            "no context"
        );
        assert!(bind(&json!([1, 2])).is_none());
    }
}
