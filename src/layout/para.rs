//! Breaking one paragraph of styled text into lines.
//!
//! In: inline runs, a font size, a line width and an alignment. Out: [`SetLine`]s whose
//! glyph runs are placed relative to the line start. Break opportunities come from
//! Unicode line breaking (UAX #14), optionally from en-US hyphenation patterns, and, for
//! words wider than a whole line, from every character. The breaks are chosen by a
//! total-fit (Knuth–Plass) search that minimises the demerits of the paragraph as a
//! whole, so justified lines stay evenly spaced instead of leaving one loose line after a
//! greedy fill.
//!
//! Most paragraphs of a DPA are the same in every document: measured paragraphs and set
//! lines are memoised per thread (see `crate::cache`), keyed on the runs (text, style,
//! link), the type size, the measure, the alignment, the hyphenation patterns and the
//! fonts instance.

use std::cell::RefCell;
use std::convert::Infallible;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use hyphenation::{Hyphenator, Language, Standard};
use unicode_linebreak::{BreakOpportunity, linebreaks};
use xxhash_rust::xxh3::xxh3_64;

use super::LayoutError;
use super::font::{Face, Fonts, Glyph, is_control};
use crate::cache::{self, Memo};
use crate::document::{Run, Style};

/// How the lines of a paragraph are aligned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Align {
    /// Flush left and right; the last line (and a line before a hard break) is ragged.
    Justify,
    /// Flush left, ragged right.
    Left,
}

/// What to set a paragraph with.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ParaStyle {
    pub size: f32,
    pub measure: f32,
    pub align: Align,
    pub hyphenate: bool,
}

/// A run of glyphs of one face inside a set line, `x` relative to the line start.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SetRun {
    pub x: f64,
    pub face: Face,
    pub text: String,
    pub width: f64,
    /// The paragraph's link (index into [`link_targets`]) the glyphs belong to.
    pub link: Option<u16>,
}

/// One line of a paragraph as the breaker set it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SetLine {
    pub runs: Vec<SetRun>,
    /// Drawn width, including any justification.
    pub width: f64,
    /// Extra space added to every U+0020 on this line (pt; negative when shrunk).
    pub word_spacing: f64,
    /// Extra space after every glyph (pt), for the rare line that spaces alone would
    /// stretch past 0.5 em.
    pub letter_spacing: f64,
    /// True when the line was stretched or shrunk to the full measure.
    pub justified: bool,
}

// Penalties and demerits, in TeX's units.
const INFINITE_PENALTY: f64 = 10_000.0;
const HYPHEN_PENALTY: f64 = 150.0;
const EXPLICIT_BREAK_PENALTY: f64 = 50.0;
const OTHER_BREAK_PENALTY: f64 = 100.0;
const EMERGENCY_PENALTY: f64 = 1_000.0;
/// A break after an explicit hyphen-minus: allowed, but dearer than any loose line.
const LAST_RESORT_PENALTY: f64 = 5_000.0;
const LINE_PENALTY: f64 = 10.0;
/// Largest stretch ratio of a line in the first pass (spaces at most 1.75 times normal).
const PRETOLERANCE: f64 = 1.5;
/// Largest stretch ratio in the second, hyphenating pass (spaces at most 0.5 em).
const TOLERANCE: f64 = 2.0;
/// Most letter spacing (em) a justified line may take when its spaces are at 0.5 em.
const MAX_TRACKING: f64 = 0.025;
/// A last line shorter than this share of the measure costs like a loose line.
const SHORT_LAST_LINE: f64 = 0.12;
const DOUBLE_HYPHEN_DEMERITS: f64 = 10_000.0;
const FINAL_HYPHEN_DEMERITS: f64 = 5_000.0;
const ADJACENT_FITNESS_DEMERITS: f64 = 3_000.0;
/// A word shorter than this many letters is never hyphenated.
const MIN_HYPHENATED_WORD: usize = 6;
/// Letters kept on each side of a hyphen.
const MIN_HYPHEN_SIDE: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Box,
    Glue,
    Penalty,
}

/// One item of the Knuth–Plass box/glue/penalty list.
#[derive(Debug, Clone)]
struct Item {
    kind: Kind,
    width: f64,
    stretch: f64,
    shrink: f64,
    /// True for the glue that fills the last line.
    fill: bool,
    penalty: f64,
    flagged: bool,
    /// Face of the glyphs (box), of the space (glue) or of the hyphen (penalty).
    face: Face,
    /// Byte range of the box's text in the paragraph string.
    start: usize,
    end: usize,
    /// A penalty that draws a hyphen when the line breaks there.
    hyphen: bool,
    /// The link the box's glyphs (or the glue's space) belong to.
    link: Option<u16>,
}

impl Item {
    fn boxed(face: Face, start: usize, end: usize, width: f64) -> Item {
        Item {
            kind: Kind::Box,
            width,
            stretch: 0.0,
            shrink: 0.0,
            fill: false,
            penalty: 0.0,
            flagged: false,
            face,
            start,
            end,
            hyphen: false,
            link: None,
        }
    }

    fn glue(face: Face, width: f64, stretch: f64, shrink: f64) -> Item {
        Item {
            kind: Kind::Glue,
            stretch,
            shrink,
            ..Item::boxed(face, 0, 0, width)
        }
    }

    fn penalty(face: Face, width: f64, penalty: f64, flagged: bool, hyphen: bool) -> Item {
        Item {
            kind: Kind::Penalty,
            penalty,
            flagged,
            hyphen,
            ..Item::boxed(face, 0, 0, width)
        }
    }

    fn fill_glue() -> Item {
        Item {
            fill: true,
            ..Item::glue(Face::Regular, 0.0, 0.0, 0.0)
        }
    }
}

/// The targets of a paragraph's links, in order: consecutive runs with the same target
/// are one link; a link's index in this list is what [`SetRun::link`] holds.
pub(crate) fn link_targets(runs: &[Run]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut previous: Option<&str> = None;
    for run in runs {
        let link = run.link.as_deref();
        if link.is_some() && link != previous {
            out.push(link.unwrap_or_default().to_string());
        }
        previous = link;
    }
    out
}

/// The paragraph's text with each byte's style and link, after whitespace normalisation.
struct Text {
    text: String,
    /// (start byte, style, link) where a style or link begins; sorted by start.
    styles: Vec<(usize, Style, Option<u16>)>,
    /// Whether any run is a link, and any space is bound (U+2060 after it): most
    /// paragraphs have neither, and skip looking.
    has_links: bool,
    has_bound: bool,
}

impl Text {
    fn new(runs: &[Run]) -> Text {
        let mut text = String::new();
        let mut styles: Vec<(usize, Style, Option<u16>)> = Vec::new();
        let mut last_space = true; // drops leading spaces
        let (mut links, mut previous) = (0u16, None::<&str>);
        for run in runs {
            let link = match run.link.as_deref() {
                None => None,
                Some(t) if previous == Some(t) => Some(links - 1),
                Some(_) => {
                    links += 1;
                    Some(links - 1)
                }
            };
            previous = run.link.as_deref();
            let key = Some((run.style, link));
            // Most runs need no whitespace clean-up: copy them whole.
            let r = &run.text;
            let needs_cleaning = r.is_empty()
                || r.contains(['\t', '\r', '\n'])
                || r.contains("  ")
                || (last_space && r.starts_with(' '));
            if !needs_cleaning {
                if styles.last().map(|s| (s.1, s.2)) != key {
                    styles.push((text.len(), run.style, link));
                }
                text.push_str(r);
                last_space = r.ends_with(' ');
                continue;
            }
            let mut started = false;
            for c in run.text.chars() {
                let c = match c {
                    '\t' | '\r' => ' ',
                    c => c,
                };
                if c == ' ' && last_space {
                    continue;
                }
                if c == '\n' {
                    // A hard line break swallows the spaces around it.
                    while text.ends_with(' ') {
                        text.pop();
                    }
                }
                if !started {
                    if styles.last().map(|s| (s.1, s.2)) != key {
                        styles.push((text.len(), run.style, link));
                    }
                    started = true;
                }
                text.push(c);
                last_space = c == ' ' || c == '\n';
            }
        }
        while text.ends_with([' ', '\n']) {
            text.pop();
        }
        let has_bound = text.contains(" \u{2060}");
        Text {
            text,
            styles,
            has_links: links > 0,
            has_bound,
        }
    }

    /// How many style changes start inside `start+1..end`.
    fn style_changes_within(&self, start: usize, end: usize) -> usize {
        let a = self.styles.partition_point(|s| s.0 <= start);
        let b = self.styles.partition_point(|s| s.0 < end);
        b.saturating_sub(a)
    }

    fn style_at(&self, byte: usize) -> Style {
        let i = self.styles.partition_point(|s| s.0 <= byte);
        if i == 0 {
            Style::Regular
        } else {
            self.styles[i - 1].1
        }
    }

    fn link_at(&self, byte: usize) -> Option<u16> {
        if !self.has_links {
            return None;
        }
        let i = self.styles.partition_point(|s| s.0 <= byte);
        if i == 0 { None } else { self.styles[i - 1].2 }
    }
}

