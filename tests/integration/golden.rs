//! Golden diagnostics: every case under `tests/golden/check/<case>/` is a spec with one
//! problem (or a few); its header lists the expected `code line:column` of each, and
//! `expected.txt` holds the rendered output. `PIPEC_BLESS=1 cargo test --test integration golden`
//! rewrites the snapshots; without it a stale or orphaned snapshot fails the test.

use std::fs;
use std::path::Path;

use crate::support::{check, positions, render, root};

/// Parses `# expect: PC0102 12:9` header lines.
fn expected_positions(spec: &str) -> Vec<(String, usize, usize)> {
    let mut v: Vec<(String, usize, usize)> = spec
        .lines()
        .filter_map(|l| l.strip_prefix("# expect: "))
        .filter_map(|rest| {
            let (code, pos) = rest.trim().split_once(' ')?;
            let (line, col) = pos.trim().split_once(':')?;
            Some((code.to_string(), line.parse().ok()?, col.parse().ok()?))
        })
        .collect();
    v.sort_by_key(|(_, l, c)| (*l, *c));
    v
}

fn cases(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = fs::read_dir(dir)
        .expect("golden dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    v.sort();
    v
}

#[test]
fn invalid_specs_report_exact_places_and_match_snapshots() {
    let bless = std::env::var_os("PIPEC_BLESS").is_some();
    let rel_dir = Path::new("tests/golden/check");
    let dir = root().join(rel_dir);
    let mut failures = Vec::new();
    let all = cases(&dir);
    assert!(
        all.len() >= 40,
        "expected at least 40 golden cases, found {}",
        all.len()
    );
    for case in all {
        let name = case
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let spec_path = case.join("pipeline.yaml");
        let snapshot = case.join("expected.txt");
        let Ok(spec) = fs::read_to_string(&spec_path) else {
            failures.push(format!("{name}: orphaned case (no pipeline.yaml)"));
            continue;
        };
        let result = check(&rel_dir.join(&name));
        if !result.diagnostics.has_errors() && !spec.contains("# warnings-only") {
            failures.push(format!("{name}: expected errors, found none"));
        }
        let want = expected_positions(&spec);
        let got = positions(&result);
        if want.is_empty() {
            failures.push(format!("{name}: no `# expect:` lines in the header"));
        } else if want != got {
            failures.push(format!(
                "{name}: places differ\n  want {want:?}\n  got  {got:?}"
            ));
        }
        let rendered = render(&result);
        if bless {
            fs::write(&snapshot, &rendered).expect("write snapshot");
        } else {
            match fs::read_to_string(&snapshot) {
                Ok(old) if old == rendered => {}
                Ok(_) => failures.push(format!(
                    "{name}: stale snapshot; run `PIPEC_BLESS=1 cargo test --test integration golden` and review\n{rendered}"
                )),
                Err(_) => failures.push(format!("{name}: no expected.txt; bless it")),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} golden failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn examples_check_clean() {
    let mut checked = 0;
    for dir in cases(&root().join("examples")) {
        if !dir.join("pipeline.yaml").exists() {
            continue;
        }
        let result = check(&dir);
        assert!(
            result.diagnostics.is_empty(),
            "{} has problems:\n{}",
            dir.display(),
            render(&result)
        );
        checked += 1;
    }
    assert!(checked >= 1, "no example was checked");
}
