//! Issuing: a customer's composed documents become signed bytes, and those are committed
//! to the output folder together with their register rows.
//!
//! In: an [`Issuer`] built once per run (the [`Composer`], the [`KeySet`], the typesetter
//! and the output policy) and customers. Out: [`Product`]s (signed PDF, signatures and
//! the register [`Record`]), decided against what the register and the folder already
//! hold ([`Issuer::prepare`]) and committed by a [`Session`] (see [`session`]).
//!
//! The steps of one document, in [`Issuer::make`]: check the text against the fonts,
//! compose (`compose`), render the PDF with the signature fields and placeholders
//! (`pdf`, [`SigningPlan`]), embed the PAdES certification signature ([`KeySet::embed`])
//! when a PDF signing key is given, then make the detached signatures over the final
//! bytes ([`KeySet::detached`]), which therefore cover the embedded signature too.

pub mod keys;
pub mod session;

use std::borrow::Cow;

use chrono::NaiveDate;

use crate::compose::{ComposeError, Composer, Kind};
use crate::document::Style;
use crate::model::Customer;
use crate::output::OutputError;
use crate::pdf::{PdfError, SigningPlan, Typesetter};
use crate::register::{FileHash, Record, RegisterError, Row};
use crate::sign::{self, SignError, Signatures, TrustedComment};
use crate::template::SigningInfo;

pub use keys::{EmbedError, KeyError, KeySet, PdfKeys};
pub use session::Session;

/// Why a document could not be issued.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error(transparent)]
    Compose(#[from] ComposeError),
    #[error("{field} contains {ch}, which no font of the document has")]
    MissingGlyph { field: String, ch: String },
    #[error("typesetting failed")]
    Render(#[source] PdfError),
    #[error("signing failed")]
    Sign(#[source] SignError),
    #[error("the signature embedded in the PDF could not be made")]
    Embed(#[source] keys::EmbedError),
    #[error("{path} already exists with different content; refusing to replace a signed document")]
    Exists { path: String },
    #[error(
        "{path} is damaged, and rebuilding it from the same inputs gives other bytes \
         (SHA-256 {rebuilt}, the register has {registered})"
    )]
    NotReproducible {
        path: String,
        registered: String,
        rebuilt: String,
    },
    #[error(
        "annex version {version} was issued from this output folder with other content \
         (fingerprint {issued}, {count} documents); this annex file has fingerprint {given}"
    )]
    AnnexLabel {
        version: String,
        issued: String,
        count: i64,
        given: String,
    },
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error(transparent)]
    Register(#[from] RegisterError),
}

impl crate::error::Hint for IssueError {
    fn hint(&self) -> Option<String> {
        match self {
            IssueError::Compose(e) => e.hint(),
            IssueError::MissingGlyph { .. } => Some(
                "replace the character in the input file, or spell it with characters of the \
                 Latin, Greek or Cyrillic scripts"
                    .into(),
            ),
            IssueError::Sign(e) => e.hint(),
            IssueError::Embed(keys::EmbedError::Sign(e)) => e.hint(),
            IssueError::Embed(_) => None,
            IssueError::Exists { .. } => Some(
                "pass --force to replace it (the old signatures are replaced too), or use another --out folder"
                    .into(),
            ),
            IssueError::NotReproducible { .. } => Some(
                "restore the files from a backup, or pass --force to issue a new document in their place"
                    .into(),
            ),
            IssueError::AnnexLabel { .. } => Some(
                "give the changed list a new `version` (customers were sent the other one under this label)"
                    .into(),
            ),
            IssueError::Output(e) => e.hint(),
            IssueError::Register(e) => e.hint(),
            IssueError::Render(_) => None,
        }
    }
}

impl IssueError {
    /// Whether the error is about the output folder or the register, not one customer's
    /// data: a batch stops on it instead of going on with the next customer.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            IssueError::Output(OutputError::Io { .. } | OutputError::Busy { .. })
                | IssueError::Register(_)
        )
    }
}

/// The name of the vendor's signature field (`/T`) in every document.
pub const VENDOR_FIELD: &str = "Processor signature";