/// A short excerpt around byte `at`, for error messages: about 24 characters on each
/// side, extended to the nearest space so words are not cut.
pub(crate) fn context(text: &str, at: usize) -> String {
    const SIDE: usize = 24;
    const SLACK: usize = 16;
    let before: Vec<char> = text[..at].chars().rev().collect();
    let mut take_before = before.len().min(SIDE);
    while take_before < before.len()
        && take_before < SIDE + SLACK
        && !before[take_before].is_whitespace()
    {
        take_before += 1;
    }
    let after: Vec<char> = text[at..].chars().collect();
    let mut take_after = after.len().min(SIDE);
    while take_after < after.len()
        && take_after < SIDE + SLACK
        && !after[take_after].is_whitespace()
    {
        take_after += 1;
    }
    let mut s = String::new();
    if take_before < before.len() {
        s.push('…');
    }
    s.extend(before[..take_before].iter().rev());
    s.extend(after[..take_after].iter());
    if take_after < after.len() {
        s.push('…');
    }
    s.trim().to_owned()
}

/// The lines of a set paragraph, shared with the memo table.
pub(crate) type SetLines = Arc<Vec<SetLine>>;

/// A paragraph's runs as a memo key: the bytes of [`content_bytes`] and their digest.
#[derive(Debug, Clone)]
struct Content {
    digest: u64,
    bytes: Arc<[u8]>,
}

impl Content {
    /// No content: what a paragraph prepared while memoising was off carries.
    fn none() -> Content {
        Content {
            digest: 0,
            bytes: Arc::from([]),
        }
    }
}

impl Hash for Content {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // The tables' SipHash over a whole paragraph's text, at every lookup, insert and
        // rehash, cost more than setting a short paragraph: the digest stands for the
        // bytes (`eq` still compares them in full).
        state.write_u64(self.digest);
    }
}

impl PartialEq for Content {
    fn eq(&self, other: &Self) -> bool {
        self.digest == other.digest && self.bytes == other.bytes
    }
}

impl Eq for Content {}

/// The memo key of a paragraph's runs.
fn content_key(runs: &[Run]) -> Content {
    let bytes = content_bytes(runs);
    Content {
        digest: xxh3_64(&bytes),
        bytes,
    }
}

/// A paragraph's runs as bytes that tell any two different run lists apart: per run its
/// style, its link's and its text's lengths, then the link and the text.
fn content_bytes(runs: &[Run]) -> Arc<[u8]> {
    let len: usize = runs
        .iter()
        .map(|r| 17 + r.text.len() + r.link.as_ref().map_or(0, String::len))
        .sum();
    let mut key = Vec::with_capacity(len);
    for r in runs {
        key.push(r.style as u8);
        // No link and an empty link differ: the length is offset by one.
        let link = r.link.as_ref().map_or(0, |l| l.len() as u64 + 1);
        key.extend_from_slice(&link.to_le_bytes());
        key.extend_from_slice(&(r.text.len() as u64).to_le_bytes());
        key.extend_from_slice(r.link.as_deref().unwrap_or_default().as_bytes());
        key.extend_from_slice(r.text.as_bytes());
    }
    key.into()
}

/// Which hyphenation patterns a paragraph is set with: the language and the minima of
/// the patterns (the layout only loads the embedded ones), or none.
type PatternsKey = Option<HyphenationKey>;

fn patterns_key(style: ParaStyle, hyphenator: Option<&Standard>) -> PatternsKey {
    hyphenator
        .filter(|_| style.hyphenate)
        .map(|h| (h.language(), h.minima.0, h.minima.1))
}

/// Everything a measured paragraph depends on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct PreparedKey {
    content: Content,
    size: u32,
    align: Align,
    fonts: u64,
}

/// Everything a set paragraph depends on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct SetKey {
    content: Content,
    size: u32,
    measure: u32,
    align: Align,
    patterns: PatternsKey,
    fonts: u64,
}

// Sized for the paragraphs of about two documents: a DPA sets 150-180 paragraphs and
// cells through this table (a notice adds about 20), of which a handful depend on the
// customer; capacities are per generation (see `cache::Memo`), so one document's
// working set fits in one. Set lines are the largest values memoised: 1024 per
// generation kept 6 MB more at the peak of a batch, with no more hits (measured with a
// 60-provider annex and with change notices too).
const SET_CAPACITY: usize = 512;
// Measured paragraphs hold their item lists (several KB each): only table cells keep
// them, which are fewer.
const PREPARED_CAPACITY: usize = 512;

// A word's hyphenation points: a contract has a few thousand different words.
const HYPHENATION_CAPACITY: usize = 2048;

/// The patterns a word is hyphenated with: their language and minima.
type HyphenationKey = (Language, usize, usize);

/// A word and the patterns it is hyphenated with, looked up by the word's digest.
#[derive(Debug, PartialEq, Eq)]
struct WordKey {
    digest: u64,
    word: Box<str>,
    patterns: HyphenationKey,
}

impl Hash for WordKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // As for `Content`: the digest stands for the word; `eq` compares it in full.
        state.write_u64(self.digest);
    }
}

thread_local! {
    static SET: RefCell<Memo<SetKey, SetLines>> = RefCell::new(Memo::new(SET_CAPACITY));
    static PREPARED: RefCell<Memo<PreparedKey, Arc<Prepared>>> =
        RefCell::new(Memo::new(PREPARED_CAPACITY));
    static HYPHENATION: RefCell<Memo<WordKey, Arc<[usize]>>> =
        RefCell::new(Memo::new(HYPHENATION_CAPACITY));
}

/// Runs `make` unless the set-lines table has `key`; stores what it made.
fn memo_set(
    key: SetKey,
    make: impl FnOnce() -> Result<Vec<SetLine>, LayoutError>,
) -> Result<SetLines, LayoutError> {
    cache::memoised(&SET, key, |_| Ok(Arc::new(make()?)))
}

/// Builds the item list for a paragraph and sets its lines.
pub(crate) fn set_paragraph(
    runs: &[Run],
    style: ParaStyle,
    fonts: &Fonts,
    hyphenator: Option<&Standard>,
) -> Result<SetLines, LayoutError> {
    let make = || {
        let prepared = prepare_uncached(runs, style.size, style.align, fonts, Content::none())?;
        set_prepared_uncached(&prepared, style, fonts, hyphenator)
    };
    if !cache::enabled() {
        return make().map(Arc::new);
    }
    let key = SetKey {
        content: content_key(runs),
        size: style.size.to_bits(),
        measure: style.measure.to_bits(),
        align: style.align,
        patterns: patterns_key(style, hyphenator),
        fonts: fonts.id(),
    };
    memo_set(key, make)
}

/// A paragraph measured once (without hyphenation), ready to be set at any width.
pub(crate) struct Prepared {
    /// The runs' [`content_key`] (empty when memoising is off).
    content: Content,
    text: Text,
    /// The paragraph's link targets (see [`link_targets`]).
    pub targets: Vec<String>,
    plain: Vec<Item>,
    /// Where each word's boxes are in `plain`, for the hyphenating pass.
    words: Vec<WordSpan>,
    /// The type size `plain` was measured at.
    size: f32,
    align: Align,
    /// The widest unbreakable word, in points.
    pub widest: f64,
    /// The whole paragraph on one line, in points.
    pub natural: f64,
}

/// Measures `runs` for setting with `align` at `size`.
pub(crate) fn prepare(
    runs: &[Run],
    size: f32,
    align: Align,
    fonts: &Fonts,
) -> Result<Arc<Prepared>, LayoutError> {
    if !cache::enabled() {
        return prepare_uncached(runs, size, align, fonts, Content::none()).map(Arc::new);
    }
    let key = PreparedKey {
        content: content_key(runs),
        size: size.to_bits(),
        align,
        fonts: fonts.id(),
    };
    cache::memoised(&PREPARED, key, |key| {
        prepare_uncached(runs, size, align, fonts, key.content.clone()).map(Arc::new)
    })
}

fn prepare_uncached(
    runs: &[Run],
    size: f32,
    align: Align,
    fonts: &Fonts,
    content: Content,
) -> Result<Prepared, LayoutError> {
    let text = Text::new(runs);
    let style = ParaStyle {
        size,
        measure: f32::INFINITY,
        align,
        hyphenate: false,
    };
    // About one word in six bytes of text.
    let mut words = Vec::with_capacity(text.text.len() / 6 + 1);
    let plain = if text.text.is_empty() {
        Vec::new()
    } else {
        build_items(&text, style, fonts, None, Some(&mut words))?
    };
    // The widest stretch between two places a line may end.
    let (mut widest, mut word, mut natural) = (0.0f64, 0.0f64, 0.0f64);
    for (i, it) in plain.iter().enumerate() {
        match it.kind {
            Kind::Box => {
                word += it.width;
                natural += it.width;
            }
            Kind::Glue if i > 0 && plain[i - 1].kind == Kind::Box => {
                widest = widest.max(word);
                word = 0.0;
                natural += it.width;
            }
            // Glue after a forbidding penalty binds its neighbours ("€ 180").
            Kind::Glue => {
                word += it.width;
                natural += it.width;
            }
            Kind::Penalty if it.penalty < INFINITE_PENALTY => {
                widest = widest.max(word + it.width);
                word = 0.0;
            }
            Kind::Penalty => {}
        }
    }
    Ok(Prepared {
        content,
        text,
        targets: link_targets(runs),
        plain,
        words,
        size,
        align,
        widest: widest.max(word),
        natural,
    })
}

