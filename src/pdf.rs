//! PDF writing: laid-out pages become reproducible PDF bytes.
//!
//! In: the [`Page`]s from `layout`, the [`Document`]'s metadata and the [`Fonts`]. Out:
//! the bytes of a PDF whose fonts are embedded as per-document subsets (with a subset
//! tag derived from the glyphs used and a ToUnicode map), whose Info dictionary carries
//! the document's title, author, subject, keywords and date (never the clock), and whose
//! trailer `/ID` is a hash of the content. The same pages give the same bytes in any
//! process. This is the only module that uses printpdf, lopdf and allsorts.

use std::collections::BTreeMap;
use std::io::Write;

use allsorts::binary::read::ReadScope;
use allsorts::font_data::FontData;
use allsorts::subset::{CmapTarget, SubsetProfile, subset};
use allsorts::tag;
use flate2::Compression;
use flate2::write::ZlibEncoder;
use lopdf::{Object, StringFormat};
use printpdf::{
    Color, FontId, Greyscale, LinePoint, OffsetDateTime, Op, PaintMode, ParsedFont, PdfDocument,
    PdfFont, PdfFontHandle, PdfPage, PdfSaveOptions, Point, Pt, TextItem, TextMatrix,
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
    // The glyphs each face must carry, from this document's own text only.
    let mut used: BTreeMap<Face, BTreeMap<u16, char>> = BTreeMap::new();
    for page in pages {
        for item in &page.items {
            if let Item::Line(line) = item {
                for run in &line.runs {
                    let glyphs = used.entry(run.face).or_default();
                    for c in run.text.chars() {
                        let gid = fonts.glyph_id(run.face, c).ok_or(PdfError::Glyph {
                            ch: c,
                            file: fonts.file_name(run.face),
                        })?;
                        glyphs.insert(gid, c);
                    }
                }
            }
        }
    }

    let mut hasher = Sha256::new();
    let mut pdf = PdfDocument::new(&doc.meta.title);
    for (&face, glyphs) in &used {
        let font = subset_face(fonts, face, glyphs)?;
        hasher.update(&font.original_bytes);
        pdf.resources
            .fonts
            .map
            .insert(FontId(resource(face).to_owned()), PdfFont::new(font));
    }

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

    pdf.pages = pages.iter().map(page_ops).collect();

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

    // The file identifier is a hash of everything that varies between documents:
    // the streams (pages, fonts, ToUnicode maps) and the metadata.
    for (title, value) in [
        ("title", &doc.meta.title),
        ("author", &doc.meta.author),
        ("subject", &doc.meta.subject),
    ] {
        hasher.update(title.as_bytes());
        hasher.update((value.len() as u64).to_be_bytes());
        hasher.update(value.as_bytes());
    }
    for k in &doc.meta.keywords {
        hasher.update((k.len() as u64).to_be_bytes());
        hasher.update(k.as_bytes());
    }
    hasher.update(doc.meta.date.to_string().as_bytes());
    for object in lo.objects.values() {
        if let Object::Stream(stream) = object {
            hasher.update((stream.content.len() as u64).to_be_bytes());
            hasher.update(&stream.content);
        }
    }
    let id = hasher.finalize();
    let id = Object::String(id[..16].to_vec(), StringFormat::Hexadecimal);
    lo.trailer.set("ID", Object::Array(vec![id.clone(), id]));

    for object in lo.objects.values_mut() {
        if let Object::Stream(stream) = object {
            if stream.dict.get(b"Filter").is_ok() || !stream.allows_compression {
                continue;
            }
            let mut z = ZlibEncoder::new(Vec::new(), Compression::new(6));
            z.write_all(&stream.content)
                .and_then(|()| z.finish())
                .map(|packed| {
                    if packed.len() < stream.content.len() {
                        stream.dict.set("Filter", "FlateDecode");
                        stream.set_content(packed);
                    }
                })
                .map_err(|e| PdfError::Write(e.to_string()))?;
        }
    }

    let mut out = Vec::new();
    lo.save_to(&mut out)
        .map_err(|e| PdfError::Write(e.to_string()))?;
    Ok(out)
}

/// Subsets one face to `glyphs` and wraps it for printpdf under a subset-tagged name.
fn subset_face(
    fonts: &Fonts,
    face: Face,
    glyphs: &BTreeMap<u16, char>,
) -> Result<ParsedFont, PdfError> {
    let file = fonts.file_name(face);
    let err = |reason: String| PdfError::Subset { file, reason };
    let bytes = fonts.bytes(face);
    let data = ReadScope::new(bytes)
        .read::<FontData<'_>>()
        .map_err(|e| err(e.to_string()))?;
    let provider = data.table_provider(0).map_err(|e| err(e.to_string()))?;
    let mut ids: Vec<u16> = Vec::with_capacity(glyphs.len() + 1);
    ids.push(0);
    ids.extend(glyphs.keys().copied().filter(|&g| g != 0));
    // Hinting programs and names are of no use inside a PDF: leave them out.
    let profile = SubsetProfile::Custom(vec![
        tag::CMAP,
        tag::HEAD,
        tag::HHEA,
        tag::HMTX,
        tag::MAXP,
        tag::OS_2,
        tag::POST,
    ]);
    let program = subset(&provider, &ids, &profile, CmapTarget::Unicode)
        .map_err(|e| err(format!("{e:?}")))?;
    let mut warnings = Vec::new();
    let mut parsed = ParsedFont::from_bytes(&program, 0, &mut warnings)
        .ok_or_else(|| err(format!("printpdf cannot read the subset: {warnings:?}")))?;
    parsed.font_name = Some(format!(
        "{}+{}",
        subset_tag(fonts.postscript_name(face), glyphs),
        fonts.postscript_name(face)
    ));
    Ok(parsed)
}

