//! The smart render of H.264 and HEVC video: the packets of every group of pictures (GOP)
//! that lies wholly inside a keep span are copied untouched; so is the head of a GOP a span
//! ends in, as far as its packets show the kept frames on their own (all of them without
//! B-frames); only the rest of the GOPs a span edge cuts is decoded, and its kept frames
//! re-encoded (libx264 / libx265) at the source's profile, level, pixel format, size and
//! colours. Audio goes its own way (`audio.rs`: AAC frames copied, the joins encoded again,
//! or everything decoded and encoded).
//!
//! How the two kinds of packets live in one stream. H.264: the re-encoded pieces use
//! parameter sets with other ids than the source's (`x264 sps-id`), and the output's `avcC`
//! holds both ([`super::h264::merge`]); each slice names its PPS, so strict decoders
//! (browsers) need no second sample description and no in-band parameter sets. HEVC: x265
//! keeps id 0, so the parameter sets go in band (see [`super::hevc`]). Each re-encoded piece
//! is its own closed encoder session (it starts with an IDR frame and is flushed before the
//! next copied GOP), without B-frames, and its decode times sit the source's constant reorder
//! delay before its presentation times, so decode times rise across every join.
//!
//! [`prepare`] says when this cannot be done (another codec, Annex B or interlaced input,
//! variable frame rate, open GOPs, a 10-bit or 4:2:2 profile, no GOP wholly kept …): the render
//! then re-encodes everything, and the reason is in the summary for `-v`.

use ffmpeg_next as ffmpeg;

use ffmpeg::error::EAGAIN;
use ffmpeg::format::Pixel;
use ffmpeg::{codec, decoder, encoder, ffi, format, frame, Dictionary, Packet, Rational};
use ffmpeg::{picture, Rescale};

use super::gops::{self, Action, PacketInfo};
use super::h264::{self, Avcc};
use super::hevc;
use super::job::{Job, Output};
use super::slots::Slots;
use super::{x264, RenderError};
use crate::media::probe::{constant_rate, sample_aspect_ratio};
use crate::media::MICROS;
use crate::time::Time;

/// The CRF of re-encoded edges, at most: close to the source, so a cut edge does not step
/// in quality next to the copied pictures (docs/BENCH.md has the PSNR/SSIM of edges).
pub(super) const EDGE_CRF: u8 = 17;

/// The smart video path: where each packet goes, the decoder for cut GOPs and the encoder
/// session of the current re-encoded piece.
pub(super) struct SmartVideo {
    pub index: usize,
    tb: Rational,
    origin_us: i64,
    gops: Vec<gops::Gop>,
    actions: Vec<Action>,
    /// Index of the last GOP that is not skipped.
    last_needed: usize,
    /// Output timestamp minus source timestamp, per keep span, in the stream time base.
    shifts: Vec<i64>,
    spans: Vec<crate::time::Span>,
    tol: Time,
    /// The source's reorder delay (decode before presentation), time base ticks.
    delay: i64,
    frame_ticks: i64,
    length_size: usize,
    /// HEVC: parameter sets sent in band at the joins.
    inband: Option<Inband>,
    decoder: decoder::Video,
    frame: frame::Video,
    decoding: bool,
    /// Source presentation times `[from, to)` whose packets were copied as a group's head
    /// while the group is also decoded: their decoded frames are not encoded again.
    copied_heads: std::collections::VecDeque<(i64, i64)>,
    encoder: Option<encoder::Video>,
    /// Frames the current encoder session has taken.
    session_frames: u64,
    settings: EncoderSettings,
    pub stream_index: usize,
    pub ost_tb: Rational,
    /// Packets read so far (decode order) and the GOP the next one belongs to.
    read: usize,
    gop: usize,
    finished: bool,
    pub copied_frames: u64,
    pub encoded_frames: u64,
    /// End of the last frame written (stream time base, output timeline).
    pub end_pts: i64,
    /// Source time of the last packet read.
    pub last_t: Option<Time>,
}

/// The source's decoder configuration record.
enum Record {
    H264(Avcc),
    Hevc(hevc::Hvcc),
}

fn params_name(hevc: bool) -> &'static str {
    if hevc {
        "hevc"
    } else {
        "h264"
    }
}

