//! `dpa generate`: one customer's signed DPA.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};

use dpa::compose::Kind;
use dpa::config::Resolved;
use dpa::issue::{Options, Step};

use crate::cli::GenerateArgs;
use crate::cmd::{build_issuer, flags, open_session};

pub fn run(args: GenerateArgs, config: Option<PathBuf>) -> Result<ExitCode> {
    let resolved = Resolved::from_env(&flags(config, &args.inputs, args.issue_date))?;
    let options = Options {
        raw_sig: args.raw_sig,
        force: args.force,
    };
    let issuer = build_issuer(&resolved, None, options)?;
    let customer = dpa::load::customer_for(&args.customer, issuer.composer().annex())?;
    // Made before the output folder is touched, so bad input leaves nothing behind.
    let made = issuer
        .make(Kind::Dpa, &customer, resolved.issue_date.value)
        .with_context(|| format!("customer `{}`", customer.id))?;
    let session = open_session(&resolved, args.no_wait)?;
    let composer = issuer.composer();
    session.check_annex(&composer.annex().version, &composer.fingerprint().hex())?;
    let digest = issuer.inputs_digest(Kind::Dpa, &customer);
    let known = session.register().find_inputs(&digest)?;
    let step = issuer
        .prepare(
            &session,
            Kind::Dpa,
            &customer,
            known,
            resolved.issue_date.value,
            resolved.issue_date.is_chosen(),
            Some(made),
        )
        .with_context(|| format!("customer `{}`", customer.id))?;
    let raw = options.raw_sig;
    let (record, note) = match &step {
        Step::Unchanged(row) => (
            row.record.clone(),
            Some("unchanged: identical document already there".to_string()),
        ),
        Step::Record(product) => {
            session
                .register()
                .commit(std::slice::from_ref(&product.record), &[])?;
            (
                product.record.clone(),
                Some("unchanged: identical document already there".to_string()),
            )
        }
        Step::Repair { product, damaged } => {
            let set = session.stage(&customer.id, &product.files(raw), Vec::new())?;
            session.commit(vec![set])?;
            (
                product.record.clone(),
                Some(format!("repaired: {} restored", damaged.join(", "))),
            )
        }
        Step::Issue { product, .. } => {
            let set = session.stage(
                &customer.id,
                &product.files(raw),
                vec![product.record.clone()],
            )?;
            session.commit(vec![set])?;
            (product.record.clone(), None)
        }
    };
    let pdf = resolved.out.value.join(&record.path);
    match note {
        None => println!("{}", pdf.display()),
        Some(note) => println!("{} ({note})", pdf.display()),
    }
    println!("  customer:      {} ({})", customer.legal_name, customer.id);
    println!(
        "  annex version: {} (effective {})",
        composer.annex().version,
        composer.annex().effective
    );
    println!("  annex sha256:  {}", composer.fingerprint().hex());
    println!("  pdf sha256:    {}", record.pdf_sha256);
    println!("  issued:        {}", record.issued);
    println!("  signed with:   key {}", issuer.keys().key_id());
    println!(
        "  signatures:    .sha256 .minisig .sshsig{}",
        if raw { " .sig" } else { "" }
    );
    Ok(ExitCode::SUCCESS)
}
