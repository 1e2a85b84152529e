//! `mas-cli manage lock-user USER [--deactivate]`: refuses the user's sign-ins and sessions
//! until unlocked. The sessions are kept, so unlocking gives them back. With `--deactivate`, the
//! account is also deactivated: its sessions end, its addresses are removed, and the homeserver
//! deactivates it too.

use std::process::ExitCode;

use portcullis_services::account;

use super::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The user: a username or a full Matrix ID.
    user: String,
    /// Also deactivate the account (here and on the homeserver).
    #[arg(long)]
    deactivate: bool,
}

pub async fn run(context: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let now = context.now();
    let mut repo = context.transaction().await?;
    let user = context.find_user(&mut repo, &args.user).await?;
    let mxid = context.mxid(&user.username);
    let was_locked = user.locked_at;
    let was_deactivated = user.deactivated_at.is_some();

    let user = account::lock_user(&mut *repo, user, now).await?;
    if args.deactivate {
        account::deactivate_user(&mut *repo, user, false, now).await?;
    }
    repo.commit().await?;

    match (was_locked, args.deactivate) {
        (Some(locked_at), false) => println!("{mxid} is already locked (since {locked_at})"),
        (_, false) => println!("locked {mxid}"),
        (_, true) if was_deactivated => println!("locked {mxid}, which was already deactivated"),
        (_, true) => println!(
            "locked and deactivated {mxid}; its sessions end and the homeserver deactivates it when the worker runs"
        ),
    }
    Ok(ExitCode::SUCCESS)
}
