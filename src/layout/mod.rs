//! Layout: a [`Document`] of blocks becomes pages of positioned glyph runs, rules and fills.
//!
//! In: a [`Document`], the embedded [`Fonts`] and a [`PageSetup`]. Out: [`Page`]s in
//! PDF points with the origin at the top-left corner of the page and `y` growing
//! downwards. Nothing here knows about PDF; `pdf` only serialises what this module
//! placed, so every measurement (line ends, page breaks) can be tested on the pages
//! themselves.
//!
//! The steps: `para` breaks each paragraph into lines (total-fit); `blocks` stacks
//! headings, paragraphs, lists, tables and the signature block into slabs with their
//! keep rules; `paginate` distributes the slabs over pages and adds the footers.
//!
//! Besides the pages, a [`Layout`] carries what a tagged PDF needs and only the layout
//! knows: the logical structure every line belongs to ([`Node`]: headings, paragraphs,
//! lists with their labels, tables, links), the outline (headings and numbered
//! clauses, with their pages) and where the two parties sign ([`SignatureLines`]).
//! A paragraph that starts with a bold clause number ("**6.3** …") hangs that number
//! in a column of its own; lists are lettered (a), (b) and nested (i), (ii).

mod blocks;
mod font;
mod paginate;
mod para;

pub use font::{Face, FaceMetrics, FontError, Fonts, Glyph};

use crate::document::Document;

/// The most pages one document may have: a template that loops by mistake must fail
/// with a message, not write a gigabyte. A real DPA has about ten pages; a 1,000-provider
/// annex about forty.
pub const MAX_PAGES: usize = 2_000;

/// Paper sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Paper {
    /// ISO A4, 210 × 297 mm.
    #[default]
    A4,
    /// US Letter, 8.5 × 11 in.
    Letter,
}

impl Paper {
    /// Width and height in points.
    pub fn size(self) -> (f32, f32) {
        match self {
            Paper::A4 => (595.276, 841.89),
            Paper::Letter => (612.0, 792.0),
        }
    }
}

/// Page margins in points; the footer sits inside the bottom margin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Margins {
    pub top: f32,
    pub right: f32,
    pub bottom: f32,
    pub left: f32,
}

impl Default for Margins {
    fn default() -> Self {
        Margins {
            top: 72.0,
            right: 72.0,
            bottom: 72.0,
            left: 72.0,
        }
    }
}

/// Paper, margins and type size for a document.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PageSetup {
    pub paper: Paper,
    pub margins: Margins,
    /// Body text size in points; headings, tables and footers scale from it.
    pub base_size: f32,
    /// Hyphenate English words (en-US patterns) where that improves the spacing.
    pub hyphenate: bool,
}

impl Default for PageSetup {
    fn default() -> Self {
        PageSetup {
            paper: Paper::A4,
            margins: Margins::default(),
            base_size: 11.0,
            hyphenate: true,
        }
    }
}

/// Why a document could not be laid out.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    #[error("no font has the character U+{:04X} '{ch}' (in \"{context}\")", *ch as u32)]
    MissingGlyph { ch: char, context: String },
    #[error(
        "the page setup leaves no room for text: {width:.1} × {height:.1} pt between the margins"
    )]
    NoRoom { width: f32, height: f32 },
    #[error("the base font size {0} pt is outside 4–36 pt")]
    FontSize(f32),
    #[error(
        "the document would have more than {limit} pages; a template that repeats its content (a loop over the wrong list) is the usual cause"
    )]
    TooManyPages { limit: usize },
}

impl LayoutError {
    /// A line for the user on how to fix the input, when there is one.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            LayoutError::TooManyPages { .. } => {
                Some("check the template's {{#each}} blocks; a DPA has about ten pages")
            }
            _ => None,
        }
    }
}

