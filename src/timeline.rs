//! The timeline picture (`--timeline out.png`): one image that shows, on a shared time axis,
//! the waveform, the speech the analysis found, what the cut removes and why, and where the
//! captions change.
//!
//! ```text
//! ┌ ticks every second (taller every 10 s) ──────────────────────────────┐
//! │ waveform (min/max per column), removed time shaded pink             │
//! │ speech lane: green where speech was detected                        │
//! │ cut lane: red = silence, orange = filler word, purple = repetition, │
//! │           teal = retake (an abandoned take)                          │
//! │           yellow = cut by hand in an edit list                       │
//! │ captions lane: alternating blues, one block per cue                  │
//! └──────────────────────────────────────────────────────────────────────┘
//! ```

use std::io::Cursor;

use image::{ImageFormat, Rgb, RgbImage};

use crate::edit::cuts::{ReasonKind, Removed};
use crate::subtitle::Cue;
use crate::time::{Span, Time};

const BG: Rgb<u8> = Rgb([255, 255, 255]);
const TICK: Rgb<u8> = Rgb([120, 120, 120]);
const WAVE: Rgb<u8> = Rgb([40, 40, 40]);
const REMOVED_SHADE: Rgb<u8> = Rgb([255, 220, 225]);
const SPEECH: Rgb<u8> = Rgb([60, 170, 90]);
/// The cut lane's colour for each kind of cut (the legend in the module doc).
pub(crate) fn colour(kind: ReasonKind) -> Rgb<u8> {
    match kind {
        ReasonKind::Silence => Rgb([215, 50, 50]),
        ReasonKind::Filler => Rgb([240, 150, 30]),
        ReasonKind::Repeat => Rgb([140, 70, 190]),
        ReasonKind::Edit => Rgb([215, 185, 0]),
        ReasonKind::Retake => Rgb([20, 150, 160]),
    }
}
const CUE_A: Rgb<u8> = Rgb([50, 110, 210]);
const CUE_B: Rgb<u8> = Rgb([120, 170, 240]);
const LANE_BG: Rgb<u8> = Rgb([242, 242, 242]);

/// Rows of each band.
const RULER: (u32, u32) = (0, 14);
const WAVE_ROWS: (u32, u32) = (16, 176);
const SPEECH_ROWS: (u32, u32) = (182, 198);
const CUT_ROWS: (u32, u32) = (204, 220);
const CUE_ROWS: (u32, u32) = (226, 242);
/// Height of the picture.
pub const HEIGHT: u32 = 248;

/// Draws the timeline of one input, `width` pixels wide (at least 100).
pub fn draw(
    samples: &[f32],
    rate: u32,
    duration: Time,
    speech: &[Span],
    removed: &[Removed],
    cues: &[Cue],
    width: u32,
) -> RgbImage {
    let width = width.max(100);
    let mut img = RgbImage::from_pixel(width, HEIGHT, BG);
    let total = duration.as_micros().max(1) as f64;
    let x_of = |t: Time| {
        ((t.as_micros().max(0) as f64 / total) * width as f64)
            .floor()
            .min(width as f64 - 1.0) as u32
    };
    let cols = |s: Span| {
        let a = x_of(s.start);
        let b = x_of(s.end).max(a);
        a..=b
    };
    let fill =
        |img: &mut RgbImage, xs: std::ops::RangeInclusive<u32>, rows: (u32, u32), c: Rgb<u8>| {
            for x in xs {
                for y in rows.0..rows.1 {
                    img.put_pixel(x, y, c);
                }
            }
        };
    for rows in [SPEECH_ROWS, CUT_ROWS, CUE_ROWS] {
        fill(&mut img, 0..=width - 1, rows, LANE_BG);
    }
    // Removed time shaded behind the waveform.
    for r in removed {
        fill(&mut img, cols(r.span), WAVE_ROWS, REMOVED_SHADE);
    }
    // Ruler: a tick per second, longer every ten.
    let secs = duration.as_secs_f64().ceil() as i64;
    let step = if secs > 600 { 10 } else { 1 };
    for s in (0..=secs).step_by(step as usize) {
        let x = x_of(Time::from_millis(s * 1000));
        let h = if s % (10 * step) == 0 {
            RULER.1
        } else {
            RULER.1 / 2
        };
        for y in RULER.0..h {
            img.put_pixel(x, y, TICK);
        }
    }
    // Waveform: min and max sample of each column.
    let mid = (WAVE_ROWS.0 + WAVE_ROWS.1) / 2;
    let half = ((WAVE_ROWS.1 - WAVE_ROWS.0) / 2) as f32;
    let n = samples.len();
    let per_col = (duration.to_samples(rate).max(1) as f64 / width as f64).max(1.0);
    for x in 0..width {
        let a = ((x as f64 * per_col) as usize).min(n);
        let b = (((x + 1) as f64 * per_col) as usize).min(n);
        if a >= b {
            continue;
        }
        let (lo, hi) = samples[a..b]
            .iter()
            .fold((0.0f32, 0.0f32), |(lo, hi), &s| (lo.min(s), hi.max(s)));
        let top = (mid as f32 - hi.clamp(-1.0, 1.0) * half).round() as u32;
        let bottom = (mid as f32 - lo.clamp(-1.0, 1.0) * half).round() as u32;
        for y in top.min(mid)..=bottom.max(mid).min(WAVE_ROWS.1 - 1) {
            img.put_pixel(x, y, WAVE);
        }
    }
    for s in speech {
        fill(&mut img, cols(*s), SPEECH_ROWS, SPEECH);
    }
    for r in removed {
        fill(&mut img, cols(r.span), CUT_ROWS, colour(r.reason.kind()));
    }
    for (i, c) in cues.iter().enumerate() {
        let xs = cols(c.span());
        let start = *xs.start();
        fill(
            &mut img,
            xs,
            CUE_ROWS,
            if i % 2 == 0 { CUE_A } else { CUE_B },
        );
        // A dark boundary where each cue begins.
        for y in CUE_ROWS.0..CUE_ROWS.1 {
            img.put_pixel(start, y, WAVE);
        }
    }
    img
}

