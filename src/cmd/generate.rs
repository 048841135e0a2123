//! `dpa generate`: one customer's signed DPA.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use serde::Serialize;

use dpa::compose::Kind;
use dpa::config::Resolved;
use dpa::issue::{Options, Product, Step};
use dpa::untrusted::{Escaped, path as shown};

use crate::cli::GenerateArgs;
use crate::cmd::print::{self, say};
use crate::cmd::{Compile, build_issuer, flags, open_session};

/// What `dpa generate --json` prints.
#[derive(Debug, Serialize)]
struct Generated {
    /// `issued`: written now; `unchanged`: an identical document was already there;
    /// `repaired`: the document was there but some of its files were missing or damaged.
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

pub fn run(args: GenerateArgs, config: Option<PathBuf>) -> Result<ExitCode> {
    let resolved = Resolved::from_env(&flags(config, &args.inputs, args.issue_date))?;
    let options = Options {
        raw_sig: args.raw_sig,
        force: args.force,
    };
    // A new output folder is created only once the document is made, so bad input leaves
    // nothing behind. A folder with a register is opened first: when the register has a
    // row for these very inputs (the engine's identity among them), they were issued
    // before, and `prepare` makes the document only if a file of the set is missing or
    // damaged; rendering and signing it only to find it unchanged would be most of the
    // run. Opening an existing folder writes nothing for this customer.
    let has_register = resolved.out.value.join(dpa::register::FILE_NAME).is_file();
    // Into a new folder the document is made, so the template is compiled while loading,
    // as a batch does. Into a folder with a register it is compiled when the document is
    // made: a template that the register holds documents of compiled when they were made
    // (its hash and the engine are part of the inputs), so skipping it costs no error.
    let compile = if has_register {
        Compile::WhenUsed
    } else {
        Compile::Now
    };
    let issuer = build_issuer(&resolved, None, options, compile)?;
    let customer = dpa::load::customer_for(&args.customer, issuer.composer().annex())?;
    // The digest is worked out once: the register is searched by it, and a document made
    // here records it.
    let inputs = issuer.inputs(Kind::Dpa, &customer);
    let make = || -> Result<Product> {
        // An error in the template is the template's, not this customer's: said as it is
        // when the template is compiled while loading.
        issuer.composer().compile(Kind::Dpa)?;
        issuer
            .make_from(&inputs, resolved.issue_date.value)
            .with_context(|| format!("customer `{}`", customer.id))
    };
    let early = if has_register { None } else { Some(make()?) };
    let session = open_session(&resolved, args.no_wait)?;
    let composer = issuer.composer();
    session.check_annex(&composer.annex().version, &composer.fingerprint().hex())?;
    let known = session.register().find_inputs(inputs.digest())?;
    let made = match early {
        Some(made) => Some(made),
        None if known.is_some() => None,
        None => Some(make()?),
    };
    let step = issuer
        .prepare(
            &session,
            &inputs,
            known,
            resolved.issue_date.value,
            resolved.issue_date.is_chosen(),
            made,
        )
        .with_context(|| format!("customer `{}`", customer.id))?;
    let raw = options.raw_sig;
    let (record, status, note) = match &step {
        Step::Unchanged(row) => (
            row.record.clone(),
            "unchanged",
            Some("unchanged: identical document already there".to_string()),
        ),
        Step::Record(product) => {
            session
                .register()
                .commit(std::slice::from_ref(&product.record), &[])?;
            (
                product.record.clone(),
                "unchanged",
                Some("unchanged: identical document already there".to_string()),
            )
        }
        Step::Repair { product, damaged } => {
            let set = session.stage_hashed(
                &customer.id,
                &product.files(raw),
                Vec::new(),
                &product.record.files,
            )?;
            session.commit(vec![set])?;
            (
                product.record.clone(),
                "repaired",
                Some(format!("repaired: {} restored", damaged.join(", "))),
            )
        }
        Step::Issue { product, .. } => {
            let set = session.stage_hashed(
                &customer.id,
                &product.files(raw),
                vec![product.record.clone()],
                &product.record.files,
            )?;
            session.commit(vec![set])?;
            (product.record.clone(), "issued", None)
        }
    };
    let out = &resolved.out.value;
    let pdf = out.join(&record.path);
    let mut extensions = vec!["sha256", "minisig", "sshsig"];
    if raw {
        extensions.push("sig");
    }

    if args.json {
        let pdf_text = pdf.display().to_string();
        let mut files = vec![pdf_text.clone()];
        files.extend(extensions.iter().map(|ext| format!("{pdf_text}.{ext}")));
        print::json(&Generated {
            status,
            pdf: pdf_text,
            files,
            customer: Customer {
                id: customer.id.clone(),
                legal_name: customer.legal_name.clone(),
            },
            annex: Annex {
                version: composer.annex().version.clone(),
                effective: composer.annex().effective.to_string(),
                sha256: composer.fingerprint().hex(),
            },
            pdf_sha256: record.pdf_sha256.clone(),
            key_id: issuer.keys().key_id().to_string(),
            issued: record.issued.clone(),
            register: out.join(dpa::register::FILE_NAME).display().to_string(),
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    if print::quiet() {
        return Ok(ExitCode::SUCCESS);
    }
    match note {
        None => say!("{}", shown(&pdf))?,
        Some(note) => say!("{} ({})", shown(&pdf), Escaped(&note))?,
    }
    say!(
        "  customer:      {} ({})",
        Escaped(&customer.legal_name),
        Escaped(&customer.id)
    )?;
    say!(
        "  annex version: {} (effective {})",
        Escaped(&composer.annex().version),
        composer.annex().effective
    )?;
    say!("  annex sha256:  {}", composer.fingerprint().hex())?;
    say!("  pdf sha256:    {}", record.pdf_sha256)?;
    say!("  issued:        {}", record.issued)?;
    say!("  signed with:   key {}", issuer.keys().key_id())?;
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
