//! Event schemas: every declared type's schema loads, its `$ref`s resolve and it compiles;
//! the shapes of the schemas are handed to the expression checks, and the compiled
//! validators to [`crate::events::EventSchemas`].

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::Index;
use super::index::rel;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::schema::{Draft, RefMap, SchemaProblemKind, SchemaStore, Shape};
use crate::source::Span;
use crate::spec::load::Loaded;

/// What the schemas say about each event type: `None` for a type without a schema.
#[derive(Debug, Default)]
pub struct Shapes {
    /// Shape per declared type name.
    pub by_type: BTreeMap<String, Option<Shape>>,
}

/// Compiled validator per declared type whose schema loaded: `None` for a type without a
/// schema (`schema: none`, or no `events.schemas` directory), in declaration order.
pub type Validators = Vec<(String, Option<Arc<jsonschema::Validator>>)>;

/// What loading the schemas gave: the shapes and the compiled validators, each schema
/// compiled once for both.
#[derive(Debug, Default)]
pub struct Schemas {
    /// For the expression checks.
    pub shapes: Shapes,
    /// For validating events.
    pub validators: Validators,
}

/// A problem inside a schema file, placed once the file is in the source map.
#[derive(Debug)]
pub struct Pending {
    file: PathBuf,
    text: String,
    range: Range<usize>,
    diag: Diagnostic,
    label: String,
}

/// Parses `events.draft`.
pub fn parse_draft(s: &str) -> Option<Draft> {
    match s
        .trim()
        .trim_start_matches("draft")
        .trim_start_matches(['-', '_'])
    {
        "4" | "04" => Some(Draft::Draft4),
        "6" | "06" => Some(Draft::Draft6),
        "7" | "07" => Some(Draft::Draft7),
        "2019-09" | "201909" => Some(Draft::Draft201909),
        "2020-12" | "202012" => Some(Draft::Draft202012),
        _ => None,
    }
}

/// Loads every schema and reports its problems.
pub fn check(ix: &Index<'_>, diags: &mut Diagnostics, pending: &mut Vec<Pending>) -> Schemas {
    let mut out = Schemas::default();
    let Some((events, dir)) = ix.events else {
        return out;
    };
    let draft = match &events.draft {
        Some(d) => parse_draft(&d.value).unwrap_or_else(|| {
            diags.push(
                crate::diagnostics::catalog::invalid_value(format!(
                    "unknown JSON Schema draft `{}`",
                    d.value
                ))
                .at(d.span, "not a draft")
                .help("write 4, 6, 7, 2019-09 or 2020-12"),
            );
            Draft::Draft4
        }),
        None => Draft::Draft4,
    };
    let mut prefixes = Vec::new();
    for (prefix, target) in events.refs.iter() {
        let path = rel(dir, &target.value);
        if !path.is_dir() {
            diags.push(missing_dir(&target.value, target.span));
        }
        prefixes.push((prefix.value.clone(), path));
    }
    let schema_dir = events.schemas.as_ref().map(|s| {
        let p = rel(dir, &s.value);
        if !p.is_dir() {
            diags.push(missing_dir(&s.value, s.span));
        }
        p
    });
    let mut store = SchemaStore::new(RefMap::new(prefixes), draft).within(ix.files);
    for t in &ix.types {
        let explicit = t.def.and_then(|d| d.schema.as_ref());
        let path: Option<(PathBuf, Span)> = match explicit {
            Some(s) if s.value == "none" => None,
            Some(s) => Some((rel(dir, &s.value), s.span)),
            None => schema_dir.as_ref().filter(|d| d.is_dir()).map(|d| {
                (
                    d.join(format!("{}.json", t.name.value.to_lowercase())),
                    t.name.span,
                )
            }),
        };
        let Some((path, at)) = path else {
            out.shapes.by_type.insert(t.name.value.clone(), None);
            out.validators.push((t.name.value.clone(), None));
            continue;
        };
        if !path.is_file() {
            let help = if explicit.is_some() {
                "check the path (relative to the spec file)".to_string()
            } else {
                format!(
                    "add `{}`, or set `schema: none` on this type if it has no schema",
                    path.display()
                )
            };
            diags.push(
                Diagnostic::error(
                    "PC0201",
                    format!("no schema for event type `{}`", t.name.value),
                )
                .at(at, format!("`{}` does not exist", path.display()))
                .help(help),
            );
            continue;
        }
        match store.load(&path) {
            Ok(loaded) => {
                if let Ok(resolved) = store.load_resolved(&path)
                    && refers_only_to_itself(&resolved)
                {
                    diags.push(
                        Diagnostic::error(
                            "PC0206",
                            format!(
                                "the schema of event type `{}` refers only to itself",
                                t.name.value
                            ),
                        )
                        .at(at, "accepts every event")
                        .help("write the schema's constraints, or point `$ref` at another schema"),
                    );
                }
                out.validators
                    .push((t.name.value.clone(), Some(loaded.validator)));
                out.shapes
                    .by_type
                    .insert(t.name.value.clone(), Some(loaded.shape));
            }
            Err(problems) => report(
                problems,
                (
                    t.name.span,
                    format!("schema of event type `{}`", t.name.value),
                ),
                at,
                &store,
                pending,
                diags,
            ),
        }
    }
    step_schemas(ix, &mut store, pending, diags);
    out
}

