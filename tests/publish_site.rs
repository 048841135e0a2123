//! `dpa annex publish` as a customer and a vendor meet it: the site of each fixture vendor is
//! written by the binary, opened in headless Chromium (tests/browser/publish-page.mjs), its
//! fingerprint checked with `sha256sum`, its Atom feed parsed with a real Atom parser, and
//! its page imported back with `dpa annex import` to the same fingerprint. Also: only the
//! command's own files are written, and a different file of the same name stops it.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde::Deserialize;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Seen {
    name: String,
    lang: String,
    title: String,
    text: String,
    fingerprint: Option<String>,
    h1: usize,
    main: usize,
    asides: usize,
    captions: Vec<String>,
    col_headers: usize,
    row_headers: Vec<String>,
    unscoped_headers: usize,
    requests: Vec<String>,
    errors: Vec<String>,
}

/// One vendor's site: its folder, the annexes it was made from, what the browser saw.
struct Site {
    dir: PathBuf,
    current: String,
    previous: Vec<String>,
}

struct Run {
    sites: HashMap<&'static str, Site>,
    seen: HashMap<String, Seen>,
    _tmp: tempfile::TempDir,
}

fn dpa(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dpa"))
        .current_dir(ROOT)
        .args(args)
        .env_remove("DPA_SIGNING_KEY")
        .output()
        .expect("run dpa")
}

