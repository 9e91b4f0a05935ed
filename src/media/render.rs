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
//!   output time maps to. With cut points on frame boundaries (snap them with
//!   [`FrameRate::snap`]) that is exactly "the frames whose presentation time lies in a keep
//!   span"; otherwise every join shifts the picture by less than half a frame. The output
//!   keeps the input's frame rate exactly (encoder time base `1/fps`, like the CLI).
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
//!   encoder costs about as much as x264 at `veryfast`; on two cores this took the 74.5 s
//!   clip's cut from a median 6.2 s to 5.3 s (alternating runs; x264's own threads already
//!   fill the cores much of the time). The result is the same either way (a test checks it).
//! - So output time = sum of kept durations before; audio and video both last the total kept
//!   duration (video to within half a frame, audio to a sample per span).
//! - The picture is encoded as decoded: same size, pixel aspect ratio (SAR), colour
//!   properties and display matrix (rotation) side data; the pixel format is converted only
//!   when the encoder does not take the decoded one (odd sizes with 4:2:0 go to 4:4:4 for
//!   libx264, keeping the size). Burn-in adds libavfilter's `subtitles` filter (libass; any
//!   fontconfig font, CJK included when a CJK font is installed, which is checked up front).
//! - Audio keeps its sample rate and channel layout; codecs that cannot take them are
//!   reported, never silently resampled.
//!
//! Defaults mirror `ffmpeg -c:v libx264 -crf 23 -preset veryfast -c:a aac -movflags
//! +faststart` with trim/atrim + concat of the same spans; measured side by side on 720p30
//! the render takes the same time as that command (within the noise of a shared 2-core
//! machine) and writes a file of the same size. `veryfast` rather than `medium`: on the same
//! clip `medium` needed 2× the CPU time for +1 dB PSNR at 11% more bytes (CRF 23 both).
//!
//! Limits: the constant/variable frame rate decision reads the stream's `r_frame_rate` and
//! `avg_frame_rate`; a Matroska VFR file that declares a default frame duration looks
//! constant and is rendered at that rate (frames re-timed onto its grid, as the ffmpeg CLI
//! does for MP4 output). In a VFR MP4 with B-frames, ffprobe's per-stream video duration is
//! the sum of decode-time deltas and may fall short of the presentation end that the
//! container duration (edit list) reports; the CLI's own VFR MP4s show the same.
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
mod plan;
mod video;

use std::ffi::{CStr, CString};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use ffmpeg_next as ffmpeg;
use serde::{Deserialize, Serialize};

use ffmpeg::error::EAGAIN;
use ffmpeg::format::Pixel;
use ffmpeg::{
    codec, decoder, encoder, ffi, format, frame, media, ChannelLayout, Dictionary, Packet,
    Rational, Rescale,
};

use self::plan::{CfrSelector, Plan, Rate, VfrSelector};
use crate::media::audio::{init, MediaError};
use crate::time::{Span, Time};
use crate::transcript::is_cjk_letter;

const MICROS: Rational = Rational(1, 1_000_000);

/// Codec settings of a render. Every field has a default (`#[serde(default)]`), so a preset
/// may set only some of them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RenderOptions {
    /// FFmpeg video encoder name.
    pub video_codec: String,
    /// Constant rate factor (libx264/libx265/libvpx `crf`; 0..=51 for x264).
    pub crf: u8,
    /// Encoder speed preset (x264: ultrafast … placebo). Default `veryfast`: `medium` took
    /// 2× the CPU time for +1 dB PSNR (and 11% more bytes) at the same CRF in our measurement.
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
    /// e.g. `FontName=Noto Sans CJK SC,FontSize=22,Outline=2`).
    pub burn_in_style: Option<String>,
    /// Put the MP4/MOV index first (playback starts before the download ends).
    pub faststart: bool,
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
    /// Checks values and that the named encoders exist in this FFmpeg.
    pub fn validate(&self) -> Result<(), RenderError> {
        let bad = |m: String| Err(RenderError::Options(m));
        init().map_err(RenderError::Options)?;
        match encoder::find_by_name(&self.video_codec) {
            Some(c) if c.is_video() => {}
            Some(_) => return bad(format!("{} is not a video encoder", self.video_codec)),
            None => {
                return bad(format!(
                    "unknown video encoder {:?} (not in this FFmpeg build)",
                    self.video_codec
                ))
            }
        }
        let x26x = matches!(self.video_codec.as_str(), "libx264" | "libx265");
        let max_crf = if x26x { 51 } else { 63 };
        if self.crf > max_crf {
            return bad(format!("crf {} is out of range 0..={max_crf}", self.crf));
        }
        if x26x && !X264_PRESETS.contains(&self.preset.as_str()) {
            return bad(format!(
                "unknown preset {:?} (one of {})",
                self.preset,
                X264_PRESETS.join(", ")
            ));
        }
        if let Some(a) = &self.audio_codec {
            match encoder::find_by_name(a) {
                Some(c) if c.is_audio() => {}
                Some(_) => return bad(format!("{a} is not an audio encoder")),
                None => {
                    return bad(format!(
                        "unknown audio encoder {a:?} (not in this FFmpeg build)"
                    ))
                }
            }
        }
        if let Some(b) = self.audio_bitrate {
            if !(6_000..=1_536_000).contains(&b) {
                return bad(format!(
                    "audio bit rate {b} b/s is out of range 6000..=1536000"
                ));
            }
        }
        if self.fade < Time::ZERO || self.fade > Time::from_millis(1_000) {
            return bad(format!("fade {} is out of range 0..=1s", self.fade));
        }
        if self.threads > 64 {
            return bad(format!("threads {} is out of range 0..=64", self.threads));
        }
        Ok(())
    }
}

/// What was written.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RenderSummary {
    pub output: PathBuf,
    /// Total kept duration of the plan (spans clipped to the media).
    pub planned: Time,
    /// The output's duration (the longer stream).
    pub duration: Time,
    pub video_duration: Option<Time>,
    pub audio_duration: Option<Time>,
    /// Video frames sent to the encoder (including repeats that fill a slot).
    pub video_frames: u64,
    /// Audio samples (per channel) sent to the encoder.
    pub audio_samples: u64,
    /// Whether video was written at a constant frame rate.
    pub constant_frame_rate: bool,
}

