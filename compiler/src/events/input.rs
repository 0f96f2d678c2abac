//! Finding the events of a file, each with the line where it starts. A file holds JSON
//! values one after another (usually one): an event object, an array of events, or a batch
//! envelope `{"params": {...}, "events": [...]}`. NDJSON files (`.ndjson`, `.jsonl`) are
//! read line by line, so that a broken line is reported and the next lines still read;
//! each line may again hold any of these.
//!
//! Each value is parsed once into a `serde_json::Value`; only arrays and envelopes are
//! scanned a second time (as `RawValue`s, without building values) to find where their
//! elements start.

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
    let mut errors = Vec::new();
    for (i, line) in text.split('\n').enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(line) {
            Ok(value) => expand_flat(&value, i + 1, type_field, each),
            Err(e) => errors.push(SyntaxError {
                line: i + 1,
                column: e.column().max(1),
                message: message(&e),
            }),
        }
    }
    errors
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
    let mut lines = Lines::new(text);
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    loop {
        let start = skip_whitespace(text, stream.byte_offset());
        match stream.next() {
            None => return Vec::new(),
            Some(Ok(value)) => {
                let raw = text.get(start..stream.byte_offset()).unwrap_or("");
                expand_at(&value, raw, start, type_field, &mut lines, each);
            }
            Some(Err(e)) => {
                return vec![SyntaxError {
                    line: e.line().max(1),
                    column: e.column().max(1),
                    message: message(&e),
                }];
            }
        }
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
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        Lines {
            text,
            offset: 0,
            line: 1,
        }
    }

    fn line_of(&mut self, offset: usize) -> usize {
        if offset < self.offset {
            self.offset = 0;
            self.line = 1;
        }
        let between = self.text.as_bytes().get(self.offset..offset).unwrap_or(&[]);
        self.line += between.iter().filter(|&&b| b == b'\n').count();
        self.offset = offset;
        self.line
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
    fn formats_from_extensions() {
        assert_eq!(Format::of(Path::new("a/b.ndjson")), Format::Ndjson);
        assert_eq!(Format::of(Path::new("b.JSONL")), Format::Ndjson);
        assert_eq!(Format::of(Path::new("b.json")), Format::Json);
        assert_eq!(Format::of(Path::new("b.log")), Format::Json);
    }
}
