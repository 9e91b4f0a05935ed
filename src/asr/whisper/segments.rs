//! whisper's segments → ours: the safeguards that drop hallucinated or empty segments, and
//! each segment's text and words on the media timeline.

use super::words::{group_words, words_from_tokens, TokenTiming, MIN_WORD};
use crate::asr::TranscribeOptions;
use crate::time::{Span, Time};
use crate::transcript::Segment;

/// A token as whisper.cpp reports it (times in centiseconds, -1 = unknown).
#[derive(Clone, Debug)]
pub(super) struct RawToken {
    pub(super) bytes: Vec<u8>,
    pub(super) special: bool,
    pub(super) p: f32,
    pub(super) plog: f32,
    pub(super) t0: i64,
    pub(super) t1: i64,
    pub(super) t_dtw: i64,
}

#[derive(Clone, Debug)]
pub(super) struct RawSegment {
    pub(super) t0: i64,
    pub(super) t1: i64,
    pub(super) no_speech: f32,
    pub(super) tokens: Vec<RawToken>,
}

/// whisper.cpp centiseconds → [`Time`].
fn cs(t: i64) -> Time {
    Time::from_millis(t.saturating_mul(10))
}

/// Applies the safeguards and turns whisper's segments into ours (see the `whisper` module
/// documentation).
pub(super) fn build_segments(
    raw: &[RawSegment],
    audio_end: Time,
    opts: &TranscribeOptions,
) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    for seg in raw {
        let text_tokens: Vec<&RawToken> = seg.tokens.iter().filter(|t| !t.special).collect();
        if text_tokens.is_empty() {
            continue;
        }
        let avg_logprob =
            text_tokens.iter().map(|t| t.plog).sum::<f32>() / text_tokens.len() as f32;
        if seg.no_speech > opts.no_speech_threshold && avg_logprob < opts.whisper.logprob_threshold
        {
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
            language: String::new(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::Word;

    fn ms(v: i64) -> Time {
        Time::from_millis(v)
    }

    fn texts(words: &[Word]) -> Vec<&str> {
        words.iter().map(|w| w.text.as_str()).collect()
    }

    fn opts() -> TranscribeOptions {
        TranscribeOptions::default()
    }

    #[test]
    fn widen_grows_short_segments_within_bounds() {
        let s = widen(Span::new(ms(500), ms(500)), ms(60), ms(0), ms(10_000));
        assert_eq!(s, Span::new(ms(500), ms(560)));
        let s = widen(Span::new(ms(990), ms(1000)), ms(60), ms(950), ms(1000));
        assert_eq!(s, Span::new(ms(950), ms(1000)));
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
}
