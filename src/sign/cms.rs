//! CMS SignedData (RFC 5652) as PAdES uses it: building the vendor's, verifying anyone's.
//!
//! In (signing): a [`PdfSigner`] and the bytes a PDF signature covers (its two byte
//! ranges). Out: the DER of a detached SignedData for PAdES baseline B-B (ETSI EN 319
//! 142-1): SHA-256, certificates leaf and issuers, one SignerInfo by issuer and serial,
//! signed attributes content-type, message-digest and ESS signing-certificate-v2, no
//! signing-time attribute (the time goes in the PDF's /M), deterministic ECDSA (RFC 6979).
//!
//! In (verifying): the DER from a PDF's /Contents (zero padding allowed), the covered
//! bytes, and the trust anchors the user gave. Out: a [`CmsVerification`]: the signer's
//! certificate, whether the signature is intact (message digest over the covered bytes,
//! signature over the signed attributes by RSA PKCS#1 v1.5 or PSS, ECDSA P-256/P-384 or
//! Ed25519), the signing time the signer claims, and whether a certification path leads
//! from the signer to one of the anchors. A certificate found only inside the signature
//! is never trusted: it can only help to reach an anchor.

use std::fmt;

use chrono::{DateTime, Utc};
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{OctetString, SetOfVec};
use der::{Any, Decode, Encode, Reader, Sequence, SliceReader};
use serde::Serialize;
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;

use super::SignError;
use super::pkix::{self, CertSummary, Hash, PathProblem, SignatureProblem, TrustAnchors, oid};
use super::x509::PdfSigner;

/// ESS `IssuerSerial` (RFC 5035): the issuer's names and the certificate's serial number.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct IssuerSerial {
    issuer: Vec<GeneralName>,
    serial: SerialNumber,
}

/// ESS `ESSCertIDv2`; the hash algorithm is left out because SHA-256 is its default.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct EssCertIdV2 {
    cert_hash: OctetString,
    issuer_serial: Option<IssuerSerial>,
}

/// ESS `SigningCertificateV2`, without policies.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
}

/// A CMS that could not be made or read, with what went wrong.
pub(super) fn cms_error(detail: impl fmt::Display) -> SignError {
    SignError::Cms {
        detail: detail.to_string(),
    }
}

fn attribute(oid: der::asn1::ObjectIdentifier, value: Any) -> Result<Attribute, SignError> {
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![value]).map_err(cms_error)?,
    })
}

/// The DER of a PAdES B-B SignedData over `parts`, the bytes the PDF signature covers.
pub fn sign(signer: &PdfSigner, parts: &[&[u8]]) -> Result<Vec<u8>, SignError> {
    let digest = Hash::Sha256.digest(parts);
    sign_digest(signer, &digest)
}

/// Like [`sign`] for a caller that already hashed the covered bytes with SHA-256.
pub fn sign_digest(signer: &PdfSigner, sha256: &[u8]) -> Result<Vec<u8>, SignError> {
    build(signer, sha256, |prehash| signer.key().sign_prehash(prehash))
}

/// The largest CMS [`sign_digest`] can make with this signer: the same structure with an
/// ECDSA signature of the longest DER form (72 bytes for P-256), without signing.
pub fn max_len(signer: &PdfSigner) -> Result<usize, SignError> {
    // SEQUENCE { INTEGER (33 bytes), INTEGER (33 bytes) }: both halves with a leading
    // zero byte, which DER adds when the top bit is set.
    let mut longest = vec![0x30, 70, 0x02, 33, 0x00];
    longest.extend([0x80; 32]);
    longest.extend([0x02, 33, 0x00]);
    longest.extend([0x80; 32]);
    Ok(build(signer, &[0u8; 32], |_| Ok(longest.clone()))?.len())
}

