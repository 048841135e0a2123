//! Composition: one customer's DPA or change notice as a [`Document`], both the same way.
//!
//! In: a [`Composer`] built once per run (vendor, annex and fingerprint, the templates, the
//! change notice's inputs, the annex attachment), a customer and the signing facts.
//! Out: a [`Document`] (blocks, footer, metadata, attachments) for the engine.
//! Steps, for either kind: context (a [`RunContext`] made with the composer adds each
//! customer's parts to what the vendor and annex give once; `template::add_notice_context`
//! adds a notice's) -> Handlebars -> Markdown -> blocks.
//!
//! The customer must have been loaded against this annex (`load::customer_for`,
//! `load::customers_for`), which checks its features once; the annex's vendor is checked
//! once, when the composer is made.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::annex::{Fingerprint, diff::AnnexDiff};
use crate::document::{Attachment, Block, Document, Metadata, Party, SignatureBlock};
use crate::legal::Specimen;
use crate::load::{self, LoadError};
use crate::markup::{self, MarkupError};
use crate::model::{Annex, Customer, Vendor};
use crate::output;
use crate::template::{self, RunContext, SigningInfo, TemplateError, TemplateFile};

/// What kind of document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// The Data Processing Agreement.
    Dpa,
    /// A notice of changes to the subprocessor list.
    Notice,
}

impl Kind {
    /// The word used in the register and in file names: "dpa" or "notice".
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Dpa => "dpa",
            Kind::Notice => "notice",
        }
    }
}

/// Why a document could not be composed.
#[derive(Debug, Error)]
pub enum ComposeError {
    #[error(transparent)]
    Inputs(Box<LoadError>),
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("template {template}: Markdown")]
    Markup {
        template: String,
        #[source]
        source: MarkupError,
    },
    #[error("a change notice needs the previous annex, and none was given")]
    NoNotice,
}

impl From<LoadError> for ComposeError {
    fn from(e: LoadError) -> ComposeError {
        ComposeError::Inputs(Box::new(e))
    }
}

impl crate::error::Hint for ComposeError {
    fn hint(&self) -> Option<String> {
        use crate::error::Hint;
        match self {
            ComposeError::Inputs(e) => Hint::hint(e.as_ref()),
            ComposeError::Template(e) => Hint::hint(e),
            ComposeError::Markup { source, .. } => Hint::hint(source),
            ComposeError::NoNotice => Some("pass --previous with the annex being replaced".into()),
        }
    }
}

/// What a change notice needs besides the new annex.
pub struct NoticeInputs {
    pub template: TemplateFile,
    pub previous: Annex,
    pub previous_fingerprint: Fingerprint,
    pub diff: AnnexDiff,
    /// The notice's date: the objection period runs from it.
    pub date: NaiveDate,
}

impl NoticeInputs {
    /// The notice's inputs from the previous annex; the diff is computed here.
    pub fn new(
        template: TemplateFile,
        previous: Annex,
        new: &Annex,
        date: NaiveDate,
    ) -> Result<NoticeInputs, crate::annex::diff::DiffError> {
        Ok(NoticeInputs {
            diff: crate::annex::diff::diff(&previous, new)?,
            previous_fingerprint: crate::annex::fingerprint(&previous),
            previous,
            template,
            date,
        })
    }

    /// The last day on which the customer can object: the notice date plus the notice period.
    pub fn deadline(&self, vendor: &Vendor) -> NaiveDate {
        self.date + chrono::Days::new(u64::from(vendor.notice_days))
    }
}

/// Everything composition needs that is the same for every customer of a run.
pub struct Composer {
    /// Vendor, annex and fingerprint, with the context parts that depend on them alone.
    run: RunContext,
    dpa: TemplateFile,
    notice: Option<NoticeInputs>,
    /// The annex as an embedded file, made once: every document of a run carries it.
    attachment: Attachment,
}

impl Composer {
    /// Checks that the annex belongs to the vendor and prepares what every document shares.
    pub fn new(
        vendor: Vendor,
        annex: Annex,
        dpa: TemplateFile,
        notice: Option<NoticeInputs>,
    ) -> Result<Composer, ComposeError> {
        load::check_annex_vendor(&vendor, &annex)?;
        let fingerprint = crate::annex::fingerprint(&annex);
        Ok(Composer {
            attachment: annex_attachment(&annex),
            run: RunContext::new(vendor, annex, fingerprint),
            dpa,
            notice,
        })
    }

    pub fn vendor(&self) -> &Vendor {
        self.run.vendor()
    }

    pub fn annex(&self) -> &Annex {
        self.run.annex()
    }

    pub fn fingerprint(&self) -> &Fingerprint {
        self.run.fingerprint()
    }

    /// The change notice's inputs, when this run issues notices.
    pub fn notice(&self) -> Option<&NoticeInputs> {
        self.notice.as_ref()
    }

    /// The template of a kind of document.
    pub fn template(&self, kind: Kind) -> Result<&TemplateFile, ComposeError> {
        match kind {
            Kind::Dpa => Ok(&self.dpa),
            Kind::Notice => Ok(&self.notice.as_ref().ok_or(ComposeError::NoNotice)?.template),
        }
    }

    /// Compiles the template of a kind of document unless it is compiled already (one read
    /// with `TemplateFile::read_lazy` is compiled when it is first rendered).
    pub fn compile(&self, kind: Kind) -> Result<(), ComposeError> {
        Ok(self.template(kind)?.template.compile()?)
    }

