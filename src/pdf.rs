//! PDF writing: laid-out pages become reproducible PDF bytes.
//!
//! In: the [`Page`]s from `layout`, the [`Document`]'s metadata and the [`Fonts`]. Out:
//! the bytes of a PDF whose fonts are embedded as per-document subsets (tagged with six
//! letters derived from the glyphs used, with a ToUnicode map), whose Info dictionary
//! carries the document's title, author, subject, keywords and date (never the clock),
//! and whose trailer `/ID` is a hash of the content. The same pages give the same bytes
//! in any process. This is the only module that uses printpdf and lopdf.
//!
//! Division of labour: `subset` cuts each face down to the document's glyphs; printpdf
//! builds the document (page tree, Type0/CIDFontType2 font dictionaries with `/W` widths
//! and ToUnicode maps, Info dictionary); this module writes the page content streams
//! itself (see [`content`]) and then fixes up the lopdf document printpdf returns.

mod subset;

use std::collections::BTreeMap;

use flate2::Compression;
use lopdf::{Dictionary, Object, ObjectId, Stream, StringFormat};
use printpdf::{
    FontId, FontMetrics, FontType, OffsetDateTime, Op, ParsedFont, PdfDocument, PdfFont,
    PdfFontHandle, PdfFontMetricsStub, PdfPage, PdfSaveOptions, Pt, TextItem,
};
use sha2::{Digest, Sha256};

use crate::document::Document;
use crate::layout::{self, Face, FontError, Fonts, Item, LayoutError, Page, PageSetup};

