//! State and lookup stores: dedup keys with a TTL, and lookup records. A store is opened
//! from its manifest entry; jobs call it a batch of keys at a time, so that Redis gets one
//! pipelined round trip per batch.

mod dedup;
pub mod memory;
mod records;
pub mod redis;

use std::path::Path;

use pipec_compiler::manifest;
use serde_json::Value;

use crate::RuntimeError;

/// An open store.
#[derive(Debug)]
pub enum Store {
    /// In-process.
    Memory(memory::MemoryStore),
    /// A Redis database.
    Redis(redis::RedisStore),
}

impl Store {
    /// Opens the store a manifest describes; relative paths (snapshot, lookup data) are
    /// relative to `base` (the spec's directory). A Redis store connects here, retrying
    /// with backoff, and is [`RuntimeError::Unavailable`] when it cannot.
    pub async fn open(
        name: &str,
        def: &manifest::Store,
        base: &Path,
    ) -> Result<Store, RuntimeError> {
        match def {
            manifest::Store::Memory(m) => {
                Ok(Store::Memory(memory::MemoryStore::open(name, m, base)?))
            }
            manifest::Store::Redis(r) => Ok(Store::Redis(redis::RedisStore::open(name, r).await?)),
        }
    }

    /// For each key, in order: whether it was already present (a duplicate). Absent keys
    /// are set with the TTL, as `SET key "" EX ttl NX` does, so a key repeated within one
    /// call is new the first time and a duplicate after. A store that cannot answer is an
    /// error, never "not a duplicate".
    ///
    /// `tokens` is empty, or holds one non-zero token per key naming the event asking (its
    /// source position): a key is then stored with its writer's token, and is not a
    /// duplicate for the event that wrote it, so a record consumed again after a crash is
    /// told from a real duplicate (Redis: `SET key token EX ttl NX GET`).
    pub async fn seen_or_set(
        &self,
        keys: &[String],
        tokens: &[u64],
        ttl_ms: u64,
    ) -> Result<Vec<bool>, RuntimeError> {
        match self {
            Store::Memory(m) => Ok(m.seen_or_set(keys, tokens, ttl_ms)),
            Store::Redis(r) => r.seen_or_set(keys, tokens, ttl_ms).await,
        }
    }

    /// For each key, in order: the record stored under it.
    pub async fn lookup(&self, keys: &[String]) -> Result<Vec<Option<Value>>, RuntimeError> {
        match self {
            Store::Memory(m) => Ok(m.lookup(keys)),
            Store::Redis(r) => r.lookup(keys).await,
        }
    }

    /// Writes a memory store's snapshot, when it has one; nothing for Redis, which keeps
    /// its own state.
    pub fn snapshot(&self) -> Result<(), RuntimeError> {
        match self {
            Store::Memory(m) => m.snapshot(),
            Store::Redis(_) => Ok(()),
        }
    }

    /// Whether it keeps its state in snapshots (a memory store with a snapshot file).
    pub fn has_snapshot(&self) -> bool {
        matches!(self, Store::Memory(m) if m.has_snapshot())
    }

    /// Called on shutdown: snapshots a memory store; nothing for Redis.
    pub async fn close(&self) -> Result<(), RuntimeError> {
        self.snapshot()
    }
}
