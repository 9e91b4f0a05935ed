//! The smart render (issue 14): whole groups of pictures copied, cut edges re-encoded, the
//! right frames at the right times, a stream that FFmpeg and Chromium decode to the end, the
//! fallbacks, and a render whose memory does not follow the input's size.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use super::*;
use subcut::media::render::RenderMode;

/// H.264 with B-frames and closed GOPs of `gop` frames + stereo AAC, 160×120, 25 fps; the
/// luma of frame N is `luma(N)`. `extra` goes to the encoder (e.g. `-x264-params open-gop=1`).
fn make_gop_av(dir: &Path, name: &str, secs: f64, gop: u32, extra: &[&str]) -> PathBuf {
    let g = gop.to_string();
    let mut args = vec!["-g", &g, "-keyint_min", &g, "-sc_threshold", "0"];
    args.extend_from_slice(extra);
    make_av_with(dir, name, secs, &args)
}

/// `ffmpeg -v error -i OUT -f null -` prints nothing.
fn decodes_cleanly(p: &Path) {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(p)
        .args(["-f", "null", "-"])
        .output()
        .expect("ffmpeg CLI");
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.trim().is_empty(),
        "ffmpeg decoding {}: {err}",
        p.display()
    );
}

/// The right source frame in every output frame (the luma code), and the right audio.
fn check_frames_and_audio(out: &Path, keep: &[Span], frames: usize) {
    let lumas = frame_lumas(out, 160, 120);
    assert_eq!(lumas.len(), frames);
    for (k, y) in lumas.iter().enumerate() {
        let n = (unmap(keep, k as f64 / 25.0) * 25.0).round() as i64;
        assert!(
            (y - luma(n)).abs() < 1.5,
            "output frame {k}: luma {y}, want source frame {n} ({})",
            luma(n)
        );
    }
    // Not the last 0.1 s: ffmpeg's AAC encoder smears the end of the stream (the same in a
    // full re-encode: 0.36 RMS where 0.28 is right, 35–90 ms before the end).
    let mut audible = keep.to_vec();
    let last = audible.last_mut().unwrap();
    last.end -= Time::from_millis(100);
    check_audio_steps(&pcm(out, 2)[0], 48_000.0, &audible);
}