/// The CMS SignedData over `sha256`, with the signature `sign` makes of the SHA-256 of
/// the signed attributes (DER-encoded ECDSA).
fn build(
    signer: &PdfSigner,
    sha256: &[u8],
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, SignError>,
) -> Result<Vec<u8>, SignError> {
    let chain = signer.chain();
    let leaf = chain.leaf();
    let sha256_alg = AlgorithmIdentifierOwned {
        oid: oid::SHA256,
        parameters: None,
    };
    let leaf_der = leaf.to_der().map_err(cms_error)?;
    let ess = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            cert_hash: OctetString::new(Hash::Sha256.digest(&[&leaf_der])).map_err(cms_error)?,
            issuer_serial: Some(IssuerSerial {
                issuer: vec![GeneralName::DirectoryName(
                    leaf.tbs_certificate.issuer.clone(),
                )],
                serial: leaf.tbs_certificate.serial_number.clone(),
            }),
        }],
    };
    let signed_attrs = SetOfVec::try_from(vec![
        attribute(
            oid::CONTENT_TYPE,
            Any::encode_from(&oid::DATA).map_err(cms_error)?,
        )?,
        attribute(
            oid::MESSAGE_DIGEST,
            Any::encode_from(&OctetString::new(sha256.to_vec()).map_err(cms_error)?)
                .map_err(cms_error)?,
        )?,
        attribute(
            oid::SIGNING_CERTIFICATE_V2,
            Any::encode_from(&ess).map_err(cms_error)?,
        )?,
    ])
    .map_err(cms_error)?;
    // The signature covers the attributes encoded as a SET OF (tag 0x31), not as the
    // [0] IMPLICIT field they become inside SignerInfo (RFC 5652, 5.4).
    let to_sign = signed_attrs.to_der().map_err(cms_error)?;
    let prehash = Hash::Sha256.digest(&[&to_sign]);
    let signature = sign(&prehash)?;
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: leaf.tbs_certificate.issuer.clone(),
            serial_number: leaf.tbs_certificate.serial_number.clone(),
        }),
        digest_alg: sha256_alg.clone(),
        signed_attrs: Some(signed_attrs),
        signature_algorithm: AlgorithmIdentifierOwned {
            oid: oid::ECDSA_WITH_SHA256,
            parameters: None,
        },
        signature: OctetString::new(signature).map_err(cms_error)?,
        unsigned_attrs: None,
    };
    let certificates = chain
        .certificates()
        .iter()
        .cloned()
        .map(CertificateChoices::Certificate)
        .collect::<Vec<_>>();
    let signed_data = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![sha256_alg]).map_err(cms_error)?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: oid::DATA,
            econtent: None,
        },
        certificates: Some(CertificateSet(
            SetOfVec::try_from(certificates).map_err(cms_error)?,
        )),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![signer_info]).map_err(cms_error)?),
    };
    let info = ContentInfo {
        content_type: oid::SIGNED_DATA,
        content: Any::encode_from(&signed_data).map_err(cms_error)?,
    };
    info.to_der().map_err(cms_error)
}

/// Why a CMS signature is not intact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CmsProblem {
    /// The bytes are not a DER ContentInfo with SignedData.
    Malformed { detail: String },
    /// Something other than exactly one signer.
    SignerCount { count: usize },
    /// The signer's certificate is not among the certificates in the signature.
    SignerCertificateMissing,
    /// The digest algorithm is missing, unknown or too weak.
    DigestAlgorithm { detail: String },
    /// Signed attributes lack content-type or message-digest, or they are wrong.
    SignedAttributes { detail: String },
    /// The signed message digest differs from the digest of the covered bytes.
    DigestMismatch,
    /// The signature over the signed attributes does not verify.
    Signature { problem: SignatureProblem },
}

impl fmt::Display for CmsProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CmsProblem::Malformed { detail } => {
                write!(f, "the signature value is not a CMS signature: {detail}")
            }
            CmsProblem::SignerCount { count } => {
                write!(f, "the CMS signature has {count} signers, not one")
            }
            CmsProblem::SignerCertificateMissing => {
                f.write_str("the signer's certificate is not included in the signature")
            }
            CmsProblem::DigestAlgorithm { detail } => write!(f, "digest algorithm: {detail}"),
            CmsProblem::SignedAttributes { detail } => write!(f, "signed attributes: {detail}"),
            CmsProblem::DigestMismatch => f.write_str(
                "the signed bytes were changed: their digest is not the one that was signed",
            ),
            CmsProblem::Signature { problem } => write!(f, "the signature value: {problem}"),
        }
    }
}

