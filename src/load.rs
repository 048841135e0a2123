//! Files -> model: reads vendor, annex, customer and `dpa.toml` files and validates them.
//!
//! In: paths to TOML files, a folder of customer TOML files or a customer CSV file.
//! Out: the `model` types, or a [`LoadError`] that names the file, the line and column,
//! the field path and, where it helps, a hint on how to fix it.
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
//! - websites (and the vendor's `subprocessors_url`): `http://` or `https://` followed by a host;
//! - `transfer_mechanism` and `remarks` items: one-line text, each item once;
//! - names, titles and other text: not blank; no control characters and no bidirectional
//!   formatting characters (they can make a printed name read differently from the
//!   stored one). Line breaks are allowed only in addresses and section descriptions,
//!   where a multi-line TOML string is natural; the template joins them into one line;
//! - an annex lists at least one provider, every section has entries, a provider name
//!   appears once per section, an opt-in entry names its `feature`, an entry that is
//!   always used names none;
//! - `notice_days` is at least 1.

// Errors carry their file, position, field and hint; they are made once per bad input,
// so their size does not matter next to the file I/O around them.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs;
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::de::DeserializeOwned;
use thiserror::Error;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::model::{Activation, Annex, Config, Customer, Signatory, Vendor};

/// Which kind of input file an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Vendor,
    Annex,
    Customer,
    Customers,
    Config,
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FileKind::Vendor => "vendor",
            FileKind::Annex => "annex",
            FileKind::Customer => "customer",
            FileKind::Customers => "customer list",
            FileKind::Config => "config",
        })
    }
}

impl FileKind {
    fn missing_hint(self) -> &'static str {
        match self {
            FileKind::Vendor => "check `vendor` in dpa.toml or pass --vendor",
            FileKind::Annex => "check `annex` in dpa.toml or pass --annex",
            FileKind::Customer => "check the path given to --customer",
            FileKind::Customers => {
                "pass --customers with a CSV file or a folder of customer .toml files"
            }
            FileKind::Config => "run dpa in the folder that holds dpa.toml, or pass --config",
        }
    }
}

/// A place in an input file: path, 1-based line and, when known, 1-based column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub path: PathBuf,
    pub line: usize,
    pub column: Option<usize>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path == Path::new(STDIN) {
            "<stdin>".into()
        } else {
            crate::untrusted::escape(&self.path.to_string_lossy()).into_owned()
        };
        write!(f, "{path}:{}", self.line)?;
        if let Some(column) = self.column {
            write!(f, ":{column}")?;
        }
        Ok(())
    }
}

/// Why an input could not be loaded.
#[derive(Debug, Error)]
pub enum LoadError {
    #[error("{kind} file {} not found", path.display())]
    NotFound { kind: FileKind, path: PathBuf },

    #[error("cannot read {kind} file {}: {source}", path.display())]
    Read {
        kind: FileKind,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("{at}: not valid TOML: {message}")]
    Syntax { at: Location, message: String },

    #[error("{at}: unknown field `{field_path}`{}", did_you_mean(suggestion))]
    UnknownField {
        at: Location,
        /// The path of the unknown field, e.g. `signatory.nmae`.
        field_path: String,
        /// The fields allowed in that place.
        expected: Vec<String>,
        suggestion: Option<String>,
    },

    #[error("{at}: missing field `{field_path}`")]
    MissingField { at: Location, field_path: String },

    #[error("{at}: `{field_path}`: {message}{}", did_you_mean(suggestion))]
    WrongValue {
        at: Location,
        field_path: String,
        /// The parser's words, e.g. "invalid type: integer `4`, expected a string".
        message: String,
        suggestion: Option<String>,
    },

    #[error("{at}: `{field_path}`: {message}")]
    Invalid {
        at: Location,
        field_path: String,
        message: String,
        hint: Option<String>,
    },

    #[error("{at}: {message}")]
    CsvFormat {
        at: Location,
        message: String,
        hint: Option<String>,
    },

    #[error("{at}: customer `{}`: `{field}`: {message}", customer.as_deref().unwrap_or("(no id)"))]
    CsvRow {
        at: Location,
        /// The row's `id` column, when it has one.
        customer: Option<String>,
        /// The CSV column, e.g. `signatory_name`.
        field: String,
        message: String,
        hint: Option<String>,
    },

