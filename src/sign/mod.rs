//! Signing and verifying DPAs with one Ed25519 key, in formats customers can check themselves.
//!
//! In: a secret key (PKCS#8 PEM file or environment variable), the PDF bytes, its file
//! name and a [`TrustedComment`] naming the annex and customer. Out: [`Signatures`], the
//! text of `X.pdf.sha256`, `X.pdf.minisig`, `X.pdf.sshsig` and the raw 64-byte `X.pdf.sig`,
//! each checkable with `sha256sum`, `minisign`, `ssh-keygen -Y verify` and `openssl pkeyutl`.
//! The other way, [`verify::verify`] takes a PDF path, its signature files and a public key
//! the verifier trusts, and returns a [`verify::Verdict`] with the reasons it is not valid.
//!
//! - [`keys`]: key generation, key files, key ids and fingerprints;
//! - [`comment`]: the trusted comment `dpa/1 file=... sha256=... ...`;
//! - [`digests`]: the digests a document is signed over, resumed along a batch;
//! - [`minisign`]: the minisign signature and public key formats;
//! - [`sshsig`]: OpenSSH SSHSIG signatures (namespace `dpa`);
//! - [`mod@verify`]: streaming verification and the verdict;
//! - [`pkix`]: X.509 groundwork: algorithms, signature checks, certification paths;
//! - [`x509`]: the P-256 PDF signing key and its certificate chain;
//! - [`cms`]: CMS SignedData for PAdES: building the vendor's, verifying anyone's;
//! - [`pdfsig`]: the signatures inside a PDF, its revisions, and a verdict on each;
//! - [`changes`]: what changed between two revisions and whether a certification permits it.

pub mod changes;
pub mod cms;
pub mod comment;
pub mod digests;
pub mod document;
pub mod keys;
pub mod minisign;
pub mod pdfsig;
pub mod pkcs12;
pub mod pkix;
pub mod sshsig;
pub mod verify;
pub mod x509;

use std::io;
use std::path::PathBuf;

use ed25519_dalek::Signer;
use sha2::{Digest, Sha256};

pub use comment::TrustedComment;
pub use keys::{KeyId, KeyInfo, PublicKey, SecretKey};
pub use verify::{Evidence, Reason, Verdict, verify, verify_with_key_file};

/// The SSHSIG namespace of every dpa signature; verifiers pass `-n dpa`.
pub const SSH_NAMESPACE: &str = "dpa";

