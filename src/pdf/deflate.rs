//! Stream compression: bytes in, zlib-framed deflate (`/FlateDecode`) out.
//!
//! In: a stream's uncompressed bytes and its [`Kind`] (which fixes the level). Out: a
//! [`Deflated`] stream, the compressed bytes with a 128-bit digest of the uncompressed
//! ones. The deflate states are kept per thread (setting one up costs more than most of a
//! document's streams cost to compress), and [`deflate`] remembers what it compressed in
//! a per-thread [`Memo`] keyed by the uncompressed bytes: most of a DPA's streams (font
//! programs, maps, the pages no customer text reaches, the annex) come out the same for
//! every customer of a batch. A hit compares the whole bytes, not only their digest, and
//! deflate is a pure function of level and input, so the memo never changes an output.

use std::cell::RefCell;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use xxhash_rust::xxh3::xxh3_128;

use super::PdfError;
use crate::cache::{self, Memo};

/// What a stream holds, which decides how hard it is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Kind {
    /// Page contents, CMaps, metadata, attachments, the cross-reference stream:
    /// libdeflate level 1, which on the DPA is already smaller than zlib-rs at level 2
    /// (level 2 saves 0.2% more for 30% more time).
    Text,
    /// Font programs: binary outlines gain little from harder work (level 3 saves 0.5%
    /// of a DPA for 0.6 M instructions more).
    Font,
    /// The object stream: its 40 KB of dictionaries (structure tree, outline) shrink by
    /// a fifth more at level 4 than at level 1.
    Dense,
}

impl Kind {
    fn level(self) -> i32 {
        match self {
            Kind::Text | Kind::Font => 1,
            Kind::Dense => 4,
        }
    }

    /// Which of the thread's compressors compresses this kind: one per level, as a
    /// compressor's tables are a few hundred KB that a process touches page by page.
    fn deflater(self) -> usize {
        match self.level() {
            1 => 0,
            _ => 1,
        }
    }
}

/// A compressed stream and the digest of its uncompressed bytes (which the file
/// identifier hashes instead of the stream itself).
#[derive(Debug, Clone)]
pub(super) struct Deflated {
    /// The zlib stream, as written after `stream`.
    pub data: Arc<[u8]>,
    /// XXH3-128 of the uncompressed bytes.
    pub digest: u128,
    /// Whether `data` is the bytes as they are, written without a filter (see [`stored`]).
    pub stored: bool,
}

/// Bytes as a memo key, looked up by their XXH3-128 digest and compared in full, so a
/// digest collision is a miss.
pub(super) struct BytesKey {
    digest: u128,
    bytes: Vec<u8>,
}

impl BytesKey {
    pub(super) fn new(bytes: Vec<u8>) -> BytesKey {
        BytesKey {
            digest: xxh3_128(&bytes),
            bytes,
        }
    }
}

impl Hash for BytesKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // The digest already stands for the bytes; `eq` compares them in full.
        self.digest.hash(state);
    }
}

impl PartialEq for BytesKey {
    fn eq(&self, other: &Self) -> bool {
        self.digest == other.digest && self.bytes == other.bytes
    }
}

impl Eq for BytesKey {}

/// The memo's key: the uncompressed bytes and the kind.
#[derive(PartialEq, Eq, Hash)]
struct Key {
    kind: Kind,
    bytes: BytesKey,
}

/// Streams kept per thread: a DPA writes about 30, half of which repeat from one
/// customer to the next (a notice adds about ten); 64 entries per generation of a few to
/// 40 KB each (uncompressed and compressed) hold what repeats, a few MB per thread.
const MEMO_CAPACITY: usize = 64;

thread_local! {
    /// One compressor per level, reused: libdeflate's output depends only on the level
    /// and the input, so reuse, and sharing between kinds of one level, cannot change any
    /// output.
    static DEFLATERS: RefCell<[Deflater; 2]> = RefCell::new([
        Deflater::new(Kind::Text),
        Deflater::new(Kind::Dense),
    ]);
    static STREAMS: RefCell<Memo<Key, Deflated>> = RefCell::new(Memo::new(MEMO_CAPACITY));
}

/// Compresses `data` as a stream of `kind`, or hands out the stream compressed earlier on
/// this thread from the same bytes.
pub(super) fn deflate(kind: Kind, data: Vec<u8>) -> Result<Deflated, PdfError> {
    let key = Key {
        kind,
        bytes: BytesKey::new(data),
    };
    cache::memoised(&STREAMS, key, |key| {
        Ok(Deflated {
            data: compress(key.kind, &key.bytes.bytes)?,
            digest: key.bytes.digest,
            stored: false,
        })
    })
}

/// Compresses `data` as a stream of `kind`, without the memo (for callers that keep
/// the result in a memo of their own).
pub(super) fn deflate_once(kind: Kind, data: &[u8]) -> Result<Deflated, PdfError> {
    Ok(Deflated {
        data: compress(kind, data)?,
        digest: xxh3_128(data),
        stored: false,
    })
}

/// `data` as a stream written without a filter: for the few hundred bytes of a page
/// part that holds a customer's own text, which is new in every document. Compressing
/// so little costs a fixed ~55,000 instructions (libdeflate builds its Huffman codes
/// whatever the size) and saves about 45% of the bytes; hashing those bytes for the
/// three detached signatures and the embedded one costs ~43 instructions each, so
/// below a few KB a stored part is the cheaper document, for a few hundred bytes more.
pub(super) fn stored(data: &[u8]) -> Deflated {
    Deflated {
        data: Arc::from(data),
        digest: xxh3_128(data),
        stored: true,
    }
}

