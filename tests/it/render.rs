//! The renderer of `subcut cut` (`subcut::media::render`), called as a library on small media
//! made on the fly with the ffmpeg CLI, checked with ffprobe and by decoding the output.
//!
//! Content checks: the test video's luma encodes the source frame number (`16 + 4·(N mod 50)`,
//! flat frames, so it survives H.264 exactly) and its left audio channel steps through five
//! very different amplitudes every 0.1 s, so both "the right frames" and "the right audio at
//! the right output time" are verified, not just durations.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use subcut::edit::{FrameGrid, FrameRate};
use subcut::media::probe::{output_extension, probe};
use subcut::media::render::{render, RenderError, RenderOptions, RenderSummary};
use subcut::time::{Span, Time};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");

// ---------------------------------------------------------------------------------------------
// Making inputs and looking at outputs.

fn ff(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg CLI");
    assert!(
        out.status.success(),
        "ffmpeg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Left: 440 Hz at amplitude AMP[floor(10 t) mod 5]; right: 1 kHz at 0.3.
const AMP: [f32; 5] = [0.05, 0.4, 0.1, 0.3, 0.2];
fn aeval(secs: f64, rate: u32, stereo: bool) -> String {
    let m = "mod(floor(t*10)\\,5)";
    let left = format!(
        "(0.05+0.35*eq({m}\\,1)+0.05*eq({m}\\,2)+0.25*eq({m}\\,3)+0.15*eq({m}\\,4))*sin(2*PI*440*t)"
    );
    let right = if stereo { "|0.3*sin(2*PI*1000*t)" } else { "" };
    format!("aevalsrc='{left}{right}':s={rate}:d={secs}")
}

/// Luma of source frame `n`.
fn luma(n: i64) -> f64 {
    16.0 + 4.0 * (n % 50) as f64
}

fn ramp_video(size: &str, rate: &str, secs: f64) -> String {
    // 4:4:4 in the filter chain so odd sizes stay odd (the encode picks its own format).
    format!(
        "color=c=black:s={size}:r={rate}:d={secs},format=yuv444p,geq=lum='16+4*mod(N\\,50)':cb=128:cr=128"
    )
}

/// H.264 (with B-frames) + stereo AAC 48 kHz, 160×120, 25 fps.
fn make_av(dir: &Path, name: &str, secs: f64) -> PathBuf {
    make_av_with(dir, name, secs, &[])
}

/// [`make_av`] with more encoder options (`-g 10`, `-x264-params …`).
fn make_av_with(dir: &Path, name: &str, secs: f64, encoder: &[&str]) -> PathBuf {
    let p = dir.join(name);
    let v = ramp_video("160x120", "25", secs);
    let a = aeval(secs, 48_000, true);
    let mut args = vec![
        "-f", "lavfi", "-i", &v, "-f", "lavfi", "-i", &a, "-pix_fmt", "yuv420p", "-c:v", "libx264",
        "-preset", "veryfast", "-bf", "3",
    ];
    args.extend_from_slice(encoder);
    args.extend_from_slice(&["-c:a", "aac", "-b:a", "128k", "-shortest"]);
    args.push(p.to_str().unwrap());
    ff(&args);
    p
}

fn probe_json(p: &Path) -> Value {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-count_frames",
            "-show_format",
            "-show_streams",
            "-of",
            "json",
        ])
        .arg(p)
        .output()
        .expect("ffprobe");
    assert!(out.status.success(), "ffprobe {}", p.display());
    serde_json::from_slice(&out.stdout).unwrap()
}

fn stream<'a>(v: &'a Value, kind: &str) -> Option<&'a Value> {
    v["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["codec_type"] == kind)
}

fn num(v: &Value) -> f64 {
    match v {
        Value::String(s) => s.parse().unwrap_or(f64::NAN),
        Value::Number(n) => n.as_f64().unwrap(),
        _ => f64::NAN,
    }
}

/// Frame rate string "25/1" → f64.
fn rate(s: &Value) -> f64 {
    let s = s.as_str().unwrap();
    let (a, b) = s.split_once('/').unwrap();
    a.parse::<f64>().unwrap() / b.parse::<f64>().unwrap()
}

/// Mean luma of every frame (decoded by the CLI, every frame as stored).
fn frame_lumas(p: &Path, w: usize, h: usize) -> Vec<f64> {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(p)
        .args([
            "-map",
            "0:v:0",
            "-vsync",
            "passthrough",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "yuv444p",
            "-",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    out.stdout
        .chunks_exact(w * h * 3)
        .map(|f| f[..w * h].iter().map(|&x| x as f64).sum::<f64>() / (w * h) as f64)
        .collect()
}

/// Frame presentation times in seconds.
fn frame_times(p: &Path) -> Vec<f64> {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "frame=pts_time",
            "-of",
            "csv=p=0",
        ])
        .arg(p)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().trim_end_matches(',').parse().ok())
        .collect()
}

