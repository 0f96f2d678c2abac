//! Finding the events of a file, each with the line where it starts. A file holds JSON
//! values one after another (usually one): an event object, an array of events, or a batch
//! envelope `{"params": {...}, "events": [...]}`. NDJSON files (`.ndjson`, `.jsonl`) are
//! read line by line, so that a broken line is reported and the next lines still read;
//! each line may again hold any of these.
//!
//! Each event is parsed once into a `serde_json::Value`. Where the elements of an array
//! or an envelope start is found by a scan into `RawValue`s, which builds no values: a
//! top-level array is scanned first and its elements parsed one by one (a large file of
//! one array is never held as one `Value`); an envelope is parsed whole and then scanned.

use std::path::Path;

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

/// How the events of a file are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON values one after another (a `.json` file).
    Json,
    /// One JSON value per line (`.ndjson`, `.jsonl`).
    Ndjson,
}

impl Format {
    /// The format of a file, from its extension: NDJSON for `.ndjson` and `.jsonl`, else JSON.
    pub fn of(path: &Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some(ext)
                if ext.eq_ignore_ascii_case("ndjson") || ext.eq_ignore_ascii_case("jsonl") =>
            {
                Format::Ndjson
            }
            _ => Format::Json,
        }
    }
}

/// A place where a file is not JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong (serde_json's message without its position).
    pub message: String,
}

/// The part of an envelope that holds events, with the raw text of each.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    events: Vec<&'a RawValue>,
}

/// Calls `each(line, event)` for every event of `text`, in order, where `line` is the
/// 1-based line where the event starts. Returns the places where the text is not JSON:
/// at most one for [`Format::Json`] (reading stops there), one per broken line for
/// [`Format::Ndjson`]. An object without `type_field` whose `events` is an array is a
/// batch envelope.
pub fn for_each_event(
    text: &str,
    format: Format,
    type_field: &str,
    mut each: impl FnMut(usize, &Value),
) -> Vec<SyntaxError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match format {
        Format::Ndjson => ndjson(text, type_field, &mut each),
        Format::Json => json(text, type_field, &mut each),
    }
}

fn ndjson(text: &str, type_field: &str, each: &mut dyn FnMut(usize, &Value)) -> Vec<SyntaxError> {
    text.split('\n')
        .enumerate()
        .filter_map(|(i, line)| ndjson_line(line, i + 1, type_field, &mut *each).err())
        .collect()
}

/// Calls `each(line, event)` for every event of `text`, line `line` of an NDJSON file
/// (blank lines hold none). `Err` when the line is not JSON.
pub fn ndjson_line(
    text: &str,
    line: usize,
    type_field: &str,
    each: &mut dyn FnMut(usize, &Value),
) -> Result<(), SyntaxError> {
    if text.trim().is_empty() {
        return Ok(());
    }
    match serde_json::from_str::<Value>(text) {
        Ok(value) => {
            expand_flat(&value, line, type_field, each);
            Ok(())
        }
        Err(e) => Err(SyntaxError {
            line,
            column: e.column().max(1),
            message: message(&e),
        }),
    }
}

/// Every event of a value on one line: they all start there.
fn expand_flat(value: &Value, line: usize, type_field: &str, each: &mut dyn FnMut(usize, &Value)) {
    match value {
        Value::Array(items) => {
            for item in items {
                expand_flat(item, line, type_field, each);
            }
        }
        v => match envelope_events(v, type_field) {
            Some(events) => {
                for event in events {
                    expand_flat(event, line, type_field, each);
                }
            }
            None => each(line, v),
        },
    }
}

fn json(text: &str, type_field: &str, each: &mut dyn FnMut(usize, &Value)) -> Vec<SyntaxError> {
    let mut cx = Json {
        type_field,
        lines: Lines::new(text),
        errors: Vec::new(),
    };
    let mut pos = 0;
    loop {
        pos = skip_whitespace(text, pos);
        let rest = text.get(pos..).unwrap_or("");
        if rest.is_empty() {
            return cx.errors;
        }
        // An array is scanned raw and its elements parsed one at a time, so that a large
        // array of events is never held as one `Value`.
        let read = if rest.starts_with('[') {
            next::<Vec<&RawValue>>(rest).map(|(items, len)| {
                cx.raw_items(&items, rest, pos, each);
                len
            })
        } else {
            next::<Value>(rest).map(|(value, len)| {
                let raw = rest.get(..len).unwrap_or("");
                expand_at(&value, raw, pos, cx.type_field, &mut cx.lines, each);
                len
            })
        };
        match read {
            Ok(len) => pos += len.max(1),
            Err(e) => {
                cx.error_at(pos, &e);
                return cx.errors;
            }
        }
    }
}

/// The next JSON value of `text` (which starts with one) and the length of its text.
fn next<'t, T: Deserialize<'t>>(text: &'t str) -> Result<(T, usize), serde_json::Error> {
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<T>();
    match stream.next() {
        Some(Ok(value)) => Ok((value, stream.byte_offset())),
        Some(Err(e)) => Err(e),
        None => Err(serde::de::Error::custom("expected value")),
    }
}

