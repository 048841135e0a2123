//! End to end: the offline verification page in Debian's headless Chromium.
//!
//! Test material comes from the real `minisign` CLI (keys, signatures with our trusted comment)
//! and `sha256sum`, never from dpa's own signing code. The pages come from
//! `dpa::verifier::page`. `tests/browser/verify-page.mjs` (playwright-core) opens each page from
//! `file://`, gives it the files and reports the verdict a person would read; the assertions are
//! here. Needs `minisign`, `node`/`npm` and `/usr/bin/chromium`; runs `npm ci` in
//! `tests/browser` when its `node_modules` is missing. Set `DPA_VERIFIER_SCREENSHOTS=DIR` to keep
//! the screenshots of a valid and an invalid verdict.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
mod browser_common;

use browser_common::{Seen, ensure_node_modules};

const VENDOR: &str = "Example Cloud Ltd";
const HOSTILE_VENDOR: &str = "Evil</script><b id=\"pwned\">x</b> & 'quotes' {{script}}";

/// Everything the tests look at: the driver's answers and the facts needed to judge them.
struct Run {
    seen: HashMap<String, Seen>,
    pages: HashMap<String, String>,
    key_a_text: String,
    key_b_text: String,
    screenshots: Vec<PathBuf>,
    _dir: tempfile::TempDir,
}

/// A minisign key pair made by `minisign -G` for the tests only.
struct Key {
    public: PathBuf,
    secret: PathBuf,
    pk: [u8; 32],
    id: [u8; 8],
    /// The key id as minisign itself prints it in the public key's untrusted comment.
    id_text: String,
}

fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| format!("{cmd:?}: output is not UTF-8: {e}"))
}

fn keygen(dir: &Path, name: &str) -> Result<Key, String> {
    let public = dir.join(format!("{name}.pub"));
    let secret = dir.join(format!("{name}.key"));
    run(Command::new("minisign")
        .arg("-G")
        .arg("-W")
        .arg("-p")
        .arg(&public)
        .arg("-s")
        .arg(&secret))?;
    let text = fs::read_to_string(&public).map_err(|e| e.to_string())?;
    let mut lines = text.lines();
    let comment = lines.next().unwrap_or_default();
    let id_text = comment.rsplit(' ').next().unwrap_or_default().to_string();
    let raw = BASE64
        .decode(lines.next().unwrap_or_default().trim())
        .map_err(|e| e.to_string())?;
    if raw.len() != 42 || &raw[..2] != b"Ed" {
        return Err(format!(
            "unexpected minisign public key in {}",
            public.display()
        ));
    }
    let mut id = [0u8; 8];
    id.copy_from_slice(&raw[2..10]);
    let mut pk = [0u8; 32];
    pk.copy_from_slice(&raw[10..42]);
    Ok(Key {
        public,
        secret,
        pk,
        id,
        id_text,
    })
}

fn sha256sum(file: &Path) -> Result<String, String> {
    let out = run(Command::new("sha256sum").arg(file))?;
    Ok(out
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string())
}

/// Signs `pdf` with minisign, our trusted comment, into `sig`; returns the comment.
fn sign(key: &Key, pdf: &Path, sig: &Path, customer: &str) -> Result<String, String> {
    let file = pdf.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    // dpa writes the key id without leading zeros (minisign pads it to 16 digits).
    let key_id = key.id_text.trim_start_matches('0');
    let comment = format!(
        "dpa/1 file={file} sha256={} annex=2025-03 annex_sha256={ANNEX_SHA256} customer={customer} \
         issued=2025-06-01 key={}",
        sha256sum(pdf)?,
        if key_id.is_empty() { "0" } else { key_id }
    );
    run(Command::new("minisign")
        .args(["-S", "-s"])
        .arg(&key.secret)
        .arg("-m")
        .arg(pdf)
        .arg("-x")
        .arg(sig)
        .arg("-t")
        .arg(&comment))?;
    Ok(comment)
}

const ANNEX_SHA256: &str = "3f2a9c4e8b7d6a5f4e3d2c1b0a99887766554433221100ffeeddccbbaa998877";

fn fake_pdf(customer: &str) -> Vec<u8> {
    format!(
        "%PDF-1.7\n% Test document for the verification page, not a real agreement.\n\
         1 0 obj << /Title (Data Processing Agreement for {customer}) >> endobj\n\
         % Annex 2025-03: hosting, e-mail delivery, support desk.\ntrailer << /Info 1 0 R >>\n%%EOF\n"
    )
    .into_bytes()
}

