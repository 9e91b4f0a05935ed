//! Input expansion: files, directories (recursive, media files only) and globs → a sorted
//! list of inputs, plus per-input failures for arguments that match nothing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Extensions treated as media when walking a directory. Files named explicitly are
/// always tried, whatever their extension.
pub const MEDIA_EXTENSIONS: &[&str] = &[
    "3gp", "aac", "aif", "aiff", "avi", "flac", "flv", "m2ts", "m4a", "m4v", "mka", "mkv", "mov",
    "mp2", "mp3", "mp4", "mpeg", "mpg", "mts", "mxf", "oga", "ogg", "ogv", "opus", "ts", "wav",
    "webm", "wma", "wmv",
];

pub fn is_media_path(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| MEDIA_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// One command-line argument that could not be expanded (missing file, glob with no match).
#[derive(Debug, Clone, PartialEq)]
pub struct BadInput {
    pub arg: PathBuf,
    pub cause: String,
}

/// Expands arguments into input files: each file as given, each directory walked
/// recursively for media files (hidden entries skipped), each glob pattern matched.
/// The result is deduplicated and sorted (deterministic order, so shards are stable).
pub fn expand(args: &[PathBuf]) -> (Vec<PathBuf>, Vec<BadInput>) {
    let mut found = BTreeSet::new();
    let mut bad = Vec::new();
    for arg in args {
        let before = found.len();
        if arg.is_dir() {
            walk(arg, &mut found);
            if found.len() == before {
                bad.push(BadInput {
                    arg: arg.clone(),
                    cause: "directory holds no media files".into(),
                });
            }
        } else if arg.exists() {
            found.insert(arg.clone());
        } else if let Some(pattern) = arg.to_str().filter(|s| s.contains(['*', '?', '['])) {
            match glob::glob(pattern) {
                Ok(paths) => {
                    for p in paths.flatten() {
                        if p.is_dir() {
                            walk(&p, &mut found);
                        } else {
                            found.insert(p);
                        }
                    }
                    if found.len() == before {
                        bad.push(BadInput {
                            arg: arg.clone(),
                            cause: "no file matches this pattern".into(),
                        });
                    }
                }
                Err(e) => bad.push(BadInput {
                    arg: arg.clone(),
                    cause: format!("bad glob pattern: {e}"),
                }),
            }
        } else {
            bad.push(BadInput {
                arg: arg.clone(),
                cause: "no such file or directory".into(),
            });
        }
    }
    (found.into_iter().collect(), bad)
}

fn walk(dir: &Path, found: &mut BTreeSet<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if e.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        if p.is_dir() {
            walk(&p, found);
        } else if is_media_path(&p) {
            found.insert(p);
        }
    }
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
}
