//! `dpa generate` and `dpa annex fingerprint` end to end: every fixture vendor with every
//! fixture customer, read back with pdftotext and pdfinfo as a reader would; the
//! fingerprint's stability; input errors; reproducible output and refusing to overwrite.
#![cfg(unix)]

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use common::*;
use dpa::model::{Activation, Annex, Customer};

const VENDORS: [&str; 4] = ["segmetrics", "postgres-ai", "caplena", "eea-only"];

/// One test per vendor and fixture customer, so a failure names the pair.
macro_rules! dpa_cases {
    ($($name:ident: $vendor:literal, $customer:literal;)*) => {
        $(
            #[test]
            fn $name() {
                check_dpa($vendor, $customer);
            }
        )*
        const CASES: &[(&str, &str)] = &[$(($vendor, $customer)),*];
    };
}

dpa_cases! {
    segmetrics_acme_widgets_us: "segmetrics", "acme-widgets-us";
    segmetrics_datenwerk_ai: "segmetrics", "datenwerk-ai";
    segmetrics_harbour_finch_uk: "segmetrics", "harbour-finch-uk";
    segmetrics_lodz_zaklady: "segmetrics", "lodz-zaklady";
    segmetrics_long_name: "segmetrics", "long-name";
    segmetrics_markup_in_name: "segmetrics", "markup-in-name";
    segmetrics_mueller_soehne: "segmetrics", "mueller-soehne";
    segmetrics_pivovar_krizik: "segmetrics", "pivovar-krizik";
    segmetrics_uhrwerk_beispiel_ch: "segmetrics", "uhrwerk-beispiel-ch";
    postgres_ai_acme_widgets_us: "postgres-ai", "acme-widgets-us";
    postgres_ai_datenwerk_ai: "postgres-ai", "datenwerk-ai";
    postgres_ai_harbour_finch_uk: "postgres-ai", "harbour-finch-uk";
    postgres_ai_lodz_zaklady: "postgres-ai", "lodz-zaklady";
    postgres_ai_long_name: "postgres-ai", "long-name";
    postgres_ai_markup_in_name: "postgres-ai", "markup-in-name";
    postgres_ai_mueller_soehne: "postgres-ai", "mueller-soehne";
    postgres_ai_pivovar_krizik: "postgres-ai", "pivovar-krizik";
    postgres_ai_uhrwerk_beispiel_ch: "postgres-ai", "uhrwerk-beispiel-ch";
    caplena_acme_widgets_us: "caplena", "acme-widgets-us";
    caplena_datenwerk_ai: "caplena", "datenwerk-ai";
    caplena_harbour_finch_uk: "caplena", "harbour-finch-uk";
    caplena_lodz_zaklady: "caplena", "lodz-zaklady";
    caplena_long_name: "caplena", "long-name";
    caplena_markup_in_name: "caplena", "markup-in-name";
    caplena_mueller_soehne: "caplena", "mueller-soehne";
    caplena_pivovar_krizik: "caplena", "pivovar-krizik";
    caplena_uhrwerk_beispiel_ch: "caplena", "uhrwerk-beispiel-ch";
    eea_only_acme_widgets_us: "eea-only", "acme-widgets-us";
    eea_only_datenwerk_ai: "eea-only", "datenwerk-ai";
    eea_only_harbour_finch_uk: "eea-only", "harbour-finch-uk";
    eea_only_lodz_zaklady: "eea-only", "lodz-zaklady";
    eea_only_long_name: "eea-only", "long-name";
    eea_only_markup_in_name: "eea-only", "markup-in-name";
    eea_only_mueller_soehne: "eea-only", "mueller-soehne";
    eea_only_pivovar_krizik: "eea-only", "pivovar-krizik";
    eea_only_uhrwerk_beispiel_ch: "eea-only", "uhrwerk-beispiel-ch";
}

fn customer_file(id: &str) -> std::path::PathBuf {
    fixture(&format!("fixtures/customers/{id}.toml"))
}

