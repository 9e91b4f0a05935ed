//! The pure half of copying AAC audio through a cut: which compressed frames are copied, which
//! stretches around the joins are decoded, faded and encoded again, and where each span's
//! copied frames land. No FFmpeg here.
//!
//! An AAC frame holds 1024 samples, and decoding it needs the frame before it (the transform
//! windows overlap by half). So a copied frame can only sit on the output's frame grid, right
//! after the frame that came before it in the source, and a span's audio moves as a whole by
//! less than half a frame (±512 samples, ±10.7 ms at 48 kHz) so that its frames land on the
//! grid; the join points stay where the cut puts them, so the spans' ends give or take those
//! few samples and the output's length is exactly the cut's. Around every join (and the start
//! and end of the output) a region of frames is encoded again from the decoded, faded audio:
//! it reaches one frame before the fade and ends where the fade ends, so the frames next to it
//! overlap only audio that is the same on both sides. Each region's encoder is fed from two
//! frames before it (so it starts warm: its priming and first packets are dropped; fed from
//! the region's first frame, the first kept frame measured 14 dB SNR against the source, fed
//! from two before, 46 dB, as a full re-encode) to two frames past it (so it chooses its
//! windows as the source's neighbours expect), and only the packets of the region are kept.

/// Samples in an AAC frame.
pub(crate) const FRAME: i64 = 1024;

/// How far before and after its region an encoder is fed: it starts warm (its first packets,
/// the priming and the ones it codes while its rate control settles, are dropped) and
/// chooses its last windows as the copied frames after it expect.
const FEED_BEFORE: i64 = 2 * FRAME;
const FEED_AFTER: i64 = 2 * FRAME;

/// A stretch of output frames encoded again. Positions are output sample indexes; a packet at
/// `pts` decodes, after the one before it, to the samples `[pts, pts + FRAME)`; the output's
/// first packet, at `-FRAME`, is the encoder's priming.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Region {
    /// The encoder gets the output frames starting in `feed.0..feed.1`.
    pub feed: (i64, i64),
    /// Its packets with pts in `keep.0..keep.1` are written (`i64::MAX`: to the end).
    pub keep: (i64, i64),
}

/// Output packets `out.0..out.1` (pts, a multiple of [`FRAME`] apart) copied from the source
/// packets of span `span`: source sample index = output index − `shift`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Run {
    pub out: (i64, i64),
    pub span: usize,
    pub shift: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CopyPlan {
    /// The source sample ranges the output is made of (the cut's, each moved by under half a
    /// frame), as [`super::audio::AudioOut`] keeps them.
    pub ranges: Vec<(i64, i64)>,
    /// How far each span moved (source samples; positive: later source audio).
    pub moved: Vec<i64>,
    pub regions: Vec<Region>,
    pub runs: Vec<Run>,
}

