//! `annex::import` on re-creations of the three real vendors' pages (tests/data/vendor-pages:
//! the structure, labels, link forms and provider facts of the pages in the team's shared
//! vendor-pages folder, the prose in our own words): every provider with every field the
//! page gives. scripts/check-real-vendor-pages.sh runs the real pages outside `cargo test`.

use chrono::NaiveDate;
use dpa::annex::fingerprint;
use dpa::annex::import::{self, ImportOptions, Imported, NOT_STATED};
use dpa::model::{Activation, Annex, Entry};

const PAGES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/vendor-pages");

fn read(name: &str) -> String {
    let path = format!("{PAGES}/{name}");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn import(
    text: &str,
    source: &str,
    vendor: Option<&str>,
    effective: Option<NaiveDate>,
) -> Imported {
    let opts = ImportOptions {
        vendor: vendor.map(String::from),
        version: None,
        effective,
        source: source.into(),
        ..ImportOptions::default()
    };
    let got = import::import(text, &opts).unwrap_or_else(|e| panic!("{source}: {e}"));
    // Whatever the page, the written file must load back into the same annex.
    let back: Annex = toml::from_str(&import::to_toml(&got, source)).unwrap();
    assert_eq!(back, got.annex);
    assert_eq!(fingerprint(&back), fingerprint(&got.annex));
    got
}

fn entries(a: &Annex) -> Vec<&Entry> {
    a.sections.iter().flat_map(|s| s.entries.iter()).collect()
}

fn entry<'a>(a: &'a Annex, name: &str) -> &'a Entry {
    entries(a)
        .into_iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("no entry {name}"))
}

fn activations(a: &Annex) -> [usize; 3] {
    let mut n = [0; 3];
    for e in entries(a) {
        n[match e.activation {
            Activation::Always => 0,
            Activation::OptIn => 1,
            Activation::OptOut => 2,
        }] += 1;
    }
    n
}

