//! `mas-cli manage remove-upstream-link ID`: unties an upstream account from its user (the
//! ID is the one `list-upstream-links` shows).

use std::process::ExitCode;

use anyhow::Context as _;
use ulid::Ulid;

use super::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The link's ID.
    id: String,
}

pub async fn run(context: &Context, args: &Args) -> anyhow::Result<ExitCode> {
    let id: Ulid = args.id.trim().parse().map_err(|_| {
        anyhow::anyhow!(
            "{:?} is not a link ID: use the ID that `mas-cli manage list-upstream-links` shows",
            args.id
        )
    })?;
    let mut repo = context.transaction().await?;
    let link = repo
        .upstream_links()
        .find(id)
        .await?
        .with_context(|| format!("there is no upstream link with ID {id}"))?;
    repo.upstream_links().remove(id).await?;
    repo.commit().await.context("cannot remove the link")?;
    eprintln!(
        "removed the link of {:?} at {}",
        link.subject, link.provider_id
    );
    Ok(ExitCode::SUCCESS)
}
