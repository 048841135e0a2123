//! `-` reads standard input: a customer for `generate`, a CSV list for `batch`, and the
//! result is the same document as from the file. Also the JSON that `generate --json` and
//! `batch --json` print (one object each).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `dpa ARGS` in the package root with `input` on standard input; (code, stdout, stderr).
fn dpa_with_stdin(args: &[&str], input: &[u8]) -> (Option<i32>, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dpa"))
        .current_dir(root())
        .args(args)
        .env_remove("DPA_SIGNING_KEY")
        .env_remove("SOURCE_DATE_EPOCH")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dpa runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write stdin");
    let out = child.wait_with_output().expect("dpa ends");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not one JSON document ({e}):\n{text}"))
}

#[test]
fn generate_reads_the_customer_from_standard_input() {
    let dir = tempfile::tempdir().expect("temp dir");
    let from_stdin = dir.path().join("stdin");
    let from_file = dir.path().join("file");
    let customer =
        std::fs::read(root().join("fixtures/customers/mueller-soehne.toml")).expect("fixture");
    let stdin_out = from_stdin.display().to_string();
    let (code, stdout, stderr) = dpa_with_stdin(
        &[
            "-q",
            "generate",
            "--customer",
            "-",
            "--out",
            &stdin_out,
            "--json",
        ],
        &customer,
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stderr, "", "-q silences the demo-key warning");
    let generated = json(&stdout);
    assert_eq!(generated["status"], "issued");
    assert_eq!(generated["customer"]["id"], "mueller-soehne");
    assert_eq!(generated["files"].as_array().map(Vec::len), Some(4));
    for file in generated["files"].as_array().into_iter().flatten() {
        assert!(
            Path::new(file.as_str().unwrap_or_default()).is_file(),
            "{file} was not written"
        );
    }

    let file_out = from_file.display().to_string();
    let (code, stdout, _) = dpa_with_stdin(
        &[
            "-q",
            "generate",
            "--customer",
            "fixtures/customers/mueller-soehne.toml",
            "--out",
            &file_out,
            "--json",
        ],
        b"",
    );
    assert_eq!(code, Some(0));
    assert_eq!(
        json(&stdout)["pdf_sha256"],
        generated["pdf_sha256"],
        "the same customer from standard input or from its file gives the same PDF"
    );
}

#[test]
fn batch_reads_a_csv_list_from_standard_input_and_prints_one_summary() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("out").display().to_string();
    let csv = std::fs::read(root().join("fixtures/batch/customers.csv")).expect("fixture");
    let (code, stdout, stderr) = dpa_with_stdin(
        &["-q", "batch", "--customers", "-", "--out", &out, "--json"],
        &csv,
    );
    assert_eq!(code, Some(0), "{stderr}");
    let summary = json(&stdout);
    assert_eq!(summary["customers"], 4, "{summary}");
    assert_eq!(summary["issued"], 4, "{summary}");
    assert_eq!(summary["failed"].as_array().map(Vec::len), Some(0));
    assert!(
        summary["register"]
            .as_str()
            .is_some_and(|r| r.ends_with("register.sqlite"))
    );
}

#[test]
fn a_bad_row_on_standard_input_is_named_by_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("out").display().to_string();
    let csv = "id,legal_name,address,country,email,effective,signatory_name,signatory_title,features\n\
               good-one,Good GmbH,\"Street 1, Berlin\",DE,a@good.example,2026-06-01,Ann,CEO,\n\
               bad-one,Bad GmbH,\"Street 2, Berlin\",Germany,a@bad.example,2026-06-01,Bob,CEO,\n";
    let (code, stdout, _) = dpa_with_stdin(
        &["-q", "batch", "--customers", "-", "--out", &out, "--json"],
        csv.as_bytes(),
    );
    assert_eq!(code, Some(1), "one customer failed: {stdout}");
    let summary = json(&stdout);
    let failed = &summary["failed"][0];
    assert_eq!(failed["customer"], "bad-one", "{summary}");
    let reason = failed["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("<stdin>:3") && reason.contains("country"),
        "{reason}"
    );
}

#[test]
fn verify_reads_the_annex_to_compare_from_standard_input() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("out");
    let out_text = out.display().to_string();
    let (code, _, stderr) = dpa_with_stdin(
        &[
            "-q",
            "generate",
            "--customer",
            "fixtures/customers/mueller-soehne.toml",
            "--out",
            &out_text,
        ],
        b"",
    );
    assert_eq!(code, Some(0), "{stderr}");
    let pdf = out
        .join("mueller-soehne/segmetrics-inc-dpa-2026-05-26.pdf")
        .display()
        .to_string();
    let verify = |annex: &str| {
        let text = std::fs::read(root().join(annex)).expect("fixture");
        dpa_with_stdin(
            &[
                "verify",
                &pdf,
                "--pubkey",
                "fixtures/keys/demo-only.minisign.pub",
                "--annex",
                "-",
            ],
            &text,
        )
    };
    let (code, stdout, _) = verify("fixtures/segmetrics/annex.toml");
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.contains("annex file <stdin> (version 2026-05-26) is the signed annex"),
        "{stdout}"
    );
    let (code, stdout, _) = verify("fixtures/segmetrics/annex-next.toml");
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("the annex file <stdin> (version 2026-07-15"),
        "{stdout}"
    );
}
