//! Fuzzes Markdown -> blocks -> layout. Whatever lays out must keep every line inside
//! the page's text box (footers inside the footer box).
#![no_main]

use std::sync::OnceLock;

use dpa::document::{Document, Metadata};
use dpa::layout::{Fonts, Item, PageSetup, Role};
use libfuzzer_sys::fuzz_target;

fn fonts() -> &'static Fonts {
    static FONTS: OnceLock<Fonts> = OnceLock::new();
    FONTS.get_or_init(|| Fonts::embedded().expect("embedded fonts"))
}

const SLACK: f32 = 0.01;

/// With `DPA_FUZZ_NO_MARGIN_CHECK=1` the box checks are off, so a long run looks for
/// panics past the engine bugs already known (TESTING.md).
fn margin_check() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("DPA_FUZZ_NO_MARGIN_CHECK").is_none())
}

fuzz_target!(|data: &[u8]| {
    // Keep inputs small enough that one layout stays well under the time limit.
    if data.len() > 4096 {
        return;
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(blocks) = dpa::markup::parse(text, None) else {
        return;
    };
    let doc = Document {
        meta: Metadata {
            title: "fuzz".into(),
            author: "fuzz".into(),
            subject: "fuzz".into(),
            keywords: vec![],
            date: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
        },
        blocks,
        footer: "footer".into(),
    attachments: Vec::new(),
    lang: None,
    watermark: None,
    own_text: Vec::new(),
    };
    let Ok(pages) = dpa::layout::layout(&doc, fonts(), &PageSetup::default()) else {
        return;
    };
    for page in &pages {
        for item in &page.items {
            if let Item::Line(line) = item {
                let b = if line.role == Role::Footer {
                    page.footer_box
                } else {
                    page.text_box
                };
                // Known engine bug (tests/hostile.rs, ignored test): the last line of a
                // paragraph can run past the right margin. Skip that one check so the
                // fuzzer looks for other faults; drop this when the engine is fixed.
                let known_overflow = !line.justified && line.index + 1 == line.of;
                // Second known engine bug: a table column narrower than two ems cannot
                // hold some unbreakable clusters (`e;m`); skipped for the same reason.
                let known_overflow = known_overflow
                    || !margin_check()
                    || (matches!(line.role, Role::TableCell { .. } | Role::TableHeader { .. })
                        && line.measure < 2.0 * line.size);
                let left = line.runs.iter().map(|r| r.x).fold(line.x, f32::min);
                let right = line
                    .runs
                    .iter()
                    .map(|r| r.x + r.width)
                    .fold(line.x + line.width, f32::max);
                assert!(
                    known_overflow || (left >= b.x - SLACK && right <= b.right() + SLACK),
                    "page {}: line {:?} spans {left}..{right}, box {}..{}",
                    page.number,
                    line.runs
                        .iter()
                        .map(|r| r.text.as_str())
                        .collect::<String>(),
                    b.x,
                    b.right()
                );
                assert!(
                    !margin_check()
                        || (line.baseline >= b.y - SLACK && line.baseline <= b.bottom() + SLACK),
                    "page {}: baseline {} outside {}..{}",
                    page.number,
                    line.baseline,
                    b.y,
                    b.bottom()
                );
            }
        }
    }
});
