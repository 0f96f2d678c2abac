//! Tests of loading real Sunbird schemas and hand-made broken ones.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::{Value, json};

use super::*;
use crate::expr::Ty;
use PathSeg::{Field, Index};

/// igot, which holds copies of Sunbird's schemas and fixtures (with their provenance).
const IGOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../pipelines/igot");
const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/schema");

fn preprocessor_dir() -> PathBuf {
    PathBuf::from(IGOT).join("schemas/telemetry/3.0")
}

fn telemetry_store() -> SchemaStore {
    let refs = RefMap::new(vec![(
        "resource:/schemas/telemetry/3.0/".into(),
        preprocessor_dir(),
    )]);
    SchemaStore::new(refs, Draft::Draft4)
}

fn load(store: &mut SchemaStore, path: &Path) -> LoadedSchema {
    match store.load(path) {
        Ok(schema) => schema,
        Err(problems) => panic!("{}: {problems:#?}", path.display()),
    }
}

fn load_err(name: &str) -> (SchemaStore, Vec<SchemaProblem>) {
    let mut store = SchemaStore::new(RefMap::default(), Draft::Draft4);
    match store.load(&Path::new(DATA).join(name)) {
        Ok(_) => panic!("{name} loaded"),
        Err(problems) => (store, problems),
    }
}

/// The text a problem's span covers.
fn spanned<'a>(store: &'a SchemaStore, p: &SchemaProblem) -> Option<&'a str> {
    store.source(&p.file)?.get(p.span.clone()?)
}

