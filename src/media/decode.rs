//! Decoding any container FFmpeg can read into 16 kHz mono `f32` samples on the media timeline.
//!
//! This is the input edge of subcut: whisper wants 16 kHz mono `f32`, and every later stage
//! (speech detection, segmentation, cutting) reasons in [`Time`] on the *media* timeline, the
//! one a player shows. So the contract of [`decode_audio`] is: `samples[i]` is the sound at
//! media time `i / 16000` s, where media time 0 is the container's `start_time`.
//!
//! How it works:
//! - Demux with libavformat, reading packet by packet with `Packet::read` (read errors surface,
//!   nothing is buffered beyond one packet). Only the best audio stream is read; every other
//!   stream is set to `AVDISCARD_ALL`, so the demuxer skips video payloads cheaply.
//! - Decode with send/receive, matching `EAGAIN` and `EOF` explicitly; the decoder gets the
//!   stream's packet time base, so encoder priming (AAC, Opus, MP3 gapless info) is dropped and
//!   frame timestamps stay exact.
//! - Resample with libswresample to 16 kHz mono `f32` (`rematrix_maxval = 1`, so a stereo
//!   downmix is the channel average and never exceeds full scale). The resampler is built from
//!   the first decoded frame and rebuilt when format, rate or layout change; an empty channel
//!   layout (WAV) becomes `ChannelLayout::default(channels)`. Before a rebuild and at the end it
//!   is flushed into a frame allocated with `Audio::new(fmt, delay.output, layout)`.
//! - Timing is honest. Each resampled run ("segment") is placed at the output index its first
//!   frame's timestamp names: an audio stream that starts after the container start gets leading
//!   silence, one that starts before it (negative or early timestamps) is trimmed. Within the
//!   stream, every frame's timestamp is compared with where the decoded sample count puts it;
//!   when they disagree by more than 40 ms the timestamps win: a hole is filled with silence, an
//!   overlap (e.g. priming frames left in a concatenation) is dropped. Smaller jitter is ignored
//!   so the audio stays contiguous, and a backward jump of more than 1 s is taken as a
//!   discontinuity (timestamp reset): the audio continues and later timestamps are shifted.
//! - Failures are one-line [`MediaError`]s that name the file: missing file, not media, no audio
//!   stream, truncated/corrupt (including audio that ends well before the duration the container
//!   declares for the stream), and audio with no samples. FFmpeg's own log printing is
//!   silenced; on x86-64 its last error line is captured to explain open failures (e.g. "moov
//!   atom not found").
//!
//! ```no_run
//! use subcut::media::decode::{decode_audio, SAMPLE_RATE};
//! let audio = decode_audio(std::path::Path::new("talk.mp4"))?;
//! assert_eq!(SAMPLE_RATE, 16_000);
//! println!("{} samples, {}", audio.samples.len(), audio.duration());
//! # Ok::<(), subcut::media::decode::MediaError>(())
//! ```

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use ffmpeg_next as ffmpeg;

use ffmpeg::error::EAGAIN;
use ffmpeg::format::sample::Type as SampleType;
use ffmpeg::format::Sample;
use ffmpeg::software::resampling;
use ffmpeg::{
    codec, ffi, format, frame, media, ChannelLayout, Dictionary, Packet, Rational, Rescale,
};

use super::{check_input, init, log_capture, start_us, MICROS};
use crate::time::Time;

/// The sample rate of [`Audio::samples`] (what whisper expects).
pub use crate::time::SAMPLE_RATE;

/// When timestamps and the decoded sample count disagree by more than this, the timestamps win:
/// a hole is filled with silence, an overlap is dropped. The renderer places audio by this rule
/// and [`MAX_BACKWARD`]'s too, so analysis and render share one timeline.
pub(crate) const GAP_FILL: Time = Time::from_millis(40);
/// A backward timestamp jump larger than this is a discontinuity (reset, concatenation), not an
/// overlap: the audio continues contiguously instead.
pub(crate) const MAX_BACKWARD: Time = Time::from_millis(1_000);
/// Audio ending this much (or 1% of the declared duration, if more) before the duration the
/// container declares for the stream is reported as truncated.
const TRUNCATION_SLACK: Time = Time::from_millis(1_000);
/// How many bytes of a file that FFmpeg refused to open are probed to tell "not media" from
/// "broken media".
const PROBE_BYTES: usize = 64 * 1024;

/// Decoded audio: 16 kHz mono `f32`, `samples[0]` at media time 0.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Audio {
    /// 16 kHz mono samples in [-1, 1]; index 0 is media time 0 (the container's start time).
    pub samples: Vec<f32>,
    /// The media's duration as the container declares it (the longest stream, e.g. the video),
    /// or the decoded audio's duration when the container does not say.
    pub media_duration: Time,
    /// Sample rate of the source audio stream (of its first frame).
    pub source_rate: u32,
    /// Channel count of the source audio stream (of its first frame).
    pub source_channels: u16,
    /// FFmpeg's name of the source codec (`aac`, `mp3`, `opus`, `pcm_s16le`, ...).
    pub source_codec: String,
    /// Where the audio stream's first sample lies on the media timeline (> 0: leading silence
    /// was inserted; 0 when the audio starts with the media or was trimmed to it).
    pub audio_start: Time,
    /// Source samples that were NaN or infinite (a broken float stream), read as silence so
    /// that no stage after the decoder sees them; 0 for a sound file.
    pub non_finite: usize,
}

impl Audio {
    /// Length of [`Audio::samples`] as time.
    pub fn duration(&self) -> Time {
        Time::from_samples(self.samples.len(), SAMPLE_RATE)
    }
}

