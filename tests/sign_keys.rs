//! Keys and certificates for the PDF signature, and the key-handling findings of the
//! reliability issue: keys of the wrong type are named for what they are, the demo-key
//! permission exemption goes by the real file, a world-writable key folder warns, a
//! CA-issued chain loads and one in the wrong order, expired or for another key is refused
//! naming the file, and another customer's signature is "another document".
#![cfg(unix)]

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use chrono::{DateTime, NaiveDate, Utc};
use common::*;
use dpa::sign::keys::{self, KeyWarning};
use dpa::sign::pkix::TrustAnchors;
use dpa::sign::verify::Reason;
use dpa::sign::x509::{
    self, CertChain, ChainSubject, PdfSigner, PdfSigningKey, issue_default_chain, start_of_day,
};
use dpa::sign::{Evidence, PublicKey, SecretKey, SignError, cms};

fn day(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    start_of_day(NaiveDate::from_ymd_opt(y, m, d).unwrap())
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn private(dir: &Path, name: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    path
}

#[test]
fn keys_of_another_type_are_named_for_what_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl(
        d,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "p256.key",
        ],
    );
    openssl(
        d,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-384",
            "-out",
            "p384.key",
        ],
    );
    openssl(d, &["genpkey", "-algorithm", "ed448", "-out", "ed448.key"]);
    openssl(
        d,
        &["genpkey", "-algorithm", "ed25519", "-out", "ed25519.key"],
    );
    openssl(
        d,
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            "rsa.key",
        ],
    );
    openssl(
        d,
        &["pkey", "-in", "p256.key", "-pubout", "-out", "p256.pub.pem"],
    );
    openssl(
        d,
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "sec1.key",
        ],
    );

    // Where an Ed25519 key is expected (detached signatures).
    for (file, named) in [
        ("p256.key", "ECDSA P-256"),
        ("ed448.key", "Ed448"),
        ("rsa.key", "RSA"),
    ] {
        let err = SecretKey::load(&private(d, file)).unwrap_err().to_string();
        assert!(err.contains(named), "{file}: {err}");
        assert!(err.contains(file), "{file}: {err}");
        assert!(!err.contains("1.3.101.112"), "{file}: {err}");
    }
    let err = PublicKey::load(&d.join("p256.pub.pem"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("ECDSA P-256"), "{err}");

    // Where the P-256 PDF signing key is expected.
    for (file, named) in [
        ("ed25519.key", "Ed25519"),
        ("ed448.key", "Ed448"),
        ("p384.key", "ECDSA P-384"),
        ("rsa.key", "RSA"),
    ] {
        let err = PdfSigningKey::load(&private(d, file)).unwrap_err();
        assert!(
            matches!(err, SignError::UnsupportedKey { .. }),
            "{file}: {err}"
        );
        let text = err.to_string();
        assert!(
            text.contains(named) && text.contains(file),
            "{file}: {text}"
        );
        assert!(err.hint().unwrap().contains("P-256"));
    }
    PdfSigningKey::load(&private(d, "p256.key")).unwrap();
    PdfSigningKey::load(&private(d, "sec1.key")).unwrap();
    // Permissions are checked as for the Ed25519 key.
    fs::set_permissions(d.join("p256.key"), fs::Permissions::from_mode(0o644)).unwrap();
    assert!(matches!(
        PdfSigningKey::load(&d.join("p256.key")),
        Err(SignError::KeyPermissions { .. })
    ));
}

#[test]
fn the_demo_exemption_goes_by_the_real_file_not_a_link_name() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let real = fs::read(fixture("fixtures/keys/demo-only.key")).unwrap();
    fs::write(d.join("production.key"), &real).unwrap();
    fs::set_permissions(d.join("production.key"), fs::Permissions::from_mode(0o644)).unwrap();
    std::os::unix::fs::symlink(d.join("production.key"), d.join("demo-only.key")).unwrap();
    let err = SecretKey::load(&d.join("demo-only.key")).unwrap_err();
    assert!(matches!(err, SignError::KeyPermissions { .. }), "{err}");
    // A real demo file still loads with its warning, whatever the link is called.
    fs::write(d.join("demo-only-copy.key"), &real).unwrap();
    fs::set_permissions(
        d.join("demo-only-copy.key"),
        fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    std::os::unix::fs::symlink(d.join("demo-only-copy.key"), d.join("signing.key")).unwrap();
    let key = SecretKey::load(&d.join("signing.key")).unwrap();
    assert!(matches!(
        key.warning(),
        Some(KeyWarning::LoosePermissions { .. })
    ));
}

