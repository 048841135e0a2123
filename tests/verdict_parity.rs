//! One verdict: a corpus of PDFs and `.minisig` files, each checked by `dpa verify` and by the
//! browser page (headless Chromium through tests/browser/verify-page.mjs), must get the same
//! answer: valid or not, and the same reason (`dpa::verifier::page_reason` of the first reason
//! `dpa verify` gives is the page's `data-reason`).
//!
//! The signature files are written here byte by byte with ed25519-dalek, so the corpus can hold
//! what no honest signer makes: the legacy algorithm, a byte order mark, non-canonical base64,
//! comments that are almost `dpa/1`, a file signature that disagrees with the comment, and
//! signatures whose R is the identity point (WebCrypto accepts those, `verify_strict` does not).
//! Each case also states the verdict it was built for, so the corpus keeps meaning something.
//! Needs `node`/`npm` and `/usr/bin/chromium` (as tests/verifier_browser.rs).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use blake2::{Blake2b512, Digest};
use curve25519_dalek::scalar::Scalar;
use ed25519_dalek::{Signer, SigningKey};
use sha2::{Sha256, Sha512};

use dpa::sign::{Evidence, KeyId, PublicKey};

mod browser_common;

use browser_common::{Seen, ensure_node_modules};

const VENDOR: &str = "Parity Test Vendor Ltd";
const ANNEX_SHA256: &str = "7543d9cd314ecd28320ee60f50b44f13e61590e8c40e93266c58f0b006dba8c3";

/// A signing key made from a fixed seed, for these tests only.
struct TestKey {
    signing: SigningKey,
    id: KeyId,
}

impl TestKey {
    fn new(seed: u8) -> TestKey {
        let signing = SigningKey::from_bytes(&[seed; 32]);
        let id = KeyId::derive(&signing.verifying_key().to_bytes());
        TestKey { signing, id }
    }

    fn public(&self) -> PublicKey {
        PublicKey::from_bytes(&self.signing.verifying_key().to_bytes()).expect("a valid key")
    }

    fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }

    /// A signature that passes the plain Ed25519 equation with R = the identity point: only
    /// the key holder can make one, and `verify_strict` refuses it.
    fn sign_with_identity_r(&self, message: &[u8]) -> [u8; 64] {
        let mut r = [0u8; 32];
        r[0] = 1;
        let a = self.signing.verifying_key().to_bytes();
        let k = Scalar::from_hash(
            Sha512::new()
                .chain_update(r)
                .chain_update(a)
                .chain_update(message),
        );
        let s = k * self.signing.to_scalar();
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(&r);
        sig[32..].copy_from_slice(s.as_bytes());
        sig
    }
}

/// The parts of a `.minisig` file, written out exactly as given.
#[derive(Clone)]
struct Minisig {
    untrusted: String,
    algorithm: [u8; 2],
    key_id: [u8; 8],
    signature: [u8; 64],
    comment: String,
    global: [u8; 64],
    newline: &'static str,
}

impl Minisig {
    /// A correct signature of `pdf` with `comment` by `key`.
    fn new(key: &TestKey, pdf: &[u8], comment: &str) -> Minisig {
        let signature = key.sign(&Blake2b512::digest(pdf));
        Minisig {
            untrusted: "untrusted comment: signature from a parity-test key".into(),
            algorithm: *b"ED",
            key_id: key.id.0,
            signature,
            comment: comment.into(),
            global: key.sign(&global_message(&signature, comment)),
            newline: "\n",
        }
    }

    fn blob_line(&self) -> String {
        let mut blob = Vec::with_capacity(74);
        blob.extend_from_slice(&self.algorithm);
        blob.extend_from_slice(&self.key_id);
        blob.extend_from_slice(&self.signature);
        BASE64.encode(blob)
    }

