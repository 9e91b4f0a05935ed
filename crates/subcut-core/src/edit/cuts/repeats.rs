//! Repeats ("I I think", "我我我觉得") found in a transcript's timed words.
//!
//! With repeat removal on, the first copy of an immediately repeated word or phrase of up to
//! three words is cut when the copies are less than [`REPEAT_MAX_GAP`] apart: "I I think" →
//! "I think", "I think I think" → "I think". Fillers between copies do not hide a repeat
//! ("I um I think"). Words people double on purpose ("very very", "no no", "bye bye",
//! "that that") are left alone, and so is Chinese reduplication (谢谢, 看看, 慢慢): a single
//! Chinese character repeated counts as a stutter only for the pronouns and function words
//! speakers stumble on ([`CJK_STUTTER`]: 我我, 这这, 就就 …).

use super::{Marks, Reason};
use crate::time::Time;
use crate::transcript::is_cjk;

/// Single Chinese characters whose immediate repetition is a stutter, not reduplication.
const CJK_STUTTER: &str = "我你他她它这那就在有不也都还要会可能把被让给和跟但因所如然";
/// Words doubled on purpose, never cut as repeats.
const DELIBERATE_DOUBLES: &[&str] = &[
    "very", "no", "yes", "yeah", "bye", "ha", "haha", "hey", "really", "okay", "ok", "right", "so",
    "that", "had", "is", "do", "well", "go", "knock", "tsk", "bla", "blah", "chop",
];
/// Copies further apart than this are not a stutter.
const REPEAT_MAX_GAP: Time = Time::from_millis(1000);

/// Marks the first copy of each immediately repeated word or phrase among the words no
/// earlier detector marked.
pub(crate) fn mark_repeats(m: &mut Marks) {
    let (w, norm, reason) = (m.words, m.norm, &mut *m.reason);
    // The words that stay after filler removal and have letters.
    let seq: Vec<usize> = (0..w.len())
        .filter(|&i| reason[i].is_none() && !norm[i].is_empty())
        .collect();
    let mut p = 0;
    while p < seq.len() {
        let mut matched = 0;
        for n in 1..=3 {
            if p + 2 * n > seq.len() {
                break;
            }
            let (a, b) = (&seq[p..p + n], &seq[p + n..p + 2 * n]);
            let same = a.iter().zip(b).all(|(&x, &y)| norm[x] == norm[y]);
            let close = w[b[0]].start - w[a[n - 1]].end <= REPEAT_MAX_GAP;
            if same && close && (n > 1 || stutter_word(&norm[a[0]])) {
                matched = n;
                break;
            }
        }
        if matched == 0 {
            p += 1;
            continue;
        }
        let copy = &seq[p..p + matched];
        let text = copy
            .iter()
            .map(|&i| w[i].text.trim())
            .collect::<Vec<_>>()
            .join(" ");
        for &i in copy {
            reason[i] = Some(Reason::Repeat { word: text.clone() });
        }
        p += matched;
    }
}

/// Whether a doubled single word is a stutter (not emphasis or reduplication).
fn stutter_word(norm: &str) -> bool {
    let mut chars = norm.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if is_cjk(c) => CJK_STUTTER.contains(c),
        _ => !DELIBERATE_DOUBLES.contains(&norm),
    }
}
