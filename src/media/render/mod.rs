//! Rendering a cut: the kept spans of a media file, joined and re-encoded (the output edge of
//! `subcut cut`).
//!
//! [`render`] takes the input, the keep spans on the player's timeline (the one
//! [`crate::media::decode_audio`] decodes onto: 0 = the first instant shown, i.e. the
//! container's start time), and writes one output file atomically (a temporary file in the
//! output's directory, renamed into place; removed on any error; never over the input).
//!
//! How it works (one pass, streaming, nothing held beyond a frame or two):
//! - Demux with libavformat; decode the best video stream (not cover art) and the best audio
//!   stream, with FFmpeg's automatic decoder threading (as the `ffmpeg` CLI does).
//! - Video, constant frame rate (`r_frame_rate` and `avg_frame_rate` agree within 1%): output
//!   frame `k` sits at `k / fps` and shows the source frame nearest to the source time that
//!   output time maps to. With cut points on frame boundaries (snap them to the
//!   [`crate::edit::FrameGrid`] of the probed [`crate::media::probe::VideoInfo`]'s
//!   `frame_rate` and `start`, as `subcut cut` does) that is exactly "the frames whose
//!   presentation time lies in a keep span"; otherwise every join shifts the picture by less
//!   than half a frame. The output keeps the input's frame rate exactly (encoder time base
//!   `1/fps`, like the CLI).
//! - Video, variable frame rate: every frame whose time lies in a span, plus the frame on
//!   screen at each span start, at its mapped time `out = span.out_start + (t − span.start)`
//!   in the input stream's time base.
//! - Audio is trimmed sample-exactly from the same spans (sample `n` is kept iff `n / rate`
//!   lies in a span), with a raised-cosine fade of [`RenderOptions::fade`] at each side of
//!   every cut (not at the media's own start and end), and sent to the encoder in its frame
//!   size with a continuous sample count as timestamps. Audio that starts late or has holes
//!   is padded with silence exactly as [`crate::media::decode_audio`] places it, so the
//!   timings of analysis and render agree; audio that ends early is padded to the span end.
//!   Next to video (and unless [`RenderOptions::threads`] is 1) the audio is decoded and
//!   encoded on a second thread and its packets come back to the muxing thread: ffmpeg's AAC
//!   encoder costs about as much CPU as x264 at `veryfast` (both are measured in
//!   docs/BENCH.md, `cut` section). On two cores this took the 74.5 s clip's cut from a median
//!   6.2 s to 5.3 s (alternating runs; x264's own threads already fill the cores much of the
//!   time). The result is the same either way (a test checks it).
//! - So output time = sum of kept durations before; audio and video both last the total kept
//!   duration (video to within half a frame, audio to a sample per span).
//! - The picture is encoded as decoded: same size, pixel aspect ratio (SAR), colour
//!   properties and display matrix (rotation) side data; the pixel format is converted only
//!   when the encoder does not take the decoded one (odd sizes with 4:2:0 go to 4:4:4 for
//!   libx264, keeping the size). Burn-in adds libavfilter's `subtitles` filter (libass; any
//!   fontconfig font, CJK included when a CJK font is installed, which is checked up front).
//! - Reframing ([`RenderOptions::aspect`], see [`reframe`]) crops or fits the picture into
//!   another aspect ratio, square pixels, even sides; a filtered picture (reframed or with
//!   captions burned in) is turned upright first and carries no display matrix, and the
//!   captions are drawn on the output frame ([`caption_frame`] gives its size).
//!   [`RenderOptions::changes_pixels`] says whether a render changes the picture at all.
//! - Audio keeps its sample rate and channel layout; codecs that cannot take them are
//!   reported, never silently resampled.
//!
//! Defaults mirror `ffmpeg -c:v libx264 -crf 23 -preset veryfast -c:a aac -movflags
//! +faststart` with trim/atrim + concat of the same spans: on a 720p30 clip both wrote a file
//! of the same size, and the render's time against that command is in docs/BENCH.md (`cut`
//! section). `veryfast` rather than `medium`: on that 720p30 clip `medium` needed 2× the CPU
//! time for +1 dB PSNR at 11% more bytes (CRF 23 both).
//!
//! Limits: the constant/variable frame rate decision reads the stream's `r_frame_rate` and
//! `avg_frame_rate`; a Matroska VFR file that declares a default frame duration looks
//! constant and is rendered at that rate (frames re-timed onto its grid, as the ffmpeg CLI
//! does for MP4 output). In a VFR MP4 with B-frames, ffprobe's per-stream video duration is
//! the sum of decode-time deltas and may fall short of the presentation end that the
//! container duration (edit list) reports; the CLI's own VFR MP4s show the same.
//!
//! [`crate::media::probe`] says what [`render`] would use of a file. The parts: `job.rs` (the
//! pass: output file, demux/encode/mux loop, summary), `open.rs` (decoders and encoders),
//! `video.rs` and `audio.rs` (each stream's path to the muxer), `slots.rs` (the pure timing:
//! output slots, frame selection, fades), `burn_in.rs` (captions burned into the picture),
//! `reframe.rs` (the geometry of a new aspect ratio) and the smart render: `smart.rs` (copied
//! GOPs, re-encoded edges; [`RenderMode`]), with its pure halves `gops.rs` (which GOPs to copy,
//! decode or skip), `h264.rs` and `hevc.rs` (decoder configuration records, parameter sets),
//! and `audio_copy.rs` (the pure half of copying AAC frames: which are copied, which regions
//! around the joins are encoded again).
//!
//! Smart render (the default, [`RenderMode::Auto`]): for H.264/HEVC at a constant frame rate
//! with closed GOPs, a demux-only pass finds the GOPs; those wholly inside a keep span are
//! copied, the ones a span edge cuts are decoded and only their kept frames re-encoded, the
//! rest is not even decoded. The output's frames are the same as a full re-encode's (same
//! selection rule), the copied ones bit-exact. [`RenderSummary::reencoded_because`] says why
//! a render re-encoded everything instead. AAC-LC audio is copied too, frame by frame, with
//! only the frames around each join encoded again; each span's audio moves by under half a
//! 1024-sample frame onto the frame grid ([`RenderSummary::audio_copied_frames`],
//! [`RenderSummary::audio_reencoded_because`]).
//!
//! ```no_run
//! use subcut::media::render::{render, RenderOptions};
//! use subcut::time::Span;
//! use std::path::Path;
//! let keep = [Span::secs(0.0, 2.0), Span::secs(3.5, 6.0)];
//! let summary = render(
//!     Path::new("talk.mp4"),
//!     &keep,
//!     Path::new("talk.cut.mp4"),
//!     &RenderOptions::default(),
//!     &mut |_| {},
//! )?;
//! println!("{} frames, {}", summary.video_frames, summary.duration);
//! # Ok::<(), subcut::media::render::RenderError>(())
//! ```

