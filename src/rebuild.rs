//! Rebuilds a signed DPA from its inputs and the issue date its signature records, and
//! says whether the result is the same bytes.
//!
//! In: an [`Issuer`] loaded with the inputs (vendor, annex, template, key), the customer,
//! the verified trusted comment and the PDF's bytes. Out: an [`Outcome`]: identical, or
//! the first difference, named by input where the signed comment or the PDF records it
//! (document file name, customer id, annex fingerprint, signing key, engine version), and
//! otherwise by the first differing byte. The rebuild is what the issuing layer makes
//! (`Issuer::make`), so it covers whatever that layer puts in the PDF, such as an
//! embedded signature.

use serde::Serialize;

use crate::compose::Kind;
use crate::issue::{IssueError, Issuer};
use crate::model::Customer;
use crate::sign::TrustedComment;

/// What a rebuild found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Outcome {
    /// The inputs and the recorded issue date make this PDF byte for byte.
    Identical,
    /// They do not; `input` names the first input found to differ.
    Differs {
        /// `file`, `customer`, `annex`, `key`, `engine` or `document` (the bytes differ
        /// though every recorded input matches).
        input: &'static str,
        /// One sentence for a person.
        detail: String,
        /// The offset of the first differing byte, when the rebuild was compared.
        first_byte: Option<usize>,
    },
}

fn differs(input: &'static str, detail: String, first_byte: Option<usize>) -> Outcome {
    Outcome::Differs {
        input,
        detail,
        first_byte,
    }
}

/// Rebuilds the DPA that `comment` describes and compares it with `pdf`.
pub fn rebuild(
    issuer: &Issuer,
    customer: &Customer,
    comment: &TrustedComment,
    pdf: &[u8],
) -> Result<Outcome, IssueError> {
    let c = issuer.composer();
    let expected = c.file_name(Kind::Dpa);
    if comment.file != expected {
        return Ok(differs(
            "file",
            format!(
                "the signature is for {}; these inputs make {expected}",
                comment.file
            ),
            None,
        ));
    }
    if comment.customer != customer.id {
        return Ok(differs(
            "customer",
            format!(
                "the document is for customer `{}`; the customer file is for `{}`",
                comment.customer, customer.id
            ),
            None,
        ));
    }
    let fingerprint = c.fingerprint().hex();
    if comment.annex_sha256 != fingerprint {
        return Ok(differs(
            "annex",
            format!(
                "the document was signed with annex {} (fingerprint {}); the annex file is version {} (fingerprint {fingerprint})",
                comment.annex,
                comment.annex_sha256,
                c.annex().version
            ),
            None,
        ));
    }
    let key = issuer.keys().key_id();
    if comment.key != key {
        return Ok(differs(
            "key",
            format!(
                "the document was signed with key {}; the signing key given is {key}",
                comment.key
            ),
            None,
        ));
    }
    let made = issuer.make(Kind::Dpa, customer, comment.issued)?;
    if made.pdf == pdf {
        return Ok(Outcome::Identical);
    }
    let first = made
        .pdf
        .iter()
        .zip(pdf)
        .position(|(a, b)| a != b)
        .unwrap_or(made.pdf.len().min(pdf.len()));
    let (was, now) = (producer(pdf), producer(&made.pdf));
    if was != now {
        return Ok(differs(
            "engine",
            format!(
                "the document was made by {}; this is {}",
                was.unwrap_or("an unknown program"),
                now.unwrap_or("an unknown program")
            ),
            Some(first),
        ));
    }
    Ok(differs(
        "document",
        "customer id, annex fingerprint, signing key and engine version match, so a field of the customer or vendor file, or the template, differs".to_string(),
        Some(first),
    ))
}

/// The PDF's `/Producer` string, as the engine writes it (a literal string in the
/// uncompressed document information dictionary).
fn producer(pdf: &[u8]) -> Option<&str> {
    const KEY: &[u8] = b"/Producer(";
    let start = pdf.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
    let len = pdf[start..].iter().take(64).position(|&b| b == b')')?;
    std::str::from_utf8(&pdf[start..start + len]).ok()
}
