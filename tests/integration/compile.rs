//! `pipec compile`: the whole output tree of each case is compared byte for byte with
//! `tests/golden/compile/<case>/` (a missing or extra file fails); compiling is deterministic;
//! the generated Helm values validate against the chart's own `values.schema.json`; and spec
//! or template errors write nothing. After a deliberate change to the templates or the
//! manifest, regenerate and review the golden trees:
//!
//! ```sh
//! PIPEC_BLESS=1 cargo test --test integration compile
//! git diff --stat tests/golden/compile
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use serde_json::Value;
use yaml_rust2::{Yaml, YamlLoader};

use crate::support::{copy_dir, root, scratch};

/// Variables that specs read with `${VAR:-default}`: removed from the child's environment so
/// the output does not depend on the machine.
const SPEC_VARS: &[&str] = &[
    "KAFKA_BROKERS",
    "INGESTION_KAFKA_BROKERS",
    "INGEST_BROKERS",
    "REDIS_URL",
    "REDIS_META_URL",
    "TELEMETRY_DEFAULT_ORG_ID",
    "PIPEC_ENV",
];

/// A golden case: its name (the directory under `tests/golden/compile/`), the spec, the env.
pub struct Case {
    pub name: &'static str,
    pub spec: &'static str,
    pub env: &'static str,
}

pub const CASES: &[Case] = &[
    Case {
        name: "quickstart-dev",
        spec: "examples/quickstart",
        env: "dev",
    },
    Case {
        name: "sunbird-mini-dev",
        spec: "examples/sunbird-mini",
        env: "dev",
    },
    Case {
        name: "igot-dev",
        spec: "pipelines/igot",
        env: "dev",
    },
    Case {
        name: "igot-prod",
        spec: "pipelines/igot",
        env: "prod",
    },
];

/// The golden trees.
fn golden_dir() -> PathBuf {
    root().join("tests/golden/compile")
}

fn case(name: &str) -> &'static Case {
    CASES
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no compile case `{name}`"))
}

/// Runs `pipec` from the repository root without colour and without the variables specs read.
pub fn run(args: &[&str]) -> Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_pipec"));
    cmd.args(args).current_dir(root()).env("NO_COLOR", "1");
    for v in SPEC_VARS {
        cmd.env_remove(v);
    }
    cmd.output().expect("run pipec")
}

fn show(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `pipec compile SPEC --env ENV --out OUT`, which must succeed.
pub fn compile_into(spec: &str, env: &str, out: &Path) {
    let o = run(&[
        "compile",
        spec,
        "--env",
        env,
        "--out",
        out.to_str().expect("utf-8 path"),
    ]);
    assert!(
        o.status.success(),
        "pipec compile {spec} --env {env} failed: {}",
        show(&o)
    );
}

/// The output of a case, compiled once per test process into a scratch directory that no
/// test changes.
pub fn compiled(name: &str) -> &'static Path {
    static DIRS: [OnceLock<PathBuf>; CASES.len()] = [const { OnceLock::new() }; CASES.len()];
    let i = CASES
        .iter()
        .position(|c| c.name == name)
        .unwrap_or_else(|| panic!("no compile case `{name}`"));
    DIRS[i].get_or_init(|| {
        let c = &CASES[i];
        let out = scratch(&format!("compile-{}", c.name));
        compile_into(c.spec, c.env, &out);
        out
    })
}

