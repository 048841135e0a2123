//! Typography of inline text: curly quotes, links found in the text, where URLs may
//! break, and spaces that must not break.
//!
//! In: the runs of one paragraph, heading or table cell. Out: the same text for a
//! reader (pdftotext extracts the same words), with
//! - straight quotes and apostrophes turned typographic (never inside code spans);
//! - bare URLs and e-mail addresses made links;
//! - inside links, invisible break opportunities (U+200B) after `/`, `.` and `@`,
//!   never inside `https://`, so an address breaks where a reader expects, without a
//!   hyphen;
//! - long hexadecimal tokens (a key id such as `4A988A749CF5D816`) written in groups of
//!   four, as fingerprints are: a reader compares them group by group, and a line may
//!   end between groups (copied text keeps every digit, with a space between groups);
//! - a word joiner (U+2060) after each space that must not break: between "clause",
//!   "Article", "Annex", "ISO", "SOC", "Type", "§" … and the number after it, inside a
//!   date ("1 June 2026"), between the groups of a key id or fingerprint (a line may end
//!   only with two groups or more on each side of the break: in the middle of a key id
//!   or short fingerprint, after every fourth group of a full fingerprint), and
//!   inside a short parenthesis such as "(opt-in: ai)". The layout keeps such a space
//!   stretchable but never ends a line there.

use crate::document::Run;

/// Breaks here, invisibly.
const BREAK: char = '\u{200B}';
/// Joins the space before it to the word after it.
const JOIN: char = '\u{2060}';

/// Straight quotes in `text` made typographic; `before` is the character preceding it.
pub(super) fn quotes(text: &str, before: Option<char>) -> String {
    if !text.contains(['"', '\'']) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut prev = before;
    for c in text.chars() {
        let curly = match c {
            '"' | '\'' => {
                let opening = prev.is_none_or(|p| p.is_whitespace() || "([{‘“—–-/".contains(p));
                match (c, opening) {
                    ('"', true) => '“',
                    ('"', false) => '”',
                    // An apostrophe inside or after a word ("Processor's", "days'"), else
                    // a quote.
                    (_, true) => '‘',
                    (_, false) => '’',
                }
            }
            other => other,
        };
        out.push(curly);
        prev = Some(c);
    }
    out
}

/// Finds links in the text, marks their break points and binds the spaces that must
/// not break.
pub(super) fn finish(runs: Vec<Run>) -> Vec<Run> {
    let mut linked = Vec::with_capacity(runs.len());
    for run in runs {
        if run.link.is_some() {
            linked.push(run);
        } else {
            split_links(run, &mut linked);
        }
    }
    for run in &mut linked {
        if run.link.is_some() {
            run.text = break_points(&run.text);
        } else if let Some(grouped) = group_hex(&run.text) {
            // Not in a link: an address must stay as it is typed.
            run.text = grouped;
        }
    }
    bind(&mut linked);
    linked
}

/// A field set outside the Markdown (the signature block's lines) with the same
/// grouping and bound spaces as running text.
pub(super) fn finish_text(text: &str) -> String {
    let mut runs = [Run::plain(
        group_hex(text).unwrap_or_else(|| text.to_string()),
    )];
    bind(&mut runs);
    let [run] = runs;
    run.text
}

/// The shortest hexadecimal token written in groups: 12 digits (a fingerprint's 64 and a
/// minisign key id's 16 are longer; years, postcodes and phone numbers have no letters).
const MIN_GROUPED_HEX: usize = 12;