    #[error("{}customer `{customer}`: unknown feature `{feature}`; the annex {annex_version} knows: {}",
        at.as_ref().map(|a| format!("{a}: ")).unwrap_or_default(),
        if known.is_empty() { "no opt-in features".to_string() } else { known.join(", ") })]
    UnknownFeature {
        at: Option<Location>,
        customer: String,
        feature: String,
        annex_version: String,
        known: Vec<String>,
    },

    #[error("the annex is for `{annex_vendor}`, but the vendor file is for `{vendor}`")]
    VendorMismatch {
        annex_vendor: String,
        vendor: String,
    },

    #[error("{}: {message}", path.display())]
    Folder { path: PathBuf, message: String },
}

fn did_you_mean(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!("; did you mean `{s}`?"),
        None => String::new(),
    }
}

impl LoadError {
    /// A line for the user on how to fix the input, when there is one.
    pub fn hint(&self) -> Option<String> {
        match self {
            LoadError::NotFound { kind, .. } => Some(kind.missing_hint().to_string()),
            LoadError::UnknownField { expected, .. } => Some(format!(
                "the fields allowed here are: {}",
                expected.join(", ")
            )),
            LoadError::MissingField { .. } => {
                Some("add the field; DESIGN.md lists the file formats".to_string())
            }
            LoadError::WrongValue { message, .. } => Some(if message.contains("a date") {
                "write a date without quotes as YYYY-MM-DD, e.g. `effective = 2026-06-01`"
                    .to_string()
            } else {
                "write text in \"quotes\", numbers and true/false without quotes, dates as \
                 YYYY-MM-DD and lists in [ ]; DESIGN.md lists the file formats"
                    .to_string()
            }),
            LoadError::Invalid { hint, .. }
            | LoadError::CsvFormat { hint, .. }
            | LoadError::CsvRow { hint, .. } => hint.clone(),
            LoadError::UnknownFeature { known, .. } => Some(if known.is_empty() {
                "remove the feature from the customer's `features`".to_string()
            } else {
                "a feature must match the `feature` of an opt-in entry in the annex".to_string()
            }),
            LoadError::VendorMismatch { .. } => {
                Some("pass the annex and the vendor file of the same vendor".to_string())
            }
            _ => None,
        }
    }

    /// The customer id the error is about, when known.
    pub fn customer(&self) -> Option<&str> {
        match self {
            LoadError::CsvRow { customer, .. } => customer.as_deref(),
            LoadError::UnknownFeature { customer, .. } => Some(customer),
            _ => None,
        }
    }
}

/// Loads and validates `vendor.toml`.
pub fn vendor(path: impl AsRef<Path>) -> Result<Vendor, LoadError> {
    let source = Source::read(path.as_ref(), FileKind::Vendor)?;
    let mut vendor: Vendor = source.parse()?;
    unix_newlines(&mut vendor.address);
    check_vendor(&vendor).map_err(|p| source.invalid(p))?;
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
    check_annex(&annex).map_err(|p| source.invalid(p))?;
    Ok(annex)
}

/// Loads and validates one `customer.toml`.
pub fn customer(path: impl AsRef<Path>) -> Result<Customer, LoadError> {
    let source = Source::read(path.as_ref(), FileKind::Customer)?;
    source.customer(None)
}

/// Loads one `customer.toml` and checks its features against the annex, with locations.
pub fn customer_for(path: impl AsRef<Path>, annex: &Annex) -> Result<Customer, LoadError> {
    let source = Source::read(path.as_ref(), FileKind::Customer)?;
    source.customer(Some(annex))
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
        out: resolve(config.out),
    })
}

/// Loads many customers from a folder of `*.toml` files (sorted by file name) or a CSV file.
///
/// The outer error is for the whole input (unreadable, empty, bad CSV header); each
/// customer gets its own result so a batch can report a bad one and go on. A customer
/// whose id repeats an earlier one is an error, since the id names the output folder.
pub fn customers(path: impl AsRef<Path>) -> Result<Vec<Result<Customer, LoadError>>, LoadError> {
    load_customers(path.as_ref(), None)
}

/// Like [`customers`], and checks each customer's features against the annex.
pub fn customers_for(
    path: impl AsRef<Path>,
    annex: &Annex,
) -> Result<Vec<Result<Customer, LoadError>>, LoadError> {
    load_customers(path.as_ref(), Some(annex))
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

// ---------------------------------------------------------------------------------------
// Field paths and validation problems

/// One step of a field path: a table key or a 0-based array index.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Key(String),
    Index(usize),
}

fn key(k: &str) -> Seg {
    Seg::Key(k.to_string())
}

