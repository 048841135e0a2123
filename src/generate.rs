//! Issuing documents: one customer's inputs -> signed PDF -> files in the output folder.
//!
//! In: a [`Setup`] loaded once (vendor, annex, templates, key, typesetter) and a customer.
//! Out: the PDF and its signatures written atomically under `OUT/<customer-id>/`, and the
//! [`Record`] for the register. Used by `dpa generate` (one customer) and `dpa batch`.

use std::fs;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::annex::{Fingerprint, diff::AnnexDiff, fingerprint};
use crate::assemble::{self, AssembleError};
use crate::document::Document;
use crate::model::{Annex, Customer, Vendor};
use crate::pdf::Typesetter;
use crate::register::{Kind, Record};
use crate::sign::{self, SecretKey, SignError, Signatures, TrustedComment};
use crate::template::{SigningInfo, Template, TemplateError};
use crate::{markup, output, template};

/// Why a document could not be issued.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error(transparent)]
    Assemble(#[from] AssembleError),
    #[error("customer `{customer}`: {field} contains {ch}, which no font of the document has")]
    MissingGlyph {
        customer: String,
        field: String,
        ch: String,
    },
    #[error("customer `{customer}`: typesetting failed: {detail}")]
    Typeset { customer: String, detail: String },
    #[error("customer `{customer}`: change notice: {source}")]
    Notice {
        customer: String,
        #[source]
        source: TemplateError,
    },
    #[error("customer `{customer}`: change notice Markdown: {detail}")]
    NoticeMarkup { customer: String, detail: String },
    #[error("customer `{customer}`: signing failed: {source}")]
    Sign {
        customer: String,
        #[source]
        source: SignError,
    },
    #[error(
        "{} already exists with different content; refusing to replace a signed document",
        path.display()
    )]
    Exists { path: PathBuf },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl GenerateError {
    /// A line telling the user how to fix the problem, when there is one.
    pub fn hint(&self) -> Option<String> {
        match self {
            GenerateError::Assemble(e) => e.hint(),
            GenerateError::MissingGlyph { .. } => Some(
                "replace the character in the input file, or spell it with characters of the \
                 Latin, Greek or Cyrillic scripts"
                    .into(),
            ),
            GenerateError::Notice { source, .. } => source.hint().map(str::to_string),
            GenerateError::Exists { .. } => Some(
                "pass --force to replace it (the old signatures are replaced too), or use another --out folder"
                    .into(),
            ),
            GenerateError::Sign { source, .. } => source.hint(),
            _ => None,
        }
    }
}

/// Everything loaded once per process or batch.
pub struct Setup {
    pub vendor: Vendor,
    pub annex: Annex,
    pub fingerprint: Fingerprint,
    pub template: Template,
    /// SHA-256 of the DPA template's source text.
    pub template_sha256: String,
    /// The change-notice template, when notices are issued.
    pub notice: Option<NoticeSetup>,
    pub key: SecretKey,
    pub typesetter: Typesetter,
    pub out: PathBuf,
    pub raw_sig: bool,
    pub force: bool,
}

/// What a change notice needs besides the new annex.
pub struct NoticeSetup {
    pub template: Template,
    pub template_sha256: String,
    pub previous: Annex,
    pub previous_fingerprint: Fingerprint,
    pub diff: AnnexDiff,
    pub date: NaiveDate,
}

/// A rendered, signed document not yet written.
pub struct Product {
    /// Customer folder name (the customer id).
    pub folder: String,
    pub pdf_name: String,
    pub pdf: Vec<u8>,
    pub signatures: Signatures,
    pub record: Record,
}

/// What writing a product did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// New files were written.
    Issued,
    /// Identical files were already there; nothing was changed.
    Unchanged,
}

/// A lowercase slug of a legal name for file names: "SegMetrics, Inc." -> "segmetrics-inc".
pub fn slug(name: &str) -> String {
    output::slug(name, "vendor")
}

/// The DPA's file name: vendor, kind and annex version, e.g. `segmetrics-inc-dpa-2026-05-26.pdf`.
pub fn dpa_file_name(vendor: &Vendor, annex: &Annex) -> String {
    format!("{}-dpa-{}.pdf", slug(&vendor.legal_name), annex.version)
}

/// The change notice's file name, e.g. `segmetrics-inc-notice-2026-07-01.pdf`.
pub fn notice_file_name(vendor: &Vendor, annex: &Annex) -> String {
    format!("{}-notice-{}.pdf", slug(&vendor.legal_name), annex.version)
}

