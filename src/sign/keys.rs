//! Ed25519 keys: generation, the four key files, loading, key ids and fingerprints.
//!
//! In: a folder and signer identity (`generate`), a PKCS#8 PEM file or environment variable
//! (`SecretKey`), an SPKI PEM or minisign public key (`PublicKey`). Out: keys that sign and
//! verify, their [`KeyId`] (8 bytes, shown as minisign shows it) and the SHA-256 fingerprint
//! a vendor publishes.
//!
//! Secret keys are refused when group or others may access the file, except for files whose
//! name contains `demo-only` or `test-only`: git cannot record mode 0600, so the committed
//! demo key arrives as 0644 on a fresh clone. Those load with [`KeyWarning::LoosePermissions`].

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{SigningKey, VerifyingKey};
use rand_core::OsRng;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::{SignError, minisign};

/// Secret key files larger than this are not key files; refusing them avoids reading a disk image.
const MAX_KEY_FILE: u64 = 64 * 1024;

/// The file names `generate` writes into its folder.
pub const SECRET_KEY_FILE: &str = "signing.key";
/// The SPKI PEM public key, for openssl and `dpa verify`.
pub const PUBLIC_PEM_FILE: &str = "signing.pub.pem";
/// The minisign public key file.
pub const MINISIGN_PUB_FILE: &str = "signing.minisign.pub";
/// The OpenSSH allowed_signers file for `ssh-keygen -Y verify`.
pub const ALLOWED_SIGNERS_FILE: &str = "allowed_signers";

/// A minisign key id: 8 bytes derived from the public key.
///
/// The bytes are the first 8 bytes of SHA-256(public key) in reverse order, so that the
/// way minisign prints an id (the bytes read as a little-endian u64 in uppercase hex)
/// gives the first 16 hex digits of the published fingerprint. minisign prints the
/// number without leading zeros (`%PRIX64`), and so does `Display`, so that the id in
/// a PDF is character for character what minisign tells the customer: 16 digits for 15
/// keys in 16, fewer when the fingerprint starts with `0`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyId(pub [u8; 8]);

impl KeyId {
    /// The key id of an Ed25519 public key, stable for a key from any source.
    pub fn derive(public_key: &[u8; 32]) -> KeyId {
        let digest = Sha256::digest(public_key);
        let mut id = [0u8; 8];
        for (slot, byte) in id.iter_mut().zip(digest.iter().take(8).rev()) {
            *slot = *byte;
        }
        KeyId(id)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}", u64::from_le_bytes(self.0))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

impl FromStr for KeyId {
    type Err = String;

    /// Parses the form minisign prints: up to 16 uppercase hex digits, no leading zero.
    fn from_str(text: &str) -> Result<KeyId, String> {
        let digits_ok = (1..=16).contains(&text.len())
            && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'A'..=b'F'));
        // One spelling per id keeps the trusted comment strict.
        let canonical = text == "0" || !text.starts_with('0');
        if !digits_ok || !canonical {
            return Err(format!(
                "expected a key id of up to 16 uppercase hex digits without leading zeros, found {text:?}"
            ));
        }
        let value = u64::from_str_radix(text, 16).map_err(|e| format!("key id {text:?}: {e}"))?;
        Ok(KeyId(value.to_le_bytes()))
    }
}

impl Serialize for KeyId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for KeyId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<KeyId, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The lowercase hex SHA-256 of a raw 32-byte public key: the fingerprint a vendor publishes.
pub fn fingerprint(public_key: &[u8; 32]) -> String {
    hex::encode(Sha256::digest(public_key))
}

/// An Ed25519 public key that is not weak, with its key id.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    key: VerifyingKey,
    key_id: KeyId,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("key_id", &self.key_id)
            .field("fingerprint", &self.fingerprint())
            .finish()
    }
}

impl PublicKey {
    /// Reads a public key file: SPKI PEM (`signing.pub.pem`) or minisign (`signing.minisign.pub`).
    pub fn load(path: &Path) -> Result<PublicKey, SignError> {
        let action = "read public key";
        let bytes = read_limited(open(path, action)?, path, action)?;
        let origin = path.display().to_string();
        let text = std::str::from_utf8(&bytes).map_err(|_| SignError::PublicKeyFormat {
            origin: origin.clone(),
            detail: "the file is not text".into(),
        })?;
        PublicKey::parse_from(text, &origin)
    }

