//! Finished page content streams, kept per thread for the next document of a batch.
//!
//! In: one laid-out page with everything its content stream depends on besides: the
//! [`Fonts`], how this document encodes each face (its subset), the structure tag of
//! each element the page marks, whether the watermark form applies, and how many MCIDs
//! the page already has. Out: the compressed content stream, and the element of each of
//! its marked-content sequences in MCID order, which a hit replays into the [`Tagger`].
//!
//! Most of a DPA's twelve pages are laid out exactly as for the previous customer, yet
//! writing a page's content (numbers, glyph codes, escaping) and hashing the result for
//! the stream memo cost more than anything else in `pdf::write`. The key here is a byte
//! encoding of what [`super::content`] reads, cheaper to make than the content itself;
//! it is looked up by its digest and compared in full, so a digest collision is a miss.
//! A page that misses is one a customer changed (their name in a clause, the parties,
//! the signature block), so its stream is compressed without the stream memo, which
//! would only keep a second copy of it.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use xxhash_rust::xxh3::xxh3_128;

use super::Part;
use super::PdfError;
use super::embed::Embedded;
use super::tags::Tagger;
use crate::cache::{self, Memo};
use crate::layout::{Face, Fonts, Item, Line, Page, Role};

/// What a page's content stream depends on.
struct Key {
    /// XXH3-128 of `bytes`.
    digest: u128,
    /// The page as [`Key::new`] encodes it: sizes, items, watermark, tags, fonts.
    bytes: Box<[u8]>,
    /// For each face the page draws, in [`Face::ALL`] order, what its codes depend on
    /// beyond the characters ([`super::embed::FaceSubset::code_key`]; `None`: the document does not
    /// embed that face). Not the subset itself: a customer's name that adds a glyph to
    /// a face leaves the codes of every other character as they were, so the pages that
    /// do not name the customer still read the same.
    codes: [Option<Arc<[u8]>>; 5],
}

impl Key {
    fn new(
        index: usize,
        page: &Page,
        fonts: &Fonts,
        faces: &BTreeMap<Face, Embedded>,
        tagger: &Tagger<'_>,
        mark_form: bool,
        own: &[u32],
    ) -> Key {
        // Encoded into a buffer kept per thread, then copied at its exact size: a
        // table entry keeps its key, and most pages need well under the buffer's size.
        let mut e = Encoder(SCRATCH.take());
        e.0.clear();
        e.u64(fonts.id());
        // MCIDs are numbered on from those the page has already (none, today).
        e.u64(tagger.mcids(index).len() as u64);
        e.f32(page.width);
        e.f32(page.height);
        e.0.push(mark_form as u8);
        let mut used = [false; 5];
        for item in &page.items {
            match item {
                Item::Fill(f) => {
                    e.0.push(b'F');
                    for v in [f.gray, f.rect.x, f.rect.y, f.rect.width, f.rect.height] {
                        e.f32(v);
                    }
                }
                Item::Rule(r) => {
                    e.0.push(b'R');
                    for v in [r.x1, r.y1, r.x2, r.y2, r.thickness, r.gray] {
                        e.f32(v);
                    }
                }
                Item::Line(line) => {
                    e.0.push(b'L');
                    // Where the content is cut into streams.
                    e.0.push(u8::from(super::holds_own(own, line)));
                    let furniture = line.is_furniture();
                    e.line(line);
                    for run in &line.runs {
                        used[run.face.index()] = true;
                        // The tag of the element marked, which depends on the element's
                        // kind in this document's structure, not only on its number.
                        if !furniture && faces.contains_key(&run.face) {
                            e.bytes(tagger.tag(run.link.unwrap_or(line.node)));
                        }
                    }
                }
            }
        }
        match &page.watermark {
            Some(mark) => {
                e.0.push(b'W');
                e.line(mark);
            }
            None => e.0.push(b'-'),
        }
        let codes = std::array::from_fn(|i| {
            used[i]
                .then(|| faces.get(&Face::ALL[i]).map(|f| f.subset.code_key.clone()))
                .flatten()
        });
        let key = Key {
            digest: xxh3_128(&e.0),
            bytes: e.0.as_slice().into(),
            codes,
        };
        SCRATCH.set(e.0);
        key
    }
}

