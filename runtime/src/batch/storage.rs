//! Where backups and report files live: a local directory (the default) or an object store
//! (`s3://bucket/prefix`, configured from the usual `AWS_*` variables; `AWS_ENDPOINT` and
//! `AWS_ALLOW_HTTP=true` for an S3-compatible server). Keys are `/`-separated paths below
//! the root. A file becomes visible whole: local files are written under a hidden name,
//! synced and renamed; an object is uploaded in one request, or uploaded under a hidden
//! key and copied.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures::TryStreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use crate::RuntimeError;

/// The root of the data a pipeline writes and reads.
#[derive(Debug, Clone)]
pub enum Root {
    /// A local directory.
    Local(PathBuf),
    /// An object store: the store, its URL (`s3://bucket`) and the prefix below it.
    Object {
        /// The store.
        store: Arc<dyn ObjectStore>,
        /// `s3://bucket`.
        url: String,
        /// Keys below this prefix.
        prefix: String,
    },
}

/// One file listed under a root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// Its key, relative to the root.
    pub key: String,
    /// Its size in bytes.
    pub size: u64,
}

fn io(what: &str, p: &Path, e: &std::io::Error) -> RuntimeError {
    RuntimeError::Io {
        what: format!("{what} `{}`", p.display()),
        reason: e.to_string(),
    }
}

fn object(what: &str, key: &str, e: &object_store::Error) -> RuntimeError {
    RuntimeError::Unavailable {
        system: "object store".into(),
        reason: format!("{what} `{key}`: {e}"),
    }
}

/// Whether a file name is hidden (a file being written, or not data): `.x` and `_x`.
pub fn hidden(name: &str) -> bool {
    name.starts_with('.') || name.starts_with('_')
}

