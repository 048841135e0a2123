//! Opt-in and opt-out remarks, feature names, duplicate names and section kinds.

use super::inline::inline;
use super::page::{Block, Page};
use super::{Found, FoundEntry, Warning};
use crate::annex::diff::name_key;
use crate::model::{Activation, Entry};

/// The activation a remark states, if any.
pub(super) fn activation_in(text: &str) -> Option<Activation> {
    let t = text.to_lowercase();
    let opt_in = ["opt-in", "opt in", "opted in", "opt into", "opted-in"]
        .iter()
        .any(|p| has_phrase(&t, p))
        || only_when_enabled(&t);
    let opt_out = ["opt-out", "opt out", "opted out", "opted-out"]
        .iter()
        .any(|p| has_phrase(&t, p));
    match (opt_in, opt_out) {
        (true, _) => Some(Activation::OptIn),
        (false, true) => Some(Activation::OptOut),
        _ => None,
    }
}

/// Whether `phrase` occurs in `t` starting at a word boundary ("adopt in" is not "opt in").
pub(super) fn has_phrase(t: &str, phrase: &str) -> bool {
    t.match_indices(phrase).any(|(i, _)| {
        !t[..i]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric())
            && !t[i + phrase.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_alphanumeric())
    })
}

/// "only when explicitly selected", "activated only if a customer enables ...".
pub(super) fn only_when_enabled(t: &str) -> bool {
    ["only when", "only if", "only after"].iter().any(|p| {
        t.match_indices(p).any(|(i, _)| {
            let tail: String = t[i + p.len()..]
                .chars()
                .take_while(|&c| !matches!(c, '.' | ';' | ')'))
                .take(80)
                .collect();
            [
                "enabl", "activat", "select", "choos", "chose", "turn", "switch", "explicit",
            ]
            .iter()
            .any(|w| tail.contains(w))
        })
    })
}

pub(super) fn set_activation(e: &mut Entry, text: &str, line: usize, warnings: &mut Vec<Warning>) {
    let lower = text.to_lowercase();
    let both = ["opt-in", "opt in"].iter().any(|p| has_phrase(&lower, p))
        && ["opt-out", "opt out"].iter().any(|p| has_phrase(&lower, p));
    if let Some(a) = activation_in(text) {
        e.activation = a;
        if both {
            warnings.push(Warning {
                line,
                message: format!(
                    "{} is described as both opt-in and opt-out; imported as opt-in",
                    e.name
                ),
            });
        }
    }
}

/// Applies "others are opt-in (e.g. X)" remarks in the page's prose to the providers they name.
pub(super) fn apply_mentions(page: &Page, found: &mut Found, warnings: &mut Vec<Warning>) {
    let mut provider_lines: Vec<usize> = Vec::new();
    for s in &found.sections {
        provider_lines.extend(s.entries.iter().map(|e| e.line));
    }
    for b in &page.blocks {
        let Block::Text { line, raw, .. } = b else {
            continue;
        };
        let text = inline(raw).0;
        // ASCII lowercasing keeps byte offsets, so positions in `lower` slice `text` too.
        let lower = text.to_ascii_lowercase();
        for (marker, activation) in [
            ("opt-in", Activation::OptIn),
            ("opt-out", Activation::OptOut),
        ] {
            for (i, _) in lower.match_indices(marker) {
                let after = lower[i + marker.len()..].trim_start();
                let Some(rest) = after
                    .strip_prefix("(e.g.")
                    .or_else(|| after.strip_prefix("(eg"))
                else {
                    continue;
                };
                let offset = text.len() - rest.len();
                let names_end = text[offset..].find(')').map_or(text.len(), |p| offset + p);
                for name in text[offset..names_end]
                    .split([',', '/'])
                    .flat_map(|n| n.split(" and "))
                {
                    let name = name.trim().trim_end_matches('.');
                    if name.is_empty() {
                        continue;
                    }
                    let hit = found
                        .sections
                        .iter_mut()
                        .flat_map(|s| s.entries.iter_mut())
                        .find(|e| e.entry.name.to_lowercase() == name.to_lowercase());
                    match hit {
                        // The page gave this provider's activation in a field of its own.
                        Some(e) if e.explicit_activation => {}
                        Some(e) if e.entry.activation == Activation::Always => {
                            e.entry.activation = activation;
                            e.remarks.push(' ');
                            e.remarks.push_str(&text);
                            warnings.push(Warning {
                                line: *line,
                                message: format!(
                                    "{} marked {} because this line names it as an example",
                                    e.entry.name,
                                    activation.as_str()
                                ),
                            });
                        }
                        Some(e) if e.entry.activation != activation => warnings.push(Warning {
                            line: *line,
                            message: format!(
                                "this line calls {} {}, its own entry says {}; the entry's word was kept",
                                e.entry.name,
                                activation.as_str(),
                                e.entry.activation.as_str()
                            ),
                        }),
                        Some(_) => {}
                        None => warnings.push(Warning {
                            line: *line,
                            message: format!(
                                "names \"{name}\" as {}, but the page lists no provider of that name",
                                activation.as_str()
                            ),
                        }),
                    }
                }
            }
        }
    }
}

