//! `dpa verify`: a plain answer on whether a DPA is the one the vendor signed.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use serde::Serialize;

use dpa::sign::{Evidence, Verdict};
use dpa::untrusted::{Escaped, path as shown};

use crate::cli::VerifyArgs;
use crate::cmd::is_stdin;
use crate::cmd::print::{self, say};

/// Signature files larger than this are not signatures; reading stops there.
const MAX_SIGNATURE_FILE: u64 = 64 * 1024;

/// The result of `--annex`: does the given annex file match the one signed?
#[derive(Debug, Serialize)]
struct AnnexCheck {
    file: String,
    version: String,
    fingerprint: String,
    /// `None` when the signature did not verify, so which annex was signed is unknown.
    matches: Option<bool>,
    /// The annex version and fingerprint named in the verified signature.
    #[serde(skip_serializing_if = "Option::is_none")]
    signed_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    signed_fingerprint: Option<String>,
    /// How the given annex differs from the one embedded in the signed PDF.
    #[serde(skip_serializing_if = "Option::is_none")]
    differences: Option<dpa::annex::diff::AnnexDiff>,
}

impl AnnexCheck {
    /// The reason the document is not valid for this annex, in words.
    fn mismatch(&self) -> Option<String> {
        (self.matches == Some(false)).then(|| {
            format!(
                "the annex file {} (version {}, sha256 {}) is not the annex this document was signed with (version {}, sha256 {})",
                self.file,
                self.version,
                self.fingerprint,
                self.signed_version.as_deref().unwrap_or("?"),
                self.signed_fingerprint.as_deref().unwrap_or("?"),
            )
        })
    }
}

#[derive(Debug, Serialize)]
struct Output<'a> {
    #[serde(flatten)]
    verdict: &'a Verdict,
    #[serde(skip_serializing_if = "Option::is_none")]
    annex: Option<&'a AnnexCheck>,
}

pub fn run(args: VerifyArgs) -> Result<ExitCode> {
    if is_stdin(&args.pdf) {
        anyhow::bail!(
            "the PDF must be a file, not standard input: its name and the signature files beside it are part of the check"
        );
    }
    if !args.pdf.is_file() {
        anyhow::bail!("cannot read {}: no such file", shown(&args.pdf));
    }
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
        Some(path) => Some(check_annex(path, &args.pdf, &verdict)?),
        None => None,
    };
    let annex_mismatch = annex.as_ref().and_then(AnnexCheck::mismatch);
    if annex_mismatch.is_some() {
        verdict.valid = false;
    }

    let code = if verdict.valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    };
    let printed = if args.json {
        print_json(&verdict, annex.as_ref(), annex_mismatch.is_some())
    } else if !print::quiet() {
        print_human(&verdict, annex.as_ref()).map_err(Into::into)
    } else {
        Ok(())
    };
    print::answer(printed, code)
}

fn print_json(verdict: &Verdict, annex: Option<&AnnexCheck>, mismatch: bool) -> Result<()> {
    let mut json = serde_json::to_value(Output { verdict, annex })?;
    // The annex is checked here, not by the signature library, so its reason joins
    // the library's list here too: scripts read one list of reasons.
    if let (Some(check), Some(reasons)) = (
        annex.filter(|_| mismatch),
        json.get_mut("reasons").and_then(|r| r.as_array_mut()),
    ) {
        reasons.push(serde_json::json!({
            "reason": "annex_mismatch",
            "file": check.file,
            "version": check.version,
            "fingerprint": check.fingerprint,
            "signed_version": check.signed_version,
            "signed_fingerprint": check.signed_fingerprint,
        }));
    }
    print::json(&json)
}

/// Documents larger than this are not searched for their embedded annex.
const MAX_PDF_FOR_ANNEX: u64 = 64 * 1024 * 1024;

