//! Signatures end to end: the files `dpa generate` writes are accepted by the tools a
//! customer already has (minisign, ssh-keygen, openssl, sha256sum), a key made by openssl
//! signs through `dpa generate`, and `dpa verify` answers "not valid" (exit 1, with the
//! reason) for every kind of damage, forgery or wrong key, without ever panicking.
#![cfg(unix)]

mod common;

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::*;
use serde_json::Value;

const DEMO_MINISIGN: &str = "fixtures/keys/demo-only.minisign.pub";
const DEMO_PEM: &str = "fixtures/keys/demo-only.pub.pem";
const DEMO_SIGNERS: &str = "fixtures/keys/demo-only.allowed_signers";

/// Generates a fixture customer's SegMetrics DPA into `out` with dpa.toml's defaults.
/// The issue date the documents of these tests carry (the default would be today).
const ISSUED: &str = "2026-06-01";

fn issue(out: &Path, customer: &str, extra: &[&str]) -> PathBuf {
    let file = fixture(&format!("fixtures/customers/{customer}.toml"));
    let mut cmd = dpa();
    cmd.arg("generate")
        .arg("--customer")
        .arg(file)
        .arg("--out")
        .arg(out)
        .args(["--issue-date", ISSUED])
        .args(extra);
    printed_pdf(&ok(run(&mut cmd)))
}

/// `dpa verify PDF --pubkey KEY [extra]`.
fn verify(pdf: &Path, key: &Path, extra: &[&str]) -> Run {
    let mut cmd = dpa();
    cmd.arg("verify")
        .arg(pdf)
        .arg("--pubkey")
        .arg(key)
        .args(extra);
    run(&mut cmd)
}

