//! Command-line arguments (clap derive); the doc comments are the `--help` text.
//!
//! Written for the person who types the command: what it does, what it writes, its exit
//! codes and an example that works as pasted in a checkout of this repository (with its
//! `dpa.toml`, fixtures and demo key). A subcommand's text is the doc comment of its
//! `XxxArgs` struct: the `Command` variants carry none, since clap would prefer theirs.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};

/// Assemble Data Processing Agreements with your current subprocessor list, sign them, and
/// let customers verify them.
///
/// A `dpa.toml` in the working folder names the vendor, annex, template, signing key and
/// output folder, so making a customer's DPA needs only the customer file.
#[derive(Debug, Parser)]
#[command(name = "dpa", version = dpa::version::LONG, max_term_width = 100)]
#[command(after_help = "Examples (in a checkout of the dpa repository):
  dpa generate --customer fixtures/customers/mueller-soehne.toml
  dpa verify out/mueller-soehne/segmetrics-inc-dpa-2026-05-26.pdf --pubkey fixtures/keys/demo-only.minisign.pub
  dpa annex diff fixtures/segmetrics/annex.toml fixtures/segmetrics/annex-next.toml

'dpa help COMMAND' or 'dpa COMMAND --help' explains one command.")]
#[command(after_long_help = "Examples (in a checkout of the dpa repository):
  dpa generate --customer fixtures/customers/mueller-soehne.toml
  dpa verify out/mueller-soehne/segmetrics-inc-dpa-2026-05-26.pdf --pubkey fixtures/keys/demo-only.minisign.pub
  dpa annex diff fixtures/segmetrics/annex.toml fixtures/segmetrics/annex-next.toml

Exit codes:
  0  success
  1  a check answered \"no\": not valid (verify), some customers failed (batch),
     the annexes differ (annex diff --exit-code)
  2  an error: bad input, a missing file, a refused overwrite; the message names the
     file, line and field, and a 'hint:' line says how to fix it