impl Root {
    /// The root named by `spec`: `s3://bucket[/prefix]`, or a directory (relative ones
    /// against `base`).
    pub fn parse(spec: &str, base: &Path) -> Result<Root, RuntimeError> {
        if let Some(rest) = spec.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(RuntimeError::Config {
                    what: format!("`{spec}` names no bucket"),
                });
            }
            let store = object_store::aws::AmazonS3Builder::from_env()
                .with_bucket_name(bucket)
                .build()
                .map_err(|e| RuntimeError::Config {
                    what: format!("object store `{spec}`: {e}"),
                })?;
            return Ok(Root::Object {
                store: Arc::new(store),
                url: format!("s3://{bucket}"),
                prefix: prefix.trim_matches('/').to_string(),
            });
        }
        if spec.contains("://") {
            return Err(RuntimeError::Config {
                what: format!("`{spec}`: only local directories and `s3://` are supported"),
            });
        }
        let p = Path::new(spec);
        Ok(Root::Local(if p.is_absolute() {
            p.to_path_buf()
        } else {
            base.join(p)
        }))
    }

    /// The root below `sub` (a key prefix), for a path template's fixed part.
    pub fn child(&self, sub: &str) -> Root {
        let sub = sub.trim_matches('/');
        match self {
            Root::Local(p) => Root::Local(p.join(sub)),
            Root::Object { store, url, prefix } => Root::Object {
                store: Arc::clone(store),
                url: url.clone(),
                prefix: join(prefix, sub),
            },
        }
    }

    /// A local path of `key`, for a local root.
    pub fn local_path(&self, key: &str) -> Option<PathBuf> {
        match self {
            Root::Local(p) => Some(p.join(key)),
            Root::Object { .. } => None,
        }
    }

    /// The URL of `key` as DataFusion reads it (`file:///...` or `s3://bucket/...`).
    pub fn url(&self, key: &str) -> Result<String, RuntimeError> {
        match self {
            Root::Local(p) => {
                let path = p.join(key);
                let abs = if path.is_absolute() {
                    path
                } else {
                    std::env::current_dir()
                        .map_err(|e| io("the current directory", Path::new("."), &e))?
                        .join(path)
                };
                // Without `.` parts, as DataFusion shows the path (rows read are found by it).
                let abs: PathBuf = abs
                    .components()
                    .filter(|c| !matches!(c, std::path::Component::CurDir))
                    .collect();
                Ok(format!("file://{}", abs.display()))
            }
            Root::Object { url, prefix, .. } => Ok(format!("{url}/{}", join(prefix, key))),
        }
    }

    /// The object store and its URL, for an object store root.
    pub fn object_store(&self) -> Option<(&Arc<dyn ObjectStore>, &str)> {
        match self {
            Root::Object { store, url, .. } => Some((store, url.as_str())),
            Root::Local(_) => None,
        }
    }

    fn key(prefix: &str, key: &str) -> ObjectPath {
        ObjectPath::from(join(prefix, key))
    }

    /// Every file under `dir` (a key prefix; or the file `dir` names), hidden ones left
    /// out, sorted by key.
    pub async fn list(&self, dir: &str) -> Result<Vec<Listed>, RuntimeError> {
        let mut out = Vec::new();
        match self {
            Root::Local(root) => {
                let base = root.join(dir);
                if base.is_dir() {
                    walk(&base, dir.trim_matches('/'), &mut out)?;
                } else if let Ok(meta) = std::fs::metadata(&base)
                    && meta.is_file()
                    && !dir.split('/').any(hidden)
                {
                    out.push(Listed {
                        key: dir.trim_matches('/').to_string(),
                        size: meta.len(),
                    });
                }
            }
            Root::Object { store, prefix, .. } => {
                let p = Root::key(prefix, dir);
                let found: Vec<_> = store
                    .list(Some(&p))
                    .try_collect()
                    .await
                    .map_err(|e| object("listing", dir, &e))?;
                let strip = if prefix.is_empty() {
                    String::new()
                } else {
                    format!("{prefix}/")
                };
                for m in found {
                    let full = m.location.to_string();
                    let key = full.strip_prefix(&strip).unwrap_or(&full).to_string();
                    if key.split('/').any(hidden) {
                        continue;
                    }
                    out.push(Listed { key, size: m.size });
                }
            }
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    /// The bytes of `key`.
    pub async fn read(&self, key: &str) -> Result<Vec<u8>, RuntimeError> {
        match self {
            Root::Local(root) => {
                let p = root.join(key);
                std::fs::read(&p).map_err(|e| io("reading", &p, &e))
            }
            Root::Object { store, prefix, .. } => {
                let got = store
                    .get(&Root::key(prefix, key))
                    .await
                    .map_err(|e| object("reading", key, &e))?;
                let bytes = got.bytes().await.map_err(|e| object("reading", key, &e))?;
                Ok(bytes.to_vec())
            }
        }
    }

    /// Writes `bytes` to `key`, visible only once whole (see the module's documentation).
    pub async fn write_atomic(&self, key: &str, bytes: Vec<u8>) -> Result<(), RuntimeError> {
        match self {
            Root::Local(root) => {
                let p = root.join(key);
                let tmp = hidden_sibling(&p, "tmp");
                write_synced(&tmp, &bytes)?;
                rename_synced(&tmp, &p)
            }
            Root::Object { store, prefix, .. } => {
                store
                    .put(&Root::key(prefix, key), PutPayload::from(bytes))
                    .await
                    .map_err(|e| object("writing", key, &e))?;
                Ok(())
            }
        }
    }

    /// Moves `from` to `to` (both keys). Never replaces a file: a `to` that exists is an
    /// error, except on an object store when it has `from`'s size (a move that stopped
    /// between its copy and its delete; the delete is finished).
    pub async fn rename(&self, from: &str, to: &str) -> Result<(), RuntimeError> {
        match self {
            Root::Local(root) => rename_new(&root.join(from), &root.join(to)),
            Root::Object { store, prefix, .. } => {
                let (f, t) = (Root::key(prefix, from), Root::key(prefix, to));
                let size = |r: Result<object_store::ObjectMeta, object_store::Error>, k| match r {
                    Ok(m) => Ok(Some(m.size)),
                    Err(object_store::Error::NotFound { .. }) => Ok(None),
                    Err(e) => Err(object("looking up", k, &e)),
                };
                if let Some(had) = size(store.head(&t).await, to)? {
                    return match size(store.head(&f).await, from)? {
                        Some(s) if s == had => store
                            .delete(&f)
                            .await
                            .map_err(|e| object("deleting", from, &e)),
                        _ => Err(RuntimeError::Io {
                            what: format!("renaming `{from}`"),
                            reason: format!("`{to}` exists already; it is left as it is"),
                        }),
                    };
                }
                store
                    .rename(&f, &t)
                    .await
                    .map_err(|e| object("renaming", from, &e))
            }
        }
    }

    /// Whether `key` exists.
    pub async fn exists(&self, key: &str) -> Result<bool, RuntimeError> {
        match self {
            Root::Local(root) => Ok(root.join(key).exists()),
            Root::Object { store, prefix, .. } => match store.head(&Root::key(prefix, key)).await {
                Ok(_) => Ok(true),
                Err(object_store::Error::NotFound { .. }) => Ok(false),
                Err(e) => Err(object("looking up", key, &e)),
            },
        }
    }

    /// Deletes `key` (nothing when it is not there).
    pub async fn delete(&self, key: &str) -> Result<(), RuntimeError> {
        match self {
            Root::Local(root) => {
                let p = root.join(key);
                match std::fs::remove_file(&p) {
                    Ok(()) => Ok(()),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                    Err(e) => Err(io("deleting", &p, &e)),
                }
            }
            Root::Object { store, prefix, .. } => match store.delete(&Root::key(prefix, key)).await
            {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(object("deleting", key, &e)),
            },
        }
    }

    /// Uploads the local file `from` to `key` (object stores), or moves it there (local
    /// roots: `from` must be on the same file system; it is synced first).
    pub async fn put_file(&self, from: &Path, key: &str) -> Result<(), RuntimeError> {
        match self {
            Root::Local(root) => rename_synced(from, &root.join(key)),
            Root::Object { .. } => {
                let bytes = std::fs::read(from).map_err(|e| io("reading", from, &e))?;
                self.write_atomic(key, bytes).await?;
                let _ = std::fs::remove_file(from);
                Ok(())
            }
        }
    }
}

/// `a/b` of two key parts, either of which may be empty.
pub fn join(a: &str, b: &str) -> String {
    let (a, b) = (a.trim_matches('/'), b.trim_matches('/'));
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_string(),
        (_, true) => a.to_string(),
        _ => format!("{a}/{b}"),
    }
}

