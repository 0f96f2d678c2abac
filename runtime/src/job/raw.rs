//! Events kept as their JSON bytes until a step needs them as a tree.
//!
//! A record can stay bytes only when parsing it into a `serde_json::Value` and serializing
//! that again would give back the very same bytes: [`canonical`] checks that (no
//! whitespace, strings escaped as serde_json escapes them, numbers written as serde_json
//! writes them, no object with a repeated key). Then reading a field, splitting a list or
//! setting a top-level field can work on the bytes, and the output is byte for byte what
//! the tree would have given. Anything else goes through the tree.

use std::ops::Range;

use serde_json::Value;

/// Deeper documents are left to serde_json (and its recursion limit).
const MAX_DEPTH: usize = 100;
/// Objects with more keys are left to serde_json (the repeated-key check is quadratic).
const MAX_KEYS: usize = 64;

/// Whether `bytes` is one JSON value exactly as serde_json would serialize it after
/// parsing it (compact, `preserve_order`).
#[cfg(test)]
pub(super) fn canonical(bytes: &[u8]) -> bool {
    canonical_shape(bytes).is_some()
}

/// Where the members of a document's root object are, and the elements of those that are
/// lists: read while checking it, so that a step that splits a list need not read the
/// document again.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Shape {
    /// Quoted key and value of each member of the root object (none if it is no object).
    pub(super) members: Vec<(Range<usize>, Range<usize>)>,
    /// For each member whose value is a list: its index in `members` and its elements.
    pub(super) lists: Vec<(usize, Vec<Range<usize>>)>,
    /// For each list of `lists`, for each element: the bits of the key words of its
    /// members (see [`bloom`]; 0 when it is no object, or an empty one).
    pub(super) element_keys: Vec<Vec<u64>>,
}

/// [`canonical`], with the document's [`Shape`] when it is.
pub(super) fn canonical_shape(bytes: &[u8]) -> Option<Shape> {
    let mut shape = Shape::default();
    check::<false>(bytes, &mut Vec::new(), &mut shape)?;
    Some(shape)
}

/// One value of a canonical document: the tape of a document lists its values in document
/// order, each container followed by its members or elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Node {
    /// Byte range of the value.
    pub(super) start: u32,
    pub(super) end: u32,
    /// Byte range of its quoted key when it is a member of an object (else empty).
    pub(super) key_start: u32,
    pub(super) key_end: u32,
    /// Index of the first node after the value's own (its members' included).
    pub(super) next: u32,
    /// [`key_word`] of its key (0 when it has none).
    pub(super) kw: u64,
    pub(super) kind: Kind,
}

/// What a [`Node`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Object,
    Array,
    String,
    /// A number without fraction or exponent.
    Int,
    /// A number with a fraction or an exponent.
    Float,
    True,
    False,
    Null,
}

/// [`canonical`], with the document's tape when it is.
pub(super) fn canonical_tape(bytes: &[u8]) -> Option<Vec<Node>> {
    if u32::try_from(bytes.len()).is_err() {
        return None;
    }
    let mut tape = Vec::with_capacity(64);
    check::<true>(bytes, &mut tape, &mut Shape::default())?;
    Some(tape)
}

/// A container being read by [`check`].
struct Open {
    /// Index of its node in the tape (with `TAPE`).
    at: usize,
    /// Its first byte.
    start: usize,
    /// Its quoted key when it is a member (else empty).
    key: (usize, usize),
    /// Where its keys start in the keys of the objects being read (objects, without
    /// `TAPE`: with it, the object's members are its nodes so far).
    keys_from: usize,
    /// Its keys so far (objects), and a bit for each of their key words (see [`bloom`]).
    count: usize,
    bloom: u64,
    object: bool,
}

/// A bit of a key word: keys with different bits differ, so a key is compared with the
/// object's earlier ones only when its bit is already set.
#[inline(always)]
pub(super) fn bloom(kw: u64) -> u64 {
    1 << (kw.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 58)
}

