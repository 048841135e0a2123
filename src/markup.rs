//! Markup: Markdown text -> document blocks.
//!
//! In: the Markdown the template rendered, and the signature block to place where the
//! template asks for it. Out: `document` blocks for the layout engine.
//!
//! What is understood (CommonMark with tables, via pulldown-cmark):
//! - headings (levels 4 to 6 are set as level 3), paragraphs, bold, italic and both;
//! - links print their text, followed by the address in parentheses when the address is
//!   not the text itself (a printed contract cannot be clicked);
//! - ordered and bulleted lists, nested at most two levels;
//! - tables with a header row;
//! - directives, each an HTML comment alone on its line:
//!   `<!-- pagebreak -->`, `<!-- signatures -->`, and `<!-- widths: 2 1 1 -->` right
//!   before a table (relative column widths, one number per column).
//!
//! Anything else is printed, never interpreted: raw HTML appears as its text, code
//! appears as plain text, block quotes as ordinary paragraphs; thematic breaks (`---`)
//! are dropped. An HTML comment that is not a directive is an error, so a note meant for
//! template authors cannot end up in a contract (write those as `{{!-- … --}}`).

use std::cell::RefCell;
use std::convert::Infallible;
use std::sync::Arc;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use thiserror::Error;

use crate::cache::{self, Memo};

use crate::document::{Block, Cell, List, ListItem, Party, Run, SignatureBlock, Style, Table};

mod pieces;
mod typography;

/// Why the Markdown could not be turned into blocks; lines count in the rendered Markdown.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MarkupError {
    #[error("line {line}: unknown directive `{directive}`")]
    UnknownDirective { line: usize, directive: String },

    #[error("line {line}: {message}")]
    MisplacedDirective { line: usize, message: String },

    #[error("line {line}: the template asks for signatures, but none were given")]
    NoSignatures { line: usize },

    #[error("line {line}: {message}")]
    Widths { line: usize, message: String },

    #[error("line {line}: lists nest at most two levels deep")]
    ListTooDeep { line: usize },
}

impl MarkupError {
    /// A line for the user on how to fix the template, when there is one.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            MarkupError::UnknownDirective { .. } => Some(
                "directives are <!-- pagebreak -->, <!-- signatures --> and <!-- widths: 2 1 1 -->; write notes as {{!-- … --}}",
            ),
            MarkupError::MisplacedDirective { .. } => {
                Some("put the directive alone on its own line, outside lists and tables")
            }
            MarkupError::Widths { .. } => {
                Some("write one positive number per column, directly above the table")
            }
            _ => None,
        }
    }
}

/// Parses Markdown into blocks; `signatures` fills the `<!-- signatures -->` directive.
///
/// With the memo tables on, the pieces of Markdown that every document repeats are turned
/// into blocks once per thread (see `pieces`), from the thread's second document on; the
/// blocks are the same either way.
pub fn parse(
    markdown: &str,
    signatures: Option<&SignatureBlock>,
) -> Result<Vec<Block>, MarkupError> {
    if cache::enabled()
        && pieces::warm()
        && let Some(blocks) = pieces::parse(markdown, signatures)
    {
        return Ok(blocks);
    }
    parse_whole(markdown, signatures)
}

/// The options every parse uses: the memoised pieces rely on there being no others.
const OPTIONS: Options = Options::ENABLE_TABLES;

/// Parses the whole of `markdown` in one pass, with the line of every error.
fn parse_whole(
    markdown: &str,
    signatures: Option<&SignatureBlock>,
) -> Result<Vec<Block>, MarkupError> {
    // memchr's vector search: `match_indices` cost ~0.6 M instructions on a DPA.
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(memchr::memchr_iter(b'\n', markdown.as_bytes()).map(|i| i + 1))
        .collect();
    let mut b = Builder::new(signatures);
    for (event, range) in Parser::new_ext(markdown, OPTIONS).into_offset_iter() {
        b.line = line_of(&line_starts, range.start);
        b.event(event)?;
    }
    if let Some((_, line)) = b.widths.take() {
        return Err(widths_without_table(line));
    }
    b.flush_inline();
    Ok(b.root)
}

