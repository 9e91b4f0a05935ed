//! Atomic output: every file is written to a temporary name in its destination directory
//! and renamed into place only when all of one input's outputs are complete, so a crash or
//! an error never leaves a half-written file under a final name, and an input is never
//! overwritten.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use tempfile::NamedTempFile;

/// Writes `text` to stdout and flushes it, returning the io error (a closed pipe, a full device)
/// where `print!` would panic. `run_cli` takes a closed pipe for success.
pub(crate) fn print_stdout(text: impl std::fmt::Display) -> Result<()> {
    let mut out = std::io::stdout().lock();
    write!(out, "{text}")
        .and_then(|_| out.flush())
        .context("cannot write to stdout")
}

/// The prefix of this process's temporary files, `.subcut-PID-` (the renderer's own part file
/// beside one starts `..subcut-PID-`): a later run tells a dead process's leftovers by it.
pub(crate) fn temp_prefix() -> String {
    format!(".subcut-{}-", std::process::id())
}

/// The folders where this process made temporary files, for [`remove_own_temps`].
static TEMP_DIRS: std::sync::Mutex<std::collections::BTreeSet<PathBuf>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

/// Notes `dir` as holding this process's temporary files; the first time, removes there the
/// leftovers of subcut processes that are gone (killed, crashed). Returns `dir`.
pub(crate) fn note_temp_dir(dir: &Path) -> &Path {
    let new = TEMP_DIRS
        .lock()
        .map(|mut d| d.insert(dir.to_path_buf()))
        .unwrap_or(false);
    if new {
        let me = std::process::id();
        remove_temps(dir, |pid| pid != me && !alive(pid));
    }
    dir
}

/// Removes every temporary file of this process in the noted folders (on a signal); returns
/// how many it removed.
pub(crate) fn remove_own_temps() -> usize {
    let me = std::process::id();
    let dirs = TEMP_DIRS.lock().map(|d| d.clone()).unwrap_or_default();
    dirs.iter().map(|d| remove_temps(d, |pid| pid == me)).sum()
}

/// The pid in a temporary file's name: `.subcut-PID-…` or the renderer's `..subcut-PID-…`.
fn temp_pid(name: &str) -> Option<u32> {
    let rest = name
        .strip_prefix("..subcut-")
        .or_else(|| name.strip_prefix(".subcut-"))?;
    let (pid, _) = rest.split_once('-')?;
    if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    pid.parse().ok()
}

/// Whether a process `pid` exists (signal 0 checks without sending anything).
fn alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return false;
        };
        // SAFETY: kill with signal 0 sends nothing; it only says whether the process exists.
        let r = unsafe { libc::kill(pid, 0) };
        r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// Removes the files in `dir` named as temporaries of a pid that `whose` accepts.
fn remove_temps(dir: &Path, whose: impl Fn(u32) -> bool) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_str()
                .and_then(temp_pid)
                .is_some_and(&whose)
                && std::fs::remove_file(e.path()).is_ok()
        })
        .count()
}

/// The path of an output for `input` with extension `ext` (e.g. `srt`, `cut.mp4`): next to
/// the input, or in `out_dir`.
pub(crate) fn output_path(input: &Path, out_dir: Option<&Path>, ext: &str) -> PathBuf {
    let stem = input
        .file_stem()
        .map(|s| s.to_os_string())
        .unwrap_or_else(|| "output".into());
    let mut name = stem;
    name.push(".");
    name.push(ext);
    match out_dir {
        Some(d) => d.join(name),
        None => input.parent().unwrap_or(Path::new(".")).join(name),
    }
}

/// Outputs staged in temporary files, committed together.
#[derive(Default)]
pub(crate) struct Staged {
    files: Vec<(NamedTempFile, PathBuf)>,
}

impl Staged {
    /// Writes `contents` to a temporary file beside `dest`. Refuses to stage over `input`.
    pub(crate) fn add(&mut self, input: &Path, dest: PathBuf, contents: &[u8]) -> Result<()> {
        if same_file(input, &dest) {
            bail!(
                "refusing to overwrite the input with output {}",
                dest.display()
            );
        }
        let dir = dest
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let mut tmp = tempfile::Builder::new()
            .prefix(&temp_prefix())
            .suffix(".tmp")
            .tempfile_in(note_temp_dir(dir))
            .map_err(|e| anyhow!("cannot write to {}: {}", dir.display(), why(&e)))?;
        readable(&tmp, &dest)?;
        // Through the File: NamedTempFile's own errors name the temporary file.
        let file = tmp.as_file_mut();
        file.write_all(contents)
            .and_then(|_| file.sync_all())
            .map_err(|e| anyhow!("cannot write {}: {}", dest.display(), why(&e)))?;
        self.files.push((tmp, dest));
        Ok(())
    }

