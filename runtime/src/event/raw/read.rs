//! Reading canonical bytes in place: a member, a path, a string's text, the members of an
//! object and the elements of a list, without building values.

use super::canonical::Shape;

impl Shape {
    /// The bits of the key words of the members of each element of list member
    /// `list_key` (quoted), see [`Shape::element_keys`].
    pub(crate) fn list_keys<'s>(&'s self, b: &[u8], list_key: &[u8]) -> Option<&'s [u64]> {
        let i = self
            .members
            .iter()
            .position(|(k, _)| b.get(k.clone()) == Some(list_key))?;
        let at = self.lists.iter().position(|(j, _)| *j == i)?;
        self.element_keys.get(at).map(Vec::as_slice)
    }

    /// The document read as [`split`] reads it.
    pub(crate) fn split<'a>(&self, b: &'a [u8], list_key: &[u8]) -> Split<'a> {
        let mut out = Split {
            others: Vec::with_capacity(self.members.len()),
            list: None,
        };
        for (i, (k, v)) in self.members.iter().enumerate() {
            let key = &b[k.clone()];
            if key == list_key
                && let Some((_, elems)) = self.lists.iter().find(|(j, _)| *j == i)
            {
                let shifted = elems
                    .iter()
                    .map(|r| r.start - v.start..r.end - v.start)
                    .collect();
                out.list = Some((&b[v.clone()], shifted));
            } else {
                out.others.push((key, &b[v.clone()]));
            }
        }
        out
    }
}

