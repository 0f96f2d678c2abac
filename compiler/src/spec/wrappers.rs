//! Value wrappers used by the spec types: [`Spanned`] values that know where they were
//! written, [`OrderedMap`]s that keep source order and key spans, and the two shorthand
//! forms [`ScalarOr`] and [`OneOrMany`].

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};

use super::de::{KIND_SWITCH, KIND_VARIANTS, RECOVER, SPANNED, SPANNED_FIELDS};
use crate::source::{FileId, Span};

/// A value with the span of the YAML node it was read from.
#[derive(Debug, Clone, PartialEq)]
pub struct Spanned<T> {
    /// Where the value is written.
    pub span: Span,
    /// The value.
    pub value: T,
}

impl<T> Spanned<T> {
    /// A value with a span.
    pub fn new(span: Span, value: T) -> Self {
        Spanned { span, value }
    }
}

impl<T> Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Spanned<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Spanned<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a spanned value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut pos = [0u64; 3];
                for p in &mut pos {
                    map.next_key::<de::IgnoredAny>()?;
                    *p = map.next_value()?;
                }
                map.next_key::<de::IgnoredAny>()?;
                let value = map.next_value()?;
                Ok(Spanned {
                    span: Span::new(FileId(pos[2] as u32), pos[0] as usize..pos[1] as usize),
                    value,
                })
            }
        }
        d.deserialize_struct(SPANNED, SPANNED_FIELDS, V(PhantomData))
    }
}

impl<T: JsonSchema> JsonSchema for Spanned<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        T::json_schema(g)
    }
}

/// A YAML mapping read in source order, keys with their spans. An entry whose value could
/// not be read is reported and kept aside in `broken`, so that references to it are not
/// reported again as unknown names.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderedMap<T>(pub Vec<(Spanned<String>, T)>, pub Vec<Spanned<String>>);

impl<T> Default for OrderedMap<T> {
    fn default() -> Self {
        OrderedMap(Vec::new(), Vec::new())
    }
}

impl<T> OrderedMap<T> {
    /// Entries in source order.
    pub fn iter(&self) -> impl Iterator<Item = (&Spanned<String>, &T)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    /// The value of a key.
    pub fn get(&self, key: &str) -> Option<&T> {
        self.0.iter().find(|(k, _)| k.value == key).map(|(_, v)| v)
    }

    /// Keys in source order.
    pub fn keys(&self) -> impl Iterator<Item = &Spanned<String>> {
        self.0.iter().map(|(k, _)| k)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there is no entry.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OrderedMap<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = OrderedMap<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                let mut broken = Vec::new();
                while let Some(k) = map.next_key::<Spanned<String>>()? {
                    match map.next_value::<Recover<T>>()?.0 {
                        Some(v) => out.push((k, v)),
                        None => broken.push(k),
                    }
                }
                Ok(OrderedMap(out, broken))
            }
        }
        d.deserialize_map(V(PhantomData))
    }
}

impl<T: JsonSchema> JsonSchema for OrderedMap<T> {
    fn schema_name() -> Cow<'static, str> {
        format!("Map_of_{}", T::schema_name()).into()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let inner = g.subschema_for::<T>();
        json_schema!({ "type": "object", "additionalProperties": inner })
    }
}

/// Either a short scalar form or a full form (a mapping or a list), such as
/// `filter: 'eid != "LOG"'` versus `filter: { when: ..., else: rejected }`.
#[derive(Debug, Clone, PartialEq)]
pub enum ScalarOr<S, M> {
    /// Written as a scalar.
    Scalar(S),
    /// Written as a mapping or list.
    Full(M),
}

impl<'de, S: Deserialize<'de>, M: Deserialize<'de>> Deserialize<'de> for ScalarOr<S, M> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<S, M>(PhantomData<(S, M)>);
        impl<'de, S: Deserialize<'de>, M: Deserialize<'de>> Visitor<'de> for V<S, M> {
            type Value = ScalarOr<S, M>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a value")
            }
            fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
                use de::VariantAccess;
                let (kind, variant): (String, _) = data.variant()?;
                if kind == KIND_VARIANTS[0] {
                    variant.newtype_variant().map(ScalarOr::Scalar)
                } else {
                    variant.newtype_variant().map(ScalarOr::Full)
                }
            }
        }
        d.deserialize_enum(KIND_SWITCH, KIND_VARIANTS, V(PhantomData))
    }
}

