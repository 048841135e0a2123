//! The input model: vendor, annex (the subprocessor list), customer and `dpa.toml`.
//!
//! Plain serde types with the field names of DESIGN.md; unknown fields are
//! rejected. No I/O here: `load` reads files into these types and validates them.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The vendor (the processor) whose DPA this is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vendor {
    pub legal_name: String,
    /// Registered address.
    pub address: String,
    /// Privacy contact; also the SSH signer identity.
    pub email: String,
    pub website: String,
    /// Days of advance notice given before a subprocessor change takes effect.
    pub notice_days: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub governing_law: Option<String>,
    /// Where the vendor publishes its subprocessor list, e.g. `https://example.com/subprocessors`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subprocessors_url: Option<String>,
    pub signatory: Signatory,
    /// The vendor's facts about its processing; `generate` needs them (see `legal`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processing: Option<Processing>,
}

/// A person who signs for a party.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signatory {
    pub name: String,
    pub title: String,
}

/// One published version of the vendor's subprocessor list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Annex {
    /// The vendor's legal name, as in `vendor.toml`.
    pub vendor: String,
    /// `[A-Za-z0-9._-]+`, e.g. "2026-05-26".
    pub version: String,
    #[serde(with = "date")]
    pub effective: NaiveDate,
    #[serde(rename = "section", default)]
    pub sections: Vec<Section>,
}

/// A group of providers, e.g. those that may process customer personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `true`: subprocessors of customer personal data; `false`: providers that see account data only.
    #[serde(default = "yes")]
    pub subprocessors: bool,
    #[serde(rename = "entry", default)]
    pub entries: Vec<Entry>,
}

/// One provider on the list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub name: String,
    pub function: String,
    pub location: String,
    #[serde(default)]
    pub certifications: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_access: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_access: Option<String>,
    #[serde(default)]
    pub activation: Activation,
    /// The customer feature that enables an opt-in entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature: Option<String>,
    /// How transfers to this provider are safeguarded, known mechanisms in canonical words
    /// (see [`transfer`]); absent from the canonical JSON when empty, so older annexes keep
    /// their fingerprint.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "transfer::deserialize"
    )]
    pub transfer_mechanism: Vec<String>,
    /// Notes that are neither certifications nor transfer safeguards, e.g. "API data is not
    /// used for model training"; absent from the canonical JSON when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remarks: Vec<String>,
}

/// Whether a provider is used for every customer or only by choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Activation {
    /// Used for every customer.
    #[default]
    Always,
    /// Used only for customers who enabled its feature.
    OptIn,
    /// Used unless the customer switched it off.
    OptOut,
}

impl Activation {
    /// The word used in files and documents: "always", "opt-in", "opt-out".
    pub fn as_str(self) -> &'static str {
        match self {
            Activation::Always => "always",
            Activation::OptIn => "opt-in",
            Activation::OptOut => "opt-out",
        }
    }
}

impl Entry {
    /// Whether this provider applies to a customer with these features enabled.
    pub fn applies_to(&self, features: &[String]) -> bool {
        match self.activation {
            Activation::OptIn => self
                .feature
                .as_ref()
                .is_some_and(|f| features.iter().any(|g| g == f)),
            Activation::Always | Activation::OptOut => true,
        }
    }
}

/// The customer (the controller) the DPA is made for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Customer {
    /// `[a-z0-9-]+`, used in file names.
    pub id: String,
    pub legal_name: String,
    pub address: String,
    /// ISO 3166-1 alpha-2 country code, e.g. "DE".
    pub country: String,
    pub email: String,
    /// The DPA's date.
    #[serde(with = "date")]
    pub effective: NaiveDate,
    /// Opt-in services the customer enabled.
    #[serde(default)]
    pub features: Vec<String>,
    pub signatory: Signatory,
}

