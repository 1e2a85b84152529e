//! `mas-cli manage unlock-user USER`: lifts a lock. A deactivated user stays deactivated.

use std::process::ExitCode;

use portcullis_jobs::provision_user::ProvisionUser;

use super::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The user: a username or a full Matrix ID.
    user: String,
}

pub async fn run(context: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let mut repo = context.transaction().await?;
    let user = context.find_user(&mut repo, &args.user).await?;
    let mxid = context.mxid(&user.username);
    if user.locked_at.is_none() {
        println!("{mxid} is not locked");
        return Ok(ExitCode::SUCCESS);
    }
    let user = repo.users().unlock(user).await?;
    ProvisionUser::new(user.id)
        .schedule(&mut *repo, context.now())
        .await?;
    repo.commit().await?;
    println!("unlocked {mxid}");
    if user.deactivated_at.is_some() {
        eprintln!("note: {mxid} is still deactivated");
    }
    Ok(ExitCode::SUCCESS)
}