/// Why a file could not be decoded. Each message is one line that starts with the path.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The path does not exist.
    #[error("{}: no such file", .path.display())]
    NotFound {
        /// The input file.
        path: PathBuf,
    },
    /// The file exists but cannot be read (permissions, a directory, an I/O error).
    #[error("{}: cannot read: {message}", .path.display())]
    Unreadable {
        /// The input file.
        path: PathBuf,
        /// Why, e.g. `permission denied` or `is a directory`.
        message: String,
    },
    /// FFmpeg does not recognise the file as media.
    #[error("{}: not a media file FFmpeg can read ({reason})", .path.display())]
    NotMedia {
        /// The input file.
        path: PathBuf,
        /// FFmpeg's refusal, or `the file is empty`.
        reason: String,
    },
    /// The file is media but has no audio stream; `found` says what it has instead.
    #[error("{}: no audio stream ({found})", .path.display())]
    NoAudio {
        /// The input file.
        path: PathBuf,
        /// The streams the file has, e.g. `video only`.
        found: String,
    },
    /// The file looks like media but is cut short or damaged.
    #[error("{}: truncated or corrupt media: {detail}", .path.display())]
    Truncated {
        /// The input file.
        path: PathBuf,
        /// What is missing or damaged, and where.
        detail: String,
    },
    /// The audio stream decodes to zero samples.
    #[error("{}: audio stream has no samples", .path.display())]
    Empty {
        /// The input file.
        path: PathBuf,
    },
    /// The audio stream cannot be decoded or resampled (unsupported codec, FFmpeg failure).
    #[error("{}: cannot decode audio: {detail}", .path.display())]
    Decode {
        /// The input file.
        path: PathBuf,
        /// What failed (FFmpeg's message where it gave one).
        detail: String,
    },
}

impl MediaError {
    /// The file the error is about.
    pub(crate) fn path(&self) -> &Path {
        match self {
            MediaError::NotFound { path }
            | MediaError::Unreadable { path, .. }
            | MediaError::NotMedia { path, .. }
            | MediaError::NoAudio { path, .. }
            | MediaError::Truncated { path, .. }
            | MediaError::Empty { path }
            | MediaError::Decode { path, .. } => path,
        }
    }
}

/// Decodes the best audio stream of `path` to 16 kHz mono `f32` on the media timeline.
pub fn decode_audio(path: &Path) -> Result<Audio, MediaError> {
    decode_audio_with_progress(path, &mut |_| {})
}

/// Same as [`decode_audio`], calling `progress(done_fraction)` (0.0..=1.0, non-decreasing) now
/// and then, and with 1.0 once decoding succeeded.
pub(crate) fn decode_audio_with_progress(
    path: &Path,
    progress: &mut dyn FnMut(f32),
) -> Result<Audio, MediaError> {
    Decoding::new(path).run(progress)
}

/// One decode of one file: the path for error messages and the error constructors.
struct Decoding<'p> {
    path: &'p Path,
}

/// The opened input, its best audio stream and that stream's decoder.
struct Opened {
    /// Declared before `input`, so it is dropped first.
    decoder: codec::decoder::Audio,
    input: format::context::Input,
    /// The audio stream's index and time base.
    index: usize,
    time_base: Rational,
    /// The container's start time in microseconds: media time 0.
    origin_us: i64,
    /// The container's duration, when it declares one that can be trusted.
    container_duration: Option<Time>,
    /// Where the container says the audio stream ends, on the media timeline.
    declared_end: Option<Time>,
    codec_name: String,
}

impl<'p> Decoding<'p> {
    fn new(path: &'p Path) -> Self {
        Decoding { path }
    }

    fn p(&self) -> PathBuf {
        self.path.to_path_buf()
    }
    fn truncated(&self, detail: impl Into<String>) -> MediaError {
        MediaError::Truncated {
            path: self.p(),
            detail: detail.into(),
        }
    }
    fn decode_err(&self, detail: impl Into<String>) -> MediaError {
        MediaError::Decode {
            path: self.p(),
            detail: detail.into(),
        }
    }

    fn run(&self, progress: &mut dyn FnMut(f32)) -> Result<Audio, MediaError> {
        check_input(self.path)?;
        init().map_err(|e| self.decode_err(e))?;
        let mut opened = self.open_stream()?;
        let (timeline, stats) = self.decode_all(&mut opened, progress)?;
        self.check_complete(&opened, &timeline, &stats)?;
        progress(1.0);
        let audio_start = timeline.first_start.unwrap_or(Time::ZERO).max(Time::ZERO);
        let (source_rate, source_channels) = timeline.source.unwrap_or((0, 0));
        let mut audio = Audio {
            samples: timeline.out,
            media_duration: Time::ZERO,
            source_rate,
            source_channels,
            source_codec: opened.codec_name,
            audio_start,
            non_finite: timeline.non_finite,
        };
        audio.media_duration = opened
            .container_duration
            .unwrap_or_else(|| audio.duration());
        Ok(audio)
    }

    /// Opens the container and the decoder of its best audio stream; every other stream is
    /// discarded by the demuxer.
    fn open_stream(&self) -> Result<Opened, MediaError> {
        let mut input = self.open()?;
        let origin_us = start_us(&input);
        // Durations FFmpeg merely estimated from the bitrate (headerless MP3) are not trusted.
        let durations_trusted = unsafe {
            (*input.as_ptr()).duration_estimation_method
                != ffi::AVDurationEstimationMethod::AVFMT_DURATION_FROM_BITRATE
        };
        let container_duration =
            (input.duration() > 0 && durations_trusted).then(|| Time(input.duration()));

        let stream = match input.streams().best(media::Type::Audio) {
            Some(s) => s,
            None => {
                return Err(MediaError::NoAudio {
                    path: self.p(),
                    found: describe_streams(&input),
                })
            }
        };
        let index = stream.index();
        let time_base = stream.time_base();
        let declared_end = (durations_trusted && stream.duration() > 0).then(|| {
            let start = match stream.start_time() {
                t if t == ffi::AV_NOPTS_VALUE => 0,
                t => t,
            };
            Time((start + stream.duration()).rescale(time_base, MICROS) - origin_us)
        });
        let codec_id = stream.parameters().id();
        let codec_name = codec_id.name().to_string();

        let mut context = codec::context::Context::from_parameters(stream.parameters())
            .map_err(|e| self.decode_err(format!("{codec_name}: {e}")))?;
        if codec::decoder::find(codec_id).is_none() {
            return Err(self.decode_err(format!("no decoder for the {codec_name} codec")));
        }
        context.set_time_base(time_base);
        let mut decoder = context.decoder();
        decoder.set_packet_time_base(time_base);
        let decoder = decoder.audio().map_err(|e| {
            self.decode_err(format!(
                "cannot open the {codec_name} decoder: {}",
                ffmpeg_why(e)
            ))
        })?;

        // Read only the audio stream's payloads.
        for i in 0..input.nb_streams() as usize {
            if i != index {
                if let Some(mut s) = input.stream_mut(i) {
                    unsafe { (*s.as_mut_ptr()).discard = ffi::AVDiscard::AVDISCARD_ALL };
                }
            }
        }
        Ok(Opened {
            decoder,
            input,
            index,
            time_base,
            origin_us,
            container_duration,
            declared_end,
            codec_name,
        })
    }

