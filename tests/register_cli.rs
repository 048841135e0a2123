//! `dpa register list|show`: after a batch with the published annex and a second one with
//! the next annex and change notices, the register answers "which list did customer X get?"
//! by customer and by annex version, as a table and as JSON, and every row matches the
//! files and inputs it records.
#![cfg(unix)]

mod batch_common;

use std::fs;
use std::path::Path;
use std::sync::OnceLock;

use serde_json::Value;
use tempfile::TempDir;

use batch_common::{batch, dpa_in, register_rows, repo};

const FIELDS: [&str; 13] = [
    "id",
    "customer_id",
    "kind",
    "annex_version",
    "annex_sha256",
    "template_sha256",
    "inputs_sha256",
    "pdf_sha256",
    "key_id",
    "issued",
    "path",
    "files",
    "hash",
];

/// One output folder for all tests: 4 DPAs of 2026-05-26, then 4 DPAs and 4 notices of
/// 2026-07-15 (12 rows).
fn issued() -> &'static Path {
    static DIR: OnceLock<TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let csv = repo("fixtures/batch/customers.csv");
        let out = dir.path().join("out");
        let first = batch(dir.path(), &csv, &out, &["--issue-date", "2026-06-01"])
            .output()
            .unwrap();
        assert!(first.status.success());
        let next = repo("fixtures/segmetrics/annex-next.toml");
        let previous = repo("fixtures/segmetrics/annex.toml");
        let second = batch(
            dir.path(),
            &csv,
            &out,
            &[
                "--annex",
                next.to_str().unwrap(),
                "--previous",
                previous.to_str().unwrap(),
                "--notice-date",
                "2026-06-10",
                "--issue-date",
                "2026-07-15",
            ],
        )
        .output()
        .unwrap();
        assert!(
            second.status.success(),
            "{}",
            String::from_utf8_lossy(&second.stderr)
        );
        dir
    })
    .path()
}

fn out() -> std::path::PathBuf {
    issued().join("out")
}

