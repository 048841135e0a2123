//! Files -> model: reads vendor, annex, customer and `dpa.toml` files and validates them.
//!
//! In: paths to TOML files, a folder of customer TOML files or a customer CSV file.
//! Out: the `model` types, or a [`LoadError`] that names the file, the line and column,
//! the field path and, where it helps, a hint on how to fix it.
//!
//! The jobs: [`source`] reads a file once (size limit, UTF-8) and deserialises it with
//! positions; [`rules`] holds the domain rules; [`customers`] reads customer lists; this
//! module joins them and checks what involves two inputs (features, the annex's vendor).
//!
//! Field paths are written like `section[2].entry[3].location`; indexes count from 1,
//! as a person reading the file counts, so `section[1]` is the first `[[section]]`.
//!
//! Value rules beyond the types (decided here, relied on by file names and the template):
//! - customer `id`: `[a-z0-9-]+`, at most 64 characters, not starting with `-`;
//! - annex `version`: `[A-Za-z0-9._-]+`, at most 64 characters, not starting with `.`,
//!   no `..`; feature names: `[a-z0-9-]+`;
//! - e-mail addresses: one `@`, a local part, a dotted domain, no spaces;
//! - `country`: two capital letters (ISO 3166-1 alpha-2);
//! - websites: `http://` or `https://` followed by a host;
//! - every text, in every field: normalised to NFC; not blank; no control characters, no
//!   bidirectional formatting characters and no invisible characters (zero-width spaces
//!   and joiners, word joiners, byte order marks, line separators, variation selectors:
//!   they can make a printed name read differently from the stored one, or two names
//!   look the same), and no right-to-left letters. Line breaks are allowed only in
//!   addresses and section descriptions, where a multi-line TOML string is natural; the
//!   template joins them into one line;
//! - an annex lists at least one and at most [`rules::MAX_PROVIDERS`] providers, every
//!   section has entries, a provider name appears once per section (compared after case
//!   folding, and refused when it only looks like another name because it is spelled
//!   with letters of another script), an opt-in entry names its `feature`, an entry that
//!   is always used names none;
//! - `notice_days` is at least 1;
//! - files: at most [`source::MAX_TOML_BYTES`] for a TOML file and
//!   [`source::MAX_CSV_BYTES`] for a customer list; regular files only (not a device
//!   such as `/dev/zero`).

// Errors carry their file, position, field and hint; they are made once per bad input,
// so their size does not matter next to the file I/O around them.
#![allow(clippy::result_large_err)]

pub mod customers;
pub mod error;
pub mod rules;
pub mod source;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

pub use error::{FileKind, LoadError, Location, printable};

/// The path that stands for standard input: `dpa generate --customer -`.
pub const STDIN: &str = "-";
pub use source::regular_file;

use crate::model::{Activation, Annex, Config, Customer, Vendor};
use rules::{Problem, check_annex, check_customer, check_vendor, unix_newlines};
use source::{Seg, Source, key, path_text};

/// Loads and validates `vendor.toml`.
pub fn vendor(path: impl AsRef<Path>) -> Result<Vendor, LoadError> {
    let source = Source::read(path.as_ref(), FileKind::Vendor)?;
    let mut vendor: Vendor = source.parse()?;
    unix_newlines(&mut vendor.address);
    check_vendor(&vendor).map_err(|p| invalid(&source, p))?;
    Ok(vendor)
}

/// Loads and validates an `annex.toml`.
pub fn annex(path: impl AsRef<Path>) -> Result<Annex, LoadError> {
    let source = Source::read(path.as_ref(), FileKind::Annex)?;
    let mut annex: Annex = source.parse()?;
    for section in &mut annex.sections {
        if let Some(d) = &mut section.description {
            unix_newlines(d);
        }
        for entry in &mut section.entries {
            if let Some(a) = &mut entry.legal_address {
                unix_newlines(a);
            }
        }
    }
    check_annex(&annex).map_err(|p| invalid(&source, p))?;
    Ok(annex)
}

/// Loads and validates one `customer.toml`.
pub fn customer(path: impl AsRef<Path>) -> Result<Customer, LoadError> {
    let source = Source::read(path.as_ref(), FileKind::Customer)?;
    customer_from(&source, None)
}

