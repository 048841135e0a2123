//! `dpa verifier`: write the offline browser verification page with the key pinned.

use std::process::ExitCode;

use anyhow::{Context, Result};

use dpa::model::Config;

use crate::cli::VerifierArgs;

pub fn run(args: VerifierArgs, config: &Config) -> Result<ExitCode> {
    let key = dpa::sign::PublicKey::load(&args.pubkey)?;
    let vendor_name = match (&args.vendor_name, &config.vendor) {
        (Some(name), _) => name.clone(),
        (None, Some(path)) => dpa::load::vendor(path)?.legal_name,
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
