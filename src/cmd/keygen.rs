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
    say!(
        "  {}  private: back it up and keep it secret (mode 0600); never send it",
        shown(&info.secret_key)
    )?;
    say!(
        "  {}  public, for openssl and dpa verify",
        shown(&info.public_pem)
    )?;
    say!(
        "  {}  public, for minisign, dpa verify and dpa verifier",
        shown(&info.minisign_pub)
    )?;
    say!(
        "  {}  public, for ssh-keygen -Y verify",
        shown(&info.allowed_signers)
    )?;
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