/// `text` with every long hexadecimal token written in groups of four, or `None` when it
/// has none. A token is a whole word of hex digits (digits and letters of one case, at
/// least one of each) whose length is a multiple of four.
fn group_hex(text: &str) -> Option<String> {
    let is_token = |w: &str| {
        w.len() >= MIN_GROUPED_HEX
            && w.len().is_multiple_of(4)
            && w.bytes().all(|b| b.is_ascii_hexdigit())
            && w.bytes().any(|b| b.is_ascii_digit())
            && (w.bytes().all(|b| !b.is_ascii_lowercase())
                || w.bytes().all(|b| !b.is_ascii_uppercase()))
            && w.bytes().any(|b| b.is_ascii_alphabetic())
    };
    // Most text has no run of twelve hex digits: find that out in one pass over bytes.
    let mut run = 0;
    let long = text.bytes().any(|b| {
        run = if b.is_ascii_hexdigit() { run + 1 } else { 0 };
        run >= MIN_GROUPED_HEX
    });
    if !long
        || !text
            .split(|c: char| !c.is_alphanumeric())
            .any(|w| w.len() >= MIN_GROUPED_HEX && is_token(w))
    {
        return None;
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut rest = text;
    while let Some(start) = rest.find(char::is_alphanumeric) {
        let len = rest[start..]
            .find(|c: char| !c.is_alphanumeric())
            .unwrap_or(rest.len() - start);
        let word = &rest[start..start + len];
        out.push_str(&rest[..start]);
        if is_token(word) {
            for (k, group) in word.as_bytes().chunks(4).enumerate() {
                if k > 0 {
                    out.push(' ');
                }
                // Hex digits are ASCII: every chunk is a whole string.
                out.push_str(std::str::from_utf8(group).unwrap_or_default());
            }
        } else {
            out.push_str(word);
        }
        rest = &rest[start + len..];
    }
    out.push_str(rest);
    Some(out)
}

/// Characters that end a URL or an e-mail address found in running text.
fn ends_address(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '(' | ')' | '<' | '>' | '[' | ']' | '"' | '“' | '”' | '‘' | '’'
        )
}

/// Splits a run at the URLs and e-mail addresses in it; those pieces become links.
fn split_links(run: Run, out: &mut Vec<Run>) {
    let text = run.text.as_str();
    let mut found: Vec<(usize, usize, String)> = Vec::new();
    // Only an `h` can start a URL and only an `@` makes an address: the text is searched
    // for those two bytes, not walked character by character.
    let mut from = 0;
    while let Some(at) = memchr::memchr2(b'h', b'@', &text.as_bytes()[from..]) {
        let i = from + at;
        // Both bytes are ASCII, so the next character starts right after them.
        from = i + 1;
        let rest = &text[i..];
        if rest.starts_with('h')
            && text[..i].chars().last().is_none_or(ends_address)
            && (rest.starts_with("https://") || rest.starts_with("http://"))
        {
            let len = rest.find(ends_address).unwrap_or(rest.len());
            let url = rest[..len].trim_end_matches(['.', ',', ';', ':', '!', '?']);
            if url.len() > "https://".len() {
                found.push((i, i + url.len(), url.to_string()));
                from = i + url.len();
                continue;
            }
        }
        if rest.starts_with('@') && i > 0 {
            let local_start = text[..i]
                .char_indices()
                .rev()
                .take_while(|(_, c)| c.is_alphanumeric() || "._%+-".contains(*c))
                .last()
                .map(|(k, _)| k);
            let domain_len = rest[1..]
                .find(|c: char| !(c.is_alphanumeric() || c == '.' || c == '-'))
                .unwrap_or(rest.len() - 1);
            let domain = rest[1..1 + domain_len].trim_end_matches(['.', '-']);
            let overlaps = found
                .last()
                .is_some_and(|f| local_start.is_some_and(|s| s < f.1));
            if let (Some(start), false) = (local_start, overlaps)
                && domain.contains('.')
                && !domain.starts_with('.')
            {
                let end = i + 1 + domain.len();
                let address = &text[start..end];
                found.push((start, end, format!("mailto:{address}")));
                from = end;
            }
        }
    }
    if found.is_empty() {
        out.push(run);
        return;
    }
    let mut at = 0;
    for (start, end, target) in found {
        if start > at {
            out.push(Run::styled(&text[at..start], run.style));
        }
        out.push(Run::linked(&text[start..end], run.style, target));
        at = end;
    }
    if at < text.len() {
        out.push(Run::styled(&text[at..], run.style));
    }
}

