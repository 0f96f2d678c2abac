//! The memory store's dedup keys: a bounded set of 128-bit key hashes, each with a
//! whole-second expiry and the token of the record that wrote it, that evicts the least
//! recently written first.
//!
//! A key is kept as its xxh3-128 hash, never as its text: with `n` keys the chance that any
//! two distinct keys share a hash is about `n² / 2¹²⁹`, about 1.5 × 10⁻²⁵ for 10 million
//! keys, far below the odds of a hardware fault. A collision would make a new key look like
//! a duplicate.
//!
//! Tokens: a transport that may hand the same record to a job twice (Kafka, after a crash
//! between writing a key and committing the record's offset) gives each event a token of its
//! position (see [`crate::job::Job::process_at`]). A key written with a token is not a
//! duplicate when the same token asks again: the event is the one that wrote it, replayed.
//! Token 0 is none (the embedded transport): plain `SET NX` semantics.
//!
//! Layout: the map holds `(hash, expiry, token)` = 28 bytes a slot (`u32`s only, so nothing
//! is padded) plus hashbrown's control byte; the write order is a ring of `(hash, expiry)`,
//! 20 bytes each. An entry of the ring is current when the map holds the same expiry for its
//! hash; a key written again after it expired leaves a stale entry behind, skipped when it
//! reaches the front and compacted away when stale entries outnumber the live keys.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::RuntimeError;

/// First bytes of a snapshot file, format version 2: then 28-byte entries, oldest first,
/// each four little-endian `u32`s of hash, a little-endian `u32` expiry and a little-endian
/// `u64` token.
const MAGIC: &[u8; 8] = b"PIPECDD\x02";

/// Version 1 (read only): 20-byte entries, without the token.
const MAGIC_V1: &[u8; 8] = b"PIPECDD\x01";

/// A live key's expiry and the token of the event that wrote it (`u32`s, so a map slot
/// needs no padding).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    expiry: u32,
    token: [u32; 2],
}

fn split(token: u64) -> [u32; 2] {
    [token as u32, (token >> 32) as u32]
}

fn join(t: [u32; 2]) -> u64 {
    u64::from(t[0]) | (u64::from(t[1]) << 32)
}

/// A key's xxh3-128 hash, as four `u32`s so that a map slot needs no padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyHash([u32; 4]);

impl KeyHash {
    /// The hash of a key.
    pub fn of(key: &str) -> KeyHash {
        let h = xxhash_rust::xxh3::xxh3_128(key.as_bytes());
        KeyHash([
            h as u32,
            (h >> 32) as u32,
            (h >> 64) as u32,
            (h >> 96) as u32,
        ])
    }
}

impl Hash for KeyHash {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Already a good hash: its low 64 bits are the map's hash.
        state.write_u64(u64::from(self.0[0]) | (u64::from(self.0[1]) << 32));
    }
}

/// Passes a `u64` through: the keys are hashes already.
#[derive(Debug, Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Not reached by `KeyHash`; kept correct for any other use.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Seconds since the Unix epoch, now.
pub fn now_secs() -> u32 {
    let s = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    u32::try_from(s).unwrap_or(u32::MAX)
}

/// The expiry of a key written now with a TTL: the end of the whole second in which the TTL
/// ends, so a key lives at least `ttl_ms` and less than one second more.
pub fn expiry_after(ttl_ms: u64) -> u32 {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let secs = now_ms.saturating_add(ttl_ms).div_ceil(1000);
    u32::try_from(secs).unwrap_or(u32::MAX)
}

/// The dedup key set.
#[derive(Debug)]
pub struct DedupSet {
    /// Live (and not yet purged expired) keys: their expiry, in seconds since the epoch, and
    /// token.
    map: HashMap<KeyHash, Entry, BuildHasherDefault<PassThrough>>,
    /// Write order, oldest first.
    order: VecDeque<(KeyHash, u32)>,
    /// Most keys kept.
    max_keys: usize,
}

