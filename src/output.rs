//! Atomic output: every file is written to a temporary name in its destination directory
//! and renamed into place only when all of one input's outputs are complete, so a crash or
//! an error never leaves a half-written file under a final name, and an input is never
//! overwritten.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use tempfile::NamedTempFile;

/// Writes `text` to stdout and flushes it, returning the io error (a closed pipe, a full device)
/// where `print!` would panic. `run_cli` takes a closed pipe for success.
pub(crate) fn print_stdout(text: impl std::fmt::Display) -> Result<()> {
    let mut out = std::io::stdout().lock();
    write!(out, "{text}")
        .and_then(|_| out.flush())
        .context("cannot write to stdout")
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
            .prefix(".subcut-")
            .suffix(".tmp")
            .tempfile_in(dir)
            .with_context(|| format!("cannot write to {}", dir.display()))?;
        readable(&tmp)?;
        tmp.write_all(contents)
            .and_then(|_| tmp.as_file().sync_all())
            .with_context(|| format!("cannot write {}", dest.display()))?;
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
            .prefix(".subcut-")
            .suffix(&suffix)
            .tempfile_in(dir)
            .with_context(|| format!("cannot write to {}", dir.display()))?;
        let path = tmp.path().to_path_buf();
        self.files.push((tmp, dest));
        Ok(path)
    }

    /// Renames every staged file into place; returns the final paths.
    pub(crate) fn commit(self) -> Result<Vec<PathBuf>> {
        let mut done = Vec::with_capacity(self.files.len());
        for (tmp, dest) in self.files {
            tmp.persist(&dest)
                .with_context(|| format!("cannot write {}", dest.display()))?;
            done.push(dest);
        }
        Ok(done)
    }
}

/// Temporary files are created private (0600); outputs get the usual 0644.
fn readable(tmp: &NamedTempFile) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .with_context(|| format!("cannot write {}", tmp.path().display()))?;
    }
    Ok(())
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
