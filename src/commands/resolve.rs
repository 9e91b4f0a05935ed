//! From flags to a job, the second phase of the configuration (ripgrep's `HiArgs`): the
//! preset (`--preset`, else `default`) with the flags given over it (flags win), validated;
//! what the job does with each input (captions, or a cut); and the engine, loaded once for
//! all inputs. Errors here are configuration errors (exit code 2), raised before any input
//! is touched.

use anyhow::{bail, Context, Result};

use crate::asr::{Replay, Transcriber};
use crate::cli::{CaptionArgs, CutArgs};
use crate::pipeline::{self, CaptionJob, CutJob, Script, TimelineOut};
use crate::preset::{Mode, Preset};

use super::Ui;

impl CaptionArgs {
    /// Applies the flags that were given over a preset (flags win).
    pub(super) fn apply(&self, p: &mut Preset) {
        let c = &mut p.caption;
        if let Some(m) = &self.model {
            c.model = m.clone();
        }
        if let Some(l) = &self.language {
            c.language = l.clone();
        }
        if let Some(b) = self.beam_size {
            c.beam_size = b;
        }
        if let Some(g) = &self.glossary {
            c.glossary = Some(g.clone());
        }
        if self.translate {
            c.translate = true;
        }
        if !self.format.is_empty() {
            c.formats = self.format.clone();
            c.formats.dedup();
        }
        if let Some(t) = self.threads {
            c.threads = Some(t);
        }
        if let Some(j) = self.jobs {
            c.jobs = Some(j);
        }
        if let Some(z) = self.chinese {
            c.chinese = z;
        }
        let r = &mut p.subtitle;
        if let Some(v) = self.max_line_chars {
            r.max_line_chars = Some(v);
        }
        if let Some(v) = self.max_lines {
            r.max_lines = v;
        }
        if let Some(v) = self.max_cps {
            r.max_cps = Some(v);
        }
        if let Some(v) = self.max_duration {
            r.max_duration = crate::time::Time::from_secs_f64(v);
        }
        if let Some(v) = self.fps {
            r.frame_rate = v;
        }
        if let Some(v) = self.punctuation {
            r.punctuation = v;
        }
    }
}

impl CutArgs {
    /// Applies the cutting and encoding flags that were given over a preset (flags win).
    pub(super) fn apply(&self, p: &mut Preset) {
        let c = &mut p.cut;
        if let Some(t) = self.threshold {
            c.threshold = t;
        }
        if let Some(d) = self.min_silence {
            c.min_silence = d;
        }
        if let Some((a, b)) = self.margin {
            c.margin_before = a;
            c.margin_after = b;
        }
        if let Some(d) = self.min_clip {
            c.min_clip = d;
        }
        if let Some(f) = &self.fillers {
            c.fillers = f.clone();
        }
        if self.remove_repeats {
            c.remove_repeats = true;
        }
        if let Some(r) = self.retakes {
            c.retakes = r;
        }
        if let Some(d) = self.max_pause {
            c.max_pause = Some(d);
        }
        if !self.export.is_empty() {
            p.export = self.export.clone();
        }
        if self.burn_in {
            p.burn_in = true;
        }
        if self.no_captions {
            // The flag wins over a preset that burns captions in or cuts words.
            p.captions = false;
            p.burn_in = false;
        }
        if self.timeline.is_some() {
            p.timeline = true;
        }
        let r = &mut p.render;
        if let Some(v) = self.crf {
            r.crf = v;
        }
        if let Some(v) = &self.encoder_preset {
            r.preset = v.clone();
        }
        if let Some(v) = &self.video_codec {
            r.video_codec = v.clone();
        }
        if let Some(v) = &self.audio_codec {
            r.audio_codec = Some(v.clone());
        }
        if let Some(v) = self.render {
            r.mode = v;
        }
        if let Some(v) = self.aspect {
            r.aspect = Some(v);
        }
        if let Some(v) = self.reframe {
            r.reframe = v;
        }
        if let Some(v) = self.reframe_x {
            r.reframe_x = v;
        }
        if let Some(v) = &self.pad_colour {
            r.pad_colour = v.clone();
        }
        if self.upscale {
            r.upscale = true;
        }
    }
}

