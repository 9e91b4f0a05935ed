//! End-to-end tests of the `subcut` binary on the committed fixtures, with the real tiny.en
//! model (installed by `scripts/setup.sh`; a missing model fails these tests with a message
//! saying how to install it, it never skips them).

use crate::util::*;

use std::path::{Path, PathBuf};

use serde_json::Value;

struct Truth {
    text: String,
    speech: Vec<(f64, f64)>,
    pauses: Vec<(f64, f64)>,
}

fn truth(name: &str) -> Truth {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(fixture(name)).unwrap()).unwrap();
    let pairs = |k: &str| -> Vec<(f64, f64)> {
        v[k].as_array()
            .unwrap()
            .iter()
            .map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
            .collect()
    };
    Truth {
        text: v["text"].as_str().unwrap().to_string(),
        speech: pairs("speech"),
        pauses: pairs("pauses"),
    }
}

/// Captions one fixture with tiny.en and checks text accuracy and timing against its truth.
fn check_caption(name: &str, truth_name: &str) -> (Vec<Cue>, Value) {
    let model = tiny_en();
    let dir = tempfile::tempdir().unwrap();
    let out = subcut()
        .arg("caption")
        .arg(fixture(name))
        .arg("-o")
        .arg(dir.path())
        .arg("--model")
        .arg(&model)
        .args(["--language", "en", "--format", "srt,json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "caption {name} failed: {}",
        stderr(&out)
    );
    let stem = Path::new(name).file_stem().unwrap().to_str().unwrap();
    let srt_path = dir.path().join(format!("{stem}.srt"));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .collect::<Vec<_>>(),
        [
            srt_path.to_str().unwrap(),
            dir.path().join(format!("{stem}.json")).to_str().unwrap()
        ],
        "stdout lists the files written"
    );
    let cues = parse_srt(&std::fs::read_to_string(&srt_path).unwrap());
    let json: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join(format!("{stem}.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(
        files_in(dir.path()),
        [format!("{stem}.json"), format!("{stem}.srt")],
        "no temp files left"
    );

    let t = truth(truth_name);
    let said: Vec<&str> = cues.iter().map(|c| c.text.as_str()).collect();
    let e = wer(&t.text, &said.join(" "));
    assert!(
        e <= 0.25,
        "WER {e:.3} > 0.25\ntruth: {}\ngot:   {}",
        t.text,
        said.join(" ")
    );

    let first = t.speech.first().unwrap().0;
    let last = t.speech.last().unwrap().1;
    for c in &cues {
        assert!(
            c.start >= first - 0.5 && c.end <= last + 0.5,
            "cue {c:?} outside speech [{first}, {last}] ± 0.5 s"
        );
        for &(a, b) in &t.pauses {
            // In a pause a cue may only linger: end at most 12 frames (0.5 s at 24 fps) after
            // the speech before it, start at most 150 ms before the speech after it.
            if c.end > a && c.end < b {
                assert!(
                    c.end - a <= 0.5 + 0.1,
                    "cue {c:?} ends {:.3} s into the pause {a}–{b}",
                    c.end - a
                );
            }
            if c.start > a && c.start < b {
                assert!(
                    b - c.start <= 0.15,
                    "cue {c:?} starts {:.3} s before the speech at {b}",
                    b - c.start
                );
            }
            if b - a > 1.0 {
                assert!(
                    !(c.start <= a && c.end >= b),
                    "cue {c:?} spans the pause {a}–{b}"
                );
            }
        }
    }
    // JSON: segments with words, words inside their segment and in order.
    let mut last_start = f64::MIN;
    let mut n_words = 0;
    for seg in json["segments"].as_array().unwrap() {
        let (s0, s1) = (seg["start"].as_f64().unwrap(), seg["end"].as_f64().unwrap());
        for w in seg["words"].as_array().unwrap() {
            let (a, b) = (w["start"].as_f64().unwrap(), w["end"].as_f64().unwrap());
            assert!(
                a < b && a >= s0 - 1e-6 && b <= s1 + 1e-6,
                "word {w} outside segment {s0}–{s1}"
            );
            assert!(a >= last_start, "words in order");
            last_start = a;
            n_words += 1;
        }
    }
    assert!(
        n_words >= words(&t.text).len() / 2,
        "JSON has word timings ({n_words} words)"
    );
    assert_eq!(json["language"], "en");
    (cues, json)
}

#[test]
fn captions_the_english_mp4_fixture_with_tiny_en() {
    let (cues, _) = check_caption("talk.mp4", "talk.truth.json");
    assert!(cues.len() >= 2, "{cues:?}");
}

#[test]
fn captions_audio_only_mp3() {
    check_caption("voice.mp3", "voice.truth.json");
}

#[test]
fn late_audio_keeps_captions_on_the_media_timeline() {
    let (cues, _) = check_caption("late-audio.mkv", "late-audio.truth.json");
    let onset = truth("late-audio.truth.json").speech[0].0;
    assert!(onset > 1.4, "the fixture's speech starts late");
    assert!(
        cues[0].start >= onset - 0.5,
        "first cue {:?} before the late audio's speech at {onset}",
        cues[0]
    );
}

#[test]
fn bad_inputs_fail_one_line_each_while_good_ones_go_through() {
    let model = tiny_en();
    let dir = tempfile::tempdir().unwrap();
    let bad = [
        "bad/noaudio.mp4",
        "bad/truncated.mp4",
        "bad/not-media.mp4",
        "bad/empty.wav",
    ];
    let mut cmd = subcut();
    cmd.arg("caption").arg(fixture("voice.mp3"));
    for b in bad {
        cmd.arg(fixture(b));
    }
    let missing = dir.path().join("missing.mp4");
    let out = cmd
        .arg(&missing)
        .arg("-o")
        .arg(dir.path())
        .arg("--model")
        .arg(&model)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "some inputs failed: {}",
        stderr(&out)
    );
    let err = stderr(&out);
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(
        errors.len(),
        bad.len() + 1,
        "one error line per bad input:\n{err}"
    );
    let expect = [
        ("noaudio.mp4", "no audio"),
        ("truncated.mp4", "truncated"),
        ("not-media.mp4", "not a media file"),
        ("empty.wav", "no samples"),
        ("missing.mp4", "no such file"),
    ];
    for (file, cause) in expect {
        assert!(
            errors
                .iter()
                .any(|l| l.contains(file) && l.to_lowercase().contains(cause)),
            "no error line naming {file} with {cause:?}:\n{err}"
        );
    }
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(
        files_in(dir.path()),
        ["voice.srt"],
        "only the good input has output, no partial files"
    );
}

