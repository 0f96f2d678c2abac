//! The keys of `dedup` and `enrich`, the steps that call a store once per batch with the
//! keys of every event that reaches them: read from the event's bytes, its doc or its tree.

use std::sync::Arc;

use pipec_compiler::expr::Expr;
use serde_json::Value;

use super::{Scratch, holds, parse, parse_when};
use crate::RuntimeError;
use crate::event::cond::Cond;
use crate::event::doc::{Look, Target};
use crate::event::{Ev, raw};

/// What `when` and `key` gave for one event.
enum Keyed {
    /// `when` does not hold, or the key is null: the step leaves the event alone.
    Skip,
    /// The event's key.
    Key(String),
    /// An expression failed.
    Error(String),
}

fn key_of(when: Option<&Cond>, key: &Expr, v: &Value) -> Keyed {
    match holds(when, v) {
        Ok(true) => {}
        Ok(false) => return Keyed::Skip,
        Err(e) => return Keyed::Error(e),
    }
    match pipec_compiler::expr::eval(key, v) {
        Ok(Value::Null) => Keyed::Skip,
        Ok(Value::String(s)) => Keyed::Key(s),
        Ok(other) => Keyed::Key(other.to_string()),
        Err(e) => Keyed::Error(e.to_string()),
    }
}

/// What `when` and `key` give for an event kept as bytes, when `key` is a path of field
/// names (`raw_key`) and `when` can be read from bytes, or `when` can be and does not hold;
/// else none.
fn key_of_raw(when: Option<&Cond>, raw_key: Option<&[Vec<u8>]>, b: &[u8]) -> Option<Keyed> {
    if let Some(c) = when {
        match c.holds_raw(b) {
            Some(Ok(true)) => {}
            Some(Ok(false)) => return Some(Keyed::Skip),
            Some(Err(e)) => return Some(Keyed::Error(e)),
            None => return None,
        }
    }
    let raw_key = raw_key?;
    // A path evaluates to the value there, null when absent; a string key is its text,
    // any other its JSON, which canonical bytes are.
    Some(match raw::lookup(b, raw_key) {
        None | Some(b"null") => Keyed::Skip,
        Some(v) => match raw::text(v) {
            Some(t) => Keyed::Key(t.into_owned()),
            None => Keyed::Key(String::from_utf8_lossy(v).into_owned()),
        },
    })
}

/// The key and `when` of a dedup read from an event's doc (the tape of its bytes and the
/// fields set since), when `key` is a path of field names (`key_t`) and `when` a fast test
/// (`when_t`, its path); else, or when a path leads into a field set, none.
fn key_of_doc(
    when: Option<(&Cond, &Target)>,
    key_t: &Target,
    ev: &Ev,
    input: &[&[u8]],
) -> Option<Keyed> {
    let d = ev.doc.as_deref()?;
    let b = ev.bytes_read(input)?;
    // What is at a path, as the spliced bytes would have it: the bytes of a value of the
    // tape are copied into them as they are.
    let found = |t: &Target| -> Option<Option<&[u8]>> {
        match d.get(b, t) {
            Look::Missing => Some(None),
            Look::Node(i) => {
                let n = d.tape().get(i)?;
                Some(Some(b.get(n.start as usize..n.end as usize)?))
            }
            Look::Value(_) | Look::Unsure => None,
        }
    };
    if let Some((c, t)) = when {
        match c.holds_found(found(t)?)? {
            Ok(true) => {}
            Ok(false) => return Some(Keyed::Skip),
            Err(e) => return Some(Keyed::Error(e)),
        }
    }
    Some(match found(key_t)? {
        None | Some(b"null") => Keyed::Skip,
        Some(v) => match raw::text(v) {
            Some(t) => Keyed::Key(t.into_owned()),
            None => Keyed::Key(String::from_utf8_lossy(v).into_owned()),
        },
    })
}

/// The quoted keys of `key` when it is a path of field names.
fn raw_key(key: &Expr) -> Option<Vec<Vec<u8>>> {
    match &key.kind {
        pipec_compiler::expr::ExprKind::Path(p) => raw::field_keys(p),
        _ => None,
    }
}

/// The events of a batch, each with the index of its key (none: skipped), and the keys.
type KeyedBatch = (Vec<(Ev, Option<usize>)>, Vec<String>);

