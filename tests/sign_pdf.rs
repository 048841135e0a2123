//! Embedded PDF signatures on real material: a DPA from `dpa generate`, certified by the
//! vendor (pyHanko, DocMDP P=2, with a test-only chain from `dpa::sign::x509`), then
//! countersigned by customers with RSA 2048, ECDSA P-384 and Ed25519 certificates made by
//! openssl. `dpa::sign::pdfsig::verify` must agree with pdfsig and pyHanko: permitted
//! countersignatures are fine, a countersignature whose update also changes page content,
//! adds a comment or a field, a file rewritten by qpdf, a flipped byte and a truncated
//! file are not valid, each with its reason; no input makes it panic.
#![cfg(unix)]

mod common;
mod pades_common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::*;
use dpa::sign::changes::Change;
use dpa::sign::cms::Trust;
use dpa::sign::pdfsig::{self, PdfVerdict, RangeProblem};
use dpa::sign::pkix::{PathProblem, TrustAnchors};
use dpa::sign::x509::CertChain;
use proptest::prelude::*;

/// Files made once for all tests of this binary.
struct Material {
    dir: PathBuf,
    /// The DPA as `dpa generate` wrote it, with two empty signature fields added.
    fields: PathBuf,
    /// `fields`, certified by the vendor in field "Vendor".
    certified: PathBuf,
    vendor_root: PathBuf,
}

fn material() -> &'static Material {
    static M: OnceLock<Material> = OnceLock::new();
    M.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("sign_pdf");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let pdf = issue(&dir.join("out"));
        // The vendor's test-only chain, made by the library.
        pades_common::vendor_chain(&dir, "sign_pdf");
        std::fs::copy(&pdf, dir.join("dpa.pdf")).unwrap();
        pades_common::add_fields(&dir, "dpa.pdf", "fields.pdf");
        pades_common::certify(&dir, "fields.pdf", "certified.pdf");
        Material {
            fields: dir.join("fields.pdf"),
            certified: dir.join("certified.pdf"),
            vendor_root: dir.join("root-test-only.pem"),
            dir,
        }
    })
}

/// A DPA without the embedded signature (a config with no PDF key), so that these tests
/// can certify it with pyHanko, independently of dpa's own signing.
fn issue(out: &Path) -> PathBuf {
    let config = unsigned_config(&out.with_file_name("unsigned-dpa.toml"));
    let mut cmd = dpa();
    cmd.arg("generate")
        .arg("--config")
        .arg(&config)
        .arg("--customer")
        .arg(fixture("fixtures/customers/acme-widgets-us.toml"))
        .arg("--out")
        .arg(out);
    printed_pdf(&ok(run(&mut cmd)))
}

/// Countersigns `input` in field `field` with tests/pades/countersign.py.
fn countersign(
    input: &Path,
    output: &str,
    field: &str,
    who: &str,
    tamper: Option<&str>,
) -> PathBuf {
    pades_common::countersign(
        &material().dir,
        &fixture("tests/pades/countersign.py"),
        input,
        output,
        field,
        who,
        tamper,
    )
}

fn anchors(path: &Path) -> TrustAnchors {
    TrustAnchors::new(CertChain::load(path).unwrap().certificates().to_vec())
}

fn check(path: &Path) -> PdfVerdict {
    pdfsig::verify(
        &std::fs::read(path).unwrap(),
        &anchors(&material().vendor_root),
    )
}

fn reasons(v: &PdfVerdict) -> String {
    v.signatures
        .iter()
        .flat_map(|s| s.reasons.iter().cloned())
        .collect::<Vec<_>>()
        .join("; ")
}

#[test]
fn the_certified_dpa_is_intact_trusted_and_leaves_the_customer_field_empty() {
    let m = material();
    let v = check(&m.certified);
    assert!(v.unreadable.is_none());
    assert_eq!(v.signatures.len(), 1, "{v:#?}");
    let s = &v.signatures[0];
    assert_eq!(s.signature.field.as_deref(), Some("Vendor"));
    assert_eq!(s.signature.certification, Some(2));
    assert!(s.signature.covers_whole_file);
    assert_eq!(s.signature.revision, Some(v.revisions.len()));
    assert!(s.valid(), "{:?}", s.reasons);
    assert!(s.trusted());
    assert!(s.signer.as_ref().unwrap().subject.contains("SegMetrics"));
    assert_eq!(v.empty_fields, vec!["Customer".to_string()]);
    // The same file without a trusted root: intact, but who signed is unconfirmed.
    let bytes = std::fs::read(&m.certified).unwrap();
    let untrusted = pdfsig::verify(&bytes, &TrustAnchors::default());
    let s = &untrusted.signatures[0];
    assert!(s.valid() && !s.trusted());
    assert!(matches!(
        s.trust,
        Some(Trust::Untrusted {
            problem: PathProblem::NoAnchorGiven
        })
    ));
    // A root the user trusts for something else does not vouch for the vendor.
    let (_, other) = pades_common::customer_cert(&m.dir, "rsa2048");
    let wrong = pdfsig::verify(&bytes, &anchors(&m.dir.join(other)));
    assert!(matches!(
        wrong.signatures[0].trust,
        Some(Trust::Untrusted {
            problem: PathProblem::NotAnchored { .. }
        })
    ));
    // poppler agrees.
    let out = pades_common::sh(&m.dir, "pdfsig", &["certified.pdf"]);
    assert!(out.contains("Signature is Valid."), "{out}");
    assert!(out.contains("Total document signed"), "{out}");
}

