//! The event in memory. An event is kept as the bytes it came in ([`raw`]: the canonical
//! check, reading in place, splicing top-level members) until a step needs it as a
//! `serde_json::Value` tree; fields set on it meanwhile are edits on its tape ([`doc`]).
//! Also here: the fast record parser ([`parse`]), field paths ([`fields`]), conditions read
//! in place ([`cond`]) and the event schemas ([`schema`]). What the steps do with events is
//! in [`crate::steps`].

pub(crate) mod cond;
pub(crate) mod doc;
pub(crate) mod fields;
pub(crate) mod parse;
pub(crate) mod raw;
#[cfg(test)]
mod raw_reference;
pub mod schema;
#[cfg(test)]
mod tests_canonical;

use serde_json::Value;

use crate::RuntimeError;

/// An event on its way through the steps, with the position of what it came from.
#[derive(Debug)]
pub(crate) struct Ev {
    /// The event as a tree; `Value::Null` while `raw` holds it.
    pub(crate) value: Value,
    /// The event as canonical JSON bytes (see [`raw`]), kept until a step needs the tree:
    /// steps that only read fields, split lists, set top-level fields or send events work
    /// on the bytes, and an event sent unchanged is sent as it came.
    pub(crate) raw: Option<Raw>,
    /// Where the members of the record kept as bytes are, as checking it found them.
    pub(crate) shape: Option<Box<raw::Shape>>,
    /// The tape of the bytes and the fields set on the event since (then the bytes are
    /// not the event's: the steps that read bytes get them with the edits spliced in,
    /// see [`Ev::flush`]).
    pub(crate) doc: Option<Box<doc::Doc>>,
    /// Index of the input record.
    pub(crate) input: u32,
    /// Index of the event in its record's batch.
    pub(crate) sub: u32,
}

/// Where the bytes of an event kept as bytes are.
#[derive(Debug)]
pub(crate) enum Raw {
    /// The whole input record the event came from.
    Record,
    /// Bytes of its own.
    Owned(Vec<u8>),
}

impl Ev {
    /// An event as a tree.
    pub(crate) fn tree(value: Value, input: u32, sub: u32) -> Ev {
        Ev {
            value,
            raw: None,
            shape: None,
            doc: None,
            input,
            sub,
        }
    }

    /// The event's canonical bytes, while it has them (and no field was set on its
    /// [`doc::Doc`] since).
    pub(crate) fn raw_bytes<'b>(&'b self, input: &'b [&'b [u8]]) -> Option<&'b [u8]> {
        match self.doc.as_deref() {
            Some(d) if d.edited() => d.written(),
            _ => self.bytes_read(input),
        }
    }

    /// The bytes the event was read from, while it is kept as bytes.
    pub(crate) fn bytes_read<'b>(&'b self, input: &'b [&'b [u8]]) -> Option<&'b [u8]> {
        match self.raw.as_ref()? {
            Raw::Record => input.get(self.input as usize).copied(),
            Raw::Owned(b) => Some(b),
        }
    }

    /// The event's bytes and its doc (read from them first if need be), while it is kept
    /// as bytes.
    pub(crate) fn doc_parts<'b>(
        &'b mut self,
        input: &'b [&'b [u8]],
    ) -> Option<(&'b [u8], &'b mut doc::Doc)> {
        if self.doc.is_none() {
            let d = doc::Doc::read(self.bytes_read(input)?)?;
            self.doc = Some(Box::new(d));
            self.shape = None;
        }
        let b = match self.raw.as_ref()? {
            Raw::Record => input.get(self.input as usize).copied()?,
            Raw::Owned(b) => b.as_slice(),
        };
        Some((b, self.doc.as_deref_mut()?))
    }

    /// Splices the fields set on the doc into the bytes, for the steps that read bytes
    /// (the doc keeps the bytes read and its edits, for the next step that sets fields).
    pub(crate) fn flush(&mut self, input: &[&[u8]]) {
        let b = match self.raw.as_ref() {
            Some(Raw::Record) => input.get(self.input as usize).copied(),
            Some(Raw::Owned(b)) => Some(b.as_slice()),
            None => None,
        };
        if let (Some(b), Some(d)) = (b, self.doc.as_deref_mut()) {
            d.flush(b);
        }
    }

    /// Makes the bytes with the edits spliced in the event's bytes, without a doc.
    pub(crate) fn settle(&mut self, input: &[&[u8]]) {
        if !self.doc.as_ref().is_some_and(|d| d.edited()) {
            return;
        }
        self.flush(input);
        let written = self
            .doc
            .as_ref()
            .and_then(|d| d.written())
            .map(<[u8]>::to_vec);
        if let Some(b) = written {
            self.doc = None;
            self.raw = Some(Raw::Owned(b));
            self.shape = None;
        }
    }

    /// The event's JSON bytes, to send.
    pub(crate) fn to_bytes(&self, input: &[&[u8]]) -> Result<Vec<u8>, RuntimeError> {
        match (self.bytes_read(input), self.doc.as_deref()) {
            (Some(b), Some(d)) if d.edited() => {
                Ok(d.written().map_or_else(|| d.write(b), <[u8]>::to_vec))
            }
            (Some(b), _) => Ok(b.to_vec()),
            (None, _) => serialize(&self.value),
        }
    }

    /// [`Ev::to_bytes`] for an event that goes no further: the bytes with the fields set
    /// spliced in, when written, are moved out rather than copied.
    pub(crate) fn take_bytes(&mut self, input: &[&[u8]]) -> Result<Vec<u8>, RuntimeError> {
        if let Some(d) = self.doc.as_deref_mut()
            && d.edited()
            && let Some(w) = d.take_written()
        {
            return Ok(w);
        }
        self.to_bytes(input)
    }

    /// Parses the bytes into the tree, if the event is still bytes (with the fields set on
    /// its doc set on the tree).
    pub(crate) fn materialize(&mut self, input: &[&[u8]]) -> Result<(), RuntimeError> {
        let Some(raw) = self.raw.take() else {
            return Ok(());
        };
        let bytes = match &raw {
            Raw::Record => input.get(self.input as usize).copied().unwrap_or_default(),
            Raw::Owned(b) => b.as_slice(),
        };
        self.value = parse_record(bytes)
            .map_err(|e| RuntimeError::Internal(format!("re-reading an event: {e}")))?;
        self.shape = None;
        if let Some(d) = self.doc.take() {
            d.replay(&mut self.value);
        }
        Ok(())
    }
}

/// Parses a record. Checking UTF-8 once over the whole record and parsing from `&str` is
/// cheaper than serde_json's check of each string; records that are not UTF-8 go through
/// `from_slice`, for the same error. Common documents are read by [`parse`], the rest (and
/// what is not JSON) by serde_json.
pub(crate) fn parse_record(raw: &[u8]) -> Result<Value, serde_json::Error> {
    match std::str::from_utf8(raw) {
        Ok(text) => match parse::parse(text) {
            Some(v) => Ok(v),
            None => serde_json::from_str(text),
        },
        Err(_) => serde_json::from_slice(raw),
    }
}

/// The event's JSON bytes.
pub(crate) fn serialize(v: &Value) -> Result<Vec<u8>, RuntimeError> {
    let mut out = Vec::with_capacity(1024);
    serde_json::to_writer(&mut out, v)
        .map_err(|e| RuntimeError::Internal(format!("serializing an event: {e}")))?;
    Ok(out)
}
