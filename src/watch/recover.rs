//! Start-up: the journal replayed, each file by its last record (see the [module
//! doc](super)), stale temporary files removed, and the journal rewritten to what is still
//! pending.

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::time::UNIX_EPOCH;

use anyhow::{Context, Result};

use super::fs::{same_contents, sync_dir};
use super::journal::{Journal, Record};
use super::{Finished, Watcher, JOURNAL, OUTPUT_TEMP, OWN_TEMP};

impl Watcher<'_> {
    /// Replays the journal: completes interrupted moves, notes interrupted attempts, removes
    /// stale temporary files, and rewrites the journal to what is still pending.
    pub(super) fn recover(&mut self, records: Vec<Record>) -> Result<()> {
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
        self.journal = Journal::open(&path)?;
        Ok(())
    }
}
