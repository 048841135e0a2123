//! The signatures inside a PDF: where they are, which revision each covers, what changed
//! after it, and whether each one holds.
//!
//! In: the bytes of a PDF and the trust anchors the user gave. Out: [`inspect`] lists the
//! revisions (incremental updates) and every signature field and dictionary with its
//! /ByteRange checked: four integers, starting at 0, skipping exactly the /Contents hex
//! string of that very dictionary, inside the file, ending at a revision end. [`changes`]
//! compares two revisions object by object and names every difference, each either
//! permitted after a DocMDP certification (a signature in an existing empty field, that
//! widget's appearance, new signature dictionaries, form resources, validation data,
//! metadata) or not (page content, annotations, other fields, other objects).
//! [`verify`] puts it together with [`super::cms`]. Malformed, truncated or hostile input
//! gives a "not valid" answer with the reason, never a panic.
//!
//! Objects are read with `hayro-syntax` (xref tables and streams, object streams, filters,
//! each revision read from its byte prefix). Two small jobs are done by hand because no
//! crate offers them: finding where revisions end (`startxref N %%EOF` trailers), and
//! locating a signature dictionary's bytes in the file, for which hayro's dictionary
//! slices are compared with the file's address range.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use hayro_syntax::Pdf;
use hayro_syntax::object::{Dict, MaybeRef, Object, ObjectIdentifier};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::cms::{self, CmsVerification, Trust};
use super::pkix::{CertSummary, TrustAnchors, escape_untrusted};

/// Objects read per revision at most; a DPA has about a hundred.
const MAX_OBJECTS: usize = 200_000;
/// Field tree depth and page tree depth at most.
const MAX_DEPTH: usize = 64;
/// Signatures examined at most.
const MAX_SIGNATURES: usize = 64;

/// One revision: the original file or an incremental update appended to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Revision {
    /// 1 for the original document, then one more per incremental update.
    pub number: usize,
    /// The byte offset just after its `%%EOF` line: the revision is `bytes[..end]`.
    pub end: usize,
    /// Where its cross-reference section starts.
    pub startxref: usize,
}

/// Finds every revision end: a `startxref N %%EOF` trailer whose N points back at a
/// cross-reference table (`xref`) or stream (`M G obj`), followed by an optional EOL.
///
/// Written by hand: hayro reads the last revision of the bytes it is given but does not
/// list where earlier revisions end.
pub fn revisions(bytes: &[u8]) -> Vec<Revision> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(found) = find(&bytes[from..], b"%%EOF") {
        let pos = from + found;
        from = pos + 5;
        let Some(startxref) = startxref_before(bytes, pos) else {
            continue;
        };
        let mut end = pos + 5;
        if bytes.get(end) == Some(&b'\r') {
            end += 1;
        }
        if bytes.get(end) == Some(&b'\n') {
            end += 1;
        }
        out.push(Revision {
            number: out.len() + 1,
            end,
            startxref,
        });
    }
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The N of `startxref N` just before `eof`, if it points at a cross-reference section.
fn startxref_before(bytes: &[u8], eof: usize) -> Option<usize> {
    let is_ws = |b: u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' | b'\0');
    let mut i = eof;
    while i > 0 && is_ws(bytes[i - 1]) {
        i -= 1;
    }
    let digits_end = i;
    while i > 0 && bytes[i - 1].is_ascii_digit() {
        i -= 1;
    }
    if i == digits_end || digits_end - i > 15 {
        return None;
    }
    let offset: usize = std::str::from_utf8(&bytes[i..digits_end])
        .ok()?
        .parse()
        .ok()?;
    while i > 0 && is_ws(bytes[i - 1]) {
        i -= 1;
    }
    if i < 9 || &bytes[i - 9..i] != b"startxref" || offset >= i - 9 {
        return None;
    }
    let at = &bytes[offset..];
    if at.starts_with(b"xref") {
        return Some(offset);
    }
    // An xref stream: "12 0 obj".
    let mut j = 0;
    let digits = |j: &mut usize| {
        let start = *j;
        while at.get(*j).is_some_and(u8::is_ascii_digit) {
            *j += 1;
        }
        *j > start
    };
    let spaces = |j: &mut usize| {
        let start = *j;
        while at.get(*j).copied().is_some_and(is_ws) {
            *j += 1;
        }
        *j > start
    };
    (digits(&mut j) && spaces(&mut j) && digits(&mut j) && spaces(&mut j))
        .then_some(())
        .filter(|()| at[j..].starts_with(b"obj"))
        .map(|()| offset)
}

/// A byte prefix of a shared buffer, so each revision is read without copying the file.
struct Prefix(Arc<Vec<u8>>, usize);

impl AsRef<[u8]> for Prefix {
    fn as_ref(&self) -> &[u8] {
        &self.0[..self.1]
    }
}

fn open_prefix(bytes: &Arc<Vec<u8>>, end: usize) -> Option<Pdf> {
    Pdf::new(Arc::new(Prefix(bytes.clone(), end))).ok()
}

/// What is wrong with a signature's /ByteRange or /Contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum RangeProblem {
    /// /ByteRange is missing or not four non-negative integers.
    Malformed,
    /// The first range does not start at byte 0.
    NotFromStart,
    /// The ranges overlap, are out of order or point past the end of the file.
    OutOfRange { len: usize },
    /// The gap between the ranges is not exactly this dictionary's /Contents string.
    GapNotContents,
    /// The covered bytes do not end where a revision ends.
    NotAtRevisionEnd,
    /// The signature dictionary is inside a compressed object stream, so its /Contents
    /// cannot be left out of the signed bytes.
    Compressed,
    /// /Contents is missing or empty.
    NoContents,
}

impl fmt::Display for RangeProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RangeProblem::Malformed => f.write_str("its /ByteRange is not four non-negative integers"),
            RangeProblem::NotFromStart => f.write_str("its signed bytes do not start at the beginning of the file"),
            RangeProblem::OutOfRange { len } => write!(
                f,
                "its /ByteRange points outside the file ({len} bytes) or its ranges overlap: the file was truncated or rewritten after signing"
            ),
            RangeProblem::GapNotContents => f.write_str(
                "the bytes its /ByteRange leaves out are not exactly its own signature value: the file was rewritten after signing (e.g. by a PDF optimiser), or bytes were hidden from the signature",
            ),
            RangeProblem::NotAtRevisionEnd => f.write_str(
                "its signed bytes do not end where a revision of the file ends",
            ),
            RangeProblem::Compressed => f.write_str(
                "its signature dictionary is inside a compressed object stream",
            ),
            RangeProblem::NoContents => f.write_str("it has no signature value (/Contents)"),
        }
    }
}

