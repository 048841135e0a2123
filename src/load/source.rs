//! Reading an input file once and deserialising it with positions.
//!
//! In: a path and the kind of file. Out: a [`Source`] (the text, parsed once into toml's
//! spanned tree) that deserialises into a model type, or a [`LoadError`] that names the
//! file, line and column and the field path.
//!
//! The model types are deserialised from the spanned tree by [`ValueDe`], a serde
//! deserializer written here because toml's own reports its errors as English sentences
//! only: this one's error type records serde's structured calls (`unknown_field` with the
//! fields allowed, `missing_field`, `unknown_variant`) together with the field path and
//! the span of the value or key, so errors are classified by what they are, never by
//! matching their words. Every string is normalised to NFC on the way (the same text in
//! NFD, e.g. from a Mac, loads to the same value and fingerprint).

use std::fmt;
use std::fs;
use std::io::{self, Read};
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};
use toml::Spanned;
use toml::de::{DeTable, DeValue};
use unicode_normalization::UnicodeNormalization;

use super::error::{FileKind, LoadError, Location, printable};

/// The largest TOML input file accepted (vendor, annex, customer, dpa.toml).
pub const MAX_TOML_BYTES: u64 = 1024 * 1024;

/// The largest customer list (CSV) accepted.
pub const MAX_CSV_BYTES: u64 = 64 * 1024 * 1024;

/// One step of a field path: a table key or a 0-based array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A key step.
pub fn key(k: &str) -> Seg {
    Seg::Key(k.to_string())
}

