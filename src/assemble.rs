//! Assemble: one customer's DPA as a `Document`, from loaded inputs and a compiled template.
//!
//! In: the vendor, the annex and its fingerprint, the customer, the compiled template and
//! the signing facts. Out: a [`Document`] (blocks, footer, metadata) for the layout engine.
//! Steps: check the inputs belong together, build the context, render the template,
//! parse the Markdown with the signature block in place.

use thiserror::Error;

use crate::annex::Fingerprint;
use crate::document::{Block, Document, Metadata, Party, SignatureBlock};
use crate::load::{self, LoadError};
use crate::markup::{self, MarkupError};
use crate::model::{Annex, Customer, Vendor};
use crate::template::{self, SigningInfo, Template, TemplateError};

/// Why a customer's DPA could not be assembled.
#[derive(Debug, Error)]
pub enum AssembleError {
    #[error("{}", with_customer(customer, source))]
    Inputs {
        customer: String,
        #[source]
        source: Box<LoadError>,
    },

    #[error("customer `{customer}`: {source}")]
    Template {
        customer: String,
        #[source]
        source: TemplateError,
    },

    #[error("customer `{customer}`: template {template}: Markdown {source}")]
    Markup {
        customer: String,
        template: String,
        #[source]
        source: MarkupError,
    },
}

/// The load error, prefixed with the customer unless it names the customer already.
fn with_customer(customer: &str, source: &LoadError) -> String {
    match source.customer() {
        Some(_) => source.to_string(),
        None => format!("customer `{customer}`: {source}"),
    }
}

impl AssembleError {
    /// The customer the error is about.
    pub fn customer(&self) -> &str {
        match self {
            AssembleError::Inputs { customer, .. }
            | AssembleError::Template { customer, .. }
            | AssembleError::Markup { customer, .. } => customer,
        }
    }

    /// A line for the user on how to fix the input or template, when there is one.
    pub fn hint(&self) -> Option<String> {
        match self {
            AssembleError::Inputs { source, .. } => source.hint(),
            AssembleError::Template { source, .. } => source.hint().map(str::to_string),
            AssembleError::Markup { source, .. } => source.hint().map(str::to_string),
        }
    }
}

/// Assembles the DPA of one customer.
pub fn dpa(
    vendor: &Vendor,
    annex: &Annex,
    fingerprint: &Fingerprint,
    customer: &Customer,
    template: &Template,
    signing: &SigningInfo,
) -> Result<Document, AssembleError> {
    let markdown = markdown(vendor, annex, fingerprint, customer, template, signing)?;
    let signatures = signature_block(vendor, customer, signing);
    let blocks: Vec<Block> =
        markup::parse(&markdown, Some(&signatures)).map_err(|source| AssembleError::Markup {
            customer: customer.id.clone(),
            template: template.name().to_string(),
            source,
        })?;
    Ok(Document {
        meta: metadata(vendor, annex, fingerprint, customer),
        blocks,
        footer: footer(annex, fingerprint),
    })
}

/// The Markdown the template renders for one customer, before it becomes blocks.
pub fn markdown(
    vendor: &Vendor,
    annex: &Annex,
    fingerprint: &Fingerprint,
    customer: &Customer,
    template: &Template,
    signing: &SigningInfo,
) -> Result<String, AssembleError> {
    let inputs = |source: LoadError| AssembleError::Inputs {
        customer: customer.id.clone(),
        source: Box::new(source),
    };
    load::check_annex_vendor(vendor, annex).map_err(inputs)?;
    load::check_features(customer, annex).map_err(inputs)?;
    let context = template::context(vendor, annex, fingerprint, customer, signing);
    template
        .render(&context)
        .map_err(|source| AssembleError::Template {
            customer: customer.id.clone(),
            source,
        })
}

/// The running footer: annex version and short fingerprint (the engine adds "Page N of M").
pub fn footer(annex: &Annex, fingerprint: &Fingerprint) -> String {
    format!(
        "Subprocessor list {} · fingerprint {}",
        annex.version,
        fingerprint.short()
    )
}

