//! subcut: offline captions and tight cuts for talking-head video.
//!
//! The library holds every stage; the `subcut` binary only parses flags and calls
//! [`commands::run`]. Pure timing logic ([`time`], [`subtitle`]) has no FFmpeg or whisper
//! dependency; [`media`] (FFmpeg) and [`asr`] (whisper.cpp) are the edges.
//!
//! ```text
//! media::decode_audio → asr::Transcriber::transcribe → subtitle::cues_from_transcript
//!                     → subtitle::format::{srt,json} → output::Staged (atomic)
//! ```

pub mod analysis;
pub mod asr;
pub mod cli;
pub mod commands;
pub mod config;
pub mod edit;
pub mod error;
pub(crate) mod inputs;
pub mod media;
pub mod output;
pub mod pipeline;
pub mod preset;
pub mod subtitle;
pub mod time;
pub mod timeline;
pub mod transcript;
pub(crate) mod watch;

#[cfg(test)]
mod testutil;
