//! Assemble: one customer's DPA as a `Document`, from loaded inputs and a compiled template.
//!
//! In: the vendor, the annex and its fingerprint, the customer, the compiled template and
//! the signing facts. Out: a [`Document`] (blocks, footer, metadata) for the layout engine.
//! Steps: check the inputs belong together, build the context, render the template,
//! parse the Markdown with the signature block in place.

use std::cell::RefCell;

use thiserror::Error;

use crate::annex::Fingerprint;
use crate::document::{Attachment, Block, Document, Metadata, Party, SignatureBlock};
use crate::load::{self, LoadError};
use crate::markup::{self, MarkupError};
use crate::model::{Annex, Customer, Vendor};
use crate::template::{self, SigningInfo, Template, TemplateError};

/// Why a customer's DPA could not be assembled.
#[derive(Debug, Error)]
pub enum AssembleError {
    #[error("{}", with_customer(customer, source))]
    Inputs {
        customer: String,
        #[source]
        source: Box<LoadError>,
    },

    #[error("customer `{customer}`: {source}")]
    Template {
        customer: String,
        #[source]
        source: TemplateError,
    },

    #[error("customer `{customer}`: template {template}: Markdown {source}")]
    Markup {
        customer: String,
        template: String,
        #[source]
        source: MarkupError,
    },
}

/// The load error, prefixed with the customer unless it names the customer already.
fn with_customer(customer: &str, source: &LoadError) -> String {
    match source.customer() {
        Some(_) => source.to_string(),
        None => format!("customer `{customer}`: {source}"),
    }
}

impl AssembleError {
    /// The customer the error is about.
    pub fn customer(&self) -> &str {
        match self {
            AssembleError::Inputs { customer, .. }
            | AssembleError::Template { customer, .. }
            | AssembleError::Markup { customer, .. } => customer,
        }
    }

    /// A line for the user on how to fix the input or template, when there is one.
    pub fn hint(&self) -> Option<String> {
        match self {
            AssembleError::Inputs { source, .. } => source.hint(),
            AssembleError::Template { source, .. } => source.hint().map(str::to_string),
            AssembleError::Markup { source, .. } => source.hint().map(str::to_string),
        }
    }
}

/// Assembles the DPA of one customer.
pub fn dpa(
    vendor: &Vendor,
    annex: &Annex,
    fingerprint: &Fingerprint,
    customer: &Customer,
    template: &Template,
    signing: &SigningInfo,
) -> Result<Document, AssembleError> {
    let markdown = markdown(vendor, annex, fingerprint, customer, template, signing)?;
    let signatures = signature_block(vendor, customer, signing);
    let blocks: Vec<Block> =
        markup::parse(&markdown, Some(&signatures)).map_err(|source| AssembleError::Markup {
            customer: customer.id.clone(),
            template: template.name().to_string(),
            source,
        })?;
    Ok(Document {
        meta: metadata(vendor, annex, fingerprint, customer),
        blocks,
        footer: footer(annex, fingerprint),
        attachments: vec![annex_attachment_reused(annex)],
        lang: None,
        watermark: None,
    })
}

thread_local! {
    /// The annex last embedded on this thread, with its attachment.
    static LAST_ANNEX: RefCell<Option<(Annex, Attachment)>> = const { RefCell::new(None) };
}

/// [`annex_attachment`], reusing the last one made on this thread for an equal annex: a
/// batch embeds the same annex in every document, and writing its canonical JSON is a
/// fifth of assembling a DPA, where comparing it is not.
fn annex_attachment_reused(annex: &Annex) -> Attachment {
    LAST_ANNEX.with_borrow_mut(|last| match last {
        Some((seen, attachment)) if seen == annex => attachment.clone(),
        _ => {
            let attachment = annex_attachment(annex);
            *last = Some((annex.clone(), attachment.clone()));
            attachment
        }
    })
}

