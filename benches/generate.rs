//! Signing and whole-document generation of the SegMetrics DPA for Müller & Söhne, timed
//! in-process with everything that is loaded once per run (vendor, annex, template, key,
//! fonts) built beforehand. Figures go to BENCHMARKS.md.
//!
//! - `sign/all`: SHA-256, the trusted comment, minisign, SSHSIG and the raw signature of
//!   the real PDF (what `Setup::dpa` does after rendering);
//! - `generate/assemble` and `generate/render`: the Document from the template, and the
//!   engine's layout and PDF writing of it;
//! - `generate/dpa`: one customer's signed DPA: context, template, Markdown, layout, PDF,
//!   signatures and the register record (no file writes);
//! - `generate/load_customer+dpa`: the same, reading and validating the customer file first;
//! - `setup/build`: what a process pays once: loading the vendor, annex and key, compiling
//!   the template and parsing the fonts.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};
use dpa::compose::{Composer, Kind};
use dpa::issue::{Issuer, KeySet, Options};
use dpa::layout::PageSetup;
use dpa::pdf::Typesetter;
use dpa::sign::{self, SecretKey, TrustedComment};
use dpa::template::TemplateFile;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(rel: &str) -> PathBuf {
    root().join(rel)
}

/// Builds the issuer the way `dpa generate` does with the repository's dpa.toml, but
/// without the embedded PDF signature (the figures before issue 12, for comparison).
fn build_setup() -> Issuer {
    build_setup_with(false)
}

/// The issuer with (`pdf`) or without the embedded signature's key and demo chain.
fn build_setup_with(pdf: bool) -> Issuer {
    let vendor = dpa::load::vendor(fixture("fixtures/segmetrics/vendor.toml")).expect("vendor");
    let annex = dpa::load::annex(fixture("fixtures/segmetrics/annex.toml")).expect("annex");
    let template = TemplateFile::read(&fixture("templates/dpa.md.hbs")).expect("template");
    let key = SecretKey::load(&fixture("fixtures/keys/demo-only.key")).expect("key");
    let typesetter = Typesetter::new(PageSetup::default()).expect("fonts");
    let mut keys = KeySet::from_ed25519(key);
    if pdf {
        let signer = dpa::sign::x509::PdfSigner::load(
            &fixture("fixtures/keys/demo-only-pdf.key"),
            &fixture("fixtures/keys/demo-only-pdf.chain.pem"),
            dpa::sign::x509::start_of_day(chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()),
        )
        .expect("pdf signer");
        keys = keys.with_pdf(signer).expect("pdf keys");
    }
    Issuer::new(
        Composer::new(vendor, annex, template, None).expect("annex vendor"),
        keys,
        typesetter,
        Options::default(),
    )
}

