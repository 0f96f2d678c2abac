//! Loading the schema files of the event types (and every file their `$ref`s reach) once
//! each, for embedding in the manifest.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::super::*;
use super::*;
use crate::schema::{RefMap, SchemaStore};
use crate::validate::schemas::parse_draft;

/// Loads schema files (and every file their `$ref`s reach) once each.
pub(super) struct SchemaLoader {
    store: SchemaStore,
    pub(super) draft_name: String,
    refs: Vec<(String, PathBuf)>,
}

impl SchemaLoader {
    pub(super) fn new(cx: &Cx<'_, '_>) -> Self {
        let (events, dir) = match cx.ix.events {
            Some((e, d)) => (Some(e), d),
            None => (None, Path::new("")),
        };
        let draft_text = events
            .and_then(|e| e.draft.as_ref())
            .map_or_else(|| "4".to_string(), |d| d.value.clone());
        let draft = parse_draft(&draft_text).unwrap_or(crate::schema::Draft::Draft4);
        let refs: Vec<(String, PathBuf)> = events
            .map(|e| {
                e.refs
                    .iter()
                    .map(|(prefix, target)| (prefix.value.clone(), rel(dir, &target.value)))
                    .collect()
            })
            .unwrap_or_default();
        SchemaLoader {
            store: SchemaStore::new(RefMap::new(refs.clone()), draft),
            draft_name: draft_text,
            refs,
        }
    }

    /// Loads a schema and returns its id.
    pub(super) fn load(&mut self, cx: &Cx<'_, '_>, path: &Path) -> String {
        // Problems were reported by the checks; a schema that loads is embedded with
        // every file it reaches.
        let _ = self.store.load(path);
        cx.id(path)
    }

    pub(super) fn ref_ids(&self, cx: &Cx<'_, '_>) -> BTreeMap<String, String> {
        self.refs
            .iter()
            .map(|(prefix, dir)| (prefix.clone(), format!("{}/", cx.id(dir))))
            .collect()
    }

    pub(super) fn finish(self, cx: &Cx<'_, '_>) -> BTreeMap<String, Schema> {
        self.store
            .read_files()
            .map(|(path, text, doc)| {
                (
                    cx.id(path),
                    Schema {
                        sha256: sha256_hex(text.as_bytes()),
                        document: doc.clone(),
                    },
                )
            })
            .collect()
    }
}
