//! Speech recognition: models (import, registry, download) and the whisper.cpp engine, which
//! produce the engine-independent [`Transcript`].
//!
//! The pipeline talks to a [`Transcriber`], so that everything after recognition can be
//! tested with `Replay`, which plays back a saved transcript instead of running a model.
//! `load_engine` builds the real one from a model name; [`TranscribeOptions`] are the same
//! for every engine, with what only whisper.cpp understands in [`WhisperOptions`].
//!
//! ```text
//! model/    model files: registry, download, CTranslate2 import, the ggml format
//! whisper/  the whisper.cpp engine (a Transcriber), its options, tokens → words
//! windows   what is heard: speech pieces packed into windows, times mapped back
//! retime    word times snapped onto the measured speech
//! ```
//!
//! A new engine is a folder beside `whisper/` that implements [`Transcriber`], plus a branch
//! in `load_engine`.

pub mod model;
pub(crate) mod retime;
pub mod whisper;
pub mod windows;

use std::ffi::OsString;
use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::time::{Span, Time};
use crate::transcript::Transcript;
pub use whisper::{AsrError, Whisper, WhisperOptions};

/// Something that turns 16 kHz mono samples into a transcript.
pub trait Transcriber: Sync {
    /// Transcribes all of `samples` (index 0 is media time 0), reporting the fraction done
    /// (0 to 1) to `progress`.
    fn transcribe(
        &self,
        samples: &[f32],
        opts: &TranscribeOptions,
        progress: &mut dyn FnMut(f32),
    ) -> Result<Transcript>;

    /// Whether it listens at all: `false` for the engine of a cut on loudness alone (or of
    /// one that takes its words from an edit list), whose missing words are no loss to report.
    fn listens(&self) -> bool {
        true
    }

    /// Transcribes `samples` in the given windows (see [`windows::pieces_for`]), times on the
    /// whole input's timeline; `speech` is the measured speech (see `windows::transcribe`).
    fn transcribe_windows(
        &self,
        samples: &[f32],
        windows: &[Span],
        speech: &[Span],
        opts: &TranscribeOptions,
        progress: &mut dyn FnMut(f32),
    ) -> Result<Transcript> {
        let mut call =
            |s: &[f32], o: &TranscribeOptions, p: &mut dyn FnMut(f32)| self.transcribe(s, o, p);
        windows::transcribe(
            samples,
            windows,
            speech,
            opts,
            progress,
            &mut windows::Plain(&mut call),
        )
    }
}

/// How to transcribe, whatever the engine; [`Default`] is what the CLI uses unless a preset
/// or a flag says otherwise. Nothing here reads the environment: the benchmark knobs are
/// applied by the caller ([`TranscribeOptions::with_knobs`]).
#[derive(Clone, Debug, PartialEq)]
pub struct TranscribeOptions {
    /// ISO 639-1 code (`"zh"`) or whisper's English name (`"chinese"`): every window is
    /// decoded in it. `None` (or `"auto"`) detects the language of each window
    /// (`windows::transcribe`), among [`candidates`](Self::candidates).
    pub language: Option<String>,
    /// Without a forced [`language`](Self::language): the languages (whisper's codes) a
    /// window's detection may choose from (`--language zh,en`); empty: any.
    pub candidates: Vec<String>,
    /// Translate into English (multilingual models only).
    pub translate: bool,
    /// Engine threads for this call (≥ 1). Default 1: the caller knows the cores and how many
    /// files are in flight (the CLI splits them with `pipeline::split_cores`).
    pub threads: usize,
    /// Text that primes the decoder: spellings, names, punctuation style.
    pub initial_prompt: Option<String>,
    /// Compute word timings; when false, segments have no words (and decoding is a bit faster).
    pub word_timestamps: bool,
    /// Condition each 30 s window on the text decoded so far (whisper's default). Without it
    /// windows are independent: fewer hallucination loops, less consistent style. whisper.cpp
    /// can only drop the conditioning together with the prompt, so an `initial_prompt` keeps it.
    pub condition_on_previous_text: bool,
    /// A segment whose no-speech probability exceeds this, and which the engine is not
    /// confident of (whisper: [`WhisperOptions::logprob_threshold`]), is dropped.
    pub no_speech_threshold: f32,
    /// Hear only the speech (pieces of it, packed into windows); `false` tiles the whole
    /// input, for comparisons. See [`windows::pieces_for`].
    pub speech_only: bool,
    /// The most audio packed into one engine call ([`windows::pack`]); default 15 s
    /// (`windows::PACK_MAX`, where the reasons are).
    pub pack_max: Time,
    /// What only the whisper.cpp engine understands.
    pub whisper: WhisperOptions,
}

