//! Signing and verifying end to end, checked with the tools customers have: minisign,
//! ssh-keygen and openssl, and with `dpa::sign::verify` against tampered inputs.
#![cfg(unix)]

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use chrono::NaiveDate;
use dpa::sign::keys::{self, KeyInfo, KeyWarning};
use dpa::sign::minisign::MinisigProblem;
use dpa::sign::sshsig::SshsigProblem;
use dpa::sign::verify::Warning;
use dpa::sign::{
    Evidence, PublicKey, Reason, SecretKey, SignError, Signatures, TrustedComment, Verdict,
    sha256_hex, sign, verify, verify_with_key_file,
};
use ed25519_dalek::pkcs8::DecodePrivateKey;
use proptest::prelude::*;
use tempfile::TempDir;

const IDENTITY: &str = "privacy@segmetrics.io";

/// Deterministic PDF-like bytes of about `len` bytes; `seed` makes different documents.
fn pdf_bytes(seed: &str, len: usize) -> Vec<u8> {
    let mut out = b"%PDF-1.3\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n".to_vec();
    let mut i = 0u32;
    while out.len() < len {
        out.extend_from_slice(
            format!("% {seed} line {i} {}\n", i.wrapping_mul(2654435761)).as_bytes(),
        );
        i += 1;
    }
    out.truncate(len);
    out.extend_from_slice(b"\n%%EOF\n");
    out
}

fn comment_for(key: &SecretKey, name: &str, pdf: &[u8], customer: &str) -> TrustedComment {
    TrustedComment {
        file: name.to_string(),
        sha256: sha256_hex(pdf),
        annex: "2026-05-26".into(),
        annex_sha256: "3f2a19c077de0b41".repeat(4),
        customer: customer.to_string(),
        issued: NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
        key: key.key_id(),
    }
}

/// A temp folder with a fresh key in `keys/`, and a signed document.
struct Case {
    dir: TempDir,
    info: KeyInfo,
    key: SecretKey,
    public: PublicKey,
}

impl Case {
    fn new() -> Case {
        let dir = tempfile::tempdir().unwrap();
        let info = keys::generate(&dir.path().join("keys"), IDENTITY).unwrap();
        let key = SecretKey::load(&info.secret_key).unwrap();
        let public = PublicKey::load(&info.public_pem).unwrap();
        Case {
            dir,
            info,
            key,
            public,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Signs `pdf` as `name` and writes the PDF and its four signature files.
    fn write_signed(&self, name: &str, pdf: &[u8], customer: &str) -> Signatures {
        let comment = comment_for(&self.key, name, pdf, customer);
        let sigs = sign(&self.key, name, pdf, &comment, true).unwrap();
        fs::write(self.path(name), pdf).unwrap();
        for (file, bytes) in sigs.files(name, true) {
            fs::write(self.path(&file), bytes).unwrap();
        }
        sigs
    }

    fn verify(&self, name: &str) -> Verdict {
        let read = |ext: &str| fs::read(self.path(&format!("{name}.{ext}"))).ok();
        let (minisig, sha256, sshsig) = (read("minisig"), read("sha256"), read("sshsig"));
        let evidence = Evidence {
            minisig: minisig.as_deref(),
            sha256: sha256.as_deref(),
            sshsig: sshsig.as_deref(),
        };
        verify(&self.path(name), &evidence, &self.public).unwrap()
    }
}

fn run(program: &str, args: &[&str], stdin: Option<&[u8]>, cwd: &Path) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program} not runnable: {e}"));
    let mut pipe = child.stdin.take().unwrap();
    if let Some(bytes) = stdin {
        pipe.write_all(bytes).unwrap();
    }
    drop(pipe);
    child.wait_with_output().unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn flip(bytes: &[u8], at: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[at] ^= 0x01;
    out
}

// ---- the customers' tools ----

#[test]
fn minisign_accepts_and_prints_the_trusted_comment() {
    let case = Case::new();
    let pdf = pdf_bytes("acme", 40_000);
    case.write_signed("X.pdf", &pdf, "acme");
    let comment = comment_for(&case.key, "X.pdf", &pdf, "acme").to_string();

    let out = run(
        "minisign",
        &["-Vm", "X.pdf", "-P", &case.info.minisign_public_key],
        None,
        case.dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("Trusted comment: {comment}\n")),
        "{}",
        text(&out)
    );

    let pub_file = case.info.minisign_pub.to_str().unwrap();
    let out = run(
        "minisign",
        &["-Vm", "X.pdf", "-p", pub_file],
        None,
        case.dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out));

    // The same tool refuses a changed document, so the check above can fail.
    fs::write(case.path("X.pdf"), flip(&pdf, pdf.len() / 2)).unwrap();
    let out = run(
        "minisign",
        &["-Vm", "X.pdf", "-P", &case.info.minisign_public_key],
        None,
        case.dir.path(),
    );
    assert!(!out.status.success());
}

#[test]
fn minisign_prints_our_key_id_the_way_we_do() {
    let case = Case::new();
    let other = Case::new();
    let pdf = pdf_bytes("acme", 2_000);
    case.write_signed("X.pdf", &pdf, "acme");
    let out = run(
        "minisign",
        &["-Vm", "X.pdf", "-P", &other.info.minisign_public_key],
        None,
        case.dir.path(),
    );
    assert!(!out.status.success());
    let said = text(&out);
    assert!(said.contains(&format!("is {}", case.info.key_id)), "{said}");
    assert!(
        said.contains(&format!("is {}", other.info.key_id)),
        "{said}"
    );
    // The id is the start of the published fingerprint.
    assert_eq!(
        case.info.key_id.to_string(),
        case.info.fingerprint[..16]
            .to_uppercase()
            .trim_start_matches('0')
    );
    let pub_file = fs::read_to_string(&case.info.minisign_pub).unwrap();
    assert!(pub_file.starts_with(&format!(
        "untrusted comment: minisign public key {}\n",
        case.info.key_id
    )));
}

