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
        }
    }
}

/// The field a table column holds, judged by its header.
pub(super) fn map_column(header: &str) -> Option<Field> {
    let h = inline(header).0.to_lowercase();
    let has = |w: &str| h.contains(w);
    if has("does not have access") || has("no access") || has("not accessed") {
        Some(Field::NoAccess)
    } else if has("access") {
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
    } else if has("subprocessor")
        || has("sub-processor")
        || has("name")
        || has("provider")
        || has("vendor")
        || has("company")
        || has("entity")
        || has("third party")
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
        "data processing location"
        | "processing location"
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
            ("Notes", None),
            ("Transfer mechanism", None),
        ] {
            assert_eq!(map_column(header), field, "{header}");
        }
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
