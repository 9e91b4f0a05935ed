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
//! **What is done to a file** is the caller's: [`run`] is the whole loop with the work as a
//! parameter, so it is tested with a fake. The `subcut watch` glue (`commands/watch.rs`)
//! builds one job from the preset under the flags and loads the engine once: each file is
//! captioned ([`crate::pipeline::caption`]) or, with a `--preset` whose mode is `cut`, cut
//! ([`crate::pipeline::cut`]), writing into the out dir.
//!
//! - `journal`: the records and their file.
//! - `fs`: the lock, moves that never overwrite, error files, free names, directory syncs.
//! - `recover`: the start-up replay of the journal.

mod fs;
mod journal;
mod recover;

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::error::one_line;
use fs::{dir_tag, free_name, lock, move_no_clobber, parent, sync_dir, write_error_file};
use journal::{now_ms, read_journal, FileId, Journal, Record};

/// The journal's file name inside IN_DIR.
pub(crate) const JOURNAL: &str = ".subcut-watch.journal";
/// The lock file's name inside IN_DIR (held while a watcher runs).
pub(crate) const LOCK: &str = ".subcut-watch.lock";
/// Prefix of the watcher's own temporary files (error files, copies, journal rewrite).
const OWN_TEMP: &str = ".subcut-watch-";
/// Prefix of [`crate::output::Staged`]'s temporary outputs.
const OUTPUT_TEMP: &str = ".subcut-";
/// Interrupted attempts (kill, crash, reboot mid-file) after which a file is failed.
pub(crate) const MAX_ATTEMPTS: u32 = 3;
/// Default settle time: how long a file must stay unchanged before it is taken.
pub(crate) const DEFAULT_SETTLE: Duration = Duration::from_secs(5);
/// Default interval of the safety-net rescan next to the notifications.
pub(crate) const DEFAULT_RESCAN: Duration = Duration::from_secs(5);
/// The shortest settle time of an empty file.
pub(crate) const EMPTY_SETTLE: Duration = Duration::from_secs(30);

/// Where the watcher reads, writes and moves, and how it waits.
#[derive(Clone, Debug)]
pub(crate) struct WatchOptions {
    pub(crate) in_dir: PathBuf,
    /// Where the outputs go (the watcher only cleans stale temporary outputs there).
    pub(crate) out_dir: PathBuf,
    pub(crate) done_dir: PathBuf,
    pub(crate) failed_dir: PathBuf,
    /// How long a file must stay unchanged before it is taken.
    pub(crate) settle: Duration,
    /// `Some(interval)`: no change notifications, rescan at this interval.
    pub(crate) poll: Option<Duration>,
    /// Safety-net rescan interval while notifications are used.
    pub(crate) rescan: Duration,
    /// Return once nothing is pending (the files present, and any that arrive meanwhile,
    /// are done) instead of watching on.
    pub(crate) once: bool,
    /// Print only errors.
    pub(crate) quiet: bool,
}

impl WatchOptions {
    /// The defaults for `in_dir`: `out/`, `done/` and `failed/` inside it.
    pub(crate) fn new(in_dir: impl Into<PathBuf>) -> WatchOptions {
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
pub(crate) struct Finished {
    /// Its name in IN_DIR.
    pub(crate) name: String,
    /// Where it is now (in the done or failed folder).
    pub(crate) moved_to: PathBuf,
    pub(crate) outputs: Vec<PathBuf>,
    /// The cause, for a failure.
    pub(crate) error: Option<String>,
}

/// What a [`run`] did.
#[derive(Clone, Debug, Default)]
pub(crate) struct Summary {
    pub(crate) done: Vec<Finished>,
    pub(crate) failed: Vec<Finished>,
    /// Files found interrupted in the journal at start-up.
    pub(crate) recovered: usize,
    /// The run ended because `stop` was set.
    pub(crate) stopped: bool,
}

/// What a name in IN_DIR is to the watcher.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
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
pub(crate) fn classify(name: &str) -> Kind {
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
        std::fs::symlink_metadata(self.src(name))
            .ok()
            .filter(|m| m.is_file())
            .map(|m| FileId::of(&m))
    }

    /// Media candidates in IN_DIR with their identity.
    fn scan(&mut self) -> io::Result<Vec<(String, FileId)>> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(&self.opts.in_dir)? {
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
            let Ok(md) = std::fs::symlink_metadata(entry.path()) else {
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
                    one_line(&e)
                );
                self.stuck.insert(name.into(), id);
            }
        }
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
            Err(e) => (Vec::new(), Some(one_line(&e))),
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

/// Checks the folders and creates the missing ones.
pub(crate) fn prepare_dirs(opts: &WatchOptions) -> Result<()> {
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
pub(crate) fn run(
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
        journal: Journal::open(&journal_path)?,
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

#[cfg(test)]
mod tests;