fn fixture(name: &str) -> Value {
    let path = Path::new(IGOT)
        .join("tests/fixtures/pipeline-preprocessor")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

#[test]
fn loads_all_preprocessor_schemas_once() {
    let mut store = telemetry_store();
    let mut names: Vec<PathBuf> = std::fs::read_dir(preprocessor_dir())
        .map(|d| d.filter_map(|e| Some(e.ok()?.path())).collect())
        .unwrap_or_default();
    names.sort();
    assert_eq!(names.len(), 40);
    let start = Instant::now();
    for path in &names {
        let schema = load(&mut store, path);
        assert_eq!(schema.files.first(), Some(&schema.path));
        assert_eq!(schema.draft, Draft::Draft4);
    }
    eprintln!("loaded and compiled 40 schemas in {:?}", start.elapsed());
    // Each file was read once, and nothing else was.
    assert_eq!(store.cached_file_count(), 40);
    let event = load(&mut store, &preprocessor_dir().join("event.json"));
    // Every file but envelope.json.
    assert_eq!(event.files.len(), 39);
    assert!(
        store
            .source(&preprocessor_dir().join("common.json"))
            .is_some()
    );
}

#[test]
fn validates_real_events() {
    let mut store = telemetry_store();
    let interact = load(&mut store, &preprocessor_dir().join("interact.json"));
    let event = fixture("EVENT_1.json");
    assert_eq!(event["eid"], "INTERACT");
    assert!(interact.validator.is_valid(&event));
    let mut broken = event.clone();
    broken["edata"]["typo"] = json!("x");
    assert!(!interact.validator.is_valid(&broken));
    let mut broken = event;
    broken["context"]["cdata"] = json!([{"id": "x"}]);
    assert!(!interact.validator.is_valid(&broken));

    let start = load(&mut store, &preprocessor_dir().join("start.json"));
    let bad_start = fixture("EVENT_7.json");
    assert_eq!(bad_start["eid"], "START");
    assert!(!start.validator.is_valid(&bad_start));
    let error = fixture("EVENT_2.json");
    let schema = load(&mut store, &preprocessor_dir().join("error.json"));
    assert!(schema.validator.is_valid(&error));
}

#[test]
fn shapes_of_real_events() {
    let mut store = telemetry_store();
    let interact = load(&mut store, &preprocessor_dir().join("interact.json")).shape;
    let found = |path: &[PathSeg<'_>]| interact.lookup(path);
    assert_eq!(
        found(&[Field("edata"), Field("type")]),
        ShapeLookup::Found(Ty::STRING)
    );
    assert_eq!(
        found(&[Field("edata"), Field("typo")]),
        ShapeLookup::Unknown {
            segment: 1,
            suggestion: Some("type".into()),
            closed: true
        }
    );
    let cdata_id = [Field("context"), Field("cdata"), Index, Field("id")];
    assert_eq!(found(&cdata_id), ShapeLookup::Found(Ty::STRING));
    assert_eq!(found(&[Field("eid")]), ShapeLookup::Found(Ty::STRING));
    assert_eq!(found(&[Field("ets")]), ShapeLookup::Found(Ty::NUMBER));
    assert_eq!(
        found(&[Field("edata"), Field("extra"), Field("pos")]),
        ShapeLookup::Found(Ty::ANY)
    );
    assert_eq!(
        found(&[Field("contxt")]),
        ShapeLookup::Unknown {
            segment: 0,
            suggestion: Some("context".into()),
            closed: false
        }
    );
    let eid = interact
        .properties
        .get("eid")
        .and_then(|s| s.enum_values.clone());
    assert_eq!(eid, Some(vec!["INTERACT".to_string()]));
    assert!(interact.required.contains(&"edata".to_string()));

    // Several event types reaching one step: their union.
    let search = load(&mut store, &preprocessor_dir().join("search.json")).shape;
    let both = Shape::merge(&interact, &search);
    assert_eq!(
        both.lookup(&[Field("edata"), Field("type")]),
        ShapeLookup::Found(Ty::STRING)
    );
    assert!(
        !both
            .properties
            .get("edata")
            .is_some_and(|e| e.closed && e.free)
    );
    let mut with_flag = both;
    with_flag.with_field(&["flags", "pp_duplicate"], Ty::BOOL);
    assert_eq!(
        with_flag.lookup(&[Field("flags"), Field("pp_duplicate")]),
        ShapeLookup::Found(Ty::BOOL)
    );
}

#[test]
fn loads_druid_validator_schemas() {
    let dir = PathBuf::from(IGOT).join("schemas/druid");
    let refs = RefMap::new(vec![
        ("resource:/schemas/telemetry/".into(), dir.join("telemetry")),
        ("resource:/schemas/summary/".into(), dir.join("summary")),
    ]);
    let mut store = SchemaStore::new(refs, Draft::Draft4);
    for sub in ["telemetry", "summary"] {
        let entries = std::fs::read_dir(dir.join(sub)).map(|d| d.filter_map(Result::ok).count());
        assert!(entries.unwrap_or(0) > 10);
        for entry in std::fs::read_dir(dir.join(sub))
            .into_iter()
            .flatten()
            .flatten()
        {
            load(&mut store, &entry.path());
        }
    }
}

#[test]
fn misspelled_file_ref() {
    let (store, problems) = load_err("bad_file_ref.json");
    assert_eq!(problems.len(), 1);
    let p = &problems[0];
    assert_eq!(p.kind, SchemaProblemKind::UnresolvedRef);
    assert_eq!(p.message, "cannot resolve `$ref` `comon.json`");
    assert_eq!(p.help.as_deref(), Some("did you mean `common.json`?"));
    let text = store.source(&p.file).unwrap_or_default();
    let at = text.find("comon.json").unwrap_or_default();
    assert_eq!(p.span, Some(at..at + "comon.json".len()));
    assert!(p.file.ends_with("bad_file_ref.json"));
}

#[test]
fn bad_fragment_pointers() {
    let (store, problems) = load_err("bad_pointer.json");
    let found: Vec<(Option<&str>, &str, Option<&str>)> = problems
        .iter()
        .map(|p| (spanned(&store, p), p.label.as_str(), p.help.as_deref()))
        .collect();
    assert_eq!(
        found,
        vec![
            (
                Some("common.json#/definitions/idd"),
                "`/definitions` in `common.json` has no `idd`",
                Some("did you mean `id`?")
            ),
            (
                Some("#/definitions/mid"),
                "`bad_pointer.json` has no `/definitions`",
                None
            ),
        ]
    );
}

#[test]
fn invalid_json() {
    let (store, problems) = load_err("invalid.json");
    assert_eq!(problems.len(), 1);
    let p = &problems[0];
    assert_eq!(p.kind, SchemaProblemKind::Json);
    assert_eq!(p.label, "trailing comma");
    let text = store.source(&p.file).unwrap_or_default();
    let at = text.find("},\n  }").map(|i| i + 5).unwrap_or_default();
    assert_eq!(p.span, Some(at..at + 1));
    // Referenced twice from another file: reported once, in the broken file.
    let (_, through) = load_err("uses_invalid.json");
    assert_eq!(through, vec![p.clone()]);
}

#[test]
fn compile_errors_are_located() {
    for name in ["bad_type.json", "uses_bad_type.json"] {
        let (store, problems) = load_err(name);
        assert_eq!(problems.len(), 1, "{name}");
        let p = &problems[0];
        assert_eq!(p.kind, SchemaProblemKind::Compile);
        assert_eq!(p.message, "invalid `type`");
        assert!(p.file.ends_with("bad_type.json"));
        assert_eq!(spanned(&store, p), Some("12"));
    }
}

#[test]
fn ref_cycles_terminate() {
    let mut store = SchemaStore::new(RefMap::default(), Draft::Draft4);
    let schema = load(&mut store, &Path::new(DATA).join("cycle_a.json"));
    assert_eq!(schema.files.len(), 2);
    assert!(
        schema
            .validator
            .is_valid(&json!({"b": {"n": 1, "a": {"b": {"n": 2}}}}))
    );
    assert!(
        !schema
            .validator
            .is_valid(&json!({"b": {"a": {"b": {"n": "x"}}}}))
    );
    let path = [Field("b"), Field("a"), Field("b"), Field("n")];
    assert!(matches!(schema.shape.lookup(&path), ShapeLookup::Found(_)));
    let typo = [Field("b"), Field("m")];
    assert!(matches!(
        schema.shape.lookup(&typo),
        ShapeLookup::Unknown { closed: true, .. }
    ));
}

#[test]
fn unmapped_prefix() {
    let (_, problems) = load_err("unmapped.json");
    assert_eq!(problems.len(), 1);
    assert_eq!(
        problems[0].help.as_deref(),
        Some("map the prefix `resource:/schemas/other/` to a directory with `events.refs`")
    );
}

#[test]
fn relative_refs_ignore_ids() {
    let mut store = SchemaStore::new(RefMap::default(), Draft::Draft7);
    let schema = load(&mut store, &Path::new(DATA).join("relative_with_id.json"));
    assert_eq!(schema.draft, Draft::Draft4);
    assert_eq!(schema.files.len(), 3);
    assert!(schema.validator.is_valid(&json!({"n": "x"})));
    assert!(!schema.validator.is_valid(&json!({"n": 1})));
    assert!(!schema.validator.is_valid(&json!({"m": "x"})));
    assert_eq!(
        schema.shape.lookup(&[Field("n")]),
        ShapeLookup::Found(Ty::STRING)
    );
}

#[test]
fn missing_root() {
    let (_, missing) = load_err("nope.json");
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0].kind, SchemaProblemKind::NotFound);
    assert_eq!(missing[0].span, None);
    let (_, misspelled) = load_err("comon.json");
    assert_eq!(
        misspelled[0].help.as_deref(),
        Some("did you mean `common.json`?")
    );
}

