//! `dpa keygen`: the vendor's signing keys: the Ed25519 key of the detached signatures (four
//! files) and the P-256 key and certificate chain of the PDF signature (three files).

use std::process::ExitCode;

use anyhow::{Context, Result};
use zeroize::Zeroizing;

use dpa::sign::x509::{self, CertChain, ChainSubject, PdfIdentity, PdfSigningKey};
use dpa::untrusted::{Escaped, path as shown};

use crate::cli::KeygenArgs;
use crate::cmd::load_config;
use crate::cmd::print::{self, say};

pub fn run(args: KeygenArgs) -> Result<ExitCode> {
    // The keys are made today: the certificate is valid from today, which is recorded in
    // it (the PDFs signed later carry it), so this clock read reaches no document unseen.
    let today = dpa::config::today_utc();
    let imported = match (&args.pkcs12, &args.cert, &args.pdf_key) {
        (Some(p12), _, _) => {
            let password = pkcs12_password(args.pkcs12_password_file.as_deref())?;
            Some(dpa::sign::pkcs12::load(p12, &password)?)
        }
        (None, Some(chain_path), Some(key_path)) => {
            Some((PdfSigningKey::load(key_path)?, CertChain::load(chain_path)?))
        }
        _ => None,
    };
    let (identity, pdf) = match imported {
        Some((key, chain)) => {
            // Checked now, before anything is written: mismatch, order, expiry, usage.
            chain.check(key.verifying_key(), x509::start_of_day(today))?;
            let identity = args
                .identity
                .clone()
                .unwrap_or_else(|| "dpa-signer".to_string());
            (identity, PdfIdentity::Import(key, chain))
        }
        None => {
            let config = load_config(args.config.config.as_deref())?;
            let vendor_path = args.vendor.clone().or(config.vendor).context(
                "the certificate names the vendor, but no vendor file is given: pass --vendor vendor.toml or set `vendor` in dpa.toml",
            )?;
            let vendor = dpa::load::vendor(&vendor_path)?;
            let identity = args.identity.clone().unwrap_or(vendor.email.clone());
            let subject = ChainSubject::vendor(&vendor.legal_name, Some(&identity));
            (identity, PdfIdentity::Default(subject, today))
        }
    };
    let imported = matches!(pdf, PdfIdentity::Import(..));
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", shown(&args.out)))?;
    let (info, pdf) = x509::generate_all(&args.out, &identity, pdf)?;
    for warning in info.warnings.iter().chain(&pdf.warnings) {
        print::warn(format_args!("{warning}"));
    }
    if print::quiet() {
        return Ok(ExitCode::SUCCESS);
    }
    say!(
        "Created new signing keys (detached signatures: key id {}):",
        info.key_id
    )?;
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
        (
            &pdf.secret_key,
            "private: signs inside the PDF (mode 0600); keep it like the one above",
        ),
        (
            &pdf.chain,
            "public, the PDF signature's certificate chain (dpa.toml `cert`)",
        ),
        (
            &pdf.root,
            "public, the root customers trust in their PDF reader and dpa verify --cert",
        ),
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
    say!(
        "  - the public files above ({}, {}, {}, {});",
        file_name(&info.public_pem),
        file_name(&info.minisign_pub),
        file_name(&info.allowed_signers),
        file_name(&pdf.root)
    )?;
    say!("  - the detached-signature key's fingerprint, which dpa verify and minisign show:")?;
    say!("      public key SHA-256   {}", info.fingerprint)?;
    say!(
        "    `dpa verify` prints it in full; minisign and the browser page show its key id {}.",
        info.key_id
    )?;
    say!("  - the PDF signature's root certificate fingerprint, which PDF readers show:")?;
    say!("      root certificate SHA-256   {}", pdf.root_fingerprint)?;
    say!(
        "ssh-keygen names the detached-signature key {}; publish that too if customers use ssh-keygen.",
        info.ssh_fingerprint
    )?;
    say!("minisign public key line: {}", info.minisign_public_key)?;
    say!(
        "PDF signer: {} (certificate valid until {})",
        Escaped(&pdf.subject),
        pdf.not_after.date_naive()
    )?;
    say!()?;
    say!(
        "Point dpa.toml at them: key = \"{}\", pdf_key = \"{}\", cert = \"{}\".",
        Escaped(&info.secret_key.display().to_string()),
        Escaped(&pdf.secret_key.display().to_string()),
        Escaped(&pdf.chain.display().to_string())
    )?;
    if imported {
        say!(
            "note: {} is the top certificate of the chain you gave; if it is an intermediate, customers trust your CA's root instead.",
            file_name(&pdf.root)
        )?;
    } else {
        say!(
            "note: the root is your own, so PDF readers show the signature's validity as unknown until a customer trusts pdf-root.pem; a certificate from a CA on Adobe's trust list avoids that step (dpa keygen --cert)."
        )?;
    }
    if args.identity.is_none() && imported {
        say!(
            "note: allowed_signers names the identity `{}`; pass --identity with your privacy e-mail to use that instead.",
            Escaped(&identity)
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn file_name(path: &std::path::Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The environment variable that may hold the password of a `--pkcs12` file.
const PKCS12_PASSWORD_VAR: &str = "DPA_PKCS12_PASSWORD";

/// The password of a `--pkcs12` file: the first line of `file`, else the environment
/// variable, else none (an empty password, which some exports use). Never printed.
fn pkcs12_password(file: Option<&std::path::Path>) -> Result<Zeroizing<String>> {
    if let Some(path) = file {
        let text = Zeroizing::new(
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the password file {}", shown(path)))?,
        );
        let line = text.lines().next().unwrap_or("");
        return Ok(Zeroizing::new(line.to_string()));
    }
    match std::env::var(PKCS12_PASSWORD_VAR) {
        Ok(password) => Ok(Zeroizing::new(password)),
        Err(std::env::VarError::NotPresent) => Ok(Zeroizing::new(String::new())),
        Err(std::env::VarError::NotUnicode(_)) => {
            anyhow::bail!("{PKCS12_PASSWORD_VAR} is not valid UTF-8")
        }
    }
}