fn build() -> Result<Run, String> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        return Err(format!(
            "{chromium} not found\nhint: apt-get install chromium"
        ));
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let browser_dir = manifest.join("tests/browser");
    ensure_node_modules(&browser_dir)?;

    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let d = dir.path();
    let a = keygen(d, "test-vendor-key")?;
    let b = keygen(d, "test-other-key")?;
    for sub in [
        "flipped",
        "edited",
        "forged",
        "garbage",
        "spaced",
        "renamed",
        "countersigned",
    ] {
        fs::create_dir(d.join(sub)).map_err(|e| e.to_string())?;
    }
    let write =
        |p: PathBuf, bytes: &[u8]| fs::write(&p, bytes).map(|_| p).map_err(|e| e.to_string());

    let acme = write(d.join("acme-dpa.pdf"), &fake_pdf("Acme Corp"))?;
    let acme_sig = d.join("acme-dpa.pdf.minisig");
    let acme_comment = sign(&a, &acme, &acme_sig, "acme")?;
    let globex = write(d.join("globex-dpa.pdf"), &fake_pdf("Globex Inc"))?;
    let globex_sig = d.join("globex-dpa.pdf.minisig");
    sign(&a, &globex, &globex_sig, "globex")?;

    // The material must be what minisign calls genuine, and use the prehashed "ED" algorithm.
    run(Command::new("minisign")
        .arg("-Vm")
        .arg(&acme)
        .arg("-x")
        .arg(&acme_sig)
        .arg("-p")
        .arg(&a.public))?;
    let sig_text = fs::read_to_string(&acme_sig).map_err(|e| e.to_string())?;
    let sig_line = sig_text.lines().nth(1).unwrap_or_default();
    let sig_raw = BASE64.decode(sig_line).map_err(|e| e.to_string())?;
    if !sig_raw.starts_with(b"ED") {
        return Err("minisign did not sign with the prehashed ED algorithm".into());
    }

    // One flipped byte in the middle of the PDF, same file name.
    let mut flipped_bytes = fake_pdf("Acme Corp");
    let mid = flipped_bytes.len() / 2;
    flipped_bytes[mid] ^= 0x01;
    let flipped = write(d.join("flipped/acme-dpa.pdf"), &flipped_bytes)?;

    // An older annex version claimed in the trusted comment: minisign itself must refuse it.
    let edited_comment = acme_comment.replace("annex=2025-03", "annex=2024-11");
    let edited = write(
        d.join("edited/acme-dpa.pdf.minisig"),
        sig_text.replace(&acme_comment, &edited_comment).as_bytes(),
    )?;
    if edited_comment == acme_comment
        || run(Command::new("minisign")
            .arg("-Vm")
            .arg(&acme)
            .arg("-x")
            .arg(&edited)
            .arg("-p")
            .arg(&a.public))
        .is_ok()
    {
        return Err("the edited trusted comment should fail minisign's own check".into());
    }

    // Signed with key B, then relabelled with key A's id: a key id alone must prove nothing.
    let forged = d.join("forged/acme-dpa.pdf.minisig");
    sign(&b, &acme, &forged, "acme")?;
    let forged_text = fs::read_to_string(&forged).map_err(|e| e.to_string())?;
    let mut forged_raw = BASE64
        .decode(forged_text.lines().nth(1).unwrap_or_default())
        .map_err(|e| e.to_string())?;
    forged_raw[2..10].copy_from_slice(&a.id);
    let forged_lines: Vec<String> = forged_text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 1 {
                BASE64.encode(&forged_raw)
            } else {
                l.to_string()
            }
        })
        .collect();
    write(
        forged.clone(),
        format!("{}\n", forged_lines.join("\n")).as_bytes(),
    )?;

    // A file name with spaces and brackets in the trusted comment, and a renamed download.
    let spaced = write(
        d.join("spaced/Acme DPA (final).pdf"),
        &fake_pdf("Acme Corp, final"),
    )?;
    let spaced_sig = d.join("spaced/Acme DPA (final).pdf.minisig");
    sign(&a, &spaced, &spaced_sig, "acme")?;
    let renamed = write(d.join("renamed/acme-dpa (1).pdf"), &fake_pdf("Acme Corp"))?;

    // Signed in place by the customer: the vendor's document with a revision appended.
    let trailed = write(
        d.join("countersigned/initech-dpa.pdf"),
        &browser_common::pdf_with_trailer(
            "% Test document for the verification page, not a real agreement.\n\
             1 0 obj << /Title (Data Processing Agreement for Initech) >> endobj\n",
        ),
    )?;
    let trailed_sig = d.join("countersigned/initech-dpa.pdf.minisig");
    sign(&a, &trailed, &trailed_sig, "initech")?;
    let vendor_part = fs::read(&trailed).map_err(|e| e.to_string())?;
    let countersigned = write(
        d.join("countersigned/initech-dpa-signed.pdf"),
        &browser_common::with_revision(&vendor_part, true),
    )?;

    let garbage = write(
        d.join("garbage/acme-dpa.pdf.minisig"),
        b"this is not a signature\n",
    )?;

    let page_a = write(
        d.join("verify.html"),
        dpa::verifier::page(VENDOR, &a.pk, &a.id).as_bytes(),
    )?;
    let page_b = write(
        d.join("verify-other-key.html"),
        dpa::verifier::page(VENDOR, &b.pk, &b.id).as_bytes(),
    )?;
    let page_hostile = write(
        d.join("verify-hostile-name.html"),
        dpa::verifier::page(HOSTILE_VENDOR, &a.pk, &a.id).as_bytes(),
    )?;

    let shots = match std::env::var_os("DPA_VERIFIER_SCREENSHOTS") {
        Some(p) => PathBuf::from(p),
        None => d.join("screenshots"),
    };
    fs::create_dir_all(&shots).map_err(|e| e.to_string())?;
    let valid_png = shots.join("verdict-valid.png");
    let invalid_png = shots.join("verdict-altered.png");
    let other_png = shots.join("verdict-different-key.png");
    let old_browser_png = shots.join("verdict-unsupported-browser.png");

    let case = |name: &str, page: &Path, pdf: Option<&Path>, sig: Option<&Path>| serde_json::json!({ "name": name, "page": page, "pdf": pdf, "minisig": sig, "via": "inputs" });
    let mut cases = vec![
        case("genuine", &page_a, Some(&acme), Some(&acme_sig)),
        case("flipped", &page_a, Some(&flipped), Some(&acme_sig)),
        case("other-document", &page_a, Some(&acme), Some(&globex_sig)),
        case("edited-comment", &page_a, Some(&acme), Some(&edited)),
        case("forged-key-id", &page_a, Some(&acme), Some(&forged)),
        case("other-key-page", &page_b, Some(&acme), Some(&acme_sig)),
        case("garbage-signature", &page_a, Some(&acme), Some(&garbage)),
        case("swapped", &page_a, Some(&acme_sig), Some(&acme)),
        case("hostile-name", &page_hostile, Some(&acme), Some(&acme_sig)),
        case("no-ed25519", &page_a, None, None),
        case("dropped", &page_a, Some(&globex), Some(&globex_sig)),
        case("spaced-name", &page_a, Some(&spaced), Some(&spaced_sig)),
        case("renamed", &page_a, Some(&renamed), Some(&acme_sig)),
        case(
            "countersigned",
            &page_a,
            Some(&countersigned),
            Some(&trailed_sig),
        ),
    ];
    cases[0]["screenshot"] = serde_json::json!(valid_png);
    cases[1]["screenshot"] = serde_json::json!(invalid_png);
    cases[5]["screenshot"] = serde_json::json!(other_png);
    cases[9]["noEd25519"] = serde_json::json!(true);
    cases[9]["screenshot"] = serde_json::json!(old_browser_png);
    cases[10]["via"] = serde_json::json!("drop");
    let plan = write(
        d.join("plan.json"),
        serde_json::json!({ "cases": cases }).to_string().as_bytes(),
    )?;

    let out = run(Command::new("node")
        .arg(browser_dir.join("verify-page.mjs"))
        .arg(&plan)
        .env("CHROMIUM", &chromium))?;
    let seen: Vec<Seen> =
        serde_json::from_str(&out).map_err(|e| format!("driver output: {e}\n{out}"))?;

    let url = |p: &Path| format!("file://{}", p.display());
    let mut pages = HashMap::new();
    for c in &cases {
        let name = c["name"].as_str().unwrap_or_default().to_string();
        let page = c["page"]
            .as_str()
            .map(Path::new)
            .map(url)
            .unwrap_or_default();
        pages.insert(name, page);
    }
    Ok(Run {
        seen: seen.into_iter().map(|s| (s.name.clone(), s)).collect(),
        pages,
        key_a_text: a.id_text,
        key_b_text: b.id_text,
        screenshots: vec![valid_png, invalid_png, other_png, old_browser_png],
        _dir: dir,
    })
}

