//! `dpa accept FILE`: match a returned DPA to what was issued, verify it, keep it as
//! evidence and record the acceptance (or refuse it, with the reason: exit code 1).

use std::process::ExitCode;

use anyhow::{Context, Result};
use serde_json::json;

use dpa::accept::{self, AcceptError, Accepted, Manual, Recorded, Refusal};
use dpa::issue::Session;
use dpa::output::Wait;
use dpa::register::Event;
use dpa::sign::pkix::TrustAnchors;
use dpa::sign::x509::CertChain;
use dpa::untrusted::{Escaped, path as shown};

use crate::cli::AcceptArgs;
use crate::cmd::print::{self, say};

pub fn run(args: AcceptArgs) -> Result<ExitCode> {
    let out = crate::cmd::register::folder(&args.at)?;
    let bytes = accept::read(&args.file)?;
    let trust = match &args.trust {
        Some(path) => {
            let chain = CertChain::load(path)
                .with_context(|| format!("cannot read the trusted root {}", shown(path)))?;
            Some((
                TrustAnchors::new(chain.certificates().to_vec()),
                shown(path).to_string(),
            ))
        }
        None => None,
    };
    let session = open(&out, args.no_wait)?;
    let recorded = if args.manual {
        let (Some(customer), Some(annex), Some(accepted_on), Some(by)) = (
            args.customer.clone(),
            args.annex.clone(),
            args.accepted_on,
            args.by.clone(),
        ) else {
            anyhow::bail!("--manual needs --customer, --annex, --accepted-on and --by");
        };
        let found = accept::find_issued(&bytes, &session.register())?;
        if let Ok(c) = found {
            return Err(AcceptError::NotManual {
                path: shown(&args.file).to_string(),
                customer: Escaped(&c.row.record.customer_id).to_string(),
                id: c.row.id,
            }
            .into());
        }
        let issued = accept::issued_to(&session.register(), &customer, &annex)?;
        accept::check_day(&session.register(), &customer, &annex, accepted_on)?;
        let manual = Manual {
            customer,
            annex,
            accepted_on,
            by,
            note: args.note.clone(),
        };
        accept::record(
            &session,
            &bytes,
            Accepted::Manual {
                manual: &manual,
                issued: &issued,
            },
        )?
    } else {
        let trust = trust.as_ref().map(|(a, name)| (a, name.as_str()));
        let examined =
            accept::examine(&bytes, &session.register(), args.customer.as_deref(), trust)?;
        match examined {
            Ok(e) => accept::record(&session, &bytes, Accepted::Countersigned(&e))?,
            Err(refusal) => return refuse(&args, &refusal),
        }
    };
    report(&args, &recorded, session.register().path())
}

/// Opens the output folder for writing, like `generate` (waiting for another writer).
fn open(out: &std::path::Path, no_wait: bool) -> Result<Session> {
    let wait = if no_wait { Wait::No } else { Wait::Block };
    Ok(Session::open(out, wait, || {
        if !no_wait {
            print::note(format_args!(
                "waiting for another dpa that is writing to {}...",
                shown(out)
            ));
        }
    })?)
}

fn refuse(args: &AcceptArgs, refusal: &Refusal) -> Result<ExitCode> {
    let hint = refusal.hint();
    let printed = if args.json {
        print::json(&json!({
            "accepted": false,
            "file": shown(&args.file).to_string(),
            "reason": refusal.to_string(),
            "hint": hint,
        }))
    } else if print::quiet() {
        Ok(())
    } else {
        (|| -> std::io::Result<()> {
            say!(
                "NOT ACCEPTED: {}: {}",
                shown(&args.file),
                Escaped(&refusal.to_string())
            )?;
            if let Some(hint) = &hint {
                say!("  hint: {}", Escaped(hint))?;
            }
            say!("  nothing was recorded")
        })()
        .map_err(Into::into)
    };
    print::answer(printed, ExitCode::from(1))
}

fn report(args: &AcceptArgs, r: &Recorded, register: &std::path::Path) -> Result<ExitCode> {
    let Event::Accepted(a) = &r.row.event else {
        anyhow::bail!("register row {} is not an acceptance", r.row.id);
    };
    if args.json {
        print::json(&json!({
            "accepted": true,
            "already_recorded": r.already,
            "id": r.row.id,
            "acceptance": a,
            "superseded_by": r.superseded_by.as_ref().map(|s| json!({
                "id": s.id,
                "annex_version": s.record.annex_version,
                "kind": s.record.kind.as_str(),
                "issued": s.record.issued,
            })),
            "certificate_checked": a.signers.iter().any(|s| s.trusted_root.is_some()),
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    if print::quiet() {
        return Ok(ExitCode::SUCCESS);
    }
    if r.already {
        say!(
            "ALREADY RECORDED: this file is acceptance {} in {}; nothing was added",
            r.row.id,
            shown(register)
        )?;
    } else {
        say!(
            "ACCEPTED: recorded as row {} in {}",
            r.row.id,
            shown(register)
        )?;
    }
    say!("  customer:      {}", Escaped(&a.customer_id))?;
    say!(
        "  annex version: {} (issued document {})",
        Escaped(&a.annex_version),
        a.issued_id
    )?;
    say!("  accepted on:   {}", Escaped(&a.accepted_on))?;
    if a.linked {
        say!("  how:           countersigned; the file continues the issued bytes")?;
    } else {
        say!("  how:           manual, recorded by a person; NOT cryptographically linked")?;
        if let Some(by) = &a.by {
            say!("  signed by:     {}", Escaped(by))?;
        }
        if let Some(note) = &a.note {
            say!("  note:          {}", Escaped(note))?;
        }
    }
    for s in &a.signers {
        say!(
            "  signature:     field {} by {}",
            Escaped(s.field.as_deref().unwrap_or("(unnamed)")),
            Escaped(&s.subject)
        )?;
        say!("    certificate sha256: {}", Escaped(&s.cert_sha256))?;
        say!(
            "    signing time:       {}",
            Escaped(s.signing_time.as_deref().unwrap_or("(none)"))
        )?;
        match &s.trusted_root {
            Some(root) => say!("    certificate:        leads to {}", Escaped(root))?,
            None => say!(
                "    certificate:        the customer's own, recorded as evidence, not checked against a trusted root (--trust ROOT.pem checks it)"
            )?,
        }
    }
    say!(
        "  evidence:      {} (sha256 {})",
        Escaped(&a.evidence),
        Escaped(&a.evidence_sha256)
    )?;
    if let Some(s) = &r.superseded_by {
        say!(
            "  note: annex {} was issued to this customer later ({} {}); this acceptance is of the earlier list",
            Escaped(&s.record.annex_version),
            s.record.kind.as_str(),
            Escaped(&s.record.issued)
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
