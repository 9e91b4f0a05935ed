//! Issue 19: reframing (9:16 and friends) and captions that fit the frame they land on, on
//! small media made on the fly with the ffmpeg CLI and measured on decoded frames.
//!
//! - Every source shape (16:9, 4:3, 9:16, a rotated phone clip) gives the computed size,
//!   square pixels, no rotation left, the planned duration, and audio in sync with the
//!   picture (a white flash and a beep at the same source instant land on the same output
//!   frame). Captions burned into a rotated clip are drawn upright.
//! - Each reframe mode on a test pattern (blue, one red marker): the marker lands where the
//!   geometry says; fit-pad's bars are the pad colour; fit-blur's bars are the picture's
//!   own (blurred) colours.
//! - `subcut run --preset shorts` on a 1280×720 input: a 406×720 video whose caption (found
//!   by colour against the plain background, at a cue's midpoint) sits in the platform safe
//!   area, is at least 4 % of the frame high and is not clipped; a landscape style burned
//!   into a 9:16 frame gets lines short enough for its width.
//! - Karaoke ASS read back by libass (the ffmpeg CLI's `subtitles` filter): the highlight
//!   moves across the line during a cue.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use subcut::media::render::{render, Aspect, Reframe, RenderOptions};
use subcut::subtitle::format::ass::{render_words, AssStyle};
use subcut::subtitle::Cue;
use subcut::time::{Span, Time};
use subcut::transcript::Word;

use crate::util::{parse_srt, stderr, subcut};

fn ff(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .expect("the ffmpeg CLI (scripts/setup.sh installs it)");
    assert!(
        out.status.success(),
        "ffmpeg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn probe_json(p: &Path) -> Value {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_format",
            "-show_streams",
            "-of",
            "json",
        ])
        .arg(p)
        .output()
        .expect("ffprobe (scripts/setup.sh installs ffmpeg)");
    assert!(out.status.success(), "ffprobe {}", p.display());
    serde_json::from_slice(&out.stdout).unwrap()
}

fn stream<'a>(v: &'a Value, kind: &str) -> &'a Value {
    v["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["codec_type"] == kind)
        .unwrap_or_else(|| panic!("no {kind} stream"))
}

fn num(v: &Value) -> f64 {
    match v {
        Value::String(s) => s.parse().unwrap_or(f64::NAN),
        Value::Number(n) => n.as_f64().unwrap(),
        _ => f64::NAN,
    }
}

fn opts(aspect: &str, reframe: Reframe) -> RenderOptions {
    RenderOptions {
        aspect: Some(aspect.parse::<Aspect>().unwrap()),
        reframe,
        ..RenderOptions::default()
    }
}

fn render_ok(input: &Path, keep: &[Span], out: &Path, o: &RenderOptions) {
    render(input, keep, out, o, &mut |_| {}).unwrap_or_else(|e| panic!("{e}"));
}

/// An RGB picture.
struct Rgb {
    w: usize,
    h: usize,
    px: Vec<u8>,
}

impl Rgb {
    fn at(&self, x: usize, y: usize) -> (u8, u8, u8) {
        let i = 3 * (y * self.w + x);
        (self.px[i], self.px[i + 1], self.px[i + 2])
    }

    /// The bounding box `(x0, y0, x1, y1)` (inclusive) of the pixels `hit` accepts in rows
    /// `rows`, and how many there are.
    fn bbox(
        &self,
        rows: std::ops::Range<usize>,
        hit: impl Fn((u8, u8, u8)) -> bool,
    ) -> Option<((usize, usize, usize, usize), usize)> {
        let mut b: Option<(usize, usize, usize, usize)> = None;
        let mut n = 0;
        for y in rows {
            for x in 0..self.w {
                if hit(self.at(x, y)) {
                    n += 1;
                    b = Some(match b {
                        None => (x, y, x, y),
                        Some((x0, y0, x1, y1)) => (x0.min(x), y0.min(y), x1.max(x), y1.max(y)),
                    });
                }
            }
        }
        b.map(|b| (b, n))
    }

    /// Mean colour of rows `rows`.
    fn mean(&self, rows: std::ops::Range<usize>) -> (f64, f64, f64) {
        let (mut r, mut g, mut b, mut n) = (0.0, 0.0, 0.0, 0.0);
        for y in rows {
            for x in 0..self.w {
                let p = self.at(x, y);
                r += p.0 as f64;
                g += p.1 as f64;
                b += p.2 as f64;
                n += 1.0;
            }
        }
        (r / n, g / n, b / n)
    }
}