/// `.<name>.<tag>-<pid>` beside `p`.
pub fn hidden_sibling(p: &Path, tag: &str) -> PathBuf {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    p.with_file_name(format!(".{name}.{tag}-{}", std::process::id()))
}

/// Writes a file and syncs it to disk, creating its directory.
pub fn write_synced(p: &Path, bytes: &[u8]) -> Result<(), RuntimeError> {
    use std::io::Write;
    if let Some(dir) = p.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io("creating", dir, &e))?;
    }
    let mut f = std::fs::File::create(p).map_err(|e| io("creating", p, &e))?;
    f.write_all(bytes).map_err(|e| io("writing", p, &e))?;
    f.sync_all().map_err(|e| io("syncing", p, &e))
}

/// Renames `from` to `to` (creating `to`'s directory) and syncs the directory, so that the
/// rename survives a crash.
pub fn rename_synced(from: &Path, to: &Path) -> Result<(), RuntimeError> {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io("creating", dir, &e))?;
    }
    std::fs::rename(from, to).map_err(|e| io("renaming", from, &e))?;
    if let Some(dir) = to.parent()
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Moves `from` to `to`, which must not exist (a hard link then an unlink, so that no
/// moment replaces a file), and syncs `to`'s folder.
fn rename_new(from: &Path, to: &Path) -> Result<(), RuntimeError> {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io("creating", dir, &e))?;
    }
    match std::fs::hard_link(from, to) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(RuntimeError::Io {
                what: format!("renaming `{}`", from.display()),
                reason: format!("`{}` exists already; it is left as it is", to.display()),
            });
        }
        Err(e) => return Err(io("renaming", from, &e)),
    }
    std::fs::remove_file(from).map_err(|e| io("renaming", from, &e))?;
    if let Some(dir) = to.parent()
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    Ok(())
}

