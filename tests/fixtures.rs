//! Every fixture loads, every `fail_` fixture fails as its comment says, and every fixture
//! vendor and customer assemble into a document that names every provider that applies.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use dpa::annex::fingerprint;
use dpa::compose::{ComposeError, Composer, Kind, signature_block};
use dpa::document::{Block, Document, List, Run, Style};
use dpa::load::{self, LoadError};
use dpa::markup::MarkupError;
use dpa::model::{Activation, Annex, Customer, Vendor};
use dpa::template::{SigningInfo, Template, TemplateFile};

const VENDORS: [&str; 4] = ["segmetrics", "postgres-ai", "caplena", "eea-only"];

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

/// One customer's DPA composed as `dpa generate` does, after the load-time feature check.
fn dpa(
    vendor: &Vendor,
    annex: &Annex,
    _fingerprint: &dpa::annex::Fingerprint,
    customer: &Customer,
    template: &Template,
    signing: &SigningInfo,
) -> Result<Document, ComposeError> {
    load::check_features(customer, annex)?;
    let template = TemplateFile {
        template: template.clone(),
        sha256: String::new(),
    };
    let composer = Composer::new(vendor.clone(), annex.clone(), template, None)?;
    composer.document(Kind::Dpa, customer, signing)
}

fn customers() -> Vec<Customer> {
    load::customers(fixture("customers"))
        .unwrap()
        .into_iter()
        .map(Result::unwrap)
        .collect()
}

fn runs_text(runs: &[Run]) -> String {
    // The markup stage marks where lines may or may not break with invisible characters
    // (drawn as nothing) and curls quotes; the words are the input's.
    let text: String = runs
        .iter()
        .flat_map(|r| r.text.chars())
        .filter(|c| !matches!(c, '\u{2060}' | '\u{200B}'))
        .collect();
    straight(&text)
}

