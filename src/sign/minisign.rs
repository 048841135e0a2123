//! The minisign formats: public keys and `.minisig` signature files (algorithm `ED`).
//!
//! In: a secret key, the file bytes and the trusted comment text (signing), or the bytes of
//! a `.minisig` file (parsing). Out: the 4-line signature text, or its parsed parts. The
//! file signature is Ed25519 over BLAKE2b-512 of the file; the global signature is Ed25519
//! over that signature followed by the trusted comment text, so editing the comment breaks it.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer};
use serde::Serialize;

use super::keys::{KeyId, PublicKey, SecretKey};

/// Signature algorithm tag for Ed25519 over BLAKE2b-512 of the file (the current default).
pub const ALG_HASHED: &[u8; 2] = b"ED";
/// The legacy tag: Ed25519 over the whole file, which dpa neither writes nor reads.
pub const ALG_LEGACY: &[u8; 2] = b"Ed";
/// Public key algorithm tag.
const ALG_PUBLIC: &[u8; 2] = b"Ed";

/// How line 1 of a `.minisig` file starts.
pub const UNTRUSTED_PREFIX: &str = "untrusted comment: ";
/// How line 3 of a `.minisig` file starts; the rest of the line is the signed comment.
pub const TRUSTED_PREFIX: &str = "trusted comment: ";

/// Longer `.minisig` files are not signatures; minisign caps the trusted comment near 8 KB.
pub const MAX_SIGNATURE_FILE: usize = 16 * 1024;

/// The base64 line of a minisign public key: `"Ed" || key id || public key`.
pub fn encode_public_key(key_id: KeyId, public_key: &[u8; 32]) -> String {
    let mut bytes = Vec::with_capacity(42);
    bytes.extend_from_slice(ALG_PUBLIC);
    bytes.extend_from_slice(&key_id.0);
    bytes.extend_from_slice(public_key);
    STANDARD.encode(bytes)
}

/// Parses a minisign public key: the two-line file or its base64 line alone.
pub fn parse_public_key(text: &str) -> Result<(KeyId, [u8; 32]), String> {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    let encoded = match lines.as_slice() {
        [single] => *single,
        [comment, encoded] if comment.starts_with(UNTRUSTED_PREFIX) => *encoded,
        [_, _] => return Err("the first line must start with `untrusted comment: `".into()),
        [] => return Err("it is empty".into()),
        _ => return Err("expected one base64 line, optionally after an untrusted comment".into()),
    };
    let bytes = STANDARD
        .decode(encoded)
        .map_err(|_| "the key line is not base64".to_string())?;
    let (alg, rest) = bytes
        .split_first_chunk::<2>()
        .ok_or_else(|| "the key is too short".to_string())?;
    if alg != ALG_PUBLIC {
        return Err("not an Ed25519 minisign key (algorithm is not `Ed`)".into());
    }
    let (id, rest) = rest
        .split_first_chunk::<8>()
        .ok_or_else(|| "the key is too short".to_string())?;
    let key: [u8; 32] = rest
        .try_into()
        .map_err(|_| format!("expected 42 key bytes, found {}", bytes.len()))?;
    Ok((KeyId(*id), key))
}

/// The BLAKE2b-512 digest that an `ED` signature covers.
pub fn prehash(file: &[u8]) -> [u8; 64] {
    *blake2b_simd::blake2b(file).as_array()
}

/// Produces the 4-line `.minisig` text for `file` with the given trusted comment.
///
/// The comment must be a single line (the caller validates a [`super::TrustedComment`]).
pub fn sign(key: &SecretKey, file: &[u8], trusted_comment: &str) -> String {
    sign_prehashed(key, &prehash(file), trusted_comment)
}

/// [`sign`] for a file whose [`prehash`] the caller has computed.
pub fn sign_prehashed(key: &SecretKey, prehash: &[u8; 64], trusted_comment: &str) -> String {
    let signing = key.signing_key();
    let signature = signing.sign(prehash).to_bytes();
    let mut global_message = Vec::with_capacity(64 + trusted_comment.len());
    global_message.extend_from_slice(&signature);
    global_message.extend_from_slice(trusted_comment.as_bytes());
    let global = signing.sign(&global_message).to_bytes();

    let mut blob = Vec::with_capacity(74);
    blob.extend_from_slice(ALG_HASHED);
    blob.extend_from_slice(&key.key_id().0);
    blob.extend_from_slice(&signature);
    format!(
        "{UNTRUSTED_PREFIX}signature from dpa secret key {}\n{}\n{TRUSTED_PREFIX}{trusted_comment}\n{}\n",
        key.key_id(),
        STANDARD.encode(blob),
        STANDARD.encode(global)
    )
}

