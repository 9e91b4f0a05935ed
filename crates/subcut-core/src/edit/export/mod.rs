//! The cut as files other tools read: [`json`] (spans in seconds and frames), `edl`
//! (CMX3600, for DaVinci Resolve, Premiere and most editors) and `fcpxml` (Final Cut Pro
//! 1.10, also read by DaVinci Resolve). Each renders a `String`; the caller writes it.
//!
//! [`Export`] names them (`--export`, the preset's `export` key) and [`render`] dispatches:
//! a new export is one file here plus an arm in each of [`Export`]'s matches below.
//!
//! Editors cut on frames, so every export puts the kept spans on the source's frame grid
//! (`frame_spans`): exact when the plan was snapped to the same rate, otherwise each
//! kept span is widened outwards to whole frames.

mod edl;
mod fcpxml;
pub mod json;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{CutParams, EditPlan, FrameGrid, FrameRate};
use crate::time::{normalize, Span, Time};

/// A cut-list file format (`--export`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Export {
    /// `NAME.cutlist.json`: kept and removed spans in seconds and frames.
    Json,
    /// `NAME.edl`: CMX3600 edit decision list.
    Edl,
    /// `NAME.fcpxml`: Final Cut Pro XML (also DaVinci Resolve, Premiere).
    Fcpxml,
}

impl Export {
    /// Every export, in the order `--help` lists them.
    pub const ALL: &'static [Export] = &[Export::Json, Export::Edl, Export::Fcpxml];
    /// The names on the command line and in presets, in [`Export::ALL`]'s order.
    const NAMES: &'static [&'static str] = &["json", "edl", "fcpxml"];

    /// The name on the command line and in presets.
    pub fn name(self) -> &'static str {
        match self {
            Export::Json => "json",
            Export::Edl => "edl",
            Export::Fcpxml => "fcpxml",
        }
    }

    /// One line for `--help`.
    pub fn help(self) -> &'static str {
        match self {
            Export::Json => "`NAME.cutlist.json`: kept and removed spans in seconds and frames",
            Export::Edl => "`NAME.edl`: CMX3600 edit decision list",
            Export::Fcpxml => "`NAME.fcpxml`: Final Cut Pro XML (also DaVinci Resolve, Premiere)",
        }
    }

    /// What follows the input's stem in the output's name (`talk.cutlist.json`).
    pub fn ext(self) -> &'static str {
        match self {
            Export::Json => "cutlist.json",
            Export::Edl => "edl",
            Export::Fcpxml => "fcpxml",
        }
    }
}

impl FromStr for Export {
    type Err = String;
    fn from_str(s: &str) -> Result<Export, String> {
        Export::ALL
            .iter()
            .copied()
            .find(|e| e.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!(
                    "unknown export \"{s}\" (expected one of: {})",
                    Export::NAMES.join(", ")
                )
            })
    }
}

impl fmt::Display for Export {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Renders the cut `plan` of `src` as export `e`; `params` are the settings that made the
/// plan (recorded in the JSON list).
pub fn render(e: Export, plan: &EditPlan, src: &Source, params: &CutParams) -> String {
    match e {
        Export::Json => json::render(plan, src, Some(params)),
        Export::Edl => edl::render(plan, src, &src.stem()),
        Export::Fcpxml => fcpxml::render(plan, src, &src.stem()),
    }
}

/// What the exports say about the source media.
#[derive(Clone, Debug, PartialEq)]
pub struct Source {
    /// The media file; FCPXML links it by absolute `file://` URL, so pass an absolute path.
    pub path: PathBuf,
    /// The video frame rate; for audio-only media a nominal rate the editor will use
    /// (e.g. 30).
    pub fps: FrameRate,
    /// When the first video frame shows (usually 0); frame numbers count from it.
    pub origin: Time,
    /// Picture size; 0 when unknown (audio-only): exports then say 1920×1080.
    pub width: u32,
    /// Picture height; 0 when unknown, as `width`.
    pub height: u32,
    /// Whether the media has a video stream (EDL `V` events, FCPXML `hasVideo`).
    pub has_video: bool,
    /// Whether it has an audio stream (EDL `A` events, FCPXML `hasAudio`).
    pub has_audio: bool,
    /// Audio channels (FCPXML's `audioChannels` and layout: 1 mono, 2 stereo, more surround).
    pub audio_channels: u32,
    /// Sample rate in Hz.
    pub audio_rate: u32,
}

impl Source {
    /// A video with stereo 48 kHz audio; adjust the fields that differ.
    pub fn video(path: impl Into<PathBuf>, fps: FrameRate, width: u32, height: u32) -> Source {
        Source {
            path: path.into(),
            fps,
            origin: Time::ZERO,
            width,
            height,
            has_video: true,
            has_audio: true,
            audio_channels: 2,
            audio_rate: 48_000,
        }
    }

    /// Audio only, on a nominal 30 fps grid.
    pub fn audio(path: impl Into<PathBuf>, channels: u32, rate: u32) -> Source {
        Source {
            path: path.into(),
            fps: FrameRate::new(30, 1).expect("30 fps"),
            origin: Time::ZERO,
            width: 0,
            height: 0,
            has_video: false,
            has_audio: true,
            audio_channels: channels,
            audio_rate: rate,
        }
    }

