//! The importer against the hand-made fixtures: importing each real vendor page in
//! ../shared/vendor-pages gives the same providers as fixtures/<vendor>/annex.toml, with
//! the same locations, websites, certifications, access scopes and activation. The known,
//! editorial differences (function wording, placeholder text for missing locations, section
//! titles) are listed per field below and explained in the issue note.
//! Without ../shared the tests print a visible SKIPPED notice and pass.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use dpa::annex::import::{self, ImportOptions};
use dpa::model::{Annex, Entry};

const PAGES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/vendor-pages");

fn imported(page: &str, vendor: &str, effective: Option<NaiveDate>) -> Option<Annex> {
    let path = format!("{PAGES}/{page}");
    let Ok(text) = std::fs::read_to_string(&path) else {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "SKIPPED: ../shared not present ({path})");
        return None;
    };
    let opts = ImportOptions {
        vendor: Some(vendor.to_string()),
        version: None,
        effective,
        source: path,
    };
    Some(import::import(&text, &opts).expect("page imports").annex)
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
    let Some(imported) = imported(page, vendor, effective) else {
        return;
    };
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
