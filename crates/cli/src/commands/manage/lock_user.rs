//! `mas-cli manage lock-user USER`: refuses the user's sign-ins and sessions until unlocked.
//! The sessions are kept, so unlocking gives them back.

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
    if let Some(locked_at) = user.locked_at {
        println!("{mxid} is already locked (since {locked_at})");
        return Ok(ExitCode::SUCCESS);
    }
    let user_id = user.id;
    repo.users().lock(user, context.now()).await?;
    // The homeserver shows the account as locked too.
    ProvisionUser::new(user_id)
        .schedule(&mut *repo, context.now())
        .await?;
    repo.commit().await?;
    println!("locked {mxid}");
    Ok(ExitCode::SUCCESS)
}