#[test]
fn segmetrics_plain_text_page() {
    let text = read("segmetrics-subprocessors.txt");
    let got = import(
        &text,
        "segmetrics-subprocessors.txt",
        Some("SegMetrics, Inc."),
        None,
    );
    let a = &got.annex;
    assert_eq!(
        (a.version.as_str(), a.effective.to_string()),
        ("2026-05-26", "2026-05-26".into())
    );

    let titles: Vec<(&str, bool, usize)> = a
        .sections
        .iter()
        .map(|s| (s.title.as_str(), s.subprocessors, s.entries.len()))
        .collect();
    assert_eq!(
        titles,
        [
            (
                "A. Subprocessors that may process Customer Personal Data",
                true,
                7
            ),
            (
                "B. Service providers that process SegMetrics account holder data only",
                false,
                3
            ),
        ]
    );
    assert!(
        a.sections[0]
            .description
            .as_deref()
            .unwrap()
            .starts_with("These subprocessors may process Customer Personal Data")
    );
    assert!(
        a.sections[1]
            .description
            .as_deref()
            .unwrap()
            .contains("does not cover them")
    );

    // name, function, location, certifications (and remarks, which the page writes in its
    // certifications column): every cell of both tables.
    let rows: [(&str, &str, &str, &[&str]); 10] = [
        (
            "DigitalOcean, LLC",
            "Primary application hosting and compute",
            "United States (NYC region)",
            &["SOC 2", "ISO 27001", "GDPR-compliant DPA"],
        ),
        (
            "Amazon Web Services, Inc.",
            "Underlying infrastructure for managed database; object storage (S3)",
            "United States (Oregon, us-west-2)",
            &["SOC 2", "ISO 27001", "ISO 27018", "GDPR-compliant DPA"],
        ),
        (
            "SingleStore, Inc.",
            "Managed analytics database",
            "United States (Oregon, us-west-2)",
            &["SOC 2 Type II", "GDPR-compliant DPA"],
        ),
        (
            "Cloudflare, Inc.",
            "Content delivery network, DDoS protection, web application firewall",
            "United States (global edge network)",
            &["SOC 2 Type II", "ISO 27001", "GDPR-compliant DPA"],
        ),
        (
            "Functional Software, Inc. (Sentry)",
            "Application error and performance monitoring",
            "United States",
            &["SOC 2", "GDPR-compliant DPA"],
        ),
        (
            "OpenAI, LLC",
            "AI Insights feature (opt-in; activated only when a Customer enables AI Features)",
            "United States",
            &["SOC 2 Type II", "API data is not used for model training"],
        ),
        (
            "Help Scout, Inc.",
            "Customer support ticketing (incidental processing only \u{2014} applies when a Customer initiates contact with SegMetrics support)",
            "United States",
            &["GDPR-compliant DPA"],
        ),
        (
            "ActiveCampaign, LLC",
            "Marketing automation and product communications to SegMetrics account holders",
            "United States",
            &[],
        ),
        (
            "Sinch America, Inc. (Mailgun)",
            "Transactional email delivery (authentication, notifications) to SegMetrics account holders",
            "United States",
            &[],
        ),
        (
            "Stripe, Inc.",
            "Payment processing for SegMetrics subscription billing",
            "United States",
            &[],
        ),
    ];
    let all = entries(a);
    assert_eq!(all.len(), rows.len());
    for (e, (name, function, location, certs)) in all.iter().zip(rows) {
        assert_eq!(
            (e.name.as_str(), e.function.as_str(), e.location.as_str()),
            (name, function, location)
        );
        let (remarks, certs): (Vec<&str>, Vec<&str>) = certs
            .iter()
            .partition(|c| c.contains("DPA") || c.contains("training"));
        assert_eq!(e.certifications, certs, "{name}");
        assert_eq!(e.remarks, remarks, "{name}");
        assert!(e.transfer_mechanism.is_empty(), "{name}");
        assert_eq!(
            (&e.website, &e.legal_address, &e.has_access, &e.no_access),
            (&None, &None, &None, &None)
        );
    }
    assert_eq!(activations(a), [9, 1, 0]);
    assert_eq!(entry(a, "OpenAI, LLC").feature.as_deref(), Some("ai"));
    // The remarks written as certifications (one warning for the six rows with "GDPR-compliant
    // DPA", one for OpenAI's training note) and the guessed feature.
    let warnings: Vec<String> = got.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(
        warnings,
        [
            "line 13: \"GDPR-compliant DPA\" is not a certification; imported under remarks (also lines 14, 15, 16, 17, 19)",
            "line 18: \"API data is not used for model training\" is not a certification; imported under remarks",
            "line 18: OpenAI, LLC is opt-in for an AI feature: feature = \"ai\"; check customers enable it under that name",
        ]
    );
}

#[test]
fn segmetrics_page_needs_a_vendor_name() {
    let text = read("segmetrics-subprocessors.txt");
    let opts = ImportOptions {
        source: "s.txt".into(),
        ..Default::default()
    };
    let err = import::import(&text, &opts).unwrap_err();
    assert!(
        err.to_string().contains("does not name the vendor"),
        "{err}"
    );
}

