//! A glossary: the user's spellings of names, brands and jargon, one term per line
//! (`--glossary FILE`, `caption.glossary`). It does two things:
//!
//! - it primes the recogniser: [`Glossary::prompt`] is whisper's initial prompt, so the
//!   decoder has seen the spellings before it hears them;
//! - it corrects near-miss spellings of whole words afterwards ([`Glossary::correct`]): a run
//!   of as many words as the term has, compared without case and without the punctuation
//!   around them, is replaced by the term when it differs only in case, or by a few letters
//!   (none under 5 letters, 1 edit up to 8, 2 from 9), and starts with the same letter.
//!   Only whole words are ever compared, so a term is never written into another word
//!   (`Rust` does not touch `trust` or `Rusty`), and a plural `s` is kept (`kubernetess` is not
//!   a term, `Kafkas` stays a plural of `Kafka`).
//!
//! ```
//! use subcut_core::glossary::Glossary;
//! let g = Glossary::parse("Tauri\nHugging Face\n# a comment\n").unwrap();
//! assert_eq!(g.prompt(), "Tauri, Hugging Face.");
//! let mut words = vec!["with".to_string(), "hugging".into(), "face,".into(), "tori".into()];
//! g.correct_words(&mut words);
//! assert_eq!(words, ["with", "Hugging", "Face,", "tori"]); // "tori" is 2 edits from "Tauri"
//! ```
//!
//! Terms in CJK scripts prime the recogniser only: Chinese has no spaces to tell where a
//! word ends, and a character's near misses are homophones, not spellings.

use crate::transcript::{is_cjk_letter, join_text, Transcript};

/// The terms of a glossary file, in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Glossary {
    terms: Vec<String>,
}

/// Why a glossary's text is not a glossary.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GlossaryError {
    /// No line holds a term (only blank lines and `#` comments).
    #[error("the glossary is empty (one term per line expected)")]
    Empty,
}

impl Glossary {
    /// One term per line; blank lines and lines starting with `#` are skipped, spaces inside
    /// a term are kept (one space between its words).
    pub fn parse(text: &str) -> Result<Glossary, GlossaryError> {
        let mut terms: Vec<String> = Vec::new();
        for line in text.lines() {
            let t = line.trim().trim_start_matches('\u{feff}').trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
            if !terms.contains(&t) {
                terms.push(t);
            }
        }
        if terms.is_empty() {
            return Err(GlossaryError::Empty);
        }
        Ok(Glossary { terms })
    }

    /// The terms, in file order.
    pub fn terms(&self) -> &[String] {
        &self.terms
    }

    /// The initial prompt: the terms as a sentence (`Tauri, Hugging Face.`).
    pub fn prompt(&self) -> String {
        let mut p = self.terms.join(", ");
        if !p.ends_with(['.', '。', '!', '?']) {
            p.push('.');
        }
        p
    }

    /// Corrects the words of every segment ([`correct_words`](Self::correct_words)); a
    /// segment with a corrected word gets its text rebuilt from its words. Returns the
    /// number of words changed.
    pub fn correct(&self, t: &mut Transcript) -> usize {
        let mut changed = 0;
        for seg in &mut t.segments {
            let mut texts: Vec<String> = seg.words.iter().map(|w| w.text.clone()).collect();
            let n = self.correct_words(&mut texts);
            if n > 0 {
                for (w, text) in seg.words.iter_mut().zip(texts) {
                    w.text = text;
                }
                seg.text = join_text(seg.words.iter().map(|w| w.text.as_str()));
                changed += n;
            }
        }
        changed
    }

    /// Replaces near misses of the terms in a run of words (each as the recogniser wrote
    /// it, punctuation attached); returns how many words changed.
    pub fn correct_words(&self, words: &mut [String]) -> usize {
        let mut terms: Vec<Vec<&str>> = self
            .terms
            .iter()
            .filter(|t| !t.chars().any(is_cjk_letter))
            .map(|t| t.split(' ').collect())
            .collect();
        // Longer terms first: "Hugging Face" before "Face".
        terms.sort_by_key(|t| std::cmp::Reverse(t.len()));
        let mut changed = 0;
        let mut i = 0;
        while i < words.len() {
            let mut step = 1;
            for term in &terms {
                let k = term.len();
                if i + k > words.len() {
                    continue;
                }
                let parts: Vec<(&str, &str, &str)> =
                    words[i..i + k].iter().map(|w| split_affixes(w)).collect();
                if parts
                    .iter()
                    .any(|(_, c, _)| c.is_empty() || c.chars().any(is_cjk_letter))
                {
                    continue;
                }
                // Punctuation inside the run (other than at its ends) means a phrase boundary.
                if parts[..k - 1].iter().any(|(_, _, s)| !s.is_empty())
                    || parts[1..].iter().any(|(p, _, _)| !p.is_empty())
                {
                    continue;
                }
                let heard: Vec<&str> = parts.iter().map(|(_, c, _)| *c).collect();
                let Some(plural) = near_miss(&heard, term) else {
                    continue;
                };
                let mut replaced: Vec<String> = parts
                    .iter()
                    .zip(term.iter())
                    .map(|((p, _, s), t)| format!("{p}{t}{s}"))
                    .collect();
                if plural {
                    let (p, _, s) = parts[k - 1];
                    replaced[k - 1] = format!("{p}{}s{s}", term[k - 1]);
                }
                for (w, r) in words[i..i + k].iter_mut().zip(replaced) {
                    if *w != r {
                        *w = r;
                        changed += 1;
                    }
                }
                step = k;
                break;
            }
            i += step;
        }
        changed
    }
}

