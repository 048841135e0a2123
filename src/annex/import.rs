//! Import a vendor's published subprocessor page into an [`Annex`].
//!
//! In: the text of a Markdown or plain-text page and [`ImportOptions`]. Out: an
//! [`Imported`] annex plus a warning (with its page line) for everything that could not
//! be mapped, or an [`ImportError`]. Two shapes are read, in any mix: pipe tables (one
//! section per heading above a table) and one heading per provider followed by labelled
//! lines. [`to_toml`] writes the result as an annex file for a person to review;
//! [`check_table`] renders it as plain text for `dpa annex import --check`.

use std::fmt::{self, Write as _};

use chrono::NaiveDate;

use super::diff::name_key;
use crate::model::{Activation, Annex, Entry, Section};

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
        "{page}: no subprocessor list found: no pipe table with a name column and no headings followed by labelled lines such as \"Data Processing Location:\""
    )]
    NoList { page: String },
    #[error("{page}: the page does not name the vendor in its title")]
    NoVendor { page: String },
    #[error(
        "{page}: no effective date: the page has no \"Last updated\" or \"Effective date\" line"
    )]
    NoEffective { page: String },
    #[error("{page}:{line}: cannot read the date `{text}`")]
    UnreadableDate {
        page: String,
        line: usize,
        text: String,
    },
    #[error("invalid annex version `{version}`: use only letters, digits, '.', '_' and '-'")]
    InvalidVersion { version: String },
}

