//! The vendor's revision of a PDF and everything added after it: one answer for `dpa
//! verify` and `dpa accept` on a document that may have been countersigned.
//!
//! In: the bytes of a PDF, where the vendor's revision ends (found by the caller: the
//! prefix its detached signatures or its register row cover) and the trust anchors the
//! user gave. Out: a [`VendorRevision`]: the vendor's certification signature over exactly
//! that revision (intact, trusted or not, its signer), each later signature (who, when,
//! intact; customers' certificates are evidence, not trusted), what the later revisions
//! changed, and every reason the whole is not valid. [`earlier_revision_with_sha256`] finds
//! the vendor's revision among the revision ends of a file.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::changes::{self, Change};
use super::pdfsig::{self, Revision, SignatureVerdict};
use super::pkix::TrustAnchors;

/// The vendor's revision and what came after it.
#[derive(Debug, Clone, Serialize)]
pub struct VendorRevision {
    /// The vendor's revision: 1 for a file as issued, more when something precedes it.
    pub revision: usize,
    /// Its length: the file's first `end` bytes are the vendor's document.
    pub end: usize,
    /// The number of revisions in the file.
    pub revisions: usize,
    /// True when the file is exactly the vendor's revision (nothing added).
    pub whole_file: bool,
    /// The vendor's embedded certification signature, covering exactly that revision;
    /// `None` for a document issued without one.
    pub certification: Option<SignatureVerdict>,
    /// Whether the vendor's certificate was checked against a root the user gave.
    pub trust_checked: bool,
    /// Signatures over later revisions (countersignatures), oldest first.
    pub later_signatures: Vec<SignatureVerdict>,
    /// Every change after the vendor's revision, permitted or not.
    pub changes: Vec<Change>,
    /// True when every change after the vendor's revision is permitted by its
    /// certification (filling in and signing the signature fields).
    pub only_permitted_changes: bool,
    /// Every reason the vendor's document, or what was added to it, is not valid.
    pub reasons: Vec<String>,
    /// Why nothing inside the PDF was examined (not a readable PDF, too large), when so;
    /// the detached signatures still decide.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_examined: Option<String>,
}

impl VendorRevision {
    /// The answer when the PDF's insides were not examined, and why.
    pub fn not_examined(len: usize, why: String) -> VendorRevision {
        VendorRevision {
            revision: 0,
            end: len,
            revisions: 0,
            whole_file: true,
            certification: None,
            trust_checked: false,
            later_signatures: Vec::new(),
            changes: Vec::new(),
            only_permitted_changes: true,
            reasons: Vec::new(),
            not_examined: Some(why),
        }
    }

    /// True when the vendor's signature holds, nothing but permitted changes followed
    /// and every later signature is intact.
    pub fn valid(&self) -> bool {
        self.reasons.is_empty()
    }

    /// The later signatures that are intact, by signer subject: who countersigned.
    pub fn countersigned_by(&self) -> Vec<String> {
        self.later_signatures
            .iter()
            .filter(|s| s.valid())
            .filter_map(|s| s.signer.as_ref().map(|c| c.subject.clone()))
            .collect()
    }
}

/// The latest revision that ends before the end of `bytes` and whose bytes have the SHA-256
/// `signed` (lower-case hex): the vendor's document, in a file signed in place after it.
///
/// The file is hashed once, the hash's state copied at each revision end, so a file of many
/// revisions costs one pass, not one hash per revision.
pub fn earlier_revision_with_sha256(bytes: &[u8], signed: &str) -> Option<Revision> {
    let mut hasher = Sha256::new();
    let mut hashed = 0;
    let mut found = None;
    for revision in pdfsig::revisions(bytes) {
        if revision.end >= bytes.len() {
            break;
        }
        hasher.update(&bytes[hashed..revision.end]);
        hashed = revision.end;
        if hex::encode(hasher.clone().finalize()) == signed {
            found = Some(revision);
        }
    }
    found
}

/// The end of the revision the file's first certification signature covers, when it
/// has one whose byte range reaches a revision end: where the vendor's document ends by
/// the PDF's own account (for when the detached signatures do not say).
pub fn certified_end(bytes: &[u8]) -> Option<usize> {
    let inspection = pdfsig::inspect(bytes).ok()?;
    let number = inspection
        .signatures
        .iter()
        .find(|s| s.certification.is_some())?
        .revision?;
    inspection
        .revisions
        .iter()
        .find(|r| r.number == number)
        .map(|r| r.end)
}

