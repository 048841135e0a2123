//! The vendor's PDF signing identity: an ECDSA P-256 key and its X.509 certificate chain.
//!
//! In: a folder and the vendor's name and e-mail (`generate`), or a PKCS#8 key file and a
//! PEM chain issued by a CA (`PdfSigner::load`), and the date documents are signed at.
//! Out: a [`PdfSigner`] whose chain was checked (the leaf matches the key, each
//! certificate is signed by the next, issuers are CAs, everything is valid at the signing
//! date, the leaf may sign documents), key files written like the Ed25519 ones (0600,
//! created exclusively, never overwritten), and the root's SHA-256 fingerprint to publish.
//!
//! The default chain is a small vendor root (CA, keyCertSign) and a leaf (the vendor's
//! legal name and e-mail; digitalSignature, nonRepudiation) signed by it: readers and NSS
//! trust a root, never a self-signed leaf. The root's private key signs the leaf and is
//! then dropped, so there is no second secret to keep; a new key means a new root.
//! Same key, same subject, same dates give the same certificates (deterministic ECDSA,
//! serial numbers derived from the keys), which is what keeps the demo fixtures stable.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{DateTime, NaiveDate, Utc};
use der::asn1::{Ia5String, SetOfVec, Utf8StringRef};
use der::pem::LineEnding;
use der::{Any, Decode, Encode, EncodePem};
use p256::ecdsa::{DerSignature, SigningKey, VerifyingKey};
use p256::pkcs8::EncodePrivateKey;
use serde::Serialize;
use sha2::{Digest, Sha256};
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::Certificate;
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{KeyUsages, SubjectAltName};
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};
use zeroize::Zeroizing;

use super::keys::{self, KeyWarning};
use super::pkix::{self, KeyAlgorithm, oid};
use super::{SignError, cms};

/// The P-256 secret key (PKCS#8 PEM, mode 0600).
pub const PDF_KEY_FILE: &str = "pdf-signing.key";
/// The certificate chain, leaf first, then each issuer up to the root.
pub const PDF_CHAIN_FILE: &str = "pdf-signing.chain.pem";
/// The root certificate alone: what customers trust and what the vendor publishes.
pub const PDF_ROOT_FILE: &str = "pdf-root.pem";

/// The common name of the demo chain's leaf, so no reader mistakes it for a real signer.
pub const DEMO_COMMON_NAME: &str = "DEMO ONLY - not a real signer";

/// Signatures a key makes before it builds its table of the generator's multiples (see
/// [`PdfSigningKey::precompute`]): the table costs about as much as three signatures, so
/// one `dpa generate` never builds it and a batch does from its fourth document on.
const SIGNATURES_BEFORE_TABLE: u32 = 3;

/// An ECDSA P-256 secret key; its bytes never appear in Debug output, errors or logs.
pub struct PdfSigningKey {
    key: SigningKey,
    /// The same secret for p256 0.14, set by [`PdfSigningKey::precompute`]: it signs with
    /// a table of multiples of the generator, in under half of 0.13's instructions, but
    /// building the table costs as much as three signatures, so it is built once a
    /// process has signed [`SIGNATURES_BEFORE_TABLE`] times without it.
    tables: OnceLock<Box<p256_tables::ecdsa::SigningKey>>,
    /// Signatures made without the table so far.
    signed: AtomicU32,
    warning: Option<KeyWarning>,
}

