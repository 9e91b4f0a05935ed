//! Watch folder: every media file dropped into a folder is processed once, and then moved out
//! of the way — to `done/` when it went through, to `failed/` (beside a `NAME.error.txt` that
//! gives the cause on one line) when it did not. An input is never deleted or overwritten:
//! a name already taken in `done/` or `failed/` gets a numbered suffix (`talk-1.mp4`).
//!
//! ```text
//! inbox/                          IN_DIR: drop files here (its top level; subfolders are not entered)
//!   .subcut-watch.journal         what happened to each file, JSON lines, fsync'd
//!   .subcut-watch.lock            one watcher per folder
//!   out/     talk.srt             outputs (--out), written atomically by the pipeline
//!   done/    talk.mp4             inputs that went through (--done)
//!   failed/  bad.mp4  bad.mp4.error.txt                    (--failed)
//! ```
//!
//! **When a file is taken.** The folder is watched with `notify` and, as a safety net for
//! missed events and network filesystems (where a change made by another machine raises no
//! event), rescanned every few seconds; `poll` replaces the notifications by rescans alone.
//! A file is a candidate when it is a regular file with a media extension
//! ([`crate::inputs::MEDIA_EXTENSIONS`]) whose name is not hidden (`.name`, which also covers
//! rsync's temporaries) nor a partial download (`.part`, `.crdownload`, `~` …: see
//! [`classify`]). It is processed once its size, modification time and inode stayed the
//! same for the settle time (an empty file waits at least [`EMPTY_SETTLE`], since copiers
//! often create the file before writing it). Files are taken one at a time, oldest first;
//! files dropped meanwhile are found by the next scan.
//!
//! **The journal.** For each file the watcher appends, and syncs to disk before going on:
//! `start` (before processing), `finish` (after the outputs and their directories are on
//! disk; with the error for a failure), `move` (the destination, before moving) and `moved`.
//! A move is a hard link followed by an unlink (a copy into a temporary file, then a
//! no-clobber rename, across filesystems), so no step can overwrite anything. On start-up the
//! journal is replayed, each file by its last record:
//! - `start`: the run was interrupted while processing it; temporary outputs left in the
//!   output folder since then are removed and the file is processed again (it is still in
//!   IN_DIR). After [`MAX_ATTEMPTS`] interrupted attempts the file goes to `failed/`, so a
//!   file that crashes the process cannot stall the folder.
//! - `finish` while the same file (size, mtime, inode) is still in IN_DIR: it is moved
//!   without being processed again.
//! - `move` while it is still there: the move is completed (or redone).
//! - `moved`, or a file no longer there, or a different file under that name: nothing to do;
//!   a new file of the same name is simply a new candidate.
//!
//! Then the journal is rewritten to what is still pending (only interrupted attempts), so it
//! stays small. A torn last line (a crash mid-append) is ignored.
//!
//! **Stopping.** [`run`] returns between two files once `stop` is set (the command sets it
//! on SIGINT/SIGTERM; a second signal exits at once, which the journal makes safe).
//!
//! [`run`] is the whole loop with the work as a parameter, so it is tested with a fake;
//! [`command`] is the `subcut watch` glue: it builds one caption job (preset under flags),
//! loads the engine once, and plugs in [`crate::pipeline::caption`] writing into the out dir.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::cli::WatchArgs;

/// The journal's file name inside IN_DIR.
pub const JOURNAL: &str = ".subcut-watch.journal";
/// The lock file's name inside IN_DIR (held while a watcher runs).
pub const LOCK: &str = ".subcut-watch.lock";
/// Prefix of the watcher's own temporary files (error files, copies, journal rewrite).
const OWN_TEMP: &str = ".subcut-watch-";
/// Prefix of [`crate::output::Staged`]'s temporary outputs.
const OUTPUT_TEMP: &str = ".subcut-";
/// Interrupted attempts (kill, crash, reboot mid-file) after which a file is failed.
pub const MAX_ATTEMPTS: u32 = 3;
/// Default settle time: how long a file must stay unchanged before it is taken.
pub const DEFAULT_SETTLE: Duration = Duration::from_secs(5);
/// Default interval of the safety-net rescan next to the notifications.
pub const DEFAULT_RESCAN: Duration = Duration::from_secs(5);
/// The shortest settle time of an empty file.
pub const EMPTY_SETTLE: Duration = Duration::from_secs(30);
/// Test-only: milliseconds `subcut watch` sleeps before processing each file, so that tests
/// can stop or kill it mid-file.
pub const TEST_DELAY_ENV: &str = "SUBCUT_WATCH_TEST_DELAY_MS";

/// Where the watcher reads, writes and moves, and how it waits.
#[derive(Clone, Debug)]
pub struct WatchOptions {
    pub in_dir: PathBuf,
    /// Where the outputs go (the watcher only cleans stale temporary outputs there).
    pub out_dir: PathBuf,
    pub done_dir: PathBuf,
    pub failed_dir: PathBuf,
    /// How long a file must stay unchanged before it is taken.
    pub settle: Duration,
    /// `Some(interval)`: no change notifications, rescan at this interval.
    pub poll: Option<Duration>,
    /// Safety-net rescan interval while notifications are used.
    pub rescan: Duration,
    /// Return once nothing is pending (the files present, and any that arrive meanwhile,
    /// are done) instead of watching on.
    pub once: bool,
    /// Print only errors.
    pub quiet: bool,
}

impl WatchOptions {
    /// The defaults for `in_dir`: `out/`, `done/` and `failed/` inside it.
    pub fn new(in_dir: impl Into<PathBuf>) -> WatchOptions {
        let in_dir = in_dir.into();
        WatchOptions {
            out_dir: in_dir.join("out"),
            done_dir: in_dir.join("done"),
            failed_dir: in_dir.join("failed"),
            in_dir,
            settle: DEFAULT_SETTLE,
            poll: None,
            rescan: DEFAULT_RESCAN,
            once: false,
            quiet: false,
        }
    }
}

/// One input the watcher is through with.
#[derive(Clone, Debug, PartialEq)]
pub struct Finished {
    /// Its name in IN_DIR.
    pub name: String,
    /// Where it is now (in the done or failed folder).
    pub moved_to: PathBuf,
    pub outputs: Vec<PathBuf>,
    /// The cause, for a failure.
    pub error: Option<String>,
}

