//! Plain text (`.txt`): the transcript as a person reads or pastes it.
//!
//! The text is the captions' text (the same words, after the hallucination guards and
//! script conversion the cues went through), without times and without the captions' line
//! breaks, laid out as:
//!
//! - one sentence per line: a line ends after sentence punctuation (`.` `?` `!` `…` and
//!   the full-width `。` `？` `！`) when the next word doesn't start in lower case, except
//!   after a few abbreviations (`Mr.`, `Dr.`, `e.g.`);
//! - paragraphs separated by a blank line where the speaker paused for at least
//!   `PARAGRAPH_PAUSE` (2 s; that also ends a line without punctuation, so unpunctuated
//!   speech, as whisper sometimes gives for Chinese, still breaks at its pauses).
//!
//! Words are joined as the language writes them: a space between Latin words, nothing next
//! to a CJK character. Chinese captions written without `，` and `。` (the creator
//! punctuation style, or a recogniser that wrote none) have a space between two cues that
//! meet at a Chinese character (and a letter or digit), the separator that style uses. The document ends in a
//! newline (empty when there are no cues).
//!
//! ```
//! use subcut_core::subtitle::{format::txt, Cue};
//! use subcut_core::time::Time;
//! let cue = |a, b, t: &str| Cue { start: Time::from_millis(a), end: Time::from_millis(b), text: t.into() };
//! let cues = [
//!     cue(0, 2_000, "Hello there. How\nare you?"),
//!     cue(2_100, 3_000, "Fine."),
//!     cue(6_000, 7_000, "Later."),
//! ];
//! assert_eq!(txt::render(&cues), "Hello there.\nHow are you?\nFine.\n\nLater.\n");
//! ```

use crate::subtitle::layout::{is_sentence_end, join_into};
use crate::subtitle::Cue;
use crate::time::Time;
use crate::transcript::{is_cjk, is_cjk_letter};

/// A pause between cues at least this long starts a new paragraph.
const PARAGRAPH_PAUSE: Time = Time::from_millis(2_000);

/// Words after which a full stop does not end the sentence.
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "e.g", "i.e",
];

/// Renders the cues' text as sentences and paragraphs (see the module documentation).
pub fn render(cues: &[Cue]) -> String {
    let spaced = cues.iter().any(|c| c.text.chars().any(is_cjk_letter))
        && !cues.iter().any(|c| c.text.contains(['，', '。']));
    let mut paragraphs: Vec<String> = Vec::new();
    let mut prev_end: Option<Time> = None;
    for cue in cues {
        let text = flatten(&cue.text, spaced);
        if text.is_empty() {
            continue;
        }
        match paragraphs.last_mut() {
            Some(p) if prev_end.is_some_and(|e| cue.start - e < PARAGRAPH_PAUSE) => {
                join_pieces(p, &text, spaced)
            }
            _ => paragraphs.push(text),
        }
        prev_end = Some(cue.end);
    }
    let mut out = String::new();
    for (i, p) in paragraphs.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        for line in sentences(p) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

/// A cue's lines as one line of text (joined as the language writes them, see
/// [`join_pieces`]), whitespace collapsed, control characters dropped.
fn flatten(text: &str, spaced: bool) -> String {
    let mut out = String::new();
    for line in text.split(['\n', '\r']) {
        let words: Vec<String> = line
            .split_whitespace()
            .map(|w| w.chars().filter(|c| !c.is_control()).collect::<String>())
            .filter(|w| !w.is_empty())
            .collect();
        if !words.is_empty() {
            join_pieces(&mut out, &words.join(" "), spaced);
        }
    }
    out
}

/// Appends `piece` as the language writes it; in a `spaced` document (Chinese without
/// ，。) a space also where a Chinese character meets a letter or digit.
fn join_pieces(out: &mut String, piece: &str, spaced: bool) {
    let (a, b) = (out.chars().last(), piece.chars().next());
    let cjk_meet = a.zip(b).is_some_and(|(a, b)| {
        a.is_alphanumeric() && b.is_alphanumeric() && (is_cjk_letter(a) || is_cjk_letter(b))
    });
    if spaced && cjk_meet {
        out.push(' ');
        out.push_str(piece);
    } else {
        join_into(out, piece);
    }
}

/// Splits a paragraph after each sentence end: sentence punctuation (with the closing
/// quotes or brackets after it) followed by the end of the text, by whitespace and a word
/// that doesn't start in lower case, or by a CJK character (or after CJK punctuation).
fn sentences(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if !is_sentence_end(c) {
            continue;
        }
        while chars.get(i).is_some_and(|&q| {
            matches!(
                q,
                '"' | '\'' | '”' | '’' | ')' | '）' | '」' | '』' | '】' | '》'
            )
        }) {
            i += 1;
        }
        let boundary = match chars.get(i) {
            None => true,
            Some(n) if n.is_whitespace() => chars[i..]
                .iter()
                .find(|c| !c.is_whitespace())
                .is_none_or(|a| !a.is_lowercase()),
            Some(&n) => !is_sentence_end(n) && (is_cjk(c) || is_cjk(n)),
        };
        if boundary && !(c == '.' && is_abbreviation(&chars[start..i])) {
            push_trimmed(&mut out, &chars[start..i]);
            start = i;
        }
    }
    push_trimmed(&mut out, &chars[start..]);
    out
}

