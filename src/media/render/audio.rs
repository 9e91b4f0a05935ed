//! The audio path: decoded frames → placed on the source sample timeline → sample-exact
//! trimming to the keep spans with short fades at every cut → encoder frames → muxer.
//!
//! Samples are handled as planar `f32` at the source rate and channel layout (nothing is
//! resampled or remixed); conversion to and from the codecs' sample formats is exact for
//! 8/16/24-bit integer audio.
//!
//! AAC copied through a cut ([`Copying`], planned by [`super::audio_copy`]): the same trimmed,
//! faded output is made, but only the frames of the regions around the joins go to an
//! encoder (one short session per region); the rest of the output is the source's own
//! packets, taken as the demuxer reads them and written in output order.

use ffmpeg_next as ffmpeg;

use ffmpeg::error::EAGAIN;
use ffmpeg::format::sample::Type as SampleType;
use ffmpeg::format::Sample;
use ffmpeg::{codec, encoder, frame, ChannelLayout, Packet, Rational, Rescale};

use super::audio_copy::{CopyPlan, FRAME};
use super::slots::{fade_gain, Slots};
// The decoder's rule for holes, overlaps and timestamp resets, so that both put audio on the
// same timeline.
use crate::media::decode::{GAP_FILL, MAX_BACKWARD};
use crate::media::MICROS;
use crate::time::Time;

pub(super) type AResult<T> = Result<T, String>;

pub(super) struct AudioOut {
    pub encoder: encoder::Audio,
    pub stream_index: usize,
    pub ost_tb: Rational,
    rate: u32,
    layout: ChannelLayout,
    channels: usize,
    format: Sample,
    /// Samples per encoder frame (0: any).
    frame_size: usize,
    small_last_frame: bool,
    /// Kept source sample ranges and their fades.
    ranges: Vec<(i64, i64)>,
    fades: Vec<(bool, bool)>,
    fade: i64,
    range: usize,
    /// Source sample index of the next sample expected; None before the first frame.
    next: Option<i64>,
    /// Added to timestamps after a reset.
    shift: i64,
    origin_us: i64,
    in_tb: Rational,
    /// Output waiting for a full encoder frame, per channel.
    fifo: Vec<Vec<f32>>,
    /// Decoded samples of the current frame, per channel (reused).
    scratch: Vec<Vec<f32>>,
    /// Samples sent to the encoder (= next pts).
    pub samples: i64,
    /// Encoded packets (stream index and time base set) not yet taken by the muxer.
    packets: Vec<Packet>,
    /// AAC copied: the plan and its encoder sessions.
    copy: Option<Copying>,
    /// Packets handed to the muxer.
    pub written: u64,
}

/// How each region's encoder is opened: the stream encoder's settings.
pub(super) struct SessionSettings {
    pub codec: ffmpeg::Codec,
    pub rate: u32,
    pub layout: ChannelLayout,
    pub channels: u16,
    pub format: Sample,
    pub bit_rate: usize,
    pub global_header: bool,
}

impl SessionSettings {
    pub fn open(&self) -> AResult<encoder::Audio> {
        let mut enc = codec::context::Context::new_with_codec(self.codec)
            .encoder()
            .audio()
            .map_err(|e| format!("audio encoder: {e}"))?;
        enc.set_rate(self.rate as i32);
        enc.set_channel_layout(self.layout);
        enc.set_channels(i32::from(self.channels));
        enc.set_format(self.format);
        enc.set_time_base(Rational(1, self.rate as i32));
        if self.bit_rate > 0 {
            enc.set_bit_rate(self.bit_rate);
        }
        if self.global_header {
            enc.set_flags(codec::Flags::GLOBAL_HEADER);
        }
        enc.open_as(self.codec)
            .map_err(|e| format!("cannot open the audio encoder for a join: {e}"))
    }
}

