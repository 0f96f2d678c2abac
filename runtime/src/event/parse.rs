//! Parsing a record into a `serde_json::Value`, for the common documents: runs of string
//! text are found eight bytes at a time and copied whole, objects are built at their final
//! size. Anything unusual (a number other than a short integer is the exception: it is
//! read by serde_json on its own) gives up, and the caller parses with serde_json, which
//! then gives the same value or error as always.

use serde_json::{Map, Value};

use super::raw::special;

/// Deeper documents are left to serde_json (and its recursion limit).
const MAX_DEPTH: usize = 100;

/// The value of the JSON text `s`, as `serde_json::from_str` gives it; none when this
/// parser leaves the text to serde_json.
pub(crate) fn parse(s: &str) -> Option<Value> {
    let mut p = Parser {
        s,
        b: s.as_bytes(),
        i: 0,
        members: Vec::new(),
    };
    p.ws();
    let v = p.value(0)?;
    p.ws();
    (p.i == p.b.len()).then_some(v)
}

struct Parser<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
    /// Members of the objects being read, innermost last.
    members: Vec<(String, Value)>,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Option<Value> {
        match *self.b.get(self.i)? {
            b'{' => self.object(depth + 1),
            b'[' => self.array(depth + 1),
            b'"' => self.string().map(Value::String),
            b't' => self.word("true", Value::Bool(true)),
            b'f' => self.word("false", Value::Bool(false)),
            b'n' => self.word("null", Value::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn word(&mut self, w: &str, v: Value) -> Option<Value> {
        if self.b.get(self.i..self.i + w.len())? == w.as_bytes() {
            self.i += w.len();
            Some(v)
        } else {
            None
        }
    }

    fn object(&mut self, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.i += 1;
        self.ws();
        if self.b.get(self.i)? == &b'}' {
            self.i += 1;
            return Some(Value::Object(Map::new()));
        }
        let first = self.members.len();
        loop {
            if self.b.get(self.i)? != &b'"' {
                return None;
            }
            let key = self.string()?;
            self.ws();
            if self.b.get(self.i)? != &b':' {
                return None;
            }
            self.i += 1;
            self.ws();
            let v = self.value(depth)?;
            self.members.push((key, v));
            self.ws();
            match *self.b.get(self.i)? {
                b',' => {
                    self.i += 1;
                    self.ws();
                }
                b'}' => {
                    self.i += 1;
                    // Inserted in order: a repeated key keeps its first place and takes
                    // the last value, as serde_json's map does.
                    let map: Map<String, Value> = self.members.drain(first..).collect();
                    return Some(Value::Object(map));
                }
                _ => return None,
            }
        }
    }

    fn array(&mut self, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.i += 1;
        self.ws();
        let mut items = Vec::new();
        if self.b.get(self.i)? == &b']' {
            self.i += 1;
            return Some(Value::Array(items));
        }
        loop {
            items.push(self.value(depth)?);
            self.ws();
            match *self.b.get(self.i)? {
                b',' => {
                    self.i += 1;
                    self.ws();
                }
                b']' => {
                    self.i += 1;
                    return Some(Value::Array(items));
                }
                _ => return None,
            }
        }
    }

    fn string(&mut self) -> Option<String> {
        self.i += 1;
        let start = self.i;
        let at = special(self.b, self.i);
        if self.b.get(at) == Some(&b'"') {
            self.i = at + 1;
            return self.s.get(start..at).map(str::to_string);
        }
        // With escapes.
        let mut out = String::with_capacity(at - start + 16);
        let mut i = start;
        loop {
            let at = special(self.b, i);
            out.push_str(self.s.get(i..at)?);
            match *self.b.get(at)? {
                b'"' => {
                    self.i = at + 1;
                    return Some(out);
                }
                b'\\' => {
                    let (c, len) = self.escape(at)?;
                    out.push(c);
                    i = at + len;
                }
                _ => return None,
            }
        }
    }

    /// The character of the escape at `at` and its length.
    fn escape(&self, at: usize) -> Option<(char, usize)> {
        Some(match *self.b.get(at + 1)? {
            b'"' => ('"', 2),
            b'\\' => ('\\', 2),
            b'/' => ('/', 2),
            b'b' => ('\u{8}', 2),
            b'f' => ('\u{c}', 2),
            b'n' => ('\n', 2),
            b'r' => ('\r', 2),
            b't' => ('\t', 2),
            b'u' => {
                let hi = self.hex4(at + 2)?;
                if (0xd800..0xdc00).contains(&hi) {
                    // A surrogate pair; anything else is left to serde_json.
                    if self.b.get(at + 6..at + 8)? != b"\\u" {
                        return None;
                    }
                    let lo = self.hex4(at + 8)?;
                    if !(0xdc00..0xe000).contains(&lo) {
                        return None;
                    }
                    let c = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
                    (char::from_u32(c)?, 12)
                } else {
                    (char::from_u32(hi)?, 6)
                }
            }
            _ => return None,
        })
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let h = self.s.get(at..at + 4)?;
        if !h.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(h, 16).ok()
    }

    fn number(&mut self) -> Option<Value> {
        let start = self.i;
        let neg = self.b[start] == b'-';
        let digits = start + usize::from(neg);
        let mut i = digits;
        let mut n: u64 = 0;
        while let Some(&c) = self.b.get(i) {
            if !c.is_ascii_digit() {
                break;
            }
            n = n.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
            i += 1;
        }
        let count = i - digits;
        let fraction = matches!(self.b.get(i), Some(b'.' | b'e' | b'E'));
        let leading_zero = count > 1 && self.b[digits] == b'0';
        if count > 0 && count <= 18 && !fraction && !leading_zero && !(neg && n == 0) {
            self.i = i;
            // 18 digits fit in an i64.
            return Some(if neg {
                Value::from(-i64::try_from(n).ok()?)
            } else {
                Value::from(n)
            });
        }
        // Anything else: the token, kept as written.
        while let Some(b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-') = self.b.get(i) {
            i += 1;
        }
        let n = exact_number(self.s.get(start..i)?)?;
        self.i = i;
        Some(Value::Number(n))
    }
}

/// The JSON number `token` as a `serde_json::Number` that writes back exactly as `token`
/// (serde_json's own reader, with `arbitrary_precision`, keeps the digits but writes an
/// exponent as `e+N`: `1E2` would come out as `1e+2`). None when `token` is not a JSON
/// number.
pub(crate) fn exact_number(token: &str) -> Option<serde_json::Number> {
    if !number_syntax(token.as_bytes()) {
        return None;
    }
    let int = !token.contains(['.', 'e', 'E']);
    if int && token != "-0" {
        if let Ok(u) = token.parse::<u64>() {
            return Some(u.into());
        }
        if let Ok(i) = token.parse::<i64>() {
            return Some(i.into());
        }
    }
    // serde_json's way to hold a number's text as it is (with `arbitrary_precision`, which
    // the workspace turns on): the syntax was checked just above.
    Some(serde_json::Number::from_string_unchecked(token.to_string()))
}

/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
fn number_syntax(b: &[u8]) -> bool {
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let s = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - s
    };
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(&mut i);
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

#[cfg(test)]
mod unit_tests {
    use super::*;

    #[test]
    fn parses_as_serde_json_does() {
        let mut g = crate::r#gen::Generator::new(crate::r#gen::GenOptions::default());
        let batch = String::from_utf8(g.batch()).unwrap_or_default();
        let pretty = serde_json::to_string_pretty(&serde_json::from_str::<Value>(&batch).ok())
            .unwrap_or_default();
        let cases = [
            batch.as_str(),
            pretty.as_str(),
            "{}",
            " [ ] ",
            "[1,2,]",
            r#"{"a":1,"a":2,"b":3}"#,
            r#"{"a": 1 , "b" :[ true,false ,null] }"#,
            r#"{"a":"\u00e9\/\b\f\n\r\t\"\\"}"#,
            r#"{"a":"\ud83d\ude00 x"}"#,
            r#"{"a":"\ud83d"}"#,
            r#"{"a":"\udc00"}"#,
            r#"{"a":"\u0000"}"#,
            "{\"a\":\"\x01\"}",
            r#"{"a":"é😀"}"#,
            r#"{"a":1.5,"b":-0,"c":-0.0,"d":1e3,"e":1E+3,"f":-12,"g":0}"#,
            r#"{"a":18446744073709551615,"b":18446744073709551616,"c":-9223372036854775808}"#,
            r#"{"a":123456789012345678,"b":1234567890123456789,"c":-123456789012345678}"#,
            r#"{"a":01}"#,
            r#"{"a":1.}"#,
            r#"{"a":.5}"#,
            r#"{"a":1-2}"#,
            r#"{"a":-}"#,
            r#"{"a":tru}"#,
            r#"{"a" 1}"#,
            r#"{"a":1"#,
            r#"{"a":1}x"#,
            r#""x""#,
            "1",
            "",
            "nul",
        ];
        for c in cases {
            let ours = parse(c).map(|v| serde_json::to_string(&v).unwrap_or_default());
            let theirs = serde_json::from_str::<Value>(c)
                .map(|v| serde_json::to_string(&v).unwrap_or_default());
            // Numbers are kept as written, where serde_json writes an exponent `e+N`.
            let theirs = theirs.map(|t| t.replace("1e+3,\"e\":1e+3", "1e3,\"e\":1E+3"));
            match (ours, theirs) {
                (Some(o), Ok(t)) => assert_eq!(o, t, "{c}"),
                (Some(o), Err(e)) => panic!("{c}: parsed to {o}, serde_json: {e}"),
                (None, _) => {}
            }
        }
        // The common documents do not fall back.
        assert!(parse(&batch).is_some());
        assert!(parse(&pretty).is_some());
        assert!(parse(r#"{"a":"\u00e9","b":1.52,"c":[-3]}"#).is_some());
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(parse(&deep).is_none());
    }

    #[test]
    fn numbers_come_back_as_written() {
        for n in [
            "18446744073709551616",
            "-18446744073709551616",
            "1.0e-400",
            "1e400",
            "-0",
            "-0.0",
            "1E2",
            "1e+2",
            "1E-2",
            "0.10",
            "123456789012345678901234567890.5",
            "9223372036854775807",
            "-9223372036854775808",
            "0",
        ] {
            let text = format!(r#"{{"n":{n},"l":[{n}]}}"#);
            let v = parse(&text).unwrap_or_else(|| panic!("{text} parses"));
            assert_eq!(serde_json::to_string(&v).ok(), Some(text.clone()));
        }
        for bad in ["01", "1.", ".5", "1e", "1e+", "--1", "1-2", "+1", "-"] {
            assert!(exact_number(bad).is_none(), "{bad}");
            assert!(parse(&format!(r#"{{"n":{bad}}}"#)).is_none(), "{bad}");
        }
        // Their values are read as numbers all the same.
        let v = parse(r#"{"n":1E2}"#).expect("parses");
        assert_eq!(v["n"].as_f64(), Some(100.0));
    }
}
