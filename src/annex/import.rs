//! Import a vendor's published subprocessor page into an [`Annex`].
//!
//! In: the text of an HTML, Markdown or plain-text page (as copied from a browser) and
//! [`ImportOptions`]. Out: an [`Imported`] annex plus a warning (with its page line) for
//! everything that could not be mapped, or an [`ImportError`]. HTML is parsed by html5ever
//! into the same blocks the Markdown and text reader gives (`html`, `page`), so one walk
//! reads every format. Shapes read, in any mix: tables (one section per heading or caption
//! above a table; HTML tables with or without a head), one heading or definition-list term
//! per provider followed by labelled lines, and labelled definition lists. Columns and
//! labels are matched by meaning (`fields`); what a section holds (customer data, account
//! data only, optional features) is read from its own words, with a warning when they do
//! not say (`remarks`). [`to_toml`] writes the result as an annex file for a person to
//! review; [`check_table`] renders it as plain text for `dpa annex import --check`.

use std::fmt;

use chrono::NaiveDate;

mod fields;
mod html;
mod inline;
mod output;
mod page;
mod remarks;

pub use output::{check_table, to_toml};

use fields::{Field, map_columns, parse_label};
use inline::inline;
use page::{Block, Page, PageDate, Table};
use remarks::{
    SectionKind, activation_in, apply_mentions, assign_features, certification_kind, section_kind,
    set_activation, shorten, warn_duplicates,
};

use crate::model::{Activation, Annex, Entry, Section, transfer};

/// The text written where the page does not state a required field.
pub const NOT_STATED: &str = "Not stated";

/// What the caller knows that the page may not say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// The vendor's legal name (`--vendor`); otherwise taken from the page title.
    pub vendor: Option<String>,
    /// The annex version (`--version`); otherwise a "Version:" line or the effective date.
    pub version: Option<String>,
    /// The effective date (`--effective`); otherwise a "Last updated" or "Effective date" line.
    pub effective: Option<NaiveDate>,
    /// The page's path or name, used in messages and in the written file's header.
    pub source: String,
    /// How to read the page; by default HTML is told from Markdown and text by its start.
    pub format: PageFormat,
}

/// The kind of page to read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PageFormat {
    /// HTML if the page starts like HTML (a doctype, `<html>`, `<head>` or `<body>`).
    #[default]
    Auto,
    Html,
    /// Markdown or plain text.
    Text,
}

/// An annex read from a page, with what the reader should check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub annex: Annex,
    /// Everything on the page that was guessed, defaulted or left out, in page order.
    pub warnings: Vec<Warning>,
    /// Where each section and entry came from, parallel to `annex.sections`.
    pub origins: Vec<SectionOrigin>,
}

/// The page lines one section and its entries were read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionOrigin {
    /// The line of the section's heading; `None` when the page title named the section.
    pub line: Option<usize>,
    /// The line of each entry (its table row or heading), parallel to `section.entries`.
    pub entries: Vec<usize>,
}

/// Something on the page the importer could not map exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// 1-based line of the page.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Why a page could not be turned into an annex.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(
        "{page}: no subprocessor list found: no table with a name column and no headings followed by labelled lines such as \"Data Processing Location:\""
    )]
    NoList {
        page: String,
        /// The page was read as HTML.
        html: bool,
    },
    #[error("{page}:{line}: elements nested more than {max} deep; this is not a page a person reads", max = html::MAX_DEPTH)]
    TooDeep { page: String, line: usize },
    #[error("{page}:{line}: more than {max} elements; a subprocessor page has a few thousand", max = html::MAX_NODES)]
    TooManyElements { page: String, line: usize },
    #[error("{page}: the page does not name the vendor in its title")]
    NoVendor { page: String },
    #[error(
        "{page}: no effective date: the page has no \"Last updated\" or \"Effective date\" line"
    )]
    NoEffective { page: String },
    #[error("{page}:{line}: cannot read the date `{}`", printable(text))]
    UnreadableDate {
        page: String,
        line: usize,
        text: String,
    },
    #[error(
        "invalid annex version `{}`: use only letters, digits, '.', '_' and '-'",
        printable(version)
    )]
    InvalidVersion { version: String },
}

impl ImportError {
    /// How to fix the error, for the `hint:` line of the command.
    pub fn hint(&self) -> Option<String> {
        match self {
            ImportError::NoList { html: true, .. } => Some(
                "the importer reads HTML tables, definition lists and one heading per provider; if the vendor's page \
                 builds its list with JavaScript, save it from the browser once it has loaded (File > Save Page As), \
                 or copy the list's text into a .txt file"
                    .into(),
            ),
            ImportError::NoList { .. } => Some(
                "the importer reads pipe tables (| Subprocessor | Function | Location |) or one heading per provider; \
                 save the list part of the vendor's page as HTML, Markdown or text and try again"
                    .into(),
            ),
            ImportError::TooDeep { .. } | ImportError::TooManyElements { .. } => Some(
                "save only the list part of the vendor's page, or copy its text from the browser into a .txt file".into(),
            ),
            ImportError::NoVendor { .. } => Some(
                "pass --vendor \"Legal Name, Inc.\", spelled as legal_name in vendor.toml".into(),
            ),
            ImportError::NoEffective { .. } => {
                Some("pass --effective YYYY-MM-DD (the version defaults to that date)".into())
            }
            ImportError::UnreadableDate { .. } => Some(
                "write the date as 2026-05-26, 26 May 2026 or May 26, 2026, or pass --effective YYYY-MM-DD".into(),
            ),
            ImportError::InvalidVersion { .. } => {
                Some("for example --version 2026-05-26 or --version v3.1".into())
            }
        }
    }
}

