//! `dpa verifier`: write the offline browser verification page with the key pinned.

use std::process::ExitCode;

use anyhow::{Context, Result};

use std::path::PathBuf;

use dpa::config::{Flags, Resolved};

use crate::cli::VerifierArgs;

pub fn run(args: VerifierArgs, config: Option<PathBuf>) -> Result<ExitCode> {
    let key = dpa::sign::PublicKey::load(&args.pubkey)?;
    let vendor = match &args.vendor_name {
        Some(_) => None,
        None => {
            Resolved::from_env(&Flags {
                config,
                ..Flags::default()
            })?
            .vendor
        }
    };
    let vendor_name = match (&args.vendor_name, vendor) {
        (Some(name), _) => name.clone(),
        (None, Some(path)) => dpa::load::vendor(&path.value)?.legal_name,
        (None, None) => anyhow::bail!(
            "no vendor name: pass --vendor-name \"Acme, Inc.\" or run where dpa.toml names the vendor file"
        ),
    };
    let page = dpa::verifier::page(&vendor_name, &key.to_bytes(), &key.key_id().0);
    dpa::output::write_atomic(&args.out, page.as_bytes())
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    println!(
        "Wrote {} for {vendor_name}, key {} pinned.",
        args.out.display(),
        key.key_id()
    );
    println!("Publish it beside your public key; customers open it in a browser, offline.");
    Ok(ExitCode::SUCCESS)
}
