//! Loading a spec: the root file and its includes, variable substitution, and reading each
//! file into a [`SpecFile`]. Every problem is collected; a broken file does not stop the others.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::de::{Sink, from_node};
use super::files::{MAX_SPEC_FILES, SpecRoot};
use super::model::SpecFile;
use super::vars::{SubstProblem, Vars, substitute};
use super::yaml::{self, Node, NodeKind};
use crate::diagnostics::{Diagnostic, Diagnostics, catalog};
use crate::source::{FileId, SourceMap, Span};

/// File names looked for when `pipec` is given a directory.
pub const ROOT_FILE_NAMES: &[&str] = &["pipeline.yaml", "pipeline.yml"];

/// How to load.
pub struct LoadOptions<'a> {
    /// `--env`: overrides `vars.env`.
    pub env: Option<String>,
    /// Reads environment variables (`std::env::var` in the CLI, a fixed map in tests).
    pub env_lookup: &'a dyn Fn(&str) -> Option<String>,
}

/// One spec file, read.
#[derive(Debug)]
pub struct LoadedFile {
    /// Its id in the source map.
    pub id: FileId,
    /// Its directory: relative paths in it are relative to this.
    pub dir: PathBuf,
    /// Its content.
    pub spec: SpecFile,
}

/// A loaded spec: all files, in include order, the root first.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The text of every file read (spec files, and later schemas).
    pub sources: SourceMap,
    /// The spec files that could be read.
    pub files: Vec<LoadedFile>,
    /// Variables after `--env` and environment substitution.
    pub vars: BTreeMap<String, String>,
    /// The variables whose value came from the environment (`${NAME}`), which free text
    /// does not take.
    pub env_vars: BTreeSet<String>,
    /// Where the files the spec names must lie, and their size budget.
    pub root: SpecRoot,
    /// Every spec file read (canonical), so that a file included twice is read once.
    read: std::collections::HashSet<PathBuf>,
}

/// Finds the root spec file of a path: the file itself, or `pipeline.yaml` in a directory.
pub fn root_file(path: &Path) -> Result<PathBuf, Box<Diagnostic>> {
    if path.is_dir() {
        ROOT_FILE_NAMES
            .iter()
            .map(|n| path.join(n))
            .find(|p| p.is_file())
            .ok_or_else(|| {
                Box::new(
                    Diagnostic::error(
                        "PC0902",
                        format!("no `pipeline.yaml` in `{}`", path.display()),
                    )
                    .help("pass the spec file, or a directory that holds `pipeline.yaml`"),
                )
            })
    } else if path.is_file() {
        Ok(path.to_path_buf())
    } else {
        Err(Box::new(
            Diagnostic::error("PC0902", format!("`{}` does not exist", path.display()))
                .help("pass the spec file, or a directory that holds `pipeline.yaml`"),
        ))
    }
}

/// Loads the spec at `path` (a file or a directory).
pub fn load(path: &Path, opts: &LoadOptions<'_>, diags: &mut Diagnostics) -> Loaded {
    let mut loaded = Loaded::default();
    let root = match root_file(path) {
        Ok(r) => r,
        Err(d) => {
            diags.push(*d);
            return loaded;
        }
    };
    loaded.root = SpecRoot::for_spec(&root);
    let mut stack = Vec::new();
    load_file(&root, None, None, opts, &mut loaded, &mut stack, diags);
    loaded
}

/// Loads a spec whose root file's text is given (includes are still read from disk,
/// relative to `path`'s directory). Used by fuzzing and editors.
pub fn load_text(
    path: &Path,
    text: String,
    opts: &LoadOptions<'_>,
    diags: &mut Diagnostics,
) -> Loaded {
    let mut loaded = Loaded {
        root: SpecRoot::for_spec(path),
        ..Loaded::default()
    };
    let mut stack = Vec::new();
    load_file(path, None, Some(text), opts, &mut loaded, &mut stack, diags);
    loaded
}

