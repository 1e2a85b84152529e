//! `mas-cli manage set-password USER PASSWORD`: gives a user a new password, hashed with the
//! newest configured scheme. The old hashes stay in the database, as after any change.

use std::process::ExitCode;

use portcullis_services::account::{self, Complexity, NewPasswordError};
use zeroize::Zeroizing;

use super::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The user: a username or a full Matrix ID.
    user: String,
    /// The new password. It is visible to other local users in the process list while the
    /// command runs.
    password: String,
    /// Accept a password below `passwords.minimum_complexity`.
    #[arg(long)]
    ignore_complexity: bool,
}

pub async fn run(context: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let passwords = context.enabled_passwords()?;
    let password = Zeroizing::new(args.password);

    // Look the user up first, so that a typo in the name costs no hash; and hash outside the
    // write transaction, which on SQLite holds the database's write lock.
    let user = {
        let mut repo = context.transaction().await?;
        let user = context.find_user(&mut repo, &args.user).await?;
        repo.rollback().await?;
        user
    };
    let mxid = context.mxid(&user.username);

    let complexity = if args.ignore_complexity {
        Complexity::Ignore
    } else {
        Complexity::Enforce
    };
    let hashed =
        match account::hash_new_password(&passwords, &user.username, password, complexity).await {
            Ok(hashed) => hashed,
            Err(NewPasswordError::Weak(weak)) => {
                anyhow::bail!("{weak} Pass --ignore-complexity to set it anyway.")
            }
            Err(NewPasswordError::Hashing(error)) => return Err(error.into()),
        };

    let mut repo = context.transaction().await?;
    account::set_password(&mut *repo, &user, &hashed, context.now()).await?;
    repo.commit().await?;
    println!("set the password of {mxid}");
    Ok(ExitCode::SUCCESS)
}
