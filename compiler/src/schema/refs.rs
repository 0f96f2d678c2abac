//! Finding the `$ref`s of a schema document and resolving them to a file and a JSON
//! pointer, the way pipec reads them: mapped prefixes first, then relative to the
//! referring file (nested `id`s do not change the base), fragments as pointers or anchors.

use std::path::{Component, Path, PathBuf};

use serde_json::Value;

use super::RefMap;
use super::text::{escape_segment, unescape_segment};

/// A `$ref` written in a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawRef {
    /// JSON pointer of the `$ref` string itself (e.g. `/allOf/0/$ref`).
    pub pointer: String,
    /// The reference as written.
    pub value: String,
}

/// Keywords whose object values map names to subschemas.
const SCHEMA_MAPS: [&str; 6] = [
    "properties",
    "patternProperties",
    "definitions",
    "$defs",
    "dependentSchemas",
    "dependencies",
];

/// Keywords whose values are data, not schemas.
const DATA: [&str; 5] = ["enum", "const", "default", "examples", "example"];

/// Every `$ref` in schema positions of `doc`, in document order.
pub(crate) fn collect_refs(doc: &Value) -> Vec<RawRef> {
    let mut out = Vec::new();
    walk_schema(doc, &mut String::new(), &mut out, 0);
    out
}

const MAX_DEPTH: usize = 256;

fn walk_schema(value: &Value, pointer: &mut String, out: &mut Vec<RawRef>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&escape_segment(key));
                match (key.as_str(), child) {
                    ("$ref", Value::String(s)) => out.push(RawRef {
                        pointer: pointer.clone(),
                        value: s.clone(),
                    }),
                    (k, Value::Object(names)) if SCHEMA_MAPS.contains(&k) => {
                        for (name, sub) in names {
                            let len = pointer.len();
                            pointer.push('/');
                            pointer.push_str(&escape_segment(name));
                            walk_schema(sub, pointer, out, depth + 1);
                            pointer.truncate(len);
                        }
                    }
                    (k, _) if DATA.contains(&k) => {}
                    _ => walk_schema(child, pointer, out, depth + 1),
                }
                pointer.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = pointer.len();
                pointer.push_str(&format!("/{i}"));
                walk_schema(item, pointer, out, depth + 1);
                pointer.truncate(len);
            }
        }
        _ => {}
    }
}

/// Splits a reference into its URI part and its fragment (without `#`).
pub(crate) fn split_ref(reference: &str) -> (&str, Option<&str>) {
    match reference.split_once('#') {
        Some((uri, fragment)) => (uri, Some(fragment)),
        None => (reference, None),
    }
}

/// Whether `uri` starts with a URI scheme (`resource:`, `http:`, ...).
pub(crate) fn has_scheme(uri: &str) -> bool {
    let Some((scheme, _)) = uri.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        // A Windows drive letter is a path, not a scheme.
        && scheme.len() > 1
}

/// Where the URI part of a reference points.
pub(crate) enum FileRef {
    /// A local file.
    File(PathBuf),
    /// An absolute URI no prefix maps; holds the URI's scheme-and-directory prefix.
    Unmapped(String),
}

/// Resolves the URI part of a reference written in `from` (an empty URI is `from` itself).
pub(crate) fn resolve_file(refs: &RefMap, from: &Path, uri: &str) -> FileRef {
    if uri.is_empty() {
        return FileRef::File(from.to_path_buf());
    }
    if let Some(path) = refs.resolve(uri) {
        return FileRef::File(path);
    }
    if has_scheme(uri) {
        let prefix = uri.rfind('/').map_or(uri, |i| &uri[..=i]);
        return FileRef::Unmapped(prefix.to_string());
    }
    let dir = from.parent().unwrap_or_else(|| Path::new(""));
    FileRef::File(normalize(&dir.join(percent_decode(uri))))
}