/// One signature dictionary found in the PDF, with the structure checks done.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmbeddedSignature {
    /// The fully qualified field name, when the signature sits in a field.
    pub field: Option<String>,
    /// /SubFilter, e.g. `ETSI.CAdES.detached`.
    pub sub_filter: Option<String>,
    /// /Name, /Reason, /Location as the signer wrote them (control characters escaped).
    pub name: Option<String>,
    pub reason: Option<String>,
    pub location: Option<String>,
    /// /M, the signing time the signer claims.
    pub signing_time: Option<DateTime<Utc>>,
    /// The DocMDP permission level (1, 2 or 3) when this is a certification signature.
    pub certification: Option<u8>,
    /// /ByteRange as written.
    pub byte_range: Vec<i64>,
    /// The revision whose end the signed bytes reach, when they reach one.
    pub revision: Option<usize>,
    /// True when the signed bytes are the whole file.
    pub covers_whole_file: bool,
    /// Structural problems; any one makes the signature not valid.
    pub problems: Vec<RangeProblem>,
    /// The CMS bytes of /Contents (zero padding included).
    #[serde(skip)]
    pub contents: Vec<u8>,
    /// Where the covered bytes are: `[a, a+b)` and `[c, c+d)`, when well-formed.
    #[serde(skip)]
    pub ranges: Option<[(usize, usize); 2]>,
}

/// The signature fields and signatures of a PDF, and its revisions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Inspection {
    /// File length in bytes.
    pub len: usize,
    /// Every revision, oldest first.
    pub revisions: Vec<Revision>,
    /// Every signature dictionary, in field order, then any outside a field.
    pub signatures: Vec<EmbeddedSignature>,
    /// Names of signature fields that are not signed yet.
    pub empty_fields: Vec<String>,
}

/// Why a file could not be examined at all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unreadable {
    pub detail: String,
}

impl fmt::Display for Unreadable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail)
    }
}

fn name_of(dict: &Dict<'_>, key: &[u8]) -> Option<String> {
    dict.get::<hayro_syntax::object::Name<'_>>(key)
        .map(|n| escape_untrusted(&String::from_utf8_lossy(n.as_ref())))
}

fn text_of(dict: &Dict<'_>, key: &[u8]) -> Option<String> {
    dict.get::<hayro_syntax::object::String<'_>>(key)
        .map(|s| escape_untrusted(&decode_text(s.as_bytes())))
}

/// A PDF text string: UTF-16BE with a byte order mark, UTF-8 with one, else Latin-1-ish.
pub(crate) fn decode_text(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        let units: Vec<u16> = rest
            .chunks(2)
            .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
            .collect();
        return String::from_utf16_lossy(&units);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return String::from_utf8_lossy(rest).into_owned();
    }
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// Parses a PDF date `D:YYYYMMDDHHmmSSOHH'mm'` (later parts optional) as UTC.
pub fn parse_pdf_date(text: &str) -> Option<DateTime<Utc>> {
    let s = text.strip_prefix("D:").unwrap_or(text);
    let digits = |range: std::ops::Range<usize>, default: u32| -> Option<u32> {
        match s.get(range) {
            Some(part) if part.bytes().all(|b| b.is_ascii_digit()) => part.parse().ok(),
            Some(_) => None,
            None => Some(default),
        }
    };
    let year = i32::try_from(digits(0..4, u32::MAX)?).ok()?;
    let date = NaiveDate::from_ymd_opt(year, digits(4..6, 1)?, digits(6..8, 1)?)?;
    let time = NaiveTime::from_hms_opt(digits(8..10, 0)?, digits(10..12, 0)?, digits(12..14, 0)?)?;
    let local = NaiveDateTime::new(date, time);
    let zone = s.get(14..).unwrap_or("");
    let offset = match zone.as_bytes().first() {
        None | Some(b'Z') => 0,
        Some(sign @ (b'+' | b'-')) => {
            let rest = &zone[1..];
            let hours: i32 = rest.get(0..2)?.parse().ok()?;
            let minutes: i32 = rest
                .get(2..)
                .map(|m| m.trim_matches('\''))
                .filter(|m| !m.is_empty())
                .map_or(Some(0), |m| m.get(0..2).and_then(|m| m.parse().ok()))?;
            let total = hours * 3600 + minutes * 60;
            if *sign == b'-' { -total } else { total }
        }
        Some(_) => return None,
    };
    let zone = FixedOffset::east_opt(offset)?;
    zone.from_local_datetime(&local)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// Lists revisions, signature fields and signature dictionaries, with /ByteRange checks.
pub fn inspect(bytes: &[u8]) -> Result<Inspection, Unreadable> {
    let shared = Arc::new(bytes.to_vec());
    inspect_shared(&shared)
}

fn inspect_shared(shared: &Arc<Vec<u8>>) -> Result<Inspection, Unreadable> {
    let bytes: &[u8] = shared.as_slice();
    if !bytes.starts_with(b"%PDF-") {
        return Err(Unreadable {
            detail: "it is not a PDF file (no %PDF- header)".into(),
        });
    }
    let revisions = revisions(bytes);
    let pdf = open_prefix(shared, bytes.len()).ok_or_else(|| Unreadable {
        detail: "its structure cannot be read (damaged or truncated PDF)".into(),
    })?;
    let file = pdf.data().as_ref();
    let xref = pdf.xref();
    let catalog: Dict<'_> = xref.get(xref.root_id()).ok_or_else(|| Unreadable {
        detail: "it has no document catalog".into(),
    })?;

    let mut found: Vec<(Option<String>, Dict<'_>)> = Vec::new();
    let mut empty_fields = Vec::new();
    let mut seen = BTreeSet::new();
    if let Some(form) = catalog.get::<Dict<'_>>(b"AcroForm")
        && let Some(fields) = form.get::<hayro_syntax::object::Array<'_>>(b"Fields")
    {
        let mut stack: Vec<(Dict<'_>, String, Option<String>, usize)> = fields
            .iter::<Dict<'_>>()
            .map(|d| (d, String::new(), None, 0))
            .collect();
        stack.reverse();
        while let Some((field, parent, inherited_ft, depth)) = stack.pop() {
            if depth > MAX_DEPTH || found.len() > MAX_SIGNATURES {
                break;
            }
            if let Some(id) = field.obj_id()
                && !seen.insert(id)
            {
                continue;
            }
            let partial = text_of(&field, b"T");
            let full = match (&partial, parent.is_empty()) {
                (Some(t), true) => t.clone(),
                (Some(t), false) => format!("{parent}.{t}"),
                (None, _) => parent.clone(),
            };
            let ft = name_of(&field, b"FT").or(inherited_ft);
            if let Some(kids) = field.get::<hayro_syntax::object::Array<'_>>(b"Kids") {
                let mut kids: Vec<_> = kids
                    .iter::<Dict<'_>>()
                    .filter(|k| k.contains_key(b"T") || k.contains_key(b"Kids"))
                    .map(|k| (k, full.clone(), ft.clone(), depth + 1))
                    .collect();
                kids.reverse();
                stack.extend(kids);
            }
            if ft.as_deref() == Some("Sig") {
                match field.get::<Dict<'_>>(b"V") {
                    Some(sig) => {
                        if let Some(id) = sig.obj_id() {
                            seen.insert(id);
                        }
                        found.push((Some(full), sig));
                    }
                    None if partial.is_some() => empty_fields.push(full),
                    None => {}
                }
            }
        }
    }
    // Signature dictionaries that no field points to still count: report them too.
    for object in pdf.objects() {
        if found.len() > MAX_SIGNATURES {
            break;
        }
        if let Object::Dict(dict) = object
            && dict.contains_key(b"ByteRange")
            && dict.contains_key(b"Contents")
            && dict.obj_id().is_none_or(|id| !seen.contains(&id))
        {
            if let Some(id) = dict.obj_id() {
                seen.insert(id);
            }
            found.push((None, dict));
        }
    }

    let perms_docmdp = catalog
        .get::<Dict<'_>>(b"Perms")
        .and_then(|p| p.get_ref(b"DocMDP"))
        .map(ObjectIdentifier::from);
    let signatures = found
        .into_iter()
        .map(|(field, dict)| examine(file, &revisions, field, &dict, perms_docmdp))
        .collect();
    Ok(Inspection {
        len: bytes.len(),
        revisions,
        signatures,
        empty_fields,
    })
}

