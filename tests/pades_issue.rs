//! The embedded signature of issued documents, end to end (issue 12): `dpa generate` with
//! the repository's dpa.toml (the demo PDF key and chain) makes a certified DPA that pdfsig,
//! NSS (certutil) and pyHanko accept; pyHanko, playing the customer, countersigns the empty
//! field; `dpa verify` recognises the vendor's revision, names the countersigner and refuses
//! a countersignature that also changes a page, a file rewritten by qpdf and damaged
//! signature bytes; bad key and certificate input is an error naming the file, with nothing
//! written; two runs give the same bytes and the text is the unsigned document's.
#![cfg(unix)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::*;

const ROOT: &str = "fixtures/keys/demo-only-pdf-root.pem";
const PUBKEY: &str = "fixtures/keys/demo-only.minisign.pub";
const CUSTOMER: &str = "fixtures/customers/mueller-soehne.toml";
const FIELD: &str = "Controller signature (mueller-soehne)";

/// Runs a tool in `dir`; returns (success, stdout + stderr).
fn sh(dir: &Path, program: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{program} is needed (CI installs it): {e}"));
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

struct Material {
    dir: PathBuf,
    /// The DPA as issued, with its detached signature files beside it.
    issued: PathBuf,
    /// `issued` countersigned by the customer (RSA 2048, test-only certificate).
    countersigned: PathBuf,
}

fn issue(out: &Path, extra: &[&str]) -> Run {
    let mut cmd = dpa();
    cmd.args([
        "generate",
        "--customer",
        CUSTOMER,
        "--issue-date",
        "2026-06-01",
    ])
    .arg("--out")
    .arg(out)
    .args(extra);
    run(&mut cmd)
}

/// Copies the PDF's detached signature files beside `to` (a renamed or countersigned copy).
fn copy_signature_files(from: &Path, to: &Path) {
    let beside = |pdf: &Path, ext: &str| PathBuf::from(format!("{}.{ext}", pdf.display()));
    for ext in ["minisig", "sha256", "sshsig"] {
        std::fs::copy(beside(from, ext), beside(to, ext)).unwrap();
    }
}

fn material() -> &'static Material {
    static M: OnceLock<Material> = OnceLock::new();
    M.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("pades_issue");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let issued = printed_pdf(&ok(issue(&dir.join("out"), &[])));
        let (ok_key, out) = sh(
            &dir,
            "openssl",
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
                "customer-test-only.key",
            ],
        );
        assert!(ok_key, "{out}");
        let (ok_cert, out) = sh(
            &dir,
            "openssl",
            &[
                "req",
                "-new",
                "-x509",
                "-key",
                "customer-test-only.key",
                "-out",
                "customer-test-only.pem",
                "-days",
                "3650",
                "-subj",
                "/CN=Erika Mustermann/O=Test Only Customer GmbH",
                "-addext",
                "keyUsage=digitalSignature,nonRepudiation",
            ],
        );
        assert!(ok_cert, "{out}");
        let countersigned = dir.join("countersigned.pdf");
        let (signed, out) = sh(
            &dir,
            "pyhanko",
            &[
                "sign",
                "addsig",
                "--field",
                FIELD,
                "--use-pades",
                "pemder",
                "--key",
                "customer-test-only.key",
                "--cert",
                "customer-test-only.pem",
                "--no-pass",
                issued.to_str().unwrap(),
                countersigned.to_str().unwrap(),
            ],
        );
        assert!(signed, "pyhanko addsig: {out}");
        copy_signature_files(&issued, &countersigned);
        Material {
            dir,
            issued,
            countersigned,
        }
    })
}

fn verify(pdf: &Path, extra: &[&str]) -> Run {
    let mut cmd = dpa();
    cmd.arg("verify")
        .arg(pdf)
        .args(["--pubkey", PUBKEY, "--cert", ROOT])
        .args(extra);
    run(&mut cmd)
}

