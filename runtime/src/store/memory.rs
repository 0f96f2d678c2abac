//! The in-process store.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use pipec_compiler::manifest;
use serde_json::Value;

use crate::RuntimeError;

/// A stored record (none for a dedup key) and when it expires (never when `None`).
type Entry = (Option<Value>, Option<Instant>);

/// Keys with an expiry and an optional record.
#[derive(Debug)]
pub struct MemoryStore {
    entries: Mutex<HashMap<String, Entry>>,
}

impl MemoryStore {
    /// Opens the store.
    pub fn open(
        _name: &str,
        _def: &manifest::MemoryStore,
        _base: &Path,
    ) -> Result<Self, RuntimeError> {
        Ok(MemoryStore {
            entries: Mutex::new(HashMap::new()),
        })
    }

    /// See [`super::Store::seen_or_set`].
    pub fn seen_or_set(&self, keys: &[String], ttl_ms: u64) -> Vec<bool> {
        let now = Instant::now();
        let mut map = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        keys.iter()
            .map(|k| {
                let live = map
                    .get(k)
                    .is_some_and(|(_, exp)| exp.is_none_or(|e| e > now));
                if !live {
                    map.insert(k.clone(), (None, Some(now + Duration::from_millis(ttl_ms))));
                }
                live
            })
            .collect()
    }

    /// See [`super::Store::lookup`].
    pub fn lookup(&self, keys: &[String]) -> Vec<Option<Value>> {
        let now = Instant::now();
        let map = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        keys.iter()
            .map(|k| match map.get(k) {
                Some((v, exp)) if exp.is_none_or(|e| e > now) => v.clone(),
                _ => None,
            })
            .collect()
    }
}
