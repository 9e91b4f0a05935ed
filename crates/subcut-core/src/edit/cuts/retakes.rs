//! Retakes ("删前保后": delete the earlier take, keep the later one) found in a transcript's
//! timed words.
//!
//! A speaker starts a sentence, stops, and says it again: "The first step is to record…
//! The first step is to record your voice in a quiet room." The earlier, abandoned take
//! goes, the last take stays.
//!
//! # How a retake is recognised
//! The words that no earlier cut removed (fillers, stutters) are split into *clauses*: after
//! a word ending in punctuation (`. , ; : ! ? …` and their full-width forms `。，；：！？、`)
//! and at every pause of at least [`CLAUSE_PAUSE`]. Clauses are compared as *tokens*: each
//! Latin word is a token, each Chinese (CJK) character is one, so a Chinese word that the
//! recogniser wrote as one character or as several compares the same.
//!
//! A clause A is an abandoned take of a later clause B when all of these hold:
//! 1. A has at least [`MIN_TOKENS`] tokens (3 words, or 4 Chinese characters). Shorter
//!    doubles are emphasis ("very, very good", "非常，非常好") or stutters, which
//!    `repeats` handles ("I I think").
//! 2. A is B's opening, fuzzily: the edit distance between A's tokens and B's first tokens
//!    (over B's best prefix length within two tokens of A's) is at most a quarter of A's
//!    tokens (at least ½). A near-miss word ("first tap" for "first step", by letters) costs
//!    ½, any other changed, added or missing token 1; Chinese characters match or not.
//! 3. A's first and last tokens match B's (the last may be cut off: "rec" for "record").
//!    A list repeats its opening but not its items ("we need eggs, we need milk, we need
//!    bread" differ in their last words), so a list is never a retake.
//! 4. B goes on past A: a clause said again word for word is a refrain or a chorus ("never
//!    give up, never give up") and stays. B goes on when A's match ends inside one of B's
//!    clauses, or where B has a comma but A ended its sentence or trailed off into a pause
//!    ("第一步是录音。第一步是录音，要找一个安静的房间。") and B's next clause is not A once
//!    more. The exception is a sentence said again after an abandoned attempt in between
//!    ("A B C D. A B. A B C D."): both earlier takes go.
//! 5. B starts within [`RETAKE_MAX_GAP`] of A's end.
//!
//! With three or more attempts each one is compared with the nearest later clause that
//! stays, so only the last complete take is kept. The cut is the whole earlier take, its
//! words from the first to the last; the pause after it is left to the silence cut, so the
//! retake keeps its margin and a natural pause (`max_pause`).
//!
//! Not caught: a retake the recogniser swallowed (it sometimes writes a restarted sentence
//! once, stretched over both takes), and a sentence said twice in full with nothing
//! between (indistinguishable from a refrain by its words).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Marks, Reason};
use crate::time::Time;
use crate::transcript::{is_cjk, join_text};

/// A pause this long ends a clause.
pub const CLAUSE_PAUSE: Time = Time::from_millis(300);
/// The shortest abandoned take, in tokens: Latin words, or Chinese characters (the second).
pub const MIN_TOKENS: (usize, usize) = (3, 4);
/// A retake starts at most this long after the take it replaces.
pub const RETAKE_MAX_GAP: Time = Time::from_millis(10_000);
/// Punctuation that ends a clause.
const CLAUSE_END: &[char] = &[
    '.', ',', ';', ':', '!', '?', '…', '。', '，', '；', '：', '！', '？', '、', '—', '-',
];

/// What to do with retakes (`--retakes`, `cut.retakes`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Retakes {
    /// Cut every abandoned take, keep the last complete one.
    #[default]
    KeepLast,
    /// Leave retakes in.
    None,
}

impl Retakes {
    /// Every mode, in the order `--help` lists them.
    pub const ALL: &'static [Retakes] = &[Retakes::KeepLast, Retakes::None];

