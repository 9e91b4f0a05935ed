//! `subcut watch` end to end: the real binary on a temporary folder, with a replayed
//! transcript (`--fake-transcript`, no model). Every wait has a deadline and every watcher
//! process is killed when its guard is dropped, so a failing test never hangs or leaks.

use crate::util::{files_in, fixture, subcut_std};

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const FAKE: &str = r#"{"language":"en","segments":[{"start":0.8,"end":2.8,"text":"Hello there.","words":[{"text":"Hello","start":0.8,"end":1.2,"probability":0.9},{"text":"there.","start":1.3,"end":2.8,"probability":0.9}],"no_speech_probability":0.0}]}"#;

/// A temporary folder holding the watched `inbox/`, the fake transcript and the logs.
struct Folder {
    tmp: tempfile::TempDir,
    runs: usize,
}

impl Folder {
    fn new() -> Folder {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir(tmp.path().join("inbox")).unwrap();
        fs::write(tmp.path().join("fake.json"), FAKE).unwrap();
        Folder { tmp, runs: 0 }
    }
    fn inbox(&self) -> PathBuf {
        self.tmp.path().join("inbox")
    }
    fn sub(&self, d: &str) -> PathBuf {
        self.inbox().join(d)
    }

    /// Starts `subcut watch inbox ARGS` with stdout/stderr going to files.
    /// [`Folder::start`], then waits until the watcher has set up its folders and journal.
    fn start_ready(&mut self, args: &[&str], delay_ms: Option<u64>) -> Watcher {
        let mut w = self.start(args, delay_ms);
        w.until("the watcher to start", Duration::from_secs(20), || {
            w_started(self)
        });
        w
    }

