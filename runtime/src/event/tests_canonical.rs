//! The canonical check of [`super::raw`] (one loop, string text read a word at a time)
//! against the byte-at-a-time one it replaced ([`super::raw_reference`]) and against
//! serde_json itself: the same verdicts, tapes and shapes on edge cases, on generated
//! documents and on random changes to them.

use serde_json::{Value, json};

use super::raw::{self, canonical_shape, canonical_tape};
use super::raw_reference as reference;

/// Whether serde_json writes `b` back byte for byte.
fn roundtrip(b: &[u8]) -> bool {
    match serde_json::from_slice::<Value>(b) {
        Ok(v) => serde_json::to_vec(&v).is_ok_and(|o| o == b),
        Err(_) => false,
    }
}

/// The same verdict, tape and shape as the reference; and the verdict is serde_json's
/// (`strict`: for documents without repeated keys or nesting past the limits, where the
/// check is exactly the round trip).
fn agree(b: &[u8], strict: bool) {
    let (tape, want_tape) = (canonical_tape(b), reference::canonical_tape(b));
    assert_eq!(tape, want_tape, "tape of {:?}", String::from_utf8_lossy(b));
    let (shape, want_shape) = (canonical_shape(b), reference::canonical_shape(b));
    assert_eq!(
        shape.as_ref().map(|s| (&s.members, &s.lists)),
        want_shape.as_ref().map(|s| (&s.members, &s.lists)),
        "shape of {:?}",
        String::from_utf8_lossy(b)
    );
    // The bits noted for the objects in lists are those of their members' key words.
    if let Some(s) = &shape {
        assert_eq!(s.element_keys.len(), s.lists.len());
        for ((_, elements), bits) in s.lists.iter().zip(&s.element_keys) {
            assert_eq!(elements.len(), bits.len());
            for (e, bits) in elements.iter().zip(bits) {
                let want = raw::members(&b[e.clone()])
                    .fold(0, |acc, (k, _)| acc | raw::bloom(raw::key_word(k)));
                assert_eq!(*bits, want, "{:?}", String::from_utf8_lossy(b));
            }
        }
    }
    if strict {
        assert_eq!(
            tape.is_some(),
            roundtrip(b),
            "verdict on {:?}",
            String::from_utf8_lossy(b)
        );
    }
}

/// A small deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Characters strings are made of: ASCII, the ones serde_json escapes, and UTF-8 of every
/// length.
const CHARS: &[&str] = &[
    "a",
    "b",
    "Z",
    "0",
    " ",
    "/",
    "<",
    "~",
    "\"",
    "\\",
    "\n",
    "\t",
    "\r",
    "\u{8}",
    "\u{c}",
    "\u{0}",
    "\u{1}",
    "\u{1f}",
    "\u{7f}",
    "é",
    "\u{80}",
    "\u{7ff}",
    "\u{800}",
    "€",
    "\u{ffff}",
    "😀",
    "\u{10ffff}",
    "\u{fffd}",
];

fn random_string(r: &mut Rng) -> String {
    let n = match r.below(4) {
        0 => r.below(3),
        1 => r.below(12),
        _ => r.below(40),
    };
    (0..n)
        .map(|_| {
            if r.below(3) == 0 {
                CHARS[r.below(CHARS.len())]
            } else {
                CHARS[r.below(4)]
            }
        })
        .collect()
}

fn random_value(r: &mut Rng, depth: usize) -> Value {
    let pick = if depth > 4 { r.below(6) } else { r.below(9) };
    match pick {
        0 => Value::Null,
        1 => Value::Bool(r.below(2) == 0),
        2 => json!(r.next() >> r.below(64)),
        3 => json!(-((r.next() >> (1 + r.below(63))) as i64)),
        4 => json!((r.next() % 100_000) as f64 / 7.0),
        5 => Value::String(random_string(r)),
        6 | 7 => {
            let mut m = serde_json::Map::new();
            for _ in 0..r.below(8) {
                m.insert(random_string(r), random_value(r, depth + 1));
            }
            Value::Object(m)
        }
        _ => Value::Array(
            (0..r.below(6))
                .map(|_| random_value(r, depth + 1))
                .collect(),
        ),
    }
}

/// Bytes that change a document's verdict when put in the wrong place.
const NOISE: &[u8] = &[
    b'"', b'\\', b'{', b'}', b'[', b']', b',', b':', b' ', b'0', b'1', b'-', b'.', b'e', b'u',
    b'n', b't', 0x00, 0x1f, 0x7f, 0x80, 0xbf, 0xc2, 0xc3, 0xe0, 0xed, 0xf0, 0xf4, 0xf5, 0xff,
];

