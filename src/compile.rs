//! `pipec compile` and `pipec graph`: the spec, checked and lowered to a manifest, becomes
//! deployment artifacts (or the graph alone).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::ValueEnum;
use pipec_compiler::codegen::{self, GraphFormat, Templates};
use pipec_compiler::diagnostics::{self, RenderOptions};
use pipec_compiler::manifest::Manifest;
use pipec_compiler::{CheckOptions, compile};

/// Written.
const OK: u8 = 0;
/// The spec has errors, or a template failed.
const FOUND: u8 = 1;
/// A usage or I/O problem.
const USAGE: u8 = 2;

/// Arguments of `pipec compile`.
#[derive(clap::Args)]
pub struct CompileArgs {
    /// Spec file, or directory holding `pipeline.yaml`.
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Environment (`{env}` and the spec's `environments.<env>`); overrides `vars.env` and
    /// `PIPEC_ENV`.
    #[arg(long)]
    env: Option<String>,
    /// Output directory (created when missing).
    #[arg(long, default_value = "out")]
    out: PathBuf,
    /// Directory of templates that replace the built-in ones of the same name
    /// (`kafka/topics.yaml.j2`, `helm/values.yaml.j2`, `helm/chart/...`).
    #[arg(long)]
    templates: Option<PathBuf>,
}

/// Arguments of `pipec graph`.
#[derive(clap::Args)]
pub struct GraphArgs {
    /// Spec file, or directory holding `pipeline.yaml`.
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Environment.
    #[arg(long)]
    env: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "mermaid")]
    format: GraphKind,
    /// Directory of templates overriding the built-in ones.
    #[arg(long)]
    templates: Option<PathBuf>,
}

/// Graph formats.
#[derive(Clone, Copy, ValueEnum)]
pub enum GraphKind {
    /// Mermaid flowchart.
    Mermaid,
    /// Graphviz DOT.
    Dot,
}

/// Checks and lowers the spec, printing its diagnostics; the manifest when it has no
/// errors, else the exit code.
pub fn load_manifest(path: &Path, env: Option<String>) -> Result<Manifest, u8> {
    let env = env.or_else(|| std::env::var("PIPEC_ENV").ok().filter(|e| !e.is_empty()));
    let lookup = |name: &str| std::env::var(name).ok();
    let mut compiled = compile(
        path,
        &CheckOptions {
            env,
            env_lookup: &lookup,
        },
    );
    report_compiled(path, &mut compiled)
}

/// Prints what compiling found; the manifest when there were no errors, else the exit
/// code.
/// The reports' SQL is planned here too (see [`crate::sqlcheck`]): a SQL error stops the
/// command like any other.
pub fn report_compiled(
    path: &Path,
    compiled: &mut pipec_compiler::Compiled,
) -> Result<Manifest, u8> {
    crate::sqlcheck::check(&mut compiled.check);
    let check = &compiled.check;
    if !check.diagnostics.is_empty() {
        let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        let text = diagnostics::render_text(
            &check.diagnostics.sorted(),
            &check.sources,
            RenderOptions { color, width: 100 },
        );
        let _ = std::io::stderr().write_all(text.as_bytes());
    }
    if check.usage_error {
        return Err(USAGE);
    }
    if let Some(e) = &compiled.lower_error {
        eprintln!("error: {e}");
        return Err(FOUND);
    }
    match &compiled.manifest {
        Some(m) if !check.diagnostics.has_errors() => Ok(m.clone()),
        _ => {
            eprintln!(
                "{}: {} error(s); nothing was written",
                path.display(),
                check.diagnostics.error_count()
            );
            Err(FOUND)
        }
    }
}

fn templates(dir: Option<&Path>) -> Result<Templates, u8> {
    match dir {
        None => Ok(Templates::builtin()),
        Some(d) => Templates::with_overrides(d).map_err(|e| {
            eprintln!("error: {e}");
            USAGE
        }),
    }
}

/// Runs `pipec compile`.
pub fn run_compile(args: CompileArgs) -> u8 {
    let templates = match templates(args.templates.as_deref()) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let m = match load_manifest(&args.path, args.env) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let artifacts = match codegen::generate(&m, &templates) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: template {e}");
            return FOUND;
        }
    };
    if let Err(e) = report_commands_parse(&m, &[]) {
        eprintln!("error: {e}; nothing was written");
        return FOUND;
    }
    for a in &artifacts {
        if let Err(e) = write(&args.out, a) {
            eprintln!(
                "error: cannot write `{}`: {e}",
                args.out.join(&a.path).display()
            );
            return USAGE;
        }
    }
    let removed = match forget_stale(&args.out, &m.env, &artifacts) {
        Ok(r) => r,
        Err(e) => {
            eprintln!(
                "error: cannot update `{}`: {e}",
                args.out.join(LEDGER).display()
            );
            return USAGE;
        }
    };
    for r in &removed {
        eprintln!(
            "removed {} (no longer generated)",
            args.out.join(r).display()
        );
    }
    let mut groups: Vec<(&str, usize)> = Vec::new();
    for a in &artifacts {
        let top = a.path.split('/').next().unwrap_or("");
        match groups.iter_mut().find(|(g, _)| *g == top) {
            Some((_, n)) => *n += 1,
            None => groups.push((top, 1)),
        }
    }
    let listed: Vec<String> = groups
        .iter()
        .map(|(g, n)| {
            if *n == 1 {
                (*g).to_string()
            } else {
                format!("{g}/ ({n} files)")
            }
        })
        .collect();
    eprintln!(
        "{}: compiled for `{}` into {}: {}",
        m.pipeline,
        m.env,
        args.out.display(),
        listed.join(", ")
    );
    OK
}

