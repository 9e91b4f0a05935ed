//! Filler words ("um", "嗯") and stutters ("I I think", "我我我觉得") found in a transcript's
//! timed words, as spans to cut exactly at word boundaries.
//!
//! Words are compared after [`normalize`]: lowercase, only letters and digits kept (so
//! "Um," and "嗯，" match "um" and "嗯"). Fillers are also compared with runs of one
//! letter folded ([`fold`]: "ummm" → "um", "嗯嗯" → "嗯", "hmm" → "hm").
//!
//! # Which words are fillers
//! - English ([`ENGLISH`]): um, uh, uhm, er, erm, ah, hmm, mm and their stretched spellings.
//!   "oh" and "like" are not: they usually carry meaning.
//! - Chinese ([`CHINESE`]): 嗯 呃 唔 are always fillers. 额 啊 哦 欸 are also real words or
//!   parts of words (金额, 好啊, 哦 as an answer), so they count only when they stand alone:
//!   nothing or a pause (≥ 150 ms) or a punctuation mark on both sides.
//! - Multi-character "verbal crutches" such as 那个, 就是, 然后 or English "you know" are real
//!   words far too often to cut by default; list them explicitly
//!   (`--fillers zh,那个,就是`) to cut them everywhere. A listed entry matches one word or
//!   several consecutive words whose letters together spell it.
//!
//! [`FillerSet`] chooses the lists: `none`, `en`, `zh`, `both`, `auto` (the default: the
//! transcript's language; both lists when it is unknown, none for other languages, because
//! e.g. German "er" is a word) plus any explicit words, comma separated.
//!
//! # Repeats
//! With repeat removal on, the first copy of an immediately repeated word or phrase of up to
//! three words is cut when the copies are less than [`REPEAT_MAX_GAP`] apart: "I I think" →
//! "I think", "I think I think" → "I think". Fillers between copies do not hide a repeat
//! ("I um I think"). Words people double on purpose ("very very", "no no", "bye bye",
//! "that that") are left alone, and so is Chinese reduplication (谢谢, 看看, 慢慢): a single
//! Chinese character repeated counts as a stutter only for the pronouns and function words
//! speakers stumble on ([`CJK_STUTTER`]: 我我, 这这, 就就 …).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::plan::{Reason, Removed};
use crate::asr::transcript::{is_cjk, Word};
use crate::time::{Span, Time};

/// English fillers (before [`fold`]ing; stretched spellings such as "ummm" match too).
pub const ENGLISH: &[&str] = &["um", "uh", "uhm", "er", "erm", "ah", "hmm", "mm"];
/// Chinese fillers that are fillers wherever they stand.
pub const CHINESE: &[&str] = &["嗯", "呃", "唔"];
/// Chinese fillers that are also real words: cut only when they stand alone.
pub const CHINESE_STANDALONE: &[&str] = &["额", "啊", "哦", "欸"];
/// Single Chinese characters whose immediate repetition is a stutter, not reduplication.
pub const CJK_STUTTER: &str = "我你他她它这那就在有不也都还要会可能把被让给和跟但因所如然";
/// Words doubled on purpose, never cut as repeats.
pub const DELIBERATE_DOUBLES: &[&str] = &[
    "very", "no", "yes", "yeah", "bye", "ha", "haha", "hey", "really", "okay", "ok", "right", "so",
    "that", "had", "is", "do", "well", "go", "knock", "tsk", "bla", "blah", "chop",
];
/// Copies further apart than this are not a stutter.
pub const REPEAT_MAX_GAP: Time = Time::from_millis(1000);
/// The pause that makes an ambiguous Chinese filler stand alone.
const STANDALONE_GAP: Time = Time::from_millis(150);
/// The longest filler entry, in words.
const MAX_ENTRY_WORDS: usize = 4;

/// Which words count as fillers: built-in lists and explicit words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FillerSet {
    /// The list of the transcript's language (`en`, `zh`; both when unknown).
    pub auto: bool,
    pub english: bool,
    pub chinese: bool,
    /// Explicit entries, as written (one word or a phrase).
    pub words: Vec<String>,
}

impl FillerSet {
    pub fn none() -> FillerSet {
        FillerSet {
            auto: false,
            english: false,
            chinese: false,
            words: Vec::new(),
        }
    }
    pub fn auto() -> FillerSet {
        FillerSet {
            auto: true,
            ..FillerSet::none()
        }
    }
    pub fn is_none(&self) -> bool {
        *self == FillerSet::none()
    }

    /// The entries that apply to a transcript in `language` (ISO 639-1, "" if unknown).
    pub fn lexicon(&self, language: &str) -> Lexicon {
        let lang = language
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        let unknown = lang.is_empty() || lang == "auto";
        let en = self.english || (self.auto && (unknown || lang == "en"));
        let zh = self.chinese || (self.auto && (unknown || matches!(lang.as_str(), "zh" | "yue")));
        let mut entries = Vec::new();
        let mut add = |w: &str, standalone: bool| {
            let key = fold(&normalize(w));
            if !key.is_empty() && !entries.iter().any(|e: &Entry| e.key == key) {
                entries.push(Entry {
                    key,
                    text: w.trim().to_string(),
                    standalone,
                });
            }
        };
        if en {
            ENGLISH.iter().for_each(|w| add(w, false));
        }
        if zh {
            CHINESE.iter().for_each(|w| add(w, false));
            CHINESE_STANDALONE.iter().for_each(|w| add(w, true));
        }
        self.words.iter().for_each(|w| add(w, false));
        Lexicon { entries }
    }

    /// Why the set cannot be used, if it cannot.
    pub fn validate(&self) -> Result<(), String> {
        for w in &self.words {
            if normalize(w).is_empty() {
                return Err(format!(
                    "filler {w:?} has no letters or digits (fillers are none, en, zh, both, auto or words)"
                ));
            }
        }
        Ok(())
    }
}

