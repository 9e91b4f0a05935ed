//! Input expansion: files, directories (recursive, media files only) and globs → a sorted
//! list of inputs, plus per-input failures for arguments that match nothing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Extensions treated as media when walking a directory. Files named explicitly are
/// always tried, whatever their extension.
pub(crate) const MEDIA_EXTENSIONS: &[&str] = &[
    "3gp", "aac", "aif", "aiff", "avi", "flac", "flv", "m2ts", "m4a", "m4v", "mka", "mkv", "mov",
    "mp2", "mp3", "mp4", "mpeg", "mpg", "mts", "mxf", "oga", "ogg", "ogv", "opus", "ts", "wav",
    "webm", "wma", "wmv",
];

pub(crate) fn is_media_path(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| MEDIA_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Why `p`, a symbolic link that cannot be followed, cannot: a loop (`a -> b -> a`) or a
/// target that does not exist. `None` when `p` is no such link (it can be followed, or it
/// is not there at all).
pub(crate) fn link_trouble(p: &Path) -> Option<String> {
    let link = p.symlink_metadata().ok()?;
    if !link.file_type().is_symlink() {
        return None;
    }
    let err = std::fs::metadata(p).err()?;
    #[cfg(unix)]
    if err.raw_os_error() == Some(libc::ELOOP) {
        return Some("symbolic link loop (following it leads back to itself)".into());
    }
    let to = std::fs::read_link(p)
        .map(|t| format!(" to {}", t.display()))
        .unwrap_or_default();
    Some(match err.kind() {
        std::io::ErrorKind::NotFound => {
            format!("broken symbolic link{to} (its target does not exist)")
        }
        _ => format!(
            "symbolic link{to} that cannot be followed: {}",
            crate::media::io_why(&err)
        ),
    })
}

/// One command-line argument that could not be expanded (missing file, glob with no match).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BadInput {
    pub(crate) arg: PathBuf,
    pub(crate) cause: String,
}

/// Whether `p` is named as subcut names its own media outputs: `NAME.cut.EXT` (the cut
/// video or audio, see `pipeline::cut_outputs`). A folder walk or a glob leaves these out, so
/// that running again over a folder does not cut its earlier cuts; named as a file, it is
/// taken. (subcut's other outputs, subtitles, exports and `NAME.timeline.png`, are not media.)
pub(crate) fn is_own_output(p: &Path) -> bool {
    is_media_path(p)
        && p.file_stem()
            .map(Path::new)
            .and_then(|s| s.extension())
            .is_some_and(|e| e.eq_ignore_ascii_case("cut"))
}

/// Expands arguments into input files: each file as given, each directory walked
/// recursively for media files (hidden entries and subcut's own outputs skipped, see
/// [`is_own_output`]; each real file and directory once, so a symlink loop ends), each glob
/// pattern matched. What a walk cannot read (a directory without permission, a broken
/// link) is a failure of that argument, never skipped silently. The result is deduplicated
/// and sorted (deterministic order, so shards are stable).
pub(crate) fn expand(args: &[PathBuf]) -> (Vec<PathBuf>, Vec<BadInput>) {
    let mut found = BTreeSet::new();
    let mut bad = Vec::new();
    for arg in args {
        let before = found.len();
        let mut walk = Walk::default();
        if arg.is_dir() {
            walk.dir(arg, &mut found);
            let none = found.len() == before;
            walk.report(arg, none, "directory holds no media files", &mut bad);
        } else if arg.exists() {
            found.insert(arg.clone());
        } else if let Some(pattern) = arg.to_str().filter(|s| s.contains(['*', '?', '['])) {
            match glob::glob(pattern) {
                Ok(paths) => {
                    for p in paths {
                        match p {
                            Ok(p) if p.is_dir() => walk.dir(&p, &mut found),
                            Ok(p) if is_own_output(&p) => walk.own += 1,
                            Ok(p) => {
                                found.insert(p);
                            }
                            Err(e) => walk.errors.push(format!(
                                "cannot read {}: {}",
                                e.path().display(),
                                e.error().kind()
                            )),
                        }
                    }
                    let none = found.len() == before;
                    walk.report(arg, none, "no file matches this pattern", &mut bad);
                }
                Err(e) => bad.push(BadInput {
                    arg: arg.clone(),
                    cause: format!("bad glob pattern: {e}"),
                }),
            }
        } else if let Some(why) = link_trouble(arg) {
            bad.push(BadInput {
                arg: arg.clone(),
                cause: why,
            });
        } else {
            bad.push(BadInput {
                arg: arg.clone(),
                cause: "no such file or directory".into(),
            });
        }
    }
    (found.into_iter().collect(), bad)
}

