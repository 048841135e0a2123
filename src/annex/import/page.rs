//! Reading a page into blocks: front matter, HTML comments and admonition markers
//! removed; headings (Markdown, or guessed in plain text), pipe tables and text lines
//! kept with their line numbers; date and version lines taken aside.

use chrono::NaiveDate;

use super::fields::parse_label;
use super::inline::inline;
use super::{Warning, valid_version};

/// One meaningful piece of the page, with its 1-based line.
#[derive(Debug, Clone)]
pub(super) enum Block {
    Heading {
        line: usize,
        level: usize,
        raw: String,
        /// A term of an HTML definition list: always a provider, labelled lines or not.
        term: bool,
    },
    Table(Table),
    Text {
        line: usize,
        raw: String,
        quoted: bool,
        /// The line follows a hard line break (`<br>`) in the same paragraph.
        after_break: bool,
    },
    Blank,
}

#[derive(Debug, Clone)]
pub(super) struct Table {
    /// An HTML table's caption, when no heading right above it names the section.
    pub(super) caption: Option<String>,
    pub(super) header_line: usize,
    pub(super) header: Vec<String>,
    pub(super) rows: Vec<(usize, Vec<String>)>,
}

#[derive(Debug, Clone)]
pub(super) enum PageDate {
    Read { date: NaiveDate },
    Unreadable { line: usize, text: String },
}

/// The page split into blocks, with the facts found outside them.
#[derive(Debug, Default)]
pub(super) struct Page {
    pub(super) blocks: Vec<Block>,
    /// Whether headings are Markdown ones (`#`, setext) rather than guessed from plain text.
    pub(super) markdown: bool,
    pub(super) front_title: Option<(usize, String)>,
    pub(super) front_label: Option<(usize, String)>,
    pub(super) date: Option<PageDate>,
    pub(super) version: Option<String>,
    /// A "Vendor:" or "Published by:" line (as the pages of `dpa annex publish` have).
    pub(super) vendor: Option<(usize, String)>,
    /// A "Fingerprint (SHA-256):" line: the 64 hex digits the page says its list has.
    pub(super) fingerprint: Option<(usize, String)>,
    pub(super) warnings: Vec<Warning>,
}