fn fixture() -> &'static Run {
    static RUN: OnceLock<Result<Run, String>> = OnceLock::new();
    match RUN.get_or_init(build) {
        Ok(run) => run,
        Err(e) => panic!("could not run the browser test: {e}"),
    }
}

fn seen(name: &str) -> &'static Seen {
    match fixture().seen.get(name) {
        Some(s) => s,
        None => panic!("the driver reported no case {name:?}"),
    }
}

fn assert_verdict(name: &str, valid: &str, reason: &str, words: &[&str]) {
    let s = seen(name);
    assert_eq!(s.valid.as_deref(), Some(valid), "{name}: {s:#?}");
    assert_eq!(s.reason.as_deref(), Some(reason), "{name}: {s:#?}");
    for w in words {
        assert!(
            s.text.contains(w),
            "{name}: verdict lacks {w:?}: {}",
            s.text
        );
    }
}

#[test]
fn genuine_agreement_is_valid_and_shows_what_was_signed() {
    let run = fixture();
    assert_verdict(
        "genuine",
        "true",
        "valid",
        &[
            "Valid",
            "acme",
            "2025-03",
            "2025-06-01",
            "3f2a 9c4e 8b7d 6a5f",
            &run.key_a_text,
            VENDOR,
        ],
    );
}

