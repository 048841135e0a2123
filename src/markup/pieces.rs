//! Memoised parsing: Markdown cut into pieces that parse alone, each piece's blocks kept.
//!
//! In: the Markdown a template rendered (and the signature block). Out: its blocks, the
//! same as `parse_whole` gives, or `None` when this way does not apply (then the caller
//! parses the whole text, which also gives any error with its line).
//!
//! Nearly all of a DPA's Markdown is the same for every customer, so a piece whose text
//! was seen before on this thread takes its blocks from a memo table instead of being
//! parsed again. That is exact only if a piece parses alone as it does in place. A piece
//! starts at a line that begins in column 0 after a blank line; there CommonMark (with
//! tables, the only extension `parse` enables) has closed every paragraph, table, block
//! quote, indented code block and HTML block of types 6 and 7. What can stay open across
//! a blank line, and how each is ruled out:
//! - a list, continued by a new item: no cut before a list-marker line when the piece
//!   before it has a list-marker line anywhere;
//! - a fenced code block and an HTML block of types 1 to 5 (`<pre`, `<script`, `<style`,
//!   `<textarea`, `<!--`, `<?`, `<!X`, `<![CDATA[`): no piece at all when the text holds a
//!   fence, or such an opening other than a comment closed on its own line (as the
//!   template's directives are);
//! - link reference definitions, which act on the whole text: no pieces when `]:` occurs;
//! - a carriage return would make lines this module does not count: no pieces either;
//! - the builder's own state: a widths directive waiting for its table beyond a cut, or
//!   anything else left open there, sends the text to the whole parse.
//!
//! A piece holding the signatures directive depends on the signature block, so it is
//! parsed each time, never stored. A piece is stored the second time its text is met
//! (a digest of each new piece is kept), so what one customer brought (a clause with its
//! address) never takes room in the table, however long it is. Pieces not in the table are parsed together, one
//! parser for each run of consecutive misses, and their blocks shared out by where each
//! top-level block starts.

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use memchr::memmem;
use pulldown_cmark::{Event, Parser};
use xxhash_rust::xxh3::xxh3_64;

use super::{Builder, OPTIONS};
use crate::cache::Memo;
use crate::document::{Block, SignatureBlock};

// A DPA cuts into 104-129 pieces, a change notice into 18; a customer brings about six
// of its own, which are never stored (see `seen_before`).
const CAPACITY: usize = 256;

// Digests of pieces met once: a customer's six, for about 170 customers.
const SEEN_CAPACITY: usize = 1024;

thread_local! {
    static WARM: Cell<bool> = const { Cell::new(false) };
    static PIECES: RefCell<Memo<Box<str>, Arc<[Block]>>> = RefCell::new(Memo::new(CAPACITY));
    static SEEN: RefCell<Memo<u64, ()>> = RefCell::new(Memo::new(SEEN_CAPACITY));
}

/// Whether this thread has parsed a document before (and from now on, has): the first
/// is parsed whole, since a process that makes one document (`dpa generate`) would only
/// pay for cutting and storing pieces nobody asks for again.
pub(super) fn warm() -> bool {
    WARM.replace(true)
}

/// The blocks of `markdown` from its memoised pieces, or `None` when it cannot be cut
/// exactly or has an error.
pub(super) fn parse(markdown: &str, signatures: Option<&SignatureBlock>) -> Option<Vec<Block>> {
    let starts = cuts(markdown)?;
    let end = |i: usize| starts.get(i + 1).copied().unwrap_or(markdown.len());
    let piece = |i: usize| &markdown[starts[i]..end(i)];
    let found: Vec<Option<Arc<[Block]>>> = (0..starts.len())
        .map(|i| {
            let text = piece(i);
            storable(text)
                .then(|| PIECES.with_borrow_mut(|m| m.lookup(text)))
                .flatten()
        })
        .collect();
    let mut root = Vec::new();
    let mut i = 0;
    while i < starts.len() {
        if let Some(blocks) = &found[i] {
            root.extend(blocks.iter().cloned());
            i += 1;
            continue;
        }
        let j = (i..starts.len())
            .find(|&j| found[j].is_some())
            .unwrap_or(starts.len());
        let base = starts[i];
        let inner: Vec<usize> = starts[i + 1..j].iter().map(|s| s - base).collect();
        let parsed = parse_run(&markdown[base..end(j - 1)], &inner, signatures)?;
        for (k, blocks) in (i..j).zip(parsed) {
            let text = piece(k);
            if storable(text) && seen_before(text) {
                let blocks: Arc<[Block]> = blocks.into();
                root.extend(blocks.iter().cloned());
                PIECES.with_borrow_mut(|m| m.store(text.into(), blocks));
            } else {
                root.extend(blocks);
            }
        }
        i = j;
    }
    Some(root)
}

