//! A ten-page test document for the typesetting engine, built in Rust.
//!
//! It has every block the engine knows: three heading levels, justified prose with
//! inline styles, nested ordered and bulleted lists, a 40-row table that spans pages,
//! a page break and the two-party signature block, plus the characters a German or
//! Polish customer brings (ü ß é ł č – “ ” €). Tests and the benchmark share it.

#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

use chrono::NaiveDate;
use dpa::document::{
    Block, Document, List, ListItem, Metadata, Party, Run, SignatureBlock, Style, Table,
};

pub const FOOTER: &str =
    "DPA SegMetrics, Inc. / Müller & Söhne GmbH · Annex 2026-05-26 · 3f2a 19c0 7b44 e1d2";

/// Sentences the prose is assembled from; each says something a DPA would say.
const SENTENCES: [&str; 16] = [
    "The Processor processes Customer Personal Data only on the documented instructions of the Controller, including with regard to transfers to a third country.",
    "Where the law of the Union or of a Member State requires other processing, the Processor informs the Controller of that requirement before processing begins, unless that law prohibits such information.",
    "Each person authorised to process Customer Personal Data is bound by a duty of confidentiality, whether contractual or statutory, that survives the end of the engagement.",
    "Taking into account the state of the art, the costs of implementation and the nature, scope, context and purposes of processing, the Processor maintains technical and organisational measures appropriate to the risk.",
    "The Processor notifies the Controller without undue delay, and in any event within forty-eight hours, after becoming aware of a personal data breach affecting Customer Personal Data.",
    "Such a notification describes the nature of the breach, the categories and approximate number of data subjects concerned, the likely consequences and the measures taken or proposed.",
    "The Processor assists the Controller, by appropriate measures and insofar as this is possible, in fulfilling its obligation to respond to requests from data subjects exercising their rights.",
    "On termination, the Processor deletes or returns all Customer Personal Data at the choice of the Controller and deletes existing copies, unless storage is required by applicable law.",
    "The Processor makes available all information necessary to demonstrate compliance with Article 28 of the GDPR and allows for audits, including inspections, by the Controller or an auditor it mandates.",
    "Audits take place during normal business hours at the Processor’s office, on thirty days’ written notice, and no more than once in any twelve-month period unless a breach has occurred.",
    "Nothing in this Agreement creates a fiduciary relationship between the parties, and neither party acts as the agent of the other when it processes personal data.",
    "The Controller remains responsible for the lawfulness of the instructions it gives and for the accuracy of the Customer Personal Data it submits to the services.",
    "Fees for assistance beyond the scope of the services are charged at the rates in the order form, currently € 180 per hour, and are capped at € 25,000 per contract year.",
    "Transfers to a country without an adequacy decision rely on the standard contractual clauses adopted by the European Commission, module two or module three as the case may be.",
    "Any notice under this Agreement is given in writing to the privacy contact of the receiving party, for the Controller to Frau Anna Łukasiewicz-Müller, Königstraße 12, 70173 Stuttgart.",
    "Questions about the processing carried out by the Prague office may also be sent to Tomáš Kučera, Václavské náměstí 1, Praha, who answers for the Czech subsidiary of the Processor.",
];

const SECTIONS: [&str; 12] = [
    "Subject matter and duration",
    "Instructions of the Controller",
    "Confidentiality",
    "Security of processing",
    "Personal data breaches",
    "Assistance to the Controller",
    "Subprocessors",
    "International transfers",
    "Audits and information",
    "Deletion and return",
    "Liability and costs",
    "Final provisions",
];

/// The paragraph texts of section `s`, deterministic and distinct per section.
pub fn section_paragraphs(s: usize) -> Vec<String> {
    let mut out = Vec::new();
    for p in 0..3 {
        let mut text = format!(
            "{}.{} With respect to {}, the parties agree as follows. ",
            s + 1,
            p + 1,
            SECTIONS[s].to_lowercase()
        );
        let count = 3 + (s + p) % 3;
        for k in 0..count {
            text.push_str(SENTENCES[(s * 5 + p * 3 + k * 7) % SENTENCES.len()]);
            text.push(' ');
        }
        out.push(text.trim_end().to_owned());
    }
    out
}

