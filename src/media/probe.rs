//! What a media file holds, as the renderer sees it: duration, container, and the video and
//! audio streams [`crate::media::render::render`] would use (cover art is not video), with the
//! frame rate the cut points snap to ([`VideoInfo::frame_rate`]).
//!
//! ```no_run
//! use subcut::media::probe::probe;
//! let info = probe(std::path::Path::new("talk.mp4"))?;
//! if let Some(v) = &info.video {
//!     println!("{}x{} at {:?} fps", v.width, v.height, v.frame_rate);
//! }
//! println!("the cut is written as .{}", info.output_extension());
//! # Ok::<(), subcut::media::MediaError>(())
//! ```

use std::ffi::CStr;
use std::path::Path;
use std::ptr;

use ffmpeg_next as ffmpeg;
use serde::Serialize;

use ffmpeg::{codec, ffi, format, media, ChannelLayout, Rational, Rescale};

use super::{check_input, init, start_us, MediaError, MICROS};
use crate::edit::FrameRate;
use crate::time::Time;

/// What [`probe`] finds out about a media file.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MediaInfo {
    /// Container duration (0 when unknown); the player's timeline runs from 0 to this.
    pub duration: Time,
    /// The container format (FFmpeg's short name, e.g. `mov,mp4,m4a,3gp,3g2,mj2`).
    pub format: String,
    /// The input's file extension, lower case (may be empty).
    pub extension: String,
    /// The video stream, `None` for audio-only input.
    pub video: Option<VideoInfo>,
    /// The audio stream, `None` for silent video.
    pub audio: Option<AudioInfo>,
    /// The embedded start timecode as FFmpeg reports it (`10:00:00:00`, `01:00:00;00` for
    /// drop-frame): the `timecode` tag of the video stream, else of the container, else of
    /// a timecode (`tmcd`) or other data stream. `None` when the file has none.
    pub timecode: Option<String>,
}

/// The video stream the renderer would use (cover art is not video).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VideoInfo {
    /// FFmpeg's codec name, e.g. `h264`.
    pub(crate) codec: String,
    /// Coded frame width in pixels (before the aspect ratio and rotation are applied).
    pub width: u32,
    /// Coded frame height in pixels.
    pub height: u32,
    /// FFmpeg's pixel format name, e.g. `yuv420p` (empty when unknown).
    pub pix_fmt: String,
    /// Sample (pixel) aspect ratio; 0/1 when unknown (square pixels assumed).
    pub sar: Ratio,
    /// The rate the renderer uses: `r_frame_rate` for constant-rate video, else
    /// `avg_frame_rate` (`None` when the stream declares neither).
    pub frame_rate: Option<FrameRate>,
    /// The stream's declared `r_frame_rate`, reduced (`None` when unknown, e.g. FFmpeg's
    /// `0/0`).
    pub(crate) r_frame_rate: Option<FrameRate>,
    /// The stream's declared `avg_frame_rate`, reduced (`None` when unknown).
    pub(crate) avg_frame_rate: Option<FrameRate>,
    /// `r_frame_rate` and `avg_frame_rate` disagree by more than 1%.
    pub variable_frame_rate: bool,
    /// Display rotation in degrees, counter-clockwise, as ffprobe reports it (0 if none).
    pub rotation: f64,
    /// Where the video stream starts on the player timeline.
    pub start: Time,
    /// The number of frames, when the container says (`nb_frames`), else from the stream's
    /// duration at [`frame_rate`](Self::frame_rate); `None` when neither is known.
    pub frames: Option<i64>,
}

/// A ratio `num / den` as FFmpeg gives it (not reduced), e.g. the sample aspect ratio.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Ratio {
    /// Numerator.
    pub num: i32,
    /// Denominator.
    pub den: i32,
}

impl From<Rational> for Ratio {
    fn from(r: Rational) -> Self {
        Ratio {
            num: r.numerator(),
            den: r.denominator(),
        }
    }
}

