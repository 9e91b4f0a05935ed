//! The cut as a CMX3600 edit decision list, the plain-text cut list every editor imports
//! (DaVinci Resolve, Premiere Pro, Avid, Final Cut Pro 7).
//!
//! ```text
//! TITLE: talk
//! FCM: NON-DROP FRAME
//!
//! 001  AX       V     C        00:00:00:21 00:00:02:00 01:00:00:00 01:00:01:04
//! * FROM CLIP NAME: talk.mp4
//!
//! 002  AX       A     C        00:00:00:21 00:00:02:00 01:00:00:00 01:00:01:04
//! * FROM CLIP NAME: talk.mp4
//! ```
//! One event per kept span and track: a video event (`V`) and an audio event (`A`) with
//! the same times (only the tracks the source has), event numbers counting up. Source
//! in/out are the kept span's frames in the file (a file without embedded timecode starts
//! at 00:00:00:00); record in/out lay the spans end to end from 01:00:00:00, the usual start
//! of a timeline. Reel `AX` (an auxiliary source, i.e. a file) and the `FROM CLIP NAME`
//! comment let the editor link the events to the file. Timecode counts whole frames at
//! the rounded rate, non-drop-frame (29.97 fps counts 30 per timecode second).

use super::{frame_spans, Source};
use crate::edit::EditPlan;

/// Where the record (timeline) side starts, in hours.
const RECORD_START_HOURS: i64 = 1;

/// `HH:MM:SS:FF` of a frame count at `base` frames per timecode second.
fn timecode(frame: i64, base: u32) -> String {
    let base = base.max(1) as i64;
    let f = frame.max(0);
    let (secs, ff) = (f / base, f % base);
    format!(
        "{:02}:{:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        ff
    )
}

