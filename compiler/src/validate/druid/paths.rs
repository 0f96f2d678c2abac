//! Field paths of Druid dimensions: `actor.id`, `context.cdata[*].type`, `@timestamp`.
//! Parsed once here; from a path come the column name (`context_cdata_type`), the JSONPath
//! of Druid's `flattenSpec` (`$.context.cdata[*].type`) and the path in the form the
//! schema lookups take.

use std::ops::Range;

/// One step of a dimension path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// An object member, with where its name is written in the path.
    Field(String, Range<usize>),
    /// Every element of a list (`[*]`), with where it is written.
    Each(Range<usize>),
}

/// A path that does not parse: what is wrong and where in the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathError {
    /// What is wrong.
    pub message: String,
    /// Where, in bytes of the path.
    pub range: Range<usize>,
}

/// Parses `a.b[*].c`. Member names are any characters but `.`, `[`, `]` and blanks; `[*]`
/// follows a member name or another `[*]`.
pub fn parse(text: &str) -> Result<Vec<Seg>, PathError> {
    let err = |message: &str, range: Range<usize>| PathError {
        message: message.to_string(),
        range,
    };
    if text.is_empty() {
        return Err(err("an empty path", 0..0));
    }
    let mut segs = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut expect_name = true;
    while i < bytes.len() {
        match bytes[i] {
            b'[' => {
                if expect_name && segs.is_empty() {
                    return Err(err("a path starts with a field name", i..i + 1));
                }
                if !text[i..].starts_with("[*]") {
                    let end = text[i..].find(']').map_or(text.len(), |e| i + e + 1);
                    return Err(err("only `[*]` (every element) is allowed here", i..end));
                }
                segs.push(Seg::Each(i..i + 3));
                i += 3;
                expect_name = false;
            }
            b'.' => {
                if expect_name {
                    return Err(err("an empty field name", i..i + 1));
                }
                i += 1;
                expect_name = true;
                if i == bytes.len() {
                    return Err(err("the path ends with `.`", i - 1..i));
                }
            }
            _ => {
                if !expect_name {
                    return Err(err("expected `.` or `[*]`", i..i + 1));
                }
                let start = i;
                while i < bytes.len() && !matches!(bytes[i], b'.' | b'[' | b']') {
                    if bytes[i].is_ascii_whitespace() {
                        return Err(err("a blank in a field name", i..i + 1));
                    }
                    i += 1;
                }
                if i < bytes.len() && bytes[i] == b']' {
                    return Err(err("`]` without `[`", i..i + 1));
                }
                segs.push(Seg::Field(text[start..i].to_string(), start..i));
                expect_name = false;
            }
        }
    }
    Ok(segs)
}

/// The path written back (`a.b[*].c`).
pub fn render(segs: &[Seg]) -> String {
    let mut out = String::new();
    for s in segs {
        match s {
            Seg::Field(name, _) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(name);
            }
            Seg::Each(_) => out.push_str("[*]"),
        }
    }
    out
}

/// The column name a path gives when none is written: member names joined by `_`
/// (`context.cdata[*].type` → `context_cdata_type`).
pub fn column_name(segs: &[Seg]) -> String {
    segs.iter()
        .filter_map(|s| match s {
            Seg::Field(n, _) => Some(n.as_str()),
            Seg::Each(_) => None,
        })
        .collect::<Vec<_>>()
        .join("_")
}

/// Whether the path takes every element of a list somewhere (a multi-value dimension).
pub fn is_multi(segs: &[Seg]) -> bool {
    segs.iter().any(|s| matches!(s, Seg::Each(_)))
}

/// The single member name of a top-level path (`eid`), if that is all it is.
pub fn root_name(segs: &[Seg]) -> Option<&str> {
    match segs {
        [Seg::Field(n, _)] => Some(n),
        _ => None,
    }
}

/// The JSONPath of Druid's `flattenSpec` (`$.context.cdata[*].type`); a name that is not
/// a plain identifier is written in brackets (`$['@timestamp']`).
pub fn json_path(segs: &[Seg]) -> String {
    let mut out = String::from("$");
    for s in segs {
        match s {
            Seg::Field(n, _) => {
                let plain = n
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if plain {
                    out.push('.');
                    out.push_str(n);
                } else {
                    out.push_str("['");
                    for c in n.chars() {
                        if c == '\'' || c == '\\' {
                            out.push('\\');
                        }
                        out.push(c);
                    }
                    out.push_str("']");
                }
            }
            Seg::Each(_) => out.push_str("[*]"),
        }
    }
    out
}

/// Whether `path` is `prefix` or lies under it (`edata.items[*].id` under `edata.items`).
pub fn under(path: &[Seg], prefix: &[Seg]) -> bool {
    let strip = |s: &[Seg]| -> Vec<String> {
        s.iter()
            .filter_map(|x| match x {
                Seg::Field(n, _) => Some(n.clone()),
                Seg::Each(_) => None,
            })
            .collect()
    };
    let (p, q) = (strip(path), strip(prefix));
    p.len() >= q.len() && p[..q.len()] == q[..]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(t: &str) -> Vec<Seg> {
        parse(t).unwrap_or_else(|e| panic!("{t}: {e:?}"))
    }

    #[test]
    fn names_and_json_paths() {
        let p = ok("context.cdata[*].type");
        assert_eq!(column_name(&p), "context_cdata_type");
        assert_eq!(json_path(&p), "$.context.cdata[*].type");
        assert_eq!(render(&p), "context.cdata[*].type");
        assert!(is_multi(&p));
        assert_eq!(root_name(&ok("@timestamp")), Some("@timestamp"));
        assert_eq!(json_path(&ok("@timestamp")), "$['@timestamp']");
        assert_eq!(json_path(&ok("a.it's")), "$.a['it\\'s']");
        assert_eq!(json_path(&ok("tags[*]")), "$.tags[*]");
        assert!(under(&ok("edata.items[*].id"), &ok("edata.items")));
        assert!(!under(&ok("edata.itemsx"), &ok("edata.items")));
    }

    #[test]
    fn bad_paths_say_where() {
        for (t, range) in [
            ("", 0..0),
            ("a..b", 2..3),
            ("a.", 1..2),
            ("[*]", 0..1),
            ("a[0]", 1..4),
            ("a[*]b", 4..5),
            ("a b", 1..2),
            ("a]", 1..2),
            (".a", 0..1),
        ] {
            let e = parse(t).err().unwrap_or_else(|| panic!("{t} parsed"));
            assert_eq!(e.range, range, "{t}: {}", e.message);
        }
    }
}