/// One argument's directory walk: the real directories and files seen (by device and
/// inode), what could not be read, and how many of subcut's own outputs were left out.
#[derive(Default)]
struct Walk {
    seen: std::collections::HashSet<(u64, u64)>,
    errors: Vec<String>,
    own: usize,
    /// Symbolic links met, followed after the real entries (so that a file is found under
    /// its own path rather than a link's).
    links: std::collections::VecDeque<PathBuf>,
}

impl Walk {
    /// Whether the real file or directory `m` describes is new to this walk.
    fn first_time(&mut self, m: &std::fs::Metadata) -> bool {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            self.seen.insert((m.dev(), m.ino()))
        }
        #[cfg(not(unix))]
        {
            let _ = m;
            true
        }
    }

    /// Walks `dir`, then the links met in it.
    fn dir(&mut self, dir: &Path, found: &mut BTreeSet<PathBuf>) {
        self.real_dir(dir, found);
        while let Some(l) = self.links.pop_front() {
            self.entry(l, found);
        }
    }

    fn real_dir(&mut self, dir: &Path, found: &mut BTreeSet<PathBuf>) {
        match std::fs::metadata(dir) {
            Ok(m) if !self.first_time(&m) => return, // a loop, or a second link to it
            Ok(_) => {}
            Err(e) => {
                self.errors
                    .push(format!("cannot read {}: {}", dir.display(), e.kind()));
                return;
            }
        }
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => {
                self.errors
                    .push(format!("cannot read {}: {}", dir.display(), e.kind()));
                return;
            }
        };
        let mut paths = Vec::new();
        for e in entries {
            match e {
                Ok(e) if e.file_name().to_string_lossy().starts_with('.') => {}
                Ok(e) => paths.push(e.path()),
                Err(e) => self
                    .errors
                    .push(format!("cannot read {}: {}", dir.display(), e.kind())),
            }
        }
        paths.sort();
        for p in paths {
            if p.symlink_metadata()
                .is_ok_and(|m| m.file_type().is_symlink())
            {
                self.links.push_back(p);
            } else {
                self.entry(p, found);
            }
        }
    }

    /// One entry of a walk (a link followed): a directory walked, a media file found once.
    fn entry(&mut self, p: PathBuf, found: &mut BTreeSet<PathBuf>) {
        let m = match std::fs::metadata(&p) {
            Ok(m) => m,
            Err(_) if link_trouble(&p).is_some() => {
                let why = link_trouble(&p).unwrap_or_default();
                self.errors.push(format!("{}: {why}", p.display()));
                return;
            }
            Err(e) => {
                self.errors
                    .push(format!("cannot read {}: {}", p.display(), e.kind()));
                return;
            }
        };
        if m.is_dir() {
            self.real_dir(&p, found);
        } else if is_own_output(&p) {
            self.own += 1;
        } else if is_media_path(&p) && self.first_time(&m) {
            found.insert(p);
        }
    }

    /// The argument's failures: what could not be read, else (when nothing was found)
    /// `nothing`, or that only subcut's own outputs were there.
    fn report(self, arg: &Path, none: bool, nothing: &str, bad: &mut Vec<BadInput>) {
        if !self.errors.is_empty() {
            bad.push(BadInput {
                arg: arg.to_path_buf(),
                cause: self.errors.join("; "),
            });
        } else if none && self.own > 0 {
            bad.push(BadInput {
                arg: arg.to_path_buf(),
                cause: format!(
                    "{nothing}: only subcut's own outputs (NAME.cut.EXT, {} left out); name them as files to take them",
                    self.own
                ),
            });
        } else if none {
            bad.push(BadInput {
                arg: arg.to_path_buf(),
                cause: nothing.into(),
            });
        }
    }
}

