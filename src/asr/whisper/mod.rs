//! The whisper.cpp engine: load a ggml model once, transcribe 16 kHz mono audio into a
//! [`Transcript`](crate::transcript::Transcript) of timed words.
//!
//! ```text
//! Whisper::load(path) ── reads the ggml header (clear one-line errors for wrong or truncated
//!      │                 files, DTW alignment-heads preset from the hyperparameters)
//!      ▼                 and creates one shared WhisperContext, logging silenced
//! transcribe(samples) ── own WhisperState per call (callable from several threads at once)
//!      │                 greedy decoding, temperature fallback, entropy/logprob thresholds,
//!      │                 blank and non-speech tokens suppressed, progress via whisper's hook
//!      ▼
//! segments ── dropped: no-speech (high no-speech probability AND low average token
//!      │      log-probability), empty, starting after the audio, verbatim repeats of the
//!      │      previous segment (a classic hallucination loop)
//!      ▼
//! tokens ──[`words_from_tokens`]──▶ words   (pure: UTF-8 reassembly, BPE joining, CJK
//!                                            words, punctuation, monotonic clamping)
//! ```
//!
//! Files: `engine.rs` (loading, `full()` parameters, whisper.cpp's logging and callbacks),
//! `options.rs` ([`WhisperOptions`], the `audio_ctx` rule, checking options against a model),
//! `segments.rs` (whisper's segments → ours, with the safeguards) and `words.rs` (tokens →
//! words, pure).
//!
//! **Timing.** whisper.cpp reports times in centiseconds from the first sample passed to
//! `full()`; index 0 of `samples` is media time 0, so a centisecond value `t` becomes
//! `Time::from_millis(10 * t)`. Word times come from whisper.cpp's token timestamps (`t0`/`t1`,
//! estimated from timestamp-token probabilities and snapped with the signal energy). Words are
//! made monotonic, non-overlapping, at least `MIN_WORD` long where the segment has room, and
//! kept inside their segment.
//!
//! DTW token timing (whisper.cpp's `t_dtw`, alignment heads from a preset chosen by the
//! model's hyperparameters, see `dtw_preset`) is available through
//! [`Whisper::load_with_dtw`] but off by default: with the whisper.cpp that whisper-rs 0.16
//! vendors, `t_dtw` marks roughly when the model *emitted* a token, which lands 0.2–0.6 s after
//! the spoken onset (mean onset error on the JFK clip: tiny.en 0.39 s with DTW vs 0.11 s
//! without, base 0.20 s vs 0.13 s), and it costs an extra decoder pass per 30 s window. With DTW
//! a word starts at its first token's `t_dtw` and ends at its last token's `t1`, cut back at the
//! next word's start.
//!
//! **Words.** Special tokens (id ≥ end-of-text: `[_BEG_]`, `[_TT_…]`, `<|…|>`) are skipped.
//! Token bytes are concatenated before decoding, so a Chinese character split across two or
//! three byte-level BPE tokens comes out whole. A piece that begins with a space starts a new
//! word; pieces without one continue the word (`" Amer" + "icans"`). Punctuation stays on the
//! word before it (closing marks even after a space, `"Bonjour !"` → `Bonjour!`); opening
//! marks (`(`, `“`, `「` …) start the next word. In CJK scripts each token's run of CJK
//! characters is a word of its own: whisper's tokens are the finest unit it times, and
//! splitting them further would invent times, while line breaking may cut between any two
//! such words.
//!
//! ```no_run
//! use subcut::asr::{TranscribeOptions, Whisper};
//! let whisper = Whisper::load(std::path::Path::new("ggml-base.bin"))?;
//! let samples = vec![0.0f32; 16_000 * 3]; // 16 kHz mono
//! let opts = TranscribeOptions { language: Some("zh".into()), ..Default::default() };
//! let transcript = whisper.transcribe(&samples, &opts, &mut |p| eprint!("\r{:3.0}%", p * 100.0))?;
//! println!("{} ({})", transcript.text(), transcript.language);
//! # Ok::<(), subcut::asr::whisper::AsrError>(())

mod engine;
mod options;
mod segments;
mod words;

use std::path::PathBuf;

use whisper_rs::WhisperError;

use crate::asr::model::GgmlError;

pub(crate) use engine::engine_features;
pub use engine::Whisper;
pub(crate) use options::MIN_AUDIO_CTX;
pub use options::{audio_ctx_for, WhisperOptions, MAX_BEAM_SIZE};

/// Errors of the whisper engine; each message names the file or option at fault.
#[derive(Debug, thiserror::Error)]
pub enum AsrError {
    /// Not a ggml model whisper.cpp could load, or a damaged one (checked before loading).
    #[error(transparent)]
    ModelFile(#[from] GgmlError),
    /// The file passed the header check but whisper.cpp could not load it.
    #[error("{}: whisper.cpp refused the model (unsupported tensor type, or missing/unexpected tensors)", path.display())]
    LoadFailed {
        /// The model file.
        path: PathBuf,
    },
    /// The language is neither a code nor a name whisper knows (the text as given).
    #[error("unknown language {0:?}: use a code such as \"en\" or \"zh\", a name such as \"german\", or \"auto\"")]
    UnknownLanguage(String),
    /// A language other than English was asked of an English-only model.
    #[error("{model} is an English-only model: it cannot transcribe {language:?}; use a multilingual model (e.g. \"base\" instead of \"base.en\")")]
    EnglishOnlyLanguage {
        /// The model's file name.
        model: String,
        /// whisper's code for the language asked for.
        language: String,
    },
    /// Translation was asked of an English-only model.
    #[error("{model} is an English-only model: it cannot translate; use a multilingual model (e.g. \"base\" instead of \"base.en\")")]
    EnglishOnlyTranslate {
        /// The model's file name.
        model: String,
    },
    /// An option is out of range (threads, thresholds, temperature increment), the prompt
    /// holds a NUL, or the audio a NaN or infinite sample; the text says which.
    #[error("invalid transcription option: {0}")]
    InvalidOption(String),
    /// The call got no samples.
    #[error("no audio to transcribe (0 samples)")]
    NoAudio,
    /// whisper.cpp failed while creating its state or decoding.
    #[error("whisper.cpp failed: {0}")]
    Whisper(#[from] WhisperError),
}