fn json(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {run:#?}"))
}

#[test]
fn pdfsig_finds_a_valid_signature_over_the_whole_file_trusted_with_the_root_in_nss() {
    let m = material();
    let pdf = m.issued.to_str().unwrap();
    let (_, out) = sh(&m.dir, "pdfsig", &[pdf]);
    assert!(
        out.contains("Signature Validation: Signature is Valid."),
        "{out}"
    );
    assert!(out.contains("Total document signed"), "{out}");
    assert!(
        out.contains("Signature Field Name: Processor signature"),
        "{out}"
    );
    assert!(out.contains(FIELD) && out.contains("not signed"), "{out}");

    let nss = m.dir.join("nss");
    std::fs::create_dir_all(&nss).unwrap();
    let db = format!("sql:{}", nss.display());
    let (made, out) = sh(&m.dir, "certutil", &["-N", "-d", &db, "--empty-password"]);
    assert!(made, "{out}");
    let root = fixture(ROOT);
    let (added, out) = sh(
        &m.dir,
        "certutil",
        &[
            "-A",
            "-d",
            &db,
            "-n",
            "vendor root",
            "-t",
            "CT,C,C",
            "-i",
            root.to_str().unwrap(),
        ],
    );
    assert!(added, "{out}");
    let (_, out) = sh(&m.dir, "pdfsig", &["-nssdir", &db, pdf]);
    assert!(
        out.contains("Certificate Validation: Certificate is Trusted."),
        "{out}"
    );
}

#[test]
fn pyhanko_finds_it_intact_trusted_and_certified_for_form_filling() {
    let m = material();
    let root = fixture(ROOT);
    let pdf = m.issued.to_str().unwrap();
    let (ok_validate, out) = sh(
        &m.dir,
        "pyhanko",
        &[
            "sign",
            "validate",
            "--trust-replace",
            "--trust",
            root.to_str().unwrap(),
            pdf,
        ],
    );
    assert!(ok_validate, "{out}");
    assert!(
        out.contains("Processor signature:") && out.contains(":INTACT:TRUSTED,UNTOUCHED"),
        "{out}"
    );
    // The certification level, as pyHanko's library reads it.
    let script = format!(
        "from pyhanko.pdf_utils.reader import PdfFileReader\n\
         r = PdfFileReader(open({pdf:?}, 'rb'))\n\
         s = r.embedded_signatures[0]\n\
         print(s.field_name, s.docmdp_level)\n"
    );
    let (ran, out) = sh(&m.dir, "python3", &["-c", &script]);
    assert!(ran, "{out}");
    assert!(
        out.contains("Processor signature MDPPerm.FILL_FORMS"),
        "{out}"
    );
    let (_, list) = sh(&m.dir, "pyhanko", &["sign", "list", pdf]);
    assert!(list.contains(&format!("{FIELD}:EMPTY")), "{list}");
}

#[test]
fn a_countersigned_dpa_is_the_vendors_document_countersigned_with_no_other_change() {
    let m = material();
    let original = std::fs::read(&m.issued).unwrap();
    let signed = std::fs::read(&m.countersigned).unwrap();
    assert!(
        signed.len() > original.len() && signed.starts_with(&original),
        "the issued file is a byte prefix of the countersigned one"
    );
    let pdf = m.countersigned.to_str().unwrap();
    let (_, out) = sh(&m.dir, "pdfsig", &[pdf]);
    assert_eq!(
        out.matches("Signature Validation: Signature is Valid.")
            .count(),
        2,
        "{out}"
    );
    let root = fixture(ROOT);
    let (_, out) = sh(
        &m.dir,
        "pyhanko",
        &[
            "sign",
            "validate",
            "--trust-replace",
            "--trust",
            root.to_str().unwrap(),
            "--trust",
            "customer-test-only.pem",
            pdf,
        ],
    );
    assert!(
        out.contains("INTACT:TRUSTED,EXTENDED_WITH_FORM_FILLING,ACCEPTABLE_MODIFICATIONS"),
        "{out}"
    );
    assert!(
        out.contains(&format!("{FIELD}:")) && out.contains(":INTACT:TRUSTED,UNTOUCHED"),
        "{out}"
    );

    let run = ok(verify(&m.countersigned, &[]));
    assert!(
        run.stdout.contains(
            "is the document the vendor signed (revision 1), countersigned by O=Test Only Customer GmbH,CN=Erika Mustermann; nothing else changed."
        ),
        "{run:#?}"
    );
    assert!(run.stdout.contains("vendor's revision: 1 of 2"), "{run:#?}");
    assert!(
        run.stdout
            .contains("only signature fields signed (no other change)"),
        "{run:#?}"
    );
    let v = json(&verify(&m.countersigned, &["--json"]));
    assert_eq!(v["valid"], true, "{v:#}");
    let e = &v["embedded"];
    assert_eq!(e["revision"], 1);
    assert_eq!(e["revisions"], 2);
    assert_eq!(e["end"], original.len());
    assert_eq!(e["only_permitted_changes"], true);
    assert_eq!(e["certification"]["intact"], true);
    assert_eq!(e["certification"]["trust"]["trust"], "trusted");
    assert_eq!(e["certification"]["certification"], 2);
    let later = &e["later_signatures"][0];
    assert_eq!(later["field"], FIELD);
    assert_eq!(
        later["signer"]["subject"],
        "O=Test Only Customer GmbH,CN=Erika Mustermann"
    );
    assert_eq!(later["intact"], true);
    assert_eq!(v["sha256"], dpa::sign::sha256_hex(&original));
}

#[test]
fn verify_without_the_root_shows_the_signer_but_does_not_call_it_trusted() {
    let m = material();
    let mut cmd = dpa();
    cmd.arg("verify").arg(&m.issued).args(["--pubkey", PUBKEY]);
    let shown = ok(run(&mut cmd));
    assert!(
        shown.stdout.contains("CN=DEMO ONLY - not a real signer"),
        "{shown:#?}"
    );
    assert!(
        shown.stdout.contains("not checked: pass --cert"),
        "{shown:#?}"
    );
    // Another root: the signature is intact but not by that root's certificate.
    let other = material().dir.join("other-root-test-only.pem");
    let (made, out) = sh(
        &m.dir,
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "other-root-test-only.key",
            "-out",
            other.to_str().unwrap(),
            "-days",
            "3650",
            "-subj",
            "/CN=Some Other Root (test only)",
        ],
    );
    assert!(made, "{out}");
    let mut cmd = dpa();
    cmd.arg("verify")
        .arg(&m.issued)
        .args(["--pubkey", PUBKEY, "--cert"])
        .arg(&other);
    let run = run(&mut cmd);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(
        run.stdout
            .contains("not by a certificate of the root you gave"),
        "{run:#?}"
    );
}

