//! The video path: decoded frames → frame selection ([`super::slots`]) → optional filter graph
//! (turning upright and reframing per [`super::reframe::Plan`], then burn-in on the output
//! frame, pixel format/size conversion) → encoder → muxer.

use std::collections::BTreeMap;
use std::ptr;

use ffmpeg_next as ffmpeg;

use ffmpeg::error::EAGAIN;
use ffmpeg::format::Pixel;
use ffmpeg::{encoder, ffi, filter, format, frame, picture, Packet, Rational};

use super::burn_in::{subtitles_filter, BurnIn};
use super::reframe::Plan;
use super::slots::{CfrSelector, Pick, Slots, VfrSelector};
use crate::media::MICROS;
use crate::time::Time;

/// How frames are chosen and timed.
pub(super) enum Mode {
    /// Constant frame rate: output frame `k` at `k / fps` (encoder time base `1/fps`).
    Cfr(CfrSelector),
    /// Variable frame rate: kept frames at their mapped times.
    Vfr(VfrSelector),
}

/// What the encoder was opened with (frames that differ go through the filter graph).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) struct Geometry {
    pub width: u32,
    pub height: u32,
    pub format: Pixel,
}

/// A filter graph `buffer → [the plan's filters, or a scale] → [subtitles] → format →
/// buffersink`.
struct Graph {
    _graph: filter::Graph,
    src: *mut ffi::AVFilterContext,
    sink: *mut ffi::AVFilterContext,
    /// The input geometry it was built for.
    input: Geometry,
}

pub(super) struct VideoOut {
    pub encoder: encoder::Video,
    pub stream_index: usize,
    pub enc_tb: Rational,
    pub ost_tb: Rational,
    pub mode: Mode,
    pub geometry: Geometry,
    pub sar: Rational,
    pub burn_in: Option<BurnIn>,
    /// Turning upright and reframing; `None`: the picture as decoded.
    plan: Option<Plan>,
    graph: Option<Graph>,
    /// The last decoded frame (the candidate for the next slot / the frame shown at a span
    /// start) and its source time.
    held: Option<frame::Video>,
    /// Output lookahead: a frame waits here until the next one gives its duration.
    pending: Option<(frame::Video, i64)>,
    /// Packet durations by pts (encoder time base), filled as frames are sent.
    durations: BTreeMap<i64, i64>,
    filtered: frame::Video,
    pub frames: u64,
    /// End of the last frame sent (encoder time base).
    pub end_pts: i64,
    /// Source time of the last decoded frame.
    pub last_t: Option<Time>,
    frame_step: Time,
}

/// An error from the video path, described for the user.
pub(super) type VResult<T> = Result<T, String>;