/// The DocMDP level of a signature dictionary's /Reference, if it has a DocMDP transform.
fn docmdp_level(sig: &Dict<'_>) -> Option<u8> {
    let refs = sig.get::<hayro_syntax::object::Array<'_>>(b"Reference")?;
    refs.iter::<Dict<'_>>().find_map(|r| {
        (name_of(&r, b"TransformMethod").as_deref() == Some("DocMDP")).then(|| {
            r.get::<Dict<'_>>(b"TransformParams")
                .and_then(|p| p.get::<i64>(b"P"))
                .and_then(|p| u8::try_from(p).ok())
                .filter(|p| (1..=3).contains(p))
                .unwrap_or(2)
        })
    })
}

fn examine(
    file: &[u8],
    revisions: &[Revision],
    field: Option<String>,
    sig: &Dict<'_>,
    perms_docmdp: Option<ObjectIdentifier>,
) -> EmbeddedSignature {
    let mut problems = Vec::new();
    let contents = sig
        .get::<hayro_syntax::object::String<'_>>(b"Contents")
        .map(|s| s.as_bytes().to_vec())
        .unwrap_or_default();
    if contents.is_empty() {
        problems.push(RangeProblem::NoContents);
    }
    let byte_range: Vec<i64> = sig
        .get::<hayro_syntax::object::Array<'_>>(b"ByteRange")
        .map(|a| a.iter::<i64>().take(5).collect())
        .unwrap_or_default();
    // A certification counts only when the catalog's /Perms names this dictionary.
    let certification =
        docmdp_level(sig).filter(|_| perms_docmdp.is_some() && perms_docmdp == sig.obj_id());
    let mut out = EmbeddedSignature {
        field,
        sub_filter: name_of(sig, b"SubFilter"),
        name: text_of(sig, b"Name"),
        reason: text_of(sig, b"Reason"),
        location: text_of(sig, b"Location"),
        signing_time: sig
            .get::<hayro_syntax::object::String<'_>>(b"M")
            .and_then(|m| parse_pdf_date(&String::from_utf8_lossy(m.as_bytes()))),
        certification,
        byte_range: byte_range.clone(),
        revision: None,
        covers_whole_file: false,
        problems: Vec::new(),
        contents,
        ranges: None,
    };
    let ranges: Option<Vec<usize>> = (byte_range.len() == 4)
        .then(|| {
            byte_range
                .iter()
                .map(|&v| usize::try_from(v).ok())
                .collect()
        })
        .flatten();
    let Some([a, b, c, d]) = ranges
        .as_deref()
        .and_then(|r| <[usize; 4]>::try_from(r).ok())
    else {
        problems.push(RangeProblem::Malformed);
        out.problems = problems;
        return out;
    };
    if a != 0 {
        problems.push(RangeProblem::NotFromStart);
    }
    let end = c.checked_add(d);
    let in_file = a <= b && b < c && end.is_some_and(|e| e <= file.len());
    if !in_file {
        problems.push(RangeProblem::OutOfRange { len: file.len() });
        out.problems = problems;
        return out;
    }
    let end = end.unwrap_or(0);
    out.ranges = Some([(a, b), (c, end)]);
    out.covers_whole_file = a == 0 && end == file.len();
    out.revision = revisions.iter().find(|r| r.end == end).map(|r| r.number);
    if out.revision.is_none() {
        problems.push(RangeProblem::NotAtRevisionEnd);
    }
    match dict_span(file, sig) {
        None => problems.push(RangeProblem::Compressed),
        Some((start, stop)) => {
            if !gap_is_contents(file, b, c, start, stop, &out.contents) {
                problems.push(RangeProblem::GapNotContents);
            }
        }
    }
    out.problems = problems;
    out
}

/// Where a dictionary's bytes lie in `file`, if they are the file's own bytes.
///
/// hayro hands out slices of the buffer it was given; a slice from a decompressed object
/// stream lies elsewhere in memory. Comparing addresses is how one tells them apart.
fn dict_span(file: &[u8], dict: &Dict<'_>) -> Option<(usize, usize)> {
    let data = dict.data();
    let base = file.as_ptr() as usize;
    let start = (data.as_ptr() as usize).checked_sub(base)?;
    let stop = start.checked_add(data.len())?;
    (stop <= file.len()).then_some((start, stop))
}

