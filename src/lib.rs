//! `dpa` assembles Data Processing Agreements and signs them.
//!
//! The steps, top to bottom:
//! 1. `config`: flags, environment and `dpa.toml` -> resolved inputs with their origin;
//! 2. `load`: vendor.toml, annex.toml, customer files -> `model` types, validated;
//! 3. `annex`: the annex fingerprint (SHA-256 of canonical JSON), diffs, imports;
//! 4. `compose`: a customer's DPA or notice as a `document`: `template` (Handlebars over a
//!    JSON context -> Markdown text), then `markup` (Markdown -> blocks);
//! 5. `layout`: blocks -> pages of positioned glyph runs (pure, no PDF types);
//! 6. `pdf`: pages -> PDF bytes (pdf-writer; tagged, with outline, links and form fields);
//! 7. `sign`: SHA-256, minisign, SSHSIG and raw Ed25519 signatures; X.509, CMS and
//!    embedded PDF signatures; verification;
//! 8. `issue`: compose, render and sign a customer's documents, decided against the
//!    register, and commit them to the `output` folder with their `register` rows;
//!    `batch` does it for many customers in parallel;
//! 9. `accept`: what a customer sent back, matched to an issued document, verified, kept
//!    as evidence and recorded; `status` derives where each customer stands.
//!
//! Beside the steps: `cache` keeps work that repeats between documents (per thread,
//! bounded); `error` holds what the error types share (hints, printing a cause
//! chain once); `untrusted` escapes outside text before it is printed; `version` names
//! the build (for `--version` and the engine's identity).
#![forbid(unsafe_code)]

pub mod accept;
pub mod annex;
pub mod annex_check;
pub mod batch;
pub mod cache;
pub mod compose;
pub mod config;
pub mod document;
pub mod error;
pub mod issue;
pub mod layout;
pub mod legal;
pub mod load;
pub mod markup;
pub mod model;
pub mod output;
pub mod pdf;
pub mod rebuild;
pub mod register;
pub mod sign;
pub mod status;
pub mod template;
pub mod untrusted;
pub mod verifier;
pub mod version;