fn path_text(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            // Shown from 1: "section[1]" is the first section a reader sees.
            Seg::Index(i) => out.push_str(&format!("[{}]", i + 1)),
        }
    }
    printable(&out)
}

/// A value that breaks a rule, before it is tied to a file position.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Problem {
    path: Vec<Seg>,
    message: String,
    hint: Option<String>,
}

fn problem(path: Vec<Seg>, message: impl Into<String>, hint: Option<&str>) -> Problem {
    Problem {
        path,
        message: printable(&message.into()),
        hint: hint.map(str::to_string),
    }
}

fn at(path: &[Seg], more: Seg) -> Vec<Seg> {
    let mut p = path.to_vec();
    p.push(more);
    p
}

/// Text that must not be blank and must not hold control or bidi characters.
fn check_text(path: Vec<Seg>, value: &str, multiline: bool) -> Result<(), Problem> {
    if value.trim().is_empty() {
        return Err(problem(path, "must not be empty", None));
    }
    for (i, c) in value.char_indices() {
        let newline = c == '\n' || (c == '\r' && value[i + 1..].starts_with('\n'));
        if newline && multiline {
            continue;
        }
        if newline {
            return Err(problem(
                path,
                "must be on one line",
                Some("remove the line break; only addresses and descriptions may span lines"),
            ));
        }
        if c.is_control() || is_bidi_control(c) {
            return Err(problem(
                path,
                format!("contains the control character U+{:04X}", c as u32),
                Some("retype the value; such characters are invisible in the document"),
            ));
        }
        if is_right_to_left(c) {
            return Err(problem(
                path,
                format!(
                    "is written in a right-to-left script (U+{:04X} '{c}'); documents are set \
                     left to right only, so it would print reversed",
                    c as u32
                ),
                Some(
                    "write the value in Latin letters, e.g. as the commercial register transliterates it",
                ),
            ));
        }
    }
    Ok(())
}

/// Makes CRLF line ends inside a multi-line value LF: TOML keeps them as written, and
/// the same annex saved on Windows must keep its fingerprint.
fn unix_newlines(text: &mut String) {
    if text.contains("\r\n") {
        *text = text.replace("\r\n", "\n");
    }
}

/// Letters of the right-to-left scripts (Hebrew, Arabic, Syriac, Thaana, N'Ko and the
/// historic ones), which the layout would set in the wrong order.
fn is_right_to_left(c: char) -> bool {
    matches!(c,
        '\u{0590}'..='\u{08FF}'
            | '\u{FB1D}'..='\u{FDFF}'
            | '\u{FE70}'..='\u{FEFC}'
            | '\u{10800}'..='\u{10FFF}'
            | '\u{1E800}'..='\u{1EFFF}')
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn check_signatory(path: &[Seg], s: &Signatory) -> Result<(), Problem> {
    check_text(at(path, key("name")), &s.name, false)?;
    check_text(at(path, key("title")), &s.title, false)
}

fn check_email(path: Vec<Seg>, value: &str) -> Result<(), Problem> {
    check_text(path.clone(), value, false)?;
    if is_email(value) {
        Ok(())
    } else {
        Err(problem(
            path,
            format!("`{value}` is not an e-mail address"),
            Some("write it like privacy@example.com"),
        ))
    }
}

fn is_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && !local
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "@<>()[]\\,;:\"".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| !tld.chars().all(|c| c.is_ascii_digit()));
    local_ok && domain_ok
}

fn check_website(path: Vec<Seg>, value: &str) -> Result<(), Problem> {
    check_text(path.clone(), value, false)?;
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) => Ok(()),
        _ => Err(problem(
            path,
            format!("`{value}` is not a web address"),
            Some("write the full address, e.g. https://example.com"),
        )),
    }
}

/// Customer ids name output folders, so they must be safe as a file name everywhere.
fn check_customer_id(path: Vec<Seg>, id: &str) -> Result<(), Problem> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && !id.starts_with('-')
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(problem(
            path,
            format!("`{id}` is not a valid customer id"),
            Some(
                "use 1 to 64 lowercase letters a-z, digits and `-`, not starting with `-`, e.g. `mueller-soehne`",
            ),
        ))
    }
}

fn check_feature_name(path: Vec<Seg>, name: &str) -> Result<(), Problem> {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(problem(
            path,
            format!("`{name}` is not a valid feature name"),
            Some("use lowercase letters a-z, digits and `-`, e.g. `ai`"),
        ))
    }
}