Scripts:
  --json (on verify, generate, batch, annex fingerprint, annex diff, register list and
  register show) prints one JSON document on standard output. An error is then JSON too,
  on standard output: {\"error\": \"...\", \"hint\": \"...\" or null, \"exit\": 2}.
  Text from files (names, fields, signature comments) is printed with control and
  invisible characters shown as \\u{..} escapes. A closed pipe ('dpa register list | head')
  ends the command quietly with exit code 0.

Shell completions: 'dpa completions bash' (or zsh, fish, elvish, powershell).
Manual pages: 'dpa man' (this page) or 'dpa man --out DIR' (one page per command).")]
pub struct Cli {
    /// Print no summaries, progress or warnings; errors still go to standard error.
    ///
    /// `dpa verify -q` and `dpa annex diff -q` print nothing at all and answer with their exit
    /// code. Output you asked for (--json, `annex fingerprint`, `annex import` to standard
    /// output, `register list`, `completions`, `man`) is still printed.
    #[arg(long, short, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Keygen(KeygenArgs),
    Generate(GenerateArgs),
    Verify(VerifyArgs),
    Batch(BatchArgs),
    Accept(AcceptArgs),
    Object(ObjectArgs),
    Status(StatusArgs),
    /// Work with annex files: fingerprint, diff, import, publish.
    #[command(subcommand)]
    Annex(AnnexCommand),
    /// Look up what was issued to whom (the register in the output folder).
    #[command(subcommand)]
    Register(RegisterCommand),
    Verifier(VerifierArgs),
    Completions(CompletionsArgs),
    Man(ManArgs),
}

/// Make the vendor's signing keys: for the detached signatures and for the PDF signature.
///
/// Writes DIR/signing.key (the private key, mode 0600: back it up, keep it secret) and three
/// public files to publish: DIR/signing.pub.pem (openssl, dpa verify), DIR/signing.minisign.pub
/// (minisign, dpa verify) and DIR/allowed_signers (ssh-keygen). It also writes the key of the
/// signature PDF readers show: DIR/pdf-signing.key (ECDSA P-256, mode 0600), its certificate
/// chain DIR/pdf-signing.chain.pem and the root certificate DIR/pdf-root.pem to publish. By
/// default the chain is a new root of your own and a certificate in the vendor's legal name
/// (from --vendor or dpa.toml); with --cert and --pdf-key, or with --pkcs12, a chain a CA
/// issued to you is used instead. Existing files are never overwritten: all seven files are
/// written, or none.
/// It prints the key id and both fingerprints to publish beside the public files.
///
/// Exit codes: 0 the keys were made; 2 an error (for example a key file already exists, or a
/// certificate that does not match the key, has expired or is listed out of order).
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  dpa keygen --out keys --identity privacy@example.com
  dpa keygen --out keys --cert ca-chain.pem --pdf-key ca-issued.key
  dpa keygen --out keys --pkcs12 ca-issued.p12 --pkcs12-password-file p12-password.txt")]
pub struct KeygenArgs {
    /// Folder to write the key files into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Signer identity for ssh-keygen's allowed_signers and the certificate's e-mail
    /// (default: the vendor's e-mail).
    #[arg(long, value_name = "EMAIL")]
    pub identity: Option<String>,
    /// The vendor file whose legal name the new certificate carries (default: dpa.toml's).
    #[arg(long, value_name = "FILE")]
    pub vendor: Option<PathBuf>,
    /// A certificate chain issued by a CA (PEM, your certificate first, then its issuers)
    /// to use for the PDF signature instead of a new root of your own; needs --pdf-key.
    #[arg(long, value_name = "CHAIN.pem", requires = "pdf_key")]
    pub cert: Option<PathBuf>,
    /// The P-256 private key (PKCS#8 PEM) the --cert chain was issued for.
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub pdf_key: Option<PathBuf>,
    /// A PKCS#12 file (.p12, .pfx) from a CA, holding the P-256 key and its certificate
    /// chain, to use for the PDF signature instead of --cert and --pdf-key.
    #[arg(long, value_name = "FILE.p12", conflicts_with_all = ["cert", "pdf_key"])]
    pub pkcs12: Option<PathBuf>,
    /// A file whose first line is the --pkcs12 file's password (default: the environment
    /// variable DPA_PKCS12_PASSWORD, else no password).
    #[arg(long, value_name = "FILE", requires = "pkcs12")]
    pub pkcs12_password_file: Option<PathBuf>,
    #[command(flatten)]
    pub config: ConfigArg,
}

/// The `--config` option, for the commands that read dpa.toml.
#[derive(Debug, Args, Clone, Default)]
pub struct ConfigArg {
    /// Read defaults from this file instead of ./dpa.toml (its paths are relative to it).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
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
    /// The P-256 key of the signature embedded in the PDF (pdf-signing.key). Or set
    /// DPA_PDF_SIGNING_KEY to the PEM text.
    #[arg(long, value_name = "FILE")]
    pub pdf_key: Option<PathBuf>,
    /// The certificate chain of --pdf-key, leaf first (pdf-signing.chain.pem, or a CA's).
    #[arg(long, value_name = "CHAIN.pem")]
    pub cert: Option<PathBuf>,
    /// Output folder; documents go to OUT/<customer-id>/.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub config: ConfigArg,
}

/// Generate one customer's signed DPA.
///
/// Reads the customer file and the vendor, annex, template and key named in dpa.toml, and
/// writes OUT/<customer-id>/<vendor>-dpa-<annex version>.pdf with .sha256, .minisig and
/// .sshsig beside it (and .sig with --raw-sig), then records it in OUT/register.sqlite.
/// Running it again with the same inputs changes nothing; a different existing document
/// is only replaced with --force.
///
/// Exit codes: 0 the DPA was written (or was already there, identical); 2 an error, such as
/// a mistake in the customer file (the message names its line and field).
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  dpa generate --customer fixtures/customers/mueller-soehne.toml
      writes out/mueller-soehne/segmetrics-inc-dpa-2026-05-26.pdf and its signature files
  dpa generate --customer fixtures/customers/acme-widgets-us.toml --raw-sig --json")]
pub struct GenerateArgs {
    /// The customer file (id, legal name, address, signatory, features); `-` reads it from
    /// standard input.
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
    /// Print what was written as a JSON object (errors too).
    #[arg(long)]
    pub json: bool,
}

/// Check a DPA's signature: who signed it, for whom, which annex, altered or not.
///
/// Reads X.pdf.minisig (and X.pdf.sha256 and X.pdf.sshsig when present) beside the PDF and
/// checks them against the vendor's public key, which you must get from the vendor itself
/// (its website or trust page), not from the e-mail that brought the DPA. Only that key
/// counts. The PDF must be a file, not standard input: its name and the signature files
/// beside it are part of the check.
///
/// It also checks the signature embedded in the PDF (who signed, when, intact, the whole
/// file or not) against the vendor's root certificate given with --cert. A file the customer
/// has countersigned is still the vendor's document: verify says which revision is the
/// vendor's, who signed after it, and whether anything but signing the empty fields changed.
///
/// Exit codes: 0 valid; 1 not valid (each reason is printed: altered document, signature of
/// another document, edited comment, another key, damaged signature, other annex, a PDF
/// signature that does not hold or content changed after it); 2 could not check (for
/// example the key file is missing).
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  dpa verify out/mueller-soehne/segmetrics-inc-dpa-2026-05-26.pdf --pubkey fixtures/keys/demo-only.minisign.pub
  dpa verify out/mueller-soehne/segmetrics-inc-dpa-2026-05-26.pdf --pubkey fixtures/keys/demo-only.minisign.pub --cert fixtures/keys/demo-only-pdf-root.pem
  dpa verify out/mueller-soehne/segmetrics-inc-dpa-2026-05-26.pdf --pubkey fixtures/keys/demo-only.pub.pem --annex fixtures/segmetrics/annex.toml --json")]
pub struct VerifyArgs {
    /// The PDF to check.
    pub pdf: PathBuf,
    /// The vendor's public key: signing.pub.pem or signing.minisign.pub. Only this key counts.
    #[arg(long, value_name = "FILE")]
    pub pubkey: PathBuf,
    /// The vendor's published root certificate (pdf-root.pem, PEM): the PDF signature must
    /// lead to it. Without it, who signed inside the PDF is shown but not checked against a
    /// root (a certificate carried in the file proves nothing by itself).
    #[arg(long, value_name = "ROOT.pem")]
    pub cert: Option<PathBuf>,
    /// Also check that this annex file is the one the DPA was signed with (`-`: standard input).
    #[arg(long, value_name = "FILE")]
    pub annex: Option<PathBuf>,
    /// The minisign signature (default: the PDF's path + .minisig).
    #[arg(long, value_name = "FILE")]
    pub minisig: Option<PathBuf>,
    /// The sha256sum file (default: the PDF's path + .sha256, if present).
    #[arg(long, value_name = "FILE")]
    pub sha256: Option<PathBuf>,
    /// The SSH signature (default: the PDF's path + .sshsig, if present).
    #[arg(long, value_name = "FILE")]
    pub sshsig: Option<PathBuf>,
    /// Print the verdict as a JSON object (errors too).
    #[arg(long)]
    pub json: bool,
    /// Also rebuild the DPA from its inputs (--customer, and the vendor, annex, template
    /// and key of ./dpa.toml or the flags) on the issue date its signature records, and
    /// say whether that is this PDF byte for byte, or the first difference.
    #[arg(long, requires = "customer")]
    pub rebuild: bool,
    #[command(flatten)]
    pub inputs: RebuildArgs,
}

/// The inputs of `dpa verify --rebuild`; each of vendor, template and key defaults to the
/// value in ./dpa.toml, and the annex is `--annex` (or dpa.toml's).
#[derive(Debug, Args, Clone, Default)]
pub struct RebuildArgs {
    /// With --rebuild: the customer file the DPA was made from.
    #[arg(long, value_name = "FILE", requires = "rebuild")]
    pub customer: Option<PathBuf>,
    /// With --rebuild: the vendor file.
    #[arg(long, value_name = "FILE", requires = "rebuild")]
    pub vendor: Option<PathBuf>,
    /// With --rebuild: the DPA template.
    #[arg(long, value_name = "FILE", requires = "rebuild")]
    pub template: Option<PathBuf>,
    /// With --rebuild: the private signing key (or DPA_SIGNING_KEY).
    #[arg(long, value_name = "FILE", requires = "rebuild")]
    pub key: Option<PathBuf>,
}

/// Regenerate every customer's DPA, and with --previous a signed change notice.
///
/// Issues each customer in the list a DPA with the current annex, in parallel, and with
/// --previous a change notice that lists what changed, the notice date and the objection
/// deadline. A customer with bad data is reported by id and reason; the others go on.
/// Safe to interrupt and safe with two operators: one dpa writes to an output folder at a
/// time (a second one waits), a customer's files and register rows appear together or not
/// at all, and a rerun skips what the register says was already issued for the same
/// inputs, and repairs what is missing or damaged on disk.
///
/// Exit codes: 0 every customer was issued (or already was); 1 some customers failed (they
/// are listed; the others were issued); 2 an error before any customer (for example a bad
/// annex file).
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  dpa batch --customers fixtures/batch/customers.csv
  dpa batch --customers fixtures/batch/customers.csv --annex fixtures/segmetrics/annex-next.toml \\
      --previous fixtures/segmetrics/annex.toml --notice-date 2026-06-10 --json")]
pub struct BatchArgs {
    /// A CSV file (header: id,legal_name,address,country,email,effective,signatory_name,
    /// signatory_title,features; `-` reads it from standard input) or a folder of customer
    /// .toml files.
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
    /// Print one JSON summary at the end (errors too); progress stays on standard error.
    #[arg(long)]
    pub json: bool,
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
    ///
    /// The same fingerprint is printed on the annex pages and, shortened, in every page
    /// footer of the DPAs issued with it.
    ///
    /// Exit codes: 0 printed; 2 the file is missing or not a valid annex.
    #[command(after_help = "Example:\n  dpa annex fingerprint fixtures/segmetrics/annex.toml")]
    Fingerprint {
        /// The annex file; `-` reads it from standard input.
        file: PathBuf,
        /// Print {"file", "version", "sha256"} as JSON (errors too).
        #[arg(long)]
        json: bool,
    },
    /// Show what changed between two annex versions.
    ///
    /// Lists the providers added, removed and changed (with the fields that changed).
    ///
    /// Exit codes: 0 printed (with --exit-code: no changes); 1 with --exit-code or -q: the
    /// annexes differ; 2 an error.
    #[command(after_help = "Examples:
  dpa annex diff fixtures/segmetrics/annex.toml fixtures/segmetrics/annex-next.toml
  dpa annex diff -q fixtures/segmetrics/annex.toml fixtures/segmetrics/annex-next.toml || echo changed")]
    Diff {
        /// The older annex file (`-`: standard input).
        old: PathBuf,
        /// The newer annex file (`-`: standard input; only one of the two can be).
        new: PathBuf,
        /// Print JSON for scripts (errors too).
        #[arg(long)]
        json: bool,
        /// Exit with 1 when the annexes differ, 0 when they do not (as `git diff --exit-code`).
        #[arg(long)]
        exit_code: bool,
    },
    Import(ImportArgs),
    Publish(PublishArgs),
}

/// Write the public subprocessor page: HTML, the canonical JSON of every version (its
/// SHA-256 is the fingerprint), SHA256SUMS and an Atom feed of the changes.
///
/// Writes only its own files into DIR (created if missing), each atomically; never deletes
/// anything. A file of the same name with other content is left alone and the command stops
/// before writing, unless --force. Every page is read back before it is written: an annex
/// whose page would not import to the same fingerprint is refused.
///
/// Exit codes: 0 written (or unchanged); 2 an error, such as an annex that would not
/// round-trip or a file of the same name with other content.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  dpa annex publish fixtures/segmetrics/annex-next.toml --previous fixtures/segmetrics/annex.toml --out out/site
  dpa annex publish annex.toml --vendor vendor.toml --notice-date 2026-06-10 --out site")]
pub struct PublishArgs {
    /// The current annex (the newest version).
    pub annex: PathBuf,
    /// An earlier version to publish beside it, with its changes in the feed (repeatable).
    #[arg(long, value_name = "FILE")]
    pub previous: Vec<PathBuf>,
    /// The folder to write the site into.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The vendor file: contact address and notice period (default: from dpa.toml, if any).
    #[arg(long, value_name = "FILE")]
    pub vendor: Option<PathBuf>,
    /// The day customers were notified of the current version (as given to `dpa batch`).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub notice_date: Option<NaiveDate>,
    /// Link to the verification page made by `dpa verifier` (default: verify.html).
    #[arg(long, value_name = "URL")]
    pub verifier_url: Option<String>,
    /// Folder URL of the public key files (default: beside the page).
    #[arg(long, value_name = "URL")]
    pub keys_url: Option<String>,
    /// Replace files of the same name whose content differs.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub config: ConfigArg,
}

/// Turn a vendor's published subprocessor page (HTML, Markdown or text) into an annex file.
///
/// Reads a saved web page (HTML), Markdown or text copied from a browser: tables with or
/// without a header row, one card, heading or definition-list term per provider with
/// labelled lines. Writes an annex for a person to review; anything it could not map is
/// reported as a warning with its line number.
///
/// Exit codes: 0 written (or checked); 2 an error, such as a page with no providers or an
/// --out file that already exists (pass --force to replace it).
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  dpa annex import tests/data/pages/linked-table.md --vendor \"Acme, Inc.\" --check
  dpa annex import tests/data/pages/linked-table.md --vendor \"Acme, Inc.\" --out annex.toml")]
