//! The subtitle formats end to end: `subcut caption --format srt,vtt,ass,json,txt` on the
//! bundled talk with a replayed transcript (English and Chinese, no whisper model needed),
//! each output read back by an independent reader: WebVTT by the `subtp` parser, ASS by
//! libass (the ffmpeg CLI's `subtitles` filter draws a frame; text must show inside a cue
//! and nothing outside every cue). The ffmpeg CLI and a CJK font come from
//! `scripts/setup.sh`; without them these tests fail saying so.

use std::path::{Path, PathBuf};
use std::process::Command as Std;

use serde_json::{json, Value};
use subcut::subtitle::format::{ass, AssStyle};
use subcut::subtitle::Cue;
use subcut::time::Time;
use subtp::vtt::{VttBlock, WebVtt};

use crate::util::{fixture, subcut};

const FORMATS: [&str; 5] = ["srt", "vtt", "ass", "json", "txt"];

/// A transcript of fixtures/talk.mp4 as whisper would give it: one segment per spoken
/// sentence (at the sentence's true time), its words spread evenly over it. `words` splits
/// a sentence into words.
fn transcript(language: &str, sentences: &[&str], words: fn(&str) -> Vec<String>) -> Value {
    const SPANS: [(f64, f64); 4] = [
        (0.8, 2.836),
        (4.036, 6.535),
        (8.035, 10.058),
        (11.858, 14.091),
    ];
    let segments: Vec<Value> = sentences
        .iter()
        .zip(SPANS)
        .map(|(text, (start, end))| {
            let ws = words(text);
            let step = (end - start) / ws.len() as f64;
            let words: Vec<Value> = ws
                .iter()
                .enumerate()
                .map(|(i, w)| {
                    json!({"text": w, "start": start + step * i as f64,
                           "end": start + step * (i + 1) as f64, "probability": 0.9})
                })
                .collect();
            json!({"start": start, "end": end, "text": format!(" {text}"),
                   "words": words, "no_speech_probability": 0.0})
        })
        .collect();
    json!({"language": language, "segments": segments})
}

fn english() -> Value {
    transcript(
        "en",
        &[
            "The cat sat on the mat in the sun.",
            "We like to walk to the park after lunch.",
            "Please bring me a cup of hot tea.",
            "The train leaves the station at nine.",
        ],
        |s| s.split_whitespace().map(str::to_string).collect(),
    )
}

fn chinese() -> Value {
    transcript(
        "zh",
        &[
            "猫坐在阳光下的垫子上。",
            "我们喜欢午饭后去公园散步。",
            "请给我一杯热茶。",
            "火车九点离开车站。",
        ],
        // One word per character, punctuation with the character before it.
        |s| {
            let mut v: Vec<String> = Vec::new();
            for c in s.chars() {
                match v.last_mut() {
                    Some(last) if c == '。' => last.push(c),
                    _ => v.push(c.to_string()),
                }
            }
            v
        },
    )
}

/// Captions the talk with `fake` replayed, in every format, into a fresh directory.
fn caption_all_formats(fake: &Value) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let fake_path = dir.path().join("fake.json");
    std::fs::write(&fake_path, fake.to_string()).unwrap();
    let out_dir = dir.path().join("out");
    let out = subcut()
        .arg("caption")
        .arg(fixture("talk.mp4"))
        .arg("-o")
        .arg(&out_dir)
        .args(["--format", &FORMATS.join(",")])
        .arg("--fake-transcript")
        .arg(&fake_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "subcut failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut names: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut expected: Vec<String> = FORMATS.iter().map(|f| format!("talk.{f}")).collect();
    expected.sort();
    assert_eq!(names, expected, "one file per format, nothing else");
    for n in &names {
        assert!(
            std::fs::metadata(out_dir.join(n)).unwrap().len() > 0,
            "{n} is empty"
        );
    }
    (dir, out_dir)
}

