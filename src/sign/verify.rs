//! Verification: does this PDF carry a valid dpa signature by the key the verifier trusts?
//!
//! In: the PDF path (hashed streaming, so a large file is never held in memory), the bytes
//! of its `.minisig` and optionally `.sha256` and `.sshsig` files, and the public key the
//! verifier supplies. Out: a [`Verdict`]: valid or not, every [`Reason`] it is not,
//! warnings, and on success the signed trusted comment fields. Answering "not valid" is
//! not an error; errors are only for unreadable files.
//!
//! Only the supplied key counts: signatures are checked with `verify_strict` under it, and
//! a key carried inside a signature (SSHSIG embeds one) is merely compared with it. The
//! raw `.sig` is left to `openssl pkeyutl`; dpa checks the minisign signature, which
//! carries the trusted comment, and the `.sha256` and `.sshsig` files when given.

use std::fmt;
use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256, Sha512};
use ssh_key::HashAlg;

use super::SignError;
use super::comment::TrustedComment;
use super::keys::{KeyId, PublicKey};
use super::minisign::{MinisigProblem, SignatureFile};
use super::sshsig::{SshsigFile, SshsigProblem};

/// Read size for streaming hashes; large enough to keep system calls rare.
const CHUNK: usize = 256 * 1024;

/// Larger `.sha256` files are not a single `sha256sum` line.
const MAX_SHA256_FILE: usize = 4096;

/// The signature files found beside (or given for) a PDF; `None` when absent.
#[derive(Debug, Clone, Copy, Default)]
pub struct Evidence<'a> {
    /// The `.minisig` bytes; required for a valid verdict.
    pub minisig: Option<&'a [u8]>,
    /// The `.sha256` bytes (`sha256sum` format).
    pub sha256: Option<&'a [u8]>,
    /// The `.sshsig` bytes.
    pub sshsig: Option<&'a [u8]>,
}

/// Why a document is not valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Reason {
    /// No `.minisig` file was found or given.
    MissingSignature,
    /// The `.minisig` file is empty, truncated, garbage or otherwise unreadable.
    MalformedSignature { problem: MinisigProblem },
    /// The signature names another key than the one supplied.
    WrongKey {
        signature_key_id: KeyId,
        supplied_key_id: KeyId,
    },
    /// Neither the file signature nor the comment signature verifies: damaged or forged.
    BadSignature,
    /// The document signature verifies but the trusted comment was changed after signing.
    EditedComment,
    /// The document differs from the one that was signed.
    AlteredDocument {
        signed_sha256: Option<String>,
        actual_sha256: String,
    },
    /// The signature belongs to another document (another name, customer or annex).
    OtherDocument {
        signed_file: String,
        signed_sha256: String,
        actual_sha256: String,
        /// How the signed document differs, when the names alone do not show it, e.g.
        /// "signed for customer globex; this document is for customer acme".
        #[serde(skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
    /// Authentic, but the trusted comment is not a `dpa/1` comment.
    ForeignComment { detail: String },
    /// Authentic `dpa/1` comment that contradicts the document or key it came with.
    CommentMismatch { detail: String },
    /// The `.sha256` file names another hash than the document's.
    Sha256FileMismatch { listed: String, actual: String },
    /// The `.sha256` file is not a `sha256sum` line.
    MalformedSha256File,
    /// The `.sshsig` file does not confirm the document.
    SshsigInvalid { problem: SshsigProblem },
    /// The supplied public key is a small-order point that would accept any signature.
    WeakKey,
    /// The signature embedded in the PDF, or what was added to the document after the
    /// vendor signed it, does not hold (see `sign::document`).
    EmbeddedSignature { detail: String },
    /// The document is authentic, but was signed with another annex than the one given
    /// to compare with (`dpa verify --annex`, see `annex_check`).
    AnnexMismatch {
        file: String,
        version: String,
        fingerprint: String,
        signed_version: String,
        signed_fingerprint: String,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::MissingSignature => f.write_str("no .minisig signature file was found"),
            Reason::MalformedSignature { problem } => {
                write!(f, "the .minisig signature file is unusable: {problem}")
            }
            Reason::WrongKey {
                signature_key_id,
                supplied_key_id,
            } => write!(
                f,
                "signed by another key: the signature names key {signature_key_id}, the public key you gave is {supplied_key_id}"
            ),
            Reason::BadSignature => {
                f.write_str("the signature does not verify: the .minisig file is damaged or forged")
            }
            Reason::EditedComment => {
                f.write_str("the trusted comment (customer, annex, date) was edited after signing")
            }
            Reason::AlteredDocument {
                signed_sha256,
                actual_sha256,
            } => match signed_sha256 {
                Some(signed) => write!(
                    f,
                    "the document was altered after signing: its SHA-256 is {actual_sha256}, the signed one {signed}"
                ),
                None => write!(
                    f,
                    "the document was altered after signing (its SHA-256 is {actual_sha256})"
                ),
            },
            Reason::OtherDocument {
                signed_file,
                detail: None,
                ..
            } => write!(
                f,
                "these signatures belong to another document, {signed_file}"
            ),
            Reason::OtherDocument {
                signed_file,
                detail: Some(detail),
                ..
            } => write!(
                f,
                "these signatures belong to another document, {signed_file} ({detail})"
            ),
            Reason::ForeignComment { detail } => write!(
                f,
                "the signature is genuine but was not made by dpa for a DPA ({detail})"
            ),
            Reason::CommentMismatch { detail } => {
                write!(f, "the signed comment contradicts the document: {detail}")
            }
            Reason::Sha256FileMismatch { listed, actual } => write!(
                f,
                "the .sha256 file lists {listed}, but the document's SHA-256 is {actual}"
            ),
            Reason::MalformedSha256File => f.write_str("the .sha256 file is not a sha256sum line"),
            Reason::SshsigInvalid { problem } => write!(f, "the .sshsig signature: {problem}"),
            Reason::WeakKey => f.write_str(
                "the public key you gave is weak (small order) and would accept any signature",
            ),
            Reason::EmbeddedSignature { detail } => write!(f, "in the PDF: {detail}"),
            Reason::AnnexMismatch {
                file,
                version,
                fingerprint,
                signed_version,
                signed_fingerprint,
            } => write!(
                f,
                "the annex file {file} (version {version}, sha256 {fingerprint}) is not the annex this document was signed with (version {signed_version}, sha256 {signed_fingerprint})"
            ),
        }
    }
}

