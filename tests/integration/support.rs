//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};

use pipec_compiler::diagnostics::{RenderOptions, render_text};
use pipec_compiler::{CheckOptions, CheckResult};

/// Environment variables the tests see: none, so results do not depend on the machine.
pub fn no_env(_: &str) -> Option<String> {
    None
}

/// Checks a spec path with a fixed environment.
pub fn check(path: &Path) -> CheckResult {
    pipec_compiler::check(
        path,
        &CheckOptions {
            env: None,
            env_lookup: &no_env,
        },
    )
}

/// Renders a result the way `pipec check` prints it, without colour.
pub fn render(result: &CheckResult) -> String {
    let diags = result.diagnostics.sorted();
    render_text(
        &diags,
        &result.sources,
        RenderOptions {
            color: false,
            width: 100,
        },
    )
}

/// `(code, line, column)` of every diagnostic, by position.
pub fn positions(result: &CheckResult) -> Vec<(String, usize, usize)> {
    result
        .diagnostics
        .sorted()
        .iter()
        .map(|d| {
            let (line, col) = d
                .primary
                .as_ref()
                .and_then(|p| {
                    result
                        .sources
                        .get(p.span.file)
                        .map(|f| f.line_col(p.span.start))
                })
                .unwrap_or((0, 0));
            (d.code.to_string(), line, col)
        })
        .collect()
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh scratch directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pipec-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}
