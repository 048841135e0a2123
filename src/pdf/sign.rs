//! The PDF side of an embedded signature: signature fields, the `/Sig` dictionary with
//! its placeholders, and filling in the byte range once the file is written.
//!
//! In: a [`SigningPlan`] (what the vendor's signature shows and says, how much room the
//! CMS needs, the customer's field name) and where the layout put the signature lines.
//! Out: the objects of a certification signature (DocMDP, P = 2) on the vendor's line
//! and an empty signature field on the customer's, both widgets tagged as `Form`
//! elements; and, after the file is serialised, the [`Placeholders`]' offsets, so that
//! [`fill_byte_range`] and [`fill_contents`] can complete the signature without parsing
//! the file again. The CMS itself is made elsewhere (the `sign` stage).

use std::ops::Range;

use chrono::{Datelike, NaiveDateTime, Timelike};
use pdf_writer::types::{AnnotationFlags, FieldType, SigFlags};
use pdf_writer::writers::Catalog;
use pdf_writer::{Chunk, Date, Finish, Name, Rect, Ref, Str, TextStr};

use super::{PdfError, Refs, tags};
use crate::layout::{self, Fonts, Layout, NodeKind};

/// What the writer needs to prepare an embedded certification signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningPlan {
    /// The vendor's signature field name (`/T`), e.g. "Processor signature".
    pub vendor_field: String,
    /// Lines shown in the vendor's signature widget: who signed, when, which key.
    pub appearance: Vec<String>,
    /// `/Name`: the signer's name as the signature dictionary states it.
    pub name: String,
    pub reason: String,
    pub location: String,
    pub contact_info: String,
    /// `/M`, the signing time (UTC), from the document's issue date, never the clock.
    pub signed_at: NaiveDateTime,
    /// Bytes reserved for the DER-encoded CMS `SignedData` (the hex placeholder holds
    /// twice as many digits).
    pub contents_size: usize,
    /// The customer's empty signature field (`/T`), placed on the customer's signature
    /// line; `None`, or a document without a signature block, leaves it out.
    pub customer_field: Option<String>,
}

/// Where the placeholders of the `/Sig` dictionary are in the written file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholders {
    /// The `/ByteRange` array, from `[` to `]` inclusive.
    pub byte_range: Range<usize>,
    /// The `/Contents` hex string, from `<` to `>` inclusive.
    pub contents: Range<usize>,
}

/// The objects that the catalog must point to.
pub(super) struct Fields {
    fields: Vec<Ref>,
    signature: Ref,
}

/// `i32::MAX`: ten digits, wide enough for any offset the filled array can hold.
const RANGE_PLACEHOLDER: i32 = i32::MAX;
/// A byte that `pdf-writer` writes as hex (not ASCII), so the placeholder is `<8080…>`.
const CONTENTS_BYTE: u8 = 0x80;

/// Text lines of the vendor's signature appearance, set for the widget's width.
pub(super) fn appearance_lines(
    plan: &SigningPlan,
    layout: &Layout,
    fonts: &Fonts,
) -> Result<Vec<layout::Line>, PdfError> {
    let Some(lines) = layout.signatures else {
        return Ok(Vec::new());
    };
    let rect = lines.vendor;
    let count = plan.appearance.len().max(1) as f32;
    let size = (rect.height / count / 1.25).clamp(5.0, 8.5);
    plan.appearance
        .iter()
        .map(|text| Ok(layout::appearance_line(text, size, rect.width, fonts)?))
        .collect()
}

