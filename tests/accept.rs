//! `dpa accept`, `dpa object` and `dpa status` with real tools playing the customer:
//! pyHanko countersigns with RSA 2048 and ECDSA P-256 certificates made by openssl.
//!
//! Until issuance embeds the vendor's certification and the empty customer field (the
//! embedded-signature work), the certified DPA is made here the way tests/sign_pdf.rs
//! does (pyHanko adds the fields to a DPA from `dpa generate` and certifies it as the
//! vendor) and recorded in the register as an issued document, which is what issuance
//! will record. The refusals, the manual path, objections and status use the register
//! rows `dpa generate` and `dpa batch` write themselves.
#![cfg(unix)]

mod common;
mod pades_common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::*;
use dpa::output::{OutDir, Wait};
use dpa::register::{Event, FileHash, Register};
use serde_json::Value;

struct Material {
    dir: PathBuf,
    /// An output folder with DPAs for acme-widgets-us and mueller-soehne and the
    /// certified DPA of acme-widgets-us in its register; each test copies it.
    base: PathBuf,
    /// The certified DPA (vendor signature in "Vendor", "Customer" empty).
    certified: PathBuf,
    /// The DPA `dpa generate` wrote for acme-widgets-us.
    generated: PathBuf,
}

const ACME: &str = "acme-widgets-us";

fn material() -> &'static Material {
    static M: OnceLock<Material> = OnceLock::new();
    M.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("accept");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let base = dir.join("base");
        // Without dpa's own PDF signature, so that pyHanko can certify the DPA as the
        // vendor; `a_dpa_certified_by_dpa_and_countersigned_is_accepted` takes dpa's own.
        let config = unsigned_config(&dir.join("unsigned-dpa.toml"));
        let issue = |customer: &str| {
            let mut cmd = dpa();
            cmd.arg("generate")
                .arg("--config")
                .arg(&config)
                .arg("--customer")
                .arg(fixture(&format!("fixtures/customers/{customer}.toml")))
                .arg("--out")
                .arg(&base)
                .arg("--issue-date")
                .arg("2026-06-01");
            printed_pdf(&ok(run(&mut cmd)))
        };
        let generated = issue(ACME);
        issue("mueller-soehne");
        pades_common::vendor_chain(&dir, "accept");
        std::fs::copy(&generated, dir.join("dpa.pdf")).unwrap();
        pades_common::add_fields(&dir, "dpa.pdf", "fields.pdf");
        pades_common::certify(&dir, "fields.pdf", "certified.pdf");
        let certified = dir.join("certified.pdf");
        record_as_issued(&base, &certified);
        Material {
            base,
            certified,
            generated,
            dir,
        }
    })
}

/// Records `pdf` as a DPA issued to acme-widgets-us, as issuance with an embedded
/// certification will.
fn record_as_issued(out: &Path, pdf: &Path) {
    let bytes = std::fs::read(pdf).unwrap();
    let sha = dpa::sign::sha256_hex(&bytes);
    let lock = OutDir::lock(out, Wait::No, || {}).unwrap();
    let mut register = Register::open(&lock).unwrap();
    let mut record = register.list(Some(ACME), None).unwrap()[0].record.clone();
    let name = "segmetrics-inc-dpa-certified.pdf".to_string();
    record.inputs_sha256 = format!("certified-{sha}");
    record.pdf_sha256 = sha.clone();
    record.path = format!("{ACME}/{name}");
    record.files = vec![FileHash {
        name,
        sha256: sha,
        size: Some(bytes.len() as u64),
    }];
    register.commit(&[record], &[]).unwrap();
}

/// A fresh copy of the base output folder for one test.
fn out_for(test: &str) -> PathBuf {
    let m = material();
    let out = m.dir.join(format!("out-{test}"));
    let _ = std::fs::remove_dir_all(&out);
    pades_common::sh(
        &m.dir,
        "cp",
        &["-a", m.base.to_str().unwrap(), out.to_str().unwrap()],
    );
    out
}

fn countersigned(output: &str, kind: &str, tamper: Option<&str>) -> PathBuf {
    let m = material();
    pades_common::countersign(
        &m.dir,
        &fixture("tests/pades/countersign.py"),
        &m.certified,
        output,
        "Customer",
        kind,
        tamper,
    )
}