    fn lines(&self) -> [String; 4] {
        [
            self.untrusted.clone(),
            self.blob_line(),
            format!("trusted comment: {}", self.comment),
            BASE64.encode(self.global),
        ]
    }

    fn render_lines(&self, lines: &[String]) -> Vec<u8> {
        let mut text = String::new();
        for line in lines {
            text.push_str(line);
            text.push_str(self.newline);
        }
        text.into_bytes()
    }

    fn bytes(&self) -> Vec<u8> {
        self.render_lines(&self.lines())
    }
}

fn global_message(signature: &[u8; 64], comment: &str) -> Vec<u8> {
    let mut message = signature.to_vec();
    message.extend_from_slice(comment.as_bytes());
    message
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn comment(file: &str, pdf: &[u8], key: &KeyId) -> String {
    format!(
        "dpa/1 file={file} sha256={} annex=2026-05-26 annex_sha256={ANNEX_SHA256} customer=acme issued=2026-06-01 key={key}",
        sha256_hex(pdf)
    )
}

fn pdf_bytes(customer: &str) -> Vec<u8> {
    format!(
        "%PDF-1.7\n% Parity test document for {customer}, not a real agreement.\n\
         1 0 obj << /Title (DPA for {customer}) >> endobj\ntrailer << /Info 1 0 R >>\n%%EOF\n"
    )
    .into_bytes()
}

/// The parity document with a real cross-reference section and trailer.
fn pdf_with_trailer(customer: &str) -> Vec<u8> {
    browser_common::pdf_with_trailer(&format!(
        "% Parity test document for {customer}, not a real agreement.\n\
         1 0 obj << /Title (DPA for {customer}) >> endobj\n"
    ))
}

/// One corpus entry: a PDF (name and bytes), a `.minisig`, and the verdict it was made for.
struct Case {
    name: &'static str,
    pdf_name: String,
    pdf: Vec<u8>,
    minisig: Vec<u8>,
    expect: &'static str,
}

fn corpus(a: &TestKey, b: &TestKey) -> Vec<Case> {
    let name = "acme-dpa.pdf";
    let pdf = pdf_bytes("Acme");
    let good_comment = comment(name, &pdf, &a.id);
    let good = Minisig::new(a, &pdf, &good_comment);
    let mut cases = Vec::new();
    let mut add = |case: &'static str, pdf_name: &str, pdf: &[u8], minisig: Vec<u8>, expect| {
        cases.push(Case {
            name: case,
            pdf_name: pdf_name.to_string(),
            pdf: pdf.to_vec(),
            minisig,
            expect,
        })
    };
    // A signature whose comment is `text`, correctly signed over `pdf`.
    let with_comment = |text: &str| Minisig::new(a, &pdf, text).bytes();

    add("valid", name, &pdf, good.bytes(), "valid");
    add("renamed", "acme-dpa (1).pdf", &pdf, good.bytes(), "valid");
    let crlf = Minisig {
        newline: "\r\n",
        ..good.clone()
    };
    add("crlf", name, &pdf, crlf.bytes(), "valid");
    let mut blank_tail = good.bytes();
    blank_tail.extend_from_slice(b"\n  \n\t\n");
    add("trailing-blank-lines", name, &pdf, blank_tail, "valid");
    let mut spaced = good.lines();
    spaced[1] = format!("\u{85}{}\u{3000}", spaced[1]);
    spaced[3] = format!(" {}\u{a0}", spaced[3]);
    add(
        "unicode-space-around-base64",
        name,
        &pdf,
        good.render_lines(&spaced),
        "valid",
    );
    let mut bom = "\u{feff}".as_bytes().to_vec();
    bom.extend_from_slice(&good.bytes());
    add("byte-order-mark", name, &pdf, bom, "damaged-signature");

    // The legacy algorithm signs the whole file; authentic, and still refused.
    let legacy_sig = a.sign(&pdf);
    let legacy = Minisig {
        algorithm: *b"Ed",
        signature: legacy_sig,
        global: a.sign(&global_message(&legacy_sig, &good_comment)),
        ..good.clone()
    };
    add(
        "legacy-algorithm",
        name,
        &pdf,
        legacy.bytes(),
        "damaged-signature",
    );
    let unknown = Minisig {
        algorithm: *b"EX",
        ..good.clone()
    };
    add(
        "unknown-algorithm",
        name,
        &pdf,
        unknown.bytes(),
        "damaged-signature",
    );
    add(
        "not-text",
        name,
        &pdf,
        vec![0xff, 0xfe, 0x00, 0x41],
        "damaged-signature",
    );
    add("empty", name, &pdf, Vec::new(), "damaged-signature");
    let huge = Minisig {
        untrusted: format!("untrusted comment: {}", "x".repeat(17 * 1024)),
        ..good.clone()
    };
    add("too-large", name, &pdf, huge.bytes(), "damaged-signature");
    let mut extra = good.lines().to_vec();
    extra.push("one line too many".into());
    add(
        "extra-line",
        name,
        &pdf,
        good.render_lines(&extra),
        "damaged-signature",
    );
    add(
        "truncated",
        name,
        &pdf,
        good.render_lines(&good.lines()[..3]),
        "damaged-signature",
    );
    let mut unpadded = good.lines();
    unpadded[3] = unpadded[3].trim_end_matches('=').to_string();
    add(
        "base64-without-padding",
        name,
        &pdf,
        good.render_lines(&unpadded),
        "damaged-signature",
    );
    let mut stray_bits = good.lines();
    {
        // 64 bytes end in "X?==": the character before "==" may only carry zero low bits.
        let line = &mut stray_bits[3];
        let at = line.len() - 3;
        let c = line.as_bytes()[at];
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let value = alphabet.iter().position(|x| *x == c).unwrap_or(0);
        let bumped = alphabet[(value & !0x0f) | 0x01] as char;
        line.replace_range(at..at + 1, &bumped.to_string());
    }
    add(
        "base64-stray-bits",
        name,
        &pdf,
        good.render_lines(&stray_bits),
        "damaged-signature",
    );
    let no_space = Minisig {
        untrusted: "untrusted comment:no space".into(),
        ..good.clone()
    };
    add(
        "untrusted-prefix-without-space",
        name,
        &pdf,
        no_space.bytes(),
        "damaged-signature",
    );
    add(
        "pdf-as-signature",
        name,
        &pdf,
        pdf.clone(),
        "damaged-signature",
    );

    // Keys and signatures.
    add(
        "other-key",
        name,
        &pdf,
        Minisig::new(b, &pdf, &comment(name, &pdf, &b.id)).bytes(),
        "different-key",
    );
    let forged = Minisig {
        key_id: a.id.0,
        ..Minisig::new(b, &pdf, &good_comment)
    };
    add("forged-key-id", name, &pdf, forged.bytes(), "bad-signature");
    let edited = Minisig {
        comment: good_comment.replace("customer=acme", "customer=globex"),
        ..good.clone()
    };
    add(
        "edited-comment",
        name,
        &pdf,
        edited.bytes(),
        "edited-comment",
    );
    let wrong_file_sig = a.sign(&Blake2b512::digest(b"another document"));
    let inconsistent = Minisig {
        signature: wrong_file_sig,
        global: a.sign(&global_message(&wrong_file_sig, &good_comment)),
        ..good.clone()
    };
    add(
        "file-signature-disagrees",
        name,
        &pdf,
        inconsistent.bytes(),
        "bad-signature",
    );
    let mut flipped = pdf.clone();
    flipped[20] ^= 0x01;
    add("flipped-byte", name, &flipped, good.bytes(), "altered");
    // Signed in place: the vendor's document is the first revision of the file. The page
    // says so and leaves the addition to `dpa verify`, which is the one that reads it; without
    // a trailer there is no earlier revision, for either checker.
    let trailed = pdf_with_trailer("Acme");
    let trailed_sig = Minisig::new(a, &trailed, &comment(name, &trailed, &a.id));
    add(
        "trailer-valid",
        name,
        &trailed,
        trailed_sig.bytes(),
        "valid",
    );
    add(
        "appended-revision",
        name,
        &browser_common::with_revision(&trailed, true),
        trailed_sig.bytes(),
        dpa::verifier::APPENDED,
    );
    add(
        "appended-without-trailer",
        name,
        &browser_common::with_revision(&pdf, false),
        good.bytes(),
        "altered",
    );
    let globex = pdf_bytes("Globex");
    let globex_sig = Minisig::new(a, &globex, &comment("globex-dpa.pdf", &globex, &a.id));
    add(
        "other-document",
        name,
        &pdf,
        globex_sig.bytes(),
        "other-document",
    );

    // The signed statement.
    add(
        "foreign-comment",
        name,
        &pdf,
        with_comment("timestamp:1700000000 file:acme-dpa.pdf"),
        "not-dpa",
    );
    add(
        "foreign-comment-altered-pdf",
        name,
        &flipped,
        with_comment("timestamp:1700000000 file:acme-dpa.pdf"),
        "altered",
    );
    let field_after = |field: &str| {
        good_comment
            .split(&format!(" {field}="))
            .next()
            .unwrap_or("")
            .to_string()
    };
    let without_file = good_comment.replacen(&format!(" file={name}"), "", 1);
    add(
        "missing-file",
        name,
        &pdf,
        with_comment(&without_file),
        "not-dpa",
    );
    add(
        "extra-field",
        name,
        &pdf,
        with_comment(&format!("{good_comment} note=x")),
        "not-dpa",
    );
    let reordered = format!(
        "{} customer=acme annex=2026-05-26 annex_sha256={ANNEX_SHA256} issued=2026-06-01 key={}",
        field_after("annex"),
        a.id
    );
    add(
        "reordered-fields",
        name,
        &pdf,
        with_comment(&reordered),
        "not-dpa",
    );
    add(
        "double-space",
        name,
        &pdf,
        with_comment(&good_comment.replacen(' ', "  ", 1)),
        "not-dpa",
    );
    add(
        "trailing-space",
        name,
        &pdf,
        with_comment(&format!("{good_comment} ")),
        "not-dpa",
    );
    add(
        "uppercase-sha256",
        name,
        &pdf,
        with_comment(&good_comment.replace(&sha256_hex(&pdf), &sha256_hex(&pdf).to_uppercase())),
        "not-dpa",
    );
    add(
        "impossible-date",
        name,
        &pdf,
        with_comment(&good_comment.replace("issued=2026-06-01", "issued=2026-02-30")),
        "not-dpa",
    );
    add(
        "month-13",
        name,
        &pdf,
        with_comment(&good_comment.replace("issued=2026-06-01", "issued=2026-13-01")),
        "not-dpa",
    );
    add(
        "leap-day",
        name,
        &pdf,
        with_comment(&good_comment.replace("issued=2026-06-01", "issued=2028-02-29")),
        "valid",
    );
    add(
        "year-zero-leap-day",
        name,
        &pdf,
        with_comment(&good_comment.replace("issued=2026-06-01", "issued=0000-02-29")),
        "valid",
    );
    let key_text = a.id.to_string();
    add(
        "key-with-leading-zero",
        name,
        &pdf,
        with_comment(
            &good_comment.replace(&format!("key={key_text}"), &format!("key=0{key_text}")),
        ),
        "not-dpa",
    );
    add(
        "key-lowercase",
        name,
        &pdf,
        with_comment(&good_comment.replace(
            &format!("key={key_text}"),
            &format!("key={}", key_text.to_lowercase()),
        )),
        "not-dpa",
    );
    add(
        "key-of-another",
        name,
        &pdf,
        with_comment(&comment(name, &pdf, &b.id)),
        "comment-mismatch",
    );
    add(
        "sha256-of-another",
        name,
        &pdf,
        with_comment(&comment(name, &globex, &a.id)),
        "comment-mismatch",
    );
    add(
        "customer-uppercase",
        name,
        &pdf,
        with_comment(&good_comment.replace("customer=acme", "customer=Acme")),
        "not-dpa",
    );
    add(
        "annex-too-long",
        name,
        &pdf,
        with_comment(
            &good_comment.replace("annex=2026-05-26", &format!("annex={}", "9".repeat(200))),
        ),
        "not-dpa",
    );
    for (case, file) in [
        ("file-with-tab", "acme\tdpa.pdf"),
        ("file-with-next-line", "acme\u{85}dpa.pdf"),
        ("file-with-no-break-space", "acme\u{a0}dpa.pdf"),
        ("file-dot", "."),
    ] {
        add(
            case,
            name,
            &pdf,
            with_comment(&comment(file, &pdf, &a.id)),
            "not-dpa",
        );
    }
    let accented = "müller-dpa.pdf";
    add(
        "accented-file-name",
        accented,
        &pdf,
        with_comment(&comment(accented, &pdf, &a.id)),
        "valid",
    );

    // Ed25519 edge cases: what WebCrypto would accept and verify_strict refuses.
    let identity_global = Minisig {
        global: a.sign_with_identity_r(&global_message(&good.signature, &good_comment)),
        ..good.clone()
    };
    add(
        "identity-r-global",
        name,
        &pdf,
        identity_global.bytes(),
        "edited-comment",
    );
    let identity_file_sig = a.sign_with_identity_r(&Blake2b512::digest(&pdf));
    let identity_file = Minisig {
        signature: identity_file_sig,
        global: a.sign(&global_message(&identity_file_sig, &good_comment)),
        ..good.clone()
    };
    add(
        "identity-r-file",
        name,
        &pdf,
        identity_file.bytes(),
        "bad-signature",
    );
    let mut high_s = good.global;
    add_group_order(&mut high_s[32..]);
    let non_canonical = Minisig {
        global: high_s,
        ..good.clone()
    };
    add(
        "non-canonical-s",
        name,
        &pdf,
        non_canonical.bytes(),
        "edited-comment",
    );
    cases
}

