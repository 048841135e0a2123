//! X.509 groundwork shared by certificate loading and CMS verification.
//!
//! In: certificates, public keys (SPKI), signature algorithm identifiers, signed bytes and
//! a time. Out: the name of a key's algorithm, a yes/no on a signature (RSA PKCS#1 v1.5
//! and PSS of 2048 bits or more, ECDSA P-256 and P-384, Ed25519), short descriptions of a
//! certificate (subject, SHA-256 fingerprint, validity, CA flags), and a certification
//! path from a certificate to a trust anchor that the user supplied.
//!
//! Nothing here reads a clock: every validity check takes the time to check at.

use std::fmt;

use chrono::{DateTime, Utc};
use der::asn1::ObjectIdentifier;
use der::{Decode, Encode};
use serde::Serialize;
use sha2::{Digest, Sha256, Sha384, Sha512};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::Certificate;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages, SubjectKeyIdentifier};

/// Object identifiers used across the signature modules.
pub mod oid {
    use der::asn1::ObjectIdentifier as Oid;

    pub const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
    pub const SHA1_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.5");
    pub const RSASSA_PSS: Oid = Oid::new_unwrap("1.2.840.113549.1.1.10");
    pub const SHA256_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
    pub const SHA384_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
    pub const SHA512_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");
    pub const MGF1: Oid = Oid::new_unwrap("1.2.840.113549.1.1.8");
    pub const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
    pub const ECDSA_WITH_SHA1: Oid = Oid::new_unwrap("1.2.840.10045.4.1");
    pub const ECDSA_WITH_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
    pub const ECDSA_WITH_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
    pub const ECDSA_WITH_SHA512: Oid = Oid::new_unwrap("1.2.840.10045.4.3.4");
    pub const P256: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
    pub const P384: Oid = Oid::new_unwrap("1.3.132.0.34");
    pub const P521: Oid = Oid::new_unwrap("1.3.132.0.35");
    pub const SECP256K1: Oid = Oid::new_unwrap("1.3.132.0.10");
    pub const DSA: Oid = Oid::new_unwrap("1.2.840.10040.4.1");
    pub const X25519: Oid = Oid::new_unwrap("1.3.101.110");
    pub const X448: Oid = Oid::new_unwrap("1.3.101.111");
    pub const ED25519: Oid = Oid::new_unwrap("1.3.101.112");
    pub const ED448: Oid = Oid::new_unwrap("1.3.101.113");
    pub const SHA1: Oid = Oid::new_unwrap("1.3.14.3.2.26");
    pub const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
    pub const SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
    pub const SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");
    pub const DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.1");
    pub const SIGNED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.2");
    pub const CONTENT_TYPE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.3");
    pub const MESSAGE_DIGEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.4");
    pub const SIGNING_TIME: Oid = Oid::new_unwrap("1.2.840.113549.1.9.5");
    pub const SIGNING_CERTIFICATE_V2: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.47");
    pub const EMAIL_ADDRESS: Oid = Oid::new_unwrap("1.2.840.113549.1.9.1");
    pub const COMMON_NAME: Oid = Oid::new_unwrap("2.5.4.3");
    pub const ORGANIZATION: Oid = Oid::new_unwrap("2.5.4.10");
    pub const SUBJECT_KEY_ID: Oid = Oid::new_unwrap("2.5.29.14");
    pub const KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.15");
    pub const SUBJECT_ALT_NAME: Oid = Oid::new_unwrap("2.5.29.17");
    pub const BASIC_CONSTRAINTS: Oid = Oid::new_unwrap("2.5.29.19");
    pub const CERTIFICATE_POLICIES: Oid = Oid::new_unwrap("2.5.29.32");
    pub const AUTHORITY_KEY_ID: Oid = Oid::new_unwrap("2.5.29.35");
    pub const EXT_KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.37");
}

/// What kind of key a PKCS#8 or SPKI structure holds, named as a person would.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyAlgorithm {
    Ed25519,
    Ed448,
    X25519,
    X448,
    Rsa,
    RsaPss,
    Dsa,
    /// ECDSA on a named curve; `None` when the curve is not named.
    Ec(Option<ObjectIdentifier>),
    Other(ObjectIdentifier),
}

