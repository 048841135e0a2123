//! Reading an HTML page into the importer's blocks, with html5ever (the HTML5 parsing
//! algorithm browsers use, so unclosed tags, implied `<tbody>` and stray markup come out
//! as a browser would show them).
//!
//! In: the page's text. Out: a [`Page`] of headings, text lines and tables, each with the
//! source line of its element, in the same shape the Markdown reader gives, so one walk
//! reads both. Navigation, headers and footers of the site, scripts, styles, forms,
//! iframes and hidden elements are left out; links become Markdown links, so the walk keeps
//! their targets as websites; entities are decoded and whitespace collapsed by the parser.
//!
//! html5ever builds the tree through a [`TreeSink`] we provide: a small arena that also
//! records the line of every element (no published sink keeps lines) and stops a page that
//! nests elements absurdly deep before the tree builder's per-tag scope checks make it slow.

use std::borrow::Cow;
use std::cell::{Cell, Ref, RefCell};

use html5ever::interface::{ElementFlags, NodeOrText, QuirksMode, TreeSink};
use html5ever::tendril::{StrTendril, TendrilSink};
use html5ever::{Attribute, QualName, local_name, ns, parse_document};

use super::Warning;
use super::fields::map_label;
use super::inline::inline;
use super::page::{Block, Page, Table};

/// Elements nested deeper than this end the import: no page a person reads comes close.
pub(super) const MAX_DEPTH: usize = 256;
/// More elements than this end the import (a saved subprocessor page has a few thousand).
pub(super) const MAX_NODES: usize = 400_000;
/// Stands for a `<br>` inside a text line until the field it lands in is known.
pub(super) const BREAK: char = '\u{E000}';
/// Separates the items of a list inside a table cell.
pub(super) const ITEM: char = '\u{E001}';

/// Why an HTML page could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum HtmlLimit {
    TooDeep { line: usize },
    TooManyElements { line: usize },
}

/// Whether a page is HTML rather than Markdown or text: it starts (after a byte-order
/// mark, blank lines and comments) with a doctype or an `<html>`, `<head>` or `<body>` tag.
pub(super) fn looks_like_html(text: &str) -> bool {
    let mut t = text.trim_start_matches('\u{feff}').trim_start();
    while let Some(rest) = t.strip_prefix("<!--") {
        match rest.find("-->") {
            Some(end) => t = rest[end + 3..].trim_start(),
            None => return false,
        }
    }
    let head: String = t.chars().take(16).collect::<String>().to_ascii_lowercase();
    ["<!doctype html", "<html", "<head", "<body", "<?xml"]
        .iter()
        .any(|p| head.starts_with(p))
}

// ---------------------------------------------------------------------------------------
// The tree.

#[derive(Debug)]
struct Node {
    name: QualName,
    element: bool,
    /// A comment or processing instruction: shows nothing, joins no text.
    comment: bool,
    text: String,
    attrs: Vec<(String, String)>,
    parent: Option<usize>,
    children: Vec<usize>,
    line: usize,
    depth: usize,
}

#[derive(Debug)]
struct Sink {
    nodes: RefCell<Vec<Node>>,
    templates: RefCell<Vec<(usize, usize)>>,
    line: Cell<usize>,
    stop: Cell<Option<HtmlLimit>>,
}

fn blank_name() -> QualName {
    QualName::new(None, ns!(), local_name!(""))
}

impl Sink {
    fn new() -> Sink {
        Sink {
            nodes: RefCell::new(vec![Node {
                name: blank_name(),
                element: false,
                comment: false,
                text: String::new(),
                attrs: Vec::new(),
                parent: None,
                children: Vec::new(),
                line: 1,
                depth: 0,
            }]),
            templates: RefCell::new(Vec::new()),
            line: Cell::new(1),
            stop: Cell::new(None),
        }
    }

