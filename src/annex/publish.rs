//! The vendor's public subprocessor page: static files anyone can check the annex
//! fingerprint with.
//!
//! In: the current annex, any previous versions, and what the page links to
//! ([`PublishOptions`]). Out: the files of the site ([`SiteFile`]), in memory, for the
//! command to write: `index.html` (the current list), `annex-VERSION.html` and
//! `annex-VERSION.json` for every version (the JSON is the canonical form, so its SHA-256
//! *is* the fingerprint and `sha256sum` alone recomputes it), `SHA256SUMS` (for
//! `sha256sum -c`) and `feed.xml`, an Atom feed with one entry per version and its changes.
//!
//! Same inputs, same bytes: every date comes from the annexes (and the optional notice
//! date), nothing from the clock. The HTML pages load nothing (their Content-Security-Policy
//! allows only their own inline style), have landmarks, headings and table headers with
//! scopes, and read back: [`publish`] imports every page it renders and refuses an annex
//! whose page would not give back the same fingerprint, naming the field.

use std::fmt::Write as _;

use chrono::NaiveDate;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::diff::{self, AnnexDiff, DiffError};
use super::fingerprint::{canonical_json, fingerprint};
use super::import::{self, ImportOptions, PageFormat};
use crate::model::{Activation, Annex, Entry, Section, Vendor};

/// What the pages say beyond the annexes.
#[derive(Debug, Clone, Default)]
pub struct PublishOptions {
    /// The vendor (contact, notice period, where the list is published), if known.
    pub vendor: Option<Vendor>,
    /// When customers were notified of the current version (as given to `dpa batch`).
    pub notice_date: Option<NaiveDate>,
    /// The offline verification page made with `dpa verifier` (default `verify.html`).
    pub verifier_url: Option<String>,
    /// Where the public key files are, as a folder URL (default: beside the page).
    pub keys_url: Option<String>,
}

/// One file of the site: a plain file name and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Why a site could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("version {version} is given twice (effective {first} and {second})")]
    DuplicateVersion {
        version: String,
        first: NaiveDate,
        second: NaiveDate,
    },
    #[error(
        "version {current} (effective {current_date}) is older than the previous version {newer} (effective {newer_date})"
    )]
    NotNewest {
        current: String,
        current_date: NaiveDate,
        newer: String,
        newer_date: NaiveDate,
    },
    #[error(transparent)]
    Diff(#[from] DiffError),
    #[error(
        "version {version}: {path} would not read back from the published page: `{published}` reads as `{read_back}`"
    )]
    NoRoundTrip {
        version: String,
        path: String,
        published: String,
        read_back: String,
    },
    #[error("version {version}: the published page does not read back: {reason}")]
    Unreadable { version: String, reason: String },
}

impl PublishError {
    /// How to fix the error, for the `hint:` line of the command.
    pub fn hint(&self) -> Option<String> {
        match self {
            PublishError::DuplicateVersion { .. } => {
                Some("give each annex file its own version, or pass each file once".into())
            }
            PublishError::NotNewest { .. } => Some(
                "pass the newest annex first and the older ones with --previous".into(),
            ),
            PublishError::Diff(e) => e.hint(),
            PublishError::NoRoundTrip { .. } | PublishError::Unreadable { .. } => Some(
                "write the value as a reader would see it: no double or leading spaces, remarks such as \
                 \"GDPR-compliant DPA\" under remarks rather than certifications, no \"n/a\" for a field that \
                 can be left out; then publish again"
                    .into(),
            ),
        }
    }
}

/// The canonical JSON file name of a version.
pub fn json_name(version: &str) -> String {
    format!("annex-{version}.json")
}

/// The HTML page name of a version.
pub fn html_name(version: &str) -> String {
    format!("annex-{version}.html")
}