impl std::fmt::Debug for PdfSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PdfSigningKey")
            .field("public", &hex::encode(self.public_key_bytes()))
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl PdfSigningKey {
    /// A new key from the operating system's randomness.
    pub fn generate() -> PdfSigningKey {
        PdfSigningKey::new(SigningKey::random(&mut rand_core::OsRng))
    }

    fn new(key: SigningKey) -> PdfSigningKey {
        PdfSigningKey {
            key,
            tables: OnceLock::new(),
            signed: AtomicU32::new(0),
            warning: None,
        }
    }

    /// Builds p256 0.14's table of multiples of the generator (about 3.2 M instructions,
    /// once per process) and the key that uses it. Each signature then costs 0.9 M
    /// instructions instead of 2.0 M, with the same bytes (RFC 6979 nonces).
    fn precompute(&self) {
        self.tables.get_or_init(|| {
            let secret = Zeroizing::new(self.key.to_bytes());
            let key = p256_tables::ecdsa::SigningKey::from_slice(secret.as_slice());
            Box::new(key.expect("a valid P-256 secret for p256 0.13 is one for 0.14"))
        });
    }

    /// A key derived from `seed`, for demo and test fixtures that must be reproducible.
    ///
    /// Never use it for real documents: anyone who knows the seed has the key.
    pub fn from_seed(seed: &[u8]) -> PdfSigningKey {
        let mut counter = 0u32;
        loop {
            let mut hasher = Sha256::new();
            hasher.update(b"dpa fixture P-256 key\0");
            hasher.update(seed);
            hasher.update(counter.to_be_bytes());
            // A digest at or above the group order (odds about 2^-32) is skipped.
            if let Ok(key) = SigningKey::from_slice(&hasher.finalize()) {
                return PdfSigningKey::new(key);
            }
            counter += 1;
        }
    }

    /// Loads a PKCS#8 (or SEC1 `EC PRIVATE KEY`) PEM file, refusing one others may access.
    ///
    /// The demo/test exception of the Ed25519 key applies: a file whose real name (after
    /// resolving symbolic links) contains `demo-only` or `test-only` loads with a warning.
    pub fn load(path: &Path) -> Result<PdfSigningKey, SignError> {
        let text = keys::read_secret_text(path).map_err(|e| match e {
            // A binary file (a DER key, say): said as this key's format error.
            SignError::SecretKeyFormat { origin, detail } => {
                SignError::PdfKeyFormat { origin, detail }
            }
            other => other,
        })?;
        let mut key = PdfSigningKey::parse_pem(&text.0, &path.display().to_string())?;
        key.warning = text.1;
        Ok(key)
    }

    /// Reads the PEM text from the environment variable `var` (for CI systems).
    pub fn from_env(var: &str) -> Result<PdfSigningKey, SignError> {
        let text = keys::secret_env_text(var)?;
        PdfSigningKey::parse_pem(&text, &format!("from ${var}"))
    }

    /// Parses PEM text; `origin` names its source in errors. Other key types are named.
    pub fn parse_pem(text: &str, origin: &str) -> Result<PdfSigningKey, SignError> {
        let format_error = |detail: &str| SignError::PdfKeyFormat {
            origin: origin.to_string(),
            detail: detail.to_string(),
        };
        let trimmed = text.trim();
        if trimmed.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
            return Err(format_error(
                "it is encrypted; decrypt it with `openssl pkey -in KEY -out pdf-signing.key`",
            ));
        }
        if trimmed.starts_with("-----BEGIN RSA PRIVATE KEY-----") {
            return Err(unsupported(origin, KeyAlgorithm::Rsa));
        }
        if trimmed.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----") {
            return Err(format_error(
                "it is an OpenSSH key; the PDF signature needs an ECDSA P-256 key in PKCS#8 PEM",
            ));
        }
        if trimmed.starts_with("-----BEGIN EC PRIVATE KEY-----") {
            // SEC1, as `openssl ecparam -genkey` writes it.
            let not_p256 =
                || format_error("an EC key that is not on the P-256 curve (or is damaged)");
            let (label, der) = der::pem::decode_vec(trimmed.as_bytes()).map_err(|_| not_p256())?;
            let der = Zeroizing::new(der);
            if label != "EC PRIVATE KEY" {
                return Err(not_p256());
            }
            let sec1 = sec1::EcPrivateKey::from_der(&der).map_err(|_| not_p256())?;
            let key = signing_key_of(&sec1).map_err(format_error)?;
            return Ok(PdfSigningKey::new(key));
        }
        if !trimmed.starts_with("-----BEGIN PRIVATE KEY-----") {
            return Err(format_error("expected -----BEGIN PRIVATE KEY-----"));
        }
        let (label, der) = der::pem::decode_vec(trimmed.as_bytes())
            .map_err(|e| format_error(&format!("PEM: {e}")))?;
        let der = Zeroizing::new(der);
        if label != "PRIVATE KEY" {
            return Err(format_error("expected -----BEGIN PRIVATE KEY-----"));
        }
        PdfSigningKey::from_pkcs8_der(&der, origin)
    }

    /// Parses a PKCS#8 `PrivateKeyInfo` (DER), as a PEM file or a PKCS#12 file holds it;
    /// `origin` names its source in errors. Other key types are named.
    pub fn from_pkcs8_der(der: &[u8], origin: &str) -> Result<PdfSigningKey, SignError> {
        let format_error = |detail: &str| SignError::PdfKeyFormat {
            origin: origin.to_string(),
            detail: detail.to_string(),
        };
        match KeyAlgorithm::of_pkcs8(der) {
            Some(KeyAlgorithm::Ec(Some(oid::P256))) => {}
            Some(other) => return Err(unsupported(origin, other)),
            None => return Err(format_error("not a PKCS#8 private key structure")),
        }
        let info =
            pkcs8::PrivateKeyInfo::try_from(der).map_err(|e| format_error(&e.to_string()))?;
        let sec1 = sec1::EcPrivateKey::from_der(info.private_key)
            .map_err(|e| format_error(&format!("the EC private key inside: {e}")))?;
        let key = signing_key_of(&sec1).map_err(format_error)?;
        Ok(PdfSigningKey::new(key))
    }

    /// Set when the key was accepted despite loose permissions (demo or test keys only).
    pub fn warning(&self) -> Option<&KeyWarning> {
        self.warning.as_ref()
    }

    /// The public key.
    pub fn verifying_key(&self) -> &VerifyingKey {
        self.key.verifying_key()
    }

    /// The public key as SubjectPublicKeyInfo.
    pub fn public_spki(&self) -> Result<SubjectPublicKeyInfoOwned, SignError> {
        SubjectPublicKeyInfoOwned::from_key(*self.key.verifying_key()).map_err(|e| {
            SignError::Certificate {
                origin: "encoder".into(),
                detail: e.to_string(),
            }
        })
    }

    fn public_key_bytes(&self) -> Vec<u8> {
        self.key
            .verifying_key()
            .to_encoded_point(true)
            .as_bytes()
            .to_vec()
    }

    /// The PKCS#8 PEM text (`-----BEGIN PRIVATE KEY-----`), which OpenSSL reads.
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>, SignError> {
        self.key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| SignError::PdfKeyFormat {
                origin: "encoder".into(),
                detail: e.to_string(),
            })
    }

    pub(crate) fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    /// The deterministic (RFC 6979) ECDSA signature of a SHA-256 digest, DER-encoded.
    /// With the table once this key has signed [`SIGNATURES_BEFORE_TABLE`] times without.
    pub(crate) fn sign_prehash(&self, prehash: &[u8]) -> Result<Vec<u8>, SignError> {
        if self.tables.get().is_none()
            && self.signed.fetch_add(1, Ordering::Relaxed) >= SIGNATURES_BEFORE_TABLE
        {
            self.precompute();
        }
        if let Some(tables) = self.tables.get() {
            use p256_tables::ecdsa::signature::hazmat::PrehashSigner;
            let signature: p256_tables::ecdsa::Signature =
                tables.sign_prehash(prehash).map_err(cms::cms_error)?;
            return Ok(signature.to_der().as_bytes().to_vec());
        }
        use ecdsa::signature::hazmat::PrehashSigner;
        let signature: p256::ecdsa::Signature =
            self.key.sign_prehash(prehash).map_err(cms::cms_error)?;
        Ok(signature.to_der().as_bytes().to_vec())
    }
}