fn check_version(path: Vec<Seg>, version: &str) -> Result<(), Problem> {
    let ok = !version.is_empty()
        && version.len() <= 64
        && !version.starts_with('.')
        && !version.contains("..")
        && version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(problem(
            path,
            format!("`{version}` is not a valid annex version"),
            Some(
                "use letters, digits, `.`, `_` and `-` (not starting with `.`, no `..`), e.g. `2026-05-26`",
            ),
        ))
    }
}

fn check_vendor(v: &Vendor) -> Result<(), Problem> {
    check_text(vec![key("legal_name")], &v.legal_name, false)?;
    check_text(vec![key("address")], &v.address, true)?;
    check_email(vec![key("email")], &v.email)?;
    check_website(vec![key("website")], &v.website)?;
    if v.notice_days == 0 {
        return Err(problem(
            vec![key("notice_days")],
            "must be at least 1",
            Some("give the number of days' notice before a subprocessor change, e.g. 30"),
        ));
    }
    if let Some(law) = &v.governing_law {
        check_text(vec![key("governing_law")], law, false)?;
    }
    if let Some(url) = &v.subprocessors_url {
        check_website(vec![key("subprocessors_url")], url)?;
    }
    check_signatory(&[key("signatory")], &v.signatory)
}

fn check_annex(a: &Annex) -> Result<(), Problem> {
    check_text(vec![key("vendor")], &a.vendor, false)?;
    check_version(vec![key("version")], &a.version)?;
    if a.sections.iter().all(|s| s.entries.is_empty()) {
        return Err(problem(
            vec![],
            "the annex lists no providers",
            Some("add at least one [[section]] with a [[section.entry]]"),
        ));
    }
    for (i, section) in a.sections.iter().enumerate() {
        let sp = vec![key("section"), Seg::Index(i)];
        check_text(at(&sp, key("title")), &section.title, false)?;
        if let Some(d) = &section.description {
            check_text(at(&sp, key("description")), d, true)?;
        }
        if section.entries.is_empty() {
            return Err(problem(
                sp,
                "the section lists no providers",
                Some("add a [[section.entry]] or remove the section"),
            ));
        }
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for (j, e) in section.entries.iter().enumerate() {
            let ep = at(&at(&sp, key("entry")), Seg::Index(j));
            check_text(at(&ep, key("name")), &e.name, false)?;
            check_text(at(&ep, key("function")), &e.function, false)?;
            check_text(at(&ep, key("location")), &e.location, false)?;
            for (k, c) in e.certifications.iter().enumerate() {
                let cp = at(&at(&ep, key("certifications")), Seg::Index(k));
                check_text(cp, c, false)?;
            }
            for (field, list) in [
                ("transfer_mechanism", &e.transfer_mechanism),
                ("remarks", &e.remarks),
            ] {
                for (k, item) in list.iter().enumerate() {
                    check_text(at(&at(&ep, key(field)), Seg::Index(k)), item, false)?;
                    if let Some(first) = list[..k].iter().position(|x| x == item) {
                        return Err(problem(
                            at(&at(&ep, key(field)), Seg::Index(k)),
                            format!("`{item}` is listed twice (also item {})", first + 1),
                            Some(
                                "known mechanisms are written in canonical words, so \"SCCs\" and \"Standard Contractual Clauses\" are the same item; keep one",
                            ),
                        ));
                    }
                }
            }
            if let Some(w) = &e.website {
                check_website(at(&ep, key("website")), w)?;
            }
            if let Some(t) = &e.legal_address {
                check_text(at(&ep, key("legal_address")), t, true)?;
            }
            if let Some(t) = &e.has_access {
                check_text(at(&ep, key("has_access")), t, false)?;
            }
            if let Some(t) = &e.no_access {
                check_text(at(&ep, key("no_access")), t, false)?;
            }
            match (&e.activation, &e.feature) {
                (Activation::OptIn, None) => {
                    return Err(problem(
                        at(&ep, key("feature")),
                        "an opt-in entry must name the customer feature that enables it",
                        Some("add e.g. feature = \"ai\""),
                    ));
                }
                (Activation::Always, Some(_)) => {
                    return Err(problem(
                        at(&ep, key("feature")),
                        "only opt-in and opt-out entries have a feature",
                        Some("add activation = \"opt-in\", or remove the feature"),
                    ));
                }
                (_, Some(f)) => check_feature_name(at(&ep, key("feature")), f)?,
                _ => {}
            }
            let name = e.name.trim().to_lowercase();
            if let Some(first) = seen.insert(name, j) {
                return Err(problem(
                    at(&ep, key("name")),
                    format!(
                        "`{}` is listed twice in this section (also entry[{}])",
                        e.name,
                        first + 1
                    ),
                    Some("merge the two entries into one"),
                ));
            }
        }
    }
    Ok(())
}

