//! subcut: offline captions and tight cuts for talking-head video.
//!
//! The library holds every stage; the `subcut` binary is one call to [`run_cli`]. The pure
//! timing logic lives in the `subcut-core` crate (no FFmpeg, no whisper, no I/O) and is
//! re-exported here under the same names: [`time`], [`transcript`], [`analysis`],
//! [`subtitle`], [`edit`], [`config`]. [`media`] (FFmpeg) and [`asr`] (whisper.cpp) are the
//! edges; [`pipeline`] sequences the stages for one input.
//!
//! ```text
//! media::decode_audio → analysis::speech_spans → asr::Transcriber::transcribe_windows
//!   → subtitle::segment → subtitle::format::render → output::Staged (atomic)
//! cut: edit::plan → edit::export::render, timeline::draw, media::render::render
//! ```
//!
//! The command line (`cli`: clap definitions; `commands`: flags + preset → jobs, the batch
//! runner, the summary) is private to the binary's entry point and not library API.

#![warn(missing_docs)]

pub use subcut_core::{analysis, config, edit, subtitle, time, transcript};

pub mod asr;
pub mod error;
pub mod media;
pub mod output;
pub mod pipeline;
pub mod preset;
pub mod timeline;

mod cli;
mod commands;
pub(crate) mod inputs;
pub(crate) mod watch;

#[cfg(test)]
pub(crate) use subcut_core::testutil;

/// The `subcut` command: parses the process's arguments, runs the command, prints an error on
/// one line and returns the exit code (0 done, 1 some inputs failed, 2 usage or
/// configuration error). A closed pipe (`subcut model list | head`) is not an error.
pub fn run_cli() -> std::process::ExitCode {
    use clap::Parser;
    use std::io::Write;
    use std::process::ExitCode;

    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            let _ = writeln!(std::io::stderr(), "error: {}", error::one_line(&e));
            ExitCode::from(commands::EXIT_CONFIG as u8)
        }
    }
}
