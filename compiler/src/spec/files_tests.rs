//! Specs that name files they must not read, and includes that multiply.

use std::path::{Path, PathBuf};

use super::*;
use crate::diagnostics::{Diagnostics, RenderOptions, render_text};
use crate::spec::load::{LoadOptions, Loaded, load};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pipec-files-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn no_env(_: &str) -> Option<String> {
    None
}

fn load_spec(path: &Path) -> (Loaded, Diagnostics) {
    let mut diags = Diagnostics::default();
    let opts = LoadOptions {
        env: None,
        env_lookup: &no_env,
    };
    let loaded = load(path, &opts, &mut diags);
    (loaded, diags)
}

fn rendered(loaded: &Loaded, diags: &Diagnostics) -> String {
    render_text(
        &diags.sorted(),
        &loaded.sources,
        RenderOptions {
            color: false,
            width: 100,
        },
    )
}

#[test]
fn includes_outside_the_root_or_not_regular_are_refused_without_their_content() {
    let dir = temp_dir("include");
    let secret = temp_dir("include-outside").join("secret.yaml");
    std::fs::write(&secret, "TOP_SECRET_VALUE: [\n").expect("write");
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("/dev/zero", dir.join("zero.yaml")).expect("symlink");
        std::os::unix::fs::symlink(&secret, dir.join("link.yaml")).expect("symlink");
        let fifo = std::process::Command::new("mkfifo")
            .arg(dir.join("fifo.yaml"))
            .status();
        assert!(fifo.is_ok_and(|s| s.success()), "mkfifo");
    }
    let outside = secret.display().to_string();
    let spec = format!(
        "pipeline: p\ninclude:\n  - /proc/self/environ\n  - ../../../../../../etc/passwd\n  - {outside}\n  - zero.yaml\n  - link.yaml\n  - fifo.yaml\n"
    );
    std::fs::write(dir.join("pipeline.yaml"), spec).expect("write");
    let started = std::time::Instant::now();
    let (loaded, diags) = load_spec(&dir.join("pipeline.yaml"));
    assert!(
        started.elapsed().as_secs() < 10,
        "a FIFO or /dev/zero was read"
    );
    let refused: Vec<&str> = diags
        .iter()
        .filter(|d| d.code == "PC0013")
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(refused.len(), 6, "{}", rendered(&loaded, &diags));
    assert!(
        refused
            .iter()
            .any(|m| m.contains("outside the spec's root"))
    );
    #[cfg(unix)]
    assert!(refused.iter().any(|m| m.contains("a FIFO")), "{refused:?}");
    assert_eq!(loaded.files.len(), 1);
    let text = rendered(&loaded, &diags);
    assert!(!text.contains("TOP_SECRET_VALUE"), "{text}");
    assert!(!text.contains("root:x:0"), "{text}");
    assert!(!text.contains("PATH="), "{text}");
}

#[test]
fn the_guard_admits_regular_files_under_the_root_only() {
    let dir = temp_dir("guard");
    std::fs::create_dir_all(dir.join("sql")).expect("dir");
    std::fs::write(dir.join("sql/a.sql"), "SELECT 1").expect("write");
    let root = SpecRoot::new(&dir);
    assert_eq!(
        root.read_text(&dir.join("sql/../sql/a.sql")).as_deref(),
        Ok("SELECT 1")
    );
    assert!(matches!(
        root.read_text(&dir.join("../../../../etc/passwd")),
        Err(Refused::Outside(_))
    ));
    assert!(matches!(
        root.read_text(Path::new("/etc/passwd")),
        Err(Refused::Outside(_))
    ));
    assert!(matches!(
        root.read_text(&dir.join("sql")),
        Err(Refused::NotRegular("a directory"))
    ));
    assert!(
        root.read_text(&dir.join("nope.sql"))
            .is_err_and(|e| e.is_missing())
    );
    let big = vec![b'x'; usize::try_from(MAX_FILE_BYTES).unwrap_or(0) + 1];
    std::fs::write(dir.join("big.sql"), big).expect("write");
    assert!(matches!(
        root.read_text(&dir.join("big.sql")),
        Err(Refused::TooLarge(_))
    ));
    // An empty root (none found) refuses everything.
    assert!(
        SpecRoot::default()
            .read_text(&dir.join("sql/a.sql"))
            .is_err()
    );
}