/// Why a render failed. Each message is one line that starts with the file it is about.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The input cannot be opened or read (missing, not media, …).
    #[error(transparent)]
    Input(#[from] MediaError),
    /// Invalid [`RenderOptions`].
    #[error("invalid render options: {0}")]
    Options(String),
    /// No keep span overlaps the media.
    #[error("{}: nothing to keep (no keep span overlaps the media, which lasts {duration})", .path.display())]
    NothingToKeep { path: PathBuf, duration: Time },
    /// The input has something this renderer or the chosen codecs cannot handle.
    #[error("{}: cannot render: {detail}", .path.display())]
    Unsupported { path: PathBuf, detail: String },
    /// Decoding the input failed part-way.
    #[error("{}: decoding failed: {detail}", .path.display())]
    Decode { path: PathBuf, detail: String },
    /// Encoding or muxing failed.
    #[error("{}: encoding failed: {detail}", .path.display())]
    Encode { path: PathBuf, detail: String },
    /// The output cannot be written.
    #[error("{}: cannot write: {detail}", .path.display())]
    Output { path: PathBuf, detail: String },
    /// The output path is the input.
    #[error("{}: refusing to overwrite the input", .path.display())]
    SameAsInput { path: PathBuf },
    /// The captions to burn in cannot be used.
    #[error("{}: cannot burn in captions: {detail}", .path.display())]
    BurnIn { path: PathBuf, detail: String },
}

impl RenderError {
    /// The file the error is about (`None` for invalid options).
    pub fn path(&self) -> Option<&Path> {
        match self {
            RenderError::Input(e) => Some(e.path()),
            RenderError::Options(_) => None,
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

/// A frame rate `num / den` frames per second.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameRate {
    pub num: i32,
    pub den: i32,
}

impl FrameRate {
    pub fn is_valid(&self) -> bool {
        self.num > 0 && self.den > 0
    }
    pub fn fps(&self) -> f64 {
        self.num as f64 / self.den as f64
    }
    /// The duration of one frame (rounded to the microsecond).
    pub fn frame_duration(&self) -> Time {
        Time((self.den as i64 * 1_000_000 + self.num as i64 / 2) / self.num as i64)
    }
    /// The frame boundary nearest to `t`, for a video whose first frame is at `origin`
    /// ([`VideoInfo::start`]). Cut points snapped this way keep exactly whole frames.
    pub fn snap(&self, t: Time, origin: Time) -> Time {
        let r = Rate {
            num: self.num as i64,
            den: self.den as i64,
        };
        let rel = t - origin;
        let k = r.slots_in(rel);
        origin + r.slot_time(k)
    }
}

impl From<Rational> for FrameRate {
    fn from(r: Rational) -> Self {
        FrameRate {
            num: r.numerator(),
            den: r.denominator(),
        }
    }
}

/// What [`probe`] finds out about a media file.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MediaInfo {
    /// Container duration (0 when unknown); the player's timeline runs from 0 to this.
    pub duration: Time,
    /// The container format (FFmpeg's short name, e.g. `mov,mp4,m4a,3gp,3g2,mj2`).
    pub format: String,
    /// The input's file extension, lower case (may be empty).
    pub extension: String,
    pub video: Option<VideoInfo>,
    pub audio: Option<AudioInfo>,
}

/// The video stream [`render`] would use (cover art is not video).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VideoInfo {
    pub codec: String,
    pub width: u32,
    pub height: u32,
    pub pix_fmt: String,
    /// Sample (pixel) aspect ratio; 0/1 when unknown (square pixels assumed).
    pub sar: FrameRate,
    /// The rate [`render`] uses: `r_frame_rate` for constant-rate video, else `avg_frame_rate`.
    pub frame_rate: FrameRate,
    pub r_frame_rate: FrameRate,
    pub avg_frame_rate: FrameRate,
    /// `r_frame_rate` and `avg_frame_rate` disagree by more than 1%.
    pub variable_frame_rate: bool,
    /// Display rotation in degrees, counter-clockwise, as ffprobe reports it (0 if none).
    pub rotation: f64,
    /// Where the video stream starts on the player timeline.
    pub start: Time,
}

/// The audio stream [`render`] would use.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AudioInfo {
    pub codec: String,
    pub sample_rate: u32,
    pub channels: u16,
    pub channel_layout: String,
    /// Where the audio stream starts on the player timeline.
    pub start: Time,
}

impl MediaInfo {
    pub fn has_video(&self) -> bool {
        self.video.is_some()
    }
    pub fn has_audio(&self) -> bool {
        self.audio.is_some()
    }
    /// The extension [`render`] output should have: `mp4` for video; for audio-only input
    /// its own extension when it is a format we write (m4a, mp4, mov, aac, mp3, wav, flac,
    /// opus, ogg, oga), else `m4a`.
    pub fn output_extension(&self) -> &'static str {
        if self.has_video() {
            return "mp4";
        }
        const AUDIO: [&str; 10] = [
            "m4a", "mp4", "mov", "aac", "mp3", "wav", "flac", "opus", "ogg", "oga",
        ];
        AUDIO
            .iter()
            .find(|&&e| e == self.extension)
            .copied()
            .unwrap_or("m4a")
    }
}

/// Probes `input` (see [`MediaInfo`]).
pub fn probe(input: &Path) -> Result<MediaInfo, RenderError> {
    check_input(input)?;
    init().map_err(|e| RenderError::Unsupported {
        path: input.into(),
        detail: e,
    })?;
    let ictx = open_input(input)?;
    Ok(describe(&ictx, input))
}

/// The extension the rendered output of `input` should have (see
/// [`MediaInfo::output_extension`]).
pub fn output_extension(input: &Path) -> Result<&'static str, RenderError> {
    Ok(probe(input)?.output_extension())
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
    }
    .run(keep, progress)
}

struct Job<'a> {
    input: &'a Path,
    output: &'a Path,
    opts: &'a RenderOptions,
}