#[test]
fn a_key_id_with_a_leading_zero_is_shown_as_minisign_shows_it() {
    use ed25519_dalek::pkcs8::EncodePrivateKey;
    // Find a key whose fingerprint starts with 0 (one in 16), so its id has a leading zero.
    let signing = (0u8..=255)
        .map(|i| ed25519_dalek::SigningKey::from_bytes(&[i; 32]))
        .find(|k| keys::fingerprint(k.verifying_key().as_bytes()).starts_with('0'))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("test-only-zero.key");
    let pem = ed25519_dalek::pkcs8::KeypairBytes {
        secret_key: signing.to_bytes(),
        public_key: None,
    }
    .to_pkcs8_pem(Default::default())
    .unwrap();
    fs::write(&key_path, pem.as_bytes()).unwrap();
    fs::set_permissions(&key_path, fs::Permissions::from_mode(0o600)).unwrap();
    let key = SecretKey::load(&key_path).unwrap();
    let shown = key.key_id().to_string();
    assert!(shown.len() < 16, "{shown}");

    let pdf = pdf_bytes("zero", 1_000);
    let sigs = sign(
        &key,
        "X.pdf",
        &pdf,
        &comment_for(&key, "X.pdf", &pdf, "acme"),
        true,
    )
    .unwrap();
    fs::write(dir.path().join("X.pdf"), &pdf).unwrap();
    fs::write(dir.path().join("X.pdf.minisig"), &sigs.minisig).unwrap();
    let other = Case::new();
    let out = run(
        "minisign",
        &["-Vm", "X.pdf", "-P", &other.info.minisign_public_key],
        None,
        dir.path(),
    );
    assert!(
        text(&out).contains(&format!("X.pdf.minisig is {shown}\n")),
        "{}",
        text(&out)
    );
    assert!(sigs.minisig.contains(&format!(" key={shown}\n")));
}

#[test]
fn minisign_refuses_an_edited_trusted_comment() {
    let case = Case::new();
    let pdf = pdf_bytes("acme", 3_000);
    let sigs = case.write_signed("X.pdf", &pdf, "acme");
    let edited = sigs.minisig.replace("customer=acme", "customer=evil");
    fs::write(case.path("X.pdf.minisig"), &edited).unwrap();
    let out = run(
        "minisign",
        &["-Vm", "X.pdf", "-P", &case.info.minisign_public_key],
        None,
        case.dir.path(),
    );
    assert!(!out.status.success(), "{}", text(&out));
    assert_eq!(case.verify("X.pdf").reason(), Some(&Reason::EditedComment));
}

#[test]
fn ssh_keygen_says_good() {
    let case = Case::new();
    let pdf = pdf_bytes("acme", 30_000);
    case.write_signed("X.pdf", &pdf, "acme");
    let allowed = case.info.allowed_signers.to_str().unwrap();
    let args = [
        "-Y",
        "verify",
        "-f",
        allowed,
        "-I",
        IDENTITY,
        "-n",
        "dpa",
        "-s",
        "X.pdf.sshsig",
    ];
    let out = run("ssh-keygen", &args, Some(&pdf), case.dir.path());
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("Good \"dpa\" signature for {IDENTITY}")),
        "{}",
        text(&out)
    );
    let out = run("ssh-keygen", &args, Some(&flip(&pdf, 0)), case.dir.path());
    assert!(!out.status.success());
    let line = fs::read_to_string(allowed).unwrap();
    assert!(line.starts_with(&format!("{IDENTITY} namespaces=\"dpa\" ssh-ed25519 AAAA")));
    assert_eq!(line.lines().count(), 1);
}

#[test]
fn sshsig_is_byte_identical_to_ssh_keygen_sign() {
    let case = Case::new();
    let pdf = pdf_bytes("acme", 10_000);
    let sigs = case.write_signed("X.pdf", &pdf, "acme");
    // The same key in OpenSSH format, so ssh-keygen can sign with it.
    let pem = fs::read_to_string(&case.info.secret_key).unwrap();
    let signing = ed25519_dalek::SigningKey::from_pkcs8_pem(&pem).unwrap();
    let openssh = ssh_key::PrivateKey::from(ssh_key::private::Ed25519Keypair::from_seed(
        &signing.to_bytes(),
    ))
    .to_openssh(ssh_key::LineEnding::LF)
    .unwrap();
    let key_path = case.path("test-only-openssh.key");
    fs::write(&key_path, openssh.as_bytes()).unwrap();
    fs::set_permissions(&key_path, fs::Permissions::from_mode(0o600)).unwrap();
    let out = run(
        "ssh-keygen",
        &["-Y", "sign", "-f", key_path.to_str().unwrap(), "-n", "dpa"],
        Some(&pdf),
        case.dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), sigs.sshsig);
}

#[test]
fn openssl_verifies_the_raw_signature() {
    let case = Case::new();
    let pdf = pdf_bytes("acme", 20_000);
    case.write_signed("X.pdf", &pdf, "acme");
    let pem = case.info.public_pem.to_str().unwrap();
    let args = [
        "pkeyutl",
        "-verify",
        "-pubin",
        "-inkey",
        pem,
        "-rawin",
        "-in",
        "X.pdf",
        "-sigfile",
        "X.pdf.sig",
    ];
    let out = run("openssl", &args, None, case.dir.path());
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("Signature Verified Successfully"));
    fs::write(case.path("X.pdf"), flip(&pdf, pdf.len() - 1)).unwrap();
    let out = run("openssl", &args, None, case.dir.path());
    assert!(!out.status.success());
}

