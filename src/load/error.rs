//! Load errors: which file, where in it, which field, what is wrong and how to fix it.
//!
//! In: what the readers, the TOML deserializer and the rules found. Out: [`LoadError`],
//! whose message names the file, line and column and the field path, and whose hint (the
//! [`Hint`](crate::error::Hint) trait) says how to fix the input. Values echoed from an
//! input are passed through [`printable`] so they cannot drive the terminal.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use thiserror::Error;

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
        let path = if self.path == Path::new(super::STDIN) {
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

    #[error("{kind} file {} is larger than {limit} bytes", path.display())]
    TooLarge {
        kind: FileKind,
        path: PathBuf,
        limit: u64,
    },

    #[error("cannot read {kind} file {}", path.display())]
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

impl crate::error::Hint for LoadError {
    fn hint(&self) -> Option<String> {
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
            LoadError::TooLarge { .. } => Some(
                "check that this is the right file; README lists the size limits of the inputs"
                    .to_string(),
            ),
            LoadError::VendorMismatch { .. } => {
                Some("pass the annex and the vendor file of the same vendor".to_string())
            }
            _ => None,
        }
    }
}

impl LoadError {
    /// The customer id the error is about, when known.
    pub fn customer(&self) -> Option<&str> {
        match self {
            LoadError::CsvRow { customer, .. } => customer.as_deref(),
            LoadError::UnknownFeature { customer, .. } => Some(customer),
            _ => None,
        }
    }

    /// Who the error is about, for a batch's report: the customer id, else the file and
    /// line of the input.
    pub fn who(&self) -> String {
        if let Some(id) = self.customer() {
            return id.to_string();
        }
        match self.location() {
            Some(at) => at.to_string(),
            None => match self {
                LoadError::NotFound { path, .. }
                | LoadError::Read { path, .. }
                | LoadError::TooLarge { path, .. }
                | LoadError::Folder { path, .. } => path.display().to_string(),
                _ => "(unknown customer)".to_string(),
            },
        }
    }

    /// Where in an input file the error is, when known.
    pub fn location(&self) -> Option<&Location> {
        match self {
            LoadError::Syntax { at, .. }
            | LoadError::UnknownField { at, .. }
            | LoadError::MissingField { at, .. }
            | LoadError::WrongValue { at, .. }
            | LoadError::Invalid { at, .. }
            | LoadError::CsvFormat { at, .. }
            | LoadError::CsvRow { at, .. } => Some(at),
            LoadError::UnknownFeature { at, .. } => at.as_ref(),
            _ => None,
        }
    }

    /// The message without what [`LoadError::who`] says, so a report that names the
    /// customer (or the row) first does not name it twice.
    pub fn detail(&self) -> String {
        match self {
            LoadError::CsvRow {
                at, field, message, ..
            } if self.customer().is_some() => format!("{at}: `{field}`: {message}"),
            LoadError::CsvRow { field, message, .. } => format!("`{field}`: {message}"),
            LoadError::UnknownFeature {
                at,
                feature,
                annex_version,
                known,
                ..
            } => format!(
                "{}unknown feature `{feature}`; the annex {annex_version} knows: {}",
                at.as_ref().map(|a| format!("{a}: ")).unwrap_or_default(),
                if known.is_empty() {
                    "no opt-in features".to_string()
                } else {
                    known.join(", ")
                }
            ),
            LoadError::Syntax { message, .. } => format!("not valid TOML: {message}"),
            LoadError::UnknownField {
                field_path,
                suggestion,
                ..
            } => format!("unknown field `{field_path}`{}", did_you_mean(suggestion)),
            LoadError::MissingField { field_path, .. } => format!("missing field `{field_path}`"),
            LoadError::WrongValue {
                field_path,
                message,
                suggestion,
                ..
            } => format!("`{field_path}`: {message}{}", did_you_mean(suggestion)),
            LoadError::Invalid {
                field_path,
                message,
                ..
            } => format!("`{field_path}`: {message}"),
            LoadError::CsvFormat { message, .. } => message.clone(),
            LoadError::NotFound { kind, .. } => format!("{kind} file not found"),
            LoadError::Read { kind, source, .. } => format!("cannot read {kind} file: {source}"),
            LoadError::TooLarge { kind, limit, .. } => {
                format!("{kind} file is larger than {limit} bytes")
            }
            LoadError::Folder { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }
}

/// Text from an input file made safe to print: control, bidi and other invisible
/// characters are shown as `\u{..}` escapes (the one helper every command uses), so a
/// value cannot move the cursor, recolour or reorder the terminal.
pub fn printable(text: &str) -> String {
    crate::untrusted::escape(text).into_owned()
}

pub(super) fn did_you_mean(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!("; did you mean `{s}`?"),
        None => String::new(),
    }
}
