//! What `pipec compat` compares: two schema files, two directories of schemas (paired by
//! file name), or two specs (every declared event type, each side with its own
//! `events.schemas`, `events.refs` and draft, in the mode the new spec sets for the type).

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{Change, CompatReport, compare};
use crate::diagnostics::Diagnostics;
use crate::schema::{Draft, RefMap, ResolvedSchema, SchemaProblem, SchemaStore};
use crate::spec::Compatibility;
use crate::spec::load::{LoadOptions, ROOT_FILE_NAMES, load, root_file};
use crate::validate::index::rel;
use crate::validate::schemas::{parse_draft, shown, shown_text};

/// How to compare.
pub struct Options<'a> {
    /// `--mode`: the mode of every subject; when `None`, a spec's per-type or
    /// `events.compatibility` mode, else BACKWARD.
    pub mode: Option<Compatibility>,
    /// `--refs`: `$ref` prefixes mapped to directories. A relative directory is relative
    /// to each side's root: the directory compared, the directory of the schema file, or
    /// the spec's directory.
    pub refs: Vec<(String, PathBuf)>,
    /// Reads environment variables (for a spec's `vars`).
    pub env_lookup: &'a dyn Fn(&str) -> Option<String>,
}

/// What the two paths are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inputs {
    /// Two schema files.
    Files,
    /// Two directories of `*.json` schemas.
    Directories,
    /// Two specs (directories with `pipeline.yaml`, or spec files).
    Specs,
}

impl Inputs {
    /// `files`, `directories` or `specs`.
    pub fn as_str(self) -> &'static str {
        match self {
            Inputs::Files => "files",
            Inputs::Directories => "directories",
            Inputs::Specs => "specs",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Inputs::Files => "a schema file",
            Inputs::Directories => "a directory of schemas",
            Inputs::Specs => "a spec",
        }
    }
}

/// What became of one schema file or event type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Both sides have it: the comparison.
    Compared(CompatReport),
    /// Only the new side has it.
    Added,
    /// Only the old side has it: breaking (unless the mode is NONE), since data of that
    /// type may still be written or read.
    Removed,
    /// A schema could not be loaded: each problem, as a line.
    Failed(Vec<String>),
}

/// One schema file or event type and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// The file name, or the event type.
    pub name: String,
    /// The old schema file (`None` when absent, or for a type without a schema).
    pub old: Option<PathBuf>,
    /// The new schema file.
    pub new: Option<PathBuf>,
    /// The mode the change must keep.
    pub mode: Compatibility,
    /// What happened.
    pub outcome: Outcome,
}

impl Subject {
    /// The changes that break the subject's mode.
    pub fn breaking(&self) -> Vec<&Change> {
        match &self.outcome {
            Outcome::Compared(report) => report.breaking_for(self.mode),
            _ => Vec::new(),
        }
    }

    /// Whether the subject breaks its mode.
    pub fn breaks(&self) -> bool {
        match &self.outcome {
            Outcome::Compared(report) => !report.allows(self.mode),
            Outcome::Removed => self.mode != Compatibility::None,
            Outcome::Added | Outcome::Failed(_) => false,
        }
    }
}

/// Everything compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// What the paths were.
    pub inputs: Inputs,
    /// Each file or type, in name order (spec types in declaration order).
    pub subjects: Vec<Subject>,
}

impl Comparison {
    /// Whether any subject breaks its mode.
    pub fn breaks(&self) -> bool {
        self.subjects.iter().any(Subject::breaks)
    }

    /// Whether any schema could not be loaded.
    pub fn failed(&self) -> bool {
        self.subjects
            .iter()
            .any(|s| matches!(s.outcome, Outcome::Failed(_)))
    }
}

/// A problem with the paths themselves (exit 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

/// Compares the schemas at `old` and `new`.
pub fn compare_paths(old: &Path, new: &Path, opts: &Options<'_>) -> Result<Comparison, UsageError> {
    let (ko, kn) = (inputs(old)?, inputs(new)?);
    if ko != kn {
        return Err(UsageError(format!(
            "`{}` is {} but `{}` is {}: compare two schema files, two directories of schemas, or two specs",
            old.display(),
            ko.name(),
            new.display(),
            kn.name()
        )));
    }
    let subjects = match ko {
        Inputs::Files => files(old, new, opts),
        Inputs::Directories => directories(old, new, opts)?,
        Inputs::Specs => specs(old, new, opts)?,
    };
    Ok(Comparison {
        inputs: ko,
        subjects,
    })
}