/// Reads `b` as one canonical value: the verdict of [`canonical`]. With `TAPE`, every value
/// goes to `tape` (see [`Node`]); without, the root object's members and the elements of
/// those that are lists go to `shape`. One loop over the values with a stack of the open
/// containers; string text is read eight bytes at a time (see [`string`]).
fn check<const TAPE: bool>(b: &[u8], tape: &mut Vec<Node>, shape: &mut Shape) -> Option<()> {
    let mut stack: Vec<Open> = Vec::with_capacity(8);
    // Without `TAPE`, the keys of the objects being read, innermost last (for the
    // repeated-key check): key word, quoted key's range.
    let mut keys: Vec<(u64, usize, usize)> = Vec::new();
    // Elements of the list being read that is a member of the root object (`shape`), and
    // the bits of their members' key words.
    let mut elements: Vec<Range<usize>> = Vec::new();
    let mut element_keys: Vec<u64> = Vec::new();
    // The first byte of the last object closed, and the bits of its key words.
    let mut last_object = (usize::MAX, 0);
    let root_object = !TAPE && b.first() == Some(&b'{');
    let mut i = 0;
    // Whether a member of the innermost object comes next (its key, then its value).
    let mut member = false;
    // The key of the value about to be read (empty outside objects), and its key word.
    let mut key = (0, 0);
    let mut kw = 0;
    'value: loop {
        if member {
            let top = stack.last_mut()?;
            let end;
            (end, kw) = member_key::<TAPE>(b, i, tape, &mut keys, top)?;
            key = (i, end);
            i = end + 1;
        }
        let start = i;
        let kind = match *b.get(i)? {
            b'"' => {
                i = string(b, i)?;
                Kind::String
            }
            c @ (b'{' | b'[') => {
                if stack.len() >= MAX_DEPTH {
                    return None;
                }
                let object = c == b'{';
                let kind = if object { Kind::Object } else { Kind::Array };
                // `}` and `]` are two after `{` and `[`.
                if b.get(i + 1) == Some(&(c + 2)) {
                    i += 2;
                    if !TAPE && !object && root_object && stack.len() == 1 {
                        // An empty list member of the root object.
                        shape.lists.push((shape.members.len(), Vec::new()));
                        shape.element_keys.push(Vec::new());
                    }
                    kind
                } else {
                    let at = tape.len();
                    if TAPE {
                        tape.push(Node {
                            start: start as u32,
                            end: 0,
                            key_start: key.0 as u32,
                            key_end: key.1 as u32,
                            next: 0,
                            kw,
                            kind,
                        });
                    }
                    stack.push(Open {
                        at,
                        start,
                        key,
                        keys_from: keys.len(),
                        count: 0,
                        bloom: 0,
                        object,
                    });
                    i += 1;
                    member = object;
                    (key, kw) = ((0, 0), 0);
                    continue 'value;
                }
            }
            b't' => {
                if b.get(i..i + 4)? != b"true" {
                    return None;
                }
                i += 4;
                Kind::True
            }
            b'f' => {
                if b.get(i..i + 5)? != b"false" {
                    return None;
                }
                i += 5;
                Kind::False
            }
            b'n' => {
                if b.get(i..i + 4)? != b"null" {
                    return None;
                }
                i += 4;
                Kind::Null
            }
            b'-' | b'0'..=b'9' => {
                let int;
                (i, int) = number(b, i)?;
                if int { Kind::Int } else { Kind::Float }
            }
            _ => return None,
        };
        if TAPE {
            let next = tape.len() as u32 + 1;
            tape.push(Node {
                start: start as u32,
                end: i as u32,
                key_start: key.0 as u32,
                key_end: key.1 as u32,
                next,
                kw,
                kind,
            });
        }
        // The value read ends at `i`: its first byte and key, for `shape`.
        let (mut start, mut key_read) = (start, key);
        loop {
            let depth = stack.len();
            let Some(top) = stack.last() else {
                break 'value;
            };
            if !TAPE && root_object {
                if depth == 1 {
                    shape.members.push((key_read.0..key_read.1, start..i));
                } else if depth == 2 && !top.object {
                    elements.push(start..i);
                    element_keys.push(if last_object.0 == start {
                        last_object.1
                    } else {
                        0
                    });
                }
            }
            let c = *b.get(i)?;
            if c == b',' {
                i += 1;
                member = top.object;
                (key, kw) = ((0, 0), 0);
                continue 'value;
            }
            if c != if top.object { b'}' } else { b']' } {
                return None;
            }
            i += 1;
            let top = stack.pop()?;
            if TAPE {
                let next = tape.len() as u32;
                if let Some(n) = tape.get_mut(top.at) {
                    n.end = i as u32;
                    n.next = next;
                }
            }
            if top.object {
                if !TAPE {
                    last_object = (top.start, top.bloom);
                    keys.truncate(top.keys_from);
                }
            } else if !TAPE && root_object && depth == 2 {
                // The member is noted once its value is read: it is the next one.
                let e = std::mem::take(&mut elements);
                shape.lists.push((shape.members.len(), e));
                shape.element_keys.push(std::mem::take(&mut element_keys));
            }
            (start, key_read) = (top.start, top.key);
        }
    }
    (i == b.len()).then_some(())
}