fn check_customer(c: &Customer) -> Result<(), Problem> {
    check_customer_id(vec![key("id")], &c.id)?;
    check_text(vec![key("legal_name")], &c.legal_name, false)?;
    check_text(vec![key("address")], &c.address, true)?;
    if !(c.country.len() == 2 && c.country.chars().all(|ch| ch.is_ascii_uppercase())) {
        return Err(problem(
            vec![key("country")],
            format!("`{}` is not a two-letter country code", c.country),
            Some("use the ISO 3166-1 alpha-2 code in capitals, e.g. `DE`, `PL`, `US`"),
        ));
    }
    check_email(vec![key("email")], &c.email)?;
    let mut seen = BTreeSet::new();
    for (i, f) in c.features.iter().enumerate() {
        let fp = vec![key("features"), Seg::Index(i)];
        check_feature_name(fp.clone(), f)?;
        if !seen.insert(f.as_str()) {
            return Err(problem(fp, format!("`{f}` is listed twice"), None));
        }
    }
    check_signatory(&[key("signatory")], &c.signatory)
}

// ---------------------------------------------------------------------------------------
// TOML sources: parsing with positions

/// A TOML file's text, kept so errors found after deserialising still get a line.
struct Source {
    kind: FileKind,
    path: PathBuf,
    text: String,
}

impl Source {
    fn read(path: &Path, kind: FileKind) -> Result<Source, LoadError> {
        let text = read_text(path, kind)?;
        Ok(Source {
            kind,
            path: path.to_path_buf(),
            text,
        })
    }

    fn location(&self, offset: usize) -> Location {
        let (line, column) = line_col(&self.text, offset);
        Location {
            path: self.path.clone(),
            line,
            column: Some(column),
        }
    }

    fn parse<T: DeserializeOwned>(&self) -> Result<T, LoadError> {
        let table = match DeTable::parse(&self.text) {
            Ok(t) => t,
            Err(e) => {
                let offset = e.span().map_or(0, |s| s.start);
                return Err(LoadError::Syntax {
                    at: self.location(offset),
                    message: printable(&e.message().trim().replace('\n', "; ")),
                });
            }
        };
        toml::from_str::<T>(&self.text).map_err(|e| self.classify(&table, &e))
    }

    /// Turns a serde error into the matching variant, with the field path found from spans.
    fn classify(&self, table: &Spanned<DeTable<'_>>, e: &toml::de::Error) -> LoadError {
        let span = e.span().unwrap_or(0..0);
        let at = self.location(span.start);
        let mut path = path_at(table, span.start).unwrap_or_default();
        let message = e.message().to_string();
        let quoted = backticked(&message);
        if let Some(rest) = message.strip_prefix("unknown field ") {
            let field = backticked(rest).into_iter().next().unwrap_or_default();
            let expected: Vec<String> = quoted.into_iter().skip(1).collect();
            // The span is the unknown key itself, so the path already ends with it.
            if path.last() != Some(&Seg::Key(field.clone())) {
                path.push(Seg::Key(field.clone()));
            }
            return LoadError::UnknownField {
                at,
                field_path: path_text(&path),
                suggestion: closest(&field, &expected),
                expected,
            };
        }
        if let Some(rest) = message.strip_prefix("missing field ") {
            let field = backticked(rest).into_iter().next().unwrap_or_default();
            path.push(Seg::Key(field));
            return LoadError::MissingField {
                at,
                field_path: path_text(&path),
            };
        }
        let suggestion = message.strip_prefix("unknown variant ").and_then(|_| {
            let mut words = quoted.clone().into_iter();
            let given = words.next()?;
            closest(&given, &words.collect::<Vec<_>>())
        });
        LoadError::WrongValue {
            at,
            field_path: path_text(&path),
            message: printable(&message),
            suggestion,
        }
    }

    /// Where the value at `path` (or its nearest existing parent) is written.
    fn locate(&self, path: &[Seg]) -> Location {
        let offset = DeTable::parse(&self.text)
            .ok()
            .and_then(|t| span_of(&t, path))
            .map_or(0, |s| s.start);
        self.location(offset)
    }

    /// Ties a validation problem to the line of the value it is about.
    fn invalid(&self, p: Problem) -> LoadError {
        LoadError::Invalid {
            at: self.locate(&p.path),
            field_path: if p.path.is_empty() {
                format!("({} file)", self.kind)
            } else {
                path_text(&p.path)
            },
            message: p.message,
            hint: p.hint,
        }
    }