/// The preset the command runs with: `--preset` (else `default`), then the flags given.
/// Errors (unknown preset, bad value) are configuration errors.
pub(super) fn effective_preset(args: &CaptionArgs, cut: Option<&CutArgs>) -> Result<Preset> {
    let name = args.preset.as_deref().unwrap_or("default");
    let mut p = crate::preset::load(name)?;
    args.apply(&mut p);
    if let Some(c) = cut {
        if c.no_captions && c.fillers.as_ref().is_some_and(|f| !f.is_none()) {
            bail!("--fillers needs the transcript; it cannot go with --no-captions");
        }
        if c.no_captions && c.retakes == Some(crate::edit::Retakes::KeepLast) {
            bail!("--retakes needs the transcript; it cannot go with --no-captions");
        }
        c.apply(&mut p);
    }
    p.validate().context("invalid setting")?;
    Ok(p)
}

/// What a command does with each input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Task {
    /// Captions only: `caption`, `align`, and a preset whose mode is `captions`.
    Caption,
    /// A cut (with its captions, unless the preset or `--no-captions` turns them off):
    /// `cut`, and a preset whose mode is `cut`.
    Cut,
}

impl Task {
    /// The whole job a preset describes, for the commands that run it (`run`, and `watch`
    /// with `--preset`): a cut when its mode is `cut`, else captions only.
    pub(super) fn of(p: &Preset) -> Task {
        match p.mode {
            Mode::Cut => Task::Cut,
            Mode::Captions => Task::Caption,
        }
    }
}

/// The cut job for `p`, with `--timeline` and `--dry-run` from `flags` (`None`: the
/// preset alone, as `watch` runs it). `n_args` counts the inputs, failed ones included:
/// `--timeline FILE` names one file, so it refuses several.
pub(super) fn cut_job(p: &Preset, flags: Option<&CutArgs>, n_args: usize) -> Result<CutJob> {
    let timeline = match flags.and_then(|f| f.timeline.as_ref()) {
        None if p.timeline => Some(TimelineOut::Beside),
        None => None,
        Some(None) => Some(TimelineOut::Beside),
        Some(Some(path)) if n_args > 1 => {
            bail!("--timeline {} names one file but there are several inputs; use --timeline alone for NAME.timeline.png", path.display())
        }
        Some(Some(path)) => Some(TimelineOut::File(path.clone())),
    };
    let dry_run = flags.is_some_and(|f| f.dry_run);
    let mut job = CutJob::from_preset(p, timeline, dry_run);
    // `--fps` is also the timeline rate of audio-only cuts (30 without it).
    if let Some(v) = flags.and_then(|f| f.caption.fps) {
        job.audio_fps = v
            .to_string()
            .parse()
            .map_err(|e: String| anyhow::anyhow!("--fps {v}: {e}"))?;
    }
    Ok(job)
}

/// What a caption-like command needs before it touches any input: the job and the engine
/// (model loaded and checked). Errors here are configuration errors (exit code 2).
pub(super) struct Prepared {
    pub(super) job: CaptionJob,
    pub(super) engine: Box<dyn Transcriber>,
    /// The model loaded and where its weights went, for `--verbose`.
    pub(super) model_note: Option<String>,
}

/// Builds the job for `args` (with the preset `p`) for `n_inputs` inputs, runs `check` on
/// it (the destinations, before a model is loaded), and loads the engine. Also returns the
/// number of files in flight.
pub(super) fn prepare(
    args: &CaptionArgs,
    p: &Preset,
    script: Option<Script>,
    n_inputs: usize,
    check: &dyn Fn(&CaptionJob) -> Result<()>,
) -> Result<(Prepared, usize)> {
    prepare_with(args, p, script, n_inputs, check, None)
}

/// [`prepare`], with `engine` (when given) instead of the preset's model: `cut --edit`,
/// whose words are stored, loads none.
pub(super) fn prepare_with(
    args: &CaptionArgs,
    p: &Preset,
    script: Option<Script>,
    n_inputs: usize,
    check: &dyn Fn(&CaptionJob) -> Result<()>,
    engine: Option<Box<dyn Transcriber>>,
) -> Result<(Prepared, usize)> {
    let c = &p.caption;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (jobs, threads) = pipeline::split_cores(cores, c.jobs, c.threads, n_inputs);
    let mut asr = c
        .transcribe_options(threads)
        .with_knobs(&|k| std::env::var_os(k));
    let glossary = c.glossary.as_deref().map(load_glossary).transpose()?;
    if let Some(g) = &glossary {
        asr.initial_prompt = Some(match asr.initial_prompt.take() {
            Some(p) if !p.trim().is_empty() => format!("{} {}", p.trim(), g.prompt()),
            _ => g.prompt(),
        });
    }
    let job = CaptionJob {
        formats: if p.captions {
            c.formats.clone()
        } else {
            Vec::new()
        },
        out_dir: args.out_dir.clone(),
        asr,
        speech: crate::analysis::SpeechParams::default(),
        segment: p.subtitle.clone(),
        chinese: c.chinese,
        model_label: c.model.clone(),
        script,
        style: p.style.clone(),
        glossary,
    };
    check(&job)?;
    // A cut without captions hears no words: no model is loaded.
    let captions = p.captions;
    let mut model_note = None;
    let engine: Box<dyn Transcriber> = match &args.fake_transcript {
        _ if engine.is_some() => engine.expect("checked"),
        _ if !captions => Box::new(Replay::nothing()),
        Some(path) => Box::new(Replay::load(path)?),
        None => {
            let loaded = crate::asr::load_engine(&c.model, &job.asr)?;
            model_note = Some(loaded.note);
            loaded.transcriber
        }
    };
    Ok((
        Prepared {
            job,
            engine,
            model_note,
        },
        jobs,
    ))
}