/// A field path as people read it: `section[2].entry[3].location`, indexes from 1.
pub fn path_text(path: &[Seg]) -> String {
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

/// A TOML file's text, parsed once and kept so errors found later still get a line.
pub struct Source {
    pub kind: FileKind,
    pub path: PathBuf,
    text: String,
    root: Node,
}

impl Source {
    /// Reads and parses a TOML file.
    pub fn read(path: &Path, kind: FileKind) -> Result<Source, LoadError> {
        let text = read_text(path, kind, MAX_TOML_BYTES)?;
        Source::parse_text(path, kind, text)
    }

    fn parse_text(path: &Path, kind: FileKind, text: String) -> Result<Source, LoadError> {
        let location = |offset| location(path, &text, offset);
        let table = match DeTable::parse(&text) {
            Ok(t) => t,
            Err(e) => {
                let offset = e.span().map_or(0, |s| s.start);
                return Err(LoadError::Syntax {
                    at: location(offset),
                    message: printable(&e.message().trim().replace('\n', "; ")),
                });
            }
        };
        let root = Node {
            span: table.span(),
            value: NodeValue::Table(table_nodes(table.get_ref())),
        };
        Ok(Source {
            kind,
            path: path.to_path_buf(),
            root,
            text,
        })
    }

    /// The file position of a byte offset.
    pub fn location(&self, offset: usize) -> Location {
        location(&self.path, &self.text, offset)
    }

    /// Deserialises the whole file into a model type.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, LoadError> {
        T::deserialize(ValueDe {
            value: &self.root,
            path: Vec::new(),
        })
        .map_err(|e| self.error(e))
    }

    /// Turns a deserializer error into the matching variant.
    fn error(&self, e: DeError) -> LoadError {
        let at = self.location(e.span.map_or(0, |s| s.start));
        let mut path = e.path;
        match e.kind {
            ErrKind::UnknownField { field, expected } => {
                let expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
                LoadError::UnknownField {
                    at,
                    field_path: path_text(&path),
                    suggestion: closest(&field, &expected),
                    expected,
                }
            }
            ErrKind::MissingField(field) => {
                path.push(key(field));
                LoadError::MissingField {
                    at,
                    field_path: path_text(&path),
                }
            }
            ErrKind::UnknownVariant { variant, expected } => {
                let expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
                LoadError::WrongValue {
                    at,
                    field_path: path_text(&path),
                    message: printable(&format!(
                        "unknown variant `{variant}`, expected one of {}",
                        expected
                            .iter()
                            .map(|e| format!("`{e}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                    suggestion: closest(&variant, &expected),
                }
            }
            ErrKind::Value(message) => LoadError::WrongValue {
                at,
                field_path: path_text(&path),
                message: printable(&message),
                suggestion: None,
            },
        }
    }

    /// Where the value at `path` (or its nearest existing parent) is written.
    pub fn locate(&self, path: &[Seg]) -> Location {
        self.location(span_of(&self.root, path).start)
    }
}

/// A parsed TOML value with its span, owned (toml's tree borrows the text).
#[derive(Debug)]
pub struct Node {
    span: Range<usize>,
    value: NodeValue,
}

#[derive(Debug)]
enum NodeValue {
    String(String),
    /// An integer that fits `i64` or `u64`, or the text of one that fits neither.
    Integer(Result<i128, String>),
    Float(String),
    Boolean(bool),
    Datetime(String),
    Array(Vec<Node>),
    /// Keys with their spans, in file order.
    Table(Vec<(String, Range<usize>, Node)>),
}

impl Node {
    fn from_toml(value: &Spanned<DeValue<'_>>) -> Node {
        let value_of = match value.get_ref() {
            DeValue::String(s) => NodeValue::String(s.to_string()),
            DeValue::Integer(i) => NodeValue::Integer(
                i128::from_str_radix(i.as_str(), i.radix()).map_err(|_| i.to_string()),
            ),
            DeValue::Float(f) => NodeValue::Float(f.as_str().to_string()),
            DeValue::Boolean(b) => NodeValue::Boolean(*b),
            DeValue::Datetime(d) => NodeValue::Datetime(d.to_string()),
            DeValue::Array(items) => NodeValue::Array(items.iter().map(Node::from_toml).collect()),
            DeValue::Table(t) => NodeValue::Table(table_nodes(t)),
        };
        Node {
            span: value.span(),
            value: value_of,
        }
    }

    fn type_str(&self) -> &'static str {
        match self.value {
            NodeValue::String(_) => "string",
            NodeValue::Integer(_) => "integer",
            NodeValue::Float(_) => "float",
            NodeValue::Boolean(_) => "boolean",
            NodeValue::Datetime(_) => "datetime",
            NodeValue::Array(_) => "array",
            NodeValue::Table(_) => "table",
        }
    }
}

fn table_nodes(t: &DeTable<'_>) -> Vec<(String, Range<usize>, Node)> {
    t.iter()
        .map(|(k, v)| (k.get_ref().to_string(), k.span(), Node::from_toml(v)))
        .collect()
}

/// Reads a text file of at most `limit` bytes: a regular file, UTF-8, without the byte
/// order mark some editors put first.
pub fn read_text(path: &Path, kind: FileKind, limit: u64) -> Result<String, LoadError> {
    let read_err = |source| read_error(kind, path, source);
    let too_large = || LoadError::TooLarge {
        kind,
        path: path.to_path_buf(),
        limit,
    };
    let mut bytes = Vec::new();
    if path == Path::new(super::STDIN) {
        io::stdin()
            .lock()
            .take(limit + 1)
            .read_to_end(&mut bytes)
            .map_err(read_err)?;
    } else {
        let (file, len) = open_limited(path, kind, limit)?;
        bytes.reserve(len as usize);
        file.take(limit + 1)
            .read_to_end(&mut bytes)
            .map_err(read_err)?;
    }
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
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
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    })
}

/// A read error on `path`: "not found" as such, anything else with its cause.
fn read_error(kind: FileKind, path: &Path, source: io::Error) -> LoadError {
    match source.kind() {
        io::ErrorKind::NotFound => LoadError::NotFound {
            kind,
            path: path.to_path_buf(),
        },
        _ => LoadError::Read {
            kind,
            path: path.to_path_buf(),
            source,
        },
    }
}

/// Opens `path` for reading, refusing what is not a regular file or is over `limit` bytes;
/// returns the file and its length. Callers read at most `limit + 1` bytes, since the file
/// may grow between the check and the read.
pub fn open_limited(path: &Path, kind: FileKind, limit: u64) -> Result<(fs::File, u64), LoadError> {
    let read_err = |source| read_error(kind, path, source);
    let meta = regular_file(path).map_err(read_err)?;
    if meta.len() > limit {
        return Err(LoadError::TooLarge {
            kind,
            path: path.to_path_buf(),
            limit,
        });
    }
    let file = fs::File::open(path).map_err(read_err)?;
    Ok((file, meta.len()))
}

/// Checks that `path` is a regular file (following links), with an error that says what
/// it is instead: missing, a folder, or a device, pipe or socket (which could be endless).
pub fn regular_file(path: &Path) -> io::Result<fs::Metadata> {
    let meta = fs::metadata(path)?;
    if meta.is_file() {
        Ok(meta)
    } else if meta.is_dir() {
        Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            "it is a folder, not a file",
        ))
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "it is not a regular file (a device, pipe or socket)",
        ))
    }
}