fn accept(out: &Path, file: &Path, extra: &[&str]) -> Run {
    let mut cmd = dpa();
    cmd.arg("accept")
        .arg(file)
        .arg("--out")
        .arg(out)
        .args(extra);
    run(&mut cmd)
}

fn json_of(run: &Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {run:#?}"))
}

fn status(out: &Path, extra: &[&str]) -> Value {
    let mut cmd = dpa();
    cmd.args(["status", "--json", "--out"]).arg(out).args(extra);
    json_of(&ok(run(&mut cmd)))
}

/// The acceptances and objections in the register, read by the library.
fn events(out: &Path) -> Vec<Event> {
    Register::open_read(out)
        .unwrap()
        .events(None)
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect()
}

/// Evidence files in a customer's folder.
fn evidence(out: &Path, customer: &str) -> Vec<String> {
    std::fs::read_dir(out.join(customer))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".accepted-") || n.contains(".manual-"))
        .collect()
}

fn cert_sha256(kind: &str) -> String {
    let m = material();
    let (_, cert) = pades_common::customer_cert(&m.dir, kind);
    let der = std::process::Command::new("openssl")
        .args(["x509", "-outform", "DER", "-in", &cert])
        .current_dir(&m.dir)
        .output()
        .unwrap()
        .stdout;
    dpa::sign::sha256_hex(&der)
}

#[test]
fn a_countersigned_dpa_is_accepted_once_and_status_shows_it() {
    let out = out_for("rsa");
    let file = countersigned("signed-rsa2048.pdf", "rsa2048", None);
    let first = json_of(&ok(accept(&out, &file, &["--json"])));
    assert_eq!(first["accepted"], true, "{first:#}");
    assert_eq!(first["already_recorded"], false);
    let a = &first["acceptance"];
    assert_eq!(a["customer_id"], ACME);
    assert_eq!(a["annex_version"], "2026-05-26");
    assert_eq!(a["method"], "countersigned");
    assert_eq!(a["linked"], true);
    let signer = &a["signers"][0];
    assert_eq!(signer["field"], "Customer");
    assert!(
        signer["subject"]
            .as_str()
            .unwrap()
            .contains("CN=Customer rsa2048"),
        "{signer:#}"
    );
    assert_eq!(signer["cert_sha256"], cert_sha256("rsa2048"));
    let time = signer["signing_time"].as_str().unwrap();
    assert_eq!(&time[..10], a["accepted_on"].as_str().unwrap());
    assert_eq!(signer["trusted_root"], Value::Null);
    assert_eq!(first["certificate_checked"], false);
    // The evidence is the returned file, kept in the customer's folder.
    let kept = out.join(a["evidence"].as_str().unwrap());
    assert_eq!(std::fs::read(&kept).unwrap(), std::fs::read(&file).unwrap());
    assert_eq!(
        a["evidence_sha256"],
        dpa::sign::sha256_hex(&std::fs::read(&file).unwrap())
    );

    // The same file again: one record.
    let again = json_of(&ok(accept(&out, &file, &["--json"])));
    assert_eq!(again["already_recorded"], true);
    assert_eq!(again["id"], first["id"]);
    assert_eq!(events(&out).len(), 1);
    assert_eq!(evidence(&out, ACME).len(), 1);

    // The human form says the certificate was not checked.
    let text = ok(accept(&out, &file, &[]));
    assert!(text.stdout.contains("ALREADY RECORDED"), "{text:#?}");
    assert!(
        text.stdout.contains("not checked against a trusted root"),
        "{text:#?}"
    );

    let s = status(&out, &["--customer", ACME, "--as-of", "2030-01-01"]);
    let c = &s["customers"][0];
    assert_eq!(c["latest_accepted"]["annex_version"], "2026-05-26");
    let how = &c["latest_accepted"]["acceptance"];
    assert_eq!(how["method"], "countersigned");
    assert_eq!(how["signers"][0]["cert_sha256"], cert_sha256("rsa2048"));
    assert_eq!(s["without_acceptance"], serde_json::json!([]));
    let table = ok(dpa_run([
        "status",
        "--out",
        out.to_str().unwrap(),
        "--as-of",
        "2030-01-01",
    ]));
    assert!(
        table.stdout.contains("countersigned") && table.stdout.contains("CN=Customer rsa2048"),
        "{table:#?}"
    );
    // mueller-soehne has not accepted anything.
    assert!(
        table.stdout.contains("No accepted version: mueller-soehne"),
        "{table:#?}"
    );
    // The chain covers the acceptance.
    ok(dpa_run([
        "register",
        "verify",
        "--out",
        out.to_str().unwrap(),
    ]));
}