/// What a [`run`] did.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub done: Vec<Finished>,
    pub failed: Vec<Finished>,
    /// Files found interrupted in the journal at start-up.
    pub recovered: usize,
    /// The run ended because `stop` was set.
    pub stopped: bool,
}

/// What a name in IN_DIR is to the watcher.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A media file: processed once complete.
    Media,
    /// `.name`: hidden files, our journal, rsync's temporaries.
    Hidden,
    /// A download or copy in progress, or an editor's backup (`.part`, `~` …).
    Partial,
    /// Anything else: left alone.
    NotMedia,
}

/// Extensions of files still being written by browsers, download managers and copiers.
const PARTIAL_EXTENSIONS: &[&str] = &[
    "part",
    "partial",
    "crdownload",
    "download",
    "opdownload",
    "filepart",
    "tmp",
    "temp",
    "!qb",
    "!ut",
    "swp",
    "lck",
];

/// Classifies a file name (see [`Kind`]).
pub fn classify(name: &str) -> Kind {
    if name.starts_with('.') {
        return Kind::Hidden;
    }
    let ext = Path::new(name)
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    if name.ends_with('~')
        || name.starts_with("~$")
        || (name.starts_with('#') && name.ends_with('#'))
        || ext
            .as_deref()
            .is_some_and(|e| PARTIAL_EXTENSIONS.contains(&e))
    {
        return Kind::Partial;
    }
    if crate::inputs::is_media_path(Path::new(name)) {
        Kind::Media
    } else {
        Kind::NotMedia
    }
}

/// The first free name for `name` in `dir`: `name`, then `STEM-1.EXT`, `STEM-2.EXT` …
pub fn free_name(dir: &Path, name: &str) -> PathBuf {
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

/// Which file a name stood for: a different file under the same name is a new input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct FileId {
    size: u64,
    mtime_ns: i64,
    ino: u64,
}

impl FileId {
    fn of(md: &fs::Metadata) -> FileId {
        let mtime_ns = md
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as i64);
        #[cfg(unix)]
        let ino = std::os::unix::fs::MetadataExt::ino(md);
        #[cfg(not(unix))]
        let ino = 0;
        FileId {
            size: md.len(),
            mtime_ns,
            ino,
        }
    }
}