/// Sets a prepared paragraph with the alignment it was prepared with.
pub(crate) fn set_prepared(
    prepared: &Prepared,
    style: ParaStyle,
    fonts: &Fonts,
    hyphenator: Option<&Standard>,
) -> Result<SetLines, LayoutError> {
    let make = || set_prepared_uncached(prepared, style, fonts, hyphenator);
    // A paragraph prepared while memoising was off has no content key.
    if !cache::enabled() || prepared.content.bytes.is_empty() {
        return make().map(Arc::new);
    }
    let key = SetKey {
        content: prepared.content.clone(),
        size: style.size.to_bits(),
        measure: style.measure.to_bits(),
        align: prepared.align,
        patterns: patterns_key(style, hyphenator),
        fonts: fonts.id(),
    };
    memo_set(key, make)
}

fn set_prepared_uncached(
    prepared: &Prepared,
    style: ParaStyle,
    fonts: &Fonts,
    hyphenator: Option<&Standard>,
) -> Result<Vec<SetLine>, LayoutError> {
    let text = &prepared.text;
    if text.text.is_empty() {
        return Ok(Vec::new());
    }
    let style = ParaStyle {
        align: prepared.align,
        ..style
    };
    let extra_stretch = match style.align {
        Align::Justify => 0.0,
        // Ragged lines are judged against a fixed stretch at the line end, so the
        // breaker still avoids very short lines without stretching any spaces.
        Align::Left => 3.0 * style.size as f64,
    };
    let measure = style.measure as f64;
    // Words wider than the line need break points inside them: measure again.
    let rebuilt;
    let plain: &[Item] = if prepared.widest <= measure {
        &prepared.plain
    } else {
        rebuilt = build_items(text, style, fonts, None, None)?;
        &rebuilt
    };
    // As in TeX: first try without hyphenation and with tight spacing; hyphenate only
    // paragraphs that need it; accept anything only as a last resort.
    let pretolerance = match style.align {
        Align::Justify => PRETOLERANCE,
        // Ragged lines may end well short of the measure before hyphens help.
        Align::Left => 2.0 * TOLERANCE,
    };
    if let Some(breaks) = find_breaks(plain, measure, extra_stretch, Some(pretolerance)) {
        return Ok(assemble(&text.text, plain, &breaks, style));
    }
    let hyphenated;
    let items: &[Item] = match hyphenator {
        Some(h) if style.hyphenate => {
            hyphenated = if prepared.widest <= measure && prepared.size == style.size {
                hyphenate_items(prepared, style, fonts, h)?
            } else {
                build_items(text, style, fonts, Some(h), None)?
            };
            &hyphenated
        }
        _ => plain,
    };
    if let Some(breaks) = find_breaks(items, measure, extra_stretch, Some(TOLERANCE)) {
        return Ok(assemble(&text.text, items, &breaks, style));
    }
    // Third pass: letters may take up to MAX_TRACKING each (see `assemble`), so lines too
    // loose for their spaces alone can still be justified.
    if style.align == Align::Justify {
        let most = MAX_TRACKING * style.size as f64 / TOLERANCE;
        let tracked: Vec<Item> = items
            .iter()
            .map(|it| match it.kind {
                Kind::Box => Item {
                    stretch: most
                        * text.text[it.start..it.end]
                            .chars()
                            .filter(|&c| !is_control(c))
                            .count() as f64,
                    ..it.clone()
                },
                _ => it.clone(),
            })
            .collect();
        if let Some(breaks) = find_breaks(&tracked, measure, extra_stretch, Some(TOLERANCE)) {
            return Ok(assemble(&text.text, items, &breaks, style));
        }
    }
    let breaks =
        find_breaks(items, measure, extra_stretch, None).unwrap_or_else(|| vec![items.len() - 1]);
    Ok(assemble(&text.text, items, &breaks, style))
}

/// Sets `text` on one line without breaking it (labels, markers, page numbers).
pub(crate) fn set_single(
    text: &str,
    style: Style,
    size: f32,
    fonts: &Fonts,
) -> Result<SetLine, LayoutError> {
    let scale = size as f64 / 1000.0;
    let mut runs: Vec<SetRun> = Vec::new();
    let mut x = 0.0;
    for (i, c) in text.char_indices() {
        if is_control(c) {
            continue;
        }
        let g = fonts.glyph(c, style).ok_or_else(|| missing(c, text, i))?;
        let w = g.advance as f64 * scale;
        match runs.last_mut() {
            Some(r) if r.face == g.face => {
                r.text.push(c);
                r.width += w;
            }
            _ => runs.push(SetRun {
                x,
                face: g.face,
                text: c.to_string(),
                width: w,
                link: None,
            }),
        }
        x += w;
    }
    Ok(SetLine {
        runs,
        width: x,
        word_spacing: 0.0,
        letter_spacing: 0.0,
        justified: false,
    })
}

/// Where one word's boxes are in an item list: the word (`start..end` in the text), its
/// first item, how many boxes it made and its width in thousandths of an em.
#[derive(Debug, Clone, Copy)]
struct WordSpan {
    start: usize,
    end: usize,
    first: usize,
    count: usize,
    units: u64,
}

/// The item list of `text`; with `spans`, where each word's boxes are in it.
fn build_items(
    text: &Text,
    style: ParaStyle,
    fonts: &Fonts,
    hyphenator: Option<&Standard>,
    mut spans: Option<&mut Vec<WordSpan>>,
) -> Result<Vec<Item>, LayoutError> {
    let mut push_span = |items: &mut Vec<Item>, start: usize, end: usize| {
        let first = items.len();
        let units = push_word(items, text, start, end, style, fonts, hyphenator)?;
        if let Some(spans) = spans.as_deref_mut() {
            spans.push(WordSpan {
                start,
                end,
                first,
                count: items.len() - first,
                units,
            });
        }
        Ok::<(), LayoutError>(())
    };
    let s = &text.text;
    let scale = style.size as f64 / 1000.0;
    let mut items = Vec::with_capacity(s.len() / 3);
    let mut prev = 0;
    for (pos, opportunity) in linebreaks(s) {
        let seg = &s[prev..pos];
        let word_len = seg.trim_end_matches([' ', '\n']).len();
        let word_end = prev + word_len;
        let tail = &seg[word_len..];
        let word = &s[prev..word_end];
        let mut word_style = text.style_at(prev);
        if !word.is_empty() {
            // A space followed by a word joiner (set by the markup stage) never ends a
            // line, but stretches like any other: the word is pushed in parts.
            let mut from = prev;
            // Linebreaks ends words at ordinary spaces, so only a bound one is inside.
            for i in bound_spaces(word, text.has_bound) {
                let at = prev + i;
                if at > from {
                    push_span(&mut items, from, at)?;
                }
                let face = Face::for_style(text.style_at(at));
                items.push(Item::penalty(face, 0.0, INFINITE_PENALTY, false, false));
                items.push(space_glue(text, at, style, fonts)?);
                from = at + 1;
            }
            push_span(&mut items, from, word_end)?;
            word_style = text.style_at(word_end - 1);
        }
        let face = Face::for_style(word_style);
        let forced = opportunity == BreakOpportunity::Mandatory;
        if forced {
            // Hard break or end of paragraph: the line is filled, not stretched.
            items.push(Item::penalty(face, 0.0, INFINITE_PENALTY, false, false));
            items.push(Item::fill_glue());
            items.push(Item::penalty(face, 0.0, -INFINITE_PENALTY, false, false));
        } else if tail.contains(' ') && is_prefix_symbol(word) {
            // "€ 180": a currency sign never ends a line apart from its amount.
            let space_style = text.style_at(word_end);
            let glyph = fonts
                .glyph(' ', space_style)
                .ok_or_else(|| missing(' ', s, word_end))?;
            items.push(Item::penalty(face, 0.0, INFINITE_PENALTY, false, false));
            items.push(Item::glue(
                glyph.face,
                glyph.advance as f64 * scale,
                0.0,
                0.0,
            ));
        } else if tail.contains(' ') {
            items.push(space_glue(text, word_end, style, fonts)?);
        } else if word.ends_with('\u{AD}') {
            let w = fonts.advance(face, '-') as f64 * scale;
            items.push(Item::penalty(face, w, HYPHEN_PENALTY, true, true));
        } else if word.ends_with('-') {
            // Text extraction (poppler's pdftotext, for one) takes a hyphen-minus at
            // the end of a line for hyphenation and joins the halves: "forty-" +
            // "eight" would come out as "fortyeight". So a line ends there only when
            // nothing else fits (a narrow table column).
            items.push(Item::penalty(face, 0.0, LAST_RESORT_PENALTY, false, false));
        } else if word.ends_with(['‐', '–', '—']) {
            items.push(Item::penalty(
                face,
                0.0,
                EXPLICIT_BREAK_PENALTY,
                true,
                false,
            ));
        } else {
            items.push(Item::penalty(face, 0.0, OTHER_BREAK_PENALTY, false, false));
        }
        prev = pos;
    }
    Ok(items)
}