#[test]
fn a_countersignature_is_a_permitted_change_for_each_customer_algorithm() {
    let m = material();
    let original = std::fs::read(&m.certified).unwrap();
    for who in ["rsa2048", "p384", "ed25519"] {
        let signed = countersign(
            &m.certified,
            &format!("counter-{who}.pdf"),
            "Customer",
            who,
            None,
        );
        let bytes = std::fs::read(&signed).unwrap();
        assert!(
            bytes.starts_with(&original),
            "{who}: not an incremental update"
        );
        let v = check(&signed);
        assert_eq!(v.signatures.len(), 2, "{who}: {v:#?}");
        let vendor = &v.signatures[0];
        assert!(vendor.valid(), "{who}: {:?}", vendor.reasons);
        assert!(vendor.trusted());
        assert!(!vendor.signature.covers_whole_file);
        assert_eq!(vendor.signature.revision, Some(v.revisions.len() - 1));
        assert!(vendor.changes_permitted);
        assert!(
            vendor.changes_after.contains(&Change::FieldSigned {
                field: "Customer".into()
            }),
            "{who}: {:?}",
            vendor.changes_after
        );
        let customer = &v.signatures[1];
        assert_eq!(customer.signature.field.as_deref(), Some("Customer"));
        assert!(customer.intact, "{who}: {:?}", customer.reasons);
        assert!(customer.valid());
        assert!(customer.signature.covers_whole_file);
        let subject = &customer.signer.as_ref().unwrap().subject;
        assert!(subject.contains(&format!("Customer {who}")), "{subject}");
        // The customer's own certificate is not trusted by the vendor's root.
        assert!(!customer.trusted());
        assert!(v.empty_fields.is_empty());
        if who != "ed25519" {
            // poppler cannot read Ed25519 CMS (PROBES.md); for the others it agrees.
            let out = pades_common::sh(
                &m.dir,
                "pdfsig",
                &[signed.file_name().unwrap().to_str().unwrap()],
            );
            assert_eq!(out.matches("Signature is Valid.").count(), 2, "{out}");
        }
    }
}

#[test]
fn changes_beyond_signing_are_named_and_not_valid() {
    let m = material();
    let cases = [
        ("content", "Customer", "the content of page 1 was changed"),
        ("annot", "Customer", "a Text annotation was added on page 1"),
        ("newfield", "Extra", "a form field Extra was added"),
    ];
    for (tamper, field, expected) in cases {
        let file = countersign(
            &m.certified,
            &format!("tamper-{tamper}.pdf"),
            field,
            "rsa2048",
            Some(tamper),
        );
        let v = check(&file);
        let vendor = &v.signatures[0];
        assert!(
            vendor.intact,
            "{tamper}: the vendor's bytes themselves are untouched"
        );
        assert!(!vendor.changes_permitted, "{tamper}");
        assert!(!vendor.valid(), "{tamper}");
        let all = reasons(&v);
        assert!(all.contains(expected), "{tamper}: {all}");
        // pyHanko also refuses the modification.
        let out = Command::new("pyhanko")
            .args(["sign", "validate", "--trust", "root-test-only.pem"])
            .arg(&file)
            .current_dir(&m.dir)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{tamper}: pyHanko accepted it");
    }
}

#[test]
fn a_file_rewritten_by_qpdf_is_not_valid() {
    let m = material();
    pades_common::sh(&m.dir, "qpdf", &["certified.pdf", "rewritten.pdf"]);
    let v = check(&m.dir.join("rewritten.pdf"));
    let s = &v.signatures[0];
    assert!(!s.valid());
    assert!(
        s.signature.problems.iter().any(|p| matches!(
            p,
            RangeProblem::OutOfRange { .. } | RangeProblem::GapNotContents
        )),
        "{:?}",
        s.signature.problems
    );
    assert!(reasons(&v).contains("rewritten"), "{}", reasons(&v));
}

#[test]
fn one_changed_byte_in_the_signed_range_is_found() {
    let m = material();
    let mut bytes = std::fs::read(&m.certified).unwrap();
    // A byte inside the first page's text stream area, well before the signature.
    let at = bytes.len() / 3;
    bytes[at] ^= 0x01;
    let v = pdfsig::verify(&bytes, &anchors(&m.vendor_root));
    let s = &v.signatures[0];
    assert!(!s.intact);
    assert!(
        reasons(&v).contains("signed bytes were changed"),
        "{}",
        reasons(&v)
    );
}

