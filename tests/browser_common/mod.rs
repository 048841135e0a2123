//! Shared by the tests that drive the verification page in headless Chromium: what the
//! driver (tests/browser/verify-page.mjs) reports per case, and installing its one npm
//! dependency (playwright-core, no browser download) when it is missing.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

use serde::Deserialize;

/// What the driver saw for one case, as a person reading the page would.
#[derive(Debug, Deserialize)]
pub struct Seen {
    pub name: String,
    /// `data-valid` of the verdict: "true", "false", or none while waiting.
    pub valid: Option<String>,
    /// `data-reason` of the verdict.
    pub reason: Option<String>,
    /// The verdict's text, in reading order.
    pub text: String,
    pub vendor: String,
    #[serde(rename = "docTitle")]
    pub doc_title: String,
    pub scripts: usize,
    pub requests: Vec<String>,
    pub console: Vec<String>,
    pub errors: Vec<String>,
}

/// Runs `npm ci` in `browser_dir` unless playwright-core is already there.
pub fn ensure_node_modules(browser_dir: &Path) -> Result<(), String> {
    if browser_dir
        .join("node_modules/playwright-core/package.json")
        .exists()
    {
        return Ok(());
    }
    let out = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--prefix"])
        .arg(browser_dir)
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
        .output()
        .map_err(|e| format!("cannot run npm: {e}\nhint: apt-get install nodejs npm"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "npm ci failed:\n{}\nhint: needs node and npm (apt-get install nodejs npm)",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// A small PDF-like file: `body` (objects) after the header, then a real cross-reference
/// section and a trailer whose `startxref` points at it, so that a revision appended to it
/// is one by both checkers' account (src/sign/pdfsig.rs `revisions`, the page's
/// `revisionEnds`).
pub fn pdf_with_trailer(body: &str) -> Vec<u8> {
    let mut pdf = format!("%PDF-1.7\n{body}").into_bytes();
    let xref = pdf.len();
    pdf.extend_from_slice(
        format!(
            "xref\n0 2\n0000000000 65535 f \n0000000009 00000 n \ntrailer << /Size 2 /Info 1 0 R >>\n\
             startxref\n{xref}\n%%EOF\n"
        )
        .as_bytes(),
    );
    pdf
}

/// `pdf` with a second revision appended, as a customer who signs in place appends one: its
/// trailer points at its own cross-reference section, or, when `trailer` is false, there is
/// no `startxref` and so no second revision.
pub fn with_revision(pdf: &[u8], trailer: bool) -> Vec<u8> {
    let mut out = pdf.to_vec();
    out.extend_from_slice(b"2 0 obj << /Note (signed in place) >> endobj\n");
    let xref = out.len();
    let tail = if trailer {
        format!(
            "xref\n2 1\n{:010} 00000 n \ntrailer << /Size 3 /Info 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            pdf.len()
        )
    } else {
        "trailer << /Size 3 /Info 1 0 R >>\n%%EOF\n".to_string()
    };
    out.extend_from_slice(tail.as_bytes());
    out
}
