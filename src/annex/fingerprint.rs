//! The annex fingerprint: SHA-256 over the canonical JSON of the loaded annex.
//!
//! Canonical means RFC 8785 style: object keys sorted by their UTF-16 code units, no
//! whitespace, UTF-8, defaults applied (the model's serde defaults), so reformatting the
//! TOML or reordering its keys leaves the fingerprint unchanged.

use std::fmt;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::model::Annex;

/// The SHA-256 of an annex's canonical JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// All 64 lowercase hex digits.
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The first 16 hex digits in groups of four, e.g. `3f2a 19c0 77de 0b41`.
    pub fn short(&self) -> String {
        let hex = self.hex();
        let groups: Vec<&str> = (0..4).map(|i| &hex[i * 4..i * 4 + 4]).collect();
        groups.join(" ")
    }

    /// The full hex in groups of four, for printing on the annex pages.
    pub fn grouped(&self) -> String {
        let hex = self.hex();
        let groups: Vec<&str> = (0..16).map(|i| &hex[i * 4..i * 4 + 4]).collect();
        groups.join(" ")
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

/// The fingerprint of an annex.
pub fn fingerprint(annex: &Annex) -> Fingerprint {
    Fingerprint(Sha256::digest(canonical_json(annex).as_bytes()).into())
}

/// The canonical JSON text of an annex.
pub fn canonical_json(annex: &Annex) -> String {
    // Serialising a model type to a Value cannot fail: no maps with non-string keys.
    let value = serde_json::to_value(annex).unwrap_or(Value::Null);
    let mut out = String::new();
    write_canonical(&value, &mut out);
    out
}

/// The canonical JSON text of any JSON value (the register hashes its rows with it).
pub fn canonical_value(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            // Sort explicitly: serde_json keeps insertion order when some crate in the
            // tree enables its `preserve_order` feature.
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&map[key.as_str()], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        // Strings, booleans, integers and null print canonically already; the annex has no floats.
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANNEX: &str = r#"
vendor = "V"
version = "1"
effective = 2026-05-26
[[section]]
title = "Processors"
[[section.entry]]
name = "Host"
function = "Hosting"
location = "Germany"
"#;

    // Same content: keys reordered, whitespace and quoting changed, a default written out.
    const REFORMATTED: &str = r#"
effective=2026-05-26
version='1'
vendor   =   "V"

[[section]]
subprocessors = true
title = """Processors"""

  [[section.entry]]
  location = "Germany"
  function = "Hosting"
  name = "Host"
  activation = "always"
"#;

    fn fp(text: &str) -> Fingerprint {
        fingerprint(&toml::from_str::<Annex>(text).unwrap())
    }

    #[test]
    fn formatting_and_key_order_do_not_matter() {
        assert_eq!(fp(ANNEX), fp(REFORMATTED));
    }

    #[test]
    fn any_value_change_matters() {
        let base = fp(ANNEX);
        for (from, to) in [
            ("\"V\"", "\"W\""),
            ("version = \"1\"", "version = \"2\""),
            ("2026-05-26", "2026-05-27"),
            ("\"Processors\"", "\"Processor\""),
            ("\"Host\"", "\"Hosts\""),
            ("\"Hosting\"", "\"Hosting \""),
            ("\"Germany\"", "\"France\""),
        ] {
            assert_ne!(fp(&ANNEX.replacen(from, to, 1)), base, "{from} -> {to}");
        }
        let more = format!("{ANNEX}certifications = [\"SOC 2\"]\n");
        assert_ne!(fp(&more), base);
        let opt_in = format!("{ANNEX}activation = \"opt-in\"\n");
        assert_ne!(fp(&opt_in), base);
    }

    #[test]
    fn canonical_form_is_sorted_and_compact() {
        let annex: Annex = toml::from_str(ANNEX).unwrap();
        assert_eq!(
            canonical_json(&annex),
            r#"{"effective":"2026-05-26","section":[{"entry":[{"activation":"always","certifications":[],"function":"Hosting","location":"Germany","name":"Host"}],"subprocessors":true,"title":"Processors"}],"vendor":"V","version":"1"}"#
        );
    }

    #[test]
    fn short_form_groups_sixteen_digits() {
        let f = Fingerprint([0xab; 32]);
        assert_eq!(f.short(), "abab abab abab abab");
        assert_eq!(f.grouped().len(), 64 + 15);
    }
}
