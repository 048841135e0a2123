//! Legal rules: which parts of a DPA apply to a vendor and customer, and what they say.
//!
//! In: the vendor with its `[processing]` facts, the annex, the customer and the signing
//! facts. Out: [`check_facts`] (the facts a DPA cannot do without, each missing one named
//! by its field), [`plan`] (which transfer parts apply and how the choices of the Standard
//! Contractual Clauses are filled), [`placeholders`] (input values that make a document a
//! specimen) and [`context`] (the template fields built from all of these).
//!
//! Decisions made here, so that templates and tests read them from one place:
//! - the Controller's own SCCs (Module Two, with Module Three where the Controller is
//!   itself a processor) apply when the vendor processes outside the EEA and names the
//!   Standard Contractual Clauses among its mechanisms;
//! - onward-transfer terms apply when a Subprocessor processes outside the EEA;
//! - the UK part applies to a customer in the United Kingdom (country `GB` or `UK`), the
//!   Swiss part to a customer in Switzerland (`CH`), or to every customer when the vendor
//!   says so; either only when some transfer takes place at all;
//! - the competent supervisory authority (SCC clause 13, Annex I.C) follows the
//!   Controller: the authority of its EEA country, named where the country has one
//!   authority for private bodies; outside the EEA, the rule of clause 13(a) for exporters
//!   under Art. 3(2) GDPR;
//! - a re-issued DPA is a consolidated version when its list took effect after the
//!   agreement did (the list cannot have been authorised on a date it did not exist).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde_json::{Map, Value, json};
use thiserror::Error;

use crate::load::source::{Seg, path_text};
use crate::model::{Activation, Annex, Customer, Processing, Transfers, UkEnding, Vendor};
use crate::template::{SigningInfo, long_date, one_line};

/// A country of the European Economic Area, with its data protection authority.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Country {
    /// ISO 3166-1 alpha-2 code.
    pub code: &'static str,
    /// The English name as it reads after "the law of", e.g. "the Netherlands".
    pub name: &'static str,
    /// Whether it is a Member State of the European Union (else EEA only).
    pub eu: bool,
    /// The one authority that supervises private bodies there; `None` where that depends
    /// on the region (Germany).
    pub authority: Option<&'static str>,
}

const fn c(
    code: &'static str,
    name: &'static str,
    eu: bool,
    authority: Option<&'static str>,
) -> Country {
    Country {
        code,
        name,
        eu,
        authority,
    }
}

/// The 30 countries of the EEA: the 27 Member States of the EU, Iceland, Liechtenstein
/// and Norway. Written out by hand: no maintained crate carries the authorities.
pub const EEA: [Country; 30] = [
    c(
        "AT",
        "Austria",
        true,
        Some("the Austrian Data Protection Authority (Datenschutzbehörde)"),
    ),
    c(
        "BE",
        "Belgium",
        true,
        Some("the Belgian Data Protection Authority"),
    ),
    c(
        "BG",
        "Bulgaria",
        true,
        Some("the Bulgarian Commission for Personal Data Protection"),
    ),
    c(
        "HR",
        "Croatia",
        true,
        Some("the Croatian Personal Data Protection Agency"),
    ),
    c(
        "CY",
        "Cyprus",
        true,
        Some("the Commissioner for Personal Data Protection of Cyprus"),
    ),
    c(
        "CZ",
        "Czechia",
        true,
        Some("the Czech Office for Personal Data Protection (Úřad pro ochranu osobních údajů)"),
    ),
    c(
        "DK",
        "Denmark",
        true,
        Some("the Danish Data Protection Agency (Datatilsynet)"),
    ),
    c(
        "EE",
        "Estonia",
        true,
        Some("the Estonian Data Protection Inspectorate"),
    ),
    c(
        "FI",
        "Finland",
        true,
        Some("the Office of the Data Protection Ombudsman of Finland"),
    ),
    c(
        "FR",
        "France",
        true,
        Some("the Commission nationale de l'informatique et des libertés (CNIL)"),
    ),
    c("DE", "Germany", true, None),
    c(
        "GR",
        "Greece",
        true,
        Some("the Hellenic Data Protection Authority"),
    ),
    c(
        "HU",
        "Hungary",
        true,
        Some("the Hungarian National Authority for Data Protection and Freedom of Information"),
    ),
    c(
        "IE",
        "Ireland",
        true,
        Some("the Data Protection Commission of Ireland"),
    ),
    c(
        "IT",
        "Italy",
        true,
        Some(
            "the Italian Data Protection Authority (Garante per la protezione dei dati personali)",
        ),
    ),
    c(
        "LV",
        "Latvia",
        true,
        Some("the Data State Inspectorate of Latvia"),
    ),
    c(
        "LT",
        "Lithuania",
        true,
        Some("the State Data Protection Inspectorate of Lithuania"),
    ),
    c(
        "LU",
        "Luxembourg",
        true,
        Some("the National Commission for Data Protection of Luxembourg (CNPD)"),
    ),
    c(
        "MT",
        "Malta",
        true,
        Some("the Information and Data Protection Commissioner of Malta"),
    ),
    c(
        "NL",
        "the Netherlands",
        true,
        Some("the Dutch Data Protection Authority (Autoriteit Persoonsgegevens)"),
    ),
    c(
        "PL",
        "Poland",
        true,
        Some(
            "the President of the Polish Personal Data Protection Office (Prezes Urzędu Ochrony Danych Osobowych)",
        ),
    ),
    c(
        "PT",
        "Portugal",
        true,
        Some("the Portuguese National Data Protection Commission (CNPD)"),
    ),
    c(
        "RO",
        "Romania",
        true,
        Some("the Romanian National Supervisory Authority for Personal Data Processing"),
    ),
    c(
        "SK",
        "Slovakia",
        true,
        Some("the Office for Personal Data Protection of the Slovak Republic"),
    ),
    c(
        "SI",
        "Slovenia",
        true,
        Some("the Information Commissioner of the Republic of Slovenia"),
    ),
    c(
        "ES",
        "Spain",
        true,
        Some("the Spanish Data Protection Agency (AEPD)"),
    ),
    c(
        "SE",
        "Sweden",
        true,
        Some("the Swedish Authority for Privacy Protection (IMY)"),
    ),
    c(
        "IS",
        "Iceland",
        false,
        Some("the Icelandic Data Protection Authority (Persónuvernd)"),
    ),
    c(
        "LI",
        "Liechtenstein",
        false,
        Some("the Data Protection Authority of Liechtenstein"),
    ),
    c(
        "NO",
        "Norway",
        false,
        Some("the Norwegian Data Protection Authority (Datatilsynet)"),
    ),
];