fn ok(out: Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// (vendor folder, current annex, previous annexes).
const VENDORS: [(&str, &str, &[&str]); 3] = [
    (
        "segmetrics",
        "fixtures/segmetrics/annex-next.toml",
        &["fixtures/segmetrics/annex.toml"],
    ),
    ("postgres-ai", "fixtures/postgres-ai/annex.toml", &[]),
    ("caplena", "fixtures/caplena/annex.toml", &[]),
];

fn build() -> Result<Run, String> {
    let browser_dir = Path::new(ROOT).join("tests/browser");
    if !browser_dir
        .join("node_modules/playwright-core/package.json")
        .exists()
    {
        let ok = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--prefix"])
            .arg(&browser_dir)
            .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
            .status()
            .map_err(|e| format!("npm: {e}; hint: apt-get install nodejs npm"))?;
        if !ok.success() {
            return Err("npm ci failed".into());
        }
    }
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut sites = HashMap::new();
    let mut cases = Vec::new();
    let pngs = std::env::var_os("DPA_TEST_PNGS").map(PathBuf::from);
    for (vendor, current, previous) in VENDORS {
        let dir = tmp.path().join(vendor);
        let mut args = vec!["annex", "publish", current, "--out", dir.to_str().unwrap()];
        for p in previous {
            args.extend(["--previous", p]);
        }
        let vendor_toml = format!("fixtures/{vendor}/vendor.toml");
        args.extend(["--vendor", &vendor_toml]);
        ok(dpa(&args), "publish");
        let mut case = serde_json::json!({
            "name": vendor,
            "page": dir.join("index.html"),
        });
        if let Some(p) = &pngs {
            case["screenshot"] = serde_json::json!(p.join(format!("{vendor}-index.png")));
        }
        cases.push(case);
        sites.insert(
            vendor,
            Site {
                dir,
                current: current.into(),
                previous: previous.iter().map(|p| p.to_string()).collect(),
            },
        );
    }
    let plan = tmp.path().join("plan.json");
    fs::write(&plan, serde_json::json!({ "cases": cases }).to_string())
        .map_err(|e| e.to_string())?;
    let out = Command::new("node")
        .arg(browser_dir.join("publish-page.mjs"))
        .arg(&plan)
        .env(
            "CHROMIUM",
            std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
        )
        .output()
        .map_err(|e| format!("node: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "driver failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let seen: Vec<Seen> = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    Ok(Run {
        sites,
        seen: seen.into_iter().map(|s| (s.name.clone(), s)).collect(),
        _tmp: tmp,
    })
}

fn run() -> &'static Run {
    static RUN: OnceLock<Result<Run, String>> = OnceLock::new();
    match RUN.get_or_init(build) {
        Ok(run) => run,
        Err(e) => panic!("could not run the browser test: {e}"),
    }
}

fn annex(path: &str) -> dpa::model::Annex {
    dpa::load::annex(Path::new(ROOT).join(path)).expect("fixture annex")
}

/// The fingerprint `sha256sum` prints for a file.
fn sha256sum(path: &Path) -> String {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn every_provider_appears_in_the_browser() {
    for (vendor, site) in &run().sites {
        let seen = &run().seen[*vendor];
        let annex = annex(&site.current);
        let names: Vec<String> = annex
            .sections
            .iter()
            .flat_map(|s| s.entries.iter().map(|e| e.name.clone()))
            .collect();
        assert_eq!(seen.row_headers, names, "{vendor}: the rows, in order");
        for name in &names {
            assert!(
                seen.text.contains(name.as_str()),
                "{vendor}: {name} not shown"
            );
        }
        for s in &annex.sections {
            assert!(
                seen.text.contains(&s.title),
                "{vendor}: section {}",
                s.title
            );
        }
        assert!(seen.errors.is_empty(), "{vendor}: {:?}", seen.errors);
    }
}

#[test]
fn the_fingerprint_shown_is_what_sha256sum_prints() {
    for (vendor, site) in &run().sites {
        let seen = &run().seen[*vendor];
        let current = annex(&site.current);
        let json = site.dir.join(format!("annex-{}.json", current.version));
        let sum = sha256sum(&json);
        assert_eq!(seen.fingerprint.as_deref(), Some(sum.as_str()), "{vendor}");
        assert_eq!(sum, dpa::annex::fingerprint(&current).hex(), "{vendor}");
        // The page tells how: `sha256sum annex-VERSION.json` and the value it prints.
        assert!(
            seen.text
                .contains(&format!("sha256sum annex-{}.json", current.version)),
            "{vendor}"
        );
        assert!(
            seen.text
                .contains(&format!("{sum}  annex-{}.json", current.version))
        );
        // SHA256SUMS checks every version with sha256sum alone.
        let check = Command::new("sha256sum")
            .args(["-c", "SHA256SUMS"])
            .current_dir(&site.dir)
            .output()
            .unwrap();
        assert!(check.status.success(), "{vendor}: {check:?}");
        assert_eq!(
            String::from_utf8_lossy(&check.stdout).lines().count(),
            1 + site.previous.len()
        );
    }
}

#[test]
fn the_page_is_accessible_and_loads_nothing() {
    for (vendor, site) in &run().sites {
        let seen = &run().seen[*vendor];
        let current = annex(&site.current);
        assert_eq!(seen.lang, "en", "{vendor}");
        assert_eq!((seen.h1, seen.main), (1, 1), "{vendor}");
        assert_eq!(seen.asides, 2, "{vendor}: the check and the versions");
        assert_eq!(seen.unscoped_headers, 0, "{vendor}: every th has a scope");
        assert!(seen.col_headers >= 3 * current.sections.len());
        assert_eq!(seen.captions.len(), current.sections.len(), "{vendor}");
        assert!(seen.title.contains(&current.version));
        let page = format!("file://{}", site.dir.join("index.html").display());
        assert_eq!(
            seen.requests,
            [page],
            "{vendor}: requests nothing but itself"
        );
    }
}

#[test]
fn the_feed_is_atom_with_one_entry_per_version() {
    for (vendor, site) in &run().sites {
        let text = fs::read_to_string(site.dir.join("feed.xml")).unwrap();
        let feed: atom_syndication::Feed = text.parse().unwrap_or_else(|e| panic!("{vendor}: {e}"));
        assert_eq!(feed.entries().len(), 1 + site.previous.len(), "{vendor}");
        let current = annex(&site.current);
        let newest = &feed.entries()[0];
        assert!(newest.title().contains(&current.version), "{vendor}");
        assert!(newest.id().starts_with("urn:uuid:"));
        let content = newest.content().and_then(|c| c.value()).unwrap_or_default();
        assert!(content.contains(&dpa::annex::fingerprint(&current).hex()));
        // The notice date: effective date less the vendor's notice period.
        assert!(newest.published().is_some());
    }
    // SegMetrics' second version lists the three changes of the diff.
    let text = fs::read_to_string(run().sites["segmetrics"].dir.join("feed.xml")).unwrap();
    let feed: atom_syndication::Feed = text.parse().unwrap();
    let summary = feed.entries()[0]
        .summary()
        .map(|s| s.value.clone())
        .unwrap_or_default();
    for change in [
        "Replaced: DigitalOcean, LLC by Hetzner Online GmbH",
        "Removed: Help Scout, Inc.",
        "Changed: Functional Software, Inc. (Sentry): location from \u{201c}United States\u{201d} to \u{201c}Germany\u{201d}",
    ] {
        assert!(summary.contains(change), "{change} missing: {summary}");
    }
    assert_eq!(
        feed.entries()[1].summary().map(|s| s.value.as_str()),
        Some("First published version.")
    );
    assert_eq!(
        feed.entries()[0].published().map(|d| d.to_rfc3339()),
        Some("2026-06-15T00:00:00+00:00".to_string()),
        "2026-07-15 less 30 days' notice"
    );
}

#[test]
fn importing_the_published_page_gives_the_same_fingerprint() {
    for (vendor, site) in &run().sites {
        for path in std::iter::once(&site.current).chain(&site.previous) {
            let source = annex(path);
            for page in [
                site.dir.join("index.html"),
                site.dir.join(format!("annex-{}.html", source.version)),
            ] {
                if page.ends_with("index.html") && *path != site.current {
                    continue;
                }
                let stem = page.file_stem().unwrap().to_str().unwrap();
                let out_toml = site
                    .dir
                    .with_extension(format!("{}.{stem}.toml", source.version));
                let out = dpa(&[
                    "annex",
                    "import",
                    page.to_str().unwrap(),
                    "--out",
                    out_toml.to_str().unwrap(),
                ]);
                ok(out, "import");
                let back = dpa::load::annex(&out_toml).expect("imported annex loads");
                assert_eq!(back, source, "{vendor}: {}", page.display());
                let fp = ok(
                    dpa(&["annex", "fingerprint", out_toml.to_str().unwrap()]),
                    "fp",
                );
                assert!(
                    fp.starts_with(&dpa::annex::fingerprint(&source).hex()),
                    "{vendor}: {fp}"
                );
            }
        }
    }
}

#[test]
fn publish_writes_only_its_own_files_and_refuses_to_overwrite_others() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("site");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("about.html"), "the vendor's own page").unwrap();
    let args = |extra: &[&'static str]| -> Vec<String> {
        let mut a = vec![
            "annex",
            "publish",
            "fixtures/caplena/annex.toml",
            "--vendor",
            "fixtures/caplena/vendor.toml",
            "--out",
            out.to_str().unwrap(),
        ];
        a.extend_from_slice(extra);
        a.into_iter().map(String::from).collect()
    };
    let dpa = |a: Vec<String>| dpa(&a.iter().map(String::as_str).collect::<Vec<_>>());
    ok(dpa(args(&[])), "first publish");
    let mut names: Vec<String> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "SHA256SUMS",
            "about.html",
            "annex-2026-05-20.html",
            "annex-2026-05-20.json",
            "feed.xml",
            "index.html"
        ]
    );
    assert_eq!(
        fs::read_to_string(out.join("about.html")).unwrap(),
        "the vendor's own page"
    );

    // Same inputs again: nothing changes, success.
    let before = fs::read(out.join("index.html")).unwrap();
    ok(dpa(args(&[])), "second publish");
    assert_eq!(fs::read(out.join("index.html")).unwrap(), before);

    // A different index.html of the vendor's: refused, nothing written, exit 2.
    fs::write(out.join("index.html"), "vendor home page").unwrap();
    fs::remove_file(out.join("feed.xml")).unwrap();
    let refused = dpa(args(&[]));
    assert_eq!(refused.status.code(), Some(2));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("index.html") && err.contains("--force"),
        "{err}"
    );
    assert!(
        !out.join("feed.xml").exists(),
        "nothing written after a refusal"
    );
    assert_eq!(
        fs::read_to_string(out.join("index.html")).unwrap(),
        "vendor home page"
    );
    ok(dpa(args(&["--force"])), "forced publish");
    assert_eq!(fs::read(out.join("index.html")).unwrap(), before);
    assert!(out.join("feed.xml").exists());
    let leftovers: Vec<_> = fs::read_dir(&out)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains("partial")
        })
        .collect();
    assert!(leftovers.is_empty());
}
