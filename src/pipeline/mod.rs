//! Runs the stages for one input (decode → transcribe → cues → outputs), and many inputs
//! in parallel, reporting progress as events. [`caption`] is here; [`cut`] (plan, stage the
//! outputs, render) is in `cut.rs`.
//!
//! Every stage is a plain function over plain data; this module only sequences them,
//! times them, and turns failures into one error per input naming the file. Outputs of
//! one input are staged and committed together (see [`crate::output`]).

mod cut;
mod review;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::analysis::{self, SpeechParams};
use crate::asr::{retime, TranscribeOptions, Transcriber};
use crate::media;
use crate::output::{output_path, Staged};
use crate::subtitle::align;
use crate::subtitle::format::{self, AssStyle, Doc, Format};
use crate::subtitle::zh::{self, ChineseScript};
use crate::subtitle::Cue;
use crate::subtitle::{segment, SegmentRules};
use crate::time::Span;
use crate::transcript::{Transcript, Unheard, MIN_UNHEARD};

pub use cut::{cut, cut_outputs, CutJob, TimelineOut};
pub(crate) use review::{load_edit, review, review_outputs};

/// What to do with each input of a caption run.
#[derive(Clone, Debug)]
pub struct CaptionJob {
    /// The subtitle formats to write, one file each.
    pub(crate) formats: Vec<Format>,
    /// Where the outputs go; `None`: beside the input.
    pub(crate) out_dir: Option<PathBuf>,
    /// How to transcribe.
    pub(crate) asr: TranscribeOptions,
    /// How speech is told from silence (word times are snapped to the speech found).
    pub speech: SpeechParams,
    /// Readability rules for cues.
    pub segment: SegmentRules,
    /// Whether Chinese output is converted to Simplified characters.
    pub chinese: ChineseScript,
    /// Name of the model, recorded in the JSON output.
    pub model_label: String,
    /// Words the user already has (`subcut align`): the recogniser only times them.
    pub script: Option<Script>,
    /// Style of ASS output and burned-in captions.
    pub style: AssStyle,
    /// Terms whose near-miss spellings are corrected in the transcript (`--glossary`).
    pub glossary: Option<crate::glossary::Glossary>,
}

/// Given text to align to the speech.
#[derive(Clone, Debug)]
pub enum Script {
    /// Plain text; each non-empty line starts a new segment.
    Text(Vec<String>),
    /// An existing subtitle file's cues; `retime_only` keeps them (text and count) and only
    /// fixes their offset and drift.
    Cues {
        /// The file's cues.
        cues: Vec<crate::subtitle::Cue>,
        /// Keep the cues' text and count and only correct their offset and drift.
        retime_only: bool,
    },
}

/// Progress of one input.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// A stage began: `decode`, `analyse`, `transcribe`, `write`; a cut also has `plan`
    /// (after `transcribe`) and `render` (after `write`).
    Stage(&'static str),
    /// Fraction of the current stage done, 0..=1.
    Progress(f32),
    /// Something the user should know that does not stop the input (one line, naming it).
    Warning(String),
}

/// The result of one input that went through.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Outcome {
    /// The input file.
    pub(crate) input: PathBuf,
    /// The files written (none for a dry run).
    pub(crate) outputs: Vec<PathBuf>,
    /// The transcript's language, as whisper's code (`en`, `zh`, …).
    pub(crate) language: String,
    /// How many cues were written (for a cut, on the cut's timeline).
    pub(crate) cues: usize,
    /// Seconds of media.
    pub media_seconds: f64,
    /// Seconds kept by a cut (absent for captions only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kept_seconds: Option<f64>,
    /// The cut list, for `--dry-run` (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cut_list: Option<String>,
    /// Wall seconds spent decoding the audio.
    pub(crate) decode_seconds: f64,
    /// Wall seconds spent measuring the loudness and finding the speech.
    pub(crate) analysis_seconds: f64,
    /// Wall seconds spent transcribing.
    pub(crate) transcribe_seconds: f64,
    /// Wall seconds after transcription (a cut's plan, the cues, staging and committing the
    /// outputs), the render excluded.
    pub(crate) write_seconds: f64,
    /// Wall seconds spent rendering the cut media (absent for captions only and dry runs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) render_seconds: Option<f64>,
    /// How the cut's video was written (absent without a rendered video).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) render: Option<RenderNote>,
    /// Each language's share of the speech time, largest first.
    pub(crate) languages: Vec<LanguageShare>,
    /// Speech that got no words, even after the retries (see `transcript::unheard`).
    pub(crate) unheard: Vec<Unheard>,
}