/// `dpa.toml`: default paths, relative to the folder the file is in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub vendor: Option<std::path::PathBuf>,
    pub annex: Option<std::path::PathBuf>,
    pub template: Option<std::path::PathBuf>,
    pub key: Option<std::path::PathBuf>,
    /// The P-256 key of the signature embedded in the PDF.
    pub pdf_key: Option<std::path::PathBuf>,
    /// The certificate chain of `pdf_key`, leaf first.
    pub cert: Option<std::path::PathBuf>,
    pub out: Option<std::path::PathBuf>,
}

fn yes() -> bool {
    true
}

/// Transfer mechanisms: the known ones recognised in their usual spellings and written in
/// one canonical form, so "SCCs" and "standard contractual clauses" mean (and fingerprint)
/// the same; anything else is kept as written.
pub mod transfer {
    use serde::{Deserialize, Deserializer};

    /// The canonical words of the mechanisms `dpa` knows, for documents and the legal text.
    pub const STANDARD_CONTRACTUAL_CLAUSES: &str = "Standard Contractual Clauses";
    pub const EU_US_DPF: &str = "EU-U.S. Data Privacy Framework";
    pub const UK_DPF_EXTENSION: &str = "UK Extension to the EU-U.S. Data Privacy Framework";
    pub const SWISS_US_DPF: &str = "Swiss-U.S. Data Privacy Framework";
    pub const ADEQUACY_DECISION: &str = "adequacy decision";
    pub const BINDING_CORPORATE_RULES: &str = "Binding Corporate Rules";
    pub const UK_ADDENDUM: &str = "UK International Data Transfer Addendum";
    pub const UK_IDTA: &str = "UK International Data Transfer Agreement";

    /// Spellings (compared after [`key`]) and the canonical words they stand for.
    const KNOWN: &[(&str, &str)] = &[
        ("standard contractual clauses", STANDARD_CONTRACTUAL_CLAUSES),
        (
            "eu standard contractual clauses",
            STANDARD_CONTRACTUAL_CLAUSES,
        ),
        (
            "the standard contractual clauses",
            STANDARD_CONTRACTUAL_CLAUSES,
        ),
        (
            "2021 standard contractual clauses",
            STANDARD_CONTRACTUAL_CLAUSES,
        ),
        ("sccs", STANDARD_CONTRACTUAL_CLAUSES),
        ("scc", STANDARD_CONTRACTUAL_CLAUSES),
        ("eu sccs", STANDARD_CONTRACTUAL_CLAUSES),
        ("eu scc", STANDARD_CONTRACTUAL_CLAUSES),
        ("eu model clauses", STANDARD_CONTRACTUAL_CLAUSES),
        ("model clauses", STANDARD_CONTRACTUAL_CLAUSES),
        ("eu-us data privacy framework", EU_US_DPF),
        ("eu us data privacy framework", EU_US_DPF),
        ("data privacy framework", EU_US_DPF),
        ("eu-us dpf", EU_US_DPF),
        ("dpf", EU_US_DPF),
        ("eu-us privacy framework", EU_US_DPF),
        (
            "uk extension to the eu-us data privacy framework",
            UK_DPF_EXTENSION,
        ),
        ("uk extension to the eu-us dpf", UK_DPF_EXTENSION),
        ("uk extension", UK_DPF_EXTENSION),
        ("swiss-us data privacy framework", SWISS_US_DPF),
        ("swiss-us dpf", SWISS_US_DPF),
        ("adequacy decision", ADEQUACY_DECISION),
        ("adequacy", ADEQUACY_DECISION),
        ("eu adequacy decision", ADEQUACY_DECISION),
        ("an adequacy decision", ADEQUACY_DECISION),
        ("adequacy decision (art 45 gdpr)", ADEQUACY_DECISION),
        ("binding corporate rules", BINDING_CORPORATE_RULES),
        ("bcr", BINDING_CORPORATE_RULES),
        ("bcrs", BINDING_CORPORATE_RULES),
        ("uk international data transfer addendum", UK_ADDENDUM),
        ("international data transfer addendum", UK_ADDENDUM),
        ("uk addendum", UK_ADDENDUM),
        ("uk idta addendum", UK_ADDENDUM),
        ("uk international data transfer agreement", UK_IDTA),
        ("international data transfer agreement", UK_IDTA),
        ("idta", UK_IDTA),
        ("uk idta", UK_IDTA),
    ];

