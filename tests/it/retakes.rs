//! Retakes and natural pauses end to end, on a clip made by espeak-ng: "The first step is to
//! record." then, after a pause, "The first step is to record your voice in a quiet room."
//! With the real tiny.en model the abandoned take is cut (reason `retake` in the cut list)
//! and the cut captions say the sentence once; with a replayed transcript, `--retakes none`
//! keeps both takes and `--max-pause` keeps more of the pause than the margins do.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::util::*;

const TAKE_1: &str = "The first step is to record.";
const TAKE_2: &str = "The first step is to record your voice in a quiet room.";
/// The quiet between the takes, seconds.
const PAUSE: f64 = 1.2;

fn run(cmd: &mut Command, what: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: {e}; run scripts/setup.sh"));
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn duration(path: &Path) -> f64 {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-show_entries", "format=duration", "-of"])
        .arg("default=nw=1:nk=1")
        .arg(path)
        .output()
        .expect("ffprobe is installed by scripts/setup.sh (package ffmpeg)");
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// The retake clip in `dir` (16 kHz mono WAV) and the two takes' lengths, seconds.
fn clip(dir: &Path) -> (PathBuf, f64, f64) {
    let takes = [TAKE_1, TAKE_2].map(|text| {
        let path = dir.join(format!("take{}.wav", text.len()));
        run(
            Command::new("espeak-ng")
                .args(["-v", "en-us", "-s", "160", "-w"])
                .arg(&path)
                .arg(text),
            "espeak-ng (installed by scripts/setup.sh)",
        );
        path
    });
    let out = dir.join("retake.wav");
    run(
        Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-i"])
            .arg(&takes[0])
            .args(["-f", "lavfi", "-t", &PAUSE.to_string(), "-i"])
            .arg("anullsrc=r=22050:cl=mono")
            .arg("-i")
            .arg(&takes[1])
            .args([
                "-filter_complex",
                "[0:a][1:a][2:a]concat=n=3:v=0:a=1",
                "-ar",
                "16000",
                "-ac",
                "1",
            ])
            .arg(&out),
        "ffmpeg (installed by scripts/setup.sh)",
    );
    let (d1, d2) = (duration(&takes[0]), duration(&takes[1]));
    (out, d1, d2)
}

fn cutlist(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// `(start, end)` of each entry of a cut list array.
fn spans(v: &Value) -> Vec<(f64, f64)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| (s["start"].as_f64().unwrap(), s["end"].as_f64().unwrap()))
        .collect()
}

fn srt_text(path: &Path) -> String {
    let cues = parse_srt(&std::fs::read_to_string(path).unwrap());
    words(
        &cues
            .iter()
            .map(|c| c.text.as_str())
            .collect::<Vec<_>>()
            .join(" "),
    )
    .join(" ")
}

#[test]
fn the_abandoned_take_is_cut_and_the_captions_say_the_sentence_once() {
    let dir = tempfile::tempdir().unwrap();
    let (input, d1, _) = clip(dir.path());
    let out = dir.path().join("out");
    let o = subcut()
        .arg("cut")
        .arg(&input)
        .arg("--model")
        .arg(tiny_en())
        .args(["--export", "json", "-o"])
        .arg(&out)
        .arg("-q")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));

    // The recogniser heard both takes…
    let heard = srt_text(&out.join("retake.srt"));
    assert_eq!(heard.matches("first step").count(), 2, "{heard}");
    // …the cut list names the first one as a retake, over the whole first attempt…
    let list = cutlist(&out.join("retake.cutlist.json"));
    let retakes: Vec<&Value> = list["removed"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["reason"] == "retake")
        .collect();
    assert_eq!(retakes.len(), 1, "{:#}", list["removed"]);
    let r = retakes[0];
    assert_eq!(r["text"], TAKE_1, "{r}");
    let (a, b) = (r["start"].as_f64().unwrap(), r["end"].as_f64().unwrap());
    assert!(
        a <= 0.3 && b >= d1 - 0.6 && b <= d1 + PAUSE,
        "{r} (take 1 is {d1} s)"
    );
    // …nothing of it is kept…
    for (s, e) in spans(&list["keep"]) {
        assert!(s >= b - 1e-6 || e <= 0.3, "kept {s}–{e} of the first take");
    }
    // …and the cut captions say the sentence once.
    let cut = srt_text(&out.join("retake.cut.srt"));
    assert_eq!(cut.matches("first step").count(), 1, "{cut}");
    assert!(cut.contains("quiet room"), "{cut}");
    assert!(
        cut.starts_with("the first step is to record your voice"),
        "{cut}"
    );
}

