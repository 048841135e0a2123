//! The vendor's facts about its processing: the `[processing]` table of `vendor.toml`.
//!
//! In: TOML written by the vendor. Out: plain serde types that the DPA prints as given
//! (Annex I, Annex II, the transfer part); none of these facts are template text. The
//! rules a complete set of facts must meet are checked by `legal::check_facts`, which
//! `generate` runs before it renders, so a missing fact is an error naming its field.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What the vendor states about its processing of its customers' personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Processing {
    /// What the processing is about, in one or two sentences.
    pub subject_matter: String,
    /// What is done with the data (storage, analysis, transmission, ...).
    pub nature: String,
    /// Why the data is processed; each item one purpose.
    pub purposes: Vec<String>,
    /// Categories of data subjects.
    pub data_subjects: Vec<String>,
    /// Categories of personal data.
    pub personal_data: Vec<String>,
    /// Special categories (Art. 9 and 10 GDPR) the Services are meant to process; empty: none.
    pub special_categories: Vec<String>,
    /// The restrictions and safeguards for the special categories; required when there are any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub special_category_safeguards: Option<String>,
    /// How often data is processed, e.g. continuously.
    pub frequency: String,
    /// How long the vendor keeps the data, or how that period is decided.
    pub retention: String,
    /// The contact for data protection matters (Annex I.A), a DPO where one is designated.
    pub contact: Contact,
    /// The representative in the Union under Art. 27 GDPR, where the vendor has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eu_representative: Option<Representative>,
    /// The representative in the United Kingdom under Art. 27 UK GDPR, where it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uk_representative: Option<Representative>,
    /// The vendor's lead supervisory authority (Art. 56 GDPR), where it has a main
    /// establishment in the Union.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead_authority: Option<String>,
    /// Optional features in words, by the key that annex entries and customers use:
    /// `ai = "AI Features"`. Keys never reach the document; these words do.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub features: BTreeMap<String, String>,
    /// The technical and organisational measures, as the vendor states them.
    pub measures: Vec<Measure>,
    /// Where the vendor processes and the choices it offers for transfers.
    pub transfers: Transfers,
}

/// A contact person or function for data protection matters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// The position or function, e.g. "Privacy team" or "Data Protection Officer".
    pub role: String,
    /// A named person, where the vendor gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub email: String,
    /// Whether this contact is a data protection officer designated under Art. 37 GDPR.
    #[serde(default)]
    pub dpo: bool,
}

/// A representative under Art. 27 GDPR or Art. 27 UK GDPR.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Representative {
    pub name: String,
    pub address: String,
    pub email: String,
}

/// One technical or organisational measure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Measure {
    /// The area it belongs to, e.g. "Access control".
    pub area: String,
    /// The measure, in the vendor's terms.
    pub measure: String,
}

/// Where the vendor itself processes, and its choices for the Standard Contractual Clauses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transfers {
    /// Where the vendor itself processes customer personal data, in words.
    pub location: String,
    /// Whether the vendor itself processes customer personal data outside the EEA.
    pub outside_eea: bool,
    /// What covers that processing: "Standard Contractual Clauses" (those this DPA
    /// incorporates), "EU-U.S. Data Privacy Framework", "adequacy decision".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mechanism: Vec<String>,
    /// Whether any subprocessor processes customer personal data outside the EEA.
    pub subprocessors_outside_eea: bool,
    /// SCC clause 7: whether further parties may accede (the docking clause).
    #[serde(default = "yes")]
    pub docking: bool,
    /// SCC clause 11(a): the independent dispute resolution body offered, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redress_body: Option<String>,
    /// SCC clause 17, option 1: the EU Member State whose law governs the clauses.
    /// Absent: option 2, the law of the Member State where the customer is established.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub law: Option<String>,
    /// SCC clause 17, option 2: the Member State whose law applies where the customer's
    /// does not allow third-party beneficiary rights or the customer is outside the EU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_law: Option<String>,
    /// SCC clause 18(b): the Member State whose courts decide disputes. Absent: the
    /// courts of the Member State whose law governs the clauses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub courts: Option<String>,
    /// UK Addendum, table 4: which party may end the Addendum when the ICO changes it.
    #[serde(default)]
    pub uk_addendum_ending: UkEnding,
    /// Include the UK part for every customer, not only for customers in the UK.
    #[serde(default)]
    pub always_uk: bool,
    /// Include the Swiss part for every customer, not only for customers in Switzerland.
    #[serde(default)]
    pub always_swiss: bool,
}

/// Which party may end the UK Addendum under its section 19.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UkEnding {
    /// Neither party.
    #[default]
    Neither,
    /// The importer (the vendor).
    Importer,
    /// The exporter (the customer).
    Exporter,
    /// Either party.
    Both,
}

fn yes() -> bool {
    true
}
