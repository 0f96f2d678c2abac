//! Grouping records by a key when a day of them does not fit in memory, as the workflow
//! summary needs: a first pass appends each record, with its key and order, to one of N
//! bucket files chosen by a hash of the key (sequential writes, one buffer per bucket); a
//! second pass reads one bucket at a time whole, sorts its entries by key and order, and
//! hands each key's records on in order. Every record of a key is in the same bucket, so a
//! bucket holds whole groups; the caller picks N so that a bucket fits in its share of the
//! memory limit.
//!
//! The hash is FNV-1a, fixed: the buckets, and so the order groups come out in (bucket by
//! bucket, keys in byte order within one), are the same on every run and every build.

use std::cmp::Ordering;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::RuntimeError;

fn io(what: &str, p: &Path, e: &std::io::Error) -> RuntimeError {
    RuntimeError::Io {
        what: format!("{what} `{}`", p.display()),
        reason: e.to_string(),
    }
}

/// FNV-1a, 64 bits.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The bucket of `key` among `n`.
pub fn bucket_of(key: &[u8], n: usize) -> usize {
    // `n` is at most a few thousand: the remainder fits.
    usize::try_from(fnv1a(key) % n as u64).unwrap_or(0)
}

/// Appends records to the bucket files of one writer (one per thread: files are not
/// shared).
pub struct BucketWriter {
    files: Vec<BufWriter<std::fs::File>>,
    paths: Vec<PathBuf>,
}

impl BucketWriter {
    /// `n` bucket files in `dir`, named after `tag` (which tells writers apart).
    pub fn new(dir: &Path, tag: &str, n: usize) -> Result<BucketWriter, RuntimeError> {
        let mut files = Vec::with_capacity(n);
        let mut paths = Vec::with_capacity(n);
        for b in 0..n {
            let p = dir.join(format!("bucket-{b:05}-{tag}"));
            let f = std::fs::File::create(&p).map_err(|e| io("creating", &p, &e))?;
            files.push(BufWriter::with_capacity(1 << 16, f));
            paths.push(p);
        }
        Ok(BucketWriter { files, paths })
    }

    /// Appends a record of `key`, ordered within it by `ets` then `mid`.
    pub fn push(
        &mut self,
        key: &[u8],
        ets: i64,
        mid: &[u8],
        raw: &[u8],
    ) -> Result<(), RuntimeError> {
        let b = bucket_of(key, self.files.len());
        let (Some(w), Some(p)) = (self.files.get_mut(b), self.paths.get(b)) else {
            return Err(RuntimeError::Internal("a bucket went missing".into()));
        };
        let len = |x: &[u8]| {
            u32::try_from(x.len()).map_err(|_| RuntimeError::Io {
                what: format!("writing `{}`", p.display()),
                reason: format!("a record of {} bytes is over 4 GiB", x.len()),
            })
        };
        let (k, m, r) = (len(key)?, len(mid)?, len(raw)?);
        let werr = |e: std::io::Error| io("writing", p, &e);
        w.write_all(&k.to_le_bytes()).map_err(werr)?;
        w.write_all(key).map_err(werr)?;
        w.write_all(&ets.to_le_bytes()).map_err(werr)?;
        w.write_all(&m.to_le_bytes()).map_err(werr)?;
        w.write_all(mid).map_err(werr)?;
        w.write_all(&r.to_le_bytes()).map_err(werr)?;
        w.write_all(raw).map_err(werr)
    }

    /// Flushes every file; gives their paths, bucket by bucket.
    pub fn finish(self) -> Result<Vec<PathBuf>, RuntimeError> {
        for (w, p) in self.files.into_iter().zip(&self.paths) {
            w.into_inner().map_err(|e| io("writing", p, e.error()))?;
        }
        Ok(self.paths)
    }
}

/// Where an entry's parts are in its bucket's bytes.
#[derive(Clone, Copy)]
struct Slot {
    key: (usize, usize),
    ets: i64,
    mid: (usize, usize),
    raw: (usize, usize),
}

/// One record of a bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<'a> {
    /// Its group.
    pub key: &'a [u8],
    /// Its order within the group: `ets`, then `mid`.
    pub ets: i64,
    pub mid: &'a [u8],
    /// The record.
    pub raw: &'a [u8],
}

/// A bucket read whole, its entries sorted by key, `ets`, `mid` (then the record itself, so
/// that the order never depends on the order records were written in).
pub struct Bucket {
    bytes: Vec<u8>,
    slots: Vec<Slot>,
}