fn push_trimmed(out: &mut Vec<String>, chars: &[char]) {
    let s: String = chars.iter().collect();
    let s = s.trim();
    if !s.is_empty() {
        out.push(s.to_string());
    }
}

/// Whether the full stop ending `sentence` closes an abbreviation such as "Mr." or "e.g.".
fn is_abbreviation(sentence: &[char]) -> bool {
    let s: String = sentence.iter().collect();
    let word = s
        .rsplit(char::is_whitespace)
        .next()
        .unwrap_or("")
        .trim_start_matches(['"', '\'', '“', '‘', '('])
        .to_lowercase();
    ABBREVIATIONS.contains(&word.trim_end_matches('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cue(a: i64, b: i64, text: &str) -> Cue {
        Cue {
            start: Time::from_millis(a),
            end: Time::from_millis(b),
            text: text.into(),
        }
    }

    #[test]
    fn one_sentence_per_line_across_cue_and_line_breaks() {
        let cues = [
            cue(800, 2_900, "The cat sat on the mat\nin the sun. We like"),
            cue(3_000, 5_000, "to walk to the park\nafter lunch!"),
            cue(5_200, 6_000, "\"Really?\" she asked."),
        ];
        assert_eq!(
            render(&cues),
            "The cat sat on the mat in the sun.\nWe like to walk to the park after lunch!\n\
             \"Really?\" she asked.\n"
        );
    }

    #[test]
    fn long_pauses_start_paragraphs_even_without_punctuation() {
        let cues = [
            cue(0, 1_000, "One."),
            cue(2_900, 3_500, "Two,"),
            cue(5_500, 6_000, "three"),
            cue(6_100, 7_000, "four."),
        ];
        assert_eq!(render(&cues), "One.\nTwo,\n\nthree four.\n");
    }

    #[test]
    fn abbreviations_numbers_and_lower_case_words_do_not_start_sentences() {
        let cues = [cue(
            0,
            5_000,
            "Mr. Smith met Dr. Watson at 3.30 e.g. today... Then left. We go. and i.e. so",
        )];
        assert_eq!(
            render(&cues),
            "Mr. Smith met Dr. Watson at 3.30 e.g. today...\nThen left.\nWe go. and i.e. so\n"
        );
    }

    #[test]
    fn cjk_sentences_join_without_spaces() {
        let cues = [
            cue(0, 1_500, "今天天气很好，\n我们去公园。你呢"),
            cue(1_600, 3_000, "？我在家。OK。"),
            cue(3_100, 4_000, "好的"),
        ];
        assert_eq!(
            render(&cues),
            "今天天气很好，我们去公园。\n你呢？\n我在家。\nOK。\n好的\n"
        );
    }

    /// Creator-style captions (no ，。): cues that meet between Chinese characters get a
    /// space; with ，。 anywhere they join as before.
    #[test]
    fn chinese_cues_without_commas_and_stops_are_spaced() {
        let cues = [
            cue(0, 1_500, "大家好 我的名字是小明"),
            cue(1_600, 3_000, "你好吗？"),
            cue(3_100, 4_000, "我用 iPhone"),
            cue(4_100, 5_000, "很好"),
        ];
        assert_eq!(
            render(&cues),
            "大家好 我的名字是小明 你好吗？
我用 iPhone 很好
"
        );
        let cues = [
            cue(0, 1_500, "我们今天来讨论一下"),
            cue(1_600, 3_000, "如何剪。"),
        ];
        assert_eq!(
            render(&cues),
            "我们今天来讨论一下如何剪。
"
        );
    }

    #[test]
    fn empty_cues_give_an_empty_document() {
        assert_eq!(render(&[]), "");
        assert_eq!(render(&[cue(0, 1_000, " \n\t")]), "");
    }
}