/// The picture as PNG bytes.
pub fn png(img: &RgbImage) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png)
        .expect("encoding a PNG in memory cannot fail");
    out.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::cuts::Reason;

    #[test]
    fn lanes_show_speech_cuts_and_cues_where_they_are() {
        let rate = 16_000;
        // 10 s: a tone from 2 to 4 s.
        let samples: Vec<f32> = (0..rate * 10)
            .map(|i| {
                if (2 * rate..4 * rate).contains(&i) {
                    0.5 * ((i as f32) * 0.3).sin()
                } else {
                    0.0
                }
            })
            .collect();
        let speech = [Span::secs(2.0, 4.0)];
        let removed = [
            Removed {
                span: Span::secs(0.0, 1.8),
                reason: Reason::Silence,
            },
            Removed {
                span: Span::secs(3.0, 3.2),
                reason: Reason::Filler { word: "um".into() },
            },
            Removed {
                span: Span::secs(4.2, 5.0),
                reason: Reason::Silence,
            },
            Removed {
                span: Span::secs(5.0, 6.0),
                reason: Reason::Retake {
                    text: "The first step".into(),
                },
            },
            Removed {
                span: Span::secs(6.0, 10.0),
                reason: Reason::Silence,
            },
        ];
        let cues = [
            Cue {
                start: Time::from_secs_f64(2.0),
                end: Time::from_secs_f64(3.0),
                text: "a".into(),
            },
            Cue {
                start: Time::from_secs_f64(3.2),
                end: Time::from_secs_f64(4.0),
                text: "b".into(),
            },
        ];
        let img = draw(
            &samples,
            rate,
            Time::from_secs_f64(10.0),
            &speech,
            &removed,
            &cues,
            1000,
        );
        assert_eq!(img.dimensions(), (1000, HEIGHT));
        let at = |x: u32, rows: (u32, u32)| *img.get_pixel(x, (rows.0 + rows.1) / 2);
        assert_eq!(at(300, SPEECH_ROWS), SPEECH);
        assert_eq!(at(100, SPEECH_ROWS), LANE_BG);
        assert_eq!(at(100, CUT_ROWS), colour(ReasonKind::Silence));
        assert_eq!(at(310, CUT_ROWS), colour(ReasonKind::Filler));
        assert_eq!(at(550, CUT_ROWS), colour(ReasonKind::Retake));
        assert_eq!(at(650, CUT_ROWS), colour(ReasonKind::Silence));
        // Every kind of cut has its own colour.
        let kinds = [
            ReasonKind::Silence,
            ReasonKind::Filler,
            ReasonKind::Repeat,
            ReasonKind::Retake,
        ];
        for (i, a) in kinds.iter().enumerate() {
            for b in &kinds[i + 1..] {
                assert_ne!(colour(*a), colour(*b), "{a:?} and {b:?}");
            }
        }
        assert_eq!(at(250, CUT_ROWS), LANE_BG);
        assert_eq!(at(250, CUE_ROWS), CUE_A);
        assert_eq!(at(350, CUE_ROWS), CUE_B);
        // The waveform is drawn where the tone is, flat elsewhere.
        let dark = |x: u32| {
            (WAVE_ROWS.0..WAVE_ROWS.1)
                .filter(|&y| *img.get_pixel(x, y) == WAVE)
                .count()
        };
        assert!(dark(300) > 60, "{}", dark(300));
        assert!(dark(700) <= 1);
        assert_eq!(*img.get_pixel(100, WAVE_ROWS.0 + 2), REMOVED_SHADE);
        let bytes = png(&img);
        assert_eq!(&bytes[1..4], b"PNG");
        let back = image::load_from_memory(&bytes).unwrap();
        assert_eq!((back.width(), back.height()), (1000, HEIGHT));
    }

    #[test]
    fn empty_input_still_draws() {
        let img = draw(&[], 16_000, Time::ZERO, &[], &[], &[], 10);
        assert_eq!(img.dimensions(), (100, HEIGHT));
    }
}
