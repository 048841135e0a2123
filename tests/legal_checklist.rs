//! Issue 14's "Done when", read from the PDFs as a reviewer reads them: every row of the
//! checklist in docs/LEGAL.md over every fixture vendor × customer (its phrase present
//! where its condition holds, absent where not), the issue date where the vendor signs,
//! the consolidated re-issue after the SegMetrics change, one meaning for opt-in
//! providers, no internal feature key, the specimen mark and verify's "demo key", and the
//! refusal of a vendor file without its processing facts.
#![cfg(unix)]

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::*;
use dpa::legal::{Specimen, plan};
use dpa::model::{Activation, Annex, Customer, Vendor};

const VENDORS: [&str; 4] = ["segmetrics", "postgres-ai", "caplena", "eea-only"];
const ISSUE_DATE: &str = "2026-06-03";
const ISSUE_TEXT: &str = "3 June 2026";

/// One checklist row: its phrase and the condition under which it applies.
struct Row {
    phrase: String,
    applies: String,
}

/// The rows of docs/LEGAL.md: table lines of five cells whose third is one phrase in
/// backticks (the rule the file states).
fn rows() -> Vec<Row> {
    let text = fs::read_to_string(fixture("docs/LEGAL.md")).unwrap();
    let rows: Vec<Row> = text
        .lines()
        .filter(|l| l.starts_with('|'))
        .filter_map(|l| {
            let cells: Vec<&str> = l
                .trim()
                .trim_matches('|')
                .split('|')
                .map(str::trim)
                .collect();
            let phrase = cells.get(2)?.strip_prefix('`')?.strip_suffix('`')?;
            (cells.len() == 5 && !phrase.contains('`')).then(|| Row {
                phrase: phrase.to_string(),
                applies: cells[3].to_string(),
            })
        })
        .collect();
    assert!(rows.len() >= 70, "only {} checklist rows found", rows.len());
    rows
}

/// A generated DPA: its inputs and its text (pdftotext, footer lines dropped).
struct Dpa {
    vendor_name: &'static str,
    vendor: Vendor,
    annex: Annex,
    customer: Customer,
    pdf: PathBuf,
    text: String,
}