/// Everything that can go wrong while handling keys or producing signatures.
///
/// A verification that answers "not valid" is not an error: it is a [`Verdict`].
/// No variant ever carries secret key material.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// Reading, creating or writing a file failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// `keygen` found one of its output files already there.
    #[error("{} already exists; a key file is never overwritten", path.display())]
    KeyExists { path: PathBuf },
    /// A secret key file can be read or changed by group or others.
    #[error(
        "secret key {} is accessible to other users (mode {mode:04o}); refusing to use it",
        path.display()
    )]
    KeyPermissions { path: PathBuf, mode: u32 },
    /// The secret key text is not a usable Ed25519 PKCS#8 key.
    #[error("secret key {origin} is not an unencrypted Ed25519 PKCS#8 PEM key: {detail}")]
    SecretKeyFormat { origin: String, detail: String },
    /// The PDF signing key's text is not a usable ECDSA P-256 key.
    #[error("PDF signing key {origin} is not a usable ECDSA P-256 key: {detail}")]
    PdfKeyFormat { origin: String, detail: String },
    /// The environment variable that should hold the secret key is unset or not UTF-8.
    #[error("environment variable {var} does not hold a secret key: {detail}")]
    KeyEnv { var: String, detail: String },
    /// The public key text is neither SPKI PEM nor a minisign public key.
    #[error("public key {origin} is not an Ed25519 SPKI PEM or minisign public key: {detail}")]
    PublicKeyFormat { origin: String, detail: String },
    /// The public key is a small-order point: any signature would verify against it.
    #[error("public key {origin} is a weak (small-order) Ed25519 key and proves nothing")]
    WeakKey { origin: String },
    /// The signer identity cannot be written into an allowed_signers line.
    #[error("identity {identity:?} cannot be used as an SSH signer identity: {detail}")]
    Identity { identity: String, detail: String },
    /// A trusted comment field is missing, malformed or contradicts the document.
    #[error("trusted comment: {detail}")]
    Comment { detail: String },
    /// Encoding an SSH key or signature failed.
    #[error("SSH encoding failed: {detail}")]
    Ssh { detail: String },
    /// A key of another type than the one this use needs.
    #[error("key {origin} is {found}, but {expected} is needed here")]
    UnsupportedKey {
        origin: String,
        found: String,
        expected: String,
    },
    /// A PKCS#12 file that is not one P-256 key with its chain.
    #[error("PKCS#12 file {origin}: {detail}")]
    Pkcs12 { origin: String, detail: String },
    /// A PKCS#12 file whose key is not the P-256 key a PDF signature needs.
    #[error(
        "PKCS#12 file {origin}: its key is {found}, but the PDF signature needs an ECDSA P-256 key"
    )]
    Pkcs12KeyType { origin: String, found: String },
    /// A PKCS#12 file whose integrity check fails with the password given.
    #[error(
        "PKCS#12 file {origin}: the password is wrong, or the file is damaged (its integrity check failed)"
    )]
    Pkcs12Password { origin: String },
    /// A certificate file is unreadable or not a certificate.
    #[error("certificate {origin}: {detail}")]
    Certificate { origin: String, detail: String },
    /// The leaf certificate certifies another key than the signing key.
    #[error("certificate {origin} ({subject}) does not match the signing key: {detail}")]
    CertificateKeyMismatch {
        origin: String,
        subject: String,
        detail: String,
    },
    /// A certificate may not be used the way the chain uses it.
    #[error("certificate chain {origin}: {detail}")]
    CertificateUse { origin: String, detail: String },
    /// The certificates are not listed leaf first, each followed by its issuer.
    #[error("certificate chain {origin} is not in order: {detail}")]
    ChainOrder { origin: String, detail: String },
    /// A certificate is not valid at the document's signing date.
    #[error(
        "certificate {subject} in {origin} is valid from {not_before} to {not_after}, not at the signing time {at}"
    )]
    CertificateExpired {
        origin: String,
        subject: String,
        not_before: chrono::DateTime<chrono::Utc>,
        not_after: chrono::DateTime<chrono::Utc>,
        at: chrono::DateTime<chrono::Utc>,
    },
    /// Building a CMS signature failed.
    #[error("cannot build the PDF signature: {detail}")]
    Cms { detail: String },
}

