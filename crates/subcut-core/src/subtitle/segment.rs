//! Words → cues under the readability rules of professional subtitling (defaults from the
//! Netflix timed-text style guide), for English and Chinese.
//!
//! 1. Words are cleaned: hallucination guards drop words far from measured speech and
//!    collapse recogniser loops (the same segment text over and over).
//! 2. Cue boundaries are chosen by dynamic programming over word positions: every cue must
//!    fit its lines, last at most `max_duration` and never span a pause longer than
//!    `max_pause_in_cue` (between its words' times, or between the measured speech spans
//!    its words lie on: [`placement::side`]); among those, the cheapest set of breaks wins (sentence end <
//!    pause < clause punctuation < before a linking word < anywhere), with soft costs for
//!    reading speed, short flashes and internal pauses.
//! 3. Timing: a cue starts at its first word's onset (minus `lead_frames`), ends up to
//!    `linger_frames` after its last word, keeps `min_gap_frames` before the next cue, is
//!    extended to `min_duration` into the following gap when it can be, and never overlaps.

use serde::{Deserialize, Serialize};

use super::layout::{self, is_clause_end, is_linking_word, is_sentence_end};
use super::punctuation::{self, Punctuation};
use super::Cue;
use crate::config::InvalidField;
use crate::placement;
use crate::time::{Span, Time};
use crate::transcript::{Transcript, Word};

/// Every limit of segmentation and cue timing. `None` limits take the language's default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SegmentRules {
    /// Lines per cue.
    pub max_lines: usize,
    /// Characters per line; default 42 (Latin) or 16 (CJK, half-width counts ½).
    pub max_line_chars: Option<f32>,
    /// Reading speed limit in characters per second; default 17 (English adult) or 9 (CJK).
    pub max_cps: Option<f32>,
    /// Shortest time a cue stays up (extended into the following gap); default 5/6 s.
    pub min_duration: Time,
    /// Longest cue; default 7 s.
    pub max_duration: Time,
    /// Frame rate that frame-based limits refer to (the output's; 24 when unknown).
    pub frame_rate: f64,
    /// Frames between consecutive cues.
    pub min_gap_frames: f64,
    /// Frames a cue may start before its first word's onset.
    pub lead_frames: f64,
    /// Frames a cue stays after its last word ends (when the next cue leaves room). The
    /// guide allows up to 12; the default of 10 keeps measured offsets, which can run a
    /// frame or two late, within that.
    pub linger_frames: f64,
    /// A pause at least this long is a good place to end a cue.
    pub pause_break: Time,
    /// A cue never spans a pause this long.
    pub max_pause_in_cue: Time,
    /// How punctuation is written: full-width in Chinese sentences (the default), as the
    /// recogniser wrote it, or the creator style (see [`super::punctuation`]).
    pub punctuation: Punctuation,
}

impl Default for SegmentRules {
    fn default() -> Self {
        SegmentRules {
            max_lines: 2,
            max_line_chars: None,
            max_cps: None,
            min_duration: Time::from_micros(833_333),
            max_duration: Time::from_millis(7_000),
            frame_rate: 24.0,
            min_gap_frames: 2.0,
            lead_frames: 0.0,
            linger_frames: 10.0,
            pause_break: Time::from_millis(500),
            max_pause_in_cue: Time::from_millis(1_000),
            punctuation: Punctuation::default(),
        }
    }
}

/// The limits in effect for one language.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    /// Whether the CJK rules apply (half-width characters count ½, no spaces between words).
    pub cjk: bool,
    /// Lines per cue.
    pub max_lines: usize,
    /// Characters per line (for CJK text a half-width character counts ½).
    pub max_line_chars: f32,
    /// Reading speed limit, in characters per second.
    pub max_cps: f32,
}

