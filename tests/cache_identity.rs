//! The memo tables that documents of one process share (src/cache.rs) never change what a
//! document is: every fixture vendor × customer DPA, the change notices and a batch of
//! mixed customers come out byte for byte the same with the tables (one worker, so later
//! documents reuse what earlier ones left, and two workers) as with them turned off
//! (`DPA_NO_CACHE=1`). Compared: every PDF and every detached signature and hash file.

mod common;

use std::path::Path;

use common::{dpa, files_under, fixture, run};

/// Runs `dpa batch` with `args` into `out`, with the memo tables on or off.
fn batch(args: &[&str], out: &Path, cached: bool, jobs: &str) {
    let mut cmd = dpa();
    cmd.arg("batch")
        .args(args)
        .arg("--jobs")
        .arg(jobs)
        .arg("--out")
        .arg(out);
    if cached {
        cmd.env_remove("DPA_NO_CACHE");
    } else {
        cmd.env("DPA_NO_CACHE", "1");
    }
    let r = run(&mut cmd);
    // A vendor that does not offer a customer's feature refuses that customer (exit 1
    // with the others issued); anything else must succeed.
    assert!(
        r.code == Some(0) || r.all().contains("unknown feature"),
        "{args:?}: {r:?}"
    );
}

/// The documents and signature files under `dir`, by path relative to it.
fn documents(dir: &Path) -> Vec<(String, Vec<u8>)> {
    files_under(dir)
        .into_iter()
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            [".pdf", ".minisig", ".sshsig", ".sha256", ".sig"]
                .iter()
                .any(|s| name.ends_with(s))
        })
        .map(|p| {
            let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
            (rel, std::fs::read(&p).unwrap())
        })
        .collect()
}

/// The batch `args` gives the same files with and without the memo tables.
fn same_bytes(args: &[&str], least: usize) {
    let dir = tempfile::tempdir().unwrap();
    let off = dir.path().join("off");
    batch(args, &off, false, "1");
    let reference = documents(&off);
    let pdfs = reference
        .iter()
        .filter(|(p, _)| p.ends_with(".pdf"))
        .count();
    assert!(pdfs >= least, "{args:?}: only {pdfs} PDFs");
    for jobs in ["1", "2"] {
        let on = dir.path().join(format!("on-{jobs}"));
        batch(args, &on, true, jobs);
        let cached = documents(&on);
        assert_eq!(
            reference.iter().map(|(p, _)| p).collect::<Vec<_>>(),
            cached.iter().map(|(p, _)| p).collect::<Vec<_>>(),
            "{args:?}: different files"
        );
        for ((path, a), (_, b)) in reference.iter().zip(&cached) {
            assert!(
                a == b,
                "{args:?} --jobs {jobs}: {path} differs with the memo tables on"
            );
        }
    }
}

#[test]
fn every_fixture_dpa_is_the_same_with_and_without_memo_tables() {
    for vendor in ["segmetrics", "postgres-ai", "caplena"] {
        let vendor_toml = format!("fixtures/{vendor}/vendor.toml");
        let annex = format!("fixtures/{vendor}/annex.toml");
        let args = [
            "--customers",
            "fixtures/customers",
            "--vendor",
            &vendor_toml,
            "--annex",
            &annex,
        ];
        same_bytes(&args, 8);
    }
}

#[test]
fn change_notices_are_the_same_with_and_without_memo_tables() {
    same_bytes(
        &[
            "--customers",
            "fixtures/customers",
            "--annex",
            "fixtures/segmetrics/annex-next.toml",
            "--previous",
            "fixtures/segmetrics/annex.toml",
            "--notice-date",
            "2026-06-10",
        ],
        18,
    );
}

#[test]
fn a_mixed_batch_is_the_same_with_and_without_memo_tables() {
    // Customers whose names, addresses and features differ in length and script, in an
    // order that makes one worker reuse tables between unlike documents.
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("customers.csv");
    let mut text = std::fs::read_to_string(fixture("fixtures/batch/customers.csv")).unwrap();
    let names = [
        "Ångström Labs AB",
        "O'Brien & Daughters Ltd",
        "A",
        "Zakłady Przemysłowe „Łódź” Spółka Akcyjna w organizacji",
        "Very Long Name Holding International Group of Companies GmbH & Co. KGaA",
    ];
    for i in 0..30 {
        let name = names[i % names.len()];
        let features = if i % 3 == 0 { "ai" } else { "" };
        text.push_str(&format!(
            "mixed-{i:02},\"{name} {i}\",\"Street {i}, {} City\",DE,dpo{i}@mixed.example,2026-06-{:02},Erika Mustermann,Director,{features}\n",
            10000 + i * 37,
            1 + i % 28
        ));
    }
    std::fs::write(&csv, text).unwrap();
    same_bytes(&["--customers", csv.to_str().unwrap()], 30);
}
