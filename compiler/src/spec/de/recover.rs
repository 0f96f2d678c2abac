//! Recovery: reading a value that, when broken, is reported and skipped.

use serde::de::{self, Visitor};

use super::{DeError, NodeDe};

/// A deserializer that records a stopping error in the sink before handing it back, so
/// that a [`Recover`](super::wrappers::Recover) value can skip the broken entry and reading
/// goes on with the next one.
pub(super) struct Recovering<'a>(pub(super) NodeDe<'a>);

impl Recovering<'_> {
    fn record<T>(&self, r: Result<T, DeError>) -> Result<T, DeError> {
        r.map_err(|e| {
            let e = e.at_if_missing(self.0.node.span);
            self.0.sink.push((*e.diag).clone());
            e
        })
    }
}

macro_rules! recovering {
    ($($name:ident),*) => {
        $(fn $name<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            self.record(self.0.$name(visitor))
        })*
    };
}

impl<'de> de::Deserializer<'de> for Recovering<'de> {
    type Error = DeError;

    recovering!(
        deserialize_any,
        deserialize_bool,
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_str,
        deserialize_string,
        deserialize_bytes,
        deserialize_byte_buf,
        deserialize_option,
        deserialize_unit,
        deserialize_seq,
        deserialize_map,
        deserialize_identifier,
        deserialize_ignored_any
    );

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.record(self.0.deserialize_unit_struct(name, visitor))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.record(self.0.deserialize_newtype_struct(name, visitor))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.record(self.0.deserialize_tuple(len, visitor))
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.record(self.0.deserialize_tuple_struct(name, len, visitor))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.record(self.0.deserialize_struct(name, fields, visitor))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.record(self.0.deserialize_enum(name, variants, visitor))
    }
}
