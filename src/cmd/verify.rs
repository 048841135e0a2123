//! `dpa verify`: a plain answer on whether a DPA is the one the vendor signed, with its
//! detached signatures and the signatures inside the PDF (the vendor's certification and
//! any countersignature after it).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use serde::Serialize;

use dpa::annex_check::AnnexCheck;
use dpa::sign::document::{self, VendorRevision};
use dpa::sign::pdfsig::SignatureVerdict;
use dpa::sign::pkix::TrustAnchors;
use dpa::sign::x509::CertChain;
use dpa::sign::{Evidence, Reason, Verdict};
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
    /// The signatures inside the PDF: the vendor's revision and what followed it.
    embedded: &'a VendorRevision,
    #[serde(skip_serializing_if = "Option::is_none")]
    annex: Option<&'a AnnexCheck>,
    /// Signed with one of the public demo keys (`dpa::legal::DEMO_KEY_IDS`): a specimen.
    demo_key: bool,
    /// With --rebuild: whether the inputs make this PDF.
    #[serde(skip_serializing_if = "Option::is_none")]
    rebuild: Option<dpa::rebuild::Outcome>,
}

/// The signatures inside a PDF are read from memory, for files up to this size (a DPA is
/// about 60 KB, countersigned a few hundred); a larger file is checked by its detached
/// signatures alone, streamed, so memory stays bounded whatever the file.
const MAX_PDF_IN_MEMORY: u64 = 32 * 1024 * 1024;

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
    let anchors = match &args.cert {
        Some(path) => TrustAnchors::new(CertChain::load(path)?.certificates().to_vec()),
        None => TrustAnchors::default(),
    };
    let (mut verdict, embedded) = match read_pdf(&args.pdf)? {
        Some(bytes) => {
            let (verdict, signed_end) = dpa::sign::verify::verify_vendor_revision(
                &args.pdf,
                &evidence,
                &args.pubkey,
                &bytes,
            )?;
            // The vendor's document ends where its detached signatures say; when they do
            // not verify, where the PDF's certification says, so its state is still shown.
            let end = if verdict.valid {
                signed_end
            } else {
                document::certified_end(&bytes).unwrap_or(bytes.len())
            };
            (verdict, document::examine(&bytes, end, &anchors))
        }
        None => {
            let verdict = dpa::sign::verify_with_key_file(&args.pdf, &evidence, &args.pubkey)?;
            let len = std::fs::metadata(&args.pdf).map_or(0, |m| m.len());
            let why = format!(
                "it is larger than {} MiB, which no DPA is",
                MAX_PDF_IN_MEMORY >> 20
            );
            (
                verdict,
                VendorRevision::not_examined(usize::try_from(len).unwrap_or(usize::MAX), why),
            )
        }
    };
    for detail in &embedded.reasons {
        verdict.reasons.push(Reason::EmbeddedSignature {
            detail: detail.clone(),
        });
    }
    verdict.valid = verdict.valid && embedded.valid();

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
        // A countersigned file is compared by its vendor's revision, what dpa issued.
        let issued = &pdf[..embedded.end.min(pdf.len())];
        Some(crate::cmd::rebuild::run(&args, &verdict, issued)?)
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
            embedded: &embedded,
            annex: annex.as_ref(),
            demo_key,
            rebuild: rebuild.clone(),
        })
    } else if !print::quiet() {
        print_human(&verdict, &embedded, annex.as_ref(), demo_key)
            .and_then(|()| print_embedded(&embedded, args.cert.is_some()))
            .and_then(|()| print_rebuild(rebuild.as_ref()))
            .map_err(Into::into)
    } else {
        Ok(())
    };
    print::answer(printed, code)
}

