//! The vendor's signing keys as one value, so that adding a key touches this file only.
//!
//! In: a [`KeySource`] (file or environment variable). Out: a [`KeySet`] that signs a
//! rendered document twice over: [`KeySet::embed`] makes the signature inside the PDF
//! (the PAdES seam, issue 12: today the bytes pass through unchanged) and
//! [`KeySet::detached`] makes the detached signatures over the final bytes.

use crate::config::KeySource;
use crate::sign::{self, KeyId, SecretKey, SignError, Signatures, TrustedComment};

/// Every key a document is signed with.
pub struct KeySet {
    ed25519: SecretKey,
}

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

impl KeySet {
    /// Loads the keys from where the inputs say.
    pub fn load(source: &KeySource) -> Result<KeySet, KeyError> {
        let ed25519 = match source {
            KeySource::File(path) => SecretKey::load(&path.value)?,
            KeySource::Env(var) => SecretKey::from_env(var)?,
            KeySource::Missing => return Err(KeyError::Missing),
        };
        Ok(KeySet { ed25519 })
    }

    /// A key set of one Ed25519 key.
    pub fn from_ed25519(key: SecretKey) -> KeySet {
        KeySet { ed25519: key }
    }

    /// The id of the detached-signature key, printed in documents and comments.
    pub fn key_id(&self) -> KeyId {
        self.ed25519.key_id()
    }

    /// The Ed25519 key.
    pub fn ed25519(&self) -> &SecretKey {
        &self.ed25519
    }

    /// A warning to show about the keys (e.g. a demo key), if any.
    pub fn warning(&self) -> Option<String> {
        self.ed25519.warning().map(|w| w.to_string())
    }

    /// The signature embedded in the PDF, made over the engine's unsigned bytes.
    ///
    /// The seam for the PAdES signature: the engine will leave placeholders in the bytes
    /// and this fills them; until then the document has no embedded signature.
    pub fn embed(&self, unsigned: Vec<u8>) -> Result<Vec<u8>, SignError> {
        Ok(unsigned)
    }

    /// The detached signatures over the final bytes; `comment.sha256` must be theirs.
    pub fn detached(
        &self,
        file_name: &str,
        pdf: &[u8],
        comment: &TrustedComment,
        raw: bool,
    ) -> Result<Signatures, SignError> {
        sign::sign_hashed(&self.ed25519, file_name, pdf, comment, raw)
    }
}