/// Whether a certification path leads from the signer to an anchor the user gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "trust", rename_all = "snake_case")]
pub enum Trust {
    /// The path, signer first, ends at this anchor.
    Trusted { anchor: CertSummary },
    /// No such path; the reason says why.
    Untrusted { problem: PathProblem },
}

impl Trust {
    /// True for a path to an anchor.
    pub fn is_trusted(&self) -> bool {
        matches!(self, Trust::Trusted { .. })
    }
}

/// What a CMS signature says and whether it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CmsVerification {
    /// The signer's certificate, when it was found.
    pub signer: Option<CertSummary>,
    /// The digest algorithm, e.g. `SHA-256`.
    pub digest_algorithm: Option<Hash>,
    /// The signature algorithm, as an OID with its name.
    pub signature_algorithm: Option<String>,
    /// The signing-time attribute, when the signer put one in.
    pub signing_time: Option<DateTime<Utc>>,
    /// `None` when intact, else why not.
    pub problem: Option<CmsProblem>,
    /// The certification path's verdict; `None` until [`CmsVerification::check_trust`].
    pub trust: Option<Trust>,
    /// The signer's certificate and the other certificates carried, for path building.
    #[serde(skip)]
    certificates: Vec<Certificate>,
    #[serde(skip)]
    signer_cert: Option<Certificate>,
}

impl CmsVerification {
    /// True when the covered bytes are exactly those the signer signed.
    pub fn intact(&self) -> bool {
        self.problem.is_none() && self.signer.is_some()
    }

    /// The signer's certificate, when found.
    pub fn signer_certificate(&self) -> Option<&Certificate> {
        self.signer_cert.as_ref()
    }

    /// Checks the certification path from the signer to `anchors` at time `at`.
    ///
    /// `at` is the signing time the caller settles on (the signing-time attribute, else
    /// the PDF's /M); it is a claim of the signer, as no timestamp vouches for it.
    pub fn check_trust(&mut self, anchors: &TrustAnchors, at: DateTime<Utc>) -> &Trust {
        let trust = match &self.signer_cert {
            None => Trust::Untrusted {
                problem: PathProblem::NotAnchored {
                    top_subject: "(no signer certificate)".into(),
                },
            },
            Some(leaf) => match pkix::build_path(leaf, &self.certificates, anchors, at) {
                Ok(path) => Trust::Trusted {
                    anchor: CertSummary::of(path.last().unwrap_or(leaf)),
                },
                Err(problem) => Trust::Untrusted { problem },
            },
        };
        self.trust.insert(trust)
    }
}

/// Largest CMS accepted: far above a chain with timestamps and revocation data.
const MAX_CMS: usize = 1024 * 1024;

/// Verifies a detached CMS signature over `parts` (for a PDF, its two byte ranges).
///
/// `cms` may carry trailing zero bytes (the padding of a PDF's /Contents). Never panics
/// and never errors: every problem is reported in the result.
pub fn verify(cms: &[u8], parts: &[&[u8]]) -> CmsVerification {
    let mut out = CmsVerification {
        signer: None,
        digest_algorithm: None,
        signature_algorithm: None,
        signing_time: None,
        problem: None,
        trust: None,
        certificates: Vec::new(),
        signer_cert: None,
    };
    if let Err(problem) = verify_into(cms, parts, &mut out) {
        out.problem = Some(problem);
    }
    out
}

fn malformed(detail: impl fmt::Display) -> CmsProblem {
    CmsProblem::Malformed {
        detail: detail.to_string(),
    }
}

/// Decodes the DER ContentInfo at the start of `bytes`; only zero bytes may follow it.
fn decode_padded(bytes: &[u8]) -> Result<ContentInfo, CmsProblem> {
    if bytes.len() > MAX_CMS {
        return Err(malformed(format!("larger than {MAX_CMS} bytes")));
    }
    let mut reader = SliceReader::new(bytes).map_err(malformed)?;
    let header = der::Header::decode(&mut reader).map_err(malformed)?;
    let header_len = u32::from(reader.position()) as usize;
    let total = header_len
        .checked_add(u32::from(header.length) as usize)
        .ok_or_else(|| malformed("length overflows"))?;
    let (body, rest) = bytes
        .split_at_checked(total)
        .ok_or_else(|| malformed("truncated"))?;
    if rest.iter().any(|&b| b != 0) {
        return Err(malformed("data follows the signature"));
    }
    ContentInfo::from_der(body).map_err(malformed)
}

