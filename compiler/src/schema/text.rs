//! Byte spans in schema files: serde_json keeps no positions, so this module turns its
//! line/column errors into byte offsets and maps JSON pointers to the bytes of each value.

use std::collections::HashMap;
use std::ops::Range;

/// The byte offset of serde_json's 1-based `line` and `column` (a byte count) in `text`.
pub(crate) fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut start = 0;
    if line > 1 {
        let found = text.match_indices('\n').nth(line - 2);
        start = found.map_or(text.len(), |(i, _)| i + 1);
    }
    let mut at = (start + column.saturating_sub(1)).min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// The span of the character at byte `at` (empty at the end of the text).
pub(crate) fn char_span(text: &str, at: usize) -> Range<usize> {
    let len = text
        .get(at..)
        .and_then(|s| s.chars().next())
        .map_or(0, char::len_utf8);
    at..at + len
}

/// Escapes one JSON pointer segment (`~` → `~0`, `/` → `~1`).
pub(crate) fn escape_segment(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Unescapes one JSON pointer segment.
pub(crate) fn unescape_segment(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// Byte ranges of every value in a JSON text, keyed by JSON pointer (`""` is the root).
/// String values include their quotes. With duplicate keys the last one wins, as in
/// serde_json. Meant for texts serde_json has parsed; on malformed input it stops early.
pub(crate) fn value_spans(text: &str) -> HashMap<String, Range<usize>> {
    let mut scanner = Scanner {
        bytes: text.as_bytes(),
        text,
        at: 0,
        out: HashMap::new(),
    };
    scanner.value(String::new(), 0);
    scanner.out
}

/// The span of a string value without its quotes (the whole span for other values).
pub(crate) fn inner(text: &str, span: Range<usize>) -> Range<usize> {
    let quoted = span.len() >= 2 && text.as_bytes().get(span.start) == Some(&b'"');
    if quoted {
        span.start + 1..span.end - 1
    } else {
        span
    }
}

const MAX_DEPTH: usize = 256;

struct Scanner<'a> {
    bytes: &'a [u8],
    text: &'a str,
    at: usize,
    out: HashMap<String, Range<usize>>,
}

impl Scanner<'_> {
    fn skip_ws(&mut self) {
        while matches!(self.bytes.get(self.at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> bool {
        self.skip_ws();
        let found = self.bytes.get(self.at) == Some(&byte);
        if found {
            self.at += 1;
        }
        found
    }

    fn value(&mut self, pointer: String, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.skip_ws();
        let start = self.at;
        match self.bytes.get(self.at)? {
            b'{' => {
                self.at += 1;
                if !self.eat(b'}') {
                    loop {
                        self.skip_ws();
                        let key = self.string()?;
                        if !self.eat(b':') {
                            return None;
                        }
                        let child = format!("{pointer}/{}", escape_segment(&key));
                        self.value(child, depth + 1)?;
                        if self.eat(b'}') {
                            break;
                        }
                        if !self.eat(b',') {
                            return None;
                        }
                    }
                }
            }
            b'[' => {
                self.at += 1;
                if !self.eat(b']') {
                    let mut index = 0usize;
                    loop {
                        self.value(format!("{pointer}/{index}"), depth + 1)?;
                        index += 1;
                        if self.eat(b']') {
                            break;
                        }
                        if !self.eat(b',') {
                            return None;
                        }
                    }
                }
            }
            b'"' => {
                self.string()?;
            }
            _ => {
                while let Some(b) = self.bytes.get(self.at) {
                    if matches!(b, b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r') {
                        break;
                    }
                    self.at += 1;
                }
                if self.at == start {
                    return None;
                }
            }
        }
        self.out.insert(pointer, start..self.at);
        Some(())
    }

    /// Reads a string token at the cursor and returns its decoded value.
    fn string(&mut self) -> Option<String> {
        if self.bytes.get(self.at) != Some(&b'"') {
            return None;
        }
        let start = self.at + 1;
        let mut end = start;
        while let Some(&b) = self.bytes.get(end) {
            match b {
                b'"' => break,
                b'\\' => end += 2,
                _ => end += 1,
            }
        }
        if self.bytes.get(end) != Some(&b'"') {
            return None;
        }
        let raw = self.text.get(start..end)?;
        self.at = end + 1;
        decode_string(raw)
    }
}

/// Decodes the inside of a JSON string literal (escapes included).
pub(crate) fn decode_string(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let decoded = match chars.next()? {
            '"' => '"',
            '\\' => '\\',
            '/' => '/',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'u' => {
                let high = hex4(&mut chars)?;
                if (0xD800..0xDC00).contains(&high) {
                    if chars.next()? != '\\' || chars.next()? != 'u' {
                        return None;
                    }
                    let low = hex4(&mut chars)?;
                    let code = 0x10000 + ((high - 0xD800) << 10) + (low.checked_sub(0xDC00)?);
                    char::from_u32(code)?
                } else {
                    char::from_u32(high)?
                }
            }
            _ => return None,
        };
        out.push(decoded);
    }
    Some(out)
}

fn hex4(chars: &mut std::str::Chars<'_>) -> Option<u32> {
    let mut v = 0;
    for _ in 0..4 {
        v = v * 16 + chars.next()?.to_digit(16)?;
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_from_serde_errors() {
        for (text, at) in [
            ("{\n  \"a\": 1,\n  \"b\": x\n}", 19),
            ("{\"a\": 1,}", 8),
            ("{\"é\": tru}", 10),
            ("", 0),
        ] {
            let Err(e) = serde_json::from_str::<serde_json::Value>(text) else {
                panic!("{text} parsed");
            };
            assert_eq!(offset_of(text, e.line(), e.column()), at, "{text}");
        }
        assert_eq!(offset_of("ab\ncd", 9, 9), 5);
        assert_eq!(offset_of("é", 1, 2), 0);
        assert_eq!(char_span("aé", 1), 1..3);
        assert_eq!(char_span("a", 1), 1..1);
    }

    #[test]
    fn spans_of_values() {
        let text = r#"{ "a": [1, {"$ref" : "x.json"}], "b~/c": "\u00e9\"", "a": {"d": true} }"#;
        let spans = value_spans(text);
        let at = |p: &str| spans.get(p).map(|r| &text[r.clone()]);
        assert_eq!(at(""), Some(text));
        assert_eq!(at("/b~0~1c"), Some(r#""\u00e9\"""#));
        assert_eq!(at("/a/d"), Some("true"));
        assert_eq!(at("/a/1/$ref"), Some("\"x.json\""));
        let r = spans.get("/a/1/$ref").cloned().unwrap_or_default();
        assert_eq!(&text[inner(text, r)], "x.json");
        assert!(value_spans("{\"a\": ").is_empty());
    }

    #[test]
    fn string_escapes() {
        assert_eq!(decode_string(r"\u0024ref").as_deref(), Some("$ref"));
        assert_eq!(decode_string(r"\ud83d\ude00").as_deref(), Some("😀"));
        assert_eq!(decode_string(r"a\q"), None);
        assert_eq!(decode_string(r"\ud83d"), None);
        assert_eq!(escape_segment("a/b~c"), "a~1b~0c");
        assert_eq!(unescape_segment("a~1b~0c"), "a/b~c");
    }

    proptest::proptest! {
        #[test]
        fn scanning_never_panics(s in proptest::arbitrary::any::<String>()) {
            let spans = value_spans(&s);
            for span in spans.values() {
                proptest::prop_assert!(s.get(span.clone()).is_some());
            }
            let _ = decode_string(&s);
            let _ = offset_of(&s, s.len() % 7, s.len() % 11);
        }
    }
}
