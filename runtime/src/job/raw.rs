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
#[derive(Debug, Default)]
pub(super) struct Shape {
    /// Quoted key and value of each member of the root object (none if it is no object).
    pub(super) members: Vec<(Range<usize>, Range<usize>)>,
    /// For each member whose value is a list: its index in `members` and its elements.
    pub(super) lists: Vec<(usize, Vec<Range<usize>>)>,
}

/// [`canonical`], with the document's [`Shape`] when it is.
pub(super) fn canonical_shape(bytes: &[u8]) -> Option<Shape> {
    // UTF-8 is checked where it can be other than ASCII: in strings (see `string`).
    let mut c = Checker {
        b: bytes,
        i: 0,
        keys: Vec::new(),
        shape: Shape::default(),
        root_object: bytes.first() == Some(&b'{'),
        tape: None,
    };
    c.value(0)?;
    (c.i == bytes.len()).then_some(c.shape)
}

/// One value of a canonical document: the tape of a document lists its values in document
/// order, each container followed by its members or elements.
#[derive(Debug, Clone, Copy)]
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
    let mut c = Checker {
        b: bytes,
        i: 0,
        keys: Vec::new(),
        shape: Shape::default(),
        root_object: false,
        tape: Some(Vec::with_capacity(64)),
    };
    c.value(0)?;
    if c.i != bytes.len() {
        return None;
    }
    c.tape
}

struct Checker<'a> {
    b: &'a [u8],
    i: usize,
    /// Keys of the objects being read, innermost last (for the repeated-key check).
    keys: Vec<(u64, &'a [u8])>,
    shape: Shape,
    /// Whether the root is an object (its members are then noted in `shape`).
    root_object: bool,
    /// Every value, when the tape is wanted (then `shape` is not filled).
    tape: Option<Vec<Node>>,
}

