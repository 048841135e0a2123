//! Font embedding: the faces a document draws become subset fonts in the PDF.
//!
//! In: the laid-out lines (pages and the signature appearance) and the [`Fonts`]. Out:
//! for each face used, the Type0 font, its CIDFont with the `/W` widths, the descriptor,
//! the font program, the ToUnicode map and, for faces whose glyphs all get a one-byte
//! code, the one-byte CMap; and an [`Embedded`] per face that says how the page contents
//! encode its text. One-byte codes stand for characters, not for places in the subset, so
//! a customer's name that adds a glyph leaves the encoding of every other page as it was.
//!
//! What a face's subset holds depends only on the full font and on which glyphs were
//! drawn for which characters, and that set is the same for most customers of a batch.
//! So the subset, its compressed streams and its encoding are kept in a per-thread
//! [`Memo`] keyed by exactly that: the font (its compiled-in bytes), the face and every
//! (glyph, character) pair. Object numbers are given out per document, outside the memo.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Arc;

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo};
use pdf_writer::{Chunk, Filter, Finish, Name, Rect, Ref, Str};
use sha2::{Digest, Sha256};

use super::deflate::{Deflated, Kind, deflate_once};
use super::{PdfError, Refs, hash_stream, subset};
use crate::cache::{self, Memo};
use crate::layout::{Face, Fonts, Item, Line, Page};

/// Character → glyph id (CID) or code in a face's subset.
type Codes = BTreeMap<char, u16>;

/// How each face is embedded in one document.
pub(super) type EmbeddedFaces = BTreeMap<Face, Embedded>;

/// A face as embedded in one document.
pub(super) struct Embedded {
    /// The subset and its encoding (shared with other documents of the same glyphs).
    pub subset: Arc<FaceSubset>,
    /// The Type0 font object the page resources name.
    pub type0: Ref,
}

/// A face cut down to a set of glyphs, ready to write: its streams compressed, its
/// widths and the code of each glyph.
pub(super) struct FaceSubset {
    /// The subset-tagged PostScript name, e.g. `QKRFSH+LiberationSerif-Bold`.
    name: String,
    program: Deflated,
    /// Length of the uncompressed font program (`/Length1`).
    program_len: usize,
    to_unicode: Deflated,
    /// The one-byte CMap with its name, for faces whose glyphs all get one-byte codes.
    one_byte_cmap: Option<(String, Deflated)>,
    /// Widths of the subset's glyphs in thousandths of an em, by CID.
    widths: Vec<f32>,
    /// Full-face glyph id → code.
    pub remap: Vec<u16>,
    /// Code per ASCII character, for the common case.
    pub ascii: [u16; 128],
    /// One-byte codes, and every ASCII character the subset has is its own code (as
    /// `rule_code` gives them): ASCII text is then written as it is.
    pub ascii_identity: bool,
    /// Every glyph has a one-byte code (see `one_byte_codes`), so text is shown with one
    /// byte per glyph.
    pub one_byte: bool,
    /// What the codes depend on beyond the characters drawn: whether they are one byte,
    /// and each glyph's code that is not the one it gets by rule (`rule_code`; all of
    /// them with two bytes). Two subsets with equal keys encode any text alike, which is what a
    /// finished page's memo key needs (`pages`).
    pub code_key: Arc<[u8]>,
}

/// What a face's subset depends on.
#[derive(Debug, PartialEq, Eq, Hash)]
struct SubsetKey {
    /// Address and length of the full font's compiled-in bytes (`&'static`, so they
    /// name one font program for the life of the process, whichever [`Fonts`] holds it).
    font: (usize, usize),
    face: Face,
    /// Every glyph drawn, in glyph order, with the character it stands for.
    glyphs: Vec<(u16, char)>,
}

/// Subsets kept per thread: one per face and glyph set; a batch's customers share a few.
const MEMO_CAPACITY: usize = 16;

thread_local! {
    static SUBSETS: RefCell<Memo<SubsetKey, Arc<FaceSubset>>> =
        RefCell::new(Memo::new(MEMO_CAPACITY));
}

