//! `mas-cli manage issue-user-registration-token [--token T] [--usage-limit N]
//! [--expires-in SECONDS]`: creates a token that lets someone register when
//! `account.registration_token_required` is set, and prints it.

use std::process::ExitCode;

use rand::distributions::{Alphanumeric, DistString as _};

use super::Context;

/// The length of a generated token: 20 letters and digits, about 119 bits.
const GENERATED_LENGTH: usize = 20;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The token itself; a random one of 20 letters and digits when absent.
    #[arg(long)]
    token: Option<String>,
    /// How many registrations it allows; unlimited when absent.
    #[arg(long)]
    usage_limit: Option<u32>,
    /// How long it stays valid, in seconds; forever when absent.
    #[arg(long, value_name = "SECONDS")]
    expires_in: Option<u32>,
}

pub async fn run(context: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let token = match args.token {
        Some(token) => {
            let token = token.trim().to_owned();
            anyhow::ensure!(!token.is_empty(), "the token must not be empty");
            token
        }
        None => Alphanumeric.sample_string(&mut rand::thread_rng(), GENERATED_LENGTH),
    };
    anyhow::ensure!(
        args.usage_limit != Some(0),
        "a usage limit of 0 would make a token nobody can use"
    );
    let now = context.now();
    let expires_at = args
        .expires_in
        .map(|seconds| now + chrono::Duration::seconds(i64::from(seconds)));
    let mut repo = context.transaction().await?;
    let added = repo
        .registration_tokens()
        .add(&token, args.usage_limit, expires_at, now)
        .await;
    match added {
        Ok(_) => {}
        Err(portcullis_storage::StorageError::Conflict(_)) => {
            anyhow::bail!("this token already exists")
        }
        Err(error) => return Err(error.into()),
    }
    repo.commit().await?;
    println!("{token}");
    Ok(ExitCode::SUCCESS)
}
