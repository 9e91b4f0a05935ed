//! Line breaking: one cue's words on at most N lines of at most M characters.
//!
//! Text is measured the way subtitle style guides count it: in Latin-script text every
//! character counts 1; in CJK text a full-width character counts 1 and half-width
//! punctuation, Latin letters, digits and spaces count ½. Breaks go, in order of
//! preference, after sentence punctuation, after clause punctuation, before a conjunction
//! or preposition (English), and anywhere between words; in CJK text between any two
//! characters, never leaving punctuation at the start of a line. Among equal breaks the
//! most balanced layout wins; when lines must differ, the bottom line is the longer one.

use crate::transcript::is_cjk;

/// Sentence-ending punctuation.
pub(crate) fn is_sentence_end(c: char) -> bool {
    matches!(c, '.' | '?' | '!' | '。' | '？' | '！' | '…')
}

/// Clause punctuation.
pub(crate) fn is_clause_end(c: char) -> bool {
    matches!(c, ',' | ';' | ':' | '，' | '；' | '：' | '、' | '—')
}

/// Punctuation that must not begin a line.
pub(crate) fn is_closing(c: char) -> bool {
    is_sentence_end(c)
        || is_clause_end(c)
        || matches!(
            c,
            ')' | ']'
                | '}'
                | '"'
                | '\''
                | '”'
                | '’'
                | '）'
                | '》'
                | '」'
                | '』'
                | '】'
                | '〕'
                | '%'
        )
}

/// Punctuation that must not end a line.
fn is_opening(c: char) -> bool {
    matches!(
        c,
        '(' | '[' | '{' | '“' | '‘' | '（' | '《' | '「' | '『' | '【' | '〔'
    )
}

/// English words a line (or cue) may start with more naturally than it may end with.
pub(crate) fn is_linking_word(w: &str) -> bool {
    const WORDS: &[&str] = &[
        "and", "but", "or", "nor", "so", "yet", "because", "if", "when", "while", "where",
        "whereas", "that", "which", "who", "whom", "whose", "although", "though", "unless",
        "until", "since", "than", "then", "as", "to", "of", "in", "on", "at", "for", "with",
        "from", "by", "about", "into", "onto", "over", "under", "after", "before", "between",
        "through", "without", "within", "during", "against", "like", "the", "a", "an",
    ];
    let w = w
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase();
    WORDS.contains(&w.as_str())
}

/// Whether a text is mostly CJK (then CJK counting and breaking rules apply).
pub(crate) fn is_cjk_text(text: &str) -> bool {
    let (mut cjk, mut other) = (0, 0);
    for c in text.chars().filter(|c| c.is_alphanumeric()) {
        if is_cjk(c) {
            cjk += 1;
        } else {
            other += 1;
        }
    }
    cjk > 0 && cjk * 2 >= other
}

/// Display width of `text` in characters, counted for CJK (`cjk`) or Latin text.
pub(crate) fn width(text: &str, cjk: bool) -> f32 {
    if !cjk {
        return text.chars().count() as f32;
    }
    text.chars()
        .map(|c| if is_cjk(c) { 1.0 } else { 0.5 })
        .sum()
}

/// Joins two pieces of text the way the language writes them: a space between Latin words,
/// nothing next to a CJK character.
pub(crate) fn join_into(out: &mut String, piece: &str) {
    let (Some(a), Some(b)) = (out.chars().last(), piece.chars().next()) else {
        out.push_str(piece);
        return;
    };
    if !(is_cjk(a) || is_cjk(b)) {
        out.push(' ');
    }
    out.push_str(piece);
}

/// Joins words into one line of text.
pub(crate) fn join(words: &[&str]) -> String {
    let mut s = String::new();
    for w in words {
        join_into(&mut s, w);
    }
    s
}

/// A place where a line may end, with how good a place it is (lower is better).
#[derive(Clone, Copy, Debug)]
struct Break {
    /// Byte offset into the joined text where the next line starts.
    at: usize,
    cost: f32,
}