fn para(text: &str) -> Block {
    Block::Paragraph(vec![Run::plain(text)])
}

fn item(text: &str) -> ListItem {
    ListItem {
        blocks: vec![para(text)],
    }
}

pub const INTRO: &str = "This Data Processing Agreement (the “DPA”) forms part of the subscription agreement between SegMetrics, Inc. (the “Processor”) and Müller & Söhne GmbH, Königstraße 12, 70173 Stuttgart (the “Controller”). It sets out the terms on which the Processor handles personal data for the Controller – and nothing else – under Article 28 of the General Data Protection Regulation.";

/// The 40 subprocessor rows of the annex table: name, function, location, certifications.
pub fn table_rows() -> Vec<[String; 4]> {
    let functions = [
        "Primary application hosting and compute",
        "Transactional e-mail delivery",
        "Error monitoring and crash reporting",
        "Customer support ticketing and live chat for the Controller’s administrators",
        "Payment processing",
        "Data warehouse and analytics queries",
        "Backups in a second region, encrypted at rest with keys held by the Processor",
        "Content delivery network",
    ];
    let places = [
        "United States (NYC region)",
        "Ireland (EU)",
        "Germany, Frankfurt am Main",
        "Poland, Łódź",
        "Czech Republic, České Budějovice",
        "Switzerland, Zürich",
        "Poland, Wrocław",
    ];
    let certs = [
        "SOC 2, ISO 27001",
        "ISO 27001 ✓",
        "SOC 2 Type II",
        "PCI DSS Level 1",
        "—",
    ];
    (0..40)
        .map(|i| {
            [
                format!(
                    "Vendor {:02} {}",
                    i + 1,
                    ["Ltd.", "GmbH", "Inc.", "sp. z o.o.", "s.r.o."][i % 5]
                ),
                functions[i % functions.len()].to_owned(),
                places[i % places.len()].to_owned(),
                certs[i % certs.len()].to_owned(),
            ]
        })
        .collect()
}

pub fn signatures() -> SignatureBlock {
    SignatureBlock {
        vendor: Party {
            caption: "For the Processor".into(),
            organisation: "SegMetrics, Inc.".into(),
            name: Some("Jordan Ellis".into()),
            title: Some("Chief Executive Officer".into()),
            date: Some("1 June 2026".into()),
            signed: Some("Signed electronically — key 3F2A 19C0 7B44 E1D2 9A0C 55F1".into()),
        },
        customer: Party {
            caption: "For the Controller".into(),
            organisation: "Müller & Söhne GmbH".into(),
            name: None,
            title: None,
            date: None,
            signed: None,
        },
    }
}

