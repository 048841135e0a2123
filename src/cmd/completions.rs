//! `dpa completions SHELL` and `dpa man`: shell completion scripts and manual pages, both
//! generated from the same clap definition as `--help` (clap_complete, clap_mangen).

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::CommandFactory;

use dpa::untrusted::path as shown;

use crate::cli::{Cli, CompletionsArgs, ManArgs};
use crate::cmd::print;

pub fn completions(args: CompletionsArgs) -> Result<ExitCode> {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "dpa", &mut script);
    let mut out = std::io::stdout().lock();
    out.write_all(&script)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

pub fn man(args: ManArgs) -> Result<ExitCode> {
    let cmd = Cli::command();
    match &args.out {
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut page)?;
            let mut out = std::io::stdout().lock();
            out.write_all(&page)?;
            out.flush()?;
        }
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the folder {}", shown(dir)))?;
            let written = write_pages(&cmd, dir, "dpa")?;
            print::say!(
                "Wrote {written} manual pages into {} (read them with `man -l {}`).",
                shown(dir),
                shown(&dir.join("dpa.1"))
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes `NAME.1` for `cmd` and `NAME-SUB.1` for every subcommand, depth first.
fn write_pages(cmd: &clap::Command, dir: &Path, name: &str) -> Result<usize> {
    let mut page = Vec::new();
    let cmd = cmd.clone().name(name.to_string());
    clap_mangen::Man::new(cmd.clone()).render(&mut page)?;
    let path = dir.join(format!("{name}.1"));
    dpa::output::write_atomic(&path, &page)
        .with_context(|| format!("cannot write {}", shown(&path)))?;
    let mut written = 1;
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        written += write_pages(sub, dir, &format!("{name}-{}", sub.get_name()))?;
    }
    Ok(written)
}
