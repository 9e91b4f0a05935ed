//! Stage benchmark for `scripts/bench.sh`: decode, analysis and transcription real-time
//! factors, and the pipeline's transcription call against a bare whisper-rs `full()` with
//! the same samples and parameters (alternating A B A B … so drift hits both alike). The
//! pipeline hears only the speech (`asr::windows::pieces_for`, packed into windows); the
//! "same windows" column runs bare `full()` on exactly that packed audio.
//!
//! cargo run --release --example bench -- MODEL RUNS FILE...
//! Prints one markdown table row per file. The benchmark knobs of the environment
//! (`SUBCUT_AUDIO_CTX`, `SUBCUT_SPEECH_ONLY`, …; see `TranscribeOptions::with_knobs`) apply
//! as they do to `subcut caption`.

use std::path::Path;
use std::time::Instant;

use subcut::analysis::{self, SpeechParams};
use subcut::asr::windows::pieces_for;
use subcut::asr::{TranscribeOptions, Transcriber, Whisper};
use subcut::media::decode_audio;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [model, runs, files @ ..] = &args[..] else {
        anyhow::bail!("usage: bench MODEL RUNS FILE...");
    };
    let runs: usize = runs.parse()?;
    subcut::media::init().map_err(anyhow::Error::msg)?;
    let whisper = Whisper::load(Path::new(model))?;
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(4);
    let opts = TranscribeOptions {
        language: Some("en".into()),
        threads,
        ..TranscribeOptions::default()
    }
    .with_knobs(&|k| std::env::var_os(k));
    println!("| input | media s | windows | decode × RT | analysis × RT | pipeline transcribe s | bare full() same windows s | pipeline / bare (same windows) | bare full() whole input s | pipeline / bare whole | transcribe × RT |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for file in files {
        let path = Path::new(file);
        let mut decode = Vec::new();
        let mut audio = None;
        for _ in 0..runs {
            let t = Instant::now();
            let a = decode_audio(path)?;
            decode.push(t.elapsed().as_secs_f64());
            audio = Some(a);
        }
        let audio = audio.expect("runs ≥ 1");
        let secs = audio.duration().as_secs_f64();
        let mut analysis_t = Vec::new();
        for _ in 0..runs {
            let t = Instant::now();
            std::hint::black_box(analysis::detect(&audio.samples, &SpeechParams::default()));
            analysis_t.push(t.elapsed().as_secs_f64());
        }
        let loud = analysis::Loudness::measure(&audio.samples);
        let speech = analysis::speech_spans(&loud, &SpeechParams::default());
        let windows = pieces_for(&opts, &speech, audio.duration(), Some(&loud));
        // The audio of each packed window, as the pipeline hands it to whisper.
        let packed: Vec<Vec<f32>> = subcut::asr::windows::pack(&windows, opts.pack_max)
            .into_iter()
            .map(|r| {
                windows[r]
                    .iter()
                    .flat_map(|w| {
                        let a = w.start.to_samples(16_000).min(audio.samples.len());
                        let b = w.end.to_samples(16_000).min(audio.samples.len());
                        audio.samples[a..b].iter().copied()
                    })
                    .collect()
            })
            .collect();
        let (mut pipe, mut bare, mut bare_win) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..runs {
            let t = Instant::now();
            // The pipeline's stage: windows cut at the silences the analysis found.
            let loud = analysis::Loudness::measure(&audio.samples);
            let speech = analysis::speech_spans(&loud, &SpeechParams::default());
            let windows = pieces_for(&opts, &speech, audio.duration(), Some(&loud));
            std::hint::black_box(whisper.transcribe_windows(
                &audio.samples,
                &windows,
                &speech,
                &opts,
                &mut |_| {},
            )?);
            pipe.push(t.elapsed().as_secs_f64());
            let t = Instant::now();
            std::hint::black_box(whisper.bare_full(&audio.samples, &opts)?);
            bare.push(t.elapsed().as_secs_f64());
            // Bare full() on the very same windows: what the pipeline adds around the engine.
            let t = Instant::now();
            for w in &packed {
                std::hint::black_box(whisper.bare_full(w, &opts)?);
            }
            bare_win.push(t.elapsed().as_secs_f64());
        }
        let (d, a, p, b, bw) = (
            median(decode),
            median(analysis_t),
            median(pipe),
            median(bare),
            median(bare_win),
        );
        let name = path
            .file_name()
            .map_or(file.clone(), |n| n.to_string_lossy().into_owned());
        println!(
            "| {name} | {secs:.1} | {} | {:.0} | {:.0} | {p:.2} | {bw:.2} | {:.3} | {b:.2} | {:.3} | {:.1} |",
            packed.len(),
            secs / d,
            secs / a,
            p / bw,
            p / b,
            secs / p
        );
    }
    Ok(())
}
