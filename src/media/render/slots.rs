//! The pure timing half of the renderer: keep spans → the output's slot layout ([`Slots`]),
//! frame selection into those slots, audio sample ranges and fade gains. No FFmpeg here, so
//! all of it is unit-tested directly. Frame slots count with the core's exact
//! [`FrameRate`], so they agree with the [`crate::edit::FrameGrid`] cut points snap to.

use crate::edit::FrameRate;
use crate::time::{self, Span, Time};

/// The output's slot layout: keep spans clipped to the media and laid end to end on the
/// output timeline.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Slots {
    /// Sorted, disjoint, non-empty spans on the source (player) timeline.
    pub spans: Vec<Span>,
    /// Output time at which each span starts (sum of the kept durations before it).
    pub out_starts: Vec<Time>,
    /// Total kept duration = output duration.
    pub total: Time,
    /// Where the media ends (spans were clipped to it); `Time::MAX` when unknown.
    pub media_end: Time,
}

impl Slots {
    /// Normalizes `keep` (sort, merge overlaps) and clips it to `[0, media_end)`.
    pub fn new(keep: &[Span], media_end: Option<Time>) -> Slots {
        let media_end = media_end.filter(|d| d.0 > 0).unwrap_or(Time::MAX);
        let within = Span::new(Time::ZERO, media_end);
        let spans: Vec<Span> = time::normalize(keep)
            .iter()
            .filter_map(|s| s.intersect(&within))
            .collect();
        let mut out_starts = Vec::with_capacity(spans.len());
        let mut total = Time::ZERO;
        for s in &spans {
            out_starts.push(total);
            total += s.duration();
        }
        Slots {
            spans,
            out_starts,
            total,
            media_end,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The end of the last span on the source timeline (where decoding can stop).
    pub fn source_end(&self) -> Time {
        self.spans.last().map_or(Time::ZERO, |s| s.end)
    }

    /// Output time → (span index, source time). Times at or past the end map into the last
    /// span (clamped to its end).
    pub fn unmap(&self, out: Time) -> (usize, Time) {
        // The last span whose output start is <= out.
        let i = match self.out_starts.binary_search(&out) {
            Ok(i) => i,
            Err(0) => 0,
            Err(i) => i - 1,
        };
        let s = self.spans[i];
        (i, (s.start + (out - self.out_starts[i])).min(s.end))
    }

    /// Source sample ranges `[a, b)` at `rate` Hz, one per span: sample `n` (at time `n/rate`)
    /// is kept iff its time lies in the span.
    pub fn sample_ranges(&self, rate: u32) -> Vec<(i64, i64)> {
        self.spans
            .iter()
            .map(|s| (ceil_samples(s.start, rate), ceil_samples(s.end, rate)))
            .collect()
    }

    /// Whether audio must fade in at the start of span `i` (it is a cut, not the media start)
    /// and fade out at its end (a cut, not the media end).
    pub fn fades(&self, i: usize) -> (bool, bool) {
        let s = self.spans[i];
        (s.start > Time::ZERO, s.end < self.media_end)
    }
}

/// The first sample index at or after `t` at `rate` Hz.
pub(crate) fn ceil_samples(t: Time, rate: u32) -> i64 {
    let num = t.0 as i128 * rate as i128;
    num.div_euclid(1_000_000) as i64 + i64::from(num.rem_euclid(1_000_000) != 0)
}

/// Half a frame interval (rounded down), the tolerance for picking a frame for a slot.
fn half_frame(rate: FrameRate) -> Time {
    Time((rate.den() as i128 * 500_000 / rate.num() as i128) as i64)
}

/// Constant-frame-rate selection. Output slot `k` (time `k / fps`) shows the source frame
/// nearest to the source time the slot maps to (the latest frame no later than half a frame
/// after it). With frame-aligned spans this is exactly "the frames whose time lies in a span";
/// otherwise each join moves the picture by less than half a frame. Frames arrive in
/// presentation order; [`CfrSelector::push`] says which slots to fill with which frame.
pub(crate) struct CfrSelector {
    rate: FrameRate,
    tol: Time,
    /// Next slot to fill and the total number of slots.
    pub next: i64,
    pub count: i64,
    /// Source time slot `next` maps to.
    target: Time,
}

/// What to do with frames: `Emit(slot)` = send the candidate (or the new frame) for slot.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Pick {
    /// Fill slot with the held candidate frame.
    Held(i64),
    /// Fill slot with the frame just pushed (no earlier frame exists).
    New(i64),
}

impl CfrSelector {
    pub fn new(slots: &Slots, rate: FrameRate) -> CfrSelector {
        let count = if slots.total > Time::ZERO {
            rate.frame_round(slots.total).max(1)
        } else {
            0
        };
        let mut s = CfrSelector {
            rate,
            tol: half_frame(rate) - Time(1),
            next: 0,
            count,
            target: Time::ZERO,
        };
        s.retarget(slots);
        s
    }