impl Default for TranscribeOptions {
    fn default() -> Self {
        TranscribeOptions {
            language: None,
            candidates: Vec::new(),
            translate: false,
            threads: 1,
            initial_prompt: None,
            word_timestamps: true,
            condition_on_previous_text: true,
            no_speech_threshold: 0.6,
            speech_only: true,
            pack_max: windows::PACK_MAX,
            whisper: WhisperOptions::default(),
        }
    }
}

impl TranscribeOptions {
    /// These options with the benchmark knobs that `var` finds (the caller passes
    /// `&|k| std::env::var_os(k)`; scripts/bench-compare.sh and docs/BENCH.md set them):
    ///
    /// - `SUBCUT_SPEECH_ONLY=0`: tile the whole input ([`speech_only`](Self::speech_only)
    ///   off);
    /// - `SUBCUT_PACK_MAX=SECS`: [`pack_max`](Self::pack_max);
    /// - `SUBCUT_AUDIO_CTX=full` (or `0`) encodes the full 30 s, `=N` shrinks to at least `N`
    ///   positions ([`WhisperOptions::audio_ctx`]; a value that is not a number: the default);
    /// - `SUBCUT_DEBUG_WINDOWS` (any value): [`WhisperOptions::debug_windows`].
    ///
    /// Unset (or unreadable) knobs leave the options as they are.
    pub fn with_knobs(mut self, var: &dyn Fn(&str) -> Option<OsString>) -> Self {
        let text = |k: &str| var(k).and_then(|v| v.into_string().ok());
        if var("SUBCUT_SPEECH_ONLY").is_some_and(|v| v == "0") {
            self.speech_only = false;
        }
        if let Some(secs) = text("SUBCUT_PACK_MAX").and_then(|v| v.parse::<f64>().ok()) {
            self.pack_max = Time::from_secs_f64(secs);
        }
        if let Some(v) = text("SUBCUT_AUDIO_CTX") {
            self.whisper.audio_ctx = if v.eq_ignore_ascii_case("full") || v.trim() == "0" {
                None
            } else {
                Some(v.trim().parse().unwrap_or(whisper::MIN_AUDIO_CTX))
            };
        }
        if var("SUBCUT_DEBUG_WINDOWS").is_some() {
            self.whisper.debug_windows = true;
        }
        self
    }
}

/// An engine ready to transcribe, from [`load_engine`].
pub(crate) struct Engine {
    pub transcriber: Box<dyn Transcriber>,
    /// Which model was loaded and where its weights went, for `--verbose`:
    /// `model PATH: N MB of weights (CPU a MB, AMX b MB)` (just `model PATH` if whisper.cpp
    /// did not say).
    pub note: String,
}

/// Loads the engine for `model` (a name or the path of a ggml file, see [`model::resolve`])
/// and checks that it can do what `opts` asks: an English-only model cannot transcribe another
/// language or translate.
pub(crate) fn load_engine(model: &str, opts: &TranscribeOptions) -> Result<Engine> {
    let path = model::resolve(model)?;
    let w = Whisper::load(&path)?;
    if !w.is_multilingual()
        && (opts.translate
            || opts.language.as_deref().is_some_and(|l| l != "en")
            || opts.candidates.iter().any(|l| l != "en"))
    {
        bail!(
            "model {model} is English-only: use a multilingual model (e.g. --model base) for --language {} or --translate",
            opts.language.as_deref().unwrap_or("auto")
        );
    }
    let note = describe_model(&path, &w);
    Ok(Engine {
        transcriber: Box::new(w),
        note,
    })
}

/// [`Engine::note`].
fn describe_model(path: &Path, w: &Whisper) -> String {
    let buffers = w.weight_buffers();
    let mut note = format!("model {}", path.display());
    if !buffers.is_empty() {
        let mb = |b: u64| format!("{:.0} MB", b as f64 / 1e6);
        let parts: Vec<String> = buffers
            .iter()
            .map(|b| format!("{} {}", b.name, mb(b.bytes)))
            .collect();
        let total = buffers.iter().map(|b| b.bytes).sum();
        note += &format!(": {} of weights ({})", mb(total), parts.join(", "));
    }
    note
}