impl KeyAlgorithm {
    /// Names the algorithm of an `AlgorithmIdentifier` found in a key structure.
    pub fn from_identifier(oid: ObjectIdentifier, parameters: Option<&der::Any>) -> KeyAlgorithm {
        match oid {
            oid::ED25519 => KeyAlgorithm::Ed25519,
            oid::ED448 => KeyAlgorithm::Ed448,
            oid::X25519 => KeyAlgorithm::X25519,
            oid::X448 => KeyAlgorithm::X448,
            oid::RSA_ENCRYPTION => KeyAlgorithm::Rsa,
            oid::RSASSA_PSS => KeyAlgorithm::RsaPss,
            oid::DSA => KeyAlgorithm::Dsa,
            oid::EC_PUBLIC_KEY => {
                KeyAlgorithm::Ec(parameters.and_then(|p| p.decode_as::<ObjectIdentifier>().ok()))
            }
            other => KeyAlgorithm::Other(other),
        }
    }

    /// The algorithm of a DER `PrivateKeyInfo` (PKCS#8), if it parses that far.
    pub fn of_pkcs8(der: &[u8]) -> Option<KeyAlgorithm> {
        let info = pkcs8::PrivateKeyInfo::try_from(der).ok()?;
        let params = info.algorithm.parameters.map(der::Any::from);
        Some(KeyAlgorithm::from_identifier(
            info.algorithm.oid,
            params.as_ref(),
        ))
    }

    /// The algorithm of a public key.
    pub fn of_spki(spki: &SubjectPublicKeyInfoOwned) -> KeyAlgorithm {
        KeyAlgorithm::from_identifier(spki.algorithm.oid, spki.algorithm.parameters.as_ref())
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyAlgorithm::Ed25519 => f.write_str("Ed25519"),
            KeyAlgorithm::Ed448 => f.write_str("Ed448"),
            KeyAlgorithm::X25519 => f.write_str("X25519 (a key-agreement key)"),
            KeyAlgorithm::X448 => f.write_str("X448 (a key-agreement key)"),
            KeyAlgorithm::Rsa => f.write_str("RSA"),
            KeyAlgorithm::RsaPss => f.write_str("RSA-PSS"),
            KeyAlgorithm::Dsa => f.write_str("DSA"),
            KeyAlgorithm::Ec(Some(curve)) => write!(f, "ECDSA {}", curve_name(curve)),
            KeyAlgorithm::Ec(None) => f.write_str("EC with explicit curve parameters"),
            KeyAlgorithm::Other(oid) => write!(f, "algorithm {}", oid_name(oid)),
        }
    }
}

fn curve_name(curve: &ObjectIdentifier) -> String {
    match *curve {
        oid::P256 => "P-256".into(),
        oid::P384 => "P-384".into(),
        oid::P521 => "P-521".into(),
        oid::SECP256K1 => "secp256k1".into(),
        other => format!("on curve {}", oid_name(&other)),
    }
}

/// An OID with its registered name when one is known, e.g. `1.3.101.113 (id-Ed448)`.
pub fn oid_name(oid: &ObjectIdentifier) -> String {
    match const_oid::db::DB.by_oid(oid) {
        Some(name) => format!("{oid} ({name})"),
        None => oid.to_string(),
    }
}

/// A digest algorithm that CMS signers may use; SHA-1 is refused as broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Hash {
    #[serde(rename = "SHA-256")]
    Sha256,
    #[serde(rename = "SHA-384")]
    Sha384,
    #[serde(rename = "SHA-512")]
    Sha512,
}

impl Hash {
    /// The hash for a digest algorithm OID; `None` for anything else (SHA-1 included).
    pub fn from_oid(oid: &ObjectIdentifier) -> Option<Hash> {
        match *oid {
            oid::SHA256 => Some(Hash::Sha256),
            oid::SHA384 => Some(Hash::Sha384),
            oid::SHA512 => Some(Hash::Sha512),
            _ => None,
        }
    }