#[test]
fn dropped_files_are_checked_like_chosen_ones() {
    assert_verdict("dropped", "true", "valid", &["Valid", "globex", "2025-03"]);
}

#[test]
fn spaced_file_name_in_the_comment_is_refused_and_renamed_copies_still_verify() {
    // `dpa verify` refuses a comment whose file= holds a space (dpa never signs one), so the
    // page does too: one verdict.
    assert_verdict(
        "spaced-name",
        "false",
        "not-dpa",
        &["not one that identifies an agreement"],
    );
    assert_verdict(
        "renamed",
        "true",
        "valid",
        &["acme-dpa (1).pdf (signed as acme-dpa.pdf)"],
    );
}

#[test]
fn a_file_signed_in_place_shows_the_vendors_part_but_is_not_called_valid() {
    // The page finds the revision the vendor signed and shows what it says, but it cannot
    // see what the addition changes, so it sends the reader to dpa verify or a PDF reader.
    assert_verdict(
        "countersigned",
        "false",
        dpa::verifier::APPENDED,
        &[
            "then added to",
            "bytes of \u{201c}initech-dpa-signed.pdf\u{201d} are exactly the agreement",
            "signs the agreement in place",
            "dpa verify",
        ],
    );
    let seen = seen("countersigned");
    assert!(seen.text.contains("initech"), "{}", seen.text);
}

#[test]
fn one_flipped_byte_is_an_altered_document() {
    assert_verdict("flipped", "false", "altered", &["altered"]);
}

#[test]
fn signature_of_another_document_is_named_as_such() {
    assert_verdict(
        "other-document",
        "false",
        "other-document",
        &["another document", "globex-dpa.pdf"],
    );
}

#[test]
fn edited_trusted_comment_is_refused() {
    assert_verdict(
        "edited-comment",
        "false",
        "edited-comment",
        &["was changed after"],
    );
    assert!(!seen("edited-comment").text.contains("2024-11"));
}

#[test]
fn pinned_key_id_on_a_foreign_signature_is_refused() {
    assert_verdict(
        "forged-key-id",
        "false",
        "bad-signature",
        &["does not match"],
    );
}

#[test]
fn page_for_another_key_says_different_key() {
    let run = fixture();
    assert_verdict(
        "other-key-page",
        "false",
        "different-key",
        &["different key", &run.key_a_text, &run.key_b_text],
    );
}

#[test]
fn unreadable_or_swapped_files_are_explained() {
    assert_verdict(
        "garbage-signature",
        "false",
        "damaged-signature",
        &["not a usable minisign signature"],
    );
    assert_verdict(
        "swapped",
        "false",
        "damaged-signature",
        &["is a PDF, not a signature"],
    );
}

#[test]
fn browser_without_ed25519_gets_a_clear_message() {
    assert_verdict(
        "no-ed25519",
        "false",
        "unsupported",
        &["cannot check Ed25519", "Firefox"],
    );
}

#[test]
fn hostile_vendor_name_is_shown_as_text() {
    let s = seen("hostile-name");
    assert_eq!(s.valid.as_deref(), Some("true"), "{s:#?}");
    assert_eq!(s.vendor, HOSTILE_VENDOR);
    assert!(s.doc_title.contains(HOSTILE_VENDOR), "{}", s.doc_title);
    assert_eq!(s.scripts, 2, "the name must not add or end a script");
}

#[test]
fn page_requests_nothing_but_itself() {
    let run = fixture();
    for (name, s) in &run.seen {
        assert_eq!(
            s.requests,
            vec![run.pages[name].clone()],
            "{name}: requests"
        );
        assert!(s.errors.is_empty(), "{name}: page errors {:?}", s.errors);
        // A Content-Security-Policy violation (say, a blocked script) would show up here.
        let bad: Vec<_> = s
            .console
            .iter()
            .filter(|l| l.starts_with("error") || l.contains("Content Security"))
            .collect();
        assert!(bad.is_empty(), "{name}: console {bad:?}");
    }
}

#[test]
fn screenshots_were_taken() {
    for png in &fixture().screenshots {
        let bytes = fs::read(png).unwrap_or_default();
        assert!(
            bytes.len() > 10_000 && bytes.starts_with(b"\x89PNG"),
            "{}",
            png.display()
        );
    }
}
