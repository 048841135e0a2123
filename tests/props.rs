//! Property tests on hostile text and hostile formatting.
//!
//! - Any printable text in a customer field is refused by a documented input rule,
//!   refused with the missing-glyph error naming the field and the character, or
//!   renders, and is then found again in the laid-out text.
//! - Laid-out lines stay inside the page's text box (footers inside the footer box).
//! - The annex fingerprint does not depend on how the TOML is written: key order,
//!   quoting style, inline or standard tables, explicit defaults, comments, CRLF.
//!
//! Case counts are small: these run in CI on two shared cores.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use chrono::NaiveDate;
use proptest::prelude::*;

use dpa::compose::Kind;
use dpa::document::{Block, Document, List, ListItem, Metadata, Run, Style, Table};
use dpa::issue::{IssueError, Issuer};
use dpa::layout::{Item, Page, PageSetup, Role};
use dpa::model::{Activation, Annex, Customer, Entry, Section};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(path: &str) -> PathBuf {
    root().join("fixtures").join(path)
}

/// One issuer for the whole file: fonts, template and key load once.
fn setup() -> &'static Issuer {
    static SETUP: OnceLock<Issuer> = OnceLock::new();
    SETUP.get_or_init(|| {
        let vendor = dpa::load::vendor(fixture("segmetrics/vendor.toml")).unwrap();
        let annex = dpa::load::annex(fixture("segmetrics/annex.toml")).unwrap();
        let template =
            dpa::template::TemplateFile::read(&root().join("templates/dpa.md.hbs")).unwrap();
        let key = dpa::sign::SecretKey::load(&fixture("keys/demo-only.key")).unwrap();
        Issuer::new(
            dpa::compose::Composer::new(vendor, annex, template, None).unwrap(),
            dpa::issue::KeySet::from_ed25519(key),
            dpa::pdf::Typesetter::new(PageSetup::default()).unwrap(),
            dpa::issue::Options::default(),
        )
    })
}

fn base_customer() -> Customer {
    dpa::load::customer(fixture("customers/mueller-soehne.toml")).unwrap()
}

/// Text without whitespace or hyphens: line breaks and hyphenation do not count.
fn squeeze(text: &str) -> String {
    // The engine sets quotes and apostrophes typographically: compare them as the same.
    text.chars()
        .filter(|c| !c.is_whitespace() && *c != '-' && *c != '\u{ad}')
        .map(|c| match c {
            '‘' | '’' => '\'',
            '“' | '”' => '"',
            c => c,
        })
        .collect()
}

fn laid_text(pages: &[Page]) -> String {
    let mut out = String::new();
    for page in pages {
        for item in &page.items {
            if let Item::Line(line) = item {
                for run in &line.runs {
                    out.push_str(&run.text);
                }
                out.push('\n');
            }
        }
    }
    out
}

/// The first line outside its box, if any; `skip` leaves out lines a known bug affects.
fn outside(pages: &[Page], skip: impl Fn(&dpa::layout::Line) -> bool) -> Option<String> {
    const SLACK: f32 = 0.01;
    for page in pages {
        for item in &page.items {
            let Item::Line(line) = item else { continue };
            if skip(line) {
                continue;
            }
            let b = if line.role == Role::Footer {
                page.footer_box
            } else {
                page.text_box
            };
            let left = line.runs.iter().map(|r| r.x).fold(line.x, f32::min);
            let right = line
                .runs
                .iter()
                .map(|r| r.x + r.width)
                .fold(line.x + line.width, f32::max);
            let inside = left >= b.x - SLACK
                && right <= b.right() + SLACK
                && line.baseline >= b.y - SLACK
                && line.baseline <= b.bottom() + SLACK;
            if !inside {
                let text: String = line.runs.iter().map(|r| r.text.as_str()).collect();
                return Some(format!(
                    "page {}: {text:?} at x {left}..{right}, baseline {}; box x {}..{}, y {}..{}",
                    page.number,
                    line.baseline,
                    b.x,
                    b.right(),
                    b.y,
                    b.bottom()
                ));
            }
        }
    }
    None
}