/// The source's AAC packets copied where the plan says, the joins encoded again.
pub(super) struct Copying {
    plan: CopyPlan,
    /// The first source packet's pts (stream time base = 1 / rate) and its sample index on
    /// the source timeline the ranges count on.
    pts0: i64,
    first: i64,
    settings: SessionSettings,
    session: Option<encoder::Audio>,
    /// The region being fed or next, and the run being copied or next.
    region: usize,
    run: usize,
    /// Packets by output pts, waiting for the ones before them.
    ready: std::collections::BTreeMap<i64, Packet>,
    next_out: i64,
    /// Source packets copied.
    pub copied: u64,
}

impl Copying {
    pub fn new(plan: CopyPlan, pts0: i64, first: i64, settings: SessionSettings) -> Copying {
        Copying {
            plan,
            pts0,
            first,
            settings,
            session: None,
            region: 0,
            run: 0,
            ready: Default::default(),
            next_out: -FRAME,
            copied: 0,
        }
    }

    /// Takes a source packet: kept for the output when a run copies it.
    fn source(&mut self, p: &Packet) {
        let Some(pts) = p.pts() else { return };
        let s = self.first + (pts - self.pts0);
        while let Some(r) = self.plan.runs.get(self.run) {
            if r.out.1 - r.shift <= s {
                self.run += 1;
                continue;
            }
            if r.out.0 - r.shift <= s {
                let q = s + r.shift;
                let mut out = Packet::copy(p.data().unwrap_or_default());
                out.set_pts(Some(q));
                out.set_dts(Some(q));
                out.set_duration(FRAME);
                out.set_flags(p.flags());
                self.ready.insert(q, out);
                self.copied += 1;
            }
            break;
        }
    }

    /// Takes the output frame `f` at output index `at`: into the region encoder that is
    /// fed there, if any.
    fn frame(&mut self, at: i64, f: &frame::Audio) -> AResult<()> {
        while self
            .plan
            .regions
            .get(self.region)
            .is_some_and(|r| r.feed.1 <= at)
        {
            self.close()?;
            self.region += 1;
        }
        let Some(r) = self.plan.regions.get(self.region) else {
            return Ok(());
        };
        if r.feed.0 > at {
            return Ok(());
        }
        if self.session.is_none() {
            self.session = Some(self.settings.open()?);
        }
        let enc = self.session.as_mut().expect("opened above");
        enc.send_frame(f)
            .map_err(|e| format!("audio encoder: {e}"))?;
        self.drain()
    }

    /// Packets of the session: the region's are kept.
    fn drain(&mut self) -> AResult<()> {
        let (Some(enc), Some(r)) = (self.session.as_mut(), self.plan.regions.get(self.region))
        else {
            return Ok(());
        };
        let mut packet = Packet::empty();
        loop {
            match enc.receive_packet(&mut packet) {
                Ok(()) => {
                    let pts = packet.pts().unwrap_or(i64::MIN);
                    if pts >= r.keep.0 && pts < r.keep.1 {
                        self.ready
                            .insert(pts, std::mem::replace(&mut packet, Packet::empty()));
                    }
                }
                Err(ffmpeg::Error::Other { errno }) if errno == EAGAIN => return Ok(()),
                Err(ffmpeg::Error::Eof) => return Ok(()),
                Err(e) => return Err(format!("audio encoder: {e}")),
            }
        }
    }

    /// Ends the current session: its last packets are kept.
    fn close(&mut self) -> AResult<()> {
        if let Some(enc) = self.session.as_mut() {
            match enc.send_eof() {
                Ok(()) | Err(ffmpeg::Error::Eof) => {}
                Err(e) => return Err(format!("flushing the audio encoder: {e}")),
            }
            self.drain()?;
            self.session = None;
        }
        Ok(())
    }

