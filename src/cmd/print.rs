//! Everything the commands print: human lines, JSON, warnings and errors.
//!
//! In: text and values from the commands. Out: bytes on standard output and error, with
//! untrusted text escaped (`dpa::untrusted`), nothing but errors under `-q`, and a reader
//! that went away (`dpa register list | head -1`) turned into an error that `main` ends
//! with exit code 0 and no message. Like ripgrep's `messages` module, the one setting
//! (quiet) is process-wide, set once by `main` before a command runs.

use std::fmt;
use std::io::{self, ErrorKind, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use dpa::untrusted;
use serde::Serialize;
use serde_json::ser::{Formatter, PrettyFormatter};

static QUIET: AtomicBool = AtomicBool::new(false);

/// Sets `-q` for the rest of the process.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether `-q` was given: print no summaries, progress or warnings.
pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Prints one line of human text on standard output (use the `say!` macro).
///
/// Values from files should already be wrapped in `untrusted::Escaped`; as a second line of
/// defence any control or invisible character left in the line is escaped here, except the
/// line breaks the command wrote itself.
pub fn line(args: fmt::Arguments<'_>) -> io::Result<()> {
    let text = args.to_string();
    let mut out = io::stdout().lock();
    out.write_all(untrusted::escape_lines(&text).as_bytes())?;
    out.write_all(b"\n")
}

/// Prints text that already ends its lines (a rendered table, a TOML file) on standard
/// output, escaped like [`line`].
pub fn text(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(untrusted::escape_lines(text).as_bytes())?;
    out.flush()
}

/// Prints `value` as pretty JSON on standard output, with control and invisible characters
/// inside strings written as `\u` escapes (the value a JSON reader gets is unchanged).
pub fn json(value: &impl Serialize) -> anyhow::Result<()> {
    let mut bytes = Vec::new();
    let mut ser =
        serde_json::Serializer::with_formatter(&mut bytes, SafeFormatter(PrettyFormatter::new()));
    value.serialize(&mut ser)?;
    bytes.push(b'\n');
    // Written in one go through io::Write, so a closed pipe surfaces as an io::Error.
    let mut out = io::stdout().lock();
    out.write_all(&bytes)?;
    out.flush()?;
    Ok(())
}

/// Prints `warning: ...` on standard error unless `-q`.
pub fn warn(args: fmt::Arguments<'_>) {
    if !quiet() {
        stderr_line(&format!("warning: {args}"));
    }
}

/// Prints a progress or status line on standard error unless `-q`.
pub fn note(args: fmt::Arguments<'_>) {
    if !quiet() {
        stderr_line(&args.to_string());
    }
}

/// Prints a line on standard error whatever `-q` says (errors, failed customers).
pub fn stderr_line(text: &str) {
    let mut err = io::stderr().lock();
    // Nothing sensible is left to do when standard error itself is closed.
    let _ = err.write_all(untrusted::escape_lines(text).as_bytes());
    let _ = err.write_all(b"\n");
}

/// Whether `err` only says that the reader of standard output went away.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<serde_json::Error>()
                .is_some_and(|e| e.io_error_kind() == Some(ErrorKind::BrokenPipe))
    })
}

/// The exit code of a command whose code is an answer (verify, batch, annex diff): a closed
/// pipe while printing must not turn "not valid" into success, so it keeps `code`; any other
/// printing error stays an error.
pub fn answer(printed: anyhow::Result<()>, code: ExitCode) -> anyhow::Result<ExitCode> {
    match printed {
        Err(err) if !is_broken_pipe(&err) => Err(err),
        _ => Ok(code),
    }
}

/// The JSON object printed for an error under `--json`.
#[derive(Debug, Serialize)]
pub struct JsonError<'a> {
    /// The message with its causes, as the text form prints it after `error: `.
    pub error: &'a str,
    /// How to fix it, when known.
    pub hint: Option<&'a str>,
    /// The exit code that follows (always 2: an error, not an answer).
    pub exit: u8,
}

/// Prints an error: `error: ...` and `hint: ...` on standard error, or under `--json` a
/// [`JsonError`] on standard output (falling back to text if that cannot be written).
pub fn error(message: &str, hint: Option<&str>, as_json: bool) {
    if as_json {
        let value = JsonError {
            error: message,
            hint,
            exit: 2,
        };
        if json(&value).is_ok() {
            return;
        }
    }
    // One line each, line breaks included in the escaping: a file name holding a newline
    // must not be able to add a line of its own under the error.
    stderr_line(&format!("error: {}", untrusted::escape(message)));
    if let Some(hint) = hint {
        stderr_line(&format!("hint: {}", untrusted::escape(hint)));
    }
}

/// serde_json's pretty output, with unsafe characters in strings escaped as `\uXXXX`.
struct SafeFormatter(PrettyFormatter<'static>);

impl Formatter for SafeFormatter {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut rest = fragment;
        while let Some((at, c)) = rest.char_indices().find(|(_, c)| untrusted::is_unsafe(*c)) {
            writer.write_all(&rest.as_bytes()[..at])?;
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
            rest = &rest[at + c.len_utf8()..];
        }
        writer.write_all(rest.as_bytes())
    }

    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// Prints a formatted line of human text on standard output; evaluates to `io::Result<()>`.
macro_rules! say {
    () => { $crate::cmd::print::line(format_args!("")) };
    ($($arg:tt)*) => { $crate::cmd::print::line(format_args!($($arg)*)) };
}
pub(crate) use say;

#[cfg(test)]
mod tests {
    use super::*;

    fn to_json(value: &impl Serialize) -> String {
        let mut bytes = Vec::new();
        let mut ser = serde_json::Serializer::with_formatter(
            &mut bytes,
            SafeFormatter(PrettyFormatter::new()),
        );
        value.serialize(&mut ser).unwrap();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn json_strings_escape_what_a_terminal_would_obey() {
        let text = to_json(&serde_json::json!({"file": "a\u{1b}[2K\u{9b}\u{202e}b\u{e0041}.pdf"}));
        assert!(
            text.contains(r#""a\u001b[2K\u009b\u202eb\udb40\udc41.pdf""#),
            "{text}"
        );
        // Still JSON for the same value.
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["file"], "a\u{1b}[2K\u{9b}\u{202e}b\u{e0041}.pdf");
    }

    #[test]
    fn json_keeps_ordinary_text_and_layout() {
        let text = to_json(&serde_json::json!({"name": "Müller & Söhne", "n": [1, 2]}));
        assert_eq!(
            text,
            "{\n  \"n\": [\n    1,\n    2\n  ],\n  \"name\": \"Müller & Söhne\"\n}"
        );
    }

    #[test]
    fn broken_pipe_is_recognised_through_context() {
        use anyhow::Context as _;
        let err: anyhow::Result<()> =
            Err(io::Error::from(ErrorKind::BrokenPipe)).context("writing the list");
        assert!(is_broken_pipe(&err.unwrap_err()));
        let other: anyhow::Error = io::Error::from(ErrorKind::NotFound).into();
        assert!(!is_broken_pipe(&other));
    }
}
