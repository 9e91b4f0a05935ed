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

/// Runs subcut in `dir` and checks that it failed with exit `code` and one `error:` line
/// holding every one of `says` (and no temporary file's name), that every input's bytes are
/// unchanged and that nothing new was left: no output, no temporary. Returns stderr.
fn fails(dir: &Path, args: &[&str], code: i32, says: &[&str]) -> String {
    let before = snapshot(dir);
    let out = subcut()
        .current_dir(dir)
        .env("TMPDIR", dir)
        .args(args)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(lines.len(), 1, "one error line: {err}");
    for s in says {
        assert!(lines[0].contains(s), "{:?} lacks {s:?}", lines[0]);
    }
    assert!(
        !lines[0].contains(".subcut-"),
        "names a temporary: {}",
        lines[0]
    );
    let after = snapshot(dir);
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>(),
        "files left: {err}"
    );
    assert!(before == after, "an input's bytes changed: {err}");
    err
}

#[cfg(unix)]
#[test]
fn a_fifo_input_was_called_empty() {
    let d = corpus();
    let fifo = std::ffi::CString::new(d.path().join("live.mp4").to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    // Nothing writes to it: opening it to read would wait forever (the timeout fails that).
    for cmd in [
        &["cut", "live.mp4", "--no-captions"][..],
        &["caption", "live.mp4", "--fake-transcript", &fake()],
    ] {
        fails(
            d.path(),
            cmd,
            1,
            &["live.mp4: cannot read: not a regular file (a FIFO)"],
        );
    }
    fails(
        d.path(),
        &[
            "align",
            "talk.mp4",
            "--script",
            "live.mp4",
            "--fake-transcript",
            &fake(),
        ],
        2,
        &["live.mp4: the script is not a regular file (a FIFO)"],
    );
    fails(
        d.path(),
        &["cut", "/dev/null", "--no-captions"],
        1,
        &["/dev/null: cannot read: not a regular file (a character device)"],
    );
}

#[cfg(unix)]
#[test]
fn a_symlink_cycle_was_called_no_such_file() {
    let d = corpus();
    std::os::unix::fs::symlink("b.mp4", d.path().join("a.mp4")).unwrap();
    std::os::unix::fs::symlink("a.mp4", d.path().join("b.mp4")).unwrap();
    fails(
        d.path(),
        &["cut", "a.mp4", "--no-captions"],
        1,
        &["a.mp4: symbolic link loop"],
    );
    // In a folder walk too, with the rest done.
    std::fs::create_dir(d.path().join("in")).unwrap();
    std::os::unix::fs::symlink("self.mp4", d.path().join("in/self.mp4")).unwrap();
    let out = subcut()
        .current_dir(d.path())
        .args(["cut", "in", "talk.mp4", "--no-captions", "-q"])
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("in/self.mp4: symbolic link loop"),
        "{}",
        stderr(&out)
    );
    assert!(d.path().join("talk.cut.mp4").exists());
}

#[cfg(unix)]
#[test]
fn a_dangling_output_symlink_said_file_exists() {
    let d = corpus();
    std::os::unix::fs::symlink("gone", d.path().join("out")).unwrap();
    std::os::unix::fs::symlink("loop", d.path().join("loop")).unwrap();
    fails(
        d.path(),
        &["cut", "voice.mp3", "--no-captions", "-o", "out"],
        1,
        &["voice.mp3: output directory out is a broken symbolic link to gone"],
    );
    fails(
        d.path(),
        &[
            "caption",
            "talk.mp4",
            "--fake-transcript",
            &fake(),
            "-o",
            "loop",
        ],
        1,
        &["talk.mp4: output directory loop is a symbolic link loop"],
    );
    assert!(
        !d.path().join("gone").exists(),
        "the link's target was made"
    );
}

#[test]
fn burn_in_errors_named_a_temporary_file() {
    let d = corpus();
    fails(
        d.path(),
        &[
            "cut",
            "voice.mp3",
            "--burn-in",
            "--fake-transcript",
            &fake(),
        ],
        1,
        &["voice.mp3: cannot burn in the captions: voice.mp3 has no video"],
    );
}