/// HEVC's parameter sets in band: which are due before the next packet written.
struct Inband {
    /// The source's VPS/SPS/PPS and the edge encoder's, length-prefixed.
    source: Vec<u8>,
    encoder: Vec<u8>,
    /// Before the first packet of an edge session.
    encoder_due: bool,
    /// Before the first copied packet after an edge session.
    source_due: bool,
}

/// What every edge encoder is opened with.
struct EncoderSettings {
    codec: ffmpeg::Codec,
    width: u32,
    height: u32,
    format: Pixel,
    rate: Rational,
    /// The source stream's: the edges' timestamps are the output's, unrounded.
    time_base: Rational,
    sar: Rational,
    color: (
        ffmpeg::color::Space,
        ffmpeg::color::Range,
        ffmpeg::color::Primaries,
        ffmpeg::color::TransferCharacteristic,
    ),
    chroma_location: ffi::AVChromaLocation,
    threads: usize,
    options: Vec<(&'static str, String)>,
    /// The encoder's parameter sets (Annex B), the same for every session.
    extradata: Vec<u8>,
}

/// Either the smart path, or why the render re-encodes everything instead.
pub(super) type Prepared = Result<SmartVideo, String>;

/// Sets up the smart path for video stream `index` when it can be done, adding its output
/// stream to `out`. `Ok(Err(why))`: it cannot, nothing was added.
pub(super) fn prepare(
    job: &Job<'_>,
    ictx: &format::context::Input,
    index: usize,
    slots: &Slots,
    origin_us: i64,
    out: &mut Output,
) -> Result<Prepared, RenderError> {
    let (octx, global_header, muxer) = (&mut out.octx, out.global_header, out.muxer.as_str());
    let st = ictx.stream(index).unwrap();
    let params = st.parameters();
    let hevc = match params.id() {
        codec::Id::H264 => false,
        codec::Id::HEVC => true,
        id => {
            return Ok(Err(format!(
                "smart render: {} video is re-encoded (smart covers H.264 and HEVC)",
                id.name()
            )))
        }
    };
    // The default encoder (libx264) means "the source's codec" for the edges; another one
    // asked for means a new codec, so everything is re-encoded with it.
    let encoder_name = if hevc { "libx265" } else { "libx264" };
    if job.opts.video_codec != "libx264" && job.opts.video_codec != encoder_name {
        return Ok(Err(format!(
            "smart render: the {} encoder was asked for, so every frame is re-encoded",
            job.opts.video_codec
        )));
    }
    if !global_header {
        return Ok(Err(
            "smart render: the output format keeps no codec header (use .mp4, .mov or .mkv)".into(),
        ));
    }
    // SAFETY: reading plain fields of the stream's codec parameters.
    let (extradata, format, profile, level, field_order, width, height) = unsafe {
        let p = &*params.as_ptr();
        let extra = if p.extradata.is_null() || p.extradata_size <= 0 {
            Vec::new()
        } else {
            std::slice::from_raw_parts(p.extradata, p.extradata_size as usize).to_vec()
        };
        (
            extra,
            p.format,
            p.profile,
            p.level,
            p.field_order,
            p.width as u32,
            p.height as u32,
        )
    };
    let record = if hevc {
        hevc::Hvcc::parse(&extradata).map(Record::Hevc)
    } else {
        Avcc::parse(&extradata).map(Record::H264)
    };
    let Some(record) = record else {
        return Ok(Err(format!(
            "smart render: the {} stream has no {} record (Annex B input)",
            if hevc { "HEVC" } else { "H.264" },
            if hevc { "hvcC" } else { "avcC" }
        )));
    };
    let pix = Pixel::from(unsafe { std::mem::transmute::<i32, ffi::AVPixelFormat>(format) });
    if !matches!(pix, Pixel::YUV420P | Pixel::YUVJ420P) {
        return Ok(Err(format!(
            "smart render: {} pictures are re-encoded (smart covers 8-bit 4:2:0)",
            pix.descriptor().map_or("?", |d| d.name())
        )));
    }
    let profile_name = match (hevc, profile) {
        (false, 66 | 578) => "baseline",
        (false, 77) => "main",
        (false, 100) => "high",
        (true, 1) => "main",
        (_, p) => {
            return Ok(Err(format!(
                "smart render: {} profile {p} is re-encoded",
                if hevc { "HEVC" } else { "H.264" }
            )))
        }
    };
    if !matches!(
        field_order,
        ffi::AVFieldOrder::AV_FIELD_PROGRESSIVE | ffi::AVFieldOrder::AV_FIELD_UNKNOWN
    ) {
        return Ok(Err("smart render: interlaced video is re-encoded".into()));
    }
    let Some(rate) = constant_rate(st.rate(), st.avg_frame_rate()) else {
        return Ok(Err(
            "smart render: variable frame rate video is re-encoded".into()
        ));
    };
    let tb = st.time_base();
    let frame_ticks = 1i64.rescale(Rational(rate.denominator(), rate.numerator()), tb);
    if frame_ticks <= 0 {
        return Ok(Err(
            "smart render: the time base is coarser than a frame".into()
        ));
    }

    // The groups of pictures, from a demux-only pass over the video packets.
    let packets = scan(job, index, frame_ticks)?;
    let gops = match gops::gops(&packets) {
        Ok(g) => g,
        Err(why) => return Ok(Err(format!("smart render: {why}"))),
    };
    let delay = gops[0].delay;
    if gops.iter().any(|g| g.delay != delay) || delay < 0 {
        return Ok(Err(
            "smart render: the reorder delay changes between GOPs".into()
        ));
    }
    // Copied pictures keep their place on the frame grid, so the cut points must lie on it
    // (as `subcut cut` puts them); a cut between two frames is for the full re-encode, which
    // picks a frame per output slot.
    let phase = gops[0].start;
    let off_grid = |t: Time| {
        let r = ((t.0 + origin_us).rescale(MICROS, tb) - phase).rem_euclid(frame_ticks);
        r.min(frame_ticks - r) > frame_ticks / 10
    };
    // (An end past the last picture, where the audio runs on, is no cut in the video.)
    let pictures_end = Time(gops.last().map_or(0, |g| g.end).rescale(tb, MICROS) - origin_us);
    if let Some(s) = slots
        .spans
        .iter()
        .find(|s| off_grid(s.start) || (s.end < pictures_end && off_grid(s.end)))
    {
        return Ok(Err(format!(
            "smart render: the cut at {} s or {} s lies between two frames",
            s.start.as_secs_f64(),
            s.end.as_secs_f64()
        )));
    }
    let to_time = |ts: i64| Time(ts.rescale(tb, MICROS) - origin_us);
    let tol = Time(frame_ticks.rescale(tb, MICROS) / 2 - 1);
    let actions = gops::actions(&gops, &packets, to_time, &slots.spans, tol);
    if !actions
        .iter()
        .any(|a| matches!(a, Action::Copy { .. } | Action::Head { .. }))
    {
        return Ok(Err(
            "smart render: no GOP lies wholly inside a kept span".into()
        ));
    }
    let last_needed = actions
        .iter()
        .rposition(|a| *a != Action::Skip)
        .unwrap_or(0);
    let shifts = slots
        .spans
        .iter()
        .zip(&slots.out_starts)
        // Source times count from the container's start (`origin_us`); output times from 0.
        .map(|(s, o)| (o.0 - s.start.0 - origin_us).rescale(MICROS, tb))
        .collect();

    // The decoder, for the cut GOPs.
    let mut ctx = codec::context::Context::from_parameters(params.clone())
        .map_err(|e| job.unsupported(format!("{} video: {e}", params_name(hevc))))?;
    // SAFETY: plain field write before the decoder is opened (0 = automatic).
    unsafe { (*ctx.as_mut_ptr()).thread_count = job.opts.threads as i32 };
    let mut dec = ctx.decoder();
    dec.set_packet_time_base(tb);
    let dec = dec.video().map_err(|e| {
        job.unsupported(format!(
            "cannot open the {} decoder: {e}",
            params_name(hevc)
        ))
    })?;

    // The edge encoder. H.264: its parameter sets get ids the source does not use, and the
    // output's avcC holds both. HEVC: in band (see the hevc module).
    let codec = encoder::find_by_name(encoder_name)
        .ok_or_else(|| job.encode_err(format!("no {encoder_name} encoder")))?;
    let crf = job.opts.crf.min(EDGE_CRF);
    // Above 1080p: a shorter lookahead and a frame thread per core (see the x264 module).
    let large = x264::for_encoder(
        encoder_name,
        width,
        height,
        &job.opts.preset,
        job.opts.threads,
    );
    let mut options = vec![
        ("crf", crf.to_string()),
        ("preset", job.opts.preset.clone()),
        ("profile", profile_name.to_string()),
    ];
    match &record {
        Record::H264(avcc) => {
            let Some((sps_ids, pps_ids)) = avcc.ids() else {
                return Ok(Err("smart render: unreadable parameter sets".into()));
            };
            let Some(id) = (0..32).find(|i| !sps_ids.contains(i) && !pps_ids.contains(i)) else {
                return Ok(Err("smart render: no free parameter set id".into()));
            };
            options.push(("level", format!("{}.{}", level / 10, level % 10)));
            let mut params = format!("sps-id={id}:bframes=0");
            if let Some(l) = &large {
                params = format!("{params}:{}", l.params);
            }
            options.push(("x264-params", params));
        }
        Record::Hevc(h) => options.push((
            "x265-params",
            format!(
                "bframes=0:log-level=error:level-idc={:.1}",
                f64::from(h.level) / 30.0
            ),
        )),
    }
    let mut settings = EncoderSettings {
        codec,
        width,
        height,
        format: pix,
        rate,
        time_base: tb,
        sar: sample_aspect_ratio(ictx, &st),
        color: (
            dec.color_space(),
            dec.color_range(),
            dec.color_primaries(),
            dec.color_transfer_characteristic(),
        ),
        // SAFETY: reading a plain field of the opened decoder.
        chroma_location: unsafe { (*dec.as_ptr()).chroma_sample_location },
        threads: large.as_ref().map_or(job.opts.threads, |l| l.threads),
        options,
        extradata: Vec::new(),
    };
    let probe = match settings.open() {
        Ok(e) => e,
        Err(why) => return Ok(Err(format!("smart render: {why}"))),
    };
    settings.extradata = extradata_of(&probe);
    let (extradata, inband, length_size) = match &record {
        Record::H264(avcc) => {
            let Some(merged) = h264::merge(avcc, &settings.extradata) else {
                return Ok(Err(
                    "smart render: the encoder's parameter sets cannot join the source's".into(),
                ));
            };
            (merged.to_bytes(), None, avcc.length_size)
        }
        Record::Hevc(h) => {
            let enc_sets = hevc::annexb_parameter_sets(&settings.extradata);
            if enc_sets.len() < 3 || h.parameter_sets.len() < 3 {
                return Ok(Err("smart render: missing HEVC parameter sets".into()));
            }
            let inband = Inband {
                source: hevc::length_prefixed(&h.parameter_sets, h.length_size),
                encoder: hevc::length_prefixed(&enc_sets, h.length_size),
                encoder_due: false,
                source_due: false,
            };
            (extradata.clone(), Some(inband), h.length_size)
        }
    };

    // The output stream: the source's parameters (H.264: with both parameter sets).
    let mut ost = octx
        .add_stream(encoder::find(params.id()))
        .map_err(|e| job.encode_err(format!("cannot add the video stream: {e}")))?;
    ost.set_parameters(params);
    ost.set_time_base(tb);
    ost.set_avg_frame_rate(rate);
    ost.set_rate(rate);
    let stream_index = job.finish_video_stream(&mut ost, &st, settings.sar, true);
    // SAFETY: the stream's codec parameters are ours; the old extradata is freed and the new
    // one allocated with FFmpeg's padding, as FFmpeg requires.
    unsafe {
        let p = (*ost.as_mut_ptr()).codecpar;
        if hevc && matches!(muxer, "mp4" | "mov") {
            // The sample entry that allows parameter sets in band.
            (*p).codec_tag = u32::from_le_bytes(*b"hev1");
        }
        ffi::av_freep(&mut (*p).extradata as *mut *mut u8 as *mut std::ffi::c_void);
        let buf = ffi::av_mallocz(extradata.len() + ffi::AV_INPUT_BUFFER_PADDING_SIZE as usize)
            as *mut u8;
        if buf.is_null() {
            return Err(job.encode_err("out of memory"));
        }
        std::ptr::copy_nonoverlapping(extradata.as_ptr(), buf, extradata.len());
        (*p).extradata = buf;
        (*p).extradata_size = extradata.len() as i32;
    }

    Ok(Ok(SmartVideo {
        index,
        tb,
        origin_us,
        gops,
        actions,
        last_needed,
        shifts,
        spans: slots.spans.clone(),
        tol,
        delay,
        frame_ticks,
        length_size,
        inband,
        decoder: dec,
        frame: frame::Video::empty(),
        decoding: false,
        copied_heads: Default::default(),
        encoder: Some(probe),
        session_frames: 0,
        settings,
        stream_index,
        ost_tb: tb,
        read: 0,
        gop: 0,
        finished: false,
        copied_frames: 0,
        encoded_frames: 0,
        end_pts: 0,
        last_t: None,
    }))
}

/// The video packets' timing and key flags, read without decoding (the job's shared pass).
/// A packet without a duration gets one frame.
fn scan(job: &Job<'_>, index: usize, frame_ticks: i64) -> Result<Vec<PacketInfo>, RenderError> {
    let Some(packets) = job.scan(index)? else {
        // No timestamps: the groups cannot be placed; the caller re-encodes.
        return Ok(vec![PacketInfo {
            pts: 0,
            dts: 0,
            duration: 0,
            key: false,
        }]);
    };
    Ok(packets
        .iter()
        .map(|p| PacketInfo {
            duration: if p.duration > 0 {
                p.duration
            } else {
                frame_ticks
            },
            ..*p
        })
        .collect())
}

fn extradata_of(enc: &encoder::Video) -> Vec<u8> {
    // SAFETY: reading the opened encoder's extradata.
    unsafe {
        let c = &*enc.as_ptr();
        if c.extradata.is_null() || c.extradata_size <= 0 {
            Vec::new()
        } else {
            std::slice::from_raw_parts(c.extradata, c.extradata_size as usize).to_vec()
        }
    }
}

impl EncoderSettings {
    fn open(&self) -> Result<encoder::Video, String> {
        let mut enc = codec::context::Context::new_with_codec(self.codec)
            .encoder()
            .video()
            .map_err(|e| format!("{}: {e}", self.codec.name()))?;
        enc.set_width(self.width);
        enc.set_height(self.height);
        enc.set_format(self.format);
        enc.set_time_base(self.time_base);
        enc.set_frame_rate(Some(self.rate));
        if self.sar.numerator() > 0 {
            enc.set_aspect_ratio(self.sar);
        }
        enc.set_colorspace(self.color.0);
        enc.set_color_range(self.color.1);
        enc.set_color_primaries(self.color.2);
        enc.set_color_transfer_characteristic(self.color.3);
        // SAFETY: plain field writes before the encoder is opened.
        unsafe {
            let c = enc.as_mut_ptr();
            (*c).chroma_sample_location = self.chroma_location;
            (*c).thread_count = self.threads as i32;
        }
        enc.set_flags(codec::Flags::GLOBAL_HEADER);
        let mut dict = Dictionary::new();
        for (k, v) in &self.options {
            dict.set(k, v);
        }
        enc.open_as_with(self.codec, dict)
            .map_err(|e| format!("cannot open {} for the edges: {e}", self.codec.name()))
    }
}

impl SmartVideo {
    /// Whether every packet the spans need has been handled.
    pub fn done(&self) -> bool {
        self.finished
    }

