//! The editing core of `subcut cut`: which parts of a recording to keep, how source time maps
//! onto the cut timeline, and the cut as files other editors import. Pure code: no FFmpeg, no
//! whisper; the caller measures speech ([`crate::analysis::detect`]) and transcribes first.
//!
//! ```text
//! speech spans + transcript words ──plan()──▶ EditPlan { keep, removed (silence/filler/repeat/retake) }
//! EditPlan ──time_map()──▶ TimeMap: source → output time, captions re-timed (map_transcript)
//! EditPlan ──export::render(Export::{Json, Edl, Fcpxml, Premiere, Otio})──▶ String (the caller writes it)
//! ```
//!
//! ```
//! use subcut_core::edit::{plan, CutParams, FrameRate};
//! use subcut_core::time::{Span, Time};
//! let speech = [Span::secs(1.0, 2.0), Span::secs(4.0, 5.0)];
//! let p = plan(Time::from_millis(6000), &speech, &[], "en", &CutParams::default(),
//!              Some(FrameRate::new(25, 1).unwrap()));
//! // 0.15 s before and 0.2 s after each speech span, on the 25 fps grid.
//! assert_eq!(p.keep, vec![Span::secs(0.84, 2.2), Span::secs(3.84, 5.2)]);
//! assert_eq!(p.time_map().map(Time::from_millis(4000)), Some(Time::from_millis(1520)));
//! ```
//!
//! # For people coming from auto-editor
//! | auto-editor                          | subcut                                   |
//! |--------------------------------------|------------------------------------------|
//! | `--edit audio:threshold=0.04`        | `--threshold -28dB` (20·log10(0.04)), or `auto` |
//! | `--edit audio:mincut=…` (silence)    | `--min-silence 0.5s`                     |
//! | `--edit audio:minclip=…` (sound)     | `--min-clip 0.3s`                        |
//! | `--margin 0.2s` / `--margin 0.1s,0.3s` | `--margin 0.2s` / `--margin 0.1s,0.3s` |
//! | bare numbers are frames (`--margin 6`) | bare numbers are **seconds** (`0.2` = `0.2s`) |
//! | `--export premiere / final-cut-pro / resolve` | `--export premiere` / `fcpxml` / `edl,fcpxml` |
//!
//! One difference: auto-editor keeps short loud blips unless `minclip` drops them; subcut
//! never drops a short piece that holds a transcribed word (see [`plan()`]).

pub mod cuts;
pub mod editlist;
pub mod export;
mod plan;
mod timemap;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::time::Time;

pub(crate) use cuts::Reason;
pub use cuts::{FillerSet, Retakes};
pub use plan::{plan, plan_with_cuts, CutParams, EditPlan, WordCut, WORD_CUTS};
pub use timemap::{Piece, TimeMap};

/// A video frame rate as an exact fraction (`30000/1001` for NTSC 29.97), reduced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FrameRate {
    num: u32,
    den: u32,
}

impl FrameRate {
    /// `num/den` frames per second, reduced; `None` unless both are positive.
    pub fn new(num: u32, den: u32) -> Option<FrameRate> {
        if num == 0 || den == 0 {
            return None;
        }
        let g = gcd(num, den);
        Some(FrameRate {
            num: num / g,
            den: den / g,
        })
    }

    /// The rate closest to `fps`: the NTSC rates (23.976, 29.97, 59.94, …) become their exact
    /// `N000/1001` fractions, others are kept to 1/1000 of a frame per second.
    fn from_f64(fps: f64) -> Option<FrameRate> {
        if !fps.is_finite() || fps <= 0.0 || fps > 1_000_000.0 {
            return None;
        }
        let ntsc = (fps * 1.001).round();
        if (fps - ntsc / 1.001).abs() < 0.0005 && (fps - fps.round()).abs() > 0.0005 {
            return FrameRate::new(ntsc as u32 * 1000, 1001);
        }
        FrameRate::new((fps * 1000.0).round() as u32, 1000)
    }

