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

/// Minimum wall time per layout and per PDF write over many runs (robust on a busy
/// machine); run with `cargo test --release --test engine min_times -- --ignored --nocapture`.
/// The reported figures come from criterion (`cargo bench --bench engine`).
#[test]
#[ignore]
fn min_times() {
    use std::time::Instant;
    let ts = Typesetter::new(PageSetup::default()).unwrap();
    let doc = engine_doc::document();
    let setup = PageSetup::default();
    let (mut lay, mut pdf) = (f64::MAX, f64::MAX);
    for _ in 0..300 {
        let t = Instant::now();
        let pages = dpa::layout::layout(&doc, ts.fonts(), &setup).unwrap();
        let t2 = Instant::now();
        let bytes = dpa::pdf::write_pdf(&doc, &pages, ts.fonts(), &setup).unwrap();
        let t3 = Instant::now();
        std::hint::black_box(bytes);
        lay = lay.min((t2 - t).as_secs_f64());
        pdf = pdf.min((t3 - t2).as_secs_f64());
    }
    println!(
        "min layout {:.3} ms, min write_pdf {:.3} ms",
        lay * 1e3,
        pdf * 1e3
    );
}
