//! Prints one customer's SegMetrics DPA as dpa composes it, before layout: the document's
//! blocks as JSON (default) or the Markdown the template renders (`--markdown`).
//!
//! In: a customer file (default `fixtures/customers/mueller-soehne.toml`) and an issue
//! date (default the customer's effective date), with the repository's SegMetrics vendor,
//! annex, template and demo key. Out: JSON or Markdown on stdout. `benches/typst/` turns
//! the JSON into a Typst document to compare dpa's engine with Typst's on the same text.
//!
//! ```sh
//! cargo run --release --example document -- --customer benches/typst/customer.toml
//! ```

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use serde_json::{Value, json};

use dpa::compose::{Composer, Kind};
use dpa::document::{Block, Party, Run, Style};
use dpa::issue::{Issuer, KeySet, Options};
use dpa::layout::PageSetup;
use dpa::pdf::Typesetter;
use dpa::sign::SecretKey;
use dpa::template::TemplateFile;

fn main() -> Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut customer_path = root.join("fixtures/customers/mueller-soehne.toml");
    let mut issue_date: Option<NaiveDate> = None;
    let mut markdown = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--customer" => {
                customer_path = PathBuf::from(args.next().context("--customer needs a file")?)
            }
            "--issue-date" => {
                let text = args.next().context("--issue-date needs a date")?;
                issue_date = Some(
                    text.parse()
                        .with_context(|| format!("--issue-date `{text}`: expected YYYY-MM-DD"))?,
                );
            }
            "--markdown" => markdown = true,
            other => bail!(
                "unknown argument `{other}`\nhint: --customer FILE, --issue-date YYYY-MM-DD, --markdown"
            ),
        }
    }

    let vendor = dpa::load::vendor(root.join("fixtures/segmetrics/vendor.toml"))?;
    let annex = dpa::load::annex(root.join("fixtures/segmetrics/annex.toml"))?;
    let template = TemplateFile::read(&root.join("templates/dpa.md.hbs"))?;
    let key = SecretKey::load(&root.join("fixtures/keys/demo-only.key"))?;
    let issuer = Issuer::new(
        Composer::new(vendor, annex, template, None)?,
        KeySet::from_ed25519(key),
        Typesetter::new(PageSetup::default())?,
        Options::default(),
    );
    let composer = issuer.composer();
    let customer = dpa::load::customer_for(&customer_path, composer.annex())?;
    let signing = issuer.signing_info(issue_date.unwrap_or(customer.effective));

    if markdown {
        print!("{}", composer.markdown(Kind::Dpa, &customer, &signing)?);
        return Ok(());
    }
    let doc = composer.document(Kind::Dpa, &customer, &signing)?;
    let out = json!({
        "title": doc.meta.title,
        "author": doc.meta.author,
        "lang": doc.lang.as_deref().unwrap_or("en"),
        "footer": doc.footer,
        "watermark": doc.watermark,
        "customer": {
            "id": customer.id,
            "legal_name": customer.legal_name,
            "address": customer.address,
            "email": customer.email,
            "signatory_name": customer.signatory.name,
            "signatory_title": customer.signatory.title,
        },
        "attachments": doc.attachments.iter().map(|a| json!({
            "name": a.name,
            "mime": a.mime,
            "description": a.description,
            "text": String::from_utf8_lossy(&a.data),
        })).collect::<Vec<_>>(),
        "blocks": blocks_json(&doc.blocks),
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

/// The blocks as JSON objects, one key naming the kind of block.
fn blocks_json(blocks: &[Block]) -> Vec<Value> {
    blocks
        .iter()
        .map(|block| match block {
            Block::Heading { level, runs } => json!({"heading": level, "runs": runs_json(runs)}),
            Block::Paragraph(r) => json!({"paragraph": runs_json(r)}),
            Block::List(list) => json!({"list": {
                "start": list.start,
                "items": list.items.iter().map(|i| blocks_json(&i.blocks)).collect::<Vec<_>>(),
            }}),
            Block::Table(table) => json!({"table": {
                "header": table.header.iter().map(|c| runs_json(c)).collect::<Vec<_>>(),
                "rows": table.rows.iter()
                    .map(|row| row.iter().map(|c| runs_json(c)).collect::<Vec<_>>())
                    .collect::<Vec<_>>(),
                "widths": table.width_hints,
            }}),
            Block::PageBreak => json!({"pagebreak": true}),
            Block::Signatures(s) => json!({"signatures": {
                "vendor": party(&s.vendor),
                "customer": party(&s.customer),
            }}),
        })
        .collect()
}

fn runs_json(runs: &[Run]) -> Value {
    runs.iter()
        .map(|run| {
            let style = match run.style {
                Style::Regular => "regular",
                Style::Bold => "bold",
                Style::Italic => "italic",
                Style::BoldItalic => "bold-italic",
            };
            json!({"text": run.text, "style": style, "link": run.link})
        })
        .collect()
}

fn party(p: &Party) -> Value {
    json!({
        "caption": p.caption,
        "organisation": p.organisation,
        "name": p.name,
        "title": p.title,
        "date": p.date,
        "signed": p.signed,
    })
}
