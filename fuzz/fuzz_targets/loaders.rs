//! Fuzzes the loaders: TOML text -> validated vendor, annex, customer and config, and a
//! customers CSV file. The first byte picks the loader. A loaded annex must have a
//! fingerprint, diff against itself to nothing, and a loaded customer must have a valid id.
#![no_main]

use dpa::error::Hint;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("dpa-fuzz-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let name = if which % 5 == 4 {
        "customers.csv"
    } else {
        "input.toml"
    };
    let path = dir.join(name);
    std::fs::write(&path, body).expect("write");
    match which % 5 {
        0 => {
            let _ = dpa::load::vendor(&path).map_err(|e| (e.to_string(), e.hint()));
        }
        1 => match dpa::load::annex(&path) {
            Ok(annex) => {
                let _ = dpa::annex::fingerprint(&annex);
                let diff = dpa::annex::diff::diff(&annex, &annex).expect("self diff");
                assert!(diff.is_empty(), "an annex differs from itself");
            }
            Err(e) => {
                let _ = (e.to_string(), e.hint());
            }
        },
        2 => match dpa::load::customer(&path) {
            Ok(c) => assert!(dpa::output::check_name(&c.id, &dir).is_ok(), "id {:?}", c.id),
            Err(e) => {
                let _ = (e.to_string(), e.hint());
            }
        },
        3 => {
            let _ = dpa::load::config(&path).map_err(|e| e.to_string());
        }
        _ => {
            if let Ok(rows) = dpa::load::customers(&path) {
                for row in rows {
                    match row {
                        Ok(c) => assert!(dpa::output::check_name(&c.id, &dir).is_ok(), "id {:?}", c.id),
                        Err(e) => {
                            let _ = (e.to_string(), e.hint());
                        }
                    }
                }
            }
        }
    }
});