/// A transcript of the clip, each take's words spread over its length (as the recogniser
/// would time them).
fn transcript(d1: f64, d2: f64) -> Value {
    let timed = |text: &str, from: f64, len: f64| {
        let ws: Vec<&str> = text.split_whitespace().collect();
        let step = len / ws.len() as f64;
        ws.iter()
            .enumerate()
            .map(|(i, w)| {
                serde_json::json!({
                    "text": w, "start": from + i as f64 * step,
                    "end": from + (i + 1) as f64 * step, "probability": 0.9
                })
            })
            .collect::<Vec<_>>()
    };
    let t2 = d1 + PAUSE;
    serde_json::json!({
        "language": "en",
        "segments": [
            { "start": 0.0, "end": d1, "text": TAKE_1, "words": timed(TAKE_1, 0.0, d1),
              "no_speech_probability": 0.0 },
            { "start": t2, "end": t2 + d2, "text": TAKE_2, "words": timed(TAKE_2, t2, d2),
              "no_speech_probability": 0.0 },
        ]
    })
}

#[test]
fn retakes_none_keeps_both_takes_and_max_pause_keeps_more_of_the_pause() {
    let dir = tempfile::tempdir().unwrap();
    let (input, d1, d2) = clip(dir.path());
    let fake = dir.path().join("retake.transcript.json");
    std::fs::write(&fake, transcript(d1, d2).to_string()).unwrap();
    let cut = |name: &str, args: &[&str]| {
        let out = dir.path().join(name);
        let o = subcut()
            .arg("cut")
            .arg(&input)
            .arg("--fake-transcript")
            .arg(&fake)
            .args(["--export", "json", "-o"])
            .arg(&out)
            .args(args)
            .arg("-q")
            .output()
            .unwrap();
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        (
            cutlist(&out.join("retake.cutlist.json")),
            srt_text(&out.join("retake.cut.srt")),
        )
    };
    let reasons = |list: &Value| -> Vec<String> {
        list["removed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["reason"].as_str().unwrap().to_string())
            .collect()
    };
    // On by default.
    let (on, on_text) = cut("on", &[]);
    assert!(reasons(&on).contains(&"retake".to_string()), "{on:#}");
    assert_eq!(on_text.matches("first step").count(), 1, "{on_text}");
    // Off: both takes stay, the pause between them is cut to its margins.
    let (off, off_text) = cut("off", &["--retakes", "none"]);
    assert!(!reasons(&off).contains(&"retake".to_string()), "{off:#}");
    assert_eq!(off_text.matches("first step").count(), 2, "{off_text}");
    assert_eq!(off["params"]["retakes"], "none");
    // --max-pause 0.8s keeps 0.8 s of that pause instead of 0.15 + 0.2 s of margins.
    let (long, _) = cut("long", &["--retakes", "none", "--max-pause", "0.8s"]);
    assert_eq!(long["params"]["max_pause"], 0.8);
    assert_eq!(off["params"]["max_pause"], Value::Null);
    let gained =
        long["output_duration"].as_f64().unwrap() - off["output_duration"].as_f64().unwrap();
    let frame = 1.0 / 30.0;
    assert!(
        (gained - (0.8 - 0.35)).abs() <= 2.0 * frame + 1e-6,
        "kept {gained} s more: {:#} vs {:#}",
        long["keep"],
        off["keep"]
    );
}