pub struct ImportArgs {
    /// The page: HTML (.html, .htm), Markdown or plain text copied from a browser; `-` reads
    /// it from standard input.
    pub page: PathBuf,
    /// Vendor legal name (default: from the page's title).
    #[arg(long, value_name = "NAME")]
    pub vendor: Option<String>,
    /// Annex version (default: the effective date).
    #[arg(long, value_name = "VERSION")]
    pub version: Option<String>,
    /// Effective date (default: the page's "Last updated" or "Effective date").
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub effective: Option<NaiveDate>,
    /// Where to write the annex (default: standard output). An existing file is replaced
    /// only with --force, and never the page itself.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Replace the --out file if it exists.
    #[arg(long, requires = "out")]
    pub force: bool,
    /// Print what was found as a table and write nothing.
    #[arg(long, conflicts_with = "out")]
    pub check: bool,
}

/// Where the register is: --out, else dpa.toml's `out`, else ./out.
#[derive(Debug, Args, Clone, Default)]
pub struct RegisterAt {
    /// The output folder holding register.sqlite (default: from dpa.toml, else ./out).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub config: ConfigArg,
}

#[derive(Debug, Subcommand)]
pub enum RegisterCommand {
    /// List issued documents, oldest first.
    ///
    /// Exit codes: 0 listed (also when nothing matches); 2 an error, such as no register in
    /// the output folder.
    #[command(after_help = "Examples:
  dpa register list --customer mueller-soehne
  dpa register list --annex 2026-05-26 --json")]
    List {
        /// Only this customer's documents (its id, e.g. mueller-soehne).
        #[arg(long, value_name = "ID")]
        customer: Option<String>,
        /// Only documents issued with this annex version.
        #[arg(long, value_name = "VERSION")]
        annex: Option<String>,
        #[command(flatten)]
        at: RegisterAt,
        /// Print the rows as a JSON array (errors too).
        #[arg(long)]
        json: bool,
    },
    /// Show one issued document by its register id (the ID column of `register list`).
    ///
    /// Exit codes: 0 shown; 2 an error, such as no document with that id.
    #[command(after_help = "Example:\n  dpa register show 1")]
    Show {
        /// The document's id in the register.
        id: i64,
        #[command(flatten)]
        at: RegisterAt,
        /// Print the row as a JSON object (errors too).
        #[arg(long)]
        json: bool,
    },
    /// Check the register's integrity: its schema, its append-only triggers and the hash
    /// chain over every row.
    ///
    /// Prints the chain's head hash: keep it somewhere else (a ticket, an e-mail), since a
    /// register rewritten whole would end in another one.
    ///
    /// Exit codes: 0 intact; 1 not valid (a row edited or removed, a trigger dropped: the
    /// reason is printed); 2 an error, such as no register in the output folder.
    #[command(after_help = "Example:\n  dpa register verify --out out")]
    Verify {
        #[command(flatten)]
        at: RegisterAt,
        /// Print the result as a JSON object (errors too).
        #[arg(long)]
        json: bool,
    },
}