/// (start, end, text) of the cues in the JSON output, in milliseconds.
fn json_cues(out_dir: &Path) -> Vec<(u64, u64, String)> {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("talk.json")).unwrap()).unwrap();
    v["cues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let ms = |k: &str| (c[k].as_f64().unwrap() * 1000.0).round() as u64;
            (
                ms("start"),
                ms("end"),
                c["text"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The VTT output parsed by an independent parser: (start ms, end ms, lines) per cue.
fn parse_vtt(s: &str) -> Vec<(u64, u64, Vec<String>)> {
    assert!(s.starts_with("WEBVTT\n\n"), "{s}");
    let ms = |t: &subtp::vtt::VttTimestamp| {
        t.hours as u64 * 3_600_000
            + t.minutes as u64 * 60_000
            + t.seconds as u64 * 1_000
            + t.milliseconds as u64
    };
    WebVtt::parse(s)
        .unwrap_or_else(|e| panic!("not WebVTT ({e:?}):\n{s}"))
        .blocks
        .into_iter()
        .map(|b| match b {
            VttBlock::Que(c) => (ms(&c.timings.start), ms(&c.timings.end), c.payload),
            other => panic!("unexpected block {other:?}"),
        })
        .collect()
}

/// Draws the frame at `t` seconds of a black 640×360 video with `ass` (a file in `dir`)
/// burnt in by libass, as 8-bit gray pixels.
fn frame_at(dir: &Path, ass: &str, t: f64) -> Vec<u8> {
    // The color source runs at 100 fps so that `t` lands on a frame to the centisecond;
    // setpts moves its first frame to `t`.
    let filter = format!("setpts=PTS+{t:.2}/TB,subtitles=filename={ass}");
    let out = Std::new("ffmpeg")
        .current_dir(dir)
        .args(["-nostdin", "-v", "error", "-f", "lavfi"])
        .args(["-i", "color=c=black:s=640x360:r=100:d=1"])
        .args(["-vf", &filter, "-frames:v", "1"])
        .args(["-f", "rawvideo", "-pix_fmt", "gray", "-"])
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run the ffmpeg CLI ({e}): scripts/setup.sh installs it")
        });
    assert!(
        out.status.success(),
        "ffmpeg failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout.len(), 640 * 360, "one gray 640×360 frame");
    out.stdout
}

/// Pixels clearly brighter than black.
fn lit(frame: &[u8]) -> usize {
    frame.iter().filter(|&&p| p > 64).count()
}

/// A time (seconds) inside no cue: the middle of the longest gap before, between or after
/// the cues, within the talk's 14.89 s.
fn time_outside(cues: &[(u64, u64, String)]) -> f64 {
    let mut gaps = vec![(0, cues[0].0)];
    gaps.extend(cues.windows(2).map(|w| (w[0].1, w[1].0)));
    gaps.push((cues.last().unwrap().1, 14_891));
    let (a, b) = gaps.into_iter().max_by_key(|(a, b)| b - a).unwrap();
    assert!(b > a + 100, "no gap between cues to test: {cues:?}");
    (a + b) as f64 / 2000.0
}

/// Every output of one caption run, checked against the JSON's cues.
fn check_outputs(out_dir: &Path, expect_words: &[&str]) {
    let cues = json_cues(out_dir);
    assert!(!cues.is_empty());

    // WebVTT: the same cues, to the millisecond, with the same lines.
    let vtt = std::fs::read_to_string(out_dir.join("talk.vtt")).unwrap();
    let parsed = parse_vtt(&vtt);
    assert_eq!(parsed.len(), cues.len(), "{vtt}");
    for (p, c) in parsed.iter().zip(&cues) {
        assert_eq!((p.0, p.1), (c.0, c.1), "{vtt}");
        assert_eq!(p.2.join("\n"), c.2, "{vtt}");
    }
    for (i, block) in vtt["WEBVTT\n\n".len()..].split("\n\n").enumerate() {
        assert!(
            block.starts_with(&format!("{}\n", i + 1)),
            "numbered cues: {block:?}"
        );
    }

    // ASS: one Dialogue line per cue, at centisecond times.
    let ass_text = std::fs::read_to_string(out_dir.join("talk.ass")).unwrap();
    let dialogues: Vec<&str> = ass_text
        .lines()
        .filter(|l| l.starts_with("Dialogue: "))
        .collect();
    assert_eq!(dialogues.len(), cues.len(), "{ass_text}");
    let first = &cues[0];
    let cs = |ms: u64| {
        let cs = (ms + 5) / 10;
        format!(
            "{}:{:02}:{:02}.{:02}",
            cs / 360_000,
            cs / 6_000 % 60,
            cs / 100 % 60,
            cs % 100
        )
    };
    assert!(
        dialogues[0].starts_with(&format!(
            "Dialogue: 0,{},{},Default,",
            cs(first.0),
            cs(first.1)
        )),
        "{ass_text}"
    );

    // libass draws text inside a cue, nothing outside every cue.
    let inside = (first.0 + first.1) as f64 / 2000.0;
    let frame = frame_at(out_dir, "talk.ass", inside);
    assert!(
        lit(&frame) > 200,
        "no text drawn at {inside} s ({} lit pixels)",
        lit(&frame)
    );
    let outside = time_outside(&cues);
    let frame = frame_at(out_dir, "talk.ass", outside);
    assert_eq!(
        lit(&frame),
        0,
        "something drawn at {outside} s, outside every cue"
    );
    assert!(frame.iter().all(|&p| p < 32), "black frame at {outside} s");

    // Text: every word, no times.
    let txt = std::fs::read_to_string(out_dir.join("talk.txt")).unwrap();
    assert!(txt.ends_with('\n') && !txt.contains("-->"), "{txt}");
    for w in expect_words {
        assert!(txt.contains(w), "{w:?} missing from:\n{txt}");
    }

    // SRT still written.
    let srt = std::fs::read_to_string(out_dir.join("talk.srt")).unwrap();
    assert!(srt.starts_with("1\n"), "{srt}");
}

#[test]
fn english_captions_in_every_format_are_read_back_by_other_tools() {
    let (_dir, out) = caption_all_formats(&english());
    check_outputs(&out, &["The cat sat on the mat in the sun.", "at nine."]);
    let txt = std::fs::read_to_string(out.join("talk.txt")).unwrap();
    assert_eq!(
        txt.lines().filter(|l| !l.is_empty()).count(),
        4,
        "one line per sentence:\n{txt}"
    );
}

#[test]
fn chinese_captions_in_every_format_are_read_back_by_other_tools() {
    let (_dir, out) = caption_all_formats(&chinese());
    check_outputs(&out, &["猫坐在阳光下的垫子上。", "火车九点离开车站。"]);
    let vtt = std::fs::read_to_string(out.join("talk.vtt")).unwrap();
    assert!(vtt.contains("请给我一杯热茶。"), "{vtt}");
    let ass_text = std::fs::read_to_string(out.join("talk.ass")).unwrap();
    assert!(
        ass_text.contains("Style: Default,Noto Sans CJK SC,"),
        "{ass_text}"
    );
}

fn cue(a: f64, b: f64, text: &str) -> Cue {
    Cue {
        start: Time::from_secs_f64(a),
        end: Time::from_secs_f64(b),
        text: text.into(),
    }
}

#[test]
fn chinese_text_is_drawn_as_glyphs_not_missing_glyph_boxes() {
    // Two texts of the same length: a font without these characters would draw the same
    // row of boxes for both.
    let dir = tempfile::tempdir().unwrap();
    let script = ass::render(
        &[cue(0.5, 1.5, "你好世界"), cue(2.0, 3.0, "天气很好")],
        &AssStyle::default(),
        "zh",
    );
    std::fs::write(dir.path().join("zh.ass"), script).unwrap();
    let a = frame_at(dir.path(), "zh.ass", 1.0);
    let b = frame_at(dir.path(), "zh.ass", 2.5);
    assert!(lit(&a) > 200 && lit(&b) > 200, "text drawn");
    let differ = a
        .iter()
        .zip(&b)
        .filter(|(x, y)| x.abs_diff(**y) > 64)
        .count();
    assert!(
        differ > 200,
        "different characters look different ({differ} pixels differ): is a CJK font \
         installed (fonts-noto-cjk, scripts/setup.sh)?"
    );
}

#[test]
fn text_that_looks_like_an_override_tag_is_shown_not_obeyed() {
    // `{\alpha&HFF&}` makes the rest of a line fully transparent when libass obeys it.
    let dir = tempfile::tempdir().unwrap();
    let text = r"{\alpha&HFF&}Hidden?";
    let escaped = ass::render(&[cue(0.5, 1.5, text)], &AssStyle::default(), "x");
    std::fs::write(dir.path().join("escaped.ass"), &escaped).unwrap();
    assert!(
        lit(&frame_at(dir.path(), "escaped.ass", 1.0)) > 200,
        "{escaped}"
    );
    // The check can fail: the same line written raw draws nothing.
    let raw = escaped.replace(r"\{\alpha&HFF&\}", r"{\alpha&HFF&}");
    assert_ne!(raw, escaped);
    std::fs::write(dir.path().join("raw.ass"), &raw).unwrap();
    assert_eq!(lit(&frame_at(dir.path(), "raw.ass", 1.0)), 0, "{raw}");
}

/// How many pixel rows, from the first to the last with text, the drawn text spans.
fn text_height(frame: &[u8]) -> usize {
    let rows: Vec<usize> = frame
        .chunks(640)
        .enumerate()
        .filter(|(_, row)| lit(row) > 0)
        .map(|(i, _)| i)
        .collect();
    rows.last().map_or(0, |last| last + 1 - rows[0])
}

#[test]
fn a_typed_backslash_n_is_not_a_line_break() {
    let dir = tempfile::tempdir().unwrap();
    let escaped = ass::render(&[cue(0.5, 1.5, r"C:\New\hat")], &AssStyle::default(), "x");
    std::fs::write(dir.path().join("escaped.ass"), &escaped).unwrap();
    let one_line = text_height(&frame_at(dir.path(), "escaped.ass", 1.0));
    // Written raw, libass reads `\N` as a line break.
    let raw = escaped.replace('\u{2060}', "");
    assert_ne!(raw, escaped);
    std::fs::write(dir.path().join("raw.ass"), &raw).unwrap();
    let two_lines = text_height(&frame_at(dir.path(), "raw.ass", 1.0));
    assert!(
        one_line > 0 && two_lines > one_line * 3 / 2,
        "one line {one_line} px, two lines {two_lines} px"
    );
}

#[test]
fn style_changes_reach_the_rendered_frame() {
    // Top position: the text moves to the upper half of the frame.
    let dir = tempfile::tempdir().unwrap();
    let style = AssStyle {
        alignment: subcut::subtitle::format::AssPosition::Top,
        ..AssStyle::default()
    };
    for (name, st) in [("bottom.ass", AssStyle::default()), ("top.ass", style)] {
        std::fs::write(
            dir.path().join(name),
            ass::render(&[cue(0.5, 1.5, "Hello")], &st, "x"),
        )
        .unwrap();
    }
    let upper = |f: &[u8]| lit(&f[..f.len() / 2]);
    let lower = |f: &[u8]| lit(&f[f.len() / 2..]);
    let bottom = frame_at(dir.path(), "bottom.ass", 1.0);
    let top = frame_at(dir.path(), "top.ass", 1.0);
    assert!(lower(&bottom) > 100 && upper(&bottom) == 0);
    assert!(upper(&top) > 100 && lower(&top) == 0);
}