    fn push(
        &self,
        name: QualName,
        element: bool,
        text: String,
        attrs: Vec<(String, String)>,
    ) -> usize {
        let mut nodes = self.nodes.borrow_mut();
        nodes.push(Node {
            name,
            element,
            comment: false,
            text,
            attrs,
            parent: None,
            children: Vec::new(),
            line: self.line.get(),
            depth: 0,
        });
        if nodes.len() > MAX_NODES && self.stop.get().is_none() {
            self.stop.set(Some(HtmlLimit::TooManyElements {
                line: self.line.get(),
            }));
        }
        nodes.len() - 1
    }

    fn attach(&self, parent: usize, child: usize, before: Option<usize>) {
        let mut nodes = self.nodes.borrow_mut();
        let depth = nodes[parent].depth + 1;
        if depth > MAX_DEPTH && self.stop.get().is_none() {
            self.stop.set(Some(HtmlLimit::TooDeep {
                line: self.line.get(),
            }));
        }
        nodes[child].parent = Some(parent);
        nodes[child].depth = depth;
        let children = &mut nodes[parent].children;
        match before.and_then(|b| children.iter().position(|&c| c == b)) {
            Some(i) => children.insert(i, child),
            None => children.push(child),
        }
    }

    fn add_text(&self, parent: usize, text: &str, before: Option<usize>) {
        // Text next to text joins it, as in the DOM.
        {
            let mut nodes = self.nodes.borrow_mut();
            let siblings = &nodes[parent].children;
            let prev = match before.and_then(|b| siblings.iter().position(|&c| c == b)) {
                Some(0) => None,
                Some(i) => Some(siblings[i - 1]),
                None => siblings.last().copied(),
            };
            if let Some(p) = prev
                && !nodes[p].element
                && !nodes[p].comment
            {
                nodes[p].text.push_str(text);
                return;
            }
        }
        let id = self.push(blank_name(), false, text.to_string(), Vec::new());
        self.attach(parent, id, before);
    }

    fn detach(&self, target: usize) {
        let mut nodes = self.nodes.borrow_mut();
        if let Some(p) = nodes[target].parent.take() {
            nodes[p].children.retain(|&c| c != target);
        }
    }
}

impl TreeSink for Sink {
    type Handle = usize;
    type Output = Sink;
    type ElemName<'a> = Ref<'a, QualName>;

    fn finish(self) -> Sink {
        self
    }