    /// Parses SPKI PEM, a minisign public key file, or the bare minisign base64 line.
    pub fn parse(text: &str) -> Result<PublicKey, SignError> {
        PublicKey::parse_from(text, "text")
    }

    /// Like [`PublicKey::parse`], naming `origin` (a path or "text") in errors.
    pub fn parse_from(text: &str, origin: &str) -> Result<PublicKey, SignError> {
        let format_error = |detail: &str| SignError::PublicKeyFormat {
            origin: origin.to_string(),
            detail: detail.to_string(),
        };
        let trimmed = text.trim();
        if trimmed.contains("PRIVATE KEY") {
            // Never echo the text: it may be a secret key pasted by mistake.
            return Err(format_error(
                "this is a PRIVATE key; give the public key (signing.pub.pem) instead",
            ));
        }
        if trimmed.starts_with("-----BEGIN PUBLIC KEY-----") {
            if let Ok((_, der)) = der::pem::decode_vec(trimmed.as_bytes())
                && let Ok(spki) = spki::SubjectPublicKeyInfoOwned::try_from(der.as_slice())
            {
                let found = super::pkix::KeyAlgorithm::of_spki(&spki);
                if found != super::pkix::KeyAlgorithm::Ed25519 {
                    return Err(SignError::UnsupportedKey {
                        origin: origin.to_string(),
                        found: found.to_string(),
                        expected: "an Ed25519 public key".into(),
                    });
                }
            }
            let key = VerifyingKey::from_public_key_pem(trimmed)
                .map_err(|e| format_error(&format!("SPKI PEM: {e}")))?;
            return PublicKey::from_verifying_key(key, None, origin);
        }
        if trimmed.starts_with("-----BEGIN") {
            return Err(format_error("PEM of another kind than PUBLIC KEY"));
        }
        let (key_id, bytes) = minisign::parse_public_key(trimmed).map_err(|e| format_error(&e))?;
        let key = VerifyingKey::from_bytes(&bytes)
            .map_err(|_| format_error("the key bytes are not a point on Ed25519"))?;
        PublicKey::from_verifying_key(key, Some(key_id), origin)
    }

    /// A public key from its 32 raw bytes, with the derived key id.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<PublicKey, SignError> {
        let key = VerifyingKey::from_bytes(bytes).map_err(|_| SignError::PublicKeyFormat {
            origin: "raw bytes".into(),
            detail: "not a point on Ed25519".into(),
        })?;
        PublicKey::from_verifying_key(key, None, "raw bytes")
    }

    fn from_verifying_key(
        key: VerifyingKey,
        key_id: Option<KeyId>,
        origin: &str,
    ) -> Result<PublicKey, SignError> {
        if key.is_weak() {
            return Err(SignError::WeakKey {
                origin: origin.to_string(),
            });
        }
        let key_id = key_id.unwrap_or_else(|| KeyId::derive(key.as_bytes()));
        Ok(PublicKey { key, key_id })
    }

    /// The key id: from the minisign file if the key came from one, else derived.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The 32 raw public key bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The lowercase hex SHA-256 of the raw public key.
    pub fn fingerprint(&self) -> String {
        fingerprint(self.key.as_bytes())
    }

    /// The OpenSSH form, e.g. `SHA256:1a2b...`, that `ssh-keygen -lf` prints.
    pub fn ssh_fingerprint(&self) -> String {
        self.ssh_key()
            .fingerprint(ssh_key::HashAlg::Sha256)
            .to_string()
    }

    /// The SPKI PEM text (`-----BEGIN PUBLIC KEY-----`).
    pub fn to_spki_pem(&self) -> Result<String, SignError> {
        self.key
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| SignError::PublicKeyFormat {
                origin: "encoder".into(),
                detail: e.to_string(),
            })
    }

    /// The base64 line that `minisign -P` takes.
    pub fn minisign_base64(&self) -> String {
        minisign::encode_public_key(self.key_id, self.key.as_bytes())
    }

    /// The two-line minisign public key file.
    pub fn to_minisign_file(&self) -> String {
        format!(
            "untrusted comment: minisign public key {}\n{}\n",
            self.key_id,
            self.minisign_base64()
        )
    }

    /// The OpenSSH public key line, `ssh-ed25519 AAAA...`.
    pub fn to_openssh(&self) -> Result<String, SignError> {
        self.ssh_key().to_openssh().map_err(|e| SignError::Ssh {
            detail: e.to_string(),
        })
    }

    /// One allowed_signers line: `IDENTITY namespaces="dpa" ssh-ed25519 AAAA...`.
    pub fn allowed_signers_line(&self, identity: &str) -> Result<String, SignError> {
        check_identity(identity)?;
        Ok(format!(
            "{identity} namespaces=\"{}\" {}\n",
            super::SSH_NAMESPACE,
            self.to_openssh()?
        ))
    }

    pub(crate) fn ssh_key(&self) -> ssh_key::PublicKey {
        ssh_key::PublicKey::from(ssh_key::public::Ed25519PublicKey(self.key.to_bytes()))
    }

    pub(crate) fn verifying_key(&self) -> &VerifyingKey {
        &self.key
    }
}

