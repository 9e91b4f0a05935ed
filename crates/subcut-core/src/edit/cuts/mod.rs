//! Why parts of a recording go: the [`Reason`] of every removed span, and the detectors that
//! find cuts in the transcript's words (`fillers`, `repeats`, `retakes`). Silence is not found here: it
//! is what the plan leaves between speech.
//!
//! A detector is a `mark` function over [`Marks`] (the words in time order and what earlier
//! detectors decided); `find_cuts` runs the ones it is given and turns the marked words
//! into [`Removed`] spans. Which detectors run, and with which knobs, is the table
//! [`WORD_CUTS`](crate::edit::WORD_CUTS) next to [`CutParams`](crate::edit::CutParams),
//! so this module knows nothing of the parameters (the dependency goes one way: plan → cuts).
//!
//! A new word-based cut is a file here with its `mark` function, a [`Reason`] variant (and its
//! [`ReasonKind`]), and an entry in `WORD_CUTS` with the knob it reads in `CutParams`.

pub(crate) mod fillers;
pub(crate) mod repeats;
pub(crate) mod retakes;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::time::{Span, Time};
use crate::transcript::Word;

pub use fillers::FillerSet;
pub use retakes::Retakes;

/// Why a span was removed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "lowercase")]
pub enum Reason {
    /// Removed time that no word cut names: quiet, and blips too short to keep.
    Silence,
    /// A filler word, named by its list entry ("um", "嗯").
    Filler {
        /// The entry's text (`um`), not the word as transcribed.
        word: String,
    },
    /// The first copy of a repeated word or phrase.
    Repeat {
        /// The repeated copy's words as transcribed, joined by spaces (`I think`).
        word: String,
    },
    /// Cut by hand in an edit list (`subcut cut --edit`): a ticked line or deleted words.
    Edit,
    /// An abandoned take of a sentence that is said again (`retakes`).
    Retake {
        /// The take's words as transcribed, joined (`The first step is to record.`).
        text: String,
    },
}

impl Reason {
    /// What kind of reason this is, without the word it names.
    pub fn kind(&self) -> ReasonKind {
        match self {
            Reason::Silence => ReasonKind::Silence,
            Reason::Filler { .. } => ReasonKind::Filler,
            Reason::Repeat { .. } => ReasonKind::Repeat,
            Reason::Edit => ReasonKind::Edit,
            Reason::Retake { .. } => ReasonKind::Retake,
        }
    }
}

/// The kinds of [`Reason`], in the order a cut list totals them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReasonKind {
    /// Silence ([`Reason::Silence`]).
    Silence,
    /// Fillers, whatever the word ([`Reason::Filler`]).
    Filler,
    /// Repeats, whatever the words ([`Reason::Repeat`]).
    Repeat,
    /// Cut by hand in an edit list ([`Reason::Edit`]).
    Edit,
    /// Abandoned takes ([`Reason::Retake`]).
    Retake,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Silence => f.write_str("silence"),
            Reason::Filler { word } => write!(f, "filler {word:?}"),
            Reason::Repeat { word } => write!(f, "repeat {word:?}"),
            Reason::Edit => f.write_str("edit"),
            Reason::Retake { text } => write!(f, "retake {text:?}"),
        }
    }
}

/// A removed span and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Removed {
    /// The removed part of the source (half-open).
    #[serde(flatten)]
    pub span: Span,
    /// Why it was removed.
    #[serde(flatten)]
    pub reason: Reason,
}

/// The words of a transcript in time order, with what the cuts decided so far.
pub struct Marks<'a> {
    /// The words, sorted by `(start, end)`.
    words: &'a [&'a Word],
    /// Each word [`fillers::normalize`]d.
    norm: &'a [String],
    /// Why each word goes; `None` while it stays.
    reason: &'a mut [Option<Reason>],
}

/// The words to cut: `mark` runs the detectors over `words` (sorted by `(start, end)`). Each
/// cut is the word's own `[start, end)` clamped so that it never reaches into a word that
/// stays; a run of consecutive cut words is one contiguous stretch (one [`Removed`] per word).
/// Sorted.
pub(crate) fn find_cuts(words: &[Word], mark: impl FnOnce(&mut Marks)) -> Vec<Removed> {
    let mut w: Vec<&Word> = words.iter().collect();
    w.sort_by_key(|w| (w.start, w.end));
    let norm: Vec<String> = w.iter().map(|w| fillers::normalize(&w.text)).collect();
    let mut reason: Vec<Option<Reason>> = vec![None; w.len()];
    mark(&mut Marks {
        words: &w,
        norm: &norm,
        reason: &mut reason,
    });
    cut_spans(&w, &reason)
}

