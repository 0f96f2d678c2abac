//! Value types of the expression language: a set of JSON kinds, so that a field the schema
//! allows as `["string", "null"]` is one type and unknown fields are `Ty::ANY`.

use std::fmt;

/// A set of JSON value kinds an expression may produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ty(u8);

impl Ty {
    /// `null`.
    pub const NULL: Ty = Ty(1);
    /// `true` / `false`.
    pub const BOOL: Ty = Ty(2);
    /// Whole numbers.
    pub const INT: Ty = Ty(4);
    /// Numbers with a fraction.
    pub const FLOAT: Ty = Ty(8);
    /// Strings.
    pub const STRING: Ty = Ty(16);
    /// Arrays.
    pub const LIST: Ty = Ty(32);
    /// Objects.
    pub const OBJECT: Ty = Ty(64);
    /// Any number.
    pub const NUMBER: Ty = Ty(4 | 8);
    /// Anything: the type of a field no schema describes.
    pub const ANY: Ty = Ty(127);
    /// No value at all (an impossible type).
    pub const NEVER: Ty = Ty(0);

    /// Union of two types.
    pub const fn or(self, other: Ty) -> Ty {
        Ty(self.0 | other.0)
    }

    /// Intersection of two types.
    pub const fn and(self, other: Ty) -> Ty {
        Ty(self.0 & other.0)
    }

    /// This type without `other`'s kinds.
    pub const fn without(self, other: Ty) -> Ty {
        Ty(self.0 & !other.0)
    }

    /// Whether every kind of `other` is in `self`.
    pub const fn contains(self, other: Ty) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether the two types share a kind.
    pub const fn overlaps(self, other: Ty) -> bool {
        self.0 & other.0 != 0
    }

    /// Whether this is the empty type.
    pub const fn is_never(self) -> bool {
        self.0 == 0
    }

    /// Whether this is [`Ty::ANY`].
    pub const fn is_any(self) -> bool {
        self.0 == Ty::ANY.0
    }

    /// The type of a JSON Schema `type` name (`"string"`, `"integer"`, ...).
    pub fn from_json_schema_name(name: &str) -> Ty {
        match name {
            "null" => Ty::NULL,
            "boolean" => Ty::BOOL,
            "integer" => Ty::INT,
            "number" => Ty::NUMBER,
            "string" => Ty::STRING,
            "array" => Ty::LIST,
            "object" => Ty::OBJECT,
            _ => Ty::ANY,
        }
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_any() {
            return f.write_str("any");
        }
        if self.is_never() {
            return f.write_str("never");
        }
        let mut names = Vec::new();
        let mut rest = *self;
        if rest.contains(Ty::NUMBER) {
            names.push("number");
            rest = rest.without(Ty::NUMBER);
        }
        for (t, n) in [
            (Ty::INT, "int"),
            (Ty::FLOAT, "float"),
            (Ty::STRING, "string"),
            (Ty::BOOL, "bool"),
            (Ty::LIST, "list"),
            (Ty::OBJECT, "object"),
            (Ty::NULL, "null"),
        ] {
            if rest.contains(t) {
                names.push(n);
            }
        }
        f.write_str(&names.join(" or "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_sets() {
        assert_eq!(Ty::STRING.or(Ty::NULL).to_string(), "string or null");
        assert_eq!(Ty::NUMBER.to_string(), "number");
        assert!(!Ty::STRING.overlaps(Ty::NUMBER));
        assert!(Ty::ANY.contains(Ty::LIST));
    }
}
