//! `dpa annex fingerprint|diff|import`.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use serde::Serialize;

use dpa::annex::import::{self, ImportOptions};
use dpa::untrusted::{Escaped, path as shown};

use crate::cli::{AnnexCommand, ImportArgs};
use crate::cmd::print::{self, say};
use crate::cmd::{check_output_file, is_stdin};

/// What `dpa annex fingerprint --json` prints.
#[derive(Debug, Serialize)]
struct Fingerprint {
    file: String,
    version: String,
    sha256: String,
}

pub fn run(cmd: AnnexCommand) -> Result<ExitCode> {
    match cmd {
        AnnexCommand::Fingerprint { file, json } => {
            let annex = dpa::load::annex(&file)?;
            let sha256 = dpa::annex::fingerprint(&annex).hex();
            if json {
                print::json(&Fingerprint {
                    file: file.display().to_string(),
                    version: annex.version,
                    sha256,
                })?;
            } else {
                // The `sha256sum` layout: hash, two spaces, file name.
                say!("{sha256}  {}", shown(&file))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        AnnexCommand::Diff {
            old,
            new,
            json,
            exit_code,
        } => {
            if is_stdin(&old) && is_stdin(&new) {
                bail!("only one of OLD and NEW can be `-` (standard input)");
            }
            let old = dpa::load::annex(&old)?;
            let new = dpa::load::annex(&new)?;
            let diff = dpa::annex::diff::diff(&old, &new)?;
            let differ = !diff.is_empty();
            let code = if differ && (exit_code || print::quiet()) {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            };
            let printed = if json {
                print::json(&diff)
            } else if !print::quiet() {
                print::text(&diff.render_table()).map_err(Into::into)
            } else {
                Ok(())
            };
            print::answer(printed, code)
        }
        AnnexCommand::Import(args) => import(args),
    }
}

/// Largest page read from standard input; real subprocessor pages are a few hundred KB.
const MAX_PAGE: u64 = 16 * 1024 * 1024;

fn read_page(path: &Path) -> Result<(String, String)> {
    if is_stdin(path) {
        let mut bytes = Vec::new();
        std::io::stdin()
            .take(MAX_PAGE + 1)
            .read_to_end(&mut bytes)
            .context("cannot read the page from standard input")?;
        if bytes.len() as u64 > MAX_PAGE {
            bail!(
                "the page on standard input is larger than {} MB",
                MAX_PAGE >> 20
            );
        }
        let text =
            String::from_utf8(bytes).context("the page on standard input is not UTF-8 text")?;
        return Ok((text, "<stdin>".to_string()));
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the page {}", shown(path)))?;
    Ok((text, path.display().to_string()))
}

fn import(args: ImportArgs) -> Result<ExitCode> {
    if let Some(out) = &args.out {
        // Before any work, so a refused --out costs nothing.
        check_output_file(out, &[&args.page], args.force)?;
    }
    let (text, source) = read_page(&args.page)?;
    let opts = ImportOptions {
        vendor: args.vendor,
        version: args.version,
        effective: args.effective,
        source: source.clone(),
    };
    let imported = import::import(&text, &opts)?;
    for warning in &imported.warnings {
        print::warn(format_args!(
            "{}:{}",
            Escaped(&source),
            Escaped(&warning.to_string())
        ));
    }
    if args.check {
        print::text(&import::check_table(&imported))?;
        return Ok(ExitCode::SUCCESS);
    }
    let toml = import::to_toml(&imported, &source);
    match &args.out {
        Some(path) => {
            dpa::output::write_atomic(path, toml.as_bytes())
                .with_context(|| format!("cannot write {}", shown(path)))?;
            let count: usize = imported
                .annex
                .sections
                .iter()
                .map(|s| s.entries.len())
                .sum();
            print::note(format_args!(
                "Wrote {} ({count} providers in {} sections, {} warnings): review it before you publish it.",
                shown(path),
                imported.annex.sections.len(),
                imported.warnings.len()
            ));
        }
        // The annex itself is the output: written as is, since escaping would change the TOML.
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            out.write_all(toml.as_bytes())?;
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
