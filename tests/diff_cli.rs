//! `dpa annex diff` on the published SegMetrics annex and the hypothetical next version
//! (fixtures/segmetrics/annex-next.toml): DigitalOcean replaced by Hetzner, Help Scout
//! removed, Sentry moved to Germany. Exactly those three changes, on a terminal and in JSON.

mod batch_common;

use assert_cmd::Command;
use serde_json::Value;

use batch_common::repo;

const OLD: &str = "fixtures/segmetrics/annex.toml";
const NEW: &str = "fixtures/segmetrics/annex-next.toml";

fn diff(args: &[&str]) -> assert_cmd::assert::Assert {
    Command::cargo_bin("dpa")
        .unwrap()
        .current_dir(std::env::temp_dir())
        .args(["annex", "diff"])
        .arg(repo(OLD))
        .arg(repo(NEW))
        .args(args)
        .assert()
}

fn fingerprint(path: &str) -> String {
    let out = Command::cargo_bin("dpa")
        .unwrap()
        .args(["annex", "fingerprint"])
        .arg(repo(path))
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    text.split_whitespace().next().unwrap().to_string()
}

#[test]
fn the_table_lists_exactly_the_three_changes() {
    let out = diff(&[]).success().get_output().stdout.clone();
    let table = String::from_utf8(out).unwrap();
    let rows: Vec<&str> = table.lines().map(str::trim).collect();

    // Both versions with their dates and full fingerprints.
    let (old_fp, new_fp) = (fingerprint(OLD), fingerprint(NEW));
    assert_ne!(old_fp, new_fp);
    assert!(
        rows.iter()
            .any(|r| r.starts_with("old") && r.contains("2026-05-26") && r.contains(&old_fp)),
        "{table}"
    );
    assert!(
        rows.iter()
            .any(|r| r.starts_with("new") && r.contains("2026-07-15") && r.contains(&new_fp)),
        "{table}"
    );

    let changes: Vec<&str> = rows
        .iter()
        .copied()
        .filter(|r| {
            [
                "added", "removed", "replaced", "changed", "moved", "section",
            ]
            .iter()
            .any(|k| r.split_whitespace().next() == Some(k))
        })
        .collect();
    assert_eq!(changes.len(), 3, "{table}");
    assert!(
        changes.iter().any(|r| r.starts_with("replaced")
            && r.contains("DigitalOcean, LLC")
            && r.contains("by Hetzner Online GmbH (Germany (Falkenstein))")),
        "{table}"
    );
    assert!(
        changes
            .iter()
            .any(|r| r.starts_with("removed") && r.contains("Help Scout, Inc.")),
        "{table}"
    );
    assert!(
        changes.iter().any(|r| r.starts_with("changed")
            && r.contains("Functional Software, Inc. (Sentry)")
            && r.contains("location: \"United States\" -> \"Germany\"")),
        "{table}"
    );
    assert!(
        table.contains("3 change(s): 1 removed, 1 replaced, 1 changed"),
        "{table}"
    );
    assert!(!table.contains("order of the providers changed"), "{table}");
}

#[test]
fn the_json_lists_exactly_the_three_changes() {
    let out = diff(&["--json"]).success().get_output().stdout.clone();
    let json: Value = serde_json::from_slice(&out).unwrap();
    let len = |k: &str| json[k].as_array().map(Vec::len);

    assert_eq!(json["old"]["version"], "2026-05-26");
    assert_eq!(json["new"]["version"], "2026-07-15");
    assert_eq!(json["new"]["effective"], "2026-07-15");
    assert_eq!(json["old"]["fingerprint"], fingerprint(OLD));
    assert_eq!(json["new"]["fingerprint"], fingerprint(NEW));

    assert_eq!(len("added"), Some(0));
    assert_eq!(len("moved"), Some(0));
    assert_eq!(len("sections"), Some(0));
    assert_eq!(json["order_changed"], false);

    assert_eq!(len("replaced"), Some(1));
    assert_eq!(json["replaced"][0]["old"]["name"], "DigitalOcean, LLC");
    assert_eq!(json["replaced"][0]["new"]["name"], "Hetzner Online GmbH");
    assert_eq!(
        json["replaced"][0]["new"]["location"],
        "Germany (Falkenstein)"
    );

    assert_eq!(len("removed"), Some(1));
    assert_eq!(json["removed"][0]["entry"]["name"], "Help Scout, Inc.");

    assert_eq!(len("changed"), Some(1));
    let sentry = &json["changed"][0];
    assert_eq!(sentry["name"], "Functional Software, Inc. (Sentry)");
    assert_eq!(
        sentry["fields"],
        serde_json::json!([{ "field": "location", "old": "United States", "new": "Germany" }])
    );
}

#[test]
fn an_annex_against_itself_has_no_changes() {
    let out = Command::cargo_bin("dpa")
        .unwrap()
        .args(["annex", "diff"])
        .arg(repo(OLD))
        .arg(repo(OLD))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let table = String::from_utf8(out).unwrap();
    assert!(table.contains("no provider or section changes"), "{table}");
}

#[test]
fn a_missing_file_is_an_error_with_exit_2() {
    let out = Command::cargo_bin("dpa")
        .unwrap()
        .args(["annex", "diff"])
        .arg(repo(OLD))
        .arg(repo("fixtures/segmetrics/no-such-annex.toml"))
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(out).unwrap();
    assert!(err.contains("no-such-annex.toml"), "{err}");
}
