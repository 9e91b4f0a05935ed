//! Subtitle cues: from a transcript's timed words to timed lines of text, and their file formats.
//!
//! A [`Cue`] is what a viewer sees at once: up to two lines of text shown during a
//! half-open span. [`cues_from_transcript`] turns recognised segments into cues that are
//! valid in every format: non-empty, at least [`MIN_CUE`] long, sorted and never overlapping.
//! Cue timing follows the words (a segment's own bounds often include the silence around it).

pub mod format;

use serde::{Deserialize, Serialize};

use crate::asr::transcript::{is_cjk, Transcript};
use crate::time::{Span, Time};

/// The shortest cue written; shorter ones are extended into the following gap.
pub const MIN_CUE: Time = Time::from_millis(200);
/// Characters per line before a line break is needed (Netflix guide, Latin scripts).
const MAX_LINE_CHARS: usize = 42;
/// Characters per line for CJK text.
const MAX_LINE_CHARS_CJK: usize = 16;

/// One caption on screen.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cue {
    pub start: Time,
    pub end: Time,
    /// One or two lines, joined by `\n`.
    pub text: String,
}

impl Cue {
    pub fn span(&self) -> Span {
        Span::new(self.start, self.end)
    }
}

/// One cue per recognised segment, timed by its words, laid out on at most two lines,
/// with overlaps, empty text and zero-length cues removed.
pub fn cues_from_transcript(t: &Transcript, media_end: Time) -> Vec<Cue> {
    let mut cues: Vec<Cue> = Vec::new();
    for seg in &t.segments {
        let text = seg.text.split_whitespace().collect::<Vec<_>>().join(" ");
        if text.is_empty() {
            continue;
        }
        let (start, end) = match (seg.words.first(), seg.words.last()) {
            (Some(a), Some(b)) => (a.start, b.end),
            _ => (seg.start, seg.end),
        };
        let start = start.max(Time::ZERO);
        let end = end.min(media_end);
        if end <= start {
            continue;
        }
        let text = layout(&text);
        if cues.last().is_some_and(|c| c.text == text) {
            // Repeated identical lines are a recogniser loop, not speech worth showing twice.
            continue;
        }
        cues.push(Cue { start, end, text });
    }
    normalize_timing(&mut cues, media_end);
    cues
}

/// Sorts cues, removes overlaps (a cue ends where the next starts) and gives every cue at
/// least [`MIN_CUE`] where the gap after it allows; drops cues that end up empty.
pub fn normalize_timing(cues: &mut Vec<Cue>, media_end: Time) {
    cues.sort_by_key(|c| (c.start, c.end));
    for i in 0..cues.len() {
        let next_start = cues
            .get(i + 1)
            .map_or(media_end.max(cues[i].end), |n| n.start);
        let c = &mut cues[i];
        if c.end - c.start < MIN_CUE {
            c.end = (c.start + MIN_CUE).min(next_start.max(c.end));
        }
        c.end = c.end.min(next_start);
    }
    cues.retain(|c| c.end > c.start && !c.text.trim().is_empty());
}

/// Breaks text into at most two balanced lines when it is longer than one line allows.
/// Latin text breaks between words, CJK text between characters (never before punctuation).
pub fn layout(text: &str) -> String {
    let cjk = text.chars().filter(|&c| is_cjk(c)).count() * 2 > text.chars().count();
    let limit = if cjk {
        MAX_LINE_CHARS_CJK
    } else {
        MAX_LINE_CHARS
    };
    if text.chars().count() <= limit {
        return text.to_string();
    }
    // Candidate break positions (byte offsets where line 2 starts).
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut best: Option<(usize, usize)> = None; // (cost, offset)
    for (i, &(off, c)) in chars.iter().enumerate().skip(1) {
        let prev = chars[i - 1].1;
        let ok = if cjk {
            !is_closing_punct(c) && !prev.is_whitespace() && !c.is_whitespace()
        } else {
            prev == ' '
        };
        if !ok {
            continue;
        }
        let first = text[..off].trim_end().chars().count();
        let second = text[off..].trim_start().chars().count();
        // Balanced, slightly bottom-heavy; prefer breaking after punctuation.
        let mut cost = first.abs_diff(second) * 2 + usize::from(first > second);
        let p = text[..off].trim_end().chars().last().unwrap_or(' ');
        if matches!(
            p,
            ',' | '.' | '?' | '!' | ';' | ':' | '，' | '。' | '？' | '！' | '；' | '：' | '、'
        ) {
            cost = cost.saturating_sub(6);
        }
        if best.is_none_or(|(b, _)| cost < b) {
            best = Some((cost, off));
        }
    }
    match best {
        Some((_, off)) => format!("{}\n{}", text[..off].trim_end(), text[off..].trim_start()),
        None => text.to_string(),
    }
}