    fn parse_error(&self, _msg: Cow<'static, str>) {}

    fn get_document(&self) -> usize {
        0
    }

    fn elem_name<'a>(&'a self, target: &'a usize) -> Ref<'a, QualName> {
        Ref::map(self.nodes.borrow(), |n| &n[*target].name)
    }

    fn create_element(&self, name: QualName, attrs: Vec<Attribute>, flags: ElementFlags) -> usize {
        let attrs = attrs
            .into_iter()
            .map(|a| (a.name.local.to_string(), a.value.to_string()))
            .collect();
        let id = self.push(name, true, String::new(), attrs);
        if flags.template {
            let contents = self.push(blank_name(), false, String::new(), Vec::new());
            self.templates.borrow_mut().push((id, contents));
        }
        id
    }

    fn create_comment(&self, _text: StrTendril) -> usize {
        let id = self.push(blank_name(), false, String::new(), Vec::new());
        self.nodes.borrow_mut()[id].comment = true;
        id
    }

    fn create_pi(&self, text: StrTendril, _data: StrTendril) -> usize {
        self.create_comment(text)
    }

    fn append(&self, parent: &usize, child: NodeOrText<usize>) {
        match child {
            NodeOrText::AppendNode(c) => self.attach(*parent, c, None),
            NodeOrText::AppendText(t) => self.add_text(*parent, &t, None),
        }
    }

    fn append_based_on_parent_node(&self, element: &usize, prev: &usize, child: NodeOrText<usize>) {
        if self.nodes.borrow()[*element].parent.is_some() {
            self.append_before_sibling(element, child);
        } else {
            self.append(prev, child);
        }
    }

    fn append_doctype_to_document(&self, _: StrTendril, _: StrTendril, _: StrTendril) {}

    fn get_template_contents(&self, target: &usize) -> usize {
        let found = self
            .templates
            .borrow()
            .iter()
            .find(|(t, _)| t == target)
            .map(|(_, c)| *c);
        // Only template elements are asked for; any other gets a fresh, unattached node.
        found.unwrap_or_else(|| self.push(blank_name(), false, String::new(), Vec::new()))
    }

    fn same_node(&self, x: &usize, y: &usize) -> bool {
        x == y
    }

    fn set_quirks_mode(&self, _mode: QuirksMode) {}

    fn append_before_sibling(&self, sibling: &usize, new_node: NodeOrText<usize>) {
        let Some(parent) = self.nodes.borrow()[*sibling].parent else {
            return;
        };
        match new_node {
            NodeOrText::AppendNode(c) => {
                self.detach(c);
                self.attach(parent, c, Some(*sibling));
            }
            NodeOrText::AppendText(t) => self.add_text(parent, &t, Some(*sibling)),
        }
    }

    fn add_attrs_if_missing(&self, target: &usize, attrs: Vec<Attribute>) {
        let mut nodes = self.nodes.borrow_mut();
        for a in attrs {
            let name = a.name.local.to_string();
            if !nodes[*target].attrs.iter().any(|(n, _)| *n == name) {
                nodes[*target].attrs.push((name, a.value.to_string()));
            }
        }
    }

    fn remove_from_parent(&self, target: &usize) {
        self.detach(*target);
    }

    fn reparent_children(&self, node: &usize, new_parent: &usize) {
        let children = std::mem::take(&mut self.nodes.borrow_mut()[*node].children);
        for c in children {
            self.nodes.borrow_mut()[c].parent = None;
            self.attach(*new_parent, c, None);
        }
    }

    fn set_current_line(&self, line: u64) {
        self.line.set(usize::try_from(line).unwrap_or(usize::MAX));
    }
}

/// Parses the page, feeding it in pieces so that a page past the limits stops early.
fn parse(text: &str) -> Result<Vec<Node>, HtmlLimit> {
    let sink = Sink::new();
    let mut parser = parse_document(sink, Default::default());
    let mut rest = text;
    while !rest.is_empty() {
        let mut cut = rest.len().min(8 * 1024);
        while !rest.is_char_boundary(cut) {
            cut += 1;
        }
        parser.process(StrTendril::from_slice(&rest[..cut]));
        rest = &rest[cut..];
        if let Some(stop) = parser.tokenizer.sink.sink.stop.take() {
            return Err(stop);
        }
    }
    let sink = parser.finish();
    if let Some(stop) = sink.stop.take() {
        return Err(stop);
    }
    Ok(sink.nodes.into_inner())
}

// ---------------------------------------------------------------------------------------
// The tree to blocks.

/// Reads an HTML page into blocks.
pub(super) fn read(text: &str) -> Result<Page, HtmlLimit> {
    let nodes = parse(text)?;
    let mut r = Reader {
        nodes: &nodes,
        page: Page {
            markdown: true,
            ..Page::default()
        },
        line: String::new(),
        line_no: 1,
        after_break: false,
        quoted: 0,
        level: 1,
        heading_since_table: false,
    };
    r.block(0, false);
    r.flush();
    Ok(r.page)
}

/// A table row: its line, its cells (text, header cell, column span, row span) and whether
/// it is in the table's head.
type Row = (usize, Vec<(String, bool, usize, usize)>, bool);

struct Reader<'a> {
    nodes: &'a [Node],
    page: Page,
    /// The text line being collected (Markdown inline syntax).
    line: String,
    line_no: usize,
    /// The line being collected follows a `<br>` in the same paragraph.
    after_break: bool,
    /// Depth of `<blockquote>`s around the current point.
    quoted: usize,
    /// The level of the last heading, for headings made from `<dt>` and `<caption>`.
    level: usize,
    heading_since_table: bool,
}

fn tag(n: &Node) -> &str {
    if n.element { &n.name.local } else { "" }
}

fn attr<'n>(n: &'n Node, name: &str) -> Option<&'n str> {
    n.attrs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Elements whose content a reader of the list does not see, or that are not the list.
