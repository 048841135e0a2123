//! The offline verification page: one self-contained HTML file with the vendor's key pinned.
//!
//! In: the vendor's display name, its Ed25519 public key and its 8-byte minisign key id.
//! Out: the text of `verify.html`, which checks a DPA PDF against its `.minisig` in the
//! browser (WebCrypto Ed25519 and SHA-256, BLAKE2b-512 in the script), makes no network
//! request and trusts only the pinned key. The page's readable sources are `verify.html`
//! and `verify.js` beside this file; they are inlined here at build time.
//!
//! One verdict: the page answers exactly what `dpa verify` answers for a PDF and its
//! `.minisig` alone. The format constants come from `sign` (written into the page as
//! `rules`), the script follows `sign::verify::check_minisig` step by step, and its
//! `data-reason` is [`page_reason`] of the first reason `dpa verify` gives; the test
//! `tests/verdict_parity.rs` runs one corpus of signatures through both.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha2::{Digest, Sha256};

use crate::sign::verify::Reason;
use crate::sign::{comment, minisign};

/// The page skeleton, with `{{name}}` markers filled in by [`page`].
const TEMPLATE: &str = include_str!("verify.html");
/// The checker itself, inlined into the page's only executable `<script>`.
const SCRIPT: &str = include_str!("verify.js");

/// Builds the verification page for `vendor_name` with `public_key` and `key_id` pinned in it.
///
/// `key_id` is in file order, as it appears in the minisign public key and signature lines.
pub fn page(vendor_name: &str, public_key: &[u8; 32], key_id: &[u8; 8]) -> String {
    // The browser hashes the script text after turning CRLF into LF, so the hash in the
    // Content-Security-Policy must be over LF-only text or the script would be blocked.
    let script = SCRIPT.replace("\r\n", "\n").replace('\r', "\n");
    let script_hash = BASE64.encode(Sha256::digest(script.as_bytes()));
    let csp = format!(
        "default-src 'none'; script-src 'sha256-{script_hash}'; style-src 'unsafe-inline'; \
         base-uri 'none'; form-action 'none'"
    );

    let key_id_text = key_id_text(key_id);
    let mut minisign_key = Vec::with_capacity(42);
    minisign_key.extend_from_slice(b"Ed");
    minisign_key.extend_from_slice(key_id);
    minisign_key.extend_from_slice(public_key);
    let minisign_key = BASE64.encode(minisign_key);

    let pinned = serde_json::json!({
        "vendor": vendor_name,
        "publicKey": hex::encode(public_key),
        "keyId": hex::encode(key_id),
        "keyIdText": key_id_text,
        "rules": rules(),
    });

    fill(TEMPLATE, |name| match name {
        // Built from constants and base64 only: no character in it needs escaping.
        "csp" => Some(csp.clone()),
        "vendor" => Some(escape_html(vendor_name)),
        "key_id" => Some(escape_html(&key_id_text)),
        "minisign_key" => Some(escape_html(&minisign_key)),
        "pinned_json" => Some(json_for_script(&pinned.to_string())),
        "script" => Some(script.clone()),
        _ => None,
    })
}

/// The page's code for a file whose earlier revision is the document the vendor signed (the
/// customer signed it in place, which appends a revision). The page finds that revision as
/// `dpa verify` does (`sign::verify::verify_vendor_revision`) and shows what was signed, but
/// it does not read the PDF to see what the addition changes, as `dpa verify` goes on to do,
/// so it never calls such a file valid.
pub const APPENDED: &str = "appended";

/// The `data-reason` the page shows for the first reason `dpa verify` gives, or `None` for
/// reasons the page cannot meet (it reads only the PDF and its `.minisig`, and its key was
/// checked when the page was made).
pub fn page_reason(reason: &Reason) -> Option<&'static str> {
    Some(match reason {
        Reason::MalformedSignature { .. } => "damaged-signature",
        Reason::WrongKey { .. } => "different-key",
        Reason::BadSignature => "bad-signature",
        Reason::EditedComment => "edited-comment",
        Reason::AlteredDocument { .. } => "altered",
        Reason::OtherDocument { .. } => "other-document",
        Reason::ForeignComment { .. } => "not-dpa",
        Reason::CommentMismatch { .. } => "comment-mismatch",
        Reason::MissingSignature
        | Reason::Sha256FileMismatch { .. }
        | Reason::MalformedSha256File
        | Reason::SshsigInvalid { .. }
        | Reason::WeakKey
        | Reason::EmbeddedSignature { .. }
        | Reason::AnnexMismatch { .. } => return None,
    })
}

/// Encodings (sign bit cleared) of the eight points of small order on Ed25519, with the two
/// non-canonical ones: `verify_strict` refuses a signature whose R is one of them, which
/// WebCrypto accepts when the signer made it so; the page refuses it too.
const SMALL_ORDER_POINTS: [&str; 7] = [
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
];

/// The format rules the page's script needs, taken from the code `dpa verify` runs.
fn rules() -> serde_json::Value {
    serde_json::json!({
        "untrustedPrefix": minisign::UNTRUSTED_PREFIX,
        "trustedPrefix": minisign::TRUSTED_PREFIX,
        "algorithm": String::from_utf8_lossy(minisign::ALG_HASHED),
        "legacyAlgorithm": String::from_utf8_lossy(minisign::ALG_LEGACY),
        "maxSignatureFile": minisign::MAX_SIGNATURE_FILE,
        "commentPrefix": comment::PREFIX,
        "commentFields": comment::FIELDS,
        "maxComment": comment::MAX_LEN,
        "smallOrderPoints": SMALL_ORDER_POINTS,
    })
}