#[test]
fn xref_and_object_streams_are_read_in_every_revision() {
    let m = material();
    pades_common::sh(
        &m.dir,
        "qpdf",
        &[
            "--object-streams=generate",
            "fields.pdf",
            "objstm-fields.pdf",
        ],
    );
    pades_common::certify(&m.dir, "objstm-fields.pdf", "objstm-certified.pdf");
    let cert = m.dir.join("objstm-certified.pdf");
    assert!(
        std::fs::read(&cert)
            .unwrap()
            .windows(7)
            .any(|w| w == b"/ObjStm")
    );
    let signed = countersign(&cert, "objstm-counter.pdf", "Customer", "rsa2048", None);
    let v = check(&signed);
    assert_eq!(v.signatures.len(), 2);
    assert!(v.signatures.iter().all(|s| s.valid()), "{}", reasons(&v));
    assert!(v.signatures[0].trusted());
    let tampered = countersign(
        &cert,
        "objstm-tamper.pdf",
        "Customer",
        "rsa2048",
        Some("content"),
    );
    let all = reasons(&check(&tampered));
    assert!(all.contains("the content of page 1 was changed"), "{all}");
}

#[test]
fn truncated_files_are_not_valid_and_never_panic() {
    let m = material();
    let signed = countersign(
        &m.certified,
        "counter-trunc.pdf",
        "Customer",
        "rsa2048",
        None,
    );
    let bytes = std::fs::read(signed).unwrap();
    let anchors = anchors(&m.vendor_root);
    let step = bytes.len() / 97;
    for cut in (0..bytes.len()).step_by(step.max(1)) {
        let v = pdfsig::verify(&bytes[..cut], &anchors);
        // Whatever survives a cut, the customer's whole-file signature does not.
        assert!(
            !v.signatures
                .iter()
                .any(|s| s.valid() && s.signature.field.as_deref() == Some("Customer")),
            "cut at {cut}"
        );
    }
    // Cut exactly at the end of the vendor's revision: that is the certified file.
    let certified_len = std::fs::metadata(&m.certified).unwrap().len() as usize;
    let v = pdfsig::verify(&bytes[..certified_len], &anchors);
    assert!(v.signatures[0].trusted());
}

#[test]
fn the_demo_fields_file_has_no_signature_yet() {
    let v = check(&material().fields);
    assert!(v.signatures.is_empty());
    assert_eq!(
        v.empty_fields,
        vec!["Vendor".to_string(), "Customer".to_string()]
    );
}

proptest! {
    // PROPTEST_CASES=20000 runs a longer fuzz session.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256),
        .. ProptestConfig::default()
    })]

    /// Random damage anywhere in a countersigned file never panics, and a damaged
    /// signed byte never leaves a signature valid.
    #[test]
    fn damage_never_panics(edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let original = fuzz_base().clone();
        let mut bytes = original.clone();
        for (index, value) in &edits {
            let i = index.index(bytes.len());
            bytes[i] = *value;
        }
        check_damage(&original, &bytes)?;
    }

    /// The same near the end of the file, where the update, its signature dictionary,
    /// its /ByteRange and the cross-reference data are.
    #[test]
    fn damage_near_the_end_never_panics(edits in prop::collection::vec((0usize..4000, any::<u8>()), 1..6)) {
        let original = fuzz_base().clone();
        let mut bytes = original.clone();
        for (back, value) in &edits {
            let i = bytes.len() - 1 - back.min(&(bytes.len() - 1));
            bytes[i] = *value;
        }
        check_damage(&original, &bytes)?;
    }
}

fn fuzz_base() -> &'static Vec<u8> {
    static BASE: OnceLock<Vec<u8>> = OnceLock::new();
    BASE.get_or_init(|| {
        let m = material();
        let path = countersign(
            &m.certified,
            "counter-fuzz.pdf",
            "Customer",
            "rsa2048",
            None,
        );
        std::fs::read(path).unwrap()
    })
}

/// Damaged bytes never panic, and any signature still valid covers only unchanged bytes.
fn check_damage(original: &[u8], bytes: &[u8]) -> Result<(), TestCaseError> {
    let m = material();
    {
        let v = pdfsig::verify(bytes, &anchors(&m.vendor_root));
        if bytes != original {
            for s in &v.signatures {
                if s.valid()
                    && let Some([(a, b), (c, d)]) = s.signature.ranges
                {
                    prop_assert_eq!(&bytes[a..b], &original[a..b]);
                    prop_assert_eq!(&bytes[c..d], &original[c..d]);
                }
            }
        }
    }
    Ok(())
}