#[test]
fn smart_render_copies_whole_gops_and_keeps_every_frame_exact() {
    let d = tempfile::tempdir().unwrap();
    let input = make_gop_av(d.path(), "in.mp4", 6.0, 10, &[]);
    // Frames 8..63 and 75..130: GOPs 1–5 and 8–12 lie wholly inside, GOPs 0, 6 and 7 are cut.
    // (55 + 55 frames.) Of GOP 6 (60..62 kept) the head is copied as far as its packets show
    // those frames on their own: with B-frames, at least the key frame.
    let keep = spans(&[(0.32, 2.52), (3.0, 5.2)]);
    let out = d.path().join("in.cut.mp4");
    let s = render_ok(&input, &keep, &out, &RenderOptions::default());
    assert_eq!(s.reencoded_because, None, "{s:?}");
    assert_eq!(s.video_frames, 110);
    assert!((101..=103).contains(&s.video_copied_frames), "{s:?}");
    let planned = total(&keep);
    assert!((s.duration.as_secs_f64() - planned).abs() < 0.04, "{s:?}");

    // The same cut re-encoded in full: the same frames.
    let full = d.path().join("full.mp4");
    let opts = RenderOptions {
        mode: RenderMode::Reencode,
        ..RenderOptions::default()
    };
    let f = render_ok(&input, &keep, &full, &opts);
    assert_eq!((f.video_frames, f.video_copied_frames), (110, 0));
    assert!(f.reencoded_because.unwrap().contains("reencode"));
    check_frames_and_audio(&full, &keep, 110);
    check_smart_output(&out, &keep, "h264");

    // HEVC with closed GOPs: the same, parameter sets in band at the joins.
    let hevc = d.path().join("hevc.mp4");
    ff(&[
        "-i",
        input.to_str().unwrap(),
        "-c:v",
        "libx265",
        "-x265-params",
        "log-level=error:keyint=10:min-keyint=10:open-gop=0:scenecut=0:bframes=3",
        "-c:a",
        "copy",
        hevc.to_str().unwrap(),
    ]);
    let out = d.path().join("hevc.cut.mp4");
    let s = render_ok(&hevc, &keep, &out, &RenderOptions::default());
    assert_eq!(s.reencoded_because, None, "{s:?}");
    assert_eq!(s.video_frames, 110);
    assert!((101..=103).contains(&s.video_copied_frames), "{s:?}");
    check_smart_output(&out, &keep, "hevc");

    // Without B-frames (phone encoders) the whole kept part of GOP 6 is copied: only the
    // frames after a span's start up to the next key frame are re-encoded (8, 9 and 75..79).
    // H.264 and HEVC (whose in-band parameter sets then follow a copied head).
    for (name, args) in [
        (
            "ippp.mp4",
            [
                "-c:v",
                "libx264",
                "-x264-params",
                "keyint=10:min-keyint=10:scenecut=0:bframes=0",
            ],
        ),
        (
            "ippp-hevc.mp4",
            [
                "-c:v",
                "libx265",
                "-x265-params",
                "log-level=error:keyint=10:min-keyint=10:scenecut=0:bframes=0",
            ],
        ),
    ] {
        let ippp = d.path().join(name);
        let mut a = vec!["-i", input.to_str().unwrap()];
        a.extend_from_slice(&args);
        a.extend_from_slice(&["-c:a", "copy", ippp.to_str().unwrap()]);
        ff(&a);
        let out = d.path().join(format!("{name}.cut.mp4"));
        let s = render_ok(&ippp, &keep, &out, &RenderOptions::default());
        assert_eq!(s.reencoded_because, None, "{s:?}");
        assert_eq!(
            (s.video_frames, s.video_copied_frames),
            (110, 103),
            "{name}: {s:?}"
        );
        check_smart_output(
            &out,
            &keep,
            if name.contains("hevc") {
                "hevc"
            } else {
                "h264"
            },
        );
    }

    // A file whose timestamps start at 2 s (the container's start time): the output still
    // starts at 0, audio and video together.
    let late = d.path().join("late.mp4");
    ff(&[
        "-i",
        input.to_str().unwrap(),
        "-c",
        "copy",
        "-output_ts_offset",
        "2",
        late.to_str().unwrap(),
    ]);
    // The container starts with the audio's priming (1.978 s), the video 22 ms later: the
    // plan's cut points lie on the video's frame grid (as `subcut cut` snaps them), and the
    // pictures and sound at those points are the same as in the original.
    let j = probe_json(&late);
    let origin = num(&j["format"]["start_time"]);
    let lead = num(&stream(&j, "video").unwrap()["start_time"]) - origin;
    assert!(
        origin > 1.9 && lead > 0.0,
        "origin {origin}, video {lead} later"
    );
    let on_grid: Vec<Span> = keep
        .iter()
        .map(|s| Span::secs(s.start.as_secs_f64() + lead, s.end.as_secs_f64() + lead))
        .collect();
    let out = d.path().join("late.cut.mp4");
    let s = render_ok(&late, &on_grid, &out, &RenderOptions::default());
    assert_eq!(s.video_frames, 110);
    assert!((101..=103).contains(&s.video_copied_frames), "{s:?}");
    check_smart_output(&out, &keep, "h264");
}

fn check_smart_output(out: &Path, keep: &[Span], codec: &str) {
    let j = check_smart_output_streams(out, keep);
    let v = stream(&j, "video").unwrap();
    assert_eq!(num(&v["nb_read_frames"]), 110.0);
    assert_eq!(
        (v["codec_name"].as_str(), v["pix_fmt"].as_str()),
        (Some(codec), Some("yuv420p"))
    );
    assert_eq!(rate(&v["avg_frame_rate"]), 25.0);
    check_frames_and_audio(out, keep, 110);
}