    /// The name on the command line and in presets.
    pub fn name(self) -> &'static str {
        match self {
            Retakes::KeepLast => "keep-last",
            Retakes::None => "none",
        }
    }

    /// One line for `--help`.
    pub fn help(self) -> &'static str {
        match self {
            Retakes::KeepLast => "cut abandoned takes of a sentence, keep the last complete one",
            Retakes::None => "keep every take",
        }
    }
}

impl fmt::Display for Retakes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Retakes {
    type Err = String;
    fn from_str(s: &str) -> Result<Retakes, String> {
        Retakes::ALL
            .iter()
            .copied()
            .find(|r| r.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("unknown retakes mode {s:?} (expected keep-last or none)"))
    }
}

impl Serialize for Retakes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Retakes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Retakes, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// One token of a clause: a Latin word or one CJK character, lowercase, letters and digits.
#[derive(Debug)]
struct Token {
    text: String,
    cjk: bool,
}

/// How a clause ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    /// A full stop, question or exclamation mark (or the end of the words): a finished
    /// sentence.
    Sentence,
    /// A comma, semicolon, colon or dash: the sentence goes on.
    Comma,
    /// A pause without punctuation: trailing off.
    Pause,
}

/// A clause: its words (indexes into the marks, in order), their tokens and how it ends.
struct Clause {
    words: Vec<usize>,
    tokens: Vec<Token>,
    end: End,
}

/// Punctuation that ends a sentence (the rest of [`CLAUSE_END`] ends a clause in one).
const SENTENCE_END: &[char] = &['.', '!', '?', '…', '。', '！', '？'];

/// The most clauses one abandoned take spans ("Today we look at, how to edit.").
const MAX_TAKE_CLAUSES: usize = 4;

/// Marks every abandoned take among the words no earlier detector marked.
pub(crate) fn mark_retakes(m: &mut Marks) {
    let clauses = clauses(m);
    let n = clauses.len();
    let mut cut = vec![false; n];
    let mut takes: Vec<(usize, usize)> = Vec::new();
    // Takes ending before clause e, from the last clause back, so that each take is compared
    // with the nearest later clause that stays.
    for e in (1..n).rev() {
        if cut[e - 1] {
            continue;
        }
        let gap =
            m.words[clauses[e].words[0]].start - m.words[*clauses[e - 1].words.last().unwrap()].end;
        if gap > RETAKE_MAX_GAP {
            continue;
        }
        // The retake: the nearest clause from e on that stays, and those after it up to the
        // next one cut; whether an abandoned attempt lies between.
        let Some(k) = (e..n).find(|&k| !cut[k]) else {
            continue;
        };
        // As many of those as the longest take can match, and one more.
        let need = clauses[e.saturating_sub(MAX_TAKE_CLAUSES)..e]
            .iter()
            .map(|c| c.tokens.len())
            .sum::<usize>()
            + 2;
        let mut have = 0;
        let retake: Vec<&Clause> = clauses[k..]
            .iter()
            .zip(&cut[k..])
            .take_while(|(c, &cut)| {
                let more = have < need + 1;
                have += c.tokens.len();
                !cut && more
            })
            .map(|(c, _)| c)
            .collect();
        // The longest take that matches.
        let mut a: Vec<&Token> = Vec::new();
        let mut found = None;
        for i in (e.saturating_sub(MAX_TAKE_CLAUSES)..e).rev() {
            a.splice(0..0, clauses[i].tokens.iter());
            if is_take_of(&a, clauses[e - 1].end, &retake, k > e) {
                found = Some(i);
            }
        }
        if let Some(i) = found {
            cut[i..e].iter_mut().for_each(|c| *c = true);
            takes.push((i, e));
        }
    }
    for &(i, e) in &takes {
        let words: Vec<usize> = clauses[i..e]
            .iter()
            .flat_map(|c| c.words.iter().copied())
            .collect();
        let (first, last) = (words[0], *words.last().unwrap());
        let text = join_text(words.iter().map(|&w| m.words[w].text.as_str()));
        // Every word of the take that is still kept, punctuation-only ones included.
        for r in &mut m.reason[first..=last] {
            if r.is_none() {
                *r = Some(Reason::Retake { text: text.clone() });
            }
        }
    }
}

