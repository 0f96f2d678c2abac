//! Property tests: no input string makes the parser, checker or evaluator panic, and
//! printing a parsed expression gives text that parses back to the same expression.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::eval::lookup;
use super::parser::MAX_DEPTH;
use super::{AnyFields, Ty, check, check_condition, eval, parse};
use crate::expr::{FieldPath, Resolution};

/// Pieces that combine into mostly-plausible expressions.
const TOKENS: &[&str] = &[
    "a",
    "b.c",
    "x[0]",
    "x[-1]",
    "`@t`",
    "@ts",
    "d.\"k k\"",
    "e[\"f\"]",
    "1",
    "0",
    "2.5",
    "1e3",
    "'s'",
    "\"t\\n\"",
    "null",
    "true",
    "false",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "+",
    "-",
    "*",
    "/",
    "%",
    "and",
    "or",
    "not",
    "in",
    "not in",
    "(",
    ")",
    "[",
    "]",
    ",",
    "lower(",
    "substr(",
    "coalesce(",
    "if(",
    "exists(",
    "md5(",
    "iso8601(",
    "min(",
    "to_int(",
    "nope(",
    " ",
    ".",
    "=",
    "&&",
    "'",
    "\\",
];

fn event() -> Value {
    json!({"a": 3, "b": {"c": "x"}, "x": [1, 2.5, "s"], "@t": null, "@ts": 1700000000000i64,
           "d": {"k k": true}, "e": {"f": [1]}})
}

/// The type of exactly this value.
fn kind_ty(value: &Value) -> Ty {
    match value {
        Value::Null => Ty::NULL,
        Value::Bool(_) => Ty::BOOL,
        Value::Number(n) if n.is_f64() => Ty::FLOAT,
        Value::Number(_) => Ty::INT,
        Value::String(_) => Ty::STRING,
        Value::Array(_) => Ty::LIST,
        Value::Object(_) => Ty::OBJECT,
    }
}

fn strings_resolver(_: &FieldPath) -> Resolution {
    Resolution::Known(Ty::STRING.or(Ty::NULL))
}

/// Everything a caller might do with `src`; panics only if a property fails.
fn exercise(src: &str) {
    let Ok(expr) = parse(src) else { return };
    let _ = check(&expr, &AnyFields);
    let _ = check_condition(&expr, &strings_resolver);
    let _ = eval(&expr, &event());
    let _ = expr.as_type_test("a");
    let printed = expr.to_string();
    match parse(&printed) {
        Ok(again) => assert_eq!(again.to_string(), printed, "from {src:?}"),
        Err(e) => panic!("{src:?} printed as {printed:?}, which does not parse: {e:?}"),
    }
}

/// Text of mostly well-formed expressions over the fields of [`event`].
fn expression() -> impl Strategy<Value = String> {
    const LEAVES: &[&str] = &[
        "a",
        "b.c",
        "x[0]",
        "x[-1]",
        "`@t`",
        "@ts",
        "d.\"k k\"",
        "e[\"f\"][0]",
        "missing",
        "1",
        "0",
        "-7",
        "2.5",
        "1e3",
        "'s'",
        "\"t\\u00e9\"",
        "null",
        "true",
        "false",
        "[]",
    ];
    const BINARY: &[&str] = &[
        "==", "!=", "<", "<=", ">", ">=", "in", "not in", "+", "-", "*", "/", "%", "and", "or",
    ];
    const FUNCTIONS: &[&str] = &[
        "lower", "len", "substr", "coalesce", "if", "exists", "md5", "iso8601", "min", "to_int",
        "concat", "split", "round", "nope",
    ];
    let leaf = proptest::sample::select(LEAVES).prop_map(String::from);
    leaf.prop_recursive(4, 40, 3, |inner| {
        prop_oneof![
            (
                inner.clone(),
                proptest::sample::select(BINARY),
                inner.clone()
            )
                .prop_map(|(l, op, r)| format!("{l} {op} {r}")),
            (proptest::sample::select(&["not ", "-"][..]), inner.clone())
                .prop_map(|(op, e)| format!("{op}{e}")),
            inner.clone().prop_map(|e| format!("({e})")),
            proptest::collection::vec(inner.clone(), 0..3)
                .prop_map(|items| format!("[{}]", items.join(", "))),
            (
                proptest::sample::select(FUNCTIONS),
                proptest::collection::vec(inner, 0..4)
            )
                .prop_map(|(f, args)| format!("{f}({})", args.join(", "))),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_never_panics(src in ".{0,60}") {
        exercise(&src);
        let _ = FieldPath::parse(&src);
    }

    #[test]
    fn generated_expressions_round_trip(src in expression()) {
        exercise(&src);
    }

    /// The checker's type, given the exact types of the event's fields, covers the value.
    #[test]
    fn checked_type_covers_the_value(src in expression()) {
        let ev = event();
        let exact = |p: &FieldPath| Resolution::Known(lookup(&ev, p).map_or(Ty::NULL, kind_ty));
        if let Ok(expr) = parse(&src) {
            let ty = check(&expr, &exact).ty;
            if let Ok(value) = eval(&expr, &ev) {
                prop_assert!(ty.contains(kind_ty(&value)), "{src} gave {value}, typed {ty}");
            }
        }
    }

    #[test]
    fn token_soup_never_panics(parts in proptest::collection::vec(proptest::sample::select(TOKENS), 0..24)) {
        exercise(&parts.concat());
        exercise(&parts.join(" "));
    }
}

#[test]
fn deepest_accepted_trees_are_safe() {
    let chain = vec!["a"; MAX_DEPTH].join(" + ");
    let nested = format!("{}a{}", "lower(".repeat(60), ")".repeat(60));
    let brackets = format!("{}1{}", "[".repeat(64), "]".repeat(64));
    for src in [chain, nested, brackets] {
        let expr = parse(&src).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(check(&expr, &AnyFields).problems.is_empty(), "{src}");
        let _ = eval(&expr, &event());
        exercise(&src);
    }
}
