//! The serde access types of the node deserializer: sequences, mappings, enums, and the
//! pseudo-structures behind `Spanned` values and the kind switch.

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};

use super::{DeError, KIND_VARIANTS, NodeDe, SPANNED_FIELDS};
use crate::diagnostics::catalog;
use crate::spec::yaml::Node;

pub(super) struct SeqAccess<'a, I: Iterator<Item = &'a Node>> {
    pub(super) items: I,
    pub(super) de: NodeDe<'a>,
}

impl<'de, I: Iterator<Item = &'de Node>> de::SeqAccess<'de> for SeqAccess<'de, I> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.items.next() {
            Some(n) => seed
                .deserialize(self.de.child(n))
                .map(Some)
                .map_err(|e: DeError| e.at_if_missing(n.span)),
            None => Ok(None),
        }
    }
}

pub(super) struct MapAccess<'a, I: Iterator<Item = &'a (Node, Node)>> {
    pub(super) entries: I,
    pub(super) value: Option<&'a Node>,
    pub(super) de: NodeDe<'a>,
}

impl<'de, I: Iterator<Item = &'de (Node, Node)>> de::MapAccess<'de> for MapAccess<'de, I> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        match self.entries.next() {
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(self.de.child(k))
                    .map(Some)
                    .map_err(|e: DeError| e.at_if_missing(k.span))
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, DeError> {
        let v = self.value.take().ok_or_else(|| DeError {
            diag: Box::new(catalog::invalid_value(
                "a value was read before its key".into(),
            )),
        })?;
        seed.deserialize(self.de.child(v))
            .map_err(|e: DeError| e.at_if_missing(v.span))
    }
}

pub(super) struct EnumAccess<'a> {
    pub(super) tag: NodeDe<'a>,
    pub(super) value: Option<NodeDe<'a>>,
}

impl<'de> de::EnumAccess<'de> for EnumAccess<'de> {
    type Error = DeError;
    type Variant = VariantAccess<'de>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self::Variant), DeError> {
        let span = self.tag.node.span;
        let v = seed
            .deserialize(self.tag)
            .map_err(|e: DeError| e.at_if_missing(span))?;
        Ok((
            v,
            VariantAccess {
                value: self.value,
                tag: self.tag,
            },
        ))
    }
}

pub(super) struct VariantAccess<'a> {
    pub(super) value: Option<NodeDe<'a>>,
    pub(super) tag: NodeDe<'a>,
}

impl<'de> VariantAccess<'de> {
    fn value(&self, expected: &str) -> Result<NodeDe<'de>, DeError> {
        self.value.ok_or_else(|| {
            DeError {
                diag: Box::new(catalog::wrong_type(expected, "nothing")),
            }
            .at_if_missing(self.tag.node.span)
        })
    }
}

impl<'de> de::VariantAccess<'de> for VariantAccess<'de> {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        match self.value {
            Some(v) if !v.node.is_null() => Err(v.wrong("nothing after this name")),
            _ => Ok(()),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DeError> {
        let v = self.value("settings for this step")?;
        seed.deserialize(v)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_seq(self.value("a list")?, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_struct(self.value("a mapping")?, "", fields, visitor)
    }
}

/// Serves the four pseudo-fields of a [`Spanned`](super::Spanned) value.
pub(super) struct SpannedAccess<'a> {
    pub(super) de: NodeDe<'a>,
    pub(super) field: usize,
}

impl<'de> de::MapAccess<'de> for SpannedAccess<'de> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        match SPANNED_FIELDS.get(self.field) {
            Some(f) => seed.deserialize(f.into_deserializer()).map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, DeError> {
        let span = self.de.node.span;
        let field = self.field;
        self.field += 1;
        match field {
            0 => seed.deserialize((span.start as u64).into_deserializer()),
            1 => seed.deserialize((span.end as u64).into_deserializer()),
            2 => seed.deserialize(u64::from(span.file.0).into_deserializer()),
            _ => seed.deserialize(self.de),
        }
    }
}

/// Tells a [`ScalarOr`](super::ScalarOr) or [`OneOrMany`](super::OneOrMany) which way a
/// value was written.
pub(super) struct KindAccess<'a> {
    pub(super) de: NodeDe<'a>,
    pub(super) kind: usize,
}

impl<'de> de::EnumAccess<'de> for KindAccess<'de> {
    type Error = DeError;
    type Variant = KindVariant<'de>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self::Variant), DeError> {
        let name = KIND_VARIANTS[self.kind];
        let v = seed.deserialize(name.into_deserializer())?;
        Ok((v, KindVariant { de: self.de }))
    }
}

pub(super) struct KindVariant<'a> {
    pub(super) de: NodeDe<'a>,
}

impl<'de> de::VariantAccess<'de> for KindVariant<'de> {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DeError> {
        seed.deserialize(self.de)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_seq(self.de, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_struct(self.de, "", fields, visitor)
    }
}