/// Reads the key of a member of object `top` at `i` (its quote) and the `:` after it:
/// the end of the quoted key and its key word. None when it is not a canonical string,
/// repeats a key of the object or is one key too many. The object's keys are its members'
/// nodes so far with `TAPE`, else `keys[top.keys_from..]` (where the key is added).
#[inline(always)]
fn member_key<const TAPE: bool>(
    b: &[u8],
    i: usize,
    tape: &[Node],
    keys: &mut Vec<(u64, usize, usize)>,
    top: &mut Open,
) -> Option<(usize, u64)> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let (end, kw) = key_end_and_word(b, i)?;
    top.count += 1;
    if top.count > MAX_KEYS {
        return None;
    }
    let bit = bloom(kw);
    if top.bloom & bit != 0 {
        let this = b.get(i..end);
        if TAPE {
            let mut j = top.at + 1;
            while let Some(m) = tape.get(j) {
                if m.kw == kw && b.get(m.key_start as usize..m.key_end as usize) == this {
                    return None;
                }
                j = m.next as usize;
            }
        } else if keys
            .get(top.keys_from..)?
            .iter()
            .any(|&(w, s, e)| w == kw && b.get(s..e) == this)
        {
            return None;
        }
    }
    top.bloom |= bit;
    if !TAPE {
        keys.push((kw, i, end));
    }
    if b.get(end) != Some(&b':') {
        return None;
    }
    Some((end, kw))
}

/// The end of the canonical string at `i` (its quote) and its [`key_word`]. A key whose
/// text and closing quote fit in the eight bytes after its quote (most keys) is read with
/// one word, which is then its key word.
#[inline(always)]
fn key_end_and_word(b: &[u8], i: usize) -> Option<(usize, u64)> {
    if let Some(w) = b.get(i + 1..i + 9) {
        let mut a = [0_u8; 8];
        a.copy_from_slice(w);
        let v = u64::from_le_bytes(a);
        let m = stops(v);
        // The high bit of the first byte that stops string text (exact, see `stops`).
        let low = m & m.wrapping_neg();
        if low != 0 {
            let p = (low.trailing_zeros() / 8) as usize;
            if w.get(p) == Some(&b'"') {
                // The bytes up to the quote, which the key word holds.
                let text = v & low.wrapping_shl(1).wrapping_sub(1);
                return Some((i + 2 + p, text ^ (((p + 2) as u64) << 56)));
            }
        }
    }
    let end = string(b, i)?;
    Some((end, key_word(b.get(i..end)?)))
}

/// End (exclusive) of the canonical string starting at `i` (its quote): only the escapes
/// serde_json writes, well-formed UTF-8, no control characters. Text is skipped eight
/// bytes at a time up to the next byte that is `"`, `\`, a control character or not ASCII.
#[inline(always)]
fn string(b: &[u8], mut i: usize) -> Option<usize> {
    i += 1;
    loop {
        while let Some(chunk) = b.get(i..i + 8) {
            let mut w = [0_u8; 8];
            w.copy_from_slice(chunk);
            let m = stops(u64::from_le_bytes(w));
            if m != 0 {
                i += (m.trailing_zeros() / 8) as usize;
                break;
            }
            i += 8;
        }
        let c = *b.get(i)?;
        match c {
            b'"' => return Some(i + 1),
            b'\\' => i = escape(b, i)?,
            0x80.. => i = utf8_char(b, i)?,
            0x20.. => i += 1,
            _ => return None,
        }
    }
}

