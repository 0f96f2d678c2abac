//! [`Report`]: the verdicts of the events of many files, the files that could not be read,
//! and counts per event type; and [`collect_files`], which finds the event files of the
//! paths given on the command line.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::input::{Format, SyntaxError, for_each_event, ndjson_line};
use super::{EventError, EventSchemas};

/// Summary key of the events without a (string) type field.
pub const SUMMARY_NO_TYPE: &str = "(none)";

/// The verdict on one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventResult {
    /// Index of its file in [`Report::files`].
    pub file: usize,
    /// 1-based line where the event starts.
    pub line: usize,
    /// 0-based position of the event among the events of its file.
    pub index: usize,
    /// The type it names, when its type field is a string.
    pub type_name: Option<String>,
    /// Why it is invalid; empty when valid.
    pub errors: Vec<EventError>,
}

impl EventResult {
    /// Whether the event is valid.
    pub fn valid(&self) -> bool {
        self.errors.is_empty()
    }
}

/// A file, or a place in it, that could not be read as events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    /// Index of the file in [`Report::files`].
    pub file: usize,
    /// 1-based line and column, when the problem has a place.
    pub position: Option<(usize, usize)>,
    /// What is wrong.
    pub message: String,
}

/// How many events of one type were valid and invalid.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TypeCounts {
    /// Valid events.
    pub valid: usize,
    /// Invalid events.
    pub invalid: usize,
}

impl TypeCounts {
    fn count(&mut self, valid: bool) {
        if valid {
            self.valid += 1;
        } else {
            self.invalid += 1;
        }
    }
}

/// A verdict or a read error as it is found, with the name of its file.
#[derive(Debug, Clone, Copy)]
pub enum Finding<'a> {
    /// The verdict on an event.
    Event(&'a str, &'a EventResult),
    /// A file, or a place in it, that could not be read.
    FileError(&'a str, &'a FileError),
}

/// Where findings go as they are found (see [`Report::stream`]).
type Sink<'s> = Box<dyn FnMut(Finding<'_>) + 's>;

/// The verdicts on the events of every file read.
#[derive(Default)]
pub struct Report<'s> {
    files: Vec<String>,
    events: Vec<EventResult>,
    file_errors: Vec<FileError>,
    summary: BTreeMap<String, TypeCounts>,
    keep_valid: bool,
    sink: Option<Sink<'s>>,
}

impl std::fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Report")
            .field("files", &self.files)
            .field("events", &self.events)
            .field("file_errors", &self.file_errors)
            .field("summary", &self.summary)
            .field("keep_valid", &self.keep_valid)
            .field("streaming", &self.sink.is_some())
            .finish()
    }
}

impl<'s> Report<'s> {
    /// An empty report. Valid events are only counted unless `keep_valid` is set.
    pub fn new(keep_valid: bool) -> Self {
        Report {
            keep_valid,
            ..Report::default()
        }
    }

    /// Hands every verdict (the invalid ones, and the valid ones too with `keep_valid`)
    /// and every read error to `sink` as soon as it is found, in file and line order,
    /// instead of keeping the verdicts. Counts and read errors are still kept, so a
    /// large input is reported in constant memory.
    pub fn stream(&mut self, sink: impl FnMut(Finding<'_>) + 's) {
        self.sink = Some(Box::new(sink));
    }

    /// Reads the file at `path` and validates its events. NDJSON files are read a line at a
    /// time; other files whole.
    pub fn add_file(&mut self, schemas: &EventSchemas, path: &Path) {
        if Format::of(path) == Format::Ndjson {
            return self.add_ndjson_file(schemas, path);
        }
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => return self.add_unreadable(path, &e.to_string()),
        };
        match std::str::from_utf8(&bytes) {
            Ok(text) => self.add_text(schemas, &path.display().to_string(), text, Format::Json),
            Err(e) => {
                // Through `add_error`, so that a streamed report shows it with its place.
                let file = self.new_file(path.display().to_string());
                self.add_error(not_utf8(file, &bytes, e.valid_up_to(), 1, 0));
            }
        }
    }

