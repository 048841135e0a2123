//! Resolving a run's inputs once, before any work starts, with where each value came from.
//!
//! In: the values given on the command line ([`Flags`]), the environment (read through a
//! function, so tests need not touch the process's environment), `dpa.toml` and today's
//! date. Out: [`Resolved`], every input path, the signing key's source, the output folder
//! and the issue date, each with its [`Origin`] (flag, environment, dpa.toml or default),
//! so that messages can say where a wrong value was set.
//!
//! Precedence: a flag, then the environment (`DPA_SIGNING_KEY` for the key,
//! `DPA_PDF_SIGNING_KEY` for the PDF signing key, `SOURCE_DATE_EPOCH` for the issue date), then `dpa.toml`, then the default. Today's
//! date is the only clock read of the program, and only as the last default of the issue
//! date; it is then recorded (register, trusted comment, PDF metadata), so a document can
//! be rebuilt byte for byte from its recorded inputs.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::load::{self, LoadError};
use crate::model::Config;

/// The environment variable that may hold the signing key's PEM text (for CI systems).
pub const KEY_ENV: &str = "DPA_SIGNING_KEY";

/// The environment variable that may hold the PDF signing key's PEM text (P-256).
pub const PDF_KEY_ENV: &str = "DPA_PDF_SIGNING_KEY";

/// The environment variable of reproducible builds: seconds since 1970 (UTC).
pub const DATE_ENV: &str = "SOURCE_DATE_EPOCH";

/// The config file looked up in the working folder when `--config` is not given.
pub const CONFIG_FILE: &str = "dpa.toml";

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A command-line flag, e.g. `--annex`.
    Flag(&'static str),
    /// An environment variable.
    Env(&'static str),
    /// A key of a config file.
    Config { path: PathBuf, key: &'static str },
    /// The built-in default (for the issue date: today).
    Default,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Flag(flag) => write!(f, "{flag}"),
            Origin::Env(var) => write!(f, "${var}"),
            Origin::Config { path, key } => write!(f, "`{key}` in {}", path.display()),
            Origin::Default => f.write_str("default"),
        }
    }
}

/// A resolved value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sourced<T> {
    pub value: T,
    pub origin: Origin,
}

impl<T> Sourced<T> {
    fn new(value: T, origin: Origin) -> Sourced<T> {
        Sourced { value, origin }
    }

    /// Whether a person chose this value (flag, environment or config), not a default.
    pub fn is_chosen(&self) -> bool {
        self.origin != Origin::Default
    }
}

/// What the command line said, before anything is resolved (ripgrep's "low-level args").
#[derive(Debug, Clone, Default)]
pub struct Flags {
    /// `--config FILE`; else `./dpa.toml` when it exists.
    pub config: Option<PathBuf>,
    pub vendor: Option<PathBuf>,
    pub annex: Option<PathBuf>,
    pub template: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// `--pdf-key FILE`: the P-256 key of the embedded PDF signature.
    pub pdf_key: Option<PathBuf>,
    /// `--cert CHAIN.pem`: its certificate chain, leaf first.
    pub cert: Option<PathBuf>,
    pub out: Option<PathBuf>,
    pub issue_date: Option<NaiveDate>,
}

/// Where the signing key comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// A PKCS#8 PEM file.
    File(Sourced<PathBuf>),
    /// The PEM text in an environment variable.
    Env(&'static str),
    /// No key given anywhere.
    Missing,
}

/// Where the key and certificate chain of the embedded PDF signature come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PdfSource {
    /// A P-256 key (file or environment variable) and its chain file.
    Signed {
        key: KeySource,
        chain: Sourced<PathBuf>,
    },
    /// Neither given: documents carry only the detached signatures.
    Unsigned,
}