#[test]
fn srt_script_errors_had_no_line_number_and_vtt_was_not_recognised() {
    let d = corpus();
    std::fs::write(
        d.path().join("bad.srt"),
        "1\n00:00:00,500 --> 00:00:02,000\nhello\n\n2\n00:00:03,000 --> 00:00:0x,000\nbad\n",
    )
    .unwrap();
    fails(
        d.path(),
        &[
            "align",
            "talk.mp4",
            "--script",
            "bad.srt",
            "--fake-transcript",
            &fake(),
        ],
        2,
        &["bad.srt:6: not a valid SRT file: bad end time \"00:00:0x,000\""],
    );
    std::fs::write(
        d.path().join("bad.vtt"),
        "WEBVTT\n\nNOTE\nhi\n\n00:01.000 --> 00:00.500\nHi\n",
    )
    .unwrap();
    fails(
        d.path(),
        &[
            "align",
            "talk.mp4",
            "--script",
            "bad.vtt",
            "--fake-transcript",
            &fake(),
        ],
        2,
        &["bad.vtt:6: not a valid WebVTT file: the cue ends"],
    );
    std::fs::write(
        d.path().join("s.vtt"),
        "WEBVTT\n\n00:00.500 --> 00:02.000 align:start\n<v Ann>Hello <i>there</i>\n",
    )
    .unwrap();
    for retime in [false, true] {
        let out = subcut()
            .current_dir(d.path())
            .args([
                "align",
                "talk.mp4",
                "--script",
                "s.vtt",
                "--fake-transcript",
                &fake(),
            ])
            .args(retime.then_some("--retime-only"))
            .args(["-o", "out"])
            .timeout(Duration::from_secs(120))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let srt = std::fs::read_to_string(d.path().join("out/talk.srt")).unwrap();
        assert!(srt.contains("Hello there"), "{srt}");
        if retime {
            assert!(srt.contains("00:00:00,500 --> 00:00:02,000"), "{srt}");
        }
    }
}