/// The clauses of the words no earlier detector marked (see the module doc).
fn clauses(m: &Marks) -> Vec<Clause> {
    let (w, norm, reason) = (m.words, m.norm, &*m.reason);
    let mut out: Vec<Clause> = Vec::new();
    let mut cur = Clause {
        words: Vec::new(),
        tokens: Vec::new(),
        end: End::Sentence,
    };
    // How the last word seen (kept or not) ended a clause, if it did.
    let mut ended: Option<End> = None;
    let mut last_end: Option<Time> = None;
    for i in 0..w.len() {
        let kept = reason[i].is_none() && !norm[i].is_empty();
        if kept {
            let paused = last_end.is_some_and(|e| w[i].start - e >= CLAUSE_PAUSE);
            let end = ended.or(paused.then_some(End::Pause));
            if let (Some(end), false) = (end, cur.words.is_empty()) {
                cur.end = end;
                out.push(std::mem::replace(
                    &mut cur,
                    Clause {
                        words: Vec::new(),
                        tokens: Vec::new(),
                        end: End::Sentence,
                    },
                ));
            }
            cur.words.push(i);
            cur.tokens.extend(tokens(&norm[i]));
            last_end = Some(w[i].end);
            ended = None;
        }
        let text = w[i].text.trim_end();
        if text.ends_with(SENTENCE_END) {
            ended = Some(End::Sentence);
        } else if text.ends_with(CLAUSE_END) && ended != Some(End::Sentence) {
            ended = Some(End::Comma);
        }
    }
    if !cur.words.is_empty() {
        out.push(cur);
    }
    out
}

/// A normalized word as tokens: each CJK character one token, each run of other letters one.
fn tokens(norm: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut run = String::new();
    for c in norm.chars() {
        if is_cjk(c) {
            if !run.is_empty() {
                out.push(Token {
                    text: std::mem::take(&mut run),
                    cjk: false,
                });
            }
            out.push(Token {
                text: c.to_string(),
                cjk: true,
            });
        } else {
            run.push(c);
        }
    }
    if !run.is_empty() {
        out.push(Token {
            text: run,
            cjk: false,
        });
    }
    out
}

/// The cost of saying `b` where `a` was said: 0 the same, ½ a near miss (Latin words at
/// least half of whose letters agree), else 1.
fn sub_cost(a: &Token, b: &Token) -> f64 {
    if a.text == b.text {
        0.0
    } else if !a.cjk && !b.cjk && similarity(&a.text, &b.text) >= 0.5 {
        0.5
    } else {
        1.0
    }
}

/// 1 − Levenshtein distance / longer length, over characters.
fn similarity(a: &str, b: &str) -> f64 {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let longest = a.len().max(b.len());
    if longest == 0 {
        return 1.0;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut row = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            row[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(row[j] + 1);
        }
        prev = row;
    }
    1.0 - prev[b.len()] as f64 / longest as f64
}

/// Whether the last token of a take matches the retake's: the same, a near miss, or cut off
/// (a beginning of the retake's word, two letters at least).
fn ends_alike(a: &Token, b: &Token) -> bool {
    sub_cost(a, b) < 1.0 || (!a.cjk && a.text.chars().count() >= 2 && b.text.starts_with(&a.text))
}

/// The edit distance of `a` to each prefix of `b` (the last row of the table over `a`).
fn distances(a: &[&Token], b: &[&Token]) -> Vec<f64> {
    let mut prev: Vec<f64> = (0..=b.len()).map(|j| j as f64).collect();
    for (i, ta) in a.iter().enumerate() {
        let mut row = vec![(i + 1) as f64; b.len() + 1];
        for (j, tb) in b.iter().enumerate() {
            row[j + 1] = (prev[j] + sub_cost(ta, tb))
                .min(prev[j + 1] + 1.0)
                .min(row[j] + 1.0);
        }
        prev = row;
    }
    prev
}

/// The edit distance a take of `n` tokens may have to its retake.
fn allowed(n: usize) -> f64 {
    (n as f64 / 4.0).max(0.5) + 1e-9
}