    /// Takes the next video packet (decode order).
    pub fn packet(&mut self, p: Packet, octx: &mut format::context::Output) -> Result<(), String> {
        if self.finished {
            return Ok(());
        }
        let n = self.read;
        self.read += 1;
        while self.gop + 1 < self.gops.len() && n >= self.gops[self.gop + 1].first {
            self.gop += 1;
        }
        if let Some(pts) = p.pts() {
            self.last_t = Some(Time(pts.rescale(self.tb, MICROS) - self.origin_us));
        }
        if self.gop > self.last_needed {
            return self.finish(octx);
        }
        let g = self.gops[self.gop];
        let at = n - g.first;
        match self.actions[self.gop] {
            Action::Skip => self.end_decoding(octx),
            Action::Decode { decode } if at < decode => {
                self.send(&p)?;
                self.receive_frames(octx)
            }
            // Past the group's last kept frame: the decoder gives up its frames and starts
            // afresh at the next key frame.
            Action::Decode { .. } => self.end_decoding(octx),
            Action::Copy { span } => {
                self.end_decoding(octx)?;
                self.close_encoder(octx)?;
                self.copy(p, span, octx)
            }
            Action::Head {
                span,
                packets,
                until,
                decode,
            } => {
                if at == 0 {
                    // The head is written between encoder sessions.
                    self.end_decoding(octx)?;
                    self.close_encoder(octx)?;
                    if decode > 0 {
                        self.copied_heads.push_back((g.start, until));
                    }
                }
                // Every packet up to the last kept frame's feeds the decoder: the re-encoded
                // frames refer to the head.
                if at < decode {
                    self.send(&p)?;
                }
                if at < packets {
                    self.copy(p, span, octx)?;
                }
                if at < decode {
                    self.receive_frames(octx)
                } else {
                    self.end_decoding(octx)
                }
            }
        }
    }

