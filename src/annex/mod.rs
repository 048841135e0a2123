//! The annex (the subprocessor list): its fingerprint, diffs between versions, imports of
//! vendors' published pages, and the public page that publishes it.

pub mod diff;
pub mod fingerprint;
pub mod import;
pub mod publish;

pub use fingerprint::{Fingerprint, fingerprint};