/// High bits of the bytes of `v` that end a run of string text (`"`, `\`, control, not
/// ASCII); exact for the lowest such byte, which is the one wanted (a byte above it may be
/// marked wrongly by a borrow).
#[inline]
pub(super) fn stops(v: u64) -> u64 {
    let zero = |x: u64| x.wrapping_sub(ONES) & !x;
    (zero(v ^ (ONES * u64::from(b'"')))
        | zero(v ^ (ONES * u64::from(b'\\')))
        | v.wrapping_sub(ONES * 0x20)
        | v)
        & HIGHS
}

/// End of the escape at `i` (its backslash), when serde_json writes it.
#[cold]
fn escape(b: &[u8], i: usize) -> Option<usize> {
    match *b.get(i + 1)? {
        b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't' => Some(i + 2),
        b'u' => {
            // serde_json writes `\u00XX` (lower-case hex) only for the control characters
            // without a short escape.
            let hex = b.get(i + 2..i + 6)?;
            let low = match hex[3] {
                c @ b'0'..=b'9' => c - b'0',
                c @ b'a'..=b'f' => c - b'a' + 10,
                _ => return None,
            };
            let code = match (hex[0], hex[1], hex[2]) {
                (b'0', b'0', b'0') => low,
                (b'0', b'0', b'1') => 16 + low,
                _ => return None,
            };
            if matches!(code, 0x08 | 0x09 | 0x0a | 0x0c | 0x0d) {
                return None;
            }
            Some(i + 6)
        }
        _ => None,
    }
}

/// End of the UTF-8 character at `i` (a byte that is not ASCII), when it is well formed
/// as `str::from_utf8` has it (shortest form, no surrogates, at most U+10FFFF).
#[cold]
fn utf8_char(b: &[u8], i: usize) -> Option<usize> {
    let (len, lo, hi) = match *b.get(i)? {
        0xc2..=0xdf => (2, 0x80, 0xbf),
        0xe0 => (3, 0xa0, 0xbf),
        0xe1..=0xec | 0xee..=0xef => (3, 0x80, 0xbf),
        0xed => (3, 0x80, 0x9f),
        0xf0 => (4, 0x90, 0xbf),
        0xf1..=0xf3 => (4, 0x80, 0xbf),
        0xf4 => (4, 0x80, 0x8f),
        _ => return None,
    };
    let second = *b.get(i + 1)?;
    if !(lo..=hi).contains(&second) {
        return None;
    }
    for k in 2..len {
        if *b.get(i + k)? & 0xc0 != 0x80 {
            return None;
        }
    }
    Some(i + len)
}

