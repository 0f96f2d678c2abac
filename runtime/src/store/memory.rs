//! The in-process store: dedup keys (see [`super::dedup`]) and read-only lookup records
//! loaded at start (see [`super::records`]). Dedup keys can be snapshotted to a file on
//! shutdown and are read back on start.
//!
//! TTL: the store's own `ttl_ms`, when the manifest sets one, applies to every key; when it
//! does not, each call's `ttl_ms` (the step's) does. Expiries are kept in whole seconds and
//! rounded up, so a key lives at least its TTL and less than one second more.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use pipec_compiler::manifest;
use serde_json::Value;

use super::dedup::{DedupSet, KeyHash, expiry_after, now_secs};
use super::records;
use crate::RuntimeError;

/// An open in-process store.
#[derive(Debug)]
pub struct MemoryStore {
    /// The store's name in the spec.
    name: String,
    /// Dedup keys.
    dedup: Mutex<DedupSet>,
    /// Lookup records by key.
    records: HashMap<String, Value>,
    /// The store's TTL, which overrides each call's.
    ttl_ms: Option<u64>,
    /// Where snapshots go.
    snapshot: Option<PathBuf>,
}

impl MemoryStore {
    /// Whether it writes snapshots.
    pub fn has_snapshot(&self) -> bool {
        self.snapshot.is_some()
    }

    /// Opens the store: loads its lookup records and its last snapshot, when it has them.
    pub fn open(
        name: &str,
        def: &manifest::MemoryStore,
        base: &Path,
    ) -> Result<Self, RuntimeError> {
        let records = match &def.load {
            Some(file) => {
                let key = def.key.as_deref().ok_or_else(|| RuntimeError::Config {
                    what: format!("store `{name}` loads `{file}` but names no `key` field"),
                })?;
                records::load(&base.join(file), key)?
            }
            None => HashMap::new(),
        };
        let snapshot = def.snapshot.as_ref().map(|s| base.join(s));
        let mut dedup = DedupSet::new(def.max_keys);
        if let Some(path) = snapshot.as_deref().filter(|p| p.exists()) {
            let n = dedup.restore(path, now_secs())?;
            tracing::info!(store = name, keys = n, path = %path.display(), "restored dedup snapshot");
        }
        Ok(MemoryStore {
            name: name.to_string(),
            dedup: Mutex::new(dedup),
            records,
            ttl_ms: def.ttl_ms,
            snapshot,
        })
    }

    /// See [`super::Store::seen_or_set`].
    pub fn seen_or_set(&self, keys: &[String], tokens: &[u64], ttl_ms: u64) -> Vec<bool> {
        let hashes: Vec<KeyHash> = keys.iter().map(|k| KeyHash::of(k)).collect();
        let now = now_secs();
        let expiry = expiry_after(self.ttl_ms.unwrap_or(ttl_ms));
        let mut set = self.dedup.lock().unwrap_or_else(|e| e.into_inner());
        hashes
            .into_iter()
            .enumerate()
            .map(|(i, h)| set.seen_or_set(h, expiry, now, tokens.get(i).copied().unwrap_or(0)))
            .collect()
    }

    /// See [`super::Store::lookup`].
    pub fn lookup(&self, keys: &[String]) -> Vec<Option<Value>> {
        keys.iter().map(|k| self.records.get(k).cloned()).collect()
    }