/// Something worth saying about a document that does not make it invalid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "warning", rename_all = "snake_case")]
pub enum Warning {
    /// The PDF was renamed since signing; its content is what was signed.
    FileRenamed {
        signed_file: String,
        actual_file: String,
    },
    /// The `.sha256` line names another file name; its hash is what counts.
    Sha256FileName {
        listed_file: String,
        actual_file: String,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::FileRenamed {
                signed_file,
                actual_file,
            } => write!(
                f,
                "the document was signed as {signed_file} and is now named {actual_file}; its content is unchanged"
            ),
            Warning::Sha256FileName {
                listed_file,
                actual_file,
            } => write!(
                f,
                "the .sha256 file names {listed_file}, not {actual_file}; `sha256sum -c` would look for that name"
            ),
        }
    }
}

/// Which signature files were checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Checked {
    pub minisig: bool,
    pub sha256: bool,
    pub sshsig: bool,
}

/// The answer to "is this document validly signed by this key?".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// True only when the minisign signature and every other given file check out.
    pub valid: bool,
    /// The PDF's file name.
    pub file: String,
    /// The PDF's SHA-256 (lowercase hex); `None` if it was not read.
    pub sha256: Option<String>,
    /// The id of the supplied public key; `None` for a weak key.
    pub key_id: Option<KeyId>,
    /// The SHA-256 fingerprint of the supplied public key; `None` for a weak key.
    pub key_fingerprint: Option<String>,
    /// The key id named in the `.minisig` file, if it could be read.
    pub signed_by: Option<KeyId>,
    /// The trusted comment, only when its signature verified under the supplied key.
    pub comment: Option<TrustedComment>,
    /// Which files were checked.
    pub checked: Checked,
    /// Every reason the document is not valid, most important first; empty when valid.
    pub reasons: Vec<Reason>,
    /// Notes that do not affect validity.
    pub warnings: Vec<Warning>,
}

impl Verdict {
    /// The main reason the document is not valid, if any.
    pub fn reason(&self) -> Option<&Reason> {
        self.reasons.first()
    }
}

/// Verifies `pdf` against its signature files under the public key the verifier trusts.
///
/// Errors only when the PDF cannot be read; every other problem is a [`Reason`].
pub fn verify(pdf: &Path, evidence: &Evidence<'_>, key: &PublicKey) -> Result<Verdict, SignError> {
    verify_prefix(pdf, evidence, key, None)
}

