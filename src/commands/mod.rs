//! Resolves parsed flags into jobs and runs them: the glue between [`crate::cli`] and the
//! library. Returns the process exit code; per-input failures are printed and counted,
//! configuration errors are returned as `Err` (exit code 2).
//!
//! - `resolve`: flags over a preset → the job (the second phase of the configuration), and
//!   the engine loaded once for all inputs.
//! - `caption`, `cut`, `review`, `align`, `watch`, `model`, `presets`: one subcommand each.
//! - `batch` runs one job over many inputs; `summary` reports on them (progress bars, the
//!   summary table, `--json` and `--report`).

mod align;
mod batch;
mod caption;
mod cut;
mod guard;
mod model;
mod presets;
mod resolve;
mod review;
mod summary;
mod watch;

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use crate::cli::{Cli, Command};
use resolve::Task;

/// Exit codes: all done / some inputs failed / usage or configuration error.
pub(crate) const EXIT_OK: i32 = 0;
pub(crate) const EXIT_FAILED: i32 = 1;
pub const EXIT_CONFIG: i32 = 2;

/// The bundled sample that `subcut run` captions when given no input.
fn sample_input() -> PathBuf {
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/talk.mp4");
    if built.exists() {
        built
    } else {
        PathBuf::from("fixtures/talk.mp4")
    }
}

/// Runs the parsed command line. `Ok` is the exit code (`EXIT_OK`, or `EXIT_FAILED` when
/// an input failed); `Err` is a usage or configuration error, which `main` prints on one line
/// with exit code [`EXIT_CONFIG`].
pub fn run(cli: Cli) -> Result<i32> {
    let ui = Ui {
        quiet: cli.quiet,
        verbose: cli.verbose,
    };
    match cli.command {
        Command::Run(mut args) => {
            let c = &mut args.caption;
            if c.inputs.is_empty() {
                c.inputs.push(sample_input());
                if c.out_dir.is_none() {
                    c.out_dir = Some(PathBuf::from("subcut-sample"));
                }
            }
            // The whole job the preset describes: a cut, or captions only.
            let preset = resolve::effective_preset(&args.caption, Some(&args))?;
            match Task::of(&preset) {
                Task::Cut => cut::cut(args, &ui),
                Task::Caption => caption::caption(args.caption, None, &ui),
            }
        }
        Command::Presets(p) => presets::command(p),
        Command::Caption(args) => {
            if args.inputs.is_empty() {
                bail!("no input given: name media files, directories or glob patterns (or run `subcut run` for the sample)");
            }
            caption::caption(args, None, &ui)
        }
        Command::Cut(a) => {
            if a.caption.inputs.is_empty() {
                bail!("no input given: name media files, directories or glob patterns");
            }
            cut::cut(a, &ui)
        }
        Command::Review(a) => {
            if a.caption.inputs.is_empty() {
                bail!("no input given: name media files, directories or glob patterns");
            }
            review::review(a, &ui)
        }
        Command::Align(a) => align::align(a, &ui),
        Command::Model(m) => model::command(m, &ui),
        Command::Watch(a) => watch::command(&a, ui.quiet),
    }
}

/// What the user asked to see on stderr (`--quiet`, `--verbose`).
struct Ui {
    quiet: bool,
    verbose: bool,
}

impl Ui {
    fn info(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", msg.as_ref());
        }
    }
}