    fn retarget(&mut self, slots: &Slots) {
        if self.next < self.count {
            self.target = slots.unmap(self.rate.time_of(self.next)).1;
        }
    }

    pub fn done(&self) -> bool {
        self.next >= self.count
    }

    /// A frame at source time `t` arrived; `has_held` says whether an earlier frame is held.
    /// Returns the slots to fill before this frame becomes the new held candidate.
    pub fn push(&mut self, slots: &Slots, t: Time, has_held: bool) -> Vec<Pick> {
        let mut picks = Vec::new();
        while self.next < self.count && t > self.target + self.tol {
            picks.push(if has_held {
                Pick::Held(self.next)
            } else {
                Pick::New(self.next)
            });
            self.next += 1;
            self.retarget(slots);
        }
        picks
    }

    /// At the end of the stream: the remaining slots, all filled with the held frame.
    pub fn finish(&mut self) -> std::ops::Range<i64> {
        let r = self.next..self.count;
        self.next = self.count;
        r
    }
}

/// Variable-frame-rate selection: per span, the frame shown at the span's start (placed at the
/// span's output start) and every frame whose time lies inside the span (at its mapped time).
pub(crate) struct VfrSelector {
    span: usize,
    started: bool,
}

/// Where to place frames, as output times: `held` at `.0`, then maybe the new frame at `.1`.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct VfrPicks {
    /// Output times at which to show the previously seen (held) frame.
    pub held: Vec<Time>,
    /// Output time at which to show the new frame, if any.
    pub new: Option<Time>,
}

impl VfrSelector {
    pub fn new() -> VfrSelector {
        VfrSelector {
            span: 0,
            started: false,
        }
    }

    pub fn done(&self, slots: &Slots) -> bool {
        self.span >= slots.spans.len()
    }

    /// A frame at source time `t` arrived after a held one (if `has_held`).
    pub fn push(&mut self, slots: &Slots, t: Time, has_held: bool) -> VfrPicks {
        let mut picks = VfrPicks::default();
        while let Some(s) = slots.spans.get(self.span).copied() {
            if t <= s.start {
                if t == s.start {
                    picks.new = Some(slots.out_starts[self.span]);
                    self.started = true;
                }
                return picks;
            }
            if !self.started {
                self.started = true;
                if has_held {
                    picks.held.push(slots.out_starts[self.span]);
                } else if t < s.end {
                    // Video starts inside the span: stretch its first frame back to the start.
                    picks.new = Some(slots.out_starts[self.span]);
                    return picks;
                }
            }
            if t < s.end {
                picks.new = Some(slots.out_starts[self.span] + (t - s.start));
                return picks;
            }
            self.span += 1;
            self.started = false;
        }
        picks
    }

    /// At the end of the stream: spans never started get the last frame at their start.
    pub fn finish(&mut self, slots: &Slots) -> Vec<Time> {
        let mut out = Vec::new();
        while self.span < slots.spans.len() {
            if !self.started {
                out.push(slots.out_starts[self.span]);
            }
            self.span += 1;
            self.started = false;
        }
        out
    }
}