    /// The digest of several byte slices read one after the other.
    pub fn digest(self, parts: &[&[u8]]) -> Vec<u8> {
        fn run<D: Digest>(parts: &[&[u8]]) -> Vec<u8> {
            let mut hasher = D::new();
            for part in parts {
                hasher.update(part);
            }
            hasher.finalize().to_vec()
        }
        match self {
            Hash::Sha256 => run::<Sha256>(parts),
            Hash::Sha384 => run::<Sha384>(parts),
            Hash::Sha512 => run::<Sha512>(parts),
        }
    }

    /// The algorithm's name, e.g. `SHA-256`.
    pub fn name(self) -> &'static str {
        match self {
            Hash::Sha256 => "SHA-256",
            Hash::Sha384 => "SHA-384",
            Hash::Sha512 => "SHA-512",
        }
    }
}

/// Why a signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", content = "detail", rename_all = "snake_case")]
pub enum SignatureProblem {
    /// An algorithm dpa does not verify (named).
    Unsupported(String),
    /// A key or hash too weak to prove anything (named).
    Weak(String),
    /// The public key bytes are not a key of the algorithm they claim.
    BadKey(String),
    /// The signature does not verify under the key.
    Mismatch,
}

impl fmt::Display for SignatureProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignatureProblem::Unsupported(what) => write!(f, "unsupported: {what}"),
            SignatureProblem::Weak(what) => write!(f, "too weak: {what}"),
            SignatureProblem::BadKey(what) => write!(f, "unusable public key: {what}"),
            SignatureProblem::Mismatch => f.write_str("the signature does not match"),
        }
    }
}

/// The smallest RSA modulus accepted, in bits.
pub const MIN_RSA_BITS: usize = 2048;

/// Verifies `signature` over `message` by the key `spki` under the algorithm `sig_alg`.
///
/// `digest_hint` is the hash for identifiers that do not name one (plain `rsaEncryption`
/// or `id-ecPublicKey` used as a signature algorithm, as some PDF signers write): the CMS
/// digest algorithm. Ed25519 is checked with `verify_strict` and weak keys are refused.
pub fn verify_signature(
    spki: &SubjectPublicKeyInfoOwned,
    sig_alg: &AlgorithmIdentifierOwned,
    digest_hint: Option<Hash>,
    message: &[u8],
    signature: &[u8],
) -> Result<(), SignatureProblem> {
    let key_alg = KeyAlgorithm::of_spki(spki);
    let need_hint = || {
        digest_hint.ok_or_else(|| {
            SignatureProblem::Unsupported(format!(
                "{} without a digest algorithm",
                oid_name(&sig_alg.oid)
            ))
        })
    };
    match sig_alg.oid {
        oid::SHA1_WITH_RSA | oid::ECDSA_WITH_SHA1 => Err(SignatureProblem::Weak(
            "SHA-1 signatures can be forged".into(),
        )),
        oid::RSA_ENCRYPTION => verify_rsa_pkcs1(spki, need_hint()?, message, signature),
        oid::SHA256_WITH_RSA => verify_rsa_pkcs1(spki, Hash::Sha256, message, signature),
        oid::SHA384_WITH_RSA => verify_rsa_pkcs1(spki, Hash::Sha384, message, signature),
        oid::SHA512_WITH_RSA => verify_rsa_pkcs1(spki, Hash::Sha512, message, signature),
        oid::RSASSA_PSS => verify_rsa_pss(spki, sig_alg, message, signature),
        oid::EC_PUBLIC_KEY => verify_ecdsa(spki, &key_alg, need_hint()?, message, signature),
        oid::ECDSA_WITH_SHA256 => verify_ecdsa(spki, &key_alg, Hash::Sha256, message, signature),
        oid::ECDSA_WITH_SHA384 => verify_ecdsa(spki, &key_alg, Hash::Sha384, message, signature),
        oid::ECDSA_WITH_SHA512 => verify_ecdsa(spki, &key_alg, Hash::Sha512, message, signature),
        oid::ED25519 => verify_ed25519(spki, message, signature),
        other => Err(SignatureProblem::Unsupported(format!(
            "signature algorithm {}",
            oid_name(&other)
        ))),
    }
}

