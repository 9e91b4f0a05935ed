//! The whisper.cpp engine: load a ggml model once, transcribe 16 kHz mono audio into a
//! [`Transcript`] of timed words.
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
//! **Timing.** whisper.cpp reports times in centiseconds from the first sample passed to
//! `full()`; index 0 of `samples` is media time 0, so a centisecond value `t` becomes
//! `Time::from_millis(10 * t)`. Word times come from whisper.cpp's token timestamps (`t0`/`t1`,
//! estimated from timestamp-token probabilities and snapped with the signal energy). Words are
//! made monotonic, non-overlapping, at least [`MIN_WORD`] long where the segment has room, and
//! kept inside their segment.
//!
//! DTW token timing (whisper.cpp's `t_dtw`, alignment heads from a preset chosen by the
//! model's hyperparameters, see [`dtw_preset`]) is available through
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
//! use subcut::asr::whisper::{TranscribeOptions, Whisper};
//! let whisper = Whisper::load(std::path::Path::new("ggml-base.bin"))?;
//! let samples = vec![0.0f32; 16_000 * 3]; // 16 kHz mono
//! let opts = TranscribeOptions { language: Some("zh".into()), ..Default::default() };
//! let transcript = whisper.transcribe(&samples, &opts, &mut |p| eprint!("\r{:3.0}%", p * 100.0))?;
//! println!("{} ({})", transcript.text(), transcript.language);
//! # Ok::<(), subcut::asr::whisper::AsrError>(())
//! ```

use std::ffi::{c_int, c_void};
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use whisper_rs::{
    DtwMode, DtwModelPreset, DtwParameters, FullParams, SamplingStrategy, WhisperContext,
    WhisperContextParameters, WhisperError, WhisperState, WhisperSysContext, WhisperSysState,
};

use crate::time::{Span, Time};
use crate::transcript::{is_cjk, Segment, Transcript, Word};

/// whisper's sample rate.
const RATE: u32 = 16_000;
/// The shortest word this module emits (where the segment has room for it).
pub const MIN_WORD: Time = Time::from_millis(20);
/// `full()` returns nothing for less than a second of audio: shorter input is padded.
const MIN_SAMPLES: usize = RATE as usize;
/// The ggml magic number, `"ggml"` read as a little-endian i32.
const GGML_MAGIC: u32 = 0x6767_6d6c;

/// Errors of the whisper engine; each message names the file or option at fault.
#[derive(Debug, thiserror::Error)]
pub enum AsrError {
    #[error("{}: cannot read the model: {source}", path.display())]
    ModelIo { path: PathBuf, source: io::Error },
    #[error("{}: not a whisper.cpp ggml model ({reason})", path.display())]
    NotAModel { path: PathBuf, reason: String },
    #[error("{}: truncated whisper model ({reason}); download or convert it again", path.display())]
    Truncated { path: PathBuf, reason: String },
    #[error("{}: whisper.cpp refused the model (unsupported tensor type, or missing/unexpected tensors)", path.display())]
    LoadFailed { path: PathBuf },
    #[error("unknown language {0:?}: use a code such as \"en\" or \"zh\", a name such as \"german\", or \"auto\"")]
    UnknownLanguage(String),
    #[error("{model} is an English-only model: it cannot transcribe {language:?}; use a multilingual model (e.g. \"base\" instead of \"base.en\")")]
    EnglishOnlyLanguage { model: String, language: String },
    #[error("{model} is an English-only model: it cannot translate; use a multilingual model (e.g. \"base\" instead of \"base.en\")")]
    EnglishOnlyTranslate { model: String },
    #[error("invalid transcription option: {0}")]
    InvalidOption(String),
    #[error("no audio to transcribe (0 samples)")]
    NoAudio,
    #[error("whisper.cpp failed: {0}")]
    Whisper(#[from] WhisperError),
}

/// How to transcribe; [`Default`] is what the CLI uses unless told otherwise.
#[derive(Clone, Debug, PartialEq)]
pub struct TranscribeOptions {
    /// ISO 639-1 code (`"zh"`) or whisper's English name (`"chinese"`); `None` or `"auto"`
    /// detects the language from the first 30 s.
    pub language: Option<String>,
    /// Translate into English (multilingual models only).
    pub translate: bool,
    /// whisper.cpp threads for this call (≥ 1).
    pub threads: usize,
    /// Text that primes the decoder: spellings, names, punctuation style.
    pub initial_prompt: Option<String>,
    /// Compute word timings; when false, segments have no words (and decoding is a bit faster).
    pub word_timestamps: bool,
    /// Condition each 30 s window on the text decoded so far (whisper's default). Without it
    /// windows are independent: fewer hallucination loops, less consistent style. whisper.cpp
    /// can only drop the conditioning together with the prompt, so an `initial_prompt` keeps it.
    pub condition_on_previous_text: bool,
    /// A segment whose no-speech probability exceeds this …
    pub no_speech_threshold: f32,
    /// … and whose average token log-probability is below this is dropped. whisper.cpp also
    /// retries a window at a higher temperature when its average log-probability is below it.
    pub logprob_threshold: f32,
    /// Retry a window at a higher temperature when its token entropy exceeds this (repetitive
    /// output); whisper.cpp's stand-in for OpenAI's compression-ratio threshold.
    pub entropy_threshold: f32,
    /// Temperature step of the fallback (0 disables fallback: pure greedy decoding).
    pub temperature_increment: f32,
    /// Shrink the encoder to the audio of a short call (whisper.cpp's `audio_ctx`): whisper
    /// always encodes 30 s, so a 12 s window pays for 18 s of padding. `None` encodes the
    /// full 30 s; `Some(min)` uses the audio's length plus a margin, at least `min` encoder
    /// positions (50 per second), see [`audio_ctx_for`]. Default: [`MIN_AUDIO_CTX`], unless
    /// the environment variable `SUBCUT_AUDIO_CTX` says `full` (or another minimum).
    pub audio_ctx: Option<usize>,
}

/// whisper's encoder positions per second of audio (1500 for its 30 s window).
pub const AUDIO_CTX_PER_SEC: usize = 50;
/// The fewest encoder positions [`TranscribeOptions::audio_ctx`] shrinks to by default
/// (15 s). At 500 (10 s), tiny.en ended a 13 s window after its first sentence.
pub const MIN_AUDIO_CTX: usize = 750;
/// Encoder positions added after the audio's end (0.5 s), and the step the context is
/// rounded up to (so calls of similar length share a graph shape).
const AUDIO_CTX_MARGIN: usize = 25;
const AUDIO_CTX_STEP: usize = 32;

/// The `audio_ctx` for a call on `n_samples` of 16 kHz audio with a model whose encoder has
/// `n_audio_ctx` positions: 0 (whisper's full context) when the audio needs all of it or
/// `min` is `None`, else the positions the audio covers plus 0.5 s, at least `min`,
/// rounded up to a multiple of 32.
pub fn audio_ctx_for(n_samples: usize, n_audio_ctx: usize, min: Option<usize>) -> usize {
    let Some(min) = min else { return 0 };
    let covered = n_samples.div_ceil(RATE as usize / AUDIO_CTX_PER_SEC);
    let ctx = (covered + AUDIO_CTX_MARGIN)
        .max(min)
        .next_multiple_of(AUDIO_CTX_STEP);
    if ctx >= n_audio_ctx {
        0
    } else {
        ctx
    }
}

/// `SUBCUT_AUDIO_CTX`: unset → [`MIN_AUDIO_CTX`]; `full` or `0` → `None`; a number → that
/// minimum.
fn audio_ctx_from_env() -> Option<usize> {
    match std::env::var("SUBCUT_AUDIO_CTX") {
        Err(_) => Some(MIN_AUDIO_CTX),
        Ok(v) if v.eq_ignore_ascii_case("full") || v.trim() == "0" => None,
        Ok(v) => Some(v.trim().parse().unwrap_or(MIN_AUDIO_CTX)),
    }
}

impl Default for TranscribeOptions {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        TranscribeOptions {
            language: None,
            translate: false,
            threads: cores.clamp(1, 4),
            initial_prompt: None,
            word_timestamps: true,
            condition_on_previous_text: true,
            no_speech_threshold: 0.6,
            logprob_threshold: -1.0,
            entropy_threshold: 2.4,
            temperature_increment: 0.2,
            audio_ctx: audio_ctx_from_env(),
        }
    }
}

/// The language decision for one call: `None` = let whisper detect it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Resolved {
    language: Option<&'static str>,
}

