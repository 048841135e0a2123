//! A reader that goes away is not a failure: `dpa register list | head -1`,
//! `dpa verify ... | head` and `... --json | head -c 10` end with exit code 0 and print
//! nothing on standard error (no panic, no "Broken pipe"). Where the exit code is an answer
//! (`verify` "not valid", `annex diff --exit-code`), it stays that answer.
//!
//! Each command runs with its standard output connected to a pipe whose reading end is
//! already closed, so its first write fails with EPIPE every time (no race with a reader);
//! one case also goes through a real `bash` pipeline with `head`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

const PDF: &str = "mueller-soehne/segmetrics-inc-dpa-2026-05-26.pdf";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn dpa() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dpa"));
    cmd.current_dir(root())
        .env_remove("DPA_SIGNING_KEY")
        .env_remove("SOURCE_DATE_EPOCH");
    cmd
}

/// An output folder with one issued DPA and its register, made once for all tests here.
fn out_dir() -> &'static Path {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, out) = DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = dir.path().join("out");
        let status = dpa()
            .args(["-q", "generate", "--customer"])
            .arg("fixtures/customers/mueller-soehne.toml")
            .arg("--out")
            .arg(&out)
            .status()
            .expect("dpa runs");
        assert!(status.success(), "dpa generate failed");
        (dir, out)
    });
    out
}

/// Runs `dpa ARGS` into a pipe nobody reads; returns (exit code, standard error).
fn into_closed_pipe(args: &[&str]) -> (Option<i32>, String) {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let out = dpa()
        .args(args)
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("dpa runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn assert_quiet_success(args: &[&str]) {
    let (code, stderr) = into_closed_pipe(args);
    assert_eq!(code, Some(0), "dpa {args:?}: exit code; stderr: {stderr}");
    assert_eq!(stderr, "", "dpa {args:?} printed on standard error");
}

fn path(rel: &str) -> String {
    out_dir().join(rel).display().to_string()
}

#[test]
fn register_list_into_a_closed_pipe() {
    let out = out_dir().display().to_string();
    assert_quiet_success(&["register", "list", "--out", &out]);
    assert_quiet_success(&["register", "list", "--out", &out, "--json"]);
    assert_quiet_success(&["register", "show", "1", "--out", &out]);
}

#[test]
fn verify_into_a_closed_pipe() {
    let pdf = path(PDF);
    let key = "fixtures/keys/demo-only.minisign.pub";
    assert_quiet_success(&["verify", &pdf, "--pubkey", key]);
    assert_quiet_success(&["verify", &pdf, "--pubkey", key, "--json"]);
}

#[test]
fn not_valid_stays_exit_1_into_a_closed_pipe() {
    // The exit code is the verdict: `dpa verify ... | head` must not turn "not valid" into 0.
    let pdf = path(PDF);
    for json in [false, true] {
        let mut args = vec![
            "verify",
            &pdf,
            "--pubkey",
            "fixtures/keys/demo-only.minisign.pub",
            "--annex",
            "fixtures/segmetrics/annex-next.toml",
        ];
        if json {
            args.push("--json");
        }
        let (code, stderr) = into_closed_pipe(&args);
        assert_eq!(stderr, "", "{args:?}");
        assert_eq!(code, Some(1), "{args:?}");
    }
    let (code, stderr) = into_closed_pipe(&[
        "annex",
        "diff",
        "--exit-code",
        "fixtures/segmetrics/annex.toml",
        "fixtures/segmetrics/annex-next.toml",
    ]);
    assert_eq!((code, stderr.as_str()), (Some(1), ""));
}

#[test]
fn other_commands_into_a_closed_pipe() {
    for args in [
        &["annex", "fingerprint", "fixtures/segmetrics/annex.toml"][..],
        &[
            "annex",
            "fingerprint",
            "fixtures/segmetrics/annex.toml",
            "--json",
        ],
        &[
            "annex",
            "diff",
            "fixtures/segmetrics/annex.toml",
            "fixtures/segmetrics/annex-next.toml",
        ],
        &[
            "annex",
            "diff",
            "fixtures/segmetrics/annex.toml",
            "fixtures/segmetrics/annex-next.toml",
            "--json",
        ],
        &[
            "-q",
            "annex",
            "import",
            "tests/data/pages/linked-table.md",
            "--vendor",
            "Acme, Inc.",
        ],
        &["completions", "bash"],
        &["man"],
        &["--help"],
        &["verify", "--help"],
    ] {
        assert_quiet_success(args);
    }
}

#[test]
fn generate_and_batch_json_into_a_closed_pipe() {
    let out = out_dir().display().to_string();
    assert_quiet_success(&[
        "-q",
        "generate",
        "--customer",
        "fixtures/customers/mueller-soehne.toml",
        "--out",
        &out,
        "--json",
    ]);
    assert_quiet_success(&[
        "-q",
        "batch",
        "--customers",
        "fixtures/batch/customers.csv",
        "--out",
        &out,
        "--json",
    ]);
}

#[test]
fn real_shell_pipelines_with_head() {
    let out = out_dir().display().to_string();
    let pdf = path(PDF);
    for script in [
        format!("dpa register list --out '{out}' | head -1 >/dev/null; exit ${{PIPESTATUS[0]}}"),
        format!(
            "dpa verify '{pdf}' --pubkey fixtures/keys/demo-only.minisign.pub --json | head -c 10 >/dev/null; exit ${{PIPESTATUS[0]}}"
        ),
    ] {
        let bin_dir = Path::new(env!("CARGO_BIN_EXE_dpa"))
            .parent()
            .expect("bin dir")
            .to_path_buf();
        let path = format!(
            "{}:{}",
            bin_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let output = Command::new("bash")
            .arg("-c")
            .arg(&script)
            .current_dir(root())
            .env("PATH", path)
            .env_remove("DPA_SIGNING_KEY")
            .output()
            .expect("bash runs");
        assert_eq!(output.status.code(), Some(0), "{script}");
        assert_eq!(String::from_utf8_lossy(&output.stderr), "", "{script}");
    }
}