    /// Sends a packet to the decoder (damaged data is passed over, as in the full re-encode).
    fn send(&mut self, p: &Packet) -> Result<(), String> {
        self.decoding = true;
        match self.decoder.send_packet(p) {
            Ok(()) | Err(ffmpeg::Error::InvalidData) => Ok(()),
            Err(e) => Err(format!("video decoder: {e}")),
        }
    }

    /// Writes a copied packet on the output timeline.
    fn copy(
        &mut self,
        mut p: Packet,
        span: usize,
        octx: &mut format::context::Output,
    ) -> Result<(), String> {
        let shift = self.shifts[span];
        let (pts, dts) = (
            p.pts().unwrap_or_default() + shift,
            p.dts().unwrap_or_default() + shift,
        );
        let duration = if p.duration() > 0 {
            p.duration()
        } else {
            self.frame_ticks
        };
        if let Some(ib) = self.inband.as_mut().filter(|ib| ib.source_due) {
            // The source's parameter sets again, after an edge's.
            ib.source_due = false;
            let data = [&ib.source[..], p.data().unwrap_or_default()].concat();
            let flags = p.flags();
            p = Packet::copy(&data);
            p.set_flags(flags);
        }
        p.set_pts(Some(pts));
        p.set_dts(Some(dts));
        p.set_duration(duration);
        self.end_pts = self.end_pts.max(pts + duration);
        self.copied_frames += 1;
        self.write(p, octx)
    }