/// Adds the group order L to a 32-byte little-endian S (S < L, so the sum fits).
fn add_group_order(s: &mut [u8]) {
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut carry = 0u16;
    for (byte, l) in s.iter_mut().zip(L) {
        let sum = u16::from(*byte) + u16::from(l) + carry;
        *byte = (sum & 0xff) as u8;
        carry = sum >> 8;
    }
}

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The case's signature file as the only evidence.
fn evidence(case: &Case) -> Evidence<'_> {
    Evidence {
        minisig: Some(&case.minisig),
        sha256: None,
        sshsig: None,
    }
}

/// What `dpa verify` says for one case: (valid, the page's reason code), checked against the
/// binary's exit code and JSON.
fn cli_verdict(dir: &Path, case: &Case, pubkey: &Path, key: &PublicKey) -> (bool, String) {
    let pdf = dir.join("pdf").join(case.name).join(&case.pdf_name);
    let sig = dir.join("sig").join(format!("{}.minisig", case.name));
    let verdict = dpa::sign::verify(&pdf, &evidence(case), key).expect("the PDF is readable");
    let mut code = match verdict.reason() {
        None => "valid".to_string(),
        Some(reason) => dpa::verifier::page_reason(reason)
            .unwrap_or_else(|| panic!("{}: the page has no code for {reason:?}", case.name))
            .to_string(),
    };
    // A file whose vendor's document is an earlier revision: `dpa verify` finds it as the
    // page does, then examines what was added, which the page leaves to it.
    let (prefix, end) =
        dpa::sign::verify::verify_vendor_revision(&pdf, &evidence(case), pubkey, &case.pdf)
            .expect("the PDF is readable");
    if end < case.pdf.len() {
        assert!(prefix.valid, "{}: {prefix:?}", case.name);
        code = dpa::verifier::APPENDED.to_string();
    }
    // The binary must agree with the library it calls.
    let out = Command::new(env!("CARGO_BIN_EXE_dpa"))
        .arg("verify")
        .arg(&pdf)
        .arg("--pubkey")
        .arg(pubkey)
        .arg("--minisig")
        .arg(&sig)
        .arg("--json")
        .output()
        .expect("dpa runs");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{}: dpa verify --json: {e}", case.name));
    assert_eq!(json["valid"], verdict.valid, "{}: {json}", case.name);
    assert_eq!(
        out.status.code(),
        Some(if verdict.valid { 0 } else { 1 }),
        "{}: {json}",
        case.name
    );
    (verdict.valid, code)
}

