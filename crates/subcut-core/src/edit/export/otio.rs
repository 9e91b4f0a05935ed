//! The cut as an OpenTimelineIO timeline (`.otio`, OTIO's JSON), the interchange format of
//! the animation and VFX pipelines, read by DaVinci Resolve (18.5+) and every tool built on
//! OTIO, and by OTIO's adapters on the way to other editors' formats (AAF, …).
//!
//! ```json
//! { "OTIO_SCHEMA": "Timeline.1", "name": "talk (cut)", "global_start_time": null,
//!   "tracks": { "OTIO_SCHEMA": "Stack.1", "children": [
//!     { "OTIO_SCHEMA": "Track.1", "kind": "Video", "children": [
//!       { "OTIO_SCHEMA": "Clip.2", "name": "talk.mp4",
//!         "source_range": { "OTIO_SCHEMA": "TimeRange.1",
//!           "start_time": { "OTIO_SCHEMA": "RationalTime.1", "rate": 25.0, "value": 21.0 },
//!           "duration": { "OTIO_SCHEMA": "RationalTime.1", "rate": 25.0, "value": 29.0 } },
//!         "media_references": { "DEFAULT_MEDIA": { "OTIO_SCHEMA": "ExternalReference.1",
//!           "target_url": "file:///media/talk.mp4", "available_range": … } },
//!         "active_media_reference_key": "DEFAULT_MEDIA" }, … ] },
//!     { "OTIO_SCHEMA": "Track.1", "kind": "Audio", "children": [ … ] } ] } }
//! ```
//! The schemas are OTIO's own (`Clip.2`: the clip with named media references, OTIO 0.15
//! and later). Times are `RationalTime`s of whole frames at the source's rate (a float, as
//! OTIO keeps it: 29.97002997002997 for 30000/1001). A clip's `source_range` is its frames
//! in the file on the file's timecode (start timecode + frame), and the media reference's
//! `available_range` is the whole file from its start timecode. The kept spans are laid end
//! to end on one video track and one audio track (only the tracks the source has).

use serde::Serialize;

use super::{file_url, FrameSpan, Source};
use crate::edit::EditPlan;

/// The key of the clips' one media reference (OTIO's default).
const MEDIA_KEY: &str = "DEFAULT_MEDIA";

#[derive(Serialize)]
struct Timeline<'a> {
    #[serde(rename = "OTIO_SCHEMA")]
    schema: &'static str,
    metadata: Metadata,
    name: &'a str,
    global_start_time: Option<RationalTime>,
    tracks: Composition<'a>,
}

/// OTIO metadata: none.
#[derive(Serialize)]
struct Metadata {}

/// A Stack or a Track.
#[derive(Serialize)]
struct Composition<'a> {
    #[serde(rename = "OTIO_SCHEMA")]
    schema: &'static str,
    metadata: Metadata,
    name: &'a str,
    source_range: Option<TimeRange>,
    effects: [(); 0],
    markers: [(); 0],
    enabled: bool,
    children: Vec<Child<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Child<'a> {
    Track(Composition<'a>),
    Clip(Clip<'a>),
}

#[derive(Serialize)]
struct Clip<'a> {
    #[serde(rename = "OTIO_SCHEMA")]
    schema: &'static str,
    metadata: Metadata,
    name: &'a str,
    source_range: TimeRange,
    effects: [(); 0],
    markers: [(); 0],
    enabled: bool,
    media_references: std::collections::BTreeMap<&'static str, ExternalReference<'a>>,
    active_media_reference_key: &'static str,
}

#[derive(Serialize)]
struct ExternalReference<'a> {
    #[serde(rename = "OTIO_SCHEMA")]
    schema: &'static str,
    metadata: Metadata,
    name: &'a str,
    available_range: TimeRange,
    available_image_bounds: Option<()>,
    target_url: &'a str,
}

#[derive(Serialize, Clone, Copy)]
struct TimeRange {
    #[serde(rename = "OTIO_SCHEMA")]
    schema: &'static str,
    duration: RationalTime,
    start_time: RationalTime,
}

#[derive(Serialize, Clone, Copy)]
struct RationalTime {
    #[serde(rename = "OTIO_SCHEMA")]
    schema: &'static str,
    rate: f64,
    value: f64,
}

