//! `pipec-compiler`: spec parsing, the expression language, validation, diagnostics and
//! the manifest. No async, Kafka or DataFusion here, so that checking a spec stays fast.

pub mod expr;
pub mod source;