/// The frame shown at `t` seconds, as RGB.
fn frame_at(p: &Path, t: f64) -> Rgb {
    let j = probe_json(p);
    let v = stream(&j, "video");
    let (w, h) = (
        v["width"].as_u64().unwrap() as usize,
        v["height"].as_u64().unwrap() as usize,
    );
    let out = Command::new("ffmpeg")
        // Decoded from the start (`-ss` after the input): exact, no seek.
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(p)
        .args(["-ss", &format!("{t:.3}")])
        .args(["-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout.len(), w * h * 3, "one {w}×{h} frame at {t}");
    Rgb {
        w,
        h,
        px: out.stdout,
    }
}

// ---------------------------------------------------------------------------------------------
// Size, pixel aspect, rotation, duration and A/V sync for every source shape.

/// A 2 s clip of `size`, 25 fps, black with one white frame at 1.00 s, and a 1 kHz beep
/// from 1.00 s to 1.04 s (mono 48 kHz) in silence.
fn flash_clip(dir: &Path, name: &str, size: &str, extra: &[&str]) -> PathBuf {
    let p = dir.join(name);
    let v = format!(
        "color=c=black:s={size}:r=25:d=2,drawbox=c=white:t=fill:enable='between(n\\,25\\,25)'"
    );
    let a = "aevalsrc='0.8*between(t\\,1.0\\,1.04)*sin(2*PI*1000*t)':s=48000:d=2";
    let mut args: Vec<&str> = vec!["-f", "lavfi", "-i", &v, "-f", "lavfi", "-i", a];
    args.extend_from_slice(extra);
    args.extend_from_slice(&[
        "-pix_fmt",
        "yuv420p",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-c:a",
        "aac",
        "-b:a",
        "128k",
        "-shortest",
    ]);
    let s = p.to_str().unwrap().to_string();
    args.push(&s);
    ff(&args);
    p
}

/// Output time of the white frame (mean luma) and of the beep's onset.
fn flash_and_beep(p: &Path) -> (f64, f64) {
    let j = probe_json(p);
    let v = stream(&j, "video");
    let (w, h) = (
        v["width"].as_u64().unwrap() as usize,
        v["height"].as_u64().unwrap() as usize,
    );
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(p)
        .args([
            "-map",
            "0:v",
            "-vsync",
            "passthrough",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "gray",
            "-",
        ])
        .output()
        .unwrap();
    let frames: Vec<f64> = out
        .stdout
        .chunks_exact(w * h)
        .map(|c| c.iter().map(|&x| x as f64).sum::<f64>() / c.len() as f64)
        .collect();
    // Black is 16; the white frame lifts the mean well above that even with black bars.
    let k = frames
        .iter()
        .position(|&m| m > 60.0)
        .unwrap_or_else(|| panic!("no white frame in {}: {frames:?}", p.display()));
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(p)
        .args([
            "-map", "0:a", "-f", "f32le", "-ac", "1", "-ar", "48000", "-",
        ])
        .output()
        .unwrap();
    let samples: Vec<f32> = out
        .stdout
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let n = samples
        .iter()
        .position(|s| s.abs() > 0.2)
        .expect("the beep is in the output");
    (k as f64 / 25.0, n as f64 / 48_000.0)
}

#[test]
fn every_source_shape_reframes_to_9x16_in_sync() {
    let d = tempfile::tempdir().unwrap();
    let wide = flash_clip(d.path(), "wide.mp4", "320x180", &[]);
    let four_three = flash_clip(d.path(), "43.mp4", "240x180", &[]);
    let tall = flash_clip(d.path(), "tall.mp4", "180x320", &[]);
    // A phone clip: coded 320×180, shown upright as 180×320.
    let rotated = d.path().join("rotated.mp4");
    ff(&[
        "-i",
        wide.to_str().unwrap(),
        "-c",
        "copy",
        "-metadata:s:v",
        "rotate=90",
        rotated.to_str().unwrap(),
    ]);
    let rot = num(&stream(&probe_json(&rotated), "video")["side_data_list"][0]["rotation"]);
    assert_eq!(rot.abs(), 90.0);

    // Cut 0.2–0.6 s and 0.8–1.8 s: the flash (source 1.00 s) lands at 0.60 s.
    let keep = [Span::secs(0.2, 0.6), Span::secs(0.8, 1.8)];
    for (input, reframe, size) in [
        (&wide, Reframe::Crop, (102, 180)),
        (&four_three, Reframe::Crop, (102, 180)),
        (&tall, Reframe::Crop, (180, 320)),
        (&rotated, Reframe::Crop, (180, 320)),
        (&wide, Reframe::FitBlur, (320, 568)),
        (&four_three, Reframe::FitPad, (240, 426)),
        (&rotated, Reframe::FitPad, (180, 320)),
    ] {
        let name = input.file_stem().unwrap().to_string_lossy().into_owned();
        let out = d.path().join(format!("{name}.{}.mp4", reframe.name()));
        render_ok(input, &keep, &out, &opts("9:16", reframe));
        let j = probe_json(&out);
        let v = stream(&j, "video");
        let what = format!("{name} {}", reframe.name());
        assert_eq!(
            (v["width"].as_u64().unwrap(), v["height"].as_u64().unwrap()),
            (size.0, size.1),
            "{what}"
        );
        assert!(
            matches!(v["sample_aspect_ratio"].as_str(), None | Some("1:1")),
            "{what}: SAR {}",
            v["sample_aspect_ratio"]
        );
        assert!(
            v["side_data_list"].is_null(),
            "{what}: no rotation left: {}",
            v["side_data_list"]
        );
        for s in [v, stream(&j, "audio")] {
            let dur = num(&s["duration"]);
            assert!(
                (dur - 1.4).abs() <= 0.04,
                "{what}: {} lasts {dur}",
                s["codec_type"]
            );
        }
        let (flash, beep) = flash_and_beep(&out);
        assert!((flash - 0.6).abs() < 0.021, "{what}: flash at {flash}");
        // The AAC frames are copied (issue 14): each kept part's audio moves by at most half
        // a 1024-sample frame (10.7 ms at 48 kHz) to land on the frame grid.
        assert!((beep - 0.6).abs() < 0.0117, "{what}: beep at {beep}");
    }
}

#[test]
fn captions_burned_into_a_rotated_video_are_upright() {
    // Before issue 19 they were drawn on the stored (sideways) picture, which the player
    // then turned: the text ran down the screen.
    let d = tempfile::tempdir().unwrap();
    let wide = flash_clip(d.path(), "wide.mp4", "320x180", &[]);
    let rotated = d.path().join("rotated.mp4");
    ff(&[
        "-i",
        wide.to_str().unwrap(),
        "-c",
        "copy",
        "-metadata:s:v",
        "rotate=90",
        rotated.to_str().unwrap(),
    ]);
    let srt = d.path().join("c.srt");
    std::fs::write(&srt, "1\n00:00:00,100 --> 00:00:01,900\nHello world\n").unwrap();
    let out = d.path().join("burned.mp4");
    let o = RenderOptions {
        burn_in: Some(srt),
        burn_in_style: Some("FontSize=20".into()),
        ..RenderOptions::default()
    };
    render_ok(&rotated, &[Span::secs(0.0, 2.0)], &out, &o);
    let j = probe_json(&out);
    let v = stream(&j, "video");
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(180), Some(320)),
        "turned upright"
    );
    assert!(v["side_data_list"].is_null(), "{}", v["side_data_list"]);
    let f = frame_at(&out, 0.5);
    let white = |p: (u8, u8, u8)| p.0 > 200 && p.1 > 200 && p.2 > 200;
    let ((x0, y0, x1, y1), _) = f.bbox(0..f.h, white).expect("the caption is drawn");
    assert!(
        (x1 - x0) > 3 * (y1 - y0) && y0 > f.h / 2,
        "a line across the bottom half: columns {x0}..={x1}, rows {y0}..={y1}"
    );
}