/// Page text made safe to print in a message: control characters become `\u{..}`
/// escapes, so a copied web page cannot drive the terminal.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The page without invisible characters the annex loader refuses: control characters
/// other than line ends and tabs become spaces, bidirectional formatting marks (as left
/// behind by a copy from a web page) are dropped. Line numbers stay the same.
fn visible(text: &str) -> std::borrow::Cow<'_, str> {
    let bidi = |c: char| invisible(c) || c == html::BREAK || c == html::ITEM;
    let unwanted = |c: char| (c.is_control() && !matches!(c, '\n' | '\r' | '\t')) || bidi(c);
    // A carriage return counts as part of a line end only right before a line feed.
    let lone_cr = text.replace("\r\n", "").contains('\r');
    if !lone_cr && !text.chars().any(unwanted) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if bidi(c) {
            continue;
        }
        let line_end = c == '\r' && chars.peek() == Some(&'\n');
        out.push(if unwanted(c) || (c == '\r' && !line_end) {
            ' '
        } else {
            c
        });
    }
    out.into()
}

/// A warning for each line that holds a bidirectional override, embedding or isolate
/// (U+202A to U+202E, U+2066 to U+2069). [`visible`] drops them like the harmless marks,
/// but these change the order in which the text around them is shown, so what the page
/// displayed may differ from what was imported: the reader is told where to compare.
fn direction_overrides(text: &str) -> Vec<Warning> {
    let reorders = |c: char| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
    text.lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let found: Vec<String> = line
                .chars()
                .filter(|c| reorders(*c))
                .map(|c| format!("U+{:04X}", c as u32))
                .collect();
            (!found.is_empty()).then(|| Warning {
                line: i + 1,
                message: format!(
                    "dropped the text-direction control {} (it can make a page show text in \
                     another order than it is stored): compare this line with the page",
                    found.join(", ")
                ),
            })
        })
        .collect()
}

/// Characters that show nothing: bidirectional marks and zero-width characters.
/// "Stripe" with a zero-width space inside is still Stripe.
fn invisible(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{00AD}' | '\u{FEFF}')
}

/// Leaves out websites that are not full `http(s)://` addresses (relative links such as
/// `/vendors/acme`, mail links, broken markup), with a warning: the annex loader would
/// refuse them, and a page-relative link means nothing in a contract.
fn drop_partial_addresses(found: &mut Found, warnings: &mut Vec<Warning>) {
    for section in &mut found.sections {
        for e in &mut section.entries {
            let Some(site) = &e.entry.website else {
                continue;
            };
            let host = site
                .strip_prefix("https://")
                .or_else(|| site.strip_prefix("http://"));
            if host.is_some_and(|h| !h.is_empty() && !h.contains(char::is_whitespace)) {
                continue;
            }
            warnings.push(Warning {
                line: e.line,
                message: format!(
                    "the link \"{}\" of {} is not a full web address (https://...); website left out",
                    printable(site),
                    e.entry.name
                ),
            });
            e.entry.website = None;
        }
    }
}

/// Reads a vendor's page into an annex.
pub fn import(text: &str, opts: &ImportOptions) -> Result<Imported, ImportError> {
    let is_html = match opts.format {
        PageFormat::Html => true,
        PageFormat::Text => false,
        PageFormat::Auto => html::looks_like_html(text),
    };
    let overrides = direction_overrides(text);
    let text = visible(text);
    let page = if is_html {
        html::read(&text).map_err(|limit| match limit {
            html::HtmlLimit::TooDeep { line } => ImportError::TooDeep {
                page: opts.source.clone(),
                line,
            },
            html::HtmlLimit::TooManyElements { line } => ImportError::TooManyElements {
                page: opts.source.clone(),
                line,
            },
        })?
    } else {
        Page::read(&text)
    };
    let mut warnings = overrides;
    warnings.extend(page.warnings.iter().cloned());
    let mut found = Found::default();
    walk(&page, &mut found, &mut warnings);
    if found.sections.iter().all(|s| s.entries.is_empty()) {
        return Err(ImportError::NoList {
            page: opts.source.clone(),
            html: is_html,
        });
    }
    classify_sections(&page, &mut found, &mut warnings);
    apply_mentions(&page, &mut found, &mut warnings);
    assign_features(&mut found, &mut warnings);
    warn_duplicates(&found, &mut warnings);
    drop_partial_addresses(&mut found, &mut warnings);

    let given = opts
        .vendor
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty());
    let vendor = match (given, &page.vendor) {
        (Some(v), _) => v.to_string(),
        (None, Some((_, v))) => v.clone(),
        (None, None) => match page.vendor_from_title() {
            Some((line, name)) => {
                warnings.push(Warning {
                    line,
                    message: format!(
                        "vendor name \"{name}\" taken from the page title; check it matches legal_name in vendor.toml or pass --vendor"
                    ),
                });
                name
            }
            None => {
                return Err(ImportError::NoVendor {
                    page: opts.source.clone(),
                });
            }
        },
    };
    let effective = match (opts.effective, &page.date) {
        (Some(d), _) => d,
        (None, Some(PageDate::Read { date, .. })) => *date,
        (None, Some(PageDate::Unreadable { line, text })) => {
            return Err(ImportError::UnreadableDate {
                page: opts.source.clone(),
                line: *line,
                text: text.clone(),
            });
        }
        (None, None) => {
            return Err(ImportError::NoEffective {
                page: opts.source.clone(),
            });
        }
    };
    let version = match &opts.version {
        Some(v) => v.trim().to_string(),
        None => page
            .version
            .clone()
            .unwrap_or_else(|| effective.format("%Y-%m-%d").to_string()),
    };
    if !valid_version(&version) {
        return Err(ImportError::InvalidVersion { version });
    }

    let mut sections = Vec::new();
    let mut origins = Vec::new();
    for mut s in found.sections.into_iter().filter(|s| !s.entries.is_empty()) {
        // A line of only markup (a stray backtick, emphasis marks) reads as no text.
        s.description.retain(|p| !p.trim().is_empty());
        sections.push(Section {
            subprocessors: s.subprocessors,
            title: one_line(&s.title),
            description: (!s.description.is_empty()).then(|| s.description.join("\n\n")),
            entries: s
                .entries
                .iter()
                .map(|e| {
                    let mut entry = e.entry.clone();
                    one_line_fields(&mut entry);
                    entry
                })
                .collect(),
        });
        origins.push(SectionOrigin {
            line: s.line,
            entries: s.entries.iter().map(|e| e.line).collect(),
        });
    }
    let annex = Annex {
        vendor: one_line(&vendor),
        version,
        effective,
        sections,
    };
    if let Some((line, stated)) = &page.fingerprint {
        let stated: String = stated
            .chars()
            .filter(|c| c.is_ascii_hexdigit())
            .collect::<String>()
            .to_ascii_lowercase();
        let got = crate::annex::fingerprint(&annex).hex();
        if stated.len() == 64 && stated != got {
            warnings.push(Warning {
                line: *line,
                message: format!(
                    "the page states the fingerprint {stated}, but the list read from it has {got}: the page and its list differ, or the import changed something"
                ),
            });
        }
    }
    merge_repeated(&mut warnings);
    warnings.sort_by_key(|w| w.line);
    Ok(Imported {
        annex,
        warnings,
        origins,
    })
}