/// Loads one `customer.toml` and checks its features against the annex, with locations.
pub fn customer_for(path: impl AsRef<Path>, annex: &Annex) -> Result<Customer, LoadError> {
    let source = Source::read(path.as_ref(), FileKind::Customer)?;
    customer_from(&source, Some(annex))
}

/// Loads `dpa.toml`; its relative paths are resolved against the folder it is in.
pub fn config(path: impl AsRef<Path>) -> Result<Config, LoadError> {
    let path = path.as_ref();
    let source = Source::read(path, FileKind::Config)?;
    let config: Config = source.parse()?;
    let base = path.parent().unwrap_or(Path::new(""));
    let resolve = |p: Option<PathBuf>| p.map(|p| base.join(p));
    Ok(Config {
        vendor: resolve(config.vendor),
        annex: resolve(config.annex),
        template: resolve(config.template),
        key: resolve(config.key),
        pdf_key: resolve(config.pdf_key),
        cert: resolve(config.cert),
        out: resolve(config.out),
    })
}

/// Loads many customers from a folder of `*.toml` files (sorted by file name) or a CSV file.
///
/// The outer error is for the whole input (unreadable, empty, bad CSV header); each
/// customer gets its own result so a batch can report a bad one and go on. A customer
/// whose id repeats an earlier one is an error, since the id names the output folder.
pub fn customers(path: impl AsRef<Path>) -> Result<Vec<Result<Customer, LoadError>>, LoadError> {
    customers::load(path.as_ref(), None)
}

/// Like [`customers_for`], but read one customer at a time (see [`customers::Stream`]):
/// what a batch uses, so that memory does not grow with the list.
pub fn customer_stream(
    path: impl AsRef<Path>,
    annex: &Annex,
) -> Result<customers::Stream, LoadError> {
    customers::stream(path.as_ref(), Some(annex))
}

/// Like [`customers`], and checks each customer's features against the annex.
pub fn customers_for(
    path: impl AsRef<Path>,
    annex: &Annex,
) -> Result<Vec<Result<Customer, LoadError>>, LoadError> {
    customers::load(path.as_ref(), Some(annex))
}

/// Checks that every feature the customer enabled is named by an opt-in entry of the annex.
pub fn check_features(customer: &Customer, annex: &Annex) -> Result<(), LoadError> {
    match unknown_feature(customer, annex) {
        None => Ok(()),
        Some((_, feature)) => Err(LoadError::UnknownFeature {
            at: None,
            customer: customer.id.clone(),
            feature: feature.to_string(),
            annex_version: annex.version.clone(),
            known: known_features(annex),
        }),
    }
}

/// Checks that the annex belongs to the vendor (same legal name).
pub fn check_annex_vendor(vendor: &Vendor, annex: &Annex) -> Result<(), LoadError> {
    if vendor.legal_name.trim() == annex.vendor.trim() {
        Ok(())
    } else {
        Err(LoadError::VendorMismatch {
            annex_vendor: annex.vendor.clone(),
            vendor: vendor.legal_name.clone(),
        })
    }
}

/// Checks that the vendor states every processing fact a DPA prints, for this annex
/// ([`crate::legal::check_facts`]); the error names `vendor.toml`'s line and field.
pub fn check_facts(path: &Path, vendor: &Vendor, annex: &Annex) -> Result<(), LoadError> {
    let Err(e) = crate::legal::check_facts(vendor, annex) else {
        return Ok(());
    };
    // The file is read again only to place the error: the vendor was loaded from it.
    let source = Source::read(path, FileKind::Vendor)?;
    // A missing field has no line of its own: `locate` points at its nearest parent.
    Err(LoadError::Invalid {
        at: source.locate(&e.path),
        field_path: path_text(&e.path),
        message: e.message,
        hint: e.hint,
    })
}

/// The opt-in feature names the annex knows, sorted.
pub fn known_features(annex: &Annex) -> Vec<String> {
    let set: BTreeSet<&str> = annex
        .sections
        .iter()
        .flat_map(|s| &s.entries)
        .filter(|e| e.activation == Activation::OptIn)
        .filter_map(|e| e.feature.as_deref())
        .collect();
    set.into_iter().map(str::to_string).collect()
}

