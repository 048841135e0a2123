//! `annex::import` on pages written for these tests, one per shape real vendors use:
//! each must give exactly the expected annex and exactly the expected warnings.

use chrono::NaiveDate;
use dpa::annex::fingerprint;
use dpa::annex::import::{self, ImportError, ImportOptions, Imported};
use dpa::model::Annex;

fn page(name: &str) -> String {
    let path = format!("{}/tests/data/pages/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn opts(source: &str, vendor: Option<&str>) -> ImportOptions {
    ImportOptions {
        vendor: vendor.map(String::from),
        version: None,
        effective: None,
        source: source.into(),
        ..ImportOptions::default()
    }
}

fn annex(toml_text: &str) -> Annex {
    toml::from_str(toml_text).unwrap_or_else(|e| panic!("expected annex: {e}"))
}

/// (line, a part of the message) for every warning, in order.
fn assert_warnings(imported: &Imported, expected: &[(usize, &str)]) {
    let got: Vec<String> = imported.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(
        imported.warnings.len(),
        expected.len(),
        "warnings: {got:#?}"
    );
    for (w, (line, part)) in imported.warnings.iter().zip(expected) {
        assert_eq!(w.line, *line, "{w}");
        assert!(w.message.contains(part), "`{w}` should mention `{part}`");
    }
}

/// The written file loads back into the same annex, with the same fingerprint.
fn assert_round_trip(imported: &Imported, source: &str) {
    let text = import::to_toml(imported, source);
    assert!(text.starts_with(&format!(
        "# Subprocessor annex imported by `dpa annex import` from {source}."
    )));
    for w in &imported.warnings {
        assert!(
            text.contains(&format!("#   {w}")),
            "warning missing from file: {w}"
        );
    }
    let back: Annex = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(back, imported.annex);
    assert_eq!(fingerprint(&back), fingerprint(&imported.annex));
}

#[test]
fn plain_text_with_two_tables_under_headings() {
    let got = import::import(
        &page("sections-plain.txt"),
        &opts("sections-plain.txt", Some("Brightloop Analytics B.V.")),
    )
    .unwrap();
    let expected = annex(
        r#"
vendor = "Brightloop Analytics B.V."
version = "2026-03-03"
effective = 2026-03-03

[[section]]
title = "1. Processors of customer content"
description = "These companies may handle the content our customers send through Brightloop."
subprocessors = true

[[section.entry]]
name = "Northwind Hosting GmbH"
function = "Servers and block storage"
location = "Germany (Frankfurt)"
certifications = ["ISO 27001", "SOC 2 Type II"]
remarks = ["main region"]

[[section.entry]]
name = "Quillmate Inc."
function = "Text summaries with a language model (opt-in; used only when a customer turns on AI Assist)"
location = "United States"
certifications = ["SOC 2"]
remarks = ["prompts are never kept for training"]
activation = "opt-in"
feature = "ai"

[[section.entry]]
name = "Pebble Errors Ltd"
function = "Crash reports"
location = "Ireland"

[[section]]
title = "2. Providers handling account-holder data only"
description = "They see the names and e-mail addresses of people who log in to Brightloop, nothing else."
subprocessors = false

[[section.entry]]
name = "Postbox Mailer SA"
function = "Sign-in and billing e-mails"
location = "France"

[[section.entry]]
name = "Tallyhub Payments Inc."
function = "Card payments for subscriptions"
location = "Not stated"
"#,
    );
    assert_eq!(got.annex, expected);
    assert_warnings(
        &got,
        &[
            (
                10,
                "\"prompts are never kept for training\" is not a certification; imported under remarks",
            ),
            (10, "feature = \"ai\""),
            (17, "Tallyhub Payments Inc.: the page gives no location"),
        ],
    );
    let lines: Vec<Vec<usize>> = got.origins.iter().map(|o| o.entries.clone()).collect();
    assert_eq!(lines, [vec![9, 10, 11], vec![16, 17]]);
    assert_round_trip(&got, "sections-plain.txt");
}

#[test]
fn markdown_table_with_linked_names_and_front_matter() {
    let got = import::import(&page("linked-table.md"), &opts("linked-table.md", None)).unwrap();
    let expected = annex(
        r#"
vendor = "Acme Cloud"
version = "2025-11-04"
effective = 2025-11-04

[[section]]
title = "Acme Cloud subprocessors"
description = "Acme Cloud shares data with the companies below, and with nobody else."

[[section.entry]]
name = "Granite Storage"
function = "Backups of customer databases"
location = "EU"
website = "https://granite.example/"

[[section.entry]]
name = "Relay | Chat"
function = "Support chat"
location = "USA"
website = "https://relay.example/chat"

[[section.entry]]
name = "Ledgerly"
function = "Invoicing"
location = "Not stated"
"#,
    );
    assert_eq!(got.annex, expected);
    assert_warnings(
        &got,
        &[
            (2, "vendor name \"Acme Cloud\" taken from the page title"),
            (15, "Ledgerly: the page gives no location"),
        ],
    );
    assert_eq!(
        got.origins[0].line, None,
        "section named after the page title"
    );
    assert_round_trip(&got, "linked-table.md");
}

#[test]
fn one_heading_per_provider_with_labels_and_remarks() {
    let got = import::import(
        &page("per-provider.md"),
        &opts("per-provider.md", Some("Harborline Labs Oy")),
    )
    .unwrap();
    let expected = annex(
        r#"
vendor = "Harborline Labs Oy"
version = "2026-07-01"
effective = 2026-07-01

[[section]]
title = "Services that touch personal data"

[[section.entry]]
name = "Harbor Compute"
function = "Harbor Compute runs our application servers and databases."
location = "Belgium"
legal_address = "Harbor Compute SRL, Rue de l'Exemple 5, 1000 Brussels, Belgium"

[[section.entry]]
name = "Lexicon Cloud"
function = "Machine translation, used only when explicitly selected in a project."
location = "Sweden"
website = "https://lexicon.example"
has_access = "The text columns chosen for translation."
no_access = "Your account details."
activation = "opt-in"
feature = "lexicon-cloud"

[[section.entry]]
name = "Clickwise"
function = "Session replays to find bugs."
location = "Not stated"
has_access = "Clicks and page views inside the app."
no_access = "Uploaded files."
activation = "opt-out"

[[section]]
title = "Services without access to PII"
subprocessors = false

[[section.entry]]
name = "Countly Stats"
function = "Counts page visits on our public site."
location = "Not stated"
has_access = "Anonymous page views."
"#,
    );
    assert_eq!(got.annex, expected);
    assert_warnings(
        &got,
        &[
            (8, "Clickwise marked opt-out because this line names it"),
            (22, "feature = \"lexicon-cloud\" (from its name)"),
            (
                28,
                "label \"Retention\" of Lexicon Cloud has no place in the annex",
            ),
            (32, "Clickwise: the page gives no location"),
            (
                39,
                "remark about Clickwise not imported: \"Replays are deleted after two weeks.\"",
            ),
            (43, "Countly Stats: the page gives no location"),
        ],
    );
    assert_round_trip(&got, "per-provider.md");
}

#[test]
fn options_override_the_page() {
    let mut o = opts("linked-table.md", Some("Acme Cloud Ltd"));
    o.version = Some("v7".into());
    o.effective = NaiveDate::from_ymd_opt(2026, 1, 15);
    let got = import::import(&page("linked-table.md"), &o).unwrap();
    assert_eq!(got.annex.vendor, "Acme Cloud Ltd");
    assert_eq!(got.annex.version, "v7");
    assert_eq!(got.annex.effective.to_string(), "2026-01-15");
    assert!(
        !got.warnings
            .iter()
            .any(|w| w.message.contains("vendor name"))
    );
}

#[test]
fn a_page_without_a_list_is_an_error() {
    let err = import::import(&page("no-list.md"), &opts("no-list.md", Some("V"))).unwrap_err();
    assert!(matches!(err, ImportError::NoList { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("no-list.md: no subprocessor list found"),
        "{err}"
    );
    assert!(err.hint().is_some());
}

#[test]
fn missing_vendor_date_or_bad_version_are_errors_with_hints() {
    let err = import::import(&page("per-provider.md"), &opts("p.md", None)).unwrap_err();
    assert!(matches!(err, ImportError::NoVendor { .. }), "{err:?}");
    assert!(err.hint().unwrap().contains("--vendor"));

    let undated = page("linked-table.md").replace("Last updated: 2025-11-04", "");
    let err = import::import(&undated, &opts("l.md", Some("A"))).unwrap_err();
    assert!(matches!(err, ImportError::NoEffective { .. }), "{err:?}");
    assert!(err.hint().unwrap().contains("--effective"));

    let garbled = page("linked-table.md").replace("2025-11-04", "sometime in November");
    let err = import::import(&garbled, &opts("l.md", Some("A"))).unwrap_err();
    match &err {
        ImportError::UnreadableDate { line, text, .. } => {
            assert_eq!((*line, text.as_str()), (7, "sometime in November"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "l.md:7: cannot read the date `sometime in November`"
    );

    let mut o = opts("l.md", Some("A"));
    o.version = Some("2026 May".into());
    let err = import::import(&page("linked-table.md"), &o).unwrap_err();
    assert!(matches!(err, ImportError::InvalidVersion { .. }), "{err:?}");
}

#[test]
fn check_table_shows_every_provider_and_warning() {
    let got = import::import(&page("per-provider.md"), &opts("p.md", Some("H"))).unwrap();
    let table = import::check_table(&got);
    for name in [
        "Harbor Compute",
        "Lexicon Cloud",
        "Clickwise",
        "Countly Stats",
    ] {
        assert!(table.contains(name), "{name} missing:\n{table}");
    }
    assert!(table.contains("opt-in      lexicon-cloud"), "{table}");
    assert!(table.contains("Services without access to PII (account data only)"));
    assert!(table.contains("warnings (6):"));
    assert!(table.contains("line 28: label \"Retention\""));
}