/// Possible breaks in `text` (already joined). Latin: at spaces. CJK: between characters
/// and at spaces, never before closing or after opening punctuation.
fn breaks(text: &str, cjk: bool) -> Vec<Break> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = Vec::new();
    for i in 1..chars.len() {
        let (off, c) = chars[i];
        let prev = chars[i - 1].1;
        if c == ' ' {
            continue; // break after the space instead
        }
        let ok = if prev == ' ' {
            true
        } else {
            cjk && (is_cjk(prev) || is_cjk(c)) && !is_closing(c) && !is_opening(prev)
        };
        if !ok || is_closing(c) || is_opening(prev) {
            continue;
        }
        let before = text[..off].trim_end();
        let last = before.chars().last().unwrap_or(' ');
        let next_word: String = text[off..]
            .chars()
            .take_while(|c| !c.is_whitespace())
            .collect();
        let cost = if is_sentence_end(last) {
            0.0
        } else if is_clause_end(last) {
            1.0
        } else if !cjk && is_linking_word(&next_word) {
            2.0
        } else {
            4.0
        };
        out.push(Break { at: off, cost });
    }
    out
}

/// The best layout of `text` on at most `max_lines` lines of at most `max_width`, or
/// `None` when it cannot fit. Returns the lines and a cost (0 for a single line).
pub(crate) fn layout(text: &str, max_width: f32, max_lines: usize) -> Option<(Vec<String>, f32)> {
    let text = text.trim();
    let cjk = is_cjk_text(text);
    if width(text, cjk) <= max_width + 1e-3 {
        return Some((vec![text.to_string()], 0.0));
    }
    if max_lines <= 1 {
        return None;
    }
    let bs = breaks(text, cjk);
    // Lines between positions: 0, breaks..., len. DP over (break index, lines used).
    let mut pos: Vec<usize> = vec![0];
    pos.extend(bs.iter().map(|b| b.at));
    pos.push(text.len());
    let cost_at = |k: usize| {
        if k == 0 || k == pos.len() - 1 {
            0.0
        } else {
            bs[k - 1].cost
        }
    };
    let line = |a: usize, b: usize| text[pos[a]..pos[b]].trim();
    let n = pos.len();
    // best[k][l]: cost of laying out text[..pos[k]] on l lines, with the back pointer.
    let mut best = vec![vec![(f32::INFINITY, usize::MAX); max_lines + 1]; n];
    best[0][0] = (0.0, usize::MAX);
    for k in 1..n {
        for l in 1..=max_lines {
            for j in (0..k).rev() {
                let w = width(line(j, k), cjk);
                if w > max_width + 1e-3 {
                    break; // earlier starts only make the line longer
                }
                let (c, _) = best[j][l - 1];
                if c.is_finite() {
                    let v = c + cost_at(k);
                    if v < best[k][l].0 {
                        best[k][l] = (v, j);
                    }
                }
            }
        }
    }
    // Among line counts, prefer fewer lines, then break quality and balance.
    let mut winner: Option<(f32, Vec<String>)> = None;
    for l in 2..=max_lines {
        if !best[n - 1][l].0.is_finite() {
            continue;
        }
        // Reconstruct to score balance.
        let mut cuts = vec![n - 1];
        let (mut k, mut ll) = (n - 1, l);
        while ll > 0 {
            let j = best[k][ll].1;
            cuts.push(j);
            k = j;
            ll -= 1;
        }
        cuts.reverse();
        let lines: Vec<String> = cuts
            .windows(2)
            .map(|p| line(p[0], p[1]).to_string())
            .collect();
        let widths: Vec<f32> = lines.iter().map(|s| width(s, cjk)).collect();
        let mean = widths.iter().sum::<f32>() / widths.len() as f32;
        let imbalance: f32 =
            widths.iter().map(|w| (w - mean).abs()).sum::<f32>() / max_width.max(1.0);
        let top_heavy = widths.windows(2).filter(|p| p[0] > p[1] + 0.5).count() as f32;
        let score = best[n - 1][l].0 + 6.0 * imbalance + 0.5 * top_heavy + 3.0 * (l - 2) as f32;
        if winner.as_ref().is_none_or(|(s, _)| score < *s) {
            winner = Some((score, lines));
        }
    }
    // Re-run with an exact layout search for two lines (the common case) so that balance and
    // break quality are weighed together, not only break quality.
    if max_lines >= 2 {
        let mut two: Option<(f32, Vec<String>)> = None;
        for b in &bs {
            let (l1, l2) = (text[..b.at].trim(), text[b.at..].trim());
            let (w1, w2) = (width(l1, cjk), width(l2, cjk));
            if w1 > max_width + 1e-3 || w2 > max_width + 1e-3 {
                continue;
            }
            let imbalance = (w1 - w2).abs() / max_width.max(1.0);
            let top_heavy = if w1 > w2 + 0.5 { 0.5 } else { 0.0 };
            let score = b.cost + 6.0 * imbalance + top_heavy;
            if two.as_ref().is_none_or(|(s, _)| score < *s) {
                two = Some((score, vec![l1.to_string(), l2.to_string()]));
            }
        }
        if let Some((s, lines)) = two {
            if winner.as_ref().is_none_or(|(w, _)| s <= *w) {
                winner = Some((s, lines));
            }
        }
    }
    winner.map(|(s, lines)| (lines, s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lay(text: &str, w: f32) -> Vec<String> {
        layout(text, w, 2).map(|(l, _)| l).unwrap_or_default()
    }

    #[test]
    fn widths_count_half_width_as_half_in_cjk() {
        assert_eq!(width("hello", false), 5.0);
        assert_eq!(width("我用Python写", true), 6.0);
        assert_eq!(width("你好，世界。", true), 6.0);
        assert!(is_cjk_text("我用Python写代码"));
        assert!(!is_cjk_text("Hello 世界 and more words"));
    }

    #[test]
    fn joining_puts_spaces_only_between_latin_words() {
        assert_eq!(join(&["Hello", "world."]), "Hello world.");
        assert_eq!(
            join(&["我们", "今天", "用", "Python", "写", "代码。"]),
            "我们今天用Python写代码。"
        );
        assert_eq!(join(&["好", "，", "走"]), "好，走");
        assert_eq!(join(&["3.5", "GB"]), "3.5 GB");
    }

    #[test]
    fn golden_english() {
        assert_eq!(lay("Short line.", 42.0), ["Short line."]);
        assert_eq!(
            lay(
                "This sentence is clearly longer than forty two characters in total",
                42.0
            ),
            [
                "This sentence is clearly longer",
                "than forty two characters in total"
            ]
        );
        // Clause punctuation wins over perfect balance.
        assert_eq!(
            lay("When we got there, the whole town was already asleep", 42.0),
            ["When we got there,", "the whole town was already asleep"]
        );
        // Sentence end inside a cue.
        assert_eq!(
            lay("We left at nine. The train was late again today", 42.0),
            ["We left at nine.", "The train was late again today"]
        );
        // Before a preposition rather than after it, bottom-heavy.
        assert_eq!(
            lay(
                "I put the heavy box of old books on the kitchen table",
                42.0
            ),
            ["I put the heavy box", "of old books on the kitchen table"]
        );
        // Numbers and units stay as words; too long for two lines → None.
        assert_eq!(
            lay(
                "It costs 1,299.99 dollars or about 9,400 yuan in total today",
                42.0
            )
            .len(),
            2
        );
        assert!(layout(&"word ".repeat(30), 42.0, 2).is_none());
    }

    #[test]
    fn golden_chinese() {
        assert_eq!(
            lay("我们今天来讨论一下，如何把视频剪得更紧凑一些", 16.0),
            ["我们今天来讨论一下，", "如何把视频剪得更紧凑一些"]
        );
        // No punctuation at a line start; bottom-heavy when uneven.
        let l = lay("这是一个没有任何标点符号的很长很长的句子需要换行", 16.0);
        assert_eq!(l.len(), 2);
        assert!(width(&l[0], true) <= width(&l[1], true), "{l:?}");
        assert_eq!(
            l.concat(),
            "这是一个没有任何标点符号的很长很长的句子需要换行"
        );
        let l = lay(
            "他说：“我们明天再来。”然后就离开了这个地方再也没有回来",
            16.0,
        );
        for line in &l {
            assert!(!line.starts_with(is_closing), "{l:?}");
            assert!(width(line, true) <= 16.0, "{l:?}");
        }
        // Mixed Latin inside Chinese counts half.
        assert_eq!(
            lay("我们用Python和FFmpeg处理视频", 16.0),
            ["我们用Python和FFmpeg处理视频"]
        );
    }

    #[test]
    fn long_single_word_cannot_be_laid_out() {
        assert!(layout(
            "Pneumonoultramicroscopicsilicovolcanoconiosis-and-more-more-more",
            20.0,
            2
        )
        .is_none());
    }

    #[test]
    fn three_lines_when_allowed() {
        let (l, _) = layout(
            "one two three four five six seven eight nine ten eleven twelve",
            22.0,
            3,
        )
        .unwrap();
        assert_eq!(l.len(), 3, "{l:?}");
        assert!(l.iter().all(|x| x.len() <= 22));
    }
}