    /// The file name of a kind of document: vendor, kind and annex version, e.g.
    /// `segmetrics-inc-dpa-2026-05-26.pdf`.
    pub fn file_name(&self, kind: Kind) -> String {
        file_name(self.vendor(), self.annex(), kind)
    }

    /// The Markdown a kind of document renders to for one customer.
    pub fn markdown(
        &self,
        kind: Kind,
        customer: &Customer,
        signing: &SigningInfo,
    ) -> Result<String, ComposeError> {
        self.render(kind, customer, signing)
            .map(|(markdown, _)| markdown)
    }

    /// The Markdown of a kind of document for one customer, and why it is a specimen.
    fn render(
        &self,
        kind: Kind,
        customer: &Customer,
        signing: &SigningInfo,
    ) -> Result<(String, Specimen), ComposeError> {
        // Worked out once: the context prints it and the watermark follows it.
        let specimen = self.run.specimen(customer, &signing.key_id);
        let mut context = self.run.context(customer, signing, &specimen);
        if kind == Kind::Notice {
            let notice = self.notice.as_ref().ok_or(ComposeError::NoNotice)?;
            template::add_notice_context(&mut context, self.vendor(), self.annex(), notice);
        } else if let Some(notice) = &self.notice
            && let Some(issue) = context.get_mut("issue").and_then(|i| i.as_object_mut())
        {
            // A DPA issued with a change notice is the consolidated version it refers to.
            issue.insert(
                "notice_date_text".into(),
                template::long_date(notice.date).into(),
            );
        }
        let markdown = self.template(kind)?.template.render_owned(context)?;
        Ok((markdown, specimen))
    }

    /// Composes one customer's document of the given kind.
    pub fn document(
        &self,
        kind: Kind,
        customer: &Customer,
        signing: &SigningInfo,
    ) -> Result<Document, ComposeError> {
        let (markdown, specimen) = self.render(kind, customer, signing)?;
        // Only the DPA is signed by both parties; the notice is signed by the vendor alone.
        let mut signatures =
            (kind == Kind::Dpa).then(|| signature_block(self.vendor(), customer, signing));
        if let Some(block) = &mut signatures
            && crate::legal::is_consolidated(self.annex(), customer)
        {
            // The Controller signed the Agreement when it was concluded; a list change
            // needs no new signature (clause 13.5), so its lines are marked, not left blank.
            block.customer.date = Some("not required (clause 13.5)".to_string());
            block.customer.signed = Some(
                "No signature needed: the Controller signed the Agreement when it was concluded (clause 13.5)"
                    .to_string(),
            );
        }
        let blocks: Vec<Block> =
            markup::parse(&markdown, signatures.as_ref()).map_err(|source| {
                ComposeError::Markup {
                    template: self
                        .template(kind)
                        .map_or_else(|_| String::new(), |t| t.template.name().to_string()),
                    source,
                }
            })?;
        // A specimen says so on every page, not only in a paragraph a reader may skip.
        Ok(Document {
            meta: self.metadata(kind, customer, signing.issued),
            blocks,
            footer: footer(self.annex(), self.fingerprint()),
            attachments: vec![self.attachment.clone()],
            lang: None,
            watermark: specimen
                .any()
                .then(|| crate::legal::SPECIMEN_MARK.to_string()),
            own_text: own_text(customer),
        })
    }

    /// The PDF metadata of a customer's document; its date is the issue date.
    pub fn metadata(&self, kind: Kind, customer: &Customer, issued: NaiveDate) -> Metadata {
        let (vendor, annex) = (self.vendor(), self.annex());
        let (title, subject) = match (kind, &self.notice) {
            (Kind::Notice, Some(notice)) => (
                format!(
                    "Notice of subprocessor changes: {} to {}",
                    notice.previous.version, annex.version
                ),
                format!(
                    "Change of {}'s subprocessor list for {}",
                    vendor.legal_name, customer.legal_name
                ),
            ),
            _ => (
                format!(
                    "Data Processing Agreement between {} and {}",
                    customer.legal_name, vendor.legal_name
                ),
                format!(
                    "Data Processing Agreement under Article 28 GDPR with subprocessor list {}",
                    annex.version
                ),
            ),
        };
        Metadata {
            title,
            author: vendor.legal_name.clone(),
            subject,
            keywords: vec![
                "DPA".to_string(),
                "GDPR Article 28".to_string(),
                format!("customer={}", customer.id),
                format!("annex={}", annex.version),
                format!("annex_sha256={}", self.fingerprint().hex()),
            ],
            date: issued,
        }
    }
}

/// The file name of a kind of document for a vendor and annex version.
pub fn file_name(vendor: &Vendor, annex: &Annex, kind: Kind) -> String {
    format!(
        "{}-{}-{}.pdf",
        output::slug(&vendor.legal_name, "vendor"),
        kind.as_str(),
        annex.version
    )
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

/// What a customer's document says about that customer alone, as the text prints it:
/// their id, legal name, address, e-mail and signatory. The PDF writer gives the
/// paragraphs that hold any of it content streams of their own (`Document::own_text`);
/// the effective date, country and signatory's title are left out, as the same words
/// stand in clauses every customer shares.
fn own_text(customer: &Customer) -> Vec<String> {
    [
        &customer.id,
        &customer.legal_name,
        &customer.address,
        &customer.email,
        &customer.signatory.name,
    ]
    .into_iter()
    .cloned()
    .collect()
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