/// Every file under `dir`, by path relative to it (with `/`), with its bytes.
pub fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                let rel = p
                    .strip_prefix(base)
                    .expect("under base")
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                out.insert(rel, std::fs::read(&p).expect("read file"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Where two versions of a file first differ: the line number and a few lines around it.
fn first_difference(want: &[u8], got: &[u8]) -> String {
    let want = String::from_utf8_lossy(want);
    let got = String::from_utf8_lossy(got);
    let w: Vec<&str> = want.split_inclusive('\n').collect();
    let g: Vec<&str> = got.split_inclusive('\n').collect();
    let i = (0..w.len().max(g.len()))
        .find(|&i| w.get(i) != g.get(i))
        .unwrap_or(0);
    let context = |lines: &[&str]| {
        let from = i.saturating_sub(3);
        let to = (i + 4).min(lines.len());
        if from >= to {
            return "    (end of file)\n".to_string();
        }
        (from..to)
            .map(|k| {
                let mark = if k == i { '>' } else { ' ' };
                format!("  {mark}{:5} | {}", k + 1, lines[k].trim_end_matches('\n'))
            })
            .collect::<Vec<_>>()
            .join("\n")
            + "\n"
    };
    format!(
        "first difference at line {}\n  expected:\n{}  generated:\n{}",
        i + 1,
        context(&w),
        context(&g)
    )
}

/// Differences between an expected and a generated tree, one entry per file.
fn compare(
    want: &BTreeMap<String, Vec<u8>>,
    got: &BTreeMap<String, Vec<u8>>,
    what: &str,
) -> Vec<String> {
    let mut problems = Vec::new();
    for (path, bytes) in want {
        match got.get(path) {
            None => problems.push(format!("{path}: expected, but not in {what}")),
            Some(g) if g != bytes => {
                problems.push(format!("{path}: differs; {}", first_difference(bytes, g)));
            }
            Some(_) => {}
        }
    }
    for path in got.keys().filter(|p| !want.contains_key(*p)) {
        problems.push(format!("{path}: in {what}, but not expected"));
    }
    problems
}

/// Replaces the golden tree of a case with `got`.
fn bless(dir: &Path, got: &BTreeMap<String, Vec<u8>>) {
    if dir.exists() {
        std::fs::remove_dir_all(dir).expect("remove old golden tree");
    }
    for (path, bytes) in got {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, bytes).expect("write golden file");
    }
}

fn check_golden(name: &str) {
    let out = compiled(name);
    let got = tree(out);
    assert!(!got.is_empty(), "{name}: pipec compile wrote nothing");
    let expected_dir = golden_dir().join(name);
    if std::env::var_os("PIPEC_BLESS").is_some() {
        bless(&expected_dir, &got);
    } else {
        let want = tree(&expected_dir);
        let problems = compare(&want, &got, "the generated output");
        assert!(
            problems.is_empty(),
            "{name}: the output of `pipec compile {} --env {}` differs from tests/golden/compile/{name}/ \
             ({} files); if the change is intended, run `PIPEC_BLESS=1 cargo test --test integration compile` \
             and review `git diff tests/golden/compile`\n\n{}",
            case(name).spec,
            case(name).env,
            problems.len(),
            problems.join("\n\n")
        );
    }
    scripts_are_executable(name, out);
}

/// Every `kafka/<cluster>/create-topics.sh` of an output is executable (unix modes).
fn scripts_are_executable(name: &str, out: &Path) {
    let scripts: Vec<PathBuf> = std::fs::read_dir(out.join("kafka"))
        .expect("kafka/ in the output")
        .flatten()
        .map(|e| e.path().join("create-topics.sh"))
        .collect();
    assert!(!scripts.is_empty(), "{name}: no kafka/<cluster>/ directory");
    for s in scripts {
        assert!(s.is_file(), "{name}: {} is missing", s.display());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&s).expect("stat").permissions().mode();
            assert!(
                mode & 0o111 == 0o111,
                "{name}: {} is not executable (mode {mode:o})",
                s.display()
            );
        }
    }
}

#[test]
fn golden_quickstart_dev() {
    check_golden("quickstart-dev");
}

#[test]
fn golden_sunbird_mini_dev() {
    check_golden("sunbird-mini-dev");
}

#[test]
fn golden_igot_dev() {
    check_golden("igot-dev");
}

#[test]
fn golden_igot_prod() {
    check_golden("igot-prod");
}

#[test]
fn golden_no_orphaned_cases() {
    let bless = std::env::var_os("PIPEC_BLESS").is_some();
    let mut orphans = Vec::new();
    for e in std::fs::read_dir(golden_dir())
        .expect("tests/golden/compile")
        .flatten()
    {
        let name = e.file_name().to_string_lossy().into_owned();
        if !CASES.iter().any(|c| c.name == name) {
            if bless && e.path().is_dir() {
                std::fs::remove_dir_all(e.path()).expect("remove orphaned case");
            } else {
                orphans.push(name);
            }
        }
    }
    assert!(
        orphans.is_empty(),
        "tests/golden/compile/ holds entries no case compiles: {orphans:?}"
    );
}