/// Appends fields to a key, each at a fixed length or length-prefixed, so two different
/// pages never encode alike; floats by their bits.
struct Encoder(Vec<u8>);

impl Encoder {
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    fn f32(&mut self, v: f32) {
        self.u32(v.to_bits());
    }

    fn bytes(&mut self, b: &[u8]) {
        self.u64(b.len() as u64);
        self.0.extend_from_slice(b);
    }

    /// Every field of a line that the content stream or the watermark's outlines read.
    fn line(&mut self, line: &Line) {
        for v in [
            line.baseline,
            line.size,
            line.word_spacing,
            line.letter_spacing,
        ] {
            self.f32(v);
        }
        self.u32(line.node);
        let (role, value) = match line.role {
            Role::Heading(level) => (0, u32::from(level)),
            Role::Body => (1, 0),
            Role::ListMarker => (2, 0),
            Role::TableHeader { table } => (3, table),
            Role::TableCell { table } => (4, table),
            Role::Signature => (5, 0),
            Role::Footer => (6, 0),
        };
        self.0.push(role);
        self.u32(value);
        self.u64(line.runs.len() as u64);
        for run in &line.runs {
            self.f32(run.x);
            self.0.push(run.face.index() as u8);
            match run.link {
                Some(link) => {
                    self.0.push(1);
                    self.u32(link);
                }
                None => self.0.push(0),
            }
            self.bytes(run.text.as_bytes());
        }
    }
}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // The digest stands for the bytes; `eq` compares them in full.
        self.digest.hash(state);
        self.codes.hash(state);
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.digest == other.digest && self.codes == other.codes && self.bytes == other.bytes
    }
}

impl Eq for Key {}

/// A finished page: its compressed content streams and the element of each MCID.
#[derive(Clone)]
struct Finished {
    streams: Arc<[Part]>,
    mcids: Arc<[u32]>,
}

/// Pages kept per thread: a DPA has twelve, of which a customer changes three to five;
/// 32 per generation hold every page that repeats with room for a change notice's, at
/// about 10 KB each (key and compressed stream).
const MEMO_CAPACITY: usize = 32;

thread_local! {
    static SCRATCH: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
    static PAGES: RefCell<Memo<Key, Finished>> = RefCell::new(Memo::new(MEMO_CAPACITY));
}