/// Reads the PDF into memory, or `None` when it is larger than [`MAX_PDF_IN_MEMORY`].
fn read_pdf(path: &Path) -> Result<Option<Vec<u8>>> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot read {}", shown(path)))?;
    // Decided before reading, so a huge file never reaches memory.
    let len = file
        .metadata()
        .with_context(|| format!("cannot read {}", shown(path)))?
        .len();
    if len > MAX_PDF_IN_MEMORY {
        return Ok(None);
    }
    let mut bytes = Vec::new();
    file.take(MAX_PDF_IN_MEMORY + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", shown(path)))?;
    Ok((bytes.len() as u64 <= MAX_PDF_IN_MEMORY).then_some(bytes))
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
    embedded: &VendorRevision,
    annex: Option<&AnnexCheck>,
    demo_key: bool,
) -> std::io::Result<()> {
    let file = Escaped(&verdict.file);
    let countersigned = embedded.countersigned_by();
    if verdict.valid && embedded.whole_file {
        say!("VALID: {file} is the document the vendor signed.")?;
    } else if verdict.valid {
        let by = if countersigned.is_empty() {
            "nobody".to_string()
        } else {
            countersigned.join("; ")
        };
        say!(
            "VALID: {file} is the document the vendor signed (revision {}), countersigned by {}; nothing else changed.",
            embedded.revision,
            Escaped(&by)
        )?;
    } else {
        say!("NOT VALID: {file}")?;
        for reason in &verdict.reasons {
            say!("  reason: {}", Escaped(&reason.to_string()))?;
        }
    }
    if verdict.valid && demo_key {
        say!(
            "  SPECIMEN: signed with a demo key, whose secret key is published; the signature shows nothing about who signed, and the document is not binding."
        )?;
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
        if embedded.whole_file {
            say!("  pdf sha256:    {sha}")?;
        } else {
            say!("  pdf sha256:    {sha} (of the vendor's revision, as signed)")?;
        }
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

/// The signatures inside the PDF, for people.
fn print_embedded(e: &VendorRevision, root_given: bool) -> std::io::Result<()> {
    if e.revisions > 1 {
        say!(
            "  vendor's revision: {} of {} (the file's first {} bytes)",
            e.revision,
            e.revisions,
            e.end
        )?;
    }
    match &e.certification {
        None if e.not_examined.is_some() => say!(
            "  PDF signature: not examined, {}",
            Escaped(e.not_examined.as_deref().unwrap_or(""))
        )?,
        None if e.reasons.is_empty() => {
            say!("  PDF signature: none (the document was issued without one)")?
        }
        None => {
            say!("  PDF signature: none that holds over the vendor's document (see the reasons)")?
        }
        Some(sig) => {
            let state = if sig.valid() { "intact" } else { "NOT intact" };
            let kind = match sig.signature.certification {
                Some(1) => "certification, no changes allowed",
                Some(2) => "certification, only filling in and signing fields allowed",
                Some(_) => "certification, form filling and comments allowed",
                None => "approval",
            };
            say!(
                "  PDF signature: {state}, {kind} (field {})",
                Escaped(sig.signature.field.as_deref().unwrap_or("-"))
            )?;
            signer_lines(sig)?;
            let trust = match &sig.trust {
                Some(t) if t.is_trusted() => "leads to the root you gave (--cert)".to_string(),
                Some(dpa::sign::cms::Trust::Untrusted { problem }) if root_given => {
                    format!("does NOT lead to the root you gave: {problem}")
                }
                _ => {
                    "not checked: pass --cert with the vendor's published pdf-root.pem".to_string()
                }
            };
            say!("    certificate:   {}", Escaped(&trust))?;
            let coverage = if e.whole_file {
                "the whole file"
            } else {
                "the vendor's revision; later revisions follow"
            };
            say!("    covers:        {coverage}")?;
        }
    }
    if !e.whole_file {
        if e.only_permitted_changes {
            say!(
                "  changes after the vendor's revision: only signature fields signed (no other change)"
            )?;
        } else {
            say!("  changes after the vendor's revision: NOT only signatures:")?;
        }
        for change in &e.changes {
            say!("    - {}", Escaped(&change.to_string()))?;
        }
    }
    for sig in &e.later_signatures {
        let state = if sig.intact && sig.signature.problems.is_empty() {
            "intact"
        } else {
            "NOT intact"
        };
        say!(
            "  countersigned:  {state}, field {} (revision {})",
            Escaped(sig.signature.field.as_deref().unwrap_or("-")),
            sig.signature
                .revision
                .map_or_else(|| "?".to_string(), |r| r.to_string())
        )?;
        signer_lines(sig)?;
        say!(
            "    certificate:   the signer's own; recorded as evidence, not checked against a root"
        )?;
    }
    Ok(())
}

fn signer_lines(sig: &SignatureVerdict) -> std::io::Result<()> {
    match &sig.signer {
        Some(c) => {
            say!("    signed by:     {}", Escaped(&c.subject))?;
            say!("    cert sha256:   {}", c.sha256)?;
        }
        None => say!("    signed by:     (no certificate found)")?,
    }
    if let Some(t) = sig.checked_at {
        say!(
            "    signed at:     {} (as the signer states it)",
            t.format("%Y-%m-%d %H:%M:%S UTC")
        )?;
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
