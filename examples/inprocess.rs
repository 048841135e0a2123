//! Issues every customer of a CSV in one thread of one process and times it per document:
//! dpa's counterpart of a reused Typst compiler, for `benches/vs-typst.sh`.
//!
//! In: a customers CSV (dpa's batch format), an output folder, optionally a CSV of
//! warm-up customers; the vendor, annex, template and keys come from `./dpa.toml` as for
//! `dpa batch`, the issue date is 2026-06-01. Each customer's DPA is made with
//! `Issuer::make` (layout, PDF, the embedded PAdES signature when dpa.toml names a PDF
//! key, minisign, SSHSIG, SHA-256) and its files written to `OUT/<id>/` (no fsync, no
//! register: what a reused Typst compiler does with its PDF). Out: one line,
//!
//! ```text
//! dpa-inprocess docs=200 wall_ms_per_doc=2.91 cpu_ms_per_doc=2.85 pdf_bytes=67526
//! ```
//!
//! wall from `Instant` around the timed loop, CPU the sum of this process's threads'
//! run time from `/proc/self/task/*/schedstat` (nanoseconds) over the same loop.
//!
//! ```sh
//! cargo run --release --example inprocess -- customers.csv OUT [warmup.csv]
//! ```

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;

use dpa::compose::{Composer, Kind};
use dpa::config::{Flags, Resolved};
use dpa::issue::{Issuer, KeySet, Options};
use dpa::layout::PageSetup;
use dpa::model::Customer;
use dpa::pdf::Typesetter;
use dpa::template::TemplateFile;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (csv, out, warm) = match args.as_slice() {
        [csv, out] => (csv, out, None),
        [csv, out, warm] => (csv, out, Some(warm)),
        _ => bail!("usage: inprocess CUSTOMERS.csv OUT [WARMUP.csv]"),
    };
    let issued = NaiveDate::from_ymd_opt(2026, 6, 1).context("date")?;
    let flags = Flags {
        issue_date: Some(issued),
        ..Flags::default()
    };
    let resolved = Resolved::from_env(&flags)?;
    let annex = dpa::load::annex(resolved.annex()?)?;
    let issuer = Issuer::new(
        Composer::new(
            dpa::load::vendor(resolved.vendor()?)?,
            annex,
            TemplateFile::read(resolved.template()?)?,
            None,
        )?,
        KeySet::load(&resolved.key, &resolved.pdf, issued)?,
        Typesetter::new(PageSetup::default())?,
        Options::default(),
    );
    let out = PathBuf::from(out);
    let timed = customers(&issuer, Path::new(csv))?;
    if let Some(warm) = warm {
        for customer in customers(&issuer, Path::new(warm))? {
            issue(&issuer, &customer, issued, &out.join("warmup"))?;
        }
    }

    let cpu0 = cpu_ns()?;
    let start = Instant::now();
    let mut first_size = 0;
    for customer in &timed {
        let size = issue(&issuer, customer, issued, &out)?;
        if first_size == 0 {
            first_size = size;
        }
    }
    let wall = start.elapsed().as_secs_f64();
    let cpu = (cpu_ns()? - cpu0) as f64 / 1e9;
    let n = timed.len() as f64;
    println!(
        "dpa-inprocess docs={} wall_ms_per_doc={:.2} cpu_ms_per_doc={:.2} pdf_bytes={first_size}",
        timed.len(),
        wall * 1000.0 / n,
        cpu * 1000.0 / n,
    );
    Ok(())
}

/// The customers of a CSV, every one valid (a bad row is an error here, not a skip).
fn customers(issuer: &Issuer, csv: &Path) -> Result<Vec<Customer>> {
    let list = dpa::load::customers_for(csv, issuer.composer().annex())?
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("{}", csv.display()))?;
    if list.is_empty() {
        bail!("{}: no customers", csv.display());
    }
    Ok(list)
}

/// Makes one customer's DPA and writes its files; returns the PDF's size.
fn issue(issuer: &Issuer, customer: &Customer, issued: NaiveDate, out: &Path) -> Result<usize> {
    let product = issuer
        .make(Kind::Dpa, customer, issued)
        .with_context(|| format!("customer `{}`", customer.id))?;
    let dir = out.join(&customer.id);
    std::fs::create_dir_all(&dir).with_context(|| format!("{}", dir.display()))?;
    for (name, bytes) in product.files(false) {
        let path = dir.join(&name);
        std::fs::write(&path, bytes).with_context(|| format!("{}", path.display()))?;
    }
    Ok(product.pdf.len())
}

/// CPU time of all of this process's threads so far, in nanoseconds.
fn cpu_ns() -> Result<u64> {
    let mut total = 0;
    for task in std::fs::read_dir("/proc/self/task").context("/proc/self/task")? {
        let path = task?.path().join("schedstat");
        let text = std::fs::read_to_string(&path).with_context(|| format!("{}", path.display()))?;
        // The first field is the time spent on the CPU, in nanoseconds.
        total += text
            .split_whitespace()
            .next()
            .and_then(|t| t.parse::<u64>().ok())
            .with_context(|| format!("{}: unexpected contents", path.display()))?;
    }
    Ok(total)
}
