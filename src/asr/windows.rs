//! Transcription in windows cut at silences.
//!
//! whisper.cpp handles a long input by computing a mel spectrogram, a padded copy and a
//! per-sample energy track of the *whole* input before it starts, which for a 10-minute
//! file is ~140 MB on top of the audio itself, and it then seeks through the input in 30 s
//! windows whose boundaries fall wherever its last timestamp did, often inside a word.
//! Here the input is cut into windows of at most [`MAX_WINDOW`] at measured silences (just
//! before the next speech onset, so each window opens with speech), each window is
//! transcribed on its own and its times shifted back. Memory then no longer grows with the
//! input beyond the samples themselves, and no window boundary cuts a word.

use anyhow::Result;

use crate::asr::transcript::Transcript;
use crate::asr::TranscribeOptions;
use crate::media::SAMPLE_RATE;
use crate::time::{Span, Time};

/// whisper's own window: one encoder pass covers 30 s.
pub const MAX_WINDOW: Time = Time::from_millis(30_000);
/// Gaps at least this long are clear pauses, preferred as window boundaries.
const MIN_GAP: Time = Time::from_millis(300);
/// Silence kept before a window's first speech.
const LEAD_IN: Time = Time::from_millis(400);

/// Cuts `[0, total)` into contiguous windows of at most `max`, each boundary inside a gap
/// between `speech` spans (at the later of the gap's start and [`LEAD_IN`] before the next
/// onset). Takes the latest pause of at least [`MIN_GAP`] in reach, so windows stay
/// nearly full; cuts at `max` only when no gap is in reach (continuous sound).
pub fn plan(speech: &[Span], total: Time, max: Time) -> Vec<Span> {
    // Candidate cuts with the length of their gap.
    let cuts: Vec<(Time, Time)> = speech
        .windows(2)
        .map(|p| {
            let (gap_start, gap_end) = (p[0].end, p[1].start);
            ((gap_end - LEAD_IN).max(gap_start), gap_end - gap_start)
        })
        .filter(|&(c, _)| c > Time::ZERO && c < total)
        .collect();
    let mut out = Vec::new();
    let mut start = Time::ZERO;
    while total - start > max {
        let reach = start + max;
        let in_reach = cuts.iter().filter(|&&(c, _)| c > start && c <= reach);
        // The latest clear pause keeps windows full (fewer encoder passes); any gap beats
        // cutting through sound.
        let best = in_reach
            .clone()
            .filter(|&&(_, g)| g >= MIN_GAP)
            .map(|&(c, _)| c)
            .max()
            .or_else(|| in_reach.map(|&(c, _)| c).max())
            .unwrap_or(reach);
        out.push(Span::new(start, best));
        start = best;
    }
    if total > start {
        out.push(Span::new(start, total));
    }
    out
}

/// Transcribes one window's samples.
pub type WindowEngine<'a> =
    dyn FnMut(&[f32], &TranscribeOptions, &mut dyn FnMut(f32)) -> Result<Transcript> + 'a;