/// Source samples of each output span: the offset `m` (within ±1100 samples of the cut's
/// place) where the output's middle matches the source best, and the share of its samples
/// that are the source's there (to 1e-4: the same packets decode to the same samples but
/// for AAC's noise substitution, whose random state depends on everything decoded before).
fn span_offsets(src: &[f32], out: &[f32], keep: &[Span]) -> Vec<(i64, f64)> {
    let mut o = 0usize;
    keep.iter()
        .map(|k| {
            let a = (k.start.as_secs_f64() * 48_000.0).round() as i64;
            let n = ((k.end - k.start).as_secs_f64() * 48_000.0).round() as usize;
            let mid = 2_400..n - 2_400;
            let err = |m: i64| -> f64 {
                mid.clone()
                    .step_by(7)
                    .map(|i| {
                        let s = src.get((a + m) as usize + i).copied().unwrap_or(9.0);
                        f64::from(out[o + i] - s).powi(2)
                    })
                    .sum()
            };
            let m = (-1100..=1100)
                .min_by(|&x, &y| err(x).total_cmp(&err(y)))
                .unwrap();
            let exact = mid
                .clone()
                .filter(|&i| (out[o + i] - src[(a + m) as usize + i]).abs() < 1e-4)
                .count() as f64
                / mid.len() as f64;
            o += n;
            (m, exact)
        })
        .collect()
}

/// Signal-to-error ratio (dB) of the output around each join against the source at the
/// spans' offsets: 100 ms either side, without the 10 ms fades (where the two differ on
/// purpose). The copied and re-encoded frames meet in there.
fn join_snr(src: &[f32], out: &[f32], keep: &[Span], offsets: &[(i64, f64)]) -> Vec<f64> {
    let rate = 48_000.0;
    let mut o = 0i64;
    let mut starts = Vec::new();
    for k in keep {
        starts.push(o);
        o += ((k.end - k.start).as_secs_f64() * rate).round() as i64;
    }
    (1..keep.len())
        .map(|i| {
            let j = starts[i];
            let (mut sig, mut err) = (0f64, 0f64);
            for (span, range) in [(i - 1, j - 4_800..j - 600), (i, j + 600..j + 4_800)] {
                let a = (keep[span].start.as_secs_f64() * rate).round() as i64 + offsets[span].0;
                for t in range {
                    let s = f64::from(src[(a + t - starts[span]) as usize]);
                    sig += s * s;
                    err += (f64::from(out[t as usize]) - s).powi(2);
                }
            }
            10.0 * (sig / err.max(1e-12)).log10()
        })
        .collect()
}

#[test]
fn smart_render_copies_the_aac_frames_and_encodes_only_the_joins() {
    let d = tempfile::tempdir().unwrap();
    // Sound all the way through (a gliding tone), so every join cuts through it.
    let input = d.path().join("tone.mp4");
    ff(&[
        "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=6",
        "-f", "lavfi", "-i",
        "aevalsrc='0.4*sin(2*PI*(300+120*sin(2*t))*t)|0.3*sin(2*PI*(500+90*sin(3*t))*t)':s=48000:d=6",
        "-c:v", "libx264", "-g", "10", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k",
        input.to_str().unwrap(),
    ]);
    let keep = spans(&[(0.32, 2.52), (3.0, 5.2)]);
    let smart = d.path().join("smart.mp4");
    let s = render_ok(&input, &keep, &smart, &RenderOptions::default());
    assert_eq!(s.audio_reencoded_because, None, "{s:?}");
    // 4.4 s = 206.25 frames of 1024 + priming; all but the frames around the start, the
    // join and the end are the source's.
    assert!(
        s.audio_copied_frames >= 190 && s.audio_copied_frames < s.audio_frames,
        "{s:?}"
    );
    check_smart_output_streams(&smart, &keep);
    let full = d.path().join("full.mp4");
    let opts = RenderOptions {
        mode: RenderMode::Reencode,
        ..RenderOptions::default()
    };
    let f = render_ok(&input, &keep, &full, &opts);
    assert_eq!(f.audio_copied_frames, 0);
    assert!(f.audio_reencoded_because.unwrap().contains("reencode"));
    assert_eq!(f.audio_samples, s.audio_samples, "the same length");

    let src = pcm(&input, 2).swap_remove(0);
    let out = pcm(&smart, 2).swap_remove(0);
    let offsets = span_offsets(&src, &out, &keep);
    for &(m, exact) in &offsets {
        // Each span moved by under half a frame, and is the source's own samples.
        assert!(m.abs() <= 514, "moved by {m} samples: {offsets:?}");
        assert!(
            exact > 0.99,
            "share of the source's samples {exact}: {offsets:?}"
        );
    }
    // And the source's own packets: output packets that follow each other as they did in
    // the source, in runs.
    let (src_packets, out_packets) = (packet_hashes(&input), packet_hashes(&smart));
    let at: std::collections::HashMap<&str, usize> = src_packets
        .iter()
        .enumerate()
        .map(|(i, h)| (h.as_str(), i))
        .collect();
    let chained = out_packets
        .windows(2)
        .filter(|w| match (at.get(w[0].as_str()), at.get(w[1].as_str())) {
            (Some(a), Some(b)) => b == &(a + 1),
            _ => false,
        })
        .count() as u64;
    assert!(
        chained + 4 >= s.audio_copied_frames,
        "{chained} packets follow their source neighbour, {} copied",
        s.audio_copied_frames
    );
    let snr = join_snr(&src, &out, &keep, &offsets);
    let reencoded = pcm(&full, 2).swap_remove(0);
    let ref_offsets = span_offsets(&src, &reencoded, &keep);
    let ref_snr = join_snr(&src, &reencoded, &keep, &ref_offsets);
    // Around the join the copy is as close to the source as a full re-encode is (the frames
    // where copied and re-encoded audio meet do not click).
    for (a, b) in snr.iter().zip(&ref_snr) {
        assert!(
            *a > 20.0 && *a > b - 3.0,
            "join SNR {snr:?} dB, full re-encode {ref_snr:?}"
        );
    }
}