impl SegmentRules {
    /// Checks ranges; the message names the field.
    pub fn validate(&self) -> Result<(), InvalidField> {
        let pos = |name: &'static str, v: f64| {
            if v > 0.0 && v.is_finite() {
                Ok(())
            } else {
                Err(InvalidField::new(
                    name,
                    format!("{name} must be positive (got {v})"),
                ))
            }
        };
        let non_neg = |name: &'static str, v: f64| {
            if v >= 0.0 && v.is_finite() {
                Ok(())
            } else {
                Err(InvalidField::new(
                    name,
                    format!("{name} must be zero or more (got {v})"),
                ))
            }
        };
        if !(1..=4).contains(&self.max_lines) {
            return Err(InvalidField::new(
                "max_lines",
                format!("max_lines must be 1…4 (got {})", self.max_lines),
            ));
        }
        if let Some(c) = self.max_line_chars {
            if !(4.0..=200.0).contains(&c) {
                return Err(InvalidField::new(
                    "max_line_chars",
                    format!("max_line_chars must be 4…200 (got {c})"),
                ));
            }
        }
        if let Some(c) = self.max_cps {
            pos("max_cps", c as f64)?;
        }
        pos("frame_rate", self.frame_rate)?;
        pos("max_duration", self.max_duration.as_secs_f64())?;
        non_neg("min_duration", self.min_duration.as_secs_f64())?;
        if self.min_duration > self.max_duration {
            return Err(InvalidField::new(
                "min_duration",
                "min_duration is longer than max_duration",
            ));
        }
        non_neg("min_gap_frames", self.min_gap_frames)?;
        non_neg("lead_frames", self.lead_frames)?;
        non_neg("linger_frames", self.linger_frames)?;
        pos("pause_break", self.pause_break.as_secs_f64())?;
        pos("max_pause_in_cue", self.max_pause_in_cue.as_secs_f64())?;
        Ok(())
    }

    /// Limits for text in `language` (ISO 639-1), or for CJK-looking text.
    pub fn limits(&self, cjk: bool) -> Limits {
        Limits {
            cjk,
            max_lines: self.max_lines,
            max_line_chars: self.max_line_chars.unwrap_or(if cjk { 16.0 } else { 42.0 }),
            max_cps: self.max_cps.unwrap_or(if cjk { 9.0 } else { 17.0 }),
        }
    }

    fn frames(&self, n: f64) -> Time {
        Time::from_secs_f64(n / self.frame_rate)
    }
}

/// Whether a language is written without spaces (CJK rules apply).
fn is_cjk_language(lang: &str) -> bool {
    matches!(lang, "zh" | "ja" | "ko" | "yue" | "wuu")
}

/// Whether [`segment`] lays `t` out by the CJK rules (its language, or its text, is Chinese,
/// Japanese or Korean).
pub fn is_cjk(t: &Transcript) -> bool {
    is_cjk_language(&t.language) || layout::is_cjk_text(&t.text())
}

/// Cues from a transcript. `speech` (measured speech spans, may be empty) lets words far
/// from any speech be dropped as hallucinations.
pub fn segment(t: &Transcript, speech: &[Span], rules: &SegmentRules, media_end: Time) -> Vec<Cue> {
    let mut words = clean_words(t, speech, media_end);
    if rules.punctuation != Punctuation::Keep {
        punctuation::full_width_words(&mut words);
    }
    let cjk = is_cjk(t);
    let limits = rules.limits(cjk);
    // Which measured speech span each word is on: no cue holds words from both sides of a
    // pause of `max_pause_in_cue` or more, whatever the words' own times say.
    let sides: Vec<Option<usize>> = words
        .iter()
        .map(|w| placement::side(Span::new(w.start, w.end), speech))
        .collect();
    let groups = choose_cues(&words, &sides, speech, rules, &limits);
    time_cues(&words, &groups, rules, &limits, media_end)
}

