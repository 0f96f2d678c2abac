//! Fuzz target: the expression language. The first line of the input is an expression,
//! the rest an event. Parsing, checking and evaluating must never panic; an expression
//! that parses prints back as text that parses to the same expression.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pipec_compiler::expr::{AnyFields, check, eval, parse};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (src, event) = text.split_once('\n').unwrap_or((&text, "{}"));
    let Ok(expr) = parse(src) else { return };
    let shown = expr.to_string();
    let again = parse(&shown).unwrap_or_else(|e| panic!("`{src}` printed as `{shown}`, which does not parse: {e:?}"));
    assert_eq!(again.to_string(), shown, "printing is stable");
    let _ = check(&expr, &AnyFields);
    let event: Value = serde_json::from_str(event).unwrap_or_else(|_| Value::Object(Default::default()));
    let _ = eval(&expr, &event);
});