/// Examines `bytes` as the vendor's document of `end` bytes plus what was appended.
///
/// `end` must be a revision end (from [`earlier_revision_with_sha256`] or a register row);
/// otherwise the answer is "not valid" with that reason. Never panics on hostile input.
pub fn examine(bytes: &[u8], end: usize, anchors: &TrustAnchors) -> VendorRevision {
    let verdict = pdfsig::verify(bytes, anchors);
    let revision = verdict
        .revisions
        .iter()
        .find(|r| r.end == end)
        .map_or(0, |r| r.number);
    let mut out = VendorRevision {
        revision,
        end,
        revisions: verdict.revisions.len(),
        whole_file: end == bytes.len(),
        certification: None,
        trust_checked: !anchors.is_empty(),
        later_signatures: Vec::new(),
        changes: Vec::new(),
        only_permitted_changes: true,
        reasons: Vec::new(),
        not_examined: None,
    };
    // A file no PDF reader can open has no signature inside to check: the detached
    // signatures alone decide, as for a document issued without one, when they cover the
    // whole file. Bytes added after the vendor's document could change anything a reader
    // shows, so an addition that cannot be examined is not valid.
    let unexamined = if let Some(unreadable) = &verdict.unreadable {
        Some(format!("it cannot be read as a PDF: {unreadable}"))
    } else if revision == 0 && verdict.signatures.is_empty() {
        Some("it has no signature inside".into())
    } else {
        None
    };
    if let Some(why) = unexamined {
        if !out.whole_file {
            out.reasons.push(format!(
                "{} bytes were added after the vendor's document, which ends at byte {end}, and what they change cannot be checked: {why}",
                bytes.len().saturating_sub(end)
            ));
            out.only_permitted_changes = false;
        }
        out.not_examined = Some(why);
        return out;
    }
    if revision == 0 {
        out.reasons.push(format!(
            "no revision of the file ends at byte {end}, where the vendor's document ends"
        ));
        return out;
    }
    for sig in verdict.signatures {
        let field = sig
            .signature
            .field
            .clone()
            .unwrap_or_else(|| "(no field)".into());
        match sig.signature.revision {
            Some(r) if r == revision && out.certification.is_none() => {
                out.certification = Some(sig)
            }
            Some(r) if r > revision => out.later_signatures.push(sig),
            // Not over a revision: its byte range is broken (every reason is given), or
            // it covers less than the vendor's document.
            _ if !sig.reasons.is_empty() => out.reasons.push(format!(
                "the signature in field {field} does not hold: {}",
                sig.reasons.join("; ")
            )),
            _ => out.reasons.push(format!(
                "the signature in field {field} covers only part of the vendor's document"
            )),
        }
    }
    let level = out
        .certification
        .as_ref()
        .and_then(|c| c.signature.certification)
        .unwrap_or(2);
    if let Some(cert) = &out.certification {
        let field = cert.signature.field.as_deref().unwrap_or("(no field)");
        if cert.signature.certification.is_none() {
            out.reasons.push(format!(
                "the vendor's signature in field {field} is not a certification signature, so it does not limit later changes"
            ));
        }
        // Its own reasons include the changes after it that its level forbids; those are
        // listed once, below, from the changes themselves.
        let forbidden: Vec<String> = cert
            .changes_after
            .iter()
            .filter(|c| !c.permitted_under(level))
            .map(|c| format!("after it was signed, {c}"))
            .collect();
        for reason in &cert.reasons {
            if !forbidden.contains(reason) {
                out.reasons
                    .push(format!("the vendor's signature in field {field}: {reason}"));
            }
        }
        if !cert.intact && cert.reasons.is_empty() {
            out.reasons.push(format!(
                "the vendor's signature in field {field} does not verify"
            ));
        }
        if out.trust_checked && !cert.trusted() && cert.valid() {
            let why = match &cert.trust {
                Some(super::cms::Trust::Untrusted { problem }) => problem.to_string(),
                _ => "its certificate could not be checked".into(),
            };
            out.reasons.push(format!(
                "the vendor's signature in field {field} is not by a certificate of the root you gave: {why}"
            ));
        }
        out.changes = cert.changes_after.clone();
    } else if !out.whole_file {
        out.changes = changes::changes(bytes, end);
    }
    let forbidden: Vec<&Change> = out
        .changes
        .iter()
        .filter(|c| !c.permitted_under(level))
        .collect();
    out.only_permitted_changes = forbidden.is_empty();
    for change in forbidden {
        out.reasons.push(format!(
            "after the vendor's document, {change}: only signing the empty signature fields is permitted"
        ));
    }
    for sig in &out.later_signatures {
        let field = sig.signature.field.as_deref().unwrap_or("(no field)");
        if !sig.intact || !sig.signature.problems.is_empty() {
            let why = sig
                .reasons
                .first()
                .cloned()
                .unwrap_or_else(|| "it does not verify".into());
            out.reasons
                .push(format!("the later signature in field {field}: {why}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_has_nothing_to_examine_and_never_panics() {
        for bad in [&b""[..], b"%PDF-", b"hello", b"%PDF-1.7\n%%EOF"] {
            let v = examine(bad, bad.len(), &TrustAnchors::default());
            assert!(v.not_examined.is_some(), "{bad:?}");
            assert!(v.certification.is_none() && v.later_signatures.is_empty());
        }
    }

    #[test]
    fn an_addition_that_cannot_be_examined_is_not_valid() {
        // The vendor's document is the first revision; what follows cannot be read as a PDF
        // (or holds no signature), so nothing shows what it changes.
        let mut pdf = b"%PDF-1.7\nxref\n0 1\ntrailer<<>>\nstartxref\n9\n%%EOF\n".to_vec();
        let first = pdf.len();
        let whole = examine(&pdf, first, &TrustAnchors::default());
        assert!(whole.not_examined.is_some() && whole.valid(), "{whole:?}");
        pdf.extend_from_slice(b"1 0 obj << /Contents (changed) >> endobj\n%%EOF\n");
        let added = examine(&pdf, first, &TrustAnchors::default());
        assert!(added.not_examined.is_some(), "{added:?}");
        assert!(!added.valid() && !added.only_permitted_changes, "{added:?}");
        assert!(
            added.reasons[0].contains("bytes were added after the vendor's document"),
            "{added:?}"
        );
    }

    #[test]
    fn the_vendor_revision_is_the_latest_earlier_one_with_the_signed_hash() {
        let sha = |b: &[u8]| hex::encode(Sha256::digest(b));
        let mut pdf = b"%PDF-1.7\nxref\n0 1\ntrailer<<>>\nstartxref\n9\n%%EOF\n".to_vec();
        let first = pdf.len();
        pdf.extend_from_slice(format!("1 0 obj<<>>endobj\nstartxref\n{first}\n%%EOF\n").as_bytes());
        let second = pdf.len();
        pdf.extend_from_slice(
            format!("2 0 obj<<>>endobj\nstartxref\n{second}\n%%EOF\n").as_bytes(),
        );
        let found = earlier_revision_with_sha256(&pdf, &sha(&pdf[..first])).unwrap();
        assert_eq!((found.number, found.end), (1, first));
        let found = earlier_revision_with_sha256(&pdf, &sha(&pdf[..second])).unwrap();
        assert_eq!((found.number, found.end), (2, second));
        // The whole file is not an earlier revision; a hash of no revision finds nothing.
        assert!(earlier_revision_with_sha256(&pdf, &sha(&pdf)).is_none());
        assert!(earlier_revision_with_sha256(&pdf, &sha(b"other")).is_none());
    }

    #[test]
    fn many_revisions_are_hashed_in_one_pass() {
        // 20,000 revisions of 40 bytes: one hash per revision would read 8 GB.
        let mut pdf = b"%PDF-1.7\nxref\n0 1\ntrailer<<>>\nstartxref\n9\n%%EOF\n".to_vec();
        let first = pdf.len();
        for _ in 0..20_000 {
            let at = pdf.len();
            pdf.extend_from_slice(format!("xref\nstartxref\n{at}\n%%EOF\n").as_bytes());
        }
        let signed = hex::encode(Sha256::digest(&pdf[..first]));
        let found = earlier_revision_with_sha256(&pdf, &signed).unwrap();
        assert_eq!(found.end, first);
    }
}
