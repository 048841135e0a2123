//! The PDF side of the embedded signature: fields, placeholders and the byte range,
//! checked with qpdf, pdfsig and pyHanko on the engine's test document. The CMS is a
//! dummy of the right size here (the `sign` stage makes the real one), so validators
//! find the signature and its coverage, and report the CMS itself as unusable.

mod engine_doc;

use std::path::Path;
use std::process::Command;

use chrono::NaiveDate;
use dpa::document::{Block, Document};
use dpa::layout::PageSetup;
use dpa::pdf::{SigningPlan, Typesetter, fill_byte_range, fill_contents};

fn plan() -> SigningPlan {
    SigningPlan {
        vendor_field: "Processor signature".into(),
        appearance: vec![
            "Digitally signed by SegMetrics, Inc.".into(),
            "Jordan Ellis, Chief Executive Officer".into(),
            "1 June 2026 · certificate 3F2A 19C0 7B44 E1D2".into(),
        ],
        name: "SegMetrics, Inc.".into(),
        reason: "Data Processing Agreement issued to Müller & Söhne GmbH".into(),
        location: "Example City".into(),
        contact_info: "privacy@segmetrics.example".into(),
        signed_at: NaiveDate::from_ymd_opt(2026, 6, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap(),
        contents_size: 4096,
        customer_field: Some("Controller signature".into()),
    }
}

/// A signed file: the test document with its byte range and a dummy CMS filled in.
fn signed(doc: &Document) -> (Vec<u8>, [std::ops::Range<usize>; 2]) {
    let ts = Typesetter::new(PageSetup::default()).unwrap();
    let written = ts.render_for_signing(doc, &plan()).unwrap();
    let places = written.placeholders.clone().expect("placeholders");
    let mut bytes = written.bytes;
    let ranges = fill_byte_range(&mut bytes, &places).unwrap();
    // A DER SEQUENCE header and filler, as long as a leaf + root CMS.
    let mut cms = vec![0x30, 0x82, 0x06, 0x00];
    cms.resize(1540, 0xA5);
    fill_contents(&mut bytes, &places, &cms).unwrap();
    (bytes, ranges)
}

fn run(program: &str, args: &[&str], path: &Path) -> (bool, String) {
    let out = Command::new(program)
        .args(args)
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("{program} is needed for this test: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn the_byte_range_covers_everything_but_the_signature_and_qpdf_is_clean() {
    let (bytes, ranges) = signed(&engine_doc::document());
    assert_eq!(ranges[0].start, 0);
    assert_eq!(ranges[1].end, bytes.len());
    let gap = &bytes[ranges[0].end..ranges[1].start];
    assert!(
        gap.starts_with(b"<3082060") && gap.ends_with(b"00>"),
        "the gap is the hex CMS"
    );
    assert!(gap[1..gap.len() - 1].iter().all(u8::is_ascii_hexdigit));
    let text = String::from_utf8_lossy(&bytes);
    let expected = format!(
        "/ByteRange[0 {} {} {}",
        ranges[0].end,
        ranges[1].start,
        bytes.len() - ranges[1].start
    );
    assert!(text.contains(&expected), "{expected}");
    for needle in [
        "/SubFilter/ETSI.CAdES.detached",
        "/Filter/Adobe.PPKLite",
        "/TransformMethod/DocMDP",
        "/P 2",
        "/SigFlags 3",
        "/Perms<</DocMDP",
        "/M(D:20260601000000Z)",
    ] {
        assert!(text.contains(needle), "{needle} missing");
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signed.pdf");
    std::fs::write(&path, &bytes).unwrap();
    let (ok, out) = run("qpdf", &["--check"], &path);
    assert!(
        ok && out.contains("No syntax or stream encoding errors"),
        "{out}"
    );
    let (_, info) = run("pdfinfo", &[], &path);
    assert!(info.contains("Form:            AcroForm"), "{info}");
    assert!(info.contains("Tagged:          yes"), "{info}");
}

#[test]
fn pyhanko_lists_the_vendor_field_signed_and_the_customer_field_empty() {
    let (bytes, _) = signed(&engine_doc::document());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signed.pdf");
    std::fs::write(&path, &bytes).unwrap();
    let (_, out) = run("pyhanko", &["sign", "list"], &path);
    assert!(out.contains("Processor signature:FILLED"), "{out}");
    assert!(out.contains("Controller signature:EMPTY"), "{out}");
    // pdfsig finds the signature and its coverage (the dummy CMS cannot verify).
    let (_, out) = run("pdfsig", &[], &path);
    assert!(out.contains("Signature #1"), "{out}");
    assert!(out.contains("Total document signed"), "{out}");
}

#[test]
fn the_widgets_sit_on_the_signature_lines_and_are_tagged_as_form_fields() {
    let doc = engine_doc::document();
    let ts = Typesetter::new(PageSetup::default()).unwrap();
    let layout = dpa::layout::layout(&doc, ts.fonts(), ts.setup()).unwrap();
    let lines = layout
        .signatures
        .expect("the test document has a signature block");
    assert!(
        lines.vendor.right() <= lines.customer.x,
        "vendor left of customer"
    );
    assert!(lines.vendor.height > 20.0 && lines.vendor.width > 150.0);
    let (bytes, _) = signed(&doc);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signed.pdf");
    std::fs::write(&path, &bytes).unwrap();
    let (_, tree) = run("pdfinfo", &["-struct"], &path);
    assert_eq!(tree.matches("Form").count(), 2, "{tree}");
    // The widget's rectangle is the vendor's signature area (PDF coordinates).
    let page = &layout.pages[lines.page];
    let text = String::from_utf8_lossy(&bytes);
    let rect = format!(
        "/Rect[{} {}",
        fmt(lines.vendor.x),
        fmt(page.height - lines.vendor.bottom())
    );
    assert!(text.contains(&rect), "{rect}");
}

fn fmt(v: f32) -> String {
    let s = format!("{v}");
    s.trim_end_matches(".0").to_string()
}

#[test]
fn a_document_without_a_signature_block_gets_an_invisible_vendor_signature_only() {
    let mut doc = engine_doc::document();
    doc.blocks.retain(|b| !matches!(b, Block::Signatures(_)));
    let (bytes, _) = signed(&doc);
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("/Rect[0 0 0 0]"));
    assert!(!text.contains("Controller signature"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notice.pdf");
    std::fs::write(&path, &bytes).unwrap();
    let (ok, out) = run("qpdf", &["--check"], &path);
    assert!(ok, "{out}");
}

#[test]
fn same_inputs_same_signed_bytes_and_a_cms_too_large_is_refused() {
    let doc = engine_doc::document();
    assert_eq!(signed(&doc).0, signed(&doc).0);
    let ts = Typesetter::new(PageSetup::default()).unwrap();
    let written = ts.render_for_signing(&doc, &plan()).unwrap();
    let places = written.placeholders.unwrap();
    let mut bytes = written.bytes;
    let err = fill_contents(&mut bytes, &places, &[0u8; 4097]).unwrap_err();
    assert!(
        err.to_string().contains("larger than the 4096 bytes"),
        "{err}"
    );
}

#[test]
fn a_real_cms_over_the_byte_range_validates_in_pdfsig() {
    // A throwaway test-only certificate and a detached CMS made by OpenSSL over exactly
    // the two ranges `fill_byte_range` returns: pdfsig then checks the digest itself.
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("test-only.key.pem");
    let cert = dir.path().join("test-only.cert.pem");
    let status = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args(["-nodes", "-days", "30", "-subj", "/CN=dpa test-only signer"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl");
    assert!(status.status.success(), "{status:?}");
    let ts = Typesetter::new(PageSetup::default()).unwrap();
    let written = ts
        .render_for_signing(&engine_doc::document(), &plan())
        .unwrap();
    let places = written.placeholders.clone().unwrap();
    let mut bytes = written.bytes;
    let ranges = fill_byte_range(&mut bytes, &places).unwrap();
    let covered: Vec<u8> = ranges
        .iter()
        .flat_map(|r| bytes[r.clone()].to_vec())
        .collect();
    let data = dir.path().join("covered.bin");
    std::fs::write(&data, &covered).unwrap();
    let der = dir.path().join("cms.der");
    let out = Command::new("openssl")
        .args([
            "cms", "-sign", "-binary", "-md", "sha256", "-outform", "DER",
        ])
        .arg("-in")
        .arg(&data)
        .arg("-signer")
        .arg(&cert)
        .arg("-inkey")
        .arg(&key)
        .arg("-out")
        .arg(&der)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    fill_contents(&mut bytes, &places, &std::fs::read(&der).unwrap()).unwrap();
    let path = dir.path().join("signed.pdf");
    std::fs::write(&path, &bytes).unwrap();
    // Handy for looking at the signature page: DPA_ENGINE_SIGNED_OUT=file.pdf.
    if let Some(out) = std::env::var_os("DPA_ENGINE_SIGNED_OUT") {
        std::fs::write(out, &bytes).unwrap();
    }
    let (_, out) = run("pdfsig", &[], &path);
    assert!(
        out.contains("Signature Validation: Signature is Valid."),
        "{out}"
    );
    assert!(out.contains("Total document signed"), "{out}");
    // One flipped byte inside the covered ranges breaks it.
    let mut broken = bytes.clone();
    broken[ranges[1].start + 10] ^= 1;
    std::fs::write(&path, &broken).unwrap();
    let (_, out) = run("pdfsig", &[], &path);
    assert!(!out.contains("Signature is Valid."), "{out}");
}
