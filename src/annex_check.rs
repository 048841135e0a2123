//! Checking a verified document against an annex file (`dpa verify --annex`).
//!
//! In: the PDF's path, its [`Verdict`] and an annex file. Out: an [`AnnexCheck`] (does the
//! annex match the one signed, and if not, how it differs from the annex embedded in the
//! PDF), and the verdict with [`Reason::AnnexMismatch`] added when it does not match, so
//! that the one verdict, printed or serialised, answers both questions.

// The load error is made once per run, at most; its size does not matter.
#![allow(clippy::result_large_err)]

use std::path::Path;

use serde::Serialize;

use crate::annex::diff::AnnexDiff;
use crate::load::LoadError;
use crate::model::Annex;
use crate::sign::{Reason, Verdict};

/// Documents larger than this are not searched for their embedded annex.
const MAX_PDF_FOR_ANNEX: u64 = 64 * 1024 * 1024;

/// The result of comparing an annex file with the one a document was signed with.
#[derive(Debug, Clone, Serialize)]
pub struct AnnexCheck {
    pub file: String,
    pub version: String,
    pub fingerprint: String,
    /// `None` when the signature did not verify, so which annex was signed is unknown.
    pub matches: Option<bool>,
    /// The annex version and fingerprint named in the verified signature.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_fingerprint: Option<String>,
    /// How the given annex differs from the one embedded in the signed PDF.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub differences: Option<AnnexDiff>,
}

/// Compares `annex_path` with the annex `verdict` says was signed; a mismatch makes the
/// verdict not valid, with its reason.
pub fn check(
    pdf: &Path,
    annex_path: &Path,
    verdict: &mut Verdict,
) -> Result<AnnexCheck, LoadError> {
    let annex = crate::load::annex(annex_path)?;
    let fingerprint = crate::annex::fingerprint(&annex).hex();
    // Only a verified signature says which annex was signed.
    let signed = verdict.comment.clone();
    let differences = signed
        .as_ref()
        .filter(|c| verdict.valid && c.annex_sha256 != fingerprint)
        .and_then(|c| signed_annex(pdf, &c.annex_sha256))
        .and_then(|signed| crate::annex::diff::diff(&signed, &annex).ok());
    let check = AnnexCheck {
        differences,
        file: if annex_path == Path::new(crate::load::STDIN) {
            "<stdin>".to_string()
        } else {
            annex_path.display().to_string()
        },
        version: annex.version,
        matches: signed.as_ref().map(|c| c.annex_sha256 == fingerprint),
        fingerprint,
        signed_version: signed.as_ref().map(|c| c.annex.clone()),
        signed_fingerprint: signed.as_ref().map(|c| c.annex_sha256.clone()),
    };
    if check.matches == Some(false) {
        verdict.valid = false;
        verdict.reasons.push(Reason::AnnexMismatch {
            file: check.file.clone(),
            version: check.version.clone(),
            fingerprint: check.fingerprint.clone(),
            signed_version: check.signed_version.clone().unwrap_or_default(),
            signed_fingerprint: check.signed_fingerprint.clone().unwrap_or_default(),
        });
    }
    Ok(check)
}

/// The annex embedded in a verified PDF, if its SHA-256 is the signed fingerprint.
fn signed_annex(pdf: &Path, signed_fingerprint: &str) -> Option<Annex> {
    if std::fs::metadata(pdf).ok()?.len() > MAX_PDF_FOR_ANNEX {
        return None;
    }
    let bytes = std::fs::read(pdf).ok()?;
    let json = crate::pdf::attachment(&bytes, crate::compose::ANNEX_ATTACHMENT).ok()??;
    if crate::sign::sha256_hex(&json) != signed_fingerprint {
        return None;
    }
    serde_json::from_slice(&json).ok()
}
