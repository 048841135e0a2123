//! `dpa annex fingerprint|diff|import|publish`.

use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use dpa::annex::publish::{self, PublishOptions};
use dpa::model::Config;

use dpa::annex::import::{self, ImportOptions, PageFormat};

use crate::cli::{AnnexCommand, ImportArgs, PublishArgs};
use crate::cmd::print_json;

pub fn run(cmd: AnnexCommand, config: impl Fn() -> Result<Config>) -> Result<ExitCode> {
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
        AnnexCommand::Publish(args) => return publish(args, &config()?),
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
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create the folder {}", dir.display()))?;
            }
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

fn publish(args: PublishArgs, config: &Config) -> Result<ExitCode> {
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
        let names: Vec<String> = conflicts.iter().map(|p| p.display().to_string()).collect();
        bail!(
            "{} already exist{} with other content; nothing was written: {}\nhint: publish into an empty folder, or pass --force to replace them",
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
        eprintln!("{what:>9}  {}", path.display());
    }
    println!(
        "{}  {}",
        dpa::annex::fingerprint(&current).hex(),
        dpa::output::child(&args.out, &publish::json_name(&current.version))?.display()
    );
    Ok(ExitCode::SUCCESS)
}
