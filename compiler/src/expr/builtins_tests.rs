//! Tests of every built-in function, including the examples in the reference table.

use serde_json::{Value, json};

use super::*;
use crate::expr::functions::functions;
use crate::expr::parse;

fn event() -> Value {
    json!({"edata": {"type": "click", "value": null}, "s": "Hello", "n": -4, "f": 2.5,
           "list": [3, 1, 2], "obj": {"a": 1, "b": 2}})
}

fn run(src: &str) -> Result<Value, EvalError> {
    let expr = parse(src).unwrap_or_else(|e| panic!("{src}: {e:?}"));
    eval(&expr, &event())
}

fn ok(src: &str) -> Value {
    run(src).unwrap_or_else(|e| panic!("{src}: {e:?}"))
}

fn fails(src: &str) -> String {
    match run(src) {
        Err(e) => e.message,
        Ok(v) => panic!("{src}: expected an error, got {v}"),
    }
}

#[test]
fn documented_examples_hold() {
    for f in functions().iter().filter(|f| f.name != "now_ms") {
        let want: Value = serde_json::from_str(f.example_result)
            .unwrap_or_else(|e| panic!("{}: bad example result: {e}", f.name));
        assert_eq!(ok(f.example), want, "{}", f.example);
    }
}

#[test]
fn null_handling_functions() {
    assert_eq!(ok("coalesce(edata.value, missing, 'x', 'y')"), json!("x"));
    assert_eq!(ok("coalesce(null, missing)"), Value::Null);
    assert_eq!(ok("is_null(missing)"), json!(true));
    assert_eq!(ok("is_null(s)"), json!(false));
    assert_eq!(ok("exists(edata.value)"), json!(true));
    assert_eq!(ok("exists(edata.other)"), json!(false));
    assert_eq!(fails("exists('edata')"), "`exists` takes a field path");
    assert_eq!(ok("if(n < 0, 'neg', 'pos')"), json!("neg"));
    assert_eq!(ok("if(missing, 1, 2)"), json!(2));
    assert_eq!(ok("if(true, 1, 1 / 0)"), json!(1));
    assert_eq!(fails("if(s, 1, 2)"), "expected true or false, found string");
    for f in [
        "lower",
        "upper",
        "trim",
        "len",
        "md5",
        "to_string",
        "to_int",
        "to_float",
        "round",
    ] {
        assert_eq!(ok(&format!("{f}(missing)")), Value::Null, "{f}");
    }
}

#[test]
fn string_functions() {
    assert_eq!(ok("lower(s)"), json!("hello"));
    assert_eq!(ok("upper('straße')"), json!("STRASSE"));
    // Of a list, each string in it; other elements as they are.
    assert_eq!(
        ok("upper(['ab', 1, null, 'Cd'])"),
        json!(["AB", 1, null, "CD"])
    );
    assert_eq!(ok("lower([])"), json!([]));
    assert_eq!(ok("trim('\\t x \\n')"), json!("x"));
    assert_eq!(ok("len(s)"), json!(5));
    assert_eq!(ok("len(list)"), json!(3));
    assert_eq!(ok("len(obj)"), json!(2));
    assert_eq!(
        fails("len(n)"),
        "`len` needs a string, list or object for `value`, found int"
    );
    assert_eq!(
        ok("concat(s, ' ', n, ' ', f, list, obj)"),
        json!("Hello -4 2.5[3,1,2]{\"a\":1,\"b\":2}")
    );
    assert_eq!(ok("contains(s, 'ell')"), json!(true));
    assert_eq!(ok("contains(list, 1.0)"), json!(true));
    assert_eq!(ok("contains(list, 'x')"), json!(false));
    assert_eq!(
        fails("contains(s, 1)"),
        "`contains` needs a string for `needle`, found int"
    );
    assert_eq!(ok("starts_with(s, 'He')"), json!(true));
    assert_eq!(ok("ends_with(s, 'He')"), json!(false));
    assert_eq!(ok("substr(s, 1)"), json!("ello"));
    assert_eq!(ok("substr(s, -3, 2)"), json!("ll"));
    assert_eq!(ok("substr(s, -30, 1)"), json!("H"));
    assert_eq!(ok("substr(s, 10, 2)"), json!(""));
    assert_eq!(ok("substr('héllo', 1, 1)"), json!("é"));
    assert_eq!(
        fails("substr(s, 0, -1)"),
        "`substr` needs a length of 0 or more, found -1"
    );
    assert_eq!(
        fails("substr(s, 'a')"),
        "`substr` needs an int for `start`, found string"
    );
    assert_eq!(ok("replace('aXbX', 'X', '')"), json!("ab"));
    assert_eq!(ok("split('a,,b', ',')"), json!(["a", "", "b"]));
    assert_eq!(ok("split('ab', '')"), json!(["a", "b"]));
    assert_eq!(ok("join(list, '+')"), json!("3+1+2"));
    assert_eq!(
        fails("join(s, '+')"),
        "`join` needs a list for `list`, found string"
    );
    assert_eq!(ok("md5('')"), json!("d41d8cd98f00b204e9800998ecf8427e"));
    assert_eq!(ok("md5('abc')"), json!("900150983cd24fb0d6963f7d28e17f72"));
}

