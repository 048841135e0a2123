//! The difference between two versions of an annex, for `dpa annex diff` and change notices.
//!
//! In: the old and the new [`Annex`]. Out: an [`AnnexDiff`] listing providers added,
//! removed, replaced, changed field by field and moved between sections, plus section
//! changes and both fingerprints; serialisable to JSON and printable as a plain table.
//! Providers are matched by name (case and spacing folded); everything is listed in the
//! order of the annexes themselves, so the same two files always give the same diff.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

use chrono::NaiveDate;
use serde::Serialize;

use super::fingerprint::fingerprint;
use crate::model::{Annex, Entry, Section};

/// What changed from one annex version to the next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnnexDiff {
    pub old: Side,
    pub new: Side,
    /// Providers only in the new annex (not counted under `replaced`).
    pub added: Vec<Placed>,
    /// Providers only in the old annex (not counted under `replaced`).
    pub removed: Vec<Placed>,
    /// A removed provider and an added one in the same section with the same function.
    pub replaced: Vec<Replacement>,
    /// Providers in both annexes whose fields differ.
    pub changed: Vec<Changed>,
    /// Providers in both annexes, listed under a different section.
    pub moved: Vec<Moved>,
    /// Sections added, removed, or with a changed description or kind.
    pub sections: Vec<SectionChange>,
    /// The same providers are listed, but in a different order (the fingerprint changes).
    pub order_changed: bool,
}

/// One of the two annexes compared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Side {
    pub vendor: String,
    pub version: String,
    #[serde(with = "crate::model::date")]
    pub effective: NaiveDate,
    /// Full hex SHA-256 of the annex's canonical JSON.
    pub fingerprint: String,
}

/// A provider with the title of the section it is listed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Placed {
    pub section: String,
    pub entry: Entry,
}

/// A provider that takes the place of another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Replacement {
    /// The section of the new provider.
    pub section: String,
    pub old: Entry,
    pub new: Entry,
}

/// A provider whose fields changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Changed {
    /// The name in the new annex.
    pub name: String,
    /// The section in the new annex.
    pub section: String,
    pub fields: Vec<FieldChange>,
}

/// One field's old and new value; `None` where the field is absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    /// The field's name in annex.toml, e.g. `location` (see [`field_label`] for words).
    pub field: &'static str,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// A provider listed under another section than before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Moved {
    pub name: String,
    pub from: String,
    pub to: String,
}

/// A section that appeared, disappeared or changed; sections are matched by title.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SectionChange {
    pub title: String,
    pub kind: SectionChangeKind,
    /// For `changed`: `description` and/or `subprocessors`.
    pub fields: Vec<FieldChange>,
}

/// How a section changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SectionChangeKind {
    Added,
    Removed,
    Changed,
}

/// Why two annexes could not be compared.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error(
        "the {which} annex lists \"{name}\" twice (in \"{first}\" and in \"{second}\"); providers are matched by name"
    )]
    DuplicateName {
        /// "old" or "new".
        which: &'static str,
        name: String,
        first: String,
        second: String,
    },
}

impl DiffError {
    /// How to fix the error, for the `hint:` line of the command.
    pub fn hint(&self) -> Option<String> {
        match self {
            DiffError::DuplicateName { .. } => Some(
                "give each entry a distinct name, e.g. add the region or the product in parentheses"
                    .into(),
            ),
        }
    }
}

