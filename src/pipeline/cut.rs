//! `subcut cut` for one input, as a sequence of steps over plain data:
//!
//! ```text
//! listen (decode, speech, words) ─▶ plan_cut (EditPlan, cues on both timelines)
//!   ─▶ stage_captions ─▶ stage_exports ─▶ stage_timeline ─▶ render_cut ─▶ commit
//! ```
//!
//! Every output is staged (see [`crate::output`]) and committed together at the end: if any
//! step fails, nothing is written.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};

use super::review::EditSession;
use super::{
    cues_for, file_name, listen, stage_subtitles, CaptionJob, Event, Heard, Outcome, RenderNote,
};
use crate::analysis;
use crate::asr::Transcriber;
use crate::edit::export::{Export, Source, Timecode};
use crate::edit::{self, CutParams, EditPlan, FrameGrid, FrameRate};
use crate::media;
use crate::media::probe::{self, MediaInfo};
use crate::media::render::{self, RenderOptions};
use crate::output::{output_path, Staged};
use crate::preset::Preset;
use crate::subtitle::format::{self, Doc};
use crate::subtitle::segment;
use crate::subtitle::Cue;
use crate::time::Span;
use crate::timeline;
use crate::transcript::{Transcript, Word};

/// Where the timeline picture goes.
#[derive(Clone, Debug, PartialEq)]
pub enum TimelineOut {
    /// `NAME.timeline.png` beside the other outputs.
    Beside,
    /// This file (one input only).
    File(PathBuf),
}

/// What `cut` does beyond captioning.
#[derive(Clone, Debug)]
pub struct CutJob {
    /// What to cut and how tightly.
    pub(crate) params: CutParams,
    /// Codec settings of the cut media.
    pub(crate) render: RenderOptions,
    /// Burn the cut captions into the video.
    pub burn_in: bool,
    /// The cut list formats to write.
    pub(crate) exports: Vec<Export>,
    /// The frame rate of an audio-only input's cut and exports (`--fps`, else 30): its
    /// cuts snap to this grid, so the editor's timeline ends where the cut audio ends.
    pub(crate) audio_fps: FrameRate,
    /// Where to draw the timeline picture; `None`: no picture.
    pub(crate) timeline: Option<TimelineOut>,
    /// Plan and report only: nothing is rendered or written.
    pub dry_run: bool,
    /// An edit list's decisions (`--edit`): they replace the word cuts, and its stored
    /// words the transcription.
    pub(crate) edit: Option<Arc<EditSession>>,
}

impl CutJob {
    /// The cut a preset describes. Without captions (`captions = false`) there are no words,
    /// so nothing is cut by word: every word cut ([`crate::edit::WORD_CUTS`]) is off.
    pub fn from_preset(p: &Preset, timeline: Option<TimelineOut>, dry_run: bool) -> CutJob {
        let params = if p.captions {
            p.cut.clone()
        } else {
            p.cut.without_word_cuts()
        };
        CutJob {
            params,
            render: p.render.clone(),
            burn_in: p.burn_in,
            exports: p.export.clone(),
            audio_fps: default_audio_fps(),
            timeline,
            dry_run,
            edit: None,
        }
    }
}

/// The timeline rate of audio-only cuts unless `--fps` says otherwise: 30.
pub(crate) fn default_audio_fps() -> FrameRate {
    FrameRate::new(30, 1).expect("30 fps")
}

/// The files [`cut`] writes for `input` (for --skip-existing).
pub fn cut_outputs(input: &Path, job: &CaptionJob, cut: &CutJob) -> Vec<PathBuf> {
    let dir = job.out_dir.as_deref();
    let mut v: Vec<PathBuf> = job
        .formats
        .iter()
        .flat_map(|f| {
            [
                output_path(input, dir, f.ext()),
                output_path(input, dir, &format!("cut.{}", f.ext())),
            ]
        })
        .collect();
    v.extend(cut.exports.iter().map(|e| output_path(input, dir, e.ext())));
    match &cut.timeline {
        Some(TimelineOut::Beside) => v.push(output_path(input, dir, "timeline.png")),
        Some(TimelineOut::File(p)) => v.push(p.clone()),
        None => {}
    }
    match probe::output_extension(input) {
        Ok(ext) => v.push(output_path(input, dir, &format!("cut.{ext}"))),
        Err(_) => v.clear(), // unreadable: never "up to date"
    }
    v
}

