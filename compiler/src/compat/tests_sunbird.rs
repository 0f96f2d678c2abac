//! The Sunbird case: Sunbird's `interact.json` (with every schema it references, through
//! `resource:/` refs) against edited copies; then pairing files and directories.

use std::path::{Path, PathBuf};

use super::ChangeKind::*;
use super::subjects::{Inputs, Options, Outcome, UsageError, compare_paths};
use super::*;
use crate::schema::{RefMap, SchemaStore};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/compat");
const PREFIX: &str = "resource:/schemas/telemetry/3.0/";
const EDATA: &str = "#/allOf/1/properties/edata/properties";

fn sunbird_dir() -> PathBuf {
    Path::new(DATA).join("sunbird")
}

/// Sunbird's `interact.json` against `new/<name>`.
fn against(name: &str) -> CompatReport {
    let refs = RefMap::new(vec![(PREFIX.into(), sunbird_dir())]);
    let mut store = SchemaStore::new(refs, Draft::Draft4);
    let mut load = |path: PathBuf| match store.load_resolved(&path) {
        Ok(schema) => schema,
        Err(problems) => panic!("{}: {problems:#?}", path.display()),
    };
    let old = load(sunbird_dir().join("interact.json"));
    let new = load(Path::new(DATA).join("new").join(name));
    compare(&old, &new)
}

fn rows(report: &CompatReport) -> Vec<(String, ChangeKind, bool, bool)> {
    report
        .changes
        .iter()
        .map(|c| (c.pointer.clone(), c.kind, c.backward_ok, c.forward_ok))
        .collect()
}

#[test]
fn unchanged_interact_is_fully_compatible() {
    let refs = RefMap::new(vec![(PREFIX.into(), sunbird_dir())]);
    let mut store = SchemaStore::new(refs, Draft::Draft4);
    let Ok(schema) = store.load_resolved(&sunbird_dir().join("interact.json")) else {
        panic!("interact.json does not load");
    };
    let report = compare(&schema, &schema);
    assert_eq!(report.verdict, Verdict::Full);
    assert!(report.changes.is_empty(), "{:#?}", report.changes);
}

#[test]
fn optional_property_in_closed_edata_is_backward_compatible_only() {
    let report = against("interact-optional-edata.json");
    let pointer = format!("{EDATA}/reason");
    assert_eq!(
        rows(&report),
        vec![(
            pointer.clone(),
            OptionalPropertyAddedToClosedContentModel,
            true,
            false
        )]
    );
    assert_eq!(report.verdict, Verdict::BackwardOnly);
    assert!(report.allows(Compatibility::Backward));
    assert!(report.breaking_for(Compatibility::Backward).is_empty());
    let forward = report.breaking_for(Compatibility::Forward);
    assert_eq!(forward.len(), 1);
    assert_eq!(forward[0].pointer, pointer);
    assert_eq!(
        forward[0].message,
        "optional property `reason` added to a closed object: old readers reject it"
    );
}

#[test]
fn required_property_in_closed_edata_breaks_both_ways() {
    let report = against("interact-required-edata.json");
    let pointer = format!("{EDATA}/reason");
    assert_eq!(
        rows(&report),
        vec![(
            pointer.clone(),
            RequiredPropertyAddedToClosedContentModel,
            false,
            false
        )]
    );
    assert_eq!(report.verdict, Verdict::Incompatible);
    let backward = report.breaking_for(Compatibility::Backward);
    assert_eq!(backward.len(), 1);
    assert_eq!(backward[0].pointer, pointer);
    // The checker tells the two edits apart under the default mode.
    assert!(against("interact-optional-edata.json").allows(Compatibility::Backward));
    assert!(!report.allows(Compatibility::Backward));
}

#[test]
fn narrowed_type_breaks_backward() {
    let report = against("interact-duration-integer.json");
    let pointer = format!("{EDATA}/duration");
    assert_eq!(rows(&report), vec![(pointer, TypeNarrowed, false, true)]);
    assert_eq!(report.verdict, Verdict::ForwardOnly);
    assert_eq!(
        report.changes[0].message,
        "type narrowed from number to integer"
    );
}

#[test]
fn optional_property_at_the_open_top_level_breaks_backward() {
    // The `allOf` branch holding `eid` and `edata` has no `additionalProperties: false`.
    let report = against("interact-optional-top.json");
    let pointer = "#/allOf/1/properties/reason".to_string();
    assert_eq!(
        rows(&report),
        vec![(
            pointer,
            OptionalPropertyAddedToOpenContentModel,
            false,
            true
        )]
    );
    assert_eq!(report.verdict, Verdict::ForwardOnly);
}

