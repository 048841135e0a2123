//! The annex fields a vendor states about each provider beyond its function and place:
//! transfer safeguards and remarks reach the DPA's Annex III (what a reader sees, with
//! pdftotext), and the vendor's `subprocessors_url` is named where the list is published.

mod common;

use std::path::Path;

use common::{Run, contains_text, dpa_run, fixture, ok, pdf_text, printed_pdf};

/// Datenwerk's DPA (AI features enabled) with SegMetrics and the given annex.
fn generate(annex: &Path, out: &Path) -> Run {
    ok(dpa_run([
        "generate".as_ref(),
        "--customer".as_ref(),
        fixture("fixtures/customers/datenwerk-ai.toml").as_os_str(),
        "--vendor".as_ref(),
        fixture("fixtures/segmetrics/vendor.toml").as_os_str(),
        "--annex".as_ref(),
        annex.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]))
}

#[test]
fn transfer_safeguards_remarks_and_the_published_list_reach_annex_iii() {
    let dir = tempfile::tempdir().unwrap();
    let annex = dir.path().join("annex.toml");
    let text = std::fs::read_to_string(fixture("fixtures/segmetrics/annex.toml"))
        .unwrap()
        .replace(
            "name = \"OpenAI, LLC\"",
            "name = \"OpenAI, LLC\"\ntransfer_mechanism = [\"EU-US DPF\", \"SCCs\"]",
        );
    std::fs::write(&annex, text).unwrap();
    let run = generate(&annex, &dir.path().join("out"));
    let pdf = printed_pdf(&run);
    let text = pdf_text(&pdf, None);
    for needle in [
        "Transfer safeguards",
        // Written "EU-US DPF" and "SCCs" in the file, printed in canonical words.
        "EU-U.S. Data Privacy Framework; Standard Contractual Clauses",
        "Remarks: API data is not used for model training",
        "Remarks: GDPR-compliant DPA",
        // The address may break after "https://" at a line end.
        "The Processor publishes every version of the list, with its Fingerprint, at",
        "segmetrics.io/subprocessors.",
        "published as the file annex-2026-05-26.json",
    ] {
        assert!(contains_text(&text, needle), "missing {needle:?}");
    }
    // No provider of the fixture has a transfer safeguard: no such column in its DPA.
    let plain = generate(
        &fixture("fixtures/segmetrics/annex.toml"),
        &dir.path().join("plain"),
    );
    assert!(!pdf_text(&printed_pdf(&plain), None).contains("Transfer safeguards"));
}

#[test]
fn an_old_annex_keeps_its_fingerprint_and_the_new_fields_change_it() {
    let before = dpa::load::annex(fixture("fixtures/postgres-ai/annex.toml")).unwrap();
    let canonical = dpa::annex::fingerprint::canonical_json(&before);
    assert!(!canonical.contains("transfer_mechanism") && !canonical.contains("remarks"));
    let mut after = before.clone();
    after.sections[0].entries[0].transfer_mechanism = vec!["Standard Contractual Clauses".into()];
    assert_ne!(
        dpa::annex::fingerprint(&after),
        dpa::annex::fingerprint(&before)
    );
}
