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
//! by `content`, compactly, with one byte per glyph where a face's glyphs fit in a byte
//! (codes stand for characters, the space is code 32 so that `Tw` justifies; see
//! `embed`), and cut into parts around the paragraphs that name the reader, so the rest
//! of a page is shared by a batch's documents (`Document::own_text`). `subset`
//! cuts each face down to the document's glyphs. The file is a tagged PDF 1.7 (`tags`:
//! structure tree, marked content, artifacts for page furniture), with `/Lang`,
//! `/MarkInfo`, an outline, link annotations and XMP metadata; `objstm` packs the
//! dictionaries into object streams. `sign` adds the fields of an embedded signature.
//! Reading a PDF back (the embedded annex) goes through `hayro-syntax`.
//!
//! printpdf (0.12) built the documents before. Checked in its source: it writes PDF 1.3
//! only, has no structure tree, marked-content IDs, `/MarkInfo`, `/Lang`, form fields or
//! signature dictionaries, writes XMP unescaped, and its content streams and CMaps had
//! to be rewritten through lopdf afterwards (it does have bookmarks and link
//! annotations). See BENCHMARKS.md for what the change cost and saved.

mod deflate;
mod embed;
mod objstm;
mod pages;
pub mod sign;
mod subset;
mod tags;

pub use sign::{Placeholders, SigningPlan, fill_byte_range, fill_contents};

use deflate::{Deflated, Kind, deflate, deflate_once};
use embed::{Embedded, EmbeddedFaces, embed_fonts};

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::hash::Hash;
use std::sync::Arc;
use std::thread::LocalKey;