/// Record a DPA the customer sent back signed: verified, kept as evidence, registered.
///
/// The file must continue a DPA in the register byte for byte (what PDF software writes
/// when the customer signs the empty signature field): its file name does not matter.
/// dpa checks the vendor's issued part, verifies every signature added after it (RSA,
/// ECDSA, Ed25519) and refuses any other change (edited text, a new comment or field).
/// The signer's certificate is the customer's own: its subject, SHA-256 fingerprint and
/// signing time are recorded as evidence, not checked against a root unless you give
/// --trust. The file is kept in the customer's folder as <dpa>.accepted-<hash>.pdf and the
/// acceptance goes into the register; the same file again changes nothing.
///
/// A scan or a file rebuilt by other software cannot be linked to what was issued: record
/// it with --manual, naming the customer, the annex version, the day and who signed.
///
/// Exit codes: 0 recorded (or already recorded); 1 not accepted (the reason is printed:
/// no issued DPA in it, the issued part changed, another customer's DPA, not signed, a
/// signature that does not hold, a change beyond signing); 2 an error (unreadable file,
/// unknown customer or version, no register).
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  dpa accept returned/acme-signed.pdf
  dpa accept returned/acme-signed.pdf --customer acme-widgets-us --trust acme-root.pem --json
  dpa accept scans/acme.pdf --manual --customer acme-widgets-us --annex 2026-05-26 \\
      --accepted-on 2026-06-12 --by \"Jane Roe, General Counsel\" --note \"wet ink, by post\"")]