/// Whether this thread met a piece with this text before (by a 64-bit digest: a
/// collision only stores a piece early); notes it if not.
fn seen_before(piece: &str) -> bool {
    let digest = xxh3_64(piece.as_bytes());
    SEEN.with_borrow_mut(|m| {
        let seen = m.lookup(&digest).is_some();
        if !seen {
            m.store(digest, ());
        }
        seen
    })
}

/// Whether a piece's blocks depend on its text alone (not on the signature block).
fn storable(piece: &str) -> bool {
    !(piece.contains("<!--") && piece.contains("signatures"))
}

/// Parses `text`, consecutive pieces that start at `inner` (offsets in `text`, after the
/// first piece's at 0), into each piece's blocks; `None` on an error or when the builder
/// is not at rest at a cut.
fn parse_run(
    text: &str,
    inner: &[usize],
    signatures: Option<&SignatureBlock>,
) -> Option<Vec<Vec<Block>>> {
    let mut b = Builder::new(signatures);
    // Lines are only for errors, and an error sends the text to the whole parse.
    b.line = 0;
    // Where each piece after the first starts in the builder's blocks.
    let mut marks = Vec::with_capacity(inner.len());
    let mut depth = 0usize;
    for (event, range) in Parser::new_ext(text, OPTIONS).into_offset_iter() {
        while marks.len() < inner.len() && range.start >= inner[marks.len()] {
            // A block that reaches over a cut: the cuts' rules missed something.
            if depth > 0 || !b.at_rest() {
                return None;
            }
            marks.push(b.root.len());
        }
        match event {
            Event::Start(_) => depth += 1,
            Event::End(_) => depth = depth.saturating_sub(1),
            _ => {}
        }
        b.event(event).ok()?;
    }
    b.flush_inline();
    if !b.at_rest() {
        return None;
    }
    marks.resize(inner.len(), b.root.len());
    let mut blocks = b.root.into_iter();
    let mut out = Vec::with_capacity(inner.len() + 1);
    let mut taken = 0;
    for mark in marks {
        out.push(blocks.by_ref().take(mark - taken).collect());
        taken = mark;
    }
    out.push(blocks.collect());
    Some(out)
}

/// Where `markdown`'s pieces start (the first at 0), or `None` when something in it can
/// reach across a blank line in a way a cut cannot see (see the module's notes).
fn cuts(markdown: &str) -> Option<Vec<usize>> {
    let bytes = markdown.as_bytes();
    if memchr::memchr(b'\r', bytes).is_some()
        || memmem::find(bytes, b"]:").is_some()
        || memmem::find(bytes, b"```").is_some()
        || memmem::find(bytes, b"~~~").is_some()
        || !html_closes_on_its_line(bytes)
    {
        return None;
    }
    let mut starts = vec![0];
    // Whether the piece being read has a line that may open or continue a list.
    let mut list = false;
    let mut blank_before = false;
    let mut at = 0;
    while at < bytes.len() {
        let eol = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |i| at + i);
        let line = &bytes[at..eol];
        let blank = line.iter().all(|&c| c == b' ' || c == b'\t');
        let marker = list_marker(line);
        if at > 0 && blank_before && !blank && !line[0].is_ascii_whitespace() && !(marker && list) {
            starts.push(at);
            list = false;
        }
        list |= marker;
        blank_before = blank;
        at = eol + 1;
    }
    Some(starts)
}

/// Whether `line`, after its indentation, begins like a list item (`-`, `+`, `*` or a
/// number with `.` or `)`, then whitespace or the end); a thematic break such as `- - -`
/// counts too, which only means one cut fewer.
fn list_marker(line: &[u8]) -> bool {
    let rest = line.trim_ascii_start();
    let after = match rest.first() {
        Some(b'-' | b'+' | b'*') => 1,
        Some(c) if c.is_ascii_digit() => {
            let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
            match rest.get(digits) {
                Some(b'.' | b')') => digits + 1,
                _ => return false,
            }
        }
        _ => return false,
    };
    rest.get(after).is_none_or(|c| c.is_ascii_whitespace())
}

