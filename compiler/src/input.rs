//! Input records: how the files and streams a run or a spec test is given become the
//! records of a topic, read as a stream (memory stays flat whatever the input's size).
//!
//! - A JSON source (a `.json` file, or a stream whose first character is `[` or `{`) is
//!   one record per element of a top-level array, or one record per top-level value. A
//!   `.json` file whose first line is a whole JSON value with more after it is NDJSON (as
//!   Sunbird's own fixtures are): it is read one record per line, and a note says so.
//! - Any other file (`.ndjson`, `.jsonl`, `.log`, ...), and a stream that does not start
//!   with `[` or `{`, holds one record per non-empty line.
//! - Sunbird's `.tmpl` fixtures get their dates filled in.
//!
//! Records are the bytes as they came (never parsed and written again here): bytes that
//! are not JSON stay records, and rejecting them is the jobs' work, so that they reach a
//! dead-letter topic instead of stopping the run.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Cursor, Read};
use std::path::{Path, PathBuf};

/// The largest record read; a longer one is an error at its place (a file with no line
/// breaks read as NDJSON would otherwise be read whole into memory).
pub const MAX_RECORD: usize = 64 << 20;

/// Reads the records of a test input file (see the module's rules) into `out`.
pub fn read_records(path: &Path, out: &mut Vec<Vec<u8>>) -> Result<(), String> {
    let mut records = Records::new(vec![Source::File(path.to_path_buf())]);
    for r in &mut records {
        out.push(r?);
    }
    Ok(())
}

/// Opens the input of `pipec run --input`: `-` is stdin, a directory is every `.json`,
/// `.ndjson` and `.jsonl` file under it in name order, anything else is read as a file
/// (a regular file, a FIFO, `/dev/stdin`, a process substitution's `/dev/fd/N`).
pub fn open_input(input: &str) -> Result<Records, String> {
    if input == "-" {
        return Ok(Records::new(vec![Source::Stdin]));
    }
    let path = Path::new(input);
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!("`{input}` does not exist"),
        _ => format!("cannot read `{input}`: {e}"),
    })?;
    if meta.is_dir() {
        let mut files = Vec::new();
        collect(path, &mut files).map_err(|e| format!("cannot read `{input}`: {e}"))?;
        files.sort();
        if files.is_empty() {
            return Err(format!("`{input}` has no .json, .ndjson or .jsonl files"));
        }
        return Ok(Records::new(files.into_iter().map(Source::File).collect()));
    }
    Ok(Records::new(vec![Source::File(path.to_path_buf())]))
}

/// The records of `bytes` read as a source named `name`: as a file when named `.json`,
/// `.ndjson` or `.jsonl`, else as a stream (sniffed); each `Ok`, up to an `Err` that ends
/// them; and the notes.
pub fn split(name: &str, bytes: Vec<u8>) -> (Vec<Result<Vec<u8>, String>>, Vec<String>) {
    let mut r = Reader::new(
        name.into(),
        Box::new(Cursor::new(bytes)),
        Kind::of(name, true),
    );
    let mut out = Vec::new();
    loop {
        match r.next_record() {
            Ok(Some(rec)) => out.push(Ok(rec)),
            Ok(None) => break,
            Err(e) => {
                out.push(Err(e));
                break;
            }
        }
    }
    (out, r.note.into_iter().collect())
}

/// Reads every record of `input` into memory (for small inputs and tests; `pipec run`
/// streams with [`open_input`]).
pub fn read_input(input: &str) -> Result<Vec<Vec<u8>>, String> {
    open_input(input)?.collect()
}

/// Where records come from.
#[derive(Debug, Clone)]
pub enum Source {
    Stdin,
    File(PathBuf),
}

/// The records of a list of sources, in order, each `Ok(bytes)`; an `Err` (a source that
/// cannot be read, or a JSON array that is not well formed) says where, and ends them.
pub struct Records {
    sources: VecDeque<Source>,
    current: Option<Reader>,
    notes: Vec<String>,
    failed: bool,
}

impl Records {
    pub fn new(sources: Vec<Source>) -> Records {
        Records {
            sources: sources.into(),
            current: None,
            notes: Vec::new(),
            failed: false,
        }
    }

