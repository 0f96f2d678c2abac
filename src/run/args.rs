//! The arguments of `pipec run`, shared by its embedded and Kafka runs.

use std::path::{Path, PathBuf};

/// Where stores live during the run.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum StoreMode {
    /// As the spec says (Redis where it says Redis).
    Spec,
    /// Every store in memory: no Redis needed (dedup state lasts for the run).
    Memory,
}

/// Arguments of `pipec run`.
#[derive(clap::Args)]
pub struct Args {
    /// Spec file (or a `manifest.json`), or directory holding `pipeline.yaml`.
    #[arg(default_value = ".")]
    pub(crate) path: PathBuf,
    /// Input: an NDJSON file (one record per line), a JSON file (one record, or one per
    /// element of a top-level array), a directory of them, or `-` for stdin (the default).
    #[arg(long, default_value = "-")]
    pub(crate) input: String,
    /// Topic the input is written to (a topic name of the spec). Default: the one external
    /// topic the selected jobs consume, when there is exactly one.
    #[arg(long)]
    pub(crate) topic: Option<String>,
    /// Directory for `<topic>.ndjson` of every topic.
    #[arg(long, default_value = "out/run")]
    pub(crate) out: PathBuf,
    /// Run only this job (repeatable).
    #[arg(long = "job", value_name = "NAME")]
    pub(crate) jobs: Vec<String>,
    /// Where stores live.
    #[arg(long, value_enum, default_value = "spec")]
    pub(crate) stores: StoreMode,
    /// Environment.
    #[arg(long)]
    pub(crate) env: Option<String>,
    /// Run on Kafka instead of in process: each job consumes its source topic in its own
    /// consumer group until SIGTERM or SIGINT. Bootstrap servers: `--brokers`, else
    /// `PIPEC_BROKERS_<CLUSTER>`, else the spec's.
    #[arg(long)]
    pub(crate) kafka: bool,
    /// Kafka bootstrap servers, `HOST:PORT` for every cluster or `CLUSTER=HOST:PORT`
    /// (repeatable); implies `--kafka`.
    #[arg(long, value_name = "[CLUSTER=]HOST:PORT")]
    pub(crate) brokers: Vec<String>,
    /// Serve Prometheus `/metrics` and `/health` here (Kafka runs).
    #[arg(long, value_name = "ADDR")]
    pub(crate) metrics_addr: Option<std::net::SocketAddr>,
    /// With `--kafka`: stop once no record has arrived for this many seconds.
    #[arg(long, value_name = "SECONDS")]
    pub(crate) idle_exit: Option<u64>,
    /// With `--kafka`: commit each job's outputs and the offsets they came from in one
    /// Kafka transaction, so a crash neither loses nor repeats an output. Needs a job's
    /// outputs on the cluster it reads.
    #[arg(long)]
    pub(crate) exactly_once: bool,
    /// With `--exactly-once`: this process's name among a job's replicas, kept across
    /// restarts (transactional id `<consumer group>-<instance>`). Default: `PIPEC_INSTANCE`,
    /// else the host name (a pod's name).
    #[arg(long, value_name = "ID")]
    pub(crate) instance: Option<String>,
    /// With `--kafka`: batches of a job whose outputs may still await the broker's
    /// acknowledgement while the next is processed (offsets are committed only once a
    /// batch and all before it are acknowledged); 0 waits for each batch.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub(crate) unacked_batches: usize,
    /// Where the spec's backups are written (and `--from-backup` reads): a directory or
    /// `s3://bucket/prefix`. Default: `PIPEC_DATA_DIR`, else `out/data`.
    #[arg(long, value_name = "DIR|URL")]
    pub(crate) data_dir: Option<String>,
    /// Do not write the spec's backups.
    #[arg(long, conflicts_with = "backup")]
    pub(crate) no_backups: bool,
    /// With `--kafka`: write this backup (repeatable). On Kafka a process writes the
    /// backups only when it runs the whole pipeline (no `--job`) or names them here; naming
    /// backups and no `--job` runs only the backups.
    #[arg(long, value_name = "NAME")]
    pub(crate) backup: Vec<String>,
    /// Replay a stored day of this backup through the jobs that read its topic (in place
    /// of `--input`; with `--date`). That backup is not written again.
    #[arg(long, value_name = "BACKUP", requires = "date", conflicts_with_all = ["input", "topic", "kafka"])]
    pub(crate) from_backup: Option<String>,
    /// The day `--from-backup` replays (`YYYY-MM-DD`).
    #[arg(long, value_name = "DATE", requires = "from_backup")]
    pub(crate) date: Option<String>,
    /// Fix the clock that `now_ms()` reads (expiry filters, the `syncts` of batches that
    /// carry none) at this instant: epoch milliseconds, `YYYY-MM-DD` or
    /// `YYYY-MM-DDTHH:MM:SSZ`. For replays of old data and reproducible runs; the system
    /// clock when not given.
    #[arg(long, value_name = "MS|DATE|INSTANT")]
    pub(crate) now: Option<String>,
}

/// The directory relative paths of the spec (store snapshots, lookup data) are resolved
/// against: the spec's directory, or the directory of the file given.
pub fn spec_dir(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.to_path_buf()
    } else {
        path.parent().map(Path::to_path_buf).unwrap_or_default()
    }
}