/// Subsets and writes every face the pages (and the `extra` lines) use; returns how each
/// face's text is encoded.
#[allow(clippy::too_many_arguments)]
pub(super) fn embed_fonts(
    pdf: &mut Chunk,
    bulk: &mut Chunk,
    refs: &mut Refs,
    pages: &[Page],
    extra: &[Line],
    fonts: &Fonts,
    hasher: &mut Sha256,
) -> Result<EmbeddedFaces, PdfError> {
    // The glyphs each face must carry, from this document's own text only: for every
    // glyph id of the full face, the character it was used for (or None). Most text is
    // ASCII, so its characters are first only marked per face, byte by byte (decoding
    // and looking up each of a DPA's ~20,000 characters cost half a million
    // instructions); a glyph drawn for an ASCII character and for another one (the
    // space for a no-break space) stands for the ASCII one.
    struct Drawn {
        ascii: [bool; 128],
        slots: Vec<Option<char>>,
    }
    let mut drawn: [Option<Drawn>; Face::ALL.len()] = Default::default();
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
        for run in &line.runs {
            let d = drawn[run.face.index()].get_or_insert_with(|| Drawn {
                ascii: [false; 128],
                slots: vec![None; fonts.num_glyphs(run.face)],
            });
            if run.text.is_ascii() {
                for b in run.text.bytes() {
                    d.ascii[usize::from(b)] = true;
                }
                continue;
            }
            for c in run.text.chars() {
                if c.is_ascii() {
                    d.ascii[c as usize] = true;
                    continue;
                }
                d.slots[glyph(fonts, run.face, c)? as usize] = Some(c);
            }
        }
    }
    let mut out = BTreeMap::new();
    // Written in Face::ALL order, which is also `EmbeddedFaces`' order (by `Face`).
    for (face, d) in Face::ALL.into_iter().zip(drawn) {
        let Some(Drawn { ascii, mut slots }) = d else {
            continue;
        };
        for (b, _) in ascii.iter().enumerate().filter(|(_, on)| **on) {
            let c = char::from(b as u8);
            slots[glyph(fonts, face, c)? as usize] = Some(c);
        }
        let bytes = fonts.bytes(face);
        let key = SubsetKey {
            font: (bytes.as_ptr() as usize, bytes.len()),
            face,
            glyphs: (0..slots.len() as u16)
                .filter_map(|g| slots[g as usize].map(|c| (g, c)))
                .collect(),
        };
        let sub = cache::memoised(&SUBSETS, key, |_| {
            subset_face(fonts, face, &slots).map(Arc::new)
        })?;
        let type0 = write_face(pdf, bulk, refs, fonts, face, &sub, hasher);
        out.insert(face, Embedded { subset: sub, type0 });
    }
    Ok(out)
}

/// The glyph of `c` in `face`, or the error that names the font that lacks it.
fn glyph(fonts: &Fonts, face: Face, c: char) -> Result<u16, PdfError> {
    fonts.glyph_id(face, c).ok_or(PdfError::Glyph {
        ch: c,
        file: fonts.file_name(face),
    })
}

