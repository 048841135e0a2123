//! Distributing slabs over pages, then adding the running footer.
//!
//! In: the slabs from `blocks` with their keep rules. Out: [`Page`]s. A page ends at the
//! last slab that fits, moved back to the nearest slab after which a break is allowed;
//! a page that starts inside a table begins with that table's header. Only when a run of
//! kept-together slabs is taller than a page is a keep rule broken. A page that would end
//! with a hole of more than a quarter of it first lets its gaps shrink (a quarter each, as
//! far as needed) to take the next slab; one that would be more than half empty gives up
//! the soft keeps (a heading with its whole introduction and the start of its table).
//! Footers ("Page N of M" and the document's footer text) are added once the page count
//! is known.

use super::blocks::{Built, SlabKind};
use super::para::{self, Align, ParaStyle};
use super::{
    ARTIFACT, Face, Fonts, Item, Layout, LayoutError, Line, OutlineEntry, Page, PageSetup, Rect,
    Role, Rule, SignatureLines,
};
use crate::document::{Document, Run, Style};

/// Slabs placed on one page: (slab index, or a table header, and its top `y`). A slab
/// also carries how much the gaps above it on the page, its own included, may shrink.
#[derive(Debug, Clone, Copy)]
enum Placed {
    Slab(usize, f32, f32),
    Header(u32, f32),
}

/// The share of its natural size a vertical gap may give up, like TeX's shrinkable glue
/// between paragraphs: only on a page that would otherwise end with a hole.
const GAP_SHRINK: f32 = 0.25;
/// A page whose best break leaves more than this share of it empty shrinks its gaps, if
/// that makes room for what comes next.
const HOLE_TO_SHRINK: f32 = 0.25;
/// A page whose best break leaves more than this share of it empty gives up soft keeps
/// (issue 15: no page more than half empty before a block that could start on it).
const HOLE_TO_BREAK_SOFT_KEEP: f32 = 0.5;