/// Why a `.minisig` file could not be read as a signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MinisigProblem {
    /// The file is empty or only whitespace.
    Empty,
    /// The file is not UTF-8 text.
    NotText,
    /// The file is larger than any signature file.
    TooLarge,
    /// Fewer than four lines: the file was cut short.
    Truncated,
    /// More than four non-empty lines.
    ExtraLines,
    /// Line 1 does not start with `untrusted comment: `.
    NoUntrustedComment,
    /// Line 3 does not start with `trusted comment: `.
    NoTrustedComment,
    /// Line 2 or 4 is not base64 of the right length.
    BadEncoding { line: u8 },
    /// The legacy `Ed` algorithm (signature over the whole file), which dpa does not accept.
    LegacyAlgorithm,
    /// An algorithm tag other than `ED`.
    UnknownAlgorithm,
}

impl fmt::Display for MinisigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MinisigProblem::Empty => f.write_str("the file is empty"),
            MinisigProblem::NotText => f.write_str("the file is not text (garbage)"),
            MinisigProblem::TooLarge => f.write_str("the file is far too large to be a signature"),
            MinisigProblem::Truncated => f.write_str("the file is cut short (fewer than 4 lines)"),
            MinisigProblem::ExtraLines => f.write_str("the file has more than 4 lines"),
            MinisigProblem::NoUntrustedComment => {
                f.write_str("line 1 does not start with `untrusted comment: `")
            }
            MinisigProblem::NoTrustedComment => {
                f.write_str("line 3 does not start with `trusted comment: `")
            }
            MinisigProblem::BadEncoding { line } => {
                write!(
                    f,
                    "line {line} is not a base64 signature of the right length"
                )
            }
            MinisigProblem::LegacyAlgorithm => {
                f.write_str("legacy minisign algorithm `Ed` (re-sign with a current minisign)")
            }
            MinisigProblem::UnknownAlgorithm => f.write_str("unknown signature algorithm"),
        }
    }
}

/// The parts of a `.minisig` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureFile {
    /// The key id the signer claims.
    pub key_id: KeyId,
    /// Ed25519 over BLAKE2b-512 of the file.
    pub signature: [u8; 64],
    /// The trusted comment text, without its `trusted comment: ` prefix.
    pub trusted_comment: String,
    /// Ed25519 over `signature || trusted_comment`.
    pub global_signature: [u8; 64],
}

impl SignatureFile {
    /// Parses a `.minisig` file; any deviation from the 4-line form is a problem, never a panic.
    pub fn parse(bytes: &[u8]) -> Result<SignatureFile, MinisigProblem> {
        if bytes.len() > MAX_SIGNATURE_FILE {
            return Err(MinisigProblem::TooLarge);
        }
        let text = std::str::from_utf8(bytes).map_err(|_| MinisigProblem::NotText)?;
        if text.trim().is_empty() {
            return Err(MinisigProblem::Empty);
        }
        // Tolerate CRLF from a mail client: the signed text excludes line endings.
        let mut lines: Vec<&str> = text
            .split('\n')
            .map(|line| line.strip_suffix('\r').unwrap_or(line))
            .collect();
        while lines.last().is_some_and(|line| line.trim().is_empty()) {
            lines.pop();
        }
        let [untrusted, blob, trusted, global] = lines.as_slice() else {
            return Err(if lines.len() < 4 {
                MinisigProblem::Truncated
            } else {
                MinisigProblem::ExtraLines
            });
        };
        if !untrusted.starts_with(UNTRUSTED_PREFIX) {
            return Err(MinisigProblem::NoUntrustedComment);
        }
        let blob = STANDARD
            .decode(blob.trim())
            .map_err(|_| MinisigProblem::BadEncoding { line: 2 })?;
        let (alg, rest) = blob
            .split_first_chunk::<2>()
            .ok_or(MinisigProblem::BadEncoding { line: 2 })?;
        if alg == ALG_LEGACY {
            return Err(MinisigProblem::LegacyAlgorithm);
        }
        if alg != ALG_HASHED {
            return Err(MinisigProblem::UnknownAlgorithm);
        }
        let (key_id, rest) = rest
            .split_first_chunk::<8>()
            .ok_or(MinisigProblem::BadEncoding { line: 2 })?;
        let signature: [u8; 64] = rest
            .try_into()
            .map_err(|_| MinisigProblem::BadEncoding { line: 2 })?;
        let trusted_comment = trusted
            .strip_prefix(TRUSTED_PREFIX)
            .ok_or(MinisigProblem::NoTrustedComment)?;
        let global_signature: [u8; 64] = STANDARD
            .decode(global.trim())
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or(MinisigProblem::BadEncoding { line: 4 })?;
        Ok(SignatureFile {
            key_id: KeyId(*key_id),
            signature,
            trusted_comment: trusted_comment.to_string(),
            global_signature,
        })
    }