pub struct AcceptArgs {
    /// The file the customer sent back.
    pub file: PathBuf,
    /// The customer it should belong to; refused if it continues another customer's DPA.
    /// Without it, the customer is the one the register names for the matched DPA.
    #[arg(long, value_name = "ID")]
    pub customer: Option<String>,
    /// Check the customer's signing certificate against this root (PEM); refused if it
    /// does not lead to it. Without it the certificate is recorded but not checked.
    #[arg(long, value_name = "ROOT.pem")]
    pub trust: Option<PathBuf>,
    /// Record a file that is not linked to the issued bytes (a scan), by a person's word.
    #[arg(long, requires_all = ["customer", "annex", "accepted_on", "by"])]
    pub manual: bool,
    /// With --manual: the annex version accepted.
    #[arg(long, value_name = "VERSION", requires = "manual")]
    pub annex: Option<String>,
    /// With --manual: the day the customer signed.
    #[arg(long, value_name = "YYYY-MM-DD", requires = "manual")]
    pub accepted_on: Option<NaiveDate>,
    /// With --manual: who signed for the customer, "NAME, TITLE".
    #[arg(long, value_name = "NAME, TITLE", requires = "manual")]
    pub by: Option<String>,
    /// With --manual: a free-text note kept in the register.
    #[arg(long, value_name = "TEXT", requires = "manual")]
    pub note: Option<String>,
    #[command(flatten)]
    pub at: RegisterAt,
    /// Fail at once if another dpa is writing to the output folder, instead of waiting.
    #[arg(long)]
    pub no_wait: bool,
    /// Print the result as a JSON object (errors too).
    #[arg(long)]
    pub json: bool,
}

