//! Which annex field a table column or a "Label:" line holds, and reading such lines.

use super::inline::inline;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
    Name,
    Function,
    Location,
    Certifications,
    Website,
    LegalAddress,
    HasAccess,
    NoAccess,
    TransferMechanism,
    Remarks,
    Activation,
    Feature,
}

impl Field {
    pub(super) fn key(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Function => "function",
            Field::Location => "location",
            Field::Certifications => "certifications",
            Field::Website => "website",
            Field::LegalAddress => "legal_address",
            Field::HasAccess => "has_access",
            Field::NoAccess => "no_access",
            Field::TransferMechanism => "transfer_mechanism",
            Field::Remarks => "remarks",
            Field::Activation => "activation",
            Field::Feature => "feature",
        }
    }
}

/// The field a table column holds, judged by its header.
///
/// "Service" alone names the function when the table has another name column, and the
/// provider when it has none; [`map_columns`] decides that for a whole header.
pub(super) fn map_column(header: &str) -> Option<Field> {
    let h = inline(header).0.to_lowercase();
    let h = h.trim_end_matches([':', '*']).trim().to_string();
    let has = |w: &str| h.contains(w);
    if has("does not have access") || has("no access") || has("not accessed") {
        Some(Field::NoAccess)
    } else if has("transfer")
        || has("safeguard")
        || has("mechanism")
        || h == "legal basis"
        || has("adequacy")
    {
        Some(Field::TransferMechanism)
    } else if has("remark") || has("note") || has("comment") || h == "additional information" {
        Some(Field::Remarks)
    } else if has("activation") || matches!(h.as_str(), "opt-in" | "optional" | "use" | "used") {
        Some(Field::Activation)
    } else if matches!(h.as_str(), "feature" | "enabled by" | "enabling feature") {
        Some(Field::Feature)
    } else if has("access")
        || has("categories of")
        || has("data categories")
        || has("types of data")
        || has("data processed")
    {
        Some(Field::HasAccess)
    } else if has("location") || has("country") || has("countries") || has("region") || h == "where"
    {
        Some(Field::Location)
    } else if has("certif") || has("compliance") || has("attestation") {
        Some(Field::Certifications)
    } else if has("address") {
        Some(Field::LegalAddress)
    } else if matches!(
        h.as_str(),
        "website" | "web site" | "url" | "link" | "homepage"
    ) {
        Some(Field::Website)
    } else if has("services provided") || has("service provided") || has("service description") {
        Some(Field::Function)
    } else if has("subprocessor")
        || has("sub-processor")
        || has("name")
        || has("provider")
        || has("vendor")
        || has("company")
        || has("entity")
        || has("third party")
        || has("third-party")
        || h == "processor"
        || h == "partner"
    {
        Some(Field::Name)
    } else if has("function")
        || has("purpose")
        || has("description")
        || has("service")
        || has("activit")
        || has("nature")
        || has("role")
        || has("processing")
    {
        Some(Field::Function)
    } else {
        None
    }
}

/// The fields of a whole table header: as [`map_column`], but a "Service", "Tool" or
/// "Product" column names the provider when no other column does.
pub(super) fn map_columns(headers: &[String]) -> Vec<Option<Field>> {
    let mut fields: Vec<Option<Field>> = headers.iter().map(|h| map_column(h)).collect();
    if !fields.contains(&Some(Field::Name)) {
        let named = headers.iter().position(|h| {
            matches!(
                inline(h).0.to_lowercase().trim_end_matches(':').trim(),
                "service" | "services" | "tool" | "product" | "application" | "app" | "platform"
            )
        });
        if let Some(i) = named {
            fields[i] = Some(Field::Name);
        }
    }
    fields
}

/// The field a label ("Data Processing Location") names.
pub(super) fn map_label(label: &str) -> Option<Field> {
    let l = label.to_lowercase();
    let l = l.trim_end_matches(':').trim();
    Some(match l {
        "has access to" | "has access" | "access to" | "data accessed" | "can access" => {
            Field::HasAccess
        }
        "does not have access to"
        | "does not have access"
        | "doesn't have access to"
        | "has no access to"
        | "no access to"
        | "no access"
        | "cannot access" => Field::NoAccess,
        "transfer mechanism"
        | "transfer mechanisms"
        | "transfer safeguard"
        | "transfer safeguards"
        | "safeguards"
        | "safeguard"
        | "legal basis for transfer"
        | "legal basis for transfers"
        | "transfer basis" => Field::TransferMechanism,
        "remarks" | "notes" => Field::Remarks,
        "activation" => Field::Activation,
        "feature" => Field::Feature,
        "data processing location"
        | "processing location"
        | "country of processing"
        | "countries of processing"
        | "data center location"
        | "data centre location"
        | "location of processing"
        | "location"
        | "locations"
        | "country"
        | "data location"
        | "hosting location"
        | "server location"
        | "region" => Field::Location,
        "legal address" | "address" | "registered address" | "registered office"
        | "head office" => Field::LegalAddress,
        "website" | "web site" | "url" | "link" | "homepage" => Field::Website,
        "certifications" | "certification" | "certificates" | "compliance" | "attestations" => {
            Field::Certifications
        }
        "function"
        | "purpose"
        | "service"
        | "services"
        | "description"
        | "processing activities"
        | "nature of processing"
        | "services provided"
        | "service provided"
        | "role" => Field::Function,
        _ => return None,
    })
}