fn line_of(line_starts: &[usize], offset: usize) -> usize {
    line_starts.partition_point(|&s| s <= offset).max(1)
}

fn widths_without_table(line: usize) -> MarkupError {
    MarkupError::Widths {
        line,
        message: "a widths directive must be followed directly by a table".to_string(),
    }
}

/// What an open run of inline text will become.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InlineKind {
    Paragraph,
    Heading(u8),
    Cell,
}

#[derive(Debug)]
struct Inline {
    kind: InlineKind,
    runs: Vec<Run>,
}

#[derive(Debug, Default)]
struct TableBuilder {
    header: Vec<Cell>,
    rows: Vec<Vec<Cell>>,
    row: Vec<Cell>,
    widths: Option<(Vec<f32>, usize)>,
}

/// A container of blocks that is still open.
#[derive(Debug)]
enum Open {
    List {
        start: Option<u64>,
        items: Vec<ListItem>,
    },
    Item(Vec<Block>),
}

struct Builder<'s> {
    signatures: Option<&'s SignatureBlock>,
    /// The line of the event being read, for errors (0 where nobody reads them).
    line: usize,
    root: Vec<Block>,
    open: Vec<Open>,
    inline: Option<Inline>,
    bold: usize,
    italic: usize,
    /// For each open link: its address and where its text starts in the current runs.
    links: Vec<(String, usize)>,
    table: Option<TableBuilder>,
    /// A widths directive waiting for its table, with its line.
    widths: Option<(Vec<f32>, usize)>,
    html: Option<String>,
    code: Option<String>,
}

impl<'s> Builder<'s> {
    fn new(signatures: Option<&'s SignatureBlock>) -> Self {
        Builder {
            signatures,
            line: 1,
            root: Vec::new(),
            open: Vec::new(),
            inline: None,
            bold: 0,
            italic: 0,
            links: Vec::new(),
            table: None,
            widths: None,
            html: None,
            code: None,
        }
    }

    /// Whether nothing is open: no container, text, table, link, emphasis or directive
    /// waiting, as between two top-level blocks.
    fn at_rest(&self) -> bool {
        self.open.is_empty()
            && self.inline.is_none()
            && self.table.is_none()
            && self.widths.is_none()
            && self.html.is_none()
            && self.code.is_none()
            && self.links.is_empty()
            && self.bold == 0
            && self.italic == 0
    }

    fn style(&self) -> Style {
        Style::with(self.bold > 0, self.italic > 0)
    }

    fn event(&mut self, event: Event<'_>) -> Result<(), MarkupError> {
        match event {
            Event::Start(tag) => self.start(tag)?,
            Event::End(tag) => self.end(tag)?,
            Event::Text(text) => {
                if let Some(code) = &mut self.code {
                    code.push_str(&text);
                } else {
                    let curly = typography::quotes(&text, self.last_char());
                    self.text(&curly);
                }
            }
            // Code keeps its straight quotes: it is quoted to be typed as it is.
            Event::Code(text) | Event::InlineMath(text) | Event::DisplayMath(text) => {
                if let Some(code) = &mut self.code {
                    code.push_str(&text);
                } else {
                    self.text(&text);
                }
            }
            Event::Html(text) => match &mut self.html {
                Some(html) => html.push_str(&text),
                None => self.text(&text),
            },
            // Inline HTML (and a directive written inside a paragraph) prints as text.
            Event::InlineHtml(text) => self.text(&text),
            Event::SoftBreak => self.text(" "),
            // A hard break ends the line; the layout keeps it as a ragged line end.
            Event::HardBreak => self.text("\n"),
            Event::FootnoteReference(label) => self.text(&format!("[^{label}]")),
            Event::TaskListMarker(done) => self.text(if done { "[x] " } else { "[ ] " }),
            Event::Rule => self.flush_inline(),
        }
        Ok(())
    }