impl VideoOut {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        encoder: encoder::Video,
        stream_index: usize,
        enc_tb: Rational,
        mode: Mode,
        geometry: Geometry,
        sar: Rational,
        burn_in: Option<BurnIn>,
        plan: Option<Plan>,
        frame_step: Time,
    ) -> VideoOut {
        VideoOut {
            encoder,
            stream_index,
            enc_tb,
            ost_tb: enc_tb,
            mode,
            geometry,
            sar,
            burn_in,
            plan,
            graph: None,
            held: None,
            pending: None,
            durations: BTreeMap::new(),
            filtered: frame::Video::empty(),
            frames: 0,
            end_pts: 0,
            last_t: None,
            frame_step,
        }
    }

    pub fn done(&self, slots: &Slots) -> bool {
        match &self.mode {
            Mode::Cfr(sel) => sel.done(),
            Mode::Vfr(sel) => sel.done(slots),
        }
    }

    /// Takes a decoded frame at source time `t` (or the next expected time when it has no
    /// timestamp); returns a frame object to decode into next.
    pub fn push(
        &mut self,
        slots: &Slots,
        mut f: frame::Video,
        t: Option<Time>,
        octx: &mut format::context::Output,
    ) -> VResult<frame::Video> {
        let t = match (t, self.last_t) {
            (Some(t), Some(last)) if t <= last => {
                // Not after the previous frame: a duplicate timestamp; show the newer picture.
                last + Time(1)
            }
            (Some(t), _) => t,
            (None, Some(last)) => last + self.frame_step,
            (None, None) => Time::ZERO,
        };
        self.last_t = Some(t);
        let has_held = self.held.is_some();
        match &mut self.mode {
            Mode::Cfr(sel) => {
                let picks = sel.push(slots, t, has_held);
                for p in picks {
                    let (src, slot) = match p {
                        Pick::Held(k) => (self.held.as_ref().expect("held frame"), k),
                        Pick::New(k) => (&f, k),
                    };
                    let copy = share(src);
                    self.emit(copy, slot, octx)?;
                }
            }
            Mode::Vfr(sel) => {
                let picks = sel.push(slots, t, has_held);
                for out in picks.held {
                    let copy = share(self.held.as_ref().expect("held frame"));
                    let pts = out.0.rescale_round(MICROS, self.enc_tb);
                    self.emit(copy, pts, octx)?;
                }
                if let Some(out) = picks.new {
                    let pts = out.0.rescale_round(MICROS, self.enc_tb);
                    self.emit(share(&f), pts, octx)?;
                }
            }
        }
        // The new frame becomes the held one; the old one's object is reused for decoding.
        f.set_kind(picture::Type::None);
        Ok(self.held.replace(f).unwrap_or_else(frame::Video::empty))
    }

    /// Fills the remaining output slots with the last frame, flushes filter and encoder.
    pub fn finish(&mut self, slots: &Slots, octx: &mut format::context::Output) -> VResult<()> {
        let end = match &mut self.mode {
            Mode::Cfr(sel) => {
                let rest = sel.finish();
                let end = sel.count;
                if let Some(held) = self.held.take() {
                    for k in rest {
                        self.emit(share(&held), k, octx)?;
                    }
                }
                end
            }
            Mode::Vfr(sel) => {
                let rest = sel.finish(slots);
                if let Some(held) = self.held.take() {
                    for out in rest {
                        let pts = out.0.rescale_round(MICROS, self.enc_tb);
                        self.emit(share(&held), pts, octx)?;
                    }
                }
                slots.total.0.rescale_round(MICROS, self.enc_tb)
            }
        };
        self.held = None;
        if let Some((f, pts)) = self.pending.take() {
            let dur = (end - pts).max(1);
            self.send(f, pts, dur, octx)?;
        }
        if let Some(g) = &self.graph {
            // SAFETY: a live buffer source; a null frame marks EOF.
            let r = unsafe { ffi::av_buffersrc_write_frame(g.src, ptr::null()) };
            if r < 0 {
                return Err(format!(
                    "flushing the video filter: {}",
                    ffmpeg::Error::from(r)
                ));
            }
            self.pull_filtered(octx)?;
        }
        match self.encoder.send_eof() {
            Ok(()) | Err(ffmpeg::Error::Eof) => {}
            Err(e) => return Err(format!("flushing the video encoder: {e}")),
        }
        self.drain(octx)
    }

    /// Queues a frame for output at `pts` (encoder time base); a frame at the same or an
    /// earlier pts than the queued one replaces it (the later picture wins).
    fn emit(
        &mut self,
        f: frame::Video,
        pts: i64,
        octx: &mut format::context::Output,
    ) -> VResult<()> {
        if let Some((prev, prev_pts)) = self.pending.take() {
            if pts > prev_pts {
                self.send(prev, prev_pts, pts - prev_pts, octx)?;
            }
        }
        self.pending = Some((f, pts));
        Ok(())
    }

    fn send(
        &mut self,
        mut f: frame::Video,
        pts: i64,
        dur: i64,
        octx: &mut format::context::Output,
    ) -> VResult<()> {
        f.set_pts(Some(pts));
        f.set_kind(picture::Type::None);
        // SAFETY: plain field writes on a frame we own.
        unsafe {
            (*f.as_mut_ptr()).pkt_duration = dur;
            (*f.as_mut_ptr()).sample_aspect_ratio = self.sar.into();
        }
        self.durations.insert(pts, dur);
        self.frames += 1;
        self.end_pts = pts + dur;

        let input = Geometry {
            width: f.width(),
            height: f.height(),
            format: f.format(),
        };
        if self.burn_in.is_none()
            && self.plan.is_none()
            && input == self.geometry
            && self.graph.is_none()
        {
            self.encoder
                .send_frame(&f)
                .map_err(|e| format!("video encoder: {e}"))?;
            return self.drain(octx);
        }
        if self.graph.as_ref().is_none_or(|g| g.input != input) {
            if self.graph.is_some() {
                // Geometry changed mid-stream: flush the old graph into the encoder first.
                let g = self.graph.as_ref().unwrap();
                // SAFETY: a live buffer source; a null frame marks EOF.
                unsafe { ffi::av_buffersrc_write_frame(g.src, ptr::null()) };
                self.pull_filtered(octx)?;
            }
            self.graph = Some(self.build_graph(input)?);
        }
        let g = self.graph.as_ref().unwrap();
        // SAFETY: KEEP_REF semantics: the buffer source takes a new reference, `f` stays ours.
        let r = unsafe { ffi::av_buffersrc_write_frame(g.src, f.as_ptr()) };
        if r < 0 {
            return Err(format!("video filter: {}", ffmpeg::Error::from(r)));
        }
        self.pull_filtered(octx)
    }

    /// Moves every frame the filter graph has ready into the encoder.
    fn pull_filtered(&mut self, octx: &mut format::context::Output) -> VResult<()> {
        let Some(g) = self.graph.as_ref() else {
            return Ok(());
        };
        let sink = g.sink;
        loop {
            // SAFETY: a live buffersink and a frame we own (unreffed first).
            let r = unsafe {
                ffi::av_frame_unref(self.filtered.as_mut_ptr());
                ffi::av_buffersink_get_frame(sink, self.filtered.as_mut_ptr())
            };
            if r == ffi::AVERROR(EAGAIN) || r == ffi::AVERROR_EOF {
                return Ok(());
            }
            if r < 0 {
                return Err(format!("video filter: {}", ffmpeg::Error::from(r)));
            }
            self.filtered.set_kind(picture::Type::None);
            self.encoder
                .send_frame(&self.filtered)
                .map_err(|e| format!("video encoder: {e}"))?;
            self.drain(octx)?;
        }
    }

    /// Writes every packet the encoder has ready.
    fn drain(&mut self, octx: &mut format::context::Output) -> VResult<()> {
        let mut packet = Packet::empty();
        loop {
            match self.encoder.receive_packet(&mut packet) {
                Ok(()) => {
                    if let Some(pts) = packet.pts() {
                        if let Some(d) = self.durations.remove(&pts) {
                            packet.set_duration(d);
                        }
                    }
                    packet.set_stream(self.stream_index);
                    packet.set_position(-1);
                    packet.rescale_ts(self.enc_tb, self.ost_tb);
                    packet
                        .write_interleaved(octx)
                        .map_err(|e| format!("writing video: {e}"))?;
                }
                Err(ffmpeg::Error::Other { errno }) if errno == EAGAIN => return Ok(()),
                Err(ffmpeg::Error::Eof) => return Ok(()),
                Err(e) => return Err(format!("video encoder: {e}")),
            }
        }
    }

    fn build_graph(&self, input: Geometry) -> VResult<Graph> {
        let why = |what: &str, e: ffmpeg::Error| format!("video filter ({what}): {e}");
        let mut graph = filter::Graph::new();
        let sar = if self.sar.numerator() > 0 && self.sar.denominator() > 0 {
            self.sar
        } else {
            Rational(1, 1)
        };
        let args = format!(
            "video_size={}x{}:pix_fmt={}:time_base={}/{}:pixel_aspect={}/{}",
            input.width,
            input.height,
            ffi::AVPixelFormat::from(input.format) as i32,
            self.enc_tb.numerator(),
            self.enc_tb.denominator(),
            sar.numerator(),
            sar.denominator()
        );
        let find = |name: &str| filter::find(name).ok_or_else(|| format!("no {name} filter"));
        let mut src = graph
            .add(&find("buffer")?, "in", &args)
            .map_err(|e| why("buffer", e))?;
        // Turned upright and reframed (or scaled back to the encoder's size), as one chain.
        let spec = match &self.plan {
            Some(p) => p.filters((input.width, input.height)),
            None if (input.width, input.height) != (self.geometry.width, self.geometry.height) => {
                format!("scale={}:{}", self.geometry.width, self.geometry.height)
            }
            None => String::new(),
        };
        // Then the captions, drawn on the output frame, and the encoder's pixel format.
        let mut tail: Vec<filter::Context> = Vec::new();
        if let Some(b) = &self.burn_in {
            tail.push(subtitles_filter(&mut graph, b)?);
        }
        tail.push(
            graph
                .add(
                    &find("format")?,
                    "format",
                    &format!(
                        "pix_fmts={}",
                        self.geometry
                            .format
                            .descriptor()
                            .map_or("yuv420p", |d| d.name())
                    ),
                )
                .map_err(|e| why("format", e))?,
        );
        let mut sink = graph
            .add(&find("buffersink")?, "out", "")
            .map_err(|e| why("buffersink", e))?;
        for i in 1..tail.len() {
            let (a, b) = tail.split_at_mut(i);
            a[i - 1].link(0, &mut b[0], 0);
        }
        tail.last_mut().unwrap().link(0, &mut sink, 0);
        if spec.is_empty() {
            src.link(0, &mut tail[0], 0);
        } else {
            let first = if self.burn_in.is_some() {
                "subtitles"
            } else {
                "format"
            };
            // The chain's open ends are named after the filters they link to (libavfilter
            // fills in only an unnamed `[in]`).
            graph
                .output("in", 0)
                .and_then(|p| p.input(first, 0))
                .and_then(|p| p.parse(&format!("[in]{spec}[{first}]")))
                .map_err(|e| why(&spec, e))?;
        }
        graph.validate().map_err(|e| why("configure", e))?;
        // SAFETY: the contexts live as long as the graph, which `Graph` owns.
        let (src, sink) = unsafe { (src.as_mut_ptr(), sink.as_mut_ptr()) };
        Ok(Graph {
            _graph: graph,
            src,
            sink,
            input,
        })
    }
}

