//! Which measured speech span each recognised word belongs to: words stay on their side of
//! a pause.
//!
//! Whisper's word times are rough, and worst next to a pause: the first word of a sentence
//! that follows a pause is often timed early, into the pause or onto the end of the speech
//! before it ("…in the sun. We" / "like to walk…"), and a sentence's last word can run late
//! into the pause after it. The loudness analysis knows where the pauses are; the text knows
//! where sentences end. [`assign`] combines the two:
//!
//! - A word whose rough time mostly overlaps a speech span costs its distance to a span
//!   (seconds), as before: the timing is believed.
//! - A word whose rough time lies in a measured pause, or straddles one (less than half of
//!   it overlaps speech), is nowhere whisper says it is. Between the two spans around that
//!   pause its timing only breaks ties ([`IN_PAUSE_WEIGHT`] × distance); the text decides.
//! - Changing span (crossing a pause) between two words costs nothing after a sentence end,
//!   [`CLAUSE_CHANGE`] after clause punctuation or where the recogniser started a new
//!   segment, and [`MID_CHANGE`] inside a sentence.
//!
//! The cheapest monotonic assignment wins (dynamic programming over each word's candidate
//! spans), so `sun.` `We`(in the pause) `like`(on the next span) puts `We` after the
//! pause, and `hot` `tea.`(in the pause) `The` keeps `tea.` before it.
//!
//! Then stranded fragments rejoin their sentence: at most [`FRAGMENT_WORDS`] words that
//! begin a sentence but are cut off from the rest of it by a pause of at least
//! [`FRAGMENT_PAUSE`], timed within [`FRAGMENT_EDGE`] of that pause (whisper's usual error:
//! the word "starts" where the previous one ended), move after the pause; likewise the last
//! words of a sentence timed onto the start of the speech after the pause that precedes
//! them move before it (never farther than [`REACH`]). A fragment ending in clause punctuation (`Well,` then a pause) is
//! a pause the speaker made, and stays. [`side`] is the
//! span a (retimed) word overlaps most, what segmentation uses so that no cue holds words
//! from both sides of a long pause.

use crate::time::{Span, Time};
use crate::transcript::Transcript;

/// How far (seconds) a word's rough time may be from a span and still be moved onto it.
pub const REACH: f64 = 1.5;
/// Weight of the distance from a word in a pause to the spans around that pause: the
/// timing of such a word only breaks ties.
pub const IN_PAUSE_WEIGHT: f64 = 0.1;
/// Cost of crossing a pause after clause punctuation or at a recogniser segment start.
pub const CLAUSE_CHANGE: f64 = 0.3;
/// Cost of crossing a pause inside a sentence.
pub const MID_CHANGE: f64 = 0.5;
/// The most words a stranded sentence fragment has.
pub const FRAGMENT_WORDS: usize = 2;
/// How close (seconds) to the pause a stranded fragment is timed.
pub const FRAGMENT_EDGE: f64 = 0.5;
/// The shortest pause (seconds) that strands a fragment.
pub const FRAGMENT_PAUSE: f64 = 0.5;

/// One word as the assignment sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rough {
    /// Rough start, seconds.
    pub start: f64,
    /// Rough end, seconds (at least `start`).
    pub end: f64,
    /// What separates this word from the next one.
    pub after: Boundary,
}

/// What the text says about the place after a word, strongest first (`min` of two
/// boundaries is the stronger).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Boundary {
    /// The word ends a sentence (`.?!。？！…`).
    Sentence,
    /// The word ends a clause (`,;:，；：、—`), or the next word starts a new recogniser segment.
    Clause,
    /// Inside a sentence.
    None,
}

impl Boundary {
    fn change_cost(self) -> f64 {
        match self {
            Boundary::Sentence => 0.0,
            Boundary::Clause => CLAUSE_CHANGE,
            Boundary::None => MID_CHANGE,
        }
    }
}

/// The boundary after a word's text, punctuation only.
pub fn boundary_after(text: &str) -> Boundary {
    let last = text
        .trim_end()
        .trim_end_matches(['"', '\'', '”', '’', ')', '）', '」', '』'])
        .chars()
        .last();
    match last {
        Some('.' | '?' | '!' | '。' | '？' | '！' | '…') => Boundary::Sentence,
        Some(',' | ';' | ':' | '，' | '；' | '：' | '、' | '—') => Boundary::Clause,
        _ => Boundary::None,
    }
}

