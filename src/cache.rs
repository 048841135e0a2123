//! Memo tables for work that repeats between the documents of one process.
//!
//! In: a key that names everything a result depends on. Out: the result computed once and
//! handed out again (a clone, so keep values cheap to clone: `Arc` or small).
//!
//! Most of a DPA is the same for every customer: the clauses are set at the same width
//! with the same fonts, and many streams come out byte for byte the same. Stages memoise
//! such work in a [`Memo`] kept per thread (a `thread_local!` table that [`memoised`]
//! consults), so batch workers never wait on each other. A table keeps two generations of
//! bounded size (see [`Memo`]), which keeps memory flat however many documents a process
//! makes. What a stage memoises must be a pure function of its key: the bytes of a
//! document never depend on what was cached (tests render with and without the tables
//! and compare).
//!
//! Turning the tables off: `DPA_NO_CACHE=1` in the environment (for the whole process, read
//! once), or [`set_enabled`] for the calling thread (tests).

use std::borrow::Borrow;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::OnceLock;
use std::thread::LocalKey;

thread_local! {
    static THREAD: Cell<Option<bool>> = const { Cell::new(None) };
}

/// Turns memoising on or off for the calling thread (`None`: the process default).
pub fn set_enabled(on: Option<bool>) {
    THREAD.with(|t| t.set(on));
}

/// Whether stages on this thread memoise: [`set_enabled`] if called, otherwise on unless
/// `DPA_NO_CACHE` is set to something other than `0` or the empty string.
pub fn enabled() -> bool {
    static PROCESS: OnceLock<bool> = OnceLock::new();
    THREAD.with(|t| t.get()).unwrap_or_else(|| {
        *PROCESS.get_or_init(|| {
            std::env::var_os("DPA_NO_CACHE").is_none_or(|v| v.is_empty() || v == "0")
        })
    })
}

/// The value for `key` in this thread's `table`, made by `make` when the table does not
/// have it (and always, without storing, when memoising is off on this thread). Errors
/// are not stored. The table is not borrowed while `make` runs, so `make` may use it too.
pub fn memoised<K: Eq + Hash, V: Clone, E>(
    table: &'static LocalKey<RefCell<Memo<K, V>>>,
    key: K,
    make: impl FnOnce(&K) -> Result<V, E>,
) -> Result<V, E> {
    if let Some(hit) = table.with_borrow_mut(|m| m.lookup(&key)) {
        return Ok(hit);
    }
    let made = make(&key)?;
    table.with_borrow_mut(|m| m.store(key, made.clone()));
    Ok(made)
}

/// The tables' hasher: foldhash, several times faster than std's SipHash on the long keys
/// (paragraph texts) memoised here; a table's contents never reach a document, so its
/// hash order does not matter.
type Hasher = foldhash::fast::RandomState;

/// A bounded memo table in two generations: entries go into the young one; when it is
/// full, it becomes the old one and the previous old one is dropped. An old entry that is
/// used again moves back to the young one. So what every document uses (the clauses)
/// stays, what one customer brought (their name in a paragraph) ages out, and the table
/// never holds more than twice `capacity` entries.
#[derive(Debug)]
pub struct Memo<K, V> {
    young: HashMap<K, V, Hasher>,
    old: HashMap<K, V, Hasher>,
    capacity: usize,
}

impl<K: Eq + Hash, V: Clone> Memo<K, V> {
    /// An empty table that holds at most `capacity` entries per generation.
    pub fn new(capacity: usize) -> Self {
        Memo {
            young: HashMap::default(),
            old: HashMap::default(),
            capacity: capacity.max(1),
        }
    }

