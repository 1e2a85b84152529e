//! `mas-cli manage add-email USER EMAIL`: gives a user an address, as already verified.

use std::process::ExitCode;

use portcullis_storage::StorageError;

use portcullis_services::jobs::provision_user::ProvisionUser;

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

    if let Some(existing) = repo.user_emails().find_by_email(&args.email).await? {
        if existing.user_id == user.id {
            println!("{mxid} already has the address {}", existing.email);
            return Ok(ExitCode::SUCCESS);
        }
        let owner = repo.users().find_by_id(existing.user_id).await?;
        let owner = owner.map_or_else(|| "another user".to_owned(), |o| context.mxid(&o.username));
        anyhow::bail!("the address {} is already used by {owner}", existing.email);
    }

    match repo
        .user_emails()
        .add(&user, &args.email, context.now())
        .await
    {
        Ok(_) => {}
        // Another process added it between the check and the insert.
        Err(StorageError::Conflict(_)) => {
            anyhow::bail!("the address {} is already used by another user", args.email)
        }
        Err(error) => return Err(error.into()),
    }
    // The homeserver keeps a copy of the addresses.
    ProvisionUser::new(user.id)
        .schedule(&mut *repo, context.now())
        .await?;
    repo.commit().await?;
    println!("added {} to {mxid}", args.email);
    Ok(ExitCode::SUCCESS)
}
