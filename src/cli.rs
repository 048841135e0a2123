//! Command-line arguments (clap derive); the doc comments are the `--help` text.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};

/// Assemble Data Processing Agreements with your current subprocessor list, sign them, and
/// let customers verify them.
///
/// A `dpa.toml` in the working folder names the vendor, annex, template, key and output
/// folder, so most commands need only the customer.
#[derive(Debug, Parser)]
#[command(name = "dpa", version, max_term_width = 100)]
#[command(after_help = "Examples:
  dpa generate --customer fixtures/customers/mueller-soehne.toml
  dpa verify out/mueller-soehne/segmetrics-dpa-2026-05-26.pdf --pubkey signing.minisign.pub
  dpa batch --customers customers.csv --previous annex-old.toml --notice-date 2026-11-22")]
pub struct Cli {
    /// Read defaults from this file instead of ./dpa.toml.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Make a new Ed25519 signing key (four files in DIR).
    Keygen(KeygenArgs),
    /// Generate one customer's signed DPA.
    Generate(GenerateArgs),
    /// Check a DPA's signature: who signed it, for whom, which annex, altered or not.
    Verify(VerifyArgs),
    /// Regenerate every customer's DPA (and change notices) after a vendor change.
    Batch(BatchArgs),
    /// Work with annex files: fingerprint, diff, import.
    #[command(subcommand)]
    Annex(AnnexCommand),
    /// Look up what was issued to whom (the register in the output folder).
    #[command(subcommand)]
    Register(RegisterCommand),
    /// Write an offline browser page that verifies DPAs against your pinned public key.
    Verifier(VerifierArgs),
}

/// Make a new signing key.
///
/// Writes DIR/signing.key (private, mode 0600), DIR/signing.pub.pem, DIR/signing.minisign.pub
/// and DIR/allowed_signers. Existing files are never overwritten.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  dpa keygen --out keys --identity privacy@example.com")]
pub struct KeygenArgs {
    /// Folder to write the key files into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Signer identity for ssh-keygen's allowed_signers (usually the vendor's privacy e-mail).
    #[arg(long, value_name = "EMAIL")]
    pub identity: Option<String>,
}

