//! Subtitle file formats. Each writer renders to a `String`; writing files is the caller's job.
//!
//! [`render`] is the one entry point the pipeline uses: it takes a [`Doc`] (everything any
//! format may need about one input) and a [`Format`], and never fails. The writers:
//!
//! - [`srt`]: SubRip, millisecond stamps.
//! - [`vtt`]: WebVTT (W3C), millisecond stamps, text escaped as cue text.
//!
//! Two of them are read back too, for `align --script`: [`srt::parse`] and [`vtt::parse`]
//! (cues, or a [`ParseError`] naming the line).
//! - [`ass`]: Advanced SubStation Alpha, centisecond stamps, one `Default` style built from
//!   an [`AssStyle`] (font, size, colours, outline, position, margins).
//! - `json`: the whole transcript (segments with timed words) and the cues.
//! - [`txt`]: a plain transcript, one sentence per line, paragraphs at long pauses.
//!
//! Every cue list is valid in every format: the writers leave out cues that are empty or
//! that would last no time at the format's precision, nothing else.
//!
//! ```
//! use subcut_core::transcript::Transcript;
//! use subcut_core::subtitle::format::{render, AssStyle, Doc, Format};
//! use subcut_core::subtitle::Cue;
//! use subcut_core::time::Time;
//!
//! let cues = [Cue { start: Time::from_millis(800), end: Time::from_millis(2_500), text: "Hello.".into() }];
//! let doc = Doc {
//!     source: "talk.mp4",
//!     model: "base",
//!     duration: Time::from_millis(3_000),
//!     transcript: &Transcript::default(),
//!     cues: &cues,
//!     style: &AssStyle::default(),
//!     unheard: &[],
//! };
//! assert_eq!(render(Format::Vtt, &doc), "WEBVTT\n\n1\n00:00:00.800 --> 00:00:02.500\nHello.\n");
//! assert_eq!(render(Format::Txt, &doc), "Hello.\n");
//! ```

pub mod ass;
#[cfg(test)]
mod fuzz;
mod json;
mod read;
pub mod srt;
pub mod txt;
pub mod vtt;

use std::fmt;
use std::str::FromStr;

use crate::subtitle::Cue;
use crate::time::Time;
use crate::transcript::Transcript;

pub use ass::{AssPosition, AssStyle, AssStyleError};
pub use read::ParseError;

/// An output format selectable with `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// SubRip (`.srt`), see [`srt`].
    Srt,
    /// WebVTT (`.vtt`), see [`vtt`].
    Vtt,
    /// Advanced SubStation Alpha (`.ass`), styled by [`Doc::style`]; see [`ass`].
    Ass,
    /// The transcript with its timed words and the cues (`.json`).
    Json,
    /// A plain transcript (`.txt`), see [`txt`].
    Txt,
}

impl Format {
    const ALL: &'static [Format] = &[
        Format::Srt,
        Format::Vtt,
        Format::Ass,
        Format::Json,
        Format::Txt,
    ];

    /// The file extension, also the name used on the command line.
    pub fn ext(self) -> &'static str {
        match self {
            Format::Srt => "srt",
            Format::Vtt => "vtt",
            Format::Ass => "ass",
            Format::Json => "json",
            Format::Txt => "txt",
        }
    }

    /// Parses a comma-separated list such as `srt,json` (duplicates removed, order kept).
    pub fn parse_list(s: &str) -> Result<Vec<Format>, String> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let f: Format = part.parse()?;
            if !out.contains(&f) {
                out.push(f);
            }
        }
        if out.is_empty() {
            return Err("no output format given".into());
        }
        Ok(out)
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        Format::ALL
            .iter()
            .copied()
            .find(|f| f.ext().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                let names: Vec<_> = Format::ALL.iter().map(|f| f.ext()).collect();
                format!(
                    "unknown format \"{s}\" (expected one of: {})",
                    names.join(", ")
                )
            })
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.ext())
    }
}

/// Everything about one captioned input that some format writes.
#[derive(Clone, Copy, Debug)]
pub struct Doc<'a> {
    /// The input's file name (recorded in JSON, the ASS title).
    pub source: &'a str,
    /// The model's name (recorded in JSON).
    pub model: &'a str,
    /// Length of the media.
    pub duration: Time,
    /// What was recognised: JSON writes it whole, with every timed word.
    pub transcript: &'a Transcript,
    /// Sorted, non-overlapping cues.
    pub cues: &'a [Cue],
    /// Look of ASS subtitles (other formats leave the look to the player).
    pub style: &'a AssStyle,
    /// Speech that got no words (JSON lists it).
    pub unheard: &'a [crate::transcript::Unheard],
}

impl Doc<'_> {
    /// The transcript's timed words, sorted by start (what karaoke captions are timed by).
    pub fn words(&self) -> Vec<crate::transcript::Word> {
        let mut w: Vec<_> = self.transcript.words().cloned().collect();
        w.sort_by_key(|w| w.start);
        w
    }
}

/// Renders `doc` in format `f`. Never fails: every writer renders any cue list.
pub fn render(f: Format, doc: &Doc) -> String {
    match f {
        Format::Srt => srt::render(doc.cues),
        Format::Vtt => vtt::render(doc.cues),
        Format::Ass => ass::render_words(doc.cues, &doc.words(), doc.style, doc.source),
        Format::Json => json::render(
            doc.source,
            doc.model,
            doc.duration,
            doc.transcript,
            doc.cues,
            doc.unheard,
        ),
        Format::Txt => txt::render(doc.cues),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_format_lists() {
        assert_eq!(
            Format::parse_list("srt, JSON,srt").unwrap(),
            vec![Format::Srt, Format::Json]
        );
        assert_eq!(
            Format::parse_list("srt,vtt,ass,json,txt").unwrap(),
            Format::ALL
        );
        assert!(Format::parse_list("srt,docx").unwrap_err().contains("docx"));
        assert!(Format::parse_list(",").is_err());
    }

    #[test]
    fn names_round_trip_and_the_error_lists_every_format() {
        for &f in Format::ALL {
            assert_eq!(f.to_string().parse::<Format>().unwrap(), f);
            assert_eq!(f.ext().to_uppercase().parse::<Format>().unwrap(), f);
        }
        let e = "doc".parse::<Format>().unwrap_err();
        assert!(e.contains("srt, vtt, ass, json, txt"), "{e}");
    }

    #[test]
    fn every_format_renders_every_cue_list() {
        let t = Transcript::default();
        let style = AssStyle::default();
        let cue = |a: i64, b: i64, text: &str| Cue {
            start: Time::from_millis(a),
            end: Time::from_millis(b),
            text: text.into(),
        };
        let lists: [Vec<Cue>; 3] = [
            vec![],
            vec![
                cue(0, 1_000, "Hello, world."),
                cue(1_000, 2_000, "两行\n字幕"),
            ],
            vec![cue(5, 6, "blink"), cue(10, 20, "  ")],
        ];
        for cues in &lists {
            let doc = Doc {
                source: "a.mp4",
                model: "tiny.en",
                duration: Time::from_millis(3_000),
                transcript: &t,
                cues,
                style: &style,
                unheard: &[],
            };
            for &f in Format::ALL {
                let s = render(f, &doc);
                assert!(s.is_empty() || s.ends_with('\n'), "{f}: {s:?}");
            }
        }
    }
}