/// The item list of a prepared paragraph for the hyphenating pass: what
/// `build_items(.., Some(h), None)` gives, made from the plain list. Only the words
/// that may change are set again (those the patterns may break, or too wide for the
/// line); the other items are the plain list's, which nothing in them depends on the
/// measure or the patterns. Building the whole list again cost a third of a long
/// paragraph's setting.
fn hyphenate_items(
    prepared: &Prepared,
    style: ParaStyle,
    fonts: &Fonts,
    h: &Standard,
) -> Result<Vec<Item>, LayoutError> {
    let (text, plain) = (&prepared.text, &prepared.plain);
    let mut items = Vec::with_capacity(plain.len() + plain.len() / 8);
    let mut next = 0;
    for w in &prepared.words {
        items.extend_from_slice(&plain[next..w.first]);
        next = w.first + w.count;
        let word = &text.text[w.start..w.end];
        let may_change = !word_fits(text, fonts, style, w.start, w.units)
            || (has_hyphenatable_run(word)
                && text.link_at(w.start).is_none()
                && !is_code_like(word));
        if may_change {
            push_word(&mut items, text, w.start, w.end, style, fonts, Some(h))?;
        } else {
            items.extend_from_slice(&plain[w.first..next]);
        }
    }
    items.extend_from_slice(&plain[next..]);
    Ok(items)
}

/// Whether a word `units` wide (thousandths of an em) fits on a line of `style`, with
/// the hyphen a soft hyphen at its end may add.
fn word_fits(text: &Text, fonts: &Fonts, style: ParaStyle, start: usize, units: u64) -> bool {
    let scale = style.size as f64 / 1000.0;
    let width = units as f64 * scale;
    let measure = style.measure as f64;
    // A hyphen is narrower than an em: only words that close need its real width.
    width + style.size as f64 <= measure
        || width + fonts.advance(word_style_face(text, fonts, start), '-') as f64 * scale <= measure
}

/// The glue of the space at byte `at`: stretchable in justified text, with the link
/// the space belongs to.
fn space_glue(
    text: &Text,
    at: usize,
    style: ParaStyle,
    fonts: &Fonts,
) -> Result<Item, LayoutError> {
    let glyph = fonts
        .glyph(' ', text.style_at(at))
        .ok_or_else(|| missing(' ', &text.text, at))?;
    let w = glyph.advance as f64 * style.size as f64 / 1000.0;
    // Spaces stretch to 0.5 em at most (ratio 2) and shrink to 0.175 em.
    let (stretch, shrink) = if style.align == Align::Justify {
        (w * 0.5, w * 0.3)
    } else {
        (0.0, 0.0)
    };
    let mut glue = Item::glue(glyph.face, w, stretch, shrink);
    glue.link = text.link_at(at);
    Ok(glue)
}

/// Byte offsets of the bound spaces (a space then U+2060) inside a word: linebreaks ends
/// words at ordinary spaces, so any space inside one is bound.
fn bound_spaces(word: &str, any: bool) -> impl Iterator<Item = usize> + '_ {
    let b = if any { word.as_bytes() } else { &[] };
    b.iter()
        .enumerate()
        .filter(move |&(i, &c)| c == b' ' && b[i + 1..].starts_with("\u{2060}".as_bytes()))
        .map(|(i, _)| i)
}

/// Whether a word is an address, a number or a code, which is never hyphenated.
fn is_code_like(word: &str) -> bool {
    let b = word.as_bytes();
    b.iter()
        .any(|c| c.is_ascii_digit() || matches!(c, b'@' | b'/' | b'\\' | b'_'))
        || b.windows(2)
            .any(|w| matches!(w[0], b'.' | b':') && w[1].is_ascii_alphanumeric())
}

/// A word that is only a currency or section sign, which binds to what follows.
fn is_prefix_symbol(word: &str) -> bool {
    let mut chars = word.chars();
    matches!(
        (chars.next(), chars.next()),
        (Some('€' | '$' | '£' | '¥' | '§' | '¶' | '№'), None)
    )
}

fn missing(c: char, text: &str, at: usize) -> LayoutError {
    LayoutError::MissingGlyph {
        ch: c,
        context: context(text, at),
    }
}

/// Pushes the boxes of one unbreakable word, with hyphenation and emergency breaks;
/// returns its width in thousandths of an em.
fn push_word(
    items: &mut Vec<Item>,
    text: &Text,
    start: usize,
    end: usize,
    style: ParaStyle,
    fonts: &Fonts,
    hyphenator: Option<&Standard>,
) -> Result<u64, LayoutError> {
    let s = &text.text;
    let scale = style.size as f64 / 1000.0;
    let hyphenate = style.hyphenate && hyphenator.is_some();
    // Common case first: a word that fits on a line and is not hyphenated becomes one
    // box per face, measured in a single pass.
    let first = items.len();
    // Most words have one style; look it up per character only when they do not.
    let word_style = text.style_at(start);
    let word_link = text.link_at(start);
    let uniform = text.style_changes_within(start, end) == 0;
    let boxed = |face: Face, from: usize, to: usize, width: f64, link: Option<u16>| Item {
        link,
        ..Item::boxed(face, from, to, width)
    };
    let word = &s[start..end];
    let face = Face::for_style(word_style);
    // The usual word: one style, printable ASCII the style's face has, so one box,
    // measured from a table (no per-character decoding or face choice).
    let ascii = match uniform && !word.is_empty() {
        true => fonts.ascii_units(face, word.as_bytes()),
        false => None,
    };
    let total = match ascii {
        Some(units) => {
            items.push(boxed(face, start, end, units as f64 * scale, word_link));
            units
        }
        None => push_boxes(items, text, start, end, scale, fonts, uniform)?,
    };
    // A word that ends at a soft hyphen may be drawn with a hyphen after it: it must
    // fit with that hyphen, or it gets emergency break points like any overlong word.
    let too_wide = !word_fits(text, fonts, style, start, total);
    // Byte offsets where the word may break, and whether a hyphen shows there.
    let mut splits: Vec<(usize, bool)> = Vec::new();
    if !too_wide {
        if let (true, Some(h)) = (hyphenate, hyphenator) {
            // Names are capitalised (see `hyphenation_points`); addresses, key ids and
            // numbers are left whole too.
            if word_link.is_none() && !is_code_like(word) {
                hyphenation_points(word, start, h, &mut splits);
            }
        }
        // A word that fits and has no hyphenation point is the boxes just pushed, which
        // are what the glyph-by-glyph pass below would make without break points.
        if splits.is_empty() {
            return Ok(total);
        }
    }
    items.truncate(first);

    // Measure once: (byte, face, advance) per drawn character.
    let mut glyphs: Vec<(usize, Face, u16, Option<u16>)> = Vec::with_capacity(end - start);
    for glyph in word_glyphs(text, fonts, start, end, uniform) {
        let (at, g, link) = glyph?;
        glyphs.push((at, g.face, g.advance, link));
    }
    if too_wide {
        splits.extend(glyphs.iter().skip(1).map(|g| (g.0, false)));
    }

    let mut split_iter = splits.into_iter().peekable();
    let mut box_start: Option<(usize, Face, Option<u16>)> = None;
    let mut units: u64 = 0;
    let flush =
        |items: &mut Vec<Item>, b: Option<(usize, Face, Option<u16>)>, to: usize, units: u64| {
            if let Some((from, face, link)) = b {
                items.push(boxed(face, from, to, units as f64 * scale, link));
            }
        };
    for &(at, face, adv, link) in &glyphs {
        let mut split_here = None;
        while let Some(&(pos, hyphen)) = split_iter.peek() {
            if pos > at {
                break;
            }
            if pos == at {
                split_here = Some(hyphen);
            }
            split_iter.next();
        }
        let face_changed = box_start.is_some_and(|b| b.1 != face || b.2 != link);
        if split_here.is_some() || face_changed {
            flush(items, box_start.take(), at, units);
            units = 0;
        }
        if let Some(hyphen) = split_here {
            let prev_face = items.last().map(|i| i.face).unwrap_or(face);
            if hyphen {
                let w = fonts.advance(prev_face, '-') as f64 * scale;
                items.push(Item::penalty(prev_face, w, HYPHEN_PENALTY, true, true));
            } else {
                items.push(Item::penalty(
                    prev_face,
                    0.0,
                    EMERGENCY_PENALTY,
                    false,
                    false,
                ));
            }
        }
        if box_start.is_none() {
            box_start = Some((at, face, link));
        }
        units += adv as u64;
    }
    // The box ends after the last drawn character; invisible trailing characters
    // (a soft hyphen) stay out of the drawn text.
    let box_end = glyphs
        .last()
        .map(|g| g.0 + s[g.0..].chars().next().map_or(0, char::len_utf8))
        .unwrap_or(end);
    flush(items, box_start, box_end, units);
    Ok(total)
}

/// The drawn characters of the word at `start..end`: byte offset, glyph and link
/// (`uniform`: one style and link for the whole word, looked up once).
fn word_glyphs<'a>(
    text: &'a Text,
    fonts: &'a Fonts,
    start: usize,
    end: usize,
    uniform: bool,
) -> impl Iterator<Item = Result<(usize, Glyph, Option<u16>), LayoutError>> + 'a {
    let (word_style, word_link) = (text.style_at(start), text.link_at(start));
    text.text[start..end]
        .char_indices()
        .filter(|&(_, c)| !is_control(c))
        .map(move |(i, c)| {
            let at = start + i;
            let (style, link) = if uniform {
                (word_style, word_link)
            } else {
                (text.style_at(at), text.link_at(at))
            };
            let g = fonts
                .glyph(c, style)
                .ok_or_else(|| missing(c, &text.text, at))?;
            Ok((at, g, link))
        })
}