/// The P-256 signing key held by a SEC1 `ECPrivateKey` (alone or inside PKCS#8); one
/// whose curve is not P-256, or whose stored public key is not its own, is refused.
///
/// Written out rather than left to `SigningKey::from_pkcs8_der`, which derives the public
/// key twice (once to check the stored copy, once for the signing key): a scalar
/// multiplication, about 1.5 M instructions, of every process that signs PDFs.
fn signing_key_of(ec: &sec1::EcPrivateKey<'_>) -> Result<SigningKey, &'static str> {
    if let Some(params) = &ec.parameters
        && params.named_curve() != Some(oid::P256)
    {
        return Err("an EC key that is not on the P-256 curve");
    }
    let key = SigningKey::from_slice(ec.private_key)
        .map_err(|_| "the private key is not a valid P-256 scalar (the file is damaged)")?;
    if let Some(stored) = ec.public_key {
        let stored = p256::EncodedPoint::from_bytes(stored)
            .map_err(|_| "the public key stored with the private key is damaged")?;
        if key.verifying_key().to_encoded_point(stored.is_compressed()) != stored {
            return Err(
                "the public key stored with the private key is not its own (the file was damaged or edited)",
            );
        }
    }
    Ok(key)
}

fn unsupported(origin: &str, algorithm: KeyAlgorithm) -> SignError {
    SignError::UnsupportedKey {
        origin: origin.to_string(),
        found: algorithm.to_string(),
        expected: "an ECDSA P-256 key".into(),
    }
}

/// A certificate chain, leaf first, each certificate followed by its issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertChain {
    certs: Vec<Certificate>,
    origin: String,
}

/// Chain files larger than this are not certificate chains.
const MAX_CHAIN_FILE: u64 = 1024 * 1024;

impl CertChain {
    /// Reads a PEM file of one or more certificates, leaf first.
    pub fn load(path: &Path) -> Result<CertChain, SignError> {
        let origin = path.display().to_string();
        let bytes = read_small(path, MAX_CHAIN_FILE, "read certificate chain")?;
        let text = String::from_utf8(bytes).map_err(|_| SignError::Certificate {
            origin: origin.clone(),
            detail: "the file is not PEM text".into(),
        })?;
        CertChain::parse_pem(&text, &origin)
    }

    /// Parses PEM text of one or more `CERTIFICATE` blocks; `origin` names it in errors.
    pub fn parse_pem(text: &str, origin: &str) -> Result<CertChain, SignError> {
        let fail = |detail: String| SignError::Certificate {
            origin: origin.to_string(),
            detail,
        };
        if text.contains("PRIVATE KEY-----") {
            // Never echo it: a key pasted into the chain file is a secret.
            return Err(fail(
                "it contains a private key; keep the key in its own file and give only certificates here".into(),
            ));
        }
        if !text.contains("-----BEGIN CERTIFICATE-----") {
            return Err(fail(
                "no -----BEGIN CERTIFICATE----- block found (a DER file? convert it with `openssl x509 -inform DER -in CERT -out cert.pem`)".into(),
            ));
        }
        let certs = Certificate::load_pem_chain(text.trim().as_bytes())
            .map_err(|e| fail(format!("not a PEM certificate chain: {e}")))?;
        CertChain::from_certs(certs, origin)
    }

    /// A chain of already decoded certificates, leaf first.
    pub fn from_certs(certs: Vec<Certificate>, origin: &str) -> Result<CertChain, SignError> {
        if certs.is_empty() {
            return Err(SignError::Certificate {
                origin: origin.to_string(),
                detail: "it holds no certificate".into(),
            });
        }
        Ok(CertChain {
            certs,
            origin: origin.to_string(),
        })
    }

    /// The certificates, leaf first.
    pub fn certificates(&self) -> &[Certificate] {
        &self.certs
    }

    /// The signer's own certificate.
    pub fn leaf(&self) -> &Certificate {
        &self.certs[0]
    }

    /// The last certificate: the root when the chain includes it.
    pub fn top(&self) -> &Certificate {
        &self.certs[self.certs.len() - 1]
    }