/// True when `file[b..c]` is `<hex>`, decodes to `contents`, is the value of `/Contents`,
/// and lies inside the dictionary's bytes `[start, stop)`.
fn gap_is_contents(
    file: &[u8],
    b: usize,
    c: usize,
    start: usize,
    stop: usize,
    contents: &[u8],
) -> bool {
    // hayro's slice may or may not include the << >> delimiters; allow both.
    if b + 2 > c || b + 2 < start || c > stop + 2 {
        return false;
    }
    let gap = &file[b..c];
    if gap.first() != Some(&b'<') || gap.last() != Some(&b'>') {
        return false;
    }
    let hex = &gap[1..gap.len() - 1];
    if !hex.len().is_multiple_of(2) || !hex.iter().all(u8::is_ascii_hexdigit) {
        return false;
    }
    if hex::decode(hex).ok().as_deref() != Some(contents) {
        return false;
    }
    // The key just before the string must be /Contents.
    let before = &file[start.min(b)..b];
    let trimmed = before
        .iter()
        .rposition(|ch| !matches!(ch, b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' | b'\0'))
        .map_or(&before[..0], |i| &before[..=i]);
    trimmed.ends_with(b"/Contents")
}

type Id = (u32, i32);

/// A PDF object as a comparable value; references stay references, streams are hashed.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Null,
    Bool(bool),
    Num(f64),
    Name(Vec<u8>),
    Str(Vec<u8>),
    Array(Vec<Value>),
    Dict(BTreeMap<Vec<u8>, Value>),
    Ref(Id),
    Stream(BTreeMap<Vec<u8>, Value>, [u8; 32]),
}

impl Value {
    fn dict(&self) -> Option<&BTreeMap<Vec<u8>, Value>> {
        match self {
            Value::Dict(d) | Value::Stream(d, _) => Some(d),
            _ => None,
        }
    }

    fn get(&self, key: &str) -> Option<&Value> {
        self.dict()?.get(key.as_bytes())
    }

    fn name(&self, key: &str) -> Option<String> {
        match self.get(key)? {
            Value::Name(n) => Some(String::from_utf8_lossy(n).into_owned()),
            _ => None,
        }
    }

    fn as_ref(&self) -> Option<Id> {
        match self {
            Value::Ref(id) => Some(*id),
            _ => None,
        }
    }

    /// Every reference inside this value.
    fn refs(&self, out: &mut Vec<Id>) {
        match self {
            Value::Ref(id) => out.push(*id),
            Value::Array(items) => items.iter().for_each(|v| v.refs(out)),
            Value::Dict(d) | Value::Stream(d, _) => d.values().for_each(|v| v.refs(out)),
            _ => {}
        }
    }
}

fn id_of(id: ObjectIdentifier) -> Id {
    (id.obj_number, id.gen_number)
}

fn convert(object: Object<'_>, depth: usize) -> Value {
    if depth > MAX_DEPTH {
        return Value::Null;
    }
    let entry = |item: MaybeRef<Object<'_>>| match item {
        MaybeRef::Ref(r) => Value::Ref((r.obj_number, r.gen_number)),
        MaybeRef::NotRef(o) => convert(o, depth + 1),
    };
    let dict = |d: &Dict<'_>| -> BTreeMap<Vec<u8>, Value> {
        d.entries()
            .map(|(k, v)| (k.as_ref().to_vec(), entry(v)))
            .collect()
    };
    match object {
        Object::Null(_) => Value::Null,
        Object::Boolean(b) => Value::Bool(b),
        Object::Number(n) => Value::Num(n.as_f64()),
        Object::String(s) => Value::Str(s.as_bytes().to_vec()),
        Object::Name(n) => Value::Name(n.as_ref().to_vec()),
        Object::Dict(d) => Value::Dict(dict(&d)),
        Object::Array(a) => Value::Array(a.raw_iter().map(entry).collect()),
        Object::Stream(s) => Value::Stream(dict(s.dict()), Sha256::digest(s.raw_data()).into()),
    }
}

/// The objects reachable from the catalog of one revision.
#[derive(Debug)]
struct Snapshot {
    root: Id,
    objects: BTreeMap<Id, Value>,
    /// References to objects the revision does not define.
    dangling: BTreeSet<Id>,
    info: hayro_syntax::metadata::Metadata,
}

fn snapshot(pdf: &Pdf) -> Result<Snapshot, String> {
    let xref = pdf.xref();
    // hayro rebuilds a damaged cross-reference table by scanning the whole file, which
    // can bring back objects an update replaced; a changed map size shows it happened.
    let entries = pdf.len();
    let root = id_of(xref.root_id());
    let mut objects = BTreeMap::new();
    let mut dangling = BTreeSet::new();
    let mut stack = vec![root];
    while let Some(id) = stack.pop() {
        if objects.contains_key(&id) || dangling.contains(&id) {
            continue;
        }
        if objects.len() >= MAX_OBJECTS {
            return Err(format!("more than {MAX_OBJECTS} objects"));
        }
        match xref.get::<Object<'_>>(ObjectIdentifier::new(id.0, id.1)) {
            Some(object) => {
                let value = convert(object, 0);
                let mut refs = Vec::new();
                value.refs(&mut refs);
                stack.extend(refs);
                objects.insert(id, value);
            }
            None => {
                dangling.insert(id);
            }
        }
    }
    if pdf.len() != entries {
        return Err("its cross-reference data is damaged, so what it contains is ambiguous".into());
    }
    Ok(Snapshot {
        root,
        objects,
        dangling,
        info: pdf.metadata().clone(),
    })
}

/// One difference between a signed revision and a later one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// An empty signature field was signed (a new signature dictionary in it).
    FieldSigned { field: String },
    /// The appearance of a signature field that was signed.
    SignatureAppearance { field: String },
    /// The form's shared resources or signature flags.
    FormResources,
    /// Validation data (certificates, revocation) in the document security store.
    ValidationData,
    /// Document metadata (information dictionary or XMP).
    Metadata,
    /// A page's content was changed.
    PageContent { page: usize },
    /// Other properties of a page were changed.
    PageChanged { page: usize, keys: Vec<String> },
    /// A page was added or removed.
    PagesChanged,
    /// An annotation was added to a page.
    AnnotationAdded { page: usize, subtype: String },
    /// An annotation was removed from a page.
    AnnotationRemoved { page: usize, subtype: String },
    /// An annotation was changed.
    AnnotationChanged { page: usize, subtype: String },
    /// A form field was added.
    FieldAdded { field: String },
    /// A form field other than an empty signature field was changed.
    FieldChanged { field: String, keys: Vec<String> },
    /// The document catalog was changed in entries that matter.
    CatalogChanged { keys: Vec<String> },
    /// The document catalog was replaced by another object.
    CatalogReplaced,
    /// Some other object was changed.
    ObjectChanged { object: String, kind: String },
    /// An object was removed while still in use.
    ObjectRemoved { object: String, kind: String },
    /// An object that was missing when signed (referenced, undefined) is now defined.
    DefinedLater { object: String },
    /// An added object that no permitted change accounts for.
    ObjectAdded { object: String, kind: String },
    /// A revision could not be read.
    Unreadable { detail: String },
}