#[test]
fn same_verdicts_tapes_and_shapes_as_the_byte_at_a_time_check() {
    let cases: &[&[u8]] = &[
        b"{}",
        b"[]",
        b"",
        b"{",
        b"}",
        b"[1,]",
        b"[,1]",
        b"{,}",
        br#"{"a":1,}"#,
        br#"{"a"}"#,
        br#"{"a":}"#,
        br#"{"a" :1}"#,
        br#"{"a":1 }"#,
        br#"{"a":[]}"#,
        br#"{"a":[],"b":[[]],"c":{}}"#,
        br#"{"events":[],"x":[1,[2,{"y":[3]}],{}],"z":{"events":[4]}}"#,
        br#"[[1],{"a":[2]}]"#,
        br#"{"a":{"b":1,"b":1}}"#,
        br#"{"a":1,"a":1}"#,
        br#"{"abcdefgh":1,"abcdefgi":2}"#,
        br#"{"abcdefghij":1,"abcdefghij":2}"#,
        br#"{"abcdefghij":1,"abcdefghik":2}"#,
        br#"{"a":{"x":1},"b":{"x":1}}"#,
        b"true",
        b"tru",
        b"false",
        b"fals",
        b"null",
        b"nul",
        b"[true,false,null]",
        b"-",
        b"-0",
        b"0",
        b"00",
        b"01",
        b"-01",
        b"1.",
        b"1.0",
        b"1.5",
        b"1e5",
        b"1E5",
        b"1e+5",
        b"1e-5",
        b"1.5e300",
        b"999999999999999999",
        b"1000000000000000000",
        b"18446744073709551615",
        b"18446744073709551616",
        b"-9223372036854775808",
        b"-9223372036854775809",
        b"[1x]",
        b"\"",
        b"\"\\",
        b"\"\\u",
        b"\"\\u00",
        b"\"\\u001f\"",
        b"\"\\u001F\"",
        b"\"\\u0020\"",
        b"\"\\u007f\"",
        b"\"\\u000a\"",
        b"\"\\u000b\"",
        b"\"\\/\"",
        b"\"\\x\"",
        b"\"\xc3\xa9\"",
        b"\"\xc3\"",
        b"\"\xc3",
        b"\"\xe2\x82\xac\"",
        b"\"\xe2\x82\"",
        b"\"\xed\x9f\xbf\"",
        b"\"\xed\xa0\x80\"",
        b"\"\xe0\x9f\xbf\"",
        b"\"\xe0\xa0\x80\"",
        b"\"\xf0\x8f\xbf\xbf\"",
        b"\"\xf0\x90\x80\x80\"",
        b"\"\xf4\x8f\xbf\xbf\"",
        b"\"\xf4\x90\x80\x80\"",
        b"\"\xf5\x80\x80\x80\"",
        b"\"\xc0\xaf\"",
        b"\"\xc1\xbf\"",
        b"\"\x80\"",
        b"\"\x7f\"",
        b"{\"\xff\":1}",
        b"{\"a\":1\xc3\xa9}",
    ];
    for c in cases {
        agree(c, true);
    }
    // Nesting at and past the limit, with empty containers innermost.
    for n in [99, 100, 101] {
        for (open, close, inner) in [("[", "]", ""), ("[", "]", "[]"), ("[", "]", "{}")] {
            let doc = open.repeat(n) + inner + &close.repeat(n);
            agree(doc.as_bytes(), false);
        }
        let doc = "{\"a\":".repeat(n) + "1" + &"}".repeat(n);
        agree(doc.as_bytes(), false);
    }
    // Objects at and past the key limit.
    for n in [63, 64, 65] {
        let members: Vec<String> = (0..n).map(|k| format!("\"k{k}\":{k}")).collect();
        let doc = format!("{{{}}}", members.join(","));
        agree(doc.as_bytes(), false);
    }
}