/// How a cut's video was written: frames copied by the smart render, or why it re-encoded.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RenderNote {
    /// Video frames written.
    pub(crate) frames: u64,
    /// Of those, frames copied untouched.
    pub(crate) copied_frames: u64,
    /// Why every frame was re-encoded (absent for a smart render).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) reencoded_because: Option<String>,
    /// Audio frames written, and of those the source's copied untouched (AAC; the rest
    /// encoded again around the joins).
    pub(crate) audio_frames: u64,
    pub(crate) audio_copied_frames: u64,
    /// Why the audio was encoded in full (absent when its frames were copied).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) audio_reencoded_because: Option<String>,
    /// `--render smart` was asked for and could not be done: said without `-v` too.
    #[serde(skip)]
    pub(crate) warn: bool,
}

/// One language's share of a file's speech, in the JSON summary.
#[derive(Clone, Debug, Serialize)]
pub struct LanguageShare {
    /// whisper's code.
    pub language: String,
    /// 0…1, by speech time.
    pub share: f64,
}

impl Outcome {
    /// What was heard: the languages' shares and the unheard speech.
    fn heard(mut self, heard: &Heard) -> Outcome {
        self.languages = heard
            .transcript
            .language_shares()
            .into_iter()
            .map(|(language, share)| LanguageShare {
                language,
                share: (share * 1000.0).round() / 1000.0,
            })
            .collect();
        self.unheard = heard.unheard.clone();
        self
    }

    /// `zh 62 %, en 38 %`, or the transcript's language when nothing was heard.
    pub(crate) fn languages_text(&self) -> String {
        if self.languages.is_empty() {
            return self.language.clone();
        }
        let shares: Vec<(String, f64)> = self
            .languages
            .iter()
            .map(|l| (l.language.clone(), l.share))
            .collect();
        crate::transcript::format_shares(&shares)
    }
}

/// What the first stages found out about one input: its audio, where the speech is, and
/// the words (already snapped to the speech, Chinese converted as asked).
pub struct Heard {
    /// The decoded 16 kHz mono audio.
    pub(crate) audio: media::Audio,
    /// The speech spans found in it, on the media timeline.
    pub(crate) speech: Vec<Span>,
    /// The recognised words, on the media timeline.
    pub(crate) transcript: Transcript,
    /// Wall seconds spent decoding.
    pub(crate) decode_seconds: f64,
    /// Wall seconds spent measuring the loudness and finding the speech.
    pub(crate) analysis_seconds: f64,
    /// Wall seconds spent transcribing.
    pub(crate) transcribe_seconds: f64,
    /// Speech that got no words (pieces with at least `MIN_UNHEARD` of it).
    pub(crate) unheard: Vec<Unheard>,
}