/// The MD5 of every audio packet, in order.
fn packet_hashes(p: &Path) -> Vec<String> {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "a",
            "-show_entries",
            "packet=data_hash",
        ])
        .args(["-show_data_hash", "MD5", "-of", "csv"])
        .arg(p)
        .output()
        .expect("ffprobe");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.rsplit(',').find(|f| f.starts_with("MD5:")))
        .map(str::to_string)
        .collect()
}

/// The output decodes cleanly, lasts the cut's length and both streams start at 0; its
/// probe.
fn check_smart_output_streams(out: &Path, keep: &[Span]) -> Value {
    decodes_cleanly(out);
    let j = probe_json(out);
    check_durations(&j, total(keep), 0.04);
    let v = stream(&j, "video").unwrap();
    let a = stream(&j, "audio").unwrap();
    assert!(
        num(&v["start_time"]).abs() < 0.02 && num(&a["start_time"]).abs() < 0.03,
        "video starts at {}, audio at {}",
        v["start_time"],
        a["start_time"]
    );
    j
}

#[test]
fn smart_render_plays_to_the_end_in_chromium() {
    let chromium = which("chromium");
    let d = tempfile::tempdir().unwrap();
    let input = make_gop_av(d.path(), "in.mp4", 6.0, 10, &[]);
    let keep = spans(&[(0.32, 2.52), (3.0, 5.2)]);
    let s = render_ok(
        &input,
        &keep,
        &d.path().join("v.mp4"),
        &RenderOptions::default(),
    );
    assert!(s.video_copied_frames > 0);
    let page = d.path().join("play.html");
    std::fs::write(
        &page,
        r#"<!doctype html><video id=v src="v.mp4" muted playsinline></video><script>
const v = document.getElementById('v');
const say = m => { console.log('SUBCUT ' + m); setTimeout(() => window.close(), 10); };
v.addEventListener('error', () => say('error ' + (v.error && v.error.code)));
v.addEventListener('ended', () => {
  const q = v.getVideoPlaybackQuality();
  say('ended ' + v.currentTime.toFixed(3) + ' ' + v.duration.toFixed(3) + ' ' +
      q.totalVideoFrames + ' ' + q.corruptedVideoFrames);
});
v.playbackRate = 2;
v.play().catch(e => say('play failed ' + e));
</script>"#,
    )
    .unwrap();
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--autoplay-policy=no-user-gesture-required",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    let line = log
        .lines()
        .find_map(|l| l.split("\"SUBCUT ").nth(1))
        .unwrap_or_else(|| panic!("no result from the page; chromium said:\n{log}"));
    let f: Vec<&str> = line
        .trim_end_matches(|c| c != '"')
        .trim_end_matches('"')
        .split(' ')
        .collect();
    assert_eq!(f[0], "ended", "{line}");
    let (at, dur): (f64, f64) = (f[1].parse().unwrap(), f[2].parse().unwrap());
    assert!(
        (at - dur).abs() < 0.05 && (dur - total(&keep)).abs() < 0.05,
        "{line}"
    );
    assert_eq!(f[4], "0", "corrupted frames: {line}");
}