/// Cuts `face` down to the glyphs in `slots` (for every glyph id of the full face, the
/// character it was drawn for), and compresses its program and maps.
fn subset_face(fonts: &Fonts, face: Face, slots: &[Option<char>]) -> Result<FaceSubset, PdfError> {
    let mut gids: Vec<u16> = (0..slots.len() as u16)
        .filter(|&g| slots[g as usize].is_some())
        .collect();
    // The space glyph is always embedded: with one-byte codes it takes code 32, so that
    // no other glyph is stretched by the word spacing (Tw) of justified lines.
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
    // One byte per glyph when the codes fit; the code of each glyph in the content
    // streams: see `one_byte_codes`. With two bytes, the code is the CID (Identity-H).
    let codes = (sub.new_gid.len() <= 256)
        .then(|| one_byte_codes(&gids, slots, space))
        .flatten();
    let one_byte = codes.is_some();
    // Full-face glyph id → code, for the content streams; character → code for the
    // ToUnicode map.
    let mut remap = vec![0u16; slots.len()];
    let mut chars: Codes = BTreeMap::new();
    for (i, &gid) in gids.iter().enumerate() {
        let code = match &codes {
            Some(codes) => u16::from(codes[i]),
            None => sub.new_gid.get(&gid).copied().unwrap_or(0),
        };
        remap[gid as usize] = code;
        if let Some(c) = slots[gid as usize] {
            chars.insert(c, code);
        }
    }
    let mut code_key = vec![u8::from(one_byte)];
    for &gid in &gids {
        let code = remap[gid as usize];
        if !one_byte || rule_code(gid, slots, space).map(u16::from) != Some(code) {
            code_key.extend_from_slice(&gid.to_le_bytes());
            code_key.extend_from_slice(&code.to_le_bytes());
        }
    }
    let mut ascii = [0u16; 128];
    for (b, slot) in ascii.iter_mut().enumerate() {
        if let Some(g) = fonts.glyph_id(face, b as u8 as char) {
            *slot = remap[g as usize];
        }
    }
    let name = font_name(fonts, face, &chars);
    let units = parsed.units_per_em() as f32;
    // Widths in thousandths of an em, truncated as the layout measured them.
    let widths: Vec<f32> = (0..sub.advances.len() as u16)
        .map(|g| {
            let adv = sub.advances.get(&g).copied().unwrap_or(0);
            (adv as f32 * 1000.0 / units) as i64 as f32
        })
        .collect();
    let one_byte_cmap = match &codes {
        Some(codes) => {
            // The CMap is named after the face's subset tag, so each face has its own.
            let cmap_name = format!("DPA-{}-OneByte", &name[..6]);
            let cids = gids
                .iter()
                .zip(codes)
                .map(|(gid, &code)| (code, sub.new_gid.get(gid).copied().unwrap_or(0)));
            let data = deflate_once(Kind::Text, &one_byte_cmap(&cmap_name, cids))?;
            Some((cmap_name, data))
        }
        None => None,
    };
    Ok(FaceSubset {
        program: deflate_once(Kind::Font, &sub.program)?,
        program_len: sub.program.len(),
        to_unicode: deflate_once(Kind::Text, &to_unicode_cmap(&chars, one_byte))?,
        one_byte_cmap,
        name,
        widths,
        remap,
        ascii_identity: one_byte
            && ascii
                .iter()
                .enumerate()
                .all(|(b, &code)| code == 0 || usize::from(code) == b),
        ascii,
        one_byte,
        code_key: code_key.into(),
    })
}

/// Writes one face's objects under fresh object numbers; returns its Type0 font.
fn write_face(
    pdf: &mut Chunk,
    bulk: &mut Chunk,
    refs: &mut Refs,
    fonts: &Fonts,
    face: Face,
    sub: &FaceSubset,
    hasher: &mut Sha256,
) -> Ref {
    let name = Name(sub.name.as_bytes());
    let type0 = refs.next();
    let cid_ref = refs.next();
    let descriptor = refs.next();
    let file = refs.next();
    let to_unicode = refs.next();
    let parsed = fonts.parsed(face);
    let units = parsed.units_per_em() as f32;
    let per_mille = |v: f32| v * 1000.0 / units;

    hash_stream(hasher, &sub.program);
    pdf.stream(file, &sub.program.data)
        .filter(Filter::FlateDecode)
        .pair(Name(b"Length1"), sub.program_len as i32);

    hash_stream(hasher, &sub.to_unicode);
    pdf.stream(to_unicode, &sub.to_unicode.data)
        .filter(Filter::FlateDecode);

    let mut t0 = bulk.type0_font(type0);
    t0.base_font(name)
        .descendant_font(cid_ref)
        .to_unicode(to_unicode);
    match &sub.one_byte_cmap {
        Some((cmap_name, data)) => {
            let encoding = refs.next();
            t0.pair(Name(b"Encoding"), encoding);
            t0.finish();
            hash_stream(hasher, data);
            pdf.cmap(encoding, &data.data)
                .name(Name(cmap_name.as_bytes()))
                .system_info(identity())
                .filter(Filter::FlateDecode);
        }
        None => {
            t0.encoding_predefined(Name(b"Identity-H"));
            t0.finish();
        }
    }

    let mut cid = bulk.cid_font(cid_ref);
    cid.subtype(CidFontType::Type2)
        .base_font(name)
        .system_info(identity())
        .font_descriptor(descriptor)
        .cid_to_gid_map_predefined(Name(b"Identity"));
    cid.widths().consecutive(0, sub.widths.iter().copied());
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
        .name(name)
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
    type0
}

