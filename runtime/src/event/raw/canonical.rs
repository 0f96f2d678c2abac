//! The canonical check: whether a record is exactly what serde_json writes back, read in
//! one loop that also notes its shape or its tape.
//!
//! A record can stay bytes only when parsing it into a `serde_json::Value` and serializing
//! that again would give back the very same bytes: [`canonical`] checks that (no
//! whitespace, strings escaped as serde_json escapes them, numbers written as serde_json
//! writes them, no object with a repeated key). Then reading a field, splitting a list or
//! setting a top-level field can work on the bytes, and the output is byte for byte what
//! the tree would have given. Anything else goes through the tree.

use std::ops::Range;

use serde_json::Value;

use super::read::{HIGHS, ONES, key_word};

/// Deeper documents are left to serde_json (and its recursion limit).
const MAX_DEPTH: usize = 100;
/// Objects with more keys are left to serde_json (the repeated-key check is quadratic).
const MAX_KEYS: usize = 64;

/// Whether `bytes` is one JSON value exactly as serde_json would serialize it after
/// parsing it (compact, `preserve_order`).
#[cfg(test)]
pub(crate) fn canonical(bytes: &[u8]) -> bool {
    canonical_shape(bytes).is_some()
}

/// Where the members of a document's root object are, and the elements of those that are
/// lists: read while checking it, so that a step that splits a list need not read the
/// document again.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Shape {
    /// Quoted key and value of each member of the root object (none if it is no object).
    pub(crate) members: Vec<(Range<usize>, Range<usize>)>,
    /// For each member whose value is a list: its index in `members` and its elements.
    pub(crate) lists: Vec<(usize, Vec<Range<usize>>)>,
    /// For each list of `lists`, for each element: the bits of the key words of its
    /// members (see [`bloom`]; 0 when it is no object, or an empty one).
    pub(crate) element_keys: Vec<Vec<u64>>,
}

/// [`canonical`], with the document's [`Shape`] when it is.
pub(crate) fn canonical_shape(bytes: &[u8]) -> Option<Shape> {
    let mut shape = Shape::default();
    check::<false>(bytes, &mut Vec::new(), &mut shape)?;
    Some(shape)
}

/// One value of a canonical document: the tape of a document lists its values in document
/// order, each container followed by its members or elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Node {
    /// Byte range of the value.
    pub(crate) start: u32,
    pub(crate) end: u32,
    /// Byte range of its quoted key when it is a member of an object (else empty).
    pub(crate) key_start: u32,
    pub(crate) key_end: u32,
    /// Index of the first node after the value's own (its members' included).
    pub(crate) next: u32,
    /// [`key_word`] of its key (0 when it has none).
    pub(crate) kw: u64,
    pub(crate) kind: Kind,
}

/// What a [`Node`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
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
pub(crate) fn canonical_tape(bytes: &[u8]) -> Option<Vec<Node>> {
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
pub(crate) fn bloom(kw: u64) -> u64 {
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
pub(crate) fn stops(v: u64) -> u64 {
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