impl Change {
    /// Whether the change is allowed after a certification with DocMDP level `p`.
    pub fn permitted_under(&self, p: u8) -> bool {
        let form_filling = matches!(
            self,
            Change::FieldSigned { .. }
                | Change::SignatureAppearance { .. }
                | Change::FormResources
                | Change::ValidationData
                | Change::Metadata
        );
        let annotating = matches!(
            self,
            Change::AnnotationAdded { .. }
                | Change::AnnotationRemoved { .. }
                | Change::AnnotationChanged { .. }
        );
        match p {
            1 => matches!(self, Change::ValidationData),
            2 => form_filling,
            _ => form_filling || annotating,
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::FieldSigned { field } => {
                write!(f, "the empty signature field {field} was signed")
            }
            Change::SignatureAppearance { field } => {
                write!(f, "the appearance of signature field {field}")
            }
            Change::FormResources => f.write_str("form resources (fonts, signature flags)"),
            Change::ValidationData => {
                f.write_str("validation data (certificates, revocation information)")
            }
            Change::Metadata => f.write_str("document metadata (title, dates, producer)"),
            Change::PageContent { page } => write!(f, "the content of page {page} was changed"),
            Change::PageChanged { page, keys } => {
                write!(f, "page {page} was changed ({})", keys.join(", "))
            }
            Change::PagesChanged => f.write_str("pages were added, removed or reordered"),
            Change::AnnotationAdded { page, subtype } => {
                write!(f, "a {subtype} annotation was added on page {page}")
            }
            Change::AnnotationRemoved { page, subtype } => {
                write!(f, "a {subtype} annotation was removed from page {page}")
            }
            Change::AnnotationChanged { page, subtype } => {
                write!(f, "a {subtype} annotation on page {page} was changed")
            }
            Change::FieldAdded { field } => write!(f, "a form field {field} was added"),
            Change::FieldChanged { field, keys } => {
                write!(f, "form field {field} was changed ({})", keys.join(", "))
            }
            Change::CatalogChanged { keys } => {
                write!(f, "the document catalog was changed ({})", keys.join(", "))
            }
            Change::CatalogReplaced => f.write_str("the document catalog was replaced"),
            Change::ObjectChanged { object, kind } => {
                write!(f, "object {object} ({kind}) was changed")
            }
            Change::ObjectRemoved { object, kind } => {
                write!(f, "object {object} ({kind}) was removed")
            }
            Change::DefinedLater { object } => write!(
                f,
                "object {object}, missing when signed, was defined afterwards"
            ),
            Change::ObjectAdded { object, kind } => write!(f, "object {object} ({kind}) was added"),
            Change::Unreadable { detail } => write!(f, "a later revision cannot be read: {detail}"),
        }
    }
}

/// Facts about a snapshot used to name changes.
struct Layout {
    /// Page object -> page number (1-based).
    pages: BTreeMap<Id, usize>,
    /// Content stream -> page number.
    contents: BTreeMap<Id, usize>,
    /// Annotation -> (page number, subtype).
    annots: BTreeMap<Id, (usize, String)>,
    /// Form field -> fully qualified name.
    fields: BTreeMap<Id, String>,
    /// Signature fields that are empty: field -> its widget objects (itself when merged).
    empty_sig_fields: BTreeMap<Id, Vec<Id>>,
    /// The AcroForm dictionary, when it is an object of its own.
    acroform: Option<Id>,
    /// Objects in the document security store.
    dss: Option<Id>,
    /// The XMP metadata stream.
    metadata: Option<Id>,
    /// Page objects in order.
    page_order: Vec<Id>,
}

fn layout(snap: &Snapshot) -> Layout {
    let mut out = Layout {
        pages: BTreeMap::new(),
        contents: BTreeMap::new(),
        annots: BTreeMap::new(),
        fields: BTreeMap::new(),
        empty_sig_fields: BTreeMap::new(),
        acroform: None,
        dss: None,
        metadata: None,
        page_order: Vec::new(),
    };
    let get = |id: Id| snap.objects.get(&id);
    let Some(catalog) = get(snap.root) else {
        return out;
    };
    // Page tree, depth-first in order.
    let mut stack: Vec<(Id, usize)> = catalog
        .get("Pages")
        .and_then(Value::as_ref)
        .map(|id| vec![(id, 0)])
        .unwrap_or_default();
    let mut seen = BTreeSet::new();
    while let Some((id, depth)) = stack.pop() {
        if depth > MAX_DEPTH || !seen.insert(id) {
            continue;
        }
        let Some(node) = get(id) else { continue };
        if let Some(Value::Array(kids)) = node.get("Kids") {
            stack.extend(
                kids.iter()
                    .rev()
                    .filter_map(Value::as_ref)
                    .map(|k| (k, depth + 1)),
            );
        } else {
            out.page_order.push(id);
            let page = out.page_order.len();
            out.pages.insert(id, page);
            match node.get("Contents") {
                Some(Value::Ref(c)) => {
                    out.contents.insert(*c, page);
                }
                Some(Value::Array(items)) => {
                    for c in items.iter().filter_map(Value::as_ref) {
                        out.contents.insert(c, page);
                    }
                }
                _ => {}
            }
            let annots = match node.get("Annots") {
                Some(Value::Array(items)) => items.clone(),
                Some(Value::Ref(r)) => match get(*r) {
                    Some(Value::Array(items)) => items.clone(),
                    _ => Vec::new(),
                },
                _ => Vec::new(),
            };
            for a in annots.iter().filter_map(Value::as_ref) {
                let subtype = get(a)
                    .and_then(|v| v.name("Subtype"))
                    .unwrap_or_else(|| "unknown".into());
                out.annots.insert(a, (page, subtype));
            }
        }
    }
    let form = match catalog.get("AcroForm") {
        Some(Value::Ref(id)) => {
            out.acroform = Some(*id);
            get(*id)
        }
        other => other,
    };
    out.dss = catalog.get("DSS").and_then(Value::as_ref);
    out.metadata = catalog.get("Metadata").and_then(Value::as_ref);
    let mut stack: Vec<(Id, String, Option<String>, usize)> =
        match form.and_then(|f| f.get("Fields")) {
            Some(Value::Array(items)) => items
                .iter()
                .rev()
                .filter_map(Value::as_ref)
                .map(|id| (id, String::new(), None, 0))
                .collect(),
            _ => Vec::new(),
        };
    let mut seen = BTreeSet::new();
    while let Some((id, parent, inherited, depth)) = stack.pop() {
        if depth > MAX_DEPTH || !seen.insert(id) {
            continue;
        }
        let Some(field) = get(id) else { continue };
        let partial = match field.get("T") {
            Some(Value::Str(t)) => Some(escape_untrusted(&decode_text(t))),
            _ => None,
        };
        let full = match (&partial, parent.is_empty()) {
            (Some(t), true) => t.clone(),
            (Some(t), false) => format!("{parent}.{t}"),
            (None, _) => parent.clone(),
        };
        out.fields.insert(id, full.clone());
        let ft = field.name("FT").or(inherited);
        let kids: Vec<Id> = match field.get("Kids") {
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_ref).collect(),
            _ => Vec::new(),
        };
        let (sub_fields, widgets): (Vec<Id>, Vec<Id>) = kids.into_iter().partition(|k| {
            get(*k).is_some_and(|v| v.get("T").is_some() || v.get("Kids").is_some())
        });
        for k in sub_fields.into_iter().rev() {
            stack.push((k, full.clone(), ft.clone(), depth + 1));
        }
        if ft.as_deref() == Some("Sig") && field.get("V").is_none() {
            let mut w = widgets;
            if field.name("Subtype").as_deref() == Some("Widget") {
                w.push(id);
            }
            out.empty_sig_fields.insert(id, w);
        }
    }
    out
}