/// Renders the timeline as pretty-printed JSON ending in a newline; `name` names it.
pub(crate) fn render(plan: &EditPlan, src: &Source, name: &str) -> String {
    let rate = src.fps.as_f64();
    let t = |frames: i64| RationalTime {
        schema: "RationalTime.1",
        rate,
        value: frames as f64,
    };
    let range = |start: i64, len: i64| TimeRange {
        schema: "TimeRange.1",
        duration: t(len),
        start_time: t(start),
    };
    let file = src.file_name();
    let url = file_url(&src.path);
    let available = range(src.tc(0), src.duration_frames(plan));
    let clips = src.frame_spans(plan);
    let clip = |c: &FrameSpan| {
        Child::Clip(Clip {
            schema: "Clip.2",
            metadata: Metadata {},
            name: &file,
            source_range: range(src.tc(c.start), c.len()),
            effects: [],
            markers: [],
            enabled: true,
            media_references: [(
                MEDIA_KEY,
                ExternalReference {
                    schema: "ExternalReference.1",
                    metadata: Metadata {},
                    name: &file,
                    available_range: available,
                    available_image_bounds: None,
                    target_url: &url,
                },
            )]
            .into(),
            active_media_reference_key: MEDIA_KEY,
        })
    };
    let track = |name: &'static str, kind: &'static str| {
        Child::Track(Composition {
            schema: "Track.1",
            metadata: Metadata {},
            name,
            source_range: None,
            effects: [],
            markers: [],
            enabled: true,
            children: clips.iter().map(clip).collect(),
            kind: Some(kind),
        })
    };
    let mut tracks = Vec::new();
    if src.has_video || !src.has_audio {
        tracks.push(track("V1", "Video"));
    }
    if src.has_audio {
        tracks.push(track("A1", "Audio"));
    }
    let doc = Timeline {
        schema: "Timeline.1",
        metadata: Metadata {},
        name,
        global_start_time: None,
        tracks: Composition {
            schema: "Stack.1",
            metadata: Metadata {},
            name: "tracks",
            source_range: None,
            effects: [],
            markers: [],
            enabled: true,
            children: tracks,
            kind: None,
        },
    };
    let mut s = serde_json::to_string_pretty(&doc).expect("plain data serializes");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::export::Timecode;
    use crate::edit::FrameRate;
    use crate::time::{Span, Time};
    use serde_json::Value;

    /// A RationalTime's frames at `fps`: a whole number at exactly the source's rate.
    fn frames(v: &Value, fps: FrameRate) -> i64 {
        assert_eq!(v["OTIO_SCHEMA"], "RationalTime.1");
        assert_eq!(v["rate"].as_f64(), Some(fps.as_f64()));
        let f = v["value"].as_f64().unwrap();
        assert_eq!(f.fract(), 0.0, "whole frames");
        f as i64
    }

    fn range(v: &Value, fps: FrameRate) -> (i64, i64) {
        assert_eq!(v["OTIO_SCHEMA"], "TimeRange.1");
        (frames(&v["start_time"], fps), frames(&v["duration"], fps))
    }

    /// The tracks as (kind, [(source start, duration)]), checking the structure OTIO reads.
    fn read(json: &str, src: &Source, plan: &EditPlan) -> Vec<(String, Vec<(i64, i64)>)> {
        let v: Value = serde_json::from_str(json).unwrap();
        assert_eq!(v["OTIO_SCHEMA"], "Timeline.1");
        let stack = &v["tracks"];
        assert_eq!(stack["OTIO_SCHEMA"], "Stack.1");
        let url = file_url(&src.path);
        let mut out = Vec::new();
        for t in stack["children"].as_array().unwrap() {
            assert_eq!(t["OTIO_SCHEMA"], "Track.1");
            let mut clips = Vec::new();
            for c in t["children"].as_array().unwrap() {
                assert_eq!(c["OTIO_SCHEMA"], "Clip.2");
                assert_eq!(c["active_media_reference_key"], MEDIA_KEY);
                let m = &c["media_references"][MEDIA_KEY];
                assert_eq!(m["OTIO_SCHEMA"], "ExternalReference.1");
                assert_eq!(m["target_url"], url.as_str());
                assert!(url.starts_with("file:///"));
                let avail = range(&m["available_range"], src.fps);
                assert_eq!(avail, (src.timecode.frame, src.duration_frames(plan)));
                let r = range(&c["source_range"], src.fps);
                assert!(
                    r.0 >= avail.0 && r.0 + r.1 <= avail.0 + avail.1,
                    "inside the file"
                );
                clips.push(r);
            }
            out.push((t["kind"].as_str().unwrap().to_string(), clips));
        }
        out
    }

    #[test]
    fn clips_are_the_kept_frames_on_the_files_timecode() {
        for fps in ["25", "30000/1001", "24000/1001", "60"] {
            let fps: FrameRate = fps.parse().unwrap();
            let keep = [
                Span::new(fps.time_of(21), fps.time_of(50)),
                Span::new(fps.time_of(96), fps.time_of(130)),
            ];
            let p = EditPlan::from_keep(fps.time_of(200), &keep, &[], Some(fps.into()));
            for tc in ["", "10:00:00:00", "01:00:00;00"] {
                for src in [
                    Source::video("/m/my talk.mp4", fps, 1280, 720),
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
                    let json = render(&p, &src, "t (cut)");
                    let tracks = read(&json, &src, &p);
                    let kinds: Vec<&str> = tracks.iter().map(|t| t.0.as_str()).collect();
                    let want_kinds = match (src.has_video, src.has_audio) {
                        (true, true) => vec!["Video", "Audio"],
                        (false, true) => vec!["Audio"],
                        _ => vec!["Video"],
                    };
                    assert_eq!(kinds, want_kinds);
                    let t0 = src.timecode.frame;
                    for t in &tracks {
                        assert_eq!(t.1, vec![(t0 + 21, 29), (t0 + 96, 34)], "{fps} {tc:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn golden_otio() {
        let fps = FrameRate::new(30000, 1001).unwrap();
        let keep = [Span::new(fps.time_of(21), fps.time_of(50))];
        let p = EditPlan::from_keep(fps.time_of(90), &keep, &[], Some(fps.into()));
        let mut src = Source::audio("/m/voice.wav", fps, 1, 48_000);
        src.timecode = Timecode::parse("01:00:00;00", fps).unwrap();
        let want = r#"{
  "OTIO_SCHEMA": "Timeline.1",
  "metadata": {},
  "name": "voice (cut)",
  "global_start_time": null,
  "tracks": {
    "OTIO_SCHEMA": "Stack.1",
    "metadata": {},
    "name": "tracks",
    "source_range": null,
    "effects": [],
    "markers": [],
    "enabled": true,
    "children": [
      {
        "OTIO_SCHEMA": "Track.1",
        "metadata": {},
        "name": "A1",
        "source_range": null,
        "effects": [],
        "markers": [],
        "enabled": true,
        "children": [
          {
            "OTIO_SCHEMA": "Clip.2",
            "metadata": {},
            "name": "voice.wav",
            "source_range": {
              "OTIO_SCHEMA": "TimeRange.1",
              "duration": {
                "OTIO_SCHEMA": "RationalTime.1",
                "rate": 29.97002997002997,
                "value": 29.0
              },
              "start_time": {
                "OTIO_SCHEMA": "RationalTime.1",
                "rate": 29.97002997002997,
                "value": 107913.0
              }
            },
            "effects": [],
            "markers": [],
            "enabled": true,
            "media_references": {
              "DEFAULT_MEDIA": {
                "OTIO_SCHEMA": "ExternalReference.1",
                "metadata": {},
                "name": "voice.wav",
                "available_range": {
                  "OTIO_SCHEMA": "TimeRange.1",
                  "duration": {
                    "OTIO_SCHEMA": "RationalTime.1",
                    "rate": 29.97002997002997,
                    "value": 90.0
                  },
                  "start_time": {
                    "OTIO_SCHEMA": "RationalTime.1",
                    "rate": 29.97002997002997,
                    "value": 107892.0
                  }
                },
                "available_image_bounds": null,
                "target_url": "file:///m/voice.wav"
              }
            },
            "active_media_reference_key": "DEFAULT_MEDIA"
          }
        ],
        "kind": "Audio"
      }
    ]
  }
}
"#;
        assert_eq!(render(&p, &src, "voice (cut)"), want);
        let empty = render(&EditPlan::from_keep(Time::ZERO, &[], &[], None), &src, "e");
        let v: Value = serde_json::from_str(&empty).unwrap();
        assert_eq!(v["tracks"]["children"][0]["children"], Value::Array(vec![]));
    }
}