/// Why a PDF could not be written.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error(transparent)]
    Layout(#[from] LayoutError),
    #[error("could not subset the font {file}: {reason}")]
    Subset { file: &'static str, reason: String },
    #[error("the character U+{:04X} '{ch}' was laid out in {file}, which has no glyph for it", *ch as u32)]
    Glyph { ch: char, file: &'static str },
    #[error("could not serialise the PDF: {0}")]
    Write(String),
}

/// Fonts and page setup, built once and used for any number of documents.
#[derive(Debug)]
pub struct Typesetter {
    fonts: Fonts,
    setup: PageSetup,
}

impl Typesetter {
    /// Parses the embedded fonts and loads the hyphenation patterns.
    pub fn new(setup: PageSetup) -> Result<Self, FontError> {
        let fonts = Fonts::embedded()?;
        layout::warm_up();
        Ok(Typesetter { fonts, setup })
    }

    /// Lays out and writes `doc` as PDF bytes.
    pub fn render(&self, doc: &Document) -> Result<Vec<u8>, PdfError> {
        let pages = layout::layout(doc, &self.fonts, &self.setup)?;
        write_pdf(doc, &pages, &self.fonts, &self.setup)
    }

    /// The fonts, e.g. to check a field with [`Fonts::first_missing`] before rendering.
    pub fn fonts(&self) -> &Fonts {
        &self.fonts
    }

    /// The page setup every document is laid out with.
    pub fn setup(&self) -> &PageSetup {
        &self.setup
    }
}

/// Resource name of each face in the page resources.
fn resource(face: Face) -> &'static str {
    match face {
        Face::Regular => "FR",
        Face::Bold => "FB",
        Face::Italic => "FI",
        Face::BoldItalic => "FBI",
        Face::Fallback => "FS",
    }
}

/// Writes `pages` (laid out from `doc` with `fonts`) as PDF bytes.
pub fn write_pdf(
    doc: &Document,
    pages: &[Page],
    fonts: &Fonts,
    _setup: &PageSetup,
) -> Result<Vec<u8>, PdfError> {
    // The glyphs each face must carry, from this document's own text only: for every
    // glyph id of the full face, the character it was used for (or None).
    let mut used: BTreeMap<Face, Vec<Option<char>>> = BTreeMap::new();
    for page in pages {
        for item in &page.items {
            if let Item::Line(line) = item {
                for run in &line.runs {
                    let slots = used
                        .entry(run.face)
                        .or_insert_with(|| vec![None; fonts.num_glyphs(run.face)]);
                    for c in run.text.chars() {
                        let gid = fonts.glyph_id(run.face, c).ok_or(PdfError::Glyph {
                            ch: c,
                            file: fonts.file_name(run.face),
                        })?;
                        slots[gid as usize] = Some(c);
                    }
                }
            }
        }
    }

    // Subset every face and tell printpdf about it; it writes the font dictionaries,
    // the /W widths and the ToUnicode maps.
    let mut pdf = PdfDocument::new(&doc.meta.title);
    let mut codes: BTreeMap<Face, Vec<u16>> = BTreeMap::new();
    let mut inventory = vec![Op::StartTextSection];
    for (&face, slots) in &used {
        let gids: Vec<u16> = (0..slots.len() as u16)
            .filter(|&g| slots[g as usize].is_some())
            .collect();
        let sub = subset::subset(fonts.bytes(face), &gids).map_err(|reason| PdfError::Subset {
            file: fonts.file_name(face),
            reason,
        })?;
        // Full-face glyph id → subset glyph id, for the content streams.
        let mut remap = vec![0u16; slots.len()];
        let mut chars: BTreeMap<char, u16> = BTreeMap::new();
        for &gid in &gids {
            let new = sub.new_gid.get(&gid).copied().unwrap_or(0);
            remap[gid as usize] = new;
            if let Some(c) = slots[gid as usize] {
                chars.insert(c, new);
            }
        }
        let font = parsed_font(fonts, face, &sub, &chars);
        pdf.resources
            .fonts
            .map
            .insert(FontId(resource(face).to_owned()), PdfFont::new(font));
        // printpdf learns which glyphs are used from the text it is asked to show.
        inventory.push(Op::SetFont {
            font: PdfFontHandle::External(FontId(resource(face).to_owned())),
            size: Pt(10.0),
        });
        inventory.push(Op::ShowText {
            items: vec![TextItem::Text(chars.keys().collect())],
        });
        codes.insert(face, remap);
    }
    inventory.push(Op::EndTextSection);

    let date = doc
        .meta
        .date
        .and_hms_opt(0, 0, 0)
        .map(|d| d.and_utc().timestamp())
        .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
        .ok_or_else(|| PdfError::Write(format!("date {} out of range", doc.meta.date)))?;
    let info = &mut pdf.metadata.info;
    info.document_title = doc.meta.title.clone();
    info.author = doc.meta.author.clone();
    info.subject = doc.meta.subject.clone();
    info.keywords = doc.meta.keywords.clone();
    info.creator = "dpa".to_owned();
    info.producer = concat!("dpa ", env!("CARGO_PKG_VERSION"), " (printpdf)").to_owned();
    info.creation_date = date;
    info.modification_date = date;
    info.metadata_date = date;

    pdf.pages = pages
        .iter()
        .enumerate()
        .map(|(i, page)| {
            let size = |w: f32, h: f32| printpdf::Rect::from_wh(Pt(w), Pt(h));
            PdfPage {
                media_box: size(page.width, page.height),
                trim_box: size(page.width, page.height),
                crop_box: size(page.width, page.height),
                ops: if i == 0 {
                    inventory.clone()
                } else {
                    Vec::new()
                },
            }
        })
        .collect();

    let opts = PdfSaveOptions {
        optimize: false,
        subset_fonts: false,
        secure: true,
        image_optimization: None,
    };
    let mut warnings = Vec::new();
    let mut lo = pdf.to_lopdf_document(&opts, &mut warnings);
    if let Some(w) = warnings
        .iter()
        .find(|w| w.severity == printpdf::PdfParseErrorSeverity::Error)
    {
        return Err(PdfError::Write(w.msg.clone()));
    }

    // printpdf claims PDF/X with an empty /GTS_PDFXVersion; this file makes no such claim.
    if let Ok(info_ref) = lo.trailer.get(b"Info").and_then(Object::as_reference) {
        if let Ok(Object::Dictionary(info)) = lo.get_object_mut(info_ref) {
            info.remove(b"GTS_PDFXVersion");
        }
    }

    // The page contents are written here, compactly (see `content`).
    let page_ids: Vec<ObjectId> = lo.get_pages().into_values().collect();
    if page_ids.len() != pages.len() {
        return Err(PdfError::Write(format!(
            "printpdf wrote {} pages for {}",
            page_ids.len(),
            pages.len()
        )));
    }
    for (page, id) in pages.iter().zip(page_ids) {
        let contents = lo
            .get_object(id)
            .and_then(Object::as_dict)
            .and_then(|d| d.get(b"Contents"))
            .and_then(Object::as_reference)
            .map_err(|e| PdfError::Write(format!("page without contents: {e}")))?;
        let stream = Stream::new(Dictionary::new(), content(page, fonts, &codes));
        lo.objects.insert(contents, Object::Stream(stream));
    }

    let mut hasher = Sha256::new();
    let mut deflater = Deflater::new();
    for object in lo.objects.values_mut() {
        if let Object::Stream(stream) = object {
            if stream.dict.get(b"Filter").is_err() {
                let packed = deflater.pack(&stream.content)?;
                stream.dict.set("Filter", "FlateDecode");
                stream.set_content(packed);
            }
            hasher.update((stream.content.len() as u64).to_be_bytes());
            hasher.update(&stream.content);
        }
    }
    // The file identifier is a hash of everything that varies between documents: the
    // streams (pages, fonts, ToUnicode maps) and the metadata.
    for value in [&doc.meta.title, &doc.meta.author, &doc.meta.subject]
        .into_iter()
        .chain(&doc.meta.keywords)
    {
        hasher.update((value.len() as u64).to_be_bytes());
        hasher.update(value.as_bytes());
    }
    hasher.update(doc.meta.date.to_string().as_bytes());
    let id = hasher.finalize();
    let id = Object::String(id[..16].to_vec(), StringFormat::Hexadecimal);
    lo.trailer.set("ID", Object::Array(vec![id.clone(), id]));

    let mut out = Vec::with_capacity(64 * 1024);
    lo.save_to(&mut out)
        .map_err(|e| PdfError::Write(e.to_string()))?;
    Ok(out)
}

/// zlib level for all streams: 6 halves the time of 9 for 1% more bytes.
const DEFLATE_LEVEL: u32 = 6;

/// Character → glyph id in a face's subset.
type Codes = BTreeMap<char, u16>;

/// Compresses streams with one reusable deflate state (its window is costly to set up).
struct Deflater {
    z: flate2::Compress,
}

impl Deflater {
    fn new() -> Self {
        Deflater {
            z: flate2::Compress::new(Compression::new(DEFLATE_LEVEL), true),
        }
    }

    fn pack(&mut self, data: &[u8]) -> Result<Vec<u8>, PdfError> {
        self.z.reset();
        let mut out = Vec::with_capacity(data.len() / 2 + 64);
        loop {
            let before = self.z.total_in() as usize;
            let status = self
                .z
                .compress_vec(
                    &data[before.min(data.len())..],
                    &mut out,
                    flate2::FlushCompress::Finish,
                )
                .map_err(|e| PdfError::Write(e.to_string()))?;
            match status {
                flate2::Status::StreamEnd => return Ok(out),
                _ => out.reserve(out.capacity().max(1024)),
            }
        }
    }
}

/// The printpdf font for a subset, named with its subset tag.
fn parsed_font(fonts: &Fonts, face: Face, sub: &subset::Subset, codes: &Codes) -> ParsedFont {
    let name = fonts.postscript_name(face);
    ParsedFont {
        original_bytes: sub.program.clone(),
        font_index: 0,
        font_name: Some(format!("{}+{name}", subset_tag(name, codes))),
        codepoint_to_glyph: codes.iter().map(|(&c, &g)| (c as u32, g)).collect(),
        glyph_widths: sub.advances.clone(),
        units_per_em: sub.units_per_em,
        font_metrics: FontMetrics {
            ascent: sub.ascender,
            descent: sub.descender,
        },
        font_type: FontType::TrueType,
        pdf_font_metrics: PdfFontMetricsStub {
            units_per_em: sub.units_per_em,
            x_min: sub.bbox[0],
            y_min: sub.bbox[1],
            x_max: sub.bbox[2],
            y_max: sub.bbox[3],
            caret_slope_rise: sub.caret_slope_rise,
            caret_slope_run: sub.caret_slope_run,
            us_weight_class: sub.weight_class,
        },
    }
}

/// Six uppercase letters derived from the face and its characters (ISO 32000-1, 9.6.4).
fn subset_tag(name: &str, codes: &Codes) -> String {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    for c in codes.keys() {
        h.update((*c as u32).to_be_bytes());
    }
    h.finalize()[..6]
        .iter()
        .map(|b| (b'A' + b % 26) as char)
        .collect()
}

/// Appends `v` with at most three decimals and no trailing zeros.
fn num(out: &mut Vec<u8>, v: f32) {
    let m = (v as f64 * 1000.0).round() as i64;
    if m < 0 {
        out.push(b'-');
    }
    let m = m.unsigned_abs();
    let (int, frac) = (m / 1000, m % 1000);
    out.extend_from_slice(int.to_string().as_bytes());
    if frac != 0 {
        let digits = [
            b'0' + (frac / 100) as u8,
            b'0' + (frac / 10 % 10) as u8,
            b'0' + (frac % 10) as u8,
        ];
        let len = if frac % 100 == 0 {
            1
        } else if frac % 10 == 0 {
            2
        } else {
            3
        };
        out.push(b'.');
        out.extend_from_slice(&digits[..len]);
    }
}

/// Appends the glyphs of `text` as a PDF literal string of big-endian glyph ids.
fn glyph_string(out: &mut Vec<u8>, text: &str, fonts: &Fonts, face: Face, remap: &[u16]) {
    out.push(b'(');
    for c in text.chars() {
        let gid = fonts
            .glyph_id(face, c)
            .and_then(|g| remap.get(g as usize).copied())
            .unwrap_or(0);
        for b in gid.to_be_bytes() {
            match b {
                b'(' | b')' | b'\\' => out.extend_from_slice(&[b'\\', b]),
                // A raw CR or LF inside a string would be read back as a line end.
                b'\r' => out.extend_from_slice(b"\\r"),
                b'\n' => out.extend_from_slice(b"\\n"),
                _ => out.push(b),
            }
        }
    }
    out.push(b')');
}

/// The content stream of one page: fills and rules, then all text in one text object.
///
/// Written directly rather than through printpdf's operation list: printpdf encodes
/// each glyph as four hex digits through lopdf's formatter, which made the content
/// streams twice as large and cost more time than the whole budget for a document.
fn content(page: &Page, fonts: &Fonts, codes: &BTreeMap<Face, Vec<u16>>) -> Vec<u8> {
    let h = page.height;
    let mut out = Vec::with_capacity(16 * 1024);
    let mut stroke: Option<(f32, f32)> = None;
    let mut fill: Option<f32> = None;
    for item in &page.items {
        match item {
            Item::Fill(f) => {
                if fill != Some(f.gray) {
                    num(&mut out, f.gray);
                    out.extend_from_slice(b" g\n");
                    fill = Some(f.gray);
                }
                for v in [f.rect.x, h - f.rect.bottom(), f.rect.width, f.rect.height] {
                    num(&mut out, v);
                    out.push(b' ');
                }
                out.extend_from_slice(b"re f\n");
            }
            Item::Rule(r) => {
                if stroke != Some((r.thickness, r.gray)) {
                    num(&mut out, r.gray);
                    out.extend_from_slice(b" G ");
                    num(&mut out, r.thickness);
                    out.extend_from_slice(b" w\n");
                    stroke = Some((r.thickness, r.gray));
                }
                for (v, op) in [(r.x1, " "), (h - r.y1, " m "), (r.x2, " "), (h - r.y2, " ")] {
                    num(&mut out, v);
                    out.extend_from_slice(op.as_bytes());
                }
                out.extend_from_slice(b"l S\n");
            }
            Item::Line(_) => {}
        }
    }
    out.extend_from_slice(b"BT\n0 g\n");
    let empty = Vec::new();
    let mut font: Option<(Face, f32)> = None;
    for item in &page.items {
        let Item::Line(line) = item else { continue };
        let y = h - line.baseline;
        for run in &line.runs {
            let codes = codes.get(&run.face).unwrap_or(&empty);
            if font != Some((run.face, line.size)) {
                out.push(b'/');
                out.extend_from_slice(resource(run.face).as_bytes());
                out.push(b' ');
                num(&mut out, line.size);
                out.extend_from_slice(b" Tf\n");
                font = Some((run.face, line.size));
            }
            out.extend_from_slice(b"1 0 0 1 ");
            num(&mut out, run.x);
            out.push(b' ');
            num(&mut out, y);
            out.extend_from_slice(b" Tm\n");
            if line.word_spacing == 0.0 || !run.text.contains(' ') {
                glyph_string(&mut out, &run.text, fonts, run.face, codes);
                out.extend_from_slice(b"Tj\n");
            } else {
                // Tw does not apply to two-byte codes: justify with a TJ displacement
                // (thousandths of an em) after every space.
                let mut adjust = Vec::new();
                num(&mut adjust, -line.word_spacing * 1000.0 / line.size);
                out.push(b'[');
                let mut rest = run.text.as_str();
                while let Some(i) = rest.find(' ') {
                    glyph_string(&mut out, &rest[..=i], fonts, run.face, codes);
                    out.extend_from_slice(&adjust);
                    rest = &rest[i + 1..];
                }
                if !rest.is_empty() {
                    glyph_string(&mut out, rest, fonts, run.face, codes);
                }
                out.extend_from_slice(b"]TJ\n");
            }
        }
    }
    out.extend_from_slice(b"ET\n");
    out
}