/// Gives every opt-in entry a feature: "ai" for AI services, else a slug of its name.
pub(super) fn assign_features(found: &mut Found, warnings: &mut Vec<Warning>) {
    for e in found.sections.iter_mut().flat_map(|s| s.entries.iter_mut()) {
        if e.entry.activation != Activation::OptIn || e.entry.feature.is_some() {
            continue;
        }
        let text = format!("{} {}", e.entry.name, e.remarks);
        if mentions_ai(&text) {
            e.entry.feature = Some("ai".into());
            warnings.push(Warning {
                line: e.line,
                message: format!(
                    "{} is opt-in for an AI feature: feature = \"ai\"; check customers enable it under that name",
                    e.entry.name
                ),
            });
        } else {
            let slug = slug(&e.entry.name);
            warnings.push(Warning {
                line: e.line,
                message: format!(
                    "{} is opt-in but the page names no feature: feature = \"{slug}\" (from its name); rename it to the feature customers enable",
                    e.entry.name
                ),
            });
            e.entry.feature = Some(slug);
        }
    }
}

pub(super) fn mentions_ai(text: &str) -> bool {
    let lower = text.to_lowercase();
    let word = |w: &str| {
        text.match_indices(w).any(|(i, _)| {
            !text[..i]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric())
                && !text[i + w.len()..]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_alphanumeric())
        })
    };
    word("AI")
        || word("LLM")
        || word("GPT")
        || lower.contains("artificial intelligence")
        || lower.contains("machine learning")
        || lower.contains("language model")
}

/// A lowercase ASCII slug: "Customer.io" -> "customer-io".
pub(super) fn slug(name: &str) -> String {
    crate::output::slug(name, "feature")
}

pub(super) fn warn_duplicates(found: &Found, warnings: &mut Vec<Warning>) {
    let all: Vec<&FoundEntry> = found
        .sections
        .iter()
        .flat_map(|s| s.entries.iter())
        .collect();
    for (i, e) in all.iter().enumerate() {
        if let Some(first) = all[..i]
            .iter()
            .find(|f| name_key(&f.entry.name) == name_key(&e.entry.name))
        {
            warnings.push(Warning {
                line: e.line,
                message: format!(
                    "{} is listed again (first at line {}); diffs match providers by name, so give each a distinct name",
                    e.entry.name, first.line
                ),
            });
        }
    }
}

/// What a section's providers do with data, as its words say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SectionKind {
    /// Subprocessors: they may process customer personal data.
    Customer,
    /// Providers that see account-holder data only (`subprocessors = false`).
    AccountOnly,
    /// Subprocessors used only for features a customer switches on (entries opt-in).
    Optional,
}

/// What a section holds, judged from its words; `None` when they do not say.
///
/// A sentence that denies access ("never see customer data", "without access to PII")
/// counts for account data only, not for customer data.
pub(super) fn section_kind(text: &str) -> Option<SectionKind> {
    let t = text.to_lowercase();
    const ACCOUNT: [&str; 20] = [
        "account holder",
        "account-holder",
        "account data",
        "account administration",
        "administration only",
        "account information only",
        "account management only",
        "business contact data",
        "without access to pii",
        "without access to personal data",
        "without access to customer",
        "no access to pii",
        "no access to personal data",
        "no access to customer",
        "never see customer",
        "never access customer",
        "never process customer",
        "do not process customer",
        "does not process customer",
        "not subprocessors",
    ];
    const OPTIONAL: [&str; 9] = [
        "optional",
        "opt-in",
        "opt in",
        "only if you enable",
        "only when you enable",
        "if you enable",
        "when you enable",
        "only if a customer enables",
        "only when a customer enables",
    ];
    const CUSTOMER: [&str; 12] = [
        "customer data",
        "customer personal data",
        "customer content",
        "personal data",
        "pii",
        "subprocessor",
        "sub-processor",
        "customer information",
        "user data",
        "your data",
        "data you upload",
        "process data",
    ];
    let account = ACCOUNT.iter().any(|p| t.contains(p));
    let optional = OPTIONAL.iter().any(|p| has_phrase(&t, p));
    // Customer data counts only in a sentence that does not deny it.
    let customer = t.split(['.', ';', '\n']).any(|sentence| {
        let denied = sentence
            .split(|c: char| !c.is_alphanumeric() && c != '\'')
            .any(|w| {
                matches!(
                    w,
                    "never" | "not" | "no" | "without" | "don't" | "doesn't" | "cannot" | "nor"
                )
            });
        // Words may take endings ("subprocessors"), but "pii" is a word of its own.
        !denied
            && CUSTOMER.iter().any(|p| {
                if *p == "pii" {
                    has_phrase(sentence, p)
                } else {
                    sentence.contains(p)
                }
            })
    });
    match (account, optional, customer) {
        (true, _, false) => Some(SectionKind::AccountOnly),
        (false, true, _) => Some(SectionKind::Optional),
        (false, false, true) => Some(SectionKind::Customer),
        _ => None,
    }
}

