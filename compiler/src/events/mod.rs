//! Validating telemetry events against the schemas of a spec (`pipec validate-events`):
//! [`EventSchemas`] maps each declared event type to its compiled validator, and checks
//! one event; [`input`] finds the events of a JSON or NDJSON file with their lines;
//! [`Report`] gathers the verdicts of many files; [`render`] prints them.
//!
//! The rules are those of Sunbird's pipeline-preprocessor: an event's type field
//! (`events.type_field`, default `eid`) names its type; the event is valid when that type
//! has a schema and the event matches it. An event without the field, with a type that is
//! not declared, or with a type declared without a schema is invalid.

pub mod input;
pub mod render;
mod report;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_hostile;

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

pub use report::{
    EventFiles, EventResult, FileError, Finding, Report, SUMMARY_NO_TYPE, TypeCounts, collect_files,
};

/// The compiled schema of every declared event type, looked up by the event's type field.
#[derive(Debug, Clone)]
pub struct EventSchemas {
    type_field: String,
    types: HashMap<String, Option<Arc<jsonschema::Validator>>>,
}

impl Default for EventSchemas {
    fn default() -> Self {
        EventSchemas {
            type_field: "eid".to_string(),
            types: HashMap::new(),
        }
    }
}

/// One reason an event is invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventError {
    /// JSON pointer of the failing value in the event (`""` for the event itself).
    pub pointer: String,
    /// The schema keyword that failed (`required`, `type`, `enum`, ...), or `type_field`
    /// when the event has no usable type, or `schema` when its type has no schema.
    pub keyword: String,
    /// What is wrong, as a short phrase.
    pub message: String,
}

/// Longest rendering of a value quoted in a message.
const MAX_QUOTED: usize = 40;

impl EventSchemas {
    /// Schemas for events whose type is in `type_field`; `None` for a type declared
    /// without a schema.
    pub fn new(
        type_field: impl Into<String>,
        types: impl IntoIterator<Item = (String, Option<Arc<jsonschema::Validator>>)>,
    ) -> Self {
        EventSchemas {
            type_field: type_field.into(),
            types: types.into_iter().collect(),
        }
    }

    /// The field naming an event's type.
    pub fn type_field(&self) -> &str {
        &self.type_field
    }

    /// The declared type names, sorted.
    pub fn type_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.types.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    /// The validator of a type, when it is declared with a schema.
    pub fn validator(&self, type_name: &str) -> Option<&jsonschema::Validator> {
        self.types.get(type_name)?.as_deref()
    }

    /// The type an event names, when its type field is a string.
    pub fn event_type<'e>(&self, event: &'e Value) -> Option<&'e str> {
        event.get(&self.type_field)?.as_str()
    }

    /// Every reason `event` is invalid; empty when it is valid.
    pub fn check(&self, event: &Value) -> Vec<EventError> {
        let field = &self.type_field;
        let Value::Object(map) = event else {
            return vec![EventError {
                pointer: String::new(),
                keyword: "type".into(),
                message: format!("an event is a JSON object, not {}", kind_of(event)),
            }];
        };
        let type_name = match map.get(field) {
            None => {
                return vec![EventError {
                    pointer: String::new(),
                    keyword: "type_field".into(),
                    message: format!("no `{field}` field"),
                }];
            }
            Some(Value::String(s)) => s.as_str(),
            Some(other) => {
                return vec![EventError {
                    pointer: format!("/{}", escape_pointer(field)),
                    keyword: "type_field".into(),
                    message: format!("`{field}` is {}, not a string", kind_of(other)),
                }];
            }
        };
        let Some(validator) = self.validator(type_name) else {
            return vec![EventError {
                pointer: format!("/{}", escape_pointer(field)),
                keyword: "schema".into(),
                message: format!("no schema for event type `{type_name}`"),
            }];
        };
        if validator.is_valid(event) {
            return Vec::new();
        }
        validator
            .iter_errors(event)
            .map(|e| EventError {
                pointer: e.instance_path().as_str().to_string(),
                keyword: e.kind().keyword().to_string(),
                message: e.masked_with(brief(e.instance())).to_string(),
            })
            .collect()
    }
}

/// "a number", "an array", ... for messages.
fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A value as JSON, shortened to about [`MAX_QUOTED`] characters (without serializing
/// more than that of a large value).
fn brief(v: &Value) -> String {
    let mut out = Limited {
        buf: Vec::new(),
        limit: MAX_QUOTED * 4 + 4,
    };
    let _ = serde_json::to_writer(&mut out, v);
    let full = String::from_utf8_lossy(&out.buf);
    if full.chars().count() <= MAX_QUOTED {
        return full.into_owned();
    }
    let mut short: String = full.chars().take(MAX_QUOTED - 1).collect();
    short.push('…');
    match v {
        Value::String(_) => short.push('"'),
        Value::Array(_) => short.push(']'),
        Value::Object(_) => short.push('}'),
        _ => {}
    }
    short
}

/// A writer that takes the first `limit` bytes and then refuses more.
struct Limited {
    buf: Vec<u8>,
    limit: usize,
}

impl std::io::Write for Limited {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let room = self.limit.saturating_sub(self.buf.len());
        if room == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        let n = room.min(data.len());
        self.buf.extend_from_slice(&data[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Escapes a key for a JSON pointer (`~` → `~0`, `/` → `~1`).
fn escape_pointer(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for c in key.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
    out
}