    /// Reads, decodes and resamples the whole audio stream onto the media timeline, then
    /// flushes decoder and resampler.
    fn decode_all(
        &self,
        o: &mut Opened,
        progress: &mut dyn FnMut(f32),
    ) -> Result<(Timeline, Stats), MediaError> {
        let io_size = o.input.io_size().filter(|&n| n > 0);
        let mut timeline = Timeline::new(o.origin_us, o.time_base);
        if let Some(d) = o.container_duration {
            // Avoid regrowing a long recording's sample buffer (capped at 6 h up front).
            let expected = d
                .min(Time::from_secs_f64(6.0 * 3600.0))
                .to_samples(SAMPLE_RATE);
            timeline.out.reserve(expected + SAMPLE_RATE as usize);
        }
        let mut frame = frame::Audio::empty();
        let mut packet = Packet::empty();
        let mut stats = Stats::default();
        let mut last_progress = 0.0f32;

        loop {
            match packet.read(&mut o.input) {
                Ok(()) => {}
                Err(ffmpeg::Error::Eof) => break,
                // A damaged packet: the demuxer can resync (as the ffmpeg CLI does).
                Err(ffmpeg::Error::InvalidData) => {
                    stats.bad_packets += 1;
                    if stats.bad_packets > 1_000 {
                        return Err(self.truncated(format!(
                            "too much unreadable data (audio decoded up to {})",
                            secs(timeline.decoded_end())
                        )));
                    }
                    continue;
                }
                Err(e) => {
                    return Err(self.truncated(format!(
                        "read error after {}: {}",
                        secs(timeline.decoded_end()),
                        ffmpeg_why(e)
                    )))
                }
            }
            if packet.stream() != o.index {
                continue;
            }
            stats.packets += 1;

            match o.decoder.send_packet(&packet) {
                Ok(()) => {}
                Err(ffmpeg::Error::InvalidData) => stats.bad_packets += 1,
                Err(e) => {
                    return Err(self.decode_err(format!(
                        "{} decoder failed after {}: {}",
                        o.codec_name,
                        secs(timeline.decoded_end()),
                        ffmpeg_why(e)
                    )))
                }
            }
            self.drain(&mut o.decoder, &mut frame, &mut timeline, &mut stats)?;

            // Progress: by time when the duration is known, else by bytes.
            let done = match (o.container_duration, packet.pts(), io_size) {
                (Some(d), Some(pts), _) if d.0 > 0 => {
                    (pts.rescale(o.time_base, MICROS) - o.origin_us) as f64 / d.0 as f64
                }
                (_, _, Some(size)) if packet.position() >= 0 => {
                    packet.position() as f64 / size as f64
                }
                _ => 0.0,
            };
            let done = (done.clamp(0.0, 1.0) as f32).max(last_progress);
            if done - last_progress >= 0.01 {
                last_progress = done;
                progress(done);
            }
        }

        // Drain the decoder: EOF in, frames out until it says EOF.
        match o.decoder.send_eof() {
            Ok(()) | Err(ffmpeg::Error::Eof) => {}
            Err(e) => return Err(self.decode_err(format!("flushing the decoder: {e}"))),
        }
        self.drain(&mut o.decoder, &mut frame, &mut timeline, &mut stats)?;
        timeline
            .finish()
            .map_err(|e| self.decode_err(format!("resampler flush: {e}")))?;
        Ok((timeline, stats))
    }

    /// The decoded audio reaches the end the container declares, most packets decoded, and
    /// there is sound at all.
    fn check_complete(
        &self,
        o: &Opened,
        timeline: &Timeline,
        stats: &Stats,
    ) -> Result<(), MediaError> {
        let decoded_end = timeline.decoded_end();
        if let Some(end) = o.declared_end {
            let slack = TRUNCATION_SLACK.max(Time(end.0 / 100));
            if end.0 > 0 && decoded_end + slack < end {
                return Err(self.truncated(format!(
                    "audio ends at {} of {}",
                    secs(decoded_end),
                    secs(end)
                )));
            }
        }
        if stats.packets >= 10 && stats.bad_packets * 2 > stats.packets {
            return Err(self.truncated(format!(
                "{} of {} audio packets could not be decoded",
                stats.bad_packets, stats.packets
            )));
        }
        if timeline.frames == 0 || timeline.out.is_empty() {
            return Err(MediaError::Empty { path: self.p() });
        }
        Ok(())
    }

    /// Receives every frame the decoder has ready and feeds it to the timeline.
    fn drain(
        &self,
        decoder: &mut codec::decoder::Audio,
        frame: &mut frame::Audio,
        timeline: &mut Timeline,
        stats: &mut Stats,
    ) -> Result<(), MediaError> {
        loop {
            match decoder.receive_frame(frame) {
                Ok(()) => timeline.push(frame).map_err(|e| {
                    self.decode_err(format!(
                        "resampling {} Hz {:?} audio: {e}",
                        frame.rate(),
                        frame.format()
                    ))
                })?,
                Err(ffmpeg::Error::Other { errno }) if errno == EAGAIN => return Ok(()),
                Err(ffmpeg::Error::Eof) => return Ok(()),
                Err(ffmpeg::Error::InvalidData) => stats.bad_packets += 1,
                Err(e) => {
                    return Err(self.decode_err(format!(
                        "decoding failed after {}: {}",
                        secs(timeline.decoded_end()),
                        ffmpeg_why(e)
                    )))
                }
            }
        }
    }