#[test]
fn a_countersignature_that_also_changes_a_page_is_not_valid() {
    let m = material();
    let out = m.dir.join("tampered.pdf");
    let script = fixture("tests/pades/countersign.py");
    let (signed, text) = sh(
        &m.dir,
        "python3",
        &[
            script.to_str().unwrap(),
            m.issued.to_str().unwrap(),
            out.to_str().unwrap(),
            FIELD,
            "customer-test-only.key",
            "customer-test-only.pem",
            "--tamper",
            "content",
        ],
    );
    assert!(signed, "{text}");
    copy_signature_files(&m.issued, &out);
    let run = verify(&out, &[]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(run.stdout.starts_with("NOT VALID"), "{run:#?}");
    assert!(
        run.stdout.contains("content of page 1 was changed")
            || run.stdout.contains("page 1's content"),
        "{run:#?}"
    );
    assert!(
        run.stdout
            .contains("only signing the empty signature fields is permitted"),
        "{run:#?}"
    );
}

#[test]
fn a_file_rewritten_by_qpdf_is_not_valid_and_says_so() {
    let m = material();
    let out = m.dir.join("rewritten.pdf");
    let (rewrote, text) = sh(
        &m.dir,
        "qpdf",
        &[m.issued.to_str().unwrap(), out.to_str().unwrap()],
    );
    assert!(rewrote, "{text}");
    copy_signature_files(&m.issued, &out);
    let run = verify(&out, &[]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(run.stdout.starts_with("NOT VALID"), "{run:#?}");
    // Which of the two /ByteRange messages depends on whether qpdf's file came out
    // shorter than the signed range ("truncated or rewritten") or not; both name it.
    assert!(run.stdout.contains("rewritten after signing"), "{run:#?}");
}

#[test]
fn damaged_signature_bytes_are_not_valid_and_never_panic() {
    let m = material();
    let original = std::fs::read(&m.issued).unwrap();
    // Byte offsets, found in the bytes: a lossy text of the file has other offsets.
    let find = |needle: &[u8]| memchr::memmem::find(&original, needle).unwrap() + needle.len();
    let contents = find(b"/Contents<");
    let range = find(b"/ByteRange[");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("cms", {
            let mut b = original.clone();
            b[contents + 40] = if b[contents + 40] == b'0' { b'1' } else { b'0' };
            b
        }),
        ("byterange", {
            let mut b = original.clone();
            b[range + 2] = b'9';
            b
        }),
        ("truncated", original[..original.len() - 300].to_vec()),
    ];
    for (name, bytes) in cases {
        let path = m.dir.join(format!("damaged-{name}.pdf"));
        std::fs::write(&path, &bytes).unwrap();
        copy_signature_files(&m.issued, &path);
        let run = verify(&path, &["--json"]);
        assert_eq!(run.code, Some(1), "{name}: {run:#?}");
        let v = json(&run);
        assert_eq!(v["valid"], false, "{name}");
        let reasons = v["reasons"].to_string();
        assert!(
            reasons.contains("embedded_signature"),
            "{name}: the PDF signature's own reason is given: {reasons}"
        );
    }
}

#[test]
fn two_generates_give_the_same_bytes_which_qpdf_finds_clean_with_the_unsigned_text() {
    let m = material();
    let again = printed_pdf(&ok(issue(&m.dir.join("again"), &[])));
    assert_eq!(
        std::fs::read(&again).unwrap(),
        std::fs::read(&m.issued).unwrap(),
        "same inputs, same bytes"
    );
    let (clean, out) = sh(&m.dir, "qpdf", &["--check", m.issued.to_str().unwrap()]);
    assert!(
        clean && out.contains("No syntax or stream encoding errors"),
        "{out}"
    );
    // The same document without a PDF key: the signature changes no word a reader sees.
    let config = unsigned_config(&m.dir.join("unsigned.toml"));
    let unsigned = printed_pdf(&ok(issue(
        &m.dir.join("unsigned"),
        &["--config", config.to_str().unwrap()],
    )));
    // Every word of the unsigned document, in order; the signed one adds only the three
    // lines of the signature's appearance (poppler extracts widget appearances too).
    let appearance = [
        "Digitally signed by DEMO ONLY - not a real signer",
        "Jordan Placeholder, Chief Executive Officer",
    ];
    let signed_text = pdf_text(&m.issued, None);
    for line in appearance {
        assert!(signed_text.contains(line), "{line}");
    }
    let words = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| {
                !appearance.contains(l) && !l.starts_with("1 June 2026 \u{b7} certificate ")
            })
            .flat_map(|l| l.split_whitespace().map(str::to_string).collect::<Vec<_>>())
            .collect()
    };
    assert_eq!(words(&signed_text), words(&pdf_text(&unsigned, None)));
    let (_, out) = sh(&m.dir, "pdfsig", &[unsigned.to_str().unwrap()]);
    assert!(!out.contains("Signature #1"), "{out}");
}