#[test]
fn compiling_twice_gives_identical_trees() {
    let c = case("igot-dev");
    let a = scratch("compile-twice-a");
    let b = scratch("compile-twice-b");
    compile_into(c.spec, c.env, &a);
    compile_into(c.spec, c.env, &b);
    let (ta, tb) = (tree(&a), tree(&b));
    assert!(!ta.is_empty());
    let problems = compare(&ta, &tb, "the second output");
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
    let _ = std::fs::remove_dir_all(&a);
    let _ = std::fs::remove_dir_all(&b);
}

#[test]
fn compiling_again_into_the_same_dir_changes_nothing() {
    let c = case("sunbird-mini-dev");
    let dir = scratch("compile-again");
    compile_into(c.spec, c.env, &dir);
    let first = tree(&dir);
    compile_into(c.spec, c.env, &dir);
    let second = tree(&dir);
    let problems = compare(&first, &second, "the recompiled output");
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A YAML document as JSON: integers, floats, booleans, null, strings, lists and maps (keys
/// as strings).
pub fn yaml_to_json(y: &Yaml) -> Value {
    match y {
        Yaml::Null => Value::Null,
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Integer(i) => Value::from(*i),
        Yaml::Real(s) => s
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| Value::String(s.clone()), Value::Number),
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Array(items) => Value::Array(items.iter().map(yaml_to_json).collect()),
        Yaml::Hash(h) => Value::Object(
            h.iter()
                .map(|(k, v)| {
                    let key = match k {
                        Yaml::String(s) | Yaml::Real(s) => s.clone(),
                        Yaml::Integer(i) => i.to_string(),
                        Yaml::Boolean(b) => b.to_string(),
                        Yaml::Null => "null".to_string(),
                        other => panic!("unsupported YAML key {other:?}"),
                    };
                    (key, yaml_to_json(v))
                })
                .collect(),
        ),
        other => panic!("unsupported YAML value {other:?}"),
    }
}

/// The single document of a YAML file.
pub fn load_yaml(path: &Path) -> Yaml {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut docs = YamlLoader::load_from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not YAML: {e}", path.display()));
    assert_eq!(docs.len(), 1, "{}: expected one document", path.display());
    docs.remove(0)
}

#[test]
fn compile_helm_values_validate_against_the_chart_schema() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for c in CASES {
        let out = compiled(c.name);
        let charts: Vec<PathBuf> = std::fs::read_dir(out.join("helm"))
            .expect("helm/ in the output")
            .flatten()
            .map(|e| e.path())
            .collect();
        assert_eq!(charts.len(), 1, "{}: one chart under helm/", c.name);
        let chart = &charts[0];
        let schema_path = chart.join("values.schema.json");
        let schema: Value = serde_json::from_str(
            &std::fs::read_to_string(&schema_path)
                .unwrap_or_else(|e| panic!("{}: no values.schema.json: {e}", c.name)),
        )
        .expect("values.schema.json is JSON");
        let validator = jsonschema::validator_for(&schema).expect("values.schema.json compiles");
        let values_files: Vec<PathBuf> = std::fs::read_dir(chart)
            .expect("read chart")
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("values-") && n.ends_with(".yaml"))
            })
            .collect();
        assert!(
            chart.join(format!("values-{}.yaml", c.env)).is_file(),
            "{}: no values-{}.yaml",
            c.name,
            c.env
        );
        for f in values_files {
            let values = yaml_to_json(&load_yaml(&f));
            for e in validator.iter_errors(&values) {
                failures.push(format!(
                    "{}: {} at `{}`: {e}",
                    c.name,
                    f.strip_prefix(out).unwrap_or(&f).display(),
                    e.instance_path()
                ));
            }
            checked += 1;
        }
    }
    assert!(checked >= CASES.len());
    assert!(
        failures.is_empty(),
        "{} schema violations:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Whether `dir` is absent or empty.
fn empty_or_absent(dir: &Path) -> bool {
    std::fs::read_dir(dir).map_or(true, |mut rd| rd.next().is_none())
}

#[test]
fn compile_spec_with_errors_writes_nothing() {
    let dir = scratch("compile-broken-spec");
    let spec = dir.join("quickstart");
    copy_dir(&root().join("examples/quickstart"), &spec);
    let file = spec.join("pipeline.yaml");
    let text = std::fs::read_to_string(&file).expect("read spec");
    assert!(
        text.contains("emit: click_counts"),
        "the quickstart changed"
    );
    std::fs::write(
        &file,
        text.replace("emit: click_counts", "emit: click_countz"),
    )
    .expect("write spec");
    let out = dir.join("out");
    let o = run(&[
        "compile",
        spec.to_str().expect("utf-8"),
        "--env",
        "dev",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(
        stderr.contains("PC0102") && stderr.contains("click_countz"),
        "the diagnostic is printed: {}",
        show(&o)
    );
    assert!(
        stderr.contains("nothing was written"),
        "stderr says nothing was written: {}",
        show(&o)
    );
    assert!(
        empty_or_absent(&out),
        "files were written: {:?}",
        tree(&out).keys().collect::<Vec<_>>()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn compile_template_with_an_undefined_variable_names_file_and_line() {
    let dir = scratch("compile-undefined-var");
    let templates = dir.join("templates");
    std::fs::create_dir_all(templates.join("cron")).expect("mkdir");
    let template = templates.join("cron/crontab.j2");
    std::fs::write(&template, "# one\n# two\n{{ nope }}\n").expect("write template");
    let out = dir.join("out");
    let o = run(&[
        "compile",
        "examples/quickstart",
        "--env",
        "dev",
        "--out",
        out.to_str().expect("utf-8"),
        "--templates",
        templates.to_str().expect("utf-8"),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let place = format!("{}:3", template.display());
    assert!(
        stderr.contains(&place),
        "stderr names `{place}`: {}",
        show(&o)
    );
    assert!(
        empty_or_absent(&out),
        "files were written: {:?}",
        tree(&out).keys().collect::<Vec<_>>()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn compile_misspelt_template_name_is_refused_with_a_suggestion() {
    let dir = scratch("compile-misspelt-template");
    let templates = dir.join("templates");
    std::fs::create_dir_all(templates.join("kafka")).expect("mkdir");
    std::fs::write(templates.join("kafka/topic.yaml.j2"), "{{ env }}\n").expect("write");
    let out = dir.join("out");
    let o = run(&[
        "compile",
        "examples/quickstart",
        "--env",
        "dev",
        "--out",
        out.to_str().expect("utf-8"),
        "--templates",
        templates.to_str().expect("utf-8"),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(
        stderr.contains("kafka/topic.yaml.j2") && stderr.contains("`kafka/topics.yaml.j2`"),
        "stderr names the file and suggests kafka/topics.yaml.j2: {}",
        show(&o)
    );
    assert!(empty_or_absent(&out), "files were written");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn compile_template_override_is_used() {
    let dir = scratch("compile-override");
    let templates = dir.join("templates");
    std::fs::create_dir_all(templates.join("cron")).expect("mkdir");
    std::fs::write(
        templates.join("cron/crontab.j2"),
        "# custom crontab of {{ pipeline }} ({{ env }})\n\
         {% for r in reports %}{{ r.schedule }} run {{ r.name }}\n{% endfor %}",
    )
    .expect("write template");
    let out = dir.join("out");
    let o = run(&[
        "compile",
        "examples/quickstart",
        "--env",
        "dev",
        "--out",
        out.to_str().expect("utf-8"),
        "--templates",
        templates.to_str().expect("utf-8"),
    ]);
    assert!(o.status.success(), "{}", show(&o));
    let crontab = std::fs::read_to_string(out.join("cron/crontab")).expect("cron/crontab");
    assert_eq!(
        crontab,
        "# custom crontab of quickstart (dev)\n30 5 * * * run daily-pages\n"
    );
    // The other artifacts still come from the built-in templates.
    let builtin = tree(compiled("quickstart-dev"));
    let got = tree(&out);
    let mut others = builtin.clone();
    others.remove("cron/crontab");
    let mut got_others = got.clone();
    got_others.remove("cron/crontab");
    let problems = compare(&others, &got_others, "the output with an override");
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_removed_job_leaves_no_stale_files_but_other_environments_keep_theirs() {
    let spec = scratch("compile-stale-spec");
    copy_dir(&root().join("examples/quickstart"), &spec);
    let out = scratch("compile-stale-out");
    let (spec_s, out_s) = (spec.to_str().expect("utf-8"), out.to_str().expect("utf-8"));
    compile_into(spec_s, "dev", &out);
    compile_into(spec_s, "prod", &out);
    let job = "helm/quickstart/files/dev/jobs/clicks-per-minute.json";
    assert!(out.join(job).is_file());
    // Rename the job: its old config must go, the new one appear, prod's stay.
    let text = std::fs::read_to_string(spec.join("pipeline.yaml")).expect("spec");
    let renamed = text.replace("  clicks-per-minute:", "  clicks-per-min:");
    assert_ne!(
        text, renamed,
        "the quickstart has a job `clicks-per-minute`"
    );
    std::fs::write(spec.join("pipeline.yaml"), renamed).expect("write spec");
    let o = run(&["compile", spec_s, "--env", "dev", "--out", out_s]);
    assert!(o.status.success(), "{}", show(&o));
    assert!(!out.join(job).exists(), "stale job config left behind");
    assert!(
        out.join("helm/quickstart/files/dev/jobs/clicks-per-min.json")
            .is_file()
    );
    assert!(
        out.join("helm/quickstart/files/prod/jobs/clicks-per-minute.json")
            .is_file()
    );
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("removed"),
        "the removal is reported: {}",
        show(&o)
    );
    // The chart is shared by both environments and stays.
    assert!(out.join("helm/quickstart/Chart.yaml").is_file());
}

#[test]
fn graph_prints_mermaid_and_dot() {
    let o = run(&["graph", "examples/quickstart"]);
    assert!(o.status.success(), "{}", show(&o));
    let mmd = String::from_utf8_lossy(&o.stdout);
    assert!(mmd.contains("flowchart LR"), "{mmd}");
    assert!(mmd.contains("t_raw --> j_preprocess"), "{mmd}");
    assert!(
        mmd.contains("j_preprocess -.->|duplicate| t_duplicate"),
        "{mmd}"
    );
    let o = run(&[
        "graph",
        "examples/quickstart",
        "--format",
        "dot",
        "--env",
        "prod",
    ]);
    assert!(o.status.success(), "{}", show(&o));
    let dot = String::from_utf8_lossy(&o.stdout);
    assert!(dot.contains("digraph \"quickstart\" {"), "{dot}");
    assert!(dot.contains("label=\"prod.clicks.raw\""), "{dot}");
    assert!(
        dot.contains("j_preprocess -> t_failed [label=\"invalid\", style=dashed"),
        "{dot}"
    );
    assert!(dot.trim_end().ends_with('}'), "{dot}");
}

/// A crontab line runs on a machine where its log directory does not exist yet (a fresh
/// host has no `/var/log/pipec`): the shell cron starts creates it before redirecting into
/// it, and the report runs. Run on the quickstart's golden crontab with a stand-in `pipec`.
#[test]
fn crontab_lines_create_their_log_directory() {
    let crontab = root().join("tests/golden/compile/quickstart-dev/cron/crontab");
    let crontab = std::fs::read_to_string(crontab).expect("crontab");
    let line = crontab
        .lines()
        .find(|l| l.contains("pipec report"))
        .expect("a report line");
    // What cron hands to sh: the line after its five schedule fields, `\%` as `%`.
    let command = line
        .split_whitespace()
        .skip(5)
        .collect::<Vec<_>>()
        .join(" ")
        .replace("\\%", "%");
    let dir = scratch("crontab-log-dir");
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    let fake = bin.join("pipec");
    std::fs::write(&fake, "#!/bin/sh\necho \"ran pipec $1 $2\"\n").expect("write");
    let chmod = std::process::Command::new("chmod")
        .arg("+x")
        .arg(&fake)
        .status();
    assert!(chmod.is_ok_and(|s| s.success()));
    let logs = dir.join("var/log/pipec");
    let out = std::process::Command::new("sh")
        .args(["-c", &command])
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("PIPEC_LOG_DIR", &logs)
        .env("PIPEC_LOCK_DIR", &dir)
        .env("PIPEC_MANIFEST", dir.join("manifest.json"))
        .output()
        .expect("sh");
    assert!(out.status.success(), "`{command}`: {}", show(&out));
    let log = std::fs::read_to_string(logs.join("quickstart-daily-pages.log")).unwrap_or_default();
    assert_eq!(log, "ran pipec report daily-pages\n", "`{command}`");
    let _ = std::fs::remove_dir_all(&dir);
}
