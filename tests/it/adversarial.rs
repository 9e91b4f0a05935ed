//! Issue 18's adversarial corpus, generated in temporary folders (no committed media): runs
//! that named an input as a destination, inputs that would write the same output, folders
//! holding subcut's own outputs, symlink loops and broken links. Each test asserts the exit
//! code, the one `error:` line, and the files left: every input's bytes unchanged, nothing
//! under a final output name and no hidden temporary (`.subcut-*`) where a run is refused.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::util::{fixture, stderr, subcut};

/// Every file under `dir` (links not followed) with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut m = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let t = std::fs::symlink_metadata(&p).unwrap().file_type();
            if t.is_dir() {
                todo.push(p);
            } else if t.is_file() {
                m.insert(
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    m
}

fn fake() -> String {
    fixture("transcripts/talk.en.json")
        .to_str()
        .unwrap()
        .to_string()
}

/// Runs subcut in `dir` and checks that it refused with exit 2 and one `error:` line holding
/// every one of `says`, and that the folder is exactly as before (inputs unchanged, nothing
/// new: no output, no temporary).
fn refused(dir: &Path, args: &[&str], says: &[&str]) {
    let before = snapshot(dir);
    let out = subcut()
        .current_dir(dir)
        .args(args)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(lines.len(), 1, "one error line: {err}");
    for s in says {
        assert!(lines[0].contains(s), "{:?} lacks {s:?}", lines[0]);
    }
    let after = snapshot(dir);
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>(),
        "files left: {err}"
    );
    assert!(before == after, "an input's bytes changed: {err}");
}

fn corpus() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("talk.mp4"), d.path().join("talk.mp4")).unwrap();
    std::fs::copy(fixture("voice.mp3"), d.path().join("voice.mp3")).unwrap();
    d
}

fn no_temps(dir: &Path) {
    let temps: Vec<_> = snapshot(dir)
        .into_keys()
        .filter(|p| p.to_string_lossy().contains(".subcut-"))
        .collect();
    assert!(temps.is_empty(), "temporaries left: {temps:?}");
}

#[test]
fn report_named_the_input_and_the_wav_became_json() {
    let d = corpus();
    let fake = fake();
    refused(
        d.path(),
        &["cut", "voice.mp3", "--no-captions", "--report", "voice.mp3"],
        &["voice.mp3", "refusing to write the report over the input"],
    );
    refused(
        d.path(),
        &[
            "caption",
            "talk.mp4",
            "--fake-transcript",
            &fake,
            "--report",
            "talk.mp4",
        ],
        &["talk.mp4", "over the input"],
    );
    refused(
        d.path(),
        &[
            "caption",
            "talk.mp4",
            "--fake-transcript",
            &fake,
            "--report",
            &fake,
        ],
        &["over the --fake-transcript file"],
    );
    // Checked before the model loads: refused even when no model would load.
    refused(
        d.path(),
        &[
            "caption",
            "talk.mp4",
            "--model",
            "./none.bin",
            "--report",
            "talk.mp4",
        ],
        &["talk.mp4", "over the input"],
    );
    refused(
        d.path(),
        &[
            "cut",
            "talk.mp4",
            "--model",
            "./none.bin",
            "--timeline",
            "talk.mp4",
        ],
        &["talk.mp4", "over the input"],
    );
}

#[test]
fn retime_only_output_replaced_its_own_script() {
    let d = corpus();
    std::fs::write(
        d.path().join("talk.srt"),
        "1\n00:00:00,500 --> 00:00:02,000\nhello there\n",
    )
    .unwrap();
    refused(
        d.path(),
        &[
            "align",
            "talk.mp4",
            "--script",
            "talk.srt",
            "--retime-only",
            "--fake-transcript",
            &fake(),
        ],
        &["talk.srt", "over the script"],
    );
}

#[test]
fn model_import_overwrote_its_ctranslate2_source() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("ct2");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(src.join("model.bin"), b"not really a model").unwrap();
    std::fs::write(src.join("config.json"), b"{}").unwrap();
    for out in ["ct2/model.bin", "ct2/config.json", "ct2", "ct2/./model.bin"] {
        refused(
            d.path(),
            &["model", "import", "ct2", "-o", out],
            &["refusing to write the model over its CTranslate2 source"],
        );
    }
}

#[test]
fn timeline_file_and_preset_file_named_as_destinations() {
    let d = corpus();
    refused(
        d.path(),
        &[
            "cut",
            "voice.mp3",
            "--no-captions",
            "--timeline",
            "voice.mp3",
        ],
        &["voice.mp3", "over the input"],
    );
    std::fs::write(d.path().join("p.toml"), "").unwrap();
    refused(
        d.path(),
        &[
            "cut",
            "voice.mp3",
            "--no-captions",
            "--preset",
            "./p.toml",
            "--report",
            "p.toml",
        ],
        &["p.toml", "over the --preset file"],
    );
    // Another input of the same run is not a destination either.
    std::fs::copy(fixture("voice.mp3"), d.path().join("voice.cut.mp3")).unwrap();
    refused(
        d.path(),
        &["cut", "voice.mp3", "voice.cut.mp3", "--no-captions"],
        &["voice.cut.mp3", "over the input"],
    );
}