/// Where an item of a certifications column belongs: a certification or attestation, a
/// transfer safeguard written there ("EU-U.S. DPF"), or a remark ("GDPR-compliant DPA",
/// "API data is not used for model training"), which are neither.
pub(super) fn certification_kind(item: &str) -> super::Field {
    use super::Field;
    if crate::model::transfer::known(item).is_some() {
        return Field::TransferMechanism;
    }
    let t = item.to_lowercase();
    const SCHEMES: [&str; 22] = [
        "soc 1",
        "soc 2",
        "soc 3",
        "soc1",
        "soc2",
        "soc3",
        "iso",
        "pci",
        "hipaa",
        "hitrust",
        "fedramp",
        "csa star",
        "c5",
        "tisax",
        "cyber essentials",
        "isae",
        "ssae",
        "irap",
        "hds",
        "nist",
        "bsi",
        "ens",
    ];
    if SCHEMES.iter().any(|s| has_phrase(&t, s)) {
        return Field::Certifications;
    }
    let remark_words = [
        "dpa",
        "gdpr",
        "compliant",
        "not",
        "no",
        "never",
        "used",
        "training",
        "agreement",
        "contract",
        "policy",
        "signed",
        "available",
        "request",
    ];
    let words: Vec<&str> = t
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    if words.len() > 4 || words.iter().any(|w| remark_words.contains(w)) {
        Field::Remarks
    } else {
        Field::Certifications
    }
}

pub(super) fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max.saturating_sub(1)).collect();
        format!("{}\u{2026}", cut.trim_end())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opt_in_and_opt_out_wording() {
        for (text, expect) in [
            (
                "AI Insights (opt-in; activated only when a Customer enables AI)",
                Some(Activation::OptIn),
            ),
            (
                "Translation, only when explicitly selected",
                Some(Activation::OptIn),
            ),
            (
                "Used only if the customer turns it on",
                Some(Activation::OptIn),
            ),
            (
                "You can opt out in your account page.",
                Some(Activation::OptOut),
            ),
            (
                "Support (incidental processing only \u{2014} applies when a Customer writes)",
                None,
            ),
            ("We adopt industry practice", None),
            ("Only loaded on public pages", None),
        ] {
            assert_eq!(activation_in(text), expect, "{text}");
        }
    }

    #[test]
    fn phrases_need_word_boundaries() {
        assert!(has_phrase("please opt in here", "opt in"));
        assert!(!has_phrase("we adopt in full", "opt in"));
        assert!(!has_phrase("optin", "opt in"));
    }

    #[test]
    fn features_from_ai_words_or_the_name() {
        assert!(mentions_ai("AI Insights feature"));
        assert!(mentions_ai("summaries with a large language model"));
        assert!(!mentions_ai("Email and CRM tool for sales chains"));
        assert_eq!(slug("Customer.io"), "customer-io");
        assert_eq!(slug("DeepL SE "), "deepl-se");
        assert_eq!(slug("\u{2014}"), "feature");
    }

    #[test]
    fn section_meaning_from_its_words() {
        use SectionKind::*;
        for (text, kind) in [
            (
                "B. Service providers that process SegMetrics account holder data only",
                Some(AccountOnly),
            ),
            ("Service without access to PII", Some(AccountOnly)),
            ("Service with (partial) access to PII", Some(Customer)),
            (
                "Subprocessors that may process Customer Personal Data",
                Some(Customer),
            ),
            (
                "Account administration only. These vendors never see customer data.",
                Some(AccountOnly),
            ),
            ("Optional AI features", Some(Optional)),
            ("Hosting", None),
            (
                "Providers. They process personal data. They never see customer data.",
                None,
            ),
        ] {
            assert_eq!(section_kind(text), kind, "{text}");
        }
    }

    #[test]
    fn certifications_remarks_and_safeguards_told_apart() {
        use super::super::Field;
        for (item, kind) in [
            ("SOC 2 Type II", Field::Certifications),
            ("ISO/IEC 27001:2022", Field::Certifications),
            ("PCI DSS compliant", Field::Certifications),
            ("TRUSTe Privacy Seal", Field::Certifications),
            ("GDPR-compliant DPA", Field::Remarks),
            ("API data is not used for model training", Field::Remarks),
            ("EU-U.S. DPF", Field::TransferMechanism),
        ] {
            assert_eq!(certification_kind(item), kind, "{item}");
        }
    }
}