mod audio;
mod audio_copy;
mod burn_in;
mod gops;
mod h264;
mod hevc;
mod job;
mod open;
pub mod reframe;
mod slots;
mod smart;
mod video;
mod x264;

use std::path::{Path, PathBuf};

use ffmpeg_next as ffmpeg;
use serde::{Deserialize, Serialize};

use ffmpeg::encoder;

use self::job::Job;
pub use self::reframe::{Aspect, Reframe};
use super::{check_input, init, same_file, MediaError};
use crate::config::InvalidField;
use crate::time::{Span, Time};

/// Codec settings of a render. Every field has a default (`#[serde(default)]`), so a preset
/// may set only some of them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RenderOptions {
    /// FFmpeg video encoder name.
    pub video_codec: String,
    /// Constant rate factor (libx264/libx265/libvpx `crf`; 0..=51 for x264).
    pub crf: u8,
    /// Encoder speed preset (x264: ultrafast … placebo). Default `veryfast`, for the speed;
    /// the module docs say what `medium` would cost and gain.
    pub preset: String,
    /// FFmpeg audio encoder name; `None` picks by output format: AAC for MP4/M4A/MOV, MP3 →
    /// libmp3lame, WAV → the input's PCM codec (else pcm_s16le), FLAC → flac, Opus → libopus,
    /// Ogg → libvorbis (libopus for Opus input).
    pub audio_codec: Option<String>,
    /// Audio bit rate in bits per second (lossy codecs); `None`: the encoder's default.
    pub audio_bitrate: Option<u32>,
    /// Fade-out before and fade-in after every cut (no clicks at joins). 0 disables.
    pub fade: Time,
    /// Decoder and encoder threads; 0 = automatic (as the ffmpeg CLI).
    pub threads: usize,
    /// Captions to burn into the picture (`.srt` or `.ass`, on the output timeline).
    pub burn_in: Option<PathBuf>,
    /// ASS style overrides for burned-in captions (the `subtitles` filter's `force_style`,
    /// e.g. `FontName=Noto Sans CJK SC,FontSize=22,Outline=2`; sizes in the script's pixels,
    /// which for the captions of `subcut cut` are the output frame's).
    pub burn_in_style: Option<String>,
    /// Put the MP4/MOV index first (playback starts before the download ends).
    pub faststart: bool,
    /// Copy what the cut does not change (smart render) or re-encode every frame.
    pub mode: RenderMode,
    /// The output's aspect ratio (9:16, 1:1, 4:5, 16:9); `None`: the source's, not reframed.
    /// See [`reframe`].
    pub aspect: Option<Aspect>,
    /// How the source fills the new aspect: crop, fit-blur or fit-pad.
    pub reframe: Reframe,
    /// Where the crop window sits across the source: 0 left edge, 0.5 centre, 1 right edge.
    pub reframe_x: f64,
    /// The colour of fit-pad's bars, `#RRGGBB`.
    pub pad_colour: String,
    /// Reframe to the aspect's full platform size (1080 × 1920 for 9:16) even when that
    /// scales the source's pixels up; by default the output is never larger than they are.
    pub upscale: bool,
}

