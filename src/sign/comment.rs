//! The trusted comment that binds a signed PDF to its annex, customer and key.
//!
//! In: the facts of one document. Out: one line,
//! `dpa/1 file=X.pdf sha256=<hex> annex=<version> annex_sha256=<hex> customer=<id> issued=<YYYY-MM-DD> key=<KEYID>`,
//! which minisign signs (the global signature) and prints on verification. Parsing is
//! strict: the fields in this order, single spaces, no extras, every value checked.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use super::{KeyId, SignError};

/// The tag and format version at the start of every dpa trusted comment.
pub const PREFIX: &str = "dpa/1";

/// Trusted comments longer than this are refused; minisign's own limit is about 8 KB.
pub const MAX_LEN: usize = 1024;

/// The signed facts about one document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrustedComment {
    /// The PDF's file name (a name, not a path).
    pub file: String,
    /// Lowercase hex SHA-256 of the PDF.
    pub sha256: String,
    /// The annex version, `[A-Za-z0-9._-]+`.
    pub annex: String,
    /// Lowercase hex annex fingerprint.
    pub annex_sha256: String,
    /// The customer id, `[a-z0-9-]+`.
    pub customer: String,
    /// The DPA's issue date.
    pub issued: NaiveDate,
    /// The id of the signing key.
    pub key: KeyId,
}

/// The fields of a `dpa/1` comment, in their only allowed order.
pub const FIELDS: [&str; 7] = [
    "file",
    "sha256",
    "annex",
    "annex_sha256",
    "customer",
    "issued",
    "key",
];

impl TrustedComment {
    /// Parses a trusted comment, refusing anything that is not exactly the `dpa/1` form.
    pub fn parse(text: &str) -> Result<TrustedComment, SignError> {
        if text.len() > MAX_LEN {
            return Err(fail(format!("longer than {MAX_LEN} bytes")));
        }
        let mut parts = text.split(' ');
        if parts.next() != Some(PREFIX) {
            return Err(fail(format!("does not start with `{PREFIX} `")));
        }
        let mut values: [&str; 7] = [""; 7];
        for (slot, name) in values.iter_mut().zip(FIELDS) {
            let part = parts
                .next()
                .ok_or_else(|| fail(format!("field {name} is missing")))?;
            let value = part
                .strip_prefix(name)
                .and_then(|rest| rest.strip_prefix('='))
                .ok_or_else(|| fail(format!("expected field {name}=, found {part:?}")))?;
            *slot = value;
        }
        if let Some(extra) = parts.next() {
            return Err(fail(format!("unexpected text after key=: {extra:?}")));
        }
        let [file, sha256, annex, annex_sha256, customer, issued, key] = values;
        let comment = TrustedComment {
            file: file.to_string(),
            sha256: sha256.to_string(),
            annex: annex.to_string(),
            annex_sha256: annex_sha256.to_string(),
            customer: customer.to_string(),
            issued: parse_date(issued)?,
            key: key.parse().map_err(fail)?,
        };
        comment.validate()?;
        Ok(comment)
    }

    /// Checks every field, so that the Display form parses back to the same comment.
    pub fn validate(&self) -> Result<(), SignError> {
        check_file_name(&self.file)?;
        check_hex("sha256", &self.sha256)?;
        check_charset("annex", &self.annex, |c| {
            c.is_ascii_alphanumeric() || "._-".contains(c)
        })?;
        check_hex("annex_sha256", &self.annex_sha256)?;
        check_charset("customer", &self.customer, |c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'
        })?;
        if !(0..=9999).contains(&self.issued.year()) {
            return Err(fail(format!(
                "issued year {} is not four digits",
                self.issued.year()
            )));
        }
        let len = self.to_string().len();
        if len > MAX_LEN {
            return Err(fail(format!("{len} bytes, more than {MAX_LEN}")));
        }
        Ok(())
    }
}

impl fmt::Display for TrustedComment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{PREFIX} file={} sha256={} annex={} annex_sha256={} customer={} issued={} key={}",
            self.file,
            self.sha256,
            self.annex,
            self.annex_sha256,
            self.customer,
            self.issued.format("%Y-%m-%d"),
            self.key
        )
    }
}

fn fail(detail: String) -> SignError {
    SignError::Comment { detail }
}

/// A file name as sha256sum and a one-line comment can carry it.
fn check_file_name(name: &str) -> Result<(), SignError> {
    if name.is_empty() || name.len() > 255 {
        return Err(fail("file must be a name of 1 to 255 bytes".into()));
    }
    if name == "." || name == ".." {
        return Err(fail(format!("file={name} is not a file name")));
    }
    // Whitespace would split the comment; backslashes and newlines change sha256sum lines.
    if let Some(bad) = name
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || matches!(c, '/' | '\\'))
    {
        return Err(fail(format!("file name {name:?} contains {bad:?}")));
    }
    Ok(())
}