/// The opt-in features an annex knows.
fn known_features(annex: &Annex) -> BTreeSet<String> {
    annex
        .sections
        .iter()
        .flat_map(|s| &s.entries)
        .filter(|e| e.activation == Activation::OptIn)
        .filter_map(|e| e.feature.clone())
        .collect()
}

/// Generates one DPA and checks what a reader of its text would check.
fn check_dpa(vendor: &str, customer_id: &str) {
    let out = tempfile::tempdir().unwrap();
    let (_, annex_path) = vendor_files(vendor);
    let annex = dpa::load::annex(&annex_path).expect("fixture annex loads");
    let customer: Customer =
        dpa::load::customer(customer_file(customer_id)).expect("fixture customer loads");
    let run = generate(out.path(), vendor, &customer_file(customer_id), &[]);

    let known = known_features(&annex);
    if let Some(unknown) = customer.features.iter().find(|f| !known.contains(*f)) {
        // A customer with a feature this vendor does not offer is refused, not silently
        // given a DPA without it.
        assert_eq!(run.code, Some(2), "{run:#?}");
        assert!(
            run.stderr.contains("error:")
                && run.stderr.contains("unknown feature")
                && run.stderr.contains(&format!("`{unknown}`")),
            "{run:#?}"
        );
        assert!(run.stderr.contains("hint:"), "{run:#?}");
        assert!(files_under(out.path()).is_empty(), "wrote files on error");
        return;
    }
    let run = ok(run);
    let pdf = printed_pdf(&run);
    assert!(pdf.starts_with(out.path().join(&customer.id)), "{run:#?}");
    assert!(pdf.is_file());
    for ext in [".sha256", ".minisig", ".sshsig"] {
        assert!(with_suffix(&pdf, ext).is_file(), "{ext} missing");
    }

    let hex = annex_fingerprint(&annex_path);
    assert_eq!(hex, dpa::annex::fingerprint(&annex).hex());
    assert!(run.stdout.contains(&hex) && run.stdout.contains(&annex.version));
    let short = short_fingerprint(&hex);
    assert_eq!(short, dpa::annex::fingerprint(&annex).short());

    let (checked, _, err) = tool("qpdf", &["--check".as_ref(), pdf.as_os_str()]);
    assert!(checked, "qpdf --check: {err}");

    let text = pdf_text(&pdf, None);
    assert!(
        contains_text(&text, &customer.legal_name),
        "customer name {:?} not in the text",
        customer.legal_name
    );
    assert!(
        contains_text(&text, &dpa::annex::fingerprint(&annex).grouped()),
        "full fingerprint not in the text"
    );
    if customer_id != "markup-in-name" {
        // No Markdown or Handlebars syntax leaks into what a reader sees.
        for stray in ["`", "**", "{{", "}}", "<!--", "\\"] {
            assert!(
                !text.contains(stray),
                "{vendor}/{customer_id}: stray {stray:?} in the text"
            );
        }
    }
    // Annex III lists every provider of the list the fingerprint covers; an opt-in provider
    // whose feature this customer has not switched on is marked as not used for it.
    let mut not_used = 0;
    for section in &annex.sections {
        for entry in &section.entries {
            if !entry.applies_to(&customer.features) {
                not_used += 1;
            }
            for (what, value) in [
                ("name", &entry.name),
                ("function", &entry.function),
                ("location", &entry.location),
            ] {
                assert!(
                    contains_text(&text, value),
                    "{vendor}/{customer_id}: {what} {value:?} of {:?} is missing",
                    entry.name
                );
            }
        }
    }
    assert_eq!(
        contains_text(&text, "not used for this Controller unless it switches on"),
        not_used > 0,
        "{vendor}/{customer_id}: the mark of opt-in providers not used"
    );
    // Feature keys are internal and never printed.
    assert!(!text.contains("opt-in: "), "{vendor}/{customer_id}");

    let pages = page_count(&pdf);
    assert!(pages >= 2, "only {pages} page(s)");
    for page in 1..=pages {
        let page_text = normalise(&pdf_text(&pdf, Some(page)));
        assert!(
            page_text.contains(&short),
            "{vendor}/{customer_id}: page {page} lacks the short fingerprint {short}"
        );
        assert!(
            page_text.contains(&format!("Page {page} of {pages}")),
            "{vendor}/{customer_id}: page {page} lacks its page number"
        );
    }
}