fn location(path: &Path, text: &str, offset: usize) -> Location {
    let (line, column) = line_col(text, offset);
    Location {
        path: path.to_path_buf(),
        line,
        column: Some(column),
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// The most similar candidate, if it is similar enough to be a likely typo.
pub fn closest(given: &str, candidates: &[String]) -> Option<String> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(given, c), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.clone())
}

/// The span of the value at `path`, or of its nearest existing parent.
fn span_of(root: &Node, path: &[Seg]) -> Range<usize> {
    let mut current = root;
    for seg in path {
        let next = match (seg, &current.value) {
            (Seg::Key(k), NodeValue::Table(t)) => {
                t.iter().find(|(key, _, _)| key == k).map(|(_, _, v)| v)
            }
            (Seg::Index(i), NodeValue::Array(a)) => a.get(*i),
            _ => None,
        };
        match next {
            Some(v) => current = v,
            None => break,
        }
    }
    current.span.clone()
}

/// Text in Unicode normalisation form C.
pub fn nfc(text: &str) -> String {
    if unicode_normalization::is_nfc(text) {
        text.to_string()
    } else {
        text.nfc().collect()
    }
}

// ---------------------------------------------------------------------------------------
// The deserializer

/// What serde reported, with where it happened.
#[derive(Debug)]
pub struct DeError {
    kind: ErrKind,
    path: Vec<Seg>,
    span: Option<Range<usize>>,
}

#[derive(Debug)]
enum ErrKind {
    UnknownField {
        field: String,
        expected: &'static [&'static str],
    },
    MissingField(&'static str),
    UnknownVariant {
        variant: String,
        expected: &'static [&'static str],
    },
    /// A value of the wrong type or form; the words are serde's or the model's.
    Value(String),
}

impl DeError {
    fn new(kind: ErrKind) -> DeError {
        DeError {
            kind,
            path: Vec::new(),
            span: None,
        }
    }

    /// Places the error at `path` and `span` unless a deeper value placed it already.
    fn at(mut self, path: &[Seg], span: Range<usize>) -> DeError {
        if self.span.is_none() {
            self.path = path.to_vec();
            self.span = Some(span);
        }
        self
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrKind::UnknownField { field, .. } => write!(f, "unknown field `{field}`"),
            ErrKind::MissingField(field) => write!(f, "missing field `{field}`"),
            ErrKind::UnknownVariant { variant, .. } => write!(f, "unknown variant `{variant}`"),
            ErrKind::Value(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError::new(ErrKind::Value(msg.to_string()))
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        DeError::new(ErrKind::UnknownField {
            field: field.to_string(),
            expected,
        })
    }

    fn missing_field(field: &'static str) -> Self {
        DeError::new(ErrKind::MissingField(field))
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        DeError::new(ErrKind::UnknownVariant {
            variant: variant.to_string(),
            expected,
        })
    }
}

/// Deserialises one parsed TOML value, knowing its field path.
pub struct ValueDe<'a> {
    value: &'a Node,
    path: Vec<Seg>,
}

