//! Helpers shared by the CLI test files: running the `dpa` binary, reading PDFs with
//! poppler's tools, and matching text the way a reader would see it.
//!
//! Not every test file uses every helper.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;

use assert_cmd::Command;

/// The package root: fixtures, templates and `dpa.toml` live here.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A path under the package root.
pub fn fixture(rel: &str) -> PathBuf {
    root().join(rel)
}

/// The `dpa` binary, run in the package root (so `dpa.toml` supplies defaults), with no
/// signing key or date taken from the test runner's environment.
pub fn dpa() -> Command {
    let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("dpa");
    cmd.current_dir(root())
        .env_remove("DPA_SIGNING_KEY")
        .env_remove("DPA_PDF_SIGNING_KEY")
        .env_remove("SOURCE_DATE_EPOCH");
    cmd
}

/// What one run of a command gave.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout and stderr together, for messages that may go to either.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// Writes a config at `path` like the repository's dpa.toml but without a PDF key, for
/// documents issued with no embedded signature.
pub fn unsigned_config(path: &Path) -> PathBuf {
    std::fs::write(
        path,
        format!(
            "vendor = {:?}\nannex = {:?}\ntemplate = {:?}\nkey = {:?}\n",
            fixture("fixtures/segmetrics/vendor.toml"),
            fixture("fixtures/segmetrics/annex.toml"),
            fixture("templates/dpa.md.hbs"),
            fixture("fixtures/keys/demo-only.key"),
        ),
    )
    .unwrap();
    path.to_path_buf()
}

/// Runs a prepared command and checks it did not panic, whatever its exit code.
pub fn run(cmd: &mut Command) -> Run {
    let output = cmd.output().expect("the dpa binary runs");
    let run = Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(
        !run.stderr.contains("panicked") && !run.stdout.contains("panicked"),
        "dpa panicked: {run:#?}"
    );
    // A panic exits with 101; every answer of dpa is 0, 1 or 2.
    assert!(
        matches!(run.code, Some(0..=2)),
        "unexpected exit status: {run:#?}"
    );
    run
}

/// Runs `dpa ARGS` in the package root.
pub fn dpa_run<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    run(dpa().args(args))
}

/// Asserts a run succeeded, showing its output if not.
pub fn ok(run: Run) -> Run {
    assert_eq!(run.code, Some(0), "expected success: {run:#?}");
    run
}

/// The vendor and annex files of a fixture vendor (`segmetrics`, `postgres-ai`, `caplena`).
pub fn vendor_files(vendor: &str) -> (PathBuf, PathBuf) {
    (
        fixture(&format!("fixtures/{vendor}/vendor.toml")),
        fixture(&format!("fixtures/{vendor}/annex.toml")),
    )
}

/// Generates a customer's DPA with a fixture vendor into `out`; returns the run.
pub fn generate(out: &Path, vendor: &str, customer: &Path, extra: &[&str]) -> Run {
    let (vendor_toml, annex_toml) = vendor_files(vendor);
    let mut cmd = dpa();
    cmd.arg("generate")
        .arg("--customer")
        .arg(customer)
        .arg("--vendor")
        .arg(vendor_toml)
        .arg("--annex")
        .arg(annex_toml)
        .arg("--out")
        .arg(out)
        .args(extra);
    run(&mut cmd)
}

/// `dpa generate` of the Müller & Söhne DPA into `out`, signed with the key files
/// `dpa keygen` wrote into `keys` (its Ed25519 key, PDF key and chain).
pub fn generate_with_keygen_keys(keys: &Path, out: &Path) -> Run {
    let mut cmd = dpa();
    cmd.args([
        "generate",
        "--customer",
        "fixtures/customers/mueller-soehne.toml",
        "--out",
    ])
    .arg(out)
    .arg("--key")
    .arg(keys.join("signing.key"))
    .arg("--pdf-key")
    .arg(keys.join("pdf-signing.key"))
    .arg("--cert")
    .arg(keys.join("pdf-signing.chain.pem"));
    run(&mut cmd)
}

/// The PDF path `dpa generate` printed on the first line of its output.
pub fn printed_pdf(run: &Run) -> PathBuf {
    let first = run.stdout.lines().next().unwrap_or_default();
    let path = first.split(" (").next().unwrap_or_default();
    assert!(path.ends_with(".pdf"), "no PDF path printed: {run:#?}");
    PathBuf::from(path)
}

