//! The adversarial corpus of issue 18 (crashes, panics, leftovers), generated in temp dirs:
//! stdout on a closed pipe or a full device, negative-looking flag values, ggml headers that
//! lie, and signals during a cut.

use crate::util::*;

use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Output, Stdio};

/// A pipe whose reading end is already closed: writes to the other end fail with EPIPE.
fn closed_pipe() -> Stdio {
    let mut fds = [0; 2];
    // SAFETY: pipe writes two new descriptors into the array; we own both.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: fds[0] and fds[1] are open descriptors of ours, each wrapped once.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read);
    Stdio::from(write)
}

fn dev_full() -> Stdio {
    Stdio::from(
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap(),
    )
}

fn run_with_stdout(args: &[&str], stdout: Stdio) -> Output {
    subcut_std()
        .args(args)
        .stdout(stdout)
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

/// No panic, no backtrace: nothing on stderr, or exactly one `error:` line.
fn assert_one_error_line(o: &Output) {
    let err = stderr(o);
    assert!(!err.contains("panicked"), "panicked: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line expected: {err}");
    assert!(lines[0].starts_with("error: "), "{err}");
}

/// Every command that prints to stdout, with what it needs.
fn printing_commands() -> Vec<Vec<String>> {
    let talk = fixture("talk.mp4").to_str().unwrap().to_string();
    let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    vec![
        s(&["presets", "list"]),
        s(&["model", "list"]),
        s(&["model", "path", "tiny.en"]),
        s(&["presets", "show", "default"]),
        s(&["cut", &talk, "--no-captions", "--dry-run", "-q"]),
    ]
}

#[test]
fn stdout_on_a_closed_pipe_is_success_without_a_panic() {
    tiny_en();
    for args in &printing_commands() {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let args = &args[..];
        let o = run_with_stdout(args, closed_pipe());
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn stdout_on_a_full_device_is_one_error_line() {
    tiny_en();
    for args in &printing_commands() {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let args = &args[..];
        let o = run_with_stdout(args, dev_full());
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert_one_error_line(&o);
        assert!(stderr(&o).contains("No space left"), "{}", stderr(&o));
    }
}

#[test]
fn caption_json_on_a_full_device_is_one_error_line() {
    let dir = tempfile::tempdir().unwrap();
    let model = tiny_en();
    let o = run_with_stdout(
        &[
            "caption",
            fixture("talk.mp4").to_str().unwrap(),
            "-m",
            model.to_str().unwrap(),
            "--json",
            "-q",
            "-o",
            dir.path().to_str().unwrap(),
        ],
        dev_full(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_one_error_line(&o);
}

#[test]
fn threshold_takes_a_negative_level_as_readme_writes_it() {
    let input = fixture("talk.mp4");
    let o = subcut()
        .args(["cut", input.to_str().unwrap(), "--no-captions", "--dry-run"])
        .args(["--threshold", "-35dB"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    for (flag, value) in [
        ("--min-silence", "-5"),
        ("--margin", "-0.1s"),
        ("--min-clip", "-1s"),
    ] {
        let o = subcut()
            .args([
                "cut",
                input.to_str().unwrap(),
                "--no-captions",
                "--dry-run",
                flag,
                value,
            ])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{flag}");
        let err = stderr(&o);
        assert!(err.contains("negative"), "{flag}: {err}");
    }
}

#[test]
fn a_stray_negative_value_gets_our_tip_not_clap_s() {
    let o = subcut()
        .args(["cut", fixture("talk.mp4").to_str().unwrap(), "--jobs", "-5"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(!err.contains("'-- -5'"), "{err}");
    assert!(err.contains("--FLAG=-5"), "{err}");
}

/// Offsets in the installed tiny.en model: the hyperparameters (after the magic) and the first
/// tensor header (after the filter bank and the vocabulary).
fn first_tensor_offset(b: &[u8]) -> usize {
    let i32_at = |o: usize| i32::from_le_bytes(b[o..o + 4].try_into().unwrap()) as usize;
    let mut pos = 4 + 44;
    pos += 8 + i32_at(pos) * i32_at(pos + 4) * 4;
    let n_tokens = i32_at(pos);
    pos += 4;
    for _ in 0..n_tokens {
        pos += 4 + i32_at(pos);
    }
    pos
}

#[test]
fn ggml_headers_that_lie_are_one_error_line_not_an_abort() {
    let model = std::fs::read(tiny_en()).unwrap();
    let t0 = first_tensor_offset(&model);
    let hp = |i: usize| 4 + 4 * i;
    let set = |at: usize, v: i32| {
        let mut b = model.clone();
        b[at..at + 4].copy_from_slice(&v.to_le_bytes());
        b
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("ftype", set(hp(10), 77), "unknown weight type"),
        ("heads", set(hp(3), 7), "attention heads"),
        ("widths", set(hp(6), 512), "attention heads"),
        ("vocab", set(hp(0), 60000), "vocabulary of 60000"),
        ("ttype", set(t0 + 8, 99), "unknown ggml type 99"),
        ("ttype-removed", set(t0 + 8, 4), "unknown ggml type 4"),
        ("ttype-negative", set(t0 + 8, -1), "unknown ggml type -1"),
        ("ndims", set(t0, 5), "implausible tensor header"),
        ("dim-zero", set(t0 + 12, 0), "tensor dimension 0"),
        ("dim-huge", set(t0 + 12, i32::MAX), "truncated"),
        (
            "name-len",
            set(t0 + 4, 1 << 20),
            "implausible tensor header",
        ),
        (
            "cut-in-a-tensor",
            model[..model.len() - 1000].to_vec(),
            "truncated",
        ),
        ("cut-at-a-tensor", model[..t0].to_vec(), "no tensors"),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes, want) in cases {
        let path = dir.path().join(format!("{name}.bin"));
        std::fs::write(&path, &bytes).unwrap();
        let out = dir.path().join(format!("out-{name}"));
        let o = subcut_std()
            .args(["caption", fixture("talk.mp4").to_str().unwrap(), "-q", "-m"])
            .arg(&path)
            .arg("-o")
            .arg(&out)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{name}: {}", stderr(&o));
        assert_one_error_line(&o);
        assert!(stderr(&o).contains(want), "{name}: {}", stderr(&o));
        assert_eq!(
            std::fs::read(&path).unwrap(),
            bytes,
            "{name}: the model changed"
        );
        assert!(files_in(&out).is_empty(), "{name}: {:?}", files_in(&out));
    }
}

/// A 20 s 1280×720 clip with speech-like bursts of tone: long enough that its cut is still
/// rendering when a signal arrives.
fn long_clip(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("long.mp4");
    let ok = std::process::Command::new("ffmpeg")
        .args(["-loglevel", "error", "-f", "lavfi", "-i"])
        .arg("testsrc2=size=1280x720:rate=30:duration=20")
        .args(["-f", "lavfi", "-i"])
        .arg("sine=frequency=300:duration=20,volume=enable='lt(mod(t,2),1)':volume=0")
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-c:a",
            "aac",
            "-shortest",
        ])
        .arg(&path)
        .status()
        .expect("ffmpeg (the CLI) makes the test media: install it");
    assert!(ok.success());
    path
}

fn temps_in(dir: &std::path::Path) -> Vec<String> {
    files_in(dir)
        .into_iter()
        .filter(|n| n.contains(".subcut-"))
        .collect()
}

#[test]
fn a_signal_during_a_cut_removes_what_it_staged() {
    let tmp = tempfile::tempdir().unwrap();
    let input = long_clip(tmp.path());
    let before = std::fs::read(&input).unwrap();
    for (sig, code) in [(libc::SIGINT, 130), (libc::SIGTERM, 143)] {
        let out = tmp.path().join(format!("out-{sig}"));
        std::fs::create_dir_all(&out).unwrap();
        // A leftover of a subcut that died (no such pid), and one of a live process (ours).
        let stale = out.join(".subcut-999999999-dead.tmp");
        let stale_part = out.join("..subcut-999999999-dead.mp4.x.part.mp4");
        let live = out.join(format!(".subcut-{}-live.tmp", std::process::id()));
        for p in [&stale, &stale_part, &live] {
            std::fs::write(p, b"x").unwrap();
        }
        let mut child = subcut_std()
            .args(["cut", input.to_str().unwrap(), "--no-captions", "-q", "-o"])
            .arg(&out)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let t0 = std::time::Instant::now();
        while !temps_in(&out)
            .iter()
            .any(|n| n.ends_with(".mp4") && !n.contains("dead"))
        {
            assert!(
                t0.elapsed().as_secs() < 60,
                "no temp appeared: {:?}",
                files_in(&out)
            );
            assert!(
                child.try_wait().unwrap().is_none(),
                "the cut ended before the signal"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(
            !stale.exists() && !stale_part.exists(),
            "stale temps of a dead pid stay"
        );
        // SAFETY: sends a signal to our own child process.
        assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, sig) }, 0);
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(code), "{}", stderr(&o));
        let err = stderr(&o);
        let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{err}");
        assert!(lines[0].starts_with("interrupted: removed "), "{err}");
        assert!(!lines[0].contains("removed 0 "), "{err}");
        std::fs::remove_file(&live).expect("a live process's temp is kept");
        assert_eq!(files_in(&out), Vec::<String>::new(), "left behind");
        assert_eq!(std::fs::read(&input).unwrap(), before, "the input changed");
    }
}

#[test]
fn an_interrupted_model_import_removes_its_part_file() {
    let dir = tempfile::tempdir().unwrap();
    let stale = dir.path().join(".subcut-999999999-import-dead.part");
    std::fs::write(&stale, b"x").unwrap();
    let mut child = subcut_std()
        .args(["model", "import"])
        .arg(ct2_base())
        .arg("-o")
        .arg(dir.path().join("m.bin"))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = std::time::Instant::now();
    while !temps_in(dir.path()).iter().any(|n| !n.contains("dead")) {
        assert!(
            t0.elapsed().as_secs() < 60,
            "no part file: {:?}",
            files_in(dir.path())
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the import ended before the signal"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    // SAFETY: sends a signal to our own child process.
    assert_eq!(
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) },
        0
    );
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    assert_eq!(stderr(&o).trim(), "interrupted: removed 1 temporary file");
    assert_eq!(files_in(dir.path()), Vec::<String>::new(), "left behind");
}
