//! Every editor export read back by readers that are not ours: the EDL with OpenTimelineIO's
//! CMX3600 adapter, the Premiere XML (xmeml) with its FCP 7 XML adapter, the `.otio` with
//! OpenTimelineIO itself (all in the venv scripts/setup.sh makes; a missing reader fails),
//! and the FCPXML by its exact rational times with roxmltree (OTIO's FCPXML readers round at
//! NTSC rates). Media is made on the fly with the ffmpeg CLI at 25 and 30000/1001 fps, with
//! and without an embedded timecode (non-drop and drop-frame), and audio only; every clip
//! each reader sees must be the cut list's kept span, to the frame, on the file's timecode.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::util::{stderr, subcut};

/// The Python of the venv with OpenTimelineIO and its adapters (scripts/setup.sh).
fn otio_python() -> PathBuf {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache"));
    let py = cache.join("subcut/otio-venv/bin/python");
    let ok = Command::new(&py)
        .args([
            "-c",
            "import opentimelineio, otio_cmx3600_adapter, otio_fcp_adapter",
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "OpenTimelineIO's readers are not installed in {}: run scripts/setup.sh (it makes the \
         venv from scripts/otio-requirements.txt)",
        py.display()
    );
    py
}

/// What an OTIO reader saw (tests/it/otio_read.py's JSON).
fn otio_read(adapter: &str, file: &Path, rate: &str) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/otio_read.py");
    let o = Command::new(otio_python())
        .arg(script)
        .arg(adapter)
        .arg(file)
        .arg(rate)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "OTIO's {adapter} reader refused {}: {}",
        file.display(),
        stderr(&o)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

fn run(cmd: &mut Command) {
    let o = cmd
        .output()
        .expect("ffmpeg is installed by scripts/setup.sh");
    assert!(o.status.success(), "{cmd:?}: {}", stderr(&o));
}

/// A test input: a tone that sounds 1.5 s of every 3 (so there is something to cut), and
/// a test picture.
struct Input {
    /// The frame rate made, as a fraction (`30000/1001`).
    rate: &'static str,
    /// The embedded timecode made (`""`: none).
    timecode: &'static str,
    audio_only: bool,
}

impl Input {
    fn make(&self, dir: &Path) -> PathBuf {
        // Mono for audio, stereo (two audio tracks in the Premiere XML) with video.
        let one = "0.5*sin(2*PI*440*t)*lt(mod(t\\,3)\\,1.5)";
        let channels = if self.audio_only {
            one.to_string()
        } else {
            format!("{one}|{one}")
        };
        let tone = format!("aevalsrc={channels}:s=48000:d=9.1");
        let mut c = Command::new("ffmpeg");
        c.args(["-v", "error", "-y", "-f", "lavfi", "-i", &tone]);
        let path = if self.audio_only {
            dir.join("voice.wav")
        } else {
            let src = format!("testsrc2=size=320x240:rate={}:duration=9", self.rate);
            c.args(["-f", "lavfi", "-i", &src]);
            c.args([
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-pix_fmt",
                "yuv420p",
            ]);
            c.args(["-c:a", "aac", "-shortest"]);
            dir.join("cam.mov")
        };
        if !self.timecode.is_empty() {
            c.args(["-timecode", self.timecode]);
        }
        run(c.arg(&path));
        path
    }

    /// (num, den) of the rate.
    fn fraction(&self) -> (i64, i64) {
        let (n, d) = self.rate.split_once('/').unwrap_or((self.rate, "1"));
        (n.parse().unwrap(), d.parse().unwrap())
    }

    fn drop_frame(&self) -> bool {
        self.timecode.contains(';')
    }

    /// The timecode's first frame, counted here independently of subcut: SMPTE drop-frame
    /// skips 2 labels a minute but each tenth at 29.97.
    fn start_frame(&self) -> i64 {
        if self.timecode.is_empty() {
            return 0;
        }
        let p: Vec<i64> = self
            .timecode
            .split([':', ';'])
            .map(|x| x.parse().unwrap())
            .collect();
        let (n, d) = self.fraction();
        let base = (n + d / 2) / d;
        let nominal = ((p[0] * 60 + p[1]) * 60 + p[2]) * base + p[3];
        let minutes = p[0] * 60 + p[1];
        if self.drop_frame() {
            nominal - 2 * (minutes - minutes / 10)
        } else {
            nominal
        }
    }
}

/// ffprobe's frame count of the first video stream.
fn video_frames(path: &Path) -> i64 {
    let o = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-count_frames"])
        .args(["-show_entries", "stream=nb_read_frames", "-of", "csv=p=0"])
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout).trim().parse().unwrap()
}

fn duration(path: &Path) -> f64 {
    let o = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format=duration",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout).trim().parse().unwrap()
}

/// A reader's frame value: a whole number (no rounding in the reader), as i64.
fn whole(v: &Value, what: &str) -> i64 {
    let f = v.as_f64().unwrap_or_else(|| panic!("{what}: {v}"));
    assert!(
        (f - f.round()).abs() < 1e-6,
        "{what}: {f} is not a whole frame"
    );
    f.round() as i64
}

