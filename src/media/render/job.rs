//! One render, start to end: open the input and a temporary output beside the real one, open
//! the streams ([`super::open`]), demux → decode → select → encode → mux, then write the
//! trailer, sum up and rename the output into place.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::{Scope, ScopedJoinHandle};

use ffmpeg_next as ffmpeg;
use tempfile::NamedTempFile;

use ffmpeg::error::EAGAIN;
use ffmpeg::Rescale;
use ffmpeg::{decoder, ffi, format, frame, media, ChannelLayout, Dictionary, Packet, Rational};

use super::gops::PacketInfo;
use super::slots::Slots;
use super::smart::{self, SmartVideo};
use super::{audio, burn_in, video, RenderError, RenderMode, RenderOptions, RenderSummary};
use crate::media::probe::{describe, open_input, video_stream};
use crate::media::{io_why, same_file, start_us, MICROS};
use crate::time::{Span, Time};

pub(super) struct Job<'a> {
    pub input: &'a Path,
    pub output: &'a Path,
    pub opts: &'a RenderOptions,
    /// The streams a demux-only pass reads the packets of (the rendered video and audio),
    /// and what it found, read once for the smart video and the audio copy together.
    pub scan_streams: std::sync::OnceLock<[Option<usize>; 2]>,
    pub scanned: std::sync::OnceLock<Scanned>,
}

/// The packets' timing and key flags per scanned stream, in demux order (`None`: a packet
/// without timestamps). Durations are the demuxer's (0: unknown).
pub(super) type Scanned = std::collections::HashMap<usize, Option<Vec<PacketInfo>>>;

/// The output being written: a temporary file beside the real one, renamed at the end.
pub(super) struct Output {
    /// Declared before `tmp`, so it is closed before the temporary file is removed.
    pub octx: format::context::Output,
    tmp: NamedTempFile,
    /// The output's extension, lower case, and the muxer FFmpeg picked for it.
    ext: String,
    pub muxer: String,
    /// The muxer wants codec headers out of band (`AVFMT_GLOBALHEADER`).
    pub global_header: bool,
}

/// The video stream being rendered: its decoder and its way out.
pub(super) struct VideoIn {
    pub index: usize,
    pub tb: Rational,
    pub decoder: decoder::Video,
    pub frame: frame::Video,
    pub out: video::VideoOut,
}

/// The audio stream being rendered: its decoder and its way out.
pub(super) struct AudioIn {
    /// Why the source's audio frames are not copied (`None`: they are).
    pub copy_refused: Option<String>,
    pub decoder: decoder::Audio,
    pub frame: frame::Audio,
    pub out: audio::AudioOut,
}

/// The audio thread next to video: packets in, encoded packets out, the stream back at the end.
struct AudioWorker<'scope> {
    tx: mpsc::SyncSender<Packet>,
    rx: mpsc::Receiver<Packet>,
    handle: ScopedJoinHandle<'scope, Result<AudioIn, RenderError>>,
}