/// The rough words of a transcript, in order, with their boundaries (a segment start counts
/// as a clause boundary unless punctuation says more).
pub fn rough_words(t: &Transcript) -> Vec<Rough> {
    let mut out: Vec<Rough> = Vec::new();
    for seg in &t.segments {
        if let Some(last) = out.last_mut() {
            if !seg.words.is_empty() {
                last.after = last.after.min(Boundary::Clause);
            }
        }
        for w in &seg.words {
            let (a, b) = (w.start.as_secs_f64(), w.end.as_secs_f64());
            out.push(Rough {
                start: a,
                end: b.max(a),
                after: boundary_after(&w.text),
            });
        }
    }
    out
}

/// For each word, the index of the speech span it belongs to, or `None` when no span is
/// within [`REACH`]. `speech` is sorted and non-overlapping; the indices never decrease.
pub fn assign(words: &[Rough], speech: &[Span]) -> Vec<Option<usize>> {
    let spans: Vec<(f64, f64)> = speech
        .iter()
        .map(|s| (s.start.as_secs_f64(), s.end.as_secs_f64()))
        .collect();
    let own: Vec<Vec<(usize, f64)>> = words.iter().map(|w| candidates(w, &spans)).collect();
    // cost[i][c], back[i][c]: best total with word i on candidate c of own[i].
    let mut cost: Vec<Vec<f64>> = Vec::with_capacity(words.len());
    let mut back: Vec<Vec<usize>> = Vec::with_capacity(words.len());
    let mut last: Option<usize> = None; // previous word that has candidates
    for (i, cands) in own.iter().enumerate() {
        let mut ci = Vec::with_capacity(cands.len());
        let mut bi = Vec::with_capacity(cands.len());
        for &(k, d) in cands {
            let Some(p) = last else {
                ci.push(d);
                bi.push(usize::MAX);
                continue;
            };
            // The place between p and i: the strongest boundary among the words from p on
            // (words without candidates in between carry theirs along).
            let boundary = words[p..i]
                .iter()
                .map(|w| w.after)
                .min()
                .unwrap_or(Boundary::None);
            let mut best = (f64::INFINITY, usize::MAX);
            for (c, &(kp, _)) in own[p].iter().enumerate() {
                if kp > k {
                    break;
                }
                let v = cost[p][c] + if kp == k { 0.0 } else { boundary.change_cost() };
                if v < best.0 {
                    best = (v, c);
                }
            }
            if best.1 == usize::MAX {
                // Every candidate of the previous word lies after this one's: start fresh.
                best = (
                    cost[p].iter().copied().fold(f64::INFINITY, f64::min) + 1.0,
                    usize::MAX,
                );
            }
            ci.push(d + best.0);
            bi.push(best.1);
        }
        if !cands.is_empty() {
            last = Some(i);
        }
        cost.push(ci);
        back.push(bi);
    }
    // Backtrack from the cheapest end.
    let mut out = vec![None; words.len()];
    let Some(mut i) = last else { return out };
    let cheapest = |v: &[f64]| {
        (0..v.len())
            .min_by(|&a, &b| v[a].total_cmp(&v[b]))
            .unwrap_or(0)
    };
    let mut c = cheapest(&cost[i]);
    loop {
        out[i] = Some(own[i][c].0);
        let prev_c = back[i][c];
        let Some(p) = (0..i).rev().find(|&p| !own[p].is_empty()) else {
            break;
        };
        c = if prev_c == usize::MAX {
            cheapest(&cost[p])
        } else {
            prev_c
        };
        i = p;
    }
    rejoin_fragments(words, &spans, &mut out);
    out
}