    /// Opens the container; on failure tells "not media" from "media that is broken".
    fn open(&self) -> Result<format::context::Input, MediaError> {
        log_capture::take();
        let err = match format::input(self.path) {
            Ok(input) => return Ok(input),
            Err(e) => e,
        };
        let logged = log_capture::take();
        if err
            == (ffmpeg::Error::Other {
                errno: libc_enoent(),
            })
        {
            return Err(MediaError::NotFound { path: self.p() });
        }
        let why = match &logged {
            Some(line) => format!("{line} ({err})"),
            None => err.to_string(),
        };
        match self.probe_score() {
            Some(score) if score >= ffi::AVPROBE_SCORE_MAX / 4 => {
                Err(self.truncated(format!("cannot open: {why}")))
            }
            _ => Err(MediaError::NotMedia {
                path: self.p(),
                reason: err.to_string(),
            }),
        }
    }

    /// How sure FFmpeg is that the file's first bytes are some media format (0..=100), judged
    /// by content only (the file name's extension is not offered).
    fn probe_score(&self) -> Option<i32> {
        let mut head = Vec::with_capacity(PROBE_BYTES);
        File::open(self.path)
            .ok()?
            .take(PROBE_BYTES as u64)
            .read_to_end(&mut head)
            .ok()?;
        let len = head.len();
        head.resize(len + ffi::AVPROBE_PADDING_SIZE as usize, 0);
        let name = c"";
        let pd = ffi::AVProbeData {
            filename: name.as_ptr(),
            buf: head.as_mut_ptr(),
            buf_size: len as i32,
            mime_type: std::ptr::null(),
        };
        let mut score = 0;
        let fmt = unsafe { ffi::av_probe_input_format3(&pd, 1, &mut score) };
        Some(if fmt.is_null() { 0 } else { score })
    }
}

#[derive(Default)]
struct Stats {
    packets: usize,
    bad_packets: usize,
}

/// What identifies a resampler's input.
#[derive(Clone, Copy, PartialEq, Eq)]
struct InputKey {
    format: Sample,
    layout: u64,
    channels: u16,
    rate: u32,
}

/// Resamples decoded frames and places them on the 16 kHz media timeline.
struct Timeline {
    out: Vec<f32>,
    /// Output index where the next resampled sample goes; may be negative (trimmed).
    write_pos: i64,
    resampler: Option<(resampling::Context, InputKey)>,
    /// Reusable output frame and its allocated capacity in samples.
    buf: frame::Audio,
    buf_capacity: usize,
    origin_us: i64,
    time_base: Rational,
    /// Media time where the next decoded frame is expected to start.
    next_in: Option<Time>,
    /// The current segment: output index of its first sample, input samples fed, input rate.
    seg_origin: i64,
    seg_in: u64,
    seg_rate: u32,
    /// Added to every timestamp after a backward discontinuity.
    shift: Time,
    first_start: Option<Time>,
    source: Option<(u32, u16)>,
    frames: usize,
    /// NaN or infinite source samples replaced by silence (see [`zero_non_finite`]).
    non_finite: usize,
}

fn out_format() -> Sample {
    Sample::F32(SampleType::Packed)
}

impl Timeline {
    fn new(origin_us: i64, time_base: Rational) -> Self {
        Timeline {
            out: Vec::new(),
            write_pos: 0,
            resampler: None,
            buf: frame::Audio::empty(),
            buf_capacity: 0,
            origin_us,
            time_base,
            next_in: None,
            seg_origin: 0,
            seg_in: 0,
            seg_rate: SAMPLE_RATE,
            shift: Time::ZERO,
            first_start: None,
            source: None,
            frames: 0,
            non_finite: 0,
        }
    }

    /// Media time up to which audio has been decoded.
    fn decoded_end(&self) -> Time {
        self.next_in.unwrap_or(Time::ZERO).max(Time::ZERO)
    }

    fn push(&mut self, frame: &mut frame::Audio) -> Result<(), ffmpeg::Error> {
        let n = frame.samples();
        let rate = frame.rate();
        if n == 0 || rate == 0 {
            return Ok(());
        }
        let channels = frame.channels();
        let mut layout = frame.channel_layout();
        if layout.is_empty() || layout.channels() != i32::from(channels) {
            layout = ChannelLayout::default(i32::from(channels));
            frame.set_channel_layout(layout);
        }
        let key = InputKey {
            format: frame.format(),
            layout: layout.bits(),
            channels,
            rate,
        };

        // Where this frame belongs on the output timeline, and where the current segment
        // (one resampler run) would put it.
        let mut start = match frame.pts().or_else(|| frame.timestamp()) {
            Some(pts) => Time(pts.rescale(self.time_base, MICROS) - self.origin_us) + self.shift,
            None => self.next_in.unwrap_or(Time::ZERO),
        };
        let mut target = start.to_samples_signed();
        let mut jump = false;
        if self.first_start.is_some() {
            let predicted = self.seg_origin
                + ((self.seg_in as u128 * u128::from(SAMPLE_RATE) + u128::from(self.seg_rate) / 2)
                    / u128::from(self.seg_rate)) as i64;
            let drift = target - predicted;
            if drift < -MAX_BACKWARD.to_samples_signed() {
                // Timestamps went far back (a reset or a concatenation): a discontinuity, not
                // overlap. Keep the audio contiguous and shift all later timestamps to match.
                let correction = predicted - target;
                self.shift += Time(correction * 1_000_000 / i64::from(SAMPLE_RATE));
                target = predicted;
                start = Time(predicted * 1_000_000 / i64::from(SAMPLE_RATE));
            } else {
                // More than 40 ms off: fill the hole (or drop the overlap) to stay in sync.
                jump = drift.abs() > GAP_FILL.to_samples_signed();
            }
        }
        let changed = self.resampler.as_ref().is_none_or(|(_, k)| *k != key);

        if jump || changed {
            self.flush()?;
            if self.first_start.is_none() {
                self.first_start = Some(start);
                self.source = Some((rate, channels));
                self.write_pos = target;
            } else if jump {
                self.write_pos = target;
            }
            self.seg_origin = self.write_pos;
            self.seg_in = 0;
            self.seg_rate = rate;
            let mut options = Dictionary::new();
            options.set("rematrix_maxval", "1.0");
            let ctx = resampling::Context::get_with(
                key.format,
                layout,
                rate,
                out_format(),
                ChannelLayout::MONO,
                SAMPLE_RATE,
                options,
            )?;
            self.resampler = Some((ctx, key));
        }

        let delay = self
            .resampler
            .as_ref()
            .and_then(|(r, _)| r.delay())
            .map_or(0, |d| d.output);
        let need = (n as u64 * u64::from(SAMPLE_RATE) / u64::from(rate)) as usize
            + delay.max(0) as usize
            + 64;
        self.ensure_capacity(need);
        // Before the resampler: its filter would spread one NaN over its neighbours.
        self.non_finite += zero_non_finite(frame);
        let (resampler, _) = self.resampler.as_mut().expect("resampler was just built");
        self.buf.set_samples(self.buf_capacity);
        resampler.run(frame, &mut self.buf)?;
        self.emit();

        self.frames += 1;
        self.seg_in += n as u64;
        self.next_in = Some(start + Time::from_samples(n, rate));
        Ok(())
    }