/// Keys whose values differ between two dictionaries.
fn changed_keys(old: &Value, new: &Value) -> Vec<String> {
    let empty = BTreeMap::new();
    let (a, b) = (old.dict().unwrap_or(&empty), new.dict().unwrap_or(&empty));
    let mut keys: BTreeSet<&Vec<u8>> = a.keys().collect();
    keys.extend(b.keys());
    let mut out: Vec<String> = keys
        .into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| escape_untrusted(&String::from_utf8_lossy(k)))
        .collect();
    if let (Value::Stream(_, x), Value::Stream(_, y)) = (old, new)
        && x != y
    {
        out.push("stream data".into());
    }
    if old.dict().is_none() && old != new {
        out.push("value".into());
    }
    out
}

fn kind_of(value: &Value) -> String {
    let typed = value.name("Type").or_else(|| value.name("Subtype"));
    match (typed, value) {
        (Some(t), _) => t,
        (None, Value::Stream(..)) => "stream".into(),
        (None, Value::Dict(_)) => "dictionary".into(),
        (None, Value::Array(_)) => "array".into(),
        (None, _) => "value".into(),
    }
}

fn object_name(id: Id) -> String {
    format!("{} {}", id.0, id.1)
}

/// Every difference between the signed revision `old` and the later revision `new`.
fn diff(old: &Snapshot, new: &Snapshot) -> Vec<Change> {
    let mut changes = Vec::new();
    if old.root != new.root {
        return vec![Change::CatalogReplaced];
    }
    let before = layout(old);
    let after = layout(new);
    if before.page_order != after.page_order {
        changes.push(Change::PagesChanged);
    }
    // Objects whose new content is accounted for by a permitted change.
    let mut roots: Vec<Id> = Vec::new();
    let mut judged: BTreeSet<Id> = BTreeSet::new();
    let refs_of = |v: Option<&Value>, roots: &mut Vec<Id>| {
        if let Some(v) = v {
            v.refs(roots);
        }
    };

    for (&field_id, widgets) in &before.empty_sig_fields {
        let name = before.fields.get(&field_id).cloned().unwrap_or_default();
        let (Some(was), Some(now)) = (old.objects.get(&field_id), new.objects.get(&field_id))
        else {
            continue;
        };
        if was != now {
            judged.insert(field_id);
            let keys = changed_keys(was, now);
            let allowed = keys.iter().all(|k| k == "V" || k == "AP");
            let v_new = now.get("V").and_then(Value::as_ref).filter(|v| {
                !old.objects.contains_key(v)
                    && new
                        .objects
                        .get(v)
                        .is_some_and(|s| s.get("ByteRange").is_some())
            });
            if allowed && (now.get("V").is_none() || v_new.is_some()) {
                if now.get("V").is_some() {
                    changes.push(Change::FieldSigned {
                        field: name.clone(),
                    });
                }
                if keys.iter().any(|k| k == "AP") {
                    changes.push(Change::SignatureAppearance {
                        field: name.clone(),
                    });
                }
                refs_of(now.get("V"), &mut roots);
                refs_of(now.get("AP"), &mut roots);
            } else {
                changes.push(Change::FieldChanged {
                    field: name.clone(),
                    keys,
                });
            }
        }
        for &w in widgets.iter().filter(|&&w| w != field_id) {
            let (Some(was), Some(now)) = (old.objects.get(&w), new.objects.get(&w)) else {
                continue;
            };
            if was != now {
                judged.insert(w);
                let keys = changed_keys(was, now);
                if keys.iter().all(|k| k == "AP") {
                    changes.push(Change::SignatureAppearance {
                        field: name.clone(),
                    });
                    refs_of(now.get("AP"), &mut roots);
                } else {
                    changes.push(Change::FieldChanged {
                        field: name.clone(),
                        keys,
                    });
                }
            }
        }
    }

    let form_rules = |was: &Value, now: &Value, changes: &mut Vec<Change>, roots: &mut Vec<Id>| {
        let keys = changed_keys(was, now);
        let (fine, bad): (Vec<String>, Vec<String>) = keys
            .into_iter()
            .partition(|k| matches!(k.as_str(), "SigFlags" | "DR" | "DA" | "NeedAppearances"));
        if !fine.is_empty() {
            changes.push(Change::FormResources);
            refs_of(now.get("DR"), roots);
        }
        if bad.iter().any(|k| k == "Fields") {
            let listed = |v: &Value| -> BTreeSet<Id> {
                match v.get("Fields") {
                    Some(Value::Array(items)) => items.iter().filter_map(Value::as_ref).collect(),
                    _ => BTreeSet::new(),
                }
            };
            let (a, b) = (listed(was), listed(now));
            for added in b.difference(&a) {
                let field = after
                    .fields
                    .get(added)
                    .cloned()
                    .unwrap_or_else(|| object_name(*added));
                changes.push(Change::FieldAdded { field });
            }
            for removed in a.difference(&b) {
                let field = before
                    .fields
                    .get(removed)
                    .cloned()
                    .unwrap_or_else(|| object_name(*removed));
                changes.push(Change::FieldChanged {
                    field,
                    keys: vec!["removed".into()],
                });
            }
        }
        let other: Vec<String> = bad.into_iter().filter(|k| k != "Fields").collect();
        if !other.is_empty() {
            changes.push(Change::CatalogChanged {
                keys: other.into_iter().map(|k| format!("AcroForm {k}")).collect(),
            });
        }
    };

    if let (Some(was), Some(now)) = (old.objects.get(&old.root), new.objects.get(&new.root))
        && was != now
    {
        judged.insert(new.root);
        let mut bad = Vec::new();
        for key in changed_keys(was, now) {
            match key.as_str() {
                "DSS" => {
                    changes.push(Change::ValidationData);
                    refs_of(now.get("DSS"), &mut roots);
                }
                "Metadata" => {
                    changes.push(Change::Metadata);
                    refs_of(now.get("Metadata"), &mut roots);
                }
                "Extensions" | "Version" => {}
                "AcroForm" => match (was.get("AcroForm"), now.get("AcroForm")) {
                    (Some(a @ Value::Dict(_)), Some(b @ Value::Dict(_))) => {
                        form_rules(a, b, &mut changes, &mut roots);
                    }
                    _ => bad.push(key),
                },
                _ => bad.push(key),
            }
        }
        if !bad.is_empty() {
            changes.push(Change::CatalogChanged { keys: bad });
        }
    }
    if let Some(form) = before.acroform
        && after.acroform == Some(form)
        && let (Some(was), Some(now)) = (old.objects.get(&form), new.objects.get(&form))
        && was != now
    {
        judged.insert(form);
        form_rules(was, now, &mut changes, &mut roots);
    }
    for (special, change) in [
        (before.dss, Change::ValidationData),
        (before.metadata, Change::Metadata),
    ] {
        if let Some(id) = special
            && let (Some(was), Some(now)) = (old.objects.get(&id), new.objects.get(&id))
            && was != now
        {
            judged.insert(id);
            changes.push(change);
            refs_of(Some(now), &mut roots);
        }
    }

    // Every other changed object is not permitted; name it as precisely as we can.
    for (id, now) in &new.objects {
        let Some(was) = old.objects.get(id) else {
            continue;
        };
        if was == now || judged.contains(id) {
            continue;
        }
        if let Some(&page) = after.pages.get(id) {
            let keys = changed_keys(was, now);
            for key in &keys {
                if key == "Contents" {
                    changes.push(Change::PageContent { page });
                }
            }
            if keys.iter().any(|k| k == "Annots") {
                annotation_changes(old, new, &before, &after, page, &mut changes);
            }
            let rest: Vec<String> = keys
                .into_iter()
                .filter(|k| k != "Contents" && k != "Annots")
                .collect();
            if !rest.is_empty() {
                changes.push(Change::PageChanged { page, keys: rest });
            }
        } else if let Some(&page) = after.contents.get(id).or(before.contents.get(id)) {
            changes.push(Change::PageContent { page });
        } else if let Some((page, subtype)) = after.annots.get(id).or(before.annots.get(id)) {
            if before.annots.contains_key(id) && !after.annots.contains_key(id) {
                // Reported with the page's /Annots.
                continue;
            }
            changes.push(Change::AnnotationChanged {
                page: *page,
                subtype: subtype.clone(),
            });
        } else if let Some(field) = after.fields.get(id) {
            changes.push(Change::FieldChanged {
                field: field.clone(),
                keys: changed_keys(was, now),
            });
        } else {
            changes.push(Change::ObjectChanged {
                object: object_name(*id),
                kind: kind_of(now),
            });
        }
    }
    for id in old.objects.keys().filter(|id| new.dangling.contains(id)) {
        let kind = old.objects.get(id).map(kind_of).unwrap_or_default();
        changes.push(Change::ObjectRemoved {
            object: object_name(*id),
            kind,
        });
    }
    for id in new.objects.keys().filter(|id| old.dangling.contains(id)) {
        changes.push(Change::DefinedLater {
            object: object_name(*id),
        });
    }

    // New objects reached from a permitted change are part of it.
    let mut permitted_new = BTreeSet::new();
    while let Some(id) = roots.pop() {
        if old.objects.contains_key(&id) || !permitted_new.insert(id) {
            continue;
        }
        if let Some(v) = new.objects.get(&id) {
            v.refs(&mut roots);
        }
    }
    let reported_forbidden = changes.iter().any(|c| !c.permitted_under(2));
    if !reported_forbidden {
        // Defensive: a new object must be explained by a permitted change.
        for (id, v) in &new.objects {
            if !old.objects.contains_key(id) && !permitted_new.contains(id) {
                changes.push(Change::ObjectAdded {
                    object: object_name(*id),
                    kind: kind_of(v),
                });
            }
        }
    }
    if old.info != new.info {
        changes.push(Change::Metadata);
    }
    changes.dedup();
    changes
}

