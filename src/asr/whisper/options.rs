//! The options only whisper.cpp understands ([`WhisperOptions`]), the encoder context of a
//! short call ([`audio_ctx_for`]), and the check of a call's options against a model.

use super::engine::silence_whisper;
use super::AsrError;
use crate::asr::TranscribeOptions;
use crate::time::SAMPLE_RATE;

/// What only whisper.cpp understands: its temperature fallback and thresholds, and how much of
/// the encoder a short call uses. The [`TranscribeOptions::whisper`] of a call.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WhisperOptions {
    /// A segment whose no-speech probability exceeds
    /// [`TranscribeOptions::no_speech_threshold`] and whose average token log-probability is
    /// below this is dropped. whisper.cpp also retries a window at a higher temperature when
    /// its average log-probability is below it.
    pub logprob_threshold: f32,
    /// Retry a window at a higher temperature when its token entropy exceeds this (repetitive
    /// output); whisper.cpp's stand-in for OpenAI's compression-ratio threshold.
    pub entropy_threshold: f32,
    /// Temperature step of the fallback (0 disables fallback: pure greedy decoding).
    pub temperature_increment: f32,
    /// Shrink the encoder to the audio of a short call (whisper.cpp's `audio_ctx`): whisper
    /// always encodes 30 s, so a 12 s window pays for 18 s of padding. `None` encodes the
    /// full 30 s; `Some(min)` uses the audio's length plus a margin, at least `min` encoder
    /// positions (50 per second), see [`audio_ctx_for`]. Default: `MIN_AUDIO_CTX`
    /// (`SUBCUT_AUDIO_CTX` changes it, see [`TranscribeOptions::with_knobs`]).
    pub audio_ctx: Option<usize>,
    /// Print on stderr what each call did: its length and `audio_ctx`, encoder passes, time in
    /// `full()` and in the encoder, decoder steps (`SUBCUT_DEBUG_WINDOWS`).
    pub debug_windows: bool,
    /// Beam search with this many beams (whisper.cpp's `beam_size`); 1: greedy decoding, the
    /// default (docs/BENCH.md has what beams cost and gain).
    pub beam_size: usize,
}

impl Default for WhisperOptions {
    fn default() -> Self {
        WhisperOptions {
            logprob_threshold: -1.0,
            entropy_threshold: 2.4,
            temperature_increment: 0.2,
            audio_ctx: Some(MIN_AUDIO_CTX),
            debug_windows: false,
            beam_size: 1,
        }
    }
}

/// The most beams whisper.cpp decodes with (its `WHISPER_MAX_DECODERS`).
pub const MAX_BEAM_SIZE: usize = 8;

/// whisper's encoder positions per second of audio (1500 for its 30 s window).
pub const AUDIO_CTX_PER_SEC: usize = 50;
/// The fewest encoder positions [`WhisperOptions::audio_ctx`] shrinks to by default
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
    let covered = n_samples.div_ceil(SAMPLE_RATE as usize / AUDIO_CTX_PER_SEC);
    let ctx = (covered + AUDIO_CTX_MARGIN)
        .max(min)
        .next_multiple_of(AUDIO_CTX_STEP);
    if ctx >= n_audio_ctx {
        0
    } else {
        ctx
    }
}

/// The language decision for one call: `None` = let whisper detect it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Resolved {
    pub(super) language: Option<&'static str>,
}