/// Words to caption: from each segment's words (or its text spread over the segment when
/// it has none), without recogniser loops or words far from speech, sorted, non-empty.
fn clean_words(t: &Transcript, speech: &[Span], media_end: Time) -> Vec<Word> {
    let mut out: Vec<Word> = Vec::new();
    let mut last_text: Option<String> = None;
    for seg in &t.segments {
        let norm: String = seg
            .text
            .chars()
            .filter(|c| c.is_alphanumeric())
            .collect::<String>()
            .to_lowercase();
        if norm.is_empty() {
            continue;
        }
        // A recogniser loop repeats a whole segment; speech rarely does, verbatim, at once.
        if last_text.as_deref() == Some(norm.as_str()) {
            continue;
        }
        last_text = Some(norm);
        let words = if seg.words.is_empty() {
            spread(&seg.text, seg.start, seg.end)
        } else {
            seg.words.clone()
        };
        for w in words {
            let text = w.text.trim();
            if text.is_empty() || w.start >= media_end {
                continue;
            }
            if !speech.is_empty() && !near_speech(&w, speech) {
                continue;
            }
            let end = w.end.min(media_end).max(w.start + Time::from_millis(1));
            // Punctuation on its own belongs to the word before it (no line or cue may start with it).
            if text.chars().all(layout::is_closing) {
                if let Some(prev) = out.last_mut() {
                    prev.text.push_str(text);
                    prev.end = prev.end.max(end);
                }
                continue;
            }
            out.push(Word {
                text: text.to_string(),
                start: w.start.max(Time::ZERO),
                end,
                probability: w.probability,
            });
        }
    }
    out.sort_by_key(|w| w.start);
    out
}

/// A word is kept when it overlaps speech widened by 0.3 s: whisper's times are rough, but a
/// word a full second away from any sound was not said.
fn near_speech(w: &Word, speech: &[Span]) -> bool {
    let slack = Time::from_millis(300);
    let i = speech.partition_point(|s| s.end + slack < w.start);
    speech.get(i).is_some_and(|s| s.start - slack <= w.end)
}

/// Words of a segment that has text but no word times: whitespace-separated words (or
/// single characters for CJK), each given a share of the segment proportional to its length.
fn spread(text: &str, start: Time, end: Time) -> Vec<Word> {
    let pieces: Vec<String> = if layout::is_cjk_text(text) {
        let mut v: Vec<String> = Vec::new();
        for c in text.chars().filter(|c| !c.is_whitespace()) {
            match v.last_mut() {
                Some(last) if layout::is_closing(c) => last.push(c),
                _ => v.push(c.to_string()),
            }
        }
        v
    } else {
        text.split_whitespace().map(str::to_string).collect()
    };
    let total: usize = pieces.iter().map(|p| p.chars().count()).sum();
    let dur = (end - start).max(Time::ZERO);
    let mut acc = 0usize;
    pieces
        .into_iter()
        .map(|p| {
            let n = p.chars().count();
            let a = start + Time((dur.0 as i128 * acc as i128 / total.max(1) as i128) as i64);
            acc += n;
            let b = start + Time((dur.0 as i128 * acc as i128 / total.max(1) as i128) as i64);
            Word {
                text: p,
                start: a,
                end: b,
                probability: 1.0,
            }
        })
        .collect()
}

/// The pause between words `i` and `i + 1`: the measured one between the speech spans they
/// lie on when both lie on speech (none inside one span: a gap whisper leaves between two
/// words of continuous speech is a timing error), else the gap between their times.
fn pause_after(words: &[Word], sides: &[Option<usize>], speech: &[Span], i: usize) -> Time {
    match (sides[i], sides.get(i + 1).copied().flatten()) {
        (Some(x), Some(y)) => placement::longest_pause_between(speech, x, y),
        _ => words
            .get(i + 1)
            .map_or(Time::ZERO, |n| n.start - words[i].end),
    }
}

/// How good a cue end after word `i` is (lower is better); `pause` is the pause after it.
fn break_cost(words: &[Word], i: usize, pause: Time, rules: &SegmentRules) -> f32 {
    if i + 1 >= words.len() {
        return 0.0;
    }
    let w = &words[i];
    let last = w
        .text
        .trim_end_matches(['"', '\'', '”', '’', ')', '）', '」', '』'])
        .chars()
        .last()
        .unwrap_or(' ');
    if is_sentence_end(last) {
        0.0
    } else if pause >= rules.pause_break {
        0.3
    } else if is_clause_end(last) {
        0.8
    } else if is_linking_word(&words[i + 1].text) {
        2.0
    } else {
        4.0
    }
}

