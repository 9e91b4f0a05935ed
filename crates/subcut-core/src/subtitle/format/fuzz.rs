//! Fuzz targets for the subtitle readers (issue 18): random and mutated documents must give
//! cues or a [`super::ParseError`], never a panic, and what parses renders and parses again.
//! `#[ignore]`d: `scripts/fuzz.sh` runs them (`--ignored fuzz_`), with
//! `SUBCUT_FUZZ_CASES` cases each; CI does not.

use proptest::prelude::*;
use proptest::test_runner::Config;

use super::{srt, vtt};

fn config() -> Config {
    let cases = std::env::var("SUBCUT_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

const SRT: &str = "1\n00:00:00,500 --> 00:00:02,000\nhello there\n\n2\r\n00:00:02,000 --> 00:01:03,250 X1:0\r\ntwo\r\nlines\r\n\r\n\n00:10:00.5 --> 99:59:59,999\n<b>x</b>\n";
const VTT: &str = "\u{feff}WEBVTT title\n\nNOTE x\ny\n\nSTYLE\n::cue {}\n\nid 1\n00:00.500 --> 00:02.000 align:start\n<v A>hi &amp; <i>bye</i>\n\n01:00:00.000 --> 01:00:00.000\n&lt;3\n";

/// Pieces that documents are made of, so random strings reach deep into the readers.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("\n".to_string()),
        Just("\r\n".to_string()),
        Just("\r".to_string()),
        Just(" --> ".to_string()),
        Just("-->".to_string()),
        Just("WEBVTT".to_string()),
        Just("NOTE".to_string()),
        Just("\u{feff}".to_string()),
        Just("&amp;".to_string()),
        Just("<".to_string()),
        Just(">".to_string()),
        Just("&".to_string()),
        "[0-9]{1,3}",
        "[0-9]{1,6}:[0-9]{1,2}:[0-9]{1,2}[,.][0-9]{1,4}",
        "[0-9]{1,2}:[0-9]{2}\\.[0-9]{3}",
        "\\PC{0,6}",
        any::<char>().prop_map(String::from),
    ]
}

fn assembled() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 0..40).prop_map(|v| v.concat())
}

/// `doc` with a few bytes changed, inserted, removed or cut off (then read as UTF-8, lossily).
fn mutated(doc: &'static str) -> impl Strategy<Value = String> {
    let ops = prop::collection::vec((0..4u8, any::<prop::sample::Index>(), any::<u8>()), 0..8);
    ops.prop_map(move |ops| {
        let mut b = doc.as_bytes().to_vec();
        for (op, at, byte) in ops {
            let i = at.index(b.len() + 1);
            match op {
                0 if i < b.len() => b[i] = byte,
                1 => b.insert(i, byte),
                2 if i < b.len() => {
                    b.remove(i);
                }
                3 => b.truncate(i),
                _ => {}
            }
        }
        String::from_utf8_lossy(&b).into_owned()
    })
}

/// What parses is well formed, renders, and the rendering parses to the cues it kept.
fn check(
    cues: &[super::super::Cue],
    render: fn(&[super::super::Cue]) -> String,
    again: fn(&str) -> bool,
) {
    for c in cues {
        assert!(c.start <= c.end, "{c:?}");
    }
    assert!(again(&render(cues)), "its own rendering does not parse");
}

proptest! {
    #![proptest_config(config())]

    #[test]
    #[ignore = "fuzzing: run by scripts/fuzz.sh"]
    fn fuzz_srt_parse(doc in prop_oneof![assembled(), mutated(SRT), mutated(VTT)]) {
        if let Ok(cues) = srt::parse(&doc) {
            check(&cues, srt::render, |s| srt::parse(s).is_ok());
        }
    }

    #[test]
    #[ignore = "fuzzing: run by scripts/fuzz.sh"]
    fn fuzz_vtt_parse(doc in prop_oneof![
        assembled().prop_map(|s| format!("WEBVTT\n\n{s}")),
        assembled(),
        mutated(VTT),
        mutated(SRT),
    ]) {
        if let Ok(cues) = vtt::parse(&doc) {
            check(&cues, vtt::render, |s| vtt::parse(s).is_ok());
        }
    }
}