#[test]
fn every_stop_byte_at_every_offset_of_a_word() {
    // A string whose text has one byte (or character) of interest after `pre` plain
    // bytes, then `post` more: every place in and across the eight-byte words.
    let mut specials: Vec<Vec<u8>> = (0_u8..0x20).map(|c| vec![c]).collect();
    for s in [
        &b"\""[..],
        b"\\",
        b"\\\"",
        b"\\\\",
        b"\\n",
        b"\\/",
        b"\\u001f",
        b"\\u0009",
        b"\\u00e9",
        b"\x7f",
        b"\x80",
        b"\xff",
        b"\xc3\xa9",
        b"\xc3",
        b"\xe2\x82\xac",
        b"\xe2\x82",
        b"\xed\xa0\x80",
        b"\xf0\x9f\x98\x80",
        b"\xf0\x9f\x98",
        b"\xf4\x90\x80\x80",
        b" ",
        b"~",
        b"!",
        b"#",
        b"[",
        b"]",
    ] {
        specials.push(s.to_vec());
    }
    for s in &specials {
        for pre in 0..20 {
            for post in [0, 1, 3, 7, 8, 9, 17] {
                for (open, close) in [(&b"{\"k\":\""[..], &b"\"}"[..]), (b"[\"", b"\"]")] {
                    let mut doc = open.to_vec();
                    doc.extend(std::iter::repeat_n(b'a', pre));
                    doc.extend_from_slice(s);
                    doc.extend(std::iter::repeat_n(b'b', post));
                    doc.extend_from_slice(close);
                    agree(&doc, true);
                }
                // In a key, followed by another member with the same key.
                let mut key = b"\"".to_vec();
                key.extend(std::iter::repeat_n(b'x', pre));
                key.extend_from_slice(s);
                key.extend(std::iter::repeat_n(b'y', post));
                key.push(b'"');
                let mut doc = b"{".to_vec();
                doc.extend_from_slice(&key);
                doc.extend_from_slice(b":1,");
                doc.extend_from_slice(&key);
                doc.extend_from_slice(b":2}");
                agree(&doc, false);
                let mut doc = b"{".to_vec();
                doc.extend_from_slice(&key);
                doc.extend_from_slice(b":1}");
                agree(&doc, true);
            }
        }
    }
}

#[test]
fn generated_documents_and_random_changes_to_them() {
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..3000 {
        let v = random_value(&mut r, 0);
        let doc = serde_json::to_vec(&v).unwrap_or_default();
        // serde_json's own output: canonical (unless past the limits).
        agree(&doc, false);
        assert!(canonical_tape(&doc).is_some(), "{v}");
        // One to three bytes changed, inserted or removed.
        for _ in 0..8 {
            let mut d = doc.clone();
            for _ in 0..1 + r.below(3) {
                let at = r.below(d.len() + 1);
                let byte = NOISE[r.below(NOISE.len())];
                match r.below(3) {
                    0 if at < d.len() => d[at] = byte,
                    1 if at < d.len() => {
                        d.remove(at);
                    }
                    _ => d.insert(at, byte),
                }
            }
            agree(&d, false);
        }
    }
    // The generator's events and batches.
    let mut g = crate::r#gen::Generator::new(crate::r#gen::GenOptions {
        events_per_batch: 20,
        duplicate_rate: 0.1,
        invalid_rate: 0.1,
        seed: 3,
    });
    for _ in 0..20 {
        let b = g.batch();
        agree(&b, false);
        assert!(canonical_shape(&b).is_some());
    }
}

#[test]
fn stops_marks_the_first_byte_that_ends_string_text() {
    let mut r = Rng(12345);
    let interesting = [
        0x00, 0x1f, 0x20, 0x21, b'"', b'\\', 0x5b, 0x7f, 0x80, 0xff, b'a',
    ];
    for n in 0..200_000 {
        let mut w = [0_u8; 8];
        for x in &mut w {
            *x = if n % 2 == 0 {
                interesting[r.below(interesting.len())]
            } else {
                r.next() as u8
            };
        }
        let naive = w
            .iter()
            .position(|&c| c == b'"' || c == b'\\' || !(0x20..0x80).contains(&c));
        let m = raw::stops(u64::from_le_bytes(w));
        let fast = (m != 0).then(|| (m.trailing_zeros() / 8) as usize);
        assert_eq!(fast, naive, "{w:?}");
    }
}

#[test]
fn characters_are_counted_and_strings_compared_on_their_bytes() {
    let mut r = Rng(77);
    for _ in 0..20_000 {
        let s = random_string(&mut r);
        let b = serde_json::to_vec(&s).unwrap_or_default();
        assert_eq!(raw::char_count(&b), Some(s.chars().count()), "{s:?}");
        // The text of canonical string bytes is `t` exactly when the bytes are `t`'s.
        let t = random_string(&mut r);
        let same_bytes = raw::quoted(&t) == b;
        assert_eq!(same_bytes, s == t, "{s:?} {t:?}");
        assert!(raw::quoted(&s) == b);
    }
    assert_eq!(raw::char_count(b"1"), None);
    assert_eq!(raw::char_count(b"\"\""), Some(0));
}