    /// Notes on how sources were read (a `.json` file read as NDJSON), taken once.
    pub fn take_notes(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notes)
    }

    fn open(&mut self, source: Source) -> Result<Reader, String> {
        let (name, bytes_in): (String, Box<dyn BufRead + Send>) = match &source {
            Source::Stdin => ("stdin".into(), Box::new(BufReader::new(std::io::stdin()))),
            Source::File(p) => {
                let f = std::fs::File::open(p)
                    .map_err(|e| format!("cannot read `{}`: {e}", p.display()))?;
                (
                    p.display().to_string(),
                    Box::new(BufReader::with_capacity(1 << 16, f)),
                )
            }
        };
        let file_name = match &source {
            Source::Stdin => String::new(),
            Source::File(p) => p
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("")
                .to_string(),
        };
        let (r, file_name): (Box<dyn BufRead + Send>, &str) = match file_name.strip_suffix(".tmpl")
        {
            Some(stem) => {
                // Fixtures are small: read whole, dates filled in.
                let mut text = Vec::new();
                bytes_in
                    .take(MAX_RECORD as u64 + 1)
                    .read_to_end(&mut text)
                    .map_err(|e| format!("cannot read `{name}`: {e}"))?;
                let filled = fill_dates(&String::from_utf8_lossy(&text)).into_bytes();
                (Box::new(Cursor::new(filled)), stem)
            }
            None => (bytes_in, file_name.as_str()),
        };
        // A stream (stdin, a FIFO, a process substitution) has no name to go by: it is
        // sniffed. A regular file is JSON when named `.json`, else one record per line.
        let stream = match &source {
            Source::Stdin => true,
            Source::File(p) => !std::fs::metadata(p).is_ok_and(|m| m.is_file()),
        };
        Ok(Reader::new(name, r, Kind::of(file_name, stream)))
    }
}

impl Iterator for Records {
    type Item = Result<Vec<u8>, String>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        loop {
            if self.current.is_none() {
                let source = self.sources.pop_front()?;
                match self.open(source) {
                    Ok(r) => self.current = Some(r),
                    Err(e) => {
                        self.failed = true;
                        return Some(Err(e));
                    }
                }
            }
            let r = self.current.as_mut()?;
            match r.next_record() {
                Ok(Some(rec)) => {
                    if let Some(n) = r.note.take() {
                        self.notes.push(n);
                    }
                    return Some(Ok(rec));
                }
                Ok(None) => self.current = None,
                Err(e) => {
                    self.failed = true;
                    return Some(Err(e));
                }
            }
        }
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

/// How a source is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Not decided yet: JSON when the first character is `[` or `{`, else lines.
    Sniff,
    /// A `.json` file: decided by its first character and first line.
    Json,
    /// One record per non-empty line.
    Lines,
    /// The elements of a top-level array (its `[` read).
    Array,
    /// Top-level values one after the other.
    Values,
    Done,
}

impl Kind {
    /// How a source named `name` is read: JSON when named `.json`, lines when named
    /// `.ndjson` or `.jsonl`; otherwise a stream is sniffed and a file read as lines.
    fn of(name: &str, stream: bool) -> Kind {
        if name.ends_with(".json") {
            Kind::Json
        } else if name.ends_with(".ndjson") || name.ends_with(".jsonl") || !stream {
            Kind::Lines
        } else {
            Kind::Sniff
        }
    }
}

/// One source being read.
struct Reader {
    name: String,
    r: Box<dyn BufRead + Send>,
    kind: Kind,
    /// Where the next byte is: line (from 1) and column (from 1, in bytes).
    line: u64,
    col: u64,
    /// Records given so far.
    count: u64,
    note: Option<String>,
    /// Whether the source is a stream decided by sniffing (then a first line that is a
    /// whole value means lines, without a note).
    sniffed: bool,
    /// Blank lines after the first, skipped while looking past it.
    skipped_lines: u64,
}

impl Reader {
    fn new(name: String, r: Box<dyn BufRead + Send>, kind: Kind) -> Reader {
        Reader {
            name,
            r,
            kind,
            line: 1,
            col: 1,
            count: 0,
            note: None,
            sniffed: false,
            skipped_lines: 0,
        }
    }

    fn io(&self, e: &std::io::Error) -> String {
        io_err(&self.name, e)
    }

    fn error(&self, what: &str) -> String {
        format!("{}:{}:{}: {what}", self.name, self.line, self.col)
    }

    /// Moves past `n` bytes of the buffer, keeping the place.
    fn advance(&mut self, n: usize) {
        let Ok(buf) = self.r.fill_buf() else { return };
        let n = n.min(buf.len());
        advance_place(&buf[..n], &mut self.line, &mut self.col);
        self.r.consume(n);
    }

    /// Skips whitespace; the next byte, if any (not consumed).
    fn peek_past_ws(&mut self) -> Result<Option<u8>, String> {
        loop {
            let buf = self.r.fill_buf().map_err(|e| io_err(&self.name, &e))?;
            if buf.is_empty() {
                return Ok(None);
            }
            match buf.iter().position(|b| !b.is_ascii_whitespace()) {
                Some(i) => {
                    let b = buf[i];
                    self.advance(i);
                    return Ok(Some(b));
                }
                None => {
                    let n = buf.len();
                    self.advance(n);
                }
            }
        }
    }

