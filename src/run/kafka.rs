//! `pipec run --kafka`: the stream jobs of a manifest on Kafka until SIGTERM or SIGINT, with
//! Prometheus metrics on `--metrics-addr` and structured logs on stderr (`RUST_LOG` filters,
//! `PIPEC_LOG_FORMAT=json` for JSON lines).

use std::sync::Arc;
use std::time::Duration;

use pipec_compiler::manifest::Manifest;
use pipec_runtime::batch::backup::BackupOptions;
use pipec_runtime::metrics::{self, Metrics};
use pipec_runtime::transport::kafka::{self, KafkaRunOptions};

use super::args::{Args, StoreMode, spec_dir};
use crate::common::{brokers, init_logs, instance};

/// Ran and stopped cleanly.
const OK: u8 = 0;
/// A job failed, or the setup did.
const FAILED: u8 = 1;
/// A usage problem.
const USAGE: u8 = 2;

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
    for name in &args.backup {
        if let Err(e) = pipec_runtime::batch::backup::backup_def(manifest, name) {
            eprintln!("error: {e}");
            return USAGE;
        }
    }
    // A job's own process (`--job`, one Deployment per job) writes no backups unless it
    // names them: one writer per backup.
    let write_backups = !args.no_backups && (args.jobs.is_empty() || !args.backup.is_empty());
    if write_backups && !manifest.backups.is_empty() {
        let root = match crate::common::data_root(args.data_dir.as_deref()) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {e}");
                return USAGE;
            }
        };
        let skip = if args.backup.is_empty() {
            Vec::new()
        } else {
            manifest
                .backups
                .keys()
                .filter(|b| !args.backup.contains(b))
                .cloned()
                .collect()
        };
        opts.backups = Some(BackupOptions {
            root,
            instance: opts.instance.clone(),
            now_ms: 0,
            skip,
        });
    }
    opts.run_jobs = args.backup.is_empty() || !args.jobs.is_empty();
    let Some(rt) = crate::common::multi_thread_runtime() else {
        return FAILED;
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
                for (backup, n) in &report.backups {
                    eprintln!("backup {backup}: {n} records written");
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