/// Makes the site: the current annex first, then any previous versions in any order.
pub fn publish(
    current: &Annex,
    previous: &[Annex],
    opts: &PublishOptions,
) -> Result<Vec<SiteFile>, PublishError> {
    let mut all: Vec<&Annex> = previous.iter().collect();
    all.push(current);
    for (i, a) in all.iter().enumerate() {
        if let Some(b) = all[..i].iter().find(|b| b.version == a.version) {
            return Err(PublishError::DuplicateVersion {
                version: a.version.clone(),
                first: b.effective,
                second: a.effective,
            });
        }
    }
    if let Some(newer) = previous.iter().find(|p| p.effective > current.effective) {
        return Err(PublishError::NotNewest {
            current: current.version.clone(),
            current_date: current.effective,
            newer: newer.version.clone(),
            newer_date: newer.effective,
        });
    }
    // Oldest first; the current annex last even if a previous one has the same date.
    all.sort_by_key(|a| (a.effective, std::ptr::eq(*a, current)));
    let mut versions: Vec<Version> = Vec::new();
    for (i, a) in all.iter().enumerate() {
        let diff = match i {
            0 => None,
            _ => Some(diff::diff(all[i - 1], a)?),
        };
        versions.push(Version {
            annex: a,
            fingerprint: fingerprint(a).hex(),
            diff,
        });
    }

    let mut files = Vec::new();
    let mut sums = String::new();
    for v in &versions {
        let json = canonical_json(v.annex);
        let _ = writeln!(sums, "{}  {}", v.fingerprint, json_name(&v.annex.version));
        files.push(SiteFile {
            name: json_name(&v.annex.version),
            bytes: json.into_bytes(),
        });
    }
    for v in &versions {
        let html = page(v, &versions, opts);
        check_round_trip(v.annex, &html)?;
        files.push(SiteFile {
            name: html_name(&v.annex.version),
            bytes: html.into_bytes(),
        });
    }
    files.push(SiteFile {
        name: "SHA256SUMS".into(),
        bytes: sums.into_bytes(),
    });
    files.push(SiteFile {
        name: "feed.xml".into(),
        bytes: feed(&versions, opts).into_bytes(),
    });
    let newest = versions.last().map(|v| page(v, &versions, opts));
    files.push(SiteFile {
        name: "index.html".into(),
        bytes: newest.unwrap_or_default().into_bytes(),
    });
    Ok(files)
}

struct Version<'a> {
    annex: &'a Annex,
    fingerprint: String,
    /// The changes from the version before it.
    diff: Option<AnnexDiff>,
}

/// Imports the rendered page and compares it with the annex it was made from.
fn check_round_trip(annex: &Annex, html: &str) -> Result<(), PublishError> {
    let opts = ImportOptions {
        source: html_name(&annex.version),
        format: PageFormat::Html,
        ..ImportOptions::default()
    };
    let back = import::import(html, &opts).map_err(|e| PublishError::Unreadable {
        version: annex.version.clone(),
        reason: e.to_string(),
    })?;
    if back.annex == *annex {
        return Ok(());
    }
    let published = serde_json::to_value(annex).unwrap_or(Value::Null);
    let read = serde_json::to_value(&back.annex).unwrap_or(Value::Null);
    let (path, a, b) = first_difference(&published, &read, String::new())
        .unwrap_or_else(|| (String::new(), String::new(), String::new()));
    Err(PublishError::NoRoundTrip {
        version: annex.version.clone(),
        path,
        published: a,
        read_back: b,
    })
}

/// The path (`section[1].entry[2].name`, counting from 1) of the first value that differs.
fn first_difference(a: &Value, b: &Value, path: String) -> Option<(String, String, String)> {
    let show = |v: Option<&Value>| match v {
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => "(absent)".into(),
    };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match (x.get(k), y.get(k)) {
                    (Some(v), Some(w)) => {
                        if let Some(d) = first_difference(v, w, p) {
                            return Some(d);
                        }
                    }
                    (v, w) => return Some((p, show(v), show(w))),
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (v, w))| first_difference(v, w, format!("{path}[{}]", i + 1))),
        _ if a == b => None,
        _ => Some((path, show(Some(a)), show(Some(b)))),
    }
}

// ---------------------------------------------------------------------------------------
// HTML.

/// Text for HTML element content and attribute values.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Text with its line breaks as `<br>`.
fn esc_lines(text: &str) -> String {
    text.split('\n').map(esc).collect::<Vec<_>>().join("<br>\n")
}