impl Job<'_> {
    pub(super) fn unsupported(&self, detail: impl Into<String>) -> RenderError {
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
    pub(super) fn encode_err(&self, detail: impl Into<String>) -> RenderError {
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

    /// The packets of stream `index` (one of `scan_streams`), from one demux-only pass
    /// over the input for all of them. `None`: a packet without timestamps.
    pub(super) fn scan(&self, index: usize) -> Result<Option<&[PacketInfo]>, RenderError> {
        if self.scanned.get().is_none() {
            let s = self.scan_all()?;
            let _ = self.scanned.set(s);
        }
        let s = self.scanned.get().expect("set above");
        Ok(s.get(&index).and_then(|p| p.as_deref()))
    }

    fn scan_all(&self) -> Result<Scanned, RenderError> {
        let mut ictx = open_input(self.input)?;
        let [v, a] = self.scan_streams.get().copied().unwrap_or_default();
        discard_other_streams(&mut ictx, v, a);
        let mut out: Scanned = [v, a]
            .into_iter()
            .flatten()
            .map(|i| (i, Some(Vec::new())))
            .collect();
        let mut bad = 0usize;
        loop {
            let mut p = Packet::empty();
            match p.read(&mut ictx) {
                Ok(()) => {}
                Err(ffmpeg::Error::Eof) => break,
                Err(ffmpeg::Error::InvalidData) => {
                    bad += 1;
                    if bad > 1_000 {
                        break;
                    }
                    continue;
                }
                Err(e) => return Err(self.decode_err(format!("read error: {e}"))),
            }
            let Some(list) = out.get_mut(&p.stream()) else {
                continue;
            };
            let Some(packets) = list.as_mut() else {
                continue;
            };
            match (p.pts(), p.dts()) {
                (Some(pts), Some(dts)) => packets.push(PacketInfo {
                    pts,
                    dts,
                    duration: p.duration(),
                    key: p.is_key(),
                }),
                // The stream cannot be placed packet by packet.
                _ => *list = None,
            }
        }
        Ok(out)
    }

    /// The render, in order: input and slots, the output, the streams, the header, the
    /// demux/encode/mux pass, the trailer, then the summary and the rename into place.
    pub(super) fn run(
        &self,
        keep: &[Span],
        progress: &mut dyn FnMut(f32),
    ) -> Result<RenderSummary, RenderError> {
        let mut ictx = open_input(self.input)?;
        let info = describe(&ictx, self.input);
        let origin_us = start_us(&ictx);
        let slots = Slots::new(keep, (info.duration > Time::ZERO).then_some(info.duration));
        if slots.is_empty() {
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
        let burn_in = burn_in::prepare(self.opts, self.input, v_index.is_some())?;
        // The video first, then the audio (see `scan_all`).
        let _ = self.scan_streams.set([v_index, a_index]);

        let mut out = self.open_output(v_index.is_some())?;
        let (mut smart, reencoded_because) = self.open_smart(
            &ictx,
            v_index,
            &slots,
            origin_us,
            burn_in.is_some(),
            &mut out,
        )?;
        let mut vin = match v_index {
            Some(i) if smart.is_none() => Some(self.open_video(
                &ictx,
                i,
                &slots,
                burn_in,
                &mut out.octx,
                out.global_header,
            )?),
            _ => None,
        };
        let mut ain = match a_index {
            Some(i) => Some(self.open_audio(
                &ictx,
                i,
                &slots,
                &out.ext,
                origin_us,
                &mut out.octx,
                out.global_header,
            )?),
            None => None,
        };
        self.write_header(&ictx, &mut out, vin.as_mut(), smart.as_mut(), ain.as_mut())?;
        discard_other_streams(&mut ictx, v_index, a_index);

        self.mux(
            &mut ictx,
            &slots,
            origin_us,
            a_index,
            &mut out.octx,
            &mut vin,
            &mut smart,
            &mut ain,
            progress,
        )?;
        out.octx
            .write_trailer()
            .map_err(|e| self.encode_err(format!("cannot finish the file: {e}")))?;
        let Output { octx, tmp, .. } = out;
        drop(octx); // closes the file before it is renamed

        let mut summary = summary(self.output, &slots, vin.as_ref(), ain.as_ref());
        if let Some(s) = &smart {
            summary.video_duration = Some(Time(s.end_pts.rescale(s.ost_tb, MICROS)));
            summary.duration = summary.duration.max(summary.video_duration.unwrap());
            summary.video_frames = s.copied_frames + s.encoded_frames;
            summary.video_copied_frames = s.copied_frames;
            summary.constant_frame_rate = true;
        }
        summary.reencoded_because = reencoded_because;
        self.persist(tmp)?;
        progress(1.0);
        Ok(summary)
    }

    /// Creates the temporary output beside the real one and opens the muxer for it.
    fn open_output(&self, has_video: bool) -> Result<Output, RenderError> {
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
        let octx = format::output_as(tmp.path(), &muxer)
            .map_err(|e| self.output_err(format!("cannot open for writing: {e}")))?;
        // SAFETY: reading the muxer's static description.
        let (global_header, muxer_takes_video) = unsafe {
            let of = (*octx.as_ptr()).oformat;
            (
                (*of).flags & ffi::AVFMT_GLOBALHEADER != 0,
                (*of).video_codec != ffi::AVCodecID::AV_CODEC_ID_NONE,
            )
        };
        if has_video && !muxer_takes_video {
            return Err(self.output_err(format!(
                "the .{ext} format cannot hold video (the input has video: use .mp4)"
            )));
        }
        Ok(Output {
            octx,
            tmp,
            ext,
            muxer,
            global_header,
        })
    }

    /// The smart video path when the mode, the job and the input allow it; else why not
    /// (`None` without video).
    fn open_smart(
        &self,
        ictx: &format::context::Input,
        v_index: Option<usize>,
        slots: &Slots,
        origin_us: i64,
        burn_in: bool,
        out: &mut Output,
    ) -> Result<(Option<SmartVideo>, Option<String>), RenderError> {
        let Some(index) = v_index else {
            return Ok((None, None));
        };
        let why = if self.opts.mode == RenderMode::Reencode {
            "every frame is re-encoded (render mode reencode)".to_string()
        } else if burn_in {
            "smart render: burned-in captions change every frame, so every frame is re-encoded"
                .to_string()
        } else if self.opts.changes_pixels() {
            "smart render: reframing changes every frame, so every frame is re-encoded".to_string()
        } else {
            match smart::prepare(self, ictx, index, slots, origin_us, out)? {
                Ok(s) => return Ok((Some(s), None)),
                Err(why) => why,
            }
        };
        Ok((None, Some(why)))
    }

    /// Container metadata and the header (with `+faststart` for MP4/MOV when asked).
    fn write_header(
        &self,
        ictx: &format::context::Input,
        out: &mut Output,
        vin: Option<&mut VideoIn>,
        smart: Option<&mut SmartVideo>,
        ain: Option<&mut AudioIn>,
    ) -> Result<(), RenderError> {
        let octx = &mut out.octx;
        octx.set_metadata(ictx.metadata().to_owned());
        let mut header_opts = Dictionary::new();
        if self.opts.faststart && matches!(out.muxer.as_str(), "mp4" | "mov" | "ipod" | "3gp") {
            header_opts.set("movflags", "+faststart");
        }
        octx.write_header_with(header_opts)
            .map_err(|e| self.encode_err(format!("cannot write the header: {e}")))?;
        // The muxer may change the stream time bases in write_header.
        if let Some(v) = vin {
            v.out.ost_tb = octx.stream(v.out.stream_index).unwrap().time_base();
        }
        if let Some(s) = smart {
            s.ost_tb = octx.stream(s.stream_index).unwrap().time_base();
        }
        if let Some(a) = ain {
            a.out.ost_tb = octx.stream(a.out.stream_index).unwrap().time_base();
        }
        Ok(())
    }

    /// Demux, decode, select, encode, mux, then flush. Next to video (unless one thread is
    /// asked for), the audio is decoded and encoded on a second thread (ffmpeg's AAC encoder
    /// costs about as much as x264, see the module docs), and its packets come back to this
    /// one for the muxer.
    #[allow(clippy::too_many_arguments)]
    fn mux(
        &self,
        ictx: &mut format::context::Input,
        slots: &Slots,
        origin_us: i64,
        a_index: Option<usize>,
        octx: &mut format::context::Output,
        vin: &mut Option<VideoIn>,
        smart: &mut Option<SmartVideo>,
        ain: &mut Option<AudioIn>,
        progress: &mut dyn FnMut(f32),
    ) -> Result<(), RenderError> {
        let audio_done = AtomicBool::new(false);
        std::thread::scope(|scope| -> Result<(), RenderError> {
            let mut worker = None;
            if (vin.is_some() || smart.is_some()) && self.opts.threads != 1 {
                if let Some(a) = ain.take() {
                    worker = Some(self.spawn_audio(scope, a, &audio_done));
                }
            }
            self.demux(
                ictx,
                slots,
                origin_us,
                a_index,
                octx,
                vin,
                smart,
                ain,
                &mut worker,
                &audio_done,
                progress,
            )?;
            self.flush(slots, origin_us, octx, vin, smart, ain, worker)
        })
    }

    /// Starts the audio thread: it decodes and encodes what it is sent and passes the
    /// encoded packets back; at the end of its input it flushes and returns the stream.
    fn spawn_audio<'scope>(
        &'scope self,
        scope: &'scope Scope<'scope, '_>,
        mut a: AudioIn,
        done: &'scope AtomicBool,
    ) -> AudioWorker<'scope> {
        let (tx_in, rx_in) = mpsc::sync_channel::<Packet>(256);
        let (tx_out, rx_out) = mpsc::channel::<Packet>();
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
        AudioWorker {
            tx: tx_in,
            rx: rx_out,
            handle,
        }
    }

    /// Reads packets until every stream has what the slots need (or the input ends), sending
    /// each to its stream's decoder (audio to the worker, when there is one).
    #[allow(clippy::too_many_arguments)]
    fn demux(
        &self,
        ictx: &mut format::context::Input,
        slots: &Slots,
        origin_us: i64,
        a_index: Option<usize>,
        octx: &mut format::context::Output,
        vin: &mut Option<VideoIn>,
        smart: &mut Option<SmartVideo>,
        ain: &mut Option<AudioIn>,
        worker: &mut Option<AudioWorker<'_>>,
        audio_done: &AtomicBool,
        progress: &mut dyn FnMut(f32),
    ) -> Result<(), RenderError> {
        let mut bad_packets = 0usize;
        let mut last_progress = 0.0f32;
        let source_end = slots.source_end();
        loop {
            let v_done = vin.as_ref().is_none_or(|v| v.out.done(slots))
                && smart.as_ref().is_none_or(|s| s.done());
            let a_done = match ain.as_ref() {
                Some(a) => a.out.done(),
                None => worker.is_none() || audio_done.load(Ordering::Relaxed),
            };
            if v_done && a_done {
                return Ok(());
            }
            // A fresh packet each time: `av_read_frame` overwrites the packet it is given
            // without unreferencing it, so reusing one leaked every packet read (the render
            // held the whole input in memory).
            let mut packet = Packet::empty();
            match packet.read(ictx) {
                Ok(()) => {}
                Err(ffmpeg::Error::Eof) => return Ok(()),
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
                self.video_packet(v, Some(&packet), slots, origin_us, octx)?;
            } else if let Some(s) = smart.as_mut().filter(|s| s.index == index && !v_done) {
                s.packet(packet, octx).map_err(|e| self.encode_err(e))?;
            } else if Some(index) == a_index && !a_done {
                if let Some(a) = ain.as_mut() {
                    self.audio_packet(a, Some(&packet))?;
                    for p in a.out.take_packets() {
                        self.write_audio(p, octx)?;
                    }
                } else if let Some(w) = worker.as_ref() {
                    let p = std::mem::replace(&mut packet, Packet::empty());
                    if w.tx.send(p).is_err() {
                        // The audio thread stopped: it failed.
                        let w = worker.take().expect("present");
                        self.join_audio(w.handle)?;
                        return Err(self.encode_err("the audio thread stopped early"));
                    }
                }
            }
            if let Some(w) = worker.as_ref() {
                while let Ok(p) = w.rx.try_recv() {
                    self.write_audio(p, octx)?;
                }
            }
            // Progress: how far the slower stream has got through the slots' source range.
            let mut at = source_end;
            if let Some(v) = vin.as_ref().filter(|_| !v_done) {
                at = at.min(v.out.last_t.unwrap_or(Time::ZERO));
            }
            if let Some(s) = smart.as_ref().filter(|_| !v_done) {
                at = at.min(s.last_t.unwrap_or(Time::ZERO));
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
    }

    /// Flushes the decoders, then fills and flushes the outputs; the audio thread, if any, is
    /// told the input ended and its stream comes back into `ain`.
    #[allow(clippy::too_many_arguments)]
    fn flush(
        &self,
        slots: &Slots,
        origin_us: i64,
        octx: &mut format::context::Output,
        vin: &mut Option<VideoIn>,
        smart: &mut Option<SmartVideo>,
        ain: &mut Option<AudioIn>,
        worker: Option<AudioWorker<'_>>,
    ) -> Result<(), RenderError> {
        if let Some(s) = smart.as_mut() {
            s.finish(octx).map_err(|e| self.encode_err(e))?;
        }
        if let Some(v) = vin.as_mut() {
            if !v.out.done(slots) {
                self.video_packet(v, None, slots, origin_us, octx)?;
            }
            v.out.finish(slots, octx).map_err(|e| self.encode_err(e))?;
        }
        if let Some(AudioWorker { tx, rx, handle }) = worker {
            drop(tx); // the end of the input: the thread flushes and finishes
            for p in rx {
                self.write_audio(p, octx)?;
            }
            *ain = Some(self.join_audio(handle)?);
        } else if let Some(a) = ain.as_mut() {
            if !a.out.done() {
                self.audio_packet(a, None)?;
            }
            a.out.finish().map_err(|e| self.encode_err(e))?;
            for p in a.out.take_packets() {
                self.write_audio(p, octx)?;
            }
        }
        Ok(())
    }

    fn join_audio(
        &self,
        h: ScopedJoinHandle<'_, Result<AudioIn, RenderError>>,
    ) -> Result<AudioIn, RenderError> {
        h.join()
            .unwrap_or_else(|_| Err(self.encode_err("the audio thread panicked")))
    }

    fn write_audio(
        &self,
        p: Packet,
        octx: &mut format::context::Output,
    ) -> Result<(), RenderError> {
        p.write_interleaved(octx)
            .map_err(|e| self.encode_err(format!("writing audio: {e}")))
    }

    /// Renames the finished temporary file into place (never over the input).
    fn persist(&self, tmp: NamedTempFile) -> Result<(), RenderError> {
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
        Ok(())
    }

    /// Sends a packet (None: end of stream) to the video decoder and handles its frames.
    fn video_packet(
        &self,
        v: &mut VideoIn,
        packet: Option<&Packet>,
        slots: &Slots,
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
            if v.out.done(slots) {
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
                        .push(slots, f, t, octx)
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
        if let Some(p) = packet {
            a.out.source_packet(p);
        }
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

/// Tells the demuxer to skip every stream that is not rendered.
pub(super) fn discard_other_streams(
    ictx: &mut format::context::Input,
    v_index: Option<usize>,
    a_index: Option<usize>,
) {
    for i in 0..ictx.nb_streams() as usize {
        if Some(i) != v_index && Some(i) != a_index {
            if let Some(mut s) = ictx.stream_mut(i) {
                // SAFETY: setting the discard flag of a stream of an open input.
                unsafe { (*s.as_mut_ptr()).discard = ffi::AVDiscard::AVDISCARD_ALL };
            }
        }
    }
}

/// What was written: durations from what each stream sent to its encoder.
fn summary(
    output: &Path,
    slots: &Slots,
    vin: Option<&VideoIn>,
    ain: Option<&AudioIn>,
) -> RenderSummary {
    let video_duration = vin.map(|v| Time(v.out.end_pts.rescale(v.out.enc_tb, MICROS)));
    let audio_duration =
        ain.map(|a| Time::from_samples(a.out.samples as usize, a.out.encoder.rate()));
    RenderSummary {
        output: output.into(),
        planned: slots.total,
        duration: video_duration
            .unwrap_or(Time::ZERO)
            .max(audio_duration.unwrap_or(Time::ZERO)),
        video_duration,
        audio_duration,
        video_frames: vin.map_or(0, |v| v.out.frames),
        video_copied_frames: 0,
        reencoded_because: None,
        audio_samples: ain.map_or(0, |a| a.out.samples as u64),
        audio_frames: ain.map_or(0, |a| a.out.written),
        audio_copied_frames: ain.map_or(0, |a| a.out.copied_packets()),
        audio_reencoded_because: ain.and_then(|a| a.copy_refused.clone()),
        constant_frame_rate: vin.is_some_and(|v| matches!(v.out.mode, video::Mode::Cfr(..))),
    }
}

/// The muxer FFmpeg picks for a file name (by extension).
fn guess_muxer(path: &Path) -> Option<String> {
    let name = std::ffi::CString::new(path.file_name()?.to_string_lossy().as_bytes()).ok()?;
    // SAFETY: a NUL-terminated name; the result is a static description or null.
    unsafe {
        let f = ffi::av_guess_format(std::ptr::null(), name.as_ptr(), std::ptr::null());
        if f.is_null() {
            return None;
        }
        Some(
            std::ffi::CStr::from_ptr((*f).name)
                .to_string_lossy()
                .into_owned(),
        )
    }
}
