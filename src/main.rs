//! The `dpa` binary: parse the command line, run the command, map the outcome to an exit code.
//!
//! Exit codes: 0 success (also when the reader of standard output went away), 1 a check
//! that answered "not valid", 2 any error. Under `--json` an error is printed as JSON on
//! standard output (see `cmd::print::JsonError`), else as `error:` and `hint:` lines.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

mod cli;
mod cmd;

use cmd::print;

/// jemalloc instead of glibc's malloc: a batch allocates and frees ~10,000 blocks per
/// document on several threads, and with jemalloc it needs ~15% less CPU per document at
/// the same peak memory (BENCHMARKS.md, issue 19; options in .cargo/config.toml).
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let cli = match cli::Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(err) => return usage_error(&err, asks_for_json(&args)),
    };
    print::set_quiet(cli.quiet);
    let json = cli.command.json();
    match cmd::run(cli) {
        Ok(code) => code,
        // `dpa register list | head -1`: the reader had enough, which is not a failure.
        Err(err) if print::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            let hint = cmd::hint(&err);
            print::error(&message(&err), hint.as_deref(), json);
            ExitCode::from(2)
        }
    }
}

/// The error and its causes joined with ": ", as `{err:#}` writes them, but leaving out a
/// cause whose text the message already holds: an error that names the file and the OS's
/// reason would otherwise say the reason twice.
fn message(err: &anyhow::Error) -> String {
    let mut text = err.to_string();
    for cause in err.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

/// Whether `--json` appears among the options (before any `--`), for errors that happen
/// before the command line could be parsed.
fn asks_for_json(args: &[OsString]) -> bool {
    args.iter()
        .skip(1)
        .take_while(|a| *a != "--")
        .any(|a| a == "--json")
}

/// Prints clap's help, version or usage error; a usage error is JSON under `--json`.
fn usage_error(err: &clap::Error, json: bool) -> ExitCode {
    let code = u8::try_from(err.exit_code()).unwrap_or(2);
    let shows_text = matches!(
        err.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    );
    if json && !shows_text {
        // clap's rendering without colours: "error: MESSAGE" (maybe over several lines),
        // then "tip:" lines, the usage and a pointer to --help, which become the hint.
        let rendered = err.render().to_string();
        let (mut message, mut hint) = (Vec::new(), Vec::new());
        for line in rendered.lines().map(str::trim).filter(|l| !l.is_empty()) {
            if hint.is_empty() && !line.starts_with("tip:") && !line.starts_with("Usage:") {
                message.push(line.strip_prefix("error: ").unwrap_or(line));
            } else {
                hint.push(line.strip_prefix("tip: ").unwrap_or(line));
            }
        }
        let message = message.join(" ");
        let hint = (!hint.is_empty()).then(|| hint.join("; "));
        print::error(&message, hint.as_deref(), true);
        return ExitCode::from(code);
    }
    // A closed pipe while printing help is not worth a message either.
    let _ = err.print();
    ExitCode::from(code)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn command_line_definition_is_consistent() {
        super::cli::Cli::command().debug_assert();
    }

    #[test]
    fn every_argument_and_command_has_help() {
        fn walk(cmd: &clap::Command, path: &str) {
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if matches!(id, "help" | "version") {
                    continue;
                }
                assert!(
                    arg.get_help().is_some() || arg.get_long_help().is_some(),
                    "{path} {id} has no help text"
                );
            }
            for sub in cmd.get_subcommands() {
                if sub.get_name() == "help" {
                    continue;
                }
                let name = format!("{path} {}", sub.get_name());
                assert!(sub.get_about().is_some(), "{name} has no about text");
                walk(sub, &name);
            }
        }
        walk(&super::cli::Cli::command(), "dpa");
    }
}
