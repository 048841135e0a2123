//! The typesetting engine end to end: the ten-page test document (tests/engine_doc)
//! through layout and PDF, checked with the tools a reader would use (qpdf, pdffonts,
//! pdftotext, pdfinfo) and on the layout's own page model.

mod engine_doc;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use dpa::document::{Block, Document, Run, Table};
use dpa::layout::{Face, Fonts, Item, Layout, Line, Margins, Page, PageSetup, Paper, Role, layout};
use dpa::pdf::{PdfError, Typesetter, write_pdf};

fn typesetter() -> &'static Typesetter {
    static TS: OnceLock<Typesetter> = OnceLock::new();
    TS.get_or_init(|| Typesetter::new(PageSetup::default()).expect("embedded fonts"))
}

fn pages() -> &'static Layout {
    static PAGES: OnceLock<Layout> = OnceLock::new();
    PAGES.get_or_init(|| {
        layout(
            &engine_doc::document(),
            typesetter().fonts(),
            &PageSetup::default(),
        )
        .expect("layout")
    })
}

/// The test document as a PDF file in a temporary folder that lives for the test run.
fn pdf_path() -> &'static Path {
    static PATH: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &PATH
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("temp dir");
            let path = dir.path().join("engine-test.pdf");
            let bytes = typesetter()
                .render(&engine_doc::document())
                .expect("render");
            std::fs::write(&path, bytes).expect("write pdf");
            (dir, path)
        })
        .1
}

use engine_doc::tool;

/// Collapses all whitespace to single spaces.
fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Asserts that each needle occurs in `hay`, in the given order.
fn assert_in_order(hay: &str, needles: &[String]) {
    let mut from = 0;
    for needle in needles {
        let needle = squash(needle);
        match hay[from..].find(&needle) {
            Some(i) => from += i + needle.len(),
            None => {
                let found_earlier = hay.contains(&needle);
                panic!("{needle:?} not found after byte {from} (present anywhere: {found_earlier})")
            }
        }
    }
}

fn lines(page: &Page) -> impl Iterator<Item = &Line> {
    page.items.iter().filter_map(|i| match i {
        Item::Line(l) => Some(l),
        _ => None,
    })
}

fn text_of(line: &Line) -> String {
    line.runs.iter().map(|r| r.text.as_str()).collect()
}