fn identity() -> SystemInfo<'static> {
    SystemInfo {
        registry: Str(b"Adobe"),
        ordering: Str(b"Identity"),
        supplement: 0,
    }
}

/// The subset-tagged PostScript name of a face, e.g. `QKRFSH+LiberationSerif-Bold`.
fn font_name(fonts: &Fonts, face: Face, codes: &Codes) -> String {
    let name = fonts.postscript_name(face);
    format!("{}+{name}", subset_tag(name, codes))
}

/// The one-byte code of each glyph of `gids` (in that order), or `None` when they do
/// not fit in a byte.
///
/// Codes stand for characters, not for places in the subset: printable ASCII keeps its
/// own code (so the space is code 32, which `Tw` stretches), Latin-1's upper half too,
/// and the typographic characters of Windows-1252 (quotes, dashes, the euro sign…) its
/// codes 0x80–0x9F; the space's glyph is always code 32. A page then encodes alike in every document whose text draws it,
/// whatever other glyphs a customer's name adds to the subset, so a batch writes and
/// compresses it once. Other characters (and glyphs drawn for no character) take the
/// free codes from 1 up, in the order of their glyph ids.
fn one_byte_codes(gids: &[u16], slots: &[Option<char>], space: Option<u16>) -> Option<Vec<u8>> {
    let mut taken = [false; 256];
    // Code 0 stays with .notdef.
    taken[0] = true;
    let mut codes: Vec<Option<u8>> = gids
        .iter()
        .map(|&gid| {
            let code = rule_code(gid, slots, space)?;
            (!std::mem::replace(&mut taken[code as usize], true)).then_some(code)
        })
        .collect();
    let mut free = (1..=255u8).filter(|&c| !taken[c as usize]);
    for code in codes.iter_mut().filter(|c| c.is_none()) {
        *code = Some(free.next()?);
    }
    codes.into_iter().collect()
}

/// The code glyph `gid` gets by rule in a one-byte face, if any: 32 for the space's
/// glyph (even when it was drawn for a no-break space), else its character's fixed code.
fn rule_code(gid: u16, slots: &[Option<char>], space: Option<u16>) -> Option<u8> {
    match Some(gid) == space {
        true => Some(b' '),
        false => slots[gid as usize].and_then(fixed_code),
    }
}

/// Windows-1252's characters at codes 0x80–0x9F (`\0` where it has none).
const CP1252_HIGH: [char; 32] = [
    '€', '\0', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\0', 'Ž', '\0', '\0', '‘',
    '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\0', 'ž', 'Ÿ',
];

/// The code `c` always has in a one-byte face (see [`one_byte_codes`]), if any.
fn fixed_code(c: char) -> Option<u8> {
    match c {
        ' '..='~' | '\u{A0}'..='\u{FF}' => Some(c as u8),
        '\0' => None,
        _ => CP1252_HIGH
            .iter()
            .position(|&x| x == c)
            .map(|i| 0x80 + i as u8),
    }
}