/// SHA-256 hex of a text (templates, digests).
pub fn sha256_text(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

impl Setup {
    /// The verification line printed in the document.
    ///
    /// It reaches the PDF as an escaped value, so Markdown in it would print literally:
    /// the commands are quoted with typographic quotes, not backticks.
    fn verify_hint(&self) -> String {
        format!(
            "Check this document with \u{201c}dpa verify\u{201d} or \u{201c}minisign -Vm\u{201d} and {}'s public key {} (published at {}).",
            self.vendor.legal_name,
            self.key.key_id(),
            self.vendor.website
        )
    }

    /// A DPA's issue date, from the inputs (never the clock): the customer's effective date,
    /// or the annex's if that is later, since a DPA cannot carry a list not yet in force.
    pub fn dpa_issue_date(&self, customer: &Customer) -> NaiveDate {
        customer.effective.max(self.annex.effective)
    }

    fn signing(&self, issued: NaiveDate) -> SigningInfo {
        SigningInfo {
            key_id: self.key.key_id().to_string(),
            issued,
            verify_hint: self.verify_hint(),
        }
    }

    /// The digest of everything that determines a document's bytes.
    pub fn inputs_digest(&self, kind: Kind, customer: &Customer, issued: NaiveDate) -> String {
        let notice = self.notice.as_ref().filter(|_| kind == Kind::Notice);
        let inputs = json!({
            "dpa": env!("CARGO_PKG_VERSION"),
            "kind": kind.as_str(),
            "vendor": self.vendor,
            "annex": self.fingerprint.hex(),
            "customer": customer,
            "template": match notice { Some(n) => &n.template_sha256, None => &self.template_sha256 },
            "previous": notice.map(|n| n.previous_fingerprint.hex()),
            "notice_date": notice.map(|n| n.date.to_string()),
            "key": self.key.key_id().to_string(),
            "issued": issued.to_string(),
            "raw_sig": self.raw_sig,
        });
        sha256_text(&inputs.to_string())
    }

    /// Renders and signs one customer's DPA.
    pub fn dpa(&self, customer: &Customer, issued: NaiveDate) -> Result<Product, GenerateError> {
        self.check_glyphs(customer)?;
        let signing = self.signing(issued);
        let doc = assemble::dpa(
            &self.vendor,
            &self.annex,
            &self.fingerprint,
            customer,
            &self.template,
            &signing,
        )?;
        let pdf_name = dpa_file_name(&self.vendor, &self.annex);
        self.finish(Kind::Dpa, customer, issued, doc, pdf_name)
    }

    /// Renders and signs one customer's change notice (needs `self.notice`).
    pub fn notice(&self, customer: &Customer) -> Result<Product, GenerateError> {
        let Some(notice) = &self.notice else {
            return Err(GenerateError::NoticeMarkup {
                customer: customer.id.clone(),
                detail: "no previous annex was given".into(),
            });
        };
        self.check_glyphs(customer)?;
        let issued = notice.date;
        let signing = self.signing(issued);
        let mut context = template::context(
            &self.vendor,
            &self.annex,
            &self.fingerprint,
            customer,
            &signing,
        );
        let deadline = notice.date + chrono::Days::new(u64::from(self.vendor.notice_days));
        // A date split over two lines is easy to misread in a notice about deadlines.
        let long_date = |d: NaiveDate| template::long_date(d).replace(' ', "\u{a0}");
        let change_count = notice.diff.change_count();
        if let Some(map) = context.as_object_mut() {
            map.insert(
                "previous".into(),
                json!({
                    "version": notice.previous.version,
                    "effective": long_date(notice.previous.effective),
                    "fingerprint": notice.previous_fingerprint.hex(),
                    "fingerprint_short": notice.previous_fingerprint.short(),
                }),
            );
            map.insert(
                "changes".into(),
                changes_context(&notice.diff, &notice.previous, &self.annex),
            );
            map.insert(
                "notice".into(),
                json!({
                    "date": long_date(notice.date),
                    "iso_date": notice.date.to_string(),
                    "deadline": long_date(deadline),
                    "iso_deadline": deadline.to_string(),
                    "takes_effect": long_date(self.annex.effective),
                    "change_count": change_count,
                }),
            );
        }
        let markdown =
            notice
                .template
                .render(&context)
                .map_err(|source| GenerateError::Notice {
                    customer: customer.id.clone(),
                    source,
                })?;
        let blocks = markup::parse(&markdown, None).map_err(|e| GenerateError::NoticeMarkup {
            customer: customer.id.clone(),
            detail: e.to_string(),
        })?;
        let mut meta = assemble::metadata(&self.vendor, &self.annex, &self.fingerprint, customer);
        meta.title = format!(
            "Notice of subprocessor changes: {} to {}",
            notice.previous.version, self.annex.version
        );
        meta.subject = format!(
            "Change of {}'s subprocessor list for {}",
            self.vendor.legal_name, customer.legal_name
        );
        meta.date = notice.date;
        let doc = Document {
            meta,
            blocks,
            footer: assemble::footer(&self.annex, &self.fingerprint),
            attachments: vec![assemble::annex_attachment(&self.annex)],
            lang: None,
            watermark: None,
        };
        let pdf_name = notice_file_name(&self.vendor, &self.annex);
        self.finish(Kind::Notice, customer, issued, doc, pdf_name)
    }

    fn finish(
        &self,
        kind: Kind,
        customer: &Customer,
        issued: NaiveDate,
        doc: Document,
        pdf_name: String,
    ) -> Result<Product, GenerateError> {
        let pdf = self
            .typesetter
            .render(&doc)
            .map_err(|e| GenerateError::Typeset {
                customer: customer.id.clone(),
                detail: e.to_string(),
            })?;
        let sha256 = sign::sha256_hex(&pdf);
        let comment = TrustedComment {
            file: pdf_name.clone(),
            sha256: sha256.clone(),
            annex: self.annex.version.clone(),
            annex_sha256: self.fingerprint.hex(),
            customer: customer.id.clone(),
            issued,
            key: self.key.key_id(),
        };
        // The comment's SHA-256 was computed from `pdf` just above.
        let signatures = sign::sign_hashed(&self.key, &pdf_name, &pdf, &comment, self.raw_sig)
            .map_err(|source| GenerateError::Sign {
                customer: customer.id.clone(),
                source,
            })?;
        let template_sha256 = match (&self.notice, kind) {
            (Some(n), Kind::Notice) => n.template_sha256.clone(),
            _ => self.template_sha256.clone(),
        };
        let record = Record {
            customer_id: customer.id.clone(),
            kind,
            annex_version: self.annex.version.clone(),
            annex_sha256: self.fingerprint.hex(),
            template_sha256,
            inputs_sha256: self.inputs_digest(kind, customer, issued),
            pdf_sha256: sha256,
            key_id: self.key.key_id().to_string(),
            issued: issued.to_string(),
            path: format!("{}/{}", customer.id, pdf_name),
        };
        Ok(Product {
            folder: customer.id.clone(),
            pdf_name,
            pdf,
            signatures,
            record,
        })
    }

    /// Refuses customer or vendor text with a character no font has, naming the field.
    fn check_glyphs(&self, customer: &Customer) -> Result<(), GenerateError> {
        let fonts = self.typesetter.fonts();
        let fields = [
            ("customer.legal_name", customer.legal_name.as_str()),
            ("customer.address", &customer.address),
            ("customer.country", &customer.country),
            ("customer.email", &customer.email),
            ("customer.signatory.name", &customer.signatory.name),
            ("customer.signatory.title", &customer.signatory.title),
            ("vendor.legal_name", &self.vendor.legal_name),
            ("vendor.address", &self.vendor.address),
            ("vendor.signatory.name", &self.vendor.signatory.name),
            ("vendor.signatory.title", &self.vendor.signatory.title),
        ];
        for (field, text) in fields {
            // Bold covers the same characters as regular in the bundled family; checking
            // both catches a customer name set in a heading.
            for style in [
                crate::document::Style::Regular,
                crate::document::Style::Bold,
            ] {
                if let Some(ch) = fonts.first_missing(text, style) {
                    return Err(GenerateError::MissingGlyph {
                        customer: customer.id.clone(),
                        field: field.to_string(),
                        ch: format!("U+{:04X} {:?}", ch as u32, ch),
                    });
                }
            }
        }
        Ok(())
    }

    /// Writes a product under the output folder: signatures first, the PDF last, each
    /// atomically, so a PDF that exists always has its signatures beside it.
    pub fn write(&self, product: &Product) -> Result<Written, GenerateError> {
        let folder =
            output::child(&self.out, &product.folder).map_err(|source| GenerateError::Write {
                path: self.out.clone(),
                source,
            })?;
        let write_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| GenerateError::Write { path, source }
        };
        fs::create_dir_all(&folder).map_err(write_err(&folder))?;
        output::remove_partials(&folder).map_err(write_err(&folder))?;
        let pdf_path = folder.join(&product.pdf_name);
        let mut files: Vec<(PathBuf, &[u8])> = product
            .signatures
            .files(&product.pdf_name, self.raw_sig)
            .into_iter()
            .map(|(name, bytes)| (folder.join(name), bytes))
            .collect();
        files.push((pdf_path.clone(), &product.pdf));
        if let Ok(existing) = fs::read(&pdf_path) {
            if existing == product.pdf {
                let complete = files
                    .iter()
                    .all(|(p, b)| fs::read(p).is_ok_and(|have| have == *b));
                if complete {
                    return Ok(Written::Unchanged);
                }
            } else if !self.force {
                return Err(GenerateError::Exists { path: pdf_path });
            }
        }
        for (path, bytes) in &files {
            output::write_atomic(path, bytes).map_err(write_err(path))?;
        }
        Ok(Written::Issued)
    }
}