/// The audio stream the renderer would use.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AudioInfo {
    /// FFmpeg's codec name, e.g. `aac`.
    pub(crate) codec: String,
    /// Samples per second per channel, in Hz.
    pub sample_rate: u32,
    /// Number of channels.
    pub channels: u16,
    /// FFmpeg's name for the channel layout, e.g. `stereo` (the default layout for the
    /// channel count when the stream declares none).
    pub channel_layout: String,
    /// Where the audio stream starts on the player timeline.
    pub start: Time,
}

impl MediaInfo {
    /// Whether the input has a video stream (cover art does not count).
    pub fn has_video(&self) -> bool {
        self.video.is_some()
    }
    /// Whether the input has an audio stream.
    pub fn has_audio(&self) -> bool {
        self.audio.is_some()
    }
    /// The extension the rendered cut should have: `mp4` for video; for audio-only input
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
pub fn probe(input: &Path) -> Result<MediaInfo, MediaError> {
    check_input(input)?;
    init().map_err(|message| MediaError::Unreadable {
        path: input.into(),
        message,
    })?;
    let ictx = open_input(input)?;
    Ok(describe(&ictx, input))
}

/// The extension the rendered cut of `input` should have (see
/// [`MediaInfo::output_extension`]).
pub fn output_extension(input: &Path) -> Result<&'static str, MediaError> {
    Ok(probe(input)?.output_extension())
}

/// Opens the container (anything FFmpeg refuses is "not media").
pub(crate) fn open_input(path: &Path) -> Result<format::context::Input, MediaError> {
    format::input(path).map_err(|e| MediaError::NotMedia {
        path: path.into(),
        reason: e.to_string(),
    })
}

