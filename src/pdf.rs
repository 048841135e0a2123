//! PDF writing: laid-out pages become reproducible PDF bytes.
//!
//! In: the [`Page`]s from `layout`, the [`Document`]'s metadata and the [`Fonts`]. Out:
//! the bytes of a PDF whose fonts are embedded as per-document subsets (tagged with six
//! letters derived from the glyphs used, with a ToUnicode map), whose Info dictionary
//! carries the document's title, author, subject, keywords and date (never the clock),
//! and whose trailer `/ID` is a hash of the content. The same pages give the same bytes
//! in any process. This is the only module that uses printpdf and lopdf.
//!
//! Division of labour: `subset` cuts each face down to the document's glyphs. printpdf
//! builds the document: page tree, Info dictionary and the Type0/CIDFontType2 font
//! dictionaries with their `/W` widths; it learns which glyphs each face uses from one
//! text operation per face on the first page. This module then, on the lopdf document
//! printpdf returns, replaces every page's content stream with its own (see
//! [`content`]), switches faces of at most 256 glyphs to one-byte codes (its own CMap
//! and ToUnicode map, so that `Tw` can justify), removes `/GTS_PDFXVersion`, sets the
//! `/ID` and compresses the streams.

mod subset;

use std::collections::BTreeMap;

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
    let mut codes: BTreeMap<Face, Embedded> = BTreeMap::new();
    let mut inventory = vec![Op::StartTextSection];
    for (&face, slots) in &used {
        let mut gids: Vec<u16> = (0..slots.len() as u16)
            .filter(|&g| slots[g as usize].is_some())
            .collect();
        // The space glyph is always embedded: with one-byte codes it takes code 32, so
        // that no other glyph is stretched by the word spacing (Tw) of justified lines.
        let space = fonts.glyph_id(face, ' ');
        if let Some(sp) = space.filter(|sp| !gids.contains(sp)) {
            gids.push(sp);
            gids.sort_unstable();
        }
        let sub =
            subset::subset(fonts.bytes(face), &gids, space).map_err(|reason| PdfError::Subset {
                file: fonts.file_name(face),
                reason,
            })?;
        let one_byte = sub.new_gid.len() <= 256;
        let space_cid = space.and_then(|sp| sub.new_gid.get(&sp).copied());
        let swap = if one_byte {
            space_cid.filter(|&c| c != 32)
        } else {
            None
        };
        // Code in the content stream for each subset glyph (CID): the glyph id itself,
        // except that the space and whatever had code 32 trade places.
        let code = |cid: u16| match swap {
            Some(sp) if cid == sp => 32,
            Some(sp) if cid == 32 => sp,
            _ => cid,
        };
        // Full-face glyph id → code, for the content streams; character → CID for
        // printpdf (/W and its inventory) and character → code for the ToUnicode map.
        let mut remap = vec![0u16; slots.len()];
        let mut chars: Codes = BTreeMap::new();
        let mut char_codes: Codes = BTreeMap::new();
        for &gid in &gids {
            let cid = sub.new_gid.get(&gid).copied().unwrap_or(0);
            remap[gid as usize] = code(cid);
            if let Some(c) = slots[gid as usize] {
                chars.insert(c, cid);
                char_codes.insert(c, code(cid));
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
        let mut ascii = [0u16; 128];
        for (b, slot) in ascii.iter_mut().enumerate() {
            if let Some(g) = fonts.glyph_id(face, b as u8 as char) {
                *slot = remap[g as usize];
            }
        }
        codes.insert(
            face,
            Embedded {
                remap,
                ascii,
                one_byte,
                swap,
                name: font_name(fonts, face, &chars),
                chars: char_codes,
            },
        );
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
    if let Ok(info_ref) = lo.trailer.get(b"Info").and_then(Object::as_reference)
        && let Ok(Object::Dictionary(info)) = lo.get_object_mut(info_ref)
    {
        info.remove(b"GTS_PDFXVersion");
    }

    attach(&mut lo, &doc.attachments)?;

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

    one_byte_encodings(&mut lo, &codes);

    let mut hasher = Sha256::new();
    DEFLATERS.with_borrow_mut(|(text, font)| -> Result<(), PdfError> {
        for object in lo.objects.values_mut() {
            if let Object::Stream(stream) = object {
                if stream.dict.get(b"Filter").is_err() {
                    let packed = if stream.dict.get(b"Length1").is_ok() {
                        font.pack(&stream.content)?
                    } else {
                        text.pack(&stream.content)?
                    };
                    stream.dict.set("Filter", "FlateDecode");
                    stream.set_content(packed);
                }
                hasher.update((stream.content.len() as u64).to_be_bytes());
                hasher.update(&stream.content);
            }
        }
        Ok(())
    })?;
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

/// zlib level for page contents and CMaps: on the test document level 2 takes 60% of
/// the time of level 6 for 2% more bytes.
const TEXT_LEVEL: i32 = 2;
/// zlib level for font programs: binary outlines gain little from harder work (level 1
/// saves 15% of their size, level 6 18% at three times the time).
const FONT_LEVEL: i32 = 1;

/// Character → glyph id (CID) or code in a face's subset.
type Codes = BTreeMap<char, u16>;

thread_local! {
    /// Deflate states for text and font streams, kept per thread: their windows and
    /// tables cost more to set up than a document's streams cost to compress. A reset
    /// state compresses exactly like a new one, so reuse cannot change any output.
    static DEFLATERS: std::cell::RefCell<(Deflater, Deflater)> =
        std::cell::RefCell::new((Deflater::new(TEXT_LEVEL), Deflater::new(FONT_LEVEL)));
}

/// Compresses streams (zlib framing, for `/FlateDecode`), reusing one deflate state
/// and one output buffer: setting them up per stream cost more than compressing.
struct Deflater {
    z: zlib_rs::Deflate,
    buf: Vec<u8>,
}

impl Deflater {
    fn new(level: i32) -> Self {
        Deflater {
            z: zlib_rs::Deflate::new(level, true, 15),
            buf: Vec::new(),
        }
    }

    fn pack(&mut self, data: &[u8]) -> Result<Vec<u8>, PdfError> {
        self.z.reset();
        let bound = zlib_rs::compress_bound(data.len());
        if self.buf.len() < bound {
            self.buf.resize(bound, 0);
        }
        match self
            .z
            .compress(data, &mut self.buf[..bound], zlib_rs::DeflateFlush::Finish)
        {
            Ok(zlib_rs::Status::StreamEnd) => Ok(self.buf[..self.z.total_out() as usize].to_vec()),
            other => Err(PdfError::Write(format!("deflate failed: {other:?}"))),
        }
    }
}

/// The printpdf font for a subset, named with its subset tag.
fn parsed_font(fonts: &Fonts, face: Face, sub: &subset::Subset, codes: &Codes) -> ParsedFont {
    ParsedFont {
        original_bytes: sub.program.clone(),
        font_index: 0,
        font_name: Some(font_name(fonts, face, codes)),
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

/// A face as embedded in one document.
struct Embedded {
    /// Full-face glyph id → code.
    remap: Vec<u16>,
    /// Code per ASCII character, for the common case.
    ascii: [u16; 128],
    /// Character → code in the content stream.
    chars: Codes,
    /// Subset glyph ids fit in one byte, so text is shown with one byte per glyph.
    one_byte: bool,
    /// With one-byte codes: the space glyph's id, when it is not 32 already; the
    /// space is shown with code 32 (and glyph 32 with this code).
    swap: Option<u16>,
    /// The `/BaseFont`, subset tag included.
    name: String,
}

/// The subset-tagged PostScript name of a face, e.g. `QKRFSH+LiberationSerif-Bold`.
fn font_name(fonts: &Fonts, face: Face, codes: &Codes) -> String {
    let name = fonts.postscript_name(face);
    format!("{}+{name}", subset_tag(name, codes))
}

/// A CMap for one-byte codes: each code is the CID (subset glyph id) of the same
/// number, except that the space's CID and CID 32 trade codes when `swap` is given.
/// Code 32 as a single byte is what `Tw` (word spacing) applies to.
fn one_byte_cmap(name: &str, swap: Option<u16>) -> Vec<u8> {
    let mut out = format!(
        "%!PS-Adobe-3.0 Resource-CMap\n/CIDInit /ProcSet findresource begin\n12 dict begin\n\
         begincmap\n/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> def\n\
         /CMapName /{name} def\n/CMapType 1 def\n\
         1 begincodespacerange\n<00> <FF>\nendcodespacerange\n"
    );
    match swap {
        None => out.push_str("1 begincidrange\n<00> <FF> 0\nendcidrange\n"),
        Some(sp) => {
            // Identity everywhere but at the two swapped codes.
            let (lo, hi) = (sp.min(32), sp.max(32));
            let mut ranges: Vec<(u16, u16)> = Vec::new();
            if lo > 0 {
                ranges.push((0, lo - 1));
            }
            if lo + 1 < hi {
                ranges.push((lo + 1, hi - 1));
            }
            if hi < 255 {
                ranges.push((hi + 1, 255));
            }
            out.push_str(&format!("{} begincidrange\n", ranges.len()));
            for (a, b) in ranges {
                out.push_str(&format!("<{a:02X}> <{b:02X}> {a}\n"));
            }
            out.push_str(&format!(
                "endcidrange\n2 begincidchar\n<20> {sp}\n<{sp:02X}> 32\nendcidchar\n"
            ));
        }
    }
    out.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    out.into_bytes()
}

/// Switches every face with at most 256 subset glyphs to one-byte codes.
///
/// printpdf always writes `/Identity-H` (two bytes per glyph); a one-byte CMap halves
/// the text in the content streams, and with it the time spent compressing them. The
/// ToUnicode map is rewritten for the one-byte codes.
fn one_byte_encodings(lo: &mut lopdf::Document, faces: &BTreeMap<Face, Embedded>) {
    let by_name: BTreeMap<&[u8], &Embedded> = faces
        .values()
        .filter(|e| e.one_byte)
        .map(|e| (e.name.as_bytes(), e))
        .collect();
    let targets: Vec<(ObjectId, &Embedded)> = lo
        .objects
        .iter()
        .filter_map(|(&id, obj)| {
            let d = obj.as_dict().ok()?;
            if d.get(b"Subtype").and_then(Object::as_name).ok()? != b"Type0" {
                return None;
            }
            let name = d.get(b"BaseFont").and_then(Object::as_name).ok()?;
            by_name.get(name).map(|e| (id, *e))
        })
        .collect();
    for (id, embedded) in targets {
        // The CMap is named after the face's subset tag, so each face has its own.
        let cmap_name = format!("DPA-{}-OneByte", &embedded.name[..6]);
        let mut cmap_dict = Dictionary::new();
        cmap_dict.set("Type", Object::Name(b"CMap".to_vec()));
        cmap_dict.set("CMapName", Object::Name(cmap_name.clone().into_bytes()));
        let mut info = Dictionary::new();
        info.set("Registry", Object::string_literal("Adobe"));
        info.set("Ordering", Object::string_literal("Identity"));
        info.set("Supplement", 0);
        cmap_dict.set("CIDSystemInfo", Object::Dictionary(info));
        let cmap = lo.add_object(Stream::new(
            cmap_dict,
            one_byte_cmap(&cmap_name, embedded.swap),
        ));
        let old = lo
            .get_object(id)
            .and_then(Object::as_dict)
            .and_then(|d| d.get(b"ToUnicode"))
            .and_then(Object::as_reference)
            .ok();
        if let Some(old) = old {
            lo.objects.remove(&old);
        }
        let to_unicode = lo.add_object(Stream::new(Dictionary::new(), to_unicode(&embedded.chars)));
        if let Ok(Object::Dictionary(d)) = lo.get_object_mut(id) {
            d.set("Encoding", Object::Reference(cmap));
            d.set("ToUnicode", Object::Reference(to_unicode));
        }
    }
}

/// A ToUnicode CMap for one-byte codes.
fn to_unicode(chars: &Codes) -> Vec<u8> {
    let mut out = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
         1 begincodespacerange\n<00> <FF>\nendcodespacerange\n",
    );
    let pairs: Vec<(&char, &u16)> = chars.iter().collect();
    for chunk in pairs.chunks(100) {
        out.push_str(&format!("{} beginbfchar\n", chunk.len()));
        for (c, code) in chunk {
            let mut units = [0u16; 2];
            out.push_str(&format!("<{:02X}> <", code));
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("{u:04X}"));
            }
            out.push_str(">\n");
        }
        out.push_str("endbfchar\n");
    }
    out.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    out.into_bytes()
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

/// `v` in whole thousandths.
fn milli(v: f32) -> i64 {
    (v as f64 * 1000.0).round() as i64
}

/// Appends `v` with at most three decimals and no trailing zeros.
fn num(out: &mut Vec<u8>, v: f32) {
    milli_num(out, milli(v));
}

/// Appends a number given in thousandths, with at most three decimals.
fn milli_num(out: &mut Vec<u8>, m: i64) {
    if m < 0 {
        out.push(b'-');
    }
    let m = m.unsigned_abs();
    let (int, frac) = (m / 1000, m % 1000);
    int_num(out, int);
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

/// Appends a non-negative integer in decimal.
fn int_num(out: &mut Vec<u8>, mut v: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// Appends the glyphs of `text` as a PDF literal string of one- or two-byte codes.
fn glyph_string(out: &mut Vec<u8>, text: &str, fonts: &Fonts, face: Face, font: &Embedded) {
    out.push(b'(');
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let code = if bytes[i] < 0x80 {
            i += 1;
            font.ascii[bytes[i - 1] as usize]
        } else {
            let c = text[i..].chars().next().unwrap_or(' ');
            i += c.len_utf8();
            fonts
                .glyph_id(face, c)
                .and_then(|g| font.remap.get(g as usize).copied())
                .unwrap_or(0)
        };
        let [hi, lo] = code.to_be_bytes();
        if !font.one_byte {
            escaped(out, hi);
        }
        escaped(out, lo);
    }
    out.push(b')');
}

/// Appends one byte of a literal string, escaped where PDF requires it.
#[inline]
fn escaped(out: &mut Vec<u8>, b: u8) {
    match b {
        b'(' | b')' | b'\\' => out.extend_from_slice(&[b'\\', b]),
        // A raw CR or LF inside a string would be read back as a line end.
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\n' => out.extend_from_slice(b"\\n"),
        _ => out.push(b),
    }
}

/// The content stream of one page: fills and rules, then all text in one text object.
///
/// Written directly rather than through printpdf's operation list: printpdf encodes
/// each glyph as four hex digits through lopdf's formatter, which made the content
/// streams twice as large and cost more time than the whole budget for a document.
fn content(page: &Page, fonts: &Fonts, faces: &BTreeMap<Face, Embedded>) -> Vec<u8> {
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
    let mut font: Option<(Face, f32)> = None;
    // Start of the current text line, in thousandths of a point (BT starts at 0 0).
    let (mut lx, mut ly) = (0i64, 0i64);
    // Tw in thousandths of a point; set explicitly at the start of every page.
    let mut word_spacing = 0i64;
    out.extend_from_slice(b"0 Tw\n");
    for item in &page.items {
        let Item::Line(line) = item else { continue };
        let Some(first) = line.runs.first() else {
            continue;
        };
        // Lines are placed with relative moves between integer thousandths, so no
        // rounding accumulates down the page.
        let (x, y) = (milli(first.x), milli(h - line.baseline));
        milli_num(&mut out, x - lx);
        out.push(b' ');
        milli_num(&mut out, y - ly);
        out.extend_from_slice(b" Td\n");
        (lx, ly) = (x, y);
        // Later runs of the line continue where the previous one ended: the layout
        // measured them with the same widths the viewer uses.
        // Tw does not apply to multi-byte codes, so justification is a TJ displacement
        // after every space, in whole thousandths of an em; rounding the running total
        // (not each step) keeps every glyph within 1/2000 em of its place.
        // With one-byte codes the space is code 32, which Tw stretches; two-byte faces
        // get a TJ displacement after each space instead (see below).
        let tw = milli(line.word_spacing);
        if tw != word_spacing {
            milli_num(&mut out, tw);
            out.extend_from_slice(b" Tw\n");
            word_spacing = tw;
        }
        let exact = -(line.word_spacing as f64) * 1000.0 / line.size as f64;
        let (mut done, mut spaces) = (0i64, 0i64);
        for run in &line.runs {
            let Some(embedded) = faces.get(&run.face) else {
                continue;
            };
            if font != Some((run.face, line.size)) {
                out.push(b'/');
                out.extend_from_slice(resource(run.face).as_bytes());
                out.push(b' ');
                num(&mut out, line.size);
                out.extend_from_slice(b" Tf\n");
                font = Some((run.face, line.size));
            }
            if embedded.one_byte || line.word_spacing == 0.0 || !run.text.contains(' ') {
                glyph_string(&mut out, &run.text, fonts, run.face, embedded);
                out.extend_from_slice(b"Tj\n");
                continue;
            }
            out.push(b'[');
            let mut rest = run.text.as_str();
            while let Some(i) = rest.find(' ') {
                glyph_string(&mut out, &rest[..=i], fonts, run.face, embedded);
                spaces += 1;
                let target = (exact * spaces as f64).round() as i64;
                milli_num(&mut out, (target - done) * 1000);
                done = target;
                rest = &rest[i + 1..];
            }
            if !rest.is_empty() {
                glyph_string(&mut out, rest, fonts, run.face, embedded);
            }
            out.extend_from_slice(b"]TJ\n");
        }
    }
    out.extend_from_slice(b"ET\n");
    out
}

/// Adds the document's attachments as embedded files (PDF 32000-1, 7.11.4), in order.
fn attach(
    lo: &mut lopdf::Document,
    attachments: &[crate::document::Attachment],
) -> Result<(), PdfError> {
    if attachments.is_empty() {
        return Ok(());
    }
    let mut names = Vec::with_capacity(attachments.len() * 2);
    for a in attachments {
        let mut dict = Dictionary::new();
        dict.set("Type", Object::Name(b"EmbeddedFile".to_vec()));
        dict.set("Subtype", Object::Name(mime_name(&a.mime)));
        let mut params = Dictionary::new();
        params.set("Size", Object::Integer(a.data.len() as i64));
        dict.set("Params", Object::Dictionary(params));
        let file = lo.add_object(Object::Stream(Stream::new(dict, a.data.clone())));
        let mut ef = Dictionary::new();
        ef.set("F", Object::Reference(file));
        ef.set("UF", Object::Reference(file));
        let mut spec = Dictionary::new();
        spec.set("Type", Object::Name(b"Filespec".to_vec()));
        spec.set("F", Object::string_literal(a.name.as_bytes().to_vec()));
        spec.set("UF", Object::string_literal(a.name.as_bytes().to_vec()));
        spec.set(
            "Desc",
            Object::string_literal(a.description.as_bytes().to_vec()),
        );
        spec.set("AFRelationship", Object::Name(b"Data".to_vec()));
        spec.set("EF", Object::Dictionary(ef));
        let spec = lo.add_object(Object::Dictionary(spec));
        names.push(Object::string_literal(a.name.as_bytes().to_vec()));
        names.push(Object::Reference(spec));
    }
    let mut tree = Dictionary::new();
    tree.set("Names", Object::Array(names));
    let mut name_dict = Dictionary::new();
    name_dict.set("EmbeddedFiles", Object::Dictionary(tree));
    let catalog = lo
        .catalog_mut()
        .map_err(|e| PdfError::Write(format!("no catalog: {e}")))?;
    catalog.set("Names", Object::Dictionary(name_dict));
    Ok(())
}

/// A MIME type as a PDF name (`application/json` -> `application#2Fjson` when written).
fn mime_name(mime: &str) -> Vec<u8> {
    mime.bytes().filter(|b| b.is_ascii_graphic()).collect()
}

/// Reads the embedded file `name` from a PDF made by [`write_pdf`]; `None` if absent.
///
/// Only for documents whose signature has been verified: the caller trusts the bytes.
pub fn attachment(pdf: &[u8], name: &str) -> Result<Option<Vec<u8>>, PdfError> {
    let lo = lopdf::Document::load_mem(pdf).map_err(|e| PdfError::Write(e.to_string()))?;
    let found = (|| -> Option<Vec<u8>> {
        let names = lo.catalog().ok()?.get(b"Names").ok()?;
        let names = resolve(&lo, names)?.as_dict().ok()?;
        let tree = resolve(&lo, names.get(b"EmbeddedFiles").ok()?)?
            .as_dict()
            .ok()?;
        let list = resolve(&lo, tree.get(b"Names").ok()?)?.as_array().ok()?;
        for pair in list.chunks(2) {
            let [key, spec] = pair else { continue };
            if resolve(&lo, key)?.as_str().ok()? != name.as_bytes() {
                continue;
            }
            let spec = resolve(&lo, spec)?.as_dict().ok()?;
            let ef = resolve(&lo, spec.get(b"EF").ok()?)?.as_dict().ok()?;
            let stream = resolve(&lo, ef.get(b"F").ok()?)?.as_stream().ok()?;
            return match stream.dict.get(b"Filter") {
                Ok(_) => stream.decompressed_content().ok(),
                Err(_) => Some(stream.content.clone()),
            };
        }
        None
    })();
    Ok(found)
}

fn resolve<'a>(lo: &'a lopdf::Document, object: &'a Object) -> Option<&'a Object> {
    match object {
        Object::Reference(id) => lo.get_object(*id).ok(),
        other => Some(other),
    }
}

#[cfg(test)]
mod attachment_tests {
    use super::*;
    use crate::document::{Attachment, Block, Metadata, Run};

    #[test]
    fn attachments_round_trip_and_change_the_file() {
        let typesetter = Typesetter::new(PageSetup::default()).unwrap();
        let mut doc = Document {
            meta: Metadata {
                title: "T".into(),
                author: "A".into(),
                subject: "S".into(),
                keywords: vec![],
                date: chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
            },
            blocks: vec![Block::Paragraph(vec![Run::plain("Text.")])],
            footer: String::new(),
            attachments: vec![],
        };
        let plain = typesetter.render(&doc).unwrap();
        assert_eq!(attachment(&plain, "annex.json").unwrap(), None);
        let data = br#"{"vendor":"V & <W>"}"#.to_vec();
        doc.attachments.push(Attachment {
            name: "annex.json".into(),
            mime: "application/json".into(),
            description: "the annex".into(),
            data: data.clone(),
        });
        let with = typesetter.render(&doc).unwrap();
        assert_ne!(with, plain);
        assert_eq!(attachment(&with, "annex.json").unwrap(), Some(data));
        assert_eq!(attachment(&with, "other.json").unwrap(), None);
        assert_eq!(typesetter.render(&doc).unwrap(), with, "reproducible");
    }
}
