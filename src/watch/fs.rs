//! The watcher's file operations: the folder lock, moves that never overwrite, error files,
//! free names, and the directory syncs that make each step durable.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use super::{LOCK, OWN_TEMP};

/// The first free name for `name` in `dir`: `name`, then `STEM-1.EXT`, `STEM-2.EXT` …
pub(super) fn free_name(dir: &Path, name: &str) -> PathBuf {
    let taken = |p: &Path| fs::symlink_metadata(p).is_ok();
    let first = dir.join(name);
    if !taken(&first) {
        return first;
    }
    let (stem, ext) = match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i..]),
        _ => (name, ""),
    };
    (1u64..)
        .map(|n| dir.join(format!("{stem}-{n}{ext}")))
        .find(|p| !taken(p))
        .expect("a free name")
}

/// Makes a directory's entries (renames, links, unlinks) durable. Best effort: some
/// filesystems cannot sync a directory.
pub(super) fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(f) = File::open(if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    }) {
        let _ = f.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

pub(super) fn parent(p: &Path) -> &Path {
    p.parent().unwrap_or(Path::new("."))
}

/// A short tag naming IN_DIR in the watcher's temporary files, so that watchers of
/// different folders sharing a done/failed folder never clean each other's.
pub(super) fn dir_tag(in_dir: &Path) -> String {
    let canon = in_dir
        .canonicalize()
        .unwrap_or_else(|_| in_dir.to_path_buf());
    // FNV-1a: stable across Rust versions, unlike DefaultHasher.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in canon.to_string_lossy().bytes() {
        h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:08x}", h as u32)
}

/// Holds the folder's lock: one watcher per folder.
pub(super) struct Lock {
    _file: File,
}

pub(super) fn lock(in_dir: &Path) -> Result<Lock> {
    let path = in_dir.join(LOCK);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::io::AsRawFd;
        // SAFETY: flock on a descriptor we own; no memory is involved.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::WouldBlock {
                bail!(
                    "{}: another `subcut watch` is already watching this folder (it holds {})",
                    in_dir.display(),
                    path.display()
                );
            }
            return Err(e).with_context(|| format!("cannot lock {}", path.display()));
        }
    }
    Ok(Lock { _file: file })
}

/// Moves `src` to `dest` without ever replacing `dest`: `AlreadyExists` if it is taken.
/// A hard link then an unlink (each made durable); across filesystems, a copy into a
/// temporary file that is renamed into place without clobbering, then an unlink.
pub(super) fn move_no_clobber(src: &Path, dest: &Path, tag: &str) -> io::Result<()> {
    match fs::hard_link(src, dest) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Err(e),
        Err(_) => {
            let dir = parent(dest);
            let mut tmp = tempfile::Builder::new()
                .prefix(&format!("{OWN_TEMP}{tag}-"))
                .suffix(".tmp")
                .tempfile_in(dir)?;
            let mut from = File::open(src)?;
            io::copy(&mut from, tmp.as_file_mut())?;
            if let Ok(md) = from.metadata() {
                let _ = tmp.as_file().set_permissions(md.permissions());
                if let Ok(t) = md.modified() {
                    let _ = tmp.as_file().set_modified(t);
                }
            }
            tmp.as_file().sync_all()?;
            tmp.persist_noclobber(dest).map_err(|e| e.error)?;
        }
    }
    sync_dir(parent(dest));
    fs::remove_file(src)?;
    sync_dir(parent(src));
    Ok(())
}

/// Writes `failed/NAME.error.txt` for the input that will be `dest` (replacing an orphan).
pub(super) fn write_error_file(dest: &Path, error: &str, tag: &str) -> Result<PathBuf> {
    let mut name = dest.file_name().unwrap_or_default().to_os_string();
    name.push(".error.txt");
    let path = parent(dest).join(name);
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!("{OWN_TEMP}{tag}-"))
        .suffix(".tmp")
        .tempfile_in(parent(dest))
        .with_context(|| format!("cannot write to {}", parent(dest).display()))?;
    tmp.write_all(format!("{}\n", error.replace(['\n', '\r'], " ")).as_bytes())
        .and_then(|_| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = tmp
            .as_file()
            .set_permissions(fs::Permissions::from_mode(0o644));
    }
    tmp.persist(&path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// Whether two files hold the same bytes (a completed copy of a move across filesystems).
pub(super) fn same_contents(a: &Path, b: &Path) -> bool {
    let (Ok(ma), Ok(mb)) = (fs::metadata(a), fs::metadata(b)) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if ma.dev() == mb.dev() && ma.ino() == mb.ino() {
            return true;
        }
    }
    if ma.len() != mb.len() {
        return false;
    }
    let (Ok(fa), Ok(fb)) = (File::open(a), File::open(b)) else {
        return false;
    };
    let (mut ra, mut rb) = (io::BufReader::new(fa), io::BufReader::new(fb));
    loop {
        let (Ok(ba), Ok(bb)) = (ra.fill_buf(), rb.fill_buf()) else {
            return false;
        };
        if ba.is_empty() || bb.is_empty() {
            return ba.is_empty() && bb.is_empty();
        }
        let n = ba.len().min(bb.len());
        if ba[..n] != bb[..n] {
            return false;
        }
        ra.consume(n);
        rb.consume(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clashing_names_get_a_numbered_suffix() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path();
        assert_eq!(free_name(p, "talk.mp4"), p.join("talk.mp4"));
        fs::write(p.join("talk.mp4"), b"").unwrap();
        fs::write(p.join("talk-1.mp4"), b"").unwrap();
        assert_eq!(free_name(p, "talk.mp4"), p.join("talk-2.mp4"));
        fs::write(p.join("my talk 第1集.mp4"), b"").unwrap();
        assert_eq!(
            free_name(p, "my talk 第1集.mp4"),
            p.join("my talk 第1集-1.mp4")
        );
        fs::write(p.join("noext"), b"").unwrap();
        assert_eq!(free_name(p, "noext"), p.join("noext-1"));
        // A dangling symlink counts as taken.
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(p.join("nowhere"), p.join("x.mp4")).unwrap();
            assert_eq!(free_name(p, "x.mp4"), p.join("x-1.mp4"));
        }
    }
}
