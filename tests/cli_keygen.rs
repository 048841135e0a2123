//! `dpa keygen` and signing keys end to end: the four key files and their modes, never
//! overwriting, refusing keys other users can read, the key in `DPA_SIGNING_KEY`, and the
//! secret never leaking into any output or file.
#![cfg(unix)]

mod common;

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use common::*;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::DecodePrivateKey;

const KEY_FILES: [&str; 4] = [
    "signing.key",
    "signing.pub.pem",
    "signing.minisign.pub",
    "allowed_signers",
];

fn keygen(dir: &Path, identity: &str) -> Run {
    let mut cmd = dpa();
    cmd.arg("keygen")
        .arg("--out")
        .arg(dir)
        .args(["--identity", identity]);
    run(&mut cmd)
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// `dpa generate` for Müller & Söhne into `out` with dpa.toml's defaults plus `extra`,
/// optionally with `DPA_SIGNING_KEY` set.
fn generate_with(out: &Path, env_key: Option<&str>, extra: &[&OsStr]) -> Run {
    let mut cmd = dpa();
    cmd.args([
        "generate",
        "--customer",
        "fixtures/customers/mueller-soehne.toml",
    ])
    .arg("--out")
    .arg(out)
    .args(extra);
    if let Some(pem) = env_key {
        cmd.env("DPA_SIGNING_KEY", pem);
    }
    run(&mut cmd)
}

fn verify(pdf: &Path, key: &Path, extra: &[&str]) -> Run {
    let mut cmd = dpa();
    cmd.arg("verify")
        .arg(pdf)
        .arg("--pubkey")
        .arg(key)
        .args(extra);
    run(&mut cmd)
}

#[test]
fn keygen_writes_four_files_with_a_private_key_only_the_owner_reads() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    let run = ok(keygen(&keys, "privacy@example.com"));
    for name in KEY_FILES {
        assert!(keys.join(name).is_file(), "{name} missing");
    }
    assert_eq!(mode(&keys.join("signing.key")), 0o600);
    assert_eq!(mode(&keys.join("signing.pub.pem")) & 0o077, 0o044);

    let secret = fs::read_to_string(keys.join("signing.key")).unwrap();
    assert!(
        secret.starts_with("-----BEGIN PRIVATE KEY-----\n"),
        "{secret}"
    );
    let public = dpa::sign::PublicKey::load(&keys.join("signing.pub.pem")).unwrap();
    let from_minisign = dpa::sign::PublicKey::load(&keys.join("signing.minisign.pub")).unwrap();
    assert_eq!(public.to_bytes(), from_minisign.to_bytes());
    let id = public.key_id().to_string();
    assert!(run.stdout.contains(&id), "key id not printed: {run:#?}");
    assert!(
        run.stdout.contains(&public.fingerprint()),
        "fingerprint not printed: {run:#?}"
    );
    let signers = fs::read_to_string(keys.join("allowed_signers")).unwrap();
    assert!(
        signers.starts_with("privacy@example.com namespaces=\"dpa\" ssh-ed25519 "),
        "{signers}"
    );

    // OpenSSL reads the private key (PKCS#8 v1) and derives the same public key.
    let (good, derived, err) = tool(
        "openssl",
        &[
            OsStr::new("pkey"),
            OsStr::new("-in"),
            keys.join("signing.key").as_os_str(),
            OsStr::new("-pubout"),
        ],
    );
    assert!(good, "openssl pkey: {err}");
    assert_eq!(
        derived,
        fs::read_to_string(keys.join("signing.pub.pem")).unwrap()
    );

    // The new key signs a DPA that minisign and ssh-keygen accept.
    let out = dir.path().join("out");
    let key_arg = keys.join("signing.key");
    let run = ok(generate_with(
        &out,
        None,
        &["--key".as_ref(), key_arg.as_os_str()],
    ));
    assert!(run.stdout.contains(&format!("key {id}")), "{run:#?}");
    let pdf = printed_pdf(&run);
    let (good, stdout, stderr) = tool(
        "minisign",
        &[
            OsStr::new("-Vm"),
            pdf.as_os_str(),
            OsStr::new("-p"),
            keys.join("signing.minisign.pub").as_os_str(),
        ],
    );
    assert!(good, "minisign: {stdout}{stderr}");
    ok(verify(&pdf, &keys.join("signing.minisign.pub"), &[]));
}