/// The whole test document.
pub fn document() -> Document {
    let mut blocks = vec![
        Block::Heading {
            level: 1,
            runs: vec![Run::plain("Data Processing Agreement")],
        },
        Block::Paragraph(vec![
            Run::plain(INTRO),
            Run::plain(" Terms in "),
            Run::styled("bold italics", Style::BoldItalic),
            Run::plain(" are defined in "),
            Run::styled("Section 1", Style::Bold),
            Run::plain("; the "),
            Run::styled("Annex", Style::Italic),
            Run::plain(" lists every subprocessor → in force on the effective date."),
        ]),
    ];
    for (s, title) in SECTIONS.iter().enumerate() {
        blocks.push(Block::Heading {
            level: 2,
            runs: vec![Run::plain(format!("{}. {title}", s + 1))],
        });
        let paras = section_paragraphs(s);
        blocks.push(para(&paras[0]));
        if s == 1 {
            blocks.push(Block::List(List {
                start: Some(1),
                items: vec![
                    item("Instructions are given in writing, including by e-mail or through the settings of the services, and are recorded by the Processor."),
                    ListItem {
                        blocks: vec![
                            para("The Processor informs the Controller immediately if, in its opinion, an instruction infringes the GDPR or other data protection provisions, in particular where it concerns:"),
                            Block::List(List {
                                start: Some(1),
                                items: vec![
                                    item("transfers of personal data to a third country or an international organisation;"),
                                    item("the processing of special categories of personal data under Article 9;"),
                                    item("decisions based solely on automated processing, including profiling."),
                                ],
                            }),
                        ],
                    },
                    item("Additional instructions that change the scope of the services require a written amendment and may be subject to fees."),
                ],
            }));
        }
        if s == 3 {
            blocks.push(Block::Heading {
                level: 3,
                runs: vec![Run::plain("Measures in place")],
            });
            blocks.push(Block::List(List {
                start: None,
                items: vec![
                    item("Encryption of Customer Personal Data in transit (TLS 1.2 or later) and at rest (AES-256)."),
                    ListItem {
                        blocks: vec![
                            para("Access control on the principle of least privilege:"),
                            Block::List(List {
                                start: None,
                                items: vec![
                                    item("single sign-on with hardware-backed second factors for all staff;"),
                                    item("quarterly review of every role with access to production systems."),
                                ],
                            }),
                        ],
                    },
                    item("Logging of administrative access, kept for twelve months and reviewed weekly."),
                ],
            }));
        }
        blocks.push(para(&paras[1]));
        blocks.push(para(&paras[2]));
    }
    blocks.push(Block::PageBreak);
    blocks.push(Block::Heading {
        level: 2,
        runs: vec![Run::plain("Annex 1 – Subprocessors")],
    });
    blocks.push(para("The Controller authorises the following subprocessors. Each is bound by written terms that impose the same data protection obligations as this DPA."));
    blocks.push(Block::Table(Table {
        header: ["Subprocessor", "Function", "Location", "Certifications"]
            .iter()
            .map(|h| vec![Run::plain(*h)])
            .collect(),
        rows: table_rows()
            .into_iter()
            .map(|row| row.into_iter().map(|c| vec![Run::plain(c)]).collect())
            .collect(),
        width_hints: Vec::new(),
    }));
    blocks.push(Block::Heading {
        level: 2,
        runs: vec![Run::plain("Signatures")],
    });
    blocks.push(para("The parties have caused this DPA to be executed by their authorised representatives. The Processor signs electronically; the Controller signs by hand below and returns a copy to the Processor’s privacy contact."));
    blocks.push(Block::Signatures(Box::new(signatures())));
    Document {
        meta: Metadata {
            title: "Data Processing Agreement – Müller & Söhne GmbH".into(),
            author: "SegMetrics, Inc.".into(),
            subject: "GDPR Art. 28 DPA with subprocessor annex 2026-05-26".into(),
            keywords: vec!["DPA".into(), "GDPR".into(), "subprocessors".into()],
            date: NaiveDate::from_ymd_opt(2026, 6, 1).unwrap_or_default(),
        },
        blocks,
        footer: FOOTER.into(),
        attachments: Vec::new(),
        lang: None,
        watermark: None,
        own_text: Vec::new(),
    }
}

/// Runs a command-line tool (poppler-utils, qpdf) on a PDF and returns its standard output.
pub fn tool(program: &str, args: &[&str], path: &Path) -> String {
    // pdftotext writes to a file unless told to use standard output ("-").
    let stdout: &[&str] = if program == "pdftotext" { &["-"] } else { &[] };
    let out = Command::new(program)
        .args(args)
        .arg(path)
        .args(stdout)
        .output()
        .unwrap_or_else(|e| panic!("{program} is needed for this test (poppler-utils/qpdf): {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}
