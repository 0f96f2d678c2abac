//! A serde `Deserializer` over spanned YAML nodes.
//!
//! It reads the spec types with serde's derives while keeping what serde alone loses:
//! every error carries the span of the node it is about, unknown keys are reported (all of
//! them, with "did you mean") and skipped rather than aborting, and [`Spanned`] values,
//! [`ScalarOr`] and [`OneOrMany`] learn where and how a value was written.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, Visitor};

use super::yaml::{Node, NodeKind, Style};

mod access;
mod recover;

use crate::diagnostics::{Diagnostic, catalog};
use crate::source::Span;
use access::{EnumAccess, KindAccess, MapAccess, SeqAccess, SpannedAccess};
use recover::Recovering;

pub(crate) const SPANNED: &str = "$__pipec_Spanned";
pub(crate) const SPANNED_FIELDS: &[&str] = &["$__start", "$__end", "$__file", "$__value"];
pub(crate) const KIND_SWITCH: &str = "$__pipec_KindSwitch";
pub(crate) const KIND_VARIANTS: &[&str] = &["Scalar", "Seq", "Map"];
pub(crate) const RECOVER: &str = "$__pipec_Recover";

/// An error that stops reading one value; it becomes a diagnostic.
#[derive(Debug)]
pub struct DeError {
    /// The diagnostic, possibly without a place yet.
    pub diag: Box<Diagnostic>,
}

impl DeError {
    fn at_if_missing(mut self, span: Span) -> Self {
        if self.diag.primary.is_none() {
            let label = match self.diag.code {
                catalog::MISSING_KEY => "in this mapping",
                catalog::WRONG_TYPE => "wrong kind of value",
                catalog::UNKNOWN_VARIANT => "unknown kind",
                _ => "here",
            };
            let diag = std::mem::replace(&mut *self.diag, Diagnostic::error("", ""));
            *self.diag = diag.at(span, label);
        }
        self
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diag.message)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError {
            diag: Box::new(catalog::invalid_value(msg.to_string())),
        }
    }

    fn invalid_type(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        DeError {
            diag: Box::new(catalog::wrong_type(
                &exp.to_string(),
                &unexpected_text(&unexp),
            )),
        }
    }

    fn invalid_value(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        DeError {
            diag: Box::new(catalog::wrong_type(
                &exp.to_string(),
                &unexpected_text(&unexp),
            )),
        }
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        DeError {
            diag: Box::new(catalog::unknown_variant(variant, expected)),
        }
    }

    fn missing_field(field: &'static str) -> Self {
        DeError {
            diag: Box::new(catalog::missing_key(field)),
        }
    }
}

fn unexpected_text(u: &de::Unexpected<'_>) -> String {
    match u {
        de::Unexpected::Str(s) => format!("the string `{s}`"),
        de::Unexpected::Signed(i) => format!("the integer {i}"),
        de::Unexpected::Unsigned(i) => format!("the integer {i}"),
        de::Unexpected::Float(f) => format!("the number {f}"),
        de::Unexpected::Bool(b) => format!("the boolean {b}"),
        de::Unexpected::Unit | de::Unexpected::Option => "nothing (null)".into(),
        de::Unexpected::Seq => "a list".into(),
        de::Unexpected::Map => "a mapping".into(),
        other => other.to_string(),
    }
}

/// Collects the problems that do not stop reading (unknown keys).
#[derive(Debug, Default)]
pub struct Sink {
    diags: RefCell<Vec<Diagnostic>>,
}

impl Sink {
    /// Records a problem.
    pub fn push(&self, d: Diagnostic) {
        self.diags.borrow_mut().push(d);
    }

    /// Takes what was recorded.
    pub fn take(&self) -> Vec<Diagnostic> {
        std::mem::take(&mut self.diags.borrow_mut())
    }
}

/// Reads a `T` from a node; a stopping error becomes a diagnostic in the sink.
pub fn from_node<'de, T: de::Deserialize<'de>>(node: &'de Node, sink: &'de Sink) -> Option<T> {
    match T::deserialize(NodeDe { node, sink }) {
        Ok(v) => Some(v),
        Err(e) => {
            sink.push(*e.at_if_missing(node.span).diag);
            None
        }
    }
}