#[test]
fn postgres_ai_markdown_table_with_links() {
    let text = read("postgres-ai-subprocessors.md");
    let got = import(&text, "postgres-ai-subprocessors.md", None, None);
    let a = &got.annex;
    assert_eq!(a.vendor, "Postgres.ai", "from the sidebar label");
    assert_eq!(
        (a.version.as_str(), a.effective.to_string()),
        ("2021-05-02", "2021-05-02".into())
    );
    assert_eq!(a.sections.len(), 1);
    let s = &a.sections[0];
    assert_eq!(
        s.title,
        "3rd-party Data Subprocessors and Service Providers"
    );
    assert!(s.subprocessors);
    assert!(
        s.description
            .as_deref()
            .unwrap()
            .ends_with("works with these data suprocessors:")
    );

    let rows: [(&str, &str, &str, &str); 12] = [
        (
            "Amazon Web Services (AWS)",
            "https://aws.amazon.com/",
            "USA",
            "Secondary data hosting (currently not used for user data)",
        ),
        (
            "Google Analytics (GA)",
            "https://analytics.google.com/analytics/web/",
            "USA",
            "User behavior analytics",
        ),
        (
            "Google Cloud Platform (GCP)",
            "https://cloud.google.com/",
            "USA",
            "Primary data hosting. User data (including backups) is stored here",
        ),
        (
            "Google Workspace",
            "https://workspace.google.com/",
            "USA",
            "Email and cloud office apps used by the Postgres.ai Team for business",
        ),
        (
            "Hubspot",
            "https://www.hubspot.com/",
            "USA",
            "Marketing campaign automation",
        ),
        (
            "Intercom",
            "https://www.intercom.com/",
            "USA",
            "Customer support system",
        ),
        (
            "Mailgun",
            "https://www.mailgun.com/",
            "USA",
            "Transactional mail services provider",
        ),
        (
            "Okmeter",
            "https://okmeter.io/",
            "Europe",
            "Technical monitoring, no user data is processed",
        ),
        (
            "Slack",
            "https://slack.com",
            "USA",
            "Business communication platform",
        ),
        ("Stripe", "https://stripe.com", "USA", "Payment provider"),
        (
            "Typeform",
            "https://www.typeform.com/",
            "USA",
            "Online surveying platform",
        ),
        ("Zoom", "https://zoom.us/", "USA", "Video Communications"),
    ];
    assert_eq!(s.entries.len(), rows.len());
    for (e, (name, website, location, function)) in s.entries.iter().zip(rows) {
        assert_eq!(
            (
                e.name.as_str(),
                e.website.as_deref(),
                e.location.as_str(),
                e.function.as_str()
            ),
            (name, Some(website), location, function)
        );
        assert!(e.certifications.is_empty() && e.legal_address.is_none() && e.has_access.is_none());
    }
    assert_eq!(activations(a), [12, 0, 0]);
    assert_eq!(got.warnings.len(), 1, "{:?}", got.warnings);
    assert!(
        got.warnings[0]
            .message
            .contains("taken from the page title")
    );
}

/// Name, location, legal address, start of has access, start of no access.
type CaplenaRow = (
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
);

