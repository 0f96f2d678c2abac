//! Fuzz target: `pipec check` on arbitrary bytes as the root spec file of the quickstart
//! (so includes and schemas of the real example are in play). It must never panic.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use pipec_compiler::diagnostics::{RenderOptions, render_text};
use pipec_compiler::{CheckOptions, check_text};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/quickstart/pipeline.yaml"));
    let result = check_text(path, &text, &CheckOptions { env: None, env_lookup: &|_| None });
    let diags = result.diagnostics.sorted();
    let _ = render_text(&diags, &result.sources, RenderOptions::default());
});