#[test]
fn conversions() {
    assert_eq!(ok("to_string(s)"), json!("Hello"));
    assert_eq!(ok("to_string(n)"), json!("-4"));
    assert_eq!(ok("to_string(true)"), json!("true"));
    assert_eq!(ok("to_string(list)"), json!("[3,1,2]"));
    assert_eq!(ok("to_int(' 12 ')"), json!(12));
    assert_eq!(ok("to_int('-1.9')"), json!(-1));
    assert_eq!(ok("to_int(f)"), json!(2));
    assert_eq!(ok("to_int(false)"), json!(0));
    assert_eq!(fails("to_int('abc')"), "cannot convert \"abc\" to int");
    assert_eq!(fails("to_int('1e30')"), "cannot convert \"1e30\" to int");
    assert_eq!(fails("to_int(1e30)"), "1e30 is out of the int range");
    assert_eq!(
        fails("to_int(list)"),
        "`to_int` needs a number, string or bool for `value`, found list"
    );
    assert_eq!(ok("to_float(n)"), json!(-4.0));
    assert_eq!(ok("to_float('2.5')"), json!(2.5));
    assert_eq!(ok("to_float(true)"), json!(1.0));
    assert_eq!(fails("to_float('inf')"), "cannot convert \"inf\" to float");
}

#[test]
fn time_functions() {
    let now = ok("now_ms()").as_i64().unwrap_or(0);
    assert!(now > 1_700_000_000_000, "{now}");
    assert_eq!(ok("iso8601(0)"), json!("1970-01-01T00:00:00.000Z"));
    assert_eq!(
        ok("iso8601(1700000000123)"),
        json!("2023-11-14T22:13:20.123Z")
    );
    assert_eq!(ok("iso8601(1.7e12)"), json!("2023-11-14T22:13:20.000Z"));
    assert_eq!(
        fails("iso8601(1.5)"),
        "`iso8601` needs an int for `ms`, found float"
    );
    assert_eq!(
        fails("iso8601(-99999999999999999)"),
        "timestamp is outside the years 0000 to 9999"
    );
    assert_eq!(ok("from_iso8601('1970-01-02')"), json!(86_400_000));
    assert_eq!(
        fails("from_iso8601('yesterday')"),
        "\"yesterday\" is not an ISO 8601 timestamp"
    );
    assert_eq!(
        ok("from_iso8601(iso8601(1234567890123))"),
        json!(1234567890123i64)
    );
}

#[test]
fn number_functions() {
    assert_eq!(ok("abs(n)"), json!(4));
    assert_eq!(ok("abs(-2.5)"), json!(2.5));
    assert_eq!(fails("abs(-9223372036854775807 - 1)"), "integer overflow");
    assert_eq!(ok("min(n, f, 3)"), json!(-4));
    assert_eq!(ok("max(n, f, 1)"), json!(2.5));
    assert_eq!(ok("max(1, 1.0)"), json!(1));
    assert_eq!(
        fails("min(1, 'a')"),
        "`min` needs a number for `b`, found string"
    );
    assert_eq!(
        fails("max(1, 2, null)"),
        "`max` needs a number for `more`, found null"
    );
    assert_eq!(ok("round(f)"), json!(3));
    assert_eq!(ok("round(-2.5)"), json!(-3));
    assert_eq!(ok("round(2.4)"), json!(2));
    assert_eq!(ok("round(n)"), json!(-4));
    assert_eq!(fails("round(1e300)"), "1e300 is out of the int range");
}

#[test]
fn bad_calls_are_errors_not_panics() {
    assert_eq!(fails("nope(1)"), "unknown function `nope`");
    assert_eq!(
        fails("lower()"),
        "wrong number of arguments: lower(s: string or list) -> type of s"
    );
    assert_eq!(
        fails("lower(1)"),
        "`lower` needs a string or list for `s`, found int"
    );
    assert_eq!(
        fails("if(true, 1)"),
        "wrong number of arguments: if(cond: bool or null, then: any, else: any) -> type of then/else"
    );
}