/// Decodes, analyses and transcribes one input.
pub fn listen(
    input: &Path,
    job: &CaptionJob,
    engine: &dyn Transcriber,
    on: &mut dyn FnMut(Event),
) -> Result<Heard> {
    let t0 = Instant::now();
    on(Event::Stage("decode"));
    let audio = media::decode::decode_audio_with_progress(input, &mut |f| on(Event::Progress(f)))?;
    let decode_seconds = t0.elapsed().as_secs_f64();
    if audio.non_finite > 0 {
        on(Event::Warning(format!(
            "{}: {} NaN or infinite audio samples read as silence",
            input.display(),
            audio.non_finite
        )));
    }

    let ta = Instant::now();
    on(Event::Stage("analyse"));
    let loudness = analysis::Loudness::measure(&audio.samples);
    let speech = analysis::speech_spans(&loudness, &job.speech);
    let analysis_seconds = ta.elapsed().as_secs_f64();

    let t1 = Instant::now();
    on(Event::Stage("transcribe"));
    // Only the speech is transcribed (long pauses are skipped), packed into ≤ 15 s windows;
    // continuous sound is cut at its quietest moment (the loudness).
    let windows =
        crate::asr::windows::pieces_for(&job.asr, &speech, audio.duration(), Some(&loudness));
    let mut transcript = engine
        .transcribe_windows(&audio.samples, &windows, &speech, &job.asr, &mut |f| {
            on(Event::Progress(f))
        })
        .with_context(|| format!("{}: transcription failed", input.display()))?;
    retime::snap_to_speech(&mut transcript, &speech);
    if job.chinese == ChineseScript::Simplified {
        zh::simplify_transcript(&mut transcript);
    }
    if let Some(g) = &job.glossary {
        g.correct(&mut transcript);
    }
    let words: Vec<Span> = transcript
        .segments
        .iter()
        .flat_map(|s| {
            if s.words.is_empty() {
                vec![Span::new(s.start, s.end)]
            } else {
                s.words.iter().map(|w| Span::new(w.start, w.end)).collect()
            }
        })
        .collect();
    let unheard = if engine.listens() {
        crate::transcript::unheard(&windows, &speech, &words, MIN_UNHEARD)
    } else {
        Vec::new()
    };
    Ok(Heard {
        audio,
        speech,
        transcript,
        unheard,
        decode_seconds,
        analysis_seconds,
        transcribe_seconds: t1.elapsed().as_secs_f64(),
    })
}

/// The cues for what was heard: segmented, or (for `align`) the user's script timed by it.
fn cues_for(heard: &Heard, job: &CaptionJob) -> (Transcript, Vec<Cue>) {
    let duration = heard.audio.duration();
    match &job.script {
        None => (
            heard.transcript.clone(),
            segment(&heard.transcript, &heard.speech, &job.segment, duration),
        ),
        Some(Script::Cues {
            cues,
            retime_only: true,
        }) => {
            let (cues, _fit) = align::retime_cues(cues, &heard.transcript);
            (heard.transcript.clone(), cues)
        }
        Some(script) => {
            let lines: Vec<&str> = match script {
                Script::Text(lines) => lines.iter().map(String::as_str).collect(),
                Script::Cues { cues, .. } => cues.iter().map(|c| c.text.as_str()).collect(),
            };
            let mut t = align::aligned_transcript(&align::script_words(lines), &heard.transcript);
            retime::snap_to_speech(&mut t, &heard.speech);
            // The words are the user's: no hallucination guard against the speech.
            let cues = segment(&t, &[], &job.segment, duration);
            (t, cues)
        }
    }
}

/// Stages one subtitle file per format: `NAME.EXT`, or `NAME.SUFFIX.EXT` when `suffix` is given.
fn stage_subtitles(
    staged: &mut Staged,
    input: &Path,
    job: &CaptionJob,
    suffix: Option<&str>,
    doc: &Doc,
) -> Result<()> {
    for &f in &job.formats {
        let body = format::render(f, doc);
        let ext = match suffix {
            Some(s) => format!("{s}.{}", f.ext()),
            None => f.ext().to_string(),
        };
        let dest = output_path(input, job.out_dir.as_deref(), &ext);
        staged
            .add(input, dest, body.as_bytes())
            .with_context(|| format!("{}: output failed", input.display()))?;
    }
    Ok(())
}