/// The deserializer of one node.
#[derive(Clone, Copy)]
pub struct NodeDe<'a> {
    pub(super) node: &'a Node,
    pub(super) sink: &'a Sink,
}

impl<'a> NodeDe<'a> {
    fn scalar(&self) -> Result<(&'a str, Style), DeError> {
        match &self.node.kind {
            NodeKind::Scalar(s) => Ok((s.value.as_str(), s.style)),
            _ => Err(DeError {
                diag: Box::new(catalog::wrong_type("a single value", self.node.kind_name())),
            }),
        }
    }

    fn wrong(&self, expected: &str) -> DeError {
        DeError {
            diag: Box::new(catalog::wrong_type(expected, self.node.kind_name())),
        }
        .at_if_missing(self.node.span)
    }

    fn int<T: std::str::FromStr>(&self, expected: &str) -> Result<T, DeError> {
        let (v, style) = self.scalar()?;
        if style != Style::Plain {
            return Err(self.wrong(expected));
        }
        v.replace('_', "")
            .parse::<T>()
            .map_err(|_| self.wrong(expected))
    }

    fn float(&self) -> Result<f64, DeError> {
        let (v, style) = self.scalar()?;
        match (style, v) {
            (Style::Plain, ".inf" | ".Inf") => Ok(f64::INFINITY),
            (Style::Plain, "-.inf" | "-.Inf") => Ok(f64::NEG_INFINITY),
            (Style::Plain, _) => v.parse().map_err(|_| self.wrong("a number")),
            _ => Err(self.wrong("a number")),
        }
    }

    fn bool(&self) -> Result<bool, DeError> {
        match self.scalar()? {
            ("true" | "True" | "TRUE", Style::Plain) => Ok(true),
            ("false" | "False" | "FALSE", Style::Plain) => Ok(false),
            _ => Err(self.wrong("`true` or `false`")),
        }
    }

    fn child(&self, node: &'a Node) -> NodeDe<'a> {
        NodeDe {
            node,
            sink: self.sink,
        }
    }
}

macro_rules! int_method {
    ($name:ident, $visit:ident, $t:ty, $what:expr) => {
        fn $name<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            let v: $t = self.int($what)?;
            visitor
                .$visit(v)
                .map_err(|e: DeError| e.at_if_missing(self.node.span))
        }
    };
}