/// Runs an external tool and returns (success, stdout, stderr).
pub fn tool(program: &str, args: &[&std::ffi::OsStr]) -> (bool, String, String) {
    let output = StdCommand::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The page count, from pdfinfo.
pub fn page_count(pdf: &Path) -> u32 {
    let (ok, out, err) = tool("pdfinfo", &[pdf.as_os_str()]);
    assert!(ok, "pdfinfo failed on {}: {err}", pdf.display());
    out.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("pdfinfo gave no page count: {out}"))
}

/// The text of the whole PDF (`page` None) or of one page, from pdftotext.
pub fn pdf_text(pdf: &Path, page: Option<u32>) -> String {
    let mut args: Vec<std::ffi::OsString> = vec!["-enc".into(), "UTF-8".into()];
    if let Some(n) = page {
        args.extend([
            "-f".into(),
            n.to_string().into(),
            "-l".into(),
            n.to_string().into(),
        ]);
    }
    args.push(pdf.as_os_str().to_owned());
    args.push("-".into());
    let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let (ok, out, err) = tool("pdftotext", &refs);
    assert!(ok, "pdftotext failed on {}: {err}", pdf.display());
    out
}

/// Text as a reader sees it: lines joined, runs of white space collapsed to one space,
/// soft hyphens (U+00AD) dropped, and typographic quotes read as the straight ones the
/// inputs are written with (the markup stage curls them).
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().filter(|&c| c != '\u{AD}').map(|c| match c {
            '\u{2018}' | '\u{2019}' => '\'',
            '\u{201C}' | '\u{201D}' => '"',
            c => c,
        }));
    }
    out
}

fn is_hyphen(c: char) -> bool {
    matches!(c, '-' | '\u{2010}')
}

/// Whether `needle` occurs in `haystack` once both are normalised, allowing for how a
/// line break after a hyphen comes out of pdftotext:
/// - a hyphenation break the engine made ("manage- ment" in the joined text) reads as
///   the unbroken word;
/// - a break after a real hyphen may lose that hyphen (pdftotext joins "GDPR-" and
///   "compliant" into "GDPRcompliant") or keep it with the line's space ("GDPR- compliant").
///
/// Nothing else is forgiven: every other character must match exactly, in order.
pub fn contains_text(haystack: &str, needle: &str) -> bool {
    let hay: Vec<char> = normalise(haystack).chars().collect();
    let needle: Vec<char> = normalise(needle).chars().collect();
    if needle.is_empty() {
        return true;
    }
    (0..hay.len()).any(|start| matches_at(&hay, start, &needle, 0))
}

fn matches_at(hay: &[char], h: usize, needle: &[char], n: usize) -> bool {
    if n == needle.len() {
        return true;
    }
    // A hyphen at a line end in the PDF: skip it and the joining space.
    if h > 0
        && h + 1 < hay.len()
        && hay[h - 1] != ' '
        && is_hyphen(hay[h])
        && hay[h + 1] == ' '
        && !is_hyphen(needle[n])
        && needle[n] != ' '
        && matches_at(hay, h + 2, needle, n)
    {
        return true;
    }
    let Some(&c) = hay.get(h) else {
        return false;
    };
    if is_hyphen(needle[n]) {
        // The hyphen is there, possibly followed by the line break's space.
        if is_hyphen(c) {
            if matches_at(hay, h + 1, needle, n + 1) {
                return true;
            }
            if hay.get(h + 1) == Some(&' ') && matches_at(hay, h + 2, needle, n + 1) {
                return true;
            }
        }
        // pdftotext dropped it while joining lines.
        return matches_at(hay, h, needle, n + 1);
    }
    c == needle[n] && matches_at(hay, h + 1, needle, n + 1)
}

/// The short fingerprint `dpa annex fingerprint` implies: first 16 hex digits in groups of 4.
pub fn short_fingerprint(hex: &str) -> String {
    (0..4)
        .map(|i| &hex[i * 4..i * 4 + 4])
        .collect::<Vec<_>>()
        .join(" ")
}

/// The full fingerprint of an annex file, from `dpa annex fingerprint`.
pub fn annex_fingerprint(annex: &Path) -> String {
    let run = ok(dpa_run([
        std::ffi::OsStr::new("annex"),
        "fingerprint".as_ref(),
        annex.as_os_str(),
    ]));
    let hex = run.stdout.split_whitespace().next().unwrap_or_default();
    assert!(
        hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
        "not a fingerprint: {run:#?}"
    );
    hex.to_string()
}

/// Every regular file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The path with a suffix appended to its file name (`X.pdf` -> `X.pdf.minisig`).
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}