    fn write(&self, mut p: Packet, octx: &mut format::context::Output) -> Result<(), String> {
        p.set_stream(self.stream_index);
        p.set_position(-1);
        p.rescale_ts(self.tb, self.ost_tb);
        p.write_interleaved(octx)
            .map_err(|e| format!("writing video: {e}"))
    }

    /// Frames the decoder has ready: those inside a span go to the edge encoder.
    fn receive_frames(&mut self, octx: &mut format::context::Output) -> Result<(), String> {
        loop {
            match self.decoder.receive_frame(&mut self.frame) {
                Ok(()) => {
                    let Some(ts) = self.frame.timestamp().or(self.frame.pts()) else {
                        continue;
                    };
                    while self.copied_heads.front().is_some_and(|h| h.1 <= ts) {
                        self.copied_heads.pop_front();
                    }
                    if self.copied_heads.front().is_some_and(|h| h.0 <= ts) {
                        continue;
                    }
                    let t = Time(ts.rescale(self.tb, MICROS) - self.origin_us);
                    let Some(i) = self
                        .spans
                        .iter()
                        .position(|s| t + self.tol >= s.start && t + self.tol < s.end)
                    else {
                        continue;
                    };
                    let out = ts + self.shifts[i];
                    self.encode_frame(out, octx)?;
                }
                Err(ffmpeg::Error::Other { errno }) if errno == EAGAIN => return Ok(()),
                Err(ffmpeg::Error::Eof) => return Ok(()),
                Err(ffmpeg::Error::InvalidData) => continue,
                Err(e) => return Err(format!("video decoder: {e}")),
            }
        }
    }