/// Runs `args` with `dir` a fresh tmpfs of 100 KiB (or a read-only one), mounted in a
/// private mount namespace (`unshare`, as root or in a user namespace) that vanishes with
/// the command: nothing to unmount. Returns the output and what was left in `dir`.
fn on_tmpfs(
    dir: &Path,
    options: &str,
    fill: usize,
    args: &[&str],
) -> (std::process::Output, Vec<String>) {
    let script = format!(
        "mount -t tmpfs -o {options} tmpfs \"$0\" || exit 99; \
         head -c {fill} /dev/zero > \"$0/fill\" 2>/dev/null; \
         \"$@\"; rc=$?; echo '--left--'; ls -A \"$0\"; exit $rc"
    );
    let out = std::process::Command::new("unshare")
        .args(["--map-root-user", "--mount", "sh", "-c", &script])
        .arg(dir)
        .arg(env!("CARGO_BIN_EXE_subcut"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .expect("unshare (util-linux) mounts the small filesystem: run scripts/setup.sh");
    assert_ne!(
        out.status.code(),
        Some(99),
        "cannot mount a tmpfs in a private mount namespace (unshare --map-root-user --mount): \
         this test needs user namespaces or root: {}",
        stderr(&out)
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let left = stdout
        .split_once("--left--\n")
        .map(|(_, l)| {
            l.lines()
                .map(String::from)
                .filter(|n| n != "fill")
                .collect()
        })
        .unwrap_or_default();
    (out, left)
}

fn one_error_line(o: &std::process::Output) -> String {
    let err = stderr(o);
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        !lines[0].contains(".subcut-"),
        "names a temporary: {}",
        lines[0]
    );
    lines[0].to_string()
}

#[test]
fn disk_full_errors_named_the_temporary_file() {
    let d = corpus();
    let small = d.path().join("small");
    std::fs::create_dir(&small).unwrap();
    let talk = d.path().join("talk.mp4");
    let before = std::fs::read(&talk).unwrap();
    let (t, s) = (talk.to_str().unwrap(), small.to_str().unwrap());
    // The cut video does not fit.
    let (o, left) = on_tmpfs(
        &small,
        "size=100k",
        0,
        &["cut", t, "--no-captions", "-q", "-o", s],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let line = one_error_line(&o);
    assert!(
        line.contains(&format!("{t}: cannot write {s}/talk.cut.mp4: ")),
        "{line}"
    );
    assert!(line.contains("No space left on device"), "{line}");
    assert!(left.is_empty(), "left behind: {left:?}");
    // The second subtitle file does not fit: none is written.
    let (o, left) = on_tmpfs(
        &small,
        "size=100k",
        95_000,
        &[
            "caption",
            t,
            "--fake-transcript",
            &fake(),
            "-f",
            "srt,vtt",
            "-q",
            "-o",
            s,
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let line = one_error_line(&o);
    assert!(
        line.contains(&format!("{t}: output failed: cannot write {s}/talk.")),
        "{line}"
    );
    assert!(line.ends_with("no space left on device"), "{line}");
    assert!(left.is_empty(), "left behind: {left:?}");
    // A read-only folder is refused as a --report destination before any work.
    let (o, left) = on_tmpfs(
        &small,
        "ro",
        0,
        &[
            "cut",
            t,
            "--no-captions",
            "-q",
            "--report",
            &format!("{s}/r.json"),
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let line = one_error_line(&o);
    assert!(line.contains("r.json: cannot write --report in"), "{line}");
    assert!(line.contains("read-only file system"), "{line}");
    assert!(left.is_empty(), "left behind: {left:?}");
    assert!(!d.path().join("talk.cut.mp4").exists(), "the work was done");
    assert_eq!(std::fs::read(&talk).unwrap(), before);
}

/// `args` run as root without the capabilities that bypass file permissions (setpriv drops
/// them), so that a mode of 000 is refused as it is for any user; as another user, plainly.
fn without_dac_override(dir: &Path, args: &[&str]) -> std::process::Output {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let mut c = if root {
        let mut c = std::process::Command::new("setpriv");
        c.args(["--bounding-set=-dac_override,-dac_read_search", "--"]);
        c.arg(env!("CARGO_BIN_EXE_subcut"));
        c
    } else {
        std::process::Command::new(env!("CARGO_BIN_EXE_subcut"))
    };
    c.current_dir(dir)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .expect("setpriv (util-linux) drops root's file-permission override: run scripts/setup.sh")
}

#[cfg(unix)]
#[test]
fn permission_denied_inputs_and_destinations() {
    use std::os::unix::fs::PermissionsExt;
    let d = corpus();
    let lock =
        |p: &Path| std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o000)).unwrap();
    std::fs::copy(fixture("voice.mp3"), d.path().join("secret.mp3")).unwrap();
    lock(&d.path().join("secret.mp3"));
    std::fs::create_dir(d.path().join("locked")).unwrap();
    lock(&d.path().join("locked"));
    let cases: [(&[&str], i32, &str); 3] = [
        (
            &["cut", "secret.mp3", "--no-captions"],
            1,
            "secret.mp3: cannot read: permission denied",
        ),
        (
            &["cut", "voice.mp3", "--no-captions", "-o", "locked"],
            1,
            "voice.mp3: output failed: cannot write to locked: permission denied",
        ),
        (
            &[
                "cut",
                "voice.mp3",
                "--no-captions",
                "--report",
                "locked/r.json",
            ],
            2,
            "locked/r.json: cannot write --report in locked: permission denied",
        ),
    ];
    for (args, code, says) in cases {
        let o = without_dac_override(d.path(), args);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {}", stderr(&o));
        let line = one_error_line(&o);
        assert!(line.contains(says), "{line}");
        assert!(!d.path().join("voice.cut.mp3").exists(), "{args:?} wrote");
    }
    std::fs::set_permissions(
        d.path().join("locked"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    assert!(crate::util::files_in(&d.path().join("locked")).is_empty());
}

/// A 3 s mono 16 kHz float WAV of tone bursts with NaN and infinite samples in it.
fn nan_wav(path: &Path) {
    let mut data = Vec::new();
    for i in 0..48_000u32 {
        let t = i as f32 / 16_000.0;
        let mut v = if (i / 8000) % 2 == 0 {
            0.3 * (t * 300.0 * std::f32::consts::TAU).sin()
        } else {
            0.0
        };
        if i % 1000 == 0 {
            v = f32::NAN;
        } else if i % 1777 == 0 {
            v = f32::INFINITY;
        }
        data.extend_from_slice(&v.to_le_bytes());
    }
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    for v in [3u16, 1] {
        b.extend_from_slice(&v.to_le_bytes()); // IEEE float, mono
    }
    for v in [16_000u32, 64_000] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    for v in [4u16, 32] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    b.extend_from_slice(b"data");
    b.extend_from_slice(&(data.len() as u32).to_le_bytes());
    b.extend_from_slice(&data);
    std::fs::write(path, b).unwrap();
}

#[test]
fn nan_samples_passed_through_cut_and_were_an_invalid_option_to_caption() {
    let d = tempfile::tempdir().unwrap();
    let wav = d.path().join("nan.wav");
    nan_wav(&wav);
    let before = std::fs::read(&wav).unwrap();
    let model = crate::util::tiny_en();
    for args in [
        &["cut", "nan.wav", "--no-captions", "-o", "cut"][..],
        &[
            "caption",
            "nan.wav",
            "-m",
            model.to_str().unwrap(),
            "-o",
            "caption",
        ],
    ] {
        // The timeout is a hang guard: retrying the tones (speech without words) takes a
        // while on a loaded machine.
        let o = subcut()
            .current_dir(d.path())
            .args(args)
            .timeout(Duration::from_secs(600))
            .output()
            .unwrap();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {err}");
        // One line about the samples (the tones the test writes hold no words, so `caption`
        // also reports them as speech without words: issue 15's warning, not this one's).
        let warnings: Vec<&str> = err
            .lines()
            .filter(|l| l.starts_with("warning:") && !l.contains("speech without words"))
            .collect();
        assert_eq!(
            warnings,
            ["warning: nan.wav: 75 NaN or infinite audio samples read as silence"],
            "{args:?}: {err}"
        );
        assert!(!err.contains("error"), "{err}");
    }
    assert!(d.path().join("cut/nan.cut.wav").exists());
    assert!(d.path().join("caption/nan.srt").exists());
    assert_eq!(std::fs::read(&wav).unwrap(), before);
    // -q leaves the warning out.
    let o = subcut()
        .current_dir(d.path())
        .args(["cut", "nan.wav", "--no-captions", "--dry-run", "-q"])
        .output()
        .unwrap();
    assert!(o.status.success());
    assert_eq!(stderr(&o), "");
}