    /// The file or source the chain came from.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Lowercase hex SHA-256 of the top certificate: the fingerprint to publish.
    pub fn root_fingerprint(&self) -> String {
        pkix::cert_fingerprint(self.top())
    }

    /// The chain as PEM, leaf first.
    pub fn to_pem(&self) -> Result<String, SignError> {
        let mut out = String::new();
        for cert in &self.certs {
            out.push_str(&cert_pem(cert)?);
        }
        Ok(out)
    }

    /// Checks that the chain can sign documents with `key` at time `at`.
    ///
    /// The leaf holds `key`'s public key and may sign documents; each certificate is
    /// signed by the next, which is a CA; every certificate is valid at `at`.
    pub fn check(&self, key: &VerifyingKey, at: DateTime<Utc>) -> Result<(), SignError> {
        let origin = &self.origin;
        let leaf = self.leaf();
        let leaf_spki = &leaf.tbs_certificate.subject_public_key_info;
        let key_spki =
            SubjectPublicKeyInfoOwned::from_key(*key).map_err(|e| SignError::Certificate {
                origin: origin.clone(),
                detail: e.to_string(),
            })?;
        if leaf_spki != &key_spki {
            let found = KeyAlgorithm::of_spki(leaf_spki);
            return Err(SignError::CertificateKeyMismatch {
                origin: origin.clone(),
                subject: pkix::subject(leaf),
                detail: if found == KeyAlgorithm::Ec(Some(oid::P256)) {
                    "its public key is another P-256 key".into()
                } else {
                    format!("it certifies a {found} key")
                },
            });
        }
        let usage_error = |detail: String| SignError::CertificateUse {
            origin: origin.clone(),
            detail,
        };
        if let Some(usage) = pkix::key_usage(leaf).map_err(usage_error)?
            && !usage.0.contains(KeyUsages::DigitalSignature)
            && !usage.0.contains(KeyUsages::NonRepudiation)
        {
            return Err(usage_error(format!(
                "certificate {} does not allow digital signatures (key usage {:?})",
                pkix::subject(leaf),
                usage.0
            )));
        }
        for (position, pair) in self.certs.windows(2).enumerate() {
            let (cert, issuer) = (&pair[0], &pair[1]);
            let names_match = cert.tbs_certificate.issuer == issuer.tbs_certificate.subject;
            if !names_match || pkix::issued_by(cert, issuer).is_err() {
                let reversed = issuer.tbs_certificate.issuer == cert.tbs_certificate.subject
                    && pkix::issued_by(issuer, cert).is_ok();
                return Err(SignError::ChainOrder {
                    origin: origin.clone(),
                    detail: if reversed {
                        format!(
                            "certificate {} ({}) is issued by certificate {} ({}): the chain is in reverse order",
                            position + 2,
                            pkix::subject(issuer),
                            position + 1,
                            pkix::subject(cert)
                        )
                    } else {
                        format!(
                            "certificate {} ({}) did not issue certificate {} ({}, issued by {})",
                            position + 2,
                            pkix::subject(issuer),
                            position + 1,
                            pkix::subject(cert),
                            pkix::issuer(cert)
                        )
                    },
                });
            }
            let (ca, _) = pkix::basic_constraints(issuer).map_err(usage_error)?;
            let may_sign_certs = pkix::key_usage(issuer)
                .map_err(usage_error)?
                .is_none_or(|u| u.0.contains(KeyUsages::KeyCertSign));
            if !ca || !may_sign_certs {
                return Err(usage_error(format!(
                    "certificate {} ({}) issues certificate {} but is not a certification authority",
                    position + 2,
                    pkix::subject(issuer),
                    position + 1
                )));
            }
        }
        self.check_validity(at)
    }

    /// Checks only that every certificate is valid at `at` (the cheap part of
    /// [`CertChain::check`], for each document's own signing time).
    pub fn check_validity(&self, at: DateTime<Utc>) -> Result<(), SignError> {
        for cert in &self.certs {
            let (not_before, not_after) = pkix::validity(cert);
            if at < not_before || at > not_after {
                return Err(SignError::CertificateExpired {
                    origin: self.origin.clone(),
                    subject: pkix::subject(cert),
                    not_before,
                    not_after,
                    at,
                });
            }
        }
        Ok(())
    }
}

/// One certificate as PEM text.
pub fn cert_pem(cert: &Certificate) -> Result<String, SignError> {
    cert.to_pem(LineEnding::LF)
        .map_err(|e| SignError::Certificate {
            origin: "encoder".into(),
            detail: e.to_string(),
        })
}

/// The key and checked chain that sign PDFs.
#[derive(Debug)]
pub struct PdfSigner {
    key: PdfSigningKey,
    chain: CertChain,
}

impl PdfSigner {
    /// Pairs a key and a chain after [`CertChain::check`] at the signing time `at`.
    pub fn new(
        key: PdfSigningKey,
        chain: CertChain,
        at: DateTime<Utc>,
    ) -> Result<PdfSigner, SignError> {
        chain.check(key.verifying_key(), at)?;
        Ok(PdfSigner { key, chain })
    }

