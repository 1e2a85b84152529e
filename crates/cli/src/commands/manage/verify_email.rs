//! `mas-cli manage verify-email USER EMAIL`: kept so that MAS scripts still run; MAS made it a
//! no-op once addresses added by an administrator became verified from the start.

use std::process::ExitCode;

use super::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The user: a username or a full Matrix ID.
    #[allow(dead_code, reason = "accepted for compatibility, not used")]
    user: String,
    /// The address.
    #[allow(dead_code, reason = "accepted for compatibility, not used")]
    email: String,
}

pub fn run(_context: &Context, _args: &Args) -> anyhow::Result<ExitCode> {
    eprintln!(
        "warning: `manage verify-email` is deprecated and does nothing: addresses added with `manage add-email` are already verified"
    );
    Ok(ExitCode::SUCCESS)
}