/// A fake engine that returns a saved transcript (the JSON that `--format json` writes, or
/// a bare `Transcript`), keeping only the segments that start within the audio.
///
/// When the segments carry languages (or the file has a `detect` list) it plays an engine
/// that hears each window in one language, as whisper does: a window decoded in a language
/// hears only the segments of that language (and those without one) whose middle lies in
/// the window's pieces; the rest is lost, as whisper loses (or translates) speech it decodes
/// in the wrong language. Its detection gives each language its share of the window's
/// segment time, unless a `detect` entry overlaps the window:
/// `"detect": [{"start": 0.0, "end": 5.0, "languages": {"de": 0.9, "en": 0.1}}]` (the entry
/// overlapping the window's pieces most).
pub(crate) struct Replay {
    transcript: Transcript,
    detect: Vec<Detect>,
}

/// A replayed detection result for the windows overlapping `[start, end)`.
#[derive(Clone, Debug, serde::Deserialize)]
struct Detect {
    start: Time,
    end: Time,
    languages: std::collections::BTreeMap<String, f32>,
}

#[derive(serde::Deserialize)]
struct ReplayFile {
    #[serde(flatten)]
    transcript: Transcript,
    #[serde(default)]
    detect: Vec<Detect>,
}

impl Replay {
    pub fn load(path: &Path) -> Result<Replay> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("{}: cannot read transcript", path.display()))?;
        Replay::from_json(&text)
            .with_context(|| format!("{}: not a transcript JSON", path.display()))
    }

    /// A replay of a transcript JSON's text (see [`Replay`]).
    pub(crate) fn from_json(text: &str) -> Result<Replay> {
        let f: ReplayFile = serde_json::from_str(text)?;
        Ok(Replay {
            transcript: f.transcript,
            detect: f.detect,
        })
    }

    /// An engine that hears no words: for cutting on loudness alone (`--no-captions`).
    pub fn nothing() -> Replay {
        Replay {
            transcript: Transcript {
                language: String::new(),
                segments: Vec::new(),
            },
            detect: Vec::new(),
        }
    }

    /// Whether it plays windows in languages (see [`Replay`]).
    fn windowed(&self) -> bool {
        !self.detect.is_empty()
            || self
                .transcript
                .segments
                .iter()
                .any(|s| !s.language.is_empty())
    }

    /// The segments whose middle lies in one of `pieces`, with that piece's index.
    fn in_pieces<'a>(&'a self, pieces: &'a [Span]) -> impl Iterator<Item = (usize, &'a Segment)> {
        self.transcript.segments.iter().filter_map(move |s| {
            let mid = Time((s.start.0 + s.end.0) / 2);
            pieces
                .iter()
                .position(|p| p.start <= mid && mid < p.end)
                .map(|i| (i, s))
        })
    }
}

use crate::transcript::Segment;