/// The key providers are matched by: case and runs of spaces folded.
pub fn name_key(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Compares two annexes.
pub fn diff(old: &Annex, new: &Annex) -> Result<AnnexDiff, DiffError> {
    let old_index = index(old, "old")?;
    let new_index = index(new, "new")?;

    let mut added = Vec::new();
    let mut changed = Vec::new();
    let mut moved = Vec::new();
    for (section, entry) in entries(new) {
        match old_index.get(&name_key(&entry.name)) {
            None => added.push(Placed {
                section: section.title.clone(),
                entry: entry.clone(),
            }),
            Some(&(old_section, old_entry)) => {
                let fields = entry_changes(old_entry, entry);
                if !fields.is_empty() {
                    changed.push(Changed {
                        name: entry.name.clone(),
                        section: section.title.clone(),
                        fields,
                    });
                }
                if old_section.title != section.title {
                    moved.push(Moved {
                        name: entry.name.clone(),
                        from: old_section.title.clone(),
                        to: section.title.clone(),
                    });
                }
            }
        }
    }
    let mut removed: Vec<Placed> = entries(old)
        .filter(|(_, e)| !new_index.contains_key(&name_key(&e.name)))
        .map(|(s, e)| Placed {
            section: s.title.clone(),
            entry: e.clone(),
        })
        .collect();
    let replaced = pair_replacements(&mut removed, &mut added);

    let order_changed = {
        let common = |a: &Annex, other: &BTreeMap<String, (&Section, &Entry)>| {
            entries(a)
                .map(|(_, e)| name_key(&e.name))
                .filter(|k| other.contains_key(k))
                .collect::<Vec<_>>()
        };
        common(old, &new_index) != common(new, &old_index)
    };

    Ok(AnnexDiff {
        old: side(old),
        new: side(new),
        added,
        removed,
        replaced,
        changed,
        moved,
        sections: section_changes(old, new),
        order_changed,
    })
}

fn side(a: &Annex) -> Side {
    Side {
        vendor: a.vendor.clone(),
        version: a.version.clone(),
        effective: a.effective,
        fingerprint: fingerprint(a).hex(),
    }
}

fn entries(a: &Annex) -> impl Iterator<Item = (&Section, &Entry)> {
    a.sections
        .iter()
        .flat_map(|s| s.entries.iter().map(move |e| (s, e)))
}

fn index<'a>(
    a: &'a Annex,
    which: &'static str,
) -> Result<BTreeMap<String, (&'a Section, &'a Entry)>, DiffError> {
    let mut map: BTreeMap<String, (&Section, &Entry)> = BTreeMap::new();
    for (s, e) in entries(a) {
        if let Some((first, _)) = map.insert(name_key(&e.name), (s, e)) {
            return Err(DiffError::DuplicateName {
                which,
                name: e.name.clone(),
                first: first.title.clone(),
                second: s.title.clone(),
            });
        }
    }
    Ok(map)
}

/// Pairs a removed and an added provider when they are the only two sharing a section and function.
fn pair_replacements(removed: &mut Vec<Placed>, added: &mut Vec<Placed>) -> Vec<Replacement> {
    let key = |p: &Placed| (p.section.clone(), name_key(&p.entry.function));
    let mut pairs = Vec::new();
    for (ai, a) in added.iter().enumerate() {
        let k = key(a);
        let olds: Vec<usize> = (0..removed.len())
            .filter(|&r| key(&removed[r]) == k)
            .collect();
        let news = added.iter().filter(|x| key(x) == k).count();
        if let [ri] = olds[..]
            && news == 1
        {
            pairs.push((ri, ai));
        }
    }
    let replaced = pairs
        .iter()
        .map(|&(ri, ai)| Replacement {
            section: added[ai].section.clone(),
            old: removed[ri].entry.clone(),
            new: added[ai].entry.clone(),
        })
        .collect();
    let (taken_r, taken_a): (Vec<usize>, Vec<usize>) = pairs.into_iter().unzip();
    let mut i = 0;
    removed.retain(|_| {
        i += 1;
        !taken_r.contains(&(i - 1))
    });
    let mut j = 0;
    added.retain(|_| {
        j += 1;
        !taken_a.contains(&(j - 1))
    });
    replaced
}

/// The fields of one provider that differ, in the order `Entry` declares them. Generic
/// over the fields (compared as their serialized values), so a new annex field is
/// compared without an edit here.
fn entry_changes(old: &Entry, new: &Entry) -> Vec<FieldChange> {
    let as_map = |e: &Entry| match serde_json::to_value(e) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    let (old, new) = (as_map(old), as_map(new));
    crate::model::field_names::<Entry>()
        .iter()
        .filter(|field| old.get(**field) != new.get(**field))
        .map(|field| FieldChange {
            field,
            old: old.get(*field).and_then(shown_value),
            new: new.get(*field).and_then(shown_value),
        })
        .collect()
}

/// A field's value as the change table shows it; `None` for an absent or empty one.
fn shown_value(v: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Array(items) if items.is_empty() => None,
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(shown_value)
                .collect::<Vec<_>>()
                .join(", "),
        ),
        other => Some(other.to_string()),
    }
}

fn section_changes(old: &Annex, new: &Annex) -> Vec<SectionChange> {
    let find = |a: &'_ Annex, title: &str| a.sections.iter().find(|s| s.title == title).cloned();
    let mut out = Vec::new();
    for s in &new.sections {
        match find(old, &s.title) {
            None => out.push(SectionChange {
                title: s.title.clone(),
                kind: SectionChangeKind::Added,
                fields: Vec::new(),
            }),
            Some(o) => {
                let mut fields = Vec::new();
                if o.description != s.description {
                    fields.push(FieldChange {
                        field: "description",
                        old: o.description.clone(),
                        new: s.description.clone(),
                    });
                }
                if o.subprocessors != s.subprocessors {
                    fields.push(FieldChange {
                        field: "subprocessors",
                        old: Some(o.subprocessors.to_string()),
                        new: Some(s.subprocessors.to_string()),
                    });
                }
                if !fields.is_empty() {
                    out.push(SectionChange {
                        title: s.title.clone(),
                        kind: SectionChangeKind::Changed,
                        fields,
                    });
                }
            }
        }
    }
    for s in &old.sections {
        if find(new, &s.title).is_none() {
            out.push(SectionChange {
                title: s.title.clone(),
                kind: SectionChangeKind::Removed,
                fields: Vec::new(),
            });
        }
    }
    out
}