    /// The numerator: frames per [`den`](Self::den) seconds.
    pub fn num(self) -> u32 {
        self.num
    }
    /// The denominator: the seconds [`num`](Self::num) frames take (1001 for the NTSC rates).
    pub fn den(self) -> u32 {
        self.den
    }
    /// Frames per second as a float (29.97002997… for `30000/1001`).
    pub fn as_f64(self) -> f64 {
        self.num as f64 / self.den as f64
    }

    /// The frames per second a timecode counts (29.97 counts 30): the rate rounded.
    fn timecode_base(self) -> u32 {
        ((self.num + self.den / 2) / self.den).max(1)
    }

    /// The last frame whose start ([`time_of`](Self::time_of), in whole microseconds) is at
    /// or before `t`: the frame that shows at `t`.
    fn frame_floor(self, t: Time) -> i64 {
        // time_of(n) <= t  ⟺  n·den·10⁶/num < t + ½  ⟺  n·2·den·10⁶ ≤ (2t+1)·num − 1
        let a = (2 * t.0 as i128 + 1) * self.num as i128 - 1;
        let d = 2_000_000i128 * self.den as i128;
        a.div_euclid(d) as i64
    }

    /// The first frame whose start (in whole microseconds) is at or after `t`.
    fn frame_ceil(self, t: Time) -> i64 {
        // time_of(n) >= t  ⟺  n·den·10⁶ ≥ t − ½  ⟺  n ≥ (2t−1)·num / (2·den·10⁶)
        let a = (2 * t.0 as i128 - 1) * self.num as i128;
        let d = 2_000_000i128 * self.den as i128;
        (a.div_euclid(d) + (a.rem_euclid(d) != 0) as i128) as i64
    }

    /// The frame boundary nearest to `t`.
    pub fn frame_round(self, t: Time) -> i64 {
        let n = t.0 as i128 * self.num as i128 * 2 + 1_000_000i128 * self.den as i128;
        let d = 2_000_000i128 * self.den as i128;
        n.div_euclid(d) as i64
    }

    /// When frame `n` starts, rounded to the nearest microsecond. Every frame function agrees
    /// with it: `frame_floor`, `frame_ceil` and `frame_round` of `time_of(n)` are all `n`.
    pub fn time_of(self, frame: i64) -> Time {
        let n = frame as i128 * 1_000_000 * self.den as i128;
        let d = self.num as i128;
        Time((n * 2 + d).div_euclid(2 * d) as i64)
    }

    /// `t` moved down onto the frame grid.
    pub fn snap_down(self, t: Time) -> Time {
        self.time_of(self.frame_floor(t))
    }
    /// `t` moved up onto the frame grid.
    pub fn snap_up(self, t: Time) -> Time {
        self.time_of(self.frame_ceil(t))
    }
}

/// A video's frame grid: its rate and the time of its first frame (`origin`, usually 0;
/// later when the video starts after the container's start). Frame `n` starts at
/// `origin + n / rate`; frame numbers count from the first frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FrameGrid {
    rate: FrameRate,
    origin: Time,
}

impl FrameGrid {
    /// The grid of `rate` whose frame 0 starts at `origin`.
    pub fn new(rate: FrameRate, origin: Time) -> FrameGrid {
        FrameGrid { rate, origin }
    }
    /// The frame that shows at `t` (negative before the first frame).
    fn frame_floor(self, t: Time) -> i64 {
        self.rate.frame_floor(t - self.origin)
    }
    /// The first frame starting at or after `t`.
    fn frame_ceil(self, t: Time) -> i64 {
        self.rate.frame_ceil(t - self.origin)
    }
    /// The frame boundary nearest to `t`.
    pub fn frame_round(self, t: Time) -> i64 {
        self.rate.frame_round(t - self.origin)
    }
    /// When frame `n` starts (to the microsecond, as the renderer's frame slots).
    pub fn time_of(self, frame: i64) -> Time {
        self.origin + self.rate.time_of(frame)
    }
    /// `t` moved down onto the grid.
    fn snap_down(self, t: Time) -> Time {
        self.time_of(self.frame_floor(t))
    }
    /// `t` moved up onto the grid.
    fn snap_up(self, t: Time) -> Time {
        self.time_of(self.frame_ceil(t))
    }
}

