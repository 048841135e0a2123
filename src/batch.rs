//! Many customers at once: parallel rendering and signing, staged writes, grouped commits.
//!
//! In: an [`Issuer`], an open [`Session`] (output folder locked, register checked), the
//! customers (each already loaded or a load error). Out: for every customer its DPA (and
//! change notice) committed with its register rows, and a [`Summary`].
//!
//! Three stages joined by bounded channels, so memory stays flat however many customers
//! there are: `jobs` rayon workers decide what each customer needs and render and sign it
//! (the CPU work); a few stager threads write each customer's set into its staging folder
//! (each file is fsynced, which mostly waits on the disk, so stagers overlap that wait
//! with rendering); and the calling thread commits staged sets in groups (one journal
//! transaction, the switches, one folder fsync, one register transaction per group: the
//! register is the commit point). A customer's outcome is reported once its group is
//! committed; a killed batch leaves every customer's folder old-complete or new-complete,
//! and the next writer completes or undoes the group it was committing.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use rayon::prelude::*;
use serde::Serialize;

use crate::compose::Kind;
use crate::error::{Hint, chain};
use crate::issue::session::StagedSet;
use crate::issue::{IssueError, Issuer, Session, Step};
use crate::load::LoadError;
use crate::model::Customer;
use crate::register::{Record, Row};

/// How one customer went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Outcome {
    /// At least one new document was committed.
    Issued { documents: usize },
    /// Files of documents issued before were missing or damaged, and were restored.
    Repaired { files: Vec<String> },
    /// Nothing was written: everything was already issued for the same inputs and is
    /// intact (identical files found on disk but never recorded are recorded now).
    Unchanged,
    /// Bad data or a failure; the other customers went on.
    Failed {
        reason: String,
        /// How to fix it, when known.
        #[serde(skip_serializing_if = "Option::is_none")]
        hint: Option<String>,
    },
}

/// One customer's result, reported as it happens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// The customer id, or the file and line of the input when no id could be read.
    pub customer: String,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// Totals at the end of a batch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub customers: usize,
    /// Customers with at least one new document.
    pub issued: usize,
    /// Customers whose damaged or missing files were restored.
    pub repaired: usize,
    /// Customers with nothing written.
    pub unchanged: usize,
    pub failed: Vec<Event>,
    /// Documents (PDFs with their signatures) issued.
    pub documents: usize,
    /// Rows added to the register.
    pub recorded: usize,
}

/// Options of one batch run.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Rendering workers; 0 means one per core.
    pub jobs: usize,
    /// Also issue change notices (the issuer's composer must carry a notice).
    pub notices: bool,
    /// The run's issue date.
    pub issue_date: NaiveDate,
    /// Whether a person set the issue date (else it yields to recorded dates).
    pub date_chosen: bool,
}