impl AnnexDiff {
    /// The number of listed changes: providers added, removed, replaced, changed, moved, and sections.
    pub fn change_count(&self) -> usize {
        self.added.len()
            + self.removed.len()
            + self.replaced.len()
            + self.changed.len()
            + self.moved.len()
            + self.sections.len()
    }

    /// Whether the two annexes list the same providers and sections in the same order.
    pub fn is_empty(&self) -> bool {
        self.change_count() == 0 && !self.order_changed
    }

    /// A plain-text table for a terminal: one row per change, then a count.
    pub fn render_table(&self) -> String {
        let mut out = String::new();
        if self.old.vendor == self.new.vendor {
            let _ = writeln!(out, "annex diff: {}", self.new.vendor);
        } else {
            let _ = writeln!(
                out,
                "annex diff: vendor changed from \"{}\" to \"{}\"",
                self.old.vendor, self.new.vendor
            );
        }
        let sides = [
            vec![
                "".into(),
                "VERSION".into(),
                "EFFECTIVE".into(),
                "FINGERPRINT".into(),
            ],
            side_row("old", &self.old),
            side_row("new", &self.new),
        ];
        write_rows(&mut out, &sides);
        out.push('\n');

        let mut rows: Vec<Vec<String>> =
            vec![vec!["CHANGE".into(), "PROVIDER".into(), "DETAIL".into()]];
        for p in &self.added {
            rows.push(vec![
                "added".into(),
                p.entry.name.clone(),
                format!(
                    "in \"{}\": {}; {}",
                    p.section, p.entry.function, p.entry.location
                ),
            ]);
        }
        for p in &self.removed {
            rows.push(vec![
                "removed".into(),
                p.entry.name.clone(),
                format!("from \"{}\"", p.section),
            ]);
        }
        for r in &self.replaced {
            rows.push(vec![
                "replaced".into(),
                r.old.name.clone(),
                format!(
                    "by {} ({}) in \"{}\"",
                    r.new.name, r.new.location, r.section
                ),
            ]);
        }
        for c in &self.changed {
            for (i, f) in c.fields.iter().enumerate() {
                rows.push(vec![
                    if i == 0 {
                        "changed".into()
                    } else {
                        String::new()
                    },
                    if i == 0 {
                        c.name.clone()
                    } else {
                        String::new()
                    },
                    format!(
                        "{}: {} -> {}",
                        field_label(f.field),
                        shown(&f.old),
                        shown(&f.new)
                    ),
                ]);
            }
        }
        for m in &self.moved {
            rows.push(vec![
                "moved".into(),
                m.name.clone(),
                format!("\"{}\" -> \"{}\"", m.from, m.to),
            ]);
        }
        for s in &self.sections {
            let detail = match s.kind {
                SectionChangeKind::Added => "section added".to_string(),
                SectionChangeKind::Removed => "section removed".to_string(),
                SectionChangeKind::Changed => s
                    .fields
                    .iter()
                    .map(|f| {
                        format!(
                            "{}: {} -> {}",
                            field_label(f.field),
                            shown(&f.old),
                            shown(&f.new)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
            };
            rows.push(vec!["section".into(), s.title.clone(), detail]);
        }
        if rows.len() == 1 {
            out.push_str("no provider or section changes\n");
        } else {
            write_rows(&mut out, &rows);
            let parts: Vec<String> = [
                (self.added.len(), "added"),
                (self.removed.len(), "removed"),
                (self.replaced.len(), "replaced"),
                (self.changed.len(), "changed"),
                (self.moved.len(), "moved"),
                (self.sections.len(), "section"),
            ]
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!("{n} {what}"))
            .collect();
            let _ = writeln!(
                out,
                "\n{} change(s): {}",
                self.change_count(),
                parts.join(", ")
            );
        }
        if self.order_changed {
            out.push_str("the order of the providers changed\n");
        }
        out
    }
}

impl fmt::Display for AnnexDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render_table())
    }
}

/// How the terminal table names a field of annex.toml: words, not the file's key.
pub fn field_label(field: &str) -> &str {
    match field {
        "legal_address" => "legal address",
        "has_access" => "has access to",
        "no_access" => "no access to",
        "transfer_mechanism" => "transfer safeguards",
        "subprocessors" => "processes customer data",
        other => other,
    }
}

