//! `pipec plan`: what deploying the spec would change, compared with a previous manifest
//! (`--against`), a live cluster (`--brokers`), or both. Arguments and output here; the work
//! in `pipec_compiler::plan` and, for live clusters, `pipec_runtime::cluster::live`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::ValueEnum;
use pipec_compiler::manifest::Manifest;
use pipec_compiler::plan::{self, ClusterState, Plan};

/// Success (with `--detailed-exitcode`: and no changes).
pub const OK: u8 = 0;
/// An error: the spec has errors, the previous manifest cannot be read or is another
/// pipeline's, a cluster cannot be read, the output cannot be written.
pub const ERROR: u8 = 1;
/// With `--detailed-exitcode`: the plan has changes.
const CHANGES: u8 = 2;

/// Where the live clusters are.
#[derive(clap::Args, Clone)]
pub struct LiveArgs {
    /// Read the live topics from Kafka: `HOST:PORT[,HOST:PORT]` for every cluster of the
    /// spec, or `CLUSTER=HOST:PORT` for one (repeatable).
    #[arg(long, value_name = "[CLUSTER=]HOST:PORT")]
    pub brokers: Vec<String>,
    /// Seconds to wait for a cluster's answer before giving up.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub timeout: u64,
}

impl LiveArgs {
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout.max(1))
    }
}

/// Arguments of `pipec plan`.
#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("current").required(true).multiple(true).args(["against", "brokers"])))]
pub struct Args {
    /// Spec file, or directory holding `pipeline.yaml`.
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Environment; overrides `vars.env` and `PIPEC_ENV`.
    #[arg(long)]
    env: Option<String>,
    /// The manifest deployed now (`manifest.json` written by `pipec compile`): schema, job
    /// and schedule changes are planned against it, and its topics count as the pipeline's
    /// (so a topic it had and the spec dropped is planned for deletion).
    #[arg(long, value_name = "OLD_MANIFEST")]
    against: Option<PathBuf>,
    #[command(flatten)]
    live: LiveArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Exit 0 when nothing changes, 2 when something does, 1 on any error (as Terraform's
    /// `plan -detailed-exitcode`): a usage error, which is 2 without the flag, is 1 with it.
    #[arg(long)]
    detailed_exitcode: bool,
    /// Also write the plan as JSON to this file (`pipec apply --plan FILE` applies it).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
    Markdown,
}

/// Runs `pipec plan`; returns the exit code.
pub fn run(args: Args) -> u8 {
    let plan = match make_plan(&args.path, args.env, args.against.as_deref(), &args.live) {
        Ok(p) => p,
        Err(code) => return code,
    };
    if let Some(path) = &args.out
        && let Err(e) = std::fs::write(path, plan.to_json())
    {
        eprintln!("error: {}: {e}", path.display());
        return ERROR;
    }
    let text = match args.format {
        Format::Text => plan::render::text(&plan),
        Format::Json => plan.to_json(),
        Format::Markdown => plan::render::markdown(&plan),
    };
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    if args.detailed_exitcode && !plan.is_empty() {
        CHANGES
    } else {
        OK
    }
}

/// Whether the command line is `pipec plan ... --detailed-exitcode` (before a `--`), read
/// from the raw arguments: it decides the exit code of a command line clap refused.
pub fn detailed_exitcode_asked(args: impl IntoIterator<Item = std::ffi::OsString>) -> bool {
    let args: Vec<std::ffi::OsString> = args.into_iter().skip(1).collect();
    let command = args.iter().find(|a| !a.to_string_lossy().starts_with('-'));
    command.is_some_and(|c| c == "plan")
        && args.iter().take_while(|a| *a != "--").any(|a| {
            a == "--detailed-exitcode" || a.to_string_lossy().starts_with("--detailed-exitcode=")
        })
}

/// The plan of the spec at `path` against the previous manifest and/or the live clusters.
/// Errors are printed; `Err` holds the exit code.
pub fn make_plan(
    path: &Path,
    env: Option<String>,
    against: Option<&Path>,
    live: &LiveArgs,
) -> Result<Plan, u8> {
    let old = match against.map(read_manifest).transpose() {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return Err(ERROR);
        }
    };
    // Every failure is ERROR: `load_manifest` says 2 for a usage problem (no spec there),
    // which `--detailed-exitcode` reserves for "changes".
    let desired = crate::compile::load_manifest(path, env).map_err(|_| ERROR)?;
    if let (Some(old), Some(against)) = (&old, against)
        && (old.pipeline != desired.pipeline || old.env != desired.env)
    {
        eprintln!(
            "error: {}: manifest of pipeline `{}`, env `{}`; the spec is pipeline `{}`, env `{}`",
            against.display(),
            old.pipeline,
            old.env,
            desired.pipeline,
            desired.env
        );
        return Err(ERROR);
    }
    if live.brokers.is_empty() {
        let old = old.as_ref().ok_or(ERROR)?;
        return Ok(plan::plan(
            &desired,
            &ClusterState::from_manifest(old),
            Some(old),
        ));
    }
    let clusters: Vec<&str> = desired.clusters.keys().map(String::as_str).collect();
    let brokers = match cluster_brokers(&live.brokers, &clusters) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: --brokers: {e}");
            return Err(ERROR);
        }
    };
    let owned = plan::owned_topics(&desired, old.as_ref());
    let state = block_on(pipec_runtime::cluster::live::read_state(
        &owned,
        &brokers,
        live.timeout(),
    ))
    .map_err(|e| {
        eprintln!("error: reading the live topics: {e}");
        ERROR
    })?;
    let mut p = plan::plan(&desired, &state, old.as_ref());
    p.set_brokers(brokers);
    Ok(p)
}