fn rsa_key(spki: &SubjectPublicKeyInfoOwned) -> Result<rsa::RsaPublicKey, SignatureProblem> {
    use rsa::pkcs8::DecodePublicKey;
    use rsa::traits::PublicKeyParts;
    // An RSA-PSS key (id-RSASSA-PSS in the SPKI) has the same key bytes as rsaEncryption.
    if !matches!(spki.algorithm.oid, oid::RSA_ENCRYPTION | oid::RSASSA_PSS) {
        return Err(SignatureProblem::BadKey(format!(
            "an RSA signature needs an RSA key, the certificate holds {}",
            KeyAlgorithm::of_spki(spki)
        )));
    }
    let key = rsa::RsaPublicKey::from_pkcs1_der(spki.subject_public_key.raw_bytes())
        .or_else(|_| {
            let der = spki.to_der().map_err(|e| e.to_string())?;
            rsa::RsaPublicKey::from_public_key_der(&der).map_err(|e| e.to_string())
        })
        .map_err(|e| SignatureProblem::BadKey(format!("RSA key: {e}")))?;
    let bits = key.n().bits();
    if bits < MIN_RSA_BITS {
        return Err(SignatureProblem::Weak(format!(
            "a {bits}-bit RSA key (at least {MIN_RSA_BITS} needed)"
        )));
    }
    Ok(key)
}

use rsa::pkcs1::DecodeRsaPublicKey;

fn verify_rsa_pkcs1(
    spki: &SubjectPublicKeyInfoOwned,
    hash: Hash,
    message: &[u8],
    signature: &[u8],
) -> Result<(), SignatureProblem> {
    let key = rsa_key(spki)?;
    let scheme = match hash {
        Hash::Sha256 => rsa::Pkcs1v15Sign::new::<Sha256>(),
        Hash::Sha384 => rsa::Pkcs1v15Sign::new::<Sha384>(),
        Hash::Sha512 => rsa::Pkcs1v15Sign::new::<Sha512>(),
    };
    key.verify(scheme, &hash.digest(&[message]), signature)
        .map_err(|_| SignatureProblem::Mismatch)
}

fn verify_rsa_pss(
    spki: &SubjectPublicKeyInfoOwned,
    sig_alg: &AlgorithmIdentifierOwned,
    message: &[u8],
    signature: &[u8],
) -> Result<(), SignatureProblem> {
    let params_der = sig_alg
        .parameters
        .as_ref()
        .and_then(|p| p.to_der().ok())
        .ok_or_else(|| SignatureProblem::Unsupported("RSA-PSS without parameters".into()))?;
    let params = rsa::pkcs1::RsaPssParams::from_der(&params_der)
        .map_err(|e| SignatureProblem::Unsupported(format!("RSA-PSS parameters: {e}")))?;
    let hash = Hash::from_oid(&params.hash.oid).ok_or_else(|| {
        SignatureProblem::Unsupported(format!("RSA-PSS with {}", oid_name(&params.hash.oid)))
    })?;
    let mgf_hash = params
        .mask_gen
        .parameters
        .as_ref()
        .map(|p| p.oid)
        .and_then(|o| Hash::from_oid(&o));
    if params.mask_gen.oid != oid::MGF1 || mgf_hash != Some(hash) {
        return Err(SignatureProblem::Unsupported(
            "RSA-PSS whose mask generation hash differs from its message hash".into(),
        ));
    }
    let key = rsa_key(spki)?;
    let salt = usize::from(params.salt_len);
    let scheme = match hash {
        Hash::Sha256 => rsa::Pss::new_with_salt::<Sha256>(salt),
        Hash::Sha384 => rsa::Pss::new_with_salt::<Sha384>(salt),
        Hash::Sha512 => rsa::Pss::new_with_salt::<Sha512>(salt),
    };
    key.verify(scheme, &hash.digest(&[message]), signature)
        .map_err(|_| SignatureProblem::Mismatch)
}

