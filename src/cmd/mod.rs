//! One module per subcommand; each turns arguments into library calls and prints results.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Result, bail};
use chrono::NaiveDate;

use dpa::compose::{Composer, NoticeInputs};
use dpa::config::{Flags, Resolved};
use dpa::issue::{Issuer, KeySet, Options, Session};
use dpa::model::Config;
use dpa::output::Wait;
use dpa::template::TemplateFile;
use dpa::untrusted::{Escaped, path as shown};

use crate::cli::{Cli, Command, InputArgs};

mod accept;
mod annex;
mod batch;
mod completions;
mod generate;
mod keygen;
mod object;
pub mod print;
mod rebuild;
mod register;
mod status;
mod verifier;
mod verify;

/// Runs a parsed command line; `Ok` carries the exit code (0, or 1 for "not valid").
pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Keygen(args) => keygen::run(args),
        Command::Generate(args) => {
            let config = args.inputs.config.config.clone();
            generate::run(args, config)
        }
        Command::Verify(args) => verify::run(args),
        Command::Batch(args) => {
            let config = args.inputs.config.config.clone();
            batch::run(args, config)
        }
        Command::Accept(args) => accept::run(args),
        Command::Object(args) => object::run(args),
        Command::Status(args) => status::run(args),
        Command::Annex(cmd) => annex::run(cmd),
        Command::Register(cmd) => register::run(cmd),
        Command::Verifier(args) => {
            let config = load_config(args.config.config.as_deref())?;
            verifier::run(args, &config)
        }
        Command::Completions(args) => completions::completions(args),
        Command::Man(args) => completions::man(args),
    }
}

/// Reads `--config FILE`, else `./dpa.toml` if present, else empty defaults.
pub fn load_config(explicit: Option<&Path>) -> Result<Config> {
    match explicit {
        Some(path) => Ok(dpa::load::config(path)?),
        None => {
            let default = Path::new("dpa.toml");
            if default.exists() {
                Ok(dpa::load::config(default)?)
            } else {
                Ok(Config::default())
            }
        }
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
        pdf_key: args.pdf_key.clone(),
        cert: args.cert.clone(),
        out: args.out.clone(),
        issue_date,
    }
}

/// The `hint:` line for an error, from the first error in the chain that has one.
pub fn hint(err: &anyhow::Error) -> Option<String> {
    dpa::error::hint(err.as_ref())
}

/// The path `-`, which stands for standard input where a command reads a file.
pub const STDIN: &str = dpa::load::STDIN;

/// Whether `path` is `-` (standard input).
pub fn is_stdin(path: &Path) -> bool {
    path == Path::new(STDIN)
}

/// Refuses to write `out` over an existing file unless `force`, and over any of `inputs`
/// (the files the command read) even with `force`.
pub fn check_output_file(out: &Path, inputs: &[&Path], force: bool) -> Result<()> {
    for input in inputs {
        if !is_stdin(input) && same_file::is_same_file(out, input).unwrap_or(false) {
            bail!(
                "refusing to write {} over {}, which this command reads",
                shown(out),
                shown(input)
            );
        }
    }
    match std::fs::symlink_metadata(out) {
        Ok(meta) if meta.is_dir() => bail!("{} is a folder, not a file name", shown(out)),
        Ok(_) if !force => bail!(
            "{} already exists; pass --force to replace it, or choose another --out",
            shown(out)
        ),
        _ => Ok(()),
    }
}

/// When an issuing run compiles its templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compile {
    /// While loading, before the keys: an error in a template is the first thing said.
    Now,
    /// When a document is first made (`Composer::compile`, or its first render): a run
    /// that finds its documents issued makes none and needs only the templates' hashes.
    WhenUsed,
}

/// Loads everything an issuing run needs once: vendor, annex, templates, key and fonts.
pub fn build_issuer(
    resolved: &Resolved,
    notice: Option<(PathBuf, NaiveDate, Option<PathBuf>)>,
    options: Options,
    compile: Compile,
) -> Result<Issuer> {
    let vendor = dpa::load::vendor(resolved.vendor()?)?;
    let annex = dpa::load::annex(resolved.annex()?)?;
    dpa::load::check_facts(resolved.vendor()?, &vendor, &annex)?;
    let read = |path: &Path| match compile {
        Compile::Now => TemplateFile::read(path),
        Compile::WhenUsed => TemplateFile::read_lazy(path),
    };
    let template_path = resolved.template()?;
    let template = read(template_path)?;
    let notice = match notice {
        Some((previous, date, notice_template)) => {
            let previous = dpa::load::annex(&previous)?;
            let path =
                notice_template.unwrap_or_else(|| template_path.with_file_name("notice.md.hbs"));
            Some(NoticeInputs::new(read(&path)?, previous, &annex, date)?)
        }
        None => None,
    };
    let composer = Composer::new(vendor, annex, template, notice)?;
    let keys = KeySet::load(&resolved.key, &resolved.pdf, resolved.issue_date.value)?;
    for warning in keys.warnings() {
        print::warn(format_args!("{warning}"));
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
            print::note(format_args!(
                "waiting for another dpa that is writing to {}...",
                shown(out)
            ));
        }
    })?;
    let recovery = session.recovery();
    for id in &recovery.completed {
        print::note(format_args!(
            "note: completed {}'s documents, which an interrupted run had written but not recorded",
            Escaped(id)
        ));
    }
    for id in &recovery.undone {
        print::note(format_args!(
            "note: removed {}'s unfinished documents of an interrupted run",
            Escaped(id)
        ));
    }
    Ok(session)
}
