//! The journal (`IN_DIR/.subcut-watch.journal`): one JSON record per line, appended and
//! synced before the watcher goes on, so that a restarted watcher knows what happened to
//! each file (see the [module doc](super)).

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// Which file a name stood for: a different file under the same name is a new input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct FileId {
    pub(super) size: u64,
    mtime_ns: i64,
    ino: u64,
}

impl FileId {
    pub(super) fn of(md: &fs::Metadata) -> FileId {
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
pub(super) enum Record {
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
    pub(super) fn name(&self) -> &str {
        match self {
            Record::Start { name, .. }
            | Record::Finish { name, .. }
            | Record::Move { name, .. }
            | Record::Moved { name, .. } => name,
        }
    }
}

/// The append-only journal.
pub(super) struct Journal {
    file: File,
}

impl Journal {
    /// Opens the journal at `path` for appending (created if missing).
    pub(super) fn open(path: &Path) -> Result<Journal> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("cannot open the watch journal {}", path.display()))?;
        Ok(Journal { file })
    }

    /// Appends one record; `sync` makes it durable before returning.
    pub(super) fn append(&mut self, r: &Record, sync: bool) -> Result<()> {
        let mut line = serde_json::to_string(r).expect("plain data");
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .and_then(|_| if sync { self.file.sync_data() } else { Ok(()) })
            .context("cannot write the watch journal")
    }
}

/// Reads the journal's records; returns them and the number of unreadable lines.
pub(super) fn read_journal(path: &Path) -> Result<(Vec<Record>, usize)> {
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

/// Wall clock, ms since the epoch.
pub(super) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
