//! The fonts compiled into the binary and how wide their characters are.
//!
//! In: the TrueType files in `fonts/` (via `include_bytes!`). Out: [`Fonts`], which maps
//! a character in a [`Style`] to a face, a glyph id and an advance width, measured exactly
//! the way the PDF's `/W` array will state it (`trunc(advance * 1000 / units_per_em)`),
//! so a justified line measured here ends where the viewer draws it.
//!
//! The fonts are read with `ttf-parser`, the one font reader of the project (the PDF
//! stage's subsetter reads its tables through it too); subsetting happens in `pdf`.

use std::fmt;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::document::Style;

/// One of the faces a glyph can come from: the four serif faces or the sans fallback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Face {
    Regular,
    Bold,
    Italic,
    BoldItalic,
    /// DejaVu Sans, for characters the serif family lacks (arrows, symbols, …).
    Fallback,
}

impl Face {
    /// Every face, in a fixed order (the order used for resource names in the PDF).
    pub const ALL: [Face; 5] = [
        Face::Regular,
        Face::Bold,
        Face::Italic,
        Face::BoldItalic,
        Face::Fallback,
    ];

    /// Its place in [`Face::ALL`].
    pub const fn index(self) -> usize {
        // `ALL` lists the faces in the order they are declared.
        self as usize
    }

    /// The serif face that draws text in `style`.
    pub fn for_style(style: Style) -> Face {
        match style {
            Style::Regular => Face::Regular,
            Style::Bold => Face::Bold,
            Style::Italic => Face::Italic,
            Style::BoldItalic => Face::BoldItalic,
        }
    }
}

/// Why the embedded fonts could not be read (only possible if `fonts/` holds a broken file).
#[derive(Debug, thiserror::Error)]
#[error("embedded font {file} is not a usable TrueType font: {reason}")]
pub struct FontError {
    pub file: &'static str,
    pub reason: String,
}

/// A face's measurements, in thousandths of an em.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaceMetrics {
    pub ascender: f32,
    pub descender: f32,
    pub cap_height: f32,
}

/// One BMP page of a face's lookup table: per code point `gid << 16 | advance` (gid 0:
/// not in this face); `None` where the face maps nothing on the page.
type Page = Option<Box<[u32; 256]>>;

/// One parsed face: its file, its character map and its advance widths.
struct FaceData {
    file: &'static str,
    postscript_name: &'static str,
    bytes: &'static [u8],
    /// The face as `ttf-parser` reads it, for the PDF stage (descriptor, subsetting).
    parsed: ttf_parser::Face<'static>,
    /// The Unicode cmap subtable that lookups go through.
    cmap: ttf_parser::cmap::Subtable<'static>,
    units_per_em: u16,
    num_glyphs: u16,
    /// BMP lookup per 256 code points, each page filled on its first lookup: a document
    /// touches a handful of pages, and mapping every code point of five faces at start
    /// cost more than laying out a page of text.
    pages: [OnceLock<Page>; 256],
    /// Glyph id and advance per ASCII character (gid 0: none), the most frequent lookup.
    ascii: [u16; 128],
    ascii_advance: [u16; 128],
    metrics: FaceMetrics,
}

impl FaceData {
    /// Glyph id of `cp` as the cmap maps it, or 0 where the face has no usable glyph.
    fn lookup_gid(&self, cp: u32) -> u16 {
        match self.cmap.glyph_index(cp) {
            Some(g) if g.0 != 0 && g.0 < self.num_glyphs && cp != 0xFFFF && cp <= 0x10_FFFF => g.0,
            _ => 0,
        }
    }

    /// Advance of glyph `gid`, truncated to thousandths of an em like the PDF `/W` array.
    fn gid_advance(&self, gid: u16) -> u16 {
        let units = self
            .parsed
            .glyph_hor_advance(ttf_parser::GlyphId(gid))
            .unwrap_or(0);
        // The PDF `/W` array states `trunc(advance * 1000 / unitsPerEm)` (see `pdf`).
        (units as f32 * 1000.0 / self.units_per_em as f32) as i64 as u16
    }

