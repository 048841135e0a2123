//! `dpa keygen --pkcs12`: the PDF signing key and its chain from the PKCS#12 file a CA hands
//! out. OpenSSL writes the files under test from the demo key and chain, in the three
//! encryptions vendors meet (OpenSSL 3's AES default, the SHA-1 3DES of older Windows
//! exports, and OpenSSL's `-legacy` RC2); the imported key and chain must be the ones put
//! in, must sign a DPA that pdfsig accepts, and every bad file or password is an error
//! naming the file, with a hint, exit 2 and nothing written.
#![cfg(unix)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

const DEMO_KEY: &str = "fixtures/keys/demo-only-pdf.key";
const DEMO_CHAIN: &str = "fixtures/keys/demo-only-pdf.chain.pem";
const PASSWORD: &str = "correct horse, test only";

/// A fresh folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("keygen_pkcs12")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs openssl in `dir`, with `PASSWORD` in the environment as `P12_TEST_PASSWORD`;
/// panics with its output when it fails.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .env("P12_TEST_PASSWORD", PASSWORD)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("openssl is needed (CI installs it): {e}"));
    assert!(
        out.status.success(),
        "openssl {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Writes `name` (a PKCS#12 file of `key`, or of no key, and `chain`, encrypted with
/// `PASSWORD`) into `dir`, with the extra openssl options of an encryption scheme.
fn export(dir: &Path, name: &str, key: Option<&Path>, chain: &Path, scheme: &[&str]) -> PathBuf {
    let mut args = vec!["pkcs12", "-export"];
    match key {
        Some(key) => args.extend(["-inkey", key.to_str().unwrap()]),
        None => args.push("-nokeys"),
    }
    args.extend([
        "-in",
        chain.to_str().unwrap(),
        "-passout",
        "env:P12_TEST_PASSWORD",
        "-out",
        name,
    ]);
    args.extend_from_slice(scheme);
    openssl(dir, &args);
    dir.join(name)
}

/// `dpa keygen --out OUT --pkcs12 FILE` with the extra arguments, the password variable
/// unset unless `env_password` is given.
fn keygen(out: &Path, p12: &Path, extra: &[&str], env_password: Option<&str>) -> Run {
    let mut cmd = dpa();
    cmd.arg("keygen")
        .arg("--out")
        .arg(out)
        .arg("--pkcs12")
        .arg(p12)
        .args(extra)
        .env_remove("DPA_PKCS12_PASSWORD");
    if let Some(password) = env_password {
        cmd.env("DPA_PKCS12_PASSWORD", password);
    }
    run(&mut cmd)
}

/// The demo key and chain as `vendor.p12` in `dir`, in OpenSSL's default encryption.
fn demo_p12(dir: &Path) -> PathBuf {
    let key = fixture(DEMO_KEY);
    export(dir, "vendor.p12", Some(&key), &fixture(DEMO_CHAIN), &[])
}

fn password_file(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("p12-password-test-only.txt");
    std::fs::write(&path, text).unwrap();
    path
}

/// The public key of a PDF signing key file.
fn public_key(path: &Path) -> p256::ecdsa::VerifyingKey {
    *dpa::sign::x509::PdfSigningKey::load(path)
        .unwrap()
        .verifying_key()
}

#[test]
fn each_encryption_gives_back_the_key_and_chain_put_in() {
    let dir = scratch("schemes");
    let key = fixture(DEMO_KEY);
    let chain = fixture(DEMO_CHAIN);
    let password = password_file(&dir, &format!("{PASSWORD}\n"));
    let schemes: [(&str, &[&str]); 3] = [
        ("aes", &[]),
        (
            "tdes",
            &[
                "-certpbe",
                "PBE-SHA1-3DES",
                "-keypbe",
                "PBE-SHA1-3DES",
                "-macalg",
                "sha1",
            ],
        ),
        ("legacy", &["-legacy"]),
    ];
    for (name, scheme) in schemes {
        let p12 = export(&dir, &format!("{name}.p12"), Some(&key), &chain, scheme);
        let out = dir.join(format!("keys-{name}"));
        let made = ok(keygen(
            &out,
            &p12,
            &["--pkcs12-password-file", password.to_str().unwrap()],
            None,
        ));
        assert!(
            made.stdout.contains("root certificate SHA-256"),
            "{name}: {made:#?}"
        );
        assert_eq!(
            std::fs::read_to_string(out.join("pdf-signing.chain.pem")).unwrap(),
            std::fs::read_to_string(&chain).unwrap(),
            "{name}: the chain written is the chain put in, leaf first"
        );
        assert_eq!(
            public_key(&out.join("pdf-signing.key")),
            public_key(&key),
            "{name}: the key written is the key put in"
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(out.join("pdf-signing.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name}");
        // The password was read, never echoed.
        assert!(!made.all().contains(PASSWORD), "{name}: {made:#?}");
    }
}

#[test]
fn the_imported_key_signs_a_dpa_that_pdfsig_accepts() {
    let dir = scratch("signs");
    let p12 = demo_p12(&dir);
    let keys = dir.join("keys");
    // The password from the environment this time.
    ok(keygen(&keys, &p12, &[], Some(PASSWORD)));
    let pdf = printed_pdf(&ok(generate_with_keygen_keys(&keys, &dir.join("out"))));
    let (_, out, err) = tool("pdfsig", &[pdf.as_os_str()]);
    assert!(out.contains("Signature is Valid."), "{out}{err}");
    assert!(out.contains("Total document signed"), "{out}{err}");
}

#[test]
fn a_wrong_or_missing_password_is_an_error_that_writes_nothing() {
    let dir = scratch("password");
    let p12 = demo_p12(&dir);
    let wrong = password_file(&dir, "not the password\n");
    let cases: [(&str, Vec<&str>, Option<&str>); 3] = [
        (
            "wrong file",
            vec!["--pkcs12-password-file", wrong.to_str().unwrap()],
            None,
        ),
        ("wrong variable", vec![], Some("not the password")),
        ("none", vec![], None),
    ];
    for (name, extra, env) in cases {
        let out = dir.join(format!("keys-{}", name.replace(' ', "-")));
        let run = keygen(&out, &p12, &extra, env);
        assert_eq!(run.code, Some(2), "{name}: {run:#?}");
        assert!(run.stderr.contains("vendor.p12"), "{name}: {run:#?}");
        assert!(run.stderr.contains("password is wrong"), "{name}: {run:#?}");
        assert!(run.stderr.contains("hint:"), "{name}: {run:#?}");
        assert!(!out.exists(), "{name}: nothing is written");
    }
}

#[test]
fn a_file_without_one_p256_key_and_its_chain_is_refused() {
    let dir = scratch("refused");
    openssl(
        &dir,
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            "rsa-test-only.key",
        ],
    );
    openssl(
        &dir,
        &[
            "req",
            "-new",
            "-x509",
            "-key",
            "rsa-test-only.key",
            "-subj",
            "/CN=RSA test only",
            "-days",
            "30",
            "-out",
            "rsa-test-only.pem",
        ],
    );
    let rsa_key = dir.join("rsa-test-only.key");
    let rsa = export(
        &dir,
        "rsa.p12",
        Some(&rsa_key),
        &dir.join("rsa-test-only.pem"),
        &[],
    );
    let certificates_only = export(&dir, "certs.p12", None, &fixture(DEMO_CHAIN), &[]);
    let garbage = dir.join("garbage.p12");
    std::fs::write(&garbage, b"0\x82\x05\x00 this is not a PKCS#12 file").unwrap();
    // (case, file, what the error says, what its hint says)
    let cases = [
        ("rsa", rsa, "its key is RSA", "ask the CA"),
        (
            "certificates only",
            certificates_only,
            "no private key",
            "export the key",
        ),
        ("garbage", garbage, "not a PKCS#12 file", "export the key"),
    ];
    for (name, p12, needle, hint) in cases {
        let out = dir.join(format!("keys-{}", name.replace(' ', "-")));
        let run = keygen(&out, &p12, &[], Some(PASSWORD));
        assert_eq!(run.code, Some(2), "{name}: {run:#?}");
        let file = p12.file_name().unwrap().to_str().unwrap();
        assert!(run.stderr.contains(file), "{name}: names {file}: {run:#?}");
        assert!(run.stderr.contains(needle), "{name}: {run:#?}");
        assert!(run.stderr.contains("hint:"), "{name}: {run:#?}");
        assert!(run.stderr.contains(hint), "{name}: {run:#?}");
        assert!(!out.exists(), "{name}: nothing is written");
    }
    // --pkcs12 with --cert is a usage error.
    let run = dpa_run([
        "keygen",
        "--out",
        dir.join("keys-both").to_str().unwrap(),
        "--pkcs12",
        "rsa.p12",
        "--cert",
        DEMO_CHAIN,
    ]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(run.stderr.contains("cannot be used with"), "{run:#?}");
}