#[test]
fn the_clock_can_be_fixed_and_months_are_calendar_months() {
    // 2024-03-31T10:00:00Z: past 1.7e12, so that `time_functions`, which may run meanwhile
    // in another thread, still holds.
    super::super::clock::fix(Some(1_711_879_200_000));
    let fixed = ok("now_ms()");
    let expiry = ok("iso8601(add_months(now_ms(), -3))");
    super::super::clock::fix(None);
    assert_eq!(fixed, json!(1_711_879_200_000_i64));
    assert_eq!(expiry, json!("2023-12-31T10:00:00.000Z"));
    let months = |at: &str, n: i64| ok(&format!("iso8601(add_months(from_iso8601('{at}'), {n}))"));
    // The day of the month is kept, or clamped to the month's last day.
    assert_eq!(
        months("2024-03-31T10:00:00Z", -1),
        json!("2024-02-29T10:00:00.000Z")
    );
    assert_eq!(
        months("2024-02-29T00:00:00Z", -12),
        json!("2023-02-28T00:00:00.000Z")
    );
    assert_eq!(
        months("2024-01-15T23:59:59.999Z", 11),
        json!("2024-12-15T23:59:59.999Z")
    );
    assert_eq!(
        months("2024-01-31T00:00:00Z", 13),
        json!("2025-02-28T00:00:00.000Z")
    );
    assert_eq!(
        months("2024-05-31T08:00:00Z", 0),
        json!("2024-05-31T08:00:00.000Z")
    );
    // Before 1970 too.
    assert_eq!(
        ok("iso8601(add_months(-1, 1))"),
        json!("1970-01-31T23:59:59.999Z")
    );
    assert_eq!(
        fails("add_months(9223372036854775807, 1)"),
        "the date is out of range"
    );
    assert_eq!(
        ok("iso8601(end_of_day(from_iso8601('2024-06-15T14:30:00Z')))"),
        json!("2024-06-15T23:59:59.999Z")
    );
    assert_eq!(ok("end_of_day(-1)"), json!(-1));
    assert_eq!(ok("end_of_day(0)"), json!(86_399_999));
}

#[test]
fn parse_json_reads_texts_of_values() {
    assert_eq!(
        ok(r#"parse_json('{"scrn":"5.46","n":[1,2.5]}')"#),
        json!({"scrn": "5.46", "n": [1, 2.5]})
    );
    assert_eq!(ok("parse_json('[]')"), json!([]));
    assert_eq!(ok("parse_json(' 7 ')"), json!(7));
    assert_eq!(ok("parse_json(null)"), Value::Null);
    assert!(fails("parse_json('{')").starts_with("not a JSON text: "));
    assert_eq!(
        fails("parse_json(1)"),
        "`parse_json` needs a string for `s`, found int"
    );
}

#[test]
fn decode_text_reads_lists_and_objects_kept_as_text() {
    assert_eq!(
        ok(r#"decode_text('["location-1","location-2"]')"#),
        json!(["location-1", "location-2"])
    );
    assert_eq!(ok("decode_text(' {}')"), json!({}));
    assert_eq!(ok("decode_text('Telangana')"), json!("Telangana"));
    assert_eq!(ok("decode_text('7')"), json!("7"));
    assert_eq!(ok("decode_text('')"), json!(""));
    assert!(fails("decode_text('[1,')").starts_with("not a JSON text: "));
    // Raw control characters inside strings, as Gson writes and reads them (Sunbird's
    // device cache has a tab in `devicespec.cpu`), between tokens as JSON allows them.
    assert_eq!(
        ok("decode_text('{\"cpu\":\"abi:\tx\\\\\\\\\",\n\"n\":1}')"),
        json!({"cpu": "abi:\tx\\", "n": 1})
    );
    assert!(fails("parse_json('[\"a\tb\"]')").starts_with("not a JSON text: "));
}

#[test]
fn object_functions() {
    let o = r#"parse_json('{"mimeType":"video","created_By":"u","name":"","x":null,"n":0}')"#;
    assert_eq!(
        ok(&format!("pick({o}, ['name', 'n', 'missing'])")),
        json!({"name": "", "n": 0})
    );
    assert_eq!(
        ok(&format!("compact({o})")),
        json!({"mimeType": "video", "created_By": "u", "n": 0})
    );
    assert_eq!(
        ok(&format!("replace_keys(lower_keys(compact({o})), '_', '')")),
        json!({"mimetype": "video", "createdby": "u", "n": 0})
    );
    assert_eq!(
        fails(&format!("replace_keys({o}, '', 'x')")),
        "`from` is empty"
    );
    assert_eq!(ok("merge(null, null)"), json!({}));
    assert_eq!(
        ok(r#"merge(parse_json('{"a":1}'), parse_json('{"a":2,"b":3}'))"#),
        json!({"a": 2, "b": 3})
    );
    assert_eq!(
        fails("merge(null, 'x')"),
        "`merge` needs an object for `more`, found string"
    );
    assert_eq!(
        fails("pick(1, [])"),
        "`pick` needs an object for `object`, found int"
    );
    for (v, t) in [
        ("null", "null"),
        ("true", "bool"),
        ("1", "int"),
        ("1.5", "float"),
        ("'a'", "string"),
        ("[1]", "list"),
        ("parse_json('{}')", "object"),
        ("missing", "null"),
    ] {
        assert_eq!(ok(&format!("type_of({v})")), json!(t), "{v}");
    }
    // Sunbird's content dates: with an offset, without one (UTC), and not a date at all.
    assert_eq!(
        ok("from_iso8601('2019-09-09T10:03:34.416+0000', 0)"),
        json!(1_568_023_414_416_i64)
    );
    assert_eq!(
        ok("from_iso8601('2019-09-09T10:03:34.416', 0)"),
        json!(1_568_023_414_416_i64)
    );
    assert_eq!(ok("from_iso8601('yesterday', 0)"), json!(0));
}
