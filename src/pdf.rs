//! PDF writing: laid-out pages become reproducible PDF bytes.
//!
//! In: the [`Page`]s from `layout`, the [`Document`]'s metadata and the [`Fonts`]. Out:
//! the bytes of a PDF whose fonts are embedded as per-document subsets (tagged with six
//! letters derived from the glyphs used, with a ToUnicode map), whose Info dictionary
//! carries the document's title, author, subject, keywords and date (never the clock),
//! and whose trailer `/ID` is a hash of the content. The same pages give the same bytes
//! in any process.
//!
//! The objects are serialised directly with `pdf-writer`; the page contents are written
//! by [`content`], compactly, with one byte per glyph where a face has at most 256
//! glyphs (its own CMap puts the space at code 32, so that `Tw` justifies). `subset`
//! cuts each face down to the document's glyphs. The file is a tagged PDF 1.7 (`tags`:
//! structure tree, marked content, artifacts for page furniture), with `/Lang`,
//! `/MarkInfo`, an outline, link annotations and XMP metadata; `objstm` packs the
//! dictionaries into an object stream. `sign` adds the fields of an embedded signature.
//! Reading a PDF back (the embedded annex) goes through `hayro-syntax`.
//!
//! printpdf (0.12) built the documents before. Checked in its source: it writes PDF 1.3
//! only, has no structure tree, marked-content IDs, `/MarkInfo`, `/Lang`, form fields or
//! signature dictionaries, writes XMP unescaped, and its content streams and CMaps had
//! to be rewritten through lopdf afterwards (it does have bookmarks and link
//! annotations). See BENCHMARKS.md for what the change cost and saved.

mod objstm;
pub mod sign;
mod subset;
mod tags;

pub use sign::{Placeholders, SigningPlan, fill_byte_range, fill_contents};

use std::collections::BTreeMap;

