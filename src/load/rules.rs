//! Domain rules: what a loaded vendor, annex or customer must satisfy beyond its types.
//!
//! In: a model value. Out: `Ok`, or the first [`Problem`] (field path, message, hint),
//! which the caller ties to a file position. The rules are listed in the `load` module's
//! documentation.
//!
//! Text rules apply to every string of a value, found by walking its serialised form, so
//! a field added to the model is checked without a line here: not blank; no control,
//! bidirectional-formatting or invisible characters (named by code point); no
//! right-to-left script; line breaks only in the multi-line fields ([`MULTILINE`]).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use super::error::printable;
use super::source::{Seg, key};
use crate::model::{Activation, Annex, Customer, Signatory, Vendor};

/// The fields whose values may span lines (a multi-line TOML string is natural there);
/// the template joins their lines.
pub const MULTILINE: [&str; 3] = ["address", "description", "legal_address"];

/// The most providers an annex may list (a real list has tens; this bounds the document).
pub const MAX_PROVIDERS: usize = 2000;

/// A value that breaks a rule, before it is tied to a file position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: Vec<Seg>,
    pub message: String,
    pub hint: Option<String>,
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

/// Text that must not be blank and must not hold control, bidirectional-formatting or
/// invisible characters, nor right-to-left letters; line breaks only when `multiline`.
pub fn check_text(path: Vec<Seg>, value: &str, multiline: bool) -> Result<(), Problem> {
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
        if c.is_control() {
            return Err(problem(
                path,
                format!("contains the control character U+{:04X}", c as u32),
                Some("retype the value; such characters are invisible in the document"),
            ));
        }
        if is_bidi_control(c) {
            return Err(problem(
                path,
                format!(
                    "contains the bidirectional formatting character U+{:04X}, which can make \
                     the text read differently from what is stored",
                    c as u32
                ),
                Some("retype the value without it"),
            ));
        }
        if is_invisible(c) {
            return Err(problem(
                path,
                format!(
                    "contains the invisible character U+{:04X}, which would make two \
                     different values look the same",
                    c as u32
                ),
                Some(
                    "retype the value; copying from web pages and word processors brings such characters along",
                ),
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

/// Checks every string of a model value with [`check_text`], whatever its field: the
/// explicit rules name the fields they know, this catches the rest.
pub fn check_all_text(value: &impl Serialize) -> Result<(), Problem> {
    fn walk(value: &Value, path: &mut Vec<Seg>) -> Result<(), Problem> {
        match value {
            Value::String(s) => {
                let multiline = path.iter().rev().find_map(|s| match s {
                    Seg::Key(k) => Some(MULTILINE.contains(&k.as_str())),
                    Seg::Index(_) => None,
                });
                let multiline = multiline.unwrap_or(false);
                // Printable ASCII breaks none of `check_text`'s rules but emptiness, and
                // most values are just that: they pass here without a copy of the path
                // (copying it for every string of an annex cost ~2 M instructions a run).
                let printable = s
                    .bytes()
                    .all(|b| matches!(b, b' '..=b'~') || (multiline && b == b'\n'));
                if printable && !s.trim().is_empty() {
                    return Ok(());
                }
                check_text(path.clone(), s, multiline)
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    path.push(Seg::Index(i));
                    walk(item, path)?;
                    path.pop();
                }
                Ok(())
            }
            Value::Object(map) => {
                for (k, v) in map {
                    // Model names for the file's keys: `sections` is `section` in the file.
                    path.push(key(file_key(k)));
                    walk(v, path)?;
                    path.pop();
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
    match serde_json::to_value(value) {
        Ok(v) => walk(&v, &mut Vec::new()),
        Err(_) => Ok(()),
    }
}

/// The key in the file of a serialised model field (they differ only for lists of tables).
fn file_key(k: &str) -> &str {
    match k {
        "sections" => "section",
        "entries" => "entry",
        other => other,
    }
}

/// Characters that print as nothing: Unicode's format characters (general category Cf:
/// zero-width spaces and joiners, word joiner, byte order mark, soft hyphen, ...), line and
/// paragraph separators, and the other default-ignorable code points (variation
/// selectors, Hangul fillers, combining grapheme joiner, ...).
pub fn is_invisible(c: char) -> bool {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
    matches!(
        c.general_category(),
        GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
    ) || matches!(c,
        '\u{034F}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
            | '\u{180B}'..='\u{180F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FFA0}'
            | '\u{E0000}'..='\u{E0FFF}')
}

/// Makes CRLF line ends inside a multi-line value LF: TOML keeps them as written, and
/// the same annex saved on Windows must keep its fingerprint.
pub fn unix_newlines(text: &mut String) {
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

pub fn is_bidi_control(c: char) -> bool {
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

pub fn is_email(value: &str) -> bool {
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

pub fn check_vendor(v: &Vendor) -> Result<(), Problem> {
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
    check_signatory(&[key("signatory")], &v.signatory)?;
    if let Some(p) = &v.processing {
        let processing = || vec![key("processing")];
        check_email(
            [processing(), vec![key("contact"), key("email")]].concat(),
            &p.contact.email,
        )?;
        for (name, rep) in [
            ("eu_representative", &p.eu_representative),
            ("uk_representative", &p.uk_representative),
        ] {
            if let Some(rep) = rep {
                check_email(
                    [processing(), vec![key(name), key("email")]].concat(),
                    &rep.email,
                )?;
            }
        }
    }
    check_all_text(v)
}

pub fn check_annex(a: &Annex) -> Result<(), Problem> {
    check_text(vec![key("vendor")], &a.vendor, false)?;
    check_version(vec![key("version")], &a.version)?;
    let providers: usize = a.sections.iter().map(|s| s.entries.len()).sum();
    if providers > MAX_PROVIDERS {
        return Err(problem(
            vec![],
            format!("the annex lists {providers} providers; at most {MAX_PROVIDERS} are accepted"),
            Some("check that this is the subprocessor list; README lists the limits"),
        ));
    }
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
            if let Some(first) = seen.insert(name_key(&e.name), j) {
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
            if let Some((first, other)) = looks_like(&section.entries[..j], &e.name) {
                return Err(problem(
                    at(&ep, key("name")),
                    format!(
                        "`{}` looks the same as `{}` (entry[{}]) but is spelled with letters of \
                         another script ({})",
                        e.name,
                        other,
                        first + 1,
                        foreign_letters(&e.name, other)
                    ),
                    Some(
                        "write the name in one script; if both are the same provider, merge the entries",
                    ),
                ));
            }
        }
    }
    check_all_text(a)
}

/// The key under which two provider names count as the same: NFC (done at load), case
/// folded, spaces collapsed.
pub fn name_key(name: &str) -> String {
    let folded: String = caseless::default_case_fold_str(name);
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An earlier entry whose name looks the same as `name` (equal confusable skeletons,
/// Unicode TR 39) although it is written with letters of other scripts, e.g. a Cyrillic
/// `С` in `Сlickwise`. Names in one script that only resemble each other (`rn` and `m`)
/// are different names, not look-alikes.
fn looks_like<'a>(earlier: &'a [crate::model::Entry], name: &str) -> Option<(usize, &'a str)> {
    let skeleton = |s: &str| -> String { unicode_security::skeleton(&name_key(s)).collect() };
    let mine = skeleton(name);
    earlier.iter().enumerate().find_map(|(i, e)| {
        (scripts(&e.name) != scripts(name) && skeleton(&e.name) == mine)
            .then_some((i, e.name.as_str()))
    })
}

/// The scripts of a name's letters (Common and Inherited characters left out).
fn scripts(name: &str) -> BTreeSet<String> {
    use unicode_script::{Script, UnicodeScript};
    name.chars()
        .map(|c| c.script())
        .filter(|s| !matches!(s, Script::Common | Script::Inherited))
        .map(|s| s.full_name().to_string())
        .collect()
}

/// The letters of `name` in scripts that `other` does not use, by code point.
fn foreign_letters(name: &str, other: &str) -> String {
    use unicode_script::UnicodeScript;
    let theirs = scripts(other);
    let mut out: Vec<String> = name
        .chars()
        .filter(|c| c.is_alphabetic() && !theirs.contains(c.script().full_name()))
        .map(|c| format!("U+{:04X} {} '{c}'", c as u32, c.script().full_name()))
        .collect();
    out.dedup();
    out.join(", ")
}

pub fn check_customer(c: &Customer) -> Result<(), Problem> {
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
    check_signatory(&[key("signatory")], &c.signatory)?;
    check_all_text(c)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The message of the problem `check_all_text` finds in `value`, if any.
    fn found(value: serde_json::Value) -> Option<String> {
        check_all_text(&value).err().map(|p| p.message)
    }

    #[test]
    fn every_string_is_checked_whatever_its_field() {
        assert_eq!(
            found(json!({"a": ["Plain ASCII, ok."], "address": "1 Road\nTown"})),
            None
        );
        assert_eq!(found(json!({"name": "Müller & Söhne"})), None);
        // The printable-ASCII shortcut must still see each of these.
        for (value, message) in [
            (json!({"x": [" \t "]}), "must not be empty"),
            (json!({"x": ""}), "must not be empty"),
            (json!({"x": "two\nlines"}), "must be on one line"),
            (json!({"x": "tab\there"}), "control character U+0009"),
            (json!({"x": "del\u{7f}"}), "control character U+007F"),
            (
                json!({"address": "carriage\rreturn"}),
                "control character U+000D",
            ),
            (
                json!({"x": "zero\u{200b}width"}),
                "invisible character U+200B",
            ),
            (
                json!({"x": "bidi\u{202e}"}),
                "bidirectional formatting character U+202E",
            ),
        ] {
            let got = found(value.clone()).unwrap_or_default();
            assert!(got.contains(message), "{value}: {got:?}");
        }
    }
}
