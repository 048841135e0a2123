//! `dpa keygen`: a new Ed25519 signing key as four files.

use std::process::ExitCode;

use anyhow::{Context, Result};

use dpa::untrusted::{Escaped, path as shown};

use crate::cli::KeygenArgs;
use crate::cmd::print::{self, say};

pub fn run(args: KeygenArgs) -> Result<ExitCode> {
    let identity = args.identity.as_deref().unwrap_or("dpa-signer");
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", shown(&args.out)))?;
    let info = dpa::sign::keys::generate(&args.out, identity)?;
    if print::quiet() {
        return Ok(ExitCode::SUCCESS);
    }
    say!("Created a new signing key (id {}):", info.key_id)?;
    let files = [
        (
            &info.secret_key,
            "private: back it up and keep it secret (mode 0600); never send it",
        ),
        (&info.public_pem, "public, for openssl and dpa verify"),
        (
            &info.minisign_pub,
            "public, for minisign, dpa verify and dpa verifier",
        ),
        (&info.allowed_signers, "public, for ssh-keygen -Y verify"),
    ];
    let shown_files: Vec<(String, &str)> = files
        .iter()
        .map(|(path, what)| (shown(path).to_string(), *what))
        .collect();
    let width = shown_files
        .iter()
        .map(|(p, _)| p.chars().count())
        .max()
        .unwrap_or(0);
    for (path, what) in &shown_files {
        say!("  {path:<width$}  {what}")?;
    }
    say!()?;
    say!("Publish on a page your customers already trust (your trust centre or DPA page):")?;
    say!("  - the three public files above;")?;
    say!("  - the key's fingerprint, which customers compare with what their tools print:")?;
    say!("      SHA-256 {}", info.fingerprint)?;
    say!(
        "    `dpa verify` prints it in full; minisign and the browser page show its key id {}.",
        info.key_id
    )?;
    say!(
        "ssh-keygen names the same key {}; publish that too if customers use ssh-keygen.",
        info.ssh_fingerprint
    )?;
    say!("minisign public key line: {}", info.minisign_public_key)?;
    if args.identity.is_none() {
        say!()?;
        say!(
            "note: allowed_signers names the identity `{}`; pass --identity with your privacy e-mail to use that instead.",
            Escaped(identity)
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
