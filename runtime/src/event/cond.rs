//! Conditions (`when`), with a fast path for the common type tests `field == "X"`,
//! `field in ["X", "Y"]` and `exists(field)`, which compare in place instead of building
//! values, on the tree or on the event's bytes.

use pipec_compiler::expr::{BinaryOp, Expr, ExprKind, FieldPath, Literal};
use serde_json::Value;

/// A parsed condition.
#[derive(Debug)]
pub(crate) struct Cond {
    kind: Kind,
    /// The quoted keys of the path of a fast test, when it has no index: the test can
    /// then read the event's bytes.
    keys: Option<Vec<Vec<u8>>>,
    /// The literals of `==` and `in` as serde_json writes them: the text of a string of
    /// canonical bytes is one of them exactly when its bytes are.
    quoted: Vec<Vec<u8>>,
}

#[derive(Debug)]
enum Kind {
    /// `path == "literal"`.
    Eq(FieldPath, String),
    /// `path in ["literal", ...]`.
    In(FieldPath, Vec<String>),
    /// `exists(path)`.
    Exists(FieldPath),
    /// Anything else, evaluated.
    Expr(Expr),
}

impl Cond {
    pub(crate) fn new(e: Expr) -> Cond {
        let kind = Kind::new(e);
        let keys = match &kind {
            Kind::Eq(p, _) | Kind::In(p, _) | Kind::Exists(p) => super::raw::field_keys(p),
            Kind::Expr(_) => None,
        };
        let quoted = match &kind {
            Kind::Eq(_, s) => vec![super::raw::quoted(s)],
            Kind::In(_, list) => list.iter().map(|s| super::raw::quoted(s)).collect(),
            Kind::Exists(_) | Kind::Expr(_) => Vec::new(),
        };
        Cond { kind, keys, quoted }
    }

    /// Whether the condition holds; null and non-booleans do not.
    pub(crate) fn holds(&self, v: &Value) -> Result<bool, String> {
        let lookup = |p: &FieldPath| pipec_compiler::expr::eval::lookup(v, p);
        let text = |p: &FieldPath| lookup(p).and_then(Value::as_str);
        match &self.kind {
            Kind::Eq(p, s) => Ok(text(p) == Some(s.as_str())),
            Kind::In(p, list) => Ok(text(p).is_some_and(|t| list.iter().any(|s| s == t))),
            Kind::Exists(p) => Ok(lookup(p).is_some()),
            Kind::Expr(e) => pipec_compiler::expr::eval(e, v)
                .map(|r| r == Value::Bool(true))
                .map_err(|e| e.to_string()),
        }
    }

    /// Whether the condition holds for the event of these canonical bytes; none when it
    /// needs the tree.
    pub(crate) fn holds_raw(&self, b: &[u8]) -> Option<Result<bool, String>> {
        let keys = self.keys.as_deref()?;
        self.holds_found(super::raw::lookup(b, keys))
    }

    /// The path a fast test reads (none for an expression).
    pub(crate) fn path(&self) -> Option<&FieldPath> {
        match &self.kind {
            Kind::Eq(p, _) | Kind::In(p, _) | Kind::Exists(p) => Some(p),
            Kind::Expr(_) => None,
        }
    }

    /// The quoted keys of the path a fast test reads from bytes.
    pub(crate) fn raw_keys(&self) -> Option<&[Vec<u8>]> {
        self.keys.as_deref()
    }

    /// [`Cond::holds_raw`], given what is at its path in the bytes (as [`super::raw::lookup`]
    /// finds it).
    pub(crate) fn holds_found(&self, found: Option<&[u8]>) -> Option<Result<bool, String>> {
        // Canonical bytes of a string are what serde_json writes for its text.
        let one_of = || found.is_some_and(|f| self.quoted.iter().any(|q| q.as_slice() == f));
        Some(Ok(match &self.kind {
            Kind::Eq(..) | Kind::In(..) => one_of(),
            Kind::Exists(_) => found.is_some(),
            Kind::Expr(_) => return None,
        }))
    }
}

impl Kind {
    fn new(e: Expr) -> Kind {
        if let ExprKind::Call { name, args, .. } = &e.kind
            && name == "exists"
            && let [arg] = args.as_slice()
            && let ExprKind::Path(p) = &arg.kind
        {
            return Kind::Exists(p.clone());
        }
        if let ExprKind::Binary { op, lhs, rhs } = &e.kind
            && let ExprKind::Path(p) = &lhs.kind
        {
            match (op, &rhs.kind) {
                (BinaryOp::Eq, ExprKind::Literal(Literal::String(s))) => {
                    return Kind::Eq(p.clone(), s.clone());
                }
                (BinaryOp::In, ExprKind::List(items)) => {
                    let lits: Option<Vec<String>> = items
                        .iter()
                        .map(|i| match &i.kind {
                            ExprKind::Literal(Literal::String(s)) => Some(s.clone()),
                            _ => None,
                        })
                        .collect();
                    if let Some(lits) = lits {
                        return Kind::In(p.clone(), lits);
                    }
                }
                _ => {}
            }
        }
        Kind::Expr(e)
    }
}

#[cfg(test)]
mod unit_tests {
    use super::*;
    use serde_json::json;

    fn cond(src: &str) -> Cond {
        match pipec_compiler::expr::parse(src) {
            Ok(e) => Cond::new(e),
            Err(e) => panic!("{}", e.message),
        }
    }

    #[test]
    fn fast_paths_agree_with_evaluation() {
        let events = [
            json!({"eid": "LOG"}),
            json!({"eid": "ASSESS"}),
            json!({"eid": 1}),
            json!({}),
            json!({"eid": null}),
            json!({"eid": "LO\"G", "params": {"msgid": "x"}}),
            json!({"eid": "RESPONSE", "params": {"msgid": null}}),
            json!({"eid": {"x": "LOG"}, "params": 3}),
        ];
        for src in [
            "eid == \"LOG\"",
            "eid == \"LO\\\"G\"",
            "eid in [\"ASSESS\", \"RESPONSE\"]",
            "exists(params.msgid)",
            "exists(eid)",
        ] {
            let fast = cond(src);
            assert!(!matches!(fast.kind, Kind::Expr(_)), "{src}");
            assert!(fast.keys.is_some(), "{src}");
            let slow = match pipec_compiler::expr::parse(src) {
                Ok(e) => Cond {
                    kind: Kind::Expr(e),
                    keys: None,
                    quoted: Vec::new(),
                },
                Err(e) => panic!("{}", e.message),
            };
            for e in &events {
                assert_eq!(fast.holds(e), slow.holds(e), "{src} on {e}");
                let bytes = serde_json::to_vec(e).unwrap_or_default();
                assert_eq!(fast.holds_raw(&bytes), Some(slow.holds(e)), "{src} on {e}");
            }
            assert_eq!(slow.holds_raw(b"{}"), None);
        }
    }
}
