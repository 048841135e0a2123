//! TrueType subsetting for embedding: one face, only the glyphs a document uses.
//!
//! In: a full TrueType font and the glyph ids a document draws. Out: a minimal font
//! program (`glyf`, `loca`, `head`, `hhea`, `hmtx`, `maxp`) holding those glyphs, plus
//! the components of composite glyphs, renumbered in the order given, with hinting
//! instructions removed (PDF viewers rasterise without them and they are a third of
//! Liberation's outline data). A `CIDFontType2` font with an identity `CIDToGIDMap` needs
//! no other table; the text's Unicode comes from the PDF's ToUnicode map, its widths
//! from `/W`.
//!
//! The tables are read through `ttf-parser` (the project's one font reader). What is
//! written by hand is what no reader does: copying glyph records without their
//! instructions, renumbering composite components, and putting the space at glyph 32.
//! The `subsetter` crate keeps the hinting tables and chooses its own glyph order, and
//! the space must sit at glyph 32 for `Tw` to justify (see [`SPACE_GID`]).

use std::collections::BTreeMap;
use std::num::NonZeroU16;

use ttf_parser::{GlyphId, Tag};

/// A subset font program and what the PDF needs to know about it.
#[derive(Debug, Clone)]
pub(super) struct Subset {
    pub program: Vec<u8>,
    /// Original glyph id → glyph id in the subset.
    pub new_gid: BTreeMap<u16, u16>,
    /// Advance width in font units per subset glyph id.
    pub advances: BTreeMap<u16, u16>,
}

fn be16(b: &[u8], at: usize) -> Result<u16, String> {
    b.get(at..at + 2)
        .map(|s| u16::from_be_bytes([s[0], s[1]]))
        .ok_or_else(|| format!("read past the end of a table at byte {at}"))
}

fn be32(b: &[u8], at: usize) -> Result<u32, String> {
    b.get(at..at + 4)
        .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or_else(|| format!("read past the end of a table at byte {at}"))
}

// Composite glyph component flags (OpenType `glyf` table).
const ARG_1_AND_2_ARE_WORDS: u16 = 0x0001;
const WE_HAVE_A_SCALE: u16 = 0x0008;
const MORE_COMPONENTS: u16 = 0x0020;
const WE_HAVE_AN_X_AND_Y_SCALE: u16 = 0x0040;
const WE_HAVE_A_TWO_BY_TWO: u16 = 0x0080;
const WE_HAVE_INSTRUCTIONS: u16 = 0x0100;

/// Byte offsets of each component's flags in a composite glyph, and where they end.
fn components(glyph: &[u8]) -> Result<(Vec<usize>, usize), String> {
    let mut at = 10;
    let mut out = Vec::new();
    loop {
        let flags = be16(glyph, at)?;
        out.push(at);
        at += 4;
        at += if flags & ARG_1_AND_2_ARE_WORDS != 0 {
            4
        } else {
            2
        };
        if flags & WE_HAVE_A_SCALE != 0 {
            at += 2;
        } else if flags & WE_HAVE_AN_X_AND_Y_SCALE != 0 {
            at += 4;
        } else if flags & WE_HAVE_A_TWO_BY_TWO != 0 {
            at += 8;
        }
        if flags & MORE_COMPONENTS == 0 {
            break;
        }
    }
    if at > glyph.len() {
        return Err("composite glyph runs past its record".into());
    }
    Ok((out, at))
}

/// The subset glyph id the space is given when `space` is passed to [`subset`].
pub(super) const SPACE_GID: u16 = 32;