/// Decoded audio, per channel, at its own rate.
fn pcm(p: &Path, channels: usize) -> Vec<Vec<f32>> {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(p)
        .args(["-map", "0:a:0", "-f", "f32le", "-"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let all: Vec<f32> = out
        .stdout
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    (0..channels)
        .map(|c| all.iter().skip(c).step_by(channels).copied().collect())
        .collect()
}

fn rms(x: &[f32]) -> f32 {
    (x.iter().map(|v| v * v).sum::<f32>() / x.len().max(1) as f32).sqrt()
}

/// The frame boundary of `g` nearest to `t`.
fn snap(g: FrameGrid, t: Time) -> Time {
    g.time_of(g.frame_round(t))
}

fn render_ok(input: &Path, keep: &[Span], out: &Path, opts: &RenderOptions) -> RenderSummary {
    let mut seen = Vec::new();
    let s = render(input, keep, out, opts, &mut |f| seen.push(f)).unwrap_or_else(|e| panic!("{e}"));
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "progress {seen:?}");
    assert_eq!(seen.last(), Some(&1.0));
    s
}

fn total(keep: &[Span]) -> f64 {
    subcut::time::total(keep).as_secs_f64()
}

/// Output time → source time under `keep` (sorted, disjoint).
fn unmap(keep: &[Span], out: f64) -> f64 {
    let mut acc = 0.0;
    for s in keep {
        let d = s.duration().as_secs_f64();
        if out < acc + d {
            return s.start.as_secs_f64() + out - acc;
        }
        acc += d;
    }
    keep.last().unwrap().end.as_secs_f64()
}

/// Durations: container, video and audio stream all equal the planned duration within a
/// frame (`tol`), and audio vs video within a frame.
fn check_durations(j: &Value, planned: f64, tol: f64) {
    let fmt = num(&j["format"]["duration"]);
    assert!(
        (fmt - planned).abs() <= tol,
        "container {fmt} vs planned {planned}"
    );
    let v = stream(j, "video").map(|s| num(&s["duration"]));
    let a = stream(j, "audio").map(|s| num(&s["duration"]));
    if let Some(v) = v {
        assert!((v - planned).abs() <= tol, "video {v} vs planned {planned}");
    }
    if let Some(a) = a {
        assert!((a - planned).abs() <= tol, "audio {a} vs planned {planned}");
    }
    if let (Some(v), Some(a)) = (v, a) {
        assert!((v - a).abs() < tol, "audio {a} vs video {v}");
    }
}

/// Left-channel amplitude checks: every 0.1 s step of the source that lies in a span (at
/// least 25 ms from a cut) must appear at its mapped output time with its amplitude.
fn check_audio_steps(left: &[f32], rate: f64, keep: &[Span]) {
    let mut out0 = 0.0;
    let mut checked = 0;
    for s in keep {
        let (a, b) = (s.start.as_secs_f64(), s.end.as_secs_f64());
        let mut step = (a * 10.0).floor() as i64;
        while (step as f64) / 10.0 < b {
            let lo = (step as f64 / 10.0).max(a + 0.025) + 0.01;
            let hi = ((step + 1) as f64 / 10.0).min(b - 0.025) - 0.01;
            if hi - lo >= 0.03 {
                let (i, j) = (
                    ((out0 + lo - a) * rate) as usize,
                    ((out0 + hi - a) * rate) as usize,
                );
                // Median of 10 ms RMS values: robust to the native AAC encoder's occasional
                // pre-echo burst at a steep amplitude step (the rendered samples are exact;
                // see the WAV case).
                let mut parts: Vec<f32> = left[i..j.min(left.len())]
                    .chunks((rate / 100.0) as usize)
                    .filter(|c| c.len() * 2 > (rate / 100.0) as usize)
                    .map(rms)
                    .collect();
                parts.sort_by(f32::total_cmp);
                let got = parts[parts.len() / 2];
                let want = AMP[(step % 5) as usize] / 2f32.sqrt();
                assert!(
                    (got - want).abs() <= 0.12 * want,
                    "source {lo:.3}..{hi:.3} s (output {:.3}): RMS {got}, want {want}",
                    out0 + lo - a
                );
                checked += 1;
            }
            step += 1;
        }
        out0 += b - a;
    }
    assert!(checked >= 5, "only {checked} windows checked");
}

fn spans(v: &[(f64, f64)]) -> Vec<Span> {
    v.iter().map(|&(a, b)| Span::secs(a, b)).collect()
}

fn dir_names(d: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

// ---------------------------------------------------------------------------------------------
// Video + audio.

#[test]
fn b_frame_input_keeps_the_right_frames_and_audio_in_sync() {
    let d = tempfile::tempdir().unwrap();
    let input = make_av(d.path(), "in.mp4", 4.0);
    let j = probe_json(&input);
    assert!(
        num(&stream(&j, "video").unwrap()["has_b_frames"]) > 0.0,
        "no B-frames in input"
    );

    // Frame-aligned cut points (25 fps), as the edit plan snaps them.
    let keep = spans(&[(0.32, 1.12), (1.72, 2.52), (3.0, 3.64)]);
    let out = d.path().join("in.cut.mp4");
    let s = render_ok(&input, &keep, &out, &RenderOptions::default());
    let planned = total(&keep);
    assert!(s.constant_frame_rate);
    assert_eq!(s.video_frames, 56); // 20 + 20 + 16
    assert!((s.duration.as_secs_f64() - planned).abs() < 0.04, "{s:?}");
    assert!(
        (s.audio_duration.unwrap().as_secs_f64() - planned).abs() < 0.001,
        "{s:?}"
    );
    assert_eq!(s.audio_samples, (planned * 48_000.0).round() as u64);

    let j = probe_json(&out);
    check_durations(&j, planned, 0.04);
    let v = stream(&j, "video").unwrap();
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(160), Some(120))
    );
    assert_eq!(rate(&v["r_frame_rate"]), 25.0);
    assert_eq!(rate(&v["avg_frame_rate"]), 25.0);
    assert_eq!(num(&v["nb_read_frames"]), 56.0);
    assert_eq!(v["codec_name"], "h264");
    assert_eq!(v["pix_fmt"], "yuv420p");
    let a = stream(&j, "audio").unwrap();
    assert_eq!(a["codec_name"], "aac");
    assert_eq!(a["sample_rate"], "48000");
    assert_eq!(a["channel_layout"], "stereo");

    // The right frames, in order.
    let lumas = frame_lumas(&out, 160, 120);
    assert_eq!(lumas.len(), 56);
    for (k, y) in lumas.iter().enumerate() {
        let src = unmap(&keep, k as f64 / 25.0);
        let n = (src * 25.0).round() as i64;
        assert!(
            (y - luma(n)).abs() < 1.5,
            "output frame {k}: luma {y}, want source frame {n} ({})",
            luma(n)
        );
    }
    // The right audio at the right output time (sync), both channels.
    let ch = pcm(&out, 2);
    check_audio_steps(&ch[0], 48_000.0, &keep);
    let right = rms(&ch[1][4_800..ch[1].len() - 4_800]);
    assert!(
        (right - 0.3 / 2f32.sqrt()).abs() < 0.02,
        "right channel RMS {right}"
    );
}

