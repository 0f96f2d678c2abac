//! What the commands that run a pipeline share: loading a spec or a compiled manifest,
//! Kafka bootstrap servers per cluster, this process's instance name, logs, and the tokio
//! runtime the long-running commands work on.

use std::collections::BTreeMap;
use std::path::Path;

use pipec_compiler::manifest::Manifest;

use crate::compile::load_manifest;

/// A usage or I/O problem.
const USAGE: u8 = 2;

/// The manifest of `path`: a `manifest.json` written by `pipec compile` (the Helm chart
/// mounts one), or a spec (a directory or a YAML file) compiled for `env`. The exit code
/// when it cannot be had (the reasons are printed).
pub fn load_any(path: &Path, env: Option<String>) -> Result<Manifest, u8> {
    if path.extension().is_some_and(|e| e == "json") {
        match std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|t| Manifest::from_json(&t))
        {
            Ok(m) => Ok(m),
            Err(e) => {
                eprintln!("error: {}: {e}", path.display());
                Err(USAGE)
            }
        }
    } else {
        load_manifest(path, env)
    }
}

/// Bootstrap servers per cluster: `--brokers`, else `PIPEC_BROKERS_<CLUSTER>` (upper case,
/// other characters as `_`, as the Helm chart sets them), else the manifest's.
pub fn brokers(manifest: &Manifest, flags: &[String]) -> Result<BTreeMap<String, String>, String> {
    let clusters: Vec<&str> = manifest.clusters.keys().map(String::as_str).collect();
    let given = if flags.is_empty() {
        BTreeMap::new()
    } else {
        crate::plan::cluster_brokers(flags, &clusters).map_err(|e| format!("--brokers: {e}"))?
    };
    let mut out = BTreeMap::new();
    for (name, c) in &manifest.clusters {
        let var: String = format!("PIPEC_BROKERS_{name}")
            .chars()
            .map(|ch| {
                let up = ch.to_ascii_uppercase();
                if up.is_ascii_alphanumeric() { up } else { '_' }
            })
            .collect();
        let servers = given
            .get(name)
            .cloned()
            .or_else(|| std::env::var(&var).ok().filter(|v| !v.is_empty()))
            .unwrap_or_else(|| c.brokers.clone());
        out.insert(name.clone(), servers);
    }
    Ok(out)
}

/// Where backups and report files are: `--data-dir`, else `PIPEC_DATA_DIR`, else
/// `out/data` (a directory, or `s3://bucket/prefix`).
pub fn data_root(flag: Option<&str>) -> Result<pipec_runtime::batch::storage::Root, String> {
    let spec = flag
        .map(str::to_owned)
        .or_else(|| {
            std::env::var("PIPEC_DATA_DIR")
                .ok()
                .filter(|v| !v.is_empty())
        })
        .unwrap_or_else(|| "out/data".into());
    pipec_runtime::batch::storage::Root::parse(&spec, Path::new("."))
        .map_err(|e| format!("--data-dir: {e}"))
}

/// `--instance`, else `PIPEC_INSTANCE`, else the host name, else `0`.
pub fn instance(flag: Option<&str>) -> String {
    let host = || {
        std::env::var("HOSTNAME")
            .ok()
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
    };
    flag.map(str::to_owned)
        .or_else(|| std::env::var("PIPEC_INSTANCE").ok())
        .or_else(host)
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "0".into())
}

/// Logs to stderr: `RUST_LOG` filters (`info` by default), `PIPEC_LOG_FORMAT=json` for
/// JSON lines.
pub fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if std::env::var("PIPEC_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// A multi-threaded tokio runtime (every core), or the reason it could not start, printed.
pub fn multi_thread_runtime() -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => Some(rt),
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            None
        }
    }
}