impl DedupSet {
    /// An empty set holding at most `max_keys` keys (unbounded when `None`).
    pub fn new(max_keys: Option<u64>) -> DedupSet {
        DedupSet {
            map: HashMap::default(),
            order: VecDeque::new(),
            max_keys: max_keys.map_or(usize::MAX, |m| usize::try_from(m).unwrap_or(usize::MAX)),
        }
    }

    /// Keys held, counting expired keys not yet purged.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether `key` is live at `now` and was written by another event than `token` (a
    /// duplicate); when not live, it is written with `expiry` and `token`. A key written by
    /// the same non-zero token is not a duplicate and is left as it is.
    pub fn seen_or_set(&mut self, key: KeyHash, expiry: u32, now: u32, token: u64) -> bool {
        let entry = Entry {
            expiry,
            token: split(token),
        };
        match self.map.get_mut(&key) {
            Some(e) if e.expiry > now => return token == 0 || join(e.token) != token,
            Some(e) => *e = entry,
            None => {
                self.map.insert(key, entry);
            }
        }
        self.order.push_back((key, expiry));
        self.trim(now);
        false
    }

    /// Evicts the least recently written while over `max_keys`, and drops expired and
    /// stale entries from the front of the write order.
    fn trim(&mut self, now: u32) {
        while let Some(&(k, exp)) = self.order.front() {
            let current = self.map.get(&k).is_some_and(|e| e.expiry == exp);
            if current && exp > now && self.map.len() <= self.max_keys {
                break;
            }
            self.order.pop_front();
            if current {
                self.map.remove(&k);
            }
        }
        if self.order.len() > 2 * self.map.len() + 1024 {
            let map = &self.map;
            self.order
                .retain(|(k, exp)| map.get(k).is_some_and(|e| e.expiry == *exp));
        }
    }