    fn encode_frame(&mut self, out: i64, octx: &mut format::context::Output) -> Result<(), String> {
        if self.encoder.is_none() {
            let enc = self.settings.open()?;
            if extradata_of(&enc) != self.settings.extradata {
                return Err("the edge encoder changed its parameter sets".into());
            }
            self.encoder = Some(enc);
        }
        if self.session_frames == 0 {
            if let Some(ib) = self.inband.as_mut() {
                ib.encoder_due = true;
            }
        }
        self.frame.set_pts(Some(out));
        self.frame.set_kind(picture::Type::None);
        let enc = self.encoder.as_mut().expect("opened above");
        enc.send_frame(&self.frame)
            .map_err(|e| format!("video encoder: {e}"))?;
        self.encoded_frames += 1;
        self.session_frames += 1;
        self.end_pts = self.end_pts.max(out + self.frame_ticks);
        self.drain_encoder(octx)
    }

    /// Writes the packets the edge encoder has ready: length-prefixed NAL units, decode time
    /// the source's reorder delay before presentation.
    fn drain_encoder(&mut self, octx: &mut format::context::Output) -> Result<(), String> {
        let Some(enc) = self.encoder.as_mut() else {
            return Ok(());
        };
        let mut packets = Vec::new();
        let mut packet = Packet::empty();
        loop {
            match enc.receive_packet(&mut packet) {
                Ok(()) => {
                    let data = packet.data().unwrap_or_default();
                    let mut body = h264::annexb_to_length_prefixed(data, self.length_size)
                        .ok_or("an encoded picture is too large for the stream's NAL size")?;
                    if let Some(ib) = self.inband.as_mut().filter(|ib| ib.encoder_due) {
                        ib.encoder_due = false;
                        body = [&ib.encoder[..], &body].concat();
                    }
                    let mut out = Packet::copy(&body);
                    let pts = packet.pts().unwrap_or_default();
                    out.set_pts(Some(pts));
                    out.set_dts(Some(pts - self.delay));
                    out.set_duration(self.frame_ticks);
                    out.set_flags(packet.flags());
                    packets.push(out);
                }
                Err(ffmpeg::Error::Other { errno }) if errno == EAGAIN => break,
                Err(ffmpeg::Error::Eof) => break,
                Err(e) => return Err(format!("video encoder: {e}")),
            }
        }
        for p in packets {
            self.write(p, octx)?;
        }
        Ok(())
    }

