//! Short-term loudness: one dBFS value per 10 ms hop of 16 kHz mono samples.

use crate::time::Time;

/// Samples per hop at 16 kHz: one loudness frame every 10 ms.
const HOP: usize = 160;
/// Window over which each frame's RMS is taken (20 ms, centred on the hop).
const WINDOW: usize = 320;
/// The value given to digital silence.
const FLOOR_DB: f32 = -100.0;

/// Frame loudness of a signal, in dBFS (0 dB = full-scale square wave).
#[derive(Clone, Debug, PartialEq)]
pub struct Loudness {
    /// One value per 10 ms hop (`HOP`, 160 samples); frame `i` describes the hop starting at
    /// sample `i * HOP`.
    pub db: Vec<f32>,
}

impl Loudness {
    /// Measures `samples` (16 kHz mono). Each frame is the RMS over a `WINDOW` (20 ms) centred on
    /// its hop, so a word's onset shows in the frame that contains it, not the one after.
    pub fn measure(samples: &[f32]) -> Loudness {
        let n_frames = samples.len().div_ceil(HOP);
        let pad = (WINDOW - HOP) / 2;
        // Each sample is summed twice (windows overlap by half); no buffer the size of the input.
        let db = (0..n_frames)
            .map(|i| {
                let a = (i * HOP).saturating_sub(pad);
                let b = (i * HOP + HOP + pad).min(samples.len());
                let sum: f32 = samples[a..b].iter().map(|s| s * s).sum();
                to_db((sum / (b - a).max(1) as f32).sqrt())
            })
            .collect();
        Loudness { db }
    }

    /// Start time of frame `i`.
    pub fn frame_time(i: usize) -> Time {
        Time::from_samples(i * HOP, crate::time::SAMPLE_RATE)
    }

    /// The frame that contains time `t` (clamped to the frames there are).
    pub fn frame_at(&self, t: Time) -> usize {
        (t.to_samples(crate::time::SAMPLE_RATE) / HOP).min(self.db.len().saturating_sub(1))
    }

    /// The value below which `q` (0..=1) of the frames lie.
    pub(crate) fn percentile(&self, q: f32) -> f32 {
        if self.db.is_empty() {
            return FLOOR_DB;
        }
        let mut v = self.db.clone();
        let k = ((v.len() - 1) as f32 * q.clamp(0.0, 1.0)).round() as usize;
        let (_, x, _) = v.select_nth_unstable_by(k, f32::total_cmp);
        *x
    }
}

/// Amplitude (RMS) to dBFS, with digital silence at [`FLOOR_DB`].
fn to_db(rms: f32) -> f32 {
    if rms <= 1e-5 {
        FLOOR_DB
    } else {
        (20.0 * rms.log10()).max(FLOOR_DB)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(secs: f32, amp: f32) -> Vec<f32> {
        (0..(secs * 16_000.0) as usize)
            .map(|i| amp * (i as f32 * 440.0 * std::f32::consts::TAU / 16_000.0).sin())
            .collect()
    }

    #[test]
    fn sine_level_and_frame_count() {
        let l = Loudness::measure(&tone(1.0, 0.5));
        assert_eq!(l.db.len(), 100);
        // RMS of a sine is amp/√2: 0.5 → −9.03 dBFS.
        for &d in &l.db[1..99] {
            assert!((d - -9.03).abs() < 0.1, "{d}");
        }
    }

    #[test]
    fn silence_is_the_floor_and_onsets_land_in_their_frame() {
        let mut s = vec![0.0; 8_000];
        s.extend(tone(0.5, 0.1));
        let l = Loudness::measure(&s);
        assert_eq!(l.db[10], FLOOR_DB);
        assert!(
            l.db[49] > -40.0,
            "the frame before the onset sees half a window of tone"
        );
        assert!(l.db[50] > -25.0);
        assert_eq!(l.frame_at(Time::from_millis(500)), 50);
        assert_eq!(Loudness::frame_time(50), Time::from_millis(500));
    }

    #[test]
    fn empty_and_percentiles() {
        assert!(Loudness::measure(&[]).db.is_empty());
        assert_eq!(Loudness::measure(&[]).percentile(0.5), FLOOR_DB);
        let l = Loudness {
            db: (0..101).map(|i| -(i as f32)).collect(),
        };
        assert_eq!(l.percentile(0.0), -100.0);
        assert_eq!(l.percentile(0.9), -10.0);
        assert_eq!(l.percentile(1.0), 0.0);
    }
}
