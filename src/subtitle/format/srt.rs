//! SubRip (`.srt`): 1-based counters, `HH:MM:SS,mmm --> HH:MM:SS,mmm`, blank-line separated.

use srtlib::{Subtitle, Subtitles, Timestamp};

use crate::subtitle::Cue;
use crate::time::Time;

fn stamp(t: Time) -> Timestamp {
    let max = Timestamp::MAX_TIMESTAMP_MILLIS as i64;
    Timestamp::from_milliseconds(t.as_millis().clamp(0, max) as u32)
}

/// Renders cues (already sorted and non-overlapping) as an SRT document ending in a newline.
/// Cues that would round to zero length at millisecond precision are left out.
pub fn render(cues: &[Cue]) -> String {
    let subs: Vec<Subtitle> = cues
        .iter()
        .filter(|c| stamp(c.end) > stamp(c.start) && !c.text.trim().is_empty())
        .enumerate()
        .map(|(i, c)| {
            Subtitle::new(
                i + 1,
                stamp(c.start),
                stamp(c.end),
                c.text.trim().to_string(),
            )
        })
        .collect();
    if subs.is_empty() {
        return String::new();
    }
    format!("{}\n", Subtitles::new_from_vec(subs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cue(a: i64, b: i64, text: &str) -> Cue {
        Cue {
            start: Time::from_micros(a),
            end: Time::from_micros(b),
            text: text.into(),
        }
    }

    #[test]
    fn renders_numbered_cues_with_millisecond_stamps() {
        let s = render(&[
            cue(800_000, 2_900_499, "Hello world."),
            cue(3_723_456_000, 3_725_000_000, "Two\nlines"),
        ]);
        assert_eq!(
            s,
            "1\n00:00:00,800 --> 00:00:02,900\nHello world.\n\n\
             2\n01:02:03,456 --> 01:02:05,000\nTwo\nlines\n"
        );
        // Round-trips through an SRT parser.
        let parsed = Subtitles::parse_from_str(s).unwrap().to_vec();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[1].text.trim_end(), "Two\nlines");
    }

    #[test]
    fn skips_cues_that_vanish_at_millisecond_precision() {
        let s = render(&[
            cue(1_000_000, 1_000_400, "blink"),
            cue(2_000_000, 3_000_000, "kept"),
        ]);
        assert!(
            s.starts_with("1\n00:00:02,000 --> 00:00:03,000\nkept"),
            "{s}"
        );
        assert_eq!(render(&[]), "");
    }
}
