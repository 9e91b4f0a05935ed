//! `subcut review` and `subcut cut --edit`: the edit list round trip on a spoken clip
//! (espeak-ng, tiny.en), the review page in a real browser (headless Chromium), and the
//! lists that are refused.

use std::path::{Path, PathBuf};
use std::process::Command as Std;
use std::sync::OnceLock;

use crate::util::{files_in, stderr, subcut, tiny_en, words};

/// A tool the tests need, or a failing test that says how to install it.
fn tool(name: &str) {
    let found = Std::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(found, "{name} is not installed: run scripts/setup.sh");
}

/// Three sentences, 0.8 s apart, over a grey 25 fps picture.
const SENTENCES: [&str; 3] = [
    "Today we talk about cooking pasta at home.",
    "The water must be salted well.",
    "Then you wait ten minutes and serve it hot.",
];

/// The clip, reviewed once for all tests here (with tiny.en): a folder holding
/// `clip.mp4` and its `clip.edit.md`, `clip.edit.json`, `clip.review.html`, `clip.review.png`.
fn reviewed() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        tool("espeak-ng");
        tool("ffmpeg");
        let dir = tempfile::Builder::new()
            .prefix("review-clip")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .unwrap()
            .keep();
        for (i, s) in SENTENCES.iter().enumerate() {
            let wav = dir.join(format!("s{i}.wav"));
            let ok = Std::new("espeak-ng")
                .args(["-s", "140", "-w"])
                .arg(&wav)
                .arg(s)
                .status()
                .unwrap();
            assert!(ok.success(), "espeak-ng failed");
        }
        let ok = Std::new("ffmpeg")
            .current_dir(&dir)
            .args([
                "-loglevel",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                "color=c=gray:s=160x120:r=25",
            ])
            .args([
                "-i",
                "s0.wav",
                "-i",
                "s1.wav",
                "-i",
                "s2.wav",
                "-filter_complex",
            ])
            .arg("[1]apad=pad_dur=0.8[a];[2]apad=pad_dur=0.8[b];[a][b][3]concat=n=3:v=0:a=1[o]")
            .args(["-map", "0:v", "-map", "[o]", "-shortest", "-c:v", "libx264"])
            .args([
                "-preset",
                "ultrafast",
                "-pix_fmt",
                "yuv420p",
                "-c:a",
                "aac",
                "clip.mp4",
            ])
            .status()
            .unwrap();
        assert!(ok.success(), "ffmpeg failed to make the clip");
        let out = subcut()
            .arg("review")
            .arg(dir.join("clip.mp4"))
            .arg("-m")
            .arg(tiny_en())
            .output()
            .unwrap();
        assert!(out.status.success(), "review failed: {}", stderr(&out));
        let listed = String::from_utf8_lossy(&out.stdout).into_owned();
        for f in [
            "clip.edit.md",
            "clip.edit.json",
            "clip.review.html",
            "clip.review.png",
        ] {
            assert!(listed.contains(f), "{f} not listed: {listed}");
        }
        dir
    })
}

/// A copy of the reviewed folder to change.
fn copy_of_reviewed() -> tempfile::TempDir {
    let src = reviewed();
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    for f in files_in(src) {
        if f.starts_with("clip.") {
            std::fs::copy(src.join(&f), dir.path().join(&f)).unwrap();
        }
    }
    dir
}

/// The list's items (`- [ ] …` lines), with their line numbers.
fn items(list: &str) -> Vec<(usize, String)> {
    list.lines()
        .enumerate()
        .filter(|(_, l)| l.starts_with("- ["))
        .map(|(i, l)| (i + 1, l.to_string()))
        .collect()
}

/// The words of an item's text (without the box and the anchor).
fn item_words(item: &str) -> Vec<String> {
    let text = &item[6..item.rfind("<!--").unwrap()];
    words(&text.replace("~~", " "))
}

