//! SMPTE timecode: a source's embedded start timecode ([`Timecode`], what a camera writes
//! into the file) and the `HH:MM:SS:FF` labels the exports print, non-drop-frame or
//! drop-frame (`HH:MM:SS;FF`).
//!
//! A timecode counts whole frames at the rate rounded ([`FrameRate`]'s timecode base: 29.97
//! counts 30 per timecode second). Drop-frame timecode exists only at 29.97 and 59.94 fps: it
//! skips the labels `;00` and `;01` (`;00`–`;03` at 59.94) of every minute but each tenth,
//! so its labels keep up with the clock. Frame numbers here are counts of real frames; a
//! label is only how a number is printed.

use crate::edit::FrameRate;

/// A source's start timecode: the label of its first frame, as a frame count at the
/// rate's timecode base, and whether the source counts drop-frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timecode {
    /// The first frame's number on the timecode's count (`10:00:00:00` at 25 fps: 900000).
    pub frame: i64,
    /// Drop-frame labels (`;`); only ever true at 29.97 and 59.94 fps.
    pub drop_frame: bool,
}

impl Timecode {
    /// Parses a timecode tag as FFmpeg reports it (`10:00:00:00`, `01:00:00;00`; `.` or `;`
    /// anywhere marks drop-frame) for a source at `fps`. Drop-frame is kept only where the
    /// rate has it (29.97, 59.94). `None` for anything that is not a valid label at that rate.
    pub fn parse(s: &str, fps: FrameRate) -> Option<Timecode> {
        let s = s.trim();
        let drop = s.contains([';', '.']) && has_drop_frame(fps);
        let parts: Vec<&str> = s.split([':', ';', '.']).collect();
        let [h, m, sec, f] = parts[..] else {
            return None;
        };
        let num = |x: &str| -> Option<i64> {
            if x.is_empty() || x.len() > 3 || !x.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            x.parse().ok()
        };
        let (h, m, sec, f) = (num(h)?, num(m)?, num(sec)?, num(f)?);
        let base = fps.timecode_base() as i64;
        if h >= 24 || m >= 60 || sec >= 60 || f >= base {
            return None;
        }
        if drop && sec == 0 && m % 10 != 0 && f < drop_per_minute(base) {
            return None; // a label drop-frame skips
        }
        Some(Timecode {
            frame: label_to_frame(h, m, sec, f, base, drop),
            drop_frame: drop,
        })
    }
}

/// Whether drop-frame timecode exists at `fps`: 30000/1001 and 60000/1001.
pub(crate) fn has_drop_frame(fps: FrameRate) -> bool {
    fps.den() == 1001 && (fps.num() == 30_000 || fps.num() == 60_000)
}

/// Labels skipped at the start of each minute (but each tenth): 2 at base 30, 4 at 60.
fn drop_per_minute(base: i64) -> i64 {
    base / 15
}

/// The frame count of a label.
fn label_to_frame(h: i64, m: i64, s: i64, f: i64, base: i64, drop: bool) -> i64 {
    let nominal = ((h * 60 + m) * 60 + s) * base + f;
    if !drop {
        return nominal;
    }
    let minutes = h * 60 + m;
    nominal - drop_per_minute(base) * (minutes - minutes / 10)
}

/// The label of frame `frame` at `base` frames per timecode second, drop-frame (`;` before
/// the frames) or not; wraps at 24 hours, as timecode does; negative frames show as 0.
pub(crate) fn label(frame: i64, base: u32, drop: bool) -> String {
    let base = base.max(1) as i64;
    let mut f = frame.max(0);
    if drop {
        let d = drop_per_minute(base);
        let per_10min = base * 600 - d * 9;
        let per_min = base * 60 - d;
        f %= per_10min * 6 * 24;
        let (tens, rem) = (f / per_10min, f % per_10min);
        // The labels skipped before this frame: 9 minutes' worth per ten, plus those of
        // the minutes begun in this ten (its first minute skips none).
        f += d * 9 * tens
            + if rem > d {
                d * ((rem - d) / per_min)
            } else {
                0
            };
    } else {
        f %= base * 3600 * 24;
    }
    let (secs, ff) = (f / base, f % base);
    format!(
        "{:02}:{:02}:{:02}{}{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        if drop { ';' } else { ':' },
        ff
    )
}

