//! The fixture vendors' processing facts: complete for their annexes, honest about what
//! their pages do not say, and deciding the transfer parts the way docs/LEGAL.md says.

use std::path::{Path, PathBuf};

use dpa::legal::{self, check_facts, plan};
use dpa::load;
use dpa::model::Customer;

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(path)
}

fn customers() -> Vec<Customer> {
    let all = load::customers(fixture("customers")).unwrap();
    all.into_iter().collect::<Result<_, _>>().unwrap()
}

#[test]
fn every_fixture_vendor_states_the_facts_its_annexes_need() {
    for (vendor, annexes) in [
        ("segmetrics", &["annex.toml", "annex-next.toml"][..]),
        ("postgres-ai", &["annex.toml"]),
        ("caplena", &["annex.toml"]),
        ("eea-only", &["annex.toml"]),
    ] {
        let v = load::vendor(fixture(&format!("{vendor}/vendor.toml"))).unwrap();
        for a in annexes {
            let annex = load::annex(fixture(&format!("{vendor}/{a}"))).unwrap();
            if let Err(e) = check_facts(&v, &annex) {
                panic!("{vendor}/{a}: {e}");
            }
        }
    }
}

#[test]
fn a_vendor_without_facts_is_refused_naming_the_table() {
    let mut v = load::vendor(fixture("segmetrics/vendor.toml")).unwrap();
    v.processing = None;
    let annex = load::annex(fixture("segmetrics/annex.toml")).unwrap();
    let e = check_facts(&v, &annex).unwrap_err();
    assert_eq!(e.field(), "processing");
    assert!(e.hint.unwrap().contains("README.md"));
}

#[test]
fn the_real_vendors_facts_show_their_gaps_and_make_specimens() {
    let customer = load::customer(fixture("customers/mueller-soehne.toml")).unwrap();
    for vendor in ["segmetrics", "postgres-ai", "caplena"] {
        let v = load::vendor(fixture(&format!("{vendor}/vendor.toml"))).unwrap();
        let annex = load::annex(fixture(&format!("{vendor}/annex.toml"))).unwrap();
        let found = legal::placeholders(&v, &annex, &customer);
        // None of the three pages gives a retention period or says whether special
        // categories of data are processed; the fixtures say so instead of inventing one.
        for field in [
            "vendor.processing.retention",
            "vendor.processing.special_categories[1]",
        ] {
            assert!(
                found.iter().any(|f| f == field),
                "{vendor}: {field} in {found:?}"
            );
        }
    }
}

#[test]
fn transfer_parts_follow_the_vendor_and_the_customer_country() {
    let load_facts = |vendor: &str| {
        load::vendor(fixture(&format!("{vendor}/vendor.toml")))
            .unwrap()
            .processing
            .unwrap()
    };
    for c in customers() {
        let uk = c.country == "GB";
        let swiss = c.country == "CH";
        for vendor in ["segmetrics", "postgres-ai"] {
            let p = plan(&load_facts(vendor), &c);
            assert!(p.scc && p.onward, "{vendor} × {}", c.id);
            assert_eq!((p.uk, p.swiss), (uk, swiss), "{vendor} × {}", c.id);
        }
        let p = plan(&load_facts("caplena"), &c);
        assert!(!p.scc && p.onward, "caplena × {}", c.id);
        assert_eq!((p.uk, p.swiss), (uk, swiss), "caplena × {}", c.id);
        let p = plan(&load_facts("eea-only"), &c);
        assert!(!p.any() && !p.uk && !p.swiss, "eea-only × {}", c.id);
    }
}