    /// The stored value for `key` (or a borrowed form of it, such as `str` for a
    /// `Box<str>` key), if any (always `None` when memoising is off).
    pub fn lookup<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if !enabled() {
            return None;
        }
        if let Some(v) = self.young.get(key) {
            return Some(v.clone());
        }
        let (k, v) = self.old.remove_entry(key)?;
        let out = v.clone();
        self.insert(k, v);
        Some(out)
    }

    /// Stores `value` under `key` (nothing when memoising is off).
    pub fn store(&mut self, key: K, value: V) {
        if enabled() {
            self.insert(key, value);
        }
    }

    fn insert(&mut self, key: K, value: V) {
        if self.young.len() >= self.capacity {
            self.old = std::mem::take(&mut self.young);
        }
        self.young.insert(key, value);
    }

    /// How many entries the table holds.
    pub fn len(&self) -> usize {
        self.young.len() + self.old.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.young.is_empty() && self.old.is_empty()
    }
}

/// Bytes between two states a [`Trail`] keeps: a multiple of the block sizes of the hashes
/// it serves (64 bytes for SHA-256, 128 for SHA-512 and BLAKE2b).
pub const TRAIL_STEP: usize = 1024;
/// A trail keeps states for at most this many leading bytes (a DPA is about 70 KB).
const TRAIL_MAX: usize = 256 * 1024;

/// A hash's states along the bytes it hashed last, so that bytes which begin as the
/// previous ones did are hashed from where they part, not from the start.
///
/// The documents of a batch begin alike: the same fonts and clauses, written in the same
/// order (see `pdf::write`), and each is hashed four times to be signed. A trail keeps
/// the previous bytes' leading part and the hash state after every [`TRAIL_STEP`] of them;
/// the next bytes are compared with it step by step (a `memcmp`, some thirty times
/// cheaper than hashing the same bytes) and the hash resumes from the last state whose
/// bytes are all equal. The digest is the hash of the bytes given, whatever the trail
/// held: only the work changes. Hand-written because hash crates offer the states
/// (`Clone`) but nothing that keeps and matches them.
#[derive(Debug, Default)]
pub struct Trail<H> {
    /// The leading bytes the states were taken along: `(states.len() - 1) * TRAIL_STEP`.
    head: Vec<u8>,
    /// `states[i]`: the state after the first `i * TRAIL_STEP` bytes of `head`.
    states: Vec<H>,
}

impl<H: Clone> Trail<H> {
    /// An empty trail.
    pub const fn new() -> Self {
        Trail {
            head: Vec::new(),
            states: Vec::new(),
        }
    }

    /// The state `fresh()` reaches when `feed` gives it `bytes`, resumed from this trail,
    /// which then follows `bytes` (with memoising off, hashed from the start and the
    /// trail left alone).
    pub fn hash(&mut self, bytes: &[u8], fresh: impl Fn() -> H, feed: impl Fn(&mut H, &[u8])) -> H {
        if !enabled() {
            let mut state = fresh();
            feed(&mut state, bytes);
            return state;
        }
        if self.states.is_empty() {
            self.states.push(fresh());
        }
        let same = self
            .head
            .chunks_exact(TRAIL_STEP)
            .zip(bytes.chunks_exact(TRAIL_STEP))
            .take_while(|(was, now)| was == now)
            .count();
        self.states.truncate(same + 1);
        self.head.truncate(same * TRAIL_STEP);
        let mut state = self.states[same].clone();
        let mut at = same * TRAIL_STEP;
        while at + TRAIL_STEP <= bytes.len().min(TRAIL_MAX) {
            let step = &bytes[at..at + TRAIL_STEP];
            feed(&mut state, step);
            self.states.push(state.clone());
            self.head.extend_from_slice(step);
            at += TRAIL_STEP;
        }
        feed(&mut state, &bytes[at..]);
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        static TWO: RefCell<Memo<u32, u32>> = RefCell::new(Memo::new(2));
        static FOUR: RefCell<Memo<u32, u32>> = RefCell::new(Memo::new(4));
        static EIGHT: RefCell<Memo<u32, u32>> = RefCell::new(Memo::new(8));
    }