/// The path of a tool scripts/setup.sh installs, or a failure that says so.
fn which(tool: &str) -> PathBuf {
    std::env::var_os("PATH")
        .and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(tool))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| panic!("{tool} is not installed: run scripts/setup.sh"))
}

#[test]
fn smart_render_falls_back_where_it_cannot_be_exact() {
    let d = tempfile::tempdir().unwrap();
    let keep = spans(&[(0.32, 2.52), (3.0, 3.6)]);
    let check = |input: &Path, opts: &RenderOptions, want: &str| {
        let out = d.path().join("out.mp4");
        let s = render_ok(input, &keep, &out, opts);
        let why = s.reencoded_because.clone().unwrap_or_default();
        assert!(
            why.contains(want),
            "{}: {why:?}, want {want:?}",
            input.display()
        );
        assert_eq!(s.video_copied_frames, 0);
        assert_eq!(s.video_frames, 55 + 15);
        decodes_cleanly(&out);
        check_frames_and_audio(&out, &keep, 70);
    };
    // Open GOPs: leading pictures refer to the previous group.
    let open = make_gop_av(
        d.path(),
        "open.mp4",
        4.0,
        10,
        &["-x264-params", "open-gop=1"],
    );
    check(&open, &RenderOptions::default(), "open GOP");
    // MPEG-4 part 2 is re-encoded (to H.264, the default encoder).
    let mpeg4 = d.path().join("mpeg4.mp4");
    ff(&[
        "-i",
        open.to_str().unwrap(),
        "-c:v",
        "mpeg4",
        "-q:v",
        "2",
        "-g",
        "10",
        "-c:a",
        "copy",
        mpeg4.to_str().unwrap(),
    ]);
    check(
        &mpeg4,
        &RenderOptions::default(),
        "mpeg4 video is re-encoded",
    );
    // Burned-in captions change every frame.
    let closed = make_gop_av(d.path(), "closed.mp4", 4.0, 10, &[]);
    let srt = d.path().join("c.srt");
    std::fs::write(&srt, "1\n00:00:00,000 --> 00:00:01,000\nhello\n").unwrap();
    let burn = RenderOptions {
        burn_in: Some(srt),
        ..RenderOptions::default()
    };
    let out = d.path().join("burn.mp4");
    let s = render_ok(&closed, &keep, &out, &burn);
    assert!(s.reencoded_because.unwrap().contains("burned-in"));
    assert_eq!(s.video_copied_frames, 0);
    // Another encoder than the source's codec asked for.
    let vp9 = RenderOptions {
        video_codec: "libvpx-vp9".into(),
        crf: 40,
        ..RenderOptions::default()
    };
    let s = render_ok(&closed, &keep, &d.path().join("vp9.mkv"), &vp9);
    assert!(s.reencoded_because.unwrap().contains("libvpx-vp9"));
}

/// The render once held every packet it read (an `av_read_frame` into a reused packet
/// leaked the previous one): memory grew with the input's size. A high-bit-rate input many
/// times the render's working set must not show up in its peak.
#[test]
fn render_memory_does_not_follow_the_input_size() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("grain.mp4");
    // 640×360 noise at near-lossless quality: ~20 MB a second.
    ff(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=640x360:rate=25,noise=alls=60:allf=t",
        "-f",
        "lavfi",
        "-i",
        "aevalsrc='0.5*sin(2*PI*300*t)*lt(mod(t\\,3)\\,2)':s=48000",
        "-t",
        "24",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-qp",
        "4",
        "-g",
        "25",
        "-c:a",
        "aac",
        "-shortest",
        input.to_str().unwrap(),
    ]);
    let size = std::fs::metadata(&input).unwrap().len();
    assert!(size > 200_000_000, "input only {size} bytes");
    for mode in ["auto", "reencode"] {
        // The child's own peak (`-v` prints its VmHWM): a child's rusage would count this
        // test process's memory, which it shares until it execs.
        let out = crate::util::subcut()
            .args([
                "cut",
                "-v",
                "--no-captions",
                "--render",
                mode,
                "--encoder-preset",
                "ultrafast",
            ])
            .arg(&input)
            .arg("-o")
            .arg(d.path().join(mode))
            .output()
            .unwrap();
        let err = crate::util::stderr(&out);
        assert!(out.status.success(), "{mode}: {err}");
        let peak = peak_mb(&err, mode);
        assert!(
            peak << 20 < size * 3 / 4,
            "{mode}: peak RSS {peak} MB for a {} MB input",
            size >> 20
        );
    }
}