/// The diff as the notice template sees it: plain strings, ready to print.
///
/// Every provider carries `subprocessor`: whether its section (in the new annex, or the old
/// one for a removal) lists Subprocessors or providers that see account data only, which a
/// notice must tell apart. Field changes carry a readable `label` and `old`/`new` as null
/// where the field is absent.
fn changes_context(diff: &AnnexDiff, old: &Annex, new: &Annex) -> serde_json::Value {
    let is_subprocessor = |annex: &Annex, section: &str| {
        annex
            .sections
            .iter()
            .find(|s| s.title == section)
            .is_none_or(|s| s.subprocessors)
    };
    let entry = |e: &crate::model::Entry, section: &str, annex: &Annex| {
        json!({
            "name": e.name,
            "function": e.function,
            "location": e.location,
            "activation": e.activation.as_str(),
            "opt_in": e.activation == crate::model::Activation::OptIn,
            "opt_out": e.activation == crate::model::Activation::OptOut,
            "section": section,
            "subprocessor": is_subprocessor(annex, section),
        })
    };
    let field = |f: &crate::annex::diff::FieldChange| {
        json!({
            "field": f.field,
            "label": field_label(f.field),
            "old": f.old,
            "new": f.new,
        })
    };
    json!({
        "added": diff.added.iter().map(|p| entry(&p.entry, &p.section, new)).collect::<Vec<_>>(),
        "removed": diff.removed.iter().map(|p| entry(&p.entry, &p.section, old)).collect::<Vec<_>>(),
        "replaced": diff.replaced.iter().map(|r| json!({
            "section": r.section,
            "subprocessor": is_subprocessor(new, &r.section),
            "old": entry(&r.old, &r.section, new),
            "new": entry(&r.new, &r.section, new),
        })).collect::<Vec<_>>(),
        "changed": diff.changed.iter().map(|c| json!({
            "name": c.name,
            "section": c.section,
            "subprocessor": is_subprocessor(new, &c.section),
            "fields": c.fields.iter().map(field).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "moved": diff.moved.iter().map(|m| json!({
            "name": m.name,
            "from": m.from,
            "to": m.to,
            "subprocessor": is_subprocessor(new, &m.to),
            "was_subprocessor": is_subprocessor(old, &m.from),
        })).collect::<Vec<_>>(),
        "sections": diff.sections.iter().map(|s| json!({
            "title": s.title,
            "added": s.kind == crate::annex::diff::SectionChangeKind::Added,
            "removed": s.kind == crate::annex::diff::SectionChangeKind::Removed,
            "fields": s.fields.iter().map(field).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "order_changed": diff.order_changed,
        "count": diff.change_count(),
        "none": diff.change_count() == 0,
    })
}

/// How a notice names an annex field, as a singular noun: `has_access` -> "data it has
/// access to", so that "the {label} changes from ..." reads well for every field.
fn field_label(field: &str) -> String {
    match field {
        "location" => "location of processing".into(),
        "certifications" => "list of certifications".into(),
        "legal_address" => "registered address".into(),
        "has_access" => "data it has access to".into(),
        "no_access" => "data it has no access to".into(),
        "feature" => "optional feature that enables it".into(),
        "transfer_mechanism" => "list of transfer safeguards".into(),
        "remarks" => "list of remarks".into(),
        "subprocessors" => "status of its providers as Subprocessors".into(),
        other => other.replace('_', " "),
    }
}

/// Reads a template file and returns it compiled, with the SHA-256 of its text.
pub fn load_template(path: &Path) -> Result<(Template, String), TemplateError> {
    let text = fs::read_to_string(path).map_err(|source| TemplateError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let name = path.display().to_string();
    let template = Template::new(&text, &name)?;
    Ok((template, sha256_text(&text)))
}

/// The fingerprint of an annex (re-exported for the commands).
pub fn annex_fingerprint(annex: &Annex) -> Fingerprint {
    fingerprint(annex)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_file_name_safe() {
        assert_eq!(slug("SegMetrics, Inc."), "segmetrics-inc");
        assert_eq!(slug("Postgres.ai"), "postgres-ai");
        assert_eq!(slug("Caplena AG"), "caplena-ag");
        assert_eq!(slug("../../etc"), "etc");
        assert_eq!(slug("Ωмега"), "vendor");
    }

    #[test]
    fn every_diffed_field_has_a_readable_label() {
        let fields = [
            "name",
            "function",
            "location",
            "certifications",
            "website",
            "legal_address",
            "has_access",
            "no_access",
            "activation",
            "feature",
            "transfer_mechanism",
            "remarks",
            "description",
            "subprocessors",
        ];
        for f in fields {
            let label = field_label(f);
            assert!(!label.contains('_') && !label.is_empty(), "{f}: {label}");
        }
        assert_eq!(field_label("location"), "location of processing");
    }
}
