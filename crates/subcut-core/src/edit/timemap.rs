//! Source time ↔ output time of a cut: the kept spans laid end to end.
//!
//! ```
//! use subcut_core::edit::TimeMap;
//! use subcut_core::time::{Span, Time};
//! let m = TimeMap::new(&[Span::secs(1.0, 2.0), Span::secs(3.0, 4.0)]);
//! assert_eq!(m.output_duration(), Time::from_millis(2000));
//! assert_eq!(m.map(Time::from_millis(3500)), Some(Time::from_millis(1500)));
//! assert_eq!(m.map(Time::from_millis(2500)), None); // removed
//! assert_eq!(m.map_clamped(Time::from_millis(2500)), Time::from_millis(1000)); // at the cut
//! assert_eq!(m.inverse(Time::from_millis(1000)), Time::from_millis(3000));
//! ```

use serde::Serialize;

use crate::time::{normalize, Span, Time};
use crate::transcript::{join_text, Segment, Transcript, Word};

/// One kept span: where it is in the source and where it lands in the output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Piece {
    /// The kept span in source time.
    pub source: Span,
    /// Where it lands on the cut timeline (same length).
    pub output: Span,
}

/// The mapping from source time to output time of a list of kept spans.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TimeMap {
    pieces: Vec<Piece>,
}

impl TimeMap {
    /// The map of `keep` (normalized first: sorted, merged, empty spans dropped).
    pub fn new(keep: &[Span]) -> TimeMap {
        let mut out = Time::ZERO;
        let pieces = normalize(keep)
            .into_iter()
            .map(|s| {
                let p = Piece {
                    source: s,
                    output: Span::new(out, out + s.duration()),
                };
                out = p.output.end;
                p
            })
            .collect();
        TimeMap { pieces }
    }

    /// Keeps everything of `[0, duration)`.
    pub fn identity(duration: Time) -> TimeMap {
        TimeMap::new(&[Span::new(Time::ZERO, duration)])
    }

    /// The kept spans in order, with their output positions.
    pub fn pieces(&self) -> &[Piece] {
        &self.pieces
    }

    /// The kept source spans.
    pub fn keep(&self) -> Vec<Span> {
        self.pieces.iter().map(|p| p.source).collect()
    }

    /// Length of the cut: the kept spans' total.
    pub fn output_duration(&self) -> Time {
        self.pieces.last().map_or(Time::ZERO, |p| p.output.end)
    }

    /// The piece whose source span contains `t` or lies after it (index), if any.
    fn piece_at_or_after(&self, t: Time) -> usize {
        self.pieces.partition_point(|p| p.source.end <= t)
    }

    /// The output time of source time `t`; `None` when `t` was removed.
    pub fn map(&self, t: Time) -> Option<Time> {
        let p = self.pieces.get(self.piece_at_or_after(t))?;
        p.source
            .contains(t)
            .then(|| p.output.start + (t - p.source.start))
    }

    /// The output time of `t`, or for a removed instant, of the cut that replaced it (the
    /// output instant where the next kept span begins).
    pub fn map_clamped(&self, t: Time) -> Time {
        match self.pieces.get(self.piece_at_or_after(t)) {
            Some(p) if t >= p.source.start => p.output.start + (t - p.source.start),
            Some(p) => p.output.start,
            None => self.output_duration(),
        }
    }

    /// The output spans that the kept parts of `span` become, merged where they meet (parts
    /// on both sides of a cut become one span). Empty when all of `span` was removed.
    pub fn map_span(&self, span: Span) -> Vec<Span> {
        let mut out: Vec<Span> = Vec::new();
        for p in &self.pieces[self.piece_at_or_after(span.start)..] {
            if p.source.start >= span.end {
                break;
            }
            let Some(s) = p.source.intersect(&span) else {
                continue;
            };
            let o = Span::new(
                p.output.start + (s.start - p.source.start),
                p.output.start + (s.end - p.source.start),
            );
            match out.last_mut() {
                Some(last) if last.end == o.start => last.end = o.end,
                _ => out.push(o),
            }
        }
        out
    }

    /// How much of `span` is kept.
    pub fn kept_of(&self, span: Span) -> Time {
        self.map_span(span)
            .iter()
            .fold(Time::ZERO, |t, s| t + s.duration())
    }

    /// The source instant shown at output time `out` (at a join, the start of the later
    /// span); clamped to the first and last kept instants.
    pub fn inverse(&self, out: Time) -> Time {
        let i = self.pieces.partition_point(|p| p.output.end <= out);
        match self.pieces.get(i) {
            Some(p) => p.source.start + (out.max(p.output.start) - p.output.start),
            None => self.pieces.last().map_or(Time::ZERO, |p| p.source.end),
        }
    }

    /// The transcript on the cut timeline: a word more than half removed is dropped, other
    /// words keep their kept part, mapped; each segment is rebuilt from its remaining words
    /// (its text too, when a word was dropped) and dropped when none remain. A segment
    /// without words is kept, mapped, when more than half of it is kept.
    pub fn map_transcript(&self, t: &Transcript) -> Transcript {
        let segments = t
            .segments
            .iter()
            .filter_map(|s| self.map_segment(s))
            .collect();
        Transcript {
            language: t.language.clone(),
            segments,
        }
    }

