//! State and lookup stores: dedup keys with a TTL, and lookup records. A store is opened
//! from its manifest entry; jobs call it a batch of keys at a time, so that Redis gets one
//! pipelined round trip per batch.

pub mod memory;

use std::path::Path;

use pipec_compiler::manifest;
use serde_json::Value;

use crate::RuntimeError;

/// An open store.
#[derive(Debug)]
pub enum Store {
    /// In-process.
    Memory(memory::MemoryStore),
}

impl Store {
    /// Opens the store a manifest describes; relative paths (snapshot, lookup data) are
    /// relative to `base` (the spec's directory).
    pub async fn open(
        name: &str,
        def: &manifest::Store,
        base: &Path,
    ) -> Result<Store, RuntimeError> {
        match def {
            manifest::Store::Memory(m) => {
                Ok(Store::Memory(memory::MemoryStore::open(name, m, base)?))
            }
            manifest::Store::Redis(r) => Err(RuntimeError::Unavailable {
                system: format!("redis store `{name}` ({})", r.url),
                reason: "Redis stores are not supported yet".into(),
            }),
        }
    }

    /// For each key, in order: whether it was already present (a duplicate). Absent keys
    /// are set with the TTL, as `SET key "" EX ttl NX` does, so a key repeated within one
    /// call is new the first time and a duplicate after.
    pub async fn seen_or_set(
        &self,
        keys: &[String],
        ttl_ms: u64,
    ) -> Result<Vec<bool>, RuntimeError> {
        match self {
            Store::Memory(m) => Ok(m.seen_or_set(keys, ttl_ms)),
        }
    }

    /// For each key, in order: the record stored under it.
    pub async fn lookup(&self, keys: &[String]) -> Result<Vec<Option<Value>>, RuntimeError> {
        match self {
            Store::Memory(m) => Ok(m.lookup(keys)),
        }
    }
}