    /// The BMP page holding `cp`, mapped on first use.
    #[inline]
    fn page(&self, cp: u32) -> Option<&[u32; 256]> {
        let slot = &self.pages[(cp >> 8) as usize];
        match slot.get() {
            Some(page) => page.as_deref(),
            // Kept out of line so the lookup that finds its page stays small.
            None => self.first_lookup(slot, cp >> 8),
        }
    }

    #[cold]
    #[inline(never)]
    fn first_lookup<'a>(&self, slot: &'a OnceLock<Page>, page: u32) -> Option<&'a [u32; 256]> {
        slot.get_or_init(|| self.map_page(page)).as_deref()
    }

    #[cold]
    fn map_page(&self, page: u32) -> Page {
        let mut block = [0u32; 256];
        let mut any = false;
        for (low, slot) in block.iter_mut().enumerate() {
            let gid = self.lookup_gid(page << 8 | low as u32);
            if gid != 0 {
                *slot = (gid as u32) << 16 | self.gid_advance(gid) as u32;
                any = true;
            }
        }
        any.then(|| Box::new(block))
    }
}

/// The embedded font family, parsed once and shared (it is `Send + Sync`).
pub struct Fonts {
    faces: Vec<FaceData>,
    /// Unique per instance in the process, for memo keys (see [`Fonts::id`]).
    id: u64,
}

impl fmt::Debug for Fonts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.faces.iter().map(|d| d.postscript_name).collect();
        f.debug_struct("Fonts").field("faces", &names).finish()
    }
}

/// Where a character is drawn from and how wide it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Glyph {
    pub face: Face,
    pub gid: u16,
    /// Advance in thousandths of an em.
    pub advance: u16,
}

/// Characters that occupy no glyph: they only mark break opportunities or are spaces.
pub(crate) fn is_control(c: char) -> bool {
    matches!(c, '\u{AD}' | '\u{200B}' | '\u{2060}' | '\u{FEFF}') || c.is_control()
}

struct Embedded {
    face: Face,
    file: &'static str,
    postscript_name: &'static str,
    bytes: &'static [u8],
}

const EMBEDDED: [Embedded; 5] = [
    Embedded {
        face: Face::Regular,
        file: "LiberationSerif-Regular.ttf",
        postscript_name: "LiberationSerif",
        bytes: include_bytes!("../../fonts/LiberationSerif-Regular.ttf"),
    },
    Embedded {
        face: Face::Bold,
        file: "LiberationSerif-Bold.ttf",
        postscript_name: "LiberationSerif-Bold",
        bytes: include_bytes!("../../fonts/LiberationSerif-Bold.ttf"),
    },
    Embedded {
        face: Face::Italic,
        file: "LiberationSerif-Italic.ttf",
        postscript_name: "LiberationSerif-Italic",
        bytes: include_bytes!("../../fonts/LiberationSerif-Italic.ttf"),
    },
    Embedded {
        face: Face::BoldItalic,
        file: "LiberationSerif-BoldItalic.ttf",
        postscript_name: "LiberationSerif-BoldItalic",
        bytes: include_bytes!("../../fonts/LiberationSerif-BoldItalic.ttf"),
    },
    Embedded {
        face: Face::Fallback,
        file: "DejaVuSans.ttf",
        postscript_name: "DejaVuSans",
        bytes: include_bytes!("../../fonts/DejaVuSans.ttf"),
    },
];

impl Fonts {
    /// Parses the fonts compiled into the binary (Liberation Serif and DejaVu Sans).
    pub fn embedded() -> Result<Fonts, FontError> {
        let mut faces = Vec::with_capacity(EMBEDDED.len());
        for (i, e) in EMBEDDED.iter().enumerate() {
            debug_assert_eq!(e.face.index(), i);
            let data = parse_face(e.bytes).map_err(|reason| FontError {
                file: e.file,
                reason,
            })?;
            faces.push(FaceData {
                file: e.file,
                postscript_name: e.postscript_name,
                bytes: e.bytes,
                ..data
            });
        }
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        Ok(Fonts {
            faces,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        })
    }