    fn add_ndjson_file(&mut self, schemas: &EventSchemas, path: &Path) {
        let mut reader = match std::fs::File::open(path) {
            Ok(f) => BufReader::with_capacity(1 << 16, f),
            Err(e) => return self.add_unreadable(path, &e.to_string()),
        };
        let file = self.new_file(path.display().to_string());
        let mut buf = Vec::new();
        let (mut line, mut index) = (0, 0);
        // Byte offset in the file of the next line.
        let mut next_at = 0;
        loop {
            let line_at = next_at;
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) => return,
                Ok(n) => {
                    line += 1;
                    next_at += n;
                }
                Err(e) => {
                    return self.add_error(FileError {
                        file,
                        position: Some((line + 1, 1)),
                        message: format!("cannot read: {e}"),
                    });
                }
            }
            let bytes = buf.strip_suffix(b"\n").unwrap_or(&buf);
            let text = match std::str::from_utf8(bytes) {
                Ok(t) if line == 1 => t.strip_prefix('\u{feff}').unwrap_or(t),
                Ok(t) => t,
                Err(e) => {
                    self.add_error(not_utf8(file, bytes, e.valid_up_to(), line, line_at));
                    continue;
                }
            };
            let read = ndjson_line(text, line, schemas.type_field(), &mut |l, event| {
                self.record(schemas, file, l, index, event);
                index += 1;
            });
            if let Err(e) = read {
                self.add_error(not_json(file, e));
            }
        }
    }

    /// Records a file (or directory) that could not be read.
    pub fn add_unreadable(&mut self, path: &Path, message: &str) {
        let file = self.new_file(path.display().to_string());
        self.add_error(FileError {
            file,
            position: None,
            message: format!("cannot read: {message}"),
        });
    }

    /// Validates the events of `text`, a file shown as `name`.
    pub fn add_text(&mut self, schemas: &EventSchemas, name: &str, text: &str, format: Format) {
        let file = self.new_file(name.to_string());
        let mut index = 0;
        let type_field = schemas.type_field();
        if format == Format::Ndjson {
            // Line by line, so that errors are found in order with the events.
            let text = text.strip_prefix('\u{feff}').unwrap_or(text);
            for (i, line) in text.split('\n').enumerate() {
                let read = ndjson_line(line, i + 1, type_field, &mut |l, event| {
                    self.record(schemas, file, l, index, event);
                    index += 1;
                });
                if let Err(e) = read {
                    self.add_error(not_json(file, e));
                }
            }
            return;
        }
        let errors = for_each_event(text, format, type_field, |line, event| {
            self.record(schemas, file, line, index, event);
            index += 1;
        });
        for e in errors {
            self.add_error(not_json(file, e));
        }
    }

    /// Validates one event and counts (and maybe keeps) its verdict.
    fn record(
        &mut self,
        schemas: &EventSchemas,
        file: usize,
        line: usize,
        index: usize,
        event: &Value,
    ) {
        let errors = schemas.check(event);
        let type_name = schemas.event_type(event);
        let key = type_name.unwrap_or(SUMMARY_NO_TYPE);
        let valid = errors.is_empty();
        if let Some(counts) = self.summary.get_mut(key) {
            counts.count(valid);
        } else {
            self.summary
                .entry(key.to_string())
                .or_default()
                .count(valid);
        }
        if !self.keep_valid && valid {
            return;
        }
        let result = EventResult {
            file,
            line,
            index,
            type_name: type_name.map(str::to_string),
            errors,
        };
        match &mut self.sink {
            Some(sink) => sink(Finding::Event(name(&self.files, file), &result)),
            None => self.events.push(result),
        }
    }

    fn add_error(&mut self, error: FileError) {
        if let Some(sink) = &mut self.sink {
            sink(Finding::FileError(name(&self.files, error.file), &error));
        }
        self.file_errors.push(error);
    }

    fn new_file(&mut self, name: String) -> usize {
        self.files.push(name);
        self.files.len() - 1
    }

    /// The files read, as shown.
    pub fn files(&self) -> &[String] {
        &self.files
    }

    /// The verdicts kept: every event with `keep_valid`, else the invalid ones; in order.
    /// None when streaming.
    pub fn events(&self) -> &[EventResult] {
        &self.events
    }

    /// Files and places that could not be read, in order.
    pub fn file_errors(&self) -> &[FileError] {
        &self.file_errors
    }

    /// Counts per event type, sorted by type; events without a type under
    /// [`SUMMARY_NO_TYPE`].
    pub fn summary(&self) -> &BTreeMap<String, TypeCounts> {
        &self.summary
    }

    /// Counts over all types.
    pub fn totals(&self) -> TypeCounts {
        self.summary
            .values()
            .fold(TypeCounts::default(), |acc, c| TypeCounts {
                valid: acc.valid + c.valid,
                invalid: acc.invalid + c.invalid,
            })
    }

    /// Whether any event is invalid or any file could not be read.
    pub fn failed(&self) -> bool {
        !self.file_errors.is_empty() || self.summary.values().any(|c| c.invalid > 0)
    }
}

