//! Untrusted text made safe to print on a terminal.
//!
//! In: a string that came from outside (a file name, a field of a signature or an input
//! file, a register row, a vendor's page). Out: the same text with every character that
//! could move the cursor, recolour or clear the screen, reorder the line or hide itself
//! written as a visible `\u{..}` escape. Printing a file name raw let a name holding
//! escape sequences paint "VALID" over "NOT VALID"; every command prints such values
//! through [`escape`] or [`Escaped`].
//!
//! Escaped: control characters (C0, DEL, C1, including newline and tab: inside one value
//! they can only forge lines), bidirectional formatting characters, the line and paragraph
//! separators, and invisible format characters (zero-width spaces and joiners, word joiner,
//! byte order mark, invisible operators, interlinear annotation, Unicode tags). Visible
//! text, accents and scripts of every language pass unchanged. The backslash is left as it
//! is, so ordinary Windows-style text stays readable.

use std::borrow::Cow;
use std::fmt;
use std::path::Path;

/// Whether `c` must be escaped before it reaches a terminal.
pub fn is_unsafe(c: char) -> bool {
    c.is_control() || is_invisible_format(c)
}

/// Bidirectional controls, separators and invisible format characters (see the module doc).
fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{061C}'                      // Arabic letter mark
        | '\u{115F}' | '\u{1160}'       // Hangul fillers, rendered as nothing
        | '\u{180E}'                    // Mongolian vowel separator
        | '\u{200B}'..='\u{200F}'       // zero-width space, joiners, LRM, RLM
        | '\u{2028}'..='\u{202E}'       // line/paragraph separators, embeddings, overrides
        | '\u{2060}'..='\u{2064}'       // word joiner, invisible operators
        | '\u{2066}'..='\u{206F}'       // isolates and deprecated format characters
        | '\u{3164}'                    // Hangul filler
        | '\u{FEFF}'                    // byte order mark, zero-width no-break space
        | '\u{FFA0}'                    // halfwidth Hangul filler
        | '\u{FFF9}'..='\u{FFFB}'       // interlinear annotation
        | '\u{E0000}'..='\u{E007F}'     // tags
    )
}

/// `text` with every unsafe character written as `\u{..}`; borrowed when nothing changes.
pub fn escape(text: &str) -> Cow<'_, str> {
    escape_except(text, &[])
}

/// Like [`escape`], but keeps line breaks: for whole messages that we laid out in lines
/// ourselves, such as an error with its causes.
pub fn escape_lines(text: &str) -> Cow<'_, str> {
    escape_except(text, &['\n'])
}

fn escape_except<'a>(text: &'a str, keep: &[char]) -> Cow<'a, str> {
    let bad = |c: char| is_unsafe(c) && !keep.contains(&c);
    if !text.chars().any(bad) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if bad(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A value that displays escaped: `println!("{}", Escaped(name))`.
#[derive(Debug, Clone, Copy)]
pub struct Escaped<'a>(pub &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escape(self.0))
    }
}

/// A path that displays escaped (lossily decoded first, as `Path::display` does).
#[derive(Debug, Clone, Copy)]
pub struct EscapedPath<'a>(pub &'a Path);

impl fmt::Display for EscapedPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escape(&self.0.to_string_lossy()))
    }
}

/// Shorthand for [`EscapedPath`].
pub fn path(path: &Path) -> EscapedPath<'_> {
    EscapedPath(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_text_is_borrowed_unchanged() {
        for text in [
            "Müller & Söhne GmbH",
            "Łódź Zakłady",
            "株式会社",
            "שלום",
            "C:\\keys\\a.pub",
            "Mu\u{308}ller",
        ] {
            assert!(
                matches!(escape(text), Cow::Borrowed(t) if t == text),
                "{text}"
            );
        }
    }

    #[test]
    fn terminal_controls_are_escaped() {
        let name = "x.pdf\u{1b}[2K\r\u{1b}[32mVALID\u{9b}\u{7f}";
        assert_eq!(
            escape(name),
            "x.pdf\\u{1b}[2K\\u{d}\\u{1b}[32mVALID\\u{9b}\\u{7f}"
        );
    }

    #[test]
    fn reordering_and_invisible_characters_are_escaped() {
        assert_eq!(escape("a\u{202e}fdp.exe"), "a\\u{202e}fdp.exe");
        assert_eq!(escape("a\u{2067}b\u{2069}"), "a\\u{2067}b\\u{2069}");
        assert_eq!(escape("Go\u{200b}ogle"), "Go\\u{200b}ogle");
        assert_eq!(escape("\u{feff}x"), "\\u{feff}x");
        assert_eq!(escape("x\u{e0041}"), "x\\u{e0041}");
        assert_eq!(escape("a\u{2028}b"), "a\\u{2028}b");
    }

    #[test]
    fn newlines_split_lines_only_where_we_asked() {
        assert_eq!(escape("a\nVALID"), "a\\u{a}VALID");
        assert_eq!(escape_lines("a\nb\u{1b}"), "a\nb\\u{1b}");
        assert_eq!(escape_lines("a\tb"), "a\\u{9}b");
    }

    #[test]
    fn display_wrappers_escape() {
        assert_eq!(Escaped("a\u{7}").to_string(), "a\\u{7}");
        assert_eq!(
            path(Path::new("d/a\u{1b}.pdf")).to_string(),
            "d/a\\u{1b}.pdf"
        );
    }
}