impl Page {
    pub(super) fn read(text: &str) -> Page {
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
            // A table copied from a browser window: cells separated by tabs.
            let tabs = |l: &str| l.trim_matches([' ', '\r']).split('\t').count();
            if !quoted
                && tabs(l) >= 2
                && lines
                    .get(i + 1)
                    .is_some_and(|n| tabs(&n.1) >= 2 && !n.1.trim().is_empty())
            {
                let split = |l: &str| -> Vec<String> {
                    l.trim_matches([' ', '\r'])
                        .split('\t')
                        .map(|c| c.trim().to_string())
                        .collect()
                };
                let mut table = Table {
                    caption: None,
                    header_line: no,
                    header: split(l),
                    rows: Vec::new(),
                };
                i += 1;
                while let Some((rno, r, _)) = lines.get(i) {
                    if tabs(r) < 2 {
                        break;
                    }
                    table.rows.push((*rno, split(r)));
                    i += 1;
                }
                page.blocks.push(Block::Table(table));
                continue;
            }
            if t.contains('|') && lines.get(i + 1).is_some_and(|n| is_separator(&n.1)) {
                let mut table = Table {
                    caption: None,
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
                        term: false,
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
                        term: false,
                    });
                    i += 2;
                    continue;
                }
            }
            if !quoted
                && !page.markdown
                && looks_like_plain_heading(t)
                // "Location: Germany" is a labelled line, not a heading.
                && parse_label(t).is_none_or(|l| l.field.is_none())
            {
                page.blocks.push(Block::Heading {
                    line: no,
                    level: 2,
                    raw: t.to_string(),
                    term: false,
                });
                i += 1;
                continue;
            }
            page.blocks.push(Block::Text {
                line: no,
                raw: t.to_string(),
                quoted,
                after_break: false,
            });
            i += 1;
        }
        page
    }

    /// Takes a "Last updated: ..." or "Version: ..." line; true if the line was one.
    pub(super) fn take_date_or_version(&mut self, line: usize, raw: &str) -> bool {
        let text = inline(raw).0;
        if text.chars().count() > 80 {
            return false;
        }
        // ASCII lowercasing keeps byte offsets, so positions in `lower` slice `text` too.
        let lower = text.to_ascii_lowercase();
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
                None if rest.to_ascii_lowercase().starts_with("on ") => rest[3..].trim_start(),
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
        for (labels, slot) in [
            (&["vendor", "published by"][..], &mut self.vendor),
            (
                &["fingerprint (sha-256)", "fingerprint"][..],
                &mut self.fingerprint,
            ),
        ] {
            if let Some(label) = labels.iter().find(|l| lower.starts_with(*l))
                && let Some(value) = text[label.len()..].trim_start().strip_prefix(':')
            {
                let value = value.trim().to_string();
                if value.is_empty() {
                    return false;
                }
                slot.get_or_insert((line, value));
                return true;
            }
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
    pub(super) fn vendor_from_title(&self) -> Option<(usize, String)> {
        [
            self.front_title.clone(),
            self.heading_title(),
            self.front_label.clone(),
        ]
        .into_iter()
        .flatten()
        .find_map(|(line, title)| vendor_in_title(&title).map(|v| (line, v)))
    }

    /// The page title used for a section that has no heading of its own.
    pub(super) fn title(&self) -> String {
        self.stated_title()
            .unwrap_or_else(|| "Subprocessors".to_string())
    }

    /// The title the page itself states (front matter or first heading), if any.
    pub(super) fn stated_title(&self) -> Option<String> {
        self.front_title
            .clone()
            .or_else(|| self.heading_title())
            .map(|t| t.1)
    }

    /// The first level-1 heading, or in plain text a heading on the page's first line.
    fn heading_title(&self) -> Option<(usize, String)> {
        if self.markdown {
            self.blocks.iter().find_map(|b| match b {
                Block::Heading {
                    line,
                    level: 1,
                    raw,
                    ..
                } => Some((*line, inline(raw).0)),
                _ => None,
            })
        } else {
            match self.blocks.iter().find(|b| !matches!(b, Block::Blank)) {
                Some(Block::Heading { line, raw, .. }) => Some((*line, inline(raw).0)),
                _ => None,
            }
        }
    }
}

/// Removes blockquote and admonition markers; `None` for lines that are only a marker.
pub(super) fn strip_admonition(line: &str) -> (Option<String>, bool) {
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

pub(super) fn atx_heading(line: &str) -> Option<(usize, String)> {
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

pub(super) fn setext_level(line: &str) -> Option<usize> {
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
pub(super) fn looks_like_plain_heading(t: &str) -> bool {
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

pub(super) fn is_separator(line: &str) -> bool {
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
pub(super) fn split_row(line: &str) -> Vec<String> {
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
pub(super) fn parse_date(text: &str) -> Option<NaiveDate> {
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
            // Four-digit years only: `July 1, -26` parses as the year -26, which no TOML
            // date can hold, so the written annex would not load.
            if let Ok(d) = NaiveDate::parse_from_str(&cleaned, fmt)
                && (1000..=9999).contains(&chrono::Datelike::year(&d))
            {
                return Some(d);
            }
        }
    }
    None
}

/// A vendor name left in a title once the generic words are taken out.
pub(super) fn vendor_in_title(title: &str) -> Option<String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    #[test]
    fn dates_in_the_usual_forms() {
        for text in [
            "May 26, 2026",
            "2026-05-26",
            "26 May 2026",
            "26th May 2026",
            "May 26 2026",
            "Mon 2026-05-26",
            "2026-05-26 (v3)",
        ] {
            let expect = if text.starts_with("Mon") {
                None
            } else {
                date(2026, 5, 26)
            };
            assert_eq!(parse_date(text), expect, "{text}");
        }
        assert_eq!(parse_date("1 Sep 2025"), date(2025, 9, 1));
        assert_eq!(parse_date("soon"), None);
        // Found by the fuzzer: years a TOML date cannot hold.
        assert_eq!(parse_date("July 1, -26"), None);
        assert_eq!(parse_date("July 1, 26"), None);
        assert_eq!(parse_date("1 July 20260"), None);
    }

    #[test]
    fn date_and_version_lines() {
        let p = Page::read(
            "*Last updated:* May 26, 2026\nVersion: v4\n| a | b |\n|---|---|\n| x | y |\n",
        );
        assert!(matches!(p.date, Some(PageDate::Read { date: d }) if Some(d) == date(2026, 5, 26)));
        assert_eq!(p.version.as_deref(), Some("v4"));
        // Prose that merely starts with "Updated" is not a date line.
        let p = Page::read("Updated versions of this list are announced by e-mail.\n");
        assert!(p.date.is_none());
        let p = Page::read("Effective date: next spring\n");
        assert!(matches!(p.date, Some(PageDate::Unreadable { line: 1, .. })));
        assert_eq!(p.warnings.len(), 1);
    }

    #[test]
    fn rows_split_on_unescaped_pipes() {
        assert_eq!(
            split_row("| a | b \\| c | `x|y` |"),
            ["a", "b \\| c", "`x|y`"]
        );
        assert_eq!(split_row("a | b"), ["a", "b"]);
        assert!(is_separator("|---|:---:| --- |"));
        assert!(!is_separator("| a | b |"));
    }

    #[test]
    fn vendor_names_in_titles() {
        assert_eq!(
            vendor_in_title("Acme Cloud subprocessors").as_deref(),
            Some("Acme Cloud")
        );
        assert_eq!(
            vendor_in_title("Postgres.ai data subprocessors").as_deref(),
            Some("Postgres.ai")
        );
        assert_eq!(
            vendor_in_title("Subprocessors of Initech").as_deref(),
            Some("Initech")
        );
        assert_eq!(
            vendor_in_title("Globex's sub-processors").as_deref(),
            Some("Globex")
        );
        assert_eq!(
            vendor_in_title("3rd-party Data Subprocessors and Service Providers"),
            None
        );
        assert_eq!(vendor_in_title("Third-Party-Services"), None);
        assert_eq!(vendor_in_title("Services we rely on"), None);
    }

    #[test]
    fn comments_front_matter_and_admonitions_are_dropped() {
        let text = "---\ntitle: T\n---\n<!-- a\nmulti-line comment -->\n> [!NOTE]\n> kept remark\n:::tip\nbody\n:::\n";
        let p = Page::read(text);
        assert_eq!(p.front_title, Some((2, "T".to_string())));
        let texts: Vec<(usize, String, bool)> = p
            .blocks
            .iter()
            .filter_map(|b| match b {
                Block::Text {
                    line, raw, quoted, ..
                } => Some((*line, raw.clone(), *quoted)),
                _ => None,
            })
            .collect();
        assert_eq!(
            texts,
            [
                (7, "kept remark".to_string(), true),
                (9, "body".to_string(), false)
            ]
        );
    }

    #[test]
    fn plain_text_headings_are_short_unpunctuated_lines() {
        assert!(looks_like_plain_heading(
            "A. Subprocessors that may process Customer Personal Data"
        ));
        assert!(looks_like_plain_heading("Questions"));
        assert!(!looks_like_plain_heading("SegMetrics, Inc."));
        assert!(!looks_like_plain_heading("Email: privacy@example.com"));
        assert!(!looks_like_plain_heading("- We give 30 days' notice"));
        assert!(!looks_like_plain_heading("our partners"));
    }
}
