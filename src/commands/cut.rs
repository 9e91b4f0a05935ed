//! `subcut cut` (and `run` with a cutting preset): the cut video, its captions on both
//! timelines, the cut lists and the timeline picture.

use std::path::Path;

use anyhow::{bail, Result};

use super::batch::{batch_inputs, run_inputs};
use super::guard;
use super::resolve::{cut_job, effective_preset, prepare_with, say_model, Prepared};
use super::Ui;
use crate::cli::CutArgs;
use crate::output::print_stdout;
use crate::pipeline::{self, CaptionJob};

pub(super) fn cut(args: CutArgs, ui: &Ui) -> Result<i32> {
    let preset = effective_preset(&args.caption, Some(&args))?;
    let batch = batch_inputs(&args.caption)?;
    let mut cut_job = cut_job(
        &preset,
        Some(&args),
        batch.inputs.len() + batch.failed.len(),
    )?;
    // An edit list: its decisions and stored words, checked against the input before any
    // work; no model is loaded.
    let mut engine = None;
    if let Some(list) = &args.edit {
        let input = match (&batch.inputs[..], &batch.failed[..]) {
            ([one], []) => one.clone(),
            ([], [(_, why)]) => bail!("{why}"),
            _ => bail!(
                "--edit {} is the edit list of one input; name that one file",
                list.display()
            ),
        };
        let (session, warnings) = pipeline::load_edit(list, &input)?;
        if !ui.quiet {
            for w in &warnings {
                eprintln!("warning: {}: {w}", list.display());
            }
        }
        cut_job.edit = Some(session);
        engine = Some(Box::new(crate::asr::Replay::nothing()) as Box<dyn crate::asr::Transcriber>);
    }
    let mut read = guard::side_inputs(
        args.caption.preset.as_deref(),
        args.caption.fake_transcript.as_deref(),
    );
    if let Some(list) = &args.edit {
        read.push((list.clone(), "the --edit list".to_string()));
    }
    // Destinations are checked before the model loads (a dry run writes none but --report).
    let check = |job: &CaptionJob| {
        let dests = |p: &Path| match args.dry_run {
            true => Vec::new(),
            false => pipeline::cut_outputs(p, job, &cut_job),
        };
        guard::check_batch(&batch, read.clone(), &dests, args.caption.report.as_deref())
    };
    let (prepared, jobs) = prepare_with(
        &args.caption,
        &preset,
        None,
        batch.inputs.len(),
        &check,
        engine,
    )?;
    say_model(&prepared, ui);
    let Prepared { job, engine, .. } = prepared;
    let expected = |p: &Path| pipeline::cut_outputs(p, &job, &cut_job);
    let dry = args.dry_run && !args.caption.json;
    // Stdout that cannot take a cut list fails the command, not the input: a closed pipe
    // ends it with success, a full device with one error line (as everywhere).
    let stdout_failed = std::sync::Mutex::new(None);
    let code = run_inputs(
        &args.caption,
        batch,
        jobs,
        !args.dry_run,
        &expected,
        &|_, p, on| {
            let o = pipeline::cut(p, &job, &cut_job, engine.as_ref(), on)?;
            if let Some(list) = o.cut_list.as_ref().filter(|_| dry) {
                let mut failed = stdout_failed.lock().unwrap_or_else(|e| e.into_inner());
                if failed.is_none() {
                    let shown = print_stdout(format_args!("{}:\n{list}\n", o.input.display()));
                    *failed = shown.err();
                }
            }
            Ok(o)
        },
        ui,
    )?;
    match stdout_failed
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
    {
        Some(e) => Err(e),
        None => Ok(code),
    }
}
