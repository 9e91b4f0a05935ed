//! Word timing refined against the audio's speech spans.
//!
//! Whisper's token timestamps are rough: a first word often "starts" at 0.0 s when the
//! speaker begins at 0.8 s, and a sentence's last word can land inside the pause after it.
//! The loudness analysis knows exactly where speech is. [`snap_to_speech`] assigns every
//! word to one speech span ([`placement::assign`]: a monotonic alignment in which a word
//! lying in a measured pause goes to the side the text puts it on, so the first word of a
//! sentence whisper timed into the pause before it moves after the pause), then maps each
//! span's words linearly onto the span, so the first word of a phrase starts at the
//! phrase's measured onset and the last one ends at its measured offset. A word moved
//! across a pause first closes up to its neighbour on that side (it keeps its length, the
//! other words their times). Words far from any speech keep their times.

use subcut_core::placement;

use crate::time::{Span, Time};
use crate::transcript::Transcript;

/// A group's rough edge this close to its span's edge is snapped to it; farther, the
/// span probably holds other sound (music, a cough) and the rough edge is kept.
const SNAP: f64 = 1.0;

/// Moves word (and segment) times onto the measured speech. `speech` is sorted and
/// non-overlapping. Keeps words in order, every word non-empty.
pub fn snap_to_speech(t: &mut Transcript, speech: &[Span]) {
    let rough = placement::rough_words(t);
    let assigned = placement::assign(&rough, speech);
    let spans: Vec<(f64, f64)> = speech
        .iter()
        .map(|s| (s.start.as_secs_f64(), s.end.as_secs_f64()))
        .collect();
    let mut times: Vec<(f64, f64)> = rough.iter().map(|w| (w.start, w.end)).collect();
    close_up_moved_words(&mut times, &assigned, &spans);

    // Map each run of words on the same span onto that span.
    let mut i = 0;
    while i < times.len() {
        let Some(k) = assigned[i] else {
            i += 1;
            continue;
        };
        let mut j = i;
        while j + 1 < times.len() && assigned[j + 1] == Some(k) {
            j += 1;
        }
        let (s0, s1) = spans[k];
        let (r0, r1) = (
            times[i].0,
            times[i..=j].iter().fold(f64::MIN, |m, w| m.max(w.1)),
        );
        let n0 = if r0 < s0 || r0 - s0 <= SNAP {
            s0
        } else {
            r0.min(s1)
        };
        let n1 = if r1 > s1 || s1 - r1 <= SNAP {
            s1
        } else {
            r1.max(n0)
        };
        if r1 - r0 > 1e-6 {
            let scale = (n1 - n0) / (r1 - r0);
            for w in &mut times[i..=j] {
                *w = (n0 + (w.0 - r0) * scale, n0 + (w.1 - r0) * scale);
            }
        } else {
            // No rough duration to go by: share the span out evenly.
            let step = (n1 - n0) / (j - i + 1) as f64;
            for (m, w) in times[i..=j].iter_mut().enumerate() {
                *w = (n0 + step * m as f64, n0 + step * (m + 1) as f64);
            }
        }
        i = j + 1;
    }

    // Write back: in order, never empty, segments around their words.
    let mut prev = Time::ZERO;
    let mut it = times.into_iter();
    for seg in &mut t.segments {
        for w in &mut seg.words {
            let (a, b) = it.next().expect("one time per word");
            w.start = Time::from_secs_f64(a).max(prev);
            w.end = Time::from_secs_f64(b).max(w.start + Time::from_millis(10));
            prev = w.start;
        }
        if let (Some(a), Some(b)) = (seg.words.first(), seg.words.last()) {
            seg.start = a.start;
            seg.end = seg.words.iter().map(|w| w.end).max().unwrap_or(b.end);
        }
    }
}