fn verify_ecdsa(
    spki: &SubjectPublicKeyInfoOwned,
    key_alg: &KeyAlgorithm,
    hash: Hash,
    message: &[u8],
    signature: &[u8],
) -> Result<(), SignatureProblem> {
    use ecdsa::signature::hazmat::PrehashVerifier;
    let digest = hash.digest(&[message]);
    let point = spki.subject_public_key.raw_bytes();
    match key_alg {
        KeyAlgorithm::Ec(Some(oid::P256)) => {
            let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(point)
                .map_err(|_| SignatureProblem::BadKey("not a P-256 point".into()))?;
            let sig = p256::ecdsa::Signature::from_der(signature)
                .map_err(|_| SignatureProblem::Mismatch)?;
            key.verify_prehash(&digest, &sig)
                .map_err(|_| SignatureProblem::Mismatch)
        }
        KeyAlgorithm::Ec(Some(oid::P384)) => {
            let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(point)
                .map_err(|_| SignatureProblem::BadKey("not a P-384 point".into()))?;
            let sig = p384::ecdsa::Signature::from_der(signature)
                .map_err(|_| SignatureProblem::Mismatch)?;
            key.verify_prehash(&digest, &sig)
                .map_err(|_| SignatureProblem::Mismatch)
        }
        other => Err(SignatureProblem::Unsupported(format!(
            "ECDSA signature by a key of type {other}"
        ))),
    }
}

fn verify_ed25519(
    spki: &SubjectPublicKeyInfoOwned,
    message: &[u8],
    signature: &[u8],
) -> Result<(), SignatureProblem> {
    if spki.algorithm.oid != oid::ED25519 {
        return Err(SignatureProblem::BadKey(format!(
            "an Ed25519 signature needs an Ed25519 key, the certificate holds {}",
            KeyAlgorithm::of_spki(spki)
        )));
    }
    let bytes: [u8; 32] = spki
        .subject_public_key
        .raw_bytes()
        .try_into()
        .map_err(|_| SignatureProblem::BadKey("an Ed25519 key is 32 bytes".into()))?;
    let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes)
        .map_err(|_| SignatureProblem::BadKey("not an Ed25519 point".into()))?;
    if key.is_weak() {
        return Err(SignatureProblem::Weak(
            "a small-order Ed25519 key accepts any signature".into(),
        ));
    }
    let sig =
        ed25519_dalek::Signature::from_slice(signature).map_err(|_| SignatureProblem::Mismatch)?;
    key.verify_strict(message, &sig)
        .map_err(|_| SignatureProblem::Mismatch)
}

/// The lowercase hex SHA-256 of a certificate's DER: the fingerprint people compare.
pub fn cert_fingerprint(cert: &Certificate) -> String {
    hex::encode(Sha256::digest(cert.to_der().unwrap_or_default()))
}

