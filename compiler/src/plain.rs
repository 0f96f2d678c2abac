//! JSON values handed to serializers other than serde_json's own.
//!
//! pipec builds serde_json with `arbitrary_precision`, so that an event's numbers come out
//! exactly as they went in (`18446744073709551616`, `1.0e-400`, `-0` and `1E2` stay as
//! written; pipec's own event reader keeps even an exponent's spelling). A number then
//! keeps its text, and serde_json hands it to a foreign serializer
//! (minijinja's, Arrow's JSON decoder) as a private one-field struct, which those would
//! take for an object. [`Plain`] serializes a value with its numbers as plain integers or
//! floats instead, as serde_json without that feature would.

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::{Number, Value};

/// `value`, serialized with its numbers as `i64`, `u64` or `f64`.
#[derive(Debug, Clone, Copy)]
pub struct Plain<'a>(pub &'a Value);

impl Serialize for Plain<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Number(n) => serialize_number(n, s),
            Value::String(t) => s.serialize_str(t),
            Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for i in items {
                    seq.serialize_element(&Plain(i))?;
                }
                seq.end()
            }
            Value::Object(members) => {
                let mut map = s.serialize_map(Some(members.len()))?;
                for (k, v) in members {
                    map.serialize_entry(k, &Plain(v))?;
                }
                map.end()
            }
        }
    }
}

fn serialize_number<S: Serializer>(n: &Number, s: S) -> Result<S::Ok, S::Error> {
    if let Some(i) = n.as_i64() {
        s.serialize_i64(i)
    } else if let Some(u) = n.as_u64() {
        s.serialize_u64(u)
    } else {
        // Beyond 64 bits or not an integer: the nearest float, infinite when the text's
        // exponent is out of range (as `str::parse` reads it).
        let f = n
            .as_f64()
            .unwrap_or_else(|| n.to_string().parse().unwrap_or(f64::NAN));
        s.serialize_f64(f)
    }
}

/// `value` (any serializable thing) as a serde_json value, then as a minijinja value with
/// plain numbers.
pub fn to_template_value<T: Serialize>(value: &T) -> minijinja::Value {
    match serde_json::to_value(value) {
        Ok(v) => minijinja::Value::from_serialize(Plain(&v)),
        Err(e) => minijinja::Value::from(format!("<not serializable: {e}>")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_their_text_in_json_and_are_plain_elsewhere() {
        let text =
            r#"{"big":18446744073709551616,"tiny":1.0e-400,"neg0":-0,"exp":1e+2,"i":-7,"f":0.5}"#;
        let v: Value = serde_json::from_str(text).expect("json");
        // serde_json writes them back as they came.
        assert_eq!(serde_json::to_string(&v).expect("write"), text);
        // A foreign serializer sees plain numbers, not a private struct.
        let t = minijinja::Value::from_serialize(Plain(&v));
        let env = minijinja::Environment::new();
        let out = env
            .render_str(
                "{{ v.big > 1 }} {{ v.tiny }} {{ v.neg0 }} {{ v.exp }} {{ v.i }} {{ v.f }}",
                minijinja::context! { v => t },
            )
            .expect("render");
        assert_eq!(out, "True 0.0 0 100.0 -7 0.5");
    }

    #[test]
    fn template_values_of_structs_have_plain_numbers() {
        #[derive(Serialize)]
        struct S {
            n: Value,
        }
        let s = S {
            n: serde_json::from_str("2.5").expect("json"),
        };
        let t = to_template_value(&s);
        let env = minijinja::Environment::new();
        let out = env
            .render_str("{{ s.n * 2 }}", minijinja::context! { s => t })
            .expect("render");
        assert_eq!(out, "5.0");
    }
}