#[test]
fn a_dpa_certified_by_dpa_and_countersigned_is_accepted() {
    // What `dpa generate` issues with the repository's dpa.toml: certified with the demo
    // PDF key, an empty field for the customer; pyHanko signs that field as the customer.
    let m = material();
    let dir = m.dir.join("own");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("out");
    let mut cmd = dpa();
    cmd.arg("generate")
        .arg("--customer")
        .arg(fixture("fixtures/customers/mueller-soehne.toml"))
        .arg("--out")
        .arg(&out)
        .arg("--issue-date")
        .arg("2026-06-01");
    let issued = printed_pdf(&ok(run(&mut cmd)));
    let file = pades_common::countersign(
        &dir,
        &fixture("tests/pades/countersign.py"),
        &issued,
        "returned.pdf",
        "Controller signature (mueller-soehne)",
        "rsa2048",
        None,
    );
    let first = json_of(&ok(accept(&out, &file, &["--json"])));
    let a = &first["acceptance"];
    assert_eq!(a["customer_id"], "mueller-soehne", "{first:#}");
    assert_eq!(a["method"], "countersigned");
    assert_eq!(a["linked"], true);
    assert_eq!(
        a["signers"][0]["field"],
        "Controller signature (mueller-soehne)"
    );
    let s = status(
        &out,
        &["--customer", "mueller-soehne", "--as-of", "2030-01-01"],
    );
    assert_eq!(
        s["customers"][0]["latest_accepted"]["acceptance"]["method"], "countersigned",
        "{s:#}"
    );
    // A page changed in the customer's revision is still refused.
    let tampered = pades_common::countersign(
        &dir,
        &fixture("tests/pades/countersign.py"),
        &issued,
        "tampered.pdf",
        "Controller signature (mueller-soehne)",
        "rsa2048",
        Some("content"),
    );
    let refused = accept(&out, &tampered, &[]);
    assert_eq!(refused.code, Some(1), "{refused:#?}");
}

#[test]
fn an_ecdsa_countersignature_is_checked_against_a_root_when_one_is_given() {
    let m = material();
    let out = out_for("ecdsa");
    let file = countersigned("signed-p256.pdf", "p256", None);
    let (_, cert) = pades_common::customer_cert(&m.dir, "p256");
    let root = m.dir.join(&cert);
    // The vendor's root is not the customer's: refused, nothing recorded.
    let wrong = accept(
        &out,
        &file,
        &[
            "--trust",
            m.dir.join("root-test-only.pem").to_str().unwrap(),
        ],
    );
    assert_eq!(wrong.code, Some(1), "{wrong:#?}");
    assert!(
        wrong.stdout.contains("does not lead to the root"),
        "{wrong:#?}"
    );
    assert!(events(&out).is_empty());
    let good = json_of(&ok(accept(
        &out,
        &file,
        &[
            "--trust",
            root.to_str().unwrap(),
            "--customer",
            ACME,
            "--json",
        ],
    )));
    let signer = &good["acceptance"]["signers"][0];
    assert!(
        signer["subject"]
            .as_str()
            .unwrap()
            .contains("CN=Customer p256")
    );
    assert_eq!(signer["cert_sha256"], cert_sha256("p256"));
    assert!(signer["trusted_root"].as_str().unwrap().ends_with(&cert));
    assert!(
        signer["algorithm"].as_str().unwrap().contains("ecdsa"),
        "{signer:#}"
    );
}