#[test]
fn browser_page_and_dpa_verify_give_one_verdict() {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "{chromium} not found; hint: apt-get install chromium (or set CHROMIUM)"
    );
    let browser_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    ensure_node_modules(&browser_dir).unwrap_or_else(|e| panic!("{e}"));

    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let a = TestKey::new(0x5a);
    let b = TestKey::new(0xa5);
    let public = a.public();
    let pubkey = d.join("test-only-signing.minisign.pub");
    fs::write(&pubkey, public.to_minisign_file()).expect("write key");
    let page = d.join("verify.html");
    fs::write(
        &page,
        dpa::verifier::page(VENDOR, &public.to_bytes(), &a.id.0),
    )
    .expect("write page");

    let cases = corpus(&a, &b);
    let mut plan = Vec::new();
    let mut expected = Vec::new();
    for case in &cases {
        let pdf_dir = d.join("pdf").join(case.name);
        fs::create_dir_all(&pdf_dir).expect("mkdir");
        fs::create_dir_all(d.join("sig")).expect("mkdir");
        let pdf: PathBuf = pdf_dir.join(&case.pdf_name);
        let sig = d.join("sig").join(format!("{}.minisig", case.name));
        fs::write(&pdf, &case.pdf).expect("write pdf");
        fs::write(&sig, &case.minisig).expect("write minisig");
        let (valid, code) = cli_verdict(d, case, &pubkey, &public);
        assert_eq!(
            code, case.expect,
            "{}: dpa verify's verdict is not the one the case was built for",
            case.name
        );
        expected.push((case.name, valid, code));
        plan.push(serde_json::json!({
            "name": case.name, "page": page, "pdf": pdf, "minisig": sig, "via": "inputs"
        }));
    }
    let plan_file = d.join("plan.json");
    fs::write(&plan_file, serde_json::json!({ "cases": plan }).to_string()).expect("plan");
    let out = run(Command::new("node")
        .arg(browser_dir.join("verify-page.mjs"))
        .arg(&plan_file)
        .env("CHROMIUM", &chromium));
    let seen: Vec<Seen> = serde_json::from_str(&out).expect("driver output is JSON");
    assert_eq!(seen.len(), expected.len());

    let mut differ = Vec::new();
    for ((name, valid, code), s) in expected.iter().zip(&seen) {
        assert_eq!(s.name, *name);
        assert!(s.errors.is_empty(), "{name}: page errors {:?}", s.errors);
        let page_valid = s.valid.as_deref() == Some("true");
        if page_valid != *valid || s.reason.as_deref() != Some(code.as_str()) {
            differ.push(format!(
                "{name}: dpa verify says {code}, the page says {:?} ({})",
                s.reason, s.text
            ));
        }
    }
    assert!(
        differ.is_empty(),
        "{} of {} cases differ:\n{}",
        differ.len(),
        expected.len(),
        differ.join("\n")
    );
}