#[test]
fn every_fixture_customer_and_vendor_has_a_case() {
    let mut customers: Vec<String> = fs::read_dir(fixture("fixtures/customers"))
        .unwrap()
        .filter_map(|e| {
            let path = e.ok()?.path();
            (path.extension()? == "toml").then(|| path.file_stem()?.to_str().map(String::from))?
        })
        .collect();
    customers.sort();
    assert!(customers.len() >= 5);
    let mut want: Vec<(&str, &str)> = VENDORS
        .iter()
        .flat_map(|v| customers.iter().map(move |c| (*v, c.as_str())))
        .collect();
    want.sort();
    let mut have = CASES.to_vec();
    have.sort();
    assert_eq!(have, want, "add a case for each new fixture customer");
}

#[test]
fn the_text_matcher_forgives_line_end_hyphens_only() {
    assert!(contains_text("a  Stripe,\nInc. b", "Stripe, Inc."));
    assert!(contains_text(
        "SOC 2; GDPRcompliant DPA",
        "GDPR-compliant DPA"
    ));
    assert!(contains_text("GDPR-\ncompliant", "GDPR-compliant"));
    assert!(contains_text("manage-\nment", "management"));
    assert!(contains_text("opti\u{AD}mise", "optimise"));
    assert!(!contains_text("Stripe Inc.", "Stripe, Inc."));
    assert!(!contains_text("management", "manage ment"));
    assert!(!contains_text("Google - Cloud", "Google Cloud"));
    assert!(!contains_text("Acme | x", "**Acme** | x"));
}

#[test]
fn markup_in_customer_values_prints_literally() {
    let out = tempfile::tempdir().unwrap();
    let file = customer_file("markup-in-name");
    let customer = dpa::load::customer(&file).unwrap();
    assert_eq!(
        customer.legal_name,
        "**Acme** | {{vendor.legal_name}} # <b>"
    );
    let run = ok(generate(out.path(), "segmetrics", &file, &[]));
    let text = pdf_text(&printed_pdf(&run), None);
    for value in [
        &customer.legal_name,
        &customer.address,
        &customer.signatory.name,
        &customer.signatory.title,
    ] {
        assert!(
            contains_text(&text, value),
            "{value:?} not printed literally"
        );
    }
    // The braces were not expanded into the vendor's name.
    assert!(!contains_text(&text, "**Acme** | SegMetrics"));
}

/// Writes a TOML table back with every table's keys in reverse order, tables inline and
/// odd spacing: the same data, formatted and ordered nothing like the original.
fn reordered_toml(table: &toml::Table) -> String {
    fn inline(value: &toml::Value) -> String {
        match value {
            toml::Value::Table(t) => format!(
                "{{ {} }}",
                t.iter()
                    .rev()
                    .map(|(k, v)| format!("{k} = {}", inline(v)))
                    .collect::<Vec<_>>()
                    .join(" ,  ")
            ),
            toml::Value::Array(a) => format!(
                "[\n  {}\n]",
                a.iter().map(inline).collect::<Vec<_>>().join(",\n  ")
            ),
            other => other.to_string(),
        }
    }
    let mut out = String::from("# the same annex, reordered and reformatted\n\n");
    for (key, value) in table.iter().rev() {
        out.push_str(&format!("{key}   =   {}\n\n", inline(value)));
    }
    out
}

