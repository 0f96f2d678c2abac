//! Topic backups, what Secor did: a topic's records written to date-partitioned files
//! under the backup's path (`{date}`, and `{hour}` when hourly), NDJSON (optionally gzip)
//! or Parquet, a file closed at a size or an age. A file becomes visible only when whole:
//! it is written under a hidden name (`.part-…`) beside its final one, synced, and renamed;
//! on an object store it is uploaded under the hidden key and then moved.
//!
//! Closing is two steps, so that a transport can commit in between: [`BackupWriter::close`]
//! makes the open files durable under their hidden names and gives the renames still to do
//! ([`Staged`]), and [`publish`] does them. On Kafka the offsets are committed with the
//! staged renames as their metadata before the renames: a crash before the commit leaves
//! only hidden files (the records are read again), a crash after it leaves renames that the
//! next start finishes. Nothing is lost and no record is in two visible files.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use pipec_compiler::civil::{DAY_MS, Date};
use pipec_compiler::manifest::{Backup, BackupPartition, Compression, FileFormat};
use serde_json::Value;

use super::paths::fill;
use super::storage::{Root, join};
use crate::RuntimeError;

/// Backup `name` of the manifest, or an error listing the backups it has.
pub fn backup_def<'m>(
    manifest: &'m pipec_compiler::manifest::Manifest,
    name: &str,
) -> Result<&'m Backup, RuntimeError> {
    manifest
        .backups
        .get(name)
        .ok_or_else(|| RuntimeError::Config {
            what: format!(
                "no backup `{name}` in pipeline `{}` (backups: {})",
                manifest.pipeline,
                manifest
                    .backups
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
}

/// Where and as whom a run writes the manifest's backups.
#[derive(Debug, Clone)]
pub struct BackupOptions {
    /// The data root backups' paths are under.
    pub root: Root,
    /// Names this writer in file names (a host or pod name).
    pub instance: String,
    /// Embedded runs: a record without the backup's time field goes to the folder of
    /// this time (epoch milliseconds; the run's start). Kafka runs use the record's
    /// timestamp.
    pub now_ms: i64,
    /// Backups not to write (the one a replay reads from).
    pub skip: Vec<String>,
}

/// A closed file still under its hidden name, and the name it gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staged {
    /// Hidden key.
    pub from: String,
    /// Final key.
    pub to: String,
    /// Records in it.
    pub records: u64,
}

/// An open file of a backup.
struct OpenFile {
    /// The hidden key it is written to; for a local root also its path.
    hidden: String,
    /// Its final key.
    key: String,
    /// Where its bytes go while open: the hidden file itself (local roots) or a spool
    /// file (object stores).
    path: PathBuf,
    out: Sink,
    bytes: u64,
    records: u64,
    opened: Instant,
}

enum Sink {
    Plain(std::io::BufWriter<std::fs::File>),
    Gzip(Box<flate2::write::GzEncoder<std::io::BufWriter<std::fs::File>>>),
    /// Parquet needs the rows whole to find their columns: kept until closing.
    Rows(Vec<Value>),
}

/// Writes the records of one backup.
pub struct BackupWriter {
    name: String,
    def: Backup,
    root: Root,
    /// Where files of an object-store root are spooled while open.
    spool: PathBuf,
    /// Part of every file name: tells the writers of one backup apart.
    instance: String,
    /// Part of every file name too: when this writer started (epoch microseconds, made
    /// distinct within a process), so that a restarted writer of the same instance never
    /// reuses a name.
    started: u64,
    open: BTreeMap<String, OpenFile>,
    seq: u64,
    /// Records written, in total.
    pub written: u64,
}

fn io(what: &str, p: &std::path::Path, e: &std::io::Error) -> RuntimeError {
    RuntimeError::Io {
        what: format!("{what} `{}`", p.display()),
        reason: e.to_string(),
    }
}

impl BackupWriter {
    /// A writer of backup `name` under `root`; `instance` names this writer in file names
    /// (a host or pod name); `spool` is a local directory for object-store roots.
    pub fn new(name: &str, def: &Backup, root: Root, spool: PathBuf, instance: &str) -> Self {
        let instance: String = instance
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        BackupWriter {
            name: name.into(),
            def: def.clone(),
            root,
            spool,
            instance,
            started: start_stamp(),
            open: BTreeMap::new(),
            seq: 0,
            written: 0,
        }
    }

    /// The backup's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The folder a record of time `ms` (epoch milliseconds) goes to.
    pub fn folder(&self, ms: i64) -> String {
        let date = Date::from_epoch_ms(ms);
        let hour = u32::try_from(ms.rem_euclid(DAY_MS) / 3_600_000).unwrap_or(0);
        let mut t = self.def.path.clone();
        if self.def.partition == BackupPartition::Hourly && !t.contains("{hour}") {
            t = format!("{}/{{hour}}/", t.trim_end_matches('/'));
        }
        let hour = (self.def.partition == BackupPartition::Hourly).then_some(hour);
        fill(&t, date, Some(hour.unwrap_or(0)))
            .trim_end_matches('/')
            .to_string()
    }

    /// The time of a record: its `time_field` (epoch milliseconds, a number or a numeric
    /// string), else `fallback_ms` (the record's Kafka timestamp, or now).
    pub fn time_of(&self, record: &[u8], fallback_ms: i64) -> i64 {
        let Some(field) = &self.def.time_field else {
            return fallback_ms;
        };
        let Ok(v) = serde_json::from_slice::<Value>(record) else {
            return fallback_ms;
        };
        let mut cur = &v;
        for part in field.split('.') {
            match cur.get(part) {
                Some(x) => cur = x,
                None => return fallback_ms,
            }
        }
        match cur {
            Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
            Value::String(s) => s.parse().ok(),
            _ => None,
        }
        .unwrap_or(fallback_ms)
    }

    /// Appends a record of time `ms` to the open file of its folder.
    pub fn append(&mut self, record: &[u8], ms: i64) -> Result<(), RuntimeError> {
        let folder = self.folder(ms);
        if !self.open.contains_key(&folder) {
            let f = self.start(&folder)?;
            self.open.insert(folder.clone(), f);
        }
        let Some(f) = self.open.get_mut(&folder) else {
            return Err(RuntimeError::Internal("a backup file went missing".into()));
        };
        let werr = |e: std::io::Error| io("writing", &f.path, &e);
        match &mut f.out {
            Sink::Plain(w) => {
                w.write_all(record).map_err(werr)?;
                w.write_all(b"\n").map_err(|e| io("writing", &f.path, &e))?;
            }
            Sink::Gzip(w) => {
                w.write_all(record).map_err(werr)?;
                w.write_all(b"\n").map_err(|e| io("writing", &f.path, &e))?;
            }
            Sink::Rows(rows) => match serde_json::from_slice::<Value>(record) {
                Ok(v) => rows.push(v),
                Err(_) => rows.push(Value::String(String::from_utf8_lossy(record).into())),
            },
        }
        f.bytes += record.len() as u64 + 1;
        f.records += 1;
        self.written += 1;
        Ok(())
    }

    /// Opens a new file in `folder`.
    fn start(&mut self, folder: &str) -> Result<OpenFile, RuntimeError> {
        self.seq += 1;
        let ext = match (self.def.format, self.def.compression) {
            (FileFormat::Parquet, _) => "parquet",
            (_, Compression::Gzip) => "ndjson.gz",
            _ => "ndjson",
        };
        // The writer's start, not the record's time: two runs of one instance over records
        // of the same millisecond must not name a file alike (a rename would replace it).
        let file = format!(
            "part-{}-{}-{:06}.{ext}",
            self.instance, self.started, self.seq
        );
        let key = join(folder, &file);
        let hidden = join(folder, &format!(".{file}.open"));
        let path = match self.root.local_path(&hidden) {
            Some(p) => p,
            None => self.spool.join(hidden.replace('/', "_")),
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| io("creating", dir, &e))?;
        }
        let out = if self.def.format == FileFormat::Parquet {
            Sink::Rows(Vec::new())
        } else {
            let file = std::fs::File::create(&path).map_err(|e| io("creating", &path, &e))?;
            let w = std::io::BufWriter::with_capacity(1 << 16, file);
            if self.def.compression == Compression::Gzip {
                Sink::Gzip(Box::new(flate2::write::GzEncoder::new(
                    w,
                    flate2::Compression::default(),
                )))
            } else {
                Sink::Plain(w)
            }
        };
        Ok(OpenFile {
            hidden,
            key,
            path,
            out,
            bytes: 0,
            records: 0,
            opened: Instant::now(),
        })
    }

    /// Whether an open file has reached the roll size or age.
    pub fn due(&self) -> bool {
        self.open.values().any(|f| {
            f.bytes >= self.def.roll_size
                || f.opened.elapsed().as_millis() >= u128::from(self.def.roll_age_ms)
        })
    }

    /// Whether a file is open.
    pub fn has_open(&self) -> bool {
        !self.open.is_empty()
    }

    /// Closes every open file: each made durable under its hidden name (synced; uploaded
    /// for object stores). Gives the renames that make them visible.
    pub async fn close(&mut self) -> Result<Vec<Staged>, RuntimeError> {
        let mut staged = Vec::with_capacity(self.open.len());
        for (_, f) in std::mem::take(&mut self.open) {
            let file = match f.out {
                Sink::Plain(w) => w
                    .into_inner()
                    .map_err(|e| io("writing", &f.path, e.error()))?,
                Sink::Gzip(w) => w
                    .finish()
                    .map_err(|e| io("writing", &f.path, &e))?
                    .into_inner()
                    .map_err(|e| io("writing", &f.path, e.error()))?,
                Sink::Rows(rows) => {
                    let batch = super::rows::json_to_batch(&rows, None)?;
                    let file =
                        std::fs::File::create(&f.path).map_err(|e| io("creating", &f.path, &e))?;
                    let mut w = datafusion::parquet::arrow::ArrowWriter::try_new(
                        file.try_clone().map_err(|e| io("writing", &f.path, &e))?,
                        batch.schema(),
                        None,
                    )
                    .map_err(|e| RuntimeError::Internal(format!("parquet: {e}")))?;
                    w.write(&batch)
                        .map_err(|e| RuntimeError::Internal(format!("parquet: {e}")))?;
                    w.close()
                        .map_err(|e| RuntimeError::Internal(format!("parquet: {e}")))?;
                    file
                }
            };
            file.sync_all().map_err(|e| io("syncing", &f.path, &e))?;
            drop(file);
            if self.root.local_path("").is_none() {
                self.root.put_file(&f.path, &f.hidden).await?;
            }
            staged.push(Staged {
                from: f.hidden,
                to: f.key,
                records: f.records,
            });
        }
        Ok(staged)
    }

    /// The data root.
    pub fn root(&self) -> &Root {
        &self.root
    }

    /// Deletes this writer's hidden files left in the folders of `days` around `now_ms`
    /// by a run that stopped before closing them (their records are read again).
    pub async fn clean_leftovers(&self, now_ms: i64, keep: &[String]) -> Result<u64, RuntimeError> {
        let mut removed = 0;
        let marker = format!(".part-{}-", self.instance);
        for d in [0, 1] {
            let folder = self.folder(now_ms - d * DAY_MS);
            // Hourly folders: the day's folder holds the hours.
            let day = match self.def.partition {
                BackupPartition::Hourly => folder
                    .rsplit_once('/')
                    .map_or(folder.clone(), |(a, _)| a.to_string()),
                BackupPartition::Daily => folder,
            };
            let Some(dir) = self.root.local_path(&day) else {
                continue;
            };
            for entry in walk_hidden(&dir) {
                let name = entry.file_name().and_then(|n| n.to_str()).unwrap_or("");
                let key = entry
                    .strip_prefix(self.root.local_path("").unwrap_or_default())
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if name.starts_with(&marker) && !keep.contains(&key) {
                    let _ = std::fs::remove_file(&entry);
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }
}

/// The current time in epoch microseconds, above every stamp given before in this process.
fn start_stamp() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
    let prev = LAST
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |l| {
            Some(now.max(l + 1))
        })
        .unwrap_or(0);
    now.max(prev + 1)
}

/// Hidden files in `dir` and its sub-folders.
fn walk_hidden(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk_hidden(&p));
        } else if e.file_name().to_string_lossy().starts_with('.') {
            out.push(p);
        }
    }
    out
}

