//! Distributing slabs over pages, then adding the running footer.
//!
//! In: the slabs from `blocks` with their keep rules. Out: [`Page`]s. A page ends at the
//! last slab that fits, moved back to the nearest slab after which a break is allowed;
//! a page that starts inside a table begins with that table's header. Only when a run of
//! kept-together slabs is taller than a page is a keep rule broken. Footers ("Page N of
//! M" and the document's footer text) are added once the page count is known.

use super::blocks::{Built, SlabKind};
use super::para::{self, Align, ParaStyle};
use super::{
    ARTIFACT, Face, Fonts, Item, Layout, LayoutError, Line, OutlineEntry, Page, PageSetup, Rect,
    Role, Rule, SignatureLines,
};
use crate::document::{Document, Run, Style};

/// Slabs placed on one page: (slab index, or a table header, and its top `y`).
#[derive(Debug, Clone, Copy)]
enum Placed {
    Slab(usize, f32),
    Header(u32, f32),
}

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
    } = built;
    let capacity = text_box.height;
    let mut pages: Vec<Vec<Placed>> = Vec::new();
    let mut page: Vec<Placed> = Vec::new();
    let mut y = 0.0f32;
    let mut i = 0;
    // A page holding only a repeated table header counts as empty.
    let has_content = |page: &[Placed]| page.iter().any(|p| matches!(p, Placed::Slab(..)));
    while i < slabs.len() {
        let slab = &slabs[i];
        if slab.kind == SlabKind::PageBreak {
            if has_content(&page) {
                pages.push(std::mem::take(&mut page));
                y = 0.0;
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
        if y + gap + slab.height <= capacity + 0.001 || !has_content(&page) {
            page.push(Placed::Slab(i, y + gap));
            y += gap + slab.height;
            i += 1;
            continue;
        }
        // The slab does not fit: end the page after the last slab that allows it.
        let mut cut = None;
        for (k, p) in page.iter().enumerate().rev() {
            if let Placed::Slab(j, _) = *p
                && !slabs[j].keep_with_next
            {
                cut = Some(k);
                break;
            }
        }
        match cut {
            Some(k) if has_content(&page[..=k]) => {
                if let Some(Placed::Slab(j, _)) = page.get(k + 1) {
                    i = *j;
                }
                page.truncate(k + 1);
            }
            // Everything on the page is kept together: break here anyway.
            _ => {}
        }
        pages.push(std::mem::take(&mut page));
        y = 0.0;
        if pages.len() > super::MAX_PAGES {
            return Err(LayoutError::TooManyPages {
                limit: super::MAX_PAGES,
            });
        }
    }
    if has_content(&page) || pages.is_empty() {
        pages.push(page);
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
                Placed::Slab(j, top) => {
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
    })
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
