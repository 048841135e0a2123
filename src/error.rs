//! What the library's errors share: a hint on how to fix the problem, and printing a cause
//! chain once.
//!
//! In: any error. Out: the `hint:` line for it ([`hint`]) and its causes joined by ": "
//! ([`chain`]). Each library error type implements [`Hint`] beside its definition; the
//! table in [`hint`] lists every such type once, so the binary asks one function.
//!
//! Convention for the error types: a variant that wraps another error either forwards to
//! it (`#[error(transparent)]`) or says only its own context and marks the inner error
//! `#[source]`; it never also prints `{source}`, which would print the cause twice.

use std::error::Error;

/// An error that can tell the user how to fix it.
pub trait Hint {
    /// One line on how to fix the problem, when there is one.
    fn hint(&self) -> Option<String>;
}

/// The hint of the first error in the chain that has one.
pub fn hint(err: &(dyn Error + 'static)) -> Option<String> {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(hint) = hint_of(e) {
            return Some(hint);
        }
        next = e.source();
    }
    None
}

/// Every library error type that implements [`Hint`].
fn hint_of(e: &(dyn Error + 'static)) -> Option<String> {
    macro_rules! try_types {
        ($($t:ty),* $(,)?) => {
            $(if let Some(e) = e.downcast_ref::<$t>() {
                return Hint::hint(e);
            })*
        };
    }
    try_types!(
        crate::load::LoadError,
        crate::config::ConfigError,
        crate::template::TemplateError,
        crate::compose::ComposeError,
        crate::issue::IssueError,
        crate::issue::KeyError,
        crate::output::OutputError,
        crate::register::RegisterError,
        crate::accept::AcceptError,
        crate::sign::SignError,
        crate::annex::import::ImportError,
        crate::annex::diff::DiffError,
        crate::annex::publish::PublishError,
        crate::markup::MarkupError,
        crate::pdf::PdfError,
    );
    None
}

/// The error and its causes, joined by ": ", each printed once.
pub fn chain(err: &(dyn Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut next = err.source();
    while let Some(e) = next {
        out.push_str(": ");
        out.push_str(&e.to_string());
        next = e.source();
    }
    out
}

// The signature and annex modules keep their hints as inherent methods; these make them
// answer through the same trait.
impl Hint for crate::sign::SignError {
    fn hint(&self) -> Option<String> {
        crate::sign::SignError::hint(self)
    }
}

impl Hint for crate::annex::import::ImportError {
    fn hint(&self) -> Option<String> {
        crate::annex::import::ImportError::hint(self)
    }
}

impl Hint for crate::pdf::PdfError {
    fn hint(&self) -> Option<String> {
        match self {
            crate::pdf::PdfError::Layout(e) => e.hint().map(str::to_string),
            _ => None,
        }
    }
}

impl Hint for crate::annex::publish::PublishError {
    fn hint(&self) -> Option<String> {
        crate::annex::publish::PublishError::hint(self)
    }
}

impl Hint for crate::annex::diff::DiffError {
    fn hint(&self) -> Option<String> {
        crate::annex::diff::DiffError::hint(self)
    }
}

impl Hint for crate::markup::MarkupError {
    fn hint(&self) -> Option<String> {
        crate::markup::MarkupError::hint(self).map(str::to_string)
    }
}
