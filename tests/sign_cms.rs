//! The PAdES CMS signature checked by OpenSSL, and CMS verification of signatures that
//! OpenSSL makes the way customers' software does: RSA PKCS#1 v1.5 and PSS, ECDSA P-256
//! and P-384, signer by issuer+serial or by key identifier; and the chain rules. (OpenSSL
//! 3.0 cannot make Ed25519 CMS signatures; pyHanko makes one in tests/sign_pdf.rs.)
#![cfg(unix)]

use std::path::Path;
use std::process::Command;

use chrono::{DateTime, NaiveDate, Utc};
use dpa::sign::cms::{self, CmsProblem, Trust};
use dpa::sign::pkix::{PathProblem, SignatureProblem, TrustAnchors};
use dpa::sign::x509::{
    CertChain, ChainSubject, PdfSigner, PdfSigningKey, issue_default_chain, start_of_day,
};
use x509_cert::Certificate;

fn day(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    start_of_day(NaiveDate::from_ymd_opt(y, m, d).unwrap())
}

fn signer() -> PdfSigner {
    let leaf = PdfSigningKey::from_seed(b"test-only leaf");
    let root = PdfSigningKey::from_seed(b"test-only root");
    let chain = issue_default_chain(
        &leaf,
        &root,
        &ChainSubject::vendor("SegMetrics, Inc.", Some("privacy@segmetrics.io")),
        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        10,
    )
    .unwrap();
    PdfSigner::new(leaf, chain, day(2026, 6, 1)).unwrap()
}

fn run(cmd: &mut Command) -> std::process::Output {
    cmd.output().expect("run tool (CI installs openssl)")
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = run(Command::new("openssl").args(args).current_dir(dir));
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn openssl_verifies_the_pades_signature_against_the_root() {
    let dir = tempfile::tempdir().unwrap();
    let signer = signer();
    let content = b"%PDF-1.7 the signed byte ranges, concatenated".to_vec();
    let der = cms::sign(&signer, &[&content[..20], &content[20..]]).unwrap();
    std::fs::write(dir.path().join("sig.der"), &der).unwrap();
    std::fs::write(dir.path().join("content.bin"), &content).unwrap();
    let root = dpa::sign::x509::cert_pem(signer.chain().top()).unwrap();
    std::fs::write(dir.path().join("root.pem"), root).unwrap();
    openssl(
        dir.path(),
        &[
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            "sig.der",
            "-content",
            "content.bin",
            "-CAfile",
            "root.pem",
            "-purpose",
            "any",
            "-attime",
            "1780272000",
            "-out",
            "/dev/null",
        ],
    );
    // Another content is refused by OpenSSL too.
    std::fs::write(dir.path().join("other.bin"), b"other").unwrap();
    let out = run(Command::new("openssl").current_dir(dir.path()).args([
        "cms",
        "-verify",
        "-binary",
        "-inform",
        "DER",
        "-in",
        "sig.der",
        "-content",
        "other.bin",
        "-CAfile",
        "root.pem",
        "-purpose",
        "any",
        "-attime",
        "1780272000",
        "-out",
        "/dev/null",
    ]));
    assert!(!out.status.success());
    // The attributes are the PAdES B-B set: no signing time.
    let out = run(Command::new("openssl").current_dir(dir.path()).args([
        "cms", "-cmsout", "-print", "-inform", "DER", "-in", "sig.der",
    ]));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("contentType"), "{text}");
    assert!(text.contains("messageDigest"));
    assert!(text.contains("id-smime-aa-signingCertificateV2"), "{text}");
    assert!(!text.contains("signingTime"));
    assert!(text.contains("ecdsa-with-SHA256"));
}

/// A customer's certificate made by openssl: (key algorithm args, signing digest).
fn customer_cert(dir: &Path, name: &str, genpkey: &[&str], md: &str) -> Certificate {
    let key = format!("{name}.key");
    let crt = format!("{name}.pem");
    let mut args = vec!["genpkey"];
    args.extend_from_slice(genpkey);
    args.extend_from_slice(&["-out", &key]);
    openssl(dir, &args);
    let mut req = vec![
        "req", "-new", "-x509", "-key", &key, "-out", &crt, "-days", "3650", "-subj",
    ];
    let subj = format!("/CN=Customer {name}/O=Test Only Customer GmbH");
    req.push(&subj);
    if !md.is_empty() {
        req.push(md);
    }
    openssl(dir, &req);
    let pem = std::fs::read_to_string(dir.join(&crt)).unwrap();
    CertChain::parse_pem(&pem, &crt).unwrap().leaf().clone()
}