    /// A number no other `Fonts` of this process has: memo tables key on it, so work
    /// measured with one instance is never reused for another.
    pub fn id(&self) -> u64 {
        self.id
    }

    fn data(&self, face: Face) -> &FaceData {
        &self.faces[face.index()]
    }

    /// The glyph id of `c` in `face`, if the face has it.
    #[inline]
    pub fn glyph_id(&self, face: Face, c: char) -> Option<u16> {
        if c.is_ascii() {
            let gid = self.data(face).ascii[c as usize];
            return (gid != 0).then_some(gid);
        }
        self.entry(face, c).map(|(gid, _)| gid)
    }

    /// Glyph id and advance of `c` in `face`.
    #[inline]
    fn entry(&self, face: Face, c: char) -> Option<(u16, u16)> {
        let d = self.data(face);
        let cp = c as u32;
        if cp < 0x80 {
            let gid = d.ascii[cp as usize];
            return (gid != 0).then(|| (gid, d.ascii_advance[cp as usize]));
        }
        if cp < 0x1_0000 {
            let e = d.page(cp)?[(cp & 0xFF) as usize];
            (e >> 16 != 0).then_some(((e >> 16) as u16, e as u16))
        } else {
            // Rare enough (none in a DPA so far) to ask the cmap every time.
            let gid = d.lookup_gid(cp);
            (gid != 0).then(|| (gid, d.gid_advance(gid)))
        }
    }

    /// The summed advance of `bytes` in `face`, if every byte is a printable ASCII
    /// character that `face` has (else `None`: measure character by character).
    #[inline]
    pub(crate) fn ascii_units(&self, face: Face, bytes: &[u8]) -> Option<u64> {
        let d = self.data(face);
        let mut units = 0u64;
        for &b in bytes {
            // Controls (below U+0020, U+007F) are not drawn; bytes from 0x80 are not ASCII.
            if !(0x20..0x7F).contains(&b) || d.ascii[b as usize] == 0 {
                return None;
            }
            units += d.ascii_advance[b as usize] as u64;
        }
        Some(units)
    }

    /// Where `c` in `style` is drawn from: the style's serif face, else the fallback.
    #[inline]
    pub fn glyph(&self, c: char, style: Style) -> Option<Glyph> {
        let primary = Face::for_style(style);
        if let Some((gid, advance)) = self.entry(primary, c) {
            return Some(Glyph {
                face: primary,
                gid,
                advance,
            });
        }
        self.entry(Face::Fallback, c).map(|(gid, advance)| Glyph {
            face: Face::Fallback,
            gid,
            advance,
        })
    }

    /// Advance of `c` in `face` in thousandths of an em (0 if the face lacks it).
    pub fn advance(&self, face: Face, c: char) -> u16 {
        self.entry(face, c).map_or(0, |(_, advance)| advance)
    }

    /// The first character of `text` that no font can draw in `style`, if any.
    pub fn first_missing(&self, text: &str, style: Style) -> Option<char> {
        text.chars()
            .find(|&c| !is_control(c) && self.glyph(c, style).is_none())
    }

    /// Ascender, descender and cap height of a face.
    pub fn metrics(&self, face: Face) -> FaceMetrics {
        self.data(face).metrics
    }

    /// The face's file as compiled in (the full font, before subsetting).
    pub fn bytes(&self, face: Face) -> &'static [u8] {
        self.data(face).bytes
    }

    /// The full face as parsed by `ttf-parser`.
    pub(crate) fn parsed(&self, face: Face) -> &ttf_parser::Face<'static> {
        &self.data(face).parsed
    }

    /// Number of glyphs in the full face (glyph ids are below this).
    pub fn num_glyphs(&self, face: Face) -> usize {
        self.data(face).num_glyphs as usize
    }

    /// The face's PostScript name, e.g. `LiberationSerif-Bold`.
    pub fn postscript_name(&self, face: Face) -> &'static str {
        self.data(face).postscript_name
    }

    /// The file name the face was loaded from, for error messages.
    pub fn file_name(&self, face: Face) -> &'static str {
        self.data(face).file
    }
}