#[test]
fn sha256sum_checks_the_hash_file() {
    let case = Case::new();
    let pdf = pdf_bytes("acme", 5_000);
    case.write_signed("X.pdf", &pdf, "acme");
    let out = run("sha256sum", &["-c", "X.pdf.sha256"], None, case.dir.path());
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("X.pdf: OK"));
}

#[test]
fn an_openssl_genpkey_key_loads_signs_and_minisign_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        "openssl",
        &["genpkey", "-algorithm", "ed25519", "-out", "k.pem"],
        None,
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out));
    let key_path = dir.path().join("k.pem");
    fs::set_permissions(&key_path, fs::Permissions::from_mode(0o600)).unwrap();
    let key = SecretKey::load(&key_path).unwrap();
    assert!(key.warning().is_none());

    // The id is derived from the public key, so it is the same from the public PEM.
    let out = run(
        "openssl",
        &["pkey", "-in", "k.pem", "-pubout", "-out", "k.pub.pem"],
        None,
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out));
    let public = PublicKey::load(&dir.path().join("k.pub.pem")).unwrap();
    assert_eq!(public.key_id(), key.key_id());
    assert_eq!(SecretKey::load(&key_path).unwrap().key_id(), key.key_id());

    let pdf = pdf_bytes("openssl", 12_345);
    let comment = comment_for(&key, "Y.pdf", &pdf, "acme");
    let sigs = sign(&key, "Y.pdf", &pdf, &comment, true).unwrap();
    fs::write(dir.path().join("Y.pdf"), &pdf).unwrap();
    fs::write(dir.path().join("Y.pdf.minisig"), &sigs.minisig).unwrap();
    let out = run(
        "minisign",
        &["-Vm", "Y.pdf", "-P", &public.minisign_base64()],
        None,
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains(&comment.to_string()));
}

#[test]
fn a_pkcs8_v2_key_with_public_key_loads() {
    use ed25519_dalek::pkcs8::EncodePrivateKey;
    let dir = tempfile::tempdir().unwrap();
    let signing = ed25519_dalek::SigningKey::from_bytes(&[42u8; 32]);
    let v2 = signing.to_pkcs8_pem(Default::default()).unwrap();
    let path = dir.path().join("v2.key");
    fs::write(&path, v2.as_bytes()).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    let key = SecretKey::load(&path).unwrap();
    assert_eq!(
        key.public_key().to_bytes(),
        signing.verifying_key().to_bytes()
    );
}

#[test]
fn our_verify_accepts_a_signature_made_by_minisign_itself() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        "minisign",
        &["-G", "-W", "-p", "test-only.pub", "-s", "test-only.key"],
        None,
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out));
    let public = PublicKey::load(&dir.path().join("test-only.pub")).unwrap();
    let pdf = pdf_bytes("minisign", 7_000);
    fs::write(dir.path().join("Z.pdf"), &pdf).unwrap();
    let comment = TrustedComment {
        file: "Z.pdf".into(),
        sha256: sha256_hex(&pdf),
        annex: "v1".into(),
        annex_sha256: "ab".repeat(32),
        customer: "acme".into(),
        issued: NaiveDate::from_ymd_opt(2026, 1, 31).unwrap(),
        key: public.key_id(),
    };
    let out = run(
        "minisign",
        &[
            "-S",
            "-s",
            "test-only.key",
            "-m",
            "Z.pdf",
            "-t",
            &comment.to_string(),
        ],
        None,
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out));
    let minisig = fs::read(dir.path().join("Z.pdf.minisig")).unwrap();
    let evidence = Evidence {
        minisig: Some(&minisig),
        ..Evidence::default()
    };
    let verdict = verify(&dir.path().join("Z.pdf"), &evidence, &public).unwrap();
    assert!(verdict.valid, "{verdict:#?}");
    assert_eq!(verdict.comment, Some(comment));
}

// ---- our verify ----

#[test]
fn a_good_document_is_valid_with_its_facts() {
    let case = Case::new();
    let pdf = pdf_bytes("acme", 50_000);
    case.write_signed("X.pdf", &pdf, "acme");
    let verdict = case.verify("X.pdf");
    assert!(verdict.valid, "{verdict:#?}");
    assert!(verdict.reasons.is_empty() && verdict.warnings.is_empty());
    assert_eq!(
        verdict.comment,
        Some(comment_for(&case.key, "X.pdf", &pdf, "acme"))
    );
    assert_eq!(verdict.signed_by, Some(case.info.key_id));
    assert!(verdict.checked.minisig && verdict.checked.sha256 && verdict.checked.sshsig);
    let json = serde_json::to_value(&verdict).unwrap();
    assert_eq!(json["valid"], true);
    assert_eq!(json["comment"]["customer"], "acme");
    assert_eq!(json["comment"]["issued"], "2026-06-01");
    assert_eq!(json["comment"]["key"], case.info.key_id.to_string());
}