/// Like [`verify`] for the file's first `len` bytes only (a revision of a file to which
/// incremental updates were appended); `None` is the whole file.
pub fn verify_prefix(
    pdf: &Path,
    evidence: &Evidence<'_>,
    key: &PublicKey,
    len: Option<u64>,
) -> Result<Verdict, SignError> {
    let file = file_name(pdf);
    let minisig = evidence.minisig.map(SignatureFile::parse);
    let sshsig = evidence.sshsig.map(SshsigFile::parse);
    let want_sha512 = matches!(&sshsig, Some(Ok(s)) if s.hash_alg() == HashAlg::Sha512);
    let digests = hash_file(pdf, want_sha512, len)?;
    let actual_sha256 = hex::encode(digests.sha256);

    let mut verdict = Verdict {
        valid: false,
        file: file.clone(),
        sha256: Some(actual_sha256.clone()),
        key_id: Some(key.key_id()),
        key_fingerprint: Some(key.fingerprint()),
        signed_by: None,
        comment: None,
        checked: Checked::default(),
        reasons: Vec::new(),
        warnings: Vec::new(),
    };

    match minisig {
        None => verdict.reasons.push(Reason::MissingSignature),
        Some(Err(problem)) => {
            verdict.checked.minisig = true;
            verdict.reasons.push(Reason::MalformedSignature { problem });
        }
        Some(Ok(signature)) => {
            verdict.checked.minisig = true;
            verdict.signed_by = Some(signature.key_id);
            check_minisig(&signature, key, &digests, (pdf, len), &mut verdict);
        }
    }

    if let Some(bytes) = evidence.sha256 {
        verdict.checked.sha256 = true;
        match parse_sha256_line(bytes) {
            None => verdict.reasons.push(Reason::MalformedSha256File),
            Some((listed, listed_file)) => {
                if listed != actual_sha256 {
                    verdict.reasons.push(Reason::Sha256FileMismatch {
                        listed,
                        actual: actual_sha256.clone(),
                    });
                } else if listed_file != file {
                    verdict.warnings.push(Warning::Sha256FileName {
                        listed_file,
                        actual_file: file.clone(),
                    });
                }
            }
        }
    }

    if let Some(parsed) = sshsig {
        verdict.checked.sshsig = true;
        let outcome = parsed.and_then(|sig| {
            let digest: &[u8] = match sig.hash_alg() {
                HashAlg::Sha256 => &digests.sha256,
                HashAlg::Sha512 => digests.sha512.as_ref().map_or(&[][..], |d| &d[..]),
                // ssh-key may learn more hash algorithms; an unknown one cannot be checked.
                #[allow(unreachable_patterns)]
                _ => return Err(SshsigProblem::Malformed),
            };
            sig.check(key, digest)
        });
        if let Err(problem) = outcome {
            verdict.reasons.push(Reason::SshsigInvalid { problem });
        }
    }

    verdict.valid = verdict.reasons.is_empty() && verdict.checked.minisig;
    Ok(verdict)
}

/// Loads the verifier's public key from `key_path` and verifies; a weak key is a verdict.
///
/// A small-order key is answered with a not-valid [`Verdict`] (reason [`Reason::WeakKey`])
/// rather than an error, so `dpa verify` exits 1 for it; other key problems are errors.
pub fn verify_with_key_file(
    pdf: &Path,
    evidence: &Evidence<'_>,
    key_path: &Path,
) -> Result<Verdict, SignError> {
    match PublicKey::load(key_path) {
        Ok(key) => verify(pdf, evidence, &key),
        Err(SignError::WeakKey { .. }) => Ok(Verdict {
            valid: false,
            file: file_name(pdf),
            sha256: None,
            key_id: None,
            key_fingerprint: None,
            signed_by: None,
            comment: None,
            checked: Checked::default(),
            reasons: vec![Reason::WeakKey],
            warnings: Vec::new(),
        }),
        Err(other) => Err(other),
    }
}

