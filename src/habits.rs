//! What a command-line tool is expected to have besides its work: shell completions
//! (`pipec completions bash|zsh|fish|elvish|powershell`) and a man page (`pipec man`), both
//! generated from the same clap definition as the parser, so they never drift from it.

use std::io::Write;
use std::path::PathBuf;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;

/// Success.
const OK: u8 = 0;
/// The output could not be written.
const IO: u8 = 2;

/// Arguments of `pipec completions`.
#[derive(clap::Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    shell: Shell,
}

/// Arguments of `pipec man`.
#[derive(clap::Args)]
pub struct ManArgs {
    /// Write `pipec.1` and a page per command (`pipec-check.1`, ...) into this directory
    /// instead of printing `pipec.1`.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

/// Prints the completion script of `args.shell`.
pub fn completions(args: &CompletionsArgs) -> u8 {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "pipec", &mut out);
    write_stdout(&out)
}

/// Prints the man page, or writes every page into `--dir`.
pub fn man(args: &ManArgs) -> u8 {
    let cmd = Cli::command();
    if let Some(dir) = &args.dir {
        let written =
            std::fs::create_dir_all(dir).and_then(|()| clap_mangen::generate_to(cmd, dir));
        return match written {
            Ok(()) => OK,
            Err(e) => {
                eprintln!("error: {}: {e}", dir.display());
                IO
            }
        };
    }
    let mut out = Vec::new();
    match clap_mangen::Man::new(cmd).render(&mut out) {
        Ok(()) => write_stdout(&out),
        Err(e) => {
            eprintln!("error: rendering the man page: {e}");
            IO
        }
    }
}

fn write_stdout(bytes: &[u8]) -> u8 {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => OK,
        // A closed pipe (`pipec man | head`) is the reader's choice, not an error to shout.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => OK,
        Err(e) => {
            eprintln!("error: writing to stdout: {e}");
            IO
        }
    }
}
