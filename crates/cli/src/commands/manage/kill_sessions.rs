//! `mas-cli manage kill-sessions USER [--dry-run] [--keep-devices]`: ends every session of the
//! user: browser, OAuth 2.0 and compatibility. Their devices are deleted on the homeserver by
//! the worker, which makes the homeserver refuse their tokens at once; with `--keep-devices`
//! they stay, with their end-to-end keys, for a bot that signs in again on the same device.

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
    /// Keep the devices (and their end-to-end keys) on the homeserver: a client that signs in
    /// again with the same device ID continues with them. The homeserver refuses the ended
    /// sessions' tokens within its cache time (2 minutes for Synapse) rather than at once.
    #[arg(long)]
    keep_devices: bool,
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
    let devices = if args.keep_devices {
        Devices::Keep
    } else {
        Devices::Delete
    };
    active.end(&mut *repo, devices, now).await?;
    repo.commit().await?;
    if args.keep_devices {
        println!("ended {summary} (the devices are kept)");
    } else {
        println!("ended {summary}");
    }
    Ok(ExitCode::SUCCESS)
}