/// A "Label: value" line, possibly bulleted and emphasised.
pub(super) struct LabelLine {
    pub(super) field: Option<Field>,
    pub(super) label: String,
    pub(super) value: String,
    pub(super) link: Option<String>,
}

pub(super) fn parse_label(raw: &str) -> Option<LabelLine> {
    let t = raw.trim();
    let (bulleted, rest) = match t.strip_prefix(['-', '*', '+', '\u{2022}']) {
        Some(r) if r.starts_with(' ') => (true, r.trim_start()),
        _ => (false, t),
    };
    let emphasised = rest.starts_with(['*', '_']);
    let (plain, link) = inline(rest);
    let (label, value) = plain.split_once(':')?;
    let label = label.trim();
    let words = label.split_whitespace().count();
    if words == 0
        || words > 6
        || !label
            .chars()
            .all(|c| c.is_alphabetic() || matches!(c, ' ' | '-' | '\'' | '(' | ')' | '/'))
    {
        return None;
    }
    let field = map_label(label);
    if field.is_none() && !(emphasised || (bulleted && words <= 4)) {
        return None;
    }
    // The link of a "Website: [x](url)" line is its value; elsewhere links are just text.
    let value = value.trim().to_string();
    Some(LabelLine {
        field,
        label: label.to_string(),
        value,
        link,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names_vendors_use() {
        for (header, field) in [
            ("Subprocessor", Some(Field::Name)),
            ("Name of Subprocessor (with URL)", Some(Field::Name)),
            ("Service Provider", Some(Field::Name)),
            ("Entity Name", Some(Field::Name)),
            ("Function", Some(Field::Function)),
            ("Purpose of processing", Some(Field::Function)),
            ("Description", Some(Field::Function)),
            ("Service", Some(Field::Function)),
            ("Location", Some(Field::Location)),
            ("Country", Some(Field::Location)),
            ("Location of Processing", Some(Field::Location)),
            ("Subprocessor location", Some(Field::Location)),
            ("Certifications", Some(Field::Certifications)),
            ("Website", Some(Field::Website)),
            ("Legal address", Some(Field::LegalAddress)),
            ("Has access to", Some(Field::HasAccess)),
            ("Does not have access to", Some(Field::NoAccess)),
            ("Notes", Some(Field::Remarks)),
            ("Transfer mechanism", Some(Field::TransferMechanism)),
            ("Safeguards", Some(Field::TransferMechanism)),
            ("Legal basis for transfer", Some(Field::TransferMechanism)),
            ("Transfer safeguards", Some(Field::TransferMechanism)),
            ("Entity", Some(Field::Name)),
            ("Vendor", Some(Field::Name)),
            ("Provider", Some(Field::Name)),
            ("Services provided", Some(Field::Function)),
            ("Data location", Some(Field::Location)),
            ("Country of processing", Some(Field::Location)),
            ("Region", Some(Field::Location)),
            ("Compliance", Some(Field::Certifications)),
            ("Categories of personal data", Some(Field::HasAccess)),
            ("Purpose", Some(Field::Function)),
            ("Favourite colour", None),
        ] {
            assert_eq!(map_column(header), field, "{header}");
        }
    }

    #[test]
    fn a_service_column_names_the_provider_only_when_nothing_else_does() {
        let h = |v: &[&str]| map_columns(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(
            h(&["Service", "Purpose", "Region"]),
            [
                Some(Field::Name),
                Some(Field::Function),
                Some(Field::Location)
            ]
        );
        assert_eq!(
            h(&["Vendor", "Service", "Region"]),
            [
                Some(Field::Name),
                Some(Field::Function),
                Some(Field::Location)
            ]
        );
    }

    #[test]
    fn labelled_lines_in_their_spellings() {
        for (raw, field, value) in [
            (
                "* **Has access to:** Names.",
                Some(Field::HasAccess),
                "Names.",
            ),
            (
                "*Data Processing Location:* Netherlands.",
                Some(Field::Location),
                "Netherlands.",
            ),
            (
                "*Data Processing Location*: European Union",
                Some(Field::Location),
                "European Union",
            ),
            (
                "Legal Address: 1 Main St",
                Some(Field::LegalAddress),
                "1 Main St",
            ),
            ("- Retention: 30 days", None, "30 days"),
        ] {
            let l = parse_label(raw).unwrap_or_else(|| panic!("{raw}"));
            assert_eq!((l.field, l.value.as_str()), (field, value), "{raw}");
        }
        // Prose with a colon is prose, not an unknown label.
        assert!(parse_label("Note: we review every provider yearly.").is_none());
        assert!(parse_label("We list them here for the following reasons: trust").is_none());
    }

    #[test]
    fn website_label_keeps_the_link_target() {
        let l = parse_label("*Website:* [lexicon.example](https://lexicon.example/)").unwrap();
        assert_eq!(l.field, Some(Field::Website));
        assert_eq!(l.link.as_deref(), Some("https://lexicon.example/"));
    }
}