/// A word as (leading punctuation, the letters and digits, trailing punctuation); inner
/// apostrophes, hyphens and dots stay in the middle (`don't`, `e-mail`, `Node.js`).
fn split_affixes(w: &str) -> (&str, &str, &str) {
    let is_core = |c: char| c.is_alphanumeric();
    let start = w.find(is_core).unwrap_or(w.len());
    let mut end = w.rfind(is_core).map_or(start, |i| {
        i + w[i..].chars().next().map_or(1, char::len_utf8)
    });
    for possessive in ["'s", "’s"] {
        if w[start..end].len() > possessive.len() + 1
            && w[start..end].to_lowercase().ends_with(possessive)
        {
            end -= possessive.len();
        }
    }
    (&w[..start], &w[start..end], &w[end..])
}

/// Whether the heard words are a near miss of the term (see the module documentation):
/// `Some(plural)` when they are, `plural` when the heard form kept an extra `s` that the
/// replacement keeps too. Exact matches are `None` (nothing to do).
fn near_miss(heard: &[&str], term: &[&str]) -> Option<bool> {
    let h = heard.join(" ");
    let t = term.join(" ");
    if h == t {
        return None;
    }
    let (hl, tl) = (h.to_lowercase(), t.to_lowercase());
    let within = |a: &str| {
        let letters = tl.chars().filter(|c| *c != ' ').count();
        let allowed = match letters {
            0..=4 => 0,
            5..=8 => 1,
            _ => 2,
        };
        a.chars().next() == tl.chars().next() && edit_distance(a, &tl) <= allowed
    };
    let stem = hl.strip_suffix('s').filter(|_| !tl.ends_with('s'));
    if stem == Some(tl.as_str()) {
        // The term's plural: already right, or only its case to fix.
        return (h.strip_suffix('s') != Some(t.as_str())).then_some(true);
    }
    if within(&hl) {
        return Some(false);
    }
    within(stem?).then_some(true)
}

/// Levenshtein distance in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(row[j]).min(row[j + 1])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Time;
    use crate::transcript::{Segment, Word};

    fn fix(g: &Glossary, text: &str) -> String {
        let mut w: Vec<String> = text.split(' ').map(String::from).collect();
        g.correct_words(&mut w);
        w.join(" ")
    }

    #[test]
    fn parse_skips_blanks_and_comments_and_refuses_an_empty_file() {
        let g = Glossary::parse("\u{feff}Tauri\n\n  # brands\n  Hugging   Face \nTauri\n").unwrap();
        assert_eq!(g.terms(), ["Tauri", "Hugging Face"]);
        assert_eq!(
            Glossary::parse("\n# only a comment\n  \n"),
            Err(GlossaryError::Empty)
        );
        assert_eq!(Glossary::parse(""), Err(GlossaryError::Empty));
        assert_eq!(Glossary::parse("剪映\n").unwrap().prompt(), "剪映.");
    }

    #[test]
    fn near_misses_of_whole_words_are_corrected() {
        let g = Glossary::parse("Kubernetes\nPyTorch\nRust\nHugging Face\nsubcut").unwrap();
        assert_eq!(
            fix(&g, "we run kubernetis on pytorch."),
            "we run Kubernetes on PyTorch."
        );
        assert_eq!(
            fix(&g, "Kubernetis, and (Pytorch)"),
            "Kubernetes, and (PyTorch)"
        );
        assert_eq!(
            fix(&g, "I love rust"),
            "I love Rust",
            "case only for short terms"
        );
        assert_eq!(fix(&g, "hugging face's models"), "Hugging Face's models");
        assert_eq!(fix(&g, "sub cut"), "sub cut", "two words are not one term");
        assert_eq!(fix(&g, "subcat works"), "subcut works");
    }

    #[test]
    fn never_inside_another_word_nor_across_punctuation() {
        let g = Glossary::parse("Rust\nKafka\nHugging Face").unwrap();
        assert_eq!(fix(&g, "trust rusty crust"), "trust rusty crust");
        assert_eq!(
            fix(&g, "just must bust"),
            "just must bust",
            "no edits under 5 letters"
        );
        assert_eq!(
            fix(&g, "Kafkas kafkaesque"),
            "Kafkas kafkaesque",
            "plural kept, longer word untouched"
        );
        assert_eq!(fix(&g, "kafkas"), "Kafkas");
        assert_eq!(
            fix(&g, "hugging. Face"),
            "hugging. Face",
            "a sentence ends between them"
        );
        assert_eq!(fix(&g, "caffa"), "caffa", "a different first letter");
        // CJK words are never compared.
        let z = Glossary::parse("剪映\nTauri").unwrap();
        assert_eq!(fix(&z, "剪影 tauri"), "剪影 Tauri");
    }

    #[test]
    fn a_corrected_segment_gets_its_text_from_its_words() {
        let g = Glossary::parse("PyTorch").unwrap();
        let w = |t: &str, a: i64| Word {
            text: t.into(),
            start: Time::from_millis(a),
            end: Time::from_millis(a + 300),
            probability: 0.9,
        };
        let mut t = Transcript {
            language: "en".into(),
            segments: vec![Segment {
                start: Time::ZERO,
                end: Time::from_millis(1000),
                text: " I use pie torch.".into(),
                words: vec![w("I", 0), w("use", 300), w("pytorch.", 600)],
                no_speech_probability: 0.0,
                language: "en".into(),
            }],
        };
        assert_eq!(g.correct(&mut t), 1);
        assert_eq!(t.segments[0].text, "I use PyTorch.");
        assert_eq!(t.segments[0].words[2].text, "PyTorch.");
        assert_eq!(g.correct(&mut t), 0, "idempotent");
    }
}