impl SignError {
    /// A one-line suggestion for fixing the problem, for the CLI's `hint:` line.
    pub fn hint(&self) -> Option<String> {
        match self {
            SignError::KeyPermissions { path, .. } => {
                Some(format!("chmod 600 {}", shell_quote(&path.display().to_string())))
            }
            SignError::KeyExists { .. } => Some(
                "choose another --out folder, or move the existing key files away first".into(),
            ),
            SignError::SecretKeyFormat { .. } => Some(
                "create a key with `dpa keygen --out DIR` or `openssl genpkey -algorithm ed25519 -out signing.key`"
                    .into(),
            ),
            SignError::PdfKeyFormat { .. } => Some(
                "give an unencrypted PKCS#8 or SEC1 PEM key, or make one with `dpa keygen --out DIR` or `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out pdf-signing.key`"
                    .into(),
            ),
            SignError::KeyEnv { var, .. } => Some(format!(
                "export {var}=\"$(cat signing.key)\" (the whole PEM text, BEGIN and END lines included)"
            )),
            SignError::PublicKeyFormat { .. } => Some(
                "pass signing.pub.pem (-----BEGIN PUBLIC KEY-----) or signing.minisign.pub".into(),
            ),
            SignError::WeakKey { .. } => {
                Some("ask the vendor for its published public key again".into())
            }
            SignError::Identity { .. } => {
                Some("use an e-mail address such as privacy@example.com".into())
            }
            SignError::UnsupportedKey { expected, .. } if expected.contains("P-256") => Some(
                "create one with `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out pdf-signing.key`"
                    .into(),
            ),
            SignError::UnsupportedKey { .. } => Some(
                "the detached signatures need the Ed25519 key (signing.key); the PDF signature uses pdf-signing.key".into(),
            ),
            SignError::CertificateKeyMismatch { .. } => Some(
                "give the key the certificate was issued for, or a chain whose first certificate is this key's".into(),
            ),
            SignError::ChainOrder { .. } => Some(
                "list the signer's certificate first, then its issuer, up to the root".into(),
            ),
            SignError::CertificateExpired { .. } => Some(
                "renew the certificate, or for the default chain run `dpa keygen` into a new folder".into(),
            ),
            SignError::Pkcs12Password { .. } => Some(
                "give the file's password with --pkcs12-password-file FILE or in DPA_PKCS12_PASSWORD"
                    .into(),
            ),
            SignError::Pkcs12KeyType { .. } => Some(
                "the certificate belongs to that key: ask the CA that issued it for a certificate on an ECDSA P-256 key, which every PDF reader accepts"
                    .into(),
            ),
            SignError::Pkcs12 { .. } => Some(
                "export the key with its chain again (`openssl pkcs12 -export -inkey KEY -in CHAIN.pem -out signer.p12`), or give both as PEM: dpa keygen --pdf-key KEY --cert CHAIN.pem"
                    .into(),
            ),
            SignError::Certificate { .. } => {
                Some("give a PEM file of certificates (-----BEGIN CERTIFICATE-----)".into())
            }
            _ => None,
        }
    }
}

/// Quotes a path for a copy-paste shell hint when it holds characters the shell would split.
fn shell_quote(text: &str) -> String {
    let plain = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+@%:,".contains(c));
    if plain && !text.is_empty() {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// The four detached signatures of one document.
#[derive(Clone, PartialEq, Eq)]
pub struct Signatures {
    /// The `sha256sum` line: `<hex>  <file name>\n`.
    pub sha256: String,
    /// The minisign signature file (4 lines, algorithm `ED`).
    pub minisig: String,
    /// The OpenSSH SSHSIG signature, PEM armoured, namespace `dpa`, SHA-512.
    pub sshsig: String,
    /// Plain Ed25519 over the file bytes, for `openssl pkeyutl -verify -rawin`; made only
    /// when asked for, since Ed25519 hashes the whole file twice more for it.
    pub raw: Option<[u8; 64]>,
}

impl Signatures {
    /// The signature files to write beside `pdf_name`, as (file name, contents) pairs.
    ///
    /// The raw `.sig` is included only when `with_raw` is set (`--raw-sig`) and it was
    /// made (see [`sign`]).
    pub fn files(&self, pdf_name: &str, with_raw: bool) -> Vec<(String, &[u8])> {
        let mut files = vec![
            (format!("{pdf_name}.sha256"), self.sha256.as_bytes()),
            (format!("{pdf_name}.minisig"), self.minisig.as_bytes()),
            (format!("{pdf_name}.sshsig"), self.sshsig.as_bytes()),
        ];
        if let (true, Some(raw)) = (with_raw, &self.raw) {
            files.push((format!("{pdf_name}.sig"), &raw[..]));
        }
        files
    }
}

impl std::fmt::Debug for Signatures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signatures")
            .field("sha256", &self.sha256)
            .field("minisig", &self.minisig)
            .field("sshsig", &self.sshsig)
            .field("raw", &self.raw.map(hex::encode))
            .finish()
    }
}

