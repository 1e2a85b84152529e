//! `mas-cli manage revoke-personal-access-token ID`: ends a personal session and its token
//! (the ID is the one `list-personal-access-tokens` shows).

use std::process::ExitCode;

use anyhow::Context as _;
use portcullis_services::personal_sessions;
use ulid::Ulid;

use super::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The personal session's ID.
    id: String,
}

pub async fn run(context: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let id: Ulid = args.id.trim().parse().map_err(|_| {
        anyhow::anyhow!(
            "{:?} is not a token ID: use the ID that `mas-cli manage list-personal-access-tokens` shows",
            args.id
        )
    })?;
    let mut repo = context.transaction().await?;
    let session = repo
        .personal_sessions()
        .find(id)
        .await?
        .with_context(|| format!("there is no personal access token with ID {id}"))?;
    if !session.is_active() {
        eprintln!("personal access token {id} was already revoked");
        return Ok(ExitCode::SUCCESS);
    }
    personal_sessions::revoke(&mut *repo, &session, context.now()).await?;
    repo.commit().await.context("cannot revoke the token")?;
    eprintln!(
        "revoked personal access token {id} ({})",
        session.human_name
    );
    Ok(ExitCode::SUCCESS)
}