#[test]
fn unaligned_cut_points_stay_within_half_a_frame() {
    let d = tempfile::tempdir().unwrap();
    let input = make_av(d.path(), "in.mp4", 4.0);
    let keep = spans(&[(0.105, 0.933), (1.517, 2.251), (2.9, 3.999)]);
    let out = d.path().join("out.mp4");
    let s = render_ok(&input, &keep, &out, &RenderOptions::default());
    let planned = total(&keep);
    let j = probe_json(&out);
    check_durations(&j, planned, 0.04);
    let v = stream(&j, "video").unwrap();
    assert_eq!(rate(&v["r_frame_rate"]), 25.0, "still constant 25 fps");
    let lumas = frame_lumas(&out, 160, 120);
    assert_eq!(lumas.len() as u64, s.video_frames);
    assert_eq!(lumas.len(), (planned * 25.0).round() as usize);
    for (k, y) in lumas.iter().enumerate() {
        // The frame shown must be one whose time is within half a frame of the source time.
        let src = unmap(&keep, k as f64 / 25.0);
        let ok = [(src * 25.0).floor() as i64, (src * 25.0).ceil() as i64]
            .iter()
            .any(|&n| (n as f64 / 25.0 - src).abs() <= 0.0201 && (y - luma(n)).abs() < 1.5);
        assert!(ok, "output frame {k} (source {src:.3} s): luma {y}");
    }
    check_audio_steps(&pcm(&out, 2)[0], 48_000.0, &keep);
}

#[test]
fn variable_frame_rate_keeps_source_timestamps() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("vfr.mp4");
    // 25 fps for 2 s, then 10 fps: 50 + 20 frames (millisecond timestamps, not snapped to
    // a 25 fps grid); the audio is added in a second pass so it lasts the full 4 s.
    let video_only = d.path().join("vfr-video.mp4");
    ff(&[
        "-f",
        "lavfi",
        "-i",
        &ramp_video("160x120", "25", 2.8),
        "-vf",
        "settb=1/1000,setpts='if(lt(N,50),N/25,2+(N-50)/10)/TB'",
        "-vsync",
        "vfr",
        "-enc_time_base",
        "1/1000",
        "-pix_fmt",
        "yuv420p",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        video_only.to_str().unwrap(),
    ]);
    ff(&[
        "-i",
        video_only.to_str().unwrap(),
        "-f",
        "lavfi",
        "-i",
        &aeval(4.0, 44_100, false),
        "-c:v",
        "copy",
        "-c:a",
        "aac",
        input.to_str().unwrap(),
    ]);
    let info = probe(&input).unwrap();
    let vi = info.video.as_ref().unwrap();
    assert!(vi.variable_frame_rate, "{vi:?}");
    let mut src_times = frame_times(&input);
    assert_eq!(src_times.len(), 70);
    // ffprobe prints stream timestamps; spans are on the player timeline (0 = container start).
    let origin = src_times[0] - vi.start.as_secs_f64();
    src_times.iter_mut().for_each(|t| *t -= origin);

    let keep = spans(&[(0.4, 1.2), (1.8, 2.55), (3.1, 3.9)]);
    let out = d.path().join("vfr.cut.mp4");
    let s = render_ok(&input, &keep, &out, &RenderOptions::default());
    assert!(!s.constant_frame_rate);
    let planned = total(&keep);
    assert_eq!(s.video_duration, Some(Time::from_secs_f64(planned)));
    assert_eq!(s.audio_duration, Some(Time::from_secs_f64(planned)));
    let j = probe_json(&out);
    // The container (edit list) says the planned duration. The video *stream* duration
    // ffprobe reports is the sum of decode-time deltas, which in MP4 with B-frames and a
    // changing frame rate falls short of the presentation end (the ffmpeg CLI's own VFR MP4s
    // show the same), so the frame times below are what is checked.
    assert!((num(&j["format"]["duration"]) - planned).abs() < 0.01);
    assert!((num(&stream(&j, "audio").unwrap()["duration"]) - planned).abs() < 0.01);

    // Expected: per span, the frame on screen at its start, then every frame inside.
    let mut want: Vec<(f64, usize)> = Vec::new(); // (output time, source frame)
    let mut out0 = 0.0;
    for s in &keep {
        let (a, b) = (s.start.as_secs_f64(), s.end.as_secs_f64());
        let first = src_times.iter().rposition(|&t| t <= a + 1e-6).unwrap();
        want.push((out0, first));
        for (i, &t) in src_times.iter().enumerate() {
            if t > a + 1e-6 && t < b - 1e-6 {
                want.push((out0 + t - a, i));
            }
        }
        out0 += b - a;
    }
    let got_times = frame_times(&out);
    let lumas = frame_lumas(&out, 160, 120);
    assert_eq!(got_times.len(), want.len(), "{got_times:?}");
    for (k, ((t, n), (gt, y))) in want.iter().zip(got_times.iter().zip(&lumas)).enumerate() {
        assert!((t - gt).abs() < 0.002, "frame {k}: at {gt}, want {t}");
        assert!(
            (y - luma(*n as i64)).abs() < 1.5,
            "frame {k}: luma {y}, want frame {n}"
        );
    }
    check_audio_steps(&pcm(&out, 1)[0], 44_100.0, &keep);
}

