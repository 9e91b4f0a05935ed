//! Runs one job over many inputs: expands and shards the arguments, skips up-to-date inputs
//! (`--skip-existing`), processes the rest `jobs` at a time, and collects every input's fate
//! for the summary. A failed input is counted, not fatal.

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::summary::{finish, Progress};
use super::Ui;
use crate::cli::CaptionArgs;
use crate::error::one_line;
use crate::inputs;
use crate::pipeline::{self, Event, Outcome};

/// The inputs of a batch command after expansion and sharding, and the arguments that
/// matched nothing (already failed: `(input, error line)`).
pub(super) struct Batch {
    pub(super) inputs: Vec<PathBuf>,
    pub(super) failed: Vec<(String, String)>,
}

pub(super) fn batch_inputs(args: &CaptionArgs) -> Result<Batch> {
    let (inputs, bad) = inputs::expand(&args.inputs);
    let shard = inputs::Shard::resolve(args.shard, args.shards, &|k| std::env::var(k).ok())
        .map_err(anyhow::Error::msg)?;
    let inputs = match shard {
        Some(s) => s.select(&inputs),
        None => inputs,
    };
    let failed = bad
        .iter()
        .map(|b| {
            (
                b.arg.display().to_string(),
                format!("{}: {}", b.arg.display(), b.cause),
            )
        })
        .collect();
    Ok(Batch { inputs, failed })
}

/// One input's work: `(index, input, progress)`.
pub(super) type OneInput<'a> =
    dyn Fn(usize, &Path, &mut dyn FnMut(Event)) -> Result<Outcome> + Sync + 'a;

/// Runs `one` over the inputs (skipping up-to-date ones with --skip-existing), shows
/// progress, prints the summary, writes the report; exit code 1 when any input failed.
pub(super) fn run_inputs(
    args: &CaptionArgs,
    batch: Batch,
    jobs: usize,
    writes: bool,
    expected: &dyn Fn(&Path) -> Vec<PathBuf>,
    one: &OneInput,
    ui: &Ui,
) -> Result<i32> {
    let Batch { inputs, mut failed } = batch;
    let (inputs, skipped): (Vec<PathBuf>, Vec<PathBuf>) = inputs
        .into_iter()
        .partition(|p| !(args.skip_existing && inputs::up_to_date(p, &expected(p))));
    if let Some(dir) = args.out_dir.as_ref().filter(|_| writes) {
        if let Err(e) = crate::output::ensure_dir(dir) {
            for p in &inputs {
                failed.push((p.display().to_string(), format!("{}: {e:#}", p.display())));
            }
            return finish(&[], &skipped, failed, args, ui);
        }
    }
    let progress = Progress::new(&inputs, ui.quiet);
    let results = pipeline::run_all(&inputs, jobs, &|i, p| {
        one(i, p, &mut |e| progress.event(i, e))
    });
    progress.clear();
    let mut done = Vec::new();
    for (input, r) in inputs.iter().zip(results) {
        match r {
            Ok(o) => done.push(o),
            Err(e) => failed.push((input.display().to_string(), one_line(&e))),
        }
    }
    finish(&done, &skipped, failed, args, ui)
}