    fn next_record(&mut self) -> Result<Option<Vec<u8>>, String> {
        loop {
            let rec = match self.kind {
                Kind::Done => return Ok(None),
                Kind::Sniff => {
                    self.kind = match self.peek_past_ws()? {
                        Some(b'[' | b'{') => {
                            self.sniffed = true;
                            Kind::Json
                        }
                        Some(_) => Kind::Lines,
                        None => Kind::Done,
                    };
                    continue;
                }
                Kind::Json => {
                    self.decide_json()?;
                    continue;
                }
                Kind::Lines => self.line_record()?,
                Kind::Array => self.element()?,
                Kind::Values => self.value_record()?,
            };
            if rec.is_some() {
                self.count += 1;
            }
            return Ok(rec);
        }
    }

    /// A JSON source: an array's elements, NDJSON, or values.
    fn decide_json(&mut self) -> Result<(), String> {
        match self.peek_past_ws()? {
            None => self.kind = Kind::Done,
            Some(b'[') => {
                self.advance(1);
                self.kind = Kind::Array;
            }
            Some(b'{') => {
                // The first line: a whole value with more after it means NDJSON.
                let mut first = Vec::new();
                (&mut self.r)
                    .take(MAX_RECORD as u64 + 1)
                    .read_until(b'\n', &mut first)
                    .map_err(|e| self.io(&e))?;
                let whole = whole_value(first.trim_ascii());
                let more = whole && self.more_after_first_line()?;
                let rest = std::mem::replace(&mut self.r, Box::new(std::io::empty()));
                self.r = Box::new(BufReader::new(Cursor::new(first).chain(rest)));
                if more {
                    if !self.sniffed {
                        self.note = Some(format!(
                            "`{}` holds one JSON value per line: read as NDJSON, one record \
                             per line (name it .ndjson to say so)",
                            self.name
                        ));
                    }
                    self.kind = Kind::Lines;
                } else {
                    self.kind = Kind::Values;
                }
            }
            Some(_) => self.kind = Kind::Values,
        }
        Ok(())
    }

    /// Whether anything but whitespace follows the first line (already read from the
    /// reader, which is left at the next non-blank byte; the newlines skipped to get
    /// there are counted once the first line is).
    fn more_after_first_line(&mut self) -> Result<bool, String> {
        loop {
            let buf = self.r.fill_buf().map_err(|e| io_err(&self.name, &e))?;
            if buf.is_empty() {
                return Ok(false);
            }
            let blank = buf.iter().position(|b| !b.is_ascii_whitespace());
            let n = blank.unwrap_or(buf.len());
            self.skipped_lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
            self.r.consume(n);
            if blank.is_some() {
                return Ok(true);
            }
        }
    }

    /// The next non-empty line, trimmed.
    fn line_record(&mut self) -> Result<Option<Vec<u8>>, String> {
        let mut buf = Vec::new();
        loop {
            buf.clear();
            let n = (&mut self.r)
                .take(MAX_RECORD as u64 + 1)
                .read_until(b'\n', &mut buf)
                .map_err(|e| self.io(&e))?;
            if n == 0 {
                self.kind = Kind::Done;
                return Ok(None);
            }
            if buf.len() > MAX_RECORD {
                return Err(self.error(&format!(
                    "a line longer than {} MiB (records are one per line here)",
                    MAX_RECORD >> 20
                )));
            }
            self.line += 1 + std::mem::take(&mut self.skipped_lines);
            self.col = 1;
            let t = buf.trim_ascii();
            if !t.is_empty() {
                return Ok(Some(t.to_vec()));
            }
        }
    }

    /// The next element of the top-level array.
    fn element(&mut self) -> Result<Option<Vec<u8>>, String> {
        let first = self.count == 0;
        let Some(b) = self.peek_past_ws()? else {
            return Err(self.error("the top-level array is not closed"));
        };
        if b == b']' && first {
            self.advance(1);
            return self.after_array();
        }
        if !first {
            match b {
                b',' => {
                    self.advance(1);
                }
                b']' => {
                    self.advance(1);
                    return self.after_array();
                }
                _ => {
                    return Err(self.error(&format!(
                        "expected `,` or `]` after element {} of the top-level array",
                        self.count
                    )));
                }
            }
            if self.peek_past_ws()?.is_none() {
                return Err(self.error("the top-level array is not closed"));
            }
        }
        if matches!(self.peek_past_ws()?, Some(b',' | b']')) {
            return Err(self.error(&format!(
                "expected element {} of the top-level array, found no value",
                self.count + 1
            )));
        }
        let mut out = Vec::new();
        if !self.value(&mut out, true)? {
            return Err(self.error("the top-level array is not closed"));
        }
        Ok(Some(out))
    }