use pdf_writer::types::{
    ActionType, AnnotationFlags, AnnotationType, CidFontType, FontFlags, PageMode, SystemInfo,
    TabOrder,
};
use pdf_writer::{Chunk, Date, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use sha2::{Digest, Sha256};

use crate::document::Document;
use crate::layout::{
    self, ARTIFACT, Face, FontError, Fonts, Item, Layout, LayoutError, Line, NodeKind,
    OutlineEntry, Page, PageSetup, Role,
};

/// Why a PDF could not be written or read.
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
    #[error("not a readable PDF: {0}")]
    Read(String),
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

    /// Lays out and writes `doc` with the fields of an embedded signature (see
    /// [`SigningPlan`]); the result says where the placeholders are.
    pub fn render_for_signing(
        &self,
        doc: &Document,
        plan: &SigningPlan,
    ) -> Result<Written, PdfError> {
        let layout = layout::layout(doc, &self.fonts, &self.setup)?;
        write(doc, &layout, &self.fonts, Some(plan))
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

/// Hands out object numbers in order, so the same document always numbers alike.
struct Refs(i32);

impl Refs {
    fn next(&mut self) -> Ref {
        self.0 += 1;
        Ref::new(self.0)
    }
}

/// Writes `pages` (laid out from `doc` with `fonts`) as PDF bytes.
pub fn write_pdf(
    doc: &Document,
    layout: &Layout,
    fonts: &Fonts,
    _setup: &PageSetup,
) -> Result<Vec<u8>, PdfError> {
    Ok(write(doc, layout, fonts, None)?.bytes)
}

/// A PDF with its placeholders for an embedded signature (see [`sign`]).
#[derive(Debug, Clone)]
pub struct Written {
    pub bytes: Vec<u8>,
    /// Where the placeholders are, when a signing plan was given.
    pub placeholders: Option<sign::Placeholders>,
}

/// Writes the document; with a signing plan, also its signature fields.
pub(crate) fn write(
    doc: &Document,
    layout: &Layout,
    fonts: &Fonts,
    plan: Option<&sign::SigningPlan>,
) -> Result<Written, PdfError> {
    let pages = &layout.pages;
    let settings = pdf_writer::Settings { pretty: false };
    let mut pdf = Pdf::with_settings(settings);
    pdf.set_version(1, 7);
    // Dictionaries and arrays that no signature needs to find (fonts, structure tree,
    // outline, links) go into one compressed object stream.
    let mut bulk = Chunk::with_settings(settings);
    let mut refs = Refs(0);
    let catalog_id = refs.next();
    let tree_id = refs.next();
    let info_id = refs.next();
    let page_ids: Vec<Ref> = pages.iter().map(|_| refs.next()).collect();
    let mut hasher = Sha256::new();
    let lang = doc.lang.as_deref().unwrap_or("en");

    let appearance = match plan {
        Some(plan) => sign::appearance_lines(plan, layout, fonts)?,
        None => Vec::new(),
    };
    let faces = embed_fonts(
        &mut pdf,
        &mut bulk,
        &mut refs,
        pages,
        &appearance,
        fonts,
        &mut hasher,
    )?;
    let mut tagger = tags::Tagger::new(&layout.nodes, pages.len());

    // Link annotations: one per link element and line, over the link's glyphs.
    let mut annotations: Vec<Vec<Ref>> = vec![Vec::new(); pages.len()];
    for (p, page) in pages.iter().enumerate() {
        for (node, rect) in link_rects(page, fonts) {
            let NodeKind::Link(uri) = &layout.nodes[node as usize].kind else {
                continue;
            };
            let id = refs.next();
            let key = tagger.annotation(p, node, id);
            let mut a = bulk.annotation(id);
            a.subtype(AnnotationType::Link)
                .rect(rect)
                .border(0.0, 0.0, 0.0, None)
                .flags(AnnotationFlags::PRINT)
                .contents(TextStr(uri))
                .struct_parent(key);
            a.action()
                .action_type(ActionType::Uri)
                .uri(Str(uri.as_bytes()));
            a.finish();
            annotations[p].push(id);
        }
    }

    let fields = match plan {
        Some(plan) => Some(sign::fields(
            &mut pdf,
            &mut refs,
            &mut tagger,
            layout,
            &page_ids,
            &mut annotations,
            plan,
            fonts,
            &appearance,
            &faces,
        )?),
        None => None,
    };

    DEFLATERS.with_borrow_mut(|(text, _, _)| -> Result<(), PdfError> {
        // The watermark's outlines are written once, as a form that every page of the
        // same size and mark draws: as paths on each page they doubled a DPA's size.
        let mark = match pages.iter().find(|p| p.watermark.is_some()) {
            Some(first) => {
                let form_id = refs.next();
                let mut body = Vec::new();
                if let Some(mark) = &first.watermark {
                    watermark_paths(&mut body, first, mark, fonts);
                }
                let packed = text.pack(&body)?;
                hash_stream(&mut hasher, &packed);
                let mut form = pdf.form_xobject(form_id, &packed);
                form.filter(Filter::FlateDecode);
                form.bbox(Rect::new(0.0, 0.0, first.width, first.height));
                form.finish();
                Some(MarkForm {
                    id: form_id,
                    width: first.width,
                    height: first.height,
                    text: mark_text(first),
                })
            }
            None => None,
        };
        for (p, (page, &id)) in pages.iter().zip(&page_ids).enumerate() {
            let content_id = refs.next();
            let form = mark.as_ref().filter(|m| m.fits(page));
            let packed = text.pack(&content(p, page, fonts, &faces, &mut tagger, form))?;
            hash_stream(&mut hasher, &packed);
            pdf.stream(content_id, &packed).filter(Filter::FlateDecode);
            let mut pg = pdf.page(id);
            pg.parent(tree_id)
                .media_box(Rect::new(0.0, 0.0, page.width, page.height))
                .contents(content_id)
                .struct_parents(p as i32)
                .tab_order(TabOrder::StructureOrder);
            if !annotations[p].is_empty() {
                pg.annotations(annotations[p].iter().copied());
            }
            let mut res = pg.resources();
            if let Some(form) = form {
                res.x_objects().pair(Name(MARK_FORM.as_bytes()), form.id);
            }
            let mut f = res.fonts();
            for (face, embedded) in &faces {
                f.pair(Name(resource(*face).as_bytes()), embedded.type0);
            }
        }
        Ok(())
    })?;
    pdf.pages(tree_id)
        .kids(page_ids.iter().copied())
        .count(page_ids.len() as i32);

    let attachments = attach(
        &mut pdf,
        &mut bulk,
        &mut refs,
        &doc.attachments,
        &mut hasher,
    )?;
    let struct_root = tagger.write(&mut bulk, &mut refs, &page_ids, lang);
    let outline = write_outline(&mut bulk, &mut refs, &layout.outline, &page_ids, pages);

    let date = pdf_date(doc.meta.date);
    let keywords = doc.meta.keywords.join(",");
    let producer = concat!("dpa ", env!("CARGO_PKG_VERSION"));
    let metadata_id = refs.next();
    let xmp = xmp(doc, &keywords, producer, lang);
    let xmp = DEFLATERS.with_borrow_mut(|(text, _, _)| text.pack(xmp.as_bytes()))?;
    pdf.metadata(metadata_id, &xmp).filter(Filter::FlateDecode);

    let mut catalog = pdf.catalog(catalog_id);
    catalog
        .pages(tree_id)
        .lang(TextStr(lang))
        .metadata(metadata_id)
        .pair(Name(b"StructTreeRoot"), struct_root);
    catalog.mark_info().marked(true);
    catalog.viewer_preferences().display_doc_title(true);
    if let Some(outline) = outline {
        catalog.outlines(outline).page_mode(PageMode::UseOutlines);
    }
    if !attachments.is_empty() {
        let mut names = catalog.names();
        let mut tree = names.embedded_files();
        let mut entries = tree.names();
        for (name, spec) in &attachments {
            entries.insert(Str(name.as_bytes()), *spec);
        }
    }
    if let Some(fields) = &fields {
        sign::catalog_entries(&mut catalog, fields);
    }
    catalog.finish();

    pdf.document_info(info_id)
        .title(TextStr(&doc.meta.title))
        .author(TextStr(&doc.meta.author))
        .subject(TextStr(&doc.meta.subject))
        .keywords(TextStr(&keywords))
        .creator(TextStr("dpa"))
        .producer(TextStr(producer))
        .creation_date(date)
        .modified_date(date);

    // The file identifier is a hash of everything that varies between documents: the
    // streams (pages, fonts, ToUnicode maps, attachments) and the metadata.
    for value in [&doc.meta.title, &doc.meta.author, &doc.meta.subject]
        .into_iter()
        .chain(&doc.meta.keywords)
    {
        hasher.update((value.len() as u64).to_be_bytes());
        hasher.update(value.as_bytes());
    }
    hasher.update(doc.meta.date.to_string().as_bytes());
    let id = hasher.finalize()[..16].to_vec();
    let object_stream = refs.next();
    let packed = objstm::pack(&bulk)?;
    let compressed = DEFLATERS.with_borrow_mut(|(_, _, dense)| dense.pack(&packed.data))?;
    pdf.stream(object_stream, &compressed)
        .filter(Filter::FlateDecode)
        .pair(Name(b"Type"), Name(b"ObjStm"))
        .pair(Name(b"N"), packed.ids.len() as i32)
        .pair(Name(b"First"), packed.first as i32);
    let bytes = objstm::finish(
        pdf.finish(),
        object_stream,
        &packed.ids,
        refs.next(),
        catalog_id,
        info_id,
        &id,
    )?;
    let placeholders = match fields {
        Some(_) => Some(sign::find_placeholders(&bytes)?),
        None => None,
    };
    Ok(Written {
        bytes,
        placeholders,
    })
}

/// The XMP metadata packet: the Info dictionary's facts, XML-escaped by `xmp-writer`.
fn xmp(doc: &Document, keywords: &str, producer: &str, lang: &str) -> String {
    use chrono::Datelike;
    let d = doc.meta.date;
    let date = xmp_writer::DateTime {
        year: d.year().clamp(0, 9999) as u16,
        month: Some(d.month() as u8),
        day: Some(d.day() as u8),
        hour: Some(0),
        minute: Some(0),
        second: Some(0),
        timezone: Some(xmp_writer::Timezone::Utc),
    };
    let mut w = xmp_writer::XmpWriter::new();
    w.title([(None, doc.meta.title.as_str())])
        .creator([doc.meta.author.as_str()])
        .description([(None, doc.meta.subject.as_str())])
        .language([xmp_writer::LangId(lang)])
        .format("application/pdf")
        .pdf_keywords(keywords)
        .producer(producer)
        .creator_tool("dpa")
        .create_date(date)
        .modify_date(date)
        .metadata_date(date);
    w.finish(None)
}

/// The bookmarks: headings and clauses, nested by level, each opening its page at the
/// entry's first line.
fn write_outline(
    pdf: &mut Chunk,
    refs: &mut Refs,
    entries: &[OutlineEntry],
    page_ids: &[Ref],
    pages: &[Page],
) -> Option<Ref> {
    if entries.is_empty() {
        return None;
    }
    let root = refs.next();
    let ids: Vec<Ref> = entries.iter().map(|_| refs.next()).collect();
    // Parent of each entry: the nearest earlier entry of a lower level.
    let mut parent: Vec<Option<usize>> = Vec::with_capacity(entries.len());
    let mut stack: Vec<usize> = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        while stack.last().is_some_and(|&j| entries[j].level >= e.level) {
            stack.pop();
        }
        parent.push(stack.last().copied());
        stack.push(i);
    }
    let children = |p: Option<usize>| -> Vec<usize> {
        (0..entries.len()).filter(|&i| parent[i] == p).collect()
    };
    let top = children(None);
    let count_all = |p: usize| {
        (0..entries.len())
            .filter(|&i| is_below(&parent, i, p))
            .count()
    };
    pdf.outline(root)
        .first(ids[top[0]])
        .last(ids[*top.last().unwrap_or(&top[0])])
        .count(top.len() as i32);
    for (i, e) in entries.iter().enumerate() {
        let siblings = children(parent[i]);
        let at = siblings.iter().position(|&s| s == i).unwrap_or(0);
        let mine = children(Some(i));
        let mut item = pdf.outline_item(ids[i]);
        item.parent(parent[i].map_or(root, |p| ids[p]))
            .title(TextStr(&e.title));
        if at > 0 {
            item.prev(ids[siblings[at - 1]]);
        }
        if let Some(&next) = siblings.get(at + 1) {
            item.next(ids[next]);
        }
        if let (Some(&first), Some(&last)) = (mine.first(), mine.last()) {
            // Top-level entries start open, deeper ones closed.
            let n = count_all(i) as i32;
            item.first(ids[first])
                .last(ids[last])
                .count(if e.level <= 1 { n } else { -n });
        }
        let height = pages.get(e.page).map_or(0.0, |p| p.height);
        item.dest()
            .page(page_ids[e.page.min(page_ids.len() - 1)])
            .xyz(0.0, height - e.y + 4.0, None);
    }
    Some(root)
}

/// Whether outline entry `i` lies somewhere below entry `p`.
fn is_below(parent: &[Option<usize>], i: usize, p: usize) -> bool {
    let mut at = parent[i];
    while let Some(a) = at {
        if a == p {
            return true;
        }
        at = parent[a];
    }
    false
}

/// The rectangles of each link on a page, one per line (PDF coordinates).
fn link_rects(page: &Page, fonts: &Fonts) -> Vec<(u32, Rect)> {
    let m = fonts.metrics(Face::Regular);
    let mut out: Vec<(u32, Rect)> = Vec::new();
    for item in &page.items {
        let Item::Line(line) = item else { continue };
        let top = page.height - (line.baseline - m.ascender * line.size / 1000.0);
        let bottom = page.height - (line.baseline - m.descender * line.size / 1000.0);
        let mut current: Option<(u32, f32, f32)> = None;
        for run in &line.runs {
            match (current, run.link) {
                (Some((n, x1, _)), Some(l)) if n == l => {
                    current = Some((n, x1, run.x + run.width));
                }
                (_, link) => {
                    if let Some((n, x1, x2)) = current.take() {
                        out.push((n, Rect::new(x1, bottom, x2, top)));
                    }
                    current = link.map(|l| (l, run.x, run.x + run.width));
                }
            }
        }
        if let Some((n, x1, x2)) = current {
            out.push((n, Rect::new(x1, bottom, x2, top)));
        }
    }
    out
}

/// Midnight UTC of `day`, as a PDF date.
fn pdf_date(day: chrono::NaiveDate) -> Date {
    use chrono::Datelike;
    Date::new(day.year().clamp(0, 9999) as u16)
        .month(day.month() as u8)
        .day(day.day() as u8)
        .hour(0)
        .minute(0)
        .second(0)
        .utc_offset_hour(0)
        .utc_offset_minute(0)
}

/// Adds a stream's length and bytes to the file identifier's hash.
fn hash_stream(hasher: &mut Sha256, bytes: &[u8]) {
    hasher.update((bytes.len() as u64).to_be_bytes());
    hasher.update(bytes);
}

/// Subsets and writes every face the pages use: the Type0 font, its CIDFont with the
/// `/W` widths, the descriptor, the font program, the ToUnicode map and, for faces of at
/// most 256 glyphs, the one-byte CMap. Returns how each face's text is encoded.
#[allow(clippy::too_many_arguments)]
fn embed_fonts(
    pdf: &mut Pdf,
    bulk: &mut Chunk,
    refs: &mut Refs,
    pages: &[Page],
    extra: &[Line],
    fonts: &Fonts,
    hasher: &mut Sha256,
) -> Result<EmbeddedFaces, PdfError> {
    // The glyphs each face must carry, from this document's own text only: for every
    // glyph id of the full face, the character it was used for (or None).
    let mut used: BTreeMap<Face, Vec<Option<char>>> = BTreeMap::new();
    let lines = pages
        .iter()
        .flat_map(|p| {
            p.items.iter().filter_map(|i| match i {
                Item::Line(l) => Some(l),
                _ => None,
            })
        })
        .chain(extra);
    for line in lines {
        {
            {
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

    let mut out = BTreeMap::new();
    DEFLATERS.with_borrow_mut(|(text, font, _)| -> Result<(), PdfError> {
        for (&face, slots) in &used {
            let mut gids: Vec<u16> = (0..slots.len() as u16)
                .filter(|&g| slots[g as usize].is_some())
                .collect();
            // The space glyph is always embedded: with one-byte codes it takes code 32,
            // so that no other glyph is stretched by the word spacing (Tw) of justified
            // lines.
            let space = fonts.glyph_id(face, ' ');
            if let Some(sp) = space.filter(|sp| !gids.contains(sp)) {
                gids.push(sp);
                gids.sort_unstable();
            }
            let parsed = fonts.parsed(face);
            let sub = subset::subset(parsed, &gids, space).map_err(|reason| PdfError::Subset {
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
            // Code in the content stream for each subset glyph (CID): the glyph id
            // itself, except that the space and whatever had code 32 trade places.
            let code = |cid: u16| match swap {
                Some(sp) if cid == sp => 32,
                Some(sp) if cid == 32 => sp,
                _ => cid,
            };
            // Full-face glyph id → code, for the content streams; character → code for
            // the ToUnicode map.
            let mut remap = vec![0u16; slots.len()];
            let mut chars: Codes = BTreeMap::new();
            for &gid in &gids {
                let cid = sub.new_gid.get(&gid).copied().unwrap_or(0);
                remap[gid as usize] = code(cid);
                if let Some(c) = slots[gid as usize] {
                    chars.insert(c, code(cid));
                }
            }
            let mut ascii = [0u16; 128];
            for (b, slot) in ascii.iter_mut().enumerate() {
                if let Some(g) = fonts.glyph_id(face, b as u8 as char) {
                    *slot = remap[g as usize];
                }
            }
            let name = font_name(fonts, face, &chars);

            let type0 = refs.next();
            let cid_ref = refs.next();
            let descriptor = refs.next();
            let file = refs.next();
            let to_unicode = refs.next();
            let units = parsed.units_per_em() as f32;
            let per_mille = |v: f32| v * 1000.0 / units;

            let program = font.pack(&sub.program)?;
            hash_stream(hasher, &program);
            pdf.stream(file, &program)
                .filter(Filter::FlateDecode)
                .pair(Name(b"Length1"), sub.program.len() as i32);

            let cmap = to_unicode_cmap(&chars, one_byte);
            let packed = text.pack(&cmap)?;
            hash_stream(hasher, &packed);
            pdf.stream(to_unicode, &packed).filter(Filter::FlateDecode);

            let mut t0 = bulk.type0_font(type0);
            t0.base_font(Name(name.as_bytes()))
                .descendant_font(cid_ref)
                .to_unicode(to_unicode);
            if one_byte {
                let encoding = refs.next();
                t0.pair(Name(b"Encoding"), encoding);
                t0.finish();
                // The CMap is named after the face's subset tag, so each face has its own.
                let cmap_name = format!("DPA-{}-OneByte", &name[..6]);
                let data = one_byte_cmap(&cmap_name, swap);
                let packed = text.pack(&data)?;
                hash_stream(hasher, &packed);
                pdf.cmap(encoding, &packed)
                    .name(Name(cmap_name.as_bytes()))
                    .system_info(identity())
                    .filter(Filter::FlateDecode);
            } else {
                t0.encoding_predefined(Name(b"Identity-H"));
                t0.finish();
            }

            let mut cid = bulk.cid_font(cid_ref);
            cid.subtype(CidFontType::Type2)
                .base_font(Name(name.as_bytes()))
                .system_info(identity())
                .font_descriptor(descriptor)
                .cid_to_gid_map_predefined(Name(b"Identity"));
            // Widths in thousandths of an em, truncated as the layout measured them.
            let widths: Vec<f32> = (0..sub.advances.len() as u16)
                .map(|g| {
                    let adv = sub.advances.get(&g).copied().unwrap_or(0);
                    (adv as f32 * 1000.0 / units) as i64 as f32
                })
                .collect();
            cid.widths().consecutive(0, widths);
            cid.finish();

            let bbox = parsed.global_bounding_box();
            let metrics = fonts.metrics(face);
            let mut flags = FontFlags::SYMBOLIC;
            if face != Face::Fallback {
                flags |= FontFlags::SERIF;
            }
            if parsed.is_italic() {
                flags |= FontFlags::ITALIC;
            }
            bulk.font_descriptor(descriptor)
                .name(Name(name.as_bytes()))
                .flags(flags)
                .bbox(Rect::new(
                    per_mille(bbox.x_min as f32),
                    per_mille(bbox.y_min as f32),
                    per_mille(bbox.x_max as f32),
                    per_mille(bbox.y_max as f32),
                ))
                .italic_angle(parsed.italic_angle())
                .ascent(metrics.ascender)
                .descent(metrics.descender)
                .cap_height(metrics.cap_height)
                .stem_v(if parsed.is_bold() { 140.0 } else { 80.0 })
                .font_file2(file);

            out.insert(
                face,
                Embedded {
                    remap,
                    ascii,
                    one_byte,
                    type0,
                },
            );
        }
        Ok(())
    })?;
    Ok(out)
}

fn identity() -> SystemInfo<'static> {
    SystemInfo {
        registry: Str(b"Adobe"),
        ordering: Str(b"Identity"),
        supplement: 0,
    }
}

/// zlib level for page contents and CMaps: on the test document level 2 takes 60% of
/// the time of level 6 for 2% more bytes.
const TEXT_LEVEL: i32 = 2;
/// zlib level for font programs: binary outlines gain little from harder work (level 1
/// saves 15% of their size, level 6 18% at three times the time).
const FONT_LEVEL: i32 = 1;
/// zlib level for the object stream: its 40 KB of dictionaries (structure tree,
/// outline) shrink by a fifth more at level 6 than at level 2.
const DENSE_LEVEL: i32 = 4;

/// Character → glyph id (CID) or code in a face's subset.
type Codes = BTreeMap<char, u16>;

thread_local! {
    /// Deflate states for text, font and object streams, kept per thread: their windows and
    /// tables cost more to set up than a document's streams cost to compress. A reset
    /// state compresses exactly like a new one, so reuse cannot change any output.
    static DEFLATERS: std::cell::RefCell<(Deflater, Deflater, Deflater)> =
        std::cell::RefCell::new((
            Deflater::new(TEXT_LEVEL),
            Deflater::new(FONT_LEVEL),
            Deflater::new(DENSE_LEVEL),
        ));
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
/// How each face is embedded in one document.
type EmbeddedFaces = BTreeMap<Face, Embedded>;

/// A face as embedded in one document.
struct Embedded {
    /// Full-face glyph id → code.
    remap: Vec<u16>,
    /// Code per ASCII character, for the common case.
    ascii: [u16; 128],
    /// Subset glyph ids fit in one byte, so text is shown with one byte per glyph.
    one_byte: bool,
    /// The Type0 font object the page resources name.
    type0: Ref,
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

/// A ToUnicode CMap for one- or two-byte codes.
fn to_unicode_cmap(chars: &Codes, one_byte: bool) -> Vec<u8> {
    let mut out = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n",
    );
    out.push_str(if one_byte {
        "1 begincodespacerange\n<00> <FF>\nendcodespacerange\n"
    } else {
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
    });
    let pairs: Vec<(&char, &u16)> = chars.iter().collect();
    for chunk in pairs.chunks(100) {
        out.push_str(&format!("{} beginbfchar\n", chunk.len()));
        for (c, code) in chunk {
            let mut units = [0u16; 2];
            if one_byte {
                out.push_str(&format!("<{code:02X}> <"));
            } else {
                out.push_str(&format!("<{code:04X}> <"));
            }
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

/// The content stream of one page: fills and rules (page furniture), then all text in
/// one text object, each piece marked with its structure element, then the watermark.
///
/// Written by hand rather than with `pdf_writer::Content`: one byte per glyph, numbers
/// in whole thousandths and relative line moves keep the streams small, and the
/// justification scheme (Tw on code 32, or a TJ displacement after each space for
/// two-byte faces) is specific to how `embed_fonts` encodes the faces.
fn content(
    index: usize,
    page: &Page,
    fonts: &Fonts,
    faces: &BTreeMap<Face, Embedded>,
    tagger: &mut tags::Tagger<'_>,
    mark_form: Option<&MarkForm>,
) -> Vec<u8> {
    let h = page.height;
    let mut out = Vec::with_capacity(16 * 1024);
    let mut stroke: Option<(f32, f32)> = None;
    let mut fill: Option<f32> = None;
    let graphics = page
        .items
        .iter()
        .any(|i| matches!(i, Item::Fill(_) | Item::Rule(_)));
    if graphics {
        out.extend_from_slice(b"/Artifact<</Type/Layout>>BDC\n");
    }
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
    if graphics {
        out.extend_from_slice(b"EMC\n");
    }
    // Under the text, so it never hides a letter.
    if let Some(mark) = &page.watermark {
        out.extend_from_slice(b"/Artifact<</Type/Pagination/Subtype/Watermark>>BDC\n");
        match mark_form {
            Some(_) => {
                out.extend_from_slice(b"/");
                out.extend_from_slice(MARK_FORM.as_bytes());
                out.extend_from_slice(b" Do\n");
            }
            None => watermark_paths(&mut out, page, mark, fonts),
        }
        out.extend_from_slice(b"EMC\n");
    }
    out.extend_from_slice(b"BT\n0 g\n");
    let mut font: Option<(Face, f32)> = None;
    // Start of the current text line, in thousandths of a point (BT starts at 0 0).
    let (mut lx, mut ly) = (0i64, 0i64);
    // The element whose marked content is open: it stays open across the lines of one
    // paragraph (or cell) on the page, so each gets one MCID per page, not per line.
    let mut open: Option<u32> = None;
    // Tw and Tc in thousandths of a point; set explicitly at the start of every page.
    let mut word_spacing = 0i64;
    let mut char_spacing = 0i64;
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
        // With one-byte codes the space is code 32, which Tw stretches; two-byte faces
        // get a TJ displacement after each space instead (see below).
        let tw = milli(line.word_spacing);
        if tw != word_spacing {
            milli_num(&mut out, tw);
            out.extend_from_slice(b" Tw\n");
            word_spacing = tw;
        }
        let tc = milli(line.letter_spacing);
        if tc != char_spacing {
            milli_num(&mut out, tc);
            out.extend_from_slice(b" Tc\n");
            char_spacing = tc;
        }
        // Tw does not apply to multi-byte codes, so there justification is a TJ
        // displacement after every space, in whole thousandths of an em; rounding the
        // running total (not each step) keeps every glyph within 1/2000 em of its place.
        let exact = -(line.word_spacing as f64) * 1000.0 / line.size as f64;
        let (mut done, mut spaces) = (0i64, 0i64);
        let furniture = line.node == ARTIFACT || line.role == Role::Footer;
        if furniture {
            if open.take().is_some() {
                out.extend_from_slice(b"EMC\n");
            }
            out.extend_from_slice(b"/Artifact<</Type/Pagination>>BDC\n");
        }
        for run in &line.runs {
            let Some(embedded) = faces.get(&run.face) else {
                continue;
            };
            if !furniture {
                let element = run.link.unwrap_or(line.node);
                if open != Some(element) {
                    if open.is_some() {
                        out.extend_from_slice(b"EMC\n");
                    }
                    let mcid = tagger.content(index, element);
                    out.push(b'/');
                    out.extend_from_slice(tagger.tag(element));
                    out.extend_from_slice(b"<</MCID ");
                    int_num(&mut out, mcid as u64);
                    out.extend_from_slice(b">>BDC\n");
                    open = Some(element);
                }
            }
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
        if furniture {
            out.extend_from_slice(b"EMC\n");
        }
    }
    if open.is_some() {
        out.extend_from_slice(b"EMC\n");
    }
    out.extend_from_slice(b"ET\n");
    out
}

/// Draws the watermark across the page, light grey, at the angle of the diagonal (the
/// caller marks it as page furniture that screen readers skip). Its letters are drawn as the glyphs'
/// outlines, not as text: pdftotext keeps some diagonal characters, and stray letters of
/// the mark would otherwise land inside the extracted wording of the page.
fn watermark_paths(out: &mut Vec<u8>, page: &Page, mark: &crate::layout::Line, fonts: &Fonts) {
    let angle = (page.height / page.width).atan();
    let (sin, cos) = angle.sin_cos();
    out.extend_from_slice(b"q 0.82 g\n");
    for v in [cos, sin, -sin, cos, page.width / 2.0, page.height / 2.0] {
        num(out, v);
        out.push(b' ');
    }
    out.extend_from_slice(b"cm\n");
    let m = fonts.metrics(Face::Bold);
    // Centred on the page: the line is set from -width/2, lowered by half its cap height.
    let lift = -m.cap_height * mark.size / 2000.0;
    for run in &mark.runs {
        let parsed = fonts.parsed(run.face);
        let scale = mark.size / f32::from(parsed.units_per_em());
        let mut x = run.x;
        for c in run.text.chars() {
            if let Some(gid) = fonts.glyph_id(run.face, c) {
                let mut pen = Outline {
                    out,
                    scale,
                    x,
                    y: lift,
                    last: (0.0, 0.0),
                };
                if parsed
                    .outline_glyph(ttf_parser::GlyphId(gid), &mut pen)
                    .is_some()
                {
                    out.extend_from_slice(b"f\n");
                }
            }
            x += f32::from(fonts.advance(run.face, c)) * mark.size / 1000.0;
        }
    }
    out.extend_from_slice(b"Q\n");
}

/// Resource name of the watermark form in the page resources.
const MARK_FORM: &str = "Wm";

/// The watermark drawn once as a form XObject, for the pages of its size and text.
struct MarkForm {
    id: Ref,
    width: f32,
    height: f32,
    text: String,
}

impl MarkForm {
    /// Whether `page` shows this same mark at the same place.
    fn fits(&self, page: &Page) -> bool {
        page.width == self.width && page.height == self.height && mark_text(page) == self.text
    }
}

/// The text of a page's watermark line, run by run (with each run's position).
fn mark_text(page: &Page) -> String {
    page.watermark
        .as_ref()
        .map(|m| {
            m.runs
                .iter()
                .map(|r| format!("{:?}@{}:{}", r.face, r.x, r.text))
                .collect::<Vec<_>>()
                .join("|")
                + &format!("#{}", m.size)
        })
        .unwrap_or_default()
}

/// Writes a glyph's outline as PDF path operators, scaled from font units and moved to
/// its place on the line; quadratic curves (TrueType) become the cubic ones PDF draws.
struct Outline<'a> {
    out: &'a mut Vec<u8>,
    scale: f32,
    x: f32,
    y: f32,
    /// The current point, in font units, for converting quadratic curves.
    last: (f32, f32),
}

impl Outline<'_> {
    fn point(&mut self, x: f32, y: f32) {
        num(self.out, self.x + x * self.scale);
        self.out.push(b' ');
        num(self.out, self.y + y * self.scale);
        self.out.push(b' ');
    }
}

impl ttf_parser::OutlineBuilder for Outline<'_> {
    fn move_to(&mut self, x: f32, y: f32) {
        self.point(x, y);
        self.out.extend_from_slice(b"m\n");
        self.last = (x, y);
    }

    fn line_to(&mut self, x: f32, y: f32) {
        self.point(x, y);
        self.out.extend_from_slice(b"l\n");
        self.last = (x, y);
    }

    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        let (x0, y0) = self.last;
        self.point(x0 + 2.0 / 3.0 * (x1 - x0), y0 + 2.0 / 3.0 * (y1 - y0));
        self.point(x + 2.0 / 3.0 * (x1 - x), y + 2.0 / 3.0 * (y1 - y));
        self.point(x, y);
        self.out.extend_from_slice(b"c\n");
        self.last = (x, y);
    }

    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        self.point(x1, y1);
        self.point(x2, y2);
        self.point(x, y);
        self.out.extend_from_slice(b"c\n");
        self.last = (x, y);
    }

    fn close(&mut self) {
        self.out.extend_from_slice(b"h\n");
    }
}

/// The content of the vendor's signature widget: its lines of text, top down, inside
/// a box of the widget's size.
fn appearance_content(
    lines: &[Line],
    area: layout::Rect,
    fonts: &Fonts,
    faces: &EmbeddedFaces,
) -> Vec<u8> {
    let mut out = Vec::new();
    let m = fonts.metrics(Face::Regular);
    out.extend_from_slice(
        b"/Tx BMC
q
BT
0.1 g
",
    );
    let mut y = area.height;
    let mut x_at = 0.0f32;
    let mut y_at = 0.0f32;
    for line in lines {
        y -= line.size * 1.2;
        let base = y + (-m.descender) * line.size / 1000.0 * 0.5;
        for (k, run) in line.runs.iter().enumerate() {
            let Some(embedded) = faces.get(&run.face) else {
                continue;
            };
            out.push(b'/');
            out.extend_from_slice(resource(run.face).as_bytes());
            out.push(b' ');
            num(&mut out, line.size);
            out.extend_from_slice(
                b" Tf
",
            );
            if k == 0 {
                num(&mut out, 0.0 - x_at);
                out.push(b' ');
                num(&mut out, base - y_at);
                out.extend_from_slice(
                    b" Td
",
                );
                (x_at, y_at) = (0.0, base);
            }
            glyph_string(&mut out, &run.text, fonts, run.face, embedded);
            out.extend_from_slice(
                b"Tj
",
            );
        }
    }
    out.extend_from_slice(
        b"ET
Q
EMC
",
    );
    out
}

/// Writes the document's attachments as embedded files (PDF 32000-1, 7.11.4), in order;
/// returns each one's name and file specification for the EmbeddedFiles name tree.
fn attach(
    pdf: &mut Pdf,
    bulk: &mut Chunk,
    refs: &mut Refs,
    attachments: &[crate::document::Attachment],
    hasher: &mut Sha256,
) -> Result<Vec<(String, Ref)>, PdfError> {
    let mut out = Vec::with_capacity(attachments.len());
    DEFLATERS.with_borrow_mut(|(text, _, _)| -> Result<(), PdfError> {
        for a in attachments {
            let file = refs.next();
            let spec = refs.next();
            let packed = text.pack(&a.data)?;
            hash_stream(hasher, &packed);
            let mut ef = pdf.embedded_file(file, &packed);
            ef.subtype(Name(mime_name(&a.mime).as_slice()));
            ef.filter(Filter::FlateDecode);
            ef.params().size(a.data.len() as i32);
            ef.finish();
            let mut fs = bulk.file_spec(spec);
            fs.path(Str(a.name.as_bytes()))
                .unic_file(TextStr(&a.name))
                .description(TextStr(&a.description))
                .association_kind(pdf_writer::types::AssociationKind::Data);
            fs.insert(Name(b"EF"))
                .dict()
                .pair(Name(b"F"), file)
                .pair(Name(b"UF"), file);
            fs.finish();
            out.push((a.name.clone(), spec));
        }
        Ok(())
    })?;
    Ok(out)
}

/// A MIME type as a PDF name (`application/json` -> `application#2Fjson` when written).
fn mime_name(mime: &str) -> Vec<u8> {
    mime.bytes().filter(|b| b.is_ascii_graphic()).collect()
}

/// Reads the embedded file `name` from a PDF; `None` if it has no such attachment.
///
/// Only for documents whose signature has been verified: the caller trusts the bytes.
/// A countersigned file (an incremental update) is read through its latest revision.
pub fn attachment(pdf: &[u8], name: &str) -> Result<Option<Vec<u8>>, PdfError> {
    use hayro_syntax::object::{Array, Dict, Stream, String as PdfString};
    let file =
        hayro_syntax::Pdf::new(pdf.to_vec()).map_err(|e| PdfError::Read(format!("{e:?}")))?;
    let xref = file.xref();
    let Some(catalog) = xref.get::<Dict<'_>>(xref.root_id()) else {
        return Err(PdfError::Read("no document catalog".into()));
    };
    let found = (|| -> Option<Vec<u8>> {
        let names = catalog.get::<Dict<'_>>(b"Names")?;
        let tree = names.get::<Dict<'_>>(b"EmbeddedFiles")?;
        let list = tree.get::<Array<'_>>(b"Names")?;
        let mut pairs = list.flex_iter();
        while let Some(key) = pairs.next::<PdfString<'_>>() {
            let spec = pairs.next::<Dict<'_>>()?;
            if key.as_bytes() != name.as_bytes() {
                continue;
            }
            let ef = spec.get::<Dict<'_>>(b"EF")?;
            let stream = ef.get::<Stream<'_>>(b"F")?;
            return stream.decoded().ok().map(|d| d.into_owned());
        }
        None
    })();
    Ok(found)
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
            lang: None,
            watermark: None,
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
        assert!(attachment(b"not a pdf", "annex.json").is_err());
    }
}
