//! [`SchemaStore`]: reads each schema file once, checks every `$ref` (transitively) and
//! reports the ones that do not resolve at their bytes, then compiles and shapes schemas.

use std::cell::OnceCell;
use std::collections::{HashMap, HashSet};
use std::io::ErrorKind;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use super::build::{build_shape, doc_uri};
use super::compile::{compile, compile_problem, meta_problems};
use super::refs::{
    FileRef, RawRef, collect_refs, encode_fragment, normalize, resolve_file, resolve_fragment,
    split_ref,
};
use super::text::{char_span, inner, offset_of, value_spans};
use super::{Draft, LoadedSchema, RefMap, ResolvedSchema, SchemaProblem, SchemaProblemKind};
use crate::spec::files::SpecRoot;
use crate::suggest::suggest;

/// Loads schemas, caching every file it reads (text and parsed JSON) and every schema it
/// compiles, so that 40 schemas referring to one `common.json` read it once.
#[derive(Debug)]
pub struct SchemaStore {
    refs: RefMap,
    default_draft: Draft,
    index: HashMap<PathBuf, usize>,
    files: Vec<CachedFile>,
    loaded: HashMap<PathBuf, LoadedSchema>,
    /// When set, files are read only under this root, within its budgets.
    root: Option<SpecRoot>,
}

#[derive(Debug)]
struct CachedFile {
    path: PathBuf,
    text: Option<String>,
    content: Result<Parsed, FileError>,
}

#[derive(Debug)]
enum FileError {
    NotFound,
    Io(String),
    Json(Box<SchemaProblem>),
}

#[derive(Debug)]
struct Parsed {
    json: Value,
    draft: Draft,
    refs: Vec<RawRef>,
    spans: OnceCell<HashMap<String, Range<usize>>>,
    meta: Option<Vec<SchemaProblem>>,
    /// The document with every `$ref` rewritten to an internal URI, once all resolved.
    rewritten: Option<Arc<Value>>,
}

/// How one `$ref` resolved: the site's pointer, the target document and pointer.
type Resolved = (String, usize, String);

impl SchemaStore {
    /// A store resolving mapped URI prefixes with `refs`; files without a `$schema` are
    /// read as `default_draft`.
    pub fn new(refs: RefMap, default_draft: Draft) -> Self {
        SchemaStore {
            refs,
            default_draft,
            index: HashMap::new(),
            files: Vec::new(),
            loaded: HashMap::new(),
            root: None,
        }
    }

    /// Reads files (schemas and what they `$ref`) only as the spec's files are read: regular
    /// files under `root`'s directory, within the size budgets (see [`crate::spec::files`]).
    pub fn within(mut self, root: &SpecRoot) -> Self {
        self.root = Some(SpecRoot::new(root.dir()));
        self
    }

    /// How many distinct files the store has tried to read.
    #[cfg(test)]
    pub(crate) fn cached_file_count(&self) -> usize {
        self.files.len()
    }

    /// The cached text of a file the store has read, for rendering diagnostics.
    pub fn source(&self, path: &Path) -> Option<&str> {
        let idx = *self
            .index
            .get(path)
            .or_else(|| self.index.get(&normalize(path)))?;
        self.files.get(idx)?.text.as_deref()
    }

    /// Every file read that parsed as JSON: its normalized path, text and document, in
    /// the order first read.
    pub fn read_files(&self) -> impl Iterator<Item = (&Path, &str, &Value)> {
        self.files
            .iter()
            .filter_map(|f| match (&f.text, &f.content) {
                (Some(text), Ok(parsed)) => Some((f.path.as_path(), text.as_str(), &parsed.json)),
                _ => None,
            })
    }

    /// The absolute, lexically normalized form of a path, as the store keys files.
    pub fn normalized(path: &Path) -> PathBuf {
        normalize(path)
    }

    /// Adds a file held in memory (a schema embedded in a manifest) as if it had been read
    /// from `path`; a file already read is kept.
    pub fn add_file(&mut self, path: &Path, text: String) {
        let path = normalize(path);
        if self.index.contains_key(&path) {
            return;
        }
        let content = self.parse(&path, &text);
        self.index.insert(path.clone(), self.files.len());
        self.files.push(CachedFile {
            path,
            text: Some(text),
            content,
        });
    }

