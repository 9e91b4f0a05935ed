//! The whisper.cpp engine itself: loading a model, the parameters of `full()`, reading its
//! segments, and whisper.cpp's logging and callbacks.

use std::ffi::{c_int, c_void};
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::time::{Duration, Instant};

use whisper_rs::{
    DtwMode, DtwModelPreset, DtwParameters, FullParams, SamplingStrategy, WhisperContext,
    WhisperContextParameters, WhisperState, WhisperSysContext, WhisperSysState,
};

use super::options::{audio_ctx_for, resolve, Resolved};
use super::segments::{build_segments, RawSegment, RawToken};
use super::AsrError;
use crate::asr::model::{read_header, GgmlHeader};
use crate::asr::{windows, TranscribeOptions, Transcriber};
use crate::time::{Span, Time, SAMPLE_RATE};
use crate::transcript::Transcript;

/// `full()` returns nothing for less than a second of audio: shorter input is padded.
const MIN_SAMPLES: usize = SAMPLE_RATE as usize;

/// A loaded whisper.cpp model. Cheap to share: every [`transcribe`](Whisper::transcribe)
/// call makes its own state, so one `Whisper` serves several threads.
pub struct Whisper {
    ctx: WhisperContext,
    name: String,
    header: GgmlHeader,
    dtw: bool,
    weights: Vec<WeightBuffer>,
}