/// Whether the clauses `a` (the last of which ends as `a_end`) are an abandoned take of the
/// later clauses `b` (rules 1–4 of the module doc); `repeated_ok`: an abandoned attempt lies
/// between, so `b` may say `a` again without going on.
fn is_take_of(a: &[&Token], a_end: End, b: &[&Clause], repeated_ok: bool) -> bool {
    let n = a.len();
    let min = if a.iter().any(|t| t.cjk) {
        MIN_TOKENS.1
    } else {
        MIN_TOKENS.0
    };
    let tokens: Vec<&Token> = b.iter().flat_map(|c| c.tokens.iter()).collect();
    if n < min || tokens.is_empty() || sub_cost(a[0], tokens[0]) >= 1.0 {
        return false;
    }
    let m = tokens.len().min(n + 2);
    let d = distances(a, &tokens[..m]);
    // The best prefix length: the cheapest, then the closest to a's length.
    let best = (n.saturating_sub(2).max(1)..=m)
        .filter(|&len| d[len] <= allowed(n))
        .filter(|&len| ends_alike(a[n - 1], tokens[len - 1]))
        .min_by(|&x, &y| {
            d[x].total_cmp(&d[y])
                .then(x.abs_diff(n).cmp(&y.abs_diff(n)))
        });
    let Some(len) = best else {
        return false;
    };
    if repeated_ok {
        return true;
    }
    // Where b's clauses end, in tokens.
    let mut ends = b.iter().scan(0, |at, c| {
        *at += c.tokens.len();
        Some(*at)
    });
    let Some(ci) = ends.position(|at| at == len) else {
        return true; // the retake goes on past the take within a clause
    };
    // A whole clause said again is a refrain, unless it now goes on (a comma where the take
    // ended the sentence or trailed off) into something new: not the take once more.
    b[ci].end == End::Comma
        && a_end != End::Comma
        && b.get(ci + 1).is_some_and(|next| {
            let next: Vec<&Token> = next.tokens.iter().collect();
            distances(a, &next)[next.len()] > allowed(n)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::CutParams;
    use crate::transcript::Word;

    /// Words from text: each space-separated piece one word (Chinese pieces as written),
    /// 250 ms each, with a pause of `pause` ms after a piece ending in `|` (the bar dropped).
    fn spoken(text: &str, pause: i64) -> Vec<Word> {
        let mut t = 0;
        text.split_whitespace()
            .map(|piece| {
                let (piece, rest) = match piece.strip_suffix('|') {
                    Some(p) => (p, pause),
                    None => (piece, 20),
                };
                let w = Word {
                    text: piece.into(),
                    start: Time::from_millis(t),
                    end: Time::from_millis(t + 250),
                    probability: 0.9,
                };
                t += 250 + rest;
                w
            })
            .collect()
    }

    /// The text of the words cut as retakes, each retake's words joined (default parameters:
    /// fillers of the language cut, repeats kept, retakes cut).
    fn retakes(words: &[Word], lang: &str) -> Vec<String> {
        let p = CutParams::default();
        let mut out: Vec<String> = Vec::new();
        for r in p.word_cuts(words, lang) {
            if let Reason::Retake { text } = r.reason {
                if out.last() != Some(&text) {
                    out.push(text);
                }
            }
        }
        out
    }

    fn kept_text(words: &[Word], lang: &str) -> String {
        let p = CutParams::default();
        let cuts = p.word_cuts(words, lang);
        let kept = words.iter().filter(|w| {
            !cuts
                .iter()
                .any(|c| c.span.start <= w.start && w.end <= c.span.end)
        });
        join_text(kept.map(|w| w.text.as_str()))
    }

    #[test]
    fn an_abandoned_take_goes_and_the_retake_stays() {
        let w = spoken(
            "The first step is to record.| The first step is to record your voice in a quiet room.",
            900,
        );
        assert_eq!(retakes(&w, "en"), ["The first step is to record."]);
        assert_eq!(
            kept_text(&w, "en"),
            "The first step is to record your voice in a quiet room."
        );
        // The cut is the take, its own words' time: the pause is left to the silence cut.
        let p = CutParams::default();
        let cuts = p.word_cuts(&w, "en");
        assert_eq!(cuts.first().unwrap().span.start, w[0].start);
        assert_eq!(cuts.last().unwrap().span.end, w[5].end);
        // Without punctuation, the pause alone ends the take; and a cut-off last word.
        let w = spoken(
            "the first step is to rec| the first step is to record your voice",
            700,
        );
        assert_eq!(retakes(&w, "en"), ["the first step is to rec"]);
    }

    #[test]
    fn a_retake_may_go_on_after_a_comma_where_the_take_stopped() {
        let w = spoken(
            "The first step is to record.| The first step is to record, then edit it.",
            800,
        );
        assert_eq!(retakes(&w, "en"), ["The first step is to record."]);
        let w = spoken(
            "第一步是录音。| 第一步是录音，要 找 一个 安静 的 房间。",
            800,
        );
        assert_eq!(retakes(&w, "zh"), ["第一步是录音。"]);
        // But not where the take went on the same way (a song's lines, a refrain).
        let w = spoken(
            "Happy birthday to you,| happy birthday to you,| happy birthday dear Anna,| happy birthday to you.",
            400,
        );
        assert!(retakes(&w, "en").is_empty(), "{:?}", retakes(&w, "en"));
        let w = spoken(
            "Never give up.| Never give up,| never give up.| Thank you.",
            400,
        );
        assert!(retakes(&w, "en").is_empty(), "{:?}", retakes(&w, "en"));
    }

    #[test]
    fn recognition_errors_still_match() {
        let w = spoken(
            "The first tap is to record,| the first step is to record your voice.",
            600,
        );
        assert_eq!(retakes(&w, "en"), ["The first tap is to record,"]);
        // One word missing from the take, fillers in it.
        let w = spoken(
            "Today we look at, um, how to edit.| Today we will look at how to edit a video.",
            600,
        );
        assert_eq!(retakes(&w, "en"), ["Today we look at, how to edit."]);
    }

    #[test]
    fn three_attempts_keep_the_last_complete_one() {
        let w = spoken(
            "Click the red button.| Click the red| Click the red button on the left.",
            800,
        );
        assert_eq!(
            retakes(&w, "en"),
            ["Click the red button.", "Click the red"]
        );
        assert_eq!(kept_text(&w, "en"), "Click the red button on the left.");
        // Said in full, abandoned, said in full again: the last full take stays.
        let w = spoken(
            "Press the space bar now.| Press the space| Press the space bar now.| Then wait.",
            800,
        );
        assert_eq!(kept_text(&w, "en"), "Press the space bar now. Then wait.");
    }

    #[test]
    fn emphasis_lists_and_refrains_are_not_retakes() {
        for text in [
            // Emphasis: too short to be a take.
            "This is very,| very good and very,| very cheap.",
            // A list: the items differ in their last words.
            "We need eggs,| we need milk,| we need bread.",
            "We need to buy eggs,| we need to buy milk,| we need to buy some bread.",
            // A refrain, said again word for word.
            "Never give up,| never give up,| never give up.",
            "We will rock you.| We will rock you.| We will rock you.",
            // The same opening, a different sentence.
            "I want to show you the menu.| I want to thank everyone who came today.",
            // Stutters are repeats, not retakes.
            "I I think it it works.",
        ] {
            let w = spoken(text, 500);
            assert!(
                retakes(&w, "en").is_empty(),
                "{text}: {:?}",
                retakes(&w, "en")
            );
        }
        // A long pause: not a retake of the same thought any more.
        let w = spoken(
            "The first step is to record.| The first step is to record your voice.",
            12_000,
        );
        assert!(retakes(&w, "en").is_empty());
        // Off.
        let w = spoken(
            "The first step is to record.| The first step is to record your voice.",
            800,
        );
        let p = CutParams {
            retakes: Retakes::None,
            ..CutParams::default()
        };
        assert!(p.word_cuts(&w, "en").is_empty());
    }

    #[test]
    fn stutters_inside_a_retake_stay_repeats() {
        let w = spoken(
            "I I want to show you.| I want to show you the new menu.",
            700,
        );
        let p = CutParams {
            remove_repeats: true,
            ..CutParams::default()
        };
        let reasons: Vec<String> = p
            .word_cuts(&w, "en")
            .iter()
            .map(|r| r.reason.to_string())
            .collect();
        assert_eq!(reasons[0], "repeat \"I\"");
        assert!(reasons[1..]
            .iter()
            .all(|r| r == "retake \"I want to show you.\""));
        // Without repeat removal the stutter is part of the take.
        assert_eq!(kept_text(&w, "en"), "I want to show you the new menu.");
    }

    #[test]
    fn chinese_retakes_by_characters() {
        // One character a word, as whisper often writes Chinese.
        let chars = |s: &str| {
            s.chars()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        };
        let text = format!(
            "{}| {}",
            chars("这个工具。"),
            chars("这个工具可以帮你剪视频。")
        )
        .replace(" 。", "。");
        let w = spoken(&text, 800);
        assert_eq!(retakes(&w, "zh"), ["这个工具。"]);
        assert_eq!(kept_text(&w, "zh"), "这个工具可以帮你剪视频。");
        // Words of several characters, split differently in the two takes, and one
        // misheard character (讲/将).
        let w = spoken(
            "我们 今天 来讲 一下，| 我们今天 来 将 一下 怎么 录音。",
            600,
        );
        assert_eq!(retakes(&w, "zh"), ["我们今天来讲一下，"]);
        assert_eq!(kept_text(&w, "zh"), "我们今天来将一下怎么录音。");
        // Three attempts.
        let w = spoken(
            "第一步 是 录。| 第一步 是| 第一步 是 录音，要 安静 的 房间。",
            700,
        );
        assert_eq!(retakes(&w, "zh"), ["第一步是录。", "第一步是"]);
    }

    #[test]
    fn chinese_emphasis_lists_and_refrains_are_not_retakes() {
        for text in [
            "非常，| 非常 好。",
            "我们 需要 鸡蛋，| 我们 需要 牛奶，| 我们 需要 面包。",
            "我们 是 冠军，| 我们 是 冠军！",
            "我 我 觉得 可以。",
            "今天 天气 很 好，| 今天 心情 也 很 好。",
        ] {
            let w = spoken(text, 500);
            assert!(
                retakes(&w, "zh").is_empty(),
                "{text}: {:?}",
                retakes(&w, "zh")
            );
        }
    }

    #[test]
    fn captions_on_the_cut_lose_the_abandoned_take() {
        use crate::edit::{plan, FrameGrid};
        use crate::time::Span;
        use crate::transcript::{Segment, Transcript};
        let words = spoken(
            "The first step is to record.| The first step is to record your voice.",
            900,
        );
        let speech: Vec<Span> = words.iter().map(|w| Span::new(w.start, w.end)).collect();
        let end = words.last().unwrap().end;
        let t = Transcript {
            language: "en".into(),
            segments: vec![Segment {
                start: Time::ZERO,
                end,
                text: join_text(words.iter().map(|w| w.text.as_str())),
                words: words.clone(),
                no_speech_probability: 0.0,
                language: String::new(),
            }],
        };
        let p = plan(
            end + Time::from_millis(500),
            &speech,
            &words,
            "en",
            &CutParams::default(),
            None::<FrameGrid>,
        );
        let retake = p
            .removed
            .iter()
            .find(|r| r.reason.kind() == crate::edit::cuts::ReasonKind::Retake)
            .expect("a retake removed");
        assert_eq!(retake.span, Span::new(words[0].start, words[5].end));
        assert_eq!(
            p.removed_by_reason()[&crate::edit::cuts::ReasonKind::Retake],
            retake.span.duration()
        );
        assert!(p
            .to_string()
            .contains("cut   retake \"The first step is to record.\""));
        let cut = p.time_map().map_transcript(&t);
        let text = join_text(cut.words().map(|w| w.text.as_str()));
        assert_eq!(text, "The first step is to record your voice.");
        // Re-timed: the retake now starts within the margin of the cut's start.
        assert!(cut.words().next().unwrap().start <= Time::from_millis(150));
    }

    #[test]
    fn retakes_on_random_speech_are_whole_earlier_takes() {
        let mut rng = crate::testutil::Rng::new(0x7e7a_4e50_0000_0016);
        let vocab = [
            "the",
            "first",
            "step",
            "is",
            "to",
            "record.",
            "record,",
            "your",
            "voice",
            "um,",
            "I",
            "I",
            "我们",
            "今天",
            "录音。",
            "第一步",
            "是",
            "好，",
            "-",
            "...",
        ];
        let mut found = 0;
        for case in 0..500 {
            let mut t = 0;
            let mut texts: Vec<&str> = Vec::new();
            let mut words: Vec<Word> = Vec::new();
            for _ in 0..rng.below(60) {
                // Now and then a restart: the last few words again.
                let again = if rng.below(6) == 0 && texts.len() >= 6 {
                    let k = 3 + rng.below(4) as usize;
                    texts[texts.len() - k..].to_vec()
                } else {
                    vec![vocab[rng.below(vocab.len() as i64) as usize]]
                };
                for text in again {
                    let len = 50 + rng.below(400);
                    words.push(Word {
                        text: text.into(),
                        start: Time::from_millis(t),
                        end: Time::from_millis(t + len),
                        probability: 0.9,
                    });
                    texts.push(text);
                    t += len + [0, 50, 350, 900, 11_000][rng.below(5) as usize];
                }
            }
            let p = CutParams {
                remove_repeats: rng.below(2) == 0,
                ..CutParams::default()
            };
            let cuts = p.word_cuts(&words, "");
            let off = CutParams {
                retakes: Retakes::None,
                ..p.clone()
            };
            let others = off.word_cuts(&words, "");
            // The other cuts keep their words and reasons with retakes on (a cut may reach
            // further, over the pause to a retake).
            for o in &others {
                assert!(
                    cuts.iter().any(|c| c.reason == o.reason
                        && c.span.start == o.span.start
                        && c.span.end >= o.span.end),
                    "case {case}: {o:?} lost"
                );
            }
            // Each retake is followed by words starting the same way; the last words stay.
            for c in cuts
                .iter()
                .filter(|c| matches!(c.reason, Reason::Retake { .. }))
            {
                found += 1;
                let Reason::Retake { text } = &c.reason else {
                    unreachable!()
                };
                let first = tokens(&crate::edit::cuts::fillers::normalize(
                    text.split_whitespace().next().unwrap(),
                ));
                let later = words.iter().filter(|w| w.start >= c.span.end);
                assert!(
                    later.clone().any(|w| {
                        let t = tokens(&crate::edit::cuts::fillers::normalize(&w.text));
                        !t.is_empty() && !first.is_empty() && sub_cost(&t[0], &first[0]) < 1.0
                    }),
                    "case {case}: retake {text:?} and nothing after"
                );
            }
            if let Some(last) = words.iter().rev().find(|w| !w.text.starts_with(['-', '.'])) {
                assert!(
                    !cuts
                        .iter()
                        .any(|c| matches!(c.reason, Reason::Retake { .. })
                            && c.span.start <= last.start
                            && last.end <= c.span.end),
                    "case {case}: the last word is cut as a retake"
                );
            }
        }
        assert!(found > 100, "only {found} retake cuts in 500 cases");
    }

    #[test]
    fn modes_parse_and_print() {
        for &r in Retakes::ALL {
            assert_eq!(r.name().parse::<Retakes>(), Ok(r));
            assert_eq!(r.to_string(), r.name());
            let json = serde_json::to_string(&r).unwrap();
            assert_eq!(serde_json::from_str::<Retakes>(&json).unwrap(), r);
        }
        assert_eq!("KEEP-LAST".parse::<Retakes>(), Ok(Retakes::KeepLast));
        assert!("keep-first"
            .parse::<Retakes>()
            .unwrap_err()
            .contains("keep-last or none"));
        assert_eq!(Retakes::default(), Retakes::KeepLast);
    }

    #[test]
    fn similarity_of_words() {
        assert_eq!(similarity("step", "step"), 1.0);
        assert_eq!(similarity("tap", "step"), 0.5);
        assert!(similarity("eggs", "milk") < 0.5);
    }
}