    fn start(&mut self, args: &[&str], delay_ms: Option<u64>) -> Watcher {
        self.runs += 1;
        let out = self.tmp.path().join(format!("run{}.out", self.runs));
        let err = self.tmp.path().join(format!("run{}.err", self.runs));
        let mut cmd = subcut_std();
        cmd.arg("watch")
            .arg(self.inbox())
            .arg("--fake-transcript")
            .arg(self.tmp.path().join("fake.json"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(fs::File::create(&out).unwrap())
            .stderr(fs::File::create(&err).unwrap())
            .env_remove(DELAY_ENV);
        if let Some(ms) = delay_ms {
            cmd.env(DELAY_ENV, ms.to_string());
        }
        Watcher {
            child: cmd.spawn().unwrap(),
            out,
            err,
        }
    }

    /// Runs `subcut watch inbox --once ARGS` to the end (60 s at most).
    fn once(&mut self, args: &[&str]) -> (ExitStatus, Watcher) {
        let mut all = vec!["--once"];
        all.extend_from_slice(args);
        let mut w = self.start(&all, None);
        let status = w.wait(Duration::from_secs(60));
        (status, w)
    }

    fn journal(&self) -> String {
        fs::read_to_string(self.inbox().join(".subcut-watch.journal")).unwrap_or_default()
    }
}

const DELAY_ENV: &str = "SUBCUT_WATCH_TEST_DELAY_MS";

/// A running watcher; killed (and reaped) on drop.
struct Watcher {
    child: Child,
    out: PathBuf,
    err: PathBuf,
}

impl Watcher {
    fn stdout(&self) -> String {
        fs::read_to_string(&self.out).unwrap_or_default()
    }
    fn stderr(&self) -> String {
        fs::read_to_string(&self.err).unwrap_or_default()
    }

    /// Waits for the process to end, or fails the test after `limit`.
    fn wait(&mut self, limit: Duration) -> ExitStatus {
        let end = Instant::now() + limit;
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(
                Instant::now() < end,
                "subcut watch still running after {limit:?}; stderr:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until `cond` holds, or fails the test (with the watcher's stderr) after `limit`.
    fn until(&mut self, what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
        let end = Instant::now() + limit;
        while !cond() {
            if let Some(s) = self.child.try_wait().unwrap() {
                panic!(
                    "subcut watch exited ({s}) before {what}; stderr:\n{}",
                    self.stderr()
                );
            }
            assert!(
                Instant::now() < end,
                "timed out after {limit:?} waiting for {what}; stderr:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn signal(&self, sig: i32) {
        // SAFETY: sends a signal to our own child process.
        let r = unsafe { libc::kill(self.child.id() as libc::pid_t, sig) };
        assert_eq!(r, 0, "kill failed");
    }

    /// SIGTERM, then the exit status (20 s at most).
    fn terminate(&mut self) -> ExitStatus {
        self.signal(libc::SIGTERM);
        self.wait(Duration::from_secs(20))
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Media files (by extension) directly in `dir`.
fn media_in(dir: &Path) -> Vec<String> {
    files_in(dir)
        .into_iter()
        .filter(|n| n.ends_with(".mp4") && !n.starts_with('.'))
        .collect()
}

/// Every temporary file under `dir` (recursively): `.subcut-*` other than the journal and lock.
fn temp_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for e in fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        let n = e.file_name().to_string_lossy().into_owned();
        if p.is_dir() {
            found.extend(temp_files(&p));
        } else if n.starts_with(".subcut-")
            && n != ".subcut-watch.journal"
            && n != ".subcut-watch.lock"
        {
            found.push(p);
        }
    }
    found
}

/// The SRT a talk.mp4 copy gets from the fake transcript: one cue.
fn assert_complete_srt(path: &Path) {
    let s = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        s.starts_with("1\n")
            && s.contains(" --> ")
            && s.contains("Hello there.")
            && s.ends_with('\n'),
        "{}: {s:?}",
        path.display()
    );
}

/// Writes `data` into `path` in `n` chunks, `gap` apart (a slow copy).
fn write_slowly(path: &Path, data: &[u8], n: usize, gap: Duration) {
    use std::io::Write;
    let mut f = fs::File::create(path).unwrap();
    for (i, chunk) in data.chunks(data.len().div_ceil(n)).enumerate() {
        if i > 0 {
            std::thread::sleep(gap);
        }
        f.write_all(chunk).unwrap();
        f.flush().unwrap();
    }
}

#[test]
fn a_file_copied_slowly_is_processed_once_after_it_is_complete() {
    let mut f = Folder::new();
    // Chunks 300 ms apart, settle 2 s: a margin for a loaded machine.
    let mut w = f.start_ready(&["--settle", "2"], None);
    let data = fs::read(fixture("talk.mp4")).unwrap();
    let dest = f.inbox().join("slow talk.mp4");
    write_slowly(&dest, &data, 4, Duration::from_millis(300));
    let done = f.sub("done").join("slow talk.mp4");
    w.until("the slow file in done/", Duration::from_secs(30), || {
        done.exists()
    });
    assert_eq!(fs::read(&done).unwrap(), data, "moved whole");
    assert_complete_srt(&f.sub("out").join("slow talk.srt"));
    assert_eq!(w.terminate().code(), Some(0), "{}", w.stderr());
    assert_eq!(
        files_in(&f.sub("failed")),
        Vec::<String>::new(),
        "{}",
        w.stderr()
    );
    assert_eq!(
        w.stdout().lines().collect::<Vec<_>>(),
        [f.sub("out").join("slow talk.srt").display().to_string()],
        "processed exactly once"
    );
    assert_eq!(w.stderr().matches("processing slow talk.mp4").count(), 1);
    assert!(media_in(&f.inbox()).is_empty());
}

/// Whether the watcher has created its folders (it is past start-up).
fn w_started(f: &Folder) -> bool {
    f.sub("failed").is_dir() && f.inbox().join(".subcut-watch.journal").exists()
}

#[test]
fn corrupt_files_end_in_failed_with_the_cause_and_others_are_left_alone() {
    let mut f = Folder::new();
    fs::copy(
        fixture("bad/truncated.mp4"),
        f.inbox().join("truncated.mp4"),
    )
    .unwrap();
    fs::copy(
        fixture("bad/not-media.mp4"),
        f.inbox().join("not-media.mp4"),
    )
    .unwrap();
    fs::copy(fixture("talk.mp4"), f.inbox().join("good.mp4")).unwrap();
    for n in [
        "notes.txt",
        ".hidden.mp4",
        "partial.mp4.part",
        "dl.mp4.crdownload",
        "backup.mp4~",
    ] {
        fs::write(f.inbox().join(n), b"leave me").unwrap();
    }
    let (status, w) = f.once(&["--settle", "0.2"]);
    assert_eq!(status.code(), Some(1), "a file failed: {}", w.stderr());
    assert_eq!(files_in(&f.sub("done")), ["good.mp4"]);
    assert_eq!(
        files_in(&f.sub("failed")),
        [
            "not-media.mp4",
            "not-media.mp4.error.txt",
            "truncated.mp4",
            "truncated.mp4.error.txt"
        ]
    );
    for (file, cause) in [
        ("truncated.mp4", "truncated or corrupt"),
        ("not-media.mp4", "not a media file"),
    ] {
        let e = fs::read_to_string(f.sub("failed").join(format!("{file}.error.txt"))).unwrap();
        assert_eq!(e.lines().count(), 1, "one line: {e:?}");
        assert!(e.contains(file) && e.contains(cause), "{e:?}");
        assert!(w.stderr().contains(cause), "{}", w.stderr());
    }
    assert_eq!(
        fs::read(f.sub("failed").join("truncated.mp4")).unwrap(),
        fs::read(fixture("bad/truncated.mp4")).unwrap(),
        "the input is kept as it was"
    );
    let left = files_in(&f.inbox());
    for n in [
        "notes.txt",
        ".hidden.mp4",
        "partial.mp4.part",
        "dl.mp4.crdownload",
        "backup.mp4~",
    ] {
        assert!(left.contains(&n.to_string()), "{n} left alone: {left:?}");
    }
    assert_eq!(files_in(&f.sub("out")), ["good.srt"]);
}

#[test]
fn killed_mid_file_and_restarted_every_input_ends_up_once_with_complete_outputs() {
    let mut f = Folder::new();
    for n in ["a.mp4", "b b.mp4", "c 第3集.mp4"] {
        fs::copy(fixture("talk.mp4"), f.inbox().join(n)).unwrap();
    }
    fs::copy(fixture("bad/truncated.mp4"), f.inbox().join("bad.mp4")).unwrap();
    let mut w = f.start(&["--settle", "0.2"], Some(2000));
    w.until("a file to be started", Duration::from_secs(20), || {
        f.journal().contains(r#""op":"start""#)
    });
    std::thread::sleep(Duration::from_millis(300));
    w.child.kill().unwrap(); // SIGKILL mid-file
    w.wait(Duration::from_secs(10));
    let first_stdout = w.stdout();
    // What a kill during the output commit leaves: a temporary output.
    fs::create_dir_all(f.sub("out")).unwrap();
    fs::write(f.sub("out").join(".subcut-Xy12Zz.tmp"), b"half an SRT").unwrap();

    let (status, w2) = f.once(&["--settle", "0.2"]);
    assert_eq!(status.code(), Some(1), "bad.mp4 failed: {}", w2.stderr());
    assert!(w2.stderr().contains("interrupted"), "{}", w2.stderr());
    assert_eq!(
        files_in(&f.sub("done")),
        ["a.mp4", "b b.mp4", "c 第3集.mp4"]
    );
    assert_eq!(files_in(&f.sub("failed")), ["bad.mp4", "bad.mp4.error.txt"]);
    assert!(
        media_in(&f.inbox()).is_empty(),
        "{:?}",
        files_in(&f.inbox())
    );
    assert_eq!(files_in(&f.sub("out")), ["a.srt", "b b.srt", "c 第3集.srt"]);
    for n in ["a.srt", "b b.srt", "c 第3集.srt"] {
        assert_complete_srt(&f.sub("out").join(n));
    }
    assert_eq!(temp_files(&f.inbox()), Vec::<PathBuf>::new());
    // Nothing went through twice: each output was reported by one run only.
    let mut written: Vec<String> = first_stdout
        .lines()
        .chain(w2.stdout().lines())
        .map(String::from)
        .collect();
    written.sort();
    let n = written.len();
    written.dedup();
    assert_eq!((n, written.len()), (3, 3), "{written:?}");
}

#[test]
fn sigterm_finishes_the_current_file_then_exits_0() {
    let mut f = Folder::new();
    for n in ["a.mp4", "b.mp4"] {
        fs::copy(fixture("talk.mp4"), f.inbox().join(n)).unwrap();
    }
    let mut w = f.start(&["--settle", "0.2"], Some(1500));
    w.until("a file to be started", Duration::from_secs(20), || {
        f.journal().contains(r#""op":"start""#)
    });
    let status = w.terminate();
    assert_eq!(status.code(), Some(0), "{}", w.stderr());
    assert_eq!(files_in(&f.sub("done")), ["a.mp4"], "{}", w.stderr());
    assert_eq!(files_in(&f.sub("out")), ["a.srt"]);
    assert_complete_srt(&f.sub("out").join("a.srt"));
    assert_eq!(media_in(&f.inbox()), ["b.mp4"], "the next file waits");
    assert_eq!(temp_files(&f.inbox()), Vec::<PathBuf>::new());

    // The next start takes it up.
    let (status, w) = f.once(&["--settle", "0.2"]);
    assert_eq!(status.code(), Some(0), "{}", w.stderr());
    assert_eq!(files_in(&f.sub("done")), ["a.mp4", "b.mp4"]);
}

#[test]
fn a_burst_of_50_files_is_all_processed() {
    let mut f = Folder::new();
    let mut w = f.start_ready(&["--settle", "0.3"], None);
    let data = fs::read(fixture("talk.mp4")).unwrap();
    let names_in: Vec<String> = (0..50)
        .map(|i| format!("burst {i:02} — 第{i}集.mp4"))
        .collect();
    for n in &names_in {
        fs::write(f.inbox().join(n), &data).unwrap();
    }
    let done = f.sub("done");
    w.until("50 files in done/", Duration::from_secs(180), || {
        media_in(&done).len() == 50
    });
    assert_eq!(w.terminate().code(), Some(0), "{}", w.stderr());
    let mut expected = names_in.clone();
    expected.sort();
    assert_eq!(files_in(&done), expected);
    assert_eq!(files_in(&f.sub("failed")), Vec::<String>::new());
    let srts = files_in(&f.sub("out"));
    assert_eq!(srts.len(), 50);
    for n in &srts {
        assert_complete_srt(&f.sub("out").join(n));
    }
    assert_eq!(w.stdout().lines().count(), 50, "each once");
}

#[test]
fn polling_handles_unicode_names_files_dropped_while_busy_and_name_clashes() {
    let mut f = Folder::new();
    let mut w = f.start_ready(&["--poll", "0.2", "--settle", "0.3"], Some(800));
    let first = "my talk 第1集.mp4";
    fs::copy(fixture("talk.mp4"), f.inbox().join(first)).unwrap();
    w.until(
        "the first file to be started",
        Duration::from_secs(20),
        || f.journal().contains(r#""op":"start""#),
    );
    // Dropped while the first is being processed.
    let second = "Ünïcødé — second one.mp4";
    fs::copy(fixture("talk.mp4"), f.inbox().join(second)).unwrap();
    let done = f.sub("done");
    w.until("both files in done/", Duration::from_secs(30), || {
        media_in(&done).len() == 2
    });
    // The same name again: kept beside the first, never over it.
    fs::copy(fixture("talk.mp4"), f.inbox().join(first)).unwrap();
    w.until("the second copy in done/", Duration::from_secs(30), || {
        media_in(&done).len() == 3
    });
    assert_eq!(w.terminate().code(), Some(0), "{}", w.stderr());
    assert_eq!(
        files_in(&done),
        [
            "my talk 第1集-1.mp4",
            "my talk 第1集.mp4",
            "Ünïcødé — second one.mp4"
        ]
    );
    assert_eq!(
        files_in(&f.sub("out")),
        ["my talk 第1集.srt", "Ünïcødé — second one.srt"]
    );
    assert_eq!(files_in(&f.sub("failed")), Vec::<String>::new());
}

#[test]
fn a_second_watcher_on_the_same_folder_is_refused() {
    let mut f = Folder::new();
    let mut w = f.start_ready(&[], None);
    let (status, w2) = f.once(&[]);
    assert_eq!(status.code(), Some(2), "{}", w2.stderr());
    assert!(w2.stderr().contains("already watching"), "{}", w2.stderr());
    assert_eq!(w.terminate().code(), Some(0));
}

#[test]
fn with_a_cutting_preset_the_watcher_cuts_too() {
    let mut f = Folder::new();
    fs::copy(fixture("talk.mp4"), f.inbox().join("talk.mp4")).unwrap();
    let (status, w) = f.once(&["--settle", "0.2", "--preset", "youtube"]);
    assert_eq!(status.code(), Some(0), "{}", w.stderr());
    assert_eq!(files_in(&f.sub("done")), ["talk.mp4"]);
    assert_eq!(
        files_in(&f.sub("out")),
        [
            "talk.cut.mp4",
            "talk.cut.srt",
            "talk.cut.vtt",
            "talk.srt",
            "talk.vtt"
        ]
    );
}
