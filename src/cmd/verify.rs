//! `dpa verify`: a plain answer on whether a DPA is the one the vendor signed.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use serde::Serialize;

use dpa::annex_check::AnnexCheck;
use dpa::sign::{Evidence, Verdict};

use crate::cli::VerifyArgs;
use crate::cmd::print_json;

/// Signature files larger than this are not signatures; reading stops there.
const MAX_SIGNATURE_FILE: u64 = 64 * 1024;

#[derive(Debug, Serialize)]
struct Output<'a> {
    #[serde(flatten)]
    verdict: &'a Verdict,
    #[serde(skip_serializing_if = "Option::is_none")]
    annex: Option<&'a AnnexCheck>,
}

pub fn run(args: VerifyArgs) -> Result<ExitCode> {
    dpa::load::regular_file(&args.pdf)
        .with_context(|| format!("cannot read {}", args.pdf.display()))?;
    let minisig = evidence_file(&args.pdf, args.minisig.as_deref(), "minisig")?;
    let sha256 = evidence_file(&args.pdf, args.sha256.as_deref(), "sha256")?;
    let sshsig = evidence_file(&args.pdf, args.sshsig.as_deref(), "sshsig")?;
    let evidence = Evidence {
        minisig: minisig.as_deref(),
        sha256: sha256.as_deref(),
        sshsig: sshsig.as_deref(),
    };
    let mut verdict = dpa::sign::verify_with_key_file(&args.pdf, &evidence, &args.pubkey)?;

    let annex = match &args.annex {
        Some(path) => Some(dpa::annex_check::check(&args.pdf, path, &mut verdict)?),
        None => None,
    };
    if args.json {
        print_json(&Output {
            verdict: &verdict,
            annex: annex.as_ref(),
        })?;
    } else {
        print_human(&verdict, annex.as_ref());
    }
    Ok(if verdict.valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Reads `explicit`, or PDF path + `.ext` if it exists; bounded in size.
fn evidence_file(pdf: &Path, explicit: Option<&Path>, ext: &str) -> Result<Option<Vec<u8>>> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => {
            let mut name = pdf.as_os_str().to_owned();
            name.push(format!(".{ext}"));
            let p = PathBuf::from(name);
            if !p.exists() {
                return Ok(None);
            }
            p
        }
    };
    let file = std::fs::File::open(&path)
        .with_context(|| format!("cannot read the signature file {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(MAX_SIGNATURE_FILE)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read the signature file {}", path.display()))?;
    Ok(Some(bytes))
}

fn print_human(verdict: &Verdict, annex: Option<&AnnexCheck>) {
    if verdict.valid {
        println!("VALID: {} is the document the vendor signed.", verdict.file);
    } else {
        println!("NOT VALID: {}", verdict.file);
        for reason in &verdict.reasons {
            println!("  reason: {reason}");
        }
    }
    if let Some(c) = &verdict.comment {
        println!("  customer:      {}", c.customer);
        println!("  annex version: {}", c.annex);
        println!("  annex sha256:  {}", c.annex_sha256);
        println!("  issued:        {}", c.issued);
        println!("  signed by key: {}", c.key);
    }
    if let Some(id) = &verdict.key_id {
        let fp = verdict.key_fingerprint.as_deref().unwrap_or("");
        println!("  your key:      {id} (SHA-256 {fp})");
    }
    if let Some(sha) = &verdict.sha256 {
        println!("  pdf sha256:    {sha}");
    }
    let checked: Vec<&str> = [
        (verdict.checked.minisig, "minisig"),
        (verdict.checked.sha256, "sha256"),
        (verdict.checked.sshsig, "sshsig"),
    ]
    .into_iter()
    .filter_map(|(done, name)| done.then_some(name))
    .collect();
    if !checked.is_empty() {
        println!("  checked:       {}", checked.join(", "));
    }
    for warning in &verdict.warnings {
        println!("  note: {warning}");
    }
    if let Some(a) = annex {
        match a.matches {
            Some(true) => println!(
                "  annex file {} (version {}) is the signed annex.",
                a.file, a.version
            ),
            Some(false) => match &a.differences {
                Some(diff) => {
                    println!(
                        "  how {} differs from the annex signed in this document:",
                        a.file
                    );
                    for line in diff.render_table().lines() {
                        println!("    {line}");
                    }
                }
                None => println!(
                    "  to list the providers that differ: dpa annex diff <published annex {}> {}",
                    a.signed_version.as_deref().unwrap_or("?"),
                    a.file
                ),
            },
            None => println!(
                "  annex file {} not compared: the signature did not verify, so which annex was signed is unknown.",
                a.file
            ),
        }
    }
}