/// The child's peak memory in MB, from the `peak memory N MB` line `-v` prints (its VmHWM).
fn peak_mb(err: &str, what: &str) -> u64 {
    err.lines()
        .find_map(|l| {
            l.strip_prefix("peak memory ")?
                .strip_suffix(" MB")?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("{what}: no peak memory line in {err}"))
}

/// Above 1080p x264's frames in flight were most of the render's memory: a 2160p full
/// re-encode peaked at 975 MB with two threads (1.06 GB with automatic threads on a grainy
/// clip) before the encoder got a short lookahead and no sync-lookahead buffer above 1080p;
/// now 620 MB. Two threads make the figure the same on any machine.
#[test]
fn a_2160p_render_stays_within_its_memory() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("uhd.mp4");
    ff(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=3840x2160:rate=30",
        "-f",
        "lavfi",
        "-i",
        "aevalsrc='0.5*sin(2*PI*300*t)*lt(mod(t\\,2)\\,1.2)':s=48000",
        "-t",
        "4",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-g",
        "30",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-shortest",
        input.to_str().unwrap(),
    ]);
    for (mode, limit) in [("reencode", 800), ("auto", 600)] {
        let out = crate::util::subcut()
            .args([
                "cut",
                "-v",
                "--no-captions",
                "--threads",
                "2",
                "--render",
                mode,
            ])
            .arg(&input)
            .arg("-o")
            .arg(d.path().join(mode))
            .output()
            .unwrap();
        let err = crate::util::stderr(&out);
        assert!(out.status.success(), "{mode}: {err}");
        assert!(err.contains("re-encoded"), "{mode}: {err}");
        let peak = peak_mb(&err, mode);
        assert!(
            peak <= limit,
            "{mode}: peak RSS {peak} MB at 2160p (limit {limit} MB)"
        );
    }
}

/// The command line: `-v` says how much was copied; `--render smart` warns when it falls back
/// (and `auto` does not); the preset key sets the mode.
#[test]
fn cut_says_what_the_smart_render_did() {
    let d = tempfile::tempdir().unwrap();
    let input = make_gop_av(d.path(), "in.mp4", 4.0, 10, &[]);
    let out = crate::util::subcut()
        .args(["cut", "--no-captions", "-v"])
        .arg(&input)
        .arg("-o")
        .arg(d.path().join("a"))
        .output()
        .unwrap();
    let err = crate::util::stderr(&out);
    assert!(out.status.success(), "{err}");
    // A continuous tone: nothing is cut, every frame is copied.
    assert!(
        err.contains("smart: 100 of 100 frames copied (100 %)"),
        "{err}"
    );

    let hevc = d.path().join("mpeg4.mp4");
    ff(&[
        "-i",
        input.to_str().unwrap(),
        "-c:v",
        "mpeg4",
        "-c:a",
        "copy",
        hevc.to_str().unwrap(),
    ]);
    let run = |extra: &[&str]| {
        let out = crate::util::subcut()
            .args(["cut", "--no-captions"])
            .args(extra)
            .arg(&hevc)
            .arg("-o")
            .arg(d.path().join("b"))
            .output()
            .unwrap();
        assert!(out.status.success());
        crate::util::stderr(&out)
    };
    let err = run(&["--render", "smart"]);
    assert!(
        err.contains("warning: ") && err.contains("mpeg4 video is re-encoded"),
        "{err}"
    );
    assert!(!run(&[]).contains("warning"), "auto falls back quietly");
    let preset = d.path().join("p.toml");
    std::fs::write(&preset, "[render]\nmode = \"smart\"\n").unwrap();
    assert!(run(&["-p", preset.to_str().unwrap()]).contains("warning: "));
    let bad = crate::util::subcut()
        .args(["cut", "--render", "fast"])
        .arg(&hevc)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}