/// `--brokers` values as cluster name → bootstrap servers, for the `clusters` named: a bare
/// `HOST:PORT` is every cluster's, `NAME=HOST:PORT` one cluster's (and wins over a bare one).
pub fn cluster_brokers(
    values: &[String],
    clusters: &[&str],
) -> Result<BTreeMap<String, String>, String> {
    let mut all = None;
    let mut named = BTreeMap::new();
    for v in values {
        match v.split_once('=') {
            Some((name, servers)) if !name.contains(':') => {
                if !clusters.contains(&name) {
                    return Err(format!(
                        "no cluster `{name}` in the spec (its clusters: {})",
                        clusters.join(", ")
                    ));
                }
                named.insert(name.to_owned(), nonempty(servers)?);
            }
            _ => all = Some(nonempty(v)?),
        }
    }
    let mut out = BTreeMap::new();
    for c in clusters {
        if let Some(s) = named.get(*c).or(all.as_ref()) {
            out.insert((*c).to_owned(), s.clone());
        } else {
            return Err(format!(
                "no bootstrap servers for cluster `{c}`: give --brokers HOST:PORT for every \
                 cluster or --brokers {c}=HOST:PORT"
            ));
        }
    }
    Ok(out)
}

fn nonempty(servers: &str) -> Result<String, String> {
    let s = servers.trim();
    if s.is_empty()
        || s.split(',')
            .any(|a| a.trim().is_empty() || !a.contains(':'))
    {
        return Err(format!("`{servers}` is not HOST:PORT[,HOST:PORT]"));
    }
    Ok(s.to_owned())
}

/// Runs a future on a runtime of its own (the admin calls are few and short).
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(f),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(i32::from(ERROR));
        }
    }
}

fn read_manifest(path: &Path) -> Result<Manifest, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Manifest::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brokers_for_all_clusters_or_one() {
        let clusters = ["ingestion", "processing"];
        let v = |s: &[&str]| s.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let all = cluster_brokers(&v(&["h:9092"]), &clusters).unwrap();
        assert_eq!(all["ingestion"], "h:9092");
        assert_eq!(all["processing"], "h:9092");
        let mixed = cluster_brokers(&v(&["h:1", "ingestion=i:2,j:3"]), &clusters).unwrap();
        assert_eq!(mixed["ingestion"], "i:2,j:3");
        assert_eq!(mixed["processing"], "h:1");
        let e = cluster_brokers(&v(&["ingestion=i:2"]), &clusters).unwrap_err();
        assert!(e.contains("cluster `processing`"), "{e}");
        let e = cluster_brokers(&v(&["nope=i:2", "h:1"]), &clusters).unwrap_err();
        assert!(e.contains("no cluster `nope`"), "{e}");
        assert!(cluster_brokers(&v(&["localhost"]), &clusters).is_err());
    }
}