/// How the video of a cut is written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RenderMode {
    /// Smart when the input allows it, else a full re-encode (said with `-v`).
    #[default]
    Auto,
    /// Smart, with a warning when the input does not allow it (then a full re-encode).
    Smart,
    /// Decode and re-encode every frame.
    Reencode,
}

impl RenderMode {
    /// Every mode, in the order `--help` lists them.
    pub const ALL: &'static [RenderMode] =
        &[RenderMode::Auto, RenderMode::Smart, RenderMode::Reencode];

    /// The mode's name on the command line and in presets.
    pub fn name(&self) -> &'static str {
        match self {
            RenderMode::Auto => "auto",
            RenderMode::Smart => "smart",
            RenderMode::Reencode => "reencode",
        }
    }

    /// One line for `--help`.
    pub fn help(&self) -> &'static str {
        match self {
            RenderMode::Auto => {
                "Copy the untouched groups of pictures of H.264 video, re-encode only the cut \
                 edges; re-encode everything when the job changes pixels (burn-in) or the \
                 input does not allow it"
            }
            RenderMode::Smart => "As auto, and warn when the input does not allow it",
            RenderMode::Reencode => "Decode and re-encode every frame",
        }
    }
}

impl std::str::FromStr for RenderMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        RenderMode::ALL
            .iter()
            .find(|m| m.name() == s)
            .copied()
            .ok_or_else(|| format!("unknown render mode {s:?} (auto, smart or reencode)"))
    }
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            video_codec: "libx264".into(),
            crf: 23,
            preset: "veryfast".into(),
            audio_codec: None,
            audio_bitrate: None,
            fade: Time::from_millis(10),
            threads: 0,
            burn_in: None,
            burn_in_style: None,
            faststart: true,
            mode: RenderMode::Auto,
            aspect: None,
            reframe: Reframe::Crop,
            reframe_x: 0.5,
            pad_colour: "#000000".into(),
            upscale: false,
        }
    }
}

const X264_PRESETS: [&str; 10] = [
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
    "placebo",
];

impl RenderOptions {
    /// Whether the render changes the picture itself: captions burned in or a reframe
    /// (aspect, so also size). Such a render decodes and re-encodes every frame; one that
    /// does not could copy untouched coded video (whether the input's codec fits the output's
    /// is for that caller to check).
    pub fn changes_pixels(&self) -> bool {
        self.burn_in.is_some() || self.aspect.is_some()
    }

    /// Checks values and that the named encoders exist in this FFmpeg.
    pub(crate) fn validate(&self) -> Result<(), RenderError> {
        init().map_err(RenderError::Ffmpeg)?;
        self.check().map_err(RenderError::Options)
    }