#[test]
fn review_writes_a_checklist_with_the_input_named_and_its_words_stored() {
    let dir = reviewed();
    let list = std::fs::read_to_string(dir.join("clip.edit.md")).unwrap();
    let size = std::fs::metadata(dir.join("clip.mp4")).unwrap().len();
    assert!(
        list.starts_with("<!-- subcut edit list 1\ninput: clip.mp4\n"),
        "{list}"
    );
    assert!(list.contains(&format!("\nsize: {size}\n")), "{list}");
    assert!(list.contains("\nfingerprint: sha256:"), "{list}");
    assert!(list.contains("Tick a line"), "{list}");
    let its = items(&list);
    // One line per sentence, the pauses between them on lines of their own, ticked.
    let pauses: Vec<&(usize, String)> = its.iter().filter(|(_, l)| l.contains("(pause")).collect();
    assert!(pauses.len() >= 2, "{list}");
    assert!(
        pauses.iter().all(|(_, l)| l.starts_with("- [x] ")),
        "{list}"
    );
    for (_, l) in &its {
        assert!(l.trim_end().ends_with("-->"), "{l}");
        assert!(l.contains("–"), "anchor times: {l}");
    }
    let heard: Vec<String> = its.iter().flat_map(|(_, l)| item_words(l)).collect();
    for w in ["pasta", "salted", "minutes"] {
        assert!(heard.contains(&w.to_string()), "{w} not heard: {list}");
    }
    let stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("clip.edit.json")).unwrap())
            .unwrap();
    assert_eq!(stored["format"], "subcut edit list 1");
    assert_eq!(stored["input"]["size"], size);
    assert!(stored["transcript"]["segments"].as_array().unwrap().len() >= 2);
}

