//! `mas-cli manage list-users [--json]`: every user with their status, admin flag, email
//! addresses and password scheme, as a table or as JSON. Not a MAS command: MAS lists users
//! through its admin API only.

use std::process::ExitCode;

use chrono::{DateTime, Utc};
use portcullis_model::User;
use serde::Serialize;

use super::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print a JSON array instead of a table.
    #[arg(long)]
    json: bool,
}

/// One user as listed. Hashes are never printed: they can be attacked offline.
#[derive(Debug, Serialize)]
struct Listed {
    username: String,
    mxid: String,
    status: Status,
    admin: bool,
    emails: Vec<String>,
    /// The current password, if any.
    password: Option<ListedPassword>,
    created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
struct ListedPassword {
    /// Changes with every new password, so a script can tell one was set.
    id: String,
    /// The hashing scheme's version.
    version: u32,
    set_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "lowercase")]
enum Status {
    Active,
    Locked,
    Deactivated,
}

impl Status {
    fn of(user: &User) -> Self {
        // Deactivation is final and outranks a lock.
        if user.deactivated_at.is_some() {
            Self::Deactivated
        } else if user.locked_at.is_some() {
            Self::Locked
        } else {
            Self::Active
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Locked => "locked",
            Self::Deactivated => "deactivated",
        }
    }
}

pub async fn run(context: &Context, args: &Args) -> anyhow::Result<ExitCode> {
    let mut repo = context.transaction().await?;
    let users = repo.users().list(usize::MAX).await?;
    let mut listed = Vec::with_capacity(users.len());
    for user in users {
        let emails = repo.user_emails().list_for_user(&user).await?;
        let password = repo.user_passwords().active(&user).await?;
        listed.push(Listed {
            mxid: context.mxid(&user.username),
            status: Status::of(&user),
            admin: user.can_request_admin,
            emails: emails.into_iter().map(|email| email.email).collect(),
            password: password.map(|password| ListedPassword {
                id: password.id.to_string(),
                version: password.version,
                set_at: password.created_at,
            }),
            created_at: user.created_at,
            username: user.username,
        });
    }
    repo.rollback().await?;

    if args.json {
        println!("{}", serde_json::to_string_pretty(&listed)?);
    } else {
        print!("{}", table(&listed));
    }
    Ok(ExitCode::SUCCESS)
}

fn table(listed: &[Listed]) -> String {
    let rows: Vec<[String; 5]> = listed
        .iter()
        .map(|user| {
            [
                user.mxid.clone(),
                user.status.as_str().to_owned(),
                if user.admin { "yes" } else { "no" }.to_owned(),
                if user.password.is_some() { "yes" } else { "no" }.to_owned(),
                user.emails.join(", "),
            ]
        })
        .collect();
    super::table::render(
        ["USER", "STATUS", "ADMIN", "PASSWORD", "EMAILS"],
        &rows,
        "(no users)",
    )
}