/// The annex embedded in a verified PDF, if its SHA-256 is the signed fingerprint.
fn signed_annex(pdf: &Path, signed_fingerprint: &str) -> Option<dpa::model::Annex> {
    if std::fs::metadata(pdf).ok()?.len() > MAX_PDF_FOR_ANNEX {
        return None;
    }
    let bytes = std::fs::read(pdf).ok()?;
    let json = dpa::pdf::attachment(&bytes, dpa::assemble::ANNEX_ATTACHMENT).ok()??;
    if dpa::sign::sha256_hex(&json) != signed_fingerprint {
        return None;
    }
    serde_json::from_slice(&json).ok()
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
        .with_context(|| format!("cannot read the signature file {}", shown(&path)))?;
    let mut bytes = Vec::new();
    file.take(MAX_SIGNATURE_FILE)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read the signature file {}", shown(&path)))?;
    Ok(Some(bytes))
}

fn check_annex(path: &Path, pdf: &Path, verdict: &Verdict) -> Result<AnnexCheck> {
    let annex = dpa::load::annex(path)?;
    let fingerprint = dpa::annex::fingerprint(&annex).hex();
    // Only a verified signature says which annex was signed.
    let signed = verdict.comment.as_ref();
    let differences = signed
        .filter(|c| verdict.valid && c.annex_sha256 != fingerprint)
        .and_then(|c| signed_annex(pdf, &c.annex_sha256))
        .and_then(|signed| dpa::annex::diff::diff(&signed, &annex).ok());
    Ok(AnnexCheck {
        differences,
        file: if is_stdin(path) {
            "<stdin>".to_string()
        } else {
            path.display().to_string()
        },
        version: annex.version,
        matches: signed.map(|c| c.annex_sha256 == fingerprint),
        fingerprint,
        signed_version: signed.map(|c| c.annex.clone()),
        signed_fingerprint: signed.map(|c| c.annex_sha256.clone()),
    })
}

fn print_human(verdict: &Verdict, annex: Option<&AnnexCheck>) -> std::io::Result<()> {
    let annex_mismatch = annex.and_then(AnnexCheck::mismatch);
    let file = Escaped(&verdict.file);
    if verdict.valid {
        say!("VALID: {file} is the document the vendor signed.")?;
    } else {
        say!("NOT VALID: {file}")?;
        for reason in &verdict.reasons {
            say!("  reason: {}", Escaped(&reason.to_string()))?;
        }
        if let Some(reason) = &annex_mismatch {
            say!("  reason: {}", Escaped(reason))?;
        }
    }
    if let Some(c) = &verdict.comment {
        say!("  customer:      {}", Escaped(&c.customer))?;
        say!("  annex version: {}", Escaped(&c.annex))?;
        say!("  annex sha256:  {}", Escaped(&c.annex_sha256))?;
        say!("  issued:        {}", c.issued)?;
        say!("  signed by key: {}", c.key)?;
    }
    if let Some(id) = &verdict.key_id {
        let fp = verdict.key_fingerprint.as_deref().unwrap_or("");
        say!("  your key:      {id} (SHA-256 {fp})")?;
    }
    if let Some(sha) = &verdict.sha256 {
        say!("  pdf sha256:    {sha}")?;
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
        say!("  checked:       {}", checked.join(", "))?;
    }
    for warning in &verdict.warnings {
        say!("  note: {}", Escaped(&warning.to_string()))?;
    }
    if let Some(a) = annex {
        let annex_file = Escaped(&a.file);
        match a.matches {
            Some(true) => say!(
                "  annex file {annex_file} (version {}) is the signed annex.",
                Escaped(&a.version)
            )?,
            Some(false) => match &a.differences {
                Some(diff) => {
                    say!("  how {annex_file} differs from the annex signed in this document:")?;
                    for line in diff.render_table().lines() {
                        say!("    {}", Escaped(line))?;
                    }
                }
                None => say!(
                    "  to list the providers that differ: dpa annex diff <published annex {}> {annex_file}",
                    Escaped(a.signed_version.as_deref().unwrap_or("?"))
                )?,
            },
            None => say!(
                "  annex file {annex_file} not compared: the signature did not verify, so which annex was signed is unknown."
            )?,
        }
    }
    Ok(())
}