/// The last line of a paragraph set ragged: the engine bug shown by
/// `tests/hostile.rs::every_line_of_an_ordinary_dpa_is_inside_the_text_box` lets it run
/// past the right margin, so the properties that run in CI leave it out.
fn known_overflow(line: &dpa::layout::Line) -> bool {
    !line.justified && line.index + 1 == line.of
}

const FIELDS: [&str; 4] = [
    "customer.legal_name",
    "customer.address",
    "customer.signatory.name",
    "customer.signatory.title",
];

fn set_field(customer: &mut Customer, field: &str, value: &str) {
    match field {
        "customer.legal_name" => customer.legal_name = value.to_string(),
        "customer.address" => customer.address = value.to_string(),
        "customer.signatory.name" => customer.signatory.name = value.to_string(),
        "customer.signatory.title" => customer.signatory.title = value.to_string(),
        _ => unreachable!(),
    }
}

/// Writes the customer as TOML, so it goes through the loader's validation.
fn customer_toml(c: &Customer) -> String {
    let q = |s: &str| toml::Value::String(s.to_string()).to_string();
    format!(
        "id = {}\nlegal_name = {}\naddress = {}\ncountry = {}\nemail = {}\neffective = {}\n\n\
         [signatory]\nname = {}\ntitle = {}\n",
        q(&c.id),
        q(&c.legal_name),
        q(&c.address),
        q(&c.country),
        q(&c.email),
        c.effective,
        q(&c.signatory.name),
        q(&c.signatory.title)
    )
}