/// The Markdown the template renders for one customer, before it becomes blocks.
pub fn markdown(
    vendor: &Vendor,
    annex: &Annex,
    fingerprint: &Fingerprint,
    customer: &Customer,
    template: &Template,
    signing: &SigningInfo,
) -> Result<String, AssembleError> {
    let inputs = |source: LoadError| AssembleError::Inputs {
        customer: customer.id.clone(),
        source: Box::new(source),
    };
    load::check_annex_vendor(vendor, annex).map_err(inputs)?;
    load::check_features(customer, annex).map_err(inputs)?;
    let context = template::context(vendor, annex, fingerprint, customer, signing);
    template
        .render(&context)
        .map_err(|source| AssembleError::Template {
            customer: customer.id.clone(),
            source,
        })
}

/// The file name of the annex embedded in every DPA and notice.
pub const ANNEX_ATTACHMENT: &str = "annex.json";

/// The annex as an embedded file: its canonical JSON, whose SHA-256 is the fingerprint.
pub fn annex_attachment(annex: &Annex) -> Attachment {
    Attachment {
        name: ANNEX_ATTACHMENT.to_string(),
        mime: "application/json".to_string(),
        description: format!(
            "Subprocessor list version {} as canonical JSON; its SHA-256 is the annex fingerprint",
            annex.version
        ),
        data: crate::annex::fingerprint::canonical_json(annex).into_bytes(),
    }
}

/// The running footer: annex version and short fingerprint (the engine adds "Page N of M").
pub fn footer(annex: &Annex, fingerprint: &Fingerprint) -> String {
    format!(
        "Subprocessor list {} · fingerprint {}",
        annex.version,
        fingerprint.short()
    )
}

/// The vendor's side filled in and signed electronically; the customer's left to sign.
pub fn signature_block(
    vendor: &Vendor,
    customer: &Customer,
    signing: &SigningInfo,
) -> SignatureBlock {
    SignatureBlock {
        vendor: Party {
            caption: "For the Processor".to_string(),
            organisation: vendor.legal_name.clone(),
            name: Some(vendor.signatory.name.clone()),
            title: Some(vendor.signatory.title.clone()),
            date: Some(template::long_date(signing.issued)),
            signed: Some(format!("Signed electronically with key {}", signing.key_id)),
        },
        // The customer's signatory is named in its file, so name and title are printed;
        // the date and the signature are theirs to add.
        customer: Party {
            caption: "For the Controller".to_string(),
            organisation: customer.legal_name.clone(),
            name: Some(customer.signatory.name.clone()),
            title: Some(customer.signatory.title.clone()),
            date: None,
            signed: None,
        },
    }
}

/// The PDF metadata of a customer's DPA.
pub fn metadata(
    vendor: &Vendor,
    annex: &Annex,
    fingerprint: &Fingerprint,
    customer: &Customer,
) -> Metadata {
    Metadata {
        title: format!(
            "Data Processing Agreement between {} and {}",
            customer.legal_name, vendor.legal_name
        ),
        author: vendor.legal_name.clone(),
        subject: format!(
            "Data Processing Agreement under Article 28 GDPR with subprocessor list {}",
            annex.version
        ),
        keywords: vec![
            "DPA".to_string(),
            "GDPR Article 28".to_string(),
            format!("customer={}", customer.id),
            format!("annex={}", annex.version),
            format!("annex_sha256={}", fingerprint.hex()),
        ],
        date: customer.effective,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reused_annex_attachment_is_the_one_for_that_annex() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let a = load::annex(dir.join("segmetrics/annex.toml")).unwrap();
        let b = load::annex(dir.join("postgres-ai/annex.toml")).unwrap();
        let mut a2 = a.clone();
        a2.sections[0].entries[0].location.push_str(" (moved)");
        for annex in [&a, &a, &b, &a2, &a] {
            assert_eq!(annex_attachment_reused(annex), annex_attachment(annex));
        }
    }
}