/// Text for a one-line field: line breaks and list-item marks from HTML become separators.
fn one_line(text: &str) -> String {
    let t = text
        .trim_start_matches(html::ITEM)
        .replace(html::ITEM, "; ");
    t.split('\n')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Makes every field but the legal address one line, as the annex loader requires.
fn one_line_fields(e: &mut Entry) {
    for f in [&mut e.name, &mut e.function, &mut e.location] {
        *f = one_line(f);
    }
    for v in [&mut e.website, &mut e.has_access, &mut e.no_access]
        .into_iter()
        .flatten()
    {
        *v = one_line(v);
    }
    for list in [
        &mut e.certifications,
        &mut e.transfer_mechanism,
        &mut e.remarks,
    ] {
        for item in list.iter_mut() {
            *item = one_line(item);
        }
    }
    if let Some(a) = &mut e.legal_address {
        *a = a.replace(html::ITEM, "\n").trim().to_string();
    }
}

/// Warnings with the same message (the same remark in many rows) become one, with lines.
fn merge_repeated(warnings: &mut Vec<Warning>) {
    let mut out: Vec<(Warning, Vec<usize>)> = Vec::new();
    for w in warnings.drain(..) {
        match out.iter_mut().find(|(o, _)| o.message == w.message) {
            Some((_, more)) => more.push(w.line),
            None => out.push((w, Vec::new())),
        }
    }
    *warnings = out
        .into_iter()
        .map(|(mut w, more)| {
            if !more.is_empty() {
                let lines: Vec<String> = more.iter().map(usize::to_string).collect();
                w.message = format!("{} (also lines {})", w.message, lines.join(", "));
            }
            w
        })
        .collect();
}

/// Decides what each section holds from its own words (its table caption first, then its
/// title and text), else the page title's; unsure is a warning, never a silent guess.
fn classify_sections(page: &Page, found: &mut Found, warnings: &mut Vec<Warning>) {
    // Only a title the page states counts, not the name given to an untitled page.
    let page_kind = page.stated_title().and_then(|t| section_kind(&t));
    for s in &mut found.sections {
        let own = s
            .caption
            .as_deref()
            .and_then(section_kind)
            .or_else(|| section_kind(&format!("{}. {}", s.title, s.description.join(" "))))
            .or_else(|| section_kind(&s.title));
        let kind = match own.or(page_kind) {
            Some(k) => k,
            None => {
                warnings.push(Warning {
                    line: s.line.unwrap_or(1),
                    message: format!(
                        "section \"{}\" does not say whether its providers process customer personal data; imported as subprocessors = true, check it",
                        one_line(&s.title)
                    ),
                });
                SectionKind::Customer
            }
        };
        s.subprocessors = kind != SectionKind::AccountOnly;
        if kind == SectionKind::Optional {
            let words = format!("{} {}", s.title, s.description.join(" "));
            for e in &mut s.entries {
                if e.entry.activation == Activation::Always && !e.explicit_activation {
                    e.entry.activation = Activation::OptIn;
                    e.remarks.push(' ');
                    e.remarks.push_str(&words);
                }
            }
        }
    }
}

/// Whether a version string is `[A-Za-z0-9._-]+`.
fn valid_version(v: &str) -> bool {
    !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

#[derive(Debug, Default)]
struct Found {
    sections: Vec<FoundSection>,
}

#[derive(Debug)]
struct FoundSection {
    /// The heading's line; `None` for the page-level section.
    line: Option<usize>,
    title: String,
    description: Vec<String>,
    /// The caption of its table, if it has one that was not read as its title.
    caption: Option<String>,
    subprocessors: bool,
    entries: Vec<FoundEntry>,
}

#[derive(Debug)]
struct FoundEntry {
    line: usize,
    entry: Entry,
    /// Text the activation and feature were judged from.
    remarks: String,
    /// The page gave the activation in a column or label of its own.
    explicit_activation: bool,
}

/// A heading the walk is inside of, and the paragraphs right under it.
#[derive(Debug)]
struct Context {
    line: usize,
    level: usize,
    title: String,
    paragraphs: Vec<String>,
    /// Still collecting the description (no list met yet under this heading).
    open: bool,
    /// The level of providers met under this heading, to flag stray headings among them.
    provider_level: Option<usize>,
}

fn walk(page: &Page, found: &mut Found, warnings: &mut Vec<Warning>) {
    let blocks = &page.blocks;
    let mut stack: Vec<Context> = Vec::new();
    let mut intro = Context {
        line: 0,
        level: 0,
        title: page.title(),
        paragraphs: Vec::new(),
        open: true,
        provider_level: None,
    };
    let mut paragraph_open = false;
    let mut i = 0;
    while i < blocks.len() {
        match &blocks[i] {
            Block::Blank => {
                paragraph_open = false;
                i += 1;
            }
            Block::Text {
                line,
                raw,
                quoted,
                after_break,
            } => {
                let ctx = stack.last_mut().unwrap_or(&mut intro);
                if !quoted && looks_like_data(raw, ctx.open) {
                    // A provider-like line outside any list, or a field line after the list.
                    warnings.push(Warning {
                        line: *line,
                        message: format!(
                            "\"{}\" looks like provider data but is not part of a table or a provider's entry; not imported",
                            shorten(&inline(raw).0, 70)
                        ),
                    });
                    paragraph_open = false;
                } else if ctx.open {
                    let text = inline(raw).0;
                    // Plain text has one paragraph per line; Markdown joins wrapped lines.
                    match ctx.paragraphs.last_mut() {
                        Some(p) if paragraph_open && page.markdown => {
                            p.push(if *after_break { '\n' } else { ' ' });
                            p.push_str(&text);
                        }
                        _ => ctx.paragraphs.push(text),
                    }
                    paragraph_open = true;
                }
                i += 1;
            }
            Block::Table(table) => {
                paragraph_open = false;
                let ctx = stack.last_mut().unwrap_or(&mut intro);
                ctx.open = false;
                let entries = read_table(table, warnings);
                if entries.is_empty() {
                    if !table.rows.is_empty() || !table.header.is_empty() {
                        warnings.push(Warning {
                            line: table.header_line,
                            message: "a table without a name column (Subprocessor, Name, Vendor, Entity, Provider, ...) was not imported".into(),
                        });
                    }
                } else {
                    let section = section_for(found, ctx);
                    if section.caption.is_none() {
                        section.caption = table.caption.clone();
                    }
                    section.entries.extend(entries);
                }
                i += 1;
            }
            Block::Heading {
                line,
                level,
                raw,
                term,
            } => {
                paragraph_open = false;
                let end = blocks[i + 1..]
                    .iter()
                    .position(|b| matches!(b, Block::Heading { .. }))
                    .map_or(blocks.len(), |p| i + 1 + p);
                let body = &blocks[i + 1..end];
                if *term || is_provider(body) {
                    // Markdown: the section is the nearest heading above this level.
                    while page.markdown && stack.last().is_some_and(|c| c.level >= *level) {
                        stack.pop();
                    }
                    let ctx = stack.last_mut().unwrap_or(&mut intro);
                    ctx.open = false;
                    ctx.provider_level = Some(*level);
                    let entry = read_provider(*line, raw, body, warnings);
                    if entry.entry.name.trim().is_empty() {
                        // A heading of only markup, e.g. an HTML tag in a plain-text copy.
                        warnings.push(Warning {
                            line: *line,
                            message: "a provider heading without a name was not imported".into(),
                        });
                    } else {
                        section_for(found, ctx).entries.push(entry);
                    }
                    i = end;
                } else {
                    while stack.last().is_some_and(|c| c.level >= *level) {
                        stack.pop();
                    }
                    let parent = stack.last().unwrap_or(&intro);
                    if page.markdown && parent.provider_level == Some(*level) {
                        warnings.push(Warning {
                            line: *line,
                            message: format!(
                                "heading \"{}\" sits among the providers but has no labelled lines (Has access to:, Data Processing Location:, ...); not imported",
                                inline(raw).0
                            ),
                        });
                    }
                    stack.push(Context {
                        line: *line,
                        level: *level,
                        title: inline(raw).0,
                        paragraphs: Vec::new(),
                        open: true,
                        provider_level: None,
                    });
                    i += 1;
                }
            }
        }
    }
}

/// The found section for a context, created on first use.
fn section_for<'a>(found: &'a mut Found, ctx: &Context) -> &'a mut FoundSection {
    let line = (ctx.line > 0).then_some(ctx.line);
    let pos = match found.sections.iter().position(|s| s.line == line) {
        Some(p) => p,
        None => {
            found.sections.push(FoundSection {
                line,
                title: ctx.title.clone(),
                description: ctx.paragraphs.clone(),
                caption: None,
                subprocessors: true,
                entries: Vec::new(),
            });
            found.sections.len() - 1
        }
    };
    &mut found.sections[pos]
}

