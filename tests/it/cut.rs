//! End-to-end tests of `subcut cut` on the committed fixtures with the real tiny.en model:
//! durations and sync of the cut video, no speech lost, captions on the right words, the
//! exports and the timeline picture, dry runs and audio-only inputs.

use crate::util::*;

use std::path::Path;

use serde_json::Value;

/// ffprobe's view of a file: (format duration, per-stream (type, duration, frames)).
fn probe(path: &Path) -> (f64, Vec<(String, f64)>) {
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format=duration:stream=codec_type,duration",
            "-of",
            "json",
        ])
        .arg(path)
        .output()
        .expect("ffprobe is installed by scripts/setup.sh (package ffmpeg)");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let fmt = v["format"]["duration"].as_str().unwrap().parse().unwrap();
    let streams = v["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["codec_type"].as_str().unwrap().to_string(),
                s["duration"].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect();
    (fmt, streams)
}

fn truth_speech(name: &str) -> Vec<(f64, f64)> {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(fixture(name)).unwrap()).unwrap();
    v["speech"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
        .collect()
}

/// The kept spans `(start, end)` in seconds of a `NAME.cutlist.json`.
fn kept_spans(cutlist: &Path) -> Vec<(f64, f64)> {
    let plan: Value = serde_json::from_str(&std::fs::read_to_string(cutlist).unwrap()).unwrap();
    plan["keep"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["start"].as_f64().unwrap(), k["end"].as_f64().unwrap()))
        .collect()
}

/// Maps a source time onto the cut timeline through the kept spans.
fn map(keep: &[(f64, f64)], t: f64) -> Option<f64> {
    let mut out = 0.0;
    for &(a, b) in keep {
        if t < a {
            return None;
        }
        if t <= b {
            return Some(out + t - a);
        }
        out += b - a;
    }
    None
}