#[test]
fn odd_sizes_keep_their_size() {
    let d = tempfile::tempdir().unwrap();
    let v = ramp_video("321x241", "25", 2.0);
    // libx264 4:4:4 input, and FFV1 4:2:0 (which libx264 cannot encode at an odd size).
    let x264 = d.path().join("odd444.mp4");
    ff(&[
        "-f",
        "lavfi",
        "-i",
        &v,
        "-pix_fmt",
        "yuv444p",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        x264.to_str().unwrap(),
    ]);
    let ffv1 = d.path().join("odd420.mkv");
    ff(&[
        "-f",
        "lavfi",
        "-i",
        &v,
        "-pix_fmt",
        "yuv420p",
        "-c:v",
        "ffv1",
        ffv1.to_str().unwrap(),
    ]);
    let keep = spans(&[(0.2, 0.8), (1.2, 1.6)]);
    for input in [x264, ffv1] {
        let out = d.path().join(format!(
            "{}.cut.mp4",
            input.file_stem().unwrap().to_string_lossy()
        ));
        render_ok(&input, &keep, &out, &RenderOptions::default());
        let j = probe_json(&out);
        let s = stream(&j, "video").unwrap();
        assert_eq!(
            (s["width"].as_u64(), s["height"].as_u64()),
            (Some(321), Some(241)),
            "{}",
            input.display()
        );
        assert_eq!(s["pix_fmt"], "yuv444p");
        assert!(stream(&j, "audio").is_none());
        check_durations(&j, total(&keep), 0.04);
        let lumas = frame_lumas(&out, 321, 241);
        assert_eq!(lumas.len(), 25);
        assert!(
            (lumas[0] - luma(5)).abs() < 1.5 && (lumas[15] - luma(30)).abs() < 1.5,
            "{lumas:?}"
        );
    }
}

#[test]
fn video_without_audio() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("silent.mp4");
    ff(&[
        "-f",
        "lavfi",
        "-i",
        &ramp_video("160x120", "30000/1001", 3.0),
        "-pix_fmt",
        "yuv420p",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        input.to_str().unwrap(),
    ]);
    let info = probe(&input).unwrap();
    assert!(info.has_video() && !info.has_audio());
    let fr = info.video.as_ref().unwrap().frame_rate.unwrap();
    // Cut points snapped to frames with the probed rate.
    let g = FrameGrid::new(fr, info.video.as_ref().unwrap().start);
    let keep = vec![
        Span::new(
            snap(g, Time::from_millis(500)),
            snap(g, Time::from_millis(1_500)),
        ),
        Span::new(
            snap(g, Time::from_millis(2_000)),
            snap(g, Time::from_millis(2_600)),
        ),
    ];
    let out = d.path().join("silent.cut.mp4");
    let s = render_ok(&input, &keep, &out, &RenderOptions::default());
    assert_eq!(s.audio_duration, None);
    let j = probe_json(&out);
    assert!(stream(&j, "audio").is_none());
    let v = stream(&j, "video").unwrap();
    assert_eq!(v["r_frame_rate"], "30000/1001");
    assert_eq!(num(&v["nb_read_frames"]), 30.0 + 18.0);
    check_durations(&j, total(&keep), 0.034);
}