/// Subsets `face` to glyph 0 (.notdef) and `glyphs`, in that order; `space`, if given, is placed at glyph id [`SPACE_GID`].
///
/// Poppler's text extraction treats the glyph with CID 32 as the one word spacing (`Tw`)
/// widened, whatever its code; with CID = glyph id, only the space may sit there, or
/// pdftotext would split the word holding that glyph on every justified line.
pub(super) fn subset(
    face: &ttf_parser::Face<'_>,
    glyphs: &[u16],
    space: Option<u16>,
) -> Result<Subset, String> {
    let raw = face.raw_face();
    let get = |tag: &[u8; 4]| {
        raw.table(Tag::from_bytes(tag))
            .ok_or_else(|| format!("no {} table", String::from_utf8_lossy(tag)))
    };
    let head = get(b"head")?;
    let hhea = get(b"hhea")?;
    let maxp = get(b"maxp")?;
    let glyf = get(b"glyf")?;
    let num_glyphs = face.number_of_glyphs();
    let glyph_count = NonZeroU16::new(num_glyphs).ok_or("the font has no glyphs")?;
    let tables = face.tables();
    let loca = ttf_parser::loca::Table::parse(
        glyph_count,
        tables.head.index_to_location_format,
        get(b"loca")?,
    )
    .ok_or("unreadable loca table")?;
    let hmtx =
        ttf_parser::hmtx::Table::parse(tables.hhea.number_of_metrics, glyph_count, get(b"hmtx")?)
            .ok_or("unreadable hmtx table")?;
    let record = |gid: u16| -> Result<&[u8], String> {
        if gid >= num_glyphs {
            return Err(format!("glyph {gid} is not in the font"));
        }
        let range = loca.glyph_range(GlyphId(gid)).unwrap_or(0..0);
        glyf.get(range)
            .ok_or_else(|| format!("glyph {gid} lies outside the glyf table"))
    };
    let metric = |gid: u16| -> (u16, u16) {
        let g = GlyphId(gid);
        (
            hmtx.advance(g).unwrap_or(0),
            hmtx.side_bearing(g).unwrap_or(0) as u16,
        )
    };

    // Glyph order: .notdef, the requested glyphs, then components as discovered.
    let mut order: Vec<u16> = Vec::with_capacity(glyphs.len() + 8);
    let mut new_gid: BTreeMap<u16, u16> = BTreeMap::new();
    for &g in std::iter::once(&0).chain(glyphs) {
        if let std::collections::btree_map::Entry::Vacant(e) = new_gid.entry(g) {
            e.insert(order.len() as u16);
            order.push(g);
        }
    }
    let mut i = 0;
    while i < order.len() {
        let rec = record(order[i])?;
        if rec.len() >= 10 && (be16(rec, 0)? as i16) < 0 {
            let (offsets, _) = components(rec)?;
            for at in offsets {
                let component = be16(rec, at + 2)?;
                if let std::collections::btree_map::Entry::Vacant(e) = new_gid.entry(component) {
                    if order.len() >= u16::MAX as usize {
                        return Err("too many glyphs".into());
                    }
                    e.insert(order.len() as u16);
                    order.push(component);
                }
            }
        }
        i += 1;
    }

    if let Some(space) = space.filter(|sp| new_gid.contains_key(sp)) {
        // Move the space to SPACE_GID, padding with empty copies of .notdef if the subset
        // is smaller, then renumber.
        order.retain(|&g| g != space);
        while order.len() < SPACE_GID as usize {
            order.push(0);
        }
        order.insert(SPACE_GID as usize, space);
        new_gid.clear();
        for (new, &old) in order.iter().enumerate() {
            new_gid.entry(old).or_insert(new as u16);
        }
    }

    let mut glyf_out: Vec<u8> = Vec::new();
    let mut loca_out: Vec<u8> = Vec::with_capacity((order.len() + 1) * 4);
    let mut hmtx_out: Vec<u8> = Vec::with_capacity(order.len() * 4);
    let mut advances = BTreeMap::new();
    for (new, &old) in order.iter().enumerate() {
        loca_out.extend_from_slice(&(glyf_out.len() as u32).to_be_bytes());
        let (advance, lsb) = metric(old);
        hmtx_out.extend_from_slice(&advance.to_be_bytes());
        hmtx_out.extend_from_slice(&lsb.to_be_bytes());
        advances.insert(new as u16, advance);
        let rec = record(old)?;
        if rec.len() < 10 {
            continue; // an empty glyph (the space)
        }
        let contours = be16(rec, 0)? as i16;
        if contours >= 0 {
            // Simple glyph: drop the instructions between the contour ends and the flags.
            let ends = 10 + 2 * contours as usize;
            let ins_len = be16(rec, ends)? as usize;
            let rest = rec
                .get(ends + 2 + ins_len..)
                .ok_or_else(|| format!("glyph {old} has a bad instruction length"))?;
            glyf_out.extend_from_slice(&rec[..ends]);
            glyf_out.extend_from_slice(&[0, 0]);
            glyf_out.extend_from_slice(rest);
        } else {
            let (offsets, end) = components(rec)?;
            let start = glyf_out.len();
            glyf_out.extend_from_slice(&rec[..end]);
            for at in offsets {
                let old_component = be16(rec, at + 2)?;
                let new_component = new_gid.get(&old_component).copied().unwrap_or(0);
                let flags = be16(rec, at)? & !WE_HAVE_INSTRUCTIONS;
                glyf_out[start + at..start + at + 2].copy_from_slice(&flags.to_be_bytes());
                glyf_out[start + at + 2..start + at + 4]
                    .copy_from_slice(&new_component.to_be_bytes());
            }
        }
        while !glyf_out.len().is_multiple_of(4) {
            glyf_out.push(0);
        }
    }
    loca_out.extend_from_slice(&(glyf_out.len() as u32).to_be_bytes());

    let n = order.len() as u16;
    let mut head_out = head.to_vec();
    head_out
        .get_mut(8..12)
        .ok_or("head table too short")?
        .copy_from_slice(&[0; 4]);
    head_out
        .get_mut(50..52)
        .ok_or("head table too short")?
        .copy_from_slice(&1u16.to_be_bytes());
    let mut hhea_out = hhea.to_vec();
    hhea_out
        .get_mut(34..36)
        .ok_or("hhea table too short")?
        .copy_from_slice(&n.to_be_bytes());
    let mut maxp_out = maxp.to_vec();
    maxp_out
        .get_mut(4..6)
        .ok_or("maxp table too short")?
        .copy_from_slice(&n.to_be_bytes());

    let mut program = write_sfnt(&[
        (*b"glyf", &glyf_out),
        (*b"head", &head_out),
        (*b"hhea", &hhea_out),
        (*b"hmtx", &hmtx_out),
        (*b"loca", &loca_out),
        (*b"maxp", &maxp_out),
    ]);
    // head.checkSumAdjustment makes the whole file sum to 0xB1B0AFBA.
    let adjustment = 0xB1B0_AFBAu32.wrapping_sub(checksum(&program));
    let head_at = head_offset(&program)?;
    program[head_at + 8..head_at + 12].copy_from_slice(&adjustment.to_be_bytes());

    Ok(Subset {
        program,
        new_gid,
        advances,
    })
}