/// The vendor's side filled in and signed electronically; the customer's left to sign.
pub fn signature_block(
    vendor: &Vendor,
    customer: &Customer,
    signing: &SigningInfo,
) -> SignatureBlock {
    SignatureBlock {
        vendor: Party {
            caption: "For the Processor".to_string(),
            organisation: vendor.legal_name.clone(),
            name: Some(vendor.signatory.name.clone()),
            title: Some(vendor.signatory.title.clone()),
            date: Some(template::long_date(signing.issued)),
            signed: Some(format!("Signed electronically with key {}", signing.key_id)),
        },
        // The customer's signatory is named in its file, so name and title are printed;
        // the date and the signature are theirs to add.
        customer: Party {
            caption: "For the Controller".to_string(),
            organisation: customer.legal_name.clone(),
            name: Some(customer.signatory.name.clone()),
            title: Some(customer.signatory.title.clone()),
            date: None,
            signed: None,
        },
    }
}

fn metadata(
    vendor: &Vendor,
    annex: &Annex,
    fingerprint: &Fingerprint,
    customer: &Customer,
) -> Metadata {
    Metadata {
        title: format!(
            "Data Processing Agreement between {} and {}",
            customer.legal_name, vendor.legal_name
        ),
        author: vendor.legal_name.clone(),
        subject: format!(
            "Data Processing Agreement under Article 28 GDPR with subprocessor list {}",
            annex.version
        ),
        keywords: vec![
            "DPA".to_string(),
            "GDPR Article 28".to_string(),
            format!("customer={}", customer.id),
            format!("annex={}", annex.version),
            format!("annex_sha256={}", fingerprint.hex()),
        ],
        date: customer.effective,
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use chrono::NaiveDate;

    use super::*;
    use crate::annex::fingerprint;
    use crate::document::{List, Run};
    use crate::model::Activation;

    const VENDORS: [&str; 3] = ["segmetrics", "postgres-ai", "caplena"];

    fn root() -> &'static Path {
        Path::new(env!("CARGO_MANIFEST_DIR"))
    }

    fn fixture(path: &str) -> PathBuf {
        root().join("fixtures").join(path)
    }

    fn default_template() -> Template {
        Template::from_file(root().join("templates/dpa.md.hbs")).unwrap()
    }

    fn signing() -> SigningInfo {
        SigningInfo {
            key_id: "3F2A19C0 77DE0B41".into(),
            issued: NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
            verify_hint: "Verify with: minisign -Vm FILE.pdf -P KEY".into(),
        }
    }

    fn customers() -> Vec<Customer> {
        load::customers(fixture("customers"))
            .unwrap()
            .into_iter()
            .map(Result::unwrap)
            .collect()
    }

    fn runs_text(runs: &[Run]) -> String {
        runs.iter().map(|r| r.text.as_str()).collect()
    }

    /// All the text a reader would see, one block (or table cell) per line.
    fn text(blocks: &[Block]) -> String {
        let mut out = String::new();
        for block in blocks {
            match block {
                Block::Heading { runs, .. } | Block::Paragraph(runs) => {
                    out.push_str(&runs_text(runs));
                    out.push('\n');
                }
                Block::List(List { items, .. }) => {
                    for item in items {
                        out.push_str(&text(&item.blocks));
                    }
                }
                Block::Table(t) => {
                    for cell in t.header.iter().chain(t.rows.iter().flatten()) {
                        out.push_str(&runs_text(cell));
                        out.push('\n');
                    }
                }
                Block::PageBreak => {}
                Block::Signatures(s) => {
                    for p in [&s.vendor, &s.customer] {
                        out.push_str(&p.organisation);
                        out.push('\n');
                    }
                }
            }
        }
        out
    }

    /// The shape of a document: block kinds, heading levels, table sizes, list sizes.
    fn shape(blocks: &[Block]) -> Vec<String> {
        blocks
            .iter()
            .map(|b| match b {
                Block::Heading { level, .. } => format!("h{level}"),
                Block::Paragraph(_) => "p".to_string(),
                Block::List(l) => format!(
                    "list{:?}[{}]",
                    l.start,
                    l.items
                        .iter()
                        .map(|i| shape(&i.blocks).join(","))
                        .collect::<Vec<_>>()
                        .join(";")
                ),
                Block::Table(t) => format!("table{}x{}", t.header.len(), t.rows.len()),
                Block::PageBreak => "break".to_string(),
                Block::Signatures(_) => "signatures".to_string(),
            })
            .collect()
    }

    #[test]
    fn every_fixture_vendor_and_customer_assembles_with_its_providers() {
        let template = default_template();
        let customers = customers();
        assert!(customers.len() >= 6);
        let mut refused = 0;
        for v in VENDORS {
            let vendor = load::vendor(fixture(&format!("{v}/vendor.toml"))).unwrap();
            let annex = load::annex(fixture(&format!("{v}/annex.toml"))).unwrap();
            let fp = fingerprint(&annex);
            for c in &customers {
                let result = dpa(&vendor, &annex, &fp, c, &template, &signing());
                if load::check_features(c, &annex).is_err() {
                    // Postgres.ai has no opt-in entries, so a customer with `ai` is refused.
                    let err = result.unwrap_err();
                    assert_eq!(
                        err.to_string(),
                        "customer `datenwerk-ai`: unknown feature `ai`; the annex 2021-05-02 knows: no opt-in features"
                    );
                    assert_eq!(err.customer(), c.id);
                    refused += 1;
                    continue;
                }
                let doc = result.unwrap_or_else(|e| panic!("{v} {}: {e}", c.id));
                let text = text(&doc.blocks);
                let what = format!("{v} × {}", c.id);
                for section in &annex.sections {
                    assert!(text.contains(&section.title), "{what}: {}", section.title);
                    for e in &section.entries {
                        if e.applies_to(&c.features) {
                            for fact in [&e.name, &e.function, &e.location] {
                                assert!(text.contains(fact.as_str()), "{what}: missing {fact}");
                            }
                            for fact in e
                                .certifications
                                .iter()
                                .chain(&e.website)
                                .chain(&e.legal_address)
                            {
                                assert!(text.contains(fact.as_str()), "{what}: missing {fact}");
                            }
                            for fact in e.has_access.iter().chain(&e.no_access) {
                                assert!(
                                    text.contains(fact.trim_end_matches('.')),
                                    "{what}: missing {fact}"
                                );
                            }
                        } else {
                            assert_eq!(e.activation, Activation::OptIn);
                            assert!(
                                !text.contains(&e.name),
                                "{what}: {} should be absent",
                                e.name
                            );
                        }
                    }
                }
                let opt_in = annex
                    .sections
                    .iter()
                    .flat_map(|s| &s.entries)
                    .filter(|e| e.activation == Activation::OptIn);
                for e in opt_in {
                    let marked = format!("{} (opt-in: ai)", e.name);
                    assert_eq!(
                        text.contains(&marked),
                        c.features.contains(&"ai".to_string()),
                        "{what}: {marked}"
                    );
                }
                assert!(text.contains(&c.legal_name), "{what}");
                assert!(text.contains(&fp.grouped()), "{what}");
                assert!(
                    text.contains(&format!("version {}", annex.version)),
                    "{what}"
                );
                assert!(doc.footer.contains(&fp.short()) && doc.footer.contains(&annex.version));
                assert_eq!(doc.meta.date, c.effective);
                assert_eq!(doc.meta.author, vendor.legal_name);
                assert!(
                    doc.meta
                        .keywords
                        .contains(&format!("annex_sha256={}", fp.hex()))
                );
                let sigs: Vec<_> = doc
                    .blocks
                    .iter()
                    .filter(|b| matches!(b, Block::Signatures(_)))
                    .collect();
                assert_eq!(sigs.len(), 1, "{what}");
                assert_eq!(
                    doc.blocks
                        .iter()
                        .filter(|b| **b == Block::PageBreak)
                        .count(),
                    3
                );
            }
        }
        assert_eq!(refused, 1, "only datenwerk-ai with postgres-ai");
    }

    #[test]
    fn markup_in_a_legal_name_prints_literally_and_changes_no_structure() {
        let template = default_template();
        let vendor = load::vendor(fixture("segmetrics/vendor.toml")).unwrap();
        let annex = load::annex(fixture("segmetrics/annex.toml")).unwrap();
        let fp = fingerprint(&annex);
        let odd = load::customer(fixture("customers/markup-in-name.toml")).unwrap();
        assert_eq!(odd.legal_name, "**Acme** | {{vendor.legal_name}} # <b>");
        let plain = load::customer(fixture("customers/mueller-soehne.toml")).unwrap();
        let odd_doc = dpa(&vendor, &annex, &fp, &odd, &template, &signing()).unwrap();
        let plain_doc = dpa(&vendor, &annex, &fp, &plain, &template, &signing()).unwrap();
        assert_eq!(shape(&odd_doc.blocks), shape(&plain_doc.blocks));
        let text = text(&odd_doc.blocks);
        assert!(text.contains("**Acme** | {{vendor.legal_name}} # <b>, 1. Example Street | # 5, <Springfield> [Unit _7_]"), "{text}");
        assert!(text.contains("*Alex* `Example`, > Director"), "{text}");
        // The name is one regular-weight run inside the bold party line, not markup.
        let Block::List(parties) = &odd_doc.blocks[2] else {
            panic!("{:?}", odd_doc.blocks[2])
        };
        let Block::Paragraph(runs) = &parties.items[0].blocks[0] else {
            panic!()
        };
        assert_eq!(
            runs[0],
            Run::styled(
                "**Acme** | {{vendor.legal_name}} # <b>",
                crate::document::Style::Bold
            )
        );
    }

    #[test]
    fn one_template_serves_many_threads() {
        let template = default_template();
        let vendor = load::vendor(fixture("caplena/vendor.toml")).unwrap();
        let annex = load::annex(fixture("caplena/annex.toml")).unwrap();
        let fp = fingerprint(&annex);
        let customers = customers();
        let docs: Vec<Document> = std::thread::scope(|scope| {
            let handles: Vec<_> = customers
                .iter()
                .map(|c| {
                    scope.spawn(|| dpa(&vendor, &annex, &fp, c, &template, &signing()).unwrap())
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (doc, c) in docs.iter().zip(&customers) {
            assert_eq!(
                doc,
                &dpa(&vendor, &annex, &fp, c, &template, &signing()).unwrap()
            );
        }
    }

    #[test]
    fn errors_name_the_customer_and_the_cause() {
        let vendor = load::vendor(fixture("segmetrics/vendor.toml")).unwrap();
        let annex = load::annex(fixture("caplena/annex.toml")).unwrap();
        let fp = fingerprint(&annex);
        let c = load::customer(fixture("customers/mueller-soehne.toml")).unwrap();
        let err = dpa(&vendor, &annex, &fp, &c, &default_template(), &signing()).unwrap_err();
        assert!(
            err.to_string().contains("the annex is for `Caplena`"),
            "{err}"
        );

        let annex = load::annex(fixture("segmetrics/annex.toml")).unwrap();
        let fp = fingerprint(&annex);
        let t = Template::new("# DPA\n\n{{customer.legal_nmae}}\n", "custom.md.hbs").unwrap();
        let err = dpa(&vendor, &annex, &fp, &c, &t, &signing()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "customer `mueller-soehne`: custom.md.hbs:3:1: the variable `customer.legal_nmae` is missing from the context"
        );
        let t = Template::new("# DPA\n\n<!-- TODO -->\n", "custom.md.hbs").unwrap();
        let err = dpa(&vendor, &annex, &fp, &c, &t, &signing()).unwrap_err();
        assert!(
            matches!(
                err,
                AssembleError::Markup {
                    source: MarkupError::UnknownDirective { line: 3, .. },
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.hint().unwrap().contains("{{!--"));
    }

    #[test]
    fn the_signature_block_is_filled_for_the_vendor_only() {
        let vendor = load::vendor(fixture("segmetrics/vendor.toml")).unwrap();
        let c = load::customer(fixture("customers/mueller-soehne.toml")).unwrap();
        let s = signature_block(&vendor, &c, &signing());
        assert_eq!(
            s.vendor.signed.as_deref(),
            Some("Signed electronically with key 3F2A19C0 77DE0B41")
        );
        assert_eq!(s.vendor.date.as_deref(), Some("1 June 2026"));
        assert_eq!(s.vendor.name.as_deref(), Some("Jordan Placeholder"));
        assert_eq!(s.customer.organisation, "Müller & Söhne GmbH");
        assert_eq!(
            (s.customer.date.as_ref(), s.customer.signed.as_ref()),
            (None, None)
        );
    }
}
