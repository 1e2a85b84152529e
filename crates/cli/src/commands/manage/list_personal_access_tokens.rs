//! `mas-cli manage list-personal-access-tokens [USER] [--all] [--json]`: the personal sessions
//! (of USER, as actor, when given), standing ones unless `--all`. Tokens are never shown.

use std::process::ExitCode;

use chrono::{DateTime, Utc};
use portcullis_model::{PersonalSession, PersonalSessionOwner};
use portcullis_storage::{Pagination, PersonalSessionFilter};
use serde::Serialize;

use super::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only the tokens acting as this user: a username or a full Matrix ID.
    user: Option<String>,
    /// Revoked ones too.
    #[arg(long)]
    all: bool,
    /// Print a JSON array instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct Listed {
    id: String,
    name: String,
    actor: String,
    owner: String,
    scope: String,
    created_at: DateTime<Utc>,
    last_active_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

/// How many sessions are read at once.
const PAGE: usize = 500;

pub async fn run(context: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let mut repo = context.transaction().await?;
    let actor = match &args.user {
        Some(user) => Some(context.find_user(&mut repo, user).await?),
        None => None,
    };
    let filter = PersonalSessionFilter {
        actor_user: actor.as_ref().map(|user| user.id),
        active: (!args.all).then_some(true),
        ..PersonalSessionFilter::default()
    };
    let mut sessions: Vec<PersonalSession> = Vec::new();
    let mut pagination = Pagination::first(PAGE);
    loop {
        let page = repo
            .personal_sessions()
            .list_page(&filter, pagination)
            .await?;
        let last = page.edges.last().map(|session| session.id);
        sessions.extend(page.edges);
        match (page.has_next_page, last) {
            (true, Some(last)) => pagination = Pagination::first(PAGE).after(last),
            _ => break,
        }
    }
    let mut listed = Vec::with_capacity(sessions.len());
    for session in sessions {
        let actor = match repo.users().find_by_id(session.actor_user_id).await? {
            Some(user) => context.mxid(&user.username),
            None => session.actor_user_id.to_string(),
        };
        let owner = match session.owner {
            PersonalSessionOwner::User(id) => match repo.users().find_by_id(id).await? {
                Some(user) => context.mxid(&user.username),
                None => id.to_string(),
            },
            PersonalSessionOwner::Client(id) => match repo.oauth_clients().find(id).await? {
                Some(client) => format!("client {}", client.client_id),
                None => format!("client {id}"),
            },
        };
        listed.push(Listed {
            id: session.id.to_string(),
            name: session.human_name,
            actor,
            owner,
            scope: session.scope.to_string(),
            created_at: session.created_at,
            last_active_at: session.last_active_at,
            expires_at: session.expires_at,
            revoked_at: session.revoked_at,
        });
    }
    repo.rollback().await?;

    if args.json {
        println!("{}", serde_json::to_string_pretty(&listed)?);
        return Ok(ExitCode::SUCCESS);
    }
    if listed.is_empty() {
        eprintln!("no personal access tokens");
        return Ok(ExitCode::SUCCESS);
    }
    let day = |at: Option<DateTime<Utc>>, none: &str| {
        at.map_or_else(|| none.to_owned(), |at| at.format("%Y-%m-%d").to_string())
    };
    println!(
        "{:<26}  {:<24}  {:<28}  {:<10}  {:<10}  {:<10}  SCOPE",
        "ID", "NAME", "ACTS AS", "CREATED", "LAST USED", "EXPIRES"
    );
    for token in &listed {
        let expires = if token.revoked_at.is_some() {
            "revoked".to_owned()
        } else {
            day(token.expires_at, "never")
        };
        println!(
            "{:<26}  {:<24}  {:<28}  {:<10}  {:<10}  {:<10}  {}",
            token.id,
            token.name,
            token.actor,
            day(Some(token.created_at), ""),
            day(token.last_active_at, "never"),
            expires,
            token.scope
        );
    }
    Ok(ExitCode::SUCCESS)
}
