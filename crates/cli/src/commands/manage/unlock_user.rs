//! `mas-cli manage unlock-user USER [--reactivate]`: lifts a lock. A deactivated user stays
//! deactivated unless `--reactivate` is given: then the homeserver reactivates the user first,
//! and this service once the homeserver agreed.

use std::process::ExitCode;

use portcullis_services::account;

use super::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The user: a username or a full Matrix ID.
    user: String,
    /// Also reactivate a deactivated account (on the homeserver, then here).
    #[arg(long)]
    reactivate: bool,
}

pub async fn run(context: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let now = context.now();
    let mut repo = context.transaction().await?;
    let user = context.find_user(&mut repo, &args.user).await?;
    let mxid = context.mxid(&user.username);
    let was_locked = user.locked_at.is_some();
    let deactivated = user.deactivated_at.is_some();

    let user = account::unlock_user(&mut *repo, user, now).await?;
    if args.reactivate {
        account::reactivate_user(&mut *repo, &user, now).await?;
    }
    repo.commit().await?;

    println!(
        "{}",
        if was_locked {
            format!("unlocked {mxid}")
        } else {
            format!("{mxid} is not locked")
        }
    );
    match (deactivated, args.reactivate) {
        (true, true) => {
            println!("{mxid} is reactivated when the worker runs (the homeserver first, then here)")
        }
        (true, false) => {
            eprintln!("note: {mxid} is still deactivated; pass --reactivate to reactivate it");
        }
        (false, _) => {}
    }
    Ok(ExitCode::SUCCESS)
}