#[test]
fn keys_written_into_a_world_writable_folder_warn() {
    let dir = tempfile::tempdir().unwrap();
    let open = dir.path().join("shared");
    fs::create_dir(&open).unwrap();
    fs::set_permissions(&open, fs::Permissions::from_mode(0o777)).unwrap();
    let info = keys::generate(&open, "privacy@segmetrics.io").unwrap();
    assert!(matches!(
        info.warnings.as_slice(),
        [KeyWarning::WorldWritableFolder { mode: 0o777, .. }]
    ));
    let subject = ChainSubject::vendor("SegMetrics, Inc.", Some("privacy@segmetrics.io"));
    let pdf = x509::generate(
        &open,
        &subject,
        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
    )
    .unwrap();
    assert_eq!(pdf.warnings.len(), 1);
    let private = dir.path().join("private");
    fs::create_dir(&private).unwrap();
    fs::set_permissions(&private, fs::Permissions::from_mode(0o700)).unwrap();
    assert!(
        keys::generate(&private, "privacy@segmetrics.io")
            .unwrap()
            .warnings
            .is_empty()
    );
}

#[test]
fn generated_pdf_keys_are_private_never_overwritten_and_check_out() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    let subject = ChainSubject::vendor("SegMetrics, Inc.", Some("privacy@segmetrics.io"));
    let info = x509::generate(
        &keys,
        &subject,
        NaiveDate::from_ymd_opt(2026, 5, 1).unwrap(),
    )
    .unwrap();
    let mode = fs::metadata(&info.secret_key).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(info.subject.contains("SegMetrics"));
    let signer = PdfSigner::load(&info.secret_key, &info.chain, day(2026, 6, 1)).unwrap();
    let root = CertChain::load(&info.root).unwrap();
    assert_eq!(root.root_fingerprint(), info.root_fingerprint);
    assert_eq!(signer.chain().root_fingerprint(), info.root_fingerprint);
    // openssl computes the same fingerprint and accepts the chain.
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(&info.root)
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&out.stdout)
        .replace(':', "")
        .to_lowercase();
    assert!(printed.contains(&info.root_fingerprint), "{printed}");
    let out = Command::new("openssl")
        .args(["verify", "-CAfile"])
        .arg(&info.root)
        .arg("-attime")
        .arg(day(2026, 6, 1).timestamp().to_string())
        .arg(&info.chain)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let before: Vec<Vec<u8>> = [&info.secret_key, &info.chain, &info.root]
        .iter()
        .map(|p| fs::read(p).unwrap())
        .collect();
    let again = x509::generate(
        &keys,
        &subject,
        NaiveDate::from_ymd_opt(2026, 5, 1).unwrap(),
    );
    assert!(matches!(again, Err(SignError::KeyExists { .. })));
    let after: Vec<Vec<u8>> = [&info.secret_key, &info.chain, &info.root]
        .iter()
        .map(|p| fs::read(p).unwrap())
        .collect();
    assert_eq!(before, after);
    // A document dated before the chain existed cannot be signed with it.
    let err = PdfSigner::load(&info.secret_key, &info.chain, day(2026, 4, 30)).unwrap_err();
    assert!(matches!(err, SignError::CertificateExpired { .. }), "{err}");
}