fn inputs(path: &Path) -> Result<Inputs, UsageError> {
    if path.is_dir() {
        let spec = ROOT_FILE_NAMES.iter().any(|n| path.join(n).is_file());
        Ok(if spec {
            Inputs::Specs
        } else {
            Inputs::Directories
        })
    } else if path.is_file() {
        let yaml = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
        Ok(if yaml { Inputs::Specs } else { Inputs::Files })
    } else {
        Err(UsageError(format!("`{}` does not exist", path.display())))
    }
}

/// A store for one side, with `--refs` relative to `root`.
fn store(
    opts: &Options<'_>,
    root: &Path,
    mut prefixes: Vec<(String, PathBuf)>,
    draft: Draft,
) -> SchemaStore {
    prefixes.extend(opts.refs.iter().map(|(p, dir)| (p.clone(), root.join(dir))));
    SchemaStore::new(RefMap::new(prefixes), draft)
}

fn parent(path: &Path) -> PathBuf {
    path.parent().map_or_else(PathBuf::new, Path::to_path_buf)
}

/// The problems of a schema, one line each. Outside specs, prefixes are mapped with
/// `--refs` rather than `events.refs`.
fn problem_lines(problems: &[SchemaProblem], in_spec: bool) -> Vec<String> {
    problems
        .iter()
        .map(|p| {
            let mut line = format!("{}: {}: {}", shown(&p.file).display(), p.message, p.label);
            if let Some(help) = &p.help {
                let help = if in_spec {
                    help.clone()
                } else {
                    help.replace("with `events.refs`", "with `--refs PREFIX=DIR`")
                };
                line.push_str(&format!(" ({help})"));
            }
            shown_text(&line)
        })
        .collect()
}

/// Compares one pair; `None` stands for a type without a schema (any value).
fn pair(
    old: (&mut SchemaStore, Option<&Path>),
    new: (&mut SchemaStore, Option<&Path>),
    in_spec: bool,
) -> Outcome {
    let load = |(store, path): (&mut SchemaStore, Option<&Path>)| match path {
        Some(path) => store.load_resolved(path),
        None => Ok(ResolvedSchema::standalone(Value::Bool(true), Draft::Draft4)),
    };
    match (load(old), load(new)) {
        (Ok(a), Ok(b)) => Outcome::Compared(compare(&a, &b)),
        (a, b) => {
            let mut lines = Vec::new();
            for problems in [a.err(), b.err()].into_iter().flatten() {
                for line in problem_lines(&problems, in_spec) {
                    // The same file on both sides has the same problems.
                    if !lines.contains(&line) {
                        lines.push(line);
                    }
                }
            }
            Outcome::Failed(lines)
        }
    }
}

fn files(old: &Path, new: &Path, opts: &Options<'_>) -> Vec<Subject> {
    let mut so = store(opts, &parent(old), Vec::new(), Draft::Draft4);
    let mut sn = store(opts, &parent(new), Vec::new(), Draft::Draft4);
    let name = new
        .file_name()
        .unwrap_or(new.as_os_str())
        .to_string_lossy()
        .into_owned();
    vec![Subject {
        name,
        old: Some(old.to_path_buf()),
        new: Some(new.to_path_buf()),
        mode: opts.mode.unwrap_or(Compatibility::Backward),
        outcome: pair((&mut so, Some(old)), (&mut sn, Some(new)), false),
    }]
}

/// The `*.json` file names of a directory, sorted.
fn json_files(dir: &Path) -> Result<Vec<String>, UsageError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| UsageError(format!("cannot read `{}`: {e}", dir.display())))?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    Ok(names)
}

fn directories(old: &Path, new: &Path, opts: &Options<'_>) -> Result<Vec<Subject>, UsageError> {
    let (no, nn) = (json_files(old)?, json_files(new)?);
    let mut names: Vec<&String> = no.iter().chain(&nn).collect();
    names.sort();
    names.dedup();
    let mut so = store(opts, old, Vec::new(), Draft::Draft4);
    let mut sn = store(opts, new, Vec::new(), Draft::Draft4);
    let mode = opts.mode.unwrap_or(Compatibility::Backward);
    Ok(names
        .into_iter()
        .map(|name| {
            let (po, pn) = (old.join(name), new.join(name));
            let (in_old, in_new) = (no.contains(name), nn.contains(name));
            let outcome = match (in_old, in_new) {
                (true, true) => pair((&mut so, Some(&po)), (&mut sn, Some(&pn)), false),
                (true, false) => Outcome::Removed,
                _ => Outcome::Added,
            };
            Subject {
                name: name.clone(),
                old: in_old.then_some(po),
                new: in_new.then_some(pn),
                mode,
                outcome,
            }
        })
        .collect())
}

