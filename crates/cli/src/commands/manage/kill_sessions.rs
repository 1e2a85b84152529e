//! `mas-cli manage kill-sessions USER [--dry-run]`: ends every session of the user: browser,
//! OAuth 2.0 and compatibility. Their devices are deleted on the homeserver by the worker, which
//! makes the homeserver refuse their tokens at once.

use std::process::ExitCode;

use portcullis_services::sessions::{ActiveSessions, Devices};

use super::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The user: a username or a full Matrix ID.
    user: String,
    /// Only say what would be ended.
    #[arg(long)]
    dry_run: bool,
}

pub async fn run(context: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let now = context.now();
    let mut repo = context.transaction().await?;
    let user = context.find_user(&mut repo, &args.user).await?;
    let mxid = context.mxid(&user.username);

    let active = ActiveSessions::of(&mut *repo, &user).await?;
    let summary = format!(
        "{} browser, {} OAuth 2.0 and {} compatibility session(s) of {mxid}, on {} device(s)",
        active.browser.len(),
        active.oauth.len(),
        active.compat.len(),
        active.devices().len()
    );

    if args.dry_run {
        repo.rollback().await?;
        println!("would end {summary}");
        return Ok(ExitCode::SUCCESS);
    }
    active.end(&mut *repo, Devices::Delete, now).await?;
    repo.commit().await?;
    println!("ended {summary}");
    Ok(ExitCode::SUCCESS)
}