    /// Loads `key_path` and `chain_path` and checks them for signing at `at`.
    pub fn load(
        key_path: &Path,
        chain_path: &Path,
        at: DateTime<Utc>,
    ) -> Result<PdfSigner, SignError> {
        let key = PdfSigningKey::load(key_path)?;
        let chain = CertChain::load(chain_path)?;
        PdfSigner::new(key, chain, at)
    }

    /// The signing key.
    pub fn key(&self) -> &PdfSigningKey {
        &self.key
    }

    /// The certificate chain, leaf first.
    pub fn chain(&self) -> &CertChain {
        &self.chain
    }
}

/// Who the default chain names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainSubject {
    /// The leaf's common name: the vendor's legal name, or [`DEMO_COMMON_NAME`].
    pub common_name: String,
    /// The organisation: the vendor's legal name.
    pub organization: String,
    /// The signer's e-mail, put in the subject and the subject alternative name.
    pub email: Option<String>,
}

impl ChainSubject {
    /// A vendor's real signing identity.
    pub fn vendor(legal_name: &str, email: Option<&str>) -> ChainSubject {
        ChainSubject {
            common_name: legal_name.to_string(),
            organization: legal_name.to_string(),
            email: email.map(str::to_string),
        }
    }

    /// A demo identity whose subject says it is for demonstrations only.
    pub fn demo(legal_name: &str, email: Option<&str>) -> ChainSubject {
        ChainSubject {
            common_name: DEMO_COMMON_NAME.to_string(),
            organization: format!("{legal_name} (demonstration only)"),
            email: email.map(str::to_string),
        }
    }
}

/// Years a default chain is valid for, root and leaf alike.
pub const DEFAULT_YEARS: u16 = 10;

/// Issues the default chain: a root made with `root_key`, then a leaf for `leaf_key`.
///
/// Validity runs from `not_before` (00:00 UTC) for `years` years. Deterministic: the
/// same keys, subject and dates give byte-identical certificates.
pub fn issue_default_chain(
    leaf_key: &PdfSigningKey,
    root_key: &PdfSigningKey,
    subject: &ChainSubject,
    not_before: NaiveDate,
    years: u16,
) -> Result<CertChain, SignError> {
    let fail = |detail: String| SignError::Certificate {
        origin: "new certificate".into(),
        detail,
    };
    let validity = validity(not_before, years).map_err(fail)?;
    let root_name = name(&[
        (
            oid::COMMON_NAME,
            format!("{} document signing root", subject.organization),
        ),
        (oid::ORGANIZATION, subject.organization.clone()),
    ])
    .map_err(fail)?;
    let mut leaf_parts = vec![
        (oid::COMMON_NAME, subject.common_name.clone()),
        (oid::ORGANIZATION, subject.organization.clone()),
    ];
    if let Some(email) = &subject.email {
        leaf_parts.push((oid::EMAIL_ADDRESS, email.clone()));
    }
    let leaf_name = name(&leaf_parts).map_err(fail)?;

    let root_spki = root_key.public_spki()?;
    let leaf_spki = leaf_key.public_spki()?;
    let root_builder = CertificateBuilder::new(
        Profile::Root,
        serial_for(b"root", &root_spki).map_err(fail)?,
        validity,
        root_name.clone(),
        root_spki,
        root_key.signing_key(),
    )
    .map_err(|e| fail(e.to_string()))?;
    let root = root_builder
        .build::<DerSignature>()
        .map_err(|e| fail(e.to_string()))?;

    let mut leaf_builder = CertificateBuilder::new(
        Profile::Leaf {
            issuer: root_name,
            enable_key_agreement: false,
            enable_key_encipherment: false,
        },
        serial_for(b"leaf", &leaf_spki).map_err(fail)?,
        validity,
        leaf_name,
        leaf_spki,
        root_key.signing_key(),
    )
    .map_err(|e| fail(e.to_string()))?;
    if let Some(email) = &subject.email {
        let ia5 = Ia5String::new(email).map_err(|_| {
            fail(format!(
                "the e-mail {email:?} is not ASCII and cannot go into a certificate"
            ))
        })?;
        leaf_builder
            .add_extension(&SubjectAltName(vec![GeneralName::Rfc822Name(ia5)]))
            .map_err(|e| fail(e.to_string()))?;
    }
    let leaf = leaf_builder
        .build::<DerSignature>()
        .map_err(|e| fail(e.to_string()))?;
    CertChain::from_certs(vec![leaf, root], "new certificate")
}

/// A positive 16-byte serial number derived from the certified key.
fn serial_for(role: &[u8], spki: &SubjectPublicKeyInfoOwned) -> Result<SerialNumber, String> {
    let mut hasher = Sha256::new();
    hasher.update(role);
    hasher.update(spki.to_der().map_err(|e| e.to_string())?);
    let digest = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    // Positive and without a leading zero byte, so the DER integer is exactly 16 bytes.
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    SerialNumber::new(&bytes).map_err(|e| e.to_string())
}

