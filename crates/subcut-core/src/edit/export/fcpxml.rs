//! The cut as Final Cut Pro XML (FCPXML 1.10), which Final Cut Pro 10.6+ and DaVinci
//! Resolve import; the layout auto-editor writes for the same purpose.
//!
//! ```xml
//! <fcpxml version="1.10">
//!     <resources>
//!         <format id="r1" frameDuration="1001/30000s" width="1920" height="1080" …/>
//!         <asset id="r2" name="talk" start="0s" duration="…" hasVideo="1" hasAudio="1" …>
//!             <media-rep kind="original-media" src="file:///media/talk.mp4"/>
//!         </asset>
//!     </resources>
//!     <library><event name="subcut"><project name="talk (cut)">
//!         <sequence format="r1" duration="…" tcStart="0s" tcFormat="NDF" …><spine>
//!             <asset-clip ref="r2" offset="0s" start="21021/30000s" duration="29029/30000s" …/>
//!             …
//! ```
//! Every time is a whole number of frames written as a rational number of seconds
//! (`frames × den / num` + `s`, `0s` for zero). In the spine each clip's `offset` (its place
//! on the timeline) is the previous clip's offset plus its duration; `start` is where the
//! clip begins in the source file, on the file's own timecode: the asset's `start` is the
//! source's embedded start timecode (as a frame count; `0s` when it has none), and
//! `tcFormat` is `DF` for drop-frame timecode. The sequence's `audioLayout` is stereo or
//! surround (Final Cut Pro has no mono sequences); the asset keeps its own channel count.

use super::{file_url, xml_escape, Source};
use crate::edit::{EditPlan, FrameRate};

/// The FCPXML version written.
const VERSION: &str = "1.10";

/// A frame count as FCPXML time: `frames × den / num` seconds.
fn time(frames: i64, fps: FrameRate) -> String {
    if frames == 0 {
        "0s".to_string()
    } else {
        format!("{}/{}s", frames * fps.den() as i64, fps.num())
    }
}

/// The sequence's layout: a mono source goes on a stereo sequence.
fn audio_layout(channels: u32) -> &'static str {
    match channels {
        0..=2 => "stereo",
        _ => "surround",
    }
}

/// The sequence's audio rate, one of the values FCPXML allows (48k when not one of them).
fn audio_rate(hz: u32) -> &'static str {
    match hz {
        32_000 => "32k",
        44_100 => "44.1k",
        88_200 => "88.2k",
        96_000 => "96k",
        176_400 => "176.4k",
        192_000 => "192k",
        _ => "48k",
    }
}