fn file_name(input: &Path) -> String {
    input
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Captions one input and writes its outputs. The error names the input.
pub fn caption(
    input: &Path,
    job: &CaptionJob,
    engine: &dyn Transcriber,
    on: &mut dyn FnMut(Event),
) -> Result<Outcome> {
    let heard = listen(input, job, engine, on)?;
    let t2 = Instant::now();
    on(Event::Stage("write"));
    let duration = heard.audio.duration();
    let (transcript, cues) = cues_for(&heard, job);
    let source = file_name(input);
    let doc = Doc {
        source: &source,
        model: &job.model_label,
        duration,
        transcript: &transcript,
        cues: &cues,
        style: &job.style,
        unheard: &heard.unheard,
    };
    let mut staged = Staged::default();
    stage_subtitles(&mut staged, input, job, None, &doc)?;
    let outputs = staged
        .commit()
        .with_context(|| format!("{}: output failed", input.display()))?;
    Ok(Outcome {
        input: input.to_path_buf(),
        outputs,
        language: transcript.language,
        cues: cues.len(),
        media_seconds: duration.as_secs_f64(),
        decode_seconds: heard.decode_seconds,
        analysis_seconds: heard.analysis_seconds,
        transcribe_seconds: heard.transcribe_seconds,
        write_seconds: t2.elapsed().as_secs_f64(),
        ..Outcome::default()
    }
    .heard(&heard))
}

/// Runs `one(index, input)` over many inputs, `jobs` at a time, results in input order.
pub fn run_all(
    inputs: &[PathBuf],
    jobs: usize,
    one: &(dyn Fn(usize, &Path) -> Result<Outcome> + Sync),
) -> Vec<Result<Outcome>> {
    use rayon::prelude::*;
    let run = |(i, p): (usize, &PathBuf)| one(i, p);
    if jobs <= 1 || inputs.len() <= 1 {
        return inputs.iter().enumerate().map(run).collect();
    }
    match rayon::ThreadPoolBuilder::new().num_threads(jobs).build() {
        Ok(pool) => pool.install(|| inputs.par_iter().enumerate().map(run).collect()),
        Err(_) => inputs.iter().enumerate().map(run).collect(),
    }
}

/// Splits the machine's cores between files in flight and whisper threads per file.
/// Returns `(jobs, threads)`; explicit values win, the rest is derived so that
/// jobs × threads ≤ cores (never less than one of each).
pub fn split_cores(
    cores: usize,
    jobs: Option<usize>,
    threads: Option<usize>,
    n_inputs: usize,
) -> (usize, usize) {
    let cores = cores.max(1);
    match (jobs, threads) {
        (Some(j), Some(t)) => (j.max(1), t.max(1)),
        (Some(j), None) => (j.max(1), (cores / j.max(1)).max(1)),
        (None, Some(t)) => ((cores / t.max(1)).clamp(1, n_inputs.max(1)), t.max(1)),
        // whisper.cpp scales well up to ~4 threads per state; beyond that, run files side by side.
        (None, None) => {
            let threads = cores.min(4);
            ((cores / threads).clamp(1, n_inputs.max(1)), threads)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_split() {
        assert_eq!(split_cores(2, None, None, 10), (1, 2));
        assert_eq!(split_cores(16, None, None, 10), (4, 4));
        assert_eq!(split_cores(16, None, None, 1), (1, 4));
        assert_eq!(split_cores(8, Some(4), None, 1), (4, 2));
        assert_eq!(split_cores(8, None, Some(1), 3), (3, 1));
        assert_eq!(split_cores(0, Some(0), Some(0), 0), (1, 1));
    }

    #[test]
    fn a_cut_without_captions_cuts_no_words() {
        let mut p = crate::preset::load("podcast").unwrap();
        assert!(p.cut.remove_repeats && !p.cut.fillers.is_none());
        let with = CutJob::from_preset(&p, None, false);
        assert_eq!(with.params, p.cut);
        p.captions = false;
        let without = CutJob::from_preset(&p, Some(TimelineOut::Beside), true);
        assert!(without.params.fillers.is_none() && !without.params.remove_repeats);
        assert_eq!(p.cut.retakes, crate::edit::Retakes::KeepLast);
        assert_eq!(without.params.retakes, crate::edit::Retakes::None);
        assert_eq!(without.params.threshold, p.cut.threshold);
        assert_eq!(without.params.min_silence, p.cut.min_silence);
        assert!(without.dry_run && without.timeline.is_some());
    }
}
