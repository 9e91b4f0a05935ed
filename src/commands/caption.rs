//! `subcut caption` (and `align`, and `run` with a captioning preset): subtitles for every
//! input, whatever the preset's mode.

use std::path::Path;

use anyhow::Result;

use super::batch::{batch_inputs, run_inputs};
use super::resolve::{effective_preset, prepare, say_model, Prepared};
use super::Ui;
use crate::cli::CaptionArgs;
use crate::output::output_path;
use crate::pipeline::{self, Script};

pub(super) fn caption(args: CaptionArgs, script: Option<Script>, ui: &Ui) -> Result<i32> {
    // Configuration problems stop the run before any work: exit code 2.
    let mut preset = effective_preset(&args, None)?;
    preset.captions = true; // whatever a cutting preset says: captioning is the job here
    let batch = batch_inputs(&args)?;
    let (prepared, jobs) = prepare(&args, &preset, script, batch.inputs.len())?;
    say_model(&prepared, ui);
    let Prepared { job, engine, .. } = prepared;
    let expected = |p: &Path| {
        job.formats
            .iter()
            .map(|f| output_path(p, job.out_dir.as_deref(), f.ext()))
            .collect()
    };
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
