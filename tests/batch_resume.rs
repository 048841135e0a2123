//! A batch of 1,000 generated customers is killed with SIGKILL twice part-way and run
//! again: after each kill every PDF on disk is complete and signed; after the last run all
//! 1,000 DPAs exist and verify, no temp or partial file remains, and the register holds
//! exactly one row per document. A further run changes nothing.
//!
//! The kills are triggered by the number of PDFs on disk, not by timing, so the test holds
//! on a slow machine and in a debug build (where it takes a few minutes).
#![cfg(unix)]

mod batch_common;

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use dpa::sign::PublicKey;

use batch_common::{batch, leftovers, register_rows, repo, verify, write_csv};

const CUSTOMERS: usize = 1000;
const DPA: &str = "segmetrics-inc-dpa-2026-05-26.pdf";
const SIGNATURES: [&str; 3] = [".minisig", ".sha256", ".sshsig"];

fn id(i: usize) -> String {
    format!("customer-{i:05}")
}

fn pdf(out: &Path, i: usize) -> PathBuf {
    out.join(id(i)).join(DPA)
}

/// The customers whose DPA exists.
fn present(out: &Path) -> Vec<usize> {
    (1..=CUSTOMERS).filter(|&i| pdf(out, i).is_file()).collect()
}

/// Starts a batch and kills it with SIGKILL once at least `at_least` DPAs exist.
fn run_and_kill(dir: &Path, csv: &Path, out: &Path, at_least: usize) {
    let mut child = batch(dir, csv, out, &[])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the batch ended ({status}) before {at_least} DPAs existed to kill it at");
        }
        if present(out).len() >= at_least {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1800),
            "no progress to kill at after 30 minutes"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert_eq!(
        status.signal(),
        Some(9),
        "the batch finished before it could be killed ({status}); raise CUSTOMERS"
    );
}

/// Verifies one DPA with the library against the demo public key, as `dpa verify` does.
fn verifies(key: &PublicKey, out: &Path, i: usize) -> Result<(), String> {
    let verdict = batch_common::verdict_of(&pdf(out, i), key)?;
    let checked = verdict.checked;
    if !(verdict.valid && checked.minisig && checked.sha256 && checked.sshsig) {
        return Err(format!("{}: {:?}", id(i), verdict.reasons));
    }
    match &verdict.comment {
        Some(c) if c.customer == id(i) && c.annex == "2026-05-26" => Ok(()),
        other => Err(format!("{}: trusted comment {other:?}", id(i))),
    }
}

/// After a kill: every DPA on disk has its signatures beside it and verifies.
fn assert_only_complete_documents(key: &PublicKey, out: &Path) -> usize {
    let there = present(out);
    for &i in &there {
        for ext in SIGNATURES {
            let mut sig = pdf(out, i).into_os_string();
            sig.push(ext);
            assert!(
                Path::new(&sig).is_file(),
                "{} without its {ext} after a kill",
                id(i)
            );
        }
        verifies(key, out, i).unwrap_or_else(|e| panic!("after a kill: {e}"));
    }
    there.len()
}

#[test]
fn a_killed_batch_of_1000_finishes_on_a_rerun_with_one_row_per_document() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write_csv(dir.path(), "customers.csv", CUSTOMERS);
    let out = dir.path().join("out");
    let key = PublicKey::load(&repo("fixtures/keys/demo-only.pub.pem")).unwrap();

    // Killed early, then killed again further on.
    run_and_kill(dir.path(), &csv, &out, 40);
    let after_first = assert_only_complete_documents(&key, &out);
    run_and_kill(dir.path(), &csv, &out, after_first + 250);
    let after_second = assert_only_complete_documents(&key, &out);
    assert!(after_second < CUSTOMERS);

    // The third run finishes: what is on disk is kept, the rest is issued.
    let run = batch(dir.path(), &csv, &out, &[]).output().unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let missing = CUSTOMERS - after_second;
    assert!(
        stdout.contains(&format!(
            "{CUSTOMERS} customers: {missing} issued ({missing} documents), {after_second} unchanged and skipped, 0 failed"
        )),
        "{stdout}"
    );

    // All 1,000 DPAs with their signatures, and nothing half-written anywhere.
    assert_eq!(present(&out).len(), CUSTOMERS);
    let left = leftovers(&out);
    assert!(left.is_empty(), "temp files remain: {left:?}");
    let failures: Vec<String> = (1..=CUSTOMERS)
        .filter_map(|i| verifies(&key, &out, i).err())
        .collect();
    assert!(failures.is_empty(), "{failures:?}");
    // `dpa verify` itself on a sample of 50.
    for i in (1..=CUSTOMERS).step_by(CUSTOMERS / 50) {
        let (code, said) = verify(dir.path(), &pdf(&out, i));
        assert_eq!(code, 0, "{}: {said}", id(i));
    }

    // Exactly one register row per document, matching the file on disk.
    let rows = register_rows(dir.path(), &out, &[]);
    assert_eq!(rows.len(), CUSTOMERS);
    let ids: BTreeSet<&str> = rows
        .iter()
        .map(|r| r["customer_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), CUSTOMERS, "a customer has two rows");
    for row in &rows {
        let customer = row["customer_id"].as_str().unwrap();
        assert_eq!(row["kind"], "dpa");
        assert_eq!(row["path"], format!("{customer}/{DPA}"));
        let bytes = fs::read(out.join(customer).join(DPA)).unwrap();
        assert_eq!(
            row["pdf_sha256"],
            dpa::sign::sha256_hex(&bytes),
            "{customer}"
        );
    }

    // A rerun of the finished batch: everything skipped, no rows added.
    let again = batch(dir.path(), &csv, &out, &[]).output().unwrap();
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(again.status.success(), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "{CUSTOMERS} customers: 0 issued (0 documents), {CUSTOMERS} unchanged and skipped, 0 failed"
        )),
        "{stdout}"
    );
    assert!(stdout.contains("(0 rows added)"), "{stdout}");
    assert_eq!(register_rows(dir.path(), &out, &[]).len(), CUSTOMERS);
}