#[test]
fn a_flipped_byte_anywhere_is_an_altered_document() {
    let case = Case::new();
    let pdf = pdf_bytes("acme", 50_000);
    case.write_signed("X.pdf", &pdf, "acme");
    for at in [0, pdf.len() / 2, pdf.len() - 1] {
        fs::write(case.path("X.pdf"), flip(&pdf, at)).unwrap();
        let verdict = case.verify("X.pdf");
        assert!(!verdict.valid);
        assert!(
            matches!(verdict.reason(), Some(Reason::AlteredDocument { signed_sha256: Some(s), .. }) if *s == sha256_hex(&pdf)),
            "byte {at}: {verdict:#?}"
        );
        assert!(
            verdict
                .reasons
                .iter()
                .any(|r| matches!(r, Reason::Sha256FileMismatch { .. }))
        );
        assert!(verdict.reasons.contains(&Reason::SshsigInvalid {
            problem: SshsigProblem::BadSignature
        }));
        assert_eq!(verdict.comment, None);
        let json = serde_json::to_value(&verdict).unwrap();
        assert_eq!(json["valid"], false);
        assert_eq!(json["reasons"][0]["reason"], "altered_document");
    }
}

#[test]
fn the_signatures_of_another_document_do_not_fit() {
    let case = Case::new();
    let mine = pdf_bytes("acme", 20_000);
    let theirs = pdf_bytes("globex", 20_000);
    case.write_signed("acme.pdf", &mine, "acme");
    case.write_signed("globex.pdf", &theirs, "globex");
    for ext in ["minisig", "sha256", "sshsig"] {
        fs::copy(
            case.path(&format!("globex.pdf.{ext}")),
            case.path(&format!("acme.pdf.{ext}")),
        )
        .unwrap();
    }
    let verdict = case.verify("acme.pdf");
    assert!(!verdict.valid);
    assert!(
        matches!(verdict.reason(), Some(Reason::OtherDocument { signed_file, .. }) if signed_file == "globex.pdf"),
        "{verdict:#?}"
    );
}

#[test]
fn a_renamed_document_is_valid_with_a_warning() {
    let case = Case::new();
    let pdf = pdf_bytes("acme", 9_000);
    case.write_signed("X.pdf", &pdf, "acme");
    for ext in ["", ".minisig", ".sha256", ".sshsig"] {
        fs::rename(
            case.path(&format!("X.pdf{ext}")),
            case.path(&format!("renamed.pdf{ext}")),
        )
        .unwrap();
    }
    let verdict = case.verify("renamed.pdf");
    assert!(verdict.valid, "{verdict:#?}");
    assert!(verdict.warnings.contains(&Warning::FileRenamed {
        signed_file: "X.pdf".into(),
        actual_file: "renamed.pdf".into()
    }));
}

#[test]
fn an_edited_trusted_comment_is_caught_in_every_field() {
    let case = Case::new();
    let pdf = pdf_bytes("acme", 9_000);
    let sigs = case.write_signed("X.pdf", &pdf, "acme");
    let good = comment_for(&case.key, "X.pdf", &pdf, "acme").to_string();
    for (from, to) in [
        ("customer=acme", "customer=acmf"),
        ("annex=2026-05-26", "annex=2026-05-27"),
        ("issued=2026-06-01", "issued=2026-06-02"),
        (" key=", "  key="),
    ] {
        let edited = sigs.minisig.replace(&good, &good.replace(from, to));
        assert_ne!(edited, sigs.minisig);
        fs::write(case.path("X.pdf.minisig"), edited).unwrap();
        let verdict = case.verify("X.pdf");
        assert_eq!(verdict.reasons, vec![Reason::EditedComment], "{from}");
        assert_eq!(verdict.comment, None);
    }
}

#[test]
fn a_damaged_signature_is_a_bad_signature() {
    let case = Case::new();
    let pdf = pdf_bytes("acme", 9_000);
    let sigs = case.write_signed("X.pdf", &pdf, "acme");
    let lines: Vec<&str> = sigs.minisig.lines().collect();
    let mut blob = STANDARD.decode(lines[1]).unwrap();
    blob[20] ^= 0x80;
    let damaged = format!(
        "{}\n{}\n{}\n{}\n",
        lines[0],
        STANDARD.encode(blob),
        lines[2],
        lines[3]
    );
    fs::write(case.path("X.pdf.minisig"), damaged).unwrap();
    assert_eq!(case.verify("X.pdf").reason(), Some(&Reason::BadSignature));
}

#[test]
fn the_wrong_public_key_is_named() {
    let case = Case::new();
    let other = Case::new();
    let pdf = pdf_bytes("acme", 9_000);
    case.write_signed("X.pdf", &pdf, "acme");
    let minisig = fs::read(case.path("X.pdf.minisig")).unwrap();
    let sshsig = fs::read(case.path("X.pdf.sshsig")).unwrap();
    let evidence = Evidence {
        minisig: Some(&minisig),
        sha256: None,
        sshsig: Some(&sshsig),
    };
    let verdict = verify(&case.path("X.pdf"), &evidence, &other.public).unwrap();
    assert!(!verdict.valid);
    assert_eq!(
        verdict.reasons,
        vec![
            Reason::WrongKey {
                signature_key_id: case.info.key_id,
                supplied_key_id: other.info.key_id
            },
            Reason::SshsigInvalid {
                problem: SshsigProblem::OtherKey
            }
        ]
    );

    // Another key under our key id (a forged minisign public key file) still fails.
    let forged = format!(
        "untrusted comment: forged\n{}\n",
        dpa::sign::minisign::encode_public_key(case.info.key_id, &other.public.to_bytes())
    );
    let forged = PublicKey::parse(&forged).unwrap();
    let verdict = verify(&case.path("X.pdf"), &evidence, &forged).unwrap();
    assert_eq!(
        verdict.reason(),
        Some(&Reason::BadSignature),
        "{verdict:#?}"
    );
}