/// The compressed content streams of page `index` (one, or the parts `own` cuts it
/// into: see `pdf::content`), made by `make` (which writes the content and records its
/// marked content with the tagger), or handed out as made earlier on this thread for a
/// page that reads the same, with its marked content recorded again.
#[allow(clippy::too_many_arguments)]
pub(super) fn content_stream(
    index: usize,
    page: &Page,
    fonts: &Fonts,
    faces: &BTreeMap<Face, Embedded>,
    tagger: &mut Tagger<'_>,
    mark_form: bool,
    own: &[u32],
    make: impl FnOnce(&mut Tagger<'_>) -> Result<Vec<Part>, PdfError>,
) -> Result<Arc<[Part]>, PdfError> {
    if !cache::enabled() {
        return Ok(make(tagger)?.into());
    }
    let key = Key::new(index, page, fonts, faces, tagger, mark_form, own);
    let start = tagger.mcids(index).len();
    let mut made = false;
    let finished = cache::memoised(&PAGES, key, |_| {
        made = true;
        let streams = make(tagger)?.into();
        Ok::<_, PdfError>(Finished {
            streams,
            mcids: tagger.mcids(index)[start..].into(),
        })
    })?;
    if !made {
        for &element in finished.mcids.iter() {
            tagger.content(index, element);
        }
    }
    Ok(finished.streams)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::document::{Run, Style};
    use crate::layout::{Layout, NodeKind, PageSetup};
    use crate::pdf::deflate::{Deflated, Kind, deflate_once, inflate};
    use crate::pdf::embed::{EmbeddedFaces, embed_fonts};
    use crate::pdf::{MarkForm, Refs, Typesetter, content, one_paragraph};
    use pdf_writer::{Chunk, Pdf, Ref};
    use sha2::{Digest, Sha256};

    /// Memo tables on, and a one-page document with a link, laid out and embedded.
    pub(in crate::pdf) fn set_up() -> (Typesetter, Layout, EmbeddedFaces) {
        cache::set_enabled(Some(true));
        let ts = Typesetter::new(PageSetup::default()).unwrap();
        let doc = one_paragraph(vec![
            Run::plain("The processor keeps the personal data "),
            Run::linked("in the Union", Style::Regular, "https://example.com/eu"),
            Run::plain(" and nowhere else, as the controller instructs."),
        ]);
        let layout = crate::layout::layout(&doc, ts.fonts(), ts.setup()).unwrap();
        let faces = embed(&layout, "", ts.fonts());
        (ts, layout, faces)
    }

    /// How this document embeds its faces, with the glyphs of `extra` added.
    pub(in crate::pdf) fn embed(layout: &Layout, extra: &str, fonts: &Fonts) -> EmbeddedFaces {
        let lines: Vec<Line> = (!extra.is_empty())
            .then(|| crate::layout::appearance_line(extra, 9.0, 400.0, fonts).unwrap())
            .into_iter()
            .collect();
        let (mut pdf, mut bulk, mut refs) = (Pdf::new(), Chunk::new(), Refs(0));
        embed_fonts(
            &mut pdf,
            &mut bulk,
            &mut refs,
            &layout.pages,
            &lines,
            fonts,
            &mut Sha256::new(),
        )
        .unwrap()
    }

    /// Page 0's stream through the memo, checked against the stream written directly
    /// (same bytes, same MCIDs recorded); returns it with the uncompressed bytes.
    fn page_stream(
        layout: &Layout,
        fonts: &Fonts,
        faces: &EmbeddedFaces,
        form: Option<&MarkForm>,
    ) -> (Deflated, Vec<u8>) {
        let page = &layout.pages[0];
        let mut tagger = Tagger::new(&layout.nodes, layout.pages.len());
        let whole = |t: &mut Tagger<'_>| content(0, page, fonts, faces, t, form, &[]).0;
        let got = content_stream(
            0,
            page,
            fonts,
            faces,
            &mut tagger,
            form.is_some(),
            &[],
            |t| {
                Ok(vec![Part {
                    stream: deflate_once(Kind::Text, &whole(t))?,
                    own: false,
                }])
            },
        )
        .unwrap();
        let [got] = &got[..] else {
            panic!("one stream for a page without the reader's own text");
        };
        let got = got.stream.clone();
        let mut fresh = Tagger::new(&layout.nodes, layout.pages.len());
        let want = whole(&mut fresh);
        assert_eq!(
            inflate(&got.data),
            want,
            "the memo hands out the page's own content"
        );
        assert_eq!(
            tagger.mcids(0),
            fresh.mcids(0),
            "and records its marked content"
        );
        assert!(!tagger.mcids(0).is_empty());
        (got, want)
    }

    #[test]
    fn the_same_page_again_is_a_hit() {
        let (ts, layout, faces) = set_up();
        let (first, _) = page_stream(&layout, ts.fonts(), &faces, None);
        let (again, _) = page_stream(&layout, ts.fonts(), &faces, None);
        assert!(
            Arc::ptr_eq(&first.data, &again.data),
            "second call is a hit"
        );
        cache::set_enabled(None);
    }

    #[test]
    fn a_subset_with_more_glyphs_encodes_the_page_alike() {
        let (ts, layout, plain) = set_up();
        let fonts = ts.fonts();
        // Glyphs early in the font's order (digits, capitals, letters of a customer's
        // name): the subset changes, the codes of the page's letters do not.
        let more = embed(
            &layout,
            "0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ Müller & Söhne",
            fonts,
        );
        assert!(!Arc::ptr_eq(
            &plain[&Face::Regular].subset,
            &more[&Face::Regular].subset
        ));
        let (first, a) = page_stream(&layout, fonts, &plain, None);
        let (second, b) = page_stream(&layout, fonts, &more, None);
        assert_eq!(a, b);
        assert!(Arc::ptr_eq(&first.data, &second.data), "a hit");
        cache::set_enabled(None);
    }

    #[test]
    fn a_subset_that_moves_a_pages_codes_is_another_page() {
        let (ts, _, _) = set_up();
        let fonts = ts.fonts();
        // Letters with no fixed code take the free codes in glyph order, so one more
        // such letter before them in the font moves theirs.
        let doc = one_paragraph(vec![Run::plain(
            "Łódź and Źródło, as the controller instructs.",
        )]);
        let layout = crate::layout::layout(&doc, fonts, ts.setup()).unwrap();
        let plain = embed(&layout, "", fonts);
        let more = embed(&layout, "ą ć ę", fonts);
        let (first, a) = page_stream(&layout, fonts, &plain, None);
        let (second, b) = page_stream(&layout, fonts, &more, None);
        assert_ne!(a, b, "the test's two encodings write different codes");
        assert!(!Arc::ptr_eq(&first.data, &second.data));
        cache::set_enabled(None);
    }

    #[test]
    fn another_element_kind_at_the_same_number_is_another_page() {
        let (ts, layout, faces) = set_up();
        let fonts = ts.fonts();
        let (_, a) = page_stream(&layout, fonts, &faces, None);
        let mut other = layout.clone();
        let Some(Item::Line(line)) = other.pages[0].items.first() else {
            panic!("the page starts with a line");
        };
        let node = line.node as usize;
        assert_eq!(other.nodes[node].kind, NodeKind::Paragraph);
        other.nodes[node].kind = NodeKind::Division;
        let (_, b) = page_stream(&other, fonts, &faces, None);
        assert_ne!(a, b, "P and Div tags");
        cache::set_enabled(None);
    }

    #[test]
    fn the_watermark_form_or_its_paths_are_other_pages() {
        let (ts, mut layout, faces) = set_up();
        let fonts = ts.fonts();
        let page = &mut layout.pages[0];
        let Some(Item::Line(line)) = page.items.first() else {
            panic!("the page starts with a line");
        };
        page.watermark = Some(line.clone());
        let form = MarkForm {
            id: Ref::new(99),
            width: page.width,
            height: page.height,
            mark: line.clone(),
        };
        let (_, paths) = page_stream(&layout, fonts, &faces, None);
        let (_, drawn) = page_stream(&layout, fonts, &faces, Some(&form));
        let (_, again) = page_stream(&layout, fonts, &faces, None);
        assert_ne!(paths, drawn);
        assert_eq!(paths, again);
        cache::set_enabled(None);
    }

    #[test]
    fn a_digest_collision_is_not_a_hit() {
        let (ts, layout, faces) = set_up();
        let fonts = ts.fonts();
        let tagger = Tagger::new(&layout.nodes, layout.pages.len());
        let real = Key::new(0, &layout.pages[0], fonts, &faces, &tagger, false, &[]);
        // Planted under the page's digest and subsets with other bytes: a lookup by
        // digest alone would hand this stream out for the page.
        let planted = Key {
            digest: real.digest,
            bytes: Box::from(&b"another page"[..]),
            codes: real.codes.clone(),
        };
        let bogus = Finished {
            streams: Arc::from([Part {
                stream: deflate_once(Kind::Text, b"not this").unwrap(),
                own: false,
            }]),
            mcids: Arc::from([7u32]),
        };
        PAGES.with_borrow_mut(|m| m.store(planted, bogus));
        page_stream(&layout, fonts, &faces, None);
        cache::set_enabled(None);
    }
}