/// Checks a call's options against a model (`multilingual`, its file name for messages) and
/// normalises the language to whisper's code.
pub(super) fn resolve(
    opts: &TranscribeOptions,
    multilingual: bool,
    model: &str,
) -> Result<Resolved, AsrError> {
    silence_whisper();
    check(opts)?;
    let language = language_code(opts.language.as_deref())?;
    if !multilingual {
        if opts.translate {
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

/// The numbers in range, the prompt without NUL.
fn check(o: &TranscribeOptions) -> Result<(), AsrError> {
    let w = &o.whisper;
    if o.threads == 0 {
        return Err(AsrError::InvalidOption("threads must be at least 1".into()));
    }
    if !(0.0..=1.0).contains(&o.no_speech_threshold) {
        return Err(AsrError::InvalidOption(format!(
            "no-speech threshold {} is not in 0..=1",
            o.no_speech_threshold
        )));
    }
    if !w.logprob_threshold.is_finite() || w.logprob_threshold > 0.0 {
        return Err(AsrError::InvalidOption(format!(
            "log-probability threshold {} must be a finite value ≤ 0",
            w.logprob_threshold
        )));
    }
    if !w.entropy_threshold.is_finite() || w.entropy_threshold <= 0.0 {
        return Err(AsrError::InvalidOption(format!(
            "entropy threshold {} must be a finite value > 0",
            w.entropy_threshold
        )));
    }
    if !(1..=MAX_BEAM_SIZE).contains(&w.beam_size) {
        return Err(AsrError::InvalidOption(format!(
            "beam size {} is not in 1..={MAX_BEAM_SIZE}",
            w.beam_size
        )));
    }
    if !(0.0..=1.0).contains(&w.temperature_increment) {
        return Err(AsrError::InvalidOption(format!(
            "temperature increment {} is not in 0..=1",
            w.temperature_increment
        )));
    }
    if o.initial_prompt
        .as_deref()
        .is_some_and(|p| p.contains('\0'))
    {
        return Err(AsrError::InvalidOption(
            "the initial prompt contains a NUL character".into(),
        ));
    }
    Ok(())
}

/// whisper's code for an ISO 639-1 code or English name (`None` for automatic detection).
fn language_code(language: Option<&str>) -> Result<Option<&'static str>, AsrError> {
    Ok(match language.map(str::trim) {
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
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn default_options_are_valid() {
        let o = opts();
        assert_eq!(o.threads, 1);
        assert_eq!(o.language, None);
        assert!(o.word_timestamps && !o.translate);
        assert_eq!(resolve(&o, true, "m").unwrap(), Resolved { language: None });
    }

    #[test]
    fn languages_are_normalised_to_whisper_codes() {
        let with = |l: &str| TranscribeOptions {
            language: Some(l.into()),
            ..opts()
        };
        assert_eq!(
            resolve(&with("zh"), true, "m").unwrap().language,
            Some("zh")
        );
        assert_eq!(
            resolve(&with(" ZH "), true, "m").unwrap().language,
            Some("zh")
        );
        assert_eq!(
            resolve(&with("german"), true, "m").unwrap().language,
            Some("de")
        );
        assert_eq!(resolve(&with("Auto"), true, "m").unwrap().language, None);
        assert_eq!(resolve(&with(""), true, "m").unwrap().language, None);
        for bad in ["xx", "klingon", "z\0h"] {
            let e = resolve(&with(bad), true, "m").unwrap_err();
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
            resolve(&with(None, false), false, en).unwrap().language,
            Some("en")
        );
        assert_eq!(
            resolve(&with(Some("english"), false), false, en)
                .unwrap()
                .language,
            Some("en")
        );
        let e = resolve(&with(Some("zh"), false), false, en).unwrap_err();
        assert!(matches!(e, AsrError::EnglishOnlyLanguage { .. }));
        assert!(
            e.to_string().contains(en) && e.to_string().contains("\"zh\""),
            "{e}"
        );
        let e = resolve(&with(None, true), false, en).unwrap_err();
        assert!(matches!(e, AsrError::EnglishOnlyTranslate { .. }), "{e}");
        assert!(resolve(&with(Some("zh"), true), true, "base").is_ok());
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
                whisper: WhisperOptions {
                    logprob_threshold: 0.5,
                    ..WhisperOptions::default()
                },
                ..opts()
            },
            TranscribeOptions {
                whisper: WhisperOptions {
                    entropy_threshold: 0.0,
                    ..WhisperOptions::default()
                },
                ..opts()
            },
            TranscribeOptions {
                whisper: WhisperOptions {
                    temperature_increment: -0.1,
                    ..WhisperOptions::default()
                },
                ..opts()
            },
            TranscribeOptions {
                initial_prompt: Some("a\0b".into()),
                ..opts()
            },
        ];
        for o in cases {
            let e = resolve(&o, true, "m").unwrap_err();
            assert!(matches!(e, AsrError::InvalidOption(_)), "{o:?}: {e}");
        }
        let greedy = TranscribeOptions {
            whisper: WhisperOptions {
                temperature_increment: 0.0,
                ..WhisperOptions::default()
            },
            ..opts()
        };
        assert!(resolve(&greedy, true, "m").is_ok());
    }
}
