//! The schemas a manifest embeds, loaded for the compatibility check: each embedded
//! document stands at a virtual path named by its id, and `schema_refs` maps `$ref` URI
//! prefixes onto those paths, so `$ref`s resolve exactly as they did from the spec's files.

use std::path::{Path, PathBuf};

use crate::manifest::Manifest;
use crate::schema::{Draft, RefMap, ResolvedSchema, SchemaStore};

/// The schemas of one manifest.
pub(crate) struct EmbeddedSchemas<'m> {
    manifest: &'m Manifest,
    root: PathBuf,
    store: SchemaStore,
}

/// A loaded schema: its documents, and the id and sha256 of every file it is made of.
pub(crate) struct Loaded {
    pub resolved: ResolvedSchema,
    pub files: Vec<(String, String)>,
}

impl<'m> EmbeddedSchemas<'m> {
    /// The embedded schemas of `manifest`, placed under the virtual directory `root`.
    pub fn new(manifest: &'m Manifest, root: &str) -> Self {
        let root = PathBuf::from(root);
        let refs = RefMap::new(
            manifest
                .schema_refs
                .iter()
                .map(|(prefix, id)| (prefix.clone(), root.join(id)))
                .collect(),
        );
        let mut store = SchemaStore::new(refs, draft(&manifest.schema_draft));
        for (id, schema) in &manifest.schemas {
            let text = serde_json::to_string_pretty(&schema.document).unwrap_or_default();
            store.add_file(&root.join(id), text);
        }
        EmbeddedSchemas {
            manifest,
            root,
            store,
        }
    }

    /// Loads the schema `id` with everything it refers to.
    pub fn load(&mut self, id: &str) -> Result<Loaded, Vec<String>> {
        let path = self.root.join(id);
        let loaded = self.store.load(&path).map_err(|problems| {
            problems
                .iter()
                .map(|p| format!("{}: {}", self.id_of(&p.file), p.message))
                .collect::<Vec<_>>()
        })?;
        let files = loaded
            .files
            .iter()
            .map(|f| {
                let id = self.id_of(f);
                let sha = self
                    .manifest
                    .schemas
                    .get(&id)
                    .map(|s| s.sha256.clone())
                    .unwrap_or_default();
                (id, sha)
            })
            .collect();
        let resolved = self.store.load_resolved(&path).map_err(|problems| {
            problems
                .iter()
                .map(|p| p.message.clone())
                .collect::<Vec<_>>()
        })?;
        Ok(Loaded { resolved, files })
    }

    /// The schema id of a virtual path.
    fn id_of(&self, path: &Path) -> String {
        let root = SchemaStore::normalized(&self.root);
        path.strip_prefix(&root)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/")
    }
}

/// The draft a manifest's `schema_draft` names (`4`, `6`, `7`, `2019-09`, `2020-12`).
fn draft(name: &str) -> Draft {
    match name {
        "6" => Draft::Draft6,
        "7" => Draft::Draft7,
        "2019-09" => Draft::Draft201909,
        "2020-12" => Draft::Draft202012,
        _ => Draft::Draft4,
    }
}