/// Record a customer's objection to a list announced by a change notice.
///
/// An objection received by the notice's deadline stops the list from being deemed
/// approved (see `dpa status`). The customer must have been issued that annex version.
///
/// Exit codes: 0 recorded (or already recorded); 2 an error, such as an unknown customer or
/// version.
#[derive(Debug, Args)]
#[command(after_help = "Example:
  dpa object --customer acme-widgets-us --annex 2026-07-01 --received 2026-06-20 --note \"e-mail from DPO\"")]
pub struct ObjectArgs {
    /// The customer's id.
    #[arg(long, value_name = "ID")]
    pub customer: String,
    /// The annex version objected to.
    #[arg(long, value_name = "VERSION")]
    pub annex: String,
    /// The day the objection was received.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub received: NaiveDate,
    /// A free-text note kept in the register.
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    #[command(flatten)]
    pub at: RegisterAt,
    /// Fail at once if another dpa is writing to the output folder, instead of waiting.
    #[arg(long)]
    pub no_wait: bool,
    /// Print the result as a JSON object (errors too).
    #[arg(long)]
    pub json: bool,
}

/// Show which subprocessor list each customer has accepted, and since when.
///
/// Per customer: the latest list issued; the latest accepted and how (countersigned, with
/// the signer and day; manual, with who was recorded; or deemed approved because a change
/// notice's period ended without an objection, from the day after its deadline); an
/// open objection; a notice period still running. Derived from the register only, as of
/// one day (default today), so the same register and day give the same answer.
///
/// Exit codes: 0 shown; 2 an error, such as no register in the output folder.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  dpa status
  dpa status --customer acme-widgets-us --as-of 2026-07-11 --json")]