/// The text a reviewer reads: plain pdftotext without the running footer.
fn reader_text(pdf: &Path) -> String {
    pdf_text(pdf, None)
        .lines()
        .filter(|l| {
            let l = l.trim();
            let footer = l.starts_with("Subprocessor list ") && l.contains("· fingerprint");
            let page = l.starts_with("Page ") && l.contains(" of ");
            !footer && !page
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn customers() -> Vec<Customer> {
    load_customers("fixtures/customers")
}

fn load_customers(dir: &str) -> Vec<Customer> {
    dpa::load::customers(fixture(dir))
        .unwrap()
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Runs `dpa batch` once per vendor (with a set issue date) and reads every DPA made;
/// `annex` and `previous` choose the list (a re-issue when `previous` is given).
fn issue_all(
    out: &Path,
    vendor_name: &'static str,
    annex_file: &str,
    previous: Option<&str>,
) -> Vec<Dpa> {
    let vendor_path = fixture(&format!("fixtures/{vendor_name}/vendor.toml"));
    let annex_path = fixture(&format!("fixtures/{vendor_name}/{annex_file}"));
    let vendor = dpa::load::vendor(&vendor_path).unwrap();
    let annex = dpa::load::annex(&annex_path).unwrap();
    let dir = out.join(vendor_name);
    let mut cmd = dpa();
    cmd.arg("batch")
        .arg("--customers")
        .arg(fixture("fixtures/customers"))
        .arg("--vendor")
        .arg(&vendor_path)
        .arg("--annex")
        .arg(&annex_path)
        .args(["--issue-date", ISSUE_DATE, "--out"])
        .arg(&dir);
    if let Some(previous) = previous {
        cmd.arg("--previous")
            .arg(fixture(&format!("fixtures/{vendor_name}/{previous}")))
            .args(["--notice-date", "2026-06-10"]);
    }
    let run = run(&mut cmd);
    let file = dpa::compose::file_name(&vendor, &annex, dpa::compose::Kind::Dpa);
    let mut made = Vec::new();
    for customer in customers() {
        let pdf = dir.join(&customer.id).join(&file);
        if dpa::load::check_features(&customer, &annex).is_err() {
            // A customer with a feature this vendor does not offer gets no DPA.
            assert!(!pdf.exists(), "{vendor_name} × {}: {run:#?}", customer.id);
            continue;
        }
        assert!(pdf.is_file(), "{vendor_name} × {}: {run:#?}", customer.id);
        made.push(Dpa {
            vendor_name,
            vendor: vendor.clone(),
            annex: annex.clone(),
            text: reader_text(&pdf),
            customer,
            pdf,
        });
    }
    made
}

/// Every vendor × customer DPA, made once for all tests of this file.
fn all() -> &'static [Dpa] {
    static ALL: OnceLock<(tempfile::TempDir, Vec<Dpa>)> = OnceLock::new();
    let (_, dpas) = ALL.get_or_init(|| {
        let out = tempfile::tempdir().unwrap();
        let dpas = VENDORS
            .iter()
            .flat_map(|v| issue_all(out.path(), v, "annex.toml", None))
            .collect();
        (out, dpas)
    });
    dpas
}

/// Whether a checklist condition holds for a DPA (docs/LEGAL.md, "Conditions").
fn holds(condition: &str, d: &Dpa) -> bool {
    let facts = d.vendor.processing.as_ref().unwrap();
    let p = plan(facts, &d.customer);
    let consolidated = d.annex.effective > d.customer.effective;
    match condition {
        "always" => true,
        "original" => !consolidated,
        "consolidated" => consolidated,
        "scc" => p.scc,
        "onward" => p.onward,
        "no-onward" => !p.onward,
        "processor-in-eea" => !facts.transfers.outside_eea,
        "uk" => p.uk,
        "uk-scc" => p.uk && p.scc,
        "swiss" => p.swiss,
        "opt-in-unused" => d
            .annex
            .sections
            .iter()
            .flat_map(|s| &s.entries)
            .any(|e| e.activation == Activation::OptIn && !e.applies_to(&d.customer.features)),
        "specimen" => Specimen::of(
            &d.vendor,
            &d.annex,
            &d.customer,
            dpa::legal::DEMO_KEY_IDS[0],
        )
        .any(),
        other => panic!("docs/LEGAL.md uses an unknown condition {other:?}"),
    }
}

/// Checks every checklist row against a set of DPAs; returns the problems.
fn check_rows(dpas: &[Dpa]) -> Vec<String> {
    let rows = rows();
    let mut problems = Vec::new();
    for d in dpas {
        for row in &rows {
            let wanted = holds(&row.applies, d);
            if contains_text(&d.text, &row.phrase) != wanted {
                problems.push(format!(
                    "{} × {}: `{}` ({}) should be {}",
                    d.vendor_name,
                    d.customer.id,
                    row.phrase,
                    row.applies,
                    if wanted { "present" } else { "absent" }
                ));
            }
        }
    }
    problems
}

#[test]
fn every_checklist_phrase_is_where_its_condition_holds_and_nowhere_else() {
    let dpas = all();
    assert_eq!(
        dpas.len(),
        4 * 9 - 1,
        "one pair is refused (unknown feature)"
    );
    let problems = check_rows(dpas);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_transfer_parts_follow_the_vendor_and_the_customer_country() {
    for d in all() {
        let what = format!("{} × {}", d.vendor_name, d.customer.id);
        let t = &d.text;
        let transfers = d.vendor_name != "eea-only";
        // The SCC module and choices where the vendor itself transfers.
        let scc = matches!(d.vendor_name, "segmetrics" | "postgres-ai");
        for phrase in [
            "Module Two (transfer controller to processor)",
            "Option 2, general written authorisation",
            "C. Competent supervisory authority",
        ] {
            assert_eq!(contains_text(t, phrase), scc, "{what}: {phrase}");
        }
        let uk = transfers && d.customer.country == "GB";
        let swiss = transfers && d.customer.country == "CH";
        // Annex IV holds the terms between the Parties: the SCCs, or the UK or Swiss part
        // for onward transfers.
        assert_eq!(
            contains_text(t, "Annex IV: International transfers"),
            scc || uk || swiss,
            "{what}: Annex IV"
        );
        assert_eq!(
            contains_text(t, "International Data Transfer Addendum"),
            uk,
            "{what}: UK part"
        );
        assert_eq!(
            contains_text(
                t,
                "Swiss Federal Act on Data Protection of 25 September 2020"
            ),
            swiss,
            "{what}: Swiss part"
        );
        if !transfers {
            // No transfer machinery for a vendor that stays inside the EEA.
            for phrase in [
                "Standard Contractual Clauses",
                "Data Privacy Framework",
                "Annex IV",
                "data importer",
            ] {
                assert!(!contains_text(t, phrase), "{what}: {phrase}");
            }
            assert!(contains_text(
                t,
                "No Subprocessor processes Customer Personal Data outside the EEA"
            ));
        }
    }
    // The fixtures do cover a UK and a Swiss customer.
    assert!(all().iter().any(|d| d.customer.country == "GB"));
    assert!(all().iter().any(|d| d.customer.country == "CH"));
}

#[test]
fn the_issue_date_is_where_the_vendor_signs_and_the_effective_date_stays_the_customers() {
    for d in all() {
        let what = format!("{} × {}", d.vendor_name, d.customer.id);
        let signed = format!("signed this Agreement electronically on {ISSUE_TEXT}");
        assert!(contains_text(&d.text, &signed), "{what}: {signed}");
        let effective = dpa::template::long_date(d.customer.effective);
        assert!(
            contains_text(
                &d.text,
                &format!("This Agreement takes effect on {effective}")
            ),
            "{what}"
        );
        let (ok, info, _) = tool("pdfinfo", &[d.pdf.as_os_str()]);
        assert!(ok);
        assert!(
            info.lines().any(|l| l.starts_with("CreationDate:")
                && l.contains("Jun  3")
                && l.contains("2026")),
            "{what}: {info}"
        );
    }
}

#[test]
fn opt_in_providers_have_one_meaning_and_no_internal_key_appears() {
    let find = |vendor: &str, customer: &str| {
        all()
            .iter()
            .find(|d| d.vendor_name == vendor && d.customer.id == customer)
            .unwrap()
    };
    let mueller = find("segmetrics", "mueller-soehne");
    assert!(contains_text(
        &mueller.text,
        "(not used for this Controller unless it switches on AI Features)"
    ));
    assert!(!contains_text(
        &mueller.text,
        "which the Controller has switched on"
    ));
    let datenwerk = find("segmetrics", "datenwerk-ai");
    assert!(contains_text(
        &datenwerk.text,
        "(used for AI Features, which the Controller has switched on)"
    ));
    assert!(!contains_text(
        &datenwerk.text,
        "not used for this Controller"
    ));
    // Both list the same providers: the list the fingerprint covers.
    for name in ["OpenAI", "Help Scout"] {
        assert!(contains_text(&mueller.text, name) && contains_text(&datenwerk.text, name));
    }
    for d in all() {
        for key in ["opt-in: ai", "(opt-in", "feature = "] {
            assert!(
                !d.text.contains(key),
                "{} × {}: internal key {key:?}",
                d.vendor_name,
                d.customer.id
            );
        }
    }
}

#[test]
fn a_reissue_after_the_segmetrics_change_keeps_the_agreement_date_and_states_the_update() {
    let out = tempfile::tempdir().unwrap();
    let dpas = issue_all(
        out.path(),
        "segmetrics",
        "annex-next.toml",
        Some("annex.toml"),
    );
    assert!(!dpas.is_empty());
    for d in &dpas {
        let what = format!("segmetrics next × {}", d.customer.id);
        let effective = dpa::template::long_date(d.customer.effective);
        let updated = dpa::template::long_date(d.annex.effective);
        let fp = dpa::annex::fingerprint(&d.annex).short();
        assert!(d.annex.effective > d.customer.effective, "{what}");
        for phrase in [
            format!(
                "Consolidated version as updated on {updated} with Subprocessor List {} (fingerprint {fp})",
                d.annex.version
            ),
            format!("The Parties concluded this Agreement with effect from {effective}"),
            "following the Processor's notice of changes dated 10 June 2026".to_string(),
            "Under clause 13.5 such a change takes effect without a new signature".to_string(),
            "does not need to sign this version (clause 13.5)".to_string(),
            format!("This Agreement takes effect on {effective}"),
            format!(
                "when this Agreement took effect on {effective}, for the Subprocessor List then in force"
            ),
        ] {
            assert!(contains_text(&d.text, &phrase), "{what}: {phrase}");
        }
        // Never: the customer authorising, on the agreement's date, a list of a later date.
        assert!(!contains_text(
            &d.text,
            "With this Agreement the Controller authorises"
        ));
        assert!(!contains_text(&d.text, "The Controller signs below"));
    }
    let problems = check_rows(&dpas);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_demo_key_document_is_a_specimen_and_verify_says_so() {
    let d = all()
        .iter()
        .find(|d| d.vendor_name == "segmetrics" && d.customer.id == "mueller-soehne")
        .unwrap();
    assert!(contains_text(&d.text, "SPECIMEN – not binding."));
    assert!(contains_text(&d.text, "signed with a demonstration key"));
    // The mark is on every page: drawn in the page content as an artifact.
    let pages = page_count(&d.pdf);
    let (qdf_ok, content, err) = tool(
        "qpdf",
        &[
            "--qdf".as_ref(),
            "--object-streams=disable".as_ref(),
            d.pdf.as_os_str(),
            "-".as_ref(),
        ],
    );
    assert!(qdf_ok, "{err}");
    let marks = content.matches("/Subtype/Watermark").count();
    assert_eq!(marks as u32, pages, "one watermark per page");

    let run = ok(dpa_run([
        "verify".as_ref(),
        d.pdf.as_os_str(),
        "--pubkey".as_ref(),
        fixture("fixtures/keys/demo-only.minisign.pub").as_os_str(),
    ]));
    assert!(run.stdout.contains("signed with a demo key"), "{run:#?}");
    let json = ok(dpa_run([
        "verify".as_ref(),
        d.pdf.as_os_str(),
        "--pubkey".as_ref(),
        fixture("fixtures/keys/demo-only.minisign.pub").as_os_str(),
        "--json".as_ref(),
    ]));
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["demo_key"], true);
}

#[test]
fn a_vendor_without_its_processing_facts_is_refused_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let text = fs::read_to_string(fixture("fixtures/segmetrics/vendor.toml")).unwrap();
    let without_retention: String = text
        .lines()
        .filter(|l| !l.starts_with("retention"))
        .map(|l| format!("{l}\n"))
        .collect();
    let without_table = &text[..text.find("[processing]").unwrap()];
    for (name, content, field) in [
        (
            "no-retention.toml",
            without_retention.as_str(),
            "processing.retention",
        ),
        ("no-processing.toml", without_table, "processing"),
    ] {
        let vendor = dir.path().join(name);
        fs::write(&vendor, content).unwrap();
        let out = dir.path().join("out");
        let run = run(dpa()
            .arg("generate")
            .arg("--vendor")
            .arg(&vendor)
            .arg("--annex")
            .arg(fixture("fixtures/segmetrics/annex.toml"))
            .arg("--customer")
            .arg(fixture("fixtures/customers/mueller-soehne.toml"))
            .arg("--out")
            .arg(&out));
        assert_eq!(run.code, Some(2), "{run:#?}");
        assert!(run.stderr.contains(&format!("`{field}`")), "{run:#?}");
        assert!(
            run.stderr.contains(name) && run.stderr.contains("hint:"),
            "{run:#?}"
        );
        assert!(!out.exists() || files_under(&out).is_empty(), "wrote files");
    }
}

#[test]
fn verify_rebuild_says_identical_for_the_real_inputs_and_names_the_first_difference() {
    let d = all()
        .iter()
        .find(|d| d.vendor_name == "segmetrics" && d.customer.id == "mueller-soehne")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let verify = |customer: &Path, annex: &str| {
        run(dpa()
            .arg("verify")
            .arg(&d.pdf)
            .arg("--pubkey")
            .arg(fixture("fixtures/keys/demo-only.minisign.pub"))
            .arg("--rebuild")
            .arg("--customer")
            .arg(customer)
            .arg("--vendor")
            .arg(fixture("fixtures/segmetrics/vendor.toml"))
            .arg("--annex")
            .arg(fixture(&format!("fixtures/segmetrics/{annex}"))))
    };
    let real = fixture("fixtures/customers/mueller-soehne.toml");
    // The issue date (3 June 2026) comes from the signed comment, not from today.
    let same = ok(verify(&real, "annex.toml"));
    assert!(same.stdout.contains("REBUILD: identical"), "{same:#?}");

    // A customer field changed: every recorded input matches, the bytes do not.
    let changed = dir.path().join("mueller-soehne.toml");
    let text = fs::read_to_string(&real).unwrap();
    fs::write(&changed, text.replace("Müller", "Mueller")).unwrap();
    let run = verify(&changed, "annex.toml");
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(
        run.stdout.contains("REBUILD: differs: document:"),
        "{run:#?}"
    );
    assert!(run.stdout.contains("first differing byte: "), "{run:#?}");

    // Another annex: named before anything is rebuilt.
    let run = verify(&real, "annex-next.toml");
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(run.stdout.contains("REBUILD: differs: file:"), "{run:#?}");
}