/// Escapes control and format characters so an untrusted name prints as one safe line.
pub fn escape_untrusted(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() || is_invisible_format(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

/// A certificate's subject as an RFC 4514 string, safe to print.
pub fn subject(cert: &Certificate) -> String {
    escape_untrusted(&cert.tbs_certificate.subject.to_string())
}

/// The subject's common name (the last one, when there are several), safe to print.
pub fn common_name(cert: &Certificate) -> Option<String> {
    cert.tbs_certificate
        .subject
        .0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .filter(|atv| atv.oid == oid::COMMON_NAME)
        .filter_map(|atv| {
            atv.value
                .decode_as::<der::asn1::Utf8StringRef<'_>>()
                .map(|s| s.as_str().to_string())
                .or_else(|_| {
                    atv.value
                        .decode_as::<der::asn1::PrintableStringRef<'_>>()
                        .map(|s| s.as_str().to_string())
                })
                .ok()
        })
        .next_back()
        .map(|cn| escape_untrusted(&cn))
}

/// A certificate's issuer as an RFC 4514 string, safe to print.
pub fn issuer(cert: &Certificate) -> String {
    escape_untrusted(&cert.tbs_certificate.issuer.to_string())
}

/// The certificate's validity period as two UTC times.
pub fn validity(cert: &Certificate) -> (DateTime<Utc>, DateTime<Utc>) {
    let v = &cert.tbs_certificate.validity;
    (to_chrono(v.not_before), to_chrono(v.not_after))
}

fn to_chrono(time: x509_cert::time::Time) -> DateTime<Utc> {
    let secs = i64::try_from(time.to_unix_duration().as_secs()).unwrap_or(i64::MAX);
    DateTime::from_timestamp(secs, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The decoded value of an extension, `Ok(None)` when absent, `Err` when undecodable.
fn extension<'a, T: Decode<'a>>(
    cert: &'a Certificate,
    id: ObjectIdentifier,
) -> Result<Option<T>, String> {
    let Some(ext) = cert
        .tbs_certificate
        .extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == id)
    else {
        return Ok(None);
    };
    T::from_der(ext.extn_value.as_bytes())
        .map(Some)
        .map_err(|e| format!("extension {}: {e}", oid_name(&id)))
}

/// `(is a CA, path length limit)` from basicConstraints; a certificate without it is no CA.
pub fn basic_constraints(cert: &Certificate) -> Result<(bool, Option<u8>), String> {
    Ok(extension::<BasicConstraints>(cert, oid::BASIC_CONSTRAINTS)?
        .map(|bc| (bc.ca, bc.path_len_constraint))
        .unwrap_or((false, None)))
}

/// The key usage bits, `None` when the certificate does not restrict them.
pub fn key_usage(cert: &Certificate) -> Result<Option<KeyUsage>, String> {
    extension::<KeyUsage>(cert, oid::KEY_USAGE)
}

/// The subject key identifier, if the certificate carries one.
pub fn subject_key_id(cert: &Certificate) -> Option<Vec<u8>> {
    extension::<SubjectKeyIdentifier>(cert, oid::SUBJECT_KEY_ID)
        .ok()
        .flatten()
        .map(|ski| ski.0.as_bytes().to_vec())
}

/// True when the certificate names itself as issuer and its own key verifies it.
pub fn is_self_signed(cert: &Certificate) -> bool {
    cert.tbs_certificate.issuer == cert.tbs_certificate.subject && issued_by(cert, cert).is_ok()
}

/// Checks that `issuer`'s key made the signature on `cert` (names are not compared).
pub fn issued_by(cert: &Certificate, issuer: &Certificate) -> Result<(), SignatureProblem> {
    let tbs = cert
        .tbs_certificate
        .to_der()
        .map_err(|e| SignatureProblem::Unsupported(format!("certificate encoding: {e}")))?;
    let signature = cert
        .signature
        .as_bytes()
        .ok_or(SignatureProblem::Mismatch)?;
    verify_signature(
        &issuer.tbs_certificate.subject_public_key_info,
        &cert.signature_algorithm,
        None,
        &tbs,
        signature,
    )
}

/// Extensions whose meaning this module checks or which carry no constraint it must enforce.
const UNDERSTOOD_EXTENSIONS: [ObjectIdentifier; 7] = [
    oid::BASIC_CONSTRAINTS,
    oid::KEY_USAGE,
    oid::EXT_KEY_USAGE,
    oid::SUBJECT_KEY_ID,
    oid::AUTHORITY_KEY_ID,
    oid::SUBJECT_ALT_NAME,
    oid::CERTIFICATE_POLICIES,
];

/// A critical extension this module does not understand, which RFC 5280 says to refuse.
pub fn unknown_critical_extension(cert: &Certificate) -> Option<ObjectIdentifier> {
    cert.tbs_certificate
        .extensions
        .iter()
        .flatten()
        .find(|e| e.critical && !UNDERSTOOD_EXTENSIONS.contains(&e.extn_id))
        .map(|e| e.extn_id)
}

/// A short description of a certificate for reports and JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertSummary {
    /// The subject, RFC 4514, control characters escaped.
    pub subject: String,
    /// The issuer, RFC 4514, control characters escaped.
    pub issuer: String,
    /// The serial number in hex.
    pub serial: String,
    /// Lowercase hex SHA-256 of the certificate's DER.
    pub sha256: String,
    /// Start of the validity period.
    pub not_before: DateTime<Utc>,
    /// End of the validity period.
    pub not_after: DateTime<Utc>,
}

impl CertSummary {
    /// Describes one certificate.
    pub fn of(cert: &Certificate) -> CertSummary {
        let (not_before, not_after) = validity(cert);
        CertSummary {
            subject: subject(cert),
            issuer: issuer(cert),
            serial: hex::encode(cert.tbs_certificate.serial_number.as_bytes()),
            sha256: cert_fingerprint(cert),
            not_before,
            not_after,
        }
    }
}

/// Certificates the user trusts as roots of certification paths.
#[derive(Debug, Clone, Default)]
pub struct TrustAnchors {
    certs: Vec<Certificate>,
}

impl TrustAnchors {
    /// Anchors from certificates the user gave (e.g. the vendor's published root).
    pub fn new(certs: Vec<Certificate>) -> TrustAnchors {
        TrustAnchors { certs }
    }

    /// The anchors, in the order given.
    pub fn certificates(&self) -> &[Certificate] {
        &self.certs
    }

    /// True when no anchor was given: every path is then untrusted.
    pub fn is_empty(&self) -> bool {
        self.certs.is_empty()
    }
}

/// Why no trusted certification path was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum PathProblem {
    /// No anchor was given to check against.
    NoAnchorGiven,
    /// The path ends at a certificate that is not, and is not issued by, a given anchor.
    NotAnchored { top_subject: String },
    /// A certificate on the path was not valid at the signing time.
    OutsideValidity {
        subject: String,
        not_before: DateTime<Utc>,
        not_after: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    /// An issuing certificate is not marked as a CA allowed to sign certificates.
    NotCa { subject: String },
    /// The path is longer than an issuer's path length constraint allows.
    PathTooLong { subject: String },
    /// A signature on the path is not valid or uses an algorithm that is not accepted.
    BadLink {
        subject: String,
        issuer: String,
        detail: String,
    },
    /// A certificate carries a critical extension this verifier cannot honour.
    UnknownCriticalExtension { subject: String, extension: String },
    /// An extension could not be decoded.
    BadExtension { subject: String, detail: String },
}

impl fmt::Display for PathProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathProblem::NoAnchorGiven => f.write_str(
                "no trusted root was given, so who signed cannot be confirmed (pass the vendor's root certificate)",
            ),
            PathProblem::NotAnchored { top_subject } => write!(
                f,
                "the certificate chain ends at {top_subject}, which is not a root you trust"
            ),
            PathProblem::OutsideValidity {
                subject,
                not_before,
                not_after,
                at,
            } => write!(
                f,
                "certificate {subject} is valid from {not_before} to {not_after}, not at the signing time {at}"
            ),
            PathProblem::NotCa { subject } => write!(
                f,
                "certificate {subject} issued another certificate but is not a certification authority"
            ),
            PathProblem::PathTooLong { subject } => write!(
                f,
                "the chain below {subject} is longer than its path length constraint allows"
            ),
            PathProblem::BadLink {
                subject,
                issuer,
                detail,
            } => write!(
                f,
                "the signature of {issuer} on certificate {subject} is not valid: {detail}"
            ),
            PathProblem::UnknownCriticalExtension { subject, extension } => write!(
                f,
                "certificate {subject} has a critical extension {extension} that this verifier does not understand"
            ),
            PathProblem::BadExtension { subject, detail } => {
                write!(f, "certificate {subject}: {detail}")
            }
        }
    }
}