fn skipped(n: &Node, in_content: bool) -> bool {
    let t = tag(n);
    let hidden = attr(n, "hidden").is_some()
        || attr(n, "aria-hidden").is_some_and(|v| v.eq_ignore_ascii_case("true"))
        || attr(n, "style").is_some_and(|s| {
            let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
            s.to_ascii_lowercase().contains("display:none")
        })
        || attr(n, "role").is_some_and(|r| {
            matches!(
                r.to_ascii_lowercase().as_str(),
                "navigation" | "contentinfo" | "banner" | "search" | "complementary" | "dialog"
            )
        });
    hidden
        || matches!(
            t,
            "head"
                | "script"
                | "style"
                | "noscript"
                | "template"
                | "iframe"
                | "frame"
                | "object"
                | "embed"
                | "svg"
                | "math"
                | "canvas"
                | "video"
                | "audio"
                | "nav"
                | "footer"
                | "aside"
                | "form"
                | "button"
                | "select"
                | "textarea"
                | "input"
                | "dialog"
                | "img"
                | "picture"
                | "map"
        )
        // The site's banner; a header inside the article holds its title and date.
        || (t == "header" && !in_content)
}

fn is_block(t: &str) -> bool {
    matches!(
        t,
        "html"
            | "body"
            | "main"
            | "article"
            | "section"
            | "div"
            | "p"
            | "blockquote"
            | "ul"
            | "ol"
            | "li"
            | "dl"
            | "dt"
            | "dd"
            | "pre"
            | "address"
            | "figure"
            | "figcaption"
            | "center"
            | "details"
            | "summary"
            | "header"
            | "hr"
            | "table"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "fieldset"
            | "legend"
            | "tbody"
            | "thead"
            | "tfoot"
            | "tr"
            | "td"
            | "th"
            | "caption"
    )
}

fn heading_level(n: &Node) -> Option<usize> {
    match tag(n) {
        "h1" => Some(1),
        "h2" => Some(2),
        "h3" => Some(3),
        "h4" => Some(4),
        "h5" => Some(5),
        "h6" => Some(6),
        _ if attr(n, "role") == Some("heading") => Some(
            attr(n, "aria-level")
                .and_then(|l| l.parse().ok())
                .unwrap_or(2),
        ),
        _ => None,
    }
}

/// Text made literal for the Markdown inline reader: its special characters escaped.
fn escape(text: &str, out: &mut String) {
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '~' | '[' | ']' | '<' | '>' | '&' | '!' | '|' | '#'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
}

