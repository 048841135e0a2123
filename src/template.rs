//! Template: Handlebars over a JSON context -> Markdown text.
//!
//! In: a template source (Markdown with Handlebars tags) and the context built by
//! [`context`] from the vendor, annex, fingerprint, customer and signing facts.
//! Out: Markdown text for `markup`.
//!
//! Rules that keep the output a faithful document:
//! - strict mode: a variable missing from the context is an error naming it and the
//!   template line, never an empty string in a contract;
//! - every value is escaped for Markdown, not HTML: each ASCII punctuation character
//!   that can take part in Markdown syntax gets a backslash (all but `,;:?'"/@%$`), and line breaks (with the spaces around them) become one space, so a
//!   value such as `**Acme** | {{x}} # <b>` prints literally and cannot start a heading,
//!   a list, a table cell or an HTML block;
//! - triple braces (`{{{value}}}`), which would bypass the escaping, and partials are
//!   refused when the template is compiled;
//! - do not put values inside code spans (`` `{{x}}` ``): backslashes are literal there.
//!
//! Helpers: `{{date "2026-06-01"}}` -> "1 June 2026"; `{{join list ", "}}` joins strings;
//! `{{list items}}` -> "A, B and C"; `{{sentence text}}` adds a full stop unless the text
//! already ends with one (or with `!` or `?`).
//!
//! The context (all dates also as `*_text`, e.g. `effective_text` = "1 June 2026"):
//! - `vendor`: `legal_name`, `address` (one line), `address_lines`, `email`, `website`,
//!   `notice_days`, `governing_law` (or null), `subprocessors_url` (where the list is
//!   published, or null), `signatory.name`, `signatory.title`;
//! - `customer`: `id`, `legal_name`, `address`, `address_lines`, `country`, `email`,
//!   `effective`, `features`, `signatory.name`, `signatory.title`;
//! - `annex`: `vendor`, `version`, `effective`, `sections` (each: `number`, `title`,
//!   `description` or null, `subprocessors`, `entries`, and `has_certifications`,
//!   `has_websites`, `has_transfers`, `has_details` telling which optional columns its
//!   table needs),
//!   `entry_count`, `has_opt_in`, `has_opt_out`, `has_account_only` (a section of
//!   providers that see account data only);
//!   an entry: `name`, `function`, `location`, `certifications`, `website`,
//!   `legal_address`, `has_access`, `no_access` (each string or null), `activation`,
//!   `opt_in`, `opt_out`, `feature`, `transfer_mechanism` and `remarks` (lists). Only entries that apply to the customer are listed:
//!   an opt-in entry only when the customer enabled its feature;
//! - `fingerprint`: `full` (64 hex digits), `grouped` (in fours), `short` (16 digits in fours);
//! - `signing`: `key_id`, `issued`, `verify_hint`.
//! - from [`crate::legal::context`]: `processing`, `transfers`, `issue`, `specimen` and
//!   `published` (every provider of the list, each marked with its use for the customer);
//!   templates/dpa.md.hbs lists their fields at its top.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use chrono::NaiveDate;
use handlebars::{
    Context, Handlebars, Helper, HelperDef, HelperResult, Output, RenderContext, RenderError,
    RenderErrorReason, Renderable, ScopedJson,
};
use serde_json::{Value, json};
use thiserror::Error;

use crate::annex::Fingerprint;
use crate::model::{Activation, Annex, Customer, Entry, Signatory, Vendor};

mod direct;
mod memo;

/// Facts about the signature that the document prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningInfo {
    /// The signing key's id as printed, e.g. "3F2A19C0 77DE0B41".
    pub key_id: String,
    /// The day the document is issued and signed.
    pub issued: NaiveDate,
    /// One line telling a reader how to check the signature.
    pub verify_hint: String,
}

/// Why a template could not be compiled or rendered.
#[derive(Debug, Error)]
pub enum TemplateError {
    #[error("cannot read template {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{name}:{line}:{column}: template syntax: {message}")]
    Syntax {
        name: String,
        line: usize,
        column: usize,
        message: String,
    },

    #[error("{name}:{line}:{column}: {what} would print values without Markdown escaping")]
    Unescaped {
        name: String,
        line: usize,
        column: usize,
        what: &'static str,
    },

    #[error("{name}:{line}:{column}: the variable `{variable}` is missing from the context")]
    MissingVariable {
        name: String,
        line: usize,
        column: usize,
        variable: String,
    },

    #[error("{name}:{line}:{column}: {message}")]
    Render {
        name: String,
        line: usize,
        column: usize,
        message: String,
    },
}

impl crate::error::Hint for TemplateError {
    fn hint(&self) -> Option<String> {
        match self {
            TemplateError::Unescaped { .. } => {
                Some("use double braces {{value}}; values are always escaped for Markdown".into())
            }
            TemplateError::MissingVariable { .. } => Some(
                "check the spelling; the module docs of `dpa::template` list the context's fields"
                    .into(),
            ),
            _ => None,
        }
    }
}

/// A template file, with the SHA-256 of its text (recorded in the register).
#[derive(Debug, Clone)]
pub struct TemplateFile {
    pub template: Template,
    pub sha256: String,
}

impl TemplateFile {
    /// Reads and compiles a template file.
    pub fn read(path: &Path) -> Result<TemplateFile, TemplateError> {
        let file = TemplateFile::read_lazy(path)?;
        file.template.compile()?;
        Ok(file)
    }

    /// Reads a template file, to be compiled when it is first rendered (see
    /// [`Template::lazy`]): a run that finds its documents issued needs only its hash.
    pub fn read_lazy(path: &Path) -> Result<TemplateFile, TemplateError> {
        let text = std::fs::read_to_string(path).map_err(|source| TemplateError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(TemplateFile {
            sha256: crate::sign::sha256_hex(text.as_bytes()),
            template: Template::lazy(text, &path.display().to_string()),
        })
    }

    /// Compiles a template's text; `name` appears in error messages.
    pub fn new(text: &str, name: &str) -> Result<TemplateFile, TemplateError> {
        Ok(TemplateFile {
            template: Template::new(text, name)?,
            sha256: crate::sign::sha256_hex(text.as_bytes()),
        })
    }
}

/// A template, compiled once and rendered for many customers.
#[derive(Clone)]
pub struct Template {
    /// The compiled template, once it is compiled.
    registry: OnceLock<Handlebars<'static>>,
    /// The source, while `registry` is not set (empty in a template compiled at once).
    source: String,
    name: String,
}

impl fmt::Debug for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Template")
            .field("name", &self.name)
            .field("compiled", &self.registry.get().is_some())
            .finish()
    }
}

impl Template {
    /// Compiles a template; `name` appears in error messages (usually the file name).
    pub fn new(source: &str, name: &str) -> Result<Template, TemplateError> {
        Template::build(source, name, true)
    }

    /// A template compiled when it is first rendered or [`Template::compile`]d. An error
    /// in it is the one [`Template::new`] gives, returned by every call that needs it.
    pub fn lazy(source: String, name: &str) -> Template {
        Template {
            registry: OnceLock::new(),
            source,
            name: name.to_string(),
        }
    }

    /// Compiles the template unless it is compiled already.
    pub fn compile(&self) -> Result<(), TemplateError> {
        self.registry().map(drop)
    }

    /// The compiled template, compiled now if it is not yet.
    fn registry(&self) -> Result<&Handlebars<'static>, TemplateError> {
        if let Some(registry) = self.registry.get() {
            return Ok(registry);
        }
        let registry = registry(&self.source, &self.name, true)?;
        // Threads that render it first at the same time each compile it; the first to
        // finish sets it, and every one of them gives the same template.
        Ok(self.registry.get_or_init(|| registry))
    }

    /// Compiles a template, its costly top-level blocks memoised (see [`memo`]) when
    /// `memoise` (tests compare with the template as handlebars compiles it).
    fn build(source: &str, name: &str, memoise: bool) -> Result<Template, TemplateError> {
        Ok(Template {
            registry: OnceLock::from(registry(source, name, memoise)?),
            source: String::new(),
            name: name.to_string(),
        })
    }

    /// Reads and compiles a template file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Template, TemplateError> {
        TemplateFile::read(path.as_ref()).map(|t| t.template)
    }

    /// The name given when compiling.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Renders the template over a context into Markdown text.
    pub fn render(&self, context: &Value) -> Result<String, TemplateError> {
        self.registry()?
            .render(&self.name, context)
            .map_err(|e| self.render_error(e))
    }

    /// Renders the template over a context it may keep, into Markdown text.
    ///
    /// The same text as [`Template::render`]; handlebars copies a borrowed context whole
    /// before rendering (by serialising it), which taking it by value avoids.
    pub fn render_owned(&self, context: Value) -> Result<String, TemplateError> {
        self.registry()?
            .render_with_context(&self.name, &handlebars::Context::from(context))
            .map_err(|e| self.render_error(e))
    }

    fn render_error(&self, e: RenderError) -> TemplateError {
        let name = e.template_name.clone().unwrap_or_else(|| self.name.clone());
        let (line, column) = (e.line_no.unwrap_or(0), e.column_no.unwrap_or(0));
        match e.reason() {
            RenderErrorReason::MissingVariable(variable) => TemplateError::MissingVariable {
                name,
                line,
                column,
                variable: variable
                    .clone()
                    .unwrap_or_else(|| "(a helper argument)".into()),
            },
            reason => TemplateError::Render {
                name,
                line,
                column,
                message: reason.to_string(),
            },
        }
    }
}