pub(super) fn paginate(
    built: Built,
    doc: &Document,
    fonts: &Fonts,
    setup: &PageSetup,
    text_box: Rect,
) -> Result<Layout, LayoutError> {
    let Built {
        mut slabs,
        headers,
        nodes,
        outline,
        signature,
        own,
    } = built;
    let capacity = text_box.height;
    let mut pages: Vec<Vec<Placed>> = Vec::new();
    let mut page: Vec<Placed> = Vec::new();
    // The natural bottom of what is on the page, and how much its gaps may shrink.
    let mut y = 0.0f32;
    let mut give = 0.0f32;
    let mut i = 0;
    // A page holding only a repeated table header counts as empty.
    let has_content = |page: &[Placed]| page.iter().any(|p| matches!(p, Placed::Slab(..)));
    while i < slabs.len() {
        let slab = &slabs[i];
        if slab.kind == SlabKind::PageBreak {
            if has_content(&page) {
                pages.push(settle(std::mem::take(&mut page), &slabs, capacity));
                (y, give) = (0.0, 0.0);
            }
            i += 1;
            continue;
        }
        if page.is_empty()
            && let SlabKind::TableRow(t) = slab.kind
            && let Some(h) = headers.get(t as usize).filter(|h| !h.items.is_empty())
        {
            page.push(Placed::Header(t, 0.0));
            y = h.height;
        }
        let gap = if has_content(&page) {
            slab.space_before
        } else {
            0.0
        };
        let bottom = y + gap + slab.height;
        let place = |page: &mut Vec<Placed>, y: &mut f32, give: &mut f32| {
            *give += gap * GAP_SHRINK;
            page.push(Placed::Slab(i, *y + gap, *give));
            *y = bottom;
        };
        if bottom <= capacity + 0.001 || !has_content(&page) {
            place(&mut page, &mut y, &mut give);
            i += 1;
            continue;
        }
        // The slab does not fit: the page would end after the last slab that allows it.
        let last_break = |soft: bool| {
            page.iter().rposition(|p| {
                matches!(*p, Placed::Slab(j, ..)
                    if !slabs[j].keep_with_next || (soft && slabs[j].soft_keep))
            })
        };
        let hole = |cut: Option<usize>| match cut.map(|k| page[k]) {
            Some(Placed::Slab(j, top, _)) => capacity - top - slabs[j].height,
            _ => 0.0,
        };
        let mut cut = last_break(false);
        // Rather than leave a hole, take the slab with the page's gaps shrunk.
        if hole(cut) > HOLE_TO_SHRINK * capacity
            && bottom - give - gap * GAP_SHRINK <= capacity + 0.001
        {
            place(&mut page, &mut y, &mut give);
            i += 1;
            continue;
        }
        if hole(cut) > HOLE_TO_BREAK_SOFT_KEEP * capacity {
            cut = last_break(true);
        }
        match cut {
            Some(k) if has_content(&page[..=k]) => {
                if let Some(Placed::Slab(j, ..)) = page.get(k + 1) {
                    i = *j;
                }
                page.truncate(k + 1);
            }
            // Everything on the page is kept together: break here anyway.
            _ => {}
        }
        pages.push(settle(std::mem::take(&mut page), &slabs, capacity));
        (y, give) = (0.0, 0.0);
        if pages.len() > super::MAX_PAGES {
            return Err(LayoutError::TooManyPages {
                limit: super::MAX_PAGES,
            });
        }
    }
    if has_content(&page) || pages.is_empty() {
        pages.push(settle(page, &slabs, capacity));
    }

    let (width, height) = setup.paper.size();
    let footer_box = Rect {
        x: text_box.x,
        y: text_box.bottom() + 1.4 * setup.base_size,
        width: text_box.width,
        height: (height - text_box.bottom() - 1.4 * setup.base_size - 18.0).max(setup.base_size),
    };
    let total = pages.len();
    let mut out = Vec::with_capacity(total);
    let watermark = match &doc.watermark {
        Some(text) if !text.trim().is_empty() => {
            let size = 4.0 * setup.base_size;
            let set = para::set_single(text.trim(), Style::Bold, size, fonts)?;
            let w = set.width as f32;
            Some(footer_line(set, -w / 2.0, 0.0, w, size, u32::MAX - 2))
        }
        _ => None,
    };
    // Where each slab landed: (page index, top).
    let mut landed = vec![(0usize, 0.0f32); slabs.len()];
    for (n, placed) in pages.into_iter().enumerate() {
        let mut items = Vec::new();
        for p in placed {
            // Every slab lands on exactly one page, so its items move; only repeated
            // table headers are copied, and a repeated header is page furniture.
            let (slab_items, top, repeated) = match p {
                Placed::Slab(j, top, _) => {
                    landed[j] = (n, text_box.y + top);
                    (std::mem::take(&mut slabs[j].items), top, false)
                }
                Placed::Header(t, top) => (headers[t as usize].items.clone(), top, true),
            };
            for mut item in slab_items {
                item.shift(0.0, text_box.y + top);
                if let (true, Item::Line(line)) = (repeated, &mut item) {
                    line.node = ARTIFACT;
                    for run in &mut line.runs {
                        run.link = None;
                    }
                }
                items.push(item);
            }
        }
        footer(&mut items, doc, fonts, setup, footer_box, n + 1, total)?;
        out.push(Page {
            number: n + 1,
            width,
            height,
            text_box,
            footer_box,
            items,
            watermark: watermark.clone(),
        });
    }
    let outline = outline
        .into_iter()
        .filter(|(j, _, title)| *j < slabs.len() && !title.is_empty())
        .map(|(j, level, title)| OutlineEntry {
            level,
            title,
            page: landed[j].0,
            y: landed[j].1,
        })
        .collect();
    let signatures =
        signature
            .filter(|(j, ..)| *j < slabs.len())
            .map(|(j, vendor, customer, nodes)| {
                let (page, top) = landed[j];
                let place = |r: Rect| Rect { y: r.y + top, ..r };
                SignatureLines {
                    page,
                    vendor: place(vendor),
                    customer: place(customer),
                    vendor_node: nodes.0,
                    customer_node: nodes.1,
                }
            });
    Ok(Layout {
        pages: out,
        nodes,
        outline,
        signatures,
        own,
    })
}

