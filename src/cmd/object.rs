//! `dpa object`: record a customer's objection to a list announced by a change notice.

use std::process::ExitCode;

use anyhow::Result;
use serde_json::json;

use dpa::accept;
use dpa::issue::Session;
use dpa::output::Wait;
use dpa::register::{Event, Objection};
use dpa::untrusted::{Escaped, path as shown};

use crate::cli::ObjectArgs;
use crate::cmd::print::{self, say};

pub fn run(args: ObjectArgs) -> Result<ExitCode> {
    let out = crate::cmd::register::folder(&args.at)?;
    let wait = if args.no_wait { Wait::No } else { Wait::Block };
    let session = Session::open(&out, wait, || {})?;
    accept::issued_to(&session.register(), &args.customer, &args.annex)?;
    // The change notice's deadline, from the notice row (a DPA of the same list has none).
    let deadline = session
        .register()
        .list(Some(&args.customer), Some(&args.annex))?
        .into_iter()
        .find_map(|r| r.record.deadline);
    accept::check_day(
        &session.register(),
        &args.customer,
        &args.annex,
        args.received,
    )?;
    let objection = Objection {
        customer_id: args.customer.clone(),
        annex_version: args.annex.clone(),
        received: args.received.to_string(),
        note: args.note.clone(),
    };
    let earlier = session
        .register()
        .events(Some(&args.customer))?
        .into_iter()
        .find(|e| matches!(&e.event, Event::Objected(o) if *o == objection));
    let (id, already) = match earlier {
        Some(row) => (row.id, true),
        None => (
            session
                .register()
                .append(&Event::Objected(objection.clone()))?,
            false,
        ),
    };
    if args.json {
        print::json(&json!({
            "recorded": true,
            "already_recorded": already,
            "id": id,
            "objection": objection,
            "deadline": deadline,
        }))?;
    } else if !print::quiet() {
        let register = session.register().path().to_path_buf();
        if already {
            say!(
                "ALREADY RECORDED: this objection is row {id} in {}",
                shown(&register)
            )?;
        } else {
            say!("OBJECTION RECORDED: row {id} in {}", shown(&register))?;
        }
        say!(
            "  customer {} objects to annex {}, received {}",
            Escaped(&objection.customer_id),
            Escaped(&objection.annex_version),
            objection.received
        )?;
        match &deadline {
            Some(d) if objection.received.as_str() > d.as_str() => say!(
                "  note: received after the notice's deadline {}: the list counts as deemed approved",
                Escaped(d)
            )?,
            Some(d) => say!("  the notice's deadline is {}", Escaped(d))?,
            None => {}
        }
    }
    Ok(ExitCode::SUCCESS)
}