/// A laid-out document: its pages, the logical structure their text belongs to (for the
/// tagged PDF), the outline, and where the parties sign.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    pub pages: Vec<Page>,
    /// Structure elements in document order; a line's `node` indexes this list.
    pub nodes: Vec<Node>,
    /// Bookmarks: headings and numbered clauses, in order.
    pub outline: Vec<OutlineEntry>,
    /// The signature lines of the signature block, if the document has one.
    pub signatures: Option<SignatureLines>,
    /// The paragraphs ([`Line::para`]) of the blocks that hold the reader's own text
    /// (`Document::own_text`), in order: the PDF writer gives them content streams of
    /// their own.
    pub own: Vec<u32>,
}

impl std::ops::Deref for Layout {
    type Target = Vec<Page>;
    fn deref(&self) -> &Vec<Page> {
        &self.pages
    }
}

impl<'a> IntoIterator for &'a Layout {
    type Item = &'a Page;
    type IntoIter = std::slice::Iter<'a, Page>;
    fn into_iter(self) -> Self::IntoIter {
        self.pages.iter()
    }
}

/// One element of the document's logical structure (PDF 32000-1, 14.8.4).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    /// The enclosing element; `None` for the document's top-level elements.
    pub parent: Option<u32>,
}

/// What a structure element is; the PDF writer names them H1, P, L, LI, Lbl, LBody,
/// Table, TR, TH, TD, Link and Div.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    Heading(u8),
    Paragraph,
    List,
    ListItem,
    Label,
    ListBody,
    Table,
    Row,
    HeaderCell,
    Cell,
    /// A link to a URI (`https://…`, `mailto:…`); its text may span lines.
    Link(String),
    /// A group without a meaning of its own (the signature block, the title block).
    Division,
    /// A form field's widget (the signature fields), added by the PDF writer.
    Form,
}

/// A line that belongs to no structure element: page furniture (footers, repeated table
/// headers) that screen readers skip.
pub const ARTIFACT: u32 = u32::MAX;

/// A bookmark: a heading or a numbered clause, with where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct OutlineEntry {
    /// 1 for the document's top level.
    pub level: u8,
    pub title: String,
    /// Index of the page (from 0).
    pub page: usize,
    /// Top of the entry's first line, from the top of the page.
    pub y: f32,
}

/// Where the vendor and the customer sign: page index and the rectangle above each
/// signature rule (the embedded signature's widgets go there).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SignatureLines {
    pub page: usize,
    pub vendor: Rect,
    pub customer: Rect,
    /// The structure elements of the two parties' columns (the widgets go in them).
    pub vendor_node: u32,
    pub customer_node: u32,
}

/// One line of `text` in the regular face at `size`, made smaller until it fits `width`
/// (the lines of a signature widget's appearance).
pub fn appearance_line(
    text: &str,
    size: f32,
    width: f32,
    fonts: &Fonts,
) -> Result<Line, LayoutError> {
    let mut set = para::set_single(text, crate::document::Style::Regular, size, fonts)?;
    let mut size = size;
    if set.width as f32 > width && set.width > 0.0 {
        size *= width / set.width as f32;
        set = para::set_single(text, crate::document::Style::Regular, size, fonts)?;
    }
    Ok(paginate::footer_line(
        set,
        0.0,
        0.0,
        width,
        size,
        u32::MAX - 3,
    ))
}

/// A rectangle in points; `y` is its top edge, measured from the top of the page.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x: f32,
    pub y: f32,
    pub width: f32,
    pub height: f32,
}

impl Rect {
    pub fn right(&self) -> f32 {
        self.x + self.width
    }

    pub fn bottom(&self) -> f32 {
        self.y + self.height
    }
}

/// One laid-out page.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// 1-based page number.
    pub number: usize,
    pub width: f32,
    pub height: f32,
    /// The area body text may occupy (inside the margins).
    pub text_box: Rect,
    /// The area of the running footer (inside the bottom margin).
    pub footer_box: Rect,
    pub items: Vec<Item>,
    /// The document's watermark, set on one line centred at the origin; the PDF writer
    /// draws it rotated across the middle of the page, as page furniture.
    pub watermark: Option<Line>,
}