pub struct StatusArgs {
    /// Only this customer.
    #[arg(long, value_name = "ID")]
    pub customer: Option<String>,
    /// Answer for this day (default: today).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub as_of: Option<NaiveDate>,
    #[command(flatten)]
    pub at: RegisterAt,
    /// Print the report as a JSON object (errors too).
    #[arg(long)]
    pub json: bool,
}

/// Write an offline browser page that verifies DPAs against your pinned public key.
///
/// The page is one self-contained HTML file: customers open it, choose the PDF and its
/// .minisig, and read the same verdict `dpa verify` gives for those two files. It loads
/// nothing from the network and trusts only the key written into it. An existing file is
/// replaced only with --force, and never the key or another input.
///
/// Exit codes: 0 written; 2 an error.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  dpa verifier --pubkey fixtures/keys/demo-only.minisign.pub --out verify.html"
)]
pub struct VerifierArgs {
    /// Your public key: signing.pub.pem or signing.minisign.pub.
    #[arg(long, value_name = "FILE")]
    pub pubkey: PathBuf,
    /// Vendor name shown on the page (default: from the vendor file in dpa.toml).
    #[arg(long, value_name = "NAME")]
    pub vendor_name: Option<String>,
    /// Where to write the page.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Replace the --out file if it exists.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub config: ConfigArg,
}

/// Print a shell completion script.
///
/// Exit codes: 0 printed; 2 an error.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  dpa completions bash > ~/.local/share/bash-completion/completions/dpa
  dpa completions zsh > ~/.zfunc/_dpa
  dpa completions fish > ~/.config/fish/completions/dpa.fish")]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Print the manual page, or write one page per command into a folder.
///
/// Exit codes: 0 written; 2 an error.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  dpa man | man -l -
  dpa man --out ~/.local/share/man/man1")]
pub struct ManArgs {
    /// Write dpa.1 and dpa-<command>.1 for every command into this folder (created if
    /// missing; earlier dpa pages there are replaced).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

impl Command {
    /// Whether the command was asked for JSON output (then errors are JSON too).
    pub fn json(&self) -> bool {
        match self {
            Command::Generate(a) => a.json,
            Command::Verify(a) => a.json,
            Command::Batch(a) => a.json,
            Command::Accept(a) => a.json,
            Command::Object(a) => a.json,
            Command::Status(a) => a.json,
            Command::Annex(AnnexCommand::Fingerprint { json, .. })
            | Command::Annex(AnnexCommand::Diff { json, .. })
            | Command::Register(RegisterCommand::List { json, .. })
            | Command::Register(RegisterCommand::Show { json, .. })
            | Command::Register(RegisterCommand::Verify { json, .. }) => *json,
            Command::Annex(AnnexCommand::Import(_) | AnnexCommand::Publish(_))
            | Command::Keygen(_)
            | Command::Verifier(_)
            | Command::Completions(_)
            | Command::Man(_) => false,
        }
    }
}
