//! `annex::import` on eight pages written for these tests, in the shapes vendors publish:
//! HTML tables with and without a head, captions instead of headings, one card per
//! provider, definition lists, a hostile HTML page, a Markdown table with a safeguards
//! column, headings and bullets in Markdown, and text copied from a browser (tab-separated).
//! Each must give, field for field, the annex in `<page>.expected.toml` beside it (read
//! and checked by a person), exactly the warnings listed here, and a file that loads back.

use dpa::annex::import::{self, ImportOptions};
use dpa::model::Annex;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/pages");

fn check(page: &str, warnings: &[(usize, &str)]) {
    let text = std::fs::read_to_string(format!("{DIR}/{page}")).unwrap();
    let stem = page.rsplit_once('.').unwrap().0;
    let expected: Annex =
        toml::from_str(&std::fs::read_to_string(format!("{DIR}/{stem}.expected.toml")).unwrap())
            .unwrap();
    let opts = ImportOptions {
        source: page.into(),
        ..ImportOptions::default()
    };
    let got = import::import(&text, &opts).unwrap_or_else(|e| panic!("{page}: {e}"));
    assert_eq!(got.annex, expected, "{page}");
    let seen: Vec<String> = got.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(got.warnings.len(), warnings.len(), "{page}: {seen:#?}");
    for (w, (line, part)) in got.warnings.iter().zip(warnings) {
        assert_eq!(w.line, *line, "{page}: {w}");
        assert!(
            w.message.contains(part),
            "{page}: `{w}` should say `{part}`"
        );
    }
    let back: Annex = toml::from_str(&import::to_toml(&got, page)).unwrap();
    assert_eq!(back, got.annex);
}

#[test]
fn markdown_table_with_entity_purpose_country_of_processing_and_safeguards() {
    check(
        "safeguards-columns.md",
        &[
            (1, "vendor name \"Fernhill\" taken from the page title"),
            (
                13,
                "transfer safeguard \"UK adequacy regulations\" is none of those dpa knows",
            ),
        ],
    );
}

#[test]
fn html_table_with_head_links_entities_lists_and_a_footnote() {
    check(
        "thead-table.html",
        &[
            (12, "vendor name \"Quarrystone\" taken from the page title"),
            (
                22,
                "\"GDPR-compliant DPA\" is not a certification; imported under remarks",
            ),
        ],
    );
}

#[test]
fn html_tables_without_head_named_by_their_captions() {
    check(
        "captions-no-head.html",
        &[
            (5, "vendor name \"Lumen Ledger\""),
            (17, "Sparrow CRM Inc. is listed again (first at line 16)"),
        ],
    );
}

#[test]
fn html_cards_one_per_provider_and_an_optional_features_section() {
    check(
        "cards.html",
        &[
            (7, "vendor name \"Kestrel Notes\""),
            (
                15,
                "transfer safeguard \"not needed (EEA)\" is none of those dpa knows",
            ),
            (
                25,
                "label \"Retention\" of Beacon Alerts Inc. has no place in the annex",
            ),
            (
                33,
                "Parrot Transcribe Ltd is opt-in but the page names no feature",
            ),
            (38, "an embedded page (<iframe>) was not read"),
        ],
    );
}

#[test]
fn html_definition_lists_one_term_per_provider() {
    check(
        "definition-list.html",
        &[
            (4, "vendor name \"Orchard Pay\""),
            (19, "Tallow Billing Ltd: the page gives no location"),
        ],
    );
}

#[test]
fn text_copied_from_a_browser_with_tab_separated_tables() {
    check("browser-copy.txt", &[(1, "vendor name \"Wrenfield\"")]);
}

#[test]
fn markdown_headings_with_a_duplicate_and_bullets_not_imported() {
    check(
        "bullets-and-headings.md",
        &[
            (1, "vendor name \"Tern Robotics\""),
            (14, "gannet servers is listed again (first at line 7)"),
            (
                22,
                "\"- Puffin Chat – team chat (USA)\" looks like provider data",
            ),
            (
                23,
                "\"- Skua Docs – shared documents (USA)\" looks like provider data",
            ),
        ],
    );
}

#[test]
fn hostile_html_layout_table_invisible_characters_hidden_and_embedded_parts() {
    check(
        "hostile.html",
        &[
            (6, "vendor name \"Petrel Labs\""),
            // "Tern\u{200B}Cloud" and "TERNCLOUD" are the same name once the zero-width space goes.
            (12, "TERNCLOUD is listed again (first at line 11)"),
            (13, "Auk Mail: the page gives no location"),
            (14, "a row without a name was not imported"),
            (16, "a table or list inside <div>"),
            (17, "an embedded page (<iframe>) was not read"),
        ],
    );
}

#[test]
fn html_with_absurd_nesting_is_an_error_with_its_line() {
    let page = format!(
        "<!DOCTYPE html>\n<html><body>\n<h1>Deep subprocessors</h1>\n{}",
        "<div><span>".repeat(500_000)
    );
    let opts = ImportOptions {
        vendor: Some("Deep".into()),
        source: "deep.html".into(),
        ..ImportOptions::default()
    };
    let err = import::import(&page, &opts).unwrap_err();
    assert_eq!(
        err.to_string(),
        "deep.html:4: elements nested more than 256 deep; this is not a page a person reads"
    );
    assert!(err.hint().is_some());
}

#[test]
fn an_html_page_without_a_list_says_why() {
    let page =
        "<!doctype html><html><body><div id=app></div><script src=app.js></script></body></html>";
    let opts = ImportOptions {
        vendor: Some("V".into()),
        source: "spa.html".into(),
        ..ImportOptions::default()
    };
    let err = import::import(page, &opts).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("spa.html: no subprocessor list found")
    );
    assert!(err.hint().unwrap().contains("JavaScript"));
}