impl TranscribeOptions {
    /// Checks the options against a model (`multilingual`, its file name for messages) and
    /// normalises the language to whisper's code.
    fn resolve(&self, multilingual: bool, model: &str) -> Result<Resolved, AsrError> {
        silence_whisper();
        if self.threads == 0 {
            return Err(AsrError::InvalidOption("threads must be at least 1".into()));
        }
        if !(0.0..=1.0).contains(&self.no_speech_threshold) {
            return Err(AsrError::InvalidOption(format!(
                "no-speech threshold {} is not in 0..=1",
                self.no_speech_threshold
            )));
        }
        if !self.logprob_threshold.is_finite() || self.logprob_threshold > 0.0 {
            return Err(AsrError::InvalidOption(format!(
                "log-probability threshold {} must be a finite value ≤ 0",
                self.logprob_threshold
            )));
        }
        if !self.entropy_threshold.is_finite() || self.entropy_threshold <= 0.0 {
            return Err(AsrError::InvalidOption(format!(
                "entropy threshold {} must be a finite value > 0",
                self.entropy_threshold
            )));
        }
        if !(0.0..=1.0).contains(&self.temperature_increment) {
            return Err(AsrError::InvalidOption(format!(
                "temperature increment {} is not in 0..=1",
                self.temperature_increment
            )));
        }
        if self
            .initial_prompt
            .as_deref()
            .is_some_and(|p| p.contains('\0'))
        {
            return Err(AsrError::InvalidOption(
                "the initial prompt contains a NUL character".into(),
            ));
        }
        let language = match self.language.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(l) if l.eq_ignore_ascii_case("auto") => None,
            Some(l) => {
                let lower = l.to_lowercase();
                let id = (!lower.contains('\0'))
                    .then(|| whisper_rs::get_lang_id(&lower))
                    .flatten()
                    .ok_or_else(|| AsrError::UnknownLanguage(l.to_string()))?;
                let code = whisper_rs::get_lang_str(id)
                    .ok_or_else(|| AsrError::UnknownLanguage(l.to_string()))?;
                Some(code)
            }
        };
        if !multilingual {
            if self.translate {
                return Err(AsrError::EnglishOnlyTranslate {
                    model: model.into(),
                });
            }
            return match language {
                None | Some("en") => Ok(Resolved {
                    language: Some("en"),
                }),
                Some(other) => Err(AsrError::EnglishOnlyLanguage {
                    model: model.into(),
                    language: other.into(),
                }),
            };
        }
        Ok(Resolved { language })
    }
}

/// A loaded whisper.cpp model. Cheap to share: every [`transcribe`](Whisper::transcribe)
/// call makes its own state, so one `Whisper` serves several threads.
pub struct Whisper {
    ctx: WhisperContext,
    name: String,
    header: ModelHeader,
    dtw: bool,
    weights: Vec<WeightBuffer>,
}

/// One ggml buffer holding model weights, as whisper.cpp reports it when loading: `CPU`
/// (plain), `CPU_REPACK` (rows interleaved for the AVX2/AVX-512 GEMM kernels) or `AMX`
/// (packed into tiles for Intel AMX). Where a weight goes decides which kernel multiplies it.
#[derive(Clone, Debug, PartialEq)]
pub struct WeightBuffer {
    pub name: String,
    pub bytes: u64,
}

impl std::fmt::Debug for Whisper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Whisper")
            .field("name", &self.name)
            .field("header", &self.header)
            .field("dtw", &self.dtw)
            .field("weights", &self.weights)
            .finish()
    }
}

impl Whisper {
    /// Loads a ggml model file; errors name the file and the cause in one line (not a whisper
    /// model, truncated, ...). Silences whisper.cpp's own logging. Word times come from plain
    /// token timestamps (see the module documentation for why not DTW).
    pub fn load(model: &Path) -> Result<Whisper, AsrError> {
        Whisper::load_with_dtw(model, false)
    }

    /// Like [`load`](Whisper::load); `dtw: true` also enables whisper.cpp's experimental DTW
    /// token timing when the model's shape matches an alignment-heads preset ([`dtw_preset`];
    /// [`uses_dtw`](Whisper::uses_dtw) tells whether it did). For comparisons and for
    /// later whisper.cpp versions.
    pub fn load_with_dtw(model: &Path, dtw: bool) -> Result<Whisper, AsrError> {
        silence_whisper();
        let header = read_model_header(model)?;
        let preset = if dtw { dtw_preset(&header) } else { None };
        let mut params = WhisperContextParameters::default();
        // Flash attention measured 10–15 % slower per window on the CPU (docs/BENCH.md).
        params.flash_attn(false);
        if let Some(model_preset) = preset.clone() {
            params.dtw_parameters(DtwParameters {
                mode: DtwMode::ModelPreset { model_preset },
                ..DtwParameters::default()
            });
        }
        let (ctx, log) = with_whisper_log(|| WhisperContext::new_with_params(model, params));
        let ctx = ctx.map_err(|_| AsrError::LoadFailed {
            path: model.to_path_buf(),
        })?;
        let name = model.file_name().map_or_else(
            || model.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        Ok(Whisper {
            ctx,
            name,
            header,
            dtw: preset.is_some(),
            weights: weight_buffers(&log),
        })
    }

    /// The buffers whisper.cpp put this model's weights in (see [`WeightBuffer`]).
    pub fn weight_buffers(&self) -> &[WeightBuffer] {
        &self.weights
    }

    pub fn is_multilingual(&self) -> bool {
        self.ctx.is_multilingual()
    }

    /// Whether word onsets come from DTW (see the module documentation).
    pub fn uses_dtw(&self) -> bool {
        self.dtw
    }

    /// 16 kHz mono f32 samples whose index 0 is media time 0. Each call makes its own
    /// WhisperState (safe to call from several threads on one Whisper).
    pub fn transcribe(
        &self,
        samples: &[f32],
        opts: &TranscribeOptions,
        progress: &mut dyn FnMut(f32),
    ) -> Result<Transcript, AsrError> {
        let mut state = self.ctx.create_state()?;
        self.transcribe_in(&mut state, samples, opts, progress)
    }

    /// A fresh decoding state, to reuse over several [`transcribe_in`](Whisper::transcribe_in)
    /// calls (its compute buffers are allocated once).
    pub fn new_state(&self) -> Result<WhisperState, AsrError> {
        Ok(self.ctx.create_state()?)
    }

    /// [`transcribe`](Whisper::transcribe) with a caller-owned state.
    pub fn transcribe_in(
        &self,
        state: &mut WhisperState,
        samples: &[f32],
        opts: &TranscribeOptions,
        progress: &mut dyn FnMut(f32),
    ) -> Result<Transcript, AsrError> {
        let resolved = opts.resolve(self.is_multilingual(), &self.name)?;
        if samples.is_empty() {
            return Err(AsrError::NoAudio);
        }
        if !samples.iter().all(|s| s.is_finite()) {
            return Err(AsrError::InvalidOption(
                "the audio contains NaN or infinite samples".into(),
            ));
        }
        let audio_end = Time::from_samples(samples.len(), RATE);
        let padded;
        let input = if samples.len() < MIN_SAMPLES {
            let mut v = samples.to_vec();
            v.resize(MIN_SAMPLES, 0.0);
            padded = v;
            &padded[..]
        } else {
            samples
        };

        let mut sink = ProgressSink {
            callback: progress,
            last: -1.0,
            panic: None,
        };
        let mut params = self.full_params(opts, resolved, input.len());
        // SAFETY: the trampoline only casts `user_data` back to the `ProgressSink` that lives
        // on this stack frame until `full()` has returned; whisper.cpp calls it from this thread.
        unsafe {
            params.set_progress_callback(Some(progress_trampoline));
            params.set_progress_callback_user_data(&mut sink as *mut ProgressSink as *mut c_void);
            params.set_start_encoder_callback(Some(count_encoder_pass));
        }
        let debug = std::env::var_os("SUBCUT_DEBUG_WINDOWS").is_some();
        if debug {
            // SAFETY: a plain function that only touches the statics below.
            unsafe { params.set_filter_logits_callback(Some(mark_decode_step)) };
        }
        let passes_before = ENCODER_PASSES.load(std::sync::atomic::Ordering::Relaxed);
        let (t0, steps0, enc0) = (
            std::time::Instant::now(),
            DEBUG_STEPS.load(std::sync::atomic::Ordering::Relaxed),
            DEBUG_ENCODE_NS.load(std::sync::atomic::Ordering::Relaxed),
        );
        let result = state.full(params, input);
        if debug {
            let enc = DEBUG_ENCODE_NS.load(std::sync::atomic::Ordering::Relaxed) - enc0;
            eprintln!(
                "window {:.2} s: audio_ctx {}, {} encoder pass(es), {:.2} s in full(), ~{:.2} s encoding, {} decoder steps",
                input.len() as f64 / RATE as f64,
                audio_ctx_for(input.len(), self.header.n_audio_ctx as usize, opts.audio_ctx),
                ENCODER_PASSES.load(std::sync::atomic::Ordering::Relaxed) - passes_before,
                t0.elapsed().as_secs_f64(),
                enc as f64 / 1e9,
                DEBUG_STEPS.load(std::sync::atomic::Ordering::Relaxed) - steps0,
            );
        }
        if let Some(payload) = sink.panic.take() {
            panic::resume_unwind(payload);
        }
        result?;

        let language = if self.is_multilingual() && !opts.translate {
            resolved.language.map(str::to_string).unwrap_or_else(|| {
                whisper_rs::get_lang_str(state.full_lang_id_from_state())
                    .unwrap_or("en")
                    .to_string()
            })
        } else {
            "en".to_string()
        };

        let eot = self.ctx.token_eot();
        let mut raw = Vec::new();
        for seg in state.as_iter() {
            let mut tokens = Vec::with_capacity(seg.n_tokens().max(0) as usize);
            for i in 0..seg.n_tokens() {
                let Some(tok) = seg.get_token(i) else { break };
                let d = tok.token_data();
                tokens.push(RawToken {
                    bytes: tok.to_bytes().map(<[u8]>::to_vec).unwrap_or_default(),
                    special: d.id >= eot,
                    p: d.p,
                    plog: d.plog,
                    t0: d.t0,
                    t1: d.t1,
                    t_dtw: if self.dtw { d.t_dtw } else { -1 },
                });
            }
            raw.push(RawSegment {
                t0: seg.start_timestamp(),
                t1: seg.end_timestamp(),
                no_speech: seg.no_speech_probability(),
                tokens,
            });
        }
        let segments = build_segments(&raw, audio_end, opts);
        sink.report(1.0);
        Ok(Transcript { language, segments })
    }

    /// A bare whisper-rs `full()` over `samples` with exactly the parameters
    /// [`transcribe`](Whisper::transcribe) uses, and nothing else: no progress callback, no
    /// token reading, no post-processing. Returns the number of segments. For the benchmark
    /// that checks the pipeline adds no cost around the engine.
    #[doc(hidden)]
    pub fn bare_full(&self, samples: &[f32], opts: &TranscribeOptions) -> Result<usize, AsrError> {
        let resolved = opts.resolve(self.is_multilingual(), &self.name)?;
        let params = self.full_params(opts, resolved, samples.len());
        let mut state = self.ctx.create_state()?;
        state.full(params, samples)?;
        Ok(state.full_n_segments() as usize)
    }

    fn full_params(
        &self,
        opts: &TranscribeOptions,
        resolved: Resolved,
        n_samples: usize,
    ) -> FullParams<'static, 'static> {
        let mut p = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
        p.set_n_threads(opts.threads.min(c_int::MAX as usize) as c_int);
        let ctx = audio_ctx_for(
            n_samples,
            self.header.n_audio_ctx as usize,
            opts.audio_ctx.filter(|_| !self.dtw),
        );
        p.set_audio_ctx(ctx as c_int);
        p.set_language(resolved.language);
        p.set_translate(opts.translate && self.is_multilingual());
        p.set_no_context(true);
        if !opts.condition_on_previous_text && opts.initial_prompt.is_none() {
            p.set_n_max_text_ctx(0);
        }
        if let Some(prompt) = opts
            .initial_prompt
            .as_deref()
            .filter(|s| !s.trim().is_empty())
        {
            p.set_initial_prompt(prompt);
        }
        p.set_token_timestamps(opts.word_timestamps);
        p.set_max_initial_ts(1.0);
        p.set_suppress_blank(true);
        p.set_suppress_nst(true);
        p.set_temperature(0.0);
        p.set_temperature_inc(opts.temperature_increment);
        p.set_entropy_thold(opts.entropy_threshold);
        p.set_logprob_thold(opts.logprob_threshold);
        p.set_no_speech_thold(opts.no_speech_threshold);
        p.set_print_special(false);
        p.set_print_progress(false);
        p.set_print_realtime(false);
        p.set_print_timestamps(false);
        p
    }
}

/// What the linked whisper.cpp/ggml build can do, as whisper.cpp reports it: one
/// `BACKEND : FEATURE = VALUE | …` group per compiled backend (for the CPU: the SIMD
/// extensions, `REPACK`, `AMX_INT8`, `LLAMAFILE`, …). Shown by `subcut --version`.
pub fn engine_features() -> &'static str {
    silence_whisper();
    whisper_rs::print_system_info()
        .trim_end()
        .trim_end_matches('|')
        .trim_end()
}

