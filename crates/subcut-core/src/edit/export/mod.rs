//! The cut as files other tools read: [`json`] (spans in seconds and frames), `edl`
//! (CMX3600), `fcpxml` (Final Cut Pro X's FCPXML 1.10), `xmeml` (Final Cut Pro 7 XML, the
//! XML Premiere Pro reads) and `otio` (OpenTimelineIO). Each renders a `String`; the caller
//! writes it. Which editor reads which file is in [`Export::help`].
//!
//! [`Export`] names them (`--export`, the preset's `export` key) and [`render`] dispatches:
//! a new export is one file here plus an arm in each of [`Export`]'s matches below.
//!
//! Editors cut on frames, so every export puts the kept spans on the source's frame grid
//! (`Source::frame_spans`): exact when the plan was snapped to the same rate, otherwise
//! each kept span is widened outwards to whole frames; never past the source's last frame.
//! Source times count from the source's embedded start timecode ([`Source::timecode`]), as
//! the editor that relinks the file sees them.

mod edl;
mod fcpxml;
pub mod json;
mod otio;
mod timecode;
mod xmeml;

pub use timecode::Timecode;

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
    /// `NAME.fcpxml`: FCPXML 1.10 (Final Cut Pro, DaVinci Resolve).
    Fcpxml,
    /// `NAME.xml`: Final Cut Pro 7 XML (xmeml), what Premiere Pro imports.
    Premiere,
    /// `NAME.otio`: OpenTimelineIO.
    Otio,
}

impl Export {
    /// Every export, in the order `--help` lists them.
    pub const ALL: &'static [Export] = &[
        Export::Json,
        Export::Edl,
        Export::Fcpxml,
        Export::Premiere,
        Export::Otio,
    ];
    /// The names on the command line and in presets, in [`Export::ALL`]'s order.
    const NAMES: &'static [&'static str] = &["json", "edl", "fcpxml", "premiere", "otio"];

    /// The name on the command line and in presets.
    pub fn name(self) -> &'static str {
        match self {
            Export::Json => "json",
            Export::Edl => "edl",
            Export::Fcpxml => "fcpxml",
            Export::Premiere => "premiere",
            Export::Otio => "otio",
        }
    }

    /// One line for `--help`: the file and the editors that read it.
    pub fn help(self) -> &'static str {
        match self {
            Export::Json => "`NAME.cutlist.json`: kept and removed spans in seconds and frames",
            Export::Edl => {
                "`NAME.edl`: CMX3600 edit decision list (DaVinci Resolve, Premiere Pro, Avid, \
                 most editors)"
            }
            Export::Fcpxml => "`NAME.fcpxml`: FCPXML 1.10 (Final Cut Pro, DaVinci Resolve)",
            Export::Premiere => {
                "`NAME.xml`: Final Cut Pro 7 XML (Premiere Pro, DaVinci Resolve, Final Cut Pro 7)"
            }
            Export::Otio => {
                "`NAME.otio`: OpenTimelineIO (DaVinci Resolve 18.5+, OpenTimelineIO's tools and adapters)"
            }
        }
    }

    /// What follows the input's stem in the output's name (`talk.cutlist.json`).
    pub fn ext(self) -> &'static str {
        match self {
            Export::Json => "cutlist.json",
            Export::Edl => "edl",
            Export::Fcpxml => "fcpxml",
            Export::Premiere => "xml",
            Export::Otio => "otio",
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
        Export::Premiere => xmeml::render(plan, src, &format!("{} (cut)", src.stem())),
        Export::Otio => otio::render(plan, src, &format!("{} (cut)", src.stem())),
    }
}

