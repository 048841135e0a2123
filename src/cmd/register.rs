//! `dpa register list|show`: what was issued to whom.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use dpa::config::{Flags, Resolved};
use dpa::register::{Register, RegisterError, Row};

use crate::cli::RegisterCommand;
use crate::cmd::print_json;

pub fn run(cmd: RegisterCommand, config: Option<PathBuf>) -> Result<ExitCode> {
    let out = |dir: Option<PathBuf>| -> Result<PathBuf> {
        let flags = Flags {
            config: config.clone(),
            out: dir,
            ..Flags::default()
        };
        Ok(Resolved::from_env(&flags)?.out.value)
    };
    match cmd {
        RegisterCommand::List {
            customer,
            annex,
            out: dir,
            json,
        } => {
            let register = Register::open_read(&out(dir)?)?;
            let rows = register.list(customer.as_deref(), annex.as_deref())?;
            if json {
                print_json(&rows)?;
            } else if rows.is_empty() {
                println!("No documents match.");
            } else {
                print_table(&rows);
            }
        }
        RegisterCommand::Show { id, out: dir, json } => {
            let register = Register::open_read(&out(dir)?)?;
            let Some(row) = register.show(id)? else {
                anyhow::bail!("no document with id {id} in the register");
            };
            if json {
                print_json(&row)?;
            } else {
                let r = &row.record;
                println!("id:            {}", row.id);
                println!("customer:      {}", r.customer_id);
                println!("kind:          {}", r.kind.as_str());
                println!("annex version: {}", r.annex_version);
                println!("annex sha256:  {}", r.annex_sha256);
                println!("template:      {}", r.template_sha256);
                println!("inputs:        {}", r.inputs_sha256);
                println!("pdf sha256:    {}", r.pdf_sha256);
                println!("key id:        {}", r.key_id);
                println!("issued:        {}", r.issued);
                println!("path:          {}", r.path);
                for f in &r.files {
                    println!("file:          {}  {}", f.sha256, f.name);
                }
                println!("chain hash:    {}", row.hash);
            }
        }
        RegisterCommand::Verify { out: dir, json } => {
            let path = out(dir)?;
            return match Register::open_read(&path) {
                Ok(register) => {
                    let head = register.head();
                    if json {
                        print_json(&serde_json::json!({
                            "valid": true,
                            "register": register.path(),
                            "rows": head.rows,
                            "last_id": head.last_id,
                            "head": head.hash,
                        }))?;
                    } else {
                        println!(
                            "VALID: {} ({} rows, chain intact up to row {})",
                            register.path().display(),
                            head.rows,
                            head.last_id
                        );
                        println!("  head hash: {}", head.hash);
                        println!(
                            "  keep this hash elsewhere: a register rewritten whole would end in another one"
                        );
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(e @ RegisterError::Tampered { .. }) => {
                    if json {
                        print_json(&serde_json::json!({
                            "valid": false,
                            "register": path.join(dpa::register::FILE_NAME),
                            "reason": e.to_string(),
                        }))?;
                    } else {
                        println!("NOT VALID: {e}");
                    }
                    Ok(ExitCode::from(1))
                }
                Err(e) => Err(e.into()),
            };
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_table(rows: &[Row]) {
    let width = |f: &dyn Fn(&Row) -> usize, title: &str| {
        rows.iter().map(f).max().unwrap_or(0).max(title.len())
    };
    let w_id = width(&|r| r.id.to_string().len(), "ID");
    let w_customer = width(&|r| r.record.customer_id.len(), "CUSTOMER");
    let w_annex = width(&|r| r.record.annex_version.len(), "ANNEX");
    println!(
        "{:>w_id$}  {:<w_customer$}  {:<6}  {:<w_annex$}  {:<16}  {:<10}  {:<16}  PATH",
        "ID", "CUSTOMER", "KIND", "ANNEX", "ANNEX SHA-256", "ISSUED", "PDF SHA-256"
    );
    for row in rows {
        let r = &row.record;
        println!(
            "{:>w_id$}  {:<w_customer$}  {:<6}  {:<w_annex$}  {:<16}  {:<10}  {:<16}  {}",
            row.id,
            r.customer_id,
            r.kind.as_str(),
            r.annex_version,
            &r.annex_sha256[..r.annex_sha256.len().min(16)],
            r.issued,
            &r.pdf_sha256[..r.pdf_sha256.len().min(16)],
            r.path
        );
    }
}