    /// Dedup keys held, counting expired keys not yet purged.
    pub fn len(&self) -> usize {
        self.dedup.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether no dedup key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes the live dedup keys to the snapshot file, when the store has one.
    pub fn snapshot(&self) -> Result<(), RuntimeError> {
        let Some(path) = &self.snapshot else {
            return Ok(());
        };
        let set = self.dedup.lock().unwrap_or_else(|e| e.into_inner());
        let n = set
            .snapshot(path, now_secs())
            .map_err(|e| RuntimeError::Unavailable {
                system: format!("file system ({})", path.display()),
                reason: format!("cannot write the snapshot of store `{}`: {e}", self.name),
            })?;
        tracing::info!(store = %self.name, keys = n, path = %path.display(), "wrote dedup snapshot");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def() -> manifest::MemoryStore {
        manifest::MemoryStore {
            max_keys: None,
            ttl_ms: None,
            snapshot: None,
            load: None,
            key: None,
        }
    }

    fn keys(ks: &[&str]) -> Vec<String> {
        ks.iter().map(|k| k.to_string()).collect()
    }

    #[test]
    fn repeated_keys_are_new_the_first_time() {
        let s = MemoryStore::open("seen", &def(), Path::new(".")).unwrap();
        assert_eq!(
            s.seen_or_set(&keys(&["a", "b", "a"]), &[], 60_000),
            [false, false, true]
        );
        assert_eq!(
            s.seen_or_set(&keys(&["b", "c"]), &[], 60_000),
            [true, false]
        );
        assert_eq!(s.len(), 3);
    }

    #[test]
    fn a_replay_of_the_writer_is_not_a_duplicate() {
        let s = MemoryStore::open("seen", &def(), Path::new(".")).unwrap();
        let ks = keys(&["a", "a", "b"]);
        assert_eq!(s.seen_or_set(&ks, &[1, 2, 3], 60_000), [false, true, false]);
        assert_eq!(s.seen_or_set(&ks, &[1, 2, 3], 60_000), [false, true, false]);
        assert_eq!(s.seen_or_set(&ks[..1], &[], 60_000), [true]);
    }

    #[test]
    fn keys_expire() {
        let s = MemoryStore::open("seen", &def(), Path::new(".")).unwrap();
        assert_eq!(s.seen_or_set(&keys(&["a"]), &[], 1), [false]);
        // Expiries are whole seconds, rounded up: a 1 ms TTL ends within a second.
        std::thread::sleep(std::time::Duration::from_millis(1100));
        assert_eq!(s.seen_or_set(&keys(&["a", "a"]), &[], 1), [false, true]);
    }

    #[test]
    fn max_keys_bounds_the_store() {
        let s = MemoryStore::open(
            "seen",
            &manifest::MemoryStore {
                max_keys: Some(2),
                ..def()
            },
            Path::new("."),
        )
        .unwrap();
        s.seen_or_set(&keys(&["a", "b", "c"]), &[], 60_000);
        assert_eq!(s.len(), 2);
        assert_eq!(
            s.seen_or_set(&keys(&["c", "b", "a"]), &[], 60_000),
            [true, true, false]
        );
    }

    #[test]
    fn snapshots_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let d = manifest::MemoryStore {
            snapshot: Some("state/seen.snap".into()),
            ..def()
        };
        let s = MemoryStore::open("seen", &d, dir.path()).unwrap();
        s.seen_or_set(&keys(&["a", "b"]), &[], 60_000);
        s.snapshot().unwrap();
        assert!(dir.path().join("state/seen.snap").exists());
        assert!(!dir.path().join("state/seen.snap.tmp").exists());
        let s = MemoryStore::open("seen", &d, dir.path()).unwrap();
        assert_eq!(
            s.seen_or_set(&keys(&["b", "c"]), &[], 60_000),
            [true, false]
        );
    }

    #[test]
    fn lookups_read_loaded_records() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("orgs.csv"), "id,name\no1,Org One\n").unwrap();
        let d = manifest::MemoryStore {
            load: Some("orgs.csv".into()),
            key: Some("id".into()),
            ..def()
        };
        let s = MemoryStore::open("orgs", &d, dir.path()).unwrap();
        assert_eq!(
            s.lookup(&keys(&["o1", "o2"])),
            [Some(json!({"id": "o1", "name": "Org One"})), None]
        );
        let e = MemoryStore::open(
            "orgs",
            &manifest::MemoryStore { key: None, ..d },
            dir.path(),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "bad configuration: store `orgs` loads `orgs.csv` but names no `key` field"
        );
    }
}
