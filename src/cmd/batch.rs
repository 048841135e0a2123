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
use dpa::untrusted::{Escaped, path as shown};

use crate::cli::BatchArgs;
use crate::cmd::print::{self, say};
use crate::cmd::{Inputs, build_setup};

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
            print::warn(format_args!(
                "annex {} takes effect on {}, before the objection deadline {deadline} ({} days after the notice date {})",
                Escaped(&setup.annex.version),
                setup.annex.effective,
                setup.vendor.notice_days,
                n.date
            ));
        }
    }
    let customers = dpa::load::customers_for(&args.customers, &setup.annex)?;
    let total = customers.len() as u64;
    std::fs::create_dir_all(&setup.out)
        .with_context(|| format!("cannot create the output folder {}", shown(&setup.out)))?;
    let mut register = Register::open(&setup.out)?;

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
                // A failed customer is reported even under -q: it is an error.
                let line = format!("failed: {}: {}", Escaped(&event.customer), Escaped(reason));
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
                        "batch: {seen}/{total} customers ({} issued, {} unchanged, {} failed)",
                        summary.issued,
                        summary.unchanged,
                        summary.failed.len()
                    ));
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
    let register_path = setup.out.join(dpa::register::FILE_NAME);
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
    say!(
        "{} customers: {} issued ({} documents), {} unchanged and skipped, {} failed, in {secs:.1} s",
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