/// One ggml buffer holding model weights, as whisper.cpp reports it when loading: `CPU`
/// (plain), `CPU_REPACK` (rows interleaved for the AVX2/AVX-512 GEMM kernels) or `AMX`
/// (packed into tiles for Intel AMX). Where a weight goes decides which kernel multiplies it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct WeightBuffer {
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
    /// token timestamps (see the `whisper` module documentation for why not DTW).
    pub fn load(model: &Path) -> Result<Whisper, AsrError> {
        Whisper::load_with_dtw(model, false)
    }

    /// Like [`load`](Whisper::load); `dtw: true` also enables whisper.cpp's experimental DTW
    /// token timing when the model's shape matches an alignment-heads preset (`dtw_preset`;
    /// [`uses_dtw`](Whisper::uses_dtw) tells whether it did). For comparisons and for
    /// later whisper.cpp versions.
    pub fn load_with_dtw(model: &Path, dtw: bool) -> Result<Whisper, AsrError> {
        silence_whisper();
        let header = read_header(model)?;
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
    pub(crate) fn weight_buffers(&self) -> &[WeightBuffer] {
        &self.weights
    }

    pub(crate) fn is_multilingual(&self) -> bool {
        self.ctx.is_multilingual()
    }

    /// Whether word onsets come from DTW (see the `whisper` module documentation).
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
    pub(crate) fn new_state(&self) -> Result<WhisperState, AsrError> {
        Ok(self.ctx.create_state()?)
    }

    /// [`transcribe`](Whisper::transcribe) with a caller-owned state.
    pub(crate) fn transcribe_in(
        &self,
        state: &mut WhisperState,
        samples: &[f32],
        opts: &TranscribeOptions,
        progress: &mut dyn FnMut(f32),
    ) -> Result<Transcript, AsrError> {
        let resolved = resolve(opts, self.is_multilingual(), &self.name)?;
        if samples.is_empty() {
            return Err(AsrError::NoAudio);
        }
        if !samples.iter().all(|s| s.is_finite()) {
            return Err(AsrError::InvalidOption(
                "the audio contains NaN or infinite samples".into(),
            ));
        }
        let audio_end = Time::from_samples(samples.len(), SAMPLE_RATE);
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
        let mut stats = WindowStats::default();
        let mut params = self.full_params(opts, resolved, input.len());
        // SAFETY: the callbacks only cast `user_data` back to the `ProgressSink` and the
        // `WindowStats` that live on this stack frame until `full()` has returned; whisper.cpp
        // calls them from this thread.
        unsafe {
            params.set_progress_callback(Some(progress_trampoline));
            params.set_progress_callback_user_data(&mut sink as *mut ProgressSink as *mut c_void);
            if opts.whisper.debug_windows {
                let stats = &mut stats as *mut WindowStats as *mut c_void;
                params.set_start_encoder_callback(Some(count_encoder_pass));
                params.set_start_encoder_callback_user_data(stats);
                params.set_filter_logits_callback(Some(count_decoder_step));
                params.set_filter_logits_callback_user_data(stats);
            }
        }
        let t0 = Instant::now();
        let result = state.full(params, input);
        if opts.whisper.debug_windows {
            eprintln!(
                "window {:.2} s: audio_ctx {}, {} encoder pass(es), {:.2} s in full(), ~{:.2} s encoding, {} decoder steps",
                input.len() as f64 / SAMPLE_RATE as f64,
                audio_ctx_for(input.len(), self.header.n_audio_ctx as usize, opts.whisper.audio_ctx),
                stats.encoder_passes,
                t0.elapsed().as_secs_f64(),
                stats.encoding.as_secs_f64(),
                stats.decoder_steps,
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
        let segments = build_segments(&self.raw_segments(state), audio_end, opts);
        sink.report(1.0);
        Ok(Transcript { language, segments })
    }

    /// The segments and tokens of the last `full()` on `state`, as whisper.cpp reports them.
    fn raw_segments(&self, state: &WhisperState) -> Vec<RawSegment> {
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
        raw
    }

    /// A bare whisper-rs `full()` over `samples` with exactly the parameters
    /// [`transcribe`](Whisper::transcribe) uses, and nothing else: no progress callback, no
    /// token reading, no post-processing. Returns the number of segments. For the benchmark
    /// that checks the pipeline adds no cost around the engine.
    #[doc(hidden)]
    pub fn bare_full(&self, samples: &[f32], opts: &TranscribeOptions) -> Result<usize, AsrError> {
        let resolved = resolve(opts, self.is_multilingual(), &self.name)?;
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
        let mut p = FullParams::new(if opts.whisper.beam_size > 1 {
            SamplingStrategy::BeamSearch {
                beam_size: opts.whisper.beam_size.min(c_int::MAX as usize) as c_int,
                patience: -1.0,
            }
        } else {
            SamplingStrategy::Greedy { best_of: 1 }
        });
        p.set_n_threads(opts.threads.min(c_int::MAX as usize) as c_int);
        let ctx = audio_ctx_for(
            n_samples,
            self.header.n_audio_ctx as usize,
            opts.whisper.audio_ctx.filter(|_| !self.dtw),
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
        p.set_temperature_inc(opts.whisper.temperature_increment);
        p.set_entropy_thold(opts.whisper.entropy_threshold);
        p.set_logprob_thold(opts.whisper.logprob_threshold);
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
pub(crate) fn engine_features() -> &'static str {
    silence_whisper();
    whisper_rs::print_system_info()
        .trim_end()
        .trim_end_matches('|')
        .trim_end()
}

/// Routes ggml's logging into whisper-rs's hook, which (without the `log` or `tracing`
/// features) discards it, and whisper.cpp's into [`whisper_log_sink`], which discards it
/// too unless [`with_whisper_log`] is listening. Idempotent.
pub(super) fn silence_whisper() {
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

/// What one `full()` call did, counted by whisper.cpp's callbacks when
/// [`WhisperOptions::debug_windows`](super::WhisperOptions::debug_windows) is on: encoder
/// passes (whisper.cpp encodes again from its last timestamp when a window's text ends
/// early), decoder steps, and the time from each encoder start to the first decoder step
/// after it (the encoder's share).
#[derive(Default)]
struct WindowStats {
    encoder_passes: usize,
    decoder_steps: usize,
    encoding: Duration,
    encoder_started: Option<Instant>,
}

unsafe extern "C" fn count_encoder_pass(
    _: *mut WhisperSysContext,
    _: *mut WhisperSysState,
    user_data: *mut c_void,
) -> bool {
    // SAFETY: see `transcribe_in`: user_data is the live `WindowStats` of the calling frame.
    let stats = unsafe { &mut *(user_data as *mut WindowStats) };
    stats.encoder_passes += 1;
    stats.encoder_started = Some(Instant::now());
    true
}

unsafe extern "C" fn count_decoder_step(
    _: *mut WhisperSysContext,
    _: *mut WhisperSysState,
    _: *const whisper_rs::WhisperTokenData,
    _: c_int,
    _: *mut f32,
    user_data: *mut c_void,
) {
    // SAFETY: as in `count_encoder_pass`.
    let stats = unsafe { &mut *(user_data as *mut WindowStats) };
    stats.decoder_steps += 1;
    if let Some(t) = stats.encoder_started.take() {
        stats.encoding += t.elapsed();
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

/// whisper.cpp's alignment-heads preset for a standard model shape: n_vocab 51864 = `.en`,
/// 51865 = multilingual (v1/v2), 51866 = large-v3 family; tiny/base/small/medium/large from
/// the text layers and audio width. `None` for shapes whose heads are not known (large v1 and
/// v2 share one shape but not their heads; distilled and other custom models).
pub(crate) fn dtw_preset(h: &GgmlHeader) -> Option<DtwModelPreset> {
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

impl Transcriber for Whisper {
    fn transcribe(
        &self,
        samples: &[f32],
        opts: &TranscribeOptions,
        progress: &mut dyn FnMut(f32),
    ) -> anyhow::Result<Transcript> {
        Ok(Whisper::transcribe(self, samples, opts, progress)?)
    }

    /// One decoding state for all windows: its buffers are allocated once.
    fn transcribe_windows(
        &self,
        samples: &[f32],
        windows: &[Span],
        speech: &[Span],
        opts: &TranscribeOptions,
        progress: &mut dyn FnMut(f32),
    ) -> anyhow::Result<Transcript> {
        let mut engine = Windows {
            whisper: self,
            state: self.new_state()?,
        };
        windows::transcribe(samples, windows, speech, opts, progress, &mut engine)
    }
}

/// whisper.cpp driven window by window ([`windows::WindowEngine`]), one state for all.
struct Windows<'a> {
    whisper: &'a Whisper,
    state: WhisperState,
}

impl Windows<'_> {
    /// The language probabilities of the audio whose encoder output the state holds: one
    /// decoder step from the start-of-transcript token, softmax over the language tokens
    /// (what `whisper_lang_auto_detect` does after its own encoder pass).
    fn languages(&mut self, threads: usize, debug: bool) -> Result<windows::LangProbs, AsrError> {
        let t0 = Instant::now();
        let ctx = &self.whisper.ctx;
        self.state.decode(&[ctx.token_sot()], 0, threads.max(1))?;
        let logits = self.state.get_logits()?;
        let langs: Vec<(&'static str, f32)> = (0..=whisper_rs::get_lang_max_id())
            .filter_map(|id| {
                let tok = ctx.token_lang(id) as usize;
                Some((whisper_rs::get_lang_str(id)?, *logits.get(tok)?))
            })
            .collect();
        let max = langs.iter().map(|l| l.1).fold(f32::NEG_INFINITY, f32::max);
        let sum: f64 = langs.iter().map(|l| ((l.1 - max) as f64).exp()).sum();
        let mut out: windows::LangProbs = langs
            .into_iter()
            .map(|(l, x)| (l.to_string(), (((x - max) as f64).exp() / sum) as f32))
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1));
        if debug {
            eprintln!(
                "language detection {:.3} s (one decoder step): {}",
                t0.elapsed().as_secs_f64(),
                top3(&out)
            );
        }
        Ok(out)
    }
}

/// `en 0.93, de 0.04, nl 0.01`, for the debug lines.
fn top3(p: &windows::LangProbs) -> String {
    p.iter()
        .take(3)
        .map(|(l, x)| format!("{l} {x:.2}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl windows::WindowEngine for Windows<'_> {
    /// One encoder pass over the window (with the encoder context its decoding would use)
    /// and one decoder step. whisper.cpp's `full()` sets the encoder context, so a `full()`
    /// that stops before encoding (its encoder-begin callback says no) computes the window's
    /// mel spectrogram and sets the context; `lang_detect` then encodes and reads the
    /// language tokens.
    fn detect(
        &mut self,
        w: &windows::Window,
        opts: &TranscribeOptions,
    ) -> anyhow::Result<windows::LangProbs> {
        let whisper = self.whisper;
        let t0 = Instant::now();
        if !whisper.is_multilingual() || w.audio.is_empty() {
            return Ok(Vec::new());
        }
        let padded;
        let input = if w.audio.len() < MIN_SAMPLES {
            let mut v = w.audio.to_vec();
            v.resize(MIN_SAMPLES, 0.0);
            padded = v;
            &padded[..]
        } else {
            w.audio
        };
        let prep = TranscribeOptions {
            language: Some("en".into()),
            translate: false,
            word_timestamps: false,
            initial_prompt: None,
            ..opts.clone()
        };
        let resolved = resolve(&prep, true, &whisper.name)?;
        let mut params = whisper.full_params(&prep, resolved, input.len());
        // SAFETY: a plain function that touches nothing.
        unsafe {
            params.set_start_encoder_callback(Some(stop_before_encoding));
        }
        self.state.full(params, input)?;
        let threads = opts.threads.max(1);
        let (_, probs) = self.state.lang_detect(0, threads)?;
        // Indexed by whisper's language id.
        let mut out: windows::LangProbs = probs
            .iter()
            .enumerate()
            .filter_map(|(id, &p)| Some((whisper_rs::get_lang_str(id as i32)?.to_string(), p)))
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1));
        if opts.whisper.debug_windows {
            eprintln!(
                "language detection {:.3} s (an encoder pass, {:.2} s of audio): {}",
                t0.elapsed().as_secs_f64(),
                w.audio.len() as f64 / SAMPLE_RATE as f64,
                top3(&out)
            );
        }
        Ok(out)
    }

    fn decode(
        &mut self,
        w: &windows::Window,
        opts: &TranscribeOptions,
        languages: bool,
        progress: &mut dyn FnMut(f32),
    ) -> anyhow::Result<windows::Decoded> {
        let transcript = self
            .whisper
            .transcribe_in(&mut self.state, w.audio, opts, progress)?;
        let languages = if languages && self.whisper.is_multilingual() {
            self.languages(opts.threads, opts.whisper.debug_windows)?
        } else {
            Vec::new()
        };
        Ok(windows::Decoded {
            transcript,
            languages,
        })
    }
}

unsafe extern "C" fn stop_before_encoding(
    _: *mut WhisperSysContext,
    _: *mut WhisperSysState,
    _: *mut c_void,
) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let h = |n_vocab, n_text_layer, n_audio_state| GgmlHeader {
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
}