fn no_env(_: &str) -> Option<String> {
    None
}

fn options(mode: Option<Compatibility>, refs: Vec<(String, PathBuf)>) -> Options<'static> {
    Options {
        mode,
        refs,
        env_lookup: &no_env,
    }
}

#[test]
fn two_files_with_refs_mapped_for_both_sides() {
    let old = sunbird_dir().join("interact.json");
    let new = Path::new(DATA).join("new/interact-required-edata.json");
    let opts = options(None, vec![(PREFIX.into(), sunbird_dir())]);
    let Ok(comparison) = compare_paths(&old, &new, &opts) else {
        panic!("usage error");
    };
    assert_eq!(comparison.inputs, Inputs::Files);
    let [subject] = comparison.subjects.as_slice() else {
        panic!("one subject expected");
    };
    assert_eq!(subject.name, "interact-required-edata.json");
    assert_eq!(subject.mode, Compatibility::Backward);
    let breaking: Vec<&str> = subject
        .breaking()
        .iter()
        .map(|c| c.pointer.as_str())
        .collect();
    assert_eq!(breaking, vec![format!("{EDATA}/reason").as_str()]);
    assert!(comparison.breaks() && !comparison.failed());

    // `--mode NONE` checks nothing.
    let Ok(none) = compare_paths(
        &old,
        &new,
        &options(Some(Compatibility::None), opts.refs.clone()),
    ) else {
        panic!("usage error");
    };
    assert!(!none.breaks());
}

#[test]
fn unmapped_refs_fail_with_the_problem() {
    let old = sunbird_dir().join("interact.json");
    let Ok(comparison) = compare_paths(&old, &old, &options(None, Vec::new())) else {
        panic!("usage error");
    };
    assert!(comparison.failed() && !comparison.breaks());
    let Outcome::Failed(lines) = &comparison.subjects[0].outcome else {
        panic!("not a failure: {:?}", comparison.subjects[0].outcome);
    };
    assert!(
        lines[0].contains("cannot resolve `$ref` `resource:/schemas/telemetry/3.0/common.json`"),
        "{lines:?}"
    );
    assert!(lines[0].ends_with("(map the prefix `resource:/schemas/telemetry/3.0/` to a directory with `--refs PREFIX=DIR`)"), "{lines:?}");
    // Each unresolvable `$ref` once, though both sides are the same file.
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        lines[1].contains("`resource:/schemas/telemetry/3.0/target.json`"),
        "{lines:?}"
    );
    assert!(
        lines[2].contains("`resource:/schemas/telemetry/3.0/plugin.json`"),
        "{lines:?}"
    );
}

#[test]
fn directories_pair_files_by_name() {
    let opts = options(None, vec![(PREFIX.into(), sunbird_dir())]);
    let Ok(comparison) = compare_paths(&sunbird_dir(), &Path::new(DATA).join("new"), &opts) else {
        panic!("usage error");
    };
    assert_eq!(comparison.inputs, Inputs::Directories);
    let names: Vec<(&str, bool)> = comparison
        .subjects
        .iter()
        .map(|s| (s.name.as_str(), matches!(s.outcome, Outcome::Removed)))
        .collect();
    assert_eq!(names.len(), 15);
    assert!(names.contains(&("interact.json", true)));
    assert!(names.contains(&("interact-optional-top.json", false)));
    // A removed schema breaks every mode but NONE; an added one none.
    assert!(comparison.breaks());
    let removed = comparison.subjects.iter().find(|s| s.name == "rollup.json");
    assert!(removed.is_some_and(|s| s.breaks() && s.breaking().is_empty()));
}

#[test]
fn paths_of_different_kinds_are_usage_errors() {
    let opts = options(None, Vec::new());
    let file = sunbird_dir().join("interact.json");
    let Err(UsageError(message)) = compare_paths(&file, &sunbird_dir(), &opts) else {
        panic!("a file and a directory compared");
    };
    assert!(message.contains("is a schema file but"), "{message}");
    assert!(message.ends_with("is a directory of schemas: compare two schema files, two directories of schemas, or two specs"), "{message}");
    let Err(UsageError(message)) = compare_paths(&file, Path::new("/no/such/file.json"), &opts)
    else {
        panic!("a missing file compared");
    };
    assert_eq!(message, "`/no/such/file.json` does not exist");
}