/// Moves stranded sentence fragments across the pause to the rest of their sentence (see
/// the module documentation). `out` is a monotonic assignment.
fn rejoin_fragments(words: &[Rough], spans: &[(f64, f64)], out: &mut [Option<usize>]) {
    let on: Vec<usize> = (0..words.len()).filter(|&i| out[i].is_some()).collect();
    for x in 0..on.len().saturating_sub(1) {
        let (i, j) = (on[x], on[x + 1]); // consecutive assigned words
        let (Some(k), Some(kn)) = (out[i], out[j]) else {
            continue;
        };
        if kn != k + 1 || spans[kn].0 - spans[k].1 < FRAGMENT_PAUSE {
            continue;
        }
        if words[i..j].iter().map(|w| w.after).min() != Some(Boundary::None) {
            continue; // the pause falls where the text has a boundary: nothing stranded
        }
        // The words on span k since the last sentence end before the pause.
        let head: Vec<usize> = on[..=x]
            .iter()
            .copied()
            .rev()
            .take_while(|&h| out[h] == Some(k) && (h == i || words[h].after != Boundary::Sentence))
            .take(FRAGMENT_WORDS + 1)
            .collect();
        let head_starts_sentence = head
            .last()
            .and_then(|&h| h.checked_sub(1))
            .is_some_and(|b| words[b].after == Boundary::Sentence);
        if head.len() <= FRAGMENT_WORDS
            && head_starts_sentence
            && head.iter().all(|&h| {
                words[h].start >= spans[k].1 - FRAGMENT_EDGE && spans[kn].0 - words[h].end <= REACH
            })
        {
            for &h in &head {
                out[h] = Some(kn);
            }
            continue;
        }
        // The words on span kn up to the next sentence end, when one comes soon.
        let tail: Vec<usize> = on[x + 1..]
            .iter()
            .copied()
            .take_while(|&t| out[t] == Some(kn))
            .scan(false, |done, t| {
                if *done {
                    return None;
                }
                *done = words[t].after == Boundary::Sentence;
                Some(t)
            })
            .take(FRAGMENT_WORDS + 1)
            .collect();
        let tail_ends_sentence = tail
            .last()
            .is_some_and(|&t| words[t].after == Boundary::Sentence);
        if tail.len() <= FRAGMENT_WORDS
            && tail_ends_sentence
            && tail.iter().all(|&t| {
                words[t].end <= spans[kn].0 + FRAGMENT_EDGE && words[t].start - spans[k].1 <= REACH
            })
        {
            for &t in &tail {
                out[t] = Some(k);
            }
        }
    }
}

/// The spans within [`REACH`] of a word, each with the word's own cost on it.
fn candidates(w: &Rough, spans: &[(f64, f64)]) -> Vec<(usize, f64)> {
    let lo = spans.partition_point(|s| s.1 < w.start - REACH);
    let hi = spans.partition_point(|s| s.0 <= w.end + REACH).max(lo);
    let len = w.end - w.start;
    let overlap: f64 = spans[lo..hi]
        .iter()
        .map(|s| (w.end.min(s.1) - w.start.max(s.0)).max(0.0))
        .sum();
    let mid = (w.start + w.end) / 2.0;
    // A word mostly in a pause (a point in no span, for a word without length): the spans
    // on either side of the pause its middle lies in.
    let in_pause = if len > 0.0 {
        overlap < len / 2.0
    } else {
        !spans[lo..hi].iter().any(|s| s.0 <= mid && mid < s.1)
    };
    let after_pause = spans.partition_point(|s| s.1 <= mid);
    let around = |k: usize| in_pause && (k + 1 == after_pause || k == after_pause);
    (lo..hi)
        .map(|k| {
            let s = spans[k];
            let gap = (s.0 - w.end).max(w.start - s.1).max(0.0);
            let d = if around(k) {
                IN_PAUSE_WEIGHT * gap
            } else {
                let ov = (w.end.min(s.1) - w.start.max(s.0)).max(0.0);
                gap + 0.2 * (len - ov).max(0.0)
            };
            (k, d)
        })
        .collect()
}

/// The speech span a word overlaps most (the earlier one on a tie), or `None` when it
/// overlaps none.
pub fn side(word: Span, speech: &[Span]) -> Option<usize> {
    let lo = speech.partition_point(|s| s.end <= word.start);
    let mut best: Option<(usize, Time)> = None;
    for (k, s) in speech.iter().enumerate().skip(lo) {
        if s.start >= word.end {
            break;
        }
        let ov = word.intersect(s).map_or(Time::ZERO, |o| o.duration());
        if ov > Time::ZERO && best.is_none_or(|(_, b)| ov > b) {
            best = Some((k, ov));
        }
    }
    best.map(|(k, _)| k)
}

