//! Script alignment: the user already has the words (a script, or an existing subtitle
//! file); the recogniser supplies the timing.
//!
//! Both word lists are normalised (case, punctuation, CJK split into characters) and
//! aligned with a banded Needleman–Wunsch alignment that scores exact matches high,
//! similar spellings lower, and still pairs substitutions (a recognition error is usually
//! the right word at the right time, heard wrong). Paired script words take their
//! partner's time; runs of unpaired words are spread over the time between their paired
//! neighbours, in proportion to their length. For subtitle files, [`retime_cues`] keeps
//! every cue's text and fixes offset and drift with a robust straight-line fit.

use crate::subtitle::layout;
use crate::subtitle::Cue;
use crate::time::Time;
use crate::transcript::{is_cjk, Segment, Transcript, Word};

/// One word of the given text and the line (script line or cue) it belongs to.
#[derive(Clone, Debug, PartialEq)]
pub struct ScriptWord {
    text: String,
    line: usize,
}

/// Splits lines of text into words: whitespace-separated, and CJK text into single
/// characters (punctuation stays with the character before it).
pub fn script_words<'a>(lines: impl IntoIterator<Item = &'a str>) -> Vec<ScriptWord> {
    let mut out = Vec::new();
    for (line, text) in lines.into_iter().enumerate() {
        for tok in split_tokens(text) {
            out.push(ScriptWord { text: tok, line });
        }
    }
    out
}

fn split_tokens(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in text.split_whitespace() {
        if !w.chars().any(is_cjk) {
            out.push(w.to_string());
            continue;
        }
        let mut latin = String::new();
        for c in w.chars() {
            if is_cjk(c) && !layout::is_closing(c) {
                if !latin.is_empty() {
                    out.push(std::mem::take(&mut latin));
                }
                out.push(c.to_string());
            } else if layout::is_closing(c) && latin.is_empty() {
                match out.last_mut() {
                    Some(last) => last.push(c),
                    None => latin.push(c),
                }
            } else {
                latin.push(c);
            }
        }
        if !latin.is_empty() {
            out.push(latin);
        }
    }
    out
}