#[test]
fn keygen_writes_the_pdf_key_and_chain_that_sign_a_dpa() {
    let m = material();
    let keys = m.dir.join("keys");
    let made = ok(dpa_run([
        "keygen",
        "--out",
        keys.to_str().unwrap(),
        "--identity",
        "privacy@segmetrics.io",
    ]));
    assert!(
        made.stdout.contains("root certificate SHA-256"),
        "{made:#?}"
    );
    for name in ["pdf-signing.key", "pdf-signing.chain.pem", "pdf-root.pem"] {
        assert!(keys.join(name).is_file(), "{name}");
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(keys.join("pdf-signing.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // The printed root fingerprint is the root file's.
    let root = dpa::sign::x509::CertChain::load(&keys.join("pdf-root.pem")).unwrap();
    assert!(made.stdout.contains(&root.root_fingerprint()), "{made:#?}");
    // The new keys sign a DPA that pdfsig accepts, dated today (the certificate starts today).
    let pdf = printed_pdf(&ok(generate_with_keygen_keys(
        &keys,
        &m.dir.join("own-keys"),
    )));
    let (_, out) = sh(&m.dir, "pdfsig", &[pdf.to_str().unwrap()]);
    assert!(out.contains("Signature is Valid."), "{out}");
    assert!(
        out.contains("Signer Certificate Common Name: SegMetrics, Inc."),
        "{out}"
    );
    // A second keygen into the folder writes nothing.
    let again = dpa_run(["keygen", "--out", keys.to_str().unwrap()]);
    assert_eq!(again.code, Some(2), "{again:#?}");
    assert!(again.stderr.contains("already exists"), "{again:#?}");
}

/// Bad key and certificate input: an error naming the file (exit 2), nothing written.
#[test]
fn a_key_and_chain_that_do_not_fit_are_errors_and_write_nothing() {
    let m = material();
    let demo_chain = fixture("fixtures/keys/demo-only-pdf.chain.pem");
    // Another P-256 key.
    let (made, out) = sh(
        &m.dir,
        "openssl",
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "other-pdf-test-only.key",
        ],
    );
    assert!(made, "{out}");
    let (made, out) = sh(
        &m.dir,
        "openssl",
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            "rsa-pdf-test-only.key",
        ],
    );
    assert!(made, "{out}");
    // The demo chain reversed: root first.
    let pem = std::fs::read_to_string(&demo_chain).unwrap();
    let mut blocks: Vec<String> = pem
        .split_inclusive("-----END CERTIFICATE-----\n")
        .map(str::to_string)
        .collect();
    blocks.reverse();
    let reversed = m.dir.join("reversed-chain-test-only.pem");
    std::fs::write(&reversed, blocks.concat()).unwrap();
    let demo_key = fixture("fixtures/keys/demo-only-pdf.key");
    // (case, key, chain, issue date, the file the error names, what it says)
    let cases: Vec<(&str, PathBuf, PathBuf, &str, &str, &str)> = vec![
        (
            "mismatch",
            m.dir.join("other-pdf-test-only.key"),
            demo_chain.clone(),
            "2026-06-01",
            "demo-only-pdf.chain.pem",
            "does not match the signing key",
        ),
        (
            "expired",
            demo_key.clone(),
            demo_chain.clone(),
            "2049-01-01",
            "demo-only-pdf.chain.pem",
            "not at the signing time",
        ),
        (
            "order",
            demo_key.clone(),
            reversed.clone(),
            "2026-06-01",
            "reversed-chain-test-only.pem",
            "does not match the signing key",
        ),
        (
            "rsa",
            m.dir.join("rsa-pdf-test-only.key"),
            demo_chain.clone(),
            "2026-06-01",
            "rsa-pdf-test-only.key",
            "RSA",
        ),
    ];
    for (name, key, chain, date, file, needle) in cases {
        let out = m.dir.join(format!("bad-{name}"));
        let mut cmd = dpa();
        cmd.args(["generate", "--customer", CUSTOMER, "--issue-date", date])
            .arg("--out")
            .arg(&out)
            .arg("--pdf-key")
            .arg(&key)
            .arg("--cert")
            .arg(&chain);
        let run = run(&mut cmd);
        assert_eq!(run.code, Some(2), "{name}: {run:#?}");
        assert!(run.stderr.contains(file), "{name}: names {file}: {run:#?}");
        assert!(run.stderr.contains(needle), "{name}: {run:#?}");
        assert!(run.stderr.contains("hint:"), "{name}: {run:#?}");
        assert!(!out.exists(), "{name}: nothing is written");
    }
    // keygen with a chain that is not the key's: nothing written.
    let keys = m.dir.join("keys-bad-import");
    let run = dpa_run([
        "keygen",
        "--out",
        keys.to_str().unwrap(),
        "--cert",
        demo_chain.to_str().unwrap(),
        "--pdf-key",
        m.dir.join("other-pdf-test-only.key").to_str().unwrap(),
    ]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(run.stderr.contains("demo-only-pdf.chain.pem"), "{run:#?}");
    assert!(!keys.exists() || files_under(&keys).is_empty());
}
