//! `dpa batch` with bad rows, reruns and customer folders: a bad customer is named with its
//! reason and does not stop the others; the exit code is 1 when any failed; a rerun of a
//! finished batch writes nothing and adds no register rows; fixing the bad rows and
//! running again issues just those.
#![cfg(unix)]

mod batch_common;

use std::fs;
use std::path::Path;
use std::time::SystemTime;

use batch_common::{CSV_HEADER, batch, csv_row, files_under, leftovers, register_rows, repo};

const DPA: &str = "segmetrics-inc-dpa-2026-05-26.pdf";

/// 50 customers; row 17 has an invalid id and row 33 no e-mail address.
fn fifty_with_two_bad(fixed: bool) -> String {
    let mut text = format!("{CSV_HEADER}\n");
    for i in 1..=50 {
        let row = csv_row(i);
        let row = match i {
            17 if !fixed => row.replacen("customer-00017", "Customer_17", 1),
            33 if !fixed => row.replacen("privacy33@customer33.example", "", 1),
            _ => row,
        };
        text.push_str(&row);
        text.push('\n');
    }
    text
}

fn pdfs(out: &Path) -> Vec<String> {
    files_under(out)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "pdf"))
        .map(|p| p.strip_prefix(out).unwrap().display().to_string())
        .collect()
}

fn mtimes(out: &Path) -> Vec<(String, SystemTime)> {
    files_under(out)
        .into_iter()
        .filter(|p| p.is_file() && !p.to_string_lossy().contains("register.sqlite"))
        .map(|p| {
            let t = fs::metadata(&p).unwrap().modified().unwrap();
            (p.display().to_string(), t)
        })
        .collect()
}

#[test]
fn two_bad_rows_in_fifty_fail_alone_and_a_rerun_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("customers.csv");
    fs::write(&csv, fifty_with_two_bad(false)).unwrap();
    let out = dir.path().join("out");

    let run = batch(dir.path(), &csv, &out, &["--jobs", "2"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout
            .contains("50 customers: 48 issued (48 documents), 0 unchanged and skipped, 2 failed"),
        "{stdout}"
    );
    // Each failure names the customer (or its CSV line) and the reason, with a hint.
    let failures: Vec<&str> = stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("failed:"))
        .collect();
    assert_eq!(failures.len(), 2, "{stdout}");
    let csv_name = csv.display().to_string();
    assert!(
        failures.iter().any(|l| l.contains("failed: Customer_17:")
            && l.contains(&format!("{csv_name}:18"))
            && l.contains("`id`")
            && l.contains("is not a valid customer id")),
        "{stdout}"
    );
    assert!(
        failures
            .iter()
            .any(|l| l.contains("failed: customer-00033:")
                && l.contains(&format!("{csv_name}:34"))
                && l.contains("`email`")
                && l.contains("must not be empty")),
        "{stdout}"
    );
    assert!(
        stdout.contains("hint: use 1 to 64 lowercase letters"),
        "{stdout}"
    );
    // They are also reported as they happen, on stderr, with plain progress lines (no
    // terminal here, so no progress bar).
    assert_eq!(stderr.matches("failed: ").count(), 2, "{stderr}");
    assert!(
        stderr.contains("batch: 50/50 customers (48 issued, 0 unchanged, 2 failed)"),
        "{stderr}"
    );
    assert!(!stderr.contains('█'), "{stderr}");

    let issued = pdfs(&out);
    assert_eq!(issued.len(), 48);
    assert!(
        !issued
            .iter()
            .any(|p| p.contains("00017") || p.contains("00033"))
    );
    assert!(!out.join("Customer_17").exists());
    let rows = register_rows(dir.path(), &out, &[]);
    assert_eq!(rows.len(), 48);
    assert!(leftovers(&out).is_empty(), "{:?}", leftovers(&out));

    // A rerun: nothing written, no rows added, the same two failures.
    let before = mtimes(&out);
    let rerun = batch(dir.path(), &csv, &out, &[]).output().unwrap();
    let stdout = String::from_utf8_lossy(&rerun.stdout);
    assert_eq!(rerun.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("50 customers: 0 issued (0 documents), 48 unchanged and skipped, 2 failed"),
        "{stdout}"
    );
    assert!(stdout.contains("(0 rows added)"), "{stdout}");
    assert_eq!(register_rows(dir.path(), &out, &[]).len(), 48);
    assert_eq!(mtimes(&out), before, "a rerun rewrote files");

    // With the two rows fixed, only those two are issued.
    fs::write(&csv, fifty_with_two_bad(true)).unwrap();
    let fixed = batch(dir.path(), &csv, &out, &[]).output().unwrap();
    let stdout = String::from_utf8_lossy(&fixed.stdout);
    assert!(fixed.status.success(), "{stdout}");
    assert!(
        stdout.contains("50 customers: 2 issued (2 documents), 48 unchanged and skipped, 0 failed"),
        "{stdout}"
    );
    let rows = register_rows(dir.path(), &out, &[]);
    assert_eq!(rows.len(), 50);
    let mut ids: Vec<&str> = rows
        .iter()
        .map(|r| r["customer_id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 50);
    assert_eq!(pdfs(&out).len(), 50);
}

#[test]
fn a_row_with_a_missing_column_is_named_by_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("short.csv");
    // Row 2 lacks its last three columns.
    let short = csv_row(2).rsplitn(4, ',').last().unwrap().to_string();
    fs::write(
        &csv,
        format!("{CSV_HEADER}\n{}\n{short}\n{}\n", csv_row(1), csv_row(3)),
    )
    .unwrap();
    let out = dir.path().join("out");
    let run = batch(dir.path(), &csv, &out, &[]).output().unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "failed: {}:3: this row has 6 fields but the header has 9",
            csv.display()
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("3 customers: 2 issued (2 documents), 0 unchanged and skipped, 1 failed"),
        "{stdout}"
    );
}