#[test]
fn rotation_and_pixel_aspect_are_kept() {
    let d = tempfile::tempdir().unwrap();
    let plain = d.path().join("plain.mp4");
    ff(&[
        "-f",
        "lavfi",
        "-i",
        &ramp_video("160x120", "25", 2.0),
        "-f",
        "lavfi",
        "-i",
        &aeval(2.0, 44_100, true),
        "-vf",
        "setsar=4/3",
        "-pix_fmt",
        "yuv420p",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-c:a",
        "aac",
        "-shortest",
        plain.to_str().unwrap(),
    ]);
    let input = d.path().join("rotated.mp4");
    ff(&[
        "-i",
        plain.to_str().unwrap(),
        "-c",
        "copy",
        "-metadata:s:v",
        "rotate=90",
        input.to_str().unwrap(),
    ]);
    let info = probe(&input).unwrap();
    let vi = info.video.as_ref().unwrap();
    assert_eq!((vi.sar.num, vi.sar.den), (4, 3));
    let src_rot =
        num(&stream(&probe_json(&input), "video").unwrap()["side_data_list"][0]["rotation"]);
    assert_eq!(vi.rotation, src_rot);
    assert!(src_rot.abs() == 90.0, "{src_rot}");

    let keep = spans(&[(0.2, 0.8), (1.0, 1.8)]);
    let out = d.path().join("rotated.cut.mp4");
    render_ok(&input, &keep, &out, &RenderOptions::default());
    let j = probe_json(&out);
    let v = stream(&j, "video").unwrap();
    assert_eq!(v["sample_aspect_ratio"], "4:3");
    assert_eq!(num(&v["side_data_list"][0]["rotation"]), src_rot);
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(160), Some(120))
    );
    assert_eq!(stream(&j, "audio").unwrap()["sample_rate"], "44100");
    check_durations(&j, total(&keep), 0.04);
    assert_eq!(probe(&out).unwrap().video.unwrap().rotation, src_rot);
}

// ---------------------------------------------------------------------------------------------
// Audio only.

#[test]
fn audio_only_inputs_keep_their_format() {
    let d = tempfile::tempdir().unwrap();
    let keep = spans(&[(0.25, 1.05), (1.6, 2.3), (2.8, 3.5)]);
    let planned = total(&keep);
    // (file, extra encode args, codec written, channels, rate)
    let cases: [(&str, &[&str], &str, usize, u32); 4] = [
        ("a.m4a", &["-c:a", "aac"], "aac", 2, 48_000),
        ("a.mp3", &["-c:a", "libmp3lame"], "mp3", 1, 44_100),
        ("a.wav", &["-c:a", "pcm_s16le"], "pcm_s16le", 2, 44_100),
        ("a.flac", &["-c:a", "flac"], "flac", 1, 22_050),
    ];
    for (name, args, codec, channels, rate) in cases {
        let input = d.path().join(name);
        let mut cmd = vec!["-f", "lavfi"];
        let src = aeval(4.0, rate, channels == 2);
        cmd.extend(["-i", &src]);
        cmd.extend(args);
        cmd.push(input.to_str().unwrap());
        ff(&cmd);
        let ext = output_extension(&input).unwrap();
        assert_eq!(ext, Path::new(name).extension().unwrap());
        let out = d.path().join(format!("out.{ext}"));
        let s = render_ok(&input, &keep, &out, &RenderOptions::default());
        assert_eq!(s.video_duration, None);
        let j = probe_json(&out);
        let a = stream(&j, "audio").unwrap();
        assert_eq!(a["codec_name"], codec, "{name}");
        assert_eq!(a["channels"].as_u64(), Some(channels as u64), "{name}");
        assert_eq!(a["sample_rate"], rate.to_string(), "{name}");
        assert!(stream(&j, "video").is_none(), "{name}");
        let got = num(&j["format"]["duration"]);
        // MP3 frames are 1152 samples; the container reports whole frames.
        // MP3: ffprobe's duration includes the encoder delay and padding (also for files the
        // ffmpeg CLI writes); the decoded length below is exact.
        let tol = if codec == "mp3" { 0.05 } else { 0.005 };
        assert!((got - planned).abs() <= tol, "{name}: {got} vs {planned}");
        let decoded = pcm(&out, channels);
        let dur = decoded[0].len() as f64 / rate as f64;
        // The CLI's AAC decode of MP4 ends on a whole 1024-sample frame (the end trim of the
        // edit list is not applied), MP3 on a whole 1152-sample frame.
        let tol = match codec {
            "aac" => 1025.0 / rate as f64,
            _ => 0.0001,
        };
        assert!(
            dur >= planned - 0.0001 && dur - planned <= tol,
            "{name}: decoded {dur} vs {planned}"
        );
        check_audio_steps(&decoded[0], rate as f64, &keep);
        if codec == "pcm_s16le" {
            // Lossless: exactly the planned number of samples, and a fade at every join (no
            // click): the samples around each join are near silence.
            assert_eq!(decoded[0].len(), s.audio_samples as usize);
            assert_eq!(s.audio_samples, 35_280 + 30_870 + 30_870);
            for join in [35_280usize, 35_280 + 30_870] {
                let around = &decoded[0][join - 8..join + 8];
                assert!(
                    around.iter().all(|x| x.abs() < 0.02),
                    "{name}: click at {join}: {around:?}"
                );
            }
        }
    }
}

#[test]
fn fixture_mp3_voice_renders_to_mp3() {
    let input = Path::new(FIXTURES).join("voice.mp3");
    let d = tempfile::tempdir().unwrap();
    let truth: Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(FIXTURES).join("voice.truth.json")).unwrap(),
    )
    .unwrap();
    let keep: Vec<Span> = truth["speech"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| Span::secs(num(&p[0]) - 0.1, num(&p[1]) + 0.1))
        .collect();
    assert_eq!(output_extension(&input).unwrap(), "mp3");
    let out = d.path().join("voice.cut.mp3");
    let s = render_ok(&input, &keep, &out, &RenderOptions::default());
    assert!((s.duration.as_secs_f64() - total(&keep)).abs() < 0.001);
    let j = probe_json(&out);
    assert_eq!(stream(&j, "audio").unwrap()["sample_rate"], "22050");
}