    /// Ends a run of decoded GOPs: the decoder gives up its last frames and is reset.
    fn end_decoding(&mut self, octx: &mut format::context::Output) -> Result<(), String> {
        if !self.decoding {
            return Ok(());
        }
        self.decoding = false;
        match self.decoder.send_eof() {
            Ok(()) | Err(ffmpeg::Error::Eof) => {}
            Err(e) => return Err(format!("video decoder: {e}")),
        }
        self.receive_frames(octx)?;
        self.decoder.flush();
        Ok(())
    }

    /// Ends the current edge encoder session (its last packets are written).
    fn close_encoder(&mut self, octx: &mut format::context::Output) -> Result<(), String> {
        let Some(enc) = self.encoder.as_mut() else {
            return Ok(());
        };
        if self.session_frames == 0 {
            // No frame yet (the encoder opened up front): keep it for the next edge.
            return Ok(());
        }
        match enc.send_eof() {
            Ok(()) | Err(ffmpeg::Error::Eof) => {}
            Err(e) => return Err(format!("video encoder: {e}")),
        }
        self.drain_encoder(octx)?;
        self.encoder = None;
        self.session_frames = 0;
        if let Some(ib) = self.inband.as_mut() {
            ib.source_due = true;
        }
        Ok(())
    }

    /// At the end of the input (or past the last needed GOP): flush everything.
    pub fn finish(&mut self, octx: &mut format::context::Output) -> Result<(), String> {
        if self.finished {
            return Ok(());
        }
        self.end_decoding(octx)?;
        self.close_encoder(octx)?;
        self.encoder = None;
        self.finished = true;
        Ok(())
    }
}