#[test]
fn a_folder_of_customer_files_is_a_batch_too() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let run = batch(dir.path(), &repo("fixtures/customers"), &out, &[])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let files = fs::read_dir(repo("fixtures/customers")).unwrap().count();
    assert!(
        stdout.contains(&format!("{files} customers: {files} issued")),
        "{stdout}"
    );
    assert!(out.join("mueller-soehne").join(DPA).is_file());
    assert_eq!(register_rows(dir.path(), &out, &[]).len(), files);

    // The fail_ fixtures each fail, named by file (and line) or id, and nothing is issued.
    let bad_out = dir.path().join("bad");
    let run = batch(dir.path(), &repo("fixtures/fail"), &bad_out, &[])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("0 issued"), "{stdout}");
    assert!(
        stdout.contains("fail_misspelled-field.toml:4:1: unknown field `legal_nmae`"),
        "{stdout}"
    );
    assert!(
        stdout.contains("failed: mueller-soehne: ") && stdout.contains("unknown feature `aj`"),
        "{stdout}"
    );
    assert!(pdfs(&bad_out).is_empty());
}

#[test]
fn a_changed_customer_is_reissued_and_recorded_again() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("c.csv");
    fs::write(
        &csv,
        format!("{CSV_HEADER}\n{}\n{}\n", csv_row(1), csv_row(2)),
    )
    .unwrap();
    let out = dir.path().join("out");
    assert!(
        batch(dir.path(), &csv, &out, &[])
            .status()
            .unwrap()
            .success()
    );
    let pdf = out.join("customer-00001").join(DPA);
    let first = fs::read(&pdf).unwrap();

    // A new signatory changes the document: without --force the signed file is kept.
    let changed = csv_row(1).replace("Erika Mustermann", "Max Mustermann");
    fs::write(&csv, format!("{CSV_HEADER}\n{changed}\n{}\n", csv_row(2))).unwrap();
    let run = batch(dir.path(), &csv, &out, &[]).output().unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("already exists with different content"),
        "{stdout}"
    );
    assert!(stdout.contains("hint: pass --force"), "{stdout}");
    assert_eq!(fs::read(&pdf).unwrap(), first);
    assert_eq!(register_rows(dir.path(), &out, &[]).len(), 2);

    // With --force it is replaced and the register gains a row; the old row stays.
    let run = batch(dir.path(), &csv, &out, &["--force"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{stdout}");
    assert!(
        stdout.contains("1 issued (1 documents), 1 unchanged"),
        "{stdout}"
    );
    assert_ne!(fs::read(&pdf).unwrap(), first);
    let rows = register_rows(dir.path(), &out, &["--customer", "customer-00001"]);
    assert_eq!(rows.len(), 2);
    assert_ne!(rows[0]["pdf_sha256"], rows[1]["pdf_sha256"]);
    assert_eq!(
        rows[1]["pdf_sha256"],
        dpa::sign::sha256_hex(&fs::read(&pdf).unwrap())
    );
}

#[test]
fn the_number_of_workers_does_not_change_a_byte() {
    let dir = tempfile::tempdir().unwrap();
    let csv = repo("fixtures/batch/customers.csv");
    let next = repo("fixtures/segmetrics/annex-next.toml");
    let previous = repo("fixtures/segmetrics/annex.toml");
    let mut trees = Vec::new();
    for jobs in ["1", "3"] {
        let out = dir.path().join(format!("jobs-{jobs}"));
        let run = batch(
            dir.path(),
            &csv,
            &out,
            &[
                "--jobs",
                jobs,
                "--annex",
                next.to_str().unwrap(),
                "--previous",
                previous.to_str().unwrap(),
                "--notice-date",
                "2026-06-10",
                "--raw-sig",
            ],
        )
        .output()
        .unwrap();
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let files: Vec<(String, Vec<u8>)> = files_under(&out)
            .into_iter()
            .filter(|p| p.is_file() && !p.to_string_lossy().contains("register.sqlite"))
            .map(|p| {
                let name = p.strip_prefix(&out).unwrap().display().to_string();
                (name, fs::read(&p).unwrap())
            })
            .collect();
        // 4 customers x 2 documents x (PDF, .minisig, .sha256, .sshsig, .sig).
        assert_eq!(files.len(), 40);
        let mut rows: Vec<serde_json::Value> = register_rows(dir.path(), &out, &[])
            .into_iter()
            .map(|mut r| {
                // The row's place in the chain, and so its chain hash, depends on the order
                // in which the workers finished.
                r.as_object_mut().unwrap().remove("id");
                r.as_object_mut().unwrap().remove("hash");
                r
            })
            .collect();
        rows.sort_by_key(|r| r["path"].as_str().unwrap().to_string());
        trees.push((files, rows));
    }
    assert!(trees[0] == trees[1], "--jobs 1 and --jobs 3 differ");
}