/// Something drawn on a page.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Line(Line),
    Rule(Rule),
    Fill(Fill),
}

/// What a line of text is part of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Heading(u8),
    Body,
    /// A list number or bullet, hanging left of its item.
    ListMarker,
    TableHeader {
        table: u32,
    },
    TableCell {
        table: u32,
    },
    Signature,
    Footer,
}

/// One line of text on one baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Left end of the line.
    pub x: f32,
    pub baseline: f32,
    /// Drawn width, including justification.
    pub width: f32,
    /// The width the line was set to (its right limit is `x + measure`).
    pub measure: f32,
    pub size: f32,
    /// Extra space added to each U+0020 on this line, in points.
    pub word_spacing: f32,
    /// Extra space added after every glyph on this line (`Tc`), in points; 0 on all
    /// but the rare line that spaces alone would stretch past 0.5 em.
    pub letter_spacing: f32,
    pub runs: Vec<GlyphRun>,
    pub role: Role,
    /// The structure element (`Layout::nodes`) the line's text belongs to, or [`ARTIFACT`].
    pub node: u32,
    /// Identifies the paragraph (or heading, or cell) the line belongs to.
    pub para: u32,
    /// Position of the line in its paragraph, from 0.
    pub index: u32,
    /// Number of lines of the paragraph.
    pub of: u32,
    /// True when the line was stretched to end at `x + measure`.
    pub justified: bool,
}

impl Line {
    /// Whether the line is page furniture (the running footer, anything outside the
    /// structure tree): marked as an artifact, never as an element's content.
    pub fn is_furniture(&self) -> bool {
        self.node == ARTIFACT || self.role == Role::Footer
    }
}

/// Glyphs of one face, drawn from `x` on the line's baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct GlyphRun {
    pub x: f32,
    pub face: Face,
    pub text: String,
    pub width: f32,
    /// The link element (`Layout::nodes`, a [`NodeKind::Link`]) the glyphs belong to.
    pub link: Option<u32>,
}

/// A straight stroke.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rule {
    pub x1: f32,
    pub y1: f32,
    pub x2: f32,
    pub y2: f32,
    pub thickness: f32,
    /// 0 is black, 1 is white.
    pub gray: f32,
}

/// A filled rectangle (table header shading).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fill {
    pub rect: Rect,
    pub gray: f32,
}

impl Item {
    /// Moves the item by `dy` points down the page.
    fn shift(&mut self, dx: f32, dy: f32) {
        match self {
            Item::Line(l) => {
                l.x += dx;
                l.baseline += dy;
                for r in &mut l.runs {
                    r.x += dx;
                }
            }
            Item::Rule(r) => {
                r.x1 += dx;
                r.x2 += dx;
                r.y1 += dy;
                r.y2 += dy;
            }
            Item::Fill(f) => {
                f.rect.x += dx;
                f.rect.y += dy;
            }
        }
    }
}

/// Lays out `doc` on pages of `setup`, footers included.
pub fn layout(doc: &Document, fonts: &Fonts, setup: &PageSetup) -> Result<Layout, LayoutError> {
    if !(4.0..=36.0).contains(&setup.base_size) {
        return Err(LayoutError::FontSize(setup.base_size));
    }
    let (w, h) = setup.paper.size();
    let m = setup.margins;
    let text_box = Rect {
        x: m.left,
        y: m.top,
        width: w - m.left - m.right,
        height: h - m.top - m.bottom,
    };
    if text_box.width < 8.0 * setup.base_size || text_box.height < 12.0 * setup.base_size {
        return Err(LayoutError::NoRoom {
            width: text_box.width,
            height: text_box.height,
        });
    }
    let slabs = blocks::build(doc, fonts, setup, text_box)?;
    paginate::paginate(slabs, doc, fonts, setup, text_box)
}
