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

/// Runs the `pipec` binary from the repository root, without colour or `PIPEC_ENV`.
pub fn pipec(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_pipec"))
        .args(args)
        .current_dir(root())
        .env_remove("PIPEC_ENV")
        .env("NO_COLOR", "1")
        .output()
        .expect("run pipec")
}

/// Copies a directory tree.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read dir").flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).expect("copy");
        }
    }
}

/// A copy of `pipelines/igot` in a scratch directory whose topics have one replica each, as the
/// tests' one-node Kafka can hold (it refuses igot's default of 2 with
/// `InvalidReplicationFactor`); everything else is igot's.
pub fn igot_one_replica(name: &str) -> PathBuf {
    let dir = scratch(name);
    copy_dir(&root().join("pipelines/igot"), &dir);
    let yaml = dir.join("pipeline.yaml");
    let text = std::fs::read_to_string(&yaml).expect("igot's pipeline.yaml");
    let default = "topic: { cluster: processing, partitions: 16, replication: 2,";
    assert!(text.contains(default), "igot's topic defaults changed");
    let text = text.replacen(
        default,
        "topic: { cluster: processing, partitions: 16, replication: 1,",
        1,
    );
    std::fs::write(&yaml, text).expect("write pipeline.yaml");
    dir
}

/// The Kafka broker of the tests: `PIPEC_TEST_BROKERS`, else `127.0.0.1:9092` (where
/// `scripts/test` starts Apache Kafka).
pub fn brokers() -> String {
    std::env::var("PIPEC_TEST_BROKERS").unwrap_or_else(|_| "127.0.0.1:9092".to_owned())
}

/// An environment name (`--env`) no earlier run used on the broker, so that a test's topics
/// (`<env>.telemetry.raw`, ...) are its own.
pub fn unique_env(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{tag}{}x{}", std::process::id(), nanos % 1_000_000_000)
}