// ---------------------------------------------------------------------------------------------
// Fixtures.

#[test]
fn talk_fixture_cut_at_its_speech() {
    let input = Path::new(FIXTURES).join("talk.mp4");
    let truth: Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(FIXTURES).join("talk.truth.json")).unwrap(),
    )
    .unwrap();
    let info = probe(&input).unwrap();
    let vi = info.video.as_ref().unwrap();
    let g = FrameGrid::new(vi.frame_rate.unwrap(), vi.start);
    // Speech ± 0.15 s, snapped to frames, as `cut` will do.
    let keep: Vec<Span> = truth["speech"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            Span::new(
                snap(g, Time::from_secs_f64(num(&p[0]) - 0.15)),
                snap(g, Time::from_secs_f64(num(&p[1]) + 0.15)),
            )
        })
        .collect();
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("talk.cut.mp4");
    let s = render_ok(&input, &keep, &out, &RenderOptions::default());
    let planned = total(&keep);
    let j = probe_json(&out);
    check_durations(&j, planned, 0.04);
    assert!(
        (s.video_duration.unwrap() - s.audio_duration.unwrap())
            .0
            .abs()
            < 40_000,
        "{s:?}"
    );
    let v = stream(&j, "video").unwrap();
    assert_eq!(
        (
            v["width"].as_u64(),
            v["height"].as_u64(),
            rate(&v["r_frame_rate"])
        ),
        (Some(320), Some(180), 25.0)
    );
    assert_eq!(num(&v["nb_read_frames"]) as u64, s.video_frames);
    let a = stream(&j, "audio").unwrap();
    assert_eq!(
        (a["sample_rate"].as_str(), a["channels"].as_u64()),
        (Some("44100"), Some(2))
    );

    // No speech lost: each sentence, mapped into the output, is loud there, and the kept
    // pause around it is quiet.
    let audio = pcm(&out, 2);
    let mut out0 = 0.0;
    for (span, p) in keep.iter().zip(truth["speech"].as_array().unwrap()) {
        let (a, b) = (num(&p[0]), num(&p[1]));
        let start = out0 + a - span.start.as_secs_f64();
        let end = out0 + b - span.start.as_secs_f64();
        let r = rms(&audio[0][(start * 44_100.0) as usize..(end * 44_100.0) as usize]);
        assert!(
            r > 0.03,
            "sentence {a}..{b} at {start:.2}..{end:.2}: RMS {r}"
        );
        let lead =
            rms(&audio[0]
                [((out0 + 0.02) * 44_100.0) as usize..((start - 0.03) * 44_100.0) as usize]);
        assert!(lead < 0.01, "before sentence {a}: RMS {lead}");
        out0 += span.duration().as_secs_f64();
    }
}

#[test]
fn late_audio_is_padded_in_the_output() {
    // Video from 0 s, Opus audio from 1.5 s: audio and video stay aligned, the output's audio
    // starts with silence where the input had none.
    let input = Path::new(FIXTURES).join("late-audio.mkv");
    let d = tempfile::tempdir().unwrap();
    let keep = spans(&[(0.4, 1.0), (1.2, 2.4)]);
    let out = d.path().join("late.cut.mp4");
    let s = render_ok(&input, &keep, &out, &RenderOptions::default());
    let planned = total(&keep);
    check_durations(&probe_json(&out), planned, 0.045);
    assert!((s.audio_duration.unwrap().as_secs_f64() - planned).abs() < 0.001);
    let info = probe(&input).unwrap();
    let rate = info.audio.as_ref().unwrap().sample_rate as f64;
    let ch = info.audio.as_ref().unwrap().channels as usize;
    let audio = pcm(&out, ch);
    // Output 0 .. 0.6 + (1.5 - 1.2) = 0.9 s comes from before the audio started.
    let silent = rms(&audio[0][..(0.85 * rate) as usize]);
    assert!(silent < 1e-3, "RMS {silent}");
}

// ---------------------------------------------------------------------------------------------
// Burn-in.