/// Lowercase letters and digits only; Traditional Chinese folded to Simplified so either
/// script matches.
fn norm(s: &str) -> String {
    crate::subtitle::zh::to_simplified(s)
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Recognised words split like script words (CJK words into characters sharing the word's time).
fn heard_tokens(t: &Transcript) -> Vec<Word> {
    let mut out = Vec::new();
    for w in t.words() {
        let toks = split_tokens(&w.text);
        let total: usize = toks.iter().map(|t| t.chars().count()).sum::<usize>().max(1);
        let dur = w.end - w.start;
        let mut acc = 0;
        for tok in toks {
            let a = w.start + Time(dur.0 * acc as i64 / total as i64);
            acc += tok.chars().count();
            let b = w.start + Time(dur.0 * acc as i64 / total as i64);
            out.push(Word {
                text: tok,
                start: a,
                end: b,
                probability: w.probability,
            });
        }
    }
    out
}

/// Edit-distance similarity in 0..=1.
fn similarity(a: &str, b: &str) -> f32 {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.is_empty() || b.is_empty() {
        return if a == b { 1.0 } else { 0.0 };
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            cur[j] = (prev[j - 1] + usize::from(a[i - 1] != b[j - 1]))
                .min(prev[j] + 1)
                .min(cur[j - 1] + 1);
        }
        prev = cur;
    }
    1.0 - prev[b.len()] as f32 / a.len().max(b.len()) as f32
}

/// For each script word, the index of the heard word it is paired with.
fn align(script: &[String], heard: &[String]) -> Vec<Option<usize>> {
    let (n, m) = (script.len(), heard.len());
    if n == 0 || m == 0 {
        return vec![None; n];
    }
    let sn: Vec<String> = script.iter().map(|s| norm(s)).collect();
    let hn: Vec<String> = heard.iter().map(|s| norm(s)).collect();
    let score = |i: usize, j: usize| -> f32 {
        let (a, b) = (&sn[i], &hn[j]);
        if a == b {
            2.0
        } else {
            let s = similarity(a, b);
            if s >= 0.5 {
                1.0
            } else {
                -0.5
            }
        }
    };
    const GAP: f32 = -1.0;
    // Band around the diagonal i·m/n, wide enough for the length difference.
    let half = (n.abs_diff(m) + 64).max(n.max(m) / 8).min(n.max(m));
    let width = 2 * half + 1;
    let lo = |i: usize| (i * m / n).saturating_sub(half);
    // back[i][k]: 0 diag, 1 up (script word unpaired), 2 left (heard word unpaired).
    let mut back = vec![0u8; (n + 1) * width];
    let mut prev = vec![f32::NEG_INFINITY; m + 1];
    let mut cur = vec![f32::NEG_INFINITY; m + 1];
    prev[0] = 0.0;
    for j in 1..=m.min(lo(0) + width - 1) {
        prev[j] = GAP * j as f32;
        if j >= lo(0) {
            back[j - lo(0)] = 2;
        }
    }
    for i in 1..=n {
        let (a, b) = (lo(i), (lo(i) + width - 1).min(m));
        cur.iter_mut().for_each(|v| *v = f32::NEG_INFINITY);
        for j in a..=b {
            let mut best = (prev[j] + GAP, 1u8);
            if j > 0 {
                let d = prev[j - 1] + score(i - 1, j - 1);
                if d > best.0 {
                    best = (d, 0);
                }
                let l = cur[j - 1] + GAP;
                if l > best.0 {
                    best = (l, 2);
                }
            }
            cur[j] = best.0;
            back[i * width + (j - a)] = best.1;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    let mut out = vec![None; n];
    let (mut i, mut j) = (n, m);
    while i > 0 && j > 0 {
        let k = j.checked_sub(lo(i)).filter(|&k| k < width);
        let step = k.map_or(1, |k| back[i * width + k]);
        match step {
            0 => {
                out[i - 1] = Some(j - 1);
                i -= 1;
                j -= 1;
            }
            1 => i -= 1,
            _ => j -= 1,
        }
    }
    out
}

/// Times for every script word: its partner's when paired, else spread over the time
/// between the paired neighbours (proportional to length, at most ~0.1 s per character).
fn time_words(script: &[ScriptWord], heard: &[Word], pairs: &[Option<usize>]) -> Vec<Word> {
    let n = script.len();
    let mut times: Vec<Option<(Time, Time)>> = pairs
        .iter()
        .map(|p| p.map(|j| (heard[j].start, heard[j].end)))
        .collect();
    // Keep paired times monotonic.
    let mut last = Time::ZERO;
    for t in times.iter_mut().flatten() {
        t.0 = t.0.max(last);
        t.1 = t.1.max(t.0 + Time::from_millis(1));
        last = t.0;
    }
    let len = |i: usize| script[i].text.chars().count().max(1) as i64;
    let per_char = Time::from_millis(100);
    let mut i = 0;
    while i < n {
        if times[i].is_some() {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < n && times[j].is_none() {
            j += 1;
        }
        let chars: i64 = (i..j).map(len).sum();
        let natural = Time(per_char.0 * chars);
        let prev_end = (0..i).rev().find_map(|k| times[k]).map(|t| t.1);
        let next_start = times.get(j).copied().flatten().map(|t| t.0);
        let (a, b) = match (prev_end, next_start) {
            (Some(p), Some(q)) if q > p => (p, q.min(p + natural)),
            (Some(p), Some(_)) => (p, p + Time::from_millis(chars)),
            (Some(p), None) => (p, p + natural),
            (None, Some(q)) => ((q - natural).max(Time::ZERO), q),
            (None, None) => (Time::ZERO, natural),
        };
        let mut acc = 0;
        for (k, slot) in times.iter_mut().enumerate().take(j).skip(i) {
            let s = a + Time((b - a).0 * acc / chars);
            acc += len(k);
            let e = a + Time((b - a).0 * acc / chars);
            *slot = Some((s, e.max(s + Time::from_millis(1))));
        }
        i = j;
    }
    script
        .iter()
        .zip(times)
        .map(|(w, t)| {
            let (s, e) = t.expect("every word timed");
            Word {
                text: w.text.clone(),
                start: s,
                end: e,
                probability: 1.0,
            }
        })
        .collect()
}

/// A transcript of the script's words with the heard timing: one segment per script line.
pub fn aligned_transcript(script: &[ScriptWord], heard: &Transcript) -> Transcript {
    let heard_words = heard_tokens(heard);
    let s: Vec<String> = script.iter().map(|w| w.text.clone()).collect();
    let h: Vec<String> = heard_words.iter().map(|w| w.text.clone()).collect();
    let pairs = align(&s, &h);
    let timed = time_words(script, &heard_words, &pairs);
    let mut segments: Vec<Segment> = Vec::new();
    for (i, w) in timed.into_iter().enumerate() {
        if i == 0 || script[i - 1].line != script[i].line {
            segments.push(Segment {
                start: w.start,
                end: w.end,
                text: String::new(),
                words: Vec::new(),
                no_speech_probability: 0.0,
                language: String::new(),
            });
        }
        let seg = segments.last_mut().expect("pushed above");
        layout::join_into(&mut seg.text, &w.text);
        seg.end = seg.end.max(w.end);
        seg.words.push(w);
    }
    Transcript {
        language: heard.language.clone(),
        segments,
    }
}

/// How a subtitle file's times were corrected: `new = scale · old + offset`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fit {
    scale: f64,
    offset: Time,
    /// Words paired between the file's text and the recognised speech.
    matched: usize,
}

/// Keeps every cue's text and fixes its times against the heard words: each paired word
/// gives (its estimated time in the file, its heard time); a Theil–Sen line through those
/// points (robust to bad pairs) maps every cue. With fewer than 2 pairs, cues are unchanged.
pub fn retime_cues(cues: &[Cue], heard: &Transcript) -> (Vec<Cue>, Fit) {
    let script = script_words(cues.iter().map(|c| c.text.as_str()));
    let heard_words = heard_tokens(heard);
    let s: Vec<String> = script.iter().map(|w| w.text.clone()).collect();
    let h: Vec<String> = heard_words.iter().map(|w| w.text.clone()).collect();
    let pairs = align(&s, &h);
    // Estimated time of each script word inside its cue: by character position.
    let mut points: Vec<(f64, f64)> = Vec::new();
    let mut k = 0;
    for (ci, c) in cues.iter().enumerate() {
        let words: Vec<usize> = (k..script.len())
            .take_while(|&i| script[i].line == ci)
            .collect();
        k += words.len();
        let total: usize = words
            .iter()
            .map(|&i| script[i].text.chars().count())
            .sum::<usize>()
            .max(1);
        let mut acc = 0;
        for &i in &words {
            let old =
                c.start.as_secs_f64() + (c.end - c.start).as_secs_f64() * acc as f64 / total as f64;
            acc += script[i].text.chars().count();
            if let Some(j) = pairs[i] {
                if norm(&script[i].text) == norm(&heard_words[j].text) {
                    points.push((old, heard_words[j].start.as_secs_f64()));
                }
            }
        }
    }
    let matched = points.len();
    if matched < 2 {
        return (
            cues.to_vec(),
            Fit {
                scale: 1.0,
                offset: Time::ZERO,
                matched,
            },
        );
    }
    // Theil–Sen: median slope over pairs of points (subsampled when many), median intercept.
    let step = (matched / 400).max(1);
    let sample: Vec<(f64, f64)> = points.iter().copied().step_by(step).collect();
    let mut slopes = Vec::new();
    for a in 0..sample.len() {
        for b in a + 1..sample.len() {
            let dx = sample[b].0 - sample[a].0;
            if dx.abs() > 1.0 {
                slopes.push((sample[b].1 - sample[a].1) / dx);
            }
        }
    }
    let scale = if slopes.is_empty() {
        1.0
    } else {
        median(&mut slopes).clamp(0.5, 2.0)
    };
    let mut intercepts: Vec<f64> = points.iter().map(|(x, y)| y - scale * x).collect();
    let offset = median(&mut intercepts);
    let map = |t: Time| Time::from_secs_f64((scale * t.as_secs_f64() + offset).max(0.0));
    let mut out: Vec<Cue> = cues
        .iter()
        .map(|c| Cue {
            start: map(c.start),
            end: map(c.end),
            text: c.text.clone(),
        })
        .collect();
    for i in 1..out.len() {
        if out[i].start < out[i - 1].end {
            out[i - 1].end = out[i].start;
        }
    }
    out.retain(|c| c.end > c.start);
    (
        out,
        Fit {
            scale,
            offset: Time::from_secs_f64(offset),
            matched,
        },
    )
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heard(words: &[(&str, f64, f64)]) -> Transcript {
        let words: Vec<Word> = words
            .iter()
            .map(|&(t, a, b)| Word {
                text: t.into(),
                start: Time::from_secs_f64(a),
                end: Time::from_secs_f64(b),
                probability: 0.9,
            })
            .collect();
        Transcript {
            language: "en".into(),
            segments: vec![Segment {
                start: words[0].start,
                end: words.last().unwrap().end,
                text: String::new(),
                words,
                no_speech_probability: 0.0,
                language: String::new(),
            }],
        }
    }

    #[test]
    fn tokens_split_cjk_and_keep_punctuation() {
        let w: Vec<String> = script_words(["我们用Python写代码，好吗？", "Hello, world!"])
            .into_iter()
            .map(|w| w.text)
            .collect();
        assert_eq!(
            w,
            [
                "我", "们", "用", "Python", "写", "代", "码，", "好", "吗？", "Hello,", "world!"
            ]
        );
    }

    #[test]
    fn alignment_pairs_matches_and_substitutions() {
        let s: Vec<String> = "the train leaves the station at nine"
            .split(' ')
            .map(String::from)
            .collect();
        let h: Vec<String> = "the train leaves station at Iain"
            .split(' ')
            .map(String::from)
            .collect();
        let p = align(&s, &h);
        assert_eq!(
            p,
            [Some(0), Some(1), Some(2), None, Some(3), Some(4), Some(5)]
        );
        assert_eq!(align(&s, &[]), vec![None; 7]);
    }

    #[test]
    fn unpaired_words_are_spread_between_neighbours() {
        let script = script_words(["Please bring me a cup of hot tea."]);
        let t = aligned_transcript(
            &script,
            &heard(&[
                ("Please", 1.0, 1.3),
                ("bring", 1.3, 1.6),
                ("cup", 2.0, 2.3),
                ("of", 2.3, 2.4),
                ("hot", 2.4, 2.7),
                ("tea.", 2.7, 3.0),
            ]),
        );
        let w: Vec<(String, f64, f64)> = t
            .words()
            .map(|w| (w.text.clone(), w.start.as_secs_f64(), w.end.as_secs_f64()))
            .collect();
        assert_eq!(w.len(), 8);
        assert_eq!(w[0], ("Please".into(), 1.0, 1.3));
        assert!(
            w[2].1 >= 1.6 && w[3].2 <= 2.0 && w[2].1 < w[3].1,
            "me, a between bring and cup: {w:?}"
        );
        assert_eq!(t.segments.len(), 1);
        assert_eq!(t.segments[0].text, "Please bring me a cup of hot tea.");
    }

    #[test]
    fn ten_percent_wrong_words_still_time_every_word() {
        // 40 words heard 0.4 s apart; the script has every 10th word different.
        let words: Vec<String> = (0..40).map(|i| format!("word{i}")).collect();
        let heard_words: Vec<(&str, f64, f64)> = words
            .iter()
            .enumerate()
            .map(|(i, w)| (w.as_str(), i as f64 * 0.4, i as f64 * 0.4 + 0.3))
            .collect();
        let mut script_text = words.clone();
        for i in (5..40).step_by(10) {
            script_text[i] = format!("other{i}");
        }
        let script = script_words([script_text.join(" ").as_str()]);
        let t = aligned_transcript(&script, &heard(&heard_words));
        for (i, w) in t.words().enumerate() {
            assert!(
                (w.start.as_secs_f64() - i as f64 * 0.4).abs() < 0.05,
                "{i}: {w:?}"
            );
        }
    }

    #[test]
    fn long_inputs_use_the_band() {
        let h: Vec<String> = (0..3000).map(|i| format!("w{i}")).collect();
        let mut s = h.clone();
        s.drain(1000..1010);
        let p = align(&s, &h);
        assert_eq!(p[0], Some(0));
        assert_eq!(p[999], Some(999));
        assert_eq!(p[1000], Some(1010));
        assert_eq!(*p.last().unwrap(), Some(2999));
    }

    #[test]
    fn retime_fixes_offset_and_drift() {
        // True times: word k at k·0.5 s. The file says 1.02·t + 1.3 s.
        let words: Vec<String> = (0..60).map(|i| format!("w{i}")).collect();
        let hw: Vec<(&str, f64, f64)> = words
            .iter()
            .enumerate()
            .map(|(i, w)| (w.as_str(), i as f64 * 0.5, i as f64 * 0.5 + 0.4))
            .collect();
        let cues: Vec<Cue> = (0..12)
            .map(|c| {
                let (a, b) = (c as f64 * 2.5, c as f64 * 2.5 + 2.4);
                Cue {
                    start: Time::from_secs_f64(1.02 * a + 1.3),
                    end: Time::from_secs_f64(1.02 * b + 1.3),
                    text: words[c * 5..c * 5 + 5].join(" "),
                }
            })
            .collect();
        let (fixed, fit) = retime_cues(&cues, &heard(&hw));
        assert_eq!(fixed.len(), 12);
        assert!(fit.matched >= 50);
        for (c, k) in fixed.iter().zip(0..) {
            assert!(
                (c.start.as_secs_f64() - k as f64 * 2.5).abs() < 0.05,
                "{c:?} fit {fit:?}"
            );
            assert_eq!(c.text, cues[k].text);
        }
    }
}