    fn map_word(&self, w: &Word) -> Option<Word> {
        let span = Span::new(w.start, w.end);
        let (start, end) = if span.is_empty() {
            let t = self.map(w.start)?;
            (t, t)
        } else {
            let parts = self.map_span(span);
            let kept = parts.iter().fold(Time::ZERO, |t, s| t + s.duration());
            if kept.0 * 2 <= span.duration().0 {
                return None;
            }
            (parts[0].start, parts[parts.len() - 1].end)
        };
        Some(Word {
            start,
            end,
            ..w.clone()
        })
    }

    fn map_segment(&self, s: &Segment) -> Option<Segment> {
        if s.words.is_empty() {
            let span = s.span();
            let parts = self.map_span(span);
            let kept = parts.iter().fold(Time::ZERO, |t, s| t + s.duration());
            if span.is_empty() || kept.0 * 2 <= span.duration().0 {
                return None;
            }
            return Some(Segment {
                start: parts[0].start,
                end: parts[parts.len() - 1].end,
                ..s.clone()
            });
        }
        let words: Vec<Word> = s.words.iter().filter_map(|w| self.map_word(w)).collect();
        let first = words.first()?;
        let start = first.start;
        let end = words.iter().map(|w| w.end).max().unwrap_or(start);
        let text = if words.len() == s.words.len() {
            s.text.clone()
        } else {
            join_words(&words)
        };
        Some(Segment {
            start,
            end,
            text,
            words,
            no_speech_probability: s.no_speech_probability,
            language: s.language.clone(),
        })
    }
}

