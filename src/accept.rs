//! Acceptance: what a customer sent back, matched to what was issued, checked, kept as
//! evidence and recorded.
//!
//! In: the returned file's bytes, the checked register and, for `--manual`, what a person
//! says was accepted. Out: an [`Examined`] countersignature or a [`Refusal`] (the answer
//! "not accepted", with its reason), then [`record`] keeps the file in the customer's
//! folder through the issuing session (staged, switched in whole, never replacing other
//! evidence) and appends the acceptance to the register.
//!
//! Matching never looks at file names: the returned file must continue an issued PDF,
//! byte for byte. Every revision end of the returned file (`pdfsig::revisions`) is a
//! candidate length; the SHA-256 of that prefix is looked up among the issued PDFs.
//! The issued part is the vendor's: it matches the register row (which the detached
//! signatures were made over) and, when it carries an embedded certification, that
//! certification must still hold and permit what came after it. Everything after the
//! issued part must be signatures: each verified cryptographically (RSA, ECDSA, Ed25519),
//! and the revisions may only sign the empty field (its appearance, form resources,
//! validation data, metadata). The customer's certificate is their own: it is recorded as
//! evidence and checked against a root only when the user gives one.
//!
//! Order of writes: the evidence file first (switched into the customer's folder whole),
//! then the register row, which is the commit point. A crash in between leaves an evidence
//! file no row refers to, which the next `dpa accept` of the same file finds (same name,
//! same bytes) and records; a row never points at a missing file.

use std::path::Path;

use chrono::NaiveDate;

use crate::issue::{IssueError, Session};
use crate::register::{Acceptance, Event, EventRow, Method, RegisterError, Row, Signer};
use crate::sign::changes::{self, Change};
use crate::sign::pdfsig::{self, PdfVerdict};
use crate::sign::pkix::TrustAnchors;
use crate::untrusted::Escaped;

/// A returned file is read up to this size.
pub const MAX_RETURNED_BYTES: u64 = 256 * 1024 * 1024;

/// Why a returned file is not accepted (an answer, exit code 1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("it is not a readable PDF: {detail}")]
    Unreadable { detail: String },
    #[error(
        "it does not continue any document in the register: no revision of it has the bytes of an issued DPA (a scan, a printout or a file rebuilt by other software is not linked to what was issued)"
    )]
    NoMatch,
    #[error(
        "its first {len} bytes have the length of the document issued to {customer} (register id {id}) but not its SHA-256: the issued part was changed"
    )]
    IssuedPartChanged { id: i64, customer: String, len: u64 },
    #[error(
        "it continues the document issued to {belongs} (register id {id}), not a document of {claimed}"
    )]
    OtherCustomer {
        id: i64,
        belongs: String,
        claimed: String,
    },
    #[error(
        "it is the document issued to {customer} (register id {id}) without a countersignature: nothing was added after the issued bytes"
    )]
    NotCountersigned { id: i64, customer: String },
    #[error("the vendor's embedded signature over the issued revision does not hold: {reason}")]
    VendorSignature { reason: String },
    #[error("nothing after the issued revision is a signature")]
    NoSignature,
    #[error("the signature in field {field} does not hold: {reason}")]
    Signature { field: String, reason: String },
    #[error("after the issued revision, more than signing happened: {}", list(.changes))]
    Changed { changes: Vec<String> },
    #[error(
        "the signature in field {field} ({subject}) does not lead to the root given with --trust: {reason}"
    )]
    Untrusted {
        field: String,
        subject: String,
        reason: String,
    },
}

fn list(items: &[String]) -> String {
    items.join("; ")
}

impl Refusal {
    /// What to do about it, for the `hint:` line.
    pub fn hint(&self) -> Option<String> {
        match self {
            Refusal::NoMatch | Refusal::IssuedPartChanged { .. } | Refusal::Unreadable { .. } => Some(
                "ask the customer for the file their PDF software saved after signing; a scan or a rebuilt file can be recorded with --manual --customer ID --annex VERSION --accepted-on DATE --by \"NAME, TITLE\"".into(),
            ),
            Refusal::OtherCustomer { .. } => Some(
                "check which customer sent the file; without --customer the register's customer is used".into(),
            ),
            Refusal::NotCountersigned { .. } => {
                Some("the customer still has to sign it in their PDF reader".into())
            }
            _ => None,
        }
    }
}

