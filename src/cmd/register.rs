//! `dpa register list|show`: what was issued to whom.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use dpa::register::{Register, Row};
use dpa::untrusted::Escaped;

use crate::cli::{RegisterAt, RegisterCommand};
use crate::cmd::load_config;
use crate::cmd::print::{self, say};

/// The output folder: --out, else dpa.toml's `out`, else ./out.
fn folder(at: &RegisterAt) -> Result<PathBuf> {
    if let Some(dir) = &at.out {
        return Ok(dir.clone());
    }
    let config = load_config(at.config.config.as_deref())?;
    Ok(config.out.unwrap_or_else(|| PathBuf::from("out")))
}

pub fn run(cmd: RegisterCommand) -> Result<ExitCode> {
    match cmd {
        RegisterCommand::List {
            customer,
            annex,
            at,
            json,
        } => {
            let register = Register::open_existing(&folder(&at)?)?;
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
            let register = Register::open_existing(&folder(&at)?)?;
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
            }
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
        "{:>w_id$}  {:<w_customer$}  {:<6}  {:<w_annex$}  {:<10}  {:<16}  PATH",
        "ID",
        "CUSTOMER",
        "KIND",
        "ANNEX",
        "ISSUED",
        "PDF SHA-256"
    )?;
    for row in rows {
        let r = &row.record;
        let sha: String = r.pdf_sha256.chars().take(16).collect();
        say!(
            "{:>w_id$}  {:<w_customer$}  {:<6}  {:<w_annex$}  {:<10}  {:<16}  {}",
            row.id,
            cell(&r.customer_id),
            r.kind.as_str(),
            cell(&r.annex_version),
            cell(&r.issued),
            cell(&sha),
            cell(&r.path)
        )?;
    }
    Ok(())
}