/// The EEA country with this ISO code, if it is one.
pub fn eea_country(code: &str) -> Option<&'static Country> {
    EEA.iter().find(|c| c.code == code)
}

/// The EU Member State with this English name ("the Netherlands" or "Netherlands").
pub fn member_state(name: &str) -> Option<&'static Country> {
    let bare = |s: &str| {
        let s = s.trim();
        let lower = s.to_lowercase();
        lower
            .strip_prefix("the ")
            .map(str::to_string)
            .unwrap_or(lower)
    };
    let wanted = bare(name);
    EEA.iter().find(|c| c.eu && bare(c.name) == wanted)
}

/// Whether a customer country code means the United Kingdom.
fn is_uk(code: &str) -> bool {
    code == "GB" || code == "UK"
}

/// The mechanism names a vendor or a provider may state, as written in input files.
pub const SCC: &str = "Standard Contractual Clauses";
/// The EU-U.S. Data Privacy Framework (Commission Implementing Decision (EU) 2023/1795).
pub const DPF: &str = "EU-U.S. Data Privacy Framework";
/// An adequacy decision under Art. 45 GDPR for the country concerned.
pub const ADEQUACY: &str = "adequacy decision";
/// Every mechanism name the input files may use.
pub const MECHANISMS: [&str; 3] = [SCC, DPF, ADEQUACY];

// ---------------------------------------------------------------------------------------
// Facts a DPA cannot do without

/// Why the vendor's facts do not make a complete DPA.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("vendor fact `{}`: {message}", path_text(path))]
pub struct FactError {
    /// The field in `vendor.toml`, e.g. `processing.retention`.
    pub path: Vec<Seg>,
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
}

impl FactError {
    /// The field, written like `processing.retention`.
    pub fn field(&self) -> String {
        path_text(&self.path)
    }
}

fn keys(path: &[&str]) -> Vec<Seg> {
    path.iter().map(|k| Seg::Key((*k).to_string())).collect()
}

fn fact(path: Vec<Seg>, message: impl Into<String>, hint: Option<&str>) -> FactError {
    FactError {
        path,
        message: message.into(),
        hint: hint.map(str::to_string),
    }
}

fn filled(path: Vec<Seg>, value: &str) -> Result<(), FactError> {
    if value.trim().is_empty() {
        Err(fact(path, "must not be empty", None))
    } else {
        Ok(())
    }
}

fn filled_list(path: Vec<Seg>, items: &[String], example: &str) -> Result<(), FactError> {
    if items.is_empty() {
        return Err(fact(
            path,
            "must list at least one item",
            Some(&format!("write e.g. {example}")),
        ));
    }
    for (i, item) in items.iter().enumerate() {
        let mut p = path.clone();
        p.push(Seg::Index(i));
        filled(p, item)?;
    }
    Ok(())
}