/// Per key of a dedup step, a token of the event's place in its input record: the
/// record's position, the event's index in the record's batch, its place among the events
/// of that index at this step (explode gives several), and the step. The same record
/// processed again gives the same tokens. None when the transport gives no positions.
pub(crate) fn tokens(
    keyed: &[(Ev, Option<usize>)],
    n: usize,
    step: usize,
    positions: &[u64],
) -> Vec<u64> {
    if positions.is_empty() {
        return Vec::new();
    }
    let mut tokens = vec![0; n];
    let mut seen: std::collections::HashMap<(u32, u32), u32> = std::collections::HashMap::new();
    for (ev, k) in keyed {
        let Some(k) = *k else { continue };
        let nth = seen.entry((ev.input, ev.sub)).or_insert(0);
        let position = positions.get(ev.input as usize).copied().unwrap_or(0);
        let mut buf = [0u8; 20];
        buf[..8].copy_from_slice(&position.to_le_bytes());
        buf[8..12].copy_from_slice(&ev.sub.to_le_bytes());
        buf[12..16].copy_from_slice(&nth.to_le_bytes());
        buf[16..].copy_from_slice(&(step as u32).to_le_bytes());
        *nth += 1;
        if let Some(t) = tokens.get_mut(k) {
            // 0 means "no token".
            *t = xxhash_rust::xxh3::xxh3_64(&buf).max(1);
        }
    }
    tokens
}

/// The paths of a dedup's key and `when` as targets of a doc (see [`key_of_doc`]).
#[derive(Debug)]
struct DocPaths {
    key: Arc<Target>,
    /// The path of a fast `when` (none without one, or for an expression).
    when: Option<Arc<Target>>,
}

impl DocPaths {
    /// What reading `key` and `when` from a doc needs, when `key` is a path of field names.
    fn of(key: &Expr, when: Option<&Cond>) -> Option<DocPaths> {
        match &key.kind {
            pipec_compiler::expr::ExprKind::Path(p) => Target::new(p),
            _ => None,
        }
        .map(|key| DocPaths {
            key,
            when: when.and_then(|c| c.path()).and_then(Target::new),
        })
    }
}

/// The `when` and `key` of a step that calls a store, with what reading them from an
/// event's bytes or doc needs.
#[derive(Debug)]
pub(crate) struct Keying {
    when: Option<Cond>,
    key: Expr,
    /// The quoted keys of `key` when it is a path of field names.
    raw_key: Option<Vec<Vec<u8>>>,
    doc_paths: Option<DocPaths>,
}

impl Keying {
    pub(crate) fn new(key: &str, when: Option<&str>) -> Result<Keying, RuntimeError> {
        let key = parse(key)?;
        let when = parse_when(when)?;
        Ok(Keying {
            doc_paths: DocPaths::of(&key, when.as_ref()),
            raw_key: raw_key(&key),
            when,
            key,
        })
    }

    /// Evaluates the keys of a batch: the events, each with the index of its key (none:
    /// skipped), and the keys to look up.
    pub(crate) fn keys(
        &self,
        evs: Vec<Ev>,
        step: usize,
        s: &mut Scratch<'_>,
    ) -> Result<KeyedBatch, RuntimeError> {
        let mut keyed = Vec::with_capacity(evs.len());
        let mut keys = Vec::with_capacity(evs.len());
        for mut ev in evs {
            let from_doc = self.doc_paths.as_ref().and_then(|t| {
                let when = match (self.when.as_ref(), &t.when) {
                    (None, _) => None,
                    (Some(c), Some(w)) => Some((c, &**w)),
                    (Some(_), None) => return None,
                };
                key_of_doc(when, &t.key, &ev, s.input)
            });
            if from_doc.is_none() {
                // The bytes with the fields set spliced in.
                ev.flush(s.input);
            }
            let k = match from_doc.or_else(|| {
                ev.raw_bytes(s.input)
                    .and_then(|b| key_of_raw(self.when.as_ref(), self.raw_key.as_deref(), b))
            }) {
                Some(k) => k,
                None => {
                    ev.materialize(s.input)?;
                    key_of(self.when.as_ref(), &self.key, &ev.value)
                }
            };
            match k {
                Keyed::Skip => keyed.push((ev, None)),
                Keyed::Key(k) => {
                    keyed.push((ev, Some(keys.len())));
                    keys.push(k);
                }
                Keyed::Error(e) => s.error(ev, step, &e)?,
            }
        }
        Ok((keyed, keys))
    }
}