impl<S: JsonSchema, M: JsonSchema> JsonSchema for ScalarOr<S, M> {
    fn schema_name() -> Cow<'static, str> {
        format!("{}_or_{}", S::schema_name(), M::schema_name()).into()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let s = g.subschema_for::<S>();
        let m = g.subschema_for::<M>();
        json_schema!({ "anyOf": [s, m] })
    }
}

/// One value or a list of them: `to: unique` or `to: [audit, unique]`.
#[derive(Debug, Clone, PartialEq)]
pub struct OneOrMany<T>(pub Vec<T>);

impl<T> Default for OneOrMany<T> {
    fn default() -> Self {
        OneOrMany(Vec::new())
    }
}

impl<T> Deref for OneOrMany<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = OneOrMany<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a value or a list")
            }
            fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
                use de::VariantAccess;
                let (kind, variant): (String, _) = data.variant()?;
                if kind == KIND_VARIANTS[1] {
                    variant.newtype_variant().map(OneOrMany)
                } else {
                    variant.newtype_variant().map(|v| OneOrMany(vec![v]))
                }
            }
        }
        d.deserialize_enum(KIND_SWITCH, KIND_VARIANTS, V(PhantomData))
    }
}

impl<T: JsonSchema> JsonSchema for OneOrMany<T> {
    fn schema_name() -> Cow<'static, str> {
        format!("OneOrMany_{}", T::schema_name()).into()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let one = g.subschema_for::<T>();
        let many = g.subschema_for::<Vec<T>>();
        json_schema!({ "anyOf": [one, many] })
    }
}

/// Either a list or a mapping: `types: [START, END]` or `types: { START: {...} }`.
#[derive(Debug, Clone, PartialEq)]
pub enum SeqOr<L, M> {
    /// Written as a list.
    Seq(L),
    /// Written another way (a mapping).
    Full(M),
}

impl<'de, L: Deserialize<'de>, M: Deserialize<'de>> Deserialize<'de> for SeqOr<L, M> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<L, M>(PhantomData<(L, M)>);
        impl<'de, L: Deserialize<'de>, M: Deserialize<'de>> Visitor<'de> for V<L, M> {
            type Value = SeqOr<L, M>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list or a mapping")
            }
            fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
                use de::VariantAccess;
                let (kind, variant): (String, _) = data.variant()?;
                if kind == KIND_VARIANTS[1] {
                    variant.newtype_variant().map(SeqOr::Seq)
                } else {
                    variant.newtype_variant().map(SeqOr::Full)
                }
            }
        }
        d.deserialize_enum(KIND_SWITCH, KIND_VARIANTS, V(PhantomData))
    }
}

impl<L: JsonSchema, M: JsonSchema> JsonSchema for SeqOr<L, M> {
    fn schema_name() -> Cow<'static, str> {
        format!("{}_or_{}", L::schema_name(), M::schema_name()).into()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let l = g.subschema_for::<L>();
        let m = g.subschema_for::<M>();
        json_schema!({ "anyOf": [l, m] })
    }
}

/// A value that, when it cannot be read, is reported and skipped instead of stopping the
/// whole file: `None` then.
#[derive(Debug, Clone, PartialEq)]
pub struct Recover<T>(pub Option<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Recover<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Recover<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a value")
            }
            fn visit_newtype_struct<D: Deserializer<'de>>(
                self,
                d: D,
            ) -> Result<Self::Value, D::Error> {
                // The error is already recorded by the node deserializer.
                Ok(Recover(T::deserialize(d).ok()))
            }
        }
        d.deserialize_newtype_struct(RECOVER, V(PhantomData))
    }
}

/// A list whose unreadable items are reported and skipped.
#[derive(Debug, Clone, PartialEq)]
pub struct Items<T>(pub Vec<T>);

impl<T> Default for Items<T> {
    fn default() -> Self {
        Items(Vec::new())
    }
}

impl<T> Deref for Items<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Items<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let items: Vec<Recover<T>> = Vec::deserialize(d)?;
        Ok(Items(items.into_iter().filter_map(|r| r.0).collect()))
    }
}

impl<T: JsonSchema> JsonSchema for Items<T> {
    fn schema_name() -> Cow<'static, str> {
        format!("List_of_{}", T::schema_name()).into()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        Vec::<T>::json_schema(g)
    }
}