fn walk(dir: &Path, key: &str, out: &mut Vec<Listed>) -> Result<(), RuntimeError> {
    let entries = std::fs::read_dir(dir).map_err(|e| io("listing", dir, &e))?;
    for e in entries {
        let e = e.map_err(|e| io("listing", dir, &e))?;
        let name = e.file_name().to_string_lossy().into_owned();
        if hidden(&name) {
            continue;
        }
        let k = join(key, &name);
        let ty = e.file_type().map_err(|x| io("listing", &e.path(), &x))?;
        if ty.is_dir() {
            walk(&e.path(), &k, out)?;
        } else if ty.is_file() {
            let size = e.metadata().map(|m| m.len()).unwrap_or(0);
            out.push(Listed { key: k, size });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_file_named_whole_is_listed() {
        let dir = tempfile::tempdir().expect("tmp");
        let root = Root::Local(dir.path().to_path_buf());
        root.write_atomic("csv/users.csv", b"a\n1\n".to_vec())
            .await
            .expect("write");
        let listed = root.list("csv/users.csv").await.expect("list");
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].key, "csv/users.csv");
        assert!(root.list("csv/nope.csv").await.expect("list").is_empty());
    }

    #[tokio::test]
    async fn local_writes_are_whole_and_listed_without_hidden_files() {
        let dir = tempfile::tempdir().expect("tmp");
        let root = Root::parse("data", dir.path()).expect("root");
        root.write_atomic("a/2024-01-01/x.ndjson", b"{}\n".to_vec())
            .await
            .expect("write");
        std::fs::write(dir.path().join("data/a/2024-01-01/.y.tmp"), b"half").expect("tmp");
        let listed = root.list("a").await.expect("list");
        assert_eq!(
            listed,
            vec![Listed {
                key: "a/2024-01-01/x.ndjson".into(),
                size: 3
            }]
        );
        root.rename("a/2024-01-01/x.ndjson", "b/x.ndjson")
            .await
            .expect("rename");
        assert!(root.exists("b/x.ndjson").await.expect("exists"));
        root.write_atomic("a/z.ndjson", b"other\n".to_vec())
            .await
            .expect("write");
        let refused = root.rename("a/z.ndjson", "b/x.ndjson").await;
        assert!(
            refused
                .as_ref()
                .is_err_and(|e| e.to_string().contains("exists already")),
            "a rename never replaces a file: {refused:?}"
        );
        assert!(
            root.exists("a/z.ndjson").await.expect("exists"),
            "nor loses its own"
        );
        assert_eq!(root.read("b/x.ndjson").await.expect("read"), b"{}\n");
        root.delete("b/x.ndjson").await.expect("delete");
        root.delete("b/x.ndjson")
            .await
            .expect("deleting again is fine");
        assert!(!root.exists("b/x.ndjson").await.expect("exists"));
    }

    #[test]
    fn roots_parse() {
        assert!(
            matches!(Root::parse("/abs", Path::new("/base")), Ok(Root::Local(p)) if p == Path::new("/abs"))
        );
        assert!(
            matches!(Root::parse("rel", Path::new("/base")), Ok(Root::Local(p)) if p == Path::new("/base/rel"))
        );
        assert!(Root::parse("gs://x", Path::new(".")).is_err());
        assert!(Root::parse("s3://", Path::new(".")).is_err());
        assert_eq!(join("", "a/"), "a");
        assert_eq!(join("p/", "/a"), "p/a");
    }
}
