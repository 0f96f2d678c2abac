//! [`TypeSet`]: the JSON types a schema's `type` (and `enum`) allow, with `integer` a part
//! of `number`, so that `integer` → `number` is a widening and `number` → `integer` a
//! narrowing.

use serde_json::{Map, Value};

/// A set of JSON types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TypeSet(u8);

const NULL: u8 = 1;
const BOOLEAN: u8 = 2;
const OBJECT: u8 = 4;
const ARRAY: u8 = 8;
const STRING: u8 = 16;
const INTEGER: u8 = 32;
/// Numbers with a fraction: `number` is `INTEGER | FRACTION`.
const FRACTION: u8 = 64;
const NUMBER: u8 = INTEGER | FRACTION;

impl TypeSet {
    /// No type.
    pub const NONE: TypeSet = TypeSet(0);
    /// Every type.
    pub const ALL: TypeSet = TypeSet(NULL | BOOLEAN | OBJECT | ARRAY | STRING | NUMBER);

    /// The types a `type` name allows (an unknown name allows every type).
    fn named(name: &str) -> TypeSet {
        TypeSet(match name {
            "null" => NULL,
            "boolean" => BOOLEAN,
            "object" => OBJECT,
            "array" => ARRAY,
            "string" => STRING,
            "integer" => INTEGER,
            "number" => NUMBER,
            _ => return TypeSet::ALL,
        })
    }

    /// The types the `type` keyword of a schema allows.
    pub fn declared(schema: &Map<String, Value>) -> TypeSet {
        match schema.get("type") {
            Some(Value::String(name)) => TypeSet::named(name),
            Some(Value::Array(names)) if !names.is_empty() => {
                names.iter().fold(TypeSet::NONE, |set, name| {
                    set.or(name.as_str().map_or(TypeSet::ALL, TypeSet::named))
                })
            }
            _ => TypeSet::ALL,
        }
    }

    /// The type of one value (a number without a fraction is an integer).
    pub fn of_value(value: &Value) -> TypeSet {
        TypeSet(match value {
            Value::Null => NULL,
            Value::Bool(_) => BOOLEAN,
            Value::Object(_) => OBJECT,
            Value::Array(_) => ARRAY,
            Value::String(_) => STRING,
            Value::Number(n) if n.as_f64().is_some_and(|f| f.fract() == 0.0) => INTEGER,
            Value::Number(_) => FRACTION,
        })
    }

    /// The union.
    pub fn or(self, other: TypeSet) -> TypeSet {
        TypeSet(self.0 | other.0)
    }

    /// The intersection.
    pub fn and(self, other: TypeSet) -> TypeSet {
        TypeSet(self.0 & other.0)
    }

    /// Whether every type of `other` is in `self`.
    pub fn contains(self, other: TypeSet) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether no type is allowed.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// `string`, `[string, null]`, `any`.
    pub fn describe(self) -> String {
        if self == TypeSet::ALL {
            return "any".into();
        }
        let mut names = Vec::new();
        for (bits, name) in [
            (OBJECT, "object"),
            (ARRAY, "array"),
            (STRING, "string"),
            (NUMBER, "number"),
            (INTEGER, "integer"),
            (FRACTION, "number"),
            (BOOLEAN, "boolean"),
            (NULL, "null"),
        ] {
            let covered = names.iter().any(|(b, _)| b & bits == bits);
            if self.0 & bits == bits && !covered {
                names.push((bits, name));
            }
        }
        match names.as_slice() {
            [] => "nothing".into(),
            [(_, one)] => (*one).to_string(),
            many => {
                let list: Vec<&str> = many.iter().map(|(_, n)| *n).collect();
                format!("[{}]", list.join(", "))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn declared(v: Value) -> TypeSet {
        TypeSet::declared(v.as_object().expect("object"))
    }

    #[test]
    fn integer_is_part_of_number() {
        let int = declared(json!({"type": "integer"}));
        let num = declared(json!({"type": "number"}));
        assert!(num.contains(int) && !int.contains(num));
        assert_eq!(int.describe(), "integer");
        assert_eq!(num.describe(), "number");
        assert_eq!(TypeSet::of_value(&json!(2.0)), int);
        assert_eq!(TypeSet::of_value(&json!(2.5)).describe(), "number");
    }

    #[test]
    fn lists_and_defaults() {
        let sn = declared(json!({"type": ["string", "null"]}));
        let s = declared(json!({"type": "string"}));
        assert!(sn.contains(s));
        assert_eq!(sn.describe(), "[string, null]");
        assert_eq!(declared(json!({})), TypeSet::ALL);
        assert_eq!(declared(json!({"type": []})), TypeSet::ALL);
        assert_eq!(declared(json!({"type": "whatever"})).describe(), "any");
        assert!(s.and(declared(json!({"type": "integer"}))).is_empty());
        assert_eq!(TypeSet::NONE.describe(), "nothing");
    }
}