fn fake_transcript(dir: &Path) -> PathBuf {
    let p = dir.join("fake.json");
    let json = r#"{"language":"en","segments":[{"start":0.5,"end":2.5,"text":" Hello there.","no_speech_probability":0.01,
        "words":[{"text":"Hello","start":0.8,"end":1.2,"probability":0.9},{"text":"there.","start":1.2,"end":1.9,"probability":0.9}]}]}"#;
    std::fs::write(&p, json).unwrap();
    p
}

#[test]
fn unwritable_output_dir_fails_each_input_with_a_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, b"x").unwrap();
    let out = subcut()
        .arg("caption")
        .arg(fixture("voice.mp3"))
        .arg("-o")
        .arg(blocker.join("sub"))
        .arg("--fake-transcript")
        .arg(fake_transcript(dir.path()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.lines().any(|l| l.starts_with("error: ")
            && l.contains("voice.mp3")
            && l.contains("output directory")),
        "{err}"
    );
    assert_eq!(files_in(dir.path()), ["a-file", "fake.json"]);
}

#[test]
fn directories_and_globs_expand_to_media_files() {
    let dir = tempfile::tempdir().unwrap();
    let fake = fake_transcript(dir.path());
    let media = dir.path().join("in");
    std::fs::create_dir_all(media.join("nested")).unwrap();
    std::fs::copy(fixture("voice.mp3"), media.join("a.mp3")).unwrap();
    std::fs::copy(fixture("voice.mp3"), media.join("nested/b.mp3")).unwrap();
    std::fs::write(media.join("notes.txt"), "not media").unwrap();
    let out = subcut()
        .arg("caption")
        .arg(&media)
        .arg("--fake-transcript")
        .arg(&fake)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(media.join("a.srt").exists() && media.join("nested/b.srt").exists());
    assert!(
        !media.join("notes.srt").exists(),
        "directories are searched for media files only"
    );

    let pattern = format!("{}/*.mp3", media.display());
    let out = subcut()
        .args(["caption", &pattern, "--format", "json", "--json"])
        .arg("--fake-transcript")
        .arg(&fake)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["done"], 1);
    assert_eq!(summary["failed"], 0);
    assert_eq!(summary["inputs"][0]["status"], "done");
    let written = std::fs::read_to_string(media.join("a.json")).unwrap();
    let v: Value = serde_json::from_str(&written).unwrap();
    assert_eq!(v["cues"][0]["text"], "Hello there.");
}