/// Routes ggml's logging into whisper-rs's hook, which (without the `log` or `tracing`
/// features) discards it, and whisper.cpp's into [`whisper_log_sink`], which discards it
/// too unless [`with_whisper_log`] is listening. Idempotent.
fn silence_whisper() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    whisper_rs::install_logging_hooks();
    ONCE.call_once(|| {
        // SAFETY: a plain function that only touches `WHISPER_LOG`.
        unsafe {
            whisper_rs::whisper_rs_sys::whisper_log_set(
                Some(whisper_log_sink),
                std::ptr::null_mut(),
            )
        }
    });
}

/// The lines whisper.cpp logs while [`with_whisper_log`] runs (`None`: nobody listens).
static WHISPER_LOG: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// Runs `f` (one whisper.cpp call) and returns what whisper.cpp logged meanwhile. Calls are
/// serialized, so two threads loading models do not mix their logs.
fn with_whisper_log<T>(f: impl FnOnce() -> T) -> (T, String) {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    silence_whisper();
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    *WHISPER_LOG.lock().unwrap_or_else(|e| e.into_inner()) = Some(String::new());
    let out = f();
    let log = WHISPER_LOG
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
        .unwrap_or_default();
    (out, log)
}

unsafe extern "C" fn whisper_log_sink(
    _level: whisper_rs::whisper_rs_sys::ggml_log_level,
    text: *const std::ffi::c_char,
    _: *mut c_void,
) {
    if text.is_null() {
        return;
    }
    // SAFETY: whisper.cpp passes a NUL-terminated string that lives for this call.
    let text = unsafe { std::ffi::CStr::from_ptr(text) }.to_string_lossy();
    // Never unwind into C; a poisoned lock still holds a usable log.
    let _ = panic::catch_unwind(AssertUnwindSafe(|| {
        if let Some(log) = WHISPER_LOG
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
        {
            log.push_str(&text);
        }
    }));
}

/// The weight buffers in whisper.cpp's load log: lines like
/// `whisper_model_load:          AMX total size =    52.43 MB`.
fn weight_buffers(log: &str) -> Vec<WeightBuffer> {
    log.lines()
        .filter(|l| l.starts_with("whisper_model_load:"))
        .filter_map(|l| {
            let (head, size) = l.split_once(" total size = ")?;
            let name = head.rsplit(' ').next()?.trim();
            let mb: f64 = size.trim().strip_suffix("MB")?.trim().parse().ok()?;
            (!name.is_empty() && !name.ends_with(':')).then(|| WeightBuffer {
                name: name.to_string(),
                bytes: (mb * 1e6).round() as u64,
            })
        })
        .collect()
}

struct ProgressSink<'a> {
    callback: &'a mut dyn FnMut(f32),
    last: f32,
    panic: Option<Box<dyn std::any::Any + Send>>,
}

impl ProgressSink<'_> {
    /// Reports `p` if it moves forward; a panic in the callback is kept for `resume_unwind`
    /// (it must not unwind through C).
    fn report(&mut self, p: f32) {
        if self.panic.is_some() || p <= self.last {
            return;
        }
        self.last = p;
        let cb = &mut self.callback;
        if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| cb(p))) {
            self.panic = Some(payload);
        }
    }
}

/// Encoder passes run by this process (whisper.cpp encodes again from its last timestamp
/// when a window's text ends early): for benchmarks and diagnostics.
#[doc(hidden)]
pub static ENCODER_PASSES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

unsafe extern "C" fn count_encoder_pass(
    _: *mut WhisperSysContext,
    _: *mut WhisperSysState,
    _: *mut c_void,
) -> bool {
    ENCODER_PASSES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    *DEBUG_ENCODE_START.lock().unwrap_or_else(|e| e.into_inner()) = Some(std::time::Instant::now());
    true
}

// `SUBCUT_DEBUG_WINDOWS` diagnostics: decoder steps, and the time from each encoder start to
// the first decoder step after it (the encoder's share).
static DEBUG_STEPS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
static DEBUG_ENCODE_NS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
static DEBUG_ENCODE_START: std::sync::Mutex<Option<std::time::Instant>> =
    std::sync::Mutex::new(None);

