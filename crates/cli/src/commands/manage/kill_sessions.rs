//! `mas-cli manage kill-sessions USER [--dry-run]`: ends every session of the user: browser,
//! OAuth 2.0 and compatibility. Their devices are deleted on the homeserver by the worker, which
//! makes the homeserver refuse their tokens at once.

use std::{collections::BTreeSet, process::ExitCode};

use portcullis_jobs::{deactivate_user::end_everything, delete_device::DeleteDevice};
use portcullis_oauth::scope::Scope;

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

    let browser = repo.browser_sessions().list_active_for_user(&user).await?;
    let oauth = repo.oauth_sessions().list_active_for_user(&user).await?;
    let compat = repo.compat_sessions().list_active_for_user(&user).await?;
    let mut devices = BTreeSet::new();
    devices.extend(oauth.iter().filter_map(|session| {
        let scope: Scope = session.scope.parse().ok()?;
        scope.device_id().map(str::to_owned)
    }));
    devices.extend(compat.iter().map(|session| session.device_id.clone()));
    let summary = format!(
        "{} browser, {} OAuth 2.0 and {} compatibility session(s) of {mxid}, on {} device(s)",
        browser.len(),
        oauth.len(),
        compat.len(),
        devices.len()
    );

    if args.dry_run {
        repo.rollback().await?;
        println!("would end {summary}");
        return Ok(ExitCode::SUCCESS);
    }
    end_everything(&mut *repo, &user, now).await?;
    for device_id in devices {
        DeleteDevice {
            user_id: user.id,
            device_id,
        }
        .schedule(&mut *repo, now)
        .await?;
    }
    repo.commit().await?;
    println!("ended {summary}");
    Ok(ExitCode::SUCCESS)
}
