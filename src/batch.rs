//! Many customers at once: parallel rendering and signing, atomic writes, the register.
//!
//! In: a [`Setup`] loaded once, the customers (each already loaded or a load error), and the
//! open [`Register`]. Out: for every customer its DPA (and change notice) on disk, one
//! register row per new document, and a [`Summary`]. Workers render in parallel (rayon);
//! one thread owns the register and appends rows as documents land, so a killed batch
//! loses at most rows whose files a rerun finds identical and records then.

use std::collections::HashSet;
use std::sync::mpsc;

use chrono::NaiveDate;
use rayon::prelude::*;
use serde::Serialize;

use crate::generate::Setup;
use crate::load::LoadError;
use crate::model::Customer;
use crate::register::{Kind, Record, Register, RegisterError};

/// How one customer went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Outcome {
    /// At least one new document was written.
    Issued { documents: usize },
    /// Everything was already issued for the same inputs (or identical files were there).
    Unchanged,
    /// Bad data or a failure; the other customers went on.
    Failed { reason: String },
}

/// One customer's result, reported as it happens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// The customer id, or the CSV line / file when the id could not be read.
    pub customer: String,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// Totals at the end of a batch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub customers: usize,
    pub issued: usize,
    pub unchanged: usize,
    pub failed: Vec<Event>,
    pub documents: usize,
}

/// Options of one batch run.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Worker threads; 0 means one per core.
    pub jobs: usize,
    /// Also issue change notices (the setup must carry a notice).
    pub notices: bool,
}

enum Message {
    Done(Event, Vec<Record>),
}

/// Runs the batch; `progress` is called on the register thread after every customer.
pub fn run(
    setup: &Setup,
    customers: Vec<Result<Customer, LoadError>>,
    register: &mut Register,
    options: Options,
    mut progress: impl FnMut(&Event, &Summary),
) -> Result<Summary, RegisterError> {
    let done: HashSet<String> = register.all_inputs()?;
    let mut summary = Summary {
        customers: customers.len(),
        ..Summary::default()
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.jobs)
        .build()
        .ok();
    let (tx, rx) = mpsc::sync_channel::<Message>(256);
    std::thread::scope(|scope| -> Result<(), RegisterError> {
        let done = &done;
        scope.spawn(move || {
            let work = move || {
                customers.into_par_iter().for_each_with(tx, |tx, customer| {
                    let message = one(setup, customer, done, options.notices);
                    // The receiver only goes away if the register failed; stop quietly.
                    let _ = tx.send(message);
                });
            };
            match &pool {
                Some(pool) => pool.install(work),
                None => work(),
            }
        });
        let mut pending: Vec<Record> = Vec::new();
        let mut last_flush = std::time::Instant::now();
        for Message::Done(event, records) in rx {
            match &event.outcome {
                Outcome::Issued { documents } => {
                    summary.issued += 1;
                    summary.documents += documents;
                }
                Outcome::Unchanged => summary.unchanged += 1,
                Outcome::Failed { .. } => summary.failed.push(event.clone()),
            }
            pending.extend(records);
            // Appending in small transactions keeps the register close behind the files.
            if pending.len() >= 64 || last_flush.elapsed().as_millis() >= 500 {
                register.add(&pending)?;
                pending.clear();
                last_flush = std::time::Instant::now();
            }
            progress(&event, &summary);
        }
        register.add(&pending)?;
        Ok(())
    })?;
    Ok(summary)
}

/// Issues one customer's documents; never panics on bad data.
fn one(
    setup: &Setup,
    customer: Result<Customer, LoadError>,
    done: &HashSet<String>,
    notices: bool,
) -> Message {
    let customer = match customer {
        Ok(c) => c,
        Err(e) => {
            let who = e.customer().unwrap_or("(no id)").to_string();
            return failed(who, e.to_string());
        }
    };
    let mut kinds = vec![Kind::Dpa];
    if notices {
        kinds.push(Kind::Notice);
    }
    let mut records = Vec::new();
    for kind in kinds {
        let issued = match (kind, &setup.notice) {
            (Kind::Notice, Some(n)) => n.date,
            _ => dpa_issue_date(&customer),
        };
        let digest = setup.inputs_digest(kind, &customer, issued);
        if done.contains(&digest) && setup.out.join(&customer.id).is_dir() {
            let name = match kind {
                Kind::Dpa => crate::generate::dpa_file_name(&setup.vendor, &setup.annex),
                Kind::Notice => crate::generate::notice_file_name(&setup.vendor, &setup.annex),
            };
            if setup.out.join(&customer.id).join(name).is_file() {
                continue;
            }
        }
        let product = match kind {
            Kind::Dpa => setup.dpa(&customer, issued),
            Kind::Notice => setup.notice(&customer),
        };
        let written = product.and_then(|p| setup.write(&p).map(|w| (w, p)));
        match written {
            Ok((_written, product)) => {
                // Recorded whether new or found identical: the digest was not in the register.
                records.push(product.record);
            }
            Err(e) => return failed(customer.id.clone(), e.to_string()),
        }
    }
    let outcome = if records.is_empty() {
        Outcome::Unchanged
    } else {
        Outcome::Issued {
            documents: records.len(),
        }
    };
    Message::Done(
        Event {
            customer: customer.id,
            outcome,
        },
        records,
    )
}

fn failed(customer: String, reason: String) -> Message {
    Message::Done(
        Event {
            customer,
            outcome: Outcome::Failed { reason },
        },
        Vec::new(),
    )
}

/// A DPA's issue date: the customer's effective date (never the clock).
pub fn dpa_issue_date(customer: &Customer) -> NaiveDate {
    customer.effective
}