/// Compiles a template into a registry that renders it under `name`, with the Markdown
/// escaping and this module's helpers; its costly top-level blocks memoised when `memoise`.
fn registry(source: &str, name: &str, memoise: bool) -> Result<Handlebars<'static>, TemplateError> {
    let mut compiled = compile(source, name)?;
    refuse_unescaped(&compiled, name)?;
    let mut registry = Handlebars::new();
    registry.set_strict_mode(true);
    registry.register_escape_fn(escape_markdown);
    registry.register_helper("if", Box::new(StrictIf { positive: true }));
    registry.register_helper("unless", Box::new(StrictIf { positive: false }));
    registry.register_helper("date", Box::new(DateHelper));
    registry.register_helper("join", Box::new(JoinHelper));
    registry.register_helper("list", Box::new(ListHelper));
    registry.register_helper("sentence", Box::new(SentenceHelper));
    if memoise && let Some(helper) = memo::wrap(&mut compiled) {
        registry.register_helper(memo::HELPER, Box::new(helper));
    }
    registry.register_template(name, compiled);
    Ok(registry)
}

/// Compiles a template source: directly (see [`direct`]) when it holds only the tag
/// forms that parser follows, else with handlebars.
///
/// The direct parser gives the template handlebars would and declines the rest, so
/// handlebars stays the one judge of what is wrong with a template.
fn compile(source: &str, name: &str) -> Result<handlebars::template::Template, TemplateError> {
    if let Some(template) = direct::compile(source, name) {
        return Ok(template);
    }
    compile_with_handlebars(source, name)
}

/// Compiles a template source with handlebars, faster than compiling it whole.
///
/// Handlebars (through pest) spends hundreds of instructions on every character of plain
/// text, and works out each element's line and column by counting from the start of its
/// input, so compiling one long template costs time quadratic in its length: 63 M
/// instructions for the 42 KB default DPA, more than rendering a whole document. So the
/// plain text is first replaced by short stand-ins (see [`Masked`]), which makes the
/// source a fraction of its length; a source that is still long is cut at the top level
/// into pieces (see [`cut_points`]) that are compiled on their own and joined, with their
/// line numbers shifted; then the text is put back. The result is the template that
/// compiling the source whole gives. Anything unusual, or a source that does not
/// compile, falls back to compiling the source whole, which also gives errors their
/// usual positions.
fn compile_with_handlebars(
    source: &str,
    name: &str,
) -> Result<handlebars::template::Template, TemplateError> {
    let Some(masked) = Masked::new(source) else {
        return compile_long(source, name);
    };
    compile_long(&masked.source, name)
        .ok()
        .and_then(|template| masked.restore(template))
        .map_or_else(|| compile_whole(source, name), Ok)
}

/// Compiles a source whole when it is short, in pieces when it is long.
fn compile_long(source: &str, name: &str) -> Result<handlebars::template::Template, TemplateError> {
    if source.len() < 2 * GROUP_LEN {
        return compile_whole(source, name);
    }
    compile_in_pieces(source, name, GROUP_LEN)
}

/// Starts a stand-in for plain text (a private-use character, followed by the text's
/// index in decimal digits); a source that contains it is compiled as it is.
const MARK: char = '\u{E000}';

/// A template source whose plain text is replaced by short stand-ins, and what it takes
/// to put the text back into the compiled template.
///
/// Only what handlebars copies without looking into it is replaced: on each line of text
/// outside tags (and each inner line of a comment), the part from its first to its last
/// character that is not whitespace. The whitespace around it and the line breaks stay,
/// so lines, standalone tags and `~` trimming (which only ever remove whitespace, up to
/// the nearest other character) work as on the source; only columns after a stand-in on
/// the same line change, and [`Masked::restore`] shifts them back.
struct Masked<'a> {
    /// The source with stand-ins.
    source: String,
    /// The text each stand-in replaces, by index.
    texts: Vec<&'a str>,
    /// For each stand-in, in order: its line, the column just after it in `source`
    /// (both as pest counts them, from 1), and how many characters the stand-ins so far
    /// on that line removed.
    shifts: Vec<(usize, usize, usize)>,
    /// The line being written, where it starts in `source`, and the characters the
    /// stand-ins on it removed so far.
    line: usize,
    line_start: usize,
    removed: usize,
}

