//! The browser page against real DPAs: `dpa generate` makes two customers' DPAs with the
//! demo key, `dpa verifier` makes the page, headless Chromium (tests/browser driver) checks
//! them from file:// — genuine, one flipped byte, another DPA's signature, an edited trusted
//! comment, and a page made for another key — and the page requests nothing but itself.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

mod browser_common;

use browser_common::{Seen, ensure_node_modules};

struct Run {
    seen: HashMap<String, Seen>,
    pages: HashMap<String, String>,
    _dir: tempfile::TempDir,
}

fn dpa(dir: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new(env!("CARGO_BIN_EXE_dpa"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .env_remove("DPA_SIGNING_KEY")
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "dpa {args:?} in {}: {}{}",
            dir.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn build() -> Result<Run, String> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let browser_dir = manifest.join("tests/browser");
    ensure_node_modules(&browser_dir)?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let d = dir.path();
    let out = d.join("out");
    let out_s = out.to_str().ok_or("temp path is not UTF-8")?;
    for customer in ["mueller-soehne", "acme-widgets-us"] {
        dpa(
            d,
            &[
                "generate",
                "--customer",
                &format!("fixtures/customers/{customer}.toml"),
                "--out",
                out_s,
            ],
        )?;
    }
    let name = "segmetrics-inc-dpa-2026-05-26.pdf";
    let mueller = out.join("mueller-soehne").join(name);
    let mueller_sig = out.join("mueller-soehne").join(format!("{name}.minisig"));
    let acme_sig = out.join("acme-widgets-us").join(format!("{name}.minisig"));

    let write = |p: PathBuf, bytes: &[u8]| -> Result<PathBuf, String> {
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        fs::write(&p, bytes).map_err(|e| e.to_string())?;
        Ok(p)
    };
    let mut bytes = fs::read(&mueller).map_err(|e| e.to_string())?;
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    let flipped = write(d.join("flipped").join(name), &bytes)?;
    let sig_text = fs::read_to_string(&mueller_sig).map_err(|e| e.to_string())?;
    let edited_text = sig_text.replace("customer=mueller-soehne", "customer=acme-widgets-us");
    if edited_text == sig_text {
        return Err("the trusted comment does not name the customer".into());
    }
    let edited = write(
        d.join("edited").join(format!("{name}.minisig")),
        edited_text.as_bytes(),
    )?;

    let page = d.join("verify.html");
    dpa(
        d,
        &[
            "verifier",
            "--pubkey",
            "fixtures/keys/demo-only.minisign.pub",
            "--out",
            page.to_str().ok_or("temp path is not UTF-8")?,
        ],
    )?;
    let other_keys = d.join("other-keys");
    dpa(d, &["keygen", "--out", other_keys.to_str().ok_or("path")?])?;
    let other_page = d.join("verify-other.html");
    dpa(
        d,
        &[
            "verifier",
            "--pubkey",
            other_keys
                .join("signing.minisign.pub")
                .to_str()
                .ok_or("path")?,
            "--vendor-name",
            "Another Vendor Ltd",
            "--out",
            other_page.to_str().ok_or("path")?,
        ],
    )?;

    let shots = std::env::var_os("DPA_VERIFIER_SCREENSHOTS").map(PathBuf::from);
    let case = |n: &str, page: &Path, pdf: &Path, sig: &Path| {
        let mut c = serde_json::json!({ "name": n, "page": page, "pdf": pdf, "minisig": sig, "via": "inputs" });
        if let Some(dir) = &shots {
            c["screenshot"] = serde_json::json!(dir.join(format!("dpa-{n}.png")));
        }
        c
    };
    let cases = vec![
        case("genuine", &page, &mueller, &mueller_sig),
        case("flipped", &page, &flipped, &mueller_sig),
        case("other-dpa", &page, &mueller, &acme_sig),
        case("edited-comment", &page, &mueller, &edited),
        case("other-key-page", &other_page, &mueller, &mueller_sig),
    ];
    let plan = write(
        d.join("plan.json"),
        serde_json::json!({ "cases": cases }).to_string().as_bytes(),
    )?;
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let out = Command::new("node")
        .arg(browser_dir.join("verify-page.mjs"))
        .arg(&plan)
        .env("CHROMIUM", &chromium)
        .output()
        .map_err(|e| format!("node: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "driver failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let seen: Vec<Seen> = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    let pages = cases
        .iter()
        .map(|c| {
            let name = c["name"].as_str().unwrap_or_default().to_string();
            let page = format!("file://{}", c["page"].as_str().unwrap_or_default());
            (name, page)
        })
        .collect();
    Ok(Run {
        seen: seen.into_iter().map(|s| (s.name.clone(), s)).collect(),
        pages,
        _dir: dir,
    })
}

fn run() -> &'static Run {
    static RUN: OnceLock<Result<Run, String>> = OnceLock::new();
    match RUN.get_or_init(build) {
        Ok(run) => run,
        Err(e) => panic!("could not run the browser test: {e}"),
    }
}

fn verdict(name: &str, valid: &str, reason: &str, words: &[&str]) {
    let s = &run().seen[name];
    assert_eq!(s.valid.as_deref(), Some(valid), "{name}: {s:#?}");
    assert_eq!(s.reason.as_deref(), Some(reason), "{name}: {s:#?}");
    for w in words {
        assert!(
            s.text.contains(w),
            "{name}: verdict lacks {w:?}: {}",
            s.text
        );
    }
}

#[test]
fn genuine_dpa_is_valid_with_its_customer_and_annex() {
    verdict(
        "genuine",
        "true",
        "valid",
        &["mueller-soehne", "2026-05-26", "4A988A749CF5D816"],
    );
}

#[test]
fn flipped_byte_is_an_altered_document() {
    verdict("flipped", "false", "altered", &[]);
}

#[test]
fn another_dpas_signature_is_refused() {
    // Same file name, other customer's document: the hashes differ.
    let s = &run().seen["other-dpa"];
    assert_eq!(s.valid.as_deref(), Some("false"), "{s:#?}");
    assert!(
        matches!(s.reason.as_deref(), Some("altered" | "other-document")),
        "{s:#?}"
    );
}

#[test]
fn edited_trusted_comment_is_refused() {
    // The file signature still holds, so only the comment changed: the verdict `dpa verify` gives.
    verdict("edited-comment", "false", "edited-comment", &["edited"]);
}

#[test]
fn page_for_another_key_says_different_key() {
    verdict("other-key-page", "false", "different-key", &[]);
}

#[test]
fn page_requests_nothing_but_itself() {
    let run = run();
    for (name, s) in &run.seen {
        assert_eq!(s.requests, vec![run.pages[name].clone()], "{name}");
    }
}