#[test]
fn cut_edit_removes_the_ticked_sentence_and_the_deleted_words_and_nothing_else() {
    let d = copy_of_reviewed();
    let dir = d.path();
    let md = dir.join("clip.edit.md");
    let list = std::fs::read_to_string(&md).unwrap();
    let its = items(&list);
    let (_, salted) = its
        .iter()
        .find(|(_, l)| item_words(l).contains(&"salted".into()))
        .expect("a line with 'salted'");
    let (_, minutes) = its
        .iter()
        .find(|(_, l)| l.contains("ten minutes "))
        .expect("a line with 'ten minutes'");
    let edited_minutes = minutes
        .replace("ten minutes ", "")
        .replace("- [x]", "- [ ]");
    let edited = list
        .replace(salted, &salted.replace("- [ ]", "- [x]"))
        .replace(minutes, &edited_minutes);
    // A word added to another line is ignored, with a warning naming its line.
    let (last_no, last) = its
        .iter()
        .find(|(_, l)| l.contains("pasta"))
        .expect("a line with 'pasta'");
    let edited = edited.replace(last, &last.replace("pasta", "pasta banana"));
    std::fs::write(&md, &edited).unwrap();

    let t = std::time::Instant::now();
    // The model named does not exist: cut --edit loads none.
    let out = subcut()
        .arg("cut")
        .arg(dir.join("clip.mp4"))
        .arg("--edit")
        .arg(&md)
        .args(["-m", "no-such-model", "--export", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let secs = t.elapsed().as_secs_f64();
    let err = stderr(&out);
    let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("warning:")).collect();
    assert_eq!(warnings.len(), 1, "{err}");
    assert!(
        warnings[0].starts_with(&format!("warning: {}: line {last_no}: ", md.display()))
            && warnings[0].contains("banana"),
        "{err}"
    );
    let first_cut = std::fs::read_to_string(dir.join("clip.cutlist.json")).unwrap();
    // Cut by hand: the ticked line's words and the two deleted ones, nothing else.
    let stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("clip.edit.json")).unwrap())
            .unwrap();
    let ws: Vec<(String, f64, f64)> = stored["transcript"]["segments"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["words"].as_array().unwrap().iter())
        .map(|w| {
            let text = words(w["text"].as_str().unwrap()).join(" ");
            (
                text,
                w["start"].as_f64().unwrap(),
                w["end"].as_f64().unwrap(),
            )
        })
        .collect();
    let line = stored["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| {
            l["kind"] == "words"
                && (l["first_word"].as_u64().unwrap()..l["end_word"].as_u64().unwrap())
                    .any(|i| ws[i as usize].0 == "salted")
        })
        .unwrap();
    let ten = ws.iter().position(|w| w.0 == "ten").unwrap();
    assert_eq!(ws[ten + 1].0, "minutes");
    let allowed = [
        (
            line["start"].as_f64().unwrap(),
            line["end"].as_f64().unwrap(),
        ),
        (ws[ten].1, ws[ten + 1].2),
    ];
    let cutlist: serde_json::Value = serde_json::from_str(&first_cut).unwrap();
    let edits: Vec<(f64, f64)> = cutlist["removed"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["reason"] == "edit")
        .map(|r| (r["start"].as_f64().unwrap(), r["end"].as_f64().unwrap()))
        .collect();
    for (a, b) in &edits {
        assert!(
            allowed
                .iter()
                .any(|(x, y)| *a >= x - 0.001 && *b <= y + 0.001),
            "edit cut {a}–{b} outside {allowed:?}"
        );
    }
    for (x, y) in allowed {
        let covered: f64 = edits
            .iter()
            .map(|(a, b)| (b.min(y) - a.max(x)).max(0.0))
            .sum();
        assert!(covered > 0.5 * (y - x), "{x}–{y} mostly kept: {edits:?}");
    }

    // The same list gives the same cut again.
    let again = subcut()
        .arg("cut")
        .arg(dir.join("clip.mp4"))
        .arg("--edit")
        .arg(&md)
        .args(["--export", "json", "-q"])
        .output()
        .unwrap();
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(
        std::fs::read_to_string(dir.join("clip.cutlist.json")).unwrap(),
        first_cut
    );

    // What the cut says, heard again.
    let heard = dir.join("heard");
    let out = subcut()
        .arg("caption")
        .arg(dir.join("clip.cut.mp4"))
        .arg("-m")
        .arg(tiny_en())
        .args(["-f", "txt", "-q", "-o"])
        .arg(&heard)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(heard.join("clip.cut.txt")).unwrap();
    let got = words(&text);
    for gone in ["salted", "water", "ten", "minutes"] {
        assert!(
            !got.contains(&gone.to_string()),
            "{gone} is still there: {text}"
        );
    }
    // The rest is there: the kept lines' words, as the list shows them.
    let kept: Vec<String> = items(&edited)
        .iter()
        .filter(|(_, l)| l.starts_with("- [ ]"))
        .flat_map(|(_, l)| item_words(l))
        .filter(|w| w != "banana")
        .collect();
    let wer = crate::util::wer(&kept.join(" "), &got.join(" "));
    eprintln!("heard again (WER {wer:.2} against the kept lines): {text}");
    assert!(wer <= 0.3, "WER {wer:.2}: kept {kept:?}, heard {text}");
    // The caption of the cut is on the cut's timeline, without the cut words.
    let srt = std::fs::read_to_string(dir.join("clip.cut.srt")).unwrap();
    assert!(!srt.contains("salted") && !srt.contains("minutes"), "{srt}");
    assert!(srt.contains("pasta") && srt.contains("serve"), "{srt}");
    eprintln!("cut --edit took {secs:.1} s");
}

#[test]
fn edit_lists_that_are_missing_foreign_or_stale_are_refused() {
    let d = copy_of_reviewed();
    let dir = d.path();
    let clip = dir.join("clip.mp4");
    let md = dir.join("clip.edit.md");
    let refused = |input: &Path, list: &Path, want: &str| {
        let before = files_in(dir);
        let out = subcut()
            .arg("cut")
            .arg(input)
            .arg("--edit")
            .arg(list)
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with(&format!("error: {}: ", list.display())),
            "{err}"
        );
        assert!(err.contains(want), "{want:?} not in {err}");
        assert_eq!(files_in(dir), before, "nothing written");
    };
    refused(
        &clip,
        &dir.join("nope.edit.md"),
        "cannot read the edit list",
    );
    std::fs::write(dir.join("notes.md"), "# my notes\n- [x] buy milk\n").unwrap();
    refused(&clip, &dir.join("notes.md"), "not a subcut edit list");
    // Another input's list.
    let other = dir.join("other.mp4");
    let ok = Std::new("ffmpeg")
        .args([
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "sine=d=2",
            "-c:a",
            "aac",
        ])
        .arg(&other)
        .status()
        .unwrap();
    assert!(ok.success());
    refused(&other, &md, "this list is for clip.mp4");
    // The input changed since.
    let mut bytes = std::fs::read(&clip).unwrap();
    bytes.push(0);
    std::fs::write(&clip, &bytes).unwrap();
    refused(&clip, &md, "has changed since this list was made");
    bytes.pop();
    std::fs::write(&clip, &bytes).unwrap();
    // Its words file gone.
    std::fs::remove_file(dir.join("clip.edit.json")).unwrap();
    refused(&clip, &md, "cannot read the words it refers to");
}