/// Every input of a run, validated and resolved once (ripgrep's "high-level args").
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The config file that was read, if any.
    pub config: Option<PathBuf>,
    pub vendor: Option<Sourced<PathBuf>>,
    pub annex: Option<Sourced<PathBuf>>,
    pub template: Option<Sourced<PathBuf>>,
    pub key: KeySource,
    /// The embedded PDF signature's key and chain.
    pub pdf: PdfSource,
    pub out: Sourced<PathBuf>,
    /// The day the vendor signs: `--issue-date`, else `$SOURCE_DATE_EPOCH`, else today.
    pub issue_date: Sourced<NaiveDate>,
}

/// Why the inputs could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Load(Box<LoadError>),
    #[error("${var} is {value:?}, not a number of seconds since 1970")]
    BadEpoch { var: &'static str, value: String },
    #[error("no {what} given")]
    Missing {
        what: &'static str,
        flag: &'static str,
        key: &'static str,
    },
    #[error("a PDF signing key is given ({key}) but no certificate chain for it")]
    PdfWithoutCert { key: String },
    #[error("a certificate chain is given ({cert}) but no PDF signing key for it")]
    CertWithoutPdfKey { cert: String },
}

impl From<LoadError> for ConfigError {
    fn from(e: LoadError) -> ConfigError {
        ConfigError::Load(Box::new(e))
    }
}

impl crate::error::Hint for ConfigError {
    fn hint(&self) -> Option<String> {
        match self {
            ConfigError::Load(e) => e.hint(),
            ConfigError::BadEpoch { .. } => Some(
                "set it to a whole number of seconds, e.g. SOURCE_DATE_EPOCH=$(date -d 2026-06-01 +%s), or unset it"
                    .into(),
            ),
            ConfigError::Missing { flag, key, .. } => {
                Some(format!("pass {flag} or set `{key}` in dpa.toml"))
            }
            ConfigError::PdfWithoutCert { .. } => Some(
                "pass --cert CHAIN.pem or set `cert` in dpa.toml (dpa keygen writes pdf-signing.chain.pem)".into(),
            ),
            ConfigError::CertWithoutPdfKey { .. } => Some(format!(
                "pass --pdf-key FILE, set {PDF_KEY_ENV}, or set `pdf_key` in dpa.toml (dpa keygen writes pdf-signing.key)"
            )),
        }
    }
}

