//! Which build this is: the package version, the git revision it was built from, and
//! the engine's identity.
//!
//! In: what `build.rs` recorded at compile time. Out: constants for `dpa --version` and
//! [`ENGINE`], the engine's identity, for anything that must change when the program that
//! renders documents changes (the batch inputs digest uses it to re-issue documents a new
//! engine would render differently).

/// The package version, e.g. `0.1.0`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The git revision (12 hex digits) the binary was built from; empty when built from a
/// source tree without git history and no `DPA_REVISION` was given.
pub const GIT_REVISION: &str = env!("DPA_GIT_REVISION");

/// The engine's identity: `dpa/<version>+<digest of the sources that render and sign>`
/// (see build.rs); part of every document's inputs digest.
pub const ENGINE: &str = env!("DPA_ENGINE");

/// The git revision, if known.
pub fn revision() -> Option<&'static str> {
    (!GIT_REVISION.is_empty()).then_some(GIT_REVISION)
}

/// What `dpa --version` prints after the program name, e.g. `0.1.0 (git 1a2b3c4d5e6f)`.
pub const LONG: &str = env!("DPA_LONG_VERSION");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_names_version_and_source_digest() {
        let digest = ENGINE
            .strip_prefix(&format!("dpa/{VERSION}+"))
            .expect("dpa/<version>+<digest>");
        assert_eq!(digest.len(), 16);
        assert!(digest.bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(LONG.starts_with(VERSION));
        if let Some(rev) = revision() {
            assert!(LONG.contains(rev));
            assert!(rev.len() >= 7);
        }
    }
}
