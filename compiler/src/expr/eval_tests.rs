//! Tests of operator evaluation.

use serde_json::{Value, json};

use super::*;
use crate::expr::parse;

fn event() -> Value {
    json!({
        "eid": "INTERACT",
        "ets": 1700000000123i64,
        "edata": {"type": "click", "value": null, "score": 2.5, "tags": ["a", "b"]},
        "context": {"cdata": [{"id": "c1"}, {"id": "c2"}]},
        "@timestamp": "2023-11-14T22:13:20.123Z",
        "n": 7,
        "big": 9223372036854775807i64,
        "flag": true
    })
}

fn run(src: &str) -> Result<Value, EvalError> {
    let expr = parse(src).unwrap_or_else(|e| panic!("{src}: {e:?}"));
    eval(&expr, &event())
}

fn ok(src: &str) -> Value {
    run(src).unwrap_or_else(|e| panic!("{src}: {e:?}"))
}

fn fails(src: &str) -> EvalError {
    match run(src) {
        Err(e) => e,
        Ok(v) => panic!("{src}: expected an error, got {v}"),
    }
}

#[test]
fn literals_lists_and_paths() {
    assert_eq!(
        ok("[1, 'a', null, true, 2.5]"),
        json!([1, "a", null, true, 2.5])
    );
    assert_eq!(ok("eid"), json!("INTERACT"));
    assert_eq!(ok("edata.type"), json!("click"));
    assert_eq!(ok("context.cdata[1].id"), json!("c2"));
    assert_eq!(ok("context.cdata[-1].id"), json!("c2"));
    assert_eq!(ok("context.cdata[-3]"), Value::Null);
    assert_eq!(ok("context.cdata[9]"), Value::Null);
    assert_eq!(ok("`@timestamp`"), json!("2023-11-14T22:13:20.123Z"));
    assert_eq!(ok("@timestamp"), json!("2023-11-14T22:13:20.123Z"));
    assert_eq!(ok("missing.deeper[0]"), Value::Null);
    assert_eq!(ok("eid.x"), Value::Null);
}

#[test]
fn equality() {
    assert_eq!(ok("eid == 'INTERACT'"), json!(true));
    assert_eq!(ok("n == 7.0"), json!(true));
    assert_eq!(ok("n != 7"), json!(false));
    assert_eq!(ok("n == '7'"), json!(false));
    assert_eq!(ok("edata.value == null"), json!(true));
    assert_eq!(ok("missing == null"), json!(true));
    assert_eq!(ok("edata.tags == ['a', 'b']"), json!(true));
    assert_eq!(ok("[1, [2]] == [1.0, [2.0]]"), json!(true));
    assert_eq!(ok("big == 9223372036854775807"), json!(true));
    assert_eq!(ok("big == 9.223372036854775807e18"), json!(false));
}

#[test]
fn ordering() {
    assert_eq!(ok("n < 7.5"), json!(true));
    assert_eq!(ok("n >= 7"), json!(true));
    assert_eq!(ok("n > 6.99"), json!(true));
    assert_eq!(ok("-1 > -1.5"), json!(true));
    assert_eq!(ok("'abc' < 'abd'"), json!(true));
    assert_eq!(ok("'b' <= 'a'"), json!(false));
    assert_eq!(ok("missing < 3"), json!(false));
    assert_eq!(ok("big < 1e19"), json!(true));
    let e = fails("eid < 3");
    assert_eq!(
        (e.message.as_str(), e.span),
        ("cannot compare string with int", 0..7)
    );
}

#[test]
fn membership() {
    assert_eq!(ok("eid in ['LOG', 'INTERACT']"), json!(true));
    assert_eq!(ok("n in [1, 7.0]"), json!(true));
    assert_eq!(ok("'c' not in edata.tags"), json!(true));
    assert_eq!(ok("'a' in missing"), json!(false));
    assert_eq!(
        fails("'a' in eid").message,
        "`in` needs a list, found string"
    );
}

#[test]
fn logic_short_circuits() {
    assert_eq!(ok("flag and n > 3"), json!(true));
    assert_eq!(ok("missing or flag"), json!(true));
    assert_eq!(ok("missing and flag"), json!(false));
    assert_eq!(ok("not missing"), json!(true));
    assert_eq!(ok("not flag"), json!(false));
    // The right side is never evaluated, so its type error does not surface.
    assert_eq!(ok("false and eid < 3"), json!(false));
    assert_eq!(ok("true or eid < 3"), json!(true));
    let e = fails("eid and flag");
    assert_eq!(
        (e.message.as_str(), e.span),
        ("expected true or false, found string", 0..3)
    );
    assert_eq!(fails("not n").message, "expected true or false, found int");
}

#[test]
fn arithmetic() {
    assert_eq!(ok("n + 1"), json!(8));
    assert_eq!(ok("n - 10"), json!(-3));
    assert_eq!(ok("n * 2"), json!(14));
    assert_eq!(ok("n / 2"), json!(3.5));
    assert_eq!(ok("6 / 3"), json!(2.0));
    assert_eq!(ok("n % 4"), json!(3));
    assert_eq!(ok("-n % 4"), json!(-3));
    assert_eq!(ok("7.5 % 2"), json!(1.5));
    assert_eq!(ok("edata.score * 2"), json!(5.0));
    assert_eq!(ok("1 + 2 * 3 - 4"), json!(3));
    assert_eq!(ok("-(n)"), json!(-7));
    assert_eq!(ok("-edata.score"), json!(-2.5));
    assert_eq!(ok("eid + '-' + edata.type"), json!("INTERACT-click"));
    assert_eq!(ok("missing + 1"), Value::Null);
    assert_eq!(ok("-missing"), Value::Null);
    assert_eq!(fails("n / 0").message, "division by zero");
    assert_eq!(fails("n % 0.0").message, "division by zero");
    assert_eq!(fails("n / (1 - 1.0)").message, "division by zero");
    assert_eq!(fails("big + 1").message, "integer overflow");
    assert_eq!(fails("-big - 2").message, "integer overflow");
    assert_eq!(fails("1e308 * 10").message, "number out of range");
    let e = fails("eid + 1");
    assert_eq!(
        (e.message.as_str(), e.span),
        ("cannot apply `+` to string and int", 0..7)
    );
    assert_eq!(fails("-eid").message, "cannot negate string");
}

#[test]
fn number_comparison_is_exact() {
    let n = |i: i64| Num::Int(i);
    assert!(num_cmp(n(i64::MAX), Num::Float(2f64.powi(63))).is_lt());
    assert!(num_cmp(n(i64::MIN), Num::Float(-(2f64.powi(63)))).is_eq());
    assert!(num_cmp(n(3), Num::Float(3.5)).is_lt());
    assert!(num_cmp(n(-3), Num::Float(-3.5)).is_gt());
    assert!(num_cmp(Num::Float(1e300), n(0)).is_gt());
}