fn first_entry(table: &mut toml::Table) -> &mut toml::Table {
    table["section"].as_array_mut().unwrap()[0]
        .as_table_mut()
        .unwrap()["entry"]
        .as_array_mut()
        .unwrap()[0]
        .as_table_mut()
        .unwrap()
}

#[test]
fn fingerprint_ignores_formatting_and_key_order_but_not_values() {
    let dir = tempfile::tempdir().unwrap();
    for vendor in VENDORS {
        let (_, annex_path) = vendor_files(vendor);
        let original = annex_fingerprint(&annex_path);
        let table: toml::Table = toml::from_str(&fs::read_to_string(&annex_path).unwrap()).unwrap();

        let reordered = dir.path().join(format!("{vendor}-reordered.toml"));
        fs::write(&reordered, reordered_toml(&table)).unwrap();
        let sorted = dir.path().join(format!("{vendor}-sorted.toml"));
        fs::write(&sorted, toml::to_string(&table).unwrap()).unwrap();
        for copy in [&reordered, &sorted] {
            assert_ne!(
                fs::read_to_string(copy).unwrap(),
                fs::read_to_string(&annex_path).unwrap()
            );
            assert_eq!(
                annex_fingerprint(copy),
                original,
                "{} changed the fingerprint",
                copy.display()
            );
        }

        type Edit = fn(&mut toml::Table);
        let edits: [(&str, Edit); 5] = [
            ("version", |t| {
                t.insert("version".into(), "2026-05-27".into());
            }),
            ("effective", |t| {
                t.insert(
                    "effective".into(),
                    toml::Value::Datetime("2027-01-01".parse().unwrap()),
                );
            }),
            ("location", |t| {
                let e = first_entry(t);
                let loc = format!("{} ", e["location"].as_str().unwrap());
                e.insert("location".into(), loc.into());
            }),
            ("name", |t| {
                let e = first_entry(t);
                let name = e["name"].as_str().unwrap().to_lowercase();
                e.insert("name".into(), name.into());
            }),
            ("section title", |t| {
                let s = t["section"].as_array_mut().unwrap()[0]
                    .as_table_mut()
                    .unwrap();
                s.insert("title".into(), "Another title".into());
            }),
        ];
        let mut seen = BTreeSet::from([original.clone()]);
        for (what, edit) in edits {
            let mut changed = table.clone();
            edit(&mut changed);
            let path = dir.path().join(format!("{vendor}-{what}.toml"));
            fs::write(&path, reordered_toml(&changed)).unwrap();
            let fp = annex_fingerprint(&path);
            assert!(
                seen.insert(fp),
                "{vendor}: changing the {what} did not give a new fingerprint"
            );
        }
    }
}

/// The 1-based line of the first line of `file` that starts with `key`.
fn line_of(file: &Path, key: &str) -> usize {
    fs::read_to_string(file)
        .unwrap()
        .lines()
        .position(|l| l.trim_start().starts_with(key))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("{key} not in {}", file.display()))
}