/// The identity point: small order, so it "verifies" crafted signatures for any message.
fn weak_key_texts() -> (String, String) {
    let mut point = [0u8; 32];
    point[0] = 1;
    let mut spki = hex::decode("302a300506032b6570032100").unwrap();
    spki.extend_from_slice(&point);
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        STANDARD.encode(spki)
    );
    let minisign = dpa::sign::minisign::encode_public_key(dpa::sign::KeyId([7; 8]), &point);
    (pem, minisign)
}

#[test]
fn a_small_order_public_key_is_refused() {
    let case = Case::new();
    let pdf = pdf_bytes("acme", 4_000);
    case.write_signed("X.pdf", &pdf, "acme");
    let (pem, minisign) = weak_key_texts();
    for text in [&pem, &minisign] {
        assert!(
            matches!(PublicKey::parse(text), Err(SignError::WeakKey { .. })),
            "{text}"
        );
    }
    let key_path = case.path("weak.pub.pem");
    fs::write(&key_path, &pem).unwrap();
    let minisig = fs::read(case.path("X.pdf.minisig")).unwrap();
    let evidence = Evidence {
        minisig: Some(&minisig),
        ..Evidence::default()
    };
    let verdict = verify_with_key_file(&case.path("X.pdf"), &evidence, &key_path).unwrap();
    assert!(!verdict.valid);
    assert_eq!(verdict.reasons, vec![Reason::WeakKey]);
    // With the real key the same call answers valid, so the refusal is about the key.
    let verdict =
        verify_with_key_file(&case.path("X.pdf"), &evidence, &case.info.minisign_pub).unwrap();
    assert!(verdict.valid, "{verdict:#?}");
}

#[test]
fn unusable_signature_files_are_named_not_panicked_on() {
    let case = Case::new();
    let pdf = pdf_bytes("acme", 4_000);
    let sigs = case.write_signed("X.pdf", &pdf, "acme");
    let full = sigs.minisig.as_bytes();
    let cases: Vec<(Vec<u8>, MinisigProblem)> = vec![
        (Vec::new(), MinisigProblem::Empty),
        (b"\n\n  \n".to_vec(), MinisigProblem::Empty),
        (full[..full.len() / 3].to_vec(), MinisigProblem::Truncated),
        (
            full[..full.len() - 20].to_vec(),
            MinisigProblem::BadEncoding { line: 4 },
        ),
        (
            vec![0xde, 0xad, 0xbe, 0xef, 0xff, 0x00, 0x13],
            MinisigProblem::NotText,
        ),
        (
            b"GIF89a garbage\nmore\nand more\nfour\n".to_vec(),
            MinisigProblem::NoUntrustedComment,
        ),
        ([full, full].concat(), MinisigProblem::ExtraLines),
    ];
    for (bytes, problem) in cases {
        fs::write(case.path("X.pdf.minisig"), &bytes).unwrap();
        let verdict = case.verify("X.pdf");
        assert!(!verdict.valid);
        assert_eq!(
            verdict.reason(),
            Some(&Reason::MalformedSignature {
                problem: problem.clone()
            }),
            "{problem:?}"
        );
    }
    // The JSON names the reason and the problem in snake_case for scripts.
    fs::write(case.path("X.pdf.minisig"), &full[..40]).unwrap();
    let json = serde_json::to_value(case.verify("X.pdf")).unwrap();
    assert_eq!(json["reasons"][0]["reason"], "malformed_signature");
    assert_eq!(json["reasons"][0]["problem"], "truncated");
    assert_eq!(json["reasons"].as_array().map(Vec::len), Some(1));
    fs::remove_file(case.path("X.pdf.minisig")).unwrap();
    let verdict = case.verify("X.pdf");
    assert_eq!(verdict.reasons, vec![Reason::MissingSignature]);
    assert!(!verdict.valid);
}

#[test]
fn sha256_and_sshsig_files_are_checked_too() {
    let case = Case::new();
    let other = Case::new();
    let pdf = pdf_bytes("acme", 4_000);
    case.write_signed("X.pdf", &pdf, "acme");

    fs::write(
        case.path("X.pdf.sha256"),
        format!("{}  X.pdf\n", "0".repeat(64)),
    )
    .unwrap();
    let verdict = case.verify("X.pdf");
    assert!(
        matches!(
            verdict.reasons.as_slice(),
            [Reason::Sha256FileMismatch { .. }]
        ),
        "{verdict:#?}"
    );
    fs::write(case.path("X.pdf.sha256"), "not a hash line\n").unwrap();
    assert_eq!(
        case.verify("X.pdf").reasons,
        vec![Reason::MalformedSha256File]
    );
    fs::write(
        case.path("X.pdf.sha256"),
        format!("{}  X.pdf\n", sha256_hex(&pdf)),
    )
    .unwrap();
    assert!(case.verify("X.pdf").valid);

    // An SSHSIG from another key, whose embedded key is its own: only our key counts.
    other.write_signed("X.pdf", &pdf, "acme");
    fs::copy(other.path("X.pdf.sshsig"), case.path("X.pdf.sshsig")).unwrap();
    assert_eq!(
        case.verify("X.pdf").reasons,
        vec![Reason::SshsigInvalid {
            problem: SshsigProblem::OtherKey
        }]
    );
    let json = serde_json::to_value(case.verify("X.pdf")).unwrap();
    assert_eq!(json["reasons"][0]["reason"], "sshsig_invalid");
    assert_eq!(json["reasons"][0]["problem"], "other_key");
    fs::write(
        case.path("X.pdf.sshsig"),
        "-----BEGIN SSH SIGNATURE-----\nAAAA\n",
    )
    .unwrap();
    assert_eq!(
        case.verify("X.pdf").reasons,
        vec![Reason::SshsigInvalid {
            problem: SshsigProblem::Malformed
        }]
    );
}