/// Longest path accepted, leaf and anchor included.
const MAX_PATH: usize = 8;

/// Builds and checks a path from `leaf` to one of `anchors` at time `at`.
///
/// Intermediates come from `pool` (the certificates inside the signature): they are only
/// used to reach an anchor, never trusted on their own. Every link's signature, each
/// certificate's validity at `at`, the CA flag and key usage of issuers, path length
/// constraints and unknown critical extensions are checked. Returns the path, leaf first,
/// anchor last.
pub fn build_path(
    leaf: &Certificate,
    pool: &[Certificate],
    anchors: &TrustAnchors,
    at: DateTime<Utc>,
) -> Result<Vec<Certificate>, PathProblem> {
    if anchors.is_empty() {
        return Err(PathProblem::NoAnchorGiven);
    }
    let mut path = vec![leaf.clone()];
    check_one(leaf, at)?;
    loop {
        let current = path.last().cloned().unwrap_or_else(|| leaf.clone());
        // The user may trust the signer's own certificate directly.
        if anchors.certs.iter().any(|a| a == &current) {
            return Ok(path);
        }
        if path.len() >= MAX_PATH {
            return Err(PathProblem::NotAnchored {
                top_subject: subject(&current),
            });
        }
        let issuer_name = &current.tbs_certificate.issuer;
        let candidates = anchors.certs.iter().chain(pool.iter()).filter(|c| {
            &c.tbs_certificate.subject == issuer_name && !path.contains(c) && **c != current
        });
        let mut last_problem = None;
        let mut next = None;
        for candidate in candidates {
            match issued_by(&current, candidate) {
                Ok(()) => {
                    next = Some(candidate.clone());
                    break;
                }
                Err(problem) => {
                    last_problem = Some(PathProblem::BadLink {
                        subject: subject(&current),
                        issuer: subject(candidate),
                        detail: problem.to_string(),
                    })
                }
            }
        }
        let Some(issuer) = next else {
            return Err(last_problem.unwrap_or(PathProblem::NotAnchored {
                top_subject: subject(&current),
            }));
        };
        check_one(&issuer, at)?;
        check_issuer(&issuer, path.len() - 1)?;
        path.push(issuer);
    }
}