/// Like [`verify_with_key_file`], for a file that may have been countersigned: when the
/// whole file is not the signed document but one of its earlier revisions is (`bytes` are
/// the file's), the verdict is that revision's, and its length is returned beside it.
///
/// The revision is the one whose SHA-256 the authentic trusted comment names, so nothing
/// is guessed: a prefix counts only if the vendor's signature verifies over it.
pub fn verify_vendor_revision(
    pdf: &Path,
    evidence: &Evidence<'_>,
    key_path: &Path,
    bytes: &[u8],
) -> Result<(Verdict, usize), SignError> {
    let whole = verify_with_key_file(pdf, evidence, key_path)?;
    let signed = whole.reasons.iter().find_map(|r| match r {
        Reason::AlteredDocument {
            signed_sha256: Some(signed),
            ..
        }
        | Reason::OtherDocument {
            signed_sha256: signed,
            ..
        } => Some(signed.clone()),
        _ => None,
    });
    let Some(signed) = signed else {
        return Ok((whole, bytes.len()));
    };
    let found = super::document::earlier_revision_with_sha256(bytes, &signed);
    let Some(revision) = found else {
        return Ok((whole, bytes.len()));
    };
    let key = PublicKey::load(key_path)?;
    let prefix = verify_prefix(pdf, evidence, &key, Some(revision.end as u64))?;
    if prefix.valid {
        Ok((prefix, revision.end))
    } else {
        Ok((whole, bytes.len()))
    }
}

/// Decides the minisign part of the verdict from the two signatures and the comment.
fn check_minisig(
    signature: &SignatureFile,
    key: &PublicKey,
    digests: &Digests,
    (pdf, len): (&Path, Option<u64>),
    verdict: &mut Verdict,
) {
    let file_owned = file_name(pdf);
    let file = file_owned.as_str();
    if signature.key_id != key.key_id() {
        // minisign refuses a key id mismatch outright; answering the same keeps tools in step.
        verdict.reasons.push(Reason::WrongKey {
            signature_key_id: signature.key_id,
            supplied_key_id: key.key_id(),
        });
        return;
    }
    let actual_sha256 = hex::encode(digests.sha256);
    let file_ok = signature.file_signature_ok(key, &digests.blake2b512);
    let global_ok = signature.global_signature_ok(key);
    if !global_ok {
        // The global signature covers the file signature too, so if the file signature
        // still verifies, only the comment can have changed.
        verdict.reasons.push(if file_ok {
            Reason::EditedComment
        } else {
            Reason::BadSignature
        });
        return;
    }
    // From here the trusted comment is authentic: it is what the key holder signed.
    let comment = match TrustedComment::parse(&signature.trusted_comment) {
        Ok(comment) => comment,
        Err(err) => {
            if !file_ok {
                verdict.reasons.push(Reason::AlteredDocument {
                    signed_sha256: None,
                    actual_sha256,
                });
            }
            verdict.reasons.push(Reason::ForeignComment {
                detail: err.to_string(),
            });
            return;
        }
    };
    if !file_ok {
        if comment.sha256 == actual_sha256 {
            // The signed hash matches but the signature over the content does not: the
            // signer produced an inconsistent signature, so it proves nothing.
            verdict.reasons.push(Reason::BadSignature);
        } else if comment.file != file {
            verdict.reasons.push(Reason::OtherDocument {
                signed_file: comment.file.clone(),
                signed_sha256: comment.sha256.clone(),
                actual_sha256,
                detail: None,
            });
        } else if let Some(detail) = identity_mismatch(pdf, len, &comment) {
            // Every customer's DPA has the same file name; the document says whose it is.
            verdict.reasons.push(Reason::OtherDocument {
                signed_file: comment.file.clone(),
                signed_sha256: comment.sha256.clone(),
                actual_sha256,
                detail: Some(detail),
            });
        } else {
            verdict.reasons.push(Reason::AlteredDocument {
                signed_sha256: Some(comment.sha256.clone()),
                actual_sha256,
            });
        }
        return;
    }
    if comment.sha256 != actual_sha256 {
        verdict.reasons.push(Reason::CommentMismatch {
            detail: format!(
                "it states sha256={} but the document's SHA-256 is {actual_sha256}",
                comment.sha256
            ),
        });
    }
    if comment.key != key.key_id() {
        verdict.reasons.push(Reason::CommentMismatch {
            detail: format!(
                "it states key={} but the document was signed by key {}",
                comment.key,
                key.key_id()
            ),
        });
    }
    // A renamed file is still the signed content; minisign itself ignores names.
    if comment.file != file {
        verdict.warnings.push(Warning::FileRenamed {
            signed_file: comment.file.clone(),
            actual_file: file.to_string(),
        });
    }
    verdict.comment = Some(comment);
}

/// Documents larger than this are not opened to read whose DPA they are.
const MAX_IDENTITY_READ: u64 = 64 * 1024 * 1024;

