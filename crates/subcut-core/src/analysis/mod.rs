//! Audio analysis that needs no FFmpeg and no recogniser: loudness per 10 ms frame and the
//! speech/silence spans derived from it. Pure functions over 16 kHz mono samples.

pub mod loudness;
mod silence;

pub use loudness::Loudness;
pub use silence::{detect, speech_spans, SpeechParams, Threshold};
