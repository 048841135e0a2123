//! Stacking blocks: headings, paragraphs, lists, tables and the signature block become
//! a vertical list of slabs.
//!
//! In: the document's blocks and the text box width. Out: [`Slab`]s, each an unbreakable
//! strip of items (one text line, one table row, the signature block) with the space
//! above it and whether a page may end after it. The keep rules live here: headings keep
//! with the next two lines, paragraphs leave no widow or orphan, the table header keeps
//! with the first row, the signature block keeps with the text before it. What is taller
//! than a page is cut between its lines: a table row, a table header (one taller than a
//! quarter page is set once instead of repeated), the signature block.

use hyphenation::{Language, Load, Standard};
use std::sync::{Arc, OnceLock};

use super::para::{self, Align, ParaStyle, SetLine};
use super::{
    Face, Fill, Fonts, GlyphRun, Item, LayoutError, Line, Node, NodeKind, PageSetup, Rect, Role,
    Rule,
};
use crate::document::{Block, Document, List, Party, Run, SignatureBlock, Style, Table};

/// What a slab holds, as far as pagination cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SlabKind {
    Text,
    Heading,
    TableHeader(u32),
    TableRow(u32),
    Signature,
    PageBreak,
}

/// An unbreakable horizontal strip of the document.
#[derive(Debug, Clone)]
pub(super) struct Slab {
    pub height: f32,
    /// Space above the slab; dropped at the top of a page.
    pub space_before: f32,
    /// No page may end right after this slab.
    pub keep_with_next: bool,
    /// The keep is a preference (a heading with its whole introduction and the start of
    /// its table), given up when honouring it would leave a page more than half empty.
    pub soft_keep: bool,
    /// Text lines the slab counts as when a heading keeps with the next two lines.
    pub lines: u32,
    pub kind: SlabKind,
    /// Items with `y` relative to the slab's top and `x` absolute.
    pub items: Vec<Item>,
}

/// The slabs of a document and each table's header, for repeating on later pages.
pub(super) struct Built {
    pub slabs: Vec<Slab>,
    pub headers: Vec<Slab>,
    pub nodes: Vec<Node>,
    /// Bookmarks: (first slab, level, title).
    pub outline: Vec<(usize, u8, String)>,
    /// The signature block's slab and its vendor and customer signature areas, with `y`
    /// relative to the slab's top.
    pub signature: Option<(usize, Rect, Rect, (u32, u32))>,
    /// The paragraphs (`Line::para`) of the blocks that hold the reader's own text, in
    /// order (see [`own_blocks`]).
    pub own: Vec<u32>,
}

/// The tallest table header, as a share of the text box, that is repeated on every page
/// the table spans.
const MAX_REPEATED_HEADER: f32 = 0.25;

/// Type sizes and spacing derived from the base size.
#[derive(Debug, Clone, Copy)]
struct Spec {
    size: f32,
    leading: f32,
}

fn hyphenator() -> Option<&'static Standard> {
    static EN_US: OnceLock<Option<Standard>> = OnceLock::new();
    EN_US
        .get_or_init(|| Standard::from_embedded(Language::EnglishUS).ok())
        .as_ref()
}

struct Builder<'a> {
    fonts: &'a Fonts,
    setup: &'a PageSetup,
    hyph: Option<&'static Standard>,
    text_box: Rect,
    slabs: Vec<Slab>,
    headers: Vec<Slab>,
    headings: Vec<usize>,
    pending_space: f32,
    next_para: u32,
    nodes: Vec<Node>,
    /// The structure element new elements go into.
    parent: Option<u32>,
    outline: Vec<(usize, u8, String)>,
    /// Level of the last heading, for the level of the clauses below it.
    heading_level: u8,
    signature: Option<(usize, Rect, Rect, (u32, u32))>,
    /// Which of the document's top-level blocks hold the reader's own text.
    own_blocks: Vec<bool>,
    /// Whether the top-level block being built is one of them.
    in_own: bool,
    own: Vec<u32>,
}

/// Builds the slabs of `doc` for a text box `text_box`.
pub(super) fn build(
    doc: &Document,
    fonts: &Fonts,
    setup: &PageSetup,
    text_box: Rect,
) -> Result<Built, LayoutError> {
    let mut b = Builder {
        fonts,
        setup,
        hyph: if setup.hyphenate { hyphenator() } else { None },
        text_box,
        slabs: Vec::new(),
        headers: Vec::new(),
        headings: Vec::new(),
        pending_space: 0.0,
        next_para: 0,
        nodes: Vec::new(),
        parent: None,
        outline: Vec::new(),
        heading_level: 0,
        signature: None,
        own_blocks: own_blocks(doc),
        in_own: false,
        own: Vec::new(),
    };
    b.blocks(&doc.blocks, text_box.x, text_box.width, 0)?;
    b.keep_headings();
    Ok(Built {
        slabs: b.slabs,
        headers: b.headers,
        nodes: b.nodes,
        outline: b.outline,
        signature: b.signature,
        own: b.own,
    })
}

/// For each top-level block of `doc`, whether it holds any of `doc.own_text` (the
/// customer's name, address, e-mail…): the PDF writer cuts a page's content around
/// such blocks, so that the rest of the page is one stream for every customer.
///
/// The typography has put invisible break opportunities and word joiners into the
/// text (after `@`, `.` and `/` in an address, after some spaces) and may have curled
/// quotes, so each string is looked for as its pieces between such characters: a
/// block holds it when it holds every piece of three bytes or more. A block found
/// wrongly, or missed, only moves where the content is cut, never what is drawn.
fn own_blocks(doc: &Document) -> Vec<bool> {
    let pieces: Vec<Vec<&str>> = doc
        .own_text
        .iter()
        .map(|text| {
            let mut pieces: Vec<&str> = text
                .split(|c: char| {
                    c.is_whitespace() || matches!(c, '.' | '/' | '@' | '-' | ',' | '\'' | '"')
                })
                .filter(|p| p.len() >= 3)
                .collect();
            // The piece most likely to be rare first (one with a digit, then the
            // longest): the others are then looked for only in the blocks it is in.
            pieces.sort_by_key(|p| {
                (
                    !p.bytes().any(|b| b.is_ascii_digit()),
                    std::cmp::Reverse(p.len()),
                )
            });
            pieces
        })
        .filter(|p| !p.is_empty())
        .collect();
    let mut own = vec![false; doc.blocks.len()];
    if pieces.is_empty() {
        return own;
    }
    // All the text, each block's after the offset where it starts, texts apart by a
    // NUL: each piece is then looked for once in the whole document.
    let mut text = Vec::with_capacity(32 * 1024);
    let mut starts = Vec::with_capacity(doc.blocks.len());
    let mut texts = Vec::new();
    for block in &doc.blocks {
        starts.push(text.len());
        texts.clear();
        block_texts(block, &mut texts);
        for t in &texts {
            text.extend_from_slice(t.as_bytes());
            text.push(0);
        }
    }
    starts.push(text.len());
    for string in &pieces {
        let [first, rest @ ..] = string.as_slice() else {
            continue;
        };
        let mut holds = vec![false; doc.blocks.len()];
        for at in memchr::memmem::find_iter(&text, first) {
            holds[starts.partition_point(|&s| s <= at) - 1] = true;
        }
        for piece in rest {
            let finder = memchr::memmem::Finder::new(piece);
            for (b, h) in holds.iter_mut().enumerate() {
                *h = *h && finder.find(&text[starts[b]..starts[b + 1]]).is_some();
            }
        }
        for (o, h) in own.iter_mut().zip(holds) {
            *o |= h;
        }
    }
    own
}