    /// Moves the packets that are next in output order to `out`.
    fn emit(&mut self, out: &mut Vec<Packet>, stream: usize, enc_tb: Rational, ost_tb: Rational) {
        while let Some(mut p) = self.ready.remove(&self.next_out) {
            self.next_out += p.duration().max(1);
            p.set_stream(stream);
            p.set_position(-1);
            p.rescale_ts(enc_tb, ost_tb);
            out.push(p);
        }
    }
}

impl AudioOut {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        encoder: encoder::Audio,
        stream_index: usize,
        slots: &Slots,
        fade: Time,
        origin_us: i64,
        in_tb: Rational,
        small_last_frame: bool,
        copy: Option<Copying>,
    ) -> AudioOut {
        let rate = encoder.rate();
        let layout = encoder.channel_layout();
        let channels = usize::from(encoder.channels()).max(1);
        let format = encoder.format();
        let frame_size = encoder.frame_size() as usize;
        let fades = (0..slots.spans.len()).map(|i| slots.fades(i)).collect();
        AudioOut {
            ost_tb: Rational(1, rate as i32),
            stream_index,
            rate,
            layout,
            channels,
            format,
            frame_size,
            small_last_frame,
            ranges: match &copy {
                Some(c) => c.plan.ranges.clone(),
                None => slots.sample_ranges(rate),
            },
            fades,
            fade: (fade.0 as i128 * rate as i128 / 1_000_000) as i64,
            range: 0,
            next: None,
            shift: 0,
            origin_us,
            in_tb,
            fifo: vec![Vec::new(); channels],
            scratch: vec![Vec::new(); channels],
            samples: 0,
            packets: Vec::new(),
            encoder,
            copy,
            written: 0,
        }
    }

    /// Source packets copied (0: the audio is encoded in full).
    pub fn copied_packets(&self) -> u64 {
        self.copy.as_ref().map_or(0, |c| c.copied)
    }

    /// Takes a source packet before it is decoded (for the copy).
    pub fn source_packet(&mut self, p: &Packet) {
        if let Some(c) = self.copy.as_mut() {
            c.source(p);
        }
    }

    pub fn done(&self) -> bool {
        self.range >= self.ranges.len()
    }

    /// The encoded packets since the last call, ready for `write_interleaved`.
    pub fn take_packets(&mut self) -> Vec<Packet> {
        self.written += self.packets.len() as u64;
        std::mem::take(&mut self.packets)
    }

    /// Source time up to which audio has been handled.
    pub fn position(&self) -> Time {
        Time::from_samples(self.next.unwrap_or(0).max(0) as usize, self.rate)
    }

    /// Places a decoded frame on the source timeline and keeps what lies in the spans.
    pub fn push(&mut self, f: &frame::Audio) -> AResult<()> {
        let n = f.samples();
        if n == 0 || self.done() {
            return Ok(());
        }
        if f.rate() != self.rate || usize::from(f.channels()) != self.channels {
            return Err(format!(
                "the audio changes format mid-stream ({} Hz, {} channels → {} Hz, {} channels), \
                 which is not supported",
                self.rate,
                self.channels,
                f.rate(),
                f.channels()
            ));
        }
        let stamped = f.timestamp().or(f.pts()).map(|pts| match &self.copy {
            // On the packets' own grid (time base 1 / rate), exactly.
            Some(c) => c.first + (pts - c.pts0) + self.shift,
            None => {
                let us = pts.rescale(self.in_tb, MICROS) - self.origin_us;
                (us as i128 * self.rate as i128).div_euclid(1_000_000) as i64 + self.shift
            }
        });
        let start = match (self.next, stamped) {
            // The first frame is placed exactly: late audio gets leading silence.
            (None, Some(s)) => s,
            (None, None) => 0,
            (Some(e), Some(s)) => {
                let drift = s - e;
                let tol = GAP_FILL.0 * self.rate as i64 / 1_000_000;
                let back = MAX_BACKWARD.0 * self.rate as i64 / 1_000_000;
                if drift < -back {
                    self.shift += e - s;
                    e
                } else if drift.abs() > tol {
                    s
                } else {
                    e
                }
            }
            (Some(e), None) => e,
        };
        let expected = self.next.unwrap_or(0);
        if start > expected {
            self.silence(expected, start)?;
        }
        read_f32(f, &mut self.scratch)?;
        let scratch = std::mem::take(&mut self.scratch);
        // What lies before the expected position (overlap, or before media time 0) is dropped.
        let skip = (expected - start).clamp(0, n as i64) as usize;
        let r = self.keep(start + skip as i64, &scratch, skip, n - skip);
        self.scratch = scratch;
        r?;
        self.next = Some((start + n as i64).max(expected));
        Ok(())
    }

    /// After the last frame: silence up to the end of the last span (audio that ends early),
    /// the final short frame, and the encoder flush.
    pub fn finish(&mut self) -> AResult<()> {
        if let Some(&(_, end)) = self.ranges.last() {
            let from = self.next.unwrap_or(0);
            if from < end {
                self.silence(from, end)?;
                self.next = Some(end);
            }
        }
        let left = self.fifo[0].len();
        if left > 0 {
            let n = if self.frame_size > 0 && !self.small_last_frame {
                for ch in &mut self.fifo {
                    ch.resize(self.frame_size, 0.0);
                }
                self.frame_size
            } else {
                left
            };
            self.encode(n)?;
        }
        if let Some(c) = self.copy.as_mut() {
            c.close()?;
            let enc_tb = Rational(1, self.rate as i32);
            c.emit(&mut self.packets, self.stream_index, enc_tb, self.ost_tb);
            if let Some(&pts) = c.ready.keys().next() {
                return Err(format!(
                    "copying the audio: no packet for output sample {} (next is at {pts})",
                    c.next_out
                ));
            }
            return Ok(());
        }
        match self.encoder.send_eof() {
            Ok(()) | Err(ffmpeg::Error::Eof) => {}
            Err(e) => return Err(format!("flushing the audio encoder: {e}")),
        }
        self.drain()
    }

    /// Feeds `[from, to)` of silence through the same trimming.
    fn silence(&mut self, from: i64, to: i64) -> AResult<()> {
        const CHUNK: i64 = 8192;
        let zeros = vec![vec![0f32; CHUNK as usize]; self.channels];
        let mut at = from;
        // Skip straight to the next kept range: nothing between is kept anyway.
        while at < to && !self.done() {
            let a = self.ranges[self.range].0;
            if a > at {
                at = a.min(to);
                continue;
            }
            let n = (to - at).min(CHUNK);
            self.keep(at, &zeros, 0, n as usize)?;
            at += n;
        }
        Ok(())
    }

    /// Keeps the samples `data[..][off..off + n]`, which sit at source index `start`.
    fn keep(&mut self, start: i64, data: &[Vec<f32>], off: usize, n: usize) -> AResult<()> {
        let end = start + n as i64;
        while self.range < self.ranges.len() {
            let (a, b) = self.ranges[self.range];
            if b <= start {
                self.range += 1;
                continue;
            }
            if a >= end {
                break;
            }
            let (from, to) = (a.max(start), b.min(end));
            let (fade_in, fade_out) = self.fades[self.range];
            let len = b - a;
            for (c, ch) in self.fifo.iter_mut().enumerate() {
                let src = &data[c][off + (from - start) as usize..off + (to - start) as usize];
                let near_cut = |p: i64| p - a < self.fade || b - 1 - p < self.fade;
                if near_cut(from) || near_cut(to - 1) || to - from > len - 2 * self.fade {
                    ch.extend(src.iter().enumerate().map(|(i, &x)| {
                        x * fade_gain(from - a + i as i64, len, self.fade, fade_in, fade_out)
                    }));
                } else {
                    ch.extend_from_slice(src);
                }
            }
            if b <= end {
                self.range += 1;
            } else {
                break;
            }
        }
        // Send whole encoder frames.
        let size = if self.frame_size > 0 {
            self.frame_size
        } else {
            4096
        };
        let mut sent = 0;
        while self.fifo[0].len() - sent >= size {
            self.encode_range(sent, size)?;
            sent += size;
        }
        if sent > 0 {
            for ch in &mut self.fifo {
                ch.drain(..sent);
            }
        }
        Ok(())
    }

    fn encode(&mut self, n: usize) -> AResult<()> {
        self.encode_range(0, n)?;
        for ch in &mut self.fifo {
            ch.drain(..n.min(ch.len()));
        }
        Ok(())
    }

    /// Sends `fifo[..][at..at + n]` as one frame.
    fn encode_range(&mut self, at: usize, n: usize) -> AResult<()> {
        let mut f = frame::Audio::new(self.format, n, self.layout);
        f.set_rate(self.rate);
        f.set_pts(Some(self.samples));
        write_f32(&mut f, &self.fifo, at, n)?;
        if let Some(c) = self.copy.as_mut() {
            c.frame(self.samples, &f)?;
            self.samples += n as i64;
            let enc_tb = Rational(1, self.rate as i32);
            c.emit(&mut self.packets, self.stream_index, enc_tb, self.ost_tb);
            return Ok(());
        }
        self.encoder
            .send_frame(&f)
            .map_err(|e| format!("audio encoder: {e}"))?;
        self.samples += n as i64;
        self.drain()
    }

    fn drain(&mut self) -> AResult<()> {
        let mut packet = Packet::empty();
        let enc_tb = Rational(1, self.rate as i32);
        loop {
            match self.encoder.receive_packet(&mut packet) {
                Ok(()) => {
                    packet.set_stream(self.stream_index);
                    packet.set_position(-1);
                    packet.rescale_ts(enc_tb, self.ost_tb);
                    self.packets
                        .push(std::mem::replace(&mut packet, Packet::empty()));
                }
                Err(ffmpeg::Error::Other { errno }) if errno == EAGAIN => return Ok(()),
                Err(ffmpeg::Error::Eof) => return Ok(()),
                Err(e) => return Err(format!("audio encoder: {e}")),
            }
        }
    }
}