fn check_hex(field: &str, value: &str) -> Result<(), SignError> {
    if value.len() != 64
        || !value
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(fail(format!(
            "{field} must be 64 lowercase hex digits, found {value:?}"
        )));
    }
    Ok(())
}

fn check_charset(
    field: &str,
    value: &str,
    allowed: impl Fn(char) -> bool,
) -> Result<(), SignError> {
    if value.is_empty() || value.len() > 128 {
        return Err(fail(format!("{field} must be 1 to 128 characters")));
    }
    if let Some(bad) = value.chars().find(|c| !allowed(*c)) {
        return Err(fail(format!("{field}={value:?} contains {bad:?}")));
    }
    Ok(())
}

/// Parses exactly `YYYY-MM-DD`, digits only, a real calendar date.
fn parse_date(text: &str) -> Result<NaiveDate, SignError> {
    let bytes = text.as_bytes();
    let shape_ok = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    let bad = || fail(format!("issued must be a date YYYY-MM-DD, found {text:?}"));
    if !shape_ok {
        return Err(bad());
    }
    // The shape check guarantees ASCII digits at these positions, so slicing is safe.
    let number =
        |range: std::ops::Range<usize>| text.get(range).and_then(|s| s.parse::<u32>().ok());
    let (Some(year), Some(month), Some(day)) = (number(0..4), number(5..7), number(8..10)) else {
        return Err(bad());
    };
    let year = i32::try_from(year).map_err(|_| bad())?;
    NaiveDate::from_ymd_opt(year, month, day).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn example() -> TrustedComment {
        TrustedComment {
            file: "segmetrics-dpa-mueller-soehne-2026-05-26.pdf".into(),
            sha256: "ab".repeat(32),
            annex: "2026-05-26".into(),
            annex_sha256: "0f".repeat(32),
            customer: "mueller-soehne".into(),
            issued: NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
            key: "123456789ABCDEF0".parse().unwrap(),
        }
    }

    #[test]
    fn display_parses_back() {
        let comment = example();
        let text = comment.to_string();
        assert!(
            text.starts_with("dpa/1 file=segmetrics-dpa-mueller-soehne-2026-05-26.pdf sha256=abab")
        );
        assert!(text.ends_with(" customer=mueller-soehne issued=2026-06-01 key=123456789ABCDEF0"));
        assert_eq!(TrustedComment::parse(&text).unwrap(), comment);
    }

    #[test]
    fn strict_parse_refuses_variations() {
        let good = example().to_string();
        let variations = [
            good.replacen("dpa/1", "dpa/2", 1),
            good.replacen(' ', "  ", 1),
            format!("{good} "),
            format!("{good} extra=1"),
            good.replacen("customer=", "client=", 1),
            good.replacen("issued=2026-06-01", "issued=2026-6-01", 1),
            good.replacen("issued=2026-06-01", "issued=2026-02-30", 1),
            good.replacen("key=123456789ABCDEF0", "key=123456789abcdef0", 1),
            good.replacen("key=123456789ABCDEF0", "key=0123456789ABCDEF", 1),
            good.replacen("sha256=abab", "sha256=ABAB", 1),
            good.replacen("customer=mueller-soehne", "customer=Mueller", 1),
            good.replacen("annex=2026-05-26", "annex=", 1),
            String::new(),
            "dpa/1".into(),
        ];
        for text in variations {
            assert!(TrustedComment::parse(&text).is_err(), "accepted {text:?}");
        }
    }

    #[test]
    fn file_names_with_separators_are_refused() {
        for name in ["a b.pdf", "dir/x.pdf", "x\\y.pdf", "..", "x\n.pdf"] {
            let comment = TrustedComment {
                file: name.into(),
                ..example()
            };
            assert!(comment.validate().is_err(), "accepted {name:?}");
        }
    }

    proptest! {
        #[test]
        fn parse_never_panics(text in ".{0,300}") {
            let _ = TrustedComment::parse(&text);
        }

        #[test]
        fn parse_never_panics_near_valid(cut in 0usize..200, junk in "[ -~]{0,8}") {
            let good = example().to_string();
            let end = good.char_indices().map(|(i, _)| i).nth(cut).unwrap_or(good.len());
            let text = format!("{}{junk}", &good[..end]);
            let _ = TrustedComment::parse(&text);
        }
    }
}