    /// Drains the resampler's buffered tail (pitfall: flush into a frame allocated with
    /// `Audio::new(fmt, delay.output, layout)`, never into an empty frame).
    fn flush(&mut self) -> Result<(), ffmpeg::Error> {
        loop {
            let Some((resampler, _)) = self.resampler.as_mut() else {
                return Ok(());
            };
            let Some(delay) = resampler.delay() else {
                break;
            };
            let want = delay.output.max(1) as usize;
            let mut tail = frame::Audio::new(out_format(), want, ChannelLayout::MONO);
            resampler.flush(&mut tail)?;
            let got = tail.samples();
            if got == 0 {
                break;
            }
            let samples = tail.plane::<f32>(0)[..got].to_vec();
            self.write(&samples);
        }
        self.resampler = None;
        Ok(())
    }

    fn finish(&mut self) -> Result<(), ffmpeg::Error> {
        self.flush()
    }

    fn ensure_capacity(&mut self, samples: usize) {
        if self.buf_capacity < samples {
            let capacity = samples.next_power_of_two();
            self.buf = frame::Audio::new(out_format(), capacity, ChannelLayout::MONO);
            self.buf_capacity = capacity;
        }
    }

    /// Moves what the resampler just produced into `out`.
    fn emit(&mut self) {
        let got = self.buf.samples();
        if got > 0 {
            place(
                &mut self.out,
                &mut self.write_pos,
                &self.buf.plane::<f32>(0)[..got],
            );
        }
    }

    fn write(&mut self, samples: &[f32]) {
        place(&mut self.out, &mut self.write_pos, samples);
    }
}

/// Replaces the NaN and infinite samples of a float frame by silence; returns how many there
/// were. Integer formats cannot hold them.
fn zero_non_finite(frame: &mut frame::Audio) -> usize {
    let (width, planar) = match frame.format() {
        Sample::F32(t) => (4, t == SampleType::Planar),
        Sample::F64(t) => (8, t == SampleType::Planar),
        _ => return 0,
    };
    let (planes, per_plane) = match planar {
        true => (usize::from(frame.channels()), frame.samples()),
        false => (1, frame.samples() * usize::from(frame.channels())),
    };
    let mut n = 0;
    for i in 0..planes.min(frame.planes()) {
        let data = frame.data_mut(i);
        let len = (per_plane * width).min(data.len());
        for b in data[..len].chunks_exact_mut(width) {
            let finite = match width {
                4 => f32::from_ne_bytes([b[0], b[1], b[2], b[3]]).is_finite(),
                _ => f64::from_ne_bytes(b.try_into().unwrap_or([0; 8])).is_finite(),
            };
            if !finite {
                b.fill(0);
                n += 1;
            }
        }
    }
    n
}

/// Writes `samples` at output index `*pos`, then advances `*pos`: pads with silence up to
/// `*pos`, drops the part that lies before index 0 or over what is already written (earlier
/// audio wins an overlap), appends the rest.
fn place(out: &mut Vec<f32>, pos: &mut i64, samples: &[f32]) {
    let skip = (out.len() as i64 - *pos).clamp(0, samples.len() as i64) as usize;
    if *pos > out.len() as i64 {
        out.resize(*pos as usize, 0.0);
    }
    out.extend_from_slice(&samples[skip..]);
    *pos += samples.len() as i64;
}

trait SignedSamples {
    fn to_samples_signed(self) -> i64;
}
impl SignedSamples for Time {
    /// The nearest 16 kHz sample index, negative for times before 0.
    fn to_samples_signed(self) -> i64 {
        let num = self.0 as i128 * i128::from(SAMPLE_RATE);
        let half = 500_000i128 * num.signum();
        ((num + half) / 1_000_000) as i64
    }
}