/// The name of the customer's empty signature field: named for the customer by id, since
/// a period (common in legal names) would split a field name into a hierarchy.
pub fn customer_field(customer_id: &str) -> String {
    format!("Controller signature ({customer_id})")
}

/// The signing time of a document issued on `date`: 00:00 UTC that day, never the clock.
fn x509_time(date: NaiveDate) -> chrono::NaiveDateTime {
    date.and_time(chrono::NaiveTime::MIN)
}

/// A value as serde_json writes it in a `Value` (object keys sorted).
fn json_text<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_value(value).unwrap_or_default().to_string()
}

/// A JSON object of fields already written as JSON text, in serde_json's `Value` order:
/// keys sorted by their bytes (its map is a `BTreeMap` without `preserve_order`).
fn object_text<const N: usize>(mut fields: [(&str, Cow<str>); N]) -> String {
    fields.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let mut out = String::with_capacity(fields.iter().map(|(k, v)| k.len() + v.len() + 4).sum());
    out.push('{');
    for (i, (key, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&json_text(key));
        out.push(':');
        out.push_str(value);
    }
    out.push('}');
    out
}

/// The output policy.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Also write the raw 64-byte `.sig`.
    pub raw_sig: bool,
    /// Replace documents whose content differs.
    pub force: bool,
}

/// Everything a run loads once to issue documents.
pub struct Issuer {
    composer: Composer,
    keys: KeySet,
    typesetter: Typesetter,
    options: Options,
    /// The vendor as JSON text with sorted keys, for [`Issuer::inputs_digest`]: the same
    /// for every document of a run, and most of the digest's text.
    vendor_json: std::sync::OnceLock<String>,
}

/// One document's inputs, its kind and customer, with their digest worked out once: the
/// register is searched by it, and the document made from them records the same value.
///
/// Only [`Issuer::inputs`] makes one, so the digest is always that of its kind and
/// customer under the issuer that made it.
#[derive(Debug, Clone)]
pub struct Inputs<'a> {
    kind: Kind,
    customer: &'a Customer,
    digest: String,
}

impl Inputs<'_> {
    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn customer(&self) -> &Customer {
        self.customer
    }

    /// The SHA-256 of the inputs' text (see [`Issuer::inputs_digest`]), as the register
    /// records it.
    pub fn digest(&self) -> &str {
        &self.digest
    }
}

/// A rendered, signed document not yet written.
#[derive(Debug, Clone)]
pub struct Product {
    pub kind: Kind,
    pub customer: String,
    pub pdf_name: String,
    pub pdf: Vec<u8>,
    pub signatures: Signatures,
    pub record: Record,
}

impl Product {
    /// The files of the set, as (name in the customer's folder, bytes): signatures, PDF.
    pub fn files(&self, raw_sig: bool) -> Vec<(String, &[u8])> {
        let mut files = self.signatures.files(&self.pdf_name, raw_sig);
        files.push((self.pdf_name.clone(), &self.pdf));
        files
    }
}

/// What to do for one document of a customer.
#[derive(Debug)]
pub enum Step {
    /// Issued before for the same inputs, and every file of the set is intact.
    Unchanged(Box<Row>),
    /// Issued before; these files are missing or damaged and are restored from a rebuild
    /// that is byte for byte the registered document (no new register row).
    Repair {
        product: Box<Product>,
        damaged: Vec<String>,
    },
    /// A new document (a new register row); `replaces` when it replaces other content.
    Issue {
        product: Box<Product>,
        replaces: bool,
    },
    /// The files are already on disk, identical, but were never recorded: record them.
    Record(Box<Product>),
}

impl Issuer {
    pub fn new(
        composer: Composer,
        keys: KeySet,
        typesetter: Typesetter,
        options: Options,
    ) -> Issuer {
        Issuer {
            composer,
            keys,
            typesetter,
            options,
            vendor_json: std::sync::OnceLock::new(),
        }
    }

    pub fn composer(&self) -> &Composer {
        &self.composer
    }

    pub fn keys(&self) -> &KeySet {
        &self.keys
    }

