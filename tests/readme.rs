//! Every command in README.md's `sh` code blocks works as written on a fresh checkout.
//!
//! The repository's tracked files (`git ls-files`, or the folder less build output when it is
//! not a git checkout) are copied into a temp folder; the built `dpa` is put on PATH (what
//! `cargo install --path .` does) and HOME is a temp folder too. Then each block runs, in
//! README order, as one `bash -euo pipefail` script in that folder, and must succeed. Only the
//! cargo commands that build or test this repository itself are left out, by exact line; the
//! test fails if one of them disappears from the README, so the list cannot go stale.
//! Needs bash, minisign, ssh-keygen, openssl, sha256sum, pdfsig, certutil and pyHanko, as the README's readers do.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// README lines not run here: they build or test this repository, which the test runner
/// has already done (the binary on PATH is the one `cargo install --path .` would install).
const NOT_RUN: [&str; 2] = ["cargo install --path .", "cargo test --release"];

/// The `sh` blocks of a Markdown text, with the line each starts on.
fn sh_blocks(markdown: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, line) in markdown.lines().enumerate() {
        let trimmed = line.trim_start();
        match &mut current {
            None if trimmed.starts_with("```sh") || trimmed.starts_with("```bash") => {
                current = Some((i + 1, String::new()));
            }
            None => {}
            Some(_) if trimmed.starts_with("```") => {
                blocks.extend(current.take());
            }
            Some((_, text)) => {
                text.push_str(line);
                text.push('\n');
            }
        }
    }
    assert!(current.is_none(), "README.md has an unclosed code block");
    blocks
}

/// The repository's files, as a fresh clone would have them.
fn tracked_files(root: &Path) -> Vec<PathBuf> {
    let git = Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(root)
        .output();
    if let Ok(out) = git
        && out.status.success()
        && !out.stdout.is_empty()
    {
        return out
            .stdout
            .split(|b| *b == 0)
            .filter(|p| !p.is_empty())
            .map(|p| PathBuf::from(String::from_utf8_lossy(p).into_owned()))
            .collect();
    }
    // A source tarball: everything except what builds, tests and the README itself write.
    let skip = [
        "target",
        ".git",
        "out",
        "keys",
        "node_modules",
        "corpus",
        "artifacts",
    ];
    let mut files = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        for entry in fs::read_dir(root.join(&rel)).expect("readable source folder") {
            let entry = entry.expect("readable entry");
            let name = entry.file_name();
            if skip.iter().any(|s| name == *s) {
                continue;
            }
            let child = rel.join(&name);
            if entry.file_type().expect("file type").is_dir() {
                stack.push(child);
            } else {
                files.push(child);
            }
        }
    }
    files
}

fn copy_checkout(root: &Path, to: &Path) {
    for rel in tracked_files(root) {
        let from = root.join(&rel);
        // A tracked file deleted in the working tree is not part of this checkout.
        if !from.is_file() {
            continue;
        }
        let dest = to.join(&rel);
        fs::create_dir_all(dest.parent().expect("a parent")).expect("mkdir");
        fs::copy(&from, &dest).unwrap_or_else(|e| panic!("copy {}: {e}", rel.display()));
    }
}

fn require(tool: &str) {
    let found = Command::new("bash")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "the README's commands need `{tool}`; hint: apt-get install minisign openssh-client openssl coreutils"
    );
}

#[test]
fn every_readme_command_works_on_a_fresh_checkout() {
    for tool in ["bash", "minisign", "ssh-keygen", "openssl", "sha256sum"] {
        require(tool);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = fs::read_to_string(root.join("README.md")).expect("README.md");
    let blocks = sh_blocks(&readme);
    assert!(
        blocks.len() >= 6,
        "README.md has too few sh blocks: {}",
        blocks.len()
    );

    let work = tempfile::tempdir().expect("temp dir");
    let checkout = work.path().join("dpa");
    let home = work.path().join("home");
    let bin = work.path().join("bin");
    fs::create_dir_all(&home).expect("home");
    fs::create_dir_all(&bin).expect("bin");
    copy_checkout(root, &checkout);
    assert!(
        !checkout.join("out").exists() && !checkout.join("keys").exists(),
        "a fresh checkout has no out/ or keys/"
    );
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_dpa"), bin.join("dpa")).expect("symlink");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );

    let mut skipped = Vec::new();
    let mut ran = 0;
    for (line, block) in &blocks {
        let mut script = String::from("set -euo pipefail\n");
        for text in block.lines() {
            if NOT_RUN.contains(&text.trim()) {
                skipped.push(text.trim().to_string());
                continue;
            }
            if !text.trim().is_empty() && !text.trim_start().starts_with('#') {
                ran += 1;
            }
            script.push_str(text);
            script.push('\n');
        }
        let out = Command::new("bash")
            .arg("-c")
            .arg(&script)
            .current_dir(&checkout)
            .env("PATH", &path)
            .env("HOME", &home)
            .env_remove("DPA_SIGNING_KEY")
            .env_remove("SOURCE_DATE_EPOCH")
            .output()
            .expect("bash runs");
        assert!(
            out.status.success(),
            "README.md block at line {line} failed ({}):\n{block}\n--- stdout\n{}\n--- stderr\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    skipped.sort();
    let mut expected: Vec<String> = NOT_RUN.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(
        skipped, expected,
        "each left-out line must appear in README.md exactly once"
    );
    assert!(ran >= 20, "only {ran} README commands ran");
}

#[test]
fn gitignore_covers_what_the_readme_writes() {
    let ignore = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(".gitignore"))
        .expect(".gitignore");
    for needed in ["/out", "/keys"] {
        assert!(
            ignore.lines().any(|l| l.trim_end_matches('/') == needed),
            ".gitignore lacks {needed}"
        );
    }
}
