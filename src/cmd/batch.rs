//! `dpa batch`: every customer's DPA and change notice, in parallel, resumable.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};

use dpa::batch::{Options, Outcome};
use dpa::generate::NoticeSetup;
use dpa::model::Config;
use dpa::register::Register;

use crate::cli::BatchArgs;
use crate::cmd::{Inputs, build_setup};

pub fn run(args: BatchArgs, config: &Config) -> Result<ExitCode> {
    let inputs = Inputs::resolve(&args.inputs, config)?;
    let notice = match &args.previous {
        Some(previous) => Some(notice_inputs(&args, &inputs, previous)?),
        None => None,
    };
    let setup = build_setup(
        &inputs,
        args.inputs.key.is_some(),
        args.raw_sig,
        args.force,
        notice,
    )?;
    if let Some(n) = &setup.notice {
        let deadline = n.date + chrono::Days::new(u64::from(setup.vendor.notice_days));
        if setup.annex.effective < deadline {
            eprintln!(
                "warning: annex {} takes effect on {}, before the objection deadline {deadline} ({} days after the notice date {})",
                setup.annex.version, setup.annex.effective, setup.vendor.notice_days, n.date
            );
        }
    }
    let customers = dpa::load::customers_for(&args.customers, &setup.annex)?;
    let total = customers.len() as u64;
    std::fs::create_dir_all(&setup.out)
        .with_context(|| format!("cannot create the output folder {}", setup.out.display()))?;
    let mut register = Register::open(&setup.out)?;

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
        notices: setup.notice.is_some(),
    };
    let summary = dpa::batch::run(
        &setup,
        customers,
        &mut register,
        options,
        |event, summary| {
            seen += 1;
            if let Outcome::Failed { reason, .. } = &event.outcome {
                let line = format!("failed: {}: {reason}", event.customer);
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
                        "batch: {seen}/{total} customers ({} issued, {} unchanged, {} failed)",
                        summary.issued,
                        summary.unchanged,
                        summary.failed.len()
                    );
                    last_line = Instant::now();
                }
                None => {}
            }
        },
    )?;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{} customers: {} issued ({} documents), {} unchanged and skipped, {} failed, in {secs:.1} s",
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
        setup.out.join(dpa::register::FILE_NAME).display(),
        summary.recorded
    );
    Ok(if summary.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn notice_inputs(
    args: &BatchArgs,
    inputs: &Inputs,
    previous: &std::path::Path,
) -> Result<NoticeSetup> {
    let previous = dpa::load::annex(previous)?;
    let new = dpa::load::annex(&inputs.annex)?;
    let diff = dpa::annex::diff::diff(&previous, &new)?;
    let date = match args.notice_date {
        Some(d) => d,
        None => match source_date_epoch()? {
            Some(d) => d,
            None => bail!(
                "a change notice needs its date: pass --notice-date YYYY-MM-DD (or set SOURCE_DATE_EPOCH)"
            ),
        },
    };
    let template_path = match &args.notice_template {
        Some(p) => p.clone(),
        None => inputs.template.with_file_name("notice.md.hbs"),
    };
    let (template, template_sha256) = dpa::generate::load_template(&template_path)?;
    Ok(NoticeSetup {
        template,
        template_sha256,
        previous_fingerprint: dpa::annex::fingerprint(&previous),
        previous,
        diff,
        date,
    })
}

/// The date in SOURCE_DATE_EPOCH (seconds since 1970, UTC), if set.
fn source_date_epoch() -> Result<Option<chrono::NaiveDate>> {
    let Ok(text) = std::env::var("SOURCE_DATE_EPOCH") else {
        return Ok(None);
    };
    let secs: i64 = text
        .trim()
        .parse()
        .with_context(|| format!("SOURCE_DATE_EPOCH={text:?} is not a number of seconds"))?;
    let date = chrono::DateTime::from_timestamp(secs, 0)
        .with_context(|| format!("SOURCE_DATE_EPOCH={text:?} is out of range"))?
        .date_naive();
    Ok(Some(date))
}
