//! Chinese punctuation: full-width marks in Chinese sentences, and the creator style.
//!
//! Whisper writes Chinese with ASCII marks (`大家好,我的名字`). Chinese subtitles use the
//! full-width ones (`，。？！：；`), as Netflix's Simplified Chinese timed-text guide asks;
//! English sentences and the tokens inside Chinese text keep theirs. The rule, by
//! neighbours:
//!
//! 1. A mark stays as it is when it is part of a token: between two digits with no space
//!    (`3.5`, `10:30`, `1,000`), directly followed by a Latin letter, digit or `/`
//!    (`example.com`, `https://`, `Node.js`), one of a run of dots (`...`), or a full stop
//!    closing an abbreviation (a Latin word with a dot inside, `e.g.` `U.S.`, or `Mr.`
//!    `Dr.` `vs.` `etc.`).
//! 2. The other `.?!` (and `。？！`) end sentences. A sentence is Chinese when it has at
//!    least as many CJK characters as Latin words (`我用 iPhone 15, 很好`: 4 against 2),
//!    and English otherwise (`He said it works.`, `This is 很好 stuff.`).
//! 3. In a Chinese sentence `, . ? ! : ;` become `， 。 ？ ！ ： ；`, and the spaces around
//!    them go (full-width marks carry their own space): `我用 iPhone 15，很好`. English
//!    sentences are left alone, so mixed zh + en text keeps English punctuation in its
//!    English sentences.
//!
//! The creator style (Jianying / fan-sub practice for talking-head video, preset
//! `zh-talking-head`) starts from that and then, per laid-out line: no `，` or `。` at the
//! end of a line (or cue), and inside a line each becomes a space; `？！` and the other marks
//! stay. [`Punctuation`] selects the style; segmentation applies it to the words before
//! line breaking and [`creator_line`] to each line after it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::transcript::{is_cjk, is_cjk_letter, Word};

/// How caption punctuation is written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Punctuation {
    /// As the recogniser wrote it.
    Keep,
    /// Full-width marks in Chinese sentences (a no-op for other text); the default.
    #[default]
    FullWidth,
    /// Full-width, then no `，`/`。` at a line's end and a space for them inside a line.
    Creator,
}

impl Punctuation {
    /// Every choice, in the order `--help` lists them.
    pub const ALL: &'static [Punctuation] = &[
        Punctuation::Keep,
        Punctuation::FullWidth,
        Punctuation::Creator,
    ];

    /// The name on the command line and in presets.
    pub fn name(self) -> &'static str {
        match self {
            Punctuation::Keep => "keep",
            Punctuation::FullWidth => "full-width",
            Punctuation::Creator => "creator",
        }
    }

    /// One line for `--help`.
    pub fn help(self) -> &'static str {
        match self {
            Punctuation::Keep => "Keep the punctuation the recogniser wrote",
            Punctuation::FullWidth => {
                "Full-width ，。？！：； in Chinese sentences; other text as it is (the default)"
            }
            Punctuation::Creator => {
                "Full-width, but no ，/。 at a line's end and a space for them inside (Jianying style)"
            }
        }
    }
}

impl FromStr for Punctuation {
    type Err = String;
    fn from_str(s: &str) -> Result<Punctuation, String> {
        Punctuation::ALL
            .iter()
            .copied()
            .find(|p| p.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!("unknown punctuation \"{s}\" (expected keep, full-width or creator)")
            })
    }
}

impl fmt::Display for Punctuation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The full-width form of an ASCII mark that Chinese writes full-width.
fn wide(c: char) -> Option<char> {
    Some(match c {
        ',' => '，',
        '.' => '。',
        '?' => '？',
        '!' => '！',
        ':' => '：',
        ';' => '；',
        _ => return None,
    })
}

/// Words after which a full stop closes an abbreviation, not a sentence.
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "no", "inc", "ltd", "co",
];

/// Whether the mark at `i` is part of a token (rule 1), and so stays as it is.
fn in_token(chars: &[char], i: usize) -> bool {
    let c = chars[i];
    let prev = i.checked_sub(1).map(|p| chars[p]);
    let next = chars.get(i + 1).copied();
    if prev.is_some_and(|p| p.is_ascii_digit()) && next.is_some_and(|n| n.is_ascii_digit()) {
        return true;
    }
    if next.is_some_and(|n| n.is_ascii_alphanumeric() || n == '/') {
        return true;
    }
    if c == '.' && (prev == Some('.') || next == Some('.')) {
        return true;
    }
    if c == '.' {
        // The Latin word before the dot (letters and dots).
        let word: String = chars[..i]
            .iter()
            .rev()
            .take_while(|c| c.is_ascii_alphabetic() || **c == '.')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let letters = word.trim_matches('.');
        if !letters.is_empty()
            && (letters.contains('.') || ABBREVIATIONS.contains(&letters.to_lowercase().as_str()))
        {
            return true;
        }
    }
    false
}