/// Writes the signature dictionary, the vendor's signed field and the customer's empty
/// one, their appearances and structure elements; adds the widgets to the pages.
#[allow(clippy::too_many_arguments)]
pub(super) fn fields(
    pdf: &mut Chunk,
    refs: &mut Refs,
    tagger: &mut tags::Tagger<'_>,
    layout: &Layout,
    page_ids: &[Ref],
    annotations: &mut [Vec<Ref>],
    plan: &SigningPlan,
    fonts: &Fonts,
    appearance: &[layout::Line],
    faces: &super::EmbeddedFaces,
) -> Result<Fields, PdfError> {
    let signature = refs.next();
    let mut sig = pdf.indirect(signature).dict();
    sig.pair(Name(b"Type"), Name(b"Sig"))
        .pair(Name(b"Filter"), Name(b"Adobe.PPKLite"))
        .pair(Name(b"SubFilter"), Name(b"ETSI.CAdES.detached"));
    sig.insert(Name(b"ByteRange")).array().items([
        0,
        RANGE_PLACEHOLDER,
        RANGE_PLACEHOLDER,
        RANGE_PLACEHOLDER,
    ]);
    sig.pair(
        Name(b"Contents"),
        Str(&vec![CONTENTS_BYTE; plan.contents_size.max(1)]),
    );
    sig.pair(Name(b"M"), pdf_time(plan.signed_at))
        .pair(Name(b"Name"), TextStr(&plan.name))
        .pair(Name(b"Reason"), TextStr(&plan.reason))
        .pair(Name(b"Location"), TextStr(&plan.location))
        .pair(Name(b"ContactInfo"), TextStr(&plan.contact_info));
    {
        let mut reference = sig.insert(Name(b"Reference")).array();
        let mut r = reference.push().dict();
        r.pair(Name(b"Type"), Name(b"SigRef"))
            .pair(Name(b"TransformMethod"), Name(b"DocMDP"));
        r.insert(Name(b"TransformParams"))
            .dict()
            .pair(Name(b"Type"), Name(b"TransformParams"))
            .pair(Name(b"P"), 2)
            .pair(Name(b"V"), Name(b"1.2"));
    }
    sig.finish();

    let places = layout.signatures;
    let page = places.map_or(0, |s| s.page);
    let height = layout.pages.get(page).map_or(0.0, |p| p.height);
    let pdf_rect = |r: layout::Rect| Rect::new(r.x, height - r.bottom(), r.right(), height - r.y);

    let mut fields = Vec::new();
    // The vendor's field: signed, locked, shown on its signature line (invisible in a
    // document without a signature block, such as a change notice).
    let vendor = refs.next();
    let vendor_node = tagger.add(NodeKind::Form, places.map(|s| s.vendor_node));
    let key = tagger.annotation(page, vendor_node, vendor);
    let (rect, ap) = match places {
        Some(s) => {
            let ap = refs.next();
            let content = super::appearance_content(appearance, s.vendor, fonts, faces);
            let mut form = pdf.form_xobject(ap, &content);
            form.bbox(Rect::new(0.0, 0.0, s.vendor.width, s.vendor.height));
            let mut res = form.resources();
            let mut f = res.fonts();
            for (face, embedded) in faces {
                if appearance
                    .iter()
                    .any(|l| l.runs.iter().any(|r| r.face == *face))
                {
                    f.pair(Name(super::resource(*face).as_bytes()), embedded.type0);
                }
            }
            f.finish();
            res.finish();
            form.finish();
            (pdf_rect(s.vendor), Some(ap))
        }
        None => (Rect::new(0.0, 0.0, 0.0, 0.0), None),
    };
    {
        let mut w = pdf.form_field(vendor);
        w.field_type(FieldType::Signature)
            .partial_name(TextStr(&plan.vendor_field))
            .alternate_name(TextStr(&format!("Signature: {}", plan.name)));
        w.pair(Name(b"V"), signature);
        let mut annot = w.into_annotation();
        annot
            .rect(rect)
            .page(page_ids[page])
            .flags(AnnotationFlags::PRINT | AnnotationFlags::LOCKED)
            .struct_parent(key);
        if let Some(ap) = ap {
            annot.appearance().normal().stream(ap);
        }
    }
    annotations[page].push(vendor);
    fields.push(vendor);

    // The customer's field: empty, for the customer to sign in place.
    if let (Some(name), Some(s)) = (&plan.customer_field, places) {
        let customer = refs.next();
        let node = tagger.add(NodeKind::Form, Some(s.customer_node));
        let key = tagger.annotation(s.page, node, customer);
        let ap = refs.next();
        let mut form = pdf.form_xobject(ap, b"");
        form.bbox(Rect::new(0.0, 0.0, s.customer.width, s.customer.height));
        form.finish();
        let mut w = pdf.form_field(customer);
        w.field_type(FieldType::Signature)
            .partial_name(TextStr(name))
            .alternate_name(TextStr("Signature of the customer (sign here)"));
        let mut annot = w.into_annotation();
        annot
            .rect(pdf_rect(s.customer))
            .page(page_ids[s.page])
            .flags(AnnotationFlags::PRINT)
            .struct_parent(key);
        annot.appearance().normal().stream(ap);
        annot.finish();
        annotations[s.page].push(customer);
        fields.push(customer);
    }
    Ok(Fields { fields, signature })
}