#[test]
fn burn_in_draws_captions_only_during_cues() {
    let d = tempfile::tempdir().unwrap();
    let input = make_av(d.path(), "in.mp4", 3.0);
    let srt = d.path().join("cut.srt");
    // On the output timeline: one Latin+CJK cue from 0.5 s to 1.2 s.
    std::fs::write(&srt, "1\n00:00:00,500 --> 00:00:01,200\nHello 你好世界\n").unwrap();
    let keep = spans(&[(0.0, 1.0), (1.6, 2.6)]);
    let plain = d.path().join("plain.mp4");
    render_ok(&input, &keep, &plain, &RenderOptions::default());
    let burned = d.path().join("burned.mp4");
    let opts = RenderOptions {
        burn_in: Some(srt.clone()),
        burn_in_style: Some("FontSize=28".into()),
        ..RenderOptions::default()
    };
    match render(&input, &keep, &burned, &opts, &mut |_| {}) {
        Ok(_) => {}
        Err(RenderError::BurnIn { detail, .. }) if detail.contains("no installed font") => {
            panic!("no CJK font installed (setup installs fonts-noto-cjk): {detail}")
        }
        Err(e) => panic!("{e}"),
    }
    let frames = |p: &Path| -> Vec<Vec<u8>> {
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
        out.stdout
            .chunks_exact(160 * 120)
            .map(|c| c.to_vec())
            .collect()
    };
    let (a, b) = (frames(&plain), frames(&burned));
    assert_eq!(a.len(), 50);
    assert_eq!(a.len(), b.len());
    let changed = |k: usize| {
        a[k].iter()
            .zip(&b[k])
            .filter(|(x, y)| x.abs_diff(**y) > 40)
            .count()
    };
    // Cue frames 13..30 (0.52..1.16 s) have text; frames before 0.48 s and after 1.24 s not.
    for k in 13..29 {
        assert!(
            changed(k) > 150,
            "frame {k}: only {} pixels changed",
            changed(k)
        );
    }
    for k in (0..11).chain(32..50) {
        assert!(
            changed(k) < 20,
            "frame {k}: {} pixels changed outside the cue",
            changed(k)
        );
    }
    // The CJK glyphs drew something: the cue is much wider than "Hello " alone would be, so
    // pixels changed in the right half of the frame.
    let right_half = a[20]
        .iter()
        .zip(&b[20])
        .enumerate()
        .filter(|(i, (x, y))| i % 160 >= 100 && x.abs_diff(**y) > 40)
        .count();
    assert!(right_half > 30, "right half: {right_half} pixels changed");
}

#[test]
fn burn_in_without_video_or_file_is_a_clear_error() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("a.wav");
    ff(&[
        "-f",
        "lavfi",
        "-i",
        &aeval(1.0, 16_000, false),
        input.to_str().unwrap(),
    ]);
    let srt = d.path().join("x.srt");
    std::fs::write(&srt, "1\n00:00:00,000 --> 00:00:01,000\nhi\n").unwrap();
    let opts = RenderOptions {
        burn_in: Some(srt),
        ..RenderOptions::default()
    };
    let e = render(
        &input,
        &spans(&[(0.0, 0.5)]),
        &d.path().join("o.wav"),
        &opts,
        &mut |_| {},
    )
    .unwrap_err();
    assert!(matches!(e, RenderError::BurnIn { .. }), "{e}");
    assert!(e.to_string().contains("no video"), "{e}");
    let missing = RenderOptions {
        burn_in: Some(d.path().join("nope.srt")),
        ..RenderOptions::default()
    };
    let v = make_av(d.path(), "v.mp4", 1.0);
    let e = render(
        &v,
        &spans(&[(0.0, 0.5)]),
        &d.path().join("o.mp4"),
        &missing,
        &mut |_| {},
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .starts_with(&d.path().join("nope.srt").display().to_string()),
        "{e}"
    );
    assert_eq!(dir_names(d.path()), vec!["a.wav", "v.mp4", "x.srt"]);
}

// ---------------------------------------------------------------------------------------------
// Errors and atomic output.

#[test]
fn missing_input_is_a_one_line_error_naming_it() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("nope.mp4");
    let e = render(
        &input,
        &spans(&[(0.0, 1.0)]),
        &d.path().join("o.mp4"),
        &RenderOptions::default(),
        &mut |_| {},
    )
    .unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("nope.mp4") && msg.contains("no such file"),
        "{msg}"
    );
    assert!(!msg.contains('\n'));
    assert_eq!(e.path(), Some(input.as_path()));
    assert!(dir_names(d.path()).is_empty());
    let e = probe(&Path::new(FIXTURES).join("bad/not-media.mp4")).unwrap_err();
    assert!(e.to_string().contains("not a media file"), "{e}");
}

#[test]
fn unwritable_output_leaves_nothing() {
    let d = tempfile::tempdir().unwrap();
    let input = make_av(d.path(), "in.mp4", 1.0);
    let keep = spans(&[(0.0, 0.5)]);
    // A directory that does not exist, and one that is a file: no temp file anywhere.
    for out in [
        d.path().join("missing/out.mp4"),
        d.path().join("in.mp4/out.mp4"),
    ] {
        let e = render(&input, &keep, &out, &RenderOptions::default(), &mut |_| {}).unwrap_err();
        assert!(matches!(e, RenderError::Output { .. }), "{e}");
        assert!(e.to_string().starts_with(&out.display().to_string()), "{e}");
        assert!(!e.to_string().contains('\n'));
    }
    // A read-only directory (root may write there anyway; then the render just succeeds).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let ro = d.path().join("ro");
        std::fs::create_dir(&ro).unwrap();
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
        let out = ro.join("out.mp4");
        match render(&input, &keep, &out, &RenderOptions::default(), &mut |_| {}) {
            Err(e) => {
                assert!(matches!(e, RenderError::Output { .. }), "{e}");
                assert!(dir_names(&ro).is_empty());
            }
            Ok(_) => assert_eq!(dir_names(&ro), vec!["out.mp4"]),
        }
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    assert_eq!(dir_names(d.path()), vec!["in.mp4", "ro"]);
}