/// Why a batch stopped before every customer was handled.
#[derive(Debug, thiserror::Error)]
#[error("the batch stopped")]
pub struct BatchError(#[source] pub Box<IssueError>);

impl BatchError {
    fn new(e: impl Into<IssueError>) -> BatchError {
        BatchError(Box::new(e.into()))
    }
}

/// What a worker or stager hands to the committing thread.
enum Message {
    /// A finished outcome with nothing to commit (failed, or unchanged).
    Done(Event),
    /// Rows for identical files that were already on disk.
    Record(Event, Vec<Record>),
    /// A staged set, with the outcome to report once it is committed.
    Staged(Event, Vec<Record>, Box<StagedSet>),
    /// The output folder or register failed: stop.
    Fatal(Box<IssueError>),
}

/// A customer's decided and rendered documents, on their way to the stagers.
struct Job {
    customer: String,
    steps: Vec<Step>,
}

/// Sets are committed in groups of this many, or after this long.
const GROUP_SETS: usize = 64;
const GROUP_EVERY: Duration = Duration::from_millis(500);

/// Runs the batch; `progress` is called on the calling thread after every customer.
pub fn run(
    issuer: &Issuer,
    session: &Session,
    customers: impl IntoIterator<Item = Result<Customer, LoadError>, IntoIter: Send>,
    options: Options,
    mut progress: impl FnMut(&Event, &Summary),
) -> Result<Summary, BatchError> {
    let customers = customers.into_iter();
    let known: HashMap<String, Row> = session
        .register()
        .latest_by_inputs()
        .map_err(BatchError::new)?;
    let mut summary = Summary::default();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.jobs)
        .build()
        .ok();
    let jobs = pool
        .as_ref()
        .map_or_else(rayon::current_num_threads, |p| p.current_num_threads());
    // Concurrent fsyncs share the file system's journal commits, so a few more stagers
    // than workers keep the disk from holding up rendering.
    let stagers = (2 * jobs).clamp(2, 32);
    let stop = AtomicBool::new(false);

    let (done_tx, done_rx) = mpsc::sync_channel::<Message>(256);
    let (work_tx, work_rx) = mpsc::sync_channel::<Job>(2 * stagers);
    // Only the stagers hold the receiver: when they stop, senders fail instead of blocking.
    let work_rx = Arc::new(Mutex::new(work_rx));

    std::thread::scope(|scope| -> Result<(), BatchError> {
        let known = &known;
        let stop = &stop;
        for _ in 0..stagers {
            let done_tx = done_tx.clone();
            let work_rx = Arc::clone(&work_rx);
            scope.spawn(move || {
                loop {
                    let job = {
                        // A panic elsewhere cannot leave the receiver in a bad state.
                        let rx = work_rx.lock().unwrap_or_else(|e| e.into_inner());
                        rx.recv()
                    };
                    let Ok(job) = job else { break };
                    // After a fatal error (a full disk) nothing more is staged: the space
                    // the committing thread frees must go to the register, not to new files.
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let message = stage(issuer, session, job);
                    if matches!(message, Message::Fatal(_)) {
                        stop.store(true, Ordering::Relaxed);
                    }
                    if done_tx.send(message).is_err() {
                        break;
                    }
                }
            });
        }
        drop(work_rx);
        scope.spawn(move || {
            let work = move || {
                // Workers take customers from the list as they get free (`par_bridge`), so
                // only those being worked on are in memory.
                customers.par_bridge().for_each_with(
                    (work_tx, done_tx),
                    |(work_tx, done_tx), customer| {
                        if stop.load(Ordering::Relaxed) {
                            return;
                        }
                        // A closed channel means the batch stopped; stop quietly.
                        let _ = match prepare(issuer, session, customer, known, options) {
                            Ok(job) => work_tx.send(job).map_err(drop),
                            Err(message) => done_tx.send(message).map_err(drop),
                        };
                    },
                );
            };
            match &pool {
                Some(pool) => pool.install(work),
                None => work(),
            }
        });

        let result = commit_all(session, done_rx, stop, &mut summary, &mut progress);
        if result.is_err() {
            stop.store(true, Ordering::Relaxed);
        }
        result
    })?;
    Ok(summary)
}

/// The committing thread: groups staged sets, commits them, reports outcomes.
fn commit_all(
    session: &Session,
    rx: mpsc::Receiver<Message>,
    stop: &AtomicBool,
    summary: &mut Summary,
    progress: &mut impl FnMut(&Event, &Summary),
) -> Result<(), BatchError> {
    let mut group: Vec<(Event, Vec<Record>, StagedSet)> = Vec::new();
    let mut last = Instant::now();
    let mut fatal = None;
    loop {
        let message = rx.recv_timeout(GROUP_EVERY);
        let closed = matches!(message, Err(mpsc::RecvTimeoutError::Disconnected));
        match message {
            Ok(Message::Done(event)) => report(event, 0, summary, progress),
            Ok(Message::Record(event, records)) => {
                let added = session
                    .register()
                    .commit(&records, &[])
                    .map_err(BatchError::new)?;
                report(event, added.len(), summary, progress);
            }
            Ok(Message::Staged(event, records, set)) => group.push((event, records, *set)),
            Ok(Message::Fatal(e)) => {
                fatal.get_or_insert(e);
                break;
            }
            Err(_) => {}
        }
        if !group.is_empty()
            && (closed || group.len() >= GROUP_SETS || last.elapsed() >= GROUP_EVERY)
        {
            commit_group(session, &mut group, stop, summary, progress)?;
            last = Instant::now();
        }
        if closed {
            break;
        }
    }
    // A fatal error stops the batch; what was staged before it is still committed.
    commit_group(session, &mut group, stop, summary, progress)?;
    if let Some(e) = fatal {
        // Dropping the receiver makes the workers and stagers stop.
        drop(rx);
        for leftover in group.drain(..) {
            let _ = session.out().remove_staging(&leftover.2.staged.name);
        }
        return Err(BatchError(e));
    }
    Ok(())
}

