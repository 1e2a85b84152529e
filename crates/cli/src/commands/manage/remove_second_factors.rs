//! `mas-cli manage remove-second-factors USER` (ours): removes the user's authenticator app and
//! recovery codes, for someone who lost both. Their next sign-in asks for the password only, or
//! has them add an authenticator app again when `account.second_factors.required` asks it of
//! them.

use std::process::ExitCode;

use portcullis_services::second_factor;

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
    let removed = second_factor::remove_all(&mut *repo, &user).await?;
    repo.commit().await?;
    if removed {
        println!(
            "removed the second factors of {mxid}: their next sign-in asks for the password only"
        );
    } else {
        println!("{mxid} has no second factor");
    }
    Ok(ExitCode::SUCCESS)
}