/// Makes staged files visible (the renames [`BackupWriter::close`] gave). A rename whose
/// hidden file is gone was done already (by a run that stopped after it).
pub async fn publish(root: &Root, staged: &[Staged]) -> Result<(), RuntimeError> {
    for s in staged {
        if root.exists(&s.from).await? {
            root.rename(&s.from, &s.to).await?;
        }
    }
    Ok(())
}

/// Staged renames as commit metadata (`pipec-backup:` and JSON pairs), and back.
pub fn encode_staged(staged: &[Staged]) -> String {
    let pairs: Vec<[&str; 2]> = staged
        .iter()
        .map(|s| [s.from.as_str(), s.to.as_str()])
        .collect();
    format!(
        "pipec-backup:{}",
        serde_json::to_string(&pairs).unwrap_or_else(|_| "[]".into())
    )
}

/// The staged renames of commit metadata written by [`encode_staged`] (none for other
/// metadata).
pub fn decode_staged(meta: &str) -> Vec<Staged> {
    meta.strip_prefix("pipec-backup:")
        .and_then(|j| serde_json::from_str::<Vec<[String; 2]>>(j).ok())
        .unwrap_or_default()
        .into_iter()
        .map(|[from, to]| Staged {
            from,
            to,
            records: 0,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(format: FileFormat, compression: Compression, partition: BackupPartition) -> Backup {
        Backup {
            topic: "unique".into(),
            path: "backups/unique/{date}/".into(),
            format,
            partition,
            compression,
            time_field: Some("syncts".into()),
            roll_size: 1 << 20,
            roll_age_ms: 60_000,
        }
    }

    #[tokio::test]
    async fn files_appear_whole_in_their_dated_folders() {
        let dir = tempfile::tempdir().expect("tmp");
        let root = Root::Local(dir.path().to_path_buf());
        let mut w = BackupWriter::new(
            "unique",
            &def(
                FileFormat::Ndjson,
                Compression::None,
                BackupPartition::Daily,
            ),
            root.clone(),
            dir.path().join("spool"),
            "pod-0",
        );
        let day1 = b"{\"mid\":\"a\",\"syncts\":1534636800000}";
        let day2 = b"{\"mid\":\"b\",\"syncts\":\"1534723200000\"}";
        for r in [&day1[..], &day2[..], &day1[..]] {
            let t = w.time_of(r, 0);
            w.append(r, t).expect("append");
        }
        assert!(
            root.list("backups").await.expect("list").is_empty(),
            "nothing visible while open"
        );
        let staged = w.close().await.expect("close");
        assert_eq!(staged.len(), 2);
        assert!(
            root.list("backups").await.expect("list").is_empty(),
            "still hidden"
        );
        let meta = encode_staged(&staged);
        assert_eq!(
            decode_staged(&meta)
                .iter()
                .map(|s| &s.to)
                .collect::<Vec<_>>(),
            staged.iter().map(|s| &s.to).collect::<Vec<_>>()
        );
        publish(&root, &staged).await.expect("publish");
        publish(&root, &staged)
            .await
            .expect("publishing again is a no-op");
        let listed = root.list("backups").await.expect("list");
        assert_eq!(listed.len(), 2);
        assert!(
            listed[0]
                .key
                .starts_with("backups/unique/2018-08-19/part-pod-0-")
        );
        assert!(
            listed[1]
                .key
                .starts_with("backups/unique/2018-08-20/part-pod-0-")
        );
        let first = root.read(&listed[0].key).await.expect("read");
        assert_eq!(first, [&day1[..], b"\n", &day1[..], b"\n"].concat());
    }

    /// A restarted writer of the same instance, given records of the same millisecond,
    /// names its files apart: the second run's rename must not replace the first's file.
    #[tokio::test]
    async fn a_restarted_writer_never_replaces_a_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let root = Root::Local(dir.path().to_path_buf());
        let d = def(
            FileFormat::Ndjson,
            Compression::None,
            BackupPartition::Daily,
        );
        let mut keys = Vec::new();
        for run in ["a", "b"] {
            let mut w = BackupWriter::new("unique", &d, root.clone(), dir.path().into(), "w1");
            let r = format!("{{\"mid\":\"{run}\",\"syncts\":1534636800000}}");
            w.append(r.as_bytes(), 1_534_636_800_000).expect("append");
            let staged = w.close().await.expect("close");
            publish(&root, &staged).await.expect("publish");
            keys.extend(staged.into_iter().map(|s| s.to));
        }
        assert_ne!(keys[0], keys[1]);
        let listed = root.list("backups").await.expect("list");
        assert_eq!(listed.len(), 2, "{listed:?}");
    }

    #[tokio::test]
    async fn gzip_and_parquet_read_back_and_hourly_folders() {
        let dir = tempfile::tempdir().expect("tmp");
        let root = Root::Local(dir.path().to_path_buf());
        for (format, compression) in [
            (FileFormat::Ndjson, Compression::Gzip),
            (FileFormat::Parquet, Compression::None),
        ] {
            let mut w = BackupWriter::new(
                "unique",
                &def(format, compression, BackupPartition::Hourly),
                root.clone(),
                dir.path().join("spool"),
                "p",
            );
            w.append(b"{\"mid\":\"a\",\"n\":1}", 1_534_640_400_000)
                .expect("append");
            let staged = w.close().await.expect("close");
            publish(&root, &staged).await.expect("publish");
            let key = &staged[0].to;
            assert!(key.starts_with("backups/unique/2018-08-19/01/"), "{key}");
            let back = super::super::events::records(&root, key)
                .await
                .expect("read back");
            let v: Value = serde_json::from_slice(&back[0]).expect("json");
            assert_eq!(v["mid"], "a");
            assert_eq!(v["n"], 1);
        }
    }

    #[tokio::test]
    async fn leftovers_of_this_writer_are_removed() {
        let dir = tempfile::tempdir().expect("tmp");
        let root = Root::Local(dir.path().to_path_buf());
        let mut w = BackupWriter::new(
            "unique",
            &def(
                FileFormat::Ndjson,
                Compression::None,
                BackupPartition::Daily,
            ),
            root.clone(),
            dir.path().join("spool"),
            "p",
        );
        let now = 1_534_640_400_000;
        w.append(b"{}", now).expect("append");
        // A crash: the open file stays hidden.
        drop(w);
        let w = BackupWriter::new(
            "unique",
            &def(
                FileFormat::Ndjson,
                Compression::None,
                BackupPartition::Daily,
            ),
            root.clone(),
            dir.path().join("spool"),
            "p",
        );
        assert_eq!(w.clean_leftovers(now, &[]).await.expect("clean"), 1);
        assert_eq!(w.clean_leftovers(now, &[]).await.expect("clean"), 0);
    }
}