    /// Loads, checks and compiles the schema at `path`. On failure, returns every problem
    /// found: each unresolvable `$ref` in every file reached, JSON syntax errors, and
    /// meta-schema violations.
    pub fn load(&mut self, path: &Path) -> Result<LoadedSchema, Vec<SchemaProblem>> {
        let root_path = normalize(path);
        if let Some(loaded) = self.loaded.get(&root_path) {
            return Ok(loaded.clone());
        }
        let root = self.file(&root_path);
        if let Some(problem) = self.root_problem(root) {
            return Err(vec![problem]);
        }
        let mut problems = Vec::new();
        let mut order = vec![root];
        let mut seen = HashSet::from([root]);
        let mut reported = HashSet::new();
        let mut next = 0;
        while let Some(&idx) = order.get(next) {
            next += 1;
            let refs = match &self.files[idx].content {
                Ok(parsed) => parsed.refs.clone(),
                Err(_) => continue,
            };
            let mut resolved = Vec::with_capacity(refs.len());
            for r in &refs {
                match self.resolve(idx, r, &mut reported) {
                    Ok((target, pointer)) => {
                        if seen.insert(target) {
                            order.push(target);
                        }
                        resolved.push((r.pointer.clone(), target, pointer));
                    }
                    Err(problem) => problems.extend(problem.map(|p| *p)),
                }
            }
            if resolved.len() == refs.len() {
                self.rewrite(idx, &resolved);
            }
        }
        for &idx in &order {
            problems.extend(self.meta(idx));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let mut docs = HashMap::new();
        let mut by_index = HashMap::new();
        for &idx in &order {
            if let Ok(Parsed {
                rewritten: Some(doc),
                ..
            }) = &self.files[idx].content
            {
                docs.insert(doc_uri(idx), Arc::clone(doc));
                by_index.insert(idx, Arc::clone(doc));
            }
        }
        let draft = match &self.files[root].content {
            Ok(parsed) => parsed.draft,
            Err(_) => self.default_draft,
        };
        let validator = match compile(&doc_uri(root), docs, draft) {
            Ok(v) => Arc::new(v),
            Err(e) => return Err(vec![self.compile_error(root, &e)]),
        };
        let loaded = LoadedSchema {
            path: root_path.clone(),
            draft,
            validator,
            shape: build_shape(&by_index, root, draft),
            files: order.iter().map(|&i| self.files[i].path.clone()).collect(),
        };
        self.loaded.insert(root_path, loaded.clone());
        Ok(loaded)
    }

    /// Loads the schema at `path` like [`SchemaStore::load`] and returns its documents with
    /// every `$ref` resolved, for walking the schema itself rather than validating with it.
    pub fn load_resolved(&mut self, path: &Path) -> Result<ResolvedSchema, Vec<SchemaProblem>> {
        let loaded = self.load(path)?;
        let mut docs = HashMap::new();
        let mut root = None;
        for file in &loaded.files {
            let Some(&idx) = self.index.get(file) else {
                continue;
            };
            root = root.or(Some(idx));
            if let Ok(Parsed {
                rewritten: Some(doc),
                ..
            }) = &self.files[idx].content
            {
                docs.insert(idx, Arc::clone(doc));
            }
        }
        let root = root.unwrap_or_default();
        Ok(ResolvedSchema::from_docs(root, loaded.draft, docs))
    }

    /// The index of the file at `path` (normalized), reading and parsing it if new.
    fn file(&mut self, path: &Path) -> usize {
        if let Some(&idx) = self.index.get(path) {
            return idx;
        }
        let read = match &self.root {
            Some(root) => root.read_text(path).map_err(|e| {
                if e.is_missing() {
                    FileError::NotFound
                } else {
                    FileError::Io(format!("refused: {e}"))
                }
            }),
            None => std::fs::read_to_string(path).map_err(|e| {
                if e.kind() == ErrorKind::NotFound {
                    FileError::NotFound
                } else {
                    FileError::Io(e.to_string())
                }
            }),
        };
        let (text, content) = match read {
            Ok(text) => {
                let content = self.parse(path, &text);
                (Some(text), content)
            }
            Err(e) => (None, Err(e)),
        };
        let idx = self.files.len();
        self.files.push(CachedFile {
            path: path.to_path_buf(),
            text,
            content,
        });
        self.index.insert(path.to_path_buf(), idx);
        idx
    }

    fn parse(&self, path: &Path, text: &str) -> Result<Parsed, FileError> {
        let json: Value = serde_json::from_str(text).map_err(|e| {
            let span = if e.classify() == serde_json::error::Category::Eof {
                text.len()..text.len()
            } else {
                char_span(text, offset_of(text, e.line(), e.column()))
            };
            let full = e.to_string();
            let label = full.split(" at line ").next().unwrap_or(&full).to_string();
            FileError::Json(Box::new(SchemaProblem {
                kind: SchemaProblemKind::Json,
                file: path.to_path_buf(),
                span: Some(span),
                message: "invalid JSON".into(),
                label,
                help: None,
            }))
        })?;
        let draft = json
            .get("$schema")
            .and_then(Value::as_str)
            .and_then(Draft::from_schema_uri)
            .unwrap_or(self.default_draft);
        Ok(Parsed {
            refs: collect_refs(&json),
            json,
            draft,
            spans: OnceCell::new(),
            meta: None,
            rewritten: None,
        })
    }

    fn root_problem(&self, root: usize) -> Option<SchemaProblem> {
        let file = &self.files[root];
        let (kind, message, label) = match &file.content {
            Ok(_) => return None,
            Err(FileError::Json(problem)) => return Some(SchemaProblem::clone(problem)),
            Err(FileError::NotFound) => (
                SchemaProblemKind::NotFound,
                format!("cannot find schema `{}`", file.path.display()),
                "no such file".to_string(),
            ),
            Err(FileError::Io(e)) => (
                SchemaProblemKind::Io,
                format!("cannot read schema `{}`", file.path.display()),
                e.clone(),
            ),
        };
        let help = sibling_help(&file.path);
        Some(problem(kind, &file.path, None, message, label, help))
    }

    /// Resolves one `$ref` written in file `from`. `Err(None)` means the problem is the
    /// target's own JSON error, already reported.
    fn resolve(
        &mut self,
        from: usize,
        r: &RawRef,
        reported: &mut HashSet<usize>,
    ) -> Result<(usize, String), Option<Box<SchemaProblem>>> {
        let from_path = self.files[from].path.clone();
        let (uri, fragment) = split_ref(&r.value);
        let message = format!("cannot resolve `$ref` `{}`", r.value);
        let target_path = match resolve_file(&self.refs, &from_path, uri) {
            FileRef::File(path) => path,
            FileRef::Unmapped(prefix) => {
                let help = format!("map the prefix `{prefix}` to a directory with `events.refs`");
                let label = "no directory is mapped for this URI".to_string();
                return Err(Some(Box::new(self.ref_problem(
                    from,
                    r,
                    message,
                    label,
                    Some(help),
                ))));
            }
        };
        let target = self.file(&target_path);
        let parsed = match &self.files[target].content {
            Ok(parsed) => parsed,
            Err(FileError::NotFound) => {
                let label = format!("no file `{}`", target_path.display());
                let help = sibling_help(&target_path);
                return Err(Some(Box::new(
                    self.ref_problem(from, r, message, label, help),
                )));
            }
            Err(FileError::Io(e)) => {
                let message = format!("cannot read `{}`", target_path.display());
                let mut p = self.ref_problem(from, r, message, e.clone(), None);
                p.kind = SchemaProblemKind::Io;
                return Err(Some(Box::new(p)));
            }
            Err(FileError::Json(p)) => {
                return Err(reported.insert(target).then(|| p.clone()));
            }
        };
        match resolve_fragment(&parsed.json, fragment.unwrap_or("")) {
            Ok(pointer) => Ok((target, pointer)),
            Err(missing) => {
                let name = target_path
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy();
                let label = if fragment.is_some_and(|f| !f.starts_with('/')) {
                    format!("no anchor `{}` in `{name}`", missing.missing)
                } else if missing.found.is_empty() {
                    format!("`{name}` has no `/{}`", missing.missing)
                } else {
                    format!(
                        "`{}` in `{name}` has no `{}`",
                        missing.found, missing.missing
                    )
                };
                let names = missing.candidates.iter().map(String::as_str);
                let help = suggest(&missing.missing, names).map(|c| format!("did you mean `{c}`?"));
                Err(Some(Box::new(
                    self.ref_problem(from, r, message, label, help),
                )))
            }
        }
    }

    /// An [`SchemaProblemKind::UnresolvedRef`] at the value of `r` in file `from`.
    fn ref_problem(
        &self,
        from: usize,
        r: &RawRef,
        message: String,
        label: String,
        help: Option<String>,
    ) -> SchemaProblem {
        let file = &self.files[from];
        let span = self.span(from, &r.pointer);
        let kind = SchemaProblemKind::UnresolvedRef;
        problem(kind, &file.path, span, message, label, help)
    }

    /// The byte range of the value at `pointer` in file `idx` (strings without quotes).
    fn span(&self, idx: usize, pointer: &str) -> Option<Range<usize>> {
        let file = self.files.get(idx)?;
        let (Some(text), Ok(parsed)) = (&file.text, &file.content) else {
            return None;
        };
        let spans = parsed.spans.get_or_init(|| value_spans(text));
        spans.get(pointer).map(|s| inner(text, s.clone()))
    }

    fn rewrite(&mut self, idx: usize, resolved: &[Resolved]) {
        let Ok(parsed) = &mut self.files[idx].content else {
            return;
        };
        if parsed.rewritten.is_some() {
            return;
        }
        let mut doc = parsed.json.clone();
        for (site, target, pointer) in resolved {
            if let Some(value) = doc.pointer_mut(site) {
                *value =
                    Value::String(format!("{}#{}", doc_uri(*target), encode_fragment(pointer)));
            }
        }
        // An unknown `$schema` would make `jsonschema` fetch it; the draft is given instead.
        if let Value::Object(map) = &mut doc {
            let known = map
                .get("$schema")
                .and_then(Value::as_str)
                .and_then(Draft::from_schema_uri);
            if known.is_none() {
                map.remove("$schema");
            }
        }
        parsed.rewritten = Some(Arc::new(doc));
    }

    fn meta(&mut self, idx: usize) -> Vec<SchemaProblem> {
        let file = &mut self.files[idx];
        let (Some(text), Ok(parsed)) = (&file.text, &mut file.content) else {
            return Vec::new();
        };
        parsed
            .meta
            .get_or_insert_with(|| meta_problems(&file.path, text, &parsed.json, parsed.draft))
            .clone()
    }

    fn compile_error(&self, root: usize, error: &jsonschema::ValidationError<'_>) -> SchemaProblem {
        let pointer = error.instance_path().as_str();
        let span = if pointer.is_empty() {
            None
        } else {
            self.span(root, pointer)
        };
        let located = span.is_some();
        let mut p = compile_problem(&self.files[root].path, span, pointer, error.to_string());
        if !located {
            p.message = "schema does not compile".into();
        }
        p
    }
}

fn problem(
    kind: SchemaProblemKind,
    file: &Path,
    span: Option<Range<usize>>,
    message: String,
    label: String,
    help: Option<String>,
) -> SchemaProblem {
    SchemaProblem {
        kind,
        file: file.to_path_buf(),
        span,
        message,
        label,
        help,
    }
}

/// "did you mean `x.json`?" for a missing file, from the JSON files next to it.
fn sibling_help(path: &Path) -> Option<String> {
    let dir = path.parent()?;
    let name = path.file_name()?.to_str()?;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Some(format!("the directory `{}` does not exist", dir.display()));
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    let best = suggest(name, names.iter().map(String::as_str))?;
    Some(format!("did you mean `{best}`?"))
}