    /// A spelling folded for comparison: lowercase, dashes as `-`, dots and a trailing
    /// abbreviation in parentheses ("(SCCs)") dropped, spaces collapsed.
    fn key(text: &str) -> String {
        let mut t: String = text
            .chars()
            .map(|c| match c {
                '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
                c => c,
            })
            .filter(|&c| c != '.')
            .collect::<String>()
            .to_lowercase();
        t = t.split_whitespace().collect::<Vec<_>>().join(" ");
        t = t.replace(" - ", "-");
        if let Some(open) = t.rfind(" (")
            && t.ends_with(')')
            && !t[open + 2..t.len() - 1].contains(' ')
        {
            t.truncate(open);
        }
        t
    }

    /// The canonical words of a known mechanism, if `text` is one.
    pub fn known(text: &str) -> Option<&'static str> {
        let k = key(text);
        KNOWN.iter().find(|(s, _)| *s == k).map(|(_, c)| *c)
    }

    /// A known mechanism in canonical words; other text trimmed and otherwise as written.
    pub fn normalise(text: &str) -> String {
        known(text).map_or_else(|| text.trim().to_string(), str::to_string)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        let list = Vec::<String>::deserialize(d)?;
        Ok(list.iter().map(|t| normalise(t)).collect())
    }
}

/// Dates as TOML local dates (`2026-06-01`) or strings ("2026-06-01"); written as strings.
pub mod date {
    use chrono::NaiveDate;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(d: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&d.format("%Y-%m-%d"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Toml(toml::value::Datetime),
            Text(String),
            // Anything else, kept to say what was found instead of a date.
            Other(toml::Value),
        }
        let text = match Raw::deserialize(d)? {
            Raw::Toml(dt) => {
                if dt.time.is_some() || dt.offset.is_some() {
                    return Err(D::Error::custom(format!(
                        "expected a date like 2026-06-01, found the date-time {dt}"
                    )));
                }
                dt.to_string()
            }
            Raw::Text(s) => s,
            Raw::Other(v) => {
                return Err(D::Error::custom(format!(
                    "expected a date like 2026-06-01, found {v}"
                )));
            }
        };
        NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
            D::Error::custom(format!("expected a date like 2026-06-01, found `{text}`"))
        })
    }
}

/// The field names a serde struct reads, asked of its `Deserialize` implementation.
pub fn field_names<T: serde::de::DeserializeOwned>() -> &'static [&'static str] {
    use serde::de::{self, Visitor};
    // A deserializer that answers the struct's request with an error after noting the
    // fields it asked for.
    struct Probe<'a>(&'a mut &'static [&'static str]);
    #[derive(Debug)]
    struct Stop;
    impl std::fmt::Display for Stop {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("probe")
        }
    }
    impl std::error::Error for Stop {}
    impl de::Error for Stop {
        fn custom<M: std::fmt::Display>(_: M) -> Self {
            Stop
        }
    }
    impl<'de> de::Deserializer<'de> for Probe<'_> {
        type Error = Stop;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
            Err(Stop)
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Stop> {
            *self.0 = fields;
            Err(Stop)
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Probe(&mut fields));
    fields
}