/// Checks an input error: exit 2, one `error:` line naming `location` and `field`, a
/// `hint:` line, and nothing written.
fn assert_input_error(run: &Run, out: &Path, location: &str, field: &str) {
    assert_eq!(run.code, Some(2), "{run:#?}");
    let error = run
        .stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line: {run:#?}"));
    assert!(error.contains(location), "{location} not in {error:?}");
    assert!(error.contains(field), "{field} not in {error:?}");
    assert!(
        run.stderr.lines().any(|l| l.starts_with("hint: ")),
        "no hint line: {run:#?}"
    );
    assert!(run.stdout.is_empty(), "printed on error: {run:#?}");
    assert!(
        files_under(out).is_empty(),
        "files written on error: {:?}",
        files_under(out)
    );
}

#[test]
fn bad_customer_files_fail_with_location_field_and_hint() {
    let cases = [
        ("fail_misspelled-field.toml", "legal_nmae", "`legal_nmae`"),
        ("fail_wrong-type.toml", "effective", "`effective`"),
        ("fail_bad-id.toml", "id", "`id`"),
        ("fail_unknown-feature.toml", "features", "feature `aj`"),
    ];
    for (name, key, field) in cases {
        let rel = format!("fixtures/fail/{name}");
        let file = fixture(&rel);
        let line = line_of(&file, key);
        let out = tempfile::tempdir().unwrap();
        // A relative path, as a user types it: the message must name it the same way.
        let run = generate(out.path(), "segmetrics", Path::new(&rel), &[]);
        assert_input_error(&run, out.path(), &format!("{rel}:{line}:"), field);
        if name.contains("misspelled") {
            assert!(
                run.stderr.contains("did you mean `legal_name`?"),
                "{run:#?}"
            );
        }
    }
}

#[test]
fn missing_input_files_fail_with_their_path_and_a_hint() {
    let out = tempfile::tempdir().unwrap();
    let missing = "fixtures/customers/no-such-customer.toml";
    let run = generate(out.path(), "segmetrics", Path::new(missing), &[]);
    assert_input_error(&run, out.path(), missing, "customer file");

    let run = run_in(out.path(), &["--annex", "fixtures/no-such-annex.toml"]);
    assert_input_error(&run, out.path(), "fixtures/no-such-annex.toml", "annex");
    let run = run_in(out.path(), &["--vendor", "fixtures/no-such-vendor.toml"]);
    assert_input_error(&run, out.path(), "fixtures/no-such-vendor.toml", "vendor");
}

/// `dpa generate` for Müller & Söhne with dpa.toml's defaults plus `extra`.
fn run_in(out: &Path, extra: &[&str]) -> Run {
    let mut cmd = dpa();
    cmd.args([
        "generate",
        "--customer",
        "fixtures/customers/mueller-soehne.toml",
    ])
    .arg("--out")
    .arg(out)
    .args(extra);
    run(&mut cmd)
}

/// The document files of an output folder (not the register), by relative path.
fn documents(out: &Path) -> Vec<(String, Vec<u8>)> {
    files_under(out)
        .into_iter()
        .filter(|p| !p.to_string_lossy().contains("register"))
        .map(|p| {
            let rel = p.strip_prefix(out).unwrap().display().to_string();
            (rel, fs::read(&p).unwrap())
        })
        .collect()
}

#[test]
fn generating_twice_gives_identical_bytes() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let first = ok(run_in(a.path(), &["--raw-sig"]));
    let docs = documents(a.path());
    let names: Vec<&str> = docs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.len(), 5, "{names:?}");
    for ext in ["pdf", "pdf.minisig", "pdf.sha256", "pdf.sig", "pdf.sshsig"] {
        assert!(names.iter().any(|n| n.ends_with(ext)), "{ext} in {names:?}");
    }

    // Again into the same folder: nothing changes, and dpa says so.
    let again = ok(run_in(a.path(), &["--raw-sig"]));
    assert!(again.stdout.contains("unchanged"), "{again:#?}");
    assert_eq!(documents(a.path()), docs);
    assert_eq!(printed_pdf(&first), printed_pdf(&again));

    // A separate run into a fresh folder gives the same bytes.
    ok(run_in(b.path(), &["--raw-sig"]));
    assert_eq!(documents(b.path()), docs);
}

