//! `dpa annex fingerprint|diff|import|publish`.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use serde::Serialize;

use dpa::annex::import::{self, ImportOptions, PageFormat};
use dpa::annex::publish::{self, PublishOptions};
use dpa::model::Config;
use dpa::untrusted::{Escaped, path as shown};

use crate::cli::{AnnexCommand, ImportArgs, PublishArgs};
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
        AnnexCommand::Publish(args) => publish(args),
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
    let extension = args
        .page
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let format = match extension.as_deref() {
        Some("html" | "htm" | "xhtml") => PageFormat::Html,
        Some("md" | "markdown" | "txt" | "text") => PageFormat::Text,
        _ => PageFormat::Auto,
    };
    let opts = ImportOptions {
        vendor: args.vendor,
        version: args.version,
        effective: args.effective,
        source: source.clone(),
        format,
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
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create the folder {}", dir.display()))?;
            }
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

fn publish(args: PublishArgs) -> Result<ExitCode> {
    let config: Config = super::load_config(args.config.config.as_deref())?;
    let current = dpa::load::annex(&args.annex)?;
    let previous = args
        .previous
        .iter()
        .map(dpa::load::annex)
        .collect::<Result<Vec<_>, _>>()?;
    let vendor = match args.vendor.as_ref().or(config.vendor.as_ref()) {
        Some(path) => {
            let vendor = dpa::load::vendor(path)?;
            dpa::load::check_annex_vendor(&vendor, &current)?;
            Some(vendor)
        }
        None => None,
    };
    let opts = PublishOptions {
        vendor,
        notice_date: args.notice_date,
        verifier_url: args.verifier_url,
        keys_url: args.keys_url,
    };
    let files = publish::publish(&current, &previous, &opts)?;

    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create the folder {}", args.out.display()))?;
    // Decide for every file before writing any, so a refusal leaves the folder as it was.
    let mut plan = Vec::new();
    let mut conflicts = Vec::new();
    for f in &files {
        let path = dpa::output::child(&args.out, &f.name)?;
        match std::fs::read(&path) {
            Ok(old) if old == f.bytes => plan.push((path, f, "unchanged")),
            Ok(_) if args.force => plan.push((path, f, "replaced")),
            Ok(_) => conflicts.push(path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => plan.push((path, f, "written")),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }
    if !conflicts.is_empty() {
        let names: Vec<String> = conflicts.iter().map(|p| shown(p).to_string()).collect();
        bail!(
            "{} already exist{} with other content; nothing was written: {} (publish into an empty folder, or pass --force to replace them)",
            names.len(),
            if names.len() == 1 { "s" } else { "" },
            names.join(", ")
        );
    }
    for (path, f, what) in &plan {
        if *what != "unchanged" {
            dpa::output::write_atomic(path, &f.bytes)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        print::note(format_args!("{what:>9}  {}", shown(path)));
    }
    say!(
        "{}  {}",
        dpa::annex::fingerprint(&current).hex(),
        shown(&dpa::output::child(
            &args.out,
            &publish::json_name(&current.version)
        )?)
    )?;
    Ok(ExitCode::SUCCESS)
}
