//! Many customers at once: parallel rendering and signing, atomic writes, the register.
//!
//! In: a [`Setup`] loaded once, the customers (each already loaded or a load error), and the
//! open [`Register`]. Out: for every customer its DPA (and change notice) on disk, one
//! register row per new document, and a [`Summary`].
//!
//! Three stages joined by bounded channels, so memory stays flat however many customers
//! there are: `jobs` rayon workers render and sign (the CPU work); a few writer threads put
//! the files on disk (each file is fsynced, which mostly waits on the disk, so writers
//! overlap that wait with rendering instead of holding a core idle); and the calling
//! thread owns the register, appending rows only after a customer's files are in place.
//! A killed batch therefore loses at most rows whose files a rerun finds identical and
//! records then; it never records a document that is not on disk.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::Serialize;

use crate::generate::{GenerateError, Product, Setup, Written};
use crate::load::LoadError;
use crate::model::Customer;
use crate::register::{Kind, Record, Register, RegisterError};

/// Why a batch stopped before every customer was handled.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error(transparent)]
    Register(#[from] RegisterError),
    #[error("cannot clean temp files in {}: {source}", path.display())]
    Clean {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// How one customer went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Outcome {
    /// At least one document was written.
    Issued { documents: usize },
    /// Nothing was written: everything was already issued for the same inputs, or
    /// identical files were already there (then they are recorded now).
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
    /// Customers with at least one document written.
    pub issued: usize,
    /// Customers with nothing written.
    pub unchanged: usize,
    pub failed: Vec<Event>,
    /// Documents (PDFs with their signatures) written.
    pub documents: usize,
    /// Rows added to the register.
    pub recorded: usize,
}

/// Options of one batch run.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Rendering workers; 0 means one per core.
    pub jobs: usize,
    /// Also issue change notices (the setup must carry a notice).
    pub notices: bool,
}

/// A customer's outcome and the rows to record for it.
struct Done(Event, Vec<Record>);

/// A customer's rendered documents, on their way to the writers.
struct Job {
    customer: String,
    products: Vec<Product>,
}

/// Rows are appended in small transactions, so the register stays close behind the files.
const FLUSH_ROWS: usize = 64;
const FLUSH_EVERY: Duration = Duration::from_millis(500);