/// `dpa verify --json`, parsed; the exit code must agree with `valid`.
fn verify_json(pdf: &Path, key: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["--json"];
    args.extend_from_slice(extra);
    let run = verify(pdf, key, &args);
    let json: Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {run:#?}"));
    assert!(json.is_object());
    let valid = json["valid"].as_bool().expect("`valid` is a boolean");
    assert_eq!(run.code, Some(if valid { 0 } else { 1 }), "{run:#?}");
    json
}

/// The reason tags of a JSON verdict.
fn reason_tags(json: &Value) -> Vec<String> {
    json["reasons"]
        .as_array()
        .expect("`reasons` is an array")
        .iter()
        .map(|r| r["reason"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Asserts `dpa verify` says "not valid" (exit 1) with `tag` among its reasons, in both
/// the human and the JSON form.
fn assert_not_valid(pdf: &Path, key: &Path, tag: &str, words: &str) {
    let run = verify(pdf, key, &[]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(run.stdout.starts_with("NOT VALID"), "{run:#?}");
    let reasons: Vec<&str> = run
        .stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("reason: "))
        .collect();
    assert!(
        reasons.iter().any(|r| r.contains(words)),
        "no reason saying {words:?}: {run:#?}"
    );
    let json = verify_json(pdf, key, &[]);
    assert_eq!(json["valid"], false);
    let tags = reason_tags(&json);
    assert!(tags.iter().any(|t| t == tag), "{tag} not in {tags:?}");
}

/// Copies a PDF and its signature files into a new folder `name` under `base`.
fn copy_case(pdf: &Path, base: &Path, name: &str) -> PathBuf {
    let dir = base.join(name);
    fs::create_dir_all(&dir).unwrap();
    let file = pdf.file_name().unwrap().to_str().unwrap();
    for ext in ["", ".minisig", ".sha256", ".sshsig", ".sig"] {
        let from = with_suffix(pdf, ext);
        if from.exists() {
            fs::copy(&from, dir.join(format!("{file}{ext}"))).unwrap();
        }
    }
    dir.join(file)
}

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

#[test]
fn customers_tools_accept_our_signatures() {
    let out = tempfile::tempdir().unwrap();
    let pdf = issue(out.path(), "mueller-soehne", &["--raw-sig"]);
    let sha256 = sha256_of(&pdf);

    let (good, stdout, stderr) = tool(
        "minisign",
        &[
            os("-Vm"),
            pdf.as_os_str(),
            os("-p"),
            fixture(DEMO_MINISIGN).as_os_str(),
        ],
    );
    assert!(good, "minisign: {stdout}{stderr}");
    let trusted = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Trusted comment: "))
        .unwrap_or_else(|| panic!("no trusted comment: {stdout}"));
    for field in [
        "dpa/1 ".to_string(),
        format!("file={}", pdf.file_name().unwrap().to_str().unwrap()),
        format!("sha256={sha256}"),
        "annex=2026-05-26".to_string(),
        format!(
            "annex_sha256={}",
            annex_fingerprint(&fixture("fixtures/segmetrics/annex.toml"))
        ),
        "customer=mueller-soehne".to_string(),
        "issued=2026-06-01".to_string(),
    ] {
        assert!(trusted.contains(&field), "{field} not in {trusted}");
    }

    let vendor = dpa::load::vendor(fixture("fixtures/segmetrics/vendor.toml")).unwrap();
    let (good, stdout, stderr) = ssh_verify(&pdf, &fixture(DEMO_SIGNERS), &vendor.email);
    assert!(good, "ssh-keygen: {stdout}{stderr}");
    assert!(stdout.contains("Good \"dpa\" signature"), "{stdout}");

    let (good, stdout, stderr) = openssl_verify(&pdf, &fixture(DEMO_PEM));
    assert!(good, "openssl: {stdout}{stderr}");
    assert_eq!(fs::read(with_suffix(&pdf, ".sig")).unwrap().len(), 64);

    let dir = pdf.parent().unwrap();
    let sums = with_suffix(&pdf, ".sha256");
    let (good, stdout, stderr) = tool_in(dir, "sha256sum", &[os("-c"), sums.as_os_str()]);
    assert!(
        good && stdout.contains(": OK"),
        "sha256sum: {stdout}{stderr}"
    );

    let run = ok(verify(&pdf, &fixture(DEMO_MINISIGN), &[]));
    assert!(run.stdout.starts_with("VALID"), "{run:#?}");
    assert!(run.stdout.contains("mueller-soehne"), "{run:#?}");
    ok(verify(&pdf, &fixture(DEMO_PEM), &[]));

    // The same tools notice one flipped byte, so the checks above are not vacuous.
    let bad = copy_case(&pdf, out.path(), "flipped");
    flip(&bad, 1000);
    let (good, ..) = tool(
        "minisign",
        &[
            os("-Vm"),
            bad.as_os_str(),
            os("-p"),
            fixture(DEMO_MINISIGN).as_os_str(),
        ],
    );
    assert!(!good, "minisign accepted a changed file");
    assert!(!ssh_verify(&bad, &fixture(DEMO_SIGNERS), &vendor.email).0);
    assert!(!openssl_verify(&bad, &fixture(DEMO_PEM)).0);
}

fn sha256_of(path: &Path) -> String {
    dpa::sign::sha256_hex(&fs::read(path).unwrap())
}

fn tool_in(dir: &Path, program: &str, args: &[&OsStr]) -> (bool, String, String) {
    let output = std::process::Command::new(program)
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `ssh-keygen -Y verify -f SIGNERS -I IDENTITY -n dpa -s X.pdf.sshsig < X.pdf`.
fn ssh_verify(pdf: &Path, signers: &Path, identity: &str) -> (bool, String, String) {
    let output = std::process::Command::new("ssh-keygen")
        .args([os("-Y"), os("verify"), os("-f"), signers.as_os_str()])
        .args([os("-I"), os(identity), os("-n"), os("dpa"), os("-s")])
        .arg(with_suffix(pdf, ".sshsig"))
        .stdin(fs::File::open(pdf).unwrap())
        .output()
        .expect("ssh-keygen runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `openssl pkeyutl -verify -pubin -inkey PEM -rawin -in X.pdf -sigfile X.pdf.sig`.
fn openssl_verify(pdf: &Path, pem: &Path) -> (bool, String, String) {
    let sig = with_suffix(pdf, ".sig");
    tool(
        "openssl",
        &[
            os("pkeyutl"),
            os("-verify"),
            os("-pubin"),
            os("-inkey"),
            pem.as_os_str(),
            os("-rawin"),
            os("-in"),
            pdf.as_os_str(),
            os("-sigfile"),
            sig.as_os_str(),
        ],
    )
}

fn flip(path: &Path, at: usize) {
    let mut bytes = fs::read(path).unwrap();
    bytes[at] ^= 0x01;
    fs::write(path, bytes).unwrap();
}

#[test]
fn a_key_made_by_openssl_signs_through_dpa() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("vendor-signing.key");
    let pem = dir.path().join("vendor-signing.pub.pem");
    let (made, _, err) = tool(
        "openssl",
        &[
            os("genpkey"),
            os("-algorithm"),
            os("ed25519"),
            os("-out"),
            key.as_os_str(),
        ],
    );
    assert!(made, "openssl genpkey: {err}");
    fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).unwrap();
    let (made, _, err) = tool(
        "openssl",
        &[
            os("pkey"),
            os("-in"),
            key.as_os_str(),
            os("-pubout"),
            os("-out"),
            pem.as_os_str(),
        ],
    );
    assert!(made, "openssl pkey -pubout: {err}");

    let out = dir.path().join("out");
    let key_arg = key.to_str().unwrap();
    let pdf = issue(&out, "mueller-soehne", &["--key", key_arg, "--raw-sig"]);

    let run = ok(verify(&pdf, &pem, &[]));
    assert!(run.stdout.starts_with("VALID"), "{run:#?}");
    assert!(
        openssl_verify(&pdf, &pem).0,
        "openssl refused the raw signature"
    );

    // dpa has no command that turns a public PEM into a minisign key or an
    // allowed_signers line (keygen only makes new keys), so the library derives them.
    let public = dpa::sign::PublicKey::load(&pem).unwrap();
    let minisign_pub = dir.path().join("vendor.minisign.pub");
    fs::write(&minisign_pub, public.to_minisign_file()).unwrap();
    let (good, stdout, stderr) = tool(
        "minisign",
        &[
            os("-Vm"),
            pdf.as_os_str(),
            os("-p"),
            minisign_pub.as_os_str(),
        ],
    );
    assert!(good, "minisign: {stdout}{stderr}");
    ok(verify(&pdf, &minisign_pub, &[]));
    let signers = dir.path().join("allowed_signers");
    let identity = "privacy@segmetrics.io";
    fs::write(&signers, public.allowed_signers_line(identity).unwrap()).unwrap();
    let (good, stdout, stderr) = ssh_verify(&pdf, &signers, identity);
    assert!(good, "ssh-keygen: {stdout}{stderr}");

    // Not the demo key's document.
    assert_not_valid(&pdf, &fixture(DEMO_PEM), "wrong_key", "another key");
}

#[test]
fn altered_documents_are_not_valid() {
    let out = tempfile::tempdir().unwrap();
    let pdf = issue(&out.path().join("issued"), "mueller-soehne", &[]);
    let len = fs::metadata(&pdf).unwrap().len() as usize;
    for (name, at) in [("start", 0), ("middle", len / 2), ("end", len - 1)] {
        let case = copy_case(&pdf, out.path(), name);
        flip(&case, at);
        assert_not_valid(
            &case,
            &fixture(DEMO_MINISIGN),
            "altered_document",
            "altered",
        );
        assert_not_valid(&case, &fixture(DEMO_PEM), "altered_document", "altered");
    }
    // The untouched original still verifies.
    ok(verify(&pdf, &fixture(DEMO_MINISIGN), &[]));
}

#[test]
fn another_customers_signatures_are_not_valid() {
    let out = tempfile::tempdir().unwrap();
    let issued = out.path().join("issued");
    let mueller = issue(&issued, "mueller-soehne", &[]);
    let acme = issue(&issued, "acme-widgets-us", &[]);
    // Same vendor and annex: the two files have the same name in different folders.
    assert_eq!(mueller.file_name(), acme.file_name());

    let case = copy_case(&mueller, out.path(), "swapped");
    for ext in [".minisig", ".sha256", ".sshsig"] {
        fs::copy(with_suffix(&acme, ext), with_suffix(&case, ext)).unwrap();
    }
    // Not "altered": the signed comment names another customer than the document does.
    assert_not_valid(
        &case,
        &fixture(DEMO_MINISIGN),
        "other_document",
        "belong to another document",
    );
    let run = verify(&case, &fixture(DEMO_MINISIGN), &[]);
    assert!(
        run.stdout.contains(
            "signed for customer acme-widgets-us; this document is for customer mueller-soehne"
        ),
        "{run:#?}"
    );
    let json = verify_json(&case, &fixture(DEMO_MINISIGN), &[]);
    let tags = reason_tags(&json);
    assert!(tags.iter().any(|t| t == "sha256_file_mismatch"), "{tags:?}");
    assert!(tags.iter().any(|t| t == "sshsig_invalid"), "{tags:?}");
}

#[test]
fn an_edited_trusted_comment_is_not_valid() {
    let out = tempfile::tempdir().unwrap();
    let pdf = issue(&out.path().join("issued"), "mueller-soehne", &[]);
    let edits = [
        ("customer=mueller-soehne", "customer=acme-widgets-us"),
        ("issued=2026-06-01", "issued=2026-06-02"),
        ("annex=2026-05-26", "annex=2026-07-01"),
    ];
    for (i, (from, to)) in edits.into_iter().enumerate() {
        let case = copy_case(&pdf, out.path(), &format!("edit{i}"));
        let minisig = with_suffix(&case, ".minisig");
        let text = fs::read_to_string(&minisig).unwrap();
        assert!(text.contains(from));
        fs::write(&minisig, text.replace(from, to)).unwrap();
        assert_not_valid(&case, &fixture(DEMO_MINISIGN), "edited_comment", "edited");
        let (good, ..) = tool(
            "minisign",
            &[
                os("-Vm"),
                case.as_os_str(),
                os("-p"),
                fixture(DEMO_MINISIGN).as_os_str(),
            ],
        );
        assert!(!good, "minisign accepted an edited comment");
    }
}

#[test]
fn the_wrong_public_key_is_not_valid() {
    let out = tempfile::tempdir().unwrap();
    let pdf = issue(&out.path().join("issued"), "mueller-soehne", &[]);
    let keys = out.path().join("other-key");
    let mut cmd = dpa();
    cmd.arg("keygen")
        .arg("--out")
        .arg(&keys)
        .args(["--identity", "someone@else.example"]);
    ok(run(&mut cmd));
    for file in ["signing.pub.pem", "signing.minisign.pub"] {
        assert_not_valid(&pdf, &keys.join(file), "wrong_key", "another key");
    }
}

/// The identity point of Ed25519: small order, so every signature would verify under it.
const SMALL_ORDER: [u8; 32] = {
    let mut point = [0u8; 32];
    point[0] = 1;
    point
};

#[test]
fn a_small_order_public_key_is_not_valid() {
    let out = tempfile::tempdir().unwrap();
    let pdf = issue(&out.path().join("issued"), "mueller-soehne", &[]);

    let mut minisign = b"Ed".to_vec();
    minisign.extend_from_slice(&[0x16, 0xD8, 0xF5, 0x9C, 0x74, 0x8A, 0x98, 0x4A]);
    minisign.extend_from_slice(&SMALL_ORDER);
    let minisign_pub = out.path().join("weak.minisign.pub");
    fs::write(
        &minisign_pub,
        format!(
            "untrusted comment: weak key\n{}\n",
            STANDARD.encode(&minisign)
        ),
    )
    .unwrap();

    // SubjectPublicKeyInfo for Ed25519 (OID 1.3.101.112) around the 32 key bytes.
    let mut spki = vec![
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    spki.extend_from_slice(&SMALL_ORDER);
    let pem = out.path().join("weak.pub.pem");
    fs::write(
        &pem,
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            STANDARD.encode(&spki)
        ),
    )
    .unwrap();
    // openssl reads it as an Ed25519 key: it is well-formed, only weak.
    let (parsed, _, err) = tool(
        "openssl",
        &[
            os("pkey"),
            os("-pubin"),
            os("-in"),
            pem.as_os_str(),
            os("-noout"),
        ],
    );
    assert!(parsed, "the test's PEM is malformed: {err}");

    for key in [&minisign_pub, &pem] {
        assert_not_valid(&pdf, key, "weak_key", "weak");
    }
}

#[test]
fn broken_or_missing_signature_files_are_not_valid() {
    let out = tempfile::tempdir().unwrap();
    let pdf = issue(&out.path().join("issued"), "mueller-soehne", &[]);
    let minisig = fs::read(with_suffix(&pdf, ".minisig")).unwrap();
    let garbage: Vec<u8> = (0u32..600)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let cases: [(&str, Vec<u8>); 5] = [
        ("truncated-half", minisig[..minisig.len() / 2].to_vec()),
        ("truncated-last-line", {
            let text = String::from_utf8(minisig.clone()).unwrap();
            let lines: Vec<&str> = text.lines().take(3).collect();
            lines.join("\n").into_bytes()
        }),
        ("truncated-one-byte", minisig[..minisig.len() - 10].to_vec()),
        ("empty", Vec::new()),
        ("garbage", garbage),
    ];
    for (name, bytes) in cases {
        let case = copy_case(&pdf, out.path(), name);
        fs::write(with_suffix(&case, ".minisig"), bytes).unwrap();
        let json = verify_json(&case, &fixture(DEMO_MINISIGN), &[]);
        assert_eq!(json["valid"], false, "{name}");
        let tags = reason_tags(&json);
        assert!(
            tags.iter()
                .any(|t| t == "malformed_signature" || t == "bad_signature"),
            "{name}: {tags:?}"
        );
        let run = verify(&case, &fixture(DEMO_MINISIGN), &[]);
        assert_eq!(run.code, Some(1), "{name}: {run:#?}");
        assert!(run.stdout.contains("reason: "), "{name}: {run:#?}");
    }

    let case = copy_case(&pdf, out.path(), "missing");
    fs::remove_file(with_suffix(&case, ".minisig")).unwrap();
    assert_not_valid(
        &case,
        &fixture(DEMO_MINISIGN),
        "missing_signature",
        ".minisig",
    );
}

#[test]
fn json_output_carries_the_verdict() {
    let out = tempfile::tempdir().unwrap();
    let pdf = issue(out.path(), "mueller-soehne", &[]);
    let annex = fixture("fixtures/segmetrics/annex.toml");
    let json = verify_json(&pdf, &fixture(DEMO_PEM), &[]);
    assert_eq!(json["valid"], true);
    assert_eq!(json["reasons"], Value::Array(Vec::new()));
    assert_eq!(json["comment"]["customer"], "mueller-soehne");
    assert_eq!(json["comment"]["annex"], "2026-05-26");
    assert_eq!(json["comment"]["annex_sha256"], annex_fingerprint(&annex));
    assert_eq!(json["comment"]["issued"], "2026-06-01");
    assert_eq!(json["sha256"], sha256_of(&pdf));
    assert_eq!(json["signed_by"], json["key_id"]);
}

#[test]
fn verify_with_the_signed_annex_or_another() {
    let out = tempfile::tempdir().unwrap();
    let pdf = issue(&out.path().join("issued"), "mueller-soehne", &[]);
    let key = fixture(DEMO_MINISIGN);

    let same = fixture("fixtures/segmetrics/annex.toml");
    let run = ok(verify(&pdf, &key, &["--annex", same.to_str().unwrap()]));
    assert!(run.stdout.contains("is the signed annex"), "{run:#?}");
    let json = verify_json(&pdf, &key, &["--annex", same.to_str().unwrap()]);
    assert_eq!(json["annex"]["matches"], true);

    // One provider's location changed: same version label, different list.
    let text = fs::read_to_string(&same).unwrap();
    let edited = text.replacen(
        "location = \"United States (NYC region)\"",
        "location = \"Germany (Frankfurt region)\"",
        1,
    );
    assert_ne!(edited, text);
    let other = out.path().join("annex-edited.toml");
    fs::write(&other, edited).unwrap();
    for annex in [other.clone(), fixture("fixtures/caplena/annex.toml")] {
        let arg = annex.to_str().unwrap();
        let run = verify(&pdf, &key, &["--annex", arg]);
        assert_eq!(run.code, Some(1), "{run:#?}");
        assert!(run.stdout.starts_with("NOT VALID"), "{run:#?}");
        assert!(
            run.stdout
                .lines()
                .any(|l| l.contains("reason: ") && l.contains("annex") && l.contains(arg)),
            "{run:#?}"
        );
        let json = verify_json(&pdf, &key, &["--annex", arg]);
        assert_eq!(json["valid"], false);
        assert_eq!(json["annex"]["matches"], false);
        assert!(
            reason_tags(&json).iter().any(|t| t == "annex_mismatch"),
            "{json:#}"
        );
        assert_eq!(json["annex"]["signed_version"], "2026-05-26");
    }

    // The signed PDF embeds its annex (annex.json), so the providers that differ are named.
    let arg = other.to_str().unwrap();
    let run = verify(&pdf, &key, &["--annex", arg]);
    assert!(
        run.stdout.lines().any(|l| l.contains("changed")
            && l.contains("DigitalOcean")
            && l.contains("Germany (Frankfurt region)")),
        "{run:#?}"
    );
    let json = verify_json(&pdf, &key, &["--annex", arg]);
    let changed = &json["annex"]["differences"]["changed"];
    assert_eq!(changed.as_array().map(Vec::len), Some(1), "{json:#}");
    assert!(
        changed[0]["name"]
            .as_str()
            .unwrap()
            .contains("DigitalOcean")
    );
    assert_eq!(changed[0]["fields"][0]["new"], "Germany (Frankfurt region)");
    assert_eq!(
        json["annex"]["differences"]["added"]
            .as_array()
            .map(Vec::len),
        Some(0)
    );

    // Under the wrong key nothing is known about the signed annex: no claim either way.
    let other = dpa::sign::keys::generate(&out.path().join("other-key"), "x@y.example").unwrap();
    let arg = same.to_str().unwrap();
    let run = verify(&pdf, &other.public_pem, &["--annex", arg]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(run.stdout.contains("not compared"), "{run:#?}");
    let json = verify_json(&pdf, &other.public_pem, &["--annex", arg]);
    assert_eq!(json["annex"]["matches"], Value::Null);
    let tags = reason_tags(&json);
    assert!(tags.contains(&"wrong_key".to_string()), "{tags:?}");
    assert!(!tags.contains(&"annex_mismatch".to_string()), "{tags:?}");
}

#[test]
fn unusable_inputs_are_errors_not_verdicts() {
    let out = tempfile::tempdir().unwrap();
    let pdf = issue(out.path(), "mueller-soehne", &[]);

    let run = verify(&out.path().join("nothing.pdf"), &fixture(DEMO_PEM), &[]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(run.stderr.contains("error: ") && run.stderr.contains("nothing.pdf"));

    let run = verify(&pdf, &out.path().join("no-key.pem"), &[]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(run.stderr.contains("no-key.pem"), "{run:#?}");

    // A secret key given where the public key belongs: refused without echoing it.
    let secret = fs::read_to_string(fixture("fixtures/keys/demo-only.key")).unwrap();
    let run = verify(&pdf, &fixture("fixtures/keys/demo-only.key"), &[]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(run.stderr.contains("hint: "), "{run:#?}");
    for line in secret.lines().filter(|l| !l.starts_with("-----")) {
        assert!(!run.all().contains(line), "the secret key was echoed");
    }
}