#[test]
fn report_in_a_missing_directory_failed_only_after_the_work() {
    let d = corpus();
    refused(
        d.path(),
        &[
            "cut",
            "voice.mp3",
            "--no-captions",
            "--report",
            "nowhere/r.json",
        ],
        &["nowhere/r.json", "does not exist"],
    );
    std::fs::create_dir(d.path().join("adir")).unwrap();
    refused(
        d.path(),
        &["cut", "voice.mp3", "--no-captions", "--report", "adir"],
        &["adir", "names a directory"],
    );
}

#[test]
fn same_stem_in_one_folder_lost_a_transcript() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("in");
    std::fs::create_dir(&dir).unwrap();
    std::fs::copy(fixture("talk.mp4"), dir.join("a.mp4")).unwrap();
    std::fs::copy(fixture("talk.mp4"), dir.join("a.mov")).unwrap();
    refused(
        d.path(),
        &["caption", "in", "--fake-transcript", &fake()],
        &["in/a.srt", "in/a.mov", "in/a.mp4", "would both write"],
    );
}

#[test]
fn two_folders_flattened_by_o_lost_a_transcript() {
    let d = tempfile::tempdir().unwrap();
    for sub in ["d1", "d2"] {
        std::fs::create_dir(d.path().join(sub)).unwrap();
        std::fs::copy(fixture("talk.mp4"), d.path().join(sub).join("a.mp4")).unwrap();
    }
    refused(
        d.path(),
        &[
            "caption",
            "d1",
            "d2",
            "-o",
            "out",
            "--fake-transcript",
            &fake(),
        ],
        &["out/a.srt", "d1/a.mp4", "d2/a.mp4", "would both write"],
    );
    refused(
        d.path(),
        &["cut", "d1", "d2", "-o", "out", "--no-captions"],
        &["out/a.cut.mp4", "would both write"],
    );
}

/// Runs a cut that must succeed; returns its stdout lines (the outputs written).
fn cut_ok(dir: &Path, args: &[&str]) -> Vec<String> {
    let out = subcut()
        .current_dir(dir)
        .arg("cut")
        .args(args)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn rerunning_a_folder_cut_its_own_cuts() {
    let d = corpus();
    let first = cut_ok(d.path(), &[".", "--no-captions", "--timeline"]);
    assert_eq!(first.len(), 4, "{first:?}");
    let inputs = snapshot(d.path());
    let second = cut_ok(d.path(), &[".", "--no-captions", "--timeline"]);
    assert_eq!(first, second, "the same outputs, no NAME.cut.cut.EXT");
    let after = snapshot(d.path());
    assert_eq!(
        inputs.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    assert_eq!(inputs[Path::new("talk.mp4")], after[Path::new("talk.mp4")]);
    assert_eq!(
        inputs[Path::new("voice.mp3")],
        after[Path::new("voice.mp3")]
    );
    no_temps(d.path());
    // A glob leaves them out too; named as a file, one is taken.
    let globbed = cut_ok(d.path(), &["*.mp3", "--no-captions"]);
    assert_eq!(globbed, ["voice.cut.mp3"]);
    let named = cut_ok(d.path(), &["voice.cut.mp3", "--no-captions"]);
    assert_eq!(named, ["voice.cut.cut.mp3"]);
    // A folder of nothing but subcut's outputs says so.
    let only = d.path().join("only");
    std::fs::create_dir(&only).unwrap();
    std::fs::rename(d.path().join("voice.cut.mp3"), only.join("voice.cut.mp3")).unwrap();
    let out = subcut()
        .current_dir(d.path())
        .args(["cut", "only", "--no-captions"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("only subcut's own outputs"), "{err}");
}

#[cfg(unix)]
#[test]
fn symlink_loop_ran_forever_and_repeated_a_file() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("in");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::copy(fixture("voice.mp3"), dir.join("voice.mp3")).unwrap();
    std::os::unix::fs::symlink(".", dir.join("loop")).unwrap();
    std::os::unix::fs::symlink("..", dir.join("sub/up")).unwrap();
    std::os::unix::fs::symlink("../voice.mp3", dir.join("sub/again.mp3")).unwrap();
    let before = std::fs::read(dir.join("voice.mp3")).unwrap();
    let out = cut_ok(d.path(), &["in", "--no-captions"]);
    assert_eq!(out, ["in/voice.cut.mp3"], "each real file once");
    assert_eq!(std::fs::read(dir.join("voice.mp3")).unwrap(), before);
    no_temps(d.path());
}

#[cfg(unix)]
#[test]
fn broken_symlink_in_a_folder_was_skipped_without_a_word() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("in");
    std::fs::create_dir(&dir).unwrap();
    std::fs::copy(fixture("voice.mp3"), dir.join("voice.mp3")).unwrap();
    std::os::unix::fs::symlink("gone.mp4", dir.join("dangling.mp4")).unwrap();
    let out = subcut()
        .current_dir(d.path())
        .args(["cut", "in", "--no-captions"])
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].contains("in/dangling.mp4: broken symbolic link"),
        "{}",
        lines[0]
    );
    assert!(dir.join("voice.cut.mp3").exists(), "the rest is done");
    no_temps(d.path());
    // Named on its own, a dangling link is called that, not "no such file".
    let out = subcut()
        .current_dir(d.path())
        .args(["cut", "in/dangling.mp4", "--no-captions"])
        .output()
        .unwrap();
    assert!(
        stderr(&out).contains("broken symbolic link"),
        "{}",
        stderr(&out)
    );
}
