//! The `pipec` binary: exit codes, output formats, explain and schema, and "did you mean"
//! for every topic and store reference of the quickstart.

use crate::support::{check, root, scratch};
use crate::support::{copy_dir, pipec};

#[test]
fn clean_spec_exits_zero() {
    let out = pipec(&["check", "examples/quickstart"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("examples/quickstart: ok"), "{err}");
}

#[test]
fn errors_exit_one_and_missing_path_exits_two() {
    let out = pipec(&["check", "tests/golden/check/unknown-topic-in-from"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("error[PC0102]"));
    let out = pipec(&["check", "no/such/dir"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("PC0902"));
    let out = pipec(&["check", "--format", "yaml"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn json_format_has_code_and_place() {
    let out = pipec(&[
        "check",
        "tests/golden/check/unknown-topic-in-from",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json output");
    let first = &v[0];
    assert_eq!(first["code"], "PC0102");
    assert_eq!(first["severity"], "error");
    assert!(
        first["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("pipeline.yaml"))
    );
    assert!(first["line"].as_u64().is_some_and(|l| l > 0));
    assert!(first["column"].as_u64().is_some_and(|c| c > 0));
    assert!(
        first["help"]
            .as_str()
            .is_some_and(|h| h.contains("did you mean"))
    );
}

/// `--format github`: a workflow command per diagnostic at its whole span, the label and help
/// as the message's lines (`%0A`), then the summary line; warnings are `::warning`.
#[test]
fn github_format_annotates_each_diagnostic() {
    let case = "tests/golden/check/unknown-topic-in-from";
    let out = pipec(&["check", case, "--format", "github"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "::error file=tests/golden/check/unknown-topic-in-from/pipeline.yaml,line=20,col=11,\
         endLine=20,endColumn=15,title=PC0102 unknown topic `raww`::no topic of this name\
         %0Ahelp: did you mean `raw`?\n\
         \n\
         tests/golden/check/unknown-topic-in-from: 1 error, 0 warnings\n"
    );

    let case = "tests/golden/check/unused-topic";
    let out = pipec(&["check", case, "--format", "github", "--deny-warnings"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout.lines().next(),
        Some(
            "::warning file=tests/golden/check/unused-topic/pipeline.yaml,line=18,col=3,\
             endLine=18,endColumn=8,title=PC0402 topic `audit` is not used::nothing reads or \
             writes it%0Ahelp: remove it, or mark it `external: true` if systems outside the \
             pipeline use it"
        ),
        "{stdout}"
    );

    let out = pipec(&["check", "examples/quickstart", "--format", "github"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "examples/quickstart: ok\n"
    );
}

#[test]
fn deny_warnings_turns_warnings_into_failure() {
    let case = "tests/golden/check/unused-topic";
    assert_eq!(pipec(&["check", case]).status.code(), Some(0));
    assert_eq!(
        pipec(&["check", case, "--deny-warnings"]).status.code(),
        Some(1)
    );
}

#[test]
fn explain_and_schema() {
    let out = pipec(&["explain", "pc0102"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("PC0102: unknown topic"));
    assert_eq!(pipec(&["explain", "PC9999"]).status.code(), Some(2));
    let out = pipec(&["explain", "all"]);
    assert!(String::from_utf8_lossy(&out.stdout).lines().count() >= 40);
    let out = pipec(&["schema"]);
    assert_eq!(out.status.code(), Some(0));
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).expect("schema is JSON");
    for key in [
        "pipeline", "topics", "streams", "stores", "events", "backups", "reports", "tests",
    ] {
        assert!(
            schema["properties"][key].is_object(),
            "schema lacks `{key}`"
        );
    }
    assert_eq!(schema["additionalProperties"], false);
}

/// Keys whose values name a topic or a store.
const REF_KEYS: &[&str] = &[
    "from: ",
    "invalid: ",
    "duplicates: ",
    "store: ",
    "emit: ",
    "topic: ",
    "to: ",
    "else: ",
    "oversized: ",
];

/// Names of the topics and stores of a spec, read with the compiler.
fn defined_names(dir: &std::path::Path) -> Vec<String> {
    use pipec_compiler::diagnostics::Diagnostics;
    use pipec_compiler::spec::load::{LoadOptions, load};
    let mut diags = Diagnostics::default();
    let loaded = load(
        dir,
        &LoadOptions {
            env: None,
            env_lookup: &crate::support::no_env,
        },
        &mut diags,
    );
    loaded
        .files
        .iter()
        .flat_map(|f| {
            f.spec
                .topics
                .keys()
                .chain(f.spec.stores.keys())
                .map(|k| k.value.clone())
        })
        .collect()
}

#[test]
fn every_reference_typo_is_located_with_a_suggestion() {
    let mut tried = 0;
    for example in ["quickstart", "sunbird-mini"] {
        let dir = root().join("examples").join(example);
        let names = defined_names(&dir);
        let src = std::fs::read_to_string(dir.join("pipeline.yaml")).expect("spec");
        for (line_no, line) in src.lines().enumerate() {
            for key in REF_KEYS {
                let mut from = 0;
                while let Some(pos) = line[from..].find(key) {
                    let start = from + pos + key.len();
                    from = start;
                    let name_start = start + usize::from(line[start..].starts_with('['));
                    let name: String = line[name_start..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                        .collect();
                    if name.len() < 3 || !names.contains(&name) {
                        continue;
                    }
                    // A typo: the last letter doubled.
                    let typo = format!("{name}{}", name.chars().last().unwrap_or('x'));
                    let mut lines: Vec<String> = src.lines().map(String::from).collect();
                    lines[line_no].replace_range(name_start..name_start + name.len(), &typo);
                    let scratch_dir = scratch(&format!("typo-{example}-{line_no}-{name_start}"));
                    copy_dir(&dir, &scratch_dir);
                    std::fs::write(scratch_dir.join("pipeline.yaml"), lines.join("\n"))
                        .expect("write");
                    let result = check(&scratch_dir);
                    let found = result.diagnostics.iter().any(|d| {
                        let place = d.primary.as_ref().and_then(|p| {
                            result
                                .sources
                                .get(p.span.file)
                                .map(|f| f.line_col(p.span.start))
                        });
                        place == Some((line_no + 1, name_start + 1))
                            && d.help.as_deref() == Some(&format!("did you mean `{name}`?"))
                    });
                    assert!(
                        found,
                        "{example}: typo `{typo}` at {}:{} not reported there with `{name}` suggested:\n{}",
                        line_no + 1,
                        name_start + 1,
                        crate::support::render(&result)
                    );
                    tried += 1;
                    let _ = std::fs::remove_dir_all(&scratch_dir);
                }
            }
        }
    }
    assert!(tried >= 25, "only {tried} references were tried");
}

/// The subcommands of `pipec --help`, read from its "Commands:" section.
fn subcommands() -> Vec<String> {
    let out = pipec(&["--help"]);
    let help = String::from_utf8_lossy(&out.stdout).into_owned();
    let names: Vec<String> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| *n != "help")
        .map(str::to_owned)
        .collect();
    assert!(names.len() >= 14, "{help}");
    assert!(names.iter().any(|n| n == "validate-events"), "{help}");
    names
}

#[test]
fn completions_name_every_subcommand() {
    let commands = subcommands();
    for shell in ["bash", "zsh", "fish"] {
        let out = pipec(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(script.len() > 1000, "{shell}: {script}");
        for c in &commands {
            assert!(script.contains(c.as_str()), "{shell} lacks `{c}`");
        }
        // And the options of a subcommand.
        assert!(script.contains("detailed-exitcode"), "{shell}");
    }
    assert_eq!(pipec(&["completions", "tcsh"]).status.code(), Some(2));
}

#[test]
fn man_page_names_every_subcommand() {
    let commands = subcommands();
    let out = pipec(&["man"]);
    assert_eq!(out.status.code(), Some(0));
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(page.starts_with(".ie \\n(.g .ds Aq"), "{page}");
    assert!(page.contains(".TH pipec 1"), "{page}");
    for c in &commands {
        // roff escapes `-` as `\-`.
        let name = format!("pipec\\-{}", c.replace('-', "\\-"));
        assert!(page.contains(&name), "man page lacks `{name}`");
    }

    let dir = scratch("man");
    let out = pipec(&["man", "--dir", dir.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(0));
    for c in commands
        .iter()
        .map(|c| format!("pipec-{c}.1"))
        .chain(["pipec.1".into()])
    {
        let text = std::fs::read_to_string(dir.join(&c)).unwrap_or_default();
        assert!(text.contains(".TH"), "{c}: {text}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
