//! `mas-cli manage add-email USER EMAIL`: gives a user an address, as already verified.

use std::process::ExitCode;

use portcullis_services::account::{self, AddedEmail};

use super::{Context, check_email};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The user: a username or a full Matrix ID.
    user: String,
    /// The address to add.
    email: String,
}

pub async fn run(context: &Context, args: Args) -> anyhow::Result<ExitCode> {
    check_email(&args.email)?;
    let mut repo = context.transaction().await?;
    let user = context.find_user(&mut repo, &args.user).await?;
    let mxid = context.mxid(&user.username);

    match account::add_email(&mut *repo, &user, &args.email, context.now()).await? {
        AddedEmail::Added(_) => {}
        AddedEmail::AlreadyTheirs(existing) => {
            println!("{mxid} already has the address {}", existing.email);
            return Ok(ExitCode::SUCCESS);
        }
        AddedEmail::InUse { user_id } => {
            let owner = repo.users().find_by_id(user_id).await?;
            let owner =
                owner.map_or_else(|| "another user".to_owned(), |o| context.mxid(&o.username));
            anyhow::bail!("the address {} is already used by {owner}", args.email);
        }
    }
    repo.commit().await?;
    println!("added {} to {mxid}", args.email);
    Ok(ExitCode::SUCCESS)
}
