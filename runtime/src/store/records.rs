//! Lookup records a memory store loads at start: a JSON array of objects (`.json`), one
//! object a line (`.ndjson`, `.jsonl`) or CSV with a header row (`.csv`, every value a
//! string). Each record is found by the value of its key field; a bad file is an error that
//! names the file and the line.

use std::collections::HashMap;
use std::path::Path;

use serde_json::{Map, Value};

use crate::RuntimeError;

/// Loads the records of `path`, keyed by their `key` field.
pub fn load(path: &Path, key: &str) -> Result<HashMap<String, Value>, RuntimeError> {
    let file = path.display().to_string();
    let bad = |line: Option<usize>, why: String| RuntimeError::Config {
        what: match line {
            Some(l) => format!("{file}:{l}: {why}"),
            None => format!("{file}: {why}"),
        },
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(None, e.to_string()))?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mut out = HashMap::new();
    let mut add = |line: Option<usize>, what: &str, rec: Value| -> Result<(), RuntimeError> {
        let Value::Object(obj) = rec else {
            return Err(bad(line, format!("{what} is not an object")));
        };
        let k = match obj.get(key) {
            Some(Value::String(s)) => s.clone(),
            Some(v @ (Value::Number(_) | Value::Bool(_))) => v.to_string(),
            Some(_) => return Err(bad(line, format!("{what}: `{key}` is not a string"))),
            None => return Err(bad(line, format!("{what} has no `{key}` field"))),
        };
        out.insert(k, Value::Object(obj));
        Ok(())
    };
    match ext.as_str() {
        "json" => {
            let v: Value = serde_json::from_str(&text)
                .map_err(|e| bad(Some(e.line()), format!("not JSON: {e}")))?;
            let Value::Array(recs) = v else {
                return Err(bad(None, "not a JSON array of records".into()));
            };
            for (i, rec) in recs.into_iter().enumerate() {
                add(None, &format!("record {}", i + 1), rec)?;
            }
        }
        "ndjson" | "jsonl" => {
            for (i, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let rec = serde_json::from_str(line)
                    .map_err(|e| bad(Some(i + 1), format!("not JSON: {e}")))?;
                add(Some(i + 1), "the record", rec)?;
            }
        }
        "csv" => {
            let mut r = csv::Reader::from_reader(text.as_bytes());
            let header = r
                .headers()
                .map_err(|e| bad(Some(1), format!("no header row: {e}")))?
                .clone();
            for row in r.records() {
                let row = row.map_err(|e| {
                    let line = e.position().map(|p| p.line() as usize);
                    bad(line, format!("not CSV: {e}"))
                })?;
                let line = row.position().map(|p| p.line() as usize);
                let obj: Map<String, Value> = header
                    .iter()
                    .zip(row.iter())
                    .map(|(h, v)| (h.to_string(), Value::String(v.to_string())))
                    .collect();
                add(line, "the row", Value::Object(obj))?;
            }
        }
        _ => {
            return Err(bad(
                None,
                "unknown format: name it .json, .ndjson, .jsonl or .csv".into(),
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn load_text(name: &str, text: &str) -> Result<HashMap<String, Value>, RuntimeError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        load(&path, "id").map_err(|e| match e {
            RuntimeError::Config { what } => RuntimeError::Config {
                what: what.replace(&dir.path().display().to_string(), "DIR"),
            },
            e => e,
        })
    }

    #[test]
    fn loads_json_ndjson_and_csv() {
        let j = load_text("a.json", r#"[{"id": "x", "n": 1}, {"id": 2}]"#).unwrap();
        assert_eq!(j["x"], json!({"id": "x", "n": 1}));
        assert_eq!(j["2"], json!({"id": 2}));
        let n = load_text(
            "a.ndjson",
            "{\"id\": \"x\"}\n\n{\"id\": \"y\", \"v\": true}\n",
        )
        .unwrap();
        assert_eq!(n["y"], json!({"id": "y", "v": true}));
        let c = load_text("a.csv", "id,name\nx,Ann\ny,\"B, C\"\n").unwrap();
        assert_eq!(c["y"], json!({"id": "y", "name": "B, C"}));
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let e = load_text("a.ndjson", "{\"id\": \"x\"}\n{\"id\": \n").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("bad configuration: DIR/a.ndjson:2: not JSON"),
            "{e}"
        );
        let e = load_text("a.csv", "id,name\nx,Ann\n").map(|m| m.len());
        assert_eq!(e.unwrap(), 1);
        let e = load_text("a.csv", "name\nAnn\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "bad configuration: DIR/a.csv:2: the row has no `id` field"
        );
        let e = load_text("a.csv", "id,name\nx,Ann,extra\n").unwrap_err();
        assert!(e.to_string().contains("DIR/a.csv:2: not CSV"), "{e}");
        let e = load_text("a.json", "[{\"id\": \"x\"},\n {\"n\": 1}]").unwrap_err();
        assert_eq!(
            e.to_string(),
            "bad configuration: DIR/a.json: record 2 has no `id` field"
        );
        let e = load_text("a.json", "[\n{\"id\": }]").unwrap_err();
        assert!(e.to_string().contains("DIR/a.json:2: not JSON"), "{e}");
        assert!(load_text("a.txt", "").is_err());
    }
}