/// The grid of a video whose first frame is at 0.
impl From<FrameRate> for FrameGrid {
    fn from(rate: FrameRate) -> FrameGrid {
        FrameGrid::new(rate, Time::ZERO)
    }
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl fmt::Display for FrameRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.den == 1 {
            write!(f, "{}", self.num)
        } else {
            write!(f, "{}/{}", self.num, self.den)
        }
    }
}

/// `30000/1001`, `25`, `29.97`, `23.976fps`.
impl FromStr for FrameRate {
    type Err = String;
    fn from_str(s: &str) -> Result<FrameRate, String> {
        let t = s.trim();
        let t = t.strip_suffix("fps").unwrap_or(t).trim();
        let bad = || format!("invalid frame rate {s:?} (expected e.g. 25, 29.97 or 30000/1001)");
        if let Some((n, d)) = t.split_once('/') {
            let n = n.trim().parse::<u32>().map_err(|_| bad())?;
            let d = d.trim().parse::<u32>().map_err(|_| bad())?;
            return FrameRate::new(n, d).ok_or_else(bad);
        }
        if let Ok(n) = t.parse::<u32>() {
            return FrameRate::new(n, 1).ok_or_else(bad);
        }
        t.parse::<f64>()
            .ok()
            .and_then(FrameRate::from_f64)
            .ok_or_else(bad)
    }
}

impl Serialize for FrameRate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
impl<'de> Deserialize<'de> for FrameRate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<FrameRate, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Num(f64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Num(f) => FrameRate::from_f64(f)
                .ok_or_else(|| serde::de::Error::custom(format!("invalid frame rate {f}"))),
            Raw::Text(s) => s.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// A duration as people type it: `0.5s`, `500ms`, `1.5 s`, `2min`, or a bare number of
/// seconds (`0.5`). Negative durations are refused.
pub fn parse_duration(s: &str) -> Result<Time, String> {
    let t = s.trim();
    let (num, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 1e3)
    } else if let Some(n) = t.strip_suffix("min") {
        (n, 60e6)
    } else if let Some(n) = t.strip_suffix("us").or_else(|| t.strip_suffix("µs")) {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix("sec").or_else(|| t.strip_suffix('s')) {
        (n, 1e6)
    } else {
        (t, 1e6)
    };
    let bad = || format!("invalid duration {s:?} (expected e.g. 0.5s, 500ms or 0.5)");
    let v: f64 = num.trim().parse().map_err(|_| bad())?;
    if !v.is_finite() {
        return Err(bad());
    }
    if v < 0.0 {
        return Err(format!("duration {s:?} is negative"));
    }
    let us = v * scale;
    if us > 1e15 {
        return Err(format!("duration {s:?} is too long"));
    }
    Ok(Time(us.round() as i64))
}

/// `--margin`: one duration for both sides (`0.2s`) or `BEFORE,AFTER` (`0.15s,0.2s`).
pub fn parse_margin(s: &str) -> Result<(Time, Time), String> {
    match s.split_once(',') {
        Some((a, b)) => Ok((parse_duration(a)?, parse_duration(b)?)),
        None => {
            let m = parse_duration(s)?;
            Ok((m, m))
        }
    }
}

/// Serde helper: a duration written as seconds (`0.5`) or as text (`"500ms"`).
pub(crate) fn de_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Time, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Secs(f64),
        Text(String),
    }
    match Raw::deserialize(d)? {
        Raw::Secs(s) if s.is_finite() && s >= 0.0 => Ok(Time::from_secs_f64(s)),
        Raw::Secs(s) => Err(serde::de::Error::custom(format!(
            "duration {s} must be a non-negative number of seconds"
        ))),
        Raw::Text(t) => parse_duration(&t).map_err(serde::de::Error::custom),
    }
}