/// The event types of one spec and how to load their schemas.
struct SpecTypes {
    store: SchemaStore,
    default_mode: Option<Compatibility>,
    /// Name, schema file (`None`: no schema), mode.
    types: Vec<(String, Option<PathBuf>, Option<Compatibility>)>,
}

fn spec_types(path: &Path, opts: &Options<'_>) -> Result<SpecTypes, UsageError> {
    let root = root_file(path).map_err(|d| UsageError(d.message))?;
    let mut diags = Diagnostics::default();
    let load_opts = LoadOptions {
        env: None,
        env_lookup: opts.env_lookup,
    };
    let loaded = load(path, &load_opts, &mut diags);
    if let Some(first) = diags.sorted().into_iter().find(|d| d.is_error()) {
        return Err(UsageError(format!(
            "cannot read the spec `{}`: {} (`pipec check` shows every problem)",
            path.display(),
            first.message
        )));
    }
    let root_dir = parent(&root);
    let ix = crate::validate::Index::build(&loaded, &mut diags);
    let Some((events, dir)) = ix.events else {
        return Ok(SpecTypes {
            store: store(opts, &root_dir, Vec::new(), Draft::Draft4),
            default_mode: None,
            types: Vec::new(),
        });
    };
    let draft = events
        .draft
        .as_ref()
        .and_then(|d| parse_draft(&d.value))
        .unwrap_or(Draft::Draft4);
    let prefixes = events
        .refs
        .iter()
        .map(|(p, d)| (p.value.clone(), rel(dir, &d.value)))
        .collect();
    let schema_dir = events.schemas.as_ref().map(|s| rel(dir, &s.value));
    let types = ix
        .types
        .iter()
        .map(|t| {
            let name = t.name.value.clone();
            let schema = match t.def.and_then(|d| d.schema.as_ref()) {
                Some(s) if s.value == "none" => None,
                Some(s) => Some(rel(dir, &s.value)),
                None => schema_dir
                    .as_ref()
                    .map(|d| d.join(format!("{}.json", name.to_lowercase()))),
            };
            let mode = t
                .def
                .and_then(|d| d.compatibility.as_ref())
                .map(|m| m.value);
            (name, schema, mode)
        })
        .collect();
    Ok(SpecTypes {
        store: store(opts, &root_dir, prefixes, draft),
        default_mode: events.compatibility.as_ref().map(|m| m.value),
        types,
    })
}

fn specs(old: &Path, new: &Path, opts: &Options<'_>) -> Result<Vec<Subject>, UsageError> {
    let mut so = spec_types(old, opts)?;
    let mut sn = spec_types(new, opts)?;
    let mut subjects = Vec::new();
    for (name, new_schema, new_mode) in &sn.types {
        let mode = opts
            .mode
            .or(*new_mode)
            .or(sn.default_mode)
            .unwrap_or(Compatibility::Backward);
        let old_entry = so.types.iter().find(|(n, _, _)| n == name);
        let outcome = match old_entry {
            Some((_, old_schema, _)) => pair(
                (&mut so.store, old_schema.as_deref()),
                (&mut sn.store, new_schema.as_deref()),
                true,
            ),
            None => Outcome::Added,
        };
        subjects.push(Subject {
            name: name.clone(),
            old: old_entry.and_then(|(_, s, _)| s.clone()),
            new: new_schema.clone(),
            mode,
            outcome,
        });
    }
    for (name, old_schema, old_mode) in &so.types {
        if sn.types.iter().any(|(n, _, _)| n == name) {
            continue;
        }
        subjects.push(Subject {
            name: name.clone(),
            old: old_schema.clone(),
            new: None,
            mode: opts
                .mode
                .or(*old_mode)
                .or(so.default_mode)
                .unwrap_or(Compatibility::Backward),
            outcome: Outcome::Removed,
        });
    }
    Ok(subjects)
}