fn annotation_changes(
    old: &Snapshot,
    new: &Snapshot,
    before: &Layout,
    after: &Layout,
    page: usize,
    changes: &mut Vec<Change>,
) {
    let on_page = |layout: &Layout| -> BTreeSet<Id> {
        layout
            .annots
            .iter()
            .filter(|(_, (p, _))| *p == page)
            .map(|(id, _)| *id)
            .collect()
    };
    let (a, b) = (on_page(before), on_page(after));
    for id in b.difference(&a) {
        let subtype = after
            .annots
            .get(id)
            .map(|x| x.1.clone())
            .unwrap_or_default();
        let _ = new;
        changes.push(Change::AnnotationAdded { page, subtype });
    }
    for id in a.difference(&b) {
        let subtype = before
            .annots
            .get(id)
            .map(|x| x.1.clone())
            .unwrap_or_default();
        let _ = old;
        changes.push(Change::AnnotationRemoved { page, subtype });
    }
}

/// Every difference between the revision ending at `signed_end` and the whole file.
pub fn changes(bytes: &[u8], signed_end: usize) -> Vec<Change> {
    let shared = Arc::new(bytes.to_vec());
    let mut cache = BTreeMap::new();
    changes_cached(&shared, signed_end, &mut cache)
}

fn changes_cached(
    shared: &Arc<Vec<u8>>,
    signed_end: usize,
    cache: &mut BTreeMap<usize, Result<Snapshot, String>>,
) -> Vec<Change> {
    let len = shared.len();
    for end in [signed_end, len] {
        cache.entry(end).or_insert_with(|| {
            if end > len {
                return Err("the signed revision lies past the end of the file".into());
            }
            open_prefix(shared, end)
                .ok_or_else(|| "its structure cannot be read".to_string())
                .and_then(|pdf| snapshot(&pdf))
        });
    }
    match (&cache[&signed_end], &cache[&len]) {
        (Ok(old), Ok(new)) => diff(old, new),
        (Err(e), _) | (_, Err(e)) => vec![Change::Unreadable { detail: e.clone() }],
    }
}

