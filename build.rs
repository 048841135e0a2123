//! Build script: records which revision of the source this binary was built from, and a
//! digest of the sources that decide a document's bytes.
//!
//! Out: the environment variables `DPA_GIT_REVISION` (12 hex digits, or empty),
//! `DPA_ENGINE` (`dpa/<version>+<16 hex digits of the SHA-256 of src/, fonts/ and
//! Cargo.lock>`: it changes when the program that renders and signs changes, and not on a
//! commit that only touches docs or tests) for `src/version.rs`, and `DPA_LONG_VERSION`
//! for `dpa --version`.
//! The revision comes from `DPA_REVISION` if a packager sets it, else from `git` when the
//! package folder is the top of a git checkout; a tarball without `.git` (or a copy inside
//! someone else's repository) builds with no revision rather than a wrong one. Uncommitted
//! changes are not marked: watching every source file for them would rebuild on each edit.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=DPA_REVISION");
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let revision = std::env::var("DPA_REVISION")
        .ok()
        .map(|r| r.trim().to_string())
        .filter(|r| {
            !r.is_empty()
                && r.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        })
        .or_else(|| git_revision(&manifest));
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let engine = format!("dpa/{version}+{}", source_digest(&manifest));
    let long_version = match &revision {
        Some(rev) => format!("{version} (git {rev})"),
        None => format!("{version} (no git revision recorded)"),
    };
    println!(
        "cargo:rustc-env=DPA_GIT_REVISION={}",
        revision.unwrap_or_default()
    );
    println!("cargo:rustc-env=DPA_LONG_VERSION={long_version}");
    println!("cargo:rustc-env=DPA_ENGINE={engine}");
}

/// The first 16 hex digits of a SHA-256 over the path and bytes of every file under
/// `src/` and `fonts/`, and of `Cargo.lock`, in path order.
fn source_digest(manifest: &Path) -> String {
    use sha2::{Digest, Sha256};
    let mut files = Vec::new();
    for dir in ["src", "fonts"] {
        println!("cargo:rerun-if-changed={dir}");
        collect(&manifest.join(dir), &mut files);
    }
    println!("cargo:rerun-if-changed=Cargo.lock");
    files.push(manifest.join("Cargo.lock"));
    files.sort();
    let mut hash = Sha256::new();
    for path in files {
        let name = path.strip_prefix(manifest).unwrap_or(&path);
        let bytes = std::fs::read(&path).unwrap_or_default();
        hash.update(name.to_string_lossy().as_bytes());
        hash.update([0]);
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(&bytes);
    }
    hash.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Every file under `dir`, recursively.
fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Runs `git ARGS` in `dir`; its trimmed output, or `None` if git is missing or fails.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
}

/// The checked-out commit, when `dir` is the top of a git checkout (or worktree).
fn git_revision(dir: &Path) -> Option<String> {
    let top = git(dir, &["rev-parse", "--show-toplevel"])?;
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if !same(Path::new(&top), dir) {
        return None;
    }
    // Rebuild when HEAD moves: a new commit, a checkout, a fetch that repacks refs.
    let mut watched = vec!["HEAD".to_string(), "packed-refs".to_string()];
    if let Some(head_ref) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        watched.push(head_ref);
    }
    for name in watched {
        if let Some(path) = git(dir, &["rev-parse", "--git-path", &name]) {
            let path = dir.join(path);
            if path.exists() {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
    }
    let rev = git(dir, &["rev-parse", "--short=12", "HEAD"])?;
    rev.chars().all(|c| c.is_ascii_hexdigit()).then_some(rev)
}
