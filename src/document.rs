//! The document model: blocks of styled text, independent of Markdown and of DPAs.
//!
//! `markup` produces a [`Document`] from Markdown; `layout` turns it into pages;
//! `pdf` serialises the pages. Nothing here knows about fonts or positions.

use chrono::NaiveDate;

/// A whole document: its blocks, its running footer and its metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub meta: Metadata,
    pub blocks: Vec<Block>,
    /// Text printed in every page footer beside "Page N of M".
    pub footer: String,
    /// Files embedded in the PDF (e.g. the annex as JSON), in this order.
    pub attachments: Vec<Attachment>,
    /// The language of the text as a BCP 47 tag (`en`, `en-GB`), for screen readers
    /// and hyphenation; `None` is English.
    pub lang: Option<String>,
    /// A mark drawn across every page (e.g. "SPECIMEN – not binding"), outside the text.
    pub watermark: Option<String>,
    /// What the text says about its one reader alone (a customer's name, address,
    /// e-mail, id): the paragraphs of a top-level block that holds any of it are
    /// written as content streams of their own, so the rest of their page is the same
    /// stream for every customer of a batch and is compressed once. It decides only
    /// where a page's content is cut into streams, never what is drawn; empty, each page
    /// is one stream.
    pub own_text: Vec<String>,
}

/// A file carried inside the PDF, listed in its EmbeddedFiles name tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The file name shown by PDF readers, e.g. `annex.json`.
    pub name: String,
    /// MIME type, e.g. `application/json`.
    pub mime: String,
    pub description: String,
    pub data: Vec<u8>,
}

/// What the PDF's Info dictionary says about the document; never read from the clock.
#[derive(Debug, Clone, PartialEq)]
pub struct Metadata {
    pub title: String,
    pub author: String,
    pub subject: String,
    pub keywords: Vec<String>,
    /// Creation and modification date of the PDF (midnight UTC of this day).
    pub date: NaiveDate,
}

/// One block-level element, in reading order.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A heading; `level` is 1, 2 or 3.
    Heading {
        level: u8,
        runs: Vec<Run>,
    },
    /// A paragraph of inline runs, justified with a ragged last line.
    Paragraph(Vec<Run>),
    List(List),
    Table(Table),
    /// Start the next block on a new page.
    PageBreak,
    /// The two-party signature block.
    Signatures(Box<SignatureBlock>),
}

/// A piece of text in one style, optionally the text of a link.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Run {
    pub text: String,
    pub style: Style,
    /// Where the text links to (`https://…` or `mailto:…`), if it is a link.
    pub link: Option<String>,
}

impl Run {
    /// A run in the regular style.
    pub fn plain(text: impl Into<String>) -> Self {
        Run {
            text: text.into(),
            style: Style::Regular,
            link: None,
        }
    }

    /// A run in the given style.
    pub fn styled(text: impl Into<String>, style: Style) -> Self {
        Run {
            text: text.into(),
            style,
            link: None,
        }
    }

    /// A run in the given style that links to `target`.
    pub fn linked(text: impl Into<String>, style: Style, target: impl Into<String>) -> Self {
        Run {
            text: text.into(),
            style,
            link: Some(target.into()),
        }
    }
}

/// The four faces of the serif family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Style {
    #[default]
    Regular,
    Bold,
    Italic,
    BoldItalic,
}

impl Style {
    /// The style with bold and italic switched on or off.
    pub fn with(bold: bool, italic: bool) -> Self {
        match (bold, italic) {
            (false, false) => Style::Regular,
            (true, false) => Style::Bold,
            (false, true) => Style::Italic,
            (true, true) => Style::BoldItalic,
        }
    }

    pub fn is_bold(self) -> bool {
        matches!(self, Style::Bold | Style::BoldItalic)
    }

    pub fn is_italic(self) -> bool {
        matches!(self, Style::Italic | Style::BoldItalic)
    }
}

/// An ordered or bulleted list; items may hold nested lists (two levels are laid out).
#[derive(Debug, Clone, PartialEq)]
pub struct List {
    /// `Some(n)`: lettered from the n-th letter ((a) (b) (c) at level one, (i) (ii) (iii)
    /// at level two), so that "clause 1.1(c)(ii)" can be cited; `None`: bullets.
    pub start: Option<u64>,
    pub items: Vec<ListItem>,
}

/// One list item: its paragraphs and nested lists.
#[derive(Debug, Clone, PartialEq)]
pub struct ListItem {
    pub blocks: Vec<Block>,
}

/// A table with one header row that repeats on every page the table spans.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub header: Vec<Cell>,
    pub rows: Vec<Vec<Cell>>,
    /// Optional relative width per column (e.g. `[Some(2.0), None, Some(1.0)]`); empty: all from content.
    pub width_hints: Vec<Option<f32>>,
}

/// The content of one table cell.
pub type Cell = Vec<Run>;

/// The vendor's pre-filled signature and the customer's blank one, side by side.
#[derive(Debug, Clone, PartialEq)]
pub struct SignatureBlock {
    pub vendor: Party,
    pub customer: Party,
}

/// One side of the signature block.
#[derive(Debug, Clone, PartialEq)]
pub struct Party {
    /// The caption, e.g. "For the Processor".
    pub caption: String,
    /// The organisation's legal name.
    pub organisation: String,
    /// Filled in when known (vendor); `None` leaves a blank line to write on.
    pub name: Option<String>,
    pub title: Option<String>,
    pub date: Option<String>,
    /// E.g. "Signed electronically — key 3F2A 19C0 …"; `None` leaves a line for a hand signature.
    pub signed: Option<String>,
}
