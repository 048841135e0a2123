//! Output of an import: the annex file (TOML with review comments) and the `--check` table.

use std::fmt::Write as _;

use super::Imported;
use super::remarks::shorten;

/// The annex as a TOML file, headed by where it came from and the import's warnings.
pub fn to_toml(imported: &Imported, source: &str) -> String {
    let annex = &imported.annex;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Subprocessor annex imported by `dpa annex import` from {source}."
    );
    out.push_str("# Check every entry against the page before publishing; \"page line\" comments point into it.\n");
    if imported.warnings.is_empty() {
        out.push_str("# The import raised no warnings.\n");
    } else {
        let _ = writeln!(out, "#\n# Warnings ({}):", imported.warnings.len());
        for w in &imported.warnings {
            for (i, part) in w.to_string().lines().enumerate() {
                let _ = writeln!(out, "#{}{part}", if i == 0 { "   " } else { "     " });
            }
        }
    }
    out.push('\n');
    let _ = writeln!(out, "vendor = {}", toml_string(&annex.vendor));
    let _ = writeln!(out, "version = {}", toml_string(&annex.version));
    let _ = writeln!(out, "effective = {}", annex.effective.format("%Y-%m-%d"));
    for (si, section) in annex.sections.iter().enumerate() {
        let origin = imported.origins.get(si);
        out.push('\n');
        match origin.and_then(|o| o.line) {
            Some(l) => {
                let _ = writeln!(out, "# page line {l}");
            }
            None => out.push_str("# section named after the page title\n"),
        }
        out.push_str("[[section]]\n");
        let _ = writeln!(out, "title = {}", toml_string(&section.title));
        if let Some(d) = &section.description {
            let _ = writeln!(out, "description = {}", toml_string(d));
        }
        let _ = writeln!(out, "subprocessors = {}", section.subprocessors);
        for (ei, e) in section.entries.iter().enumerate() {
            out.push('\n');
            if let Some(l) = origin.and_then(|o| o.entries.get(ei)) {
                let _ = writeln!(out, "# page line {l}");
            }
            out.push_str("[[section.entry]]\n");
            let _ = writeln!(out, "name = {}", toml_string(&e.name));
            let _ = writeln!(out, "function = {}", toml_string(&e.function));
            let _ = writeln!(out, "location = {}", toml_string(&e.location));
            for (key, list) in [
                ("certifications", &e.certifications),
                ("transfer_mechanism", &e.transfer_mechanism),
                ("remarks", &e.remarks),
            ] {
                if !list.is_empty() {
                    let items: Vec<String> = list.iter().map(|c| toml_string(c)).collect();
                    let _ = writeln!(out, "{key} = [{}]", items.join(", "));
                }
            }
            for (key, value) in [
                ("website", &e.website),
                ("legal_address", &e.legal_address),
                ("has_access", &e.has_access),
                ("no_access", &e.no_access),
            ] {
                if let Some(v) = value {
                    let _ = writeln!(out, "{key} = {}", toml_string(v));
                }
            }
            let _ = writeln!(out, "activation = \"{}\"", e.activation.as_str());
            if let Some(f) = &e.feature {
                let _ = writeln!(out, "feature = {}", toml_string(f));
            }
        }
    }
    out
}

/// A TOML string literal: basic, or multi-line basic when the text has line breaks.
fn toml_string(s: &str) -> String {
    let multiline = s.contains('\n');
    let mut out = String::from(if multiline { "\"\"\"\n" } else { "\"" });
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' if multiline => out.push('\n'),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push_str(if multiline { "\"\"\"" } else { "\"" });
    out
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "-".into()
    } else {
        items.join(", ")
    }
}

/// What the import found, as a plain-text table for `--check`.
pub fn check_table(imported: &Imported) -> String {
    let annex = &imported.annex;
    let mut out = String::new();
    let _ = writeln!(out, "vendor     {}", annex.vendor);
    let _ = writeln!(out, "version    {}", annex.version);
    let _ = writeln!(out, "effective  {}", annex.effective.format("%Y-%m-%d"));
    let count: usize = annex.sections.iter().map(|s| s.entries.len()).sum();
    let _ = writeln!(
        out,
        "providers  {count} in {} section(s)",
        annex.sections.len()
    );
    for (si, section) in annex.sections.iter().enumerate() {
        let kind = if section.subprocessors {
            "subprocessors"
        } else {
            "account data only"
        };
        let _ = writeln!(out, "\n{} ({kind})", section.title);
        let header = [
            "LINE",
            "NAME",
            "FUNCTION",
            "LOCATION",
            "CERTIFICATIONS",
            "TRANSFER",
            "REMARKS",
            "ACCESS",
            "ACTIVATION",
            "FEATURE",
            "WEBSITE",
        ];
        let widths = [4, 28, 36, 24, 28, 28, 24, 6, 10, 16, 30];
        let mut rows = vec![header.iter().map(|h| h.to_string()).collect::<Vec<_>>()];
        for (ei, e) in section.entries.iter().enumerate() {
            let line = imported
                .origins
                .get(si)
                .and_then(|o| o.entries.get(ei))
                .map_or(String::new(), |l| l.to_string());
            let access = match (&e.has_access, &e.no_access) {
                (Some(_), Some(_)) => "has+no",
                (Some(_), None) => "has",
                (None, Some(_)) => "no",
                (None, None) => "-",
            };
            rows.push(vec![
                line,
                e.name.clone(),
                e.function.clone(),
                e.location.clone(),
                list(&e.certifications),
                list(&e.transfer_mechanism),
                list(&e.remarks),
                access.into(),
                e.activation.as_str().into(),
                e.feature.clone().unwrap_or_else(|| "-".into()),
                e.website.clone().unwrap_or_else(|| "-".into()),
            ]);
        }
        for row in rows {
            let cells: Vec<String> = row
                .iter()
                .zip(widths)
                .map(|(c, w)| {
                    let c = shorten(c, w);
                    let pad = w.saturating_sub(c.chars().count());
                    format!("{c}{}", " ".repeat(pad))
                })
                .collect();
            let _ = writeln!(out, "  {}", cells.join("  ").trim_end());
        }
    }
    if imported.warnings.is_empty() {
        out.push_str("\nno warnings\n");
    } else {
        let _ = writeln!(out, "\nwarnings ({}):", imported.warnings.len());
        for w in &imported.warnings {
            let _ = writeln!(out, "  {w}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::toml_string;
    use proptest::prelude::*;

    #[derive(serde::Deserialize)]
    struct Doc {
        v: String,
    }

    proptest! {
        #[test]
        fn any_string_survives_toml(s in "\\PC*|[\"\\\\\n\t\r\u{7f}a-z]{0,12}") {
            let doc: Doc = toml::from_str(&format!("v = {}", toml_string(&s))).unwrap();
            prop_assert_eq!(doc.v, s);
        }
    }

    #[test]
    fn multi_line_text_stays_readable() {
        assert_eq!(
            toml_string("a\n\nb \"q\""),
            "\"\"\"\na\n\nb \\\"q\\\"\"\"\""
        );
    }
}