fn long_date(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

const STYLE: &str = "
:root { color-scheme: light dark; --line: #8886; --muted: #666; }
@media (prefers-color-scheme: dark) { :root { --muted: #aaa; } }
body { font: 16px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 72rem; padding: 1rem 1.25rem 3rem; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: 1rem; background: Canvas; padding: .5rem; }
h1 { font-size: 1.75rem; margin-bottom: .25rem; }
h2 { font-size: 1.3rem; margin-top: 2.25rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; }
code { font: .9em ui-monospace, monospace; overflow-wrap: anywhere; }
.scroll { overflow-x: auto; }
.scroll:focus { outline: 2px solid Highlight; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
caption { text-align: left; font-style: italic; padding: .25rem 0 .5rem; color: var(--muted); }
th, td { border-top: 1px solid var(--line); padding: .45rem .6rem .45rem 0; text-align: left; vertical-align: top; }
thead th { border-top: 0; border-bottom: 2px solid var(--line); }
td ul { margin: 0; padding-left: 1.1rem; }
aside { border-top: 2px solid var(--line); margin-top: 2.5rem; }
pre { overflow-x: auto; background: #8881; padding: .75rem; }
footer { margin-top: 3rem; color: var(--muted); font-size: .9rem; }
";

fn page(v: &Version<'_>, versions: &[Version<'_>], opts: &PublishOptions) -> String {
    let a = v.annex;
    let newest = versions.last().is_some_and(|n| std::ptr::eq(n.annex, a));
    let mut h = String::new();
    let vendor = esc(&a.vendor);
    let version = esc(&a.version);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <title>Subprocessors of {vendor}, version {version}</title>\n\
         <link rel=\"alternate\" type=\"application/atom+xml\" title=\"Changes to the subprocessors of {vendor}\" href=\"feed.xml\">\n\
         <style>{STYLE}</style>\n</head>\n<body>\n<a class=\"skip\" href=\"#list\">Skip to the list</a>\n<main id=\"main\">\n\
         <h1>Subprocessors of {vendor}</h1>\n"
    );
    let status = if newest {
        "This is the current version of the list.".to_string()
    } else {
        let current = versions
            .last()
            .map(|n| n.annex.version.as_str())
            .unwrap_or("");
        format!(
            "This is an earlier version of the list; the current one is version {} (<a href=\"index.html\">index.html</a>).",
            esc(current)
        )
    };
    let _ = write!(
        h,
        "<p>The providers below are the ones {vendor} engages to provide its services, as agreed in its Data \
         Processing Agreement (DPA). {status}</p>\n<dl class=\"facts\">\n\
         <dt>Vendor</dt><dd>{vendor}</dd>\n<dt>Version</dt><dd>{version}</dd>\n\
         <dt>Effective date</dt><dd>{}</dd>\n\
         <dt>Fingerprint (SHA-256)</dt><dd><code>{}</code></dd>\n</dl>\n<div id=\"list\">\n",
        a.effective.format("%Y-%m-%d"),
        v.fingerprint
    );
    for (i, s) in a.sections.iter().enumerate() {
        section(&mut h, i + 1, s);
    }
    h.push_str("</div>\n</main>\n");
    verify_aside(&mut h, v, opts);
    history_aside(&mut h, v, versions);
    let _ = write!(
        h,
        "<footer>\n<p>Published by {vendor}{}. Subscribe to changes: <a href=\"feed.xml\">feed.xml</a> (Atom). \
         All versions with their fingerprints: <a href=\"SHA256SUMS\">SHA256SUMS</a>.</p>\n</footer>\n</body>\n</html>\n",
        opts.vendor
            .as_ref()
            .map(|ven| format!(
                " (contact: <a href=\"mailto:{0}\">{0}</a>)",
                esc(&ven.email)
            ))
            .unwrap_or_default()
    );
    h
}

/// The optional columns a section's table needs, in order.
fn columns(s: &Section) -> Vec<&'static str> {
    let any = |f: &dyn Fn(&Entry) -> bool| s.entries.iter().any(f);
    let mut cols = vec!["Provider", "Function", "Location"];
    type Has<'f> = &'f dyn Fn(&Entry) -> bool;
    let optional: [(&str, Has); 9] = [
        ("Certifications", &|e| !e.certifications.is_empty()),
        ("Transfer safeguards", &|e| !e.transfer_mechanism.is_empty()),
        ("Remarks", &|e| !e.remarks.is_empty()),
        ("Website", &|e| e.website.is_some()),
        ("Legal address", &|e| e.legal_address.is_some()),
        ("Has access to", &|e| e.has_access.is_some()),
        ("No access to", &|e| e.no_access.is_some()),
        // Always shown, so that a function that mentions "opt-in" is not read as one.
        ("Activation", &|_| true),
        ("Feature", &|e| e.feature.is_some()),
    ];
    for (name, has) in optional {
        if any(has) {
            cols.push(name);
        }
    }
    cols
}

fn cell(e: &Entry, col: &str) -> String {
    let list = |items: &[String]| {
        if items.is_empty() {
            "\u{2014}".to_string()
        } else {
            let li: Vec<String> = items
                .iter()
                .map(|i| format!("<li>{}</li>", esc(i)))
                .collect();
            format!("<ul>{}</ul>", li.concat())
        }
    };
    let opt = |v: &Option<String>| v.as_deref().map_or("\u{2014}".to_string(), esc_lines);
    match col {
        "Function" => esc(&e.function),
        "Location" => esc(&e.location),
        "Certifications" => list(&e.certifications),
        "Transfer safeguards" => list(&e.transfer_mechanism),
        "Remarks" => list(&e.remarks),
        "Website" => e.website.as_deref().map_or("\u{2014}".into(), |w| {
            format!("<a href=\"{0}\">{0}</a>", esc(w))
        }),
        "Legal address" => opt(&e.legal_address),
        "Has access to" => opt(&e.has_access),
        "No access to" => opt(&e.no_access),
        "Activation" => e.activation.as_str().to_string(),
        "Feature" => opt(&e.feature),
        _ => String::new(),
    }
}

fn section(h: &mut String, n: usize, s: &Section) {
    let id = format!("s{n}");
    let _ = writeln!(
        h,
        "<section aria-labelledby=\"{id}\">\n<h2 id=\"{id}\">{}</h2>",
        esc(&s.title)
    );
    if let Some(d) = &s.description {
        for para in d.split("\n\n") {
            let _ = writeln!(h, "<p>{}</p>", esc_lines(para.trim_matches('\n')));
        }
    }
    let caption = if s.subprocessors {
        "Subprocessors: these providers may process customer personal data."
    } else {
        "Not subprocessors: these providers see account data only, never customer personal data."
    };
    let _ = write!(
        h,
        "<div class=\"scroll\" role=\"region\" aria-labelledby=\"{id}\" tabindex=\"0\">\n<table>\n<caption>{caption}</caption>\n<thead><tr>"
    );
    let cols = columns(s);
    for c in &cols {
        let _ = write!(h, "<th scope=\"col\">{c}</th>");
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for e in &s.entries {
        let _ = write!(h, "<tr><th scope=\"row\">{}</th>", esc(&e.name));
        for c in &cols[1..] {
            let _ = write!(h, "<td>{}</td>", cell(e, c));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table>\n</div>\n</section>\n");
}

fn verify_aside(h: &mut String, v: &Version<'_>, opts: &PublishOptions) {
    let json = json_name(&v.annex.version);
    let verifier = opts.verifier_url.as_deref().unwrap_or("verify.html");
    let keys = |file: &str| match opts.keys_url.as_deref() {
        Some(base) => format!("{}/{file}", base.trim_end_matches('/')),
        None => file.to_string(),
    };
    let _ = write!(
        h,
        "<aside aria-labelledby=\"check\">\n<h2 id=\"check\">Check this list against your DPA</h2>\n\
         <p>Every DPA prints the fingerprint of the subprocessor list it was made with, in full in its \
         subprocessor annex and in short in every page footer. The fingerprint is the SHA-256 of the list in a \
         fixed form, published here as <a href=\"{j}\">{j}</a>. To recompute it you need nothing but \
         <code>sha256sum</code> (or <code>shasum -a 256</code> on macOS):</p>\n\
         <pre><code>sha256sum {j}\n{fp}  {j}</code></pre>\n\
         <p>If the value printed matches the one in your DPA, the list you hold is the one the DPA refers to. \
         <a href=\"SHA256SUMS\">SHA256SUMS</a> lists every version: <code>sha256sum -c SHA256SUMS</code> checks \
         all the files you downloaded. With <code>dpa</code>, <code>dpa annex fingerprint</code> computes the \
         same value from an annex file.</p>\n\
         <p>To check the signature of a DPA you received, open the <a href=\"{verifier}\">verification page</a> \
         (it works offline) or use the public keys: <a href=\"{k1}\">signing.minisign.pub</a> (minisign, \
         <code>dpa verify</code>), <a href=\"{k2}\">signing.pub.pem</a> (OpenSSL) and \
         <a href=\"{k3}\">allowed_signers</a> (ssh-keygen).</p>\n</aside>\n",
        j = esc(&json),
        fp = v.fingerprint,
        verifier = esc(verifier),
        k1 = esc(&keys("signing.minisign.pub")),
        k2 = esc(&keys("signing.pub.pem")),
        k3 = esc(&keys("allowed_signers")),
    );
}

fn history_aside(h: &mut String, v: &Version<'_>, versions: &[Version<'_>]) {
    let _ = write!(
        h,
        "<aside aria-labelledby=\"versions\">\n<h2 id=\"versions\">All versions</h2>\n\
         <div class=\"scroll\" role=\"region\" aria-labelledby=\"versions\" tabindex=\"0\">\n<table>\n\
         <thead><tr><th scope=\"col\">Version</th><th scope=\"col\">Effective</th><th scope=\"col\">Fingerprint (SHA-256)</th>\
         <th scope=\"col\">Files</th><th scope=\"col\">Changes from the version before</th></tr></thead>\n<tbody>\n"
    );
    for other in versions.iter().rev() {
        let a = other.annex;
        let this = std::ptr::eq(a, v.annex);
        let _ = writeln!(
            h,
            "<tr{}><th scope=\"row\">{}</th><td>{}</td><td><code>{}</code></td>\
             <td><a href=\"{}\">page</a>, <a href=\"{}\">JSON</a></td><td>{}</td></tr>",
            if this { " aria-current=\"page\"" } else { "" },
            esc(&a.version),
            long_date(a.effective),
            other.fingerprint,
            esc(&html_name(&a.version)),
            esc(&json_name(&a.version)),
            changes_html(other.diff.as_ref()),
        );
    }
    h.push_str("</tbody>\n</table>\n</div>\n</aside>\n");
}

/// The changes of a version, one line each, as HTML.
fn changes_html(diff: Option<&AnnexDiff>) -> String {
    let lines = change_lines(diff);
    if lines.len() == 1 {
        return esc(&lines[0]);
    }
    let items: Vec<String> = lines
        .iter()
        .map(|l| format!("<li>{}</li>", esc(l)))
        .collect();
    format!("<ul>{}</ul>", items.concat())
}

/// The changes of a version in words, one per provider or section.
fn change_lines(diff: Option<&AnnexDiff>) -> Vec<String> {
    let Some(d) = diff else {
        return vec!["First published version.".into()];
    };
    let mut out = Vec::new();
    for p in &d.added {
        out.push(format!(
            "Added: {} ({}; {}), in \u{201c}{}\u{201d}{}.",
            p.entry.name,
            p.entry.function,
            p.entry.location,
            p.section,
            match p.entry.activation {
                Activation::OptIn => ", opt-in",
                Activation::OptOut => ", opt-out",
                Activation::Always => "",
            }
        ));
    }
    for r in &d.replaced {
        out.push(format!(
            "Replaced: {} by {} ({}), in \u{201c}{}\u{201d}.",
            r.old.name, r.new.name, r.new.location, r.section
        ));
    }
    for p in &d.removed {
        out.push(format!(
            "Removed: {}, from \u{201c}{}\u{201d}.",
            p.entry.name, p.section
        ));
    }
    for c in &d.changed {
        let fields: Vec<String> = c
            .fields
            .iter()
            .map(|f| {
                format!(
                    "{} from {} to {}",
                    diff::field_label(f.field),
                    f.old
                        .as_deref()
                        .map_or("(none)".into(), |o| format!("\u{201c}{o}\u{201d}")),
                    f.new
                        .as_deref()
                        .map_or("(none)".into(), |n| format!("\u{201c}{n}\u{201d}"))
                )
            })
            .collect();
        out.push(format!("Changed: {}: {}.", c.name, fields.join("; ")));
    }
    for m in &d.moved {
        out.push(format!(
            "Moved: {} from \u{201c}{}\u{201d} to \u{201c}{}\u{201d}.",
            m.name, m.from, m.to
        ));
    }
    for s in &d.sections {
        let what = match s.kind {
            diff::SectionChangeKind::Added => "section added",
            diff::SectionChangeKind::Removed => "section removed",
            diff::SectionChangeKind::Changed => "section changed",
        };
        out.push(format!("\u{201c}{}\u{201d}: {what}.", s.title));
    }
    if out.is_empty() {
        out.push(if d.order_changed {
            "Only the order of the providers changed.".into()
        } else {
            "No change to the providers.".into()
        });
    }
    out
}

// ---------------------------------------------------------------------------------------
// Atom.

/// A `urn:uuid:` from a SHA-256, shaped as a name-based UUID (RFC 9562 version 8), so the
/// same input always gives the same feed and entry ids.
fn urn_uuid(seed: &str) -> String {
    let h = Sha256::digest(seed.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(b);
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &x[0..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )
}

fn stamp(d: NaiveDate) -> String {
    format!("{}T00:00:00Z", d.format("%Y-%m-%d"))
}

/// The date customers were told of a version: the given notice date for the current one,
/// else its effective date less the vendor's notice period, else its effective date.
fn notice_date(v: &Version<'_>, newest: bool, opts: &PublishOptions) -> (NaiveDate, &'static str) {
    if newest && let Some(d) = opts.notice_date {
        return (d, "given");
    }
    match &opts.vendor {
        Some(ven) => (
            v.annex.effective - chrono::Days::new(u64::from(ven.notice_days)),
            "notice period",
        ),
        None => (v.annex.effective, "effective"),
    }
}

fn feed(versions: &[Version<'_>], opts: &PublishOptions) -> String {
    let Some(newest) = versions.last() else {
        return String::new();
    };
    let vendor = &newest.annex.vendor;
    let mut x = String::new();
    let updated = versions
        .iter()
        .enumerate()
        .map(|(i, v)| notice_date(v, i + 1 == versions.len(), opts).0)
        .max()
        .unwrap_or(newest.annex.effective);
    let _ = write!(
        x,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"en\">\n\
         <title>Subprocessors of {v}</title>\n<subtitle>Each entry is a version of the list, with its changes and fingerprint.</subtitle>\n\
         <id>{id}</id>\n<updated>{u}</updated>\n<author><name>{v}</name>{email}</author>\n\
         <link rel=\"self\" type=\"application/atom+xml\" href=\"feed.xml\"/>\n\
         <link rel=\"alternate\" type=\"text/html\" href=\"{home}\"/>\n",
        v = esc(vendor),
        id = urn_uuid(&format!("dpa subprocessor list of {vendor}")),
        u = stamp(updated),
        email = opts
            .vendor
            .as_ref()
            .map(|ven| format!("<email>{}</email>", esc(&ven.email)))
            .unwrap_or_default(),
        home = esc(opts
            .vendor
            .as_ref()
            .and_then(|ven| ven.subprocessors_url.as_deref())
            .unwrap_or("index.html")),
    );
    for (i, v) in versions.iter().enumerate().rev() {
        let a = v.annex;
        let newest = i + 1 == versions.len();
        let (notice, how) = notice_date(v, newest, opts);
        let notice_text = match how {
            "given" => format!("Customers were notified on {}.", long_date(notice)),
            "notice period" => format!(
                "Notice date: {} at the latest ({} days' notice before the effective date).",
                long_date(notice),
                opts.vendor.as_ref().map_or(0, |ven| ven.notice_days)
            ),
            _ => String::new(),
        };
        let mut content = format!(
            "<p>Version {} takes effect on {}. {}</p><p>Fingerprint (SHA-256): <code>{}</code>; recompute it with <code>sha256sum {}</code>.</p>",
            esc(&a.version),
            long_date(a.effective),
            esc(&notice_text),
            v.fingerprint,
            esc(&json_name(&a.version))
        );
        content.push_str(&changes_html(v.diff.as_ref()));
        let _ = write!(
            x,
            "<entry>\n<title>Version {ver}, effective {eff}</title>\n<id>{id}</id>\n\
             <published>{p}</published>\n<updated>{p}</updated>\n\
             <link rel=\"alternate\" type=\"text/html\" href=\"{page}\"/>\n\
             <link rel=\"related\" type=\"application/json\" href=\"{json}\"/>\n\
             <summary>{summary}</summary>\n<content type=\"html\">{content}</content>\n</entry>\n",
            ver = esc(&a.version),
            eff = long_date(a.effective),
            id = urn_uuid(&format!("dpa annex {}", v.fingerprint)),
            p = stamp(notice),
            page = esc(&html_name(&a.version)),
            json = esc(&json_name(&a.version)),
            summary = esc(&change_lines(v.diff.as_ref()).join(" ")),
            content = esc(&content),
        );
    }
    x.push_str("</feed>\n");
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    fn annex(text: &str) -> Annex {
        toml::from_str(text).unwrap()
    }

    const ONE: &str = r#"
vendor = "Acme & Söhne <GmbH>"
version = "1"
effective = 2026-01-01
[[section]]
title = "Hosting"
description = "Line one\nline two.\n\nSecond paragraph."
[[section.entry]]
name = "Host \"A\""
function = "Servers *and* storage"
location = "Germany"
certifications = ["ISO 27001, 27017", "SOC 2"]
transfer_mechanism = ["SCCs", "Own words"]
legal_address = "1 Road\nBerlin"
[[section.entry]]
name = "Helper"
function = "Opt-in summaries"
location = "US"
activation = "always"
[[section]]
title = "Billing"
subprocessors = false
[[section.entry]]
name = "Payco"
function = "Payments"
location = "US"
website = "https://pay.example/x?a=1&b=2"
activation = "opt-out"
feature = "billing"
"#;

    #[test]
    fn pages_read_back_to_the_same_annex() {
        let a = annex(ONE);
        let files = publish(&a, &[], &PublishOptions::default()).unwrap();
        let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "annex-1.json",
                "annex-1.html",
                "SHA256SUMS",
                "feed.xml",
                "index.html"
            ]
        );
        let json = &files[0].bytes;
        assert_eq!(hex::encode(Sha256::digest(json)), fingerprint(&a).hex());
        let sums = String::from_utf8(files[2].bytes.clone()).unwrap();
        assert_eq!(sums, format!("{}  annex-1.json\n", fingerprint(&a).hex()));
    }

    #[test]
    fn a_value_that_would_not_read_back_is_named() {
        let a = annex(&ONE.replace("\"Payments\"", "\"Pay  ments\""));
        let err = publish(&a, &[], &PublishOptions::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "version 1: section[2].entry[1].function would not read back from the published page: `Pay  ments` reads as `Pay ments`"
        );
    }

    #[test]
    fn versions_are_unique_and_the_current_one_newest() {
        let a = annex(ONE);
        let err = publish(&a, std::slice::from_ref(&a), &PublishOptions::default()).unwrap_err();
        assert!(matches!(err, PublishError::DuplicateVersion { .. }));
        let newer = annex(
            &ONE.replace("version = \"1\"", "version = \"2\"")
                .replace("2026-01-01", "2026-03-01"),
        );
        let err = publish(&a, &[newer], &PublishOptions::default()).unwrap_err();
        assert!(matches!(err, PublishError::NotNewest { .. }), "{err}");
    }

    #[test]
    fn ids_are_stable_uuids() {
        let id = urn_uuid("x");
        assert_eq!(id, urn_uuid("x"));
        assert_eq!(id.len(), "urn:uuid:".len() + 36);
        assert_eq!(&id[9 + 14..9 + 15], "8");
    }
}
