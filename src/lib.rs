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

pub use subcut_core::{analysis, config, edit, glossary, subtitle, time, transcript};

pub mod asr;
pub mod media;
pub mod preset;

mod cli;
mod commands;
mod error;
#[cfg(test)]
mod fuzz;
mod inputs;
mod output;
mod pipeline;
mod review_page;
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

    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => usage_error(e),
    };
    if !matches!(cli.command, cli::Command::Watch(_)) {
        remove_temps_on_signal();
    }
    // A `println!` left on a stdout path panics on a closed pipe or a full device: that panic is
    // the io error it reports (silent here, and a closed pipe is success), never exit 101.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if stdout_panic(info.payload()).is_none() {
            default_hook(info)
        }
    }));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| commands::run(cli)));
    let result = match result {
        Ok(r) => r,
        Err(payload) => match stdout_panic(payload.as_ref()) {
            Some(msg) if msg.contains("Broken pipe") => return ExitCode::SUCCESS,
            Some(msg) => {
                let msg = msg.trim_start_matches("failed printing to stdout: ");
                let _ = writeln!(std::io::stderr(), "error: cannot write to stdout: {msg}");
                return ExitCode::from(commands::EXIT_CONFIG as u8);
            }
            None => std::panic::resume_unwind(payload),
        },
    };
    match result {
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

/// The message of the panic `print!` raises when stdout cannot be written.
fn stdout_panic(payload: &(dyn std::any::Any + Send)) -> Option<&str> {
    let msg = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())?;
    msg.starts_with("failed printing to stdout").then_some(msg)
}

/// Prints clap's error and exits, except that its tip "to pass '-5' as a value, use '-- -5'" is
/// wrong for subcut (after `--`, `-5` is an input): ours says to attach the value with `=`.
fn usage_error(e: clap::Error) -> ! {
    use std::io::Write;
    if e.kind() == clap::error::ErrorKind::UnknownArgument {
        let text = e.render().to_string();
        if let Some(line) = text
            .lines()
            .find(|l| l.trim_start().starts_with("tip: to pass '-"))
        {
            let value = line.split('\'').nth(1).unwrap_or("-5");
            let tip = format!(
                "  tip: to give '{value}' to a flag, attach it with '=': --FLAG={value} \
                 (after '--' it would be an input)"
            );
            let _ = write!(std::io::stderr(), "{}", text.replace(line, &tip));
            std::process::exit(commands::EXIT_CONFIG);
        }
    }
    e.exit()
}

/// On SIGINT or SIGTERM (watch has its own handling): removes every temporary file this
/// process staged, says how many on one line and exits with 130 or 143 at once.
fn remove_temps_on_signal() {
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGINT, SIGTERM};
        use std::io::Write;
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
            return;
        };
        std::thread::spawn(move || {
            if let Some(sig) = signals.forever().next() {
                let n = output::remove_own_temps();
                let s = if n == 1 { "" } else { "s" };
                let _ = writeln!(
                    std::io::stderr(),
                    "interrupted: removed {n} temporary file{s}"
                );
                // SAFETY: ends the process now, without running exit handlers under the
                // threads (FFmpeg, whisper.cpp) that are still working.
                unsafe { libc::_exit(128 + sig) };
            }
        });
    }
}