/// Why each word of `words` (sorted by `(start, end)`) goes, as the detectors `mark` decide:
/// the per-word form of [`find_cuts`] (for the edit list, which shows and changes them).
pub(crate) fn word_reasons(words: &[Word], mark: impl FnOnce(&mut Marks)) -> Vec<Option<Reason>> {
    let w: Vec<&Word> = words.iter().collect();
    debug_assert!(w
        .windows(2)
        .all(|p| (p[0].start, p[0].end) <= (p[1].start, p[1].end)));
    let norm: Vec<String> = w.iter().map(|w| fillers::normalize(&w.text)).collect();
    let mut reason: Vec<Option<Reason>> = vec![None; w.len()];
    mark(&mut Marks {
        words: &w,
        norm: &norm,
        reason: &mut reason,
    });
    reason
}

/// The removed spans of `words` (sorted by `(start, end)`) cut for `reason` (one per word;
/// `None`: the word stays), by the rules of `find_cuts`: never into a kept word, a run of
/// cut words as one stretch. Sorted.
pub fn cuts_of_words(words: &[Word], reason: &[Option<Reason>]) -> Vec<Removed> {
    let w: Vec<&Word> = words.iter().collect();
    cut_spans(&w, reason)
}

fn cut_spans(w: &[&Word], reason: &[Option<Reason>]) -> Vec<Removed> {
    let n = w.len();
    // Latest end of a kept word before i, earliest start of a kept word after i.
    let mut kept_end_before = vec![Time(i64::MIN); n];
    let mut acc = Time(i64::MIN);
    for i in 0..n {
        kept_end_before[i] = acc;
        if reason[i].is_none() {
            acc = acc.max(w[i].end);
        }
    }
    let mut kept_start_after = vec![Time::MAX; n];
    let mut acc = Time::MAX;
    for i in (0..n).rev() {
        kept_start_after[i] = acc;
        if reason[i].is_none() {
            acc = acc.min(w[i].start);
        }
    }
    let mut out: Vec<Removed> = Vec::new();
    for i in 0..n {
        let Some(r) = &reason[i] else { continue };
        let mut end = w[i].end;
        // A run of cut words is cut as one stretch, pauses between them included.
        if i + 1 < n && reason[i + 1].is_some() {
            end = end.max(w[i + 1].start);
        }
        let span = Span::new(
            w[i].start.max(kept_end_before[i]),
            end.min(kept_start_after[i]),
        );
        if !span.is_empty() {
            out.push(Removed {
                span,
                reason: r.clone(),
            });
        }
    }
    out.sort_by_key(|r| r.span);
    out
}

#[cfg(test)]
mod tests {
    use super::fillers::{fold, normalize};
    use super::*;
    use crate::edit::CutParams;

    fn words(spec: &[(&str, i64, i64)]) -> Vec<Word> {
        spec.iter()
            .map(|&(t, a, b)| Word {
                text: t.into(),
                start: Time::from_millis(a),
                end: Time::from_millis(b),
                probability: 0.9,
            })
            .collect()
    }