#[test]
fn the_review_page_loads_seeks_and_skips_cuts_in_a_real_browser() {
    tool("chromium");
    let dir = reviewed();
    let html = std::fs::read_to_string(dir.join("clip.review.html")).unwrap();
    // One file, nothing from the network, the video by a relative path.
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "network reference"
    );
    assert!(!html.contains("<link"), "no stylesheet files");
    assert!(
        html.contains(r#"<video id="video" src="clip.mp4""#),
        "relative video path"
    );
    assert!(
        html.contains(r#"src="clip.review.png""#),
        "the timeline picture"
    );
    assert!(
        html.contains(r#"class="w cut r-"#) || html.contains(r#"class="line pause cut r-silence""#)
    );
    let url = format!("file://{}#selftest", dir.join("clip.review.html").display());
    let out = Std::new("chromium")
        .args([
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--mute-audio",
        ])
        .args([
            "--virtual-time-budget=15000",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.join("chromium-profile").display()
        ))
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    let log = String::from_utf8_lossy(&out.stderr);
    let start = dom
        .find(r#"<pre id="selftest">"#)
        .unwrap_or_else(|| panic!("the page's self-test wrote nothing: {log}"));
    let result = &dom[start + 19..];
    let result = &result[..result.find("</pre>").unwrap()].replace("&quot;", "\"");
    let v: serde_json::Value = serde_json::from_str(result).unwrap();
    assert_eq!(v["ok"], true, "self-test: {v}");
    assert!(v["lines"].as_u64().unwrap() >= 3, "{v}");
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:?}");
}

#[test]
fn an_untouched_list_cuts_as_cut_does_and_the_page_finds_the_input_from_another_folder() {
    let talk = crate::util::fixture("talk.mp4");
    // Chinese, with a filler and a stutter to cut.
    let fake = crate::util::fixture("transcripts/talk.zh.json");
    let d = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let out_dir = d.path().join("reviews");
    let out = subcut()
        .arg("review")
        .arg(&talk)
        .arg("--fake-transcript")
        .arg(&fake)
        .args(["--preset", "zh-talking-head", "-q", "-o"])
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        files_in(&out_dir),
        [
            "talk.edit.json",
            "talk.edit.md",
            "talk.review.html",
            "talk.review.png"
        ]
    );
    // The page's video path leads from the page's folder to the input.
    let html = std::fs::read_to_string(out_dir.join("talk.review.html")).unwrap();
    let src = html.split(r#"<video id="video" src=""#).nth(1).unwrap();
    let src = &src[..src.find('"').unwrap()];
    assert!(!src.starts_with('/'), "relative: {src}");
    assert_eq!(
        out_dir.join(src).canonicalize().unwrap(),
        talk.canonicalize().unwrap()
    );
    // The list as review wrote it gives the cut `cut` plans, reasons included.
    let plain = subcut()
        .arg("cut")
        .arg(&talk)
        .arg("--fake-transcript")
        .arg(&fake)
        .args(["--preset", "zh-talking-head", "--dry-run", "-q"])
        .output()
        .unwrap();
    let edited = subcut()
        .arg("cut")
        .arg(&talk)
        .arg("--edit")
        .arg(out_dir.join("talk.edit.md"))
        .args(["--preset", "zh-talking-head", "--dry-run", "-q"])
        .output()
        .unwrap();
    assert!(
        plain.status.success() && edited.status.success(),
        "{}",
        stderr(&edited)
    );
    let (a, b) = (
        String::from_utf8_lossy(&plain.stdout),
        String::from_utf8_lossy(&edited.stdout),
    );
    assert!(
        a.contains("cut   filler") && a.contains("cut   repeat"),
        "{a}"
    );
    assert_eq!(a, b);
}