/// Six uppercase letters derived from the face and its glyph set (ISO 32000-1, 9.6.4).
fn subset_tag(name: &str, glyphs: &BTreeMap<u16, char>) -> String {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    for gid in glyphs.keys() {
        h.update(gid.to_be_bytes());
    }
    h.finalize()[..6]
        .iter()
        .map(|b| (b'A' + b % 26) as char)
        .collect()
}

fn grey(gray: f32) -> Color {
    Color::Greyscale(Greyscale {
        percent: gray,
        icc_profile: None,
    })
}

/// Rounds a coordinate to 1/1000 pt: finer than any printer, and short in the file.
fn r(v: f32) -> f32 {
    (v * 1000.0).round() / 1000.0
}

/// The printpdf operations that draw one page (PDF coordinates start at the bottom).
fn page_ops(page: &Page) -> PdfPage {
    let h = page.height;
    let mut ops = Vec::new();
    let mut stroke: Option<(f32, f32)> = None;
    let mut fill: Option<f32> = None;
    for item in &page.items {
        match item {
            Item::Fill(f) => {
                if fill != Some(f.gray) {
                    ops.push(Op::SetFillColor { col: grey(f.gray) });
                    fill = Some(f.gray);
                }
                ops.push(Op::DrawRectangle {
                    rectangle: printpdf::Rect {
                        x: Pt(r(f.rect.x)),
                        y: Pt(r(h - f.rect.bottom())),
                        width: Pt(r(f.rect.width)),
                        height: Pt(r(f.rect.height)),
                        mode: Some(PaintMode::Fill),
                        winding_order: None,
                    },
                });
            }
            Item::Rule(rule) => {
                if stroke != Some((rule.thickness, rule.gray)) {
                    ops.push(Op::SetOutlineColor {
                        col: grey(rule.gray),
                    });
                    ops.push(Op::SetOutlineThickness {
                        pt: Pt(rule.thickness),
                    });
                    stroke = Some((rule.thickness, rule.gray));
                }
                let point = |x: f32, y: f32| LinePoint {
                    p: Point {
                        x: Pt(r(x)),
                        y: Pt(r(h - y)),
                    },
                    bezier: false,
                };
                ops.push(Op::DrawLine {
                    line: printpdf::Line {
                        points: vec![point(rule.x1, rule.y1), point(rule.x2, rule.y2)],
                        is_closed: false,
                    },
                });
            }
            Item::Line(_) => {}
        }
    }
    ops.push(Op::StartTextSection);
    ops.push(Op::SetFillColor { col: grey(0.0) });
    let mut font: Option<(Face, f32)> = None;
    for item in &page.items {
        let Item::Line(line) = item else { continue };
        let y = r(h - line.baseline);
        for run in &line.runs {
            if font != Some((run.face, line.size)) {
                ops.push(Op::SetFont {
                    font: PdfFontHandle::External(FontId(resource(run.face).to_owned())),
                    size: Pt(line.size),
                });
                font = Some((run.face, line.size));
            }
            ops.push(Op::SetTextMatrix {
                matrix: TextMatrix::Translate(Pt(r(run.x)), Pt(y)),
            });
            ops.push(Op::ShowText {
                items: text_items(&run.text, line.word_spacing, line.size),
            });
        }
    }
    ops.push(Op::EndTextSection);
    PdfPage {
        media_box: printpdf::Rect::from_wh(Pt(page.width), Pt(page.height)),
        trim_box: printpdf::Rect::from_wh(Pt(page.width), Pt(page.height)),
        crop_box: printpdf::Rect::from_wh(Pt(page.width), Pt(page.height)),
        ops,
    }
}

/// The text of a run, with the justification added after each space.
///
/// `Tw` does not apply to two-byte (Identity-H) strings, so the extra space is a
/// TJ displacement, in thousandths of an em, after every U+0020.
fn text_items(text: &str, word_spacing: f32, size: f32) -> Vec<TextItem> {
    if word_spacing == 0.0 || !text.contains(' ') {
        return vec![TextItem::Text(text.to_owned())];
    }
    let offset = -(word_spacing * 1000.0 / size * 1000.0).round() / 1000.0;
    let mut items = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(' ') {
        items.push(TextItem::Text(rest[..=i].to_owned()));
        items.push(TextItem::Offset(offset));
        rest = &rest[i + 1..];
    }
    if !rest.is_empty() {
        items.push(TextItem::Text(rest.to_owned()));
    }
    items
}