/// Something the user should know about a key that was loaded or written anyway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "warning", rename_all = "snake_case")]
pub enum KeyWarning {
    /// A demo-only or test-only key file that other users may read; fine for demos only.
    LoosePermissions { path: PathBuf, mode: u32 },
    /// Keys were written into a folder that every user may write to.
    WorldWritableFolder { path: PathBuf, mode: u32 },
}

impl fmt::Display for KeyWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyWarning::LoosePermissions { path, mode } => write!(
                f,
                "{} has mode {mode:04o}; accepted only because its name marks it as a demo or test key, never use it for real documents",
                path.display()
            ),
            KeyWarning::WorldWritableFolder { path, mode } => write!(
                f,
                "{} has mode {mode:04o}: any user may rename or delete the key files there; move them to a private folder (chmod 700)",
                path.display()
            ),
        }
    }
}

/// An Ed25519 secret key; its bytes never appear in Debug output, errors or logs.
pub struct SecretKey {
    signing: SigningKey,
    key_id: KeyId,
    warning: Option<KeyWarning>,
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretKey")
            .field("key_id", &self.key_id)
            .field("secret", &"<redacted>")
            .field("warning", &self.warning)
            .finish()
    }
}

impl SecretKey {
    /// Loads a PKCS#8 PEM key file (v1 or v2 layout), refusing one others may access.
    ///
    /// A file whose name contains `demo-only` or `test-only` is loaded whatever its mode,
    /// with [`SecretKey::warning`] set, because git cannot store mode 0600.
    pub fn load(path: &Path) -> Result<SecretKey, SignError> {
        let (text, warning) = read_secret_text(path)?;
        let mut key = SecretKey::parse_pem(&text, &path.display().to_string())?;
        key.warning = warning;
        Ok(key)
    }

    /// Reads the PEM text of a key from an environment variable, for CI systems.
    pub fn from_env(var_name: &str) -> Result<SecretKey, SignError> {
        let text = secret_env_text(var_name)?;
        SecretKey::parse_pem(&text, &format!("from ${var_name}"))
    }

    /// Parses PKCS#8 PEM text; `origin` names its source in errors.
    pub fn parse_pem(text: &str, origin: &str) -> Result<SecretKey, SignError> {
        let format_error = |detail: &str| SignError::SecretKeyFormat {
            origin: origin.to_string(),
            detail: detail.to_string(),
        };
        let trimmed = text.trim();
        if trimmed.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
            return Err(format_error(
                "it is encrypted; decrypt it with `openssl pkey -in KEY -out signing.key`",
            ));
        }
        if trimmed.contains("-----BEGIN OPENSSH PRIVATE KEY-----") {
            return Err(format_error(
                "it is an OpenSSH key; dpa reads PKCS#8 PEM keys",
            ));
        }
        if !trimmed.starts_with("-----BEGIN PRIVATE KEY-----") {
            return Err(format_error("expected -----BEGIN PRIVATE KEY-----"));
        }
        // Name the key's real algorithm: the pkcs8 error would print Ed25519's own OID.
        if let Ok((_, der)) = der::pem::decode_vec(trimmed.as_bytes()) {
            let der = Zeroizing::new(der);
            match super::pkix::KeyAlgorithm::of_pkcs8(&der) {
                Some(super::pkix::KeyAlgorithm::Ed25519) | None => {}
                Some(other) => {
                    return Err(SignError::UnsupportedKey {
                        origin: origin.to_string(),
                        found: other.to_string(),
                        expected: "an Ed25519 key".into(),
                    });
                }
            }
        }
        // The pkcs8 error names only the structure that failed, never key bytes.
        let signing =
            SigningKey::from_pkcs8_pem(trimmed).map_err(|e| format_error(&e.to_string()))?;
        Ok(SecretKey::from_signing_key(signing))
    }

    fn from_signing_key(signing: SigningKey) -> SecretKey {
        let key_id = KeyId::derive(signing.verifying_key().as_bytes());
        SecretKey {
            signing,
            key_id,
            warning: None,
        }
    }

    /// The key id every signature made with this key carries.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey {
            key: self.signing.verifying_key(),
            key_id: self.key_id,
        }
    }

    /// Set when the key was accepted despite loose permissions (demo or test keys only).
    pub fn warning(&self) -> Option<&KeyWarning> {
        self.warning.as_ref()
    }

    /// The PKCS#8 v1 PEM text (no public key inside, the layout OpenSSL 3.0 accepts).
    fn to_pkcs8_v1_pem(&self) -> Result<Zeroizing<String>, SignError> {
        let bytes = ed25519_dalek::pkcs8::KeypairBytes {
            secret_key: self.signing.to_bytes(),
            public_key: None,
        };
        bytes
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| SignError::SecretKeyFormat {
                origin: "encoder".into(),
                detail: e.to_string(),
            })
    }

    pub(crate) fn signing_key(&self) -> &SigningKey {
        &self.signing
    }
}