impl<'de> de::Deserializer<'de> for ValueDe<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let span = self.value.span.clone();
        let result = match &self.value.value {
            NodeValue::String(s) => visitor.visit_string(nfc(s)),
            NodeValue::Integer(Ok(n)) => match (i64::try_from(*n), u64::try_from(*n)) {
                (Ok(n), _) => visitor.visit_i64(n),
                (_, Ok(n)) => visitor.visit_u64(n),
                _ => Err(de::Error::custom(format!(
                    "the integer {n} is out of range"
                ))),
            },
            NodeValue::Integer(Err(text)) => Err(de::Error::custom(format!(
                "the integer {text} is out of range"
            ))),
            NodeValue::Float(text) => match text.parse::<f64>() {
                Ok(x) => visitor.visit_f64(x),
                Err(_) => Err(de::Error::custom(format!("the number {text} is not valid"))),
            },
            NodeValue::Boolean(b) => visitor.visit_bool(*b),
            NodeValue::Datetime(d) => visitor.visit_str(d),
            NodeValue::Array(items) => visitor.visit_seq(Seq {
                items: items.iter().enumerate(),
                path: &self.path,
            }),
            NodeValue::Table(entries) => visitor.visit_map(Map {
                entries: entries.iter(),
                value: None,
                path: &self.path,
            }),
        };
        result.map_err(|e| e.at(&self.path, span))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        // A TOML key that is present always has a value: absent keys are `None`.
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let span = self.value.span.clone();
        let result = match &self.value.value {
            NodeValue::String(s) => visitor.visit_enum(nfc(s).into_deserializer()),
            _ => Err(de::Error::custom(format!(
                "expected a word in quotes, found a {}",
                self.value.type_str()
            ))),
        };
        result.map_err(|e: DeError| e.at(&self.path, span))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

struct Seq<'a, I> {
    items: I,
    path: &'a [Seg],
}

impl<'de, 'a, I> SeqAccess<'de> for Seq<'a, I>
where
    I: Iterator<Item = (usize, &'a Node)>,
{
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        let Some((i, item)) = self.items.next() else {
            return Ok(None);
        };
        let mut path = self.path.to_vec();
        path.push(Seg::Index(i));
        // Errors made after the value was read (e.g. a date in the wrong form) are placed
        // here, since they do not pass through the value's deserializer.
        seed.deserialize(ValueDe {
            value: item,
            path: path.clone(),
        })
        .map(Some)
        .map_err(|e| e.at(&path, item.span.clone()))
    }
}

struct Map<'a, I> {
    entries: I,
    value: Option<(&'a str, &'a Node)>,
    path: &'a [Seg],
}

impl<'de, 'a, I> MapAccess<'de> for Map<'a, I>
where
    I: Iterator<Item = &'a (String, Range<usize>, Node)>,
{
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some((k, key_span, v)) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some((k, v));
        let key_de: de::value::StrDeserializer<'_, DeError> = k.as_str().into_deserializer();
        seed.deserialize(key_de).map(Some).map_err(|e| {
            // An unknown key: the error points at the key itself.
            let mut path = self.path.to_vec();
            path.push(key(k));
            e.at(&path, key_span.clone())
        })
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let Some((k, v)) = self.value.take() else {
            return Err(de::Error::custom("a value was asked for before its key"));
        };
        let mut path = self.path.to_vec();
        path.push(key(k));
        seed.deserialize(ValueDe {
            value: v,
            path: path.clone(),
        })
        .map_err(|e| e.at(&path, v.span.clone()))
    }
}