impl Resolved {
    /// Resolves the flags against the environment (`env`), the config file and `today`.
    pub fn resolve(
        flags: &Flags,
        env: impl Fn(&str) -> Option<OsString>,
        today: impl FnOnce() -> NaiveDate,
    ) -> Result<Resolved, ConfigError> {
        let (config_path, config) = match &flags.config {
            Some(path) => (Some(path.clone()), load::config(path)?),
            None if Path::new(CONFIG_FILE).is_file() => {
                (Some(PathBuf::from(CONFIG_FILE)), load::config(CONFIG_FILE)?)
            }
            None => (None, Config::default()),
        };
        let pick = |flag_value: &Option<PathBuf>,
                    flag: &'static str,
                    config_value: &Option<PathBuf>,
                    key: &'static str| {
            match (flag_value, config_value, &config_path) {
                (Some(v), _, _) => Some(Sourced::new(v.clone(), Origin::Flag(flag))),
                (None, Some(v), Some(path)) => Some(Sourced::new(
                    v.clone(),
                    Origin::Config {
                        path: path.clone(),
                        key,
                    },
                )),
                _ => None,
            }
        };
        // A key flag wins over the environment, which wins over dpa.toml.
        let key_source = |file: Option<Sourced<PathBuf>>, var: &'static str| match file {
            Some(file) if matches!(file.origin, Origin::Flag(_)) => KeySource::File(file),
            _ if env(var).is_some() => KeySource::Env(var),
            Some(file) => KeySource::File(file),
            None => KeySource::Missing,
        };
        let key = key_source(pick(&flags.key, "--key", &config.key, "key"), KEY_ENV);
        let pdf_key = key_source(
            pick(&flags.pdf_key, "--pdf-key", &config.pdf_key, "pdf_key"),
            PDF_KEY_ENV,
        );
        let chain = pick(&flags.cert, "--cert", &config.cert, "cert");
        let pdf = match (pdf_key, chain) {
            (KeySource::Missing, None) => PdfSource::Unsigned,
            (KeySource::Missing, Some(chain)) => {
                return Err(ConfigError::CertWithoutPdfKey {
                    cert: format!("{} from {}", chain.value.display(), chain.origin),
                });
            }
            (key, None) => {
                return Err(ConfigError::PdfWithoutCert {
                    key: match key {
                        KeySource::File(f) => format!("{} from {}", f.value.display(), f.origin),
                        KeySource::Env(var) => format!("${var}"),
                        KeySource::Missing => String::new(),
                    },
                });
            }
            (key, Some(chain)) => PdfSource::Signed { key, chain },
        };
        let out = pick(&flags.out, "--out", &config.out, "out")
            .unwrap_or_else(|| Sourced::new(PathBuf::from("out"), Origin::Default));
        let issue_date = match (flags.issue_date, env(DATE_ENV)) {
            (Some(date), _) => Sourced::new(date, Origin::Flag("--issue-date")),
            (None, Some(text)) => Sourced::new(epoch_date(&text)?, Origin::Env(DATE_ENV)),
            (None, None) => Sourced::new(today(), Origin::Default),
        };
        Ok(Resolved {
            vendor: pick(&flags.vendor, "--vendor", &config.vendor, "vendor"),
            annex: pick(&flags.annex, "--annex", &config.annex, "annex"),
            template: pick(&flags.template, "--template", &config.template, "template"),
            config: config_path,
            key,
            pdf,
            out,
            issue_date,
        })
    }

    /// Resolves against the process's environment and the system clock's date (UTC).
    pub fn from_env(flags: &Flags) -> Result<Resolved, ConfigError> {
        Resolved::resolve(flags, |name| std::env::var_os(name), today_utc)
    }

    /// The vendor file; an error naming the flag and the config key when none was given.
    pub fn vendor(&self) -> Result<&Path, ConfigError> {
        required(&self.vendor, "vendor file", "--vendor FILE", "vendor")
    }

    /// The annex file.
    pub fn annex(&self) -> Result<&Path, ConfigError> {
        required(&self.annex, "annex file", "--annex FILE", "annex")
    }

    /// The DPA template.
    pub fn template(&self) -> Result<&Path, ConfigError> {
        required(&self.template, "template", "--template FILE", "template")
    }
}

fn required<'a>(
    value: &'a Option<Sourced<PathBuf>>,
    what: &'static str,
    flag: &'static str,
    key: &'static str,
) -> Result<&'a Path, ConfigError> {
    value
        .as_ref()
        .map(|v| v.value.as_path())
        .ok_or(ConfigError::Missing { what, flag, key })
}

/// Today's date in UTC: the program's only clock read (default issue date, status day).
pub fn today_utc() -> NaiveDate {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    chrono::DateTime::from_timestamp(i64::try_from(secs).unwrap_or(0), 0)
        .map(|t| t.date_naive())
        .unwrap_or_default()
}

