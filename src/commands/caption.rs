//! `subcut caption` (and `align`, and `run` with a captioning preset): subtitles for every
//! input, whatever the preset's mode.

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::batch::{batch_inputs, run_inputs};
use super::guard;
use super::resolve::{effective_preset, prepare, say_model, Prepared};
use super::Ui;
use crate::cli::CaptionArgs;
use crate::output::output_path;
use crate::pipeline::{self, CaptionJob, Script};

/// `script`: what `align` was given, with its file (an input: never a destination).
pub(super) fn caption(args: CaptionArgs, script: Option<(Script, &Path)>, ui: &Ui) -> Result<i32> {
    // Configuration problems stop the run before any work: exit code 2.
    let mut preset = effective_preset(&args, None)?;
    preset.captions = true; // whatever a cutting preset says: captioning is the job here
    let batch = batch_inputs(&args)?;
    let mut read = guard::side_inputs(args.preset.as_deref(), args.fake_transcript.as_deref());
    let script = script.map(|(s, file)| {
        read.push((file.to_path_buf(), "the script".to_string()));
        s
    });
    let outputs = |job: &CaptionJob, p: &Path| -> Vec<PathBuf> {
        job.formats
            .iter()
            .map(|f| output_path(p, job.out_dir.as_deref(), f.ext()))
            .collect()
    };
    // Destinations are checked before the model loads.
    let check = |job: &CaptionJob| {
        guard::check_batch(
            &batch,
            read.clone(),
            &|p| outputs(job, p),
            args.report.as_deref(),
        )
    };
    let (prepared, jobs) = prepare(&args, &preset, script, batch.inputs.len(), &check)?;
    say_model(&prepared, ui);
    let Prepared { job, engine, .. } = prepared;
    let expected = |p: &Path| outputs(&job, p);
    run_inputs(
        &args,
        batch,
        jobs,
        true,
        &expected,
        &|_, p, on| pipeline::caption(p, &job, engine.as_ref(), on),
        ui,
    )
}