/// The word ranges `[a, b)` of each cue.
fn choose_cues(
    words: &[Word],
    sides: &[Option<usize>],
    speech: &[Span],
    rules: &SegmentRules,
    lim: &Limits,
) -> Vec<(usize, usize)> {
    let n = words.len();
    if n == 0 {
        return Vec::new();
    }
    let pause: Vec<Time> = (0..n)
        .map(|i| pause_after(words, sides, speech, i))
        .collect();
    let brk: Vec<f32> = (0..n)
        .map(|i| break_cost(words, i, pause[i], rules))
        .collect();
    // best[j]: cheapest segmentation of words[..j].
    let mut best = vec![(f32::INFINITY, 0usize); n + 1];
    best[0] = (0.0, 0);
    for a in 0..n {
        if !best[a].0.is_finite() {
            continue;
        }
        let mut text = String::new();
        let mut internal = 0.0f32;
        for b in a + 1..=n {
            let w = &words[b - 1];
            if b > a + 1 {
                let gap = w.start - words[b - 2].end;
                if gap >= rules.max_pause_in_cue || pause[b - 2] >= rules.max_pause_in_cue {
                    break;
                }
                if pause[b - 2] >= rules.pause_break {
                    internal += 3.0;
                }
                let prev_last = words[b - 2].text.chars().last().unwrap_or(' ');
                if is_sentence_end(prev_last) {
                    internal += 1.2;
                }
            }
            layout::join_into(&mut text, &w.text);
            let single = b == a + 1;
            let speech_dur = w.end - words[a].start;
            if !single && speech_dur > rules.max_duration {
                break;
            }
            let lay = layout::layout(&text, lim.max_line_chars, lim.max_lines);
            let lay_cost = match &lay {
                Some((_, c)) => *c,
                None if single => 10.0, // a word longer than a line: shown alone, reported by `check`
                None => break,
            };
            // Reading speed against the time the cue can stay up.
            let shown = (speech_dur + rules.frames(rules.linger_frames))
                .max(rules.min_duration)
                .as_secs_f64() as f32;
            let cps = layout::width(&text, lim.cjk) / shown.max(0.001);
            let cps_cost = if cps > lim.max_cps {
                2.0 * (cps / lim.max_cps - 1.0)
            } else {
                0.0
            };
            let flash = if speech_dur < rules.min_duration && b - a <= 2 {
                0.5
            } else {
                0.0
            };
            let cost = best[a].0 + 1.0 + brk[b - 1] + internal + 0.2 * lay_cost + cps_cost + flash;
            if cost < best[b].0 {
                best[b] = (cost, a);
            }
        }
    }
    let mut out = Vec::new();
    let mut b = n;
    while b > 0 {
        let a = best[b].1;
        out.push((a, b));
        b = a;
    }
    out.reverse();
    out
}

/// Times and lays out each chosen cue.
fn time_cues(
    words: &[Word],
    groups: &[(usize, usize)],
    rules: &SegmentRules,
    lim: &Limits,
    media_end: Time,
) -> Vec<Cue> {
    let gap = rules.frames(rules.min_gap_frames);
    let lead = rules.frames(rules.lead_frames);
    let linger = rules.frames(rules.linger_frames);
    let starts: Vec<Time> = groups
        .iter()
        .map(|&(a, _)| (words[a].start - lead).max(Time::ZERO))
        .collect();
    let mut cues: Vec<Cue> = Vec::with_capacity(groups.len());
    for (k, &(a, b)) in groups.iter().enumerate() {
        let text_words: Vec<&str> = words[a..b].iter().map(|w| w.text.as_str()).collect();
        let text = layout::join(&text_words);
        let mut lines = layout::layout(&text, lim.max_line_chars, lim.max_lines)
            .map_or_else(|| vec![text.clone()], |(l, _)| l);
        if rules.punctuation == Punctuation::Creator {
            lines = lines
                .iter()
                .map(|l| punctuation::creator_line(l))
                .filter(|l| !l.is_empty())
                .collect();
            if lines.is_empty() {
                continue; // nothing but commas and full stops
            }
        }
        let mut start = starts[k];
        if let Some(prev) = cues.last() {
            start = start.max(prev.end + gap).max(prev.end);
        }
        let speech_end = words[a..b].iter().map(|w| w.end).max().unwrap_or(start);
        let limit = starts
            .get(k + 1)
            .map_or(media_end, |&n| (n - gap).max(start))
            .min(media_end);
        let mut end = (speech_end + linger).min(limit);
        if end - start < rules.min_duration {
            end = (start + rules.min_duration).min(limit).max(end);
        }
        end = end.min(start + rules.max_duration.max(speech_end - start));
        if end <= start {
            // No room at all (words packed tighter than the gap): share the time that is there.
            end = starts
                .get(k + 1)
                .copied()
                .unwrap_or(media_end)
                .min(media_end);
            if end <= start {
                continue;
            }
        }
        cues.push(Cue {
            start,
            end,
            text: lines.join("\n"),
        });
    }
    cues
}