/// The longest pause between speech spans `a` and `b` (`a < b`), zero when `a >= b`.
pub fn longest_pause_between(speech: &[Span], a: usize, b: usize) -> Time {
    (a..b)
        .filter_map(|k| Some(speech.get(k + 1)?.start - speech.get(k)?.end))
        .max()
        .unwrap_or(Time::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    fn w(a: f64, b: f64, text: &str) -> Rough {
        Rough {
            start: a,
            end: b,
            after: boundary_after(text),
        }
    }

    #[test]
    fn boundaries_from_punctuation() {
        assert_eq!(boundary_after("sun."), Boundary::Sentence);
        assert_eq!(boundary_after("tea.\""), Boundary::Sentence);
        assert_eq!(boundary_after("上。"), Boundary::Sentence);
        assert_eq!(boundary_after("嗯，"), Boundary::Clause);
        assert_eq!(boundary_after("well,"), Boundary::Clause);
        assert_eq!(boundary_after("We"), Boundary::None);
        assert_eq!(boundary_after(""), Boundary::None);
    }

    /// The first word of a sentence, timed into the pause before it, goes after the pause.
    #[test]
    fn sentence_start_in_a_pause_goes_after_it() {
        let words = [
            w(2.17, 2.45, "the"),
            w(2.45, 2.79, "sun."),
            w(3.01, 3.15, "We"),
            w(3.90, 4.09, "like"),
            w(4.09, 4.26, "to"),
        ];
        let speech = [Span::secs(0.79, 2.85), Span::secs(4.03, 6.55)];
        assert_eq!(
            assign(&words, &speech),
            [Some(0), Some(0), Some(1), Some(1), Some(1)]
        );
    }

    /// The same word timed onto the very end of the speech before: it straddles the pause
    /// (most of it in the pause), so the sentence end decides.
    #[test]
    fn sentence_start_straddling_the_pause_goes_after_it() {
        let words = [
            w(1.9, 2.4, "products."),
            w(2.75, 3.05, "A"),
            w(4.2, 4.5, "few"),
            w(4.5, 4.9, "years"),
        ];
        let speech = [Span::secs(0.5, 2.85), Span::secs(4.15, 6.0)];
        assert_eq!(
            assign(&words, &speech),
            [Some(0), Some(1), Some(1), Some(1)]
        );
    }

    /// A sentence's last word timed late into the pause stays before it.
    #[test]
    fn sentence_end_in_a_pause_stays_before_it() {
        let words = [
            w(9.59, 9.9, "hot"),
            w(11.0, 11.02, "tea."),
            w(11.27, 11.4, "The"),
            w(11.57, 11.89, "train"),
        ];
        let speech = [Span::secs(8.03, 10.07), Span::secs(11.85, 14.1)];
        assert_eq!(
            assign(&words, &speech),
            [Some(0), Some(0), Some(1), Some(1)]
        );
    }

    /// Without punctuation the nearer side wins, as the timing says.
    #[test]
    fn without_punctuation_the_nearer_side_wins() {
        let speech = [Span::secs(0.0, 2.0), Span::secs(3.0, 5.0)];
        let near_before = [w(1.5, 1.9, "a"), w(2.1, 2.3, "b"), w(3.1, 3.5, "c")];
        assert_eq!(assign(&near_before, &speech), [Some(0), Some(0), Some(1)]);
        let near_after = [w(1.5, 1.9, "a"), w(2.7, 2.9, "b"), w(3.1, 3.5, "c")];
        assert_eq!(assign(&near_after, &speech), [Some(0), Some(1), Some(1)]);
    }

    /// Words timed well inside the speech before the pause keep their side even after a
    /// sentence end, and so does a longer fragment: the timing is believed where it agrees
    /// with the measured speech by more than [`FRAGMENT_EDGE`].
    #[test]
    fn a_word_on_speech_keeps_its_side() {
        let speech = [Span::secs(0.0, 3.0), Span::secs(4.5, 6.0)];
        let words = [w(1.0, 1.5, "Okay."), w(1.8, 2.3, "So"), w(4.6, 5.0, "we")];
        assert_eq!(assign(&words, &speech), [Some(0), Some(0), Some(1)]);
        let three = [
            w(1.0, 1.5, "products."),
            w(2.5, 2.6, "Only"),
            w(2.6, 2.7, "a"),
            w(2.7, 2.95, "few"),
            w(4.6, 5.0, "years"),
        ];
        assert_eq!(
            assign(&three, &speech),
            [Some(0), Some(0), Some(0), Some(0), Some(1)]
        );
        // Two words on the last half second before the pause do move (within REACH).
        let two = [
            w(1.0, 1.5, "products."),
            w(2.5, 2.7, "A"),
            w(2.7, 2.95, "few"),
            w(4.3, 4.7, "years"),
        ];
        let speech2 = [Span::secs(0.0, 3.0), Span::secs(4.2, 6.0)];
        assert_eq!(assign(&two, &speech2), [Some(0), Some(1), Some(1), Some(1)]);
        assert_eq!(assign(&two, &speech), [Some(0), Some(0), Some(0), Some(1)]);
        // A clause the speaker paused after stays.
        let well = [
            w(1.0, 1.5, "Okay."),
            w(2.6, 2.9, "Well,"),
            w(4.6, 5.0, "we"),
        ];
        assert_eq!(assign(&well, &speech), [Some(0), Some(0), Some(1)]);
    }

    /// The last word of a sentence timed onto the start of the speech after the pause
    /// before it goes back before that pause.
    #[test]
    fn sentence_end_on_the_edge_of_the_speech_after_goes_before_the_pause() {
        let speech = [Span::secs(0.0, 3.0), Span::secs(4.5, 6.0)];
        let words = [
            w(2.0, 2.5, "a"),
            w(2.5, 2.9, "cup"),
            w(4.5, 4.8, "tea."),
            w(4.9, 5.2, "The"),
        ];
        assert_eq!(
            assign(&words, &speech),
            [Some(0), Some(0), Some(0), Some(1)]
        );
    }

    /// The bundled talk as the old retiming left it: "We" on the last 0.12 s of the first
    /// sentence's speech, 1.18 s before the rest of its sentence. It moves after the pause.
    #[test]
    fn sentence_start_on_the_edge_of_the_speech_before_goes_after_the_pause() {
        let words = [
            w(2.27, 2.55, "sun."),
            w(2.73, 2.85, "We"),
            w(4.03, 4.2, "like"),
        ];
        let speech = [Span::secs(0.79, 2.85), Span::secs(4.03, 6.55)];
        assert_eq!(assign(&words, &speech), [Some(0), Some(1), Some(1)]);
        // Without the sentence end before it, the timing keeps it where it is.
        let words = [
            w(2.27, 2.55, "sun"),
            w(2.73, 2.85, "we"),
            w(4.03, 4.2, "like"),
        ];
        assert_eq!(assign(&words, &speech), [Some(0), Some(0), Some(1)]);
    }

    /// A recogniser segment start counts as a boundary when there is no punctuation
    /// (whisper's Chinese often has none).
    #[test]
    fn segment_start_is_a_boundary() {
        use crate::transcript::{Segment, Word};
        let seg = |words: &[(&str, f64, f64)]| Segment {
            start: Time::from_secs_f64(words[0].1),
            end: Time::from_secs_f64(words.last().unwrap().2),
            text: words.iter().map(|w| w.0).collect(),
            words: words
                .iter()
                .map(|&(t, a, b)| Word {
                    text: t.into(),
                    start: Time::from_secs_f64(a),
                    end: Time::from_secs_f64(b),
                    probability: 0.9,
                })
                .collect(),
            no_speech_probability: 0.0,
            language: String::new(),
        };
        let t = Transcript {
            language: "zh".into(),
            segments: vec![
                seg(&[("今", 1.0, 1.3), ("天", 1.3, 1.6)]),
                seg(&[("我", 1.95, 2.15), ("们", 3.0, 3.2)]),
            ],
        };
        let r = rough_words(&t);
        assert_eq!(r[1].after, Boundary::Clause);
        // 我 lies in the pause, nearer the speech before; the segment start sends it after.
        let speech = [Span::secs(0.9, 1.8), Span::secs(2.9, 4.0)];
        assert_eq!(assign(&r, &speech), [Some(0), Some(0), Some(1), Some(1)]);
    }

    #[test]
    fn side_is_the_span_overlapped_most() {
        let speech = [Span::secs(0.0, 1.0), Span::secs(2.0, 3.0)];
        assert_eq!(side(Span::secs(0.8, 2.5), &speech), Some(1));
        assert_eq!(side(Span::secs(0.5, 2.2), &speech), Some(0));
        assert_eq!(side(Span::secs(1.2, 1.8), &speech), None);
        assert_eq!(side(Span::secs(2.5, 2.6), &speech), Some(1));
        assert_eq!(side(Span::secs(3.5, 4.0), &speech), None);
        assert_eq!(
            longest_pause_between(&speech, 0, 1),
            Time::from_millis(1000)
        );
        assert_eq!(longest_pause_between(&speech, 1, 1), Time::ZERO);
    }

    /// The fixture: base-q8_0's rough word times for the bundled talk (before snapping)
    /// and the speech the analysis measures in it. Whisper times "We" at 3.01 s, in the
    /// 2.85–4.03 s pause and nearer the sentence before it.
    #[test]
    fn early_word_fixture_goes_after_the_pause() {
        #[derive(Deserialize)]
        struct Fixture {
            speech: Vec<Span>,
            #[serde(flatten)]
            transcript: Transcript,
        }
        let f: Fixture = serde_json::from_str(include_str!(
            "../../../fixtures/transcripts/talk.en.rough.json"
        ))
        .unwrap();
        let words: Vec<&str> = f.transcript.words().map(|w| w.text.as_str()).collect();
        let we = words.iter().position(|&w| w == "We").unwrap();
        let rough = rough_words(&f.transcript);
        assert!(
            rough[we].start > f.speech[0].end.as_secs_f64()
                && rough[we].end < f.speech[1].start.as_secs_f64(),
            "the fixture's 'We' lies in the pause"
        );
        let sides = assign(&rough, &f.speech);
        assert_eq!(sides[we - 1], Some(0), "'sun.' ends the first sentence");
        assert_eq!(sides[we], Some(1), "'We' starts the second: {sides:?}");
        // Every sentence on its own span.
        let mut span = 0;
        for (i, w) in words.iter().enumerate() {
            assert_eq!(sides[i], Some(span), "{w}");
            if w.ends_with('.') {
                span += 1;
            }
        }
    }

    /// Random rough words around random speech: indices never decrease, and a word near
    /// speech always gets a span.
    #[test]
    fn invariants_on_random_input() {
        let mut rng = crate::testutil::Rng::new(0x9e37_79b9_7f4a_7c15);
        for _ in 0..300 {
            let mut spans = Vec::new();
            let mut x = rng.unit() * 2.0;
            for _ in 0..(1 + rng.below(5)) {
                let d = 0.2 + rng.unit() * 3.0;
                spans.push(Span::secs(x, x + d));
                x += d + 0.3 + rng.unit() * 2.0;
            }
            let mut words = Vec::new();
            let mut y = rng.unit();
            for _ in 0..(1 + rng.below(20)) {
                let d = rng.unit() * 0.6;
                let text = match rng.below(5) {
                    0 => "w.",
                    1 => "w,",
                    _ => "w",
                };
                words.push(w(y, y + d, text));
                y += d + rng.unit() * 0.5;
            }
            let sides = assign(&words, &spans);
            let got: Vec<usize> = sides.iter().flatten().copied().collect();
            assert!(got.windows(2).all(|p| p[0] <= p[1]), "{sides:?}");
            for (wd, s) in words.iter().zip(&sides) {
                let near = spans.iter().any(|s| {
                    s.start.as_secs_f64() - wd.end <= REACH
                        && wd.start - s.end.as_secs_f64() <= REACH
                });
                assert_eq!(near, s.is_some(), "{wd:?} {spans:?}");
            }
        }
    }
}