/// Moves the slabs of a page that runs past `capacity` up, each gap shrunk by the same
/// share of what it may give, so that the page ends at the bottom of its text box.
fn settle(mut page: Vec<Placed>, slabs: &[super::blocks::Slab], capacity: f32) -> Vec<Placed> {
    let (bottom, give) = page.iter().fold((0.0f32, 0.0f32), |(b, g), p| match *p {
        Placed::Slab(j, top, give) => (b.max(top + slabs[j].height), g.max(give)),
        Placed::Header(..) => (b, g),
    });
    if bottom <= capacity + 0.001 || give <= 0.0 {
        return page;
    }
    let share = ((bottom - capacity) / give).min(1.0);
    for p in &mut page {
        if let Placed::Slab(_, top, give) = p {
            *top -= *give * share;
        }
    }
    page
}

/// Adds the rule, the footer text (left) and "Page N of M" (right) to a page.
fn footer(
    items: &mut Vec<Item>,
    doc: &Document,
    fonts: &Fonts,
    setup: &PageSetup,
    fbox: Rect,
    number: usize,
    total: usize,
) -> Result<(), LayoutError> {
    let size = (setup.base_size * 0.75 * 4.0).round() / 4.0;
    let leading = size * 1.3;
    let ascender = fonts.metrics(Face::Regular).ascender * size / 1000.0;
    items.push(Item::Rule(Rule {
        x1: fbox.x,
        y1: fbox.y,
        x2: fbox.right(),
        y2: fbox.y,
        thickness: 0.4,
        gray: 0.45,
    }));
    let baseline = fbox.y + 0.5 * size + ascender;
    let label = format!("Page {number} of {total}");
    let set = para::set_single(&label, Style::Regular, size, fonts)?;
    let label_w = set.width as f32;
    let number_x = fbox.right() - label_w;
    items.push(Item::Line(footer_line(
        set,
        number_x,
        baseline,
        label_w,
        size,
        u32::MAX,
    )));

    let measure = (fbox.width - label_w - 2.0 * size).max(size);
    let style = ParaStyle {
        size,
        measure,
        align: Align::Left,
        hyphenate: false,
    };
    let lines = para::set_paragraph(&[Run::plain(doc.footer.clone())], style, fonts, None)?;
    let lines = std::sync::Arc::unwrap_or_clone(lines);
    let n = lines.len() as u32;
    for (i, set) in lines.into_iter().enumerate() {
        let mut line = footer_line(
            set,
            fbox.x,
            baseline + i as f32 * leading,
            measure,
            size,
            u32::MAX - 1,
        );
        line.index = i as u32;
        line.of = n;
        items.push(Item::Line(line));
    }
    Ok(())
}

