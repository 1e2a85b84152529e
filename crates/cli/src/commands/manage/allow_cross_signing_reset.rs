//! `mas-cli manage allow-cross-signing-reset USER`: let the user replace their cross-signing
//! keys without interactive authentication, for the next 10 minutes (the homeserver's window).
//!
//! This is how a bot, or a user who lost their recovery key, resets cross-signing without a
//! browser: the administrator approves it here and the client uploads new keys.

use std::process::ExitCode;

use anyhow::Context as _;

use portcullis_services::account::{self, CrossSigningResetError, ResetApprover};

use super::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The user: a username or a full Matrix ID.
    user: String,
}

pub async fn run(context: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let mut repo = context.transaction().await?;
    let user = context.find_user(&mut repo, &args.user).await?;
    repo.rollback().await?;
    let mxid = context.mxid(&user.username);
    match account::allow_cross_signing_reset(
        context.homeserver()?.as_ref(),
        &user,
        ResetApprover::Operator,
    )
    .await
    {
        Ok(()) => {}
        Err(CrossSigningResetError::Inactive) => {
            anyhow::bail!("{mxid} is locked or deactivated: no reset can be allowed")
        }
        Err(CrossSigningResetError::Homeserver(error)) => {
            return Err(error)
                .with_context(|| format!("the homeserver did not allow the reset for {mxid}"));
        }
    }
    println!(
        "{mxid} may replace their cross-signing keys without further authentication for the next 10 minutes"
    );
    Ok(ExitCode::SUCCESS)
}