    #[test]
    fn memo_computes_once_and_stays_bounded() {
        set_enabled(Some(true));
        let mut calls = 0;
        for k in [1, 1, 2, 1] {
            memoised::<_, _, ()>(&TWO, k, |&k| {
                calls += 1;
                Ok(k * 10)
            })
            .unwrap();
        }
        assert_eq!(calls, 2);
        memoised::<_, _, ()>(&TWO, 3, |_| Ok(30)).unwrap();
        assert!(TWO.with_borrow(|m| m.len()) <= 4);
        assert_eq!(TWO.with_borrow_mut(|m| m.lookup(&3)), Some(30));
        assert!(memoised(&TWO, 4, |_| Err("no")).is_err());
        assert_eq!(TWO.with_borrow_mut(|m| m.lookup(&4)), None);
        set_enabled(None);
    }

    #[test]
    fn entries_in_use_survive_and_one_offs_age_out() {
        set_enabled(Some(true));
        // Key 0 is used by every "document"; the others once each.
        for k in 1..100 {
            memoised::<_, _, ()>(&FOUR, 0, |_| Ok(0)).unwrap();
            memoised::<_, _, ()>(&FOUR, k, |&k| Ok(k)).unwrap();
            assert!(FOUR.with_borrow(|m| m.len()) <= 8);
        }
        assert_eq!(FOUR.with_borrow_mut(|m| m.lookup(&0)), Some(0));
        assert_eq!(FOUR.with_borrow_mut(|m| m.lookup(&1)), None);
        set_enabled(None);
    }

    #[test]
    fn memo_off_computes_every_time() {
        set_enabled(Some(false));
        let mut calls = 0;
        for _ in 0..3 {
            memoised::<_, _, ()>(&EIGHT, 1, |_| {
                calls += 1;
                Ok(1)
            })
            .unwrap();
        }
        assert_eq!(calls, 3);
        assert!(EIGHT.with_borrow(|m| m.is_empty()));
        set_enabled(None);
    }

    #[test]
    fn a_trail_gives_the_hash_of_the_bytes_whatever_it_held() {
        // A "hash" that keeps every byte it is fed shows exactly what was fed, in order.
        let hash = |trail: &mut Trail<Vec<u8>>, bytes: &[u8]| {
            trail.hash(bytes, Vec::new, |s, b| s.extend_from_slice(b))
        };
        let base: Vec<u8> = (0..5 * TRAIL_STEP + 300)
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        let mut parted = base.clone();
        parted[3 * TRAIL_STEP + 5] ^= 1;
        let mut early = base.clone();
        early[0] ^= 1;
        set_enabled(Some(true));
        let mut trail = Trail::new();
        for bytes in [
            &base[..],
            &base[..],
            &parted[..],
            &base[..2 * TRAIL_STEP],
            &base[..],
            &early[..],
            &base[..10],
            &[][..],
            &base[..3 * TRAIL_STEP],
            &parted[..],
        ] {
            assert_eq!(hash(&mut trail, bytes), bytes);
            assert_eq!(trail.head.len(), (trail.states.len() - 1) * TRAIL_STEP);
            assert!(bytes.starts_with(&trail.head));
        }
        // Resumed, not rehashed: after `parted`, the same bytes but the last cost only
        // the steps from where they part.
        let fed = Cell::new(0);
        let counted = |trail: &mut Trail<Vec<u8>>, bytes: &[u8]| {
            trail.hash(bytes, Vec::new, |s, b| {
                fed.set(fed.get() + b.len());
                s.extend_from_slice(b)
            })
        };
        assert_eq!(counted(&mut trail, &base), base);
        assert_eq!(fed.get(), base.len() - 3 * TRAIL_STEP);
        fed.set(0);
        assert_eq!(counted(&mut trail, &base), base);
        assert_eq!(fed.get(), 300);
        set_enabled(Some(false));
        let mut off = Trail::new();
        assert_eq!(hash(&mut off, &base), base);
        assert!(off.states.is_empty());
        set_enabled(None);
    }
}