/// Printable text: any character outside Unicode's "other" categories (controls,
/// format characters, surrogates, private use, unassigned), mixed with plain words so
/// that most cases render.
fn printable_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        3 => "[A-Za-z]{1,12}",
        2 => "\\PC{1,6}",
        1 => "[\u{00C0}-\u{024F}\u{0370}-\u{03FF}\u{0400}-\u{04FF}]{1,8}",
        1 => Just(" ".to_string()),
    ];
    proptest::collection::vec(piece, 1..12).prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn printable_text_in_customer_fields_renders_or_fails_clearly(
        value in printable_text(),
        field in 0..FIELDS.len(),
    ) {
        let field = FIELDS[field];
        let mut customer = base_customer();
        set_field(&mut customer, field, &value);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("customer.toml");
        std::fs::write(&path, customer_toml(&customer)).unwrap();
        // The loader normalises text to NFC (U+0387 becomes U+00B7); compare with that.
        let value: String = unicode_normalization::UnicodeNormalization::nfc(value.as_str()).collect();
        let customer = match dpa::load::customer(&path) {
            Ok(c) => c,
            Err(e) => {
                // Only the documented rules may refuse printable text.
                let message = e.to_string();
                let short = field.trim_start_matches("customer.");
                prop_assert!(message.contains(&format!("`{short}`")), "{message}");
                prop_assert!(
                    message.contains("must not be empty")
                        || message.contains("right-to-left script")
                        || message.contains("invisible character")
                        || message.contains("must be on one line"),
                    "refused for an undocumented reason: {message}"
                );
                return Ok(());
            }
        };
        let setup = setup();
        let fonts = setup.typesetter().fonts();
        let missing = [Style::Regular, Style::Bold]
            .into_iter()
            .find_map(|style| fonts.first_missing(&value, style));
        let issued = customer.effective;
        match setup.make(Kind::Dpa, &customer, issued) {
            Err(IssueError::MissingGlyph { field: f, ch, .. }) => {
                let expected = missing.expect("a missing glyph was reported, but every font has the text");
                prop_assert_eq!(f, field);
                prop_assert!(ch.starts_with(&format!("U+{:04X}", expected as u32)), "{ch}");
            }
            Err(other) => prop_assert!(false, "unexpected error: {other}"),
            Ok(product) => {
                prop_assert!(missing.is_none(), "rendered text with a missing glyph");
                prop_assert!(product.pdf.starts_with(b"%PDF-"));
                let signing = dpa::template::SigningInfo {
                    key_id: setup.keys().key_id().to_string(),
                    issued,
                    verify_hint: "v".into(),
                };
                let doc = setup.composer().document(Kind::Dpa, &customer, &signing).unwrap();
                let pages = dpa::layout::layout(&doc, fonts, setup.typesetter().setup()).unwrap();
                let text = squeeze(&laid_text(&pages));
                prop_assert!(
                    text.contains(&squeeze(&value)),
                    "{value:?} is not in the laid-out text"
                );
                if let Some(line) = outside(&pages, known_overflow) {
                    prop_assert!(false, "{line}");
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Layout: nothing outside the text box

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "[a-zA-Z]{1,10}",
        1 => "[a-zA-Zäöüß]{10,60}",
        1 => "[0-9]{1,5}[.,;:)]?",
        1 => "\\([a-z]{1,8}\\)",
        1 => "https://[a-z]{3,30}\\.example/[a-z/]{0,40}",
    ]
}

fn sentence() -> impl Strategy<Value = String> {
    proptest::collection::vec(word(), 1..40).prop_map(|w| w.join(" "))
}

fn runs() -> impl Strategy<Value = Vec<Run>> {
    let style = prop_oneof![
        Just(Style::Regular),
        Just(Style::Bold),
        Just(Style::Italic),
        Just(Style::BoldItalic),
    ];
    proptest::collection::vec((sentence(), style), 1..4).prop_map(|parts| {
        parts
            .into_iter()
            .map(|(text, style)| Run::styled(format!("{text} "), style))
            .collect()
    })
}

fn block() -> impl Strategy<Value = Block> {
    prop_oneof![
        4 => runs().prop_map(Block::Paragraph),
        1 => (1u8..=3, runs()).prop_map(|(level, runs)| Block::Heading { level, runs }),
        1 => (any::<bool>(), proptest::collection::vec(runs(), 1..5)).prop_map(|(ordered, items)| {
            Block::List(List {
                start: ordered.then_some(1),
                items: items
                    .into_iter()
                    .map(|runs| ListItem { blocks: vec![Block::Paragraph(runs)] })
                    .collect(),
            })
        }),
        1 => (2..5usize).prop_flat_map(|cols| {
            (
                proptest::collection::vec(sentence(), cols),
                proptest::collection::vec(proptest::collection::vec(sentence(), cols), 1..8),
            )
        }).prop_map(|(header, rows)| {
            let cell = |t: String| vec![Run::plain(t)];
            let width_hints = vec![None; header.len()];
            Block::Table(Table {
                header: header.into_iter().map(cell).collect(),
                rows: rows.into_iter().map(|r| r.into_iter().map(cell).collect()).collect(),
                width_hints,
            })
        }),
    ]
}

fn document(blocks: Vec<Block>) -> Document {
    Document {
        meta: Metadata {
            title: "t".into(),
            author: "a".into(),
            subject: "s".into(),
            keywords: vec![],
            date: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        },
        blocks,
        footer: "footer".into(),
        attachments: Vec::new(),
        lang: None,
        watermark: None,
        own_text: Vec::new(),
    }
}

fn fonts() -> &'static dpa::layout::Fonts {
    setup().typesetter().fonts()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// Every line, except the ragged last lines the known bug affects, is in its box.
    #[test]
    fn laid_out_lines_stay_inside_the_text_box(blocks in proptest::collection::vec(block(), 1..12)) {
        let doc = document(blocks);
        let pages = dpa::layout::layout(&doc, fonts(), &PageSetup::default()).unwrap();
        if let Some(line) = outside(&pages, known_overflow) {
            prop_assert!(false, "{line}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// The full property, last lines included.
    #[test]
    fn every_laid_out_line_stays_inside_the_text_box(blocks in proptest::collection::vec(block(), 1..12)) {
        let doc = document(blocks);
        let pages = dpa::layout::layout(&doc, fonts(), &PageSetup::default()).unwrap();
        if let Some(line) = outside(&pages, |_| false) {
            prop_assert!(false, "{line}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// The annex fingerprint under TOML reformatting

fn text_value() -> impl Strategy<Value = String> {
    // Quotes, backslashes, apostrophes and non-ASCII are what quoting styles disagree on.
    "[A-Za-z0-9 ,.&'\"\\\\()äöüßÅŁ€–]{1,30}".prop_filter("not blank", |s| !s.trim().is_empty())
}

fn entry(index: usize) -> impl Strategy<Value = Entry> {
    (
        text_value(),
        text_value(),
        text_value(),
        proptest::collection::vec(text_value(), 0..3),
        proptest::option::of("[a-z]{3,10}"),
        proptest::option::of(text_value()),
        0..3u8,
    )
        .prop_map(
            move |(name, function, location, certifications, site, access, act)| {
                let activation =
                    [Activation::Always, Activation::OptIn, Activation::OptOut][act as usize];
                Entry {
                    // Names are unique within a section by rule; the index makes them so.
                    name: format!("{name} {index}"),
                    function,
                    location,
                    certifications,
                    website: site.map(|s| format!("https://{s}.example")),
                    legal_address: None,
                    has_access: access,
                    no_access: None,
                    activation,
                    feature: (activation != Activation::Always).then(|| "ai".to_string()),
                    ..Entry::default()
                }
            },
        )
}

fn section() -> impl Strategy<Value = Section> {
    (
        text_value(),
        proptest::option::of(proptest::collection::vec(text_value(), 1..3)),
        any::<bool>(),
        1..4usize,
    )
        .prop_flat_map(|(title, description, subprocessors, n)| {
            let entries: Vec<_> = (1..=n).map(entry).collect();
            (Just(title), Just(description), Just(subprocessors), entries)
        })
        .prop_map(|(title, description, subprocessors, entries)| Section {
            title,
            // Multi-line descriptions, as vendors paste them.
            description: description.map(|lines| lines.join("\n")),
            subprocessors,
            entries,
        })
}

fn annex() -> impl Strategy<Value = Annex> {
    (
        text_value(),
        "[A-Za-z0-9][A-Za-z0-9._-]{0,12}",
        proptest::collection::vec(section(), 1..3),
    )
        .prop_filter("a version has no `..`", |(_, v, _)| !v.contains(".."))
        .prop_map(|(vendor, version, sections)| Annex {
            vendor,
            version,
            effective: NaiveDate::from_ymd_opt(2026, 5, 26).unwrap(),
            sections,
        })
}

/// How one TOML file is written; every choice keeps the values the same.
#[derive(Debug, Clone)]
struct Format {
    /// Rotates the order of each table's keys.
    rotate: usize,
    /// 0: basic strings, 1: literal strings where possible, 2: multi-line strings.
    quoting: u8,
    /// Entries as an inline array of tables instead of `[[section.entry]]`.
    inline_entries: bool,
    /// Writes defaults (`subprocessors = true`, `activation = "always"`, empty lists).
    explicit_defaults: bool,
    crlf: bool,
    comments: bool,
}

fn format() -> impl Strategy<Value = Format> {
    (
        0..7usize,
        0..3u8,
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(rotate, quoting, inline_entries, explicit_defaults, crlf, comments)| Format {
                rotate,
                quoting,
                inline_entries,
                explicit_defaults,
                crlf,
                comments,
            },
        )
}

fn quote(s: &str, quoting: u8) -> String {
    let basic = || toml::Value::String(s.to_string()).to_string();
    match quoting {
        1 if !s.contains('\'') && !s.contains('\n') => format!("'{s}'"),
        2 if !s.contains("\"\"\"") && !s.ends_with('"') && !s.contains('\\') => {
            // A newline right after the opening quotes is trimmed by TOML.
            format!("\"\"\"\n{s}\"\"\"")
        }
        2 if !s.contains("'''") && !s.ends_with('\'') && !s.starts_with('\n') => {
            format!("'''{s}'''")
        }
        _ => basic(),
    }
}

fn rotated<T>(mut items: Vec<T>, by: usize) -> Vec<T> {
    if !items.is_empty() {
        let n = by % items.len();
        items.rotate_left(n);
    }
    items
}

fn entry_pairs(e: &Entry, st: &Format) -> Vec<(String, String)> {
    let q = |s: &str| quote(s, st.quoting);
    let mut pairs = vec![
        ("name".to_string(), q(&e.name)),
        ("function".to_string(), q(&e.function)),
        ("location".to_string(), q(&e.location)),
    ];
    if !e.certifications.is_empty() || st.explicit_defaults {
        let list: Vec<String> = e.certifications.iter().map(|c| q(c)).collect();
        pairs.push(("certifications".into(), format!("[{}]", list.join(", "))));
    }
    if let Some(w) = &e.website {
        pairs.push(("website".into(), q(w)));
    }
    if let Some(a) = &e.has_access {
        pairs.push(("has_access".into(), q(a)));
    }
    if e.activation != Activation::Always || st.explicit_defaults {
        pairs.push(("activation".into(), q(e.activation.as_str())));
    }
    if let Some(f) = &e.feature {
        pairs.push(("feature".into(), q(f)));
    }
    rotated(pairs, st.rotate)
}

fn write_annex(a: &Annex, st: &Format) -> String {
    let q = |s: &str| quote(s, st.quoting);
    let mut out = String::new();
    if st.comments {
        out.push_str("# Reformatted by a property test.\n\n");
    }
    let top = vec![
        ("vendor".to_string(), q(&a.vendor)),
        ("version".to_string(), q(&a.version)),
        ("effective".to_string(), a.effective.to_string()),
    ];
    for (k, v) in rotated(top, st.rotate) {
        writeln!(out, "{k} = {v}").unwrap();
    }
    for s in &a.sections {
        out.push_str("\n[[section]]\n");
        let mut pairs = vec![("title".to_string(), q(&s.title))];
        if let Some(d) = &s.description {
            // Multi-line values go in basic strings with escapes, or multi-line strings.
            pairs.push(("description".into(), q(d)));
        }
        if !s.subprocessors || st.explicit_defaults {
            pairs.push(("subprocessors".into(), s.subprocessors.to_string()));
        }
        if st.inline_entries {
            let entries: Vec<String> = s
                .entries
                .iter()
                .map(|e| {
                    let fields: Vec<String> = entry_pairs(e, st)
                        .into_iter()
                        .map(|(k, v)| format!("{k} = {}", toml_inline(&v, e, &k)))
                        .collect();
                    format!("  {{ {} }}", fields.join(", "))
                })
                .collect();
            pairs.push(("entry".into(), format!("[\n{},\n]", entries.join(",\n"))));
        }
        for (k, v) in rotated(pairs, st.rotate) {
            if st.comments {
                writeln!(out, "{k} = {v} # {k}").unwrap();
            } else {
                writeln!(out, "{k} = {v}").unwrap();
            }
        }
        if !st.inline_entries {
            for e in &s.entries {
                out.push_str("\n[[section.entry]]\n");
                for (k, v) in entry_pairs(e, st) {
                    writeln!(out, "{k} = {v}").unwrap();
                }
            }
        }
    }
    if st.crlf {
        out = out.replace('\n', "\r\n");
    }
    out
}

/// Inline tables must fit on one line: multi-line strings become basic strings there.
fn toml_inline(v: &str, e: &Entry, key: &str) -> String {
    if !v.contains('\n') {
        return v.to_string();
    }
    let value = match key {
        "name" => &e.name,
        "function" => &e.function,
        "location" => &e.location,
        "has_access" => e.has_access.as_deref().unwrap_or_default(),
        "website" => e.website.as_deref().unwrap_or_default(),
        _ => return v.to_string(),
    };
    toml::Value::String(value.to_string()).to_string()
}

fn load_annex_text(text: &str) -> Annex {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("annex.toml");
    std::fs::write(&path, text).unwrap();
    match dpa::load::annex(&path) {
        Ok(a) => a,
        Err(e) => panic!("{e}\n---\n{text}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn annex_fingerprint_survives_toml_reformatting(annex in annex(), a in format(), b in format()) {
        let one = load_annex_text(&write_annex(&annex, &a));
        let two = load_annex_text(&write_annex(&annex, &b));
        prop_assert_eq!(&one, &annex, "the loader read other values than were written");
        prop_assert_eq!(dpa::annex::fingerprint(&one), dpa::annex::fingerprint(&two));
        prop_assert_eq!(dpa::annex::fingerprint(&one), dpa::annex::fingerprint(&annex));
    }
}