#[test]
fn an_sshsig_with_another_namespace_is_refused() {
    let case = Case::new();
    let pdf = pdf_bytes("acme", 4_000);
    case.write_signed("X.pdf", &pdf, "acme");
    let pem = fs::read_to_string(&case.info.secret_key).unwrap();
    let signing = ed25519_dalek::SigningKey::from_pkcs8_pem(&pem).unwrap();
    let private = ssh_key::PrivateKey::from(ssh_key::private::Ed25519Keypair::from_seed(
        &signing.to_bytes(),
    ));
    let sig = private
        .sign("file", ssh_key::HashAlg::Sha512, &pdf)
        .unwrap();
    fs::write(
        case.path("X.pdf.sshsig"),
        sig.to_pem(ssh_key::LineEnding::LF).unwrap(),
    )
    .unwrap();
    assert_eq!(
        case.verify("X.pdf").reasons,
        vec![Reason::SshsigInvalid {
            problem: SshsigProblem::WrongNamespace {
                namespace: "file".into()
            }
        }]
    );
}

#[test]
fn a_file_larger_than_one_read_is_hashed_correctly() {
    let case = Case::new();
    // Several 256 KiB chunks plus a remainder, so chunk boundaries are exercised.
    let pdf = pdf_bytes("big", 3 * 256 * 1024 + 12_345);
    case.write_signed("big.pdf", &pdf, "acme");
    assert!(case.verify("big.pdf").valid);
    fs::write(case.path("big.pdf"), flip(&pdf, 256 * 1024)).unwrap();
    assert!(matches!(
        case.verify("big.pdf").reason(),
        Some(Reason::AlteredDocument { .. })
    ));
}

#[test]
fn signing_refuses_a_comment_for_another_document() {
    let case = Case::new();
    let pdf = pdf_bytes("acme", 1_000);
    let good = comment_for(&case.key, "X.pdf", &pdf, "acme");
    let other = Case::new();
    let wrong = [
        TrustedComment {
            file: "Y.pdf".into(),
            ..good.clone()
        },
        TrustedComment {
            sha256: sha256_hex(b"other"),
            ..good.clone()
        },
        TrustedComment {
            key: other.key.key_id(),
            ..good.clone()
        },
        TrustedComment {
            customer: "Has Space".into(),
            ..good.clone()
        },
    ];
    for comment in wrong {
        assert!(
            matches!(
                sign(&case.key, "X.pdf", &pdf, &comment, true),
                Err(SignError::Comment { .. })
            ),
            "{comment}"
        );
    }
    assert!(sign(&case.key, "X.pdf", &pdf, &good, true).is_ok());
}

#[test]
fn signing_is_deterministic() {
    let case = Case::new();
    let pdf = pdf_bytes("acme", 5_000);
    let comment = comment_for(&case.key, "X.pdf", &pdf, "acme");
    assert_eq!(
        sign(&case.key, "X.pdf", &pdf, &comment, true).unwrap(),
        sign(&case.key, "X.pdf", &pdf, &comment, true).unwrap()
    );
}

// ---- key files ----

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn keygen_writes_four_files_with_a_private_secret_key() {
    let case = Case::new();
    assert_eq!(mode(&case.info.secret_key), 0o600);
    let pem = fs::read_to_string(&case.info.secret_key).unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    // OpenSSL reads it (v1 layout) and derives the same public key file we wrote.
    let out = run(
        "openssl",
        &[
            "pkey",
            "-in",
            case.info.secret_key.to_str().unwrap(),
            "-pubout",
        ],
        None,
        case.dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(out.stdout, fs::read(&case.info.public_pem).unwrap());
    let from_minisign = PublicKey::load(&case.info.minisign_pub).unwrap();
    assert_eq!(from_minisign, case.public);
    assert_eq!(case.public.fingerprint(), case.info.fingerprint);
    // ssh-keygen computes the same fingerprint from the allowed_signers key.
    let line = fs::read_to_string(&case.info.allowed_signers).unwrap();
    let ssh_pub = line.split_once(' ').unwrap().1.split_once(' ').unwrap().1;
    fs::write(case.path("k.pub"), ssh_pub).unwrap();
    let out = run("ssh-keygen", &["-lf", "k.pub"], None, case.dir.path());
    assert!(
        text(&out).contains(&case.info.ssh_fingerprint),
        "{}",
        text(&out)
    );
}

#[test]
fn keygen_never_overwrites() {
    let case = Case::new();
    let dir = case.dir.path().join("keys");
    let before: Vec<Vec<u8>> = [&case.info.secret_key, &case.info.public_pem]
        .iter()
        .map(|p| fs::read(p).unwrap())
        .collect();
    let err = keys::generate(&dir, IDENTITY).unwrap_err();
    assert!(matches!(err, SignError::KeyExists { .. }), "{err}");
    assert!(err.hint().is_some());
    let after: Vec<Vec<u8>> = [&case.info.secret_key, &case.info.public_pem]
        .iter()
        .map(|p| fs::read(p).unwrap())
        .collect();
    assert_eq!(before, after);

    // One existing file of the four: nothing else is created.
    let fresh = case.dir.path().join("fresh");
    fs::create_dir(&fresh).unwrap();
    fs::write(fresh.join("allowed_signers"), "keep me\n").unwrap();
    let err = keys::generate(&fresh, IDENTITY).unwrap_err();
    assert!(
        matches!(&err, SignError::KeyExists { path } if path.ends_with("allowed_signers")),
        "{err}"
    );
    let names: Vec<_> = fs::read_dir(&fresh)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec!["allowed_signers"]);
    assert_eq!(
        fs::read_to_string(fresh.join("allowed_signers")).unwrap(),
        "keep me\n"
    );
}

