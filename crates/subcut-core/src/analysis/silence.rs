//! Speech and silence from loudness: frames above a threshold are speech; short gaps are
//! bridged and short blips dropped.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::loudness::Loudness;
use crate::time::{merge_gaps, Span, Time};

/// Where speech begins, in dBFS.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Threshold {
    /// A fixed level, e.g. −35 dB.
    Db(f32),
    /// Derived from the file: a third of the way from its noise floor to its speech level.
    Auto,
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Threshold::Db(d) => write!(f, "{d}dB"),
            Threshold::Auto => f.write_str("auto"),
        }
    }
}

impl FromStr for Threshold {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("auto") {
            return Ok(Threshold::Auto);
        }
        let num = t
            .strip_suffix("dB")
            .or_else(|| t.strip_suffix("db"))
            .unwrap_or(t)
            .trim();
        match num.parse::<f32>() {
            Ok(d) if (-100.0..=0.0).contains(&d) => Ok(Threshold::Db(d)),
            Ok(d) => Err(format!("threshold {d} dB is outside −100…0 dB")),
            Err(_) => Err(format!(
                "invalid threshold {s:?} (expected e.g. -35dB or auto)"
            )),
        }
    }
}

impl TryFrom<String> for Threshold {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<Threshold> for String {
    fn from(t: Threshold) -> String {
        t.to_string()
    }
}

/// How speech is told from silence.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SpeechParams {
    pub(crate) threshold: Threshold,
    /// Quieter stretches shorter than this stay inside the speech around them.
    pub(crate) min_silence: Time,
    /// Louder stretches shorter than this (clicks, pops) are not speech.
    pub(crate) min_speech: Time,
}

impl Default for SpeechParams {
    fn default() -> Self {
        SpeechParams {
            threshold: Threshold::Auto,
            min_silence: Time::from_millis(200),
            min_speech: Time::from_millis(60),
        }
    }
}

/// The level `Threshold::Auto` picks for this loudness: a third of the way from the noise
/// floor (10th percentile) to the speech level (90th percentile), kept within −60…−20 dB.
/// When the two are within 6 dB the file is all one thing: speech if it is loud.
fn auto_threshold(l: &Loudness) -> f32 {
    let floor = l.percentile(0.10);
    let loud = l.percentile(0.90);
    if loud - floor < 6.0 {
        return if loud > -45.0 { floor - 1.0 } else { -45.0 };
    }
    (floor + (loud - floor) / 3.0).clamp(-60.0, -20.0)
}

/// The spans of speech in a loudness track, sorted and non-overlapping.
pub fn speech_spans(l: &Loudness, p: &SpeechParams) -> Vec<Span> {
    let thr = match p.threshold {
        Threshold::Db(d) => d,
        Threshold::Auto => auto_threshold(l),
    };
    let mut spans = Vec::new();
    let mut start: Option<usize> = None;
    for (i, &d) in
        l.db.iter()
            .chain(std::iter::once(&f32::NEG_INFINITY))
            .enumerate()
    {
        match (d >= thr, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                spans.push(Span::new(Loudness::frame_time(s), Loudness::frame_time(i)));
                start = None;
            }
            _ => {}
        }
    }
    let mut merged = merge_gaps(&spans, p.min_silence);
    merged.retain(|s| s.duration() >= p.min_speech);
    merged
}

/// Speech spans of 16 kHz mono samples.
pub fn detect(samples: &[f32], p: &SpeechParams) -> Vec<Span> {
    speech_spans(&Loudness::measure(samples), p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loud(frames: &[(usize, f32)]) -> Loudness {
        Loudness {
            db: frames
                .iter()
                .flat_map(|&(n, d)| std::iter::repeat_n(d, n))
                .collect(),
        }
    }

    #[test]
    fn threshold_parsing() {
        assert_eq!("-35dB".parse::<Threshold>(), Ok(Threshold::Db(-35.0)));
        assert_eq!("-35 db".parse::<Threshold>(), Ok(Threshold::Db(-35.0)));
        assert_eq!("-40".parse::<Threshold>(), Ok(Threshold::Db(-40.0)));
        assert_eq!("AUTO".parse::<Threshold>(), Ok(Threshold::Auto));
        assert!("5dB".parse::<Threshold>().is_err());
        assert!("loud".parse::<Threshold>().is_err());
        assert_eq!(Threshold::Db(-35.0).to_string(), "-35dB");
    }

    #[test]
    fn fixed_threshold_spans_gaps_and_blips() {
        // 1 s silence, 1 s speech, 0.1 s dip, 1 s speech, 1 s silence, 30 ms click, 0.5 s silence.
        let l = loud(&[
            (100, -80.0),
            (100, -20.0),
            (10, -70.0),
            (100, -20.0),
            (100, -80.0),
            (3, -10.0),
            (50, -80.0),
        ]);
        let p = SpeechParams {
            threshold: Threshold::Db(-40.0),
            ..SpeechParams::default()
        };
        assert_eq!(speech_spans(&l, &p), vec![Span::secs(1.0, 3.1)]);
        let strict = SpeechParams {
            min_silence: Time::from_millis(50),
            ..p
        };
        assert_eq!(
            speech_spans(&l, &strict),
            vec![Span::secs(1.0, 2.0), Span::secs(2.1, 3.1)]
        );
        let keep_clicks = SpeechParams {
            min_speech: Time::ZERO,
            ..p
        };
        assert_eq!(
            speech_spans(&l, &keep_clicks).last(),
            Some(&Span::secs(4.1, 4.13))
        );
    }

    #[test]
    fn speech_running_to_the_end_is_closed() {
        let l = loud(&[(50, -90.0), (50, -10.0)]);
        assert_eq!(
            speech_spans(&l, &SpeechParams::default()),
            vec![Span::secs(0.5, 1.0)]
        );
    }

    #[test]
    fn auto_threshold_follows_the_noise_floor() {
        let quiet_room = loud(&[(300, -70.0), (700, -18.0)]);
        let t = auto_threshold(&quiet_room);
        assert!((t - -52.67).abs() < 0.1, "{t}");
        let noisy = loud(&[(300, -40.0), (700, -16.0)]);
        assert!((auto_threshold(&noisy) - -32.0).abs() < 0.1);
        assert_eq!(
            speech_spans(&noisy, &SpeechParams::default()),
            vec![Span::secs(3.0, 10.0)]
        );
        // Digital silence with speech: clamped so that breaths and hiss stay silence.
        assert_eq!(auto_threshold(&loud(&[(500, -100.0), (500, -15.0)])), -60.0);
        // All silence: nothing is speech. All speech: everything is.
        assert!(speech_spans(&loud(&[(100, -100.0)]), &SpeechParams::default()).is_empty());
        assert_eq!(
            speech_spans(&loud(&[(100, -20.0)]), &SpeechParams::default()),
            vec![Span::secs(0.0, 1.0)]
        );
    }
}