/// Options naming the vendor's inputs; each defaults to the value in dpa.toml.
#[derive(Debug, Args, Clone, Default)]
pub struct InputArgs {
    /// The vendor file (legal name, address, signatory, notice period).
    #[arg(long, value_name = "FILE")]
    pub vendor: Option<PathBuf>,
    /// The annex: the current subprocessor list.
    #[arg(long, value_name = "FILE")]
    pub annex: Option<PathBuf>,
    /// The DPA template (Handlebars over Markdown).
    #[arg(long, value_name = "FILE")]
    pub template: Option<PathBuf>,
    /// The private signing key (PKCS#8 PEM). Or set DPA_SIGNING_KEY to the PEM text.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Output folder; documents go to OUT/<customer-id>/.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Generate one customer's signed DPA.
///
/// Writes OUT/<customer-id>/<vendor>-dpa-<annex version>.pdf with .sha256, .minisig and
/// .sshsig beside it, and records it in OUT/register.sqlite.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  dpa generate --customer fixtures/customers/mueller-soehne.toml
  dpa generate --customer acme.toml --annex annex-2026-07.toml --raw-sig")]
pub struct GenerateArgs {
    /// The customer file (id, legal name, address, signatory, features).
    #[arg(long, value_name = "FILE")]
    pub customer: PathBuf,
    #[command(flatten)]
    pub inputs: InputArgs,
    /// Also write a raw 64-byte X.pdf.sig for `openssl pkeyutl -verify -rawin`.
    #[arg(long)]
    pub raw_sig: bool,
    /// The day the vendor signs, printed in the document and its signature (default:
    /// SOURCE_DATE_EPOCH if set, else today; a rerun keeps the date already recorded).
    #[arg(long, value_name = "YYYY-MM-DD", alias = "issued")]
    pub issue_date: Option<NaiveDate>,
    /// Replace an existing document even if its content differs.
    #[arg(long)]
    pub force: bool,
    /// Fail at once if another dpa is writing to the output folder, instead of waiting.
    #[arg(long)]
    pub no_wait: bool,
}

/// Check a DPA's signature against the vendor's public key.
///
/// Finds X.pdf.minisig (and .sha256, .sshsig) beside the PDF. Exit 0: valid; 1: not valid
/// (the reason is printed); 2: could not check (e.g. missing key file).
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  dpa verify segmetrics-dpa-2026-05-26.pdf --pubkey signing.minisign.pub
  dpa verify segmetrics-dpa-2026-05-26.pdf --pubkey signing.pub.pem --annex annex.toml --json")]
pub struct VerifyArgs {
    /// The PDF to check.
    pub pdf: PathBuf,
    /// The vendor's public key: signing.pub.pem or signing.minisign.pub. Only this key counts.
    #[arg(long, value_name = "FILE")]
    pub pubkey: PathBuf,
    /// Also check that this annex file is the one the DPA was signed with.
    #[arg(long, value_name = "FILE")]
    pub annex: Option<PathBuf>,
    /// The minisign signature (default: PDF path + .minisig).
    #[arg(long, value_name = "FILE")]
    pub minisig: Option<PathBuf>,
    /// The sha256sum file (default: PDF path + .sha256, if present).
    #[arg(long, value_name = "FILE")]
    pub sha256: Option<PathBuf>,
    /// The SSH signature (default: PDF path + .sshsig, if present).
    #[arg(long, value_name = "FILE")]
    pub sshsig: Option<PathBuf>,
    /// Print the verdict as a JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Regenerate every customer's DPA, and with --previous a signed change notice.
///
/// Safe to interrupt: every file is written to a temp file and renamed, and a rerun skips
/// what was already issued for the same inputs. Exit 1 if any customer failed.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  dpa batch --customers customers.csv
  dpa batch --customers customers/ --annex annex-new.toml --previous annex-old.toml --notice-date 2026-11-22")]
pub struct BatchArgs {
    /// A CSV file (header: id,legal_name,address,country,email,effective,signatory_name,
    /// signatory_title,features) or a folder of customer .toml files.
    #[arg(long, value_name = "CSV|DIR")]
    pub customers: PathBuf,
    #[command(flatten)]
    pub inputs: InputArgs,
    /// The annex being replaced: also issue each customer a change notice.
    #[arg(long, value_name = "FILE")]
    pub previous: Option<PathBuf>,
    /// Date of the change notice; the objection deadline is this plus the vendor's notice_days.
    /// Default: the issue date.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub notice_date: Option<NaiveDate>,
    /// The change-notice template (default: notice.md.hbs beside the DPA template).
    #[arg(long, value_name = "FILE")]
    pub notice_template: Option<PathBuf>,
    /// Parallel workers (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Also write raw 64-byte .sig files.
    #[arg(long)]
    pub raw_sig: bool,
    /// Replace existing documents whose content differs.
    #[arg(long)]
    pub force: bool,
    /// The day the vendor signs the new DPAs (default: SOURCE_DATE_EPOCH if set, else
    /// today; a rerun keeps the dates already recorded).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub issue_date: Option<NaiveDate>,
    /// Fail at once if another dpa is writing to the output folder, instead of waiting.
    #[arg(long)]
    pub no_wait: bool,
}

#[derive(Debug, Subcommand)]
pub enum AnnexCommand {
    /// Print an annex file's fingerprint (SHA-256 of its canonical JSON).
    #[command(after_help = "Example:\n  dpa annex fingerprint fixtures/segmetrics/annex.toml")]
    Fingerprint {
        /// The annex file.
        file: PathBuf,
    },
    /// Show what changed between two annex versions.
    #[command(after_help = "Example:\n  dpa annex diff annex-2026-05.toml annex-2026-07.toml")]
    Diff {
        old: PathBuf,
        new: PathBuf,
        /// Print JSON for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Turn a vendor's published subprocessor page (Markdown or text) into an annex file.
    #[command(after_help = "Examples:
  dpa annex import subprocessors.md --vendor \"Acme, Inc.\" --out annex.toml
  dpa annex import subprocessors.md --check")]
    Import(ImportArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The page: Markdown or plain text.
    pub page: PathBuf,
    /// Vendor legal name (default: from the page's title).
    #[arg(long)]
    pub vendor: Option<String>,
    /// Annex version (default: the effective date).
    #[arg(long)]
    pub version: Option<String>,
    /// Effective date (default: the page's "Last updated" or "Effective date").
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub effective: Option<NaiveDate>,
    /// Where to write the annex (default: standard output).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Print what was found as a table and write nothing.
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, Subcommand)]
pub enum RegisterCommand {
    /// List issued documents, oldest first.
    #[command(after_help = "Examples:
  dpa register list --customer mueller-soehne
  dpa register list --annex 2026-05-26 --json")]
    List {
        #[arg(long)]
        customer: Option<String>,
        #[arg(long, value_name = "VERSION")]
        annex: Option<String>,
        /// The output folder holding register.sqlite (default: from dpa.toml, else ./out).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Show one issued document by its register id.
    Show {
        id: i64,
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Check the register's hash chain: exit 0 if intact, 1 if a row was edited or removed.
    #[command(after_help = "Example:\n  dpa register verify --out out")]
    Verify {
        /// The output folder holding register.sqlite (default: from dpa.toml, else ./out).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Write a self-contained HTML page that verifies DPAs offline, with your key pinned.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  dpa verifier --pubkey keys/signing.minisign.pub --out verify.html"
)]
pub struct VerifierArgs {
    /// Your public key: signing.pub.pem or signing.minisign.pub.
    #[arg(long, value_name = "FILE")]
    pub pubkey: PathBuf,
    /// Vendor name shown on the page (default: from the vendor file in dpa.toml).
    #[arg(long)]
    pub vendor_name: Option<String>,
    /// Where to write the page.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}