fn verify_into(cms: &[u8], parts: &[&[u8]], out: &mut CmsVerification) -> Result<(), CmsProblem> {
    let info = decode_padded(cms)?;
    if info.content_type != oid::SIGNED_DATA {
        return Err(malformed(format!(
            "content type {} instead of signedData",
            pkix::oid_name(&info.content_type)
        )));
    }
    let signed_data: SignedData = info.content.decode_as().map_err(malformed)?;
    out.certificates = signed_data
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .filter_map(|choice| match choice {
            CertificateChoices::Certificate(cert) => Some(cert.clone()),
            CertificateChoices::Other(_) => None,
        })
        .collect();
    let signers = signed_data.signer_infos.0.as_slice();
    let [signer] = signers else {
        return Err(CmsProblem::SignerCount {
            count: signers.len(),
        });
    };
    if signed_data.encap_content_info.econtent.is_some() {
        return Err(malformed(
            "the signature carries its own content; a PDF signature must be detached",
        ));
    }
    let cert =
        find_signer(&signer.sid, &out.certificates).ok_or(CmsProblem::SignerCertificateMissing)?;
    out.signer = Some(CertSummary::of(&cert));
    out.signer_cert = Some(cert.clone());
    out.signature_algorithm = Some(pkix::oid_name(&signer.signature_algorithm.oid));

    let hash =
        Hash::from_oid(&signer.digest_alg.oid).ok_or_else(|| CmsProblem::DigestAlgorithm {
            detail: format!(
                "{} is not accepted (SHA-256, SHA-384 or SHA-512)",
                pkix::oid_name(&signer.digest_alg.oid)
            ),
        })?;
    out.digest_algorithm = Some(hash);
    let content_digest = hash.digest(parts);
    let signature = signer.signature.as_bytes();

    let signed_message = match &signer.signed_attrs {
        None => {
            // No signed attributes: the signature is over the content itself.
            let content: Vec<u8> = parts.concat();
            return pkix::verify_signature(
                &cert.tbs_certificate.subject_public_key_info,
                &signer.signature_algorithm,
                Some(hash),
                &content,
                signature,
            )
            .map_err(|problem| CmsProblem::Signature { problem });
        }
        Some(attrs) => attrs,
    };
    let single = |id: der::asn1::ObjectIdentifier| -> Result<Option<&Any>, CmsProblem> {
        let mut found = signed_message.iter().filter(|a| a.oid == id);
        match (found.next(), found.next()) {
            (None, _) => Ok(None),
            (Some(attr), None) if attr.values.len() == 1 => Ok(attr.values.get(0)),
            _ => Err(CmsProblem::SignedAttributes {
                detail: format!("{} appears more than once", pkix::oid_name(&id)),
            }),
        }
    };
    let attr_error = |detail: &str| CmsProblem::SignedAttributes {
        detail: detail.to_string(),
    };
    let content_type = single(oid::CONTENT_TYPE)?
        .ok_or_else(|| attr_error("no content-type attribute"))?
        .decode_as::<der::asn1::ObjectIdentifier>()
        .map_err(|_| attr_error("content-type is not an object identifier"))?;
    if content_type != oid::DATA || signed_data.encap_content_info.econtent_type != oid::DATA {
        return Err(attr_error("the content type is not id-data"));
    }
    let message_digest = single(oid::MESSAGE_DIGEST)?
        .ok_or_else(|| attr_error("no message-digest attribute"))?
        .decode_as::<OctetString>()
        .map_err(|_| attr_error("message-digest is not an octet string"))?;
    if let Some(time) = single(oid::SIGNING_TIME)? {
        out.signing_time =
            Some(decode_time(time).ok_or_else(|| attr_error("signing-time is not a valid time"))?);
    }
    let encoded = signed_message
        .to_der()
        .map_err(|e| attr_error(&e.to_string()))?;
    pkix::verify_signature(
        &cert.tbs_certificate.subject_public_key_info,
        &signer.signature_algorithm,
        Some(hash),
        &encoded,
        signature,
    )
    .map_err(|problem| CmsProblem::Signature { problem })?;
    // Checked after the signature so a forged signature is reported as such, and a
    // genuine signature over other bytes as changed bytes.
    if message_digest.as_bytes() != content_digest.as_slice() {
        return Err(CmsProblem::DigestMismatch);
    }
    Ok(())
}

