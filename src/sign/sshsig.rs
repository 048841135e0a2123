//! OpenSSH SSHSIG signatures (`ssh-keygen -Y sign/verify`), namespace `dpa`, SHA-512.
//!
//! In: a secret key and the file bytes (signing), or the `.sshsig` bytes, the file's
//! digest and the verifier's own public key (checking). Out: the PEM text, byte-identical
//! to `ssh-keygen -Y sign -n dpa`, or the problem found. The public key embedded in an
//! SSHSIG proves nothing: it is only compared with the key the verifier supplies, and the
//! signature is checked with `verify_strict` under the supplied key.

use std::fmt;

use ed25519_dalek::Signature;
use serde::Serialize;
use sha2::{Digest, Sha512};
use ssh_key::{Algorithm, HashAlg, LineEnding, SshSig};

use super::keys::{PublicKey, SecretKey};
use super::{SSH_NAMESPACE, SignError};

/// Larger `.sshsig` files are not Ed25519 signatures.
const MAX_SSHSIG_FILE: usize = 16 * 1024;

/// Signs `message` as `ssh-keygen -Y sign -n dpa` would, returning the PEM text.
pub fn sign(key: &SecretKey, message: &[u8]) -> Result<String, SignError> {
    sign_digest(key, &Sha512::digest(message).into())
}

/// [`sign`] for a message whose SHA-512 the caller has computed.
pub fn sign_digest(key: &SecretKey, sha512: &[u8; 64]) -> Result<String, SignError> {
    let ssh_error = |e: ssh_key::Error| SignError::Ssh {
        detail: e.to_string(),
    };
    let message = signed_data(SSH_NAMESPACE, &[], HashAlg::Sha512, sha512);
    let signature = ed25519_dalek::Signer::<Signature>::sign(key.signing_key(), &message);
    let signature = ssh_key::Signature::new(Algorithm::Ed25519, signature.to_bytes().to_vec())
        .map_err(ssh_error)?;
    let public = key.public_key().ssh_key().key_data().clone();
    SshSig::new(public, SSH_NAMESPACE, HashAlg::Sha512, signature)
        .map_err(ssh_error)?
        .to_pem(LineEnding::LF)
        .map_err(ssh_error)
}

/// Why an `.sshsig` file does not confirm the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SshsigProblem {
    /// Not a readable SSH SIGNATURE PEM block.
    Malformed,
    /// Signed for another purpose than `dpa`.
    WrongNamespace { namespace: String },
    /// Not an Ed25519 signature.
    UnsupportedAlgorithm { algorithm: String },
    /// The key inside the signature is not the key the verifier supplied.
    OtherKey,
    /// The signature does not verify for this document under the supplied key.
    BadSignature,
}

impl fmt::Display for SshsigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SshsigProblem::Malformed => f.write_str("it is not a readable SSH signature"),
            SshsigProblem::WrongNamespace { namespace } => {
                write!(f, "it was made for namespace {namespace:?}, not \"dpa\"")
            }
            SshsigProblem::UnsupportedAlgorithm { algorithm } => {
                write!(f, "it uses {algorithm}, not Ed25519")
            }
            SshsigProblem::OtherKey => f.write_str("it was made by another key"),
            SshsigProblem::BadSignature => {
                f.write_str("its signature does not match this document and key")
            }
        }
    }
}

/// A parsed `.sshsig` file.
#[derive(Debug, Clone)]
pub struct SshsigFile {
    sig: SshSig,
}

impl SshsigFile {
    /// Parses the PEM text; garbage gives [`SshsigProblem::Malformed`], never a panic.
    pub fn parse(bytes: &[u8]) -> Result<SshsigFile, SshsigProblem> {
        if bytes.len() > MAX_SSHSIG_FILE {
            return Err(SshsigProblem::Malformed);
        }
        let sig = SshSig::from_pem(bytes).map_err(|_| SshsigProblem::Malformed)?;
        Ok(SshsigFile { sig })
    }

    /// The hash algorithm whose digest of the document [`SshsigFile::check`] needs.
    pub fn hash_alg(&self) -> HashAlg {
        self.sig.hash_alg()
    }