fn run(args: &[&str]) -> (i32, String, String) {
    let output = dpa_in(issued())
        .arg("register")
        .args(args)
        .arg("--out")
        .arg(out())
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn sha256_file(path: &Path) -> String {
    dpa::sign::sha256_hex(&fs::read(path).unwrap())
}

#[test]
fn list_json_has_every_row_with_its_fields_matching_the_files() {
    let rows = register_rows(issued(), &out(), &[]);
    assert_eq!(rows.len(), 12);
    for (i, row) in rows.iter().enumerate() {
        let keys: Vec<&str> = row
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut want = FIELDS.to_vec();
        // A change notice also records its objection deadline (register schema 3).
        if row["kind"] == "notice" {
            want.push("deadline");
            assert!(row["deadline"].as_str().is_some_and(|d| d.len() == 10));
        }
        want.sort_unstable();
        let mut have = keys.clone();
        have.sort_unstable();
        assert_eq!(have, want);
        // Oldest first, ids from 1.
        assert_eq!(row["id"], i as i64 + 1);
    }

    let fingerprint =
        |annex: &str| dpa::annex::fingerprint(&dpa::load::annex(repo(annex)).unwrap()).hex();
    let dpa_template = sha256_file(&repo("templates/dpa.md.hbs"));
    let notice_template = sha256_file(&repo("templates/notice.md.hbs"));
    let key_id = dpa::sign::PublicKey::load(&repo("fixtures/keys/demo-only.pub.pem"))
        .unwrap()
        .key_id()
        .to_string();
    for row in &rows {
        let path = out().join(row["path"].as_str().unwrap());
        assert_eq!(row["pdf_sha256"], sha256_file(&path), "{row}");
        let listed = fs::read_to_string(format!("{}.sha256", path.display())).unwrap();
        assert!(listed.starts_with(row["pdf_sha256"].as_str().unwrap()));
        assert_eq!(row["key_id"], key_id);
        let (annex, template) = match (row["annex_version"].as_str(), row["kind"].as_str()) {
            (Some("2026-05-26"), Some("dpa")) => ("fixtures/segmetrics/annex.toml", &dpa_template),
            (Some("2026-07-15"), Some("dpa")) => {
                ("fixtures/segmetrics/annex-next.toml", &dpa_template)
            }
            (Some("2026-07-15"), Some("notice")) => {
                ("fixtures/segmetrics/annex-next.toml", &notice_template)
            }
            _ => panic!("unexpected row {row}"),
        };
        assert_eq!(row["annex_sha256"], fingerprint(annex));
        assert_eq!(row["template_sha256"], *template);
        let inputs = row["inputs_sha256"].as_str().unwrap();
        assert!(inputs.len() == 64 && inputs.bytes().all(|b| b.is_ascii_hexdigit()));
    }
    // Every document has its own inputs digest.
    let mut digests: Vec<&str> = rows
        .iter()
        .map(|r| r["inputs_sha256"].as_str().unwrap())
        .collect();
    digests.sort_unstable();
    digests.dedup();
    assert_eq!(digests.len(), 12);
}

#[test]
fn list_filters_by_customer_and_annex_version() {
    let by_customer = register_rows(issued(), &out(), &["--customer", "mueller-soehne"]);
    let shape: Vec<(String, String, String)> = by_customer
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap().to_string(),
                r["annex_version"].as_str().unwrap().to_string(),
                r["issued"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let own = |k: &str, a: &str, d: &str| (k.to_string(), a.to_string(), d.to_string());
    assert_eq!(
        shape,
        [
            own("dpa", "2026-05-26", "2026-06-01"),
            own("dpa", "2026-07-15", "2026-07-15"),
            own("notice", "2026-07-15", "2026-06-10"),
        ]
    );
    assert!(
        by_customer
            .iter()
            .all(|r| r["customer_id"] == "mueller-soehne")
    );

    let old = register_rows(issued(), &out(), &["--annex", "2026-05-26"]);
    assert_eq!(old.len(), 4);
    assert!(
        old.iter()
            .all(|r| r["kind"] == "dpa" && r["annex_version"] == "2026-05-26")
    );
    let new = register_rows(issued(), &out(), &["--annex", "2026-07-15"]);
    assert_eq!(new.len(), 8);

    let both = register_rows(
        issued(),
        &out(),
        &["--customer", "lodz-zaklady", "--annex", "2026-05-26"],
    );
    assert_eq!(both.len(), 1);
    assert_eq!(
        both[0]["path"],
        "lodz-zaklady/segmetrics-inc-dpa-2026-05-26.pdf"
    );

    assert!(register_rows(issued(), &out(), &["--customer", "nobody"]).is_empty());
    let (code, stdout, _) = run(&["list", "--customer", "nobody"]);
    assert_eq!(code, 0);
    assert_eq!(stdout.trim(), "No documents match.");
}

#[test]
fn list_prints_a_table() {
    let (code, stdout, stderr) = run(&["list", "--customer", "acme-widgets-us"]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(
        header,
        [
            "ID", "CUSTOMER", "KIND", "ANNEX", "ANNEX", "SHA-256", "ISSUED", "PDF", "SHA-256",
            "PATH"
        ]
    );
    let rows = register_rows(issued(), &out(), &["--customer", "acme-widgets-us"]);
    for (line, row) in lines[1..].iter().zip(&rows) {
        let cells: Vec<&str> = line.split_whitespace().collect();
        let sha = row["pdf_sha256"].as_str().unwrap();
        assert_eq!(
            cells,
            [
                row["id"].to_string().as_str(),
                "acme-widgets-us",
                row["kind"].as_str().unwrap(),
                row["annex_version"].as_str().unwrap(),
                &row["annex_sha256"].as_str().unwrap()[..16],
                row["issued"].as_str().unwrap(),
                &sha[..16],
                row["path"].as_str().unwrap(),
            ],
            "{stdout}"
        );
    }
}

#[test]
fn show_prints_one_row() {
    let rows = register_rows(issued(), &out(), &["--customer", "datenwerk-ai"]);
    let notice = rows.iter().find(|r| r["kind"] == "notice").unwrap();
    let id = notice["id"].to_string();

    let (code, stdout, _) = run(&["show", &id, "--json"]);
    assert_eq!(code, 0);
    let shown: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(&shown, notice);

    let (code, stdout, _) = run(&["show", &id]);
    assert_eq!(code, 0);
    let field = |name: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")).map(str::trim))
            .unwrap_or_else(|| panic!("no {name} in {stdout}"))
            .to_string()
    };
    assert_eq!(field("id"), id);
    assert_eq!(field("customer"), "datenwerk-ai");
    assert_eq!(field("kind"), "notice");
    assert_eq!(field("annex version"), "2026-07-15");
    assert_eq!(field("issued"), "2026-06-10");
    assert_eq!(field("pdf sha256"), notice["pdf_sha256"].as_str().unwrap());
    assert_eq!(
        field("path"),
        "datenwerk-ai/segmetrics-inc-notice-2026-07-15.pdf"
    );
}

#[test]
fn unknown_ids_and_missing_registers_are_errors() {
    let (code, _, stderr) = run(&["show", "999"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no document with id 999"), "{stderr}");

    let empty = tempfile::tempdir().unwrap();
    let output = dpa_in(empty.path())
        .args(["register", "list", "--out"])
        .arg(empty.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr.contains("no register at"), "{stderr}");
    assert!(
        stderr.contains("hint: run `dpa generate` or `dpa batch` first"),
        "{stderr}"
    );
    assert!(
        !empty.path().join(dpa::register::FILE_NAME).exists(),
        "listing must not create a register"
    );
}

#[test]
fn the_output_folder_defaults_to_the_one_in_dpa_toml() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("dpa.toml"), "out = \"issued\"\n").unwrap();
    let csv = repo("fixtures/batch/customers.csv");
    let mut cmd = dpa_in(dir.path());
    cmd.arg("batch")
        .arg("--customers")
        .arg(&csv)
        .arg("--annex")
        .arg(repo("fixtures/segmetrics/annex.toml"))
        .args(batch_common::vendor_args());
    assert!(cmd.status().unwrap().success());
    assert!(
        dir.path()
            .join("issued")
            .join(dpa::register::FILE_NAME)
            .is_file()
    );
    let output = dpa_in(dir.path())
        .args(["register", "list", "--json"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let rows: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(rows.len(), 4);
}
