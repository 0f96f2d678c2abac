//! Events kept as their JSON bytes until a step needs them as a tree.
//!
//! A record can stay bytes only when parsing it into a `serde_json::Value` and serializing
//! that again would give back the very same bytes: [`canonical`] checks that (no
//! whitespace, strings escaped as serde_json escapes them, numbers written as serde_json
//! writes them, no object with a repeated key). Then reading a field ([`read`]), splitting a
//! list or setting a top-level field ([`splice`]) can work on the bytes, and the output is
//! byte for byte what the tree would have given. Anything else goes through the tree.

pub(crate) mod canonical;
pub(crate) mod read;
pub(crate) mod splice;
#[cfg(test)]
mod tests;

pub(crate) use canonical::*;
pub(crate) use read::*;
pub(crate) use splice::*;
