//! Prints what `subcut caption` would transcribe of a file: the speech the analysis found,
//! the pieces [`pieces_for`] keeps and the windows they are packed into (with the encoder
//! context each window gets). The benchmark knobs of the environment apply as they do there.
//!
//! cargo run --release --example plan -- FILE...

use std::path::Path;

use subcut::analysis::{self, SpeechParams};
use subcut::asr::whisper::audio_ctx_for;
use subcut::asr::windows::{pack, pieces_for};
use subcut::asr::TranscribeOptions;
use subcut::media::decode_audio;
use subcut::time::{self, Time};

fn main() -> anyhow::Result<()> {
    subcut::media::init().map_err(anyhow::Error::msg)?;
    let opts = TranscribeOptions::default().with_knobs(&|k| std::env::var_os(k));
    for file in std::env::args().skip(1) {
        let audio = decode_audio(Path::new(&file))?;
        let total = audio.duration();
        let loud = analysis::Loudness::measure(&audio.samples);
        let speech = analysis::speech_spans(&loud, &SpeechParams::default());
        let pieces = pieces_for(&opts, &speech, total, Some(&loud));
        let windows = pack(&pieces, opts.pack_max);
        let heard = time::total(&pieces);
        println!(
            "{file}: {:.1} s of media, {:.1} s of speech in {} spans; {:.1} s heard in {} pieces, {} windows",
            total.as_secs_f64(),
            time::total(&speech).as_secs_f64(),
            speech.len(),
            heard.as_secs_f64(),
            pieces.len(),
            windows.len()
        );
        for w in windows {
            let len = pieces[w.clone()]
                .iter()
                .fold(Time::ZERO, |a, p| a + p.duration());
            let ctx = audio_ctx_for(len.to_samples(16_000), 1500, opts.whisper.audio_ctx);
            let list: Vec<String> = pieces[w].iter().map(|p| p.to_string()).collect();
            println!(
                "  {:5.1} s, audio_ctx {:4}: {}",
                len.as_secs_f64(),
                if ctx == 0 { 1500 } else { ctx },
                list.join(" ")
            );
        }
    }
    Ok(())
}