/// Formats a key id the way `minisign` prints it: the 8 bytes read as a little-endian
/// number, in upper-case hex.
pub fn key_id_text(key_id: &[u8; 8]) -> String {
    key_id.iter().rev().map(|b| format!("{b:02X}")).collect()
}

/// Replaces each `{{name}}` marker in `template` in a single pass, so that inserted text is
/// never scanned for markers again (a vendor name may contain `{{script}}`).
fn fill(template: &str, value: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len() + SCRIPT.len() + 1024);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after
            .find("}}")
            .and_then(|end| Some((end, value(&after[..end])?)))
        {
            Some((end, text)) => {
                out.push_str(&text);
                rest = &after[end + 2..];
            }
            None => {
                out.push_str("{{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Escapes text for an HTML text node or a quoted attribute value.
fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Makes JSON safe inside a `<script>` element: no `</script>`, `<!--` or `]]>` can appear,
/// and the line separators that old JavaScript parsers reject are escaped.
fn json_for_script(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PK: [u8; 32] = [7; 32];
    const ID: [u8; 8] = [0xf0, 0x59, 0xbd, 0x52, 0x2d, 0x56, 0x52, 0x73];

    #[test]
    fn key_id_is_printed_like_minisign() {
        // minisign printed "7352562D52BD59F0" for a key whose file bytes are ID.
        assert_eq!(key_id_text(&ID), "7352562D52BD59F0");
    }

    #[test]
    fn every_marker_is_filled() {
        let html = page("Example Cloud Ltd", &PK, &ID);
        assert!(!html.contains("{{"), "unfilled marker left in the page");
        assert!(html.contains(&hex::encode(PK)));
        assert!(html.contains("7352562D52BD59F0"));
        assert!(html.contains("Example Cloud Ltd"));
    }

    #[test]
    fn page_loads_nothing_from_outside() {
        let html = page("Example Cloud Ltd", &PK, &ID).to_ascii_lowercase();
        for needle in [
            "http:", "https:", "//cdn", " src=", "@import", "url(", "fetch(",
        ] {
            assert!(!html.contains(needle), "page contains {needle:?}");
        }
        assert!(html.contains("default-src 'none'"));
        // The policy goes into a double-quoted attribute unescaped.
        let csp_start = html.find("content=\"default-src").unwrap_or(0) + 9;
        let csp = &html[csp_start..csp_start + html[csp_start..].find('"').unwrap_or(0)];
        assert!(csp.contains("script-src 'sha256-") && !csp.contains(['<', '>', '&']));
    }

    #[test]
    fn script_hash_in_policy_matches_inlined_script() {
        let html = page("V", &PK, &ID);
        let open = "<script>";
        let start = html.find(open).map(|i| i + open.len()).unwrap_or(0);
        let end = html[start..]
            .find("</script>")
            .map(|i| start + i)
            .unwrap_or(start);
        let hash = BASE64.encode(Sha256::digest(&html.as_bytes()[start..end]));
        assert!(html.contains(&format!("'sha256-{hash}'")));
        assert!(end > start + 1000, "the checker script was not inlined");
    }

    #[test]
    fn script_cannot_end_its_element_early() {
        let lower = SCRIPT.to_ascii_lowercase();
        assert!(!lower.contains("</script") && !lower.contains("<!--"));
    }

    #[test]
    fn hostile_vendor_name_stays_text() {
        let name = "</script><script>alert(1)</script>\"' & {{script}} \u{2028}<!--";
        let html = page(name, &PK, &ID);
        // One executable script and one JSON block, whatever the name says.
        assert_eq!(html.matches("<script").count(), 2);
        assert_eq!(html.matches("</script>").count(), 2);
        assert!(!html.contains("<!--"));
        assert!(html.contains(
            "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39; &amp; {{script}}"
        ));
        assert!(html.contains("\\u003c/script\\u003e"));
        assert!(html.contains("\\u2028"));
    }

    #[test]
    fn small_order_list_is_the_eight_torsion_points() {
        use curve25519_dalek::constants::EIGHT_TORSION;
        let listed: Vec<[u8; 32]> = SMALL_ORDER_POINTS
            .iter()
            .map(|h| hex::decode(h).unwrap().try_into().unwrap())
            .collect();
        for point in EIGHT_TORSION {
            let mut bytes = point.compress().to_bytes();
            bytes[31] &= 0x7f;
            assert!(listed.contains(&bytes), "missing {}", hex::encode(bytes));
        }
        // The two extra entries are y = p and y = p + 1, non-canonical spellings of 0 and 1.
        assert_eq!(listed.len(), 7);
    }

    #[test]
    fn rules_come_from_the_signature_code() {
        let rules = rules();
        assert_eq!(rules["commentPrefix"], "dpa/1");
        assert_eq!(rules["commentFields"][0], "file");
        assert_eq!(rules["algorithm"], "ED");
        assert_eq!(rules["legacyAlgorithm"], "Ed");
        assert_eq!(rules["maxSignatureFile"], 16 * 1024);
    }

    #[test]
    fn fill_leaves_unknown_markers_alone() {
        let out = fill("a {{x}} b {{y}} c {{", |n| {
            (n == "x").then(|| "{{y}}".to_string())
        });
        assert_eq!(out, "a {{y}} b {{y}} c {{");
    }
}