    fn cut_texts(ws: &[Word], lang: &str, f: &str, rep: bool) -> Vec<(i64, i64, String)> {
        let p = CutParams {
            fillers: f.parse().unwrap(),
            remove_repeats: rep,
            ..CutParams::default()
        };
        p.word_cuts(ws, lang)
            .into_iter()
            .map(|r| {
                (
                    r.span.start.as_millis(),
                    r.span.end.as_millis(),
                    r.reason.to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn normalizing_and_folding() {
        assert_eq!(normalize("Um,"), "um");
        assert_eq!(normalize("嗯，"), "嗯");
        assert_eq!(normalize("I'm"), "im");
        assert_eq!(fold("ummmm"), "um");
        assert_eq!(fold("hmm"), "hm");
        assert_eq!(fold("嗯嗯嗯"), "嗯");
        assert_eq!(fold(&normalize("Uhhh...")), "uh");
    }

    #[test]
    fn english_fillers_are_cut_at_word_bounds() {
        let ws = words(&[
            ("So,", 0, 300),
            ("um,", 400, 700),
            ("I", 800, 900),
            ("think", 900, 1200),
            ("Ummm", 1300, 1600),
            ("hmm.", 1700, 1900),
            ("oh", 2000, 2100),
        ]);
        assert_eq!(
            cut_texts(&ws, "en", "auto", false),
            vec![
                (400, 700, "filler \"um\"".into()),
                (1300, 1700, "filler \"um\"".into()),
                (1700, 1900, "filler \"hmm\"".into()),
            ]
        );
        assert!(cut_texts(&ws, "en", "none", false).is_empty());
        assert!(
            cut_texts(&ws, "de", "auto", false).is_empty(),
            "German 'er' is a word"
        );
        assert_eq!(cut_texts(&ws, "de", "en", false).len(), 3);
    }

    #[test]
    fn a_cut_never_reaches_into_a_kept_neighbour() {
        // Overlapping recogniser times: the filler's bounds are clamped to its neighbours.
        let ws = words(&[("well", 0, 450), ("uh", 400, 800), ("yes", 700, 1000)]);
        assert_eq!(
            cut_texts(&ws, "en", "en", false),
            vec![(450, 700, "filler \"uh\"".into())]
        );
        // Wholly inside a neighbour: nothing left to cut.
        let ws = words(&[("well", 0, 1000), ("uh", 400, 600)]);
        assert!(cut_texts(&ws, "en", "en", false).is_empty());
    }

    #[test]
    fn chinese_fillers_and_standalone_particles() {
        let ws = words(&[
            ("嗯，", 0, 200),
            ("我", 300, 400),
            ("觉得", 400, 600),
            ("好", 600, 700),
            ("啊。", 700, 800),
            ("啊，", 1200, 1400),
            ("金", 1500, 1600),
            ("额", 1600, 1700),
            ("呃呃", 1900, 2100),
        ]);
        assert_eq!(
            cut_texts(&ws, "zh", "auto", false),
            vec![
                (0, 200, "filler \"嗯\"".into()),
                (1200, 1400, "filler \"啊\"".into()),
                (1900, 2100, "filler \"呃\"".into()),
            ],
            "好啊 keeps its particle and 金额 its 额"
        );
        assert!(cut_texts(&ws, "en", "auto", false).is_empty());
        assert_eq!(
            cut_texts(&ws, "", "auto", false).len(),
            3,
            "unknown: both lists"
        );
    }

    #[test]
    fn explicit_entries_match_one_or_several_words() {
        let ws = words(&[
            ("那个", 0, 300),
            ("我", 300, 400),
            ("就", 500, 600),
            ("是", 600, 700),
            ("You", 1000, 1100),
            ("know,", 1100, 1300),
            ("right", 1300, 1500),
        ]);
        assert_eq!(
            cut_texts(&ws, "zh", "zh,那个,就是,you know", false),
            vec![
                (0, 300, "filler \"那个\"".into()),
                (500, 600, "filler \"就是\"".into()),
                // The pause up to the next cut word goes with it.
                (600, 1000, "filler \"就是\"".into()),
                (1000, 1100, "filler \"you know\"".into()),
                (1100, 1300, "filler \"you know\"".into()),
            ]
        );
        assert!(
            cut_texts(&ws, "zh", "zh", false).is_empty(),
            "not by default"
        );
    }

    #[test]
    fn repeats_cut_the_first_copy() {
        let ws = words(&[
            ("I", 0, 100),
            ("I", 200, 300),
            ("I", 350, 450),
            ("think", 450, 700),
            ("it", 800, 900),
            ("um", 900, 1000),
            ("it", 1100, 1200),
            ("works,", 1200, 1500),
            ("very", 1600, 1800),
            ("very", 1800, 2000),
            ("well.", 2000, 2300),
            ("I", 3000, 3100),
            ("mean", 3100, 3300),
            ("I", 3400, 3500),
            ("mean", 3500, 3700),
            ("so", 3800, 3900),
            ("so", 6000, 6100),
        ]);
        assert_eq!(
            cut_texts(&ws, "en", "en", true),
            vec![
                (0, 200, "repeat \"I\"".into()),
                (200, 300, "repeat \"I\"".into()),
                (800, 900, "repeat \"it\"".into()),
                (900, 1000, "filler \"um\"".into()),
                (3000, 3100, "repeat \"I mean\"".into()),
                (3100, 3300, "repeat \"I mean\"".into()),
            ]
        );
        assert_eq!(cut_texts(&ws, "en", "none", false), vec![]);
    }

    #[test]
    fn chinese_stutters_but_not_reduplication() {
        let ws = words(&[
            ("我", 0, 100),
            ("我", 150, 250),
            ("觉得", 250, 500),
            ("谢", 600, 700),
            ("谢", 700, 800),
            ("看看", 900, 1100),
            ("看看", 1100, 1300),
        ]);
        assert_eq!(
            cut_texts(&ws, "zh", "none", true),
            vec![
                (0, 100, "repeat \"我\"".into()),
                (900, 1100, "repeat \"看看\"".into()),
            ]
        );
    }

    #[test]
    fn filler_sets_parse_and_print() {
        let f: FillerSet = "en, zh ,那个".parse().unwrap();
        assert!(f.english && f.chinese && !f.auto);
        assert_eq!(f.words, vec!["那个".to_string()]);
        assert_eq!(f.to_string(), "both,那个");
        assert_eq!("none".parse::<FillerSet>().unwrap(), FillerSet::none());
        assert_eq!("".parse::<FillerSet>().unwrap().to_string(), "none");
        assert_eq!(FillerSet::default().to_string(), "auto");
        assert!("none,en".parse::<FillerSet>().is_err());
        assert!("en,..."
            .parse::<FillerSet>()
            .unwrap_err()
            .contains("no letters"));
        let from_list: FillerSet = serde_json::from_str(r#"["zh", "那个"]"#).unwrap();
        assert_eq!(from_list.to_string(), "zh,那个");
        let from_str: FillerSet = serde_json::from_str(r#""auto""#).unwrap();
        assert_eq!(from_str, FillerSet::auto());
        assert_eq!(serde_json::to_string(&f).unwrap(), r#""both,那个""#);
    }
}