impl<'a> Checker<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn value(&mut self, depth: usize) -> Option<()> {
        let at = self.tape.as_mut().map(|t| {
            t.push(Node {
                start: 0,
                end: 0,
                key_start: 0,
                key_end: 0,
                next: 0,
                kw: 0,
                kind: Kind::Null,
            });
            t.len() - 1
        });
        let start = self.i;
        let kind = match self.peek()? {
            b'{' => self.object(depth + 1).map(|()| Kind::Object),
            b'[' => self.array(depth + 1).map(|()| Kind::Array),
            b'"' => self.string().map(|_| Kind::String),
            b't' => self.word(b"true").map(|()| Kind::True),
            b'f' => self.word(b"false").map(|()| Kind::False),
            b'n' => self.word(b"null").map(|()| Kind::Null),
            b'-' | b'0'..=b'9' => self
                .number()
                .map(|int| if int { Kind::Int } else { Kind::Float }),
            _ => None,
        }?;
        if let (Some(t), Some(at)) = (self.tape.as_mut(), at) {
            let next = t.len() as u32;
            if let Some(n) = t.get_mut(at) {
                n.start = start as u32;
                n.end = self.i as u32;
                n.next = next;
                n.kind = kind;
            }
        }
        Some(())
    }

    fn word(&mut self, w: &[u8]) -> Option<()> {
        if self.b.get(self.i..self.i + w.len())? == w {
            self.i += w.len();
            Some(())
        } else {
            None
        }
    }

    fn object(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.i += 1;
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(());
        }
        let first = self.keys.len();
        loop {
            if self.peek()? != b'"' {
                return None;
            }
            let key_start = self.i;
            let key = self.string()?;
            let kw = key_word(key);
            if self.keys.len() - first >= MAX_KEYS
                || self.keys[first..]
                    .iter()
                    .any(|(w, k)| *w == kw && *k == key)
            {
                return None;
            }
            self.keys.push((kw, key));
            if self.peek()? != b':' {
                return None;
            }
            self.i += 1;
            let start = self.i;
            let at = self.tape.as_ref().map(Vec::len);
            self.value(depth)?;
            if let (Some(t), Some(at)) = (self.tape.as_mut(), at) {
                if let Some(n) = t.get_mut(at) {
                    n.key_start = key_start as u32;
                    n.key_end = (start - 1) as u32;
                    n.kw = kw;
                }
            } else if depth == 1 {
                let key = key_start..start - 1;
                self.shape.members.push((key, start..self.i));
            }
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    self.keys.truncate(first);
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    fn array(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.i += 1;
        // A list that is a member of the root object: its elements are noted.
        let mut elements = (depth == 2 && self.root_object && self.tape.is_none()).then(Vec::new);
        if self.peek()? == b']' {
            self.i += 1;
        } else {
            loop {
                let start = self.i;
                self.value(depth)?;
                if let Some(e) = &mut elements {
                    e.push(start..self.i);
                }
                match self.peek()? {
                    b',' => self.i += 1,
                    b']' => {
                        self.i += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        if let Some(e) = elements {
            // The member is noted once its value is read: it is the next one.
            let index = self.shape.members.len();
            self.shape.lists.push((index, e));
        }
        Some(())
    }

    /// A string, quotes included; only the escapes serde_json writes are accepted.
    fn string(&mut self) -> Option<&'a [u8]> {
        let start = self.i;
        self.i += 1;
        loop {
            let at = special_or_high(self.b, self.i);
            if at >= self.b.len() {
                return None;
            }
            self.i = at;
            match self.b[at] {
                b'"' => {
                    self.i += 1;
                    return Some(&self.b[start..self.i]);
                }
                lead @ 0x80.. => {
                    // One character of UTF-8: well formed, as `str::from_utf8` checks it.
                    let len = match lead {
                        0xc2..=0xdf => 2,
                        0xe0..=0xef => 3,
                        0xf0..=0xf4 => 4,
                        _ => return None,
                    };
                    std::str::from_utf8(self.b.get(at..at + len)?).ok()?;
                    self.i = at + len;
                }
                b'\\' => {
                    let esc = *self.b.get(at + 1)?;
                    match esc {
                        b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't' => self.i += 2,
                        b'u' => {
                            // serde_json writes `\u00XX` (lower-case hex) only for the
                            // control characters without a short escape.
                            let hex = self.b.get(at + 2..at + 6)?;
                            let ok = hex[0] == b'0'
                                && hex[1] == b'0'
                                && matches!(hex[2], b'0' | b'1')
                                && matches!(hex[3], b'0'..=b'9' | b'a'..=b'f');
                            if !ok {
                                return None;
                            }
                            let code = u32::from(hex[2] - b'0') * 16
                                + u32::from(if hex[3] >= b'a' {
                                    hex[3] - b'a' + 10
                                } else {
                                    hex[3] - b'0'
                                });
                            if matches!(code, 0x08 | 0x09 | 0x0a | 0x0c | 0x0d) {
                                return None;
                            }
                            self.i += 6;
                        }
                        _ => return None,
                    }
                }
                _ => return None,
            }
        }
    }

    /// A number; whether it is an integer (no fraction, no exponent).
    fn number(&mut self) -> Option<bool> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        let digits = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        let n = self.i - digits;
        if n == 0 {
            return None;
        }
        let mut simple = n <= 18 && (self.b[digits] != b'0' || (n == 1 && digits == start));
        let int = !matches!(self.peek(), Some(b'.' | b'e' | b'E'));
        if !int {
            simple = false;
            if self.peek() == Some(b'.') {
                self.i += 1;
                while matches!(self.peek(), Some(b'0'..=b'9')) {
                    self.i += 1;
                }
            }
            if matches!(self.peek(), Some(b'e' | b'E')) {
                self.i += 1;
                if matches!(self.peek(), Some(b'+' | b'-')) {
                    self.i += 1;
                }
                while matches!(self.peek(), Some(b'0'..=b'9')) {
                    self.i += 1;
                }
            }
        }
        if simple {
            return Some(true);
        }
        // Anything but a short integer: canonical when serde_json writes it back the same.
        let text = &self.b[start..self.i];
        let v: Value = serde_json::from_slice(text).ok()?;
        (serde_json::to_vec(&v).ok()? == text).then_some(int)
    }
}

impl Shape {
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

/// [`special`], stopping also at bytes that are not ASCII.
fn special_or_high(b: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = b.get(i..i + 8) {
        let mut w = [0_u8; 8];
        w.copy_from_slice(chunk);
        let v = u64::from_le_bytes(w);
        let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
        let mask = zero(v ^ (ONES * u64::from(b'"')))
            | zero(v ^ (ONES * u64::from(b'\\')))
            | (v.wrapping_sub(ONES * 0x20) & !v & HIGHS)
            | (v & HIGHS);
        if mask != 0 {
            return i + (mask.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&c) = b.get(i) {
        if c == b'"' || c == b'\\' || !(0x20..0x80).contains(&c) {
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
}

impl<'a> MemberSets<'a> {
    /// Quoted keys (each once) and serialized values.
    pub(super) fn new(sets: Vec<(&'a [u8], &'a [u8])>) -> MemberSets<'a> {
        let finders = sets
            .iter()
            .map(|(k, _)| memchr::memmem::Finder::new(*k))
            .collect();
        MemberSets { sets, finders }
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