/// One broken rule in a cue list.
#[derive(Clone, Debug, PartialEq)]
pub struct Violation {
    /// Index of the cue (0-based).
    cue: usize,
    rule: &'static str,
    detail: String,
}

/// Checks cues against the rules; returns every violation (some are unavoidable, e.g. a
/// word longer than a line, or speech faster than the reading-speed limit with no gap to
/// extend into). `frame_slack` tolerates rounding of times to milliseconds.
pub fn check(cues: &[Cue], rules: &SegmentRules, cjk: bool, media_end: Time) -> Vec<Violation> {
    let lim = rules.limits(cjk);
    let gap = rules.frames(rules.min_gap_frames) - Time::from_millis(1);
    let mut v = Vec::new();
    let mut push = |cue, rule, detail: String| v.push(Violation { cue, rule, detail });
    for (i, c) in cues.iter().enumerate() {
        let lines: Vec<&str> = c.text.lines().collect();
        if c.text.trim().is_empty() {
            push(i, "empty", String::new());
        }
        if c.end <= c.start {
            push(i, "zero-length", format!("{}–{}", c.start, c.end));
        }
        if lines.len() > lim.max_lines {
            push(i, "lines", format!("{} lines", lines.len()));
        }
        for l in &lines {
            let w = layout::width(l, lim.cjk);
            if w > lim.max_line_chars + 1e-3 {
                push(
                    i,
                    "line-length",
                    format!("{w} > {} in {l:?}", lim.max_line_chars),
                );
            }
            if l.starts_with(layout::is_closing) && lim.cjk {
                push(i, "line-start-punctuation", format!("{l:?}"));
            }
        }
        let d = c.end - c.start;
        if d > rules.max_duration {
            push(i, "max-duration", format!("{d}"));
        }
        if d + Time::from_millis(1) < rules.min_duration {
            push(i, "min-duration", format!("{d}"));
        }
        let chars: f32 = lines.iter().map(|l| layout::width(l, lim.cjk)).sum();
        let cps = chars / d.as_secs_f64().max(0.001) as f32;
        if cps > lim.max_cps + 0.05 {
            push(i, "reading-speed", format!("{cps:.1} cps"));
        }
        if c.end > media_end {
            push(i, "past-end", format!("{} > {media_end}", c.end));
        }
        if let Some(n) = cues.get(i + 1) {
            if n.start < c.end {
                push(i, "overlap", format!("next starts {}", n.start));
            } else if n.start - c.end < gap {
                push(i, "gap", format!("{}", n.start - c.end));
            }
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::Segment;

    fn w(text: &str, a: f64, b: f64) -> Word {
        Word {
            text: text.into(),
            start: Time::from_secs_f64(a),
            end: Time::from_secs_f64(b),
            probability: 0.9,
        }
    }

    fn transcript(lang: &str, words: Vec<Word>) -> Transcript {
        let seg = Segment {
            start: words[0].start,
            end: words.last().unwrap().end,
            text: layout::join(&words.iter().map(|w| w.text.as_str()).collect::<Vec<_>>()),
            words,
            no_speech_probability: 0.0,
            language: String::new(),
        };
        Transcript {
            language: lang.into(),
            segments: vec![seg],
        }
    }

    /// Words of `text` spread evenly over [a, b).
    fn said(text: &str, a: f64, b: f64) -> Vec<Word> {
        let ws: Vec<&str> = text.split_whitespace().collect();
        let step = (b - a) / ws.len() as f64;
        ws.iter()
            .enumerate()
            .map(|(i, t)| w(t, a + step * i as f64, a + step * (i as f64 + 0.9)))
            .collect()
    }

    fn texts(c: &[Cue]) -> Vec<String> {
        c.iter().map(|c| c.text.replace('\n', " / ")).collect()
    }

    #[test]
    fn sentences_separated_by_pauses_become_their_own_cues() {
        let mut words = said("The cat sat on the mat in the sun.", 0.8, 2.836);
        words.extend(said(
            "We like to walk to the park after lunch.",
            4.036,
            6.535,
        ));
        let first_end = words[8].end;
        let cues = segment(
            &transcript("en", words),
            &[],
            &SegmentRules::default(),
            Time::from_secs_f64(15.0),
        );
        assert_eq!(
            texts(&cues),
            [
                "The cat sat on the mat in the sun.",
                "We like to walk to the park after lunch."
            ]
        );
        assert_eq!(
            cues[0].start,
            Time::from_millis(800),
            "starts at the first word's onset"
        );
        assert_eq!(
            cues[0].end,
            first_end + Time::from_micros(416_667),
            "lingers 10 frames at 24 fps"
        );
        assert_eq!(cues[1].start, Time::from_millis(4_036));
    }

    /// A word whose times straddle a measured pause (here without punctuation to tell) is in
    /// the cue of the speech it mostly lies on, never in the cue before the pause.
    #[test]
    fn a_word_straddling_a_long_pause_stays_on_its_side() {
        let mut words = said("the cat sat on the mat in the sun", 0.8, 2.836);
        words.push(w("we", 2.84, 4.3));
        words.extend(said("like to walk to the park", 4.3, 6.5));
        let speech = [Span::secs(0.79, 2.85), Span::secs(4.03, 6.55)];
        let t = transcript("en", words);
        let cues = segment(
            &t,
            &speech,
            &SegmentRules::default(),
            Time::from_secs_f64(15.0),
        );
        assert_eq!(
            texts(&cues),
            [
                "the cat sat on the mat in the sun",
                "we like to walk to the park"
            ]
        );
        // Without the measured speech only the words' own gaps count: one cue across the pause.
        let blind = segment(&t, &[], &SegmentRules::default(), Time::from_secs_f64(15.0));
        assert!(texts(&blind)[0].contains("sun we"), "{:?}", texts(&blind));
    }

    #[test]
    fn long_speech_is_split_at_clauses_within_the_limits() {
        let text = "So when we finally got to the station after a very long walk, the last train had already left, and we had to wait for the morning bus which was late as well.";
        let cues = segment(
            &transcript("en", said(text, 1.0, 11.0)),
            &[],
            &SegmentRules::default(),
            Time::from_secs_f64(20.0),
        );
        assert!(cues.len() >= 3, "{:?}", texts(&cues));
        let joined: Vec<String> = cues.iter().map(|c| c.text.replace('\n', " ")).collect();
        assert_eq!(joined.join(" "), text);
        assert!(
            cues[0].text.replace('\n', " ").ends_with(','),
            "first cue ends at a clause: {:?}",
            texts(&cues)
        );
        assert!(check(
            &cues,
            &SegmentRules::default(),
            false,
            Time::from_secs_f64(20.0)
        )
        .iter()
        .all(|v| v.rule == "reading-speed"));
    }

    /// whisper's ASCII marks in Chinese, by punctuation style: full-width (the default) in
    /// the Chinese sentences only, as written (keep), and the creator style after layout.
    #[test]
    fn punctuation_styles() {
        let text = "大家好, 我的 名字 是 小明. 我 用 iPhone 15, 很好! It works, really. 对吗? 我们 今天 来 讨论 一下, 如何 把 视频 剪 得 更 紧凑 一些.";
        let words: Vec<Word> = text
            .split_whitespace()
            .enumerate()
            .map(|(i, t)| w(t, 0.5 + i as f64 * 0.3, 0.5 + i as f64 * 0.3 + 0.28))
            .collect();
        let t = transcript("zh", words);
        let run = |p: Punctuation, lines: usize| {
            let rules = SegmentRules {
                punctuation: p,
                max_lines: lines,
                max_cps: Some(30.0),
                ..SegmentRules::default()
            };
            segment(&t, &[], &rules, Time::from_secs_f64(30.0))
        };
        let all = |c: &[Cue]| {
            c.iter()
                .map(|c| c.text.replace('\n', "|"))
                .collect::<Vec<_>>()
                .join("/")
        };
        let full = all(&run(Punctuation::FullWidth, 2));
        assert_eq!(
            full,
            "大家好，我的名字是小明。/我用iPhone 15，很好！/It works,|really./对吗？我们今天来讨论一下，|如何把视频剪得更紧凑一些。"
        );
        let keep = all(&run(Punctuation::Keep, 2));
        assert!(
            keep.contains("大家好,我的") && keep.contains("15,很好!"),
            "{keep}"
        );
        let creator = run(Punctuation::Creator, 1);
        for c in &creator {
            assert!(!c.text.ends_with(['，', '。']), "{c:?}");
            assert!(!c.text.contains(['\n']), "one line: {c:?}");
            assert!(layout::width(&c.text, true) <= 16.0, "{c:?}");
        }
        let creator = all(&creator);
        assert!(!creator.contains(['，', '。']), "{creator}");
        assert!(creator.contains("大家好 我的名字是小明"), "{creator}");
        assert!(
            creator.contains("很好！") && creator.contains("对吗？"),
            "{creator}"
        );
        assert!(
            creator.contains("It works,") && creator.contains("really."),
            "English keeps its own: {creator}"
        );
    }

    #[test]
    fn chinese_lines_and_no_spaces() {
        let words: Vec<Word> =
            "我们 今天 来 讨论 一下 ， 如何 把 视频 剪 得 更 紧凑 一些 。 首先 要 找到 停顿 。"
                .split_whitespace()
                .enumerate()
                .map(|(i, t)| w(t, 0.5 + i as f64 * 0.3, 0.5 + i as f64 * 0.3 + 0.28))
                .collect();
        let cues = segment(
            &transcript("zh", words),
            &[],
            &SegmentRules::default(),
            Time::from_secs_f64(10.0),
        );
        for c in &cues {
            assert!(!c.text.contains(' '), "{c:?}");
            for l in c.text.lines() {
                assert!(layout::width(l, true) <= 16.0, "{c:?}");
                assert!(!l.starts_with(layout::is_closing), "{c:?}");
            }
        }
        assert_eq!(
            cues.iter()
                .map(|c| c.text.replace('\n', ""))
                .collect::<String>(),
            "我们今天来讨论一下，如何把视频剪得更紧凑一些。首先要找到停顿。"
        );
    }

    #[test]
    fn loops_and_words_far_from_speech_are_dropped() {
        let seg = |text: &str, a: f64, b: f64| Segment {
            start: Time::from_secs_f64(a),
            end: Time::from_secs_f64(b),
            text: text.into(),
            words: said(text, a, b),
            no_speech_probability: 0.0,
            language: String::new(),
        };
        let t = Transcript {
            language: "en".into(),
            segments: vec![
                seg("Thank you.", 1.0, 2.0),
                seg("Thank you.", 2.0, 3.0),
                seg("Subscribe now.", 20.0, 21.0),
                seg("Bye.", 4.0, 4.5),
            ],
        };
        let speech = [Span::secs(1.0, 3.0), Span::secs(4.0, 4.5)];
        let cues = segment(
            &t,
            &speech,
            &SegmentRules::default(),
            Time::from_secs_f64(30.0),
        );
        assert_eq!(texts(&cues), ["Thank you.", "Bye."]);
    }

    #[test]
    fn segments_without_words_are_spread() {
        let t = Transcript {
            language: "en".into(),
            segments: vec![Segment {
                start: Time::from_secs_f64(1.0),
                end: Time::from_secs_f64(3.0),
                text: " Hello there world.".into(),
                words: vec![],
                no_speech_probability: 0.0,
                language: String::new(),
            }],
        };
        let cues = segment(&t, &[], &SegmentRules::default(), Time::from_secs_f64(5.0));
        assert_eq!(texts(&cues), ["Hello there world."]);
        assert_eq!(cues[0].start, Time::from_secs_f64(1.0));
    }

    #[test]
    fn short_cues_are_extended_but_keep_the_gap() {
        let words = vec![w("Hi.", 1.0, 1.2), w("Go!", 1.6, 1.8)];
        let rules = SegmentRules {
            pause_break: Time::from_millis(300),
            ..SegmentRules::default()
        };
        let cues = segment(
            &transcript("en", words),
            &[],
            &rules,
            Time::from_secs_f64(2.0),
        );
        assert!(
            check(&cues, &rules, false, Time::from_secs_f64(2.0))
                .iter()
                .all(|v| v.rule == "min-duration"),
            "{cues:?}"
        );
        for p in cues.windows(2) {
            assert!(p[1].start - p[0].end >= rules.frames(2.0) - Time::from_millis(1));
        }
        assert!(cues.last().unwrap().end <= Time::from_secs_f64(2.0));
    }

    #[test]
    fn validation_names_the_field() {
        assert!(SegmentRules::default().validate().is_ok());
        let bad = SegmentRules {
            max_lines: 0,
            ..SegmentRules::default()
        };
        assert_eq!(bad.validate().unwrap_err().field, "max_lines");
        let bad = SegmentRules {
            frame_rate: 0.0,
            ..SegmentRules::default()
        };
        assert_eq!(bad.validate().unwrap_err().field, "frame_rate");
        let bad = SegmentRules {
            max_line_chars: Some(1.0),
            ..SegmentRules::default()
        };
        assert_eq!(bad.validate().unwrap_err().field, "max_line_chars");
        let parsed: SegmentRules =
            serde_json::from_str(r#"{"max_line_chars": 32, "max_duration": 6.5}"#).unwrap();
        assert_eq!(parsed.max_line_chars, Some(32.0));
        assert_eq!(parsed.max_duration, Time::from_millis(6_500));
        assert!(serde_json::from_str::<SegmentRules>(r#"{"max_line_char": 32}"#).is_err());
    }

    /// Random transcripts: cues never overlap, are ordered, non-empty, inside the media,
    /// keep every word, and only break rules that cannot be kept.
    #[test]
    fn invariants_on_random_transcripts() {
        let mut rng = crate::testutil::Rng::new(0xdead_beef_1234_5678u64);
        let mut rnd = move || rng.unit();
        let vocab = [
            "I",
            "think",
            "that",
            "we",
            "should",
            "go,",
            "now.",
            "really?",
            "and",
            "the",
            "extraordinarily",
            "small",
            "dog",
        ];
        let zh = [
            "我们", "今天", "讨论", "，", "视频", "剪辑", "。", "好", "的",
        ];
        for round in 0..300 {
            let cjk = round % 3 == 0;
            let mut words = Vec::new();
            let mut x = rnd() * 2.0;
            for _ in 0..(1 + (rnd() * 60.0) as usize) {
                let d = 0.05 + rnd() * 0.5;
                let t = if cjk {
                    zh[(rnd() * zh.len() as f64) as usize % zh.len()]
                } else {
                    vocab[(rnd() * vocab.len() as f64) as usize % vocab.len()]
                };
                words.push(w(t, x, x + d));
                x += d + if rnd() < 0.1 {
                    0.5 + rnd() * 2.0
                } else {
                    rnd() * 0.15
                };
            }
            let end = Time::from_secs_f64(x + rnd() * 2.0);
            let t = transcript(if cjk { "zh" } else { "en" }, words.clone());
            let rules = SegmentRules::default();
            let cues = segment(&t, &[], &rules, end);
            let all: String = cues
                .iter()
                .map(|c| c.text.replace('\n', if cjk { "" } else { " " }))
                .collect::<Vec<_>>()
                .join(if cjk { "" } else { " " });
            let expect = layout::join(&words.iter().map(|w| w.text.as_str()).collect::<Vec<_>>());
            let expect = expect.trim_start_matches(layout::is_closing);
            assert_eq!(all, expect, "no word lost or added");
            for v in check(&cues, &rules, cjk, end) {
                assert!(
                    matches!(v.rule, "reading-speed" | "min-duration"),
                    "{v:?} in {cues:?}"
                );
            }
            for c in &cues {
                let first_word = words.iter().find(|w| {
                    c.text.starts_with(w.text.as_str()) && w.start >= c.start - Time::from_millis(1)
                });
                assert!(first_word.is_some());
            }
        }
    }
}
