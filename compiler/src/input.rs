//! Input records: how the files and streams a run or a spec test is given become the
//! records of a topic. A `.json` file is one record, or one per element of a top-level array;
//! any other file, and stdin, holds one record per non-empty line. Sunbird's `.tmpl` fixtures
//! get their dates filled in.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// Reads the records of a test input file: `.json` holds one record, or one per element
/// of a top-level array; other files hold one record per non-empty line. Files ending in
/// `.tmpl` get Sunbird's fixture dates: `$currentDate` (now), `$olderDate` (about five
/// months ago) and `$futureDate` (about a month ahead), as epoch milliseconds.
pub fn read_records(path: &Path, out: &mut Vec<Vec<u8>>) -> Result<(), String> {
    let mut bytes =
        std::fs::read(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let name = if let Some(stem) = name.strip_suffix(".tmpl") {
        bytes = fill_dates(&String::from_utf8_lossy(&bytes)).into_bytes();
        stem
    } else {
        name
    };
    split_records(&bytes, name.ends_with(".json"), out);
    Ok(())
}

/// Splits input into records: a JSON document (`json`) is one record, or one per element
/// of a top-level array; anything else is one record per non-empty line. Bytes that are
/// not JSON (or not UTF-8) stay records as they are: rejecting them is the jobs' work, so
/// that they reach a dead-letter topic instead of stopping the run.
pub fn split_records(bytes: &[u8], json: bool, out: &mut Vec<Vec<u8>>) {
    if json {
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Array(items)) => {
                out.extend(
                    items
                        .iter()
                        .map(|i| serde_json::to_vec(i).unwrap_or_default()),
                );
            }
            Ok(v) => out.push(serde_json::to_vec(&v).unwrap_or_default()),
            Err(_) => out.push(bytes.trim_ascii().to_vec()),
        }
    } else {
        out.extend(
            bytes
                .split(|&b| b == b'\n')
                .map(<[u8]>::trim_ascii)
                .filter(|l| !l.is_empty())
                .map(<[u8]>::to_vec),
        );
    }
}

fn fill_dates(text: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let day = 24 * 3600 * 1000i64;
    text.replace("$currentDate", &now.to_string())
        .replace("$olderDate", &(now - 150 * day).to_string())
        .replace("$futureDate", &(now + 30 * day).to_string())
}

/// Reads the input records of `pipec run --input`: `-` is stdin (one record a line), a
/// directory is every `.json`, `.ndjson` and `.jsonl` file under it in name order, a file is
/// read by [`read_records`].
pub fn read_input(input: &str) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    if input == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| format!("cannot read stdin: {e}"))?;
        split_records(&bytes, false, &mut out);
        return Ok(out);
    }
    let path = Path::new(input);
    if path.is_dir() {
        let mut files = Vec::new();
        collect(path, &mut files).map_err(|e| format!("cannot read `{input}`: {e}"))?;
        files.sort();
        if files.is_empty() {
            return Err(format!("`{input}` has no .json, .ndjson or .jsonl files"));
        }
        for f in files {
            read_records(&f, &mut out)?;
        }
    } else if path.is_file() {
        read_records(path, &mut out)?;
    } else {
        return Err(format!("`{input}` does not exist"));
    }
    Ok(out)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            collect(&p, out)?;
        } else if p
            .extension()
            .and_then(|x| x.to_str())
            .is_some_and(|x| matches!(x, "json" | "ndjson" | "jsonl"))
        {
            out.push(p);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tmpl_fixtures_get_dates() {
        let dir = std::env::temp_dir().join(format!("pipec-tmpl-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let p = dir.join("e.json.tmpl");
        std::fs::write(&p, r#"[{"ets": $currentDate}, {"ets": $olderDate}]"#).expect("write");
        let mut out = Vec::new();
        read_records(&p, &mut out).expect("reads");
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(out.len(), 2);
        let ets = |r: &[u8]| {
            serde_json::from_slice::<serde_json::Value>(r).expect("json")["ets"]
                .as_i64()
                .expect("ms")
        };
        let (now, older) = (ets(&out[0]), ets(&out[1]));
        assert_eq!(now - older, 150 * 24 * 3600 * 1000);
    }
}
