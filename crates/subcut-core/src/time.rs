//! Time as integer microseconds, half-open spans and span-set algebra.
//!
//! Every timing inside subcut is a [`Time`]: an `i64` count of microseconds on the
//! media's presentation timeline (0 = the first instant a player shows). Conversion to
//! FFmpeg time bases happens only at the FFmpeg edge, to milliseconds only when a subtitle
//! is written. A [`Span`] is half-open, `[start, end)`, and span sets (`Vec<Span>`, sorted
//! and non-overlapping) support union, intersection, inversion, padding and merging.
//!
//! ```
//! use subcut_core::time::{Span, Time};
//! let speech = vec![Span::secs(1.0, 2.0), Span::secs(2.2, 3.0)];
//! let merged = subcut_core::time::merge_gaps(&speech, Time::from_millis(300));
//! assert_eq!(merged, vec![Span::secs(1.0, 3.0)]);
//! ```

use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The sample rate of the audio every analysis runs on (16 kHz mono, what whisper takes):
/// the decoder resamples to it, loudness frames and transcription windows count in it.
pub const SAMPLE_RATE: u32 = 16_000;

/// A point in time (or a duration) in microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(pub i64);

impl Time {
    /// The start of the timeline; as a duration, no time at all.
    pub const ZERO: Time = Time(0);
    /// The largest time (about 292,000 years), for "no limit" (an unknown end, say).
    pub const MAX: Time = Time(i64::MAX);

    /// `us` microseconds.
    pub const fn from_micros(us: i64) -> Time {
        Time(us)
    }
    /// `ms` milliseconds (exact).
    pub const fn from_millis(ms: i64) -> Time {
        Time(ms * 1_000)
    }
    /// Seconds as a float, rounded to the nearest microsecond.
    pub fn from_secs_f64(s: f64) -> Time {
        Time((s * 1e6).round() as i64)
    }
    /// A sample index at `rate` Hz, rounded to the nearest microsecond.
    pub fn from_samples(n: usize, rate: u32) -> Time {
        Time(((n as i128 * 1_000_000 + rate as i128 / 2) / rate as i128) as i64)
    }
    /// The count of microseconds.
    pub const fn as_micros(self) -> i64 {
        self.0
    }
    /// Milliseconds, rounded to the nearest one (half away from zero).
    pub(crate) fn as_millis(self) -> i64 {
        if self.0 >= 0 {
            (self.0 + 500) / 1_000
        } else {
            (self.0 - 500) / 1_000
        }
    }
    /// Seconds as a float.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }
    /// The sample index at `rate` Hz that this time falls on (floor, clamped at 0).
    pub fn to_samples(self, rate: u32) -> usize {
        if self.0 <= 0 {
            0
        } else {
            (self.0 as i128 * rate as i128 / 1_000_000) as usize
        }
    }
    /// The later of two times (the longer of two durations).
    pub fn max(self, o: Time) -> Time {
        if self >= o {
            self
        } else {
            o
        }
    }
    /// The earlier of two times (the shorter of two durations).
    pub fn min(self, o: Time) -> Time {
        if self <= o {
            self
        } else {
            o
        }
    }
    /// `HH:MM:SS,mmm` (SRT) with `sep` as the millisecond separator.
    pub(crate) fn clock(self, sep: char) -> String {
        let ms = self.as_millis().max(0);
        let (h, rem) = (ms / 3_600_000, ms % 3_600_000);
        let (m, rem) = (rem / 60_000, rem % 60_000);
        let (s, ms) = (rem / 1_000, rem % 1_000);
        format!("{h:02}:{m:02}:{s:02}{sep}{ms:03}")
    }
}

impl Add for Time {
    type Output = Time;
    fn add(self, o: Time) -> Time {
        Time(self.0.saturating_add(o.0))
    }
}
impl Sub for Time {
    type Output = Time;
    fn sub(self, o: Time) -> Time {
        Time(self.0.saturating_sub(o.0))
    }
}
impl AddAssign for Time {
    fn add_assign(&mut self, o: Time) {
        *self = *self + o;
    }
}
impl SubAssign for Time {
    fn sub_assign(&mut self, o: Time) {
        *self = *self - o;
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.3}s", self.as_secs_f64())
    }
}

/// Serialized as seconds (a float with microsecond precision), the unit people read.
impl Serialize for Time {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.as_secs_f64())
    }
}
impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Time, D::Error> {
        f64::deserialize(d).map(Time::from_secs_f64)
    }
}

/// A half-open interval `[start, end)`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Span {
    /// The first instant in the span.
    pub start: Time,
    /// The first instant after it (exclusive).
    pub end: Time,
}

impl Span {
    /// `[start, end)`, as given: an `end` at or before `start` makes an empty span.
    pub fn new(start: Time, end: Time) -> Span {
        Span { start, end }
    }
    /// `[start, end)` from seconds as floats, each rounded to the nearest microsecond.
    pub fn secs(start: f64, end: f64) -> Span {
        Span::new(Time::from_secs_f64(start), Time::from_secs_f64(end))
    }
    /// `end - start`, or zero when the span is empty.
    pub fn duration(&self) -> Time {
        (self.end - self.start).max(Time::ZERO)
    }
    /// Whether the span holds no instant (`end <= start`).
    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }
    pub(crate) fn contains(&self, t: Time) -> bool {
        self.start <= t && t < self.end
    }
    /// The overlap of two spans, if any.
    pub fn intersect(&self, o: &Span) -> Option<Span> {
        let s = Span::new(self.start.max(o.start), self.end.min(o.end));
        (!s.is_empty()).then_some(s)
    }
    pub(crate) fn overlaps(&self, o: &Span) -> bool {
        self.intersect(o).is_some()
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}, {})", self.start, self.end)
    }
}