impl<'a> Reader<'a> {
    fn node(&self, id: usize) -> &'a Node {
        &self.nodes[id]
    }

    fn warn(&mut self, line: usize, message: String) {
        self.page.warnings.push(Warning { line, message });
    }

    /// Ends the text line being collected as a block.
    fn flush(&mut self) {
        let text = self.line.trim().to_string();
        self.line.clear();
        if text.is_empty() {
            return;
        }
        let quoted = self.quoted > 0;
        if !quoted && self.page.take_date_or_version(self.line_no, &text) {
            return;
        }
        self.page.blocks.push(Block::Text {
            line: self.line_no,
            raw: text,
            quoted,
            after_break: std::mem::take(&mut self.after_break),
        });
    }

    fn paragraph_end(&mut self) {
        self.flush();
        self.after_break = false;
        if !matches!(self.page.blocks.last(), Some(Block::Blank) | None) {
            self.page.blocks.push(Block::Blank);
        }
    }

    fn start_line(&mut self, line: usize) {
        if self.line.trim().is_empty() {
            self.line_no = line;
        }
    }

    /// Whether a subtree holds something the list may be in (to say so when it is skipped):
    /// a table with a provider-name column, or a definition list.
    fn holds_list(&self, id: usize) -> bool {
        let mut stack = vec![id];
        while let Some(i) = stack.pop() {
            let n = self.node(i);
            let named_table = tag(n) == "table"
                && self.rows(i).first().is_some_and(|(_, cells, _)| {
                    let header: Vec<String> = cells.iter().map(|c| c.0.clone()).collect();
                    super::fields::map_columns(&header).contains(&Some(super::fields::Field::Name))
                });
            if named_table || tag(n) == "dl" {
                return true;
            }
            stack.extend(&n.children);
        }
        false
    }

    /// Reads block content: headings, paragraphs, lists, tables.
    fn block(&mut self, id: usize, in_content: bool) {
        let children = self.node(id).children.clone();
        for c in children {
            let n = self.node(c);
            if !n.element {
                if !n.text.is_empty() {
                    self.start_line(n.line);
                    self.text(&n.text.clone());
                }
                continue;
            }
            let t = tag(n).to_string();
            let line = n.line;
            let content = in_content
                || matches!(t.as_str(), "main" | "article")
                || attr(n, "role") == Some("main");
            if t == "title" {
                let title = self.plain(c);
                if !title.is_empty() {
                    self.page.front_label = Some((line, title));
                }
                continue;
            }
            if t == "head" {
                // Only the title of the head is read.
                self.block(c, content);
                continue;
            }
            if skipped(n, in_content) {
                if t == "iframe" || t == "frame" || t == "object" || t == "embed" {
                    self.warn(line, format!("an embedded page (<{t}>) was not read: import that page itself if it holds the list"));
                } else if self.holds_list(c) {
                    self.warn(line, format!("a table or list inside <{t}> (navigation, site header or footer, sidebar, form or hidden part) was not imported"));
                }
                continue;
            }
            if let Some(level) = heading_level(n) {
                self.flush();
                let raw = self.inline_of(c);
                self.page.blocks.push(Block::Heading {
                    line,
                    level,
                    raw,
                    term: false,
                });
                self.level = level;
                self.heading_since_table = true;
                continue;
            }
            match t.as_str() {
                "br" => {
                    self.flush();
                    self.after_break = true;
                }
                "table" if !self.is_layout_table(c) => {
                    self.paragraph_end();
                    self.table(c);
                    self.paragraph_end();
                }
                "dl" => {
                    self.paragraph_end();
                    self.definition_list(c, content);
                    self.paragraph_end();
                }
                "li" => {
                    self.flush();
                    self.line_no = line;
                    self.line.push_str("* ");
                    self.block(c, content);
                    self.flush();
                }
                "blockquote" => {
                    self.paragraph_end();
                    self.quoted += 1;
                    self.block(c, content);
                    self.paragraph_end();
                    self.quoted -= 1;
                }
                "p" | "pre" | "address" | "figcaption" | "summary" | "legend" => {
                    self.paragraph_end();
                    self.line_no = line;
                    self.block(c, content);
                    self.paragraph_end();
                }
                _ if is_block(&t) => {
                    self.flush();
                    self.block(c, content);
                    self.flush();
                }
                _ => {
                    self.start_line(line);
                    let mut s = String::new();
                    self.inline_into(c, &mut s);
                    self.line.push_str(&s);
                }
            }
        }
    }

    /// Collapsed text, escaped, appended to the current line.
    fn text(&mut self, text: &str) {
        let mut s = String::new();
        push_collapsed(
            text,
            &mut s,
            !self.line.ends_with(' ') && !self.line.is_empty(),
        );
        let mut escaped = String::new();
        escape(&s, &mut escaped);
        self.line.push_str(&escaped);
    }

    /// The Markdown inline text of an element's content.
    fn inline_of(&self, id: usize) -> String {
        let mut s = String::new();
        for &c in &self.node(id).children {
            self.inline_into(c, &mut s);
        }
        s.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// Plain text of an element (for titles).
    fn plain(&self, id: usize) -> String {
        inline(&self.inline_of(id)).0
    }

    fn inline_into(&self, id: usize, out: &mut String) {
        let n = self.node(id);
        if !n.element {
            let mut s = String::new();
            push_collapsed(&n.text, &mut s, true);
            escape(&s, out);
            return;
        }
        if skipped(n, true) {
            return;
        }
        let t = tag(n);
        let inner = |out: &mut String| {
            for &c in &n.children {
                self.inline_into(c, out);
            }
        };
        match t {
            "br" => out.push(BREAK),
            "a" => {
                let mut text = String::new();
                inner(&mut text);
                let href = attr(n, "href").unwrap_or("").trim();
                let usable = !href.is_empty()
                    && !href.starts_with('#')
                    && !href.to_ascii_lowercase().starts_with("javascript:")
                    && !href.contains(char::is_whitespace)
                    && !href.contains([')', '(', '<', '>'])
                    && href.len() <= 2048;
                if usable && !text.trim().is_empty() {
                    out.push('[');
                    out.push_str(text.trim());
                    out.push_str("](");
                    out.push_str(href);
                    out.push(')');
                } else {
                    out.push_str(&text);
                }
            }
            "strong" | "b" | "em" | "i" => {
                let mark = if matches!(t, "strong" | "b") {
                    "**"
                } else {
                    "*"
                };
                let mut text = String::new();
                inner(&mut text);
                let trimmed = text.trim();
                if trimmed.is_empty() {
                    out.push_str(&text);
                } else {
                    if text.starts_with(char::is_whitespace) {
                        out.push(' ');
                    }
                    out.push_str(mark);
                    out.push_str(trimmed);
                    out.push_str(mark);
                    if text.ends_with(char::is_whitespace) {
                        out.push(' ');
                    }
                }
            }
            // Footnote marks ("Stripe¹") are not part of a name.
            "sup"
                if self
                    .plain(id)
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == '*') => {}
            "li" => {
                out.push(ITEM);
                inner(out);
            }
            _ if is_block(t) => {
                out.push(' ');
                inner(out);
                out.push(' ');
            }
            _ => inner(out),
        }
    }

    /// A table used to lay the page out (holding headings or tables) is read as blocks.
    fn is_layout_table(&self, id: usize) -> bool {
        let mut stack: Vec<usize> = self.node(id).children.clone();
        while let Some(i) = stack.pop() {
            let n = self.node(i);
            if tag(n) == "table" || heading_level(n).is_some() {
                return true;
            }
            stack.extend(&n.children);
        }
        false
    }

    /// Rows of a table: (line, cells), each cell with whether it is a header cell.
    fn rows(&self, id: usize) -> Vec<Row> {
        let mut rows = Vec::new();
        let mut stack: Vec<(usize, bool)> = self
            .node(id)
            .children
            .iter()
            .rev()
            .map(|&c| (c, false))
            .collect();
        while let Some((i, in_head)) = stack.pop() {
            let n = self.node(i);
            match tag(n) {
                "thead" | "tbody" | "tfoot" => {
                    let head = tag(n) == "thead";
                    stack.extend(n.children.iter().rev().map(|&c| (c, head)));
                }
                "tr" => {
                    let mut cells = Vec::new();
                    for &c in &n.children {
                        let cell = self.node(c);
                        if matches!(tag(cell), "td" | "th") && !skipped(cell, true) {
                            let span = |a: &str| {
                                attr(cell, a)
                                    .and_then(|v| v.trim().parse::<usize>().ok())
                                    .unwrap_or(1)
                                    .clamp(1, 64)
                            };
                            let mut text = String::new();
                            for &k in &cell.children {
                                self.inline_into(k, &mut text);
                            }
                            cells.push((text, tag(cell) == "th", span("colspan"), span("rowspan")));
                        }
                    }
                    rows.push((n.line, cells, in_head));
                }
                _ => {}
            }
        }
        rows
    }

    fn table(&mut self, id: usize) {
        let line = self.node(id).line;
        let mut caption_text = None;
        if let Some(&caption) = self
            .node(id)
            .children
            .iter()
            .find(|&&c| tag(self.node(c)) == "caption")
        {
            let raw = self.inline_of(caption);
            if raw.is_empty() {
            } else if self.heading_since_table && self.level >= 2 {
                // The heading above names the section; the caption says more about it.
                caption_text = Some(inline(&raw).0);
            } else {
                self.page.blocks.push(Block::Heading {
                    line: self.node(caption).line,
                    level: self.level + 1,
                    raw,
                    term: false,
                });
            }
        }
        self.heading_since_table = false;
        // Spread column and row spans into a plain grid, as a reader sees the table.
        let mut grid: Vec<(usize, Vec<String>, bool, bool)> = Vec::new();
        let mut carried: Vec<Option<(String, usize)>> = Vec::new();
        for (row_line, cells, in_head) in self.rows(id) {
            let mut out: Vec<String> = Vec::new();
            let mut all_th = !cells.is_empty();
            let mut cells = cells.into_iter();
            let mut col = 0;
            loop {
                if let Some(Some((text, left))) = carried.get_mut(col) {
                    out.push(text.clone());
                    *left -= 1;
                    if *left == 0 {
                        carried[col] = None;
                    }
                    col += 1;
                    continue;
                }
                let Some((text, th, colspan, rowspan)) = cells.next() else {
                    break;
                };
                all_th &= th;
                let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
                for k in 0..colspan {
                    let value = if k == 0 { text.clone() } else { String::new() };
                    if rowspan > 1 {
                        if carried.len() <= col {
                            carried.resize(col + 1, None);
                        }
                        carried[col] = Some((value.clone(), rowspan - 1));
                    }
                    out.push(value);
                    col += 1;
                }
            }
            grid.push((row_line, out, in_head, all_th));
        }
        let header_at = grid
            .iter()
            .rposition(|r| r.2)
            .or_else(|| grid.first().filter(|r| r.3).map(|_| 0))
            .unwrap_or(0);
        if grid.is_empty() {
            return;
        }
        let (header_line, header, _, _) = grid[header_at].clone();
        let rows = grid
            .into_iter()
            .skip(header_at + 1)
            .map(|(l, cells, _, _)| (l, cells))
            .collect();
        self.page.blocks.push(Block::Table(Table {
            caption: caption_text,
            header_line: if header_line == 0 { line } else { header_line },
            header,
            rows,
        }));
    }

    /// A definition list: labelled fields (`<dt>Location</dt><dd>Germany</dd>`), or one
    /// provider per term with its description.
    fn definition_list(&mut self, id: usize, in_content: bool) {
        // Terms and descriptions, also when grouped in <div>s.
        let mut items: Vec<usize> = Vec::new();
        let mut stack: Vec<usize> = self.node(id).children.iter().rev().copied().collect();
        while let Some(i) = stack.pop() {
            match tag(self.node(i)) {
                "dt" | "dd" => items.push(i),
                "div" => stack.extend(self.node(i).children.iter().rev()),
                _ => {}
            }
        }
        let terms: Vec<usize> = items
            .iter()
            .copied()
            .filter(|&i| tag(self.node(i)) == "dt")
            .collect();
        let labelled = terms.iter().any(|&t| {
            let text = self.plain(t);
            let text = text.trim_end_matches(':');
            map_label(text).is_some()
                || matches!(
                    text.to_ascii_lowercase().as_str(),
                    "vendor" | "version" | "effective date" | "last updated" | "published by"
                )
        });
        let mut i = 0;
        while i < items.len() {
            let node = items[i];
            if tag(self.node(node)) != "dt" {
                // A description without a term: plain text.
                self.paragraph_end();
                self.line_no = self.node(node).line;
                self.block(node, in_content);
                self.paragraph_end();
                i += 1;
                continue;
            }
            let line = self.node(node).line;
            let term = self.inline_of(node);
            let mut j = i + 1;
            let mut values: Vec<usize> = Vec::new();
            while j < items.len() && tag(self.node(items[j])) == "dd" {
                values.push(items[j]);
                j += 1;
            }
            if labelled {
                self.flush();
                let label = inline(&term).0;
                let label = label.trim_end_matches(':').trim();
                let parts: Vec<String> = values.iter().map(|&v| self.inline_of(v)).collect();
                let sep = ITEM.to_string();
                self.line_no = line;
                self.line = format!("*{label}:* {}", parts.join(&sep));
                self.flush();
            } else {
                self.flush();
                self.page.blocks.push(Block::Heading {
                    line,
                    level: self.level + 1,
                    raw: term,
                    term: true,
                });
                for v in values {
                    self.paragraph_end();
                    self.line_no = self.node(v).line;
                    self.block(v, in_content);
                    self.paragraph_end();
                }
            }
            i = j;
        }
    }
}