/// A provider heading is one whose body has a known label and no table.
fn is_provider(body: &[Block]) -> bool {
    let has_table = body.iter().any(|b| matches!(b, Block::Table(_)));
    let labelled = body.iter().any(|b| {
        matches!(b, Block::Text { raw, .. } if parse_label(raw).is_some_and(|l| l.field.is_some()))
    });
    labelled && !has_table
}

/// Entries from a pipe table; empty when the table has no name column.
fn read_table(table: &Table, warnings: &mut Vec<Warning>) -> Vec<FoundEntry> {
    let mut columns: Vec<Option<Field>> = Vec::new();
    for (header, field) in table.header.iter().zip(map_columns(&table.header)) {
        let name = one_line(&inline(header).0);
        match field {
            Some(f) if columns.contains(&Some(f)) => {
                warnings.push(Warning {
                    line: table.header_line,
                    message: format!(
                        "column \"{name}\" would again fill `{}`; its values were not imported",
                        f.key()
                    ),
                });
                columns.push(None);
            }
            Some(f) => columns.push(Some(f)),
            None => {
                if !name.is_empty() {
                    warnings.push(Warning {
                        line: table.header_line,
                        message: format!(
                            "column \"{name}\" has no place in the annex; its values were not imported"
                        ),
                    });
                }
                columns.push(None);
            }
        }
    }
    if !columns.contains(&Some(Field::Name)) {
        return Vec::new();
    }
    for (f, what) in [(Field::Function, "function"), (Field::Location, "location")] {
        if !columns.contains(&Some(f)) {
            warnings.push(Warning {
                line: table.header_line,
                message: format!(
                    "the table has no {what} column; every entry gets {what} \"{NOT_STATED}\""
                ),
            });
        }
    }

    let mut entries = Vec::new();
    for (line, cells) in &table.rows {
        if cells.iter().all(|c| inline(c).0.is_empty()) {
            continue;
        }
        if cells.len() > columns.len() {
            warnings.push(Warning {
                line: *line,
                message: format!(
                    "the row has {} cells but the header {}; the extra cells were not imported",
                    cells.len(),
                    columns.len()
                ),
            });
        }
        let mut entry = empty_entry();
        let mut website_cell = None;
        for (cell, field) in cells.iter().zip(&columns) {
            let (text, link) = inline(cell);
            match field {
                Some(Field::Name) => {
                    entry.name = text;
                    entry.website = link;
                }
                Some(Field::Website) => website_cell = link.or(Some(text)).filter(|w| !is_blank(w)),
                Some(f) => set_field(&mut entry, *f, text, link, *line, warnings),
                None => {}
            }
        }
        if let Some(w) = website_cell {
            if entry.website.as_ref().is_some_and(|n| *n != w) {
                warnings.push(Warning {
                    line: *line,
                    message: format!(
                        "the name links to {} but the website column says {w}; the column is used",
                        entry.website.as_deref().unwrap_or_default()
                    ),
                });
            }
            entry.website = Some(w);
        }
        if entry.name.is_empty() {
            warnings.push(Warning {
                line: *line,
                message: "a row without a name was not imported".into(),
            });
            continue;
        }
        fill_required(&mut entry, *line, warnings);
        let remarks = cells
            .iter()
            .map(|c| inline(c).0)
            .collect::<Vec<_>>()
            .join(" ");
        let explicit_activation = columns.contains(&Some(Field::Activation));
        if !explicit_activation {
            set_activation(&mut entry, &remarks, *line, warnings);
        }
        entries.push(FoundEntry {
            line: *line,
            entry,
            remarks,
            explicit_activation,
        });
    }
    entries
}