/// Adds a break opportunity after each `/`, `.` and `@` of an address (but not in its
/// scheme, nor at its end). Not after `-`: a hyphen at a line end reads as a hyphenation,
/// and pdftotext drops it, so "privacy@har-" / "bour.example" would copy as another address.
fn break_points(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let scheme_end = text.find("://").map_or(0, |i| i + 3);
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    for (k, &(i, c)) in chars.iter().enumerate() {
        out.push(c);
        let next = chars.get(k + 1).map(|&(_, n)| n);
        let inside = next.is_some_and(|n| n.is_alphanumeric());
        if i + c.len_utf8() == scheme_end {
            // Never "https:// / www…".
            out.push(JOIN);
        } else if i >= scheme_end && inside && matches!(c, '/' | '.' | '@') {
            out.push(BREAK);
        } else if inside && c == '-' {
            // Line breaking would allow a break after a hyphen; inside an address it is
            // refused (see above).
            out.push(JOIN);
        }
    }
    out
}

/// Words after which a space binds to the number that follows.
const BINDS_NUMBER: [&str; 22] = [
    "clause", "clauses", "Clause", "Clauses", "Article", "Articles", "article", "articles", "Art.",
    "Annex", "annex", "Annexes", "section", "sections", "Section", "Chapter", "chapter", "§",
    "ISO", "ISO/IEC", "SOC", "Type",
];

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A number, a roman numeral (I, II, IV …) or a clause reference such as "6.3(a)".
fn is_number(word: &str) -> bool {
    let w = word.trim_end_matches([',', ';', ':', '.', ')']);
    let roman = !w.is_empty() && w.chars().all(|c| "IVX".contains(c)) && w.len() <= 4;
    roman || w.chars().next().is_some_and(|c| c.is_ascii_digit())
}

/// A group of four hexadecimal digits (a key id or fingerprint group).
fn is_hex_group(word: &str) -> bool {
    let w = word.trim_end_matches([',', ';', '.', ')']);
    w.len() == 4
        && w.chars().all(|c| c.is_ascii_hexdigit())
        && w.chars().any(|c| c.is_ascii_digit())
}