fn side_row(label: &str, s: &Side) -> Vec<String> {
    vec![
        label.into(),
        s.version.clone(),
        s.effective.format("%Y-%m-%d").to_string(),
        s.fingerprint.clone(),
    ]
}

fn shown(v: &Option<String>) -> String {
    match v {
        Some(s) => format!("\"{s}\""),
        None => "(none)".into(),
    }
}

/// Writes rows with every column but the last padded to its widest cell.
fn write_rows(out: &mut String, rows: &[Vec<String>]) {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in rows {
        let mut line = String::from("  ");
        for (c, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if c + 1 < row.len() {
                line.push_str(&" ".repeat(widths[c] - cell.chars().count() + 2));
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = r#"
vendor = "V"
version = "1"
effective = 2026-01-01
[[section]]
title = "Processors"
[[section.entry]]
name = "Host A"
function = "Hosting"
location = "Germany"
[[section.entry]]
name = "Mailer"
function = "Email"
location = "Ireland"
certifications = ["SOC 2"]
[[section]]
title = "Account data"
subprocessors = false
[[section.entry]]
name = "Billing"
function = "Payments"
location = "USA"
"#;

    fn annex(text: &str) -> Annex {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn identical_annexes_have_no_changes() {
        let a = annex(OLD);
        let d = diff(&a, &a).unwrap();
        assert!(d.is_empty());
        assert_eq!(d.old.fingerprint, d.new.fingerprint);
        assert!(d.render_table().contains("no provider or section changes"));
    }

    #[test]
    fn replacement_needs_same_section_and_function() {
        let new = annex(&OLD.replace("Host A", "Host B"));
        let d = diff(&annex(OLD), &new).unwrap();
        assert_eq!(d.replaced.len(), 1);
        assert_eq!(d.replaced[0].old.name, "Host A");
        assert_eq!(d.replaced[0].new.name, "Host B");
        assert!(d.added.is_empty() && d.removed.is_empty());

        let new = annex(
            &OLD.replace("Host A", "Host B")
                .replace("\"Hosting\"", "\"Compute\""),
        );
        let d = diff(&annex(OLD), &new).unwrap();
        assert!(d.replaced.is_empty());
        assert_eq!(d.added[0].entry.name, "Host B");
        assert_eq!(d.removed[0].entry.name, "Host A");
    }

    #[test]
    fn field_changes_and_moves() {
        let new = OLD
            .replace("\"Ireland\"", "\"France\"")
            .replace("[\"SOC 2\"]", "[\"SOC 2\", \"ISO 27001\"]");
        // Move Billing into the first section.
        let new = new.replace(
            "[[section]]\ntitle = \"Account data\"\nsubprocessors = false\n",
            "",
        );
        let d = diff(&annex(OLD), &annex(&new)).unwrap();
        assert_eq!(d.changed.len(), 1);
        let fields: Vec<_> = d.changed[0]
            .fields
            .iter()
            .map(|f| (f.field, f.old.as_deref(), f.new.as_deref()))
            .collect();
        assert_eq!(
            fields,
            [
                ("location", Some("Ireland"), Some("France")),
                ("certifications", Some("SOC 2"), Some("SOC 2, ISO 27001")),
            ]
        );
        assert_eq!(
            d.moved,
            [Moved {
                name: "Billing".into(),
                from: "Account data".into(),
                to: "Processors".into()
            }]
        );
        assert_eq!(d.sections.len(), 1);
        assert_eq!(d.sections[0].kind, SectionChangeKind::Removed);
    }

    #[test]
    fn names_match_ignoring_case_and_spacing() {
        let new = annex(&OLD.replace("\"Mailer\"", "\"mailer \""));
        let d = diff(&annex(OLD), &new).unwrap();
        assert!(d.added.is_empty() && d.removed.is_empty());
        assert_eq!(d.changed[0].fields[0].field, "name");
    }

    #[test]
    fn duplicate_names_are_an_error() {
        let dup = format!(
            "{OLD}[[section.entry]]\nname = \"host a\"\nfunction = \"x\"\nlocation = \"y\"\n"
        );
        let err = diff(&annex(OLD), &annex(&dup)).unwrap_err();
        assert!(
            err.to_string()
                .contains("the new annex lists \"host a\" twice"),
            "{err}"
        );
    }

    #[test]
    fn reordering_is_reported() {
        let mut a = annex(OLD);
        let b = a.clone();
        a.sections[0].entries.reverse();
        let d = diff(&b, &a).unwrap();
        assert_eq!(d.change_count(), 0);
        assert!(d.order_changed && !d.is_empty());
        assert_ne!(d.old.fingerprint, d.new.fingerprint);
    }
}
