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