/// What `generate` wrote and what the vendor should publish.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyInfo {
    /// The key id, as minisign prints it.
    pub key_id: KeyId,
    /// Lowercase hex SHA-256 of the raw 32-byte public key.
    pub fingerprint: String,
    /// The OpenSSH fingerprint, `SHA256:...`.
    pub ssh_fingerprint: String,
    /// The base64 public key line for `minisign -P`.
    pub minisign_public_key: String,
    /// `DIR/signing.key`, mode 0600.
    pub secret_key: PathBuf,
    /// `DIR/signing.pub.pem`.
    pub public_pem: PathBuf,
    /// `DIR/signing.minisign.pub`.
    pub minisign_pub: PathBuf,
    /// `DIR/allowed_signers`.
    pub allowed_signers: PathBuf,
    /// Things the user should know about where the keys went.
    pub warnings: Vec<KeyWarning>,
}

/// Creates a new key from OS randomness and writes the four key files into `dir`.
///
/// Nothing is overwritten: if any of the four files exists, nothing is written. If a write
/// fails midway, the files this call created are removed again, so no partial set remains.
pub fn generate(dir: &Path, identity: &str) -> Result<KeyInfo, SignError> {
    check_identity(identity)?;
    let key = SecretKey::from_signing_key(SigningKey::generate(&mut OsRng));
    write_key_files(dir, identity, &key)
}

/// Writes the four key files of `key` into `dir`; used by `generate`.
fn write_key_files(dir: &Path, identity: &str, key: &SecretKey) -> Result<KeyInfo, SignError> {
    let public = key.public_key();
    let info = KeyInfo {
        key_id: key.key_id(),
        fingerprint: public.fingerprint(),
        ssh_fingerprint: public.ssh_fingerprint(),
        minisign_public_key: public.minisign_base64(),
        secret_key: dir.join(SECRET_KEY_FILE),
        public_pem: dir.join(PUBLIC_PEM_FILE),
        minisign_pub: dir.join(MINISIGN_PUB_FILE),
        allowed_signers: dir.join(ALLOWED_SIGNERS_FILE),
        warnings: Vec::new(),
    };
    let secret_pem = key.to_pkcs8_v1_pem()?;
    let public_pem = public.to_spki_pem()?;
    let minisign_pub = public.to_minisign_file();
    let allowed = public.allowed_signers_line(identity)?;
    let files: [(&Path, &[u8], bool); 4] = [
        (&info.secret_key, secret_pem.as_bytes(), true),
        (&info.public_pem, public_pem.as_bytes(), false),
        (&info.minisign_pub, minisign_pub.as_bytes(), false),
        (&info.allowed_signers, allowed.as_bytes(), false),
    ];

    create_file_set(dir, &files)?;
    let mut info = info;
    info.warnings = folder_warnings(dir);
    Ok(info)
}