fn validity(not_before: NaiveDate, years: u16) -> Result<Validity, String> {
    let time = |date: NaiveDate, h: u8, m: u8, s: u8| -> Result<Time, String> {
        let year = u16::try_from(chrono::Datelike::year(&date)).map_err(|e| e.to_string())?;
        let dt = der::DateTime::new(
            year,
            chrono::Datelike::month(&date) as u8,
            chrono::Datelike::day(&date) as u8,
            h,
            m,
            s,
        )
        .map_err(|e| format!("date {date}: {e}"))?;
        Ok(Time::GeneralTime(
            der::asn1::GeneralizedTime::from_date_time(dt),
        ))
    };
    let end = not_before
        .checked_add_months(chrono::Months::new(u32::from(years) * 12))
        .and_then(|d| d.pred_opt())
        .ok_or_else(|| format!("{not_before} plus {years} years is out of range"))?;
    Ok(Validity {
        not_before: time(not_before, 0, 0, 0)?,
        not_after: time(end, 23, 59, 59)?,
    })
}

/// A distinguished name from (attribute, UTF-8 value) pairs, one RDN each.
fn name(parts: &[(der::asn1::ObjectIdentifier, String)]) -> Result<Name, String> {
    let mut rdns = Vec::new();
    for (oid, value) in parts {
        if value.is_empty() || value.chars().any(char::is_control) {
            return Err(format!(
                "{value:?} cannot be a certificate name (empty or control characters)"
            ));
        }
        let any = if *oid == oid::EMAIL_ADDRESS {
            let ia5 =
                Ia5String::new(value).map_err(|_| format!("the e-mail {value:?} is not ASCII"))?;
            Any::encode_from(&ia5).map_err(|e| e.to_string())?
        } else {
            let utf8 = Utf8StringRef::new(value).map_err(|e| e.to_string())?;
            Any::encode_from(&utf8).map_err(|e| e.to_string())?
        };
        let atv = AttributeTypeAndValue {
            oid: *oid,
            value: any,
        };
        let set = SetOfVec::try_from(vec![atv]).map_err(|e| e.to_string())?;
        rdns.push(RelativeDistinguishedName(set));
    }
    Ok(RdnSequence(rdns))
}

/// What [`write_files`] wrote and what the vendor should publish.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PdfKeyInfo {
    /// `DIR/pdf-signing.key`, mode 0600.
    pub secret_key: PathBuf,
    /// `DIR/pdf-signing.chain.pem`, leaf first.
    pub chain: PathBuf,
    /// `DIR/pdf-root.pem`, the certificate customers trust.
    pub root: PathBuf,
    /// The leaf's subject.
    pub subject: String,
    /// Lowercase hex SHA-256 of the root certificate: publish it.
    pub root_fingerprint: String,
    /// When the leaf certificate expires.
    pub not_after: DateTime<Utc>,
    /// Things the user should know (e.g. a world-writable folder).
    pub warnings: Vec<KeyWarning>,
}

/// Creates a P-256 key and the default chain for `subject` and writes the three files.
///
/// The chain is valid from `not_before` for [`DEFAULT_YEARS`]; pass the day keygen runs
/// (documents dated earlier cannot be signed with it). Nothing is overwritten.
pub fn generate(
    dir: &Path,
    subject: &ChainSubject,
    not_before: NaiveDate,
) -> Result<PdfKeyInfo, SignError> {
    let (key, chain) = new_default(subject, not_before)?;
    write_files(dir, &key, &chain)
}

/// A new key and the default chain for it; the root's key is dropped once it has signed.
fn new_default(
    subject: &ChainSubject,
    not_before: NaiveDate,
) -> Result<(PdfSigningKey, CertChain), SignError> {
    let key = PdfSigningKey::generate();
    let root_key = PdfSigningKey::generate();
    let chain = issue_default_chain(&key, &root_key, subject, not_before, DEFAULT_YEARS)?;
    // The root key has signed the only certificate it will ever sign.
    drop(root_key);
    Ok((key, chain))
}

/// Where the PDF signing identity of a new key set comes from.
pub enum PdfIdentity {
    /// A new key and the default chain (root + leaf) for this subject, valid from the day.
    Default(ChainSubject, NaiveDate),
    /// A key and the chain a CA issued for it, already checked with [`CertChain::check`].
    Import(PdfSigningKey, CertChain),
}

/// Writes both key sets into `dir`: the Ed25519 key files of the detached signatures and
/// the PDF signing key with its chain; all seven files or none.
pub fn generate_all(
    dir: &Path,
    identity: &str,
    pdf: PdfIdentity,
) -> Result<(keys::KeyInfo, PdfKeyInfo), SignError> {
    // Every name is checked before anything is written, so a second run changes nothing.
    let names = [
        keys::SECRET_KEY_FILE,
        keys::PUBLIC_PEM_FILE,
        keys::MINISIGN_PUB_FILE,
        keys::ALLOWED_SIGNERS_FILE,
        PDF_KEY_FILE,
        PDF_CHAIN_FILE,
        PDF_ROOT_FILE,
    ];
    for name in names {
        let path = dir.join(name);
        if fs::symlink_metadata(&path).is_ok() {
            return Err(SignError::KeyExists { path });
        }
    }
    let (key, chain) = match pdf {
        PdfIdentity::Default(subject, not_before) => new_default(&subject, not_before)?,
        PdfIdentity::Import(key, chain) => (key, chain),
    };
    let ed25519 = keys::generate(dir, identity)?;
    match write_files(dir, &key, &chain) {
        Ok(pdf) => Ok((ed25519, pdf)),
        Err(err) => {
            for path in [
                &ed25519.secret_key,
                &ed25519.public_pem,
                &ed25519.minisign_pub,
                &ed25519.allowed_signers,
            ] {
                // Best effort: these files were created by this call a moment ago.
                let _ = fs::remove_file(path);
            }
            Err(err)
        }
    }
}