impl windows::WindowEngine for &Replay {
    fn detect(&mut self, w: &windows::Window, _: &TranscribeOptions) -> Result<windows::LangProbs> {
        let overlap = |d: &Detect| {
            w.pieces
                .iter()
                .filter_map(|p| p.intersect(&Span::new(d.start, d.end)))
                .fold(Time::ZERO, |a, s| a + s.duration())
        };
        if let Some(d) = self
            .detect
            .iter()
            .filter(|d| overlap(d) > Time::ZERO)
            .max_by_key(|d| overlap(d))
        {
            let mut v: windows::LangProbs =
                d.languages.iter().map(|(l, p)| (l.clone(), *p)).collect();
            v.sort_by(|a, b| b.1.total_cmp(&a.1));
            return Ok(v);
        }
        let mut by: Vec<(String, i64)> = Vec::new();
        for (_, s) in self.in_pieces(w.pieces) {
            let lang = if s.language.is_empty() {
                &self.transcript.language
            } else {
                &s.language
            };
            match by.iter_mut().find(|(l, _)| l == lang) {
                Some((_, t)) => *t += (s.end - s.start).0,
                None => by.push((lang.clone(), (s.end - s.start).0)),
            }
        }
        let total: i64 = by.iter().map(|(_, t)| t).sum::<i64>().max(1);
        let mut v: windows::LangProbs = by
            .into_iter()
            .map(|(l, t)| (l, t as f32 / total as f32))
            .collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1));
        Ok(v)
    }

    fn decode(
        &mut self,
        w: &windows::Window,
        opts: &TranscribeOptions,
        languages: bool,
        progress: &mut dyn FnMut(f32),
    ) -> Result<windows::Decoded> {
        let probs = self.detect(w, opts)?;
        let language = opts
            .language
            .clone()
            .or_else(|| windows::pick(&probs, &opts.candidates))
            .unwrap_or_else(|| self.transcript.language.clone());
        // Start of each piece on the window's audio.
        let mut starts = Vec::new();
        let mut at = Time::ZERO;
        for p in w.pieces {
            starts.push(at);
            at += p.duration();
        }
        let packed = |i: usize, t: Time| starts[i] + (t - w.pieces[i].start);
        let segments = self
            .in_pieces(w.pieces)
            .filter(|(_, s)| s.language.is_empty() || s.language == language)
            .map(|(i, s)| {
                let mut s = s.clone();
                s.start = packed(i, s.start);
                s.end = packed(i, s.end);
                for word in &mut s.words {
                    word.start = packed(i, word.start);
                    word.end = packed(i, word.end);
                }
                s.language = String::new();
                s
            })
            .collect();
        progress(1.0);
        Ok(windows::Decoded {
            transcript: Transcript { language, segments },
            languages: if languages { probs } else { Vec::new() },
        })
    }
}

impl Transcriber for Replay {
    fn listens(&self) -> bool {
        !(self.transcript.segments.is_empty() && self.transcript.language.is_empty())
    }

    /// The saved transcript is already on the whole input's timeline: no windows, unless it
    /// plays languages (see [`Replay`]).
    fn transcribe_windows(
        &self,
        samples: &[f32],
        windows: &[Span],
        speech: &[Span],
        opts: &TranscribeOptions,
        progress: &mut dyn FnMut(f32),
    ) -> Result<Transcript> {
        if self.windowed() {
            return windows::transcribe(samples, windows, speech, opts, progress, &mut &*self);
        }
        self.transcribe(samples, opts, progress)
    }

    fn transcribe(
        &self,
        samples: &[f32],
        _: &TranscribeOptions,
        progress: &mut dyn FnMut(f32),
    ) -> Result<Transcript> {
        let end = Time::from_samples(samples.len(), crate::time::SAMPLE_RATE);
        let mut t = self.transcript.clone();
        t.segments.retain(|s| s.start < end);
        progress(1.0);
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn knobs(vars: &[(&str, &str)]) -> TranscribeOptions {
        let vars: Vec<(String, OsString)> = vars
            .iter()
            .map(|&(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        TranscribeOptions::default()
            .with_knobs(&|k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
    }

    #[test]
    fn benchmark_knobs_become_option_fields() {
        let d = TranscribeOptions::default();
        assert_eq!(knobs(&[]), d);
        assert_eq!(
            (d.speech_only, d.pack_max, d.whisper.audio_ctx),
            (true, windows::PACK_MAX, Some(whisper::MIN_AUDIO_CTX))
        );
        assert!(!d.whisper.debug_windows);

        assert!(!knobs(&[("SUBCUT_SPEECH_ONLY", "0")]).speech_only);
        assert!(knobs(&[("SUBCUT_SPEECH_ONLY", "1")]).speech_only);
        assert_eq!(
            knobs(&[("SUBCUT_PACK_MAX", "28")]).pack_max,
            Time::from_millis(28_000)
        );
        assert_eq!(knobs(&[("SUBCUT_PACK_MAX", "x")]).pack_max, d.pack_max);
        let ctx = |v: &str| knobs(&[("SUBCUT_AUDIO_CTX", v)]).whisper.audio_ctx;
        assert_eq!(ctx("full"), None);
        assert_eq!(ctx("FULL"), None);
        assert_eq!(ctx(" 0 "), None);
        assert_eq!(ctx("500"), Some(500));
        assert_eq!(ctx("lots"), Some(whisper::MIN_AUDIO_CTX));
        assert!(knobs(&[("SUBCUT_DEBUG_WINDOWS", "")]).whisper.debug_windows);
    }
}
