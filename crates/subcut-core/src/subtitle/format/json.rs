//! JSON output: the whole transcript (segments with timed words) and the cues, times in seconds.

use serde::Serialize;

use crate::subtitle::Cue;
use crate::time::Time;
use crate::transcript::{Transcript, Unheard};

#[derive(Serialize)]
struct Doc<'a> {
    source: &'a str,
    language: &'a str,
    duration: Time,
    model: &'a str,
    text: String,
    segments: &'a [crate::transcript::Segment],
    cues: &'a [Cue],
    /// Speech that got no words (`transcript::unheard`), on the media's timeline.
    unheard: &'a [Unheard],
}

/// Renders a pretty-printed JSON document ending in a newline.
pub(crate) fn render(
    source: &str,
    model: &str,
    duration: Time,
    t: &Transcript,
    cues: &[Cue],
    unheard: &[Unheard],
) -> String {
    let doc = Doc {
        source,
        language: &t.language,
        duration,
        model,
        text: t.text(),
        segments: &t.segments,
        cues,
        unheard,
    };
    let mut s = serde_json::to_string_pretty(&doc).expect("plain data serializes");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::{Segment, Word};

    #[test]
    fn json_has_segments_words_and_cues_in_seconds() {
        let t = Transcript {
            language: "en".into(),
            segments: vec![Segment {
                start: Time::from_millis(500),
                end: Time::from_millis(1500),
                text: " Hi there".into(),
                words: vec![Word {
                    text: "Hi".into(),
                    start: Time::from_millis(600),
                    end: Time::from_millis(900),
                    probability: 0.5,
                }],
                no_speech_probability: 0.01,
                language: "en".into(),
            }],
        };
        let unheard = [Unheard {
            start: Time::from_millis(3000),
            end: Time::from_millis(5000),
            speech: Time::from_millis(1500),
        }];
        let cues = vec![Cue {
            start: Time::from_millis(600),
            end: Time::from_millis(1400),
            text: "Hi there".into(),
        }];
        let v: serde_json::Value = serde_json::from_str(&render(
            "a.mp4",
            "base",
            Time::from_millis(2000),
            &t,
            &cues,
            &unheard,
        ))
        .unwrap();
        assert_eq!(v["language"], "en");
        assert_eq!(v["duration"], 2.0);
        assert_eq!(v["text"], "Hi there");
        assert_eq!(v["segments"][0]["words"][0]["start"], 0.6);
        assert_eq!(v["cues"][0]["end"], 1.4);
        assert_eq!(v["segments"][0]["language"], "en");
        assert_eq!(v["unheard"][0]["start"], 3.0);
        assert_eq!(v["unheard"][0]["speech"], 1.5);
        let back: Transcript = serde_json::from_value(serde_json::json!({
            "language": v["language"], "segments": v["segments"]
        }))
        .unwrap();
        assert_eq!(back, t);
    }
}