// ---------------------------------------------------------------------------------------------
// Where the picture goes: a red marker on blue.

/// 320×180, blue, a red 20×20 square at (240, 80), 1 s, with a tone.
fn marker_clip(dir: &Path) -> PathBuf {
    let p = dir.join("marker.mp4");
    ff(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=0x0000FF:s=320x180:r=25:d=1,drawbox=x=240:y=80:w=20:h=20:c=0xFF0000:t=fill",
        "-f",
        "lavfi",
        "-i",
        "sine=f=440:d=1",
        "-pix_fmt",
        "yuv420p",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-crf",
        "12",
        "-c:a",
        "aac",
        "-shortest",
        p.to_str().unwrap(),
    ]);
    p
}

fn red(p: (u8, u8, u8)) -> bool {
    p.0 > 160 && p.1 < 90 && p.2 < 90
}

fn near(a: usize, b: f64, what: &str) {
    assert!((a as f64 - b).abs() <= 2.0, "{what}: {a}, computed {b:.1}");
}

#[test]
fn each_reframe_mode_puts_the_marker_where_computed() {
    let d = tempfile::tempdir().unwrap();
    let input = marker_clip(d.path());
    let keep = [Span::secs(0.0, 1.0)];
    let run = |name: &str, o: RenderOptions| -> Rgb {
        let out = d.path().join(format!("{name}.mp4"));
        render_ok(&input, &keep, &out, &o);
        let f = frame_at(&out, 0.5);
        let png = d.path().join(format!("{name}.png"));
        ff(&[
            "-i",
            out.to_str().unwrap(),
            "-frames:v",
            "1",
            png.to_str().unwrap(),
        ]);
        f
    };

    // crop at the right edge: the 101-pixel window starts at x = 219 and is scaled to 102
    // wide, so the marker (x 240..260) lands at (240 − 219) · 102/101 = 21.2 … 41.4.
    let right = RenderOptions {
        reframe_x: 1.0,
        ..opts("9:16", Reframe::Crop)
    };
    let f = run("crop-right", right);
    assert_eq!((f.w, f.h), (102, 180));
    let ((x0, y0, x1, y1), _) = f.bbox(0..f.h, red).expect("the marker is in the window");
    near(x0, 21.2, "marker left");
    near(x1, 41.4 - 1.0, "marker right");
    near(y0, 80.0, "marker top");
    near(y1, 99.0, "marker bottom");
    // At the left edge and in the centre the window (0..101, 110..211) misses it.
    for rx in [0.0, 0.5] {
        let o = RenderOptions {
            reframe_x: rx,
            ..opts("9:16", Reframe::Crop)
        };
        let f = run(&format!("crop-{rx}"), o);
        assert!(f.bbox(0..f.h, red).is_none(), "reframe_x {rx}: no marker");
    }

    // fit-pad: 320×568, the picture at rows 194..374, green bars above and below.
    let pad = RenderOptions {
        pad_colour: "#00FF00".into(),
        ..opts("9:16", Reframe::FitPad)
    };
    let f = run("fit-pad", pad);
    assert_eq!((f.w, f.h), (320, 568));
    let ((x0, y0, x1, y1), _) = f.bbox(0..f.h, red).unwrap();
    near(x0, 240.0, "fit-pad marker left");
    near(x1, 259.0, "fit-pad marker right");
    near(y0, 274.0, "fit-pad marker top");
    near(y1, 293.0, "fit-pad marker bottom");
    let green = |p: (u8, u8, u8)| p.1 > 200 && p.0 < 60 && p.2 < 60;
    for rows in [0..190, 378..568] {
        let bars = f.bbox(rows.clone(), green).map_or(0, |b| b.1);
        assert_eq!(
            bars,
            320 * rows.len(),
            "fit-pad bars {rows:?} are the pad colour"
        );
    }
    let (_, _, b) = f.mean(200..370);
    assert!(b > 200.0, "the picture between the bars is blue ({b})");

    // fit-blur: the same place for the picture; the bars hold its blurred colours (blue),
    // not black or a pad colour.
    let f = run("fit-blur", opts("9:16", Reframe::FitBlur));
    assert_eq!((f.w, f.h), (320, 568));
    let ((x0, y0, _, _), _) = f.bbox(194..374, red).unwrap();
    near(x0, 240.0, "fit-blur marker left");
    near(y0, 274.0, "fit-blur marker top");
    for rows in [0..180, 390..568] {
        let (r, g, b) = f.mean(rows.clone());
        assert!(
            b > 150.0 && b > r + 60.0 && b > g + 60.0,
            "fit-blur bars {rows:?}: mean colour ({r:.0}, {g:.0}, {b:.0}) is the picture's blue"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Captions that fit the frame: the shorts preset end to end.

/// A 3 s 1280×720 clip of a plain grey-blue, with a tone where the "speech" is (0.5–2.5 s).
fn plain_720(dir: &Path) -> PathBuf {
    let input = dir.join("talk.mp4");
    ff(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=0x204080:s=1280x720:r=25:d=3",
        "-f",
        "lavfi",
        "-i",
        "aevalsrc='0.5*between(t\\,0.5\\,2.5)*sin(2*PI*300*t)':s=16000:d=3",
        "-pix_fmt",
        "yuv420p",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-c:a",
        "aac",
        "-shortest",
        input.to_str().unwrap(),
    ]);
    input
}

/// A transcript for `--fake-transcript`: one segment of `words` (text, start, end).
fn fake_transcript(dir: &Path, words: &[(&str, f64, f64)]) -> PathBuf {
    let p = dir.join("fake.json");
    let ws: Vec<Value> = words
        .iter()
        .map(|(t, a, b)| serde_json::json!({"text": t, "start": a, "end": b, "probability": 0.9}))
        .collect();
    let text: Vec<&str> = words.iter().map(|w| w.0).collect();
    let j = serde_json::json!({"language": "en", "segments": [{
        "start": words[0].1, "end": words[words.len() - 1].2, "text": text.join(" "),
        "no_speech_probability": 0.01, "words": ws}]});
    std::fs::write(&p, j.to_string()).unwrap();
    p
}

/// Pixels that differ from the frame's top-left corner (the plain background).
fn not_background(f: &Rgb) -> impl Fn((u8, u8, u8)) -> bool {
    let bg = f.at(2, 2);
    move |p: (u8, u8, u8)| {
        p.0.abs_diff(bg.0) as u32 + p.1.abs_diff(bg.1) as u32 + p.2.abs_diff(bg.2) as u32 > 90
    }
}

#[test]
fn shorts_preset_gives_a_9x16_video_with_captions_in_the_safe_area() {
    let d = tempfile::tempdir().unwrap();
    let input = plain_720(d.path());
    // One cue with tall and deep letters (J, d, p, y): its box is the line's height.
    let fake = fake_transcript(
        d.path(),
        &[
            ("Jumpy", 0.7, 1.2),
            ("dogs", 1.3, 1.7),
            ("played.", 1.8, 2.3),
        ],
    );
    let out_dir = d.path().join("out");
    let out = subcut()
        .args(["run", "--preset", "shorts"])
        .arg(&input)
        .arg("--fake-transcript")
        .arg(&fake)
        .arg("-o")
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let video = out_dir.join("talk.cut.mp4");
    let j = probe_json(&video);
    let v = stream(&j, "video");
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(406), Some(720))
    );
    let cues = parse_srt(&std::fs::read_to_string(out_dir.join("talk.cut.srt")).unwrap());
    assert_eq!(cues.len(), 1, "{cues:?}");
    assert_eq!(cues[0].text, "Jumpy dogs played.");
    let mid = (cues[0].start + cues[0].end) / 2.0;
    let f = frame_at(&video, mid);
    let ((x0, y0, x1, y1), n) = f
        .bbox(0..f.h, not_background(&f))
        .expect("a caption is drawn");
    let (w, h) = (f.w as f64, f.h as f64);
    let (top, bottom) = (y0 as f64 / h, (y1 + 1) as f64 / h);
    let height = (y1 + 1 - y0) as f64 / h;
    assert!(n > 500, "{n} caption pixels");
    // The safe area: the band 20–35 % above the bottom edge, clear of the right-hand
    // button column (right 15 %), inside the frame.
    assert!(
        top >= 0.65 && bottom <= 0.80,
        "caption rows {y0}..={y1} of {h}: {top:.3}..{bottom:.3} of the height"
    );
    assert!(
        (x1 + 1) as f64 <= 0.85 * w && x0 as f64 >= 0.05 * w,
        "caption columns {x0}..={x1} of {w}"
    );
    assert!(
        height >= 0.04,
        "caption line {:.1} % of the height",
        100.0 * height
    );
    // Karaoke: at the cue's midpoint "Jumpy" has been said (gold) and "played." not yet
    // (white).
    let gold = |p: (u8, u8, u8)| p.0 > 200 && p.1 > 160 && p.1 < 235 && p.2 < 90;
    let white = |p: (u8, u8, u8)| p.0 > 220 && p.1 > 220 && p.2 > 220;
    let said = f
        .bbox(y0..y1 + 1, gold)
        .expect("said words are highlighted")
        .0;
    let to_come = f
        .bbox(y0..y1 + 1, white)
        .expect("words to come are white")
        .0;
    assert!(
        said.2 < to_come.0,
        "highlight on the left (columns {}..={}), plain text on the right ({}..={})",
        said.0,
        said.2,
        to_come.0,
        to_come.2
    );
}

