//! The annex (the subprocessor list): its fingerprint, diffs between versions, imports of
//! vendors' published pages.

pub mod fingerprint;

pub use fingerprint::{Fingerprint, fingerprint};
