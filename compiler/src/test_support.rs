//! What the compiler's unit tests share: specs of the repository compiled as `pipec compile`
//! compiles them.

use std::path::Path;

use crate::manifest::Manifest;
use crate::{CheckOptions, compile};

/// The spec in `dir` (relative to the repository's root) compiled for `dev`, with no
/// environment variables; fails the test, listing every diagnostic, when it has errors.
pub(crate) fn compiled_dev(dir: &str) -> Manifest {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(dir);
    let c = compile(
        &root,
        &CheckOptions {
            env: Some("dev".into()),
            env_lookup: &|_| None,
        },
    );
    let problems: Vec<String> = c
        .check
        .diagnostics
        .iter()
        .map(|d| format!("{} {}", d.code, d.message))
        .collect();
    assert!(!c.check.diagnostics.has_errors(), "{dir}: {problems:#?}");
    c.manifest
        .unwrap_or_else(|| panic!("{dir} did not lower: {problems:#?}"))
}
