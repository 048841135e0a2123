//! Change notices: `dpa batch --previous` issues each customer a signed notice that names
//! the changes between the two annexes, the notice date, the objection deadline (notice
//! date + the vendor's notice_days) and the date the new list takes effect; checked with
//! pdftotext, pdfinfo, `dpa verify`, minisign and the register. Library tests cover every
//! kind of change the notice can describe.
#![cfg(unix)]

mod batch_common;

use std::fs;
use std::path::Path;
use std::process::Command;

use chrono::NaiveDate;
use serde_json::Value;

use batch_common::{batch, have, pdf_text, register_rows, repo, verify};
use dpa::compose::{Composer, Kind, NoticeInputs};
use dpa::issue::{Issuer, KeySet, Options};
use dpa::model::{Activation, Annex, Customer, Entry, Section, Signatory};
use dpa::template::TemplateFile;

const NOTICE: &str = "segmetrics-inc-notice-2026-07-15.pdf";
const DPA: &str = "segmetrics-inc-dpa-2026-07-15.pdf";
const CUSTOMERS: [&str; 4] = [
    "acme-widgets-us",
    "datenwerk-ai",
    "lodz-zaklady",
    "mueller-soehne",
];

/// The new and the previous SegMetrics annex, as arguments.
fn annexes() -> (String, String) {
    let path = |p: &str| repo(p).display().to_string();
    (
        path("fixtures/segmetrics/annex-next.toml"),
        path("fixtures/segmetrics/annex.toml"),
    )
}

/// The fixture customers' batch from the published annex to the next one.
fn next_batch(dir: &Path, out: &Path, notice_date: &str) -> std::process::Output {
    let (next, previous) = annexes();
    batch(
        dir,
        &repo("fixtures/batch/customers.csv"),
        out,
        &[
            "--annex",
            &next,
            "--previous",
            &previous,
            "--notice-date",
            notice_date,
            // The new DPAs are signed on the day the new list takes effect.
            "--issue-date",
            "2026-07-15",
        ],
    )
    .output()
    .unwrap()
}