/// Quotes and apostrophes as straight ones, to compare typeset text with its input.
fn straight(text: &str) -> String {
    text.replace(['’', '‘'], "'").replace(['“', '”'], "\"")
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
                refused += 1;
                continue;
            }
            let doc = result.unwrap_or_else(|e| panic!("{v} {}: {e}", c.id));
            let text = text(&doc.blocks);
            let what = format!("{v} × {}", c.id);
            // Annex III prints every provider of the list the fingerprint covers; an opt-in
            // provider says in words whether it is used for this customer (clause 6.5).
            let words = |e: &dpa::model::Entry| {
                let key = e.feature.as_ref().unwrap();
                vendor.processing.as_ref().unwrap().features[key].clone()
            };
            for section in &annex.sections {
                assert!(text.contains(&section.title), "{what}: {}", section.title);
                for e in &section.entries {
                    for fact in [&e.name, &e.function, &e.location] {
                        assert!(text.contains(&straight(fact)), "{what}: missing {fact}");
                    }
                    for fact in e
                        .certifications
                        .iter()
                        .chain(&e.website)
                        .chain(&e.legal_address)
                    {
                        assert!(text.contains(&straight(fact)), "{what}: missing {fact}");
                    }
                    for fact in e.has_access.iter().chain(&e.no_access) {
                        assert!(
                            text.contains(&straight(fact.trim_end_matches('.'))),
                            "{what}: missing {fact}"
                        );
                    }
                    if e.activation == Activation::OptIn {
                        let used = format!(
                            "(used for {}, which the Controller has switched on)",
                            words(e)
                        );
                        let unused = format!(
                            "(not used for this Controller unless it switches on {})",
                            words(e)
                        );
                        let enabled = e.applies_to(&c.features);
                        assert_eq!(text.contains(&used), enabled, "{what}: {used}");
                        assert_eq!(text.contains(&unused), !enabled, "{what}: {unused}");
                    }
                }
            }
            // Feature keys are internal; they never reach the document.
            assert!(!text.contains("opt-in: ai"), "{what}");
            assert!(text.contains(&c.legal_name), "{what}");
            assert!(text.contains(&fp.grouped()), "{what}");
            assert!(
                text.contains(&format!("version {}", annex.version)),
                "{what}"
            );
            assert!(doc.footer.contains(&fp.short()) && doc.footer.contains(&annex.version));
            // The PDF's date is the day the vendor signs, not the customer's effective date.
            assert_eq!(doc.meta.date, signing().issued);
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
            // Annexes I to III, and Annex IV where terms on transfers apply between the parties.
            let plan = dpa::legal::plan(vendor.processing.as_ref().unwrap(), c);
            let annex_iv = plan.scc || plan.uk || plan.swiss;
            assert_eq!(
                doc.blocks
                    .iter()
                    .filter(|b| **b == Block::PageBreak)
                    .count(),
                3 + usize::from(annex_iv),
                "{what}"
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
    let Some(Block::List(parties)) = odd_doc.blocks.iter().find(|b| matches!(b, Block::List(_)))
    else {
        panic!("{:?}", odd_doc.blocks)
    };
    let Block::Paragraph(runs) = &parties.items[0].blocks[0] else {
        panic!()
    };
    assert_eq!(
        runs[0],
        Run::styled("**Acme** | {{vendor.legal_name}} # <b>", Style::Bold)
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
            .map(|c| scope.spawn(|| dpa(&vendor, &annex, &fp, c, &template, &signing()).unwrap()))
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
        "custom.md.hbs:3:1: the variable `customer.legal_nmae` is missing from the context"
    );
    let t = Template::new("# DPA\n\n<!-- TODO -->\n", "custom.md.hbs").unwrap();
    let err = dpa(&vendor, &annex, &fp, &c, &t, &signing()).unwrap_err();
    assert!(
        matches!(
            err,
            ComposeError::Markup {
                source: MarkupError::UnknownDirective { line: 3, .. },
                ..
            }
        ),
        "{err}"
    );
    assert!(dpa::error::hint(&err).unwrap().contains("{{!--"));
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

// Loading the fixtures.

#[test]
fn every_fixture_loads() {
    for v in ["segmetrics", "postgres-ai", "caplena"] {
        let vendor = load::vendor(fixture(&format!("{v}/vendor.toml"))).unwrap();
        let annex = load::annex(fixture(&format!("{v}/annex.toml"))).unwrap();
        load::check_annex_vendor(&vendor, &annex).unwrap();
    }
    let all = load::customers(fixture("customers")).unwrap();
    assert!(all.len() >= 5);
    for c in &all {
        assert!(c.is_ok(), "{c:?}");
    }
    let long = load::customer(fixture("customers/long-name.toml")).unwrap();
    assert_eq!(long.legal_name.chars().count(), 300);
    let csv = load::customers(fixture("batch/customers.csv")).unwrap();
    assert_eq!(csv.len(), 4);
    assert!(csv.iter().all(Result::is_ok), "{csv:?}");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cfg = load::config(root.join("dpa.toml")).unwrap();
    assert!(cfg.vendor.unwrap().is_file());
    assert!(cfg.annex.unwrap().is_file());
}

#[test]
fn fail_fixtures_fail_as_described() {
    let err = load::customer(fixture("fail/fail_misspelled-field.toml")).unwrap_err();
    assert!(
        err.to_string().contains("did you mean `legal_name`?"),
        "{err}"
    );
    let err = load::customer(fixture("fail/fail_wrong-type.toml")).unwrap_err();
    assert!(
        matches!(&err, LoadError::WrongValue { field_path, message, .. } if field_path == "effective" && message == "expected a date like 2026-06-01, found 20260601"),
        "{err}"
    );
    let err = load::customer(fixture("fail/fail_bad-id.toml")).unwrap_err();
    assert!(
        matches!(&err, LoadError::Invalid { field_path, .. } if field_path == "id"),
        "{err}"
    );
    let annex = load::annex(fixture("segmetrics/annex.toml")).unwrap();
    let err = load::customer_for(fixture("fail/fail_unknown-feature.toml"), &annex).unwrap_err();
    assert!(
        err.to_string()
            .contains("unknown feature `aj`; the annex 2026-05-26 knows: ai"),
        "{err}"
    );
    let rows = load::customers(fixture("fail/fail_bad-row.csv")).unwrap();
    assert!(rows[0].is_ok() && rows[2].is_ok());
    assert!(
        matches!(&rows[1], Err(LoadError::CsvRow { at, customer: Some(id), .. }) if at.line == 3 && id == "bad-mail")
    );
}
