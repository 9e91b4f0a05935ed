//! The recogniser's output: segments of timed words, independent of any engine.

use serde::{Deserialize, Serialize};

use crate::time::{Span, Time};

/// One recognised word (for Chinese, usually one or a few characters).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Word {
    /// The word as spoken, without surrounding whitespace.
    pub text: String,
    /// When the word starts.
    pub start: Time,
    /// When it ends (exclusive).
    pub end: Time,
    /// The recogniser's confidence in 0..=1.
    pub probability: f32,
}

/// A run of speech the recogniser decoded as one unit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    /// When the segment starts.
    pub start: Time,
    /// When it ends (exclusive).
    pub end: Time,
    /// The text of the whole segment, as the recogniser wrote it.
    pub text: String,
    /// Its words in time order; empty when words were not timed.
    pub words: Vec<Word>,
    /// Probability that this window held no speech at all.
    pub no_speech_probability: f32,
}

impl Segment {
    pub(crate) fn span(&self) -> Span {
        Span::new(self.start, self.end)
    }
}

/// A whole file's transcription, on the media's presentation timeline.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    /// ISO 639-1 code of the spoken (or, with translation, written) language.
    pub language: String,
    /// The segments in time order.
    pub segments: Vec<Segment>,
}

impl Transcript {
    /// Every word of every segment, in order.
    pub fn words(&self) -> impl Iterator<Item = &Word> {
        self.segments.iter().flat_map(|s| s.words.iter())
    }
    /// The full text, segments joined by a space (no space between CJK segments).
    pub fn text(&self) -> String {
        join_text(self.segments.iter().map(|s| s.text.as_str()))
    }
}

/// Pieces of text (segments, words) trimmed and joined by spaces, except between two CJK
/// characters; empty pieces are left out.
pub(crate) fn join_text<'a>(pieces: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for t in pieces.into_iter().map(str::trim).filter(|t| !t.is_empty()) {
        let cjk_join =
            out.chars().last().is_some_and(is_cjk) && t.chars().next().is_some_and(is_cjk);
        if !out.is_empty() && !cjk_join {
            out.push(' ');
        }
        out.push_str(t);
    }
    out
}

/// Han ideographs, kana, hangul and CJK punctuation: scripts written without spaces.
pub fn is_cjk(c: char) -> bool {
    is_cjk_letter(c)
        || matches!(c as u32,
        0x3000..=0x303F     // CJK symbols and punctuation
        | 0xFF00..=0xFFEF) // full-width forms
}

/// Han ideographs, kana and hangul: the letters of [`is_cjk`], without its punctuation (which
/// most fonts carry; a CJK letter is what needs a CJK font).
pub fn is_cjk_letter(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF     // kana
        | 0x3400..=0x4DBF   // CJK extension A
        | 0x4E00..=0x9FFF   // CJK unified ideographs
        | 0xAC00..=0xD7AF   // Hangul syllables
        | 0xF900..=0xFAFF   // CJK compatibility ideographs
        | 0x20000..=0x2FA1F)
}