/// Every text a block draws: its runs, its list items' and cells' runs, the signature
/// block's fields.
fn block_texts<'a>(block: &'a Block, out: &mut Vec<&'a str>) {
    let runs =
        |runs: &'a [Run], out: &mut Vec<&'a str>| out.extend(runs.iter().map(|r| r.text.as_str()));
    match block {
        Block::Heading { runs: r, .. } | Block::Paragraph(r) => runs(r, out),
        Block::List(list) => {
            for item in &list.items {
                for block in &item.blocks {
                    block_texts(block, out);
                }
            }
        }
        Block::Table(table) => {
            for cell in table.header.iter().chain(table.rows.iter().flatten()) {
                runs(cell, out);
            }
        }
        Block::PageBreak => {}
        Block::Signatures(block) => {
            for party in [&block.vendor, &block.customer] {
                out.push(&party.caption);
                out.push(&party.organisation);
                for field in [&party.name, &party.title, &party.date, &party.signed] {
                    out.extend(field.as_deref());
                }
            }
        }
    }
}

/// The clause number a paragraph starts with ("**1.1** In this…", "**12.** …"), and the
/// runs after it: such a paragraph hangs its number in a column of its own.
fn clause_number(runs: &[Run]) -> Option<(String, Vec<Run>)> {
    let first = runs.first()?;
    let number = first.text.trim();
    let is_number = !number.is_empty()
        && number.len() <= 12
        && number.trim_end_matches('.').split('.').all(|part| {
            !part.is_empty() && part.len() <= 3 && part.bytes().all(|b| b.is_ascii_digit())
        });
    let followed_by_space = first.text.ends_with(' ')
        || runs
            .get(1)
            .is_some_and(|r| r.text.starts_with(' ') || r.text.starts_with('\u{a0}'));
    if !first.style.is_bold() || !is_number || !followed_by_space {
        return None;
    }
    let mut rest: Vec<Run> = runs[1..].to_vec();
    if let Some(r) = rest.first_mut() {
        r.text = r.text.trim_start().to_string();
    }
    Some((number.to_string(), rest))
}