/// Gain of sample `p` of a run of `len` samples with fades of `fade` samples at the ends that
/// are cuts (`fade_in`, `fade_out`): a raised-cosine ramp, 1.0 in between.
pub(crate) fn fade_gain(p: i64, len: i64, fade: i64, fade_in: bool, fade_out: bool) -> f32 {
    let f = fade.min(len / 2);
    if f <= 0 {
        return 1.0;
    }
    let ramp = |x: i64| -> f32 {
        // x in 0..f: position from the cut; (x + 0.5) / f in (0, 1).
        let u = (x as f64 + 0.5) / f as f64;
        (0.5 - 0.5 * (std::f64::consts::PI * u).cos()) as f32
    };
    let mut g = 1.0;
    if fade_in && p < f {
        g *= ramp(p);
    }
    if fade_out && len - 1 - p < f {
        g *= ramp(len - 1 - p);
    }
    g
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(a: i64, b: i64) -> Span {
        Span::new(Time::from_millis(a), Time::from_millis(b))
    }

    #[test]
    fn slots_clip_merge_and_lay_out() {
        let p = Slots::new(
            &[ms(3000, 5000), ms(-100, 500), ms(400, 1000), ms(4000, 6000)],
            Some(Time::from_millis(5500)),
        );
        assert_eq!(p.spans, vec![ms(0, 1000), ms(3000, 5500)]);
        assert_eq!(p.out_starts, vec![Time::ZERO, Time::from_millis(1000)]);
        assert_eq!(p.total, Time::from_millis(3500));
        assert_eq!(p.unmap(Time::from_millis(999)), (0, Time::from_millis(999)));
        assert_eq!(
            p.unmap(Time::from_millis(1000)),
            (1, Time::from_millis(3000))
        );
        assert_eq!(
            p.unmap(Time::from_millis(9000)),
            (1, Time::from_millis(5500))
        );
        assert_eq!(p.fades(0), (false, true));
        assert_eq!(p.fades(1), (true, false));
        assert!(Slots::new(&[ms(6000, 7000)], Some(Time::from_millis(5500))).is_empty());
        // Unknown duration: nothing is clipped at the end.
        assert_eq!(
            Slots::new(&[ms(0, 9000)], None).total,
            Time::from_millis(9000)
        );
    }

    #[test]
    fn sample_ranges_are_exact_and_add_up() {
        let p = Slots::new(&[ms(0, 1000), ms(1500, 2250)], None);
        assert_eq!(
            p.sample_ranges(48_000),
            vec![(0, 48_000), (72_000, 108_000)]
        );
        // 1/3 ms boundaries at 44.1 kHz: ceil on both ends, so adjacent spans never share.
        let p = Slots::new(&[Span::new(Time(333), Time(1_000_333))], None);
        assert_eq!(p.sample_ranges(44_100), vec![(15, 44_115)]);
        assert_eq!(ceil_samples(Time(-10), 48_000), 0);
        assert_eq!(ceil_samples(Time(-21), 48_000), -1);
    }

    #[test]
    fn rate_slots() {
        // Slot times and counts are the core's frame grid: `time_of` and `frame_round`.
        let r = FrameRate::new(30_000, 1_001).unwrap();
        assert_eq!(r.time_of(3), Time(100_100));
        assert_eq!(r.frame_round(Time::from_millis(1001)), 30);
        assert_eq!(half_frame(r), Time(16_683));
        let r = FrameRate::new(25, 1).unwrap();
        assert_eq!(half_frame(r), Time(20_000));
        assert_eq!(r.frame_round(Time::from_millis(1010)), 25);
        assert_eq!(r.frame_round(Time::from_millis(1030)), 26);
    }

    /// Runs the CFR selector over frames at `times` (µs); returns, per slot, the frame index.
    fn cfr(slots: &Slots, rate: FrameRate, times: &[i64]) -> Vec<usize> {
        let mut sel = CfrSelector::new(slots, rate);
        let mut out = vec![usize::MAX; sel.count as usize];
        let mut held: Option<usize> = None;
        for (i, &t) in times.iter().enumerate() {
            for p in sel.push(slots, Time(t), held.is_some()) {
                match p {
                    Pick::Held(k) => out[k as usize] = held.unwrap(),
                    Pick::New(k) => out[k as usize] = i,
                }
            }
            held = Some(i);
            if sel.done() {
                break;
            }
        }
        for k in sel.finish() {
            out[k as usize] = held.unwrap();
        }
        out
    }

    #[test]
    fn cfr_aligned_spans_keep_exactly_the_frames_inside() {
        let rate = FrameRate::new(25, 1).unwrap();
        let times: Vec<i64> = (0..100).map(|i| i * 40_000).collect();
        let slots = Slots::new(
            &[ms(400, 800), ms(2000, 2200)],
            Some(Time::from_millis(4000)),
        );
        let got = cfr(&slots, rate, &times);
        assert_eq!(
            got,
            vec![10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 50, 51, 52, 53, 54]
        );
    }

    #[test]
    fn cfr_unaligned_spans_stay_within_half_a_frame() {
        let rate = FrameRate::new(25, 1).unwrap();
        // Frames with a little timestamp jitter.
        let times: Vec<i64> = (0..100).map(|i| i * 40_000 + (i % 3) * 7).collect();
        let slots = Slots::new(
            &[ms(410, 1010), ms(2005, 2333)],
            Some(Time::from_millis(4000)),
        );
        let got = cfr(&slots, rate, &times);
        assert_eq!(got.len() as i64, rate.frame_round(slots.total));
        for (k, &i) in got.iter().enumerate() {
            let (_, src) = slots.unmap(rate.time_of(k as i64));
            let err = (times[i] - src.0).abs();
            assert!(err <= 20_000, "slot {k}: frame {i} is {err} µs off");
        }
    }

    #[test]
    fn cfr_late_video_and_short_video_are_filled() {
        let rate = FrameRate::new(10, 1).unwrap();
        // Video starts at 0.34 s and ends at 0.74 s; the span is the whole second.
        let times: Vec<i64> = (0..5).map(|i| 340_000 + i * 100_000).collect();
        let slots = Slots::new(&[ms(0, 1000)], Some(Time::from_millis(1000)));
        let got = cfr(&slots, rate, &times);
        assert_eq!(got, vec![0, 0, 0, 0, 1, 2, 3, 4, 4, 4]);
    }

    #[test]
    fn vfr_keeps_inside_frames_and_the_frame_shown_at_each_start() {
        // Frames at 0, 100, 250, 600, 700 ms.
        let times = [0, 100, 250, 600, 700].map(Time::from_millis);
        let slots = Slots::new(
            &[ms(100, 300), ms(500, 650), ms(900, 950)],
            Some(ms(0, 1000).end),
        );
        let mut sel = VfrSelector::new();
        let mut shown: Vec<(usize, Time)> = Vec::new();
        for (i, &t) in times.iter().enumerate() {
            let p = sel.push(&slots, t, i > 0);
            for h in p.held {
                shown.push((i - 1, h));
            }
            if let Some(o) = p.new {
                shown.push((i, o));
            }
        }
        for o in sel.finish(&slots) {
            shown.push((4, o));
        }
        let want = vec![
            (1, Time::from_millis(0)),   // exactly at the first span's start
            (2, Time::from_millis(150)), // inside
            (2, Time::from_millis(200)), // shown at 500 ms (second span start)
            (3, Time::from_millis(300)), // 600 → 200 + 100
            (4, Time::from_millis(350)), // third span: the last frame, held over
        ];
        assert_eq!(shown, want);
    }

    #[test]
    fn fades_ramp_only_at_cuts() {
        assert_eq!(fade_gain(0, 100, 10, false, false), 1.0);
        let g: Vec<f32> = (0..100)
            .map(|p| fade_gain(p, 100, 10, true, true))
            .collect();
        assert!(g[0] < 0.05 && g[99] < 0.05);
        assert!(g[..10].windows(2).all(|w| w[0] < w[1]));
        assert!(g[10..90].iter().all(|&x| x == 1.0));
        // Symmetric.
        for p in 0..10 {
            assert!((g[p] - g[99 - p]).abs() < 1e-6);
        }
        // A run shorter than two fades: the fade is halved.
        let g: Vec<f32> = (0..6).map(|p| fade_gain(p, 6, 10, true, true)).collect();
        assert!(g[2] > 0.7 && g[3] > 0.7, "{g:?}");
    }
}
