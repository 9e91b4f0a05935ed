//! The FFmpeg edge: decoding any container to 16 kHz mono samples (and later, rendering).

pub mod audio;

pub use audio::{decode_audio, Audio, MediaError, SAMPLE_RATE};
pub mod render;
