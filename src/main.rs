//! The `subcut` binary: everything is in the library ([`subcut::run_cli`]).

fn main() -> std::process::ExitCode {
    subcut::run_cli()
}