/// What the exports say about the source media.
#[derive(Clone, Debug, PartialEq)]
pub struct Source {
    /// The media file; FCPXML links it by absolute `file://` URL, so pass an absolute path.
    pub path: PathBuf,
    /// The video frame rate; for audio-only media the rate of the editor's timeline (the
    /// rate the plan was snapped to: `--fps`, 30 unless told).
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
    /// Audio channels (FCPXML's `audioChannels`, the Premiere XML's audio tracks: one each).
    pub audio_channels: u32,
    /// Sample rate in Hz.
    pub audio_rate: u32,
    /// The embedded start timecode (the label of the first frame); zero when the file has
    /// none. Source in/out points count from it.
    pub timecode: Timecode,
    /// The video's length in frames when the file says (its stream's frame count); `None`
    /// for audio, or when unknown: the media's duration then decides.
    pub frames: Option<i64>,
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
            timecode: Timecode::default(),
            frames: None,
        }
    }

    /// Audio only, on a timeline of `fps` (the grid the plan was snapped to).
    pub fn audio(path: impl Into<PathBuf>, fps: FrameRate, channels: u32, rate: u32) -> Source {
        Source {
            path: path.into(),
            fps,
            origin: Time::ZERO,
            width: 0,
            height: 0,
            has_video: false,
            has_audio: true,
            audio_channels: channels,
            audio_rate: rate,
            timecode: Timecode::default(),
            frames: None,
        }
    }

    /// The frame grid the exports count frames on.
    fn grid(&self) -> FrameGrid {
        FrameGrid::new(self.fps, self.origin)
    }

    /// Whether timecodes are drop-frame: the source's timecode says so and the rate has it.
    fn drop_frame(&self) -> bool {
        self.timecode.drop_frame && timecode::has_drop_frame(self.fps)
    }

    /// The source's timecode of its frame `f` (a frame count at the timecode base).
    fn tc(&self, f: i64) -> i64 {
        self.timecode.frame + f
    }

    /// The source's length in whole frames: the video's own count when known, else the
    /// media's duration to the nearest frame (a sliver of audio past the last frame, or the
    /// 16 kHz sample grid's rounding, is not one more frame).
    fn duration_frames(&self, plan: &EditPlan) -> i64 {
        match self.frames {
            Some(n) if n > 0 => n,
            _ => self.grid().frame_round(plan.duration).max(0),
        }
    }

    /// The kept spans of `plan` in whole frames: each widened outwards, then merged, and
    /// none past the source's last frame. Exactly the plan's spans when it was snapped to
    /// the same grid.
    fn frame_spans(&self, plan: &EditPlan) -> Vec<FrameSpan> {
        frame_spans(&plan.keep, self.grid(), self.duration_frames(plan))
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

/// The kept spans in whole frames of `grid`, below frame `limit`: each widened outwards,
/// then merged. Exactly the plan's spans when it was snapped to the same grid.
fn frame_spans(keep: &[Span], grid: FrameGrid, limit: i64) -> Vec<FrameSpan> {
    let mut out: Vec<FrameSpan> = Vec::new();
    for s in normalize(keep) {
        let f = FrameSpan {
            start: grid.frame_floor(s.start).max(0),
            end: grid.frame_ceil(s.end).min(limit),
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
        assert!("aaf"
            .parse::<Export>()
            .unwrap_err()
            .contains("json, edl, fcpxml, premiere, otio"));
        let exts: Vec<&str> = Export::ALL.iter().map(|e| e.ext()).collect();
        assert_eq!(exts, ["cutlist.json", "edl", "fcpxml", "xml", "otio"]);
    }

    #[test]
    fn frame_spans_widen_and_merge() {
        let r = FrameGrid::from(FrameRate::new(25, 1).unwrap());
        let ms = |a, b| Span::new(Time::from_millis(a), Time::from_millis(b));
        assert_eq!(
            frame_spans(
                &[ms(1000, 2000), ms(2010, 2500), ms(3001, 3039)],
                r,
                i64::MAX
            ),
            vec![
                FrameSpan { start: 25, end: 63 },
                FrameSpan { start: 75, end: 76 }
            ]
        );
        let ntsc = FrameGrid::new(FrameRate::new(30000, 1001).unwrap(), Time(33_367));
        let snapped = Span::new(ntsc.time_of(10), ntsc.time_of(20));
        assert_eq!(
            frame_spans(&[snapped], ntsc, i64::MAX),
            vec![FrameSpan { start: 10, end: 20 }]
        );
        assert_eq!(
            frame_spans(&[ms(0, 100)], ntsc, i64::MAX),
            vec![FrameSpan { start: 0, end: 2 }],
            "before the first frame counts as frame 0"
        );
        assert_eq!(
            frame_spans(&[ms(1000, 2000), ms(3000, 3100)], r, 60),
            vec![FrameSpan { start: 25, end: 50 }],
            "nothing past the last frame"
        );
    }

    #[test]
    fn a_source_is_as_long_as_its_frames() {
        // A 1272-frame video at 29.97 whose 16 kHz audio runs a sample past the last frame:
        // 1272 frames, not 1273.
        let ntsc = FrameRate::new(30000, 1001).unwrap();
        let end = ntsc.time_of(1272) + Time(63);
        let plan = EditPlan::from_keep(end, &[Span::new(Time::ZERO, end)], &[], None);
        let mut src = Source::video("/m/v.mp4", ntsc, 1920, 1080);
        assert_eq!(src.duration_frames(&plan), 1272);
        assert_eq!(
            src.frame_spans(&plan),
            vec![FrameSpan {
                start: 0,
                end: 1272
            }]
        );
        // The video's own count wins over the (longer) audio.
        let long = EditPlan::from_keep(ntsc.time_of(1300), &[], &[], None);
        src.frames = Some(1272);
        assert_eq!(src.duration_frames(&long), 1272);
        src.frames = None;
        assert_eq!(src.duration_frames(&long), 1300);
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
