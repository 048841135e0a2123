//! The vendor's signing keys as one value, so that adding a key touches this file only.
//!
//! In: a [`KeySource`] for the Ed25519 key and a [`PdfSource`] for the P-256 key and
//! certificate chain of the embedded PDF signature (files or environment variables).
//! Out: a [`KeySet`] that signs a rendered document twice over: [`KeySet::embed`] fills
//! the engine's placeholders with a PAdES B-B certification signature (CMS over the byte
//! range) and [`KeySet::detached`] makes the detached signatures over the final bytes.

use chrono::NaiveDate;

use crate::config::{KeySource, PdfSource};
use crate::pdf::{PdfError, Written, fill_byte_range, fill_contents};
use crate::sign::digests::{self, FileDigests};
use crate::sign::pkix;
use crate::sign::x509::{self, CertChain, PdfSigner, PdfSigningKey};
use crate::sign::{self, KeyId, SecretKey, SignError, Signatures, TrustedComment, cms};

/// Every key a document is signed with.
pub struct KeySet {
    ed25519: SecretKey,
    pdf: Option<PdfKeys>,
}

/// The embedded signature's key and chain, with what the documents say about them.
#[derive(Debug)]
pub struct PdfKeys {
    signer: PdfSigner,
    /// Bytes reserved for the CMS: measured on this chain, so no room is wasted.
    contents_size: usize,
    /// Lowercase hex SHA-256 of the leaf certificate.
    cert_sha256: String,
}

/// Extra bytes reserved beyond the measured CMS: an ECDSA signature's DER length varies
/// by a few bytes with the values of r and s.
const CMS_MARGIN: usize = 16;

/// Why the keys could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    Sign(#[from] SignError),
    #[error("no signing key given")]
    Missing,
}

impl crate::error::Hint for KeyError {
    fn hint(&self) -> Option<String> {
        match self {
            KeyError::Sign(e) => e.hint(),
            KeyError::Missing => Some(format!(
                "pass --key FILE, set {} to the key's PEM text, or set `key` in dpa.toml",
                crate::config::KEY_ENV
            )),
        }
    }
}

/// Why the embedded signature could not be made.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error(transparent)]
    Sign(#[from] SignError),
    #[error(transparent)]
    Pdf(#[from] PdfError),
}

impl KeySet {
    /// Loads the keys from where the inputs say; the PDF chain is checked (key match,
    /// order, issuers, usage) and must be valid on `issue_date`.
    pub fn load(
        source: &KeySource,
        pdf: &PdfSource,
        issue_date: NaiveDate,
    ) -> Result<KeySet, KeyError> {
        let ed25519 = match source {
            KeySource::File(path) => SecretKey::load(&path.value)?,
            KeySource::Env(var) => SecretKey::from_env(var)?,
            KeySource::Missing => return Err(KeyError::Missing),
        };
        let set = KeySet { ed25519, pdf: None };
        match pdf {
            PdfSource::Unsigned => Ok(set),
            PdfSource::Signed { key, chain } => {
                let key = match key {
                    KeySource::File(path) => PdfSigningKey::load(&path.value)?,
                    KeySource::Env(var) => PdfSigningKey::from_env(var)?,
                    KeySource::Missing => return Err(KeyError::Missing),
                };
                let chain = CertChain::load(&chain.value)?;
                let signer = PdfSigner::new(key, chain, x509::start_of_day(issue_date))?;
                Ok(set.with_pdf(signer)?)
            }
        }
    }

    /// A key set of one Ed25519 key (documents get no embedded signature).
    pub fn from_ed25519(key: SecretKey) -> KeySet {
        KeySet {
            ed25519: key,
            pdf: None,
        }
    }

    /// Adds the PDF signer; the room for its CMS is measured on its chain.
    pub fn with_pdf(mut self, signer: PdfSigner) -> Result<KeySet, SignError> {
        // Every real CMS is at most this long (the ECDSA signature's DER length varies by
        // a few bytes); the margin is kept for safety.
        let longest = cms::max_len(&signer)?;
        let cert_sha256 = pkix::cert_fingerprint(signer.chain().leaf());
        self.pdf = Some(PdfKeys {
            contents_size: longest + CMS_MARGIN,
            cert_sha256,
            signer,
        });
        Ok(self)
    }

    /// The id of the detached-signature key, printed in documents and comments.
    pub fn key_id(&self) -> KeyId {
        self.ed25519.key_id()
    }

    /// The Ed25519 key.
    pub fn ed25519(&self) -> &SecretKey {
        &self.ed25519
    }

    /// The embedded signature's key and chain, when documents are signed in the PDF.
    pub fn pdf(&self) -> Option<&PdfKeys> {
        self.pdf.as_ref()
    }

    /// Warnings to show about the keys (e.g. a demo key).
    pub fn warnings(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .ed25519
            .warning()
            .map(|w| w.to_string())
            .into_iter()
            .collect();
        if let Some(w) = self.pdf.as_ref().and_then(|p| p.signer.key().warning()) {
            out.push(w.to_string());
        }
        out
    }

    /// Fills the placeholders of `written` with the certification signature dated
    /// `issued` (00:00 UTC); a document rendered without placeholders passes unchanged.
    pub fn embed(&self, written: Written, issued: NaiveDate) -> Result<Vec<u8>, EmbedError> {
        let mut bytes = written.bytes;
        let (Some(places), Some(pdf)) = (written.placeholders, &self.pdf) else {
            return Ok(bytes);
        };
        pdf.signer
            .chain()
            .check_validity(x509::start_of_day(issued))?;
        let [a, b] = fill_byte_range(&mut bytes, &places)?;
        let digest = digests::sha256_around(&bytes, a.end..b.start);
        let cms = cms::sign_digest(&pdf.signer, &digest)?;
        fill_contents(&mut bytes, &places, &cms)?;
        Ok(bytes)
    }

    /// The detached signatures over the final bytes; `digests` and `comment.sha256` must
    /// be theirs.
    pub fn detached(
        &self,
        file_name: &str,
        pdf: &[u8],
        digests: &FileDigests,
        comment: &TrustedComment,
        raw: bool,
    ) -> Result<Signatures, SignError> {
        sign::sign_hashed(&self.ed25519, file_name, pdf, digests, comment, raw)
    }
}

impl PdfKeys {
    /// The key and checked chain.
    pub fn signer(&self) -> &PdfSigner {
        &self.signer
    }

    /// Bytes reserved in each PDF for the CMS.
    pub fn contents_size(&self) -> usize {
        self.contents_size
    }

    /// Lowercase hex SHA-256 of the signer's certificate.
    pub fn cert_sha256(&self) -> &str {
        &self.cert_sha256
    }

    /// The certificate id printed in the signature's appearance: the first 16 hex digits
    /// of the certificate's SHA-256, in groups of four.
    pub fn cert_id(&self) -> String {
        let upper = self.cert_sha256[..16].to_uppercase();
        upper
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The signer certificate's common name, the name readers show as the signer.
    pub fn signer_name(&self) -> Option<String> {
        pkix::common_name(self.signer.chain().leaf())
    }

    /// The signer certificate's subject.
    pub fn subject(&self) -> String {
        pkix::subject(self.signer.chain().leaf())
    }

    /// Lowercase hex SHA-256 of the top certificate of the chain (the root to publish).
    pub fn root_sha256(&self) -> String {
        self.signer.chain().root_fingerprint()
    }
}