/// One track a reader saw: its kind, its clips as (source start, duration, position), and
/// their media URLs.
type Track = (String, Vec<(i64, i64, i64)>, Vec<String>);

/// The tracks a reader saw.
fn tracks_of(read: &Value, what: &str) -> Vec<Track> {
    read["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let items = t["items"].as_array().unwrap();
            let mut clips = Vec::new();
            let mut urls = Vec::new();
            for it in items {
                assert_eq!(it["schema"], "Clip", "{what}: only clips, no gaps: {t}");
                clips.push((
                    whole(&it["start"], what),
                    whole(&it["duration"], what),
                    whole(&it["position"], what),
                ));
                urls.push(it["url"].as_str().unwrap_or("").to_string());
            }
            (t["kind"].as_str().unwrap().to_string(), clips, urls)
        })
        .collect()
}

/// An FCPXML time `N/Ds` (or `0s`) as an exact fraction of seconds.
fn rational(v: &str) -> (i64, i64) {
    let v = v.strip_suffix('s').expect("seconds");
    match v.split_once('/') {
        Some((n, d)) => (n.parse().unwrap(), d.parse().unwrap()),
        None => (v.parse().unwrap(), 1),
    }
}

/// Whether FCPXML time `v` is exactly `frames` frames at `num/den` fps.
fn is_frames(v: &str, frames: i64, (num, den): (i64, i64)) -> bool {
    let (n, d) = rational(v);
    n as i128 * num as i128 == frames as i128 * den as i128 * d as i128
}

fn check_fcpxml(xml: &str, case: &Input, want: &[(i64, i64)], tc0: i64, media_frames: i64) {
    let doc = roxmltree::Document::parse_with_options(
        xml,
        roxmltree::ParsingOptions {
            allow_dtd: true,
            ..Default::default()
        },
    )
    .unwrap();
    let fps = case.fraction();
    let el = |name: &str| {
        doc.descendants()
            .find(|n| n.has_tag_name(name))
            .unwrap_or_else(|| panic!("<{name}>"))
    };
    assert!(is_frames(
        el("format").attribute("frameDuration").unwrap(),
        1,
        fps
    ));
    let asset = el("asset");
    assert!(
        is_frames(asset.attribute("start").unwrap(), tc0, fps),
        "asset start is the timecode: {}",
        asset.attribute("start").unwrap()
    );
    assert!(is_frames(
        asset.attribute("duration").unwrap(),
        media_frames,
        fps
    ));
    let seq = el("sequence");
    let tc_format = if case.drop_frame() { "DF" } else { "NDF" };
    assert_eq!(seq.attribute("tcFormat"), Some(tc_format));
    assert_eq!(seq.attribute("audioLayout"), Some("stereo"), "never mono");
    let mut offset = 0;
    let clips: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("asset-clip"))
        .collect();
    assert_eq!(clips.len(), want.len());
    for (c, &(start, len)) in clips.iter().zip(want) {
        let a = |k| c.attribute(k).unwrap();
        assert!(
            is_frames(a("offset"), offset, fps),
            "offset {}",
            a("offset")
        );
        assert!(
            is_frames(a("start"), start, fps),
            "start {} ≠ frame {start}",
            a("start")
        );
        assert!(
            is_frames(a("duration"), len, fps),
            "duration {}",
            a("duration")
        );
        assert_eq!(a("tcFormat"), tc_format);
        offset += len;
    }
    assert!(is_frames(seq.attribute("duration").unwrap(), offset, fps));
}