/// Reads a glossary file (`--glossary`, `caption.glossary`); the error names the file and
/// says what is wrong: missing or unreadable, not UTF-8, no terms.
fn load_glossary(path: &std::path::Path) -> Result<crate::glossary::Glossary> {
    let bytes = std::fs::read(path).map_err(|e| {
        anyhow::anyhow!(
            "{}: cannot read the glossary: {}",
            path.display(),
            crate::media::io_why(&e)
        )
    })?;
    let text = String::from_utf8(bytes)
        .map_err(|_| anyhow::anyhow!("{}: the glossary is not UTF-8 text", path.display()))?;
    crate::glossary::Glossary::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// With `--verbose`, says which model was loaded and where its weights went.
pub(super) fn say_model(p: &Prepared, ui: &Ui) {
    if let Some(note) = p.model_note.as_ref().filter(|_| ui.verbose) {
        ui.info(note);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use crate::subtitle::format::Format;
    use clap::Parser;
    use std::path::PathBuf;

    fn cut_args(flags: &[&str]) -> CutArgs {
        let cli = Cli::try_parse_from(["subcut", "cut"].iter().chain(flags)).unwrap();
        let Command::Cut(a) = cli.command else {
            panic!("not cut")
        };
        a
    }

    #[test]
    fn flags_override_the_preset_and_the_rest_keeps_its_values() {
        let cli = Cli::try_parse_from([
            "subcut",
            "caption",
            "a.mp4",
            "--format",
            "srt,json",
            "--language",
            "zh",
            "--threads",
            "3",
        ])
        .unwrap();
        let Command::Caption(a) = cli.command else {
            panic!("not caption")
        };
        let mut p = Preset::default();
        p.caption.model = "small".into();
        a.apply(&mut p);
        assert_eq!(
            (
                p.caption.language.as_str(),
                p.caption.model.as_str(),
                p.caption.threads
            ),
            ("zh", "small", Some(3))
        );
        assert_eq!(p.caption.formats, [Format::Srt, Format::Json]);
    }

    #[test]
    fn no_captions_wins_over_a_preset_that_burns_them_in() {
        let mut p = Preset {
            burn_in: true,
            ..Preset::default()
        };
        cut_args(&["a.mp4", "--no-captions", "--crf", "20"]).apply(&mut p);
        assert!(!p.captions && !p.burn_in);
        assert_eq!(p.render.crf, 20);
    }

    #[test]
    fn the_preset_mode_says_whether_a_run_cuts() {
        let mut p = Preset {
            mode: Mode::Cut,
            ..Preset::default()
        };
        assert_eq!(Task::of(&p), Task::Cut);
        p.mode = Mode::Captions;
        assert_eq!(Task::of(&p), Task::Caption);
    }

    #[test]
    fn timeline_file_names_one_input_and_the_preset_asks_for_one_beside() {
        let mut p = Preset {
            timeline: false,
            ..Preset::default()
        };
        let a = cut_args(&["a.mp4", "--timeline", "t.png"]);
        assert_eq!(
            cut_job(&p, Some(&a), 1).unwrap().timeline,
            Some(TimelineOut::File(PathBuf::from("t.png")))
        );
        let e = cut_job(&p, Some(&a), 2).unwrap_err().to_string();
        assert!(e.contains("names one file"), "{e}");
        let a = cut_args(&["a.mp4", "b.mp4", "--timeline"]);
        assert_eq!(
            cut_job(&p, Some(&a), 2).unwrap().timeline,
            Some(TimelineOut::Beside)
        );
        assert_eq!(cut_job(&p, None, 1).unwrap().timeline, None);
        p.timeline = true;
        assert_eq!(
            cut_job(&p, None, 3).unwrap().timeline,
            Some(TimelineOut::Beside)
        );
        assert!(!cut_job(&p, None, 1).unwrap().dry_run);
    }
}