    /// The first field that cannot be used, and why.
    fn check(&self) -> Result<(), InvalidField> {
        let bad = |field, message: String| Err(InvalidField::new(field, message));
        match encoder::find_by_name(&self.video_codec) {
            Some(c) if c.is_video() => {}
            Some(_) => {
                let m = format!("{} is not a video encoder", self.video_codec);
                return bad("video_codec", m);
            }
            None => {
                let m = format!(
                    "unknown video encoder {:?} (not in this FFmpeg build)",
                    self.video_codec
                );
                return bad("video_codec", m);
            }
        }
        let x26x = matches!(self.video_codec.as_str(), "libx264" | "libx265");
        let max_crf = if x26x { 51 } else { 63 };
        if self.crf > max_crf {
            return bad(
                "crf",
                format!("crf {} is out of range 0..={max_crf}", self.crf),
            );
        }
        if x26x && !X264_PRESETS.contains(&self.preset.as_str()) {
            let m = format!(
                "unknown preset {:?} (one of {})",
                self.preset,
                X264_PRESETS.join(", ")
            );
            return bad("preset", m);
        }
        if let Some(a) = &self.audio_codec {
            match encoder::find_by_name(a) {
                Some(c) if c.is_audio() => {}
                Some(_) => return bad("audio_codec", format!("{a} is not an audio encoder")),
                None => {
                    let m = format!("unknown audio encoder {a:?} (not in this FFmpeg build)");
                    return bad("audio_codec", m);
                }
            }
        }
        if let Some(b) = self.audio_bitrate {
            if !(6_000..=1_536_000).contains(&b) {
                let m = format!("audio bit rate {b} b/s is out of range 6000..=1536000");
                return bad("audio_bitrate", m);
            }
        }
        if self.fade < Time::ZERO || self.fade > Time::from_millis(1_000) {
            return bad("fade", format!("fade {} is out of range 0..=1s", self.fade));
        }
        if self.threads > 64 {
            let m = format!("threads {} is out of range 0..=64", self.threads);
            return bad("threads", m);
        }
        if !(0.0..=1.0).contains(&self.reframe_x) {
            let m = format!(
                "reframe_x {} is out of range 0..=1 (0 left edge, 0.5 centre, 1 right edge)",
                self.reframe_x
            );
            return bad("reframe_x", m);
        }
        if reframe::ffmpeg_colour(&self.pad_colour).is_none() {
            let m = format!(
                "pad_colour must be a colour written #RRGGBB (got {:?})",
                self.pad_colour
            );
            return bad("pad_colour", m);
        }
        Ok(())
    }
}

/// What was written.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RenderSummary {
    /// The output file, as passed to [`render`].
    pub(crate) output: PathBuf,
    /// Total kept duration of the plan (spans clipped to the media).
    pub planned: Time,
    /// The output's duration (the longer stream).
    pub duration: Time,
    /// Duration of the video written, to its last frame's end (`None` without video).
    pub video_duration: Option<Time>,
    /// Duration of the audio written, from its sample count (`None` without audio).
    pub audio_duration: Option<Time>,
    /// Video frames written (including repeats that fill a slot).
    pub video_frames: u64,
    /// Of those, the frames the smart render copied untouched (0 for a full re-encode).
    pub video_copied_frames: u64,
    /// Why the video was re-encoded in full (`None`: smart render, or no video).
    pub reencoded_because: Option<String>,
    /// Audio samples (per channel) sent to the encoder.
    pub audio_samples: u64,
    /// Audio packets written.
    pub audio_frames: u64,
    /// Of those, the source's, copied untouched (AAC; the rest encoded around the joins).
    pub audio_copied_frames: u64,
    /// Why no audio frame was copied (`None`: copied, or no audio).
    pub audio_reencoded_because: Option<String>,
    /// Whether video was written at a constant frame rate.
    pub constant_frame_rate: bool,
}

/// Why a render failed. Each message is one line that starts with the file it is about.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The input cannot be opened or read (missing, not media, …).
    #[error(transparent)]
    Input(#[from] MediaError),
    /// Invalid [`RenderOptions`]: the field and why.
    #[error("invalid render options: {0}")]
    Options(InvalidField),
    /// FFmpeg's libraries could not be initialised.
    #[error("FFmpeg cannot start: {0}")]
    Ffmpeg(String),
    /// No keep span overlaps the media.
    #[error("{}: nothing to keep (no keep span overlaps the media, which lasts {duration})", .path.display())]
    NothingToKeep {
        /// The input file.
        path: PathBuf,
        /// The media's duration.
        duration: Time,
    },
    /// The input has something this renderer or the chosen codecs cannot handle.
    #[error("{}: cannot render: {detail}", .path.display())]
    Unsupported {
        /// The input file.
        path: PathBuf,
        /// What cannot be handled.
        detail: String,
    },
    /// Decoding the input failed part-way.
    #[error("{}: decoding failed: {detail}", .path.display())]
    Decode {
        /// The input file.
        path: PathBuf,
        /// What failed (with FFmpeg's message where there is one).
        detail: String,
    },
    /// Encoding or muxing failed.
    #[error("{}: encoding failed: {detail}", .path.display())]
    Encode {
        /// The output file.
        path: PathBuf,
        /// What failed (with FFmpeg's message where there is one).
        detail: String,
    },
    /// The output cannot be written.
    #[error("{}: cannot write: {detail}", .path.display())]
    Output {
        /// The output file.
        path: PathBuf,
        /// Why it cannot be written.
        detail: String,
    },
    /// The output path is the input.
    #[error("{}: refusing to overwrite the input", .path.display())]
    SameAsInput {
        /// The output file.
        path: PathBuf,
    },
    /// The captions to burn in cannot be used.
    #[error("{}: cannot burn in captions: {detail}", .path.display())]
    BurnIn {
        /// The captions file.
        path: PathBuf,
        /// Why they cannot be used.
        detail: String,
    },
}