    /// Whether the file signature verifies (strictly) for this BLAKE2b-512 digest.
    pub fn file_signature_ok(&self, key: &PublicKey, blake2b512: &[u8; 64]) -> bool {
        key.verifying_key()
            .verify_strict(blake2b512, &Signature::from_bytes(&self.signature))
            .is_ok()
    }

    /// Whether the global signature over signature and trusted comment verifies (strictly).
    pub fn global_signature_ok(&self, key: &PublicKey) -> bool {
        let mut message = Vec::with_capacity(64 + self.trusted_comment.len());
        message.extend_from_slice(&self.signature);
        message.extend_from_slice(self.trusted_comment.as_bytes());
        key.verifying_key()
            .verify_strict(&message, &Signature::from_bytes(&self.global_signature))
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prehash_is_blake2b_512() {
        // RFC 7693, appendix A: BLAKE2b-512 of "abc".
        let abc = "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1\
                   7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923";
        assert_eq!(hex::encode(prehash(b"abc")), abc);
    }

    fn key() -> SecretKey {
        let pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIBERERERERERERERERERERERERERERERERERERERERER\n-----END PRIVATE KEY-----\n";
        SecretKey::parse_pem(pem, "test").unwrap()
    }

    #[test]
    fn sign_then_parse_and_check() {
        let key = key();
        let text = sign(&key, b"hello", "dpa/1 test");
        assert_eq!(text.lines().count(), 4);
        let parsed = SignatureFile::parse(text.as_bytes()).unwrap();
        assert_eq!(parsed.key_id, key.key_id());
        assert_eq!(parsed.trusted_comment, "dpa/1 test");
        let public = key.public_key();
        assert!(parsed.file_signature_ok(&public, &prehash(b"hello")));
        assert!(!parsed.file_signature_ok(&public, &prehash(b"hellO")));
        assert!(parsed.global_signature_ok(&public));
        let edited = SignatureFile {
            trusted_comment: "dpa/1 tesT".into(),
            ..parsed
        };
        assert!(!edited.global_signature_ok(&public));
    }

    #[test]
    fn public_key_round_trip() {
        let public = key().public_key();
        let line = public.minisign_base64();
        assert_eq!(
            parse_public_key(&line).unwrap(),
            (public.key_id(), public.to_bytes())
        );
        assert_eq!(
            parse_public_key(&public.to_minisign_file()).unwrap(),
            (public.key_id(), public.to_bytes())
        );
    }

    #[test]
    fn problems_are_named() {
        let good = sign(&key(), b"x", "c");
        let lines: Vec<&str> = good.lines().collect();
        assert_eq!(SignatureFile::parse(b""), Err(MinisigProblem::Empty));
        assert_eq!(
            SignatureFile::parse(&[0xff, 0xfe]),
            Err(MinisigProblem::NotText)
        );
        assert_eq!(
            SignatureFile::parse(&good.as_bytes()[..good.len() / 2]),
            Err(MinisigProblem::Truncated)
        );
        let legacy = {
            let mut blob = STANDARD.decode(lines[1]).unwrap();
            blob[1] = b'd';
            format!(
                "{}\n{}\n{}\n{}\n",
                lines[0],
                STANDARD.encode(blob),
                lines[2],
                lines[3]
            )
        };
        assert_eq!(
            SignatureFile::parse(legacy.as_bytes()),
            Err(MinisigProblem::LegacyAlgorithm)
        );
        let short_global = format!("{}\n{}\n{}\nAAAA\n", lines[0], lines[1], lines[2]);
        assert_eq!(
            SignatureFile::parse(short_global.as_bytes()),
            Err(MinisigProblem::BadEncoding { line: 4 })
        );
        let crlf = good.replace('\n', "\r\n");
        assert!(SignatureFile::parse(crlf.as_bytes()).is_ok());
    }
}