/// Writes `key` and `chain` as the three PDF signing files in `dir`.
///
/// Nothing is overwritten: if any file exists, nothing is written; if a write fails
/// midway, the files this call created are removed again.
pub fn write_files(
    dir: &Path,
    key: &PdfSigningKey,
    chain: &CertChain,
) -> Result<PdfKeyInfo, SignError> {
    let secret_pem = key.to_pkcs8_pem()?;
    let chain_pem = chain.to_pem()?;
    let root_pem = cert_pem(chain.top())?;
    let info = PdfKeyInfo {
        secret_key: dir.join(PDF_KEY_FILE),
        chain: dir.join(PDF_CHAIN_FILE),
        root: dir.join(PDF_ROOT_FILE),
        subject: pkix::subject(chain.leaf()),
        root_fingerprint: chain.root_fingerprint(),
        not_after: pkix::validity(chain.leaf()).1,
        warnings: keys::folder_warnings(dir),
    };
    keys::create_file_set(
        dir,
        &[
            (&info.secret_key, secret_pem.as_bytes(), true),
            (&info.chain, chain_pem.as_bytes(), false),
            (&info.root, root_pem.as_bytes(), false),
        ],
    )?;
    Ok(info)
}

/// The start of a day in UTC, the signing time of a document dated `date`.
pub fn start_of_day(date: NaiveDate) -> DateTime<Utc> {
    date.and_time(chrono::NaiveTime::MIN).and_utc()
}