#[test]
fn sql_and_schema_paths_outside_the_root_are_refused() {
    let dir = temp_dir("sql");
    let outside = temp_dir("sql-outside");
    std::fs::write(outside.join("x.sql"), "SELECT 'TOP_SECRET_SQL'").expect("write");
    std::fs::write(
        outside.join("start.json"),
        "{\"title\": \"TOP_SECRET_SCHEMA\"}",
    )
    .expect("write");
    let spec = format!(
        "pipeline: p\nevents:\n  type_field: eid\n  types: {{ START: {{ schema: {o}/start.json }} }}\n\
         reports:\n  r: {{ sql: {o}/x.sql, schedule: \"0 1 * * *\", inputs: {{}}, outputs: {{}} }}\n",
        o = outside.display()
    );
    std::fs::write(dir.join("pipeline.yaml"), spec).expect("write");
    let result = crate::check(
        &dir,
        &crate::CheckOptions {
            env: None,
            env_lookup: &no_env,
        },
    );
    let text = render_text(
        &result.diagnostics.sorted(),
        &result.sources,
        RenderOptions {
            color: false,
            width: 100,
        },
    );
    assert!(
        result
            .diagnostics
            .iter()
            .any(|d| d.code == "PC0013" && d.message.contains("x.sql")),
        "{text}"
    );
    assert!(text.contains("start.json"), "{text}");
    assert!(text.contains("outside the spec's root"), "{text}");
    assert!(!text.contains("TOP_SECRET"), "{text}");
    assert!(result.sql.is_empty());
}

#[test]
fn a_diamond_of_includes_reads_each_file_once() {
    let dir = temp_dir("diamond");
    let n = 22;
    for i in 0..n {
        let mut text = if i == 0 {
            "pipeline: p\n".to_string()
        } else {
            format!("topics:\n  t{i}: {{ name: t{i}, external: true }}\n")
        };
        if i + 1 < n {
            let next = format!("f{}.yaml", i + 1);
            text.push_str(&format!("include: [{next}, ./{next}]\n"));
        }
        let name = if i == 0 {
            "pipeline.yaml".to_string()
        } else {
            format!("f{i}.yaml")
        };
        std::fs::write(dir.join(name), text).expect("write");
    }
    let started = std::time::Instant::now();
    let (loaded, diags) = load_spec(&dir);
    assert!(started.elapsed().as_secs() < 10);
    assert_eq!(loaded.files.len(), n);
    assert!(diags.is_empty(), "{}", rendered(&loaded, &diags));
}

#[test]
fn a_schema_that_only_refers_to_itself_is_reported() {
    let dir = temp_dir("selfref");
    std::fs::write(dir.join("start.json"), r##"{"$ref": "#"}"##).expect("write");
    std::fs::write(
        dir.join("log.json"),
        r##"{"definitions": {"a": {"$ref": "#/definitions/b"}, "b": {"$ref": "#/definitions/a"}}, "$ref": "#/definitions/a"}"##,
    )
    .expect("write");
    std::fs::write(
        dir.join("ok.json"),
        r##"{"definitions": {"a": {"type": "object"}}, "$ref": "#/definitions/a"}"##,
    )
    .expect("write");
    let spec = "pipeline: p\nevents:\n  type_field: eid\n  schemas: .\n  types: [START, LOG, OK]\n";
    std::fs::write(dir.join("pipeline.yaml"), spec).expect("write");
    let result = crate::check(
        &dir,
        &crate::CheckOptions {
            env: None,
            env_lookup: &no_env,
        },
    );
    let mut found: Vec<&str> = result
        .diagnostics
        .iter()
        .filter(|d| d.code == "PC0206")
        .map(|d| d.message.as_str())
        .collect();
    found.sort_unstable();
    assert_eq!(
        found,
        [
            "the schema of event type `LOG` refers only to itself",
            "the schema of event type `START` refers only to itself"
        ]
    );
}