    /// Checks namespace, key and signature against the digest of the document.
    ///
    /// `digest` must be the document hashed with [`SshsigFile::hash_alg`].
    pub fn check(&self, key: &PublicKey, digest: &[u8]) -> Result<(), SshsigProblem> {
        if self.sig.namespace() != SSH_NAMESPACE {
            return Err(SshsigProblem::WrongNamespace {
                namespace: self.sig.namespace().to_string(),
            });
        }
        if self.sig.algorithm() != Algorithm::Ed25519 {
            return Err(SshsigProblem::UnsupportedAlgorithm {
                algorithm: self.sig.algorithm().to_string(),
            });
        }
        if self.sig.public_key() != key.ssh_key().key_data() {
            return Err(SshsigProblem::OtherKey);
        }
        let signature: [u8; 64] = self
            .sig
            .signature_bytes()
            .try_into()
            .map_err(|_| SshsigProblem::Malformed)?;
        let message = signed_data(
            self.sig.namespace(),
            self.sig.reserved(),
            self.sig.hash_alg(),
            digest,
        );
        key.verifying_key()
            .verify_strict(&message, &Signature::from_bytes(&signature))
            .map_err(|_| SshsigProblem::BadSignature)
    }
}

/// The blob an SSHSIG signature covers (PROTOCOL.sshsig), built from a precomputed digest
/// so that a large document is hashed once, streaming.
fn signed_data(namespace: &str, reserved: &[u8], hash_alg: HashAlg, digest: &[u8]) -> Vec<u8> {
    fn put_string(out: &mut Vec<u8>, bytes: &[u8]) {
        // Lengths here are a namespace, a hash name and a digest: far below u32::MAX.
        let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(bytes);
    }
    let mut out =
        Vec::with_capacity(6 + 4 * 4 + namespace.len() + reserved.len() + 6 + digest.len());
    out.extend_from_slice(b"SSHSIG");
    put_string(&mut out, namespace.as_bytes());
    put_string(&mut out, reserved);
    put_string(&mut out, hash_alg.as_str().as_bytes());
    put_string(&mut out, digest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SecretKey {
        let pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIBERERERERERERERERERERERERERERERERERERERERER\n-----END PRIVATE KEY-----\n";
        SecretKey::parse_pem(pem, "test").unwrap()
    }

    #[test]
    fn signed_data_matches_ssh_key() {
        let digest = Sha512::digest(b"doc");
        let ours = signed_data("dpa", &[], HashAlg::Sha512, &digest);
        let theirs = SshSig::signed_data("dpa", HashAlg::Sha512, b"doc").unwrap();
        assert_eq!(ours, theirs);
    }

    #[test]
    fn signing_directly_gives_the_bytes_ssh_key_gives() {
        let key = key();
        let seed = zeroize::Zeroizing::new(key.signing_key().to_bytes());
        let private = ssh_key::PrivateKey::from(ssh_key::private::Ed25519Keypair::from_seed(&seed));
        let theirs = private
            .sign(SSH_NAMESPACE, HashAlg::Sha512, b"doc")
            .unwrap()
            .to_pem(LineEnding::LF)
            .unwrap();
        assert_eq!(sign(&key, b"doc").unwrap(), theirs);
    }

    #[test]
    fn sign_then_check() {
        let key = key();
        let pem = sign(&key, b"doc").unwrap();
        assert!(pem.starts_with("-----BEGIN SSH SIGNATURE-----\n"));
        let parsed = SshsigFile::parse(pem.as_bytes()).unwrap();
        assert_eq!(parsed.hash_alg(), HashAlg::Sha512);
        let public = key.public_key();
        assert_eq!(parsed.check(&public, &Sha512::digest(b"doc")), Ok(()));
        assert_eq!(
            parsed.check(&public, &Sha512::digest(b"dog")),
            Err(SshsigProblem::BadSignature)
        );
        assert_eq!(
            SshsigFile::parse(b"garbage").err(),
            Some(SshsigProblem::Malformed)
        );
    }
}