fn unknown_feature<'c>(customer: &'c Customer, annex: &Annex) -> Option<(usize, &'c str)> {
    let known = known_features(annex);
    customer
        .features
        .iter()
        .enumerate()
        .find(|(_, f)| !known.iter().any(|k| k == *f))
        .map(|(i, f)| (i, f.as_str()))
}

/// Ties a validation problem to the line of the value it is about.
fn invalid(source: &Source, p: Problem) -> LoadError {
    LoadError::Invalid {
        at: source.locate(&p.path),
        field_path: if p.path.is_empty() {
            format!("({} file)", source.kind)
        } else {
            path_text(&p.path)
        },
        message: p.message,
        hint: p.hint,
    }
}

/// A customer from its parsed file, checked, and its features checked against `annex`.
fn customer_from(source: &Source, annex: Option<&Annex>) -> Result<Customer, LoadError> {
    let mut customer: Customer = source.parse()?;
    unix_newlines(&mut customer.address);
    check_customer(&customer).map_err(|p| invalid(source, p))?;
    if let Some(annex) = annex
        && let Some((i, feature)) = unknown_feature(&customer, annex)
    {
        return Err(LoadError::UnknownFeature {
            at: Some(source.locate(&[key("features"), Seg::Index(i)])),
            customer: customer.id.clone(),
            feature: feature.to_string(),
            annex_version: annex.version.clone(),
            known: known_features(annex),
        });
    }
    Ok(customer)
}

#[cfg(test)]
mod tests {
    use super::rules::is_email;
    use super::source::line_col;
    use super::*;
    use crate::error::Hint;
    use std::fs;

    const CUSTOMER: &str = r#"id = "acme"
legal_name = "Acme Sp. z o.o."
address = "ul. Długa 5, 00-001 Warszawa, Poland"
country = "PL"
email = "rodo@acme.example"
effective = 2026-06-01
features = ["ai"]

[signatory]
name = "Łucja Nowak"
title = "Prezes Zarządu"
"#;

    const ANNEX: &str = r#"vendor = "V Ltd"
version = "2026-05-26"
effective = 2026-05-26

[[section]]
title = "Subprocessors"

[[section.entry]]
name = "Host"
function = "Hosting"
location = "Germany"

[[section.entry]]
name = "Model Co"
function = "AI answers"
location = "United States"
activation = "opt-in"
feature = "ai"
"#;

    fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
        let path = dir.path().join(name);
        fs::write(&path, text).unwrap();
        path
    }

    fn load_customer(text: &str) -> (tempfile::TempDir, Result<Customer, LoadError>) {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "c.toml", text);
        let result = customer(&path);
        (dir, result)
    }

    fn load_annex(text: &str) -> Result<Annex, LoadError> {
        let dir = tempfile::tempdir().unwrap();
        annex(write(&dir, "a.toml", text))
    }

    fn invalid_at(err: LoadError) -> (String, usize, String) {
        match err {
            LoadError::Invalid {
                at,
                field_path,
                message,
                ..
            } => (field_path, at.line, message),
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn a_valid_customer_loads() {
        let (_d, c) = load_customer(CUSTOMER);
        let c = c.unwrap();
        assert_eq!(c.id, "acme");
        assert_eq!(c.signatory.name, "Łucja Nowak");
        assert_eq!(c.features, vec!["ai"]);
    }

    #[test]
    fn misspelled_field_names_line_and_suggests() {
        let (_d, r) = load_customer(&CUSTOMER.replace("legal_name", "legal_nmae"));
        let err = r.unwrap_err();
        let text = err.to_string();
        assert!(text.contains("c.toml:2:1"), "{text}");
        assert!(
            text.contains("unknown field `legal_nmae`; did you mean `legal_name`?"),
            "{text}"
        );
        assert!(err.hint().unwrap().contains("legal_name"));
    }

    #[test]
    fn misspelled_nested_field_has_its_path() {
        let (_d, r) = load_customer(&CUSTOMER.replace("title =", "titel ="));
        match r.unwrap_err() {
            LoadError::UnknownField {
                at,
                field_path,
                suggestion,
                ..
            } => {
                assert_eq!(field_path, "signatory.titel");
                assert_eq!(suggestion.as_deref(), Some("title"));
                assert_eq!(at.line, 11);
            }
            other => panic!("{other:?}"),
        }
        let annex = ANNEX.replace("location = \"United States\"", "locaton = \"US\"");
        match load_annex(&annex).unwrap_err() {
            LoadError::UnknownField {
                at,
                field_path,
                suggestion,
                ..
            } => {
                assert_eq!(field_path, "section[1].entry[2].locaton");
                assert_eq!(suggestion.as_deref(), Some("location"));
                assert_eq!((at.line, at.column), (16, Some(1)));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_field_far_from_any_name_gets_no_suggestion() {
        let (_d, r) = load_customer(&format!("{CUSTOMER}zzz = 1\n"));
        let text = r.unwrap_err().to_string();
        assert!(text.contains("unknown field `signatory.zzz`"), "{text}");
        assert!(!text.contains("did you mean"), "{text}");
    }

    #[test]
    fn wrong_type_names_field_and_line() {
        let (_d, r) = load_customer(&CUSTOMER.replace("features = [\"ai\"]", "features = \"ai\""));
        match r.unwrap_err() {
            LoadError::WrongValue {
                at,
                field_path,
                message,
                ..
            } => {
                assert_eq!(field_path, "features");
                assert_eq!((at.line, at.column), (7, Some(12)));
                assert!(message.contains("expected a sequence"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        let err = load_annex(&ANNEX.replace("\"opt-in\"", "\"opt_in\"")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("`section[1].entry[2].activation`"), "{text}");
        assert!(text.contains("did you mean `opt-in`?"), "{text}");
        assert!(err.hint().is_some_and(|h| h.contains("quotes")));
        let (_d, r) = load_customer(&CUSTOMER.replace("2026-06-01", "20260601"));
        let hint = r.unwrap_err().hint().unwrap_or_default();
        assert!(hint.contains("YYYY-MM-DD"), "{hint}");
    }

    #[test]
    fn missing_field_names_its_table() {
        let (_d, r) = load_customer(&CUSTOMER.replace("title = \"Prezes Zarządu\"\n", ""));
        match r.unwrap_err() {
            LoadError::MissingField { at, field_path } => {
                assert_eq!(field_path, "signatory.title");
                assert_eq!(at.line, 9);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn missing_file_names_path_and_hint() {
        let err = customer("no/such/customer.toml").unwrap_err();
        assert!(matches!(
            err,
            LoadError::NotFound {
                kind: FileKind::Customer,
                ..
            }
        ));
        assert!(err.to_string().contains("no/such/customer.toml"));
        assert!(err.hint().unwrap().contains("--customer"));
        let err = vendor("nowhere/vendor.toml").unwrap_err();
        assert!(err.hint().unwrap().contains("dpa.toml"));
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let (_d, r) = load_customer("id = \"a\"\nlegal_name = \"unterminated\n");
        match r.unwrap_err() {
            LoadError::Syntax { at, .. } => assert_eq!(at.line, 2),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_customer_ids_are_refused_with_the_line() {
        for bad in [
            "Acme",
            "acme/x",
            "..",
            "a.b",
            "-acme",
            "a\\\\b",
            "",
            "acme gmbh",
        ] {
            let (_d, r) = load_customer(&CUSTOMER.replace("\"acme\"", &format!("\"{bad}\"")));
            let (field, line, message) = invalid_at(r.unwrap_err());
            assert_eq!((field.as_str(), line), ("id", 1), "{bad}");
            assert!(
                message.contains("not a valid customer id"),
                "{bad}: {message}"
            );
        }
        for good in ["a", "mueller-soehne", "acme-2", "7eleven"] {
            let (_d, r) = load_customer(&CUSTOMER.replace("\"acme\"", &format!("\"{good}\"")));
            assert!(r.is_ok(), "{good}");
        }
    }

    #[test]
    fn value_checks_point_at_the_value() {
        let cases = [
            ("rodo@acme.example", "rodo@acme", "email", 5),
            ("\"PL\"", "\"pl\"", "country", 4),
            ("Łucja Nowak", "  ", "signatory.name", 10),
            ("Acme Sp. z o.o.", "Acme\u{202E}", "legal_name", 2),
            ("Acme Sp. z o.o.", "Acme\\nEvil", "legal_name", 2),
            ("[\"ai\"]", "[\"ai\", \"ai\"]", "features[2]", 7),
            ("[\"ai\"]", "[\"AI\"]", "features[1]", 7),
        ];
        for (from, to, field, line) in cases {
            let (_d, r) = load_customer(&CUSTOMER.replace(from, to));
            let (f, l, m) = invalid_at(r.unwrap_err());
            assert_eq!((f.as_str(), l), (field, line), "{to}: {m}");
        }
        // A line break is fine in an address.
        let (_d, r) = load_customer(&CUSTOMER.replace(
            "\"ul. Długa 5, 00-001 Warszawa, Poland\"",
            "\"\"\"ul. Długa 5\n00-001 Warszawa\nPoland\"\"\"",
        ));
        assert!(r.is_ok());
    }

    #[test]
    fn email_shapes() {
        for good in [
            "a@b.example",
            "first.last+tag@sub.example.co.uk",
            "x@müller.example",
        ] {
            assert!(is_email(good), "{good}");
        }
        for bad in [
            "",
            "a",
            "a@b",
            "@b.example",
            "a@.example",
            "a b@c.example",
            "a@@b.example",
            "a@b..example",
            "a.@b.example",
            "a@b.123",
            "a@-b.example",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
    }

    #[test]
    fn unknown_feature_lists_the_known_ones() {
        let annex: Annex = toml::from_str(ANNEX).unwrap();
        let mut c: Customer = toml::from_str(CUSTOMER).unwrap();
        assert!(check_features(&c, &annex).is_ok());
        c.features = vec!["aj".into()];
        let err = check_features(&c, &annex).unwrap_err();
        assert_eq!(
            err.to_string(),
            "customer `acme`: unknown feature `aj`; the annex 2026-05-26 knows: ai"
        );
        assert_eq!(err.customer(), Some("acme"));

        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "c.toml", &CUSTOMER.replace("[\"ai\"]", "[\"aj\"]"));
        assert!(customer(&path).is_ok(), "no annex, no feature check");
        match customer_for(&path, &annex).unwrap_err() {
            LoadError::UnknownFeature {
                at: Some(at),
                feature,
                ..
            } => {
                assert_eq!((feature.as_str(), at.line), ("aj", 7));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn annex_rules() {
        assert!(load_annex(ANNEX).is_ok());
        let cases = [
            // Opt-in without a feature.
            (
                ANNEX.replace("feature = \"ai\"\n", ""),
                "section[1].entry[2].feature",
                13,
            ),
            // A feature on an entry that is always used.
            (
                ANNEX.replace("activation = \"opt-in\"\n", ""),
                "section[1].entry[2].feature",
                17,
            ),
            // The same provider twice in one section.
            (
                ANNEX.replace("\"Model Co\"", "\"host\""),
                "section[1].entry[2].name",
                14,
            ),
            (ANNEX.replace("\"2026-05-26\"", "\"../evil\""), "version", 2),
            (ANNEX.replace("\"2026-05-26\"", "\".hidden\""), "version", 2),
            (
                ANNEX.replace("\"Germany\"", "\"\""),
                "section[1].entry[1].location",
                11,
            ),
        ];
        for (text, field, line) in cases {
            let (f, l, m) = invalid_at(load_annex(&text).unwrap_err());
            assert_eq!((f.as_str(), l), (field, line), "{m}");
        }
        let empty = "vendor = \"V\"\nversion = \"1\"\neffective = 2026-05-26\n";
        let (_, _, m) = invalid_at(load_annex(empty).unwrap_err());
        assert!(m.contains("no providers"), "{m}");
        let empty_section = format!("{ANNEX}\n[[section]]\ntitle = \"Other\"\n");
        let (f, l, _) = invalid_at(load_annex(&empty_section).unwrap_err());
        assert_eq!((f.as_str(), l), ("section[2]", 20));
    }

    #[test]
    fn vendor_rules() {
        let text = r#"legal_name = "V Ltd"
address = "1 Example Road, Exampletown"
email = "privacy@v.example"
website = "https://v.example"
notice_days = 30
[signatory]
name = "A"
title = "CEO"
"#;
        let dir = tempfile::tempdir().unwrap();
        assert!(vendor(write(&dir, "v.toml", text)).is_ok());
        let err = vendor(write(&dir, "v.toml", &text.replace("30", "\"30\""))).unwrap_err();
        assert!(
            matches!(&err, LoadError::WrongValue { field_path, .. } if field_path == "notice_days"),
            "{err}"
        );
        let err = vendor(write(&dir, "v.toml", &text.replace("30", "0"))).unwrap_err();
        assert_eq!(invalid_at(err).0, "notice_days");
        let err = vendor(write(&dir, "v.toml", &text.replace("https://", ""))).unwrap_err();
        assert_eq!(invalid_at(err).0, "website");
    }

    #[test]
    fn config_paths_are_relative_to_its_folder() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            &dir,
            "dpa.toml",
            "vendor = \"fixtures/v.toml\"\nout = \"out\"\n",
        );
        let c = config(&path).unwrap();
        assert_eq!(c.vendor, Some(dir.path().join("fixtures/v.toml")));
        assert_eq!(c.out, Some(dir.path().join("out")));
        assert_eq!(c.key, None);
        let err = config(write(&dir, "dpa.toml", "vendr = \"x\"\n")).unwrap_err();
        assert!(err.to_string().contains("did you mean `vendor`?"), "{err}");
    }

    const CSV: &str = "id,legal_name,address,country,email,effective,signatory_name,signatory_title,features
acme,Acme GmbH,\"Hauptstraße 1, 10115 Berlin\",DE,a@acme.example,2026-06-01,Eva Muster,CEO,ai
bad-mail,Bad GmbH,Somewhere 2,DE,not-an-address,2026-06-01,Max Muster,CFO,
beta,\"Beta, s.r.o.\",\"Řetězová 3, Praha\",CZ,b@beta.example,2026-06-02,Jiří Černý,jednatel,ai; export
";

    #[test]
    fn csv_rows_load_and_a_bad_row_is_reported_alone() {
        let dir = tempfile::tempdir().unwrap();
        let rows = customers(write(&dir, "c.csv", CSV)).unwrap();
        assert_eq!(rows.len(), 3);
        let acme = rows[0].as_ref().unwrap();
        assert_eq!(acme.address, "Hauptstraße 1, 10115 Berlin");
        assert_eq!(acme.signatory.name, "Eva Muster");
        match rows[1].as_ref().unwrap_err() {
            err @ LoadError::CsvRow {
                at,
                customer,
                field,
                ..
            } => {
                assert_eq!(
                    (at.line, customer.as_deref(), field.as_str()),
                    (3, Some("bad-mail"), "email")
                );
                assert!(
                    err.to_string().starts_with(&format!(
                        "{}:3: customer `bad-mail`: `email`",
                        dir.path().join("c.csv").display()
                    )),
                    "{err}"
                );
            }
            other => panic!("{other:?}"),
        }
        let beta = rows[2].as_ref().unwrap();
        assert_eq!(beta.legal_name, "Beta, s.r.o.");
        assert_eq!(beta.features, vec!["ai", "export"]);

        // With the annex, `export` is unknown and reported on the row's line.
        let annex: Annex = toml::from_str(ANNEX).unwrap();
        let rows = customers_for(dir.path().join("c.csv"), &annex).unwrap();
        assert!(rows[0].is_ok());
        match rows[2].as_ref().unwrap_err() {
            LoadError::UnknownFeature {
                at: Some(at),
                feature,
                ..
            } => {
                assert_eq!((at.line, feature.as_str()), (4, "export"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn csv_format_errors() {
        let dir = tempfile::tempdir().unwrap();
        let bad_header = CSV.replacen("legal_name", "legal_nme", 1);
        let err = customers(write(&dir, "h.csv", &bad_header)).unwrap_err();
        assert!(
            err.to_string()
                .contains("unknown column `legal_nme`; did you mean `legal_name`?"),
            "{err}"
        );

        let short = format!("{CSV}gamma,Gamma\n");
        let rows = customers(write(&dir, "s.csv", &short)).unwrap();
        match rows[3].as_ref().unwrap_err() {
            LoadError::CsvFormat { at, message, .. } => {
                assert_eq!(at.line, 5);
                assert!(message.contains("2 fields"), "{message}");
            }
            other => panic!("{other:?}"),
        }

        let dup = format!("{CSV}acme,Again,Street 1,DE,x@y.example,2026-06-01,N,T,\n");
        let rows = customers(write(&dir, "d.csv", &dup)).unwrap();
        let err = rows[3].as_ref().unwrap_err();
        assert!(err.to_string().contains("used twice"), "{err}");
        assert!(
            err.to_string().contains("c.csv:2") || err.to_string().contains("d.csv:2"),
            "{err}"
        );

        let date = CSV.replace("2026-06-02", "02.06.2026");
        let rows = customers(write(&dir, "e.csv", &date)).unwrap();
        assert!(
            matches!(rows[2].as_ref().unwrap_err(), LoadError::CsvRow { field, .. } if field == "effective")
        );
    }

    #[test]
    fn a_folder_loads_sorted_and_reports_each_file() {
        let dir = tempfile::tempdir().unwrap();
        write(&dir, "b.toml", &CUSTOMER.replace("\"acme\"", "\"beta\""));
        write(&dir, "a.toml", CUSTOMER);
        write(&dir, "c.toml", &CUSTOMER.replace("\"acme\"", "\"Bad\""));
        write(&dir, "d.toml", CUSTOMER);
        write(&dir, "notes.txt", "not a customer");
        let rows = customers(dir.path()).unwrap();
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[0].as_ref().unwrap().id, "acme");
        assert_eq!(rows[1].as_ref().unwrap().id, "beta");
        assert!(
            rows[2]
                .as_ref()
                .unwrap_err()
                .to_string()
                .contains("c.toml:1:6")
        );
        let dup = rows[3].as_ref().unwrap_err().to_string();
        assert!(
            dup.contains("d.toml:1:6") && dup.contains("a.toml:1:6"),
            "{dup}"
        );

        let empty = tempfile::tempdir().unwrap();
        assert!(matches!(
            customers(empty.path()),
            Err(LoadError::Folder { .. })
        ));
        assert!(matches!(
            customers("no/such/dir"),
            Err(LoadError::NotFound { .. })
        ));
    }

    #[test]
    fn crlf_line_ends_do_not_change_an_annex() {
        let with_description = ANNEX.replace(
            "title = \"Subprocessors\"",
            "title = \"Subprocessors\"\ndescription = \"\"\"\nFirst line\nsecond line\"\"\"",
        );
        let unix = load_annex(&with_description).unwrap();
        let windows = load_annex(&with_description.replace('\n', "\r\n")).unwrap();
        assert_eq!(unix, windows);
        assert_eq!(
            unix.sections[0].description.as_deref(),
            Some("First line\nsecond line")
        );
        assert_eq!(
            crate::annex::fingerprint(&unix),
            crate::annex::fingerprint(&windows)
        );
    }

    #[test]
    fn right_to_left_text_is_refused_with_its_character() {
        for (name, code) in [("חברה", "U+05D7"), ("شركة", "U+0634"), ("Acme ﷲ", "U+FDF2")]
        {
            let text = CUSTOMER.replace("Acme Sp. z o.o.", name);
            let (_dir, result) = load_customer(&text);
            let message = result.unwrap_err().to_string();
            assert!(message.contains("`legal_name`: is written in a right-to-left script"));
            assert!(message.contains(code), "{message}");
        }
        // Latin, Greek and Cyrillic stay allowed.
        let text = CUSTOMER.replace("Acme Sp. z o.o.", "Ακμή Λτδ / Акме ООО");
        assert!(load_customer(&text).1.is_ok());
    }

    #[test]
    fn echoed_values_cannot_drive_the_terminal() {
        let text = CUSTOMER.replace("id = \"acme\"", "id = \"\\u001b[31mred\\u202Eevil\"");
        let message = load_customer(&text).1.unwrap_err().to_string();
        assert!(
            !message.contains('\u{1b}') && !message.contains('\u{202E}'),
            "{message:?}"
        );
        assert!(message.contains("`\\u{1b}[31mred\\u{202e}evil` is not a valid customer id"));
        let text = CUSTOMER.replace("legal_name", "\"legal\\u0007name\"");
        let message = load_customer(&text).1.unwrap_err().to_string();
        assert!(!message.contains('\u{7}'), "{message:?}");
    }

    #[test]
    fn line_and_column_count_characters() {
        assert_eq!(line_col("ab\ncdé f", 0), (1, 1));
        assert_eq!(line_col("ab\ncdé f", 3), (2, 1));
        assert_eq!(line_col("ab\ncdé f", "ab\ncdé ".len()), (2, 5));
    }

    #[test]
    fn invisible_and_bidi_characters_are_refused_in_every_field_by_code_point() {
        for (c, code) in [
            ('\u{200B}', "U+200B"),
            ('\u{2060}', "U+2060"),
            ('\u{FEFF}', "U+FEFF"),
            ('\u{2028}', "U+2028"),
            ('\u{FE0F}', "U+FE0F"),
        ] {
            let text = ANNEX.replace("\"Model Co\"", &format!("\"Model{c}Co\""));
            let (field, line, message) = invalid_at(load_annex(&text).unwrap_err());
            assert_eq!((field.as_str(), line), ("section[1].entry[2].name", 14));
            assert!(
                message.contains(&format!("invisible character {code}")),
                "{message}"
            );
        }
        let text = ANNEX.replace("\"Germany\"", "\"Germany\\u202E\"");
        let (field, _, message) = invalid_at(load_annex(&text).unwrap_err());
        assert_eq!(field, "section[1].entry[1].location");
        assert!(
            message.contains("bidirectional formatting character U+202E"),
            "{message}"
        );
        // A field the explicit rules do not name is checked too.
        let text = CUSTOMER.replace(
            "title = \"Prezes Zarządu\"",
            "title = \"Prezes\\u200DZarządu\"",
        );
        let (field, _, _) = invalid_at(load_customer(&text).1.unwrap_err());
        assert_eq!(field, "signatory.title");
    }

    #[test]
    fn nfd_text_loads_as_nfc_with_the_same_fingerprint() {
        let nfc = ANNEX.replace("\"Germany\"", "\"Köln, Deutschland\"");
        let nfd = ANNEX.replace("\"Germany\"", "\"Ko\u{0308}ln, Deutschland\"");
        assert_ne!(nfc, nfd);
        let (a, b) = (load_annex(&nfc).unwrap(), load_annex(&nfd).unwrap());
        assert_eq!(a, b);
        assert_eq!(a.sections[0].entries[0].location, "Köln, Deutschland");
        assert_eq!(crate::annex::fingerprint(&a), crate::annex::fingerprint(&b));
        // Also from a CSV row.
        let dir = tempfile::tempdir().unwrap();
        let csv = CSV.replace("Hauptstraße", "Hauptstrasse Ko\u{0308}ln");
        let rows = customers(write(&dir, "c.csv", &csv)).unwrap();
        assert!(rows[0].as_ref().unwrap().address.contains("Köln"));
    }

    #[test]
    fn names_equal_after_case_folding_or_looking_alike_in_another_script_are_duplicates() {
        // "STRASSE" and "straße" fold to the same name.
        let text = ANNEX
            .replace("\"Host\"", "\"Strasse Hosting\"")
            .replace("\"Model Co\"", "\"STRAßE hosting\"");
        let (field, _, message) = invalid_at(load_annex(&text).unwrap_err());
        assert_eq!(field, "section[1].entry[2].name");
        assert!(message.contains("listed twice"), "{message}");
        // A Cyrillic С (U+0421) in place of a Latin C.
        let text = ANNEX
            .replace("\"Host\"", "\"Clickwise\"")
            .replace("\"Model Co\"", "\"\\u0421lickwise\"");
        let (field, _, message) = invalid_at(load_annex(&text).unwrap_err());
        assert_eq!(field, "section[1].entry[2].name");
        assert!(
            message.contains("looks the same as `Clickwise`"),
            "{message}"
        );
        assert!(message.contains("U+0421 Cyrillic"), "{message}");
        // Two different Latin names that only resemble each other are fine.
        let text = ANNEX
            .replace("\"Host\"", "\"Modern\"")
            .replace("\"Model Co\"", "\"Modem\"");
        assert!(load_annex(&text).is_ok());
    }

    #[test]
    fn an_annex_over_the_provider_limit_is_refused() {
        let mut text = String::from(ANNEX);
        for i in 0..rules::MAX_PROVIDERS {
            text.push_str(&format!(
                "\n[[section.entry]]\nname = \"P{i}\"\nfunction = \"F\"\nlocation = \"L\"\n"
            ));
        }
        let (_, _, message) = invalid_at(load_annex(&text).unwrap_err());
        assert!(message.contains("at most 2000"), "{message}");
    }
}