/// One journal line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
enum Record {
    Start {
        name: String,
        id: FileId,
        /// Wall clock, ms since the epoch (temporary outputs newer than this are stale).
        at_ms: i64,
        attempt: u32,
    },
    Finish {
        name: String,
        id: FileId,
        ok: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        outputs: Vec<PathBuf>,
    },
    Move {
        name: String,
        id: FileId,
        to: PathBuf,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    Moved {
        name: String,
        to: PathBuf,
    },
}

impl Record {
    fn name(&self) -> &str {
        match self {
            Record::Start { name, .. }
            | Record::Finish { name, .. }
            | Record::Move { name, .. }
            | Record::Moved { name, .. } => name,
        }
    }
}

/// The append-only journal.
struct Journal {
    file: File,
}

impl Journal {
    /// Appends one record; `sync` makes it durable before returning.
    fn append(&mut self, r: &Record, sync: bool) -> Result<()> {
        let mut line = serde_json::to_string(r).expect("plain data");
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .and_then(|_| if sync { self.file.sync_data() } else { Ok(()) })
            .context("cannot write the watch journal")
    }
}

/// Reads the journal's records; returns them and the number of unreadable lines.
fn read_journal(path: &Path) -> Result<(Vec<Record>, usize)> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let mut records = Vec::new();
    let mut bad = 0;
    for line in io::BufReader::new(file).split(b'\n') {
        let line = line.with_context(|| format!("cannot read {}", path.display()))?;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Record>(&line) {
            Ok(r) => records.push(r),
            Err(_) => bad += 1,
        }
    }
    Ok((records, bad))
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Makes a directory's entries (renames, links, unlinks) durable. Best effort: some
/// filesystems cannot sync a directory.
fn sync_dir(dir: &Path) {
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

fn parent(p: &Path) -> &Path {
    p.parent().unwrap_or(Path::new("."))
}

/// A short tag naming IN_DIR in the watcher's temporary files, so that watchers of
/// different folders sharing a done/failed folder never clean each other's.
fn dir_tag(in_dir: &Path) -> String {
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
struct Lock {
    _file: File,
}

fn lock(in_dir: &Path) -> Result<Lock> {
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
fn move_no_clobber(src: &Path, dest: &Path, tag: &str) -> io::Result<()> {
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
fn write_error_file(dest: &Path, error: &str, tag: &str) -> Result<PathBuf> {
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
fn same_contents(a: &Path, b: &Path) -> bool {
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

/// A candidate seen in IN_DIR, unchanged since `since`.
struct Seen {
    id: FileId,
    since: Instant,
}

/// The running watcher's state.
struct Watcher<'a> {
    opts: &'a WatchOptions,
    journal: Journal,
    tag: String,
    /// Interrupted attempts so far, by name (for the same file).
    attempts: HashMap<String, (FileId, u32)>,
    /// Files that could not be moved out: left alone until they change or the next start.
    stuck: HashMap<String, FileId>,
    /// Names already reported as ignored.
    noted: HashSet<String>,
    summary: Summary,
}

impl Watcher<'_> {
    fn info(&self, msg: impl AsRef<str>) {
        if !self.opts.quiet {
            eprintln!("{}", msg.as_ref());
        }
    }

    fn src(&self, name: &str) -> PathBuf {
        self.opts.in_dir.join(name)
    }

    /// The identity of IN_DIR/`name` now, if it is a regular file.
    fn current(&self, name: &str) -> Option<FileId> {
        fs::symlink_metadata(self.src(name))
            .ok()
            .filter(|m| m.is_file())
            .map(|m| FileId::of(&m))
    }

    /// Media candidates in IN_DIR with their identity.
    fn scan(&mut self) -> io::Result<Vec<(String, FileId)>> {
        let mut found = Vec::new();
        for entry in fs::read_dir(&self.opts.in_dir)? {
            let entry = entry?;
            let Ok(name) = entry.file_name().into_string() else {
                let lossy = entry.file_name().to_string_lossy().into_owned();
                if self.noted.insert(lossy.clone()) {
                    self.info(format!(
                        "ignoring {lossy:?}: the name is not valid UTF-8 (rename it to have it processed)"
                    ));
                }
                continue;
            };
            match classify(&name) {
                Kind::Media => {}
                Kind::NotMedia => {
                    if self.noted.insert(name.clone())
                        && entry.file_type().is_ok_and(|t| t.is_file())
                    {
                        self.info(format!("ignoring {name}: not a media file"));
                    }
                    continue;
                }
                Kind::Hidden | Kind::Partial => continue,
            }
            let Ok(md) = fs::symlink_metadata(entry.path()) else {
                continue; // gone meanwhile
            };
            if md.is_file() {
                found.push((name, FileId::of(&md)));
            }
        }
        Ok(found)
    }

    /// Moves IN_DIR/`name` (the file `id`) to the done or failed folder, journalled, with the
    /// error file first for a failure. Returns where it went; `Ok(None)` if it vanished.
    fn move_out(&mut self, name: &str, id: FileId, error: Option<&str>) -> Result<Option<PathBuf>> {
        let dir = if error.is_some() {
            self.opts.failed_dir.clone()
        } else {
            self.opts.done_dir.clone()
        };
        let src = self.src(name);
        for _ in 0..1000 {
            let dest = free_name(&dir, name);
            if let Some(e) = error {
                write_error_file(&dest, e, &self.tag)?;
            }
            self.journal.append(
                &Record::Move {
                    name: name.into(),
                    id,
                    to: dest.clone(),
                    error: error.map(String::from),
                },
                true,
            )?;
            match move_no_clobber(&src, &dest, &self.tag) {
                Ok(()) => {
                    self.journal.append(
                        &Record::Moved {
                            name: name.into(),
                            to: dest.clone(),
                        },
                        false,
                    )?;
                    return Ok(Some(dest));
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue, // taken meanwhile
                Err(e) if e.kind() == io::ErrorKind::NotFound && !src.exists() => return Ok(None),
                Err(e) => {
                    return Err(e).with_context(|| {
                        format!("cannot move {} to {}", src.display(), dir.display())
                    })
                }
            }
        }
        bail!("cannot find a free name for {name} in {}", dir.display())
    }

    /// Moves a finished file out and records it in the summary; a failed move leaves the
    /// file where it is (reported, retried at the next start).
    fn settle_fate(
        &mut self,
        name: &str,
        id: FileId,
        outputs: Vec<PathBuf>,
        error: Option<String>,
    ) {
        match self.move_out(name, id, error.as_deref()) {
            Ok(Some(dest)) => {
                let f = Finished {
                    name: name.into(),
                    moved_to: dest.clone(),
                    outputs,
                    error: error.clone(),
                };
                match error {
                    None => {
                        self.info(format!("done: {name} → {}", dest.display()));
                        self.summary.done.push(f);
                    }
                    Some(e) => {
                        eprintln!(
                            "error: {e} (moved to {}; see its .error.txt)",
                            dest.display()
                        );
                        self.summary.failed.push(f);
                    }
                }
            }
            Ok(None) => self.info(format!(
                "{name}: removed from {} meanwhile",
                self.opts.in_dir.display()
            )),
            Err(e) => {
                eprintln!(
                    "error: {name}: {}; leaving it in place until the next start",
                    crate::commands::one_line(&e)
                );
                self.stuck.insert(name.into(), id);
            }
        }
    }

    /// Replays the journal: completes interrupted moves, notes interrupted attempts, removes
    /// stale temporary files, and rewrites the journal to what is still pending.
    fn recover(&mut self, records: Vec<Record>) -> Result<()> {
        let mut last: HashMap<String, Record> = HashMap::new();
        let mut order: Vec<String> = Vec::new();
        for r in records {
            if !last.contains_key(r.name()) {
                order.push(r.name().to_string());
            }
            last.insert(r.name().to_string(), r);
        }
        let mut interrupted_since: Option<i64> = None;
        let mut keep: Vec<Record> = Vec::new();
        for name in order {
            let here = self.current(&name);
            match last.remove(&name).expect("recorded") {
                Record::Start {
                    id, at_ms, attempt, ..
                } => {
                    interrupted_since = Some(interrupted_since.map_or(at_ms, |t| t.min(at_ms)));
                    if here == Some(id) {
                        self.summary.recovered += 1;
                        self.info(format!(
                            "{name}: interrupted while being processed (attempt {attempt}); it will be processed again"
                        ));
                        self.attempts.insert(name.clone(), (id, attempt));
                        keep.push(Record::Start {
                            name: name.clone(),
                            id,
                            at_ms,
                            attempt,
                        });
                    }
                }
                Record::Finish {
                    id,
                    ok,
                    error,
                    outputs,
                    ..
                } if here == Some(id) => {
                    self.summary.recovered += 1;
                    self.info(format!(
                        "{name}: finished before the interruption; moving it"
                    ));
                    let error = if ok {
                        None
                    } else {
                        Some(error.unwrap_or_else(|| format!("{name}: failed")))
                    };
                    self.settle_fate(&name, id, outputs, error);
                }
                Record::Move { id, to, error, .. } if here == Some(id) => {
                    self.summary.recovered += 1;
                    let src = self.src(&name);
                    if same_contents(&src, &to) {
                        // The file is in place; only the unlink was missing.
                        fs::remove_file(&src)
                            .with_context(|| format!("cannot remove {}", src.display()))?;
                        sync_dir(&self.opts.in_dir);
                        self.journal.append(
                            &Record::Moved {
                                name: name.clone(),
                                to: to.clone(),
                            },
                            false,
                        )?;
                        let f = Finished {
                            name: name.clone(),
                            moved_to: to.clone(),
                            outputs: Vec::new(),
                            error: error.clone(),
                        };
                        self.info(format!("{name}: completed its move to {}", to.display()));
                        if error.is_some() {
                            self.summary.failed.push(f)
                        } else {
                            self.summary.done.push(f)
                        }
                    } else {
                        self.settle_fate(&name, id, Vec::new(), error);
                    }
                }
                _ => {} // moved, gone, or replaced by a new file under the same name
            }
        }
        // Temporary files: our own (journal rewrite, error files, copies) always; the
        // pipeline's only when a file was interrupted, and only those made since.
        let own = format!("{OWN_TEMP}{}-", self.tag);
        let mut dirs = vec![
            &self.opts.in_dir,
            &self.opts.done_dir,
            &self.opts.failed_dir,
            &self.opts.out_dir,
        ];
        dirs.dedup();
        for dir in dirs {
            let Ok(entries) = fs::read_dir(dir) else {
                continue;
            };
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                let Ok(md) = e.metadata() else { continue };
                if !md.is_file() {
                    continue;
                }
                let stale_output = *dir == self.opts.out_dir
                    && name.starts_with(OUTPUT_TEMP)
                    && !name.starts_with(OWN_TEMP)
                    && interrupted_since.is_some_and(|since| {
                        md.modified()
                            .ok()
                            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                            .is_some_and(|t| t.as_millis() as i64 >= since - 2000)
                    });
                if name.starts_with(&own) || stale_output {
                    match fs::remove_file(e.path()) {
                        Ok(()) => self.info(format!(
                            "removed a stale temporary file {}",
                            e.path().display()
                        )),
                        Err(err) => {
                            eprintln!("warning: cannot remove {}: {err}", e.path().display())
                        }
                    }
                }
            }
            sync_dir(dir);
        }
        // The journal now only needs what is still pending.
        let path = self.opts.in_dir.join(JOURNAL);
        let mut tmp = tempfile::Builder::new()
            .prefix(&own)
            .suffix(".tmp")
            .tempfile_in(&self.opts.in_dir)
            .with_context(|| format!("cannot write to {}", self.opts.in_dir.display()))?;
        for r in &keep {
            let line = serde_json::to_string(r).expect("plain data") + "\n";
            tmp.write_all(line.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        tmp.as_file()
            .sync_all()
            .with_context(|| format!("cannot write {}", path.display()))?;
        tmp.persist(&path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        sync_dir(&self.opts.in_dir);
        self.journal = Journal {
            file: open_journal(&path)?,
        };
        Ok(())
    }

    /// Processes one settled file and moves it out.
    fn take(
        &mut self,
        name: &str,
        id: FileId,
        process: &mut dyn FnMut(&Path) -> Result<Vec<PathBuf>>,
    ) -> Result<()> {
        let attempt = match self.attempts.get(name) {
            Some((i, n)) if *i == id => n + 1,
            _ => 1,
        };
        let result: Result<Vec<PathBuf>> = if attempt > MAX_ATTEMPTS {
            Err(anyhow::anyhow!(
                "{}: processing was interrupted {} times (the process was killed or crashed); not trying again",
                self.src(name).display(),
                attempt - 1
            ))
        } else {
            self.journal.append(
                &Record::Start {
                    name: name.into(),
                    id,
                    at_ms: now_ms(),
                    attempt,
                },
                true,
            )?;
            self.attempts.insert(name.into(), (id, attempt));
            self.info(format!("processing {name}"));
            let src = self.src(name);
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| process(&src))) {
                Ok(r) => r,
                Err(p) => {
                    let msg = p
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| p.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "unknown cause".into());
                    Err(anyhow::anyhow!(
                        "{}: internal error (panic: {msg})",
                        src.display()
                    ))
                }
            }
        };
        let (outputs, error) = match result {
            Ok(outputs) => {
                // Outputs durable before the journal says so.
                let mut dirs = HashSet::new();
                for o in &outputs {
                    if let Ok(f) = File::open(o) {
                        let _ = f.sync_all();
                    }
                    dirs.insert(parent(o).to_path_buf());
                }
                dirs.iter().for_each(|d| sync_dir(d));
                (outputs, None)
            }
            Err(e) => (Vec::new(), Some(crate::commands::one_line(&e))),
        };
        self.journal.append(
            &Record::Finish {
                name: name.into(),
                id,
                ok: error.is_none(),
                error: error.clone(),
                outputs: outputs.clone(),
            },
            true,
        )?;
        self.attempts.remove(name);
        self.settle_fate(name, id, outputs, error);
        Ok(())
    }
}

fn open_journal(path: &Path) -> Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open the watch journal {}", path.display()))
}

/// Checks the folders and creates the missing ones.
fn prepare_dirs(opts: &WatchOptions) -> Result<()> {
    if !opts.in_dir.is_dir() {
        bail!("{}: not a directory", opts.in_dir.display());
    }
    let canon_in = opts
        .in_dir
        .canonicalize()
        .with_context(|| format!("cannot read {}", opts.in_dir.display()))?;
    let dirs = [
        ("--out", &opts.out_dir),
        ("--done", &opts.done_dir),
        ("--failed", &opts.failed_dir),
    ];
    for (what, dir) in dirs {
        if dir.canonicalize().is_ok_and(|c| c == canon_in) {
            bail!(
                "{what} {} is the watched folder itself; use a folder inside or beside it",
                dir.display()
            );
        }
    }
    for (_, dir) in dirs {
        crate::output::ensure_dir(dir)?;
    }
    Ok(())
}

/// Watches `opts.in_dir` and runs `process` on every complete media file in it, one at a
/// time, until `stop` is set (or, with `opts.once`, until nothing is pending). `process`
/// gets the file's path in IN_DIR and returns the outputs it wrote (atomically); its error
/// becomes the file's `.error.txt`. Errors returned here are the watcher's own (folders,
/// journal, lock), not a file's.
pub fn run(
    opts: &WatchOptions,
    process: &mut dyn FnMut(&Path) -> Result<Vec<PathBuf>>,
    stop: &AtomicBool,
) -> Result<Summary> {
    prepare_dirs(opts)?;
    let _lock = lock(&opts.in_dir)?;
    let journal_path = opts.in_dir.join(JOURNAL);
    let (records, torn) = read_journal(&journal_path)?;
    let mut w = Watcher {
        opts,
        journal: Journal {
            file: open_journal(&journal_path)?,
        },
        tag: dir_tag(&opts.in_dir),
        attempts: HashMap::new(),
        stuck: HashMap::new(),
        noted: HashSet::new(),
        summary: Summary::default(),
    };
    if torn > 0 {
        w.info(format!(
            "ignored {torn} unreadable journal line(s) (a write cut short)"
        ));
    }
    w.recover(records)?;

    let (tx, rx) = mpsc::channel::<()>();
    let _notify = match opts.poll {
        Some(_) => None,
        None => match watch_events(&opts.in_dir, tx.clone()) {
            Ok(n) => Some(n),
            Err(e) => {
                eprintln!(
                    "warning: cannot watch {} for changes ({e}); rescanning it every {} s instead",
                    opts.in_dir.display(),
                    opts.rescan.as_secs_f64()
                );
                None
            }
        },
    };
    let rescan = opts
        .poll
        .unwrap_or(opts.rescan)
        .max(Duration::from_millis(10));
    let tick = (opts.settle / 4).clamp(Duration::from_millis(20), Duration::from_millis(250));
    w.info(format!(
        "watching {} (outputs → {}, inputs → {} or {}){}",
        opts.in_dir.display(),
        opts.out_dir.display(),
        opts.done_dir.display(),
        opts.failed_dir.display(),
        if opts.once { "" } else { "; stop with Ctrl-C" }
    ));

    let mut seen: HashMap<String, Seen> = HashMap::new();
    let mut last_scan: Option<Instant> = None;
    let mut dirty = true;
    let mut scan_failing = false;
    loop {
        if stop.load(Ordering::SeqCst) {
            w.summary.stopped = true;
            break;
        }
        if dirty || !seen.is_empty() || last_scan.is_none_or(|t| t.elapsed() >= rescan) {
            dirty = false;
            last_scan = Some(Instant::now());
            match w.scan() {
                Ok(found) => {
                    if scan_failing {
                        w.info(format!("{} is readable again", opts.in_dir.display()));
                        scan_failing = false;
                    }
                    let now = Instant::now();
                    w.stuck
                        .retain(|n, id| found.iter().any(|(m, i)| m == n && i == id));
                    let mut next = HashMap::new();
                    for (name, id) in found {
                        if w.stuck.get(&name) == Some(&id) {
                            continue;
                        }
                        let since = match seen.remove(&name) {
                            Some(s) if s.id == id => s.since,
                            _ => now,
                        };
                        next.insert(name, Seen { id, since });
                    }
                    seen = next;
                }
                Err(e) => {
                    if !scan_failing {
                        eprintln!(
                            "warning: cannot read {}: {e}; trying again",
                            opts.in_dir.display()
                        );
                        scan_failing = true;
                    }
                }
            }
        }
        let ready = seen
            .iter()
            .filter(|(_, s)| {
                let need = if s.id.size == 0 {
                    opts.settle.max(EMPTY_SETTLE)
                } else {
                    opts.settle
                };
                s.since.elapsed() >= need
            })
            .min_by(|a, b| (a.1.since, a.0).cmp(&(b.1.since, b.0)))
            .map(|(n, s)| (n.clone(), s.id));
        if let Some((name, id)) = ready {
            seen.remove(&name);
            // A last look: still the same file?
            match w.current(&name) {
                Some(now) if now == id => w.take(&name, id, process)?,
                Some(now) => {
                    seen.insert(
                        name,
                        Seen {
                            id: now,
                            since: Instant::now(),
                        },
                    );
                }
                None => {}
            }
            dirty = true;
            continue;
        }
        if opts.once && seen.is_empty() && !scan_failing {
            break;
        }
        let wait = if seen.is_empty() {
            Duration::from_millis(250).min(rescan)
        } else {
            tick
        };
        if rx.recv_timeout(wait).is_ok() {
            dirty = true;
            while rx.try_recv().is_ok() {}
        }
    }
    drop(tx);
    Ok(w.summary)
}

/// Change notifications for `dir` (its top level): each event only wakes the loop, which
/// then rescans the folder.
fn watch_events(dir: &Path, tx: mpsc::Sender<()>) -> notify::Result<notify::RecommendedWatcher> {
    use notify::Watcher as _;
    let mut w = notify::recommended_watcher(move |_event: notify::Result<notify::Event>| {
        let _ = tx.send(());
    })?;
    w.watch(dir, notify::RecursiveMode::NonRecursive)?;
    Ok(w)
}

/// Seconds from the command line as a duration (finite, not negative).
fn seconds(flag: &str, s: f64) -> Result<Duration> {
    Duration::try_from_secs_f64(s)
        .map_err(|_| anyhow::anyhow!("{flag} {s}: expected a number of seconds ≥ 0"))
}

/// `subcut watch`: resolves the flags, loads the engine once, and captions every file that
/// arrives, until SIGINT/SIGTERM (exit code 0) or, with `--once`, until the folder is done
/// (exit code 1 if any file failed).
pub fn command(args: &WatchArgs, quiet: bool) -> Result<i32> {
    if let Some(extra) = args.caption.inputs.first() {
        bail!(
            "watch takes one folder; unexpected argument {} (drop files into {} instead)",
            extra.display(),
            args.in_dir.display()
        );
    }
    let c = &args.caption;
    for (set, flag) in [
        (c.report.is_some(), "--report"),
        (c.skip_existing, "--skip-existing"),
        (c.shard.is_some() || c.shards.is_some(), "--shard/--shards"),
        (c.json, "--json"),
        (c.jobs.is_some_and(|j| j != 1), "--jobs"),
    ] {
        if set {
            bail!("watch does not take {flag}: it processes one file at a time as files arrive");
        }
    }
    if !args.in_dir.is_dir() {
        bail!(
            "{}: not a directory (the folder to watch)",
            args.in_dir.display()
        );
    }
    let mut opts = WatchOptions::new(&args.in_dir);
    if let Some(o) = &c.out_dir {
        opts.out_dir = o.clone();
    }
    if let Some(d) = &args.done {
        opts.done_dir = d.clone();
    }
    if let Some(d) = &args.failed {
        opts.failed_dir = d.clone();
    }
    opts.settle = seconds("--settle", args.settle)?;
    opts.poll = match args.poll {
        Some(p) if p > 0.0 => Some(seconds("--poll", p)?),
        Some(p) => bail!("--poll {p}: expected a number of seconds > 0"),
        None => None,
    };
    opts.once = args.once;
    opts.quiet = quiet;

    // Before loading a model: folder mistakes show at once.
    prepare_dirs(&opts)?;
    // The job: the preset (`--preset`, else `default`) under the caption flags, one
    // CaptionJob, the engine loaded once for every file.
    let mut preset = crate::commands::effective_preset(c, None)?;
    // Without --preset the watcher captions; with one it runs the whole job the preset
    // describes, cutting too when its mode is `cut` (with or without captions).
    let cutting = c.preset.is_some() && preset.mode == crate::preset::Mode::Cut;
    if !cutting {
        preset.captions = true;
    }
    let (prepared, _) = crate::commands::prepare(c, &preset, None, 1)?;
    let crate::commands::Prepared {
        mut job, engine, ..
    } = prepared;
    job.out_dir = Some(opts.out_dir.clone());

    let delay = std::env::var(TEST_DELAY_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_millis);
    let stop = Arc::new(AtomicBool::new(false));
    #[cfg(unix)]
    for (sig, code) in [
        (signal_hook::consts::SIGINT, 130),
        (signal_hook::consts::SIGTERM, 143),
    ] {
        // The first signal asks to stop after the current file; a second one exits at once.
        signal_hook::flag::register_conditional_shutdown(sig, code, Arc::clone(&stop))
            .and_then(|_| signal_hook::flag::register(sig, Arc::clone(&stop)))
            .context("cannot install the signal handlers")?;
    }
    let cut_job = cutting.then(|| {
        crate::pipeline::CutJob::from_preset(
            &preset,
            preset
                .timeline
                .then_some(crate::pipeline::TimelineOut::Beside),
            false,
        )
    });
    let mut process = |input: &Path| -> Result<Vec<PathBuf>> {
        if let Some(d) = delay {
            std::thread::sleep(d);
        }
        let o = match &cut_job {
            Some(cj) => crate::pipeline::cut(input, &job, cj, engine.as_ref(), &mut |_| {})?,
            None => crate::pipeline::caption(input, &job, engine.as_ref(), &mut |_| {})?,
        };
        let mut out = io::stdout().lock();
        for p in &o.outputs {
            let _ = writeln!(out, "{}", p.display());
        }
        let _ = out.flush();
        Ok(o.outputs)
    };
    let summary = run(&opts, &mut process, &stop)?;
    if !opts.quiet {
        let how = if summary.stopped { "stopped: " } else { "" };
        eprintln!(
            "{how}{} done, {} failed",
            summary.done.len(),
            summary.failed.len()
        );
    }
    if summary.stopped {
        return Ok(crate::commands::EXIT_OK);
    }
    Ok(if summary.failed.is_empty() {
        crate::commands::EXIT_OK
    } else {
        crate::commands::EXIT_FAILED
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// A watched folder in a temporary directory, polled fast, returning when idle.
    fn setup() -> (tempfile::TempDir, WatchOptions) {
        let d = tempfile::tempdir().unwrap();
        let in_dir = d.path().join("in");
        fs::create_dir(&in_dir).unwrap();
        let mut o = WatchOptions::new(&in_dir);
        o.settle = Duration::from_millis(60);
        o.poll = Some(Duration::from_millis(20));
        o.once = true;
        o.quiet = true;
        (d, o)
    }

    /// A fake `process`: records each call (name, size), writes `out/STEM.srt`; fails on
    /// files that start with "bad", panics on "panic".
    struct Fake {
        calls: RefCell<Vec<(String, u64)>>,
        out: PathBuf,
    }

    impl Fake {
        fn new(o: &WatchOptions) -> Fake {
            Fake {
                calls: RefCell::new(Vec::new()),
                out: o.out_dir.clone(),
            }
        }
        fn process(&self, p: &Path) -> Result<Vec<PathBuf>> {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let bytes = fs::read(p)?;
            self.calls.borrow_mut().push((name, bytes.len() as u64));
            if bytes.starts_with(b"bad") {
                bail!("{}: not a media file FFmpeg can read", p.display());
            }
            if bytes.starts_with(b"panic") {
                panic!("boom");
            }
            let out = crate::output::output_path(p, Some(&self.out), "srt");
            fs::write(&out, b"1\n00:00:00,000 --> 00:00:01,000\nHi\n")?;
            Ok(vec![out])
        }
        fn names(&self) -> Vec<String> {
            self.calls.borrow().iter().map(|c| c.0.clone()).collect()
        }
    }

    fn run_with(o: &WatchOptions, fake: &Fake) -> Summary {
        run(o, &mut |p| fake.process(p), &AtomicBool::new(false)).unwrap()
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .map(|r| {
                r.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    fn id_of(p: &Path) -> FileId {
        FileId::of(&fs::symlink_metadata(p).unwrap())
    }

    fn write_journal(o: &WatchOptions, records: &[Record]) {
        fs::create_dir_all(&o.out_dir).unwrap();
        let mut s = String::new();
        for r in records {
            s += &serde_json::to_string(r).unwrap();
            s.push('\n');
        }
        fs::write(o.in_dir.join(JOURNAL), s).unwrap();
    }

    #[test]
    fn names_that_are_partial_hidden_or_not_media_are_left_alone() {
        for n in ["talk.mp4", "my talk 第1集.MOV", "a.b.wav", "voice.mp3"] {
            assert_eq!(classify(n), Kind::Media, "{n}");
        }
        for n in [".talk.mp4", ".talk.mp4.Xy12Ab", ".subcut-watch.journal"] {
            assert_eq!(classify(n), Kind::Hidden, "{n}");
        }
        for n in [
            "talk.mp4.part",
            "talk.mp4.crdownload",
            "talk.mp4~",
            "~$talk.mp4",
            "talk.mp4.tmp",
            "talk.mp4.filepart",
            "talk.mp4.!qB",
            "#talk.mp4#",
        ] {
            assert_eq!(classify(n), Kind::Partial, "{n}");
        }
        for n in ["notes.txt", "talk.srt", "talk", "talk.mp4.error.txt"] {
            assert_eq!(classify(n), Kind::NotMedia, "{n}");
        }
    }

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

    #[test]
    fn a_file_growing_in_chunks_is_taken_once_when_complete() {
        let (_d, mut o) = setup();
        o.settle = Duration::from_millis(700);
        let path = o.in_dir.join("slow.mp4");
        let mut f = File::create(&path).unwrap();
        f.write_all(&[7u8; 1000]).unwrap();
        let writer = std::thread::spawn(move || {
            for _ in 0..3 {
                std::thread::sleep(Duration::from_millis(100));
                f.write_all(&[7u8; 1000]).unwrap();
            }
        });
        let fake = Fake::new(&o);
        let t0 = Instant::now();
        let s = run_with(&o, &fake);
        writer.join().unwrap();
        assert_eq!(*fake.calls.borrow(), [("slow.mp4".to_string(), 4000)]);
        assert!(
            t0.elapsed() >= Duration::from_millis(950),
            "{:?}",
            t0.elapsed()
        );
        assert_eq!(s.done.len(), 1);
        assert_eq!(names(&o.done_dir), ["slow.mp4"]);
        assert_eq!(fs::read(o.done_dir.join("slow.mp4")).unwrap().len(), 4000);
    }

    #[test]
    fn good_files_go_to_done_and_bad_ones_to_failed_with_the_cause() {
        let (_d, o) = setup();
        fs::create_dir_all(&o.done_dir).unwrap();
        fs::write(o.done_dir.join("a.mp4"), b"an earlier a").unwrap();
        fs::write(o.in_dir.join("a.mp4"), b"good a").unwrap();
        fs::write(o.in_dir.join("b 第2集.mp4"), b"good b").unwrap();
        fs::write(o.in_dir.join("bad.mp4"), b"bad media").unwrap();
        fs::write(o.in_dir.join("crash.mp4"), b"panic please").unwrap();
        for n in ["notes.txt", ".hidden.mp4", "c.mp4.part", "d.mp4~"] {
            fs::write(o.in_dir.join(n), b"leave me").unwrap();
        }
        let fake = Fake::new(&o);
        let s = run_with(&o, &fake);
        let mut called = fake.names();
        called.sort();
        assert_eq!(called, ["a.mp4", "b 第2集.mp4", "bad.mp4", "crash.mp4"]);
        assert_eq!((s.done.len(), s.failed.len()), (2, 2));
        // Never over an earlier file of the same name.
        assert_eq!(names(&o.done_dir), ["a-1.mp4", "a.mp4", "b 第2集.mp4"]);
        assert_eq!(fs::read(o.done_dir.join("a.mp4")).unwrap(), b"an earlier a");
        assert_eq!(fs::read(o.done_dir.join("a-1.mp4")).unwrap(), b"good a");
        assert_eq!(
            names(&o.failed_dir),
            [
                "bad.mp4",
                "bad.mp4.error.txt",
                "crash.mp4",
                "crash.mp4.error.txt"
            ]
        );
        let err = fs::read_to_string(o.failed_dir.join("bad.mp4.error.txt")).unwrap();
        assert!(
            err.ends_with("bad.mp4: not a media file FFmpeg can read\n"),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1);
        let err = fs::read_to_string(o.failed_dir.join("crash.mp4.error.txt")).unwrap();
        assert!(err.contains("internal error (panic: boom)"), "{err}");
        assert_eq!(names(&o.out_dir), ["a.srt", "b 第2集.srt"]);
        let left = names(&o.in_dir);
        for n in ["notes.txt", ".hidden.mp4", "c.mp4.part", "d.mp4~"] {
            assert!(left.contains(&n.to_string()), "{n} left alone: {left:?}");
        }
    }

    #[test]
    fn an_interrupted_file_is_redone_and_its_stale_temporary_outputs_removed() {
        let (_d, o) = setup();
        let x = o.in_dir.join("x.mp4");
        fs::write(&x, b"good x").unwrap();
        write_journal(
            &o,
            &[Record::Start {
                name: "x.mp4".into(),
                id: id_of(&x),
                at_ms: now_ms() - 1000,
                attempt: 1,
            }],
        );
        // A temporary output of the interrupted attempt, an old one that is not ours, and
        // the watcher's own leftover error file.
        fs::write(o.out_dir.join(".subcut-Ab12Cd.tmp"), b"half").unwrap();
        let old = o.out_dir.join(".subcut-Old123.tmp");
        fs::write(&old, b"someone else's").unwrap();
        File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(SystemTime::now() - Duration::from_secs(3600))
            .unwrap();
        fs::create_dir_all(&o.failed_dir).unwrap();
        let own = o
            .failed_dir
            .join(format!("{OWN_TEMP}{}-Zz9.tmp", dir_tag(&o.in_dir)));
        fs::write(&own, b"error text").unwrap();

        let fake = Fake::new(&o);
        let s = run_with(&o, &fake);
        assert_eq!(fake.names(), ["x.mp4"]);
        assert_eq!(s.recovered, 1);
        assert_eq!(names(&o.done_dir), ["x.mp4"]);
        assert_eq!(names(&o.out_dir), [".subcut-Old123.tmp", "x.srt"]);
        assert!(!own.exists());
    }

    #[test]
    fn a_file_finished_but_not_moved_is_moved_without_processing_again() {
        let (_d, o) = setup();
        let (x, y) = (o.in_dir.join("x.mp4"), o.in_dir.join("y.mp4"));
        fs::write(&x, b"good x").unwrap();
        fs::write(&y, b"bad y").unwrap();
        let start = |n: &str, p: &Path| Record::Start {
            name: n.into(),
            id: id_of(p),
            at_ms: now_ms(),
            attempt: 1,
        };
        write_journal(
            &o,
            &[
                start("x.mp4", &x),
                start("y.mp4", &y),
                Record::Finish {
                    name: "x.mp4".into(),
                    id: id_of(&x),
                    ok: true,
                    error: None,
                    outputs: vec![o.out_dir.join("x.srt")],
                },
                Record::Finish {
                    name: "y.mp4".into(),
                    id: id_of(&y),
                    ok: false,
                    error: Some("y.mp4: boom".into()),
                    outputs: vec![],
                },
            ],
        );
        let fake = Fake::new(&o);
        let s = run_with(&o, &fake);
        assert!(fake.names().is_empty(), "{:?}", fake.names());
        assert_eq!((s.done.len(), s.failed.len(), s.recovered), (1, 1, 2));
        assert_eq!(names(&o.done_dir), ["x.mp4"]);
        assert_eq!(names(&o.failed_dir), ["y.mp4", "y.mp4.error.txt"]);
        assert_eq!(
            fs::read_to_string(o.failed_dir.join("y.mp4.error.txt")).unwrap(),
            "y.mp4: boom\n"
        );
        // The journal was compacted: nothing from before is left.
        let journal = fs::read_to_string(o.in_dir.join(JOURNAL)).unwrap();
        assert!(!journal.contains("\"start\""), "{journal}");
    }

    #[test]
    fn a_move_cut_short_is_completed_not_duplicated() {
        let (_d, o) = setup();
        let x = o.in_dir.join("x.mp4");
        fs::write(&x, b"good x").unwrap();
        fs::create_dir_all(&o.done_dir).unwrap();
        let to = o.done_dir.join("x.mp4");
        fs::hard_link(&x, &to).unwrap(); // linked, not yet unlinked
        let id = id_of(&x);
        write_journal(
            &o,
            &[
                Record::Finish {
                    name: "x.mp4".into(),
                    id,
                    ok: true,
                    error: None,
                    outputs: vec![],
                },
                Record::Move {
                    name: "x.mp4".into(),
                    id,
                    to: to.clone(),
                    error: None,
                },
            ],
        );
        let fake = Fake::new(&o);
        let s = run_with(&o, &fake);
        assert!(fake.names().is_empty());
        assert_eq!(s.done.len(), 1);
        assert_eq!(names(&o.done_dir), ["x.mp4"]);
        assert!(!x.exists());
    }

    #[test]
    fn a_new_file_under_a_finished_name_is_processed() {
        let (_d, o) = setup();
        let x = o.in_dir.join("x.mp4");
        fs::write(&x, b"old x").unwrap();
        let old = id_of(&x);
        fs::remove_file(&x).unwrap();
        fs::write(&x, b"a new, longer x").unwrap();
        let to = o.done_dir.join("x.mp4");
        write_journal(
            &o,
            &[
                Record::Finish {
                    name: "x.mp4".into(),
                    id: old,
                    ok: true,
                    error: None,
                    outputs: vec![],
                },
                Record::Move {
                    name: "x.mp4".into(),
                    id: old,
                    to: to.clone(),
                    error: None,
                },
                Record::Moved {
                    name: "x.mp4".into(),
                    to,
                },
            ],
        );
        let fake = Fake::new(&o);
        run_with(&o, &fake);
        assert_eq!(fake.names(), ["x.mp4"]);
        assert_eq!(names(&o.done_dir), ["x.mp4"]);
    }

    #[test]
    fn a_file_interrupted_too_often_is_failed_not_retried() {
        let (_d, o) = setup();
        let x = o.in_dir.join("x.mp4");
        fs::write(&x, b"good x").unwrap();
        write_journal(
            &o,
            &[Record::Start {
                name: "x.mp4".into(),
                id: id_of(&x),
                at_ms: now_ms(),
                attempt: MAX_ATTEMPTS,
            }],
        );
        let fake = Fake::new(&o);
        run_with(&o, &fake);
        assert!(fake.names().is_empty());
        let err = fs::read_to_string(o.failed_dir.join("x.mp4.error.txt")).unwrap();
        assert!(err.contains("interrupted 3 times"), "{err}");
    }

    #[test]
    fn a_torn_journal_line_is_ignored() {
        let (_d, o) = setup();
        let x = o.in_dir.join("x.mp4");
        fs::write(&x, b"good x").unwrap();
        write_journal(
            &o,
            &[Record::Finish {
                name: "x.mp4".into(),
                id: id_of(&x),
                ok: true,
                error: None,
                outputs: vec![],
            }],
        );
        let mut j = OpenOptions::new()
            .append(true)
            .open(o.in_dir.join(JOURNAL))
            .unwrap();
        j.write_all(br#"{"op":"start","name":"x.m"#).unwrap();
        let fake = Fake::new(&o);
        run_with(&o, &fake);
        assert!(fake.names().is_empty());
        assert_eq!(names(&o.done_dir), ["x.mp4"]);
    }

    #[test]
    fn stop_returns_between_files() {
        let (_d, mut o) = setup();
        o.once = false;
        for n in ["a.mp4", "b.mp4", "c.mp4"] {
            fs::write(o.in_dir.join(n), b"good").unwrap();
        }
        let fake = Fake::new(&o);
        let stop = AtomicBool::new(false);
        let s = run(
            &o,
            &mut |p| {
                stop.store(true, Ordering::SeqCst);
                fake.process(p)
            },
            &stop,
        )
        .unwrap();
        assert!(s.stopped);
        assert_eq!(fake.names(), ["a.mp4"], "oldest first, then by name");
        assert_eq!(names(&o.done_dir), ["a.mp4"]);
        assert!(o.in_dir.join("b.mp4").exists() && o.in_dir.join("c.mp4").exists());
    }

    #[test]
    fn one_watcher_per_folder_and_no_output_into_the_watched_folder() {
        let (_d, o) = setup();
        let _held = lock(&o.in_dir).unwrap();
        let fake = Fake::new(&o);
        let e = run(&o, &mut |p| fake.process(p), &AtomicBool::new(false)).unwrap_err();
        assert!(format!("{e:#}").contains("already watching"), "{e:#}");
        drop(_held);
        let mut bad = o.clone();
        bad.done_dir = o.in_dir.join(".");
        let e = run(&bad, &mut |p| fake.process(p), &AtomicBool::new(false)).unwrap_err();
        assert!(format!("{e:#}").contains("--done"), "{e:#}");
    }

    #[test]
    fn notifications_wake_the_watcher() {
        // No polling: the rescan is slow, so only an event can bring the file in quickly.
        let (_d, mut o) = setup();
        o.poll = None;
        o.rescan = Duration::from_secs(30);
        o.once = false;
        let fake = Fake::new(&o);
        let stop = AtomicBool::new(false);
        let in_dir = o.in_dir.clone();
        let s = std::thread::scope(|sc| {
            sc.spawn(|| {
                std::thread::sleep(Duration::from_millis(300));
                fs::write(in_dir.join("late.mp4"), b"good").unwrap();
            });
            run(
                &o,
                &mut |p| {
                    stop.store(true, Ordering::SeqCst);
                    fake.process(p)
                },
                &stop,
            )
        })
        .unwrap();
        assert_eq!(s.done.len(), 1);
    }
}