    fn customer(&self, annex: Option<&Annex>) -> Result<Customer, LoadError> {
        let mut customer: Customer = self.parse()?;
        unix_newlines(&mut customer.address);
        check_customer(&customer).map_err(|p| self.invalid(p))?;
        if let Some(annex) = annex
            && let Some((i, feature)) = unknown_feature(&customer, annex)
        {
            return Err(LoadError::UnknownFeature {
                at: Some(self.locate(&[key("features"), Seg::Index(i)])),
                customer: customer.id.clone(),
                feature: feature.to_string(),
                annex_version: annex.version.clone(),
                known: known_features(annex),
            });
        }
        Ok(customer)
    }
}

/// The path that stands for standard input: `dpa generate --customer -`.
pub const STDIN: &str = "-";

fn read_text(path: &Path, kind: FileKind) -> Result<String, LoadError> {
    let read = |path: &Path| {
        if path == Path::new(STDIN) {
            let mut bytes = Vec::new();
            io::Read::read_to_end(&mut io::stdin().lock(), &mut bytes).map(|_| bytes)
        } else {
            fs::read(path)
        }
    };
    let bytes = read(path).map_err(|source| match source.kind() {
        io::ErrorKind::NotFound => LoadError::NotFound {
            kind,
            path: path.to_path_buf(),
        },
        _ => LoadError::Read {
            kind,
            path: path.to_path_buf(),
            source,
        },
    })?;
    let text = String::from_utf8(bytes).map_err(|e| LoadError::Read {
        kind,
        path: path.to_path_buf(),
        source: io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "not UTF-8 text (bad byte at offset {}); save the file as UTF-8",
                e.utf8_error().valid_up_to()
            ),
        ),
    })?;
    // Editors on Windows like to start UTF-8 files with a byte order mark.
    Ok(text
        .strip_prefix('\u{feff}')
        .map(str::to_string)
        .unwrap_or(text))
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Text from an input file made safe to print: control and bidi characters are shown as
/// `\u{..}` escapes, so a value cannot move the cursor, recolour or reorder the terminal.
fn printable(text: &str) -> String {
    crate::untrusted::escape(text).into_owned()
}

/// The strings between backticks in a serde message, in order.
fn backticked(message: &str) -> Vec<String> {
    message
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// The most similar candidate, if it is similar enough to be a likely typo.
fn closest(given: &str, candidates: &[String]) -> Option<String> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(given, c), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.clone())
}

fn contains(span: &Range<usize>, offset: usize) -> bool {
    span.contains(&offset) || (span.is_empty() && span.start == offset)
}

/// The deepest field path whose key or value covers `offset`.
fn path_at(table: &Spanned<DeTable<'_>>, offset: usize) -> Option<Vec<Seg>> {
    find_in_table(table.get_ref(), offset)
}

fn find_in_table(table: &DeTable<'_>, offset: usize) -> Option<Vec<Seg>> {
    for (k, v) in table.iter() {
        let here = Seg::Key(k.get_ref().to_string());
        // A `[table]`'s value span is only its header, so look inside before deciding.
        if let Some(mut deeper) = find_in_value(v, offset) {
            deeper.insert(0, here);
            return Some(deeper);
        }
        if contains(&k.span(), offset) || contains(&v.span(), offset) {
            return Some(vec![here]);
        }
    }
    None
}

fn find_in_value(value: &Spanned<DeValue<'_>>, offset: usize) -> Option<Vec<Seg>> {
    match value.get_ref() {
        DeValue::Table(t) => find_in_table(t, offset),
        DeValue::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
            if let Some(mut deeper) = find_in_value(item, offset) {
                deeper.insert(0, Seg::Index(i));
                Some(deeper)
            } else if contains(&item.span(), offset) {
                Some(vec![Seg::Index(i)])
            } else {
                None
            }
        }),
        _ => None,
    }
}

/// The span of the value at `path`, or of its nearest existing parent.
fn span_of(table: &Spanned<DeTable<'_>>, path: &[Seg]) -> Option<Range<usize>> {
    let mut best = table.span();
    let mut current: Option<&Spanned<DeValue<'_>>> = None;
    for seg in path {
        let next = match (seg, current.map(Spanned::get_ref)) {
            (Seg::Key(k), None) => lookup(table.get_ref(), k),
            (Seg::Key(k), Some(DeValue::Table(t))) => lookup(t, k),
            (Seg::Index(i), Some(DeValue::Array(a))) => a.get(*i),
            _ => None,
        };
        match next {
            Some(v) => {
                best = v.span();
                current = Some(v);
            }
            None => break,
        }
    }
    Some(best)
}

