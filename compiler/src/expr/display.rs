//! Printing expressions back as source text, with only the parentheses precedence needs.

use std::fmt::{self, Write};

use super::ast::{Expr, ExprKind, Literal, UnaryOp, push_quoted};

/// Precedence of `not`, between `and` and the comparisons.
const NOT_PREC: u8 = 3;
/// Precedence of unary minus, above `*`.
const NEG_PREC: u8 = 7;
/// Precedence of operands that never need parentheses.
const ATOM_PREC: u8 = 8;

fn precedence(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Binary { op, .. } => op.precedence(),
        ExprKind::Unary {
            op: UnaryOp::Not, ..
        } => NOT_PREC,
        ExprKind::Unary {
            op: UnaryOp::Neg, ..
        } => NEG_PREC,
        _ => ATOM_PREC,
    }
}

fn write_expr(out: &mut String, e: &Expr, min_prec: u8) {
    let wrap = precedence(e) < min_prec;
    if wrap {
        out.push('(');
    }
    match &e.kind {
        ExprKind::Literal(lit) => write_literal(out, lit),
        ExprKind::Path(p) => out.push_str(&p.to_string()),
        ExprKind::List(items) => {
            out.push('[');
            write_list(out, items);
            out.push(']');
        }
        ExprKind::Call { name, args, .. } => {
            out.push_str(name);
            out.push('(');
            write_list(out, args);
            out.push(')');
        }
        ExprKind::Unary { op, expr } => {
            out.push_str(op.symbol());
            let mut inner = String::new();
            let inner_prec = if *op == UnaryOp::Not {
                NOT_PREC
            } else {
                NEG_PREC
            };
            write_expr(&mut inner, expr, inner_prec);
            if *op == UnaryOp::Not {
                out.push(' ');
            }
            // `- -7` or `-7` would read back as a literal: keep such operands in parentheses.
            // A negation of a negation is `- -x`: in parentheses, each level would count
            // twice against the parser's nesting limit, and a deep one would not read back.
            let number = matches!(
                expr.kind,
                ExprKind::Literal(Literal::Int(_) | Literal::Float(_))
            );
            if *op == UnaryOp::Neg && number {
                out.push('(');
                out.push_str(&inner);
                out.push(')');
            } else {
                if *op == UnaryOp::Neg && inner.starts_with('-') {
                    out.push(' ');
                }
                out.push_str(&inner);
            }
        }
        ExprKind::Binary { op, lhs, rhs } => {
            let p = op.precedence();
            let left_min = if op.is_comparison() { p + 1 } else { p };
            write_expr(out, lhs, left_min);
            let _ = write!(out, " {} ", op.symbol());
            write_expr(out, rhs, p + 1);
        }
    }
    if wrap {
        out.push(')');
    }
}

fn write_list(out: &mut String, items: &[Expr]) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_expr(out, item, 0);
    }
}

fn write_literal(out: &mut String, lit: &Literal) {
    match lit {
        Literal::Null => out.push_str("null"),
        Literal::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Literal::Int(n) => out.push_str(&n.to_string()),
        // `{:?}` keeps a `.0` or an exponent, so the text parses back as a float.
        Literal::Float(f) => out.push_str(&format!("{f:?}")),
        Literal::String(s) => push_quoted(out, s, '"'),
    }
}

/// Source text for the expression: `a == "x" and (b or not c)`.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        write_expr(&mut out, self, 0);
        f.write_str(&out)
    }
}

/// Source text for the literal: `null`, `1.5`, `"a\"b"`.
impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        write_literal(&mut out, self);
        f.write_str(&out)
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse;

    fn canon(src: &str) -> String {
        match parse(src) {
            Ok(e) => e.to_string(),
            Err(e) => panic!("{src}: {e:?}"),
        }
    }

    #[test]
    fn prints_minimal_parentheses() {
        assert_eq!(canon("(a + b) * c"), "(a + b) * c");
        assert_eq!(canon("a + (b * c)"), "a + b * c");
        assert_eq!(canon("a - (b - c)"), "a - (b - c)");
        assert_eq!(canon("not (a == 1)"), "not a == 1");
        assert_eq!(canon("not (a or b)"), "not (a or b)");
        assert_eq!(canon("a == (not b)"), "a == (not b)");
        assert_eq!(canon("(a == b) == c"), "(a == b) == c");
        assert_eq!(canon("- (a + 1)"), "-(a + 1)");
        assert_eq!(canon("-(-x)"), "- -x");
        assert_eq!(canon("-(-7)"), "-(-7)");
        assert_eq!(canon("-(7)"), "-(7)");
        assert_eq!(canon("-7"), "-7");
        assert_eq!(canon("- -3"), "3");
        assert_eq!(canon("x not in [1,2.0,'a']"), "x not in [1, 2.0, \"a\"]");
        assert_eq!(canon("f( a , g(b) )"), "f(a, g(b))");
        assert_eq!(canon("2e3 + 1.5"), "2000.0 + 1.5");
    }

    /// Whatever the parser accepts, up to its nesting limit, prints as text it accepts
    /// again: printing may add parentheses (`- not x` is `-(not x)`), and the nesting check
    /// counts them in advance. Found by the `expr` fuzzer with nested `- not` pairs.
    #[test]
    fn deep_inputs_print_back_within_the_limit() {
        let patterns: [(&str, &str, &str); 10] = [
            ("- not ", "x", ""),
            ("x - - - not ", "x", ""),
            ("n - - - not o - ", "x", ""),
            ("-(not ", "x", ")"),
            ("x == not ", "x", ""),
            ("x + not ", "x", ""),
            ("x in not ", "x", ""),
            ("not - not ", "x", ""),
            ("- - not not ", "x", ""),
            ("[not -", "x", "]"),
        ];
        let mut accepted = 0;
        for (open, atom, close) in patterns {
            for n in 1..=80 {
                let src = format!("{}{atom}{}", open.repeat(n), close.repeat(n));
                let Ok(e) = parse(&src) else { continue };
                accepted += 1;
                let shown = e.to_string();
                let again = parse(&shown)
                    .unwrap_or_else(|err| panic!("`{src}` printed as `{shown}`: {err:?}"));
                assert_eq!(again.to_string(), shown, "{src}");
            }
        }
        // Each pattern is accepted at small depths, so the loop tested something.
        assert!(accepted >= 10 * 10, "only {accepted} inputs parsed");
    }
}