fn decode_time(any: &Any) -> Option<DateTime<Utc>> {
    let time = x509_cert::time::Time::from_der(&any.to_der().ok()?).ok()?;
    let secs = i64::try_from(time.to_unix_duration().as_secs()).ok()?;
    DateTime::from_timestamp(secs, 0)
}

/// The certificate the signer identifier names: by issuer and serial, or by key identifier.
fn find_signer(sid: &SignerIdentifier, certs: &[Certificate]) -> Option<Certificate> {
    certs
        .iter()
        .find(|cert| match sid {
            SignerIdentifier::IssuerAndSerialNumber(ias) => {
                cert.tbs_certificate.issuer == ias.issuer
                    && cert.tbs_certificate.serial_number == ias.serial_number
            }
            SignerIdentifier::SubjectKeyIdentifier(ski) => {
                pkix::subject_key_id(cert).as_deref() == Some(ski.0.as_bytes())
            }
        })
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::x509::{ChainSubject, PdfSigningKey, issue_default_chain, start_of_day};
    use chrono::NaiveDate;

    fn signer() -> PdfSigner {
        let leaf = PdfSigningKey::from_seed(b"cms leaf");
        let root = PdfSigningKey::from_seed(b"cms root");
        let date = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let chain = issue_default_chain(
            &leaf,
            &root,
            &ChainSubject::vendor("Acme Vendor Ltd", Some("legal@acme.example")),
            date,
            10,
        )
        .unwrap();
        PdfSigner::new(leaf, chain, start_of_day(date)).unwrap()
    }

    fn at() -> DateTime<Utc> {
        start_of_day(NaiveDate::from_ymd_opt(2026, 6, 1).unwrap())
    }

    #[test]
    fn round_trip_intact_and_trusted_by_the_root_only() {
        let signer = signer();
        let parts: [&[u8]; 2] = [b"%PDF-1.7 first range ", b" second range %%EOF"];
        let cms = sign(&signer, &parts).unwrap();
        let mut padded = cms.clone();
        padded.resize(cms.len() + 500, 0);
        let mut v = verify(&padded, &parts);
        assert!(v.intact(), "{:?}", v.problem);
        assert_eq!(v.digest_algorithm, Some(Hash::Sha256));
        assert_eq!(v.signing_time, None);
        let root = signer.chain().top().clone();
        assert!(
            v.check_trust(&TrustAnchors::new(vec![root]), at())
                .is_trusted()
        );
        // The certificates inside the signature prove nothing on their own.
        assert!(!v.check_trust(&TrustAnchors::default(), at()).is_trusted());
        // Same inputs, same bytes.
        assert_eq!(sign(&signer, &parts).unwrap(), cms);
    }

    #[test]
    fn changed_bytes_and_damaged_signatures_are_named() {
        let signer = signer();
        let parts: [&[u8]; 2] = [b"abc", b"def"];
        let cms = sign(&signer, &parts).unwrap();
        let v = verify(&cms, &[b"abc", b"deF"]);
        assert_eq!(v.problem, Some(CmsProblem::DigestMismatch));
        let mut broken = cms.clone();
        let last = broken.len() - 3;
        broken[last] ^= 1;
        let v = verify(&broken, &parts);
        assert!(
            matches!(v.problem, Some(CmsProblem::Signature { .. })),
            "{:?}",
            v.problem
        );
        let mut trailing = cms.clone();
        trailing.push(1);
        assert!(matches!(
            verify(&trailing, &parts).problem,
            Some(CmsProblem::Malformed { .. })
        ));
        for n in [0, 1, 10, cms.len() / 2, cms.len() - 1] {
            assert!(!verify(&cms[..n], &parts).intact(), "prefix {n}");
        }
    }
}