    /// Reserves a temporary file beside `dest` for a writer that produces the file itself
    /// (the renderer); returns its path, which keeps `dest`'s extension so that muxers pick
    /// the right format. It is renamed into place with the others on [`commit`](Staged::commit)
    /// and removed if the staging is dropped.
    pub(crate) fn reserve(&mut self, input: &Path, dest: PathBuf) -> Result<PathBuf> {
        if same_file(input, &dest) {
            bail!(
                "refusing to overwrite the input with output {}",
                dest.display()
            );
        }
        let dir = dest
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let suffix = dest
            .extension()
            .map(|e| format!(".{}", e.to_string_lossy()))
            .unwrap_or_default();
        let tmp = tempfile::Builder::new()
            .prefix(&temp_prefix())
            .suffix(&suffix)
            .tempfile_in(note_temp_dir(dir))
            .map_err(|e| anyhow!("cannot write to {}: {}", dir.display(), why(&e)))?;
        let path = tmp.path().to_path_buf();
        self.files.push((tmp, dest));
        Ok(path)
    }

    /// Renames every staged file into place; returns the final paths.
    pub(crate) fn commit(self) -> Result<Vec<PathBuf>> {
        let mut done = Vec::with_capacity(self.files.len());
        for (tmp, dest) in self.files {
            tmp.persist(&dest)
                .map_err(|e| anyhow!("cannot write {}: {}", dest.display(), why(&e.error)))?;
            done.push(dest);
        }
        Ok(done)
    }
}

/// Temporary files are created private (0600); outputs get the usual 0644.
fn readable(tmp: &NamedTempFile, dest: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(|e| anyhow!("cannot write {}: {}", dest.display(), why(&e)))?;
    }
    #[cfg(not(unix))]
    let _ = (tmp, dest);
    Ok(())
}

/// An I/O error as a message part, without the temporary file's path that `tempfile` adds
/// (an error names the destination, never a `.subcut-…` name) and std's " (os error N)".
pub(crate) fn why(e: &std::io::Error) -> String {
    let s = e.to_string();
    let s = s.find(" at path \"").map_or(s.as_str(), |i| &s[..i]);
    crate::media::io_why(&std::io::Error::other(s.to_string()))
}

/// Whether `a` and `b` name the same existing file (after following links).
pub(crate) fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// Creates the output directory if needed, with an error naming it.
pub(crate) fn ensure_dir(dir: &Path) -> Result<()> {
    if let Some(why) = crate::inputs::link_trouble(dir) {
        bail!("output directory {} is a {why}", dir.display());
    }
    if dir.exists() && !dir.is_dir() {
        bail!(
            "output directory {} exists and is not a directory",
            dir.display()
        );
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create output directory {}", dir.display()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn temp_names_carry_the_pid() {
        assert_eq!(super::temp_pid(".subcut-123-abc.tmp"), Some(123));
        assert_eq!(
            super::temp_pid("..subcut-123-abc.mp4.x.part.mp4"),
            Some(123)
        );
        for other in [
            ".subcut-watch-x",
            ".subcut-import-x.part",
            ".subcut-abc.tmp",
            "a.mp4",
        ] {
            assert_eq!(super::temp_pid(other), None, "{other}");
        }
        assert!(super::temp_prefix().starts_with(&format!(".subcut-{}-", std::process::id())));
    }

    use super::*;

    #[test]
    fn output_paths() {
        assert_eq!(
            output_path(Path::new("v/talk.mp4"), None, "srt"),
            Path::new("v/talk.srt")
        );
        assert_eq!(
            output_path(Path::new("talk.mp4"), None, "srt"),
            Path::new("talk.srt")
        );
        assert_eq!(
            output_path(Path::new("v/a.b.mov"), Some(Path::new("out")), "cut.mp4"),
            Path::new("out/a.b.cut.mp4")
        );
    }

    #[test]
    fn staged_files_appear_only_on_commit_and_never_over_the_input() {
        let d = tempfile::tempdir().unwrap();
        let input = d.path().join("in.srt");
        std::fs::write(&input, b"original").unwrap();
        let mut s = Staged::default();
        s.add(&input, d.path().join("in.json"), b"{}").unwrap();
        assert!(!d.path().join("in.json").exists());
        assert!(s.add(&input, input.clone(), b"x").is_err());
        let done = s.commit().unwrap();
        assert_eq!(std::fs::read(&done[0]).unwrap(), b"{}");
        assert_eq!(std::fs::read(&input).unwrap(), b"original");
        // Dropped without commit: nothing left behind.
        let mut s = Staged::default();
        s.add(&input, d.path().join("other.srt"), b"x").unwrap();
        drop(s);
        let names: Vec<_> = std::fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn reserved_files_keep_their_extension_and_vanish_unless_committed() {
        let d = tempfile::tempdir().unwrap();
        let input = d.path().join("a.mp4");
        std::fs::write(&input, b"in").unwrap();
        let mut st = Staged::default();
        let tmp = st.reserve(&input, d.path().join("a.cut.mp4")).unwrap();
        assert_eq!(tmp.extension().unwrap(), "mp4");
        assert!(
            st.reserve(&input, input.clone()).is_err(),
            "never over the input"
        );
        std::fs::write(&tmp, b"video").unwrap();
        drop(st);
        assert!(!tmp.exists() && !d.path().join("a.cut.mp4").exists());
        let mut st = Staged::default();
        let tmp = st.reserve(&input, d.path().join("a.cut.mp4")).unwrap();
        std::fs::write(&tmp, b"video").unwrap();
        assert_eq!(st.commit().unwrap(), [d.path().join("a.cut.mp4")]);
        assert_eq!(std::fs::read(d.path().join("a.cut.mp4")).unwrap(), b"video");
    }
}