/// One machine's slice of a run spread over many: shard `index` of `count` (0-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Shard {
    pub(crate) index: usize,
    pub(crate) count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;
    /// `I/N` with 0 ≤ I < N.
    fn from_str(s: &str) -> Result<Shard, String> {
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| format!("invalid shard {s:?} (expected I/N, e.g. 0/4)"))?;
        let index: usize = i
            .trim()
            .parse()
            .map_err(|_| format!("invalid shard index {i:?} in {s:?}"))?;
        let count: usize = n
            .trim()
            .parse()
            .map_err(|_| format!("invalid shard count {n:?} in {s:?}"))?;
        if count == 0 || index >= count {
            return Err(format!("shard {s:?} out of range: need 0 ≤ I < N"));
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// The shard this process is, from the flags or else the environment of a cluster job:
    /// Kubernetes Indexed Jobs set `JOB_COMPLETION_INDEX` (the count comes from `--shards`),
    /// Slurm job arrays set `SLURM_ARRAY_TASK_ID`, `SLURM_ARRAY_TASK_MIN` and
    /// `SLURM_ARRAY_TASK_COUNT`. `None`: not sharded.
    pub(crate) fn resolve(
        flag: Option<Shard>,
        shards: Option<usize>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<Shard>, String> {
        if let Some(s) = flag {
            return Ok(Some(s));
        }
        let num = |k: &str| -> Result<Option<usize>, String> {
            env(k)
                .map(|v| {
                    v.trim()
                        .parse::<usize>()
                        .map_err(|_| format!("{k}={v:?} is not a number"))
                })
                .transpose()
        };
        if let Some(index) = num("JOB_COMPLETION_INDEX")? {
            let count = shards.ok_or("JOB_COMPLETION_INDEX is set: give the number of shards with --shards N (the Job's completions)")?;
            return format!("{index}/{count}").parse().map(Some);
        }
        if let Some(id) = num("SLURM_ARRAY_TASK_ID")? {
            let min = num("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
            let count = match shards {
                Some(n) => n,
                None => num("SLURM_ARRAY_TASK_COUNT")?.ok_or(
                    "SLURM_ARRAY_TASK_ID is set but not SLURM_ARRAY_TASK_COUNT: give --shards N",
                )?,
            };
            let index = id.checked_sub(min).ok_or(format!(
                "SLURM_ARRAY_TASK_ID {id} is below SLURM_ARRAY_TASK_MIN {min}"
            ))?;
            return format!("{index}/{count}").parse().map(Some);
        }
        match shards {
            Some(_) => Err("--shards needs --shard I/N or a cluster index (JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID)".into()),
            None => Ok(None),
        }
    }

    /// This shard's inputs: every `count`-th of the sorted list, starting at `index`.
    /// Disjoint across shards, covering all inputs, the same on every machine.
    pub(crate) fn select<T: Clone>(&self, sorted: &[T]) -> Vec<T> {
        sorted
            .iter()
            .skip(self.index)
            .step_by(self.count)
            .cloned()
            .collect()
    }
}

/// Whether every one of `outputs` exists and is at least as new as `input` (outputs are
/// renamed into place whole, so existing means complete).
pub(crate) fn up_to_date(input: &Path, outputs: &[PathBuf]) -> bool {
    let mtime = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let Some(src) = mtime(input) else {
        return false;
    };
    !outputs.is_empty() && outputs.iter().all(|o| mtime(o).is_some_and(|t| t >= src))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_files_dirs_and_globs() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        std::fs::create_dir_all(root.join("sub/.hidden")).unwrap();
        for f in [
            "a.mp4",
            "b.WAV",
            "notes.txt",
            "sub/c.mkv",
            "sub/.hidden/d.mp3",
            "sub/.e.mp3",
        ] {
            std::fs::write(root.join(f), b"x").unwrap();
        }
        let (files, bad) = expand(&[root.to_path_buf()]);
        let names: Vec<_> = files
            .iter()
            .map(|p| p.strip_prefix(root).unwrap().to_str().unwrap())
            .collect();
        assert_eq!(names, ["a.mp4", "b.WAV", "sub/c.mkv"]);
        assert!(bad.is_empty());

        let pat = root.join("*.txt");
        let missing = root.join("nope.mp4");
        let nomatch = root.join("*.flac");
        let (files, bad) = expand(&[
            pat,
            root.join("a.mp4"),
            root.join("a.mp4"),
            missing.clone(),
            nomatch,
        ]);
        assert_eq!(
            files,
            [root.join("a.mp4"), root.join("notes.txt")],
            "explicit and globbed files kept, deduplicated"
        );
        assert_eq!(bad.len(), 2);
        assert_eq!(bad[0].arg, missing);
        assert!(bad[1].cause.contains("no file matches"));
    }

    #[test]
    fn own_outputs_are_left_out_of_walks_and_globs_but_taken_when_named() {
        assert!(is_own_output(Path::new("d/a.cut.mp4")));
        assert!(is_own_output(Path::new("a.b.CUT.wav")));
        assert!(!is_own_output(Path::new("a.mp4")));
        assert!(!is_own_output(Path::new("cut.mp4")));
        assert!(!is_own_output(Path::new("a.cut.srt")), "not media");
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        for f in ["a.mp4", "a.cut.mp4", "b.cut.mp3"] {
            std::fs::write(root.join(f), b"x").unwrap();
        }
        let (files, bad) = expand(&[root.to_path_buf()]);
        assert_eq!(files, [root.join("a.mp4")]);
        assert!(bad.is_empty());
        let (files, _) = expand(&[root.join("*.mp4"), root.join("b.cut.mp3")]);
        assert_eq!(files, [root.join("a.mp4"), root.join("b.cut.mp3")]);
        let (files, bad) = expand(&[root.join("*.mp3")]);
        assert!(files.is_empty());
        assert!(
            bad[0].cause.contains("only subcut's own outputs"),
            "{bad:?}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loops_end_and_each_real_file_is_found_once() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        std::fs::create_dir(root.join("sub")).unwrap();
        std::fs::write(root.join("sub/a.mp4"), b"x").unwrap();
        std::os::unix::fs::symlink("..", root.join("sub/up")).unwrap();
        std::os::unix::fs::symlink("sub/a.mp4", root.join("link.mp4")).unwrap();
        std::os::unix::fs::symlink("nowhere.mp4", root.join("sub/gone.mp4")).unwrap();
        let (files, bad) = expand(&[root.to_path_buf()]);
        assert_eq!(files, [root.join("sub/a.mp4")], "the real path, once");
        assert_eq!(bad.len(), 1);
        assert!(
            bad[0].cause.contains("gone.mp4: broken symbolic link"),
            "{bad:?}"
        );
    }

    #[test]
    fn shards_parse_and_cover_every_input_once() {
        assert_eq!("1/3".parse::<Shard>(), Ok(Shard { index: 1, count: 3 }));
        assert!("3/3".parse::<Shard>().is_err());
        assert!("1".parse::<Shard>().is_err());
        assert!("a/2".parse::<Shard>().is_err());
        let inputs: Vec<u32> = (0..10).collect();
        let mut all: Vec<u32> = (0..3)
            .flat_map(|i| Shard { index: i, count: 3 }.select(&inputs))
            .collect();
        all.sort();
        assert_eq!(all, inputs);
        assert_eq!(Shard { index: 1, count: 3 }.select(&inputs), [1, 4, 7]);
    }

    #[test]
    fn shard_from_cluster_environment() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let none = env(&[]);
        assert_eq!(Shard::resolve(None, None, &none), Ok(None));
        assert!(Shard::resolve(None, Some(4), &none).is_err());
        let flag = Some(Shard { index: 2, count: 5 });
        assert_eq!(
            Shard::resolve(flag, None, &env(&[("JOB_COMPLETION_INDEX", "1")])),
            Ok(flag)
        );
        let k8s = env(&[("JOB_COMPLETION_INDEX", "3")]);
        assert_eq!(
            Shard::resolve(None, Some(4), &k8s),
            Ok(Some(Shard { index: 3, count: 4 }))
        );
        assert!(Shard::resolve(None, None, &k8s)
            .unwrap_err()
            .contains("--shards"));
        let slurm = env(&[
            ("SLURM_ARRAY_TASK_ID", "5"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "8"),
        ]);
        assert_eq!(
            Shard::resolve(None, None, &slurm),
            Ok(Some(Shard { index: 4, count: 8 }))
        );
        assert!(Shard::resolve(None, None, &env(&[("SLURM_ARRAY_TASK_ID", "x")])).is_err());
    }

    #[test]
    fn up_to_date_needs_every_output_newer_than_the_input() {
        let d = tempfile::tempdir().unwrap();
        let input = d.path().join("a.mp4");
        std::fs::write(&input, b"x").unwrap();
        let out = d.path().join("a.srt");
        assert!(!up_to_date(&input, std::slice::from_ref(&out)));
        std::fs::write(&out, b"1").unwrap();
        assert!(up_to_date(&input, std::slice::from_ref(&out)));
        assert!(!up_to_date(&input, &[out.clone(), d.path().join("a.vtt")]));
        assert!(!up_to_date(&input, &[]));
        // Touch the input later than the output.
        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
        std::fs::File::options()
            .write(true)
            .open(&input)
            .unwrap()
            .set_modified(later)
            .unwrap();
        assert!(!up_to_date(&input, &[out]));
    }
}
