//! The cut as Final Cut Pro 7 XML (`xmeml`, version 4), the interchange XML that Premiere
//! Pro imports (it does not read FCPXML), as do DaVinci Resolve and Final Cut Pro 7. Premiere
//! writes this version itself.
//!
//! ```xml
//! <xmeml version="4">
//!     <sequence id="sequence-1">
//!         <name>talk (cut)</name>
//!         <duration>246</duration>
//!         <rate><timebase>30</timebase><ntsc>TRUE</ntsc></rate>
//!         <media>
//!             <video><format>…</format><track>
//!                 <clipitem id="clipitem-1">
//!                     <name>talk.mp4</name> … <start>0</start><end>41</end><in>25</in><out>66</out>
//!                     <file id="file-1"><pathurl>file://localhost/media/talk.mp4</pathurl>
//!                         <timecode>…<frame>0</frame>…</timecode> …</file>
//!                 </clipitem> …
//!             </track></video>
//!             <audio> <track> clipitems with <sourcetrack> … </track> (one per channel) </audio>
//! ```
//! Every time is a frame count at the sequence's rate: `timebase` (the rate rounded) and
//! `ntsc` (TRUE for the 1001-denominator rates). Each kept span is one clipitem per track:
//! `start`/`end` its place on the timeline (laid end to end from 0), `in`/`out` its frames
//! in the file, from the file's first frame. The file's embedded start timecode is its
//! `timecode` element (`frame`, its count; `displayformat` DF or NDF), so an importer's
//! source times are `timecode + in`. The first clipitem holds the whole `file` element and
//! the others refer to it by id, as Final Cut Pro and Premiere write it. A stereo source
//! gets two audio tracks (channel 1 and 2, marked as one exploded stereo pair, as Premiere
//! writes it); the clipitems of one span are linked.

use super::timecode::label;
use super::{file_url, xml_escape, FrameSpan, Source};
use crate::edit::EditPlan;

/// The xmeml version written (Premiere Pro's).
const VERSION: &str = "4";

/// An indented XML writer (four spaces a level, as the other exports).
struct Xml {
    out: String,
    depth: usize,
}

impl Xml {
    fn line(&mut self, s: &str) {
        for _ in 0..self.depth {
            self.out.push_str("    ");
        }
        self.out.push_str(s);
        self.out.push('\n');
    }
    /// `<tag attrs>`, one level in.
    fn open(&mut self, tag: &str, attrs: &[(&str, String)]) {
        let mut s = format!("<{tag}");
        for (k, v) in attrs {
            s.push_str(&format!(" {k}=\"{}\"", xml_escape(v)));
        }
        s.push('>');
        self.line(&s);
        self.depth += 1;
    }
    fn close(&mut self, tag: &str) {
        self.depth -= 1;
        self.line(&format!("</{tag}>"));
    }
    /// `<tag>text</tag>`.
    fn leaf(&mut self, tag: &str, text: impl std::fmt::Display) {
        let text = xml_escape(&text.to_string());
        self.line(&format!("<{tag}>{text}</{tag}>"));
    }
}

/// `<rate>`: the rounded rate and whether it is an NTSC (×1000/1001) rate.
fn rate(x: &mut Xml, src: &Source) {
    x.open("rate", &[]);
    x.leaf("timebase", src.fps.timecode_base());
    x.leaf(
        "ntsc",
        if src.fps.den() == 1001 {
            "TRUE"
        } else {
            "FALSE"
        },
    );
    x.close("rate");
}

/// `<timecode>` of frame count `frame`.
fn timecode(x: &mut Xml, src: &Source, frame: i64) {
    let drop = src.drop_frame();
    x.open("timecode", &[]);
    rate(x, src);
    x.leaf("string", label(frame, src.fps.timecode_base(), drop));
    x.leaf("frame", frame);
    x.leaf("displayformat", if drop { "DF" } else { "NDF" });
    x.close("timecode");
}

fn video_characteristics(x: &mut Xml, src: &Source) {
    let (w, h) = src.size();
    x.open("samplecharacteristics", &[]);
    rate(x, src);
    x.leaf("width", w);
    x.leaf("height", h);
    x.leaf("anamorphic", "FALSE");
    x.leaf("pixelaspectratio", "square");
    x.leaf("fielddominance", "none");
    x.close("samplecharacteristics");
}

fn audio_characteristics(x: &mut Xml, src: &Source) {
    x.open("samplecharacteristics", &[]);
    x.leaf("depth", 16);
    x.leaf(
        "samplerate",
        if src.audio_rate > 0 {
            src.audio_rate
        } else {
            48_000
        },
    );
    x.close("samplecharacteristics");
}