/// Plans the copy for the cut's source sample `ranges` (sorted, disjoint), with fades of
/// `fade` samples at the joins. The source's packets start at sample index `first` and follow
/// each other without a gap, `count` of them. `Err`: why the audio is encoded in full instead.
pub(crate) fn plan(
    ranges: &[(i64, i64)],
    fade: i64,
    first: i64,
    count: i64,
) -> Result<CopyPlan, String> {
    if ranges.is_empty() || count <= 0 {
        return Err("no audio to copy".into());
    }
    let fade = fade.max(1);
    // Each span's exact output position, and its shift onto the output's frame grid.
    let mut out_start = 0;
    let mut moved = Vec::with_capacity(ranges.len());
    let mut moved_ranges = Vec::with_capacity(ranges.len());
    let mut joins = vec![0];
    for &(a, b) in ranges {
        // Output index o = source index s + (out_start - a) + e, on the grid for s on the
        // source's: (first + out_start - a + e) ≡ 0 (mod FRAME), |e| ≤ FRAME / 2.
        let r = (first + out_start - a).rem_euclid(FRAME);
        let mut e = if r < FRAME / 2 { -r } else { FRAME - r };
        // Source index = output index − shift: the span's source moves by −e.
        if a - e < 0 {
            e -= FRAME;
        }
        moved.push(-e);
        moved_ranges.push((a - e, b - e));
        out_start += b - a;
        joins.push(out_start);
    }
    // (The grid keeps them apart: a gap shrinks by less than a frame, to no less than 0.)
    if moved_ranges.windows(2).any(|w| w[1].0 < w[0].1) {
        return Err("two cuts are closer together than an audio frame".into());
    }
    let total = out_start;
    // One region per join, around its fades; regions too close for a copied run between
    // them (their encoders' feeds would overlap) become one.
    let floor = |x: i64| x.div_euclid(FRAME) * FRAME;
    let ceil = |x: i64| -(-x).div_euclid(FRAME) * FRAME;
    let mut regions: Vec<Region> = Vec::new();
    for (k, &j) in joins.iter().enumerate() {
        let (lo, hi) = ((j - fade).max(0), (j + fade).min(total));
        let from = floor(lo) - FRAME;
        let to = if k == joins.len() - 1 {
            i64::MAX
        } else {
            ceil(hi)
        };
        match regions.last_mut() {
            Some(r) if from - FEED_BEFORE < r.keep.1.saturating_add(FEED_AFTER) => {
                r.keep.1 = r.keep.1.max(to)
            }
            _ => regions.push(Region {
                feed: ((from - FEED_BEFORE).max(0), 0),
                keep: (from, to),
            }),
        }
    }
    for r in &mut regions {
        r.feed.1 = r.keep.1.saturating_add(FEED_AFTER);
    }
    // The runs between the regions, each inside one span.
    let last = first + FRAME * count;
    let mut runs = Vec::new();
    for w in regions.windows(2) {
        let out = (w[0].keep.1, w[1].keep.0);
        let span = joins.partition_point(|&j| j <= out.0) - 1;
        if span >= ranges.len() || out.1 > joins[span + 1] {
            return Err("a copied run crosses a join".into());
        }
        let shift = joins[span] - moved_ranges[span].0;
        let src = (out.0 - shift, out.1 - shift);
        if src.0 < first || src.1 > last || (src.0 - first).rem_euclid(FRAME) != 0 {
            return Err("the source's audio frames do not cover a copied run".into());
        }
        runs.push(Run { out, span, shift });
    }
    Ok(CopyPlan {
        ranges: moved_ranges,
        moved,
        regions,
        runs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copied_runs_sit_on_both_grids_and_regions_cover_every_join() {
        // 48 kHz, fades of 480 samples; the source's packets start at −1024 (priming).
        let ranges = [(48_000, 144_000), (200_000, 300_500), (400_123, 480_000)];
        let p = plan(&ranges, 480, -1024, 600).unwrap();
        // Lengths are kept; each span moved by at most half a frame.
        for (m, r) in p.ranges.iter().zip(&ranges) {
            assert_eq!(m.1 - m.0, r.1 - r.0);
        }
        assert!(p.moved.iter().all(|m| m.abs() <= 512), "{:?}", p.moved);
        // Start, two joins, end: four regions, three runs.
        assert_eq!(p.regions.len(), 4, "{p:?}");
        assert_eq!(p.runs.len(), 3);
        assert_eq!(p.regions[0].keep.0, -1024);
        assert_eq!(p.regions[0].feed.0, 0);
        assert_eq!(p.regions[3].keep.1, i64::MAX);
        let joins = [96_000, 96_000 + 100_500];
        for (k, j) in joins.iter().enumerate() {
            let r = p.regions[k + 1];
            // The frame before the region and the one after overlap no faded sample.
            assert!(r.keep.0 + FRAME <= j - 480 && r.keep.1 >= j + 480, "{r:?}");
            assert!(r.keep.0 + 2 * FRAME > j - 480, "{r:?}");
            assert_eq!(r.feed, (r.keep.0 - 2 * FRAME, r.keep.1 + 2 * FRAME));
        }
        for (i, run) in p.runs.iter().enumerate() {
            assert_eq!(run.span, i);
            assert_eq!(run.out.0 % FRAME, 0);
            assert_eq!(run.out.1 % FRAME, 0);
            // Source packet indexes: on the source's grid.
            assert_eq!((run.out.0 - run.shift + 1024).rem_euclid(FRAME), 0);
            // The shift maps the span's moved range onto its output place.
            let out_start = [0, 96_000, 196_500][i];
            assert_eq!(run.shift, out_start - p.ranges[i].0);
            assert_eq!(run.out.0, p.regions[i].keep.1);
            assert_eq!(run.out.1, p.regions[i + 1].keep.0);
        }
    }

    #[test]
    fn short_spans_merge_their_regions_and_bad_layouts_are_refused() {
        // A 2000-sample span in the middle: its two joins share one region.
        let p = plan(
            &[(0, 96_000), (100_000, 102_000), (150_000, 240_000)],
            480,
            0,
            300,
        )
        .unwrap();
        assert_eq!(p.regions.len(), 3, "{p:?}");
        assert_eq!(p.runs.len(), 2);
        assert_eq!((p.runs[0].span, p.runs[1].span), (0, 2));
        // A span at the very start never moves before sample 0.
        let p = plan(&[(10, 96_000)], 480, -200, 100).unwrap();
        assert_eq!(p.ranges[0].0, 824, "{p:?}");
        // A cut shorter than a frame: the moved ranges still follow each other.
        let p = plan(&[(0, 10_000), (10_300, 50_000)], 480, 0, 100).unwrap();
        assert!(p.ranges[1].0 >= p.ranges[0].1, "{p:?}");
        // Source packets that do not reach a run.
        assert!(plan(&[(0, 96_000)], 480, 0, 10).is_err());
        assert!(plan(&[], 480, 0, 10).is_err());
    }
}