/// Sorts spans, drops empty ones and joins those that overlap or touch.
pub fn normalize(spans: &[Span]) -> Vec<Span> {
    merge_gaps(spans, Time::ZERO)
}

/// Like [`normalize`], but also joins spans separated by a gap of at most `max_gap`.
pub fn merge_gaps(spans: &[Span], max_gap: Time) -> Vec<Span> {
    let mut v: Vec<Span> = spans.iter().copied().filter(|s| !s.is_empty()).collect();
    v.sort();
    let mut out: Vec<Span> = Vec::with_capacity(v.len());
    for s in v {
        match out.last_mut() {
            Some(last) if s.start <= last.end + max_gap => last.end = last.end.max(s.end),
            _ => out.push(s),
        }
    }
    out
}

/// The union of two span sets.
pub fn union(a: &[Span], b: &[Span]) -> Vec<Span> {
    let mut v = a.to_vec();
    v.extend_from_slice(b);
    normalize(&v)
}

/// The intersection of two span sets.
pub fn intersection(a: &[Span], b: &[Span]) -> Vec<Span> {
    let (a, b) = (normalize(a), normalize(b));
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() && j < b.len() {
        if let Some(s) = a[i].intersect(&b[j]) {
            out.push(s);
        }
        if a[i].end <= b[j].end {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// The parts of `within` not covered by `spans`.
pub fn invert(spans: &[Span], within: Span) -> Vec<Span> {
    let mut out = Vec::new();
    let mut cursor = within.start;
    for s in normalize(spans) {
        if s.end <= within.start || s.start >= within.end {
            continue;
        }
        if s.start > cursor {
            out.push(Span::new(cursor, s.start));
        }
        cursor = cursor.max(s.end);
    }
    if cursor < within.end {
        out.push(Span::new(cursor, within.end));
    }
    out
}

/// Widens every span by `before`/`after`, clamps to `within` and normalizes.
pub fn pad(spans: &[Span], before: Time, after: Time, within: Span) -> Vec<Span> {
    let v: Vec<Span> = spans
        .iter()
        .filter_map(|s| Span::new(s.start - before, s.end + after).intersect(&within))
        .collect();
    normalize(&v)
}

/// Total duration of a span set (overlaps counted once).
pub fn total(spans: &[Span]) -> Time {
    normalize(spans)
        .iter()
        .fold(Time::ZERO, |t, s| t + s.duration())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(a: i64, b: i64) -> Span {
        Span::new(Time::from_millis(a), Time::from_millis(b))
    }

    #[test]
    fn clock_formats_and_rounds() {
        assert_eq!(Time::from_micros(3_723_456_499).clock(','), "01:02:03,456");
        assert_eq!(Time::from_micros(3_723_456_500).clock('.'), "01:02:03.457");
        assert_eq!(Time::from_micros(-5).clock(','), "00:00:00,000");
        assert_eq!(
            Time::from_secs_f64(100.0 * 3600.0).clock(','),
            "100:00:00,000"
        );
    }

    #[test]
    fn samples_round_trip() {
        assert_eq!(Time::from_samples(16_000, 16_000), Time::from_millis(1000));
        assert_eq!(Time::from_millis(1500).to_samples(16_000), 24_000);
        assert_eq!(Time::from_millis(-10).to_samples(16_000), 0);
    }

    #[test]
    fn span_set_algebra() {
        let a = vec![ms(500, 700), ms(0, 100), ms(100, 200), ms(650, 900)];
        assert_eq!(normalize(&a), vec![ms(0, 200), ms(500, 900)]);
        assert_eq!(
            intersection(&a, &[ms(150, 600)]),
            vec![ms(150, 200), ms(500, 600)]
        );
        assert_eq!(invert(&a, ms(0, 1000)), vec![ms(200, 500), ms(900, 1000)]);
        assert_eq!(
            pad(
                &a,
                Time::from_millis(50),
                Time::from_millis(150),
                ms(0, 950)
            ),
            vec![ms(0, 350), ms(450, 950)]
        );
        assert_eq!(total(&a), Time::from_millis(600));
        assert_eq!(union(&[ms(0, 1)], &[ms(1, 2)]), vec![ms(0, 2)]);
    }

    #[test]
    fn span_set_invariants_on_random_input() {
        // Seeded LCG: deterministic, no extra dependency.
        let mut rng = crate::testutil::Rng::new(0x2545_f491_4f6c_dd1du64);
        let mut next = |m: i64| rng.below(m);
        for _ in 0..500 {
            let n = next(12) as usize;
            let spans: Vec<Span> = (0..n)
                .map(|_| {
                    let s = next(10_000);
                    ms(s, s + next(800))
                })
                .collect();
            let within = ms(0, 11_000);
            let norm = normalize(&spans);
            assert_eq!(normalize(&norm), norm, "idempotent");
            for w in norm.windows(2) {
                assert!(w[0].end < w[1].start, "sorted, disjoint, not touching");
            }
            let inv = invert(&norm, within);
            assert!(intersection(&norm, &inv).is_empty());
            assert_eq!(total(&norm) + total(&inv), within.duration());
            assert_eq!(union(&norm, &inv), vec![within]);
        }
    }
}
