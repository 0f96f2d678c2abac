//! The files a spec names (includes, schemas, SQL, DDL, fixtures) are read only through a
//! [`SpecRoot`]: each must be a regular file under the spec's root directory once symlinks
//! are resolved, no larger than [`MAX_FILE_BYTES`], and all of them together no larger than
//! [`MAX_TOTAL_BYTES`]. A spec is untrusted input (CI checks pull requests): without this an
//! include of `/proc/self/environ` would print the environment in a diagnostic, a symlink to
//! `/dev/zero` would read until memory runs out, and a FIFO would hang the check.

use std::cell::Cell;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The largest file a spec may name.
pub const MAX_FILE_BYTES: u64 = 8 << 20;

/// The most all the files of one spec may hold together.
pub const MAX_TOTAL_BYTES: u64 = 128 << 20;

/// The most spec files (the root and its includes) one spec may have.
pub const MAX_SPEC_FILES: usize = 1_000;

/// Why a file the spec names was not read. Says nothing of the file's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// It does not exist (or cannot be resolved).
    Missing(String),
    /// Once symlinks are resolved, it lies outside the root.
    Outside(PathBuf),
    /// It is a directory, FIFO, device or socket.
    NotRegular(&'static str),
    /// It is larger than [`MAX_FILE_BYTES`].
    TooLarge(u64),
    /// The spec's files together would exceed [`MAX_TOTAL_BYTES`].
    OverBudget,
    /// It is not UTF-8 text.
    NotText,
    /// It could not be read.
    Io(String),
}

impl Refused {
    /// Whether the file is simply not there (as opposed to refused).
    pub fn is_missing(&self) -> bool {
        matches!(self, Refused::Missing(_))
    }
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::Missing(e) => write!(f, "{e}"),
            Refused::Outside(root) => {
                write!(f, "it is outside the spec's root `{}`", root.display())
            }
            Refused::NotRegular(kind) => write!(f, "it is {kind}, not a regular file"),
            Refused::TooLarge(n) => write!(
                f,
                "it is larger than {} MiB ({n} bytes)",
                MAX_FILE_BYTES >> 20
            ),
            Refused::OverBudget => write!(
                f,
                "the spec's files together exceed {} MiB",
                MAX_TOTAL_BYTES >> 20
            ),
            Refused::NotText => write!(f, "it is not UTF-8 text"),
            Refused::Io(e) => write!(f, "{e}"),
        }
    }
}

/// The directory a spec's files must stay under, and what has been read from it so far.
#[derive(Debug, Default)]
pub struct SpecRoot {
    /// Canonical; empty means no root could be found and every file is refused.
    dir: PathBuf,
    read: Cell<u64>,
}

impl SpecRoot {
    /// A root at `dir`.
    pub fn new(dir: &Path) -> Self {
        SpecRoot {
            dir: dir.canonicalize().unwrap_or_default(),
            read: Cell::new(0),
        }
    }

    /// The default root of the spec whose root file is `file`: the working directory when
    /// the spec lies under it (a repository checked from its top, as CI does), else the
    /// spec file's own directory.
    pub fn for_spec(file: &Path) -> Self {
        let parent = match file.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let spec_dir = parent.canonicalize().unwrap_or_default();
        if let Ok(cwd) = std::env::current_dir().and_then(|d| d.canonicalize())
            && !spec_dir.as_os_str().is_empty()
            && spec_dir.starts_with(&cwd)
        {
            return SpecRoot {
                dir: cwd,
                read: Cell::new(0),
            };
        }
        SpecRoot {
            dir: spec_dir,
            read: Cell::new(0),
        }
    }

    /// The root directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The canonical path of `path` when it is a regular file under the root within the
    /// size budget, without reading it.
    pub fn admit(&self, path: &Path) -> Result<PathBuf, Refused> {
        let real = path
            .canonicalize()
            .map_err(|e| Refused::Missing(e.to_string()))?;
        if self.dir.as_os_str().is_empty() || !real.starts_with(&self.dir) {
            return Err(Refused::Outside(self.dir.clone()));
        }
        let meta = std::fs::metadata(&real).map_err(|e| Refused::Io(e.to_string()))?;
        if !meta.is_file() {
            return Err(Refused::NotRegular(kind_of(&meta)));
        }
        if meta.len() > MAX_FILE_BYTES {
            return Err(Refused::TooLarge(meta.len()));
        }
        Ok(real)
    }

    /// Whether `path` is a file the spec may use (see [`SpecRoot::admit`]).
    pub fn is_file(&self, path: &Path) -> bool {
        self.admit(path).is_ok()
    }

    /// Reads `path` once admitted, counting it against the spec's total budget. Never
    /// reads more than [`MAX_FILE_BYTES`], whatever the file claims to be.
    pub fn read_bytes(&self, path: &Path) -> Result<Vec<u8>, Refused> {
        let real = self.admit(path)?;
        let file = std::fs::File::open(&real).map_err(|e| Refused::Io(e.to_string()))?;
        let mut bytes = Vec::new();
        file.take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Refused::Io(e.to_string()))?;
        let len = bytes.len() as u64;
        if len > MAX_FILE_BYTES {
            return Err(Refused::TooLarge(len));
        }
        let total = self.read.get().saturating_add(len);
        if total > MAX_TOTAL_BYTES {
            return Err(Refused::OverBudget);
        }
        self.read.set(total);
        Ok(bytes)
    }

    /// Reads `path` as UTF-8 text (see [`SpecRoot::read_bytes`]).
    pub fn read_text(&self, path: &Path) -> Result<String, Refused> {
        String::from_utf8(self.read_bytes(path)?).map_err(|_| Refused::NotText)
    }
}

fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}

#[cfg(test)]
#[path = "files_tests.rs"]
mod tests;