#[test]
fn keygen_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    ok(keygen(&keys, "privacy@example.com"));
    let before: Vec<Vec<u8>> = KEY_FILES
        .iter()
        .map(|f| fs::read(keys.join(f)).unwrap())
        .collect();

    let again = keygen(&keys, "privacy@example.com");
    assert_eq!(again.code, Some(2), "{again:#?}");
    assert!(again.stderr.contains("error: ") && again.stderr.contains("already exists"));
    assert!(again.stderr.contains("hint: "), "{again:#?}");
    let after: Vec<Vec<u8>> = KEY_FILES
        .iter()
        .map(|f| fs::read(keys.join(f)).unwrap())
        .collect();
    assert_eq!(after, before, "keygen changed existing key files");

    // One file of the set in the way is enough to refuse, and nothing else is created.
    let partial = dir.path().join("partial");
    fs::create_dir(&partial).unwrap();
    fs::write(partial.join("allowed_signers"), "keep me\n").unwrap();
    let run = keygen(&partial, "privacy@example.com");
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert_eq!(
        fs::read_to_string(partial.join("allowed_signers")).unwrap(),
        "keep me\n"
    );
    assert!(!partial.join("signing.key").exists());
}

#[test]
fn a_key_file_others_can_read_is_refused_with_a_chmod_hint() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    ok(keygen(&keys, "privacy@example.com"));
    for loose in [0o644, 0o640, 0o604] {
        // A copy under a name that does not mark it as a demo or test key.
        let copy = dir.path().join(format!("vendor-{loose:o}.key"));
        fs::copy(keys.join("signing.key"), &copy).unwrap();
        fs::set_permissions(&copy, fs::Permissions::from_mode(loose)).unwrap();
        let out = dir.path().join(format!("out-{loose:o}"));
        let run = generate_with(&out, None, &["--key".as_ref(), copy.as_os_str()]);
        assert_eq!(run.code, Some(2), "{run:#?}");
        assert!(run.stderr.contains("error: "), "{run:#?}");
        let hint = format!("hint: chmod 600 {}", copy.display());
        assert!(
            run.stderr.lines().any(|l| l == hint),
            "no `{hint}` line: {run:#?}"
        );
        assert!(
            files_under(&out).is_empty(),
            "wrote files with a refused key"
        );

        // After the suggested fix the same key works.
        fs::set_permissions(&copy, fs::Permissions::from_mode(0o600)).unwrap();
        ok(generate_with(
            &out,
            None,
            &["--key".as_ref(), copy.as_os_str()],
        ));
    }
}

/// Every way the 32-byte seed could be written out as text or bytes.
fn secret_forms(seed: &[u8; 32], pem: &str) -> Vec<(String, Vec<u8>)> {
    let hex = hex::encode(seed);
    let mut forms = vec![
        ("raw bytes".to_string(), seed.to_vec()),
        ("hex".to_string(), hex.clone().into_bytes()),
        ("HEX".to_string(), hex.to_uppercase().into_bytes()),
        ("base64".to_string(), STANDARD.encode(seed).into_bytes()),
        (
            "base64 unpadded".to_string(),
            STANDARD_NO_PAD.encode(seed).into_bytes(),
        ),
        ("base64url".to_string(), URL_SAFE.encode(seed).into_bytes()),
        (
            "base64url unpadded".to_string(),
            URL_SAFE_NO_PAD.encode(seed).into_bytes(),
        ),
        // Half the seed is still a leak.
        ("hex, first half".to_string(), hex.as_bytes()[..32].to_vec()),
        (
            "hex, second half".to_string(),
            hex.as_bytes()[32..].to_vec(),
        ),
        ("raw bytes, first half".to_string(), seed[..16].to_vec()),
    ];
    // The PEM's base64 body, as a whole line.
    for line in pem.lines().filter(|l| !l.starts_with("-----")) {
        forms.push(("PEM body".to_string(), line.as_bytes().to_vec()));
    }
    forms
}