/// Pushes the word at `start..end` as one box per face and link, glyph by glyph;
/// returns its width in thousandths of an em at size 1.
fn push_boxes(
    items: &mut Vec<Item>,
    text: &Text,
    start: usize,
    end: usize,
    scale: f64,
    fonts: &Fonts,
    uniform: bool,
) -> Result<u64, LayoutError> {
    let s = &text.text;
    let mut current: Option<(usize, Face, Option<u16>)> = None;
    let (mut units, mut total) = (0u64, 0u64);
    let boxed = |face: Face, from: usize, to: usize, units: u64, link: Option<u16>| Item {
        link,
        ..Item::boxed(face, from, to, units as f64 * scale)
    };
    for glyph in word_glyphs(text, fonts, start, end, uniform) {
        let (at, g, link) = glyph?;
        match current {
            Some((_, face, l)) if face == g.face && l == link => {}
            _ => {
                if let Some((from, face, l)) = current {
                    items.push(boxed(face, from, at, units, l));
                }
                current = Some((at, g.face, link));
                units = 0;
            }
        }
        units += g.advance as u64;
        total += g.advance as u64;
    }
    if let Some((from, face, l)) = current {
        let to = s[..end].trim_end_matches(is_control).len().max(from);
        items.push(boxed(face, from, to, units, l));
    }
    Ok(total)
}

/// The face of the first character of the word at `start` (for the hyphen's width).
fn word_style_face(text: &Text, fonts: &Fonts, start: usize) -> Face {
    text.text[start..]
        .chars()
        .next()
        .and_then(|c| fonts.glyph(c, text.style_at(start)))
        .map_or(Face::Regular, |g| g.face)
}

/// Adds the dictionary's hyphenation points inside each run of letters of `word`.
fn hyphenation_points(word: &str, offset: usize, h: &Standard, out: &mut Vec<(usize, bool)>) {
    // Most words are too short or capitalised to be tried at all: no memo entry for them.
    if !has_hyphenatable_run(word) {
        return;
    }
    // The patterns cost about 12,000 instructions a word, and the words of a contract
    // repeat: the points are memoised per word (and patterns), within a document too.
    let key = WordKey {
        digest: xxh3_64(word.as_bytes()),
        word: Box::from(word),
        patterns: (h.language(), h.minima.0, h.minima.1),
    };
    let Ok(points) = cache::memoised(&HYPHENATION, key, |_| {
        let mut points = Vec::new();
        word_hyphenation_points(word, h, &mut points);
        Ok::<Arc<[usize]>, Infallible>(points.into())
    });
    out.extend(points.iter().map(|&b| (offset + b, true)));
}

/// Whether `word` has a run of letters that [`word_hyphenation_points`] would give to
/// the patterns: long enough and not capitalised.
fn has_hyphenatable_run(word: &str) -> bool {
    let (mut letters, mut capitalised) = (0, false);
    for c in word.chars().chain(std::iter::once(' ')) {
        if c.is_alphabetic() {
            letters += 1;
            capitalised |= c.is_uppercase();
        } else {
            if letters >= MIN_HYPHENATED_WORD && !capitalised {
                return true;
            }
            (letters, capitalised) = (0, false);
        }
    }
    false
}

/// The byte offsets in `word` where the patterns allow a hyphen that reads well.
fn word_hyphenation_points(word: &str, h: &Standard, out: &mut Vec<usize>) {
    let mut i = 0;
    let bytes_len = word.len();
    while i < bytes_len {
        let rest = &word[i..];
        let letters: usize = rest
            .char_indices()
            .find(|(_, c)| !c.is_alphabetic())
            .map_or(rest.len(), |(j, _)| j);
        if letters == 0 {
            i += rest.chars().next().map_or(1, char::len_utf8);
            continue;
        }
        let run = &rest[..letters];
        let count = run.chars().count();
        // Capitalised words are names and defined terms ("Processor"): never split them.
        let capitalised = run.chars().any(char::is_uppercase);
        if count >= MIN_HYPHENATED_WORD && !capitalised {
            for b in h.hyphenate(run).breaks {
                let left = run[..b].chars().count();
                if left >= MIN_HYPHEN_SIDE
                    && count - left >= MIN_HYPHEN_SIDE
                    && reads_well(&run[..b], &run[b..])
                {
                    out.push(i + b);
                }
            }
        }
        i += letters;
    }
}

/// Whether a hyphen between `left` and `right` leaves a fragment a reader takes as a
/// syllable: the TeX patterns allow some breaks that split a consonant from the vowel
/// it is spoken with ("oblig-ations", "organ-isational"); those are not used, and
/// neither is any break that leaves a fragment without a vowel.
fn reads_well(left: &str, right: &str) -> bool {
    let vowel = |c: char| "aeiouyAEIOUY".contains(c);
    let (Some(before), Some(after)) = (left.chars().last(), right.chars().next()) else {
        return false;
    };
    let consonant_then_vowel = !vowel(before) && vowel(after);
    !consonant_then_vowel && left.chars().any(vowel) && right.chars().any(vowel)
}

/// A feasible break in the Knuth–Plass search.
#[derive(Debug, Clone, Copy)]
struct Node {
    /// Index of the break item (0 for the paragraph start).
    at: usize,
    /// Index of the first item of the line that follows.
    next: usize,
    fitness: u8,
    demerits: f64,
    prev: Option<usize>,
}

/// Chooses the break items with the least total demerits.
///
/// With a `tolerance`, lines may stretch at most that ratio and `None` means no such
/// set of breaks exists; without one every line is allowed (overfull ones only when
/// nothing else fits), so there is always an answer.
fn find_breaks(
    items: &[Item],
    measure: f64,
    extra_stretch: f64,
    tolerance: Option<f64>,
) -> Option<Vec<usize>> {
    let n = items.len();
    // Running totals before each item: width, stretch, shrink, fill glues.
    let mut sums: Vec<(f64, f64, f64, u32)> = Vec::with_capacity(n + 1);
    let mut total = (0.0f64, 0.0f64, 0.0f64, 0u32);
    sums.push(total);
    for it in items {
        if it.kind != Kind::Penalty {
            total.0 += it.width;
        }
        total.1 += it.stretch;
        total.2 += it.shrink;
        total.3 += it.fill as u32;
        sums.push(total);
    }
    // First item of the line after a break at `b`: discardable items are dropped.
    let line_start = |b: usize| -> usize {
        let mut j = b + 1;
        while j < n {
            match items[j].kind {
                Kind::Box => break,
                Kind::Penalty if items[j].penalty <= -INFINITE_PENALTY => break,
                _ => j += 1,
            }
        }
        j
    };

    let mut nodes = vec![Node {
        at: 0,
        next: 0,
        fitness: 1,
        demerits: 0.0,
        prev: None,
    }];
    let mut active: Vec<usize> = vec![0];
    for b in 0..n {
        let it = &items[b];
        let legal = match it.kind {
            Kind::Box => false,
            Kind::Glue => b > 0 && items[b - 1].kind == Kind::Box,
            Kind::Penalty => it.penalty < INFINITE_PENALTY,
        };
        if !legal {
            continue;
        }
        let forced = it.kind == Kind::Penalty && it.penalty <= -INFINITE_PENALTY;
        let break_width = if it.kind == Kind::Penalty {
            it.width
        } else {
            0.0
        };
        // The oldest active node gives the longest line: if even that line is too
        // loose, no line can end here, and no node is too long to stay active.
        if let (Some(t), Some(&first), false) = (tolerance, active.first(), forced) {
            let from = sums[nodes[first].next];
            let width = sums[b].0 - from.0 + break_width;
            let stretch = sums[b].1 - from.1 + extra_stretch;
            if width < measure && (stretch <= 0.0 || (measure - width) / stretch > t) {
                continue;
            }
        }
        let mut best: [Option<(f64, usize)>; 4] = [None; 4];
        let mut dropped: Option<usize> = None;
        let mut k = 0;
        while k < active.len() {
            let a = active[k];
            let node = nodes[a];
            let (from, to) = (sums[node.next], sums[b]);
            let width = to.0 - from.0 + break_width;
            let has_fill = to.3 > from.3;
            let ratio = if width < measure {
                let stretch = to.1 - from.1 + extra_stretch;
                if has_fill {
                    0.0
                } else if stretch > 0.0 {
                    (measure - width) / stretch
                } else {
                    100.0
                }
            } else if width > measure {
                let shrink = to.2 - from.2;
                if shrink > 0.0 {
                    (measure - width) / shrink
                } else {
                    f64::NEG_INFINITY
                }
            } else {
                0.0
            };
            // A tiny tolerance keeps lines that fit exactly from being judged overfull.
            let feasible = ratio >= -1.0 - 1e-9 && tolerance.is_none_or(|t| ratio <= t);
            let too_long = ratio < -1.0 - 1e-9;
            if feasible {
                let badness = 100.0 * ratio.abs().powi(3);
                let mut d = (LINE_PENALTY + badness).powi(2);
                if it.kind == Kind::Penalty {
                    if it.penalty >= 0.0 {
                        d += it.penalty * it.penalty;
                    } else if !forced {
                        d -= it.penalty * it.penalty;
                    }
                }
                let prev_flagged = items[node.at].kind == Kind::Penalty && items[node.at].flagged;
                if it.flagged && prev_flagged {
                    d += DOUBLE_HYPHEN_DEMERITS;
                }
                if forced && prev_flagged && node.at != 0 {
                    d += FINAL_HYPHEN_DEMERITS;
                }
                let fitness: u8 = if ratio < -0.5 {
                    0
                } else if ratio <= 0.5 {
                    1
                } else if ratio <= 1.0 {
                    2
                } else {
                    3
                };
                if fitness.abs_diff(node.fitness) > 1 {
                    d += ADJACENT_FITNESS_DEMERITS;
                }
                if forced && has_fill && width < SHORT_LAST_LINE * measure {
                    d += (LINE_PENALTY + 100.0).powi(2);
                }
                let total = node.demerits + d;
                let slot = &mut best[fitness as usize];
                if slot.is_none_or(|(t, _)| total < t) {
                    *slot = Some((total, a));
                }
            }
            if too_long || forced {
                if dropped.is_none_or(|x| nodes[a].demerits < nodes[x].demerits) {
                    dropped = Some(a);
                }
                active.remove(k);
            } else {
                k += 1;
            }
        }
        let next = line_start(b);
        let mut added = false;
        for (fitness, slot) in best.iter().enumerate() {
            if let Some((demerits, prev)) = *slot {
                nodes.push(Node {
                    at: b,
                    next,
                    fitness: fitness as u8,
                    demerits,
                    prev: Some(prev),
                });
                active.push(nodes.len() - 1);
                added = true;
            }
        }
        if !added && active.is_empty() {
            if tolerance.is_some() {
                return None;
            }
            // Nothing fits (a glyph wider than the measure): accept an overfull line
            // rather than fail.
            let prev = dropped.unwrap_or(0);
            nodes.push(Node {
                at: b,
                next,
                fitness: 1,
                demerits: nodes[prev].demerits + 1e12,
                prev: Some(prev),
            });
            active.push(nodes.len() - 1);
        }
    }
    let &last = active
        .iter()
        .filter(|&&a| nodes[a].at == n - 1)
        .min_by(|&&a, &&b| nodes[a].demerits.total_cmp(&nodes[b].demerits))?;
    let mut breaks = Vec::new();
    let mut cur = Some(last);
    while let Some(c) = cur {
        if nodes[c].prev.is_some() {
            breaks.push(nodes[c].at);
        }
        cur = nodes[c].prev;
    }
    breaks.reverse();
    Some(breaks)
}