/// Checks that the vendor states every fact the DPA prints, and that its transfer choices
/// fit together and fit the annex; returns the facts.
///
/// Text hygiene (control characters, one line) is the loader's job; this checks presence
/// and the rules between fields.
pub fn check_facts<'v>(vendor: &'v Vendor, annex: &Annex) -> Result<&'v Processing, FactError> {
    let Some(p) = &vendor.processing else {
        return Err(fact(
            keys(&["processing"]),
            "missing: the DPA prints the vendor's own description of its processing from the \
             [processing] table of vendor.toml",
            Some(
                "add [processing] with subject_matter, nature, purposes, data_subjects, \
                 personal_data, special_categories, frequency, retention, [processing.contact], \
                 [[processing.measures]] and [processing.transfers]; README.md (What goes in) \
                 describes them",
            ),
        ));
    };
    filled(keys(&["processing", "subject_matter"]), &p.subject_matter)?;
    filled(keys(&["processing", "nature"]), &p.nature)?;
    filled_list(
        keys(&["processing", "purposes"]),
        &p.purposes,
        "purposes = [\"providing the Services to the Controller\"]",
    )?;
    filled_list(
        keys(&["processing", "data_subjects"]),
        &p.data_subjects,
        "data_subjects = [\"the Controller's end users\"]",
    )?;
    filled_list(
        keys(&["processing", "personal_data"]),
        &p.personal_data,
        "personal_data = [\"names and e-mail addresses\"]",
    )?;
    for (i, item) in p.special_categories.iter().enumerate() {
        let mut path = keys(&["processing", "special_categories"]);
        path.push(Seg::Index(i));
        filled(path, item)?;
    }
    match (
        &p.special_categories.is_empty(),
        &p.special_category_safeguards,
    ) {
        (false, None) => {
            return Err(fact(
                keys(&["processing", "special_category_safeguards"]),
                "missing: special_categories lists sensitive data, so the DPA must state the \
                 restrictions and safeguards that apply to it",
                Some("describe them, e.g. \"access limited to named staff; encrypted at rest\""),
            ));
        }
        (true, Some(_)) => {
            return Err(fact(
                keys(&["processing", "special_category_safeguards"]),
                "given, but special_categories is empty",
                Some("list the special categories, or remove the safeguards"),
            ));
        }
        (false, Some(s)) => filled(keys(&["processing", "special_category_safeguards"]), s)?,
        (true, None) => {}
    }
    filled(keys(&["processing", "frequency"]), &p.frequency)?;
    filled(keys(&["processing", "retention"]), &p.retention)?;
    filled(keys(&["processing", "contact", "role"]), &p.contact.role)?;
    filled(keys(&["processing", "contact", "email"]), &p.contact.email)?;
    if let Some(name) = &p.contact.name {
        filled(keys(&["processing", "contact", "name"]), name)?;
    }
    for (table, rep) in [
        ("eu_representative", &p.eu_representative),
        ("uk_representative", &p.uk_representative),
    ] {
        if let Some(rep) = rep {
            filled(keys(&["processing", table, "name"]), &rep.name)?;
            filled(keys(&["processing", table, "address"]), &rep.address)?;
            filled(keys(&["processing", table, "email"]), &rep.email)?;
        }
    }
    if let Some(a) = &p.lead_authority {
        filled(keys(&["processing", "lead_authority"]), a)?;
    }
    if p.measures.is_empty() {
        return Err(fact(
            keys(&["processing", "measures"]),
            "missing: Annex II lists the technical and organisational measures the vendor states",
            Some("add [[processing.measures]] tables, each with `area` and `measure`"),
        ));
    }
    for (i, m) in p.measures.iter().enumerate() {
        let at = |k: &str| {
            let mut path = keys(&["processing", "measures"]);
            path.push(Seg::Index(i));
            path.push(Seg::Key(k.to_string()));
            path
        };
        filled(at("area"), &m.area)?;
        filled(at("measure"), &m.measure)?;
    }
    check_features(p, annex)?;
    check_transfers(&p.transfers)?;
    Ok(p)
}

/// Every feature that enables or disables a provider of the annex must have its words.
fn check_features(p: &Processing, annex: &Annex) -> Result<(), FactError> {
    for (key, words) in &p.features {
        filled(keys(&["processing", "features", key]), words)?;
    }
    let used = annex
        .sections
        .iter()
        .flat_map(|s| &s.entries)
        .filter_map(|e| e.feature.as_deref());
    for key in used {
        if !p.features.contains_key(key) {
            return Err(fact(
                keys(&["processing", "features", key]),
                format!(
                    "missing: the annex {} has providers switched by the feature `{key}`, and \
                     the DPA names that feature in words, never by its key",
                    annex.version
                ),
                Some(&format!(
                    "add under [processing.features] a line like {key} = \"AI Features\""
                )),
            ));
        }
    }
    Ok(())
}

fn check_transfers(t: &Transfers) -> Result<(), FactError> {
    let at = |k: &str| keys(&["processing", "transfers", k]);
    filled(at("location"), &t.location)?;
    for (i, m) in t.mechanism.iter().enumerate() {
        if !MECHANISMS.contains(&m.as_str()) {
            let mut path = at("mechanism");
            path.push(Seg::Index(i));
            return Err(fact(
                path,
                format!("`{m}` is not a transfer mechanism this tool knows"),
                Some(&format!("write one of: {}", MECHANISMS.join(", "))),
            ));
        }
    }
    match (t.outside_eea, t.mechanism.is_empty()) {
        (true, true) => {
            return Err(fact(
                at("mechanism"),
                "missing: the vendor processes outside the EEA, so the DPA must say what covers \
                 that transfer",
                Some(&format!(
                    "write e.g. mechanism = [\"{SCC}\"] (the clauses this DPA incorporates)"
                )),
            ));
        }
        (false, false) => {
            return Err(fact(
                at("mechanism"),
                "given, but outside_eea is false: processing inside the EEA needs no mechanism",
                Some("remove the mechanism, or set outside_eea = true"),
            ));
        }
        _ => {}
    }
    for (field, value) in [
        ("law", &t.law),
        ("fallback_law", &t.fallback_law),
        ("courts", &t.courts),
    ] {
        if let Some(name) = value
            && member_state(name).is_none()
        {
            return Err(fact(
                at(field),
                format!("`{name}` is not a Member State of the European Union"),
                Some(
                    "the Standard Contractual Clauses allow only the law and courts of an EU \
                     Member State; write its English name, e.g. \"the Netherlands\" or \"Ireland\"",
                ),
            ));
        }
    }
    if let Some(body) = &t.redress_body {
        filled(at("redress_body"), body)?;
    }
    if uses_scc(t) && t.law.is_none() && t.fallback_law.is_none() {
        return Err(fact(
            at("fallback_law"),
            "missing: clause 17 of the Standard Contractual Clauses (option 2) needs the \
             Member State whose law applies where the Controller's own does not allow \
             third-party beneficiary rights, or the Controller is outside the EU",
            Some(
                "write e.g. fallback_law = \"the Netherlands\", or choose one law for all with law = \"...\"",
            ),
        ));
    }
    Ok(())
}

