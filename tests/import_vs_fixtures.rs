//! The importer against the hand-made fixtures: importing each vendor page (the
//! re-creations in tests/data/vendor-pages; scripts/check-real-vendor-pages.sh does the same
//! with the real pages) gives the same providers as fixtures/<vendor>/annex.toml, with
//! the same locations, websites, certifications, remarks, transfer safeguards, access scopes
//! and activation. The known,
//! editorial differences (function wording, placeholder text for missing locations, section
//! titles) are listed per field below and explained in the issue note.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use dpa::annex::import::{self, ImportOptions};
use dpa::model::{Annex, Entry};

const PAGES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/vendor-pages");

fn imported(page: &str, vendor: &str, effective: Option<NaiveDate>) -> Annex {
    let path = format!("{PAGES}/{page}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let opts = ImportOptions {
        vendor: Some(vendor.to_string()),
        version: None,
        effective,
        source: path,
        ..ImportOptions::default()
    };
    import::import(&text, &opts).expect("page imports").annex
}

fn fixture(vendor: &str) -> Annex {
    dpa::load::annex(format!(
        "{}/fixtures/{vendor}/annex.toml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture loads")
}

fn by_name(annex: &Annex) -> BTreeMap<String, Entry> {
    annex
        .sections
        .iter()
        .flat_map(|s| &s.entries)
        .map(|e| (e.name.to_lowercase(), e.clone()))
        .collect()
}

/// Location, with both sides' placeholders for "the page names none" made equal.
fn location(e: &Entry) -> String {
    if e.location.starts_with("Not stated") {
        "(not stated)".into()
    } else {
        e.location.trim_end_matches('.').to_string()
    }
}

fn compare(page: &str, vendor_dir: &str, vendor: &str, effective: Option<NaiveDate>) {
    let imported = imported(page, vendor, effective);
    let fixture = fixture(vendor_dir);
    assert_eq!(imported.version, fixture.version, "{vendor_dir}: version");
    assert_eq!(
        imported.effective, fixture.effective,
        "{vendor_dir}: effective"
    );
    assert_eq!(
        imported.sections.len(),
        fixture.sections.len(),
        "{vendor_dir}: sections"
    );
    for (a, b) in imported.sections.iter().zip(&fixture.sections) {
        assert_eq!(
            a.subprocessors, b.subprocessors,
            "{vendor_dir}: {}",
            a.title
        );
        let names = |s: &dpa::model::Section| -> Vec<String> {
            s.entries.iter().map(|e| e.name.to_lowercase()).collect()
        };
        assert_eq!(names(a), names(b), "{vendor_dir}: providers of {}", a.title);
    }
    let imported = by_name(&imported);
    let fixture = by_name(&fixture);
    for (name, want) in &fixture {
        let got = &imported[name];
        assert_eq!(
            location(got),
            location(want),
            "{vendor_dir}: {name}: location"
        );
        assert_eq!(got.website, want.website, "{vendor_dir}: {name}: website");
        assert_eq!(
            got.certifications, want.certifications,
            "{vendor_dir}: {name}: certifications"
        );
        assert_eq!(got.remarks, want.remarks, "{vendor_dir}: {name}: remarks");
        assert_eq!(
            got.transfer_mechanism, want.transfer_mechanism,
            "{vendor_dir}: {name}: transfer_mechanism"
        );
        assert_eq!(
            got.activation, want.activation,
            "{vendor_dir}: {name}: activation"
        );
        assert_eq!(
            got.legal_address
                .as_deref()
                .map(|a| a.trim_end_matches('.')),
            want.legal_address
                .as_deref()
                .map(|a| a.trim_end_matches('.')),
            "{vendor_dir}: {name}: legal_address"
        );
        assert_eq!(
            got.no_access, want.no_access,
            "{vendor_dir}: {name}: no_access"
        );
        // The hand-made Caplena fixture moved Google Cloud's "in theory, all data" remark
        // from its prose into has_access; the importer keeps it in the function text.
        if !(vendor_dir == "caplena" && name == "google cloud") {
            assert_eq!(
                got.has_access, want.has_access,
                "{vendor_dir}: {name}: has_access"
            );
        }
    }
}

#[test]
fn segmetrics_page_matches_the_fixture() {
    compare(
        "segmetrics-subprocessors.txt",
        "segmetrics",
        "SegMetrics, Inc.",
        None,
    );
}

#[test]
fn postgres_ai_page_matches_the_fixture() {
    compare(
        "postgres-ai-subprocessors.md",
        "postgres-ai",
        "Postgres.ai",
        None,
    );
}

#[test]
fn caplena_page_matches_the_fixture() {
    // The page carries no date: the fixture's (fictitious) effective date is given.
    compare(
        "caplena-third-party-services.md",
        "caplena",
        "Caplena",
        NaiveDate::from_ymd_opt(2026, 5, 20),
    );
}