/// `text` with full-width marks in its Chinese sentences (see the module documentation).
pub fn full_width(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let decided = decide(&chars);
    render(&chars, &decided)
}

/// For each char, its full-width replacement when it gets one.
fn decide(chars: &[char]) -> Vec<Option<char>> {
    let marks: Vec<bool> = (0..chars.len())
        .map(|i| wide(chars[i]).is_some() && !in_token(chars, i))
        .collect();
    let mut out = vec![None; chars.len()];
    let mut start = 0;
    let mut i = 0;
    while start < chars.len() {
        // The sentence: up to and including the next sentence mark (and what closes it).
        while i < chars.len() {
            let c = chars[i];
            i += 1;
            let ends =
                matches!(c, '。' | '？' | '！') || (marks[i - 1] && matches!(c, '.' | '?' | '!'));
            if ends {
                while i < chars.len() && matches!(chars[i], '"' | '\'' | '”' | '’' | ')' | '）')
                {
                    i += 1;
                }
                break;
            }
        }
        let sentence = &chars[start..i];
        let cjk = sentence.iter().filter(|c| is_cjk_letter(**c)).count();
        let latin = latin_words(sentence);
        if cjk > 0 && cjk >= latin {
            for k in start..i {
                if marks[k] {
                    out[k] = wide(chars[k]);
                }
            }
        }
        start = i;
    }
    out
}

/// Latin words: runs of Latin letters or digits, with the marks inside a token (`3.5`,
/// `Node.js`, `don't`) counted as part of it.
fn latin_words(chars: &[char]) -> usize {
    let mut n = 0;
    let mut inside = false;
    for (k, &c) in chars.iter().enumerate() {
        let latin = c.is_alphanumeric() && !is_cjk(c);
        let joins = inside
            && matches!(c, '.' | ',' | ':' | '/' | '-' | '\'' | '’')
            && chars
                .get(k + 1)
                .is_some_and(|n| n.is_alphanumeric() && !is_cjk(*n));
        if latin && !inside {
            n += 1;
        }
        inside = latin || joins;
    }
    n
}

/// The text with the replacements, dropping the spaces right before or after a replaced mark.
fn render(chars: &[char], decided: &[Option<char>]) -> String {
    let mut out = String::with_capacity(chars.len() * 3);
    for (k, &c) in chars.iter().enumerate() {
        if c.is_whitespace() {
            let before_wide = chars[k + 1..]
                .iter()
                .position(|c| !c.is_whitespace())
                .is_some_and(|d| decided[k + 1 + d].is_some());
            let after_wide = chars[..k]
                .iter()
                .rposition(|c| !c.is_whitespace())
                .is_some_and(|d| decided[d].is_some());
            if before_wide || after_wide {
                continue;
            }
        }
        out.push(decided[k].unwrap_or(c));
    }
    out
}

/// Applies the full-width rule across a run of words (a mark's neighbours may be in the next
/// or the previous word): each word's text is rewritten in place, words stay words.
pub(crate) fn full_width_words(words: &mut [Word]) {
    // The words joined as the captions join them, each word's char range remembered.
    let mut joined = String::new();
    let mut ranges = Vec::with_capacity(words.len());
    for w in words.iter() {
        super::layout::join_into(&mut joined, &w.text);
        let after = joined.chars().count();
        ranges.push(after - w.text.chars().count()..after);
    }
    let chars: Vec<char> = joined.chars().collect();
    let decided = decide(&chars);
    for (w, r) in words.iter_mut().zip(ranges) {
        // Within a word spaces are its own; drop those next to a replaced mark as well.
        w.text = render(&chars[r.clone()], &decided[r]);
    }
}