/// A CMap for one-byte codes, from each code to the CID (subset glyph id) it draws.
fn one_byte_cmap(name: &str, cids: impl Iterator<Item = (u8, u16)>) -> Vec<u8> {
    let mut out = format!(
        "%!PS-Adobe-3.0 Resource-CMap\n/CIDInit /ProcSet findresource begin\n12 dict begin\n\
         begincmap\n/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> def\n\
         /CMapName /{name} def\n/CMapType 1 def\n\
         1 begincodespacerange\n<00> <FF>\nendcodespacerange\n"
    );
    let mut pairs: Vec<(u8, u16)> = cids.collect();
    pairs.sort_unstable();
    // A CMap block holds at most 100 mappings.
    for chunk in pairs.chunks(100) {
        out.push_str(&format!("{} begincidchar\n", chunk.len()));
        for (code, cid) in chunk {
            out.push_str(&format!("<{code:02X}> {cid}\n"));
        }
        out.push_str("endcidchar\n");
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

#[cfg(test)]
mod tests {
    use super::super::{Typesetter, one_paragraph as doc};
    use super::one_byte_codes;

    #[test]
    fn codes_stand_for_characters_and_the_rest_take_free_codes_in_glyph_order() {
        // Glyph ids 0..: what each was drawn for.
        let drawn = [
            None,
            Some('A'),
            Some('ł'),
            Some('é'),
            Some('’'),
            Some('ą'),
            Some('\u{a0}'),
        ];
        let gids: Vec<u16> = (0..drawn.len() as u16).collect();
        let codes = one_byte_codes(&gids, &drawn, Some(6)).unwrap();
        // .notdef and ł, ą take the free codes from 1; A, é, ’ keep ASCII's, Latin-1's
        // and Windows-1252's; the space's glyph is 32 though drawn for a no-break space.
        assert_eq!(codes, [1, b'A', 2, 0xE9, 0x92, 3, 32]);
        // Without ł, ą takes code 2: only letters without a fixed code move each other.
        let fewer = [
            None,
            Some('A'),
            None,
            Some('é'),
            Some('’'),
            Some('ą'),
            Some('\u{a0}'),
        ];
        let gids: Vec<u16> = [0, 1, 3, 4, 5, 6].into();
        assert_eq!(
            one_byte_codes(&gids, &fewer, Some(6)).unwrap(),
            [1, b'A', 0xE9, 0x92, 2, 32]
        );
        // More letters without a fixed code than free codes: no one-byte encoding.
        let many: Vec<Option<char>> = (0..300u32).map(|i| char::from_u32(0x400 + i)).collect();
        let gids: Vec<u16> = (0..300).collect();
        assert_eq!(one_byte_codes(&gids, &many, None), None);
    }
    use crate::cache;
    use crate::document::{Run, Style};
    use crate::layout::PageSetup;

    #[test]
    fn a_subset_is_reused_only_for_the_same_face_and_glyphs() {
        let typesetter = Typesetter::new(PageSetup::default()).unwrap();
        // Same letters in another face (the footer, "Page 1 of 1", is set in the regular
        // face: the second document draws the same glyph ids in both faces, which the
        // five faces number alike); one letter more; a no-break space; characters only
        // the fallback face has.
        let docs = [
            doc(vec![Run::plain("Processor and controller.")]),
            doc(vec![Run::styled("Page 1 of", Style::Bold)]),
            doc(vec![Run::styled(
                "Processor and controller.",
                Style::Italic,
            )]),
            doc(vec![Run::plain("Processor and controllers.")]),
            doc(vec![Run::plain("Processor\u{a0}and controller.")]),
            doc(vec![Run::plain(
                "Processor and controller \u{2192} \u{2713}.",
            )]),
        ];
        cache::set_enabled(Some(false));
        let reference: Vec<Vec<u8>> = docs.iter().map(|d| typesetter.render(d).unwrap()).collect();
        cache::set_enabled(Some(true));
        // Twice round, so that each document meets the others' subsets in the memo.
        for _ in 0..2 {
            for (d, want) in docs.iter().zip(&reference) {
                assert!(typesetter.render(d).unwrap() == *want, "{:?}", d.blocks);
            }
        }
        cache::set_enabled(None);
        assert_eq!(
            reference
                .iter()
                .collect::<std::collections::BTreeSet<_>>()
                .len(),
            docs.len(),
            "each document differs"
        );
    }
}
