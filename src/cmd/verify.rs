//! `dpa verify`: a plain answer on whether a DPA is the one the vendor signed.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use serde::Serialize;

use dpa::annex_check::AnnexCheck;
use dpa::sign::{Evidence, Verdict};
use dpa::untrusted::{Escaped, path as shown};

use crate::cli::VerifyArgs;
use crate::cmd::is_stdin;
use crate::cmd::print::{self, say};

/// Signature files larger than this are not signatures; reading stops there.
const MAX_SIGNATURE_FILE: u64 = 64 * 1024;

#[derive(Debug, Serialize)]
struct Output<'a> {
    #[serde(flatten)]
    verdict: &'a Verdict,
    #[serde(skip_serializing_if = "Option::is_none")]
    annex: Option<&'a AnnexCheck>,
    /// Signed with one of the public demo keys (`dpa::legal::DEMO_KEY_IDS`): a specimen.
    demo_key: bool,
    /// With --rebuild: whether the inputs make this PDF.
    #[serde(skip_serializing_if = "Option::is_none")]
    rebuild: Option<dpa::rebuild::Outcome>,
}

pub fn run(args: VerifyArgs) -> Result<ExitCode> {
    if is_stdin(&args.pdf) {
        anyhow::bail!(
            "the PDF must be a file, not standard input: its name and the signature files beside it are part of the check"
        );
    }
    match dpa::load::regular_file(&args.pdf) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            anyhow::bail!("cannot read {}: no such file", shown(&args.pdf))
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", shown(&args.pdf))),
    }
    let minisig = evidence_file(&args.pdf, args.minisig.as_deref(), "minisig")?;
    let sha256 = evidence_file(&args.pdf, args.sha256.as_deref(), "sha256")?;
    let sshsig = evidence_file(&args.pdf, args.sshsig.as_deref(), "sshsig")?;
    let evidence = Evidence {
        minisig: minisig.as_deref(),
        sha256: sha256.as_deref(),
        sshsig: sshsig.as_deref(),
    };
    let mut verdict = dpa::sign::verify_with_key_file(&args.pdf, &evidence, &args.pubkey)?;

    let annex = match &args.annex {
        Some(path) => Some(dpa::annex_check::check(&args.pdf, path, &mut verdict)?),
        None => None,
    };

    // The demo keys' secret halves are published: a signature by one shows nothing.
    let demo_key = verdict.valid
        && verdict
            .key_id
            .is_some_and(|k| dpa::legal::is_demo_key(&k.to_string()));
    let rebuild = if args.rebuild {
        let pdf = std::fs::read(&args.pdf)
            .with_context(|| format!("cannot read {}", shown(&args.pdf)))?;
        Some(crate::cmd::rebuild::run(&args, &verdict, &pdf)?)
    } else {
        None
    };
    let rebuilt = rebuild
        .as_ref()
        .is_none_or(|r| *r == dpa::rebuild::Outcome::Identical);
    let code = if verdict.valid && rebuilt {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    };
    let printed = if args.json {
        print::json(&Output {
            verdict: &verdict,
            annex: annex.as_ref(),
            demo_key,
            rebuild: rebuild.clone(),
        })
    } else if !print::quiet() {
        print_human(&verdict, annex.as_ref(), demo_key)
            .and_then(|()| print_rebuild(rebuild.as_ref()))
            .map_err(Into::into)
    } else {
        Ok(())
    };
    print::answer(printed, code)
}

/// Reads `explicit`, or PDF path + `.ext` if it exists; bounded in size.
fn evidence_file(pdf: &Path, explicit: Option<&Path>, ext: &str) -> Result<Option<Vec<u8>>> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => {
            let mut name = pdf.as_os_str().to_owned();
            name.push(format!(".{ext}"));
            let p = PathBuf::from(name);
            if !p.exists() {
                return Ok(None);
            }
            p
        }
    };
    let file = std::fs::File::open(&path)
        .with_context(|| format!("cannot read the signature file {}", shown(&path)))?;
    let mut bytes = Vec::new();
    file.take(MAX_SIGNATURE_FILE)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read the signature file {}", shown(&path)))?;
    Ok(Some(bytes))
}

fn print_human(
    verdict: &Verdict,
    annex: Option<&AnnexCheck>,
    demo_key: bool,
) -> std::io::Result<()> {
    let file = Escaped(&verdict.file);
    if verdict.valid {
        say!("VALID: {file} is the document the vendor signed.")?;
        if demo_key {
            say!(
                "  SPECIMEN: signed with a demo key, whose secret key is published; the signature shows nothing about who signed, and the document is not binding."
            )?;
        }
    } else {
        say!("NOT VALID: {file}")?;
        for reason in &verdict.reasons {
            say!("  reason: {}", Escaped(&reason.to_string()))?;
        }
    }
    if let Some(c) = &verdict.comment {
        say!("  customer:      {}", Escaped(&c.customer))?;
        say!("  annex version: {}", Escaped(&c.annex))?;
        say!("  annex sha256:  {}", Escaped(&c.annex_sha256))?;
        say!("  issued:        {}", c.issued)?;
        say!("  signed by key: {}", c.key)?;
    }
    if let Some(id) = &verdict.key_id {
        let fp = verdict.key_fingerprint.as_deref().unwrap_or("");
        say!("  your key:      {id} (SHA-256 {fp})")?;
    }
    if let Some(sha) = &verdict.sha256 {
        say!("  pdf sha256:    {sha}")?;
    }
    let checked: Vec<&str> = [
        (verdict.checked.minisig, "minisig"),
        (verdict.checked.sha256, "sha256"),
        (verdict.checked.sshsig, "sshsig"),
    ]
    .into_iter()
    .filter_map(|(done, name)| done.then_some(name))
    .collect();
    if !checked.is_empty() {
        say!("  checked:       {}", checked.join(", "))?;
    }
    for warning in &verdict.warnings {
        say!("  note: {}", Escaped(&warning.to_string()))?;
    }
    if let Some(a) = annex {
        let annex_file = Escaped(&a.file);
        match a.matches {
            Some(true) => say!(
                "  annex file {annex_file} (version {}) is the signed annex.",
                Escaped(&a.version)
            )?,
            Some(false) => match &a.differences {
                Some(diff) => {
                    say!("  how {annex_file} differs from the annex signed in this document:")?;
                    for line in diff.render_table().lines() {
                        say!("    {}", Escaped(line))?;
                    }
                }
                None => say!(
                    "  to list the providers that differ: dpa annex diff <published annex {}> {annex_file}",
                    Escaped(a.signed_version.as_deref().unwrap_or("?"))
                )?,
            },
            None => say!(
                "  annex file {annex_file} not compared: the signature did not verify, so which annex was signed is unknown."
            )?,
        }
    }
    Ok(())
}

fn print_rebuild(outcome: Option<&dpa::rebuild::Outcome>) -> std::io::Result<()> {
    match outcome {
        None => Ok(()),
        Some(dpa::rebuild::Outcome::Identical) => say!(
            "REBUILD: identical: these inputs and the recorded issue date make this PDF byte for byte."
        ),
        Some(dpa::rebuild::Outcome::Differs {
            input,
            detail,
            first_byte,
        }) => {
            say!("REBUILD: differs: {input}: {}", Escaped(detail))?;
            match first_byte {
                Some(at) => say!("  first differing byte: {at}"),
                None => Ok(()),
            }
        }
    }
}
