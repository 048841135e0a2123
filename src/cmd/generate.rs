//! `dpa generate`: one customer's signed DPA.

use std::process::ExitCode;

use anyhow::Result;
use serde::Serialize;

use dpa::generate::Written;
use dpa::model::Config;
use dpa::register::Register;
use dpa::untrusted::{Escaped, path as shown};

use crate::cli::GenerateArgs;
use crate::cmd::print::{self, say};
use crate::cmd::{Inputs, build_setup};

/// What `dpa generate --json` prints.
#[derive(Debug, Serialize)]
struct Generated {
    /// `issued`: written now; `unchanged`: an identical document was already there.
    status: &'static str,
    /// The PDF's path; the signature files are this plus `.sha256`, `.minisig`, `.sshsig`.
    pdf: String,
    /// Every file of the document, PDF first.
    files: Vec<String>,
    customer: Customer,
    annex: Annex,
    pdf_sha256: String,
    key_id: String,
    issued: String,
    /// Where the document is recorded.
    register: String,
}

#[derive(Debug, Serialize)]
struct Customer {
    id: String,
    legal_name: String,
}

#[derive(Debug, Serialize)]
struct Annex {
    version: String,
    effective: String,
    sha256: String,
}

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
    let mut extensions = vec!["sha256", "minisig", "sshsig"];
    if setup.raw_sig {
        extensions.push("sig");
    }

    if args.json {
        let pdf_text = pdf.display().to_string();
        let mut files = vec![pdf_text.clone()];
        files.extend(extensions.iter().map(|ext| format!("{pdf_text}.{ext}")));
        print::json(&Generated {
            status: match written {
                Written::Issued => "issued",
                Written::Unchanged => "unchanged",
            },
            pdf: pdf_text,
            files,
            customer: Customer {
                id: customer.id.clone(),
                legal_name: customer.legal_name.clone(),
            },
            annex: Annex {
                version: setup.annex.version.clone(),
                effective: setup.annex.effective.to_string(),
                sha256: setup.fingerprint.hex(),
            },
            pdf_sha256: product.record.pdf_sha256.clone(),
            key_id: setup.key.key_id().to_string(),
            issued: product.record.issued.clone(),
            register: setup
                .out
                .join(dpa::register::FILE_NAME)
                .display()
                .to_string(),
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    if print::quiet() {
        return Ok(ExitCode::SUCCESS);
    }
    match written {
        Written::Issued => say!("{}", shown(&pdf))?,
        Written::Unchanged => say!(
            "{} (unchanged: identical document already there)",
            shown(&pdf)
        )?,
    }
    say!(
        "  customer:      {} ({})",
        Escaped(&customer.legal_name),
        Escaped(&customer.id)
    )?;
    say!(
        "  annex version: {} (effective {})",
        Escaped(&setup.annex.version),
        setup.annex.effective
    )?;
    say!("  annex sha256:  {}", setup.fingerprint.hex())?;
    say!("  pdf sha256:    {}", product.record.pdf_sha256)?;
    say!("  signed with:   key {}", setup.key.key_id())?;
    say!(
        "  signatures:    {}",
        extensions
            .iter()
            .map(|ext| format!(".{ext}"))
            .collect::<Vec<_>>()
            .join(" ")
    )?;
    Ok(ExitCode::SUCCESS)
}