/// An entry from a provider heading and the lines under it.
fn read_provider(
    line: usize,
    raw: &str,
    body: &[Block],
    warnings: &mut Vec<Warning>,
) -> FoundEntry {
    let (name, link) = inline(raw);
    let mut entry = empty_entry();
    entry.name = name;
    entry.website = link;
    let mut prose: Vec<String> = Vec::new();
    let mut remarks: Vec<(usize, String)> = Vec::new();
    let mut function_label = None;
    let mut explicit_activation = false;
    let mut paragraph_open = false;
    for b in body {
        match b {
            Block::Blank => paragraph_open = false,
            Block::Text {
                line: l,
                raw,
                quoted,
                ..
            } => {
                if let Some(label) = parse_label(raw).filter(|_| !quoted) {
                    paragraph_open = false;
                    let Some(field) = label.field else {
                        warnings.push(Warning {
                            line: *l,
                            message: format!(
                                "label \"{}\" of {} has no place in the annex; its text was not imported",
                                label.label, entry.name
                            ),
                        });
                        continue;
                    };
                    if label.value.is_empty() {
                        warnings.push(Warning {
                            line: *l,
                            message: format!(
                                "label \"{}\" has no text on its line; nothing imported",
                                label.label
                            ),
                        });
                        continue;
                    }
                    if field_is_set(&entry, field)
                        || (field == Field::Function && function_label.is_some())
                    {
                        warnings.push(Warning {
                            line: *l,
                            message: format!(
                                "a second \"{}\" for {}; only the first was imported",
                                label.label, entry.name
                            ),
                        });
                        continue;
                    }
                    match field {
                        Field::Function => function_label = Some(label.value),
                        Field::Name => {}
                        Field::Location | Field::LegalAddress => {
                            // "Netherlands." reads as a sentence on the page; the annex holds the place.
                            let v = label.value.trim_end_matches('.').trim().to_string();
                            set_field(&mut entry, field, v, None, *l, warnings)
                        }
                        _ => {
                            explicit_activation |= field == Field::Activation;
                            set_field(&mut entry, field, label.value, label.link, *l, warnings)
                        }
                    }
                    continue;
                }
                let text = inline(raw).0;
                let target = if *quoted {
                    remarks.push((*l, text));
                    paragraph_open = false;
                    continue;
                } else {
                    &mut prose
                };
                match target.last_mut() {
                    Some(p) if paragraph_open => {
                        p.push(' ');
                        p.push_str(&text);
                    }
                    _ => target.push(text),
                }
                paragraph_open = true;
            }
            Block::Heading { .. } | Block::Table(_) => {}
        }
    }
    if let Some(f) = function_label {
        if !prose.is_empty() {
            warnings.push(Warning {
                line,
                message: format!(
                    "{}: the function label was used; the prose under the heading was not imported",
                    entry.name
                ),
            });
        }
        entry.function = f;
    } else {
        entry.function = prose.join(" ");
    }
    fill_required(&mut entry, line, warnings);

    let mut judged = entry.function.clone();
    if !explicit_activation {
        set_activation(&mut entry, &judged, line, warnings);
    }
    for (l, remark) in &remarks {
        let found = activation_in(remark);
        if found.is_some() && entry.activation == Activation::Always && !explicit_activation {
            set_activation(&mut entry, remark, *l, warnings);
        } else if found.is_none() {
            warnings.push(Warning {
                line: *l,
                message: format!(
                    "remark about {} not imported: \"{}\"",
                    entry.name,
                    shorten(remark, 70)
                ),
            });
        }
        judged.push(' ');
        judged.push_str(remark);
    }
    FoundEntry {
        line,
        entry,
        remarks: judged,
        explicit_activation,
    }
}

fn empty_entry() -> Entry {
    Entry::default()
}

fn field_is_set(e: &Entry, f: Field) -> bool {
    match f {
        Field::Name => !e.name.is_empty(),
        Field::Function => !e.function.is_empty(),
        Field::Location => !e.location.is_empty(),
        Field::Certifications => !e.certifications.is_empty(),
        Field::Website => e.website.is_some(),
        Field::LegalAddress => e.legal_address.is_some(),
        Field::HasAccess => e.has_access.is_some(),
        Field::NoAccess => e.no_access.is_some(),
        Field::TransferMechanism => !e.transfer_mechanism.is_empty(),
        Field::Remarks => !e.remarks.is_empty(),
        Field::Activation => e.activation != Activation::Always,
        Field::Feature => e.feature.is_some(),
    }
}