#[test]
fn caplena_one_heading_per_provider() {
    let text = read("caplena-third-party-services.md");
    let effective = NaiveDate::from_ymd_opt(2026, 6, 1);
    let got = import(
        &text,
        "caplena-third-party-services.md",
        Some("Caplena AG"),
        effective,
    );
    let a = &got.annex;
    assert_eq!(a.version, "2026-06-01");
    let titles: Vec<(&str, bool, usize)> = a
        .sections
        .iter()
        .map(|s| (s.title.as_str(), s.subprocessors, s.entries.len()))
        .collect();
    assert_eq!(
        titles,
        [
            ("Service with (partial) access to PII", true, 9),
            ("Service without access to PII", false, 3)
        ]
    );

    let rows: [CaplenaRow; 12] = [
        (
            "Google Cloud",
            "Netherlands",
            Some(
                "Google Cloud EMEA Limited, 70 Sir John Rogerson\u{2019}s Quay, Dublin 2, Ireland",
            ),
            None,
            None,
        ),
        (
            "Datadog",
            "EU",
            Some("620 8th Ave, 45th Fl, New York, NY 10018 USA"),
            Some("The raw requests, SQL queries"),
            Some("The stored data in structured form."),
        ),
        (
            "DeepL",
            "Finland",
            Some("DeepL SE, Maarweg 165, 50825 Cologne, Germany"),
            Some("The text columns"),
            Some("Your name, email or any other data."),
        ),
        (
            "Segment",
            "Ireland / EU",
            Some("Twilio Germany GmbH, Rosenheimer Str. 143C, 81671 M\u{fc}nchen"),
            Some("Your name, email address, metadata"),
            Some("Any of the data you process on Caplena."),
        ),
        (
            "Customer.io",
            "European Union",
            Some("921 SW Washington St No 820, Portland, Oregon, 97205, United States"),
            Some("Your name, email address, metadata"),
            Some("Any of the data"),
        ),
        (
            "Intercom",
            "USA",
            Some("Intercom, 55 2nd Street, 4th Floor, San Francisco, CA 94105"),
            Some("Your name, email address, the content of the messages"),
            Some("Any of the data"),
        ),
        (
            "Stripe",
            NOT_STATED,
            Some(
                "Stripe Payments Europe Ltd., Block 4, Harcourt Centre, Harcourt Road, Dublin 2, Ireland",
            ),
            Some("Your payment information (including credit card details"),
            Some("Any of the data"),
        ),
        (
            "Logrocket",
            NOT_STATED,
            None,
            Some("Your detailed app usage on Caplena."),
            Some("Your name, email or the data you upload & process (except for topics)."),
        ),
        (
            "Close",
            NOT_STATED,
            None,
            Some("Your name, email address and conversations"),
            Some("Any of the data"),
        ),
        (
            "Userpilot",
            NOT_STATED,
            None,
            Some("Metadata on your which pages you have visited, your anonymous user id"),
            Some("Any of the data"),
        ),
        (
            "Google Analytics",
            NOT_STATED,
            None,
            Some("Metadata on your which pages you have visited, your browser type"),
            Some("Your name, email or any other data."),
        ),
        (
            "Linkedin Insights Tag",
            NOT_STATED,
            None,
            Some("Metadata on your which public pages you have visited."),
            Some("Pages you visit in the app, your name, email or any other data."),
        ),
    ];
    let all = entries(a);
    assert_eq!(all.len(), rows.len());
    for (e, (name, location, address, has, no)) in all.iter().zip(rows) {
        assert_eq!((e.name.as_str(), e.location.as_str()), (name, location));
        assert_eq!(e.legal_address.as_deref(), address, "{name}");
        let starts = |v: &Option<String>, p: Option<&str>| match (v, p) {
            (Some(v), Some(p)) => v.starts_with(p),
            (None, None) => true,
            _ => false,
        };
        assert!(starts(&e.has_access, has), "{name}: {:?}", e.has_access);
        assert!(starts(&e.no_access, no), "{name}: {:?}", e.no_access);
        assert!(!e.function.is_empty() && e.function != NOT_STATED, "{name}");
        assert!(e.certifications.is_empty() && e.website.is_none(), "{name}");
    }
    assert_eq!(
        entry(a, "Datadog").function,
        "Application performance & security monitoring."
    );
    assert!(
        entry(a, "Google Cloud")
            .function
            .starts_with("Google Cloud is our server infrastructure provider.")
    );
    assert!(entry(a, "Stripe").function.contains("PCI DSS compliant"));

    assert_eq!(activations(a), [10, 1, 1]);
    let deepl = entry(a, "DeepL");
    assert_eq!(
        (deepl.activation, deepl.feature.as_deref()),
        (Activation::OptIn, Some("deepl"))
    );
    assert_eq!(entry(a, "Logrocket").activation, Activation::OptOut);

    // Six providers without a location, the guessed feature, and the intro's opt-in
    // example (Google Translate) that names no listed provider.
    let lines: Vec<usize> = got.warnings.iter().map(|w| w.line).collect();
    assert_eq!(
        lines,
        [9, 38, 83, 92, 102, 111, 118, 125],
        "{:?}",
        got.warnings
    );
    assert!(
        got.warnings[0]
            .message
            .contains("\"Google Translate\" as opt-in")
    );
}
