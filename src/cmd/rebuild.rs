//! `dpa verify --rebuild`: loads the inputs like `dpa generate` and rebuilds the DPA on
//! the issue date its verified signature records (see `dpa::rebuild`).

use anyhow::{Context, Result, bail};

use dpa::config::Resolved;
use dpa::issue::Options;
use dpa::rebuild::Outcome;
use dpa::sign::Verdict;

use crate::cli::{InputArgs, VerifyArgs};
use crate::cmd::{Compile, build_issuer, flags};

/// Rebuilds the verified document from the inputs the arguments name.
pub fn run(args: &VerifyArgs, verdict: &Verdict, pdf: &[u8]) -> Result<Outcome> {
    let Some(comment) = &verdict.comment else {
        bail!(
            "cannot rebuild: the signature did not verify, so the issue date and inputs it records are unknown"
        );
    };
    let Some(customer) = &args.inputs.customer else {
        bail!("--rebuild needs --customer FILE");
    };
    let inputs = InputArgs {
        vendor: args.inputs.vendor.clone(),
        annex: args.annex.clone(),
        template: args.inputs.template.clone(),
        key: args.inputs.key.clone(),
        ..InputArgs::default()
    };
    let resolved = Resolved::from_env(&flags(None, &inputs, Some(comment.issued)))?;
    let issuer = build_issuer(&resolved, None, Options::default(), Compile::Now)?;
    let customer = dpa::load::customer_for(customer, issuer.composer().annex())?;
    dpa::rebuild::rebuild(&issuer, &customer, comment, pdf)
        .with_context(|| format!("customer `{}`", customer.id))
}
