//! `dpa register list|show|verify`: what was issued to whom, and whether the record holds.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use dpa::config::{Flags, Resolved};
use dpa::register::{Register, RegisterError, Row};
use dpa::untrusted::{Escaped, path as shown};

use crate::cli::{RegisterAt, RegisterCommand};
use crate::cmd::print::{self, say};

/// The output folder: --out, else dpa.toml's `out`, else ./out.
pub(crate) fn folder(at: &RegisterAt) -> Result<PathBuf> {
    let flags = Flags {
        config: at.config.config.clone(),
        out: at.out.clone(),
        ..Flags::default()
    };
    Ok(Resolved::from_env(&flags)?.out.value)
}

pub fn run(cmd: RegisterCommand) -> Result<ExitCode> {
    match cmd {
        RegisterCommand::List {
            customer,
            annex,
            at,
            json,
        } => {
            let register = Register::open_read(&folder(&at)?)?;
            let rows = register.list(customer.as_deref(), annex.as_deref())?;
            if json {
                print::json(&rows)?;
            } else if rows.is_empty() {
                if !print::quiet() {
                    say!("No documents match.")?;
                }
            } else {
                print_table(&rows)?;
            }
        }
        RegisterCommand::Show { id, at, json } => {
            let register = Register::open_read(&folder(&at)?)?;
            let Some(row) = register.show(id)? else {
                anyhow::bail!("no document with id {id} in the register");
            };
            if json {
                print::json(&row)?;
            } else {
                let r = &row.record;
                say!("id:            {}", row.id)?;
                say!("customer:      {}", Escaped(&r.customer_id))?;
                say!("kind:          {}", r.kind.as_str())?;
                say!("annex version: {}", Escaped(&r.annex_version))?;
                say!("annex sha256:  {}", Escaped(&r.annex_sha256))?;
                say!("template:      {}", Escaped(&r.template_sha256))?;
                say!("inputs:        {}", Escaped(&r.inputs_sha256))?;
                say!("pdf sha256:    {}", Escaped(&r.pdf_sha256))?;
                say!("key id:        {}", Escaped(&r.key_id))?;
                say!("issued:        {}", Escaped(&r.issued))?;
                say!("path:          {}", Escaped(&r.path))?;
                for f in &r.files {
                    say!(
                        "file:          {}  {}",
                        Escaped(&f.sha256),
                        Escaped(&f.name)
                    )?;
                }
                say!("chain hash:    {}", Escaped(&row.hash))?;
            }
        }
        RegisterCommand::Verify { at, json } => {
            let path = folder(&at)?;
            return match Register::open_read(&path) {
                Ok(register) => {
                    let head = register.head();
                    let printed = if json {
                        print::json(&serde_json::json!({
                            "valid": true,
                            "register": register.path(),
                            "rows": head.rows,
                            "last_id": head.last_id,
                            "head": head.hash,
                        }))
                    } else if print::quiet() {
                        Ok(())
                    } else {
                        (|| -> std::io::Result<()> {
                            say!(
                                "VALID: {} ({} rows, chain intact up to row {})",
                                shown(register.path()),
                                head.rows,
                                head.last_id
                            )?;
                            say!("  head hash: {}", head.hash)?;
                            say!(
                                "  keep this hash elsewhere: a register rewritten whole would end in another one"
                            )
                        })()
                        .map_err(Into::into)
                    };
                    print::answer(printed, ExitCode::SUCCESS)
                }
                Err(e @ RegisterError::Tampered { .. }) => {
                    let printed = if json {
                        print::json(&serde_json::json!({
                            "valid": false,
                            "register": path.join(dpa::register::FILE_NAME),
                            "reason": e.to_string(),
                        }))
                    } else if print::quiet() {
                        Ok(())
                    } else {
                        say!("NOT VALID: {}", Escaped(&e.to_string())).map_err(Into::into)
                    };
                    print::answer(printed, ExitCode::from(1))
                }
                Err(e) => Err(e.into()),
            };
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_table(rows: &[Row]) -> std::io::Result<()> {
    // Widths are measured on the escaped text, which is what the terminal shows.
    let cell = |text: &str| Escaped(text).to_string();
    let width = |f: &dyn Fn(&Row) -> usize, title: &str| {
        rows.iter().map(f).max().unwrap_or(0).max(title.len())
    };
    let w_id = width(&|r| r.id.to_string().len(), "ID");
    let w_customer = width(&|r| cell(&r.record.customer_id).chars().count(), "CUSTOMER");
    let w_annex = width(&|r| cell(&r.record.annex_version).chars().count(), "ANNEX");
    say!(
        "{:>w_id$}  {:<w_customer$}  {:<6}  {:<w_annex$}  {:<16}  {:<10}  {:<16}  PATH",
        "ID",
        "CUSTOMER",
        "KIND",
        "ANNEX",
        "ANNEX SHA-256",
        "ISSUED",
        "PDF SHA-256"
    )?;
    for row in rows {
        let r = &row.record;
        let annex_sha: String = r.annex_sha256.chars().take(16).collect();
        let sha: String = r.pdf_sha256.chars().take(16).collect();
        say!(
            "{:>w_id$}  {:<w_customer$}  {:<6}  {:<w_annex$}  {:<16}  {:<10}  {:<16}  {}",
            row.id,
            cell(&r.customer_id),
            r.kind.as_str(),
            cell(&r.annex_version),
            cell(&annex_sha),
            cell(&r.issued),
            cell(&sha),
            cell(&r.path)
        )?;
    }
    Ok(())
}