/// Cuts one input: captions on both timelines, the cut list exports, the timeline picture
/// and the cut media, all committed together (nothing is written if any part fails).
pub fn cut(
    input: &Path,
    job: &CaptionJob,
    cut: &CutJob,
    engine: &dyn Transcriber,
    on: &mut dyn FnMut(Event),
) -> Result<Outcome> {
    let info = probe::probe(input).map_err(anyhow::Error::from)?;
    let mut heard = listen(input, job, engine, on)?;
    if let Some(e) = &cut.edit {
        // The words review stored (nothing was transcribed), on the same recording.
        let (then, now) = (e.stored.input.duration, heard.audio.duration());
        if (then - now).as_micros().abs() > 1_000 {
            bail!(
                "{}: made for a recording of {then}, but {} is {now} long; run `subcut review` on it again",
                e.list.display(),
                input.display()
            );
        }
        heard.transcript = e.stored.transcript.clone();
    }
    let t2 = Instant::now();
    on(Event::Stage("plan"));
    let planned = plan_cut(input, &info, &heard, job, cut)?;
    let mut outcome = Outcome {
        input: input.to_path_buf(),
        language: planned.transcript.language.clone(),
        cues: planned.cut_cues.len(),
        media_seconds: heard.audio.duration().as_secs_f64(),
        kept_seconds: Some(planned.plan.kept().as_secs_f64()),
        decode_seconds: heard.decode_seconds,
        analysis_seconds: heard.analysis_seconds,
        transcribe_seconds: heard.transcribe_seconds,
        ..Outcome::default()
    }
    .heard(&heard);
    if cut.dry_run {
        outcome.cut_list = Some(planned.plan.to_string());
        outcome.write_seconds = t2.elapsed().as_secs_f64();
        return Ok(outcome);
    }

    on(Event::Stage("write"));
    let mut staged = Staged::default();
    stage_captions(&mut staged, input, job, &heard, &planned)?;
    stage_exports(&mut staged, input, job, cut, &info, &planned)?;
    stage_timeline(&mut staged, input, job, cut, &heard, &planned)?;
    drop(heard);

    on(Event::Stage("render"));
    let tr = Instant::now();
    outcome.render = render_cut(&mut staged, input, job, cut, &info, &planned, on)?;
    outcome.render_seconds = Some(tr.elapsed().as_secs_f64());
    outcome.outputs = staged.commit().with_context(|| failed(input))?;
    outcome.write_seconds = t2.elapsed().as_secs_f64() - outcome.render_seconds.unwrap_or(0.0);
    Ok(outcome)
}

/// The cut of one input and its captions on both timelines.
pub(super) struct Planned {
    pub(super) plan: EditPlan,
    /// The speech the cut was planned on (with the cut's own threshold).
    pub(super) cut_speech: Vec<Span>,
    /// The rate the cut is on: the video's, or for audio [`CutJob::audio_fps`]; `None` for
    /// a video without a known rate.
    fps: Option<FrameRate>,
    /// Words and cues on the source's timeline…
    transcript: Transcript,
    pub(super) cues: Vec<Cue>,
    /// …and on the cut's.
    cut_transcript: Transcript,
    cut_cues: Vec<Cue>,
}