/// The frame count of `01:00:00:00` (the usual start of a timeline) at `base`.
pub(crate) fn one_hour(base: u32, drop: bool) -> i64 {
    label_to_frame(1, 0, 0, 0, base as i64, drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fps(s: &str) -> FrameRate {
        s.parse().unwrap()
    }

    #[test]
    fn non_drop_labels_count_whole_frames() {
        let pal = fps("25");
        assert_eq!(
            Timecode::parse("10:00:00:00", pal),
            Some(Timecode {
                frame: 900_000,
                drop_frame: false
            })
        );
        assert_eq!(label(900_000 + 24, 25, false), "10:00:00:24");
        assert_eq!(label(30 * 3600 + 29, 30, false), "01:00:00:29");
        assert_eq!(label(-3, 25, false), "00:00:00:00");
        assert_eq!(label(24 * 3600 * 25 + 1, 25, false), "00:00:00:01");
        // 29.97 without `;` counts 30 a second, non-drop.
        let ntsc = fps("30000/1001");
        assert_eq!(
            Timecode::parse("01:00:00:00", ntsc),
            Some(Timecode {
                frame: 108_000,
                drop_frame: false
            })
        );
        // `;` at a rate without drop-frame: non-drop.
        assert_eq!(Timecode::parse("00:00:01;05", pal).unwrap().frame, 30);
        for bad in [
            "",
            "1:2:3",
            "00:00:00:25",
            "00:60:00:00",
            "24:00:00:00",
            "a:b:c:d",
        ] {
            assert_eq!(Timecode::parse(bad, pal), None, "{bad:?}");
        }
        assert_eq!(one_hour(25, false), 90_000);
    }

    #[test]
    fn drop_frame_skips_two_labels_a_minute_but_each_tenth() {
        let ntsc = fps("30000/1001");
        let tc = |s| Timecode::parse(s, ntsc).unwrap();
        assert!(tc("01:00:00;00").drop_frame);
        assert_eq!(tc("01:00:00;00").frame, 107_892);
        assert_eq!(one_hour(30, true), 107_892);
        assert_eq!(tc("00:01:00;02").frame, 1800);
        assert_eq!(tc("00:10:00;00").frame, 17_982);
        assert_eq!(
            Timecode::parse("00:01:00;00", ntsc),
            None,
            "a skipped label"
        );
        assert_eq!(label(1799, 30, true), "00:00:59;29");
        assert_eq!(label(1800, 30, true), "00:01:00;02");
        assert_eq!(label(17_981, 30, true), "00:09:59;29");
        assert_eq!(label(17_982, 30, true), "00:10:00;00");
        assert_eq!(label(107_892, 30, true), "01:00:00;00");
        // 59.94 skips four.
        let f60 = fps("60000/1001");
        assert_eq!(Timecode::parse("00:01:00;04", f60).unwrap().frame, 3600);
        assert_eq!(label(3600, 60, true), "00:01:00;04");
        assert_eq!(label(3599, 60, true), "00:00:59;59");
        // Every frame of a day round-trips through its label (a sample of them).
        for base in [30u32, 60] {
            let r = if base == 30 { ntsc } else { f60 };
            let day = label_to_frame(24, 0, 0, 0, base as i64, true);
            for f in (0..day).step_by(997).chain([1, 2, 3, 4, day - 1]) {
                let l = label(f, base, true);
                assert_eq!(Timecode::parse(&l, r).unwrap().frame, f, "{l}");
            }
            assert_eq!(
                label(day, base, true),
                label(0, base, true),
                "wraps at 24 h"
            );
        }
    }
}
