//! The typesetting engine end to end: the ten-page test document through layout and PDF,
//! checked with the tools a reader would use (qpdf, pdffonts, pdftotext, pdfinfo) and on
//! the layout's own page model.

mod engine_doc;

use dpa::layout::PageSetup;
use dpa::pdf::Typesetter;

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
