//! `mas-cli manage generate-token --user USER [--admin] [--expires-in-days N] [--name NAME]`:
//! a personal access token for USER, printed alone on standard output: with `--admin`, one for
//! the Admin API (`urn:mas:admin`), which only an admin may get; otherwise one for the Matrix
//! client API.

use std::process::ExitCode;

use chrono::Duration;
use portcullis_oauth::scope::{MAS_ADMIN, MATRIX_API};

use super::{Context, issue_personal_access_token::issue};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The user the token acts as: a username or a full Matrix ID.
    #[arg(long)]
    user: String,
    /// A token for the Admin API (`urn:mas:admin`) instead of the Matrix client API.
    #[arg(long)]
    admin: bool,
    /// How many days the token lives; until revoked when absent.
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(1..=36_600))]
    expires_in_days: Option<u32>,
    /// A name to recognise the token by.
    #[arg(long, default_value = "generated with mas-cli manage generate-token")]
    name: String,
}

pub async fn run(context: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let mut repo = context.transaction().await?;
    let user = context.find_user(&mut repo, &args.user).await?;
    repo.rollback().await?;
    if args.admin
        && !portcullis_services::policy::user_may_request_admin(&*context.policy().await?, &user)
    {
        anyhow::bail!(
            "{} is not an admin, so it cannot get an Admin API token: run `mas-cli manage promote-admin {}` first (or list it in policy.data.admin_users)",
            context.mxid(&user.username),
            user.username
        );
    }
    let scope = if args.admin { MAS_ADMIN } else { MATRIX_API };
    let expires_in = args
        .expires_in_days
        .map(|days| Duration::days(i64::from(days)));
    let token = issue(context, &user, &args.name, scope, expires_in).await?;
    println!("{token}");
    Ok(ExitCode::SUCCESS)
}
