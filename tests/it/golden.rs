//! Golden files: every subtitle format and every cut export of the bundled talk, byte for
//! byte, against `fixtures/golden/`. The transcripts are replayed from
//! `fixtures/transcripts/` (no model), so these tests show exactly what each writer prints.
//!
//! After a deliberate change of an output, regenerate the files (the tests then fail, saying
//! what they rewrote) and review the diff, then run them again:
//!
//! ```sh
//! UPDATE_GOLDEN=1 cargo test --release --test it golden::
//! git diff fixtures/golden/
//! ```
//!
//! A new format or export gets its golden file by adding it to the `--format`/`--export`
//! lists below and running the command above.

use std::path::{Path, PathBuf};

use crate::util::{files_in, fixture, subcut};

/// The absolute path of the fixtures folder stands as this in the golden files (FCPXML and
/// the JSON cut list name the source media by absolute path).
const ROOT: &str = "$FIXTURES";

fn transcript(lang: &str) -> PathBuf {
    fixture(&format!("transcripts/talk.{lang}.json"))
}

/// Runs `subcut COMMAND fixtures/talk.mp4 ARGS…` into a fresh folder and checks every file it
/// wrote (but the cut video) against `fixtures/golden/NAME/`.
fn check(name: &str, command: &str, args: &[&str]) {
    let out = tempfile::tempdir().unwrap();
    let o = subcut()
        .arg(command)
        .arg(fixture("talk.mp4"))
        .args(args)
        .arg("-o")
        .arg(out.path())
        .arg("-q")
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{name}: subcut failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let root = fixture("").canonicalize().unwrap();
    let root = root.to_str().unwrap().trim_end_matches('/');
    let golden = fixture("golden").join(name);
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v != "0");
    let written: Vec<String> = files_in(out.path())
        .into_iter()
        .filter(|f| !f.ends_with(".mp4"))
        .collect();
    if update {
        std::fs::create_dir_all(&golden).unwrap();
        for f in files_in(&golden) {
            std::fs::remove_file(golden.join(f)).unwrap();
        }
    }
    let mut failures = Vec::new();
    for f in &written {
        let got = normalize(&std::fs::read(out.path().join(f)).unwrap(), root);
        let path = golden.join(f);
        if update {
            std::fs::write(&path, &got).unwrap();
            continue;
        }
        match std::fs::read(&path) {
            Ok(want) if want == got => {}
            Ok(want) => failures.push(format!("{}:\n{}", path.display(), diff(&want, &got))),
            Err(_) => failures.push(format!("{}: missing (subcut wrote it)", path.display())),
        }
    }
    // A rewrite never passes as a test run: an exported UPDATE_GOLDEN must not turn the
    // suite into one that cannot fail.
    assert!(
        !update,
        "UPDATE_GOLDEN: rewrote {} ({} files); review `git diff fixtures/golden/` and run the \
         tests again without UPDATE_GOLDEN",
        golden.display(),
        written.len()
    );
    for f in files_in(&golden) {
        if !written.contains(&f) {
            failures.push(format!(
                "{}: subcut no longer writes it",
                golden.join(f).display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "outputs differ from the golden files (if the change is meant, run \
         `UPDATE_GOLDEN=1 cargo test --release --test it golden::` and review `git diff \
         fixtures/golden/`):\n\n{}",
        failures.join("\n\n")
    );
}

/// The output with the fixtures folder's absolute path replaced by [`ROOT`]. Binary files
/// (the timeline PNG) are compared as they are.
fn normalize(bytes: &[u8], root: &str) -> Vec<u8> {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.replace(root, ROOT).into_bytes(),
        Err(_) => bytes.to_vec(),
    }
}

/// The first lines that differ, with their line numbers (or the sizes, for binary files).
fn diff(want: &[u8], got: &[u8]) -> String {
    let (Ok(want), Ok(got)) = (std::str::from_utf8(want), std::str::from_utf8(got)) else {
        return format!(
            "binary, {} bytes expected, {} written",
            want.len(),
            got.len()
        );
    };
    let (w, g): (Vec<&str>, Vec<&str>) = (want.lines().collect(), got.lines().collect());
    let mut out = Vec::new();
    for i in 0..w.len().max(g.len()) {
        let (a, b) = (w.get(i), g.get(i));
        if a != b {
            out.push(format!(
                "  line {}:\n  - {}\n  + {}",
                i + 1,
                a.unwrap_or(&"(none)"),
                b.unwrap_or(&"(none)")
            ));
            if out.len() == 8 {
                out.push("  …".into());
                break;
            }
        }
    }
    out.join("\n")
}

#[test]
fn english_captions_in_every_format() {
    let t = transcript("en");
    check(
        "en",
        "caption",
        &[
            "--fake-transcript",
            t.to_str().unwrap(),
            "-f",
            "srt,vtt,ass,json,txt",
        ],
    );
}

#[test]
fn chinese_captions_in_every_format() {
    let t = transcript("zh");
    check(
        "zh",
        "caption",
        &[
            "--fake-transcript",
            t.to_str().unwrap(),
            "-f",
            "srt,vtt,ass,json,txt",
        ],
    );
}

#[test]
fn english_cut_with_every_export_and_the_timeline() {
    let t = transcript("en");
    check(
        "en-cut",
        "cut",
        &[
            "--fake-transcript",
            t.to_str().unwrap(),
            "--export",
            "json,edl,fcpxml,premiere,otio",
            "--timeline",
        ],
    );
}

#[test]
fn chinese_talking_head_cut_removes_the_filler_and_the_stutter() {
    let t = transcript("zh");
    check(
        "zh-cut",
        "cut",
        &[
            "--preset",
            "zh-talking-head",
            "--fake-transcript",
            t.to_str().unwrap(),
            "--export",
            "json,edl,fcpxml,premiere,otio",
        ],
    );
    let list = std::fs::read_to_string(fixture("golden/zh-cut/talk.cutlist.json")).unwrap();
    assert!(
        list.contains("\"word\": \"嗯\""),
        "the filler is cut: {list}"
    );
    assert!(
        list.contains("\"reason\": \"repeat\""),
        "the stutter is cut: {list}"
    );
}

/// Chinese punctuation, one golden folder per style: a zh transcript with whisper's ASCII
/// marks, Latin words, numbers, a URL and an English sentence inside
/// (`fixtures/transcripts/talk.zh-punctuation.json`), rendered to SRT and TXT.
fn punctuation(style: Option<&str>, golden: &str) {
    let t = fixture("transcripts/talk.zh-punctuation.json");
    let mut args = vec!["--fake-transcript", t.to_str().unwrap(), "-f", "srt,txt"];
    if let Some(s) = style {
        args.extend(["--punctuation", s]);
    }
    check(golden, "caption", &args);
}

#[test]
fn chinese_punctuation_is_full_width_by_default() {
    punctuation(None, "zh-punctuation-full-width");
}

#[test]
fn chinese_punctuation_kept_as_written() {
    punctuation(Some("keep"), "zh-punctuation-keep");
}

#[test]
fn chinese_punctuation_in_the_creator_style() {
    punctuation(Some("creator"), "zh-punctuation-creator");
}

/// Regression: base-q8_0 times "We" (the first word of the talk's second sentence) at
/// 3.01 s, in the 1.2 s pause before it. Replayed on the talk (its speech measured as in a
/// real run), it is shown after that pause, with its sentence, not at the end of the cue
/// before ("…in the sun. We" / "like to walk…").
#[test]
fn a_word_whisper_times_early_stays_after_its_pause() {
    let out = tempfile::tempdir().unwrap();
    let o = subcut()
        .arg("caption")
        .arg(fixture("talk.mp4"))
        .arg("--fake-transcript")
        .arg(fixture("transcripts/talk.en.rough.json"))
        .arg("-o")
        .arg(out.path())
        .arg("-q")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let srt = std::fs::read_to_string(out.path().join("talk.srt")).unwrap();
    let cues: Vec<&str> = srt.split("\n\n").filter_map(|c| c.lines().nth(2)).collect();
    assert_eq!(cues[0], "The cat sat on the mat in the sun.", "{srt}");
    assert!(cues[1].starts_with("We like"), "{srt}");
    assert!(
        srt.contains("00:00:04,030 --> "),
        "the second cue starts at the measured onset: {srt}"
    );
}

#[test]
fn golden_folders_hold_only_what_a_test_writes() {
    let dirs = files_in(&fixture("golden"));
    assert_eq!(
        dirs,
        [
            "en",
            "en-cut",
            "zh",
            "zh-cut",
            "zh-punctuation-creator",
            "zh-punctuation-full-width",
            "zh-punctuation-keep"
        ],
        "{}",
        Path::new("fixtures/golden").display()
    );
}
