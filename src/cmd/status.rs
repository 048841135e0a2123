//! `dpa status`: per customer, the latest list issued and accepted, objections and notice
//! periods, from the register (opened read-only) as of one day.

use std::process::ExitCode;

use anyhow::Result;

use dpa::register::Register;
use dpa::status::{self, Report, State, Version};
use dpa::untrusted::Escaped;

use crate::cli::StatusArgs;
use crate::cmd::print::{self, say};

pub fn run(args: StatusArgs) -> Result<ExitCode> {
    let out = crate::cmd::register::folder(&args.at)?;
    let register = Register::open_read(&out)?;
    let rows = register.list(args.customer.as_deref(), None)?;
    if let Some(id) = &args.customer
        && rows.is_empty()
    {
        anyhow::bail!(
            "no document was issued to customer {} in {}",
            Escaped(id),
            dpa::untrusted::path(register.path())
        );
    }
    let events = register.events(args.customer.as_deref())?;
    // The one clock read of status: the default day, which the output names.
    let (as_of, from) = match args.as_of {
        Some(d) => (d, "--as-of"),
        None => (dpa::config::today_utc(), "today"),
    };
    let report = status::report(&rows, &events, as_of, from);
    if args.json {
        print::json(&report)?;
    } else if !print::quiet() {
        print_table(&report)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn accepted_text(v: &Version) -> String {
    let Some(how) = &v.acceptance else {
        return "-".into();
    };
    let who = match how.method.as_str() {
        "countersigned" => how
            .signers
            .first()
            .map(|s| format!(" by {}", s.subject))
            .unwrap_or_default(),
        "manual" => format!(
            " by {} (not linked to the issued bytes)",
            how.by.as_deref().unwrap_or("?")
        ),
        _ => format!(
            " (notice period ended {} without objection)",
            v.deadline.as_deref().unwrap_or("?")
        ),
    };
    format!("{} {} {}{who}", v.annex_version, how.method, how.on)
}

fn state_text(v: &Version) -> String {
    match v.state {
        State::Accepted => "accepted".into(),
        State::DeemedApproved => format!(
            "deemed approved (no objection by {})",
            v.deadline.as_deref().unwrap_or("?")
        ),
        State::Objected => format!(
            "objected (received {})",
            v.objection.as_ref().map_or("?", |o| o.received.as_str())
        ),
        State::NoticeRunning => format!(
            "notice period running until {}",
            v.deadline.as_deref().unwrap_or("?")
        ),
        State::AwaitingSignature => "awaiting the customer's signature".into(),
    }
}

fn print_table(report: &Report) -> std::io::Result<()> {
    say!("Status as of {} ({})", report.as_of, report.as_of_from)?;
    if report.customers.is_empty() {
        return say!("No documents were issued.");
    }
    for c in &report.customers {
        say!("")?;
        say!("{}", Escaped(&c.customer_id))?;
        if let Some(v) = &c.latest_issued {
            say!(
                "  latest issued:   {} ({} {}): {}",
                Escaped(&v.annex_version),
                v.kind,
                Escaped(&v.issued),
                Escaped(&state_text(v))
            )?;
        }
        match &c.latest_accepted {
            Some(v) => {
                say!("  latest accepted: {}", Escaped(&accepted_text(v)))?;
                if let Some(next) = &v.superseded_by {
                    say!(
                        "                   superseded by {}, issued later",
                        Escaped(next)
                    )?;
                }
            }
            None => say!("  latest accepted: none")?,
        }
        if let Some(o) = &c.open_objection {
            say!(
                "  open objection:  received {} (register row {})",
                Escaped(&o.received),
                o.record_id
            )?;
        }
        if let Some(until) = &c.notice_running_until {
            say!("  notice period:   running until {}", Escaped(until))?;
        }
    }
    if !report.without_acceptance.is_empty() {
        say!("")?;
        let names: Vec<String> = report
            .without_acceptance
            .iter()
            .map(|c| Escaped(c).to_string())
            .collect();
        say!("No accepted version: {}", names.join(", "))?;
    }
    Ok(())
}