fn name(files: &[String], file: usize) -> &str {
    files.get(file).map_or("?", String::as_str)
}

fn not_json(file: usize, e: SyntaxError) -> FileError {
    FileError {
        file,
        position: Some((e.line, e.column)),
        message: format!("not JSON: {}", e.message),
    }
}

/// The error for `bytes` (starting on line `first_line`, at byte `at` of the file) whose
/// UTF-8 breaks at `valid_up_to`.
fn not_utf8(
    file: usize,
    bytes: &[u8],
    valid_up_to: usize,
    first_line: usize,
    at: usize,
) -> FileError {
    let before = bytes.get(..valid_up_to).unwrap_or(bytes);
    let line = first_line + before.iter().filter(|&&b| b == b'\n').count();
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let column = 1 + String::from_utf8_lossy(before.get(line_start..).unwrap_or(&[]))
        .chars()
        .count();
    FileError {
        file,
        position: Some((line, column)),
        message: format!("not UTF-8 text (byte {} of the file)", at + valid_up_to),
    }
}

/// The event files found under the paths given.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct EventFiles {
    /// The files, in order.
    pub files: Vec<PathBuf>,
    /// Directories that could not be listed, with the error.
    pub unreadable: Vec<(PathBuf, String)>,
}

/// The event files of `paths`: each file as given, and the `*.json`, `*.ndjson` and
/// `*.jsonl` files under each directory (recursively, sorted; symbolic links to
/// directories are not followed). A path that does not exist is an `Err`.
pub fn collect_files(paths: &[PathBuf]) -> Result<EventFiles, String> {
    let mut found = EventFiles::default();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut found);
        } else if path.exists() {
            found.files.push(path.clone());
        } else {
            return Err(format!("`{}` does not exist", path.display()));
        }
    }
    Ok(found)
}

fn walk(dir: &Path, found: &mut EventFiles) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => return found.unreadable.push((dir.to_path_buf(), e.to_string())),
    };
    let mut entries: Vec<(PathBuf, bool)> = entries
        .filter_map(Result::ok)
        .map(|e| (e.path(), e.file_type().is_ok_and(|t| t.is_dir())))
        .collect();
    entries.sort();
    for (path, is_dir) in entries {
        if is_dir {
            walk(&path, found);
        } else if is_event_file(&path) {
            found.files.push(path);
        }
    }
}

fn is_event_file(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        ["json", "ndjson", "jsonl"]
            .iter()
            .any(|x| e.eq_ignore_ascii_case(x))
    })
}