/// Puts a word joiner after every space that must not end a line.
fn bind(runs: &mut [Run]) {
    // The text of all runs, with where each run starts.
    let text: String = runs.iter().map(|r| r.text.as_str()).collect();
    if memchr::memchr(b' ', text.as_bytes()).is_none() {
        return;
    }
    // Each word with where it starts in `text` and what it is, worked out once (a word
    // is also the `next` of the one before it); the spaces are found with memchr, as
    // most of the cost here was splitting.
    let mut words: Vec<(usize, &str)> = Vec::with_capacity(text.len() / 5 + 1);
    let mut start = 0;
    for space in memchr::memchr_iter(b' ', text.as_bytes()) {
        words.push((start, &text[start..space]));
        start = space + 1;
    }
    words.push((start, &text[start..]));
    let number: Vec<bool> = words.iter().map(|(_, w)| is_number(w)).collect();
    let hex: Vec<bool> = words.iter().map(|(_, w)| is_hex_group(w)).collect();
    let digits = |w: &str| w.bytes().all(|b| b.is_ascii_digit());
    // Byte offsets (in `text`) of the spaces to bind.
    let mut bound: Vec<usize> = Vec::new();
    // In a run of hex groups: how many groups precede the current space, and how many the
    // run has.
    let mut hex_before = 0usize;
    let mut hex_total = 0usize;
    for k in 0..words.len().saturating_sub(1) {
        let (start, word) = words[k];
        let next = words[k + 1].1;
        let space = start + word.len();
        let bare = || word.trim_start_matches(['(', '“', '‘']);
        let mut bind_here = (number[k + 1] && BINDS_NUMBER.contains(&bare()))
            // "SOC 2 Type II": the number binds to "Type" too.
            || (number[k] && next.starts_with("Type"))
            // Dates: "1 June 2026", "June 2026".
            || (word.len() <= 2 && digits(word) && MONTHS.contains(&next.trim_end_matches([',', '.'])))
            || (next.len() == 4 && digits(next) && MONTHS.contains(&bare()))
            || (next.starts_with(|c: char| c.is_ascii_digit()) && next.trim_end_matches([',', '.', ';']).len() == 4 && MONTHS.contains(&bare()))
            // "(opt-in: ai)": a short parenthesis of two words.
            || (word.starts_with('(') && next.ends_with(')') && !word.contains(')') && word.len() + next.len() <= 20);
        // Key ids and fingerprints: a line ends between groups only with two groups or
        // more on each side, in the middle of a short run (a key id, a short fingerprint)
        // and after every fourth group of a long one (a 64-digit fingerprint).
        if hex[k] && hex[k + 1] {
            if hex_before == 0 {
                hex_total = hex[k..].iter().take_while(|&&h| h).count();
            }
            hex_before += 1;
            let step = if hex_total >= 8 { 4 } else { 2 };
            let after = hex_total - hex_before;
            if !(hex_before.is_multiple_of(step) && hex_before >= 2 && after >= 2) {
                bind_here = true;
            }
        } else {
            hex_before = 0;
        }
        if bind_here {
            bound.push(space);
        }
    }
    if bound.is_empty() {
        return;
    }
    let mut at = 0usize;
    let mut b = 0usize;
    for run in runs.iter_mut() {
        let len = run.text.len();
        if bound[b..].first().is_none_or(|&s| s >= at + len) {
            at += len;
            continue;
        }
        // The text up to and with each bound space, copied whole, then the joiner.
        let mut text = String::with_capacity(len + 8);
        let mut from = 0;
        while let Some(&space) = bound.get(b).filter(|&&s| s < at + len) {
            let after = space - at + 1;
            text.push_str(&run.text[from..after]);
            text.push(JOIN);
            from = after;
            b += 1;
        }
        text.push_str(&run.text[from..]);
        run.text = text;
        at += len;
        if b >= bound.len() {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Style;

    fn joined(runs: &[Run]) -> String {
        runs.iter().map(|r| r.text.as_str()).collect()
    }

    #[test]
    fn quotes_turn_and_apostrophes_follow_words() {
        assert_eq!(
            quotes(
                r#"The words "including" and the Processor's 30 days' notice 'here'"#,
                None
            ),
            "The words “including” and the Processor’s 30 days’ notice ‘here’"
        );
        assert_eq!(quotes("'s", Some('r')), "’s");
        assert_eq!(quotes("\"", Some(' ')), "“");
    }

    #[test]
    fn bound_spaces_at_the_edges_of_runs_stay_in_their_runs() {
        let runs = finish(vec![
            Run::plain("see clause "),
            Run::plain("6.3 of Annex"),
            Run::plain(" III from 1 June"),
            Run::plain(" 2026."),
        ]);
        let texts: Vec<&str> = runs.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "see clause \u{2060}",
                "6.3 of Annex",
                " \u{2060}III from 1 \u{2060}June",
                " \u{2060}2026.",
            ]
        );
    }

    #[test]
    fn references_dates_and_certifications_do_not_break() {
        let runs = finish(vec![Run::plain(
            "under clause 6.3 and Article 28 of the GDPR, Annex III, SOC 2 Type II and ISO 27001 from 1 June 2026 (opt-in: ai) with key 4A98 8A74 9CF5 D816",
        )]);
        let text = joined(&runs);
        for bound in [
            "clause \u{2060}6.3",
            "Article \u{2060}28",
            "Annex \u{2060}III",
            "SOC \u{2060}2 \u{2060}Type \u{2060}II",
            "ISO \u{2060}27001",
            "1 \u{2060}June \u{2060}2026",
            "(opt-in: \u{2060}ai)",
            "key 4A98 \u{2060}8A74 9CF5 \u{2060}D816",
        ] {
            assert!(text.contains(bound), "{bound:?} in {text:?}");
        }
        assert!(text.contains("the GDPR"), "ordinary spaces stay breakable");
        assert_eq!(
            text.replace(JOIN, ""),
            joined(&[Run::plain(
                "under clause 6.3 and Article 28 of the GDPR, Annex III, SOC 2 Type II and ISO 27001 from 1 June 2026 (opt-in: ai) with key 4A98 8A74 9CF5 D816"
            )])
        );
    }

    #[test]
    fn long_hex_tokens_are_grouped_in_fours_and_break_only_between_pairs() {
        let runs = finish(vec![Run::plain(
            "with the key 4A988A749CF5D816. Check 7e2581fbea483d9b, not 2026, 004930123456789, DEADBEEFCAFE, 4a98BBCC9cf5 or 4A98-8A74.",
        )]);
        assert_eq!(
            joined(&runs),
            "with the key 4A98 \u{2060}8A74 9CF5 \u{2060}D816. Check 7e25 \u{2060}81fb ea48 \u{2060}3d9b, not 2026, 004930123456789, DEADBEEFCAFE, 4a98BBCC9cf5 or 4A98-8A74."
        );
        // A full fingerprint breaks after every fourth group, never before its last two.
        let full = "0123 4567 89ab 7def 0123 4567 89ab 7def 0123 4567";
        let text = joined(&finish(vec![Run::plain(format!("Fingerprint {full}"))]));
        let free: Vec<&str> = text
            .split(" ")
            .filter(|w| !w.starts_with('\u{2060}'))
            .collect();
        assert_eq!(free, ["Fingerprint", "0123", "0123", "0123"], "{text:?}");
        // Inside an address nothing changes.
        let runs = finish(vec![Run::plain(
            "See https://keys.example/4A988A749CF5D816.pub or 4a988a749cf5d816@keys.example.",
        )]);
        assert_eq!(
            runs.iter().filter(|r| r.link.is_some()).count(),
            2,
            "{runs:?}"
        );
        let visible: String = joined(&runs)
            .chars()
            .filter(|c| *c != BREAK && *c != JOIN)
            .collect();
        assert!(visible.contains("/4A988A749CF5D816.pub"), "{visible}");
        assert!(visible.contains("4a988a749cf5d816@"), "{visible}");
        // The signature block's lines: grouped and bound alike.
        assert_eq!(
            finish_text("Signed electronically with key 4A988A749CF5D816"),
            "Signed electronically with key 4A98 \u{2060}8A74 9CF5 \u{2060}D816"
        );
        assert_eq!(finish_text("1 June 2026"), "1 \u{2060}June \u{2060}2026");
    }

    #[test]
    fn urls_and_addresses_become_links_that_break_after_separators() {
        let runs = finish(vec![Run::styled(
            "Write to privacy@mueller-soehne.example or see https://www.hubspot.com/security.",
            Style::Italic,
        )]);
        let links: Vec<(&str, &str)> = runs
            .iter()
            .filter_map(|r| r.link.as_deref().map(|l| (r.text.as_str(), l)))
            .collect();
        assert_eq!(links.len(), 2, "{runs:?}");
        assert_eq!(links[0].1, "mailto:privacy@mueller-soehne.example");
        assert_eq!(links[1].1, "https://www.hubspot.com/security");
        assert_eq!(
            links[1].0,
            "https://\u{2060}www.\u{200B}hubspot.\u{200B}com/\u{200B}security"
        );
        assert!(runs.iter().all(|r| r.style == Style::Italic));
        let visible: String = joined(&runs)
            .chars()
            .filter(|c| *c != BREAK && *c != JOIN)
            .collect();
        assert_eq!(
            visible,
            "Write to privacy@mueller-soehne.example or see https://www.hubspot.com/security."
        );
    }
}