/// Whether following the schema's `$ref`s from its root comes back round without meeting
/// anything that constrains a value (`{"$ref": "#"}`, or `a` → `b` → `a`): such a schema
/// accepts every event, which is never what was meant.
pub(crate) fn refers_only_to_itself(schema: &crate::schema::ResolvedSchema) -> bool {
    // Keywords that say nothing about the value.
    const INERT: &[&str] = &[
        "$ref",
        "$schema",
        "id",
        "$id",
        "title",
        "description",
        "$comment",
        "definitions",
        "$defs",
        "examples",
        "default",
    ];
    let mut seen = std::collections::HashSet::new();
    let mut target = schema.root_target();
    let mut node = schema.root();
    loop {
        let Some(obj) = node.as_object() else {
            return false;
        };
        let Some(reference) = obj.get("$ref").and_then(|r| r.as_str()) else {
            return false;
        };
        if !obj.keys().all(|k| INERT.contains(&k.as_str())) {
            return false;
        }
        if !seen.insert(target.clone()) {
            return true;
        }
        match schema.follow(reference) {
            Some((next, value)) => {
                target = next;
                node = value;
            }
            None => return false,
        }
    }
}

/// Loads the schemas of `validate` steps with a `schemas` directory of their own: the
/// file of every declared type found there, and the `default` file, so that their `$ref`s
/// are checked as the event types' are.
fn step_schemas(
    ix: &Index<'_>,
    store: &mut SchemaStore,
    pending: &mut Vec<Pending>,
    diags: &mut Diagnostics,
) {
    for s in &ix.streams.items {
        for step in s.def.steps.iter() {
            let crate::spec::Step::Validate(v) = &step.value else {
                continue;
            };
            let Some(d) = &v.schemas else { continue };
            let dir = rel(s.dir, &d.value);
            if !dir.is_dir() {
                continue;
            }
            let mut files: Vec<(PathBuf, Span)> = ix
                .types
                .iter()
                .map(|t| dir.join(format!("{}.json", t.name.value.to_lowercase())))
                .filter(|p| p.is_file())
                .map(|p| (p, d.span))
                .collect();
            if let Some(f) = &v.default
                && dir.join(&f.value).is_file()
            {
                files.push((dir.join(&f.value), f.span));
            }
            for (path, at) in files {
                if let Err(problems) = store.load(&path) {
                    let label = format!("schema of stream `{}`", s.name.value);
                    report(problems, (at, label), at, store, pending, diags);
                }
            }
        }
    }
}

/// Reports the problems of loading one schema: inside the schema file when the problem
/// has a place there, else at `at` in the spec.
fn report(
    problems: Vec<crate::schema::SchemaProblem>,
    (also, also_label): (Span, String),
    at: Span,
    store: &SchemaStore,
    pending: &mut Vec<Pending>,
    diags: &mut Diagnostics,
) {
    for p in problems {
        let code = match p.kind {
            SchemaProblemKind::NotFound | SchemaProblemKind::Io => "PC0201",
            SchemaProblemKind::Json => "PC0202",
            SchemaProblemKind::Compile => "PC0203",
            SchemaProblemKind::UnresolvedRef => "PC0204",
        };
        let diag = Diagnostic::error(code, p.message.clone())
            .maybe_help(p.help.clone())
            .also(also, also_label.clone());
        match (p.span, store.source(&p.file)) {
            (Some(range), Some(text)) => {
                let already = pending.iter().any(|q| {
                    q.file == p.file && q.range == range && q.diag.message == diag.message
                });
                if !already {
                    pending.push(Pending {
                        file: p.file.clone(),
                        text: text.to_string(),
                        range,
                        diag,
                        label: p.label.clone(),
                    });
                }
            }
            _ => diags.push(
                Diagnostic::error(code, shown_text(&p.message))
                    .at(
                        at,
                        shown_text(&format!("in `{}`: {}", p.file.display(), p.label)),
                    )
                    .maybe_help(p.help.map(|h| shown_text(&h))),
            ),
        }
    }
}

fn missing_dir(path: &str, span: Span) -> Diagnostic {
    Diagnostic::error("PC0205", format!("schema directory `{path}` not found"))
        .at(span, "no such directory")
        .help("paths are relative to the spec file")
}

/// A path as shown to the user: relative to the working directory when it is inside it.
pub(crate) fn shown(path: &Path) -> PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(&cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf())
}

/// Replaces absolute paths under the working directory by relative ones in a message.
pub(crate) fn shown_text(text: &str) -> String {
    match std::env::current_dir() {
        Ok(cwd) => text.replace(&format!("{}/", cwd.display()), ""),
        Err(_) => text.to_string(),
    }
}

/// Adds the schema files that have problems to the source map and reports the problems there.
pub fn attach_sources(loaded: &mut Loaded, pending: Vec<Pending>, diags: &mut Diagnostics) {
    for p in pending {
        let file = shown(&p.file);
        let id = match loaded.sources.find(&file) {
            Some(id) => id,
            None => loaded.sources.add(file, p.text),
        };
        let mut diag = p.diag.at(Span::new(id, p.range), shown_text(&p.label));
        diag.message = shown_text(&diag.message);
        diag.help = diag.help.map(|h| shown_text(&h));
        diags.push(diag);
    }
}
