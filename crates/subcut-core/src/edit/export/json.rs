//! The cut as JSON: kept and removed spans in seconds and in frames, where each kept span
//! lands in the output, the totals, and the parameters that made it.
//!
//! ```json
//! { "format": "subcut-cut", "version": 1, "source": "/media/talk.mp4", "fps": "30000/1001",
//!   "duration": 12.5, "duration_frames": 375, "output_duration": 8.2, "output_frames": 246,
//!   "saved": 4.3,
//!   "keep": [{ "start": 0.834167, "end": 2.202200, "start_frame": 25, "end_frame": 66,
//!              "output_start": 0.0, "output_start_frame": 0 }, …],
//!   "removed": [{ "start": 2.2022, "end": 2.5359, "start_frame": 66, "end_frame": 76,
//!                 "reason": "filler", "word": "um" }, …],
//!   "params": { … } }
//! ```
//! Times are seconds; frames count from 0 at `fps`; `end`/`end_frame` are exclusive. A
//! source with an embedded start timecode has it as `timecode` (the label of frame 0). A
//! removed span's `reason` is `silence`, `filler` or `repeat` (with the `word`), or `retake`
//! (with the abandoned take's `text`).

use serde::Serialize;

use super::{timecode, Source};
use crate::edit::{CutParams, EditPlan, Reason};
use crate::time::{Span, Time};

#[derive(Serialize)]
struct Doc<'a> {
    format: &'static str,
    version: u32,
    source: String,
    fps: String,
    /// When frame 0 shows (the video's first frame).
    first_frame: Time,
    /// The source's start timecode, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    timecode: Option<String>,
    duration: Time,
    duration_frames: i64,
    output_duration: Time,
    output_frames: i64,
    saved: Time,
    keep: Vec<Kept>,
    removed: Vec<Gone<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    params: Option<&'a CutParams>,
}

#[derive(Serialize)]
struct Kept {
    start: Time,
    end: Time,
    start_frame: i64,
    end_frame: i64,
    output_start: Time,
    output_start_frame: i64,
}

#[derive(Serialize)]
struct Gone<'a> {
    start: Time,
    end: Time,
    start_frame: i64,
    end_frame: i64,
    #[serde(flatten)]
    reason: &'a Reason,
}

/// Renders the plan as pretty-printed JSON ending in a newline.
pub(crate) fn render(plan: &EditPlan, src: &Source, params: Option<&CutParams>) -> String {
    let fps = src.grid();
    let map = plan.time_map();
    let frames = src.frame_spans(plan);
    let last = src.duration_frames(plan);
    let mut out_frame = 0;
    // Kept spans and their frames pair up one to one unless frame rounding merged two.
    let keep: Vec<Kept> = plan
        .keep
        .iter()
        .map(|s| {
            let start_frame = fps.frame_floor(s.start).max(0);
            let end_frame = fps.frame_ceil(s.end).min(last).max(start_frame);
            let k = Kept {
                start: s.start,
                end: s.end,
                start_frame,
                end_frame,
                output_start: map.map_clamped(s.start),
                output_start_frame: out_frame,
            };
            out_frame += end_frame - start_frame;
            k
        })
        .collect();
    let removed = plan
        .removed
        .iter()
        .map(|r| Gone {
            start: r.span.start,
            end: r.span.end,
            start_frame: fps.frame_round(r.span.start).max(0),
            end_frame: fps.frame_round(r.span.end).max(0),
            reason: &r.reason,
        })
        .collect();
    let doc = Doc {
        format: "subcut-cut",
        version: 1,
        source: src.path.display().to_string(),
        fps: src.fps.to_string(),
        first_frame: src.origin,
        timecode: (src.timecode != timecode::Timecode::default()).then(|| {
            timecode::label(
                src.timecode.frame,
                src.fps.timecode_base(),
                src.drop_frame(),
            )
        }),
        duration: plan.duration,
        duration_frames: last,
        output_duration: plan.kept(),
        output_frames: frames.iter().map(|f| f.len()).sum(),
        saved: plan.saved(),
        keep,
        removed,
        params,
    };
    let mut s = serde_json::to_string_pretty(&doc).expect("plain data serializes");
    s.push('\n');
    s
}

/// The kept spans of a document the JSON export wrote ([`super::render`] with
/// [`Export::Json`](super::Export::Json); seconds), for tests and tools.
pub fn read_keep(json: &str) -> Result<Vec<Span>, String> {
    #[derive(serde::Deserialize)]
    struct K {
        start: Time,
        end: Time,
    }
    #[derive(serde::Deserialize)]
    struct D {
        keep: Vec<K>,
    }
    let d: D = serde_json::from_str(json).map_err(|e| format!("cut JSON: {e}"))?;
    Ok(d.keep
        .into_iter()
        .map(|k| Span::new(k.start, k.end))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::{plan, FrameRate};

    #[test]
    fn json_has_seconds_frames_and_reasons() {
        let fps = FrameRate::new(25, 1).unwrap();
        let words = [crate::transcript::Word {
            text: "um".into(),
            start: Time::from_millis(2000),
            end: Time::from_millis(2400),
            probability: 0.5,
        }];
        let speech = [Span::secs(1.0, 2.4), Span::secs(4.0, 5.0)];
        let p = CutParams::default();
        let pl = plan(
            Time::from_millis(6000),
            &speech,
            &words,
            "en",
            &p,
            Some(fps),
        );
        let src = Source::video("/m/talk.mp4", fps, 1280, 720);
        let out = render(&pl, &src, Some(&p));
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["format"], "subcut-cut");
        assert_eq!(v["fps"], "25");
        assert_eq!(v["duration_frames"], 150);
        assert_eq!(v["keep"][0]["start"], 0.84);
        assert_eq!(v["keep"][0]["start_frame"], 21);
        assert_eq!(v["keep"][0]["end_frame"], 50);
        assert_eq!(v["keep"][1]["output_start"], 1.16);
        assert_eq!(v["keep"][1]["output_start_frame"], 29);
        assert_eq!(v["output_frames"], 29 + 34);
        assert_eq!(v["removed"][1]["reason"], "filler");
        assert_eq!(v["removed"][1]["word"], "um");
        assert_eq!(v["removed"][0]["reason"], "silence");
        assert_eq!(v["params"]["min_silence"], 0.5);
        assert_eq!(read_keep(&out).unwrap(), pl.keep);
        assert!(out.ends_with("}\n"));
        assert!(!render(&pl, &src, None).contains("params"));
        assert!(!out.contains("timecode"), "none without one");
        let tc = Source {
            timecode: super::timecode::Timecode::parse("10:00:00:00", fps).unwrap(),
            ..src
        };
        let v: serde_json::Value = serde_json::from_str(&render(&pl, &tc, None)).unwrap();
        assert_eq!(v["timecode"], "10:00:00:00");
        assert_eq!(
            v["keep"][0]["start_frame"], 21,
            "frames count from the first frame"
        );
    }
}
