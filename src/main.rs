//! The `dpa` binary: parse the command line, run the command, map the outcome to an exit code.

use std::io::{ErrorKind, Write};
use std::process::ExitCode;

use clap::Parser;

mod cli;
mod cmd;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cmd::run(cli) {
        Ok(code) => code,
        Err(err) => {
            // A closed pipe (`dpa register list | head`) is not a failure.
            if err
                .chain()
                .filter_map(|e| e.downcast_ref::<std::io::Error>())
                .any(|e| e.kind() == ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(stderr, "error: {err:#}");
            if let Some(hint) = cmd::hint(&err) {
                let _ = writeln!(stderr, "hint: {hint}");
            }
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn command_line_definition_is_consistent() {
        super::cli::Cli::command().debug_assert();
    }
}
