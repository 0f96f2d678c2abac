//! The merged view of all spec files that the checks work on: every named definition with
//! the file it came from, and lookups by name.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::diagnostics::{Diagnostics, catalog};
use crate::source::Span;
use crate::spec::druid::Datasource;
use crate::spec::load::{Loaded, LoadedFile};
use crate::spec::{
    Backup, Cluster, Database, EventType, OrderedMap, Report, SeqOr, Spanned, SpecFile, SpecTest,
    Store, Stream, Topic,
};

/// A named definition and the file that holds it.
#[derive(Debug)]
pub struct Item<'a, T> {
    /// The name, as written.
    pub name: &'a Spanned<String>,
    /// The definition.
    pub def: &'a T,
    /// Directory of the file that defines it.
    pub dir: &'a Path,
}

/// Definitions of one kind, in source order.
#[derive(Debug)]
pub struct Named<'a, T> {
    /// What they are called in messages ("topic").
    pub what: &'static str,
    /// Their section in the spec ("topics").
    pub section: &'static str,
    /// The definitions (the first of each name).
    pub items: Vec<Item<'a, T>>,
    /// Names whose definition could not be read (already reported).
    pub broken: HashSet<&'a str>,
    by_name: HashMap<&'a str, usize>,
}

impl<'a, T> Named<'a, T> {
    fn new(what: &'static str, section: &'static str) -> Self {
        Named {
            what,
            section,
            items: Vec::new(),
            broken: HashSet::new(),
            by_name: HashMap::new(),
        }
    }

    fn add(&mut self, map: &'a OrderedMap<T>, dir: &'a Path, diags: &mut Diagnostics) {
        for (name, def) in map.iter() {
            if let Some(first) = self.get(&name.value) {
                diags.push(catalog::duplicate_name(
                    self.what,
                    &name.value,
                    name.span,
                    first.name.span,
                ));
                continue;
            }
            self.by_name.insert(&name.value, self.items.len());
            self.items.push(Item { name, def, dir });
        }
        self.broken.extend(map.1.iter().map(|k| k.value.as_str()));
    }

    /// The definition of a name.
    pub fn get(&self, name: &str) -> Option<&Item<'a, T>> {
        self.by_name.get(name).and_then(|&i| self.items.get(i))
    }

    /// Whether the name is defined (or its definition was broken and already reported).
    pub fn knows(&self, name: &str) -> bool {
        self.get(name).is_some() || self.broken.contains(name)
    }

    /// All names.
    pub fn names(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.items.iter().map(|i| i.name.value.as_str())
    }

    /// Reports `reference` with `code` unless it names a definition.
    pub fn resolve(
        &self,
        code: &'static str,
        reference: &Spanned<String>,
        diags: &mut Diagnostics,
    ) -> Option<&Item<'a, T>> {
        if let Some(i) = self.get(&reference.value) {
            return Some(i);
        }
        if !self.broken.contains(reference.value.as_str()) {
            diags.push(catalog::unknown_ref(
                code,
                self.what,
                &reference.value,
                reference.span,
                self.names(),
                self.section,
            ));
        }
        None
    }
}

/// An event type declared in `events.types`.
#[derive(Debug)]
pub struct TypeDecl<'a> {
    /// The type name, as written.
    pub name: &'a Spanned<String>,
    /// Its settings, when written as a mapping.
    pub def: Option<&'a EventType>,
}

/// Everything the checks need, merged over the files.
#[derive(Debug)]
pub struct Index<'a> {
    /// The root file.
    pub root: Option<&'a LoadedFile>,
    /// Clusters.
    pub clusters: Named<'a, Cluster>,
    /// Stores.
    pub stores: Named<'a, Store>,
    /// Topics.
    pub topics: Named<'a, Topic>,
    /// Streams.
    pub streams: Named<'a, Stream>,
    /// Backups.
    pub backups: Named<'a, Backup>,
    /// Reports.
    pub reports: Named<'a, Report>,
    /// Databases.
    pub databases: Named<'a, Database>,
    /// Druid datasources.
    pub datasources: Named<'a, Datasource>,
    /// Declared event types, in order.
    pub types: Vec<TypeDecl<'a>>,
    /// Where `events` is written and the directory of that file.
    pub events: Option<(&'a crate::spec::Events, &'a Path)>,
    /// Tests, with the directory of their file.
    pub tests: Vec<(&'a Spanned<SpecTest>, &'a Path)>,
    /// Variables.
    pub vars: &'a BTreeMap<String, String>,
    /// The text of every file, for positions inside strings.
    pub sources: &'a crate::source::SourceMap,
    /// Where the files the spec names must lie; read them through it.
    pub files: &'a crate::spec::files::SpecRoot,
}