/// A CA-issued chain made with openssl: root, intermediate, P-256 leaf.
fn ca_chain(d: &Path) {
    let ext = |name: &str, text: &str| fs::write(d.join(name), text).unwrap();
    ext(
        "ca.ext",
        "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n",
    );
    ext(
        "leaf.ext",
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n",
    );
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-384",
            "-nodes",
            "-keyout",
            "root.key",
            "-out",
            "root.pem",
            "-days",
            "3650",
            "-subj",
            "/CN=Test Only Root CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
    openssl(
        d,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "int.key",
            "-out",
            "int.csr",
            "-subj",
            "/CN=Test Only Issuing CA",
        ],
    );
    openssl(
        d,
        &[
            "x509",
            "-req",
            "-in",
            "int.csr",
            "-CA",
            "root.pem",
            "-CAkey",
            "root.key",
            "-out",
            "int.pem",
            "-days",
            "3000",
            "-extfile",
            "ca.ext",
            "-set_serial",
            "2",
        ],
    );
    openssl(
        d,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "leaf.key",
            "-out",
            "leaf.csr",
            "-subj",
            "/CN=SegMetrics, Inc./O=Test Only",
        ],
    );
    openssl(
        d,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "int.pem",
            "-CAkey",
            "int.key",
            "-out",
            "leaf.pem",
            "-days",
            "1000",
            "-extfile",
            "leaf.ext",
            "-set_serial",
            "3",
        ],
    );
    let cat = |name: &str, parts: &[&str]| {
        let text: String = parts
            .iter()
            .map(|p| fs::read_to_string(d.join(p)).unwrap())
            .collect();
        fs::write(d.join(name), text).unwrap();
    };
    cat("chain.pem", &["leaf.pem", "int.pem", "root.pem"]);
    cat("shuffled.pem", &["leaf.pem", "root.pem", "int.pem"]);
    cat("reversed.pem", &["root.pem", "int.pem", "leaf.pem"]);
    cat("leaf-and-int.pem", &["leaf.pem", "int.pem"]);
    fs::set_permissions(d.join("leaf.key"), fs::Permissions::from_mode(0o600)).unwrap();
    fs::set_permissions(d.join("int.key"), fs::Permissions::from_mode(0o600)).unwrap();
}

#[test]
fn a_ca_issued_chain_signs_and_bad_chains_are_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ca_chain(d);
    // openssl dated these certificates from the real clock, so the test reads it too.
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let now = DateTime::<Utc>::from_timestamp(secs as i64, 0).unwrap();
    let signer = PdfSigner::load(&d.join("leaf.key"), &d.join("chain.pem"), now).unwrap();
    // The CMS made with it is trusted through the intermediate, by the root alone.
    let der = cms::sign(&signer, &[b"bytes"]).unwrap();
    let mut v = cms::verify(&der, &[b"bytes"]);
    assert!(v.intact(), "{:?}", v.problem);
    let root = CertChain::load(&d.join("root.pem")).unwrap().leaf().clone();
    assert!(
        v.check_trust(&TrustAnchors::new(vec![root]), now)
            .is_trusted()
    );
    // A chain without the root also signs (CAs often ship it that way).
    PdfSigner::load(&d.join("leaf.key"), &d.join("leaf-and-int.pem"), now).unwrap();

    let shuffled = PdfSigner::load(&d.join("leaf.key"), &d.join("shuffled.pem"), now).unwrap_err();
    assert!(
        matches!(shuffled, SignError::ChainOrder { .. }),
        "{shuffled}"
    );
    assert!(shuffled.to_string().contains("shuffled.pem"));
    let reversed = PdfSigner::load(&d.join("leaf.key"), &d.join("reversed.pem"), now).unwrap_err();
    assert!(
        matches!(reversed, SignError::CertificateKeyMismatch { .. }),
        "{reversed}"
    );
    assert!(reversed.to_string().contains("reversed.pem"));
    let other_key = PdfSigner::load(&d.join("int.key"), &d.join("chain.pem"), now).unwrap_err();
    assert!(
        matches!(other_key, SignError::UnsupportedKey { .. }),
        "{other_key}"
    );
    let dir2 = tempfile::tempdir().unwrap();
    openssl(
        dir2.path(),
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "other.key",
        ],
    );
    let mismatch = PdfSigner::load(
        &private(dir2.path(), "other.key"),
        &d.join("chain.pem"),
        now,
    )
    .unwrap_err();
    assert!(
        matches!(mismatch, SignError::CertificateKeyMismatch { .. }),
        "{mismatch}"
    );
    assert!(mismatch.to_string().contains("chain.pem"));
    let expired = PdfSigner::load(
        &d.join("leaf.key"),
        &d.join("chain.pem"),
        now + chrono::Duration::days(1100),
    )
    .unwrap_err();
    assert!(
        matches!(expired, SignError::CertificateExpired { .. }),
        "{expired}"
    );
    assert!(expired.to_string().contains("chain.pem"));
    let not_pem = PdfSigner::load(&d.join("leaf.key"), &d.join("leaf.key"), now).unwrap_err();
    assert!(
        matches!(not_pem, SignError::Certificate { .. }),
        "{not_pem}"
    );
    assert!(
        !not_pem.to_string().contains("BEGIN"),
        "a key must never be echoed: {not_pem}"
    );
}