/// Plans what to keep (on the video's frame grid) and lays the captions on both timelines:
/// with the word cuts `cut.params` finds, or those of `cut.edit`'s list.
pub(super) fn plan_cut(
    input: &Path,
    info: &MediaInfo,
    heard: &Heard,
    job: &CaptionJob,
    cut: &CutJob,
) -> Result<Planned> {
    let duration = heard.audio.duration();
    let cut_speech = analysis::detect(&heard.audio.samples, &cut.params.speech_params());
    // The renderer's frame slots start at the video stream's first frame; audio is cut on
    // the exports' grid.
    let (fps, grid) = match &info.video {
        Some(v) => (
            v.frame_rate,
            v.frame_rate.map(|r| FrameGrid::new(r, v.start)),
        ),
        None => (Some(cut.audio_fps), Some(FrameGrid::from(cut.audio_fps))),
    };
    let words: Vec<Word> = heard.transcript.words().cloned().collect();
    let plan = match &cut.edit {
        Some(e) => {
            edit::editlist::plan_edit(duration, &cut_speech, &e.words, &e.state, &cut.params, grid)
        }
        None => edit::plan(
            duration,
            &cut_speech,
            &words,
            &heard.transcript.language,
            &cut.params,
            grid,
        ),
    };
    if plan.is_empty() {
        bail!(
            "{}: nothing to keep: no speech found above the threshold ({}); try a lower --threshold",
            input.display(),
            cut.params.threshold
        );
    }
    let (transcript, cues) = cues_for(heard, job);
    let map = plan.time_map();
    let cut_transcript = map.map_transcript(&transcript);
    let cut_speech_out: Vec<Span> = heard.speech.iter().flat_map(|s| map.map_span(*s)).collect();
    // Burned-in lines are no longer than the output frame has room for.
    let mut rules = job.segment.clone();
    if let (true, Some(v)) = (cut.burn_in, &info.video) {
        let (w, h) = render::caption_frame(v, &cut.render);
        let cjk = crate::subtitle::segment::is_cjk(&cut_transcript);
        let fit = job.style.fit_to(w, h).line_chars_that_fit(cjk);
        if fit < rules.limits(cjk).max_line_chars {
            rules.max_line_chars = Some(fit);
        }
    }
    let cut_cues = segment(&cut_transcript, &cut_speech_out, &rules, plan.kept());
    Ok(Planned {
        plan,
        cut_speech,
        fps,
        transcript,
        cues,
        cut_transcript,
        cut_cues,
    })
}

fn failed(input: &Path) -> String {
    format!("{}: output failed", input.display())
}

/// `NAME.FORMAT` on the source's timeline and `NAME.cut.FORMAT` on the cut's.
fn stage_captions(
    staged: &mut Staged,
    input: &Path,
    job: &CaptionJob,
    heard: &Heard,
    p: &Planned,
) -> Result<()> {
    let source = file_name(input);
    let doc = Doc {
        source: &source,
        model: &job.model_label,
        duration: heard.audio.duration(),
        transcript: &p.transcript,
        cues: &p.cues,
        style: &job.style,
        unheard: &heard.unheard,
    };
    stage_subtitles(staged, input, job, None, &doc)?;
    let cut_doc = Doc {
        duration: p.plan.kept(),
        transcript: &p.cut_transcript,
        cues: &p.cut_cues,
        // On the source's timeline: not the cut's.
        unheard: &[],
        ..doc
    };
    stage_subtitles(staged, input, job, Some("cut"), &cut_doc)
}

/// The cut lists for editors (`--export`).
fn stage_exports(
    staged: &mut Staged,
    input: &Path,
    job: &CaptionJob,
    cut: &CutJob,
    info: &MediaInfo,
    p: &Planned,
) -> Result<()> {
    let abs = input.canonicalize().unwrap_or_else(|_| input.to_path_buf());
    let mut src = match (&info.video, &info.audio) {
        (Some(v), a) => {
            let mut s = Source::video(
                &abs,
                p.fps.unwrap_or_else(default_audio_fps),
                v.width,
                v.height,
            );
            s.origin = v.start;
            s.frames = v.frames;
            s.has_audio = a.is_some();
            if let Some(a) = a {
                s.audio_channels = a.channels as u32;
                s.audio_rate = a.sample_rate;
            }
            s
        }
        (None, Some(a)) => Source::audio(&abs, cut.audio_fps, a.channels as u32, a.sample_rate),
        (None, None) => bail!("{}: no audio or video stream", input.display()),
    };
    // A timecode that is not one at this rate is ignored (the source then starts at 0).
    if let Some(tc) = info.timecode.as_deref() {
        src.timecode = Timecode::parse(tc, src.fps).unwrap_or_default();
    }
    for &e in &cut.exports {
        let body = edit::export::render(e, &p.plan, &src, &cut.params);
        staged
            .add(
                input,
                output_path(input, job.out_dir.as_deref(), e.ext()),
                body.as_bytes(),
            )
            .with_context(|| failed(input))?;
    }
    Ok(())
}

