//! Splicing top-level members into canonical objects: a member set replaces the old value
//! where it is, a new one is added at the end, as setting the field on the tree and
//! serializing it would write.

use super::canonical::bloom;
use super::read::{key_word, members};

/// The canonical object `obj` with top-level members set, as `fields::set` sets them one
/// after the other: an existing member's value is replaced where it is, a new member is
/// added at the end. `sets` holds quoted keys (each once) and serialized values.
#[cfg(test)]
pub(crate) fn set_members(obj: &[u8], sets: &[(&[u8], &[u8])]) -> Vec<u8> {
    MemberSets::new(sets.to_vec()).apply(obj)
}

/// Top-level members to set on many objects (see [`set_members`]).
pub(crate) struct MemberSets<'a> {
    sets: Vec<(&'a [u8], &'a [u8])>,
    finders: Vec<memchr::memmem::Finder<'a>>,
    /// The bits of the keys' key words (see [`bloom`]).
    bits: u64,
}

impl<'a> MemberSets<'a> {
    /// Quoted keys (each once) and serialized values.
    pub(crate) fn new(sets: Vec<(&'a [u8], &'a [u8])>) -> MemberSets<'a> {
        let finders = sets
            .iter()
            .map(|(k, _)| memchr::memmem::Finder::new(*k))
            .collect();
        let bits = sets.iter().fold(0, |b, (k, _)| b | bloom(key_word(k)));
        MemberSets {
            sets,
            finders,
            bits,
        }
    }

    /// [`MemberSets::apply`], given the bits of the key words of the object's members (as
    /// the canonical check found them): when no key set has its bit among them, none is a
    /// member, and all are added at the end without looking for them.
    pub(crate) fn apply_with_keys(&self, obj: &[u8], member_bits: u64) -> Vec<u8> {
        if self.bits & member_bits != 0 {
            return self.apply(obj);
        }
        let sets = self.sets.as_slice();
        let extra: usize = sets.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
        let mut out = Vec::with_capacity(obj.len() + extra);
        append(&mut out, obj, sets);
        out
    }

    /// The canonical object `obj` with the members set.
    pub(crate) fn apply(&self, obj: &[u8]) -> Vec<u8> {
        let sets = self.sets.as_slice();
        let extra: usize = sets.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
        let mut out = Vec::with_capacity(obj.len() + extra);
        // A member's quoted key is in the bytes as it is: when no key is, all are added at
        // the end without reading the members.
        if !self.finders.iter().any(|f| f.find(obj).is_some()) {
            append(&mut out, obj, sets);
            return out;
        }
        splice_members(out, obj, sets)
    }
}

/// Adds the members at the end of `obj` (which has none of them).
fn append(out: &mut Vec<u8>, obj: &[u8], sets: &[(&[u8], &[u8])]) {
    out.extend_from_slice(&obj[..obj.len() - 1]);
    for (i, (k, v)) in sets.iter().enumerate() {
        if i > 0 || obj.len() > 2 {
            out.push(b',');
        }
        out.extend_from_slice(k);
        out.push(b':');
        out.extend_from_slice(v);
    }
    out.push(b'}');
}

/// Reads the members of `obj`: those set are replaced in place, the others added at the end.
fn splice_members(mut out: Vec<u8>, obj: &[u8], sets: &[(&[u8], &[u8])]) -> Vec<u8> {
    let mut done = vec![false; sets.len()];
    let mut copied = 0;
    let mut any = false;
    for (key, r) in members(obj) {
        any = true;
        if let Some(j) = sets.iter().position(|(k, _)| *k == key) {
            out.extend_from_slice(&obj[copied..r.start]);
            out.extend_from_slice(sets[j].1);
            copied = r.end;
            done[j] = true;
        }
    }
    // Up to the closing brace.
    out.extend_from_slice(&obj[copied..obj.len() - 1]);
    for ((k, v), done) in sets.iter().zip(done) {
        if done {
            continue;
        }
        if any {
            out.push(b',');
        }
        any = true;
        out.extend_from_slice(k);
        out.push(b':');
        out.extend_from_slice(v);
    }
    out.push(b'}');
    out
}
