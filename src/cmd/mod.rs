//! One module per subcommand; each turns arguments into library calls and prints results.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use dpa::model::Config;

use crate::cli::{Cli, Command, InputArgs};

mod annex;
mod batch;
mod completions;
mod generate;
mod keygen;
pub mod print;
mod register;
mod verifier;
mod verify;

/// The environment variable that may hold the signing key's PEM text (for CI systems).
pub const KEY_ENV: &str = "DPA_SIGNING_KEY";

/// Runs a parsed command line; `Ok` carries the exit code (0, or 1 for "not valid").
pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Keygen(args) => keygen::run(args),
        Command::Generate(args) => {
            let config = load_config(args.inputs.config.config.as_deref())?;
            generate::run(args, &config)
        }
        Command::Verify(args) => verify::run(args),
        Command::Batch(args) => {
            let config = load_config(args.inputs.config.config.as_deref())?;
            batch::run(args, &config)
        }
        Command::Annex(cmd) => annex::run(cmd),
        Command::Register(cmd) => register::run(cmd),
        Command::Verifier(args) => {
            let config = load_config(args.config.config.as_deref())?;
            verifier::run(args, &config)
        }
        Command::Completions(args) => completions::completions(args),
        Command::Man(args) => completions::man(args),
    }
}

/// Reads `--config FILE`, else `./dpa.toml` if present, else empty defaults.
pub fn load_config(explicit: Option<&Path>) -> Result<Config> {
    match explicit {
        Some(path) => Ok(dpa::load::config(path)?),
        None => {
            let default = Path::new("dpa.toml");
            if default.exists() {
                Ok(dpa::load::config(default)?)
            } else {
                Ok(Config::default())
            }
        }
    }
}

/// Input paths: the command line first, then dpa.toml.
pub struct Inputs {
    pub vendor: PathBuf,
    pub annex: PathBuf,
    pub template: PathBuf,
    pub key: Option<PathBuf>,
    pub out: PathBuf,
}

impl Inputs {
    pub fn resolve(args: &InputArgs, config: &Config) -> Result<Inputs> {
        let pick = |cli: &Option<PathBuf>, cfg: &Option<PathBuf>, what: &str, flag: &str| {
            cli.clone().or_else(|| cfg.clone()).with_context(|| {
                format!(
                    "no {what} given: pass {flag} FILE or set `{}` in dpa.toml",
                    flag.trim_start_matches("--")
                )
            })
        };
        Ok(Inputs {
            vendor: pick(&args.vendor, &config.vendor, "vendor file", "--vendor")?,
            annex: pick(&args.annex, &config.annex, "annex file", "--annex")?,
            template: pick(&args.template, &config.template, "template", "--template")?,
            key: args.key.clone().or_else(|| config.key.clone()),
            out: args
                .out
                .clone()
                .or_else(|| config.out.clone())
                .unwrap_or_else(|| PathBuf::from("out")),
        })
    }

    /// Loads the signing key: `--key`, else `$DPA_SIGNING_KEY`, else dpa.toml's `key`.
    pub fn load_key(&self, explicit: bool) -> Result<dpa::sign::SecretKey> {
        let key = match (&self.key, std::env::var_os(KEY_ENV)) {
            (Some(path), _) if explicit => dpa::sign::SecretKey::load(path)?,
            (_, Some(_)) => dpa::sign::SecretKey::from_env(KEY_ENV)?,
            (Some(path), None) => dpa::sign::SecretKey::load(path)?,
            (None, None) => bail!(
                "no signing key: pass --key FILE, set {KEY_ENV} to the key's PEM text, or set `key` in dpa.toml"
            ),
        };
        if let Some(warning) = key.warning() {
            print::warn(format_args!("{warning}"));
        }
        Ok(key)
    }
}

/// The `hint:` line for an error, from the first error in the chain that has one.
pub fn hint(err: &anyhow::Error) -> Option<String> {
    for cause in err.chain() {
        let hint = if let Some(e) = cause.downcast_ref::<dpa::load::LoadError>() {
            e.hint()
        } else if let Some(e) = cause.downcast_ref::<dpa::sign::SignError>() {
            e.hint()
        } else if let Some(e) = cause.downcast_ref::<dpa::generate::GenerateError>() {
            e.hint()
        } else if let Some(e) = cause.downcast_ref::<dpa::template::TemplateError>() {
            e.hint().map(str::to_string)
        } else if let Some(e) = cause.downcast_ref::<dpa::annex::import::ImportError>() {
            e.hint()
        } else if let Some(e) = cause.downcast_ref::<dpa::annex::diff::DiffError>() {
            e.hint()
        } else if let Some(e) = cause.downcast_ref::<dpa::annex::publish::PublishError>() {
            e.hint()
        } else if let Some(e) = cause.downcast_ref::<dpa::register::RegisterError>() {
            matches!(e, dpa::register::RegisterError::Missing { .. }).then(|| {
                "run `dpa generate` or `dpa batch` first, or pass --out with the folder they wrote to"
                    .to_string()
            })
        } else {
            None
        };
        if hint.is_some() {
            return hint;
        }
    }
    None
}

/// The path `-`, which stands for standard input where a command reads a file.
pub const STDIN: &str = "-";

/// Whether `path` is `-` (standard input).
pub fn is_stdin(path: &Path) -> bool {
    path == Path::new(STDIN)
}

/// Refuses to write `out` over an existing file unless `force`, and over any of `inputs`
/// (the files the command read) even with `force`.
pub fn check_output_file(out: &Path, inputs: &[&Path], force: bool) -> Result<()> {
    use dpa::untrusted::path as shown;
    for input in inputs {
        if !is_stdin(input) && same_file::is_same_file(out, input).unwrap_or(false) {
            bail!(
                "refusing to write {} over {}, which this command reads",
                shown(out),
                shown(input)
            );
        }
    }
    match std::fs::symlink_metadata(out) {
        Ok(meta) if meta.is_dir() => bail!("{} is a folder, not a file name", shown(out)),
        Ok(_) if !force => bail!(
            "{} already exists; pass --force to replace it, or choose another --out",
            shown(out)
        ),
        _ => Ok(()),
    }
}

/// Loads everything a run needs once: vendor, annex, template, key and fonts.
pub fn build_setup(
    inputs: &Inputs,
    explicit_key: bool,
    raw_sig: bool,
    force: bool,
    notice: Option<dpa::generate::NoticeSetup>,
) -> Result<dpa::generate::Setup> {
    let vendor = dpa::load::vendor(&inputs.vendor)?;
    let annex = dpa::load::annex(&inputs.annex)?;
    dpa::load::check_annex_vendor(&vendor, &annex)?;
    let (template, template_sha256) = dpa::generate::load_template(&inputs.template)?;
    let key = inputs.load_key(explicit_key)?;
    let typesetter = dpa::pdf::Typesetter::new(dpa::layout::PageSetup::default())
        .map_err(|e| anyhow::anyhow!("cannot load the bundled fonts: {e}"))?;
    Ok(dpa::generate::Setup {
        fingerprint: dpa::annex::fingerprint(&annex),
        vendor,
        annex,
        template,
        template_sha256,
        notice,
        key,
        typesetter,
        out: inputs.out.clone(),
        raw_sig,
        force,
    })
}
