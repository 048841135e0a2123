//! `dpa generate`: one customer's signed DPA.

use std::process::ExitCode;

use anyhow::Result;

use dpa::generate::Written;
use dpa::model::Config;
use dpa::register::Register;

use crate::cli::GenerateArgs;
use crate::cmd::{Inputs, build_setup};

pub fn run(args: GenerateArgs, config: &Config) -> Result<ExitCode> {
    let inputs = Inputs::resolve(&args.inputs, config)?;
    let setup = build_setup(
        &inputs,
        args.inputs.key.is_some(),
        args.raw_sig,
        args.force,
        None,
    )?;
    let customer = dpa::load::customer_for(&args.customer, &setup.annex)?;
    let issued = args
        .issued
        .unwrap_or_else(|| setup.dpa_issue_date(&customer));
    let product = setup.dpa(&customer, issued)?;
    let written = setup.write(&product)?;
    let mut register = Register::open(&setup.out)?;
    let already = register
        .find_inputs(&product.record.inputs_sha256)?
        .is_some();
    if !(written == Written::Unchanged && already) {
        register.add(std::slice::from_ref(&product.record))?;
    }
    let pdf = setup.out.join(&product.record.path);
    match written {
        Written::Issued => println!("{}", pdf.display()),
        Written::Unchanged => println!(
            "{} (unchanged: identical document already there)",
            pdf.display()
        ),
    }
    println!("  customer:      {} ({})", customer.legal_name, customer.id);
    println!(
        "  annex version: {} (effective {})",
        setup.annex.version, setup.annex.effective
    );
    println!("  annex sha256:  {}", setup.fingerprint.hex());
    println!("  pdf sha256:    {}", product.record.pdf_sha256);
    println!("  signed with:   key {}", setup.key.key_id());
    println!(
        "  signatures:    .sha256 .minisig .sshsig{}",
        if setup.raw_sig { " .sig" } else { "" }
    );
    Ok(ExitCode::SUCCESS)
}