#[cfg(test)]
mod unit_tests {
    use super::*;
    use crate::event::{Raw, doc, fields};
    use serde_json::json;

    fn target(p: &str) -> Arc<Target> {
        match fields::path(p).ok().as_ref().and_then(Target::new) {
            Some(t) => t,
            None => panic!("{p}"),
        }
    }

    fn keyed(k: &Keyed) -> String {
        match k {
            Keyed::Skip => "skip".into(),
            Keyed::Key(k) => format!("key {k}"),
            Keyed::Error(e) => format!("error {e}"),
        }
    }

    /// A dedup's key and `when` read from the doc (tape and fields set) are what the tree
    /// with the fields set gives, or unsure.
    #[test]
    fn keys_read_from_the_doc_are_the_trees() {
        let when = crate::steps::parse_cond(
            r#"context.pdata.id in ["dev.sunbird.portal", "dev.mdo.portal"]"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let exists =
            crate::steps::parse_cond("exists(params.msgid)").unwrap_or_else(|e| panic!("{e}"));
        let docs = [
            r#"{"eid":"X","mid":"m1","context":{"channel":"c","pdata":{"id":"dev.sunbird.portal"}}}"#,
            r#"{"mid":"m\"2","context":{"pdata":{"id":"dev.mdo.portal","ver":"1"}},"params":{"msgid":"q"}}"#,
            r#"{"mid":3,"context":{"pdata":{"id":"other"}}}"#,
            r#"{"mid":null,"context":{"pdata":{"id":"dev.sunbird.portal"}}}"#,
            r#"{"mid":{"a":[1,"é"]},"context":{"pdata":{"id":1}}}"#,
            r#"{"context":"x"}"#,
            r#"{"mid":"m","context":{"pdata":null},"params":{"msgid":null}}"#,
            r#"[1]"#,
            r#""s""#,
        ];
        let edits: &[&[(&str, Value)]] = &[
            &[],
            &[("context.channel", json!("d"))],
            &[("mid", json!("new"))],
            &[("mid", json!(null))],
            &[("mid", json!(7))],
            &[("context", json!({"pdata": {"id": "dev.mdo.portal"}}))],
            &[("context.pdata", json!({"id": "dev.sunbird.portal"}))],
            &[("context.pdata.id", json!("other"))],
            &[("context.pdata.ver", json!("2")), ("flags.x", json!(true))],
            &[("params.msgid", json!("z")), ("mid", json!({"b": 1}))],
        ];
        let key_expr = parse("mid").unwrap_or_else(|e| panic!("{e}"));
        let key_t = target("mid");
        let (mut sure, mut all) = (0, 0);
        for doc in docs {
            let b = doc.as_bytes();
            for sets in edits {
                let Some(mut d) = doc::Doc::read(b) else {
                    panic!("{doc}")
                };
                let mut tree: Value = serde_json::from_slice(b).unwrap_or(Value::Null);
                for (p, v) in *sets {
                    let t = target(p);
                    d.set(&t, v.clone());
                    fields::set(&mut tree, &t.path, v.clone());
                }
                let ev = Ev {
                    value: Value::Null,
                    raw: Some(Raw::Record),
                    shape: None,
                    doc: Some(Box::new(d)),
                    input: 0,
                    sub: 0,
                };
                let input = [b];
                for (c, p) in [(&when, "context.pdata.id"), (&exists, "params.msgid")] {
                    for w in [None, Some((c, &*target(p)))] {
                        all += 1;
                        let Some(got) = key_of_doc(w, &key_t, &ev, &input) else {
                            continue;
                        };
                        sure += 1;
                        let want = key_of(w.map(|(c, _)| c), &key_expr, &tree);
                        assert_eq!(keyed(&got), keyed(&want), "{doc} {sets:?} {p}");
                    }
                }
            }
        }
        assert!(sure * 2 > all, "{sure} of {all}");
    }
}