/// Reads the measuring tables of one face through `ttf-parser`: the ASCII table now,
/// the rest of the BMP page by page on first use (a parser call per character would
/// cost more than the layout itself).
fn parse_face(bytes: &'static [u8]) -> Result<FaceData, String> {
    let face = ttf_parser::Face::parse(bytes, 0).map_err(|e| e.to_string())?;
    if face.tables().glyf.is_none() {
        return Err("not a TrueType outline font (no glyf table)".into());
    }
    let units_per_em = face.units_per_em();
    if units_per_em == 0 {
        return Err("unitsPerEm is 0".into());
    }
    let hhea = face.tables().hhea;
    let em = |v: i16| v as f32 * 1000.0 / units_per_em as f32;
    let cap_height = match face.capital_height() {
        Some(c) if c > 0 => em(c),
        _ => em(hhea.ascender) * 0.7,
    };

    let cmap = face.tables().cmap.ok_or("no cmap table")?;
    let subtable = unicode_subtable(cmap).ok_or("no Unicode cmap subtable")?;

    let mut data = FaceData {
        file: "",
        postscript_name: "",
        bytes,
        num_glyphs: face.number_of_glyphs(),
        parsed: face,
        cmap: subtable,
        units_per_em,
        pages: std::array::from_fn(|_| OnceLock::new()),
        ascii: [0; 128],
        ascii_advance: [0; 128],
        metrics: FaceMetrics {
            ascender: em(hhea.ascender),
            descender: em(hhea.descender),
            cap_height,
        },
    };
    for cp in 0..128u32 {
        let gid = data.lookup_gid(cp);
        data.ascii[cp as usize] = gid;
        data.ascii_advance[cp as usize] = if gid == 0 { 0 } else { data.gid_advance(gid) };
    }
    Ok(data)
}