/// The verdict on one embedded signature.
#[derive(Debug, Clone, Serialize)]
pub struct SignatureVerdict {
    /// Where it is, what it covers, the structure checks.
    #[serde(flatten)]
    pub signature: EmbeddedSignature,
    /// The signer's certificate, when found.
    pub signer: Option<CertSummary>,
    /// The digest algorithm the signer used.
    pub digest_algorithm: Option<super::pkix::Hash>,
    /// The signature algorithm, as an OID with its name.
    pub signature_algorithm: Option<String>,
    /// The time used for certificate checks: the signed signing-time attribute, else /M.
    pub checked_at: Option<DateTime<Utc>>,
    /// True when the covered bytes are unchanged and the signature is genuine.
    pub intact: bool,
    /// Whether the signer's certificate leads to an anchor the user gave; `None` when the
    /// signature could not be read far enough to tell.
    pub trust: Option<Trust>,
    /// What was added after the revision this signature covers.
    pub changes_after: Vec<Change>,
    /// True when every change after it is permitted by the document's certification.
    pub changes_permitted: bool,
    /// Every reason this signature is not valid (trust aside); empty when it is.
    pub reasons: Vec<String>,
    /// The full CMS check, for callers that need the certificates.
    #[serde(skip)]
    pub cms: Option<CmsVerification>,
}

impl SignatureVerdict {
    /// Intact, well-formed, and followed only by permitted changes (trust is separate).
    pub fn valid(&self) -> bool {
        self.reasons.is_empty() && self.intact
    }

    /// Valid and signed by a certificate that leads to an anchor the user gave.
    pub fn trusted(&self) -> bool {
        self.valid() && self.trust.as_ref().is_some_and(Trust::is_trusted)
    }
}

/// The verdict on all embedded signatures of one PDF.
#[derive(Debug, Clone, Serialize)]
pub struct PdfVerdict {
    /// File length in bytes.
    pub len: usize,
    /// Every revision, oldest first.
    pub revisions: Vec<Revision>,
    /// Each signature, in field order.
    pub signatures: Vec<SignatureVerdict>,
    /// Signature fields still empty.
    pub empty_fields: Vec<String>,
    /// Set when the file could not be examined at all.
    pub unreadable: Option<Unreadable>,
}

/// Checks every signature embedded in `bytes`, trusting only `anchors`.
///
/// For each: the /ByteRange structure, the CMS signature over exactly those bytes, the
/// certification path to an anchor at the signing time, and, when it does not cover the
/// whole file, what the later revisions changed, judged by the DocMDP level of the
/// document's certification signature (level 2, form filling and signing, when none).
pub fn verify(bytes: &[u8], anchors: &TrustAnchors) -> PdfVerdict {
    let shared = Arc::new(bytes.to_vec());
    let inspection = match inspect_shared(&shared) {
        Ok(i) => i,
        Err(unreadable) => {
            return PdfVerdict {
                len: bytes.len(),
                revisions: revisions(bytes),
                signatures: Vec::new(),
                empty_fields: Vec::new(),
                unreadable: Some(unreadable),
            };
        }
    };
    let level = inspection
        .signatures
        .iter()
        .find_map(|s| s.certification)
        .unwrap_or(2);
    let mut cache = BTreeMap::new();
    let signatures = inspection
        .signatures
        .iter()
        .map(|sig| verdict_for(&shared, sig, anchors, level, &mut cache))
        .collect();
    PdfVerdict {
        len: inspection.len,
        revisions: inspection.revisions,
        signatures,
        empty_fields: inspection.empty_fields,
        unreadable: None,
    }
}

fn verdict_for(
    shared: &Arc<Vec<u8>>,
    sig: &EmbeddedSignature,
    anchors: &TrustAnchors,
    level: u8,
    cache: &mut BTreeMap<usize, Result<Snapshot, String>>,
) -> SignatureVerdict {
    let bytes = shared.as_slice();
    let mut reasons: Vec<String> = sig.problems.iter().map(ToString::to_string).collect();
    let mut out = SignatureVerdict {
        signature: sig.clone(),
        signer: None,
        digest_algorithm: None,
        signature_algorithm: None,
        checked_at: sig.signing_time,
        intact: false,
        trust: None,
        changes_after: Vec::new(),
        changes_permitted: true,
        reasons: Vec::new(),
        cms: None,
    };
    if let Some([(a, b), (c, d)]) = sig.ranges
        && !sig.contents.is_empty()
    {
        let mut v = cms::verify(&sig.contents, &[&bytes[a..b], &bytes[c..d]]);
        out.intact = v.intact();
        if let Some(problem) = &v.problem {
            reasons.push(problem.to_string());
        }
        out.checked_at = v.signing_time.or(sig.signing_time);
        out.signer = v.signer.clone();
        out.digest_algorithm = v.digest_algorithm;
        out.signature_algorithm = v.signature_algorithm.clone();
        if let Some(at) = out.checked_at {
            out.trust = Some(v.check_trust(anchors, at).clone());
        } else {
            reasons.push(
                "it states no signing time (/M), so its certificate cannot be checked".into(),
            );
        }
        out.cms = Some(v);
        if !sig.covers_whole_file && sig.revision.is_some() {
            out.changes_after = changes_cached(shared, d, cache);
            let forbidden: Vec<&Change> = out
                .changes_after
                .iter()
                .filter(|c| !c.permitted_under(level))
                .collect();
            out.changes_permitted = forbidden.is_empty();
            for change in forbidden {
                reasons.push(format!("after it was signed, {change}"));
            }
        }
    }
    out.reasons = reasons;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pdf_dates() {
        let t = parse_pdf_date("D:20260601000000Z").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-06-01T00:00:00+00:00");
        let t = parse_pdf_date("D:20260601120000+02'00'").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-06-01T10:00:00+00:00");
        assert_eq!(
            parse_pdf_date("D:2026").unwrap().to_rfc3339(),
            "2026-01-01T00:00:00+00:00"
        );
        for bad in ["", "D:", "D:20261301", "D:2026x1", "D:20260601000000Q"] {
            assert_eq!(parse_pdf_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn revision_ends_need_a_startxref_that_points_back() {
        let pdf = b"%PDF-1.7\nxref\n0 1\ntrailer<<>>\nstartxref\n9\n%%EOF\nstream %%EOF here\n1 0 obj<<>>endobj\nstartxref\n63\n%%EOF";
        let revs = revisions(pdf);
        assert_eq!(revs.len(), 2, "{revs:?}");
        assert_eq!(revs[0].startxref, 9);
        assert_eq!(revs[1].end, pdf.len());
        assert!(revisions(b"startxref\n999\n%%EOF").is_empty());
    }

    #[test]
    fn garbage_is_unreadable_not_a_panic() {
        for bad in [&b""[..], b"%PDF-", b"%PDF-1.7\n%%EOF", b"hello"] {
            let v = verify(bad, &TrustAnchors::default());
            assert!(v.unreadable.is_some() || v.signatures.is_empty());
        }
    }
}