/// Seeds, subject and dates of the committed demo PDF signing identity.
fn demo_identity() -> (PdfSigningKey, CertChain) {
    let leaf = PdfSigningKey::from_seed(b"dpa demo-only PDF signing key; never for real documents");
    let root =
        PdfSigningKey::from_seed(b"dpa demo-only PDF signing root; never for real documents");
    let subject = ChainSubject::demo("SegMetrics, Inc.", Some("privacy@segmetrics.io"));
    let chain = issue_default_chain(
        &leaf,
        &root,
        &subject,
        NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
        29,
    )
    .unwrap();
    (leaf, chain)
}

#[test]
fn the_demo_pdf_identity_in_fixtures_is_reproducible_and_says_demo() {
    let (leaf, chain) = demo_identity();
    let files = [
        (
            "fixtures/keys/demo-only-pdf.key",
            leaf.to_pkcs8_pem().unwrap().to_string(),
        ),
        (
            "fixtures/keys/demo-only-pdf.chain.pem",
            chain.to_pem().unwrap(),
        ),
        (
            "fixtures/keys/demo-only-pdf-root.pem",
            x509::cert_pem(chain.top()).unwrap(),
        ),
    ];
    if std::env::var_os("DPA_WRITE_DEMO_FIXTURES").is_some() {
        for (path, text) in &files {
            fs::write(fixture(path), text).unwrap();
        }
    }
    for (path, text) in &files {
        assert_eq!(
            &fs::read_to_string(fixture(path)).unwrap(),
            text,
            "{path} (DPA_WRITE_DEMO_FIXTURES=1 rewrites it)"
        );
    }
    let signer = PdfSigner::load(
        &fixture("fixtures/keys/demo-only-pdf.key"),
        &fixture("fixtures/keys/demo-only-pdf.chain.pem"),
        day(2026, 6, 1),
    )
    .unwrap();
    let subject = dpa::sign::pkix::subject(signer.chain().leaf());
    assert!(
        subject.contains("DEMO ONLY - not a real signer"),
        "{subject}"
    );
}

#[test]
fn another_customers_signature_belongs_to_another_document() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let issue = |customer: &str| {
        let mut cmd = dpa();
        cmd.arg("generate")
            .arg("--customer")
            .arg(fixture(&format!("fixtures/customers/{customer}.toml")))
            .arg("--out")
            .arg(&out);
        printed_pdf(&ok(run(&mut cmd)))
    };
    let acme = issue("acme-widgets-us");
    let mueller = issue("mueller-soehne");
    assert_eq!(
        acme.file_name(),
        mueller.file_name(),
        "same file name for every customer"
    );
    let minisig = fs::read(with_suffix(&mueller, ".minisig")).unwrap();
    let key = PublicKey::load(&fixture("fixtures/keys/demo-only.pub.pem")).unwrap();
    let evidence = Evidence {
        minisig: Some(&minisig),
        sha256: None,
        sshsig: None,
    };
    let verdict = dpa::sign::verify(&acme, &evidence, &key).unwrap();
    match verdict.reason() {
        Some(Reason::OtherDocument {
            detail: Some(detail),
            ..
        }) => {
            assert!(
                detail.contains("mueller-soehne") && detail.contains("acme-widgets-us"),
                "{detail}"
            );
        }
        other => panic!("{other:?}"),
    }
    // An edit to acme's own document is still "altered".
    let mut bytes = fs::read(&acme).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 1;
    let edited = dir.path().join(acme.file_name().unwrap());
    fs::write(&edited, bytes).unwrap();
    let minisig = fs::read(with_suffix(&acme, ".minisig")).unwrap();
    let evidence = Evidence {
        minisig: Some(&minisig),
        sha256: None,
        sshsig: None,
    };
    let verdict = dpa::sign::verify(&edited, &evidence, &key).unwrap();
    assert!(
        matches!(verdict.reason(), Some(Reason::AlteredDocument { .. })),
        "{:?}",
        verdict.reason()
    );
}