/// Runs the batch; `progress` is called on the calling thread after every customer.
pub fn run(
    setup: &Setup,
    customers: Vec<Result<Customer, LoadError>>,
    register: &mut Register,
    options: Options,
    mut progress: impl FnMut(&Event, &Summary),
) -> Result<Summary, BatchError> {
    remove_partials(&setup.out)?;
    let done: HashSet<String> = register.all_inputs()?;
    let mut summary = Summary {
        customers: customers.len(),
        ..Summary::default()
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.jobs)
        .build()
        .ok();
    let jobs = pool
        .as_ref()
        .map_or_else(rayon::current_num_threads, |p| p.current_num_threads());
    // Concurrent fsyncs share the file system's journal commits, so a few more writers than
    // workers keep the disk from holding up rendering.
    let writers = (2 * jobs).clamp(2, 32);
    let stop = AtomicBool::new(false);

    let (done_tx, done_rx) = mpsc::sync_channel::<Done>(256);
    let (work_tx, work_rx) = mpsc::sync_channel::<Job>(2 * writers);
    // Only the writers hold the receiver: when they stop, senders fail instead of blocking.
    let work_rx = Arc::new(Mutex::new(work_rx));

    std::thread::scope(|scope| -> Result<(), BatchError> {
        let done_set = &done;
        let stop = &stop;
        for _ in 0..writers {
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
                    if done_tx.send(write(setup, job)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(work_rx);
        scope.spawn(move || {
            let work = move || {
                customers.into_par_iter().for_each_with(
                    (work_tx, done_tx),
                    |(work_tx, done_tx), customer| {
                        if stop.load(Ordering::Relaxed) {
                            return;
                        }
                        // A closed channel means the register failed; stop quietly.
                        let _ = match prepare(setup, customer, done_set, options.notices) {
                            Ok(job) => work_tx.send(job).map_err(drop),
                            Err(done) => done_tx.send(done).map_err(drop),
                        };
                    },
                );
            };
            match &pool {
                Some(pool) => pool.install(work),
                None => work(),
            }
        });

        let result = record(register, done_rx, &mut summary, &mut progress);
        if result.is_err() {
            stop.store(true, Ordering::Relaxed);
        }
        result
    })?;
    Ok(summary)
}

/// The register thread: counts outcomes and appends rows as customers finish.
fn record(
    register: &mut Register,
    rx: mpsc::Receiver<Done>,
    summary: &mut Summary,
    progress: &mut impl FnMut(&Event, &Summary),
) -> Result<(), BatchError> {
    let mut pending: Vec<Record> = Vec::new();
    let mut last_flush = Instant::now();
    for Done(event, records) in rx {
        match &event.outcome {
            Outcome::Issued { documents } => {
                summary.issued += 1;
                summary.documents += documents;
            }
            Outcome::Unchanged => summary.unchanged += 1,
            Outcome::Failed { .. } => summary.failed.push(event.clone()),
        }
        pending.extend(records);
        if pending.len() >= FLUSH_ROWS || last_flush.elapsed() >= FLUSH_EVERY {
            summary.recorded += register.add(&pending)?.len();
            pending.clear();
            last_flush = Instant::now();
        }
        progress(&event, summary);
    }
    summary.recorded += register.add(&pending)?.len();
    Ok(())
}

/// Renders and signs what a customer still needs; `Err` is a finished outcome (failed, or
/// everything already issued).
fn prepare(
    setup: &Setup,
    customer: Result<Customer, LoadError>,
    done: &HashSet<String>,
    notices: bool,
) -> Result<Job, Done> {
    let customer = match customer {
        Ok(c) => c,
        Err(e) => {
            let who = who(&e);
            let reason = e.to_string();
            // The location already names the row; do not print it twice.
            let reason = match reason.strip_prefix(&format!("{who}: ")) {
                Some(rest) => rest.to_string(),
                None => reason,
            };
            return Err(failed(who, reason, e.hint()));
        }
    };
    let mut kinds = vec![Kind::Dpa];
    if notices {
        kinds.push(Kind::Notice);
    }
    let mut products = Vec::new();
    for kind in kinds {
        let issued = match (kind, &setup.notice) {
            (Kind::Notice, Some(n)) => n.date,
            _ => setup.dpa_issue_date(&customer),
        };
        let digest = setup.inputs_digest(kind, &customer, issued);
        if done.contains(&digest) && issued_file(setup, kind, &customer.id).is_file() {
            continue;
        }
        let product = match kind {
            Kind::Dpa => setup.dpa(&customer, issued),
            Kind::Notice => setup.notice(&customer),
        };
        match product {
            Ok(p) => products.push(p),
            Err(e) => return Err(failed_generate(customer.id, &e)),
        }
    }
    if products.is_empty() {
        return Err(Done(
            Event {
                customer: customer.id,
                outcome: Outcome::Unchanged,
            },
            Vec::new(),
        ));
    }
    Ok(Job {
        customer: customer.id,
        products,
    })
}

/// Writes a customer's documents; every one written or found identical is recorded.
fn write(setup: &Setup, job: Job) -> Done {
    let mut records = Vec::with_capacity(job.products.len());
    let mut written = 0;
    for product in job.products {
        match setup.write(&product) {
            Ok(Written::Issued) => written += 1,
            // Issued by a run that was stopped before it could record it.
            Ok(Written::Unchanged) => {}
            Err(e) => {
                // Documents already written stay recorded; only the failure is reported.
                let mut done = failed_generate(job.customer, &e);
                done.1 = records;
                return done;
            }
        }
        records.push(product.record);
    }
    let outcome = if written == 0 {
        Outcome::Unchanged
    } else {
        Outcome::Issued { documents: written }
    };
    Done(
        Event {
            customer: job.customer,
            outcome,
        },
        records,
    )
}

/// Where a customer's document of this kind lives.
fn issued_file(setup: &Setup, kind: Kind, customer: &str) -> PathBuf {
    let name = match kind {
        Kind::Dpa => crate::generate::dpa_file_name(&setup.vendor, &setup.annex),
        Kind::Notice => crate::generate::notice_file_name(&setup.vendor, &setup.annex),
    };
    setup.out.join(customer).join(name)
}

fn failed(customer: String, reason: String, hint: Option<String>) -> Done {
    // The event names the customer already; the reason need not repeat it.
    let reason = reason.replacen(&format!("customer `{customer}`: "), "", 1);
    Done(
        Event {
            customer,
            outcome: Outcome::Failed { reason, hint },
        },
        Vec::new(),
    )
}

fn failed_generate(customer: String, e: &GenerateError) -> Done {
    failed(customer, e.to_string(), e.hint())
}

/// Who a load error is about: the customer id, else the file and line it came from.
fn who(e: &LoadError) -> String {
    if let Some(id) = e.customer() {
        return id.to_string();
    }
    match e {
        LoadError::Syntax { at, .. }
        | LoadError::UnknownField { at, .. }
        | LoadError::MissingField { at, .. }
        | LoadError::WrongValue { at, .. }
        | LoadError::Invalid { at, .. }
        | LoadError::CsvFormat { at, .. }
        | LoadError::CsvRow { at, .. } => at.to_string(),
        LoadError::UnknownFeature { at: Some(at), .. } => at.to_string(),
        LoadError::NotFound { path, .. }
        | LoadError::Read { path, .. }
        | LoadError::Folder { path, .. } => path.display().to_string(),
        _ => "(unknown customer)".to_string(),
    }
}

/// Removes temp files a killed run left in the output folder and its customer folders.
fn remove_partials(out: &Path) -> Result<(), BatchError> {
    let clean = |path: &Path| {
        crate::output::remove_partials(path).map_err(|source| BatchError::Clean {
            path: path.to_path_buf(),
            source,
        })
    };
    clean(out)?;
    let entries = match std::fs::read_dir(out) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(BatchError::Clean {
                path: out.to_path_buf(),
                source,
            });
        }
    };
    for entry in entries.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            clean(&entry.path())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::Location;

    #[test]
    fn a_load_error_without_an_id_is_named_by_its_line() {
        let e = LoadError::CsvFormat {
            at: Location {
                path: "c.csv".into(),
                line: 7,
                column: None,
            },
            message: "this row has 6 fields but the header has 9".into(),
            hint: None,
        };
        assert_eq!(who(&e), "c.csv:7");
        let e = LoadError::CsvRow {
            at: Location {
                path: "c.csv".into(),
                line: 5,
                column: None,
            },
            customer: Some("Bad_ID".into()),
            field: "id".into(),
            message: "not valid".into(),
            hint: None,
        };
        assert_eq!(who(&e), "Bad_ID");
    }

    #[test]
    fn leftover_temp_files_are_swept_from_customer_folders() {
        let dir = tempfile::tempdir().unwrap();
        let acme = dir.path().join("acme");
        std::fs::create_dir(&acme).unwrap();
        std::fs::write(acme.join(".x.pdf.partial"), b"half").unwrap();
        std::fs::write(acme.join("x.pdf"), b"whole").unwrap();
        std::fs::write(dir.path().join(".y.partial"), b"half").unwrap();
        remove_partials(dir.path()).unwrap();
        assert!(!acme.join(".x.pdf.partial").exists());
        assert!(!dir.path().join(".y.partial").exists());
        assert!(acme.join("x.pdf").exists());
        remove_partials(&dir.path().join("missing")).unwrap();
    }
}