/// How the document differs from the signed one in customer or annex, per its metadata.
///
/// dpa writes `customer=ID,annex=VERSION` into the PDF's Keywords; a document that names
/// another customer or annex than the signed comment is another document, not an altered
/// one. `None` when the metadata is absent, unreadable, or agrees.
fn identity_mismatch(pdf: &Path, len: Option<u64>, comment: &TrustedComment) -> Option<String> {
    if std::fs::metadata(pdf).ok()?.len() > MAX_IDENTITY_READ {
        return None;
    }
    let mut bytes = std::fs::read(pdf).ok()?;
    if let Some(len) = len.and_then(|l| usize::try_from(l).ok()) {
        bytes.truncate(len);
    }
    let parsed = hayro_syntax::Pdf::new(bytes).ok()?;
    let keywords = super::pdfsig::decode_text(parsed.metadata().keywords.as_deref()?);
    let field = |name: &str| {
        keywords
            .split(',')
            .find_map(|part| part.trim().strip_prefix(name))
            .map(str::to_string)
    };
    let mut differences = Vec::new();
    if let Some(customer) = field("customer=")
        && customer != comment.customer
    {
        differences.push(format!(
            "signed for customer {}; this document is for customer {}",
            comment.customer,
            super::pkix::escape_untrusted(&customer)
        ));
    }
    if let Some(annex) = field("annex=")
        && annex != comment.annex
    {
        differences.push(format!(
            "signed with annex {}; this document carries annex {}",
            comment.annex,
            super::pkix::escape_untrusted(&annex)
        ));
    }
    (!differences.is_empty()).then(|| differences.join("; "))
}

/// The digests one streaming pass over the document produces.
struct Digests {
    sha256: [u8; 32],
    blake2b512: [u8; 64],
    sha512: Option<[u8; 64]>,
}

/// Hashes the file (or its first `len` bytes) in chunks: SHA-256, BLAKE2b-512 and, when
/// asked, SHA-512.
fn hash_file(path: &Path, want_sha512: bool, len: Option<u64>) -> Result<Digests, SignError> {
    let io_error = |source| SignError::Io {
        action: "read document",
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path)
        .map_err(io_error)?
        .take(len.unwrap_or(u64::MAX));
    let mut sha256 = Sha256::new();
    let mut blake = blake2b_simd::State::new();
    let mut sha512 = want_sha512.then(Sha512::new);
    let mut buffer = vec![0u8; CHUNK];
    loop {
        let read = match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_error(e)),
        };
        let chunk = buffer.get(..read).unwrap_or(&[]);
        sha256.update(chunk);
        blake.update(chunk);
        if let Some(h) = sha512.as_mut() {
            h.update(chunk);
        }
    }
    Ok(Digests {
        sha256: sha256.finalize().into(),
        blake2b512: *blake.finalize().as_array(),
        sha512: sha512.map(|h| h.finalize().into()),
    })
}

/// Parses one `sha256sum` line: `<64 hex>  <name>` (or ` *<name>`); returns hex and name.
fn parse_sha256_line(bytes: &[u8]) -> Option<(String, String)> {
    if bytes.len() > MAX_SHA256_FILE {
        return None;
    }
    let text = std::str::from_utf8(bytes).ok()?;
    let mut lines = text.lines().filter(|line| !line.trim().is_empty());
    let line = lines.next()?.trim_end_matches('\r');
    if lines.next().is_some() {
        return None;
    }
    let hex = line.get(..64)?;
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let rest = line.get(64..)?;
    let name = rest
        .strip_prefix("  ")
        .or_else(|| rest.strip_prefix(" *"))?;
    if name.is_empty() {
        return None;
    }
    Some((hex.to_ascii_lowercase(), name.to_string()))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_lines() {
        let hex = "ab".repeat(32);
        assert_eq!(
            parse_sha256_line(format!("{hex}  x.pdf\n").as_bytes()),
            Some((hex.clone(), "x.pdf".into()))
        );
        assert_eq!(
            parse_sha256_line(format!("{hex} *x.pdf").as_bytes()),
            Some((hex.clone(), "x.pdf".into()))
        );
        for bad in [
            String::new(),
            format!("{hex} x.pdf"),
            format!("{hex}  "),
            format!("{}  x.pdf", &hex[..63]),
            format!("{hex}  x.pdf\n{hex}  y.pdf\n"),
            "é".repeat(40),
        ] {
            assert_eq!(parse_sha256_line(bad.as_bytes()), None, "{bad:?}");
        }
    }
}