impl RenderError {
    /// The file the error is about (`None` for invalid options).
    pub fn path(&self) -> Option<&Path> {
        match self {
            RenderError::Input(e) => Some(e.path()),
            RenderError::Options(_) | RenderError::Ffmpeg(_) => None,
            RenderError::NothingToKeep { path, .. }
            | RenderError::Unsupported { path, .. }
            | RenderError::Decode { path, .. }
            | RenderError::Encode { path, .. }
            | RenderError::Output { path, .. }
            | RenderError::SameAsInput { path }
            | RenderError::BurnIn { path, .. } => Some(path),
        }
    }
}

/// The size of the frame burned-in captions are drawn on (the output's picture) for a video
/// stream under `opts`: the reframed size, or the picture's own, turned upright.
pub fn caption_frame(video: &super::probe::VideoInfo, opts: &RenderOptions) -> (u32, u32) {
    let p = reframe::Plan::filtered(
        reframe::Source {
            width: video.width,
            height: video.height,
            sar: (video.sar.num, video.sar.den),
            rotation: video.rotation,
        },
        opts,
    );
    (p.width, p.height)
}

/// Renders the `keep` spans of `input` into `output` (see the module docs). `keep` need not
/// be normalized; spans are clipped to the media. `progress` gets fractions 0..=1,
/// non-decreasing, ending with 1.0 on success.
pub fn render(
    input: &Path,
    keep: &[Span],
    output: &Path,
    opts: &RenderOptions,
    progress: &mut dyn FnMut(f32),
) -> Result<RenderSummary, RenderError> {
    opts.validate()?;
    check_input(input)?;
    if same_file(input, output) {
        return Err(RenderError::SameAsInput {
            path: output.into(),
        });
    }
    init().map_err(|e| RenderError::Unsupported {
        path: input.into(),
        detail: e,
    })?;
    Job {
        input,
        output,
        opts,
        scan_streams: Default::default(),
        scanned: Default::default(),
    }
    .run(keep, progress)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_defaults_validate_and_round_trip() {
        let o = RenderOptions::default();
        o.validate().unwrap();
        let json = serde_json::to_string(&o).unwrap();
        let back: RenderOptions = serde_json::from_str(&json).unwrap();
        assert_eq!(back, o);
        let partial: RenderOptions = serde_json::from_str(r#"{"crf": 28, "fade": 0.02}"#).unwrap();
        assert_eq!(partial.crf, 28);
        assert_eq!(partial.fade, Time::from_millis(20));
        assert_eq!(partial.preset, "veryfast");
        let shorts: RenderOptions =
            serde_json::from_str(r#"{"aspect": "9:16", "reframe": "fit-blur"}"#).unwrap();
        assert_eq!(shorts.aspect, Some(Aspect { w: 9, h: 16 }));
        assert_eq!(shorts.reframe, Reframe::FitBlur);
        assert!(serde_json::from_str::<RenderOptions>(r#"{"aspect": "3:2"}"#).is_err());
        // What a smart render may copy: nothing when the picture changes.
        assert!(!o.changes_pixels());
        assert!(shorts.changes_pixels());
        assert!(RenderOptions {
            burn_in: Some("c.ass".into()),
            ..o.clone()
        }
        .changes_pixels());
        for bad in [
            RenderOptions {
                crf: 60,
                ..o.clone()
            },
            RenderOptions {
                preset: "quick".into(),
                ..o.clone()
            },
            RenderOptions {
                video_codec: "nope".into(),
                ..o.clone()
            },
            RenderOptions {
                video_codec: "aac".into(),
                ..o.clone()
            },
            RenderOptions {
                audio_codec: Some("libx264".into()),
                ..o.clone()
            },
            RenderOptions {
                fade: Time::from_millis(2_000),
                ..o.clone()
            },
            RenderOptions {
                reframe_x: 1.5,
                ..o.clone()
            },
            RenderOptions {
                pad_colour: "black".into(),
                ..o.clone()
            },
        ] {
            let e = bad.validate().unwrap_err();
            assert!(matches!(e, RenderError::Options(_)), "{e}");
            assert!(!e.to_string().contains('\n'));
        }
    }
}