/// The UTC date of a SOURCE_DATE_EPOCH value.
fn epoch_date(text: &OsString) -> Result<NaiveDate, ConfigError> {
    let bad = || ConfigError::BadEpoch {
        var: DATE_ENV,
        value: text.to_string_lossy().into_owned(),
    };
    let secs: i64 = text
        .to_str()
        .and_then(|t| t.trim().parse().ok())
        .ok_or_else(bad)?;
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.date_naive())
        .ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn resolve(flags: &Flags, env: &[(&str, &str)]) -> Result<Resolved, ConfigError> {
        let env: Vec<(String, OsString)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        Resolved::resolve(
            flags,
            |name| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
            || date(2030, 1, 2),
        )
    }

    #[test]
    fn flags_then_environment_then_config_then_default() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("dpa.toml");
        std::fs::write(
            &config,
            "annex = \"a.toml\"\nkey = \"k.key\"\nout = \"o\"\n",
        )
        .unwrap();
        let mut flags = Flags {
            config: Some(config.clone()),
            ..Flags::default()
        };
        let r = resolve(&flags, &[]).unwrap();
        assert_eq!(r.annex.as_ref().unwrap().value, dir.path().join("a.toml"));
        assert_eq!(
            r.annex.as_ref().unwrap().origin.to_string(),
            format!("`annex` in {}", config.display())
        );
        assert!(matches!(&r.key, KeySource::File(f) if f.value == dir.path().join("k.key")));
        assert_eq!(
            (r.issue_date.value, r.issue_date.origin.clone()),
            (date(2030, 1, 2), Origin::Default)
        );
        assert!(!r.issue_date.is_chosen());
        assert!(r.vendor().is_err());

        // The environment's key wins over dpa.toml, a flag over both.
        let r = resolve(&flags, &[(KEY_ENV, "pem"), (DATE_ENV, "1780272000")]).unwrap();
        assert_eq!(r.key, KeySource::Env(KEY_ENV));
        assert_eq!(r.issue_date.value, date(2026, 6, 1));
        assert_eq!(r.issue_date.origin, Origin::Env(DATE_ENV));
        flags.key = Some("flag.key".into());
        flags.annex = Some("b.toml".into());
        flags.issue_date = Some(date(2026, 7, 1));
        let r = resolve(&flags, &[(KEY_ENV, "pem"), (DATE_ENV, "1780272000")]).unwrap();
        assert!(matches!(&r.key, KeySource::File(f) if f.origin == Origin::Flag("--key")));
        assert_eq!(r.annex.unwrap().origin, Origin::Flag("--annex"));
        assert_eq!(r.issue_date.value, date(2026, 7, 1));
    }

    #[test]
    fn the_pdf_key_and_its_chain_come_together() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("dpa.toml");
        std::fs::write(&config, "pdf_key = \"p.key\"\ncert = \"c.pem\"\n").unwrap();
        let mut flags = Flags {
            config: Some(config.clone()),
            ..Flags::default()
        };
        let r = resolve(&flags, &[]).unwrap();
        match &r.pdf {
            PdfSource::Signed { key, chain } => {
                assert!(matches!(key, KeySource::File(f) if f.value == dir.path().join("p.key")));
                assert_eq!(chain.value, dir.path().join("c.pem"));
            }
            other => panic!("{other:?}"),
        }
        let r = resolve(&flags, &[(PDF_KEY_ENV, "pem")]).unwrap();
        assert!(matches!(
            &r.pdf,
            PdfSource::Signed {
                key: KeySource::Env(_),
                ..
            }
        ));
        std::fs::write(&config, "pdf_key = \"p.key\"\n").unwrap();
        let err = resolve(&flags, &[]).unwrap_err();
        assert!(err.to_string().contains("no certificate chain"), "{err}");
        flags.pdf_key = None;
        std::fs::write(&config, "cert = \"c.pem\"\n").unwrap();
        let err = resolve(&flags, &[]).unwrap_err();
        assert!(err.to_string().contains("no PDF signing key"), "{err}");
        std::fs::write(&config, "").unwrap();
        assert_eq!(resolve(&flags, &[]).unwrap().pdf, PdfSource::Unsigned);
    }

    #[test]
    fn a_bad_epoch_is_an_error_that_names_the_variable() {
        let err = resolve(&Flags::default(), &[(DATE_ENV, "yesterday")]).unwrap_err();
        assert!(
            err.to_string()
                .contains("$SOURCE_DATE_EPOCH is \"yesterday\"")
        );
    }
}
