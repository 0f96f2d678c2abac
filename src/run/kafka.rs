//! `pipec run --kafka`: the stream jobs of a manifest on Kafka until SIGTERM or SIGINT, with
//! Prometheus metrics on `--metrics-addr` and structured logs on stderr (`RUST_LOG` filters,
//! `PIPEC_LOG_FORMAT=json` for JSON lines).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use pipec_compiler::manifest::Manifest;
use pipec_runtime::metrics::{self, Metrics};
use pipec_runtime::transport::kafka::{self, KafkaRunOptions};

use super::args::{Args, StoreMode, spec_dir};

/// Ran and stopped cleanly.
const OK: u8 = 0;
/// A job failed, or the setup did.
const FAILED: u8 = 1;

/// Runs the jobs on Kafka; returns the exit code.
pub fn run(manifest: &Manifest, args: &Args) -> u8 {
    init_logs();
    let brokers = match brokers(manifest, &args.brokers) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return FAILED;
        }
    };
    let mut opts = KafkaRunOptions::new(brokers);
    opts.jobs = args.jobs.clone();
    opts.base_dir = spec_dir(&args.path);
    opts.memory_stores = matches!(args.stores, StoreMode::Memory);
    opts.idle_exit = args.idle_exit.map(Duration::from_secs);
    opts.exactly_once = args.exactly_once;
    opts.unacked_batches = args.unacked_batches;
    opts.instance = instance(args.instance.as_deref());
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return FAILED;
        }
    };
    rt.block_on(async {
        let metrics = Arc::new(Metrics::default());
        let server = match args.metrics_addr {
            Some(addr) => match metrics::serve(addr, Arc::clone(&metrics)).await {
                Ok(h) => Some(h),
                Err(e) => {
                    eprintln!("error: {e}");
                    return FAILED;
                }
            },
            None => None,
        };
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!("stopping: finishing the batches in hand");
            let _ = stop_tx.send(true);
        });
        let result = kafka::run(manifest, &opts, metrics, stop_rx).await;
        if let Some(h) = server {
            h.abort();
        }
        match result {
            Ok(report) => {
                for (job, n) in &report.records_in {
                    eprintln!("{job}: {n} records consumed");
                }
                OK
            }
            Err(e) => {
                eprintln!("error: {e}");
                FAILED
            }
        }
    })
}

/// Bootstrap servers per cluster: `--brokers`, else `PIPEC_BROKERS_<CLUSTER>` (upper case,
/// other characters as `_`, as the Helm chart sets them), else the manifest's.
fn brokers(manifest: &Manifest, flags: &[String]) -> Result<BTreeMap<String, String>, String> {
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

/// `--instance`, else `PIPEC_INSTANCE`, else the host name, else `0`.
fn instance(flag: Option<&str>) -> String {
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

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn init_logs() {
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