    /// Writes the live keys, oldest first, to `path` through a temporary file and a rename,
    /// so a crash leaves the previous snapshot whole.
    pub fn snapshot(&self, path: &Path, now: u32) -> std::io::Result<usize> {
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = std::path::PathBuf::from(tmp);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut w = BufWriter::new(std::fs::File::create(&tmp)?);
        w.write_all(MAGIC)?;
        let mut n = 0;
        for (k, exp) in &self.order {
            let Some(e) = self.map.get(k).filter(|e| e.expiry == *exp && *exp > now) else {
                continue;
            };
            for part in k.0 {
                w.write_all(&part.to_le_bytes())?;
            }
            w.write_all(&exp.to_le_bytes())?;
            w.write_all(&join(e.token).to_le_bytes())?;
            n += 1;
        }
        w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&tmp, path)?;
        Ok(n)
    }

    /// Reads a snapshot into the set, skipping keys expired at `now`.
    pub fn restore(&mut self, path: &Path, now: u32) -> Result<usize, RuntimeError> {
        let bad = |why: String| RuntimeError::Config {
            what: format!("snapshot {}: {why}", path.display()),
        };
        let file = std::fs::File::open(path).map_err(|e| bad(e.to_string()))?;
        let mut r = BufReader::new(file);
        let mut magic = [0u8; 8];
        r.read_exact(&mut magic)
            .map_err(|e| bad(format!("no header: {e}")))?;
        let size = match &magic {
            m if m == MAGIC => 28,
            m if m == MAGIC_V1 => 20,
            _ => return Err(bad("not a pipec dedup snapshot (version 1 or 2)".into())),
        };
        let mut n = 0;
        let mut buf = [0u8; 28];
        let buf = &mut buf[..size];
        loop {
            match r.read(&mut buf[..1]) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => return Err(bad(e.to_string())),
            }
            r.read_exact(&mut buf[1..])
                .map_err(|_| bad(format!("truncated after {n} keys")))?;
            let word = |i: usize| u32::from_le_bytes([buf[i], buf[i + 1], buf[i + 2], buf[i + 3]]);
            let key = KeyHash([word(0), word(4), word(8), word(12)]);
            let exp = word(16);
            let token = if size == 28 {
                u64::from(word(20)) | (u64::from(word(24)) << 32)
            } else {
                0
            };
            if exp > now && !self.seen_or_set(key, exp, now, token) {
                n += 1;
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(s: &str) -> KeyHash {
        KeyHash::of(s)
    }

    #[test]
    fn slots_are_not_padded() {
        assert_eq!(std::mem::size_of::<(KeyHash, Entry)>(), 28);
        assert_eq!(std::mem::size_of::<(KeyHash, u32)>(), 20);
    }

    #[test]
    fn the_token_that_wrote_a_key_is_not_a_duplicate_of_it() {
        let mut s = DedupSet::new(None);
        assert!(!s.seen_or_set(k("a"), 200, 100, 7));
        // The same event again (a replay): not a duplicate; another event: a duplicate.
        assert!(!s.seen_or_set(k("a"), 200, 101, 7));
        assert!(s.seen_or_set(k("a"), 200, 101, 8));
        // Without a token, any live key is a duplicate.
        assert!(s.seen_or_set(k("a"), 200, 101, 0));
        assert!(!s.seen_or_set(k("b"), 200, 101, 0));
        assert!(s.seen_or_set(k("b"), 200, 101, 0));
    }

    #[test]
    fn expired_keys_are_new_again() {
        let mut s = DedupSet::new(None);
        assert!(!s.seen_or_set(k("a"), 110, 100, 0));
        assert!(s.seen_or_set(k("a"), 115, 109, 0));
        assert!(!s.seen_or_set(k("a"), 120, 110, 0));
        assert!(s.seen_or_set(k("a"), 125, 119, 0));
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn the_least_recently_written_are_evicted_first() {
        let mut s = DedupSet::new(Some(3));
        for key in ["a", "b", "c", "d"] {
            assert!(!s.seen_or_set(k(key), 200, 100, 0));
        }
        assert_eq!(s.len(), 3);
        // `a` was evicted; reading `b` does not refresh it, writing `a` evicts `b`.
        assert!(s.seen_or_set(k("b"), 200, 100, 0));
        assert!(!s.seen_or_set(k("a"), 200, 100, 0));
        assert!(!s.seen_or_set(k("b"), 200, 100, 0));
        assert!(s.seen_or_set(k("d"), 200, 100, 0));
    }

    #[test]
    fn stale_entries_are_compacted() {
        let mut s = DedupSet::new(None);
        s.seen_or_set(k("keep"), u32::MAX, 0, 0);
        for t in 0..5000u32 {
            s.seen_or_set(k("again"), t + 1, t, 0);
        }
        assert_eq!(s.len(), 2);
        assert!(s.order.len() <= 2 * s.len() + 1024 + 1);
    }

    #[test]
    fn snapshots_round_trip_without_expired_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seen.snap");
        let mut s = DedupSet::new(None);
        s.seen_or_set(k("short"), 105, 100, 0);
        s.seen_or_set(k("long"), 200, 100, 9);
        assert_eq!(s.snapshot(&path, 100).unwrap(), 2);
        let mut r = DedupSet::new(None);
        assert_eq!(r.restore(&path, 150).unwrap(), 1);
        assert!(r.seen_or_set(k("long"), 300, 150, 0));
        assert!(!r.seen_or_set(k("short"), 300, 150, 0));
        // The token survives the snapshot.
        assert!(!r.seen_or_set(k("long"), 300, 150, 9));
        assert!(r.seen_or_set(k("long"), 300, 150, 10));
    }

    #[test]
    fn version_1_snapshots_are_read_without_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seen.snap");
        let mut bytes = MAGIC_V1.to_vec();
        for part in k("old").0 {
            bytes.extend(part.to_le_bytes());
        }
        bytes.extend(200u32.to_le_bytes());
        std::fs::write(&path, bytes).unwrap();
        let mut r = DedupSet::new(None);
        assert_eq!(r.restore(&path, 100).unwrap(), 1);
        assert!(r.seen_or_set(k("old"), 300, 150, 0));
        assert!(r.seen_or_set(k("old"), 300, 150, 5));
    }

    #[test]
    fn a_truncated_snapshot_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seen.snap");
        std::fs::write(&path, [&MAGIC[..], &[1, 2, 3]].concat()).unwrap();
        let e = DedupSet::new(None).restore(&path, 0).unwrap_err();
        assert!(e.to_string().contains("truncated after 0 keys"), "{e}");
    }
}