#[test]
fn a_failed_render_leaves_no_partial_file_and_no_old_output_damage() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("a.wav");
    ff(&[
        "-f",
        "lavfi",
        "-i",
        &aeval(2.0, 44_100, false),
        input.to_str().unwrap(),
    ]);
    let out = d.path().join("out.ogg");
    std::fs::write(&out, b"previous output").unwrap();
    // Opus cannot take 44.1 kHz: fails after the temporary output was created.
    let opts = RenderOptions {
        audio_codec: Some("libopus".into()),
        ..RenderOptions::default()
    };
    let e = render(&input, &spans(&[(0.0, 1.0)]), &out, &opts, &mut |_| {}).unwrap_err();
    assert!(matches!(e, RenderError::Unsupported { .. }), "{e}");
    assert!(e.to_string().contains("44100 Hz"), "{e}");
    assert_eq!(dir_names(d.path()), vec!["a.wav", "out.ogg"]);
    assert_eq!(std::fs::read(&out).unwrap(), b"previous output");
}

#[test]
fn never_overwrites_the_input() {
    let d = tempfile::tempdir().unwrap();
    let input = make_av(d.path(), "in.mp4", 1.0);
    let before = std::fs::read(&input).unwrap();
    let e = render(
        &input,
        &spans(&[(0.0, 0.5)]),
        &d.path().join("./in.mp4"),
        &RenderOptions::default(),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(matches!(e, RenderError::SameAsInput { .. }), "{e}");
    assert_eq!(std::fs::read(&input).unwrap(), before);
    assert_eq!(dir_names(d.path()), vec!["in.mp4"]);
}

#[test]
fn nothing_to_keep_and_bad_options_are_reported() {
    let d = tempfile::tempdir().unwrap();
    let input = make_av(d.path(), "in.mp4", 1.0);
    let out = d.path().join("o.mp4");
    for keep in [vec![], spans(&[(5.0, 6.0)])] {
        let e = render(&input, &keep, &out, &RenderOptions::default(), &mut |_| {}).unwrap_err();
        assert!(matches!(e, RenderError::NothingToKeep { .. }), "{e}");
        assert!(e.to_string().contains("in.mp4: nothing to keep"), "{e}");
    }
    let bad = RenderOptions {
        crf: 99,
        ..RenderOptions::default()
    };
    let e = render(&input, &spans(&[(0.0, 0.5)]), &out, &bad, &mut |_| {}).unwrap_err();
    assert!(matches!(e, RenderError::Options(_)), "{e}");
    // Video into an audio-only format.
    let e = render(
        &input,
        &spans(&[(0.0, 0.5)]),
        &d.path().join("o.wav"),
        &RenderOptions::default(),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(e.to_string().contains("cannot hold video"), "{e}");
    assert_eq!(dir_names(d.path()), vec!["in.mp4"]);
}

#[test]
fn probe_reports_what_render_uses() {
    let info = probe(&Path::new(FIXTURES).join("talk.mp4")).unwrap();
    let v = info.video.as_ref().unwrap();
    assert_eq!(
        (v.width, v.height, v.pix_fmt.as_str()),
        (320, 180, "yuv420p")
    );
    assert_eq!(v.frame_rate, FrameRate::new(25, 1));
    assert!(!v.variable_frame_rate);
    assert_eq!(v.rotation, 0.0);
    let a = info.audio.as_ref().unwrap();
    assert_eq!(
        (a.sample_rate, a.channels, a.channel_layout.as_str()),
        (44_100, 2, "stereo")
    );
    assert!(
        (info.duration.as_secs_f64() - 14.89).abs() < 0.01,
        "{}",
        info.duration
    );
    assert_eq!(info.output_extension(), "mp4");
    let noaudio = probe(&Path::new(FIXTURES).join("bad/noaudio.mp4")).unwrap();
    assert!(noaudio.has_video() && !noaudio.has_audio());
    assert_eq!(
        output_extension(&Path::new(FIXTURES).join("voice.mp3")).unwrap(),
        "mp3"
    );
    assert_eq!(
        output_extension(&Path::new(FIXTURES).join("late-audio.mkv")).unwrap(),
        "mp4"
    );
}

#[test]
fn audio_encoded_on_its_own_thread_equals_the_single_threaded_render() {
    let d = tempfile::tempdir().unwrap();
    let input = make_av(d.path(), "in.mp4", 4.0);
    let keep = spans(&[(0.32, 1.12), (1.72, 2.52), (3.0, 3.64)]);
    // threads 0: audio on a second thread next to the video; threads 1: all on this one.
    let (a, b) = (d.path().join("a.mp4"), d.path().join("b.mp4"));
    let sa = render_ok(&input, &keep, &a, &RenderOptions::default());
    let one = RenderOptions {
        threads: 1,
        ..RenderOptions::default()
    };
    let sb = render_ok(&input, &keep, &b, &one);
    assert_eq!(sa.audio_samples, sb.audio_samples);
    assert_eq!(sa.video_frames, sb.video_frames);
    assert_eq!(sa.audio_duration, sb.audio_duration);
    let (pa, pb) = (pcm(&a, 1), pcm(&b, 1)); // every sample, channels interleaved
    assert_eq!(pa[0].len(), pb[0].len());
    assert!(pa[0].iter().zip(&pb[0]).all(|(x, y)| x == y), "same audio");
    check_durations(&probe_json(&a), total(&keep), 0.04);
    check_durations(&probe_json(&b), total(&keep), 0.04);
}

mod smart;