unsafe extern "C" fn mark_decode_step(
    _: *mut WhisperSysContext,
    _: *mut WhisperSysState,
    _: *const whisper_rs::WhisperTokenData,
    _: c_int,
    _: *mut f32,
    _: *mut c_void,
) {
    DEBUG_STEPS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if let Some(t) = DEBUG_ENCODE_START
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
    {
        DEBUG_ENCODE_NS.fetch_add(
            t.elapsed().as_nanos() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
    }
}

unsafe extern "C" fn progress_trampoline(
    _: *mut WhisperSysContext,
    _: *mut WhisperSysState,
    percent: c_int,
    user_data: *mut c_void,
) {
    // SAFETY: see `transcribe`: user_data is the live `ProgressSink` of the calling frame.
    let sink = unsafe { &mut *(user_data as *mut ProgressSink) };
    sink.report((percent as f32 / 100.0).clamp(0.0, 1.0));
}

// ---------------------------------------------------------------------------------------
// From whisper's segments to ours
// ---------------------------------------------------------------------------------------

/// A token as whisper.cpp reports it (times in centiseconds, -1 = unknown).
#[derive(Clone, Debug)]
struct RawToken {
    bytes: Vec<u8>,
    special: bool,
    p: f32,
    plog: f32,
    t0: i64,
    t1: i64,
    t_dtw: i64,
}

#[derive(Clone, Debug)]
struct RawSegment {
    t0: i64,
    t1: i64,
    no_speech: f32,
    tokens: Vec<RawToken>,
}

/// whisper.cpp centiseconds → [`Time`].
fn cs(t: i64) -> Time {
    Time::from_millis(t.saturating_mul(10))
}

/// Applies the safeguards and turns whisper's segments into ours (see the module docs).
fn build_segments(raw: &[RawSegment], audio_end: Time, opts: &TranscribeOptions) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    for seg in raw {
        let text_tokens: Vec<&RawToken> = seg.tokens.iter().filter(|t| !t.special).collect();
        if text_tokens.is_empty() {
            continue;
        }
        let avg_logprob =
            text_tokens.iter().map(|t| t.plog).sum::<f32>() / text_tokens.len() as f32;
        if seg.no_speech > opts.no_speech_threshold && avg_logprob < opts.logprob_threshold {
            continue;
        }
        let text = segment_text(&seg.tokens);
        if text.is_empty() {
            continue;
        }
        if out.last().is_some_and(|prev| prev.text == text) {
            continue; // a verbatim repeat of the previous segment: a hallucination loop
        }
        let lo = out.last().map_or(Time::ZERO, |p| p.end);
        let start = cs(seg.t0).max(lo);
        if start >= audio_end {
            continue; // decoded from the padding or beyond the audio
        }
        let end = cs(seg.t1).min(audio_end).max(start);
        let mut words = Vec::new();
        let mut span = Span::new(start, end);
        if opts.word_timestamps {
            let timed = token_timings(&seg.tokens);
            let n = group_words(&timed).len().max(1) as i64;
            span = widen(span, Time(MIN_WORD.0 * n), lo, audio_end);
            words = words_from_tokens(&timed, span, MIN_WORD);
        } else if span.is_empty() {
            span = widen(span, MIN_WORD, lo, audio_end);
        }
        out.push(Segment {
            start: span.start,
            end: span.end,
            text,
            words,
            no_speech_probability: seg.no_speech,
        });
    }
    out
}

/// Makes `span` at least `need` long by moving its end (up to `hi`), then its start (down to
/// `lo`).
fn widen(span: Span, need: Time, lo: Time, hi: Time) -> Span {
    let end = span.end.max(span.start + need).min(hi).max(span.start);
    let start = span.start.min(end - need).max(lo).min(span.start);
    Span::new(start, end)
}

/// The segment's text from its token bytes (reassembled, so no broken characters).
fn segment_text(tokens: &[RawToken]) -> String {
    let mut bytes = Vec::new();
    for t in tokens.iter().filter(|t| !t.special) {
        bytes.extend_from_slice(&t.bytes);
    }
    String::from_utf8_lossy(&bytes)
        .replace('\u{FFFD}', "")
        .trim()
        .to_string()
}