/// Errors accepting or recording (exit code 2): the file, the register, the folder.
#[derive(Debug, thiserror::Error)]
pub enum AcceptError {
    #[error("cannot read {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is larger than {MAX_RETURNED_BYTES} bytes")]
    TooLarge { path: String },
    #[error("no document with annex version {annex} was issued to customer {customer}")]
    Unknown {
        customer: String,
        annex: String,
        issued: Vec<String>,
    },
    #[error(
        "{path} continues the document issued to {customer} (register id {id}): it is linked, not a manual acceptance"
    )]
    NotManual {
        path: String,
        customer: String,
        id: i64,
    },
    #[error("the acceptance date {date} is before the document was issued ({issued})")]
    BeforeIssue { date: NaiveDate, issued: String },
    #[error("the evidence file {name} already exists in {customer}'s folder with other content")]
    EvidenceClash { customer: String, name: String },
    #[error(transparent)]
    Register(#[from] RegisterError),
    #[error(transparent)]
    Issue(#[from] IssueError),
}

impl crate::error::Hint for AcceptError {
    fn hint(&self) -> Option<String> {
        match self {
            AcceptError::Unknown { issued, .. } if issued.is_empty() => Some(
                "check the customer id with `dpa register list`; only customers with an issued document can accept or object".into(),
            ),
            AcceptError::Unknown { issued, .. } => Some(format!(
                "versions issued to this customer: {}",
                issued.join(", ")
            )),
            AcceptError::NotManual { .. } => {
                Some("run `dpa accept FILE` without --manual to verify and record it".into())
            }
            AcceptError::EvidenceClash { .. } => Some(
                "move the existing file away after checking what it is; dpa never overwrites evidence".into(),
            ),
            AcceptError::TooLarge { .. } => {
                Some("a returned DPA is a few hundred kilobytes; check the file".into())
            }
            _ => None,
        }
    }
}

/// Reads a returned file (never more than [`MAX_RETURNED_BYTES`]).
pub fn read(path: &Path) -> Result<Vec<u8>, AcceptError> {
    use std::io::Read;
    let shown = crate::untrusted::path(path).to_string();
    let io = |source| AcceptError::Read {
        path: shown.clone(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(MAX_RETURNED_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_RETURNED_BYTES {
        return Err(AcceptError::TooLarge { path: shown });
    }
    Ok(bytes)
}

/// The issued document a returned file continues: its row and where the issued bytes end.
#[derive(Debug, Clone)]
pub struct Continuation {
    pub row: Row,
    pub end: usize,
}

/// Finds the issued document `bytes` continues: the longest revision prefix whose SHA-256
/// is an issued PDF's (and whose length, when recorded, is the PDF's). `Err` carries the
/// refusal when none does.
pub fn find_issued(
    bytes: &[u8],
    register: &crate::register::Register,
) -> Result<Result<Continuation, Refusal>, RegisterError> {
    let revisions = pdfsig::revisions(bytes);
    let mut found = None;
    for rev in &revisions {
        let sha = crate::sign::sha256_hex(&bytes[..rev.end]);
        if let Some(row) = register.find_pdf(&sha)?.pop()
            && pdf_size(&row).is_none_or(|size| size == rev.end as u64)
        {
            found = Some(Continuation { row, end: rev.end });
        }
    }
    if let Some(c) = found {
        return Ok(Ok(c));
    }
    // No prefix matched: a prefix with an issued PDF's recorded length means the issued
    // part itself was altered, which deserves its own answer.
    for row in register.list(None, None)?.into_iter().rev() {
        if let Some(size) = pdf_size(&row)
            && revisions.iter().any(|r| r.end as u64 == size)
        {
            return Ok(Err(Refusal::IssuedPartChanged {
                id: row.id,
                customer: row.record.customer_id.clone(),
                len: size,
            }));
        }
    }
    if revisions.is_empty() {
        let detail = if bytes.starts_with(b"%PDF-") {
            "no complete revision (`startxref` ... `%%EOF`) was found: the file is truncated or damaged"
        } else {
            "it does not start with %PDF-"
        };
        return Ok(Err(Refusal::Unreadable {
            detail: detail.into(),
        }));
    }
    Ok(Err(Refusal::NoMatch))
}

/// The issued PDF's length as recorded in its row's file list.
fn pdf_size(row: &Row) -> Option<u64> {
    let name = row.record.path.rsplit('/').next()?;
    row.record
        .files
        .iter()
        .find(|f| f.name == name)
        .and_then(|f| f.size)
}

/// A countersigned document that holds: what it continues and who signed it.
#[derive(Debug, Clone)]
pub struct Examined {
    pub issued: Continuation,
    pub signers: Vec<Signer>,
    /// The latest signing day of the customer's signatures (UTC).
    pub accepted_on: NaiveDate,
    /// Whether the issued revision carries an embedded vendor certification (checked).
    pub vendor_embedded: bool,
}

/// Checks a returned file: it continues an issued document (of `claimed`, when given),
/// the vendor's part holds, and everything after it is verified signing. `trust` are
/// the roots the user gave for the customer's certificate (none: not checked).
pub fn examine(
    bytes: &[u8],
    register: &crate::register::Register,
    claimed: Option<&str>,
    trust: Option<(&TrustAnchors, &str)>,
) -> Result<Result<Examined, Refusal>, RegisterError> {
    let issued = match find_issued(bytes, register)? {
        Ok(c) => c,
        Err(refusal) => return Ok(Err(refusal)),
    };
    Ok(check_continuation(bytes, issued, claimed, trust))
}

fn check_continuation(
    bytes: &[u8],
    issued: Continuation,
    claimed: Option<&str>,
    trust: Option<(&TrustAnchors, &str)>,
) -> Result<Examined, Refusal> {
    let customer = issued.row.record.customer_id.clone();
    if let Some(claimed) = claimed
        && claimed != customer
    {
        return Err(Refusal::OtherCustomer {
            id: issued.row.id,
            belongs: customer,
            claimed: claimed.to_string(),
        });
    }
    if issued.end >= bytes.len() {
        return Err(Refusal::NotCountersigned {
            id: issued.row.id,
            customer,
        });
    }
    // Bytes after the last complete revision: a file cut off while it was written or sent.
    let last_end = pdfsig::revisions(bytes).last().map_or(0, |r| r.end);
    let tail = &bytes[last_end.min(bytes.len())..];
    if tail.iter().any(|b| !b.is_ascii_whitespace() && *b != 0) {
        return Err(Refusal::Unreadable {
            detail: format!(
                "its last {} bytes are not a complete revision: the file is truncated or damaged",
                tail.len()
            ),
        });
    }
    let no_anchors = TrustAnchors::default();
    let verdict: PdfVerdict = pdfsig::verify(bytes, trust.map_or(&no_anchors, |(a, _)| a));
    if let Some(u) = &verdict.unreadable {
        return Err(Refusal::Unreadable {
            detail: u.detail.clone(),
        });
    }
    // Whatever the signatures say, the bytes after the issued revision may only sign.
    let forbidden: Vec<String> = changes::changes(bytes, issued.end)
        .iter()
        .filter(|c| !c.permitted_under(2))
        .map(Change::to_string)
        .collect();
    if !forbidden.is_empty() {
        return Err(Refusal::Changed { changes: forbidden });
    }
    let mut vendor_embedded = false;
    let mut signers = Vec::new();
    let mut latest: Option<NaiveDate> = None;
    for sig in &verdict.signatures {
        let field = sig
            .signature
            .field
            .clone()
            .unwrap_or_else(|| "(unnamed)".into());
        let covered_end = sig
            .signature
            .ranges
            .map(|[_, (_, d)]| d)
            .filter(|_| sig.signature.revision.is_some());
        let Some(end) = covered_end else {
            return Err(Refusal::Signature {
                field,
                reason: reason_of(sig, "its byte range does not cover a whole revision"),
            });
        };
        if end <= issued.end {
            // The vendor's embedded certification (or any signature) inside the issued part.
            vendor_embedded = true;
            if !sig.valid() {
                return Err(Refusal::VendorSignature {
                    reason: reason_of(sig, "it is not intact"),
                });
            }
            continue;
        }
        if !sig.valid() {
            return Err(Refusal::Signature {
                field,
                reason: reason_of(sig, "the signature does not match the signed bytes"),
            });
        }
        let subject = sig
            .signer
            .as_ref()
            .map(|c| c.subject.clone())
            .unwrap_or_default();
        let trusted_root = match trust {
            None => None,
            Some((_, root_name)) => {
                if !sig.trusted() {
                    let reason = match &sig.trust {
                        Some(crate::sign::cms::Trust::Untrusted { problem }) => problem.to_string(),
                        _ => "its certificate could not be checked".into(),
                    };
                    return Err(Refusal::Untrusted {
                        field,
                        subject,
                        reason,
                    });
                }
                Some(root_name.to_string())
            }
        };
        let Some(signer) = &sig.signer else {
            return Err(Refusal::Signature {
                field,
                reason: "it carries no signer certificate".into(),
            });
        };
        let day = sig.checked_at.map(|t| t.date_naive());
        latest = latest.max(day);
        signers.push(Signer {
            field: sig.signature.field.clone(),
            subject: signer.subject.clone(),
            cert_sha256: signer.sha256.clone(),
            signing_time: sig.checked_at.map(|t| t.to_rfc3339()),
            algorithm: sig.signature_algorithm.clone(),
            trusted_root,
        });
    }
    if signers.is_empty() {
        return Err(Refusal::NoSignature);
    }
    let Some(accepted_on) = latest else {
        return Err(Refusal::Signature {
            field: signers[0].field.clone().unwrap_or_default(),
            reason: "it states no signing time".into(),
        });
    };
    Ok(Examined {
        issued,
        signers,
        accepted_on,
        vendor_embedded,
    })
}

fn reason_of(sig: &pdfsig::SignatureVerdict, fallback: &str) -> String {
    if sig.reasons.is_empty() {
        fallback.to_string()
    } else {
        sig.reasons.join("; ")
    }
}

/// What a manual acceptance names, since nothing in its file links it to a document.
#[derive(Debug, Clone)]
pub struct Manual {
    pub customer: String,
    pub annex: String,
    pub accepted_on: NaiveDate,
    pub by: String,
    pub note: Option<String>,
}

/// The issued document a customer's acceptance or objection of `annex` refers to: the
/// newest one issued to them with that annex version.
pub fn issued_to(
    register: &crate::register::Register,
    customer: &str,
    annex: &str,
) -> Result<Row, AcceptError> {
    let rows = register.list(Some(customer), None)?;
    match rows.iter().rev().find(|r| r.record.annex_version == annex) {
        Some(row) => Ok(row.clone()),
        None => {
            let mut issued: Vec<String> = Vec::new();
            for r in &rows {
                let v = Escaped(&r.record.annex_version).to_string();
                if !issued.contains(&v) {
                    issued.push(v);
                }
            }
            Err(AcceptError::Unknown {
                customer: Escaped(customer).to_string(),
                annex: Escaped(annex).to_string(),
                issued,
            })
        }
    }
}

/// Refuses a day (of acceptance or of an objection) before `annex` was first issued to the
/// customer.
pub fn check_day(
    register: &crate::register::Register,
    customer: &str,
    annex: &str,
    date: NaiveDate,
) -> Result<(), AcceptError> {
    let first = register
        .list(Some(customer), Some(annex))?
        .into_iter()
        .filter_map(|r| r.record.issued.parse::<NaiveDate>().ok())
        .min();
    match first {
        Some(issued) if date < issued => Err(AcceptError::BeforeIssue {
            date,
            issued: issued.to_string(),
        }),
        _ => Ok(()),
    }
}

/// The outcome of [`record`].
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The acceptance's row (the earlier one when the file was already recorded).
    pub row: EventRow,
    /// True when this exact file had been recorded before: nothing was added.
    pub already: bool,
    /// A later document issued to the customer, which supersedes the one accepted.
    pub superseded_by: Option<Row>,
}

/// What to record: a verified countersignature or a manual acceptance.
pub enum Accepted<'a> {
    Countersigned(&'a Examined),
    Manual { manual: &'a Manual, issued: &'a Row },
}

/// Keeps `bytes` as evidence in the customer's folder and records the acceptance; a file
/// recorded before is recorded once (the earlier row is returned).
pub fn record(
    session: &Session,
    bytes: &[u8],
    accepted: Accepted<'_>,
) -> Result<Recorded, AcceptError> {
    let sha = crate::sign::sha256_hex(bytes);
    let issued = match &accepted {
        Accepted::Countersigned(e) => &e.issued.row,
        Accepted::Manual { issued, .. } => *issued,
    };
    let customer = issued.record.customer_id.clone();
    let superseded_by = session
        .register()
        .list(Some(&customer), None)?
        .into_iter()
        .rfind(|r| r.id > issued.id && r.record.annex_version != issued.record.annex_version);
    if let Some(row) = session.register().find_evidence(&sha)? {
        return Ok(Recorded {
            row,
            already: true,
            superseded_by,
        });
    }
    let pdf_name = issued
        .record
        .path
        .rsplit('/')
        .next()
        .unwrap_or(&issued.record.path);
    let stem = pdf_name.strip_suffix(".pdf").unwrap_or(pdf_name);
    let (tag, ext) = match &accepted {
        Accepted::Countersigned(_) => ("accepted", "pdf"),
        Accepted::Manual { .. } => ("manual", evidence_extension(bytes)),
    };
    let name = format!("{stem}.{tag}-{}.{ext}", &sha[..16]);
    match session.read(&customer, &name)? {
        Some(existing) if existing == bytes => {}
        Some(_) => {
            return Err(AcceptError::EvidenceClash {
                customer: Escaped(&customer).to_string(),
                name,
            });
        }
        None => {
            let set = session.stage(&customer, &[(name.clone(), bytes)], Vec::new())?;
            session.commit(vec![set])?;
        }
    }
    let mut acceptance = Acceptance {
        customer_id: customer.clone(),
        annex_version: issued.record.annex_version.clone(),
        issued_id: issued.id,
        method: Method::Countersigned,
        linked: true,
        accepted_on: String::new(),
        evidence: format!("{customer}/{name}"),
        evidence_sha256: sha.clone(),
        evidence_size: bytes.len() as u64,
        signers: Vec::new(),
        by: None,
        note: None,
    };
    match &accepted {
        Accepted::Countersigned(e) => {
            acceptance.accepted_on = e.accepted_on.to_string();
            acceptance.signers = e.signers.clone();
        }
        Accepted::Manual { manual, .. } => {
            acceptance.method = Method::Manual;
            acceptance.linked = false;
            acceptance.accepted_on = manual.accepted_on.to_string();
            acceptance.by = Some(manual.by.clone());
            acceptance.note = manual.note.clone();
        }
    }
    let event = Event::Accepted(acceptance);
    let id = session.register().append(&event)?;
    let hash = session.register().head().hash.clone();
    Ok(Recorded {
        row: EventRow { id, event, hash },
        already: false,
        superseded_by,
    })
}

/// The evidence file's extension, from what its bytes are (never from the given name).
fn evidence_extension(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(b"%PDF-") {
        "pdf"
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "png"
    } else if bytes.starts_with(b"\xff\xd8\xff") {
        "jpg"
    } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        "tif"
    } else {
        "bin"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_extensions_come_from_the_bytes() {
        assert_eq!(evidence_extension(b"%PDF-1.7"), "pdf");
        assert_eq!(evidence_extension(b"\xff\xd8\xff\xe0"), "jpg");
        assert_eq!(evidence_extension(b"\x89PNG\r\n\x1a\nxx"), "png");
        assert_eq!(evidence_extension(b"hello.pdf"), "bin");
    }
}