fn commit_group(
    session: &Session,
    group: &mut Vec<(Event, Vec<Record>, StagedSet)>,
    stop: &AtomicBool,
    summary: &mut Summary,
    progress: &mut impl FnMut(&Event, &Summary),
) -> Result<(), BatchError> {
    if group.is_empty() {
        return Ok(());
    }
    let items: Vec<(Event, Vec<Record>, StagedSet)> = std::mem::take(group);
    let (events, sets): (Vec<(Event, usize)>, Vec<StagedSet>) = items
        .into_iter()
        .map(|(event, records, mut set)| {
            set.records = records;
            let n = set.records.len();
            ((event, n), set)
        })
        .unzip();
    let (committed, failure) = session
        .commit_what_fits(sets, || stop.store(true, Ordering::Relaxed))
        .map_err(BatchError::new)?;
    let fitted = committed.len();
    for (i, (event, rows)) in events.into_iter().enumerate() {
        if i < fitted {
            report(event, rows, summary, progress);
        } else {
            let why = failure
                .as_ref()
                .map_or_else(String::new, |e| format!(": {}", chain(e)));
            let reason = format!("not issued: the register could not record it{why}");
            report(failed(event.customer, reason, None), 0, summary, progress);
        }
    }
    match failure {
        Some(e) => Err(BatchError::new(e)),
        None => Ok(()),
    }
}

fn report(
    event: Event,
    rows: usize,
    summary: &mut Summary,
    progress: &mut impl FnMut(&Event, &Summary),
) {
    match &event.outcome {
        Outcome::Issued { documents } => {
            summary.issued += 1;
            summary.documents += documents;
        }
        Outcome::Repaired { .. } => summary.repaired += 1,
        Outcome::Unchanged => summary.unchanged += 1,
        Outcome::Failed { .. } => summary.failed.push(event.clone()),
    }
    summary.customers += 1;
    summary.recorded += rows;
    progress(&event, summary);
}

/// Decides what a customer needs and renders it; `Err` is a finished message.
fn prepare(
    issuer: &Issuer,
    session: &Session,
    customer: Result<Customer, LoadError>,
    known: &HashMap<String, Row>,
    options: Options,
) -> Result<Job, Message> {
    let customer = match customer {
        Ok(c) => c,
        Err(e) => return Err(Message::Done(failed(e.who(), e.detail(), e.hint()))),
    };
    let mut kinds = vec![Kind::Dpa];
    if options.notices {
        kinds.push(Kind::Notice);
    }
    let mut steps = Vec::new();
    for kind in kinds {
        let inputs = issuer.inputs(kind, &customer);
        let step = issuer.prepare(
            session,
            &inputs,
            known.get(inputs.digest()).cloned(),
            options.issue_date,
            options.date_chosen,
            None,
        );
        match step {
            Ok(step) => steps.push(step),
            Err(e) if e.is_fatal() => return Err(Message::Fatal(Box::new(e))),
            Err(e) => {
                return Err(Message::Done(failed(
                    customer.id.clone(),
                    chain(&e),
                    e.hint(),
                )));
            }
        }
    }
    Ok(Job {
        customer: customer.id,
        steps,
    })
}

/// Stages a customer's set; reports the outcome it will have once committed.
fn stage(issuer: &Issuer, session: &Session, job: Job) -> Message {
    let raw = issuer.options().raw_sig;
    let mut files: Vec<(String, &[u8])> = Vec::new();
    // The products hashed their files when they were made: not hashed again to stage.
    let mut hashes = Vec::new();
    let mut records = Vec::new();
    let mut issued = 0;
    let mut repaired = Vec::new();
    for step in &job.steps {
        match step {
            Step::Unchanged(_) => {}
            Step::Record(product) => records.push(product.record.clone()),
            Step::Repair { product, damaged } => {
                files.extend(product.files(raw));
                hashes.extend(product.record.files.iter().cloned());
                repaired.extend(damaged.iter().cloned());
            }
            Step::Issue { product, .. } => {
                files.extend(product.files(raw));
                hashes.extend(product.record.files.iter().cloned());
                records.push(product.record.clone());
                issued += 1;
            }
        }
    }
    let outcome = if issued > 0 {
        Outcome::Issued { documents: issued }
    } else if !repaired.is_empty() {
        Outcome::Repaired { files: repaired }
    } else {
        Outcome::Unchanged
    };
    let event = Event {
        customer: job.customer.clone(),
        outcome,
    };
    if files.is_empty() {
        return if records.is_empty() {
            Message::Done(event)
        } else {
            Message::Record(event, records)
        };
    }
    match session.stage_hashed(&job.customer, &files, Vec::new(), &hashes) {
        Ok(set) => Message::Staged(event, records, Box::new(set)),
        Err(e) if e.is_fatal() => Message::Fatal(Box::new(e)),
        Err(e) => Message::Done(failed(job.customer, chain(&e), e.hint())),
    }
}

fn failed(customer: String, reason: String, hint: Option<String>) -> Event {
    Event {
        customer,
        outcome: Outcome::Failed { reason, hint },
    }
}