/// Serde helper: an optional duration ([`de_duration`]), `null` for none.
pub(crate) fn de_opt_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Time>, D::Error> {
    #[derive(Deserialize)]
    struct Wrap(#[serde(deserialize_with = "de_duration")] Time);
    Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_in_every_spelling() {
        assert_eq!(parse_duration("0.5s"), Ok(Time::from_millis(500)));
        assert_eq!(parse_duration(" 500ms "), Ok(Time::from_millis(500)));
        assert_eq!(parse_duration("0.5"), Ok(Time::from_millis(500)));
        assert_eq!(parse_duration("1.5 s"), Ok(Time::from_millis(1500)));
        assert_eq!(parse_duration("2min"), Ok(Time::from_millis(120_000)));
        assert_eq!(parse_duration("250us"), Ok(Time(250)));
        assert_eq!(parse_duration("0"), Ok(Time::ZERO));
        assert!(parse_duration("-1s").unwrap_err().contains("negative"));
        assert!(parse_duration("fast")
            .unwrap_err()
            .contains("invalid duration"));
        assert!(parse_duration("nan").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn margins_take_one_or_two_values() {
        let ms = Time::from_millis;
        assert_eq!(parse_margin("0.2s"), Ok((ms(200), ms(200))));
        assert_eq!(parse_margin("0.15s,0.2s"), Ok((ms(150), ms(200))));
        assert_eq!(parse_margin("100ms, 0.3"), Ok((ms(100), ms(300))));
        assert!(parse_margin("0.1s,x").is_err());
    }

    #[test]
    fn frame_rates_are_exact_fractions() {
        let ntsc: FrameRate = "29.97".parse().unwrap();
        assert_eq!((ntsc.num(), ntsc.den()), (30000, 1001));
        assert_eq!(
            "23.976fps".parse::<FrameRate>().unwrap().to_string(),
            "24000/1001"
        );
        assert_eq!(
            "59.94".parse::<FrameRate>().unwrap().to_string(),
            "60000/1001"
        );
        assert_eq!("50/2".parse::<FrameRate>().unwrap().to_string(), "25");
        assert_eq!("25".parse::<FrameRate>().unwrap().to_string(), "25");
        assert_eq!("12.5".parse::<FrameRate>().unwrap().to_string(), "25/2");
        assert!("0".parse::<FrameRate>().is_err());
        assert!("30/0".parse::<FrameRate>().is_err());
        assert!("fast".parse::<FrameRate>().is_err());
        assert_eq!(ntsc.timecode_base(), 30);
        assert_eq!(FrameRate::new(24000, 1001).unwrap().timecode_base(), 24);
    }

    #[test]
    fn grids_with_an_origin() {
        let g = FrameGrid::new(FrameRate::new(25, 1).unwrap(), Time::from_millis(10));
        assert_eq!(g.time_of(0), Time::from_millis(10));
        assert_eq!(g.frame_floor(Time::from_millis(49)), 0);
        assert_eq!(g.frame_floor(Time::from_millis(50)), 1);
        assert_eq!(g.snap_down(Time::from_millis(1000)), Time::from_millis(970));
        assert_eq!(g.snap_up(Time::from_millis(1000)), Time::from_millis(1010));
        assert_eq!(g.frame_floor(Time::ZERO), -1);
        let json = serde_json::to_string(&g).unwrap();
        assert_eq!(json, r#"{"rate":"25","origin":0.01}"#);
        assert_eq!(serde_json::from_str::<FrameGrid>(&json).unwrap(), g);
    }

    #[test]
    fn frame_grid_round_trips() {
        for fps in ["24", "25", "30000/1001", "24000/1001", "60000/1001", "30"] {
            let r: FrameRate = fps.parse().unwrap();
            for n in [0i64, 1, 2, 29, 30, 1001, 1799, 107_892, 10_000_000] {
                let t = r.time_of(n);
                assert_eq!(r.frame_round(t), n, "{fps} frame {n}");
                assert_eq!(r.frame_floor(t), n, "{fps} frame {n} floor");
                assert_eq!(r.frame_ceil(t), n, "{fps} frame {n} ceil");
                assert_eq!(r.snap_down(t), t);
                assert_eq!(r.snap_up(t + Time(1)), r.time_of(n + 1));
            }
        }
        let r = FrameRate::new(25, 1).unwrap();
        assert_eq!(r.frame_floor(Time::from_millis(39)), 0);
        assert_eq!(r.frame_ceil(Time::from_millis(39)), 1);
        assert_eq!(r.frame_round(Time::from_millis(19)), 0);
        assert_eq!(r.frame_round(Time::from_millis(20)), 1);
        assert_eq!(r.frame_floor(Time::from_millis(-1)), -1);
    }
}