/// Signs one document: the hash line, minisign, SSHSIG and, if `raw` is set, the raw
/// signature.
///
/// The comment must describe this very document: its `file` equals `file_name`, its
/// `sha256` the SHA-256 of `pdf` and its `key` the id of `key`; otherwise nothing is signed.
pub fn sign(
    key: &SecretKey,
    file_name: &str,
    pdf: &[u8],
    comment: &TrustedComment,
    raw: bool,
) -> Result<Signatures, SignError> {
    let digests = digests::file(pdf);
    let sha256 = digests.sha256_hex();
    if comment.sha256 != sha256 {
        return Err(SignError::Comment {
            detail: format!(
                "sha256={} but the document's SHA-256 is {sha256}",
                comment.sha256
            ),
        });
    }
    sign_hashed(key, file_name, pdf, &digests, comment, raw)
}

/// [`sign`] for a caller that has just computed the digests of these very bytes (and
/// `comment.sha256` from them), so the file is not hashed again.
pub(crate) fn sign_hashed(
    key: &SecretKey,
    file_name: &str,
    pdf: &[u8],
    digests: &digests::FileDigests,
    comment: &TrustedComment,
    raw: bool,
) -> Result<Signatures, SignError> {
    comment.validate()?;
    if comment.file != file_name {
        return Err(SignError::Comment {
            detail: format!(
                "file={} but the document is named {file_name}",
                comment.file
            ),
        });
    }
    if comment.key != key.key_id() {
        return Err(SignError::Comment {
            detail: format!(
                "key={} but the signing key's id is {}",
                comment.key,
                key.key_id()
            ),
        });
    }
    let minisig = minisign::sign_prehashed(key, &digests.blake2b, &comment.to_string());
    let sshsig = sshsig::sign_digest(key, &digests.sha512)?;
    let raw = raw.then(|| key.signing_key().sign(pdf).to_bytes());
    Ok(Signatures {
        sha256: format!("{}  {file_name}\n", comment.sha256),
        minisig,
        sshsig,
        raw,
    })
}

/// The lowercase hex SHA-256 of some bytes, as used in the trusted comment.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SecretKey {
        let pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIBERERERERERERERERERERERERERERERERERERERERER\n-----END PRIVATE KEY-----\n";
        SecretKey::parse_pem(pem, "test").unwrap()
    }

    fn comment(key: &SecretKey, pdf: &[u8]) -> TrustedComment {
        TrustedComment {
            file: "X.pdf".into(),
            sha256: sha256_hex(pdf),
            annex: "2026-05-26".into(),
            annex_sha256: "ab".repeat(32),
            customer: "acme".into(),
            issued: chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
            key: key.key_id(),
        }
    }

    #[test]
    fn the_raw_signature_is_made_only_when_asked_for() {
        let (key, pdf) = (key(), b"%PDF-1.7 document".to_vec());
        let with = sign(&key, "X.pdf", &pdf, &comment(&key, &pdf), true).unwrap();
        let without = sign(&key, "X.pdf", &pdf, &comment(&key, &pdf), false).unwrap();
        assert_eq!(with.raw, Some(key.signing_key().sign(&pdf).to_bytes()));
        assert_eq!(without.raw, None);
        let names = |s: &Signatures| -> Vec<String> {
            s.files("X.pdf", true).into_iter().map(|(n, _)| n).collect()
        };
        assert!(names(&with).contains(&"X.pdf.sig".to_string()));
        assert!(!names(&without).contains(&"X.pdf.sig".to_string()));
        // Everything else is the same either way.
        assert_eq!(
            (with.sha256, with.minisig, with.sshsig),
            (without.sha256, without.minisig, without.sshsig)
        );
    }

    #[test]
    fn a_comment_with_another_digest_is_not_signed() {
        let (key, pdf) = (key(), b"%PDF-1.7 document".to_vec());
        let mut wrong = comment(&key, &pdf);
        wrong.sha256 = sha256_hex(b"another document");
        assert!(matches!(
            sign(&key, "X.pdf", &pdf, &wrong, false),
            Err(SignError::Comment { .. })
        ));
    }

    #[test]
    fn shell_quote_leaves_plain_paths_alone() {
        assert_eq!(shell_quote("keys/signing.key"), "keys/signing.key");
        assert_eq!(shell_quote("my keys/it's"), r"'my keys/it'\''s'");
    }
}
