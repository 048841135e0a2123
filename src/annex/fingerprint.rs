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
    canonical_value(&value)
}

/// The canonical JSON text of any JSON value (the register hashes its rows with it, so
/// opening a register writes this for every row).
pub fn canonical_value(value: &Value) -> String {
    let mut out = Vec::with_capacity(1024);
    write_canonical(value, &mut out);
    // serde_json writes UTF-8 only; the fallback is never taken.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Writes `value` with its object keys sorted by UTF-16 code units and no whitespace.
/// Strings and other scalars are written by serde_json's serializer, the same text its
/// `Display` gives, without the formatting machinery or a string per value.
fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            // Sort explicitly: serde_json keeps insertion order when some crate in the
            // tree enables its `preserve_order` feature.
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            out.push(b'{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                scalar(key, out);
                out.push(b':');
                write_canonical(&map[key.as_str()], out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        // Strings, booleans, integers and null print canonically already; the annex has no floats.
        other => scalar(other, out),
    }
}

/// A string, number, boolean or null as serde_json writes it (and the canonical text has
/// it).
pub(crate) fn scalar<T: serde::Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) {
    // Writing a string or a scalar into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, value);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The canonical text as it was written before, through `Display`, one string per
    /// value.
    fn canonical_by_display(value: &Value) -> String {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
                let items: Vec<String> = keys
                    .into_iter()
                    .map(|k| {
                        format!(
                            "{}:{}",
                            Value::String(k.clone()),
                            canonical_by_display(&map[k.as_str()])
                        )
                    })
                    .collect();
                format!("{{{}}}", items.join(","))
            }
            Value::Array(items) => {
                let items: Vec<String> = items.iter().map(canonical_by_display).collect();
                format!("[{}]", items.join(","))
            }
            other => other.to_string(),
        }
    }

    proptest::proptest! {
        #[test]
        fn canonical_text_is_what_display_wrote(
            keys in proptest::collection::vec("[ -~\u{0}-\u{1f}\u{7f}-\u{a0}äß€\u{2028}\u{1F600}\\\"]{0,8}", 0..6),
            texts in proptest::collection::vec("[ -~\u{0}-\u{1f}\u{7f}-\u{a0}äß€\u{2028}\u{1F600}\\\"]{0,12}", 0..6),
            numbers in proptest::collection::vec(proptest::num::i64::ANY, 0..4),
        ) {
            let mut inner = serde_json::Map::new();
            for (k, t) in keys.iter().zip(&texts) {
                inner.insert(k.clone(), Value::String(t.clone()));
            }
            let value = serde_json::json!({
                "texts": texts,
                "numbers": numbers,
                "flags": [true, false, null],
                "inner": inner,
                "list": [Value::Object(inner.clone()), Value::Array(vec![])],
            });
            proptest::prop_assert_eq!(canonical_value(&value), canonical_by_display(&value));
        }
    }

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