fn find(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn assert_no_secret(what: &str, bytes: &[u8], forms: &[(String, Vec<u8>)]) {
    for (form, needle) in forms {
        assert!(
            !find(bytes, needle),
            "the secret key ({form}) appears in {what}"
        );
    }
}

#[test]
fn the_secret_key_appears_in_no_output_and_no_other_file() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    let mut outputs: Vec<(String, Run)> = Vec::new();
    outputs.push(("keygen".into(), ok(keygen(&keys, "privacy@example.com"))));

    let key_path = keys.join("signing.key");
    let pem = fs::read_to_string(&key_path).unwrap();
    let seed = SigningKey::from_pkcs8_pem(&pem)
        .expect("dalek reads the key")
        .to_bytes();
    let forms = secret_forms(&seed, &pem);
    // The check can fail: the key file itself holds the PEM body.
    assert!(find(pem.as_bytes(), &forms.last().unwrap().1));

    let out = dir.path().join("out");
    let run = ok(generate_with(
        &out,
        None,
        &["--key".as_ref(), key_path.as_os_str(), "--raw-sig".as_ref()],
    ));
    let pdf = printed_pdf(&run);
    outputs.push(("generate --key".into(), run));
    let env_out = dir.path().join("out-env");
    outputs.push((
        "generate with DPA_SIGNING_KEY".into(),
        ok(generate_with(&env_out, Some(&pem), &[])),
    ));
    let public = keys.join("signing.pub.pem");
    outputs.push(("verify".into(), ok(verify(&pdf, &public, &[]))));
    outputs.push((
        "verify --json".into(),
        ok(verify(&pdf, &public, &["--json"])),
    ));

    // Error paths that handle the secret: it must not be quoted back.
    outputs.push(("verify with the secret as --pubkey".into(), {
        let run = verify(&pdf, &key_path, &[]);
        assert_eq!(run.code, Some(2), "{run:#?}");
        run
    }));
    let loose = dir.path().join("loose.key");
    fs::copy(&key_path, &loose).unwrap();
    fs::set_permissions(&loose, fs::Permissions::from_mode(0o644)).unwrap();
    outputs.push(("generate with a 0644 key".into(), {
        let run = generate_with(
            &dir.path().join("x"),
            None,
            &["--key".as_ref(), loose.as_os_str()],
        );
        assert_eq!(run.code, Some(2), "{run:#?}");
        run
    }));
    // A damaged PEM in the environment: most of the secret is there, none may be echoed.
    let damaged = pem.replacen("MC4CAQAw", "MC4CAQAx", 1);
    assert_ne!(damaged, pem, "the test's damage did not apply");
    outputs.push(("generate with a damaged DPA_SIGNING_KEY".into(), {
        let run = generate_with(&dir.path().join("y"), Some(&damaged), &[]);
        assert_eq!(run.code, Some(2), "{run:#?}");
        run
    }));

    for (what, run) in &outputs {
        assert_no_secret(
            &format!("the output of {what}"),
            run.all().as_bytes(),
            &forms,
        );
    }

    let mut files = files_under(&out);
    files.extend(files_under(&env_out));
    files.extend(KEY_FILES[1..].iter().map(|f| keys.join(f)));
    assert!(files.len() >= 12, "{files:?}");
    for file in &files {
        assert_no_secret(
            &file.display().to_string(),
            &fs::read(file).unwrap(),
            &forms,
        );
    }
    // Inside the PDF's compressed streams too.
    let plain = dir.path().join("uncompressed.pdf");
    let (good, _, err) = tool(
        "qpdf",
        &[
            "--stream-data=uncompress".as_ref(),
            pdf.as_os_str(),
            plain.as_os_str(),
        ],
    );
    assert!(good, "qpdf: {err}");
    assert_no_secret("the uncompressed PDF", &fs::read(&plain).unwrap(), &forms);
}

/// A fresh key folder; returns (secret PEM text, folder).
fn new_key(base: &Path, name: &str) -> (String, PathBuf) {
    let keys = base.join(name);
    ok(keygen(&keys, "privacy@example.com"));
    (fs::read_to_string(keys.join("signing.key")).unwrap(), keys)
}

#[test]
fn the_key_may_come_from_the_environment_and_an_explicit_key_wins() {
    let dir = tempfile::tempdir().unwrap();
    let (env_pem, env_keys) = new_key(dir.path(), "env-key");
    let (_, file_keys) = new_key(dir.path(), "file-key");
    let demo = fixture("fixtures/keys/demo-only.pub.pem");

    // DPA_SIGNING_KEY beats dpa.toml's demo key.
    let out = dir.path().join("from-env");
    let pdf = printed_pdf(&ok(generate_with(&out, Some(&env_pem), &[])));
    ok(verify(&pdf, &env_keys.join("signing.pub.pem"), &[]));
    assert_eq!(verify(&pdf, &demo, &[]).code, Some(1));

    // --key beats DPA_SIGNING_KEY.
    let out = dir.path().join("explicit");
    let key = file_keys.join("signing.key");
    let pdf = printed_pdf(&ok(generate_with(
        &out,
        Some(&env_pem),
        &["--key".as_ref(), key.as_os_str()],
    )));
    ok(verify(&pdf, &file_keys.join("signing.pub.pem"), &[]));
    assert_eq!(
        verify(&pdf, &env_keys.join("signing.pub.pem"), &[]).code,
        Some(1)
    );

    // Something that is not a key in the variable is an error with a hint, not a fallback.
    let out = dir.path().join("bad-env");
    let run = generate_with(&out, Some("not a key"), &[]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(run.stderr.contains("DPA_SIGNING_KEY"), "{run:#?}");
    assert!(run.stderr.contains("hint: "), "{run:#?}");
    assert!(files_under(&out).is_empty());
}