impl Default for FillerSet {
    fn default() -> Self {
        FillerSet::auto()
    }
}

impl fmt::Display for FillerSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<&str> = Vec::new();
        if self.auto {
            parts.push("auto");
        }
        match (self.english, self.chinese) {
            (true, true) => parts.push("both"),
            (true, false) => parts.push("en"),
            (false, true) => parts.push("zh"),
            _ => {}
        }
        parts.extend(self.words.iter().map(String::as_str));
        if parts.is_empty() {
            f.write_str("none")
        } else {
            f.write_str(&parts.join(","))
        }
    }
}

/// `none`, or a comma-separated mix of `auto`, `en`, `zh`, `both` and words: `en,you know`.
impl FromStr for FillerSet {
    type Err = String;
    fn from_str(s: &str) -> Result<FillerSet, String> {
        FillerSet::from_items(s.split([',', '，']))
    }
}

impl FillerSet {
    fn from_items<'a>(items: impl IntoIterator<Item = &'a str>) -> Result<FillerSet, String> {
        let mut set = FillerSet::none();
        let mut none = false;
        for item in items.into_iter().map(str::trim).filter(|i| !i.is_empty()) {
            match item.to_ascii_lowercase().as_str() {
                "none" => none = true,
                "auto" => set.auto = true,
                "en" => set.english = true,
                "zh" => set.chinese = true,
                "both" | "all" => (set.english, set.chinese) = (true, true),
                _ => {
                    if !set.words.iter().any(|w| w == item) {
                        set.words.push(item.to_string());
                    }
                }
            }
        }
        if none && set != FillerSet::none() {
            return Err("fillers: `none` cannot be combined with other entries".into());
        }
        set.validate()?;
        Ok(set)
    }
}

impl Serialize for FillerSet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A string (`"en,那个"`) or a list of strings (`["en", "那个"]`).
impl<'de> Deserialize<'de> for FillerSet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<FillerSet, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            One(String),
            Many(Vec<String>),
        }
        match Raw::deserialize(d)? {
            Raw::One(s) => s.parse(),
            Raw::Many(v) => FillerSet::from_items(v.iter().map(String::as_str)),
        }
        .map_err(serde::de::Error::custom)
    }
}

/// One filler as matched: its folded letters, its display text, and whether it counts only
/// when standing alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    pub text: String,
    pub standalone: bool,
}

/// The filler entries that apply to one transcript.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lexicon {
    pub entries: Vec<Entry>,
}

impl Lexicon {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Lowercase letters and digits only: "Um," → "um", "嗯，" → "嗯", "I'm" → "im".
pub fn normalize(word: &str) -> String {
    word.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Runs of one character folded to one: "ummm" → "um", "hmm" → "hm", "嗯嗯" → "嗯".
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut last = None;
    for c in s.chars() {
        if last != Some(c) {
            out.push(c);
        }
        last = Some(c);
    }
    out
}

fn ends_with_punctuation(text: &str) -> bool {
    text.trim_end()
        .chars()
        .last()
        .is_some_and(|c| !c.is_alphanumeric())
}

/// The words to cut: fillers from `fillers` (for a transcript in `language`) and, with
/// `repeats`, the first copies of immediately repeated words. Each cut is the word's own
/// `[start, end)` clamped so that it never reaches into a word that stays; a run of
/// consecutive cut words is one contiguous stretch (one [`Removed`] per word). Sorted.
pub fn find_cuts(
    words: &[Word],
    language: &str,
    fillers: &FillerSet,
    repeats: bool,
) -> Vec<Removed> {
    let mut w: Vec<&Word> = words.iter().collect();
    w.sort_by_key(|w| (w.start, w.end));
    let norm: Vec<String> = w.iter().map(|w| normalize(&w.text)).collect();
    let mut reason: Vec<Option<Reason>> = vec![None; w.len()];

    let lex = fillers.lexicon(language);
    if !lex.is_empty() {
        mark_fillers(&w, &norm, &lex, &mut reason);
    }
    if repeats {
        mark_repeats(&w, &norm, &mut reason);
    }
    cut_spans(&w, &reason)
}

fn mark_fillers(w: &[&Word], norm: &[String], lex: &Lexicon, reason: &mut [Option<Reason>]) {
    let n = w.len();
    let mut i = 0;
    'words: while i < n {
        if norm[i].is_empty() {
            i += 1;
            continue;
        }
        let mut joined = String::new();
        for k in 1..=MAX_ENTRY_WORDS.min(n - i) {
            joined.push_str(&norm[i + k - 1]);
            let key = fold(&joined);
            for e in &lex.entries {
                if e.key != key || (e.standalone && (k > 1 || !stands_alone(w, i))) {
                    continue;
                }
                for r in reason.iter_mut().skip(i).take(k) {
                    *r = Some(Reason::Filler {
                        word: e.text.clone(),
                    });
                }
                i += k;
                continue 'words;
            }
        }
        i += 1;
    }
}

/// Whether word `i` is set apart from both neighbours by nothing, a pause or punctuation.
fn stands_alone(w: &[&Word], i: usize) -> bool {
    let before = i == 0
        || w[i].start - w[i - 1].end >= STANDALONE_GAP
        || ends_with_punctuation(&w[i - 1].text);
    let after = i + 1 == w.len()
        || w[i + 1].start - w[i].end >= STANDALONE_GAP
        || ends_with_punctuation(&w[i].text);
    before && after
}

fn mark_repeats(w: &[&Word], norm: &[String], reason: &mut [Option<Reason>]) {
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
    use super::*;

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
        find_cuts(ws, lang, &f.parse().unwrap(), rep)
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
