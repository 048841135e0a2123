//! `dpa` assembles Data Processing Agreements and signs them.
//!
//! The steps, top to bottom:
//! 1. `load`: vendor.toml, annex.toml, customer files -> `model` types, validated;
//! 2. `annex`: the annex fingerprint (SHA-256 of canonical JSON), diffs, imports;
//! 3. `template`: Handlebars over a JSON context -> Markdown text;
//! 4. `markup`: Markdown -> `document` blocks;
//! 5. `layout`: blocks -> pages of positioned glyph runs (pure, no PDF types);
//! 6. `pdf`: pages -> PDF bytes (the only module that uses printpdf);
//! 7. `sign`: SHA-256, minisign, SSHSIG and raw Ed25519 signatures; verification.
#![forbid(unsafe_code)]

pub mod annex;
pub mod assemble;
pub mod batch;
pub mod document;
pub mod generate;
pub mod layout;
pub mod legal;
pub mod load;
pub mod markup;
pub mod model;
pub mod output;
pub mod pdf;
pub mod register;
pub mod sign;
pub mod template;
pub mod verifier;