impl<'a> Index<'a> {
    /// Builds the index, reporting duplicate names and misplaced root settings.
    pub fn build(loaded: &'a Loaded, diags: &mut Diagnostics) -> Self {
        let mut ix = Index {
            root: loaded.files.first(),
            clusters: Named::new("cluster", "clusters"),
            stores: Named::new("store", "stores"),
            topics: Named::new("topic", "topics"),
            streams: Named::new("stream", "streams"),
            backups: Named::new("backup", "backups"),
            reports: Named::new("report", "reports"),
            databases: Named::new("database", "databases"),
            datasources: Named::new("Druid datasource", "druid.datasources"),
            types: Vec::new(),
            events: None,
            tests: Vec::new(),
            vars: &loaded.vars,
            sources: &loaded.sources,
            files: &loaded.root,
        };
        let mut seen_types: BTreeMap<&str, Span> = BTreeMap::new();
        for (i, f) in loaded.files.iter().enumerate() {
            let s: &SpecFile = &f.spec;
            let dir = f.dir.as_path();
            if i > 0
                && let Some(p) = &s.pipeline
            {
                diags.push(
                    catalog::invalid_value("`pipeline` belongs in the root spec file".into())
                        .at(p.span, "in an included file")
                        .help("remove it; the root file names the pipeline"),
                );
            }
            if i > 0
                && let Some((k, _)) = s.environments.iter().next()
            {
                diags.push(
                    catalog::invalid_value("`environments` belong in the root spec file".into())
                        .at(k.span, "in an included file")
                        .help("move the environments to the root file"),
                );
            }
            ix.clusters.add(&s.clusters, dir, diags);
            ix.stores.add(&s.stores, dir, diags);
            ix.topics.add(&s.topics, dir, diags);
            ix.streams.add(&s.streams, dir, diags);
            ix.backups.add(&s.backups, dir, diags);
            ix.reports.add(&s.reports, dir, diags);
            ix.databases.add(&s.databases, dir, diags);
            if let Some(d) = &s.druid {
                ix.datasources.add(&d.datasources, dir, diags);
            }
            ix.tests.extend(s.tests.iter().map(|t| (t, dir)));
            if let Some(ev) = &s.events {
                if ix.events.is_some() {
                    diags.push(
                        catalog::invalid_value("`events` is set in more than one file".into())
                            .at(f_span(f), "set again in this file")
                            .help("keep one `events` section"),
                    );
                    continue;
                }
                ix.events = Some((ev, dir));
                let decls: Vec<TypeDecl<'a>> = match &ev.types {
                    Some(SeqOr::Seq(list)) => list
                        .iter()
                        .map(|n| TypeDecl { name: n, def: None })
                        .collect(),
                    Some(SeqOr::Full(map)) => map
                        .iter()
                        .map(|(n, d)| TypeDecl {
                            name: n,
                            def: d.as_ref(),
                        })
                        .collect(),
                    None => Vec::new(),
                };
                for d in decls {
                    if let Some(first) = seen_types.get(d.name.value.as_str()) {
                        diags.push(catalog::duplicate_name(
                            "event type",
                            &d.name.value,
                            d.name.span,
                            *first,
                        ));
                        continue;
                    }
                    seen_types.insert(&d.name.value, d.name.span);
                    ix.types.push(d);
                }
            }
        }
        if let Some(root) = ix.root
            && root.spec.pipeline.is_none()
        {
            diags.push(
                crate::diagnostics::Diagnostic::error(
                    "PC0901",
                    "the spec does not name its pipeline",
                )
                .at(Span::new(root.id, 0..0), "root spec file")
                .help("add `pipeline: <name>` at the top"),
            );
        }
        ix
    }

    /// The field naming an event's type (default `eid`).
    pub fn type_field(&self) -> &str {
        self.events
            .and_then(|(e, _)| e.type_field.as_ref())
            .map_or("eid", |t| t.value.as_str())
    }

    /// Whether an event type is declared.
    pub fn has_type(&self, name: &str) -> bool {
        self.types.iter().any(|t| t.name.value == name)
    }

    /// Reports an unknown event type.
    pub fn resolve_type(&self, reference: &Spanned<String>, diags: &mut Diagnostics) -> bool {
        if self.has_type(&reference.value) {
            return true;
        }
        diags.push(catalog::unknown_ref(
            "PC0105",
            "event type",
            &reference.value,
            reference.span,
            self.types.iter().map(|t| t.name.value.as_str()),
            "events.types",
        ));
        false
    }
}

fn f_span(f: &LoadedFile) -> Span {
    Span::new(f.id, 0..0)
}

/// A path relative to a spec file's directory, with `.` and `..` folded away lexically so
/// that messages show `schemas/x.json` rather than `spec/../schemas/x.json`.
pub fn rel(dir: &Path, p: &str) -> PathBuf {
    use std::path::Component;
    let mut parts: Vec<Component<'_>> = Vec::new();
    let joined = dir.join(p);
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(parts.last(), Some(Component::Normal(_))) => {
                parts.pop();
            }
            Component::ParentDir if matches!(parts.last(), Some(Component::RootDir)) => {}
            other => parts.push(other),
        }
    }
    parts.iter().map(|c| c.as_os_str()).collect()
}

#[cfg(test)]
mod tests {
    use super::rel;
    use std::path::{Path, PathBuf};

    #[test]
    fn rel_folds_dots() {
        assert_eq!(
            rel(Path::new("a/b"), "../../c/x.json"),
            PathBuf::from("c/x.json")
        );
        assert_eq!(rel(Path::new("a"), "./x.json"), PathBuf::from("a/x.json"));
        assert_eq!(rel(Path::new(""), "../x"), PathBuf::from("../x"));
    }
}