impl Bucket {
    /// Reads the files of one bucket (one per writer).
    pub fn read(paths: &[PathBuf]) -> Result<Bucket, RuntimeError> {
        // Sized once: a growing buffer would copy a large bucket several times over.
        let size: u64 = paths
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum();
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        for p in paths {
            let mut f = std::fs::File::open(p).map_err(|e| io("reading", p, &e))?;
            std::io::Read::read_to_end(&mut f, &mut bytes).map_err(|e| io("reading", p, &e))?;
        }
        let corrupt = || RuntimeError::Internal("a bucket file is cut short".into());
        let mut slots = Vec::new();
        let mut at = 0usize;
        let u32_at = |at: usize| -> Option<usize> {
            let b: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
            usize::try_from(u32::from_le_bytes(b)).ok()
        };
        while at < bytes.len() {
            let k = u32_at(at).ok_or_else(corrupt)?;
            let key = (at + 4, k);
            at += 4 + k;
            let e: [u8; 8] = bytes
                .get(at..at + 8)
                .and_then(|b| b.try_into().ok())
                .ok_or_else(corrupt)?;
            let ets = i64::from_le_bytes(e);
            at += 8;
            let m = u32_at(at).ok_or_else(corrupt)?;
            let mid = (at + 4, m);
            at += 4 + m;
            let r = u32_at(at).ok_or_else(corrupt)?;
            let raw = (at + 4, r);
            at += 4 + r;
            if at > bytes.len() {
                return Err(corrupt());
            }
            slots.push(Slot { key, ets, mid, raw });
        }
        let part = |(a, n): (usize, usize)| bytes.get(a..a + n).unwrap_or_default();
        slots.sort_unstable_by(|x, y| {
            part(x.key)
                .cmp(part(y.key))
                .then(x.ets.cmp(&y.ets))
                .then_with(|| part(x.mid).cmp(part(y.mid)))
                .then_with(|| part(x.raw).cmp(part(y.raw)))
        });
        Ok(Bucket { bytes, slots })
    }

    fn entry(&self, s: &Slot) -> Entry<'_> {
        let part = |(a, n): (usize, usize)| self.bytes.get(a..a + n).unwrap_or_default();
        Entry {
            key: part(s.key),
            ets: s.ets,
            mid: part(s.mid),
            raw: part(s.raw),
        }
    }

    /// The groups of the bucket in key order, each its entries in order.
    pub fn groups(&self) -> impl Iterator<Item = Vec<Entry<'_>>> + '_ {
        let mut i = 0;
        std::iter::from_fn(move || {
            let first = self.entry(self.slots.get(i)?);
            let mut group = vec![first];
            i += 1;
            while let Some(s) = self.slots.get(i) {
                let e = self.entry(s);
                if e.key.cmp(first.key) != Ordering::Equal {
                    break;
                }
                group.push(e);
                i += 1;
            }
            Some(group)
        })
    }

    /// Records in the bucket.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether the bucket has no record.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_come_whole_and_in_order_from_any_writer() {
        let dir = tempfile::tempdir().expect("tmp");
        let n = 3;
        let mut a = BucketWriter::new(dir.path(), "t0", n).expect("writer");
        let mut b = BucketWriter::new(dir.path(), "t1", n).expect("writer");
        // Keys k0..k9, each with events written out of order and split across writers.
        for i in 0..10u8 {
            let key = format!("k{i}");
            for (first, ets, mid) in [(true, 30, "c"), (false, 10, "z"), (true, 10, "a")] {
                let raw = format!("{key}-{ets}-{mid}");
                let w = if first { &mut a } else { &mut b };
                w.push(key.as_bytes(), ets, mid.as_bytes(), raw.as_bytes())
                    .expect("push");
            }
        }
        let (pa, pb) = (a.finish().expect("a"), b.finish().expect("b"));
        let mut seen = Vec::new();
        for bucket in 0..n {
            let files = [pa[bucket].clone(), pb[bucket].clone()];
            let read = Bucket::read(&files).expect("read");
            for g in read.groups() {
                let raws: Vec<&[u8]> = g.iter().map(|e| e.raw).collect();
                let key = String::from_utf8_lossy(g[0].key).into_owned();
                assert_eq!(
                    raws,
                    vec![
                        format!("{key}-10-a").as_bytes(),
                        format!("{key}-10-z").as_bytes(),
                        format!("{key}-30-c").as_bytes()
                    ],
                    "ordered by ets then mid"
                );
                assert!(g.iter().all(|e| e.key == g[0].key));
                assert_eq!(bucket_of(g[0].key, n), bucket);
                seen.push(key);
            }
        }
        seen.sort();
        assert_eq!(seen, (0..10).map(|i| format!("k{i}")).collect::<Vec<_>>());
        std::fs::write(&pa[0], [1u8, 0, 0]).expect("cut");
        assert!(Bucket::read(&pa[..1]).is_err(), "a cut file is an error");
    }

    #[test]
    fn the_hash_is_fixed() {
        // FNV-1a's published test vectors.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