/// The catalog's `/AcroForm` (both fields, `/SigFlags 3`) and `/Perms` (`/DocMDP`).
pub(super) fn catalog_entries(catalog: &mut Catalog<'_>, fields: &Fields) {
    catalog
        .form()
        .fields(fields.fields.iter().copied())
        .sig_flags(SigFlags::SIGNATURES_EXIST | SigFlags::APPEND_ONLY);
    catalog
        .insert(Name(b"Perms"))
        .dict()
        .pair(Name(b"DocMDP"), fields.signature);
}

/// A signing time as a PDF date in UTC.
fn pdf_time(t: NaiveDateTime) -> Date {
    Date::new(t.year().clamp(0, 9999) as u16)
        .month(t.month() as u8)
        .day(t.day() as u8)
        .hour(t.hour() as u8)
        .minute(t.minute() as u8)
        .second(t.second() as u8)
        .utc_offset_hour(0)
        .utc_offset_minute(0)
}

/// Finds the two placeholders in the written file; each must occur exactly once.
pub(super) fn find_placeholders(pdf: &[u8]) -> Result<Placeholders, PdfError> {
    let digits = RANGE_PLACEHOLDER.to_string();
    let range_text = format!("[0 {digits} {digits} {digits}]");
    let byte_range = unique(pdf, range_text.as_bytes(), "/ByteRange")?;
    // The contents placeholder: `<` then only `80` pairs then `>`.
    let key = b"/Contents<8080";
    let at = unique(pdf, key, "/Contents")?.start + b"/Contents".len();
    let end = pdf[at + 1..]
        .iter()
        .position(|&b| b == b'>')
        .map(|p| at + 1 + p + 1)
        .ok_or_else(|| PdfError::Write("unterminated /Contents placeholder".into()))?;
    Ok(Placeholders {
        byte_range,
        contents: at..end,
    })
}

fn unique(hay: &[u8], needle: &[u8], what: &str) -> Result<Range<usize>, PdfError> {
    // memchr's substring search: a byte-by-byte window scan of the whole file was a
    // third of the embedded signature's cost.
    let mut found = memchr::memmem::find_iter(hay, needle);
    match (found.next(), found.next()) {
        (Some(i), None) => Ok(i..i + needle.len()),
        (None, _) => Err(PdfError::Write(format!(
            "no {what} placeholder in the file"
        ))),
        (Some(_), Some(_)) => Err(PdfError::Write(format!(
            "the {what} placeholder occurs more than once"
        ))),
    }
}

/// Writes the real `/ByteRange` over its placeholder (padded with spaces to the same
/// width) and returns the two ranges of the file that the signature covers: everything
/// but the `/Contents` hex string.
pub fn fill_byte_range(
    pdf: &mut [u8],
    places: &Placeholders,
) -> Result<[Range<usize>; 2], PdfError> {
    let (a, b) = (places.contents.start, places.contents.end);
    if b > pdf.len() || places.byte_range.end > a || a >= b {
        return Err(PdfError::Write(
            "placeholders out of order or outside the file".into(),
        ));
    }
    let text = format!("[0 {a} {b} {}]", pdf.len() - b);
    let width = places.byte_range.len();
    if text.len() > width {
        return Err(PdfError::Write(
            "the byte range does not fit its placeholder".into(),
        ));
    }
    let mut padded = text.into_bytes();
    // Spaces before the closing bracket keep the array well-formed.
    let close = padded.pop().unwrap_or(b']');
    padded.resize(width - 1, b' ');
    padded.push(close);
    pdf[places.byte_range.clone()].copy_from_slice(&padded);
    Ok([0..a, b..pdf.len()])
}

/// Writes the DER-encoded CMS into the `/Contents` placeholder, as hex padded with
/// zeros; fails if it does not fit.
pub fn fill_contents(pdf: &mut [u8], places: &Placeholders, cms: &[u8]) -> Result<(), PdfError> {
    let room = places.contents.len() - 2;
    if cms.len() * 2 > room {
        return Err(PdfError::Write(format!(
            "the signature ({} bytes) is larger than the {} bytes reserved for it",
            cms.len(),
            room / 2
        )));
    }
    let digits = &mut pdf[places.contents.start + 1..places.contents.end - 1];
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for (i, byte) in cms.iter().enumerate() {
        digits[2 * i] = HEX[(byte >> 4) as usize];
        digits[2 * i + 1] = HEX[(byte & 15) as usize];
    }
    digits[cms.len() * 2..].fill(b'0');
    Ok(())
}
