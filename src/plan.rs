//! `pipec plan`: what deploying the spec would change, compared with a previous manifest.
//! Arguments and output here; the work in `pipec_compiler::plan`.

use std::io::Write;
use std::path::PathBuf;

use clap::ValueEnum;
use pipec_compiler::manifest::Manifest;
use pipec_compiler::plan::{self, ClusterState};

/// Success (with `--detailed-exitcode`: and no changes).
const OK: u8 = 0;
/// An error: the spec has errors, the previous manifest cannot be read or is another
/// pipeline's, the output cannot be written.
const ERROR: u8 = 1;
/// With `--detailed-exitcode`: the plan has changes.
const CHANGES: u8 = 2;

/// Arguments of `pipec plan`.
#[derive(clap::Args)]
pub struct Args {
    /// Spec file, or directory holding `pipeline.yaml`.
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Environment; overrides `vars.env` and `PIPEC_ENV`.
    #[arg(long)]
    env: Option<String>,
    /// The manifest deployed now (`manifest.json` written by `pipec compile`).
    #[arg(long, value_name = "OLD_MANIFEST")]
    against: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Exit 0 when nothing changes, 2 when something does, 1 on errors.
    #[arg(long)]
    detailed_exitcode: bool,
    /// Also write the plan as JSON to this file.
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
    let old = match read_manifest(&args.against) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {}: {e}", args.against.display());
            return ERROR;
        }
    };
    let desired = match crate::compile::load_manifest(&args.path, args.env) {
        Ok(m) => m,
        Err(_) => return ERROR,
    };
    if old.pipeline != desired.pipeline || old.env != desired.env {
        eprintln!(
            "error: {}: manifest of pipeline `{}`, env `{}`; the spec is pipeline `{}`, env `{}`",
            args.against.display(),
            old.pipeline,
            old.env,
            desired.pipeline,
            desired.env
        );
        return ERROR;
    }
    let plan = plan::plan(&desired, &ClusterState::from_manifest(&old), Some(&old));
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

fn read_manifest(path: &std::path::Path) -> Result<Manifest, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    Manifest::from_json(&text)
}
