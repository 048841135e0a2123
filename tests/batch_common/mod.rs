//! Helpers shared by the batch, notice, register and diff CLI tests: the `dpa` binary run
//! outside the repository (so no dpa.toml applies), generated customer CSVs, the register
//! read back through `dpa register list --json`, and the independent PDF tools.
#![allow(dead_code)]

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The CSV header of DESIGN.md.
pub const CSV_HEADER: &str =
    "id,legal_name,address,country,email,effective,signatory_name,signatory_title,features";

/// The repository root.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A path under the repository root.
pub fn repo(path: &str) -> PathBuf {
    root().join(path)
}

/// The `dpa` binary as a plain `std::process::Command`, in `cwd`, with no key or date
/// taken from the environment.
pub fn dpa_in(cwd: &Path) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("dpa"));
    cmd.current_dir(cwd)
        .env_remove("SOURCE_DATE_EPOCH")
        .env_remove("DPA_SIGNING_KEY");
    cmd
}

/// The SegMetrics vendor, the DPA template and the demo key, as explicit options.
pub fn vendor_args() -> Vec<OsString> {
    vec![
        "--vendor".into(),
        repo("fixtures/segmetrics/vendor.toml").into(),
        "--template".into(),
        repo("templates/dpa.md.hbs").into(),
        "--key".into(),
        repo("fixtures/keys/demo-only.key").into(),
    ]
}

/// `dpa batch --customers CUSTOMERS --out OUT` with the SegMetrics inputs and `extra`.
pub fn batch(cwd: &Path, customers: &Path, out: &Path, extra: &[&str]) -> Command {
    let mut cmd = dpa_in(cwd);
    cmd.arg("batch")
        .arg("--customers")
        .arg(customers)
        .arg("--out")
        .arg(out)
        .args(vendor_args());
    if !extra.contains(&"--annex") {
        cmd.arg("--annex")
            .arg(repo("fixtures/segmetrics/annex.toml"));
    }
    cmd.args(extra);
    cmd
}

/// One generated customer's CSV row; `i` makes the id, name and address distinct.
pub fn csv_row(i: usize) -> String {
    format!(
        "customer-{i:05},Customer {i:05} GmbH,\"Hauptstraße {i}, 10115 Berlin, Germany\",DE,\
         privacy{i}@customer{i}.example,2026-06-01,Erika Mustermann,Managing Director,"
    )
}

/// Writes a CSV of `n` generated customers (ids customer-00001 ...) and returns its path.
pub fn write_csv(dir: &Path, name: &str, n: usize) -> PathBuf {
    let mut text = String::from(CSV_HEADER);
    text.push('\n');
    for i in 1..=n {
        text.push_str(&csv_row(i));
        text.push('\n');
    }
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path
}

/// The register rows as `dpa register list --out OUT --json` prints them.
pub fn register_rows(cwd: &Path, out: &Path, filters: &[&str]) -> Vec<Value> {
    let output = dpa_in(cwd)
        .args(["register", "list", "--json", "--out"])
        .arg(out)
        .args(filters)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "register list failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    match serde_json::from_slice(&output.stdout).unwrap() {
        Value::Array(rows) => rows,
        other => panic!("register list --json printed {other}"),
    }
}

/// Every file under `dir`, recursively, sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                stack.push(path.clone());
            }
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Names a killed writer could leave behind: hidden temp files and `.partial` files.
pub fn leftovers(dir: &Path) -> Vec<PathBuf> {
    files_under(dir)
        .into_iter()
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with('.') || name.ends_with(".partial")
        })
        .collect()
}

/// Whether an external tool can be run; a test that needs it says so when it is missing.
pub fn have(tool: &str) -> bool {
    let ok = Command::new(tool)
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.code().is_some());
    if !ok {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "SKIPPED: {tool} is not installed");
    }
    ok
}

/// The text of a PDF as `pdftotext` reads it, with line breaks and hyphenation undone so
/// that phrases can be searched for.
pub fn pdf_text(pdf: &Path) -> String {
    let output = Command::new("pdftotext")
        .arg(pdf)
        .arg("-")
        .output()
        .unwrap();
    assert!(output.status.success(), "pdftotext failed on {pdf:?}");
    let raw = String::from_utf8(output.stdout).unwrap();
    // The typesetter hyphenates; rejoin "com-\npute" and collapse every run of whitespace.
    let mut text = String::new();
    for line in raw.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if text.ends_with('-') && line.starts_with(|c: char| c.is_lowercase()) {
            text.pop();
        } else if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(line);
    }
    text
}

/// `dpa verify PDF --pubkey demo-only.minisign.pub`: its exit code and stdout.
pub fn verify(cwd: &Path, pdf: &Path) -> (i32, String) {
    let output = dpa_in(cwd)
        .arg("verify")
        .arg(pdf)
        .arg("--pubkey")
        .arg(repo("fixtures/keys/demo-only.minisign.pub"))
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

/// The verdict on a PDF and the three signature files beside it, with the library, as
/// `dpa verify` gives it; an error when a file cannot be read.
pub fn verdict_of(pdf: &Path, key: &dpa::sign::PublicKey) -> Result<dpa::sign::Verdict, String> {
    let read = |ext: &str| {
        let mut path = pdf.as_os_str().to_owned();
        path.push(ext);
        fs::read(&path).map_err(|e| format!("{}: {e}", PathBuf::from(path).display()))
    };
    let (minisig, sha256, sshsig) = (read(".minisig")?, read(".sha256")?, read(".sshsig")?);
    let evidence = dpa::sign::Evidence {
        minisig: Some(&minisig),
        sha256: Some(&sha256),
        sshsig: Some(&sshsig),
    };
    dpa::sign::verify(pdf, &evidence, key).map_err(|e| e.to_string())
}