/// A cell or value that says "nothing here".
fn is_blank(text: &str) -> bool {
    matches!(
        text.trim().to_lowercase().as_str(),
        "" | "-" | "\u{2014}" | "\u{2013}" | "\u{2012}" | "n/a" | "none" | "not applicable"
    )
}

/// The items of a list value: HTML list items if the cell had them, else split on
/// commas and semicolons.
fn items(text: &str) -> Vec<String> {
    if text.contains(html::ITEM) {
        text.split(html::ITEM)
            .map(one_line)
            .filter(|s| !is_blank(s))
            .collect()
    } else {
        split_list(text)
    }
}

fn set_field(
    e: &mut Entry,
    f: Field,
    text: String,
    link: Option<String>,
    line: usize,
    warnings: &mut Vec<Warning>,
) {
    let some = |t: String| (!is_blank(&t)).then_some(t);
    match f {
        Field::Name => e.name = text,
        Field::Function => e.function = text,
        Field::Location => e.location = text,
        Field::Certifications => {
            for item in items(&text) {
                match certification_kind(&item) {
                    Field::TransferMechanism => {
                        warnings.push(Warning {
                            line,
                            message: format!(
                                "\"{item}\" is a transfer safeguard, not a certification; imported under transfer_mechanism"
                            ),
                        });
                        push_mechanism(e, &item, line, warnings);
                    }
                    Field::Remarks => {
                        warnings.push(Warning {
                            line,
                            message: format!(
                                "\"{item}\" is not a certification; imported under remarks"
                            ),
                        });
                        e.remarks.push(item);
                    }
                    _ => e.certifications.push(item),
                }
            }
        }
        Field::TransferMechanism => {
            for item in items(&text) {
                push_mechanism(e, &item, line, warnings);
            }
        }
        Field::Remarks => e.remarks.extend(items(&text)),
        Field::Activation => {
            let t = text.to_lowercase();
            e.activation = match activation_in(&t) {
                Some(a) => a,
                None if is_blank(&t) || t.trim() == "always" => Activation::Always,
                None => {
                    warnings.push(Warning {
                        line,
                        message: format!(
                            "{}: activation \"{text}\" is not always, opt-in or opt-out; imported as always",
                            e.name
                        ),
                    });
                    Activation::Always
                }
            }
        }
        Field::Feature => {
            if let Some(name) = some(text) {
                let slug = remarks::slug(&name);
                if slug != name {
                    warnings.push(Warning {
                        line,
                        message: format!(
                            "{}: feature \"{name}\" written as \"{slug}\" (features are lowercase letters, digits and '-')",
                            e.name
                        ),
                    });
                }
                e.feature = Some(slug);
            }
        }
        Field::Website => e.website = link.or(some(text)),
        Field::LegalAddress => e.legal_address = some(text),
        Field::HasAccess => e.has_access = some(text),
        Field::NoAccess => e.no_access = some(text),
    }
}

/// Adds a transfer safeguard in canonical words, warning about one `dpa` does not know.
fn push_mechanism(e: &mut Entry, item: &str, line: usize, warnings: &mut Vec<Warning>) {
    let canonical = transfer::normalise(item);
    if transfer::known(item).is_none() {
        warnings.push(Warning {
            line,
            message: format!(
                "transfer safeguard \"{item}\" is none of those dpa knows (Standard Contractual Clauses, EU-U.S. Data Privacy Framework, adequacy decision, Binding Corporate Rules, UK Addendum); kept as written"
            ),
        });
    }
    if !e.transfer_mechanism.contains(&canonical) {
        e.transfer_mechanism.push(canonical);
    }
}

/// Fills a missing function or location with [`NOT_STATED`].
fn fill_required(e: &mut Entry, line: usize, warnings: &mut Vec<Warning>) {
    for (value, what) in [(&mut e.function, "function"), (&mut e.location, "location")] {
        if is_blank(value) {
            *value = NOT_STATED.to_string();
            warnings.push(Warning {
                line,
                message: format!(
                    "{}: the page gives no {what}; written as \"{NOT_STATED}\"",
                    one_line(&e.name)
                ),
            });
        }
    }
}

/// Whether a text line carries provider data: a field line ("Location: Germany") where
/// no provider is being read, or a list item that names a provider in bold or as a link
/// followed by details ("- **Stripe** – payments, USA").
fn looks_like_data(raw: &str, describing: bool) -> bool {
    let t = raw.trim();
    let field_line = parse_label(t).is_some_and(|l| l.field.is_some_and(|f| f != Field::Name));
    let bullet = t
        .strip_prefix(['-', '*', '+', '\u{2022}'])
        .filter(|r| r.starts_with(' '))
        .map(str::trim_start);
    let named_item = bullet.is_some_and(|r| {
        let named = r.starts_with("**") || r.starts_with("__") || r.starts_with('[');
        let plain = inline(r).0;
        named
            && plain.split_whitespace().count() <= 25
            && [" \u{2013} ", " \u{2014} ", " - ", ": ", " ("]
                .iter()
                .any(|sep| plain.contains(sep))
            && parse_label(r).is_none_or(|l| l.field.is_some())
    });
    named_item || (!describing && field_line)
}

