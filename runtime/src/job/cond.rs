//! Conditions (`when`), with a fast path for the common type tests `field == "X"` and
//! `field in ["X", "Y"]`, which compare in place instead of building values.

use pipec_compiler::expr::{BinaryOp, Expr, ExprKind, FieldPath, Literal};
use serde_json::Value;

/// A parsed condition.
#[derive(Debug)]
pub(super) enum Cond {
    /// `path == "literal"`.
    Eq(FieldPath, String),
    /// `path in ["literal", ...]`.
    In(FieldPath, Vec<String>),
    /// Anything else, evaluated.
    Expr(Expr),
}

impl Cond {
    pub(super) fn new(e: Expr) -> Cond {
        if let ExprKind::Binary { op, lhs, rhs } = &e.kind
            && let ExprKind::Path(p) = &lhs.kind
        {
            match (op, &rhs.kind) {
                (BinaryOp::Eq, ExprKind::Literal(Literal::String(s))) => {
                    return Cond::Eq(p.clone(), s.clone());
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
                        return Cond::In(p.clone(), lits);
                    }
                }
                _ => {}
            }
        }
        Cond::Expr(e)
    }

    /// Whether the condition holds; null and non-booleans do not.
    pub(super) fn holds(&self, v: &Value) -> Result<bool, String> {
        let text = |p: &FieldPath| pipec_compiler::expr::eval::lookup(v, p).and_then(Value::as_str);
        match self {
            Cond::Eq(p, s) => Ok(text(p) == Some(s.as_str())),
            Cond::In(p, list) => Ok(text(p).is_some_and(|t| list.iter().any(|s| s == t))),
            Cond::Expr(e) => pipec_compiler::expr::eval(e, v)
                .map(|r| r == Value::Bool(true))
                .map_err(|e| e.to_string()),
        }
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
        ];
        for src in ["eid == \"LOG\"", "eid in [\"ASSESS\", \"RESPONSE\"]"] {
            let fast = cond(src);
            assert!(!matches!(fast, Cond::Expr(_)), "{src}");
            let slow = match pipec_compiler::expr::parse(src) {
                Ok(e) => Cond::Expr(e),
                Err(e) => panic!("{}", e.message),
            };
            for e in &events {
                assert_eq!(fast.holds(e), slow.holds(e), "{src} on {e}");
            }
        }
    }
}