/// The spec's variables, and those of them whose value came from the environment.
fn read_vars(
    root: &Node,
    opts: &LoadOptions<'_>,
    diags: &mut Diagnostics,
) -> (BTreeMap<String, String>, BTreeSet<String>) {
    let mut vars = BTreeMap::new();
    let mut from_env = BTreeSet::new();
    vars.insert("env".to_string(), "dev".to_string());
    let empty = BTreeMap::new();
    if let Some(NodeKind::Map(entries)) = root.get("vars").map(|n| &n.kind) {
        for (kn, vn) in entries {
            if let (Some(k), Some(v)) = (kn.as_scalar(), vn.as_scalar()) {
                let (value, problems) = substitute(
                    &v.value,
                    &Vars {
                        vars: &empty,
                        env: opts.env_lookup,
                        free_text: None,
                    },
                );
                report_subst(problems, v.verbatim_at, vn.span, diags, &[]);
                note_source(&mut from_env, &k.value, &v.value);
                vars.insert(k.value.clone(), value);
            }
        }
    }
    if let Some(env) = &opts.env {
        from_env.remove("env");
        vars.insert("env".to_string(), env.clone());
    }
    // The chosen environment's own variables replace those of the same name.
    let env = vars.get("env").cloned().unwrap_or_default();
    let env_vars = root
        .get("environments")
        .and_then(|e| e.get(&env))
        .and_then(|e| e.get("vars"));
    if let Some(NodeKind::Map(entries)) = env_vars.map(|n| &n.kind) {
        for (kn, vn) in entries {
            if let (Some(k), Some(v)) = (kn.as_scalar(), vn.as_scalar()) {
                if k.value == "env" {
                    diags.push(
                        catalog::invalid_value("an environment cannot set `env`".into())
                            .at(kn.span, "set by `--env`")
                            .help("remove it; the environment's name is its `env`"),
                    );
                    continue;
                }
                let (value, problems) = substitute(
                    &v.value,
                    &Vars {
                        vars: &empty,
                        env: opts.env_lookup,
                        free_text: None,
                    },
                );
                report_subst(problems, v.verbatim_at, vn.span, diags, &[]);
                note_source(&mut from_env, &k.value, &v.value);
                vars.insert(k.value.clone(), value);
            }
        }
    }
    (vars, from_env)
}

/// Records whether variable `name`, written as `raw`, takes its value from the environment.
fn note_source(from_env: &mut BTreeSet<String>, name: &str, raw: &str) {
    if raw.contains("${") {
        from_env.insert(name.to_string());
    } else {
        from_env.remove(name);
    }
}

fn report_subst(
    problems: Vec<SubstProblem>,
    verbatim_at: Option<usize>,
    node_span: Span,
    diags: &mut Diagnostics,
    known: &[&str],
) {
    for p in problems {
        let (d, range) = match p {
            SubstProblem::UndefinedVar { name, range } => {
                (catalog::undefined_var(&name, known), range)
            }
            SubstProblem::UnsetEnv { name, range } => (catalog::unset_env(&name), range),
            SubstProblem::EnvInText { name, range } => (env_in_text(&name), range),
        };
        let span = match verbatim_at {
            Some(at) => Span::new(node_span.file, at + range.start..at + range.end),
            None => node_span,
        };
        diags.push(d.at(span, "used here"));
    }
}

/// A value from the environment in free text: it would be published as it is.
fn env_in_text(name: &str) -> Diagnostic {
    Diagnostic::error(
        "PC0309",
        format!("a description takes `{name}` from the environment"),
    )
    .help(
        "write the text out: descriptions are copied into manifest.json and the Helm chart, where a \
         value from the environment (a secret, perhaps) would be published; variables written in the \
         spec, such as `{env}`, may be used",
    )
}

/// Whether the value at `path` (mapping keys from a spec file's top) is free text: a
/// description of the pipeline, an event type, a topic, a stream or a report.
fn is_free_text(path: &[String]) -> bool {
    match path {
        [d] => d == "description",
        [section, _, d] => {
            matches!(section.as_str(), "topics" | "streams" | "reports") && d == "description"
        }
        [events, types, _, d] => events == "events" && types == "types" && d == "description",
        _ => false,
    }
}

/// Substitutes variables in every scalar value (not in keys, and not in `vars` itself).
/// `path` holds the mapping keys from the file's top to `node` (`[]` for sequence items).
fn substitute_tree(
    node: &mut Node,
    vars: &Vars<'_>,
    diags: &mut Diagnostics,
    known: &[&str],
    top: bool,
    path: &mut Vec<String>,
    env_vars: &BTreeSet<String>,
) {
    match &mut node.kind {
        NodeKind::Scalar(s) => {
            if !s.value.contains('{') && !s.value.contains('}') {
                return;
            }
            let text_vars;
            let vars = match vars.free_text {
                None if is_free_text(path) => {
                    text_vars = Vars {
                        free_text: Some(env_vars),
                        ..*vars
                    };
                    &text_vars
                }
                _ => vars,
            };
            let (value, problems) = substitute(&s.value, vars);
            report_subst(problems, s.verbatim_at, node.span, diags, known);
            if value != s.value {
                s.value = value;
                s.verbatim_at = None;
            }
        }
        NodeKind::Seq(items) => {
            for item in items {
                path.push("[]".into());
                substitute_tree(item, vars, diags, known, false, path, env_vars);
                path.pop();
            }
        }
        NodeKind::Map(entries) => {
            for (k, v) in entries {
                let key = k.as_scalar().map(|s| s.value.as_str());
                if top && key == Some("vars") {
                    continue;
                }
                if top && key == Some("environments") {
                    // Each environment's `vars` are variables, substituted when chosen.
                    if let NodeKind::Map(envs) = &mut v.kind {
                        for (_, e) in envs {
                            substitute_tree(e, vars, diags, known, true, &mut Vec::new(), env_vars);
                        }
                    }
                    continue;
                }
                path.push(key.unwrap_or_default().to_string());
                substitute_tree(v, vars, diags, known, false, path, env_vars);
                path.pop();
            }
        }
    }
}

