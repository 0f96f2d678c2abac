//! Events of backup files as records: NDJSON (gzip or not) split into lines, Parquet read
//! back into JSON lines. What the workflow summary and `pipec run --from-backup` read.

use std::io::{BufRead, Read};

use datafusion::arrow::json::LineDelimitedWriter;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::storage::Root;
use crate::RuntimeError;

/// Decompresses gzip bytes (several members, as concatenated files give).
pub fn gunzip(bytes: &[u8], what: &str) -> Result<Vec<u8>, RuntimeError> {
    let mut out = Vec::with_capacity(bytes.len() * 4);
    flate2::read::MultiGzDecoder::new(bytes)
        .read_to_end(&mut out)
        .map_err(|e| RuntimeError::Io {
            what: format!("decompressing `{what}`"),
            reason: e.to_string(),
        })?;
    Ok(out)
}

/// The records of one backup file: its non-empty lines (NDJSON, `.gz` decompressed), or
/// its rows as JSON objects (Parquet).
pub async fn records(root: &Root, key: &str) -> Result<Vec<Vec<u8>>, RuntimeError> {
    let mut r = RecordReader::open(root, key).await?;
    let mut out = Vec::new();
    while let Some(l) = r.next_record()? {
        out.push(l.to_vec());
    }
    Ok(out)
}

/// Reads the records of one backup file one at a time: a local NDJSON file (gzip or not) is
/// streamed through a buffer, so that memory does not grow with the file; a file of an
/// object store is fetched whole first, and a Parquet file is read whole into lines.
pub struct RecordReader {
    src: Src,
    line: Vec<u8>,
    key: String,
}

enum Src {
    Lines(Box<dyn BufRead + Send>),
    Rows(std::vec::IntoIter<Vec<u8>>),
}

impl RecordReader {
    /// Opens `key` of `root`.
    pub async fn open(root: &Root, key: &str) -> Result<RecordReader, RuntimeError> {
        let src = if key.ends_with(".parquet") {
            Src::Rows(parquet_lines(root.read(key).await?, key)?.into_iter())
        } else {
            let raw: Box<dyn Read + Send> = match root.local_path(key) {
                Some(p) => Box::new(std::fs::File::open(&p).map_err(|e| RuntimeError::Io {
                    what: format!("reading `{}`", p.display()),
                    reason: e.to_string(),
                })?),
                None => Box::new(std::io::Cursor::new(root.read(key).await?)),
            };
            let raw: Box<dyn Read + Send> = if key.ends_with(".gz") {
                Box::new(flate2::read::MultiGzDecoder::new(std::io::BufReader::new(
                    raw,
                )))
            } else {
                raw
            };
            Src::Lines(Box::new(std::io::BufReader::with_capacity(1 << 18, raw)))
        };
        Ok(RecordReader {
            src,
            line: Vec::new(),
            key: key.to_string(),
        })
    }

    /// The next non-blank record, without its line end; `None` at the end of the file.
    pub fn next_record(&mut self) -> Result<Option<&[u8]>, RuntimeError> {
        match &mut self.src {
            Src::Rows(rows) => {
                self.line = match rows.next() {
                    Some(r) => r,
                    None => return Ok(None),
                };
                Ok(Some(&self.line))
            }
            Src::Lines(r) => loop {
                self.line.clear();
                let n = r
                    .read_until(b'\n', &mut self.line)
                    .map_err(|e| RuntimeError::Io {
                        what: format!("reading `{}`", self.key),
                        reason: e.to_string(),
                    })?;
                if n == 0 {
                    return Ok(None);
                }
                let l = self.line.strip_suffix(b"\n").unwrap_or(&self.line);
                let l = l.strip_suffix(b"\r").unwrap_or(l);
                if !l.iter().all(u8::is_ascii_whitespace) {
                    let len = l.len();
                    return Ok(Some(&self.line[..len]));
                }
            },
        }
    }
}

/// The records of backup `name` for `day`, every file of its folder(s) in key order (for
/// `pipec run --from-backup`): a missing day is an error, not an empty replay.
pub async fn backup_day(
    manifest: &pipec_compiler::manifest::Manifest,
    root: &Root,
    name: &str,
    day: pipec_compiler::civil::Date,
) -> Result<Vec<Vec<u8>>, RuntimeError> {
    let def = super::backup::backup_def(manifest, name)?;
    let mut pattern = super::paths::fill(&def.path, day, None);
    if !pattern.ends_with('/') {
        pattern.push('/');
    }
    let mut listed: Vec<String> = root
        .list(super::paths::list_prefix(&pattern))
        .await?
        .into_iter()
        .filter(|l| super::paths::glob_match(&pattern, &l.key))
        .map(|l| l.key)
        .collect();
    if listed.is_empty() {
        return Err(RuntimeError::Config {
            what: format!(
                "backup `{name}` has no files for {day} (looked for `{pattern}` under {})",
                root.url("")?
            ),
        });
    }
    listed.sort();
    let mut out = Vec::new();
    for key in listed {
        out.extend(records(root, &key).await?);
    }
    Ok(out)
}

/// The non-empty lines of NDJSON bytes, each without its line end.
pub fn lines(text: &[u8]) -> Vec<Vec<u8>> {
    text.split(|b| *b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .map(<[u8]>::to_vec)
        .collect()
}

/// The rows of a Parquet file as JSON objects, one line each.
fn parquet_lines(bytes: Vec<u8>, key: &str) -> Result<Vec<Vec<u8>>, RuntimeError> {
    let bad = |e: &dyn std::fmt::Display| RuntimeError::Io {
        what: format!("reading Parquet `{key}`"),
        reason: e.to_string(),
    };
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes))
        .map_err(|e| bad(&e))?
        .build()
        .map_err(|e| bad(&e))?;
    let mut out = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| bad(&e))?;
        let mut buf = Vec::new();
        {
            let mut w = LineDelimitedWriter::new(&mut buf);
            w.write(&batch).map_err(|e| bad(&e))?;
            w.finish().map_err(|e| bad(&e))?;
        }
        out.extend(lines(&buf));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_skip_blank_ones_and_gzip_round_trips() {
        assert_eq!(
            lines(b"{\"a\":1}\r\n\n  \n{\"b\":2}"),
            vec![b"{\"a\":1}".to_vec(), b"{\"b\":2}".to_vec()]
        );
        let mut gz = Vec::new();
        {
            use std::io::Write;
            let mut w = flate2::write::GzEncoder::new(&mut gz, flate2::Compression::fast());
            w.write_all(b"{\"a\":1}\n").expect("gz");
            w.finish().expect("gz");
        }
        assert_eq!(gunzip(&gz, "x").expect("gunzip"), b"{\"a\":1}\n");
        assert!(gunzip(b"not gzip", "x").is_err());
    }

    #[tokio::test]
    async fn the_reader_gives_what_lines_gives_plain_and_gzip() {
        use std::io::Write;
        let dir = tempfile::tempdir().expect("tmp");
        let root = Root::Local(dir.path().to_path_buf());
        let text = b"{\"a\":1}\r\n\n  \n{\"b\":2}\n{\"c\":3}";
        std::fs::write(dir.path().join("p.ndjson"), text).expect("plain");
        let mut w = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        w.write_all(text).expect("gz");
        std::fs::write(dir.path().join("p.ndjson.gz"), w.finish().expect("gz")).expect("gz");
        for key in ["p.ndjson", "p.ndjson.gz"] {
            assert_eq!(
                records(&root, key).await.expect("read"),
                lines(text),
                "{key}"
            );
        }
        assert!(records(&root, "missing.ndjson").await.is_err());
    }
}
