//! Tests of the expression parser and its error messages.

use super::*;

fn ok(src: &str) -> Expr {
    match parse(src) {
        Ok(e) => e,
        Err(e) => panic!("{src}: {e:?}"),
    }
}

fn err(src: &str) -> ExprError {
    match parse(src) {
        Err(e) => e,
        Ok(e) => panic!("{src}: expected an error, got {e}"),
    }
}

fn lit(src: &str) -> Literal {
    match ok(src).kind {
        ExprKind::Literal(l) => l,
        other => panic!("{src}: not a literal: {other:?}"),
    }
}

#[test]
fn literals() {
    assert_eq!(lit("42"), Literal::Int(42));
    assert_eq!(lit("-3"), Literal::Int(-3));
    assert_eq!(lit("1.5"), Literal::Float(1.5));
    assert_eq!(lit("2e3"), Literal::Float(2000.0));
    assert_eq!(lit("-2.5E-1"), Literal::Float(-0.25));
    assert_eq!(lit("true"), Literal::Bool(true));
    assert_eq!(lit("false"), Literal::Bool(false));
    assert_eq!(lit("null"), Literal::Null);
    assert_eq!(
        lit(r#""a\"b\\c\n\t""#),
        Literal::String("a\"b\\c\n\t".into())
    );
    assert_eq!(lit(r"'it\'s'"), Literal::String("it's".into()));
    assert_eq!(
        lit(r#""\u00e9\ud83d\ude00""#),
        Literal::String("é😀".into())
    );
    assert_eq!(lit("\"héllo\""), Literal::String("héllo".into()));
}

#[test]
fn lists_calls_and_spans() {
    let e = ok(" [1, \"a\", x] ");
    assert_eq!(e.span, 1..12);
    let ExprKind::List(items) = &e.kind else {
        panic!("{e:?}")
    };
    assert_eq!(items.len(), 3);
    assert_eq!(items[2].span, 10..11);
    let e = ok("substr(s, 1, 2)");
    let ExprKind::Call {
        name,
        name_span,
        args,
    } = &e.kind
    else {
        panic!("{e:?}")
    };
    assert_eq!(
        (name.as_str(), name_span.clone(), args.len()),
        ("substr", 0..6, 3)
    );
    let e = ok("now_ms()");
    assert!(matches!(&e.kind, ExprKind::Call { args, .. } if args.is_empty()));
    assert_eq!(ok("(a)").span, 0..3);
}

#[test]
fn paths() {
    let e = ok("context.cdata[0].id");
    let ExprKind::Path(p) = &e.kind else {
        panic!("{e:?}")
    };
    assert_eq!(p.segments.len(), 4);
    assert_eq!(
        p.segments[2],
        PathSegment::Index {
            index: 0,
            span: 13..16
        }
    );
    assert_eq!(p.segments[3].span(), 17..19);
    let p = FieldPath::parse("flags.\"my key\"[\"@x\"]").unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(
        p.segments[1],
        PathSegment::Field {
            name: "my key".into(),
            span: 6..14
        }
    );
    assert_eq!(
        p.segments[2],
        PathSegment::Field {
            name: "@x".into(),
            span: 14..20
        }
    );
    assert!(FieldPath::parse("@timestamp").is_ok());
    assert!(FieldPath::parse("$meta.in.not").is_ok());
    assert_eq!(FieldPath::parse("a == b").map_err(|e| e.span), Err(2..4));
    assert_eq!(
        FieldPath::parse("1a").map_err(|e| e.message),
        Err("expected a field path".into())
    );
    assert_eq!(
        FieldPath::parse("").map_err(|e| e.message),
        Err("empty field path".into())
    );
}

#[test]
fn precedence_and_associativity() {
    assert_eq!(
        ok("a or b and not c == 1 + 2 * -d").to_string(),
        "a or b and not c == 1 + 2 * -d"
    );
    let e = ok("not a == b");
    assert!(matches!(
        e.kind,
        ExprKind::Unary {
            op: UnaryOp::Not,
            ..
        }
    ));
    let e = ok("not a and b");
    assert!(matches!(
        e.kind,
        ExprKind::Binary {
            op: BinaryOp::And,
            ..
        }
    ));
    let e = ok("a - b - c");
    let ExprKind::Binary { lhs, .. } = &e.kind else {
        panic!("{e:?}")
    };
    assert_eq!(lhs.span, 0..5);
    let e = ok("x not  in [1] or y in z");
    assert!(matches!(
        e.kind,
        ExprKind::Binary {
            op: BinaryOp::Or,
            ..
        }
    ));
    assert!(ok("(a < b) == true").to_string() == "(a < b) == true");
    assert!(ok("android or nothing or inside").paths().len() == 3);
}

#[test]
fn error_messages() {
    let e = err("a ==");
    assert_eq!(
        (e.message.as_str(), e.label.as_str(), e.span),
        ("expected an operand", "expected a value here", 4..4)
    );
    let e = err("a == and");
    assert_eq!(e.span, 5..8);
    assert!(
        e.help
            .as_deref()
            .is_some_and(|h| h.contains("`and` is a keyword"))
    );
    let e = err("a b");
    assert_eq!(
        (e.message.as_str(), e.span.clone()),
        ("unexpected `b`", 2..3)
    );
    assert_eq!(e.label, "expected an operator or the end of the expression");
    let e = err("f(a b)");
    assert_eq!(
        (e.span.clone(), e.label.as_str()),
        (4..5, "expected an operator, `,` or `)`")
    );
    assert_eq!(err("a.").message, "expected a field name after `.`");
    assert_eq!(err("a[x]").message, "expected an index");
    assert_eq!(err("a < b < c").message, "comparisons cannot be chained");
    assert_eq!(err("a == b != c").span, 0..11);
    assert_eq!(err("'abc").message, "unclosed string");
    assert_eq!(err("(a").message, "unbalanced parenthesis");
    assert_eq!(err("a)").message, "unexpected `)`");
    assert_eq!(err(" \n").message, "empty expression");
    assert_eq!(err("a && b").help.as_deref(), Some("write `and`"));
    assert_eq!(
        err("99999999999999999999").message,
        "integer literal is too large"
    );
    assert_eq!(err("1e999").message, "number is too large");
    let e = err(r#""ab\qc""#);
    assert_eq!((e.message.as_str(), e.span), ("unknown escape `\\q`", 3..5));
    let e = err(r#""\u12""#);
    assert_eq!(
        (e.message.as_str(), e.span.start),
        ("invalid unicode escape", 1)
    );
    assert_eq!(err(r#""\ud800x""#).message, "invalid unicode escape");
    assert_eq!(err("é").span, 0..2);
    assert_eq!(err("a + ").message, "expected an operand");
    assert_eq!(err("[1,,2]").span, 3..4);
    assert_eq!(err("f(,)").message, "expected an operand");
    assert_eq!(err("a == #").span, 5..6);
    let e = err(".5");
    assert_eq!(
        (e.message.as_str(), e.help.as_deref()),
        (
            "expected an operand",
            Some("write a digit before the point: `0.5`")
        )
    );
    assert_eq!(err("`ab").help.as_deref(), Some("add a closing backquote"));
}

#[test]
fn depth_limit() {
    let chain = vec!["x"; MAX_DEPTH].join(" or ");
    let e = ok(&chain);
    assert_eq!(e.depth(), MAX_DEPTH);
    assert_eq!(e.paths().len(), MAX_DEPTH);
    assert_eq!(e.to_string(), chain);
    let too_long = vec!["x"; MAX_DEPTH + 2].join(" + ");
    assert_eq!(err(&too_long).message, "expression is nested too deeply");
}

#[test]
fn negations_print_back_as_text_that_parses_to_the_same() {
    // Found by the `expr` fuzzer: 33 minus signs printed as 32 nested parentheses, over the
    // nesting limit when read back.
    for n in [1, 2, 3, 33, 64] {
        let src = format!("{}x", "-".repeat(n));
        let e = ok(&src);
        let shown = e.to_string();
        let again = ok(&shown);
        assert_eq!(again.to_string(), shown, "{src}");
    }
    assert_eq!(ok("--x").to_string(), "- -x");
    // A negated number literal keeps its parentheses: `- -7` would read back as 7.
    for src in ["-(-7)", "- -(7)", "-(-(-7))", "-(1.5)"] {
        let shown = ok(src).to_string();
        assert_eq!(ok(&shown).to_string(), shown, "{src}");
    }
    assert_eq!(ok("-(-7)").to_string(), "-(-7)");
}