/// Makes a path absolute and removes `.` and `..` without touching the file system.
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    for component in absolute.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if matches!(out.components().next_back(), Some(Component::Normal(_))) {
                    out.pop();
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// Decodes `%XX` escapes (invalid UTF-8 is replaced).
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes a JSON pointer for use as a URI fragment.
pub(crate) fn encode_fragment(pointer: &str) -> String {
    let mut out = String::with_capacity(pointer.len());
    for b in pointer.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// What went wrong following a fragment.
pub(crate) struct MissingFragment {
    /// The deepest pointer that exists.
    pub found: String,
    /// The first segment that does not.
    pub missing: String,
    /// Names available where the segment is missing.
    pub candidates: Vec<String>,
}

/// Resolves a fragment (without `#`) in `doc` to a JSON pointer.
pub(crate) fn resolve_fragment(doc: &Value, fragment: &str) -> Result<String, MissingFragment> {
    let fragment = percent_decode(fragment);
    if fragment.is_empty() {
        return Ok(String::new());
    }
    if !fragment.starts_with('/') {
        return find_anchor(doc, &fragment, &mut String::new(), 0).ok_or(MissingFragment {
            found: String::new(),
            missing: fragment,
            candidates: Vec::new(),
        });
    }
    let mut current = doc;
    let mut found = String::new();
    for raw in fragment[1..].split('/') {
        let segment = unescape_segment(raw);
        let next = match current {
            Value::Object(map) => map.get(&segment),
            Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        };
        let Some(next) = next else {
            let candidates = match current {
                Value::Object(map) => map.keys().cloned().collect(),
                _ => Vec::new(),
            };
            return Err(MissingFragment {
                found,
                missing: segment,
                candidates,
            });
        };
        found.push('/');
        found.push_str(raw);
        current = next;
    }
    Ok(fragment)
}

/// The pointer of the subschema named `anchor` by `$anchor` or by an `id`/`$id` of `#anchor`.
fn find_anchor(value: &Value, anchor: &str, pointer: &mut String, depth: usize) -> Option<String> {
    if depth > MAX_DEPTH {
        return None;
    }
    match value {
        Value::Object(map) => {
            let named = |k: &str, prefix: &str| {
                map.get(k)
                    .and_then(Value::as_str)
                    .and_then(|s| s.strip_prefix(prefix))
                    == Some(anchor)
            };
            if named("$anchor", "") || named("id", "#") || named("$id", "#") {
                return Some(pointer.clone());
            }
            for (key, child) in map {
                if DATA.contains(&key.as_str()) {
                    continue;
                }
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&escape_segment(key));
                let found = find_anchor(child, anchor, pointer, depth + 1);
                pointer.truncate(len);
                if found.is_some() {
                    return found;
                }
            }
            None
        }
        Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
            let len = pointer.len();
            pointer.push_str(&format!("/{i}"));
            let found = find_anchor(item, anchor, pointer, depth + 1);
            pointer.truncate(len);
            found
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn refs_in_schema_positions_only() {
        let doc = json!({
            "allOf": [{"$ref": "a.json"}, {"properties": {
                "enum": {"$ref": "b.json#/x"},
                "c": {"enum": [{"$ref": "not-a-ref"}]},
                "a/b": {"items": {"$ref": "#/definitions/d"}}
            }}],
            "definitions": {"d": {"$ref": "c.json"}},
            "default": {"$ref": "no"}
        });
        let refs: Vec<(String, String)> = collect_refs(&doc)
            .into_iter()
            .map(|r| (r.pointer, r.value))
            .collect();
        let expect = [
            ("/allOf/0/$ref", "a.json"),
            ("/allOf/1/properties/enum/$ref", "b.json#/x"),
            ("/allOf/1/properties/a~1b/items/$ref", "#/definitions/d"),
            ("/definitions/d/$ref", "c.json"),
        ];
        let expect: Vec<(String, String)> = expect
            .iter()
            .map(|(p, v)| (p.to_string(), v.to_string()))
            .collect();
        assert_eq!(refs, expect);
    }

    #[test]
    fn files_and_fragments() {
        let map = RefMap::new(vec![("resource:/s/".into(), PathBuf::from("/data/s"))]);
        let from = Path::new("/x/y/event.json");
        let file = |uri: &str| match resolve_file(&map, from, uri) {
            FileRef::File(p) => p.display().to_string(),
            FileRef::Unmapped(prefix) => format!("unmapped {prefix}"),
        };
        assert_eq!(file("resource:/s/common.json"), "/data/s/common.json");
        assert_eq!(file("./common.json"), "/x/y/common.json");
        assert_eq!(file("../z/a%20b.json"), "/x/z/a b.json");
        assert_eq!(file(""), "/x/y/event.json");
        assert_eq!(
            file("http://example.com/a/b.json"),
            "unmapped http://example.com/a/"
        );
        assert_eq!(split_ref("a.json#/x"), ("a.json", Some("/x")));
        assert_eq!(split_ref("a.json"), ("a.json", None));

        let doc = json!({"definitions": {"a b": {"id": "#named"}, "l": [1, {"$anchor": "anc"}]}});
        assert_eq!(
            resolve_fragment(&doc, "/definitions/a%20b").ok(),
            Some("/definitions/a b".into())
        );
        assert_eq!(
            resolve_fragment(&doc, "named").ok(),
            Some("/definitions/a b".into())
        );
        assert_eq!(
            resolve_fragment(&doc, "anc").ok(),
            Some("/definitions/l/1".into())
        );
        assert_eq!(resolve_fragment(&doc, "").ok(), Some(String::new()));
        let Err(missing) = resolve_fragment(&doc, "/definitions/ab") else {
            panic!("resolved a missing pointer");
        };
        assert_eq!(
            (missing.found.as_str(), missing.missing.as_str()),
            ("/definitions", "ab")
        );
        assert_eq!(missing.candidates, vec!["a b".to_string(), "l".to_string()]);
        assert!(resolve_fragment(&doc, "/definitions/l/7").is_err());
        assert_eq!(
            encode_fragment("/definitions/a b%"),
            "/definitions/a%20b%25"
        );
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert!(!has_scheme("c:/x.json"));
        assert!(has_scheme("resource:/x.json"));
    }
}
