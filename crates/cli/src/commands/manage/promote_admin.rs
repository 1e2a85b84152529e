//! `mas-cli manage promote-admin USER`: lets a user request admin access.

use std::process::ExitCode;

use super::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The user: a username or a full Matrix ID.
    user: String,
}

pub async fn run(context: &Context, args: Args) -> anyhow::Result<ExitCode> {
    set_can_request_admin(context, &args.user, true).await
}

/// Sets the admin flag of `input`, saying so when it was already set that way.
pub(super) async fn set_can_request_admin(
    context: &Context,
    input: &str,
    can_request_admin: bool,
) -> anyhow::Result<ExitCode> {
    let mut repo = context.transaction().await?;
    let user = context.find_user(&mut repo, input).await?;
    let mxid = context.mxid(&user.username);
    let verb = if can_request_admin { "can" } else { "cannot" };
    if user.can_request_admin == can_request_admin {
        println!("{mxid} already {verb} request admin access");
        return Ok(ExitCode::SUCCESS);
    }
    repo.users()
        .set_can_request_admin(user, can_request_admin)
        .await?;
    repo.commit().await?;
    println!("{mxid} now {verb} request admin access");
    Ok(ExitCode::SUCCESS)
}