/// Renders the FCPXML document; `project` names the timeline.
pub(crate) fn render(plan: &EditPlan, src: &Source, project: &str) -> String {
    let fps = src.fps;
    let (w, h) = src.size();
    let name = xml_escape(&src.stem());
    let flag = |b: bool| if b { "1" } else { "0" };
    let channels = if src.has_audio {
        src.audio_channels.max(1)
    } else {
        2
    };
    let clips = src.frame_spans(plan);
    let total: i64 = clips.iter().map(|c| c.len()).sum();
    let tc_format = if src.drop_frame() { "DF" } else { "NDF" };

    let mut x = String::new();
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE fcpxml>\n\n");
    x.push_str(&format!(
        "<fcpxml version=\"{VERSION}\">\n    <resources>\n"
    ));
    x.push_str(&format!(
        "        <format id=\"r1\" name=\"FFVideoFormatRateUndefined\" frameDuration=\"{}\" \
         width=\"{w}\" height=\"{h}\" colorSpace=\"1-1-1 (Rec. 709)\"/>\n",
        time(1, fps)
    ));
    x.push_str(&format!(
        "        <asset id=\"r2\" name=\"{name}\" start=\"{}\" duration=\"{}\" hasVideo=\"{}\" \
         format=\"r1\"{} hasAudio=\"{}\" audioSources=\"1\" audioChannels=\"{channels}\"{}>\n",
        time(src.tc(0), fps),
        time(src.duration_frames(plan), fps),
        flag(src.has_video),
        if src.has_video {
            " videoSources=\"1\""
        } else {
            ""
        },
        flag(src.has_audio),
        if src.has_audio && src.audio_rate > 0 {
            format!(" audioRate=\"{}\"", src.audio_rate)
        } else {
            String::new()
        },
    ));
    x.push_str(&format!(
        "            <media-rep kind=\"original-media\" src=\"{}\"/>\n        </asset>\n    </resources>\n",
        xml_escape(&file_url(&src.path))
    ));
    x.push_str(&format!(
        "    <library>\n        <event name=\"subcut\">\n            <project name=\"{}\">\n",
        xml_escape(project)
    ));
    x.push_str(&format!(
        "                <sequence format=\"r1\" duration=\"{}\" tcStart=\"0s\" tcFormat=\"{tc_format}\" \
         audioLayout=\"{}\" audioRate=\"{}\">\n                    <spine>\n",
        time(total, fps),
        audio_layout(channels),
        audio_rate(src.audio_rate),
    ));
    let mut offset = 0;
    for c in &clips {
        x.push_str(&format!(
            "                        <asset-clip ref=\"r2\" name=\"{name}\" offset=\"{}\" start=\"{}\" \
             duration=\"{}\" tcFormat=\"{tc_format}\"/>\n",
            time(offset, fps),
            time(src.tc(c.start), fps),
            time(c.len(), fps),
        ));
        offset += c.len();
    }
    x.push_str(
        "                    </spine>\n                </sequence>\n            </project>\n        \
         </event>\n    </library>\n</fcpxml>\n",
    );
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::export::Timecode;
    use crate::edit::{plan, CutParams, EditPlan};
    use crate::time::{Span, Time};

    #[test]
    fn times_are_frames_over_the_rate() {
        let ntsc = FrameRate::new(30000, 1001).unwrap();
        assert_eq!(time(0, ntsc), "0s");
        assert_eq!(time(1, ntsc), "1001/30000s");
        assert_eq!(time(30, FrameRate::new(25, 1).unwrap()), "30/25s");
    }

    #[test]
    fn golden_fcpxml() {
        let fps = FrameRate::new(25, 1).unwrap();
        let keep = [
            Span::new(fps.time_of(21), fps.time_of(50)),
            Span::new(fps.time_of(96), fps.time_of(130)),
        ];
        let p = EditPlan::from_keep(Time::from_millis(6000), &keep, &[], Some(fps.into()));
        let src = Source::video("/m/my talk & co.mp4", fps, 1280, 720);
        let want = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE fcpxml>

<fcpxml version="1.10">
    <resources>
        <format id="r1" name="FFVideoFormatRateUndefined" frameDuration="1/25s" width="1280" height="720" colorSpace="1-1-1 (Rec. 709)"/>
        <asset id="r2" name="my talk &amp; co" start="0s" duration="150/25s" hasVideo="1" format="r1" videoSources="1" hasAudio="1" audioSources="1" audioChannels="2" audioRate="48000">
            <media-rep kind="original-media" src="file:///m/my%20talk%20%26%20co.mp4"/>
        </asset>
    </resources>
    <library>
        <event name="subcut">
            <project name="my talk &amp; co (cut)">
                <sequence format="r1" duration="63/25s" tcStart="0s" tcFormat="NDF" audioLayout="stereo" audioRate="48k">
                    <spine>
                        <asset-clip ref="r2" name="my talk &amp; co" offset="0s" start="21/25s" duration="29/25s" tcFormat="NDF"/>
                        <asset-clip ref="r2" name="my talk &amp; co" offset="29/25s" start="96/25s" duration="34/25s" tcFormat="NDF"/>
                    </spine>
                </sequence>
            </project>
        </event>
    </library>
</fcpxml>
"#;
        assert_eq!(render(&p, &src, "my talk & co (cut)"), want);
    }

    #[test]
    fn audio_only_and_empty_plans_are_well_formed() {
        let src = Source::audio("/m/voice.mp3", FrameRate::new(30, 1).unwrap(), 1, 44_100);
        let p = plan(
            Time::from_millis(3000),
            &[Span::secs(1.0, 2.0)],
            &[],
            "en",
            &CutParams::default(),
            Some(src.grid()),
        );
        let x = render(&p, &src, "voice");
        assert!(x.contains(r#"hasVideo="0" format="r1" hasAudio="1" audioSources="1" audioChannels="1" audioRate="44100""#), "{x}");
        assert!(
            x.contains(r#"audioLayout="stereo" audioRate="44.1k""#),
            "a mono source on a stereo sequence: {x}"
        );
        assert!(
            x.contains(
                r#"<asset-clip ref="r2" name="voice" offset="0s" start="25/30s" duration="41/30s""#
            ),
            "{x}"
        );
        let empty = render(
            &EditPlan::from_keep(Time::from_millis(3000), &[], &[], None),
            &src,
            "v",
        );
        assert!(
            empty.contains("<spine>\n                    </spine>"),
            "{empty}"
        );
        assert!(empty.contains(r#"duration="0s""#));
    }

    /// Attributes the FCPXML 1.10 DTD allows on the elements written here (a subset of it).
    fn allowed(element: &str) -> &'static [&'static str] {
        match element {
            "fcpxml" => &["version"],
            "resources" | "library" | "spine" => &[],
            "format" => &[
                "id",
                "name",
                "frameDuration",
                "fieldOrder",
                "width",
                "height",
                "paspH",
                "paspV",
                "colorSpace",
                "projection",
                "stereoscopic",
            ],
            "asset" => &[
                "id",
                "name",
                "uid",
                "start",
                "duration",
                "hasVideo",
                "format",
                "hasAudio",
                "videoSources",
                "audioSources",
                "audioChannels",
                "audioRate",
                "customLUTOverride",
                "colorSpaceOverride",
                "projectionOverride",
                "stereoscopicOverride",
                "auxVideoFlags",
            ],
            "media-rep" => &["kind", "sig", "src", "suggestedFilename"],
            "event" | "project" => &["name", "uid", "id", "modDate"],
            "sequence" => &[
                "format",
                "duration",
                "tcStart",
                "tcFormat",
                "audioLayout",
                "audioRate",
                "renderFormat",
                "keywords",
            ],
            "asset-clip" => &[
                "ref",
                "lane",
                "offset",
                "name",
                "start",
                "duration",
                "enabled",
                "srcEnable",
                "audioStart",
                "audioDuration",
                "format",
                "tcStart",
                "tcFormat",
                "modDate",
                "audioRole",
                "videoRole",
            ],
            other => panic!("unexpected element <{other}>"),
        }
    }

    /// An FCPXML time in frames: `0s` or `N/Ds` with D the rate's numerator and N a whole
    /// number of frame durations.
    fn frames(v: &str, fps: FrameRate) -> i64 {
        if v == "0s" {
            return 0;
        }
        let (n, d) = v
            .strip_suffix('s')
            .and_then(|v| v.split_once('/'))
            .expect("rational time");
        let (n, d): (i64, i64) = (n.parse().unwrap(), d.parse().unwrap());
        assert_eq!(d, fps.num() as i64, "{v}: over the rate's numerator");
        assert_eq!(n % fps.den() as i64, 0, "{v}: on the frame grid");
        n / fps.den() as i64
    }

    fn child<'a>(n: roxmltree::Node<'a, 'a>, name: &str) -> roxmltree::Node<'a, 'a> {
        let kids: Vec<_> = n.children().filter(|c| c.is_element()).collect();
        assert_eq!(
            kids.len(),
            1,
            "<{}> holds one <{name}>",
            n.tag_name().name()
        );
        assert_eq!(kids[0].tag_name().name(), name);
        kids[0]
    }

    /// Parses the document and checks what importers rely on; returns the clips as
    /// (offset, start, duration) in frames.
    fn check(xml: &str, fps: FrameRate, src: &Source, plan: &EditPlan) -> Vec<(i64, i64, i64)> {
        let doc = roxmltree::Document::parse_with_options(
            xml,
            roxmltree::ParsingOptions {
                allow_dtd: true,
                ..Default::default()
            },
        )
        .expect("well-formed XML");
        let mut ids = std::collections::HashSet::new();
        for n in doc.descendants().filter(|n| n.is_element()) {
            let ok = allowed(n.tag_name().name());
            for a in n.attributes() {
                assert!(
                    ok.contains(&a.name()),
                    "<{}> may not have {}",
                    n.tag_name().name(),
                    a.name()
                );
            }
            if let Some(id) = n.attribute("id") {
                assert!(ids.insert(id.to_string()), "unique id {id}");
            }
        }
        for n in doc.descendants().filter(|n| n.is_element()) {
            for r in ["ref", "format"] {
                if let Some(v) = n.attribute(r) {
                    assert!(ids.contains(v), "{r}={v} names a resource");
                }
            }
        }
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "fcpxml");
        assert_eq!(root.attribute("version"), Some(VERSION));
        let top: Vec<_> = root
            .children()
            .filter(|c| c.is_element())
            .map(|c| c.tag_name().name())
            .collect();
        assert_eq!(top, ["resources", "library"]);

        let res = root
            .children()
            .find(|c| c.has_tag_name("resources"))
            .unwrap();
        let format = res
            .children()
            .find(|c| c.has_tag_name("format"))
            .expect("a format");
        assert_eq!(frames(format.attribute("frameDuration").unwrap(), fps), 1);
        let (w, h) = src.size();
        assert_eq!(format.attribute("width"), Some(w.to_string().as_str()));
        assert_eq!(format.attribute("height"), Some(h.to_string().as_str()));
        let asset = res
            .children()
            .find(|c| c.has_tag_name("asset"))
            .expect("an asset");
        assert_eq!(asset.attribute("format"), format.attribute("id"));
        let asset_frames = frames(asset.attribute("duration").unwrap(), fps);
        assert_eq!(asset_frames, src.duration_frames(plan));
        let asset_start = frames(asset.attribute("start").unwrap(), fps);
        assert_eq!(asset_start, src.timecode.frame, "the source's timecode");
        assert_eq!(
            asset.attribute("hasVideo"),
            Some(if src.has_video { "1" } else { "0" })
        );
        let rep = child(asset, "media-rep");
        assert_eq!(rep.attribute("kind"), Some("original-media"));
        assert!(rep.attribute("src").unwrap().starts_with("file:///"));

        let lib = root.children().find(|c| c.has_tag_name("library")).unwrap();
        let seq = child(child(child(lib, "event"), "project"), "sequence");
        assert_eq!(seq.attribute("format"), format.attribute("id"));
        let tc_format = if src.drop_frame() { "DF" } else { "NDF" };
        assert_eq!(seq.attribute("tcFormat"), Some(tc_format));
        assert!(["stereo", "surround"].contains(&seq.attribute("audioLayout").unwrap()));
        assert!(["32k", "44.1k", "48k", "88.2k", "96k", "176.4k", "192k"]
            .contains(&seq.attribute("audioRate").unwrap()));
        let spine = child(seq, "spine");
        let mut clips = Vec::new();
        let mut offset = 0;
        let mut src_end = 0;
        for c in spine.children().filter(|c| c.is_element()) {
            assert_eq!(c.tag_name().name(), "asset-clip");
            assert_eq!(c.attribute("ref"), asset.attribute("id"));
            assert_eq!(c.attribute("tcFormat"), Some(tc_format));
            let o = frames(c.attribute("offset").unwrap(), fps);
            // The clip's frames in the file, from its first frame.
            let s = frames(c.attribute("start").unwrap(), fps) - asset_start;
            let d = frames(c.attribute("duration").unwrap(), fps);
            assert_eq!(
                o, offset,
                "contiguous: each offset is the last offset + duration"
            );
            assert!(
                d > 0 && s >= src_end,
                "clips in source order, not overlapping"
            );
            assert!(s + d <= asset_frames, "inside the asset");
            offset += d;
            src_end = s + d;
            clips.push((o, s, d));
        }
        assert_eq!(
            frames(seq.attribute("duration").unwrap(), fps),
            offset,
            "sequence = sum of clips"
        );
        clips
    }

    #[test]
    fn fcpxml_is_structurally_valid_on_random_plans() {
        let mut rng = crate::testutil::Rng::new(0x0bad_5eed_1234_5678u64);
        let mut next = |m: i64| rng.below(m);
        for case in 0..200 {
            let fps: FrameRate = ["25", "30000/1001", "24000/1001", "60", "50", "24"]
                [next(6) as usize]
                .parse()
                .unwrap();
            let dur = Time::from_millis(500 + next(60_000));
            let speech: Vec<Span> = (0..next(15))
                .map(|_| {
                    let a = next(dur.as_millis());
                    Span::new(Time::from_millis(a), Time::from_millis(a + next(3000)))
                })
                .collect();
            let snap = next(2) == 0;
            let p = CutParams {
                snap_to_frames: snap,
                ..CutParams::default()
            };
            let origin = Time::from_millis([0, 0, 40, 67][next(4) as usize]);
            let grid = crate::edit::FrameGrid::new(fps, origin);
            let pl = plan(dur, &speech, &[], "en", &p, Some(grid));
            let src = match next(3) {
                0 => Source::audio(
                    "/m/a.wav",
                    fps,
                    1 + next(6) as u32,
                    [44_100, 48_000, 22_050][next(3) as usize],
                ),
                _ => Source::video("/m/v.mov", fps, 1280, 720),
            };
            let tc = ["", "10:00:00:00", "01:00:00;00"][next(3) as usize];
            let src = Source {
                fps,
                origin,
                timecode: Timecode::parse(tc, fps).unwrap_or_default(),
                ..src
            };
            let clips = check(&render(&pl, &src, "p"), fps, &src, &pl);
            let want: Vec<(i64, i64)> = src
                .frame_spans(&pl)
                .iter()
                .map(|f| (f.start, f.len()))
                .collect();
            let got: Vec<(i64, i64)> = clips.iter().map(|c| (c.1, c.2)).collect();
            assert_eq!(got, want, "case {case}");
            // Exact when snapped, but for a partial last frame at the media's end (half a
            // frame either way: the source ends on the nearest frame boundary).
            let kept = fps.time_of(clips.iter().map(|c| c.2).sum());
            let slack = if snap {
                Time(0)
            } else {
                fps.time_of(pl.keep.len() as i64 * 2)
            };
            // (Each span's bounds are rounded to the microsecond: allow 1 µs per span; time
            // before the first frame has no frame.)
            let us = Time(pl.keep.len() as i64);
            let half = Time(fps.time_of(1).0 / 2 + 1);
            assert!(
                kept + us + origin + half >= pl.kept()
                    && kept - pl.kept() < fps.time_of(1) + slack + us,
                "case {case}: {kept} for {}",
                pl.kept()
            );
        }
    }
}