/// Whether no HTML block of types 1 to 5 can run past its first line: every `<!--` has
/// `-->` after it on its line, and no other opening of those types occurs at all.
fn html_closes_on_its_line(bytes: &[u8]) -> bool {
    const RAW: [&[u8]; 4] = [b"pre", b"style", b"script", b"textarea"];
    memchr::memchr_iter(b'<', bytes).all(|at| {
        let rest = &bytes[at + 1..];
        if rest.starts_with(b"!--") {
            let line = &rest[3..];
            let line = &line[..memchr::memchr(b'\n', line).unwrap_or(line.len())];
            return memmem::find(line, b"-->").is_some();
        }
        let raw = RAW.iter().any(|tag| {
            rest.get(..tag.len())
                .is_some_and(|r| r.eq_ignore_ascii_case(tag))
        });
        !(raw || rest.starts_with(b"!") || rest.starts_with(b"?"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache;
    use crate::markup::tests::signatures_for as signatures;

    /// `markdown` parsed with the memo table (three times: noting its pieces, storing
    /// them, taking them from the table) and without; all must agree, errors included. Where each piece parses alone
    /// without an error, the pieces' blocks one after the other are the whole's.
    fn same_as_whole(markdown: &str, sig: Option<&SignatureBlock>) {
        cache::set_enabled(Some(false));
        let whole = super::super::parse(markdown, sig);
        let alone: Option<Result<Vec<Block>, _>> = pieces(markdown).map(|pieces| {
            pieces
                .iter()
                .map(|p| super::super::parse_whole(p, sig))
                .collect::<Result<Vec<_>, _>>()
                .map(|p| p.concat())
        });
        if let (Ok(whole), Some(Ok(alone))) = (&whole, alone) {
            assert_eq!(&alone, whole, "pieces of {markdown:?} parsed alone");
        }
        cache::set_enabled(Some(true));
        // The thread's first parse is whole; the next stores the pieces.
        WARM.set(true);
        let first = super::super::parse(markdown, sig);
        let second = super::super::parse(markdown, sig);
        let third = super::super::parse(markdown, sig);
        cache::set_enabled(None);
        assert_eq!(first, whole, "first parse of {markdown:?}");
        assert_eq!(second, whole, "second parse of {markdown:?}");
        assert_eq!(third, whole, "memoised parse of {markdown:?}");
    }

    fn pieces(markdown: &str) -> Option<Vec<&str>> {
        let starts = cuts(markdown)?;
        let ends = starts.iter().skip(1).copied().chain([markdown.len()]);
        Some(
            starts
                .iter()
                .zip(ends)
                .map(|(&s, e)| &markdown[s..e])
                .collect(),
        )
    }

    #[test]
    fn cuts_at_blank_lines_before_column_zero() {
        let md = "# Title\n\nOne\nline two\n\n  indented\n\nThree\n";
        assert_eq!(
            pieces(md).unwrap(),
            ["# Title\n\n", "One\nline two\n\n  indented\n\n", "Three\n"]
        );
    }

    #[test]
    fn lists_are_never_cut_between_items() {
        let md = "Intro:\n\n1. a\n\n2. b\n\n   more b\n\n- c\n\n- d\n\nAfter\n\n- e\n";
        assert_eq!(
            pieces(md).unwrap(),
            [
                "Intro:\n\n",
                "1. a\n\n2. b\n\n   more b\n\n- c\n\n- d\n\n",
                "After\n\n",
                "- e\n"
            ]
        );
        // A list that interrupts a paragraph still holds the piece together.
        assert_eq!(
            pieces("Text\n- a\n\n- b\n").unwrap(),
            ["Text\n- a\n\n- b\n"]
        );
        // A lazy continuation line belongs to the item before it.
        assert_eq!(
            pieces("- a\nlazy\n\n- b\n").unwrap(),
            ["- a\nlazy\n\n- b\n"]
        );
    }

    #[test]
    fn what_spans_blank_lines_turns_the_pieces_off() {
        for md in [
            "a\n\n```\ncode\n\nmore\n```\n",
            "a\n\n~~~\ncode\n\n~~~\n",
            "[x]: https://x.example\n\nSee [x].\n",
            "<!-- open\n\nstill a comment -->\n",
            "<pre>\n\ntext\n</pre>\n",
            "<?php\n\n?>\n",
            "<!DOCTYPE html>\n",
            "<![CDATA[\n\n]]>\n",
            "a\r\n\r\nb\r\n",
        ] {
            assert_eq!(pieces(md), None, "{md:?}");
        }
        assert!(pieces("<!-- pagebreak -->\n\n<div>\n\nx\n").is_some());
    }

    #[test]
    fn tricky_markdown_parses_as_a_whole() {
        let sig = signatures("C GmbH");
        for md in [
            "# One\n\n## Two *it*\n\n#### Four\n\nPlain **bold** *italic*\nNext line.\n",
            "Setext\n===\n\nPara\n---\n\n***\n\n- - -\n\nafter\n",
            "1. a\n\n2. b\n   - sub\n\n     sub para\n\nPara\n\n3. c\n\n- d\n+ e\n",
            "- a\nlazy line\n\n- b\n\nOut\n\n10) ten\n\n11) eleven\n",
            "> quote\n\n> another\n\n>lazy\nstill\n\nEnd\n",
            "Intro\n\n<!-- widths: 2 1 -->\n| a | b |\n|---|---|\n| 1 | 2 |\n\nAfter\n",
            "Intro\n\n<!-- widths: 2 1 -->\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
            "<!-- widths: 2 1 -->\n\nNo table\n",
            "<!-- widths: 1 1 1 -->\n| a | b |\n|---|---|\n",
            "| a | b |\n|---|---|\n| 1 | 2 |\nrow?\n\nNext\n",
            "<div>\nraw <b>html</b>\n\nafter</div>\n\n<!-- pagebreak -->\n\nText\n",
            "Text\n\n<!-- TODO -->\n\nMore\n",
            "Text <!-- inline --> here\n\n<!-- pagebreak --> trailing\n",
            "    code\n\n    more code\n\nPara\n",
            "## Signatures\n\n<!-- signatures -->\n\n<!-- pagebreak -->\n\n# Annex\n",
            "- item\n\n  <!-- pagebreak -->\n",
            "1. a\n   - b\n     - c\n",
            "See [a](https://a.example) and <https://b.example>.\n\n[text][ref]\n",
            "Hard\\\nbreak and \"quotes\" 'here'\n\n\"Quoted\" start\n",
            "\n\n\nLeading blanks\n\n\n\nTrailing\n\n\n",
            "",
        ] {
            same_as_whole(md, Some(&sig));
            same_as_whole(md, None);
        }
    }

    #[test]
    fn the_signature_block_is_never_taken_from_the_table() {
        let md = "Text\n\n<!-- signatures -->\n\nEnd\n";
        cache::set_enabled(Some(true));
        WARM.set(true);
        let a = super::super::parse(md, Some(&signatures("A GmbH"))).unwrap();
        assert_eq!(
            super::super::parse(md, Some(&signatures("A GmbH"))),
            Ok(a.clone())
        );
        let b = super::super::parse(md, Some(&signatures("B GmbH"))).unwrap();
        cache::set_enabled(None);
        assert_ne!(a, b);
        same_as_whole(md, Some(&signatures("B GmbH")));
    }

    /// Every fixture vendor × customer DPA and SegMetrics' change notices, as the shipped
    /// templates render them: (Markdown, signature block).
    fn fixture_documents() -> Vec<(String, Option<SignatureBlock>)> {
        use crate::compose::{Composer, Kind, NoticeInputs, signature_block};
        use crate::template::{SigningInfo, TemplateFile};
        let dir = env!("CARGO_MANIFEST_DIR");
        let template = |name: &str| {
            TemplateFile::read(std::path::Path::new(&format!("{dir}/templates/{name}"))).unwrap()
        };
        let mut customers: Vec<_> = std::fs::read_dir(format!("{dir}/fixtures/customers"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        customers.sort();
        let signing = |issued| SigningInfo {
            key_id: "4A988A749CF5D816".into(),
            issued,
            verify_hint: "Check this document with dpa verify.".into(),
        };
        let mut out = Vec::new();
        for vendor in ["segmetrics", "postgres-ai", "caplena", "eea-only"] {
            let v = crate::load::vendor(format!("{dir}/fixtures/{vendor}/vendor.toml")).unwrap();
            let annex = crate::load::annex(format!("{dir}/fixtures/{vendor}/annex.toml")).unwrap();
            let notice = (vendor == "segmetrics").then(|| {
                let next =
                    crate::load::annex(format!("{dir}/fixtures/{vendor}/annex-next.toml")).unwrap();
                let date = chrono::NaiveDate::from_ymd_opt(2026, 6, 10).unwrap();
                let inputs =
                    NoticeInputs::new(template("notice.md.hbs"), annex.clone(), &next, date);
                (next, inputs.unwrap())
            });
            let composer = Composer::new(v.clone(), annex.clone(), template("dpa.md.hbs"), None);
            let composer = composer.unwrap();
            for path in &customers {
                let Ok(customer) = crate::load::customer_for(path, &annex) else {
                    continue;
                };
                let s = signing(customer.effective);
                let md = composer.markdown(Kind::Dpa, &customer, &s).unwrap();
                out.push((md, Some(signature_block(&v, &customer, &s))));
            }
            if let Some((next, inputs)) = notice {
                let composer =
                    Composer::new(v, next.clone(), template("dpa.md.hbs"), Some(inputs)).unwrap();
                for path in &customers {
                    let Ok(customer) = crate::load::customer_for(path, &next) else {
                        continue;
                    };
                    let s = signing(customer.effective);
                    out.push((
                        composer.markdown(Kind::Notice, &customer, &s).unwrap(),
                        None,
                    ));
                    let dpa = composer.markdown(Kind::Dpa, &customer, &s).unwrap();
                    let sig = signature_block(composer.vendor(), &customer, &s);
                    out.push((dpa, Some(sig)));
                }
            }
        }
        out
    }

    #[test]
    fn every_fixture_document_has_the_same_blocks_from_its_pieces() {
        let docs = fixture_documents();
        assert!(docs.len() >= 30, "{} documents", docs.len());
        for (md, sig) in &docs {
            // The shipped templates must cut into many pieces, or little is memoised (a DPA
            // cuts into 100-130, a notice into 18).
            let n = cuts(md).map_or(0, |c| c.len());
            assert!(n >= 15, "{n} pieces in {md}");
            same_as_whole(md, sig.as_ref());
        }
        // One after the other on one thread, as a batch makes them: later documents take
        // most of their pieces from what earlier ones left.
        cache::set_enabled(Some(true));
        let memoised: Vec<_> = docs
            .iter()
            .map(|(md, sig)| super::super::parse(md, sig.as_ref()))
            .collect();
        cache::set_enabled(Some(false));
        let whole: Vec<_> = docs
            .iter()
            .map(|(md, sig)| super::super::parse(md, sig.as_ref()))
            .collect();
        cache::set_enabled(None);
        assert_eq!(memoised, whole);
        assert!(whole.iter().all(Result::is_ok));
        assert!(PIECES.with_borrow(|m| m.len()) > 100);
    }

    #[test]
    fn pieces_are_stored_when_met_again_and_never_from_a_threads_first_document() {
        std::thread::spawn(|| {
            cache::set_enabled(Some(true));
            let parse = |md| super::super::parse(md, None).unwrap();
            let stored = || PIECES.with_borrow(|m| m.len());
            let first = parse("# Title\n\nOne\n\nTwo\n");
            assert_eq!(stored(), 0);
            // The second document notes its pieces; the third stores those it shares.
            assert_eq!(parse("# Title\n\nOne\n\nTwo\n"), first);
            assert_eq!(stored(), 0);
            let third = parse("# Title\n\nOther\n\nTwo\n");
            assert_eq!(stored(), 2);
            assert_eq!(third[0], first[0]);
            assert_eq!(parse("# Title\n\nOne\n\nTwo\n"), first);
            assert_eq!(stored(), 3);
        })
        .join()
        .unwrap();
    }

    /// Lines a template might write, joined at random: the pieces must never change the
    /// blocks (or the error). Blank lines and list items are frequent, so that lists go
    /// on over blank lines; what turns the pieces off is rare, so that most texts are cut.
    fn line() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::strategy::Just;
        proptest::prop_oneof![
            6 => Just(String::new()),
            4 => "[a-z \"'*_]{1,12}",
            2 => "  [a-z]{1,6}",
            1 => "    [a-z]{1,6}",
            6 => "(- |\\* |1\\. |2\\. |3\\) |   - |  1\\. )[a-z*]{0,6}",
            1 => "#{1,4} [a-z]{1,6}",
            1 => "> [a-z]{0,6}",
            1 => "(---|===|\\*\\*\\*|- - -)",
            2 => "\\| [a-z]{1,3} \\| [a-z]{0,3} \\|",
            1 => "\\|---\\|---\\|",
            2 => "<!-- (pagebreak|signatures|widths: 1 2|widths: 3|note) -->",
            1 => "<(div|span|b)>[a-z]{0,4}",
            1 => "\\[[a-z]{1,4}\\]\\(https://x\\.example\\)",
            1 => "(```|~~~|<!-- open|-->|<pre>|</pre>|\\[x\\]: /u|<\\?x|\\[x\\])",
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1000))]
        #[test]
        fn random_markdown_parses_as_a_whole(
            lines in proptest::collection::vec(line(), 0..20),
            other in proptest::collection::vec(line(), 0..20),
        ) {
            let md = lines.join("\n");
            let sig = signatures("C GmbH");
            same_as_whole(&md, Some(&sig));
            // A second text sharing pieces with the first, as two customers' DPAs do.
            let mixed = format!("{}\n\n{}\n", other.join("\n"), md);
            same_as_whole(&mixed, Some(&sig));
            same_as_whole(&mixed, None);
        }
    }
}