pub(super) fn footer_line(
    set: para::SetLine,
    x: f32,
    baseline: f32,
    measure: f32,
    size: f32,
    para: u32,
) -> Line {
    Line {
        node: ARTIFACT,
        x,
        baseline,
        width: set.width as f32,
        measure,
        size,
        word_spacing: 0.0,
        letter_spacing: 0.0,
        runs: set
            .runs
            .into_iter()
            .map(|r| super::GlyphRun {
                x: x + r.x as f32,
                face: r.face,
                text: r.text,
                width: r.width as f32,
                link: None,
            })
            .collect(),
        role: Role::Footer,
        para,
        index: 0,
        of: 1,
        justified: false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::blocks::{Built, Slab, SlabKind};
    use super::super::{Fonts, Item, Layout, PageSetup, Rect, Role};
    use crate::document::{Document, Metadata};

    /// A4 with 72 pt margins: the text box is 697.89 pt tall.
    fn text_box() -> Rect {
        Rect {
            x: 72.0,
            y: 72.0,
            width: 451.276,
            height: 697.89,
        }
    }

    /// A slab of one marker line, so where it landed can be read from the pages.
    fn slab(height: f32, gap: f32, keep: bool, kind: SlabKind, mark: u32) -> Slab {
        let fonts = Fonts::embedded().unwrap();
        let set = super::para::set_single("x", crate::document::Style::Regular, 11.0, &fonts);
        let mut line = super::footer_line(set.unwrap(), 72.0, height, 10.0, 11.0, mark);
        line.role = Role::Body;
        Slab {
            height,
            space_before: gap,
            keep_with_next: keep,
            soft_keep: false,
            lines: 1,
            kind,
            items: vec![Item::Line(line)],
        }
    }

    fn lay_out(slabs: Vec<Slab>) -> Layout {
        let doc = Document {
            meta: Metadata {
                title: "t".into(),
                author: "a".into(),
                subject: "s".into(),
                keywords: Vec::new(),
                date: chrono::NaiveDate::default(),
            },
            blocks: Vec::new(),
            footer: String::new(),
            attachments: Vec::new(),
            lang: None,
            watermark: None,
            own_text: Vec::new(),
        };
        let built = Built {
            slabs,
            headers: Vec::new(),
            nodes: Vec::new(),
            outline: Vec::new(),
            signature: None,
            own: Vec::new(),
        };
        let fonts = Fonts::embedded().unwrap();
        super::paginate(built, &doc, &fonts, &PageSetup::default(), text_box()).unwrap()
    }

    /// The page and the bottom of the marker line `mark`.
    fn landed(layout: &Layout, mark: u32) -> (usize, f32) {
        layout
            .pages
            .iter()
            .find_map(|p| {
                p.items.iter().find_map(|i| match i {
                    Item::Line(l) if l.para == mark => Some((p.number, l.baseline)),
                    _ => None,
                })
            })
            .unwrap()
    }

    /// Twenty 14 pt lines 7 pt apart, then an unbreakable block 17 pt below them.
    fn text_then_block(block: f32) -> Layout {
        let mut slabs: Vec<Slab> = (0..20)
            .map(|k| slab(14.0, 7.0, false, SlabKind::Text, k))
            .collect();
        slabs.push(slab(block, 17.0, false, SlabKind::Signature, 99));
        lay_out(slabs)
    }

    #[test]
    fn a_block_that_fits_once_the_gaps_shrink_stays_on_the_page() {
        // Twenty lines with paragraph gaps fill 413 pt; a 290 pt block after a 17 pt gap
        // overshoots the page by 22 pt, which a quarter of the gaps (37.5 pt) absorbs.
        let layout = text_then_block(290.0);
        assert_eq!(layout.pages.len(), 1, "the block went to a page of its own");
        let (_, bottom) = landed(&layout, 99);
        assert!(bottom <= text_box().bottom() + 0.01, "{bottom}");
        // The gaps gave up what was needed, no more: the block ends at the text box's foot.
        assert!((bottom - text_box().bottom()).abs() < 0.01, "{bottom}");
        // The lines keep their order and their gaps stay positive.
        let tops: Vec<f32> = (0..20).map(|k| landed(&layout, k).1).collect();
        assert!(tops.windows(2).all(|w| w[1] - w[0] > 14.0), "{tops:?}");
    }

    #[test]
    fn a_block_too_tall_even_with_shrunk_gaps_goes_to_the_next_page() {
        let layout = text_then_block(330.0);
        assert_eq!(landed(&layout, 99).0, 2);
        // The first page keeps its natural spacing.
        assert_eq!(landed(&layout, 1).1 - landed(&layout, 0).1, 21.0);
    }

    #[test]
    fn a_soft_keep_gives_way_rather_than_leave_a_page_more_than_half_empty() {
        // 300 pt of text, then a heading whose introduction and table start (a soft keep
        // of 440 pt) cannot follow it on the page: the introduction starts on the page.
        let mut slabs: Vec<Slab> = (0..20)
            .map(|k| slab(15.0, 0.0, false, SlabKind::Text, k))
            .collect();
        slabs.push(slab(20.0, 10.0, true, SlabKind::Heading, 50));
        for k in 0..20 {
            let mut s = slab(15.0, 0.0, true, SlabKind::Text, 60 + k);
            s.soft_keep = k >= 2;
            slabs.push(s);
        }
        slabs.push(slab(30.0, 8.0, true, SlabKind::TableHeader(0), 90));
        let mut row = slab(80.0, 0.0, true, SlabKind::TableRow(0), 91);
        row.soft_keep = true;
        slabs.push(row);
        slabs.push(slab(80.0, 0.0, false, SlabKind::TableRow(0), 92));
        let layout = lay_out(slabs);
        assert_eq!(landed(&layout, 50).0, 1, "the heading moved");
        assert_eq!(landed(&layout, 61).0, 1, "the heading lost its two lines");
        // A hard keep stays: the header with its first row.
        assert_eq!(landed(&layout, 90).0, landed(&layout, 91).0);
        assert!(landed(&layout, 79).1 <= text_box().bottom());
    }
}