    fn after_array(&mut self) -> Result<Option<Vec<u8>>, String> {
        self.kind = Kind::Done;
        match self.peek_past_ws()? {
            None => Ok(None),
            Some(_) => Err(self.error("more after the top-level array")),
        }
    }

    /// The next top-level value (a value that does not end, or a token that is no
    /// value, runs to the end of its line and is a record the jobs will reject).
    fn value_record(&mut self) -> Result<Option<Vec<u8>>, String> {
        if self.peek_past_ws()?.is_none() {
            self.kind = Kind::Done;
            return Ok(None);
        }
        let mut out = Vec::new();
        self.value(&mut out, false)?;
        if self.count == 1 && !self.sniffed {
            self.note = Some(format!(
                "`{}` holds several JSON values: read as one record each",
                self.name
            ));
        }
        Ok(Some(out))
    }

    /// Appends the value at the reader (past whitespace) to `out`: a string, an object or
    /// array (to its closing bracket), or any other token (in an array to the next
    /// whitespace, `,` or `]`; at the top level to the end of its line). False when the
    /// source ended inside a string, object or array.
    fn value(&mut self, out: &mut Vec<u8>, in_array: bool) -> Result<bool, String> {
        let Some(first) = self.peek_past_ws()? else {
            return Ok(false);
        };
        let token = !matches!(first, b'"' | b'{' | b'[');
        let mut depth = 0usize;
        let mut in_str = false;
        let mut esc = false;
        let mut gap = false;
        loop {
            let buf = self.r.fill_buf().map_err(|e| io_err(&self.name, &e))?;
            if buf.is_empty() {
                return Ok(token);
            }
            let mut end = None;
            for (i, &b) in buf.iter().enumerate() {
                if token {
                    let sep = if in_array {
                        b.is_ascii_whitespace() || matches!(b, b',' | b']')
                    } else {
                        b == b'\n'
                    };
                    if sep {
                        end = Some(i);
                        break;
                    }
                    out.push(b);
                    continue;
                }
                if in_str {
                    out.push(b);
                    if esc {
                        esc = false;
                    } else if b == b'\\' {
                        esc = true;
                    } else if b == b'"' {
                        in_str = false;
                        if depth == 0 {
                            end = Some(i + 1);
                            break;
                        }
                    }
                    continue;
                }
                // Whitespace between tokens is left out, so that a record is one line
                // (what a topic's NDJSON file and a Kafka consumer expect); the values
                // themselves are kept byte for byte. Between two bare tokens (`tru e`,
                // `1 2`: not JSON) one space stays, so nothing becomes valid that was not.
                if b.is_ascii_whitespace() {
                    gap = true;
                    continue;
                }
                if std::mem::take(&mut gap) && out.last().is_some_and(|&l| bare(l)) && bare(b) {
                    out.push(b' ');
                }
                out.push(b);
                match b {
                    b'"' => in_str = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            end = Some(i + 1);
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let n = end.unwrap_or(buf.len());
            self.advance(n);
            if out.len() > MAX_RECORD {
                return Err(self.error(&format!("a record longer than {} MiB", MAX_RECORD >> 20)));
            }
            if end.is_some() {
                if token {
                    // A token at the top level is its line, trimmed.
                    let t = out.trim_ascii_end().len();
                    out.truncate(t);
                }
                return Ok(true);
            }
        }
    }
}

fn io_err(name: &str, e: &std::io::Error) -> String {
    format!("cannot read `{name}`: {e}")
}

/// Whether `b` can be part of a bare token (a number, `true`, a typo).
fn bare(b: u8) -> bool {
    !matches!(b, b'{' | b'}' | b'[' | b']' | b',' | b':' | b'"')
}

/// Moves a line/column place past `bytes`.
fn advance_place(bytes: &[u8], line: &mut u64, col: &mut u64) {
    match bytes.iter().rposition(|&b| b == b'\n') {
        Some(last) => {
            *line += bytes.iter().filter(|&&b| b == b'\n').count() as u64;
            *col = (bytes.len() - last) as u64;
        }
        None => *col += bytes.len() as u64,
    }
}

/// Whether `b` is one whole JSON value (brackets balanced, strings closed, nothing after).
fn whole_value(b: &[u8]) -> bool {
    let mut depth = 0usize;
    let mut in_str = false;
    let mut esc = false;
    for (i, &c) in b.iter().enumerate() {
        if in_str {
            if esc {
                esc = false;
            } else if c == b'\\' {
                esc = true;
            } else if c == b'"' {
                in_str = false;
            }
            continue;
        }
        match c {
            b'"' => in_str = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                if depth == 0 {
                    return false;
                }
                depth -= 1;
                if depth == 0 {
                    return i + 1 == b.len();
                }
            }
            _ => {}
        }
    }
    false
}

#[cfg(test)]
#[path = "input_tests.rs"]
mod tests;
