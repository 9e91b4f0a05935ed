use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = subcut::cli::Cli::parse();
    match subcut::commands::run(cli) {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            // A closed pipe (`subcut model list | head`) is not an error.
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            let _ = writeln!(std::io::stderr(), "error: {}", subcut::error::one_line(&e));
            ExitCode::from(subcut::commands::EXIT_CONFIG as u8)
        }
    }
}
