//! One module per subcommand; each turns arguments into library calls and prints results.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use chrono::NaiveDate;

use dpa::compose::{Composer, NoticeInputs};
use dpa::config::{Flags, Resolved};
use dpa::issue::{Issuer, KeySet, Options, Session};
use dpa::output::Wait;
use dpa::template::TemplateFile;

use crate::cli::{Cli, Command, InputArgs};

mod annex;
mod batch;
mod generate;
mod keygen;
mod register;
mod verifier;
mod verify;

/// Runs a parsed command line; `Ok` carries the exit code (0, or 1 for "not valid").
pub fn run(cli: Cli) -> Result<ExitCode> {
    let config = cli.config.clone();
    match cli.command {
        Command::Keygen(args) => keygen::run(args),
        Command::Generate(args) => generate::run(args, config),
        Command::Verify(args) => verify::run(args),
        Command::Batch(args) => batch::run(args, config),
        Command::Annex(cmd) => annex::run(cmd),
        Command::Register(cmd) => register::run(cmd, config),
        Command::Verifier(args) => verifier::run(args, config),
    }
}

/// The command line's input flags, for `dpa::config` to resolve.
pub fn flags(config: Option<PathBuf>, args: &InputArgs, issue_date: Option<NaiveDate>) -> Flags {
    Flags {
        config,
        vendor: args.vendor.clone(),
        annex: args.annex.clone(),
        template: args.template.clone(),
        key: args.key.clone(),
        out: args.out.clone(),
        issue_date,
    }
}

/// The `hint:` line for an error, from the first error in the chain that has one.
pub fn hint(err: &anyhow::Error) -> Option<String> {
    dpa::error::hint(err.as_ref())
}

/// Prints a value as pretty JSON on stdout.
pub fn print_json(value: &impl serde::Serialize) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// Loads everything an issuing run needs once: vendor, annex, templates, key and fonts.
pub fn build_issuer(
    resolved: &Resolved,
    notice: Option<(PathBuf, NaiveDate, Option<PathBuf>)>,
    options: Options,
) -> Result<Issuer> {
    let vendor = dpa::load::vendor(resolved.vendor()?)?;
    let annex = dpa::load::annex(resolved.annex()?)?;
    let template_path = resolved.template()?;
    let template = TemplateFile::read(template_path)?;
    let notice = match notice {
        Some((previous, date, notice_template)) => {
            let previous = dpa::load::annex(&previous)?;
            let path =
                notice_template.unwrap_or_else(|| template_path.with_file_name("notice.md.hbs"));
            Some(NoticeInputs::new(
                TemplateFile::read(&path)?,
                previous,
                &annex,
                date,
            )?)
        }
        None => None,
    };
    let composer = Composer::new(vendor, annex, template, notice)?;
    let keys = KeySet::load(&resolved.key)?;
    if let Some(warning) = keys.warning() {
        eprintln!("warning: {warning}");
    }
    let typesetter = dpa::pdf::Typesetter::new(dpa::layout::PageSetup::default())
        .map_err(|e| anyhow::anyhow!("cannot load the bundled fonts: {e}"))?;
    Ok(Issuer::new(composer, keys, typesetter, options))
}

/// Opens the output folder for writing, saying so when another dpa holds it.
pub fn open_session(resolved: &Resolved, no_wait: bool) -> Result<Session> {
    let out = &resolved.out.value;
    let wait = if no_wait { Wait::No } else { Wait::Block };
    let session = Session::open(out, wait, || {
        if !no_wait {
            eprintln!(
                "waiting for another dpa that is writing to {}...",
                out.display()
            );
        }
    })?;
    let recovery = session.recovery();
    for id in &recovery.completed {
        eprintln!(
            "note: completed {id}'s documents, which an interrupted run had written but not recorded"
        );
    }
    for id in &recovery.undone {
        eprintln!("note: removed {id}'s unfinished documents of an interrupted run");
    }
    Ok(session)
}
