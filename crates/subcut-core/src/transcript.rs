//! The recogniser's output: segments of timed words, independent of any engine.

use serde::{Deserialize, Serialize};

use crate::time::{Span, Time};

/// One recognised word (for Chinese, usually one or a few characters).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Word {
    /// The word as spoken, without surrounding whitespace.
    pub text: String,
    /// When the word starts.
    pub start: Time,
    /// When it ends (exclusive).
    pub end: Time,
    /// The recogniser's confidence in 0..=1.
    pub probability: f32,
}

/// A run of speech the recogniser decoded as one unit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    /// When the segment starts.
    pub start: Time,
    /// When it ends (exclusive).
    pub end: Time,
    /// The text of the whole segment, as the recogniser wrote it.
    pub text: String,
    /// Its words in time order; empty when words were not timed.
    pub words: Vec<Word>,
    /// Probability that this window held no speech at all.
    pub no_speech_probability: f32,
    /// ISO 639-1 code of the language the segment was heard in (each window of speech is
    /// detected and decoded in its own language); empty when not known (then it is the
    /// transcript's [`language`](Transcript::language)).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub language: String,
}

impl Segment {
    pub(crate) fn span(&self) -> Span {
        Span::new(self.start, self.end)
    }
}

/// A whole file's transcription, on the media's presentation timeline.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    /// ISO 639-1 code of the spoken (or, with translation, written) language.
    pub language: String,
    /// The segments in time order.
    pub segments: Vec<Segment>,
}

impl Transcript {
    /// Every word of every segment, in order.
    pub fn words(&self) -> impl Iterator<Item = &Word> {
        self.segments.iter().flat_map(|s| s.words.iter())
    }
    /// The full text, segments joined by a space (no space between CJK segments).
    pub fn text(&self) -> String {
        join_text(self.segments.iter().map(|s| s.text.as_str()))
    }

    /// Each language's share of the speech time (its words' durations, or a segment's span
    /// when it has no timed words; a segment without a language counts as the transcript's),
    /// largest first, shares summing to 1. Empty when nothing has any duration.
    pub fn language_shares(&self) -> Vec<(String, f64)> {
        let mut by: Vec<(String, i64)> = Vec::new();
        for s in &self.segments {
            let lang = if s.language.is_empty() {
                &self.language
            } else {
                &s.language
            };
            // Speech time: the words' (pauses inside a segment do not count), or the
            // segment's span when it has no timed words.
            let d = if s.words.is_empty() {
                (s.end - s.start).0.max(0)
            } else {
                s.words.iter().map(|w| (w.end - w.start).0.max(0)).sum()
            };
            match by.iter_mut().find(|(l, _)| l == lang) {
                Some((_, t)) => *t += d,
                None => by.push((lang.clone(), d)),
            }
        }
        let total: i64 = by.iter().map(|(_, t)| t).sum();
        if total == 0 {
            return Vec::new();
        }
        by.retain(|(l, t)| *t > 0 && !l.is_empty());
        by.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        by.into_iter()
            .map(|(l, t)| (l, t as f64 / total as f64))
            .collect()
    }
}

/// Language shares as people read them: `zh 62 %, en 38 %` (whole percents, largest first).
pub fn format_shares(shares: &[(String, f64)]) -> String {
    shares
        .iter()
        .map(|(l, s)| format!("{l} {:.0} %", s * 100.0))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Speech no word was heard in: one piece of the transcribed audio.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Unheard {
    /// Where the piece's speech starts.
    pub start: Time,
    /// Where it ends.
    pub end: Time,
    /// How much measured speech it holds.
    pub speech: Time,
}

/// Pieces with less speech than this may stay without words (a breath, a click, "mm").
pub const MIN_UNHEARD: Time = Time::from_millis(500);

/// The `pieces` (sorted, disjoint spans of transcribed audio) that hold at least `min` of
/// measured `speech` but overlap none of `words`; each reported from its first to its last
/// instant of speech.
pub fn unheard(pieces: &[Span], speech: &[Span], words: &[Span], min: Time) -> Vec<Unheard> {
    let speech = crate::time::normalize(speech);
    pieces
        .iter()
        .filter_map(|p| {
            let inner: Vec<Span> = speech.iter().filter_map(|s| s.intersect(p)).collect();
            let total = crate::time::total(&inner);
            if total < min || total == Time::ZERO {
                return None;
            }
            let heard = words.iter().any(|w| {
                w.start < p.end && p.start < w.end || (w.is_empty() && p.contains(w.start))
            });
            (!heard).then(|| Unheard {
                start: inner[0].start,
                end: inner[inner.len() - 1].end,
                speech: total,
            })
        })
        .collect()
}

/// The one warning line for a file's unheard speech:
/// `3.2 s of speech without words at 00:05.2–00:13.9, 01:02.0–01:03.1`; `None` when there is
/// none.
pub fn unheard_warning(u: &[Unheard]) -> Option<String> {
    if u.is_empty() {
        return None;
    }
    let total = u.iter().fold(Time::ZERO, |a, x| a + x.speech);
    let at: Vec<String> = u
        .iter()
        .map(|x| format!("{}–{}", clock(x.start), clock(x.end)))
        .collect();
    Some(format!(
        "{:.1} s of speech without words at {}",
        total.as_secs_f64(),
        at.join(", ")
    ))
}

/// `MM:SS.d` (`H:MM:SS.d` from an hour), tenths rounded down.
fn clock(t: Time) -> String {
    let tenths = t.0.max(0) / 100_000;
    let (h, m, s, d) = (
        tenths / 36_000,
        tenths / 600 % 60,
        tenths / 10 % 60,
        tenths % 10,
    );
    if h > 0 {
        format!("{h}:{m:02}:{s:02}.{d}")
    } else {
        format!("{m:02}:{s:02}.{d}")
    }
}

/// Pieces of text (segments, words) trimmed and joined by spaces, except between two CJK
/// characters; empty pieces are left out.
pub(crate) fn join_text<'a>(pieces: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for t in pieces.into_iter().map(str::trim).filter(|t| !t.is_empty()) {
        let cjk_join =
            out.chars().last().is_some_and(is_cjk) && t.chars().next().is_some_and(is_cjk);
        if !out.is_empty() && !cjk_join {
            out.push(' ');
        }
        out.push_str(t);
    }
    out
}

