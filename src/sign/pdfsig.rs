//! The signatures inside a PDF: where they are, which revision each covers, what changed
//! after it, and whether each one holds.
//!
//! In: the bytes of a PDF and the trust anchors the user gave. Out: [`inspect`] lists the
//! revisions (incremental updates) and every signature field and dictionary with its
//! /ByteRange checked: four integers, starting at 0, skipping exactly the /Contents hex
//! string of that very dictionary, inside the file, ending at a revision end. [`verify`]
//! puts it together with [`super::cms`] (is each signature genuine and trusted) and
//! [`super::changes`] (what later revisions changed, and whether the document's
//! certification permits it). Malformed, truncated or hostile input gives a "not valid"
//! answer with the reason, never a panic.
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
use hayro_syntax::object::{Dict, Object, ObjectIdentifier};
use serde::Serialize;

use super::changes::{Change, SnapshotCache, changes_cached};
use super::cms::{self, CmsVerification, Trust};
use super::pkix::{CertSummary, TrustAnchors, escape_untrusted};

/// Field tree depth and page tree depth at most.
pub(crate) const MAX_DEPTH: usize = 64;
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

pub(crate) fn open_prefix(bytes: &Arc<Vec<u8>>, end: usize) -> Option<Pdf> {
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
    cache: &mut SnapshotCache,
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
        let mut pdf =
            b"%PDF-1.7\nxref\n0 1\ntrailer<<>>\nstartxref\n9\n%%EOF\nstream %%EOF here\n".to_vec();
        let update = pdf.len();
        pdf.extend_from_slice(format!("1 0 obj<<>>endobj\nstartxref\n{update}\n%%EOF").as_bytes());
        let revs = revisions(&pdf);
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