/// The best Unicode subtable: format 12 (all planes) before format 4 (BMP only).
fn unicode_subtable(
    cmap: ttf_parser::cmap::Table<'static>,
) -> Option<ttf_parser::cmap::Subtable<'static>> {
    cmap.subtables
        .into_iter()
        .filter(|t| t.is_unicode())
        .max_by_key(|t| match t.format {
            ttf_parser::cmap::Format::SegmentedCoverage(_) => 2,
            ttf_parser::cmap::Format::SegmentMappingToDeltaValues(_) => 1,
            _ => 0,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fonts() -> Fonts {
        Fonts::embedded().expect("embedded fonts parse")
    }

    #[test]
    fn a_face_knows_its_place_in_all() {
        for (i, face) in Face::ALL.into_iter().enumerate() {
            assert_eq!(face.index(), i, "{face:?}");
        }
    }

    #[test]
    fn serif_has_the_characters_a_dpa_needs() {
        let f = fonts();
        for c in "üßéłč–“”€§½—…•’".chars() {
            let g = f.glyph(c, Style::Regular).expect("glyph");
            assert_eq!(g.face, Face::Regular, "{c} should come from the serif");
        }
    }

    #[test]
    fn fallback_covers_symbols_the_serif_lacks() {
        let f = fonts();
        let g = f
            .glyph('✓', Style::Bold)
            .expect("check mark from DejaVu Sans");
        assert_eq!(g.face, Face::Fallback);
        assert_eq!(f.first_missing("abc 中", Style::Regular), Some('中'));
        assert_eq!(f.first_missing("abc\u{AD}def", Style::Italic), None);
    }

    /// Every code point a face maps, with glyph id and advance, read the eager way (the
    /// cmap's own code point list and one advance table), as `Fonts` did before its
    /// pages were filled lazily.
    fn full_table(face: &ttf_parser::Face<'static>) -> Vec<(u32, u16, u16)> {
        let upem = face.units_per_em() as f32;
        let n = face.number_of_glyphs();
        let advance: Vec<u16> = (0..n)
            .map(|g| {
                let units = face.glyph_hor_advance(ttf_parser::GlyphId(g)).unwrap_or(0);
                (units as f32 * 1000.0 / upem) as i64 as u16
            })
            .collect();
        let sub = unicode_subtable(face.tables().cmap.expect("cmap")).expect("unicode subtable");
        let mut all = Vec::new();
        sub.codepoints(|cp| match sub.glyph_index(cp) {
            Some(g) if g.0 != 0 && g.0 < n && cp != 0xFFFF && cp <= 0x10_FFFF => {
                all.push((cp, g.0, advance[g.0 as usize]));
            }
            _ => {}
        });
        all.sort_unstable();
        all.dedup();
        all
    }

    #[test]
    fn lazy_pages_give_the_full_tables_answers() {
        let f = fonts();
        for face in Face::ALL {
            let full = full_table(f.parsed(face));
            assert!(
                full.len() > 2000,
                "{face:?} maps only {} code points",
                full.len()
            );
            let mut expected = vec![None; 0x1_0000];
            for &(cp, gid, advance) in &full {
                if cp < 0x1_0000 {
                    expected[cp as usize] = Some((gid, advance));
                } else {
                    let c = char::from_u32(cp).expect("scalar value");
                    assert_eq!(f.entry(face, c), Some((gid, advance)), "{face:?} U+{cp:X}");
                }
            }
            // Every BMP code point, mapped or not: the lazy pages agree with the full table.
            for (cp, want) in expected.iter().enumerate() {
                let Some(c) = char::from_u32(cp as u32) else {
                    continue;
                };
                assert_eq!(f.entry(face, c), *want, "{face:?} U+{cp:04X}");
                assert_eq!(
                    f.glyph_id(face, c),
                    want.map(|w| w.0),
                    "{face:?} U+{cp:04X}"
                );
                assert_eq!(
                    f.advance(face, c),
                    want.map_or(0, |w| w.1),
                    "{face:?} U+{cp:04X}"
                );
            }
            assert_eq!(f.entry(face, '\u{10FFFF}'), None);
            assert_eq!(
                f.num_glyphs(face),
                f.parsed(face).number_of_glyphs() as usize
            );
        }
    }

    #[test]
    fn pages_are_mapped_only_when_asked_for() {
        let f = fonts();
        let mapped = |f: &Fonts, face: Face| -> usize {
            f.data(face)
                .pages
                .iter()
                .filter(|p| p.get().is_some())
                .count()
        };
        assert_eq!(mapped(&f, Face::Regular), 0);
        // ASCII comes from its own table; 'ü' (page 0) and '€' (page 0x20) map two pages.
        assert!(f.glyph('a', Style::Regular).is_some());
        assert_eq!(mapped(&f, Face::Regular), 0);
        assert!(f.glyph('ü', Style::Regular).is_some());
        assert!(f.glyph('€', Style::Regular).is_some());
        assert_eq!(mapped(&f, Face::Regular), 2);
        assert_eq!(mapped(&f, Face::Fallback), 0);
        // A character the serif lacks maps the fallback's page as well.
        assert_eq!(
            f.glyph('✓', Style::Regular).map(|g| g.face),
            Some(Face::Fallback)
        );
        assert_eq!(mapped(&f, Face::Regular), 3);
        assert_eq!(mapped(&f, Face::Fallback), 1);
    }

    #[test]
    fn widths_follow_the_pdf_w_truncation() {
        let f = fonts();
        // Liberation Serif is metric-compatible with Times: 'a' advances 909/2048 em.
        assert_eq!(
            f.advance(Face::Regular, 'a'),
            (909.0f32 * 1000.0 / 2048.0) as u16
        );
        assert_eq!(f.advance(Face::Regular, ' '), 250);
        assert!(f.advance(Face::Bold, 'm') > f.advance(Face::Regular, 'm') - 1);
    }
}