/// How deep arrays of events may nest in a [`Format::Json`] file (`[[{..}]]` is 2).
pub const MAX_ARRAY_DEPTH: usize = 64;

/// Reading the values of a [`Format::Json`] file.
struct Json<'t, 'f> {
    type_field: &'f str,
    lines: Lines<'t>,
    errors: Vec<SyntaxError>,
}

impl Json<'_, '_> {
    /// The events of array elements scanned from `outer`, which starts at byte `at`. Arrays
    /// inside arrays are walked with a stack of their own, not by recursion, and at most
    /// [`MAX_ARRAY_DEPTH`] deep: each level is scanned again, so the depth bounds the work
    /// as well as the stack.
    fn raw_items(
        &mut self,
        items: &[&RawValue],
        outer: &str,
        at: usize,
        each: &mut dyn FnMut(usize, &Value),
    ) {
        // Each frame: the elements left to read (reversed), the text they lie in, where that
        // text starts in the file, and how deep it is.
        let first: Vec<&RawValue> = items.iter().rev().copied().collect();
        let mut stack: Vec<(Vec<&RawValue>, &str, usize, usize)> = vec![(first, outer, at, 1)];
        while let Some((pending, text, start, depth)) = stack.last_mut() {
            let Some(item) = pending.pop() else {
                stack.pop();
                continue;
            };
            let (text, start, depth) = (*text, *start, *depth);
            let raw = item.get();
            let offset = start + (raw.as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
            if raw.starts_with('[') {
                if depth >= MAX_ARRAY_DEPTH {
                    self.error_at_message(
                        offset,
                        format!("arrays nested more than {MAX_ARRAY_DEPTH} deep"),
                    );
                    return;
                }
                match serde_json::from_str::<Vec<&RawValue>>(raw) {
                    Ok(inner) => {
                        stack.push((inner.into_iter().rev().collect(), raw, offset, depth + 1));
                    }
                    Err(e) => self.error_at(offset, &e),
                }
                continue;
            }
            // The scan accepts what a `Value` may not hold (a number out of range).
            match serde_json::from_str::<Value>(raw) {
                Ok(value) => expand_at(&value, raw, offset, self.type_field, &mut self.lines, each),
                Err(e) => self.error_at(offset, &e),
            }
        }
    }

    /// Records an error with its own message at byte `at` of the file.
    fn error_at_message(&mut self, at: usize, message: String) {
        let (line, column) = self.lines.position(at);
        self.errors.push(SyntaxError {
            line,
            column: column.max(1),
            message,
        });
    }

    /// Records an error of the text that starts at byte `at`, placed in the file.
    fn error_at(&mut self, at: usize, e: &serde_json::Error) {
        let (line, column) = self.lines.position(at);
        let (line, column) = if e.line() <= 1 {
            (line, column + e.column().saturating_sub(1))
        } else {
            (line + e.line() - 1, e.column())
        };
        self.errors.push(SyntaxError {
            line,
            column: column.max(1),
            message: message(e),
        });
    }
}

/// Every event of `value`, whose text is `raw`, starting at byte `at` of the file.
fn expand_at(
    value: &Value,
    raw: &str,
    at: usize,
    type_field: &str,
    lines: &mut Lines<'_>,
    each: &mut dyn FnMut(usize, &Value),
) {
    let (items, raws): (&[Value], Option<Vec<&RawValue>>) = match value {
        Value::Array(items) => (items, serde_json::from_str(raw).ok()),
        v => match envelope_events(v, type_field) {
            Some(events) => (
                events,
                serde_json::from_str::<Envelope<'_>>(raw)
                    .ok()
                    .map(|e| e.events),
            ),
            None => return each(lines.line_of(at), v),
        },
    };
    match raws.filter(|r| r.len() == items.len()) {
        Some(raws) => {
            for (item, item_raw) in items.iter().zip(raws) {
                let text = item_raw.get();
                let offset = at + (text.as_ptr() as usize).saturating_sub(raw.as_ptr() as usize);
                expand_at(item, text, offset, type_field, lines, each);
            }
        }
        // Not reached for text that parsed; keeps every event, at the container's line.
        None => {
            let line = lines.line_of(at);
            for item in items {
                expand_flat(item, line, type_field, each);
            }
        }
    }
}

/// The events of a batch envelope: an object without the type field whose `events` is an
/// array.
fn envelope_events<'v>(value: &'v Value, type_field: &str) -> Option<&'v [Value]> {
    let map = value.as_object()?;
    if map.contains_key(type_field) {
        return None;
    }
    map.get("events")?.as_array().map(Vec::as_slice)
}

fn skip_whitespace(text: &str, from: usize) -> usize {
    let rest = text.get(from..).unwrap_or("");
    from + (rest.len() - rest.trim_start_matches([' ', '\t', '\n', '\r']).len())
}

/// serde_json's message without " at line L column C".
fn message(e: &serde_json::Error) -> String {
    let full = e.to_string();
    match full.rfind(" at line ") {
        Some(i) => full[..i].to_string(),
        None => full,
    }
}