use pdf_writer::types::{ActionType, AnnotationFlags, AnnotationType, PageMode, TabOrder};
use pdf_writer::{Chunk, Date, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use sha2::{Digest, Sha256};

use crate::cache::{self, Memo};
use crate::document::Document;
use crate::layout::{
    self, Face, FontError, Fonts, Item, Layout, LayoutError, Line, NodeKind, OutlineEntry, Page,
    PageSetup,
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
    /// Parses the embedded fonts (the hyphenation patterns load on first use).
    pub fn new(setup: PageSetup) -> Result<Self, FontError> {
        // The hyphenation patterns (about 1.2 M instructions to load) are loaded by the
        // first paragraph that needs them, not here: a run that finds its documents
        // unchanged lays nothing out.
        let fonts = Fonts::embedded()?;
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
    // A DPA is 60-70 KB: room for it up front, not four doublings of 8 KB.
    let mut pdf = Pdf::with_settings_and_capacity(settings, 96 * 1024);
    pdf.set_version(1, 7);
    // Dictionaries and arrays that no signature needs to find go into compressed object
    // streams: the link annotations (which carry the customer's addresses, and where
    // their lines fall) in one, the fonts in another (below), the rest (structure tree,
    // outline) in a third, which comes out the same for most customers of a batch and so
    // is compressed once (see `deflate`).
    let mut bulk = Chunk::with_settings(settings);
    let mut links = Chunk::with_settings(settings);
    // Where objects go in the file is not the order they are made in: from what most
    // documents of a batch share to what is the reader's own, so that the four hashes a
    // document is signed over resume far into it (`sign::digests`). First the page
    // content without the reader's text, the attachments, the structure tree, the page
    // objects and the fonts; then the reader's own content, the links, the metadata,
    // catalog and info; last the signature, whose byte range changes with the file's
    // length (see the assembly at the end).
    let mut shared = Chunk::with_settings_and_capacity(settings, 48 * 1024);
    let mut font_files = Chunk::with_settings_and_capacity(settings, 24 * 1024);
    let mut files = Chunk::with_settings(settings);
    let mut own_parts = Chunk::with_settings_and_capacity(settings, 16 * 1024);
    let mut signing = Chunk::with_settings(settings);
    let mut refs = Refs(0);
    let catalog_id = refs.next();
    let tree_id = refs.next();
    let info_id = refs.next();
    let page_ids: Vec<Ref> = pages.iter().map(|_| refs.next()).collect();
    // Numbers that do not depend on the reader come first, so that the objects shared
    // with the previous document keep theirs: each page's first content stream and the
    // watermark's form. (Link annotations, whose count follows the customer's lines,
    // are numbered after the pages are written.)
    let content_ids: Vec<Ref> = pages.iter().map(|_| refs.next()).collect();
    let first_mark = pages
        .iter()
        .find_map(|p| p.watermark.as_ref().map(|mark| (p, mark, refs.next())));
    let mut hasher = Sha256::new();
    let lang = doc.lang.as_deref().unwrap_or("en");

    let appearance = match plan {
        Some(plan) => sign::appearance_lines(plan, layout, fonts)?,
        None => Vec::new(),
    };
    // The fonts' dictionaries (their widths above all) in an object stream of their
    // own: a customer whose name adds a glyph changes them, and then only them.
    let mut font_dicts = Chunk::with_settings(settings);
    let faces = embed_fonts(
        &mut font_files,
        &mut font_dicts,
        &mut refs,
        pages,
        &appearance,
        fonts,
        &mut hasher,
    )?;
    let mut tagger = tags::Tagger::new(&layout.nodes, pages.len());

    // The watermark's outlines are written once, as a form that every page of the same
    // size and mark draws: as paths on each page they doubled a DPA's size.
    let mark = match first_mark {
        Some((first, mark, form_id)) => {
            let text = mark_text(first);
            let key = MarkKey {
                fonts: fonts.id(),
                width: first.width.to_bits(),
                height: first.height.to_bits(),
                text,
            };
            let packed = cache::memoised(&MARKS, key, |_| {
                let mut body = Vec::new();
                watermark_paths(&mut body, first, mark, fonts);
                deflate_once(Kind::Text, &body)
            })?;
            hash_stream(&mut hasher, &packed);
            let mut form = shared.form_xobject(form_id, &packed.data);
            form.filter(Filter::FlateDecode);
            form.bbox(Rect::new(0.0, 0.0, first.width, first.height));
            form.finish();
            Some(MarkForm {
                id: form_id,
                width: first.width,
                height: first.height,
                mark: mark.clone(),
            })
        }
        None => None,
    };

    // The pages' content. Written before the annotations are recorded, so that the
    // structure tree lists a link where its text is, not before its paragraph's text.
    let own = &layout.own;
    let mut page_contents: Vec<(Vec<Ref>, Option<&MarkForm>)> = Vec::with_capacity(pages.len());
    for (p, (page, &content_id)) in pages.iter().zip(&content_ids).enumerate() {
        let form = mark.as_ref().filter(|m| m.fits(page));
        // Most pages are written as for the previous customer: see `pages`.
        let packed = pages::content_stream(
            p,
            page,
            fonts,
            &faces,
            &mut tagger,
            form.is_some(),
            own,
            |tagger| {
                let (bytes, parts) = content(p, page, fonts, &faces, tagger, form, own);
                compress_parts(&bytes, &parts)
            },
        )?;
        // The first part has the number given before; a page of one stream is one object.
        let ids: Vec<Ref> = std::iter::once(content_id)
            .chain(packed.iter().skip(1).map(|_| refs.next()))
            .collect();
        for (
            &part_id,
            Part {
                stream,
                own: is_own,
            },
        ) in ids.iter().zip(packed.iter())
        {
            hash_stream(&mut hasher, stream);
            let out = if *is_own { &mut own_parts } else { &mut shared };
            let mut written = out.stream(part_id, &stream.data);
            if !stream.stored {
                written.filter(Filter::FlateDecode);
            }
        }
        page_contents.push((ids, form));
    }

    // Link annotations: one per link element and line, over the link's glyphs.
    let mut annotations: Vec<Vec<Ref>> = vec![Vec::new(); pages.len()];
    for (p, page) in pages.iter().enumerate() {
        for (node, rect) in link_rects(page, fonts) {
            let NodeKind::Link(uri) = &layout.nodes[node as usize].kind else {
                continue;
            };
            let id = refs.next();
            let key = tagger.annotation(p, node, id);
            let mut a = links.annotation(id);
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
            &mut signing,
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

    // The page objects.
    let mut page_objects = Chunk::with_settings_and_capacity(settings, 4 * 1024);
    for (p, ((page, &id), (ids, form))) in
        pages.iter().zip(&page_ids).zip(&page_contents).enumerate()
    {
        let mut pg = page_objects.page(id);
        pg.parent(tree_id)
            .media_box(Rect::new(0.0, 0.0, page.width, page.height));
        match ids.as_slice() {
            [one] => pg.contents(*one),
            more => pg.contents_array(more.iter().copied()),
        };
        pg.struct_parents(p as i32)
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
    page_objects
        .pages(tree_id)
        .kids(page_ids.iter().copied())
        .count(page_ids.len() as i32);

    let attachments = attach(
        &mut files,
        &mut bulk,
        &mut refs,
        &doc.attachments,
        &mut hasher,
    )?;
    let struct_root = tagger.write(&mut bulk, &mut refs, &page_ids, lang);
    let outline = outline(&mut bulk, &mut refs, &layout.outline, &page_ids, pages);

    let date = pdf_date(doc.meta.date);
    let keywords = doc.meta.keywords.join(",");
    let producer = concat!("dpa ", env!("CARGO_PKG_VERSION"));
    let metadata_id = refs.next();
    let xmp = xmp(doc, &keywords, producer, lang);
    let xmp = deflate(Kind::Text, xmp.into_bytes())?;

    // The file identifier is a hash of everything that varies between documents: the
    // streams (pages, fonts, ToUnicode maps, attachments: see `hash_stream`) and the metadata.
    for value in [&doc.meta.title, &doc.meta.author, &doc.meta.subject]
        .into_iter()
        .chain(&doc.meta.keywords)
    {
        hasher.update((value.len() as u64).to_be_bytes());
        hasher.update(value.as_bytes());
    }
    hasher.update(doc.meta.date.to_string().as_bytes());
    let id = hasher.finalize()[..16].to_vec();
    let mut object_streams = Vec::with_capacity(3);
    let mut font_stream = Chunk::with_settings(settings);
    let mut bulk_stream = Chunk::with_settings(settings);
    let mut link_stream = Chunk::with_settings(settings);
    // The links differ between customers: not worth a place in the memo.
    for (chunk, repeats, out) in [
        (&font_dicts, true, &mut font_stream),
        (&bulk, true, &mut bulk_stream),
        (&links, false, &mut link_stream),
    ] {
        let Some(packed) = objstm::stream(chunk, repeats)? else {
            continue;
        };
        let stream = refs.next();
        out.stream(stream, &packed.data.data)
            .filter(Filter::FlateDecode)
            .pair(Name(b"Type"), Name(b"ObjStm"))
            .pair(Name(b"N"), packed.ids.len() as i32)
            .pair(Name(b"First"), packed.first as i32);
        object_streams.push((stream, packed.ids));
    }
    // What a varied customer list changes least comes first: the fonts change with
    // each new letter in a name, the structure tree and the pages only when a line
    // moves.
    for chunk in [
        &shared,
        &files,
        &bulk_stream,
        &page_objects,
        &font_files,
        &font_stream,
        &own_parts,
        &link_stream,
    ] {
        pdf.extend(chunk);
    }
    pdf.metadata(metadata_id, &xmp.data)
        .filter(Filter::FlateDecode);
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

    pdf.extend(&signing);
    let bytes = objstm::finish(&pdf, &object_streams, refs.next(), catalog_id, info_id, &id)?;
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

/// What the outline's objects are written from, all of it: the first object number it
/// takes, each entry (level, title, page, top), the pages' object numbers and heights.
#[derive(PartialEq, Eq, Hash)]
struct OutlineKey {
    first: i32,
    entries: Vec<Entry>,
    page_ids: Vec<Ref>,
    /// The pages' heights (`f32` bits).
    heights: Vec<u32>,
}

/// An outline entry as the key holds it (`y`: the `f32`'s bits).
#[derive(PartialEq, Eq, Hash)]
struct Entry {
    level: u8,
    title: Box<str>,
    page: usize,
    y: u32,
}

thread_local! {
    /// Outlines kept per thread: a batch's documents share one as long as no customer's
    /// text moves a heading to another page.
    static OUTLINES: RefCell<Memo<OutlineKey, Arc<Spliced<Option<Ref>>>>> =
        RefCell::new(Memo::new(8));
}

/// [`write_outline`] into `bulk`, or the objects it wrote for the same key before (the
/// outline is the same for most customers of a batch, and 68 entries cost 0.4 M
/// instructions to write).
fn outline(
    bulk: &mut Chunk,
    refs: &mut Refs,
    entries: &[OutlineEntry],
    page_ids: &[Ref],
    pages: &[Page],
) -> Option<Ref> {
    let key = OutlineKey {
        first: refs.0,
        entries: entries
            .iter()
            .map(|e| Entry {
                level: e.level,
                title: e.title.as_str().into(),
                page: e.page,
                y: e.y.to_bits(),
            })
            .collect(),
        page_ids: page_ids.to_vec(),
        heights: pages.iter().map(|p| p.height.to_bits()).collect(),
    };
    spliced(&OUTLINES, key, bulk, refs, write_outline)
}

/// A thread's table of [`Spliced`] objects.
type SplicedTable<K, R> = LocalKey<RefCell<Memo<K, Arc<Spliced<R>>>>>;

/// Objects written into a chunk of their own, the object numbers they took, and what
/// their writer returned.
struct Spliced<R> {
    chunk: Chunk,
    next: i32,
    result: R,
}

/// Appends to `bulk` the objects `write` makes from `key`, numbered from `refs` on, or
/// those it made for an equal key before on this thread. `write` must read nothing but
/// the key, and the key must hold the first object number (`refs`' count).
fn spliced<K: Eq + Hash, R: Copy>(
    table: &'static SplicedTable<K, R>,
    key: K,
    bulk: &mut Chunk,
    refs: &mut Refs,
    write: impl FnOnce(&mut Chunk, &mut Refs, &K) -> R,
) -> R {
    let first = refs.0;
    let made = cache::memoised::<_, _, std::convert::Infallible>(table, key, |key| {
        let mut chunk = Chunk::with_settings(pdf_writer::Settings { pretty: false });
        let mut mine = Refs(first);
        let result = write(&mut chunk, &mut mine, key);
        Ok(Arc::new(Spliced {
            chunk,
            next: mine.0,
            result,
        }))
    });
    let Ok(made) = made;
    bulk.extend(&made.chunk);
    refs.0 = made.next;
    made.result
}

/// The bookmarks: headings and clauses, nested by level, each opening its page at the
/// entry's first line.
fn write_outline(pdf: &mut Chunk, refs: &mut Refs, key: &OutlineKey) -> Option<Ref> {
    let (entries, page_ids) = (&key.entries, &key.page_ids);
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
    // Children of each entry (and of the root, the last list) in order, and each entry's
    // number of descendants, in one pass each: an entry's descendants come after it.
    let n = entries.len();
    let mut kids: Vec<Vec<usize>> = vec![Vec::new(); n + 1];
    for (i, p) in parent.iter().enumerate() {
        kids[p.unwrap_or(n)].push(i);
    }
    let mut below = vec![0usize; n];
    for i in (0..n).rev() {
        below[i] = kids[i].iter().map(|&c| 1 + below[c]).sum();
    }
    let mut prev: Vec<Option<usize>> = vec![None; n];
    let mut next: Vec<Option<usize>> = vec![None; n];
    for siblings in &kids {
        for pair in siblings.windows(2) {
            next[pair[0]] = Some(pair[1]);
            prev[pair[1]] = Some(pair[0]);
        }
    }
    let top = &kids[n];
    pdf.outline(root)
        .first(ids[top[0]])
        .last(ids[*top.last().unwrap_or(&top[0])])
        .count(top.len() as i32);
    for (i, e) in entries.iter().enumerate() {
        let mut item = pdf.outline_item(ids[i]);
        item.parent(parent[i].map_or(root, |p| ids[p]))
            .title(TextStr(&e.title));
        if let Some(p) = prev[i] {
            item.prev(ids[p]);
        }
        if let Some(x) = next[i] {
            item.next(ids[x]);
        }
        if let (Some(&first), Some(&last)) = (kids[i].first(), kids[i].last()) {
            // Top-level entries start open, deeper ones closed.
            let n = below[i] as i32;
            item.first(ids[first])
                .last(ids[last])
                .count(if e.level <= 1 { n } else { -n });
        }
        let height = key.heights.get(e.page).map_or(0.0, |h| f32::from_bits(*h));
        item.dest()
            .page(page_ids[e.page.min(page_ids.len() - 1)])
            .xyz(0.0, height - f32::from_bits(e.y) + 4.0, None);
    }
    Some(root)
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

/// Adds a stream to the file identifier's hash: the digest of its uncompressed bytes,
/// computed once with the stream (the compressed bytes follow from them, at the level
/// fixed for the stream's kind), not the whole stream again.
fn hash_stream(hasher: &mut Sha256, stream: &Deflated) {
    hasher.update(stream.digest.to_be_bytes());
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
    let font = &*font.subset;
    out.push(b'(');
    let bytes = text.as_bytes();
    if font.ascii_identity && bytes.is_ascii() {
        // Most runs: the text is its own codes; only the bytes a literal string must
        // escape are written one by one.
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            if must_escape(b) {
                out.extend_from_slice(&bytes[start..i]);
                escaped(out, b);
                start = i + 1;
            }
        }
        out.extend_from_slice(&bytes[start..]);
        out.push(b')');
        return;
    }
    if font.one_byte && bytes.is_ascii() {
        // One code byte per character, from the table (a subset whose ASCII characters
        // are not all their own codes).
        out.reserve(bytes.len() + 1);
        for &b in bytes {
            escaped(out, font.ascii[b as usize] as u8);
        }
        out.push(b')');
        return;
    }
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

/// Whether a literal string must escape byte `b` ([`escaped`]).
#[inline]
fn must_escape(b: u8) -> bool {
    matches!(b, b'(' | b')' | b'\\' | b'\r' | b'\n')
}

/// Appends one byte of a literal string, escaped where PDF requires it.
#[inline]
fn escaped(out: &mut Vec<u8>, b: u8) {
    if !must_escape(b) {
        out.push(b);
        return;
    }
    match b {
        // A raw CR or LF inside a string would be read back as a line end.
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\n' => out.extend_from_slice(b"\\n"),
        _ => out.extend_from_slice(&[b'\\', b]),
    }
}

/// Whether `line` belongs to one of the paragraphs that hold the reader's own text
/// ([`Layout::own`]).
fn holds_own(own: &[u32], line: &Line) -> bool {
    own.binary_search(&line.para).is_ok()
}

/// A part without the reader's own text that is shorter than this, between two parts
/// that have it, joins them: compressing it again for each customer costs less than a
/// stream of its own (a fixed ~55,000 instructions and ~100 bytes).
const JOIN_BELOW: usize = 1024;

/// A part with the reader's own text shorter than this is written without a filter
/// (see [`deflate::stored`]); the parts of a DPA that name the customer are 100 to
/// 1,500 bytes.
const STORE_BELOW: usize = 2048;

/// One stream of a page's content.
#[derive(Debug, Clone)]
struct Part {
    stream: Deflated,
    /// Whether it holds the reader's own text ([`Layout::own`]); such parts are placed
    /// after the shared ones in the file (see `write`).
    own: bool,
}

/// The streams of a page's content, cut into the parts [`content`] found (each given by
/// where it ends and whether it holds the reader's own text): a page of one part is one
/// stream, compressed, as ever. Otherwise the parts without the reader's text go
/// through the stream memo, since they come out the same for every customer whose page
/// is laid out alike; the others are new in each document, and are stored when short.
fn compress_parts(bytes: &[u8], parts: &[(usize, bool)]) -> Result<Vec<Part>, PdfError> {
    if parts.len() <= 1 {
        return Ok(vec![Part {
            stream: deflate_once(Kind::Text, bytes)?,
            own: false,
        }]);
    }
    // (start, end, own), with each short part between two own parts joined to them.
    let mut joined: Vec<(usize, usize, bool)> = Vec::with_capacity(parts.len());
    let mut start = 0;
    for (i, &(end, own)) in parts.iter().enumerate() {
        let between = !own
            && end - start < JOIN_BELOW
            && joined.last().is_some_and(|p| p.2)
            && parts.get(i + 1).is_some_and(|p| p.1);
        match joined.last_mut() {
            Some(last) if last.2 && (own || between) => last.1 = end,
            _ => joined.push((start, end, own || between)),
        }
        start = end;
    }
    joined
        .into_iter()
        .map(|(start, end, own)| {
            let part = &bytes[start..end];
            let stream = match own {
                true if part.len() < STORE_BELOW => deflate::stored(part),
                true => deflate_once(Kind::Text, part)?,
                false => deflate(Kind::Text, part.to_vec())?,
            };
            Ok(Part { stream, own })
        })
        .collect()
}

/// The content stream of one page: fills and rules (page furniture), then all text in
/// one text object, each piece marked with its structure element, then the watermark.
///
/// Also returns where the stream may be cut into the parts `compress_parts` writes
/// as streams of their own: before the first and after the last paragraph of each run
/// of paragraphs that `own` lists ([`Layout::own`]), at a point where no
/// marked-content sequence is open, as a sequence must lie within one stream. Each
/// entry is the end of a part and whether it holds the reader's own text; the last
/// ends the stream. The text object spans the cut, which PDF allows (the division of a
/// page's content into streams is unrelated to the content itself, ISO 32000-1 7.8.2).
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
    own: &[u32],
) -> (Vec<u8>, Vec<(usize, bool)>) {
    let mut parts: Vec<(usize, bool)> = Vec::new();
    let mut part_own = false;
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
        let furniture = line.is_furniture();
        if !furniture && holds_own(own, line) != part_own {
            let element = line
                .runs
                .iter()
                .find(|r| faces.contains_key(&r.face))
                .map(|r| r.link.unwrap_or(line.node));
            // A part ends where a paragraph of the reader's text starts or has ended,
            // with the marked content before it closed (a sequence lies within one
            // stream). The next part sets its font and spacing again, so what it
            // writes does not depend on how the part before it ended.
            if element.is_some() && element != open {
                if open.take().is_some() {
                    out.extend_from_slice(b"EMC\n");
                }
                if parts.last().map_or(0, |p| p.0) < out.len() {
                    parts.push((out.len(), part_own));
                }
                part_own = !part_own;
                font = None;
                word_spacing = i64::MIN;
                char_spacing = i64::MIN;
            }
        }
        // Lines are placed with relative moves between integer thousandths, so no
        // rounding accumulates down the page. Page furniture (the running footer) stands
        // where the page puts it whatever the text above it does, so it is placed
        // absolutely: the part of a page after a customer's paragraph then reads the
        // same however many lines that paragraph took.
        let (x, y) = (milli(first.x), milli(h - line.baseline));
        if furniture {
            out.extend_from_slice(b"1 0 0 1 ");
            milli_num(&mut out, x);
            out.push(b' ');
            milli_num(&mut out, y);
            out.extend_from_slice(b" Tm\n");
        } else {
            milli_num(&mut out, x - lx);
            out.push(b' ');
            milli_num(&mut out, y - ly);
            out.extend_from_slice(b" Td\n");
        }
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
            if embedded.subset.one_byte || line.word_spacing == 0.0 || !run.text.contains(' ') {
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
    parts.push((out.len(), part_own));
    (out, parts)
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

/// What a watermark form's stream depends on: the fonts (their outlines and metrics),
/// the page size and the mark's runs as [`mark_text`] spells them.
#[derive(PartialEq, Eq, Hash)]
struct MarkKey {
    fonts: u64,
    width: u32,
    height: u32,
    text: String,
}

thread_local! {
    /// Watermark forms drawn and compressed on this thread: every document of a batch
    /// whose annex still has placeholders draws the same specimen mark, and drawing it
    /// from the glyph outlines cost more than a page of text.
    static MARKS: RefCell<Memo<MarkKey, Deflated>> = RefCell::new(Memo::new(4));
}

/// The watermark drawn once as a form XObject, for the pages of its size and text.
struct MarkForm {
    id: Ref,
    width: f32,
    height: f32,
    /// The mark's line on the first page that has it.
    mark: crate::layout::Line,
}

impl MarkForm {
    /// Whether `page` shows this same mark at the same place: the same runs (face,
    /// position, text) at the same size, what [`mark_text`] records.
    fn fits(&self, page: &Page) -> bool {
        let same = |m: &crate::layout::Line| {
            m.size == self.mark.size
                && m.runs.len() == self.mark.runs.len()
                && m.runs
                    .iter()
                    .zip(&self.mark.runs)
                    .all(|(a, b)| a.face == b.face && a.x == b.x && a.text == b.text)
        };
        page.width == self.width
            && page.height == self.height
            && page.watermark.as_ref().is_some_and(same)
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
    pdf: &mut Chunk,
    bulk: &mut Chunk,
    refs: &mut Refs,
    attachments: &[crate::document::Attachment],
    hasher: &mut Sha256,
) -> Result<Vec<(String, Ref)>, PdfError> {
    let mut out = Vec::with_capacity(attachments.len());
    {
        for a in attachments {
            let file = refs.next();
            let spec = refs.next();
            let packed = deflate(Kind::Text, a.data.clone())?;
            hash_stream(hasher, &packed);
            let mut ef = pdf.embedded_file(file, &packed.data);
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
    }
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

/// A one-paragraph document for the tests of this module and its submodules.
#[cfg(test)]
pub(crate) fn one_paragraph(runs: Vec<crate::document::Run>) -> Document {
    use crate::document::{Block, Metadata};
    Document {
        meta: Metadata {
            title: "T".into(),
            author: "A".into(),
            subject: "S".into(),
            keywords: vec![],
            date: chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
        },
        blocks: vec![Block::Paragraph(runs)],
        footer: String::new(),
        attachments: vec![],
        lang: None,
        watermark: None,
        own_text: Vec::new(),
    }
}

#[cfg(test)]
mod glyph_tests {
    use super::*;

    #[test]
    fn ascii_runs_are_encoded_as_the_general_path_encodes_them() {
        let (ts, layout, _) = pages::tests::set_up();
        let printable: String = (b' '..=b'~').map(char::from).collect();
        let faces = pages::tests::embed(&layout, &format!("{printable}é"), ts.fonts());
        let embedded = &faces[&Face::Regular];
        assert!(embedded.subset.one_byte);
        // ASCII keeps its own codes, so ASCII runs are written as they are.
        assert!(embedded.subset.ascii_identity);
        let mut fast = Vec::new();
        glyph_string(&mut fast, &printable, ts.fonts(), Face::Regular, embedded);
        // A character outside ASCII sends the whole run down the general path.
        let mut general = Vec::new();
        let with_e = format!("{printable}é");
        glyph_string(&mut general, &with_e, ts.fonts(), Face::Regular, embedded);
        assert_eq!(fast[..fast.len() - 1], general[..fast.len() - 1]);
        assert_eq!(general.len(), fast.len() + 1, "é is one byte more");
        // Among 96 codes some are the ones a literal string reserves.
        assert!(fast.contains(&b'\\'), "{}", String::from_utf8_lossy(&fast));
        cache::set_enabled(None);
    }
}

#[cfg(test)]
mod attachment_tests {
    use super::*;
    use crate::document::{Attachment, Run};

    #[test]
    fn attachments_round_trip_and_change_the_file() {
        let typesetter = Typesetter::new(PageSetup::default()).unwrap();
        let mut doc = one_paragraph(vec![Run::plain("Text.")]);
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

#[cfg(test)]
mod own_text_tests {
    use super::*;
    use crate::document::{Block, Run};

    /// Three paragraphs on one page; the middle one names the reader, `name`.
    fn doc(name: &str) -> Document {
        let stable = "The Processor keeps the personal data it processes for the Controller \
                      apart from its own, and returns or deletes it when the services end.";
        let mut doc = one_paragraph(vec![Run::plain(stable)]);
        doc.blocks.push(Block::Paragraph(vec![
            Run::plain("This Agreement is made with "),
            Run::plain(name.to_string()),
            Run::plain(", the Controller."),
        ]));
        doc.blocks.push(Block::Paragraph(vec![Run::plain(stable)]));
        doc.own_text = vec![name.to_string()];
        doc
    }

    /// Page 1's content streams as (decoded bytes, written without a filter).
    fn parts(pdf: &[u8]) -> Vec<(Vec<u8>, bool)> {
        use hayro_syntax::object::{Array, Name, Stream};
        let file = hayro_syntax::Pdf::new(pdf.to_vec()).unwrap();
        let page = &file.pages()[0];
        let one = page.raw().get::<Stream<'_>>(b"Contents");
        let streams: Vec<Stream<'_>> = match one {
            Some(s) => vec![s],
            None => page
                .raw()
                .get::<Array<'_>>(b"Contents")
                .unwrap()
                .iter::<Stream<'_>>()
                .collect(),
        };
        streams
            .iter()
            .map(|s| {
                let stored = s.dict().get::<Name<'_>>(b"Filter").is_none();
                (s.decoded().unwrap().into_owned(), stored)
            })
            .collect()
    }

    fn count(hay: &[u8], needle: &[u8]) -> usize {
        memchr::memmem::find_iter(hay, needle).count()
    }

    #[test]
    fn the_readers_own_paragraph_is_a_stream_of_its_own_and_the_rest_is_shared() {
        cache::set_enabled(Some(true));
        let ts = Typesetter::new(PageSetup::default()).unwrap();
        // The same letters, so both documents encode the glyphs alike; the second name
        // runs over more lines.
        let short = parts(&ts.render(&doc("Acme Trading GmbH")).unwrap());
        let long_name = ["Acme Trading GmbH"; 6].join(" ");
        let long = parts(&ts.render(&doc(&long_name)).unwrap());
        assert_eq!(short.len(), 3, "before, the reader's paragraph, after");
        assert_eq!(long.len(), 3);
        assert_eq!(short[0], long[0], "the part before is the same stream");
        assert_eq!(
            short[2], long[2],
            "and the part after, though it moved down"
        );
        assert!(
            count(&long[1].0, b"Td") > count(&short[1].0, b"Td"),
            "more lines"
        );
        assert!(
            short[1].1 && !short[0].1 && !short[2].1,
            "only the short part is stored"
        );
        for (part, _) in short.iter().chain(&long) {
            // No marked-content sequence crosses from one stream into the next.
            assert_eq!(
                count(part, b"BDC"),
                count(part, b"EMC"),
                "{}",
                String::from_utf8_lossy(part)
            );
        }
        assert_eq!(
            count(&short[0].0, b"BT\n"),
            1,
            "the text object starts in the first"
        );
        assert_eq!(
            count(&short[2].0, b"ET\n"),
            1,
            "the text object ends in the last part"
        );

        // Without the reader's text, one stream, compressed, as before.
        let mut plain = doc("Acme Trading GmbH");
        plain.own_text.clear();
        let whole = parts(&ts.render(&plain).unwrap());
        assert_eq!(whole.len(), 1);
        assert!(!whole[0].1);
        // The same drawing either way: the parts add up to the whole but for the state
        // (font, spacing) each part sets again after a cut.
        let joined: Vec<u8> = short.iter().flat_map(|p| p.0.clone()).collect();
        assert_eq!(count(&joined, b"Tj"), count(&whole[0].0, b"Tj"));
        assert_eq!(count(&joined, b"Td"), count(&whole[0].0, b"Td"));
        assert_eq!(count(&joined, b"BDC"), count(&whole[0].0, b"BDC"));
        cache::set_enabled(None);
    }
}