/// Every file under `out` with its bytes, the register included.
fn snapshot(out: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    files_under(out)
        .into_iter()
        .map(|p| {
            let bytes = fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

#[test]
fn a_folder_with_a_register_is_left_as_it_was_by_bad_input_and_repaired_when_damaged() {
    let out = tempfile::tempdir().unwrap();
    let pdf = printed_pdf(&ok(run_in(out.path(), &[])));
    let issued = snapshot(out.path());

    // A customer whose document cannot be made (a character no font has), into a folder
    // that already has a register: refused as in a new folder, and nothing changes.
    let cjk = Path::new("fixtures/hostile/fail_cjk-name/customer.toml");
    let refused = generate(out.path(), "segmetrics", cjk, &[]);
    assert_eq!(refused.code, Some(2), "{refused:#?}");
    assert!(
        refused
            .stderr
            .contains("customer.legal_name contains U+682A"),
        "{refused:#?}"
    );
    assert!(refused.stdout.is_empty(), "{refused:#?}");
    assert_eq!(
        snapshot(out.path()),
        issued,
        "the refused run changed files"
    );

    // A template that does not compile, into that folder (where it is compiled only when
    // a document is made): refused with its file and line, as when it is compiled while
    // loading for a new folder, not as the customer's error; nothing changes.
    let bad = "fixtures/hostile/fail_bad-handlebars/template.md.hbs";
    let refused = run_in(out.path(), &["--template", bad]);
    assert_eq!(refused.code, Some(2), "{refused:#?}");
    assert!(
        refused
            .stderr
            .contains(&format!("error: {bad}:6:1: template syntax")),
        "{refused:#?}"
    );
    assert!(!refused.stderr.contains("customer `"), "{refused:#?}");
    assert!(refused.stdout.is_empty(), "{refused:#?}");
    assert_eq!(
        snapshot(out.path()),
        issued,
        "the refused run changed files"
    );

    // The same inputs again: unchanged, and nothing is written.
    let again = ok(run_in(out.path(), &[]));
    assert!(again.stdout.contains("unchanged"), "{again:#?}");
    assert_eq!(snapshot(out.path()), issued);

    // A damaged PDF is made again from the register's inputs, byte for byte.
    fs::write(&pdf, b"not a PDF").unwrap();
    let repaired = ok(run_in(out.path(), &[]));
    assert!(repaired.stdout.contains("repaired"), "{repaired:#?}");
    let documents_issued: Vec<_> = issued
        .into_iter()
        .filter(|(p, _)| !p.to_string_lossy().contains("register"))
        .collect();
    let mut after = snapshot(out.path());
    after.retain(|(p, _)| !p.to_string_lossy().contains("register"));
    assert_eq!(after, documents_issued);
}

#[test]
fn a_different_existing_document_needs_force() {
    let out = tempfile::tempdir().unwrap();
    let pdf = printed_pdf(&ok(run_in(out.path(), &[])));
    let before = documents(out.path());

    // Same customer id, new address: a different document at the same path.
    let original = fs::read_to_string(customer_file("mueller-soehne")).unwrap();
    let moved = original.replace("Königstraße 12", "Schlossplatz 4");
    assert_ne!(moved, original);
    let customer = out.path().join("moved.toml");
    fs::write(&customer, moved).unwrap();

    let refused = generate(out.path(), "segmetrics", &customer, &[]);
    assert_eq!(refused.code, Some(2), "{refused:#?}");
    assert!(refused.stderr.contains("already exists"), "{refused:#?}");
    let hint = refused
        .stderr
        .lines()
        .find(|l| l.starts_with("hint: "))
        .unwrap_or_else(|| panic!("no hint: {refused:#?}"));
    assert!(hint.contains("--force"), "{hint}");
    let mut after = documents(out.path());
    after.retain(|(n, _)| n != "moved.toml");
    assert_eq!(after, before, "the refused run changed files");

    let forced = ok(generate(out.path(), "segmetrics", &customer, &["--force"]));
    assert_eq!(printed_pdf(&forced), pdf);
    let text = pdf_text(&pdf, None);
    assert!(contains_text(&text, "Schlossplatz 4"));
    assert!(!contains_text(&text, "Königstraße 12"));
    // The signatures were replaced with the document.
    let verified = dpa_run([
        "verify".as_ref(),
        pdf.as_os_str(),
        "--pubkey".as_ref(),
        "fixtures/keys/demo-only.minisign.pub".as_ref(),
    ]);
    assert_eq!(verified.code, Some(0), "{verified:#?}");
}