/// The source file, whole (the first time) or by reference.
fn file(x: &mut Xml, src: &Source, plan: &EditPlan, first: bool) {
    if !first {
        x.line("<file id=\"file-1\"/>");
        return;
    }
    x.open("file", &[("id", "file-1".into())]);
    x.leaf("name", src.file_name());
    let url = file_url(&src.path).replacen("file://", "file://localhost", 1);
    x.leaf("pathurl", url);
    rate(x, src);
    x.leaf("duration", src.duration_frames(plan));
    timecode(x, src, src.tc(0));
    x.open("media", &[]);
    if src.has_video {
        x.open("video", &[]);
        video_characteristics(x, src);
        x.close("video");
    }
    if src.has_audio {
        x.open("audio", &[]);
        audio_characteristics(x, src);
        x.leaf("channelcount", src.audio_channels.max(1));
        x.close("audio");
    }
    x.close("media");
    x.close("file");
}

/// One track of the sequence: its kind, and for audio the source channel it plays.
#[derive(Clone, Copy)]
enum Track {
    Video,
    Audio(u32),
}

/// Renders the xmeml document; `name` names the sequence.
pub(crate) fn render(plan: &EditPlan, src: &Source, name: &str) -> String {
    let clips = src.frame_spans(plan);
    let total: i64 = clips.iter().map(FrameSpan::len).sum();
    let media_frames = src.duration_frames(plan);
    let channels = src.audio_channels.max(1);
    let mut tracks = Vec::new();
    if src.has_video || !src.has_audio {
        tracks.push(Track::Video);
    }
    if src.has_audio {
        tracks.extend((1..=channels).map(Track::Audio));
    }
    // clipitem-N: span i's item on track t.
    let id = |i: usize, t: usize| i * tracks.len() + t + 1;

    let mut x = Xml {
        out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE xmeml>\n"),
        depth: 0,
    };
    x.open("xmeml", &[("version", VERSION.into())]);
    x.open("sequence", &[("id", "sequence-1".into())]);
    x.leaf("name", name);
    x.leaf("duration", total);
    rate(&mut x, src);
    timecode(&mut x, src, 0);
    x.open("media", &[]);
    x.open("video", &[]);
    x.open("format", &[]);
    video_characteristics(&mut x, src);
    x.close("format");
    let mut first_file = true;
    for (t, track) in tracks.iter().enumerate() {
        let attrs: Vec<(&str, String)> = match *track {
            Track::Video => Vec::new(),
            Track::Audio(ch) => {
                if t == 0 || matches!(tracks[t - 1], Track::Video) {
                    // The video part is done: the audio part starts.
                    x.close("video");
                    x.open("audio", &[]);
                    x.leaf("numOutputChannels", channels.clamp(2, 8));
                    x.open("format", &[]);
                    audio_characteristics(&mut x, src);
                    x.close("format");
                }
                let mut a = vec![
                    ("currentExplodedTrackIndex", (ch - 1).to_string()),
                    ("totalExplodedTrackCount", channels.to_string()),
                ];
                if channels == 2 {
                    a.push(("premiereTrackType", "Stereo".into()));
                }
                a
            }
        };
        x.open("track", &attrs);
        let mut offset = 0;
        for (i, c) in clips.iter().enumerate() {
            x.open("clipitem", &[("id", format!("clipitem-{}", id(i, t)))]);
            x.leaf("masterclipid", "masterclip-1");
            x.leaf("name", src.file_name());
            x.leaf("enabled", "TRUE");
            x.leaf("duration", media_frames);
            rate(&mut x, src);
            x.leaf("start", offset);
            x.leaf("end", offset + c.len());
            x.leaf("in", c.start);
            x.leaf("out", c.end);
            file(&mut x, src, plan, first_file);
            first_file = false;
            if let Track::Audio(ch) = *track {
                x.open("sourcetrack", &[]);
                x.leaf("mediatype", "audio");
                x.leaf("trackindex", ch);
                x.close("sourcetrack");
            }
            if tracks.len() > 1 {
                for (u, other) in tracks.iter().enumerate() {
                    x.open("link", &[]);
                    x.leaf("linkclipref", format!("clipitem-{}", id(i, u)));
                    match *other {
                        Track::Video => {
                            x.leaf("mediatype", "video");
                            x.leaf("trackindex", 1);
                            x.leaf("clipindex", i + 1);
                        }
                        Track::Audio(ch) => {
                            x.leaf("mediatype", "audio");
                            x.leaf("trackindex", ch);
                            x.leaf("clipindex", i + 1);
                            x.leaf("groupindex", 1);
                        }
                    }
                    x.close("link");
                }
            }
            x.close("clipitem");
            offset += c.len();
        }
        x.leaf("enabled", "TRUE");
        x.leaf("locked", "FALSE");
        x.close("track");
    }
    match tracks.last() {
        Some(Track::Audio(_)) => x.close("audio"),
        _ => {
            x.close("video");
            x.open("audio", &[]);
            x.leaf("numOutputChannels", 2);
            x.open("format", &[]);
            audio_characteristics(&mut x, src);
            x.close("format");
            x.close("audio");
        }
    }
    x.close("media");
    x.close("sequence");
    x.close("xmeml");
    x.out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::export::Timecode;
    use crate::edit::{plan, CutParams, FrameGrid, FrameRate};
    use crate::time::{Span, Time};

    fn doc(xml: &str) -> roxmltree::Document<'_> {
        roxmltree::Document::parse_with_options(
            xml,
            roxmltree::ParsingOptions {
                allow_dtd: true,
                ..Default::default()
            },
        )
        .expect("well-formed XML")
    }

    fn kid<'a>(n: roxmltree::Node<'a, 'a>, name: &str) -> roxmltree::Node<'a, 'a> {
        n.children()
            .find(|c| c.has_tag_name(name))
            .unwrap_or_else(|| panic!("<{}> has a <{name}>", n.tag_name().name()))
    }

    fn num(n: roxmltree::Node, name: &str) -> i64 {
        kid(n, name).text().unwrap().parse().unwrap()
    }

    /// The clips of each track as an importer reads them: (track kind, source channel,
    /// [(start, end, in, out)]), with in/out made absolute with the file's timecode.
    type Tracks = Vec<(String, i64, Vec<(i64, i64, i64, i64)>)>;

    /// Reads the document as an importer does and checks what importers rely on.
    fn read(xml: &str, src: &Source) -> Tracks {
        let d = doc(xml);
        let root = d.root_element();
        assert_eq!(root.tag_name().name(), "xmeml");
        assert_eq!(root.attribute("version"), Some(VERSION));
        let seq = kid(root, "sequence");
        let ntsc = if src.fps.den() == 1001 {
            "TRUE"
        } else {
            "FALSE"
        };
        // Every rate in the document is the source's.
        for r in d.descendants().filter(|n| n.has_tag_name("rate")) {
            assert_eq!(num(r, "timebase"), src.fps.timecode_base() as i64);
            assert_eq!(kid(r, "ntsc").text(), Some(ntsc));
        }
        // One full file element, by id everywhere else.
        let files: Vec<_> = d.descendants().filter(|n| n.has_tag_name("file")).collect();
        assert!(files.iter().all(|f| f.attribute("id") == Some("file-1")));
        let full: Vec<_> = files.iter().filter(|f| f.has_children()).collect();
        assert_eq!(full.len(), 1, "one full <file>");
        let file = *full[0];
        assert!(kid(file, "pathurl")
            .text()
            .unwrap()
            .starts_with("file://localhost/"));
        let tc = kid(file, "timecode");
        let tc_frame = num(tc, "frame");
        assert_eq!(tc_frame, src.timecode.frame);
        let df = if src.drop_frame() { "DF" } else { "NDF" };
        assert_eq!(kid(tc, "displayformat").text(), Some(df));
        let label = kid(tc, "string").text().unwrap();
        assert_eq!(Timecode::parse(label, src.fps).unwrap(), src.timecode);
        let media_frames = num(file, "duration");

        let mut out = Vec::new();
        let media = kid(seq, "media");
        let mut ids = std::collections::HashSet::new();
        for kind in ["video", "audio"] {
            for track in kid(media, kind)
                .children()
                .filter(|c| c.has_tag_name("track"))
            {
                let mut clips = Vec::new();
                let mut channel = 0;
                let mut end = 0;
                for c in track.children().filter(|c| c.has_tag_name("clipitem")) {
                    assert!(ids.insert(c.attribute("id").unwrap().to_string()));
                    assert_eq!(num(c, "duration"), media_frames);
                    let (s, e, i, o) =
                        (num(c, "start"), num(c, "end"), num(c, "in"), num(c, "out"));
                    assert_eq!(s, end, "end to end");
                    assert!(e > s && o - i == e - s && i >= 0 && o <= media_frames);
                    end = e;
                    if kind == "audio" {
                        let st = kid(c, "sourcetrack");
                        assert_eq!(kid(st, "mediatype").text(), Some("audio"));
                        channel = num(st, "trackindex");
                    }
                    clips.push((s, e, i + tc_frame, o + tc_frame));
                }
                out.push((kind.to_string(), channel, clips));
            }
        }
        assert_eq!(num(seq, "duration"), out[0].2.last().map_or(0, |c| c.1));
        out
    }

    #[test]
    fn every_track_holds_the_kept_frames_from_the_timecode() {
        for fps in ["25", "30000/1001", "24000/1001", "60000/1001"] {
            let fps: FrameRate = fps.parse().unwrap();
            let keep = [
                Span::new(fps.time_of(21), fps.time_of(50)),
                Span::new(fps.time_of(96), fps.time_of(130)),
            ];
            let p = EditPlan::from_keep(fps.time_of(200), &keep, &[], Some(fps.into()));
            for tc in ["", "10:00:00:00", "01:00:00;00"] {
                for src in [
                    Source::video("/m/my talk & co.mp4", fps, 1280, 720),
                    Source::audio("/m/voice.wav", fps, 1, 44_100),
                    Source {
                        has_audio: false,
                        ..Source::video("/m/silent.mov", fps, 640, 480)
                    },
                ] {
                    let src = Source {
                        timecode: Timecode::parse(tc, fps).unwrap_or_default(),
                        ..src
                    };
                    let tracks = read(&render(&p, &src, "t"), &src);
                    let kinds: Vec<(&str, i64)> =
                        tracks.iter().map(|t| (t.0.as_str(), t.1)).collect();
                    let want_kinds: Vec<(&str, i64)> = match (src.has_video, src.has_audio) {
                        (true, true) => vec![("video", 0), ("audio", 1), ("audio", 2)],
                        (false, true) => vec![("audio", 1)],
                        _ => vec![("video", 0)],
                    };
                    assert_eq!(kinds, want_kinds);
                    let t0 = src.timecode.frame;
                    let want = vec![(0, 29, t0 + 21, t0 + 50), (29, 63, t0 + 96, t0 + 130)];
                    for t in &tracks {
                        assert_eq!(t.2, want, "{fps} {tc:?} {}", t.0);
                    }
                }
            }
        }
    }

    #[test]
    fn audio_only_and_empty_plans_are_well_formed() {
        let fps = FrameRate::new(30, 1).unwrap();
        let src = Source::audio("/m/voice.mp3", fps, 2, 48_000);
        let p = plan(
            Time::from_millis(3000),
            &[Span::secs(1.0, 2.0)],
            &[],
            "en",
            &CutParams::default(),
            Some(FrameGrid::from(fps)),
        );
        let x = render(&p, &src, "voice (cut)");
        let tracks = read(&x, &src);
        assert_eq!(tracks.len(), 2, "a stereo pair");
        assert_eq!(tracks[0].2, vec![(0, 41, 25, 66)]);
        assert!(x.contains("<name>voice (cut)</name>"));
        assert!(x.contains("premiereTrackType=\"Stereo\""));
        let empty = render(
            &EditPlan::from_keep(Time::from_millis(3000), &[], &[], None),
            &Source::video("/m/v.mp4", fps, 0, 0),
            "v",
        );
        let d = doc(&empty);
        assert_eq!(
            d.descendants()
                .filter(|n| n.has_tag_name("clipitem"))
                .count(),
            0
        );
        assert!(empty.contains("<duration>0</duration>"));
    }

    #[test]
    fn golden_xmeml() {
        let fps = FrameRate::new(25, 1).unwrap();
        let keep = [Span::new(fps.time_of(21), fps.time_of(50))];
        let p = EditPlan::from_keep(Time::from_millis(6000), &keep, &[], Some(fps.into()));
        let mut src = Source::video("/m/talk.mp4", fps, 1280, 720);
        src.audio_channels = 1;
        src.timecode = Timecode::parse("10:00:00:00", fps).unwrap();
        let want = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE xmeml>
<xmeml version="4">
    <sequence id="sequence-1">
        <name>talk (cut)</name>
        <duration>29</duration>
        <rate>
            <timebase>25</timebase>
            <ntsc>FALSE</ntsc>
        </rate>
        <timecode>
            <rate>
                <timebase>25</timebase>
                <ntsc>FALSE</ntsc>
            </rate>
            <string>00:00:00:00</string>
            <frame>0</frame>
            <displayformat>NDF</displayformat>
        </timecode>
        <media>
            <video>
                <format>
                    <samplecharacteristics>
                        <rate>
                            <timebase>25</timebase>
                            <ntsc>FALSE</ntsc>
                        </rate>
                        <width>1280</width>
                        <height>720</height>
                        <anamorphic>FALSE</anamorphic>
                        <pixelaspectratio>square</pixelaspectratio>
                        <fielddominance>none</fielddominance>
                    </samplecharacteristics>
                </format>
                <track>
                    <clipitem id="clipitem-1">
                        <masterclipid>masterclip-1</masterclipid>
                        <name>talk.mp4</name>
                        <enabled>TRUE</enabled>
                        <duration>150</duration>
                        <rate>
                            <timebase>25</timebase>
                            <ntsc>FALSE</ntsc>
                        </rate>
                        <start>0</start>
                        <end>29</end>
                        <in>21</in>
                        <out>50</out>
                        <file id="file-1">
                            <name>talk.mp4</name>
                            <pathurl>file://localhost/m/talk.mp4</pathurl>
                            <rate>
                                <timebase>25</timebase>
                                <ntsc>FALSE</ntsc>
                            </rate>
                            <duration>150</duration>
                            <timecode>
                                <rate>
                                    <timebase>25</timebase>
                                    <ntsc>FALSE</ntsc>
                                </rate>
                                <string>10:00:00:00</string>
                                <frame>900000</frame>
                                <displayformat>NDF</displayformat>
                            </timecode>
                            <media>
                                <video>
                                    <samplecharacteristics>
                                        <rate>
                                            <timebase>25</timebase>
                                            <ntsc>FALSE</ntsc>
                                        </rate>
                                        <width>1280</width>
                                        <height>720</height>
                                        <anamorphic>FALSE</anamorphic>
                                        <pixelaspectratio>square</pixelaspectratio>
                                        <fielddominance>none</fielddominance>
                                    </samplecharacteristics>
                                </video>
                                <audio>
                                    <samplecharacteristics>
                                        <depth>16</depth>
                                        <samplerate>48000</samplerate>
                                    </samplecharacteristics>
                                    <channelcount>1</channelcount>
                                </audio>
                            </media>
                        </file>
                        <link>
                            <linkclipref>clipitem-1</linkclipref>
                            <mediatype>video</mediatype>
                            <trackindex>1</trackindex>
                            <clipindex>1</clipindex>
                        </link>
                        <link>
                            <linkclipref>clipitem-2</linkclipref>
                            <mediatype>audio</mediatype>
                            <trackindex>1</trackindex>
                            <clipindex>1</clipindex>
                            <groupindex>1</groupindex>
                        </link>
                    </clipitem>
                    <enabled>TRUE</enabled>
                    <locked>FALSE</locked>
                </track>
            </video>
            <audio>
                <numOutputChannels>2</numOutputChannels>
                <format>
                    <samplecharacteristics>
                        <depth>16</depth>
                        <samplerate>48000</samplerate>
                    </samplecharacteristics>
                </format>
                <track currentExplodedTrackIndex="0" totalExplodedTrackCount="1">
                    <clipitem id="clipitem-2">
                        <masterclipid>masterclip-1</masterclipid>
                        <name>talk.mp4</name>
                        <enabled>TRUE</enabled>
                        <duration>150</duration>
                        <rate>
                            <timebase>25</timebase>
                            <ntsc>FALSE</ntsc>
                        </rate>
                        <start>0</start>
                        <end>29</end>
                        <in>21</in>
                        <out>50</out>
                        <file id="file-1"/>
                        <sourcetrack>
                            <mediatype>audio</mediatype>
                            <trackindex>1</trackindex>
                        </sourcetrack>
                        <link>
                            <linkclipref>clipitem-1</linkclipref>
                            <mediatype>video</mediatype>
                            <trackindex>1</trackindex>
                            <clipindex>1</clipindex>
                        </link>
                        <link>
                            <linkclipref>clipitem-2</linkclipref>
                            <mediatype>audio</mediatype>
                            <trackindex>1</trackindex>
                            <clipindex>1</clipindex>
                            <groupindex>1</groupindex>
                        </link>
                    </clipitem>
                    <enabled>TRUE</enabled>
                    <locked>FALSE</locked>
                </track>
            </audio>
        </media>
    </sequence>
</xmeml>
"#;
        assert_eq!(render(&p, &src, "talk (cut)"), want);
    }
}