/// Renders the test document to the file named by `DPA_ENGINE_OUT`; the determinism
/// test runs this in child processes, and it is handy for looking at the output.
#[test]
fn render_to_env_path() {
    let Some(path) = std::env::var_os("DPA_ENGINE_OUT") else {
        return;
    };
    let ts = Typesetter::new(PageSetup::default()).unwrap();
    let bytes = ts.render(&engine_doc::document()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn the_test_document_is_about_ten_pages_and_the_table_spans_pages() {
    let pages = pages();
    assert!((9..=12).contains(&pages.len()), "{} pages", pages.len());
    let table_pages = pages
        .iter()
        .filter(|p| lines(p).any(|l| matches!(l.role, Role::TableCell { .. })))
        .count();
    assert!(table_pages >= 2, "the 40-row table should span pages");
}

#[test]
fn qpdf_finds_no_errors() {
    let out = tool("qpdf", &["--check"], pdf_path());
    assert!(
        out.contains("No syntax or stream encoding errors found"),
        "{out}"
    );
}

#[test]
fn every_font_is_embedded_subset_and_mapped_to_unicode() {
    let out = tool("pdffonts", &[], pdf_path());
    let rows: Vec<&str> = out
        .lines()
        .skip(2)
        .filter(|l| !l.trim().is_empty())
        .collect();
    let mut families = BTreeSet::new();
    for row in &rows {
        let cols: Vec<&str> = row.split_whitespace().collect();
        let name = cols[0];
        let (tag, family) = name
            .split_once('+')
            .unwrap_or_else(|| panic!("no subset tag: {row}"));
        assert!(
            tag.len() == 6 && tag.chars().all(|c| c.is_ascii_uppercase()),
            "subset tag {tag:?} in {row}"
        );
        // name, type (2 words), encoding, emb, sub, uni, object id (2 numbers)
        let n = cols.len();
        assert_eq!(
            &cols[n - 5..n - 2],
            ["yes", "yes", "yes"],
            "emb/sub/uni in {row}"
        );
        families.insert(family.to_owned());
    }
    let expected: BTreeSet<String> = [
        "LiberationSerif",
        "LiberationSerif-Bold",
        "LiberationSerif-Italic",
        "LiberationSerif-BoldItalic",
        "DejaVuSans",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(families, expected);
}

#[test]
fn pdftotext_returns_the_source_text_in_reading_order() {
    let mut text = squash(&tool("pdftotext", &["-enc", "UTF-8"], pdf_path()).replace('\u{c}', " "));
    // A paragraph that continues on the next page has that page's footer in between.
    let total = pages().len();
    for n in 1..=total {
        text = text.replace(&format!(" {} Page {n} of {total}", engine_doc::FOOTER), "");
    }
    let mut expected: Vec<String> =
        vec!["Data Processing Agreement".into(), engine_doc::INTRO.into()];
    for s in 0..12 {
        for p in engine_doc::section_paragraphs(s) {
            expected.push(p);
        }
    }
    expected.push("Annex 1 – Subprocessors".into());
    expected.push("Subprocessor Function Location Certifications".into());
    for row in engine_doc::table_rows() {
        expected.push(row.join(" "));
    }
    expected.extend(
        [
            "For the Processor",
            "SegMetrics, Inc.",
            "For the Controller",
            "Müller & Söhne GmbH",
            "Signed electronically — key 3F2A 19C0 7B44 E1D2 9A0C 55F1",
            "Jordan Ellis",
            "Chief Executive Officer",
            "1 June 2026",
        ]
        .map(String::from),
    );
    assert_in_order(&text, &expected);
    for needle in [
        "ü",
        "ß",
        "é",
        "ł",
        "č",
        "–",
        "“",
        "”",
        "€",
        "office",
        "fiduciary",
        "✓",
    ] {
        assert!(
            text.contains(needle),
            "{needle:?} missing from the extracted text"
        );
    }
}

#[test]
fn every_page_has_the_footer_and_its_number() {
    let pages = pages().len();
    for n in 1..=pages {
        let p = n.to_string();
        let text = tool(
            "pdftotext",
            &["-f", &p, "-l", &p, "-enc", "UTF-8"],
            pdf_path(),
        );
        assert!(
            text.contains(&format!("Page {n} of {pages}")),
            "page {n}: {text}"
        );
        assert!(
            squash(&text).contains(engine_doc::FOOTER),
            "page {n} lacks the footer"
        );
    }
}

#[test]
fn pdfinfo_shows_the_documents_metadata_and_no_pdfx_claim() {
    let info = tool("pdfinfo", &[], pdf_path());
    let field = |name: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")))
            .map(str::trim)
            .unwrap_or_else(|| panic!("no {name} in {info}"))
            .to_owned()
    };
    let doc = engine_doc::document();
    assert_eq!(field("Title"), doc.meta.title);
    assert_eq!(field("Author"), doc.meta.author);
    assert_eq!(field("Subject"), doc.meta.subject);
    assert_eq!(field("Keywords"), "DPA,GDPR,subprocessors");
    assert_eq!(field("CreationDate"), "Mon Jun  1 00:00:00 2026 UTC");
    assert_eq!(field("ModDate"), "Mon Jun  1 00:00:00 2026 UTC");
    assert_eq!(field("Pages"), pages().len().to_string());
    assert!(field("Page size").starts_with("595.276 x 841.89 pts (A4)"));
    assert!(!info.contains("PDF subtype"), "{info}");
    let bytes = std::fs::read(pdf_path()).unwrap();
    assert!(!contains(&bytes, b"GTS_PDFX"));
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn justified_lines_end_at_the_margin_in_the_pdf_too() {
    // poppler's word boxes come from the font's /W widths, independently of our layout.
    let html = tool(
        "pdftotext",
        &["-bbox-layout", "-f", "1", "-l", "3"],
        pdf_path(),
    );
    let right = pages()[0].text_box.right();
    let mut at_margin = 0;
    for l in html
        .lines()
        .filter(|l| l.trim_start().starts_with("<line "))
    {
        let x_max: f32 = l
            .split("xMax=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .and_then(|s| s.parse().ok())
            .expect("xMax");
        assert!(
            x_max <= right + 0.02,
            "a line ends at {x_max}, past {right}"
        );
        if (x_max - right).abs() <= 0.02 {
            at_margin += 1;
        }
    }
    assert!(at_margin > 80, "only {at_margin} lines end at the margin");
}

#[test]
fn same_bytes_within_one_process() {
    let doc = engine_doc::document();
    let a = typesetter().render(&doc).unwrap();
    let b = typesetter().render(&doc).unwrap();
    let c = Typesetter::new(PageSetup::default())
        .unwrap()
        .render(&doc)
        .unwrap();
    assert!(a == b && b == c, "renders differ");
    // The trailer /ID is a content hash: another title gives another file identifier.
    let mut other = doc.clone();
    other.meta.title.push_str(" (draft)");
    let d = typesetter().render(&other).unwrap();
    assert_ne!(trailer_id(&a), trailer_id(&d));
}

fn trailer_id(pdf: &[u8]) -> Vec<u8> {
    let at = pdf
        .windows(3)
        .rposition(|w| w == b"/ID")
        .expect("trailer /ID");
    pdf[at..at + 72].to_vec()
}

#[test]
fn same_bytes_across_processes() {
    let exe = std::env::current_exe().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut outputs = Vec::new();
    for i in 0..2 {
        let path = dir.path().join(format!("run{i}.pdf"));
        let status = Command::new(&exe)
            .args(["render_to_env_path", "--exact", "--test-threads=1"])
            .env("DPA_ENGINE_OUT", &path)
            .output()
            .unwrap();
        assert!(status.status.success(), "{status:?}");
        outputs.push(std::fs::read(&path).expect("child wrote the PDF"));
    }
    let here = typesetter().render(&engine_doc::document()).unwrap();
    assert_eq!(outputs[0], outputs[1]);
    assert_eq!(outputs[0], here);
}

#[test]
fn justified_lines_end_at_the_right_margin() {
    let mut checked = 0;
    for page in pages() {
        for line in lines(page).filter(|l| l.role == Role::Body) {
            let last = line.index + 1 == line.of;
            let end = line.runs.last().map(|r| r.x + r.width).unwrap_or(line.x);
            let limit = line.x + line.measure;
            if !last {
                assert!(
                    line.justified,
                    "p{} {:?} is not justified",
                    page.number,
                    text_of(line)
                );
                assert!(
                    (end - limit).abs() <= 0.01,
                    "p{} line ends at {end}, margin at {limit}: {:?}",
                    page.number,
                    text_of(line)
                );
                checked += 1;
            } else {
                assert!(!line.justified);
                assert!(end <= limit + 0.01);
            }
        }
    }
    assert!(checked > 250, "only {checked} justified lines");
}

#[test]
fn no_page_ends_with_a_heading_and_headings_keep_two_lines() {
    assert_headings_keep_with_text(pages());
}

/// Asserts that no paragraph has a single line on a page; returns how many were split.
fn assert_no_widows_or_orphans(pages: &[Page]) -> usize {
    let mut per_page: BTreeMap<u32, BTreeMap<usize, u32>> = BTreeMap::new();
    let mut total: BTreeMap<u32, u32> = BTreeMap::new();
    for page in pages {
        for l in lines(page).filter(|l| l.role == Role::Body) {
            *per_page
                .entry(l.para)
                .or_default()
                .entry(page.number)
                .or_default() += 1;
            total.insert(l.para, l.of);
        }
    }
    let mut split = 0;
    for (para, pages) in &per_page {
        assert_eq!(
            pages.values().sum::<u32>(),
            total[para],
            "paragraph {para} lost lines"
        );
        if pages.len() > 1 {
            split += 1;
            for (page, count) in pages {
                assert!(
                    *count >= 2,
                    "paragraph {para} has {count} line(s) on page {page}"
                );
            }
        }
    }
    split
}

/// Asserts that no page ends with a heading and every heading has two lines below it.
fn assert_headings_keep_with_text(pages: &[Page]) {
    for page in pages {
        let body: Vec<&Line> = lines(page).filter(|l| l.role != Role::Footer).collect();
        let lowest = body
            .iter()
            .max_by(|a, b| a.baseline.total_cmp(&b.baseline))
            .expect("a page with text");
        assert!(
            !matches!(lowest.role, Role::Heading(_)),
            "page {} ends with the heading {:?}",
            page.number,
            text_of(lowest)
        );
        for h in body.iter().filter(|l| matches!(l.role, Role::Heading(_))) {
            if h.index + 1 != h.of {
                continue;
            }
            let below: BTreeSet<i64> = body
                .iter()
                .filter(|l| !matches!(l.role, Role::Heading(_)) && l.baseline > h.baseline)
                .map(|l| (l.baseline * 100.0) as i64)
                .collect();
            assert!(
                below.len() >= 2,
                "heading {:?} on page {} has {} lines after it",
                text_of(h),
                page.number,
                below.len()
            );
        }
    }
}

#[test]
fn no_paragraph_leaves_a_single_line_on_a_page() {
    let split = assert_no_widows_or_orphans(pages());
    assert!(
        split >= 3,
        "the test should see paragraphs broken across pages ({split})"
    );
}

#[test]
fn widows_orphans_and_lonely_headings_are_avoided_wherever_the_page_breaks() {
    // Shift a heading and paragraphs of 2 to 6 lines past the page end one filler
    // line at a time, so every break position inside them comes up.
    let sentences = engine_doc::section_paragraphs(3).join(" ");
    let words: Vec<&str> = sentences.split(' ').collect();
    let mut splits = 0;
    for fillers in 20..70 {
        // One paragraph of `fillers` short lines (hard breaks), so each step moves what
        // follows down by exactly one line.
        let filler: Vec<String> = (0..fillers).map(|k| format!("Filler line {k}.")).collect();
        let mut blocks = vec![Block::Paragraph(vec![Run::plain(filler.join("\n"))])];
        blocks.push(Block::Heading {
            level: 2,
            runs: vec![Run::plain("A heading that must not end a page")],
        });
        for n in [2usize, 6, 3, 5, 4] {
            // About fifteen words make a line of this width.
            blocks.push(Block::Paragraph(vec![Run::plain(
                words[..n * 15 - 5].join(" "),
            )]));
        }
        let doc = Document {
            blocks,
            ..engine_doc::document()
        };
        let pages = layout(&doc, typesetter().fonts(), &PageSetup::default()).unwrap();
        splits += assert_no_widows_or_orphans(&pages);
        assert_headings_keep_with_text(&pages);
        assert_inside(&pages, typesetter().fonts());
    }
    assert!(
        splits >= 30,
        "only {splits} paragraphs were split across pages"
    );
}

#[test]
fn the_table_header_is_on_every_page_the_table_touches() {
    for page in pages() {
        let cells: Vec<&Line> = lines(page)
            .filter(|l| matches!(l.role, Role::TableCell { .. }))
            .collect();
        let Some(first) = cells
            .iter()
            .min_by(|a, b| a.baseline.total_cmp(&b.baseline))
        else {
            continue;
        };
        let Role::TableCell { table } = first.role else {
            unreachable!()
        };
        let header: Vec<&Line> = lines(page)
            .filter(|l| l.role == Role::TableHeader { table })
            .collect();
        let header_text: Vec<String> = header.iter().map(|l| text_of(l)).collect();
        assert_eq!(
            header_text,
            ["Subprocessor", "Function", "Location", "Certifications"],
            "page {}",
            page.number
        );
        assert!(header.iter().all(|h| h.baseline < first.baseline));
    }
}

/// Asserts that everything on the pages lies inside the text box (body) or the footer box.
fn assert_inside(pages: &[Page], fonts: &Fonts) {
    let eps = 0.01;
    for page in pages {
        let tb = page.text_box;
        for item in &page.items {
            match item {
                Item::Line(l) => {
                    let b = if l.role == Role::Footer {
                        page.footer_box
                    } else {
                        tb
                    };
                    let m = fonts.metrics(Face::Regular);
                    let top = l.baseline - m.ascender * l.size / 1000.0;
                    let bottom = l.baseline - m.descender * l.size / 1000.0;
                    let right = l.runs.last().map(|r| r.x + r.width).unwrap_or(l.x);
                    let ok = l.x >= b.x - eps
                        && right <= b.right() + eps
                        && top >= b.y - eps
                        && bottom <= b.bottom() + eps;
                    assert!(
                        ok,
                        "page {}: {:?} ({l:?}) is outside {b:?}",
                        page.number,
                        text_of(l)
                    );
                }
                Item::Rule(r) => {
                    let b = if r.y1 > tb.bottom() + eps {
                        page.footer_box
                    } else {
                        tb
                    };
                    for (x, y) in [(r.x1, r.y1), (r.x2, r.y2)] {
                        assert!(
                            x >= b.x - eps
                                && x <= b.right() + eps
                                && y >= b.y - eps
                                && y <= b.bottom() + eps,
                            "page {}: rule {r:?} outside {b:?}",
                            page.number
                        );
                    }
                }
                Item::Fill(f) => {
                    let r = f.rect;
                    assert!(
                        r.x >= tb.x - eps
                            && r.right() <= tb.right() + eps
                            && r.y >= tb.y - eps
                            && r.bottom() <= tb.bottom() + eps,
                        "page {}: fill {r:?} outside the text box",
                        page.number
                    );
                }
            }
        }
    }
}

#[test]
fn nothing_is_placed_outside_the_text_box() {
    assert_inside(pages(), typesetter().fonts());
}

#[test]
fn letter_paper_and_other_margins_are_respected() {
    let setup = PageSetup {
        paper: Paper::Letter,
        margins: Margins {
            top: 54.0,
            right: 90.0,
            bottom: 80.0,
            left: 60.0,
        },
        base_size: 10.0,
        hyphenate: false,
    };
    let pages = layout(&engine_doc::document(), typesetter().fonts(), &setup).unwrap();
    assert!(pages.iter().all(|p| (p.width, p.height) == (612.0, 792.0)));
    assert_eq!(pages[0].text_box.x, 60.0);
    assert_eq!(pages[0].text_box.right(), 612.0 - 90.0);
    assert_inside(&pages, typesetter().fonts());
    let bytes = write_pdf(
        &engine_doc::document(),
        &pages,
        typesetter().fonts(),
        &setup,
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("letter.pdf");
    std::fs::write(&path, bytes).unwrap();
    assert!(tool("pdfinfo", &[], &path).contains("612 x 792 pts (letter)"));
}

#[test]
fn a_row_taller_than_a_page_is_split_and_kept_on_the_pages() {
    let words: Vec<String> = (0..1500).map(|i| format!("clause{i}")).collect();
    let doc = Document {
        blocks: vec![Block::Table(Table {
            header: vec![vec![Run::plain("Item")], vec![Run::plain("Terms")]],
            rows: vec![
                vec![vec![Run::plain("Short")], vec![Run::plain("One line.")]],
                vec![vec![Run::plain("Long")], vec![Run::plain(words.join(" "))]],
            ],
            width_hints: vec![Some(1.0), Some(3.0)],
        })],
        ..engine_doc::document()
    };
    let pages = layout(&doc, typesetter().fonts(), &PageSetup::default()).unwrap();
    assert!(pages.len() >= 3, "{} pages", pages.len());
    assert_inside(&pages, typesetter().fonts());
    let mut seen = Vec::new();
    for page in &pages {
        assert!(
            lines(page).any(|l| matches!(l.role, Role::TableHeader { .. })),
            "page {} lacks the header",
            page.number
        );
        for l in lines(page).filter(|l| matches!(l.role, Role::TableCell { .. })) {
            seen.extend(text_of(l).split(' ').map(str::to_owned));
        }
    }
    let terms: Vec<String> = seen
        .into_iter()
        .filter(|w| w.starts_with("clause"))
        .collect();
    assert_eq!(terms, words, "every word of the long cell, once, in order");
}

#[test]
fn a_missing_glyph_is_an_error_that_names_the_character() {
    let mut doc = engine_doc::document();
    doc.blocks.push(Block::Paragraph(vec![Run::plain(
        "Signed for 北京 Holdings by its director.",
    )]));
    let err = typesetter().render(&doc).unwrap_err();
    assert!(matches!(err, PdfError::Layout(_)));
    assert_eq!(
        err.to_string(),
        "no font has the character U+5317 '北' (in \"Signed for 北京 Holdings by its director.\")"
    );
    let fonts = typesetter().fonts();
    assert_eq!(
        fonts.first_missing("Θεσσαλονίκη, Łódź", dpa::document::Style::Bold),
        None
    );
    assert_eq!(
        fonts.first_missing("Müller 北京", dpa::document::Style::Regular),
        Some('北')
    );
}

#[test]
fn typesetter_can_be_shared_between_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<Typesetter>();
    shared::<Fonts>();
}

#[test]
fn an_empty_document_still_makes_a_valid_one_page_pdf() {
    let doc = Document {
        blocks: vec![Block::PageBreak, Block::PageBreak],
        footer: String::new(),
        attachments: Vec::new(),
        ..engine_doc::document()
    };
    let bytes = typesetter().render(&doc).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.pdf");
    std::fs::write(&path, bytes).unwrap();
    assert!(tool("qpdf", &["--check"], &path).contains("No syntax or stream encoding errors"));
    assert!(tool("pdfinfo", &[], &path).contains("Pages:           1"));
}

#[test]
fn a_face_with_more_than_256_glyphs_uses_two_byte_codes_and_still_justifies() {
    // Latin Extended, Greek and Cyrillic: over 256 distinct glyphs in the regular face.
    let letters: Vec<char> = (0xC0u32..0x17F)
        .chain(0x391..0x3CA)
        .chain(0x410..0x450)
        .filter_map(char::from_u32)
        .filter(|c| c.is_alphabetic() && typesetter().fonts().glyph_id(Face::Regular, *c).is_some())
        .collect();
    assert!(letters.len() > 300);
    let words: Vec<String> = letters.chunks(7).map(|w| w.iter().collect()).collect();
    let text = words.join(" ");
    let doc = Document {
        blocks: vec![Block::Paragraph(vec![Run::plain(text.clone())])],
        ..engine_doc::document()
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many-glyphs.pdf");
    std::fs::write(&path, typesetter().render(&doc).unwrap()).unwrap();
    let fonts = tool("pdffonts", &[], &path);
    let regular = fonts
        .lines()
        .find(|l| l.contains("+LiberationSerif "))
        .expect("regular face");
    assert!(regular.contains("Identity-H"), "{regular}");
    let extracted = squash(&tool("pdftotext", &["-enc", "UTF-8"], &path));
    assert!(extracted.contains(&text), "{extracted}");
    let html = tool("pdftotext", &["-bbox-layout"], &path);
    let right = PageSetup::default().paper.size().0 - PageSetup::default().margins.right;
    let ends: Vec<f32> = html
        .lines()
        .filter(|l| l.trim_start().starts_with("<line "))
        .filter_map(|l| l.split("xMax=\"").nth(1)?.split('"').next()?.parse().ok())
        .collect();
    let at_margin = ends.iter().filter(|x| (*x - right).abs() <= 0.02).count();
    assert!(at_margin >= 3, "{ends:?}");
}

#[test]
fn a_watermark_is_on_every_page_as_an_artifact_outside_the_text() {
    let doc = Document {
        watermark: Some("SPECIMEN – not binding".into()),
        ..engine_doc::document()
    };
    let bytes = typesetter().render(&doc).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("specimen.pdf");
    std::fs::write(&path, &bytes).unwrap();
    let pages = pages().len();
    // Drawn on every page, as a watermark artifact (qpdf shows the page contents).
    let qdf = dir.path().join("specimen.qdf.pdf");
    let status = Command::new("qpdf")
        .args(["--qdf", "--object-streams=disable"])
        .arg(&path)
        .arg(&qdf)
        .status()
        .unwrap();
    assert!(status.success());
    let raw = String::from_utf8_lossy(&std::fs::read(&qdf).unwrap()).into_owned();
    assert_eq!(
        raw.matches("/Artifact<</Type/Pagination/Subtype/Watermark>>BDC")
            .count(),
        pages,
        "one mark per page"
    );
    // pdftotext drops diagonal text: the body's reading has no trace of the mark.
    assert!(!tool("pdftotext", &["-enc", "UTF-8"], &path).contains("SPECIMEN"));
    // The tag tree does not contain it: screen readers skip it.
    let tree = tool("pdfinfo", &["-struct-text"], &path);
    assert!(
        !tree.contains("SPECIMEN"),
        "the watermark is not in the tag tree"
    );
    // pdftotext's reading of the body keeps every paragraph whole: the mark comes
    // after the page's text, not inside a sentence.
    let text = squash(&tool("pdftotext", &["-enc", "UTF-8"], &path));
    for p in engine_doc::section_paragraphs(0) {
        assert!(text.contains(&squash(&p)), "{p}");
    }
    assert!(tool("qpdf", &["--check"], &path).contains("No syntax or stream encoding errors"));
    // Without a watermark nothing of it is drawn.
    let plain = tool("pdftotext", &["-enc", "UTF-8"], pdf_path());
    assert!(!plain.contains("SPECIMEN"));
}

#[test]
fn a_document_past_the_page_limit_is_refused_with_a_message() {
    let paragraph = engine_doc::section_paragraphs(1).join(" ");
    let doc = Document {
        blocks: vec![Block::Paragraph(vec![Run::plain(paragraph)]); 12_000],
        ..engine_doc::document()
    };
    let err = layout(&doc, typesetter().fonts(), &PageSetup::default()).unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("more than {} pages", dpa::layout::MAX_PAGES)),
        "{err}"
    );
    assert!(err.hint().is_some_and(|h| h.contains("{{#each}}")));
}