impl<'de> de::Deserializer<'de> for NodeDe<'de> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let span = self.node.span;
        let r = match &self.node.kind {
            NodeKind::Seq(items) => visitor.visit_seq(SeqAccess {
                items: items.iter(),
                de: self,
            }),
            NodeKind::Map(entries) => visitor.visit_map(MapAccess {
                entries: entries.iter(),
                value: None,
                de: self,
            }),
            NodeKind::Scalar(s) if s.style != Style::Plain => visitor.visit_str(&s.value),
            NodeKind::Scalar(s) => {
                let v = s.value.as_str();
                if self.node.is_null() {
                    visitor.visit_unit()
                } else if let Ok(b) = self.bool() {
                    visitor.visit_bool(b)
                } else if let Ok(i) = v.parse::<i64>() {
                    visitor.visit_i64(i)
                } else if let Ok(u) = v.parse::<u64>() {
                    visitor.visit_u64(u)
                } else if let (Ok(f), true) =
                    (v.parse::<f64>(), v.chars().any(|c| c.is_ascii_digit()))
                {
                    visitor.visit_f64(f)
                } else {
                    visitor.visit_str(v)
                }
            }
        };
        r.map_err(|e: DeError| e.at_if_missing(span))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let b = self.bool()?;
        visitor.visit_bool(b)
    }

    int_method!(deserialize_i8, visit_i8, i8, "an integer from -128 to 127");
    int_method!(deserialize_i16, visit_i16, i16, "an integer");
    int_method!(deserialize_i32, visit_i32, i32, "an integer");
    int_method!(deserialize_i64, visit_i64, i64, "an integer");
    int_method!(deserialize_u8, visit_u8, u8, "a whole number from 0 to 255");
    int_method!(
        deserialize_u16,
        visit_u16,
        u16,
        "a whole number from 0 to 65535"
    );
    int_method!(
        deserialize_u32,
        visit_u32,
        u32,
        "a whole number (0 or more)"
    );
    int_method!(
        deserialize_u64,
        visit_u64,
        u64,
        "a whole number (0 or more)"
    );

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_f32(self.float()? as f32)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_f64(self.float()?)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.node.is_null() {
            return Err(self.wrong("a string"));
        }
        let (v, _) = self.scalar().map_err(|_| self.wrong("a string"))?;
        visitor
            .visit_borrowed_str(v)
            .map_err(|e: DeError| e.at_if_missing(self.node.span))
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.node.is_null() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.node.is_null() {
            visitor.visit_unit()
        } else {
            Err(self.wrong("nothing (null)"))
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        if name == RECOVER {
            // The visitor reads the value through `Recovering`, which records a stopping
            // error here and lets the visitor carry on without the value.
            return visitor.visit_newtype_struct(Recovering(self));
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.kind {
            NodeKind::Seq(items) => visitor.visit_seq(SeqAccess {
                items: items.iter(),
                de: self,
            }),
            _ => Err(self.wrong("a list")),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.kind {
            NodeKind::Map(entries) => visitor
                .visit_map(MapAccess {
                    entries: entries.iter(),
                    value: None,
                    de: self,
                })
                .map_err(|e: DeError| e.at_if_missing(self.node.span)),
            _ if self.node.is_null() => visitor.visit_map(MapAccess {
                entries: [].iter(),
                value: None,
                de: self,
            }),
            _ => Err(self.wrong("a mapping")),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        if name == SPANNED {
            return visitor.visit_map(SpannedAccess { de: self, field: 0 });
        }
        let entries: &[(Node, Node)] = match &self.node.kind {
            NodeKind::Map(entries) => entries,
            _ if self.node.is_null() => &[],
            _ => return Err(self.wrong("a mapping")),
        };
        for (k, _) in entries {
            let key = k.as_scalar().map_or("", |s| s.value.as_str());
            if !fields.contains(&key) {
                self.sink.push(catalog::unknown_key(key, fields, k.span));
            }
        }
        visitor
            .visit_map(MapAccess {
                entries: entries
                    .iter()
                    .filter(|(k, _)| {
                        k.as_scalar()
                            .is_some_and(|s| fields.contains(&s.value.as_str()))
                    })
                    .collect::<Vec<_>>()
                    .into_iter(),
                value: None,
                de: self,
            })
            .map_err(|e: DeError| e.at_if_missing(self.node.span))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        if name == KIND_SWITCH {
            let kind = match &self.node.kind {
                NodeKind::Scalar(_) => 0,
                NodeKind::Seq(_) => 1,
                NodeKind::Map(_) => 2,
            };
            return visitor.visit_enum(KindAccess { de: self, kind });
        }
        match &self.node.kind {
            NodeKind::Scalar(_) => visitor
                .visit_enum(EnumAccess {
                    tag: self,
                    value: None,
                })
                .map_err(|e: DeError| e.at_if_missing(self.node.span)),
            NodeKind::Map(entries) if entries.len() == 1 => {
                let (k, v) = &entries[0];
                visitor
                    .visit_enum(EnumAccess {
                        tag: self.child(k),
                        value: Some(self.child(v)),
                    })
                    .map_err(|e: DeError| e.at_if_missing(k.span))
            }
            NodeKind::Map(entries) => Err(DeError {
                diag: Box::new(catalog::one_kind_key(
                    &entries
                        .iter()
                        .filter_map(|(k, _)| k.as_scalar().map(|s| s.value.clone()))
                        .collect::<Vec<_>>(),
                    variants,
                )),
            }
            .at_if_missing(self.node.span)),
            NodeKind::Seq(_) => Err(self.wrong(&format!("one of: {}", variants.join(", ")))),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }
}