/// End (exclusive) of the value starting at `i` of canonical bytes.
fn skip(b: &[u8], mut i: usize) -> usize {
    match b.get(i) {
        Some(b'"') => string_end(b, i),
        Some(b'{' | b'[') => {
            let mut depth = 0_usize;
            while let Some(&c) = b.get(i) {
                match c {
                    b'"' => {
                        i = string_end(b, i);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return i + 1;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            b.len()
        }
        _ => {
            while let Some(&c) = b.get(i) {
                if matches!(c, b',' | b'}' | b']') {
                    break;
                }
                i += 1;
            }
            i
        }
    }
}

/// End (exclusive) of the string starting at `i`.
fn string_end(b: &[u8], mut i: usize) -> usize {
    i += 1;
    loop {
        let at = special(b, i);
        match b.get(at) {
            None => return b.len(),
            Some(b'"') => return at + 1,
            Some(b'\\') => i = at + 2,
            Some(_) => i = at + 1,
        }
    }
}

pub(crate) const ONES: u64 = 0x0101_0101_0101_0101;
pub(crate) const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Index of the first byte from `i` on that is `"`, `\` or a control character (the
/// bytes that end a run of string text), else the length; eight bytes at a time.
pub(crate) fn special(b: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = b.get(i..i + 8) {
        let mut w = [0_u8; 8];
        w.copy_from_slice(chunk);
        let v = u64::from_le_bytes(w);
        // A byte of `x` is zero, or of `v` is below 0x20: its high bit in the mask (exact
        // for the lowest such byte, which is the one wanted).
        let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
        let mask = zero(v ^ (ONES * u64::from(b'"')))
            | zero(v ^ (ONES * u64::from(b'\\')))
            | (v.wrapping_sub(ONES * 0x20) & !v & HIGHS);
        if mask != 0 {
            return i + (mask.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&c) = b.get(i) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            return i;
        }
        i += 1;
    }
    b.len()
}

/// The word [`Node::kw`] holds for a quoted key: its length and first bytes, to tell keys
/// apart before comparing them.
pub(crate) fn key_word(k: &[u8]) -> u64 {
    let mut w = [0_u8; 8];
    let inner = k.get(1..).unwrap_or_default();
    let n = inner.len().min(8);
    w[..n].copy_from_slice(&inner[..n]);
    u64::from_le_bytes(w) ^ ((k.len() as u64) << 56)
}

/// Whether two quoted keys with key words `kw_a` and `kw_b` (see [`key_word`]) are the
/// same: the words hold the eight bytes after the quote, so keys of the same length up
/// to nine bytes are told apart by them alone.
#[inline]
pub(crate) fn same_key(kw_a: u64, a: &[u8], kw_b: u64, b: &[u8]) -> bool {
    kw_a == kw_b && a.len() == b.len() && (a.len() <= 9 || a == b)
}

/// The members of a canonical object: `(key with its quotes, value range)`.
pub(crate) fn members(b: &[u8]) -> Members<'_> {
    Members {
        b,
        i: if b.first() == Some(&b'{') && b.get(1) != Some(&b'}') {
            1
        } else {
            b.len()
        },
    }
}

pub(crate) struct Members<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Iterator for Members<'a> {
    type Item = (&'a [u8], std::ops::Range<usize>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.i >= self.b.len() {
            return None;
        }
        let k_end = string_end(self.b, self.i);
        let key = &self.b[self.i..k_end];
        let v_start = k_end + 1;
        let v_end = skip(self.b, v_start);
        // Past the `,` (or the closing `}`, which ends the iteration).
        self.i = if self.b.get(v_end) == Some(&b',') {
            v_end + 1
        } else {
            self.b.len()
        };
        Some((key, v_start..v_end))
    }
}

/// The elements of a canonical array, as ranges.
#[cfg(test)]
pub(crate) fn elements(b: &[u8]) -> Vec<std::ops::Range<usize>> {
    elements_at(b, 0).0
}

/// The elements of the canonical array at `start` of `b` (ranges of `b`), and its end.
fn elements_at(b: &[u8], start: usize) -> (Vec<std::ops::Range<usize>>, usize) {
    let mut out = Vec::new();
    if b.get(start) != Some(&b'[') {
        return (out, skip(b, start));
    }
    if b.get(start + 1) == Some(&b']') {
        return (out, start + 2);
    }
    let mut i = start + 1;
    while i < b.len() {
        let end = skip(b, i);
        out.push(i..end);
        if b.get(end) != Some(&b',') {
            return (out, end + 1);
        }
        i = end + 1;
    }
    (out, b.len())
}

/// A canonical object read in one pass: its members but one, and that one's elements
/// when it is a list.
pub(crate) struct Split<'a> {
    /// The other members: quoted key, value.
    pub(crate) others: Vec<(&'a [u8], &'a [u8])>,
    /// The list: its bytes and the ranges of its elements in them.
    pub(crate) list: Option<(&'a [u8], Vec<std::ops::Range<usize>>)>,
}

/// Reads the canonical object `b`, with member `list_key` (quoted) as a list.
pub(crate) fn split<'a>(b: &'a [u8], list_key: &[u8]) -> Split<'a> {
    let mut out = Split {
        others: Vec::new(),
        list: None,
    };
    if b.first() != Some(&b'{') || b.get(1) == Some(&b'}') {
        return out;
    }
    let mut i = 1;
    while i < b.len() {
        let k_end = string_end(b, i);
        let key = &b[i..k_end];
        let v_start = k_end + 1;
        let v_end = if key == list_key && b.get(v_start) == Some(&b'[') {
            let (elems, end) = elements_at(b, v_start);
            let shifted = elems
                .into_iter()
                .map(|r| r.start - v_start..r.end - v_start)
                .collect();
            out.list = Some((&b[v_start..end.min(b.len())], shifted));
            end
        } else {
            let end = skip(b, v_start);
            out.others.push((key, &b[v_start..end.min(b.len())]));
            end
        };
        if b.get(v_end) != Some(&b',') {
            break;
        }
        i = v_end + 1;
    }
    out
}

/// A field name as a quoted JSON key (as serde_json writes it).
pub(crate) fn quoted(name: &str) -> Vec<u8> {
    serde_json::to_vec(name).unwrap_or_default()
}

/// The value of member `key` (quoted) of a canonical object.
pub(crate) fn member<'a>(b: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    members(b).find(|(k, _)| *k == key).map(|(_, r)| &b[r])
}

/// The value at a path of quoted field names in canonical bytes.
pub(crate) fn lookup<'a>(b: &'a [u8], path: &[Vec<u8>]) -> Option<&'a [u8]> {
    path.iter().try_fold(b, |cur, key| member(cur, key))
}

/// The text of a canonical JSON string value (none when not a string).
pub(crate) fn text(v: &[u8]) -> Option<std::borrow::Cow<'_, str>> {
    if v.first() != Some(&b'"') || v.len() < 2 {
        return None;
    }
    let inner = &v[1..v.len() - 1];
    if inner.contains(&b'\\') {
        serde_json::from_slice::<String>(v)
            .ok()
            .map(std::borrow::Cow::Owned)
    } else {
        std::str::from_utf8(inner)
            .ok()
            .map(std::borrow::Cow::Borrowed)
    }
}

/// The number of characters of the text of a canonical JSON string value (none when not
/// a string).
pub(crate) fn char_count(v: &[u8]) -> Option<usize> {
    if v.first() != Some(&b'"') || v.len() < 2 {
        return None;
    }
    let mut n = 0;
    for &c in &v[1..v.len() - 1] {
        if c == b'\\' {
            return text(v).map(|t| t.chars().count());
        }
        // Canonical text is well-formed UTF-8: a character starts at each byte that does
        // not continue one.
        n += usize::from(c & 0xc0 != 0x80);
    }
    Some(n)
}

/// Quoted keys of a path of field names only (none when it has an index).
pub(crate) fn field_keys(p: &pipec_compiler::expr::FieldPath) -> Option<Vec<Vec<u8>>> {
    p.segments
        .iter()
        .map(|s| match s {
            pipec_compiler::expr::PathSegment::Field { name, .. } => Some(quoted(name)),
            pipec_compiler::expr::PathSegment::Index { .. } => None,
        })
        .collect()
}