/// Bytes per sample and planarity of a sample format.
fn layout_of(format: Sample) -> Option<(usize, bool)> {
    let planar = |t: SampleType| t == SampleType::Planar;
    Some(match format {
        Sample::U8(t) => (1, planar(t)),
        Sample::I16(t) => (2, planar(t)),
        Sample::I32(t) | Sample::F32(t) => (4, planar(t)),
        Sample::I64(t) | Sample::F64(t) => (8, planar(t)),
        Sample::None => return None,
    })
}

/// Converts one sample from its bytes to f32 in [-1, 1).
fn sample_to_f32(format: Sample, b: &[u8]) -> f32 {
    match format {
        Sample::U8(_) => (f32::from(b[0]) - 128.0) / 128.0,
        Sample::I16(_) => f32::from(i16::from_ne_bytes([b[0], b[1]])) / 32_768.0,
        Sample::I32(_) => {
            (i32::from_ne_bytes(b[..4].try_into().unwrap()) as f64 / 2_147_483_648.0) as f32
        }
        Sample::I64(_) => {
            (i64::from_ne_bytes(b[..8].try_into().unwrap()) as f64 / 9.223_372_036_854_776e18)
                as f32
        }
        Sample::F32(_) => f32::from_ne_bytes(b[..4].try_into().unwrap()),
        Sample::F64(_) => f64::from_ne_bytes(b[..8].try_into().unwrap()) as f32,
        Sample::None => 0.0,
    }
}

