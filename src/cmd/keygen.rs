//! `dpa keygen`: a new Ed25519 signing key as four files.

use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::cli::KeygenArgs;

pub fn run(args: KeygenArgs) -> Result<ExitCode> {
    let identity = args.identity.as_deref().unwrap_or("dpa-signer");
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let info = dpa::sign::keys::generate(&args.out, identity)?;
    println!("Created a new signing key (id {}):", info.key_id);
    println!(
        "  {}  private: keep it secret (mode 0600)",
        info.secret_key.display()
    );
    println!(
        "  {}  public, for openssl and dpa verify",
        info.public_pem.display()
    );
    println!("  {}  public, for minisign", info.minisign_pub.display());
    println!(
        "  {}  public, for ssh-keygen -Y verify",
        info.allowed_signers.display()
    );
    println!();
    println!("Publish these so customers can check your DPAs:");
    println!("  key id:             {}", info.key_id);
    println!("  SHA-256 of the key: {}", info.fingerprint);
    println!("  minisign key:       {}", info.minisign_public_key);
    println!("  SSH fingerprint:    {}", info.ssh_fingerprint);
    if args.identity.is_none() {
        println!();
        println!(
            "note: allowed_signers names the identity `{identity}`; pass --identity with your privacy e-mail to use that instead."
        );
    }
    Ok(ExitCode::SUCCESS)
}