/// "video only", "video and subtitle only", "no streams at all".
fn describe_streams(input: &format::context::Input) -> String {
    let mut kinds: Vec<&str> = Vec::new();
    for s in input.streams() {
        let kind = match s.parameters().medium() {
            media::Type::Video => "video",
            media::Type::Subtitle => "subtitles",
            media::Type::Data => "data",
            media::Type::Attachment => "attachments",
            _ => "unknown streams",
        };
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    match kinds.as_slice() {
        [] => "no streams at all".into(),
        [only] => format!("{only} only"),
        [rest @ .., last] => format!("{} and {last} only", rest.join(", ")),
    }
}

fn secs(t: Time) -> String {
    format!("{:.1} s", t.as_secs_f64())
}

/// FFmpeg's error, preceded by the last line FFmpeg logged if it explains more.
fn ffmpeg_why(e: ffmpeg::Error) -> String {
    match log_capture::take() {
        Some(line) if !line.is_empty() => format!("{line} ({e})"),
        _ => e.to_string(),
    }
}

fn libc_enoent() -> i32 {
    ffmpeg::error::ENOENT
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f32::consts::PI;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");

    fn fixture(name: &str) -> PathBuf {
        Path::new(FIXTURES).join(name)
    }

    /// (duration, speech intervals, pauses) from a fixture's `*.truth.json`, in seconds.
    struct Truth {
        duration: f64,
        speech: Vec<(f64, f64)>,
        pauses: Vec<(f64, f64)>,
    }

    fn truth(name: &str) -> Truth {
        let text = std::fs::read_to_string(fixture(name)).expect("truth file");
        let v: serde_json::Value = serde_json::from_str(&text).expect("truth JSON");
        let pairs = |key: &str| -> Vec<(f64, f64)> {
            v[key]
                .as_array()
                .expect(key)
                .iter()
                .map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
                .collect()
        };
        Truth {
            duration: v["duration"].as_f64().unwrap(),
            speech: pairs("speech"),
            pauses: pairs("pauses"),
        }
    }

    fn rms(samples: &[f32], from: f64, to: f64) -> f32 {
        let a = ((from * SAMPLE_RATE as f64).round() as usize).min(samples.len());
        let b = ((to * SAMPLE_RATE as f64).round() as usize).min(samples.len());
        assert!(
            b > a,
            "empty window {from}..{to} (have {} samples)",
            samples.len()
        );
        let w = &samples[a..b];
        (w.iter().map(|x| x * x).sum::<f32>() / w.len() as f32).sqrt()
    }

    /// The first 10 ms window at or after `from` whose RMS exceeds `threshold`, in seconds.
    fn onset(samples: &[f32], from: f64, threshold: f32) -> Option<f64> {
        let start = (from * SAMPLE_RATE as f64) as usize;
        samples[start..]
            .chunks(160)
            .position(|c| {
                (c.iter().map(|x| x * x).sum::<f32>() / c.len() as f32).sqrt() > threshold
            })
            .map(|i| from + i as f64 * 0.01)
    }

    /// Checks a decoded fixture against its truth: length, loud speech, quiet pauses and edges.
    fn check_against_truth(audio: &Audio, t: &Truth) {
        let s = &audio.samples;
        let got = audio.duration().as_secs_f64();
        assert!(
            (got - t.duration).abs() <= 0.05,
            "duration {got} vs truth {}",
            t.duration
        );
        for &(a, b) in &t.speech {
            let r = rms(s, a, b);
            assert!(r > 0.05, "speech {a}..{b} has RMS {r}");
            // Speech starts where the truth says, within 20 ms (the fixtures measure < 10 ms).
            let on = onset(s, (a - 0.3).max(0.0), 0.01).expect("speech onset");
            assert!((on - a).abs() <= 0.02, "speech onset at {on}, truth {a}");
        }
        let mut quiet = t.pauses.clone();
        quiet.push((0.0, t.speech[0].0));
        quiet.push((t.speech.last().unwrap().1, t.duration));
        for &(a, b) in &quiet {
            let r = rms(s, a + 0.03, b - 0.03);
            assert!(r < 0.002, "pause {a}..{b} has RMS {r}");
        }
    }

    #[test]
    fn talk_mp4_matches_its_truth() {
        let audio = decode_audio(&fixture("talk.mp4")).unwrap();
        let t = truth("talk.truth.json");
        assert_eq!((audio.source_rate, audio.source_channels), (44_100, 2));
        assert_eq!(audio.source_codec, "aac");
        assert_eq!(audio.audio_start, Time::ZERO);
        assert!((audio.media_duration.as_secs_f64() - t.duration).abs() < 0.05);
        assert_eq!(t.speech.len(), 4);
        check_against_truth(&audio, &t);
        assert!(audio.samples.iter().all(|x| x.abs() <= 1.0));
    }

    #[test]
    fn voice_mp3_matches_its_truth() {
        let audio = decode_audio(&fixture("voice.mp3")).unwrap();
        assert_eq!((audio.source_rate, audio.source_channels), (22_050, 1));
        let t = truth("voice.truth.json");
        assert_eq!(t.speech.len(), 2);
        check_against_truth(&audio, &t);
    }

    #[test]
    fn late_audio_is_padded_to_the_media_timeline() {
        let audio = decode_audio(&fixture("late-audio.mkv")).unwrap();
        let t = truth("late-audio.truth.json");
        // The audio stream starts 1.5 s into the media: that much leading (digital) silence.
        assert!(
            (audio.audio_start.as_secs_f64() - 1.5).abs() < 0.02,
            "{}",
            audio.audio_start
        );
        let lead = (1.4 * SAMPLE_RATE as f64) as usize;
        assert!(
            audio.samples[..lead].iter().all(|&x| x == 0.0),
            "first 1.4 s are not zero padding"
        );
        let first = t.speech[0].0;
        assert!(first > 1.5);
        let on = onset(&audio.samples, 0.0, 0.01).unwrap();
        assert!(
            (on - first).abs() <= 0.05,
            "speech onset {on}, truth {first}"
        );
        check_against_truth(&audio, &t);
    }

    #[test]
    fn progress_is_reported_and_ends_at_one() {
        let mut seen = Vec::new();
        decode_audio_with_progress(&fixture("talk.mp4"), &mut |f| seen.push(f)).unwrap();
        assert!(seen.len() >= 3, "{seen:?}");
        assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
        assert_eq!(*seen.last().unwrap(), 1.0);
    }

    fn assert_display_names(e: &MediaError, name: &str) {
        let text = e.to_string();
        assert!(text.contains(name), "{text:?} does not name {name}");
        assert!(!text.contains('\n'), "{text:?} is not one line");
    }

    #[test]
    fn video_without_audio_is_no_audio() {
        let e = decode_audio(&fixture("bad/noaudio.mp4")).unwrap_err();
        assert!(matches!(e, MediaError::NoAudio { .. }), "{e:?}");
        assert_display_names(&e, "noaudio.mp4");
        assert!(
            e.to_string().ends_with("no audio stream (video only)"),
            "{e}"
        );
    }

    #[test]
    fn cut_faststart_mp4_is_truncated() {
        let e = decode_audio(&fixture("bad/truncated.mp4")).unwrap_err();
        assert!(matches!(e, MediaError::Truncated { .. }), "{e:?}");
        assert_display_names(&e, "truncated.mp4");
        assert!(e.to_string().contains("of 6.0 s"), "{e}");
    }

    #[test]
    fn text_file_is_not_media() {
        let e = decode_audio(&fixture("bad/not-media.mp4")).unwrap_err();
        assert!(matches!(e, MediaError::NotMedia { .. }), "{e:?}");
        assert_display_names(&e, "not-media.mp4");
    }

    #[test]
    fn wav_without_samples_is_empty() {
        let e = decode_audio(&fixture("bad/empty.wav")).unwrap_err();
        assert!(matches!(e, MediaError::Empty { .. }), "{e:?}");
        assert_display_names(&e, "empty.wav");
    }

    #[test]
    fn missing_file_is_not_found() {
        let e = decode_audio(Path::new("/definitely/not/here/talk.mp4")).unwrap_err();
        assert!(matches!(e, MediaError::NotFound { .. }), "{e:?}");
        assert_eq!(e.to_string(), "/definitely/not/here/talk.mp4: no such file");
        assert_eq!(e.path(), Path::new("/definitely/not/here/talk.mp4"));
    }

    #[test]
    fn mp4_cut_before_its_moov_is_truncated_not_foreign() {
        // talk.mp4 keeps its moov atom at the end: its first half has none.
        let bytes = std::fs::read(fixture("talk.mp4")).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let cut = dir.path().join("half.mp4");
        std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
        let e = decode_audio(&cut).unwrap_err();
        assert!(matches!(e, MediaError::Truncated { .. }), "{e:?}");
        assert_display_names(&e, "half.mp4");
        if cfg!(target_arch = "x86_64") {
            assert!(e.to_string().contains("moov atom not found"), "{e}");
        }

        let empty = dir.path().join("zero.mp4");
        std::fs::write(&empty, b"").unwrap();
        let e = decode_audio(&empty).unwrap_err();
        assert!(matches!(e, MediaError::NotMedia { .. }), "{e:?}");

        let e = decode_audio(dir.path()).unwrap_err();
        assert!(matches!(e, MediaError::Unreadable { .. }), "{e:?}");
    }

    /// Writes a 16-bit PCM WAV (plain `WAVE_FORMAT_PCM`, so FFmpeg sees no channel layout).
    fn write_wav(path: &Path, rate: u32, channels: u16, interleaved: &[i16]) {
        let data_len = (interleaved.len() * 2) as u32;
        let mut b = Vec::with_capacity(44 + data_len as usize);
        b.extend_from_slice(b"RIFF");
        b.extend_from_slice(&(36 + data_len).to_le_bytes());
        b.extend_from_slice(b"WAVEfmt ");
        b.extend_from_slice(&16u32.to_le_bytes());
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&channels.to_le_bytes());
        b.extend_from_slice(&rate.to_le_bytes());
        b.extend_from_slice(&(rate * u32::from(channels) * 2).to_le_bytes());
        b.extend_from_slice(&(channels * 2).to_le_bytes());
        b.extend_from_slice(&16u16.to_le_bytes());
        b.extend_from_slice(b"data");
        b.extend_from_slice(&data_len.to_le_bytes());
        for s in interleaved {
            b.extend_from_slice(&s.to_le_bytes());
        }
        std::fs::write(path, b).unwrap();
    }

    /// Stereo WAV: 1 kHz sine at amplitude 0.5 on the left from `tone_from` seconds, silent right.
    fn stereo_tone_wav(path: &Path, rate: u32, secs: f64, tone_from: f64) {
        let frames = (secs * rate as f64) as usize;
        let from = (tone_from * rate as f64) as usize;
        let mut pcm = Vec::with_capacity(frames * 2);
        for i in 0..frames {
            let left = if i >= from {
                let t = (i - from) as f32 / rate as f32;
                (0.5 * (2.0 * PI * 1000.0 * t).sin() * 32767.0).round() as i16
            } else {
                0
            };
            pcm.extend_from_slice(&[left, 0]);
        }
        write_wav(path, rate, 2, &pcm);
    }

    #[test]
    fn stereo_wav_is_resampled_and_downmixed_exactly() {
        let dir = tempfile::tempdir().unwrap();
        for rate in [44_100, 48_000] {
            let path = dir.path().join(format!("tone{rate}.wav"));
            stereo_tone_wav(&path, rate, 2.0, 0.5);
            let audio = decode_audio(&path).unwrap();
            assert_eq!((audio.source_rate, audio.source_channels), (rate, 2));
            let s = &audio.samples;
            // 2.0 s at 16 kHz, to a few samples.
            assert!(
                (s.len() as i64 - 32_000).abs() <= 4,
                "{rate} Hz: {} samples",
                s.len()
            );
            // Silence, then the tone exactly at 0.5 s (no resampler latency shift).
            assert!(
                s[..7_990].iter().all(|x| x.abs() < 1e-3),
                "{rate} Hz: noise before the tone"
            );
            let first = s.iter().position(|x| x.abs() > 0.01).unwrap();
            assert!(
                (first as i64 - 8_000).abs() <= 3,
                "{rate} Hz: tone starts at sample {first}"
            );
            // Mono = average of the channels: amplitude 0.25, RMS 0.25 / sqrt 2.
            let body = &s[9_000..31_000];
            let peak = body.iter().fold(0f32, |m, x| m.max(x.abs()));
            assert!((peak - 0.25).abs() < 0.01, "{rate} Hz: peak {peak}");
            let r = rms(s, 9_000.0 / 16_000.0, 31_000.0 / 16_000.0);
            assert!((r - 0.25 / 2f32.sqrt()).abs() < 0.005, "{rate} Hz: RMS {r}");
            // 1 kHz: 2 zero crossings per period, 2000 per second.
            let crossings = body
                .windows(2)
                .filter(|w| (w[0] < 0.0) != (w[1] < 0.0))
                .count();
            let expected = 2.0 * 1000.0 * body.len() as f64 / 16_000.0;
            assert!(
                (crossings as f64 - expected).abs() <= 4.0,
                "{rate} Hz: {crossings} crossings"
            );
        }
    }

    #[test]
    fn mono_16k_wav_passes_through_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ramp.wav");
        let pcm: Vec<i16> = (0..16_000)
            .map(|i| ((i % 200) as i16 - 100) * 100)
            .collect();
        write_wav(&path, 16_000, 1, &pcm);
        let audio = decode_audio(&path).unwrap();
        assert_eq!(audio.samples.len(), pcm.len());
        for (got, want) in audio.samples.iter().zip(&pcm) {
            assert!((got - f32::from(*want) / 32768.0).abs() < 1e-4);
        }
    }

    /// A mono f32 frame of `n` samples at `rate` with presentation time `pts_us`.
    fn frame_at(rate: u32, n: usize, pts_us: i64, value: f32) -> frame::Audio {
        let mut f = frame::Audio::new(out_format(), n, ChannelLayout::MONO);
        f.set_rate(rate);
        f.set_pts(Some(pts_us));
        f.plane_mut::<f32>(0)[..n].fill(value);
        f
    }

    fn run_timeline(origin_us: i64, frames: Vec<frame::Audio>) -> Timeline {
        let mut t = Timeline::new(origin_us, MICROS);
        for mut f in frames {
            t.push(&mut f).unwrap();
        }
        t.finish().unwrap();
        t
    }

    #[test]
    fn timeline_fills_gaps_over_40_ms_only() {
        // 0.5 s, a 500 ms hole, 0.5 s; then a 20 ms hole that is ignored, 0.5 s.
        let t = run_timeline(
            0,
            vec![
                frame_at(16_000, 8_000, 0, 0.5),
                frame_at(16_000, 8_000, 1_000_000, 0.5),
                frame_at(16_000, 8_000, 1_520_000, 0.5),
            ],
        );
        let s = &t.out;
        assert!((s.len() as i64 - 32_000).abs() <= 2, "{}", s.len());
        assert!(s[100..7_900].iter().all(|&x| (x - 0.5).abs() < 1e-3));
        assert!(
            s[8_100..15_900].iter().all(|&x| x.abs() < 1e-3),
            "hole not filled"
        );
        assert!(
            s[16_100..31_900].iter().all(|&x| (x - 0.5).abs() < 1e-3),
            "jitter made a hole"
        );
    }

    #[test]
    fn timeline_drops_overlaps_over_40_ms_and_survives_resets() {
        // 1.0 s of 0.5, then 0.5 s of -0.5 whose timestamps start 100 ms early: overlap dropped.
        let t = run_timeline(
            0,
            vec![
                frame_at(16_000, 16_000, 0, 0.5),
                frame_at(16_000, 8_000, 900_000, -0.5),
            ],
        );
        assert!((t.out.len() as i64 - 22_400).abs() <= 2, "{}", t.out.len());
        assert!(t.out[100..15_900].iter().all(|&x| (x - 0.5).abs() < 1e-3));
        assert!(t.out[16_100..22_300]
            .iter()
            .all(|&x| (x + 0.5).abs() < 1e-3));

        // Timestamps restart at 0 after 1.5 s: a discontinuity, nothing is lost.
        let t = run_timeline(
            0,
            vec![
                frame_at(16_000, 24_000, 0, 0.5),
                frame_at(16_000, 8_000, 0, -0.5),
                frame_at(16_000, 8_000, 500_000, 0.25),
            ],
        );
        assert!((t.out.len() as i64 - 40_000).abs() <= 2, "{}", t.out.len());
        assert!(t.out[24_100..31_900]
            .iter()
            .all(|&x| (x + 0.5).abs() < 1e-3));
        assert!(t.out[32_100..39_900]
            .iter()
            .all(|&x| (x - 0.25).abs() < 1e-3));
        assert_eq!(t.decoded_end(), Time::from_secs_f64(2.5));
    }

    #[test]
    fn timeline_pads_late_and_trims_early_starts() {
        let late = run_timeline(0, vec![frame_at(16_000, 1_600, 250_000, 0.5)]);
        assert_eq!(late.out.len(), 4_000 + 1_600);
        assert!(late.out[..4_000].iter().all(|&x| x == 0.0));
        assert_eq!(late.first_start, Some(Time::from_millis(250)));

        // Container starts at 1.0 s, audio at 0.9 s: the first 100 ms are before media time 0.
        let early = run_timeline(1_000_000, vec![frame_at(16_000, 3_200, 900_000, 0.5)]);
        assert_eq!(early.out.len(), 3_200 - 1_600);
        assert!(early.out.iter().all(|&x| (x - 0.5).abs() < 1e-3));
    }

    #[test]
    fn timeline_rebuilds_the_resampler_when_the_rate_changes() {
        // 0.5 s at 48 kHz, then 0.5 s at 22.05 kHz, contiguous.
        let t = run_timeline(
            0,
            vec![
                frame_at(48_000, 24_000, 0, 0.25),
                frame_at(22_050, 11_025, 500_000, -0.25),
            ],
        );
        assert!((t.out.len() as i64 - 16_000).abs() <= 2, "{}", t.out.len());
        assert!(t.out[200..7_800].iter().all(|&x| (x - 0.25).abs() < 2e-3));
        assert!(t.out[8_200..15_800]
            .iter()
            .all(|&x| (x + 0.25).abs() < 2e-3));
    }

    #[test]
    fn place_trims_pads_and_appends() {
        let mut out = Vec::new();
        let mut pos = -2;
        place(&mut out, &mut pos, &[1.0, 2.0, 3.0]);
        assert_eq!((out.clone(), pos), (vec![3.0], 1));
        pos = 3;
        place(&mut out, &mut pos, &[4.0]);
        assert_eq!((out.clone(), pos), (vec![3.0, 0.0, 0.0, 4.0], 4));
        // Overlap: what is already written wins.
        pos = 2;
        place(&mut out, &mut pos, &[5.0, 6.0, 7.0]);
        assert_eq!((out, pos), (vec![3.0, 0.0, 0.0, 4.0, 7.0], 5));
        assert_eq!(Time::from_micros(-62).to_samples_signed(), -1);
        assert_eq!(Time::from_micros(1_500_000).to_samples_signed(), 24_000);
    }
}