/// Words joined by spaces, except between two CJK characters.
fn join_words(words: &[Word]) -> String {
    join_text(words.iter().map(|w| w.text.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(a: i64, b: i64) -> Span {
        Span::new(Time::from_millis(a), Time::from_millis(b))
    }
    fn t(ms: i64) -> Time {
        Time::from_millis(ms)
    }
    fn word(text: &str, a: i64, b: i64) -> Word {
        Word {
            text: text.into(),
            start: t(a),
            end: t(b),
            probability: 0.8,
        }
    }

    #[test]
    fn maps_kept_instants_and_refuses_removed_ones() {
        let m = TimeMap::new(&[ms(3000, 4000), ms(1000, 2000), ms(2000, 2500)]);
        assert_eq!(m.keep(), vec![ms(1000, 2500), ms(3000, 4000)]);
        assert_eq!(m.output_duration(), t(2500));
        assert_eq!(m.map(t(999)), None);
        assert_eq!(m.map(t(1000)), Some(t(0)));
        assert_eq!(m.map(t(2499)), Some(t(1499)));
        assert_eq!(m.map(t(2500)), None);
        assert_eq!(m.map(t(3000)), Some(t(1500)));
        assert_eq!(m.map(t(4000)), None);
        assert_eq!(m.map_clamped(t(0)), t(0));
        assert_eq!(m.map_clamped(t(2700)), t(1500));
        assert_eq!(m.map_clamped(t(9000)), t(2500));
        assert_eq!(m.inverse(t(0)), t(1000));
        assert_eq!(m.inverse(t(1500)), t(3000));
        assert_eq!(m.inverse(t(1499)), t(2499));
        assert_eq!(m.inverse(t(2500)), t(4000));
        assert_eq!(m.inverse(t(-5)), t(1000));
        assert_eq!(m.map_span(ms(2000, 3500)), vec![ms(1000, 2000)]);
        assert_eq!(m.map_span(ms(0, 900)), vec![]);
        assert_eq!(m.map_span(ms(0, 9000)), vec![ms(0, 2500)]);
        assert_eq!(m.kept_of(ms(2400, 3100)), t(200));
        let empty = TimeMap::new(&[]);
        assert_eq!(empty.map(t(5)), None);
        assert_eq!(empty.map_clamped(t(5)), Time::ZERO);
        assert_eq!(empty.inverse(t(5)), Time::ZERO);
        assert_eq!(TimeMap::identity(t(100)).map(t(50)), Some(t(50)));
    }

    #[test]
    fn transcript_follows_the_cut() {
        let m = TimeMap::new(&[ms(0, 1000), ms(2000, 4000)]);
        let seg = |text: &str, words: Vec<Word>| Segment {
            start: words.first().map_or(t(0), |w| w.start),
            end: words.last().map_or(t(0), |w| w.end),
            text: text.into(),
            words,
            no_speech_probability: 0.1,
            language: String::new(),
        };
        let tr = Transcript {
            language: "en".into(),
            segments: vec![
                seg(
                    " Hello um there.",
                    vec![
                        word("Hello", 200, 800),
                        word("um", 1000, 1900),
                        word("there.", 1900, 2600),
                    ],
                ),
                seg(" Gone.", vec![word("Gone.", 1100, 1900)]),
                seg(" Stays", vec![word("Stays", 3000, 3500)]),
                Segment {
                    start: t(2500),
                    end: t(3500),
                    text: " no words".into(),
                    words: vec![],
                    no_speech_probability: 0.2,
                    language: String::new(),
                },
            ],
        };
        let out = m.map_transcript(&tr);
        assert_eq!(out.language, "en");
        assert_eq!(out.segments.len(), 3);
        let s0 = &out.segments[0];
        assert_eq!(s0.text, "Hello there.");
        assert_eq!(
            s0.words,
            vec![word("Hello", 200, 800), word("there.", 1000, 1600)]
        );
        assert_eq!((s0.start, s0.end), (t(200), t(1600)));
        assert_eq!(out.segments[1].text, " Stays", "untouched text kept as is");
        assert_eq!(out.segments[1].words, vec![word("Stays", 2000, 2500)]);
        assert_eq!(out.segments[2].span(), ms(1500, 2500));
    }

    #[test]
    fn cjk_words_join_without_spaces() {
        let ws = [
            word("我", 0, 1),
            word("觉得", 1, 2),
            word("OK", 2, 3),
            word("吧", 3, 4),
        ];
        assert_eq!(join_words(&ws), "我觉得 OK 吧");
    }

    #[test]
    fn map_is_monotonic_and_inverse_consistent_on_random_spans() {
        let mut rng = crate::testutil::Rng::new(0x9e37_79b9_7f4a_7c15u64);
        let mut next = |m: i64| rng.below(m);
        for _ in 0..300 {
            let keep: Vec<Span> = (0..next(10))
                .map(|_| {
                    let s = next(10_000);
                    ms(s, s + next(1500))
                })
                .collect();
            let m = TimeMap::new(&keep);
            let norm = normalize(&keep);
            assert_eq!(m.output_duration(), crate::time::total(&keep));
            let mut last: Option<Time> = None;
            let mut last_clamped = Time::ZERO;
            for step in 0..600 {
                let x = t(step * 20 + next(20));
                let kept = norm.iter().any(|s| s.contains(x));
                let y = m.map(x);
                assert_eq!(y.is_some(), kept, "map defined exactly on kept instants");
                if let Some(y) = y {
                    assert!(last.is_none_or(|l| y > l), "strictly increasing");
                    assert_eq!(m.inverse(y), x, "inverse undoes map");
                    assert_eq!(m.map_clamped(x), y);
                    last = Some(y);
                }
                let c = m.map_clamped(x);
                assert!(c >= last_clamped && c <= m.output_duration());
                last_clamped = c;
                let o = t(step * 5);
                if o < m.output_duration() {
                    assert_eq!(m.map(m.inverse(o)), Some(o), "map undoes inverse");
                }
            }
            // Mapped spans cover exactly the kept part.
            let a = next(12_000);
            let span = ms(a, a + next(4000));
            let parts = m.map_span(span);
            let kept = crate::time::total(&crate::time::intersection(&norm, &[span]));
            assert_eq!(crate::time::total(&parts), kept);
            assert!(
                parts.len() <= 1,
                "kept parts of one span meet in the output"
            );
        }
    }

    #[test]
    fn mapped_transcripts_stay_ordered_and_on_the_cut_timeline() {
        let mut rng = crate::testutil::Rng::new(0x51ed_270b_9a3c_4e11u64);
        let mut next = |m: i64| rng.below(m);
        for case in 0..300 {
            let keep: Vec<Span> = (0..next(8))
                .map(|_| {
                    let s = next(10_000);
                    ms(s, s + next(2000))
                })
                .collect();
            let m = TimeMap::new(&keep);
            // Sorted, non-overlapping words in a few segments.
            let mut segments = Vec::new();
            let mut at = next(500);
            for _ in 0..next(6) {
                let words: Vec<Word> = (0..1 + next(6))
                    .map(|i| {
                        let a = at + next(200);
                        at = a + 1 + next(600);
                        word(&format!("w{i}"), a, at)
                    })
                    .collect();
                segments.push(Segment {
                    start: words[0].start,
                    end: words[words.len() - 1].end,
                    text: "x".into(),
                    words,
                    no_speech_probability: 0.0,
                    language: String::new(),
                });
            }
            let tr = Transcript {
                language: "en".into(),
                segments,
            };
            let out = m.map_transcript(&tr);
            let mut last_end = Time::ZERO;
            let mut n_out = 0;
            for s in &out.segments {
                assert!(!s.words.is_empty(), "case {case}: empty segments dropped");
                assert_eq!(s.start, s.words[0].start);
                for w in &s.words {
                    assert!(
                        w.start >= last_end,
                        "case {case}: words ordered, no overlap"
                    );
                    assert!(w.end <= m.output_duration());
                    last_end = w.end;
                    n_out += 1;
                }
            }
            // A word survives exactly when more than half of it is kept.
            let survivors = tr
                .words()
                .filter(|w| m.kept_of(Span::new(w.start, w.end)).0 * 2 > (w.end - w.start).0)
                .count();
            assert_eq!(n_out, survivors, "case {case}");
        }
    }
}