fn uses_scc(t: &Transfers) -> bool {
    t.outside_eea && t.mechanism.iter().any(|m| m == SCC)
}

// ---------------------------------------------------------------------------------------
// Which transfer parts apply

/// Which parts on international transfers a customer's DPA has, and their choices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The Parties' Standard Contractual Clauses apply (Module Two, and Module Three where
    /// the Controller is itself a processor).
    pub scc: bool,
    /// A Subprocessor processes outside the EEA: onward-transfer terms apply.
    pub onward: bool,
    /// The vendor states certification under the EU-U.S. Data Privacy Framework.
    pub processor_dpf: bool,
    /// The vendor's own processing outside the EEA relies on an adequacy decision.
    pub processor_adequacy: bool,
    /// The UK part applies.
    pub uk: bool,
    /// The Swiss part applies.
    pub swiss: bool,
    /// The Controller's EEA country, if it is in one.
    pub controller_eea: Option<&'static Country>,
    /// The competent supervisory authority (SCC clause 13, Annex I.C), as printed.
    pub authority: String,
    /// Clause 17: `Some(state)` for option 1 (one law for all), `None` for option 2.
    pub law_option1: Option<&'static Country>,
    /// Clause 17, option 2: the fallback Member State.
    pub fallback_law: Option<&'static Country>,
    /// The Member State whose law governs the Parties' clauses for this Controller.
    pub law: Option<&'static Country>,
    /// The Member State whose courts decide disputes under the clauses (clause 18(b)).
    pub courts: Option<&'static Country>,
}

impl Plan {
    /// Whether any transfer outside the EEA takes place at all.
    pub fn any(&self) -> bool {
        self.scc || self.onward || self.processor_dpf || self.processor_adequacy
    }
}

/// Decides the transfer parts for a vendor's facts and a customer.
pub fn plan(p: &Processing, customer: &Customer) -> Plan {
    let t = &p.transfers;
    let scc = uses_scc(t);
    let onward = t.subprocessors_outside_eea;
    let processor_dpf = t.outside_eea && t.mechanism.iter().any(|m| m == DPF);
    let processor_adequacy = t.outside_eea && t.mechanism.iter().any(|m| m == ADEQUACY);
    let any = t.outside_eea || onward;
    let controller_eea = eea_country(&customer.country);
    let authority = match controller_eea {
        Some(Country {
            authority: Some(a), ..
        }) => (*a).to_string(),
        Some(c) if c.code == "DE" => "the data protection supervisory authority of the German \
             federal state (Land) in which the Controller has its registered office"
            .to_string(),
        Some(c) => format!(
            "the data protection supervisory authority of {} competent for the Controller",
            c.name
        ),
        None => "the supervisory authority of the Member State in which the Controller's \
                 representative under Article 27(1) GDPR is established or, where the Controller \
                 need not appoint one, the supervisory authority of the Member State in which \
                 the data subjects concerned are located"
            .to_string(),
    };
    let law_option1 = t.law.as_deref().and_then(member_state);
    let fallback_law = t.fallback_law.as_deref().and_then(member_state);
    let law = law_option1.or(match controller_eea {
        Some(c) if c.eu => Some(c),
        _ => fallback_law,
    });
    let courts = t.courts.as_deref().and_then(member_state).or(law);
    Plan {
        scc,
        onward,
        processor_dpf,
        processor_adequacy,
        uk: any && (is_uk(&customer.country) || t.always_uk),
        swiss: any && (customer.country == "CH" || t.always_swiss),
        controller_eea,
        authority,
        law_option1,
        fallback_law,
        law,
        courts,
    }
}

// ---------------------------------------------------------------------------------------
// Specimens

/// The ids of the signing keys committed to this repository for demonstrations
/// (fixtures/keys/demo-only.key, as `minisign` and `dpa` print them). Their secret halves
/// are public, so a signature made with one proves nothing about who signed.
pub const DEMO_KEY_IDS: [&str; 1] = ["4A988A749CF5D816"];

/// The mark drawn on every page of a specimen.
pub const SPECIMEN_MARK: &str = "SPECIMEN \u{2013} not binding";

/// Whether a key id (as printed, any case) is one of the public demo keys.
pub fn is_demo_key(key_id: &str) -> bool {
    let id = key_id.trim().trim_start_matches('0');
    DEMO_KEY_IDS.iter().any(|d| d.eq_ignore_ascii_case(id))
}

/// Why a document is a specimen, if it is one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Specimen {
    /// The input fields whose values are placeholders (see [`placeholders`]).
    pub fields: Vec<String>,
    /// It is signed with one of the [`DEMO_KEY_IDS`].
    pub demo_key: bool,
}

impl Specimen {
    /// Finds the reasons for one customer's document signed with `key_id`.
    pub fn of(vendor: &Vendor, annex: &Annex, customer: &Customer, key_id: &str) -> Specimen {
        Specimen {
            fields: placeholders(vendor, annex, customer),
            demo_key: is_demo_key(key_id),
        }
    }

    /// Whether the document is a specimen at all.
    pub fn any(&self) -> bool {
        self.demo_key || !self.fields.is_empty()
    }
}

