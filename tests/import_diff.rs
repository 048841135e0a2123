//! `annex::diff` on a SegMetrics-shaped annex against a copy where DigitalOcean is replaced
//! by another host, Help Scout is removed and Sentry moves to Germany: exactly those
//! three changes, in the table and in the JSON.

use dpa::annex::diff::{self, AnnexDiff};
use dpa::annex::fingerprint;
use dpa::annex::import::{self, ImportOptions};
use dpa::model::{Annex, Entry};

const OLD: &str = r#"
vendor = "SegMetrics, Inc."
version = "2026-05-26"
effective = 2026-05-26

[[section]]
title = "A. Subprocessors that may process Customer Personal Data"
[[section.entry]]
name = "DigitalOcean, LLC"
function = "Primary application hosting and compute"
location = "United States (NYC region)"
certifications = ["SOC 2", "ISO 27001", "GDPR-compliant DPA"]
[[section.entry]]
name = "Functional Software, Inc. (Sentry)"
function = "Application error and performance monitoring"
location = "United States"
certifications = ["SOC 2", "GDPR-compliant DPA"]
[[section.entry]]
name = "OpenAI, LLC"
function = "AI Insights feature"
location = "United States"
activation = "opt-in"
feature = "ai"
[[section.entry]]
name = "Help Scout, Inc."
function = "Customer support ticketing"
location = "United States"

[[section]]
title = "B. Service providers that process SegMetrics account holder data only"
subprocessors = false
[[section.entry]]
name = "Stripe, Inc."
function = "Payment processing for SegMetrics subscription billing"
location = "United States"
"#;

/// The three changes of the test, applied to any SegMetrics-shaped annex.
fn change(old: &Annex) -> Annex {
    let mut new = old.clone();
    new.version = "2026-07-01".into();
    new.effective = chrono::NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
    let a = &mut new.sections[0].entries;
    let host = a
        .iter_mut()
        .find(|e| e.name == "DigitalOcean, LLC")
        .unwrap();
    *host = Entry {
        name: "Hetzner Online GmbH".into(),
        location: "Germany (Falkenstein)".into(),
        certifications: vec!["ISO 27001".into()],
        ..host.clone()
    };
    a.retain(|e| e.name != "Help Scout, Inc.");
    let sentry = a.iter_mut().find(|e| e.name.contains("(Sentry)")).unwrap();
    sentry.location = "Germany".into();
    new
}

fn assert_three_changes(old: &Annex, new: &Annex) -> AnnexDiff {
    let d = diff::diff(old, new).unwrap();
    assert_eq!(d.change_count(), 3, "{d}");
    assert!(
        d.added.is_empty() && d.moved.is_empty() && d.sections.is_empty(),
        "{d}"
    );

    assert_eq!(d.replaced.len(), 1);
    assert_eq!(d.replaced[0].old.name, "DigitalOcean, LLC");
    assert_eq!(d.replaced[0].new.name, "Hetzner Online GmbH");
    assert_eq!(d.replaced[0].new.location, "Germany (Falkenstein)");

    assert_eq!(d.removed.len(), 1);
    assert_eq!(d.removed[0].entry.name, "Help Scout, Inc.");
    assert!(d.removed[0].section.starts_with("A. "));

    assert_eq!(d.changed.len(), 1);
    assert_eq!(d.changed[0].name, "Functional Software, Inc. (Sentry)");
    let f = &d.changed[0].fields;
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(
        (f[0].field, f[0].old.as_deref(), f[0].new.as_deref()),
        ("location", Some("United States"), Some("Germany"))
    );

    assert_eq!(d.old.fingerprint, fingerprint(old).hex());
    assert_eq!(d.new.fingerprint, fingerprint(new).hex());
    assert_ne!(d.old.fingerprint, d.new.fingerprint);
    assert_eq!(
        (d.old.version.as_str(), d.new.version.as_str()),
        ("2026-05-26", "2026-07-01")
    );
    d
}

#[test]
fn the_three_changes_and_nothing_else() {
    let old: Annex = toml::from_str(OLD).unwrap();
    let new = change(&old);
    let d = assert_three_changes(&old, &new);

    let table = d.render_table();
    let rows: Vec<&str> = table.lines().map(str::trim).collect();
    assert!(
        rows.iter().any(|r| r.starts_with("replaced")
            && r.contains("DigitalOcean, LLC")
            && r.contains("by Hetzner Online GmbH")),
        "{table}"
    );
    assert!(
        rows.iter()
            .any(|r| r.starts_with("removed") && r.contains("Help Scout, Inc.")),
        "{table}"
    );
    assert!(
        rows.iter().any(|r| r.starts_with("changed")
            && r.contains("location: \"United States\" -> \"Germany\"")),
        "{table}"
    );
    assert!(table.contains(&d.old.fingerprint) && table.contains(&d.new.fingerprint));
    assert!(
        table.contains("3 change(s): 1 removed, 1 replaced, 1 changed"),
        "{table}"
    );

    let json: serde_json::Value = serde_json::to_value(&d).unwrap();
    assert_eq!(json["changed"][0]["fields"][0]["field"], "location");
    assert_eq!(json["changed"][0]["fields"][0]["new"], "Germany");
    assert_eq!(json["removed"][0]["entry"]["name"], "Help Scout, Inc.");
    assert_eq!(json["replaced"][0]["old"]["name"], "DigitalOcean, LLC");
    assert_eq!(json["old"]["effective"], "2026-05-26");
    assert_eq!(json["added"].as_array().map(Vec::len), Some(0));

    // Same inputs, same output; the reverse diff mirrors it.
    assert_eq!(diff::diff(&old, &new).unwrap(), d);
    let back = diff::diff(&new, &old).unwrap();
    assert_eq!(back.replaced[0].old.name, "Hetzner Online GmbH");
    assert_eq!(back.added[0].entry.name, "Help Scout, Inc.");
}

#[test]
fn replacement_with_another_function_shows_as_removed_and_added() {
    let old: Annex = toml::from_str(OLD).unwrap();
    let mut new = change(&old);
    new.sections[0].entries[0].function = "Dedicated servers".into();
    let d = diff::diff(&old, &new).unwrap();
    let names = |v: &[diff::Placed]| v.iter().map(|p| p.entry.name.clone()).collect::<Vec<_>>();
    assert!(d.replaced.is_empty());
    assert_eq!(names(&d.added), ["Hetzner Online GmbH"]);
    assert_eq!(names(&d.removed), ["DigitalOcean, LLC", "Help Scout, Inc."]);
    assert_eq!(d.change_count(), 4);
}

#[test]
fn the_three_changes_on_the_imported_real_page() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/vendor-pages/segmetrics-subprocessors.txt"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let opts = ImportOptions {
        vendor: Some("SegMetrics, Inc.".into()),
        source: "segmetrics-subprocessors.txt".into(),
        ..Default::default()
    };
    let old = import::import(&text, &opts).unwrap().annex;
    assert_three_changes(&old, &change(&old));
}