/// Words assigned to a span but timed wholly before it, after another span (or wholly after
/// it, before another span), were timed on the wrong side of the pause between: each moves
/// up to the next word (back to the previous one), but no further than the span's edge,
/// keeping its length. The linear
/// mapping then starts the span's first word at the onset without squeezing the rest.
fn close_up_moved_words(
    times: &mut [(f64, f64)],
    assigned: &[Option<usize>],
    spans: &[(f64, f64)],
) {
    for i in (0..times.len()).rev() {
        let Some(k) = assigned[i] else { continue };
        let (a, b) = times[i];
        if k == 0 || b > spans[k].0 {
            continue;
        }
        let to = match times.get(i + 1) {
            Some(n) if assigned[i + 1] == Some(k) => n.0.min(spans[k].0),
            _ => spans[k].0,
        };
        if to > b {
            times[i] = (a + (to - b), to);
        }
    }
    for i in 0..times.len() {
        let Some(k) = assigned[i] else { continue };
        let (a, b) = times[i];
        if k + 1 >= spans.len() || a < spans[k].1 {
            continue;
        }
        let to = match i.checked_sub(1) {
            Some(p) if assigned[p] == Some(k) => times[p].1.max(spans[k].1),
            _ => spans[k].1,
        };
        if to < a {
            times[i] = (to, b - (a - to));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::{Segment, Word};

    fn transcript(words: &[(&str, f64, f64)]) -> Transcript {
        let words: Vec<Word> = words
            .iter()
            .map(|&(t, a, b)| Word {
                text: t.into(),
                start: Time::from_secs_f64(a),
                end: Time::from_secs_f64(b),
                probability: 0.9,
            })
            .collect();
        let seg = Segment {
            start: words[0].start,
            end: words.last().unwrap().end,
            text: words
                .iter()
                .map(|w| w.text.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            words,
            no_speech_probability: 0.0,
            language: String::new(),
        };
        Transcript {
            language: "en".into(),
            segments: vec![seg],
        }
    }

    fn times(t: &Transcript) -> Vec<(f64, f64)> {
        t.words()
            .map(|w| {
                (
                    (w.start.as_secs_f64() * 1e3).round() / 1e3,
                    (w.end.as_secs_f64() * 1e3).round() / 1e3,
                )
            })
            .collect()
    }

    /// Rough times as tiny.en gives them for the talk fixture's third and fourth sentence.
    #[test]
    fn sentence_end_in_a_pause_stays_with_its_sentence() {
        let mut t = transcript(&[
            ("Please", 7.8, 7.91),
            ("bring", 7.97, 8.74),
            ("hot", 10.02, 10.5),
            ("tea.", 11.0, 11.02),
            ("The", 11.27, 11.4),
            ("train", 11.57, 11.89),
            ("nine.", 13.7, 14.0),
        ]);
        let speech = [Span::secs(8.035, 10.058), Span::secs(11.858, 14.091)];
        snap_to_speech(&mut t, &speech);
        let w = times(&t);
        assert_eq!(w[0].0, 8.035, "first word starts at the measured onset");
        assert!(
            w[3].1 <= 10.058 && w[3].0 < w[3].1,
            "'tea.' ends with its phrase: {w:?}"
        );
        assert_eq!(w[4].0, 11.858, "next sentence starts at its onset");
        assert_eq!(w[6].1, 14.091);
        assert!(w.windows(2).all(|p| p[0].0 <= p[1].0), "in order");
        assert_eq!(t.segments[0].start, Time::from_secs_f64(8.035));
        assert_eq!(t.segments[0].end, Time::from_secs_f64(14.091));
    }

    /// base-q8_0's rough times for the bundled talk (fixtures/transcripts/talk.en.rough.json):
    /// "We" is timed at 3.01 s, in the pause before its sentence. It starts that sentence at
    /// the measured onset, and "like" stays close behind it instead of being squeezed late.
    #[test]
    fn sentence_start_timed_into_the_pause_moves_after_it() {
        #[derive(serde::Deserialize)]
        struct Fixture {
            speech: Vec<Span>,
            #[serde(flatten)]
            transcript: Transcript,
        }
        let f: Fixture = serde_json::from_str(include_str!(
            "../../fixtures/transcripts/talk.en.rough.json"
        ))
        .unwrap();
        let mut t = f.transcript;
        snap_to_speech(&mut t, &f.speech);
        let words: Vec<&Word> = t.words().collect();
        let we = words.iter().position(|w| w.text == "We").unwrap();
        assert_eq!(words[we].start, f.speech[1].start, "{:?}", words[we]);
        assert!(words[we - 1].end <= f.speech[0].end, "{:?}", words[we - 1]);
        let like = words[we + 1].start.as_secs_f64();
        assert!((4.1..4.4).contains(&like), "'like' at {like}");
        // Every sentence within its own span.
        let mut k = 0;
        for w in &words {
            let s = f.speech[k];
            assert!(s.start <= w.start && w.end <= s.end, "{w:?} not in {s}");
            if w.text.ends_with('.') {
                k += 1;
            }
        }
    }

    #[test]
    fn first_word_at_zero_moves_to_the_onset() {
        let mut t = transcript(&[("The", 0.0, 0.35), ("cat", 0.7, 0.72), ("sun.", 2.58, 2.83)]);
        snap_to_speech(&mut t, &[Span::secs(0.8, 2.836)]);
        let w = times(&t);
        assert_eq!(w[0].0, 0.8);
        assert_eq!(w[2].1, 2.836);
    }

    #[test]
    fn far_edges_and_far_words_are_kept() {
        // Music from 0 s, speech from 5 s inside one long loud span; a word far from any speech.
        let mut t = transcript(&[
            ("Hello", 5.0, 5.4),
            ("there.", 5.5, 6.0),
            ("ghost", 30.0, 30.5),
        ]);
        snap_to_speech(&mut t, &[Span::secs(0.0, 6.2)]);
        let w = times(&t);
        assert_eq!(
            w[0].0, 5.0,
            "onset 5 s after the span start is whisper's to tell"
        );
        assert_eq!(w[1].1, 6.2);
        assert_eq!(w[2], (30.0, 30.5));
    }

    #[test]
    fn no_speech_or_no_words_changes_nothing() {
        let mut t = transcript(&[("a", 1.0, 1.2)]);
        snap_to_speech(&mut t, &[]);
        assert_eq!(times(&t), [(1.0, 1.2)]);
        let mut empty = Transcript::default();
        snap_to_speech(&mut empty, &[Span::secs(0.0, 1.0)]);
        assert!(empty.segments.is_empty());
    }

    #[test]
    fn zero_length_rough_words_share_the_span() {
        let mut t = transcript(&[("a", 1.0, 1.0), ("b", 1.0, 1.0)]);
        snap_to_speech(&mut t, &[Span::secs(1.1, 1.5)]);
        assert_eq!(times(&t), [(1.1, 1.3), (1.3, 1.5)]);
    }

    /// Random rough times around random speech: words stay ordered, non-empty, and every
    /// word near speech ends up overlapping speech.
    #[test]
    fn invariants_on_random_input() {
        let mut rng = crate::testutil::Rng::new(0x2545_f491_4f6c_dd1du64);
        let mut rnd = move || rng.unit();
        for _ in 0..300 {
            let mut spans = Vec::new();
            let mut x = rnd() * 2.0;
            for _ in 0..(1 + (rnd() * 5.0) as usize) {
                let d = 0.2 + rnd() * 3.0;
                spans.push(Span::secs(x, x + d));
                x += d + 0.3 + rnd() * 2.0;
            }
            let mut words = Vec::new();
            let mut y = rnd();
            for k in 0..(1 + (rnd() * 20.0) as usize) {
                let d = rnd() * 0.6;
                let text = if rnd() < 0.2 {
                    format!("w{k}.")
                } else {
                    format!("w{k}")
                };
                words.push((text, y, y + d));
                y += d + rnd() * 0.5;
            }
            let refs: Vec<(&str, f64, f64)> =
                words.iter().map(|(t, a, b)| (t.as_str(), *a, *b)).collect();
            let mut t = transcript(&refs);
            snap_to_speech(&mut t, &spans);
            let ws: Vec<&Word> = t.words().collect();
            assert_eq!(ws.len(), words.len());
            for p in ws.windows(2) {
                assert!(p[0].start <= p[1].start);
            }
            for (w, (_, a, b)) in ws.iter().zip(&words) {
                assert!(w.end > w.start);
                let near = spans.iter().any(|s| {
                    s.start.as_secs_f64() - b <= placement::REACH
                        && a - s.end.as_secs_f64() <= placement::REACH
                });
                if near {
                    assert!(
                        spans.iter().any(|s| s.start <= w.end && w.start <= s.end),
                        "{w:?} off speech {spans:?}"
                    );
                }
            }
        }
    }
}
