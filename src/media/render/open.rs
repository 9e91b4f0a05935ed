//! Opening a stream's decoder and encoder, and its output stream: the video encoder takes
//! the decoded picture as it is (size, pixel aspect ratio, colours, rotation), or the frame
//! of its [`reframe::Plan`] when captions are burned in or the picture reframed; the audio
//! encoder the decoded rate and layout; the codecs' own limits are reported, never worked
//! around by resampling.

use std::ptr;

use ffmpeg_next as ffmpeg;

use ffmpeg::format::Pixel;
use ffmpeg::{codec, encoder, ffi, format, frame, ChannelLayout, Dictionary, Rational};

use super::burn_in::BurnIn;
use super::job::{AudioIn, Job, VideoIn};
use super::slots::{CfrSelector, Slots, VfrSelector};
use super::{audio, audio_copy, reframe, video, x264, RenderError, RenderMode};
use crate::media::probe::{constant_rate, frame_rate, rotation, sample_aspect_ratio};
use crate::time::Time;

/// The source audio stream, as the copy check needs it.
struct AacSource<'a> {
    index: usize,
    codec: codec::Id,
    profile: i32,
    extradata: &'a [u8],
    tb: Rational,
    rate: u32,
}

impl Job<'_> {
    /// Opens the decoder of video stream `index`, the encoder (same size, pixel aspect ratio,
    /// colours; the frame rate for constant-rate video) and the output stream.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn open_video(
        &self,
        ictx: &format::context::Input,
        index: usize,
        slots: &Slots,
        burn_in: Option<BurnIn>,
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
        let sar = sample_aspect_ratio(ictx, &st);
        // Burn-in and reframing filter the picture: the encoder takes the plan's frame.
        let plan = reframe::Plan::new(
            reframe::Source {
                width,
                height,
                sar: (sar.numerator(), sar.denominator()),
                rotation: rotation(&st),
            },
            self.opts,
        );
        let (width, height, out_sar) = match &plan {
            Some(p) => (p.width, p.height, Rational(p.sar.0, p.sar.1)),
            None => (width, height, sar),
        };
        let format = video::choose_format(codec, src_format, width, height);
        let VideoTiming {
            mode,
            enc_tb,
            enc_rate,
            constant,
            frame_step,
        } = video_timing(&st, slots);

        let mut enc = codec::context::Context::new_with_codec(codec)
            .encoder()
            .video()
            .map_err(|e| self.encode_err(format!("{}: {e}", self.opts.video_codec)))?;
        enc.set_width(width);
        enc.set_height(height);
        enc.set_format(format);
        enc.set_time_base(enc_tb);
        enc.set_frame_rate(Some(enc_rate));
        if out_sar.numerator() > 0 {
            enc.set_aspect_ratio(out_sar);
        }
        enc.set_colorspace(dec.color_space());
        enc.set_color_range(dec.color_range());
        enc.set_color_primaries(dec.color_primaries());
        enc.set_color_transfer_characteristic(dec.color_transfer_characteristic());
        // Above 1080p x264 gets a shorter lookahead and one frame thread per core (see the
        // x264 module): its frames in flight are most of the render's memory.
        let large = x264::for_encoder(
            codec.name(),
            width,
            height,
            &self.opts.preset,
            self.opts.threads,
        );
        let threads = large.as_ref().map_or(self.opts.threads, |l| l.threads);
        // SAFETY: plain field writes before the encoder is opened.
        unsafe {
            let c = enc.as_mut_ptr();
            (*c).chroma_sample_location = (*dec.as_ptr()).chroma_sample_location;
            (*c).thread_count = threads as i32;
        }
        if global_header {
            enc.set_flags(codec::Flags::GLOBAL_HEADER);
        }
        let mut dict = Dictionary::new();
        dict.set("crf", &self.opts.crf.to_string());
        dict.set("preset", &self.opts.preset);
        if let Some(l) = &large {
            dict.set("x264-params", &l.params);
        }
        let enc = enc.open_as_with(codec, dict).map_err(|e| {
            self.encode_err(format!(
                "cannot open the {} encoder for {width}x{height} {}: {e}",
                self.opts.video_codec,
                format.descriptor().map_or("?", |d| d.name())
            ))
        })?;

        let stream_index = self.add_video_stream(
            octx,
            codec,
            &enc,
            &st,
            enc_tb,
            constant.then_some(enc_rate),
            out_sar,
            plan.is_none(),
        )?;
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
                plan,
                frame_step,
            ),
        })
    }

    /// Adds the output video stream for `enc`: its time base, the constant frame rate if any,
    /// the pixel aspect ratio, the input's display matrix (rotation; `keep_rotation` false
    /// when the picture was turned upright) and language/title tags.
    #[allow(clippy::too_many_arguments)]
    fn add_video_stream(
        &self,
        octx: &mut format::context::Output,
        codec: ffmpeg::Codec,
        enc: &encoder::Video,
        st: &format::stream::Stream,
        enc_tb: Rational,
        constant_rate: Option<Rational>,
        sar: Rational,
        keep_rotation: bool,
    ) -> Result<usize, RenderError> {
        let mut ost = octx
            .add_stream(codec)
            .map_err(|e| self.encode_err(format!("cannot add the video stream: {e}")))?;
        ost.set_parameters(enc);
        ost.set_time_base(enc_tb);
        if let Some(rate) = constant_rate {
            ost.set_avg_frame_rate(rate);
            ost.set_rate(rate);
        }
        Ok(self.finish_video_stream(&mut ost, st, sar, keep_rotation))
    }

    /// What every output video stream takes from the input's: no codec tag (the muxer picks
    /// it), the pixel aspect ratio, the display matrix (rotation, unless the picture was
    /// turned upright) and language/title tags. Returns the stream's index.
    pub(super) fn finish_video_stream(
        &self,
        ost: &mut format::stream::StreamMut,
        st: &format::stream::Stream,
        sar: Rational,
        keep_rotation: bool,
    ) -> usize {
        // SAFETY: stream fields and side data of a stream we just added; the display matrix
        // bytes are copied from the input stream's side data.
        unsafe {
            let o = ost.as_mut_ptr();
            (*(*o).codecpar).codec_tag = 0;
            if sar.numerator() > 0 {
                (*o).sample_aspect_ratio = sar.into();
            }
            for sd in st.side_data() {
                if keep_rotation && sd.kind() == codec::packet::side_data::Type::DisplayMatrix {
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
        copy_stream_tags(st, ost);
        ost.index()
    }

    /// Opens the decoder of audio stream `index`, the encoder (same rate and channel layout,
    /// the closest sample format) and the output stream.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn open_audio(
        &self,
        ictx: &format::context::Input,
        index: usize,
        slots: &Slots,
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
        // SAFETY: reading plain fields of the stream's codec parameters.
        let (in_profile, in_extradata, in_bit_rate) = unsafe {
            let p = &*params.as_ptr();
            let extra = if p.extradata.is_null() || p.extradata_size <= 0 {
                Vec::new()
            } else {
                std::slice::from_raw_parts(p.extradata, p.extradata_size as usize).to_vec()
            };
            (p.profile, extra, p.bit_rate)
        };
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
        let layout = self.encoder_layout(&name, &acodec, rate, channels, layout)?;
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
        // The joins' encoders: the stream encoder's settings, at no less than the source's
        // bit rate (so a join does not step down in quality). SAFETY (below): reading a
        // plain field of the opened encoder.
        let settings = audio::SessionSettings {
            codec,
            rate,
            layout,
            channels,
            format,
            bit_rate: (self.opts.audio_bitrate.unwrap_or(0) as usize)
                .max(in_bit_rate.max(0) as usize)
                .max(unsafe { (*enc.as_ptr()).bit_rate }.max(0) as usize),
            global_header,
        };
        let source = AacSource {
            index,
            codec: in_codec,
            profile: in_profile,
            extradata: &in_extradata,
            tb,
            rate,
        };
        let (copy, copy_refused) = match self.audio_copy(&source, &enc, &name, slots, origin_us)? {
            Ok((plan, pts0, first)) => {
                (Some(audio::Copying::new(plan, pts0, first, settings)), None)
            }
            Err(why) => (None, Some(why)),
        };
        Ok(AudioIn {
            copy_refused,
            decoder: dec,
            frame: frame::Audio::empty(),
            out: audio::AudioOut::new(
                enc,
                stream_index,
                slots,
                self.opts.fade,
                origin_us,
                tb,
                small_last,
                copy,
            ),
        })
    }

    /// Whether the source's AAC frames can be copied through the cut, and the plan: the
    /// render mode allows it, the source is AAC-LC in 1024-sample frames without gaps, the
    /// output takes the same AAC configuration as the encoder makes. `Err`: why the audio is
    /// encoded in full (for `-v`).
    #[allow(clippy::type_complexity)]
    fn audio_copy(
        &self,
        src: &AacSource<'_>,
        enc: &encoder::Audio,
        encoder_name: &str,
        slots: &Slots,
        origin_us: i64,
    ) -> Result<Result<(audio_copy::CopyPlan, i64, i64), String>, RenderError> {
        let refuse = |why: &str| Ok(Err(why.to_string()));
        if self.opts.mode == RenderMode::Reencode {
            return refuse("render mode reencode");
        }
        if src.codec != codec::Id::AAC {
            return Ok(Err(format!(
                "{} audio (copying covers AAC)",
                src.codec.name()
            )));
        }
        if encoder_name != "aac" {
            return Ok(Err(format!("the {encoder_name} encoder was asked for")));
        }
        if src.profile != 1 {
            return refuse("AAC other than AAC-LC (copying covers AAC-LC)");
        }
        if enc.frame_size() as i64 != audio_copy::FRAME {
            return refuse("the encoder's frames are not 1024 samples");
        }
        if src.tb != Rational(1, src.rate as i32) {
            return refuse("the audio's time base is not its sample rate");
        }
        // SAFETY: reading the opened encoder's extradata.
        let enc_extra = unsafe {
            let c = &*enc.as_ptr();
            if c.extradata.is_null() || c.extradata_size <= 0 {
                &[][..]
            } else {
                std::slice::from_raw_parts(c.extradata, c.extradata_size as usize)
            }
        };
        if enc_extra != src.extradata {
            return refuse("the source's AAC configuration is not the encoder's");
        }
        let Some(packets) = self.scan(src.index)? else {
            return refuse("audio packets without timestamps");
        };
        let Some(p0) = packets.first() else {
            return refuse("no audio packets");
        };
        let frame = audio_copy::FRAME;
        if let Some(k) = packets.windows(2).position(|w| {
            w[1].pts - w[0].pts != frame || w[0].duration != frame || w[0].dts != w[0].pts
        }) {
            return Ok(Err(format!(
                "the audio's packets are not evenly spaced 1024-sample frames (at packet {k})"
            )));
        }
        // The source sample index of the first packet, as the trimming counts samples.
        let origin = (origin_us as i128 * i128::from(src.rate)).div_euclid(1_000_000) as i64;
        let first = p0.pts - origin;
        let fade = (self.opts.fade.0 as i128 * i128::from(src.rate) / 1_000_000) as i64;
        Ok(audio_copy::plan(
            &slots.sample_ranges(src.rate),
            fade,
            first,
            packets.len() as i64,
        )
        .map(|plan| (plan, p0.pts, first)))
    }

    /// The channel layout to encode `layout` with: refused when the encoder does not take
    /// the sample rate or the channel count, renamed when it knows the same channel count by
    /// another name.
    fn encoder_layout(
        &self,
        name: &str,
        acodec: &codec::Audio,
        rate: u32,
        channels: u16,
        mut layout: ChannelLayout,
    ) -> Result<ChannelLayout, RenderError> {
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
        Ok(layout)
    }
}

/// How a video stream's frames are chosen and timed, and the encoder's clock.
struct VideoTiming {
    mode: video::Mode,
    /// The encoder's time base and frame rate.
    enc_tb: Rational,
    enc_rate: Rational,
    /// Constant frame rate: output frame `k` at `k / enc_rate`.
    constant: bool,
    /// One frame at `enc_rate`: the time given to a frame that has no timestamp.
    frame_step: Time,
}

/// Constant-rate video ([`constant_rate`]) is encoded with time base `1/fps` from the stream's
/// own rate, as FFmpeg declares it, and its frame slots count with the same rate (exact,
/// reduced). Variable-rate video keeps the input stream's time base.
fn video_timing(st: &format::stream::Stream, slots: &Slots) -> VideoTiming {
    let (r, avg) = (st.rate(), st.avg_frame_rate());
    let cfr_rate = constant_rate(r, avg);
    let (mode, enc_tb, enc_rate) = match cfr_rate {
        Some(fr) => (
            video::Mode::Cfr(CfrSelector::new(
                slots,
                frame_rate(fr).expect("constant_rate returns a valid rate"),
            )),
            Rational(fr.denominator(), fr.numerator()),
            fr,
        ),
        None => (
            video::Mode::Vfr(VfrSelector::new()),
            st.time_base(),
            if frame_rate(avg).is_some() {
                avg
            } else {
                Rational(25, 1)
            },
        ),
    };
    VideoTiming {
        mode,
        enc_tb,
        enc_rate,
        constant: cfr_rate.is_some(),
        frame_step: frame_rate(enc_rate).expect("a valid rate").time_of(1),
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
