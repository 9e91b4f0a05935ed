//! `subcut review`: the proposed cut as an edit list to change (NAME.edit.md), the words it
//! refers to (NAME.edit.json), and a page to look at it (NAME.review.html, NAME.review.png).
//! The same caption and cut options, presets included, as `cut`; `cut --edit` renders it.

use std::path::Path;

use anyhow::{bail, Result};

use super::batch::{batch_inputs, run_inputs};
use super::guard;
use super::resolve::{cut_job, effective_preset, prepare, say_model, Prepared};
use super::Ui;
use crate::cli::CutArgs;
use crate::pipeline::{self, CaptionJob};

pub(super) fn review(args: CutArgs, ui: &Ui) -> Result<i32> {
    if let Some(list) = &args.edit {
        bail!(
            "--edit {} goes with `subcut cut`; `subcut review` writes the edit list",
            list.display()
        );
    }
    if args.dry_run {
        bail!("`subcut review` writes only the edit list and its page; --dry-run goes with `subcut cut`");
    }
    if args.no_captions {
        bail!("`subcut review` needs the transcript; it cannot go with --no-captions");
    }
    let preset = effective_preset(&args.caption, Some(&args))?;
    let batch = batch_inputs(&args.caption)?;
    let cut_job = cut_job(
        &preset,
        Some(&args),
        batch.inputs.len() + batch.failed.len(),
    )?;
    let read = guard::side_inputs(
        args.caption.preset.as_deref(),
        args.caption.fake_transcript.as_deref(),
    );
    let check = |job: &CaptionJob| {
        let dests = |p: &Path| pipeline::review_outputs(p, job);
        guard::check_batch(&batch, read.clone(), &dests, args.caption.report.as_deref())
    };
    let (prepared, jobs) = prepare(&args.caption, &preset, None, batch.inputs.len(), &check)?;
    say_model(&prepared, ui);
    let Prepared { job, engine, .. } = prepared;
    let expected = |p: &Path| pipeline::review_outputs(p, &job);
    run_inputs(
        &args.caption,
        batch,
        jobs,
        true,
        &expected,
        &|_, p, on| pipeline::review(p, &job, &cut_job, engine.as_ref(), on),
        ui,
    )
}