fn load_file(
    path: &Path,
    include_span: Option<Span>,
    given_text: Option<String>,
    opts: &LoadOptions<'_>,
    loaded: &mut Loaded,
    stack: &mut Vec<PathBuf>,
    diags: &mut Diagnostics,
) {
    let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    if stack.contains(&canonical) {
        let mut d = catalog::include_cycle(&path.display().to_string());
        if let Some(s) = include_span {
            d = d.at(s, "included again here");
        }
        diags.push(d);
        return;
    }
    // A file included from several places (a diamond) is read once: its definitions are
    // the same each time.
    if loaded.read.contains(&canonical) {
        return;
    }
    if loaded.read.len() >= MAX_SPEC_FILES {
        let mut d = catalog::over_budget(format!(
            "the spec includes more than {MAX_SPEC_FILES} files"
        ));
        if let Some(s) = include_span {
            d = d.at(s, "one too many");
        }
        diags.push(d);
        return;
    }
    let read = match given_text {
        Some(t) => Ok(t),
        // The root file is the spec itself; what it includes must be under its root.
        None if include_span.is_none() => std::fs::metadata(path)
            .map_err(|e| super::files::Refused::Io(e.to_string()))
            .and_then(|m| {
                if m.len() > super::files::MAX_FILE_BYTES {
                    Err(super::files::Refused::TooLarge(m.len()))
                } else {
                    std::fs::read_to_string(path)
                        .map_err(|e| super::files::Refused::Io(e.to_string()))
                }
            }),
        None => loaded.root.read_text(path),
    };
    let text = match read {
        Ok(t) => t,
        Err(e) => {
            let mut d = if e.is_missing() || matches!(e, super::files::Refused::Io(_)) {
                catalog::cannot_read("spec file", &path.display().to_string(), &e.to_string())
            } else {
                catalog::file_refused("spec file", &path.display().to_string(), &e)
            };
            if let Some(s) = include_span {
                d = d.at(s, "included here");
            }
            diags.push(d);
            return;
        }
    };
    loaded.read.insert(canonical.clone());
    let id = loaded.sources.add(path, text);
    let text = loaded
        .sources
        .get(id)
        .map(|f| f.text.clone())
        .unwrap_or_default();
    let (node, problems) = yaml::parse(id, &text);
    for p in problems {
        if p.fatal && p.message == yaml::ALIAS_BUDGET_MESSAGE {
            diags.push(
                catalog::over_budget(format!(
                    "YAML aliases expand to more than {} nodes",
                    yaml::MAX_ALIAS_NODES
                ))
                .at(p.span, "this alias goes over"),
            );
        } else if p.fatal {
            diags.push(catalog::yaml_syntax(&p.message).at(p.span, "here"));
        } else if p.first.is_some() {
            diags.push(catalog::duplicate_key(&p.message, p.span, p.first));
        } else {
            diags.push(catalog::invalid_value(p.message).at(p.span, "here"));
        }
    }
    let Some(mut node) = node else { return };
    if loaded.files.is_empty() {
        (loaded.vars, loaded.env_vars) = read_vars(&node, opts, diags);
    } else if let Some(v) = node.get("vars") {
        diags.push(
            catalog::invalid_value("`vars` belong in the root spec file".into())
                .at(v.span, "in an included file")
                .help("move these variables to the root file"),
        );
    }
    let known: Vec<&str> = loaded.vars.keys().map(String::as_str).collect();
    let vars = Vars {
        vars: &loaded.vars,
        env: opts.env_lookup,
        free_text: None,
    };
    let mut sub_diags = Diagnostics::default();
    substitute_tree(
        &mut node,
        &vars,
        &mut sub_diags,
        &known,
        true,
        &mut Vec::new(),
        &loaded.env_vars,
    );
    diags.extend(sub_diags.iter().cloned());
    let sink = Sink::default();
    let spec: SpecFile = from_node(&node, &sink).unwrap_or_default();
    diags.extend(sink.take());
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let includes = spec.include.clone();
    loaded.files.push(LoadedFile {
        id,
        dir: dir.clone(),
        spec,
    });
    stack.push(canonical);
    for inc in includes {
        let target = dir.join(&inc.value);
        if target.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(&target)
                .map(|rd| {
                    rd.filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
                        .collect()
                })
                .unwrap_or_default();
            entries.sort();
            for e in entries {
                load_file(&e, Some(inc.span), None, opts, loaded, stack, diags);
            }
        } else {
            load_file(&target, Some(inc.span), None, opts, loaded, stack, diags);
        }
    }
    stack.pop();
}
