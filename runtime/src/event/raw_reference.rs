//! The byte-at-a-time canonical check as it was before the word-at-a-time one of
//! [`super::raw`] (kept as the reference the tests compare it with).

use serde_json::Value;

use super::raw::{Kind, Node, Shape, key_word};

const MAX_DEPTH: usize = 100;
const MAX_KEYS: usize = 64;
const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The reference verdict and shape.
pub(crate) fn canonical_shape(bytes: &[u8]) -> Option<Shape> {
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

/// The reference verdict and tape.
pub(crate) fn canonical_tape(bytes: &[u8]) -> Option<Vec<Node>> {
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