/// Parses the `pipec report` command of every report, as the crontab and the CronJobs run
/// it, with this binary's own argument parser: compile never emits a command the binary
/// does not take. `extra` adds flags (for tests).
fn report_commands_parse(m: &Manifest, extra: &[&str]) -> Result<(), String> {
    use clap::Parser as _;
    for (name, r) in &m.reports {
        let mut argv = vec!["pipec", "report", name.as_str(), "/etc/pipec/manifest.json"];
        argv.extend(codegen::context::report_flags(r));
        argv.extend(extra);
        argv.extend(["--date", "2024-01-01"]);
        if let Err(e) = crate::cli::Cli::try_parse_from(&argv) {
            let first = e.to_string();
            let first = first
                .lines()
                .next()
                .unwrap_or("")
                .trim_start_matches("error: ");
            return Err(format!(
                "the command generated for report `{name}` (`{}`) is not one this pipec takes: {first}",
                argv.join(" ")
            ));
        }
    }
    Ok(())
}

/// Where compile lists the files it wrote, one list per environment, so that a later run
/// can remove the files it no longer generates (a removed job's config, a cluster's
/// topics) without touching anything else in the directory.
const LEDGER: &str = ".pipec";

/// Removes the files the previous compile for `env` wrote that this one did not, unless
/// another environment's compile wrote them too (the chart is shared), and records this
/// run's files. Returns the removed paths.
fn forget_stale(
    out: &Path,
    env: &str,
    artifacts: &[codegen::Artifact],
) -> std::io::Result<Vec<String>> {
    let dir = out.join(LEDGER);
    let list = dir.join(format!("{env}.files"));
    let read = |p: &Path| -> Vec<String> {
        std::fs::read_to_string(p)
            .map(|t| t.lines().map(str::to_string).collect())
            .unwrap_or_default()
    };
    let now: std::collections::BTreeSet<&str> = artifacts.iter().map(|a| a.path.as_str()).collect();
    let mut others = std::collections::BTreeSet::new();
    if let Ok(rd) = std::fs::read_dir(&dir) {
        for e in rd.flatten() {
            if e.path() != list {
                others.extend(read(&e.path()));
            }
        }
    }
    let mut removed = Vec::new();
    for old in read(&list) {
        // Only plain relative paths that a compile could have written.
        let safe = !old.is_empty()
            && !old.starts_with('/')
            && !old.split('/').any(|c| c == ".." || c.is_empty());
        if safe && !now.contains(old.as_str()) && !others.contains(&old) {
            let path = out.join(&old);
            if path.is_file() {
                std::fs::remove_file(&path)?;
                removed.push(old);
            }
        }
    }
    std::fs::create_dir_all(&dir)?;
    let text: String = now.iter().map(|p| format!("{p}\n")).collect();
    std::fs::write(&list, text)?;
    Ok(removed)
}

fn write(out: &Path, a: &codegen::Artifact) -> std::io::Result<()> {
    // Never outside `--out`, whatever the artifact's name says.
    if !codegen::is_contained(&a.path) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the path would leave the output directory",
        ));
    }
    let path = out.join(&a.path);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    // Unchanged files are left alone, so their modification times say what changed.
    if std::fs::read(&path).is_ok_and(|old| old == a.contents.as_bytes()) {
        return set_mode(&path, a.executable);
    }
    std::fs::write(&path, &a.contents)?;
    set_mode(&path, a.executable)
}

#[cfg(unix)]
fn set_mode(path: &Path, executable: bool) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = if executable { 0o755 } else { 0o644 };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: bool) -> std::io::Result<()> {
    Ok(())
}

/// Runs `pipec graph`.
pub fn run_graph(args: GraphArgs) -> u8 {
    let templates = match templates(args.templates.as_deref()) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let m = match load_manifest(&args.path, args.env) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let format = match args.format {
        GraphKind::Mermaid => GraphFormat::Mermaid,
        GraphKind::Dot => GraphFormat::Dot,
    };
    match codegen::render_graph(&m, format, &templates) {
        Ok(text) => {
            print!("{text}");
            OK
        }
        Err(e) => {
            eprintln!("error: template {e}");
            FOUND
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_report_commands_are_checked_with_the_binarys_parser() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let m = load_manifest(&root.join("pipelines/igot"), Some("dev".into())).expect("igot");
        assert!(m.reports.len() >= 4);
        report_commands_parse(&m, &[]).expect("igot's commands parse");
        let err = report_commands_parse(&m, &["--no-such-flag"]).expect_err("refused");
        assert!(err.contains("--no-such-flag"), "{err}");
        assert!(err.contains("is not one this pipec takes"), "{err}");
    }
}
