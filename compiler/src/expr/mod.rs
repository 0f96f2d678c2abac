//! The expression language of filters, routes, keys and computed fields.

pub mod ty;

pub use ty::Ty;