/// Line numbers of byte offsets, counted incrementally (offsets mostly grow).
struct Lines<'a> {
    text: &'a str,
    offset: usize,
    line: usize,
    line_start: usize,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        Lines {
            text,
            offset: 0,
            line: 1,
            line_start: 0,
        }
    }

    fn line_of(&mut self, offset: usize) -> usize {
        if offset < self.offset {
            *self = Lines::new(self.text);
        }
        let between = self.text.as_bytes().get(self.offset..offset).unwrap_or(&[]);
        if let Some(last) = between.iter().rposition(|&b| b == b'\n') {
            self.line += between.iter().filter(|&&b| b == b'\n').count();
            self.line_start = self.offset + last + 1;
        }
        self.offset = offset;
        self.line
    }

    /// 1-based line and (byte) column of an offset.
    fn position(&mut self, offset: usize) -> (usize, usize) {
        let line = self.line_of(offset);
        (line, offset.saturating_sub(self.line_start) + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(text: &str, format: Format) -> (Vec<(usize, String)>, Vec<SyntaxError>) {
        let mut out = Vec::new();
        let errors = for_each_event(text, format, "eid", |line, v| {
            out.push((
                line,
                v.get("eid")
                    .and_then(Value::as_str)
                    .unwrap_or("-")
                    .to_string(),
            ));
        });
        (out, errors)
    }

    fn found(pairs: &[(usize, &str)]) -> Vec<(usize, String)> {
        pairs.iter().map(|(l, s)| (*l, s.to_string())).collect()
    }

    #[test]
    fn array_elements_start_on_their_own_lines() {
        let text = "[\n  {\"eid\": \"A\"},\n\n  {\"eid\":\n    \"B\"}, {\"eid\": \"C\"}\n]\n";
        let (evs, errs) = events(text, Format::Json);
        assert_eq!(evs, found(&[(2, "A"), (4, "B"), (5, "C")]));
        assert!(errs.is_empty());
    }

    #[test]
    fn envelope_events_and_concatenated_values() {
        let text = "{\"id\": \"x\", \"params\": {\"msgid\": \"m\"},\n \"events\": [\n {\"eid\": \"A\"},\n {\"eid\": \"B\"}]}\n{\"eid\": \"C\", \"events\": []}\n";
        let (evs, errs) = events(text, Format::Json);
        assert_eq!(evs, found(&[(3, "A"), (4, "B"), (5, "C")]));
        assert!(errs.is_empty());
    }

    #[test]
    fn ndjson_lines_keep_going_after_a_broken_line() {
        let text = "{\"eid\": \"A\"}\r\n\n{\"eid\": \nnot json\n[{\"eid\": \"B\"}, {\"events\": [{\"eid\": \"C\"}]}]\n";
        let (evs, errs) = events(text, Format::Ndjson);
        assert_eq!(evs, found(&[(1, "A"), (5, "B"), (5, "C")]));
        let places: Vec<(usize, usize)> = errs.iter().map(|e| (e.line, e.column)).collect();
        assert_eq!(places, vec![(3, 8), (4, 2)]);
        assert_eq!(errs[1].message, "expected ident");
    }

    #[test]
    fn json_syntax_error_has_its_place_and_earlier_events_count() {
        let (evs, errs) = events("{\"eid\": \"A\"}\n{\"eid\": \"B\",\n  ]", Format::Json);
        assert_eq!(evs, found(&[(1, "A")]));
        assert_eq!(
            errs,
            vec![SyntaxError {
                line: 3,
                column: 3,
                message: "key must be a string".into()
            }]
        );
        let (evs, errs) = events("", Format::Json);
        assert!(evs.is_empty() && errs.is_empty());
        let (evs, errs) = events("\u{feff}{\"eid\": \"A\"}", Format::Json);
        assert_eq!((evs, errs.len()), (found(&[(1, "A")]), 0));
    }

    #[test]
    fn array_elements_are_parsed_one_by_one_and_placed() {
        // `1e400` is a JSON number: kept as written (pipec reads numbers exactly), not
        // refused as out of the range of a float.
        let text = "[\n {\"eid\": \"A\"},\n [{\"eid\": \"B\"},\n  {\"eid\": \"C\", \"n\": 1e400}],\n {\"eid\": \"D\"}\n]\n  [1,\n 2,,]";
        let (evs, errs) = events(text, Format::Json);
        assert_eq!(evs, found(&[(2, "A"), (3, "B"), (4, "C"), (5, "D")]));
        let places: Vec<(usize, usize, &str)> = errs
            .iter()
            .map(|e| (e.line, e.column, e.message.as_str()))
            .collect();
        assert_eq!(places, vec![(8, 4, "expected value")]);
    }

    #[test]
    fn formats_from_extensions() {
        assert_eq!(Format::of(Path::new("a/b.ndjson")), Format::Ndjson);
        assert_eq!(Format::of(Path::new("b.JSONL")), Format::Ndjson);
        assert_eq!(Format::of(Path::new("b.json")), Format::Json);
        assert_eq!(Format::of(Path::new("b.log")), Format::Json);
    }
}