    fn start(&mut self, tag: Tag<'_>) -> Result<(), MarkupError> {
        let is_block = matches!(
            tag,
            Tag::Paragraph
                | Tag::Heading { .. }
                | Tag::List(_)
                | Tag::CodeBlock(_)
                | Tag::BlockQuote(_)
                | Tag::HtmlBlock
        );
        if is_block && let Some((_, line)) = self.widths.take() {
            return Err(widths_without_table(line));
        }
        match tag {
            Tag::Paragraph => self.open_inline(InlineKind::Paragraph),
            Tag::Heading { level, .. } => {
                let level = (level as u8).clamp(1, 3);
                self.open_inline(InlineKind::Heading(level));
            }
            Tag::CodeBlock(_) => {
                self.flush_inline();
                self.code = Some(String::new());
            }
            Tag::HtmlBlock => {
                self.flush_inline();
                self.html = Some(String::new());
            }
            Tag::List(start) => {
                self.flush_inline();
                let depth = self
                    .open
                    .iter()
                    .filter(|o| matches!(o, Open::List { .. }))
                    .count();
                if depth >= 2 {
                    return Err(MarkupError::ListTooDeep { line: self.line });
                }
                self.open.push(Open::List {
                    start,
                    items: Vec::new(),
                });
            }
            Tag::Item => self.open.push(Open::Item(Vec::new())),
            Tag::Table(_) => {
                self.flush_inline();
                self.table = Some(TableBuilder {
                    widths: self.widths.take(),
                    ..TableBuilder::default()
                });
            }
            Tag::TableHead | Tag::TableRow => {
                if let Some(t) = &mut self.table {
                    t.row.clear();
                }
            }
            Tag::TableCell => self.open_inline(InlineKind::Cell),
            Tag::Emphasis => self.italic += 1,
            Tag::Strong => self.bold += 1,
            Tag::Link { dest_url, .. } => {
                let at = self.inline.as_ref().map_or(0, |i| text_len(&i.runs));
                self.links.push((dest_url.to_string(), at));
            }
            // Quotes, footnotes, definitions and images keep only their text.
            _ => {}
        }
        Ok(())
    }