/// Renders the EDL (CRLF-free, ending in a newline). `title` names the timeline.
pub(crate) fn render(plan: &EditPlan, src: &Source, title: &str) -> String {
    let base = src.fps.timecode_base();
    let title: String = title
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(70)
        .collect();
    let clip = src.file_name().replace(['\n', '\r'], " ");
    let mut tracks: Vec<&str> = Vec::new();
    if src.has_video || !src.has_audio {
        tracks.push("V");
    }
    if src.has_audio {
        tracks.push("A");
    }

    let mut out = format!("TITLE: {}\nFCM: NON-DROP FRAME\n", title.trim());
    let mut event = 0;
    let mut record = RECORD_START_HOURS * 3600 * base as i64;
    for f in frame_spans(&plan.keep, src.grid()) {
        for track in &tracks {
            event += 1;
            out.push_str(&format!(
                "\n{event:03}  {reel:<8} {track:<5} C        {} {} {} {}\n* FROM CLIP NAME: {clip}\n",
                timecode(f.start, base),
                timecode(f.end, base),
                timecode(record, base),
                timecode(record + f.len(), base),
                reel = "AX",
            ));
        }
        record += f.len();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::{cuts::Removed, FrameRate, Reason};
    use crate::time::Span;

    /// One parsed event line: number, reel, track, source in/out and record in/out frames.
    #[derive(Debug, PartialEq)]
    struct Event {
        num: u32,
        reel: String,
        track: String,
        src: (i64, i64),
        rec: (i64, i64),
        clip: Option<String>,
    }

    fn parse_tc(tc: &str, base: i64) -> i64 {
        let p: Vec<i64> = tc
            .split(':')
            .map(|x| x.parse().expect("timecode field"))
            .collect();
        assert_eq!(p.len(), 4, "timecode {tc}");
        assert!(
            p[1] < 60 && p[2] < 60 && p[3] < base,
            "timecode {tc} in range"
        );
        ((p[0] * 60 + p[1]) * 60 + p[2]) * base + p[3]
    }

    /// A tiny CMX3600 reader: header, event lines, `* FROM CLIP NAME` comments.
    fn parse(edl: &str, base: i64) -> (String, Vec<Event>) {
        let mut lines = edl.lines();
        let title = lines
            .next()
            .unwrap()
            .strip_prefix("TITLE: ")
            .expect("TITLE first")
            .to_string();
        assert_eq!(lines.next(), Some("FCM: NON-DROP FRAME"));
        let mut events: Vec<Event> = Vec::new();
        for l in lines.filter(|l| !l.trim().is_empty()) {
            if let Some(name) = l.strip_prefix("* FROM CLIP NAME: ") {
                events.last_mut().expect("comment after an event").clip = Some(name.to_string());
                continue;
            }
            let f: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(f.len(), 8, "event line {l:?}");
            assert_eq!(f[3], "C", "cuts only");
            events.push(Event {
                num: f[0].parse().unwrap(),
                reel: f[1].into(),
                track: f[2].into(),
                src: (parse_tc(f[4], base), parse_tc(f[5], base)),
                rec: (parse_tc(f[6], base), parse_tc(f[7], base)),
                clip: None,
            });
        }
        (title, events)
    }

    fn sample(fps: FrameRate) -> EditPlan {
        let keep = [
            Span::new(fps.time_of(21), fps.time_of(50)),
            Span::new(fps.time_of(96), fps.time_of(130)),
            Span::new(fps.time_of(2000), fps.time_of(112_000)),
        ];
        let cuts = [Removed {
            span: Span::new(fps.time_of(50), fps.time_of(60)),
            reason: Reason::Filler { word: "um".into() },
        }];
        EditPlan::from_keep(fps.time_of(120_000), &keep, &cuts, Some(fps.into()))
    }

    #[test]
    fn golden_edl() {
        let fps = FrameRate::new(25, 1).unwrap();
        let mut p = sample(fps);
        p.keep.truncate(2);
        let src = Source::video("/m/talk.mp4", fps, 1920, 1080);
        let want = "TITLE: talk cut\nFCM: NON-DROP FRAME\n\
            \n001  AX       V     C        00:00:00:21 00:00:02:00 01:00:00:00 01:00:01:04\n* FROM CLIP NAME: talk.mp4\n\
            \n002  AX       A     C        00:00:00:21 00:00:02:00 01:00:00:00 01:00:01:04\n* FROM CLIP NAME: talk.mp4\n\
            \n003  AX       V     C        00:00:03:21 00:00:05:05 01:00:01:04 01:00:02:13\n* FROM CLIP NAME: talk.mp4\n\
            \n004  AX       A     C        00:00:03:21 00:00:05:05 01:00:01:04 01:00:02:13\n* FROM CLIP NAME: talk.mp4\n";
        assert_eq!(render(&p, &src, "talk cut"), want);
    }

    #[test]
    fn edl_parses_back_to_the_plan() {
        for fps in ["25", "30000/1001", "24000/1001", "60", "24"] {
            let fps: FrameRate = fps.parse().unwrap();
            let base = fps.timecode_base() as i64;
            let p = sample(fps);
            for src in [
                Source::video("/m/a b.mov", fps, 1920, 1080),
                Source::audio("/m/a b.wav", 1, 44_100),
            ] {
                let src = Source { fps, ..src };
                let text = render(&p, &src, "T\nx");
                let (title, events) = parse(&text, base);
                assert_eq!(title, "T x");
                let tracks: Vec<&str> = if src.has_video {
                    vec!["V", "A"]
                } else {
                    vec!["A"]
                };
                assert_eq!(events.len(), p.keep.len() * tracks.len());
                let mut record = 3600 * base;
                for (i, e) in events.iter().enumerate() {
                    assert_eq!(e.num as usize, i + 1, "numbered in order");
                    assert_eq!(e.reel, "AX");
                    assert_eq!(e.track, tracks[i % tracks.len()]);
                    let clip = if src.has_video { "a b.mov" } else { "a b.wav" };
                    assert_eq!(e.clip.as_deref(), Some(clip));
                    let k = p.keep[i / tracks.len()];
                    assert_eq!(
                        e.src,
                        (fps.frame_round(k.start), fps.frame_round(k.end)),
                        "{fps}"
                    );
                    assert_eq!(
                        e.rec.1 - e.rec.0,
                        e.src.1 - e.src.0,
                        "same length both sides"
                    );
                    if i % tracks.len() == 0 {
                        assert_eq!(e.rec.0, record, "record side contiguous");
                        record = e.rec.1;
                    }
                }
                let kept_frames: i64 = p
                    .keep
                    .iter()
                    .map(|k| fps.frame_round(k.end) - fps.frame_round(k.start))
                    .sum();
                assert_eq!(record - 3600 * base, kept_frames);
            }
        }
        assert_eq!(timecode(30 * 3600 + 29, 30), "01:00:00:29");
        assert_eq!(timecode(-3, 25), "00:00:00:00");
    }
}