    /// The frame grid the exports count frames on.
    fn grid(&self) -> FrameGrid {
        FrameGrid::new(self.fps, self.origin)
    }

    /// The file name (`talk.mp4`).
    fn file_name(&self) -> String {
        self.path.file_name().map_or_else(
            || self.path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    }

    /// The file name without its extension (`talk`).
    fn stem(&self) -> String {
        self.path
            .file_stem()
            .map_or_else(|| self.file_name(), |n| n.to_string_lossy().into_owned())
    }

    fn size(&self) -> (u32, u32) {
        if self.width > 0 && self.height > 0 {
            (self.width, self.height)
        } else {
            (1920, 1080)
        }
    }
}

/// A run of whole frames, `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
struct FrameSpan {
    start: i64,
    end: i64,
}

impl FrameSpan {
    fn len(&self) -> i64 {
        self.end - self.start
    }
    fn is_empty(&self) -> bool {
        self.end <= self.start
    }
}

/// The source's length in frames (a partial last frame counts).
fn duration_frames(plan: &EditPlan, grid: FrameGrid) -> i64 {
    grid.frame_ceil(plan.duration).max(0)
}

/// The kept spans in whole frames of `grid`: each widened outwards, then merged. Exactly the
/// plan's spans when it was snapped to the same grid.
fn frame_spans(keep: &[Span], grid: FrameGrid) -> Vec<FrameSpan> {
    let mut out: Vec<FrameSpan> = Vec::new();
    for s in normalize(keep) {
        let f = FrameSpan {
            start: grid.frame_floor(s.start).max(0),
            end: grid.frame_ceil(s.end),
        };
        match out.last_mut() {
            Some(last) if f.start <= last.end => last.end = last.end.max(f.end),
            _ if f.is_empty() => {}
            _ => out.push(f),
        }
    }
    out
}

/// Text for an XML attribute value or element.
pub(crate) fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

/// A `file://` URL for a path, percent-encoding everything but unreserved characters and
/// `/` (UTF-8 names included). A relative path is made absolute against the working
/// directory.
fn file_url(path: &Path) -> String {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let s = abs.to_string_lossy().replace('\\', "/");
    let mut out = String::from("file://");
    let mut rest = s.as_str();
    if !s.starts_with('/') {
        // Windows: file:///C:/…, the drive's colon as is.
        out.push('/');
        if s.as_bytes().get(1) == Some(&b':') {
            out.push_str(&s[..2]);
            rest = &s[2..];
        }
    }
    for b in rest.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_names_round_trip_in_order() {
        assert_eq!(Export::ALL.len(), Export::NAMES.len());
        for (&e, &name) in Export::ALL.iter().zip(Export::NAMES) {
            assert_eq!(e.name(), name);
            assert_eq!(name.parse::<Export>().unwrap(), e);
            assert_eq!(name.to_uppercase().parse::<Export>().unwrap(), e);
        }
        assert!("otio"
            .parse::<Export>()
            .unwrap_err()
            .contains("json, edl, fcpxml"));
    }

    #[test]
    fn frame_spans_widen_and_merge() {
        let r = FrameGrid::from(FrameRate::new(25, 1).unwrap());
        let ms = |a, b| Span::new(Time::from_millis(a), Time::from_millis(b));
        assert_eq!(
            frame_spans(&[ms(1000, 2000), ms(2010, 2500), ms(3001, 3039)], r),
            vec![
                FrameSpan { start: 25, end: 63 },
                FrameSpan { start: 75, end: 76 }
            ]
        );
        let ntsc = FrameGrid::new(FrameRate::new(30000, 1001).unwrap(), Time(33_367));
        let snapped = Span::new(ntsc.time_of(10), ntsc.time_of(20));
        assert_eq!(
            frame_spans(&[snapped], ntsc),
            vec![FrameSpan { start: 10, end: 20 }]
        );
        assert_eq!(
            frame_spans(&[ms(0, 100)], ntsc),
            vec![FrameSpan { start: 0, end: 2 }],
            "before the first frame counts as frame 0"
        );
    }

    #[test]
    fn urls_and_escapes() {
        assert_eq!(
            file_url(Path::new("/media/my talk/談話 #1.mp4")),
            "file:///media/my%20talk/%E8%AB%87%E8%A9%B1%20%231.mp4"
        );
        assert!(file_url(Path::new("rel.mp4")).starts_with("file:///"));
        assert_eq!(xml_escape(r#"a<b>&"c'"#), "a&lt;b&gt;&amp;&quot;c&apos;");
        let s = Source::video("/x/talk.final.mp4", FrameRate::new(25, 1).unwrap(), 0, 0);
        assert_eq!(
            (s.file_name().as_str(), s.stem().as_str()),
            ("talk.final.mp4", "talk.final")
        );
        assert_eq!(s.size(), (1920, 1080));
    }
}
