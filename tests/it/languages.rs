//! Issue 15: every word heard, in the language it was spoken. A mixed English/German clip
//! spoken by espeak-ng through the real multilingual `base` model; no silent loss (the
//! `unheard` warning and lists) with a replayed transcript; the `--language` and `--glossary`
//! usage errors.

use crate::util::*;

use std::path::{Path, PathBuf};
use std::process::Command as Std;

use serde_json::Value;

/// `text` spoken by espeak-ng in `voice`, as a 16 kHz mono WAV in `dir`.
fn speak(dir: &Path, name: &str, voice: &str, text: &str) -> PathBuf {
    let path = dir.join(format!("{name}.wav"));
    let ok = Std::new("espeak-ng")
        .args(["-v", voice, "-s", "150", "-w"])
        .arg(&path)
        .arg(text)
        .status()
        .map(|s| s.success());
    assert!(
        matches!(ok, Ok(true)),
        "espeak-ng is needed to make the mixed-language fixture: run scripts/setup.sh ({ok:?})"
    );
    path
}

/// `parts` joined with 1.2 s of silence between them, 16 kHz mono.
fn join(dir: &Path, name: &str, parts: &[PathBuf]) -> PathBuf {
    let out = dir.join(name);
    let n = parts.len();
    let mut c = Std::new("ffmpeg");
    c.args(["-v", "error", "-y"]);
    for p in parts {
        c.arg("-i").arg(p);
    }
    // Inputs n.. are the silences; the chain interleaves them: [0][n][1][n+1][2]…
    let mut chain = String::new();
    for i in 0..n {
        if i > 0 {
            c.args(["-f", "lavfi", "-t", "1.2", "-i", "anullsrc=r=22050:cl=mono"]);
            chain += &format!("[{}:a]", n + i - 1);
        }
        chain += &format!("[{i}:a]");
    }
    c.args([
        "-filter_complex",
        &format!("{chain}concat=n={}:v=0:a=1", 2 * n - 1),
        "-ar",
        "16000",
        "-ac",
        "1",
    ])
    .arg(&out);
    assert!(
        c.status().unwrap().success(),
        "ffmpeg could not join the parts"
    );
    out
}

fn lower(s: &str) -> String {
    s.to_lowercase()
}

#[test]
fn english_then_german_keeps_both_languages_words() {
    installed("base");
    let dir = tempfile::tempdir().unwrap();
    let en = speak(
        dir.path(),
        "en",
        "en",
        "The weather is lovely today, and we are going to the park.",
    );
    let de = speak(
        dir.path(),
        "de",
        "de",
        "Heute ist das Wetter schön, und wir gehen in den Park.",
    );
    let clip = join(dir.path(), "mixed.wav", &[en, de]);
    let out = subcut()
        .arg("caption")
        .arg(&clip)
        .args(["-m", "base", "-f", "srt,json", "-o"])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let srt = std::fs::read_to_string(dir.path().join("out/mixed.srt")).unwrap();
    let cues = parse_srt(&srt);
    let text = lower(&srt);
    // English words from the first sentence, German ones from the second (before issue 15 the
    // German half came out as an English translation: "and we get an Indian park").
    assert!(
        text.contains("going to the park") || text.contains("lovely today"),
        "English half missing:\n{srt}"
    );
    let german = [
        "und", "den park", "schön", "wetter", "heute", "gehen", "wir",
    ];
    let found: Vec<&&str> = german.iter().filter(|w| text.contains(**w)).collect();
    assert!(
        found.len() >= 2,
        "German half missing or translated:\n{srt}"
    );
    assert!(cues.len() >= 2);
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out/mixed.json")).unwrap())
            .unwrap();
    let langs: Vec<&str> = json["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["language"].as_str().unwrap())
        .collect();
    assert!(langs.contains(&"en") && langs.contains(&"de"), "{langs:?}");
    assert_eq!(json["unheard"], serde_json::json!([]));
    // The summary names both languages' shares.
    let err = stderr(&out);
    assert!(
        err.contains(" en ") && err.contains(" de ") && err.contains(" %"),
        "{err}"
    );
}

/// Two English sentences; a replayed transcript that only heard the first (as whisper would
/// in the wrong language): the second is retried, stays without words and is reported.
#[test]
fn speech_without_words_is_reported_not_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let a = speak(
        dir.path(),
        "a",
        "en",
        "This sentence is heard by the recogniser.",
    );
    let b = speak(
        dir.path(),
        "b",
        "en",
        "And this one is lost by it, word by word.",
    );
    let clip = join(dir.path(), "lost.wav", &[a, b]);
    let fake = dir.path().join("fake.json");
    let words: Vec<Value> = ["This", "sentence", "is", "heard"]
        .iter()
        .enumerate()
        .map(|(i, w)| {
            serde_json::json!({"text": w, "start": 0.2 + 0.4 * i as f64,
                "end": 0.5 + 0.4 * i as f64, "probability": 0.9})
        })
        .collect();
    std::fs::write(
        &fake,
        serde_json::json!({"language": "en", "segments": [{"start": 0.2, "end": 1.9,
            "text": "This sentence is heard", "words": words, "no_speech_probability": 0.0,
            "language": "en"}]})
        .to_string(),
    )
    .unwrap();
    let report = dir.path().join("report.json");
    let out = subcut()
        .arg("caption")
        .arg(&clip)
        .arg("--fake-transcript")
        .arg(&fake)
        .args(["-f", "srt,json", "-o"])
        .arg(dir.path().join("out"))
        .arg("--report")
        .arg(&report)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("warning:")).collect();
    assert_eq!(warnings.len(), 1, "one warning line per file:\n{err}");
    assert!(
        warnings[0].contains("lost.wav: ")
            && warnings[0].contains(" s of speech without words at 00:0"),
        "{}",
        warnings[0]
    );
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let unheard = r["inputs"][0]["unheard"].as_array().unwrap();
    assert_eq!(unheard.len(), 1, "{r}");
    let (start, end) = (
        unheard[0]["start"].as_f64().unwrap(),
        unheard[0]["end"].as_f64().unwrap(),
    );
    assert!(
        start > 2.0 && end > start + 1.0,
        "the second sentence: {start}–{end}"
    );
    assert_eq!(r["inputs"][0]["languages"][0]["language"], "en");
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out/lost.json")).unwrap())
            .unwrap();
    assert_eq!(json["unheard"], serde_json::json!(unheard));
}

#[test]
fn unknown_languages_are_usage_errors() {
    for bad in ["xx", "zh,xx"] {
        let out = subcut()
            .args(["caption", "nothing.mp4", "--language", bad])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "--language {bad}");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with("error: ") && err.contains("\"xx\"") && err.contains("not a language"),
            "{err}"
        );
    }
}

#[test]
fn a_bad_glossary_is_one_line_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.txt");
    let latin1 = dir.path().join("latin1.txt");
    std::fs::write(&latin1, b"Caf\xe9\n").unwrap();
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "\n# nothing\n\n").unwrap();
    let fake = dir.path().join("fake.json");
    std::fs::write(&fake, r#"{"language": "en", "segments": []}"#).unwrap();
    for (file, why) in [
        (&missing, "cannot read the glossary"),
        (&latin1, "not UTF-8"),
        (&empty, "glossary is empty"),
    ] {
        let out = subcut()
            .args(["caption", "nothing.mp4", "--fake-transcript"])
            .arg(&fake)
            .arg("--glossary")
            .arg(file)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with("error: ")
                && err.contains(&file.display().to_string())
                && err.contains(why),
            "{err}"
        );
    }
}
