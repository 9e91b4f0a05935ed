//! `subcut watch IN_DIR`: the glue between the flags and [`crate::watch::run`]. It refuses
//! the batch-only flags, resolves the preset under the caption flags into one job (captions,
//! or the preset's cut when it is given with `--preset` and its mode is `cut`), loads the
//! engine once, and plugs the pipeline in, writing into the out folder.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use super::resolve::{cut_job, effective_preset, prepare, Prepared, Task};
use super::{EXIT_FAILED, EXIT_OK};
use crate::cli::WatchArgs;
use crate::watch::{self, WatchOptions};

/// Test-only: milliseconds `subcut watch` sleeps before processing each file, so that tests
/// can stop or kill it mid-file.
const TEST_DELAY_ENV: &str = "SUBCUT_WATCH_TEST_DELAY_MS";

/// Seconds from the command line as a duration (finite, not negative).
fn seconds(flag: &str, s: f64) -> Result<Duration> {
    Duration::try_from_secs_f64(s)
        .map_err(|_| anyhow::anyhow!("{flag} {s}: expected a number of seconds ≥ 0"))
}

/// `subcut watch`: resolves the flags, loads the engine once, and captions (or cuts) every
/// file that arrives, until SIGINT/SIGTERM (exit code 0) or, with `--once`, until the folder
/// is done (exit code 1 if any file failed).
pub(super) fn command(args: &WatchArgs, quiet: bool) -> Result<i32> {
    if let Some(extra) = args.caption.inputs.first() {
        bail!(
            "watch takes one folder; unexpected argument {} (drop files into {} instead)",
            extra.display(),
            args.in_dir.display()
        );
    }
    let c = &args.caption;
    for (set, flag) in [
        (c.report.is_some(), "--report"),
        (c.skip_existing, "--skip-existing"),
        (c.shard.is_some() || c.shards.is_some(), "--shard/--shards"),
        (c.json, "--json"),
        (c.jobs.is_some_and(|j| j != 1), "--jobs"),
    ] {
        if set {
            bail!("watch does not take {flag}: it processes one file at a time as files arrive");
        }
    }
    if !args.in_dir.is_dir() {
        bail!(
            "{}: not a directory (the folder to watch)",
            args.in_dir.display()
        );
    }
    let mut opts = WatchOptions::new(&args.in_dir);
    if let Some(o) = &c.out_dir {
        opts.out_dir = o.clone();
    }
    if let Some(d) = &args.done {
        opts.done_dir = d.clone();
    }
    if let Some(d) = &args.failed {
        opts.failed_dir = d.clone();
    }
    opts.settle = seconds("--settle", args.settle)?;
    opts.poll = match args.poll {
        Some(p) if p > 0.0 => Some(seconds("--poll", p)?),
        Some(p) => bail!("--poll {p}: expected a number of seconds > 0"),
        None => None,
    };
    opts.once = args.once;
    opts.quiet = quiet;

    // Before loading a model: folder mistakes show at once.
    watch::prepare_dirs(&opts)?;
    // The job: the preset (`--preset`, else `default`) under the caption flags, one
    // CaptionJob, the engine loaded once for every file.
    let mut preset = effective_preset(c, None)?;
    // Without --preset the watcher captions; with one it runs the whole job the preset
    // describes, cutting too when its mode is `cut` (with or without captions).
    let cut_job = match c.preset.is_some().then(|| Task::of(&preset)) {
        Some(Task::Cut) => Some(cut_job(&preset, None, 1)?),
        _ => {
            preset.captions = true;
            None
        }
    };
    let (prepared, _) = prepare(c, &preset, None, 1, &|_| Ok(()))?;
    let Prepared {
        mut job, engine, ..
    } = prepared;
    job.out_dir = Some(opts.out_dir.clone());

    let delay = std::env::var(TEST_DELAY_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_millis);
    let stop = Arc::new(AtomicBool::new(false));
    #[cfg(unix)]
    for (sig, code) in [
        (signal_hook::consts::SIGINT, 130),
        (signal_hook::consts::SIGTERM, 143),
    ] {
        // The first signal asks to stop after the current file; a second one exits at once.
        signal_hook::flag::register_conditional_shutdown(sig, code, Arc::clone(&stop))
            .and_then(|_| signal_hook::flag::register(sig, Arc::clone(&stop)))
            .context("cannot install the signal handlers")?;
    }
    let mut process = |input: &Path| -> Result<Vec<PathBuf>> {
        if let Some(d) = delay {
            std::thread::sleep(d);
        }
        let o = match &cut_job {
            Some(cj) => crate::pipeline::cut(input, &job, cj, engine.as_ref(), &mut |_| {})?,
            None => crate::pipeline::caption(input, &job, engine.as_ref(), &mut |_| {})?,
        };
        let mut out = io::stdout().lock();
        for p in &o.outputs {
            let _ = writeln!(out, "{}", p.display());
        }
        let _ = out.flush();
        Ok(o.outputs)
    };
    let summary = watch::run(&opts, &mut process, &stop)?;
    if !opts.quiet {
        let how = if summary.stopped { "stopped: " } else { "" };
        eprintln!(
            "{how}{} done, {} failed",
            summary.done.len(),
            summary.failed.len()
        );
    }
    if summary.stopped {
        return Ok(EXIT_OK);
    }
    Ok(if summary.failed.is_empty() {
        EXIT_OK
    } else {
        EXIT_FAILED
    })
}