/// Creates every file of a key set in `dir`, or none: `(path, contents, secret)` each.
///
/// Fails before writing if any path exists; removes what it created if a write fails.
pub(crate) fn create_file_set(dir: &Path, files: &[(&Path, &[u8], bool)]) -> Result<(), SignError> {
    // Check first so a second keygen into the same folder fails before touching anything.
    for (path, _, _) in files {
        if fs::symlink_metadata(path).is_ok() {
            return Err(SignError::KeyExists {
                path: path.to_path_buf(),
            });
        }
    }
    fs::create_dir_all(dir).map_err(|source| SignError::Io {
        action: "create folder",
        path: dir.to_path_buf(),
        source,
    })?;

    let mut created: Vec<&Path> = Vec::new();
    for (path, contents, secret) in files {
        match create_new_file(path, contents, *secret) {
            Ok(()) => created.push(path),
            Err(err) => {
                for done in created {
                    // Best effort: these files were created by this call a moment ago.
                    let _ = fs::remove_file(done);
                }
                return Err(err);
            }
        }
    }
    if let Ok(handle) = File::open(dir) {
        // Persist the new directory entries; not every platform can sync a folder.
        let _ = handle.sync_all();
    }
    Ok(())
}

/// A warning when `dir` may be written by every user (others could swap key files).
pub(crate) fn folder_warnings(dir: &Path) -> Vec<KeyWarning> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = fs::metadata(dir) {
            let mode = meta.permissions().mode() & 0o7777;
            if mode & 0o002 != 0 {
                return vec![KeyWarning::WorldWritableFolder {
                    path: dir.to_path_buf(),
                    mode,
                }];
            }
        }
    }
    let _ = dir;
    Vec::new()
}

/// The PEM text of a secret key held in an environment variable (set, UTF-8, not empty).
pub(crate) fn secret_env_text(var_name: &str) -> Result<Zeroizing<String>, SignError> {
    let value = std::env::var_os(var_name).ok_or_else(|| SignError::KeyEnv {
        var: var_name.to_string(),
        detail: "it is not set".into(),
    })?;
    let text = Zeroizing::new(value.into_string().map_err(|_| SignError::KeyEnv {
        var: var_name.to_string(),
        detail: "its value is not UTF-8".into(),
    })?);
    if text.trim().is_empty() {
        return Err(SignError::KeyEnv {
            var: var_name.to_string(),
            detail: "it is empty".into(),
        });
    }
    Ok(text)
}

/// Reads a secret key file's text after the permission check; the warning is for demo keys.
pub(crate) fn read_secret_text(
    path: &Path,
) -> Result<(Zeroizing<String>, Option<KeyWarning>), SignError> {
    let action = "read secret key";
    let file = open(path, action)?;
    // Check the opened file, not the path, so a swapped file cannot slip past the check.
    let metadata = file.metadata().map_err(|source| SignError::Io {
        action,
        path: path.to_path_buf(),
        source,
    })?;
    let warning = check_permissions(path, &metadata)?;
    let bytes = Zeroizing::new(read_limited(file, path, action)?);
    let text = std::str::from_utf8(&bytes).map_err(|_| SignError::SecretKeyFormat {
        origin: path.display().to_string(),
        detail: "the file is not text".into(),
    })?;
    Ok((Zeroizing::new(text.to_string()), warning))
}

/// Creates `path` exclusively (never replacing anything) and writes `contents` durably.
fn create_new_file(path: &Path, contents: &[u8], secret: bool) -> Result<(), SignError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if secret { 0o600 } else { 0o644 });
    }
    let _ = secret;
    let mut file = options.open(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::AlreadyExists {
            SignError::KeyExists {
                path: path.to_path_buf(),
            }
        } else {
            SignError::Io {
                action: "create",
                path: path.to_path_buf(),
                source,
            }
        }
    })?;
    let written = file.write_all(contents).and_then(|()| file.sync_all());
    if let Err(source) = written {
        let _ = fs::remove_file(path);
        return Err(SignError::Io {
            action: "write",
            path: path.to_path_buf(),
            source,
        });
    }
    Ok(())
}

/// Refuses identities that would break or widen the allowed_signers line.
fn check_identity(identity: &str) -> Result<(), SignError> {
    let fail = |detail: &str| SignError::Identity {
        identity: identity.to_string(),
        detail: detail.to_string(),
    };
    if identity.is_empty() {
        return Err(fail("it is empty"));
    }
    if identity.len() > 254 {
        return Err(fail("it is longer than 254 characters"));
    }
    // allowed_signers principals are comma-separated patterns: `*`, `?`, `!` and `,` would
    // let the line match other signers, and spaces or quotes would split the line.
    if let Some(bad) = identity
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "@._+-".contains(*c)))
    {
        return Err(fail(&format!(
            "it contains {bad:?}; only letters, digits and @ . _ + - are allowed"
        )));
    }
    Ok(())
}