/// Writes one f32 sample as `format` into `b`.
fn f32_to_sample(format: Sample, x: f32, b: &mut [u8]) {
    let int = |scale: f64, lo: f64, hi: f64| (x as f64 * scale).round().clamp(lo, hi);
    match format {
        Sample::U8(_) => b[0] = (int(128.0, -128.0, 127.0) + 128.0) as u8,
        Sample::I16(_) => {
            b[..2].copy_from_slice(&(int(32_768.0, -32_768.0, 32_767.0) as i16).to_ne_bytes())
        }
        Sample::I32(_) => b[..4].copy_from_slice(
            &(int(2_147_483_648.0, -2_147_483_648.0, 2_147_483_647.0) as i32).to_ne_bytes(),
        ),
        Sample::I64(_) => {
            b[..8].copy_from_slice(&((x as f64 * 9.223_372_036_854_776e18) as i64).to_ne_bytes())
        }
        Sample::F32(_) => b[..4].copy_from_slice(&x.to_ne_bytes()),
        Sample::F64(_) => b[..8].copy_from_slice(&(x as f64).to_ne_bytes()),
        Sample::None => {}
    }
}

/// Decoded frame → planar f32 per channel (replacing `out`'s contents).
fn read_f32(f: &frame::Audio, out: &mut [Vec<f32>]) -> AResult<()> {
    let format = f.format();
    let (bps, planar) =
        layout_of(format).ok_or_else(|| "decoded audio has no sample format".to_string())?;
    let n = f.samples();
    let ch = out.len();
    for o in out.iter_mut() {
        o.clear();
        o.reserve(n);
    }
    if planar {
        for (c, o) in out.iter_mut().enumerate() {
            let d = &f.data(c)[..n * bps];
            o.extend(d.chunks_exact(bps).map(|b| sample_to_f32(format, b)));
        }
    } else {
        let d = &f.data(0)[..n * ch * bps];
        for (i, b) in d.chunks_exact(bps).enumerate() {
            out[i % ch].push(sample_to_f32(format, b));
        }
    }
    Ok(())
}