/// One laid-out line in the creator style: `，`/`。` at its end removed, inside it replaced
/// by one space (no space doubled, none next to CJK punctuation that follows).
pub fn creator_line(line: &str) -> String {
    let trimmed = line.trim_end().trim_end_matches(['，', '。', ' ']);
    let mut out = String::with_capacity(trimmed.len());
    for c in trimmed.chars() {
        if matches!(c, '，' | '。') {
            if !out.ends_with(' ') && !out.is_empty() {
                out.push(' ');
            }
        } else if c == ' ' && out.ends_with(' ') {
            continue;
        } else {
            out.push(c);
        }
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Time;

    #[test]
    fn chinese_sentences_get_full_width_marks() {
        assert_eq!(
            full_width("大家好,我的名字是小明."),
            "大家好，我的名字是小明。"
        );
        assert_eq!(full_width("你好吗?很好!"), "你好吗？很好！");
        assert_eq!(full_width("注意:第一;第二"), "注意：第一；第二");
        // Marks already full-width stay.
        assert_eq!(full_width("好，走。"), "好，走。");
    }

    #[test]
    fn latin_words_inside_chinese_keep_their_letters_the_sentence_gets_full_width() {
        // The comma after a Latin/digit token between Chinese text: the sentence is
        // Chinese (4 CJK characters, 2 Latin words), so the comma is full-width, its
        // space gone.
        assert_eq!(full_width("我用 iPhone 15, 很好"), "我用 iPhone 15，很好");
        assert_eq!(full_width("OK, 我们走吧."), "OK，我们走吧。");
        assert_eq!(full_width("我爱 Python."), "我爱 Python。");
    }

    #[test]
    fn numbers_times_urls_and_abbreviations_stay_ascii() {
        assert_eq!(
            full_width("价格是3.5元,时间10:30."),
            "价格是3.5元，时间10:30。"
        );
        assert_eq!(full_width("一共1,000人"), "一共1,000人");
        assert_eq!(
            full_width("请访问 example.com 或 https://a.cn/x."),
            "请访问 example.com 或 https://a.cn/x。"
        );
        assert_eq!(full_width("比如 e.g. 这个"), "比如 e.g. 这个");
        assert_eq!(full_width("我们用 Node.js 写"), "我们用 Node.js 写");
        assert_eq!(full_width("嗯..."), "嗯...");
    }

    #[test]
    fn english_sentences_keep_english_punctuation() {
        assert_eq!(
            full_width("He said it works. 对吗?"),
            "He said it works. 对吗？"
        );
        assert_eq!(
            full_width("这个很好. This is great, really! 是吗?"),
            "这个很好。This is great, really! 是吗？"
        );
        assert_eq!(
            full_width("This is 很好 stuff, yes."),
            "This is 很好 stuff, yes."
        );
        assert_eq!(
            full_width("Hello, world. How are you?"),
            "Hello, world. How are you?"
        );
        assert_eq!(full_width("Mr. Smith said hi."), "Mr. Smith said hi.");
    }

    #[test]
    fn words_are_converted_with_their_neighbours() {
        let w = |t: &str| Word {
            text: t.into(),
            start: Time::ZERO,
            end: Time::ZERO,
            probability: 1.0,
        };
        let mut words = vec![
            w("我用"),
            w("iPhone"),
            w("15,"),
            w("很好."),
            w("It"),
            w("works."),
        ];
        full_width_words(&mut words);
        let texts: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(texts, ["我用", "iPhone", "15，", "很好。", "It", "works."]);
        // A mark whose right neighbour is in the next word: 3 and 5 in two words is no number.
        let mut words = vec![w("大家好,"), w("我的名字")];
        full_width_words(&mut words);
        assert_eq!(words[0].text, "大家好，");
    }

    #[test]
    fn creator_lines_drop_final_commas_and_stops_and_space_inner_ones() {
        assert_eq!(creator_line("我们今天来讨论一下，"), "我们今天来讨论一下");
        assert_eq!(
            creator_line("大家好，我的名字是小明。"),
            "大家好 我的名字是小明"
        );
        assert_eq!(creator_line("你好吗？很好！"), "你好吗？很好！");
        assert_eq!(
            creator_line("我用 iPhone 15，很好。"),
            "我用 iPhone 15 很好"
        );
        assert_eq!(creator_line("嗯，，好"), "嗯 好");
        // English sentences inside keep their ASCII marks.
        assert_eq!(
            creator_line("他说 It works. 对吗？"),
            "他说 It works. 对吗？"
        );
    }

    #[test]
    fn names_round_trip() {
        for p in Punctuation::ALL {
            assert_eq!(p.name().parse::<Punctuation>(), Ok(*p));
        }
        assert!("wide"
            .parse::<Punctuation>()
            .unwrap_err()
            .contains("full-width"));
        assert_eq!(Punctuation::default(), Punctuation::FullWidth);
    }
}