/// A second reference to the same picture (no pixel copy).
pub(super) fn share(f: &frame::Video) -> frame::Video {
    let mut g = frame::Video::empty();
    // SAFETY: both frames are valid; av_frame_ref adds a reference to refcounted buffers
    // (and copies non-refcounted data).
    unsafe {
        ffi::av_frame_ref(g.as_mut_ptr(), f.as_ptr());
    }
    g
}

trait RescaleRound {
    fn rescale_round(self, from: Rational, to: Rational) -> i64;
}
impl RescaleRound for i64 {
    fn rescale_round(self, from: Rational, to: Rational) -> i64 {
        // SAFETY: pure arithmetic.
        unsafe {
            ffi::av_rescale_q_rnd(
                self,
                from.into(),
                to.into(),
                ffi::AVRounding::AV_ROUND_NEAR_INF,
            )
        }
    }
}

/// The pixel format to encode in: the decoded one when the encoder takes it (no conversion),
/// else the encoder's closest. Odd sizes need a format without chroma subsampling along the
/// odd dimension (libx264 refuses 4:2:0 at 321×241), so they get 4:4:4 rather than a resize.
pub(super) fn choose_format(codec: ffmpeg::Codec, src: Pixel, width: u32, height: u32) -> Pixel {
    let fits = |p: Pixel| {
        let (cw, ch) = p
            .descriptor()
            .map_or((1, 1), |d| (d.log2_chroma_w(), d.log2_chroma_h()));
        (width.is_multiple_of(2) || cw == 0) && (height.is_multiple_of(2) || ch == 0)
    };
    let Some(list) = codec
        .video()
        .ok()
        .and_then(|v| v.formats())
        .map(|it| it.collect::<Vec<Pixel>>())
    else {
        return src;
    };
    if list.contains(&src) && fits(src) {
        return src;
    }
    let mut candidates: Vec<ffi::AVPixelFormat> = list
        .iter()
        .copied()
        .filter(|&p| fits(p))
        .map(ffi::AVPixelFormat::from)
        .collect();
    if candidates.is_empty() {
        return list.first().copied().unwrap_or(src);
    }
    candidates.push(ffi::AVPixelFormat::AV_PIX_FMT_NONE);
    // SAFETY: a NONE-terminated list, as FFmpeg expects.
    let best = unsafe {
        ffi::avcodec_find_best_pix_fmt_of_list(candidates.as_ptr(), src.into(), 0, ptr::null_mut())
    };
    Pixel::from(best)
}