/// Validity at `at` and no critical extension we cannot honour.
fn check_one(cert: &Certificate, at: DateTime<Utc>) -> Result<(), PathProblem> {
    let (not_before, not_after) = validity(cert);
    if at < not_before || at > not_after {
        return Err(PathProblem::OutsideValidity {
            subject: subject(cert),
            not_before,
            not_after,
            at,
        });
    }
    if let Some(ext) = unknown_critical_extension(cert) {
        return Err(PathProblem::UnknownCriticalExtension {
            subject: subject(cert),
            extension: oid_name(&ext),
        });
    }
    Ok(())
}

/// An issuer must be a CA allowed to sign certificates, with room for `below` intermediates.
fn check_issuer(issuer: &Certificate, below: usize) -> Result<(), PathProblem> {
    let bad = |detail: String| PathProblem::BadExtension {
        subject: subject(issuer),
        detail,
    };
    let (ca, path_len) = basic_constraints(issuer).map_err(bad)?;
    if !ca {
        return Err(PathProblem::NotCa {
            subject: subject(issuer),
        });
    }
    if let Some(usage) = key_usage(issuer).map_err(bad)?
        && !usage.0.contains(KeyUsages::KeyCertSign)
    {
        return Err(PathProblem::NotCa {
            subject: subject(issuer),
        });
    }
    if let Some(limit) = path_len
        && below > usize::from(limit)
    {
        return Err(PathProblem::PathTooLong {
            subject: subject(issuer),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithms_are_named_as_people_know_them() {
        assert_eq!(KeyAlgorithm::Ed448.to_string(), "Ed448");
        assert_eq!(KeyAlgorithm::Ec(Some(oid::P256)).to_string(), "ECDSA P-256");
        assert_eq!(KeyAlgorithm::Ec(Some(oid::P384)).to_string(), "ECDSA P-384");
        assert!(oid_name(&oid::ED25519).contains("Ed25519"));
    }

    #[test]
    fn untrusted_text_is_escaped() {
        assert_eq!(escape_untrusted("CN=A\u{1b}[32mB"), "CN=A\\u{1b}[32mB");
        assert_eq!(escape_untrusted("Müller\u{202e}"), "Müller\\u{202e}");
        assert_eq!(escape_untrusted("plain, Inc."), "plain, Inc.");
    }

    #[test]
    fn sha1_is_refused_before_any_key_is_read() {
        let spki = SubjectPublicKeyInfoOwned {
            algorithm: AlgorithmIdentifierOwned {
                oid: oid::RSA_ENCRYPTION,
                parameters: None,
            },
            subject_public_key: der::asn1::BitString::from_bytes(&[0]).unwrap(),
        };
        let alg = AlgorithmIdentifierOwned {
            oid: oid::SHA1_WITH_RSA,
            parameters: None,
        };
        assert!(matches!(
            verify_signature(&spki, &alg, None, b"m", b"s"),
            Err(SignatureProblem::Weak(_))
        ));
    }
}