#[test]
fn landscape_captions_on_a_9x16_frame_get_lines_that_fit_its_width() {
    // The default style is written for 1920×1080 with 42-character lines; burned into a
    // 406×720 frame there is room for about 23.
    let d = tempfile::tempdir().unwrap();
    let input = plain_720(d.path());
    let text = "Captions on a narrow frame never run off either side of the picture";
    let words: Vec<(&str, f64, f64)> = text
        .split(' ')
        .enumerate()
        .map(|(i, w)| (w, 0.6 + 0.15 * i as f64, 0.6 + 0.15 * i as f64 + 0.12))
        .collect();
    let fake = fake_transcript(d.path(), &words);
    let out_dir = d.path().join("out");
    let out = subcut()
        .args(["cut", "--burn-in", "--aspect", "9:16"])
        .arg(&input)
        .arg("--fake-transcript")
        .arg(&fake)
        .arg("-o")
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let srt = std::fs::read_to_string(out_dir.join("talk.cut.srt")).unwrap();
    let longest = srt
        .lines()
        .filter(|l| !l.contains(" --> ") && l.parse::<u32>().is_err())
        .map(|l| l.chars().count())
        .max()
        .unwrap();
    assert!(longest <= 23, "a line of {longest} characters:\n{srt}");
    let video = out_dir.join("talk.cut.mp4");
    for c in parse_srt(&srt) {
        let f = frame_at(&video, (c.start + c.end) / 2.0);
        let ((x0, _, x1, _), _) = f
            .bbox(0..f.h, not_background(&f))
            .unwrap_or_else(|| panic!("{c:?} is drawn"));
        assert!(
            x0 >= 4 && x1 + 4 < f.w,
            "{c:?}: columns {x0}..={x1} of {} touch a side",
            f.w
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Karaoke ASS read back by libass.

#[test]
fn karaoke_ass_is_read_by_libass_and_the_highlight_moves() {
    let d = tempfile::tempdir().unwrap();
    let w = |a: i64, b: i64, t: &str| Word {
        text: t.into(),
        start: Time::from_millis(a),
        end: Time::from_millis(b),
        probability: 1.0,
    };
    let words = [
        w(200, 600, "One"),
        w(700, 1_100, "two"),
        w(1_200, 1_600, "three"),
        w(1_700, 2_000, "four"),
    ];
    let cues = [Cue {
        start: Time::from_millis(100),
        end: Time::from_millis(2_300),
        text: "One two three four".into(),
    }];
    let style = AssStyle {
        karaoke: true,
        size: 40.0,
        outline: 0.0,
        shadow: 0.0,
        primary_colour: "#FFFFFF".into(),
        highlight_colour: "#FF0000".into(),
        margin_h: 20,
        margin_v: 15,
        play_res_x: 480,
        play_res_y: 270,
        ..AssStyle::default()
    };
    let ass = d.path().join("k.ass");
    let text = render_words(&cues, &words, &style, "k");
    assert!(text.contains(r"{\k10}{\k50}One {\k50}two"), "{text}");
    std::fs::write(&ass, text).unwrap();
    // Frames at 0.4 s (one word said), 1.4 s (three) and 2.2 s (all four), drawn by libass.
    let video = d.path().join("k.mp4");
    ff(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=black:s=480x270:r=10:d=2.3",
        "-vf",
        &format!("subtitles=filename={}", ass.display()),
        "-pix_fmt",
        "yuv444p",
        "-c:v",
        "libx264",
        "-crf",
        "0",
        video.to_str().unwrap(),
    ]);
    let red_pixels = |t: f64| {
        let f = frame_at(&video, t);
        f.bbox(0..f.h, red)
            .map_or((0, 0), |((_, _, x1, _), n)| (n, x1))
    };
    let (early, early_right) = red_pixels(0.4);
    let (middle, middle_right) = red_pixels(1.4);
    let (late, _) = red_pixels(2.2);
    assert!(early > 50, "the first word is highlighted ({early} px)");
    assert!(
        middle > early && late > middle && middle_right > early_right,
        "the highlight moves right: {early} px to x {early_right}, {middle} px to x \
         {middle_right}, {late} px"
    );
    let f = frame_at(&video, 0.4);
    let white = |p: (u8, u8, u8)| p.0 > 200 && p.1 > 200 && p.2 > 200;
    assert!(
        f.bbox(0..f.h, white).is_some_and(|(_, n)| n > 100),
        "the words to come are drawn in the text colour"
    );
}