impl Job<'_> {
    fn unsupported(&self, detail: impl Into<String>) -> RenderError {
        RenderError::Unsupported {
            path: self.input.into(),
            detail: detail.into(),
        }
    }
    fn decode_err(&self, detail: impl Into<String>) -> RenderError {
        RenderError::Decode {
            path: self.input.into(),
            detail: detail.into(),
        }
    }
    fn encode_err(&self, detail: impl Into<String>) -> RenderError {
        RenderError::Encode {
            path: self.output.into(),
            detail: detail.into(),
        }
    }
    fn output_err(&self, detail: impl Into<String>) -> RenderError {
        RenderError::Output {
            path: self.output.into(),
            detail: detail.into(),
        }
    }

    fn run(
        &self,
        keep: &[Span],
        progress: &mut dyn FnMut(f32),
    ) -> Result<RenderSummary, RenderError> {
        let mut ictx = open_input(self.input)?;
        let info = describe(&ictx, self.input);
        let origin_us = match unsafe { (*ictx.as_ptr()).start_time } {
            t if t == ffi::AV_NOPTS_VALUE => 0,
            t => t,
        };
        let plan = Plan::new(keep, (info.duration > Time::ZERO).then_some(info.duration));
        if plan.is_empty() {
            return Err(RenderError::NothingToKeep {
                path: self.input.into(),
                duration: info.duration,
            });
        }
        let v_index = video_stream(&ictx);
        let a_index = ictx.streams().best(media::Type::Audio).map(|s| s.index());
        if v_index.is_none() && a_index.is_none() {
            return Err(self.unsupported("no audio or video stream"));
        }
        let burn_in = match (&self.opts.burn_in, v_index) {
            (Some(p), Some(_)) => {
                check_burn_in(p)?;
                Some(video::BurnIn {
                    file: p.clone(),
                    force_style: self.opts.burn_in_style.clone(),
                })
            }
            (Some(p), None) => {
                return Err(RenderError::BurnIn {
                    path: p.clone(),
                    detail: format!("{} has no video to burn them into", self.input.display()),
                })
            }
            (None, _) => None,
        };

        // The output: a temporary file beside it, renamed at the end.
        let ext = self
            .output
            .extension()
            .map(|e| e.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        let muxer = guess_muxer(self.output)
            .ok_or_else(|| self.output_err(format!("unknown output format {:?}", ext)))?;
        let dir = match self.output.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let name = self
            .output
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "output".into());
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(&format!(".part.{ext}"))
            .tempfile_in(dir)
            .map_err(|e| {
                self.output_err(format!(
                    "cannot create a file in {}: {}",
                    dir.display(),
                    io_why(&e)
                ))
            })?;
        let mut octx = format::output_as(tmp.path(), &muxer)
            .map_err(|e| self.output_err(format!("cannot open for writing: {e}")))?;
        // SAFETY: reading the muxer's static description.
        let (global_header, muxer_takes_video) = unsafe {
            let of = (*octx.as_ptr()).oformat;
            (
                (*of).flags & ffi::AVFMT_GLOBALHEADER != 0,
                (*of).video_codec != ffi::AVCodecID::AV_CODEC_ID_NONE,
            )
        };
        if v_index.is_some() && !muxer_takes_video {
            return Err(self.output_err(format!(
                "the .{ext} format cannot hold video (the input has video: use .mp4)"
            )));
        }

        // Streams.
        let mut vin = match v_index {
            Some(i) => Some(self.open_video(&ictx, i, &plan, burn_in, &mut octx, global_header)?),
            None => None,
        };
        let mut ain = match a_index {
            Some(i) => {
                Some(self.open_audio(&ictx, i, &plan, &ext, origin_us, &mut octx, global_header)?)
            }
            None => None,
        };
        octx.set_metadata(ictx.metadata().to_owned());
        let mut header_opts = Dictionary::new();
        if self.opts.faststart && matches!(muxer.as_str(), "mp4" | "mov" | "ipod" | "3gp") {
            header_opts.set("movflags", "+faststart");
        }
        octx.write_header_with(header_opts)
            .map_err(|e| self.encode_err(format!("cannot write the header: {e}")))?;
        // The muxer may change the stream time bases in write_header.
        if let Some(v) = vin.as_mut() {
            v.out.ost_tb = octx.stream(v.out.stream_index).unwrap().time_base();
        }
        if let Some(a) = ain.as_mut() {
            a.out.ost_tb = octx.stream(a.out.stream_index).unwrap().time_base();
        }
        // Read only what is rendered.
        for i in 0..ictx.nb_streams() as usize {
            if Some(i) != v_index && Some(i) != a_index {
                if let Some(mut s) = ictx.stream_mut(i) {
                    // SAFETY: setting the discard flag of a stream of an open input.
                    unsafe { (*s.as_mut_ptr()).discard = ffi::AVDiscard::AVDISCARD_ALL };
                }
            }
        }

        // Demux, decode, select, encode. Next to video, the audio is decoded and encoded on a
        // second thread (ffmpeg's AAC encoder costs about as much as x264 at veryfast), and
        // its packets come back to this one for the muxer.
        let audio_done = AtomicBool::new(false);
        std::thread::scope(|scope| -> Result<(), RenderError> {
            let mut worker = None;
            if vin.is_some() && self.opts.threads != 1 {
                if let Some(mut a) = ain.take() {
                    let (tx_in, rx_in) = mpsc::sync_channel::<Packet>(256);
                    let (tx_out, rx_out) = mpsc::channel::<Packet>();
                    let done = &audio_done;
                    let handle = scope.spawn(move || -> Result<AudioIn, RenderError> {
                        let pass = |a: &mut AudioIn| {
                            for p in a.out.take_packets() {
                                let _ = tx_out.send(p);
                            }
                        };
                        for p in rx_in {
                            if !a.out.done() {
                                self.audio_packet(&mut a, Some(&p))?;
                                pass(&mut a);
                            }
                            if a.out.done() {
                                done.store(true, Ordering::Relaxed);
                            }
                        }
                        if !a.out.done() {
                            self.audio_packet(&mut a, None)?;
                        }
                        a.out.finish().map_err(|e| self.encode_err(e))?;
                        pass(&mut a);
                        done.store(true, Ordering::Relaxed);
                        Ok(a)
                    });
                    worker = Some((tx_in, rx_out, handle));
                }
            }
            let joined = |h: std::thread::ScopedJoinHandle<'_, Result<AudioIn, RenderError>>| {
                h.join()
                    .unwrap_or_else(|_| Err(self.encode_err("the audio thread panicked")))
            };
            let write = |p: Packet, octx: &mut format::context::Output| {
                p.write_interleaved(octx)
                    .map_err(|e| self.encode_err(format!("writing audio: {e}")))
            };
            let mut packet = Packet::empty();
            let mut bad_packets = 0usize;
            let mut last_progress = 0.0f32;
            let source_end = plan.source_end();
            loop {
                let v_done = vin.as_ref().is_none_or(|v| v.out.done(&plan));
                let a_done = match &ain {
                    Some(a) => a.out.done(),
                    None => worker.is_none() || audio_done.load(Ordering::Relaxed),
                };
                if v_done && a_done {
                    break;
                }
                match packet.read(&mut ictx) {
                    Ok(()) => {}
                    Err(ffmpeg::Error::Eof) => break,
                    Err(ffmpeg::Error::InvalidData) => {
                        bad_packets += 1;
                        if bad_packets > 1_000 {
                            return Err(self.decode_err("too much unreadable data"));
                        }
                        continue;
                    }
                    Err(e) => return Err(self.decode_err(format!("read error: {e}"))),
                }
                let index = packet.stream();
                if let Some(v) = vin.as_mut().filter(|v| v.index == index && !v_done) {
                    self.video_packet(v, Some(&packet), &plan, origin_us, &mut octx)?;
                } else if Some(index) == a_index && !a_done {
                    if let Some(a) = ain.as_mut() {
                        self.audio_packet(a, Some(&packet))?;
                        for p in a.out.take_packets() {
                            write(p, &mut octx)?;
                        }
                    } else if let Some((tx, _, _)) = worker.as_ref() {
                        let p = std::mem::replace(&mut packet, Packet::empty());
                        if tx.send(p).is_err() {
                            // The audio thread stopped: it failed.
                            let (_, _, h) = worker.take().expect("present");
                            joined(h)?;
                            return Err(self.encode_err("the audio thread stopped early"));
                        }
                    }
                }
                if let Some((_, rx, _)) = worker.as_ref() {
                    while let Ok(p) = rx.try_recv() {
                        write(p, &mut octx)?;
                    }
                }
                // Progress: how far the slower stream has got through the plan's source range.
                let mut at = source_end;
                if let Some(v) = vin.as_ref().filter(|_| !v_done) {
                    at = at.min(v.out.last_t.unwrap_or(Time::ZERO));
                }
                if let Some(a) = ain.as_ref().filter(|_| !a_done) {
                    at = at.min(a.out.position());
                }
                let done =
                    (at.as_secs_f64() / source_end.as_secs_f64().max(1e-9)).clamp(0.0, 1.0) as f32;
                if done - last_progress >= 0.01 {
                    last_progress = done;
                    progress(done.min(0.99));
                }
            }
            // Flush decoders, then fill and flush the outputs.
            if let Some(v) = vin.as_mut() {
                if !v.out.done(&plan) {
                    self.video_packet(v, None, &plan, origin_us, &mut octx)?;
                }
                v.out
                    .finish(&plan, &mut octx)
                    .map_err(|e| self.encode_err(e))?;
            }
            if let Some((tx, rx, h)) = worker.take() {
                drop(tx); // the end of the input: the thread flushes and finishes
                for p in rx {
                    write(p, &mut octx)?;
                }
                ain = Some(joined(h)?);
            } else if let Some(a) = ain.as_mut() {
                if !a.out.done() {
                    self.audio_packet(a, None)?;
                }
                a.out.finish().map_err(|e| self.encode_err(e))?;
                for p in a.out.take_packets() {
                    write(p, &mut octx)?;
                }
            }
            Ok(())
        })?;
        octx.write_trailer()
            .map_err(|e| self.encode_err(format!("cannot finish the file: {e}")))?;
        drop(octx);

        let summary = RenderSummary {
            output: self.output.into(),
            planned: plan.total,
            video_duration: vin
                .as_ref()
                .map(|v| Time(v.out.end_pts.rescale(v.out.enc_tb, MICROS))),
            audio_duration: ain
                .as_ref()
                .map(|a| Time::from_samples(a.out.samples as usize, a.out.encoder.rate())),
            duration: Time::ZERO,
            video_frames: vin.as_ref().map_or(0, |v| v.out.frames),
            audio_samples: ain.as_ref().map_or(0, |a| a.out.samples as u64),
            constant_frame_rate: vin
                .as_ref()
                .is_some_and(|v| matches!(v.out.mode, video::Mode::Cfr(..))),
        };
        let summary = RenderSummary {
            duration: summary
                .video_duration
                .unwrap_or(Time::ZERO)
                .max(summary.audio_duration.unwrap_or(Time::ZERO)),
            ..summary
        };

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // tempfile creates 0600; a rendered video is an ordinary file.
            let _ = std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644));
        }
        if same_file(self.input, self.output) {
            return Err(RenderError::SameAsInput {
                path: self.output.into(),
            });
        }
        tmp.persist(self.output)
            .map_err(|e| self.output_err(io_why(&e.error)))?;
        progress(1.0);
        Ok(summary)
    }

    #[allow(clippy::too_many_arguments)]
    fn open_video(
        &self,
        ictx: &format::context::Input,
        index: usize,
        plan: &Plan,
        burn_in: Option<video::BurnIn>,
        octx: &mut format::context::Output,
        global_header: bool,
    ) -> Result<VideoIn, RenderError> {
        let st = ictx.stream(index).unwrap();
        let tb = st.time_base();
        let params = st.parameters();
        let codec_name = params.id().name().to_string();
        let mut ctx = codec::context::Context::from_parameters(params)
            .map_err(|e| self.unsupported(format!("{codec_name} video: {e}")))?;
        if ffmpeg::decoder::find(ctx.id()).is_none() {
            return Err(self.unsupported(format!("no decoder for the {codec_name} video codec")));
        }
        // SAFETY: plain field write before the decoder is opened (0 = automatic).
        unsafe { (*ctx.as_mut_ptr()).thread_count = self.opts.threads as i32 };
        let mut dec = ctx.decoder();
        dec.set_packet_time_base(tb);
        let dec = dec
            .video()
            .map_err(|e| self.unsupported(format!("cannot open the {codec_name} decoder: {e}")))?;

        let (width, height) = (dec.width(), dec.height());
        if width == 0 || height == 0 {
            return Err(self.unsupported("the video has no picture size"));
        }
        let codec = encoder::find_by_name(&self.opts.video_codec)
            .ok_or_else(|| self.encode_err(format!("no {} encoder", self.opts.video_codec)))?;
        let src_format = match dec.format() {
            Pixel::None => Pixel::YUV420P,
            f => f,
        };
        let format = video::choose_format(codec, src_format, width, height);
        // SAFETY: FFmpeg's guess from stream and codec parameters.
        let sar: Rational = unsafe {
            ffi::av_guess_sample_aspect_ratio(
                ictx.as_ptr() as *mut _,
                st.as_ptr() as *mut _,
                ptr::null_mut(),
            )
        }
        .into();

        let (r, avg) = (
            FrameRate::from(st.rate()),
            FrameRate::from(st.avg_frame_rate()),
        );
        let cfr_rate = constant_rate(r, avg);
        let (mode, enc_tb, enc_rate) = match cfr_rate {
            Some(fr) => {
                let rate = Rate {
                    num: fr.num as i64,
                    den: fr.den as i64,
                };
                (
                    video::Mode::Cfr(CfrSelector::new(plan, rate)),
                    Rational(fr.den, fr.num),
                    Rational(fr.num, fr.den),
                )
            }
            None => (
                video::Mode::Vfr(VfrSelector::new()),
                tb,
                if avg.is_valid() {
                    st.avg_frame_rate()
                } else {
                    Rational(25, 1)
                },
            ),
        };
        let frame_step = FrameRate::from(enc_rate).frame_duration();

        let mut enc = codec::context::Context::new_with_codec(codec)
            .encoder()
            .video()
            .map_err(|e| self.encode_err(format!("{}: {e}", self.opts.video_codec)))?;
        enc.set_width(width);
        enc.set_height(height);
        enc.set_format(format);
        enc.set_time_base(enc_tb);
        enc.set_frame_rate(Some(enc_rate));
        if sar.numerator() > 0 {
            enc.set_aspect_ratio(sar);
        }
        enc.set_colorspace(dec.color_space());
        enc.set_color_range(dec.color_range());
        enc.set_color_primaries(dec.color_primaries());
        enc.set_color_transfer_characteristic(dec.color_transfer_characteristic());
        // SAFETY: plain field writes before the encoder is opened.
        unsafe {
            let c = enc.as_mut_ptr();
            (*c).chroma_sample_location = (*dec.as_ptr()).chroma_sample_location;
            (*c).thread_count = self.opts.threads as i32;
        }
        if global_header {
            enc.set_flags(codec::Flags::GLOBAL_HEADER);
        }
        let mut dict = Dictionary::new();
        dict.set("crf", &self.opts.crf.to_string());
        dict.set("preset", &self.opts.preset);
        let enc = enc.open_as_with(codec, dict).map_err(|e| {
            self.encode_err(format!(
                "cannot open the {} encoder for {width}x{height} {}: {e}",
                self.opts.video_codec,
                format.descriptor().map_or("?", |d| d.name())
            ))
        })?;

        let mut ost = octx
            .add_stream(codec)
            .map_err(|e| self.encode_err(format!("cannot add the video stream: {e}")))?;
        ost.set_parameters(&enc);
        ost.set_time_base(enc_tb);
        if cfr_rate.is_some() {
            ost.set_avg_frame_rate(enc_rate);
            ost.set_rate(enc_rate);
        }
        // SAFETY: stream fields and side data of a stream we just added; the display matrix
        // bytes are copied from the input stream's side data.
        unsafe {
            let o = ost.as_mut_ptr();
            (*(*o).codecpar).codec_tag = 0;
            if sar.numerator() > 0 {
                (*o).sample_aspect_ratio = sar.into();
            }
            for sd in st.side_data() {
                if sd.kind() == codec::packet::side_data::Type::DisplayMatrix {
                    let data = sd.data();
                    let dst = ffi::av_stream_new_side_data(
                        o,
                        ffi::AVPacketSideDataType::AV_PKT_DATA_DISPLAYMATRIX,
                        data.len(),
                    );
                    if !dst.is_null() {
                        ptr::copy_nonoverlapping(data.as_ptr(), dst, data.len());
                    }
                }
            }
        }
        copy_stream_tags(&st, &mut ost);
        let stream_index = ost.index();
        Ok(VideoIn {
            index,
            tb,
            decoder: dec,
            frame: frame::Video::empty(),
            out: video::VideoOut::new(
                enc,
                stream_index,
                enc_tb,
                mode,
                video::Geometry {
                    width,
                    height,
                    format,
                },
                sar,
                burn_in,
                frame_step,
            ),
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn open_audio(
        &self,
        ictx: &format::context::Input,
        index: usize,
        plan: &Plan,
        ext: &str,
        origin_us: i64,
        octx: &mut format::context::Output,
        global_header: bool,
    ) -> Result<AudioIn, RenderError> {
        let st = ictx.stream(index).unwrap();
        let tb = st.time_base();
        let params = st.parameters();
        let in_codec = params.id();
        let codec_name = in_codec.name().to_string();
        let mut ctx = codec::context::Context::from_parameters(params)
            .map_err(|e| self.unsupported(format!("{codec_name} audio: {e}")))?;
        if ffmpeg::decoder::find(ctx.id()).is_none() {
            return Err(self.unsupported(format!("no decoder for the {codec_name} audio codec")));
        }
        ctx.set_time_base(tb);
        let mut dec = ctx.decoder();
        dec.set_packet_time_base(tb);
        let dec = dec
            .audio()
            .map_err(|e| self.unsupported(format!("cannot open the {codec_name} decoder: {e}")))?;
        let rate = dec.rate();
        let channels = dec.channels();
        if rate == 0 || channels == 0 {
            return Err(self.unsupported("the audio has no sample rate or channel count"));
        }
        let mut layout = dec.channel_layout();
        if layout.is_empty() || layout.channels() != i32::from(channels) {
            layout = ChannelLayout::default(i32::from(channels));
        }

        let name = match &self.opts.audio_codec {
            Some(n) => n.clone(),
            None => default_audio_codec(ext, in_codec, octx),
        };
        let codec = encoder::find_by_name(&name)
            .ok_or_else(|| self.encode_err(format!("no {name} encoder in this FFmpeg build")))?;
        let acodec = codec
            .audio()
            .map_err(|_| self.encode_err(format!("{name} is not an audio encoder")))?;
        if let Some(rates) = acodec.rates() {
            let rates: Vec<i32> = rates.collect();
            if !rates.is_empty() && !rates.contains(&(rate as i32)) {
                return Err(self.unsupported(format!(
                    "the {name} encoder does not take {rate} Hz audio (it takes {}); choose \
                     another audio codec or output format",
                    rates
                        .iter()
                        .map(|r| r.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        if let Some(layouts) = acodec.channel_layouts() {
            let layouts: Vec<ChannelLayout> = layouts.collect();
            if !layouts.is_empty() && !layouts.contains(&layout) {
                match layouts.iter().find(|l| l.channels() == layout.channels()) {
                    // Same channel count, another name for it (e.g. 5.1 vs 5.1(side)).
                    Some(&l) => layout = l,
                    None => {
                        return Err(self.unsupported(format!(
                            "the {name} encoder does not take {channels}-channel audio"
                        )))
                    }
                }
            }
        }
        let format = choose_sample_format(&acodec, dec.format());
        let mut enc = codec::context::Context::new_with_codec(codec)
            .encoder()
            .audio()
            .map_err(|e| self.encode_err(format!("{name}: {e}")))?;
        enc.set_rate(rate as i32);
        enc.set_channel_layout(layout);
        enc.set_channels(i32::from(channels));
        enc.set_format(format);
        enc.set_time_base(Rational(1, rate as i32));
        if let Some(b) = self.opts.audio_bitrate {
            enc.set_bit_rate(b as usize);
        }
        // SAFETY: plain field writes before the encoder is opened.
        unsafe {
            let c = enc.as_mut_ptr();
            let bits = (*dec.as_ptr()).bits_per_raw_sample;
            if bits > 0 && matches!(format, ffmpeg::format::Sample::I32(_)) {
                (*c).bits_per_raw_sample = bits;
            }
        }
        if global_header {
            enc.set_flags(codec::Flags::GLOBAL_HEADER);
        }
        let enc = enc.open_as(codec).map_err(|e| {
            self.encode_err(format!(
                "cannot open the {name} encoder for {rate} Hz {channels}-channel audio: {e}"
            ))
        })?;
        let mut ost = octx
            .add_stream(codec)
            .map_err(|e| self.encode_err(format!("cannot add the audio stream: {e}")))?;
        ost.set_parameters(&enc);
        ost.set_time_base(Rational(1, rate as i32));
        // SAFETY: a field of a stream we just added.
        unsafe { (*(*ost.as_mut_ptr()).codecpar).codec_tag = 0 };
        copy_stream_tags(&st, &mut ost);
        let stream_index = ost.index();
        let small_last = codec.capabilities().intersects(
            codec::Capabilities::SMALL_LAST_FRAME | codec::Capabilities::VARIABLE_FRAME_SIZE,
        );
        Ok(AudioIn {
            decoder: dec,
            frame: frame::Audio::empty(),
            out: audio::AudioOut::new(
                enc,
                stream_index,
                plan,
                self.opts.fade,
                origin_us,
                tb,
                small_last,
            ),
        })
    }

    /// Sends a packet (None: end of stream) to the video decoder and handles its frames.
    fn video_packet(
        &self,
        v: &mut VideoIn,
        packet: Option<&Packet>,
        plan: &Plan,
        origin_us: i64,
        octx: &mut format::context::Output,
    ) -> Result<(), RenderError> {
        let sent = match packet {
            Some(p) => v.decoder.send_packet(p),
            None => v.decoder.send_eof(),
        };
        match sent {
            Ok(()) | Err(ffmpeg::Error::Eof) | Err(ffmpeg::Error::InvalidData) => {}
            Err(e) => return Err(self.decode_err(format!("video decoder: {e}"))),
        }
        loop {
            if v.out.done(plan) {
                return Ok(());
            }
            match v.decoder.receive_frame(&mut v.frame) {
                Ok(()) => {
                    let t = v
                        .frame
                        .timestamp()
                        .or(v.frame.pts())
                        .map(|ts| Time(ts.rescale(v.tb, MICROS) - origin_us));
                    let f = std::mem::replace(&mut v.frame, frame::Video::empty());
                    v.frame = v
                        .out
                        .push(plan, f, t, octx)
                        .map_err(|e| self.encode_err(e))?;
                }
                Err(ffmpeg::Error::Other { errno }) if errno == EAGAIN => return Ok(()),
                Err(ffmpeg::Error::Eof) => return Ok(()),
                Err(ffmpeg::Error::InvalidData) => continue,
                Err(e) => return Err(self.decode_err(format!("video decoder: {e}"))),
            }
        }
    }

    /// Sends a packet (None: end of stream) to the audio decoder and handles its frames.
    fn audio_packet(&self, a: &mut AudioIn, packet: Option<&Packet>) -> Result<(), RenderError> {
        let sent = match packet {
            Some(p) => a.decoder.send_packet(p),
            None => a.decoder.send_eof(),
        };
        match sent {
            Ok(()) | Err(ffmpeg::Error::Eof) | Err(ffmpeg::Error::InvalidData) => {}
            Err(e) => return Err(self.decode_err(format!("audio decoder: {e}"))),
        }
        loop {
            match a.decoder.receive_frame(&mut a.frame) {
                Ok(()) => {
                    let mut f = std::mem::replace(&mut a.frame, frame::Audio::empty());
                    if f.channel_layout().is_empty() {
                        f.set_channel_layout(ChannelLayout::default(i32::from(f.channels())));
                    }
                    let r = a.out.push(&f);
                    a.frame = f;
                    r.map_err(|e| self.encode_err(e))?;
                }
                Err(ffmpeg::Error::Other { errno }) if errno == EAGAIN => return Ok(()),
                Err(ffmpeg::Error::Eof) => return Ok(()),
                Err(ffmpeg::Error::InvalidData) => continue,
                Err(e) => return Err(self.decode_err(format!("audio decoder: {e}"))),
            }
        }
    }
}

struct VideoIn {
    index: usize,
    tb: Rational,
    decoder: decoder::Video,
    frame: frame::Video,
    out: video::VideoOut,
}

struct AudioIn {
    decoder: decoder::Audio,
    frame: frame::Audio,
    out: audio::AudioOut,
}

/// The constant frame rate to render at, if the stream has one: `r_frame_rate` when it and
/// `avg_frame_rate` agree within 1% (or only one of them is known).
fn constant_rate(r: FrameRate, avg: FrameRate) -> Option<FrameRate> {
    match (r.is_valid(), avg.is_valid()) {
        (true, true) if (avg.fps() / r.fps() - 1.0).abs() < 0.01 => Some(r),
        (true, false) => Some(r),
        (false, true) => Some(avg),
        _ => None,
    }
}

/// The best video stream that is a real video (not cover art).
fn video_stream(ictx: &format::context::Input) -> Option<usize> {
    let best = ictx.streams().best(media::Type::Video)?;
    if best
        .disposition()
        .contains(format::stream::Disposition::ATTACHED_PIC)
    {
        // Another video stream that is not a picture, if any.
        return ictx
            .streams()
            .find(|s| {
                s.parameters().medium() == media::Type::Video
                    && !s
                        .disposition()
                        .contains(format::stream::Disposition::ATTACHED_PIC)
            })
            .map(|s| s.index());
    }
    Some(best.index())
}

fn describe(ictx: &format::context::Input, path: &Path) -> MediaInfo {
    let origin = match unsafe { (*ictx.as_ptr()).start_time } {
        t if t == ffi::AV_NOPTS_VALUE => 0,
        t => t,
    };
    let start_of = |st: &format::stream::Stream| -> Time {
        match st.start_time() {
            t if t == ffi::AV_NOPTS_VALUE => Time::ZERO,
            t => Time(t.rescale(st.time_base(), MICROS) - origin),
        }
    };
    let video = video_stream(ictx).map(|i| {
        let st = ictx.stream(i).unwrap();
        let p = st.parameters();
        // SAFETY: reading codec parameters of an open stream.
        let (w, h, fmt) = unsafe {
            let c = p.as_ptr();
            ((*c).width as u32, (*c).height as u32, (*c).format)
        };
        let pix_fmt = if fmt < 0 {
            String::new()
        } else {
            // SAFETY: a valid pixel format number from FFmpeg.
            let name = unsafe {
                ffi::av_get_pix_fmt_name(std::mem::transmute::<i32, ffi::AVPixelFormat>(fmt))
            };
            if name.is_null() {
                String::new()
            } else {
                unsafe { CStr::from_ptr(name) }
                    .to_string_lossy()
                    .into_owned()
            }
        };
        // SAFETY: FFmpeg's guess from stream and codec parameters.
        let sar: Rational = unsafe {
            ffi::av_guess_sample_aspect_ratio(
                ictx.as_ptr() as *mut _,
                st.as_ptr() as *mut _,
                ptr::null_mut(),
            )
        }
        .into();
        let (r, avg) = (
            FrameRate::from(st.rate()),
            FrameRate::from(st.avg_frame_rate()),
        );
        let cfr = constant_rate(r, avg);
        let rotation = st
            .side_data()
            .find(|sd| sd.kind() == codec::packet::side_data::Type::DisplayMatrix)
            .filter(|sd| sd.data().len() >= 36)
            // SAFETY: a display matrix is 9 int32 values.
            .map(|sd| unsafe { ffi::av_display_rotation_get(sd.data().as_ptr() as *const i32) })
            .filter(|r| r.is_finite())
            .map(|r| if r == 0.0 { 0.0 } else { r })
            .unwrap_or(0.0);
        VideoInfo {
            codec: p.id().name().to_string(),
            width: w,
            height: h,
            pix_fmt,
            sar: sar.into(),
            frame_rate: cfr.unwrap_or(avg),
            r_frame_rate: r,
            avg_frame_rate: avg,
            variable_frame_rate: cfr.is_none(),
            rotation,
            start: start_of(&st),
        }
    });
    let audio = ictx.streams().best(media::Type::Audio).map(|st| {
        let p = st.parameters();
        // SAFETY: reading codec parameters of an open stream (FFmpeg 5.1 layout fields).
        let (rate, channels, layout) = unsafe {
            let c = p.as_ptr();
            (
                (*c).sample_rate as u32,
                (*c).channels as u16,
                (*c).channel_layout,
            )
        };
        let layout = if layout == 0 {
            ChannelLayout::default(i32::from(channels)).bits()
        } else {
            layout
        };
        let mut buf = [0 as std::ffi::c_char; 64];
        // SAFETY: the buffer size is passed; FFmpeg NUL-terminates.
        let layout_name = unsafe {
            ffi::av_get_channel_layout_string(
                buf.as_mut_ptr(),
                buf.len() as i32,
                i32::from(channels),
                layout,
            );
            CStr::from_ptr(buf.as_ptr()).to_string_lossy().into_owned()
        };
        AudioInfo {
            codec: p.id().name().to_string(),
            sample_rate: rate,
            channels,
            channel_layout: layout_name,
            start: start_of(&st),
        }
    });
    MediaInfo {
        duration: Time(ictx.duration().max(0)),
        format: ictx.format().name().to_string(),
        extension: path
            .extension()
            .map(|e| e.to_string_lossy().to_lowercase())
            .unwrap_or_default(),
        video,
        audio,
    }
}

/// The audio encoder for an output extension when none is asked for.
fn default_audio_codec(ext: &str, input: codec::Id, octx: &format::context::Output) -> String {
    let has = |n: &str| encoder::find_by_name(n).is_some();
    let name = match ext {
        "mp4" | "m4a" | "mov" | "aac" | "m4b" | "3gp" => "aac",
        "mp3" => "libmp3lame",
        "flac" => "flac",
        "opus" => "libopus",
        "ogg" | "oga" if input == codec::Id::OPUS && has("libopus") => "libopus",
        "ogg" | "oga" => "libvorbis",
        "wav" => {
            let n = input.name();
            return if n.starts_with("pcm_") && has(n) {
                n.to_string()
            } else {
                "pcm_s16le".into()
            };
        }
        _ => {
            // The muxer's own default.
            // SAFETY: reading the muxer's static description.
            let id: codec::Id = unsafe { (*(*octx.as_ptr()).oformat).audio_codec }.into();
            return encoder::find(id)
                .map(|c| c.name().to_string())
                .unwrap_or_else(|| "aac".into());
        }
    };
    name.into()
}

/// The encoder's sample format closest to the decoded one (no precision lost where possible).
fn choose_sample_format(
    codec: &ffmpeg::codec::Audio,
    src: ffmpeg::format::Sample,
) -> ffmpeg::format::Sample {
    use ffmpeg::format::sample::Type::{Packed, Planar};
    use ffmpeg::format::Sample as S;
    let Some(list) = codec.formats().map(|f| f.collect::<Vec<_>>()) else {
        return src;
    };
    if list.contains(&src) {
        return src;
    }
    let prefs: &[S] = match src {
        S::U8(_) | S::I16(_) => &[
            S::I16(Packed),
            S::I16(Planar),
            S::I32(Packed),
            S::I32(Planar),
            S::F32(Planar),
            S::F32(Packed),
        ],
        S::I32(_) | S::I64(_) => &[
            S::I32(Packed),
            S::I32(Planar),
            S::F32(Planar),
            S::F32(Packed),
            S::I16(Packed),
            S::I16(Planar),
        ],
        _ => &[
            S::F32(Planar),
            S::F32(Packed),
            S::I32(Planar),
            S::I32(Packed),
            S::I16(Planar),
            S::I16(Packed),
        ],
    };
    prefs
        .iter()
        .find(|p| list.contains(p))
        .or(list.first())
        .copied()
        .unwrap_or(src)
}

fn copy_stream_tags(st: &format::stream::Stream, ost: &mut format::stream::StreamMut) {
    let mut d = Dictionary::new();
    for (k, v) in st.metadata().iter() {
        if matches!(k, "language" | "title") {
            d.set(k, v);
        }
    }
    ost.set_metadata(d);
}

/// The muxer FFmpeg picks for a file name (by extension).
fn guess_muxer(path: &Path) -> Option<String> {
    let name = CString::new(path.file_name()?.to_string_lossy().as_bytes()).ok()?;
    // SAFETY: a NUL-terminated name; the result is a static description or null.
    unsafe {
        let f = ffi::av_guess_format(ptr::null(), name.as_ptr(), ptr::null());
        if f.is_null() {
            return None;
        }
        Some(CStr::from_ptr((*f).name).to_string_lossy().into_owned())
    }
}

/// Cheap checks FFmpeg would answer less clearly (same wording as the decoder's).
fn check_input(path: &Path) -> Result<(), RenderError> {
    let unreadable = |message: String| MediaError::Unreadable {
        path: path.into(),
        message,
    };
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => Err(unreadable("is a directory".into()).into()),
        Ok(m) if m.len() == 0 => Err(MediaError::NotMedia {
            path: path.into(),
            reason: "the file is empty".into(),
        }
        .into()),
        Ok(_) => File::open(path)
            .map(drop)
            .map_err(|e| unreadable(io_why(&e)).into()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(MediaError::NotFound { path: path.into() }.into())
        }
        Err(e) => Err(unreadable(io_why(&e)).into()),
    }
}

fn open_input(path: &Path) -> Result<format::context::Input, RenderError> {
    format::input(path).map_err(|e| {
        MediaError::NotMedia {
            path: path.into(),
            reason: e.to_string(),
        }
        .into()
    })
}

/// The captions file exists and, if it has CJK text, fontconfig knows a font for it.
fn check_burn_in(path: &Path) -> Result<(), RenderError> {
    let err = |detail: String| RenderError::BurnIn {
        path: path.into(),
        detail,
    };
    let bytes = std::fs::read(path).map_err(|e| err(io_why(&e)))?;
    let text = String::from_utf8_lossy(&bytes);
    if let Some(c) = text.chars().find(|&c| is_cjk_letter(c)) {
        if font_covers(c) == Some(false) {
            return Err(err(format!(
                "no installed font has the glyph {c:?} (U+{:04X}); install a CJK font such as \
                 fonts-noto-cjk",
                c as u32
            )));
        }
    }
    Ok(())
}

/// Whether fontconfig has a font with `c` (None when `fc-list` cannot be run).
fn font_covers(c: char) -> Option<bool> {
    let out = std::process::Command::new("fc-list")
        .arg(format!(":charset={:x}", c as u32))
        .arg("family")
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| !String::from_utf8_lossy(&out.stdout).trim().is_empty())
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

fn io_why(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_lowercase(),
        None => s,
    }
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
        ] {
            let e = bad.validate().unwrap_err();
            assert!(matches!(e, RenderError::Options(_)), "{e}");
            assert!(!e.to_string().contains('\n'));
        }
    }

    #[test]
    fn frame_rates() {
        let ntsc = FrameRate {
            num: 30_000,
            den: 1_001,
        };
        assert_eq!(ntsc.frame_duration(), Time(33_367));
        assert_eq!(
            ntsc.snap(Time::from_millis(1_010), Time::ZERO),
            Time(1_001_000)
        );
        let pal = FrameRate { num: 25, den: 1 };
        assert_eq!(
            pal.snap(Time::from_millis(1_019), Time::ZERO),
            Time::from_millis(1_000)
        );
        assert_eq!(
            pal.snap(Time::from_millis(1_021), Time::ZERO),
            Time::from_millis(1_040)
        );
        assert_eq!(constant_rate(pal, pal), Some(pal));
        assert_eq!(
            constant_rate(
                FrameRate { num: 30, den: 1 },
                FrameRate {
                    num: 2987,
                    den: 100
                }
            ),
            Some(FrameRate { num: 30, den: 1 })
        );
        assert_eq!(
            constant_rate(FrameRate { num: 25, den: 1 }, FrameRate { num: 16, den: 1 }),
            None
        );
    }

    #[test]
    fn cjk_detection() {
        assert!(is_cjk_letter('中') && is_cjk_letter('か') && is_cjk_letter('한'));
        assert!(!is_cjk_letter('a') && !is_cjk_letter('é') && !is_cjk_letter('，'));
    }
}