#[test]
fn missing_or_unknown_model_is_one_line_saying_how_to_get_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = subcut()
        .env("SUBCUT_MODELS", dir.path())
        .arg("caption")
        .arg(fixture("voice.mp3"))
        .args(["--model", "tiny.en"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("tiny.en") && err.contains("model pull"),
        "{err}"
    );

    let out = subcut()
        .args(["caption", "x.mp4", "--model", "tiny-enn"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("tiny.en"),
        "suggests the close name: {}",
        stderr(&out)
    );

    let out = subcut()
        .args(["caption", "x.mp4", "--model", "/no/such/model.bin"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("/no/such/model.bin"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn english_only_model_refuses_other_languages_and_translation() {
    let model = tiny_en();
    for extra in [["--language", "zh"], ["--translate", "--quiet"]] {
        let out = subcut()
            .arg("caption")
            .arg(fixture("voice.mp3"))
            .arg("--model")
            .arg(&model)
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(stderr(&out).contains("English-only"), "{}", stderr(&out));
    }
}

#[test]
fn model_list_shows_installed_and_known_models() {
    tiny_en();
    let out = subcut().args(["model", "list"]).output().unwrap();
    assert!(out.status.success());
    let list = String::from_utf8(out.stdout).unwrap();
    let row = list
        .lines()
        .find(|l| l.starts_with("tiny.en "))
        .unwrap_or_else(|| panic!("{list}"));
    assert!(row.contains("installed"), "{row}");
    assert!(
        list.lines()
            .any(|l| l.starts_with("large-v3 ") && l.contains("available")),
        "{list}"
    );
}

#[test]
fn run_without_input_runs_the_default_preset_on_the_bundled_sample() {
    // The default model (base-q8_0), as a newcomer's first command runs it.
    installed("base-q8_0");
    let dir = tempfile::tempdir().unwrap();
    let out = subcut()
        .current_dir(dir.path())
        .arg("run")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    // The default preset captions and cuts: the SRT first, then the cut video and its captions.
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "subcut-sample/talk.srt",
            "subcut-sample/talk.cut.srt",
            "subcut-sample/talk.cut.mp4"
        ],
        "prints where the files went"
    );
    let srt = dir.path().join("subcut-sample/talk.srt");
    let cues = parse_srt(&std::fs::read_to_string(&srt).unwrap());
    let said: Vec<&str> = cues.iter().map(|c| c.text.as_str()).collect();
    let e = wer(&truth("talk.truth.json").text, &said.join(" "));
    assert!(e <= 0.15, "base model WER {e:.3}: {}", said.join(" "));
}

/// The build must link whisper.cpp with llamafile's tiled matmul kernels (`.cargo/config.toml`
/// turns them on; without them the encoder is ~1.5× slower, docs/BENCH.md); `--version` says
/// which features the engine has.
#[test]
fn version_shows_the_engine_built_with_the_fast_kernels() {
    let out = subcut().arg("--version").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with(&format!("subcut {}\n", env!("CARGO_PKG_VERSION"))),
        "{text}"
    );
    let engine = text
        .lines()
        .find(|l| l.starts_with("whisper.cpp: "))
        .unwrap_or_else(|| panic!("no whisper.cpp line in --version:\n{text}"));
    assert!(
        engine.contains("LLAMAFILE = 1"),
        "built without GGML_LLAMAFILE (run `cargo clean -p whisper-rs-sys`): {engine}"
    );
    // `-V` stays the one-line version.
    let short = subcut().arg("-V").output().unwrap();
    assert_eq!(
        String::from_utf8(short.stdout).unwrap(),
        format!("subcut {}\n", env!("CARGO_PKG_VERSION"))
    );
}

/// `--verbose` names the model and the ggml buffers its weights went to. On a CPU with AMX
/// (whisper.cpp reports `AMX_INT8 = 1`) the default model's 512-wide layers must be in the
/// AMX buffer: stock whisper.cpp only packs rows that are multiples of 2048 (base's fc2, ~15 %
/// of the weights), `cmake/whisper-patches.cmake` lifts that, and the AMX tiles cut
/// transcription of continuous speech by about a quarter (docs/BENCH.md). Without AMX there
/// must be no AMX buffer at all.
#[test]
fn verbose_names_where_the_weights_went_and_amx_takes_the_512_wide_layers() {
    let model = installed("base-q8_0");
    let version = subcut().arg("--version").output().unwrap();
    let has_amx = String::from_utf8_lossy(&version.stdout).contains("AMX_INT8 = 1");
    let dir = tempfile::tempdir().unwrap();
    let out = subcut()
        .args([
            "caption",
            "--model",
            "base-q8_0",
            "--language",
            "en",
            "--format",
            "txt",
        ])
        .arg("--out-dir")
        .arg(dir.path())
        .arg(fixture("talk.mp4"))
        .arg("--verbose")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    let note = err
        .lines()
        .find(|l| l.starts_with(&format!("model {}: ", model.display())))
        .unwrap_or_else(|| panic!("no model line in --verbose output:\n{err}"));
    // `model PATH: 87 MB of weights (CPU 34 MB, AMX 52 MB)`
    let mb = |after: &str| -> Option<f64> {
        let rest = &note[note.find(after)? + after.len()..];
        rest.split(' ').next()?.parse().ok()
    };
    let total = mb(": ").unwrap_or_else(|| panic!("no total in {note:?}"));
    assert!((60.0..120.0).contains(&total), "{note}");
    let amx = mb("AMX ");
    if has_amx {
        let amx = amx.unwrap_or_else(|| panic!("AMX CPU, but no AMX buffer: {note}"));
        assert!(
            amx >= 0.5 * total,
            "only {amx} of {total} MB packed for AMX (run `cargo clean -p whisper-rs-sys`?): {note}"
        );
    } else {
        assert_eq!(amx, None, "{note}");
    }
    assert!(dir.path().join("talk.txt").is_file());
}

#[test]
fn wer_counts_substitutions_insertions_and_deletions() {
    assert_eq!(wer("the cat sat", "The cat, sat."), 0.0);
    assert!((wer("the cat sat", "the bat sat down") - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!(wer("a b c d", ""), 1.0);
}

#[test]
fn model_import_converts_ct2_weights_that_whisper_transcribes() {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("imported.bin");
    let out = subcut()
        .args(["model", "import"])
        .arg(ct2_tiny_en())
        .arg("-o")
        .arg(&out_file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("English-only"), "{}", stderr(&out));
    // The size of the reference conversion (FACTS.md §4): header, mel filters, vocabulary, tensors.
    assert_eq!(std::fs::metadata(&out_file).unwrap().len(), 77_704_698);
    let h = subcut::asr::model::read_header(&out_file).unwrap();
    assert_eq!(
        (
            h.n_vocab,
            h.n_audio_state,
            h.n_audio_layer,
            h.n_text_layer,
            h.n_mels
        ),
        (51864, 384, 4, 4, 80)
    );

    let out = subcut()
        .arg("caption")
        .arg(fixture("voice.mp3"))
        .arg("-o")
        .arg(dir.path())
        .arg("--model")
        .arg(&out_file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let cues = parse_srt(&std::fs::read_to_string(dir.path().join("voice.srt")).unwrap());
    let said: Vec<&str> = cues.iter().map(|c| c.text.as_str()).collect();
    let e = wer(&truth("voice.truth.json").text, &said.join(" "));
    assert!(e <= 0.25, "WER {e:.3}: {}", said.join(" "));

    let out = subcut()
        .args(["model", "import"])
        .arg(dir.path())
        .arg("-o")
        .arg(dir.path().join("x.bin"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("model.bin"),
        "names what is missing: {}",
        stderr(&out)
    );
    assert!(!dir.path().join("x.bin").exists());
}

/// Issue 3's timing targets over every fixture with known speech: median |cue start − true
/// speech onset| ≤ 100 ms, 90th percentile ≤ 250 ms, no cue before its speech − 150 ms, and
/// every produced SRT complies with the readability rules.
#[test]
fn cue_starts_match_speech_onsets_and_rules_hold() {
    let model = tiny_en();
    let dir = tempfile::tempdir().unwrap();
    let names = [
        ("talk.mp4", "talk.truth.json"),
        ("voice.mp3", "voice.truth.json"),
        ("late-audio.mkv", "late-audio.truth.json"),
    ];
    let out = subcut()
        .arg("caption")
        .args(names.iter().map(|(n, _)| fixture(n)))
        .arg("-o")
        .arg(dir.path())
        .arg("--model")
        .arg(&model)
        .args(["--language", "en"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let mut errors = Vec::new();
    for (name, truth_name) in names {
        let stem = Path::new(name).file_stem().unwrap().to_str().unwrap();
        let srt = std::fs::read_to_string(dir.path().join(format!("{stem}.srt"))).unwrap();
        let cues = parse_srt(&srt);
        let t = truth(truth_name);
        let duration: f64 =
            serde_json::from_str::<Value>(&std::fs::read_to_string(fixture(truth_name)).unwrap())
                .unwrap()["duration"]
                .as_f64()
                .unwrap();
        for c in &cues {
            let onset = t
                .speech
                .iter()
                .map(|s| s.0)
                .min_by(|a, b| (a - c.start).abs().total_cmp(&(b - c.start).abs()))
                .unwrap();
            assert!(
                c.start >= onset - 0.15,
                "{name}: cue {c:?} starts more than 150 ms before its speech at {onset}"
            );
            errors.push((c.start - onset).abs());
        }
        let lib_cues: Vec<subcut::subtitle::Cue> = cues
            .iter()
            .map(|c| subcut::subtitle::Cue {
                start: subcut::time::Time::from_secs_f64(c.start),
                end: subcut::time::Time::from_secs_f64(c.end),
                text: c.text.clone(),
            })
            .collect();
        let rules = subcut::subtitle::SegmentRules::default();
        let violations = subcut::subtitle::segment::check(
            &lib_cues,
            &rules,
            false,
            subcut::time::Time::from_secs_f64(duration),
        );
        // Reading speed can exceed the limit only when the speaker is that fast; these fixtures are not.
        assert!(violations.is_empty(), "{name}: {violations:?}");
    }
    errors.sort_by(f64::total_cmp);
    let median = errors[errors.len() / 2];
    let p90 = errors[((errors.len() as f64 * 0.9).ceil() as usize).min(errors.len()) - 1];
    eprintln!("cue start errors: {errors:?} median {median:.3} p90 {p90:.3}");
    assert!(errors.len() >= 6, "{errors:?}");
    assert!(
        median <= 0.100,
        "median |cue start − onset| {median:.3} s > 100 ms: {errors:?}"
    );
    assert!(
        p90 <= 0.250,
        "p90 |cue start − onset| {p90:.3} s > 250 ms: {errors:?}"
    );
}

/// The fixture's truth sentences, each with start and end.
fn sentences(truth_name: &str) -> Vec<(String, f64, f64)> {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture(truth_name)).unwrap()).unwrap();
    v["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["text"].as_str().unwrap().to_string(),
                s["start"].as_f64().unwrap(),
                s["end"].as_f64().unwrap(),
            )
        })
        .collect()
}

/// `align` with a script in which every 10th word is not what was said: every script word
/// comes back timed, sentence onsets and offsets within 150 ms median of the truth.
#[test]
fn align_times_a_script_with_wrong_words() {
    let dir = tempfile::tempdir().unwrap();
    let sents = sentences("talk.truth.json");
    let mut n = 0;
    let lines: Vec<String> = sents
        .iter()
        .map(|(text, _, _)| {
            text.split(' ')
                .map(|w| {
                    n += 1;
                    if n % 10 == 5 {
                        "banana".to_string()
                    } else {
                        w.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    let script = dir.path().join("script.txt");
    std::fs::write(&script, lines.join("\n")).unwrap();
    let out = subcut()
        .args(["align"])
        .arg(fixture("talk.mp4"))
        .arg("--script")
        .arg(&script)
        .arg("--model")
        .arg(tiny_en())
        .args(["--language", "en", "--format", "srt,json", "-o"])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out/talk.json")).unwrap())
            .unwrap();
    let segs = json["segments"].as_array().unwrap();
    assert_eq!(segs.len(), sents.len(), "one segment per script line");
    let mut errors = Vec::new();
    for (seg, (line, (_, start, end))) in segs.iter().zip(lines.iter().zip(&sents)) {
        let words = seg["words"].as_array().unwrap();
        let texts: Vec<&str> = words.iter().map(|w| w["text"].as_str().unwrap()).collect();
        assert_eq!(
            texts.join(" "),
            *line,
            "the script's words, not the recogniser's"
        );
        errors.push((words[0]["start"].as_f64().unwrap() - start).abs());
        errors.push((words.last().unwrap()["end"].as_f64().unwrap() - end).abs());
    }
    errors.sort_by(f64::total_cmp);
    let median = (errors[errors.len() / 2 - 1] + errors[errors.len() / 2]) / 2.0;
    assert!(
        median <= 0.150,
        "median onset/offset error {median:.3} s: {errors:?}"
    );
    let srt = parse_srt(&std::fs::read_to_string(dir.path().join("out/talk.srt")).unwrap());
    assert!(
        srt.iter().any(|c| c.text.contains("banana")),
        "cues carry the script's text"
    );
}

/// `align --retime-only` on an SRT that is 1.2 s late and drifts by 2 %: same cues, same
/// text, starts back within 150 ms of the speech.
#[test]
fn align_retime_only_fixes_offset_and_drift_of_an_srt() {
    let dir = tempfile::tempdir().unwrap();
    let sents = sentences("talk.truth.json");
    let stamp = |t: f64| {
        let ms = (t * 1000.0).round() as u64;
        format!(
            "{:02}:{:02}:{:02},{:03}",
            ms / 3_600_000,
            ms / 60_000 % 60,
            ms / 1000 % 60,
            ms % 1000
        )
    };
    let mut srt = String::new();
    for (i, (text, a, b)) in sents.iter().enumerate() {
        srt.push_str(&format!(
            "{}\n{} --> {}\n{}\n\n",
            i + 1,
            stamp(a * 1.02 + 1.2),
            stamp(b * 1.02 + 1.2),
            text
        ));
    }
    let script = dir.path().join("late.srt");
    std::fs::write(&script, srt).unwrap();
    let out = subcut()
        .args(["align"])
        .arg(fixture("talk.mp4"))
        .arg("--script")
        .arg(&script)
        .arg("--retime-only")
        .arg("--model")
        .arg(tiny_en())
        .args(["--language", "en", "-o"])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let cues = parse_srt(&std::fs::read_to_string(dir.path().join("out/talk.srt")).unwrap());
    assert_eq!(cues.len(), sents.len());
    let mut errors: Vec<f64> = cues
        .iter()
        .zip(&sents)
        .map(|(c, (text, a, _))| {
            assert_eq!(c.text, *text);
            (c.start - a).abs()
        })
        .collect();
    errors.sort_by(f64::total_cmp);
    assert!(errors[errors.len() / 2] <= 0.150, "{errors:?}");
    assert!(errors.iter().all(|&e| e <= 0.3), "{errors:?}");
}

#[test]
fn align_needs_one_input_and_a_readable_script() {
    let out = subcut()
        .args(["align", "a.mp4", "b.mp4", "--script", "x.txt"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("exactly one media file"),
        "{}",
        stderr(&out)
    );
    let out = subcut()
        .arg("align")
        .arg(fixture("talk.mp4"))
        .args(["--script", "/nonexistent/script.txt"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("/nonexistent/script.txt"), "{err}");
}

/// Issue 5's batch behaviour: a directory with good files, a corrupt one and a non-media
/// one: the good ones are done, the report lists the failures, exit code 1; a second run
/// with --skip-existing skips the good ones; shards 0/3, 1/3, 2/3 cover every input once.
#[test]
fn batch_report_skip_existing_and_shards() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir_all(inbox.join("sub")).unwrap();
    std::fs::copy(fixture("talk.mp4"), inbox.join("a talk.mp4")).unwrap();
    std::fs::copy(fixture("voice.mp3"), inbox.join("sub/voice.mp3")).unwrap();
    std::fs::copy(fixture("late-audio.mkv"), inbox.join("late.mkv")).unwrap();
    std::fs::copy(fixture("bad/truncated.mp4"), inbox.join("corrupt.mp4")).unwrap();
    std::fs::copy(fixture("bad/not-media.mp4"), inbox.join("notes.mp4")).unwrap();
    let fake = fake_transcript(dir.path());
    let run = |extra: &[&str], out: &Path| {
        subcut()
            .arg("caption")
            .arg(&inbox)
            .arg("--fake-transcript")
            .arg(&fake)
            .arg("-o")
            .arg(out)
            .args(extra)
            .output()
            .unwrap()
    };
    let out_dir = dir.path().join("out");
    let report = dir.path().join("report.json");
    let o = run(&["--report", report.to_str().unwrap()], &out_dir);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(files_in(&out_dir), ["a talk.srt", "late.srt", "voice.srt"]);
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(
        (
            r["done"].as_u64(),
            r["failed"].as_u64(),
            r["skipped"].as_u64()
        ),
        (Some(3), Some(2), Some(0))
    );
    let failed: Vec<&str> = r["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["status"] == "failed")
        .map(|i| i["input"].as_str().unwrap())
        .collect();
    assert!(
        failed.iter().any(|f| f.ends_with("corrupt.mp4"))
            && failed.iter().any(|f| f.ends_with("notes.mp4")),
        "{failed:?}"
    );
    for i in r["inputs"].as_array().unwrap() {
        if i["status"] == "failed" {
            assert!(
                i["error"]
                    .as_str()
                    .unwrap()
                    .contains(i["input"].as_str().unwrap()),
                "{i}"
            );
        } else {
            assert!(
                i["outputs"][0].as_str().unwrap().ends_with(".srt")
                    && i["media_seconds"].as_f64().unwrap() > 1.0,
                "{i}"
            );
        }
    }
    let err = stderr(&o);
    assert!(
        err.contains("FAILED") && err.contains("3 done, 2 failed"),
        "summary table: {err}"
    );

    // Second run: the three good inputs are up to date.
    let o = run(&["--skip-existing", "--json"], &out_dir);
    assert_eq!(o.status.code(), Some(1));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (r["done"].as_u64(), r["skipped"].as_u64()),
        (Some(0), Some(3)),
        "{r}"
    );

    // Shards: disjoint and complete.
    let mut seen: Vec<String> = Vec::new();
    for i in 0..3 {
        let o = run(
            &["--shard", &format!("{i}/3"), "--json"],
            &dir.path().join(format!("s{i}")),
        );
        let r: Value = serde_json::from_slice(&o.stdout).unwrap();
        for inp in r["inputs"].as_array().unwrap() {
            seen.push(inp["input"].as_str().unwrap().to_string());
        }
    }
    seen.sort();
    let mut all: Vec<String> = [
        "a talk.mp4",
        "corrupt.mp4",
        "late.mkv",
        "notes.mp4",
        "sub/voice.mp3",
    ]
    .iter()
    .map(|n| inbox.join(n).display().to_string())
    .collect();
    all.sort();
    assert_eq!(seen, all);
    // The index may come from a Kubernetes Indexed Job.
    let o = subcut()
        .arg("caption")
        .arg(&inbox)
        .arg("--fake-transcript")
        .arg(&fake)
        .args(["--shards", "5", "--json", "-o"])
        .arg(dir.path().join("k"))
        .env("JOB_COMPLETION_INDEX", "2")
        .output()
        .unwrap();
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["inputs"].as_array().unwrap().len(), 1, "{r}");
}

/// Presets: a user preset is found by name, its values apply, flags override them, and a
/// typo in it is a one-line error naming the file, the line and the likely key.
#[test]
fn presets_apply_under_flags_and_typos_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let presets = dir.path().join("presets");
    std::fs::create_dir_all(&presets).unwrap();
    std::fs::write(
        presets.join("mine.toml"),
        "mode = \"captions\"\n[caption]\nformats = [\"vtt\", \"txt\"]\n",
    )
    .unwrap();
    std::fs::write(presets.join("typo.toml"), "[cut]\ntreshold = \"-30dB\"\n").unwrap();
    let fake = fake_transcript(dir.path());
    let run = |args: &[&str], out: &str| {
        subcut()
            .env("SUBCUT_PRESETS_DIR", &presets)
            .arg("run")
            .arg(fixture("talk.mp4"))
            .arg("--fake-transcript")
            .arg(&fake)
            .arg("-o")
            .arg(dir.path().join(out))
            .args(args)
            .output()
            .unwrap()
    };
    let o = run(&["--preset", "mine"], "a");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        files_in(&dir.path().join("a")),
        ["talk.txt", "talk.vtt"],
        "the preset's formats, captions only"
    );
    let o = run(&["--preset", "mine", "--format", "srt"], "b");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        files_in(&dir.path().join("b")),
        ["talk.srt"],
        "a flag beats the preset"
    );

    let o = run(&["--preset", "typo"], "c");
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("typo.toml:2") && err.contains("did you mean \"threshold\""),
        "{err}"
    );
    assert!(!dir.path().join("c").exists());

    let o = subcut()
        .env("SUBCUT_PRESETS_DIR", &presets)
        .args(["presets", "list"])
        .output()
        .unwrap();
    let list = String::from_utf8_lossy(&o.stdout);
    for name in [
        "default",
        "youtube",
        "shorts",
        "podcast",
        "lecture",
        "zh-talking-head",
        "mine",
    ] {
        assert!(
            list.lines().any(|l| l.starts_with(name)),
            "{name} missing from {list}"
        );
    }
    let o = subcut()
        .args(["presets", "show", "shorts"])
        .output()
        .unwrap();
    assert!(o.status.success());
    let shown = String::from_utf8_lossy(&o.stdout);
    assert!(
        shown.contains("burn_in = true") && shown.contains("[render]"),
        "{shown}"
    );
}
