//! `dpa batch`: every customer's DPA and change notice, in parallel, resumable.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use std::path::PathBuf;

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};

use dpa::batch::{Options, Outcome};
use dpa::config::Resolved;

use crate::cli::BatchArgs;
use crate::cmd::{build_issuer, flags, open_session};

pub fn run(args: BatchArgs, config: Option<PathBuf>) -> Result<ExitCode> {
    let resolved = Resolved::from_env(&flags(config, &args.inputs, args.issue_date))?;
    let notice_date = args.notice_date.unwrap_or(resolved.issue_date.value);
    let notice = args
        .previous
        .clone()
        .map(|previous| (previous, notice_date, args.notice_template.clone()));
    let options = dpa::issue::Options {
        raw_sig: args.raw_sig,
        force: args.force,
    };
    let issuer = build_issuer(&resolved, notice, options)?;
    let composer = issuer.composer();
    if let Some(n) = composer.notice() {
        let deadline = n.deadline(composer.vendor());
        if composer.annex().effective < deadline {
            eprintln!(
                "warning: annex {} takes effect on {}, before the objection deadline {deadline} ({} days after the notice date {})",
                composer.annex().version,
                composer.annex().effective,
                composer.vendor().notice_days,
                n.date
            );
        }
    }
    let customers = dpa::load::customers_for(&args.customers, composer.annex())?;
    let session = open_session(&resolved, args.no_wait)?;
    session.check_annex(&composer.annex().version, &composer.fingerprint().hex())?;
    if let Some(n) = composer.notice() {
        session.check_annex(&n.previous.version, &n.previous_fingerprint.hex())?;
    }
    let total = customers.len() as u64;

    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} customers  eta {eta}  {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    });
    let started = Instant::now();
    let mut last_line = Instant::now();
    let mut seen = 0u64;
    let options = Options {
        jobs: args.jobs.unwrap_or(0),
        notices: composer.notice().is_some(),
        issue_date: resolved.issue_date.value,
        date_chosen: resolved.issue_date.is_chosen(),
    };
    let summary = dpa::batch::run(&issuer, &session, customers, options, |event, summary| {
        seen += 1;
        let line = match &event.outcome {
            Outcome::Failed { reason, .. } => Some(format!("failed: {}: {reason}", event.customer)),
            Outcome::Repaired { files } => Some(format!(
                "repaired: {}: {} restored",
                event.customer,
                files.join(", ")
            )),
            _ => None,
        };
        if let Some(line) = line {
            match &bar {
                Some(bar) => bar.println(line),
                None => eprintln!("{line}"),
            }
        }
        match &bar {
            Some(bar) => {
                bar.set_position(seen);
                // indicatif's own rate prints four decimals; whole customers suffice.
                let rate = seen as f64 / started.elapsed().as_secs_f64().max(0.001);
                bar.set_message(format!("{rate:.0}/s  {} failed", summary.failed.len()));
            }
            None if last_line.elapsed() >= Duration::from_secs(5) || seen == total => {
                eprintln!(
                    "batch: {seen}/{total} customers ({} issued, {}{} unchanged, {} failed)",
                    summary.issued,
                    repaired_text(summary.repaired),
                    summary.unchanged,
                    summary.failed.len()
                );
                last_line = Instant::now();
            }
            None => {}
        }
    })?;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let secs = started.elapsed().as_secs_f64();
    let repaired = repaired_text(summary.repaired);
    println!(
        "{} customers: {} issued ({} documents), {repaired}{} unchanged and skipped, {} failed, in {secs:.1} s",
        summary.customers,
        summary.issued,
        summary.documents,
        summary.unchanged,
        summary.failed.len()
    );
    for event in &summary.failed {
        if let Outcome::Failed { reason, hint } = &event.outcome {
            println!("  failed: {}: {reason}", event.customer);
            if let Some(hint) = hint {
                println!("    hint: {hint}");
            }
        }
    }
    println!(
        "Register: {} ({} rows added)",
        resolved.out.value.join(dpa::register::FILE_NAME).display(),
        summary.recorded
    );
    Ok(if summary.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// "N repaired, " when files were repaired; nothing otherwise.
fn repaired_text(repaired: usize) -> String {
    if repaired > 0 {
        format!("{repaired} repaired, ")
    } else {
        String::new()
    }
}
