//! The spec format: reading YAML files (with spans) into the spec types.

pub mod de;
pub mod druid;
pub mod files;
pub mod load;
pub mod model;
pub mod steps;
pub mod vars;
pub mod wrappers;
pub mod yaml;

pub use model::*;
pub use steps::Step;
pub use wrappers::{Items, OneOrMany, OrderedMap, ScalarOr, SeqOr, Spanned};

#[cfg(test)]
mod tests;