/// Token times on the media timeline. With DTW a token starts at its DTW onset and ends at
/// its token-timestamp end, cut back at the next token's onset; without it, token timestamps.
fn token_timings(tokens: &[RawToken]) -> Vec<TokenTiming> {
    let text_idx: Vec<usize> = (0..tokens.len()).filter(|&i| !tokens[i].special).collect();
    let dtw = !text_idx.is_empty() && text_idx.iter().all(|&i| tokens[i].t_dtw >= 0);
    let mut next_onset = vec![None; tokens.len()];
    if dtw {
        for w in text_idx.windows(2) {
            next_onset[w[0]] = Some(tokens[w[1]].t_dtw);
        }
    }
    tokens
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let (start, end) = if dtw && !t.special {
                let end = t.t1.max(t.t_dtw);
                (
                    t.t_dtw,
                    next_onset[i].map_or(end, |n| end.min(n.max(t.t_dtw))),
                )
            } else {
                (t.t0, t.t1)
            };
            TokenTiming {
                bytes: t.bytes.clone(),
                start: cs(start),
                end: cs(end),
                probability: t.p,
                special: t.special,
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Tokens → words (pure)
// ---------------------------------------------------------------------------------------

/// One decoded token: its raw bytes (possibly part of a UTF-8 character), its times on the
/// media timeline, its probability, and whether it is a special token (id ≥ end-of-text).
#[derive(Clone, Debug, PartialEq)]
pub struct TokenTiming {
    pub bytes: Vec<u8>,
    pub start: Time,
    pub end: Time,
    pub probability: f32,
    pub special: bool,
}

/// Groups a segment's tokens into words and fits their times into `segment` (see
/// [`group_words`] and [`fit_word_times`]).
pub fn words_from_tokens(tokens: &[TokenTiming], segment: Span, min_len: Time) -> Vec<Word> {
    let mut words = group_words(tokens);
    fit_word_times(&mut words, segment, min_len);
    words
}

/// Decoded text between token boundaries, with the time and probability of the tokens that
/// made it.
struct Piece {
    text: String,
    start: Time,
    end: Time,
    probability: f32,
}

/// Concatenates token bytes until they decode, so characters split across tokens come out
/// whole; bytes that can never decode are dropped.
fn pieces(tokens: &[TokenTiming]) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut pending: Vec<u8> = Vec::new();
    let (mut start, mut p_sum, mut p_n) = (Time::ZERO, 0.0f32, 0u32);
    let mut end = Time::ZERO;
    let mut emit = |bytes: &[u8], start: Time, end: Time, p: f32| {
        let text = String::from_utf8_lossy(bytes).replace('\u{FFFD}', "");
        if !text.is_empty() {
            out.push(Piece {
                text,
                start,
                end,
                probability: p,
            });
        }
    };
    for t in tokens.iter().filter(|t| !t.special) {
        if pending.is_empty() {
            (start, p_sum, p_n) = (t.start, 0.0, 0);
        }
        pending.extend_from_slice(&t.bytes);
        p_sum += t.probability;
        p_n += 1;
        end = t.end;
        loop {
            match std::str::from_utf8(&pending) {
                Ok(_) => {
                    emit(&pending, start, t.end, p_sum / p_n as f32);
                    pending.clear();
                    break;
                }
                Err(e) => {
                    // An incomplete character at the end waits for the next token; an invalid
                    // sequence is flushed (and its bytes dropped) and decoding goes on.
                    let cut = match e.error_len() {
                        None => e.valid_up_to(),
                        Some(len) => e.valid_up_to() + len,
                    };
                    if cut == 0 {
                        break;
                    }
                    emit(&pending[..cut], start, t.end, p_sum / p_n as f32);
                    pending.drain(..cut);
                    (start, p_sum, p_n) = (t.start, t.probability, 1);
                    if pending.is_empty() || e.error_len().is_none() {
                        break;
                    }
                }
            }
        }
    }
    if !pending.is_empty() {
        emit(&pending, start, end, p_sum / p_n.max(1) as f32);
    }
    out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum CharClass {
    /// Whitespace: the next visible character starts a new word.
    Space,
    /// Marks that close or end something: always stay on the word before.
    Closing,
    /// Marks that open something: start the next word.
    Opening,
    /// Other punctuation and symbols: stay on the word before unless a space separates them.
    Punct,
    /// A CJK letter (Han, kana, hangul).
    CjkLetter,
    /// Letters and digits of other scripts.
    Letter,
}

fn classify(c: char) -> CharClass {
    if c.is_whitespace() {
        CharClass::Space
    } else if ",.!?:;)]}”’»…、。，．！？：；）］｝」』】》〉〕〗〙〛〞".contains(c)
    {
        CharClass::Closing
    } else if "([{“‘«¿¡（［｛「『【《〈〔〖〘〚〝".contains(c) {
        CharClass::Opening
    } else if c.is_alphanumeric() {
        if is_cjk(c) {
            CharClass::CjkLetter
        } else {
            CharClass::Letter
        }
    } else {
        CharClass::Punct
    }
}

struct WordBuilder {
    text: String,
    start: Time,
    end: Time,
    p_sum: f32,
    p_n: u32,
    last: char,
    last_piece: usize,
    open_only: bool,
}

/// Groups tokens into words: special tokens skipped, bytes reassembled across tokens, a
/// leading space starts a word, punctuation stays with the word before (opening marks with
/// the word after), each token's run of CJK letters is a word. A word spans the times of the
/// characters it took from each token (a token's span shared evenly by its characters); its
/// probability is the mean over the tokens it took characters from. Times are as given: see
/// [`fit_word_times`].
pub fn group_words(tokens: &[TokenTiming]) -> Vec<Word> {
    let mut words: Vec<WordBuilder> = Vec::new();
    let mut space_pending = false;
    for (pi, piece) in pieces(tokens).iter().enumerate() {
        let visible = piece
            .text
            .chars()
            .filter(|c| !c.is_whitespace())
            .count()
            .max(1) as i64;
        let span = (piece.end - piece.start).max(Time::ZERO).0;
        let mut k = 0i64;
        for c in piece.text.chars() {
            let class = classify(c);
            if class == CharClass::Space {
                space_pending = true;
                continue;
            }
            let c_start = piece.start + Time(span * k / visible);
            let c_end = piece.start + Time(span * (k + 1) / visible);
            k += 1;
            let new_word = match words.last() {
                None => true,
                Some(w) if w.open_only => false,
                Some(w) => match class {
                    CharClass::Closing => false,
                    CharClass::Opening => space_pending || is_cjk(w.last),
                    CharClass::Punct => space_pending,
                    CharClass::CjkLetter => {
                        space_pending
                            || w.last_piece != pi
                            || classify(w.last) != CharClass::CjkLetter
                    }
                    CharClass::Letter => space_pending || is_cjk(w.last),
                    CharClass::Space => unreachable!(),
                },
            };
            if new_word {
                words.push(WordBuilder {
                    text: String::new(),
                    start: c_start,
                    end: c_end,
                    p_sum: 0.0,
                    p_n: 0,
                    last: c,
                    last_piece: usize::MAX,
                    open_only: class == CharClass::Opening,
                });
            }
            let w = words.last_mut().expect("a word was just pushed");
            w.text.push(c);
            // Trailing punctuation is silent: its token's time (often the pause after the word)
            // does not stretch the word.
            if new_word || !matches!(class, CharClass::Closing | CharClass::Punct) {
                w.start = w.start.min(c_start);
                w.end = w.end.max(c_end);
            }
            if w.last_piece != pi {
                w.p_sum += piece.probability;
                w.p_n += 1;
            }
            w.last = c;
            w.last_piece = pi;
            w.open_only &= class == CharClass::Opening;
            space_pending = false;
        }
    }
    words
        .into_iter()
        .map(|w| Word {
            text: w.text,
            start: w.start,
            end: w.end,
            probability: (w.p_sum / w.p_n.max(1) as f32).clamp(0.0, 1.0),
        })
        .collect()
}

/// Makes word times usable: inside `segment`, starts non-decreasing, no overlaps, and every
/// word at least `min_len` long — or `segment`'s duration shared evenly when it is too short
/// for that (an empty segment leaves its words empty, at its start).
pub fn fit_word_times(words: &mut [Word], segment: Span, min_len: Time) {
    let n = words.len() as i64;
    if n == 0 {
        return;
    }
    let seg_end = segment.end.max(segment.start);
    let min_len = min_len
        .max(Time::ZERO)
        .min(Time((seg_end - segment.start).0 / n));
    // Clamp into the segment, make starts monotonic, end no earlier than start.
    let mut prev_start = segment.start;
    for w in words.iter_mut() {
        w.start = w.start.max(prev_start).min(seg_end);
        w.end = w.end.max(w.start).min(seg_end);
        prev_start = w.start;
    }
    // An end may not run past the next word's start.
    for i in 0..words.len() - 1 {
        let next = words[i + 1].start;
        words[i].end = words[i].end.min(next).max(words[i].start);
    }
    // Forward: give each word its minimum length, pushing later words if needed…
    let mut lo = segment.start;
    for w in words.iter_mut() {
        w.start = w.start.max(lo);
        w.end = w.end.max(w.start + min_len);
        lo = w.end;
    }
    // …backward: pull everything back inside the segment (n × min_len fits by construction).
    let mut hi = seg_end;
    for w in words.iter_mut().rev() {
        w.end = w.end.min(hi);
        w.start = w.start.min(w.end - min_len);
        hi = w.start;
    }
}

// ---------------------------------------------------------------------------------------
// The ggml file header
// ---------------------------------------------------------------------------------------

/// The hyperparameters at the start of a whisper.cpp ggml file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModelHeader {
    pub n_vocab: i32,
    pub n_audio_ctx: i32,
    pub n_audio_state: i32,
    pub n_audio_head: i32,
    pub n_audio_layer: i32,
    pub n_text_ctx: i32,
    pub n_text_state: i32,
    pub n_text_head: i32,
    pub n_text_layer: i32,
    pub n_mels: i32,
    pub ftype: i32,
}

/// whisper.cpp's alignment-heads preset for a standard model shape: n_vocab 51864 = `.en`,
/// 51865 = multilingual (v1/v2), 51866 = large-v3 family; tiny/base/small/medium/large from
/// the text layers and audio width. `None` for shapes whose heads are not known (large v1 and
/// v2 share one shape but not their heads; distilled and other custom models).
pub fn dtw_preset(h: &ModelHeader) -> Option<DtwModelPreset> {
    use DtwModelPreset::*;
    Some(match (h.n_vocab, h.n_text_layer, h.n_audio_state) {
        (51864, 4, 384) => TinyEn,
        (51864, 6, 512) => BaseEn,
        (51864, 12, 768) => SmallEn,
        (51864, 24, 1024) => MediumEn,
        (51865, 4, 384) => Tiny,
        (51865, 6, 512) => Base,
        (51865, 12, 768) => Small,
        (51865, 24, 1024) => Medium,
        (51866, 32, 1280) => LargeV3,
        (51866, 4, 1280) => LargeV3Turbo,
        _ => return None,
    })
}

/// Bytes of `n` elements of ggml type `ttype`, for the types whisper files use; `None` for
/// types this check does not know (whisper.cpp then has the last word).
fn tensor_bytes(ttype: i32, n: u64) -> Option<u64> {
    let (block, size) = match ttype {
        0 => (1, 4),      // f32
        1 | 30 => (1, 2), // f16, bf16
        2 => (32, 18),    // q4_0
        3 => (32, 20),    // q4_1
        6 => (32, 22),    // q5_0
        7 => (32, 24),    // q5_1
        8 => (32, 34),    // q8_0
        10 => (256, 84),  // q2_k
        11 => (256, 110), // q3_k
        12 => (256, 144), // q4_k
        13 => (256, 176), // q5_k
        14 => (256, 210), // q6_k
        _ => return None,
    };
    Some(n.div_ceil(block) * size)
}

/// Reads the header and walks the file (vocabulary, tensor headers; data is skipped) so a
/// wrong or truncated file gets a precise one-line error before whisper.cpp sees it.
pub fn read_model_header(path: &Path) -> Result<ModelHeader, AsrError> {
    let io_err = |source| AsrError::ModelIo {
        path: path.to_path_buf(),
        source,
    };
    let not_model = |reason: String| AsrError::NotAModel {
        path: path.to_path_buf(),
        reason,
    };
    let truncated = |reason: String| AsrError::Truncated {
        path: path.to_path_buf(),
        reason,
    };
    let file = File::open(path).map_err(io_err)?;
    let len = file.metadata().map_err(io_err)?.len();
    let mut r = BufReader::new(file);

    let mut magic = [0u8; 4];
    let got = read_full(&mut r, &mut magic).map_err(io_err)?;
    if got < 4 {
        return Err(not_model(format!("only {len} bytes")));
    }
    match &magic {
        m if u32::from_le_bytes(*m) == GGML_MAGIC => {}
        b"GGUF" => return Err(not_model("a GGUF file, e.g. for llama.cpp".into())),
        [b'P', b'K', 3, 4] => {
            return Err(not_model(
                "a zip archive, e.g. a PyTorch checkpoint: convert it first".into(),
            ))
        }
        m if m.iter().all(|b| b.is_ascii_graphic() || *b == b' ') => {
            let text = String::from_utf8_lossy(m);
            return Err(not_model(format!("it starts with {text:?}")));
        }
        m => return Err(not_model(format!("magic bytes {m:02x?}"))),
    }
    let read_i32 = |r: &mut BufReader<File>, what: &str| -> Result<i32, AsrError> {
        let mut b = [0u8; 4];
        let got = read_full(r, &mut b).map_err(io_err)?;
        if got < 4 {
            return Err(truncated(format!("ends inside the {what} ({len} bytes)")));
        }
        Ok(i32::from_le_bytes(b))
    };
    let mut hp = [0i32; 11];
    for v in hp.iter_mut() {
        *v = read_i32(&mut r, "header")?;
    }
    let h = ModelHeader {
        n_vocab: hp[0],
        n_audio_ctx: hp[1],
        n_audio_state: hp[2],
        n_audio_head: hp[3],
        n_audio_layer: hp[4],
        n_text_ctx: hp[5],
        n_text_state: hp[6],
        n_text_head: hp[7],
        n_text_layer: hp[8],
        n_mels: hp[9],
        ftype: hp[10],
    };
    if hp[..10].iter().any(|&v| !(1..=1_000_000).contains(&v)) || !matches!(h.n_mels, 80 | 128) {
        return Err(not_model(format!("implausible hyperparameters {hp:?}")));
    }
    let n_mel = read_i32(&mut r, "mel filters")?;
    let n_fft = read_i32(&mut r, "mel filters")?;
    if !(1..=1024).contains(&n_mel) || !(1..=4096).contains(&n_fft) {
        return Err(not_model(format!(
            "implausible mel filter bank {n_mel}×{n_fft}"
        )));
    }
    let mut pos: u64 = 4 + 44 + 8;
    let skip =
        |r: &mut BufReader<File>, pos: &mut u64, n: u64, what: &str| -> Result<(), AsrError> {
            if *pos + n > len {
                return Err(truncated(format!(
                    "{what} needs {n} bytes at offset {pos}, the file ends at {len}"
                )));
            }
            r.seek_relative(n as i64).map_err(io_err)?;
            *pos += n;
            Ok(())
        };
    skip(
        &mut r,
        &mut pos,
        n_mel as u64 * n_fft as u64 * 4,
        "the mel filter bank",
    )?;
    let n_tokens = read_i32(&mut r, "vocabulary")?;
    pos += 4;
    if !(0..=1_000_000).contains(&n_tokens) {
        return Err(not_model(format!("implausible vocabulary size {n_tokens}")));
    }
    for _ in 0..n_tokens {
        let l = read_i32(&mut r, "vocabulary")?;
        pos += 4;
        if !(0..=4096).contains(&l) {
            return Err(not_model(format!("implausible token length {l}")));
        }
        skip(&mut r, &mut pos, l as u64, "the vocabulary")?;
    }
    let mut n_tensors = 0;
    while pos < len {
        if len - pos < 12 {
            return Err(truncated(format!(
                "ends inside a tensor header at offset {pos}"
            )));
        }
        let n_dims = read_i32(&mut r, "tensor header")?;
        let name_len = read_i32(&mut r, "tensor header")?;
        let ttype = read_i32(&mut r, "tensor header")?;
        pos += 12;
        if !(1..=4).contains(&n_dims) || !(1..=1024).contains(&name_len) {
            return Err(not_model(format!(
                "implausible tensor header at offset {}",
                pos - 12
            )));
        }
        let mut n: u64 = 1;
        for _ in 0..n_dims {
            let d = read_i32(&mut r, "tensor header")?;
            pos += 4;
            if d < 1 {
                return Err(not_model(format!(
                    "tensor dimension {d} at offset {}",
                    pos - 4
                )));
            }
            n = n.saturating_mul(d as u64);
        }
        if pos + name_len as u64 > len {
            return Err(truncated(format!(
                "ends inside a tensor name at offset {pos}"
            )));
        }
        let mut name = vec![0u8; name_len as usize];
        read_full(&mut r, &mut name).map_err(io_err)?;
        pos += name_len as u64;
        let name = String::from_utf8_lossy(&name).into_owned();
        let Some(bytes) = tensor_bytes(ttype, n) else {
            break; // a type this check does not know: let whisper.cpp judge the rest
        };
        skip(&mut r, &mut pos, bytes, &format!("tensor {name}"))?;
        n_tensors += 1;
    }
    if n_tensors == 0 && pos >= len {
        return Err(truncated("no tensors after the vocabulary".into()));
    }
    Ok(h)
}

/// Reads until `buf` is full or EOF; returns how many bytes were read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: i64) -> Time {
        Time::from_millis(v)
    }

    fn tok(text: &str, a: i64, b: i64) -> TokenTiming {
        TokenTiming {
            bytes: text.as_bytes().to_vec(),
            start: ms(a),
            end: ms(b),
            probability: 0.9,
            special: false,
        }
    }

    fn raw(bytes: &[u8], a: i64, b: i64, p: f32) -> TokenTiming {
        TokenTiming {
            bytes: bytes.to_vec(),
            start: ms(a),
            end: ms(b),
            probability: p,
            special: false,
        }
    }

    fn special(text: &str, a: i64) -> TokenTiming {
        TokenTiming {
            special: true,
            ..tok(text, a, a)
        }
    }

    fn texts(words: &[Word]) -> Vec<&str> {
        words.iter().map(|w| w.text.as_str()).collect()
    }

    /// Every invariant the pipeline promises about a segment's words.
    fn assert_well_formed(words: &[Word], seg: Span, min_len: Time) {
        let mut prev_end = seg.start;
        for w in words {
            assert!(w.start >= prev_end, "{w:?} starts before {prev_end}");
            assert!(w.end > w.start, "{w:?} is empty");
            assert!(w.end <= seg.end, "{w:?} ends after {seg}");
            let room = (seg.end - seg.start).0 / words.len() as i64;
            assert!(
                (w.end - w.start).0 >= min_len.0.min(room),
                "{w:?} shorter than the minimum"
            );
            prev_end = w.end;
        }
    }

    #[test]
    fn english_bpe_pieces_join_on_leading_spaces() {
        let t = [
            special("[_BEG_]", 0),
            tok(" And", 0, 300),
            tok(" so", 300, 500),
            tok(" my", 500, 700),
            tok(" fellow", 700, 1000),
            tok(" Amer", 1000, 1300),
            tok("icans", 1300, 1700),
            tok(",", 1700, 1800),
            special("[_TT_90]", 1800),
        ];
        let w = group_words(&t);
        assert_eq!(texts(&w), ["And", "so", "my", "fellow", "Americans,"]);
        // The comma's time (often the pause after the word) does not stretch the word.
        assert_eq!((w[4].start, w[4].end), (ms(1000), ms(1700)));
        assert_eq!((w[0].start, w[0].end), (ms(0), ms(300)));
    }

    #[test]
    fn punctuation_stays_with_the_word_before() {
        let t = [
            tok(" Don", 0, 100),
            tok("'t", 100, 200),
            tok(" stop", 200, 300),
            tok("!", 300, 400),
            tok(" well", 400, 500),
            tok("-", 500, 550),
            tok("known", 550, 600),
            tok(" 3", 600, 700),
            tok(".", 700, 710),
            tok("5", 710, 720),
            tok(" (", 720, 730),
            tok("laughs", 730, 800),
            tok(")", 800, 810),
            tok(" Bonjour", 810, 900),
            tok(" !", 900, 910),
            tok(" -", 910, 920),
            tok(" “", 920, 930),
            tok("Hi", 930, 940),
            tok("”", 940, 950),
        ];
        let w = group_words(&t);
        assert_eq!(
            texts(&w),
            [
                "Don't",
                "stop!",
                "well-known",
                "3.5",
                "(laughs)",
                "Bonjour!",
                "-",
                "“Hi”"
            ]
        );
    }

    #[test]
    fn chinese_characters_split_across_tokens_are_reassembled() {
        // 中 = e4 b8 ad, 文 = e6 96 87, 好 = e5 a5 bd, 。= e3 80 82
        let t = [
            special("<|zh|>", 0),
            raw(&[0xe4, 0xb8], 0, 100, 0.5),
            raw(&[0xad, 0xe6, 0x96], 100, 200, 0.7),
            raw(&[0x87], 200, 300, 0.9),
            raw("很好".as_bytes(), 300, 500, 0.8),
            raw(&[0xe3, 0x80, 0x82], 500, 550, 0.6),
            special("[_TT_28]", 550),
        ];
        let w = group_words(&t);
        // One word per token-run of CJK letters; the trailing 。 stays with the last word.
        assert_eq!(texts(&w), ["中", "文", "很好。"]);
        // 中 spans its first two tokens, 文 the last two; probabilities are token means.
        assert_eq!((w[0].start, w[0].end), (ms(0), ms(200)));
        assert_eq!((w[1].start, w[1].end), (ms(100), ms(300)));
        assert!(
            (w[0].probability - 0.6).abs() < 1e-6,
            "{}",
            w[0].probability
        );
        assert!(
            (w[2].probability - 0.7).abs() < 1e-6,
            "{}",
            w[2].probability
        );
        // After fitting, the overlap from the shared token is gone.
        let mut w = w;
        fit_word_times(&mut w, Span::new(ms(0), ms(600)), MIN_WORD);
        assert_well_formed(&w, Span::new(ms(0), ms(600)), MIN_WORD);
        assert_eq!(w[0].end, w[1].start);
    }

    #[test]
    fn mixed_chinese_and_latin_split_at_script_changes() {
        let t = [
            tok("我用", 0, 200),
            tok("Python", 200, 400),
            tok("写", 400, 500),
            tok("代码", 500, 700),
            tok("，", 700, 720),
            tok("他说", 720, 900),
            tok("“", 900, 910),
            tok("好", 910, 1000),
            tok("”", 1000, 1010),
        ];
        let w = group_words(&t);
        assert_eq!(
            texts(&w),
            ["我用", "Python", "写", "代码，", "他说", "“好”"]
        );
    }

    #[test]
    fn a_token_with_several_characters_shares_its_time() {
        // One token completes 中 and carries 文 whole: the two words split its span.
        let t = [
            raw(&[0xe4, 0xb8], 0, 100, 0.9),
            raw(&[0xad, 0xe6, 0x96, 0x87, 0x20, 0x41], 100, 400, 0.9),
        ];
        let w = group_words(&t);
        assert_eq!(texts(&w), ["中文", "A"]);
        let t = [
            raw("中".as_bytes(), 0, 100, 0.9),
            raw(" ab cd".as_bytes(), 100, 500, 0.9),
        ];
        let w = group_words(&t);
        assert_eq!(texts(&w), ["中", "ab", "cd"]);
        assert_eq!((w[1].start, w[1].end), (ms(100), ms(300)));
        assert_eq!((w[2].start, w[2].end), (ms(300), ms(500)));
    }

    #[test]
    fn special_tokens_and_broken_bytes_are_skipped() {
        let t = [
            special("<|startoftranscript|>", 0),
            special("<|en|>", 0),
            special("[_BEG_]", 0),
            tok(" Hi", 0, 100),
            special("[_TT_5]", 100),
            raw(&[0xff], 100, 150, 0.1),
            tok(" there", 150, 300),
            raw(&[0xe4, 0xb8], 300, 350, 0.1), // a character never completed
            special("<|endoftext|>", 400),
        ];
        let w = group_words(&t);
        assert_eq!(texts(&w), ["Hi", "there"]);
        assert!(w.iter().all(|w| !w.text.contains('\u{FFFD}')));
        assert!(group_words(&[special("[_BEG_]", 0), special("<|endoftext|>", 0)]).is_empty());
    }

    #[test]
    fn word_times_become_monotonic_and_stay_inside_the_segment() {
        let seg = Span::new(ms(1000), ms(3000));
        let t = [
            tok(" a", 500, 1200),  // starts before the segment
            tok(" b", 1100, 1900), // starts before a's end
            tok(" c", 1050, 1100), // goes back in time
            tok(" d", 2500, 2500), // zero length
            tok(" e", 2990, 3500), // runs past the end
            tok(" f", 4000, 4100), // wholly after the end
        ];
        let w = words_from_tokens(&t, seg, MIN_WORD);
        assert_eq!(texts(&w), ["a", "b", "c", "d", "e", "f"]);
        assert_well_formed(&w, seg, MIN_WORD);
        assert_eq!(w[0].start, ms(1000));
        assert_eq!(w[0].end, ms(1100), "cut back at b's start");
        assert_eq!(
            (w[3].start, w[3].end),
            (ms(2500), ms(2520)),
            "zero length → 20 ms"
        );
        assert_eq!(w[5].end, ms(3000));
    }

    #[test]
    fn zero_length_words_get_the_minimum_and_push_their_neighbours() {
        let seg = Span::new(ms(0), ms(1000));
        let t = [
            tok(" a", 500, 500),
            tok(" b", 500, 500),
            tok(" c", 500, 500),
        ];
        let w = words_from_tokens(&t, seg, MIN_WORD);
        assert_eq!(
            w.iter().map(|w| (w.start, w.end)).collect::<Vec<_>>(),
            [(ms(500), ms(520)), (ms(520), ms(540)), (ms(540), ms(560))]
        );
        // Crowded at the segment's end: pulled back inside.
        let t = [
            tok(" a", 990, 990),
            tok(" b", 1000, 1000),
            tok(" c", 1200, 1300),
        ];
        let w = words_from_tokens(&t, seg, MIN_WORD);
        assert_well_formed(&w, seg, MIN_WORD);
        assert_eq!(w[2].end, ms(1000));
        assert_eq!(w[0].start, ms(940));
    }

    #[test]
    fn a_segment_too_short_for_the_minimum_is_shared_evenly() {
        let seg = Span::new(ms(100), ms(130));
        let t = [
            tok(" a", 100, 100),
            tok(" b", 100, 100),
            tok(" c", 100, 100),
        ];
        let w = words_from_tokens(&t, seg, MIN_WORD);
        assert_well_formed(&w, seg, MIN_WORD);
        assert_eq!(
            w.iter().map(|w| w.end - w.start).collect::<Vec<_>>(),
            [ms(10); 3]
        );
    }

    #[test]
    fn word_time_invariants_hold_on_random_input() {
        let mut rng = crate::testutil::Rng::new(0x9e37_79b9_7f4a_7c15u64);
        let mut next = |m: i64| rng.below(m);
        for _ in 0..2000 {
            let s = next(5000);
            let seg = Span::new(ms(s), ms(s + 40 + next(3000)));
            let n = 1 + next(12);
            let t: Vec<TokenTiming> = (0..n)
                .map(|i| {
                    let a = s - 500 + next(4000);
                    let text = if next(4) == 0 {
                        "字".to_string()
                    } else {
                        format!(" w{i}")
                    };
                    tok(&text, a, a + next(600) - 100)
                })
                .collect();
            let w = words_from_tokens(&t, seg, MIN_WORD);
            assert!(!w.is_empty());
            assert_well_formed(&w, seg, MIN_WORD);
        }
    }

    #[test]
    fn widen_grows_short_segments_within_bounds() {
        let s = widen(Span::new(ms(500), ms(500)), ms(60), ms(0), ms(10_000));
        assert_eq!(s, Span::new(ms(500), ms(560)));
        let s = widen(Span::new(ms(990), ms(1000)), ms(60), ms(950), ms(1000));
        assert_eq!(s, Span::new(ms(950), ms(1000)));
    }

    fn opts() -> TranscribeOptions {
        TranscribeOptions::default()
    }

    #[test]
    fn audio_ctx_fits_short_calls_and_keeps_the_full_window_for_long_ones() {
        let secs = |s: f64| (s * 16_000.0) as usize;
        assert_eq!(
            audio_ctx_for(secs(12.0), 1500, Some(500)),
            640,
            "600 + 25, rounded up"
        );
        assert_eq!(
            audio_ctx_for(secs(5.0), 1500, Some(500)),
            512,
            "at least the minimum"
        );
        assert_eq!(audio_ctx_for(secs(5.0), 1500, Some(100)), 288);
        assert_eq!(audio_ctx_for(secs(28.0), 1500, Some(500)), 1440);
        assert_eq!(
            audio_ctx_for(secs(29.5), 1500, Some(500)),
            0,
            "needs the whole window"
        );
        assert_eq!(audio_ctx_for(secs(75.0), 1500, Some(500)), 0);
        assert_eq!(audio_ctx_for(secs(12.0), 1500, None), 0);
        // The default minimum: 15 s of encoder for anything shorter.
        assert_eq!(audio_ctx_for(secs(3.0), 1500, Some(MIN_AUDIO_CTX)), 768);
        assert_eq!(audio_ctx_for(secs(20.0), 1500, Some(MIN_AUDIO_CTX)), 1056);
    }

    #[test]
    fn default_options_are_valid_and_use_at_most_four_threads() {
        let o = opts();
        assert!((1..=4).contains(&o.threads));
        assert_eq!(o.language, None);
        assert!(o.word_timestamps && !o.translate);
        assert_eq!(o.resolve(true, "m").unwrap(), Resolved { language: None });
    }

    #[test]
    fn languages_are_normalised_to_whisper_codes() {
        let with = |l: &str| TranscribeOptions {
            language: Some(l.into()),
            ..opts()
        };
        assert_eq!(with("zh").resolve(true, "m").unwrap().language, Some("zh"));
        assert_eq!(
            with(" ZH ").resolve(true, "m").unwrap().language,
            Some("zh")
        );
        assert_eq!(
            with("german").resolve(true, "m").unwrap().language,
            Some("de")
        );
        assert_eq!(with("Auto").resolve(true, "m").unwrap().language, None);
        assert_eq!(with("").resolve(true, "m").unwrap().language, None);
        for bad in ["xx", "klingon", "z\0h"] {
            let e = with(bad).resolve(true, "m").unwrap_err();
            assert!(matches!(e, AsrError::UnknownLanguage(_)), "{bad}: {e}");
        }
    }

    #[test]
    fn english_only_models_refuse_other_languages_and_translation() {
        let with = |l: Option<&str>, translate: bool| TranscribeOptions {
            language: l.map(Into::into),
            translate,
            ..opts()
        };
        let en = "ggml-tiny.en.bin";
        assert_eq!(
            with(None, false).resolve(false, en).unwrap().language,
            Some("en")
        );
        assert_eq!(
            with(Some("english"), false)
                .resolve(false, en)
                .unwrap()
                .language,
            Some("en")
        );
        let e = with(Some("zh"), false).resolve(false, en).unwrap_err();
        assert!(matches!(e, AsrError::EnglishOnlyLanguage { .. }));
        assert!(
            e.to_string().contains(en) && e.to_string().contains("\"zh\""),
            "{e}"
        );
        let e = with(None, true).resolve(false, en).unwrap_err();
        assert!(matches!(e, AsrError::EnglishOnlyTranslate { .. }), "{e}");
        assert!(with(Some("zh"), true).resolve(true, "base").is_ok());
    }

    #[test]
    fn invalid_numeric_options_are_refused() {
        let cases = [
            TranscribeOptions {
                threads: 0,
                ..opts()
            },
            TranscribeOptions {
                no_speech_threshold: 1.5,
                ..opts()
            },
            TranscribeOptions {
                no_speech_threshold: f32::NAN,
                ..opts()
            },
            TranscribeOptions {
                logprob_threshold: 0.5,
                ..opts()
            },
            TranscribeOptions {
                entropy_threshold: 0.0,
                ..opts()
            },
            TranscribeOptions {
                temperature_increment: -0.1,
                ..opts()
            },
            TranscribeOptions {
                initial_prompt: Some("a\0b".into()),
                ..opts()
            },
        ];
        for o in cases {
            let e = o.resolve(true, "m").unwrap_err();
            assert!(matches!(e, AsrError::InvalidOption(_)), "{o:?}: {e}");
        }
        assert!(TranscribeOptions {
            temperature_increment: 0.0,
            ..opts()
        }
        .resolve(true, "m")
        .is_ok());
    }

    fn rt(text: &str, p: f32, t0: i64, t1: i64, t_dtw: i64) -> RawToken {
        RawToken {
            bytes: text.as_bytes().to_vec(),
            special: text.starts_with('['),
            p,
            plog: p.ln(),
            t0,
            t1,
            t_dtw,
        }
    }

    #[test]
    fn safeguards_drop_silence_repeats_and_padding() {
        let seg = |t0, t1, no_speech, toks: Vec<RawToken>| RawSegment {
            t0,
            t1,
            no_speech,
            tokens: toks,
        };
        let raw = vec![
            seg(
                0,
                100,
                0.1,
                vec![rt("[_BEG_]", 1.0, 0, 0, -1), rt(" Hello", 0.9, 0, 80, -1)],
            ),
            // Repeats the previous text verbatim: a hallucination loop.
            seg(100, 200, 0.1, vec![rt(" Hello", 0.9, 100, 180, -1)]),
            // Likely silence: high no-speech probability and low confidence.
            seg(200, 300, 0.9, vec![rt(" Thanks", 0.2, 200, 280, -1)]),
            // High no-speech probability but confident: kept.
            seg(300, 400, 0.9, vec![rt(" world", 0.95, 300, 380, -1)]),
            // Only special tokens.
            seg(400, 450, 0.1, vec![rt("[_TT_450]", 1.0, 450, 450, -1)]),
            // Decoded from the padding after the audio's end.
            seg(500, 600, 0.1, vec![rt(" ghost", 0.9, 500, 600, -1)]),
        ];
        let out = build_segments(&raw, ms(4500), &opts());
        let got: Vec<_> = out
            .iter()
            .map(|s| (s.text.as_str(), s.start, s.end))
            .collect();
        assert_eq!(
            got,
            [("Hello", ms(0), ms(1000)), ("world", ms(3000), ms(4000))]
        );
        assert_eq!(out[1].no_speech_probability, 0.9);
        assert_eq!(texts(&out[0].words), ["Hello"]);
        assert_eq!(
            (out[0].words[0].start, out[0].words[0].end),
            (ms(0), ms(800))
        );
    }

    #[test]
    fn dtw_onsets_start_words_and_token_ends_end_them() {
        let toks = vec![
            rt("[_BEG_]", 1.0, 0, 0, -1),
            rt(" ask", 0.9, 10, 60, 30),
            rt(" not", 0.9, 60, 150, 70),
            rt("[_TT_150]", 1.0, 150, 150, -1),
        ];
        let raw = vec![RawSegment {
            t0: 0,
            t1: 150,
            no_speech: 0.0,
            tokens: toks,
        }];
        let out = build_segments(&raw, ms(5000), &opts());
        let w = &out[0].words;
        assert_eq!((w[0].start, w[0].end), (ms(300), ms(600)));
        assert_eq!((w[1].start, w[1].end), (ms(700), ms(1500)));
        // Without word timestamps: no words, the text stays.
        let o = TranscribeOptions {
            word_timestamps: false,
            ..opts()
        };
        let out = build_segments(&raw, ms(5000), &o);
        assert!(out[0].words.is_empty());
        assert_eq!(out[0].text, "ask not");
    }

    #[test]
    fn weight_buffers_come_from_the_load_log() {
        // As whisper.cpp 1.8 logs a load (`%12s total size = %8.2f MB`), with other lines
        // around that must not count.
        let log = "whisper_model_load: n_vocab       = 51865\n\
                   whisper_model_load:          CPU total size =    34.21 MB\n\
                   whisper_model_load:          AMX total size =    52.43 MB\n\
                   whisper_model_load: model size    =   86.64 MB\n\
                   whisper_init_state: compute buffer (conv)   =   13.19 MB\n\
                   whisper_model_load:   CPU_REPACK total size =     1.50 MB\n";
        assert_eq!(
            weight_buffers(log),
            [
                WeightBuffer {
                    name: "CPU".into(),
                    bytes: 34_210_000
                },
                WeightBuffer {
                    name: "AMX".into(),
                    bytes: 52_430_000
                },
                WeightBuffer {
                    name: "CPU_REPACK".into(),
                    bytes: 1_500_000
                },
            ]
        );
        assert!(weight_buffers("").is_empty());
        assert!(weight_buffers("whisper_model_load: total size = x MB\n").is_empty());
    }

    #[test]
    fn dtw_presets_follow_the_model_shape() {
        let h = |n_vocab, n_text_layer, n_audio_state| ModelHeader {
            n_vocab,
            n_audio_ctx: 1500,
            n_audio_state,
            n_audio_head: 6,
            n_audio_layer: n_text_layer,
            n_text_ctx: 448,
            n_text_state: n_audio_state,
            n_text_head: 6,
            n_text_layer,
            n_mels: 80,
            ftype: 1,
        };
        let name = |p: Option<DtwModelPreset>| p.map(|p| format!("{p:?}"));
        assert_eq!(
            name(dtw_preset(&h(51864, 4, 384))).as_deref(),
            Some("TinyEn")
        );
        assert_eq!(name(dtw_preset(&h(51865, 6, 512))).as_deref(), Some("Base"));
        assert_eq!(
            name(dtw_preset(&h(51865, 24, 1024))).as_deref(),
            Some("Medium")
        );
        assert_eq!(
            name(dtw_preset(&h(51866, 4, 1280))).as_deref(),
            Some("LargeV3Turbo")
        );
        assert_eq!(
            name(dtw_preset(&h(51865, 32, 1280))),
            None,
            "large v1/v2 are ambiguous"
        );
        assert_eq!(name(dtw_preset(&h(51866, 2, 1280))), None, "distilled");
    }

    /// Writes a minimal ggml file: header, a 1×1 filter bank, `tokens`, then `tensors`
    /// (name, f32 element count, data bytes actually written).
    fn ggml_file(dir: &Path, name: &str, magic: &[u8], tensors: &[(&str, i32, usize)]) -> PathBuf {
        let mut b = magic.to_vec();
        for v in [51864, 1500, 384, 6, 4, 448, 384, 6, 4, 80, 1, 1, 1] {
            b.extend_from_slice(&i32::to_le_bytes(v));
        }
        b.extend_from_slice(&0f32.to_le_bytes());
        b.extend_from_slice(&1i32.to_le_bytes());
        b.extend_from_slice(&2i32.to_le_bytes());
        b.extend_from_slice(b"hi");
        for (tname, n, written) in tensors {
            for v in [1, tname.len() as i32, 0, *n] {
                b.extend_from_slice(&v.to_le_bytes());
            }
            b.extend_from_slice(tname.as_bytes());
            b.resize(b.len() + *written, 0);
        }
        let path = dir.join(name);
        std::fs::write(&path, b).unwrap();
        path
    }

    #[test]
    fn model_files_are_checked_with_one_line_errors() {
        let dir = std::env::temp_dir().join(format!("subcut-whisper-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let magic = GGML_MAGIC.to_le_bytes();

        let ok = ggml_file(&dir, "ok.bin", &magic, &[("a", 4, 16), ("b", 2, 8)]);
        let h = read_model_header(&ok).unwrap();
        assert_eq!(
            (h.n_vocab, h.n_text_layer, h.n_audio_state),
            (51864, 4, 384)
        );

        let cut = ggml_file(&dir, "cut.bin", &magic, &[("a", 4, 16), ("b", 100, 8)]);
        let e = read_model_header(&cut).unwrap_err();
        assert!(matches!(e, AsrError::Truncated { .. }), "{e}");
        assert!(
            e.to_string().contains("cut.bin") && e.to_string().contains("tensor b"),
            "{e}"
        );

        let bare = ggml_file(&dir, "bare.bin", &magic, &[]);
        assert!(matches!(
            read_model_header(&bare),
            Err(AsrError::Truncated { .. })
        ));

        let gguf = ggml_file(&dir, "llm.gguf", b"GGUF", &[]);
        let e = read_model_header(&gguf).unwrap_err();
        assert!(
            matches!(e, AsrError::NotAModel { .. }) && e.to_string().contains("GGUF"),
            "{e}"
        );

        let text = dir.join("notes.txt");
        std::fs::write(&text, "hello, this is not a model").unwrap();
        assert!(matches!(
            read_model_header(&text),
            Err(AsrError::NotAModel { .. })
        ));

        let empty = dir.join("empty.bin");
        std::fs::write(&empty, b"").unwrap();
        assert!(matches!(
            read_model_header(&empty),
            Err(AsrError::NotAModel { .. })
        ));

        let e = read_model_header(&dir.join("missing.bin")).unwrap_err();
        assert!(matches!(e, AsrError::ModelIo { .. }) && e.to_string().contains("missing.bin"));
        for e in [e, read_model_header(&cut).unwrap_err()] {
            assert!(!e.to_string().contains('\n'), "one line: {e}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