/// The number at `i`: its end and whether it is an integer (no fraction, no exponent),
/// when serde_json writes it back the same.
#[inline]
fn number(b: &[u8], start: usize) -> Option<(usize, bool)> {
    let mut i = start;
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    let digits = i;
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    let n = i - digits;
    if n == 0 {
        return None;
    }
    let int = !matches!(b.get(i), Some(b'.' | b'e' | b'E'));
    // A short integer without a leading zero (or `0`) is written back as it is.
    if int && n <= 18 && (b[digits] != b'0' || (n == 1 && digits == start)) {
        return Some((i, true));
    }
    if !int {
        if b.get(i) == Some(&b'.') {
            i += 1;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
    }
    // Anything but a short integer: canonical when serde_json writes it back the same.
    let text = &b[start..i];
    let v: Value = serde_json::from_slice(text).ok()?;
    (serde_json::to_vec(&v).ok()? == text).then_some((i, int))
}

impl Shape {
    /// The bits of the key words of the members of each element of list member
    /// `list_key` (quoted), see [`Shape::element_keys`].
    pub(super) fn list_keys<'s>(&'s self, b: &[u8], list_key: &[u8]) -> Option<&'s [u64]> {
        let i = self
            .members
            .iter()
            .position(|(k, _)| b.get(k.clone()) == Some(list_key))?;
        let at = self.lists.iter().position(|(j, _)| *j == i)?;
        self.element_keys.get(at).map(Vec::as_slice)
    }

    /// The document read as [`split`] reads it.
    pub(super) fn split<'a>(&self, b: &'a [u8], list_key: &[u8]) -> Split<'a> {
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

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Index of the first byte from `i` on that is `"`, `\` or a control character (the
/// bytes that end a run of string text), else the length; eight bytes at a time.
pub(super) fn special(b: &[u8], mut i: usize) -> usize {
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
pub(super) fn key_word(k: &[u8]) -> u64 {
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
pub(super) fn same_key(kw_a: u64, a: &[u8], kw_b: u64, b: &[u8]) -> bool {
    kw_a == kw_b && a.len() == b.len() && (a.len() <= 9 || a == b)
}

/// The members of a canonical object: `(key with its quotes, value range)`.
pub(super) fn members(b: &[u8]) -> Members<'_> {
    Members {
        b,
        i: if b.first() == Some(&b'{') && b.get(1) != Some(&b'}') {
            1
        } else {
            b.len()
        },
    }
}

pub(super) struct Members<'a> {
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
pub(super) fn elements(b: &[u8]) -> Vec<std::ops::Range<usize>> {
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
pub(super) struct Split<'a> {
    /// The other members: quoted key, value.
    pub(super) others: Vec<(&'a [u8], &'a [u8])>,
    /// The list: its bytes and the ranges of its elements in them.
    pub(super) list: Option<(&'a [u8], Vec<std::ops::Range<usize>>)>,
}

/// Reads the canonical object `b`, with member `list_key` (quoted) as a list.
pub(super) fn split<'a>(b: &'a [u8], list_key: &[u8]) -> Split<'a> {
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
pub(super) fn quoted(name: &str) -> Vec<u8> {
    serde_json::to_vec(name).unwrap_or_default()
}

/// The value of member `key` (quoted) of a canonical object.
pub(super) fn member<'a>(b: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    members(b).find(|(k, _)| *k == key).map(|(_, r)| &b[r])
}

/// The value at a path of quoted field names in canonical bytes.
pub(super) fn lookup<'a>(b: &'a [u8], path: &[Vec<u8>]) -> Option<&'a [u8]> {
    path.iter().try_fold(b, |cur, key| member(cur, key))
}

/// The text of a canonical JSON string value (none when not a string).
pub(super) fn text(v: &[u8]) -> Option<std::borrow::Cow<'_, str>> {
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
pub(super) fn char_count(v: &[u8]) -> Option<usize> {
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

/// The canonical object `obj` with top-level members set, as `fields::set` sets them one
/// after the other: an existing member's value is replaced where it is, a new member is
/// added at the end. `sets` holds quoted keys (each once) and serialized values.
#[cfg(test)]
pub(super) fn set_members(obj: &[u8], sets: &[(&[u8], &[u8])]) -> Vec<u8> {
    MemberSets::new(sets.to_vec()).apply(obj)
}

/// Top-level members to set on many objects (see [`set_members`]).
pub(super) struct MemberSets<'a> {
    sets: Vec<(&'a [u8], &'a [u8])>,
    finders: Vec<memchr::memmem::Finder<'a>>,
    /// The bits of the keys' key words (see [`bloom`]).
    bits: u64,
}

impl<'a> MemberSets<'a> {
    /// Quoted keys (each once) and serialized values.
    pub(super) fn new(sets: Vec<(&'a [u8], &'a [u8])>) -> MemberSets<'a> {
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
    pub(super) fn apply_with_keys(&self, obj: &[u8], member_bits: u64) -> Vec<u8> {
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
    pub(super) fn apply(&self, obj: &[u8]) -> Vec<u8> {
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

/// Quoted keys of a path of field names only (none when it has an index).
pub(super) fn field_keys(p: &pipec_compiler::expr::FieldPath) -> Option<Vec<Vec<u8>>> {
    p.segments
        .iter()
        .map(|s| match s {
            pipec_compiler::expr::PathSegment::Field { name, .. } => Some(quoted(name)),
            pipec_compiler::expr::PathSegment::Index { .. } => None,
        })
        .collect()
}

#[cfg(test)]
mod unit_tests {
    use super::*;

    fn raw_tape(b: &[u8]) -> Option<Vec<Node>> {
        canonical_tape(b)
    }

    fn roundtrip(s: &str) -> bool {
        match serde_json::from_str::<Value>(s) {
            Ok(v) => serde_json::to_string(&v).is_ok_and(|o| o == s),
            Err(_) => false,
        }
    }

    #[test]
    fn canonical_is_what_serde_json_writes_back() {
        let cases = [
            "{}",
            "[]",
            r#"{"a":1}"#,
            r#"{"a":1,"a":2}"#,
            r#"{"a": 1}"#,
            r#" {"a":1}"#,
            r#"{"a":1} "#,
            r#"{"a":"\u00e9"}"#,
            r#"{"a":"é"}"#,
            r#"{"a":"\/"}"#,
            r#"{"a":"\n\t\"\\\b\f\r"}"#,
            r#"{"a":"\u001f\u0000\u0001"}"#,
            r#"{"a":"\u001F"}"#,
            r#"{"a":"\u0008"}"#,
            r#"{"a":"\u000a"}"#,
            "{\"a\":\"\x01\"}",
            r#"{"a":1.0}"#,
            r#"{"a":1.5}"#,
            r#"{"a":1.52}"#,
            r#"{"a":1e3}"#,
            r#"{"a":1000.0}"#,
            r#"{"a":-0}"#,
            r#"{"a":-0.0}"#,
            r#"{"a":0}"#,
            r#"{"a":01}"#,
            r#"{"a":-12}"#,
            r#"{"a":18446744073709551615}"#,
            r#"{"a":18446744073709551616}"#,
            r#"{"a":-9223372036854775808}"#,
            r#"{"a":-9223372036854775809}"#,
            r#"{"a":123456789012345678901234567890}"#,
            r#"{"a":1.7976931348623157e308}"#,
            r#"{"a":[1,2,{"b":null,"c":true,"d":false}]}"#,
            r#"{"a":[1,2,]}"#,
            r#"{"a":tru}"#,
            r#"{"a":1"#,
            r#"{"a":{"b":1,"b":1}}"#,
            r#"{"a":{"b":1},"b":{"b":1}}"#,
            r#""x""#,
            "1",
            "",
            r#"{"a":"\ud83d\ude00"}"#,
            r#"{"a":"😀"}"#,
        ];
        for c in cases {
            assert_eq!(canonical(c.as_bytes()), roundtrip(c), "{c}");
        }
        assert!(!canonical(b"{\"a\":\"\xff\"}"));
        // UTF-8 is checked in strings, character by character.
        for bad in [
            &b"{\"a\":\"\xc0\xaf\"}"[..],
            b"{\"a\":\"\xed\xa0\x80\"}",
            b"{\"a\":\"\xf4\x90\x80\x80\"}",
            b"{\"a\":\"\xe2\x82\"}",
            b"{\"a\":\"x\xe2\x82",
            b"{\"\x80\":1}",
            b"{\"a\":1\xc3\xa9}",
            b"[\"\xf8\x88\x80\x80\x80\"]",
        ] {
            assert!(!canonical(bad), "{bad:?}");
            assert!(raw_tape(bad).is_none(), "{bad:?}");
        }
        for good in [
            "{\"é\":\"ü😀\u{7ff}\u{800}\u{ffff}\u{10000}\u{10ffff}abcdefghé\"}",
            "[\"\u{80}\"]",
        ] {
            assert!(canonical(good.as_bytes()), "{good}");
            assert!(raw_tape(good.as_bytes()).is_some(), "{good}");
        }
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(!canonical(deep.as_bytes()));
    }

    fn set(obj: &str, sets: &[(&str, Value)]) -> String {
        let keys: Vec<(Vec<u8>, Vec<u8>)> = sets
            .iter()
            .map(|(k, v)| (quoted(k), serde_json::to_vec(v).unwrap_or_default()))
            .collect();
        let refs: Vec<(&[u8], &[u8])> = keys
            .iter()
            .map(|(k, v)| (k.as_slice(), v.as_slice()))
            .collect();
        String::from_utf8(set_members(obj.as_bytes(), &refs)).unwrap_or_default()
    }

    /// What the tree path gives: parse, set each field, serialize.
    fn set_tree(obj: &str, sets: &[(&str, Value)]) -> String {
        let mut v: Value = serde_json::from_str(obj).unwrap_or(Value::Null);
        for (k, x) in sets {
            if let Some(o) = v.as_object_mut() {
                match o.get_mut(*k) {
                    Some(slot) => *slot = x.clone(),
                    None => {
                        o.insert((*k).to_string(), x.clone());
                    }
                }
            }
        }
        serde_json::to_string(&v).unwrap_or_default()
    }

    #[test]
    fn set_members_replaces_in_place_and_appends() {
        let sets = [
            ("syncts", serde_json::json!(1_700_000_000_000_u64)),
            ("@timestamp", serde_json::json!("2023-11-14T22:13:20.000Z")),
        ];
        for obj in [
            "{}",
            r#"{"a":1}"#,
            r#"{"syncts":5}"#,
            r#"{"a":{"syncts":1},"syncts":"x","b":[1,{"c":"}"}]}"#,
            r#"{"@timestamp":null,"a":"é\"\\","syncts":{"x":[]}}"#,
            r#"{"a":"\u0001","b":"q\"}"}"#,
            r#"{"a":{"syncts":1}}"#,
            r#"{"a":"\"syncts\"","b":["@timestamp"]}"#,
        ] {
            assert_eq!(set(obj, &sets), set_tree(obj, &sets), "{obj}");
        }
        assert_eq!(
            set(r#"{"k\"":1}"#, &[("k\"", serde_json::json!(2))]),
            r#"{"k\"":2}"#
        );
    }

    #[test]
    fn lookup_and_text() {
        let b =
            br#"{"eid":"LOG","params":{"msgid":"m\"1","n":null},"x":[{"eid":"no"}],"eid2":"y"}"#;
        let key = |p: &[&str]| p.iter().map(|s| quoted(s)).collect::<Vec<_>>();
        assert_eq!(lookup(b, &key(&["eid"])), Some(&br#""LOG""#[..]));
        assert_eq!(
            lookup(b, &key(&["params", "msgid"]))
                .and_then(text)
                .as_deref(),
            Some("m\"1")
        );
        assert_eq!(lookup(b, &key(&["params", "n"])), Some(&b"null"[..]));
        assert_eq!(lookup(b, &key(&["params", "x"])), None);
        assert_eq!(lookup(b, &key(&["eid", "x"])), None);
        assert_eq!(lookup(b"{}", &key(&["eid"])), None);
        let list = lookup(b, &key(&["x"])).unwrap_or_default();
        assert_eq!(elements(list), vec![1..13]);
        assert_eq!(elements(b"[]"), Vec::<std::ops::Range<usize>>::new());
        assert_eq!(elements(br#"[1,"a,]",[2,3]]"#), vec![1..2, 3..8, 9..14]);
        let doc = br#"{"a":1,"events":[{"x":"]"},2],"b":[3]}"#;
        let shape = canonical_shape(doc).unwrap_or_default();
        let (a, b) = (
            split(doc, &quoted("events")),
            shape.split(doc, &quoted("events")),
        );
        assert_eq!((a.others, a.list), (b.others, b.list));
        for doc in [
            &br#"[[1],{"a":[2]}]"#[..],
            br#"{"a":[],"b":{"c":[1]},"d":[[],[3]]}"#,
        ] {
            let shape = canonical_shape(doc).unwrap_or_default();
            for key in ["a", "b", "d"] {
                let (a, b) = (split(doc, &quoted(key)), shape.split(doc, &quoted(key)));
                assert_eq!((a.others, a.list), (b.others, b.list), "{key}");
            }
        }
        let sp = split(doc, &quoted("events"));
        assert_eq!(
            sp.others,
            vec![(&br#""a""#[..], &b"1"[..]), (&br#""b""#[..], &b"[3]"[..])]
        );
        let (list, elems) = sp.list.unwrap_or_default();
        assert_eq!(list, br#"[{"x":"]"},2]"#);
        assert_eq!(elems, vec![1..10, 11..12]);
        assert!(split(br#"{"events":3}"#, &quoted("events")).list.is_none());
        let (list, elems) = split(br#"{"events":[]}"#, &quoted("events"))
            .list
            .unwrap_or_default();
        assert_eq!((list, elems.len()), (&b"[]"[..], 0));
    }

    #[test]
    fn special_finds_the_first_quote_backslash_or_control() {
        let text = "abcdefgh\"ijklmnopé😀\\qrstuvwxyz\u{1}0123456789\u{1f}";
        let b = text.as_bytes();
        for i in 0..b.len() {
            let naive = (i..b.len())
                .find(|&j| b[j] == b'"' || b[j] == b'\\' || b[j] < 0x20)
                .unwrap_or(b.len());
            assert_eq!(special(b, i), naive, "from {i}");
        }
    }
}
