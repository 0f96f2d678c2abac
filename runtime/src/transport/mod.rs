//! Transports: how records reach a job and where its outputs go. [`embedded`] runs every
//! job of a manifest in one process with topics as in-memory queues (no broker);
//! [`kafka`] runs them on Kafka, a consumer group per job. Both run the same
//! [`crate::job::Job`]s.

pub mod embedded;
pub mod kafka;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use pipec_compiler::manifest::Manifest;

use crate::RuntimeError;
use crate::store::Store;

/// The value of a finished task, or `None` with its error (or its panic) kept in `first`
/// unless an earlier one is there.
pub(crate) fn joined<T>(
    r: Result<Result<T, RuntimeError>, tokio::task::JoinError>,
    what: &str,
    first: &mut Option<RuntimeError>,
) -> Option<T> {
    match r {
        Ok(Ok(v)) => Some(v),
        Ok(Err(e)) => {
            first.get_or_insert(e);
            None
        }
        Err(e) => {
            first.get_or_insert(RuntimeError::Internal(format!("a {what} task failed: {e}")));
            None
        }
    }
}

/// Closes every store (memory stores write their snapshot), keeping the first error.
pub(crate) async fn close_stores(
    stores: &HashMap<String, Arc<Store>>,
    first: &mut Option<RuntimeError>,
) {
    for s in stores.values() {
        if let Err(e) = s.close().await {
            first.get_or_insert(e);
        }
    }
}

/// The jobs named (all of the manifest's when none is), each checked to exist.
pub(crate) fn select_jobs<'m>(
    manifest: &'m Manifest,
    names: &[String],
) -> Result<Vec<&'m String>, RuntimeError> {
    if names.is_empty() {
        return Ok(manifest.jobs.keys().collect());
    }
    let mut v = Vec::new();
    for j in names {
        match manifest.jobs.get_key_value(j) {
            Some((k, _)) => v.push(k),
            None => {
                return Err(RuntimeError::Config {
                    what: format!(
                        "no job `{j}` in pipeline `{}` (jobs: {})",
                        manifest.pipeline,
                        manifest.jobs.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                });
            }
        }
    }
    Ok(v)
}

/// Opens every store the jobs use, each once (in memory in place of Redis when `memory`).
pub(crate) async fn open_stores(
    manifest: &Manifest,
    jobs: &[&String],
    memory: bool,
    base_dir: &Path,
) -> Result<HashMap<String, Arc<Store>>, RuntimeError> {
    let mut stores: HashMap<String, Arc<Store>> = HashMap::new();
    for name in jobs {
        for s in &manifest.jobs[*name].stores {
            if stores.contains_key(s) {
                continue;
            }
            let def = manifest.stores.get(s).ok_or_else(|| RuntimeError::Config {
                what: format!("job `{name}` uses store `{s}`, which the manifest lacks"),
            })?;
            let def = if memory { as_memory(def) } else { def.clone() };
            stores.insert(s.clone(), Arc::new(Store::open(s, &def, base_dir).await?));
        }
    }
    Ok(stores)
}

fn as_memory(def: &pipec_compiler::manifest::Store) -> pipec_compiler::manifest::Store {
    use pipec_compiler::manifest::{MemoryStore, Store as S};
    match def {
        S::Memory(_) => def.clone(),
        S::Redis(_) => S::Memory(MemoryStore {
            max_keys: None,
            ttl_ms: None,
            snapshot: None,
            load: None,
            key: None,
        }),
    }
}