/// Compresses `data` with this thread's deflate state for `kind`.
fn compress(kind: Kind, data: &[u8]) -> Result<Arc<[u8]>, PdfError> {
    DEFLATERS.with_borrow_mut(|d| d[kind.deflater()].pack(data))
}

/// Compresses streams (zlib framing, for `/FlateDecode`) with libdeflate, reusing one
/// compressor and one output buffer per level. libdeflate, not zlib-rs: zlib-rs cleared
/// 176 KB of tables for every stream and took ~65 instructions a byte on a DPA's small
/// streams; libdeflate makes 4% smaller files in less than half the instructions
/// (BENCHMARKS.md, "Issue 15's budget: the first document").
struct Deflater {
    c: libdeflater::Compressor,
    buf: Vec<u8>,
}

impl Deflater {
    fn new(kind: Kind) -> Self {
        let level = libdeflater::CompressionLvl::new(kind.level())
            .unwrap_or_else(|_| libdeflater::CompressionLvl::default());
        Deflater {
            c: libdeflater::Compressor::new(level),
            buf: Vec::new(),
        }
    }

    fn pack(&mut self, data: &[u8]) -> Result<Arc<[u8]>, PdfError> {
        let bound = self.c.zlib_compress_bound(data.len());
        if self.buf.len() < bound {
            self.buf.resize(bound, 0);
        }
        let n = self
            .c
            .zlib_compress(data, &mut self.buf[..bound])
            .map_err(|e| PdfError::Write(format!("deflate failed: {e:?}")))?;
        Ok(Arc::from(&self.buf[..n]))
    }
}

/// The bytes a zlib stream of at most 64 KB holds, for tests that look inside streams.
#[cfg(test)]
pub(super) fn inflate(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; 1 << 16];
    let n = libdeflater::Decompressor::new()
        .zlib_decompress(data, &mut out)
        .expect("a valid zlib stream");
    out.truncate(n);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache;

    #[test]
    fn kinds_that_share_a_compressor_give_what_a_fresh_one_gives() {
        let fresh = |level: i32, data: &[u8]| {
            let mut c =
                libdeflater::Compressor::new(libdeflater::CompressionLvl::new(level).unwrap());
            let mut out = vec![0; c.zlib_compress_bound(data.len())];
            let n = c.zlib_compress(data, &mut out).unwrap();
            out.truncate(n);
            out
        };
        let text = b"BT /FR 11 Tf (Processor) Tj ET\n".repeat(50);
        let font: Vec<u8> = (0..4000u32).map(|i| (i * 7 % 251) as u8).collect();
        // Interleaved, so each kind follows the other on the shared compressor.
        for _ in 0..2 {
            for (kind, data) in [
                (Kind::Text, &text),
                (Kind::Font, &font),
                (Kind::Dense, &text),
            ] {
                assert_eq!(
                    &*deflate_once(kind, data).unwrap().data,
                    &fresh(kind.level(), data)[..],
                    "{kind:?}"
                );
            }
        }
    }

    #[test]
    fn memo_hands_out_what_compressing_gives() {
        cache::set_enabled(Some(true));
        let text = b"BT /FR 11 Tf (Processor) Tj ET\n".repeat(40);
        let first = deflate(Kind::Text, text.clone()).unwrap();
        let again = deflate(Kind::Text, text.clone()).unwrap();
        assert!(
            Arc::ptr_eq(&first.data, &again.data),
            "second call is a hit"
        );
        assert_eq!(inflate(&again.data), text);
        // Same bytes, other kind: compressed at its own level, not the text stream's.
        let dense = deflate(Kind::Dense, text.clone()).unwrap();
        assert!(!Arc::ptr_eq(&first.data, &dense.data));
        assert_eq!(
            &*dense.data,
            &*deflate_once(Kind::Dense, &text).unwrap().data
        );
        // One byte more or changed: a different stream.
        let mut other = text.clone();
        other[5] = b'X';
        let changed = deflate(Kind::Text, other.clone()).unwrap();
        assert_eq!(inflate(&changed.data), other);
        assert_ne!(changed.digest, first.digest);
        cache::set_enabled(Some(false));
        let off = deflate(Kind::Text, text.clone()).unwrap();
        assert!(!Arc::ptr_eq(&first.data, &off.data));
        assert_eq!(off.data, first.data, "memo on and off give the same bytes");
        cache::set_enabled(None);
    }

    #[test]
    fn a_digest_collision_is_not_a_hit() {
        cache::set_enabled(Some(true));
        // Planted under a digest that is not its own: a lookup by digest alone would
        // hand this stream out for any input with that digest.
        let real = b"q 0.82 g 1 0 0 1 0 0 cm Q\n".to_vec();
        let digest = xxh3_128(&real);
        let planted = Deflated {
            data: Arc::from(&b"not this"[..]),
            digest,
            stored: false,
        };
        STREAMS.with_borrow_mut(|m| {
            m.store(
                Key {
                    kind: Kind::Text,
                    bytes: BytesKey {
                        digest,
                        bytes: b"other bytes".to_vec(),
                    },
                },
                planted,
            )
        });
        let got = deflate(Kind::Text, real.clone()).unwrap();
        assert_eq!(inflate(&got.data), real);
        cache::set_enabled(None);
    }
}
