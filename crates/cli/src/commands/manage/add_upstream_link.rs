//! `mas-cli manage add-upstream-link USER PROVIDER SUBJECT [--account-name NAME]`: links the
//! account `SUBJECT` at an upstream provider to a user, who can then sign in with it.

use std::process::ExitCode;

use anyhow::Context as _;
use portcullis_services::upstream_links::{self, Linked};

use super::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The user (username or Matrix ID).
    user: String,
    /// The provider's `id` in `upstream_oauth2.providers`.
    provider: String,
    /// The account's identifier at the provider (what the subject template gives: by default
    /// the `sub` claim).
    subject: String,
    /// A name of the account people recognise (an email, a username), shown beside the link.
    #[arg(long)]
    account_name: Option<String>,
}

pub async fn run(context: &Context, args: &Args) -> anyhow::Result<ExitCode> {
    if args.subject.trim().is_empty() {
        anyhow::bail!("SUBJECT must not be empty");
    }
    let mut repo = context.transaction().await?;
    let user = context.find_user(&mut repo, &args.user).await?;
    let provider = repo
        .upstream_providers()
        .find(&args.provider)
        .await?
        .with_context(|| {
            format!(
                "there is no upstream provider {:?}: use an `id` of `upstream_oauth2.providers` (written to the database by `mas-cli config sync` or at server start)",
                args.provider
            )
        })?;
    let linked = upstream_links::link(
        &mut *repo,
        &provider,
        &args.subject,
        args.account_name.as_deref(),
        &user,
        context.now(),
    )
    .await?;
    let mxid = context.mxid(&user.username);
    match linked {
        Linked::Created(link) | Linked::Claimed(link) => {
            repo.commit().await.context("cannot store the link")?;
            eprintln!(
                "linked {:?} at {} to {mxid} (link {})",
                link.subject, link.provider_id, link.id
            );
            Ok(ExitCode::SUCCESS)
        }
        Linked::AlreadyLinked(link) => {
            let owner = match link.user_id {
                Some(id) => repo.users().find_by_id(id).await?,
                None => None,
            };
            let owner =
                owner.map_or_else(|| "another user".to_owned(), |u| context.mxid(&u.username));
            anyhow::bail!(
                "{:?} at {} is already linked to {owner} (link {}); remove that link first with `mas-cli manage remove-upstream-link {}`",
                link.subject,
                link.provider_id,
                link.id,
                link.id
            )
        }
    }
}