/// Appends text with runs of HTML whitespace collapsed to one space.
fn push_collapsed(text: &str, out: &mut String, space_ok: bool) {
    let mut space = false;
    // Entities such as &#8203; reach here after the page's own invisible characters were
    // removed, so they are dropped again; control characters become spaces.
    for c in text.chars().filter(|&c| !super::invisible(c)) {
        if matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{c}') || c.is_control() {
            space = true;
        } else {
            if space && (space_ok || !out.is_empty()) {
                out.push(' ');
            }
            space = false;
            out.push(c);
        }
    }
    if space {
        out.push(' ');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks(html: &str) -> Vec<String> {
        read(html)
            .unwrap()
            .blocks
            .iter()
            .filter_map(|b| match b {
                Block::Heading {
                    line,
                    level,
                    raw,
                    term,
                } => Some(format!(
                    "{line} h{level}{} {raw}",
                    if *term { " term" } else { "" }
                )),
                Block::Text { line, raw, .. } => Some(format!("{line} {raw}")),
                Block::Table(t) => Some(format!(
                    "{} table {:?} {:?}",
                    t.header_line, t.header, t.rows
                )),
                Block::Blank => None,
            })
            .collect()
    }

    #[test]
    fn html_is_told_from_markdown() {
        assert!(looks_like_html("\u{feff}<!DOCTYPE html>\n<html>"));
        assert!(looks_like_html("<!-- saved -->\n<html lang=en>"));
        assert!(!looks_like_html("<!-- theme: info -->\n# Title"));
        assert!(!looks_like_html("| a | b |"));
    }

    #[test]
    fn headings_paragraphs_lists_and_links() {
        let got = blocks(
            "<!doctype html><html><head><title>T</title><script>var x = '<h1>no</h1>';</script></head>\n\
             <body><nav><a href=/>Home</a></nav>\n<h1>Acme &amp; Co subprocessors</h1>\n\
             <p>Intro <b>bold</b>\n text</p>\n<ul><li><strong>Location:</strong> EU</li>\n\
             <li><a href=\"https://x.example/\">X *Co*</a></li></ul><footer>(c) Acme</footer></body></html>",
        );
        assert_eq!(
            got,
            [
                "3 h1 Acme \\& Co subprocessors",
                "4 Intro **bold** text",
                "6 * **Location:** EU",
                "7 * [X \\*Co\\*](https://x.example/)",
            ]
        );
    }

    #[test]
    fn tables_with_and_without_head_and_spans() {
        let got = blocks(
            "<html><body><table>\n<tr><th>Name</th><th>Country</th></tr>\n\
             <tr><td rowspan=2>A</td><td>DE</td></tr>\n<tr><td>FR</td></tr></table>\n\
             <table><caption>Other</caption><thead><tr><td>Vendor<td>Purpose</thead>\n\
             <tbody><tr><td colspan=2>B</td></tr></table></body></html>",
        );
        assert_eq!(
            got,
            [
                "2 table [\"Name\", \"Country\"] [(3, [\"A\", \"DE\"]), (4, [\"A\", \"FR\"])]",
                "5 h2 Other",
                "5 table [\"Vendor\", \"Purpose\"] [(6, [\"B\", \"\"])]",
            ]
        );
    }

    #[test]
    fn definition_lists_as_fields_or_as_providers() {
        let got = blocks(
            "<html><body><h2>Hosting</h2><dl><dt>Bigcloud</dt><dd>Servers.</dd>\
             <dd>Location: Germany</dd></dl><dl><div><dt>Location</dt><dd>EU</dd></div></dl></body></html>",
        );
        assert_eq!(
            got,
            [
                "1 h2 Hosting",
                "1 h3 term Bigcloud",
                "1 Servers.",
                "1 Location: Germany",
                "1 *Location:* EU",
            ]
        );
    }

    #[test]
    fn absurd_nesting_stops_with_its_line() {
        let page = format!("<html><body>\n{}", "<div>".repeat(5000));
        assert_eq!(read(&page).err(), Some(HtmlLimit::TooDeep { line: 2 }));
    }
}
