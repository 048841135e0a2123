//! Fuzzes the annex importer (a vendor's subprocessor page -> annex). Whatever it
//! accepts must be written out as TOML that the annex loader accepts, with the same
//! fingerprint as the imported annex.
#![no_main]

use dpa::annex::import::{ImportOptions, import, to_toml};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Half the inputs rely on the page for vendor and version, half get them as options.
    let opts = if data.len() % 2 == 0 {
        ImportOptions {
            source: "page.md".into(),
            ..ImportOptions::default()
        }
    } else {
        ImportOptions {
            vendor: Some("Fuzz Vendor, Inc.".into()),
            version: Some("2026-01-01".into()),
            effective: chrono::NaiveDate::from_ymd_opt(2026, 1, 1),
            source: "page.md".into(),
            ..ImportOptions::default()
        }
    };
    let Ok(imported) = import(text, &opts) else {
        return;
    };
    let _ = dpa::annex::import::check_table(&imported);
    let toml = to_toml(&imported, "page.md");
    let dir = std::env::temp_dir().join(format!("dpa-fuzz-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("annex.toml");
    std::fs::write(&path, &toml).expect("write");
    match dpa::load::annex(&path) {
        Ok(annex) => assert_eq!(
            dpa::annex::fingerprint(&annex),
            dpa::annex::fingerprint(&imported.annex),
            "fingerprint changed through TOML:\n{toml}"
        ),
        // The importer passes page text through; right-to-left text is refused by the
        // loader on purpose (the layout cannot set it), so that refusal is expected.
        Err(e) if e.to_string().contains("right-to-left script") => {}
        // A provider the page lists twice is kept for the reviewer, with a warning; the
        // loader refuses the file until they are merged. Without the warning it is a bug.
        Err(e) if e.to_string().contains("is listed twice in this section") => assert!(
            imported
                .warnings
                .iter()
                .any(|w| w.message.contains("is listed again")),
            "a duplicate provider without a warning: {e}\n{toml}"
        ),
        Err(e) => panic!("imported annex does not load: {e}\n{toml}"),
    }
});
