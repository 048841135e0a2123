//! The PDF signing identity from a PKCS#12 file (`.p12`, `.pfx`): the form in which CAs
//! and trust services hand out a certificate together with its private key.
//!
//! In: the file and its password. Out: the ECDSA P-256 key and its certificate chain, leaf
//! first, which `dpa keygen` then checks and writes like a key and chain given as PEM.
//! Decrypting (PBES2 with AES, as OpenSSL 3 and current Windows write it, or the legacy
//! SHA-1 3DES and RC2 schemes) and checking the file's HMAC are the `p12-keystore`
//! crate's; this module picks the one key with its chain and says what went wrong.

use std::path::Path;

use der::Decode;
use p12_keystore::{KeyStore, KeyStoreEntry};
use x509_cert::Certificate;

use super::SignError;
use super::x509::{self, CertChain, PdfSigningKey};

/// PKCS#12 files larger than this are not one key with its chain.
const MAX_FILE: u64 = 1024 * 1024;

/// Reads a PKCS#12 file: its one private key, which must be P-256, and that key's chain.
pub fn load(path: &Path, password: &str) -> Result<(PdfSigningKey, CertChain), SignError> {
    let bytes = x509::read_small(path, MAX_FILE, "read PKCS#12 file")?;
    parse(&bytes, password, &path.display().to_string())
}

/// [`load`] on bytes already read; `origin` names them in errors.
pub fn parse(
    bytes: &[u8],
    password: &str,
    origin: &str,
) -> Result<(PdfSigningKey, CertChain), SignError> {
    let fail = |detail: String| SignError::Pkcs12 {
        origin: origin.to_string(),
        detail,
    };
    let store = KeyStore::from_pkcs12(bytes, password).map_err(|e| match e {
        // The HMAC over the contents did not match (the usual case), or, in a file
        // without one, the decrypted contents were not valid: the password is wrong.
        p12_keystore::error::Error::MacError(_)
        | p12_keystore::error::Error::UnpadError
        | p12_keystore::error::Error::Pkcs5Error(_) => SignError::Pkcs12Password {
            origin: origin.to_string(),
        },
        other => fail(format!("not a PKCS#12 file dpa can read ({other})")),
    })?;
    let mut chains = store.entries().filter_map(|(_, entry)| match entry {
        KeyStoreEntry::PrivateKeyChain(chain) => Some(chain),
        KeyStoreEntry::Certificate(_) => None,
    });
    let Some(chain) = chains.next() else {
        return Err(fail(
            "it holds no private key together with its certificate".into(),
        ));
    };
    let more = chains.count();
    if more > 0 {
        return Err(fail(format!(
            "it holds {} private keys; export the one that signs PDFs into a file of its own",
            more + 1
        )));
    }
    let key = PdfSigningKey::from_pkcs8_der(chain.key(), origin).map_err(|e| match e {
        // The certificate came with this key: the way out is another certificate.
        SignError::UnsupportedKey { found, .. } => SignError::Pkcs12KeyType {
            origin: origin.to_string(),
            found,
        },
        other => other,
    })?;
    let certs = chain
        .chain()
        .iter()
        .map(|cert| Certificate::from_der(cert.as_der()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fail(format!("a certificate in it cannot be read: {e}")))?;
    let chain = CertChain::from_certs(certs, origin)?;
    Ok((key, chain))
}