#[test]
fn batch_with_previous_issues_signed_notices_naming_the_three_changes() {
    if !have("pdftotext") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let run = next_batch(dir.path(), &out, "2026-06-10");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        stdout.contains("4 customers: 4 issued (8 documents), 0 unchanged and skipped, 0 failed"),
        "{stdout}"
    );
    // The effective date (15 July) is after the deadline (10 July): no warning.
    assert!(!String::from_utf8_lossy(&run.stderr).contains("before the objection deadline"));

    for id in CUSTOMERS {
        let notice = out.join(id).join(NOTICE);
        let text = pdf_text(&notice);
        // Dates: the notice date, the deadline 30 days later, the new list's effective date.
        assert!(
            text.contains("Date of this notice: 10 June 2026."),
            "{id}: {text}"
        );
        assert!(
            text.contains("Deadline for objections: 10 July 2026."),
            "{id}: {text}"
        );
        assert!(
            text.contains("no later than 10 July 2026 (30 days after the date of this notice)"),
            "{id}: {text}"
        );
        assert!(
            text.contains("New list in effect from: 15 July 2026."),
            "{id}: {text}"
        );
        assert!(text.contains("privacy@segmetrics.io"), "{id}: {text}");
        // Which version replaces which.
        assert!(
            text.contains("version 2026-05-26, effective 26 May 2026"),
            "{id}: {text}"
        );
        assert!(
            text.contains("replace it with version 2026-07-15 with effect from 15 July 2026"),
            "{id}: {text}"
        );
        // The three changes, and nothing else: three items in section 2.
        assert!(
            text.contains(
                "Hetzner Online GmbH will replace DigitalOcean, LLC. Function: Primary application \
                 hosting and compute. Location of processing: Germany (Falkenstein), instead of \
                 United States (NYC region)."
            ),
            "{id}: {text}"
        );
        assert!(
            text.contains("Help Scout, Inc. — function until now: Customer support ticketing"),
            "{id}: {text}"
        );
        assert!(
            text.contains(
                "Functional Software, Inc. (Sentry): the location of processing changes from \
                 “United States” to “Germany”."
            ),
            "{id}: {text}"
        );
        let section2 = between(&text, "2. The intended changes", "3. Right to object");
        assert_eq!(section2.matches('•').count(), 3, "{id}: {section2}");
        assert!(!section2.contains("New providers"), "{id}: {section2}");
        assert!(
            !text.contains("OpenAI"),
            "{id}: an unchanged provider is listed"
        );

        // The notice is signed: dpa verify, bound to the new annex, and minisign itself.
        let (code, verdict) = verify(dir.path(), &notice);
        assert_eq!(code, 0, "{id}: {verdict}");
        let (code, verdict) = verify(dir.path(), &out.join(id).join(DPA));
        assert_eq!(code, 0, "{id}: {verdict}");
    }

    let notice = out.join("mueller-soehne").join(NOTICE);
    let info = Command::new("pdfinfo").arg(&notice).output().unwrap();
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(
        info.contains("Notice of subprocessor changes: 2026-05-26 to 2026-07-15"),
        "{info}"
    );

    let bound = batch_common::dpa_in(dir.path())
        .arg("verify")
        .arg(&notice)
        .arg("--pubkey")
        .arg(repo("fixtures/keys/demo-only.pub.pem"))
        .arg("--annex")
        .arg(repo("fixtures/segmetrics/annex-next.toml"))
        .output()
        .unwrap();
    assert!(
        bound.status.success(),
        "{}",
        String::from_utf8_lossy(&bound.stdout)
    );
    let stale = batch_common::dpa_in(dir.path())
        .arg("verify")
        .arg(&notice)
        .arg("--pubkey")
        .arg(repo("fixtures/keys/demo-only.pub.pem"))
        .arg("--annex")
        .arg(repo("fixtures/segmetrics/annex.toml"))
        .output()
        .unwrap();
    assert_eq!(
        stale.status.code(),
        Some(1),
        "the notice is for the new annex"
    );

    if have("minisign") {
        let status = Command::new("minisign")
            .arg("-Vm")
            .arg(&notice)
            .arg("-p")
            .arg(repo("fixtures/keys/demo-only.minisign.pub"))
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&status.stdout);
        assert!(status.status.success(), "{said}");
        assert!(said.contains("customer=mueller-soehne"), "{said}");
        assert!(said.contains("issued=2026-06-10"), "{said}");
    }

    // The register: one dpa and one notice row per customer, with their dates.
    let rows = register_rows(dir.path(), &out, &[]);
    assert_eq!(rows.len(), 8);
    for id in CUSTOMERS {
        let mine: Vec<&Value> = rows.iter().filter(|r| r["customer_id"] == id).collect();
        let kinds: Vec<&str> = mine.iter().map(|r| r["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds.len(), 2, "{id}");
        assert!(kinds.contains(&"dpa") && kinds.contains(&"notice"), "{id}");
        let notice_row = mine.iter().find(|r| r["kind"] == "notice").unwrap();
        assert_eq!(notice_row["issued"], "2026-06-10");
        assert_eq!(notice_row["annex_version"], "2026-07-15");
        assert_eq!(notice_row["path"], format!("{id}/{NOTICE}"));
        // The new DPA carries the issue date the batch was given.
        let dpa_row = mine.iter().find(|r| r["kind"] == "dpa").unwrap();
        assert_eq!(dpa_row["issued"], "2026-07-15", "{id}");
        let bytes = fs::read(out.join(id).join(NOTICE)).unwrap();
        assert_eq!(notice_row["pdf_sha256"], dpa::sign::sha256_hex(&bytes));
    }
    let notices = register_rows(dir.path(), &out, &["--annex", "2026-07-15"]);
    assert_eq!(notices.len(), 8);

    // Same inputs, same bytes: the notice given by SOURCE_DATE_EPOCH is identical.
    let again = dir.path().join("again");
    let epoch = NaiveDate::from_ymd_opt(2026, 6, 10)
        .unwrap()
        .and_hms_opt(12, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp()
        .to_string();
    let (next, previous) = annexes();
    let mut cmd = batch(
        dir.path(),
        &repo("fixtures/batch/customers.csv"),
        &again,
        &["--annex", &next, "--previous", &previous],
    );
    cmd.env("SOURCE_DATE_EPOCH", epoch);
    let run = cmd.output().unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    for id in CUSTOMERS {
        assert_eq!(
            fs::read(out.join(id).join(NOTICE)).unwrap(),
            fs::read(again.join(id).join(NOTICE)).unwrap(),
            "{id}"
        );
    }
}

#[test]
fn a_notice_without_a_date_is_dated_the_issue_date() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let (next, previous) = annexes();
    let run = batch(
        dir.path(),
        &repo("fixtures/batch/customers.csv"),
        &out,
        &["--annex", &next, "--previous", &previous],
    )
    .env("SOURCE_DATE_EPOCH", "1781049600") // 2026-06-10
    .output()
    .unwrap();
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let rows = register_rows(dir.path(), &out, &["--customer", "mueller-soehne"]);
    let notice = rows.iter().find(|r| r["kind"] == "notice").unwrap();
    assert_eq!(notice["issued"], "2026-06-10");
}

#[test]
fn a_list_taking_effect_before_the_deadline_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    // 1 July + 30 days = 31 July, after the new list's 15 July.
    let run = next_batch(dir.path(), &out, "2026-07-01");
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{err}");
    assert!(
        err.contains(
            "warning: annex 2026-07-15 takes effect on 2026-07-15, before the objection deadline 2026-07-31"
        ),
        "{err}"
    );
}