#[test]
fn cut_video_keeps_all_speech_in_sync_with_captions_on_the_right_words() {
    let dir = tempfile::tempdir().unwrap();
    let out = subcut()
        .arg("cut")
        .arg(fixture("talk.mp4"))
        .arg("--model")
        .arg(tiny_en())
        .args([
            "--language",
            "en",
            "--export",
            "json,edl,fcpxml",
            "--timeline",
            "-o",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let names = files_in(dir.path());
    assert_eq!(
        names,
        [
            "talk.cut.mp4",
            "talk.cut.srt",
            "talk.cutlist.json",
            "talk.edl",
            "talk.fcpxml",
            "talk.srt",
            "talk.timeline.png"
        ]
    );

    // The plan.
    let keep = kept_spans(&dir.path().join("talk.cutlist.json"));
    let planned: f64 = keep.iter().map(|(a, b)| b - a).sum();
    assert!(planned < 14.0 && planned > 9.0, "{keep:?}");
    // No speech lost: every known speech interval lies inside one kept span.
    for (a, b) in truth_speech("talk.truth.json") {
        assert!(
            keep.iter().any(|&(x, y)| x <= a && b <= y),
            "speech {a}–{b} not wholly kept: {keep:?}"
        );
    }

    // The video: duration as planned within a frame (25 fps), audio and video within a frame.
    let frame = 1.0 / 25.0;
    let (total, streams) = probe(&dir.path().join("talk.cut.mp4"));
    assert!(
        (total - planned).abs() <= frame,
        "output {total} s vs planned {planned} s"
    );
    let v = streams.iter().find(|s| s.0 == "video").unwrap().1;
    let a = streams.iter().find(|s| s.0 == "audio").unwrap().1;
    assert!((v - a).abs() < frame, "video {v} s vs audio {a} s");

    // Cut captions: the same words as the original ones, each cue at its words' output time.
    let orig = parse_srt(&std::fs::read_to_string(dir.path().join("talk.srt")).unwrap());
    let cut = parse_srt(&std::fs::read_to_string(dir.path().join("talk.cut.srt")).unwrap());
    assert_eq!(
        orig.iter().map(|c| c.text.as_str()).collect::<Vec<_>>(),
        cut.iter().map(|c| c.text.as_str()).collect::<Vec<_>>()
    );
    for (o, c) in orig.iter().zip(&cut) {
        let mapped = map(&keep, o.start).expect("a cue starts in kept time");
        assert!(
            (c.start - mapped).abs() <= 0.05,
            "cut cue {c:?} vs mapped {mapped} of {o:?}"
        );
        assert!(c.end <= planned + 1e-3);
    }
    for p in cut.windows(2) {
        assert!(p[0].end <= p[1].start, "{p:?}");
    }

    // Transcribing the cut video gives the same words. With base rather than tiny.en: on
    // 33 words one recognition flip is 0.03, and tiny.en flips words on any change of context.
    let again = tempfile::tempdir().unwrap();
    let out = subcut()
        .arg("caption")
        .arg(fixture("talk.mp4"))
        .arg(dir.path().join("talk.cut.mp4"))
        .args(["--model", "base", "--language", "en", "-o"])
        .arg(again.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let truth: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("talk.truth.json")).unwrap())
            .unwrap();
    let truth = truth["text"].as_str().unwrap();
    let text = |cues: &[Cue]| {
        cues.iter()
            .map(|c| c.text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let before = wer(
        truth,
        &text(&parse_srt(
            &std::fs::read_to_string(again.path().join("talk.srt")).unwrap(),
        )),
    );
    let after = wer(
        truth,
        &text(&parse_srt(
            &std::fs::read_to_string(again.path().join("talk.cut.srt")).unwrap(),
        )),
    );
    assert!(
        after <= before + 0.05,
        "WER {before:.3} uncut vs {after:.3} cut"
    );

    // Exports: the EDL's record timecodes add up to the output; the FCPXML parses.
    let edl = std::fs::read_to_string(dir.path().join("talk.edl")).unwrap();
    assert!(edl.starts_with("TITLE: "), "{edl}");
    assert!(edl.contains("FCM: NON-DROP FRAME"));
    let events = edl
        .lines()
        .filter(|l| {
            l.split_whitespace()
                .next()
                .is_some_and(|w| w.len() == 3 && w.chars().all(|c| c.is_ascii_digit()))
        })
        .count();
    assert!(events >= keep.len(), "{edl}");
    let fcpxml = std::fs::read_to_string(dir.path().join("talk.fcpxml")).unwrap();
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    let doc = roxmltree::Document::parse_with_options(&fcpxml, opts).unwrap();
    assert_eq!(doc.root_element().tag_name().name(), "fcpxml");
    assert_eq!(
        doc.descendants()
            .filter(|n| n.has_tag_name("asset-clip"))
            .count(),
        keep.len()
    );

    // The timeline picture: the expected size, and more than a blank canvas.
    let png = image::open(dir.path().join("talk.timeline.png"))
        .unwrap()
        .to_rgb8();
    assert_eq!(png.dimensions(), (1600, 248));
    let colours: std::collections::HashSet<[u8; 3]> = png.pixels().map(|p| p.0).collect();
    assert!(colours.len() >= 6, "{} colours", colours.len());
}

#[test]
fn dry_run_prints_the_cut_list_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = subcut()
        .arg("cut")
        .arg(fixture("talk.mp4"))
        .arg("--model")
        .arg(tiny_en())
        .args([
            "--language",
            "en",
            "--dry-run",
            "--min-silence",
            "0.3s",
            "--margin",
            "0.1s,0.2s",
            "-o",
        ])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("keep") && stdout.contains("silence") && stdout.contains("saved"),
        "{stdout}"
    );
    assert!(
        !dir.path().join("out").exists(),
        "a dry run creates nothing"
    );
}

#[test]
fn audio_only_input_gives_cut_audio_in_its_own_format() {
    let dir = tempfile::tempdir().unwrap();
    let out = subcut()
        .arg("cut")
        .arg(fixture("voice.mp3"))
        .arg("--model")
        .arg(tiny_en())
        .args(["--language", "en", "-o"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let (total, streams) = probe(&dir.path().join("voice.cut.mp3"));
    assert_eq!(streams.len(), 1);
    assert!(total < 6.0 && total > 4.0, "{total}");
    assert!(dir.path().join("voice.cut.srt").exists());
}

#[test]
fn no_captions_cuts_on_loudness_alone_without_a_model() {
    let dir = tempfile::tempdir().unwrap();
    // A model that does not exist: a cut without captions must not load one.
    let out = subcut()
        .arg("cut")
        .arg(fixture("talk.mp4"))
        .args(["--no-captions", "--model", "/nonexistent/ggml-none.bin"])
        .args(["--preset", "shorts", "--export", "json", "--json", "-o"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let names = files_in(dir.path());
    // No subtitles, even though the shorts preset burns captions in.
    assert_eq!(names, ["talk.cut.mp4", "talk.cutlist.json"]);
    let keep = kept_spans(&dir.path().join("talk.cutlist.json"));
    for (a, b) in truth_speech("talk.truth.json") {
        assert!(
            keep.iter().any(|&(x, y)| x <= a && b <= y),
            "speech {a}–{b} not wholly kept: {keep:?}"
        );
    }
    let planned: f64 = keep.iter().map(|(a, b)| b - a).sum();
    let (total, _) = probe(&dir.path().join("talk.cut.mp4"));
    assert!(
        (total - planned).abs() <= 1.0 / 25.0,
        "{total} vs {planned}"
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    let file = &summary["inputs"][0];
    assert_eq!(file["cues"], 0, "{summary}");

    // Asking for word-based work as well is a usage error.
    for args in [
        &["--burn-in"][..],
        &["--remove-repeats"],
        &["--fillers", "en"],
        &["--retakes", "keep-last"],
    ] {
        let out = subcut()
            .arg("cut")
            .arg(fixture("talk.mp4"))
            .arg("--no-captions")
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn bad_cut_settings_are_usage_errors() {
    for args in [
        ["--threshold", "+5dB"],
        ["--margin", "x"],
        ["--min-silence", "-1s"],
        ["--max-pause", "-0.4s"],
        ["--max-pause", "soon"],
        ["--max-pause", "61s"],
        ["--retakes", "keep-first"],
    ] {
        let out = subcut()
            .arg("cut")
            .arg(fixture("talk.mp4"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }
    let dir = tempfile::tempdir().unwrap();
    let out = subcut()
        .arg("cut")
        .arg(fixture("talk.mp4"))
        .arg(fixture("voice.mp3"))
        .args(["--timeline", "one.png", "--model"])
        .arg(tiny_en())
        .arg("-o")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("several inputs"), "{}", stderr(&out));
}

#[test]
fn failures_leave_nothing_and_do_not_stop_other_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let out = subcut()
        .arg("cut")
        .arg(fixture("bad/not-media.mp4"))
        .arg(fixture("voice.mp3"))
        .arg("--model")
        .arg(tiny_en())
        .args(["--language", "en", "-o"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.lines().any(|l| l.contains("not-media.mp4")), "{err}");
    let names = files_in(dir.path());
    assert_eq!(names, ["voice.cut.mp3", "voice.cut.srt", "voice.srt"]);
}