fn benches(c: &mut Criterion) {
    let customer_path = fixture("fixtures/customers/mueller-soehne.toml");
    let setup = build_setup();
    let customer =
        dpa::load::customer_for(&customer_path, setup.composer().annex()).expect("customer");
    let issued = customer.effective;
    let product = setup.make(Kind::Dpa, &customer, issued).expect("dpa");
    let pdf = product.pdf.clone();
    let name = setup.composer().file_name(Kind::Dpa);
    println!(
        "SegMetrics DPA for {}: {} bytes ({:.1} KB)",
        customer.legal_name,
        pdf.len(),
        pdf.len() as f64 / 1024.0
    );

    let comment = TrustedComment {
        file: name.clone(),
        sha256: sign::sha256_hex(&pdf),
        annex: setup.composer().annex().version.clone(),
        annex_sha256: setup.composer().fingerprint().hex(),
        customer: customer.id.clone(),
        issued,
        key: setup.keys().key_id(),
    };
    let mut g = c.benchmark_group("sign");
    // SHA-256 (checked against the comment), minisign, SSHSIG and the raw signature.
    g.bench_function("all", |b| {
        b.iter(|| {
            sign::sign(
                setup.keys().ed25519(),
                &name,
                black_box(&pdf),
                &comment,
                true,
            )
            .expect("sign")
        })
    });
    // Without the raw signature, as `dpa generate` and `dpa batch` sign unless --raw-sig.
    g.bench_function("default", |b| {
        b.iter(|| {
            sign::sign(
                setup.keys().ed25519(),
                &name,
                black_box(&pdf),
                &comment,
                false,
            )
            .expect("sign")
        })
    });
    // The parts, to see where signing time goes.
    g.bench_function("sha256", |b| b.iter(|| sign::sha256_hex(black_box(&pdf))));
    g.bench_function("blake2b512", |b| {
        b.iter(|| sign::minisign::prehash(black_box(&pdf)))
    });
    g.bench_function("sha512", |b| {
        b.iter(|| <sha2::Sha512 as sha2::Digest>::digest(black_box(&pdf)))
    });
    let comment_text = format!(
        "dpa/1 file={name} sha256={} annex={} annex_sha256={} customer={} issued={issued} key={}",
        sign::sha256_hex(&pdf),
        setup.composer().annex().version,
        setup.composer().fingerprint().hex(),
        customer.id,
        setup.keys().key_id()
    );
    g.bench_function("minisign", |b| {
        b.iter(|| sign::minisign::sign(setup.keys().ed25519(), black_box(&pdf), &comment_text))
    });
    g.bench_function("sshsig", |b| {
        b.iter(|| sign::sshsig::sign(setup.keys().ed25519(), black_box(&pdf)).expect("sshsig"))
    });
    g.finish();

    let mut g = c.benchmark_group("generate");
    // The steps of `Setup::dpa`: the Document (context, template, Markdown), then the
    // engine (layout and PDF); signing is `sign/default` above.
    let signing = dpa::template::SigningInfo {
        key_id: setup.keys().key_id().to_string(),
        issued,
        verify_hint: "Check this document.".into(),
    };
    let assemble = || {
        setup
            .composer()
            .document(Kind::Dpa, black_box(&customer), &signing)
            .expect("assemble")
    };
    let doc = assemble();
    g.bench_function("assemble", |b| b.iter(assemble));
    g.bench_function("render", |b| {
        b.iter(|| setup.typesetter().render(black_box(&doc)).expect("render"))
    });
    g.bench_function("dpa", |b| {
        b.iter(|| {
            setup
                .make(Kind::Dpa, black_box(&customer), issued)
                .expect("dpa")
        })
    });
    g.bench_function("load_customer+dpa", |b| {
        b.iter(|| {
            let customer =
                dpa::load::customer_for(black_box(&customer_path), setup.composer().annex())
                    .expect("load");
            setup
                .make(Kind::Dpa, &customer, customer.effective)
                .expect("dpa")
        })
    });
    g.finish();

    // The embedded signature's cost: the same document with and without it, in one run.
    let certified = build_setup_with(true);
    let signed_pdf = certified
        .make(Kind::Dpa, &customer, issued)
        .expect("certified dpa")
        .pdf;
    println!(
        "certified: {} bytes, unsigned: {} bytes, difference {} bytes ({} reserved for the CMS)",
        signed_pdf.len(),
        pdf.len(),
        signed_pdf.len() as i64 - pdf.len() as i64,
        certified.keys().pdf().map_or(0, |p| p.contents_size())
    );
    let mut g = c.benchmark_group("pades");
    g.bench_function("dpa_unsigned", |b| {
        b.iter(|| {
            setup
                .make(Kind::Dpa, black_box(&customer), issued)
                .expect("dpa")
        })
    });
    g.bench_function("dpa_certified", |b| {
        b.iter(|| {
            certified
                .make(Kind::Dpa, black_box(&customer), issued)
                .expect("dpa")
        })
    });
    g.finish();

    let mut g = c.benchmark_group("setup");
    g.sample_size(20);
    g.bench_function("build", |b| b.iter(build_setup));
    g.finish();
}

criterion_group!(generate, benches);
criterion_main!(generate);
