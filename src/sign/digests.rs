//! The digests a document is signed over, hashed from where it parts from the previous
//! document of the same thread.
//!
//! In: the bytes of a PDF (and, for the embedded signature, the `/Contents` hole it leaves
//! out). Out: SHA-256 of the byte range (the CMS's message digest), and SHA-256, SHA-512
//! and BLAKE2b-512 of the final file (the `.sha256` line, the SSHSIG and the minisign
//! prehash). Each is what hashing the bytes from the start gives; a [`Trail`] per hash
//! and thread only spares the leading bytes a batch's documents share (see
//! [`crate::cache::Trail`]).

use std::cell::RefCell;
use std::ops::Range;

use sha2::{Digest, Sha256, Sha512};

use crate::cache::Trail;

thread_local! {
    static SHA256: RefCell<Trail<Sha256>> = const { RefCell::new(Trail::new()) };
    static SHA512: RefCell<Trail<Sha512>> = const { RefCell::new(Trail::new()) };
    static BLAKE2B: RefCell<Trail<blake2b_simd::State>> = const { RefCell::new(Trail::new()) };
}

/// The digests of a finished file that its detached signatures need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDigests {
    /// For the `.sha256` line, the trusted comment and the register.
    pub sha256: [u8; 32],
    /// For the SSHSIG (hash algorithm `sha512`).
    pub sha512: [u8; 64],
    /// For minisign's prehashed (`ED`) signature.
    pub blake2b: [u8; 64],
}

impl FileDigests {
    /// The lowercase hex SHA-256.
    pub fn sha256_hex(&self) -> String {
        hex::encode(self.sha256)
    }
}

/// The three digests of `file`.
pub fn file(file: &[u8]) -> FileDigests {
    FileDigests {
        sha256: sha256_head(file).finalize().into(),
        sha512: SHA512
            .with_borrow_mut(|t| t.hash(file, Sha512::new, |h, b| h.update(b)))
            .finalize()
            .into(),
        blake2b: *BLAKE2B
            .with_borrow_mut(|t| {
                t.hash(file, blake2b_simd::State::new, |h, b| {
                    h.update(b);
                })
            })
            .finalize()
            .as_array(),
    }
}

/// SHA-256 of `file` without the bytes of `hole` (an embedded signature's byte range).
pub fn sha256_around(file: &[u8], hole: Range<usize>) -> [u8; 32] {
    let mut hasher = sha256_head(&file[..hole.start]);
    hasher.update(&file[hole.end..]);
    hasher.finalize().into()
}

/// SHA-256 after `bytes`, the file's first bytes. The byte range and the final file share
/// their bytes up to the hole, so the second pass resumes where the hole begins.
fn sha256_head(bytes: &[u8]) -> Sha256 {
    SHA256.with_borrow_mut(|t| t.hash(bytes, Sha256::new, |h, b| h.update(b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_those_of_the_bytes_from_the_start() {
        crate::cache::set_enabled(Some(true));
        let a: Vec<u8> = (0..70_000u32).map(|i| (i % 253) as u8).collect();
        let mut b = a.clone();
        b[40_000] = 0xff;
        let mut signed = b.clone();
        signed[50_000..50_100].fill(b'0');
        for bytes in [&a, &b, &a, &signed, &b] {
            let d = file(bytes);
            assert_eq!(d.sha256[..], Sha256::digest(bytes)[..]);
            assert_eq!(d.sha512[..], Sha512::digest(bytes)[..]);
            assert_eq!(d.blake2b, *blake2b_simd::blake2b(bytes).as_array());
            let around = [&bytes[..50_000], &bytes[50_100..]].concat();
            assert_eq!(
                sha256_around(bytes, 50_000..50_100)[..],
                Sha256::digest(&around)[..]
            );
        }
        assert_eq!(file(&a).sha256_hex(), hex::encode(Sha256::digest(&a)));
        crate::cache::set_enabled(None);
    }
}