/// Transcribes `samples` window by window (see [`plan`]) with `engine` and joins the results
/// on the input's timeline. With automatic language detection, the language found in the
/// first window that has words is kept for the rest, so one file gets one language.
pub fn transcribe(
    samples: &[f32],
    windows: &[Span],
    opts: &TranscribeOptions,
    progress: &mut dyn FnMut(f32),
    engine: &mut WindowEngine,
) -> Result<Transcript> {
    let total = samples.len().max(1) as f64;
    let mut opts = opts.clone();
    let mut out = Transcript::default();
    for w in windows {
        let (a, b) = (
            w.start.to_samples(SAMPLE_RATE).min(samples.len()),
            w.end.to_samples(SAMPLE_RATE).min(samples.len()),
        );
        if b <= a {
            continue;
        }
        let done = a as f64 / total;
        let share = (b - a) as f64 / total;
        let part = engine(&samples[a..b], &opts, &mut |f| {
            progress((done + share * f as f64) as f32)
        })?;
        if out.language.is_empty() || out.segments.is_empty() {
            out.language = part.language.clone();
        }
        let offset = Time::from_samples(a, SAMPLE_RATE);
        for mut seg in part.segments {
            seg.start += offset;
            seg.end += offset;
            for word in &mut seg.words {
                word.start += offset;
                word.end += offset;
            }
            out.segments.push(seg);
        }
        if opts.language.is_none() && !out.segments.is_empty() && !opts.translate {
            opts.language = Some(out.language.clone());
        }
    }
    progress(1.0);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asr::transcript::{Segment, Word};
    use crate::asr::Transcriber;

    fn s(a: f64, b: f64) -> Span {
        Span::secs(a, b)
    }

    #[test]
    fn short_input_is_one_window() {
        assert_eq!(
            plan(&[s(1.0, 5.0)], Time::from_secs_f64(14.9), MAX_WINDOW),
            vec![s(0.0, 14.9)]
        );
        assert_eq!(
            plan(&[], Time::from_secs_f64(30.0), MAX_WINDOW),
            vec![s(0.0, 30.0)]
        );
        assert!(plan(&[], Time::ZERO, MAX_WINDOW).is_empty());
    }

    #[test]
    fn cuts_in_the_latest_clear_pause_before_an_onset() {
        // Pauses of 0.4 s, 2 s, 0.4 s, 0.2 s and 0.4 s.
        let speech = [
            s(0.5, 5.0),
            s(5.4, 20.0),
            s(22.0, 28.0),
            s(28.4, 29.8),
            s(30.0, 33.0),
            s(33.4, 60.0),
        ];
        let w = plan(&speech, Time::from_secs_f64(60.0), MAX_WINDOW);
        assert_eq!(
            w[0],
            s(0.0, 28.0),
            "the latest clear pause in reach, not the 0.2 s one at 29.8 s"
        );
        assert_eq!(
            w[1],
            s(28.0, 33.0),
            "0.4 s before the onset at 33.4 s; nothing later is in reach"
        );
        assert_eq!(w.last().unwrap(), &s(33.0, 60.0));
        for win in &w {
            assert!(win.duration() <= MAX_WINDOW, "{win}");
            for sp in &speech {
                assert!(
                    !(sp.start < win.end && win.end < sp.end),
                    "window end {win} inside speech {sp}"
                );
            }
        }
    }

    #[test]
    fn continuous_sound_is_cut_at_the_limit() {
        let w = plan(&[s(0.0, 70.0)], Time::from_secs_f64(70.0), MAX_WINDOW);
        assert_eq!(w, vec![s(0.0, 30.0), s(30.0, 60.0), s(60.0, 70.0)]);
    }

    #[test]
    fn windows_tile_the_input_on_random_speech() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % 10_000) as f64 / 10_000.0
        };
        for _ in 0..200 {
            let mut speech = Vec::new();
            let mut x = rnd() * 3.0;
            while x < 300.0 {
                let d = 0.3 + rnd() * 40.0 * rnd();
                speech.push(s(x, x + d));
                x += d + 0.1 + rnd() * 3.0;
            }
            let total = Time::from_secs_f64(x + rnd());
            let w = plan(&speech, total, MAX_WINDOW);
            assert_eq!(w[0].start, Time::ZERO);
            assert_eq!(w.last().unwrap().end, total);
            for p in w.windows(2) {
                assert_eq!(p[0].end, p[1].start);
            }
            assert!(w
                .iter()
                .all(|x| !x.is_empty() && x.duration() <= MAX_WINDOW));
        }
    }

    /// A fake engine that "hears" one word per call, at 1 s into its window; it detects
    /// French in short windows and German in long ones, and records the language it was given.
    struct Echo(std::sync::Mutex<Vec<Option<String>>>);
    impl Transcriber for Echo {
        fn transcribe(
            &self,
            samples: &[f32],
            opts: &TranscribeOptions,
            progress: &mut dyn FnMut(f32),
        ) -> Result<Transcript> {
            self.0.lock().unwrap().push(opts.language.clone());
            progress(0.5);
            let word = Word {
                text: format!("n{}", samples.len()),
                start: Time::from_millis(1000),
                end: Time::from_millis(1500),
                probability: 1.0,
            };
            let detected = if samples.len() < 400_000 { "fr" } else { "de" };
            Ok(Transcript {
                language: opts.language.clone().unwrap_or_else(|| detected.into()),
                segments: vec![Segment {
                    start: word.start,
                    end: word.end,
                    text: word.text.clone(),
                    words: vec![word],
                    no_speech_probability: 0.0,
                }],
            })
        }
    }

    #[test]
    fn windows_are_shifted_back_and_keep_one_language() {
        let samples = vec![0.0f32; 16_000 * 50];
        let windows = [s(0.0, 20.0), s(20.0, 50.0)];
        let mut seen = Vec::new();
        let echo = Echo(Default::default());
        let t = echo
            .transcribe_windows(
                &samples,
                &windows,
                &TranscribeOptions::default(),
                &mut |f| seen.push(f),
            )
            .unwrap();
        assert_eq!(t.language, "fr");
        assert_eq!(
            *echo.0.lock().unwrap(),
            [None, Some("fr".to_string())],
            "the first window's language is kept"
        );
        let starts: Vec<Time> = t.words().map(|w| w.start).collect();
        assert_eq!(starts, [Time::from_millis(1000), Time::from_millis(21_000)]);
        assert_eq!(t.segments[1].text, "n480000");
        assert!(
            seen.windows(2).all(|p| p[0] <= p[1]),
            "progress never goes back: {seen:?}"
        );
        assert_eq!(seen.last(), Some(&1.0));
        assert!(
            (seen[0] - 0.2).abs() < 1e-6,
            "half of the first 40 %: {seen:?}"
        );
    }
}
