//! `mas-cli manage issue-user-registration-token [--token T] [--usage-limit N]
//! [--expires-in SECONDS]`: creates a token that lets someone register when
//! `account.registration_token_required` is set, and prints it.

use std::process::ExitCode;

use portcullis_services::registration_tokens::{self, NewToken};

use super::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The token itself; a random one of 20 letters and digits when absent.
    #[arg(long)]
    token: Option<String>,
    /// How many registrations it allows; unlimited when absent.
    #[arg(long)]
    usage_limit: Option<u32>,
    /// How long it stays valid, in seconds; forever when absent.
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u32).range(1..))]
    expires_in: Option<u32>,
}

pub async fn run(context: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let now = context.now();
    let new = NewToken {
        token: args.token.as_deref(),
        usage_limit: args.usage_limit,
        expires_at: args
            .expires_in
            .map(|seconds| now + chrono::Duration::seconds(i64::from(seconds))),
    };
    let mut repo = context.transaction().await?;
    let (_, token) =
        match registration_tokens::issue(&mut *repo, &mut rand::rngs::OsRng, &new, now).await? {
            Ok(issued) => issued,
            Err(problem) => anyhow::bail!("{problem}"),
        };
    repo.commit().await?;
    println!("{token}");
    Ok(ExitCode::SUCCESS)
}
