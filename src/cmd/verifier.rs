//! `dpa verifier`: write the offline browser verification page with the key pinned.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};

use dpa::model::Config;
use dpa::untrusted::{Escaped, path as shown};

use crate::cli::VerifierArgs;
use crate::cmd::check_output_file;
use crate::cmd::print::{self, say};

pub fn run(args: VerifierArgs, config: &Config) -> Result<ExitCode> {
    // Never over a file this command reads, even with --force: the key, the vendor file, dpa.toml.
    let mut inputs: Vec<&Path> = vec![&args.pubkey];
    if args.vendor_name.is_none() {
        inputs.extend(config.vendor.as_deref());
    }
    let default_config = Path::new("dpa.toml");
    inputs.push(args.config.config.as_deref().unwrap_or(default_config));
    check_output_file(&args.out, &inputs, args.force)?;

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
        .with_context(|| format!("cannot write {}", shown(&args.out)))?;
    if !print::quiet() {
        say!(
            "Wrote {} for {}, key {} pinned.",
            shown(&args.out),
            Escaped(&vendor_name),
            key.key_id()
        )?;
        say!("Publish it beside your public key; customers open it in a browser, offline.")?;
    }
    Ok(ExitCode::SUCCESS)
}