fn openssl_sign(dir: &Path, name: &str, content: &str, extra: &[&str]) -> Vec<u8> {
    let key = format!("{name}.key");
    let crt = format!("{name}.pem");
    let out = format!("{name}.der");
    let mut args = vec![
        "cms", "-sign", "-binary", "-outform", "DER", "-in", content, "-signer", &crt, "-inkey",
        &key, "-out", &out,
    ];
    args.extend_from_slice(extra);
    openssl(dir, &args);
    std::fs::read(dir.join(out)).unwrap()
}

#[test]
fn signatures_by_the_algorithms_customers_use_verify() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let content = b"the bytes a countersignature covers".to_vec();
    std::fs::write(d.join("content.bin"), &content).unwrap();
    let cases: Vec<(&str, Vec<&str>, &str, Vec<&str>)> = vec![
        (
            "rsa2048",
            vec!["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
            "-sha256",
            vec![],
        ),
        (
            "rsapss",
            vec!["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
            "-sha256",
            vec!["-keyopt", "rsa_padding_mode:pss", "-md", "sha256"],
        ),
        (
            "p256",
            vec!["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
            "-sha256",
            vec![],
        ),
        (
            "p384",
            vec!["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
            "-sha384",
            vec!["-md", "sha384"],
        ),
        (
            "skid",
            vec!["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
            "-sha256",
            vec!["-keyid"],
        ),
    ];
    for (name, genpkey, md, extra) in cases {
        let cert = customer_cert(d, name, &genpkey, md);
        let der = openssl_sign(d, name, "content.bin", &extra);
        let mut v = cms::verify(&der, &[&content]);
        assert!(v.intact(), "{name}: {:?}", v.problem);
        let signer = v.signer.clone().unwrap();
        assert!(
            signer.subject.contains(&format!("Customer {name}")),
            "{name}: {}",
            signer.subject
        );
        // openssl adds a signing-time attribute.
        assert!(v.signing_time.is_some(), "{name}");
        let at = v.signing_time.unwrap();
        // Self-signed customer certificate: trusted only when the user gives it.
        assert!(
            v.check_trust(&TrustAnchors::new(vec![cert.clone()]), at)
                .is_trusted(),
            "{name}"
        );
        let untrusted = v
            .check_trust(&TrustAnchors::new(vec![signer_root()]), at)
            .clone();
        assert!(
            matches!(
                untrusted,
                Trust::Untrusted {
                    problem: PathProblem::NotAnchored { .. }
                }
            ),
            "{name}: {untrusted:?}"
        );
        // One changed byte of content.
        let v = cms::verify(&der, &[b"the bytes a countersignature coverS"]);
        assert_eq!(v.problem, Some(CmsProblem::DigestMismatch), "{name}");
    }
}

fn signer_root() -> Certificate {
    signer().chain().top().clone()
}

#[test]
fn a_weak_rsa_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("content.bin"), b"x").unwrap();
    customer_cert(
        d,
        "rsa1024",
        &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"],
        "-sha256",
    );
    let der = openssl_sign(d, "rsa1024", "content.bin", &[]);
    let v = cms::verify(&der, &[b"x"]);
    assert!(
        matches!(
            v.problem,
            Some(CmsProblem::Signature {
                problem: SignatureProblem::Weak(_)
            })
        ),
        "{:?}",
        v.problem
    );
}

#[test]
fn trust_is_judged_at_the_signing_time() {
    let signer = signer();
    let der = cms::sign(&signer, &[b"abc"]).unwrap();
    let anchors = TrustAnchors::new(vec![signer.chain().top().clone()]);
    let mut v = cms::verify(&der, &[b"abc"]);
    assert!(v.check_trust(&anchors, day(2030, 1, 1)).is_trusted());
    let late = v.check_trust(&anchors, day(2036, 1, 2)).clone();
    assert!(
        matches!(
            late,
            Trust::Untrusted {
                problem: PathProblem::OutsideValidity { .. }
            }
        ),
        "{late:?}"
    );
}
