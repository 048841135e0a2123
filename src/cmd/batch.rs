//! `dpa batch`: every customer's DPA and change notice, in parallel, resumable.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};

use dpa::batch::{Options, Outcome};
use dpa::config::Resolved;
use dpa::untrusted::{Escaped, path as shown};

use crate::cli::BatchArgs;
use crate::cmd::print::{self, say};
use crate::cmd::{Compile, build_issuer, flags, open_session};

/// What `dpa batch --json` prints: the totals, every failed customer, the register.
#[derive(Debug, serde::Serialize)]
struct Report<'a> {
    #[serde(flatten)]
    summary: &'a dpa::batch::Summary,
    /// The register file the rows were added to.
    register: String,
    /// Wall-clock seconds the run took.
    seconds: f64,
}

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
    let issuer = build_issuer(&resolved, notice, options, Compile::Now)?;
    let composer = issuer.composer();
    if let Some(n) = composer.notice() {
        let deadline = n.deadline(composer.vendor());
        if composer.annex().effective < deadline {
            print::warn(format_args!(
                "annex {} takes effect on {}, before the objection deadline {deadline} ({} days after the notice date {})",
                Escaped(&composer.annex().version),
                composer.annex().effective,
                composer.vendor().notice_days,
                n.date
            ));
        }
    }
    let customers = dpa::load::customer_stream(&args.customers, composer.annex())?;
    let session = open_session(&resolved, args.no_wait)?.sync_per_group();
    session.check_annex(&composer.annex().version, &composer.fingerprint().hex())?;
    if let Some(n) = composer.notice() {
        session.check_annex(&n.previous.version, &n.previous_fingerprint.hex())?;
    }
    let total = customers.total() as u64;

    let bar = (std::io::stderr().is_terminal() && !print::quiet()).then(|| {
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
        // A failed customer is reported even under -q: it is an error.
        let line = match &event.outcome {
            Outcome::Failed { reason, .. } => Some(format!(
                "failed: {}: {}",
                Escaped(&event.customer),
                Escaped(reason)
            )),
            Outcome::Repaired { files } if !print::quiet() => Some(format!(
                "repaired: {}: {} restored",
                Escaped(&event.customer),
                Escaped(&files.join(", "))
            )),
            _ => None,
        };
        if let Some(line) = line {
            match &bar {
                Some(bar) => bar.println(line),
                None => print::stderr_line(&line),
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
                print::note(format_args!(
                    "batch: {seen}/{total} customers ({} issued, {}{} unchanged, {} failed)",
                    summary.issued,
                    repaired_text(summary.repaired),
                    summary.unchanged,
                    summary.failed.len()
                ));
                last_line = Instant::now();
            }
            None => {}
        }
    })?;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let secs = started.elapsed().as_secs_f64();
    let register_path = resolved.out.value.join(dpa::register::FILE_NAME);
    let code = if summary.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    };
    let printed = if args.json {
        print::json(&Report {
            summary: &summary,
            register: register_path.display().to_string(),
            seconds: (secs * 1000.0).round() / 1000.0,
        })
    } else if print::quiet() {
        Ok(())
    } else {
        print_summary(&summary, secs, &register_path).map_err(Into::into)
    };
    print::answer(printed, code)
}

fn print_summary(
    summary: &dpa::batch::Summary,
    secs: f64,
    register_path: &std::path::Path,
) -> std::io::Result<()> {
    let repaired = repaired_text(summary.repaired);
    say!(
        "{} customers: {} issued ({} documents), {repaired}{} unchanged and skipped, {} failed, in {secs:.1} s",
        summary.customers,
        summary.issued,
        summary.documents,
        summary.unchanged,
        summary.failed.len()
    )?;
    for event in &summary.failed {
        if let Outcome::Failed { reason, hint } = &event.outcome {
            say!(
                "  failed: {}: {}",
                Escaped(&event.customer),
                Escaped(reason)
            )?;
            if let Some(hint) = hint {
                say!("    hint: {}", Escaped(hint))?;
            }
        }
    }
    say!(
        "Register: {} ({} rows added)",
        shown(register_path),
        summary.recorded
    )
}

/// "N repaired, " when files were repaired; nothing otherwise.
fn repaired_text(repaired: usize) -> String {
    if repaired > 0 {
        format!("{repaired} repaired, ")
    } else {
        String::new()
    }
}