/// The text between two markers (exclusive).
fn between<'a>(text: &'a str, from: &str, to: &str) -> &'a str {
    let start = text.find(from).map_or(0, |i| i + from.len());
    let end = text[start..].find(to).map_or(text.len(), |i| start + i);
    &text[start..end]
}

// ---------------------------------------------------------------------------------------
// Library level: every kind of change, and the deadline arithmetic.

fn entry(name: &str, function: &str, location: &str) -> Entry {
    Entry {
        name: name.into(),
        function: function.into(),
        location: location.into(),
        certifications: Vec::new(),
        website: None,
        legal_address: None,
        has_access: None,
        no_access: None,
        activation: Activation::Always,
        feature: None,
        ..Entry::default()
    }
}

fn section(title: &str, subprocessors: bool, entries: Vec<Entry>) -> Section {
    Section {
        title: title.into(),
        description: None,
        subprocessors,
        entries,
    }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn customer() -> Customer {
    Customer {
        id: "acme".into(),
        legal_name: "Acme GmbH".into(),
        address: "Beispielweg 1, 10115 Berlin, Germany".into(),
        country: "DE".into(),
        email: "privacy@acme.example".into(),
        effective: date(2026, 6, 1),
        features: Vec::new(),
        signatory: Signatory {
            name: "Erika Mustermann".into(),
            title: "Managing Director".into(),
        },
    }
}

fn setup(previous: Annex, annex: Annex, notice_days: u32, notice_date: NaiveDate) -> Issuer {
    let mut vendor = dpa::load::vendor(repo("fixtures/segmetrics/vendor.toml")).unwrap();
    vendor.notice_days = notice_days;
    let template = TemplateFile::read(&repo("templates/dpa.md.hbs")).unwrap();
    let notice_template = TemplateFile::read(&repo("templates/notice.md.hbs")).unwrap();
    let notice = NoticeInputs::new(notice_template, previous, &annex, notice_date).unwrap();
    Issuer::new(
        Composer::new(vendor, annex, template, Some(notice)).unwrap(),
        KeySet::from_ed25519(
            dpa::sign::SecretKey::load(&repo("fixtures/keys/demo-only.key")).unwrap(),
        ),
        dpa::pdf::Typesetter::new(dpa::layout::PageSetup::default()).unwrap(),
        Options::default(),
    )
}

fn notice_text(setup: &Issuer, dir: &Path) -> String {
    let date = setup.composer().notice().unwrap().date;
    let product = setup.make(Kind::Notice, &customer(), date).unwrap();
    let path = dir.join(&product.pdf_name);
    fs::write(&path, &product.pdf).unwrap();
    pdf_text(&path)
}

fn annex(version: &str, effective: NaiveDate, sections: Vec<Section>) -> Annex {
    Annex {
        vendor: "SegMetrics, Inc.".into(),
        version: version.into(),
        effective,
        sections,
    }
}

#[test]
fn every_kind_of_change_is_described() {
    if !have("pdftotext") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut mailer = entry("Mailer Ltd", "Email delivery", "Ireland");
    mailer.website = Some("https://mailer.example".into());
    let old = annex(
        "v1",
        date(2026, 1, 1),
        vec![
            section(
                "A. Subprocessors",
                true,
                vec![
                    entry("Host A", "Hosting", "Germany"),
                    mailer.clone(),
                    entry("Analytics Co", "Product analytics", "France"),
                ],
            ),
            section(
                "B. Account data only",
                false,
                vec![entry("Billing Inc", "Payments", "United States")],
            ),
        ],
    );
    let mut ai = entry("Model Lab", "AI summaries", "United States");
    ai.activation = Activation::OptIn;
    ai.feature = Some("ai".into());
    let mut mailer2 = mailer.clone();
    mailer2.location = "Netherlands".into();
    mailer2.website = None;
    mailer2.legal_address = Some("1 Mail Street, Dublin".into());
    let new = annex(
        "v2",
        date(2027, 1, 15),
        vec![
            section(
                "A. Subprocessors",
                true,
                vec![
                    entry("Host B", "Hosting", "Germany"),
                    mailer2,
                    ai,
                    entry("Billing Inc", "Payments", "United States"),
                ],
            ),
            section(
                "B. Account data only",
                false,
                vec![entry("CRM Corp", "Sales CRM", "United States")],
            ),
        ],
    );
    let text = notice_text(&setup(old, new, 14, date(2026, 12, 20)), dir.path());

    // 20 December + 14 days crosses the year.
    assert!(
        text.contains("Deadline for objections: 3 January 2027."),
        "{text}"
    );
    assert!(
        text.contains("no later than 3 January 2027 (14 days after the date of this notice)"),
        "{text}"
    );
    // Replaced, same location: no "instead of".
    assert!(
        text.contains(
            "Host B will replace Host A. Function: Hosting. Location of processing: Germany."
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "Model Lab will be engaged. Function: AI summaries. Location of processing: United \
             States. It is used only for AI Features, an Optional Feature (clause 6.5 of the \
             Agreement)"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "CRM Corp will be engaged. Function: Sales CRM. Location of processing: United States. \
             This provider does not process Customer Personal Data"
        ),
        "{text}"
    );
    assert!(
        text.contains("Analytics Co — function until now: Product analytics."),
        "{text}"
    );
    assert!(
        text.contains(
            "Mailer Ltd: the location of processing changes from “Ireland” to “Netherlands”; \
             the website “https://mailer.example” is no longer given; the registered address is \
             now given as “1 Mail Street, Dublin”."
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "Billing Inc moves from “B. Account data only” to “A. Subprocessors”. From then on it \
             is a Subprocessor and may process Customer Personal Data."
        ),
        "{text}"
    );
    assert!(!text.contains("(none)"), "{text}");
}

#[test]
fn identical_lists_say_so() {
    if !have("pdftotext") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let list = vec![section(
        "A. Subprocessors",
        true,
        vec![
            entry("Host A", "Hosting", "Germany"),
            entry("Mailer", "Email", "Ireland"),
        ],
    )];
    let old = annex("v1", date(2026, 1, 1), list.clone());
    let mut reordered = list;
    reordered[0].entries.reverse();
    let new = annex("v2", date(2026, 3, 1), reordered);
    let text = notice_text(&setup(old, new, 30, date(2026, 1, 31)), dir.path());
    assert!(
        text.contains("Deadline for objections: 2 March 2026."),
        "{text}"
    );
    assert!(
        text.contains(
            "Version v2 names the same providers, with the same details, as version v1; only \
             their order has changed."
        ),
        "{text}"
    );
}
