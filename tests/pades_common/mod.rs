//! Real PDF software playing the vendor and the customer: pyHanko adds signature fields
//! and certifies as the vendor (a test-only chain made by `dpa::sign::x509`), openssl
//! makes customers' test-only certificates, and tests/pades/countersign.py signs the
//! customer's field. Files are made in a folder given by the caller.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::NaiveDate;
use dpa::sign::x509::{self, ChainSubject, PdfSigningKey};

/// Runs a program in `dir`; panics with its output when it fails.
pub fn sh(dir: &Path, program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{program} (CI installs it): {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Writes the vendor's test-only chain into `dir`: vendor-test-only.key, .pem and
/// root-test-only.pem.
pub fn vendor_chain(dir: &Path, seed: &str) {
    let leaf = PdfSigningKey::from_seed(format!("{seed} test-only vendor").as_bytes());
    let root = PdfSigningKey::from_seed(format!("{seed} test-only root").as_bytes());
    let chain = x509::issue_default_chain(
        &leaf,
        &root,
        &ChainSubject::vendor("SegMetrics, Inc.", Some("privacy@segmetrics.io")),
        NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
        40,
    )
    .unwrap();
    std::fs::write(
        dir.join("vendor-test-only.key"),
        leaf.to_pkcs8_pem().unwrap().as_bytes(),
    )
    .unwrap();
    std::fs::write(
        dir.join("vendor-test-only.pem"),
        x509::cert_pem(chain.leaf()).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.join("root-test-only.pem"),
        x509::cert_pem(chain.top()).unwrap(),
    )
    .unwrap();
}

/// Adds the empty fields "Vendor" and "Customer" to `input` (in `dir`), writing `output`.
pub fn add_fields(dir: &Path, input: &str, output: &str) {
    sh(
        dir,
        "pyhanko",
        &[
            "sign",
            "addfields",
            "--field",
            "-1/72,100,272,160/Vendor",
            "--field",
            "-1/320,100,520,160/Customer",
            input,
            output,
        ],
    );
}

/// Certifies `input` in field "Vendor" (DocMDP P=2) with the chain of [`vendor_chain`].
pub fn certify(dir: &Path, input: &str, output: &str) {
    sh(
        dir,
        "pyhanko",
        &[
            "sign",
            "addsig",
            "--field",
            "Vendor",
            "--certify",
            "--use-pades",
            "pemder",
            "--key",
            "vendor-test-only.key",
            "--cert",
            "vendor-test-only.pem",
            "--chain",
            "root-test-only.pem",
            "--no-pass",
            input,
            output,
        ],
    );
}

/// The openssl `genpkey` arguments of a customer key kind: `rsa2048`, `p256`, `p384`,
/// `ed25519`.
pub fn genpkey_args(kind: &str) -> &'static [&'static str] {
    match kind {
        "p256" => &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "p384" => &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
        "ed25519" => &["-algorithm", "ed25519"],
        _ => &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
    }
}

/// A customer's self-signed, test-only key and certificate made by openssl in `dir`
/// (once per kind): returns their file names (key, cert).
pub fn customer_cert(dir: &Path, kind: &str) -> (String, String) {
    // Tests run in parallel: one at a time makes each key and its certificate.
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let key = format!("customer-{kind}-test-only.key");
    let cert = format!("customer-{kind}-test-only.pem");
    if !dir.join(&cert).exists() {
        let mut args = vec!["genpkey"];
        args.extend_from_slice(genpkey_args(kind));
        args.extend_from_slice(&["-out", &key]);
        sh(dir, "openssl", &args);
        let subj = format!("/CN=Customer {kind}/O=Test Only Customer GmbH");
        sh(
            dir,
            "openssl",
            &[
                "req",
                "-new",
                "-x509",
                "-key",
                &key,
                "-out",
                &cert,
                "-days",
                "3650",
                "-subj",
                &subj,
                "-addext",
                "keyUsage=digitalSignature,nonRepudiation",
            ],
        );
    }
    (key, cert)
}

/// Countersigns `input` in `field` as a customer of key kind `kind` with
/// tests/pades/countersign.py (optionally tampering: `content`, `annot`, `newfield`);
/// writes `dir/output`.
pub fn countersign(
    dir: &Path,
    script: &Path,
    input: &Path,
    output: &str,
    field: &str,
    kind: &str,
    tamper: Option<&str>,
) -> PathBuf {
    let (key, cert) = customer_cert(dir, kind);
    let mut args = vec![
        script.to_str().unwrap().to_string(),
        input.to_str().unwrap().to_string(),
        output.to_string(),
        field.to_string(),
        key,
        cert,
    ];
    if let Some(t) = tamper {
        args.push("--tamper".into());
        args.push(t.into());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    sh(dir, "python3", &args);
    dir.join(output)
}