/// The input fields whose values are placeholders, e.g. `vendor.address`.
///
/// A value is a placeholder when it contains the word "placeholder" (any case, also inside
/// a word such as "Placeholderstrasse") or names a domain reserved for examples and tests
/// (RFC 2606 and RFC 6761: `.example`, `.test`, `.invalid`, `.localhost`, `example.com`,
/// `example.net`, `example.org`). A document built from such inputs is a specimen.
pub fn placeholders(vendor: &Vendor, annex: &Annex, customer: &Customer) -> Vec<String> {
    let mut found = Vec::new();
    find_placeholders("vendor", vendor, &mut found);
    find_placeholders("annex", annex, &mut found);
    find_placeholders("customer", customer, &mut found);
    found
}

/// Adds the paths of the placeholder strings of one input, named `root`, to `found`.
fn find_placeholders(root: &str, input: &impl serde::Serialize, found: &mut Vec<String>) {
    if let Ok(value) = serde_json::to_value(input) {
        let mut path = root.to_string();
        walk(&value, &mut path, found);
    }
}

/// Adds the paths of the placeholder strings under `value`; `path` is its own path, one
/// buffer extended and cut back on the way (a path is copied only when it is found).
fn walk(value: &Value, path: &mut String, found: &mut Vec<String>) {
    use std::fmt::Write;
    let len = path.len();
    match value {
        Value::String(s) if is_placeholder(s) => found.push(path.clone()),
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let _ = write!(path, "[{}]", i + 1);
                walk(v, path, found);
                path.truncate(len);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                path.push('.');
                path.push_str(k);
                walk(v, path, found);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// Whether a text is, or contains, a placeholder value.
pub fn is_placeholder(text: &str) -> bool {
    // Most values are ASCII without an address in them: for those the answer needs no
    // lowercased copy (an address needs "@" or "://", whatever its case).
    if text.is_ascii() && !text.contains('@') && !text.contains("://") {
        return text
            .as_bytes()
            .windows(b"placeholder".len())
            .any(|w| w.eq_ignore_ascii_case(b"placeholder"));
    }
    let lower = text.to_lowercase();
    if lower.contains("placeholder") {
        return true;
    }
    lower
        .split(|c: char| c.is_whitespace() || "<>()\"',;".contains(c))
        .filter_map(domain_of)
        .any(|d| is_reserved_domain(&d))
}

/// The domain of an e-mail address or web address.
fn domain_of(word: &str) -> Option<String> {
    let host = if let Some(rest) = word
        .strip_prefix("https://")
        .or_else(|| word.strip_prefix("http://"))
    {
        rest.split(['/', '?', '#', ':']).next()?
    } else {
        word.rsplit_once('@')?.1
    };
    let host = host.trim_end_matches('.');
    (!host.is_empty()).then(|| host.to_string())
}

fn is_reserved_domain(host: &str) -> bool {
    let tld = host.rsplit('.').next().unwrap_or(host);
    matches!(tld, "example" | "test" | "invalid" | "localhost")
        || ["example.com", "example.net", "example.org"]
            .iter()
            .any(|d| host == *d || host.ends_with(&format!(".{d}")))
}

// ---------------------------------------------------------------------------------------
// Template context

/// The words for who may end the UK Addendum.
fn uk_ending_text(e: UkEnding) -> &'static str {
    match e {
        UkEnding::Neither => "neither Party",
        UkEnding::Importer => "the Importer (the Processor)",
        UkEnding::Exporter => "the Exporter (the Controller)",
        UkEnding::Both => "either Party",
    }
}

fn country_name(c: Option<&Country>) -> Value {
    c.map_or(Value::Null, |c| json!(c.name))
}

/// The template fields this module adds to the context of `template::context`:
/// `processing`, `transfers`, `issue`, `specimen` and `published`; the template's header
/// comment describes each.
pub fn context(
    vendor: &Vendor,
    annex: &Annex,
    customer: &Customer,
    signing: &SigningInfo,
) -> Map<String, Value> {
    let shared = Shared::new(vendor, annex);
    let specimen = shared.specimen(customer, &signing.key_id);
    let published = published(vendor, annex, &customer.features);
    shared.context(vendor, annex, customer, signing, &specimen, published)
}

/// What this module's context and specimen check take from the vendor and annex alone,
/// worked out once for all the customers of a run.
///
/// Its methods must be given the vendor and annex it was made from.
#[derive(Debug, Clone)]
pub struct Shared {
    /// The `processing` field (null when the vendor states no facts).
    processing: Value,
    /// The vendor's and the annex's placeholder fields, in the order [`placeholders`]
    /// lists them (before the customer's).
    placeholders: Vec<String>,
}

impl Shared {
    /// Works out the customer-independent parts for a vendor and annex.
    pub fn new(vendor: &Vendor, annex: &Annex) -> Shared {
        let mut placeholders = Vec::new();
        find_placeholders("vendor", vendor, &mut placeholders);
        find_placeholders("annex", annex, &mut placeholders);
        Shared {
            processing: vendor
                .processing
                .as_ref()
                .map_or(Value::Null, processing_context),
            placeholders,
        }
    }

    /// The same as [`Specimen::of`], walking only the customer's values.
    pub fn specimen(&self, customer: &Customer, key_id: &str) -> Specimen {
        let mut fields = self.placeholders.clone();
        find_placeholders("customer", customer, &mut fields);
        Specimen {
            fields,
            demo_key: is_demo_key(key_id),
        }
    }

    /// The fields of [`context`], given the customer's specimen reasons (from
    /// [`Shared::specimen`]) and published list (from [`published`]).
    pub fn context(
        &self,
        vendor: &Vendor,
        annex: &Annex,
        customer: &Customer,
        signing: &SigningInfo,
        specimen: &Specimen,
        published: Value,
    ) -> Map<String, Value> {
        let mut out = Map::new();
        out.insert("processing".into(), self.processing.clone());
        out.insert(
            "transfers".into(),
            vendor.processing.as_ref().map_or(Value::Null, |p| {
                transfers_context(p, vendor, annex, customer)
            }),
        );
        out.insert("issue".into(), issue_context(annex, customer, signing));
        out.insert(
            "specimen".into(),
            json!({
                "any": specimen.any(),
                "placeholders": !specimen.fields.is_empty(),
                "demo_key": specimen.demo_key,
                "fields": specimen.fields,
            }),
        );
        out.insert("published".into(), published);
        out
    }
}

/// The `published` field for a customer who enabled `features`: it depends on nothing
/// else of the customer, so a run can reuse it between customers with the same features.
pub fn published(vendor: &Vendor, annex: &Annex, features: &[String]) -> Value {
    published_context(
        annex,
        features,
        vendor.processing.as_ref().map(|p| &p.features),
    )
}

fn processing_context(p: &Processing) -> Value {
    let rep = |r: &Option<crate::model::Representative>| {
        r.as_ref().map_or(
            Value::Null,
            |r| json!({ "name": r.name, "address": one_line(&r.address), "email": r.email }),
        )
    };
    json!({
        "subject_matter": p.subject_matter,
        "nature": p.nature,
        "purposes": p.purposes,
        "data_subjects": p.data_subjects,
        "personal_data": p.personal_data,
        "special_categories": p.special_categories,
        "special_category_safeguards": p.special_category_safeguards,
        "frequency": p.frequency,
        "retention": p.retention,
        "contact": {
            "role": p.contact.role,
            "name": p.contact.name,
            "email": p.contact.email,
            "dpo": p.contact.dpo,
        },
        "eu_representative": rep(&p.eu_representative),
        "uk_representative": rep(&p.uk_representative),
        "lead_authority": p.lead_authority,
        "measures": p.measures.iter().map(|m| json!({ "area": m.area, "measure": m.measure })).collect::<Vec<_>>(),
        "location": p.transfers.location,
        "outside_eea": p.transfers.outside_eea,
    })
}

fn transfers_context(p: &Processing, vendor: &Vendor, annex: &Annex, customer: &Customer) -> Value {
    let plan = plan(p, customer);
    let t = &p.transfers;
    // Providers of Subprocessor sections that state certification under the Data Privacy
    // Framework, for the sentence that names them.
    let dpf_providers: Vec<&str> = annex
        .sections
        .iter()
        .filter(|s| s.subprocessors)
        .flat_map(|s| &s.entries)
        .filter(|e| {
            e.transfer_mechanism
                .iter()
                .any(|m| m == crate::model::transfer::EU_US_DPF)
        })
        .map(|e| e.name.as_str())
        .collect();
    json!({
        "any": plan.any(),
        "none": !plan.any(),
        "scc": plan.scc,
        "onward": plan.onward,
        // Whether the Standard Contractual Clauses are named at all (between the Parties or
        // with Subprocessors), and whether Annex IV (terms between the Parties) is needed.
        "mentions_scc": plan.scc || plan.onward,
        "annex": plan.scc || plan.uk || plan.swiss,
        "uk": plan.uk,
        "swiss": plan.swiss,
        "processor_outside_eea": t.outside_eea,
        "processor_dpf": plan.processor_dpf,
        "processor_adequacy": plan.processor_adequacy,
        "dpf_providers": dpf_providers,
        "docking": t.docking,
        "notice_days": vendor.notice_days,
        "redress_body": t.redress_body,
        "law_option": if plan.law_option1.is_some() { 1 } else { 2 },
        "law_option1": country_name(plan.law_option1),
        "fallback_law": country_name(plan.fallback_law),
        "law": country_name(plan.law),
        "courts": country_name(plan.courts),
        "authority": plan.authority,
        "controller_in_eea": plan.controller_eea.is_some(),
        "controller_in_eu": plan.controller_eea.is_some_and(|c| c.eu),
        "controller_country": country_name(plan.controller_eea),
        "uk_ending": uk_ending_text(t.uk_addendum_ending),
    })
}

/// Whether a customer's DPA with this annex is a consolidated version: the list took
/// effect after the agreement did, so this copy restates the agreement with a later list.
pub fn is_consolidated(annex: &Annex, customer: &Customer) -> bool {
    annex.effective > customer.effective
}

/// Dates: the agreement's, the issue's, and whether this copy is a consolidated version.
fn issue_context(annex: &Annex, customer: &Customer, signing: &SigningInfo) -> Value {
    let text = |d: NaiveDate| long_date(d);
    // The list took effect after the agreement: this copy restates the agreement with a
    // later list, which the Controller cannot have authorised on the agreement's date.
    let consolidated = is_consolidated(annex, customer);
    json!({
        "consolidated": consolidated,
        "updated_text": consolidated.then(|| text(annex.effective)),
        // The change notice is known to the issuing layer only (a batch with --previous).
        "notice_date_text": Value::Null,
        "issued_on_effective_date": signing.issued == customer.effective,
    })
}

/// Every provider of the published list, each marked with whether it is used for this
/// Controller, so that Annex III prints exactly the list the fingerprint covers.
fn published_context(
    annex: &Annex,
    enabled: &[String],
    features: Option<&BTreeMap<String, String>>,
) -> Value {
    let mut has_opt_in = false;
    let mut has_unused = false;
    let mut has_opt_out = false;
    let sections: Vec<Value> = annex
        .sections
        .iter()
        .map(|s| {
            let entries: Vec<Value> = s
                .entries
                .iter()
                .map(|e| {
                    let used = e.applies_to(enabled);
                    has_opt_in |= e.activation == Activation::OptIn;
                    has_unused |= !used;
                    has_opt_out |= e.activation == Activation::OptOut;
                    let words = e
                        .feature
                        .as_ref()
                        .and_then(|f| features.and_then(|m| m.get(f)));
                    let mut entry = crate::template::entry(e);
                    if let Some(map) = entry.as_object_mut() {
                        map.insert("feature_words".into(), json!(words));
                        map.insert("used".into(), json!(used));
                    }
                    entry
                })
                .collect();
            let any = |keys: &[&str]| entries.iter().any(|e| keys.iter().any(|k| present(e, k)));
            json!({
                "title": s.title,
                "description": s.description,
                "subprocessors": s.subprocessors,
                "has_certifications": any(&["certifications"]),
                "has_websites": any(&["website"]),
                // Remarks print under "Details", as in the per-customer annex.
                "has_details": any(&["legal_address", "has_access", "no_access", "remarks"]),
                "has_transfers": any(&["transfer_mechanism"]),
                "entries": entries,
            })
        })
        .collect();
    let has_certifications = sections.iter().any(|s| s["has_certifications"] == true);
    json!({
        "sections": sections,
        "has_opt_in": has_opt_in,
        "has_unused": has_unused,
        "has_opt_out": has_opt_out,
        "has_certifications": has_certifications,
    })
}

/// Whether an entry's field holds something to print (not null, not an empty list).
fn present(entry: &Value, key: &str) -> bool {
    match &entry[key] {
        Value::Null => false,
        Value::Array(a) => !a.is_empty(),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn customer(country: &str) -> Customer {
        toml::from_str(&format!(
            "id = 'c'\nlegal_name = 'C'\naddress = 'A'\ncountry = '{country}'\n\
             email = 'c@c.example'\neffective = 2026-06-01\n[signatory]\nname = 'N'\ntitle = 'T'\n"
        ))
        .unwrap()
    }

    fn vendor(processing: &str) -> Vendor {
        toml::from_str(&format!(
            "legal_name = 'V'\naddress = 'A'\nemail = 'p@v.example'\nwebsite = 'https://v.example'\n\
             notice_days = 30\n[signatory]\nname = 'N'\ntitle = 'T'\n{processing}"
        ))
        .unwrap()
    }

    const FACTS: &str = r#"
[processing]
subject_matter = "Hosting"
nature = "Storage"
purposes = ["providing the Services"]
data_subjects = ["end users"]
personal_data = ["names"]
special_categories = []
frequency = "Continuous"
retention = "Term of the agreement"
features = { ai = "AI Features" }
[processing.contact]
role = "Privacy team"
email = "privacy@v.example"
[[processing.measures]]
area = "Access"
measure = "Need to know"
[processing.transfers]
location = "United States"
outside_eea = true
mechanism = ["Standard Contractual Clauses"]
subprocessors_outside_eea = true
fallback_law = "Netherlands"
"#;

    fn annex() -> Annex {
        toml::from_str(
            "vendor = 'V'\nversion = '1'\neffective = 2026-05-26\n[[section]]\ntitle = 'S'\n\
             [[section.entry]]\nname = 'Host'\nfunction = 'Hosting'\nlocation = 'US'\n\
             [[section.entry]]\nname = 'Model'\nfunction = 'AI'\nlocation = 'US'\n\
             activation = 'opt-in'\nfeature = 'ai'\n",
        )
        .unwrap()
    }

    #[test]
    fn complete_facts_pass_and_each_missing_one_is_named() {
        let v = vendor(FACTS);
        assert!(check_facts(&v, &annex()).is_ok());

        let none = vendor("");
        let e = check_facts(&none, &annex()).unwrap_err();
        assert_eq!(e.field(), "processing");
        assert!(
            e.to_string()
                .starts_with("vendor fact `processing`: missing"),
            "{e}"
        );

        let cases = [
            (
                "retention = \"Term of the agreement\"",
                "retention = \" \"",
                "processing.retention",
            ),
            (
                "purposes = [\"providing the Services\"]",
                "purposes = []",
                "processing.purposes",
            ),
            (
                "personal_data = [\"names\"]",
                "personal_data = [\"names\", \"\"]",
                "processing.personal_data[2]",
            ),
            (
                "special_categories = []",
                "special_categories = [\"health data\"]",
                "processing.special_category_safeguards",
            ),
            (
                "features = { ai = \"AI Features\" }",
                "features = { }",
                "processing.features.ai",
            ),
            (
                "fallback_law = \"Netherlands\"",
                "",
                "processing.transfers.fallback_law",
            ),
            (
                "fallback_law = \"Netherlands\"",
                "fallback_law = \"Switzerland\"",
                "processing.transfers.fallback_law",
            ),
            (
                "mechanism = [\"Standard Contractual Clauses\"]",
                "mechanism = []",
                "processing.transfers.mechanism",
            ),
            (
                "mechanism = [\"Standard Contractual Clauses\"]",
                "mechanism = [\"SCCs\"]",
                "processing.transfers.mechanism[1]",
            ),
            (
                "outside_eea = true",
                "outside_eea = false",
                "processing.transfers.mechanism",
            ),
        ];
        let mut no_measures = vendor(FACTS);
        if let Some(p) = &mut no_measures.processing {
            p.measures.clear();
        }
        let e = check_facts(&no_measures, &annex()).unwrap_err();
        assert_eq!(e.field(), "processing.measures");
        for (from, to, field) in cases {
            assert!(FACTS.contains(from), "{from}");
            let v = vendor(&FACTS.replace(from, to));
            let e = check_facts(&v, &annex()).unwrap_err();
            assert_eq!(e.field(), field, "{to}: {e}");
        }
    }

    #[test]
    fn transfer_parts_follow_vendor_and_customer() {
        let v = vendor(FACTS);
        let p = v.processing.as_ref().unwrap();
        let de = plan(p, &customer("DE"));
        assert!(de.scc && de.onward && !de.uk && !de.swiss);
        assert_eq!(de.law.unwrap().name, "Germany");
        assert_eq!(de.courts.unwrap().name, "Germany");
        assert!(de.authority.contains("German federal state"));
        let at = plan(p, &customer("AT"));
        assert!(at.authority.contains("Datenschutzbehörde"));
        let us = plan(p, &customer("US"));
        assert_eq!(us.law.unwrap().name, "the Netherlands");
        assert!(us.authority.contains("Article 27(1)"));
        let no = plan(p, &customer("NO"));
        assert_eq!(
            no.law.unwrap().name,
            "the Netherlands",
            "Norway is not an EU state"
        );
        assert!(plan(p, &customer("GB")).uk && plan(p, &customer("UK")).uk);
        assert!(plan(p, &customer("CH")).swiss);

        let eea_only = vendor(
            &FACTS
                .replace("outside_eea = true", "outside_eea = false")
                .replace("mechanism = [\"Standard Contractual Clauses\"]", "")
                .replace(
                    "subprocessors_outside_eea = true",
                    "subprocessors_outside_eea = false",
                ),
        );
        let p = eea_only.processing.as_ref().unwrap();
        assert!(check_facts(&eea_only, &annex()).is_ok());
        for country in ["DE", "GB", "CH", "US"] {
            let plan = plan(p, &customer(country));
            assert!(!plan.any() && !plan.uk && !plan.swiss, "{country}");
        }

        let chosen = vendor(&FACTS.replace("fallback_law", "law"));
        let p = chosen.processing.as_ref().unwrap();
        let de = plan(p, &customer("DE"));
        assert_eq!(
            de.law.unwrap().name,
            "the Netherlands",
            "option 1 is one law for all"
        );
    }

    #[test]
    fn placeholders_are_found_by_word_and_reserved_domain() {
        for text in [
            "1 Placeholder Avenue",
            "Placeholderstrasse 3",
            "privacy@caplena.example",
            "https://caplena.example/dpa",
            "x@mail.example.com",
            "PLACEHOLDER: not published",
            "HTTPS://Caplena.EXAMPLE/dpa",
            "Königstraße 1 (Placeholder)",
            "a placeholder",
        ] {
            assert!(is_placeholder(text), "{text}");
        }
        for text in [
            "privacy@segmetrics.io",
            "https://segmetrics.io",
            "Example GmbH",
            "examples of use",
            "user@exampled.com",
            "Königstraße 1",
            "placehold er",
            "",
        ] {
            assert!(!is_placeholder(text), "{text}");
        }
        let v = vendor(FACTS);
        let found = placeholders(&v, &annex(), &customer("DE"));
        assert!(found.contains(&"vendor.email".to_string()), "{found:?}");
        assert!(found.contains(&"customer.email".to_string()), "{found:?}");
        assert!(found.contains(&"vendor.processing.contact.email".to_string()));
    }

    #[test]
    fn every_provider_is_published_with_its_use_for_the_controller() {
        let v = vendor(FACTS);
        let sign = SigningInfo {
            key_id: "K".into(),
            issued: NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
            verify_hint: "h".into(),
        };
        let ctx = context(&v, &annex(), &customer("DE"), &sign);
        let entries = &ctx["published"]["sections"][0]["entries"];
        assert_eq!(entries[1]["name"], "Model");
        assert_eq!(entries[1]["used"], false);
        assert_eq!(entries[1]["feature_words"], "AI Features");
        assert_eq!(ctx["published"]["has_unused"], true);
        assert_eq!(ctx["issue"]["consolidated"], false);
        let mut later = annex();
        later.effective = NaiveDate::from_ymd_opt(2026, 7, 15).unwrap();
        let ctx = context(&v, &later, &customer("DE"), &sign);
        assert_eq!(ctx["issue"]["consolidated"], true);
        assert_eq!(ctx["issue"]["updated_text"], "15 July 2026");
    }

    #[test]
    fn the_country_table_is_the_eea() {
        assert_eq!(EEA.iter().filter(|c| c.eu).count(), 27);
        let mut codes: Vec<&str> = EEA.iter().map(|c| c.code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), 30);
        assert_eq!(member_state("netherlands").unwrap().code, "NL");
        assert_eq!(member_state("The Netherlands").unwrap().code, "NL");
        assert!(member_state("Norway").is_none(), "EEA, not EU");
    }
}