fn lookup<'a, 'i>(table: &'a DeTable<'i>, k: &str) -> Option<&'a Spanned<DeValue<'i>>> {
    table
        .iter()
        .find(|(key, _)| key.get_ref() == k)
        .map(|(_, v)| v)
}

// ---------------------------------------------------------------------------------------
// Many customers: a folder of TOML files or one CSV file

const CSV_COLUMNS: [&str; 9] = [
    "id",
    "legal_name",
    "address",
    "country",
    "email",
    "effective",
    "signatory_name",
    "signatory_title",
    "features",
];

fn load_customers(
    path: &Path,
    annex: Option<&Annex>,
) -> Result<Vec<Result<Customer, LoadError>>, LoadError> {
    if path == Path::new(STDIN) {
        // Standard input can only be a CSV list; a folder has no stream form.
        return check_duplicates(from_csv(path, annex)?);
    }
    let meta = fs::metadata(path).map_err(|source| match source.kind() {
        io::ErrorKind::NotFound => LoadError::NotFound {
            kind: FileKind::Customers,
            path: path.to_path_buf(),
        },
        _ => LoadError::Read {
            kind: FileKind::Customers,
            path: path.to_path_buf(),
            source,
        },
    })?;
    // (customer or error, where its id is written) in input order.
    let loaded: Vec<(Result<Customer, LoadError>, Option<Location>)> = if meta.is_dir() {
        from_folder(path, annex)?
    } else {
        from_csv(path, annex)?
    };
    check_duplicates(loaded)
}

/// Marks every customer whose id an earlier one already used as an error.
fn check_duplicates(loaded: Loaded) -> Result<Vec<Result<Customer, LoadError>>, LoadError> {
    let mut seen: BTreeMap<String, Option<Location>> = BTreeMap::new();
    let mut out = Vec::with_capacity(loaded.len());
    for (result, where_id) in loaded {
        let result = match result {
            Ok(c) => match seen.get(&c.id) {
                Some(first) => Err(duplicate_id(&c.id, first.as_ref(), where_id)),
                None => {
                    seen.insert(c.id.clone(), where_id);
                    Ok(c)
                }
            },
            Err(e) => Err(e),
        };
        out.push(result);
    }
    Ok(out)
}

fn duplicate_id(id: &str, first: Option<&Location>, here: Option<Location>) -> LoadError {
    let also = first.map_or(String::new(), |l| format!(" (also at {l})"));
    let message = format!("the id `{id}` is used twice{also}");
    let hint = Some("each customer needs its own id: it names the output folder".to_string());
    let at = here.unwrap_or(Location {
        path: PathBuf::new(),
        line: 1,
        column: None,
    });
    if at.column.is_none() {
        LoadError::CsvRow {
            at,
            customer: Some(id.to_string()),
            field: "id".to_string(),
            message,
            hint,
        }
    } else {
        LoadError::Invalid {
            at,
            field_path: "id".to_string(),
            message,
            hint,
        }
    }
}

type Loaded = Vec<(Result<Customer, LoadError>, Option<Location>)>;