pub(super) fn read_small(
    path: &Path,
    limit: u64,
    action: &'static str,
) -> Result<Vec<u8>, SignError> {
    use std::io::Read;
    let io = |source| SignError::Io {
        action,
        path: path.to_path_buf(),
        source,
    };
    let file = fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than {limit} bytes"),
        )));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_bad_pdf_key_is_named_as_the_pdf_key_with_its_own_hint() {
        // Text that is no key, and a file that is not text (a DER key): both are this key's
        // format error, not the Ed25519 key's.
        let dir = std::env::temp_dir().join(format!("dpa-x509-badkey-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let binary = dir.join("der-test-only.key");
        fs::write(&binary, [0x30, 0x81, 0xff, 0x00, 0x9f]).unwrap();
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&binary, fs::Permissions::from_mode(0o600)).unwrap();
        let errors = [
            PdfSigningKey::parse_pem("hello", "text-test-only.key").unwrap_err(),
            PdfSigningKey::load(&binary).unwrap_err(),
        ];
        let _ = fs::remove_dir_all(&dir);
        for err in errors {
            assert!(matches!(err, SignError::PdfKeyFormat { .. }), "{err}");
            let text = err.to_string();
            assert!(
                text.contains("PDF signing key") && text.contains("P-256"),
                "{text}"
            );
            assert!(!text.contains("Ed25519"), "{text}");
            assert!(err.hint().unwrap().contains("ec_paramgen_curve:P-256"));
        }
    }

    fn chain() -> (PdfSigningKey, CertChain) {
        let leaf = PdfSigningKey::from_seed(b"leaf");
        let root = PdfSigningKey::from_seed(b"root");
        let subject = ChainSubject::vendor("SegMetrics, Inc.", Some("privacy@segmetrics.io"));
        let chain = issue_default_chain(&leaf, &root, &subject, date(2026, 1, 1), 10).unwrap();
        (leaf, chain)
    }

    #[test]
    fn signing_with_the_table_gives_the_same_bytes_as_without() {
        let key = PdfSigningKey::from_seed(b"table");
        let digests: Vec<[u8; 32]> = (0u8..24).map(|i| Sha256::digest([i; 7]).into()).collect();
        let fresh = || PdfSigningKey::from_seed(b"table");
        // Each digest signed by a key of its own, which never builds the table.
        let without: Vec<Vec<u8>> = digests
            .iter()
            .map(|d| fresh().sign_prehash(d).unwrap())
            .collect();
        assert!(key.tables.get().is_none());
        // One key signs them all: the table from the fourth signature on.
        for (i, (digest, expected)) in digests.iter().zip(&without).enumerate() {
            assert_eq!(&key.sign_prehash(digest).unwrap(), expected);
            let built = key.tables.get().is_some();
            assert_eq!(
                built,
                i >= SIGNATURES_BEFORE_TABLE as usize,
                "signature {i}"
            );
        }
        // And the signature is one the public key accepts.
        use ecdsa::signature::hazmat::PrehashVerifier;
        let signature = p256::ecdsa::Signature::from_der(&without[0]).unwrap();
        key.verifying_key()
            .verify_prehash(&digests[0], &signature)
            .unwrap();
    }

    #[test]
    fn the_default_chain_is_a_root_and_a_leaf_that_check_out() {
        let (leaf, chain) = chain();
        assert_eq!(chain.certificates().len(), 2);
        chain
            .check(leaf.verifying_key(), start_of_day(date(2026, 6, 1)))
            .unwrap();
        assert!(pkix::is_self_signed(chain.top()));
        assert!(pkix::basic_constraints(chain.top()).unwrap().0);
        assert!(!pkix::basic_constraints(chain.leaf()).unwrap().0);
        let subject = pkix::subject(chain.leaf());
        assert!(subject.contains("CN=SegMetrics\\, Inc."), "{subject}");
        assert!(subject.contains("privacy@segmetrics.io"), "{subject}");
    }

    #[test]
    fn the_default_chain_is_deterministic() {
        let (_, a) = chain();
        let (_, b) = chain();
        assert_eq!(a.to_pem().unwrap(), b.to_pem().unwrap());
    }

    #[test]
    fn expiry_is_judged_at_the_given_date() {
        let (leaf, chain) = chain();
        let late = chain.check(leaf.verifying_key(), start_of_day(date(2036, 1, 1)));
        assert!(
            matches!(late, Err(SignError::CertificateExpired { .. })),
            "{late:?}"
        );
        let early = chain.check(leaf.verifying_key(), start_of_day(date(2025, 12, 31)));
        assert!(matches!(early, Err(SignError::CertificateExpired { .. })));
    }

    #[test]
    fn a_reversed_chain_says_so() {
        let (leaf, chain) = chain();
        let mut certs = chain.certificates().to_vec();
        certs.reverse();
        let reversed = CertChain::from_certs(certs, "chain.pem").unwrap();
        let err = reversed
            .check(leaf.verifying_key(), start_of_day(date(2026, 6, 1)))
            .unwrap_err();
        // The root is first, so the key does not match the first certificate.
        assert!(
            matches!(err, SignError::CertificateKeyMismatch { .. }),
            "{err}"
        );
    }

    #[test]
    fn another_key_does_not_match() {
        let (_, chain) = chain();
        let other = PdfSigningKey::from_seed(b"other");
        let err = chain
            .check(other.verifying_key(), start_of_day(date(2026, 6, 1)))
            .unwrap_err();
        assert!(matches!(err, SignError::CertificateKeyMismatch { .. }));
    }

    #[test]
    fn a_stored_public_key_that_is_not_the_keys_own_is_refused() {
        let key = PdfSigningKey::from_seed(b"x");
        let other = PdfSigningKey::from_seed(b"y");
        let pem = key.to_pkcs8_pem().unwrap();
        let (_, pkcs8_der) = der::pem::decode_vec(pem.as_bytes()).unwrap();
        let info = pkcs8::PrivateKeyInfo::try_from(pkcs8_der.as_slice()).unwrap();
        let honest = sec1::EcPrivateKey::from_der(info.private_key).unwrap();
        let ours = key.verifying_key().to_encoded_point(false);
        assert_eq!(honest.public_key, Some(ours.as_bytes()));
        let theirs = other.verifying_key().to_encoded_point(false);
        let forged = sec1::EcPrivateKey {
            public_key: Some(theirs.as_bytes()),
            ..honest.clone()
        }
        .to_der()
        .unwrap();
        let wrapped = pkcs8::PrivateKeyInfo {
            private_key: &forged,
            ..info
        }
        .to_der()
        .unwrap();
        let pem = |label, der: &[u8]| der::pem::encode_string(label, LineEnding::LF, der).unwrap();

        // In PKCS#8 and in a SEC1 file alone, the mismatch is named, with the file.
        for text in [pem("PRIVATE KEY", &wrapped), pem("EC PRIVATE KEY", &forged)] {
            let err = PdfSigningKey::parse_pem(&text, "forged.key").unwrap_err();
            assert!(matches!(err, SignError::PdfKeyFormat { .. }), "{err}");
            let err = err.to_string();
            assert!(
                err.contains("forged.key") && err.contains("not its own"),
                "{err}"
            );
        }
        // The honest SEC1 file loads, stored key compressed or not, and gives the same key.
        let compressed = key.verifying_key().to_encoded_point(true);
        for stored in [Some(ours.as_bytes()), Some(compressed.as_bytes()), None] {
            let sec1 = sec1::EcPrivateKey {
                public_key: stored,
                ..honest.clone()
            };
            let text = pem("EC PRIVATE KEY", &sec1.to_der().unwrap());
            let again = PdfSigningKey::parse_pem(&text, "sec1.key").unwrap();
            assert_eq!(again.verifying_key(), key.verifying_key());
        }
        // A SEC1 key that names another curve is refused.
        let p384 = sec1::EcPrivateKey {
            parameters: Some(sec1::EcParameters::NamedCurve(oid::P384)),
            ..honest
        };
        let text = pem("EC PRIVATE KEY", &p384.to_der().unwrap());
        let err = PdfSigningKey::parse_pem(&text, "p384.key").unwrap_err();
        assert!(err.to_string().contains("P-256"), "{err}");
    }

    #[test]
    fn key_pem_round_trips_and_other_types_are_named() {
        let key = PdfSigningKey::from_seed(b"x");
        let pem = key.to_pkcs8_pem().unwrap();
        let again = PdfSigningKey::parse_pem(&pem, "k").unwrap();
        assert_eq!(again.verifying_key(), key.verifying_key());
        let ed = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIBERERERERERERERERERERERERERERERERERERERERER\n-----END PRIVATE KEY-----\n";
        let err = PdfSigningKey::parse_pem(ed, "ed.key").unwrap_err();
        assert!(err.to_string().contains("Ed25519"), "{err}");
    }
}
