//! Rows between the two shapes the batch stage holds them in: Arrow record batches (what
//! the query engine gives) and JSON objects (what events are, and what a topic carries).

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::json::reader::{ReaderBuilder, infer_json_schema_from_iterator};
use datafusion::arrow::json::writer::LineDelimitedWriter;
use datafusion::arrow::record_batch::RecordBatch;
use pipec_compiler::plain::Plain;
use serde_json::Value;

use crate::RuntimeError;

fn internal(what: &str, e: &dyn std::fmt::Display) -> RuntimeError {
    RuntimeError::Internal(format!("{what}: {e}"))
}

/// JSON objects as one batch, of `schema` or of the schema inferred from them.
pub fn json_to_batch(
    rows: &[Value],
    schema: Option<SchemaRef>,
) -> Result<RecordBatch, RuntimeError> {
    let schema = match schema {
        Some(s) => s,
        None => Arc::new(
            infer_json_schema_from_iterator(rows.iter().map(|v| Ok(v.clone()))).map_err(|e| {
                RuntimeError::Config {
                    what: format!("the rows have no common columns: {e}"),
                }
            })?,
        ),
    };
    let mut decoder = ReaderBuilder::new(Arc::clone(&schema))
        .with_batch_size(rows.len().max(1))
        .build_decoder()
        .map_err(|e| internal("a JSON decoder", &e))?;
    // Plain numbers: serde_json keeps each number's text (see `pipec_compiler::plain`).
    let plain: Vec<Plain<'_>> = rows.iter().map(Plain).collect();
    decoder
        .serialize(&plain)
        .map_err(|e| RuntimeError::Config {
            what: format!("rows do not fit their columns: {e}"),
        })?;
    Ok(decoder
        .flush()
        .map_err(|e| internal("decoding rows", &e))?
        .unwrap_or_else(|| RecordBatch::new_empty(schema)))
}

/// Each row of the batches as a JSON object, serialized (nulls left out, as Arrow's
/// JSON writer does).
pub fn batches_to_lines(batches: &[RecordBatch]) -> Result<Vec<Vec<u8>>, RuntimeError> {
    let mut buf = Vec::new();
    {
        let mut w = LineDelimitedWriter::new(&mut buf);
        for b in batches {
            w.write(b).map_err(|e| internal("rows as JSON", &e))?;
        }
        w.finish().map_err(|e| internal("rows as JSON", &e))?;
    }
    Ok(super::events::lines(&buf))
}

/// Each row of the batches as a JSON value.
pub fn batches_to_json(batches: &[RecordBatch]) -> Result<Vec<Value>, RuntimeError> {
    batches_to_lines(batches)?
        .iter()
        .map(|l| serde_json::from_slice(l).map_err(|e| internal("rows as JSON", &e)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rows_round_trip() {
        let rows = vec![json!({"a": 1, "b": "x"}), json!({"a": 2})];
        let b = json_to_batch(&rows, None).expect("batch");
        assert_eq!(b.num_rows(), 2);
        assert_eq!(batches_to_json(&[b]).expect("json"), rows);
        let empty = json_to_batch(
            &[],
            Some(Arc::new(datafusion::arrow::datatypes::Schema::empty())),
        )
        .expect("empty");
        assert_eq!(empty.num_rows(), 0);
    }
}