impl<'a> Masked<'a> {
    /// Masks `source`, or `None` when it holds anything the scanner does not follow:
    /// the stand-in character, escaped tags (`\{{`), raw blocks and triple braces, a tag
    /// that is not closed, or brackets and braces inside a tag (see [`tag`]).
    fn new(source: &'a str) -> Option<Masked<'a>> {
        if source.contains(MARK)
            || source.contains("\\{{")
            || source.contains("{{{")
            || source.contains("}}}")
        {
            return None;
        }
        let mut masked = Masked {
            source: String::with_capacity(source.len() / 2),
            texts: Vec::new(),
            shifts: Vec::new(),
            line: 1,
            line_start: 0,
            removed: 0,
        };
        let mut i = 0;
        while i < source.len() {
            let Some(at) = source[i..].find("{{").map(|p| i + p) else {
                masked.text(&source[i..], false);
                break;
            };
            masked.text(&source[i..at], false);
            let tag = tag(source, at)?;
            match tag.comment {
                Some(body) => {
                    masked.verbatim(&source[at..body.start]);
                    masked.text(&source[body.clone()], true);
                    masked.verbatim(&source[body.end..tag.end]);
                }
                None => masked.verbatim(&source[at..tag.end]),
            }
            i = tag.end;
        }
        Some(masked)
    }

    /// Writes text as it is.
    fn verbatim(&mut self, text: &str) {
        self.source.push_str(text);
        if let Some(last) = text.rfind('\n') {
            self.line += text.bytes().filter(|&b| b == b'\n').count();
            self.line_start = self.source.len() - text.len() + last + 1;
            self.removed = 0;
        }
    }

    /// Writes plain text, each line's inner part replaced by a stand-in where that makes
    /// it shorter; in a comment only lines with a line break on both sides (so the
    /// comment's ends, which handlebars trims, stay as they are).
    fn text(&mut self, text: &'a str, comment: bool) {
        for (n, line) in text.split_inclusive('\n').enumerate() {
            let inner = line.trim();
            let mark = format!("{MARK}{}", self.texts.len());
            let chars = inner.chars().count();
            let interior = !comment || (n > 0 && line.ends_with('\n'));
            if !interior || inner.len() <= mark.len() || chars <= mark.chars().count() {
                self.verbatim(line);
                continue;
            }
            let lead = line.len() - line.trim_start().len();
            self.verbatim(&line[..lead]);
            self.source.push_str(&mark);
            self.removed += chars - mark.chars().count();
            let column = self.source[self.line_start..].chars().count() + 1;
            self.shifts.push((self.line, column, self.removed));
            self.texts.push(inner);
            self.verbatim(&line[lead + inner.len()..]);
        }
    }

    /// Puts the text back into a template compiled from the masked source, or `None` if
    /// the stand-ins did not come back one for one, in the order of the source.
    fn restore(
        &self,
        mut template: handlebars::template::Template,
    ) -> Option<handlebars::template::Template> {
        let mut found = 0;
        self.restore_in(&mut template, &mut found)?;
        (found == self.texts.len()).then_some(template)
    }

    fn restore_in(
        &self,
        template: &mut handlebars::template::Template,
        found: &mut usize,
    ) -> Option<()> {
        use handlebars::template::TemplateElement as E;
        for mapping in &mut template.mapping {
            mapping.1 += self.removed_before(mapping.0, mapping.1);
        }
        for element in &mut template.elements {
            match element {
                E::RawString(text) | E::Comment(text) if text.contains(MARK) => {
                    *text = self.unmask(text, found)?;
                }
                E::HtmlExpression(h) | E::Expression(h) | E::HelperBlock(h) => {
                    for t in h.template.iter_mut().chain(h.inverse.iter_mut()) {
                        self.restore_in(t, found)?;
                    }
                }
                E::DecoratorExpression(d)
                | E::DecoratorBlock(d)
                | E::PartialExpression(d)
                | E::PartialBlock(d) => {
                    for t in d.template.iter_mut() {
                        self.restore_in(t, found)?;
                    }
                }
                _ => {}
            }
        }
        Some(())
    }

    /// The characters that stand-ins removed before a column of the masked source.
    fn removed_before(&self, line: usize, column: usize) -> usize {
        let n = self
            .shifts
            .partition_point(|&(l, c, _)| (l, c) <= (line, column));
        match n.checked_sub(1).map(|n| self.shifts[n]) {
            Some((l, _, removed)) if l == line => removed,
            _ => 0,
        }
    }

    /// A raw string or comment with the text put back for each stand-in in it.
    fn unmask(&self, text: &str, found: &mut usize) -> Option<String> {
        let mut out = String::with_capacity(text.len() * 8);
        let mut rest = text;
        while let Some(at) = rest.find(MARK) {
            out.push_str(&rest[..at]);
            rest = &rest[at + MARK.len_utf8()..];
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            let index: usize = rest[..digits].parse().ok()?;
            if index != *found {
                return None;
            }
            out.push_str(self.texts.get(index)?);
            rest = &rest[digits..];
            *found += 1;
        }
        out.push_str(rest);
        Some(out)
    }
}

/// Compiles `source` in pieces, compiling neighbouring pieces with tags together up to
/// `group_len` bytes.
fn compile_in_pieces(
    source: &str,
    name: &str,
    group_len: usize,
) -> Result<handlebars::template::Template, TemplateError> {
    use handlebars::template::{Template as Compiled, TemplateElement};
    let cuts = cut_points(source);
    if cuts.is_empty() {
        return compile_whole(source, name);
    }
    let mut joined = Compiled::new();
    joined.name = Some(name.to_string());
    // Pieces with tags waiting to be compiled together: (start, line of start).
    let mut group: Option<(usize, usize)> = None;
    let flush = |joined: &mut Compiled, group: &mut Option<(usize, usize)>, end: usize| {
        let Some((start, line)) = group.take() else {
            return true;
        };
        match Compiled::compile_with_name(&source[start..end], name.to_string()) {
            Ok(mut part) => {
                shift_lines(&mut part, line);
                append(joined, part);
                true
            }
            Err(_) => false,
        }
    };
    let (mut start, mut line) = (0, 0);
    for end in cuts.into_iter().chain([source.len()]) {
        let piece = &source[start..end];
        if piece.contains("{{") || (group.is_none() && joined.elements.is_empty()) {
            let full = group.is_some_and(|(s, _)| end - s > group_len);
            if full && !flush(&mut joined, &mut group, start) {
                return compile_whole(source, name);
            }
            group.get_or_insert((start, line));
        } else {
            if !flush(&mut joined, &mut group, start) {
                return compile_whole(source, name);
            }
            // A cut falls inside text, so the element before plain text is a raw string.
            match joined.elements.last_mut() {
                Some(TemplateElement::RawString(text)) => text.push_str(piece),
                _ => return compile_whole(source, name),
            }
        }
        line += piece.bytes().filter(|&b| b == b'\n').count();
        start = end;
    }
    if !flush(&mut joined, &mut group, source.len()) {
        return compile_whole(source, name);
    }
    Ok(joined)
}

fn compile_whole(
    source: &str,
    name: &str,
) -> Result<handlebars::template::Template, TemplateError> {
    handlebars::Template::compile_with_name(source, name.to_string()).map_err(|e| {
        let (line, column) = e.pos().unwrap_or((0, 0));
        TemplateError::Syntax {
            name: name.to_string(),
            line,
            column,
            message: e.reason().to_string(),
        }
    })
}

/// Pieces with tags are compiled together up to this length: fewer calls into handlebars,
/// while the quadratic part stays small.
const GROUP_LEN: usize = 1024;

/// Byte offsets where `source` may be cut into pieces that compile to the same elements.
///
/// A cut falls just after a line break outside any tag, comment or block, inside a run of
/// plain text that has other than whitespace on both sides of the cut. Handlebars trims
/// whitespace next to tags (`~`, standalone lines) only up to the nearest such text, so
/// no trimming crosses the cut, and the two halves of the text join back into the one raw
/// string that compiling the source whole gives. Sources with raw blocks, escaped tags or
/// triple braces, and malformed ones, are not cut at all.
fn cut_points(source: &str) -> Vec<usize> {
    if source.contains("{{{") || source.contains("\\{{") {
        return Vec::new();
    }
    let bytes = source.as_bytes();
    let mut cuts = Vec::new();
    let (mut depth, mut i) = (0usize, 0usize);
    // Whether the text since the last tag has other than whitespace; and up to where the
    // text ahead is known to be whitespace only (so it is not scanned again). Whitespace
    // is as handlebars trims it: Unicode's.
    let (mut text_before, mut blank_until) = (false, 0usize);
    // Whether the last tag other than a comment ends with `~}}`: handlebars keeps that
    // until the next such tag, and trims text after a comment with it, so no cut falls
    // where it holds.
    let mut trimming = false;
    while i < bytes.len() {
        if bytes[i..].starts_with(b"{{") {
            let Some(tag) = tag(source, i) else {
                return Vec::new();
            };
            if tag.closes {
                let Some(d) = depth.checked_sub(1) else {
                    return Vec::new();
                };
                depth = d;
            }
            if tag.opens {
                depth += 1;
            }
            if tag.comment.is_none() {
                trimming = tag.trims_after;
            }
            text_before = false;
            i = tag.end;
            continue;
        }
        let Some(c) = source[i..].chars().next() else {
            return Vec::new();
        };
        if c == '\n' && depth == 0 && text_before && !trimming && i >= blank_until {
            // Text after the cut, before the next tag: the first character that is not
            // whitespace must not start a tag.
            let ahead = &source[i + 1..];
            match ahead.find(|c: char| !c.is_whitespace()) {
                Some(p) if !ahead[p..].starts_with("{{") => cuts.push(i + 1),
                Some(p) => blank_until = i + 1 + p,
                None => blank_until = bytes.len(),
            }
        } else if !c.is_whitespace() {
            text_before = true;
        }
        i += c.len_utf8();
    }
    if depth != 0 {
        return Vec::new();
    }
    cuts
}

/// A tag as [`tag`] finds it.
struct Tag {
    /// The byte offset just after its closing braces.
    end: usize,
    /// It opens a block (`{{#if a}}`).
    opens: bool,
    /// It closes a block (`{{/if}}`).
    closes: bool,
    /// It ends with `~}}`, trimming the whitespace after it.
    trims_after: bool,
    /// For a comment, where its text lies.
    comment: Option<std::ops::Range<usize>>,
}

/// The tag starting at `start` (at `{{`), found as handlebars' grammar finds it.
///
/// `None` when it is not closed, or holds what this scanner does not follow: brackets
/// (`{{[a}}b]}}` is one path) and braces (object literals); the caller then leaves the
/// source to handlebars whole.
fn tag(source: &str, start: usize) -> Option<Tag> {
    let rest = &source[start..];
    // A comment ends at the first `--}}` or, for `{{! …}}`, at the first `}}`, quotes or
    // not. A `{{!--` with no `--}}` after it is left alone: the grammar would read it as
    // a short comment.
    let (open, close) = if rest.starts_with("{{!--") {
        ("{{!--", "--}}")
    } else if rest.starts_with("{{!") {
        ("{{!", "}}")
    } else {
        ("", "")
    };
    if !open.is_empty() {
        let body = start + open.len();
        let len = source[body..].find(close)?;
        return Some(Tag {
            end: body + len + close.len(),
            opens: false,
            closes: false,
            trims_after: false,
            comment: Some(body..body + len),
        });
    }
    // Find the closing braces outside string literals (`{{join list "}}"}}`).
    let bytes = rest.as_bytes();
    let (mut j, mut quote) = (2, None);
    let end = loop {
        let b = *bytes.get(j)?;
        match quote {
            Some(_) if b == b'\\' => j += 1,
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if bytes[j..].starts_with(b"}}") => break j,
            None if b == b'[' || b == b'{' => return None,
            None => {}
        }
        j += 1;
    };
    let body = rest[2..end]
        .trim_start()
        .trim_start_matches('~')
        .trim_start();
    // The grammar has no inverted blocks: `{{^name}}` starts another branch, like `{{else}}`.
    Some(Tag {
        end: start + end + 2,
        opens: body.starts_with('#'),
        closes: body.starts_with('/'),
        trims_after: body.trim_end().ends_with('~'),
        comment: None,
    })
}

/// Adds `lines` to the line of every element of a compiled piece, nested blocks included.
fn shift_lines(template: &mut handlebars::template::Template, lines: usize) {
    use handlebars::template::TemplateElement as E;
    if lines == 0 {
        return;
    }
    for mapping in &mut template.mapping {
        mapping.0 += lines;
    }
    for element in &mut template.elements {
        match element {
            E::HtmlExpression(h) | E::Expression(h) | E::HelperBlock(h) => {
                for t in h.template.iter_mut().chain(h.inverse.iter_mut()) {
                    shift_lines(t, lines);
                }
            }
            E::DecoratorExpression(d)
            | E::DecoratorBlock(d)
            | E::PartialExpression(d)
            | E::PartialBlock(d) => {
                for t in d.template.iter_mut() {
                    shift_lines(t, lines);
                }
            }
            _ => {}
        }
    }
}

/// Appends a compiled piece to the template so far; text that a cut divided is joined
/// back into one raw string.
fn append(joined: &mut handlebars::template::Template, part: handlebars::template::Template) {
    use handlebars::template::TemplateElement as E;
    let mut elements = part.elements.into_iter().zip(part.mapping).peekable();
    if let (Some(E::RawString(tail)), Some((E::RawString(head), _))) =
        (joined.elements.last_mut(), elements.peek())
    {
        tail.push_str(head);
        elements.next();
    }
    for (element, mapping) in elements {
        joined.elements.push(element);
        joined.mapping.push(mapping);
    }
}

/// Refuses triple braces and partials anywhere in the template, with their position.
fn refuse_unescaped(
    template: &handlebars::template::Template,
    name: &str,
) -> Result<(), TemplateError> {
    use handlebars::template::TemplateElement as E;
    for (i, element) in template.elements.iter().enumerate() {
        let what = match element {
            E::HtmlExpression(_) => Some("triple braces {{{…}}}"),
            E::PartialExpression(_) | E::PartialBlock(_) => Some("a partial {{> …}}"),
            _ => None,
        };
        if let Some(what) = what {
            let pos = template.mapping.get(i).map_or((0, 0), |m| (m.0, m.1));
            return Err(TemplateError::Unescaped {
                name: name.to_string(),
                line: pos.0,
                column: pos.1,
                what,
            });
        }
        let inner: Vec<&handlebars::template::Template> = match element {
            E::HelperBlock(h) => h.template.iter().chain(h.inverse.iter()).collect(),
            E::DecoratorBlock(d) => d.template.iter().collect(),
            _ => Vec::new(),
        };
        for t in inner {
            refuse_unescaped(t, name)?;
        }
    }
    Ok(())
}

/// Escapes a value so that Markdown prints it literally, on one line.
pub fn escape_markdown(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + value.len() / 4);
    // Whitespace is held back so a line break and the spaces around it become one space,
    // and leading or trailing whitespace (which Markdown might read as indentation) drops.
    let mut pending_space = false;
    let bytes = value.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        // A run of ASCII letters, digits and unescaped punctuation is copied whole: char by
        // char, the ~120 values of a DPA cost 0.27 M instructions per document.
        let run = bytes[at..].iter().take_while(|&&b| copied_as_is(b)).count();
        if run > 0 {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push_str(&value[at..at + run]);
            at += run;
            continue;
        }
        let Some(c) = value[at..].chars().next() else {
            break;
        };
        at += c.len_utf8();
        if is_breaking_space(c) || c.is_control() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        // Punctuation that never starts Markdown syntax stays as it is, for readable output.
        if c.is_ascii_punctuation() && !UNESCAPED.contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The ASCII punctuation `escape_markdown` leaves alone: it never starts Markdown syntax.
const UNESCAPED: &str = ",;:?'\"/@%$";

/// Whether `escape_markdown` copies this byte as it is: an ASCII letter or digit, or
/// punctuation in `UNESCAPED` (a table: one load a byte).
fn copied_as_is(b: u8) -> bool {
    const TABLE: [bool; 256] = {
        let mut table = [false; 256];
        let mut b = 0;
        while b < 256 {
            table[b] = (b as u8).is_ascii_alphanumeric();
            b += 1;
        }
        let unescaped = UNESCAPED.as_bytes();
        let mut i = 0;
        while i < unescaped.len() {
            table[unescaped[i] as usize] = true;
            i += 1;
        }
        table
    };
    TABLE[usize::from(b)]
}

/// Whitespace that may be collapsed; non-breaking spaces are content and are kept.
pub(crate) fn is_breaking_space(c: char) -> bool {
    c.is_whitespace() && !matches!(c, '\u{a0}' | '\u{2007}' | '\u{202f}')
}

/// Formats a date as "1 June 2026".
pub fn long_date(date: NaiveDate) -> String {
    date.format("%-d %B %Y").to_string()
}

/// Joins address lines into one line: "Königstraße 12, 70173 Stuttgart".
pub(crate) fn one_line(text: &str) -> String {
    address_lines(text).join(", ")
}

fn address_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.trim().trim_end_matches(',').trim_end().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

fn signatory(s: &Signatory) -> Value {
    json!({ "name": s.name, "title": s.title })
}

/// An entry as the template sees it: every field of the model under its file name (an
/// optional field that is absent is null, so `{{#if}}` can test it), plus `opt_in` and
/// `opt_out`. Built from the model's serde form, so a new field reaches the template
/// without an edit here.
pub(crate) fn entry(e: &Entry) -> Value {
    let mut map = match serde_json::to_value(e) {
        Ok(Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    for field in crate::model::field_names::<Entry>() {
        map.entry(field.to_string()).or_insert(Value::Null);
    }
    // Addresses print on one line in a table cell.
    if let Some(address) = &e.legal_address {
        map.insert("legal_address".into(), Value::String(one_line(address)));
    }
    map.insert(
        "opt_in".into(),
        Value::Bool(e.activation == Activation::OptIn),
    );
    map.insert(
        "opt_out".into(),
        Value::Bool(e.activation == Activation::OptOut),
    );
    Value::Object(map)
}

/// Builds the template context; only annex entries that apply to the customer are included.
pub fn context(
    vendor: &Vendor,
    annex: &Annex,
    fingerprint: &Fingerprint,
    customer: &Customer,
    signing: &SigningInfo,
) -> Value {
    let run = RunContext::new(vendor.clone(), annex.clone(), *fingerprint);
    let specimen = run.specimen(customer, &signing.key_id);
    run.context(customer, signing, &specimen)
}

/// The vendor, annex and fingerprint of a run, with the parts of the context that depend
/// on them alone built once: each customer's [`context`] is these plus its own parts.
#[derive(Debug)]
pub struct RunContext {
    /// Names this run's parts in the per-thread table of annex parts (see [`Selected`]).
    id: u64,
    vendor: Vendor,
    annex: Annex,
    fingerprint: Fingerprint,
    /// The `vendor` field.
    vendor_value: Value,
    /// The `fingerprint` field.
    fingerprint_value: Value,
    legal: crate::legal::Shared,
}

/// The parts of a context that depend on the customer's features alone: the `annex`
/// sections with the entries that apply, their counts, and the `published` list.
#[derive(Debug)]
struct Selected {
    sections: Value,
    entry_count: usize,
    has_opt_in: bool,
    has_opt_out: bool,
    has_account_only: bool,
    published: Value,
}

/// A run and a customer's features, exactly as listed (order and repeats included).
type SelectedKey = (u64, Vec<String>);

thread_local! {
    /// Customers of a run mostly share a few feature sets; their annex parts are built
    /// once per set and cloned (a clone is a fraction of building them from the model).
    static SELECTED: std::cell::RefCell<crate::cache::Memo<SelectedKey, std::sync::Arc<Selected>>> =
        std::cell::RefCell::new(crate::cache::Memo::new(64));
}

impl RunContext {
    /// Builds the customer-independent parts for a vendor, its annex and the annex's
    /// fingerprint.
    pub fn new(vendor: Vendor, annex: Annex, fingerprint: Fingerprint) -> RunContext {
        static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        RunContext {
            id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            vendor_value: json!({
                "legal_name": vendor.legal_name,
                "address": one_line(&vendor.address),
                "address_lines": address_lines(&vendor.address),
                "email": vendor.email,
                "website": vendor.website,
                "notice_days": vendor.notice_days,
                "governing_law": vendor.governing_law,
                "subprocessors_url": vendor.subprocessors_url,
                "signatory": signatory(&vendor.signatory),
            }),
            fingerprint_value: json!({
                "full": fingerprint.hex(),
                "grouped": fingerprint.grouped(),
                "short": fingerprint.short(),
            }),
            legal: crate::legal::Shared::new(&vendor, &annex),
            vendor,
            annex,
            fingerprint,
        }
    }

    pub fn vendor(&self) -> &Vendor {
        &self.vendor
    }

    pub fn annex(&self) -> &Annex {
        &self.annex
    }

    pub fn fingerprint(&self) -> &Fingerprint {
        &self.fingerprint
    }

    /// Why a customer's document signed with `key_id` is a specimen, if it is one (the
    /// same as [`crate::legal::Specimen::of`]).
    pub fn specimen(&self, customer: &Customer, key_id: &str) -> crate::legal::Specimen {
        self.legal.specimen(customer, key_id)
    }

    /// The template context of one customer, given its specimen reasons (from
    /// [`RunContext::specimen`]).
    pub fn context(
        &self,
        customer: &Customer,
        signing: &SigningInfo,
        specimen: &crate::legal::Specimen,
    ) -> Value {
        let (vendor, annex) = (&self.vendor, &self.annex);
        let key = (self.id, customer.features.clone());
        let Ok(selected) = crate::cache::memoised(&SELECTED, key, |_| {
            Ok::<_, std::convert::Infallible>(std::sync::Arc::new(self.select(&customer.features)))
        });
        // json! copies a value it is given by serialising it, so the prepared parts are
        // inserted as clones below, not written inside it.
        let mut context = json!({
            "customer": {
                "id": customer.id,
                "legal_name": customer.legal_name,
                "address": one_line(&customer.address),
                "address_lines": address_lines(&customer.address),
                "country": customer.country,
                "email": customer.email,
                "effective": customer.effective.format("%Y-%m-%d").to_string(),
                "effective_text": long_date(customer.effective),
                "features": customer.features,
                "signatory": signatory(&customer.signatory),
            },
            "annex": {
                "vendor": annex.vendor,
                "version": annex.version,
                "effective": annex.effective.format("%Y-%m-%d").to_string(),
                "effective_text": long_date(annex.effective),
                "entry_count": selected.entry_count,
                "has_opt_in": selected.has_opt_in,
                "has_opt_out": selected.has_opt_out,
                "has_account_only": selected.has_account_only,
            },
            "signing": {
                "key_id": signing.key_id,
                "issued": signing.issued.format("%Y-%m-%d").to_string(),
                "issued_text": long_date(signing.issued),
                "verify_hint": signing.verify_hint,
            },
        });
        if let Some(map) = context.as_object_mut() {
            map.insert("vendor".into(), self.vendor_value.clone());
            map.insert("fingerprint".into(), self.fingerprint_value.clone());
            if let Some(Value::Object(annex)) = map.get_mut("annex") {
                annex.insert("sections".into(), selected.sections.clone());
            }
            // The vendor's processing facts, transfer parts, dates, specimen and full list.
            map.extend(self.legal.context(
                vendor,
                annex,
                customer,
                signing,
                specimen,
                selected.published.clone(),
            ));
        }
        context
    }

    /// The annex parts for a customer who enabled `features`.
    fn select(&self, features: &[String]) -> Selected {
        let mut entry_count = 0;
        let mut has_opt_in = false;
        let mut has_opt_out = false;
        let mut has_account_only = false;
        let sections: Vec<Value> = self
            .annex
            .sections
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let applying: Vec<&Entry> = s
                    .entries
                    .iter()
                    .filter(|e| e.applies_to(features))
                    .collect();
                entry_count += applying.len();
                has_opt_in |= applying.iter().any(|e| e.activation == Activation::OptIn);
                has_opt_out |= applying.iter().any(|e| e.activation == Activation::OptOut);
                has_account_only |= !s.subprocessors;
                let entries = Value::Array(applying.iter().copied().map(entry).collect());
                let mut section = json!({
                    "number": i + 1,
                    "title": s.title,
                    "description": s.description,
                    "subprocessors": s.subprocessors,
                    // Which optional columns the section's table needs.
                    "has_certifications": applying.iter().any(|e| !e.certifications.is_empty()),
                    "has_websites": applying.iter().any(|e| e.website.is_some()),
                    "has_transfers": applying.iter().any(|e| !e.transfer_mechanism.is_empty()),
                    "has_details": applying.iter().any(|e| {
                        e.legal_address.is_some()
                            || e.has_access.is_some()
                            || e.no_access.is_some()
                            || !e.remarks.is_empty()
                    }),
                });
                if let Some(map) = section.as_object_mut() {
                    map.insert("entries".into(), entries);
                }
                section
            })
            .collect();
        Selected {
            sections: Value::Array(sections),
            entry_count,
            has_opt_in,
            has_opt_out,
            has_account_only,
            published: crate::legal::published(&self.vendor, &self.annex, features),
        }
    }
}

/// Adds what a change notice prints to a DPA context: `previous` (the replaced annex:
/// `version`, `effective`, `fingerprint`, `fingerprint_short`), `changes` (the diff, see
/// below) and `notice` (`date`, `iso_date`, `deadline`, `iso_deadline`, `takes_effect`,
/// `change_count`).
pub fn add_notice_context(
    context: &mut Value,
    vendor: &Vendor,
    annex: &Annex,
    notice: &crate::compose::NoticeInputs,
) {
    let deadline = notice.deadline(vendor);
    // A date split over two lines is easy to misread in a notice about deadlines.
    let long_date = |d: NaiveDate| long_date(d).replace(' ', "\u{a0}");
    let Some(map) = context.as_object_mut() else {
        return;
    };
    map.insert(
        "previous".into(),
        json!({
            "version": notice.previous.version,
            "effective": long_date(notice.previous.effective),
            "fingerprint": notice.previous_fingerprint.hex(),
            "fingerprint_short": notice.previous_fingerprint.short(),
        }),
    );
    map.insert(
        "changes".into(),
        changes_context(
            &notice.diff,
            &notice.previous,
            annex,
            vendor.processing.as_ref().map(|p| &p.features),
        ),
    );
    map.insert(
        "notice".into(),
        json!({
            "date": long_date(notice.date),
            "iso_date": notice.date.to_string(),
            "deadline": long_date(deadline),
            "iso_deadline": deadline.to_string(),
            "takes_effect": long_date(annex.effective),
            "change_count": notice.diff.change_count(),
        }),
    );
}

/// The diff as the notice template sees it: plain strings, ready to print.
///
/// Every provider carries `subprocessor`: whether its section (in the new annex, or the old
/// one for a removal) lists Subprocessors or providers that see account data only, which a
/// notice must tell apart. An opt-in provider carries `feature`: its feature in the
/// vendor's words (`[processing.features]`), never the key. Field changes carry a readable
/// `label` and `old`/`new` as null where the field is absent.
fn changes_context(
    diff: &crate::annex::diff::AnnexDiff,
    old: &Annex,
    new: &Annex,
    features: Option<&std::collections::BTreeMap<String, String>>,
) -> serde_json::Value {
    let is_subprocessor = |annex: &Annex, section: &str| {
        annex
            .sections
            .iter()
            .find(|s| s.title == section)
            .is_none_or(|s| s.subprocessors)
    };
    let entry = |e: &Entry, section: &str, annex: &Annex| {
        json!({
            "name": e.name,
            "function": e.function,
            "location": e.location,
            "activation": e.activation.as_str(),
            "opt_in": e.activation == Activation::OptIn,
            "opt_out": e.activation == Activation::OptOut,
            "feature": e.feature.as_ref().and_then(|f| features.and_then(|m| m.get(f))),
            "section": section,
            "subprocessor": is_subprocessor(annex, section),
        })
    };
    let field = |f: &crate::annex::diff::FieldChange| {
        json!({
            "field": f.field,
            "label": field_label(f.field),
            "old": f.old,
            "new": f.new,
        })
    };
    json!({
        "added": diff.added.iter().map(|p| entry(&p.entry, &p.section, new)).collect::<Vec<_>>(),
        "removed": diff.removed.iter().map(|p| entry(&p.entry, &p.section, old)).collect::<Vec<_>>(),
        "replaced": diff.replaced.iter().map(|r| json!({
            "section": r.section,
            "subprocessor": is_subprocessor(new, &r.section),
            "old": entry(&r.old, &r.section, new),
            "new": entry(&r.new, &r.section, new),
        })).collect::<Vec<_>>(),
        "changed": diff.changed.iter().map(|c| json!({
            "name": c.name,
            "section": c.section,
            "subprocessor": is_subprocessor(new, &c.section),
            "fields": c.fields.iter().map(field).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "moved": diff.moved.iter().map(|m| json!({
            "name": m.name,
            "from": m.from,
            "to": m.to,
            "subprocessor": is_subprocessor(new, &m.to),
            "was_subprocessor": is_subprocessor(old, &m.from),
        })).collect::<Vec<_>>(),
        "sections": diff.sections.iter().map(|s| json!({
            "title": s.title,
            "added": s.kind == crate::annex::diff::SectionChangeKind::Added,
            "removed": s.kind == crate::annex::diff::SectionChangeKind::Removed,
            "fields": s.fields.iter().map(field).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "order_changed": diff.order_changed,
        "count": diff.change_count(),
        "none": diff.change_count() == 0,
    })
}

/// How a notice names an annex field, as a singular noun: `has_access` -> "data it has
/// access to", so that "the {label} changes from ..." reads well for every field.
fn field_label(field: &str) -> String {
    match field {
        "location" => "location of processing".into(),
        "certifications" => "list of certifications".into(),
        "legal_address" => "registered address".into(),
        "has_access" => "data it has access to".into(),
        "no_access" => "data it has no access to".into(),
        "feature" => "optional feature that enables it".into(),
        "transfer_mechanism" => "list of transfer safeguards".into(),
        "remarks" => "list of remarks".into(),
        "subprocessors" => "status of its providers as Subprocessors".into(),
        other => other.replace('_', " "),
    }
}

// ---------------------------------------------------------------------------------------
// Helpers. They return values (not write text), so Handlebars escapes what they return.

/// The n-th argument of a helper; a missing variable is an error that names it.
fn arg<'a>(h: &'a Helper<'_>, helper: &'static str, n: usize) -> Result<&'a Value, RenderError> {
    let param = h
        .param(n)
        .ok_or_else(|| RenderErrorReason::ParamNotFoundForIndex(helper, n))?;
    if param.is_value_missing() {
        let name = param
            .relative_path()
            .cloned()
            .unwrap_or_else(|| format!("argument {n} of {helper}"));
        return Err(RenderErrorReason::MissingVariable(Some(name)).into());
    }
    Ok(param.value())
}

fn strings(value: &Value, helper: &'static str) -> Result<Vec<String>, RenderError> {
    // An entry's empty list is left out of its serialized form and reaches the template as
    // null (see `entry`): it joins to nothing.
    if value.is_null() {
        return Ok(Vec::new());
    }
    let items = value
        .as_array()
        .ok_or(RenderErrorReason::InvalidParamType("a list"))?;
    items
        .iter()
        .map(|v| match v {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            _ => Err(RenderErrorReason::Other(format!("{helper}: the list must hold text")).into()),
        })
        .collect()
}

/// `if` / `unless` that, unlike the built-in ones, fail on a variable missing from the context.
struct StrictIf {
    positive: bool,
}

impl HelperDef for StrictIf {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        r: &'reg Handlebars<'reg>,
        ctx: &'rc Context,
        rc: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let name = if self.positive { "if" } else { "unless" };
        let truthy = match arg(h, name, 0)? {
            Value::Null | Value::Bool(false) => false,
            Value::Bool(true) => true,
            Value::String(s) => !s.is_empty(),
            Value::Array(a) => !a.is_empty(),
            Value::Object(o) => !o.is_empty(),
            Value::Number(n) => n.as_f64().is_some_and(|x| x != 0.0),
        };
        let branch = if truthy == self.positive {
            h.template()
        } else {
            h.inverse()
        };
        match branch {
            Some(t) => t.render(r, ctx, rc, out),
            None => Ok(()),
        }
    }
}

struct DateHelper;

impl HelperDef for DateHelper {
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
    ) -> Result<ScopedJson<'rc>, RenderError> {
        let value = arg(h, "date", 0)?;
        let text = value.as_str().unwrap_or_default();
        let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
            RenderErrorReason::Other(format!(
                "date: expected a date like 2026-06-01, got {value}"
            ))
        })?;
        Ok(ScopedJson::Derived(Value::String(long_date(date))))
    }
}