/// Checks a secret key file's mode; `Ok(Some(..))` for a loose demo/test key loaded anyway.
fn check_permissions(
    path: &Path,
    metadata: &fs::Metadata,
) -> Result<Option<KeyWarning>, SignError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = metadata.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            // The exemption goes by the real file's name: a link named demo-only.key that
            // points at a real key must not exempt it.
            let real = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
            let name = real
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if name.contains("demo-only") || name.contains("test-only") {
                return Ok(Some(KeyWarning::LoosePermissions {
                    path: path.to_path_buf(),
                    mode,
                }));
            }
            return Err(SignError::KeyPermissions {
                path: path.to_path_buf(),
                mode,
            });
        }
    }
    let _ = metadata;
    Ok(None)
}

fn open(path: &Path, action: &'static str) -> Result<File, SignError> {
    File::open(path).map_err(|source| SignError::Io {
        action,
        path: path.to_path_buf(),
        source,
    })
}

/// Reads a small file, refusing anything larger than a key file can be.
fn read_limited(file: File, path: &Path, action: &'static str) -> Result<Vec<u8>, SignError> {
    let io_error = |source| SignError::Io {
        action,
        path: path.to_path_buf(),
        source,
    };
    // Full capacity up front: no reallocation leaves copies of a secret behind.
    let mut bytes = Vec::with_capacity(MAX_KEY_FILE as usize + 1);
    file.take(MAX_KEY_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(io_error)?;
    if bytes.len() as u64 > MAX_KEY_FILE {
        return Err(SignError::Io {
            action,
            path: path.to_path_buf(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("larger than {MAX_KEY_FILE} bytes, not a key file"),
            ),
        });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_id_display_is_the_fingerprint_prefix() {
        let key = SecretKey::from_signing_key(SigningKey::from_bytes(&[7u8; 32]));
        let public = key.public_key();
        let shown = key.key_id().to_string();
        let prefix = public.fingerprint()[..16].to_uppercase();
        assert_eq!(shown, prefix.trim_start_matches('0'));
        assert_eq!(shown.parse::<KeyId>(), Ok(key.key_id()));
    }

    #[test]
    fn key_id_display_matches_minisign_little_endian() {
        // minisign printed 14A8AD138A2FBA3B for a key whose id bytes are 3b ba 2f 8a 13 ad a8 14.
        let id = KeyId([0x3b, 0xba, 0x2f, 0x8a, 0x13, 0xad, 0xa8, 0x14]);
        assert_eq!(id.to_string(), "14A8AD138A2FBA3B");
        // And 7A92BA82EA890B1, without a leading zero, for the id 0x07A92BA82EA890B1.
        let id = KeyId(0x07A9_2BA8_2EA8_90B1u64.to_le_bytes());
        assert_eq!(id.to_string(), "7A92BA82EA890B1");
        assert_eq!("7A92BA82EA890B1".parse::<KeyId>(), Ok(id));
        assert!("07A92BA82EA890B1".parse::<KeyId>().is_err());
        assert_eq!(
            KeyId([0; 8]).to_string().parse::<KeyId>(),
            Ok(KeyId([0; 8]))
        );
    }

    #[test]
    fn key_id_parse_is_strict() {
        for bad in [
            "",
            "14a8ad138a2fba3b",
            "00",
            " 1",
            "14A8AD138A2FBA3BB",
            "+4A8AD138A2FBA3B",
        ] {
            assert!(bad.parse::<KeyId>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn identities_that_could_widen_allowed_signers_are_refused() {
        assert!(check_identity("privacy@segmetrics.io").is_ok());
        for bad in ["", "a b", "*", "a@b,c@d", "\"x\"", "a\nb", "!a@b"] {
            assert!(check_identity(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn debug_redacts_the_secret() {
        let seed = [0x5au8; 32];
        let key = SecretKey::from_signing_key(SigningKey::from_bytes(&seed));
        let debug = format!("{key:?} {:?}", key.public_key());
        assert!(!debug.contains(&hex::encode(seed)));
        assert!(!debug.to_lowercase().contains("5a5a5a"));
        assert!(debug.contains("<redacted>"));
    }

    #[test]
    fn pkcs8_v1_round_trip() {
        let key = SecretKey::from_signing_key(SigningKey::from_bytes(&[9u8; 32]));
        let pem = key.to_pkcs8_v1_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        let again = SecretKey::parse_pem(&pem, "test").unwrap();
        assert_eq!(again.key_id(), key.key_id());
        // v1: version 0 and no public key: 48 bytes of DER, 64 base64 characters.
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        assert_eq!(body.len(), 64);
    }
}