fn from_folder(dir: &Path, annex: Option<&Annex>) -> Result<Loaded, LoadError> {
    let read_err = |source| LoadError::Read {
        kind: FileKind::Customers,
        path: dir.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(read_err)? {
        let path = entry.map_err(read_err)?.path();
        if path.extension().is_some_and(|e| e == "toml") && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(LoadError::Folder {
            path: dir.to_path_buf(),
            message: "the folder holds no customer .toml files".to_string(),
        });
    }
    Ok(files
        .into_iter()
        .map(|file| {
            let source = match Source::read(&file, FileKind::Customer) {
                Ok(s) => s,
                Err(e) => return (Err(e), None),
            };
            let result = source.customer(annex);
            let where_id = source.locate(&[key("id")]);
            (result, Some(where_id))
        })
        .collect())
}

fn from_csv(path: &Path, annex: Option<&Annex>) -> Result<Loaded, LoadError> {
    let text = read_text(path, FileKind::Customers)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header_at = Location {
        path: path.to_path_buf(),
        line: 1,
        column: None,
    };
    let csv_error = |e: csv::Error, line: usize| LoadError::CsvFormat {
        at: Location {
            path: path.to_path_buf(),
            line: e.position().map_or(line, |p| p.line() as usize),
            column: None,
        },
        message: printable(&e.to_string()),
        hint: Some("save the sheet as UTF-8 CSV with a header row".to_string()),
    };
    let header = reader.headers().map_err(|e| csv_error(e, 1))?.clone();
    let mut columns: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, name) in header.iter().enumerate() {
        let name = name.trim();
        let expected: Vec<String> = CSV_COLUMNS.iter().map(|c| c.to_string()).collect();
        if !CSV_COLUMNS.contains(&name) {
            return Err(LoadError::CsvFormat {
                at: header_at,
                message: format!(
                    "unknown column `{}`{}",
                    printable(name),
                    did_you_mean(&closest(name, &expected))
                ),
                hint: Some(format!("the header is: {}", CSV_COLUMNS.join(","))),
            });
        }
        if columns.insert(name, i).is_some() {
            return Err(LoadError::CsvFormat {
                at: header_at,
                message: format!("the column `{}` appears twice", printable(name)),
                hint: None,
            });
        }
    }
    // `features` may be left out when no customer enables any.
    if let Some(missing) = CSV_COLUMNS[..8].iter().find(|c| !columns.contains_key(*c)) {
        return Err(LoadError::CsvFormat {
            at: header_at,
            message: format!("missing column `{missing}`"),
            hint: Some(format!("the header is: {}", CSV_COLUMNS.join(","))),
        });
    }
    let mut out = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut last_line = 1;
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record
                    .position()
                    .map_or(last_line + 1, |p| p.line() as usize);
                last_line = line;
                let at = Location {
                    path: path.to_path_buf(),
                    line,
                    column: None,
                };
                let result = csv_customer(&record, &columns, header.len(), &at, annex);
                out.push((result, Some(at)));
            }
            Err(e) => {
                last_line += 1;
                out.push((Err(csv_error(e, last_line)), None));
            }
        }
    }
    if out.is_empty() {
        return Err(LoadError::Folder {
            path: path.to_path_buf(),
            message: "the CSV file has a header but no customers".to_string(),
        });
    }
    Ok(out)
}

fn csv_customer(
    record: &csv::StringRecord,
    columns: &BTreeMap<&str, usize>,
    width: usize,
    at: &Location,
    annex: Option<&Annex>,
) -> Result<Customer, LoadError> {
    let get = |name: &str| -> String {
        columns
            .get(name)
            .and_then(|i| record.get(*i))
            .unwrap_or("")
            .trim()
            .to_string()
    };
    let id = get("id");
    let customer_id = (!id.is_empty()).then(|| printable(&id));
    let row_error = |field: &str, message: String, hint: Option<String>| LoadError::CsvRow {
        at: at.clone(),
        customer: customer_id.clone(),
        field: field.to_string(),
        message,
        hint,
    };
    if record.len() != width {
        return Err(LoadError::CsvFormat {
            at: at.clone(),
            message: format!(
                "this row has {} fields but the header has {width}",
                record.len()
            ),
            hint: Some("put values that contain commas in double quotes".to_string()),
        });
    }
    let effective_text = get("effective");
    let effective = NaiveDate::parse_from_str(&effective_text, "%Y-%m-%d").map_err(|_| {
        row_error(
            "effective",
            format!("expected a date like 2026-06-01, found `{effective_text}`"),
            None,
        )
    })?;
    let features = get("features")
        .split(';')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(str::to_string)
        .collect();
    let customer = Customer {
        id,
        legal_name: get("legal_name"),
        address: get("address").replace("\r\n", "\n"),
        country: get("country"),
        email: get("email"),
        effective,
        features,
        signatory: Signatory {
            name: get("signatory_name"),
            title: get("signatory_title"),
        },
    };
    check_customer(&customer).map_err(|p| {
        // `signatory.name` is the column `signatory_name`; `features[2]` is `features`.
        let column = p
            .path
            .iter()
            .filter_map(|s| match s {
                Seg::Key(k) => Some(k.as_str()),
                Seg::Index(_) => None,
            })
            .collect::<Vec<_>>()
            .join("_");
        row_error(&column, p.message, p.hint)
    })?;
    if let Some(annex) = annex {
        check_features(&customer, annex).map_err(|e| match e {
            LoadError::UnknownFeature {
                customer,
                feature,
                annex_version,
                known,
                ..
            } => LoadError::UnknownFeature {
                at: Some(at.clone()),
                customer,
                feature,
                annex_version,
                known,
            },
            other => other,
        })?;
    }
    Ok(customer)
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