/// Turns the chosen breaks into lines of positioned runs.
fn assemble(text: &str, items: &[Item], breaks: &[usize], style: ParaStyle) -> Vec<SetLine> {
    let measure = style.measure as f64;
    // Invisible marks (word joiners) have no glyph and are dropped from drawn text.
    let has_controls = text.contains(is_control);
    let mut lines = Vec::with_capacity(breaks.len());
    let mut start = 0;
    for &b in breaks {
        let brk = &items[b];
        let forced = brk.kind == Kind::Penalty && brk.penalty <= -INFINITE_PENALTY;
        let line_items = &items[start..b];
        let mut natural = 0.0;
        let mut spaces = 0u32;
        let mut bytes = 0;
        for it in line_items {
            match it.kind {
                Kind::Box => {
                    natural += it.width;
                    bytes += it.end - it.start;
                }
                Kind::Glue if !it.fill => {
                    natural += it.width;
                    spaces += 1;
                }
                _ => {}
            }
        }
        if brk.hyphen {
            natural += brk.width;
        }
        let justify = style.align == Align::Justify && !forced && spaces > 0;
        // A last line may have been chosen with its spaces shrunk: shrink them.
        let shrink_last = forced && spaces > 0 && natural > measure;
        let mut word_spacing = if justify || shrink_last {
            (measure - natural) / spaces as f64
        } else {
            0.0
        };
        // Spaces stretch at most to 0.5 em (TOLERANCE); a line that needs more (a
        // paragraph with no better breaks) spreads the rest over its letters, at most
        // MAX_TRACKING each, so its words do not drift apart.
        let mut letter_spacing = 0.0;
        let mut ragged = false;
        if justify {
            let cap = line_items
                .iter()
                .filter(|it| it.kind == Kind::Glue && !it.fill)
                .map(|it| it.stretch * TOLERANCE)
                .sum::<f64>()
                / spaces as f64;
            if word_spacing > cap {
                let glyphs = line_items
                    .iter()
                    .map(|it| match it.kind {
                        Kind::Box => text[it.start..it.end]
                            .chars()
                            .filter(|&c| !is_control(c))
                            .count(),
                        Kind::Glue if !it.fill => 1,
                        _ => 0,
                    })
                    .sum::<usize>()
                    + usize::from(brk.hyphen);
                // The gap a reader sees between two words is the space with its Tw
                // and the Tc of the space and of the letter before it: held at the cap.
                let letters = glyphs.saturating_sub(spaces as usize);
                let rest = measure - natural - cap * spaces as f64;
                let most = MAX_TRACKING * style.size as f64;
                if letters > spaces as usize && rest / (letters - spaces as usize) as f64 <= most {
                    letter_spacing = rest / (letters - spaces as usize) as f64;
                    word_spacing = cap - 2.0 * letter_spacing;
                } else {
                    // Even then too loose (an unbreakable name fills the line): the line
                    // is set ragged rather than with gaps a reader would stumble over.
                    word_spacing = 0.0;
                    ragged = true;
                }
            }
        }
        let justify = justify && !ragged;
        // Most lines have no letter spacing: no need to count their letters.
        let track = |piece: &str| match letter_spacing {
            0.0 => 0.0,
            ls => ls * piece.chars().filter(|&c| !is_control(c)).count() as f64,
        };
        let mut runs: Vec<SetRun> = Vec::new();
        let mut x = 0.0f64;
        let mut push =
            |runs: &mut Vec<SetRun>, face: Face, link: Option<u16>, piece: &str, w: f64| {
                match runs.last_mut() {
                    Some(r) if r.face == face && r.link == link => {
                        r.text.push_str(piece);
                        r.width += w;
                    }
                    _ => {
                        let mut text = String::with_capacity(bytes + spaces as usize + 1);
                        text.push_str(piece);
                        runs.push(SetRun {
                            x,
                            face,
                            text,
                            width: w,
                            link,
                        })
                    }
                }
                x += w;
            };
        for it in line_items {
            match it.kind {
                Kind::Box => {
                    let piece = &text[it.start..it.end];
                    let w = it.width + track(piece);
                    if has_controls && piece.contains(is_control) {
                        let visible: String = piece.chars().filter(|&c| !is_control(c)).collect();
                        push(&mut runs, it.face, it.link, &visible, w);
                    } else {
                        push(&mut runs, it.face, it.link, piece, w);
                    }
                }
                Kind::Glue if !it.fill => push(
                    &mut runs,
                    it.face,
                    it.link,
                    " ",
                    it.width + word_spacing + letter_spacing,
                ),
                _ => {}
            }
        }
        if brk.hyphen {
            let link = runs.last().and_then(|r| r.link);
            push(&mut runs, brk.face, link, "-", brk.width + letter_spacing);
        }
        // Lines that are justified end exactly at the measure; say so without the
        // rounding noise of the running sum.
        let width = if justify || shrink_last { measure } else { x };
        lines.push(SetLine {
            runs,
            width,
            word_spacing,
            letter_spacing,
            justified: justify,
        });
        // Skip the discardable items after the break.
        start = b + 1;
        while start < items.len() && items[start].kind != Kind::Box {
            if items[start].kind == Kind::Penalty && items[start].penalty <= -INFINITE_PENALTY {
                break;
            }
            start += 1;
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyphenation::{Language, Load};

    fn fonts() -> Fonts {
        Fonts::embedded().unwrap()
    }

    fn style(measure: f32, align: Align) -> ParaStyle {
        ParaStyle {
            size: 11.0,
            measure,
            align,
            hyphenate: false,
        }
    }

    const PROSE: &str = "The Processor shall process Personal Data only on documented \
        instructions from the Controller, including with regard to transfers of personal \
        data to a third country or an international organisation, unless required to do so \
        by Union or Member State law to which the Processor is subject; in such a case, the \
        Processor shall inform the Controller of that legal requirement before processing.";

    #[test]
    fn justified_lines_fill_the_measure_and_keep_every_word() {
        let f = fonts();
        let lines =
            set_paragraph(&[Run::plain(PROSE)], style(300.0, Align::Justify), &f, None).unwrap();
        assert!(lines.len() > 3);
        for l in &lines[..lines.len() - 1] {
            assert!(l.justified);
            let end = l.runs.last().map(|r| r.x + r.width).unwrap();
            assert!((end - 300.0).abs() < 0.01, "line ends at {end}");
            // Spaces never shrink below two thirds nor grow past three times normal.
            assert!(l.word_spacing > -2.75 / 3.0 - 1e-9 && l.word_spacing < 2.75 * 2.0);
        }
        assert!(!lines.last().unwrap().justified);
        let rebuilt: Vec<String> = lines
            .iter()
            .map(|l| l.runs.iter().map(|r| r.text.as_str()).collect())
            .collect();
        assert_eq!(rebuilt.join(" "), PROSE);
    }

    #[test]
    fn total_fit_beats_greedy_on_the_loosest_line() {
        let f = fonts();
        let st = style(250.0, Align::Justify);
        let lines = set_paragraph(&[Run::plain(PROSE)], st, &f, None).unwrap();
        let worst_kp = lines[..lines.len() - 1]
            .iter()
            .map(|l| l.word_spacing)
            .fold(f64::MIN, f64::max);
        // A greedy first-fit over the same words, for comparison.
        let space = f.advance(Face::Regular, ' ') as f64 * 0.011;
        let words: Vec<f64> = PROSE
            .split(' ')
            .map(|w| {
                w.chars()
                    .map(|c| f.advance(Face::Regular, c) as f64 * 0.011)
                    .sum()
            })
            .collect();
        let mut worst_greedy = f64::MIN;
        let (mut width, mut count) = (0.0, 0usize);
        for (i, w) in words.iter().enumerate() {
            let with = if count == 0 { *w } else { width + space + w };
            if with > 250.0 && count > 0 {
                worst_greedy = worst_greedy.max((250.0 - width) / (count - 1) as f64);
                width = *w;
                count = 1;
            } else {
                width = with;
                count += 1;
            }
            let _ = i;
        }
        assert!(
            worst_kp <= worst_greedy + 1e-9,
            "{worst_kp} vs {worst_greedy}"
        );
    }

    #[test]
    fn styles_become_separate_runs_and_spaces_stay_in_text() {
        let f = fonts();
        let runs = [
            Run::plain("The "),
            Run::styled("Controller", Style::Bold),
            Run::plain(" and the "),
            Run::styled("Processor", Style::Italic),
            Run::plain("."),
        ];
        let lines = set_paragraph(&runs, style(400.0, Align::Justify), &f, None).unwrap();
        assert_eq!(lines.len(), 1);
        let faces: Vec<Face> = lines[0].runs.iter().map(|r| r.face).collect();
        assert_eq!(
            faces,
            [
                Face::Regular,
                Face::Bold,
                Face::Regular,
                Face::Italic,
                Face::Regular
            ]
        );
        let text: String = lines[0].runs.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(text, "The Controller and the Processor.");
    }

    #[test]
    fn long_tokens_break_anywhere_instead_of_overflowing() {
        let f = fonts();
        let hex = "3F2A19C0".repeat(12);
        let lines = set_paragraph(
            &[Run::plain(hex.as_str())],
            style(80.0, Align::Left),
            &f,
            None,
        )
        .unwrap();
        assert!(lines.len() > 3);
        for l in lines.iter() {
            assert!(l.width <= 80.0 + 1e-9);
        }
        let joined: String = lines
            .iter()
            .flat_map(|l| l.runs.iter())
            .map(|r| r.text.as_str())
            .collect();
        assert_eq!(joined, hex);
    }

    #[test]
    fn hyphenation_adds_a_hyphen_only_at_the_break() {
        let f = fonts();
        let h = Standard::from_embedded(Language::EnglishUS).unwrap();
        let mut st = style(120.0, Align::Justify);
        st.hyphenate = true;
        let text = "notwithstanding confidentiality obligations, subprocessors' \
                    responsibilities and indemnification";
        let lines = set_paragraph(&[Run::plain(text)], st, &f, Some(&h)).unwrap();
        let joined: Vec<String> = lines
            .iter()
            .map(|l| l.runs.iter().map(|r| r.text.as_str()).collect())
            .collect();
        assert!(joined.iter().any(|l| l.ends_with('-')), "{joined:?}");
        let unhyphenated = joined
            .iter()
            .map(|l| {
                l.strip_suffix('-')
                    .map(str::to_owned)
                    .unwrap_or(format!("{l} "))
            })
            .collect::<String>();
        assert_eq!(unhyphenated.trim_end(), text);
    }

    #[test]
    fn invisible_marks_measure_and_draw_as_nothing() {
        let f = fonts();
        let lines = set_paragraph(
            &[Run::plain(
                "sub\u{2060}processor data\u{200B}protection re\u{AD}cords",
            )],
            style(400.0, Align::Justify),
            &f,
            None,
        )
        .unwrap();
        let text: String = lines[0].runs.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(text, "subprocessor dataprotection records");
        let plain = set_paragraph(
            &[Run::plain("subprocessor dataprotection records")],
            style(400.0, Align::Justify),
            &f,
            None,
        )
        .unwrap();
        assert!((lines[0].width - plain[0].width).abs() < 1e-9);
    }

    #[test]
    fn lines_end_after_a_hyphen_minus_only_as_a_last_resort() {
        let f = fonts();
        let text = "notice within forty-eight hours by e-mail to the well-known \
                    follow-up contact of the third-party subprocessor, twenty-four by seven";
        for measure in [90.0, 120.0, 150.0, 200.0] {
            let lines =
                set_paragraph(&[Run::plain(text)], style(measure, Align::Left), &f, None).unwrap();
            for l in lines.iter() {
                let t: String = l.runs.iter().map(|r| r.text.as_str()).collect();
                assert!(!t.ends_with('-'), "{measure}: {t:?}");
            }
        }
        // A column too narrow for "forty-eight" breaks at its hyphen, not past the edge.
        let lines = set_paragraph(
            &[Run::plain("forty-eight")],
            style(35.0, Align::Left),
            &f,
            None,
        )
        .unwrap();
        let texts: Vec<String> = lines
            .iter()
            .map(|l| l.runs.iter().map(|r| r.text.as_str()).collect())
            .collect();
        assert_eq!(texts, ["forty-", "eight"]);
    }

    #[test]
    fn hard_breaks_end_a_ragged_line() {
        let f = fonts();
        let lines = set_paragraph(
            &[Run::plain("Attn: Legal Department\nKönigstraße 12")],
            style(400.0, Align::Justify),
            &f,
            None,
        )
        .unwrap();
        assert_eq!(lines.len(), 2);
        assert!(!lines[0].justified);
        assert_eq!(lines[1].runs[0].text, "Königstraße 12");
    }

    /// Sets each variant with the memo tables on, one after the other (so a key that
    /// missed something would hand a later variant an earlier one's lines), and compares
    /// each with the same paragraph set with the tables off.
    fn memo_matches_uncached(variants: &[(Vec<Run>, ParaStyle, &Fonts, Option<&Standard>)]) {
        cache::set_enabled(Some(true));
        let cached: Vec<SetLines> = variants
            .iter()
            .map(|(runs, st, f, h)| set_paragraph(runs, *st, f, *h).unwrap())
            .collect();
        // Asked again, the table answers with the same lines (nothing recomputed).
        for ((runs, st, f, h), first) in variants.iter().zip(&cached) {
            let again = set_paragraph(runs, *st, f, *h).unwrap();
            assert!(
                Arc::ptr_eq(first, &again),
                "{runs:?} at {st:?} was set again"
            );
        }
        cache::set_enabled(Some(false));
        for ((runs, st, f, h), got) in variants.iter().zip(&cached) {
            let want = set_paragraph(runs, *st, f, *h).unwrap();
            assert_eq!(**got, *want, "{runs:?} at {st:?}");
        }
        cache::set_enabled(None);
    }

    #[test]
    fn memo_keys_on_width_size_alignment_and_hyphenation() {
        let f = fonts();
        let h = Standard::from_embedded(Language::EnglishUS).unwrap();
        let runs = vec![Run::plain(PROSE)];
        let mut variants = Vec::new();
        for measure in [300.0, 200.0, 120.0] {
            for size in [11.0, 9.5] {
                for align in [Align::Justify, Align::Left] {
                    for hyphenate in [false, true] {
                        let st = ParaStyle {
                            size,
                            measure,
                            align,
                            hyphenate,
                        };
                        variants.push((runs.clone(), st, &f, Some(&h)));
                    }
                }
            }
        }
        // Hyphenation asked for, but no patterns.
        let mut st = style(120.0, Align::Justify);
        st.hyphenate = true;
        variants.push((runs.clone(), st, &f, None));
        memo_matches_uncached(&variants);
    }

    #[test]
    fn memo_keys_on_styles_links_and_run_boundaries() {
        let f = fonts();
        let st = style(200.0, Align::Justify);
        let split = |a: &str, b: &str, style: Style, link: Option<&str>| {
            vec![
                Run::plain(a),
                Run {
                    text: b.to_owned(),
                    style,
                    link: link.map(str::to_owned),
                },
            ]
        };
        let variants: Vec<_> = [
            split(
                "The Processor shall ",
                "notify the Controller",
                Style::Regular,
                None,
            ),
            split(
                "The Processor shall ",
                "notify the Controller",
                Style::Bold,
                None,
            ),
            split(
                "The Processor shall ",
                "notify the Controller",
                Style::Italic,
                None,
            ),
            split(
                "The Processor shall notify ",
                "the Controller",
                Style::Bold,
                None,
            ),
            split(
                "The Processor shall ",
                "notify the Controller",
                Style::Regular,
                Some("https://example.com/a"),
            ),
            split(
                "The Processor shall ",
                "notify the Controller",
                Style::Regular,
                Some("https://example.com/b"),
            ),
            split(
                "The Processor shall ",
                "notify the Controller",
                Style::Regular,
                Some(""),
            ),
        ]
        .into_iter()
        .map(|runs| (runs, st, &f, None))
        .collect();
        memo_matches_uncached(&variants);
        // The keys themselves: where one run ends and the next begins, and an empty link
        // against none, are told apart.
        let a = content_key(&split("ab", "c", Style::Regular, None));
        let b = content_key(&split("a", "bc", Style::Regular, None));
        let c = content_key(&split("a", "bc", Style::Regular, Some("")));
        assert!(a != b && b != c && a != c);
    }

    #[test]
    fn a_content_digest_collision_is_not_a_hit() {
        cache::set_enabled(Some(true));
        let f = fonts();
        let st = style(150.0, Align::Justify);
        let runs = [Run::plain("The Processor shall notify the Controller.")];
        let real = content_key(&runs);
        // Another paragraph's lines planted under this paragraph's digest: a lookup by
        // digest alone would hand them out.
        let impostor = Content {
            digest: real.digest,
            bytes: content_bytes(&[Run::plain("Something else entirely.")]),
        };
        assert!(impostor != real);
        let planted =
            set_paragraph(&[Run::plain("Something else entirely.")], st, &f, None).unwrap();
        SET.with(|m| {
            m.borrow_mut().store(
                SetKey {
                    content: impostor,
                    size: st.size.to_bits(),
                    measure: st.measure.to_bits(),
                    align: st.align,
                    patterns: None,
                    fonts: f.id(),
                },
                planted.clone(),
            )
        });
        let got = set_paragraph(&runs, st, &f, None).unwrap();
        assert!(!Arc::ptr_eq(&got, &planted));
        cache::set_enabled(None);
    }

    #[test]
    fn hyphenating_pass_measures_every_box_and_keeps_every_point() {
        // Words that fit and have no hyphenation point are measured the quick way in the
        // hyphenating pass too: every box must still be its glyphs' face and width, and
        // every point the patterns allow must be a hyphen penalty.
        let f = fonts();
        let h = Standard::from_embedded(Language::EnglishUS).unwrap();
        let mut st = style(120.0, Align::Justify);
        st.hyphenate = true;
        let runs = vec![
            Run::plain("Notwithstanding the confidentiality obligations, Zakłady Łódź "),
            Run {
                style: Style::Bold,
                ..Run::plain("subpro")
            },
            Run::plain("cessors’ indemnification in Ångström ≥ 5 € and 27001:2022 "),
            Run {
                link: Some("https://example.com/x".into()),
                ..Run::plain("responsibilities")
            },
            Run::plain(" care\u{AD}fully, ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOPQRSTUVWXYZ."),
        ];
        let text = Text::new(&runs);
        let items = build_items(&text, st, &f, Some(&h), None).unwrap();
        let scale = st.size as f64 / 1000.0;
        let mut hyphens = Vec::new();
        for (i, it) in items.iter().enumerate() {
            match it.kind {
                Kind::Box => {
                    let mut units = 0u64;
                    for (j, c) in text.text[it.start..it.end].char_indices() {
                        if is_control(c) {
                            continue;
                        }
                        let g = f.glyph(c, text.style_at(it.start + j)).unwrap();
                        assert_eq!(g.face, it.face, "{:?}", &text.text[it.start..it.end]);
                        units += g.advance as u64;
                    }
                    assert_eq!(it.width, units as f64 * scale);
                    assert_eq!(it.link, text.link_at(it.start));
                }
                Kind::Penalty if it.hyphen && it.penalty == HYPHEN_PENALTY => {
                    if let Some(next) = items.get(i + 1).filter(|n| n.kind == Kind::Box) {
                        hyphens.push(next.start);
                    }
                }
                _ => {}
            }
        }
        // The points the patterns give for the words that may be hyphenated.
        let mut expected = Vec::new();
        for word in ["confidentiality", "obligations", "indemnification"] {
            let at = text.text.find(word).unwrap();
            let mut points = Vec::new();
            word_hyphenation_points(word, &h, &mut points);
            expected.extend(points.into_iter().map(|p| at + p));
        }
        assert!(!expected.is_empty());
        for p in &expected {
            assert!(hyphens.contains(p), "no hyphen at {p}: {hyphens:?}");
        }
        // Capitalised words, links and codes are never hyphenated.
        for word in ["Notwithstanding", "responsibilities", "27001:2022"] {
            let at = text.text.find(word).unwrap();
            assert!(
                !hyphens.iter().any(|&p| p > at && p < at + word.len()),
                "{word} hyphenated: {hyphens:?}"
            );
        }
    }

    #[test]
    fn hyphenating_from_the_plain_list_gives_the_full_rebuild() {
        // The hyphenating pass reuses the plain items of words that cannot change: the
        // list must be item for item what building it again with the patterns gives.
        let f = fonts();
        let h = Standard::from_embedded(Language::EnglishUS).unwrap();
        let paragraphs = vec![
            vec![Run::plain(PROSE)],
            vec![
                Run::plain("Notwithstanding the confidentiality obligations, Zakłady Łódź "),
                Run::styled("subpro", Style::Bold),
                Run::plain("cessors’ indemnification in Ångström € 180 and 27001:2022 "),
                Run {
                    link: Some("mailto:privacy@example.com".into()),
                    ..Run::plain("privacy@example.com responsibilities")
                },
                Run::plain(" care\u{AD}fully, notwithstanding\u{2060}-\nextraordinarily "),
                Run::plain("clause \u{2060}6.3 of the Agreement and pseudonymisation."),
            ],
        ];
        let mut compared = 0;
        for runs in &paragraphs {
            for align in [Align::Justify, Align::Left] {
                let p = prepare_uncached(runs, 11.0, align, &f, Content::none()).unwrap();
                for measure in [90.0, 140.0, 250.0, 400.0] {
                    let mut st = style(measure, align);
                    st.hyphenate = true;
                    if p.widest > measure as f64 {
                        continue;
                    }
                    let reused = hyphenate_items(&p, st, &f, &h).unwrap();
                    let rebuilt = build_items(&p.text, st, &f, Some(&h), None).unwrap();
                    assert_eq!(
                        format!("{reused:?}"),
                        format!("{rebuilt:?}"),
                        "{align:?} at {measure}"
                    );
                    assert!(reused.len() > p.plain.len(), "no hyphenation point added");
                    compared += 1;
                }
            }
        }
        assert!(compared >= 8, "{compared}");
    }

    #[test]
    fn only_words_with_a_long_lowercase_run_go_to_the_patterns() {
        let h = Standard::from_embedded(Language::EnglishUS).unwrap();
        for word in [
            "indemnification",
            "Processor",
            "sub-processors",
            "data",
            "e-mail",
            "O’Brien’s",
            "re-establishment",
            "Zakłady",
            "przemysłowe",
            "ABCDEFGHIJ",
            "",
            "27001",
        ] {
            let mut points = Vec::new();
            word_hyphenation_points(word, &h, &mut points);
            if !has_hyphenatable_run(word) {
                assert!(points.is_empty(), "{word}: {points:?}");
            }
        }
        assert!(has_hyphenatable_run("re-establishment"));
        assert!(!has_hyphenatable_run("Processors"));
        assert!(!has_hyphenatable_run("data-sets"));
    }

    #[test]
    fn memo_keys_on_the_fonts_instance_and_prepared_cells() {
        let (f1, f2) = (fonts(), fonts());
        assert_ne!(f1.id(), f2.id());
        let st = style(150.0, Align::Left);
        cache::set_enabled(Some(true));
        let runs = [Run::plain(PROSE)];
        let one = set_paragraph(&runs, st, &f1, None).unwrap();
        let two = set_paragraph(&runs, st, &f2, None).unwrap();
        assert!(
            !Arc::ptr_eq(&one, &two),
            "lines set with other fonts were reused"
        );
        // A cell measured once and set at two widths gets each width's lines, the same
        // as a paragraph set directly.
        let cell = prepare(&runs, 11.0, Align::Left, &f1).unwrap();
        assert!(Arc::ptr_eq(
            &cell,
            &prepare(&runs, 11.0, Align::Left, &f1).unwrap()
        ));
        let wide = set_prepared(&cell, style(300.0, Align::Left), &f1, None).unwrap();
        let narrow = set_prepared(&cell, style(100.0, Align::Left), &f1, None).unwrap();
        assert!(wide.len() < narrow.len());
        assert!(Arc::ptr_eq(
            &one,
            &set_prepared(&cell, st, &f1, None).unwrap()
        ));
        cache::set_enabled(Some(false));
        assert_eq!(
            *narrow,
            *set_paragraph(&runs, style(100.0, Align::Left), &f1, None).unwrap()
        );
        cache::set_enabled(None);
    }

    #[test]
    fn missing_glyph_names_the_character_and_its_context() {
        let f = fonts();
        let err = set_paragraph(
            &[Run::plain("Signed for 北京 Ltd by the director")],
            style(400.0, Align::Justify),
            &f,
            None,
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("U+5317 '北'"), "{msg}");
        assert!(msg.contains("Signed for 北京 Ltd"), "{msg}");
    }
}