#[test]
fn a_key_readable_by_others_is_refused_with_the_chmod_hint() {
    let case = Case::new();
    let loose = case.path("signing.key");
    fs::copy(&case.info.secret_key, &loose).unwrap();
    for m in [0o644, 0o640, 0o604, 0o620] {
        fs::set_permissions(&loose, fs::Permissions::from_mode(m)).unwrap();
        let err = SecretKey::load(&loose).unwrap_err();
        assert!(
            matches!(err, SignError::KeyPermissions { .. }),
            "{m:o}: {err}"
        );
        assert!(err.to_string().contains(&loose.display().to_string()));
        assert_eq!(err.hint(), Some(format!("chmod 600 {}", loose.display())));
    }
    fs::set_permissions(&loose, fs::Permissions::from_mode(0o600)).unwrap();
    assert!(SecretKey::load(&loose).is_ok());
}

#[test]
fn demo_and_test_keys_load_with_loose_modes_and_a_warning() {
    let case = Case::new();
    for name in ["demo-only.key", "my-test-only.key"] {
        let path = case.path(name);
        fs::copy(&case.info.secret_key, &path).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let key = SecretKey::load(&path).unwrap();
        assert_eq!(
            key.warning(),
            Some(&KeyWarning::LoosePermissions {
                path: path.clone(),
                mode: 0o644
            })
        );
        assert!(
            key.warning()
                .unwrap()
                .to_string()
                .contains("never use it for real documents")
        );
    }
}

#[test]
fn the_committed_demo_key_matches_its_public_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/keys");
    let key = SecretKey::load(&root.join("demo-only.key")).unwrap();
    let pem = PublicKey::load(&root.join("demo-only.pub.pem")).unwrap();
    let minisign = PublicKey::load(&root.join("demo-only.minisign.pub")).unwrap();
    assert_eq!(key.public_key(), pem);
    assert_eq!(key.public_key(), minisign);
    let allowed = fs::read_to_string(root.join("demo-only.allowed_signers")).unwrap();
    assert_eq!(allowed, pem.allowed_signers_line(IDENTITY).unwrap());
}

#[test]
fn key_errors_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signing.key");
    for (contents, needle) in [
        (
            "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
            "OpenSSH",
        ),
        (
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
            "encrypted",
        ),
        ("hello", "BEGIN PRIVATE KEY"),
        (
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            "PKCS#8",
        ),
    ] {
        fs::write(&path, contents).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        let err = SecretKey::load(&path).unwrap_err();
        assert!(matches!(err, SignError::SecretKeyFormat { .. }), "{err}");
        assert!(err.to_string().contains(needle), "{err}");
    }
    let err = SecretKey::load(&dir.path().join("missing.key")).unwrap_err();
    assert!(err.to_string().contains("missing.key"), "{err}");
    let err = PublicKey::parse("-----BEGIN PRIVATE KEY-----\nMC4CAQ\n-----END PRIVATE KEY-----")
        .unwrap_err();
    assert!(err.to_string().contains("PRIVATE key"), "{err}");
    assert!(keys::generate(&dir.path().join("k"), "two words").is_err());
}

// ---- the secret never leaks ----

/// Hex and base64 spellings of the 32-byte seed that must not appear anywhere else.
fn secret_spellings(seed: &[u8; 32]) -> Vec<String> {
    vec![
        hex::encode(seed),
        hex::encode_upper(seed),
        STANDARD.encode(seed),
        STANDARD_NO_PAD.encode(seed),
        URL_SAFE_NO_PAD.encode(seed),
        // The seed's middle, in case only part of it were printed.
        hex::encode(&seed[8..24]),
    ]
}

fn assert_no_secret(what: &str, haystack: &[u8], seed: &[u8; 32]) {
    let text = String::from_utf8_lossy(haystack);
    for spelling in secret_spellings(seed) {
        assert!(
            !text.contains(&spelling),
            "{what} contains the secret key ({spelling})"
        );
    }
    assert!(
        !haystack.windows(32).any(|w| w == seed),
        "{what} contains the raw secret key bytes"
    );
}

