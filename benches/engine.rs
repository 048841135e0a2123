//! Layout and PDF writing of the ten-page test document (tests/engine_doc), timed
//! separately and together; the PDF size is printed once. Figures go to BENCHMARKS.md.

#[path = "../tests/engine_doc/mod.rs"]
mod engine_doc;

use criterion::{Criterion, criterion_group, criterion_main};
use dpa::layout::{Fonts, PageSetup, layout};
use dpa::pdf::{Typesetter, write_pdf};
use std::hint::black_box;

fn engine(c: &mut Criterion) {
    let doc = engine_doc::document();
    let setup = PageSetup::default();
    let ts = Typesetter::new(setup).expect("fonts");
    let fonts: &Fonts = ts.fonts();
    let pages = layout(&doc, fonts, &setup).expect("layout");
    let bytes = write_pdf(&doc, &pages, fonts, &setup).expect("pdf");
    println!(
        "test document: {} pages, {} bytes ({:.1} KB)",
        pages.len(),
        bytes.len(),
        bytes.len() as f64 / 1024.0
    );

    let mut g = c.benchmark_group("engine");
    g.bench_function("layout", |b| {
        b.iter(|| layout(black_box(&doc), fonts, &setup).expect("layout"))
    });
    g.bench_function("write_pdf", |b| {
        b.iter(|| write_pdf(black_box(&doc), black_box(&pages), fonts, &setup).expect("pdf"))
    });
    g.bench_function("render", |b| {
        b.iter(|| ts.render(black_box(&doc)).expect("render"))
    });
    g.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
