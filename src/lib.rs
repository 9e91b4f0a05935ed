//! subcut: offline captions and tight cuts for talking-head video.
//!
//! The library holds every stage; the `subcut` binary is one call to [`run_cli`]. The pure
//! timing logic lives in the `subcut-core` crate (no FFmpeg, no whisper, no I/O) and is
//! re-exported here under the same names: [`time`], [`transcript`], [`analysis`],
//! [`subtitle`], [`edit`], [`config`]. [`media`] (FFmpeg) and [`asr`] (whisper.cpp) are the
//! edges; [`preset`] describes a whole job in a TOML file.
//!
//! ```text
//! media::decode_audio → analysis::speech_spans → asr::Transcriber::transcribe_windows
//!   → subtitle::segment → subtitle::format::render → atomic output files
//! cut: edit::plan → edit::export::render, the timeline picture, media::render::render
//! ```
//!
//! The application is private to the binary's entry point and not library API: the command
//! line (`cli`: clap definitions; `commands`: flags + preset → jobs, the batch runner, the
//! summary), `pipeline` (the stages for one input, in sequence), `output` (atomic staged
//! writes), `timeline` (the picture), `watch` (the watch folder), `inputs`, `error`.

#![warn(missing_docs)]

pub use subcut_core::{analysis, config, edit, subtitle, time, transcript};

pub mod asr;
pub mod media;
pub mod preset;

mod cli;
mod commands;
mod error;
mod inputs;
mod output;
mod pipeline;
mod timeline;
mod watch;

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