#[test]
fn directories_anchors_and_unknown_meta_schemas() {
    let (_, dir) = load_err("sub");
    assert_eq!(dir.len(), 1);
    assert_eq!(dir[0].kind, SchemaProblemKind::Io);
    let (store, anchors) = load_err("bad_anchor.json");
    assert_eq!(anchors.len(), 1);
    assert_eq!(spanned(&store, &anchors[0]), Some("#nowhere"));
    assert_eq!(anchors[0].label, "no anchor `nowhere` in `bad_anchor.json`");

    let mut store = SchemaStore::new(RefMap::default(), Draft::Draft6);
    let schema = load(&mut store, &Path::new(DATA).join("unknown_meta.json"));
    assert_eq!(schema.draft, Draft::Draft6);
    assert!(schema.validator.is_valid(&json!({"id": "a", "n": 1})));
    assert!(!schema.validator.is_valid(&json!({"n": 1.5})));
    assert_eq!(
        schema.shape.lookup(&[Field("n")]),
        ShapeLookup::Found(Ty::INT)
    );
    assert_eq!(
        schema.shape.lookup(&[Field("id")]),
        ShapeLookup::Found(Ty::STRING)
    );
}

fn arbitrary_schema() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    use proptest::sample::select;
    let types = vec!["string", "integer", "object", "array", "null"];
    let refs = vec![
        "#",
        "#/properties/a",
        "#/definitions/d",
        "common.json",
        "#/nope",
        "#x",
    ];
    let leaf = prop_oneof![
        Just(json!({})),
        Just(json!(true)),
        Just(json!({"enum": ["a", 1]})),
        Just(json!({"type": 12})),
        select(types).prop_map(|t| json!({ "type": t })),
        select(refs).prop_map(|r| json!({ "$ref": r })),
    ];
    leaf.prop_recursive(4, 32, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 1..3).prop_map(|v| json!({ "allOf": v })),
            proptest::collection::vec(inner.clone(), 1..3).prop_map(|v| json!({ "oneOf": v })),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| json!({
                "type": "object",
                "properties": { "a": a, "b": b },
                "additionalProperties": false
            })),
            inner.clone().prop_map(|i| json!({ "items": i })),
            (inner.clone(), inner).prop_map(|(a, d)| json!({
                "properties": { "a": a },
                "definitions": { "d": d }
            })),
        ]
    })
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config::with_cases(128))]
    #[test]
    fn arbitrary_schemas_never_panic(schema in arbitrary_schema()) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static CASE: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join("pipec-schema-proptest");
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::copy(Path::new(DATA).join("common.json"), dir.join("common.json"));
        let case = CASE.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!("case-{}-{case}.json", std::process::id()));
        let _ = std::fs::write(&path, serde_json::to_string_pretty(&schema).unwrap_or_default());
        let mut store = SchemaStore::new(RefMap::default(), Draft::Draft7);
        match store.load(&path) {
            Ok(loaded) => {
                let _ = loaded.validator.is_valid(&json!({"a": {"b": [1, "x"]}, "b": null}));
                let _ = loaded.shape.lookup(&[Field("a"), Field("b"), Index, Field("c")]);
            }
            Err(problems) => {
                proptest::prop_assert!(!problems.is_empty());
                for p in &problems {
                    let text = store.source(&p.file).unwrap_or_default();
                    if let Some(span) = &p.span {
                        proptest::prop_assert!(text.get(span.clone()).is_some());
                    }
                }
            }
        }
        let _ = std::fs::remove_file(&path);
    }
}
