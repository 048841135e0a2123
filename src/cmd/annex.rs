//! `dpa annex fingerprint|diff|import`.

use std::process::ExitCode;

use anyhow::{Context, Result};

use dpa::annex::import::{self, ImportOptions, PageFormat};

use crate::cli::{AnnexCommand, ImportArgs};
use crate::cmd::print_json;

pub fn run(cmd: AnnexCommand) -> Result<ExitCode> {
    match cmd {
        AnnexCommand::Fingerprint { file } => {
            let annex = dpa::load::annex(&file)?;
            println!(
                "{}  {}",
                dpa::annex::fingerprint(&annex).hex(),
                file.display()
            );
        }
        AnnexCommand::Diff { old, new, json } => {
            let old = dpa::load::annex(&old)?;
            let new = dpa::load::annex(&new)?;
            let diff = dpa::annex::diff::diff(&old, &new)?;
            if json {
                print_json(&diff)?;
            } else {
                print!("{}", diff.render_table());
            }
        }
        AnnexCommand::Import(args) => return import(args),
    }
    Ok(ExitCode::SUCCESS)
}

fn import(args: ImportArgs) -> Result<ExitCode> {
    let text = std::fs::read_to_string(&args.page)
        .with_context(|| format!("cannot read the page {}", args.page.display()))?;
    let source = args.page.display().to_string();
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
        eprintln!("warning: {source}:{warning}");
    }
    if args.check {
        print!("{}", import::check_table(&imported));
        return Ok(ExitCode::SUCCESS);
    }
    let toml = import::to_toml(&imported, &source);
    match &args.out {
        Some(path) => {
            dpa::output::write_atomic(path, toml.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
            let count: usize = imported
                .annex
                .sections
                .iter()
                .map(|s| s.entries.len())
                .sum();
            eprintln!(
                "Wrote {} ({count} providers in {} sections, {} warnings): review it before you publish it.",
                path.display(),
                imported.annex.sections.len(),
                imported.warnings.len()
            );
        }
        None => print!("{toml}"),
    }
    Ok(ExitCode::SUCCESS)
}
