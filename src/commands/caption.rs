//! `subcut caption` (and `align`, and `run` with a captioning preset): subtitles for every
//! input, whatever the preset's mode.

use std::path::Path;

use anyhow::Result;

use super::batch::{batch_inputs, run_inputs};
use super::guard;
use super::resolve::{effective_preset, prepare, say_model, Prepared};
use super::Ui;
use crate::cli::CaptionArgs;
use crate::output::output_path;
use crate::pipeline::{self, Script};

/// `script`: what `align` was given, with its file (an input: never a destination).
pub(super) fn caption(args: CaptionArgs, script: Option<(Script, &Path)>, ui: &Ui) -> Result<i32> {
    // Configuration problems stop the run before any work: exit code 2.
    let mut preset = effective_preset(&args, None)?;
    preset.captions = true; // whatever a cutting preset says: captioning is the job here
    let batch = batch_inputs(&args)?;
    let script_file = script.as_ref().map(|(_, p)| p.to_path_buf());
    let (prepared, jobs) = prepare(&args, &preset, script.map(|(s, _)| s), batch.inputs.len())?;
    say_model(&prepared, ui);
    let Prepared { job, engine, .. } = prepared;
    let expected = |p: &Path| {
        job.formats
            .iter()
            .map(|f| output_path(p, job.out_dir.as_deref(), f.ext()))
            .collect()
    };
    let mut read = guard::side_inputs(args.preset.as_deref(), args.fake_transcript.as_deref());
    read.extend(script_file.map(|p| (p, "the script".to_string())));
    guard::check_batch(&batch, read, &expected, args.report.as_deref())?;
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