fn is_closing_punct(c: char) -> bool {
    matches!(
        c,
        '，' | '。'
            | '？'
            | '！'
            | '；'
            | '：'
            | '、'
            | '”'
            | '’'
            | '）'
            | '》'
            | ','
            | '.'
            | '?'
            | '!'
            | ')'
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asr::transcript::{Segment, Word};

    fn w(text: &str, a: f64, b: f64) -> Word {
        Word {
            text: text.into(),
            start: Time::from_secs_f64(a),
            end: Time::from_secs_f64(b),
            probability: 0.9,
        }
    }
    fn seg(text: &str, a: f64, b: f64, words: Vec<Word>) -> Segment {
        Segment {
            start: Time::from_secs_f64(a),
            end: Time::from_secs_f64(b),
            text: text.into(),
            words,
            no_speech_probability: 0.0,
        }
    }

    #[test]
    fn cues_follow_words_not_segment_bounds() {
        let t = Transcript {
            language: "en".into(),
            segments: vec![
                seg(
                    " Hello there.",
                    0.0,
                    3.0,
                    vec![w("Hello", 0.8, 1.1), w("there.", 1.1, 1.6)],
                ),
                seg(" Bye.", 2.9, 6.0, vec![w("Bye.", 4.0, 4.05)]),
            ],
        };
        let cues = cues_from_transcript(&t, Time::from_secs_f64(10.0));
        assert_eq!(cues.len(), 2);
        assert_eq!(
            (cues[0].start, cues[0].end),
            (Time::from_millis(800), Time::from_millis(1600))
        );
        assert_eq!(cues[0].text, "Hello there.");
        // A 50 ms word is extended to the minimum cue length.
        assert_eq!(
            (cues[1].start, cues[1].end),
            (Time::from_millis(4000), Time::from_millis(4200))
        );
    }

    #[test]
    fn overlaps_empty_and_repeats_removed() {
        let t = Transcript {
            language: "en".into(),
            segments: vec![
                seg("One two", 1.0, 3.0, vec![]),
                seg("  ", 2.0, 2.5, vec![]),
                seg("Three", 2.5, 4.0, vec![]),
                seg("Three", 4.0, 5.0, vec![]),
                seg("Past the end", 9.0, 12.0, vec![]),
                seg("Zero", 7.0, 7.0, vec![]),
            ],
        };
        let cues = cues_from_transcript(&t, Time::from_secs_f64(10.0));
        let got: Vec<_> = cues
            .iter()
            .map(|c| (c.text.as_str(), c.start.as_millis(), c.end.as_millis()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("One two", 1000, 2500),
                ("Three", 2500, 4000),
                ("Past the end", 9000, 10000)
            ]
        );
    }

    #[test]
    fn layout_breaks_long_lines_in_two_balanced_lines() {
        let s = "This sentence is clearly longer than forty two characters in total";
        let l = layout(s);
        let lines: Vec<&str> = l.lines().collect();
        assert_eq!(lines.len(), 2, "{l}");
        assert!(lines.iter().all(|x| x.chars().count() <= 42), "{l}");
        assert_eq!(lines.join(" "), s);
        assert_eq!(layout("Short line."), "Short line.");
        let zh = "我们今天来讨论一下，如何把视频剪得更紧凑一些";
        let l = layout(zh);
        let lines: Vec<&str> = l.lines().collect();
        assert_eq!(lines.len(), 2, "{l}");
        assert_eq!(lines.concat(), zh);
        assert!(!lines[1].starts_with('，'));
        assert_eq!(
            lines[0], "我们今天来讨论一下，",
            "breaks after the clause comma"
        );
    }
}