/// Cuts `case` with every export and checks each against the cut list.
fn check(case: &Input) {
    let dir = tempfile::tempdir().unwrap();
    let input = case.make(dir.path()).canonicalize().unwrap();
    let out = dir.path().join("out");
    let mut cmd = subcut();
    cmd.arg("cut").arg(&input).args([
        "--no-captions",
        "--threshold=-30dB",
        "--export",
        "json,edl,fcpxml,premiere,otio",
        "-q",
        "-o",
    ]);
    cmd.arg(&out);
    if case.audio_only {
        cmd.args(["--fps", case.rate]);
    }
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let stem = input.file_stem().unwrap().to_str().unwrap();
    let file = |ext: &str| out.join(format!("{stem}.{ext}"));
    let what = format!("{} fps, timecode {:?}", case.rate, case.timecode);

    // The cut list: kept spans in frames from the first frame.
    let list: Value =
        serde_json::from_str(&std::fs::read_to_string(file("cutlist.json")).unwrap()).unwrap();
    let (n, d) = case.fraction();
    assert_eq!(
        list["fps"],
        if d == 1 {
            n.to_string()
        } else {
            case.rate.into()
        }
    );
    let tc0 = case.start_frame();
    let keep: Vec<(i64, i64)> = list["keep"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            let (a, b) = (
                k["start_frame"].as_i64().unwrap(),
                k["end_frame"].as_i64().unwrap(),
            );
            (tc0 + a, b - a)
        })
        .collect();
    assert!(keep.len() >= 3, "{what}: something was cut: {list}");
    let media_frames = list["duration_frames"].as_i64().unwrap();
    if !case.audio_only {
        assert_eq!(
            media_frames,
            video_frames(&input),
            "{what}: as many frames as the video has"
        );
    }
    let positions: Vec<(i64, i64, i64)> = keep
        .iter()
        .scan(0, |pos, &(s, l)| {
            let p = *pos;
            *pos += l;
            Some((s, l, p))
        })
        .collect();
    let kinds: Vec<&str> = if case.audio_only {
        vec!["Audio"]
    } else {
        vec!["Video", "Audio"]
    };

    // EDL: OTIO's CMX3600 reader (which checks source and record lengths agree).
    let edl = std::fs::read_to_string(file("edl")).unwrap();
    let fcm = if case.drop_frame() {
        "FCM: DROP FRAME"
    } else {
        "FCM: NON-DROP FRAME"
    };
    assert_eq!(edl.lines().nth(1), Some(fcm), "{what}");
    let read = otio_read("cmx_3600", &file("edl"), case.rate);
    let tracks = tracks_of(&read, "edl");
    assert_eq!(
        tracks.iter().map(|t| t.0.as_str()).collect::<Vec<_>>(),
        kinds,
        "{what}"
    );
    for t in &tracks {
        assert_eq!(t.1, positions, "{what}: EDL track {}", t.0);
    }

    // Premiere XML: OTIO's FCP 7 XML reader (source start = file timecode + in).
    let read = otio_read("fcp_xml", &file("xml"), case.rate);
    let tracks = tracks_of(&read, "xml");
    assert_eq!(
        tracks.iter().map(|t| t.0.as_str()).collect::<Vec<_>>(),
        kinds,
        "{what}"
    );
    for t in &tracks {
        assert_eq!(t.1, positions, "{what}: xmeml track {}", t.0);
        for u in &t.2 {
            assert!(
                u.starts_with("file://localhost/")
                    && u.ends_with(&format!(
                        "{stem}.{}",
                        input.extension().unwrap().to_str().unwrap()
                    )),
                "{what}: {u}"
            );
        }
    }

    // OpenTimelineIO: OTIO itself.
    let read = otio_read("otio_json", &file("otio"), case.rate);
    let tracks = tracks_of(&read, "otio");
    assert_eq!(
        tracks.iter().map(|t| t.0.as_str()).collect::<Vec<_>>(),
        kinds,
        "{what}"
    );
    let url = format!("file://{}", input.display());
    for t in &tracks {
        assert_eq!(t.1, positions, "{what}: otio track {}", t.0);
        assert!(t.2.iter().all(|u| *u == url), "{what}: {:?} vs {url}", t.2);
    }
    let first = &read["tracks"][0]["items"][0]["available"];
    assert_eq!(
        (whole(&first[0], "otio"), whole(&first[1], "otio")),
        (tc0, media_frames),
        "{what}: the media's range starts at its timecode"
    );

    // FCPXML: exact rationals.
    let xml = std::fs::read_to_string(file("fcpxml")).unwrap();
    check_fcpxml(&xml, case, &keep, tc0, media_frames);

    // The timeline ends where the cut media ends (to half a frame: the media's last frame).
    let total: i64 = keep.iter().map(|k| k.1).sum();
    let ext = input.extension().unwrap().to_str().unwrap();
    let cut_ext = if case.audio_only { ext } else { "mp4" };
    let cut = duration(&out.join(format!("{stem}.cut.{cut_ext}")));
    let timeline = total as f64 * d as f64 / n as f64;
    let tolerance = if case.audio_only { 0.5 } else { 1.5 } * d as f64 / n as f64 + 0.003;
    assert!(
        (cut - timeline).abs() <= tolerance,
        "{what}: the cut lasts {cut} s, the timeline {timeline} s"
    );
}

#[test]
fn pal_without_timecode() {
    check(&Input {
        rate: "25",
        timecode: "",
        audio_only: false,
    });
}

#[test]
fn pal_with_timecode() {
    check(&Input {
        rate: "25",
        timecode: "10:00:00:00",
        audio_only: false,
    });
}

#[test]
fn ntsc_without_timecode() {
    check(&Input {
        rate: "30000/1001",
        timecode: "",
        audio_only: false,
    });
}

#[test]
fn ntsc_with_non_drop_timecode() {
    check(&Input {
        rate: "30000/1001",
        timecode: "10:00:00:00",
        audio_only: false,
    });
}

#[test]
fn ntsc_with_drop_frame_timecode() {
    check(&Input {
        rate: "30000/1001",
        timecode: "01:00:55;00",
        audio_only: false,
    });
}

#[test]
fn audio_only_on_the_fps_given() {
    check(&Input {
        rate: "25",
        timecode: "",
        audio_only: true,
    });
}