/// The timeline picture (`--timeline`).
fn stage_timeline(
    staged: &mut Staged,
    input: &Path,
    job: &CaptionJob,
    cut: &CutJob,
    heard: &Heard,
    p: &Planned,
) -> Result<()> {
    let Some(t) = &cut.timeline else {
        return Ok(());
    };
    let img = timeline::draw(
        &heard.audio.samples,
        media::SAMPLE_RATE,
        heard.audio.duration(),
        &p.cut_speech,
        &p.plan.removed,
        &p.cues,
        1600,
    );
    let dest = match t {
        TimelineOut::Beside => output_path(input, job.out_dir.as_deref(), "timeline.png"),
        TimelineOut::File(f) => f.clone(),
    };
    staged
        .add(input, dest, &timeline::png(&img))
        .with_context(|| failed(input))
}

/// Renders the cut media into a reserved staging file (with the cut captions burned in when
/// asked).
fn render_cut(
    staged: &mut Staged,
    input: &Path,
    job: &CaptionJob,
    cut: &CutJob,
    info: &MediaInfo,
    p: &Planned,
    on: &mut dyn FnMut(Event),
) -> Result<Option<RenderNote>> {
    let mut opts = cut.render.clone();
    let _ass; // the burn-in subtitles live until the render is done
    if cut.burn_in {
        let mut f = tempfile::Builder::new()
            .prefix(&crate::output::temp_prefix())
            .suffix(".ass")
            .tempfile_in(crate::output::note_temp_dir(&std::env::temp_dir()))
            .with_context(|| failed(input))?;
        // The captions' canvas is the output frame, so the style means the same share of
        // the picture on every input.
        let style = match &info.video {
            Some(v) => {
                let (w, h) = render::caption_frame(v, &opts);
                job.style.fit_to(w, h)
            }
            None => job.style.clone(),
        };
        let mut words: Vec<Word> = p.cut_transcript.words().cloned().collect();
        words.sort_by_key(|w| w.start);
        let ass = format::ass::render_words(&p.cut_cues, &words, &style, &file_name(input));
        use std::io::Write;
        f.write_all(ass.as_bytes()).with_context(|| failed(input))?;
        opts.burn_in = Some(f.path().to_path_buf());
        _ass = f;
    }
    let ext = info.output_extension();
    let video_dest = output_path(input, job.out_dir.as_deref(), &format!("cut.{ext}"));
    let tmp = staged
        .reserve(input, video_dest.clone())
        .with_context(|| failed(input))?;
    let summary = render::render(input, &p.plan.keep, &tmp, &opts, &mut |f| {
        on(Event::Progress(f))
    })
    .map_err(|e| render_error(e, input, &video_dest))?;
    Ok(summary.video_duration.map(|_| RenderNote {
        frames: summary.video_frames,
        copied_frames: summary.video_copied_frames,
        warn: opts.mode == render::RenderMode::Smart && summary.reencoded_because.is_some(),
        reencoded_because: summary.reencoded_because,
        audio_frames: summary.audio_frames,
        audio_copied_frames: summary.audio_copied_frames,
        audio_reencoded_because: summary.audio_reencoded_because,
    }))
}

/// A render error as the user sees it: about the input, and about the destination where it
/// is about writing, never the staging file or the burn-in captions' temporary file the
/// renderer was given.
fn render_error(e: render::RenderError, input: &Path, dest: &Path) -> anyhow::Error {
    use render::RenderError as E;
    let (i, d) = (input.display(), dest.display());
    match e {
        E::Encode { detail, .. } => anyhow!("{i}: cannot write {d}: encoding failed: {detail}"),
        E::Output { detail, .. } => anyhow!("{i}: cannot write {d}: {detail}"),
        E::SameAsInput { .. } => anyhow!("{i}: refusing to overwrite the input with {d}"),
        E::BurnIn { detail, .. } => anyhow!("{i}: cannot burn in the captions: {detail}"),
        e @ (E::Options(_) | E::Ffmpeg(_)) => anyhow!("{i}: {e}"),
        // These name the input already.
        e => e.into(),
    }
}