impl Builder<'_> {
    fn base(&self) -> f32 {
        self.setup.base_size
    }

    fn body(&self) -> Spec {
        Spec {
            size: self.base(),
            leading: (self.base() * 1.3 * 4.0).round() / 4.0,
        }
    }

    fn heading_spec(&self, level: u8) -> (Spec, f32, f32) {
        let lead = self.body().leading;
        let size = match level {
            1 => self.base() * 1.45,
            2 => self.base() * 1.15,
            _ => self.base(),
        };
        let (before, after) = match level {
            1 => (1.6 * lead, 0.55 * lead),
            2 => (1.15 * lead, 0.35 * lead),
            _ => (0.8 * lead, 0.2 * lead),
        };
        (
            Spec {
                size,
                leading: (size * 1.22 * 4.0).round() / 4.0,
            },
            before,
            after,
        )
    }

    fn para_gap(&self) -> f32 {
        0.5 * self.body().leading
    }

    fn space(&mut self, gap: f32) {
        self.pending_space = self.pending_space.max(gap);
    }

    fn push(&mut self, mut slab: Slab) {
        slab.space_before = self.pending_space.max(slab.space_before);
        self.pending_space = 0.0;
        self.slabs.push(slab);
    }

    /// A new structure element inside the current parent.
    fn node(&mut self, kind: NodeKind) -> u32 {
        self.nodes.push(Node {
            kind,
            parent: self.parent,
        });
        (self.nodes.len() - 1) as u32
    }

    /// One link element per target, inside `parent`, in order.
    fn link_nodes(&mut self, targets: Vec<String>, parent: u32) -> Vec<u32> {
        targets
            .into_iter()
            .map(|target| {
                self.nodes.push(Node {
                    kind: NodeKind::Link(target),
                    parent: Some(parent),
                });
                (self.nodes.len() - 1) as u32
            })
            .collect()
    }

    /// The width of the column that clause numbers hang in.
    fn hang(&self) -> f32 {
        3.0 * self.base()
    }

    fn para_id(&mut self) -> u32 {
        self.next_para += 1;
        if self.in_own {
            self.own.push(self.next_para);
        }
        self.next_para
    }

    /// Distance from a line box's top to its baseline, centring the font's extent.
    fn baseline(&self, spec: Spec) -> f32 {
        let m = self.fonts.metrics(Face::Regular);
        let extent = (m.ascender - m.descender) * spec.size / 1000.0;
        (spec.leading - extent) / 2.0 + m.ascender * spec.size / 1000.0
    }

    fn blocks(
        &mut self,
        blocks: &[Block],
        x: f32,
        measure: f32,
        depth: usize,
    ) -> Result<(), LayoutError> {
        for (i, block) in blocks.iter().enumerate() {
            if depth == 0 {
                self.in_own = self.own_blocks.get(i) == Some(&true);
            }
            match block {
                Block::Heading { level, runs } => self.heading(*level, runs, x, measure)?,
                Block::Paragraph(runs) => {
                    self.space(self.para_gap());
                    let node = self.node(NodeKind::Paragraph);
                    match clause_number(runs).filter(|_| depth == 0) {
                        Some((number, rest)) => {
                            let body = self.body();
                            let set =
                                para::set_single(&number, Style::Bold, body.size, self.fonts)?;
                            let label = Item::Line(make_line(
                                set,
                                x,
                                0.0,
                                self.hang(),
                                body.size,
                                Role::Body,
                                node,
                                &[],
                                self.next_para + 1,
                                0,
                                1,
                            ));
                            let first = self.slabs.len();
                            let hang = self.hang();
                            self.paragraph(
                                &rest,
                                x + hang,
                                measure - hang,
                                body,
                                Align::Justify,
                                Role::Body,
                                Some(label),
                                node,
                            )?;
                            let level = self.heading_level.saturating_add(1).min(6);
                            let title = format!("{number} {}", outline_title(&rest));
                            self.outline.push((first, level, title));
                        }
                        None => self.paragraph(
                            runs,
                            x,
                            measure,
                            self.body(),
                            Align::Justify,
                            Role::Body,
                            None,
                            node,
                        )?,
                    }
                    self.space(self.para_gap());
                }
                Block::List(list) => self.list(list, x, measure, depth)?,
                Block::Table(table) => self.table(table, x, measure)?,
                Block::PageBreak => {
                    self.pending_space = 0.0;
                    self.slabs.push(Slab {
                        height: 0.0,
                        space_before: 0.0,
                        keep_with_next: false,
                        soft_keep: false,
                        lines: 0,
                        kind: SlabKind::PageBreak,
                        items: Vec::new(),
                    });
                }
                Block::Signatures(sig) => self.signatures(sig, x, measure)?,
            }
        }
        Ok(())
    }

    fn heading(
        &mut self,
        level: u8,
        runs: &[Run],
        x: f32,
        measure: f32,
    ) -> Result<(), LayoutError> {
        let level = level.clamp(1, 3);
        let (spec, before, after) = self.heading_spec(level);
        let style = if level == 3 {
            Style::BoldItalic
        } else {
            Style::Bold
        };
        let runs: Vec<Run> = runs
            .iter()
            .map(|r| Run::styled(r.text.clone(), merge(style, r.style)))
            .collect();
        self.space(before);
        let first = self.slabs.len();
        let node = self.node(NodeKind::Heading(level));
        self.paragraph(
            &runs,
            x,
            measure,
            spec,
            Align::Left,
            Role::Heading(level),
            None,
            node,
        )?;
        self.heading_level = level;
        self.outline.push((first, level, outline_title(&runs)));
        for s in &mut self.slabs[first..] {
            s.kind = SlabKind::Heading;
            s.keep_with_next = true;
        }
        if self.slabs.len() > first {
            self.headings.push(self.slabs.len() - 1);
        }
        self.pending_space = after;
        Ok(())
    }

    /// Sets a paragraph and pushes one slab per line, with widow and orphan control.
    #[allow(clippy::too_many_arguments)]
    fn paragraph(
        &mut self,
        runs: &[Run],
        x: f32,
        measure: f32,
        spec: Spec,
        align: Align,
        role: Role,
        marker: Option<Item>,
        node: u32,
    ) -> Result<(), LayoutError> {
        let lines = self.set(runs, measure, spec.size, align)?;
        let id = self.para_id();
        let links = self.link_nodes(para::link_targets(runs), node);
        let n = lines.len() as u32;
        let baseline = self.baseline(spec);
        let mut marker = marker;
        if lines.is_empty() {
            if let Some(m) = marker.take() {
                self.push(Slab {
                    height: spec.leading,
                    space_before: 0.0,
                    keep_with_next: true,
                    soft_keep: false,
                    lines: 1,
                    kind: SlabKind::Text,
                    items: vec![m],
                });
            }
            return Ok(());
        }
        for (i, set) in lines.into_iter().enumerate() {
            let i = i as u32;
            let mut items = Vec::with_capacity(2);
            if let Some(mut m) = marker.take() {
                m.shift(0.0, baseline);
                items.push(m);
            }
            items.push(Item::Line(make_line(
                set, x, baseline, measure, spec.size, role, node, &links, id, i, n,
            )));
            // A break after line i leaves i+1 lines above and n-i-1 below: both need two.
            let above = i + 1;
            let below = n - above;
            let keep = below > 0 && (above < 2 || below < 2);
            self.push(Slab {
                height: spec.leading,
                space_before: 0.0,
                keep_with_next: keep,
                soft_keep: false,
                lines: 1,
                kind: SlabKind::Text,
                items,
            });
        }
        Ok(())
    }

    fn set(
        &self,
        runs: &[Run],
        measure: f32,
        size: f32,
        align: Align,
    ) -> Result<Vec<SetLine>, LayoutError> {
        let style = ParaStyle {
            size,
            measure,
            align,
            hyphenate: self.hyph.is_some(),
        };
        // Owned lines: moved out when this call made them, copied when the memo shares them.
        para::set_paragraph(runs, style, self.fonts, self.hyph).map(Arc::unwrap_or_clone)
    }

    fn list(&mut self, list: &List, x: f32, measure: f32, depth: usize) -> Result<(), LayoutError> {
        // Top-level lists hang in the clause column, so "(a)" sits under a clause's text.
        let (x, measure) = if depth == 0 {
            (x + self.hang(), measure - self.hang())
        } else {
            (x, measure)
        };
        let indent = 2.4 * self.base();
        let item_gap = 0.3 * self.body().leading;
        let body = self.body();
        self.space(if depth == 0 {
            self.para_gap()
        } else {
            item_gap
        });
        let outer = self.parent;
        let list_node = self.node(NodeKind::List);
        for (k, item) in list.items.iter().enumerate() {
            let n = list.start.unwrap_or(1).saturating_add(k as u64);
            let label = match (list.start, depth) {
                (Some(_), 0) => format!("({})", letters(n)),
                (Some(_), _) => format!("({})", roman(n)),
                (None, 0) => "•".to_owned(),
                (None, _) => "–".to_owned(),
            };
            self.parent = Some(list_node);
            let item_node = self.node(NodeKind::ListItem);
            self.parent = Some(item_node);
            let label_node = self.node(NodeKind::Label);
            let body_node = self.node(NodeKind::ListBody);
            self.parent = Some(body_node);
            let set = para::set_single(&label, Style::Regular, body.size, self.fonts)?;
            let id = self.para_id();
            // Bullets sit a little in; letters start at the list's left edge.
            let mx = if list.start.is_none() {
                x + 0.35 * indent
            } else {
                x
            };
            let mut marker = Some(Item::Line(make_line(
                set,
                mx,
                0.0,
                indent,
                body.size,
                Role::ListMarker,
                label_node,
                &[],
                id,
                0,
                1,
            )));
            self.space(item_gap);
            let (ix, im) = (x + indent, measure - indent);
            for block in &item.blocks {
                match block {
                    Block::Paragraph(runs) if marker.is_some() => {
                        let node = self.node(NodeKind::Paragraph);
                        self.paragraph(
                            runs,
                            ix,
                            im,
                            body,
                            Align::Justify,
                            Role::Body,
                            marker.take(),
                            node,
                        )?;
                        self.space(self.para_gap());
                    }
                    other => {
                        if let Some(m) = marker.take() {
                            let base = self.baseline(body);
                            let mut m = m;
                            m.shift(0.0, base);
                            self.push(Slab {
                                height: body.leading,
                                space_before: 0.0,
                                keep_with_next: true,
                                soft_keep: false,
                                lines: 1,
                                kind: SlabKind::Text,
                                items: vec![m],
                            });
                        }
                        self.blocks(std::slice::from_ref(other), ix, im, depth + 1)?;
                    }
                }
            }
            self.pending_space = 0.0;
            self.space(item_gap);
        }
        self.parent = outer;
        self.space(if depth == 0 {
            self.para_gap()
        } else {
            item_gap
        });
        Ok(())
    }

    fn table(&mut self, table: &Table, x: f32, measure: f32) -> Result<(), LayoutError> {
        let cols = table
            .rows
            .iter()
            .map(Vec::len)
            .chain([table.header.len()])
            .max()
            .unwrap_or(0);
        if cols == 0 {
            return Ok(());
        }
        let id = self.headers.len() as u32;
        let outer = self.parent;
        let table_node = self.node(NodeKind::Table);
        self.parent = Some(table_node);
        let size = (self.base() * 0.88 * 4.0).round() / 4.0;
        let spec = Spec {
            size,
            leading: (size * 1.25 * 4.0).round() / 4.0,
        };
        let pad_x = 0.45 * self.base();
        let pad_y = 0.3 * self.base();
        // Every cell is measured once, for the column widths and for setting it.
        let prepare = |cell: &[Run]| para::prepare(cell, size, Align::Left, self.fonts);
        let header = table
            .header
            .iter()
            .map(|c| prepare(&emphasise(c)))
            .collect::<Result<Vec<_>, _>>()?;
        let rows = table
            .rows
            .iter()
            .map(|row| {
                row.iter()
                    .map(|c| prepare(c))
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<Vec<_>, _>>()?;
        let widths = self.column_widths(table, &header, &rows, cols, measure, size, pad_x);

        let header_row = self.row(
            &header,
            &widths,
            x,
            spec,
            pad_x,
            pad_y,
            Role::TableHeader { table: id },
            NodeKind::HeaderCell,
        )?;
        let (header_height, header_cells) = header_row;
        let has_header = !table.header.is_empty();
        // A header repeats on every page the table spans only while it leaves most of the
        // page to the rows; a taller one (hundreds of words in a heading cell) is set once,
        // cut between its lines like a row taller than a page.
        let page_height = self.text_box.height;
        let repeat = has_header && header_height <= MAX_REPEATED_HEADER * page_height;
        let lines_per_page = |reserved: f32| {
            let room = page_height - reserved - 1.0;
            (((room - 2.0 * pad_y) / spec.leading).floor() as usize).max(1)
        };
        let header_pieces = row_pieces(header_cells, lines_per_page(0.0), spec.leading, pad_y);
        let pieces = header_pieces.len();
        let mut header_slabs = Vec::with_capacity(pieces);
        for (k, (height, lines)) in header_pieces.into_iter().enumerate() {
            let mut items = vec![Item::Fill(Fill {
                rect: Rect {
                    x,
                    y: 0.0,
                    width: measure,
                    height,
                },
                gray: 0.92,
            })];
            if k == 0 {
                items.push(rule(x, measure, 0.0, 0.8, 0.0));
            }
            items.extend(lines);
            if k + 1 == pieces {
                items.push(rule(x, measure, height, 0.5, 0.0));
            }
            header_slabs.push(Slab {
                height,
                space_before: 0.0,
                keep_with_next: true,
                soft_keep: false,
                lines: 0,
                kind: SlabKind::TableHeader(id),
                items,
            });
        }
        // A table without a header row (or with one too tall) repeats nothing.
        self.headers.push(match header_slabs.first() {
            Some(h) if repeat => h.clone(),
            _ => Slab {
                height: 0.0,
                space_before: 0.0,
                keep_with_next: true,
                soft_keep: false,
                lines: 0,
                kind: SlabKind::TableHeader(id),
                items: Vec::new(),
            },
        });
        let table_gap = 0.8 * self.body().leading;
        self.space(table_gap);
        if has_header {
            for slab in header_slabs {
                self.push(slab);
            }
        }
        // A row taller than a page (minus its repeated header) is cut into pieces.
        let max_lines = lines_per_page(if repeat { header_height } else { 0.0 });
        for (r, cells) in rows.iter().enumerate() {
            let last_row = r + 1 == rows.len();
            let (_, cell_lines) = self.row(
                cells,
                &widths,
                x,
                spec,
                pad_x,
                pad_y,
                Role::TableCell { table: id },
                NodeKind::Cell,
            )?;
            let row_pieces = row_pieces(cell_lines, max_lines, spec.leading, pad_y);
            let count = row_pieces.len();
            for (k, (height, mut items)) in row_pieces.into_iter().enumerate() {
                let closing = last_row && k + 1 == count;
                items.push(if closing {
                    rule(x, measure, height, 0.8, 0.0)
                } else {
                    rule(x, measure, height, 0.3, 0.6)
                });
                self.push(Slab {
                    height,
                    space_before: 0.0,
                    keep_with_next: false,
                    soft_keep: false,
                    lines: 1,
                    kind: SlabKind::TableRow(id),
                    items,
                });
            }
        }
        self.pending_space = table_gap;
        self.parent = outer;
        Ok(())
    }

    /// Sets the cells of one row; returns the row height and each cell's line items.
    #[allow(clippy::too_many_arguments)]
    fn row(
        &mut self,
        cells: &[Arc<para::Prepared>],
        widths: &[f32],
        x: f32,
        spec: Spec,
        pad_x: f32,
        pad_y: f32,
        role: Role,
        cell_kind: NodeKind,
    ) -> Result<(f32, Vec<Vec<Item>>), LayoutError> {
        let baseline = self.baseline(spec);
        let outer = self.parent;
        let row_node = self.node(NodeKind::Row);
        self.parent = Some(row_node);
        let mut cx = x;
        let mut out = Vec::with_capacity(widths.len());
        let mut depth = 1;
        for (c, w) in widths.iter().enumerate() {
            let measure = (w - 2.0 * pad_x).max(1.0);
            let lines = match cells.get(c) {
                Some(cell) => {
                    let style = ParaStyle {
                        size: spec.size,
                        measure,
                        align: Align::Left,
                        hyphenate: self.hyph.is_some(),
                    };
                    Arc::unwrap_or_clone(para::set_prepared(cell, style, self.fonts, self.hyph)?)
                }
                None => Vec::new(),
            };
            let id = self.para_id();
            let n = lines.len() as u32;
            depth = depth.max(lines.len());
            let cell_node = self.node(cell_kind.clone());
            let targets = cells.get(c).map(|cell| cell.targets.clone());
            let links = self.link_nodes(targets.unwrap_or_default(), cell_node);
            let items = lines
                .into_iter()
                .enumerate()
                .map(|(i, set)| {
                    let y = pad_y + i as f32 * spec.leading + baseline;
                    Item::Line(make_line(
                        set,
                        cx + pad_x,
                        y,
                        measure,
                        spec.size,
                        role,
                        cell_node,
                        &links,
                        id,
                        i as u32,
                        n,
                    ))
                })
                .collect();
            out.push(items);
            cx += w;
        }
        self.parent = outer;
        Ok((depth as f32 * spec.leading + 2.0 * pad_y, out))
    }

    /// Column widths from the cells' content, within each column's minimum and maximum.
    #[allow(clippy::too_many_arguments)]
    fn column_widths(
        &self,
        table: &Table,
        header: &[Arc<para::Prepared>],
        rows: &[Vec<Arc<para::Prepared>>],
        cols: usize,
        measure: f32,
        size: f32,
        pad_x: f32,
    ) -> Vec<f32> {
        let mut min = vec![0.0f64; cols];
        let mut max = vec![0.0f64; cols];
        for row in std::iter::once(header).chain(rows.iter().map(Vec::as_slice)) {
            for (c, cell) in row.iter().enumerate() {
                min[c] = min[c].max(cell.widest);
                max[c] = max[c].max(cell.natural);
            }
        }
        let measure = measure as f64;
        let pad = 2.0 * pad_x as f64;
        // A single very long token (a URL) is broken anywhere rather than widening its
        // column past 40% of the table.
        for c in 0..cols {
            min[c] = (min[c] + pad).min(0.4 * measure).max(pad + size as f64);
            // Half a point of slack so that float rounding never wraps a cell set at
            // exactly its natural width.
            max[c] = (max[c] + pad + 0.5).max(min[c]);
        }
        let mut widths = share_widths(&min, &max, measure);
        let hinted: Vec<(usize, f64)> = table
            .width_hints
            .iter()
            .enumerate()
            .take(cols)
            .filter_map(|(c, h)| {
                h.filter(|h| h.is_finite() && *h > 0.0)
                    .map(|h| (c, h as f64))
            })
            .collect();
        if !hinted.is_empty() {
            let share: f64 = if hinted.len() == cols {
                measure
            } else {
                hinted.iter().map(|(c, _)| widths[*c]).sum()
            };
            let weight: f64 = hinted.iter().map(|(_, h)| h).sum();
            for (c, h) in &hinted {
                widths[*c] = share * h / weight;
            }
            let total: f64 = widths.iter().sum();
            for w in &mut widths {
                *w *= measure / total;
            }
            // Hints never squeeze a column below its minimum (its widest word, capped, and
            // at least one em): the width comes from columns that have room to spare.
            let deficit: f64 = (0..cols).map(|c| (min[c] - widths[c]).max(0.0)).sum();
            let slack: f64 = (0..cols).map(|c| (widths[c] - min[c]).max(0.0)).sum();
            if deficit > 0.0 && slack > 0.0 {
                let take = (deficit / slack).min(1.0);
                for c in 0..cols {
                    if widths[c] < min[c] {
                        widths[c] = min[c];
                    } else {
                        widths[c] -= (widths[c] - min[c]) * take;
                    }
                }
                let total: f64 = widths.iter().sum();
                if total > measure {
                    for w in &mut widths {
                        *w *= measure / total;
                    }
                }
            }
        }
        widths.into_iter().map(|w| w as f32).collect()
    }

    fn signatures(
        &mut self,
        sig: &SignatureBlock,
        x: f32,
        measure: f32,
    ) -> Result<(), LayoutError> {
        let body = self.body();
        let base = self.base();
        let small = Spec {
            size: (base * 0.82 * 4.0).round() / 4.0,
            leading: (base * 0.82 * 1.3 * 4.0).round() / 4.0,
        };
        let gutter = 2.5 * base;
        let col = (measure - gutter) / 2.0;
        let parties = [(&sig.vendor, x), (&sig.customer, x + col + gutter)];
        let mut items = Vec::new();
        // Structure: one division per party, each text its own paragraph, in the party's
        // reading order (the lines interleave the two columns on the page).
        let outer = self.parent;
        let block = self.node(NodeKind::Division);
        let mut tags = Vec::new();
        let mut party_nodes = Vec::new();
        for _ in parties {
            self.parent = Some(block);
            let party = self.node(NodeKind::Division);
            party_nodes.push(party);
            self.parent = Some(party);
            // caption, organisation, signed text, "Signature", then label and value of
            // name, title and date.
            let ids: Vec<u32> = (0..10).map(|_| self.node(NodeKind::Paragraph)).collect();
            tags.push(ids);
        }
        self.parent = outer;

        // Caption and organisation, top-aligned in both columns.
        let mut top = 0.0f32;
        for (p, (party, px)) in parties.into_iter().enumerate() {
            let mut y = 0.0;
            for (k, (text, style)) in [
                (&party.caption, Style::Bold),
                (&party.organisation, Style::Regular),
            ]
            .into_iter()
            .enumerate()
            {
                y = self.sig_text(&mut items, text, style, px, y, col, body, tags[p][k])?;
            }
            top = top.max(y);
        }

        // The signature zone: the electronic signature line or room to sign by hand.
        let zone_top = top + 0.6 * body.leading;
        let mut signed_lines = Vec::new();
        for (party, px) in parties {
            let lines = match &party.signed {
                Some(text) => self.set(
                    &[Run::styled(text.clone(), Style::Italic)],
                    col,
                    small.size,
                    Align::Left,
                )?,
                None => Vec::new(),
            };
            signed_lines.push((lines, px));
        }
        let most = signed_lines.iter().map(|(l, _)| l.len()).max().unwrap_or(0) as f32;
        // Above signed text, room for an embedded signature's widget (three lines).
        let widget = if most > 0.0 { 3.0 * small.leading } else { 0.0 };
        let zone = (most * small.leading + 0.4 * body.leading + widget).max(2.8 * body.leading);
        let rule_y = zone_top + zone;
        // The area a signature widget may cover: the zone above the party's own
        // "signed electronically" lines, which stay readable on paper.
        let zone_rect = |px: f32, signed: usize| Rect {
            x: px,
            y: zone_top,
            width: col,
            height: (rule_y - 0.3 * body.leading - signed as f32 * small.leading - zone_top)
                .max(small.leading),
        };
        let areas = (
            zone_rect(parties[0].1, signed_lines[0].0.len()),
            zone_rect(parties[1].1, signed_lines[1].0.len()),
        );
        for (p, (lines, px)) in signed_lines.into_iter().enumerate() {
            let id = self.para_id();
            let n = lines.len() as u32;
            let first = rule_y - 0.3 * body.leading - n as f32 * small.leading;
            for (i, set) in lines.into_iter().enumerate() {
                let y = first + i as f32 * small.leading + self.baseline(small);
                items.push(Item::Line(make_line(
                    set,
                    px,
                    y,
                    col,
                    small.size,
                    Role::Signature,
                    tags[p][2],
                    &[],
                    id,
                    i as u32,
                    n,
                )));
            }
            items.push(Item::Rule(Rule {
                x1: px,
                y1: rule_y,
                x2: px + col,
                y2: rule_y,
                thickness: 0.6,
                gray: 0.0,
            }));
            let label = para::set_single("Signature", Style::Italic, small.size, self.fonts)?;
            let id = self.para_id();
            items.push(Item::Line(make_line(
                label,
                px,
                rule_y + self.baseline(small),
                col,
                small.size,
                Role::Signature,
                tags[p][3],
                &[],
                id,
                0,
                1,
            )));
        }

        // Name, title and date: filled in, or a rule to write on.
        let label_w = ["Name:", "Title:", "Date:"]
            .iter()
            .map(|l| {
                para::set_single(l, Style::Regular, small.size, self.fonts).map(|s| s.width as f32)
            })
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .fold(0.0f32, f32::max)
            + 0.6 * base;
        let mut y = rule_y + small.leading + 0.5 * body.leading;
        type Field = fn(&Party) -> &Option<String>;
        let fields: [(&str, Field); 3] = [
            ("Name:", |p| &p.name),
            ("Title:", |p| &p.title),
            ("Date:", |p| &p.date),
        ];
        // Where a block taller than a page may be cut: after each line of a field.
        let mut row_cuts = vec![y];
        for (f, (label, get)) in fields.into_iter().enumerate() {
            let row_h = 1.9 * body.leading;
            let baseline_y = y + row_h - (body.leading - self.baseline(body));
            let mut extra = 0.0f32;
            for (p, (party, px)) in parties.into_iter().enumerate() {
                let set = para::set_single(label, Style::Regular, small.size, self.fonts)?;
                let id = self.para_id();
                items.push(Item::Line(make_line(
                    set,
                    px,
                    baseline_y,
                    label_w,
                    small.size,
                    Role::Signature,
                    tags[p][4 + 2 * f],
                    &[],
                    id,
                    0,
                    1,
                )));
                let vx = px + label_w;
                let vw = col - label_w;
                match get(party) {
                    Some(value) => {
                        let lines =
                            self.set(&[Run::plain(value.clone())], vw, body.size, Align::Left)?;
                        let id = self.para_id();
                        let n = lines.len() as u32;
                        extra = extra.max(n.saturating_sub(1) as f32 * body.leading);
                        for (i, set) in lines.into_iter().enumerate() {
                            let by = baseline_y + i as f32 * body.leading;
                            items.push(Item::Line(make_line(
                                set,
                                vx,
                                by,
                                vw,
                                body.size,
                                Role::Signature,
                                tags[p][5 + 2 * f],
                                &[],
                                id,
                                i as u32,
                                n,
                            )));
                        }
                    }
                    None => items.push(Item::Rule(Rule {
                        x1: vx,
                        y1: baseline_y + 2.0,
                        x2: px + col,
                        y2: baseline_y + 2.0,
                        thickness: 0.4,
                        gray: 0.0,
                    })),
                }
            }
            let extra_lines = (extra / body.leading).round() as usize;
            row_cuts.extend((0..=extra_lines).map(|k| y + row_h + k as f32 * body.leading));
            y += row_h + extra;
        }
        let height = y + 0.4 * body.leading;
        if let Some(prev) = self.slabs.last_mut()
            && prev.kind != SlabKind::PageBreak
        {
            prev.keep_with_next = true;
        }
        self.space(1.2 * body.leading);
        // A block taller than a page (a legal name of thousands of characters) is cut
        // between its lines of text, which keep together as far as a page allows; the
        // signature zone with its rule and label stays whole.
        let pieces = if height > self.text_box.height {
            let mut cuts = Vec::new();
            let caption_lines = (top / body.leading).round() as usize;
            cuts.extend((1..caption_lines).map(|k| k as f32 * body.leading));
            cuts.push(top);
            cuts.extend(row_cuts);
            if let Some(last) = cuts.last_mut() {
                *last = height;
            }
            bands(items, &cuts)
        } else {
            vec![(0.0, height, items)]
        };
        let count = pieces.len();
        // The band that holds the signature zone; the widgets' areas are relative to it.
        let zone = pieces
            .iter()
            .rposition(|b| b.0 <= zone_top)
            .unwrap_or_default();
        let zone_slab = self.slabs.len() + zone;
        let in_zone = |r: Rect| Rect {
            y: r.y - pieces[zone].0,
            ..r
        };
        let areas = (in_zone(areas.0), in_zone(areas.1));
        for (k, (_, band_height, items)) in pieces.into_iter().enumerate() {
            self.push(Slab {
                height: band_height,
                space_before: 0.0,
                keep_with_next: k + 1 < count,
                soft_keep: false,
                lines: 1,
                kind: SlabKind::Signature,
                items,
            });
        }
        self.signature = Some((
            zone_slab,
            areas.0,
            areas.1,
            (party_nodes[0], party_nodes[1]),
        ));
        self.space(self.para_gap());
        Ok(())
    }

    /// Sets ragged text in the signature block from `y`; returns the new `y`.
    #[allow(clippy::too_many_arguments)]
    fn sig_text(
        &mut self,
        items: &mut Vec<Item>,
        text: &str,
        style: Style,
        x: f32,
        y: f32,
        measure: f32,
        spec: Spec,
        node: u32,
    ) -> Result<f32, LayoutError> {
        let lines = self.set(
            &[Run::styled(text.to_owned(), style)],
            measure,
            spec.size,
            Align::Left,
        )?;
        let id = self.para_id();
        let n = lines.len() as u32;
        let mut y = y;
        for (i, set) in lines.into_iter().enumerate() {
            let line = make_line(
                set,
                x,
                y + self.baseline(spec),
                measure,
                spec.size,
                Role::Signature,
                node,
                &[],
                id,
                i as u32,
                n,
            );
            items.push(Item::Line(line));
            y += spec.leading;
        }
        Ok(y)
    }

    /// Makes each heading keep with at least the next two lines of text, and with the
    /// whole of a short introduction and the header and first two rows of a table that
    /// follows it (so a table never starts alone on a page after its heading).
    fn keep_headings(&mut self) {
        const SHORT_INTRODUCTION: u32 = 10;
        for &h in &self.headings {
            let mut j = h + 1;
            let mut lines = 0;
            while j < self.slabs.len()
                && self.slabs[j].kind == SlabKind::Text
                && lines <= SHORT_INTRODUCTION
            {
                lines += self.slabs[j].lines;
                j += 1;
            }
            if j < self.slabs.len()
                && matches!(self.slabs[j].kind, SlabKind::TableHeader(_))
                && lines <= SHORT_INTRODUCTION
            {
                // Introduction, header and the first row keep with what follows, where
                // a page has room for them (see `soft_keep`).
                let first_row = j + 1;
                let last = first_row.min(self.slabs.len() - 1);
                for slab in &mut self.slabs[h..=last] {
                    if !slab.keep_with_next {
                        slab.keep_with_next = true;
                        slab.soft_keep = true;
                    }
                }
                if let Some(second) = self.slabs.get(first_row + 1)
                    && !matches!(second.kind, SlabKind::TableRow(_))
                    && let Some(first) = self.slabs.get_mut(first_row)
                {
                    // A one-row table: nothing to keep the row with.
                    first.keep_with_next = false;
                }
            }
        }
        for &h in &self.headings {
            let mut counted = 0;
            let mut j = h + 1;
            while j < self.slabs.len() && counted < 2 {
                if self.slabs[j].kind == SlabKind::PageBreak {
                    break;
                }
                counted += self.slabs[j].lines;
                if counted < 2 {
                    self.slabs[j].keep_with_next = true;
                    self.slabs[j].soft_keep = false;
                }
                j += 1;
            }
        }
    }
}

/// Cuts a table row into pieces of at most `max_lines` lines of every cell: each piece's
/// height and its line items, moved up to the piece's top (one piece for most rows).
fn row_pieces(
    cell_lines: Vec<Vec<Item>>,
    max_lines: usize,
    leading: f32,
    pad_y: f32,
) -> Vec<(f32, Vec<Item>)> {
    let depth = cell_lines.iter().map(Vec::len).max().unwrap_or(0).max(1);
    let mut cells: Vec<_> = cell_lines.into_iter().map(Vec::into_iter).collect();
    let mut out = Vec::with_capacity(1);
    let mut from = 0;
    while from < depth {
        let to = (from + max_lines).min(depth);
        let height = (to - from) as f32 * leading + 2.0 * pad_y;
        let mut items = Vec::new();
        for cell in &mut cells {
            for mut item in cell.by_ref().take(to - from) {
                item.shift(0.0, -(from as f32) * leading);
                items.push(item);
            }
        }
        out.push((height, items));
        from = to;
    }
    out
}

/// Cuts a strip of items into bands at `cuts` (the bands' bottoms, increasing, the last
/// the strip's height): each item goes to the band its baseline (a rule's or fill's top)
/// lies in, moved up to the band's top. Returns each band's top, height and items.
fn bands(items: Vec<Item>, cuts: &[f32]) -> Vec<(f32, f32, Vec<Item>)> {
    let mut out: Vec<(f32, f32, Vec<Item>)> = Vec::with_capacity(cuts.len());
    let mut top = 0.0;
    for &bottom in cuts {
        out.push((top, bottom - top, Vec::new()));
        top = bottom;
    }
    for mut item in items {
        let at = match &item {
            Item::Line(l) => l.baseline,
            Item::Rule(r) => r.y1.min(r.y2),
            Item::Fill(f) => f.rect.y,
        };
        let k = cuts.partition_point(|&c| c <= at).min(out.len() - 1);
        item.shift(0.0, -out[k].0);
        out[k].2.push(item);
    }
    out
}

/// Splits `measure` between columns with natural widths `max` and minimum widths `min`.
///
/// Columns whose whole content fits in an equal share get exactly their natural width,
/// so short columns (names, dates, codes) never wrap; the long columns share the rest
/// in proportion to their content, each at least its minimum.
fn share_widths(min: &[f64], max: &[f64], measure: f64) -> Vec<f64> {
    let cols = max.len();
    let smax: f64 = max.iter().sum();
    if smax <= measure {
        return max.iter().map(|m| m * measure / smax).collect();
    }
    let smin: f64 = min.iter().sum();
    if smin >= measure {
        return min.iter().map(|m| m * measure / smin).collect();
    }
    let mut widths = vec![0.0; cols];
    let mut open: Vec<usize> = (0..cols).collect();
    let mut remaining = measure;
    loop {
        let share = remaining / open.len() as f64;
        let (fits, rest): (Vec<usize>, Vec<usize>) = open.iter().partition(|&&c| max[c] <= share);
        if fits.is_empty() || rest.is_empty() {
            break;
        }
        for c in fits {
            widths[c] = max[c];
            remaining -= max[c];
        }
        open = rest;
    }
    // The long columns: proportional to content, but never below their minimum.
    loop {
        let weight: f64 = open.iter().map(|&c| max[c]).sum();
        let below: Vec<usize> = open
            .iter()
            .copied()
            .filter(|&c| max[c] / weight * remaining < min[c])
            .collect();
        if below.is_empty() || below.len() == open.len() {
            for &c in &open {
                widths[c] = (max[c] / weight * remaining).max(min[c]);
            }
            break;
        }
        for &c in &below {
            widths[c] = min[c];
            remaining -= min[c];
        }
        open.retain(|c| !below.contains(c));
    }
    let total: f64 = widths.iter().sum();
    widths.iter().map(|w| w * measure / total).collect()
}

/// A horizontal rule across a table at `y`.
fn rule(x: f32, width: f32, y: f32, thickness: f32, gray: f32) -> Item {
    Item::Rule(Rule {
        x1: x,
        y1: y,
        x2: x + width,
        y2: y,
        thickness,
        gray,
    })
}

/// Header cells are bold, keeping any italics.
fn emphasise(cell: &[Run]) -> Vec<Run> {
    cell.iter()
        .map(|r| Run::styled(r.text.clone(), Style::with(true, r.style.is_italic())))
        .collect()
}

/// A heading's own style combined with the emphasis of a run inside it.
fn merge(base: Style, run: Style) -> Style {
    Style::with(
        base.is_bold() || run.is_bold(),
        base.is_italic() || run.is_italic(),
    )
}

/// 1 → i, 4 → iv, 9 → ix: the roman numeral of a second-level list item.
fn roman(n: u64) -> String {
    const DIGITS: [(u64, &str); 13] = [
        (1000, "m"),
        (900, "cm"),
        (500, "d"),
        (400, "cd"),
        (100, "c"),
        (90, "xc"),
        (50, "l"),
        (40, "xl"),
        (10, "x"),
        (9, "ix"),
        (5, "v"),
        (4, "iv"),
        (1, "i"),
    ];
    let mut n = n.clamp(1, 3999);
    let mut out = String::new();
    for (value, digits) in DIGITS {
        while n >= value {
            out.push_str(digits);
            n -= value;
        }
    }
    out
}

/// The text of a heading or clause for the outline, on one line.
fn outline_title(runs: &[Run]) -> String {
    // A clause's outline entry is its number and first words, not the whole paragraph:
    // the words are read only as far as the title goes (invisible marks dropped first, so
    // they never split a word). One pass over the text, ASCII byte by byte (most of a
    // DPA): decoding and classifying every character cost sixty instructions each.
    let mut title = Title {
        text: String::with_capacity(64),
        count: 0,
        in_word: false,
    };
    for run in runs {
        let text = run.text.as_str();
        let mut at = 0;
        while at < text.len() {
            let b = text.as_bytes()[at];
            let c = if b.is_ascii() {
                at += 1;
                char::from(b)
            } else {
                let Some(c) = text[at..].chars().next() else {
                    break;
                };
                at += c.len_utf8();
                c
            };
            if !title.push(c) {
                return title.text;
            }
        }
    }
    title.text
}

/// An outline title being written: its characters, their count (spaces included) and
/// whether the last character read was part of a word.
struct Title {
    text: String,
    count: usize,
    in_word: bool,
}

impl Title {
    /// Reads one character of the text; `false` once the title is full (it then ends
    /// with an ellipsis).
    fn push(&mut self, c: char) -> bool {
        // ASCII first: a control (tabs and line breaks included) is dropped like the
        // invisible marks, and of the rest only the space is whitespace.
        let (control, space) = if c.is_ascii() {
            (c.is_ascii_control(), c == ' ')
        } else {
            (super::font::is_control(c), c.is_whitespace())
        };
        if control {
            return true;
        }
        if space {
            self.in_word = false;
            return true;
        }
        if !self.in_word {
            if self.count > 40 {
                self.text.push('…');
                return false;
            }
            if !self.text.is_empty() {
                self.text.push(' ');
                self.count += 1;
            }
            self.in_word = true;
        }
        self.text.push(c);
        self.count += 1;
        true
    }
}

/// 1 → a, 26 → z, 27 → aa: the letters of a first-level list item.
fn letters(n: u64) -> String {
    let mut n = n.max(1);
    let mut out = Vec::new();
    while n > 0 {
        n -= 1;
        out.push(b'a' + (n % 26) as u8);
        n /= 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

#[allow(clippy::too_many_arguments)]
fn make_line(
    set: SetLine,
    x: f32,
    baseline: f32,
    measure: f32,
    size: f32,
    role: Role,
    node: u32,
    links: &[u32],
    para: u32,
    index: u32,
    of: u32,
) -> Line {
    Line {
        node,
        x,
        baseline,
        width: set.width as f32,
        measure,
        size,
        word_spacing: set.word_spacing as f32,
        letter_spacing: set.letter_spacing as f32,
        runs: set
            .runs
            .into_iter()
            .map(|r| GlyphRun {
                x: x + r.x as f32,
                face: r.face,
                text: r.text,
                width: r.width as f32,
                link: r.link.and_then(|l| links.get(l as usize).copied()),
            })
            .collect(),
        role,
        para,
        index,
        of,
        justified: set.justified,
    }
}

#[cfg(test)]
mod tests {
    use super::{letters, outline_title, roman, share_widths};
    use crate::document::{Run, Style};

    #[test]
    fn outline_titles_are_the_first_words() {
        let runs = [
            Run::plain("  Sub\u{2060}processors:\tthe Processor engages "),
            Run::styled("only", Style::Bold),
            Run::plain(" the providers listed in the annex and no others whatsoever"),
        ];
        assert_eq!(
            outline_title(&runs),
            "Subprocessors:the Processor engages only the…"
        );
        assert_eq!(outline_title(&[Run::plain(" Definitions ")]), "Definitions");
        assert_eq!(outline_title(&[]), "");
        // Words run on across runs; whitespace of any kind, however long, is one space.
        assert_eq!(
            outline_title(&[
                Run::plain("12.\u{a0}Aud"),
                Run::styled("its", Style::Bold),
                Run::plain(" \n\t and\u{2060} inspections ")
            ]),
            "12. Audits and inspections"
        );
        let long = "word ".repeat(20);
        let t = outline_title(&[Run::plain(long.as_str())]);
        assert_eq!(t, format!("{}…", "word ".repeat(9).trim_end()));
    }

    /// The title character by character, as it was written before the ASCII path.
    fn outline_title_char_by_char(runs: &[Run]) -> String {
        let mut title = String::new();
        let (mut count, mut in_word) = (0usize, false);
        for c in runs.iter().flat_map(|r| r.text.chars()) {
            if crate::layout::font::is_control(c) {
                continue;
            }
            if c.is_whitespace() {
                in_word = false;
                continue;
            }
            if !in_word {
                if count > 40 {
                    title.push('…');
                    return title;
                }
                if !title.is_empty() {
                    title.push(' ');
                    count += 1;
                }
                in_word = true;
            }
            title.push(c);
            count += 1;
        }
        title
    }

    proptest::proptest! {
        #[test]
        fn outline_titles_by_bytes_are_titles_char_by_char(
            texts in proptest::collection::vec(
                "[ -~\t\n\r\u{0}-\u{1f}\u{7f}-\u{a0}\u{ad}\u{2060}\u{200b}\u{feff}\u{2028}\u{3000}äß€]{0,30}",
                0..4,
            )
        ) {
            let runs: Vec<Run> = texts.iter().map(|t| Run::plain(t.as_str())).collect();
            proptest::prop_assert_eq!(outline_title(&runs), outline_title_char_by_char(&runs));
        }
    }

    #[test]
    fn short_columns_keep_their_natural_width() {
        let min = [40.0, 60.0, 50.0, 40.0];
        let max = [80.0, 300.0, 130.0, 75.0];
        let w = share_widths(&min, &max, 450.0);
        assert!((w.iter().sum::<f64>() - 450.0).abs() < 1e-9);
        assert_eq!((w[0], w[2], w[3]), (80.0, 130.0, 75.0));
        assert!((w[1] - 165.0).abs() < 1e-9);
    }

    #[test]
    fn narrow_tables_never_go_below_the_minimums() {
        let w = share_widths(&[100.0, 100.0], &[400.0, 400.0], 150.0);
        assert_eq!(w, vec![75.0, 75.0]);
        let w = share_widths(&[10.0, 10.0], &[20.0, 40.0], 120.0);
        assert_eq!(w, vec![40.0, 80.0]);
    }

    #[test]
    fn second_level_numbers_are_letters() {
        assert_eq!(letters(1), "a");
        assert_eq!(letters(26), "z");
        assert_eq!(letters(27), "aa");
        assert_eq!(letters(0), "a");
        assert_eq!(roman(1), "i");
        assert_eq!(roman(4), "iv");
        assert_eq!(roman(9), "ix");
        assert_eq!(roman(14), "xiv");
    }
}

#[cfg(test)]
mod own_tests {
    use super::{block_texts, own_blocks};
    use crate::document::Document;

    /// Markdown through the markup (and so its typography), with `own` as the reader's text.
    fn doc(markdown: &str, own: &[&str]) -> Document {
        Document {
            blocks: crate::markup::parse(markdown, None).unwrap(),
            own_text: own.iter().map(|s| s.to_string()).collect(),
            ..crate::pdf::one_paragraph(Vec::new())
        }
    }

    #[test]
    fn blocks_with_the_readers_text_are_found_through_the_typography() {
        let markdown = "# Agreement between O'Neill & Söhne GmbH and us\n\n\
                        The Customer's staff may write to privacy@oneill.example at any time.\n\n\
                        The Customer keeps its records at Hauptstraße 12, 10115 Berlin.\n\n\
                        Nothing here names them: the customer, privacy, Berlin.\n\n\
                        - a list item\n- naming O'Neill & Söhne GmbH\n";
        let own = [
            "O'Neill & Söhne GmbH",
            "privacy@oneill.example",
            "Hauptstraße 12, 10115 Berlin",
        ];
        let d = doc(markdown, &own);
        // The typography curled the apostrophe and put break opportunities into the
        // address: the strings are not in the text as they were given.
        let mut texts = Vec::new();
        d.blocks.iter().for_each(|b| block_texts(b, &mut texts));
        let text = texts.concat();
        assert!(!text.contains("O'Neill") && !text.contains("privacy@oneill.example"));
        assert_eq!(own_blocks(&d), [true, true, true, false, true]);
        assert_eq!(own_blocks(&doc(markdown, &[])), [false; 5]);
        // Pieces shorter than three bytes are not looked for; nothing left, nothing found.
        assert_eq!(own_blocks(&doc(markdown, &["a b", ""])), [false; 5]);
    }
}