    fn end(&mut self, tag: TagEnd) -> Result<(), MarkupError> {
        match tag {
            TagEnd::Paragraph | TagEnd::Heading(_) => self.flush_inline(),
            TagEnd::CodeBlock => {
                if let Some(code) = self.code.take() {
                    let text = code.split_whitespace().collect::<Vec<_>>().join(" ");
                    if !text.is_empty() {
                        self.push_block(Block::Paragraph(vec![Run::plain(text)]));
                    }
                }
            }
            TagEnd::HtmlBlock => {
                if let Some(html) = self.html.take() {
                    self.html_block(&html)?;
                }
            }
            TagEnd::List(_) => {
                self.flush_inline();
                if let Some(Open::List { start, items }) = self.open.pop() {
                    self.push_block(Block::List(List { start, items }));
                }
            }
            TagEnd::Item => {
                self.flush_inline();
                if let Some(Open::Item(blocks)) = self.open.pop()
                    && let Some(Open::List { items, .. }) = self.open.last_mut()
                {
                    items.push(ListItem { blocks });
                }
            }
            TagEnd::TableCell => {
                let runs = self
                    .inline
                    .take()
                    .map(|i| finish_runs(i.runs))
                    .unwrap_or_default();
                if let Some(t) = &mut self.table {
                    t.row.push(runs);
                }
            }
            TagEnd::TableHead => {
                if let Some(t) = &mut self.table {
                    t.header = std::mem::take(&mut t.row);
                }
            }
            TagEnd::TableRow => {
                if let Some(t) = &mut self.table {
                    let row = std::mem::take(&mut t.row);
                    t.rows.push(row);
                }
            }
            TagEnd::Table => {
                if let Some(t) = self.table.take() {
                    let width_hints = match t.widths {
                        None => Vec::new(),
                        Some((w, line)) if w.len() != t.header.len() => {
                            return Err(MarkupError::Widths {
                                line,
                                message: format!(
                                    "{} widths given for a table of {} columns",
                                    w.len(),
                                    t.header.len()
                                ),
                            });
                        }
                        Some((w, _)) => w.into_iter().map(Some).collect(),
                    };
                    self.push_block(Block::Table(Table {
                        header: t.header,
                        rows: t.rows,
                        width_hints,
                    }));
                }
            }
            TagEnd::Emphasis => self.italic = self.italic.saturating_sub(1),
            TagEnd::Strong => self.bold = self.bold.saturating_sub(1),
            TagEnd::Link => {
                if let Some((dest, at)) = self.links.pop() {
                    let shown = self
                        .inline
                        .as_ref()
                        .map(|i| text_from(&i.runs, at))
                        .unwrap_or_default();
                    let bare = dest.strip_prefix("mailto:").unwrap_or(&dest);
                    if !dest.is_empty() && !dest.starts_with('#') && shown.trim() != bare {
                        let style = self.style();
                        let link = Some(dest.clone());
                        self.push_text(&format!(" ({bare})"), style, link);
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn html_block(&mut self, html: &str) -> Result<(), MarkupError> {
        let trimmed = html.trim();
        let Some(inner) = trimmed
            .strip_prefix("<!--")
            .and_then(|r| r.strip_suffix("-->"))
            .filter(|inner| !inner.contains("-->"))
        else {
            if trimmed.starts_with("<!--") {
                return Err(MarkupError::MisplacedDirective {
                    line: self.line,
                    message: "a directive comment must stand alone on its line".to_string(),
                });
            }
            // Raw HTML is shown as the text it is.
            let text = trimmed.split_whitespace().collect::<Vec<_>>().join(" ");
            self.push_block(Block::Paragraph(vec![Run::plain(text)]));
            return Ok(());
        };
        let directive = inner.trim();
        let at_root = self.open.is_empty();
        let misplaced = |what: &str| MarkupError::MisplacedDirective {
            line: self.line,
            message: format!("`{what}` must stand at the top level, not inside a list"),
        };
        if directive == "pagebreak" {
            if !at_root {
                return Err(misplaced(directive));
            }
            self.root.push(Block::PageBreak);
        } else if directive == "signatures" {
            if !at_root {
                return Err(misplaced(directive));
            }
            let block = self
                .signatures
                .ok_or(MarkupError::NoSignatures { line: self.line })?;
            self.root
                .push(Block::Signatures(Box::new(signature_text(block))));
        } else if let Some(numbers) = directive.strip_prefix("widths:") {
            let mut widths = Vec::new();
            for word in numbers.split_whitespace() {
                match word.parse::<f32>() {
                    Ok(w) if w.is_finite() && w > 0.0 => widths.push(w),
                    _ => {
                        return Err(MarkupError::Widths {
                            line: self.line,
                            message: format!("`{word}` is not a positive number"),
                        });
                    }
                }
            }
            if widths.is_empty() {
                return Err(MarkupError::Widths {
                    line: self.line,
                    message: "no widths given".to_string(),
                });
            }
            self.widths = Some((widths, self.line));
        } else {
            return Err(MarkupError::UnknownDirective {
                line: self.line,
                directive: directive.to_string(),
            });
        }
        Ok(())
    }

    fn open_inline(&mut self, kind: InlineKind) {
        self.flush_inline();
        self.inline = Some(Inline {
            kind,
            runs: Vec::new(),
        });
    }

    fn text(&mut self, text: &str) {
        let style = self.style();
        // Text inside a link is the link's, except internal anchors (`#…`).
        let link = self
            .links
            .last()
            .map(|(dest, _)| dest.clone())
            .filter(|d| !d.is_empty() && !d.starts_with('#'));
        self.push_text(text, style, link);
    }

    /// The last character of the open inline text, for the direction of a quote.
    fn last_char(&self) -> Option<char> {
        self.inline
            .as_ref()
            .and_then(|i| i.runs.last())
            .and_then(|r| r.text.chars().last())
    }

    fn push_text(&mut self, text: &str, style: Style, link: Option<String>) {
        // Text outside any paragraph (e.g. in a tight list item) opens one.
        let inline = self.inline.get_or_insert(Inline {
            kind: InlineKind::Paragraph,
            runs: Vec::new(),
        });
        match inline.runs.last_mut() {
            Some(last) if last.style == style && last.link == link => last.text.push_str(text),
            _ => inline.runs.push(Run {
                text: text.to_string(),
                style,
                link,
            }),
        }
    }

    fn flush_inline(&mut self) {
        let Some(inline) = self.inline.take() else {
            return;
        };
        let runs = finish_runs(inline.runs);
        if runs.is_empty() {
            return;
        }
        let block = match inline.kind {
            InlineKind::Heading(level) => Block::Heading { level, runs },
            InlineKind::Paragraph | InlineKind::Cell => Block::Paragraph(runs),
        };
        self.push_block(block);
    }

    fn push_block(&mut self, block: Block) {
        match self.open.last_mut() {
            Some(Open::Item(blocks)) => blocks.push(block),
            // A list's own text always sits in an item; anything else goes to the top.
            _ => self.root.push(block),
        }
    }
}

fn text_len(runs: &[Run]) -> usize {
    runs.iter().map(|r| r.text.len()).sum()
}

fn text_from(runs: &[Run], at: usize) -> String {
    let all: String = runs.iter().map(|r| r.text.as_str()).collect();
    all.get(at..).unwrap_or_default().to_string()
}

// Finished runs of the paragraphs, headings and cells that `pieces` does not hold (a
// handful per document); 512 is room for a document's 400 should it parse whole.
const FINISHED_CAPACITY: usize = 512;

thread_local! {
    static FINISHED: RefCell<Memo<Vec<Run>, Arc<Vec<Run>>>> =
        RefCell::new(Memo::new(FINISHED_CAPACITY));
}

/// Collapses runs of spaces, trims both ends, drops empty runs and applies the inline
/// typography; memoised per thread on the runs (a pure function of them).
fn finish_runs(runs: Vec<Run>) -> Vec<Run> {
    if !cache::enabled() {
        return finish_runs_uncached(runs);
    }
    let Ok(done) = cache::memoised(&FINISHED, runs, |runs| {
        Ok::<_, Infallible>(Arc::new(finish_runs_uncached(runs.clone())))
    });
    Arc::unwrap_or_clone(done)
}

fn finish_runs_uncached(runs: Vec<Run>) -> Vec<Run> {
    let mut out: Vec<Run> = Vec::with_capacity(runs.len());
    let mut last_space = true;
    for run in runs {
        // Most runs are ASCII with single spaces and nothing to collapse: kept as they are.
        let bytes = run.text.as_bytes();
        let unchanged = run.text.is_ascii()
            && !bytes
                .iter()
                .any(|&b| matches!(b, b'\t' | b'\n' | 0x0B | 0x0C | b'\r'))
            && memchr::memmem::find(bytes, b"  ").is_none()
            && !(last_space && bytes.first() == Some(&b' '));
        let text = if unchanged {
            if let Some(&b) = bytes.last() {
                last_space = b == b' ';
            }
            run.text
        } else {
            collapse(&run.text, &mut last_space)
        };
        if text.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some(prev) if prev.style == run.style && prev.link == run.link => {
                prev.text.push_str(&text)
            }
            _ => out.push(Run {
                text,
                style: run.style,
                link: run.link,
            }),
        }
    }
    if let Some(last) = out.last_mut() {
        let trimmed = last.text.trim_end().len();
        last.text.truncate(trimmed);
        if last.text.is_empty() {
            out.pop();
        }
    }
    typography::finish(out)
}

/// `text` with each run of breaking spaces made one space (none after a space, as
/// `last_space` says the text before it ended) and the spaces before a line break
/// dropped; `last_space` is left as the text ends.
fn collapse(text: &str, last_space: &mut bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\n' {
            // A hard line break swallows the spaces around it.
            while out.ends_with(' ') {
                out.pop();
            }
            out.push('\n');
            *last_space = true;
            continue;
        }
        let space = crate::template::is_breaking_space(c);
        if space {
            if !*last_space {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
        *last_space = space;
    }
    out
}

/// The signature block with its lines set like running text: key ids in groups, the
/// spaces of dates and references bound.
fn signature_text(block: &SignatureBlock) -> SignatureBlock {
    let party = |p: &Party| Party {
        caption: typography::finish_text(&p.caption),
        organisation: typography::finish_text(&p.organisation),
        name: p.name.as_deref().map(typography::finish_text),
        title: p.title.as_deref().map(typography::finish_text),
        date: p.date.as_deref().map(typography::finish_text),
        signed: p.signed.as_deref().map(typography::finish_text),
    };
    SignatureBlock {
        vendor: party(&block.vendor),
        customer: party(&block.customer),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Party;
    use crate::template::escape_markdown;

    fn plain(text: &str) -> Run {
        Run::plain(text)
    }

    fn styled(text: &str, style: Style) -> Run {
        Run::styled(text, style)
    }

    fn blocks(md: &str) -> Vec<Block> {
        parse(md, None).unwrap()
    }

    #[test]
    fn memoised_runs_match_the_uncached_parse() {
        // The same words in other styles, links, blocks and quote contexts, parsed one
        // after the other with the table on: a key that missed a difference would hand
        // one document another's runs.
        let docs = [
            "The \"Processor\" shall *notify* the Controller within 24 hours.",
            "The \"Processor\" shall **notify** the Controller within 24 hours.",
            "The \"Processor\" shall notify the Controller within 24 hours.",
            "The 'Processor' shall notify the Controller within 24 hours.",
            "The \"Processor\" shall [notify](https://a.example/x) the Controller.",
            "The \"Processor\" shall [notify](https://b.example/x) the Controller.",
            "# The \"Processor\" shall notify the Controller within 24 hours.",
            "| a |\n|---|\n| The \"Processor\" shall notify the Controller within 24 hours. |",
            "- The \"Processor\" shall notify the Controller within  24 hours.",
            "See https://example.com/dpa or key 4A988A749CF5D816 under clause 5.",
        ];
        cache::set_enabled(Some(true));
        let cached: Vec<Vec<Block>> = docs.iter().chain(&docs).map(|d| blocks(d)).collect();
        cache::set_enabled(Some(false));
        let uncached: Vec<Vec<Block>> = docs.iter().chain(&docs).map(|d| blocks(d)).collect();
        cache::set_enabled(None);
        assert_eq!(cached, uncached);
    }

    /// A signature block with `customer` as the controller (also for `pieces`' tests).
    pub(super) fn signatures_for(customer: &str) -> SignatureBlock {
        let party = |caption: &str, org: &str| Party {
            caption: caption.into(),
            organisation: org.into(),
            name: None,
            title: None,
            date: None,
            signed: None,
        };
        SignatureBlock {
            vendor: party("For the Processor", "V Ltd"),
            customer: party("For the Controller", customer),
        }
    }

    fn signatures() -> SignatureBlock {
        signatures_for("C GmbH")
    }

    #[test]
    fn headings_and_styled_paragraphs() {
        let md = "# One\n\n## Two *it*\n\n#### Four\n\nPlain **bold** *italic* ***both*** `code` end.\nNext line.\n";
        assert_eq!(
            blocks(md),
            vec![
                Block::Heading {
                    level: 1,
                    runs: vec![plain("One")]
                },
                Block::Heading {
                    level: 2,
                    runs: vec![plain("Two "), styled("it", Style::Italic)]
                },
                Block::Heading {
                    level: 3,
                    runs: vec![plain("Four")]
                },
                Block::Paragraph(vec![
                    plain("Plain "),
                    styled("bold", Style::Bold),
                    plain(" "),
                    styled("italic", Style::Italic),
                    plain(" "),
                    styled("both", Style::BoldItalic),
                    plain(" code end. Next line."),
                ]),
            ]
        );
    }

    #[test]
    fn lists_nest_two_levels() {
        let md = "3. First\n4. Second\n   - sub a\n   - sub b\n\n- bullet\n";
        let expected = vec![
            Block::List(List {
                start: Some(3),
                items: vec![
                    ListItem {
                        blocks: vec![Block::Paragraph(vec![plain("First")])],
                    },
                    ListItem {
                        blocks: vec![
                            Block::Paragraph(vec![plain("Second")]),
                            Block::List(List {
                                start: None,
                                items: vec![
                                    ListItem {
                                        blocks: vec![Block::Paragraph(vec![plain("sub a")])],
                                    },
                                    ListItem {
                                        blocks: vec![Block::Paragraph(vec![plain("sub b")])],
                                    },
                                ],
                            }),
                        ],
                    },
                ],
            }),
            Block::List(List {
                start: None,
                items: vec![ListItem {
                    blocks: vec![Block::Paragraph(vec![plain("bullet")])],
                }],
            }),
        ];
        assert_eq!(blocks(md), expected);
        let deep = "1. a\n   - b\n     - c\n";
        assert_eq!(parse(deep, None), Err(MarkupError::ListTooDeep { line: 3 }));
    }

    #[test]
    fn tables_with_width_hints() {
        let md = "Intro\n\n<!-- widths: 2 1 1.5 -->\n| Name | Where | **Certs** |\n|---|---|---|\n| Host *Inc* | DE | SOC 2 |\n| Mail | US | |\n";
        let b = blocks(md);
        assert_eq!(b.len(), 2);
        let Block::Table(t) = &b[1] else {
            panic!("{b:?}")
        };
        assert_eq!(
            t.header,
            vec![
                vec![plain("Name")],
                vec![plain("Where")],
                vec![styled("Certs", Style::Bold)]
            ]
        );
        assert_eq!(t.rows.len(), 2);
        assert_eq!(
            t.rows[0][0],
            vec![plain("Host "), styled("Inc", Style::Italic)]
        );
        assert_eq!(t.rows[1][2], Vec::<Run>::new());
        assert_eq!(t.width_hints, vec![Some(2.0), Some(1.0), Some(1.5)]);

        let no_hints = blocks("| a | b |\n|---|---|\n| 1 | 2 |\n");
        let Block::Table(t) = &no_hints[0] else {
            panic!()
        };
        assert!(t.width_hints.is_empty());

        let wrong = "<!-- widths: 1 1 -->\n| a | b | c |\n|---|---|---|\n";
        assert!(matches!(
            parse(wrong, None),
            Err(MarkupError::Widths { line: 1, .. })
        ));
        let dangling = "<!-- widths: 1 1 -->\n\nA paragraph.\n";
        assert!(matches!(
            parse(dangling, None),
            Err(MarkupError::Widths { line: 1, .. })
        ));
        let bad = "<!-- widths: 1 x -->\n| a | b |\n|---|---|\n";
        assert!(matches!(parse(bad, None), Err(MarkupError::Widths { .. })));
    }

    #[test]
    fn directives() {
        let sig = signatures();
        let md = "Text\n\n<!-- pagebreak -->\n\n## Signatures\n\n<!--signatures-->\n";
        let b = parse(md, Some(&sig)).unwrap();
        assert_eq!(b[1], Block::PageBreak);
        assert_eq!(b[3], Block::Signatures(Box::new(sig)));
        assert_eq!(parse(md, None), Err(MarkupError::NoSignatures { line: 7 }));
        let unknown = "a\n\n<!-- TODO: check clause 4 -->\n";
        assert_eq!(
            parse(unknown, None),
            Err(MarkupError::UnknownDirective {
                line: 3,
                directive: "TODO: check clause 4".into()
            })
        );
        let in_list = "- item\n\n  <!-- pagebreak -->\n";
        assert!(matches!(
            parse(in_list, None),
            Err(MarkupError::MisplacedDirective { .. })
        ));
    }

    #[test]
    fn raw_html_is_printed_not_interpreted() {
        assert_eq!(
            blocks("<div>Hi <b>there</b></div>\n"),
            vec![Block::Paragraph(vec![plain("<div>Hi <b>there</b></div>")])]
        );
        assert_eq!(
            blocks("A <b>bold</b> claim\n"),
            vec![Block::Paragraph(vec![plain("A <b>bold</b> claim")])]
        );
    }

    #[test]
    fn links_show_their_address() {
        let b = blocks(
            "See [Stripe](https://stripe.com) and <https://x.example> or [mail](mailto:a@b.example) or [a@b.example](mailto:a@b.example).\n",
        );
        let [Block::Paragraph(runs)] = b.as_slice() else {
            panic!("{b:?}")
        };
        assert_eq!(
            text_of(runs),
            "See Stripe (https://stripe.com) and https://x.example or mail (a@b.example) or a@b.example."
        );
        let links: Vec<(String, &str)> = runs
            .iter()
            .filter_map(|r| Some((visible(&r.text), r.link.as_deref()?)))
            .collect();
        assert_eq!(
            links,
            [
                (
                    "Stripe (https://stripe.com)".to_string(),
                    "https://stripe.com"
                ),
                ("https://x.example".to_string(), "https://x.example"),
                ("mail (a@b.example)".to_string(), "mailto:a@b.example"),
                ("a@b.example".to_string(), "mailto:a@b.example"),
            ]
        );
    }

    /// The text as a reader sees it: without the invisible break marks.
    fn visible(text: &str) -> String {
        text.chars()
            .filter(|c| !matches!(c, '\u{200B}' | '\u{2060}'))
            .collect()
    }

    /// The runs' text as a reader sees it, with typographic quotes read as straight ones.
    fn text_of(runs: &[Run]) -> String {
        runs.iter()
            .map(|r| visible(&r.text))
            .collect::<String>()
            .replace(['“', '”'], "\"")
            .replace(['‘', '’'], "'")
    }

    /// Every place a template may put a value: the value must come out as the same text.
    fn check_literal(value: &str) {
        let expected = value.split_whitespace().collect::<Vec<_>>().join(" ");
        let e = escape_markdown(value);
        let md = format!(
            "# Title {e}\n\nThe customer {e} agrees.\n{e}\n\n- {e}\n\n1. x {e}\n\n| Name | Value |\n|---|---|\n| {e} | {e} |\n\n**Bold {e}.**\n"
        );
        let b = parse(&md, None).unwrap();
        let with = |prefix: &str| {
            if expected.is_empty() {
                prefix.trim_end().to_string()
            } else {
                format!("{prefix}{expected}")
            }
        };
        assert_eq!(b.len(), 6, "{value:?} -> {md}\n{b:?}");
        let Block::Heading { level: 1, runs } = &b[0] else {
            panic!("{b:?}")
        };
        assert_eq!(text_of(runs), with("Title "));
        let Block::Paragraph(runs) = &b[1] else {
            panic!("{b:?}")
        };
        let mut para = format!("The customer {expected} agrees. {expected}");
        if expected.is_empty() {
            para = "The customer agrees.".into();
        }
        assert_eq!(text_of(runs), para, "{value:?}");
        assert!(
            runs.iter().all(|r| r.style == Style::Regular),
            "{value:?}: {runs:?}"
        );
        let Block::List(List { start: None, items }) = &b[2] else {
            panic!("{b:?}")
        };
        assert_eq!(items.len(), 1);
        let Block::List(List { start: Some(1), .. }) = &b[3] else {
            panic!("{b:?}")
        };
        let Block::Table(t) = &b[4] else {
            panic!("{value:?}: {b:?}")
        };
        assert_eq!(t.rows.len(), 1);
        assert_eq!(t.rows[0].len(), 2);
        assert_eq!(text_of(&t.rows[0][0]), expected);
        assert_eq!(text_of(&t.rows[0][1]), expected);
        let Block::Paragraph(runs) = &b[5] else {
            panic!("{b:?}")
        };
        assert!(
            runs.iter().all(|r| r.style == Style::Bold),
            "{value:?}: {runs:?}"
        );
    }

    #[test]
    fn escaped_values_print_literally_everywhere() {
        for value in [
            "**Acme** | {{vendor.legal_name}} # <b>",
            "Müller & Söhne GmbH",
            "1. not a list",
            "- not a bullet",
            "> not a quote",
            "# not a heading",
            "line one\n\n# line two\n---\n| a | b |",
            "===",
            "<!-- pagebreak -->",
            "[link](http://x) ![img](y) `code` ~~s~~ _u_ \\ &amp; &#42;",
            "   four spaces\tand a tab",
            "a  *b*  c",
        ] {
            check_literal(value);
        }
    }

    proptest::proptest! {
        #[test]
        fn any_printable_value_prints_literally(value in "[ -~äöüßłśčř\n]{0,40}") {
            check_literal(&value);
        }
    }
}
