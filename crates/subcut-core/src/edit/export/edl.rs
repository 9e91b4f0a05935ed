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
//! the same times (only the tracks the source has), event numbers counting up: 001 to 999,
//! then 1000 on (CMX3600 has three digits; past 999 Premiere Pro writes four-digit numbers,
//! and OpenTimelineIO's and pycmx's readers, which split on spaces, take them). Source in/out are
//! the kept span's frames in the file, counted from its embedded start timecode
//! (00:00:00:00 when it has none); record in/out lay the spans end to end from 01:00:00:00,
//! the usual start of a timeline. Reel `AX` (an auxiliary source, i.e. a file) and the
//! `FROM CLIP NAME` comment let the editor link the events to the file. Timecode counts
//! whole frames at the rounded rate (29.97 fps counts 30 per timecode second): non-drop
//! frame, or drop frame (`FCM: DROP FRAME`, `HH:MM:SS;FF`) when the source's timecode is
//! drop-frame at 29.97 or 59.94 fps.

use super::timecode::{label, one_hour};
use super::Source;
use crate::edit::EditPlan;

/// Renders the EDL (CRLF-free, ending in a newline). `title` names the timeline.
pub(crate) fn render(plan: &EditPlan, src: &Source, title: &str) -> String {
    let base = src.fps.timecode_base();
    let drop = src.drop_frame();
    let tc = |f: i64| label(f, base, drop);
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

    let fcm = if drop { "DROP FRAME" } else { "NON-DROP FRAME" };
    let mut out = format!("TITLE: {}\nFCM: {fcm}\n", title.trim());
    let mut event = 0;
    let mut record = one_hour(base, drop);
    for f in src.frame_spans(plan) {
        for track in &tracks {
            event += 1;
            out.push_str(&format!(
                "\n{event:03}  {reel:<8} {track:<5} C        {} {} {} {}\n* FROM CLIP NAME: {clip}\n",
                tc(src.tc(f.start)),
                tc(src.tc(f.end)),
                tc(record),
                tc(record + f.len()),
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
    use crate::edit::export::Timecode;
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

    /// A timecode of the EDL: `;` before the frames exactly when it is drop-frame.
    fn parse_tc(tc: &str, fps: FrameRate, drop: bool) -> i64 {
        assert_eq!(tc.len(), 11, "timecode {tc}");
        assert_eq!(&tc[8..9], if drop { ";" } else { ":" }, "timecode {tc}");
        let t = Timecode::parse(tc, fps).unwrap_or_else(|| panic!("timecode {tc} in range"));
        assert_eq!(t.drop_frame, drop);
        t.frame
    }

    /// A tiny CMX3600 reader: header, event lines, `* FROM CLIP NAME` comments.
    fn parse(edl: &str, fps: FrameRate, drop: bool) -> (String, Vec<Event>) {
        let mut lines = edl.lines();
        let title = lines
            .next()
            .unwrap()
            .strip_prefix("TITLE: ")
            .expect("TITLE first")
            .to_string();
        let fcm = if drop { "DROP FRAME" } else { "NON-DROP FRAME" };
        assert_eq!(lines.next(), Some(format!("FCM: {fcm}").as_str()));
        let mut events: Vec<Event> = Vec::new();
        for l in lines.filter(|l| !l.trim().is_empty()) {
            if let Some(name) = l.strip_prefix("* FROM CLIP NAME: ") {
                events.last_mut().expect("comment after an event").clip = Some(name.to_string());
                continue;
            }
            let f: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(f.len(), 8, "event line {l:?}");
            assert_eq!(f[3], "C", "cuts only");
            let t = |x: &str| parse_tc(x, fps, drop);
            events.push(Event {
                num: f[0].parse().unwrap(),
                reel: f[1].into(),
                track: f[2].into(),
                src: (t(f[4]), t(f[5])),
                rec: (t(f[6]), t(f[7])),
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
    fn golden_edl_with_drop_frame_timecode() {
        let fps = FrameRate::new(30000, 1001).unwrap();
        let mut p = sample(fps);
        p.keep.truncate(1);
        let mut src = Source::video("/m/cam.mov", fps, 1920, 1080);
        src.has_audio = false;
        src.timecode = Timecode::parse("00:59:59;29", fps).unwrap();
        let want = "TITLE: cam\nFCM: DROP FRAME\n\
            \n001  AX       V     C        01:00:00;20 01:00:01;19 01:00:00;00 01:00:00;29\n* FROM CLIP NAME: cam.mov\n";
        assert_eq!(render(&p, &src, "cam"), want);
    }

    #[test]
    fn edl_parses_back_to_the_plan() {
        for fps in ["25", "30000/1001", "24000/1001", "60", "24", "60000/1001"] {
            let fps: FrameRate = fps.parse().unwrap();
            let base = fps.timecode_base() as i64;
            let p = sample(fps);
            for tc in ["", "10:00:00:00", "01:00:00;00", "23:00:00;00"] {
                let start = Timecode::parse(tc, fps).unwrap_or_default();
                let drop = start.drop_frame;
                assert_eq!(drop, tc.contains(';') && fps.den() == 1001 && base != 24);
                for src in [
                    Source::video("/m/a b.mov", fps, 1920, 1080),
                    Source::audio("/m/a b.wav", fps, 1, 44_100),
                ] {
                    let src = Source {
                        timecode: start,
                        ..src
                    };
                    let text = render(&p, &src, "T\nx");
                    let (title, events) = parse(&text, fps, drop);
                    assert_eq!(title, "T x");
                    let tracks: Vec<&str> = if src.has_video {
                        vec!["V", "A"]
                    } else {
                        vec!["A"]
                    };
                    assert_eq!(events.len(), p.keep.len() * tracks.len());
                    let hour = one_hour(base as u32, drop);
                    let mut record = hour;
                    for (i, e) in events.iter().enumerate() {
                        assert_eq!(e.num as usize, i + 1, "numbered in order");
                        assert_eq!(e.reel, "AX");
                        assert_eq!(e.track, tracks[i % tracks.len()]);
                        let clip = if src.has_video { "a b.mov" } else { "a b.wav" };
                        assert_eq!(e.clip.as_deref(), Some(clip));
                        let k = p.keep[i / tracks.len()];
                        // From the start timecode (wrapping at 24 hours, as timecode does).
                        let want = |t| {
                            let f = start.frame + fps.frame_round(t);
                            Timecode::parse(&label(f, base as u32, drop), fps)
                                .unwrap()
                                .frame
                        };
                        assert_eq!(e.src, (want(k.start), want(k.end)), "{fps} {tc}");
                        if start.frame < 20 * 3600 * base {
                            assert_eq!(e.src.0, start.frame + fps.frame_round(k.start), "no wrap");
                        }
                        assert_eq!(
                            e.rec.1 - e.rec.0,
                            fps.frame_round(k.end) - fps.frame_round(k.start),
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
                    assert_eq!(record - hour, kept_frames);
                }
            }
        }
    }

    #[test]
    fn past_999_events_count_on_in_four_digits() {
        let fps = FrameRate::new(25, 1).unwrap();
        let keep: Vec<Span> = (0..600)
            .map(|i| Span::new(fps.time_of(i * 10), fps.time_of(i * 10 + 5)))
            .collect();
        let p = EditPlan::from_keep(fps.time_of(6000), &keep, &[], Some(fps.into()));
        let text = render(&p, &Source::video("/m/v.mp4", fps, 0, 0), "v");
        let (_, events) = parse(&text, fps, false);
        assert_eq!(events.len(), 1200);
        let nums: Vec<u32> = events.iter().map(|e| e.num).collect();
        assert_eq!(nums, (1..=1200).collect::<Vec<u32>>());
        assert!(text.contains("\n999  AX       V     C        "), "{text}");
        assert!(text.contains("\n1000  AX       A     C        "), "{text}");
    }
}