/// Han ideographs, kana, hangul and CJK punctuation: scripts written without spaces.
pub fn is_cjk(c: char) -> bool {
    is_cjk_letter(c)
        || matches!(c as u32,
        0x3000..=0x303F     // CJK symbols and punctuation
        | 0xFF00..=0xFFEF) // full-width forms
}

/// Han ideographs, kana and hangul: the letters of [`is_cjk`], without its punctuation (which
/// most fonts carry; a CJK letter is what needs a CJK font).
pub fn is_cjk_letter(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF     // kana
        | 0x3400..=0x4DBF   // CJK extension A
        | 0x4E00..=0x9FFF   // CJK unified ideographs
        | 0xAC00..=0xD7AF   // Hangul syllables
        | 0xF900..=0xFAFF   // CJK compatibility ideographs
        | 0x20000..=0x2FA1F)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(a: f64, b: f64, lang: &str) -> Segment {
        Segment {
            start: Time::from_secs_f64(a),
            end: Time::from_secs_f64(b),
            text: "x".into(),
            words: Vec::new(),
            no_speech_probability: 0.0,
            language: lang.into(),
        }
    }

    #[test]
    fn language_shares_are_by_speech_time() {
        let t = Transcript {
            language: "zh".into(),
            segments: vec![seg(0.0, 3.1, "zh"), seg(4.0, 5.9, "en"), seg(6.0, 9.2, "")],
        };
        let shares = t.language_shares();
        assert_eq!(shares[0].0, "zh");
        assert!((shares[0].1 - 6.3 / 8.2).abs() < 1e-9, "{shares:?}");
        assert_eq!(format_shares(&shares), "zh 77 %, en 23 %");
        // Timed words count, not the pauses between them.
        let mut en = seg(10.0, 20.0, "en");
        en.words = vec![Word {
            text: "hi".into(),
            start: Time::from_secs_f64(10.0),
            end: Time::from_secs_f64(10.5),
            probability: 1.0,
        }];
        let t = Transcript {
            language: "zh".into(),
            segments: vec![seg(0.0, 2.0, "zh"), en],
        };
        assert_eq!(format_shares(&t.language_shares()), "zh 80 %, en 20 %");
        assert!(Transcript::default().language_shares().is_empty());
    }

    #[test]
    fn unheard_pieces_are_those_with_enough_speech_and_no_word() {
        let s = Span::secs;
        let pieces = [s(0.0, 3.0), s(4.6, 14.2), s(20.0, 21.0), s(30.0, 33.0)];
        let speech = [
            s(0.4, 2.7),
            s(5.2, 9.0),
            s(9.5, 13.9),
            s(20.4, 20.7),
            s(30.4, 32.0),
        ];
        let words = [s(1.0, 1.4), s(31.9, 32.4)];
        let u = unheard(&pieces, &speech, &words, MIN_UNHEARD);
        assert_eq!(
            u,
            [Unheard {
                start: Time::from_secs_f64(5.2),
                end: Time::from_secs_f64(13.9),
                speech: Time::from_secs_f64(8.2),
            }],
            "0.3 s of speech at 20 s is below the minimum; a word overlapping a piece's end counts"
        );
        assert_eq!(
            unheard_warning(&u).unwrap(),
            "8.2 s of speech without words at 00:05.2–00:13.9"
        );
        let two = [
            u[0],
            Unheard {
                start: Time::from_secs_f64(3723.45),
                end: Time::from_secs_f64(3725.0),
                speech: Time::from_secs_f64(1.0),
            },
        ];
        assert_eq!(
            unheard_warning(&two).unwrap(),
            "9.2 s of speech without words at 00:05.2–00:13.9, 1:02:03.4–1:02:05.0"
        );
        assert_eq!(unheard_warning(&[]), None);
        assert!(unheard(&pieces, &[], &[], MIN_UNHEARD).is_empty());
    }
}