struct JoinHelper;

impl HelperDef for JoinHelper {
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
    ) -> Result<ScopedJson<'rc>, RenderError> {
        let items = strings(arg(h, "join", 0)?, "join")?;
        let separator = match h.param(1) {
            Some(_) => arg(h, "join", 1)?.as_str().unwrap_or(", ").to_string(),
            None => ", ".to_string(),
        };
        Ok(ScopedJson::Derived(Value::String(items.join(&separator))))
    }
}

struct ListHelper;

impl HelperDef for ListHelper {
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
    ) -> Result<ScopedJson<'rc>, RenderError> {
        let items = strings(arg(h, "list", 0)?, "list")?;
        let text = match items.as_slice() {
            [] => String::new(),
            [one] => one.clone(),
            [init @ .., last] => format!("{} and {last}", init.join(", ")),
        };
        Ok(ScopedJson::Derived(Value::String(text)))
    }
}

struct SentenceHelper;

impl HelperDef for SentenceHelper {
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
    ) -> Result<ScopedJson<'rc>, RenderError> {
        let value = arg(h, "sentence", 0)?;
        let text = value.as_str().unwrap_or_default().trim_end();
        let done = text.is_empty() || text.ends_with(['.', '!', '?']);
        let text = if done {
            text.to_string()
        } else {
            format!("{text}.")
        };
        Ok(ScopedJson::Derived(Value::String(text)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_context_has_every_model_field_and_the_flags() {
        let e: Entry = toml::from_str(
            "name = 'N'\nfunction = 'F'\nlocation = 'L'\nlegal_address = \"A\\nB\"\nactivation = 'opt-in'\nfeature = 'ai'",
        )
        .unwrap();
        let v = entry(&e);
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        let mut want = crate::model::field_names::<Entry>().to_vec();
        want.extend(["opt_in", "opt_out"]);
        want.sort_unstable();
        assert_eq!(keys, want);
        assert!(want.contains(&"has_access"));
        assert_eq!(v["legal_address"], "A, B");
        assert_eq!(v["website"], Value::Null);
        assert_eq!(v["activation"], "opt-in");
        assert_eq!(v["opt_in"], json!(true));
        assert_eq!(v["opt_out"], json!(false));
    }

    #[test]
    fn every_diffed_field_has_a_readable_label() {
        let fields = [
            "name",
            "function",
            "location",
            "certifications",
            "website",
            "legal_address",
            "has_access",
            "no_access",
            "activation",
            "feature",
            "transfer_mechanism",
            "remarks",
            "description",
            "subprocessors",
        ];
        for f in fields {
            let label = field_label(f);
            assert!(!label.contains('_') && !label.is_empty(), "{f}: {label}");
        }
        assert_eq!(field_label("location"), "location of processing");
    }

    #[test]
    fn run_contexts_are_the_same_with_and_without_the_memo_table() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");
        let vendor = crate::load::vendor(format!("{dir}/segmetrics/vendor.toml")).unwrap();
        let annexes = ["annex.toml", "annex-next.toml"]
            .map(|f| crate::load::annex(format!("{dir}/segmetrics/{f}")).unwrap());
        assert_ne!(annexes[0].sections, annexes[1].sections);
        let runs = annexes.map(|a| {
            let fingerprint = crate::annex::fingerprint(&a);
            RunContext::new(vendor.clone(), a, fingerprint)
        });
        let base = crate::load::customer(format!("{dir}/customers/mueller-soehne.toml")).unwrap();
        let mut customers = Vec::new();
        for features in [vec![], vec!["ai"], vec![], vec!["ai", "x"], vec!["x", "ai"]] {
            let mut c = base.clone();
            c.features = features.into_iter().map(String::from).collect();
            customers.push(c);
        }
        let signing = SigningInfo {
            key_id: "4A988A749CF5D816".into(),
            issued: NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
            verify_hint: "h".into(),
        };
        let mut with = Vec::new();
        // Runs interleaved, so that a part kept for one run could be handed to the other.
        for c in &customers {
            for run in &runs {
                let specimen = run.specimen(c, &signing.key_id);
                assert_eq!(
                    specimen,
                    crate::legal::Specimen::of(run.vendor(), run.annex(), c, &signing.key_id)
                );
                with.push(run.context(c, &signing, &specimen));
            }
        }
        crate::cache::set_enabled(Some(false));
        let mut without = Vec::new();
        for c in &customers {
            for run in &runs {
                let specimen = run.specimen(c, &signing.key_id);
                without.push(run.context(c, &signing, &specimen));
            }
        }
        crate::cache::set_enabled(None);
        assert_eq!(with, without);
        // The opt-in provider is listed for a customer with the feature, and not without.
        let count = |v: &Value| v["annex"]["entry_count"].as_u64().unwrap();
        assert_eq!(count(&with[2]), count(&with[0]) + 1);
        assert_eq!(with[0]["published"]["has_unused"], true);
        assert_eq!(with[2]["published"]["has_unused"], false);
        assert_ne!(with[0], with[1], "each run has its own annex");
    }

    /// Renders with both entry points, which must agree, text and errors alike.
    fn render(source: &str, context: &Value) -> Result<String, TemplateError> {
        let template = Template::new(source, "t.md.hbs")?;
        let borrowed = template.render(context);
        let owned = template.render_owned(context.clone());
        assert_eq!(format!("{borrowed:?}"), format!("{owned:?}"), "{source}");
        borrowed
    }

    #[test]
    fn long_templates_compile_in_pieces_to_the_same_template() {
        for source in [
            include_str!("../templates/dpa.md.hbs"),
            include_str!("../templates/notice.md.hbs"),
        ] {
            let whole = compile_whole(source, "t").unwrap();
            assert!(!cut_points(source).is_empty());
            assert_eq!(compile(source, "t").unwrap(), whole);
            // The fast way is taken, and it leaves handlebars a fraction of the text.
            let masked = Masked::new(source).unwrap();
            assert!(masked.source.len() < source.len() / 2, "{}", masked.source);
            let compiled = compile_long(&masked.source, "t").unwrap();
            assert_eq!(masked.restore(compiled).unwrap(), whole);
            for group_len in [64, 1] {
                assert_eq!(compile_in_pieces(source, "t", group_len).unwrap(), whole);
            }
        }
        // CRLF line ends, standalone block lines, whitespace control and a multi-line
        // comment whose lines look like text.
        let tricky = "Intro line\r\n{{#if a}}\r\n  In {{x~}}\r\nText\r\n{{else}}\r\nOther\r\n{{/if}}\r\n\
                      After {{~y}} text\n\n  Para {{z}}\r\nLine\n \n{{~z}}\n{{!-- a comment\nLooks like text\n--}}\nTail {{join l \"}}\"}}\n\
                      {{#each l}}\nItem {{this}}\n{{/each}}\nEnd\n";
        let whole = compile_whole(tricky, "t").unwrap();
        assert!(!cut_points(tricky).is_empty());
        assert_eq!(compile_in_pieces(tricky, "t", 1).unwrap(), whole);
    }

    #[test]
    fn text_is_put_back_with_its_columns() {
        let source = "Müller\u{a0}& Söhne,\u{2028}a long line of text {{&raw}}\n";
        let e = Template::new(source, "t").unwrap_err();
        assert!(
            matches!(
                e,
                TemplateError::Unescaped {
                    line: 1,
                    column: 37,
                    ..
                }
            ),
            "{e:?}"
        );
        let source = "{{!--\n  A note, inside a comment.\n--}}\nSome text {{#if a}}Yes, it is.\r\n\
                      Then {{b}}.{{else if c}}\n  No, it is not: {{d}}\n{{/if}}\n";
        let masked = Masked::new(source).unwrap();
        assert!(!masked.source.contains("inside a comment") && !masked.source.contains("it is"));
        let compiled = compile_long(&masked.source, "t").unwrap();
        assert_eq!(
            masked.restore(compiled).unwrap(),
            compile_whole(source, "t").unwrap()
        );
        let e = Template::new(source, "t")
            .unwrap()
            .render(&json!({"a": false, "c": true}))
            .unwrap_err();
        assert!(
            matches!(
                &e,
                TemplateError::MissingVariable {
                    line: 6,
                    column: 18,
                    ..
                }
            ),
            "{e:?}"
        );
    }

    #[test]
    fn sources_the_scanner_does_not_follow_compile_whole() {
        for source in [
            "Text with a stand-in \u{E000}0 {{x}}\n",
            "Escaped \\{{x}} tag and more text\n",
            "A path {{[a}}b]}} with brackets, and text\n",
            "An object {{x {}}}, and text\n",
            "Not closed {{x and text\n",
        ] {
            assert!(Masked::new(source).is_none(), "{source}");
            match compile_whole(source, "t") {
                Ok(whole) => assert_eq!(compile(source, "t").unwrap(), whole),
                Err(e) => assert_eq!(compile(source, "t").unwrap_err().to_string(), e.to_string()),
            }
        }
        // A short comment ends at its first `}}`, quotes or not.
        let source = "{{! don't }}Plain text that follows, {{x}} and 'more'\n";
        let masked = Masked::new(source).unwrap();
        assert_eq!(masked.texts.len(), 2);
        assert_eq!(
            compile(source, "t").unwrap(),
            compile_whole(source, "t").unwrap()
        );
    }

    #[test]
    fn cuts_keep_unicode_blanks_and_trimming_that_outlasts_a_comment() {
        // U+2028 is whitespace to `~`; and `~}}` trims the text after a later comment.
        for source in [
            "Plain words.\n\u{2028}{{~x~}}",
            "{{x~}}text\nPlain words.\n{{! note }}  More words.\ntext {{y}}\nEnd\n",
        ] {
            let whole = compile_whole(source, "t").unwrap();
            assert_eq!(
                compile_in_pieces(source, "t", 1).unwrap(),
                whole,
                "{source:?}"
            );
            assert_eq!(compile(source, "t").unwrap(), whole, "{source:?}");
        }
    }

    #[test]
    fn errors_in_long_templates_keep_their_positions() {
        let mut source = "Plain text line.\n".repeat(300);
        source.push_str("Value {{#if a}}{{missing}}{{/if}} here.\n");
        assert!(!cut_points(&source).is_empty());
        let e = Template::new(&source, "t")
            .unwrap()
            .render(&json!({"a": true}))
            .unwrap_err();
        assert!(
            matches!(&e, TemplateError::MissingVariable { line: 301, .. }),
            "{e}"
        );
        source.push_str("Last {{#if x}} unclosed\n");
        let whole = compile_whole(&source, "t").unwrap_err().to_string();
        let e = Template::new(&source, "t").unwrap_err();
        assert_eq!(e.to_string(), whole);
        assert!(
            matches!(e, TemplateError::Syntax { line: 302.., .. }),
            "{e}"
        );
    }

    mod pieces {
        use super::super::*;
        use proptest::prelude::*;

        /// A piece of template source; `odd` adds pieces that make the source one that
        /// masking leaves alone (escapes, stray braces, brackets in a tag).
        fn leaf(odd: bool) -> impl Strategy<Value = String> {
            // Weighted towards what trimming and standalone lines act on: line breaks,
            // blanks, text and tags with whitespace control. `0` marks the odd pieces.
            let pieces = [
                (3, "text"),
                (1, "Word "),
                (4, "\n"),
                (1, "\r\n"),
                (2, "  "),
                (1, "\t"),
                (0, "}"),
                (0, "{"),
                (0, "\\"),
                (0, "{{[a b]}}"),
                (1, "{{x}}"),
                (2, "{{~x}}"),
                (2, "{{x~}}"),
                (1, "{{~x~}}"),
                (1, "{{! note }}"),
                (1, "{{!-- a\nLine --}}"),
                (1, "{{join l \"}}\"}}"),
                // Lines of text that masking replaces, some with characters that count
                // as whitespace or as more than one byte.
                (3, "Plain words of a clause.\n"),
                (1, "  Indented, with 'quotes' and \"more\"  \n"),
                (1, "Müller\u{a0}& Söhne"),
                (1, "\u{2028}"),
                (1, "\r"),
                (1, "{{! don't }}"),
                (1, "{{!--\n  An inner line\n  and the last --}}"),
                (1, "{{!\n  An inner line\n}}"),
            ];
            let weighted = pieces
                .into_iter()
                .filter(|&(weight, _)| odd || weight > 0)
                .map(|(weight, piece)| (weight.max(1), Just(piece.to_string())))
                .collect();
            prop::strategy::Union::new_weighted(weighted)
        }

        fn body(odd: bool) -> impl Strategy<Value = String> {
            let leaves = prop::collection::vec(leaf(odd), 0..8).prop_map(|v| v.concat());
            leaves.prop_recursive(3, 64, 8, |inner| {
                (
                    prop::collection::vec(inner.clone(), 0..6),
                    prop::option::of(inner),
                    prop_oneof![Just("if a"), Just("each l"), Just("unless b")],
                    any::<(bool, bool, bool)>(),
                )
                    .prop_map(
                        |(parts, inverse, helper, (trim, standalone, chain))| {
                            let nl = if standalone { "\n" } else { "" };
                            let t = if trim { "~" } else { "" };
                            let name = helper.split(' ').next().unwrap_or("if");
                            let mut s = format!("{nl}{{{{#{helper}{t}}}}}{nl}{}", parts.concat());
                            if let Some(inverse) = inverse {
                                let chain = if chain { " if c" } else { "" };
                                s.push_str(&format!("{nl}{{{{{t}else{chain}}}}}{nl}{inverse}"));
                            }
                            s.push_str(&format!("{nl}{{{{/{name}}}}}{nl}"));
                            s
                        },
                    )
            })
        }

        proptest! {
            #[test]
            fn pieces_join_into_the_whole(parts in prop::collection::vec(body(true), 1..12)) {
                let source = parts.concat();
                match compile_whole(&source, "t") {
                    Ok(whole) => {
                        for group_len in [1, 16] {
                            prop_assert_eq!(
                                &compile_in_pieces(&source, "t", group_len).unwrap(),
                                &whole
                            );
                        }
                    }
                    Err(e) => {
                        let pieces = compile_in_pieces(&source, "t", 1).unwrap_err();
                        prop_assert_eq!(pieces.to_string(), e.to_string());
                    }
                }
            }

            #[test]
            fn masked_text_comes_back_as_the_whole(parts in prop::collection::vec(body(false), 1..12)) {
                let source = parts.concat();
                match compile_whole(&source, "t") {
                    Ok(whole) => {
                        prop_assert_eq!(&compile(&source, "t").unwrap(), &whole);
                        // Also in pieces, and checked without the fallback to the whole.
                        if let Some(masked) = Masked::new(&source) {
                            let long = compile_long(&masked.source, "t").ok();
                            let restored = long.and_then(|t| masked.restore(t));
                            prop_assert_eq!(restored.as_ref(), Some(&whole));
                            for group_len in [1, 16] {
                                let part = compile_in_pieces(&masked.source, "t", group_len);
                                let restored = masked.restore(part.unwrap());
                                prop_assert_eq!(restored.as_ref(), Some(&whole));
                            }
                        }
                    }
                    Err(e) => {
                        let masked = compile(&source, "t").unwrap_err();
                        prop_assert_eq!(masked.to_string(), e.to_string());
                    }
                }
                // A block left open after the text: the error is the one compiling the
                // source whole gives.
                let broken = format!("{source}{{{{#if a}}}}\nA line of text left open\n");
                let whole = compile_whole(&broken, "t").unwrap_err();
                prop_assert_eq!(compile(&broken, "t").unwrap_err().to_string(), whole.to_string());
            }
        }
    }

    #[test]
    fn a_template_is_shareable_between_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Template>();
    }

    #[test]
    fn values_are_escaped_for_markdown() {
        let out = render("Name: {{name}}", &json!({"name": "**Acme** | {{x}} # <b>"})).unwrap();
        assert_eq!(out, r"Name: \*\*Acme\*\* \| \{\{x\}\} \# \<b\>");
        assert_eq!(escape_markdown("1. First"), r"1\. First");
        assert_eq!(escape_markdown("- item"), r"\- item");
        assert_eq!(escape_markdown("> quote"), r"\> quote");
        assert_eq!(
            escape_markdown("a\\b [c](d) `e` _f_ &amp;"),
            r"a\\b \[c\]\(d\) \`e\` \_f\_ \&amp;"
        );
        assert_eq!(
            escape_markdown("  Line one  \r\n\n  # two\tthree "),
            r"Line one \# two three"
        );
        assert_eq!(escape_markdown("Müller & Söhne"), r"Müller \& Söhne");
        assert_eq!(
            escape_markdown("S.A.\u{a0}de C.V."),
            "S\\.A\\.\u{a0}de C\\.V\\."
        );
    }

    /// `escape_markdown` as it was written first, char by char: the fast one must agree.
    fn escape_char_by_char(value: &str) -> String {
        let mut out = String::new();
        let mut pending_space = false;
        for c in value.chars() {
            if is_breaking_space(c) || c.is_control() {
                pending_space = !out.is_empty();
                continue;
            }
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            if c.is_ascii_punctuation() && !",;:?'\"/@%$".contains(c) {
                out.push('\\');
            }
            out.push(c);
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn escaping_by_runs_is_escaping_char_by_char(
            value in "[ -~\t\n\r\u{0}-\u{1f}\u{7f}-\u{a0}äß\u{2028}\u{3000}\u{202f}\u{2007}€]{0,40}"
        ) {
            proptest::prop_assert_eq!(escape_markdown(&value), escape_char_by_char(&value));
        }
    }

    #[test]
    fn if_and_unless_treat_null_and_empty_as_false() {
        let ctx = json!({"n": null, "e": "", "l": [], "z": 0, "t": "x", "f": false, "o": {}});
        let out = render("{{#if n}}1{{/if}}{{#if e}}2{{/if}}{{#if l}}3{{/if}}{{#if z}}4{{/if}}{{#if f}}5{{/if}}{{#if o}}6{{/if}}{{#if t}}T{{else}}F{{/if}}{{#unless n}}U{{/unless}}", &ctx).unwrap();
        assert_eq!(out, "TU");
        let out = render("{{#if n}}a{{else if t}}b{{else}}c{{/if}}", &ctx).unwrap();
        assert_eq!(out, "b");
    }

    #[test]
    fn helpers_format_dates_and_lists() {
        let ctx = json!({"d": "2026-06-01", "xs": ["SOC 2", "ISO 27001", "GDPR DPA"], "one": ["a"], "none": []});
        assert_eq!(render("{{date d}}", &ctx).unwrap(), "1 June 2026");
        assert_eq!(
            render("{{join xs \" & \"}}", &ctx).unwrap(),
            r"SOC 2 \& ISO 27001 \& GDPR DPA"
        );
        assert_eq!(
            render("{{join xs}}", &ctx).unwrap(),
            r"SOC 2, ISO 27001, GDPR DPA"
        );
        assert_eq!(
            render("{{list xs}}|{{list one}}|{{list none}}", &ctx).unwrap(),
            "SOC 2, ISO 27001 and GDPR DPA|a|"
        );
        let ctx2 = json!({"a": "Done.", "b": "Not done", "c": "Why?"});
        assert_eq!(
            render("{{sentence a}} {{sentence b}} {{sentence c}}", &ctx2).unwrap(),
            r"Done\. Not done\. Why?"
        );
        let err = render("{{date xs}}", &ctx).unwrap_err();
        assert!(err.to_string().contains("expected a date"), "{err}");
    }

    #[test]
    fn a_missing_variable_is_named_with_its_line() {
        let ctx = json!({"customer": {"legal_name": "Acme"}});
        let err = render("# DPA\n\nBetween\n{{customer.legal_nmae}} and us.", &ctx).unwrap_err();
        match &err {
            TemplateError::MissingVariable {
                name,
                line,
                variable,
                ..
            } => {
                assert_eq!(
                    (name.as_str(), *line, variable.as_str()),
                    ("t.md.hbs", 4, "customer.legal_nmae")
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(
            err.to_string()
                .starts_with("t.md.hbs:4:1: the variable `customer.legal_nmae`"),
            "{err}"
        );
        // Also inside a block and as a helper argument.
        // `if` is strict too: a misspelt condition must not silently pick the other branch.
        let err = render("{{#if customer.legal_nmae}}x{{/if}}", &ctx).unwrap_err();
        assert!(
            matches!(err, TemplateError::MissingVariable { .. }),
            "{err:?}"
        );
        let err = render("{{#unless customer.nope}}x{{/unless}}", &ctx).unwrap_err();
        assert!(
            matches!(err, TemplateError::MissingVariable { .. }),
            "{err:?}"
        );
        let err = render("{{#each customer.items}}x{{/each}}", &ctx).unwrap_err();
        assert!(
            matches!(err, TemplateError::MissingVariable { .. }),
            "{err:?}"
        );
        let err = render("\n\n{{date customer.effective}}", &ctx).unwrap_err();
        match err {
            TemplateError::MissingVariable { line, variable, .. } => {
                assert_eq!((line, variable.as_str()), (3, "customer.effective"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unescaped_output_and_syntax_errors_are_refused_at_compile_time() {
        let err = Template::new("ok\n{{#if a}}\n  {{{raw}}}\n{{/if}}", "t").unwrap_err();
        assert!(
            matches!(err, TemplateError::Unescaped { line: 3, .. }),
            "{err:?}"
        );
        let err = Template::new("{{> other}}", "t").unwrap_err();
        assert!(matches!(err, TemplateError::Unescaped { .. }), "{err:?}");
        let err = Template::new("a\n{{#if x}}\nb", "t").unwrap_err();
        assert!(matches!(err, TemplateError::Syntax { .. }), "{err:?}");
    }

    #[test]
    fn a_lazy_template_reports_the_errors_new_does_each_time_and_renders_the_same_text() {
        for source in [
            "ok\n{{#if a}}\n  {{{raw}}}\n{{/if}}",
            "a\n{{#if x}}\nb",
            "{{> other}}",
        ] {
            let want = Template::new(source, "t.md.hbs").unwrap_err().to_string();
            let lazy = Template::lazy(source.to_string(), "t.md.hbs");
            for _ in 0..2 {
                assert_eq!(lazy.compile().unwrap_err().to_string(), want);
                assert_eq!(lazy.render(&json!({})).unwrap_err().to_string(), want);
                assert_eq!(lazy.render_owned(json!({})).unwrap_err().to_string(), want);
            }
        }
        let source = "# {{title}}\n\n{{#if a}}yes{{else}}no{{/if}}: {{date d}}\n";
        let context = json!({"title": "*T*", "a": false, "d": "2026-06-01"});
        let eager = Template::new(source, "t.md.hbs").unwrap();
        let want = eager.render(&context).unwrap();
        // Rendered first (compiled by the render) and compiled first.
        let lazy = Template::lazy(source.to_string(), "t.md.hbs");
        assert!(format!("{lazy:?}").contains("compiled: false"));
        assert_eq!(lazy.render(&context).unwrap(), want);
        assert!(format!("{lazy:?}").contains("compiled: true"));
        assert_eq!(lazy.render_owned(context.clone()).unwrap(), want);
        let lazy = Template::lazy(source.to_string(), "t.md.hbs");
        lazy.compile().unwrap();
        assert_eq!(lazy.clone().render_owned(context).unwrap(), want);
        // A missing variable is still found when rendering, with its line.
        let err = lazy
            .render(&json!({"a": true, "d": "2026-06-01"}))
            .unwrap_err();
        assert!(
            matches!(err, TemplateError::MissingVariable { line: 1, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn a_template_file_read_lazily_has_the_hash_and_compiles_as_one_read_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.md.hbs");
        let bad = dir.path().join("bad.md.hbs");
        std::fs::write(&good, "Hello {{name}}.\n").unwrap();
        std::fs::write(&bad, "a\n{{#if x}}\nb").unwrap();
        let (eager, lazy) = (
            TemplateFile::read(&good).unwrap(),
            TemplateFile::read_lazy(&good).unwrap(),
        );
        assert_eq!(lazy.sha256, eager.sha256);
        assert_eq!(lazy.sha256, crate::sign::sha256_hex(b"Hello {{name}}.\n"));
        assert_eq!(lazy.template.name(), eager.template.name());
        let context = json!({"name": "N"});
        assert_eq!(
            lazy.template.render(&context).unwrap(),
            eager.template.render(&context).unwrap()
        );
        // A bad template is read lazily, and its error (file, line) comes when compiled.
        let want = TemplateFile::read(&bad).unwrap_err().to_string();
        assert!(
            want.starts_with(&format!("{}:3:2: template syntax", bad.display())),
            "{want}"
        );
        let lazy = TemplateFile::read_lazy(&bad).unwrap();
        assert_eq!(lazy.template.compile().unwrap_err().to_string(), want);
        // A file that cannot be read is an error at once either way.
        let missing = dir.path().join("missing.md.hbs");
        assert!(matches!(
            TemplateFile::read_lazy(&missing),
            Err(TemplateError::Read { .. })
        ));
    }

    fn fixture_like() -> (Vendor, Annex, Customer) {
        let vendor: Vendor = toml::from_str(
            r#"legal_name = "V Ltd"
address = """1 Example Road,
Exampletown"""
email = "privacy@v.example"
website = "https://v.example"
notice_days = 30
[signatory]
name = "A B"
title = "CEO"
"#,
        )
        .unwrap();
        let annex: Annex = toml::from_str(
            r#"vendor = "V Ltd"
version = "7"
effective = 2026-05-26
[[section]]
title = "S"
[[section.entry]]
name = "Host"
function = "Hosting"
location = "DE"
[[section.entry]]
name = "Model Co"
function = "AI"
location = "US"
activation = "opt-in"
feature = "ai"
[[section.entry]]
name = "Tracker"
function = "Bugs"
location = "EU"
activation = "opt-out"
"#,
        )
        .unwrap();
        let customer: Customer = toml::from_str(
            r#"id = "c"
legal_name = "C GmbH"
address = "Königstraße 12\n70173 Stuttgart"
country = "DE"
email = "c@c.example"
effective = 2026-06-01
[signatory]
name = "N"
title = "T"
"#,
        )
        .unwrap();
        (vendor, annex, customer)
    }

    #[test]
    fn the_context_lists_only_entries_that_apply() {
        let (vendor, annex, mut customer) = fixture_like();
        let fp = crate::annex::fingerprint(&annex);
        let signing = SigningInfo {
            key_id: "3F2A19C0 77DE0B41".into(),
            issued: NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
            verify_hint: "minisign -Vm X.pdf -P KEY".into(),
        };
        let names = |ctx: &Value| -> Vec<String> {
            ctx["annex"]["sections"][0]["entries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["name"].as_str().unwrap().to_string())
                .collect()
        };
        let ctx = context(&vendor, &annex, &fp, &customer, &signing);
        assert_eq!(names(&ctx), ["Host", "Tracker"]);
        assert_eq!(ctx["annex"]["has_opt_in"], json!(false));
        assert_eq!(
            ctx["customer"]["address"],
            json!("Königstraße 12, 70173 Stuttgart")
        );
        assert_eq!(
            ctx["vendor"]["address"],
            json!("1 Example Road, Exampletown")
        );
        assert_eq!(ctx["customer"]["effective_text"], json!("1 June 2026"));
        assert_eq!(ctx["fingerprint"]["short"], json!(fp.short()));
        assert_eq!(ctx["fingerprint"]["full"], json!(fp.hex()));
        assert_eq!(
            ctx["annex"]["sections"][0]["entries"][1]["opt_out"],
            json!(true)
        );

        customer.features = vec!["ai".into()];
        let ctx = context(&vendor, &annex, &fp, &customer, &signing);
        assert_eq!(names(&ctx), ["Host", "Model Co", "Tracker"]);
        assert_eq!(ctx["annex"]["entry_count"], json!(3));
        assert_eq!(
            ctx["annex"]["sections"][0]["entries"][1]["opt_in"],
            json!(true)
        );
    }
}