/// Splits "SOC 2, ISO 27001; GDPR DPA" on commas and semicolons outside parentheses.
fn split_list(text: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut cur = String::new();
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '(' | '[' => {
                depth += 1;
                cur.push(c);
            }
            ')' | ']' => {
                depth = depth.saturating_sub(1);
                cur.push(c);
            }
            ',' | ';' if depth == 0 => items.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    items.push(cur);
    items
        .into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| {
            !matches!(
                s.as_str(),
                "" | "-" | "\u{2014}" | "\u{2013}" | "n/a" | "N/A" | "None" | "none"
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_direction_override_is_dropped_with_a_warning_naming_its_line() {
        let page = "# Acme subprocessors\n\nLast updated: June 26, 2026\n\n\
                    | Name | Function | Location |\n|---|---|---|\n\
                    | Amazon \u{202E}SU\u{202C} | Hosting | United States |\n";
        let opts = ImportOptions {
            vendor: Some("Acme".into()),
            source: "page.md".into(),
            ..ImportOptions::default()
        };
        let imported = import(page, &opts).unwrap();
        let name = &imported.annex.sections[0].entries[0].name;
        assert!(!name.contains('\u{202E}'), "{name:?}");
        let warning = imported
            .warnings
            .iter()
            .find(|w| w.message.contains("U+202E"))
            .expect("a warning about U+202E");
        assert_eq!(warning.line, 7, "{warning}");
        assert_eq!(name, "Amazon SU");
        assert!(warning.message.contains("U+202C"), "{warning}");
    }

    #[test]
    fn invisible_characters_of_a_page_do_not_reach_the_annex() {
        let page = "# Acme subprocessors\n\nLast updated: June\u{200F} 26, 2026\n\n\
                    | Name | Function | Location |\n|---|---|---|\n\
                    | A\u{0}\u{200E} Co | Host\u{7}ing | D\rE |\r\n";
        let opts = ImportOptions {
            vendor: Some("Acme".into()),
            source: "page.md".into(),
            ..ImportOptions::default()
        };
        let imported = import(page, &opts).unwrap();
        let entry = &imported.annex.sections[0].entries[0];
        assert_eq!(entry.name, "A Co");
        assert_eq!(entry.function, "Host ing");
        // Found by the fuzzer: a carriage return that ends no line.
        assert_eq!(entry.location, "D E");
        assert_eq!(imported.annex.effective.to_string(), "2026-06-26");
    }

    #[test]
    fn relative_and_broken_links_are_not_websites() {
        let page = "# Acme subprocessors\n\nLast updated: June 26, 2026\n\n\
                    | Name | Function | Location |\n|---|---|---|\n\
                    | [A Co](/vendors/a) | Hosting | DE |\n\
                    | [B Co](https://b.example) | Mail | DE |\n\
                    | [C Co](httpc c.example) | Chat | DE |\n";
        let opts = ImportOptions {
            vendor: Some("Acme".into()),
            source: "page.md".into(),
            ..ImportOptions::default()
        };
        let imported = import(page, &opts).unwrap();
        let sites: Vec<_> = imported.annex.sections[0]
            .entries
            .iter()
            .map(|e| e.website.as_deref())
            .collect();
        assert_eq!(sites, [None, Some("https://b.example"), None]);
        let left_out: Vec<_> = imported
            .warnings
            .iter()
            .filter(|w| w.message.contains("website left out"))
            .map(|w| w.line)
            .collect();
        assert_eq!(left_out, [7, 9]);
    }

    #[test]
    fn a_section_text_of_only_markup_is_no_description() {
        let page = "# Acme subprocessors\n\nLast updated: June 26, 2026\n\n## Hosting\n\n`\n\n\
                    | Name | Function | Location |\n|---|---|---|\n| A Co | Hosting | DE |\n";
        let opts = ImportOptions {
            vendor: Some("Acme".into()),
            source: "page.md".into(),
            ..ImportOptions::default()
        };
        let imported = import(page, &opts).unwrap();
        assert_eq!(imported.annex.sections[0].description, None);
    }

    #[test]
    fn errors_show_page_text_with_control_characters_escaped() {
        let err = ImportError::UnreadableDate {
            page: "page.md".into(),
            line: 3,
            text: "\u{1b}[2J99 May".into(),
        };
        assert_eq!(
            err.to_string(),
            "page.md:3: cannot read the date `\\u{1b}[2J99 May`"
        );
    }
    use super::*;

    fn run(text: &str) -> Result<Imported, ImportError> {
        import(
            text,
            &ImportOptions {
                source: "t".into(),
                effective: NaiveDate::from_ymd_opt(2026, 1, 1),
                ..Default::default()
            },
        )
    }

    #[test]
    fn plain_text_providers_with_labels() {
        let got = run("Initech subprocessors\n\
             Hosting\n\
             Bigcloud\n\
             Virtual machines for the app.\n\
             Location: Germany\n\
             Website: https://bigcloud.example\n\
             Mailman\n\
             Newsletters.\n\
             Country: France\n")
        .unwrap();
        let a = &got.annex;
        assert_eq!(a.vendor, "Initech");
        assert_eq!(a.sections.len(), 1);
        assert_eq!(a.sections[0].title, "Hosting");
        let e = &a.sections[0].entries;
        assert_eq!(
            (
                e[0].name.as_str(),
                e[0].function.as_str(),
                e[0].location.as_str()
            ),
            ("Bigcloud", "Virtual machines for the app.", "Germany")
        );
        assert_eq!(e[0].website.as_deref(), Some("https://bigcloud.example"));
        assert_eq!(
            (e[1].name.as_str(), e[1].location.as_str()),
            ("Mailman", "France")
        );
        assert_eq!(got.warnings.len(), 1, "{:?}", got.warnings);
    }

    #[test]
    fn stray_heading_among_providers_is_reported() {
        let got = run(
            "# Globex subprocessors\n\n## Hosting\n\n### Bigcloud\n\nVMs.\n\n- Location: EU\n\n\
             ### Our promise\n\nWe care.\n\n### Mailman\n\nMail.\n\n- Location: US\n",
        )
        .unwrap();
        let names: Vec<&str> = got.annex.sections[0]
            .entries
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        assert_eq!(names, ["Bigcloud", "Mailman"]);
        assert!(
            got.warnings.iter().any(|w| w.line == 11
                && w.message
                    .contains("\"Our promise\" sits among the providers")),
            "{:?}",
            got.warnings
        );
    }

    #[test]
    fn a_table_without_a_name_column_is_not_a_list() {
        let err =
            run("# Globex subprocessors\n\n| Purpose | Country |\n|---|---|\n| Hosting | DE |\n")
                .unwrap_err();
        assert!(matches!(err, ImportError::NoList { .. }));
        let got = run("# Globex subprocessors\n\n| Purpose | Country |\n|---|---|\n| Hosting | DE |\n\n\
             | Name | Purpose | Country |\n|---|---|---|\n| Bigcloud | Hosting | DE |\n| bigcloud | Backup | DE |\n")
        .unwrap();
        let msgs: Vec<String> = got.warnings.iter().map(|w| w.to_string()).collect();
        assert!(
            msgs.iter()
                .any(|m| m.starts_with("line 3: a table without a name column")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter()
                .any(|m| m.starts_with("line 10: bigcloud is listed again (first at line 9)")),
            "{msgs:?}"
        );
    }

    #[test]
    fn extra_cells_and_second_columns_are_reported() {
        let got = run("# Globex subprocessors\n\n| Name | Purpose | Description | Country |\n|---|---|---|---|\n\
             | Bigcloud | Hosting | VMs | DE | stray |\n")
        .unwrap();
        let e = &got.annex.sections[0].entries[0];
        assert_eq!(
            (e.function.as_str(), e.location.as_str()),
            ("Hosting", "DE")
        );
        let msgs: Vec<String> = got.warnings.iter().map(|w| w.to_string()).collect();
        assert_eq!(
            msgs,
            [
                "line 1: vendor name \"Globex\" taken from the page title; check it matches legal_name in vendor.toml or pass --vendor",
                "line 3: column \"Description\" would again fill `function`; its values were not imported",
                "line 5: the row has 5 cells but the header 4; the extra cells were not imported",
            ]
        );
    }
}

#[cfg(test)]
mod no_panic {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        // Any text, including characters whose lowercase has another byte length, gives
        // an annex or an error, never a panic, and a written annex always loads back.
        #[test]
        fn any_page_imports_or_errs(text in "([|#>*_\\[\\]()!<:`\\\\ \n-]|Version|Last updated|opt-in|\\(e\\.g\\.|Name|Location|\u{1e9e}|\u{212a}|\u{130}|[a-zA-Z0-9.,;]){0,120}") {
            let opts = ImportOptions {
                vendor: Some("V".into()),
                effective: NaiveDate::from_ymd_opt(2026, 1, 1),
                source: "p".into(),
                ..Default::default()
            };
            if let Ok(got) = import(&text, &opts) {
                let back: Annex = toml::from_str(&to_toml(&got, "p")).unwrap();
                prop_assert_eq!(back, got.annex.clone());
                let _ = check_table(&got);
            }
        }

        // HTML pages built from the elements the HTML reader treats specially, unclosed
        // and misnested as they come: an annex or an error, never a panic, and a written
        // annex loads back.
        #[test]
        fn any_html_page_imports_or_errs(parts in prop::collection::vec(prop_oneof![
            Just("<table>".to_string()), Just("</table>".to_string()), Just("<tr>".to_string()),
            Just("<th>Name".to_string()), Just("<th>Location".to_string()), Just("<td>".to_string()),
            Just("<td rowspan=3>".to_string()), Just("<td colspan=99999>".to_string()),
            Just("<caption>".to_string()), Just("<h2>".to_string()), Just("<h3>".to_string()),
            Just("<dl><dt>".to_string()), Just("<dd>".to_string()), Just("<li>".to_string()),
            Just("<ul>".to_string()), Just("<br>".to_string()), Just("<p>".to_string()),
            Just("<a href=\"https://x.example\">".to_string()), Just("</a>".to_string()),
            Just("<nav>".to_string()), Just("<aside>".to_string()), Just("<template>".to_string()),
            Just("<script>".to_string()), Just("</script>".to_string()), Just("<b>".to_string()),
            Just("&#8203;".to_string()), Just("&amp;".to_string()), Just("\n".to_string()),
            "[A-Za-z\u{1e9e}\u{212a} :.|*_-]{0,12}",
        ], 0..60)) {
            let text = format!("<!DOCTYPE html><html><body>{}", parts.concat());
            let opts = ImportOptions {
                vendor: Some("V".into()),
                effective: NaiveDate::from_ymd_opt(2026, 1, 1),
                source: "p.html".into(),
                ..Default::default()
            };
            if let Ok(got) = import(&text, &opts) {
                let back: Annex = toml::from_str(&to_toml(&got, "p")).unwrap();
                prop_assert_eq!(back, got.annex.clone());
            }
        }

        // Pages built from the line shapes the importer reacts to.
        #[test]
        fn any_page_of_known_line_shapes(lines in prop::collection::vec(prop_oneof![
            "\\| [a-zA-Z\u{1e9e}\u{212a}\\[\\]()*_ -]{0,10} \\| [a-z:\u{1e9e} ]{0,8} \\|( x \\|)?",
            Just("|---|---|".to_string()),
            Just("| Name | Location |".to_string()),
            "#{1,3} [A-Za-z\u{1e9e} ]{0,12}",
            "\\* \\*\\*(Has access to|Location|Retention|Website):\\*\\* [a-z\u{212a}\\[\\]()]{0,10}",
            "> [a-z\u{1e9e} ()-]{0,12}(opt-in|opt-out)? ?(\\(e\\.g\\. [A-Za-z\u{1e9e}]{0,6}\\))?",
            "(Version|Last updated|Effective date): [A-Za-z0-9, \u{212a}\u{1e9e}.]{0,12}",
            "[A-Z\u{130}][a-z ]{0,20}[.:]?",
            Just(String::new()),
        ], 0..24)) {
            let text = lines.join("\n");
            for vendor in [None, Some("V".to_string())] {
                let opts = ImportOptions { vendor, source: "p".into(), ..Default::default() };
                if let Ok(got) = import(&text, &opts) {
                    let back: Annex = toml::from_str(&to_toml(&got, "p")).unwrap();
                    prop_assert_eq!(back, got.annex.clone());
                }
            }
        }
    }
}