// The vendor's processing facts live in their own file, so that the types above and
// these can change without touching each other.
mod processing;
pub use processing::{Contact, Measure, Processing, Representative, Transfers, UkEnding};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annex_defaults_apply() {
        let annex: Annex = toml::from_str(
            r#"
            vendor = "V"
            version = "1"
            effective = 2026-05-26
            [[section]]
            title = "T"
            [[section.entry]]
            name = "N"
            function = "F"
            location = "L"
            "#,
        )
        .unwrap();
        assert!(annex.sections[0].subprocessors);
        assert_eq!(annex.sections[0].entries[0].activation, Activation::Always);
        assert_eq!(
            annex.effective,
            NaiveDate::from_ymd_opt(2026, 5, 26).unwrap()
        );
    }

    #[test]
    fn string_dates_and_unknown_fields() {
        let c: Result<Customer, _> = toml::from_str(
            r#"
            id = "a"
            legal_name = "A"
            address = "B"
            country = "DE"
            email = "a@b.example"
            effective = "2026-06-01"
            [signatory]
            name = "N"
            title = "T"
            "#,
        );
        assert_eq!(c.unwrap().effective.to_string(), "2026-06-01");
        let bad: Result<Signatory, _> = toml::from_str("name='a'\ntitle='b'\ntitel='c'");
        assert!(
            bad.unwrap_err()
                .to_string()
                .contains("unknown field `titel`")
        );
    }

    #[test]
    fn date_time_is_refused() {
        let r: Result<Annex, _> =
            toml::from_str("vendor='V'\nversion='1'\neffective=2026-05-26T10:00:00Z");
        assert!(r.unwrap_err().to_string().contains("expected a date"));
    }

    #[test]
    fn transfer_mechanisms_are_read_in_their_usual_spellings() {
        for (written, canonical) in [
            ("SCCs", "Standard Contractual Clauses"),
            (
                "EU Standard Contractual Clauses (SCCs)",
                "Standard Contractual Clauses",
            ),
            (
                "standard contractual clauses.",
                "Standard Contractual Clauses",
            ),
            ("EU-US DPF", "EU-U.S. Data Privacy Framework"),
            (
                "EU\u{2013}U.S. Data Privacy Framework",
                "EU-U.S. Data Privacy Framework",
            ),
            (
                "Data Privacy Framework (DPF)",
                "EU-U.S. Data Privacy Framework",
            ),
            ("Adequacy", "adequacy decision"),
            ("BCRs", "Binding Corporate Rules"),
            ("UK Addendum", "UK International Data Transfer Addendum"),
            ("Swiss-U.S. DPF", "Swiss-U.S. Data Privacy Framework"),
        ] {
            assert_eq!(transfer::normalise(written), canonical, "{written}");
        }
        // Free text is kept as written (trimmed).
        assert_eq!(
            transfer::normalise(" Processing stays in the EEA "),
            "Processing stays in the EEA"
        );
        assert_eq!(transfer::known("SOC 2"), None);
    }

    #[test]
    fn new_entry_fields_are_optional_and_absent_when_empty() {
        let annex: Annex = toml::from_str(
            r#"
            vendor = "V"
            version = "1"
            effective = 2026-05-26
            [[section]]
            title = "T"
            [[section.entry]]
            name = "N"
            function = "F"
            location = "L"
            transfer_mechanism = ["sccs", "Own wording"]
            remarks = ["No model training"]
            "#,
        )
        .unwrap();
        let e = &annex.sections[0].entries[0];
        assert_eq!(
            e.transfer_mechanism,
            ["Standard Contractual Clauses", "Own wording"]
        );
        assert_eq!(e.remarks, ["No model training"]);
        let mut plain = e.clone();
        plain.transfer_mechanism.clear();
        plain.remarks.clear();
        let json = serde_json::to_string(&plain).unwrap();
        assert!(!json.contains("transfer_mechanism") && !json.contains("remarks"));
    }

    #[test]
    fn opt_in_needs_the_feature() {
        let e = Entry {
            name: "OpenAI".into(),
            function: "f".into(),
            location: "US".into(),
            certifications: vec![],
            website: None,
            legal_address: None,
            has_access: None,
            no_access: None,
            activation: Activation::OptIn,
            feature: Some("ai".into()),
            ..Entry::default()
        };
        assert!(!e.applies_to(&[]));
        assert!(e.applies_to(&["ai".to_string()]));
    }
}
