//! Filler words ("um", "嗯") found in a transcript's timed words, cut exactly at word
//! boundaries.
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

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Marks, Reason};
use crate::config::InvalidField;
use crate::time::Time;
use crate::transcript::Word;

/// English fillers (before [`fold`]ing; stretched spellings such as "ummm" match too).
const ENGLISH: &[&str] = &["um", "uh", "uhm", "er", "erm", "ah", "hmm", "mm"];
/// Chinese fillers that are fillers wherever they stand.
const CHINESE: &[&str] = &["嗯", "呃", "唔"];
/// Chinese fillers that are also real words: cut only when they stand alone.
const CHINESE_STANDALONE: &[&str] = &["额", "啊", "哦", "欸"];
/// The pause that makes an ambiguous Chinese filler stand alone.
const STANDALONE_GAP: Time = Time::from_millis(150);
/// The longest filler entry, in words.
const MAX_ENTRY_WORDS: usize = 4;

/// Which words count as fillers: built-in lists and explicit words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FillerSet {
    /// The list of the transcript's language (`en`, `zh`; both when unknown).
    pub auto: bool,
    /// The English list (`um`, `uh`, …), whatever the transcript's language.
    pub english: bool,
    /// The Chinese list (`嗯`, `呃`, …), whatever the transcript's language.
    pub chinese: bool,
    /// Explicit entries, as written (one word or a phrase).
    pub words: Vec<String>,
}

impl FillerSet {
    pub(crate) fn none() -> FillerSet {
        FillerSet {
            auto: false,
            english: false,
            chinese: false,
            words: Vec::new(),
        }
    }
    pub(crate) fn auto() -> FillerSet {
        FillerSet {
            auto: true,
            ..FillerSet::none()
        }
    }
    /// Whether nothing counts as a filler (`--fillers none`): no list and no words.
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
    pub(crate) fn validate(&self) -> Result<(), InvalidField> {
        for w in &self.words {
            if normalize(w).is_empty() {
                return Err(InvalidField::new(
                    "fillers",
                    format!(
                        "filler {w:?} has no letters or digits (fillers are none, en, zh, both, auto or words)"
                    ),
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
        set.validate().map_err(|e| e.message)?;
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
    fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Lowercase letters and digits only: "Um," → "um", "嗯，" → "嗯", "I'm" → "im".
pub(crate) fn normalize(word: &str) -> String {
    word.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Runs of one character folded to one: "ummm" → "um", "hmm" → "hm", "嗯嗯" → "嗯".
pub(crate) fn fold(s: &str) -> String {
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

/// Marks the fillers of `lex` (the lists that apply to the transcript's language).
pub(crate) fn mark_fillers(m: &mut Marks, lex: &Lexicon) {
    if lex.is_empty() {
        return;
    }
    let (w, norm, reason) = (m.words, m.norm, &mut *m.reason);
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