    pub fn typesetter(&self) -> &Typesetter {
        &self.typesetter
    }

    pub fn options(&self) -> Options {
        self.options
    }

    /// The issue date of a document of this kind: the notice's date for a notice.
    pub fn issue_date(&self, kind: Kind, issue_date: NaiveDate) -> NaiveDate {
        match (kind, self.composer.notice()) {
            (Kind::Notice, Some(n)) => n.date,
            _ => issue_date,
        }
    }

    /// The digest of everything that determines a document's bytes except its issue date,
    /// which is recorded beside it: a rerun on another day finds the same document.
    pub fn inputs_digest(&self, kind: Kind, customer: &Customer) -> String {
        sign::sha256_hex(self.inputs_text(kind, customer).as_bytes())
    }

    /// A document's inputs with their digest, to look the register up with and then to
    /// make the document from ([`Issuer::make_from`], [`Issuer::prepare`]).
    pub fn inputs<'a>(&self, kind: Kind, customer: &'a Customer) -> Inputs<'a> {
        Inputs {
            kind,
            customer,
            digest: self.inputs_digest(kind, customer),
        }
    }

    /// The JSON text [`Issuer::inputs_digest`] hashes: one object of the inputs, its keys
    /// sorted at every level as serde_json's `Value` writes them.
    ///
    /// The register compares digests across versions, so the text must stay the one a
    /// `json!` of these fields gives. Only the customer is serialised per document: the
    /// vendor, by far the largest part, is serialised once per issuer (`vendor_json`).
    fn inputs_text(&self, kind: Kind, customer: &Customer) -> String {
        let c = &self.composer;
        let notice = c.notice().filter(|_| kind == Kind::Notice);
        let template = c.template(kind).map(|t| t.sha256.as_str()).unwrap_or("");
        let vendor = self.vendor_json.get_or_init(|| json_text(c.vendor()));
        object_text([
            // The program that renders and signs: a new engine re-issues what it would
            // render differently.
            ("dpa", json_text(&crate::version::ENGINE).into()),
            ("kind", json_text(&kind.as_str()).into()),
            ("vendor", vendor.into()),
            ("annex", json_text(&c.fingerprint().hex()).into()),
            ("customer", json_text(customer).into()),
            ("template", json_text(&template).into()),
            (
                "previous",
                json_text(&notice.map(|n| n.previous_fingerprint.hex())).into(),
            ),
            (
                "notice_date",
                json_text(&notice.map(|n| n.date.to_string())).into(),
            ),
            ("key", json_text(&self.keys.key_id().to_string()).into()),
            (
                "pdf_cert",
                json_text(&self.keys.pdf().map(PdfKeys::cert_sha256)).into(),
            ),
            ("raw_sig", json_text(&self.options.raw_sig).into()),
        ])
    }

    /// The verification line printed in the document.
    ///
    /// It reaches the PDF as an escaped value, so Markdown in it would print literally:
    /// the commands are quoted with typographic quotes, not backticks.
    fn verify_hint(&self) -> String {
        let vendor = self.composer.vendor();
        format!(
            "Check this document with \u{201c}dpa verify\u{201d} or \u{201c}minisign -Vm\u{201d} and {}'s public key {} (published at {}).",
            vendor.legal_name,
            self.keys.key_id(),
            vendor.website
        )
    }

    /// What the embedded signature of a document says and shows.
    fn signing_plan(
        &self,
        kind: Kind,
        customer: &Customer,
        issued: NaiveDate,
        pdf_keys: &PdfKeys,
    ) -> SigningPlan {
        let vendor = self.composer.vendor();
        let what = match kind {
            Kind::Dpa => "Data Processing Agreement",
            Kind::Notice => "Notice of a change of subprocessors",
        };
        // The certificate's name, not the vendor file's: the appearance must say what
        // a reader's signature panel says (a demo certificate says it is one).
        let signer = pdf_keys
            .signer_name()
            .unwrap_or_else(|| vendor.legal_name.clone());
        SigningPlan {
            vendor_field: VENDOR_FIELD.to_string(),
            appearance: vec![
                format!("Digitally signed by {signer}"),
                format!("{}, {}", vendor.signatory.name, vendor.signatory.title),
                format!(
                    "{} \u{b7} certificate {}",
                    crate::template::long_date(issued),
                    pdf_keys.cert_id()
                ),
            ],
            name: vendor.legal_name.clone(),
            reason: format!("{what} issued to {}", customer.legal_name),
            location: vendor.address.clone(),
            contact_info: vendor.email.clone(),
            signed_at: x509_time(issued),
            contents_size: pdf_keys.contents_size(),
            customer_field: Some(customer_field(&customer.id)),
        }
    }

    /// What the template is told about the signature of a document issued on `issued`.
    pub fn signing_info(&self, issued: NaiveDate) -> SigningInfo {
        SigningInfo {
            key_id: self.keys.key_id().to_string(),
            issued,
            verify_hint: self.verify_hint(),
        }
    }

    /// Renders and signs one customer's document of a kind, dated `issued`.
    pub fn make(
        &self,
        kind: Kind,
        customer: &Customer,
        issued: NaiveDate,
    ) -> Result<Product, IssueError> {
        self.make_from(&self.inputs(kind, customer), issued)
    }

    /// Renders and signs the document of `inputs`, dated `issued`; its register record
    /// carries the digest `inputs` holds, which is not worked out again.
    pub fn make_from(&self, inputs: &Inputs, issued: NaiveDate) -> Result<Product, IssueError> {
        let Inputs {
            kind,
            customer,
            ref digest,
        } = *inputs;
        // An `Inputs` of another issuer would record a digest of other inputs.
        debug_assert_eq!(*digest, self.inputs_digest(kind, customer));
        self.check_glyphs(customer)?;
        let signing = self.signing_info(issued);
        let doc = self.composer.document(kind, customer, &signing)?;
        let pdf = match self.keys.pdf() {
            None => self.typesetter.render(&doc).map_err(IssueError::Render)?,
            Some(pdf_keys) => {
                let plan = self.signing_plan(kind, customer, issued, pdf_keys);
                let written = self
                    .typesetter
                    .render_for_signing(&doc, &plan)
                    .map_err(IssueError::Render)?;
                self.keys
                    .embed(written, issued)
                    .map_err(IssueError::Embed)?
            }
        };
        let pdf_name = self.composer.file_name(kind);
        let digests = sign::digests::file(&pdf);
        let sha256 = digests.sha256_hex();
        let c = &self.composer;
        let comment = TrustedComment {
            file: pdf_name.clone(),
            sha256: sha256.clone(),
            annex: c.annex().version.clone(),
            annex_sha256: c.fingerprint().hex(),
            customer: customer.id.clone(),
            issued,
            key: self.keys.key_id(),
        };
        let signatures = self
            .keys
            .detached(&pdf_name, &pdf, &digests, &comment, self.options.raw_sig)
            .map_err(IssueError::Sign)?;
        let mut product = Product {
            kind,
            customer: customer.id.clone(),
            pdf_name: pdf_name.clone(),
            record: Record {
                customer_id: customer.id.clone(),
                kind,
                annex_version: c.annex().version.clone(),
                annex_sha256: c.fingerprint().hex(),
                template_sha256: c.template(kind)?.sha256.clone(),
                inputs_sha256: digest.clone(),
                pdf_sha256: sha256,
                key_id: self.keys.key_id().to_string(),
                issued: issued.to_string(),
                path: format!("{}/{}", customer.id, pdf_name),
                files: Vec::new(),
                deadline: match (kind, c.notice()) {
                    (Kind::Notice, Some(n)) => Some(n.deadline(c.vendor()).to_string()),
                    _ => None,
                },
            },
            pdf,
            signatures,
        };
        product.record.files = product
            .files(self.options.raw_sig)
            .into_iter()
            .map(|(name, bytes)| FileHash {
                // The PDF's hash is the one just signed; the small files are hashed here.
                sha256: if name == product.pdf_name {
                    product.record.pdf_sha256.clone()
                } else {
                    sign::sha256_hex(bytes)
                },
                name,
                size: Some(bytes.len() as u64),
            })
            .collect();
        Ok(product)
    }

    /// Decides what the document of `inputs` needs, against the register's row for the
    /// same inputs (`known`, found by their digest) and the customer's folder, and makes
    /// it when it is needed.
    ///
    /// `issue_date` is the run's; `date_chosen` says whether a person set it (flag or
    /// environment): a default date yields to the date already recorded for these inputs.
    /// `made` is the document already made from these inputs for this date, if the
    /// caller made it (to find bad input before touching the output folder); it is used
    /// when it fits.
    pub fn prepare(
        &self,
        session: &Session,
        inputs: &Inputs,
        known: Option<Row>,
        issue_date: NaiveDate,
        date_chosen: bool,
        made: Option<Product>,
    ) -> Result<Step, IssueError> {
        let (kind, customer) = (inputs.kind, inputs.customer);
        let issue_date = self.issue_date(kind, issue_date);
        let make = |date: NaiveDate| match &made {
            Some(p)
                if p.kind == kind
                    && p.record.inputs_sha256 == inputs.digest
                    && p.record.issued == date.to_string() =>
            {
                Ok(p.clone())
            }
            _ => self.make_from(inputs, date),
        };
        let known = known.filter(|row| !date_chosen || row.record.issued == issue_date.to_string());
        if let Some(row) = known {
            let damaged = session.damaged(&row.record)?;
            if damaged.is_empty() {
                return Ok(Step::Unchanged(Box::new(row)));
            }
            let issued = row.record.issued.parse().unwrap_or(issue_date);
            let product = make(issued)?;
            if product.record.pdf_sha256 == row.record.pdf_sha256 {
                return Ok(Step::Repair {
                    product: Box::new(product),
                    damaged,
                });
            }
            if !self.options.force {
                return Err(IssueError::NotReproducible {
                    path: session.display(&row.record.path),
                    registered: row.record.pdf_sha256,
                    rebuilt: product.record.pdf_sha256,
                });
            }
            return Ok(Step::Issue {
                product: Box::new(product),
                replaces: true,
            });
        }
        let product = make(issue_date)?;
        let on_disk = session.read(&customer.id, &product.pdf_name)?;
        match on_disk {
            None => Ok(Step::Issue {
                product: Box::new(product),
                replaces: false,
            }),
            Some(existing) if existing == product.pdf => {
                if session.damaged(&product.record)?.is_empty() {
                    Ok(Step::Record(Box::new(product)))
                } else {
                    Ok(Step::Issue {
                        product: Box::new(product),
                        replaces: true,
                    })
                }
            }
            Some(_) if self.options.force => Ok(Step::Issue {
                product: Box::new(product),
                replaces: true,
            }),
            Some(_) => Err(IssueError::Exists {
                path: session.display(&product.record.path),
            }),
        }
    }

    /// Refuses customer or vendor text with a character no font has, naming the field.
    fn check_glyphs(&self, customer: &Customer) -> Result<(), IssueError> {
        let fonts = self.typesetter.fonts();
        let vendor = self.composer.vendor();
        let fields = [
            ("customer.legal_name", customer.legal_name.as_str()),
            ("customer.address", &customer.address),
            ("customer.country", &customer.country),
            ("customer.email", &customer.email),
            ("customer.signatory.name", &customer.signatory.name),
            ("customer.signatory.title", &customer.signatory.title),
            ("vendor.legal_name", &vendor.legal_name),
            ("vendor.address", &vendor.address),
            ("vendor.signatory.name", &vendor.signatory.name),
            ("vendor.signatory.title", &vendor.signatory.title),
        ];
        for (field, text) in fields {
            // Bold covers the same characters as regular in the bundled family; checking
            // both catches a customer name set in a heading.
            for style in [Style::Regular, Style::Bold] {
                if let Some(ch) = fonts.first_missing(text, style) {
                    return Err(IssueError::MissingGlyph {
                        field: field.to_string(),
                        ch: format!("U+{:04X} {:?}", ch as u32, ch),
                    });
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::NoticeInputs;
    use crate::sign::x509::{CertChain, PdfSigner, PdfSigningKey};
    use crate::template::TemplateFile;

    fn fixture(path: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
    }

    /// The inputs' text as it was first written: one `json!` of every field.
    fn json_macro_text(issuer: &Issuer, kind: Kind, customer: &Customer) -> String {
        let c = &issuer.composer;
        let notice = c.notice().filter(|_| kind == Kind::Notice);
        let template = c.template(kind).map(|t| t.sha256.as_str()).unwrap_or("");
        serde_json::json!({
            "dpa": crate::version::ENGINE,
            "kind": kind.as_str(),
            "vendor": c.vendor(),
            "annex": c.fingerprint().hex(),
            "customer": customer,
            "template": template,
            "previous": notice.map(|n| n.previous_fingerprint.hex()),
            "notice_date": notice.map(|n| n.date.to_string()),
            "key": issuer.keys.key_id().to_string(),
            "pdf_cert": issuer.keys.pdf().map(PdfKeys::cert_sha256),
            "raw_sig": issuer.options.raw_sig,
        })
        .to_string()
    }

    fn issuer(
        vendor: crate::model::Vendor,
        annex_dir: &str,
        pdf: bool,
        notice: bool,
        raw_sig: bool,
    ) -> Issuer {
        let annex =
            crate::load::annex(fixture(&format!("fixtures/{annex_dir}/annex.toml"))).unwrap();
        let notice = notice.then(|| {
            let previous = crate::load::annex(fixture("fixtures/segmetrics/annex.toml")).unwrap();
            let template = TemplateFile::read(&fixture("templates/notice.md.hbs")).unwrap();
            let date = NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
            NoticeInputs::new(template, previous, &annex, date).unwrap()
        });
        let template = TemplateFile::read(&fixture("templates/dpa.md.hbs")).unwrap();
        let key = crate::sign::SecretKey::load(&fixture("fixtures/keys/demo-only.key")).unwrap();
        let mut keys = KeySet::from_ed25519(key);
        if pdf {
            let key = PdfSigningKey::load(&fixture("fixtures/keys/demo-only-pdf.key")).unwrap();
            let chain = CertChain::load(&fixture("fixtures/keys/demo-only-pdf.chain.pem")).unwrap();
            let day = crate::sign::x509::start_of_day(NaiveDate::from_ymd_opt(2026, 6, 1).unwrap());
            keys = keys
                .with_pdf(PdfSigner::new(key, chain, day).unwrap())
                .unwrap();
        }
        Issuer::new(
            Composer::new(vendor, annex, template, notice).unwrap(),
            keys,
            Typesetter::new(crate::layout::PageSetup::default()).unwrap(),
            Options {
                raw_sig,
                force: false,
            },
        )
    }

    #[test]
    fn inputs_text_is_the_json_macro_text_for_every_combination_of_fields() {
        let mut customers: Vec<Customer> = std::fs::read_dir(fixture("fixtures/customers"))
            .unwrap()
            .map(|e| crate::load::customer(e.unwrap().path()).unwrap())
            .collect();
        customers.sort_by(|a, b| a.id.cmp(&b.id));
        // Features present and absent, and text that JSON escapes.
        let mut odd = customers[0].clone();
        odd.features = vec!["ai".into(), "x".into()];
        odd.legal_name = "Quote \" back\\slash \u{1} tab\t é".into();
        customers.push(odd);
        let vendor = |dir: &str| {
            crate::load::vendor(fixture(&format!("fixtures/{dir}/vendor.toml"))).unwrap()
        };
        // The segmetrics vendor with every optional field present, and with none.
        let mut full = vendor("segmetrics");
        full.governing_law = Some("the Netherlands".into());
        assert!(full.subprocessors_url.is_some() && full.processing.is_some());
        let mut bare = full.clone();
        bare.governing_law = None;
        bare.subprocessors_url = None;
        bare.processing = None;
        let mut issuers = vec![
            issuer(full, "segmetrics", true, true, true),
            issuer(bare, "segmetrics", false, false, false),
        ];
        for dir in ["caplena", "postgres-ai", "eea-only"] {
            issuers.push(issuer(
                vendor(dir),
                dir,
                dir == "caplena",
                false,
                dir == "eea-only",
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for issuer in &issuers {
            for kind in [Kind::Dpa, Kind::Notice] {
                for customer in &customers {
                    let want = json_macro_text(issuer, kind, customer);
                    // Twice: the first call fills the issuer's vendor text, the second uses it.
                    assert_eq!(issuer.inputs_text(kind, customer), want);
                    assert_eq!(issuer.inputs_text(kind, customer), want);
                    assert_eq!(
                        issuer.inputs_digest(kind, customer),
                        sign::sha256_hex(want.as_bytes())
                    );
                    seen.insert(want);
                }
            }
        }
        // Every optional field reached the text both as a value and as null.
        let all: Vec<&String> = seen.iter().collect();
        for (field, null) in [
            ("\"pdf_cert\":", "\"pdf_cert\":null"),
            ("\"previous\":", "\"previous\":null"),
            ("\"notice_date\":", "\"notice_date\":null"),
        ] {
            assert!(all.iter().any(|t| t.contains(null)), "{field} null");
            assert!(
                all.iter().any(|t| t.contains(field) && !t.contains(null)),
                "{field} set"
            );
        }
        assert!(all.iter().any(|t| t.contains("\"raw_sig\":true")));
        assert!(all.iter().any(|t| t.contains("\"raw_sig\":false")));
        assert!(all.iter().any(|t| t.contains("\"governing_law\":")));
        assert!(all.iter().any(|t| !t.contains("\"governing_law\":")));
    }

    #[test]
    fn a_document_records_the_digest_its_inputs_are_looked_up_by() {
        let vendor = crate::load::vendor(fixture("fixtures/segmetrics/vendor.toml")).unwrap();
        let issuer = issuer(vendor, "segmetrics", true, true, false);
        let customer =
            crate::load::customer(fixture("fixtures/customers/mueller-soehne.toml")).unwrap();
        let date = NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
        for kind in [Kind::Dpa, Kind::Notice] {
            let inputs = issuer.inputs(kind, &customer);
            assert_eq!((inputs.kind(), inputs.customer()), (kind, &customer));
            assert_eq!(inputs.digest(), issuer.inputs_digest(kind, &customer));
            let product = issuer.make_from(&inputs, date).unwrap();
            assert_eq!(product.record.inputs_sha256, inputs.digest());
            // `make` is `make_from` on inputs it works out itself.
            let made = issuer.make(kind, &customer, date).unwrap();
            assert_eq!((&made.pdf, &made.record), (&product.pdf, &product.record));
        }
    }

    #[test]
    fn prepare_uses_a_document_made_before_only_when_it_is_of_the_same_inputs() {
        let vendor = crate::load::vendor(fixture("fixtures/segmetrics/vendor.toml")).unwrap();
        let issuer = issuer(vendor, "segmetrics", false, false, false);
        let load = |name: &str| {
            crate::load::customer(fixture(&format!("fixtures/customers/{name}.toml"))).unwrap()
        };
        let (mueller, other) = (load("mueller-soehne"), load("datenwerk-ai"));
        let date = NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let session = Session::open(dir.path(), crate::output::Wait::No, || {}).unwrap();
        let inputs = issuer.inputs(Kind::Dpa, &mueller);
        let step = |made| {
            issuer
                .prepare(&session, &inputs, None, date, true, made)
                .unwrap()
        };
        let Step::Issue { product, .. } = step(Some(issuer.make(Kind::Dpa, &other, date).unwrap()))
        else {
            panic!("a new document")
        };
        // The other customer's document was not taken for Müller's.
        let own = issuer.make_from(&inputs, date).unwrap();
        assert_eq!(product.customer, "mueller-soehne");
        assert_eq!((&product.pdf, &product.record), (&own.pdf, &own.record));
        let Step::Issue { product, .. } = step(Some(own.clone())) else {
            panic!("a new document")
        };
        assert_eq!(product.pdf, own.pdf);
    }
}