fn checksum(data: &[u8]) -> u32 {
    data.chunks(4).fold(0u32, |sum, c| {
        let mut word = [0u8; 4];
        word[..c.len()].copy_from_slice(c);
        sum.wrapping_add(u32::from_be_bytes(word))
    })
}

fn head_offset(program: &[u8]) -> Result<usize, String> {
    let count = be16(program, 4)? as usize;
    (0..count)
        .map(|i| 12 + 16 * i)
        .find(|&rec| program.get(rec..rec + 4) == Some(b"head"))
        .map(|rec| be32(program, rec + 8).map(|o| o as usize))
        .ok_or("no head table written")?
}

/// Writes an sfnt file from tables sorted by tag.
fn write_sfnt(tables: &[([u8; 4], &[u8])]) -> Vec<u8> {
    let count = tables.len() as u16;
    let mut power = 1u16;
    while power * 2 <= count {
        power *= 2;
    }
    let search_range = power * 16;
    let entry_selector = power.trailing_zeros() as u16;
    let range_shift = count * 16 - search_range;
    let mut out = Vec::new();
    out.extend_from_slice(&0x0001_0000u32.to_be_bytes());
    for v in [count, search_range, entry_selector, range_shift] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    let mut offset = 12 + 16 * tables.len();
    for (tag, data) in tables {
        out.extend_from_slice(tag);
        out.extend_from_slice(&checksum(data).to_be_bytes());
        out.extend_from_slice(&(offset as u32).to_be_bytes());
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        offset += data.len().div_ceil(4) * 4;
    }
    for (_, data) in tables {
        out.extend_from_slice(data);
        while out.len() % 4 != 0 {
            out.push(0);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{Face, Fonts};

    #[test]
    fn subset_keeps_requested_glyphs_and_composite_parts() {
        let fonts = Fonts::embedded().unwrap();
        let gids: Vec<u16> = "Aü"
            .chars()
            .map(|c| fonts.glyph_id(Face::Regular, c).unwrap())
            .collect();
        let s = subset(fonts.parsed(Face::Regular), &gids, None).unwrap();
        assert_eq!(s.new_gid[&0], 0);
        assert_eq!(s.new_gid[&gids[0]], 1);
        assert_eq!(s.new_gid[&gids[1]], 2);
        // 'ü' is built from 'u' and the dieresis in Liberation Serif.
        assert!(s.new_gid.len() >= 4, "{:?}", s.new_gid);
        assert_eq!(checksum(&s.program), 0xB1B0_AFBA);
        let parsed = ttf_parser::Face::parse(&s.program, 0).unwrap();
        assert_eq!(parsed.number_of_glyphs() as usize, s.new_gid.len());
        let loca = parsed.raw_face().table(Tag::from_bytes(b"loca")).unwrap();
        assert_eq!(loca.len(), (s.new_gid.len() + 1) * 4);
        // Advances survive: 'A' is 1479/2048 em in Liberation Serif (722 in /W units).
        assert_eq!(s.advances[&1] as u32 * 1000 / 2048, 722);
        assert!(s.program.len() < 2000);
    }

    #[test]
    fn the_space_sits_at_glyph_32_in_small_and_large_subsets() {
        let fonts = Fonts::embedded().unwrap();
        let space = fonts.glyph_id(Face::Regular, ' ').unwrap();
        for text in [
            " ab",
            " abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
        ] {
            let mut gids: Vec<u16> = text
                .chars()
                .map(|c| fonts.glyph_id(Face::Regular, c).unwrap())
                .collect();
            gids.sort_unstable();
            gids.dedup();
            let s = subset(fonts.parsed(Face::Regular), &gids, Some(space)).unwrap();
            assert_eq!(s.new_gid[&space], SPACE_GID, "{text:?}");
            // Every requested glyph is still there, each at its own id.
            let mut ids: Vec<u16> = gids.iter().map(|g| s.new_gid[g]).collect();
            ids.sort_unstable();
            ids.dedup();
            assert_eq!(ids.len(), gids.len());
            let glyphs = ttf_parser::Face::parse(&s.program, 0)
                .unwrap()
                .number_of_glyphs();
            assert!(glyphs > SPACE_GID, "{glyphs}");
            assert_eq!(s.advances[&SPACE_GID] as u32 * 1000 / 2048, 250);
        }
    }
}