/// `src[..][at..at + n]` → the frame's sample format.
fn write_f32(f: &mut frame::Audio, src: &[Vec<f32>], at: usize, n: usize) -> AResult<()> {
    let format = f.format();
    let (bps, planar) =
        layout_of(format).ok_or_else(|| "encoder has no sample format".to_string())?;
    let ch = src.len();
    if planar {
        for (c, s) in src.iter().enumerate() {
            let d = &mut f.data_mut(c)[..n * bps];
            for (i, b) in d.chunks_exact_mut(bps).enumerate() {
                f32_to_sample(format, s[at + i], b);
            }
        }
    } else {
        let d = &mut f.data_mut(0)[..n * ch * bps];
        for (i, b) in d.chunks_exact_mut(bps).enumerate() {
            f32_to_sample(format, src[i % ch][at + i / ch], b);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_samples_round_trip_exactly() {
        for fmt in [
            Sample::I16(SampleType::Packed),
            Sample::I32(SampleType::Planar),
            Sample::U8(SampleType::Packed),
        ] {
            let mut b = [0u8; 8];
            let values: Vec<i64> = match fmt {
                Sample::I16(_) => vec![-32768, -1, 0, 1, 12345, 32767],
                Sample::I32(_) => vec![i32::MIN as i64, -256, 0, 256 * 4_000_000, (1 << 31) - 256],
                _ => vec![0, 1, 127, 128, 255],
            };
            for v in values {
                match fmt {
                    Sample::I16(_) => b[..2].copy_from_slice(&(v as i16).to_ne_bytes()),
                    Sample::I32(_) => b[..4].copy_from_slice(&(v as i32).to_ne_bytes()),
                    _ => b[0] = v as u8,
                }
                let x = sample_to_f32(fmt, &b);
                let mut back = [0u8; 8];
                f32_to_sample(fmt, x, &mut back);
                assert_eq!(back, b, "{fmt:?} {v}");
            }
        }
    }
}