#[test]
fn the_secret_key_appears_nowhere_but_its_file() {
    let case = Case::new();
    let pem = fs::read_to_string(&case.info.secret_key).unwrap();
    let seed = ed25519_dalek::SigningKey::from_pkcs8_pem(&pem)
        .unwrap()
        .to_bytes();
    let pdf = pdf_bytes("acme", 8_000);
    let sigs = case.write_signed("X.pdf", &pdf, "acme");

    let loose = case.path("signing.key");
    fs::copy(&case.info.secret_key, &loose).unwrap();
    fs::set_permissions(&loose, fs::Permissions::from_mode(0o644)).unwrap();
    let permission_error = SecretKey::load(&loose).unwrap_err();
    fs::remove_file(&loose).unwrap();
    let exists_error = keys::generate(&case.dir.path().join("keys"), IDENTITY).unwrap_err();
    let mut damaged = pem.clone();
    damaged.insert_str(40, "!!");
    let parse_error = SecretKey::parse_pem(&damaged, "test").unwrap_err();
    let public_error = PublicKey::parse(&pem).unwrap_err();

    let outputs = [
        ("SecretKey Debug", format!("{:?} {:#?}", case.key, case.key)),
        ("KeyInfo Debug", format!("{:?}", case.info)),
        ("KeyInfo JSON", serde_json::to_string(&case.info).unwrap()),
        ("Signatures Debug", format!("{sigs:?}")),
        ("PublicKey Debug", format!("{:?}", case.public)),
        (
            "permission error",
            format!(
                "{permission_error} {permission_error:?} {:?}",
                permission_error.hint()
            ),
        ),
        ("exists error", format!("{exists_error} {exists_error:?}")),
        ("parse error", format!("{parse_error} {parse_error:?}")),
        (
            "public key error",
            format!("{public_error} {public_error:?}"),
        ),
        (
            "verdict",
            serde_json::to_string(&case.verify("X.pdf")).unwrap(),
        ),
    ];
    for (what, output) in outputs {
        assert_no_secret(what, output.as_bytes(), &seed);
    }

    let mut seen_key_file = false;
    for dir in [case.dir.path().to_path_buf(), case.dir.path().join("keys")] {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                continue;
            }
            if path == case.info.secret_key {
                seen_key_file = true;
                continue;
            }
            assert_no_secret(
                &path.display().to_string(),
                &fs::read(&path).unwrap(),
                &seed,
            );
        }
    }
    assert!(seen_key_file);
    // The checker itself finds the seed where it is, so the test can fail.
    let der = STANDARD
        .decode(
            pem.lines()
                .filter(|l| !l.starts_with("-----"))
                .collect::<String>(),
        )
        .unwrap();
    assert!(der.windows(32).any(|w| w == seed));
}

/// Runs this test binary again with the key in an environment variable; the child half
/// of `a_key_can_come_from_the_environment` (setting variables in-process needs unsafe).
#[test]
fn env_child() {
    let Ok(var) = std::env::var("DPA_SIGN_TEST_CHILD") else {
        return;
    };
    match SecretKey::from_env(&var) {
        Ok(key) => println!("KEYID={} {key:?}", key.key_id()),
        Err(err) => println!("ERROR={err} {err:?} HINT={:?}", err.hint()),
    }
}

fn run_env_child(value: Option<&str>) -> String {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", "env_child", "--nocapture", "--test-threads=1"])
        .env("DPA_SIGN_TEST_CHILD", "DPA_TEST_ONLY_KEY")
        .env_remove("DPA_TEST_ONLY_KEY");
    if let Some(value) = value {
        command.env("DPA_TEST_ONLY_KEY", value);
    }
    let out = command.output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    text(&out)
}

#[test]
fn a_key_can_come_from_the_environment() {
    let case = Case::new();
    let pem = fs::read_to_string(&case.info.secret_key).unwrap();
    let seed = ed25519_dalek::SigningKey::from_pkcs8_pem(&pem)
        .unwrap()
        .to_bytes();

    let said = run_env_child(Some(&pem));
    assert!(
        said.contains(&format!("KEYID={}", case.info.key_id)),
        "{said}"
    );
    assert_no_secret("env key output", said.as_bytes(), &seed);

    let said = run_env_child(None);
    assert!(
        said.contains("ERROR=environment variable DPA_TEST_ONLY_KEY"),
        "{said}"
    );
    let mut damaged = pem.clone();
    damaged.insert(40, '#');
    let said = run_env_child(Some(&damaged));
    assert!(
        said.contains("ERROR=secret key from $DPA_TEST_ONLY_KEY"),
        "{said}"
    );
    assert_no_secret("env key error", said.as_bytes(), &seed);
}

// ---- garbage never panics ----

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_signature_files_never_panic(
        minisig in proptest::collection::vec(any::<u8>(), 0..400),
        sshsig in proptest::collection::vec(any::<u8>(), 0..400),
        sha256 in proptest::collection::vec(any::<u8>(), 0..120),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let pdf = dir.path().join("X.pdf");
        fs::write(&pdf, b"%PDF-1.3 tiny").unwrap();
        let key = PublicKey::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/keys/demo-only.pub.pem")).unwrap();
        let evidence = Evidence { minisig: Some(&minisig), sha256: Some(&sha256), sshsig: Some(&sshsig) };
        let verdict = verify(&pdf, &evidence, &key).unwrap();
        prop_assert!(!verdict.valid);
    }

    #[test]
    fn minisig_shaped_garbage_never_panics(
        alg in prop_oneof![Just(b"ED".to_vec()), Just(b"Ed".to_vec()), proptest::collection::vec(any::<u8>(), 0..3)],
        body in proptest::collection::vec(any::<u8>(), 0..90),
        comment in "[ -~]{0,120}",
        global in proptest::collection::vec(any::<u8>(), 0..80),
    ) {
        let text = format!(
            "untrusted comment: x\n{}\ntrusted comment: {comment}\n{}\n",
            STANDARD.encode([alg, body].concat()),
            STANDARD.encode(global)
        );
        let dir = tempfile::tempdir().unwrap();
        let pdf = dir.path().join("X.pdf");
        fs::write(&pdf, b"%PDF-1.3 tiny").unwrap();
        let key = PublicKey::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/keys/demo-only.minisign.pub")).unwrap();
        let evidence = Evidence { minisig: Some(text.as_bytes()), ..Evidence::default() };
        prop_assert!(!verify(&pdf, &evidence, &key).unwrap().valid);
    }

    #[test]
    fn random_public_keys_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..120), text in ".{0,200}") {
        let _ = PublicKey::parse(&String::from_utf8_lossy(&bytes));
        let _ = PublicKey::parse(&text);
        let _ = PublicKey::parse(&STANDARD.encode(&bytes));
        let _ = PublicKey::parse(&format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", STANDARD.encode(&bytes)));
        let _ = SecretKey::parse_pem(&format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", STANDARD.encode(&bytes)), "prop");
    }
}