/// The best video stream that is a real video (not cover art).
pub(crate) fn video_stream(ictx: &format::context::Input) -> Option<usize> {
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

/// The constant frame rate to render at, if the stream has one: `r_frame_rate` when it and
/// `avg_frame_rate` agree within 1% (or only one of them is known). The rates are FFmpeg's,
/// as the stream declares them (the encoder's time base is made from the one chosen).
pub(crate) fn constant_rate(r: Rational, avg: Rational) -> Option<Rational> {
    let valid = |q: Rational| q.numerator() > 0 && q.denominator() > 0;
    let fps = |q: Rational| q.numerator() as f64 / q.denominator() as f64;
    match (valid(r), valid(avg)) {
        (true, true) if (fps(avg) / fps(r) - 1.0).abs() < 0.01 => Some(r),
        (true, false) => Some(r),
        (false, true) => Some(avg),
        _ => None,
    }
}

/// FFmpeg's rate as the core's exact, reduced frame rate (`None` unless both parts are
/// positive).
pub(crate) fn frame_rate(r: Rational) -> Option<FrameRate> {
    FrameRate::new(
        u32::try_from(r.numerator()).ok()?,
        u32::try_from(r.denominator()).ok()?,
    )
}

/// The sample aspect ratio FFmpeg guesses from the stream and its codec parameters.
pub(crate) fn sample_aspect_ratio(
    ictx: &format::context::Input,
    st: &format::stream::Stream,
) -> Rational {
    // SAFETY: FFmpeg's guess from stream and codec parameters.
    unsafe {
        ffi::av_guess_sample_aspect_ratio(
            ictx.as_ptr() as *mut _,
            st.as_ptr() as *mut _,
            ptr::null_mut(),
        )
    }
    .into()
}

/// The stream's display rotation in degrees, counter-clockwise, as ffprobe reports it (0 if
/// none).
pub(crate) fn rotation(st: &format::stream::Stream) -> f64 {
    st.side_data()
        .find(|sd| sd.kind() == codec::packet::side_data::Type::DisplayMatrix)
        .filter(|sd| sd.data().len() >= 36)
        // SAFETY: a display matrix is 9 int32 values.
        .map(|sd| unsafe { ffi::av_display_rotation_get(sd.data().as_ptr() as *const i32) })
        .filter(|r| r.is_finite())
        .map(|r| if r == 0.0 { 0.0 } else { r })
        .unwrap_or(0.0)
}

pub(crate) fn describe(ictx: &format::context::Input, path: &Path) -> MediaInfo {
    let origin = start_us(ictx);
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
        let sar = sample_aspect_ratio(ictx, &st);
        let (r, avg) = (st.rate(), st.avg_frame_rate());
        let cfr = constant_rate(r, avg);
        let rotation = rotation(&st);
        let frames = match st.frames() {
            n if n > 0 => Some(n),
            _ => match (st.duration(), frame_rate(cfr.unwrap_or(avg))) {
                (d, Some(fps)) if d > 0 && d != ffi::AV_NOPTS_VALUE => {
                    Some(fps.frame_round(Time(d.rescale(st.time_base(), MICROS))))
                }
                _ => None,
            },
        };
        VideoInfo {
            codec: p.id().name().to_string(),
            width: w,
            height: h,
            pix_fmt,
            sar: sar.into(),
            frame_rate: frame_rate(cfr.unwrap_or(avg)),
            r_frame_rate: frame_rate(r),
            avg_frame_rate: frame_rate(avg),
            variable_frame_rate: cfr.is_none(),
            rotation,
            start: start_of(&st),
            frames,
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
    let timecode = start_timecode(ictx, video_stream(ictx));
    MediaInfo {
        duration: Time(ictx.duration().max(0)),
        format: ictx.format().name().to_string(),
        extension: path
            .extension()
            .map(|e| e.to_string_lossy().to_lowercase())
            .unwrap_or_default(),
        video,
        audio,
        timecode,
    }
}

/// The embedded start timecode (see [`MediaInfo::timecode`]): the video stream's
/// `timecode` tag, the container's, or a data stream's (MOV/MP4 `tmcd` tracks).
fn start_timecode(ictx: &format::context::Input, video: Option<usize>) -> Option<String> {
    let tag = |m: ffmpeg::DictionaryRef| -> Option<String> {
        m.get("timecode")
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
    };
    video
        .and_then(|i| ictx.stream(i))
        .and_then(|st| tag(st.metadata()))
        .or_else(|| tag(ictx.metadata()))
        .or_else(|| {
            ictx.streams()
                .filter(|st| st.parameters().medium() == media::Type::Data)
                .find_map(|st| tag(st.metadata()))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_rate_needs_the_two_rates_to_agree() {
        let pal = Rational(25, 1);
        assert_eq!(constant_rate(pal, pal), Some(pal));
        assert_eq!(
            constant_rate(Rational(30, 1), Rational(2987, 100)),
            Some(Rational(30, 1))
        );
        assert_eq!(constant_rate(Rational(25, 1), Rational(16, 1)), None);
        // Only one known: that one; neither: none.
        assert_eq!(constant_rate(Rational(0, 0), pal), Some(pal));
        assert_eq!(constant_rate(pal, Rational(0, 1)), Some(pal));
        assert_eq!(constant_rate(Rational(0, 0), Rational(0, 1)), None);
    }

    #[test]
    fn frame_rates_become_the_cores() {
        assert_eq!(
            frame_rate(Rational(60_000, 2_002)),
            FrameRate::new(30_000, 1_001)
        );
        assert_eq!(frame_rate(Rational(0, 0)), None);
        assert_eq!(frame_rate(Rational(-25, 1)), None);
        assert_eq!(frame_rate(Rational(25, 0)), None);
    }

    #[test]
    fn output_extensions() {
        let audio_only = |ext: &str| MediaInfo {
            duration: Time::ZERO,
            format: String::new(),
            extension: ext.into(),
            video: None,
            audio: None,
            timecode: None,
        };
        assert_eq!(audio_only("mp3").output_extension(), "mp3");
        assert_eq!(audio_only("wma").output_extension(), "m4a");
        assert_eq!(audio_only("").output_extension(), "m4a");
    }
}
