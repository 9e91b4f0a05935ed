//! Speech recognition: models (import, registry, download) and the whisper.cpp engine, which
//! produce the engine-independent [`Transcript`].
//!
//! The pipeline talks to a [`Transcriber`], so that everything after recognition can be
//! tested with [`Replay`], which plays back a saved transcript instead of running a model.

pub mod ct2;
pub mod ggml;
pub mod model;
pub mod retime;
pub mod whisper;
pub mod windows;

use std::path::Path;

use anyhow::{Context, Result};

use crate::transcript::Transcript;
pub use whisper::{TranscribeOptions, Whisper};

/// Something that turns 16 kHz mono samples into a transcript.
pub trait Transcriber: Sync {
    fn transcribe(
        &self,
        samples: &[f32],
        opts: &TranscribeOptions,
        progress: &mut dyn FnMut(f32),
    ) -> Result<Transcript>;

    /// Transcribes `samples` in the given windows (see [`windows::plan`]), times on the
    /// whole input's timeline.
    fn transcribe_windows(
        &self,
        samples: &[f32],
        windows: &[crate::time::Span],
        opts: &TranscribeOptions,
        progress: &mut dyn FnMut(f32),
    ) -> Result<Transcript> {
        windows::transcribe(samples, windows, opts, progress, &mut |s, o, p| {
            self.transcribe(s, o, p)
        })
    }
}

impl Transcriber for Whisper {
    fn transcribe(
        &self,
        samples: &[f32],
        opts: &TranscribeOptions,
        progress: &mut dyn FnMut(f32),
    ) -> Result<Transcript> {
        Ok(Whisper::transcribe(self, samples, opts, progress)?)
    }

    /// One decoding state for all windows: its buffers are allocated once.
    fn transcribe_windows(
        &self,
        samples: &[f32],
        windows: &[crate::time::Span],
        opts: &TranscribeOptions,
        progress: &mut dyn FnMut(f32),
    ) -> Result<Transcript> {
        let mut state = self.new_state()?;
        windows::transcribe(samples, windows, opts, progress, &mut |s, o, p| {
            Ok(self.transcribe_in(&mut state, s, o, p)?)
        })
    }
}

/// A fake engine that returns a saved transcript (the JSON that `--format json` writes, or
/// a bare `Transcript`), keeping only the segments that start within the audio.
pub struct Replay {
    transcript: Transcript,
}

impl Replay {
    pub fn load(path: &Path) -> Result<Replay> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("{}: cannot read transcript", path.display()))?;
        let transcript: Transcript = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a transcript JSON", path.display()))?;
        Ok(Replay { transcript })
    }

    /// An engine that hears no words: for cutting on loudness alone (`--no-captions`).
    pub fn nothing() -> Replay {
        Replay {
            transcript: Transcript {
                language: String::new(),
                segments: Vec::new(),
            },
        }
    }
}

impl Transcriber for Replay {
    /// The saved transcript is already on the whole input's timeline: no windows.
    fn transcribe_windows(
        &self,
        samples: &[f32],
        _: &[crate::time::Span],
        opts: &TranscribeOptions,
        progress: &mut dyn FnMut(f32),
    ) -> Result<Transcript> {
        self.transcribe(samples, opts, progress)
    }

    fn transcribe(
        &self,
        samples: &[f32],
        _: &TranscribeOptions,
        progress: &mut dyn FnMut(f32),
    ) -> Result<Transcript> {
        let end = crate::time::Time::from_samples(samples.len(), crate::time::SAMPLE_RATE);
        let mut t = self.transcript.clone();
        t.segments.retain(|s| s.start < end);
        progress(1.0);
        Ok(t)
    }
}
