//! The annex (the subprocessor list): its fingerprint, diffs between versions, imports of
//! vendors' published pages.

pub mod diff;
pub mod fingerprint;
pub mod import;

pub use fingerprint::{Fingerprint, fingerprint};