/// Flips one byte of `from` at `at` (the middle of a content stream) into `to`.
fn flipped(from: &Path, to: &str, at: usize) -> PathBuf {
    let mut bytes = std::fs::read(from).unwrap();
    bytes[at] ^= 0x01;
    let path = material().dir.join(to);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Offset of a byte inside the first stream of `bytes` after `from`.
fn inside_a_stream(bytes: &[u8], from: usize) -> usize {
    let at = bytes[from..]
        .windows(7)
        .position(|w| w == b"stream\n")
        .unwrap();
    from + at + 20
}

#[test]
fn each_refusal_has_its_own_reason_and_records_nothing() {
    let m = material();
    let out = out_for("refusals");
    let good = countersigned("signed-for-refusals.pdf", "rsa2048", None);
    let good_bytes = std::fs::read(&good).unwrap();
    let issued_len = std::fs::read(&m.certified).unwrap().len();

    let changed_issued = flipped(
        &good,
        "flipped-issued.pdf",
        inside_a_stream(&good_bytes, 1000),
    );
    let tampered = countersigned("signed-tampered.pdf", "rsa2048", Some("content"));
    let rewritten = m.dir.join("rewritten.pdf");
    pades_common::sh(
        &m.dir,
        "qpdf",
        &[good.to_str().unwrap(), rewritten.to_str().unwrap()],
    );
    let garbage = m.dir.join("garbage.pdf");
    std::fs::write(&garbage, b"this is not a PDF at all").unwrap();
    let truncated = m.dir.join("truncated.pdf");
    std::fs::write(&truncated, &good_bytes[..good_bytes.len() - 200]).unwrap();
    // The customer's /ByteRange shortened by one byte (same width): it no longer covers
    // the revision it claims.
    let short_range = m.dir.join("short-range.pdf");
    {
        let mut bytes = good_bytes.clone();
        let at = bytes
            .windows(11)
            .rposition(|w| w == b"/ByteRange ")
            .unwrap();
        assert!(at > issued_len);
        let end = at + bytes[at..].iter().position(|&b| b == b']').unwrap();
        let text = String::from_utf8_lossy(&bytes[at..end]).into_owned();
        let last: &str = text.split_whitespace().last().unwrap();
        let n: u64 = last.parse().unwrap();
        let replaced = format!("{:<width$}", n - 1, width = last.len());
        let pos = end - last.len() - (text.len() - text.trim_end().len());
        bytes[pos..pos + last.len()].copy_from_slice(replaced.as_bytes());
        std::fs::write(&short_range, bytes).unwrap();
    }

    let cases: Vec<(&str, PathBuf, Vec<&str>, &str)> = vec![
        (
            "one byte changed in the issued part",
            changed_issued,
            vec![],
            "the issued part was changed",
        ),
        (
            "page text changed in the customer's revision",
            tampered,
            vec![],
            "the content of page 1 was changed",
        ),
        (
            "rewritten whole by qpdf",
            rewritten,
            vec![],
            "does not continue any document in the register",
        ),
        (
            "another customer's DPA",
            good.clone(),
            vec!["--customer", "mueller-soehne"],
            "not a document of mueller-soehne",
        ),
        (
            "the issued DPA itself",
            m.certified.clone(),
            vec![],
            "without a countersignature",
        ),
        (
            "a DPA issued without signature fields, unsigned",
            m.generated.clone(),
            vec![],
            "without a countersignature",
        ),
        ("garbage", garbage, vec![], "not a readable PDF"),
        ("truncated", truncated, vec![], "not a readable PDF"),
        (
            "a byte range short of its revision",
            short_range,
            vec![],
            "the signature in field Customer does not hold",
        ),
    ];
    let mut reasons = Vec::new();
    for (what, file, extra, expected) in &cases {
        let mut args = extra.clone();
        args.push("--json");
        let r = accept(&out, file, &args);
        assert_eq!(r.code, Some(1), "{what}: {r:#?}");
        let v = json_of(&r);
        assert_eq!(v["accepted"], false, "{what}");
        let reason = v["reason"].as_str().unwrap().to_string();
        assert!(reason.contains(expected), "{what}: {reason}");
        reasons.push(reason);
        // The text form says so too, and that nothing was recorded.
        let text = accept(&out, file, extra);
        assert_eq!(text.code, Some(1), "{what}: {text:#?}");
        assert!(text.stdout.contains("NOT ACCEPTED"), "{what}: {text:#?}");
    }
    assert!(events(&out).is_empty(), "a refusal recorded something");
    assert!(evidence(&out, ACME).is_empty());
    assert!(evidence(&out, "mueller-soehne").is_empty());
    // Without --customer the register's customer is used (and said).
    let r = json_of(&ok(accept(&out, &good, &["--json"])));
    assert_eq!(r["acceptance"]["customer_id"], ACME);
}

#[test]
fn a_scan_is_recorded_only_as_a_manual_acceptance() {
    let m = material();
    let out = out_for("manual");
    let prefix = m.dir.join("scan");
    pades_common::sh(
        &m.dir,
        "pdftoppm",
        &[
            "-png",
            "-r",
            "30",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            m.generated.to_str().unwrap(),
            prefix.to_str().unwrap(),
        ],
    );
    let scan = m.dir.join("scan.png");
    let refused = accept(&out, &scan, &[]);
    assert_eq!(refused.code, Some(1), "{refused:#?}");
    assert!(refused.stdout.contains("--manual"), "{refused:#?}");

    let manual = [
        "--manual",
        "--customer",
        ACME,
        "--annex",
        "2026-05-26",
        "--accepted-on",
        "2026-06-12",
        "--by",
        "Jane Roe, General Counsel",
        "--note",
        "wet ink, by post",
    ];
    let mut args = manual.to_vec();
    args.push("--json");
    let v = json_of(&ok(accept(&out, &scan, &args)));
    let a = &v["acceptance"];
    assert_eq!(a["method"], "manual");
    assert_eq!(a["linked"], false);
    assert_eq!(a["by"], "Jane Roe, General Counsel");
    assert_eq!(a["accepted_on"], "2026-06-12");
    assert!(a["evidence"].as_str().unwrap().ends_with(".png"));
    assert_eq!(
        a["evidence_sha256"],
        dpa::sign::sha256_hex(&std::fs::read(&scan).unwrap())
    );
    let text = ok(accept(&out, &scan, &manual));
    assert!(text.stdout.contains("ALREADY RECORDED"), "{text:#?}");
    assert_eq!(events(&out).len(), 1);

    let s = status(&out, &["--customer", ACME, "--as-of", "2026-06-12"]);
    let how = &s["customers"][0]["latest_accepted"]["acceptance"];
    assert_eq!(how["method"], "manual");
    assert_eq!(how["linked"], false);
    // The day before it was signed, it was not accepted yet.
    let s = status(&out, &["--customer", ACME, "--as-of", "2026-06-11"]);
    assert_eq!(s["customers"][0]["latest_accepted"], Value::Null);

    // A later list issued to the customer supersedes the accepted one: an acceptance of
    // the earlier list is still recorded, and both commands say what superseded it.
    let mut cmd = dpa();
    cmd.args(["generate", "--customer"])
        .arg(fixture("fixtures/customers/acme-widgets-us.toml"))
        .arg("--annex")
        .arg(fixture("fixtures/segmetrics/annex-next.toml"))
        .args(["--issue-date", "2026-07-20", "--out"])
        .arg(&out);
    ok(run(&mut cmd));
    let s = status(&out, &["--customer", ACME, "--as-of", "2026-08-01"]);
    let c = &s["customers"][0];
    assert_eq!(c["latest_issued"]["annex_version"], "2026-07-15");
    assert_eq!(c["latest_issued"]["state"], "awaiting_signature");
    assert_eq!(c["latest_accepted"]["annex_version"], "2026-05-26");
    assert_eq!(c["latest_accepted"]["superseded_by"], "2026-07-15");
    let second_scan = m.dir.join("scan-again.png");
    let mut png = std::fs::read(&scan).unwrap();
    png.extend_from_slice(b"another copy");
    std::fs::write(&second_scan, png).unwrap();
    let mut args = manual.to_vec();
    args.push("--json");
    let v = json_of(&ok(accept(&out, &second_scan, &args)));
    assert_eq!(v["already_recorded"], false);
    assert_eq!(v["superseded_by"]["annex_version"], "2026-07-15");
    assert_eq!(events(&out).len(), 2);

    // A version never issued to the customer is an error that lists the issued ones.
    let mut bad = manual.to_vec();
    bad[4] = "1999-01-01";
    let r = accept(&out, &scan, &bad);
    assert_eq!(r.code, Some(2), "{r:#?}");
    assert!(r.stderr.contains("2026-05-26"), "{r:#?}");
    // A file that is linked is not recorded by a person's word.
    let signed = countersigned("signed-for-manual.pdf", "rsa2048", None);
    let r = accept(&out, &signed, &manual);
    assert_eq!(r.code, Some(2), "{r:#?}");
    assert!(r.stderr.contains("without --manual"), "{r:#?}");
    assert_eq!(events(&out).len(), 2);
}

#[test]
fn a_change_notice_is_deemed_approved_the_day_after_its_deadline_unless_objected() {
    let m = material();
    let out = m.dir.join("out-notice");
    let _ = std::fs::remove_dir_all(&out);
    let csv = m.dir.join("one-customer.csv");
    let full = std::fs::read_to_string(fixture("fixtures/batch/customers.csv")).unwrap();
    std::fs::write(&csv, full.lines().take(2).collect::<Vec<_>>().join("\n")).unwrap();
    let mut cmd = dpa();
    cmd.args(["batch", "--customers"])
        .arg(&csv)
        .arg("--annex")
        .arg(fixture("fixtures/segmetrics/annex-next.toml"))
        .arg("--previous")
        .arg(fixture("fixtures/segmetrics/annex.toml"))
        .args(["--notice-date", "2026-06-10", "--issue-date", "2026-06-10"])
        .arg("--out")
        .arg(&out);
    ok(run(&mut cmd));
    let version = |s: &Value| s["customers"][0]["latest_issued"].clone();
    let first = status(&out, &["--as-of", "2026-06-10"]);
    assert_eq!(first["as_of"], "2026-06-10");
    assert_eq!(first["as_of_from"], "--as-of");
    let deadline = version(&first)["deadline"].as_str().unwrap().to_string();
    let d: chrono::NaiveDate = deadline.parse().unwrap();
    let day_after = d.succ_opt().unwrap().to_string();

    let on_deadline = status(&out, &["--as-of", &deadline]);
    assert_eq!(version(&on_deadline)["state"], "notice_running");
    assert_eq!(
        on_deadline["customers"][0]["notice_running_until"],
        deadline
    );
    assert_eq!(on_deadline["without_acceptance"][0], "mueller-soehne");
    let after = status(&out, &["--as-of", &day_after]);
    assert_eq!(version(&after)["state"], "deemed_approved");
    let how = &after["customers"][0]["latest_accepted"]["acceptance"];
    assert_eq!(how["method"], "deemed");
    assert_eq!(how["on"], day_after);

    // Objections: unknown customer or version are errors; a real one is recorded once.
    let object = |customer: &str, annex: &str| {
        let mut cmd = dpa();
        cmd.args([
            "object",
            "--customer",
            customer,
            "--annex",
            annex,
            "--received",
            "2026-06-20",
            "--note",
            "by e-mail",
            "--out",
        ])
        .arg(&out);
        run(&mut cmd)
    };
    let next = version(&first)["annex_version"]
        .as_str()
        .unwrap()
        .to_string();
    let r = object("nobody", &next);
    assert_eq!(r.code, Some(2), "{r:#?}");
    assert!(r.stderr.contains("register list"), "{r:#?}");
    let r = object("mueller-soehne", "no-such-version");
    assert_eq!(r.code, Some(2), "{r:#?}");
    ok(object("mueller-soehne", &next));
    let again = ok(object("mueller-soehne", &next));
    assert!(again.stdout.contains("ALREADY RECORDED"), "{again:#?}");
    assert_eq!(events(&out).len(), 1);
    let objected = status(&out, &["--as-of", &day_after]);
    assert_eq!(version(&objected)["state"], "objected");
    assert_eq!(
        objected["customers"][0]["open_objection"]["received"],
        "2026-06-20"
    );
    ok(dpa_run([
        "register",
        "verify",
        "--out",
        out.to_str().unwrap(),
    ]));
}

/// Every key `dpa status --json` prints, at any depth.
fn keys(v: &Value, into: &mut std::collections::BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                into.insert(k.clone());
                keys(v, into);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| keys(v, into)),
        _ => {}
    }
}

#[test]
fn status_json_is_stable_and_every_field_is_in_the_readme() {
    let out = out_for("status-json");
    let file = countersigned("signed-for-status.pdf", "rsa2048", None);
    ok(accept(&out, &file, &[]));
    let one = status(&out, &["--as-of", "2030-01-01"]);
    let two = status(&out, &["--as-of", "2030-01-01"]);
    assert_eq!(one, two, "same register and day, same answer");
    let mut found = std::collections::BTreeSet::new();
    keys(&one, &mut found);
    let readme = std::fs::read_to_string(fixture("README.md")).unwrap();
    let section = readme
        .split("### `dpa status --json`")
        .nth(1)
        .expect("README has a `dpa status --json` section");
    for key in &found {
        assert!(
            section.contains(&format!("`{key}`")),
            "README does not document the status field `{key}`"
        );
    }
}