impl ImportError {
    /// How to fix the error, for the `hint:` line of the command.
    pub fn hint(&self) -> Option<String> {
        match self {
            ImportError::NoList { .. } => Some(
                "the importer reads pipe tables (| Subprocessor | Function | Location |) or one heading per provider; \
                 save the list part of the vendor's page as Markdown or text and try again"
                    .into(),
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

/// Reads a vendor's page into an annex.
pub fn import(text: &str, opts: &ImportOptions) -> Result<Imported, ImportError> {
    let page = Page::read(text);
    let mut warnings = page.warnings.clone();
    let mut found = Found::default();
    walk(&page, &mut found, &mut warnings);
    if found.sections.iter().all(|s| s.entries.is_empty()) {
        return Err(ImportError::NoList {
            page: opts.source.clone(),
        });
    }
    apply_mentions(&page, &mut found, &mut warnings);
    assign_features(&mut found, &mut warnings);
    warn_duplicates(&found, &mut warnings);

    let vendor = match &opts.vendor {
        Some(v) => v.trim().to_string(),
        None => match page.vendor_from_title() {
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
    for s in found.sections.into_iter().filter(|s| !s.entries.is_empty()) {
        let text = format!("{} {}", s.title, s.description.join(" "));
        sections.push(Section {
            subprocessors: !is_account_data_only(&text),
            title: s.title,
            description: (!s.description.is_empty()).then(|| s.description.join("\n\n")),
            entries: s.entries.iter().map(|e| e.entry.clone()).collect(),
        });
        origins.push(SectionOrigin {
            line: s.line,
            entries: s.entries.iter().map(|e| e.line).collect(),
        });
    }
    warnings.sort_by_key(|w| w.line);
    Ok(Imported {
        annex: Annex {
            vendor,
            version,
            effective,
            sections,
        },
        warnings,
        origins,
    })
}

/// Whether a version string is `[A-Za-z0-9._-]+`.
fn valid_version(v: &str) -> bool {
    !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

// ---------------------------------------------------------------------------------------
// Reading the page into blocks

/// One meaningful piece of the page, with its 1-based line.
#[derive(Debug, Clone)]
enum Block {
    Heading {
        line: usize,
        level: usize,
        raw: String,
    },
    Table(Table),
    Text {
        line: usize,
        raw: String,
        quoted: bool,
    },
    Blank,
}

#[derive(Debug, Clone)]
struct Table {
    header_line: usize,
    header: Vec<String>,
    rows: Vec<(usize, Vec<String>)>,
}

#[derive(Debug, Clone)]
enum PageDate {
    Read { date: NaiveDate },
    Unreadable { line: usize, text: String },
}

/// The page split into blocks, with the facts found outside them.
#[derive(Debug, Default)]
struct Page {
    blocks: Vec<Block>,
    /// Whether headings are Markdown ones (`#`, setext) rather than guessed from plain text.
    markdown: bool,
    front_title: Option<(usize, String)>,
    front_label: Option<(usize, String)>,
    date: Option<PageDate>,
    version: Option<String>,
    warnings: Vec<Warning>,
}

impl Page {
    fn read(text: &str) -> Page {
        let mut page = Page::default();
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let raw: Vec<&str> = text.lines().collect();
        let mut start = 0;
        if raw.first().map(|l| l.trim()) == Some("---")
            && let Some(end) = raw
                .iter()
                .skip(1)
                .position(|l| matches!(l.trim(), "---" | "..."))
        {
            for (i, l) in raw.iter().enumerate().take(end + 1).skip(1) {
                if let Some((k, v)) = l.split_once(':') {
                    let v = v.trim().trim_matches(|c| c == '"' || c == '\'').to_string();
                    match k.trim() {
                        "title" => page.front_title = Some((i + 1, v)),
                        "sidebar_label" => page.front_label = Some((i + 1, v)),
                        _ => {}
                    }
                }
            }
            start = end + 2;
        }

        // Strip HTML comments (possibly spanning lines) and admonition markers.
        let mut lines: Vec<(usize, String, bool)> = Vec::new();
        let mut in_comment = false;
        for (i, l) in raw.iter().enumerate().skip(start) {
            let mut kept = String::new();
            let mut rest = *l;
            loop {
                if in_comment {
                    match rest.find("-->") {
                        Some(p) => {
                            rest = &rest[p + 3..];
                            in_comment = false;
                        }
                        None => break,
                    }
                } else {
                    match rest.find("<!--") {
                        Some(p) => {
                            kept.push_str(&rest[..p]);
                            rest = &rest[p + 4..];
                            in_comment = true;
                        }
                        None => {
                            kept.push_str(rest);
                            break;
                        }
                    }
                }
            }
            let had_comment = kept.len() != l.len();
            let (body, quoted) = strip_admonition(&kept);
            match body {
                Some(b) => {
                    // A line that held only a comment is not a paragraph break.
                    if had_comment && b.trim().is_empty() {
                        continue;
                    }
                    lines.push((i + 1, b, quoted))
                }
                None => continue,
            }
        }

        page.markdown = lines.iter().any(|(_, l, q)| !q && atx_heading(l).is_some())
            || lines
                .windows(2)
                .any(|w| !w[0].1.trim().is_empty() && setext_level(&w[1].1).is_some());

        let mut i = 0;
        while i < lines.len() {
            let (no, ref l, quoted) = lines[i];
            let t = l.trim();
            if t.is_empty() {
                page.blocks.push(Block::Blank);
                i += 1;
                continue;
            }
            if !quoted && page.take_date_or_version(no, t) {
                i += 1;
                continue;
            }
            if t.contains('|') && lines.get(i + 1).is_some_and(|n| is_separator(&n.1)) {
                let mut table = Table {
                    header_line: no,
                    header: split_row(t),
                    rows: Vec::new(),
                };
                i += 2;
                while let Some((rno, r, _)) = lines.get(i) {
                    if r.trim().is_empty() || !r.contains('|') {
                        break;
                    }
                    table.rows.push((*rno, split_row(r.trim())));
                    i += 1;
                }
                page.blocks.push(Block::Table(table));
                continue;
            }
            if !quoted && page.markdown {
                if let Some((level, text)) = atx_heading(t) {
                    page.blocks.push(Block::Heading {
                        line: no,
                        level,
                        raw: text,
                    });
                    i += 1;
                    continue;
                }
                if let Some(level) = lines.get(i + 1).and_then(|n| setext_level(&n.1))
                    && !t.starts_with(['-', '*', '+', '>'])
                {
                    page.blocks.push(Block::Heading {
                        line: no,
                        level,
                        raw: t.to_string(),
                    });
                    i += 2;
                    continue;
                }
            }
            if !quoted && !page.markdown && looks_like_plain_heading(t) {
                page.blocks.push(Block::Heading {
                    line: no,
                    level: 2,
                    raw: t.to_string(),
                });
                i += 1;
                continue;
            }
            page.blocks.push(Block::Text {
                line: no,
                raw: t.to_string(),
                quoted,
            });
            i += 1;
        }
        page
    }

    /// Takes a "Last updated: ..." or "Version: ..." line; true if the line was one.
    fn take_date_or_version(&mut self, line: usize, raw: &str) -> bool {
        let text = inline(raw).0;
        if text.chars().count() > 80 {
            return false;
        }
        let lower = text.to_lowercase();
        const DATE_LABELS: [&str; 10] = [
            "last updated",
            "last update",
            "last modified",
            "last revised",
            "effective date",
            "effective from",
            "effective as of",
            "effective",
            "updated",
            "date",
        ];
        if let Some(label) = DATE_LABELS.iter().find(|l| lower.starts_with(*l)) {
            let rest = text[label.len()..].trim_start();
            // "Updated versions follow" is prose, not a date line: require a separator or a digit.
            let rest = match rest.strip_prefix([':', '-', '\u{2014}', '\u{2013}']) {
                Some(r) => r.trim_start(),
                None if rest.to_lowercase().starts_with("on ") => rest[3..].trim_start(),
                None if rest.starts_with(|c: char| c.is_ascii_digit()) => rest,
                None => return false,
            };
            let rest = rest.trim_end_matches(['.', '*', '_']).trim();
            match parse_date(rest) {
                Some(date) => match &self.date {
                    None | Some(PageDate::Unreadable { .. }) => {
                        self.date = Some(PageDate::Read { date })
                    }
                    Some(PageDate::Read { date: first }) if *first != date => {
                        self.warnings.push(Warning {
                            line,
                            message: format!(
                                "a second date line ({date}); the first one ({first}) is used"
                            ),
                        })
                    }
                    Some(_) => {}
                },
                None => {
                    self.warnings.push(Warning {
                        line,
                        message: format!("cannot read the date `{rest}`"),
                    });
                    if self.date.is_none() {
                        self.date = Some(PageDate::Unreadable {
                            line,
                            text: rest.to_string(),
                        });
                    }
                }
            }
            return true;
        }
        if let Some(rest) = lower.strip_prefix("version") {
            let Some(value) = rest.trim_start().strip_prefix(':') else {
                return false;
            };
            let value = text[text.len() - value.len()..].trim().to_string();
            if valid_version(&value) {
                self.version.get_or_insert(value);
            } else {
                self.warnings.push(Warning {
                    line,
                    message: format!(
                        "the page's version `{value}` is not [A-Za-z0-9._-]+; the effective date is used instead (or pass --version)"
                    ),
                });
            }
            return true;
        }
        false
    }

    /// The vendor named in the page title, if a title names one.
    fn vendor_from_title(&self) -> Option<(usize, String)> {
        let h1 = self.blocks.iter().find_map(|b| match b {
            Block::Heading {
                line,
                level: 1,
                raw,
            } if self.markdown => Some((*line, inline(raw).0)),
            _ => None,
        });
        [self.front_title.clone(), h1, self.front_label.clone()]
            .into_iter()
            .flatten()
            .find_map(|(line, title)| vendor_in_title(&title).map(|v| (line, v)))
    }

    /// The page title used for a section that has no heading of its own.
    fn title(&self) -> String {
        let h1 = self.blocks.iter().find_map(|b| match b {
            Block::Heading { level: 1, raw, .. } if self.markdown => Some(inline(raw).0),
            _ => None,
        });
        self.front_title
            .as_ref()
            .map(|t| t.1.clone())
            .or(h1)
            .unwrap_or_else(|| "Subprocessors".to_string())
    }
}

/// Removes blockquote and admonition markers; `None` for lines that are only a marker.
fn strip_admonition(line: &str) -> (Option<String>, bool) {
    let t = line.trim_start();
    let mut quoted = false;
    let mut rest = t;
    while let Some(r) = rest.strip_prefix('>') {
        quoted = true;
        rest = r.strip_prefix(' ').unwrap_or(r).trim_start();
    }
    let marker = rest.trim();
    // GitHub "[!NOTE]", Docusaurus ":::note", MkDocs "!!! note", GitBook "{% hint %}".
    if (marker.starts_with("[!") && marker.ends_with(']'))
        || marker.starts_with(":::")
        || marker.starts_with("!!!")
        || marker.starts_with("???")
        || (marker.starts_with("{%") && marker.ends_with("%}"))
    {
        return (None, quoted);
    }
    if quoted {
        (Some(rest.to_string()), true)
    } else {
        (Some(line.to_string()), false)
    }
}

fn atx_heading(line: &str) -> Option<(usize, String)> {
    let t = line.trim_start();
    let level = t.chars().take_while(|&c| c == '#').count();
    if !(1..=6).contains(&level) {
        return None;
    }
    let rest = &t[level..];
    if !rest.starts_with([' ', '\t']) {
        return None;
    }
    let text = rest.trim().trim_end_matches('#').trim();
    (!text.is_empty()).then(|| (level, text.to_string()))
}

fn setext_level(line: &str) -> Option<usize> {
    let t = line.trim();
    if t.len() >= 3 && t.chars().all(|c| c == '=') {
        Some(1)
    } else if t.len() >= 3 && t.chars().all(|c| c == '-') {
        Some(2)
    } else {
        None
    }
}

/// A plain-text heading: a short line with no closing punctuation, not a list item.
fn looks_like_plain_heading(t: &str) -> bool {
    let words = t.split_whitespace().count();
    let first_letter = t.chars().find(|c| c.is_alphabetic());
    !t.starts_with(['-', '*', '+', '\u{2022}', '|'])
        && t.chars().count() <= 120
        && words <= 16
        && !t.ends_with(['.', ':', ';', ',', '!', '?'])
        && !t.contains('@')
        && !t.contains("://")
        && first_letter.is_some_and(|c| c.is_uppercase())
}

fn is_separator(line: &str) -> bool {
    let t = line.trim();
    let t = t.strip_prefix('|').unwrap_or(t);
    let t = t.strip_suffix('|').unwrap_or(t);
    !t.is_empty()
        && t.split('|').all(|cell| {
            let c = cell.trim().trim_start_matches(':').trim_end_matches(':');
            c.len() >= 3 && c.chars().all(|ch| ch == '-')
        })
}

/// Splits a table row on unescaped pipes outside code spans.
fn split_row(line: &str) -> Vec<String> {
    let t = line.trim();
    let mut cells = Vec::new();
    let mut cur = String::new();
    let mut chars = t.chars().peekable();
    let mut in_code = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cur.push('\\');
                cur.push('|');
                chars.next();
            }
            '`' => {
                in_code = !in_code;
                cur.push(c);
            }
            '|' if !in_code => cells.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    cells.push(cur);
    if t.starts_with('|') {
        cells.remove(0);
    }
    if t.ends_with('|') && !t.ends_with("\\|") && cells.len() > 1 {
        cells.pop();
    }
    cells.into_iter().map(|c| c.trim().to_string()).collect()
}

/// Reads dates such as "May 26, 2026", "2026-05-26", "26 May 2026", "26th May 2026".
fn parse_date(text: &str) -> Option<NaiveDate> {
    let mut cleaned = String::new();
    let words: Vec<String> = text
        .replace(',', " ")
        .split_whitespace()
        .map(|w| {
            let digits: String = w.chars().take_while(|c| c.is_ascii_digit()).collect();
            let suffix = &w[digits.len()..];
            if !digits.is_empty() && matches!(suffix, "st" | "nd" | "rd" | "th" | ".") {
                digits
            } else {
                w.to_string()
            }
        })
        .collect();
    // Try the whole text, then its first three words, then its first word.
    for n in [words.len(), 3, 1] {
        cleaned.clear();
        cleaned.push_str(&words[..n.min(words.len())].join(" "));
        for fmt in [
            "%Y-%m-%d",
            "%B %d %Y",
            "%d %B %Y",
            "%Y/%m/%d",
            "%d.%m.%Y",
            "%B %d. %Y",
        ] {
            if let Ok(d) = NaiveDate::parse_from_str(&cleaned, fmt) {
                return Some(d);
            }
        }
    }
    None
}

/// A vendor name left in a title once the generic words are taken out.
fn vendor_in_title(title: &str) -> Option<String> {
    const GENERIC: [&str; 34] = [
        "subprocessors",
        "subprocessor",
        "suprocessors",
        "sub",
        "processors",
        "processor",
        "processing",
        "data",
        "list",
        "of",
        "the",
        "our",
        "third",
        "3rd",
        "party",
        "parties",
        "services",
        "service",
        "providers",
        "provider",
        "vendors",
        "and",
        "&",
        "used",
        "by",
        "at",
        "for",
        "with",
        "page",
        "current",
        "approved",
        "authorized",
        "authorised",
        "partners",
    ];
    let kept: Vec<&str> = title
        .split_whitespace()
        .filter(|w| {
            let parts: Vec<String> = w
                .split(['-', '/'])
                .map(|p| {
                    p.trim_matches(|c: char| !c.is_alphanumeric() && c != '&')
                        .to_lowercase()
                })
                .filter(|p| !p.is_empty())
                .collect();
            !parts.iter().all(|p| GENERIC.contains(&p.as_str()))
        })
        .collect();
    let name = kept
        .join(" ")
        .trim_matches(|c: char| matches!(c, ':' | '|' | '-' | '\u{2013}' | '\u{2014}' | ' '))
        .trim_end_matches("'s")
        .trim_end_matches("\u{2019}s")
        .to_string();
    let words = name.split_whitespace().count();
    // A name is capitalised word by word ("Acme Cloud", "Postgres.ai"); "we rely on" is not one.
    let capitalised = name
        .split_whitespace()
        .all(|w| w.starts_with(|c: char| c.is_uppercase() || c.is_ascii_digit()));
    (capitalised && name.chars().any(|c| c.is_alphabetic()) && words <= 5).then_some(name)
}

// ---------------------------------------------------------------------------------------
// Markdown inline text

/// Plain text of a Markdown fragment, and the first link target in it.
fn inline(s: &str) -> (String, Option<String>) {
    let mut out = String::new();
    let mut link = None;
    inline_into(s, &mut out, &mut link);
    let collapsed = out.split_whitespace().collect::<Vec<_>>().join(" ");
    (collapsed, link)
}

fn inline_into(s: &str, out: &mut String, link: &mut Option<String>) {
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let prev = if i > 0 { Some(chars[i - 1]) } else { None };
        let next = chars.get(i + 1).copied();
        match c {
            '\\' if next.is_some_and(|n| n.is_ascii_punctuation()) => {
                out.extend(next);
                i += 2;
            }
            '`' => i += 1,
            '!' if next == Some('[') => i += 1,
            '[' => {
                if let Some((text, url, end)) = parse_link(&chars, i) {
                    inline_into(&text, out, link);
                    if link.is_none() && !url.is_empty() {
                        *link = Some(url);
                    }
                    i = end;
                } else {
                    out.push(c);
                    i += 1;
                }
            }
            '<' => {
                let close = chars[i..].iter().position(|&x| x == '>').map(|p| i + p);
                let inner: String = match close {
                    Some(e) => chars[i + 1..e].iter().collect(),
                    None => String::new(),
                };
                if let Some(e) = close
                    && (inner.starts_with("http://") || inner.starts_with("https://"))
                {
                    out.push_str(&inner);
                    link.get_or_insert(inner);
                    i = e + 1;
                } else if let Some(e) = close
                    && inner
                        .chars()
                        .next()
                        .is_some_and(|f| f.is_ascii_alphabetic() || f == '/')
                {
                    // An HTML tag: a line break becomes a space, other tags vanish.
                    out.push(' ');
                    i = e + 1;
                } else {
                    out.push(c);
                    i += 1;
                }
            }
            '*' | '_' | '~' => {
                let run = chars[i..].iter().take_while(|&&x| x == c).count();
                let before = prev.is_some_and(|p| !p.is_whitespace());
                let after = chars.get(i + run).is_some_and(|n| !n.is_whitespace());
                let word_inner = c == '_'
                    && prev.is_some_and(|p| p.is_alphanumeric())
                    && chars.get(i + run).is_some_and(|n| n.is_alphanumeric());
                // Emphasis delimiters touch text on one side; "5 * 3" and snake_case stay.
                if (before || after) && !word_inner && !(c == '~' && run == 1) {
                    i += run;
                } else {
                    out.extend(std::iter::repeat_n(c, run));
                    i += run;
                }
            }
            '&' => {
                let rest: String = chars[i..chars.len().min(i + 8)].iter().collect();
                let entity = [
                    ("&amp;", '&'),
                    ("&nbsp;", ' '),
                    ("&lt;", '<'),
                    ("&gt;", '>'),
                    ("&quot;", '"'),
                    ("&#39;", '\''),
                ]
                .into_iter()
                .find(|(e, _)| rest.starts_with(e));
                match entity {
                    Some((e, ch)) => {
                        out.push(ch);
                        i += e.chars().count();
                    }
                    None => {
                        out.push(c);
                        i += 1;
                    }
                }
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
}

/// Parses `[text](url)` or `[text][ref]` starting at `start`; returns text, url and end.
fn parse_link(chars: &[char], start: usize) -> Option<(String, String, usize)> {
    let mut depth = 0;
    let mut close = None;
    for (j, &c) in chars.iter().enumerate().skip(start) {
        match c {
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(j);
                    break;
                }
            }
            _ => {}
        }
    }
    let close = close?;
    let text: String = chars[start + 1..close].iter().collect();
    match chars.get(close + 1) {
        Some('(') => {
            let end = chars[close + 1..].iter().position(|&c| c == ')')? + close + 1;
            let target: String = chars[close + 2..end].iter().collect();
            // A link title ("...") after the URL is not part of it.
            let url = target
                .split_whitespace()
                .next()
                .unwrap_or("")
                .trim_matches(['<', '>'])
                .to_string();
            Some((text, url, end + 1))
        }
        Some('[') => {
            let end = chars[close + 1..].iter().position(|&c| c == ']')? + close + 1;
            Some((text, String::new(), end + 1))
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// Mapping column names and labels to entry fields

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Name,
    Function,
    Location,
    Certifications,
    Website,
    LegalAddress,
    HasAccess,
    NoAccess,
}

impl Field {
    fn key(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Function => "function",
            Field::Location => "location",
            Field::Certifications => "certifications",
            Field::Website => "website",
            Field::LegalAddress => "legal_address",
            Field::HasAccess => "has_access",
            Field::NoAccess => "no_access",
        }
    }
}

/// The field a table column holds, judged by its header.
fn map_column(header: &str) -> Option<Field> {
    let h = inline(header).0.to_lowercase();
    let has = |w: &str| h.contains(w);
    if has("does not have access") || has("no access") || has("not accessed") {
        Some(Field::NoAccess)
    } else if has("access") {
        Some(Field::HasAccess)
    } else if has("location") || has("country") || has("countries") || has("region") || h == "where"
    {
        Some(Field::Location)
    } else if has("certif") || has("compliance") || has("attestation") {
        Some(Field::Certifications)
    } else if has("address") {
        Some(Field::LegalAddress)
    } else if matches!(
        h.as_str(),
        "website" | "web site" | "url" | "link" | "homepage"
    ) {
        Some(Field::Website)
    } else if has("subprocessor")
        || has("sub-processor")
        || has("name")
        || has("provider")
        || has("vendor")
        || has("company")
        || has("entity")
        || has("third party")
    {
        Some(Field::Name)
    } else if has("function")
        || has("purpose")
        || has("description")
        || has("service")
        || has("activit")
        || has("nature")
        || has("role")
        || has("processing")
    {
        Some(Field::Function)
    } else {
        None
    }
}

/// The field a label ("Data Processing Location") names.
fn map_label(label: &str) -> Option<Field> {
    let l = label.to_lowercase();
    let l = l.trim_end_matches(':').trim();
    Some(match l {
        "has access to" | "has access" | "access to" | "data accessed" | "can access" => {
            Field::HasAccess
        }
        "does not have access to"
        | "does not have access"
        | "doesn't have access to"
        | "has no access to"
        | "no access to"
        | "no access"
        | "cannot access" => Field::NoAccess,
        "data processing location"
        | "processing location"
        | "location of processing"
        | "location"
        | "locations"
        | "country"
        | "data location"
        | "hosting location"
        | "server location"
        | "region" => Field::Location,
        "legal address" | "address" | "registered address" | "registered office"
        | "head office" => Field::LegalAddress,
        "website" | "web site" | "url" | "link" | "homepage" => Field::Website,
        "certifications" | "certification" | "certificates" | "compliance" | "attestations" => {
            Field::Certifications
        }
        "function"
        | "purpose"
        | "service"
        | "services"
        | "description"
        | "processing activities"
        | "nature of processing"
        | "role" => Field::Function,
        _ => return None,
    })
}

/// A "Label: value" line, possibly bulleted and emphasised.
struct LabelLine {
    field: Option<Field>,
    label: String,
    value: String,
    link: Option<String>,
}

fn parse_label(raw: &str) -> Option<LabelLine> {
    let t = raw.trim();
    let (bulleted, rest) = match t.strip_prefix(['-', '*', '+', '\u{2022}']) {
        Some(r) if r.starts_with(' ') => (true, r.trim_start()),
        _ => (false, t),
    };
    let emphasised = rest.starts_with(['*', '_']);
    let (plain, link) = inline(rest);
    let (label, value) = plain.split_once(':')?;
    let label = label.trim();
    let words = label.split_whitespace().count();
    if words == 0
        || words > 6
        || !label
            .chars()
            .all(|c| c.is_alphabetic() || matches!(c, ' ' | '-' | '\'' | '(' | ')' | '/'))
    {
        return None;
    }
    let field = map_label(label);
    if field.is_none() && !(emphasised || (bulleted && words <= 4)) {
        return None;
    }
    // The link of a "Website: [x](url)" line is its value; elsewhere links are just text.
    let value = value.trim().to_string();
    Some(LabelLine {
        field,
        label: label.to_string(),
        value,
        link,
    })
}

// ---------------------------------------------------------------------------------------
// Walking the blocks into sections and entries

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
    entries: Vec<FoundEntry>,
}

#[derive(Debug)]
struct FoundEntry {
    line: usize,
    entry: Entry,
    /// Text the activation and feature were judged from.
    remarks: String,
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
            Block::Text { raw, .. } => {
                let ctx = stack.last_mut().unwrap_or(&mut intro);
                if ctx.open {
                    let text = inline(raw).0;
                    // Plain text has one paragraph per line; Markdown joins wrapped lines.
                    match ctx.paragraphs.last_mut() {
                        Some(p) if paragraph_open && page.markdown => {
                            p.push(' ');
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
                    warnings.push(Warning {
                        line: table.header_line,
                        message: "a table without a name column (Subprocessor, Name, Service Provider, ...) was not imported".into(),
                    });
                } else {
                    section_for(found, ctx).entries.extend(entries);
                }
                i += 1;
            }
            Block::Heading { line, level, raw } => {
                paragraph_open = false;
                let end = blocks[i + 1..]
                    .iter()
                    .position(|b| matches!(b, Block::Heading { .. }))
                    .map_or(blocks.len(), |p| i + 1 + p);
                let body = &blocks[i + 1..end];
                if is_provider(body) {
                    // Markdown: the section is the nearest heading above this level.
                    while page.markdown && stack.last().is_some_and(|c| c.level >= *level) {
                        stack.pop();
                    }
                    let ctx = stack.last_mut().unwrap_or(&mut intro);
                    ctx.open = false;
                    ctx.provider_level = Some(*level);
                    let entry = read_provider(*line, raw, body, warnings);
                    section_for(found, ctx).entries.push(entry);
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
                entries: Vec::new(),
            });
            found.sections.len() - 1
        }
    };
    &mut found.sections[pos]
}

/// A provider heading is one whose body has a known label and no table.
fn is_provider(body: &[Block]) -> bool {
    let mut labelled = false;
    for b in body {
        match b {
            Block::Table(_) => return false,
            Block::Text { raw, .. } => {
                if parse_label(raw).is_some_and(|l| l.field.is_some()) {
                    labelled = true;
                }
            }
            _ => {}
        }
    }
    labelled
}

/// Entries from a pipe table; empty when the table has no name column.
fn read_table(table: &Table, warnings: &mut Vec<Warning>) -> Vec<FoundEntry> {
    let mut columns: Vec<Option<Field>> = Vec::new();
    for header in &table.header {
        let field = map_column(header);
        let name = inline(header).0;
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
                Some(Field::Website) => {
                    website_cell = link.or(Some(text)).filter(|w| !w.is_empty())
                }
                Some(f) => set_field(&mut entry, *f, text, link),
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
        set_activation(&mut entry, &remarks, *line, warnings);
        entries.push(FoundEntry {
            line: *line,
            entry,
            remarks,
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
    let mut paragraph_open = false;
    for b in body {
        match b {
            Block::Blank => paragraph_open = false,
            Block::Text {
                line: l,
                raw,
                quoted,
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
                            set_field(&mut entry, field, v, None)
                        }
                        _ => set_field(&mut entry, field, label.value, label.link),
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
    set_activation(&mut entry, &judged, line, warnings);
    for (l, remark) in &remarks {
        let found = activation_in(remark);
        if found.is_some() && entry.activation == Activation::Always {
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
    }
}

fn empty_entry() -> Entry {
    Entry {
        name: String::new(),
        function: String::new(),
        location: String::new(),
        certifications: Vec::new(),
        website: None,
        legal_address: None,
        has_access: None,
        no_access: None,
        activation: Activation::Always,
        feature: None,
    }
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
    }
}

fn set_field(e: &mut Entry, f: Field, text: String, link: Option<String>) {
    let some = |t: String| (!t.is_empty()).then_some(t);
    match f {
        Field::Name => e.name = text,
        Field::Function => e.function = text,
        Field::Location => e.location = text,
        Field::Certifications => e.certifications = split_list(&text),

        Field::Website => e.website = link.or(some(text)),
        Field::LegalAddress => e.legal_address = some(text),
        Field::HasAccess => e.has_access = some(text),
        Field::NoAccess => e.no_access = some(text),
    }
}

/// Fills a missing function or location with [`NOT_STATED`] and flags odd certifications.
fn fill_required(e: &mut Entry, line: usize, warnings: &mut Vec<Warning>) {
    for (value, what) in [(&mut e.function, "function"), (&mut e.location, "location")] {
        if matches!(
            value.trim(),
            "" | "-" | "\u{2014}" | "\u{2013}" | "n/a" | "N/A"
        ) {
            *value = NOT_STATED.to_string();
            warnings.push(Warning {
                line,
                message: format!(
                    "{}: the page gives no {what}; written as \"{NOT_STATED}\"",
                    e.name
                ),
            });
        }
    }
    for c in &e.certifications {
        // Certificate names are short; a sentence in that column is a remark worth a look.
        if c.split_whitespace().count() > 4 {
            warnings.push(Warning {
                line,
                message: format!(
                    "{}: \"{c}\" reads like a remark, not a certification; kept under certifications",
                    e.name
                ),
            });
        }
    }
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

// ---------------------------------------------------------------------------------------
// Opt-in and opt-out remarks

/// The activation a remark states, if any.
fn activation_in(text: &str) -> Option<Activation> {
    let t = text.to_lowercase();
    let opt_in = ["opt-in", "opt in", "opted in", "opt into", "opted-in"]
        .iter()
        .any(|p| has_phrase(&t, p))
        || only_when_enabled(&t);
    let opt_out = ["opt-out", "opt out", "opted out", "opted-out"]
        .iter()
        .any(|p| has_phrase(&t, p));
    match (opt_in, opt_out) {
        (true, _) => Some(Activation::OptIn),
        (false, true) => Some(Activation::OptOut),
        _ => None,
    }
}

/// Whether `phrase` occurs in `t` starting at a word boundary ("adopt in" is not "opt in").
fn has_phrase(t: &str, phrase: &str) -> bool {
    t.match_indices(phrase).any(|(i, _)| {
        !t[..i]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric())
            && !t[i + phrase.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_alphanumeric())
    })
}

/// "only when explicitly selected", "activated only if a customer enables ...".
fn only_when_enabled(t: &str) -> bool {
    ["only when", "only if", "only after"].iter().any(|p| {
        t.match_indices(p).any(|(i, _)| {
            let tail: String = t[i + p.len()..]
                .chars()
                .take_while(|&c| !matches!(c, '.' | ';' | ')'))
                .take(80)
                .collect();
            [
                "enabl", "activat", "select", "choos", "chose", "turn", "switch", "explicit",
            ]
            .iter()
            .any(|w| tail.contains(w))
        })
    })
}

fn set_activation(e: &mut Entry, text: &str, line: usize, warnings: &mut Vec<Warning>) {
    let lower = text.to_lowercase();
    let both = ["opt-in", "opt in"].iter().any(|p| has_phrase(&lower, p))
        && ["opt-out", "opt out"].iter().any(|p| has_phrase(&lower, p));
    if let Some(a) = activation_in(text) {
        e.activation = a;
        if both {
            warnings.push(Warning {
                line,
                message: format!(
                    "{} is described as both opt-in and opt-out; imported as opt-in",
                    e.name
                ),
            });
        }
    }
}

/// Applies "others are opt-in (e.g. X)" remarks in the page's prose to the providers they name.
fn apply_mentions(page: &Page, found: &mut Found, warnings: &mut Vec<Warning>) {
    let mut provider_lines: Vec<usize> = Vec::new();
    for s in &found.sections {
        provider_lines.extend(s.entries.iter().map(|e| e.line));
    }
    for b in &page.blocks {
        let Block::Text { line, raw, .. } = b else {
            continue;
        };
        let text = inline(raw).0;
        let lower = text.to_lowercase();
        for (marker, activation) in [
            ("opt-in", Activation::OptIn),
            ("opt-out", Activation::OptOut),
        ] {
            for (i, _) in lower.match_indices(marker) {
                let after = lower[i + marker.len()..].trim_start();
                let Some(rest) = after
                    .strip_prefix("(e.g.")
                    .or_else(|| after.strip_prefix("(eg"))
                else {
                    continue;
                };
                let offset = text.len() - rest.len();
                let names_end = text[offset..].find(')').map_or(text.len(), |p| offset + p);
                for name in text[offset..names_end]
                    .split([',', '/'])
                    .flat_map(|n| n.split(" and "))
                {
                    let name = name.trim().trim_end_matches('.');
                    if name.is_empty() {
                        continue;
                    }
                    let hit = found
                        .sections
                        .iter_mut()
                        .flat_map(|s| s.entries.iter_mut())
                        .find(|e| e.entry.name.to_lowercase() == name.to_lowercase());
                    match hit {
                        Some(e) if e.entry.activation == Activation::Always => {
                            e.entry.activation = activation;
                            e.remarks.push(' ');
                            e.remarks.push_str(&text);
                            warnings.push(Warning {
                                line: *line,
                                message: format!(
                                    "{} marked {} because this line names it as an example",
                                    e.entry.name,
                                    activation.as_str()
                                ),
                            });
                        }
                        Some(e) if e.entry.activation != activation => warnings.push(Warning {
                            line: *line,
                            message: format!(
                                "this line calls {} {}, its own entry says {}; the entry's word was kept",
                                e.entry.name,
                                activation.as_str(),
                                e.entry.activation.as_str()
                            ),
                        }),
                        Some(_) => {}
                        None => warnings.push(Warning {
                            line: *line,
                            message: format!(
                                "names \"{name}\" as {}, but the page lists no provider of that name",
                                activation.as_str()
                            ),
                        }),
                    }
                }
            }
        }
    }
}

/// Gives every opt-in entry a feature: "ai" for AI services, else a slug of its name.
fn assign_features(found: &mut Found, warnings: &mut Vec<Warning>) {
    for e in found.sections.iter_mut().flat_map(|s| s.entries.iter_mut()) {
        if e.entry.activation != Activation::OptIn || e.entry.feature.is_some() {
            continue;
        }
        let text = format!("{} {}", e.entry.name, e.remarks);
        if mentions_ai(&text) {
            e.entry.feature = Some("ai".into());
            warnings.push(Warning {
                line: e.line,
                message: format!(
                    "{} is opt-in for an AI feature: feature = \"ai\"; check customers enable it under that name",
                    e.entry.name
                ),
            });
        } else {
            let slug = slug(&e.entry.name);
            warnings.push(Warning {
                line: e.line,
                message: format!(
                    "{} is opt-in but the page names no feature: feature = \"{slug}\" (from its name); rename it to the feature customers enable",
                    e.entry.name
                ),
            });
            e.entry.feature = Some(slug);
        }
    }
}

fn mentions_ai(text: &str) -> bool {
    let lower = text.to_lowercase();
    let word = |w: &str| {
        text.match_indices(w).any(|(i, _)| {
            !text[..i]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric())
                && !text[i + w.len()..]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_alphanumeric())
        })
    };
    word("AI")
        || word("LLM")
        || word("GPT")
        || lower.contains("artificial intelligence")
        || lower.contains("machine learning")
        || lower.contains("language model")
}

/// A lowercase ASCII slug: "Customer.io" -> "customer-io".
fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "feature".into()
    } else {
        out
    }
}

fn warn_duplicates(found: &Found, warnings: &mut Vec<Warning>) {
    let all: Vec<&FoundEntry> = found
        .sections
        .iter()
        .flat_map(|s| s.entries.iter())
        .collect();
    for (i, e) in all.iter().enumerate() {
        if let Some(first) = all[..i]
            .iter()
            .find(|f| name_key(&f.entry.name) == name_key(&e.entry.name))
        {
            warnings.push(Warning {
                line: e.line,
                message: format!(
                    "{} is listed again (first at line {}); diffs match providers by name, so give each a distinct name",
                    e.entry.name, first.line
                ),
            });
        }
    }
}

/// Whether a section's heading or text says its providers see account-holder data only.
fn is_account_data_only(text: &str) -> bool {
    let t = text.to_lowercase();
    [
        "account holder",
        "account-holder",
        "account data",
        "account holders",
        "without access to pii",
        "without access to personal data",
        "no access to pii",
        "no access to personal data",
        "no access to customer personal data",
    ]
    .iter()
    .any(|p| t.contains(p))
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max.saturating_sub(1)).collect();
        format!("{}\u{2026}", cut.trim_end())
    }
}

// ---------------------------------------------------------------------------------------
// Output

/// The annex as a TOML file, headed by where it came from and the import's warnings.
pub fn to_toml(imported: &Imported, source: &str) -> String {
    let annex = &imported.annex;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Subprocessor annex imported by `dpa annex import` from {source}."
    );
    out.push_str("# Check every entry against the page before publishing; \"page line\" comments point into it.\n");
    if imported.warnings.is_empty() {
        out.push_str("# The import raised no warnings.\n");
    } else {
        let _ = writeln!(out, "#\n# Warnings ({}):", imported.warnings.len());
        for w in &imported.warnings {
            for (i, part) in w.to_string().lines().enumerate() {
                let _ = writeln!(out, "#{}{part}", if i == 0 { "   " } else { "     " });
            }
        }
    }
    out.push('\n');
    let _ = writeln!(out, "vendor = {}", toml_string(&annex.vendor));
    let _ = writeln!(out, "version = {}", toml_string(&annex.version));
    let _ = writeln!(out, "effective = {}", annex.effective.format("%Y-%m-%d"));
    for (si, section) in annex.sections.iter().enumerate() {
        let origin = imported.origins.get(si);
        out.push('\n');
        match origin.and_then(|o| o.line) {
            Some(l) => {
                let _ = writeln!(out, "# page line {l}");
            }
            None => out.push_str("# section named after the page title\n"),
        }
        out.push_str("[[section]]\n");
        let _ = writeln!(out, "title = {}", toml_string(&section.title));
        if let Some(d) = &section.description {
            let _ = writeln!(out, "description = {}", toml_string(d));
        }
        let _ = writeln!(out, "subprocessors = {}", section.subprocessors);
        for (ei, e) in section.entries.iter().enumerate() {
            out.push('\n');
            if let Some(l) = origin.and_then(|o| o.entries.get(ei)) {
                let _ = writeln!(out, "# page line {l}");
            }
            out.push_str("[[section.entry]]\n");
            let _ = writeln!(out, "name = {}", toml_string(&e.name));
            let _ = writeln!(out, "function = {}", toml_string(&e.function));
            let _ = writeln!(out, "location = {}", toml_string(&e.location));
            if !e.certifications.is_empty() {
                let items: Vec<String> = e.certifications.iter().map(|c| toml_string(c)).collect();
                let _ = writeln!(out, "certifications = [{}]", items.join(", "));
            }
            for (key, value) in [
                ("website", &e.website),
                ("legal_address", &e.legal_address),
                ("has_access", &e.has_access),
                ("no_access", &e.no_access),
            ] {
                if let Some(v) = value {
                    let _ = writeln!(out, "{key} = {}", toml_string(v));
                }
            }
            let _ = writeln!(out, "activation = \"{}\"", e.activation.as_str());
            if let Some(f) = &e.feature {
                let _ = writeln!(out, "feature = {}", toml_string(f));
            }
        }
    }
    out
}

/// A TOML string literal: basic, or multi-line basic when the text has line breaks.
fn toml_string(s: &str) -> String {
    let multiline = s.contains('\n');
    let mut out = String::from(if multiline { "\"\"\"\n" } else { "\"" });
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' if multiline => out.push('\n'),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push_str(if multiline { "\"\"\"" } else { "\"" });
    out
}

/// What the import found, as a plain-text table for `--check`.
pub fn check_table(imported: &Imported) -> String {
    let annex = &imported.annex;
    let mut out = String::new();
    let _ = writeln!(out, "vendor     {}", annex.vendor);
    let _ = writeln!(out, "version    {}", annex.version);
    let _ = writeln!(out, "effective  {}", annex.effective.format("%Y-%m-%d"));
    let count: usize = annex.sections.iter().map(|s| s.entries.len()).sum();
    let _ = writeln!(
        out,
        "providers  {count} in {} section(s)",
        annex.sections.len()
    );
    for (si, section) in annex.sections.iter().enumerate() {
        let kind = if section.subprocessors {
            "subprocessors"
        } else {
            "account data only"
        };
        let _ = writeln!(out, "\n{} ({kind})", section.title);
        let header = [
            "LINE",
            "NAME",
            "FUNCTION",
            "LOCATION",
            "CERTIFICATIONS",
            "ACCESS",
            "ACTIVATION",
            "FEATURE",
            "WEBSITE",
        ];
        let widths = [4, 28, 36, 24, 28, 6, 10, 16, 30];
        let mut rows = vec![header.iter().map(|h| h.to_string()).collect::<Vec<_>>()];
        for (ei, e) in section.entries.iter().enumerate() {
            let line = imported
                .origins
                .get(si)
                .and_then(|o| o.entries.get(ei))
                .map_or(String::new(), |l| l.to_string());
            let access = match (&e.has_access, &e.no_access) {
                (Some(_), Some(_)) => "has+no",
                (Some(_), None) => "has",
                (None, Some(_)) => "no",
                (None, None) => "-",
            };
            rows.push(vec![
                line,
                e.name.clone(),
                e.function.clone(),
                e.location.clone(),
                if e.certifications.is_empty() {
                    "-".into()
                } else {
                    e.certifications.join(", ")
                },
                access.into(),
                e.activation.as_str().into(),
                e.feature.clone().unwrap_or_else(|| "-".into()),
                e.website.clone().unwrap_or_else(|| "-".into()),
            ]);
        }
        for row in rows {
            let cells: Vec<String> = row
                .iter()
                .zip(widths)
                .map(|(c, w)| {
                    let c = shorten(c, w);
                    let pad = w.saturating_sub(c.chars().count());
                    format!("{c}{}", " ".repeat(pad))
                })
                .collect();
            let _ = writeln!(out, "  {}", cells.join("  ").trim_end());
        }
    }
    if imported.warnings.is_empty() {
        out.push_str("\nno warnings\n");
    } else {
        let _ = writeln!(out, "\nwarnings ({}):", imported.warnings.len());
        for w in &imported.warnings {
            let _ = writeln!(out, "  {w}");
        }
    }
    out
}
