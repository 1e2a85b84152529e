//! `mas-cli manage list-upstream-links [--user USER] [--provider ID] [--json]`: the accounts at
//! upstream providers and the users they are linked to (the homelab guide's check after a
//! migration). Not a MAS command: MAS lists links through its Admin API only.

use std::process::ExitCode;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use portcullis_storage::{Pagination, UpstreamLinkFilter};
use serde::Serialize;

use super::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only the links of this user (username or Matrix ID).
    #[arg(long)]
    user: Option<String>,
    /// Only the links through this provider (its `id` in `upstream_oauth2.providers`).
    #[arg(long)]
    provider: Option<String>,
    /// Print a JSON array instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct Listed {
    id: String,
    provider: String,
    subject: String,
    /// The linked user's Matrix ID; none while the account is linked to nobody.
    user: Option<String>,
    human_account_name: Option<String>,
    created_at: DateTime<Utc>,
}

pub async fn run(context: &Context, args: &Args) -> anyhow::Result<ExitCode> {
    let mut repo = context.transaction().await?;
    let user = match &args.user {
        Some(input) => Some(context.find_user(&mut repo, input).await?),
        None => None,
    };
    if let Some(provider) = &args.provider
        && repo.upstream_providers().find(provider).await?.is_none()
    {
        anyhow::bail!(
            "there is no upstream provider {provider:?}: use an `id` of `upstream_oauth2.providers` (written to the database by `mas-cli config sync` or at server start)"
        );
    }
    let filter = UpstreamLinkFilter {
        user: user.as_ref().map(|user| user.id),
        providers: args.provider.clone().map(|provider| vec![provider]),
        ..UpstreamLinkFilter::default()
    };
    let mut links = Vec::new();
    let mut pagination = Pagination::first(1000);
    loop {
        let page = repo.upstream_links().list_page(&filter, pagination).await?;
        let last = page.edges.last().map(|link| link.id);
        let more = page.has_next_page;
        links.extend(page.edges);
        match last {
            Some(last) if more => pagination = Pagination::first(1000).after(last),
            _ => break,
        }
    }
    let mut listed = Vec::with_capacity(links.len());
    for link in links {
        let user = match link.user_id {
            Some(id) => repo
                .users()
                .find_by_id(id)
                .await?
                .map(|user| context.mxid(&user.username)),
            None => None,
        };
        listed.push(Listed {
            id: link.id.to_string(),
            provider: link.provider_id,
            subject: link.subject,
            user,
            human_account_name: link.human_account_name,
            created_at: link.created_at,
        });
    }
    repo.rollback().await.context("cannot read the links")?;

    if args.json {
        println!("{}", serde_json::to_string_pretty(&listed)?);
    } else {
        let rows: Vec<[String; 5]> = listed
            .iter()
            .map(|link| {
                [
                    link.id.clone(),
                    link.provider.clone(),
                    link.subject.clone(),
                    link.user.clone().unwrap_or_else(|| "(nobody)".to_owned()),
                    link.human_account_name.clone().unwrap_or_default(),
                ]
            })
            .collect();
        print!(
            "{}",
            super::table::render(
                ["ID", "PROVIDER", "SUBJECT", "USER", "ACCOUNT"],
                &rows,
                "(no upstream links)"
            )
        );
    }
    Ok(ExitCode::SUCCESS)
}
