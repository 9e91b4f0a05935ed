use std::cell::RefCell;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::time::SystemTime;

use super::fs::{dir_tag, lock};
use super::*;

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
